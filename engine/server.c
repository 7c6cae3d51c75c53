/* SPDX-License-Identifier: MIT */
/*
 * server.c — the tunnel server's packet handler, session table and polling
 * (wire-protocol.md 1.6–1.13): one DNS query in, at most one answer out.
 *
 * Answer classes follow upstream exactly: NXDOMAIN+AA for names outside
 * the tunnel domains, NODATA for anything in-zone that cannot be used,
 * FORMERR for an empty QNAME, silence for non-requests, otherwise one
 * tunnel frame — for a session, the next queued frame chosen round robin
 * over the orphan lane, stream 0 and the streams, by priority within each,
 * with packable control frames folded into PACKED_CONTROL_BLOCKS, or PONG
 * when nothing is queued.
 *
 * Stream I/O and upstream connects live in server-stream.c; DNS through
 * the tunnel (DNS_QUERY_REQ / RES_ACK on stream 0) in server-dns.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "proto/dns.h"
#include "engine/server-budget.h"
#include "engine/server-dns.h"
#include "engine/server-leak.h"
#include "engine/server-fec.h"
#include "engine/server-source.h"
#include "engine/server-stream.h"

#define FRAME_MAX 8192
#define TICK_US	  20000ULL
#define SEC(x)	  ((uint64_t)((x)*1000000.0))

void
eng_server_set_clock(struct eng_server *s, uint64_t (*fn)(void *), void *arg)
{
	s->clock = fn;
	s->clock_arg = arg;
}

void
eng_server_force_cookie(struct eng_server *s, int cookie)
{
	s->force_cookie = cookie >= 0 && cookie <= 255 ? cookie : -1;
}

void
eng_server_force_session_id(struct eng_server *s, int id)
{
	s->force_id = id >= 1 && id <= 255 ? id : -1;
}

const struct eng_server_stats *
eng_server_stats(const struct eng_server *s)
{
	return &s->st;
}

const struct eng_server_guard_stats *
eng_server_guard_stats(const struct eng_server *s)
{
	return &s->gst;
}

static uint8_t
rand_byte(void)
{
	uint8_t b = 0;

	if (RAND_bytes(&b, 1) != 1)
		b = (uint8_t)(now_mono_us() * 2654435761u >> 24);
	return b;
}

/* ---- answers ---- */

static size_t
answer_empty(struct eng_server *s, const struct dns_query *q,
    enum dns_empty_kind kind, uint8_t *out, size_t cap)
{
	long n = dns_answer_empty(out, cap, q, kind, NULL);

	if (n <= 0) {
		s->st.ans_none++;
		return 0;
	}
	if (kind == DNS_EMPTY_NODATA)
		s->st.ans_nodata++;
	else if (kind == DNS_EMPTY_NXDOMAIN)
		s->st.ans_nxdomain++;
	else
		s->st.ans_formerr++;
	return (size_t)n;
}

/*
 * The answer did not fit the asker's UDP size (cap is that size, below
 * 65535): an empty answer with TC set, as RFC 1035 4.2.1 and RFC 6891
 * 7 want, instead of a larger one (issue 19 item 6).
 */
static size_t
answer_tc(
    struct eng_server *s, const struct dns_query *q, uint8_t *out, size_t cap)
{
	long n = dns_answer_empty(out, cap, q, DNS_EMPTY_NODATA, NULL);

	if (n <= 0) {
		s->st.ans_none++;
		return 0;
	}
	out[2] |= 0x02; /* TC */
	s->gst.ans_truncated++;
	return (size_t)n;
}

/* A tunnel answer carrying frame f in mode; NODATA if it cannot be built. */
static size_t
answer_frame(struct eng_server *s, const struct dns_query *q,
    const struct wire_frame *f, int mode, uint8_t *out, size_t cap)
{
	uint8_t fb[FRAME_MAX];
	long fl, n;

	fl = wire_frame_build(f, fb, sizeof fb);
	if (fl < 0)
		return answer_empty(s, q, DNS_EMPTY_NODATA, out, cap);
	n = dns_answer_build(out, cap, q, fb, (size_t)fl,
	    wire_header_len(f->type), mode ? DNS_RESP_BASE64 : DNS_RESP_RAW,
	    NULL);
	if (n <= 0 && cap < 65535)
		return answer_tc(s, q, out, cap);
	if (n <= 0)
		return answer_empty(s, q, DNS_EMPTY_NODATA, out, cap);
	s->st.ans_tunnel++;
	return (size_t)n;
}

static size_t
answer_error_drop(struct eng_server *s, const struct dns_query *q, uint8_t sid,
    int mode, uint8_t *out, size_t cap)
{
	struct wire_frame f;
	uint8_t p[WIRE_ERROR_DROP_LEN];

	wire_error_drop_build(NULL, p, sizeof p);
	memset(&f, 0, sizeof f);
	f.session_id = sid;
	f.type = WIRE_ERROR_DROP;
	f.payload = p;
	f.payload_len = sizeof p;
	s->st.error_drop_sent++;
	return answer_frame(s, q, &f, mode, out, cap);
}

