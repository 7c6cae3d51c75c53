/* SPDX-License-Identifier: MIT */
/*
 * server-stream.h — a server session's streams (server-stream.c): the
 * table by id with the recently closed ids, and each stream's upstream
 * side (SYN assembly, filter, lookup, connect, result) on the stream core
 * (engine/stream.h). Called by server.c; calls nothing in it. Not a
 * public interface.
 */
#ifndef MDNS_SERVER_STREAM_H
#define MDNS_SERVER_STREAM_H

#include "engine/server-int.h"

/* ---- the session's table ---- */

struct srv_stream *srv_stream_find(struct srv_session *ss, uint16_t id);
/* A new stream with this id (not in the table yet), counted. */
struct srv_stream *srv_stream_create(struct srv_session *ss, uint16_t id);
/* Whether id was closed within RECENTLY_CLOSED_STREAM_TTL. */
int srv_stream_recently_closed(
    const struct srv_session *ss, uint16_t id, uint64_t now);
/* Free every stream of the session and its tables (session close). */
void srv_streams_free(struct srv_session *ss);

/* ---- one stream ---- */

/* Remove from the session (remembered as recently closed) and free. */
void srv_stream_finish(struct srv_stream *st);
/* A SOCKS5_SYN fragment (payload in f); the last one starts the connect. */
void srv_stream_syn_fragment(struct srv_stream *st, const struct wire_frame *f);
/* A STREAM_SYN (TCP-forward mode). */
void srv_stream_tcp_syn(struct srv_stream *st, uint16_t seq);
/* STREAM_DATA/RESEND from the client. */
void srv_stream_data(struct srv_stream *st, const uint8_t *p, size_t n,
    uint16_t seq, uint64_t now);
/* STREAM_DATA_ACK / DATA_NACK for our data. */
void srv_stream_ack(struct srv_stream *st, uint16_t seq, uint64_t now);
void srv_stream_nack(struct srv_stream *st, uint16_t seq, uint64_t now);
/* The ACK of our control frame `origin`. */
void srv_stream_ctl_acked(struct srv_stream *st, uint8_t origin, uint16_t seq,
    uint8_t frag, uint64_t now);
/* The client's CLOSE_READ / CLOSE_WRITE. */
void srv_stream_close_read(struct srv_stream *st, uint64_t now);
void srv_stream_close_write(struct srv_stream *st, uint64_t now);
/* Whether the stream has failed or been reset (data gets RST). */
int srv_stream_dead(const struct srv_stream *st);
/* ARQ timers; may finish the stream. */
void srv_stream_tick(struct srv_stream *st, uint64_t now);

#endif
