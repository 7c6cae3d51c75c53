/* SPDX-License-Identifier: MIT */
/*
 * raptorq-solve.c — the RaptorQ code itself (RFC 6330 section 5.3): code
 * parameters for K, the random number generator, the tuple and encoding
 * row of an internal symbol id, the LDPC/HDPC/LT constraint matrix, and a
 * solver that expresses every intermediate symbol as a combination of the
 * known data symbols.
 *
 * The solver works on coefficients only, never on symbol bytes: it returns
 * an L x N table (N = data symbols) from which raptorq.c builds exactly the
 * symbols it needs with one pass over T bytes. raptorq.c calls it once per
 * K, for the encoding system (the sources and the zero padding), and both
 * encoder and decoder work from that table. Rows other than the H HDPC rows are 0/1
 * (RFC 6330 5.3.3.3, and cberner/raptorq's errata note 4), so they are
 * eliminated first as bitsets with XOR only; only the columns they leave
 * (about H of them) go through a GF(256) elimination together with the HDPC
 * rows. This is plain Gauss-Jordan in that order, not the RFC's 5.4.2
 * inactivation schedule: the solution of a full-rank system is unique, so
 * any correct elimination gives the same symbols.
 *
 * One deliberate deviation, taken from the library the FEC fork uses
 * (xssnick/raptorq f970781, params.go): P1 is the smallest prime greater
 * than P, where the RFC says greater than or equal. The two differ when P
 * is prime (K' = 49, 55 and 69 below K' = 69); the fork's repair symbols
 * for K = 64 only come out with the library's rule (docs/fec.md).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/raptorq-int.h"

static int
rq_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return 0;
	for (d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

int
rq_params_init(struct rq_params *p, uint32_t k)
{
	const struct rq_sysrow *r = NULL;
	size_t i;

	if (k == 0 || k > RQ_MAX_K)
		return -1;
	for (i = 0; i < RQ_SYS_ROWS; i++)
		if (rq_sys_table[i].kp >= k) {
			r = &rq_sys_table[i];
			break;
		}
	if (r == NULL)
		return -1;
	p->k = k;
	p->kp = r->kp;
	p->j = r->j;
	p->s = r->s;
	p->h = r->h;
	p->w = r->w;
	p->l = p->kp + p->s + p->h;
	p->p = p->l - p->w;
	p->b = p->w - p->s;
	/* The library's rule (see the top of this file), not the RFC's. */
	p->p1 = p->p + 1;
	while (!rq_is_prime(p->p1))
		p->p1++;
	return 0;
}

uint32_t
rq_rand(uint32_t y, uint32_t i, uint32_t m)
{
	uint32_t x0 = (y + i) & 0xff;
	uint32_t x1 = ((y >> 8) + i) & 0xff;
	uint32_t x2 = ((y >> 16) + i) & 0xff;
	uint32_t x3 = ((y >> 24) + i) & 0xff;

	return (rq_v0[x0] ^ rq_v1[x1] ^ rq_v2[x2] ^ rq_v3[x3]) % m;
}

/* Deg[v] of RFC 6330 5.3.5.2: the j with f[j-1] <= v < f[j], at most W-2. */
static uint32_t
rq_deg(uint32_t v, uint32_t w)
{
	uint32_t j;

	for (j = 1; j < RQ_DEG_N - 1 && v >= rq_deg_f[j]; j++)
		;
	return j < w - 2 ? j : w - 2;
}

unsigned
rq_isi_cols(const struct rq_params *p, uint32_t isi, uint16_t *cols)
{
	uint32_t ja = 53591 + p->j * 997, jb = 10267 * (p->j + 1), y;
	uint32_t d, a, b, d1, a1, b1, i;
	unsigned n = 0;

	/* Tuple[K', X] of 5.3.5.4; the arithmetic wraps modulo 2^32. */
	if (ja % 2 == 0)
		ja++;
	y = jb + isi * ja;
	d = rq_deg(rq_rand(y, 0, 1u << 20), p->w);
	a = 1 + rq_rand(y, 1, p->w - 1);
	b = rq_rand(y, 2, p->w);
	d1 = d < 4 ? 2 + rq_rand(isi, 3, 2) : 2;
	a1 = 1 + rq_rand(isi, 4, p->p1 - 1);
	b1 = rq_rand(isi, 5, p->p1);

	/* Enc[] of 5.3.5.3: d LT columns, then d1 PI columns after W. */
	cols[n++] = (uint16_t)b;
	for (i = 1; i < d; i++) {
		b = (b + a) % p->w;
		cols[n++] = (uint16_t)b;
	}
	while (b1 >= p->p)
		b1 = (b1 + a1) % p->p1;
	cols[n++] = (uint16_t)(p->w + b1);
	for (i = 1; i < d1; i++) {
		b1 = (b1 + a1) % p->p1;
		while (b1 >= p->p)
			b1 = (b1 + a1) % p->p1;
		cols[n++] = (uint16_t)(p->w + b1);
	}
	return n;
}