/* ---- session table ---- */

static void
session_close(struct eng_server *s, struct srv_session *ss, uint64_t now)
{
	srv_streams_free(ss);
	srv_dns_session_close(ss);
	txq_clear(&ss->q0);
	txq_clear(&ss->orphan);
	free(ss->ctrack);
	ss->ctrack = NULL;
	free(ss->last_packed);
	ss->last_packed = NULL;
	ss->last_packed_left = 0;
	if (ss->state == SESS_ACTIVE)
		s->nactive--;
	ss->state = SESS_CLOSED;
	ss->closed_at = now;
	s->st.sessions_active = s->nactive;
}

/*
 * A free session id, at random: sequential ids let anyone who opens a
 * session guess the others' (issue 19 item 4). 0 when none is free.
 */
static unsigned
pick_id(struct eng_server *s)
{
	unsigned i, nfree = 0, k;
	uint8_t r[2];
	int want;

	if (s->force_id >= 1 && s->force_id <= 255 &&
	    s->sess[s->force_id].state != SESS_ACTIVE)
		return (unsigned)s->force_id;
	/* Ids never used or long closed first: a recently closed one still
	 * answers ERROR_DROP to its late queries. */
	for (i = 1; i < 256; i++)
		nfree += s->sess[i].state == SESS_NONE;
	want = SESS_NONE;
	if (nfree == 0) {
		want = SESS_CLOSED;
		for (i = 1; i < 256; i++)
			nfree += s->sess[i].state == SESS_CLOSED;
	}
	if (nfree == 0)
		return 0;
	if (RAND_bytes(r, 2) != 1)
		r[0] = r[1] = rand_byte();
	k = (unsigned)(r[0] << 8 | r[1]) % nfree;
	for (i = 1; i < 256; i++)
		if (s->sess[i].state == want && k-- == 0)
			return i;
	return 0;
}

/* Upstream findOrCreate: idempotent by the 10-byte INIT signature. */
static struct srv_session *
session_find_or_create(struct eng_server *s, const struct wire_session_init *in,
    const uint8_t *sig, struct srv_source *src, int *reused, int *busy)
{
	struct srv_session *ss;
	uint64_t now = srv_now(s);
	unsigned i, id, max;
	int up, down;

	*reused = *busy = 0;
	for (i = 1; i < 256; i++) {
		ss = &s->sess[i];
		if (ss->state == SESS_ACTIVE &&
		    memcmp(ss->sig, sig, sizeof ss->sig) == 0 &&
		    now <= ss->reuse_until) {
			ss->last_activity = now;
			*reused = 1;
			return ss;
		}
	}
	max = MIN(MAX(s->cfg.max_sessions, 1u), 255u);
	if (s->nactive >= max) {
		*busy = 1;
		return NULL;
	}
	if (!srv_source_init_ok(s, src, now)) {
		*busy = -1; /* silence */
		return NULL;
	}
	/* The last quarter of the table is kept for sources that already
	 * hold a working session: 255 INITs filled it in 0.02 s. */
	if (s->from != NULL && max >= 4 &&
	    s->nactive >= max * SRV_SESS_OPEN_QUARTERS / 4 &&
	    !srv_source_has_working(src, now)) {
		s->gst.sessions_reserved++;
		*busy = 1;
		return NULL;
	}
	if ((id = pick_id(s)) == 0) {
		*busy = 1;
		return NULL;
	}
	ss = &s->sess[id];
	if (ss->state == SESS_CLOSED)
		session_close(s, ss, now); /* drop leftovers */
	memset(ss, 0, sizeof *ss);
	ss->srv = s;
	ss->state = SESS_ACTIVE;
	ss->id = (uint8_t)id;
	ss->mode = in->mode;
	memcpy(ss->sig, sig, sizeof ss->sig);
	wire_comp_split(in->comp_pair, &up, &down);
	ss->up_comp = up >= 0 && up <= WIRE_COMP_MAX &&
		(s->cfg.up_comp_mask & (1u << up)) ?
	    (uint8_t)up :
	    0;
	ss->down_comp = down >= 0 && down <= WIRE_COMP_MAX &&
		(s->cfg.down_comp_mask & (1u << down)) ?
	    (uint8_t)down :
	    0;
	/* Clamp to [10, 4096] and to the policy maximum (itself clamped). */
	ss->up_mtu = (uint16_t)MIN(
	    MAX(in->upload_mtu, 10u), MIN(MAX(s->cfg.pol_up_mtu, 10u), 4096u));
	ss->down_mtu = (uint16_t)MIN(MAX(in->download_mtu, 10u),
	    MIN(MAX(s->cfg.pol_down_mtu, 10u), 4096u));
	ss->max_blocks = (unsigned)wire_max_packed_blocks(
	    ss->down_mtu, MAX(s->cfg.max_packets_per_batch, 1u));
	ss->cookie =
	    s->force_cookie >= 0 ? (uint8_t)s->force_cookie : rand_byte();
	ss->created = ss->last_activity = now;
	ss->reuse_until = now + SEC(s->cfg.init_reuse_s);
	s->nactive++;
	s->st.sessions_created++;
	s->st.sessions_active = s->nactive;
	log_info("session %u created: mode %s, compression %s/%s, MTU %u/%u",
	    id, ss->mode ? "base64" : "raw", wire_comp_name(ss->up_comp),
	    wire_comp_name(ss->down_comp), ss->up_mtu, ss->down_mtu);
	return ss;
}

