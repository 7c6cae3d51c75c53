/*
 * pool.c — the client's resolver pool (see pool.h and docs/pool.md).
 *
 * It keeps the connections (resolver × domain), their statistics, the
 * active set and an order-statistic treap over the active connections
 * keyed by the strategy's score, so that strategies 3–5, 7 and 8 pick in
 * O(log n) and 1–2 in O(1). It tracks queries in flight by (resolver, local
 * socket, DNS id) in a hash table threaded on a send-ordered list, so that
 * expiry is O(1) amortised. It decides fast start, synced MTUs, outlier
 * drops, auto-disable and recheck scheduling, and queues events.
 *
 * It does not send or receive anything, read a clock, log, or allocate on
 * the per-query path (the tables are sized at creation).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pool.h"

#define NIL	     UINT32_MAX
#define NBUCKET	     6
#define HALF_LIFE    1000
#define LOSS_UNKNOWN 200
#define LAT_UNKNOWN  999000
#define S(x)	     ((uint64_t)(x)*1000000u)
#define MS(x)	     ((uint64_t)(x)*1000u)

struct pend {
	uint32_t resolver, conn;
	int local;
	uint16_t id;
	uint8_t used, timed_out;
	uint64_t sent, timed_out_at;
	uint32_t prev, next, hnext;
};

struct route {
	uint32_t pref, pref_epoch;
	uint32_t streak;
	uint8_t exists, failed_over;
	uint64_t last_failover;
};

struct pool {
	struct pool_cfg cfg;
	union net_addr *res;
	size_t nres;
	char **dom;
	size_t ndom;
	uint32_t *rhash; /* resolver lookup, open addressing */
	uint32_t rmask;
	struct pool_conn *c;
	uint32_t n;
	uint64_t start, last_now;
	uint64_t rng;
	uint64_t rr;
	/* active set */
	uint32_t *act;
	uint32_t nact;
	size_t cnt[5];
	uint32_t n_loss_sig, n_lat_sig;
	/* treap over active connections (strategies 3..8) */
	int use_tree;
	uint32_t root;
	/* strategy 6 candidate cache */
	uint32_t *cand;
	uint32_t ncand;
	uint64_t cand_at;
	int cand_valid;
	/* fast start */
	uint32_t next_test, tests_in_flight, npassed;
	uint32_t *passed;
	int ready, synced_once;
	unsigned sync_up, sync_down;
	/* inactive FIFO for rechecks (disabled/rejected), by last check */
	uint32_t in_head, in_tail;
	uint32_t checks_in_flight;
	uint64_t next_poll;
	uint32_t *confirm;
	uint32_t nconfirm, confirm_cap;
	/* queries in flight */
	struct pend *pe;
	uint32_t pcap, pfree, phead, ptail, pcursor, pcount;
	uint32_t *bucket;
	uint32_t bmask;
	/* streams */
	struct route *routes;
	/* events */
	struct pool_event *ev;
	uint32_t ev_head, ev_len;
	uint64_t ev_dropped;
};

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

static uint64_t
rnd(struct pool *p)
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

/* ---- upstream's scaling tables ---- */

unsigned
pool_disable_min_obs(size_t active, uint64_t window_us)
{
	static const struct {
		size_t upto;
		unsigned base;
	} t[] = {
	    {5, 48},
	    {8, 40},
	    {10, 34},
	    {15, 26},
	    {20, 22},
	    {30, 18},
	    {40, 15},
	    {50, 13},
	    {75, 10},
	    {100, 8},
	    {150, 7},
	};
	unsigned base = 6;
	size_t i;

	if (active <= 3)
		return 1000000;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (active <= t[i].upto) {
			base = t[i].base;
			break;
		}
	if (window_us >= S(60))
		return base * 3;
	if (window_us >= S(30))
		return base * 2;
	return base;
}

uint64_t
pool_check_interval_us(size_t active, uint64_t window_us)
{
	static const struct {
		size_t upto;
		uint64_t floor_ms;
	} t[] = {
	    {3, 5000},
	    {5, 5000},
	    {8, 4500},
	    {10, 4000},
	    {15, 3500},
	    {20, 3000},
	    {30, 2500},
	    {50, 2000},
	    {75, 1500},
	};
	uint64_t iv = window_us / 30, maxiv = S(5);
	size_t i;

	if (iv == 0)
		iv = S(3);
	if (iv < S(1))
		iv = S(1);
	if (window_us >= S(60))
		maxiv = S(12);
	else if (window_us >= S(30))
		maxiv = S(8);
	if (iv > maxiv)
		iv = maxiv;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (active <= t[i].upto) {
			if (iv < MS(t[i].floor_ms))
				iv = MS(t[i].floor_ms);
			break;
		}
	return iv;
}

uint64_t
pool_recheck_interval_us(size_t active, size_t inactive)
{
	uint64_t iv;

	if (inactive == 0)
		return S(12);
	if (inactive <= 3)
		iv = S(12);
	else if (inactive <= 6)
		iv = S(10);
	else if (inactive <= 12)
		iv = S(8);
	else if (inactive <= 24)
		iv = S(6);
	else if (inactive <= 48)
		iv = S(5);
	else if (inactive <= 96)
		iv = S(4);
	else
		iv = S(3);
	if (active <= 3) {
		if (iv < S(12))
			iv = S(12);
	} else if (active <= 5) {
		if (iv < S(10))
			iv = S(10);
	} else if (active <= 10) {
		if (iv < S(8))
			iv = S(8);
	} else if (active >= 100 && inactive >= 40) {
		if (iv > S(2))
			iv = S(2);
	} else if (active >= 50 && inactive >= 20) {
		if (iv > S(3))
			iv = S(3);
	}
	if (iv < S(2))
		iv = S(2);
	if (iv > S(12))
		iv = S(12);
	return iv;
}

