/* SPDX-License-Identifier: MIT */
/*
 * pool.c — the client's resolver pool (see pool.h and docs/pool.md): the
 * connections (resolver × domain) and their statistics and scores, the
 * active set, the states and their reasons, the fast start (MTU test
 * results, ready rule, synced MTUs, outlier drops), auto-disable, and the
 * confirm and recheck scheduling. Each active connection sits in the
 * score tree (stree.h) keyed by its strategy score, re-keyed whenever a
 * statistic moves it.
 *
 * Split by concern: queries in flight in pool-pend.c, the strategies and
 * stream routes in pool-pick.c, events and the STATUS export in
 * pool-status.c, upstream's tables and the outlier rule in pool-tables.c,
 * the MTU probes in pool-probe.c. It does not send or receive anything,
 * read a clock, log, or allocate on the per-query path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pool-int.h"

#define HALF_LIFE 1000

static void rhash_build(struct pool *p);

/* Seconds (finite, clamped by the model) as microseconds. */
static uint64_t
sec_us(double s)
{
	return s > 0 ? (uint64_t)(s * 1000000.0) : 0;
}

void
pool_cfg_from(struct pool_cfg *c, const struct cfg_client *in)
{
	memset(c, 0, sizeof(*c));
	c->strategy = in->strategy;
	c->dup = in->dup;
	c->setup_dup = in->setup_dup;
	c->failover_resends = in->failover_resends;
	c->failover_cooldown_us = sec_us(in->failover_cooldown_s);
	c->auto_disable = in->auto_disable;
	c->disable_window_us = sec_us(in->disable_window_s);
	c->packet_timeout_us = sec_us(in->packet_timeout_s);
	c->recheck = in->recheck;
	c->remove_low_mtu = in->remove_low_mtu;
	c->mtu_test_timeout_us = sec_us(in->mtu_timeout_s);
	c->mtu_parallelism = in->mtu_parallelism;
	c->start_parallelism = in->start_parallelism;
	c->ready_min = in->ready_min;
	c->ready_wait_us = sec_us(in->ready_wait_s);
	/* No upstream key: our own constants. */
	c->confirm_down = 1;
	c->pending_cap = 12288;
	c->event_cap = 4096;
}

void
pool_cfg_default(struct pool_cfg *c)
{
	struct cfg_client d;

	cfg_client_defaults(&d);
	pool_cfg_from(c, &d);
	cfg_client_clear(&d);
}

uint64_t
pool_rnd(struct pool *p)
{
	uint64_t v = p->rng;

	if (v == 0)
		v = 0x9e3779b97f4a7c15ull;
	v ^= v << 13;
	v ^= v >> 7;
	v ^= v << 17;
	p->rng = v;
	return v;
}

uint64_t
pool_recheck_timeout(const struct pool *p)
{
	uint64_t t =
	    p->cfg.mtu_test_timeout_us ? p->cfg.mtu_test_timeout_us : S(4);
	size_t a = p->nact ? p->nact : 1;
	uint64_t fl = 0;

	if (a <= 3)
		fl = S(7);
	else if (a <= 5)
		fl = S(6);
	else if (a <= 8)
		fl = MS(5500);
	else if (a <= 10)
		fl = S(5);
	else if (a <= 15)
		fl = MS(4500);
	return t < fl ? fl : t;
}

uint64_t
pool_request_timeout(const struct pool *p)
{
	uint64_t t = p->cfg.packet_timeout_us ? p->cfg.packet_timeout_us : S(5);
	uint64_t ci = pool_check_interval_us(p->nact, p->cfg.disable_window_us);
	uint64_t w = p->cfg.disable_window_us;

	if (ci > 0 && ci < t)
		t = ci;
	if (w > 0 && w < t)
		t = w;
	if (t < MS(500))
		t = MS(500);
	return t;
}

/* ---- scores (upstream's integer scores; lower is better) ---- */

uint64_t
pool_loss_score(const struct pool_conn *c)
{
	if (c->s_sent < 5)
		return LOSS_UNKNOWN;
	if (c->s_lost == 0)
		return 0;
	return c->s_lost * 1000 / c->s_sent;
}

static uint64_t
lat_score(const struct pool_conn *c)
{
	if (c->rtt_n < 5)
		return LAT_UNKNOWN;
	return c->rtt_sum_us / c->rtt_n;
}

