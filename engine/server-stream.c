/*
 * server-stream.c — one tunnelled TCP stream on the server: SOCKS5_SYN
 * fragment assembly, the target filter (before connecting and again after
 * name resolution), asynchronous resolution and non-blocking connect, the
 * SOCKS5 result as a reliable control frame, then data both ways through
 * the ARQ and the half-close choreography of wire-protocol.md 1.11:
 *
 *   target EOF       -> CLOSE_READ once all our data is acked
 *   peer CLOSE_READ  -> shutdown(SHUT_WR) once all its data is written
 *   peer CLOSE_WRITE -> stop reading, drop unacked data
 *   write failure    -> CLOSE_WRITE;  read error -> RST
 *   both directions finished (or RST acked) -> the stream is freed.
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
#include "engine/server-int.h"

#define SEC(x) ((uint64_t)((x)*1000000.0))

static void stream_io(struct ev_loop *, int, int, void *);

static void
emit(void *arg, enum arq_out kind, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct srv_stream *st = arg;

	switch (kind) {
	case ARQ_OUT_DATA:
		txq_push(&st->q, 3, WIRE_STREAM_DATA, st->id, seq, 0, 0, comp,
		    data, len);
		break;
	case ARQ_OUT_RESEND:
		txq_push(&st->q, 1, WIRE_STREAM_RESEND, st->id, seq, 0, 0, comp,
		    data, len);
		break;
	case ARQ_OUT_ACK:
		txq_push(&st->q, 0, WIRE_STREAM_DATA_ACK, st->id, seq, 0, 0, 0,
		    NULL, 0);
		break;
	case ARQ_OUT_NACK:
		if (!txq_has(&st->q, WIRE_STREAM_DATA_NACK, seq))
			txq_push(&st->q, 0, WIRE_STREAM_DATA_NACK, st->id, seq,
			    0, 0, 0, NULL, 0);
		break;
	case ARQ_OUT_CTL:
		txq_push(&st->q, txq_priority(type), type, st->id, seq, frag,
		    total, 0, data, len);
		break;
	}
}

struct srv_stream *
srv_stream_new(struct srv_session *ss, uint16_t id)
{
	struct srv_stream *st = xcalloc(1, sizeof *st);

	st->sess = ss;
	st->id = id;
	st->fd = -1;
	st->state = SST_SYN;
	st->arq = arq_new(&ss->srv->arqc, emit, st);
	st->last_activity = srv_now(ss->srv);
	return st;
}

static void
stream_close_fd(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;

	if (st->fd != -1) {
		if (s->loop != NULL)
			ev_io_del(s->loop, st->fd);
		close(st->fd);
		st->fd = -1;
	}
	st->io_mask = 0;
	if (st->timer != 0 && s->loop != NULL)
		ev_timer_cancel(s->loop, st->timer);
	st->timer = 0;
	if (st->rq != NULL) {
		eng_resolve_cancel(st->rq);
		st->rq = NULL;
	}
}

void
srv_stream_free(struct srv_stream *st)
{
	unsigned i;

	stream_close_fd(st);
	for (i = 0; i < 256; i++)
		free(st->syn_frag[i]);
	txq_clear(&st->q);
	arq_free(st->arq);
	free(st);
}

void
srv_stream_finish(struct srv_stream *st)
{
	srv_session_unlink_stream(st->sess, st);
	srv_stream_free(st);
}

static void
set_io(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;
	const uint8_t *p;
	int mask = 0;

	if (st->fd == -1 || s->loop == NULL)
		return;
	if (st->state == SST_CONNECTING)
		mask = EV_WRITE;
	else if (st->state == SST_OPEN) {
		if (!st->local_eof && !st->peer_close_write &&
		    arq_send_ready(st->arq))
			mask |= EV_READ;
		if (!st->shut_wr && !st->write_broken &&
		    arq_rx_peek(st->arq, &p) > 0)
			mask |= EV_WRITE;
	}
	if (mask == st->io_mask)
		return;
	st->io_mask = mask;
	ev_io_set(s->loop, st->fd, mask);
}

/* A result frame (SOCKS5_CONNECTED, failures, STREAM_CONNECTED...). */
static void
send_result(struct srv_stream *st, uint8_t type)
{
	arq_ctl_send(st->arq, srv_now(st->sess->srv), type, st->syn_seq, 0, 0,
	    NULL, 0, 0);
}

