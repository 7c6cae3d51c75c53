/* SPDX-License-Identifier: MIT */
/*
 * test-raptorq.c — the RaptorQ codec (proto/raptorq.h).
 *
 * Interop: every vector of $MDNS_SHARED/interop/fec-vectors.jsonl (120
 * source blocks from the library the FEC fork uses): each repair symbol
 * byte for byte, and a decode from the vector's decode_check_ids. Then the
 * properties behind them: the GF(256) tables against their polynomial, the
 * bulk multiply-add against a byte-wise reference, the systematic property
 * for every K (source symbol i is intermediate combination e_i), the P1
 * deviation from the RFC, input checks, memory bounds, randomized round
 * trips with random loss (a decoder that says it decoded must hold the
 * source exactly; one that cannot must say so), and singular symbol sets.
 * MDNS_RQ_SEED and MDNS_RQ_TRIALS change the randomized part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "proto/raptorq-int.h"
#include "proto/raptorq.h"
#include "tests/tap.h"

static uint64_t rng_state;

static uint32_t
rng(void)
{
	/* splitmix64: reproducible from the seed, good enough for tests. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t
rng_below(uint32_t n)
{
	return rng() % n;
}

static void
rng_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

/* Shuffle v[0..n-1]. */
static void
rng_shuffle(uint32_t *v, size_t n)
{
	size_t i, j;
	uint32_t x;

	for (i = n; i > 1; i--) {
		j = rng_below((uint32_t)i);
		x = v[i - 1];
		v[i - 1] = v[j];
		v[j] = x;
	}
}

/*
 * rq_gf_combine against a byte-wise sum: every tail length around the
 * 16/32-byte SIMD widths, more terms than one pass folds (RQ_COMBINE_MAX),
 * zero coefficients, and out being one of the sources.
 */
static void
test_combine(int simd)
{
	enum { N = 2 * RQ_COMBINE_MAX + 7, LEN = 100 };
	static uint8_t buf[N][LEN];
	const uint8_t *src[N];
	uint8_t c[N], out[LEN], ref[LEN], keep[LEN];
	size_t n, len, i, j;
	unsigned bad = 0, alias;

	for (j = 0; j < N; j++)
		src[j] = buf[j];
	for (n = 1; n <= N; n = n < 8 ? n + 1 :
		 n * 3 > N && n < N   ? N :
					n * 3) {
		for (len = 1; len <= LEN; len += len < 40 ? 1 : 13) {
			for (alias = 0; alias < 2; alias++) {
				rng_fill(&buf[0][0], sizeof buf);
				for (j = 0; j < n; j++)
					c[j] = rng_below(4) == 0 ?
					    0 :
					    (uint8_t)rng();
				memcpy(keep, buf[n - 1], LEN);
				memset(ref, 0, sizeof ref);
				for (j = 0; j < n; j++)
					for (i = 0; i < len; i++)
						ref[i] ^=
						    rq_gf_mul(c[j], buf[j][i]);
				if (alias) {
					rq_gf_combine(
					    buf[n - 1], c, src, n, len);
					if (memcmp(buf[n - 1], ref, len) != 0 ||
					    memcmp(buf[n - 1] + len, keep + len,
						LEN - len) != 0)
						bad++;
				} else {
					memset(out, 0xa5, sizeof out);
					rq_gf_combine(out, c, src, n, len);
					if (memcmp(out, ref, len) != 0 ||
					    (len < LEN && out[len] != 0xa5))
						bad++;
				}
			}
		}
	}
	tap_is_int(bad, 0,
	    "combine of up to %d terms (tails, folding, aliasing) with %s "
	    "matches bytes",
	    N,
	    simd == 2	  ? "AVX2" :
		simd == 1 ? "SSSE3" :
			    "bytes only");
}