uint64_t
pool_lat_penalty(const struct pool_conn *c)
{
	uint64_t l = lat_score(c);

	if (l == LAT_UNKNOWN)
		return 200;
	l /= 1000;
	return l > 1000 ? 1000 : l;
}

static uint64_t
score(const struct pool *p, const struct pool_conn *c)
{
	uint64_t s;

	switch (p->cfg.strategy) {
	case POOL_LOWEST_LATENCY:
		s = lat_score(c);
		break;
	case POOL_HYBRID:
		s = pool_loss_score(c) * 8 + pool_lat_penalty(c);
		break;
	default:
		s = pool_loss_score(c);
		break;
	}
	return s > 0xffffffffull ? 0xffffffffull : s;
}

/* ---- statistics bookkeeping ---- */

int
pool_is_active(const struct pool *p, uint32_t id)
{
	return id < p->n && p->c[id].state == POOL_ACTIVE;
}

/* The tree key of a connection: its score, ties broken by id. */
static uint64_t
tree_key(const struct pool *p, uint32_t id)
{
	return score(p, &p->c[id]) << 32 | id;
}

/* Before a scoring counter changes: remember signals; after: re-key. */
struct snap {
	int loss_sig, lat_sig;
};

static struct snap
stat_begin(const struct pool_conn *c)
{
	struct snap s = {c->s_sent >= 5, c->rtt_n >= 5};

	return s;
}

static void
stat_end(struct pool *p, uint32_t id, struct snap s)
{
	struct pool_conn *c = &p->c[id];

	if (c->s_sent > HALF_LIFE || c->s_acked > HALF_LIFE ||
	    c->s_lost > HALF_LIFE || c->rtt_n > HALF_LIFE) {
		c->s_sent /= 2;
		c->s_acked /= 2;
		c->s_lost /= 2;
		c->rtt_sum_us /= 2;
		c->rtt_n /= 2;
	}
	if (c->state != POOL_ACTIVE)
		return;
	p->n_loss_sig += (c->s_sent >= 5) - s.loss_sig;
	p->n_lat_sig += (c->rtt_n >= 5) - s.lat_sig;
	if (p->tn[id].in && (p->tn[id].key >> 32) != score(p, c)) {
		stree_erase(&p->tree, id);
		stree_insert(&p->tree, id, tree_key(p, id));
	}
}

static void
win_add(struct pool *p, struct pool_link *l, uint64_t now, int ok, int delta)
{
	uint64_t width = p->cfg.disable_window_us / NBUCKET, b, e;

	if (width == 0)
		width = 1;
	b = now / width;
	if (b > l->w_epoch) {
		for (e = l->w_epoch + 1; e <= b && e <= l->w_epoch + NBUCKET;
		     e++) {
			l->w_ok[e % NBUCKET] = 0;
			l->w_bad[e % NBUCKET] = 0;
		}
		l->w_epoch = b;
	}
	if (ok)
		l->w_ok[l->w_epoch % NBUCKET] += delta;
	else if (delta > 0)
		l->w_bad[l->w_epoch % NBUCKET]++;
	else if (l->w_bad[l->w_epoch % NBUCKET] > 0)
		l->w_bad[l->w_epoch % NBUCKET]--;
}

double
pool_conn_loss(const struct pool *p, uint32_t id, uint64_t now)
{
	const struct pool_link *l;
	uint64_t width = p->cfg.disable_window_us / NBUCKET, b, e, ok = 0,
		 bad = 0;

	if (id >= p->n)
		return 0;
	l = &p->l[id];
	if (width == 0)
		width = 1;
	b = now / width;
	for (e = l->w_epoch + 1 >= NBUCKET ? l->w_epoch + 1 - NBUCKET : 0;
	     e <= l->w_epoch; e++) {
		if (e + NBUCKET <= b)
			continue;
		ok += l->w_ok[e % NBUCKET];
		bad += l->w_bad[e % NBUCKET];
	}
	return ok + bad ? (double)bad / (double)(ok + bad) : 0;
}

uint64_t
pool_conn_rtt_us(const struct pool *p, uint32_t id)
{
	if (id >= p->n || p->c[id].rtt_n == 0)
		return 0;
	return p->c[id].rtt_sum_us / p->c[id].rtt_n;
}

/* ---- state changes ---- */

static void
set_state(struct pool *p, uint32_t id, enum pool_state s)
{
	p->cnt[p->c[id].state]--;
	p->c[id].state = s;
	p->cnt[s]++;
}