static int
cookie_threshold_hit(
    struct eng_server *s, struct srv_session *ss, uint8_t cookie, uint64_t now)
{
	uint64_t win = SEC(s->cfg.invalid_cookie_window_s);
	unsigned thr = MIN(MAX(s->cfg.invalid_cookie_threshold, 1u), 32u);
	struct srv_ctrack *t;
	unsigned i, j;

	if (win == 0)
		return 0;
	if (ss->ctrack == NULL)
		ss->ctrack = xcalloc(256, sizeof *ss->ctrack);
	t = &ss->ctrack[cookie];
	for (i = j = 0; i < t->nhits; i++)
		if (now - t->hits[i] < win)
			t->hits[j++] = t->hits[i];
	t->nhits = j;
	if (t->nhits == thr) {
		memmove(t->hits, t->hits + 1, (thr - 1) * sizeof t->hits[0]);
		t->nhits--;
	}
	t->hits[t->nhits++] = now;
	if (t->nhits < thr)
		return 0;
	if (t->last_emit != 0 && now - t->last_emit < win)
		return 0;
	t->last_emit = now;
	return 1;
}

/* ---- the session's lanes ---- */

/* RST or ACK for a stream that is gone (survives no stream). */
static void
srv_orphan(struct srv_session *ss, uint8_t type, uint16_t stream, uint16_t seq)
{
	srv_budget_orphan(ss, type, stream, seq);
}

/* ---- post-session dispatch (upstream server_postsession.go) ---- */

/* Unknown stream: answer with RST (or the close ACK), ignore ACKs. */
static int
missing_stream_reset(struct srv_session *ss, const struct wire_frame *f)
{
	uint8_t t = f->type;

	if (f->stream_id == 0 || t == WIRE_STREAM_SYN || t == WIRE_SOCKS5_SYN ||
	    t == WIRE_PACKED_CONTROL_BLOCKS || t == WIRE_PING ||
	    t == WIRE_DNS_QUERY_REQ)
		return 0;
	if (t == WIRE_STREAM_DATA_ACK || t == WIRE_STREAM_DATA_NACK ||
	    wire_ack_origin(t) >= 0)
		return 1;
	if (t == WIRE_STREAM_RST) {
		srv_orphan(ss, WIRE_STREAM_RST_ACK, f->stream_id, f->seq);
		return 1;
	}
	if (t == WIRE_STREAM_CLOSE_READ || t == WIRE_STREAM_CLOSE_WRITE)
		srv_orphan(ss, (uint8_t)wire_ack_type(t), f->stream_id, 0);
	else
		srv_orphan(ss, WIRE_STREAM_RST, f->stream_id, 0);
	return 1;
}

static void
immediate_ack(
    struct srv_session *ss, struct srv_stream *st, const struct wire_frame *f)
{
	int ack = wire_ack_type(f->type);
	struct txq *q;

	if (ack < 0)
		return;
	if (f->stream_id == 0)
		q = &ss->q0;
	else if (st != NULL)
		q = &st->s.q;
	else
		return;
	txq_push(q, txq_priority((uint8_t)ack), (uint8_t)ack, f->stream_id,
	    f->seq, f->frag_id, f->frag_total, 0, NULL, 0);
}

/* Returns 1 when the frame was fully handled here. */
static int
preprocess(struct srv_session *ss, const struct wire_frame *f, uint64_t now)
{
	struct srv_stream *st = srv_stream_find(ss, f->stream_id);
	uint8_t t = f->type;
	int origin;

	if (f->stream_id != 0 && st == NULL &&
	    srv_stream_recently_closed(ss, f->stream_id, now)) {
		if (t == WIRE_STREAM_SYN || t == WIRE_SOCKS5_SYN ||
		    t == WIRE_STREAM_DATA || t == WIRE_STREAM_RESEND) {
			srv_orphan(ss, WIRE_STREAM_RST, f->stream_id, 0);
			return 1;
		}
		if (t == WIRE_STREAM_DATA_ACK || t == WIRE_STREAM_DATA_NACK ||
		    wire_ack_origin(t) >= 0)
			return 1;
		if (wire_ack_type(t) >= 0) {
			srv_orphan(ss, (uint8_t)wire_ack_type(t), f->stream_id,
			    f->seq);
			return 1;
		}
		return missing_stream_reset(ss, f);
	}
	if (f->stream_id != 0 && st == NULL)
		return missing_stream_reset(ss, f);
	switch (t) {
	case WIRE_STREAM_DATA:
	case WIRE_STREAM_RESEND:
	case WIRE_DNS_QUERY_REQ:
	case WIRE_STREAM_SYN:
	case WIRE_SOCKS5_SYN:
		break;
	default:
		immediate_ack(ss, st, f);
	}
	if (st == NULL)
		return 0;
	if (t == WIRE_STREAM_DATA_ACK) {
		srv_stream_ack(st, f->seq, now);
		return 1;
	}
	if ((origin = wire_ack_origin(t)) >= 0) {
		srv_stream_ctl_acked(
		    st, (uint8_t)origin, f->seq, f->frag_id, now);
		return 1;
	}
	return 0;
}