static void
test_gf(void)
{
	unsigned i, a, b, c, bad = 0, x = 1;
	uint8_t src[300], dst[300], ref[300];
	int simd;
	size_t n, off;

	for (i = 0; i < 510; i++) {
		if (rq_oct_exp[i] != x)
			bad++;
		if (i < 255 && rq_oct_log[x] != i)
			bad++;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
		if (i == 254)
			x = 1;
	}
	tap_is_int(bad, 0, "OCT_EXP/OCT_LOG follow x^8+x^4+x^3+x^2+1");
	bad = 0;
	for (a = 1; a < 256; a++) {
		if (rq_gf_mul((uint8_t)a, rq_gf_inv((uint8_t)a)) != 1)
			bad++;
		for (b = 0; b < 256; b += 7) {
			/* Carry-less multiply reduced by the polynomial. */
			unsigned r = 0, aa = a, bb = b;

			while (bb) {
				if (bb & 1)
					r ^= aa;
				bb >>= 1;
				aa <<= 1;
				if (aa & 0x100)
					aa ^= 0x11d;
			}
			if (rq_gf_mul((uint8_t)a, (uint8_t)b) != r)
				bad++;
		}
	}
	tap_is_int(bad, 0, "multiply and inverse agree with shift-and-add");
	bad = 0;
	for (c = 0; c < 256; c += 5)
		for (n = 0; n < 200; n += 1 + n / 8)
			for (off = 0; off < 3; off++) {
				rng_fill(src, sizeof src);
				rng_fill(dst, sizeof dst);
				memcpy(ref, dst, sizeof ref);
				rq_gf_muladd(
				    dst + off, src + 2 * off, (uint8_t)c, n);
				for (i = 0; i < n; i++)
					ref[off + i] ^= rq_gf_mul(
					    (uint8_t)c, src[2 * off + i]);
				if (memcmp(dst, ref, sizeof ref) != 0)
					bad++;
			}
	tap_is_int(bad, 0, "bulk multiply-add (SIMD paths) matches bytes");
	for (simd = 0; simd <= 2; simd++) { /* ends at the default, 2 */
		rq_gf_set_simd(simd);
		test_combine(simd);
	}
}

/*
 * The library sets matrix entries to 1 where the RFC adds them: the same
 * only if no entry is hit twice. LDPC: the steps a = 1 + i/S must stay
 * below the prime S. Encoding rows: the columns of one ISI are distinct
 * (checked for the ISIs of K' sources and 2000 repair ids).
 */
static unsigned
collisions(void)
{
	uint16_t cols[RQ_ROW_MAX];
	unsigned k, n, a, b, bad = 0;
	struct rq_params p;
	uint32_t isi;

	for (k = 1; k <= RQ_MAX_K; k++) {
		rq_params_init(&p, k);
		if (1 + (p.b - 1) / p.s >= p.s || p.p < 2)
			bad++;
		for (isi = 0; isi < p.kp + 2000; isi++) {
			n = rq_isi_cols(&p, isi, cols);
			for (a = 0; a < n; a++)
				for (b = a + 1; b < n; b++)
					if (cols[a] == cols[b])
						bad++;
		}
	}
	return bad;
}

static void
test_params(void)
{
	struct rq_params p;
	unsigned k, bad = 0, prime_p = 0;
	uint32_t kps[8], np = 0;

	for (k = 1; k <= RQ_MAX_K; k++) {
		if (rq_params_init(&p, k) < 0) {
			bad++;
			continue;
		}
		if (p.kp < k || p.l != p.kp + p.s + p.h || p.l > RQ_MAX_L ||
		    p.p1 <= p.p || p.b != p.w - p.s)
			bad++;
		/* Where P itself is prime the library's P1 differs. */
		if (p.p1 != p.p + 1 && (p.p == 11 || p.p == 13)) {
			if (np == 0 || kps[np - 1] != p.kp)
				kps[np++] = p.kp;
			prime_p++;
		}
	}
	tap_is_int(bad, 0, "parameters for K = 1..%d", RQ_MAX_K);
	tap_is_int(collisions(), 0,
	    "no constraint-matrix entry is hit twice (set = add, as the "
	    "library and the RFC need)");
	tap_ok(rq_params_init(&p, 0) < 0 && rq_params_init(&p, 65) < 0,
	    "no parameters for K = 0 or 65");
	tap_ok(np == 3 && kps[0] == 49 && kps[1] == 55 && kps[2] == 69,
	    "P prime (P1 differs from the RFC's) exactly at K' = 49, 55, 69 "
	    "(%u K values)",
	    prime_p);
}

