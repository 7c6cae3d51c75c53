/* SPDX-License-Identifier: MIT */
/*
 * arq.h — per-stream reliability for the MasterDnsVPN tunnel
 * (wire-protocol.md 1.12): a send window with selective ACK per frame,
 * in-order delivery from rcv_nxt with 16-bit wrap, NACKs with the gap rule,
 * a RESEND lane, RFC 6298 RTO with Karn's rule, and a reliability buffer for
 * control frames keyed by (type, seq, frag).
 *
 * The module is pure logic: it never reads a clock, a socket or a queue.
 * Time comes in as "now" (microseconds, any monotonic origin) and frames
 * go out through one emit callback; the caller maps each emitted frame to a
 * packet type, a priority and its own queue, and tells the ARQ when a frame
 * actually left (arq_note_sent / arq_ctl_note_sent) because RTOs run from
 * the moment a frame is dispatched, not from when it was queued.
 *
 * Ownership: the ARQ copies every payload it keeps; pointers given to the
 * emit callback are valid only during the call.
 */
#ifndef MDNS_ARQ_H
#define MDNS_ARQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

struct arq;

struct arq_config {
	unsigned window;       /* send window in frames (>= 300 used) */
	uint64_t rto_init_us;  /* ARQ_INITIAL_RTO: data RTO before a sample */
	uint64_t rto_max_us;   /* ARQ_MAX_RTO */
	uint64_t rto_min_us;   /* floor of the data RTO (ARQ_RTO_MIN_US; the
				  client raises it to the server's policy) */
	unsigned nack_max_gap; /* ARQ_DATA_NACK_MAX_GAP, 0 = no NACKs */
	/* wait before the first NACK of a seq; with a path estimate the
	 * ARQ waits 2 x its deviation when that is shorter (below) */
	uint64_t nack_initial_delay_us;
	/* NACK repeat and RESEND interval; with a path estimate srtt +
	 * 4 x rttvar when that is shorter */
	uint64_t nack_repeat_us;
	uint64_t ctl_rto_init_us;  /* control RTO floor (0.5 s) */
	uint64_t ctl_rto_max_us;   /* control RTO ceiling (3 s) */
	unsigned max_data_retries; /* stream fails when exceeded ... */
	uint64_t data_ttl_us;	   /* ... and the frame is older than this */
	unsigned ctl_max_retries;  /* control frame given up after this */
	/* copies of each NACK-driven RESEND (0 or 1: one; the server sends
	 * 2, in separate answers, see docs/engine.md "Under loss") */
	unsigned resend_copies;
	uint64_t ctl_ttl_us; /* ... or after this age */
};

/* What an emitted frame is; the caller picks the packet type from it. */
enum arq_out {
	ARQ_OUT_DATA,	/* STREAM_DATA (first send or late retransmit) */
	ARQ_OUT_RESEND, /* STREAM_RESEND (retransmit lane) */
	ARQ_OUT_ACK,	/* STREAM_DATA_ACK(seq) */
	ARQ_OUT_NACK,	/* STREAM_DATA_NACK(seq) */
	ARQ_OUT_CTL,	/* a tracked control frame (type given) */
};

/*
 * Called for every frame the ARQ wants sent. For ARQ_OUT_CTL, type, frag
 * and total are those given to arq_ctl_send; for data, comp is the
 * compression byte stored with the frame. data/len is the payload.
 */
typedef void arq_emit_cb(void *arg, enum arq_out kind, uint8_t type,
    uint16_t seq, uint8_t frag, uint8_t total, uint8_t comp,
    const uint8_t *data, size_t len);

/* Receive verdicts of arq_recv. */
enum arq_rx {
	ARQ_RX_NEW,    /* stored; ACK emitted */
	ARQ_RX_DUP,    /* already buffered; ACK emitted again */
	ARQ_RX_OLD,    /* behind rcv_nxt; ACK emitted, data dropped */
	ARQ_RX_WINDOW, /* beyond the receive window: dropped, no ACK */
};

/* The default floor of the data RTO (upstream's own lower clamp and the
 * default MIN_ALLOWED_CLIENT_ARQ_INITIAL_RTO_SECONDS). */
#define ARQ_RTO_MIN_US 50000ULL
/* Floors of the measured NACK delay and repeat interval. */
#define ARQ_NACK_DELAY_MIN_US  5000ULL
#define ARQ_NACK_REPEAT_MIN_US 20000ULL

