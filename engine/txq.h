/* SPDX-License-Identifier: MIT */
/*
 * txq.h — the outgoing frame queue of one stream (or of a session's orphan
 * lane): six priority levels as upstream defines them (0 critical control
 * and ACKs, 1 retransmissions, 2 high, 3 data, 4 close/low, 5 ping), FIFO
 * within a level. Frames are copied in; the queue owns them.
 */
#ifndef MDNS_TXQ_H
#define MDNS_TXQ_H

#include <stddef.h>
#include <stdint.h>

#define TXQ_PRIOS 6

struct txq_frame {
	struct txq_frame *next;
	uint8_t type, frag, total, comp, prio;
	uint16_t stream, seq;
	uint16_t len;
	uint8_t data[];
};

struct txq {
	struct txq_frame *head[TXQ_PRIOS], *tail[TXQ_PRIOS];
	unsigned n;
};

/* Upstream's DefaultPacketPriority for a packet type. */
int txq_priority(uint8_t type);

/* Append a copy of a frame at priority prio (clamped to 0..5). */
void txq_push(struct txq *q, int prio, uint8_t type, uint16_t stream,
    uint16_t seq, uint8_t frag, uint8_t total, uint8_t comp,
    const uint8_t *data, size_t len);
/* Take the first frame of the highest non-empty level (caller frees it
 * with free()), or NULL. */
struct txq_frame *txq_pop(struct txq *q);
/*
 * Take the first frame, by priority, for which pred(arg, f) is true, or
 * NULL. Used to gather packable control frames.
 */
struct txq_frame *txq_pop_if(struct txq *q,
    int (*pred)(void *arg, const struct txq_frame *f), void *arg);
/* Drop every frame. */
void txq_clear(struct txq *q);
/* Whether a frame with this type and seq is queued (dedupe of ACKs). */
int txq_has(const struct txq *q, uint8_t type, uint16_t seq);

#endif
