/* SPDX-License-Identifier: MIT */
/*
 * route.h — the `route` check (design.md 4.2, docs/checks.md): for each
 * resolver address, the route the kernel would use to send to it now
 * (common/nl.h: output interface, gateway, preferred source, table), and
 * whether that interface is a tunnel device. A resolver routed into a
 * tunnel means the tunnel would have to carry its own carrier: the DNS
 * queries that make up the tunnel would enter the tunnel. Also the
 * default routes, for the person reading the report.
 *
 * Pure reporting: nothing is changed, no packet is sent.
 */
#ifndef MDNS_ROUTE_H
#define MDNS_ROUTE_H

#include <stddef.h>

#include "common/nl.h"
#include "common/result.h"

struct route_opts {
	/* Interface names to treat as the tunnel whatever their type (the
	 * engine's own TUN device, a VPN on an Ethernet-like device). */
	const char *const *tunnel_ifs;
	size_t ntunnel_ifs;
};

/*
 * Check one address; subject is what the check is about (the resolver as
 * the user wrote it; NULL: the address). Fills c (kind route): fail with
 * routed_in_tunnel when the output interface is a tunnel, fail with
 * no_route when the kernel has no usable route, unknown (internal) when
 * netlink fails, ok otherwise; the detail says where the route goes and
 * the evidence is the kernel's answer. Returns c->verdict.
 */
enum res_verdict route_check_addr(struct nl *nl, const union net_addr *addr,
    const char *subject, const struct route_opts *o, struct res_check *c);

/*
 * The default routes of family (AF_INET, AF_INET6) as one check, subject
 * "default ipv4" / "default ipv6". Informational: ok whether there is a
 * default route or not (a missing one is said in the detail), a default
 * route into a tunnel device is named as such; unknown when netlink
 * fails. Returns c->verdict.
 */
enum res_verdict route_check_default(
    struct nl *nl, int family, const struct route_opts *o, struct res_check *c);

#endif
