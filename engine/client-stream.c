/*
 * client-stream.c — the client's local side: the listener, the SOCKS5
 * (RFC 1928, user/password per RFC 1929) and SOCKS4/4a handshakes, the
 * SOCKS5_SYN (or STREAM_SYN in TCP mode) with its fragments as reliable
 * setup frames, the SOCKS reply once the server's result arrives, and the
 * data path through the ARQ with the half-close rules of
 * wire-protocol.md 1.11 (mirrors server-stream.c).
 *
 * ACKs that must outlive a stream (results, CLOSE_READ, RST) go through
 * the session-level queue so a stream can be freed at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/client-int.h"
#include "engine/pool.h"

static void stream_io(struct ev_loop *, int, int, void *);
static void progress(struct cli_stream *st);

static void
emit(void *arg, enum arq_out kind, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct cli_stream *st = arg;

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

static struct cli_stream *
find(struct eng_client *c, uint16_t id)
{
	size_t lo = 0, hi = c->nstreams, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (c->streams[mid]->id == id)
			return c->streams[mid];
		if (c->streams[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
set_io(struct cli_stream *st, int mask)
{
	if (st->fd == -1 || mask == st->io_mask)
		return;
	st->io_mask = mask;
	ev_io_set(st->c->loop, st->fd, mask);
}

static void
update_io(struct cli_stream *st)
{
	const uint8_t *p;
	int mask = 0;

	switch (st->state) {
	case CS_GREET:
	case CS_AUTH:
	case CS_REQUEST:
		mask = EV_READ;
		break;
	case CS_OPEN:
		if (!st->local_eof && !st->peer_close_write &&
		    arq_send_ready(st->arq))
			mask |= EV_READ;
		if (!st->shut_wr && !st->write_broken &&
		    arq_rx_peek(st->arq, &p) > 0)
			mask |= EV_WRITE;
		break;
	default:
		break;
	}
	set_io(st, mask);
}

/* Fold a stream's ARQ counters into the client's before it goes. */
static void
arq_note_done(struct cli_stream *st)
{
	const struct arq_stats *a;
	struct arq_stats *d = &st->c->arq_done;

	if (st->arq == NULL)
		return;
	a = arq_get_stats(st->arq);
	d->data_sent += a->data_sent;
	d->retransmits += a->retransmits;
	d->resends += a->resends;
	d->nacks_sent += a->nacks_sent;
	d->nacks_recv += a->nacks_recv;
	d->acks_recv += a->acks_recv;
	d->ctl_retransmits += a->ctl_retransmits;
	d->rx_dup += a->rx_dup;
	d->rx_old += a->rx_old;
	d->rx_window_drop += a->rx_window_drop;
}

static void
unlink_stream(struct cli_stream *st)
{
	struct eng_client *c = st->c;
	size_t i;

	for (i = 0; i < c->nstreams; i++)
		if (c->streams[i] == st) {
			memmove(&c->streams[i], &c->streams[i + 1],
			    (c->nstreams - i - 1) * sizeof c->streams[0]);
			c->nstreams--;
			c->st.streams_active--;
			c->st.streams_closed++;
			if (st->pooled)
				pool_stream_close(c->pool, st->id);
			st->pooled = 0;
			return;
		}
	for (i = 0; i < c->npending; i++)
		if (c->pending[i] == st) {
			c->pending[i] = c->pending[--c->npending];
			return;
		}
}

static void
stream_free(struct cli_stream *st)
{
	unlink_stream(st);
	if (st->fd != -1) {
		ev_io_del(st->c->loop, st->fd);
		close(st->fd);
	}
	txq_clear(&st->q);
	arq_note_done(st);
	arq_free(st->arq);
	free(st);
}