unsigned
pool_recheck_batch(size_t active, size_t inactive)
{
	unsigned b;

	if (inactive == 0)
		return 1;
	if (inactive <= 2)
		b = 1;
	else if (inactive <= 5)
		b = 2;
	else if (inactive <= 10)
		b = 3;
	else if (inactive <= 20)
		b = 4;
	else if (inactive <= 40)
		b = 6;
	else if (inactive <= 80)
		b = 8;
	else if (inactive <= 120)
		b = 10;
	else if (inactive <= 200)
		b = 12;
	else
		b = 14;
	if (active <= 3) {
		if (b > 2)
			b = 2;
	} else if (active <= 5) {
		if (b > 3)
			b = 3;
	} else if (active <= 10) {
		if (b > 4)
			b = 4;
	} else if (active >= 100 && inactive >= 40) {
		b += 2;
	} else if (active >= 50 && inactive >= 20) {
		b++;
	}
	if (active >= 20 && inactive * 4 < active && b > 2)
		b--;
	if (b > 16)
		b = 16;
	if (b > inactive)
		b = (unsigned)inactive;
	return b < 1 ? 1 : b;
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

static uint64_t
pend_ttl(const struct pool *p)
{
	uint64_t t = p->cfg.packet_timeout_us * 3;

	if (t < S(10))
		t = S(10);
	if (t > S(45))
		t = S(45);
	return t;
}

static uint64_t
late_grace(const struct pool *p, uint64_t req)
{
	uint64_t g = req * 3, ttl = pend_ttl(p);

	if (g < S(1))
		g = S(1);
	return g > ttl ? ttl : g;
}

/* ---- scores (upstream's integer scores; lower is better) ---- */

static uint64_t
loss_score(const struct pool_conn *c)
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

static uint64_t
lat_penalty(const struct pool_conn *c)
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
		s = loss_score(c) * 8 + lat_penalty(c);
		break;
	default:
		s = loss_score(c);
		break;
	}
	return s > 0xffffffffull ? 0xffffffffull : s;
}

/* ---- order-statistic treap over active connections ---- */

#define TSZ(p, x) ((x) == NIL ? 0u : (p)->c[x].t_size)

static void
t_fix(struct pool *p, uint32_t x)
{
	p->c[x].t_size = 1 + TSZ(p, p->c[x].t_left) + TSZ(p, p->c[x].t_right);
}

/* Split t into keys < k (l) and >= k (r). */
static void
t_split(struct pool *p, uint32_t t, uint64_t k, uint32_t *l, uint32_t *r)
{
	if (t == NIL) {
		*l = *r = NIL;
		return;
	}
	if (p->c[t].t_key < k) {
		t_split(p, p->c[t].t_right, k, &p->c[t].t_right, r);
		*l = t;
	} else {
		t_split(p, p->c[t].t_left, k, l, &p->c[t].t_left);
		*r = t;
	}
	t_fix(p, t);
}

static uint32_t
t_merge(struct pool *p, uint32_t a, uint32_t b)
{
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (p->c[a].t_prio > p->c[b].t_prio) {
		p->c[a].t_right = t_merge(p, p->c[a].t_right, b);
		t_fix(p, a);
		return a;
	}
	p->c[b].t_left = t_merge(p, a, p->c[b].t_left);
	t_fix(p, b);
	return b;
}

static void
t_insert(struct pool *p, uint32_t id)
{
	struct pool_conn *c = &p->c[id];
	uint32_t l, r;

	c->t_key = score(p, c) << 32 | id;
	c->t_left = c->t_right = NIL;
	c->t_size = 1;
	t_split(p, p->root, c->t_key, &l, &r);
	p->root = t_merge(p, t_merge(p, l, id), r);
	c->in_tree = 1;
}

static void
t_erase(struct pool *p, uint32_t id)
{
	uint32_t l, m, r;

	t_split(p, p->root, p->c[id].t_key, &l, &m);
	t_split(p, m, p->c[id].t_key + 1, &m, &r);
	p->root = t_merge(p, l, r);
	p->c[id].in_tree = 0;
}

/* Number of keys < k. */
static uint32_t
t_rank(const struct pool *p, uint64_t k)
{
	uint32_t t = p->root, n = 0;

	while (t != NIL) {
		if (p->c[t].t_key < k) {
			n += TSZ(p, p->c[t].t_left) + 1;
			t = p->c[t].t_right;
		} else {
			t = p->c[t].t_left;
		}
	}
	return n;
}

/* The r-th smallest (0-based). */
static uint32_t
t_select(const struct pool *p, uint32_t r)
{
	uint32_t t = p->root;

	while (t != NIL) {
		uint32_t ls = TSZ(p, p->c[t].t_left);

		if (r < ls) {
			t = p->c[t].t_left;
		} else if (r == ls) {
			return t;
		} else {
			r -= ls + 1;
			t = p->c[t].t_right;
		}
	}
	return NIL;
}

