/* SPDX-License-Identifier: MIT */
/*
 * pool-pick.c — which active connections carry a query: the balancing
 * strategies 1–8 (upstream's selectors in internal/client/balancer.go),
 * k distinct picks for duplication, and per-stream routes (a preferred
 * connection with failover after repeated resends). Strategies 3–8 rank
 * through the pool's score tree (stree.h), so a pick is O(log n); 1–2 are
 * O(1). Strategy 6's candidate set is cached for 50 ms. Reads statistics,
 * never changes them.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/pool-int.h"

/* ---- balancing ---- */

static int
has_loss_signal(const struct pool *p)
{
	return p->n_loss_sig > 0;
}

static int
has_lat_signal(const struct pool *p)
{
	return p->n_lat_sig > 0;
}

/* Does the strategy have the signal it needs (else it is round robin)? */
static int
has_signal(const struct pool *p)
{
	switch (p->cfg.strategy) {
	case POOL_LEAST_LOSS:
	case POOL_LOSS_TOP_RANDOM:
	case POOL_LOSS_TOP_RR:
		return has_loss_signal(p);
	case POOL_LOWEST_LATENCY:
		return has_lat_signal(p);
	case POOL_HYBRID:
	case POOL_LOSS_THEN_LATENCY:
		return has_loss_signal(p) || has_lat_signal(p);
	default:
		return 0;
	}
}

