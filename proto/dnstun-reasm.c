/* SPDX-License-Identifier: MIT */
/*
 * dnstun-reasm.c — the reassembly table for DNS_QUERY_REQ / DNS_QUERY_RES
 * fragments, keyed by (session, seq) like upstream's fragmentstore, but
 * with every byte accounted for and bounded per session and in total.
 *
 * Bounds, in the order they are applied (docs/dns-tunnel.md says why):
 *   - a fragment that is empty, has frag_id >= total, or would make the
 *     message longer than max_msg is refused (the message is dropped
 *     whole in the last case);
 *   - a new message or fragment that would take its session over its
 *     count or byte bound is refused (NOROOM): nothing the peer was
 *     already told we hold is thrown away, and a reliable sender simply
 *     sends it again later;
 *   - over the total bounds, the oldest incomplete message of the session
 *     holding the most bytes is evicted, unless that is the session asking
 *     (then NOROOM): one flooding session cannot starve the others.
 * Completed ids are remembered for the timeout (FIFO, bounded), so late
 * copies of their fragments do not make a second message.
 *
 * Pure: no clock (now comes in), no I/O. Not thread safe.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dnstun.h"

/* Bookkeeping charged per stored fragment on top of its bytes (allocator). */
#define FRAG_OVERHEAD 16

struct ra_entry {
	uint32_t key;
	uint8_t session;
	uint8_t total, have;
	struct ra_entry *hnext;
	struct ra_entry *sprev, *snext; /* its session's list, oldest first */
	struct ra_entry *gprev, *gnext; /* all entries, oldest first */
	uint64_t created;
	size_t bytes;	/* charged: struct, slots, fragments */
	size_t msg_len; /* payload bytes held */
	uint8_t **frag;
	uint16_t *flen;
};

struct ra_done {
	uint32_t key;
	struct ra_done *hnext, *prev, *next;
	uint64_t at;
};

struct ra_sess {
	struct ra_entry *head, *tail;
	unsigned count;
	size_t bytes;
};

struct dnstun_reasm {
	struct dnstun_reasm_cfg cfg;
	struct dnstun_reasm_stats st;
	struct ra_entry **eb;
	size_t emask;
	struct ra_done **db;
	size_t dmask;
	struct ra_entry *ghead, *gtail;
	unsigned count;
	size_t bytes;
	struct ra_done *dhead, *dtail;
	unsigned ndone;
	struct ra_sess sess[256];
};

void
dnstun_reasm_defaults(struct dnstun_reasm_cfg *c, int is_server)
{
	memset(c, 0, sizeof *c);
	c->max_msg = DNSTUN_MSG_MAX;
	if (is_server) {
		c->timeout_us = 300ULL * 1000000;
		c->max_partial_session = 64;
		c->max_bytes_session = 256 * 1024;
		c->max_partial_total = 4096;
		c->max_bytes_total = 8 * 1024 * 1024;
		c->max_done = 16384;
	} else {
		c->timeout_us = 60ULL * 1000000;
		c->max_partial_session = c->max_partial_total = 256;
		c->max_bytes_session = c->max_bytes_total = 4 * 1024 * 1024;
		c->max_done = 4096;
	}
}

const char *
dnstun_ra_name(int r)
{
	static const char *const names[] = {
	    "partial", "complete", "dup", "done", "bad", "noroom"};

	return r >= 0 && (size_t)r < nitems(names) ? names[r] : "?";
}

static size_t
pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n && p < ((size_t)1 << 24))
		p <<= 1;
	return p;
}

static inline size_t
hash(uint32_t key, size_t mask)
{
	return (size_t)((key * 2654435761u) >> 8) & mask;
}

static inline uint32_t
mkkey(uint8_t session, uint16_t seq)
{
	return (uint32_t)session << 16 | seq;
}

struct dnstun_reasm *
dnstun_reasm_new(const struct dnstun_reasm_cfg *c)
{
	struct dnstun_reasm *r = xcalloc(1, sizeof *r);
	size_t ne, nd;

	r->cfg = *c;
	if (r->cfg.max_msg == 0 || r->cfg.max_msg > DNSTUN_MSG_MAX)
		r->cfg.max_msg = DNSTUN_MSG_MAX;
	ne = pow2_at_least(MIN(c->max_partial_total, 1u << 20));
	nd = pow2_at_least(MIN(c->max_done, 1u << 20));
	r->eb = xcalloc(ne, sizeof *r->eb);
	r->emask = ne - 1;
	r->db = xcalloc(nd, sizeof *r->db);
	r->dmask = nd - 1;
	return r;
}

static struct ra_entry *
entry_find(struct dnstun_reasm *r, uint32_t key)
{
	struct ra_entry *e;

	for (e = r->eb[hash(key, r->emask)]; e != NULL; e = e->hnext)
		if (e->key == key)
			return e;
	return NULL;
}

