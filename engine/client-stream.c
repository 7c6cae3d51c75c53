/* SPDX-License-Identifier: MIT */
/*
 * client-stream.c — the client's local side: the listener, the SOCKS
 * front end (the parser is engine/socks.c; this file feeds it and carries
 * out its verdicts), the SOCKS5_SYN (or STREAM_SYN in TCP mode) with its
 * fragments as reliable setup frames, the SOCKS reply once the server's
 * result arrives, and the downstream frames of each stream. Data, the
 * ARQ and the half-close rules of wire-protocol.md 1.11 are the stream
 * core's (engine/stream.c).
 *
 * ACKs that must outlive a stream (results, CLOSE_READ, RST) go through
 * the session-level queue so a stream can be freed at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/client-fec.h"
#include "engine/client-query.h"
#include "engine/client-stream.h"
#include "engine/client-udp.h"
#include "engine/pool.h"

#define OWNER(p) STREAM_OWNER(p, struct ecl_stream, s)
/* Payload bytes one local read may put in a frame (above any upload MTU
 * the sweep can find, 512). */
#define READ_MAX 600u

static void stream_io(struct ev_loop *, int, int, void *);
static void stream_free(struct ecl_stream *st);

/* ---- what the core tells the client ---- */

static void
on_read_bytes(struct stream *s, size_t n, uint64_t now)
{
	struct ecl_stream *st = OWNER(s);

	st->bytes_up += n;
	st->c->st.bytes_up += n;
	st->c->last_traffic = now;
}

/* Local socket broken: abort the stream. */
static void
on_read_failed(struct stream *s, uint64_t now)
{
	struct ecl_stream *st = OWNER(s);

	st->c->st.socks_read_errors++;
	st->state = ECL_DEAD;
	s->open = 0;
	stream_reset(s, now);
	stream_close_fd(s);
}

static void
on_write_failed(struct stream *s)
{
	OWNER(s)->c->st.socks_write_errors++;
}

static void
on_finished(struct stream *s)
{
	stream_free(OWNER(s));
}

static const struct stream_ops ecl_stream_ops = {
    .read_bytes = on_read_bytes,
    .read_failed = on_read_failed,
    .write_failed = on_write_failed,
    .finished = on_finished,
};

/* An ACK on the session queue (survives the stream). */
static void
ack0(struct eng_client *c, uint8_t type, uint16_t stream, uint16_t seq,
    uint8_t frag, uint8_t total)
{
	int a = wire_ack_type(type);

	if (a >= 0)
		txq_push(&c->q0, 0, (uint8_t)a, stream, seq, frag, total, 0,
		    NULL, 0);
}

static void
update_io(struct ecl_stream *st)
{
	int mask = 0;

	if (st->state == ECL_SOCKS)
		mask = EV_READ;
	else if (st->state == ECL_OPEN)
		mask = stream_open_mask(&st->s);
	stream_set_io(&st->s, mask);
}

static void
unlink_stream(struct ecl_stream *st)
{
	struct eng_client *c = st->c;
	size_t i;

	if (stream_table_del(&c->streams, &st->s)) {
		c->st.streams_active--;
		c->st.streams_closed++;
		if (st->pooled)
			pool_stream_close(c->pool, st->s.id);
		st->pooled = 0;
		return;
	}
	for (i = 0; i < c->npending; i++)
		if (c->pending[i] == st) {
			c->pending[i] = c->pending[--c->npending];
			return;
		}
}

/* Drop the stream's ARQ and queue, its counters kept in the client's. */
static void
stop_arq(struct ecl_stream *st)
{
	if (st->s.arq != NULL)
		arq_stats_add(&st->c->arq_done, arq_get_stats(st->s.arq));
	stream_stop(&st->s);
}

static void
stream_free(struct ecl_stream *st)
{
	unlink_stream(st);
	stream_close_fd(&st->s);
	stop_arq(st);
	ecl_fec_stream_free(st);
	free(st);
}

static void
write_reply(struct ecl_stream *st, int rep)
{
	uint8_t r[SOCKS_REPLY_MAX];
	size_t n;

	/* A local end that is not a socket (a TUN flow) gets no reply:
	 * success opens it, a failure resets it. */
	if (st->s.lh != NULL && rep != 0)
		st->s.local_abort = 1;
	if (st->replied || st->s.fd == -1)
		return;
	st->replied = 1;
	if (!st->socks.socks4 && st->c->cfg.protocol_tcp)
		return;
	n = socks_reply(&st->socks, rep, r);
	(void)send(st->s.fd, r, n, MSG_NOSIGNAL);
}