static void
fifo_push(struct pool *p, uint32_t id)
{
	struct pool_link *l = &p->l[id];

	if (l->in_fifo)
		return;
	l->in_prev = p->in_tail;
	l->in_next = NIL;
	if (p->in_tail != NIL)
		p->l[p->in_tail].in_next = id;
	else
		p->in_head = id;
	p->in_tail = id;
	l->in_fifo = 1;
}

static void
fifo_remove(struct pool *p, uint32_t id)
{
	struct pool_link *l = &p->l[id];

	if (!l->in_fifo)
		return;
	if (l->in_prev != NIL)
		p->l[l->in_prev].in_next = l->in_next;
	else
		p->in_head = l->in_next;
	if (l->in_next != NIL)
		p->l[l->in_next].in_prev = l->in_prev;
	else
		p->in_tail = l->in_prev;
	l->in_fifo = 0;
}

static void
activate(struct pool *p, uint32_t id)
{
	struct pool_conn *c = &p->c[id];
	struct pool_link *l = &p->l[id];

	fifo_remove(p, id);
	set_state(p, id, POOL_ACTIVE);
	c->reason[0] = '\0';
	l->act_pos = p->nact;
	p->act[p->nact++] = id;
	l->streak_n = 0;
	l->confirming = 0;
	p->n_loss_sig += c->s_sent >= 5;
	p->n_lat_sig += c->rtt_n >= 5;
	if (p->use_tree)
		stree_insert(&p->tree, id, tree_key(p, id));
	p->cand_valid = 0;
}

/* Leave ACTIVE for s (DISABLED or REJECTED) with a reason. */
static void
deactivate(struct pool *p, uint32_t id, enum pool_state s, uint64_t now,
    const char *why)
{
	struct pool_conn *c = &p->c[id];
	struct pool_link *l = &p->l[id];
	uint32_t last;

	if (c->state == POOL_ACTIVE) {
		last = p->act[--p->nact];
		p->act[l->act_pos] = last;
		p->l[last].act_pos = l->act_pos;
		p->n_loss_sig -= c->s_sent >= 5;
		p->n_lat_sig -= c->rtt_n >= 5;
		if (p->tn[id].in)
			stree_erase(&p->tree, id);
		l->epoch++;
		p->cand_valid = 0;
	}
	set_state(p, id, s);
	snprintf(c->reason, sizeof(c->reason), "%s", why);
	l->streak_n = 0;
	if (l->confirming)
		l->checking = 0; /* a pending confirm is moot */
	l->confirming = 0;
	c->last_check_us = now;
	fifo_push(p, id);
}

/* Upstream's SeedConservativeStats for connections that join live. */
static void
seed_stats(struct pool *p, uint32_t id)
{
	struct pool_conn *c = &p->c[id];

	c->s_sent = 10;
	c->s_acked = 8;
	c->s_lost = 0;
	c->rtt_sum_us = 0;
	c->rtt_n = 0;
}

/* ---- construction ---- */

struct pool *
pool_new(const struct pool_cfg *cfg, const union net_addr *resolvers,
    size_t nres, const char *const *domains, size_t ndom, uint64_t now,
    struct err *e)
{
	struct pool *p;
	size_t i, n;