static void
entry_remove(struct dnstun_reasm *r, struct ra_entry *e)
{
	struct ra_entry **pp = &r->eb[hash(e->key, r->emask)];
	struct ra_sess *s = &r->sess[e->session];
	unsigned i;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->sprev != NULL)
		e->sprev->snext = e->snext;
	else
		s->head = e->snext;
	if (e->snext != NULL)
		e->snext->sprev = e->sprev;
	else
		s->tail = e->sprev;
	if (e->gprev != NULL)
		e->gprev->gnext = e->gnext;
	else
		r->ghead = e->gnext;
	if (e->gnext != NULL)
		e->gnext->gprev = e->gprev;
	else
		r->gtail = e->gprev;
	s->count--;
	s->bytes -= e->bytes;
	r->count--;
	r->bytes -= e->bytes;
	for (i = 0; i < e->total; i++)
		free(e->frag[i]);
	free(e->frag);
	free(e->flen);
	free(e);
}

static size_t
entry_cost(unsigned total)
{
	return sizeof(struct ra_entry) +
	    total * (sizeof(uint8_t *) + sizeof(uint16_t));
}

static struct ra_entry *
entry_new(struct dnstun_reasm *r, uint8_t session, uint32_t key, unsigned total,
    uint64_t now)
{
	struct ra_entry *e = xcalloc(1, sizeof *e);
	struct ra_sess *s = &r->sess[session];
	size_t h = hash(key, r->emask);

	e->key = key;
	e->session = session;
	e->total = (uint8_t)total;
	e->created = now;
	e->frag = xcalloc(total, sizeof *e->frag);
	e->flen = xcalloc(total, sizeof *e->flen);
	e->bytes = entry_cost(total);
	e->hnext = r->eb[h];
	r->eb[h] = e;
	e->sprev = s->tail;
	if (s->tail != NULL)
		s->tail->snext = e;
	else
		s->head = e;
	s->tail = e;
	e->gprev = r->gtail;
	if (r->gtail != NULL)
		r->gtail->gnext = e;
	else
		r->ghead = e;
	r->gtail = e;
	s->count++;
	s->bytes += e->bytes;
	r->count++;
	r->bytes += e->bytes;
	return e;
}

static struct ra_done *
done_find(struct dnstun_reasm *r, uint32_t key)
{
	struct ra_done *d;

	for (d = r->db[hash(key, r->dmask)]; d != NULL; d = d->hnext)
		if (d->key == key)
			return d;
	return NULL;
}

static void
done_remove(struct dnstun_reasm *r, struct ra_done *d)
{
	struct ra_done **pp = &r->db[hash(d->key, r->dmask)];

	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		r->dhead = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	else
		r->dtail = d->prev;
	r->ndone--;
	free(d);
}

static void
done_add(struct dnstun_reasm *r, uint32_t key, uint64_t now)
{
	struct ra_done *d;
	size_t h;

	if (r->cfg.max_done == 0)
		return;
	if (r->ndone >= r->cfg.max_done) {
		done_remove(r, r->dhead);
		r->st.done_evicted++;
	}
	d = xcalloc(1, sizeof *d);
	h = hash(key, r->dmask);
	d->key = key;
	d->at = now;
	d->hnext = r->db[h];
	r->db[h] = d;
	d->prev = r->dtail;
	if (r->dtail != NULL)
		r->dtail->next = d;
	else
		r->dhead = d;
	r->dtail = d;
	r->ndone++;
}

void
dnstun_reasm_expire(struct dnstun_reasm *r, uint64_t now)
{
	uint64_t t = r->cfg.timeout_us;

	while (r->ghead != NULL && now - r->ghead->created >= t) {
		entry_remove(r, r->ghead);
		r->st.expired++;
	}
	while (r->dhead != NULL && now - r->dhead->at >= t)
		done_remove(r, r->dhead);
}

/*
 * Make room for need more bytes (and one more entry unless keep, the
 * entry being filled, is given). Returns 0 or -1 (refuse).
 */
static int
make_room(struct dnstun_reasm *r, uint8_t session, size_t need,
    const struct ra_entry *keep)
{
	struct ra_sess *s = &r->sess[session];
	unsigned more = keep == NULL ? 1 : 0, i, heavy;
	struct ra_entry *v;

	if (s->count + more > r->cfg.max_partial_session ||
	    s->bytes + need > r->cfg.max_bytes_session)
		return -1;
	while (r->count + more > r->cfg.max_partial_total ||
	    r->bytes + need > r->cfg.max_bytes_total) {
		heavy = session;
		for (i = 0; i < 256; i++)
			if (r->sess[i].bytes > r->sess[heavy].bytes)
				heavy = i;
		if (heavy == session || r->sess[heavy].head == NULL)
			return -1;
		v = r->sess[heavy].head;
		entry_remove(r, v);
		r->st.evicted++;
	}
	return 0;
}

