/* SPDX-License-Identifier: MIT */
/*
 * nl.h — the kernel's routing and interface tables through rtnetlink
 * (NETLINK_ROUTE), without shelling out to ip(8): which route the kernel
 * would use for a destination (RTM_GETROUTE with RTA_DST: output
 * interface, gateway, preferred source), the default routes of every
 * table, an interface's name, type, flags and driver kind (to tell a
 * tunnel device from an Ethernet one), and the few changes a full-VPN
 * mode needs: bring a link up, set its MTU, add or remove an address,
 * add or remove a route.
 *
 * Conventions. A struct nl is one NETLINK_ROUTE socket; requests are
 * strictly one at a time (send, then read the whole answer). The kernel
 * answers rtnetlink requests while the request is being sent, so a read
 * never waits on the network; the socket is blocking with a 2 s receive
 * timeout only as a guard against a kernel that does not answer.
 * Addresses travel as union net_addr (port ignored). Changing functions
 * need CAP_NET_ADMIN in the socket's network namespace.
 *
 * Returns: 0 on success, -1 with e set ("netlink: route add
 * 10.0.0.0/8: File exists", the kernel's extended-ack text appended when
 * it sent one) and errno set to the kernel's error. nl_route_get returns
 * 1 when the kernel answered that the destination has no usable route
 * (out->error holds ENETUNREACH, EHOSTUNREACH, EACCES or EINVAL).
 *
 * The parsers of kernel replies (nl_walk, nl_parse_route, nl_parse_link)
 * are separate pure functions: every length is checked, and they are
 * fuzzed (tests/fuzz/fuzz-nl.c).
 */
#ifndef MDNS_NL_H
#define MDNS_NL_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "common/net.h"
#include "common/util.h"

struct nl {
	int fd;
	uint32_t seq;	 /* of the last request sent */
	uint32_t portid; /* our netlink port id (from the kernel) */
	char kmsg[256];	 /* extended-ack text of the last error, or "" */
};

/* One route as the kernel reports it (RTM_NEWROUTE). */
struct nl_route {
	int family;		/* AF_INET or AF_INET6 */
	int type;		/* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE... */
	uint32_t table;		/* RT_TABLE_MAIN = 254, local = 255 */
	int protocol;		/* RTPROT_* (who installed it) */
	int scope;		/* RT_SCOPE_* */
	union net_addr dst;	/* destination; unset family when absent */
	int dst_len;		/* prefix length; 0 for a default route */
	union net_addr gateway; /* sa_family AF_UNSPEC when none */
	union net_addr prefsrc; /* preferred source; AF_UNSPEC when none */
	int oif;		/* output interface index; 0 when none */
	int64_t metric;		/* RTA_PRIORITY; -1 when absent */
	int nexthops;		/* paths of a multipath route (first kept) */
	int error;		/* nl_route_get: errno of "no route", or 0 */
};

/* One interface (RTM_NEWLINK). */
struct nl_link {
	int index;
	char name[IF_NAMESIZE];
	unsigned type;	/* ARPHRD_* */
	unsigned flags; /* IFF_* */
	int mtu;	/* -1 when absent */
	char kind[32];	/* IFLA_INFO_KIND ("tun", "veth", "wireguard"), "" */
};

/* A route to add or delete (nl_route_add / nl_route_del). */
struct nl_route_spec {
	int family;		/* AF_INET or AF_INET6 */
	union net_addr dst;	/* ignored when dst_len is 0 */
	int dst_len;		/* 0 = default route */
	union net_addr gateway; /* AF_UNSPEC: none (a device route) */
	union net_addr prefsrc; /* AF_UNSPEC: none */
	int oif;		/* 0: none (required for a device route) */
	int type;		/* 0 means RTN_UNICAST */
	uint32_t table;		/* 0 means RT_TABLE_MAIN */
	int protocol;		/* 0 means RTPROT_STATIC */
	int64_t metric;		/* -1: none */
};

/*
 * Open a NETLINK_ROUTE socket in the current network namespace. Returns 0
 * or -1 with e set. nl_close is safe on a closed or zeroed struct.
 */
int nl_open(struct nl *nl, struct err *e);
void nl_close(struct nl *nl);

