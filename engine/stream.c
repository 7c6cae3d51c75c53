/* SPDX-License-Identifier: MIT */
/*
 * stream.c — the stream core of stream.h: the ARQ's frames into the
 * stream's queue (with upstream's priorities), local reads and writes,
 * the half-close rules, the table of streams by id and the sender's
 * round robin with control-frame packing. What a side does around it
 * (SOCKS, connects, sessions, counters, freeing) comes in through the
 * ops table; nothing here allocates a stream or reads a clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/stream.h"

/* Every frame the ARQ wants sent goes to the stream's own queue. */
static void
emit(void *arg, enum arq_out kind, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct stream *s = arg;

	switch (kind) {
	case ARQ_OUT_DATA:
		txq_push(&s->q, 3, WIRE_STREAM_DATA, s->id, seq, 0, 0, comp,
		    data, len);
		break;
	case ARQ_OUT_RESEND:
		txq_push(&s->q, 1, WIRE_STREAM_RESEND, s->id, seq, 0, 0, comp,
		    data, len);
		break;
	case ARQ_OUT_ACK:
		txq_push(&s->q, 0, WIRE_STREAM_DATA_ACK, s->id, seq, 0, 0, 0,
		    NULL, 0);
		break;
	case ARQ_OUT_NACK:
		if (!txq_has(&s->q, WIRE_STREAM_DATA_NACK, seq))
			txq_push(&s->q, 0, WIRE_STREAM_DATA_NACK, s->id, seq, 0,
			    0, 0, NULL, 0);
		break;
	case ARQ_OUT_CTL:
		txq_push(&s->q, txq_priority(type), type, s->id, seq, frag,
		    total, 0, data, len);
		break;
	}
}

void
stream_init(
    struct stream *s, const struct stream_ops *ops, struct ev_loop *loop)
{
	memset(s, 0, sizeof *s);
	s->ops = ops;
	s->loop = loop;
	s->fd = -1;
}

void
stream_start(struct stream *s, uint16_t id, const struct arq_config *c)
{
	s->id = id;
	s->arq = arq_new(c, emit, s);
}

void
stream_stop(struct stream *s)
{
	txq_clear(&s->q);
	arq_free(s->arq);
	s->arq = NULL;
}

