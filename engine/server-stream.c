/* SPDX-License-Identifier: MIT */
/*
 * server-stream.c — a server session's streams: the table by id, the ids
 * closed recently (late frames get ACKs or RST, never a new stream), and
 * one stream's upstream side: SOCKS5_SYN fragment assembly, the target
 * filter (before connecting and again after name resolution),
 * asynchronous resolution and non-blocking connect, the SOCKS5 result as
 * a reliable control frame. Data and the half-close choreography of
 * wire-protocol.md 1.11 are the stream core's (engine/stream.c); this
 * file tells it when the stream is open and frees the record when it
 * says both directions are finished.
 *
 * TCP-forward mode connects every STREAM_SYN to FORWARD_IP:FORWARD_PORT.
 * USE_EXTERNAL_SOCKS5 (chaining through another proxy) is not implemented.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/server-fec.h"
#include "engine/server-budget.h"
#include "engine/server-stream.h"

#define SEC(x)	 ((uint64_t)((x)*1000000.0))
#define OWNER(p) STREAM_OWNER(p, struct srv_stream, s)

static void stream_io(struct ev_loop *, int, int, void *);
static void srv_stream_progress(struct srv_stream *st);

/* Socket, connect timer and lookup: everything outside the core. */
static void
close_all(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;

	stream_close_fd(&st->s);
	srv_budget_conn(st, -1);
	if (st->timer != 0 && s->loop != NULL)
		ev_timer_cancel(s->loop, st->timer);
	st->timer = 0;
	if (st->rq != NULL) {
		eng_resolve_cancel(st->rq);
		st->rq = NULL;
	}
}

static void
on_read_bytes(struct stream *s, size_t n, uint64_t now)
{
	(void)n;
	OWNER(s)->last_activity = now;
}

/* Read error: abort the stream. */
static void
on_read_failed(struct stream *s, uint64_t now)
{
	struct srv_stream *st = OWNER(s);

	close_all(st);
	st->state = SST_RESET;
	stream_reset(s, now);
}

static void
on_finished(struct stream *s)
{
	srv_stream_finish(OWNER(s));
}

static void
on_data_sent(
    struct stream *s, uint16_t seq, const uint8_t *p, size_t n, uint64_t now)
{
	srv_fec_data(OWNER(s), seq, p, n, now);
}

static int
on_frame_stale(struct stream *s, const struct txq_frame *f)
{
	return srv_fec_stale(OWNER(s), f->data, f->len, f->seq);
}

static const struct stream_ops srv_stream_ops = {
    .data_sent = on_data_sent,
    .frame_stale = on_frame_stale,
    .read_bytes = on_read_bytes,
    .read_failed = on_read_failed,
    .write_failed = NULL,
    .finished = on_finished,
};

/* ---- the session's table ---- */

struct srv_stream *
srv_stream_find(struct srv_session *ss, uint16_t id)
{
	struct stream *s = stream_find(&ss->streams, id);

	return s != NULL ? OWNER(s) : NULL;
}

struct srv_stream *
srv_stream_create(struct srv_session *ss, uint16_t id)
{
	struct eng_server *s = ss->srv;
	struct srv_stream *st = xcalloc(1, sizeof *st);

	stream_init(&st->s, &srv_stream_ops, s->loop);
	stream_start(&st->s, id, &s->arqc);
	st->s.max_read = ss->down_mtu;
	st->s.comp = ss->down_comp;
	st->s.comp_min = s->cfg.pol_comp_min;
	st->sess = ss;
	st->state = SST_SYN;
	st->created = st->last_activity = srv_now(s);
	stream_table_add(&ss->streams, &st->s);
	s->st.streams_opened++;
	s->st.streams_active++;
	return st;
}

/*
 * Recently closed ids: a ring in closing order (so the oldest leave
 * first) and a hash of id -> ring slot. Packed control blocks look every
 * block's id up here: the list scanned linearly cost 7.2 ms of CPU per
 * query when full (issue 19 item 3).
 */
#define SRV_RCLOSED_MAX 2000

static uint32_t
rc_find(const struct srv_session *ss, uint16_t id)
{
	struct hmap_it it;
	uint32_t v;

	for (v = hmap_find(&ss->rcmap, id, &it); v != HMAP_NONE;
	     v = hmap_find_next(&ss->rcmap, &it))
		if (ss->rclosed[v].id == id)
			return v;
	return HMAP_NONE;
}