/*
 * The route the kernel would use to send to dst now (policy rules
 * applied as for an unmarked packet from this process). Returns 0 with
 * out filled, 1 when the kernel says there is no usable route (out->error
 * set, the rest zero: ENETUNREACH no route, EHOSTUNREACH an unreachable
 * route, EACCES a prohibit route, EINVAL a blackhole route), or -1.
 */
int nl_route_get(struct nl *nl, const union net_addr *dst, struct nl_route *out,
    struct err *e);

/*
 * The default routes (prefix length 0, unicast) of family in every table
 * but "local", in kernel order, at most max of them into out. *n gets the
 * number found (may exceed max: only max are stored). 0 or -1.
 */
int nl_default_routes(struct nl *nl, int family, struct nl_route *out,
    size_t max, size_t *n, struct err *e);

/* An interface by index or by name. 0, or -1 (errno ENODEV: no such). */
int nl_link_get(struct nl *nl, int index, struct nl_link *out, struct err *e);
int nl_link_by_name(
    struct nl *nl, const char *name, struct nl_link *out, struct err *e);

/* Set an interface up (up = 1) or down; set its MTU. 0 or -1. */
int nl_link_set_up(struct nl *nl, int index, int up, struct err *e);
int nl_link_set_mtu(struct nl *nl, int index, int mtu, struct err *e);

/*
 * Add or delete an address with prefix length plen on interface index.
 * peer (may be NULL) is the far end of a point-to-point link. IPv6
 * addresses are added with IFA_F_NODAD: a tunnel has no neighbours to
 * collide with, and duplicate detection would delay its use. 0 or -1.
 */
int nl_addr_add(struct nl *nl, int index, const union net_addr *addr, int plen,
    const union net_addr *peer, struct err *e);
int nl_addr_del(struct nl *nl, int index, const union net_addr *addr, int plen,
    struct err *e);

/*
 * Add a route (replace = 0: fail with EEXIST when it exists; 1: replace
 * it) or delete one (fields that are unset do not constrain the match).
 * A route without a gateway is a device route (scope link). 0 or -1.
 */
int nl_route_add(
    struct nl *nl, const struct nl_route_spec *r, int replace, struct err *e);
int nl_route_del(struct nl *nl, const struct nl_route_spec *r, struct err *e);

/*
 * Whether an interface is a tunnel device, and why: returns NULL for an
 * ordinary one, else a static phrase ("kind tun", "kind wireguard",
 * "layer-3 device (no link-layer header)", "point-to-point"). Loopback is
 * never a tunnel.
 */
const char *nl_link_tunnel_why(const struct nl_link *l);

/* "unicast", "local", "unreachable", "blackhole", "prohibit", ... */
const char *nl_route_type_name(int type);
/* "main", "local", "default" or the number as text, into buf. */
const char *nl_table_name(uint32_t table, char *buf, size_t len);
/* "none", "loopback", "ether", "ppp", "tunnel", ... for ARPHRD_*. */
const char *nl_link_type_name(unsigned type);
/* A sentence for a "no route" errno of nl_route_get. */
const char *nl_noroute_text(int error);

/*
 * Reply parsing (pure; fuzzed). nl_walk goes over one datagram of len
 * bytes holding netlink messages. Messages with another sequence number
 * are skipped. For each data message cb(arg, type, msg, msglen) is called
 * with the whole message (header included); cb returns 0, or -1 to stop
 * with its e. NLMSG_ERROR ends the exchange with *kerr = the positive
 * errno (0 for an ACK) and the extended-ack text in kmsg (if kmsg is not
 * NULL); NLMSG_DONE ends it with *kerr = 0.
 * Returns 1 when the exchange ended, 0 when more datagrams follow, -1
 * with e set for a malformed datagram.
 */
typedef int nl_msg_cb(
    void *arg, unsigned type, const void *msg, size_t msglen, struct err *e);
int nl_walk(const void *buf, size_t len, uint32_t seq, nl_msg_cb *cb, void *arg,
    int *kerr, char *kmsg, size_t kmsglen, struct err *e);

/*
 * Decode one RTM_NEWROUTE / RTM_NEWLINK message (header included, len
 * bytes). 0, or -1 with e set when a length or an attribute is wrong.
 */
int nl_parse_route(
    const void *msg, size_t len, struct nl_route *out, struct err *e);
int nl_parse_link(
    const void *msg, size_t len, struct nl_link *out, struct err *e);

#endif