/* r-th smallest when excl (if in the tree) is skipped. */
static uint32_t
t_select_skip(const struct pool *p, uint32_t r, uint32_t excl)
{
	if (excl != NIL && p->c[excl].in_tree &&
	    t_rank(p, p->c[excl].t_key) <= r)
		r++;
	return t_select(p, r);
}

static uint32_t
tree_size_excl(const struct pool *p, uint32_t excl)
{
	uint32_t n = TSZ(p, p->root);

	if (excl != NIL && p->c[excl].in_tree)
		n--;
	return n;
}

/* ---- statistics bookkeeping ---- */

static int
is_active(const struct pool *p, uint32_t id)
{
	return id < p->n && p->c[id].state == POOL_ACTIVE;
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
	if (c->in_tree && (c->t_key >> 32) != score(p, c)) {
		t_erase(p, id);
		t_insert(p, id);
	}
}

static void
win_add(struct pool *p, struct pool_conn *c, uint64_t now, int ok, int delta)
{
	uint64_t width = p->cfg.disable_window_us / NBUCKET, b, e;

	if (width == 0)
		width = 1;
	b = now / width;
	if (b > c->w_epoch) {
		for (e = c->w_epoch + 1; e <= b && e <= c->w_epoch + NBUCKET;
		     e++) {
			c->w_ok[e % NBUCKET] = 0;
			c->w_bad[e % NBUCKET] = 0;
		}
		c->w_epoch = b;
	}
	if (ok)
		c->w_ok[c->w_epoch % NBUCKET] += delta;
	else if (delta > 0)
		c->w_bad[c->w_epoch % NBUCKET]++;
	else if (c->w_bad[c->w_epoch % NBUCKET] > 0)
		c->w_bad[c->w_epoch % NBUCKET]--;
}