static int
result_rep(uint8_t type)
{
	switch (type) {
	case WIRE_SOCKS5_CONNECTED:
	case WIRE_STREAM_CONNECTED:
		return 0;
	case WIRE_SOCKS5_RULESET_DENIED:
		return 2;
	case WIRE_SOCKS5_NETWORK_UNREACHABLE:
		return 3;
	case WIRE_SOCKS5_HOST_UNREACHABLE:
		return 4;
	case WIRE_SOCKS5_CONNECTION_REFUSED:
		return 5;
	case WIRE_SOCKS5_TTL_EXPIRED:
		return 6;
	case WIRE_SOCKS5_COMMAND_UNSUPPORTED:
		return 7;
	case WIRE_SOCKS5_ADDRESS_TYPE_UNSUPPORTED:
		return 8;
	default:
		return 1;
	}
}

static int
is_result(uint8_t t)
{
	return t == WIRE_STREAM_CONNECTED || t == WIRE_STREAM_CONNECT_FAIL ||
	    (t >= WIRE_SOCKS5_CONNECT_FAIL && t <= WIRE_SOCKS5_CONNECTED &&
		((t - WIRE_SOCKS5_CONNECT_FAIL) % 2) == 0);
}

static void
pending_add(struct eng_client *c, struct ecl_stream *st)
{
	if (c->npending == c->pcap) {
		c->pcap = c->pcap ? c->pcap * 2 : 16;
		c->pending =
		    xreallocarray(c->pending, c->pcap, sizeof *c->pending);
	}
	c->pending[c->npending++] = st;
}

/* Give the stream an id and send its SYN (fragmented at the MTU). */
static void
open_stream(struct ecl_stream *st, uint64_t now)
{
	struct eng_client *c = st->c;
	size_t i, n, frag, off, tlen = st->socks.tlen;
	const uint8_t *target = st->socks.target;
	uint16_t id = 0;

	for (n = 0; n < 65535; n++) {
		id = c->next_stream_id;
		c->next_stream_id = id >= 65535 ? 1 : id + 1;
		if (stream_find(&c->streams, id) == NULL)
			break;
	}
	unlink_stream(st);
	stream_start(&st->s, id, &c->arqc);
	st->s.max_read = MIN(c->sess_up_mtu, READ_MAX);
	st->s.comp = c->up_comp;
	st->s.comp_min = c->comp_min;
	stream_table_add(&c->streams, &st->s);
	c->st.streams_active++;
	c->st.streams_opened++;
	pool_stream_open(c->pool, id);
	st->pooled = 1;
	st->state = ECL_CONNECTING;
	if (c->cfg.protocol_tcp) {
		arq_ctl_send(
		    st->s.arq, now, WIRE_STREAM_SYN, 0, 0, 0, NULL, 0, 1);
		return;
	}
	frag = MAX(c->sess_up_mtu, 16u);
	n = (tlen + frag - 1) / frag;
	for (i = 0, off = 0; i < n; i++, off += frag)
		arq_ctl_send(st->s.arq, now, WIRE_SOCKS5_SYN, 0, (uint8_t)i,
		    (uint8_t)n, target + off, MIN(frag, tlen - off), 1);
	ecl_pump(c, now);
}

static void
target_ready(struct ecl_stream *st, uint64_t now)
{
	st->state = ECL_WAIT_SESSION;
	stream_set_io(&st->s, 0);
	if (st->c->st.phase == ENG_CLI_CONNECTED)
		open_stream(st, now);
}

void
ecl_streams_session_up(struct eng_client *c, uint64_t now)
{
	size_t i;

	for (i = c->npending; i > 0; i--)
		if (c->pending[i - 1]->state == ECL_WAIT_SESSION)
			open_stream(c->pending[i - 1], now);
}

/* ---- the SOCKS front end ---- */

