/* SPDX-License-Identifier: MIT */
/*
 * server-fec.c — the server side of the download FEC (see server-fec.h,
 * docs/fec.md). As the fork's DownstreamEncoder does: a gap in the
 * sequence, a full group or the flush timer closes the current group;
 * the group is one RaptorQ block of its payloads zero-padded to T (the
 * largest, or the negotiated symbol size if larger), and ceil(K x
 * overhead %) repair symbols with ids K, K+1, ... go out as
 * STREAM_FEC_SYMBOL frames whose sequence is the group's first. They are
 * queued at the data priority, right behind the group's data, so they
 * arrive while the client still waits for a lost packet (the fork queues
 * them at low priority, where bulk data starves them). Retransmissions
 * never enter a group.
 */
#include <stdlib.h>
#include <string.h>

#include "common/ev.h"
#include "common/log.h"
#include "engine/server-fec.h"
#include "engine/server-int.h"
#include "engine/server-stream.h"
#include "proto/raptorq.h"

/* A closed group's symbols, encoded, waiting for their release time. */
struct srv_fec_pend {
	struct srv_fec_pend *next;
	uint16_t start;
	unsigned k, nrep;
	size_t plen;
	uint8_t *pl; /* nrep payloads of plen bytes, ids k, k+1, ... */
};

struct srv_fec_grp {
	uint16_t start;
	unsigned n;
	uint8_t *pk[FEC_MAX_GROUP];
	uint16_t len[FEC_MAX_GROUP];
	uint64_t deadline;
	uint64_t timer;		      /* ev timer id, 0 when none */
	struct srv_fec_pend *ph, *pt; /* by release time (FIFO) */
	uint64_t ptimer;	      /* release timer of ph, 0 when none */
};

/* The server's FEC ceilings, from its configuration. */
static void
srv_fec_ceilings(const struct eng_server *s, struct fec_params *p)
{
	fec_params_default(p);
	p->enabled = s->cfg.fec_enabled != 0;
	p->group = (unsigned)s->cfg.fec_max_group;
	p->overhead = (unsigned)s->cfg.fec_max_overhead;
	p->symbol_size = (unsigned)s->cfg.fec_max_symbol_size;
	p->flush_ms = (unsigned)s->cfg.fec_max_flush_ms;
}

int
srv_fec_caps(struct srv_session *ss, const uint8_t *p, size_t n,
    uint8_t ack[FEC_CAPS_LEN])
{
	struct eng_server *s = ss->srv;
	struct fec_params cl, sv, eff;
	struct err e = {""};

	if (fec_caps_decode(p, n, &cl, &e) == -1) {
		s->fec_st.caps_refused++;
		return -1;
	}
	srv_fec_ceilings(s, &sv);
	fec_negotiate(&cl, &sv, &eff);
	if (eff.enabled && !ss->fec.enabled) {
		s->fec_st.negotiated++;
		log_info("session %u: FEC negotiated for download: group=%u "
			 "overhead=%u%% symbol=%u flush=%ums",
		    ss->id, eff.group, eff.overhead, eff.symbol_size,
		    eff.flush_ms);
	}
	/* A repeated SESSION_CAPS (its answer was lost) changes nothing
	 * for groups already open: they close by their own rules. */
	ss->fec = eff;
	fec_caps_encode(&eff, ack);
	return 0;
}

long
srv_fec_encode(const uint8_t *const *pk, const uint16_t *len, unsigned k,
    unsigned overhead, unsigned symbol_size, uint8_t **out, size_t *plen)
{
	unsigned nrep = fec_repair_count(k, overhead), i, t = symbol_size;
	uint8_t *blk, *sym;
	struct rq_enc *enc;
	struct fec_sym fs;
	struct err e = {""};
	size_t sz;
	long pn;

	*out = NULL;
	*plen = 0;
	if (k == 0 || k > FEC_MAX_GROUP || nrep == 0)
		return 0;
	for (i = 0; i < k; i++)
		if (len[i] > t)
			t = len[i];
	if (t == 0 || t > FEC_MAX_SYMBOL)
		return -1;
	blk = xcalloc(k, t);
	for (i = 0; i < k; i++)
		memcpy(blk + (size_t)i * t, pk[i], len[i]);
	enc = rq_enc_new(blk, k, t, &e);
	free(blk);
	if (enc == NULL)
		return -1;
	sz = fec_sym_size(k, t);
	sym = xmalloc(t);
	*out = xmalloc(sz * nrep);
	memset(&fs, 0, sizeof fs);
	fs.count = k;
	memcpy(fs.lens, len, k * sizeof len[0]);
	fs.sym = sym;
	fs.sym_len = t;
	for (i = 0; i < nrep; i++) {
		fs.id = k + i;
		if (rq_enc_symbol(enc, fs.id, sym, &e) == -1 ||
		    (pn = fec_sym_build(&fs, *out + sz * i, sz, &e)) !=
			(long)sz)
			break;
	}
	free(sym);
	rq_enc_free(enc);
	if (i < nrep) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*plen = sz;
	return (long)nrep;
}