static void
write_reply(struct cli_stream *st, int rep)
{
	uint8_t r[10];
	size_t n;

	if (st->replied || st->fd == -1)
		return;
	st->replied = 1;
	if (st->socks4) {
		memset(r, 0, 8);
		r[1] = rep == 0 ? 0x5a : 0x5b;
		n = 8;
	} else if (st->c->cfg.protocol_tcp)
		return;
	else {
		memset(r, 0, sizeof r);
		r[0] = 5;
		r[1] = (uint8_t)rep;
		r[3] = 1;
		n = 10;
	}
	(void)send(st->fd, r, n, MSG_NOSIGNAL);
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

/* Give the stream an id and send its SYN (fragmented at the MTU). */
static void
open_stream(struct cli_stream *st)
{
	struct eng_client *c = st->c;
	uint64_t now = cli_now(c);
	size_t i, n, frag, off;
	uint16_t id;

	for (n = 0; n < 65535; n++) {
		id = c->next_stream_id;
		c->next_stream_id = id >= 65535 ? 1 : id + 1;
		if (find(c, id) == NULL)
			break;
	}
	unlink_stream(st);
	st->id = id;
	if (c->nstreams == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->streams =
		    xreallocarray(c->streams, c->cap, sizeof *c->streams);
	}
	for (i = c->nstreams; i > 0 && c->streams[i - 1]->id > id; i--)
		c->streams[i] = c->streams[i - 1];
	c->streams[i] = st;
	c->nstreams++;
	c->st.streams_active++;
	c->st.streams_opened++;
	st->arq = arq_new(&c->arqc, emit, st);
	pool_stream_open(c->pool, id);
	st->pooled = 1;
	st->state = CS_CONNECTING;
	if (c->cfg.protocol_tcp) {
		arq_ctl_send(
		    st->arq, now, WIRE_STREAM_SYN, 0, 0, 0, NULL, 0, 1);
		return;
	}
	frag = MAX(c->sess_up_mtu, 16u);
	n = (st->tlen + frag - 1) / frag;
	for (i = 0, off = 0; i < n; i++, off += frag)
		arq_ctl_send(st->arq, now, WIRE_SOCKS5_SYN, 0, (uint8_t)i,
		    (uint8_t)n, st->target + off, MIN(frag, st->tlen - off), 1);
	cli_pump(c);
}

static void
target_ready(struct cli_stream *st)
{
	st->state = CS_WAIT_SESSION;
	set_io(st, 0);
	if (st->c->st.phase == ENG_CLI_CONNECTED)
		open_stream(st);
}

void
cli_streams_session_up(struct eng_client *c)
{
	size_t i;

	for (i = c->npending; i > 0; i--)
		if (c->pending[i - 1]->state == CS_WAIT_SESSION)
			open_stream(c->pending[i - 1]);
}

/* ---- SOCKS handshakes ---- */

static void
fail_local(struct cli_stream *st, int rep)
{
	write_reply(st, rep);
	stream_free(st);
}

/* Returns 1 when the buffered bytes made progress, 0 to wait, -1 freed. */
static int
socks_step(struct cli_stream *st)
{
	struct eng_client *c = st->c;
	uint8_t *b = st->in;
	size_t n = st->inlen, need, ul, pl, i;
	uint8_t r[2];

	if (st->state == CS_GREET) {
		if (n < 1)
			return 0;
		if (b[0] == 4) {
			st->socks4 = 1;
			st->state = CS_REQUEST;
			return 1;
		}
		if (b[0] != 5 || n < 2) {
			if (b[0] != 5) {
				stream_free(st);
				return -1;
			}
			return 0;
		}
		need = 2 + (size_t)b[1];
		if (n < need)
			return 0;
		r[0] = 5;
		r[1] = 0xff;
		for (i = 2; i < need; i++)
			if ((!c->cfg.socks_auth && b[i] == 0) ||
			    (c->cfg.socks_auth && b[i] == 2))
				r[1] = b[i];
		(void)send(st->fd, r, 2, MSG_NOSIGNAL);
		if (r[1] == 0xff) {
			stream_free(st);
			return -1;
		}
		memmove(b, b + need, n - need);
		st->inlen -= need;
		st->state = r[1] == 2 ? CS_AUTH : CS_REQUEST;
		return 1;
	}
	if (st->state == CS_AUTH) {
		if (n < 2)
			return 0;
		ul = b[1];
		if (n < 3 + ul)
			return 0;
		pl = b[2 + ul];
		if (n < 3 + ul + pl)
			return 0;
		r[0] = 1;
		r[1] = c->cfg.socks_user != NULL && c->cfg.socks_pass != NULL &&
			strlen(c->cfg.socks_user) == ul &&
			strlen(c->cfg.socks_pass) == pl &&
			memcmp(b + 2, c->cfg.socks_user, ul) == 0 &&
			memcmp(b + 3 + ul, c->cfg.socks_pass, pl) == 0 ?
		    0 :
		    1;
		(void)send(st->fd, r, 2, MSG_NOSIGNAL);
		if (r[1] != 0) {
			c->st.socks_auth_failures++;
			log_info("SOCKS5 authentication failed");
			stream_free(st);
			return -1;
		}
		need = 3 + ul + pl;
		memmove(b, b + need, n - need);
		st->inlen -= need;
		st->state = CS_REQUEST;
		return 1;
	}
	if (st->state != CS_REQUEST)
		return 0;
	if (st->socks4) {
		uint8_t *z, *z2;

		if (n < 9)
			return 0;
		if ((z = memchr(b + 8, 0, n - 8)) == NULL)
			return 0;
		if (b[1] != 1) {
			fail_local(st, 1);
			return -1;
		}
		if (b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0) {
			/* SOCKS4a: a host name follows the user id. */
			z2 = memchr(z + 1, 0, (size_t)(b + n - (z + 1)));
			if (z2 == NULL)
				return 0;
			ul = (size_t)(z2 - (z + 1));
			if (ul == 0 || ul > 255) {
				fail_local(st, 1);
				return -1;
			}
			st->target[0] = 3;
			st->target[1] = (uint8_t)ul;
			memcpy(st->target + 2, z + 1, ul);
			memcpy(st->target + 2 + ul, b + 2, 2);
			st->tlen = 4 + ul;
		} else {
			st->target[0] = 1;
			memcpy(st->target + 1, b + 4, 4);
			memcpy(st->target + 5, b + 2, 2);
			st->tlen = 7;
		}
		st->inlen = 0;
		target_ready(st);
		return 1;
	}
	if (n < 5)
		return 0;
	switch (b[3]) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	case 3:
		need = 4 + 1 + (size_t)b[4] + 2;
		break;
	default:
		fail_local(st, 8);
		return -1;
	}
	if (n < need)
		return 0;
	if (b[0] != 5 || b[1] != 1) {
		fail_local(st, 7);
		return -1;
	}
	if (b[3] == 3 && b[4] == 0) {
		fail_local(st, 1);
		return -1;
	}
	st->tlen = need - 3;
	memcpy(st->target, b + 3, st->tlen);
	st->inlen = 0;
	target_ready(st);
	return 1;
}