static void
dispatch(struct srv_session *ss, const struct wire_frame *f,
    const uint8_t *payload, size_t plen, uint64_t now)
{
	struct eng_server *s = ss->srv;
	struct srv_stream *st;
	int socks = f->type == WIRE_SOCKS5_SYN;

	switch (f->type) {
	case WIRE_STREAM_DATA:
	case WIRE_STREAM_RESEND:
		st = srv_stream_find(ss, f->stream_id);
		if (st == NULL)
			return;
		if (srv_stream_dead(st)) {
			srv_orphan(ss, WIRE_STREAM_RST, f->stream_id, 0);
			return;
		}
		srv_stream_data(st, payload, plen, f->seq, now);
		return;
	case WIRE_STREAM_DATA_NACK:
		st = srv_stream_find(ss, f->stream_id);
		if (st != NULL)
			srv_stream_nack(st, f->seq, now);
		return;
	case WIRE_STREAM_SYN:
	case WIRE_SOCKS5_SYN:
		if (f->stream_id == 0)
			return;
		st = srv_stream_find(ss, f->stream_id);
		if (st == NULL) {
			if (ss->streams.n >= MAX(s->cfg.max_streams, 1u) ||
			    !srv_budget_stream_admit(ss)) {
				srv_orphan(ss,
				    socks ? WIRE_SOCKS5_CONNECT_FAIL :
					    WIRE_STREAM_CONNECT_FAIL,
				    f->stream_id, f->seq);
				return;
			}
			st = srv_stream_create(ss, f->stream_id);
		}
		/* SYN_ACK echoes seq and fragment, for every copy. */
		txq_push(&st->s.q, 0,
		    socks ? WIRE_SOCKS5_SYN_ACK : WIRE_STREAM_SYN_ACK,
		    f->stream_id, f->seq, f->frag_id, f->frag_total, 0, NULL,
		    0);
		if (socks) {
			struct wire_frame g = *f;

			g.payload = payload;
			g.payload_len = plen;
			srv_stream_syn_fragment(st, &g);
		} else
			srv_stream_tcp_syn(st, f->seq);
		return;
	case WIRE_STREAM_CLOSE_READ:
		if ((st = srv_stream_find(ss, f->stream_id)) != NULL)
			srv_stream_close_read(st, now);
		return;
	case WIRE_STREAM_CLOSE_WRITE:
		if ((st = srv_stream_find(ss, f->stream_id)) != NULL)
			srv_stream_close_write(st, now);
		return;
	case WIRE_DNS_QUERY_REQ:
	case WIRE_DNS_QUERY_RES_ACK:
		if (f->stream_id == 0)
			srv_dns_frame(ss, f, payload, plen, now);
		return;
	case WIRE_STREAM_RST:
		if (f->stream_id == 0)
			return;
		srv_orphan(ss, WIRE_STREAM_RST_ACK, f->stream_id, f->seq);
		if ((st = srv_stream_find(ss, f->stream_id)) != NULL)
			srv_stream_finish(st);
		return;
	default:
		return;
	}
}

static int
syn_mismatch(const struct eng_server *s, uint8_t t)
{
	return (s->cfg.protocol_tcp && t == WIRE_SOCKS5_SYN) ||
	    (!s->cfg.protocol_tcp && t == WIRE_STREAM_SYN);
}

static void
handle_packed(struct srv_session *ss, const struct wire_frame *f, uint64_t now)
{
	struct wire_frame g;
	size_t i;

	for (i = 0; stream_unpack(f, i, &g) == 0; i++) {
		if (i >= ss->srv->lim.packed_blocks) {
			ss->srv->gst.packed_cut +=
			    f->payload_len / WIRE_PACKED_BLOCK_LEN - i;
			break;
		}
		ss->srv->gst.packed_blocks++;
		if (g.type == WIRE_PACKED_CONTROL_BLOCKS ||
		    syn_mismatch(ss->srv, g.type) || !wire_type_valid(g.type) ||
		    wire_type_fork(g.type))
			continue;
		if (!preprocess(ss, &g, now))
			dispatch(ss, &g, NULL, 0, now);
	}
}

/* ---- polling ---- */

/*
 * The next downstream frame for a session, written as a frame (header +
 * payload) into fb; returns its length or 0 when nothing is queued.
 * Candidates: the orphan lane, stream 0, then the streams (stream.h).
 */