int
srv_stream_recently_closed(
    const struct srv_session *ss, uint16_t id, uint64_t now)
{
	uint64_t ttl = SEC(ss->srv->cfg.recently_closed_stream_s);
	uint32_t v;

	if (ss->nrclosed == 0 || (v = rc_find(ss, id)) == HMAP_NONE)
		return 0;
	return now - ss->rclosed[v].at < ttl;
}

static void
rc_pop(struct srv_session *ss)
{
	struct srv_rclosed *r = &ss->rclosed[ss->rc_head];

	if (r->live)
		(void)hmap_del(&ss->rcmap, r->id, (uint32_t)ss->rc_head);
	r->live = 0;
	ss->rc_head = (ss->rc_head + 1) % SRV_RCLOSED_MAX;
	ss->nrclosed--;
}

/* Remember a closed id: late frames get ACKs or RST, never a new stream. */
static void
remember_closed(struct srv_session *ss, uint16_t id, uint64_t now)
{
	uint64_t ttl = SEC(ss->srv->cfg.recently_closed_stream_s);
	struct srv_rclosed *r;
	uint32_t v;
	size_t i;

	if (ss->rclosed == NULL)
		ss->rclosed = xcalloc(SRV_RCLOSED_MAX, sizeof *ss->rclosed);
	while (ss->nrclosed > 0 &&
	    (ss->nrclosed == SRV_RCLOSED_MAX ||
		now - ss->rclosed[ss->rc_head].at >= ttl))
		rc_pop(ss);
	if ((v = rc_find(ss, id)) != HMAP_NONE) {
		(void)hmap_del(&ss->rcmap, id, v);
		ss->rclosed[v].live = 0;
	}
	i = (ss->rc_head + ss->nrclosed) % SRV_RCLOSED_MAX;
	r = &ss->rclosed[i];
	r->id = id;
	r->at = now;
	r->live = 1;
	hmap_put(&ss->rcmap, id, (uint32_t)i);
	ss->nrclosed++;
}

static void
stream_free(struct srv_stream *st)
{
	unsigned i;

	close_all(st);
	srv_fec_stream_free(st);
	srv_budget_release(st);
	if (st->s.arq != NULL)
		arq_stats_add(
		    &st->sess->srv->arq_done, arq_get_stats(st->s.arq));
	for (i = 0; i < 256; i++)
		free(st->syn_frag[i]);
	stream_fini(&st->s);
	free(st);
}

void
srv_streams_free(struct srv_session *ss)
{
	while (ss->streams.n > 0)
		stream_free(OWNER(ss->streams.v[--ss->streams.n]));
	stream_table_free(&ss->streams);
	free(ss->rclosed);
	ss->rclosed = NULL;
	ss->rc_head = ss->nrclosed = 0;
	hmap_free(&ss->rcmap);
}

/* ---- one stream ---- */

void
srv_stream_finish(struct srv_stream *st)
{
	struct srv_session *ss = st->sess;

	if (stream_table_del(&ss->streams, &st->s)) {
		ss->srv->st.streams_closed++;
		ss->srv->st.streams_active--;
		remember_closed(ss, st->s.id, srv_now(ss->srv));
	}
	stream_free(st);
}

/* A result frame (SOCKS5_CONNECTED, failures, STREAM_CONNECTED...). */
static void
send_result(struct srv_stream *st, uint8_t type)
{
	arq_ctl_send(st->s.arq, srv_now(st->sess->srv), type, st->syn_seq, 0, 0,
	    NULL, 0, 0);
}

/*
 * A refused target is the operator's business at the default log level
 * (issue 11: only -v showed it), with the filter's reason; a client
 * asking for refused targets in a loop must not flood the log, so at
 * most SRV_DENY_LOG_MAX lines per SRV_DENY_LOG_WINDOW, then one line
 * with the count left out. The target itself is not logged (destinations
 * are the user's, docs/security.md); status counts every refusal.
 */
#define SRV_DENY_LOG_MAX    5
#define SRV_DENY_LOG_WINDOW 10000000ULL /* 10 s */

static void
log_denied(struct srv_stream *st, const char *why)
{
	struct eng_server *s = st->sess->srv;
	uint64_t now = srv_now(s);

	if (s->deny_window == 0 ||
	    now - s->deny_window >= SRV_DENY_LOG_WINDOW) {
		if (s->deny_unlogged > 0)
			log_warn("%llu more SOCKS target(s) refused in the "
				 "last %llu s (not logged one by one)",
			    (unsigned long long)s->deny_unlogged,
			    (unsigned long long)(SRV_DENY_LOG_WINDOW /
				1000000));
		s->deny_window = now ? now : 1;
		s->deny_logged = 0;
		s->deny_unlogged = 0;
	}
	if (s->deny_logged >= SRV_DENY_LOG_MAX) {
		s->deny_unlogged++;
		return;
	}
	s->deny_logged++;
	log_warn("session %u stream %u: SOCKS target refused: %s "
		 "(SOCKS5_RULESET_DENIED; MDNS_ALLOW_TARGETS allows ranges)",
	    st->sess->id, st->s.id, why);
}