double
pool_conn_loss(const struct pool *p, uint32_t id, uint64_t now)
{
	const struct pool_conn *c;
	uint64_t width = p->cfg.disable_window_us / NBUCKET, b, e, ok = 0,
		 bad = 0;

	if (id >= p->n)
		return 0;
	c = &p->c[id];
	if (width == 0)
		width = 1;
	b = now / width;
	for (e = c->w_epoch + 1 >= NBUCKET ? c->w_epoch + 1 - NBUCKET : 0;
	     e <= c->w_epoch; e++) {
		if (e + NBUCKET <= b)
			continue;
		ok += c->w_ok[e % NBUCKET];
		bad += c->w_bad[e % NBUCKET];
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

/* ---- events ---- */

static void
push_event(struct pool *p, enum pool_event_kind k, uint32_t id, uint64_t now,
    const char *detail)
{
	struct pool_event *e;

	if (p->cfg.event_cap == 0)
		return;
	if (p->ev_len == p->cfg.event_cap) {
		p->ev_head = (p->ev_head + 1) % p->cfg.event_cap;
		p->ev_len--;
		p->ev_dropped++;
	}
	e = &p->ev[(p->ev_head + p->ev_len) % p->cfg.event_cap];
	p->ev_len++;
	e->kind = k;
	e->conn = id;
	e->at_us = now;
	snprintf(e->detail, sizeof(e->detail), "%s", detail);
}

int
pool_event_next(struct pool *p, struct pool_event *ev)
{
	if (p->ev_len == 0)
		return 0;
	*ev = p->ev[p->ev_head];
	p->ev_head = (p->ev_head + 1) % p->cfg.event_cap;
	p->ev_len--;
	return 1;
}

uint64_t
pool_events_dropped(const struct pool *p)
{
	return p->ev_dropped;
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
	struct pool_conn *c = &p->c[id];

	if (c->in_fifo)
		return;
	c->in_prev = p->in_tail;
	c->in_next = NIL;
	if (p->in_tail != NIL)
		p->c[p->in_tail].in_next = id;
	else
		p->in_head = id;
	p->in_tail = id;
	c->in_fifo = 1;
}

static void
fifo_remove(struct pool *p, uint32_t id)
{
	struct pool_conn *c = &p->c[id];

	if (!c->in_fifo)
		return;
	if (c->in_prev != NIL)
		p->c[c->in_prev].in_next = c->in_next;
	else
		p->in_head = c->in_next;
	if (c->in_next != NIL)
		p->c[c->in_next].in_prev = c->in_prev;
	else
		p->in_tail = c->in_prev;
	c->in_fifo = 0;
}

static void
activate(struct pool *p, uint32_t id)
{
	struct pool_conn *c = &p->c[id];

	fifo_remove(p, id);
	set_state(p, id, POOL_ACTIVE);
	c->reason[0] = '\0';
	c->act_pos = p->nact;
	p->act[p->nact++] = id;
	c->streak_n = 0;
	c->confirming = 0;
	p->n_loss_sig += c->s_sent >= 5;
	p->n_lat_sig += c->rtt_n >= 5;
	if (p->use_tree)
		t_insert(p, id);
	p->cand_valid = 0;
}

/* Leave ACTIVE for s (DISABLED or REJECTED) with a reason. */
static void
deactivate(struct pool *p, uint32_t id, enum pool_state s, uint64_t now,
    const char *why)
{
	struct pool_conn *c = &p->c[id];
	uint32_t last;

	if (c->state == POOL_ACTIVE) {
		last = p->act[--p->nact];
		p->act[c->act_pos] = last;
		p->c[last].act_pos = c->act_pos;
		p->n_loss_sig -= c->s_sent >= 5;
		p->n_lat_sig -= c->rtt_n >= 5;
		if (c->in_tree)
			t_erase(p, id);
		c->epoch++;
		p->cand_valid = 0;
	}
	set_state(p, id, s);
	snprintf(c->reason, sizeof(c->reason), "%s", why);
	c->streak_n = 0;
	if (c->confirming)
		c->checking = 0; /* a pending confirm is moot */
	c->confirming = 0;
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
	(void)p;
}

/* ---- construction ---- */

struct pool *
pool_new(const struct pool_cfg *cfg, const union net_addr *resolvers,
    size_t nres, const char *const *domains, size_t ndom, uint64_t now,
    struct err *e)
{
	struct pool *p;
	size_t i, n;
	uint32_t nb;

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
	p->act = xcalloc(n, sizeof(*p->act));
	p->passed = xcalloc(n, sizeof(*p->passed));
	p->start = p->last_now = now;
	p->rng = cfg->seed ? cfg->seed : 0x2545f4914f6cdd1dull;
	p->use_tree = cfg->strategy >= POOL_LEAST_LOSS;
	p->root = NIL;
	p->in_head = p->in_tail = NIL;
	for (i = 0; i < n; i++) {
		struct pool_conn *c = &p->c[i];

		c->resolver = (uint32_t)(i / ndom);
		c->domain = (uint32_t)(i % ndom);
		c->state = POOL_TESTING;
		snprintf(c->reason, sizeof(c->reason),
		    "waiting for its MTU "
		    "test");
		c->t_prio = (uint32_t)rnd(p);
		c->t_left = c->t_right = NIL;
		c->in_prev = c->in_next = NIL;
	}
	p->cnt[POOL_TESTING] = n;
	p->pcap = p->cfg.pending_cap;
	p->pe = xcalloc(p->pcap, sizeof(*p->pe));
	for (i = 0; i < p->pcap; i++)
		p->pe[i].next = i + 1 < p->pcap ? (uint32_t)i + 1 : NIL;
	p->pfree = 0;
	p->phead = p->ptail = p->pcursor = NIL;
	for (nb = 16; nb < 2 * p->pcap; nb <<= 1)
		;
	p->bucket = xmalloc(nb * sizeof(*p->bucket));
	for (i = 0; i < nb; i++)
		p->bucket[i] = NIL;
	p->bmask = nb - 1;
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
	free(p->rhash);
	free(p->c);
	free(p->act);
	free(p->passed);
	free(p->cand);
	free(p->confirm);
	free(p->pe);
	free(p->bucket);
	free(p->routes);
	free(p->ev);
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

const char *
pool_state_name(enum pool_state s)
{
	static const char *const names[] = {
	    "testing", "active", "disabled", "rechecking", "rejected"};

	return (unsigned)s < 5 ? names[s] : "?";
}

const char *
pool_event_kind_name(enum pool_event_kind k)
{
	switch (k) {
	case POOL_EV_DISABLED:
		return "resolver_disabled";
	case POOL_EV_ENABLED:
		return "resolver_enabled";
	case POOL_EV_REJECTED:
		return "resolver_rejected";
	}
	return "?";
}

static uint32_t
addr_hash(const union net_addr *a)
{
	const uint8_t *b;
	size_t len, i;
	uint32_t h = 2166136261u;

	if (a->sa.sa_family == AF_INET6) {
		b = (const uint8_t *)&a->in6.sin6_addr;
		len = 16;
	} else {
		b = (const uint8_t *)&a->in.sin_addr;
		len = 4;
	}
	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	h = (h ^ net_addr_port(a)) * 16777619u;
	return h ^ (h >> 15);
}

static void
rhash_build(struct pool *p)
{
	uint32_t nb, i, j;

	for (nb = 16; nb < 2 * p->nres; nb <<= 1)
		;
	p->rhash = xmalloc(nb * sizeof(*p->rhash));
	p->rmask = nb - 1;
	for (i = 0; i < nb; i++)
		p->rhash[i] = NIL;
	for (i = 0; i < p->nres; i++) {
		for (j = addr_hash(&p->res[i]) & p->rmask; p->rhash[j] != NIL;
		     j = (j + 1) & p->rmask)
			if (net_addr_equal(&p->res[p->rhash[j]], &p->res[i]))
				break;
		if (p->rhash[j] == NIL)
			p->rhash[j] = i; /* first of duplicates wins */
	}
}

long
pool_resolver_find(const struct pool *p, const union net_addr *a)
{
	uint32_t j;

	for (j = addr_hash(a) & p->rmask; p->rhash[j] != NIL;
	     j = (j + 1) & p->rmask)
		if (net_addr_equal(&p->res[p->rhash[j]], a))
			return (long)p->rhash[j];
	return -1;
}

void
pool_counts(const struct pool *p, struct pool_counts *o)
{
	memset(o, 0, sizeof(*o));
	o->total = p->n;
	o->active = p->cnt[POOL_ACTIVE];
	o->disabled = p->cnt[POOL_DISABLED];
	o->rechecking = p->cnt[POOL_RECHECKING];
	o->testing = p->cnt[POOL_TESTING];
	o->rejected = p->cnt[POOL_REJECTED];
	o->in_flight_tests = p->tests_in_flight;
	o->passed_waiting = p->ready ? 0 : p->npassed;
}

/* ---- low-MTU outlier rule (upstream optimizeMTUResolvers) ---- */

static int
cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

struct axis {
	unsigned old_min, target;
	double rel_gain;
	int worth;
};

static void
axis_analyse(const unsigned *v, size_t n, double tol, unsigned min_gap,
    unsigned min_gain, size_t max_drops, struct axis *a)
{
	unsigned *s = xmalloc(n * sizeof(*s));
	unsigned p75, achievable;
	long thr;
	size_t i, bad = 0, drops;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_uint);
	a->old_min = s[0];
	p75 = s[n * 3 / 4];
	thr = (long)((double)p75 * tol);
	if ((long)p75 - thr < (long)min_gap)
		thr = (long)p75 - (long)min_gap;
	if (thr < 1)
		thr = 1;
	for (i = 0; i < n; i++)
		if ((long)s[i] < thr)
			bad++;
	drops = bad > max_drops ? max_drops : bad;
	achievable = a->old_min;
	if (drops > 0 && drops < n)
		achievable = s[drops];
	a->rel_gain =
	    a->old_min > 0 ? (double)(achievable - a->old_min) / a->old_min : 0;
	a->worth = drops > 0 &&
	    (achievable - a->old_min >= min_gain || a->rel_gain >= 0.35);
	a->target = a->worth ? achievable : a->old_min;
	free(s);
}

size_t
pool_outlier_filter(const unsigned *up, const unsigned *down, size_t n,
    uint8_t *drop, unsigned *target_up, unsigned *target_down)
{
	static const struct {
		size_t above;
		double ratio, tol;
		unsigned gain_up, gain_down;
	} t[] = {
	    {1000, 0.35, 0.85, 24, 64},
	    {200, 0.30, 0.80, 32, 96},
	    {150, 0.28, 0.78, 40, 96},
	    {100, 0.27, 0.77, 44, 104},
	    {75, 0.26, 0.76, 46, 112},
	    {50, 0.25, 0.75, 48, 128},
	    {24, 0.22, 0.72, 56, 128},
	    {0, 0.20, 0.70, 64, 160},
	};
	struct axis u, d;
	size_t i, k, max_drops, projected = 0;

	memset(drop, 0, n);
	*target_up = *target_down = 0;
	if (n < 5)
		return 0;
	for (k = 0; t[k].above && n <= t[k].above; k++)
		;
	max_drops = (size_t)((double)n * t[k].ratio);
	if (max_drops < 1)
		max_drops = 1;
	axis_analyse(up, n, t[k].tol, 24, t[k].gain_up, max_drops, &u);
	axis_analyse(down, n, t[k].tol, 96, t[k].gain_down, max_drops, &d);
	if (!u.worth && !d.worth)
		return 0;
	for (i = 0; i < n; i++)
		if ((u.worth && up[i] < u.target) ||
		    (d.worth && down[i] < d.target))
			projected++;
	if (projected > max_drops) {
		if (u.rel_gain >= d.rel_gain)
			d.worth = 0;
		else
			u.worth = 0;
		if (!u.worth && !d.worth)
			return 0;
	}
	projected = 0;
	for (i = 0; i < n; i++) {
		drop[i] = (u.worth && up[i] < u.target) ||
		    (d.worth && down[i] < d.target);
		projected += drop[i];
	}
	if (projected == n) {
		memset(drop, 0, n);
		return 0;
	}
	*target_up = u.worth ? u.target : 0;
	*target_down = d.worth ? d.target : 0;
	return projected;
}

/* ---- MTU tests and fast start ---- */

static void
reject(struct pool *p, uint32_t id, uint64_t now, const char *why)
{
	deactivate(p, id, POOL_REJECTED, now, why);
	push_event(p, POOL_EV_REJECTED, id, now, why);
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

		p->c[id].passed = 0;
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
		push_event(p, POOL_EV_ENABLED, id, now, why);
	}
	p->npassed = 0;
	p->ready = 1;
	p->next_poll = now;
	free(up);
	free(down);
	free(drop);
}

static void
check_ready(struct pool *p, uint64_t now)
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
	check_ready(p, now);
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

		c->testing = 1;
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

	if (id >= p->n || !p->c[id].testing)
		return err_set(
		    e, "pool: connection %u is not under an MTU test", id);
	p->last_now = now;
	c = &p->c[id];
	c->testing = 0;
	p->tests_in_flight--;
	if (ok && (up == 0 || down == 0)) {
		ok = 0;
		why = "MTU test passed with a zero MTU";
	}
	if (!ok) {
		reject(p, id, now, why && *why ? why : "MTU test failed");
		check_ready(p, now);
		return 0;
	}
	c->up_mtu = up;
	c->down_mtu = down;
	if (!p->ready) {
		c->passed = 1;
		p->passed[p->npassed++] = id;
		snprintf(c->reason, sizeof(c->reason),
		    "passed (upload %u, "
		    "download %u), waiting for the working set",
		    up, down);
		check_ready(p, now);
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
	push_event(p, POOL_EV_ENABLED, id, now, r);
	return 0;
}

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
		out[0] = p->act[rnd(p) % n];
		return 1;
	}
	if (k > 16) {
		/* not the hot path: a real copy */
		uint32_t *v = xmalloc(n * sizeof(*v)), t;

		memcpy(v, p->act, n * sizeof(*v));
		for (i = 0; i < k; i++) {
			j = i + (size_t)(rnd(p) % (n - i));
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

		j = i + (size_t)(rnd(p) % (n - i));
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
	uint32_t n = tree_size_excl(p, excl), first, tier, i, start;
	uint64_t s;

	if (n == 0)
		return 0;
	if (k > n)
		k = n;
	first = t_select_skip(p, 0, excl);
	s = p->c[first].t_key >> 32;
	tier = t_rank(p, (s + 1) << 32);
	if (excl != NIL && p->c[excl].in_tree && (p->c[excl].t_key >> 32) <= s)
		tier--; /* excl was counted by the rank */
	start = (uint32_t)(p->rr % tier);
	p->rr += k;
	for (i = 0; i < k; i++) {
		uint32_t r = i < tier ? (start + i) % tier : i;

		out[i] = t_select_skip(p, r, excl);
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

/* In-order ids with key < lim into out (O(m + log n)). */
static void
t_collect(
    const struct pool *p, uint32_t t, uint64_t lim, uint32_t *out, uint32_t *m)
{
	while (t != NIL) {
		t_collect(p, p->c[t].t_left, lim, out, m);
		if (p->c[t].t_key >= lim)
			return;
		out[(*m)++] = t;
		t = p->c[t].t_right;
	}
}

/* Strategy 6 candidates (upstream lossThenLatencyCandidates), cached. */
static void
build_cand(struct pool *p)
{
	uint64_t best_loss, cutoff, best_lat = UINT64_MAX, tol, lc;
	uint32_t m, i, n = TSZ(p, p->root);

	p->ncand = 0;
	p->cand_valid = 1;
	p->cand_at = p->last_now;
	if (n == 0)
		return;
	if (p->cand == NULL)
		p->cand = xmalloc(p->n * sizeof(*p->cand));
	best_loss = p->c[t_select(p, 0)].t_key >> 32;
	cutoff = best_loss + (best_loss >= LOSS_UNKNOWN ? 0 : 25);
	m = 0;
	t_collect(p, p->root, (cutoff + 1) << 32, p->cand, &m);
	for (i = 0; i < m; i++) {
		uint64_t l = lat_penalty(&p->c[p->cand[i]]);

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
		if (lat_penalty(&p->c[p->cand[i]]) <= lc)
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
	uint32_t r, n = TSZ(p, p->root);

	for (r = 0; r < n && have < k; r++) {
		uint32_t id = t_select(p, r);

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
			uint32_t id = p->cand[rnd(p) % p->ncand];

			if (id != excl && !contains(out, have, id))
				out[have++] = id;
		}
		for (i = 0; i < p->ncand && have < k && have < m; i++)
			if (p->cand[i] != excl &&
			    !contains(out, have, p->cand[i]))
				out[have++] = p->cand[i];
		return top_up(p, have, k, out, excl);
	}
	n = tree_size_excl(p, excl);
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
			out[have++] =
			    t_select_skip(p, (start + i) % tier, excl);
	} else if (k >= tier) {
		for (i = 0; i < tier; i++)
			out[have++] = t_select_skip(p, i, excl);
	} else {
		while (have < k) {
			uint32_t id =
			    t_select_skip(p, (uint32_t)(rnd(p) % tier), excl);

			if (!contains(out, have, id))
				out[have++] = id;
		}
	}
	return top_up(p, have, k, out, excl);
}

/* Upstream getUniqueConnections(k): k distinct active connections. */
size_t
pool_pick(struct pool *p, size_t k, uint32_t *out)
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
	if (pool_pick(p, 1, &id) == 1 && id != excl)
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
		uint32_t top = TSZ(p, p->root) < 10 ? TSZ(p, p->root) : 10;

		return t_select(p, (uint32_t)(rnd(p) % top));
	}
	if (pool_pick(p, 1, &id) == 1)
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
	return r->pref != NIL && is_active(p, r->pref) &&
	    p->c[r->pref].epoch == r->pref_epoch;
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
	r->pref_epoch = p->c[id].epoch;
	r->streak = 0;
}

