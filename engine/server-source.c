/* SPDX-License-Identifier: MIT */
/*
 * server-source.c — per-source state of server-source.h: a fixed ring of
 * SRV_SOURCES_MAX records in the order first seen, indexed by address
 * (common/hmap), each with token buckets for answer bytes and
 * SESSION_INIT, an invalid-cookie count over INVALID_COOKIE_WINDOW_SECONDS
 * and the time of its last valid post-session query. The address is the
 * IP without the port (resolvers pick a new port per query).
 */
#include <string.h>

#include "common/util.h"
#include "engine/server-source.h"

#define SEC_US 1000000ULL

struct srv_source {
	union net_addr addr; /* port 0 */
	uint64_t ans_at, init_at;
	double ans_tokens, init_tokens;
	uint64_t bad_since;
	unsigned bad;
	uint64_t working_at; /* 0: never */
};

struct srv_sources {
	struct srv_source v[SRV_SOURCES_MAX];
	size_t head, n;
	struct hmap map;
};

static union net_addr
key_of(const union net_addr *a)
{
	union net_addr k;

	memset(&k, 0, sizeof k);
	if (a->sa.sa_family == AF_INET6) {
		k.in6.sin6_family = AF_INET6;
		k.in6.sin6_addr = a->in6.sin6_addr;
	} else {
		k.in.sin_family = AF_INET;
		k.in.sin_addr = a->in.sin_addr;
	}
	return k;
}

struct srv_source *
srv_source_get(struct eng_server *s, uint64_t now)
{
	struct srv_sources *t = s->sources;
	struct srv_source *r;
	union net_addr k;
	struct hmap_it it;
	uint64_t h;
	uint32_t v;
	size_t i;

	if (s->from == NULL)
		return NULL;
	/* One query, one source: its record cannot be evicted before the
	 * query ends, as only a new source is added. */
	if (s->from_src != NULL)
		return s->from_src;
	if (t == NULL)
		t = s->sources = xcalloc(1, sizeof *t);
	k = key_of(s->from);
	h = net_addr_hash(&k);
	for (v = hmap_find(&t->map, h, &it); v != HMAP_NONE;
	     v = hmap_find_next(&t->map, &it))
		if (memcmp(&t->v[v].addr, &k, sizeof k) == 0)
			return s->from_src = &t->v[v];
	if (t->n == SRV_SOURCES_MAX) {
		r = &t->v[t->head];
		(void)hmap_del(
		    &t->map, net_addr_hash(&r->addr), (uint32_t)t->head);
		t->head = (t->head + 1) % SRV_SOURCES_MAX;
		t->n--;
	}
	i = (t->head + t->n) % SRV_SOURCES_MAX;
	r = &t->v[i];
	memset(r, 0, sizeof *r);
	r->addr = k;
	r->ans_at = r->init_at = now;
	r->ans_tokens = SRV_SRC_BURST * (double)s->cfg.src_answer_rate;
	r->init_tokens = SRV_SRC_BURST * (double)s->cfg.src_init_rate;
	hmap_put(&t->map, h, (uint32_t)i);
	t->n++;
	return s->from_src = r;
}

static void
refill(double *tokens, uint64_t *at, double rate, double burst, uint64_t now)
{
	if (now > *at)
		*tokens += (double)(now - *at) * rate / (double)SEC_US;
	if (*tokens > burst)
		*tokens = burst;
	*at = now;
}

int
srv_source_answer_ok(
    struct eng_server *s, struct srv_source *src, size_t n, uint64_t now)
{
	if (src == NULL || s->cfg.src_answer_rate == 0)
		return 1;
	refill(&src->ans_tokens, &src->ans_at, s->cfg.src_answer_rate,
	    SRV_SRC_BURST * (double)s->cfg.src_answer_rate, now);
	if (src->ans_tokens < (double)n) {
		s->gst.src_answer_drop++;
		return 0;
	}
	src->ans_tokens -= (double)n;
	return 1;
}

int
srv_source_init_ok(struct eng_server *s, struct srv_source *src, uint64_t now)
{
	if (src == NULL || s->cfg.src_init_rate == 0)
		return 1;
	refill(&src->init_tokens, &src->init_at, s->cfg.src_init_rate,
	    SRV_SRC_BURST * (double)s->cfg.src_init_rate, now);
	if (src->init_tokens < 1) {
		s->gst.init_rate_drop++;
		return 0;
	}
	src->init_tokens -= 1;
	return 1;
}

int
srv_source_bad_cookie(
    struct eng_server *s, struct srv_source *src, uint64_t now)
{
	uint64_t win = (uint64_t)(s->cfg.invalid_cookie_window_s * 1e6);
	unsigned thr = MAX(s->cfg.invalid_cookie_threshold, 1u);

	if (src == NULL)
		return 0;
	if (win == 0)
		win = 2 * SEC_US;
	if (src->bad == 0 || now - src->bad_since >= win) {
		src->bad_since = now;
		src->bad = 0;
	}
	if (++src->bad <= thr)
		return 0;
	s->gst.cookie_src_drop++;
	return 1;
}

void
srv_source_working(struct srv_source *src, uint64_t now)
{
	if (src != NULL)
		src->working_at = now ? now : 1;
}

int
srv_source_has_working(const struct srv_source *src, uint64_t now)
{
	/* within the last 10 minutes */
	return src != NULL && src->working_at != 0 &&
	    now - src->working_at < 600 * SEC_US;
}

void
srv_sources_free(struct eng_server *s)
{
	if (s->sources != NULL)
		hmap_free(&s->sources->map);
	free(s->sources);
	s->sources = NULL;
	s->from_src = NULL;
}
