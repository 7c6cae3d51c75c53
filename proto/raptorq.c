/* SPDX-License-Identifier: MIT */
/*
 * raptorq.c — the encoder and decoder objects of raptorq.h on top of the
 * solver in raptorq-solve.c: the shared per-K coefficient table, input
 * checks, symbol storage within the bounds the header states, the
 * decoder's small system over the missing source symbols, and the final
 * pass that turns coefficients into symbol bytes. It does not frame, group
 * or negotiate anything; the engine's FEC layer does that.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/raptorq-int.h"

#define RQ_REPAIR_MAX (RQ_MAX_K + RQ_REPAIR_SLACK)

struct rq_enc {
	struct rq_params p;
	uint32_t t;
	uint8_t *src;	   /* K * T */
	const uint8_t *co; /* L x K, shared: see rq_enc_coeffs() */
};

/*
 * The encoder's coefficient tables, one per K, computed on first use and
 * kept for the life of the process: they depend on K alone (the padding
 * symbols are zero, the sources are the unknowns' right-hand side), so an
 * encoder costs only its repair symbols' multiply-adds. At most RQ_MAX_K
 * tables of L x K bytes (136 KiB together). Lock-free: two threads
 * that race both solve, one table wins and the other is freed.
 */
static uint8_t *rq_enc_co[RQ_MAX_K + 1];

/* Per source symbol of a decoder. */
enum { RQ_SRC_NONE, RQ_SRC_RECEIVED, RQ_SRC_RECOVERED };

struct rq_dec {
	struct rq_params p;
	uint32_t t;
	uint8_t *src; /* K * T */
	uint8_t state[RQ_MAX_K];
	uint32_t nsrc;
	uint32_t rep_id[RQ_REPAIR_MAX];
	uint8_t *rep[RQ_REPAIR_MAX];
	uint32_t nrep, nrep_max;
	bool done;
	size_t mem, peak;
};

/* Check K and T and fill the code parameters, before any allocation. */
static int
rq_setup(struct rq_params *p, uint32_t k, uint32_t t, struct err *e)
{
	if (k == 0 || k > RQ_MAX_K)
		return err_set(
		    e, "raptorq: %u source symbols (1..%u)", k, RQ_MAX_K);
	if (t == 0 || t > RQ_MAX_T)
		return err_set(
		    e, "raptorq: symbol size %u (1..%u)", t, RQ_MAX_T);
	if (rq_params_init(p, k) < 0)
		return err_set(e, "raptorq: no parameters for K=%u", k);
	return 0;
}

