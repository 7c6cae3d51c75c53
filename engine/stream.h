/* SPDX-License-Identifier: MIT */
/*
 * stream.h — the stream core the tunnel client and server share: one
 * tunnelled TCP stream's local socket, ARQ (engine/arq.h) and outgoing
 * queue (engine/txq.h), the data path between them, the half-close rules
 * of wire-protocol.md 1.11, the table of a session's streams by id, and
 * the scheduler that picks the next frame a session sends.
 *
 * A side (engine/client-stream.c, engine/server-stream.c) embeds a
 * struct stream in its own stream record, owns the record, and learns
 * what the core decided through a small ops table: bytes read, a broken
 * local reader or writer, and "both directions finished" (the side frees
 * the record then). The core never frees anything it did not allocate,
 * never reads a clock (every call takes `now`) and knows nothing of
 * SOCKS, sessions, connects or counters.
 *
 * Half-close (both sides, wire-protocol.md 1.11):
 *   local EOF        -> CLOSE_READ once all our data is acked
 *   peer CLOSE_READ  -> shutdown(SHUT_WR) once all its data is written
 *   peer CLOSE_WRITE -> stop reading, drop unacked data
 *   write failure    -> CLOSE_WRITE;  read error -> the side resets
 *   our direction ended (CLOSE_READ acked, or the peer stopped it) and
 *   theirs too (written out, or our writer broke and CLOSE_WRITE is
 *   acked) -> finished.
 */
#ifndef MDNS_STREAM_H
#define MDNS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/ev.h"
#include "engine/arq.h"
#include "engine/txq.h"
#include "proto/wire.h"

struct stream;

/*
 * A local end that is not a socket (a TUN flow, engine/tun.h): the same
 * calls a socket gets, on handle h. recv/send as recv(2)/send(2) (-1 with
 * errno EAGAIN, ECONNRESET, EPIPE); set_mask as ev_io_set; close ends it
 * gracefully, abort with a reset (the stream failed: local_abort set).
 */
struct stream_local {
	ssize_t (*recv)(void *h, void *buf, size_t len);
	ssize_t (*send)(void *h, const void *buf, size_t len);
	void (*shutdown_wr)(void *h);
	void (*set_mask)(void *h, int mask);
	void (*close)(void *h);
	void (*abort)(void *h);
};

struct stream_ops {
	/* n bytes read from the local socket went into the ARQ. */
	void (*read_bytes)(struct stream *s, size_t n, uint64_t now);
	/* The local socket failed to read: the side closes and resets. */
	void (*read_failed)(struct stream *s, uint64_t now);
	/* A write to the local socket failed (CLOSE_WRITE follows). */
	void (*write_failed)(struct stream *s);
	/* Optional: payload p (uncompressed) went out first as seq. */
	void (*data_sent)(struct stream *s, uint16_t seq, const uint8_t *p,
	    size_t n, uint64_t now);
	/* Optional: a queued frame of another type than data or control
	 * (STREAM_FEC_SYMBOL) is about to leave; 1 drops it. */
	int (*frame_stale)(struct stream *s, const struct txq_frame *f);
	/* Both directions are finished: the side frees its record. */
	void (*finished)(struct stream *s);
};

/* Recent ACKs a stream remembers for echoing, and how often each is sent
 * again. */
#define STREAM_ECHO	   8
#define STREAM_ECHO_COPIES 2

struct stream {
	const struct stream_ops *ops;
	struct ev_loop *loop; /* NULL: never touches the event loop */
	uint16_t id;
	int fd; /* local socket, -1 when none */
	/* or a local end that is not a socket (fd -1): ops and handle */
	const struct stream_local *local;
	void *lh;
	int io_mask; /* EV_READ/EV_WRITE registered */
	struct arq *arq;
	struct txq q;
	/* what one local read may put in a frame */
	size_t max_read; /* payload bytes (the MTU, capped) */
	int comp;	 /* compression type for this direction */
	unsigned comp_min;
	/* the side's open state: data may flow on the local socket */
	unsigned open : 1;
	/* half-close */
	unsigned local_eof : 1, close_read_sent : 1, close_read_acked : 1;
	unsigned peer_close_read : 1, shut_wr : 1, peer_close_write : 1;
	unsigned write_broken : 1, close_write_sent : 1;
	unsigned local_abort : 1; /* end the local end with a reset */
	/* ACKs sent lately, echoed in the spare blocks of later packed
	 * frames: a lost ACK otherwise costs a retransmission (issue 16) */
	uint16_t echo_seq[STREAM_ECHO];
	uint8_t echo_left[STREAM_ECHO];
	uint8_t echo_next;
};

/* The record that embeds s as member `member`. */
#define STREAM_OWNER(s, type, member)                                          \
	((type *)(void *)((char *)(s)-offsetof(type, member)))

/* Whether the stream has its local end (a socket or a stream_local). */
static inline int
stream_has_local(const struct stream *s)
{
	return s->fd != -1 || s->lh != NULL;
}