/* UDP ASSOCIATE: the connection now belongs to the association. */
static void
udp_associate(struct ecl_stream *st)
{
	int fd = st->s.fd;

	ev_io_del(st->c->loop, fd);
	st->s.io_mask = 0;
	if (ecl_udp_open(st->c, fd, st->socks.target, st->socks.tlen) == 0)
		st->s.fd = -1;
	stream_free(st);
}

/* Count the request for its client's address too (client-peers.h). */
static void
note_peer(struct ecl_stream *st)
{
	union net_addr pa;
	socklen_t pl = sizeof pa;

	memset(&pa, 0, sizeof pa);
	if (getpeername(st->s.fd, &pa.sa, &pl) == 0)
		ecl_peers_note(
		    &st->c->peers, &pa, st->socks.target[0], now_wall_ms());
}

/* Bytes arrived during the handshake: run the parser over them. */
static void
socks_input(struct ecl_stream *st, uint64_t now)
{
	struct eng_client *c = st->c;
	const struct socks_cfg cfg = {
	    c->cfg.socks_auth, c->cfg.socks_user, c->cfg.socks_pass};
	uint8_t reply[SOCKS_REPLY_MAX];
	size_t rlen;

	for (;;) {
		enum socks_verdict v = socks_step(
		    &st->socks, &cfg, st->in, &st->inlen, reply, &rlen);

		if (rlen > 0)
			(void)send(st->s.fd, reply, rlen, MSG_NOSIGNAL);
		switch (v) {
		case SOCKS_AGAIN:
			continue;
		case SOCKS_WAIT:
			/* A full buffer that parses to nothing: give up. */
			if (st->inlen == sizeof st->in)
				stream_free(st);
			return;
		case SOCKS_TARGET:
			if (st->socks.target[0] == 3)
				c->st.socks_req_name++;
			else if (st->socks.target[0] == 4)
				c->st.socks_req_ip6++;
			else
				c->st.socks_req_ip4++;
			note_peer(st);
			target_ready(st, now);
			return;
		case SOCKS_UDP_ASSOCIATE:
			udp_associate(st);
			return;
		case SOCKS_AUTH_FAILED:
			c->st.socks_auth_failures++;
			log_info("SOCKS5 authentication failed");
			stream_free(st);
			return;
		case SOCKS_CLOSE:
			stream_free(st);
			return;
		}
	}
}

/* The client's side states around the core's half-close rules. */
static void
progress(struct ecl_stream *st, uint64_t now)
{
	if (st->state == ECL_DEAD) {
		if (!arq_ctl_pending(st->s.arq, WIRE_STREAM_RST))
			stream_free(st);
		return;
	}
	if (st->state != ECL_OPEN)
		return;
	stream_progress(&st->s, now);
}

static void
stream_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct ecl_stream *st = arg;
	struct eng_client *c = st->c;
	uint64_t now = ev_now_us(loop);
	ssize_t r;

	(void)fd;
	if (st->state == ECL_SOCKS) {
		r = recv(
		    st->s.fd, st->in + st->inlen, sizeof st->in - st->inlen, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			stream_free(st);
			return;
		}
		st->inlen += (size_t)r;
		socks_input(st, now);
		return;
	}
	if (events & EV_READ)
		stream_read(&st->s, now);
	if ((events & EV_WRITE) && stream_has_local(&st->s))
		stream_flush(&st->s);
	progress(st, now);
	ecl_pump(c, now);
}

void
ecl_stream_io(struct ecl_stream *st, int events)
{
	stream_io(st->c->loop, -1, events, st);
}

struct ecl_stream *
ecl_adopt_local(struct eng_client *c, const struct stream_local *ops, void *h,
    const uint8_t *target, size_t tlen)
{
	struct ecl_stream *st;

	if (c->stopping || tlen > sizeof st->socks.target)
		return NULL;
	st = xcalloc(1, sizeof *st);
	stream_init(&st->s, &ecl_stream_ops, c->loop);
	socks_init(&st->socks);
	memcpy(st->socks.target, target, tlen);
	st->socks.tlen = tlen;
	st->c = c;
	st->s.local = ops;
	st->s.lh = h;
	st->created = ev_now_us(c->loop);
	pending_add(c, st);
	target_ready(st, st->created);
	return st;
}

