/* SPDX-License-Identifier: MIT */
/*
 * fuzz-b64.c — unpadded base64 on arbitrary text, differentially: the
 * one-shot decoder (b64_decode) and the streaming TXT decoder
 * (txt_rdata_decode over the same text split into character-strings)
 * must agree on every input, accepted or not, and what decodes must
 * encode back to text that decodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/b64.h"
#include "proto/txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t a[2048], b[2048], rd[4096];
	static char t[4096];
	size_t off = 0, i, k, split;
	long n, m;

	if (size < 1 || size > 1500)
		return 0;
	/* First byte: the string length used to cut the text (1..255). */
	split = data[0] ? data[0] : 255;
	data++;
	size--;
	n = b64_decode((const char *)data, size, a, sizeof a);
	for (i = 0; i < size; i += k) {
		k = size - i < split ? size - i : split;
		rd[off++] = (uint8_t)k;
		memcpy(rd + off, data + i, k);
		off += k;
	}
	m = txt_rdata_decode(rd, off, 1, 0, b, sizeof b);
	if ((n < 0) != (m < 0))
		abort();
	if (n < 0)
		return 0;
	if (n != m || memcmp(a, b, (size_t)n) != 0)
		abort();
	if ((size_t)n != b64_decoded_len(size))
		abort();
	k = b64_encode(a, (size_t)n, t);
	if (k != size || b64_decode(t, k, b, sizeof b) != n ||
	    memcmp(a, b, (size_t)n) != 0)
		abort();
	return 0;
}