static size_t
dequeue(struct srv_session *ss, uint8_t *fb, size_t cap, uint64_t now)
{
	uint8_t pk[20 * WIRE_PACKED_BLOCK_LEN + 8];
	const struct stream_lane lanes[2] = {
	    {&ss->orphan, -1, NULL}, {&ss->q0, 0, ss->dns_arq}};
	struct stream_sched sc = {
	    lanes, 2, &ss->streams, &ss->rr, ss->max_blocks, pk, 20};
	struct txq_frame *hold;
	struct wire_frame w;
	long n;

	if (ss->last_packed_left > 0 && ss->last_packed_len <= cap) {
		ss->last_packed_left--;
		memcpy(fb, ss->last_packed, ss->last_packed_len);
		return ss->last_packed_len;
	}
	if (!stream_sched_next(&sc, now, &w, &hold))
		return 0;
	w.session_id = ss->id;
	w.cookie = ss->cookie;
	n = wire_frame_build(&w, fb, cap);
	if (w.type == WIRE_PACKED_CONTROL_BLOCKS) {
		if (n > 0 && ss->srv->cfg.packed_dup > 1) {
			free(ss->last_packed);
			ss->last_packed = xmalloc((size_t)n);
			memcpy(ss->last_packed, fb, (size_t)n);
			ss->last_packed_len = (size_t)n;
			ss->last_packed_left =
			    MIN(ss->srv->cfg.packed_dup, 8u) - 1;
		}
	} else if (w.type == WIRE_STREAM_DATA || w.type == WIRE_STREAM_RESEND)
		ss->srv->st.bytes_down += w.payload_len;
	free(hold);
	return n > 0 ? (size_t)n : 0;
}

static size_t
serve_queued_or_pong(struct eng_server *s, struct srv_session *ss,
    const struct dns_query *q, uint8_t *out, size_t cap, uint64_t now)
{
	uint8_t fb[FRAME_MAX], pp[WIRE_PING_LEN];
	struct wire_frame w;
	size_t n;
	long an;

	n = dequeue(ss, fb, sizeof fb, now);
	if (n > 0) {
		an =
		    dns_answer_build(out, cap, q, fb, n, wire_header_len(fb[1]),
			ss->mode ? DNS_RESP_BASE64 : DNS_RESP_RAW, NULL);
		if (an > 0) {
			s->st.ans_tunnel++;
			return (size_t)an;
		}
		if (cap < 65535)
			return answer_tc(s, q, out, cap);
		return answer_empty(s, q, DNS_EMPTY_NODATA, out, cap);
	}
	wire_ping_build(NULL, pp, sizeof pp);
	memset(&w, 0, sizeof w);
	w.session_id = ss->id;
	w.cookie = ss->cookie;
	w.type = WIRE_PONG;
	w.payload = pp;
	w.payload_len = sizeof pp;
	return answer_frame(s, q, &w, ss->mode, out, cap);
}

/* ---- pre-session requests ---- */

/* MTU_UP_REQ (down 0) or MTU_DOWN_REQ (down 1): the echo, or NODATA. */
static size_t
handle_mtu(struct eng_server *s, const struct dns_query *q,
    const struct wire_frame *f, int down, uint8_t *out, size_t cap)
{
	struct wire_mtu_req r;
	struct wire_frame w;
	uint8_t p[WIRE_MTU_DOWN_MAX];
	long n;

	if ((down ? wire_mtu_down_req_parse(f->payload, f->payload_len, &r) :
		    wire_mtu_up_req_parse(f->payload, f->payload_len, &r)) !=
	    WIRE_OK)
		return answer_empty(s, q, DNS_EMPTY_NODATA, out, cap);
	if (down) {
		s->st.mtu_down++;
		n = wire_mtu_down_res_build(r.code, r.down, p, sizeof p);
	} else {
		s->st.mtu_up++;
		n = wire_mtu_up_res_build(
		    r.code, (uint16_t)MIN(f->payload_len, 65535u), p, sizeof p);
	}
	memset(&w, 0, sizeof w);
	w.session_id = f->session_id;
	w.type = down ? WIRE_MTU_DOWN_RES : WIRE_MTU_UP_RES;
	w.payload = p;
	w.payload_len = n > 0 ? (size_t)n : 0;
	return answer_frame(s, q, &w, r.mode, out, cap);
}