static int
contains(const uint32_t *v, size_t n, uint32_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* Upstream selectRoundRobin: k consecutive active from the counter. */
static size_t
pick_rr(struct pool *p, size_t k, uint32_t *out)
{
	size_t i, start;

	start = (size_t)(p->rr % p->nact);
	p->rr += k;
	for (i = 0; i < k; i++)
		out[i] = p->act[(start + i) % p->nact];
	return k;
}

/*
 * Upstream selectRandom: k = 1 is one draw; k > 1 is a partial
 * Fisher-Yates over the active array, done virtually (a few swapped slots
 * remembered) so it costs O(k^2), not O(n).
 */
static size_t
pick_random(struct pool *p, size_t k, uint32_t *out)
{
	uint32_t pos[16], val[16];
	size_t i, j, m = 0, nsw = 0, n = p->nact;

	if (k == 1) {
		out[0] = p->act[pool_rnd(p) % n];
		return 1;
	}
	if (k > 16) {
		/* not the hot path: a real copy */
		uint32_t *v = xmalloc(n * sizeof(*v)), t;

		memcpy(v, p->act, n * sizeof(*v));
		for (i = 0; i < k; i++) {
			j = i + (size_t)(pool_rnd(p) % (n - i));
			t = v[i];
			v[i] = v[j];
			v[j] = t;
			out[i] = v[i];
		}
		free(v);
		return k;
	}
	for (i = 0; i < k; i++) {
		uint32_t vi = p->act[i], vj;

		j = i + (size_t)(pool_rnd(p) % (n - i));
		vj = p->act[j];
		for (m = 0; m < nsw; m++) {
			if (pos[m] == i)
				vi = val[m];
			if (pos[m] == j)
				vj = val[m];
		}
		out[i] = vj;
		/* slot j now holds vi */
		for (m = 0; m < nsw && pos[m] != j; m++)
			;
		if (m == nsw)
			pos[nsw++] = (uint32_t)j;
		val[m] = vi;
	}
	return k;
}

/*
 * Strategies 3-5: the k lowest scores. Ties in the lowest tier rotate with
 * the round-robin counter (upstream scans from a rotating start), the rest
 * follow in score order. excl (or NIL) is skipped.
 */
static size_t
pick_lowest(struct pool *p, size_t k, uint32_t *out, uint32_t excl)
{
	uint32_t n = stree_size_excl(&p->tree, excl), first, tier, i, start;
	uint64_t s;

	if (n == 0)
		return 0;
	if (k > n)
		k = n;
	first = stree_select_skip(&p->tree, 0, excl);
	s = p->tn[first].key >> 32;
	tier = stree_rank(&p->tree, (s + 1) << 32);
	if (excl != NIL && p->tn[excl].in && (p->tn[excl].key >> 32) <= s)
		tier--; /* excl was counted by the rank */
	start = (uint32_t)(p->rr % tier);
	p->rr += k;
	for (i = 0; i < k; i++) {
		uint32_t r = i < tier ? (start + i) % tier : i;

		out[i] = stree_select_skip(&p->tree, r, excl);
	}
	return k;
}

/* Strategies 7/8: the tier is the max(2, ceil(n/10)) lowest losses. */
static uint32_t
top_tier(uint32_t n)
{
	uint32_t t = (n + 9) / 10;

	if (t < 2)
		t = 2;
	return t > n ? n : t;
}

/* Strategy 6 candidates (upstream lossThenLatencyCandidates), cached. */
static void
build_cand(struct pool *p)
{
	uint64_t best_loss, cutoff, best_lat = UINT64_MAX, tol, lc;
	uint32_t m, i, n = stree_size(&p->tree);

	p->ncand = 0;
	p->cand_valid = 1;
	p->cand_at = p->last_now;
	if (n == 0)
		return;
	if (p->cand == NULL)
		p->cand = xmalloc(p->n * sizeof(*p->cand));
	best_loss = p->tn[stree_select(&p->tree, 0)].key >> 32;
	cutoff = best_loss + (best_loss >= LOSS_UNKNOWN ? 0 : 25);
	m = 0;
	stree_collect(&p->tree, (cutoff + 1) << 32, p->cand, &m);
	for (i = 0; i < m; i++) {
		uint64_t l = pool_lat_penalty(&p->c[p->cand[i]]);

		if (l < best_lat)
			best_lat = l;
	}
	if (best_lat >= 200) {
		tol = 0;
	} else {
		tol = best_lat / 4;
		if (tol < 2)
			tol = 2;
		if (tol > 25)
			tol = 25;
	}
	lc = best_lat + tol;
	for (i = 0; i < m; i++)
		if (pool_lat_penalty(&p->c[p->cand[i]]) <= lc)
			p->cand[p->ncand++] = p->cand[i];
}

/* Rebuilt when the active set changed, else at most every 50 ms. */
#define CAND_TTL_US 50000

static void
ensure_cand(struct pool *p)
{
	if (!p->cand_valid || p->last_now - p->cand_at >= CAND_TTL_US ||
	    p->last_now < p->cand_at)
		build_cand(p);
}

/* Fill out[have..k) with tree ranks from 0 upward, skipping taken/excl. */
static size_t
top_up(struct pool *p, size_t have, size_t k, uint32_t *out, uint32_t excl)
{
	uint32_t r, n = stree_size(&p->tree);

	for (r = 0; r < n && have < k; r++) {
		uint32_t id = stree_select(&p->tree, r);

		if (id != excl && !contains(out, have, id))
			out[have++] = id;
	}
	return have;
}

/* Strategies 6-8 with signal; 0 when the pool is empty (caller falls back). */
static size_t
pick_pool(struct pool *p, size_t k, uint32_t *out, uint32_t excl)
{
	uint32_t n, tier, i, have = 0, guard;

	if (p->cfg.strategy == POOL_LOSS_THEN_LATENCY) {
		uint32_t m;

		ensure_cand(p);
		m = p->ncand -
		    (excl != NIL && contains(p->cand, p->ncand, excl) ? 1 : 0);
		if (m == 0)
			return 0;
		for (guard = 0; have < k && have < m && guard < 64 * k;
		     guard++) {
			uint32_t id = p->cand[pool_rnd(p) % p->ncand];

			if (id != excl && !contains(out, have, id))
				out[have++] = id;
		}
		for (i = 0; i < p->ncand && have < k && have < m; i++)
			if (p->cand[i] != excl &&
			    !contains(out, have, p->cand[i]))
				out[have++] = p->cand[i];
		return top_up(p, have, k, out, excl);
	}
	n = stree_size_excl(&p->tree, excl);
	if (n == 0)
		return 0;
	tier = top_tier(n);
	if (p->cfg.strategy == POOL_LOSS_TOP_RR) {
		uint32_t start = 0, cnt = k < tier ? (uint32_t)k : tier;

		if (k < tier) {
			start = (uint32_t)(p->rr % tier);
			p->rr += k;
		}
		for (i = 0; i < cnt; i++)
			out[have++] = stree_select_skip(
			    &p->tree, (start + i) % tier, excl);
	} else if (k >= tier) {
		for (i = 0; i < tier; i++)
			out[have++] = stree_select_skip(&p->tree, i, excl);
	} else {
		while (have < k) {
			uint32_t id = stree_select_skip(
			    &p->tree, (uint32_t)(pool_rnd(p) % tier), excl);

			if (!contains(out, have, id))
				out[have++] = id;
		}
	}
	return top_up(p, have, k, out, excl);
}

/* Upstream getUniqueConnections(k): k distinct active connections. */
static size_t
pick(struct pool *p, size_t k, uint32_t *out)
{
	size_t got;

	if (p->nact == 0 || k == 0)
		return 0;
	if (k > p->nact)
		k = p->nact;
	switch (p->cfg.strategy) {
	case POOL_RANDOM:
		return pick_random(p, k, out);
	case POOL_LEAST_LOSS:
	case POOL_LOWEST_LATENCY:
	case POOL_HYBRID:
		if (!has_signal(p))
			return pick_rr(p, k, out);
		return pick_lowest(p, k, out, NIL);
	case POOL_LOSS_THEN_LATENCY:
	case POOL_LOSS_TOP_RANDOM:
	case POOL_LOSS_TOP_RR:
		if (!has_signal(p))
			return pick_rr(p, k, out);
		got = pick_pool(p, k, out, NIL);
		return got ? got : pick_rr(p, k, out);
	default:
		return pick_rr(p, k, out);
	}
}

/*
 * Exploration (issue 16). A connection's loss is unknown until it was
 * sent POOL_KNOWN_SENDS queries, and upstream scores it 200 (20 %) until
 * then; once the others measure lower, the loss strategies never pick it
 * again and it is never measured (five resolvers at duplication 3 left
 * one without a single query). So while an active connection is
 * unknown, the last copy of a duplicated query goes to one (rotating
 * over them), and without duplication one query in EXPLORE_EVERY does.
 * A few queries per new resolver; none once every loss is known.
 */
#define POOL_KNOWN_SENDS 5
#define EXPLORE_EVERY	 16

static int
unknown(const struct pool *p, uint32_t id)
{
	return p->c[id].s_sent < POOL_KNOWN_SENDS;
}

static void
explore(struct pool *p, uint32_t *out, size_t n)
{
	uint32_t i, id;

	if (n == 0 || p->cfg.strategy < POOL_LEAST_LOSS || !has_signal(p) ||
	    p->n_loss_sig >= p->nact)
		return;
	for (i = 0; i < n; i++)
		if (unknown(p, out[i]))
			return;
	if (n == 1 && p->explore_n++ % EXPLORE_EVERY != EXPLORE_EVERY - 1)
		return;
	for (i = 0; i < p->nact; i++) {
		id = p->act[(p->explore_at + i) % p->nact];
		if (unknown(p, id)) {
			p->explore_at = (p->explore_at + i + 1) % p->nact;
			out[n - 1] = id;
			return;
		}
	}
}

size_t
pool_pick(struct pool *p, size_t k, uint32_t *out)
{
	size_t got = pick(p, k, out);

	explore(p, out, got);
	return got;
}

/* Upstream roundRobinBestConnectionExcluding. */
static uint32_t
rr_excluding(struct pool *p, uint32_t excl)
{
	size_t start = (size_t)(p->rr++ % p->nact);

	if (p->act[start] != excl)
		return p->act[start];
	return p->nact > 1 ? p->act[(start + 1) % p->nact] : NIL;
}

/* Upstream getBestConnectionExcluding. */
static uint32_t
best_excluding(struct pool *p, uint32_t excl)
{
	uint32_t id;

	if (p->nact == 0)
		return NIL;
	switch (p->cfg.strategy) {
	case POOL_LEAST_LOSS:
	case POOL_LOWEST_LATENCY:
	case POOL_HYBRID:
		if (has_signal(p) && pick_lowest(p, 1, &id, excl) == 1)
			return id;
		return rr_excluding(p, excl);
	case POOL_LOSS_THEN_LATENCY:
	case POOL_LOSS_TOP_RANDOM:
	case POOL_LOSS_TOP_RR:
		if (has_signal(p) && pick_pool(p, 1, &id, excl) == 1)
			return id;
		return rr_excluding(p, excl);
	default:
		return rr_excluding(p, excl);
	}
}

/* Upstream selectAlternateConnection. */
static uint32_t
alternate(struct pool *p, uint32_t excl)
{
	uint32_t id = best_excluding(p, excl);

	if (id != NIL)
		return id;
	if (pick(p, 1, &id) == 1 && id != excl)
		return id;
	return NIL;
}

/* Upstream selectInitialPreferredConnection (a new stream's resolver). */
static uint32_t
initial(struct pool *p)
{
	uint32_t id;

	if (p->nact == 0)
		return NIL;
	if (p->use_tree && has_signal(p) && p->cfg.strategy <= POOL_HYBRID) {
		uint32_t top =
		    stree_size(&p->tree) < 10 ? stree_size(&p->tree) : 10;

		return stree_select(&p->tree, (uint32_t)(pool_rnd(p) % top));
	}
	if (pick(p, 1, &id) == 1)
		return id;
	return NIL;
}

unsigned
pool_dup_count(const struct pool *p, enum pool_frame cls)
{
	unsigned k = p->cfg.dup;

	if (cls == POOL_FRAME_SETUP && p->cfg.setup_dup > k)
		k = p->cfg.setup_dup;
	if (cls == POOL_FRAME_PING && k > 2)
		k = 2;
	return k;
}

static struct route *
route(struct pool *p, uint16_t stream)
{
	if (p->routes == NULL)
		p->routes = xcalloc(65536, sizeof(*p->routes));
	return &p->routes[stream];
}

void
pool_stream_open(struct pool *p, uint16_t stream)
{
	struct route *r;

	if (stream == 0)
		return;
	r = route(p, stream);
	if (!r->exists) {
		memset(r, 0, sizeof(*r));
		r->pref = NIL;
		r->exists = 1;
	}
}

void
pool_stream_progress(struct pool *p, uint16_t stream)
{
	if (stream != 0 && p->routes != NULL && p->routes[stream].exists)
		p->routes[stream].streak = 0;
}

void
pool_stream_close(struct pool *p, uint16_t stream)
{
	if (stream != 0 && p->routes != NULL)
		memset(&p->routes[stream], 0, sizeof(p->routes[stream]));
}

static int
pref_valid(const struct pool *p, const struct route *r)
{
	return r->pref != NIL && pool_is_active(p, r->pref) &&
	    p->l[r->pref].epoch == r->pref_epoch;
}

uint32_t
pool_stream_preferred(const struct pool *p, uint16_t stream)
{
	const struct route *r;

	if (stream == 0 || p->routes == NULL || !p->routes[stream].exists)
		return POOL_NONE;
	r = &p->routes[stream];
	return pref_valid(p, r) ? r->pref : POOL_NONE;
}

static void
set_pref(struct pool *p, struct route *r, uint32_t id)
{
	r->pref = id;
	r->pref_epoch = p->l[id].epoch;
	r->streak = 0;
}

/* Unanswered queries in a row after which a resolver counts as silent. */
#define POOL_SILENT_RUN 3

/* Upstream selectPreferredConnectionForStream. */
static uint32_t
preferred(struct pool *p, struct route *r, enum pool_frame cls, uint64_t now)
{
	uint32_t id;

	if (cls == POOL_FRAME_STREAM_RESEND) {
		r->streak++;
		if (pref_valid(p, r)) {
			/*
			 * A preferred resolver whose last POOL_SILENT_RUN
			 * queries all went unanswered is not answering: the
			 * retransmission leaves it now, whatever the streak
			 * and the cooldown say (issue 16: loss on one
			 * resolver must not hold back a stream).
			 */
			int silent = p->l[r->pref].streak_n >= POOL_SILENT_RUN;

			if (!silent &&
			    (r->streak < p->cfg.failover_resends ||
				(r->failed_over &&
				    now - r->last_failover <
					p->cfg.failover_cooldown_us)))
				return r->pref;
			id = alternate(p, r->pref);
			if (id == NIL)
				return r->pref;
			set_pref(p, r, id);
			r->failed_over = 1;
			r->last_failover = now;
			return id;
		}
	}
	if (pref_valid(p, r))
		return r->pref;
	/* none yet, or its resolver left the active set (upstream clears the
	 * reference then, so this is an initial choice again) */
	id = initial(p);
	if (id != NIL)
		set_pref(p, r, id);
	return id;
}

size_t
pool_select(struct pool *p, enum pool_frame cls, uint16_t stream, uint64_t now,
    uint32_t *out, size_t cap)
{
	uint32_t tmp[17], pref;
	size_t k = pool_dup_count(p, cls), got, i, n = 1;
	struct route *r;

	p->last_now = now;
	if (k > p->nact)
		k = p->nact;
	if (k > cap)
		k = cap;
	if (k > 16)
		k = 16;
	if (k == 0)
		return 0;
	if (k == 1 || stream == 0 ||
	    (cls != POOL_FRAME_STREAM_DATA &&
		cls != POOL_FRAME_STREAM_RESEND) ||
	    p->routes == NULL || !p->routes[stream].exists)
		return pool_pick(p, k, out);
	r = &p->routes[stream];
	pref = preferred(p, r, cls, now);
	if (pref == NIL)
		return pool_pick(p, k, out);
	out[0] = pref;
	got = pick(p, k, tmp);
	for (i = 0; i < got && n < k; i++)
		if (tmp[i] != pref)
			out[n++] = tmp[i];
	explore(p, out, n);
	return n;
}
