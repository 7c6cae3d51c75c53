/* SPDX-License-Identifier: MIT */
/*
 * b36.h — MasterDnsVPN "lower base36" block encoding of upstream frames.
 *
 * This is not a big-number base conversion: input is cut into 7-byte blocks,
 * each read as a big-endian integer and written as exactly 11 digits of
 * "0-9a-z" (most significant first, left-padded with '0'). A final partial
 * block of r = 1..6 bytes becomes 2, 4, 5, 7, 8 or 10 digits. Decoding is
 * case-insensitive; trailing groups of 1, 3, 6 or 9 characters are invalid;
 * a group whose value exceeds its byte width is not rejected (the low bytes
 * are kept), exactly like upstream.
 *
 * Every function works on caller buffers and never allocates.
 */
#ifndef MDNS_B36_H
#define MDNS_B36_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes. */
size_t b36_encoded_len(size_t n);

/*
 * Bytes that nchars characters decode to, or -1 when nchars ends in an
 * invalid trailing group (1, 3, 6 or 9 characters modulo 11).
 */
long b36_decoded_len(size_t nchars);

/*
 * Encode n bytes into out, which must hold b36_encoded_len(n) characters.
 * No NUL terminator is written. Returns the number of characters written.
 */
size_t b36_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decode nchars characters (upper or lower case) into out of capacity cap.
 * Returns the number of bytes written, or -1 on an invalid character, an
 * invalid length or when out is too small.
 */
long b36_decode(const char *in, size_t nchars, uint8_t *out, size_t cap);

/*
 * Length of the QNAME text b36_write_qname() produces for n bytes of data
 * and a domain of domain_len characters (no trailing dot, no NUL).
 */
size_t b36_qname_len(size_t n, size_t domain_len);

/*
 * Write the upstream QNAME for n bytes of (already encrypted) frame data:
 * the base36 text split into 63-character labels joined with '.', then
 * "." and the domain. out gets a NUL-terminated string; cap counts the NUL.
 * Returns the text length (without NUL), or -1 when cap is too small. The
 * 253-character DNS limit is not checked here (see wire_max_upload_payload).
 */
long b36_write_qname(
    const uint8_t *in, size_t n, const char *domain, char *out, size_t cap);

#endif