static const uint8_t *
rq_enc_coeffs(const struct rq_params *p)
{
	uint8_t *co, *prev = NULL;
	uint32_t isi[RQ_MAX_L], i;
	int32_t data[RQ_MAX_L];
	size_t mem;

	co = __atomic_load_n(&rq_enc_co[p->k], __ATOMIC_ACQUIRE);
	if (co != NULL)
		return co;
	/* The K' source symbols: K given, K' - K zero padding. */
	for (i = 0; i < p->kp; i++) {
		isi[i] = i;
		data[i] = i < p->k ? (int32_t)i : -1;
	}
	co = xmalloc((size_t)p->l * p->k);
	if (rq_solve(p, isi, data, p->kp, p->k, co, &mem) < 0) {
		free(co);
		return NULL;
	}
	if (!__atomic_compare_exchange_n(&rq_enc_co[p->k], &prev, co, false,
		__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(co);
		co = prev;
	}
	return co;
}

struct rq_enc *
rq_enc_new(const uint8_t *src, uint32_t k, uint32_t t, struct err *e)
{
	struct rq_params p;
	struct rq_enc *enc;

	if (rq_setup(&p, k, t, e) < 0)
		return NULL;
	enc = xcalloc(1, sizeof *enc);
	enc->p = p;
	enc->t = t;
	enc->src = xmalloc((size_t)k * t);
	memcpy(enc->src, src, (size_t)k * t);
	if ((enc->co = rq_enc_coeffs(&enc->p)) == NULL) {
		/* Table 2's J(K') guarantees a regular matrix; if this ever
		 * fires the tables are wrong, not the input. */
		rq_enc_free(enc);
		err_set(
		    e, "raptorq: constraint matrix for K=%u is singular", k);
		return NULL;
	}
	return enc;
}

void
rq_enc_free(struct rq_enc *enc)
{
	if (enc == NULL)
		return;
	free(enc->src);
	free(enc);
}

uint32_t
rq_enc_k(const struct rq_enc *enc)
{
	return enc->p.k;
}

uint32_t
rq_enc_t(const struct rq_enc *enc)
{
	return enc->t;
}

int
rq_enc_symbol(
    const struct rq_enc *enc, uint32_t esi, uint8_t *out, struct err *e)
{
	const uint8_t *sym[RQ_MAX_K];
	uint8_t w[RQ_MAX_K];
	uint32_t j, k = enc->p.k;

	if (esi > RQ_MAX_ESI)
		return err_set(
		    e, "raptorq: symbol id %u over %u", esi, RQ_MAX_ESI);
	if (esi < k) {
		memcpy(out, enc->src + (size_t)esi * enc->t, enc->t);
		return 0;
	}
	rq_isi_coeffs(&enc->p, enc->co, k, esi + enc->p.kp - k, w);
	for (j = 0; j < k; j++)
		sym[j] = enc->src + (size_t)j * enc->t;
	rq_gf_combine(out, w, sym, k, enc->t);
	return 0;
}

static void
rq_dec_account(struct rq_dec *dec, size_t add)
{
	dec->mem += add;
	if (dec->mem > dec->peak)
		dec->peak = dec->mem;
}

struct rq_dec *
rq_dec_new(uint32_t k, uint32_t t, struct err *e)
{
	struct rq_params p;
	struct rq_dec *dec;

	if (rq_setup(&p, k, t, e) < 0)
		return NULL;
	dec = xcalloc(1, sizeof *dec);
	dec->p = p;
	dec->t = t;
	dec->nrep_max = k + RQ_REPAIR_SLACK;
	dec->src = xcalloc(k, t);
	rq_dec_account(dec, sizeof *dec + (size_t)k * t);
	return dec;
}

void
rq_dec_free(struct rq_dec *dec)
{
	uint32_t i;

	if (dec == NULL)
		return;
	for (i = 0; i < dec->nrep; i++)
		free(dec->rep[i]);
	free(dec->src);
	free(dec);
}

int
rq_dec_add(struct rq_dec *dec, uint32_t esi, const uint8_t *sym, size_t len,
    struct err *e)
{
	uint32_t i;

	if (len != dec->t)
		return err_set(e, "raptorq: symbol %u has %zu bytes, not %u",
		    esi, len, dec->t);
	if (esi > RQ_MAX_ESI)
		return err_set(
		    e, "raptorq: symbol id %u over %u", esi, RQ_MAX_ESI);
	if (dec->done)
		return 0;
	if (esi < dec->p.k) {
		if (dec->state[esi] != RQ_SRC_NONE)
			return 0;
		memcpy(dec->src + (size_t)esi * dec->t, sym, len);
		dec->state[esi] = RQ_SRC_RECEIVED;
		dec->nsrc++;
		return 1;
	}
	for (i = 0; i < dec->nrep; i++)
		if (dec->rep_id[i] == esi)
			return 0;
	if (dec->nrep == dec->nrep_max)
		return 0;
	dec->rep[dec->nrep] = xmalloc(len);
	memcpy(dec->rep[dec->nrep], sym, len);
	dec->rep_id[dec->nrep++] = esi;
	rq_dec_account(dec, len);
	return 1;
}

uint32_t
rq_dec_count(const struct rq_dec *dec)
{
	return dec->nsrc + dec->nrep;
}

bool
rq_dec_ready(const struct rq_dec *dec)
{
	return dec->done || dec->nsrc + dec->nrep >= dec->p.k;
}

bool
rq_dec_done(const struct rq_dec *dec)
{
	return dec->done;
}

/*
 * Workspace of a decode with m missing source symbols and nr repair
 * symbols: each repair symbol's coefficients over the K sources, and the
 * nr x (m + nr) system over the missing ones with its row-operation record,
 * rows padded to 32 bytes so that row operations never have a ragged tail.
 */
static size_t
rq_dec_row_bytes(uint32_t m, uint32_t nr)
{
	return ((size_t)m + nr + 31) / 32 * 32;
}

static size_t
rq_dec_ws_bytes(uint32_t k, uint32_t m, uint32_t nr)
{
	return (size_t)nr * k + (size_t)nr * rq_dec_row_bytes(m, nr);
}

/*
 * With the encoder's table for K (intermediate symbols as combinations of
 * the K sources; padding is zero), every repair symbol is a known
 * combination w_r of the sources. Received sources are constants, so the
 * repair symbols give nr equations in the m missing sources:
 *   sum over missing i of w_r[i] x_i = rep_r + sum over received j of
 *   w_r[j] src_j.
 * This system has full rank m exactly when the RFC's decoding matrix has
 * full rank (the intermediate symbols are an invertible function of the
 * K' source symbols), so it decodes the same symbol sets, on m unknowns
 * instead of L. Gauss-Jordan runs on coefficients with a record of the
 * row operations; each missing source then costs one combine pass.
 */
int
rq_dec_decode(struct rq_dec *dec)
{
	const struct rq_params *p = &dec->p;
	const uint8_t *co, *sym[RQ_REPAIR_MAX + RQ_MAX_K], *wrow[RQ_REPAIR_MAX];
	uint8_t coef[RQ_REPAIR_MAX + RQ_MAX_K], miss[RQ_MAX_K],
	    used[RQ_REPAIR_MAX];
	uint8_t pivot[RQ_MAX_K], *ws, *wr, *ae, *row, *q, inv;
	uint32_t m = 0, nr = dec->nrep, w, i, j, r, t, nsym;
	size_t bytes;
	int rc = 0;

	if (dec->done)
		return 1;
	if (dec->nsrc == p->k) {
		dec->done = true;
		return 1;
	}
	if (dec->nsrc + nr < p->k)
		return 0;
	if ((co = rq_enc_coeffs(p)) == NULL)
		return 0;
	for (i = 0; i < p->k; i++)
		if (dec->state[i] == RQ_SRC_NONE)
			miss[m++] = (uint8_t)i;
	w = (uint32_t)rq_dec_row_bytes(m, nr);
	bytes = rq_dec_ws_bytes(p->k, m, nr);
	ws = xcalloc(1, bytes);
	rq_dec_account(dec, bytes);
	wr = ws;
	ae = ws + (size_t)nr * p->k;
	for (r = 0; r < nr; r++) {
		rq_isi_coeffs(p, co, p->k, dec->rep_id[r] + p->kp - p->k,
		    wr + (size_t)r * p->k);
		row = ae + (size_t)r * w;
		for (t = 0; t < m; t++)
			row[t] = wr[(size_t)r * p->k + miss[t]];
		row[m + r] = 1;
	}
	memset(used, 0, sizeof used);
	for (t = 0; t < m; t++) {
		for (r = 0; r < nr; r++)
			if (!used[r] && ae[(size_t)r * w + t] != 0)
				break;
		if (r == nr)
			goto out; /* rank below m: more symbols needed */
		used[r] = 1;
		pivot[t] = (uint8_t)r;
		row = ae + (size_t)r * w;
		inv = rq_gf_inv(row[t]);
		rq_gf_scale(row, inv, w);
		for (j = 0; j < nr; j++) {
			q = ae + (size_t)j * w;
			if (j != r && q[t] != 0)
				rq_gf_muladd(q, row, q[t], w);
		}
	}
	/* x_t = sum over r of E[t][r] (rep_r + sum over received j of
	 * w_r[j] src_j): terms over the repair symbols, then the sources. */
	for (r = 0; r < nr; r++)
		sym[r] = dec->rep[r];
	nsym = nr;
	for (j = 0; j < p->k; j++)
		if (dec->state[j] == RQ_SRC_RECEIVED)
			sym[nsym++] = dec->src + (size_t)j * dec->t;
	for (r = 0; r < nr; r++)
		wrow[r] = wr + (size_t)r * p->k;
	for (t = 0; t < m; t++) {
		const uint8_t *e = ae + (size_t)pivot[t] * w + m;
		uint8_t src_coef[RQ_MAX_K];

		memcpy(coef, e, nr);
		rq_gf_combine(src_coef, e, wrow, nr, p->k);
		for (j = 0, i = nr; j < p->k; j++)
			if (dec->state[j] == RQ_SRC_RECEIVED)
				coef[i++] = src_coef[j];
		rq_gf_combine(dec->src + (size_t)miss[t] * dec->t, coef, sym,
		    nsym, dec->t);
	}
	for (t = 0; t < m; t++)
		dec->state[miss[t]] = RQ_SRC_RECOVERED;
	dec->done = true;
	rc = 1;
out:
	dec->mem -= bytes;
	free(ws);
	return rc;
}

const uint8_t *
rq_dec_source(const struct rq_dec *dec, uint32_t i)
{
	if (i >= dec->p.k || dec->state[i] == RQ_SRC_NONE)
		return NULL;
	return dec->src + (size_t)i * dec->t;
}

bool
rq_dec_received(const struct rq_dec *dec, uint32_t i)
{
	return i < dec->p.k && dec->state[i] == RQ_SRC_RECEIVED;
}

size_t
rq_dec_mem_bound(uint32_t k, uint32_t t)
{
	struct rq_params p;

	if (rq_setup(&p, k, t, NULL) < 0)
		return 0;
	/* At most K source and K + slack repair symbols, and the workspace
	 * of the largest decode (all K sources missing). */
	return sizeof(struct rq_dec) + ((size_t)k + k + RQ_REPAIR_SLACK) * t +
	    rq_dec_ws_bytes(k, k, k + RQ_REPAIR_SLACK);
}

size_t
rq_dec_mem_peak(const struct rq_dec *dec)
{
	return dec->peak;
}