static void
fail(struct srv_stream *st, uint8_t type, const char *why)
{
	struct eng_server *s = st->sess->srv;

	if (type == WIRE_SOCKS5_RULESET_DENIED) {
		s->st.filter_denied++;
		log_denied(st, why);
		/* With -v every refusal, as the other failures below. */
		log_info("session %u stream %u: %s (%s)", st->sess->id,
		    st->s.id, wire_type_name(type), why);
	} else {
		s->st.connect_failed++;
		log_info("session %u stream %u: %s (%s)", st->sess->id,
		    st->s.id, wire_type_name(type), why);
	}
	close_all(st);
	st->state = SST_FAILED;
	send_result(st, s->cfg.protocol_tcp ? WIRE_STREAM_CONNECT_FAIL : type);
}

static uint8_t
errno_result(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return WIRE_SOCKS5_CONNECTION_REFUSED;
	case ENETUNREACH:
		return WIRE_SOCKS5_NETWORK_UNREACHABLE;
	case EHOSTUNREACH:
		return WIRE_SOCKS5_HOST_UNREACHABLE;
	case ETIMEDOUT:
		return WIRE_SOCKS5_TTL_EXPIRED;
	default:
		return WIRE_SOCKS5_CONNECT_FAIL;
	}
}

static void
on_connect_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct srv_stream *st = arg;

	(void)loop;
	(void)id;
	st->timer = 0;
	if (st->state == SST_CONNECTING || st->state == SST_RESOLVING)
		fail(st, WIRE_SOCKS5_TTL_EXPIRED, "connect timeout");
}

/* Try the next allowed address; fails the stream when none is left. */
static void
try_connect(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;
	struct err e = {""};
	int fd, last = ECONNREFUSED;

	if (!srv_budget_conn_admit(st)) {
		fail(st, WIRE_SOCKS5_CONNECT_FAIL, "upstream connection cap");
		return;
	}
	while (st->addr_i < st->naddrs) {
		union net_addr *a = &st->addrs[st->addr_i++];

		if ((fd = net_tcp_connect(a, &e)) == -1) {
			last = errno ? errno : ECONNREFUSED;
			continue;
		}
		if (s->loop == NULL ||
		    ev_io_add(s->loop, fd, EV_WRITE, stream_io, st, &e) == -1) {
			close(fd);
			continue;
		}
		st->s.fd = fd;
		st->s.io_mask = EV_WRITE;
		srv_budget_conn(st, +1);
		st->state = SST_CONNECTING;
		if (st->timer == 0)
			st->timer = ev_timer_add(s->loop,
			    SEC(s->cfg.socks_connect_timeout_s),
			    on_connect_timeout, st);
		return;
	}
	fail(st, errno_result(last), "connect failed");
}

static void
on_resolved(void *arg, int status, const char *why, const union net_addr *addrs,
    size_t n)
{
	struct srv_stream *st = arg;
	struct eng_server *s = st->sess->srv;
	const char *fwhy = NULL;
	size_t i;

	st->rq = NULL;
	if (status != 0) {
		s->st.resolve_failed++;
		fail(st, WIRE_SOCKS5_HOST_UNREACHABLE, why ? why : "lookup");
		return;
	}
	/* Upstream checks only literals; we check what names resolve to. */
	st->naddrs = st->addr_i = 0;
	for (i = 0; i < n; i++) {
		if (eng_filter_addr(s->filter, &addrs[i], &fwhy) == -1)
			continue;
		st->addrs[st->naddrs++] = addrs[i];
	}
	if (st->naddrs == 0) {
		fail(st, WIRE_SOCKS5_RULESET_DENIED, fwhy ? fwhy : "filtered");
		return;
	}
	try_connect(st);
}