/* ---- data path ---- */

static void
flush_out(struct cli_stream *st)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	while (st->fd != -1 && st->state == CS_OPEN && !st->shut_wr &&
	    !st->write_broken && (n = arq_rx_peek(st->arq, &p)) > 0) {
		w = send(st->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			arq_rx_consume(st->arq, (size_t)w);
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		st->c->st.socks_write_errors++;
		st->write_broken = 1;
	}
}

static void
read_in(struct cli_stream *st)
{
	struct eng_client *c = st->c;
	uint8_t buf[600], cbuf[700];
	size_t mtu = MIN((size_t)c->sess_up_mtu, sizeof buf), clen;
	ssize_t r;
	int comp, budget = 64;

	while (budget-- > 0 && st->fd != -1 && !st->local_eof &&
	    !st->peer_close_write && arq_send_ready(st->arq)) {
		r = recv(st->fd, buf, mtu, 0);
		if (r > 0) {
			comp = wire_compress_payload(c->up_comp, c->comp_min,
			    buf, (size_t)r, cbuf, sizeof cbuf, &clen);
			if (comp != WIRE_COMP_OFF)
				arq_send(st->arq, cli_now(c), cbuf, clen,
				    (uint8_t)comp);
			else
				arq_send(
				    st->arq, cli_now(c), buf, (size_t)r, 0);
			st->bytes_up += (size_t)r;
			c->st.bytes_up += (size_t)r;
			c->last_traffic = cli_now(c);
			continue;
		}
		if (r == 0) {
			st->local_eof = 1;
			break;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		/* Local socket broken: abort the stream. */
		c->st.socks_read_errors++;
		st->state = CS_DEAD;
		arq_send_discard(st->arq);
		arq_ctl_send(
		    st->arq, cli_now(c), WIRE_STREAM_RST, 0, 0, 0, NULL, 0, 0);
		ev_io_del(c->loop, st->fd);
		close(st->fd);
		st->fd = -1;
		return;
	}
}

static void
progress(struct cli_stream *st)
{
	uint64_t now = cli_now(st->c);
	const uint8_t *p;

	if (st->state == CS_DEAD) {
		if (!arq_ctl_pending(st->arq, WIRE_STREAM_RST))
			stream_free(st);
		return;
	}
	if (st->state != CS_OPEN)
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
	if ((st->close_read_acked || st->peer_close_write) &&
	    (st->shut_wr ||
		(st->write_broken &&
		    !arq_ctl_pending(st->arq, WIRE_STREAM_CLOSE_WRITE)))) {
		stream_free(st);
		return;
	}
	update_io(st);
}

static void
stream_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct cli_stream *st = arg;
	ssize_t r;
	int s;

	(void)loop;
	(void)fd;
	if (st->state <= CS_REQUEST) {
		r = recv(
		    st->fd, st->in + st->inlen, sizeof st->in - st->inlen, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			stream_free(st);
			return;
		}
		st->inlen += (size_t)r;
		while ((s = socks_step(st)) == 1 && st->state <= CS_REQUEST)
			;
		if (s != -1 && st->state <= CS_REQUEST &&
		    st->inlen == sizeof st->in)
			stream_free(st);
		return;
	}
	if (events & EV_READ)
		read_in(st);
	if ((events & EV_WRITE) && st->fd != -1)
		flush_out(st);
	progress(st);
	cli_pump(st->c);
}

