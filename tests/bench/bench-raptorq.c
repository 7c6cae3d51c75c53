/* SPDX-License-Identifier: MIT */
/*
 * bench-raptorq.c — RaptorQ encoder and decoder speed in MB/s of source
 * data, for the group sizes of the fork's FEC levels (K = 8 conservative
 * 15 %, 12 balanced 25 %, 16 aggressive 40 %) and its largest group (64,
 * 40 %), at T = 200 and 1000 bytes. Encode: a new encoder over the block
 * plus its ceil(K x overhead) repair symbols. Decode: a new decoder fed the
 * block with 2 source symbols lost and replaced by 2 repair symbols, then
 * the decode; and the worst case, all K sources lost and K repair symbols.
 * Also the one-off cost per K of the coefficient table that encoders and
 * decoders share (the full RFC 6330 solve). Each figure is the median of 5
 * runs of at least 100 ms. Not part of the test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/raptorq-int.h"
#include "proto/raptorq.h"

#define RUNS   5
#define RUN_US 100000

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
encode_once(
    const uint8_t *src, uint32_t k, uint32_t t, uint32_t nrep, uint8_t *out)
{
	struct rq_enc *enc;
	struct err e;
	uint32_t i;

	if ((enc = rq_enc_new(src, k, t, &e)) == NULL) {
		fprintf(stderr, "bench-raptorq: %s\n", e.msg);
		return -1;
	}
	for (i = 0; i < nrep; i++)
		rq_enc_symbol(enc, k + i, out + (size_t)i * t, NULL);
	rq_enc_free(enc);
	return 0;
}

/*
 * Decode with sources 0 and K/2 lost and the first two repair symbols in
 * their place, or (all) with every source lost and the first K repair
 * symbols (those ids decode every K used here).
 */
static int
decode_once(
    const uint8_t *src, const uint8_t *rep, uint32_t k, uint32_t t, int all)
{
	struct rq_dec *dec = rq_dec_new(k, t, NULL);
	uint32_t i, nrep = all ? k : 2;
	int ok;

	for (i = 0; i < k && !all; i++)
		if (i != 0 && i != k / 2)
			rq_dec_add(dec, i, src + (size_t)i * t, t, NULL);
	for (i = 0; i < nrep; i++)
		rq_dec_add(dec, k + i, rep + (size_t)i * t, t, NULL);
	ok = rq_dec_decode(dec) == 1 &&
	    memcmp(rq_dec_source(dec, 0), src, t) == 0 &&
	    memcmp(rq_dec_source(dec, k / 2), src + (size_t)(k / 2) * t, t) ==
		0;
	rq_dec_free(dec);
	return ok ? 0 : -1;
}

/* Microseconds of one full solve for K: the shared coefficient table. */
static double
table_us(uint32_t k)
{
	uint32_t isi[RQ_MAX_L], i;
	int32_t data[RQ_MAX_L];
	double us[RUNS];
	struct rq_params p;
	uint64_t t0, dt;
	uint8_t *co;
	size_t mem;
	long n;
	int r;

	rq_params_init(&p, k);
	for (i = 0; i < p.kp; i++) {
		isi[i] = i;
		data[i] = i < k ? (int32_t)i : -1;
	}
	co = xmalloc((size_t)p.l * k);
	for (r = 0; r < RUNS; r++) {
		t0 = now_mono_us();
		n = 0;
		do {
			rq_solve(&p, isi, data, p.kp, k, co, &mem);
			n++;
		} while ((dt = now_mono_us() - t0) < RUN_US);
		us[r] = (double)dt / (double)n;
	}
	free(co);
	return median(us);
}

/* MB/s of source data for one way of coding the block (mode: -1 encode,
 * 0 decode with 2 lost, 1 decode with all lost); 0 on failure. */
static double
rate(const uint8_t *src, uint8_t *rep, uint32_t k, uint32_t t, uint32_t nrep,
    int mode)
{
	double v[RUNS], mb = (double)k * t / 1e6;
	uint64_t t0, dt;
	long n;
	int r, rc;

	for (r = 0; r < RUNS; r++) {
		t0 = now_mono_us();
		n = 0;
		do {
			rc = mode < 0 ? encode_once(src, k, t, nrep, rep) :
					decode_once(src, rep, k, t, mode);
			if (rc < 0)
				return 0;
			n++;
		} while ((dt = now_mono_us() - t0) < RUN_US);
		v[r] = mb * (double)n * 1e6 / (double)dt;
	}
	return median(v);
}

static int
bench(uint32_t k, uint32_t t, unsigned overhead_pct)
{
	uint32_t nrep = (k * overhead_pct + 99) / 100, i;
	double enc, dec, all, mb = (double)k * t / 1e6;
	uint8_t *src, *rep;

	if (nrep < 2)
		nrep = 2;
	src = xmalloc((size_t)k * t);
	rep = xmalloc((size_t)(nrep > k ? nrep : k) * t);
	for (i = 0; i < k * t; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 8));
	enc = rate(src, rep, k, t, nrep, -1);
	dec = enc > 0 ? rate(src, rep, k, t, nrep, 0) : 0;
	all = dec > 0 && encode_once(src, k, t, k, rep) == 0 ?
	    rate(src, rep, k, t, k, 1) :
	    0;
	free(src);
	free(rep);
	if (all == 0) {
		fprintf(stderr, "bench-raptorq: K %u T %u failed\n", k, t);
		return -1;
	}
	printf("raptorq K %2u T %4u: encode %7.1f MB/s (%2u repair, "
	       "%5.1f us/block), decode %7.1f MB/s (2 lost, %5.1f us/block), "
	       "%7.1f MB/s (all lost, %6.1f us/block)\n",
	    k, t, enc, nrep, mb / enc * 1e6, dec, mb / dec * 1e6, all,
	    mb / all * 1e6);
	return 0;
}

int
main(void)
{
	static const struct {
		uint32_t k;
		unsigned overhead_pct;
	} groups[] = {{8, 15}, {12, 25}, {16, 40}, {64, 40}};
	static const uint32_t sizes[] = {200, 1000};
	size_t g, s;

	printf("raptorq: medians of %d runs of >= %d ms each\n", RUNS,
	    RUN_US / 1000);
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		printf("raptorq K %2u: coefficient table (once per K per "
		       "process) %7.1f us\n",
		    groups[g].k, table_us(groups[g].k));
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
			if (bench(groups[g].k, sizes[s],
				groups[g].overhead_pct) < 0)
				return 1;
	return 0;
}