/* Upstream selectPreferredConnectionForStream. */
static uint32_t
preferred(struct pool *p, struct route *r, enum pool_frame cls, uint64_t now)
{
	uint32_t id;

	if (cls == POOL_FRAME_STREAM_RESEND) {
		r->streak++;
		if (pref_valid(p, r)) {
			if (r->streak < p->cfg.failover_resends ||
			    (r->failed_over &&
				now - r->last_failover <
				    p->cfg.failover_cooldown_us))
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
	got = pool_pick(p, k, tmp);
	for (i = 0; i < got && n < k; i++)
		if (tmp[i] != pref)
			out[n++] = tmp[i];
	return n;
}

/* ---- queries in flight: (resolver, local socket, DNS id) ---- */

static uint32_t
pend_hash(const struct pool *p, uint32_t resolver, int local, uint16_t id)
{
	uint64_t h = (uint64_t)resolver * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)(uint32_t)local << 16 | id) * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	return (uint32_t)h & p->bmask;
}

static uint32_t
pend_find(const struct pool *p, uint32_t resolver, int local, uint16_t id)
{
	uint32_t i = p->bucket[pend_hash(p, resolver, local, id)];

	for (; i != NIL; i = p->pe[i].hnext)
		if (p->pe[i].resolver == resolver && p->pe[i].local == local &&
		    p->pe[i].id == id)
			return i;
	return NIL;
}

