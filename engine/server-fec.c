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

struct srv_fec_grp {
	uint16_t start;
	unsigned n;
	uint8_t *pk[FEC_MAX_GROUP];
	uint16_t len[FEC_MAX_GROUP];
	uint64_t deadline;
	uint64_t timer; /* ev timer id, 0 when none */
};

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
	fec_params_default(&sv);
	sv.enabled = s->cfg.fec_enabled != 0;
	sv.group = (unsigned)s->cfg.fec_max_group;
	sv.overhead = (unsigned)s->cfg.fec_max_overhead;
	sv.symbol_size = (unsigned)s->cfg.fec_max_symbol_size;
	sv.flush_ms = (unsigned)s->cfg.fec_max_flush_ms;
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

/* Encode the current group and queue its repair symbols. */
static void
grp_emit(struct srv_stream *st)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;
	struct srv_fec_grp *g = st->fec;
	unsigned k = g->n, nrep, i, t = ss->fec.symbol_size;
	uint8_t *blk, *sym, *pl;
	struct rq_enc *enc;
	struct fec_sym fs;
	struct err e = {""};
	long pn;

	nrep = fec_repair_count(k, ss->fec.overhead);
	if (k == 0 || nrep == 0)
		return;
	for (i = 0; i < k; i++)
		if (g->len[i] > t)
			t = g->len[i];
	blk = xcalloc(k, t);
	for (i = 0; i < k; i++)
		memcpy(blk + (size_t)i * t, g->pk[i], g->len[i]);
	enc = rq_enc_new(blk, k, t, &e);
	free(blk);
	if (enc == NULL) {
		s->fec_st.failed_groups++;
		return;
	}
	sym = xmalloc(t);
	pl = xmalloc(fec_sym_size(k, t));
	memset(&fs, 0, sizeof fs);
	fs.count = k;
	memcpy(fs.lens, g->len, k * sizeof g->len[0]);
	fs.sym = sym;
	fs.sym_len = t;
	for (i = 0; i < nrep; i++) {
		fs.id = k + i;
		if (rq_enc_symbol(enc, fs.id, sym, &e) == -1 ||
		    (pn = fec_sym_build(&fs, pl, fec_sym_size(k, t), &e)) < 0) {
			s->fec_st.failed_groups++;
			break;
		}
		txq_push(&st->s.q, 3, WIRE_STREAM_FEC_SYMBOL, st->s.id,
		    g->start, 0, 0, 0, pl, (size_t)pn);
		s->fec_st.symbols_sent++;
		s->fec_st.overhead_bytes += (uint64_t)pn;
	}
	if (i == nrep)
		s->fec_st.groups_created++;
	free(pl);
	free(sym);
	rq_enc_free(enc);
}

static void
grp_flush(struct srv_stream *st)
{
	if (st->fec == NULL || st->fec->n == 0)
		return;
	grp_emit(st);
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
	grp_flush(st);
	/* The symbols wait in the stream's queue like its data. */
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
		grp_flush(st);
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
		grp_flush(st);
}

void
srv_fec_tick(struct srv_stream *st, uint64_t now)
{
	if (st->fec != NULL && st->fec->n > 0 && now >= st->fec->deadline)
		grp_flush(st);
}

void
srv_fec_stream_free(struct srv_stream *st)
{
	if (st->fec == NULL)
		return;
	grp_clear(st);
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
	json_t *o;

	fec_params_default(&p);
	p.enabled = s->cfg.fec_enabled != 0;
	p.group = (unsigned)s->cfg.fec_max_group;
	p.overhead = (unsigned)s->cfg.fec_max_overhead;
	p.symbol_size = (unsigned)s->cfg.fec_max_symbol_size;
	p.flush_ms = (unsigned)s->cfg.fec_max_flush_ms;
	fec_params_normalize(&p);
	o = eng_fec_json(fec_sessions(s) > 0, &p, &s->fec_st);
	json_object_set_new(o, "enabled", json_boolean(p.enabled));
	json_object_set_new(o, "sessions", json_integer(fec_sessions(s)));
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