/* A stream without socket or ARQ (fd -1). */
void stream_init(
    struct stream *s, const struct stream_ops *ops, struct ev_loop *loop);
/* Give the stream its id and a fresh ARQ with config c. */
void stream_start(struct stream *s, uint16_t id, const struct arq_config *c);
/* Drop the ARQ and the queue (the stream may be started again). */
void stream_stop(struct stream *s);
/* Stop watching and close the local socket (or end the local end:
 * close, or abort when local_abort is set). */
void stream_close_fd(struct stream *s);
/* Everything: socket, queue, ARQ. The record itself is the side's. */
void stream_fini(struct stream *s);

/* Register mask on the loop (no-op without socket, loop or change). */
void stream_set_io(struct stream *s, int mask);
/* The mask an open stream wants: read while the ARQ takes data and the
 * peer still reads, write while in-order data waits. */
int stream_open_mask(const struct stream *s);

/* Write in-order data to the local socket (ops->write_failed on error). */
void stream_flush(struct stream *s);
/* Read local data into the ARQ: up to 64 reads of max_read bytes. */
void stream_read(struct stream *s, uint64_t now);
/*
 * A STREAM_DATA/RESEND for the stream: into the ARQ (which ACKs), and
 * discarded at once when our writer is gone; then flushed. Returns the
 * ARQ's verdict.
 */
enum arq_rx stream_data(
    struct stream *s, uint64_t now, uint16_t seq, const uint8_t *p, size_t n);
/* The peer's CLOSE_WRITE: stop reading, drop what it will not take. */
void stream_peer_close_write(struct stream *s);
/*
 * The ACK of our control frame `origin` arrived. Close-type frames clear
 * every copy; an acked CLOSE_READ ends our direction. Returns what
 * arq_ctl_ack returned.
 */
int stream_ctl_acked(
    struct stream *s, uint8_t origin, uint16_t seq, uint8_t frag, uint64_t now);
/* Abort: drop unacked data and send STREAM_RST (reliable). */
void stream_reset(struct stream *s, uint64_t now);
/* Whether an expired control frame of this type ends the stream. */
int stream_close_type(uint8_t type);
/*
 * Run the half-close rules of an open stream. Returns 1 when both
 * directions are finished (ops->finished ran: s is gone), else 0 with
 * the event mask updated.
 */
int stream_progress(struct stream *s, uint64_t now);

/* ---- a session's streams by id ---- */

struct stream_table {
	struct stream **v; /* sorted by id */
	size_t n, cap;
};

struct stream *stream_find(const struct stream_table *t, uint16_t id);
/* Insert s by its id (ids are unique in a table). */
void stream_table_add(struct stream_table *t, struct stream *s);
/* Remove s; 1 if it was there. */
int stream_table_del(struct stream_table *t, const struct stream *s);
void stream_table_free(struct stream_table *t);

/* ---- the sender's choice ---- */

/*
 * A session-level queue polled before the streams. arq (may be NULL) is
 * the lane's control reliability (stream 0's DNS_QUERY frames): tracked
 * control frames leaving the lane start their RTO there.
 */
struct stream_lane {
	struct txq *q;
	int32_t id;	 /* its place in the round robin (-1, 0) */
	struct arq *arq; /* NULL: nothing tracked behind the lane */
};

struct stream_sched {
	const struct stream_lane *lanes;
	size_t nlanes;
	const struct stream_table *streams;
	int32_t *rr;	     /* round-robin cursor: next id to serve */
	unsigned max_blocks; /* PACKED_CONTROL_BLOCKS limit (<= pk_blocks) */
	uint8_t *pk;	     /* room for the packed payload */
	unsigned pk_blocks;
};

/*
 * The next frame to send: candidates are the lanes, then the streams in
 * id order, from the first whose id is >= *rr; the first non-empty queue
 * gives its best-priority frame. Data frames acked while queued are
 * dropped; what leaves starts its ARQ timer. A packable control frame is
 * folded with further packable frames of the same candidate, then the
 * following ones, into PACKED_CONTROL_BLOCKS (in sc->pk) when there is
 * more than one. Fills w (type, stream, seq, frag, total, comp, payload;
 * session id and cookie are the caller's) and sets *hold to the frame
 * the caller frees after using w (NULL for a packed frame). Returns 0
 * when nothing is queued.
 */
int stream_sched_next(const struct stream_sched *sc, uint64_t now,
    struct wire_frame *w, struct txq_frame **hold);
/*
 * Block i of a received PACKED_CONTROL_BLOCKS frame as a frame of its own
 * (session and cookie of the packed one, no payload) into *g. Returns 0,
 * or -1 past the last block. Blocks that are packed themselves or of an
 * unknown type come out too; the caller skips what it does not take.
 */
int stream_unpack(
    const struct wire_frame *packed, size_t i, struct wire_frame *g);

#endif
