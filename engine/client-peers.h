/* SPDX-License-Identifier: MIT */
/*
 * client-peers.h — the recent local SOCKS clients of the client engine and
 * what their requests carried (docs/checks.md, "The local signal"): per
 * client address (the port is not kept: each connection has its own), how
 * many SOCKS requests named a host (the tunnel's far end resolves it) and
 * how many an IPv4 or IPv6 literal (the application resolved the name
 * itself, outside the tunnel), with first and last seen. Bounded: at most
 * ECL_PEERS_MAX addresses; a new one beyond that replaces the one seen
 * longest ago (counted as evicted). Pure data, no socket, no clock.
 */
#ifndef MDNS_CLIENT_PEERS_H
#define MDNS_CLIENT_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/net.h"

#define ECL_PEERS_MAX 64

/* One client address. */
struct ecl_peer {
	union net_addr addr; /* port 0 */
	uint64_t name, ip4, ip6;
	int64_t first_ms, last_ms; /* wall clock */
};

struct ecl_peers {
	struct ecl_peer v[ECL_PEERS_MAX];
	size_t n;
	uint64_t evicted; /* addresses pushed out by newer ones */
};

/*
 * One SOCKS request from peer (any port; families other than IPv4 and
 * IPv6 are ignored) whose target has SOCKS5 address type atyp (1 IPv4,
 * 3 a host name, 4 IPv6), at wall time now_ms.
 */
void ecl_peers_note(
    struct ecl_peers *p, const union net_addr *peer, int atyp, int64_t now_ms);

/*
 * The table as a JSON array, the most recently seen first: {"address",
 * "hostname", "ip_literal", "ipv4", "ipv6", "first_seen_unix_ms",
 * "last_seen_unix_ms", "last_seen_age_ms"}.
 */
json_t *ecl_peers_json(const struct ecl_peers *p, int64_t now_ms);

#endif