/* Source symbol i must be intermediate combination e_i, padding zero. */
static void
test_systematic(void)
{
	uint8_t src[RQ_MAX_K], w[RQ_MAX_K];
	struct rq_enc *enc;
	struct rq_params p;
	unsigned k, i, j, bad = 0;
	uint8_t *co;
	uint32_t isi[RQ_MAX_L];
	int32_t data[RQ_MAX_L];
	size_t mem;

	for (k = 1; k <= RQ_MAX_K; k++) {
		rq_params_init(&p, k);
		for (i = 0; i < p.kp; i++) {
			isi[i] = i;
			data[i] = i < k ? (int32_t)i : -1;
		}
		co = xmalloc((size_t)p.l * k);
		if (rq_solve(&p, isi, data, p.kp, k, co, &mem) < 0) {
			bad++;
			free(co);
			continue;
		}
		for (i = 0; i < p.kp; i++) {
			rq_isi_coeffs(&p, co, k, i, w);
			for (j = 0; j < k; j++)
				if (w[j] != (i == j))
					bad++;
		}
		free(co);
		rng_fill(src, k);
		enc = rq_enc_new(src, k, 1, NULL);
		for (i = 0; enc != NULL && i < k; i++) {
			uint8_t out;

			rq_enc_symbol(enc, i, &out, NULL);
			if (out != src[i])
				bad++;
		}
		if (enc == NULL)
			bad++;
		rq_enc_free(enc);
	}
	tap_is_int(bad, 0,
	    "systematic for K = 1..%d: source ISI i is e_i, "
	    "padding is zero",
	    RQ_MAX_K);
}

struct vec {
	uint32_t k, t, line;
	uint8_t *src; /* k * t, zero-padded */
	uint32_t nrep;
	uint32_t rep_id[128];
	uint8_t *rep; /* nrep * t */
	uint32_t ncheck;
	uint32_t check[256];
};

static void
vec_free(struct vec *v)
{
	free(v->src);
	free(v->rep);
}

/* One line of fec-vectors.jsonl; returns 0 or -1 with a reason. */
static int
vec_parse(json_t *o, struct vec *v, char *why, size_t whylen)
{
	json_t *pk, *pl, *rep, *chk, *it;
	size_t i, n;
	long got;

	memset(v, 0, sizeof *v);
	v->k = (uint32_t)json_integer_value(json_object_get(o, "k"));
	v->t = (uint32_t)json_integer_value(json_object_get(o, "symbol_size"));
	pk = json_object_get(o, "source_packets_hex");
	pl = json_object_get(o, "packet_lengths");
	rep = json_object_get(o, "repair");
	chk = json_object_get(o, "decode_check_ids");
	if (v->k == 0 || v->k > RQ_MAX_K || v->t == 0 || v->t > RQ_MAX_T ||
	    !json_is_array(pk) || json_array_size(pk) != v->k ||
	    !json_is_array(pl) || json_array_size(pl) != v->k ||
	    !json_is_array(rep) || json_array_size(rep) > 128 ||
	    !json_is_array(chk) || json_array_size(chk) > 256) {
		snprintf(why, whylen, "malformed vector");
		return -1;
	}
	if ((uint32_t)json_integer_value(json_object_get(o, "base_symbols")) !=
	    v->k) {
		snprintf(why, whylen, "base_symbols != k");
		return -1;
	}
	v->src = xcalloc(v->k, v->t);
	for (i = 0; i < v->k; i++) {
		const char *h = json_string_value(json_array_get(pk, i));

		got =
		    h ? hex_decode(h, strlen(h), v->src + i * v->t, v->t) : -1;
		if (got < 0 ||
		    got != json_integer_value(json_array_get(pl, i))) {
			snprintf(why, whylen, "packet %zu: bad hex/length", i);
			return -1;
		}
	}
	v->nrep = (uint32_t)json_array_size(rep);
	v->rep = xcalloc(v->nrep ? v->nrep : 1, v->t);
	json_array_foreach(rep, i, it)
	{
		const char *h = json_string_value(json_object_get(it, "hex"));

		v->rep_id[i] =
		    (uint32_t)json_integer_value(json_object_get(it, "id"));
		got =
		    h ? hex_decode(h, strlen(h), v->rep + i * v->t, v->t) : -1;
		if (got != (long)v->t) {
			snprintf(why, whylen, "repair %zu: bad hex", i);
			return -1;
		}
	}
	n = json_array_size(chk);
	for (i = 0; i < n; i++)
		v->check[i] =
		    (uint32_t)json_integer_value(json_array_get(chk, i));
	v->ncheck = (uint32_t)n;
	return 0;
}

