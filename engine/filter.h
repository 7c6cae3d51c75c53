/* SPDX-License-Identifier: MIT */
/*
 * filter.h — the server's SOCKS target filter. By default it refuses
 * targets a tunnel server should never reach on behalf of a client:
 * loopback, private (RFC 1918, fc00::/7), link-local, multicast,
 * unspecified, "this network" 0.0.0.0/8, broadcast, CGNAT 100.64.0.0/10,
 * benchmark 198.18.0.0/15, IPv4-mapped IPv6 forms of all of these, and
 * the names "localhost" / "*.localhost". Unlike upstream, which checks
 * only IP literals, the server applies eng_filter_addr again to every
 * address a name resolves to, before connecting.
 *
 * An explicit allow-list of CIDRs (for tests and special deployments)
 * overrides the refusal for addresses inside it. When the allow-list is
 * not empty the "localhost" name rule is left to the address check, so
 * "localhost" works exactly when its resolved addresses are allowed.
 */
#ifndef MDNS_FILTER_H
#define MDNS_FILTER_H

#include "common/net.h"
#include "common/util.h"

struct eng_filter;

/* A filter with the default refusals and an empty allow-list. */
struct eng_filter *eng_filter_new(void);
void eng_filter_free(struct eng_filter *f);

/*
 * Add "1.2.3.0/24", "::1/128" or a bare address (a /32 or /128) to the
 * allow-list. Returns 0, or -1 with e set ("bad CIDR: ...").
 */
int eng_filter_allow(struct eng_filter *f, const char *cidr, struct err *e);

/*
 * Check a target host as the client sent it (name or literal, no port).
 * Returns 0 when allowed so far (a name still needs eng_filter_addr after
 * resolution), -1 when refused; *why (may be NULL) gets a static reason.
 */
int eng_filter_host(
    const struct eng_filter *f, const char *host, const char **why);

/* Check one address (port ignored). 0 allowed, -1 refused with *why. */
int eng_filter_addr(
    const struct eng_filter *f, const union net_addr *a, const char **why);

#endif