/* Result of arq_tick. */
enum arq_tick_res {
	ARQ_TICK_OK = 0,
	ARQ_TICK_DATA_FAILED, /* a frame exceeded retries and TTL: reset */
	ARQ_TICK_CTL_EXPIRED, /* a control frame was given up (type out) */
};

/* Counters; monotonic. */
struct arq_stats {
	uint64_t data_sent;   /* first transmissions */
	uint64_t retransmits; /* RTO-driven retransmissions */
	uint64_t resends;     /* NACK-driven RESENDs */
	uint64_t nacks_sent;
	uint64_t nacks_recv;
	uint64_t acks_recv;
	uint64_t ctl_retransmits;
	uint64_t rx_dup;
	uint64_t rx_old;
	uint64_t rx_window_drop;
};

/*
 * The ARQ settings of a configuration (the ARQ_* keys of the one model,
 * common/config.h: seconds become microseconds). Every field is set.
 */
void arq_config_from(struct arq_config *c, const struct cfg_arq *in);
/*
 * The upstream defaults of the client (is_client=1) or server role, as
 * the configuration model gives them (cfg_client/server_defaults).
 */
void arq_config_defaults(struct arq_config *c, int is_client);

/* A new ARQ; emit(arg, ...) receives every outgoing frame. Never NULL. */
struct arq *arq_new(const struct arq_config *c, arq_emit_cb *emit, void *arg);
/* Free the ARQ and every buffered payload (NULL is fine). */
void arq_free(struct arq *a);

/* ---- sending data ---- */

/*
 * Whether the stream may read more local data: fewer than 0.8 × window
 * frames unacknowledged, and the span from the oldest unacknowledged seq
 * to the next one below 2 × window (so the ring never wraps onto itself).
 */
int arq_send_ready(const struct arq *a);
/*
 * Store a copy of data (len <= 65535) under the next sequence number,
 * emit it as ARQ_OUT_DATA and return that sequence number, or -1 when
 * !arq_send_ready().
 */
int arq_send(
    struct arq *a, uint64_t now, const uint8_t *data, size_t len, uint8_t comp);
/*
 * The data frame with this seq (DATA or RESEND) left the queue now: its
 * RTO runs from here. Unknown seqs are ignored.
 */
void arq_note_sent(struct arq *a, uint16_t seq, uint64_t now);
/*
 * A STREAM_DATA_ACK arrived. Removes the frame, takes an RTT sample if the
 * frame was sent exactly once (Karn). Returns 1 if the seq was in flight.
 */
int arq_on_ack(struct arq *a, uint16_t seq, uint64_t now);
/*
 * A STREAM_DATA_NACK arrived: emit ARQ_OUT_RESEND for the frame unless one
 * was emitted for it within the repeat interval. Returns 1 if emitted.
 */
int arq_on_nack(struct arq *a, uint16_t seq, uint64_t now);
/*
 * When data frame seq last left the queue (arq_note_sent): 1 and *at, or
 * 0 when it is not in flight or has not left yet (*at = 0 then when it
 * is in flight).
 */
int arq_sent_at(const struct arq *a, uint16_t seq, uint64_t *at);
/*
 * Something that may stand in for data frame seq left now (a download FEC
 * repair symbol of its group): its RTO runs again from now, and its ACK
 * gives no RTT sample (Karn). Ignored unless seq is in flight and left.
 */
void arq_restart_rto(struct arq *a, uint16_t seq, uint64_t now);
/* Whether data frame seq is still awaiting its ACK. */
int arq_in_flight(const struct arq *a, uint16_t seq);
/* Frames sent and not acknowledged. */
unsigned arq_unacked(const struct arq *a);
/* Next sequence number arq_send will use. */
uint16_t arq_snd_nxt(const struct arq *a);
/* Drop every unacknowledged data frame (peer said CLOSE_WRITE / RST). */
void arq_send_discard(struct arq *a);

/* ---- receiving data ---- */

/*
 * A STREAM_DATA or STREAM_RESEND with seq arrived. Stores a copy if new,
 * emits the ACK (except for ARQ_RX_WINDOW) and any NACKs the gap rule
 * calls for. Returns the verdict.
 */
enum arq_rx arq_recv(
    struct arq *a, uint64_t now, uint16_t seq, const uint8_t *data, size_t len);
/*
 * The in-order bytes ready for the local writer: sets *p to the unread part
 * of the frame at rcv_nxt and returns its length, or 0 when rcv_nxt has not
 * arrived. The pointer is valid until the next arq_* call.
 */
