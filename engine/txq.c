/* SPDX-License-Identifier: MIT */
/*
 * txq.c — multi-level FIFO of outgoing frames (see txq.h). Lists are
 * singly linked; pop_if walks at most the whole queue, which stays small
 * because the ARQ window bounds what a stream can queue.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine/txq.h"
#include "proto/wire.h"

int
txq_priority(uint8_t type)
{
	switch (type) {
	case WIRE_STREAM_DATA_ACK:
	case WIRE_STREAM_DATA_NACK:
	case WIRE_STREAM_SYN:
	case WIRE_STREAM_SYN_ACK:
	case WIRE_STREAM_CONNECTED:
	case WIRE_STREAM_CONNECTED_ACK:
	case WIRE_STREAM_CONNECT_FAIL:
	case WIRE_STREAM_CONNECT_FAIL_ACK:
	case WIRE_STREAM_CLOSE_WRITE_ACK:
	case WIRE_STREAM_CLOSE_READ:
	case WIRE_STREAM_CLOSE_READ_ACK:
	case WIRE_STREAM_RST:
	case WIRE_STREAM_RST_ACK:
	case WIRE_DNS_QUERY_REQ_ACK:
	case WIRE_DNS_QUERY_RES_ACK:
		return 0;
	case WIRE_STREAM_RESEND:
	case WIRE_DNS_QUERY_RES:
	case WIRE_DNS_QUERY_REQ:
		return 1;
	case WIRE_STREAM_CLOSE_WRITE:
	case WIRE_SESSION_CLOSE:
		return 4;
	case WIRE_PING:
	case WIRE_PONG:
		return 5;
	default:
		if (type >= WIRE_SOCKS5_SYN &&
		    type <= WIRE_SOCKS5_CONNECTED_ACK)
			return 0;
		return 3;
	}
}

void
txq_push(struct txq *q, int prio, uint8_t type, uint16_t stream, uint16_t seq,
    uint8_t frag, uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct txq_frame *f;

	if (prio < 0)
		prio = 0;
	if (prio >= TXQ_PRIOS)
		prio = TXQ_PRIOS - 1;
	if (len > 65535)
		len = 65535;
	f = xmalloc(sizeof *f + (len ? len : 1));
	f->next = NULL;
	f->type = type;
	f->stream = stream;
	f->seq = seq;
	f->frag = frag;
	f->total = total;
	f->comp = comp;
	f->prio = (uint8_t)prio;
	f->len = (uint16_t)len;
	if (len)
		memcpy(f->data, data, len);
	if (q->tail[prio] != NULL)
		q->tail[prio]->next = f;
	else
		q->head[prio] = f;
	q->tail[prio] = f;
	q->n++;
}

struct txq_frame *
txq_pop(struct txq *q)
{
	struct txq_frame *f;
	int p;

	for (p = 0; p < TXQ_PRIOS; p++) {
		if ((f = q->head[p]) == NULL)
			continue;
		q->head[p] = f->next;
		if (q->head[p] == NULL)
			q->tail[p] = NULL;
		q->n--;
		f->next = NULL;
		return f;
	}
	return NULL;
}

struct txq_frame *
txq_pop_if(
    struct txq *q, int (*pred)(void *, const struct txq_frame *), void *arg)
{
	struct txq_frame *f, *prev;
	int p;

	for (p = 0; p < TXQ_PRIOS; p++) {
		for (prev = NULL, f = q->head[p]; f != NULL;
		     prev = f, f = f->next) {
			if (!pred(arg, f))
				continue;
			if (prev != NULL)
				prev->next = f->next;
			else
				q->head[p] = f->next;
			if (q->tail[p] == f)
				q->tail[p] = prev;
			q->n--;
			f->next = NULL;
			return f;
		}
	}
	return NULL;
}

void
txq_clear(struct txq *q)
{
	struct txq_frame *f;

	while ((f = txq_pop(q)) != NULL)
		free(f);
}

int
txq_has(const struct txq *q, uint8_t type, uint16_t seq)
{
	const struct txq_frame *f;
	int p;

	for (p = 0; p < TXQ_PRIOS; p++)
		for (f = q->head[p]; f != NULL; f = f->next)
			if (f->type == type && f->seq == seq)
				return 1;
	return 0;
}
