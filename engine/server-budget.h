/* SPDX-License-Identifier: MIT */
/*
 * server-budget.h — what one tunnel user may make the server hold
 * (server-budget.c, issue 19 items 2, 3 and 5): received stream data by
 * stream, session and server, with drops counted; the SOCKS5_SYN bytes
 * and time a stream may spend before its connect starts; the streams and
 * upstream connections a session and the server may have; the blocks of
 * one PACKED_CONTROL_BLOCKS frame worked through; the replies a
 * session's orphan lane may queue. Called by server.c and
 * server-stream.c. Not a public interface: the limits are documented in
 * docs/security.md ("Tunnel user").
 */
#ifndef MDNS_SERVER_BUDGET_H
#define MDNS_SERVER_BUDGET_H

#include "engine/server-int.h"

/* Received data held (out of order, or not yet written upstream). The
 * stream's bounds are at least what the client may have in flight: its
 * upload MTU times MAX_ALLOWED_CLIENT_ARQ_WINDOW_SIZE (x2 for the hard
 * one); the session's and server's are not. */
#define SRV_STREAM_RX_MAX  (256u * 1024u) /* out-of-order frames admitted */
#define SRV_STREAM_RX_HARD (512u * 1024u) /* the in-order frame too */
#define SRV_SESSION_RX_MAX (4u << 20)
#define SRV_SERVER_RX_MAX  (16u << 20)
/* What a compressed frame may inflate to: the client compresses one
 * read of at most its upload MTU (<= 4096 by the session clamp). */
#define SRV_INFLATE_MAX 4096
/* SOCKS5_SYN: a target is at most 1 + 1 + 255 + 2 bytes. */
#define SRV_SYN_BYTES_MAX 1024
/* A stream whose SYN has not completed by then is dropped. */
#define SRV_SYN_TIMEOUT_US (10ULL * 1000000ULL)
/* Streams of all sessions together (each costs the ARQ's rings). */
#define SRV_STREAMS_MAX 4096
/* Blocks of one PACKED_CONTROL_BLOCKS frame that are worked through. */
#define SRV_PACKED_BLOCKS_MAX 256
/* Frames a session's orphan lane (RST, RST_ACK, late ACKs) may hold. */
#define SRV_ORPHAN_MAX 512

/*
 * Whether a STREAM_DATA/RESEND of n bytes with seq may go into the
 * stream's ARQ: never before the stream is connected (the client sends
 * none: it reads its local socket only after CONNECTED), and within the
 * budgets above (the frame at the ARQ's next expected seq up to the hard
 * limit, so a stream full of later frames can still drain). A refused
 * frame gets no ACK (the client sends it again) and is counted.
 */
int srv_budget_data_admit(struct srv_stream *st, uint16_t seq, size_t n);
/* Bring the session's and server's held-byte totals up to date after
 * the stream's ARQ took or released data. */
void srv_budget_sync(struct srv_stream *st);
/* The stream is going: release what it held in the totals. */
void srv_budget_release(struct srv_stream *st);

/* Whether a new stream may be created in the session (counted if not). */
int srv_budget_stream_admit(struct srv_session *ss);
/*
 * Whether the stream may open an upstream connection: per session
 * MAX(max_streams / 4, 16) at most 256, and for the server the
 * descriptor limit less a reserve (RLIMIT_NOFILE - 64, at least 8).
 * Counted if not.
 */
int srv_budget_conn_admit(struct srv_stream *st);
/* An upstream connection of the stream opened (+1) or closed (-1). */
void srv_budget_conn(struct srv_stream *st, int delta);

/* Whether a SOCKS5_SYN fragment of n more bytes fits (counted if not). */
int srv_budget_syn_admit(struct srv_stream *st, size_t n);

/* Queue a frame on the session's orphan lane, unless it is full. */
void srv_budget_orphan(
    struct srv_session *ss, uint8_t type, uint16_t stream, uint16_t seq);

/* Initialise the server's part (the descriptor limit). */
void srv_budget_init(struct eng_server *s);

#endif