/* Encode: every repair symbol of the vector, byte for byte, with the
 * widest SIMD loop and with the portable one. */
static int
vec_encode(const struct vec *v, char *why, size_t whylen)
{
	struct rq_enc *enc;
	struct err e;
	uint8_t *out = xmalloc(v->t);
	uint32_t i;
	int ok = 1, simd;

	if ((enc = rq_enc_new(v->src, v->k, v->t, &e)) == NULL) {
		snprintf(why, whylen, "%s", e.msg);
		free(out);
		return 0;
	}
	for (simd = 0; simd <= 2 && ok; simd += 2) {
		rq_gf_set_simd(simd);
		for (i = 0; i < v->nrep && ok; i++) {
			if (rq_enc_symbol(enc, v->rep_id[i], out, &e) < 0 ||
			    memcmp(out, v->rep + (size_t)i * v->t, v->t) != 0) {
				snprintf(why, whylen, "repair id %u differs%s",
				    v->rep_id[i],
				    simd ? "" : " (portable loop)");
				ok = 0;
			}
		}
	}
	rq_gf_set_simd(2);
	rq_enc_free(enc);
	free(out);
	return ok;
}

/* Decode from decode_check_ids: sources from the packets, repairs from the
 * vector's own bytes (not from our encoder). */
static int
vec_decode(const struct vec *v, char *why, size_t whylen)
{
	struct rq_dec *dec;
	const uint8_t *sym, *got;
	struct err e;
	uint32_t i, j, id;
	int ok = 1, rc;

	if ((dec = rq_dec_new(v->k, v->t, &e)) == NULL) {
		snprintf(why, whylen, "%s", e.msg);
		return 0;
	}
	for (i = 0; i < v->ncheck; i++) {
		id = v->check[i];
		sym = NULL;
		if (id < v->k)
			sym = v->src + (size_t)id * v->t;
		for (j = 0; sym == NULL && j < v->nrep; j++)
			if (v->rep_id[j] == id)
				sym = v->rep + (size_t)j * v->t;
		if (sym == NULL) {
			snprintf(why, whylen, "check id %u not in vector", id);
			rq_dec_free(dec);
			return 0;
		}
		rc = rq_dec_add(dec, id, sym, v->t, &e);
		if (rc != 1) {
			snprintf(why, whylen, "add %u: %d", id, rc);
			ok = 0;
		}
	}
	if (ok && rq_dec_decode(dec) != 1) {
		snprintf(why, whylen, "decode failed");
		ok = 0;
	}
	for (i = 0; ok && i < v->k; i++) {
		got = rq_dec_source(dec, i);
		if (got == NULL ||
		    memcmp(got, v->src + (size_t)i * v->t, v->t) != 0) {
			snprintf(why, whylen, "source %u differs", i);
			ok = 0;
		}
	}
	rq_dec_free(dec);
	return ok;
}

/*
 * The same K = 64 vector computed with the RFC's P1 (smallest prime >= P)
 * instead of the library's must not match: the deviation is real and the
 * vectors pin it down.
 */
static int
vec_rfc_p1_differs(const struct vec *v)
{
	struct rq_params p;
	uint32_t isi[RQ_MAX_L], i, j;
	int32_t data[RQ_MAX_L];
	uint8_t *co, w[RQ_MAX_K], *out;
	size_t mem;
	int same = 1;

	rq_params_init(&p, v->k);
	p.p1 = 13; /* P = 13 is prime for K' = 69 */
	for (i = 0; i < p.kp; i++) {
		isi[i] = i;
		data[i] = i < v->k ? (int32_t)i : -1;
	}
	co = xmalloc((size_t)p.l * v->k);
	out = xmalloc(v->t);
	if (rq_solve(&p, isi, data, p.kp, v->k, co, &mem) < 0) {
		free(co);
		free(out);
		return 1;
	}
	for (i = 0; i < v->nrep && same; i++) {
		rq_isi_coeffs(&p, co, v->k, v->rep_id[i] + p.kp - v->k, w);
		memset(out, 0, v->t);
		for (j = 0; j < v->k; j++)
			rq_gf_muladd(
			    out, v->src + (size_t)j * v->t, w[j], v->t);
		same = memcmp(out, v->rep + (size_t)i * v->t, v->t) == 0;
	}
	free(co);
	free(out);
	return !same;
}