/* Take over a connected local socket as a new proxy connection. */
static void
adopt(struct eng_client *c, int cfd)
{
	struct ecl_stream *st;
	struct err e = {""};

	st = xcalloc(1, sizeof *st);
	stream_init(&st->s, &ecl_stream_ops, c->loop);
	socks_init(&st->socks);
	st->c = c;
	st->s.fd = cfd;
	c->st.socks_accepted++;
	st->created = ev_now_us(c->loop);
	pending_add(c, st);
	if (ev_io_add(c->loop, cfd, EV_READ, stream_io, st, &e) == -1) {
		st->s.fd = -1;
		close(cfd);
		stream_free(st);
		return;
	}
	st->s.io_mask = EV_READ;
	if (c->cfg.protocol_tcp)
		target_ready(st, st->created);
	else
		st->state = ECL_SOCKS;
}

void
eng_client_adopt(struct eng_client *c, int fd)
{
	struct err e = {""};

	if (net_set_nonblock(fd, &e) == -1) {
		close(fd);
		return;
	}
	adopt(c, fd);
}

/*
 * One accepted SOCKS connection. The accept loop is net_acceptor's
 * (common/net.h): out of descriptors, it sheds or pauses instead of
 * spinning at 100 % CPU as a level-triggered accept4 loop did (issue 19
 * item 5: any local user can open connections to the SOCKS port).
 */
static void
on_accept(void *arg, int cfd)
{
	struct eng_client *c = arg;

	if (c->stopping) {
		close(cfd);
		return;
	}
	adopt(c, cfd);
}

int
ecl_listen(struct eng_client *c, union net_addr *bound, struct err *e)
{
	union net_addr a;
	char *hp;
	const char *ip = c->cfg.listen_ip;

	if (ip == NULL)
		ip = "127.0.0.1";
	hp = strchr(ip, ':') != NULL && ip[0] != '[' ? xasprintf("[%s]", ip) :
						       xstrdup(ip);
	if (net_addr_parse(hp, c->cfg.listen_port, &a, e) == -1) {
		free(hp);
		return -1;
	}
	free(hp);
	if ((c->listen_fd = net_tcp_listen(&a, 128, e)) == -1)
		return -1;
	if (bound != NULL && net_local_addr(c->listen_fd, bound, e) == -1)
		return -1;
	/* No message for a shed connection: a SOCKS client would read it
	 * as a reply; it sees the connection closed. */
	c->acc = net_acceptor_new(c->loop, c->listen_fd, on_accept, c, NULL, e);
	return c->acc != NULL ? 0 : -1;
}

/* ---- downstream frames ---- */

/* A frame for a stream we do not have: ACK it so the server stops, and
 * answer data with RST. */
static void
unknown_stream(struct eng_client *c, const struct wire_frame *f)
{
	uint8_t t = f->type;

	if (f->stream_id == 0)
		return;
	if (t == WIRE_STREAM_DATA || t == WIRE_STREAM_RESEND)
		txq_push(&c->q0, 0, WIRE_STREAM_RST, f->stream_id, 0, 0, 0, 0,
		    NULL, 0);
	else if (wire_ack_type(t) >= 0)
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
}

/* SOCKS5_CONNECTED / STREAM_CONNECTED or a failure for our SYN. */
static void
stream_result(struct ecl_stream *st, const struct wire_frame *f, uint64_t now)
{
	struct eng_client *c = st->c;
	uint8_t t = f->type;

	ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
	arq_ctl_ack(st->s.arq,
	    c->cfg.protocol_tcp ? WIRE_STREAM_SYN : WIRE_SOCKS5_SYN, 0, 0, 1,
	    now);
	if (st->state != ECL_CONNECTING)
		return;
	if (result_rep(t) == 0) {
		write_reply(st, 0);
		st->state = ECL_OPEN;
		st->s.open = 1;
		update_io(st);
		return;
	}
	c->st.streams_failed++;
	log_info("stream %u: %s", st->s.id, wire_type_name(t));
	write_reply(st, result_rep(t));
	stream_free(st);
}

unsigned
ecl_stream_recovered(struct ecl_stream *st, const uint16_t *seqs,
    const uint8_t *const *ps, const size_t *lens, unsigned n, uint64_t now)
{
	struct eng_client *c = st->c;
	unsigned i, fresh = 0;

	for (i = 0; i < n; i++)
		if (stream_data(&st->s, now, seqs[i], ps[i], lens[i]) ==
		    ARQ_RX_NEW) {
			c->st.bytes_down += lens[i];
			st->bytes_down += lens[i];
			fresh++;
		}
	progress(st, now);
	return fresh;
}

