/* SPDX-License-Identifier: MIT */
/*
 * pool-pend.c — the resolver pool's queries in flight, keyed as upstream
 * keys them: (resolver index, local socket, DNS id). A fixed table of
 * pending_cap entries, found through the hash table of common/hmap.h
 * and threaded on a send-ordered list: a send, an answer or a timeout is
 * O(1), expiry walks the list from its oldest entry (O(1) amortised per
 * query), and when the table is full the oldest query is forgotten
 * uncounted (upstream evicts the same way). It turns what happened to each query into the statistics calls of
 * pool.c (sent, answered, lost, late) and allocates nothing after
 * pool_pend_init.
 */
#include <string.h>

#include "engine/pool-int.h"

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

/* ---- queries in flight: (resolver, local socket, DNS id) ---- */

static uint64_t
pend_hash(uint32_t resolver, int local, uint16_t id)
{
	return hmap_hash_u64(
	    (uint64_t)resolver << 32 ^ ((uint64_t)(uint32_t)local << 16 | id));
}

static uint32_t
pend_find(const struct pool *p, uint32_t resolver, int local, uint16_t id)
{
	struct hmap_it it;
	uint32_t i;

	for (i = hmap_find(&p->pend_map, pend_hash(resolver, local, id), &it);
	     i != HMAP_NONE; i = hmap_find_next(&p->pend_map, &it))
		if (p->pe[i].resolver == resolver && p->pe[i].local == local &&
		    p->pe[i].id == id)
			return i;
	return NIL;
}

static void
pend_unlink(struct pool *p, uint32_t i)
{
	struct pend *e = &p->pe[i];

	(void)hmap_del(
	    &p->pend_map, pend_hash(e->resolver, e->local, e->id), i);
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
	uint32_t resolver = p->c[conn].resolver, i;
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
	hmap_put(&p->pend_map, pend_hash(resolver, local, id), i);
	p->pcount++;
}

void
pool_pend_init(struct pool *p)
{
	uint32_t i;

	p->pcap = p->cfg.pending_cap;
	p->pe = xcalloc(p->pcap, sizeof(*p->pe));
	for (i = 0; i < p->pcap; i++)
		p->pe[i].next = i + 1 < p->pcap ? i + 1 : NIL;
	p->pfree = 0;
	p->phead = p->ptail = p->pcursor = NIL;
	hmap_reserve(&p->pend_map, p->pcap); /* never grows after this */
}

void
pool_on_send(
    struct pool *p, uint32_t id, int local, uint16_t dns_id, uint64_t now)
{
	if (id >= p->n)
		return;
	p->last_now = now;
	pend_add(p, id, local, dns_id, now);
	pool_stat_sent(p, id);
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
		pool_stat_answer(p, id, e.timed_out, now, rtt);
	else if (!e.timed_out)
		pool_stat_fail(p, id, e.sent, now, 0);
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
		pool_stat_fail(p, e->conn, e->sent, now, 1);
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
			pool_stat_fail(p, e->conn, e->sent, e->timed_out_at, 1);
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
	pool_check_ready(p, now);
}

/* Earliest expiry or end of a late-answer grace (UINT64_MAX: none). */
uint64_t
pool_pend_deadline(const struct pool *p, uint64_t req)
{
	uint64_t d = UINT64_MAX, t;

	if (p->pcursor != NIL && p->pe[p->pcursor].sent + req < d)
		d = p->pe[p->pcursor].sent + req;
	if (p->phead != NIL && p->pe[p->phead].timed_out) {
		t = p->pe[p->phead].timed_out_at + late_grace(p, req);
		if (t < d)
			d = t;
	}
	return d;
}