static void
start_target(struct srv_stream *st, const struct wire_target *t)
{
	struct eng_server *s = st->sess->srv;
	const char *why = NULL;
	char host[256];
	union net_addr a;

	memset(&a, 0, sizeof a);
	if (t->atyp == WIRE_ATYP_IPV4) {
		a.in.sin_family = AF_INET;
		memcpy(&a.in.sin_addr, t->addr, 4);
		net_addr_set_port(&a, t->port);
	} else if (t->atyp == WIRE_ATYP_IPV6) {
		a.in6.sin6_family = AF_INET6;
		memcpy(&a.in6.sin6_addr, t->addr, 16);
		net_addr_set_port(&a, t->port);
	} else {
		memcpy(host, t->addr, t->addr_len);
		host[t->addr_len] = '\0';
		if (eng_filter_host(s->filter, host, &why) == -1) {
			fail(st, WIRE_SOCKS5_RULESET_DENIED, why);
			return;
		}
		/* A literal written as a name is checked as an address. */
		if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1) {
			a.in.sin_family = AF_INET;
			net_addr_set_port(&a, t->port);
		} else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1) {
			a.in6.sin6_family = AF_INET6;
			net_addr_set_port(&a, t->port);
		} else {
			if (s->resolver == NULL) {
				fail(st, WIRE_SOCKS5_HOST_UNREACHABLE,
				    "no resolver");
				return;
			}
			st->state = SST_RESOLVING;
			s->st.resolve_started++;
			st->rq = eng_resolve(
			    s->resolver, host, t->port, on_resolved, st);
			if (s->loop != NULL && st->timer == 0)
				st->timer = ev_timer_add(s->loop,
				    SEC(s->cfg.socks_connect_timeout_s),
				    on_connect_timeout, st);
			return;
		}
	}
	if (eng_filter_addr(s->filter, &a, &why) == -1) {
		fail(st, WIRE_SOCKS5_RULESET_DENIED, why);
		return;
	}
	st->addrs[0] = a;
	st->naddrs = 1;
	st->addr_i = 0;
	try_connect(st);
}

void
srv_stream_syn_fragment(struct srv_stream *st, const struct wire_frame *f)
{
	struct wire_target t;
	uint8_t buf[256 * 256];
	unsigned total = f->frag_total ? f->frag_total : 1, i;
	size_t n = 0;

	if (st->syn_started) {
		/* A repeated SYN after the result: say it again. */
		if (st->state == SST_OPEN)
			send_result(st, WIRE_SOCKS5_CONNECTED);
		return;
	}
	if (f->frag_id >= total || (st->syn_total && st->syn_total != total))
		return;
	st->syn_total = (uint8_t)total;
	st->syn_seq = f->seq;
	if (st->syn_frag[f->frag_id] == NULL) {
		if (!srv_budget_syn_admit(st, f->payload_len)) {
			st->syn_started = 1;
			fail(st, WIRE_SOCKS5_CONNECT_FAIL, "SYN too long");
			return;
		}
		st->syn_frag[f->frag_id] =
		    xmalloc(f->payload_len ? f->payload_len : 1);
		if (f->payload_len > 0)
			memcpy(st->syn_frag[f->frag_id], f->payload,
			    f->payload_len);
		st->syn_len[f->frag_id] = (uint16_t)f->payload_len;
		st->syn_have++;
	}
	if (st->syn_have < total)
		return;
	st->syn_started = 1;
	for (i = 0; i < total; i++) {
		if (n + st->syn_len[i] > sizeof buf)
			break;
		memcpy(buf + n, st->syn_frag[i], st->syn_len[i]);
		n += st->syn_len[i];
	}
	if (wire_target_parse(buf, n, &t) != WIRE_OK) {
		fail(st,
		    n > 0 && buf[0] != WIRE_ATYP_IPV4 &&
			    buf[0] != WIRE_ATYP_IPV6 &&
			    buf[0] != WIRE_ATYP_DOMAIN ?
			WIRE_SOCKS5_ADDRESS_TYPE_UNSUPPORTED :
			WIRE_SOCKS5_CONNECT_FAIL,
		    "bad target");
		return;
	}
	start_target(st, &t);
}

void
srv_stream_tcp_syn(struct srv_stream *st, uint16_t seq)
{
	struct eng_server *s = st->sess->srv;
	union net_addr a;

	if (st->syn_started) {
		if (st->state == SST_OPEN)
			send_result(st, WIRE_STREAM_CONNECTED);
		return;
	}
	st->syn_started = 1;
	st->syn_seq = seq;
	if (s->cfg.forward_ip == NULL ||
	    net_addr_parse(s->cfg.forward_ip, s->cfg.forward_port, &a, NULL) ==
		-1) {
		fail(st, WIRE_STREAM_CONNECT_FAIL, "no FORWARD_IP");
		return;
	}
	net_addr_set_port(&a, s->cfg.forward_port);
	/* The operator chose the forward target: no filter here. */
	st->addrs[0] = a;
	st->naddrs = 1;
	st->addr_i = 0;
	try_connect(st);
}