static void
grp_clear(struct srv_stream *st)
{
	struct srv_fec_grp *g = st->fec;
	unsigned i;

	for (i = 0; i < g->n; i++)
		free(g->pk[i]);
	g->n = 0;
	if (g->timer != 0 && st->sess->srv->loop != NULL)
		ev_timer_cancel(st->sess->srv->loop, g->timer);
	g->timer = 0;
}

/* Frames of the group at start (k of them) the client has not acked. */
static unsigned
unacked(const struct srv_stream *st, uint16_t start, unsigned k)
{
	unsigned i, u = 0;

	for (i = 0; i < k; i++)
		if (arq_in_flight(st->s.arq, (uint16_t)(start + i)))
			u++;
	return u;
}

/*
 * How long a group's symbols wait after its last packet left the queue:
 * one round trip as the stream's ACKs measure it (srtt + 2 x rttvar), so
 * the ACKs of the packets that arrived are in; the flush time until there
 * is a sample.
 */
static uint64_t
hold_us(const struct srv_stream *st)
{
	uint64_t srtt, var;

	if (!arq_path_rtt(st->s.arq, &srtt, &var))
		return (uint64_t)st->sess->fec.flush_ms * 1000;
	return MIN(
	    MAX(srtt + 2 * var, SRV_FEC_HOLD_MIN_US), SRV_FEC_HOLD_MAX_US);
}

/*
 * Whether group p can be judged now: every packet of it still awaiting
 * its ACK has left the queue, the last of them a hold ago (a group is
 * closed when its data is queued, which may be long before that data
 * leaves). Else 0 and *wait, when to look again.
 */
static int
pend_ready(const struct srv_stream *st, const struct srv_fec_pend *p,
    uint64_t now, uint64_t *wait)
{
	uint64_t last = 0, at, hold = hold_us(st);
	uint16_t seq;
	unsigned i;

	for (i = 0; i < p->k; i++) {
		seq = (uint16_t)(p->start + i);
		if (!arq_in_flight(st->s.arq, seq))
			continue;
		if (!arq_sent_at(st->s.arq, seq, &at)) {
			*wait = hold;
			return 0;
		}
		last = MAX(last, at);
	}
	if (last + hold <= now)
		return 1;
	*wait = last + hold - now;
	return 0;
}

static void on_release(struct ev_loop *loop, uint64_t id, void *arg);

/*
 * Release the groups that can be judged, in order: a group whose packets
 * are all acknowledged needs nothing (its symbols are skipped and
 * counted); else as many symbols as packets are still unacknowledged (at
 * most the negotiated count) go into the stream's queue at priority 2,
 * ahead of new data and behind RESENDs: a symbol stands in for a
 * retransmission of whichever of those packets was lost. all: drop every
 * group (the stream is freed).
 */
static void
pend_release(struct srv_stream *st, uint64_t now, int all)
{
	struct eng_server *s = st->sess->srv;
	struct srv_fec_grp *g = st->fec;
	struct srv_fec_pend *p;
	unsigned u, n, i;
	uint64_t wait = 0;

	while ((p = g->ph) != NULL) {
		if (!all && !pend_ready(st, p, now, &wait))
			break;
		g->ph = p->next;
		if (g->ph == NULL)
			g->pt = NULL;
		u = all ? 0 : unacked(st, p->start, p->k);
		/* u symbols if none is lost; the group's own loss rate
		 * u / k says how many more its symbols need */
		n = MIN(u == 0 ? 0 : u + (u * u + p->k - 1) / p->k, p->nrep);
		/* The symbols may repair those packets: their RTOs wait. */
		for (i = 0; n > 0 && i < p->k; i++)
			arq_restart_rto(
			    st->s.arq, (uint16_t)(p->start + i), now);
		for (i = 0; i < n; i++)
			txq_push(&st->s.q, 2, WIRE_STREAM_FEC_SYMBOL, st->s.id,
			    p->start, 0, 0, 0, p->pl + p->plen * i, p->plen);
		s->fec_st.symbols_sent += n;
		s->fec_st.overhead_bytes += (uint64_t)n * p->plen;
		s->fec_st.symbols_skipped += p->nrep - n;
		free(p->pl);
		free(p);
	}
	if (all || g->ph == NULL || g->ptimer != 0 || s->loop == NULL)
		return;
	g->ptimer = ev_timer_add(
	    s->loop, MAX(wait, SRV_FEC_POLL_MIN_US), on_release, st);
}

static void
on_release(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct srv_stream *st = arg;

	(void)loop;
	if (st->fec == NULL || st->fec->ptimer != id)
		return;
	st->fec->ptimer = 0;
	pend_release(st, srv_now(st->sess->srv), 0);
}