void
ecl_stream_frame(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	struct stream *s = stream_find(&c->streams, f->stream_id);
	struct ecl_stream *st;
	uint8_t t = f->type;
	int origin;

	if (s == NULL) {
		unknown_stream(c, f);
		return;
	}
	st = OWNER(s);
	switch (t) {
	case WIRE_STREAM_DATA:
	case WIRE_STREAM_RESEND:
		if (stream_data(s, now, f->seq, f->payload, f->payload_len) ==
		    ARQ_RX_NEW) {
			c->st.bytes_down += f->payload_len;
			st->bytes_down += f->payload_len;
		}
		/* A group it completes has progressed the stream already. */
		if (ecl_fec_data(
			c, st, f->seq, f->payload, f->payload_len, now) == 0)
			progress(st, now);
		return;
	case WIRE_STREAM_FEC_SYMBOL:
		ecl_fec_symbol(c, st, f, now);
		return;
	case WIRE_STREAM_DATA_ACK:
		if (arq_on_ack(s->arq, f->seq, now) > 0)
			pool_stream_progress(c->pool, s->id);
		progress(st, now);
		return;
	case WIRE_STREAM_DATA_NACK:
		arq_on_nack(s->arq, f->seq, now);
		return;
	case WIRE_STREAM_CLOSE_READ:
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
		s->peer_close_read = 1;
		progress(st, now);
		return;
	case WIRE_STREAM_CLOSE_WRITE:
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
		stream_peer_close_write(s);
		progress(st, now);
		return;
	case WIRE_STREAM_RST:
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
		write_reply(st, 1);
		stream_free(st);
		return;
	default:
		break;
	}
	if (is_result(t)) {
		stream_result(st, f, now);
		return;
	}
	if ((origin = wire_ack_origin(t)) >= 0) {
		stream_ctl_acked(s, (uint8_t)origin, f->seq, f->frag_id, now);
		progress(st, now);
	}
}

void
ecl_streams_tick(struct eng_client *c, uint64_t now)
{
	struct ecl_stream *st;
	enum arq_tick_res r;
	uint8_t t;
	size_t i;

	for (i = c->streams.n; i > 0; i--) {
		if (i - 1 >= c->streams.n)
			continue;
		st = ecl_stream_at(c, i - 1);
		/* The NACK timers of a download follow the answer times. */
		if (c->have_srtt)
			arq_set_path_rtt(st->s.arq, c->dns_srtt, c->dns_rttvar);
		r = arq_tick(st->s.arq, now, &t);
		if (r == ARQ_TICK_DATA_FAILED ||
		    (r == ARQ_TICK_CTL_EXPIRED &&
			(st->state == ECL_DEAD || st->state == ECL_CONNECTING ||
			    stream_close_type(t)))) {
			write_reply(st, 1);
			stream_free(st);
			continue;
		}
		progress(st, now);
	}
}

/*
 * The session is gone (ERROR_DROP). Streams still waiting for their
 * result go back to the pending list and are opened again on the next
 * session (the server never connected them for the old one, or if it did,
 * that connection died with the session); open streams are reset.
 */
void
ecl_streams_session_lost(struct eng_client *c)
{
	struct ecl_stream *st;
	size_t i;

	for (i = c->streams.n; i > 0; i--) {
		st = ecl_stream_at(c, i - 1);
		if (st->state != ECL_CONNECTING) {
			write_reply(st, 1);
			stream_free(st);
			continue;
		}
		unlink_stream(st);
		stop_arq(st);
		st->s.id = 0;
		st->state = ECL_WAIT_SESSION;
		pending_add(c, st);
	}
}

void
ecl_streams_reset_all(struct eng_client *c)
{
	while (c->streams.n > 0) {
		write_reply(ecl_stream_at(c, 0), 1);
		stream_free(ecl_stream_at(c, 0));
	}
}

void
ecl_streams_free_all(struct eng_client *c)
{
	while (c->streams.n > 0)
		stream_free(ecl_stream_at(c, 0));
	while (c->npending > 0)
		stream_free(c->pending[0]);
	stream_table_free(&c->streams);
	free(c->pending);
	c->pending = NULL;
}