static enum dnstun_ra
complete(struct dnstun_reasm *r, uint32_t key, uint64_t now)
{
	done_add(r, key, now);
	r->st.completed++;
	return DNSTUN_RA_COMPLETE;
}

static enum dnstun_ra
bad(struct dnstun_reasm *r)
{
	r->st.bad++;
	return DNSTUN_RA_BAD;
}

enum dnstun_ra
dnstun_reasm_add(struct dnstun_reasm *r, uint8_t session, uint16_t seq,
    uint8_t frag_id, uint8_t frag_total, const uint8_t *p, size_t n,
    uint64_t now, uint8_t *out, size_t cap, size_t *out_len)
{
	uint32_t key = mkkey(session, seq);
	unsigned total = frag_total ? frag_total : 1, i;
	struct ra_entry *e;
	size_t cost, off;

	*out_len = 0;
	dnstun_reasm_expire(r, now);
	r->st.fragments++;
	if (n == 0 || (total > 1 && frag_id >= total))
		return bad(r);
	if (n > r->cfg.max_msg) {
		r->st.too_big++;
		return bad(r);
	}
	if (done_find(r, key) != NULL) {
		r->st.done_dup++;
		return DNSTUN_RA_DONE;
	}
	e = entry_find(r, key);
	if (e != NULL && e->total != total) {
		/* upstream starts over with the new total */
		entry_remove(r, e);
		r->st.total_changed++;
		e = NULL;
	}
	if (total == 1) {
		if (n > cap)
			return bad(r);
		memcpy(out, p, n);
		*out_len = n;
		return complete(r, key, now);
	}
	cost = n + FRAG_OVERHEAD;
	if (e == NULL) {
		if (make_room(r, session, entry_cost(total) + cost, NULL) < 0) {
			r->st.noroom++;
			return DNSTUN_RA_NOROOM;
		}
		e = entry_new(r, session, key, total, now);
	} else {
		if (e->frag[frag_id] != NULL) {
			r->st.dup++;
			return DNSTUN_RA_DUP;
		}
		if (e->msg_len + n > r->cfg.max_msg) {
			entry_remove(r, e);
			r->st.too_big++;
			return bad(r);
		}
		if (make_room(r, session, cost, e) < 0) {
			r->st.noroom++;
			return DNSTUN_RA_NOROOM;
		}
	}
	e->frag[frag_id] = xmalloc(n);
	memcpy(e->frag[frag_id], p, n);
	e->flen[frag_id] = (uint16_t)n;
	e->have++;
	e->msg_len += n;
	e->bytes += cost;
	r->sess[session].bytes += cost;
	r->bytes += cost;
	if (e->have < e->total)
		return DNSTUN_RA_PARTIAL;
	if (e->msg_len > cap) {
		entry_remove(r, e);
		return bad(r);
	}
	for (i = 0, off = 0; i < e->total; i++) {
		memcpy(out + off, e->frag[i], e->flen[i]);
		off += e->flen[i];
	}
	*out_len = off;
	entry_remove(r, e);
	return complete(r, key, now);
}

void
dnstun_reasm_forget(struct dnstun_reasm *r, uint8_t session, uint16_t seq)
{
	struct ra_done *d = done_find(r, mkkey(session, seq));

	if (d != NULL)
		done_remove(r, d);
}

void
dnstun_reasm_drop_session(struct dnstun_reasm *r, uint8_t session)
{
	struct ra_done *d, *next;

	while (r->sess[session].head != NULL)
		entry_remove(r, r->sess[session].head);
	for (d = r->dhead; d != NULL; d = next) {
		next = d->next;
		if (d->key >> 16 == session)
			done_remove(r, d);
	}
}

void
dnstun_reasm_free(struct dnstun_reasm *r)
{
	if (r == NULL)
		return;
	while (r->ghead != NULL)
		entry_remove(r, r->ghead);
	while (r->dhead != NULL)
		done_remove(r, r->dhead);
	free(r->eb);
	free(r->db);
	free(r);
}

const struct dnstun_reasm_stats *
dnstun_reasm_stats(const struct dnstun_reasm *r)
{
	return &r->st;
}

unsigned
dnstun_reasm_partial(const struct dnstun_reasm *r, int session)
{
	return session < 0 ? r->count : r->sess[session & 0xff].count;
}

size_t
dnstun_reasm_bytes(const struct dnstun_reasm *r, int session)
{
	return session < 0 ? r->bytes : r->sess[session & 0xff].bytes;
}

unsigned
dnstun_reasm_done(const struct dnstun_reasm *r)
{
	return r->ndone;
}