	if (nres == 0 || ndom == 0) {
		err_set(e, "pool: no %s", nres == 0 ? "resolvers" : "domains");
		return NULL;
	}
	if (nres > (1u << 31) / ndom) {
		err_set(e, "pool: %zu resolvers x %zu domains is too many",
		    nres, ndom);
		return NULL;
	}
	if (cfg->strategy < 0 || cfg->strategy > 8) {
		err_set(e, "pool: balancing strategy %d outside 0..8",
		    cfg->strategy);
		return NULL;
	}
	n = nres * ndom;
	p = xcalloc(1, sizeof(*p));
	p->cfg = *cfg;
	if (p->cfg.dup < 1)
		p->cfg.dup = 1;
	if (p->cfg.failover_resends < 1)
		p->cfg.failover_resends = 1;
	if (p->cfg.mtu_parallelism < 1)
		p->cfg.mtu_parallelism = 1;
	if (p->cfg.pending_cap < 16)
		p->cfg.pending_cap = 16;
	p->res = xcalloc(nres, sizeof(*p->res));
	memcpy(p->res, resolvers, nres * sizeof(*p->res));
	p->nres = nres;
	rhash_build(p);
	p->dom = xcalloc(ndom, sizeof(*p->dom));
	for (i = 0; i < ndom; i++)
		p->dom[i] = xstrdup(domains[i]);
	p->ndom = ndom;
	p->n = (uint32_t)n;
	p->c = xcalloc(n, sizeof(*p->c));
	p->l = xcalloc(n, sizeof(*p->l));
	p->tn = xcalloc(n, sizeof(*p->tn));
	p->act = xcalloc(n, sizeof(*p->act));
	p->passed = xcalloc(n, sizeof(*p->passed));
	p->start = p->last_now = now;
	p->rng = cfg->seed ? cfg->seed : 0x2545f4914f6cdd1dull;
	p->use_tree = cfg->strategy >= POOL_LEAST_LOSS;
	stree_init(&p->tree, p->tn, n);
	p->in_head = p->in_tail = NIL;
	for (i = 0; i < n; i++) {
		struct pool_conn *c = &p->c[i];

		c->resolver = (uint32_t)(i / ndom);
		c->domain = (uint32_t)(i % ndom);
		c->state = POOL_TESTING;
		snprintf(c->reason, sizeof(c->reason),
		    "waiting for its MTU "
		    "test");
		p->tn[i].prio = (uint32_t)pool_rnd(p);
		p->l[i].in_prev = p->l[i].in_next = NIL;
	}
	p->cnt[POOL_TESTING] = n;
	pool_pend_init(p);
	if (p->cfg.event_cap)
		p->ev = xcalloc(p->cfg.event_cap, sizeof(*p->ev));
	return p;
}

void
pool_free(struct pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ndom; i++)
		free(p->dom[i]);
	free(p->dom);
	free(p->res);
	hmap_free(&p->rhash);
	free(p->c);
	free(p->l);
	free(p->tn);
	free(p->act);
	free(p->passed);
	free(p->cand);
	free(p->confirm);
	free(p->pe);
	hmap_free(&p->pend_map);
	free(p->routes);
	free(p->ev);
	pool_probe_free_all(p);
	free(p);
}

size_t
pool_size(const struct pool *p)
{
	return p->n;
}

const struct pool_conn *
pool_conn(const struct pool *p, uint32_t id)
{
	return id < p->n ? &p->c[id] : NULL;
}

const union net_addr *
pool_conn_addr(const struct pool *p, uint32_t id)
{
	return id < p->n ? &p->res[p->c[id].resolver] : NULL;
}

const char *
pool_conn_domain(const struct pool *p, uint32_t id)
{
	return id < p->n ? p->dom[p->c[id].domain] : NULL;
}

/* Resolver address -> index (common/hmap.h); duplicates: the first. */
static void
rhash_build(struct pool *p)
{
	uint32_t i;

	hmap_reserve(&p->rhash, p->nres);
	for (i = 0; i < p->nres; i++)
		if (pool_resolver_find(p, &p->res[i]) < 0)
			hmap_put(&p->rhash, net_addr_hash(&p->res[i]), i);
}

long
pool_resolver_find(const struct pool *p, const union net_addr *a)
{
	struct hmap_it it;
	uint32_t v;

	for (v = hmap_find(&p->rhash, net_addr_hash(a), &it); v != HMAP_NONE;
	     v = hmap_find_next(&p->rhash, &it))
		if (net_addr_equal(&p->res[v], a))
			return (long)v;
	return -1;
}

/* ---- MTU tests and fast start ---- */

static void
reject(struct pool *p, uint32_t id, uint64_t now, const char *why)
{
	deactivate(p, id, POOL_REJECTED, now, why);
	pool_push_event(p, POOL_EV_REJECTED, id, now, why);
}

