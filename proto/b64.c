/* SPDX-License-Identifier: MIT */
/*
 * b64.c — unpadded standard base64, table driven, no allocation.
 *
 * Only what the tunnel needs: the RFC 4648 alphabet without padding. It does
 * not skip white space or accept the URL-safe alphabet; a TXT string that
 * carries either is not a MasterDnsVPN answer.
 */
#include "proto/b64.h"

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet characters, 0xff for everything else. */
const uint8_t b64_rev[256] = {
#define X 0xff
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    62,
    X,
    X,
    X,
    63,
    52,
    53,
    54,
    55,
    56,
    57,
    58,
    59,
    60,
    61,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
    25,
    X,
    X,
    X,
    X,
    X,
    X,
    26,
    27,
    28,
    29,
    30,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    38,
    39,
    40,
    41,
    42,
    43,
    44,
    45,
    46,
    47,
    48,
    49,
    50,
    51,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
    X,
#undef X
};

size_t
b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) |
		    in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	switch (n - i) {
	case 1:
		v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		break;
	case 2:
		v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		break;
	}
	return o;
}

long
b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t need, i, o = 0;
	uint32_t v;
	uint8_t a, b, c, d;

	need = b64_decoded_len(n);
	if (need == (size_t)-1 || need > cap)
		return -1;
	for (i = 0; i + 4 <= n; i += 4) {
		a = b64_rev[s[i]];
		b = b64_rev[s[i + 1]];
		c = b64_rev[s[i + 2]];
		d = b64_rev[s[i + 3]];
		if ((a | b | c | d) & 0xc0)
			return -1;
		v = ((uint32_t)a << 18) | ((uint32_t)b << 12) |
		    ((uint32_t)c << 6) | d;
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	switch (n - i) {
	case 2:
		a = b64_rev[s[i]];
		b = b64_rev[s[i + 1]];
		if ((a | b) & 0xc0)
			return -1;
		out[o++] = (uint8_t)((a << 2) | (b >> 4));
		break;
	case 3:
		a = b64_rev[s[i]];
		b = b64_rev[s[i + 1]];
		c = b64_rev[s[i + 2]];
		if ((a | b | c) & 0xc0)
			return -1;
		v = ((uint32_t)a << 18) | ((uint32_t)b << 12) |
		    ((uint32_t)c << 6);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		break;
	}
	return (long)o;
}
