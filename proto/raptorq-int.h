/* SPDX-License-Identifier: MIT */
/*
 * raptorq-int.h — internals shared by raptorq.c (the encoder/decoder API),
 * raptorq-solve.c (parameters, tuples, constraint matrix, solver),
 * raptorq-gf.c (GF(256) arithmetic) and raptorq-tab.c (the RFC's tables).
 * Not a public header: only proto/raptorq*.c and the unit test include it.
 */
#ifndef MDNS_RAPTORQ_INT_H
#define MDNS_RAPTORQ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/raptorq.h"

#define RQ_DEG_N    31 /* entries of the degree table f[0..30] */
#define RQ_SYS_ROWS 16 /* rows of Table 2 kept: K' = 10 .. 69 */
#define RQ_ROW_MAX  33 /* columns of one encoding row: d <= 30, d1 <= 3 */

struct rq_sysrow {
	uint16_t kp, j, s, h, w;
};

extern const uint32_t rq_v0[256], rq_v1[256], rq_v2[256], rq_v3[256];
extern const uint32_t rq_deg_f[RQ_DEG_N];
extern const struct rq_sysrow rq_sys_table[RQ_SYS_ROWS];

/* GF(256) of RFC 6330 5.7: polynomial x^8 + x^4 + x^3 + x^2 + 1. */
extern const uint8_t rq_oct_exp[510];
extern const uint8_t rq_oct_log[256];

static inline uint8_t
rq_gf_mul(uint8_t a, uint8_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return rq_oct_exp[rq_oct_log[a] + rq_oct_log[b]];
}

/* Inverse of a non-zero element. */
static inline uint8_t
rq_gf_inv(uint8_t a)
{
	return rq_oct_exp[255 - rq_oct_log[a]];
}

/* dst[i] ^= c * src[i] for i < n (c = 0 does nothing, c = 1 is XOR). */
void rq_gf_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n);

/*
 * out[i] = sum over j < n of c[j] * src[j][i] for i < len: one pass over
 * the sources, each output byte written once. out may be one of the
 * sources (the same bytes, not a partial overlap).
 */
void rq_gf_combine(uint8_t *out, const uint8_t *c, const uint8_t *const *src,
    size_t n, size_t len);
#define RQ_COMBINE_MAX 160 /* terms folded per pass (stack tables) */

/* Widest bulk loop used: 2 AVX2 (default), 1 SSSE3, 0 portable. For
 * tests of the narrower loops; not thread-safe. */
void rq_gf_set_simd(int level);

/* dst[i] = c * dst[i] for i < n. */
void rq_gf_scale(uint8_t *dst, uint8_t c, size_t n);

/* Code parameters for K source symbols (RFC 6330 5.3.3.3). */
struct rq_params {
	uint32_t k;  /* source symbols */
	uint32_t kp; /* K': source symbols with padding */
	uint32_t j;  /* systematic index J(K') */
	uint32_t s;  /* LDPC symbols */
	uint32_t h;  /* HDPC symbols */
	uint32_t w;  /* LT symbols */
	uint32_t l;  /* intermediate symbols: K' + S + H */
	uint32_t p;  /* permanently inactivated symbols: L - W */
	uint32_t p1; /* smallest prime >= P */
	uint32_t b;  /* W - S */
};

/* Fill p for 1 <= k <= RQ_MAX_K; returns 0, or -1 when k is out of range. */
int rq_params_init(struct rq_params *p, uint32_t k);

/* Rand[y, i, m] of RFC 6330 5.3.5.1 (m > 0). */
uint32_t rq_rand(uint32_t y, uint32_t i, uint32_t m);

/*
 * Intermediate symbol indices that the encoding symbol with internal
 * symbol id isi sums (Tuple[] and Enc[] of RFC 6330 5.3.5.3-4), written to
 * cols; returns their number (at most RQ_ROW_MAX, all distinct).
 */
unsigned rq_isi_cols(const struct rq_params *p, uint32_t isi, uint16_t *cols);

/*
 * Solve the RFC 6330 5.3.3.4 system for n encoding symbols with internal
 * ids isi[i], whose values are the data symbols data[i] in 0..ndata-1, or
 * -1 for a symbol known to be zero (padding). On success fills co (p->l
 * rows of ndata bytes): intermediate symbol c = sum over j of
 * co[c*ndata + j] * data symbol j. Returns 0, or -1 when the symbols do not
 * determine the intermediate symbols. *mem gets the workspace bytes used.
 */
int rq_solve(const struct rq_params *p, const uint32_t *isi,
    const int32_t *data, size_t n, size_t ndata, uint8_t *co, size_t *mem);

/* Workspace bytes rq_solve() needs for n equations over ndata symbols. */
size_t rq_solve_mem(const struct rq_params *p, size_t n, size_t ndata);

/*
 * Coefficients of the encoding symbol isi over the data symbols: sum of the
 * co rows that rq_isi_cols() names, into w (ndata bytes).
 */
void rq_isi_coeffs(const struct rq_params *p, const uint8_t *co, size_t ndata,
    uint32_t isi, uint8_t *w);

#endif
