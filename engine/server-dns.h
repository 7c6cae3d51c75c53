/* SPDX-License-Identifier: MIT */
/*
 * server-dns.h — the server's DNS through the tunnel (server-dns.c):
 * DNS_QUERY_REQ fragments in, answers out as DNS_QUERY_RES fragments on
 * the session's stream 0. Not a public interface.
 */
#ifndef MDNS_SERVER_DNS_H
#define MDNS_SERVER_DNS_H

#include "engine/server-int.h"

/* The reassembly table, cache and resolver client of s (its config). The
 * resolver client needs the loop: without one every query that would be
 * resolved gets SERVFAIL. 0, or -1 with e set (bad DNS_UPSTREAM_SERVERS). */
int srv_dns_new(struct eng_server *s, struct err *e);
void srv_dns_free(struct eng_server *s);
/* A DNS_QUERY_REQ (payload decompressed) or DNS_QUERY_RES_ACK frame of a
 * live session. */
void srv_dns_frame(struct srv_session *ss, const struct wire_frame *f,
    const uint8_t *payload, size_t plen, uint64_t now);
/* The session goes: its fragments, resolutions and answers. */
void srv_dns_session_close(struct srv_session *ss);
/* Retransmit unacknowledged answer fragments; expire reassembly. */
void srv_dns_tick(struct eng_server *s, uint64_t now);

/* The status's "dns" object and the mdns_server_dns_* metrics. */
json_t *srv_dns_status_json(const struct eng_server *s);
void srv_dns_metrics(const struct eng_server *s, FILE *f);

#endif
