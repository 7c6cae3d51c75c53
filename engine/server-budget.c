/* SPDX-License-Identifier: MIT */
/*
 * server-budget.c — the bounds of server-budget.h: what a tunnel user
 * can make the server hold in memory (received data per stream, session
 * and server; SOCKS5_SYN bytes), how many streams and upstream
 * connections it may have, and how many replies a session's orphan lane
 * may queue. Each refusal is counted in the guard stats. Before these
 * bounds (issue 19 item 2) 181-byte queries grew a server from 7 MB to
 * 315 MB in 3.3 s: compressed STREAM_DATA inflated to 64 KiB for streams
 * still in SYN, kept as out-of-order frames.
 *
 * The totals are kept by difference: each stream remembers the ARQ bytes
 * it last counted (rx_acct) and srv_budget_sync adds the change to the
 * session and the server after anything that may move them.
 */
#include <sys/resource.h>

#include "common/util.h"
#include "engine/server-budget.h"

static void
add_held(struct srv_stream *st, size_t now_bytes)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;

	ss->rx_held -= st->rx_acct;
	s->gst.rx_held -= st->rx_acct;
	ss->rx_held += now_bytes;
	s->gst.rx_held += now_bytes;
	st->rx_acct = now_bytes;
}

void
srv_budget_sync(struct srv_stream *st)
{
	add_held(st, st->s.arq != NULL ? arq_rx_bytes(st->s.arq) : 0);
}

void
srv_budget_release(struct srv_stream *st)
{
	add_held(st, 0);
	if (st->conn_counted)
		srv_budget_conn(st, -1);
}

int
srv_budget_data_admit(struct srv_stream *st, uint16_t seq, size_t n)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;
	struct eng_server_guard_stats *g = &s->gst;
	uint16_t diff;
	size_t held, win, soft;

	if (st->state != SST_OPEN) {
		g->drop_preconnect++;
		return 0;
	}
	diff = (uint16_t)(seq - arq_rcv_nxt(st->s.arq));
	if (diff >= 32768)
		return 1; /* behind: re-ACKed, never stored */
	held = arq_rx_bytes(st->s.arq);
	/* What an honest client can have in flight (its window of frames
	 * of its upload MTU, both capped by our policy) is never refused. */
	win = (size_t)ss->up_mtu * MIN(MAX(s->cfg.pol_window, 1u), 16384u);
	soft = MAX(s->lim.stream_rx, win);
	if (held + n >
	    (diff == 0 ? MAX(s->lim.stream_rx_hard, 2 * win) : soft)) {
		g->drop_stream_budget++;
		return 0;
	}
	if (diff != 0 && ss->rx_held + n > s->lim.session_rx) {
		g->drop_session_budget++;
		return 0;
	}
	/* The in-order frame drains what waits behind it: out-of-order
	 * frames that fill the server's budget must not stall every
	 * stream, so it may use as much again. */
	if (s->gst.rx_held + n >
	    (diff == 0 ? 2 * s->lim.server_rx : s->lim.server_rx)) {
		g->drop_server_budget++;
		return 0;
	}
	return 1;
}

int
srv_budget_stream_admit(struct srv_session *ss)
{
	struct eng_server *s = ss->srv;

	if (s->st.streams_active >= s->lim.streams_max) {
		s->gst.streams_refused++;
		return 0;
	}
	return 1;
}

int
srv_budget_conn_admit(struct srv_stream *st)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;

	if (st->conn_counted)
		return 1;
	if (ss->nconns >= s->lim.conn_session ||
	    s->gst.upstream_conns >= s->lim.conn_max) {
		s->gst.conn_refused++;
		return 0;
	}
	return 1;
}

void
srv_budget_conn(struct srv_stream *st, int delta)
{
	struct srv_session *ss = st->sess;
	struct eng_server *s = ss->srv;

	if (delta > 0 && !st->conn_counted) {
		st->conn_counted = 1;
		ss->nconns++;
		s->gst.upstream_conns++;
	} else if (delta < 0 && st->conn_counted) {
		st->conn_counted = 0;
		ss->nconns--;
		s->gst.upstream_conns--;
	}
}

int
srv_budget_syn_admit(struct srv_stream *st, size_t n)
{
	if (st->syn_bytes + n > SRV_SYN_BYTES_MAX) {
		st->sess->srv->gst.syn_too_big++;
		return 0;
	}
	st->syn_bytes = (uint16_t)(st->syn_bytes + n);
	return 1;
}

void
srv_budget_orphan(
    struct srv_session *ss, uint8_t type, uint16_t stream, uint16_t seq)
{
	if (ss->orphan.n >= ss->srv->lim.orphan_max) {
		ss->srv->gst.orphan_dropped++;
		return;
	}
	txq_push(&ss->orphan, txq_priority(type), type, stream, seq, 0, 0, 0,
	    NULL, 0);
}

void
srv_budget_init(struct eng_server *s)
{
	struct eng_server_limits *l = &s->lim;
	struct rlimit rl;
	rlim_t lim = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		lim = rl.rlim_cur == RLIM_INFINITY ? (rlim_t)1 << 20 :
						     rl.rlim_cur;
	l->stream_rx = SRV_STREAM_RX_MAX;
	l->stream_rx_hard = SRV_STREAM_RX_HARD;
	l->session_rx = SRV_SESSION_RX_MAX;
	l->server_rx = SRV_SERVER_RX_MAX;
	l->streams_max = SRV_STREAMS_MAX;
	l->packed_blocks = SRV_PACKED_BLOCKS_MAX;
	l->orphan_max = SRV_ORPHAN_MAX;
	l->conn_session = MIN(MAX(s->cfg.max_streams / 4, 16u), 256u);
	/* 64 kept for the listener, the control socket and its clients,
	 * the resolver, logs and the store. */
	l->conn_max = lim > 72 ? (unsigned)MIN(lim - 64, (rlim_t)1 << 20) : 8;
}

void
eng_server_get_limits(const struct eng_server *s, struct eng_server_limits *l)
{
	*l = s->lim;
}

void
eng_server_set_limits(struct eng_server *s, const struct eng_server_limits *l)
{
	s->lim = *l;
}
