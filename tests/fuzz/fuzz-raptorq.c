/* SPDX-License-Identifier: MIT */
/*
 * fuzz-raptorq.c — the RaptorQ decoder fed arbitrary symbol sets.
 *
 * The input picks K (1..64), T (1..1024) and a seed for the source block,
 * which is encoded first; the rest is a list of operations: add the
 * encoder's symbol for an id (small ids mostly, any 32-bit id sometimes),
 * add garbage bytes under an id, add a symbol of a wrong length, or try to
 * decode. Checks: no crash or out-of-bounds access (ASan), bad ids and
 * lengths refused without effect, the symbol count and memory within the
 * stated bounds, a failed decode hands out no missing symbol, and a decode
 * that says it succeeded holds exactly the encoded source — unless garbage
 * went in, when only the absence of crashes is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/raptorq.h"

#define MAX_T 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t n;
};

static uint32_t
take(struct in *in, unsigned bytes)
{
	uint32_t v = 0;

	while (bytes-- > 0) {
		v = v << 8 | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

static void
check_decoded(const struct rq_dec *dec, const uint8_t *src, uint32_t k,
    uint32_t t, int tainted)
{
	uint32_t i;

	for (i = 0; i < k; i++) {
		if (rq_dec_source(dec, i) == NULL)
			abort();
		if (!tainted &&
		    memcmp(rq_dec_source(dec, i), src + (size_t)i * t, t) != 0)
			abort();
	}
}

static void
check_failed(const struct rq_dec *dec, uint32_t k)
{
	uint32_t i;

	if (rq_dec_done(dec))
		abort();
	for (i = 0; i < k; i++)
		if (rq_dec_source(dec, i) != NULL && !rq_dec_received(dec, i))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t src[RQ_MAX_K * MAX_T], sym[MAX_T + 1];
	struct in in = {data, size};
	struct rq_enc *enc;
	struct rq_dec *dec;
	uint32_t k, t, seed, id, i, before;
	size_t len;
	int tainted = 0, rc;
	uint8_t op;

	if (size < 5 || size > 8192)
		return 0;
	k = 1 + take(&in, 1) % RQ_MAX_K;
	t = 1 + take(&in, 2) % MAX_T;
	seed = take(&in, 2);
	for (i = 0; i < k * t; i++) {
		seed = seed * 1103515245u + 12345u;
		src[i] = (uint8_t)(seed >> 16);
	}
	if ((enc = rq_enc_new(src, k, t, NULL)) == NULL)
		abort();
	if ((dec = rq_dec_new(k, t, NULL)) == NULL)
		abort();
	while (in.n > 0) {
		op = (uint8_t)take(&in, 1);
		switch (op & 3) {
		case 0: /* the encoder's symbol */
		case 1: /* garbage under some id */
			id =
			    op & 4 ? take(&in, 4) : take(&in, 1) % (2 * k + 16);
			if ((op & 3) == 0) {
				if (rq_enc_symbol(enc, id, sym, NULL) < 0) {
					if (id <= RQ_MAX_ESI)
						abort();
					memset(sym, 0, t);
				}
			} else {
				for (i = 0; i < t; i++)
					sym[i] = (uint8_t)take(&in, 1);
			}
			before = rq_dec_count(dec);
			rc = rq_dec_add(dec, id, sym, t, NULL);
			if (rc < 0 && id <= RQ_MAX_ESI)
				abort();
			if (rc < 0 && rq_dec_count(dec) != before)
				abort();
			if (rc == 1 && (op & 3) == 1)
				tainted = 1;
			if (rc == 1 && id < k && !rq_dec_received(dec, id))
				abort();
			break;
		case 2: /* a wrong length */
			len = take(&in, 2) % (MAX_T + 2);
			if (len == t)
				len = t + 1;
			before = rq_dec_count(dec);
			if (rq_dec_add(dec, take(&in, 1), sym, len, NULL) >=
				0 ||
			    rq_dec_count(dec) != before)
				abort();
			break;
		default:
			if (rq_dec_decode(dec) == 1)
				check_decoded(dec, src, k, t, tainted);
			else
				check_failed(dec, k);
			break;
		}
		if (rq_dec_count(dec) > 2 * k + RQ_REPAIR_SLACK ||
		    rq_dec_mem_peak(dec) > rq_dec_mem_bound(k, t))
			abort();
	}
	if (rq_dec_decode(dec) == 1)
		check_decoded(dec, src, k, t, tainted);
	else
		check_failed(dec, k);
	rq_dec_free(dec);
	rq_enc_free(enc);
	return 0;
}
