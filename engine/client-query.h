/* SPDX-License-Identifier: MIT */
/*
 * client-query.h — the client's DNS queries (client-query.c): DNS ids,
 * the in-flight slots and the smoothed answer time, sending a frame to
 * the connections the pool selects, the pump that keeps the pipe full,
 * and sending the queries the pool's probes ask for. Not a public
 * interface; calls nothing of the other client files.
 */
#ifndef MDNS_CLIENT_QUERY_H
#define MDNS_CLIENT_QUERY_H

#include "engine/client-int.h"

/* Random bytes (OpenSSL; the clock if it fails). */
void ecl_rand_bytes(uint8_t *p, size_t n);
/* A zeroed frame of type for the current session (id and cookie). */
void ecl_frame_init(struct eng_client *c, struct wire_frame *f, uint8_t type);
/* The next DNS id not held by a probe (or the forced one). */
uint16_t ecl_alloc_dns_id(struct eng_client *c);
/*
 * Send frame f to the connections the pool selects (duplication: the
 * same DNS id to each). Returns the DNS id or -1 when nothing carried it.
 */
int ecl_send_frame(
    struct eng_client *c, const struct wire_frame *f, uint64_t now);
/* Fill the pipe: queued frames first, then polls (connected only). */
void ecl_pump(struct eng_client *c, uint64_t now);
/* Send the queries the pool's probes want sent now. */
void ecl_send_probes(struct eng_client *c, uint64_t now);
/* A tunnel answer with DNS id came: free its slot, take the sample. */
void ecl_query_answered(struct eng_client *c, uint16_t id, uint64_t now);
/* A probe's answer came after rtt_us (same resolvers: a sample too). */
void ecl_probe_answered(struct eng_client *c, uint64_t rtt_us);
/* Queries unanswered for 4 x the smoothed answer time free their slot. */
void ecl_queries_expire(struct eng_client *c, uint64_t now);

#endif