/* Take over a connected local socket as a new proxy connection. */
static void
adopt(struct eng_client *c, int cfd)
{
	struct cli_stream *st;
	struct err e = {""};

	st = xcalloc(1, sizeof *st);
	st->c = c;
	st->fd = cfd;
	c->st.socks_accepted++;
	st->created = cli_now(c);
	if (c->npending == c->pcap) {
		c->pcap = c->pcap ? c->pcap * 2 : 16;
		c->pending =
		    xreallocarray(c->pending, c->pcap, sizeof *c->pending);
	}
	c->pending[c->npending++] = st;
	if (ev_io_add(c->loop, cfd, EV_READ, stream_io, st, &e) == -1) {
		st->fd = -1;
		close(cfd);
		stream_free(st);
		return;
	}
	st->io_mask = EV_READ;
	if (c->cfg.protocol_tcp) {
		st->tlen = 0;
		target_ready(st);
	} else
		st->state = CS_GREET;
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

static void
on_accept(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_client *c = arg;
	int cfd;

	(void)loop;
	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		if (c->stopping) {
			close(cfd);
			continue;
		}
		adopt(c, cfd);
	}
}

int
cli_listen(struct eng_client *c, union net_addr *bound, struct err *e)
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
	return ev_io_add(c->loop, c->listen_fd, EV_READ, on_accept, c, e);
}

/* ---- downstream frames ---- */