static void
pend_unlink(struct pool *p, uint32_t i)
{
	struct pend *e = &p->pe[i];
	uint32_t *pp = &p->bucket[pend_hash(p, e->resolver, e->local, e->id)];

	while (*pp != i)
		pp = &p->pe[*pp].hnext;
	*pp = e->hnext;
	if (p->pcursor == i)
		p->pcursor = e->next;
	if (e->prev != NIL)
		p->pe[e->prev].next = e->next;
	else
		p->phead = e->next;
	if (e->next != NIL)
		p->pe[e->next].prev = e->prev;
	else
		p->ptail = e->prev;
	e->used = 0;
	e->next = p->pfree;
	p->pfree = i;
	p->pcount--;
}

static void
pend_add(struct pool *p, uint32_t conn, int local, uint16_t id, uint64_t now)
{
	uint32_t resolver = p->c[conn].resolver, i, b;
	struct pend *e;

	i = pend_find(p, resolver, local, id);
	if (i != NIL)
		pend_unlink(p, i); /* reused id: the old one is forgotten */
	if (p->pfree == NIL)
		pend_unlink(p, p->phead); /* full: forget the oldest */
	i = p->pfree;
	e = &p->pe[i];
	p->pfree = e->next;
	memset(e, 0, sizeof(*e));
	e->resolver = resolver;
	e->conn = conn;
	e->local = local;
	e->id = id;
	e->used = 1;
	e->sent = now;
	e->prev = p->ptail;
	e->next = NIL;
	if (p->ptail != NIL)
		p->pe[p->ptail].next = i;
	else
		p->phead = i;
	p->ptail = i;
	if (p->pcursor == NIL)
		p->pcursor = i;
	b = pend_hash(p, resolver, local, id);
	e->hnext = p->bucket[b];
	p->bucket[b] = i;
	p->pcount++;
}