size_t arq_rx_peek(const struct arq *a, const uint8_t **p);
/* Mark n bytes of arq_rx_peek as written; advances rcv_nxt past frames
 * fully consumed. */
void arq_rx_consume(struct arq *a, size_t n);
/* Frames buffered on the receive side (in order or not). */
unsigned arq_rx_buffered(const struct arq *a);
/* Payload bytes those frames hold (what a memory budget counts). */
size_t arq_rx_bytes(const struct arq *a);
uint16_t arq_rcv_nxt(const struct arq *a);

/* ---- control reliability ---- */

/*
 * Emit a control frame and keep it until arq_ctl_ack for (type, seq, frag).
 * setup != 0 marks SYN-like frames (initial RTO at most 350 ms, growth
 * ×1.15). A frame already tracked under the same key is not emitted again.
 * Returns 1 when newly tracked, 0 when it was already tracked.
 */
int arq_ctl_send(struct arq *a, uint64_t now, uint8_t type, uint16_t seq,
    uint8_t frag, uint8_t total, const uint8_t *payload, size_t len, int setup);
/* The tracked control frame left the queue now (starts its RTO). */
void arq_ctl_note_sent(
    struct arq *a, uint8_t type, uint16_t seq, uint8_t frag, uint64_t now);
/*
 * The ACK for control frame type (the original type, not the ACK type)
 * arrived. With any_seq != 0 every tracked frame of that type is cleared
 * (close/RST semantics). Returns 1 if something was tracked.
 */
int arq_ctl_ack(struct arq *a, uint8_t type, uint16_t seq, uint8_t frag,
    int any_seq, uint64_t now);
/* Whether a control frame of this type is still awaiting its ACK. */
int arq_ctl_pending(const struct arq *a, uint8_t type);
/* Number of control frames awaiting ACK. */
unsigned arq_ctl_count(const struct arq *a);

/* ---- time ---- */

/*
 * Run retransmission timers (data and control) and the receive-gap
 * watchdog. Returns ARQ_TICK_OK, or a failure (for ARQ_TICK_CTL_EXPIRED,
 * *expired_type gets the type of the control frame given up; it is removed).
 */
enum arq_tick_res arq_tick(struct arq *a, uint64_t now, uint8_t *expired_type);

/*
 * The path's round trip as the owner measures it (the client: its DNS
 * answer times), for the NACK timers of a stream that sends no data of
 * its own. Without it the ARQ uses its own ACK samples (data, then
 * control); with neither, the configured NACK delay and repeat.
 */
void arq_set_path_rtt(struct arq *a, uint64_t srtt_us, uint64_t rttvar_us);
/*
 * A floor under the NACK delay (0: none), e.g. the time a download FEC
 * needs to repair a loss before a NACK asks for it (client-fec.c).
 */
void arq_set_nack_floor(struct arq *a, uint64_t floor_us);
/* The path estimate in use (srtt, rttvar): 1, or 0 when there is none. */
int arq_path_rtt(const struct arq *a, uint64_t *srtt_us, uint64_t *rttvar_us);
/* The NACK delay and repeat interval in use now. */
uint64_t arq_nack_delay_us(const struct arq *a);
uint64_t arq_nack_repeat_us(const struct arq *a);

/* Current data RTO base (SRTT + 4·RTTVAR clamped), and control base. */
uint64_t arq_rto_us(const struct arq *a);
uint64_t arq_ctl_rto_us(const struct arq *a);
/* The current RTO of the in-flight frame seq, or 0 when not in flight. */
uint64_t arq_frame_rto_us(const struct arq *a, uint16_t seq);
const struct arq_stats *arq_get_stats(const struct arq *a);
/* Add every counter of from to to (totals over streams). */
void arq_stats_add(struct arq_stats *to, const struct arq_stats *from);

/*
 * The RFC 6298 update as upstream applies it: the sample is clamped to
 * [lo, hi] first; the first sample sets SRTT = R, RTTVAR = R/2; later ones
 * use gains 1/8 and 1/4. Returns the new base, clamped to [lo, hi].
 * Exposed for the tests.
 */
struct arq_rtt {
	uint64_t srtt_us, rttvar_us, base_us;
	int init;
};
uint64_t arq_rtt_update(
    struct arq_rtt *r, uint64_t sample_us, uint64_t lo, uint64_t hi);

#endif