void
cli_stream_frame(struct eng_client *c, const struct wire_frame *f,
    const uint8_t *payload, size_t plen)
{
	struct cli_stream *st = find(c, f->stream_id);
	uint64_t now = cli_now(c);
	uint8_t t = f->type;
	int origin;

	if (st == NULL) {
		/* Unknown stream: acknowledge so the server stops, and
		 * answer data with RST. */
		if (f->stream_id == 0)
			return;
		if (t == WIRE_STREAM_DATA || t == WIRE_STREAM_RESEND)
			txq_push(&c->q0, 0, WIRE_STREAM_RST, f->stream_id, 0, 0,
			    0, 0, NULL, 0);
		else if (wire_ack_type(t) >= 0)
			ack0(c, t, f->stream_id, f->seq, f->frag_id,
			    f->frag_total);
		return;
	}
	switch (t) {
	case WIRE_STREAM_DATA:
	case WIRE_STREAM_RESEND:
		if (arq_recv(st->arq, now, f->seq, payload, plen) ==
		    ARQ_RX_NEW) {
			c->st.bytes_down += plen;
			st->bytes_down += plen;
		}
		if (st->write_broken || st->shut_wr) {
			const uint8_t *p;

			while (arq_rx_peek(st->arq, &p) > 0)
				arq_rx_consume(st->arq, 65535);
		}
		flush_out(st);
		progress(st);
		return;
	case WIRE_STREAM_DATA_ACK:
		if (arq_on_ack(st->arq, f->seq, now) > 0)
			pool_stream_progress(c->pool, st->id);
		progress(st);
		return;
	case WIRE_STREAM_DATA_NACK:
		arq_on_nack(st->arq, f->seq, now);
		return;
	case WIRE_STREAM_CLOSE_READ:
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
		st->peer_close_read = 1;
		progress(st);
		return;
	case WIRE_STREAM_CLOSE_WRITE:
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
		st->peer_close_write = 1;
		arq_send_discard(st->arq);
		progress(st);
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
		ack0(c, t, f->stream_id, f->seq, f->frag_id, f->frag_total);
		arq_ctl_ack(st->arq,
		    c->cfg.protocol_tcp ? WIRE_STREAM_SYN : WIRE_SOCKS5_SYN, 0,
		    0, 1, now);
		if (st->state != CS_CONNECTING)
			return;
		if (result_rep(t) == 0) {
			write_reply(st, 0);
			st->state = CS_OPEN;
			update_io(st);
			return;
		}
		c->st.streams_failed++;
		log_info("stream %u: %s", st->id, wire_type_name(t));
		write_reply(st, result_rep(t));
		stream_free(st);
		return;
	}
	if ((origin = wire_ack_origin(t)) >= 0) {
		int close = origin == WIRE_STREAM_CLOSE_READ ||
		    origin == WIRE_STREAM_CLOSE_WRITE ||
		    origin == WIRE_STREAM_RST;

		if (arq_ctl_ack(st->arq, (uint8_t)origin, f->seq, f->frag_id,
			close, now) &&
		    origin == WIRE_STREAM_CLOSE_READ)
			st->close_read_acked = 1;
		progress(st);
	}
}

void
cli_streams_tick(struct eng_client *c, uint64_t now)
{
	struct cli_stream *st;
	enum arq_tick_res r;
	uint8_t t;
	size_t i;

	for (i = c->nstreams; i > 0; i--) {
		if (i - 1 >= c->nstreams)
			continue;
		st = c->streams[i - 1];
		r = arq_tick(st->arq, now, &t);
		if (r == ARQ_TICK_DATA_FAILED ||
		    (r == ARQ_TICK_CTL_EXPIRED &&
			(st->state == CS_DEAD || st->state == CS_CONNECTING ||
			    t == WIRE_STREAM_RST ||
			    t == WIRE_STREAM_CLOSE_READ ||
			    t == WIRE_STREAM_CLOSE_WRITE))) {
			write_reply(st, 1);
			stream_free(st);
			continue;
		}
		progress(st);
	}
}

/*
 * The session is gone (ERROR_DROP). Streams still waiting for their
 * result go back to the pending list and are opened again on the next
 * session (the server never connected them for the old one, or if it did,
 * that connection died with the session); open streams are reset.
 */
void
cli_streams_session_lost(struct eng_client *c)
{
	struct cli_stream *st;
	size_t i;

	for (i = c->nstreams; i > 0; i--) {
		st = c->streams[i - 1];
		if (st->state != CS_CONNECTING) {
			write_reply(st, 1);
			stream_free(st);
			continue;
		}
		unlink_stream(st);
		txq_clear(&st->q);
		arq_note_done(st);
		arq_free(st->arq);
		st->arq = NULL;
		st->id = 0;
		st->state = CS_WAIT_SESSION;
		if (c->npending == c->pcap) {
			c->pcap = c->pcap ? c->pcap * 2 : 16;
			c->pending = xreallocarray(
			    c->pending, c->pcap, sizeof *c->pending);
		}
		c->pending[c->npending++] = st;
	}
}

void
cli_streams_reset_all(struct eng_client *c)
{
	while (c->nstreams > 0) {
		write_reply(c->streams[0], 1);
		stream_free(c->streams[0]);
	}
}

void
cli_streams_free_all(struct eng_client *c)
{
	while (c->nstreams > 0)
		stream_free(c->streams[0]);
	while (c->npending > 0)
		stream_free(c->pending[0]);
	free(c->pending);
	c->pending = NULL;
}