/* ---- auto-disable ---- */

static void
window_text(const struct pool *p, char *buf, size_t len)
{
	uint64_t w = p->cfg.disable_window_us;

	if (w % 1000000 == 0)
		snprintf(buf, len, "only timeouts for %llu s",
		    (unsigned long long)(w / 1000000));
	else
		snprintf(buf, len, "only timeouts for %.1f s", w / 1e6);
}

static void
disable(struct pool *p, uint32_t id, uint64_t now)
{
	char why[POOL_REASON_MAX];

	window_text(p, why, sizeof(why));
	deactivate(p, id, POOL_DISABLED, now, why);
	push_event(p, POOL_EV_DISABLED, id, now, why);
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

	if (!p->cfg.auto_disable || c->state != POOL_ACTIVE || c->confirming)
		return;
	if (c->streak_n <
	    pool_disable_min_obs(p->nact, p->cfg.disable_window_us))
		return;
	if (sent < c->streak_start_us ||
	    sent - c->streak_start_us < p->cfg.disable_window_us)
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
		c->confirming = 1;
		p->confirm[p->nconfirm++] = id;
		return;
	}
	disable(p, id, at);
}

static void
resolve_ok(struct pool *p, uint32_t id, const struct pend *e, uint64_t now,
    uint64_t rtt)
{
	struct pool_conn *c = &p->c[id];
	struct snap s = stat_begin(c);

	c->answered++;
	c->s_acked++;
	if (rtt > 0) {
		c->rtt_sum_us += rtt;
		c->rtt_n++;
	}
	if (e->timed_out) {
		/* a late answer: upstream retracts the timeout */
		c->late++;
		if (c->s_lost > 0)
			c->s_lost--;
		win_add(p, c, now, 0, -1);
	}
	win_add(p, c, now, 1, 1);
	stat_end(p, id, s);
	c->streak_n = 0;
}

static void
resolve_fail(
    struct pool *p, uint32_t id, uint64_t sent, uint64_t at, int timeout)
{
	struct pool_conn *c = &p->c[id];
	struct snap s = stat_begin(c);

	if (timeout)
		c->timeouts++;
	else
		c->failures++;
	c->s_lost++;
	win_add(p, c, at, 0, 1);
	stat_end(p, id, s);
	if (c->streak_n == 0)
		c->streak_start_us = sent;
	c->streak_n++;
	maybe_disable(p, id, sent, at);
}

void
pool_on_send(
    struct pool *p, uint32_t id, int local, uint16_t dns_id, uint64_t now)
{
	struct pool_conn *c;
	struct snap s;

	if (id >= p->n)
		return;
	p->last_now = now;
	c = &p->c[id];
	s = stat_begin(c);
	c->sent++;
	c->s_sent++;
	stat_end(p, id, s);
	pend_add(p, id, local, dns_id, now);
}