static void
go_ready(struct pool *p, uint64_t now)
{
	unsigned *up, *down, tu, td;
	uint8_t *drop;
	size_t i, n = p->npassed;
	char why[POOL_REASON_MAX];

	up = xmalloc(n * sizeof(*up));
	down = xmalloc(n * sizeof(*down));
	drop = xcalloc(n, 1);
	for (i = 0; i < n; i++) {
		up[i] = p->c[p->passed[i]].up_mtu;
		down[i] = p->c[p->passed[i]].down_mtu;
	}
	if (p->cfg.remove_low_mtu)
		pool_outlier_filter(up, down, n, drop, &tu, &td);
	p->sync_up = p->sync_down = 0;
	for (i = 0; i < n; i++) {
		uint32_t id = p->passed[i];

		p->l[id].passed = 0;
		if (drop[i]) {
			int o = snprintf(why, sizeof(why), "low-MTU outlier:");

			if (tu && up[i] < tu)
				o += snprintf(why + o, sizeof(why) - o,
				    " upload %u < target %u", up[i], tu);
			if (td && down[i] < td)
				snprintf(why + o, sizeof(why) - o,
				    " download %u < target %u", down[i], td);
			reject(p, id, now, why);
			continue;
		}
		if (p->sync_up == 0 || up[i] < p->sync_up)
			p->sync_up = up[i];
		if (p->sync_down == 0 || down[i] < p->sync_down)
			p->sync_down = down[i];
	}
	for (i = 0; i < n; i++) {
		uint32_t id = p->passed[i];

		if (drop[i])
			continue;
		activate(p, id);
		snprintf(why, sizeof(why),
		    "in the working set (upload %u, "
		    "download %u)",
		    up[i], down[i]);
		pool_push_event(p, POOL_EV_ENABLED, id, now, why);
	}
	p->npassed = 0;
	p->ready = 1;
	p->next_poll = now;
	free(up);
	free(down);
	free(drop);
}

void
pool_check_ready(struct pool *p, uint64_t now)
{
	uint32_t need;
	int all_tested;

	if (p->ready || p->npassed == 0)
		return;
	all_tested = p->next_test == p->n && p->tests_in_flight == 0;
	need = p->cfg.ready_min;
	if (need == 0) {
		if (all_tested)
			go_ready(p, now);
		return;
	}
	if (need > p->n)
		need = p->n;
	if (p->npassed >= need || all_tested ||
	    now - p->start >= p->cfg.ready_wait_us)
		go_ready(p, now);
}

int
pool_ready(struct pool *p, uint64_t now, unsigned *up, unsigned *down)
{
	p->last_now = now;
	pool_check_ready(p, now);
	if (p->ready) {
		if (up)
			*up = p->sync_up;
		if (down)
			*down = p->sync_down;
	}
	return p->ready;
}

int
pool_failed(const struct pool *p)
{
	return !p->ready && p->npassed == 0 && p->next_test == p->n &&
	    p->tests_in_flight == 0;
}

void
pool_synced(const struct pool *p, unsigned *up, unsigned *down)
{
	*up = p->ready ? p->sync_up : 0;
	*down = p->ready ? p->sync_down : 0;
}

size_t
pool_mtu_test_next(struct pool *p, uint64_t now, uint32_t *out, size_t max)
{
	uint32_t limit = p->cfg.mtu_parallelism;
	size_t k = 0;

	p->last_now = now;
	if (!p->ready && p->cfg.start_parallelism > limit)
		limit = p->cfg.start_parallelism;
	while (k < max && p->tests_in_flight < limit && p->next_test < p->n) {
		uint32_t id = p->next_test++;
		struct pool_conn *c = &p->c[id];

		p->l[id].testing = 1;
		snprintf(c->reason, sizeof(c->reason), "MTU test running");
		p->tests_in_flight++;
		out[k++] = id;
	}
	return k;
}

int
pool_mtu_result(struct pool *p, uint32_t id, int ok, unsigned up, unsigned down,
    const char *why, uint64_t now, struct err *e)
{
	struct pool_conn *c;
	char r[POOL_REASON_MAX];

	if (id >= p->n || !p->l[id].testing)
		return err_set(
		    e, "pool: connection %u is not under an MTU test", id);
	p->last_now = now;
	c = &p->c[id];
	p->l[id].testing = 0;
	p->tests_in_flight--;
	if (ok && (up == 0 || down == 0)) {
		ok = 0;
		why = "MTU test passed with a zero MTU";
	}
	if (!ok) {
		reject(p, id, now, why && *why ? why : "MTU test failed");
		pool_check_ready(p, now);
		return 0;
	}
	c->up_mtu = up;
	c->down_mtu = down;
	if (!p->ready) {
		p->l[id].passed = 1;
		p->passed[p->npassed++] = id;
		snprintf(c->reason, sizeof(c->reason),
		    "passed (upload %u, "
		    "download %u), waiting for the working set",
		    up, down);
		pool_check_ready(p, now);
		return 0;
	}
	if (up < p->sync_up) {
		snprintf(
		    r, sizeof(r), "upload MTU %u < synced %u", up, p->sync_up);
		reject(p, id, now, r);
		return 0;
	}
	if (down < p->sync_down) {
		snprintf(r, sizeof(r), "download MTU %u < synced %u", down,
		    p->sync_down);
		reject(p, id, now, r);
		return 0;
	}
	seed_stats(p, id);
	activate(p, id);
	snprintf(r, sizeof(r),
	    "joined live (upload %u >= %u, download %u >= "
	    "%u)",
	    up, p->sync_up, down, p->sync_down);
	pool_push_event(p, POOL_EV_ENABLED, id, now, r);
	return 0;
}