static void
test_vectors(void)
{
	char path[4096], why[ERR_MSG_MAX + 64], *line = NULL;
	size_t cap = 0;
	int nline = 0, nvec = 0, enc_ok = 0, dec_ok = 0, p1_checked = 0;
	json_error_t je;
	struct vec v;
	json_t *o;
	FILE *f;

	snprintf(path, sizeof path, "%s/interop/fec-vectors.jsonl",
	    tap_shared_dir());
	if ((f = fopen(path, "r")) == NULL) {
		tap_ok(0, "open %s (set MDNS_SHARED)", path);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		nline++;
		if ((o = json_loads(line, 0, &je)) == NULL) {
			tap_ok(0, "%s:%d: %s", path, nline, je.text);
			continue;
		}
		why[0] = '\0';
		if (vec_parse(o, &v, why, sizeof why) < 0) {
			tap_ok(0, "fec-vectors.jsonl:%d: %s", nline, why);
			vec_free(&v);
			json_decref(o);
			continue;
		}
		nvec++;
		if (tap_ok(vec_encode(&v, why, sizeof why),
			"vector %d (k %u, T %u): %u repair symbols", nline, v.k,
			v.t, v.nrep))
			enc_ok++;
		else
			tap_diag("  %s", why);
		if (tap_ok(vec_decode(&v, why, sizeof why),
			"vector %d (k %u, T %u): decodes from %u ids", nline,
			v.k, v.t, v.ncheck))
			dec_ok++;
		else
			tap_diag("  %s", why);
		if (v.k == 64 && v.t >= 64 && !p1_checked) {
			p1_checked = 1;
			tap_ok(vec_rfc_p1_differs(&v),
			    "vector %d: the RFC's P1 = 13 would not reproduce "
			    "the library's repair symbols",
			    nline);
		}
		vec_free(&v);
		json_decref(o);
	}
	free(line);
	fclose(f);
	tap_is_int(nvec, 120, "fec-vectors.jsonl has 120 vectors");
	tap_diag(
	    "vectors: %d encoded exactly, %d decoded exactly", enc_ok, dec_ok);
}