uint32_t
pool_on_answer(struct pool *p, uint32_t resolver, int local, uint16_t dns_id,
    int rcode, uint64_t now, uint64_t *rtt_us)
{
	uint32_t i = pend_find(p, resolver, local, dns_id), id;
	struct pend e;
	uint64_t rtt;

	p->last_now = now;
	if (i == NIL)
		return POOL_NONE;
	e = p->pe[i];
	pend_unlink(p, i);
	id = e.conn;
	rtt = now >= e.sent ? now - e.sent : 0;
	if (rtt_us)
		*rtt_us = rtt;
	if (rcode == 0)
		resolve_ok(p, id, &e, now, rtt);
	else if (!e.timed_out)
		resolve_fail(p, id, e.sent, now, 0);
	return id;
}

uint32_t
pool_on_timeout(
    struct pool *p, uint32_t resolver, int local, uint16_t dns_id, uint64_t now)
{
	uint32_t i = pend_find(p, resolver, local, dns_id);
	struct pend *e;

	p->last_now = now;
	if (i == NIL)
		return POOL_NONE;
	e = &p->pe[i];
	if (!e->timed_out) {
		e->timed_out = 1;
		e->timed_out_at = now;
		resolve_fail(p, e->conn, e->sent, now, 1);
	}
	return e->conn;
}

void
pool_tick(struct pool *p, uint64_t now)
{
	uint64_t req = pool_request_timeout(p), grace = late_grace(p, req);
	uint64_t ttl = pend_ttl(p);

	p->last_now = now;
	while (p->pcursor != NIL) {
		struct pend *e = &p->pe[p->pcursor];

		if (!e->timed_out) {
			if (e->sent + req > now)
				break;
			e->timed_out = 1;
			e->timed_out_at = e->sent + req;
			p->pcursor = e->next;
			resolve_fail(p, e->conn, e->sent, e->timed_out_at, 1);
		} else {
			p->pcursor = e->next;
		}
	}
	while (p->phead != NIL) {
		struct pend *e = &p->pe[p->phead];

		if ((e->timed_out && e->timed_out_at + grace <= now) ||
		    e->sent + ttl < now)
			pend_unlink(p, p->phead);
		else
			break;
	}
	check_ready(p, now);
}

uint64_t
pool_next_deadline(const struct pool *p, uint64_t now)
{
	uint64_t d = UINT64_MAX, req = pool_request_timeout(p), t;

	if (p->pcursor != NIL && p->pe[p->pcursor].sent + req < d)
		d = p->pe[p->pcursor].sent + req;
	if (p->phead != NIL && p->pe[p->phead].timed_out) {
		t = p->pe[p->phead].timed_out_at + late_grace(p, req);
		if (t < d)
			d = t;
	}
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
		struct pool_conn *c = &p->c[id];

		if (!c->confirming || c->state != POOL_ACTIVE)
			continue;
		if (k == max) {
			p->confirm[j++] = id;
			continue;
		}
		c->checking = 1;
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
		c->prev_state = c->state;
		set_state(p, id, POOL_RECHECKING);
		c->last_check_us = now;
		c->checking = 1;
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
	char why[POOL_REASON_MAX];

	if (id >= p->n || !p->c[id].checking)
		return err_set(
		    e, "pool: connection %u is not being checked", id);
	p->last_now = now;
	c = &p->c[id];
	c->checking = 0;
	if (c->confirming) {
		c->confirming = 0;
		if (ok)
			c->streak_n = 0; /* answered: not down */
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
		push_event(p, POOL_EV_ENABLED, id, now, why);
		return 0;
	}
	set_state(p, id, c->prev_state);
	fifo_push(p, id);
	return 0;
}

/* ---- status ---- */

static json_t *
conn_json(const struct pool *p, uint32_t id, uint64_t now)
{
	const struct pool_conn *c = &p->c[id];
	char addr[NET_ADDR_STRLEN];

	net_addr_format(&p->res[c->resolver], addr, sizeof(addr));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:I, s:I, "
			 "s:I}",
	    "address", addr, "domain", p->dom[c->domain], "state",
	    pool_state_name(c->state), "reason", c->reason, "upload_mtu",
	    (json_int_t)c->up_mtu, "download_mtu", (json_int_t)c->down_mtu,
	    "rtt_ms", pool_conn_rtt_us(p, id) / 1000.0, "loss",
	    pool_conn_loss(p, id, now), "sent", (json_int_t)c->sent, "answered",
	    (json_int_t)c->answered, "timeouts", (json_int_t)c->timeouts);
}

json_t *
pool_status_json(const struct pool *p, uint64_t now, size_t list_max)
{
	json_t *o, *list = json_array();
	uint32_t i;
	size_t n = 0;

	if (list_max == 0) {
		for (i = 0; i < p->n; i++)
			json_array_append_new(list, conn_json(p, i, now));
	} else {
		for (i = 0; i < p->nact && n < list_max; i++, n++)
			json_array_append_new(
			    list, conn_json(p, p->act[i], now));
		for (i = 0; i < p->n && n < list_max; i++)
			if (p->c[i].state != POOL_ACTIVE) {
				json_array_append_new(
				    list, conn_json(p, i, now));
				n++;
			}
	}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "total",
	    (json_int_t)p->n, "active", (json_int_t)p->cnt[POOL_ACTIVE],
	    "disabled",
	    (json_int_t)(p->cnt[POOL_DISABLED] + p->cnt[POOL_RECHECKING]),
	    "testing", (json_int_t)p->cnt[POOL_TESTING], "rejected",
	    (json_int_t)p->cnt[POOL_REJECTED], "list", list);
	return o;
}