void
rq_isi_coeffs(const struct rq_params *p, const uint8_t *co, size_t ndata,
    uint32_t isi, uint8_t *w)
{
	uint16_t cols[RQ_ROW_MAX];
	unsigned n = rq_isi_cols(p, isi, cols), i;

	memset(w, 0, ndata);
	for (i = 0; i < n; i++)
		rq_gf_muladd(w, co + (size_t)cols[i] * ndata, 1, ndata);
}

/*
 * The solver's workspace. Binary rows (S LDPC rows, then one per encoding
 * symbol) are bitsets of lw words over the L columns followed by zw words
 * over the data symbols. The dense GF(256) system g has a row for each
 * binary row left without a pivot and for each HDPC row, and a column for
 * each column left without a pivot, then one per data symbol.
 */
struct rq_ws {
	const struct rq_params *p;
	size_t nb, lw, zw, rw, ndata;
	uint64_t *bin;	  /* nb rows of rw words */
	int32_t *pivot;	  /* per column: its binary pivot row, or -1 */
	uint8_t *used;	  /* per binary row: chosen as a pivot */
	uint8_t *gdone;	  /* per dense row: chosen as a pivot */
	uint16_t *inact;  /* the columns without a binary pivot */
	size_t ni;	  /* how many */
	uint64_t *imask;  /* the same as a bitset of lw words */
	uint64_t *planes; /* 8 bit planes of zw words: one HDPC data part */
	uint8_t *g;	  /* dense rows of gw bytes */
	size_t gr, gw;	  /* rows, row width */
	uint8_t *hrow;	  /* one HDPC row over L columns */
	uint16_t *mt_a;	  /* MT's two ones in column j (5.3.3.3) */
	uint16_t *mt_b;
};

static inline int
rq_bit(const uint64_t *row, size_t c)
{
	return (int)((row[c >> 6] >> (c & 63)) & 1);
}

static inline void
rq_setbit(uint64_t *row, size_t c)
{
	row[c >> 6] |= (uint64_t)1 << (c & 63);
}

size_t
rq_solve_mem(const struct rq_params *p, size_t n, size_t ndata)
{
	size_t lw = (p->l + 63) / 64, zw = (ndata + 63) / 64;
	size_t nb = p->s + n, kps = p->kp + p->s;

	return (nb * (lw + zw) + lw + 8 * zw) * sizeof(uint64_t) +
	    p->l * sizeof(int32_t) + p->l * sizeof(uint16_t) +
	    2 * kps * sizeof(uint16_t) + nb + (nb + p->h) + p->l +
	    (nb + p->h) * (p->l + ndata);
}

/* LDPC rows (5.3.3.3) and one encoding row per symbol, as bitsets. */
static void
rq_build_binary(
    struct rq_ws *ws, const uint32_t *isi, const int32_t *data, size_t n)
{
	const struct rq_params *p = ws->p;
	uint16_t cols[RQ_ROW_MAX];
	uint64_t *row;
	uint32_t i, a, b;
	unsigned m, c;
	size_t r;

	for (i = 0; i < p->b; i++) {
		a = 1 + i / p->s;
		b = i % p->s;
		rq_setbit(ws->bin + b * ws->rw, i);
		b = (b + a) % p->s;
		rq_setbit(ws->bin + b * ws->rw, i);
		b = (b + a) % p->s;
		rq_setbit(ws->bin + b * ws->rw, i);
	}
	for (i = 0; i < p->s; i++) {
		row = ws->bin + i * ws->rw;
		rq_setbit(row, p->b + i);
		rq_setbit(row, p->w + i % p->p);
		rq_setbit(row, p->w + (i + 1) % p->p);
	}
	for (r = 0; r < n; r++) {
		row = ws->bin + (p->s + r) * ws->rw;
		m = rq_isi_cols(p, isi[r], cols);
		for (c = 0; c < m; c++)
			rq_setbit(row, cols[c]);
		if (data[r] >= 0)
			rq_setbit(row + ws->lw, (size_t)data[r]);
	}
}