void
srv_stream_data(struct srv_stream *st, const uint8_t *p, size_t n, uint16_t seq,
    uint64_t now)
{
	struct eng_server *s = st->sess->srv;
	int discard = st->s.write_broken || st->s.shut_wr;

	if (!srv_budget_data_admit(st, seq, n))
		return; /* no ACK: the client sends it again */
	st->last_activity = now;
	if (stream_data(&st->s, now, seq, p, n) == ARQ_RX_NEW && !discard)
		s->st.bytes_up += n;
	srv_budget_sync(st);
	srv_stream_progress(st);
}

void
srv_stream_ack(struct srv_stream *st, uint16_t seq, uint64_t now)
{
	arq_on_ack(st->s.arq, seq, now);
	srv_stream_progress(st);
}

void
srv_stream_nack(struct srv_stream *st, uint16_t seq, uint64_t now)
{
	arq_on_nack(st->s.arq, seq, now);
}

void
srv_stream_ctl_acked(struct srv_stream *st, uint8_t origin, uint16_t seq,
    uint8_t frag, uint64_t now)
{
	stream_ctl_acked(&st->s, origin, seq, frag, now);
	srv_stream_progress(st);
}

void
srv_stream_close_read(struct srv_stream *st, uint64_t now)
{
	(void)now;
	st->s.peer_close_read = 1;
	srv_stream_progress(st);
}

void
srv_stream_close_write(struct srv_stream *st, uint64_t now)
{
	(void)now;
	stream_peer_close_write(&st->s);
	srv_stream_progress(st);
}

int
srv_stream_dead(const struct srv_stream *st)
{
	return st->state == SST_FAILED || st->state == SST_RESET;
}

static void
stream_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct srv_stream *st = arg;
	struct eng_server *s = st->sess->srv;
	int soerr = 0;
	socklen_t sl = sizeof soerr;

	(void)loop;
	if (st->state == SST_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			stream_close_fd(&st->s);
			srv_budget_conn(st, -1);
			if (st->addr_i < st->naddrs) {
				try_connect(st);
				return;
			}
			fail(st, errno_result(soerr), strerror(soerr));
			return;
		}
		if (st->timer != 0)
			ev_timer_cancel(s->loop, st->timer);
		st->timer = 0;
		st->state = SST_OPEN;
		st->s.open = 1;
		s->st.connect_ok++;
		send_result(st,
		    s->cfg.protocol_tcp ? WIRE_STREAM_CONNECTED :
					  WIRE_SOCKS5_CONNECTED);
		stream_flush(&st->s);
		srv_stream_progress(st);
		return;
	}
	if (events & EV_READ)
		stream_read(&st->s, srv_now(s));
	if ((events & EV_WRITE) && st->s.fd != -1)
		stream_flush(&st->s);
	srv_budget_sync(st);
	srv_stream_progress(st);
}

/* The side's states around the core's half-close rules. */
static void
srv_stream_progress(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;

	if (st->state == SST_FAILED) {
		if (arq_ctl_count(st->s.arq) == 0)
			srv_stream_finish(st);
		return;
	}
	if (st->state == SST_RESET) {
		if (!arq_ctl_pending(st->s.arq, WIRE_STREAM_RST))
			srv_stream_finish(st);
		return;
	}
	if (st->state != SST_OPEN)
		return;
	stream_progress(&st->s, srv_now(s));
}

void
srv_stream_tick(struct srv_stream *st, uint64_t now)
{
	uint8_t t = 0;
	enum arq_tick_res r;

	/* A SYN that never completes (fragment 0 of 2 and no more) holds a
	 * stream and its fragments: upstream has no timer for it. */
	if (st->state == SST_SYN && now - st->created >= SRV_SYN_TIMEOUT_US) {
		st->sess->srv->gst.syn_timeout++;
		srv_stream_finish(st);
		return;
	}
	r = arq_tick(st->s.arq, now, &t);

	if (r == ARQ_TICK_DATA_FAILED) {
		close_all(st);
		st->state = SST_RESET;
		stream_reset(&st->s, now);
		return;
	}
	if (r == ARQ_TICK_CTL_EXPIRED &&
	    (srv_stream_dead(st) || stream_close_type(t))) {
		srv_stream_finish(st);
		return;
	}
	srv_fec_tick(st, now);
	srv_stream_progress(st);
}
