/* SPDX-License-Identifier: MIT */
/*
 * server-leak.h — the leak zone `serve` hosts (MDNS_LEAK_ZONE, `serve
 * --leak-zone`; docs/checks.md "leak"): authoritative answers carrying
 * the asking resolver's address, and per-token records of which resolver
 * addresses asked for the test names, kept in memory (bounded, expiring)
 * and read back by a TXT query for the token. The names are
 * proto/leakzone.h's. Tokens and names are never logged.
 */
#ifndef MDNS_SERVER_LEAK_H
#define MDNS_SERVER_LEAK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/net.h"

#define SRV_LEAK_TOKENS 4096 /* tokens held; the oldest goes first */
#define SRV_LEAK_ADDRS	24   /* resolver addresses per token */
#define SRV_LEAK_TTL_S	600  /* a token lives this long after its first name */

struct srv_leak_stats {
	uint64_t queries;   /* questions under the zone */
	uint64_t recorded;  /* test-name questions recorded */
	uint64_t reports;   /* report questions answered */
	uint64_t evicted;   /* tokens pushed out by newer ones */
	uint64_t expired;   /* tokens that aged out */
	uint64_t addr_full; /* questions from a new address of a full token */
	uint64_t bad;	    /* unanswerable (buffer, type) */
	unsigned tokens;    /* held now */
};

struct srv_leak;

/* The zone (normalised: lower case, no final dot); NULL for "" (none). */
struct srv_leak *srv_leak_new(const char *zone);
void srv_leak_free(struct srv_leak *l);

/*
 * A datagram from "from" at now_us: when it is a question under the zone,
 * record it as the name says and write the answer into out (cap bytes,
 * LEAKZ_UDP_MAX is enough); returns its length, or 0 for a question under
 * the zone that gets no answer. -1: not the zone's (the tunnel handles
 * it). l NULL: always -1.
 */
long srv_leak_handle(struct srv_leak *l, const uint8_t *msg, size_t len,
    const union net_addr *from, uint64_t now_us, uint8_t *out, size_t cap);

const struct srv_leak_stats *srv_leak_stats(const struct srv_leak *l);
/* The status's "leak" object ({"zone": ..., counters}); null when off. */
json_t *srv_leak_status_json(const struct srv_leak *l);

#endif
