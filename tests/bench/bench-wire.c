/* SPDX-License-Identifier: MIT */
/*
 * bench-wire.c — frames per second through the query-name pipeline:
 * build (frame -> encrypt -> base36 -> labels) and parse (domain match ->
 * base36 -> decrypt -> header) of full-size STREAM_DATA frames, at the
 * upload MTU of "t.example": 141 bytes with XOR and 113 with AES-256-GCM.
 * Prints the median of 5 runs of each. Not part of the test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/wire.h"

#define RUNS 5

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof v[0], cmp_dbl);
	return v[RUNS / 2];
}

static int
bench(int method, const char *key)
{
	static const char *const doms[] = {"t.example"};
	uint8_t payload[512], buf[4096];
	char q[WIRE_QNAME_BUF];
	double enc[RUNS], dec[RUNS];
	struct wire_cipher *c;
	struct wire_frame f, g;
	struct err e;
	size_t mtu = wire_max_upload_payload(9, method), i;
	long iters = method == WIRE_METHOD_XOR ? 400000 : 200000, k, n = 0;
	uint64_t t0;
	int r;

	if ((c = wire_cipher_new(method, key, strlen(key), &e)) == NULL) {
		fprintf(stderr, "bench-wire: %s\n", e.msg);
		return -1;
	}
	for (i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 37);
	memset(&f, 0, sizeof f);
	f.session_id = 1;
	f.type = WIRE_STREAM_DATA;
	f.stream_id = 1;
	f.cookie = 0x42;
	f.payload = payload;
	f.payload_len = mtu;
	for (r = 0; r < RUNS; r++) {
		t0 = now_mono_us();
		for (k = 0; k < iters; k++) {
			f.seq = (uint16_t)k;
			n = wire_encode_query_name(
			    &f, c, NULL, "t.example", q, sizeof q);
		}
		enc[r] = (double)iters * 1e6 / (double)(now_mono_us() - t0);
		t0 = now_mono_us();
		for (k = 0; k < iters; k++)
			if (wire_decode_query_name(q, (size_t)n, doms, 1, c,
				buf, sizeof buf, &g, NULL) != WIRE_OK) {
				fprintf(stderr, "bench-wire: decode failed\n");
				return -1;
			}
		dec[r] = (double)iters * 1e6 / (double)(now_mono_us() - t0);
	}
	printf("wire %-12s mtu %3zu qname %3ld: build %9.0f frames/s, "
	       "parse %9.0f frames/s (median of %d)\n",
	    wire_method_name(method), mtu, n, median(enc), median(dec), RUNS);
	wire_cipher_free(c);
	return 0;
}

int
main(void)
{
	if (bench(WIRE_METHOD_XOR, "5f3c8e1a9b2d47e6c0f18a3b5d7e9c21") < 0 ||
	    bench(WIRE_METHOD_AES256GCM, "e2b4d6f8091a3c5e7f90b1d3f5a7c9eb") <
		0)
		return 1;
	return 0;
}