/* ---- auto-disable ---- */

static void
window_text(const struct pool *p, char *buf, size_t len)
{
	uint64_t w = p->cfg.disable_window_us;

	if (w % 1000000 == 0)
		snprintf(buf, len, "no valid answer for %llu s",
		    (unsigned long long)(w / 1000000));
	else
		snprintf(buf, len, "no valid answer for %.1f s", w / 1e6);
}

static void
disable(struct pool *p, uint32_t id, uint64_t now)
{
	char why[POOL_REASON_MAX];

	window_text(p, why, sizeof(why));
	deactivate(p, id, POOL_DISABLED, now, why);
	pool_push_event(p, POOL_EV_DISABLED, id, now, why);
}

/*
 * The run must span the window in send time: the latest failed query was
 * sent at least a window after the run's first one. (Measuring to the
 * failure's resolution time instead let a lossy resolver's trailing
 * timeouts after a transfer — resolved a request timeout after sending,
 * with no answer left to interleave — look like a run of 2 x timeout.)
 */
static void
maybe_disable(struct pool *p, uint32_t id, uint64_t sent, uint64_t at)
{
	struct pool_conn *c = &p->c[id];
	struct pool_link *l = &p->l[id];

	if (!p->cfg.auto_disable || c->state != POOL_ACTIVE || l->confirming)
		return;
	if (l->streak_n <
	    pool_disable_min_obs(p->nact, p->cfg.disable_window_us))
		return;
	if (sent < l->streak_start_us ||
	    sent - l->streak_start_us < p->cfg.disable_window_us)
		return;
	if (p->nact <= 2)
		return;
	if (p->cfg.confirm_down && p->nact <= 20) {
		if (p->confirm == NULL) {
			p->confirm_cap = 32;
			p->confirm =
			    xmalloc(p->confirm_cap * sizeof(*p->confirm));
		}
		if (p->nconfirm == p->confirm_cap)
			return;
		l->confirming = 1;
		p->confirm[p->nconfirm++] = id;
		return;
	}
	disable(p, id, at);
}

void
pool_stat_sent(struct pool *p, uint32_t id)
{
	struct pool_conn *c = &p->c[id];
	struct snap s = stat_begin(c);

	c->sent++;
	c->s_sent++;
	stat_end(p, id, s);
}

void
pool_stat_answer(
    struct pool *p, uint32_t id, int late, uint64_t now, uint64_t rtt_us)
{
	struct pool_conn *c = &p->c[id];
	struct pool_link *l = &p->l[id];
	struct snap s = stat_begin(c);

	c->answered++;
	c->s_acked++;
	c->last_valid_us = now ? now : 1;
	if (rtt_us > 0) {
		c->rtt_sum_us += rtt_us;
		c->rtt_n++;
	}
	if (late) {
		/* a late answer: upstream retracts the timeout */
		c->late++;
		if (c->s_lost > 0)
			c->s_lost--;
		win_add(p, l, now, 0, -1);
	}
	win_add(p, l, now, 1, 1);
	stat_end(p, id, s);
	l->streak_n = 0;
}

void
pool_stat_fail(
    struct pool *p, uint32_t id, uint64_t sent, uint64_t at, int timeout)
{
	struct pool_conn *c = &p->c[id];
	struct pool_link *l = &p->l[id];
	struct snap s = stat_begin(c);

	if (timeout)
		c->timeouts++;
	else
		c->failures++;
	c->s_lost++;
	win_add(p, l, at, 0, 1);
	stat_end(p, id, s);
	if (l->streak_n == 0)
		l->streak_start_us = sent;
	l->streak_n++;
	maybe_disable(p, id, sent, at);
}

