/* SPDX-License-Identifier: MIT */
/*
 * client-dns.h — the client's DNS through the tunnel (client-dns.c): the
 * local DNS listener, the cache, queries in flight as DNS_QUERY_REQ
 * fragments on stream 0 and their answers. Also the public DNS sink
 * (eng_client_dns_query, client.h). Not a public interface.
 */
#ifndef MDNS_CLIENT_DNS_H
#define MDNS_CLIENT_DNS_H

#include "engine/client-int.h"

/* Cache (loaded from its file when LOCAL_DNS_ENABLED and persistence is
 * on), reassembly table. No socket yet. */
void ecl_dns_init(struct eng_client *c);
/* Bind the local listener when LOCAL_DNS_ENABLED. 0 or -1 with e set. */
int ecl_dns_listen(struct eng_client *c, struct err *e);
/* Save the cache, close the listener, fail nothing (no callbacks). */
void ecl_dns_free(struct eng_client *c);
/* A session is up: stream 0 gets its ARQ; nothing is pending. */
void ecl_dns_session_up(struct eng_client *c, uint64_t now);
/* The session is gone: waiters get SERVFAIL, stream 0's ARQ goes. */
void ecl_dns_session_lost(struct eng_client *c);
/* DNS_QUERY_RES or DNS_QUERY_REQ_ACK of the current session. */
void ecl_dns_frame(
    struct eng_client *c, const struct wire_frame *f, uint64_t now);
/* A query from a SOCKS UDP association (client-udp.c), as the sink. */
int ecl_dns_submit(struct eng_client *c, const uint8_t *q, size_t n,
    const void *ctx, size_t ctxlen, eng_client_dns_cb *cb, void *arg);
/*
 * Whether a PONG should be followed by another poll: a DNS answer is
 * awaited and the poll credit (64 per query sent) is not spent; once it
 * is, polls go on a timer from 1 ms doubling to 50 ms. Without this the
 * answer would wait for the next timed PING (0.1 s), upstream's pace.
 */
int ecl_dns_want_poll(struct eng_client *c);
/* Deadlines (SERVFAIL), stream-0 retransmits, expiry, cache flushes. */
void ecl_dns_tick(struct eng_client *c, uint64_t now);

/* The status's "dns" object and the mdns_client_dns_* metrics. */
json_t *ecl_dns_status_json(const struct eng_client *c);
void ecl_dns_metrics(const struct eng_client *c, FILE *f);

#endif
