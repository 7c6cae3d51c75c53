/* SPDX-License-Identifier: MIT */
/*
 * server-fec.h — the server side of the download FEC (docs/fec.md):
 * SESSION_CAPS answered with the effective parameters when FEC_ENABLED,
 * consecutive first-sent STREAM_DATA payloads of a stream grouped, and
 * repair symbols, held about one round trip after the group closes, sent
 * as STREAM_FEC_SYMBOL only for groups the client has not acknowledged
 * in full (as many as packets are unacknowledged, at most the negotiated
 * count).
 */
#ifndef MDNS_SERVER_FEC_H
#define MDNS_SERVER_FEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "proto/fec-frame.h"

struct eng_server;
struct srv_session;
struct srv_stream;

/*
 * A SESSION_CAPS payload from the session's client: negotiate against the
 * config's ceilings, enable FEC on the session when both want it, and
 * write the CAPS_ACK payload to ack. Returns 0, or -1 when the payload is
 * not a caps payload (the caller answers NODATA, as to an unknown type).
 */
int srv_fec_caps(struct srv_session *ss, const uint8_t *p, size_t n,
    uint8_t ack[FEC_CAPS_LEN]);

/* A STREAM_DATA payload sent for the first time (uncompressed bytes). */
void srv_fec_data(struct srv_stream *st, uint16_t seq, const uint8_t *p,
    size_t n, uint64_t now);

/* Close the stream's group when its flush time has come; release the
 * symbols of groups whose hold is over. */
void srv_fec_tick(struct srv_stream *st, uint64_t now);

/* Bounds of the hold of a closed group's symbols (one round trip). */
#define SRV_FEC_HOLD_MIN_US 2000ULL
#define SRV_FEC_HOLD_MAX_US 250000ULL
/* Shortest wait between two looks at a group not ready to judge. */
#define SRV_FEC_POLL_MIN_US 1000ULL

/*
 * A queued STREAM_FEC_SYMBOL (payload p, n bytes, header seq) is about
 * to leave: returns 1 (and counts it skipped) when every packet of its
 * group has been acknowledged meanwhile, so it is dropped.
 */
int srv_fec_stale(
    struct srv_stream *st, const uint8_t *p, size_t n, uint16_t seq);

/*
 * The server's encoding of one group: k payloads pk[i] of len[i] bytes,
 * zero-padded to T (the largest, or symbol_size if larger), and
 * ceil(k x overhead %) STREAM_FEC_SYMBOL payloads (ids k, k+1, ...), each
 * *plen bytes, one after the other in *out (caller frees). Returns their
 * count (0: nothing to send), or -1 when the group cannot be coded.
 */
long srv_fec_encode(const uint8_t *const *pk, const uint16_t *len, unsigned k,
    unsigned overhead, unsigned symbol_size, uint8_t **out, size_t *plen);

/*
 * Status `fec`: "enabled" (FEC_ENABLED), the ceilings as group_size etc.,
 * "sessions" with FEC on now, and the counters; metrics likewise.
 */
json_t *srv_fec_status_json(const struct eng_server *s);
void srv_fec_metrics(const struct eng_server *s, FILE *f);

/* Drop the stream's group (stream freed). */
void srv_fec_stream_free(struct srv_stream *st);

#endif