uint64_t
pool_next_deadline(const struct pool *p, uint64_t now)
{
	uint64_t d, req = pool_request_timeout(p), t;

	d = pool_pend_deadline(p, req);
	if (!p->ready && p->npassed > 0 && p->cfg.ready_min > 0 &&
	    p->start + p->cfg.ready_wait_us < d)
		d = p->start + p->cfg.ready_wait_us;
	if (p->nconfirm > 0)
		d = now;
	if (p->ready && p->cfg.recheck && p->in_head != NIL &&
	    p->checks_in_flight <
		pool_recheck_batch(p->nact,
		    p->cnt[POOL_DISABLED] + p->cnt[POOL_REJECTED] +
			p->cnt[POOL_RECHECKING])) {
		size_t inact = p->cnt[POOL_DISABLED] + p->cnt[POOL_REJECTED] +
		    p->cnt[POOL_RECHECKING];

		/* (a full batch: the next result re-evaluates, no spin) */
		t = p->c[p->in_head].last_check_us +
		    pool_recheck_interval_us(p->nact, inact);
		if (t < p->next_poll)
			t = p->next_poll;
		if (t < d)
			d = t;
	}
	return d < now ? now : d;
}

/* ---- confirm and recheck ---- */

size_t
pool_check_next(struct pool *p, uint64_t now, uint32_t *out,
    enum pool_check_kind *kinds, size_t max)
{
	size_t k = 0, inact, nconf;
	uint32_t i, j = 0, batch;
	uint64_t iv;

	p->last_now = now;
	for (i = 0; i < p->nconfirm; i++) {
		uint32_t id = p->confirm[i];

		if (!p->l[id].confirming || p->c[id].state != POOL_ACTIVE)
			continue;
		if (k == max) {
			p->confirm[j++] = id;
			continue;
		}
		p->l[id].checking = 1;
		kinds[k] = POOL_CHECK_CONFIRM;
		out[k++] = id;
	}
	p->nconfirm = j;
	nconf = k;
	if (!p->ready || !p->cfg.recheck || now < p->next_poll)
		return k;
	inact = p->cnt[POOL_DISABLED] + p->cnt[POOL_REJECTED] +
	    p->cnt[POOL_RECHECKING];
	batch = pool_recheck_batch(p->nact, inact);
	iv = pool_recheck_interval_us(p->nact, inact);
	while (k < max && p->checks_in_flight < batch && p->in_head != NIL &&
	    p->c[p->in_head].last_check_us + iv <= now) {
		uint32_t id = p->in_head;
		struct pool_conn *c = &p->c[id];

		fifo_remove(p, id);
		p->l[id].prev_state = c->state;
		set_state(p, id, POOL_RECHECKING);
		c->last_check_us = now;
		p->l[id].checking = 1;
		p->checks_in_flight++;
		kinds[k] = POOL_CHECK_RECHECK;
		out[k++] = id;
	}
	/* at most one batch per poll interval (upstream's health loop) */
	if (k > nconf)
		p->next_poll = now +
		    pool_check_interval_us(
			p->nact ? p->nact : 1, p->cfg.disable_window_us);
	return k;
}

int
pool_check_result(
    struct pool *p, uint32_t id, int ok, uint64_t now, struct err *e)
{
	struct pool_conn *c;
	struct pool_link *l;
	char why[POOL_REASON_MAX];

	if (id >= p->n || !p->l[id].checking)
		return err_set(
		    e, "pool: connection %u is not being checked", id);
	p->last_now = now;
	c = &p->c[id];
	l = &p->l[id];
	l->checking = 0;
	if (l->confirming) {
		l->confirming = 0;
		if (ok)
			l->streak_n = 0; /* answered: not down */
		else if (c->state == POOL_ACTIVE && p->nact > 2)
			disable(p, id, now);
		return 0;
	}
	p->checks_in_flight--;
	if (ok) {
		c->up_mtu = p->sync_up;
		c->down_mtu = p->sync_down;
		seed_stats(p, id);
		activate(p, id);
		snprintf(why, sizeof(why),
		    "passed the recheck at the synced "
		    "MTUs (upload %u, download %u)",
		    p->sync_up, p->sync_down);
		pool_push_event(p, POOL_EV_ENABLED, id, now, why);
		return 0;
	}
	set_state(p, id, l->prev_state);
	fifo_push(p, id);
	return 0;
}
