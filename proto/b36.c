/* SPDX-License-Identifier: MIT */
/*
 * b36.c — block "lower base36" as upstream MasterDnsVPN writes its query
 * names (internal/basecodec/lowerbase36.go, described in wire-protocol.md
 * 1.3). Each 7-byte block fits a uint64, so this is plain 64-bit arithmetic,
 * no big numbers. It does not validate DNS length limits; wire.c does.
 */
#include <string.h>

#include "proto/b36.h"

static const char b36_alpha[36] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* Characters for a block of r bytes, and bytes for a group of c chars. */
static const uint8_t b36_chars_by_bytes[8] = {0, 2, 4, 5, 7, 8, 10, 11};
static const int8_t b36_bytes_by_chars[12] = {
    0, -1, 1, -1, 2, 3, -1, 4, 5, -1, 6, 7};

/* Digit value of a character (either case), 0xff when not base36. */
static inline uint8_t
b36_digit(uint8_t ch)
{
	if ((uint8_t)(ch - '0') < 10)
		return (uint8_t)(ch - '0');
	ch |= 0x20;
	if ((uint8_t)(ch - 'a') < 26)
		return (uint8_t)(ch - 'a' + 10);
	return 0xff;
}

size_t
b36_encoded_len(size_t n)
{
	return n / 7 * 11 + b36_chars_by_bytes[n % 7];
}

long
b36_decoded_len(size_t nchars)
{
	int r = b36_bytes_by_chars[nchars % 11];

	if (r < 0)
		return -1;
	return (long)(nchars / 11 * 7 + (size_t)r);
}

static void
b36_put_block(char *out, uint64_t v, unsigned count)
{
	while (count-- > 0) {
		out[count] = b36_alpha[v % 36];
		v /= 36;
	}
}

size_t
b36_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	uint64_t v;
	size_t i;

	while (n >= 7) {
		v = (uint64_t)in[0] << 48 | (uint64_t)in[1] << 40 |
		    (uint64_t)in[2] << 32 | (uint64_t)in[3] << 24 |
		    (uint64_t)in[4] << 16 | (uint64_t)in[5] << 8 | in[6];
		b36_put_block(out + o, v, 11);
		o += 11;
		in += 7;
		n -= 7;
	}
	if (n > 0) {
		v = 0;
		for (i = 0; i < n; i++)
			v = v << 8 | in[i];
		b36_put_block(out + o, v, b36_chars_by_bytes[n]);
		o += b36_chars_by_bytes[n];
	}
	return o;
}

long
b36_decode(const char *in, size_t nchars, uint8_t *out, size_t cap)
{
	long total = b36_decoded_len(nchars);
	size_t o = 0, take, bytes, i;
	uint64_t v;
	uint8_t d;

	if (total < 0 || (size_t)total > cap)
		return -1;
	while (nchars > 0) {
		take = nchars >= 11 ? 11 : nchars;
		bytes = (size_t)b36_bytes_by_chars[take];
		v = 0;
		for (i = 0; i < take; i++) {
			d = b36_digit((uint8_t)in[i]);
			if (d == 0xff)
				return -1;
			/* 36^11 < 2^64: no wrap; bits above the block drop. */
			v = v * 36 + d;
		}
		for (i = bytes; i-- > 0;) {
			out[o + i] = (uint8_t)v;
			v >>= 8;
		}
		o += bytes;
		in += take;
		nchars -= take;
	}
	return (long)o;
}

size_t
b36_qname_len(size_t n, size_t domain_len)
{
	size_t e = b36_encoded_len(n);

	if (e == 0)
		return domain_len;
	return e + (e - 1) / 63 + 1 + domain_len;
}

long
b36_write_qname(
    const uint8_t *in, size_t n, const char *domain, char *out, size_t cap)
{
	size_t dlen = strlen(domain);
	size_t e = b36_encoded_len(n);
	size_t total = b36_qname_len(n, dlen);
	size_t labels, src, dst, chunk;

	if (total + 1 > cap)
		return -1;
	if (e == 0) {
		memcpy(out, domain, dlen + 1);
		return (long)dlen;
	}
	/*
	 * Encode at the tail of the final label area, then move the labels
	 * into place front to back; the base36 text never overlaps a label
	 * it has not yet been copied from because each move goes left.
	 */
	labels = (e - 1) / 63 + 1;
	src = labels - 1;
	b36_encode(in, n, out + src);
	dst = 0;
	while (e > 0) {
		chunk = e > 63 ? 63 : e;
		memmove(out + dst, out + src, chunk);
		dst += chunk;
		src += chunk;
		e -= chunk;
		out[dst++] = '.';
	}
	memcpy(out + dst, domain, dlen + 1);
	return (long)(dst + dlen);
}