/* Encode the current group; its symbols wait for their release. */
static void
grp_emit(struct srv_stream *st, uint64_t now)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;
	struct srv_fec_grp *g = st->fec;
	struct srv_fec_pend *p;
	uint8_t *pl;
	size_t plen;
	long nrep;

	nrep = srv_fec_encode((const uint8_t *const *)g->pk, g->len, g->n,
	    ss->fec.overhead, ss->fec.symbol_size, &pl, &plen);
	if (nrep < 0)
		s->fec_st.failed_groups++;
	if (nrep <= 0)
		return;
	s->fec_st.groups_created++;
	p = xcalloc(1, sizeof *p);
	p->start = g->start;
	p->k = g->n;
	p->nrep = (unsigned)nrep;
	p->plen = plen;
	p->pl = pl;
	if (g->pt != NULL)
		g->pt->next = p;
	else
		g->ph = p;
	g->pt = p;
	pend_release(st, now, 0);
}

static void
grp_flush(struct srv_stream *st, uint64_t now)
{
	if (st->fec == NULL || st->fec->n == 0)
		return;
	grp_emit(st, now);
	grp_clear(st);
}

static void
on_flush(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct srv_stream *st = arg;

	(void)loop;
	if (st->fec == NULL || st->fec->timer != id)
		return;
	st->fec->timer = 0;
	grp_flush(st, srv_now(st->sess->srv));
}

void
srv_fec_data(struct srv_stream *st, uint16_t seq, const uint8_t *p, size_t n,
    uint64_t now)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;
	struct srv_fec_grp *g;
	uint64_t us;

	if (!ss->fec.enabled || n == 0 || n > FEC_MAX_SYMBOL || st->s.id == 0)
		return;
	if (st->fec == NULL)
		st->fec = xcalloc(1, sizeof *st->fec);
	g = st->fec;
	if (g->n > 0 && seq != (uint16_t)(g->start + g->n))
		grp_flush(st, now);
	if (g->n == 0) {
		g->start = seq;
		us = (uint64_t)ss->fec.flush_ms * 1000;
		g->deadline = now + us;
		if (s->loop != NULL)
			g->timer = ev_timer_add(s->loop, us, on_flush, st);
	}
	g->pk[g->n] = xmalloc(n);
	memcpy(g->pk[g->n], p, n);
	g->len[g->n] = (uint16_t)n;
	g->n++;
	if (g->n >= ss->fec.group)
		grp_flush(st, now);
}

void
srv_fec_tick(struct srv_stream *st, uint64_t now)
{
	if (st->fec == NULL)
		return;
	if (st->fec->n > 0 && now >= st->fec->deadline)
		grp_flush(st, now);
	pend_release(st, now, 0);
}

int
srv_fec_stale(struct srv_stream *st, const uint8_t *p, size_t n, uint16_t seq)
{
	struct eng_server *s = st->sess->srv;

	if (n < 2 || unacked(st, seq, p[1]) > 0)
		return 0;
	/* Acknowledged while it waited in the queue: not needed. */
	s->fec_st.symbols_sent--;
	s->fec_st.overhead_bytes -= n;
	s->fec_st.symbols_skipped++;
	return 1;
}

void
srv_fec_stream_free(struct srv_stream *st)
{
	if (st->fec == NULL)
		return;
	grp_clear(st);
	pend_release(st, 0, 1);
	if (st->fec->ptimer != 0 && st->sess->srv->loop != NULL)
		ev_timer_cancel(st->sess->srv->loop, st->fec->ptimer);
	free(st->fec);
	st->fec = NULL;
}

static unsigned
fec_sessions(const struct eng_server *s)
{
	unsigned i, n = 0;

	for (i = 1; i < 256; i++)
		if (s->sess[i].state == SESS_ACTIVE && s->sess[i].fec.enabled)
			n++;
	return n;
}

json_t *
srv_fec_status_json(const struct eng_server *s)
{
	struct fec_params p;
	unsigned nsess = fec_sessions(s);
	json_t *o;

	srv_fec_ceilings(s, &p);
	fec_params_normalize(&p);
	o = eng_fec_json(nsess > 0, &p, &s->fec_st);
	json_object_set_new(o, "enabled", json_boolean(p.enabled));
	json_object_set_new(o, "sessions", json_integer(nsess));
	json_object_set_new(o, "sessions_negotiated",
	    json_integer((json_int_t)s->fec_st.negotiated));
	json_object_set_new(o, "caps_refused",
	    json_integer((json_int_t)s->fec_st.caps_refused));
	/* The server's ceilings are shown even before a client asks. */
	json_object_set_new(o, "group_size", json_integer(p.group));
	json_object_set_new(o, "overhead", json_integer(p.overhead));
	json_object_set_new(o, "symbol_size", json_integer(p.symbol_size));
	json_object_set_new(o, "flush_ms", json_integer(p.flush_ms));
	return o;
}

void
srv_fec_metrics(const struct eng_server *s, FILE *f)
{
	eng_fec_metrics(f, "mdns_server", fec_sessions(s) > 0, &s->fec_st);
}
