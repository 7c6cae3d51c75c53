/* SPDX-License-Identifier: MIT */
/*
 * server-fec.h — the server side of the download FEC (docs/fec.md):
 * SESSION_CAPS answered with the effective parameters when FEC_ENABLED,
 * consecutive first-sent STREAM_DATA payloads of a stream grouped, and
 * repair symbols queued as STREAM_FEC_SYMBOL behind the group's data.
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

/* Close the stream's group when its flush time has come. */
void srv_fec_tick(struct srv_stream *st, uint64_t now);

/*
 * Status `fec`: "enabled" (FEC_ENABLED), the ceilings as group_size etc.,
 * "sessions" with FEC on now, and the counters; metrics likewise.
 */
json_t *srv_fec_status_json(const struct eng_server *s);
void srv_fec_metrics(const struct eng_server *s, FILE *f);

/* Drop the stream's group (stream freed). */
void srv_fec_stream_free(struct srv_stream *st);

#endif
