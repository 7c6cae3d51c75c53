/*
 * bench-raptorq.c — RaptorQ encoder and decoder speed in MB/s of source
 * data, for the group sizes of the fork's FEC levels (K = 8 conservative
 * 15 %, 12 balanced 25 %, 16 aggressive 40 %) and its largest group (64,
 * 40 %), at T = 200 and 1000 bytes. Encode: a new encoder over the block
 * plus its ceil(K x overhead) repair symbols. Decode: a new decoder fed the
 * block with 2 source symbols lost and replaced by 2 repair symbols, then
 * the decode. Each figure is the median of 5 runs of at least 100 ms. Not
 * part of the test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
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

/* Sources 0 and K/2 are lost (only source 0 when K = 1); the first
 * repair symbols stand in for them. */
static int
decode_once(const uint8_t *src, const uint8_t *rep, uint32_t k, uint32_t t)
{
	struct rq_dec *dec = rq_dec_new(k, t, NULL);
	uint32_t i, lost = k > 1 ? 2 : 1;
	int ok;

	for (i = 0; i < k; i++)
		if (i != 0 && i != k / 2)
			rq_dec_add(dec, i, src + (size_t)i * t, t, NULL);
	for (i = 0; i < lost; i++)
		rq_dec_add(dec, k + i, rep + (size_t)i * t, t, NULL);
	ok = rq_dec_decode(dec) == 1 &&
	    memcmp(rq_dec_source(dec, 0), src, t) == 0 &&
	    memcmp(rq_dec_source(dec, k / 2), src + (size_t)(k / 2) * t, t) ==
		0;
	rq_dec_free(dec);
	return ok ? 0 : -1;
}

static int
bench(uint32_t k, uint32_t t, unsigned overhead_pct)
{
	uint32_t nrep = (k * overhead_pct + 99) / 100, i;
	double enc[RUNS], dec[RUNS], mb = (double)k * t / 1e6;
	uint8_t *src, *rep;
	uint64_t t0, dt;
	long n;
	int r;

	if (nrep < 2)
		nrep = 2;
	src = xmalloc((size_t)k * t);
	rep = xmalloc((size_t)nrep * t);
	for (i = 0; i < k * t; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 8));
	for (r = 0; r < RUNS; r++) {
		t0 = now_mono_us();
		n = 0;
		do {
			if (encode_once(src, k, t, nrep, rep) < 0)
				goto fail;
			n++;
		} while ((dt = now_mono_us() - t0) < RUN_US);
		enc[r] = mb * (double)n * 1e6 / (double)dt;
		t0 = now_mono_us();
		n = 0;
		do {
			if (decode_once(src, rep, k, t) < 0) {
				fprintf(
				    stderr, "bench-raptorq: decode wrong\n");
				goto fail;
			}
			n++;
		} while ((dt = now_mono_us() - t0) < RUN_US);
		dec[r] = mb * (double)n * 1e6 / (double)dt;
	}
	printf("raptorq K %2u T %4u: encode %7.1f MB/s (%2u repair, "
	       "%6.1f us/block), decode %7.1f MB/s (2 lost, %6.1f us/block) "
	       "(median of %d)\n",
	    k, t, median(enc), nrep, mb / median(enc) * 1e6, median(dec),
	    mb / median(dec) * 1e6, RUNS);
	free(src);
	free(rep);
	return 0;
fail:
	free(src);
	free(rep);
	return -1;
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

	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
			if (bench(groups[g].k, sizes[s],
				groups[g].overhead_pct) < 0)
				return 1;
	return 0;
}
