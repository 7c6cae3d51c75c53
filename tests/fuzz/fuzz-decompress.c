/* SPDX-License-Identifier: MIT */
/*
 * fuzz-decompress.c — each decompressor (first byte mod 4 picks the type)
 * on hostile payloads: it must never write past the caller's buffer nor
 * exceed it, with a small and a large buffer; and compressing the input
 * must round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t small[512], *large, comp[70000], back[65536];
	struct err e;
	size_t clen;
	int t, used;
	long n;

	if (size < 1 || size > 65536)
		return 0;
	if (large == NULL)
		large = malloc(WIRE_DECOMP_MAX + 4096);
	t = data[0] & 3;
	n = wire_decompress(t, data + 1, size - 1, small, sizeof small, &e);
	if (n > (long)sizeof small)
		abort();
	n = wire_decompress(
	    t, data + 1, size - 1, large, WIRE_DECOMP_MAX + 4096, &e);
	if (n > WIRE_DECOMP_MAX)
		abort();
	used = wire_compress_payload(
	    t, 0, data + 1, size - 1, comp, sizeof comp, &clen);
	if (used != 0) {
		if (clen >= size - 1)
			abort();
		n = wire_decompress(used, comp, clen, back, sizeof back, &e);
		if (n != (long)(size - 1) || memcmp(back, data + 1, size - 1))
			abort();
	}
	return 0;
}
