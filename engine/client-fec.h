/* SPDX-License-Identifier: MIT */
/*
 * client-fec.h — the client side of the download FEC (docs/fec.md): one
 * SESSION_CAPS after the session is up, the CAPS_ACK (or silence, or
 * NODATA: FEC stays off), and per stream the recent payloads and the
 * groups being rebuilt from STREAM_FEC_SYMBOL frames.
 */
#ifndef MDNS_CLIENT_FEC_H
#define MDNS_CLIENT_FEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/client-int.h"
#include "engine/fec.h"

/* The parameters this client asks for (FEC_LEVEL, the profile, FEC_*). */
void ecl_fec_wanted(const struct cfg_client *cfg, struct fec_params *p);

/* The session is up: send SESSION_CAPS when FEC is wanted. */
void ecl_fec_session_up(struct eng_client *c, uint64_t now);
/* The session is gone: FEC off until the next one negotiates. */
void ecl_fec_session_lost(struct eng_client *c);
/* A SESSION_CAPS_ACK of our session. */
void ecl_fec_caps_ack(
    struct eng_client *c, const struct wire_frame *f, uint64_t now);
/* Timers: the CAPS deadline. */
void ecl_fec_tick(struct eng_client *c, uint64_t now);

/*
 * A STREAM_DATA/RESEND payload (uncompressed) of stream s arrived.
 * Returns 1 when it completed a group and handed packets to the stream
 * (which has then made progress and may be gone), else 0.
 */
int ecl_fec_data(struct eng_client *c, struct ecl_stream *st, uint16_t seq,
    const uint8_t *p, size_t n, uint64_t now);
/* A STREAM_FEC_SYMBOL for stream s (which may be gone afterwards). */
void ecl_fec_symbol(struct eng_client *c, struct ecl_stream *st,
    const struct wire_frame *f, uint64_t now);
/* The stream's FEC state (stream freed). */
void ecl_fec_stream_free(struct ecl_stream *st);

/*
 * With FEC on, the floor under a download's NACK delay: the server sends
 * a group's symbols up to the flush time after its first packet plus one
 * round trip of hold, so a NACK sooner asks for a packet FEC is about to
 * rebuild (flush + 2 x srtt + 4 x rttvar, at most ECL_FEC_NACK_FLOOR_MAX).
 * 0 when FEC is off.
 */
#define ECL_FEC_NACK_FLOOR_MAX 1000000ULL
uint64_t ecl_fec_nack_floor_us(const struct eng_client *c);

/* Status `fec` (null when FEC is not wanted and never was) and metrics. */
json_t *ecl_fec_status_json(const struct eng_client *c);
void ecl_fec_metrics(const struct eng_client *c, FILE *f);

#endif