/* Gauss-Jordan over GF(2) on the binary rows, column by column. */
static void
rq_eliminate_binary(struct rq_ws *ws)
{
	const struct rq_params *p = ws->p;
	size_t c, r, q, wi;
	uint64_t *pr, *qr;

	ws->ni = 0;
	for (c = 0; c < p->l; c++) {
		for (r = 0; r < ws->nb; r++)
			if (!ws->used[r] && rq_bit(ws->bin + r * ws->rw, c))
				break;
		if (r == ws->nb) {
			ws->pivot[c] = -1;
			ws->inact[ws->ni++] = (uint16_t)c;
			rq_setbit(ws->imask, c);
			continue;
		}
		ws->pivot[c] = (int32_t)r;
		ws->used[r] = 1;
		pr = ws->bin + r * ws->rw;
		for (q = 0; q < ws->nb; q++) {
			qr = ws->bin + q * ws->rw;
			if (q == r || !rq_bit(qr, c))
				continue;
			for (wi = 0; wi < ws->rw; wi++)
				qr[wi] ^= pr[wi];
		}
	}
}

/*
 * HDPC row i (5.3.3.3: MT * GAMMA, then I_H) into ws->hrow:
 * row[j] = sum over m >= j of MT[i,m] * alpha^(m-j) for j < K'+S.
 */
static void
rq_hdpc_row(struct rq_ws *ws, uint32_t i)
{
	const struct rq_params *p = ws->p;
	size_t kps = p->kp + p->s, j;
	uint8_t v;

	memset(ws->hrow, 0, p->l);
	v = rq_oct_exp[i % 255];
	ws->hrow[kps - 1] = v;
	for (j = kps - 1; j-- > 0;) {
		v = rq_gf_mul(v, 2);
		if (ws->mt_a[j] == i || ws->mt_b[j] == i)
			v ^= 1;
		ws->hrow[j] = v;
	}
	ws->hrow[kps + i] = 1;
}

/* The dense system over the columns without a binary pivot. */
static void
rq_build_dense(struct rq_ws *ws)
{
	const struct rq_params *p = ws->p;
	size_t kps = p->kp + p->s, r, t, j, c, wi, row = 0;
	const uint64_t *br;
	uint8_t *g, beta, v;
	uint64_t m;
	uint32_t i, bit;

	for (r = 0; r < ws->nb; r++) {
		if (ws->used[r])
			continue;
		br = ws->bin + r * ws->rw;
		g = ws->g + row++ * ws->gw;
		for (t = 0; t < ws->ni; t++)
			g[t] = (uint8_t)rq_bit(br, ws->inact[t]);
		for (j = 0; j < ws->ndata; j++)
			g[ws->ni + j] = (uint8_t)rq_bit(br + ws->lw, j);
	}
	for (j = 0; j + 1 < kps; j++) {
		ws->mt_a[j] = (uint16_t)rq_rand((uint32_t)j + 1, 6, p->h);
		ws->mt_b[j] =
		    (uint16_t)((ws->mt_a[j] +
				   rq_rand((uint32_t)j + 1, 7, p->h - 1) + 1) %
			p->h);
	}
	ws->mt_a[kps - 1] = ws->mt_b[kps - 1] = UINT16_MAX;
	for (i = 0; i < p->h; i++) {
		rq_hdpc_row(ws, i);
		g = ws->g + row++ * ws->gw;
		/*
		 * Substitute every pivoted column by its binary pivot row:
		 * beta times its inactive columns, and beta times its data
		 * bits, added bit plane by bit plane (a word XOR per plane
		 * instead of a byte per data symbol).
		 */
		memset(ws->planes, 0, 8 * ws->zw * sizeof(uint64_t));
		for (c = 0; c < p->l; c++) {
			if (ws->pivot[c] < 0 || (beta = ws->hrow[c]) == 0)
				continue;
			br = ws->bin + (size_t)ws->pivot[c] * ws->rw;
			for (wi = 0; wi < ws->lw; wi++)
				for (m = br[wi] & ws->imask[wi]; m; m &= m - 1)
					ws->hrow[wi * 64 +
					    (size_t)__builtin_ctzll(m)] ^= beta;
			for (bit = 0; bit < 8; bit++)
				if (beta >> bit & 1)
					for (wi = 0; wi < ws->zw; wi++)
						ws->planes[bit * ws->zw + wi] ^=
						    br[ws->lw + wi];
		}
		for (t = 0; t < ws->ni; t++)
			g[t] = ws->hrow[ws->inact[t]];
		for (j = 0; j < ws->ndata; j++) {
			v = 0;
			for (bit = 0; bit < 8; bit++)
				v |= (uint8_t)(rq_bit(
						   ws->planes + bit * ws->zw, j)
				    << bit);
			g[ws->ni + j] = v;
		}
	}
	ws->gr = row;
}

