/* SPDX-License-Identifier: MIT */
/*
 * b64.h — standard-alphabet base64 without padding (RFC 4648 section 4
 * alphabet "A-Za-z0-9+/", no '=' ever; what Go calls RawStdEncoding).
 *
 * MasterDnsVPN servers in response mode 1 put each TXT chunk through this
 * encoding (wire-protocol.md 1.3). Both directions work on caller buffers
 * and never allocate, so they can sit on the engine's hot path.
 */
#ifndef MDNS_B64_H
#define MDNS_B64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the unpadded encoding of n bytes: ceil(8n / 6). */
static inline size_t
b64_encoded_len(size_t n)
{
	return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/*
 * Bytes that text of n characters decodes to, or (size_t)-1 when no
 * unpadded encoding has that length (n % 4 == 1).
 */
static inline size_t
b64_decoded_len(size_t n)
{
	if (n % 4 == 1)
		return (size_t)-1;
	return (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0);
}

/* Decoding table: 0..63 for alphabet characters, 0xff for other bytes. */
extern const uint8_t b64_rev[256];

/* Value of one base64 character, or 0xff when it is not in the alphabet. */
static inline uint8_t
b64_value(uint8_t c)
{
	return b64_rev[c];
}

/*
 * Encode n bytes from in into out, which must hold b64_encoded_len(n)
 * characters. No NUL is written. Returns the number of characters written.
 */
size_t b64_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decode n characters of unpadded base64 into out of capacity cap.
 * Rejects '=' (padding is not part of this encoding), white space, any
 * other character outside the alphabet, and impossible lengths
 * (n % 4 == 1). Unused low bits of the last character need not be zero,
 * as with Go's non-strict decoder. Returns the number of bytes written,
 * or -1 on bad input or when cap is too small (nothing meaningful is left
 * in out then).
 */
long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