static size_t
handle_init(struct eng_server *s, const struct dns_query *q,
    const struct wire_frame *f, uint8_t *out, size_t cap)
{
	struct wire_session_init in;
	struct wire_session_accept a;
	struct srv_session *ss;
	struct wire_frame w;
	uint8_t p[WIRE_SESSION_ACCEPT_LEN];
	const struct cfg_server *c = &s->cfg;
	int reused, busy;
	long n;

	if (f->session_id != 0 ||
	    wire_session_init_parse(f->payload, f->payload_len, &in) != WIRE_OK)
		return answer_empty(s, q, DNS_EMPTY_NODATA, out, cap);
	ss = session_find_or_create(
	    s, &in, f->payload, srv_source_get(s, srv_now(s)), &reused, &busy);
	memset(&w, 0, sizeof w);
	if (ss == NULL && busy < 0)
		return 0;
	if (ss == NULL) {
		s->st.sessions_busy++;
		n = wire_session_busy_build(in.verify, p, sizeof p);
		w.type = WIRE_SESSION_BUSY;
		w.payload = p;
		w.payload_len = (size_t)n;
		return answer_frame(s, q, &w, in.mode, out, cap);
	}
	if (reused)
		s->st.sessions_reused++;
	memset(&a, 0, sizeof a);
	a.session_id = ss->id;
	a.cookie = ss->cookie;
	a.comp_pair = wire_comp_pair(ss->up_comp, ss->down_comp);
	memcpy(a.verify, in.verify, 4);
	a.has_policy = true;
	a.policy.max_dup = (uint8_t)MIN(c->pol_dup, 15u);
	a.policy.max_setup_dup = (uint8_t)MIN(c->pol_setup_dup, 15u);
	a.policy.max_upload_mtu = (uint8_t)MIN(c->pol_up_mtu, 255u);
	a.policy.max_download_mtu = (uint16_t)MIN(c->pol_down_mtu, 65535u);
	a.policy.max_workers = (uint8_t)MIN(c->pol_workers, 255u);
	a.policy.min_ping_interval_raw = wire_scaled_byte(c->pol_ping_s);
	a.policy.max_batch = (uint8_t)MIN(c->pol_batch, 255u);
	a.policy.max_arq_window = (uint16_t)MIN(c->pol_window, 65535u);
	a.policy.max_nack_gap = (uint8_t)MIN(c->pol_nack_gap, 255u);
	a.policy.min_comp_min_size = (uint16_t)MIN(c->pol_comp_min, 65535u);
	a.policy.min_rto_raw = wire_scaled_byte(c->pol_rto_s);
	n = wire_session_accept_build(&a, p, sizeof p);
	w.type = WIRE_SESSION_ACCEPT;
	w.payload = p;
	w.payload_len = n > 0 ? (size_t)n : 0;
	return answer_frame(s, q, &w, ss->mode, out, cap);
}

static void
handle_session_close(struct eng_server *s, const struct wire_frame *f)
{
	struct srv_session *ss = &s->sess[f->session_id];

	if (f->session_id == 0 || ss->state != SESS_ACTIVE ||
	    ss->cookie != f->cookie)
		return;
	log_info("session %u closed by the client", ss->id);
	s->st.sessions_closed++;
	session_close(s, ss, srv_now(s));
}

/* ---- the handler ---- */

static size_t handle(struct eng_server *s, const uint8_t *msg, size_t len,
    uint8_t *out, size_t cap);

size_t
eng_server_handle(struct eng_server *s, const uint8_t *msg, size_t len,
    uint8_t *out, size_t cap)
{
	return eng_server_handle_from(s, NULL, msg, len, out, cap);
}

size_t
eng_server_handle_from(struct eng_server *s, const union net_addr *from,
    const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	size_t n;

	s->from = from;
	s->from_src = NULL;
	s->in_session = 0;
	n = handle(s, msg, len, out, cap);
	/* Answers that no working session asked for (MTU probes, INIT
	 * replies, ERROR_DROP, empty answers) are what a spoofed or replayed
	 * query reflects: bounded per source (issue 19 item 6). */
	if (n > len && !s->in_session &&
	    !srv_source_answer_ok(
		s, srv_source_get(s, srv_now(s)), n - len, srv_now(s)))
		n = 0;
	s->from = NULL;
	s->from_src = NULL;
	return n;
}