static void
test_inputs(void)
{
	uint8_t src[4 * 10], sym[11], out[10];
	struct rq_enc *enc;
	struct rq_dec *dec;
	struct err e;
	uint32_t i;
	int ok;

	rng_fill(src, sizeof src);
	e.msg[0] = '\0';
	tap_ok(rq_enc_new(src, 0, 10, &e) == NULL && e.msg[0] != '\0',
	    "encoder: K = 0 refused (%s)", e.msg);
	tap_ok(rq_enc_new(src, RQ_MAX_K + 1, 10, &e) == NULL,
	    "encoder: K = %d refused (%s)", RQ_MAX_K + 1, e.msg);
	tap_ok(rq_enc_new(src, 4, 0, &e) == NULL, "encoder: T = 0 refused");
	tap_ok(rq_dec_new(RQ_MAX_K + 1, 10, &e) == NULL &&
		rq_dec_new(1, RQ_MAX_T + 1, &e) == NULL &&
		rq_dec_new(0, 1, &e) == NULL,
	    "decoder: K = 0, K > %d, T > %d refused", RQ_MAX_K, RQ_MAX_T);
	tap_ok(rq_dec_mem_bound(RQ_MAX_K + 1, 10) == 0 &&
		rq_dec_mem_bound(4, 0) == 0,
	    "no memory bound for out-of-range K/T");

	enc = rq_enc_new(src, 4, 10, &e);
	tap_ok(enc != NULL && rq_enc_k(enc) == 4 && rq_enc_t(enc) == 10,
	    "encoder K = 4, T = 10");
	tap_ok(rq_enc_symbol(enc, RQ_MAX_ESI + 1, out, &e) < 0,
	    "encoder: id over 2^24-1 refused (%s)", e.msg);
	tap_ok(rq_enc_symbol(enc, RQ_MAX_ESI, out, &e) == 0,
	    "encoder: id 2^24-1 accepted");

	dec = rq_dec_new(4, 10, &e);
	rq_enc_symbol(enc, 0, sym, NULL);
	tap_ok(rq_dec_add(dec, 0, sym, 11, &e) < 0 &&
		rq_dec_add(dec, 0, sym, 9, &e) < 0 &&
		rq_dec_add(dec, 0, sym, 0, &e) < 0,
	    "decoder: wrong lengths refused (%s)", e.msg);
	tap_ok(rq_dec_add(dec, RQ_MAX_ESI + 1, sym, 10, &e) < 0 &&
		rq_dec_add(dec, UINT32_MAX, sym, 10, &e) < 0,
	    "decoder: ids over 2^24-1 refused (%s)", e.msg);
	tap_is_int(rq_dec_count(dec), 0, "decoder: nothing kept from those");
	tap_is_int(rq_dec_add(dec, 0, sym, 10, &e), 1, "decoder: source 0");
	tap_is_int(rq_dec_add(dec, 0, sym, 10, &e), 0, "decoder: dup 0");
	tap_ok(
	    !rq_dec_ready(dec) && rq_dec_decode(dec) == 0 && !rq_dec_done(dec),
	    "decoder: 1 of 4 symbols is not enough");
	tap_ok(rq_dec_source(dec, 0) != NULL && rq_dec_source(dec, 1) == NULL &&
		rq_dec_source(dec, 4) == NULL && rq_dec_source(dec, 99) == NULL,
	    "decoder: source pointers only for known symbols in range");
	/* Fill the repair store: K + slack repairs, then no more. */
	ok = 1;
	for (i = 0; i < 4 + RQ_REPAIR_SLACK; i++) {
		rq_enc_symbol(enc, 100 + i, sym, NULL);
		if (rq_dec_add(dec, 100 + i, sym, 10, &e) != 1)
			ok = 0;
	}
	rq_enc_symbol(enc, 50, sym, NULL);
	tap_ok(ok && rq_dec_add(dec, 50, sym, 10, &e) == 0 &&
		rq_dec_add(dec, 100, sym, 10, &e) == 0,
	    "decoder: keeps K + %d repair symbols, ignores more and dups",
	    RQ_REPAIR_SLACK);
	tap_ok(rq_dec_decode(dec) == 1 && rq_dec_done(dec), "decoder: done");
	ok = 1;
	for (i = 0; i < 4; i++)
		if (rq_dec_source(dec, i) == NULL ||
		    memcmp(rq_dec_source(dec, i), src + i * 10, 10) != 0)
			ok = 0;
	tap_ok(ok && rq_dec_received(dec, 0) && !rq_dec_received(dec, 1),
	    "decoder: sources recovered, only 0 marked received");
	tap_ok(rq_dec_add(dec, 3, sym, 10, &e) == 0 && rq_dec_decode(dec) == 1,
	    "decoder: symbols after success are ignored");
	tap_ok(rq_dec_mem_peak(dec) <= rq_dec_mem_bound(4, 10),
	    "decoder: peak %zu <= bound %zu bytes", rq_dec_mem_peak(dec),
	    rq_dec_mem_bound(4, 10));
	rq_dec_free(dec);
	rq_enc_free(enc);
	rq_enc_free(NULL);
	rq_dec_free(NULL);
	tap_ok(rq_dec_mem_bound(RQ_MAX_K, 1000) <
		(size_t)(2 * RQ_MAX_K + RQ_REPAIR_SLACK) * 1000 + 20 * 1024,
	    "bound for K = 64, T = 1000: %zu bytes < (2K+%d)T + 20 KiB",
	    rq_dec_mem_bound(RQ_MAX_K, 1000), RQ_REPAIR_SLACK);
}

/*
 * One random round trip. Sources are lost at random, the decoder gets the
 * surviving sources and repair symbols in random order and is asked to
 * decode after every symbol once it has K. Returns the number of symbols
 * it needed, 0 when it never decoded, -1 on wrong data.
 */