/*
 * Gauss-Jordan over GF(256) on the dense system's first ni columns. On
 * success gp[t] is the row whose data part gives inactive column t.
 */
static int
rq_eliminate_dense(struct rq_ws *ws, size_t *gp)
{
	size_t t, r, q, w = ws->gw;
	uint8_t *pr, *qr, *done = ws->gdone, inv;

	for (t = 0; t < ws->ni; t++) {
		for (r = 0; r < ws->gr; r++)
			if (!done[r] && ws->g[r * w + t] != 0)
				break;
		if (r == ws->gr)
			return -1;
		done[r] = 1;
		gp[t] = r;
		pr = ws->g + r * w;
		inv = rq_gf_inv(pr[t]);
		rq_gf_scale(pr + t, inv, w - t);
		for (q = 0; q < ws->gr; q++) {
			qr = ws->g + q * w;
			if (q != r && qr[t] != 0)
				rq_gf_muladd(qr + t, pr + t, qr[t], w - t);
		}
	}
	return 0;
}

int
rq_solve(const struct rq_params *p, const uint32_t *isi, const int32_t *data,
    size_t n, size_t ndata, uint8_t *co, size_t *mem)
{
	struct rq_ws ws;
	size_t gp[RQ_MAX_L], c, t, j, wi, kps = p->kp + p->s, bytes;
	const uint64_t *br;
	uint64_t m;
	uint8_t *blk, *cur, *dst;
	int rc = -1;

	*mem = 0;
	/* Fewer equations than unknowns can never be solved. */
	if (p->s + p->h + n < p->l || p->l > RQ_MAX_L)
		return -1;
	memset(&ws, 0, sizeof ws);
	ws.p = p;
	ws.nb = p->s + n;
	ws.lw = (p->l + 63) / 64;
	ws.zw = (ndata + 63) / 64;
	ws.rw = ws.lw + ws.zw;
	ws.ndata = ndata;
	bytes = rq_solve_mem(p, n, ndata);
	*mem = bytes;
	cur = blk = xcalloc(1, bytes);
	ws.bin = (uint64_t *)(void *)cur;
	cur += ws.nb * ws.rw * sizeof(uint64_t);
	ws.imask = (uint64_t *)(void *)cur;
	cur += ws.lw * sizeof(uint64_t);
	ws.planes = (uint64_t *)(void *)cur;
	cur += 8 * ws.zw * sizeof(uint64_t);
	ws.pivot = (int32_t *)(void *)cur;
	cur += p->l * sizeof(int32_t);
	ws.inact = (uint16_t *)(void *)cur;
	cur += p->l * sizeof(uint16_t);
	ws.mt_a = (uint16_t *)(void *)cur;
	cur += kps * sizeof(uint16_t);
	ws.mt_b = (uint16_t *)(void *)cur;
	cur += kps * sizeof(uint16_t);
	ws.used = cur;
	cur += ws.nb;
	ws.gdone = cur;
	cur += ws.nb + p->h;
	ws.hrow = cur;
	cur += p->l;
	ws.g = cur;

	rq_build_binary(&ws, isi, data, n);
	rq_eliminate_binary(&ws);
	ws.gw = ws.ni + ndata;
	rq_build_dense(&ws);
	if (rq_eliminate_dense(&ws, gp) < 0)
		goto out;

	/* Inactive columns: straight from the dense system. Pivoted ones:
	 * their row's data bits plus the inactive columns it still holds. */
	memset(co, 0, p->l * ndata);
	for (t = 0; t < ws.ni; t++)
		memcpy(co + (size_t)ws.inact[t] * ndata,
		    ws.g + gp[t] * ws.gw + ws.ni, ndata);
	for (c = 0; c < p->l; c++) {
		if (ws.pivot[c] < 0)
			continue;
		br = ws.bin + (size_t)ws.pivot[c] * ws.rw;
		dst = co + c * ndata;
		for (j = 0; j < ndata; j++)
			dst[j] = (uint8_t)rq_bit(br + ws.lw, j);
		for (wi = 0; wi < ws.lw; wi++)
			for (m = br[wi] & ws.imask[wi]; m; m &= m - 1)
				rq_gf_muladd(dst,
				    co +
					(wi * 64 + (size_t)__builtin_ctzll(m)) *
					    ndata,
				    1, ndata);
	}
	rc = 0;
out:
	free(blk);
	return rc;
}