static size_t
handle(struct eng_server *s, const uint8_t *msg, size_t len, uint8_t *out,
    size_t cap)
{
	struct dns_query q;
	struct wire_frame f;
	struct srv_session *ss;
	enum dns_query_verdict v;
	uint8_t *fbuf = s->rxbuf, *inflated = NULL;
	const uint8_t *payload;
	size_t dlen, plen;
	uint64_t now;
	long dn;
	int rc, compressed;

	s->st.queries++;
	v = dns_query_parse(msg, len, &q, NULL);
	if (v == DNS_QUERY_DROP) {
		s->st.ans_none++;
		return 0;
	}
	/* Never more than the asker said it takes: 512 without EDNS
	 * (RFC 1035 4.2.1), else its OPT size (at least 512, RFC 6891
	 * 6.2.5). A 46-byte MTU probe without EDNS got 5,874 bytes. */
	cap = MIN(cap, q.opt_len > 0 ? MAX(q.edns_udp_size, 512u) : 512u);
	if (v == DNS_QUERY_FORMERR)
		return answer_empty(s, &q, DNS_EMPTY_FORMERR, out, cap);
	if (wire_match_domain(q.qname, q.qname_len,
		(const char *const *)s->cfg.domains, s->cfg.ndomains,
		&dlen) < 0)
		return answer_empty(s, &q, DNS_EMPTY_NXDOMAIN, out, cap);
	if (q.qtype != DNS_TYPE_TXT) {
		/* A resolver minimising the QNAME (RFC 9156; unbound's
		 * qname-minimisation) asks for the names between the zone
		 * and the frame's full name — fewer labels than the frame —
		 * with type A (or AAAA, NS) before the TXT query itself: a
		 * step of a working path, not a broken frame. Still NODATA,
		 * so the resolver goes on to the full name. */
		if (q.qtype == DNS_TYPE_A || q.qtype == DNS_TYPE_AAAA ||
		    q.qtype == DNS_TYPE_NS)
			s->st.drop_qmin++;
		else
			s->st.drop_decode++;
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	}
	rc = wire_decode_query_name(q.qname, q.qname_len,
	    (const char *const *)s->cfg.domains, s->cfg.ndomains, s->cipher,
	    fbuf, FRAME_MAX, &f, NULL);
	/* The FEC fork's types (SESSION_CAPS...) are unknown to upstream,
	 * whose parser drops them before any session check: NODATA. Only
	 * SESSION_CAPS with FEC_ENABLED goes on (docs/fec.md). */
	if (rc != WIRE_OK ||
	    (wire_type_fork(f.type) &&
		!(f.type == WIRE_SESSION_CAPS && s->cfg.fec_enabled))) {
		s->st.drop_decode++;
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	}
	payload = f.payload;
	plen = f.payload_len;
	compressed = f.comp != 0 && (wire_type_ext(f.type) & WIRE_EXT_COMP);
	now = srv_now(s);
	/* Compression is a session's agreement: none before one exists. */
	if (compressed && (f.session_id == 0 || f.type == WIRE_MTU_UP_REQ)) {
		s->gst.drop_comp++;
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	}
	if (f.type == WIRE_SESSION_CLOSE) {
		handle_session_close(s, &f);
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	}
	switch (f.type) {
	case WIRE_MTU_UP_REQ:
		return handle_mtu(s, &q, &f, 0, out, cap);
	case WIRE_MTU_DOWN_REQ:
		return handle_mtu(s, &q, &f, 1, out, cap);
	case WIRE_SESSION_INIT:
		return handle_init(s, &q, &f, out, cap);
	default:
		break;
	}
	/* Post-session: validate id and cookie. */
	ss = &s->sess[f.session_id];
	if (f.session_id == 0 || ss->state == SESS_NONE)
		return answer_error_drop(s, &q, f.session_id,
		    (int)(++s->unknown_drop_ctr & 1), out, cap);
	if (ss->state == SESS_CLOSED)
		return answer_error_drop(
		    s, &q, f.session_id, ss->mode, out, cap);
	if (ss->cookie != f.cookie) {
		s->st.drop_bad_cookie++;
		/* Upstream's threshold, per source: a guesser gets silence
		 * (52 queries found another user's session before). */
		if (srv_source_bad_cookie(s, srv_source_get(s, now), now)) {
			s->st.ans_none++;
			return 0;
		}
		if (cookie_threshold_hit(s, ss, f.cookie, now))
			return answer_error_drop(
			    s, &q, f.session_id, ss->mode, out, cap);
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	}
	if (compressed) {
		/* Only what SESSION_ACCEPT agreed, and only as much as one
		 * client read: a compressed frame of 181 bytes inflated to
		 * 64 KiB before (issue 19 item 2). */
		if (f.comp != ss->up_comp) {
			s->gst.drop_comp++;
			return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
		}
		inflated = s->txbuf;
		dn = wire_decompress(f.comp, f.payload, f.payload_len, inflated,
		    SRV_INFLATE_MAX, NULL);
		if (dn < 0) {
			s->gst.drop_inflate++;
			return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
		}
		payload = inflated;
		plen = (size_t)dn;
		f.payload = payload;
		f.payload_len = plen;
	}
	ss->last_activity = now;
	s->in_session = 1;
	if (s->from != NULL)
		srv_source_working(srv_source_get(s, now), now);
	if (f.type == WIRE_SESSION_CAPS) {
		uint8_t ack[FEC_CAPS_LEN];
		struct wire_frame w;

		if (srv_fec_caps(ss, payload, plen, ack) == -1)
			return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
		memset(&w, 0, sizeof w);
		w.session_id = ss->id;
		w.cookie = ss->cookie;
		w.type = WIRE_SESSION_CAPS_ACK;
		w.payload = ack;
		w.payload_len = sizeof ack;
		return answer_frame(s, &q, &w, ss->mode, out, cap);
	}
	if (syn_mismatch(s, f.type))
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	if (!preprocess(ss, &f, now)) {
		if (f.type == WIRE_PACKED_CONTROL_BLOCKS)
			handle_packed(ss, &f, now);
		else
			dispatch(ss, &f, payload, plen, now);
	}
	/* The session may have been closed by what we just did. */
	if (ss->state != SESS_ACTIVE)
		return answer_empty(s, &q, DNS_EMPTY_NODATA, out, cap);
	return serve_queued_or_pong(s, ss, &q, out, cap, now);
}

/* ---- timers and sockets ---- */