static int
round_trip(uint32_t k, uint32_t t, unsigned loss_pct, int *extra)
{
	uint32_t ids[RQ_MAX_K + RQ_MAX_K + RQ_REPAIR_SLACK], n = 0, i, nrep;
	uint8_t *src = xmalloc((size_t)k * t), *sym = xmalloc(t);
	struct rq_enc *enc;
	struct rq_dec *dec;
	int used = 0, rc;

	rng_fill(src, (size_t)k * t);
	enc = rq_enc_new(src, k, t, NULL);
	dec = rq_dec_new(k, t, NULL);
	for (i = 0; i < k; i++)
		if (rng_below(100) >= loss_pct)
			ids[n++] = i;
	/* Enough repair symbols to replace the lost ones, plus slack; ids
	 * from a random start so that large ESIs get exercised too. */
	nrep = (k - n) + RQ_REPAIR_SLACK;
	{
		uint32_t base =
		    k + (rng_below(4) == 0 ? rng_below(1u << 20) : 0);

		for (i = 0; i < nrep; i++)
			ids[n++] = base + i;
	}
	rng_shuffle(ids, n);
	for (i = 0; i < n; i++) {
		rq_enc_symbol(enc, ids[i], sym, NULL);
		rq_dec_add(dec, ids[i], sym, t, NULL);
		if (!rq_dec_ready(dec))
			continue;
		rc = rq_dec_decode(dec);
		if (rc == 1) {
			used = (int)i + 1;
			break;
		}
		if (rq_dec_source(dec, 0) != NULL && !rq_dec_received(dec, 0)) {
			used = -1; /* a failed decode must leave nothing */
			break;
		}
	}
	if (used > 0) {
		for (i = 0; i < k; i++)
			if (memcmp(rq_dec_source(dec, i), src + (size_t)i * t,
				t) != 0)
				used = -1;
		*extra = used - (int)k;
	}
	if (rq_dec_mem_peak(dec) > rq_dec_mem_bound(k, t))
		used = -1;
	rq_dec_free(dec);
	rq_enc_free(enc);
	free(src);
	free(sym);
	return used;
}

static void
test_round_trips(int trials)
{
	static const unsigned losses[] = {0, 10, 30, 60, 100};
	int i, r, wrong = 0, failed = 0, extra, hist[4] = {0};
	uint32_t k, t;

	for (i = 0; i < trials; i++) {
		k = 1 + rng_below(RQ_MAX_K);
		t = rng_below(8) == 0 ? 1 + rng_below(1500) : 1 + rng_below(64);
		extra = 0;
		r = round_trip(k, t, losses[rng_below(5)], &extra);
		if (r < 0)
			wrong++;
		else if (r == 0)
			failed++;
		else
			hist[extra < 3 ? extra : 3]++;
	}
	tap_is_int(wrong, 0, "%d random round trips: never wrong data", trials);
	tap_is_int(failed, 0, "... all decoded with up to K + %d symbols",
	    RQ_REPAIR_SLACK);
	tap_diag("symbols needed beyond K: 0: %d, 1: %d, 2: %d, more: %d",
	    hist[0], hist[1], hist[2], hist[3]);
}

/*
 * Exactly K symbols sometimes do not determine the block (RaptorQ fails
 * with a small probability at zero overhead). Find such sets for small K:
 * the decoder must report 0, hand out no missing symbol, and succeed
 * once more symbols come.
 */
static void
test_singular(void)
{
	uint8_t src[8 * 4], sym[4];
	uint32_t ids[8], k, i, n, extra_id;
	int found = 0, bad = 0, tries;
	struct rq_enc *enc;
	struct rq_dec *dec;

	for (tries = 0; tries < 4000 && found < 5; tries++) {
		k = 2 + rng_below(7);
		rng_fill(src, sizeof src);
		enc = rq_enc_new(src, k, 4, NULL);
		dec = rq_dec_new(k, 4, NULL);
		n = 0;
		for (i = 0; i < k; i++)
			ids[n++] = rng_below(2) ? i : k + rng_below(40);
		for (i = 0; i < n; i++) {
			rq_enc_symbol(enc, ids[i], sym, NULL);
			rq_dec_add(dec, ids[i], sym, 4, NULL);
		}
		if (rq_dec_ready(dec) && rq_dec_decode(dec) == 0) {
			found++;
			for (i = 0; i < k; i++)
				if (rq_dec_source(dec, i) != NULL &&
				    !rq_dec_received(dec, i))
					bad++;
			for (extra_id = 1000; !rq_dec_done(dec) &&
			     extra_id < 1000 + RQ_REPAIR_SLACK;
			     extra_id++) {
				rq_enc_symbol(enc, extra_id, sym, NULL);
				rq_dec_add(dec, extra_id, sym, 4, NULL);
				rq_dec_decode(dec);
			}
			for (i = 0; i < k; i++)
				if (rq_dec_source(dec, i) == NULL ||
				    memcmp(rq_dec_source(dec, i), src + i * 4,
					4) != 0)
					bad++;
		}
		rq_dec_free(dec);
		rq_enc_free(enc);
	}
	tap_ok(found > 0, "found %d singular sets of K symbols in %d tries",
	    found, tries);
	tap_is_int(bad, 0,
	    "singular sets: reported, nothing handed out, "
	    "decoded after more symbols");
}