static void
fail(struct srv_stream *st, uint8_t type, const char *why)
{
	struct eng_server *s = st->sess->srv;

	if (type == WIRE_SOCKS5_RULESET_DENIED)
		s->st.filter_denied++;
	else
		s->st.connect_failed++;
	log_info("session %u stream %u: %s (%s)", st->sess->id, st->id,
	    wire_type_name(type), why);
	stream_close_fd(st);
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
		st->fd = fd;
		st->io_mask = EV_WRITE;
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

/* Write in-order data to the target. */
static void
flush_out(struct srv_stream *st)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	while (st->fd != -1 && st->state == SST_OPEN && !st->shut_wr &&
	    !st->write_broken && (n = arq_rx_peek(st->arq, &p)) > 0) {
		w = send(st->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			arq_rx_consume(st->arq, (size_t)w);
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		/* Our writer is broken: tell the peer to stop sending. */
		st->write_broken = 1;
		break;
	}
}

void
srv_stream_data(struct srv_stream *st, const uint8_t *p, size_t n, uint16_t seq)
{
	struct eng_server *s = st->sess->srv;

	st->last_activity = srv_now(s);
	if (st->write_broken || st->shut_wr) {
		/* Still acknowledge, so the peer's window drains. */
		arq_recv(st->arq, st->last_activity, seq, p, n);
		while (arq_rx_peek(st->arq, &p) > 0)
			arq_rx_consume(st->arq, 65535);
	} else if (arq_recv(st->arq, st->last_activity, seq, p, n) ==
	    ARQ_RX_NEW)
		s->st.bytes_up += n;
	flush_out(st);
	srv_stream_progress(st);
}

static void
read_in(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;
	struct srv_session *ss = st->sess;
	uint8_t buf[4096], cbuf[4096 + 64];
	size_t mtu = MIN((size_t)ss->down_mtu, sizeof buf), clen;
	ssize_t r;
	int comp;
	int budget = 64;

	while (budget-- > 0 && st->fd != -1 && !st->local_eof &&
	    !st->peer_close_write && arq_send_ready(st->arq)) {
		r = recv(st->fd, buf, mtu, 0);
		if (r > 0) {
			comp = wire_compress_payload(ss->down_comp,
			    s->cfg.pol_comp_min, buf, (size_t)r, cbuf,
			    sizeof cbuf, &clen);
			if (comp != WIRE_COMP_OFF)
				arq_send(st->arq, srv_now(s), cbuf, clen,
				    (uint8_t)comp);
			else
				arq_send(
				    st->arq, srv_now(s), buf, (size_t)r, 0);
			st->last_activity = srv_now(s);
			continue;
		}
		if (r == 0) {
			st->local_eof = 1;
			break;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		/* Read error: abort the stream. */
		stream_close_fd(st);
		st->state = SST_RESET;
		arq_send_discard(st->arq);
		arq_ctl_send(
		    st->arq, srv_now(s), WIRE_STREAM_RST, 0, 0, 0, NULL, 0, 0);
		return;
	}
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
			ev_io_del(s->loop, fd);
			close(fd);
			st->fd = -1;
			st->io_mask = 0;
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
		s->st.connect_ok++;
		send_result(st,
		    s->cfg.protocol_tcp ? WIRE_STREAM_CONNECTED :
					  WIRE_SOCKS5_CONNECTED);
		flush_out(st);
		srv_stream_progress(st);
		return;
	}
	if (events & EV_READ)
		read_in(st);
	if ((events & EV_WRITE) && st->fd != -1)
		flush_out(st);
	srv_stream_progress(st);
}

void
srv_stream_progress(struct srv_stream *st)
{
	struct eng_server *s = st->sess->srv;
	uint64_t now = srv_now(s);
	const uint8_t *p;

	if (st->state == SST_FAILED) {
		if (arq_ctl_count(st->arq) == 0)
			srv_stream_finish(st);
		return;
	}
	if (st->state == SST_RESET) {
		if (!arq_ctl_pending(st->arq, WIRE_STREAM_RST))
			srv_stream_finish(st);
		return;
	}
	if (st->state != SST_OPEN)
		return;
	if (st->write_broken && !st->close_write_sent) {
		st->close_write_sent = 1;
		arq_ctl_send(
		    st->arq, now, WIRE_STREAM_CLOSE_WRITE, 0, 0, 0, NULL, 0, 0);
	}
	if (st->local_eof && !st->close_read_sent && !st->peer_close_write &&
	    arq_unacked(st->arq) == 0) {
		st->close_read_sent = 1;
		arq_ctl_send(
		    st->arq, now, WIRE_STREAM_CLOSE_READ, 0, 0, 0, NULL, 0, 0);
	}
	if (st->peer_close_read && !st->shut_wr && st->fd != -1 &&
	    arq_rx_peek(st->arq, &p) == 0) {
		st->shut_wr = 1;
		shutdown(st->fd, SHUT_WR);
	}
	/* Done when our direction ended (acked CLOSE_READ, or the peer
	 * stopped it) and theirs too (written out, or our writer broke). */
	if ((st->close_read_acked || st->peer_close_write) &&
	    (st->shut_wr ||
		(st->write_broken &&
		    !arq_ctl_pending(st->arq, WIRE_STREAM_CLOSE_WRITE)))) {
		srv_stream_finish(st);
		return;
	}
	set_io(st);
}

void
srv_stream_tick(struct srv_stream *st, uint64_t now)
{
	uint8_t t = 0;
	enum arq_tick_res r = arq_tick(st->arq, now, &t);

	if (r == ARQ_TICK_DATA_FAILED) {
		stream_close_fd(st);
		st->state = SST_RESET;
		arq_send_discard(st->arq);
		arq_ctl_send(
		    st->arq, now, WIRE_STREAM_RST, 0, 0, 0, NULL, 0, 0);
		return;
	}
	if (r == ARQ_TICK_CTL_EXPIRED &&
	    (st->state == SST_FAILED || st->state == SST_RESET ||
		t == WIRE_STREAM_RST || t == WIRE_STREAM_CLOSE_READ ||
		t == WIRE_STREAM_CLOSE_WRITE)) {
		srv_stream_finish(st);
		return;
	}
	srv_stream_progress(st);
}