void
eng_server_tick(struct eng_server *s)
{
	uint64_t now = srv_now(s);
	uint64_t idle = SEC(s->cfg.session_timeout_s);
	uint64_t keep = SEC(s->cfg.closed_retention_s);
	struct srv_session *ss;
	size_t j;
	unsigned i;

	for (i = 1; i < 256; i++) {
		ss = &s->sess[i];
		if (ss->state == SESS_CLOSED && now - ss->closed_at >= keep) {
			ss->state = SESS_NONE;
			continue;
		}
		if (ss->state != SESS_ACTIVE)
			continue;
		if (now - ss->last_activity >= idle) {
			log_info("session %u expired (idle)", ss->id);
			s->st.sessions_expired++;
			session_close(s, ss, now);
			continue;
		}
		/* Streams may finish (and unlink) during their tick. */
		for (j = ss->streams.n; j > 0; j--)
			if (j - 1 < ss->streams.n)
				srv_stream_tick(
				    STREAM_OWNER(ss->streams.v[j - 1],
					struct srv_stream, s),
				    now);
	}
	srv_dns_tick(s, now);
}

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_server *s = arg;

	(void)id;
	eng_server_tick(s);
	s->tick_timer = ev_timer_add(loop, TICK_US, on_tick, s);
}

static void
on_udp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_server *s = arg;
	uint8_t in[4096];
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	size_t an;
	long ln;
	int budget = 256;

	(void)loop;
	(void)events;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, in, sizeof in, 0, &from.sa, &fl);
		if (n < 0)
			break;
		/* The leak zone first: it may sit under a tunnel domain. */
		ln = srv_leak_handle(s->leak, in, (size_t)n, &from, srv_now(s),
		    s->txbuf + 65536, 65536);
		if (ln >= 0) {
			if (ln > 0)
				(void)sendto(fd, s->txbuf + 65536, (size_t)ln,
				    0, &from.sa, fl);
			continue;
		}
		an = eng_server_handle_from(
		    s, &from, in, (size_t)n, s->txbuf + 65536, 65536);
		if (an > 0)
			(void)sendto(fd, s->txbuf + 65536, an, 0, &from.sa, fl);
	}
}

int
eng_server_listen(struct eng_server *s, const union net_addr *addr,
    union net_addr *bound, struct err *e)
{
	int fd, sz = 4 << 20;

	if ((fd = net_udp_bind(addr, e)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	if (bound != NULL && net_local_addr(fd, bound, e) == -1) {
		close(fd);
		return -1;
	}
	if (ev_io_add(s->loop, fd, EV_READ, on_udp, s, e) == -1) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	if (s->tick_timer == 0)
		s->tick_timer = ev_timer_add(s->loop, TICK_US, on_tick, s);
	return 0;
}

struct eng_server *
eng_server_new(
    struct ev_loop *loop, const struct cfg_server *cfg, struct err *e)
{
	struct eng_server *s;
	size_t i;

	if (cfg->ndomains == 0) {
		err_set(e, "no tunnel DOMAIN configured");
		return NULL;
	}
	if (cfg->key == NULL && cfg->method != WIRE_METHOD_NONE) {
		err_set(e, "no encryption key");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->fd = -1;
	cfg_server_copy(&s->cfg, cfg);
	s->cipher = wire_cipher_new(cfg->method, cfg->key ? cfg->key : "",
	    cfg->key ? strlen(cfg->key) : 0, e);
	if (s->cipher == NULL)
		goto fail;
	s->filter = eng_filter_new();
	for (i = 0; i < cfg->nallow; i++)
		if (eng_filter_allow(s->filter, cfg->allow[i], e) == -1)
			goto fail;
	if (loop != NULL &&
	    (s->resolver = eng_resolver_new(loop, 4, e)) == NULL)
		goto fail;
	arq_config_from(&s->arqc, &cfg->arq);
	/* A RESEND lost twice stalls the window; a second copy in another
	 * answer costs one answer per NACK (docs/engine.md "Under loss"). */
	s->arqc.resend_copies = 2;
	if (srv_dns_new(s, e) == -1)
		goto fail;
	s->leak = srv_leak_new(cfg->leak_zone);
	s->force_id = -1;
	s->unknown_drop_ctr = 0;
	srv_budget_init(s);
	s->force_cookie = -1;
	s->rxbuf = xmalloc(FRAME_MAX);
	s->txbuf = xmalloc(2 * 65536);
	return s;
fail:
	eng_server_free(s);
	return NULL;
}

void
eng_server_free(struct eng_server *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 1; i < 256; i++)
		if (s->sess[i].state != SESS_NONE)
			session_close(s, &s->sess[i], 0);
	srv_dns_free(s);
	srv_leak_free(s->leak);
	srv_sources_free(s);
	if (s->tick_timer != 0)
		ev_timer_cancel(s->loop, s->tick_timer);
	if (s->fd != -1) {
		ev_io_del(s->loop, s->fd);
		close(s->fd);
	}
	eng_resolver_free(s->resolver);
	eng_filter_free(s->filter);
	wire_cipher_free(s->cipher);
	cfg_server_clear(&s->cfg);
	free(s->rxbuf);
	free(s->txbuf);
	free(s);
}