/*
 * The decoder solves a reduced system (the missing sources, through the
 * encoder's table). Check it against the RFC's own decoding system, built
 * from the received symbols' ISIs and the padding and solved directly by
 * rq_solve(): both must succeed or fail on the same symbol sets, and agree
 * on the data. Sets of exactly K symbols for small K hit singular cases.
 */
static void
test_equivalence(int trials)
{
	uint32_t ids[RQ_MAX_K + 40], isi[RQ_MAX_L + 2 * RQ_MAX_K], k, t = 3;
	int32_t data[RQ_MAX_L + 2 * RQ_MAX_K];
	const uint8_t *sym[2 * RQ_MAX_K];
	uint8_t src[RQ_MAX_K * 3], syms[2 * RQ_MAX_K][3], w[2 * RQ_MAX_K];
	uint8_t out[3], *co;
	int i, same = 0, diff = 0, both_fail = 0, wrong = 0;
	uint32_t n, j, nd, ne;
	struct rq_params p;
	struct rq_enc *enc;
	struct rq_dec *dec;
	size_t mem;
	int a, b;

	for (i = 0; i < trials; i++) {
		k = i % 2 ? 1 + rng_below(RQ_MAX_K) : 1 + rng_below(6);
		rq_params_init(&p, k);
		rng_fill(src, (size_t)k * t);
		enc = rq_enc_new(src, k, t, NULL);
		dec = rq_dec_new(k, t, NULL);
		/* n distinct ids out of the sources and 40 repair ids. */
		n = k + (rng_below(3) == 0);
		for (j = 0; j < k + 40; j++)
			ids[j] = j;
		rng_shuffle(ids, k + 40);
		nd = ne = 0;
		for (j = 0; j < n; j++) {
			rq_enc_symbol(enc, ids[j], syms[j], NULL);
			if (rq_dec_add(dec, ids[j], syms[j], t, NULL) != 1)
				wrong++;
			isi[ne] = ids[j] < k ? ids[j] : ids[j] + p.kp - k;
			sym[nd] = syms[j];
			data[ne++] = (int32_t)nd++;
		}
		for (j = k; j < p.kp; j++) {
			isi[ne] = j;
			data[ne++] = -1;
		}
		co = xmalloc((size_t)p.l * (nd ? nd : 1));
		a = rq_solve(&p, isi, data, ne, nd, co, &mem) == 0;
		b = rq_dec_decode(dec) == 1;
		if (a != b)
			diff++;
		else if (!a)
			both_fail++;
		else
			same++;
		for (j = 0; a && b && j < k; j++) {
			rq_isi_coeffs(&p, co, nd, j, w);
			rq_gf_combine(out, w, sym, nd, t);
			if (memcmp(out, src + j * t, t) != 0 ||
			    memcmp(rq_dec_source(dec, j), src + j * t, t) != 0)
				wrong++;
		}
		free(co);
		rq_dec_free(dec);
		rq_enc_free(enc);
	}
	tap_ok(diff == 0 && wrong == 0,
	    "decoder and the RFC system agree on %d symbol sets (%d solved, "
	    "%d singular for both, %d differ, %d wrong)",
	    trials, same, both_fail, diff, wrong);
	tap_ok(both_fail > 0, "... including singular ones");
}

int
main(void)
{
	const char *s = getenv("MDNS_RQ_SEED"), *tr = getenv("MDNS_RQ_TRIALS");
	int trials = tr ? (int)strtol(tr, NULL, 10) : 400;

	rng_state = s ? strtoull(s, NULL, 0) : 0x5eed17u;
	tap_diag("seed 0x%llx (MDNS_RQ_SEED)", (unsigned long long)rng_state);
	test_gf();
	test_params();
	test_systematic();
	test_vectors();
	test_inputs();
	test_round_trips(trials > 0 ? trials : 400);
	test_equivalence(trials > 0 ? 5 * trials : 2000);
	test_singular();
	return tap_done();
}