void
stream_close_fd(struct stream *s)
{
	if (s->lh != NULL) {
		void *h = s->lh;

		s->lh = NULL;
		(s->local_abort ? s->local->abort : s->local->close)(h);
	}
	if (s->fd != -1) {
		if (s->loop != NULL)
			ev_io_del(s->loop, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	s->io_mask = 0;
}

void
stream_fini(struct stream *s)
{
	stream_close_fd(s);
	stream_stop(s);
}

void
stream_set_io(struct stream *s, int mask)
{
	if (s->lh != NULL) {
		if (mask != s->io_mask)
			s->local->set_mask(s->lh, mask);
		s->io_mask = mask;
		return;
	}
	if (s->fd == -1 || s->loop == NULL || mask == s->io_mask)
		return;
	s->io_mask = mask;
	ev_io_set(s->loop, s->fd, mask);
}

int
stream_open_mask(const struct stream *s)
{
	const uint8_t *p;
	int mask = 0;

	if (!s->local_eof && !s->peer_close_write && arq_send_ready(s->arq))
		mask |= EV_READ;
	if (!s->shut_wr && !s->write_broken && arq_rx_peek(s->arq, &p) > 0)
		mask |= EV_WRITE;
	return mask;
}

void
stream_flush(struct stream *s)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;

	while (stream_has_local(s) && s->open && !s->shut_wr &&
	    !s->write_broken && (n = arq_rx_peek(s->arq, &p)) > 0) {
		w = s->lh != NULL ? s->local->send(s->lh, p, n) :
				    send(s->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			arq_rx_consume(s->arq, (size_t)w);
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		/* Our writer is broken: the peer is told to stop sending. */
		s->write_broken = 1;
		if (s->ops->write_failed != NULL)
			s->ops->write_failed(s);
		break;
	}
}

void
stream_read(struct stream *s, uint64_t now)
{
	uint8_t buf[4096], cbuf[4096 + 64];
	size_t mtu = MIN(s->max_read, sizeof buf), clen;
	ssize_t r;
	int comp, budget = 64, seq;

	while (budget-- > 0 && stream_has_local(s) && !s->local_eof &&
	    !s->peer_close_write && arq_send_ready(s->arq)) {
		r = s->lh != NULL ? s->local->recv(s->lh, buf, mtu) :
				    recv(s->fd, buf, mtu, 0);
		if (r > 0) {
			comp = wire_compress_payload(s->comp, s->comp_min, buf,
			    (size_t)r, cbuf, sizeof cbuf, &clen);
			if (comp != WIRE_COMP_OFF)
				seq = arq_send(
				    s->arq, now, cbuf, clen, (uint8_t)comp);
			else
				seq = arq_send(s->arq, now, buf, (size_t)r, 0);
			if (seq >= 0 && s->ops->data_sent != NULL)
				s->ops->data_sent(
				    s, (uint16_t)seq, buf, (size_t)r, now);
			if (s->ops->read_bytes != NULL)
				s->ops->read_bytes(s, (size_t)r, now);
			continue;
		}
		if (r == 0) {
			s->local_eof = 1;
			break;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		s->ops->read_failed(s, now);
		return;
	}
}

enum arq_rx
stream_data(
    struct stream *s, uint64_t now, uint16_t seq, const uint8_t *p, size_t n)
{
	enum arq_rx r = arq_recv(s->arq, now, seq, p, n);
	const uint8_t *q;

	/* Still acknowledged, so the peer's window drains. */
	if (s->write_broken || s->shut_wr)
		while (arq_rx_peek(s->arq, &q) > 0)
			arq_rx_consume(s->arq, 65535);
	stream_flush(s);
	return r;
}

void
stream_peer_close_write(struct stream *s)
{
	s->peer_close_write = 1;
	arq_send_discard(s->arq);
}

int
stream_close_type(uint8_t type)
{
	return type == WIRE_STREAM_CLOSE_READ ||
	    type == WIRE_STREAM_CLOSE_WRITE || type == WIRE_STREAM_RST;
}

int
stream_ctl_acked(
    struct stream *s, uint8_t origin, uint16_t seq, uint8_t frag, uint64_t now)
{
	int hit = arq_ctl_ack(
	    s->arq, origin, seq, frag, stream_close_type(origin), now);

	if (hit && origin == WIRE_STREAM_CLOSE_READ)
		s->close_read_acked = 1;
	return hit;
}

void
stream_reset(struct stream *s, uint64_t now)
{
	arq_send_discard(s->arq);
	arq_ctl_send(s->arq, now, WIRE_STREAM_RST, 0, 0, 0, NULL, 0, 0);
}

int
stream_progress(struct stream *s, uint64_t now)
{
	const uint8_t *p;

	if (s->write_broken && !s->close_write_sent) {
		s->close_write_sent = 1;
		arq_ctl_send(
		    s->arq, now, WIRE_STREAM_CLOSE_WRITE, 0, 0, 0, NULL, 0, 0);
	}
	if (s->local_eof && !s->close_read_sent && !s->peer_close_write &&
	    arq_unacked(s->arq) == 0) {
		s->close_read_sent = 1;
		arq_ctl_send(
		    s->arq, now, WIRE_STREAM_CLOSE_READ, 0, 0, 0, NULL, 0, 0);
	}
	if (s->peer_close_read && !s->shut_wr && stream_has_local(s) &&
	    arq_rx_peek(s->arq, &p) == 0) {
		s->shut_wr = 1;
		if (s->lh != NULL)
			s->local->shutdown_wr(s->lh);
		else
			shutdown(s->fd, SHUT_WR);
	}
	if ((s->close_read_acked || s->peer_close_write) &&
	    (s->shut_wr ||
		(s->write_broken &&
		    !arq_ctl_pending(s->arq, WIRE_STREAM_CLOSE_WRITE)))) {
		s->ops->finished(s);
		return 1;
	}
	stream_set_io(s, stream_open_mask(s));
	return 0;
}

/* ---- table ---- */

static size_t
lower_bound(const struct stream_table *t, uint16_t id)
{
	size_t lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (t->v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct stream *
stream_find(const struct stream_table *t, uint16_t id)
{
	size_t i = lower_bound(t, id);

	return i < t->n && t->v[i]->id == id ? t->v[i] : NULL;
}

void
stream_table_add(struct stream_table *t, struct stream *s)
{
	size_t i;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	i = lower_bound(t, s->id);
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof t->v[0]);
	t->v[i] = s;
	t->n++;
}

int
stream_table_del(struct stream_table *t, const struct stream *s)
{
	size_t i = lower_bound(t, s->id);

	if (i == t->n || t->v[i] != s)
		return 0;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof t->v[0]);
	t->n--;
	return 1;
}

void
stream_table_free(struct stream_table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* ---- the sender's choice ---- */

static int
packable(void *arg, const struct txq_frame *f)
{
	(void)arg;
	return wire_is_packable(f->type, f->len);
}

/* Candidate k: the lanes first, then the streams in id order. */
static struct txq *
cand(const struct stream_sched *sc, size_t k, int32_t *id, struct stream **s)
{
	if (k < sc->nlanes) {
		*s = NULL;
		*id = sc->lanes[k].id;
		return sc->lanes[k].q;
	}
	*s = sc->streams->v[k - sc->nlanes];
	*id = (*s)->id;
	return &(*s)->q;
}

/* The ARQ behind candidate k (a lane's may be NULL). */
static struct arq *
cand_arq(const struct stream_sched *sc, size_t k)
{
	if (k < sc->nlanes)
		return sc->lanes[k].arq;
	return sc->streams->v[k - sc->nlanes]->arq;
}

/* Pop the next frame of a queue owned by s (NULL: a lane with ARQ la),
 * skipping data frames that were acknowledged while queued. */
static struct txq_frame *
pop_live(struct txq *q, struct stream *s, struct arq *la, uint64_t now)
{
	struct txq_frame *f;

	while ((f = txq_pop(q)) != NULL) {
		if (s == NULL) {
			if (la != NULL)
				arq_ctl_note_sent(
				    la, f->type, f->seq, f->frag, now);
			return f;
		}
		if (f->type == WIRE_STREAM_DATA ||
		    f->type == WIRE_STREAM_RESEND) {
			if (!arq_in_flight(s->arq, f->seq)) {
				free(f);
				continue;
			}
			arq_note_sent(s->arq, f->seq, now);
		} else if (f->type == WIRE_STREAM_FEC_SYMBOL) {
			if (s->ops->frame_stale != NULL &&
			    s->ops->frame_stale(s, f)) {
				free(f);
				continue;
			}
		} else
			arq_ctl_note_sent(
			    s->arq, f->type, f->seq, f->frag, now);
		return f;
	}
	return NULL;
}

static void put_block(const struct txq_frame *f, uint8_t *out);

/* An ACK of s left: remember it for echoing. */
static void
echo_note(struct stream *s, const struct txq_frame *f)
{
	if (s == NULL || f->type != WIRE_STREAM_DATA_ACK)
		return;
	s->echo_seq[s->echo_next] = f->seq;
	s->echo_left[s->echo_next] = STREAM_ECHO_COPIES;
	s->echo_next = (uint8_t)((s->echo_next + 1) % STREAM_ECHO);
}

/*
 * Fill spare blocks with ACKs of s sent lately (each at most
 * STREAM_ECHO_COPIES more times). A repeated ACK is harmless to any peer
 * (an ACK for a frame no longer held is ignored, upstream's too) and
 * rides in a frame that leaves anyway.
 */
static void
echo_fill(const struct stream_sched *sc, struct stream *s, unsigned max,
    unsigned *blocks)
{
	struct txq_frame f;
	unsigned i;

	if (s == NULL)
		return;
	memset(&f, 0, sizeof f);
	f.type = WIRE_STREAM_DATA_ACK;
	f.stream = s->id;
	for (i = 0; i < STREAM_ECHO && *blocks < max; i++) {
		unsigned j = (s->echo_next + i) % STREAM_ECHO, b;
		uint8_t *out = sc->pk + *blocks * WIRE_PACKED_BLOCK_LEN;

		if (s->echo_left[j] == 0)
			continue;
		f.seq = s->echo_seq[j];
		put_block(&f, out);
		/* not twice in one frame (pack_more noted its own ACKs) */
		for (b = 0; b < *blocks; b++)
			if (memcmp(sc->pk + b * WIRE_PACKED_BLOCK_LEN, out,
				WIRE_PACKED_BLOCK_LEN) == 0)
				break;
		if (b < *blocks)
			continue;
		s->echo_left[j]--;
		(*blocks)++;
	}
}

static void
put_block(const struct txq_frame *f, uint8_t *out)
{
	struct wire_block b;

	b.type = f->type;
	b.stream_id = f->stream;
	b.seq = f->seq;
	b.frag_id = f->frag;
	b.frag_total = f->total;
	wire_block_put(&b, out, WIRE_PACKED_BLOCK_LEN);
}

/* More packable frames from candidate k0 on, into pk after *blocks. */
static void
pack_more(const struct stream_sched *sc, size_t k0, unsigned max,
    unsigned *blocks, uint64_t now)
{
	size_t total = sc->nlanes + sc->streams->n, i;
	struct txq_frame *f;
	struct stream *s;
	struct txq *q;
	int32_t id;

	for (i = 0; i < total && *blocks < max; i++) {
		q = cand(sc, (k0 + i) % total, &id, &s);
		while (*blocks < max && q->n > 0 &&
		    (f = txq_pop_if(q, packable, NULL)) != NULL) {
			if (cand_arq(sc, (k0 + i) % total) != NULL)
				arq_ctl_note_sent(
				    cand_arq(sc, (k0 + i) % total), f->type,
				    f->seq, f->frag, now);
			put_block(f, sc->pk + *blocks * WIRE_PACKED_BLOCK_LEN);
			(*blocks)++;
			echo_note(s, f);
			free(f);
		}
	}
}

int
stream_sched_next(const struct stream_sched *sc, uint64_t now,
    struct wire_frame *w, struct txq_frame **hold)
{
	size_t total = sc->nlanes + sc->streams->n, start = 0, i, k = 0;
	unsigned max = MIN(sc->max_blocks, sc->pk_blocks), blocks;
	struct txq_frame *f = NULL;
	struct stream *s;
	struct txq *q;
	int32_t id = 0;

	*hold = NULL;
	for (k = 0; k < total; k++) {
		cand(sc, k, &id, &s);
		if (id >= *sc->rr) {
			start = k;
			break;
		}
	}
	for (i = 0; i < total && f == NULL; i++) {
		k = (start + i) % total;
		q = cand(sc, k, &id, &s);
		if (q->n > 0)
			f = pop_live(
			    q, s, s == NULL ? cand_arq(sc, k) : NULL, now);
	}
	if (f == NULL)
		return 0;
	*sc->rr = id + 1;
	memset(w, 0, sizeof *w);
	if (wire_is_packable(f->type, f->len) && max > 1) {
		put_block(f, sc->pk);
		blocks = 1;
		pack_more(sc, k, max, &blocks, now);
		echo_fill(sc, s, max, &blocks);
		echo_note(s, f);
		if (blocks > 1) {
			free(f);
			w->type = WIRE_PACKED_CONTROL_BLOCKS;
			w->payload = sc->pk;
			w->payload_len = (size_t)blocks * WIRE_PACKED_BLOCK_LEN;
			return 1;
		}
	}
	w->type = f->type;
	w->stream_id = f->stream;
	w->seq = f->seq;
	w->frag_id = f->frag;
	w->frag_total = f->total;
	w->comp = f->comp;
	w->payload = f->data;
	w->payload_len = f->len;
	*hold = f;
	return 1;
}

int
stream_unpack(const struct wire_frame *packed, size_t i, struct wire_frame *g)
{
	struct wire_block b;

	if (wire_block_get(packed->payload, packed->payload_len, i, &b) !=
	    WIRE_OK)
		return -1;
	memset(g, 0, sizeof *g);
	g->session_id = packed->session_id;
	g->cookie = packed->cookie;
	g->type = b.type;
	g->stream_id = b.stream_id;
	g->seq = b.seq;
	g->frag_id = b.frag_id;
	g->frag_total = b.frag_total;
	return 0;
}
