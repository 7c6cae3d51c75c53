/* SPDX-License-Identifier: MIT */
/*
 * test-nl.c — common/nl against the real kernel, in a network namespace of
 * its own (unshare(CLONE_NEWNET): only this process sees it, and it goes
 * away with the process): route lookups, "no route" kinds, default routes
 * of several tables, a TUN device recognised as a tunnel, link up/down and
 * MTU, address and route add/delete, IPv4 and IPv6. Then the reply parsers
 * on hand-made bad datagrams. Needs root (CAP_NET_ADMIN); skips otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/nl.h"
#include "tests/tap.h"

static union net_addr
A(const char *s) {
	union net_addr a;
	struct err e;

	if (net_addr_parse(s, 0, &a, &e) != 0) {
		tap_diag("bad test address %s", s);
		abort();
	}
	return a;
}

static const char *
ip_of(const union net_addr *a)
{
	static char buf[4][NET_ADDR_STRLEN];
	static int i;

	if (a->sa.sa_family == AF_UNSPEC)
		return "(none)";
	i = (i + 1) % 4;
	net_addr_format_ip(a, buf[i], sizeof buf[i]);
	return buf[i];
}

/* A TUN device through /dev/net/tun (kept open: carrier on). */
static int
tun_create(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct nl_route_spec
spec(int family, const char *dst, int plen, int oif)
{
	struct nl_route_spec s;

	memset(&s, 0, sizeof s);
	s.family = family;
	if (dst != NULL)
		s.dst = A(dst);
	s.dst_len = plen;
	s.oif = oif;
	s.metric = -1;
	return s;
}

static void
test_kernel(void)
{
	struct nl nl;
	struct nl_link l = {0}, lo = {0};

	struct nl_route r, defs[4];
	struct nl_route_spec s;
	struct err e = {""};
	union net_addr a;
	size_t n;
	int tfd, idx, rc;

	rc = nl_open(&nl, &e);
	tap_ok(rc == 0, "nl_open: %s", rc ? e.msg : "ok");
	rc = nl_link_by_name(&nl, "lo", &lo, &e);
	tap_ok(rc == 0 && lo.index == 1 && lo.type == ARPHRD_LOOPBACK,
	    "lo: index %d type %s", lo.index, nl_link_type_name(lo.type));
	tap_ok(nl_link_tunnel_why(&lo) == NULL, "lo is not a tunnel");
	rc = nl_link_set_up(&nl, lo.index, 1, &e);
	tap_ok(rc == 0, "lo up: %s", rc ? e.msg : "ok");
	a = A("127.0.0.1");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 0 && r.type == RTN_LOCAL && r.oif == 1,
	    "127.0.0.1: %s route via if %d (rc %d %s)",
	    nl_route_type_name(r.type), r.oif, rc, e.msg);
	a = A("192.0.2.1");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 1 && r.error == ENETUNREACH, "no route: rc %d, %s", rc,
	    nl_noroute_text(r.error));
	n = 99;
	rc = nl_default_routes(&nl, AF_INET, defs, 4, &n, &e);
	tap_ok(rc == 0 && n == 0, "no IPv4 default route yet (%zu)", n);

	tfd = tun_create("mdt0");
	tap_ok(tfd >= 0, "TUN device mdt0 created");
	if (tfd < 0)
		return;
	rc = nl_link_by_name(&nl, "mdt0", &l, &e);
	tap_ok(rc == 0, "link mdt0: %s", rc ? e.msg : "ok");
	idx = l.index;
	tap_is_str(l.kind, "tun", "kind tun");
	tap_is_int(
	    l.type, ARPHRD_NONE, "type none (%s)", nl_link_type_name(l.type));
	tap_ok(l.flags & IFF_POINTOPOINT, "point-to-point flag");
	tap_is_str(nl_link_tunnel_why(&l), "kind tun", "mdt0 is a tunnel");
	rc = nl_link_set_mtu(&nl, idx, 1280, &e);
	if (rc == 0)
		rc = nl_link_get(&nl, idx, &l, &e);
	tap_ok(rc == 0 && l.mtu == 1280, "MTU set to 1280 (%d) %s", l.mtu,
	    rc ? e.msg : "");
	tap_is_str(l.name, "mdt0", "nl_link_get by index gives the name");
	rc = nl_link_set_up(&nl, idx, 1, &e);
	if (rc == 0)
		rc = nl_link_get(&nl, idx, &l, &e);
	tap_ok(rc == 0 && (l.flags & IFF_UP), "link up %s", rc ? e.msg : "");

	a = A("10.66.0.1");
	rc = nl_addr_add(&nl, idx, &a, 24, NULL, &e);
	tap_ok(rc == 0, "address add: %s", rc ? e.msg : "ok");
	rc = nl_addr_add(&nl, idx, &a, 24, NULL, &e);
	tap_ok(rc == -1 && errno == EEXIST && strstr(e.msg, "exists"),
	    "address add twice: %s", e.msg);
	a = A("10.66.0.9");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 0 && r.oif == idx && r.type == RTN_UNICAST &&
		r.table == RT_TABLE_MAIN &&
		r.gateway.sa.sa_family == AF_UNSPEC &&
		strcmp(ip_of(&r.prefsrc), "10.66.0.1") == 0,
	    "10.66.0.9: dev %d src %s gw %s (%s)", r.oif, ip_of(&r.prefsrc),
	    ip_of(&r.gateway), e.msg);

	s = spec(AF_INET, "198.51.100.0", 24, idx);
	rc = nl_route_add(&nl, &s, 0, &e);
	tap_ok(rc == 0, "route add: %s", rc ? e.msg : "ok");
	rc = nl_route_add(&nl, &s, 0, &e);
	tap_ok(rc == -1 && errno == EEXIST, "route add twice: %s", e.msg);
	rc = nl_route_add(&nl, &s, 1, &e);
	tap_ok(rc == 0, "route replace: %s", rc ? e.msg : "ok");
	a = A("198.51.100.7");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(
	    rc == 0 && r.oif == idx, "198.51.100.7 through mdt0 (%d)", r.oif);
	rc = nl_route_del(&nl, &s, &e);
	tap_ok(rc == 0, "route del: %s", rc ? e.msg : "ok");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 1 && r.error == ENETUNREACH, "gone after del (rc %d)", rc);
	rc = nl_route_del(&nl, &s, &e);
	tap_ok(rc == -1 && errno == ESRCH, "del twice: %s", e.msg);

	/* A gateway route, in a table above 255 (RTA_TABLE). */
	s = spec(AF_INET, NULL, 0, idx);
	s.gateway = A("10.66.0.254");
	s.table = 1000;
	s.metric = 77;
	rc = nl_route_add(&nl, &s, 0, &e);
	tap_ok(rc == 0, "default in table 1000: %s", rc ? e.msg : "ok");
	s = spec(AF_INET, NULL, 0, idx);
	rc = nl_route_add(&nl, &s, 0, &e);
	tap_ok(rc == 0, "default dev mdt0: %s", rc ? e.msg : "ok");
	n = 0;
	rc = nl_default_routes(&nl, AF_INET, defs, 4, &n, &e);
	tap_ok(rc == 0 && n == 2, "two IPv4 default routes (%zu) %s", n,
	    rc ? e.msg : "");
	if (n == 2) {
		int t = defs[0].table == 1000 ? 0 : 1;

		tap_ok(defs[t].table == 1000 && defs[t].metric == 77 &&
			strcmp(ip_of(&defs[t].gateway), "10.66.0.254") == 0 &&
			defs[t].oif == idx,
		    "table 1000: via %s metric %lld", ip_of(&defs[t].gateway),
		    (long long)defs[t].metric);
		tap_ok(defs[1 - t].table == RT_TABLE_MAIN &&
			defs[1 - t].oif == idx &&
			defs[1 - t].gateway.sa.sa_family == AF_UNSPEC,
		    "main: dev mdt0, no gateway");
	}
	n = 0;
	rc = nl_default_routes(&nl, AF_INET, defs, 1, &n, &e);
	tap_ok(
	    rc == 0 && n == 2, "count beyond max is still reported (%zu)", n);
	a = A("8.8.8.8");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 0 && r.oif == idx && r.dst_len == 32,
	    "8.8.8.8 follows the default into mdt0");

	{
		static const struct {
			int type, err;
			const char *dst, *probe;
		} kinds[] = {
		    {RTN_UNREACHABLE, EHOSTUNREACH, "203.0.113.0",
			"203.0.113.1"},
		    {RTN_BLACKHOLE, EINVAL, "203.0.114.0", "203.0.114.1"},
		    {RTN_PROHIBIT, EACCES, "203.0.115.0", "203.0.115.1"},
		};
		size_t i;

		for (i = 0; i < nitems(kinds); i++) {
			s = spec(AF_INET, kinds[i].dst, 24, 0);
			s.type = kinds[i].type;
			rc = nl_route_add(&nl, &s, 0, &e);
			a = A(kinds[i].probe);
			if (rc == 0)
				rc = nl_route_get(&nl, &a, &r, &e);
			tap_ok(rc == 1 && r.error == kinds[i].err,
			    "%s route: %s", nl_route_type_name(kinds[i].type),
			    rc == 1 ? nl_noroute_text(r.error) : e.msg);
		}
	}

	/* IPv6 on the same device. */
	a = A("fd66::1");
	rc = nl_addr_add(&nl, idx, &a, 64, NULL, &e);
	tap_ok(rc == 0, "IPv6 address add: %s", rc ? e.msg : "ok");
	a = A("fd66::9");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 0 && r.family == AF_INET6 && r.oif == idx &&
		strcmp(ip_of(&r.prefsrc), "fd66::1") == 0,
	    "fd66::9: dev %d src %s (rc %d %s)", r.oif, ip_of(&r.prefsrc), rc,
	    e.msg);
	a = A("2001:db8::53");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(
	    rc == 1 && r.error == ENETUNREACH, "IPv6 without route (%d)", rc);
	s = spec(AF_INET6, NULL, 0, idx);
	s.gateway = A("fd66::fe");
	rc = nl_route_add(&nl, &s, 0, &e);
	tap_ok(rc == 0, "IPv6 default via: %s", rc ? e.msg : "ok");
	n = 0;
	rc = nl_default_routes(&nl, AF_INET6, defs, 4, &n, &e);
	tap_ok(rc == 0 && n == 1 &&
		strcmp(ip_of(&defs[0].gateway), "fd66::fe") == 0,
	    "one IPv6 default route via %s", n ? ip_of(&defs[0].gateway) : "-");
	rc = nl_route_get(&nl, &a, &r, &e);
	tap_ok(rc == 0 && strcmp(ip_of(&r.gateway), "fd66::fe") == 0 &&
		r.oif == idx,
	    "2001:db8::53 via %s", ip_of(&r.gateway));

	/* Peer address (point-to-point) and delete. */
	a = A("10.67.0.1");
	{
		union net_addr peer = A("10.67.0.2");

		rc = nl_addr_add(&nl, idx, &a, 32, &peer, &e);
		tap_ok(rc == 0, "p2p address with peer: %s", rc ? e.msg : "ok");
		a = A("10.67.0.2");
		rc = nl_route_get(&nl, &a, &r, &e);
		tap_ok(rc == 0 && r.oif == idx &&
			strcmp(ip_of(&r.prefsrc), "10.67.0.1") == 0,
		    "peer reached from 10.67.0.1 (%s)", ip_of(&r.prefsrc));
		a = A("10.67.0.1");
	}
	rc = nl_addr_del(&nl, idx, &a, 32, &e);
	tap_ok(rc == 0, "address del: %s", rc ? e.msg : "ok");
	rc = nl_addr_del(&nl, idx, &a, 32, &e);
	tap_ok(rc == -1 && errno == EADDRNOTAVAIL, "del twice: %s", e.msg);

	tap_ok(nl_link_set_up(&nl, idx, 0, &e) == 0 &&
		nl_link_get(&nl, idx, &l, &e) == 0 && !(l.flags & IFF_UP),
	    "link down");
	rc = nl_link_by_name(&nl, "nosuch0", &l, &e);
	tap_ok(rc == -1 && errno == ENODEV, "unknown link: %s", e.msg);
	rc = nl_link_get(&nl, 99999, &l, &e);
	tap_ok(rc == -1 && errno == ENODEV, "unknown index: %s", e.msg);
	close(tfd);
	nl_close(&nl);
}

/* ---- the parsers on hand-made datagrams ------------------------------- */

static int
count_cb(void *arg, unsigned type, const void *msg, size_t len, struct err *e)
{
	(void)type;
	(void)msg;
	(void)len;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static size_t
put_hdr(uint8_t *p, uint32_t len, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr h = {len, type, flags, seq, 0};

	memcpy(p, &h, sizeof h);
	return NLMSG_HDRLEN;
}

static size_t
put_attr(uint8_t *p, uint16_t type, const void *data, uint16_t n)
{
	struct rtattr a = {(unsigned short)RTA_LENGTH(n), type};

	memcpy(p, &a, sizeof a);
	memcpy(p + RTA_LENGTH(0), data, n);
	return RTA_SPACE(n);
}

static void
test_parsers(void)
{
	uint8_t b[512];
	struct nl_route r;
	struct nl_link l;
	struct rtmsg rm;
	struct nlmsgerr me;
	struct ifinfomsg ifi;
	struct err e = {""};
	char kmsg[64];
	size_t off;
	uint32_t v;
	int kerr = -1, calls = 0, rc;
	uint8_t gw[4] = {192, 0, 2, 1};

	/* A route with a good gateway, then one with a 3-byte gateway. */
	memset(b, 0, sizeof b);
	memset(&rm, 0, sizeof rm);
	rm.rtm_family = AF_INET;
	rm.rtm_type = RTN_UNICAST;
	rm.rtm_table = RT_TABLE_MAIN;
	off = NLMSG_HDRLEN;
	memcpy(b + off, &rm, sizeof rm);
	off += NLMSG_ALIGN(sizeof rm);
	off += put_attr(b + off, RTA_GATEWAY, gw, 4);
	v = 3;
	off += put_attr(b + off, RTA_OIF, &v, 4);
	put_hdr(b, (uint32_t)off, RTM_NEWROUTE, 0, 7);
	rc = nl_parse_route(b, off, &r, &e);
	tap_ok(rc == 0 && r.oif == 3 &&
		strcmp(ip_of(&r.gateway), "192.0.2.1") == 0 && r.nexthops == 1,
	    "route parsed: gw %s oif %d", ip_of(&r.gateway), r.oif);
	rc = nl_walk(b, off, 7, count_cb, &calls, &kerr, NULL, 0, &e);
	tap_ok(rc == 1 && calls == 1 && kerr == 0,
	    "walk: a single reply ends the exchange");
	calls = 0;
	rc = nl_walk(b, off, 8, count_cb, &calls, &kerr, NULL, 0, &e);
	tap_ok(rc == 0 && calls == 0, "walk: other sequence skipped");
	tap_ok(nl_parse_route(b, off - 2, &r, &e) == -1, "route cut short: %s",
	    e.msg);
	b[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof rm)] = 7; /* rta_len 7: 3 bytes */
	tap_ok(
	    nl_parse_route(b, off, &r, &e) == -1, "3-byte gateway: %s", e.msg);
	b[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof rm)] = 200;
	tap_ok(nl_parse_route(b, off, &r, &e) == -1, "attribute overruns: %s",
	    e.msg);
	tap_ok(nl_walk(b, 10, 7, count_cb, &calls, &kerr, NULL, 0, &e) == -1,
	    "walk: stray bytes: %s", e.msg);
	put_hdr(b, 4000, RTM_NEWROUTE, 0, 7);
	tap_ok(nl_walk(b, off, 7, count_cb, &calls, &kerr, NULL, 0, &e) == -1,
	    "walk: length beyond the datagram: %s", e.msg);

	/* An error with an extended-ack message (capped). */
	memset(b, 0, sizeof b);
	memset(&me, 0, sizeof me);
	me.error = -EEXIST;
	me.msg.nlmsg_len = NLMSG_HDRLEN;
	off = NLMSG_HDRLEN;
	memcpy(b + off, &me, sizeof me);
	off += NLMSG_ALIGN(sizeof me);
	off += put_attr(b + off, NLMSGERR_ATTR_MSG, "Route exists\n", 14);
	put_hdr(
	    b, (uint32_t)off, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9);
	rc = nl_walk(b, off, 9, count_cb, &calls, &kerr, kmsg, sizeof kmsg, &e);
	tap_ok(rc == 1 && kerr == EEXIST && strcmp(kmsg, "Route exists?") == 0,
	    "error with ext-ack: %d \"%s\"", kerr, kmsg);
	me.error = 5;
	memcpy(b + NLMSG_HDRLEN, &me, sizeof me);
	tap_ok(nl_walk(b, off, 9, count_cb, &calls, &kerr, NULL, 0, &e) == -1,
	    "positive error code refused: %s", e.msg);

	/* A link without a name, and one with a name filling the attr. */
	memset(b, 0, sizeof b);
	memset(&ifi, 0, sizeof ifi);
	ifi.ifi_index = 4;
	ifi.ifi_type = ARPHRD_NONE;
	off = NLMSG_HDRLEN;
	memcpy(b + off, &ifi, sizeof ifi);
	off += NLMSG_ALIGN(sizeof ifi);
	put_hdr(b, (uint32_t)off, RTM_NEWLINK, 0, 1);
	tap_ok(nl_parse_link(b, off, &l, &e) == -1, "link without name: %s",
	    e.msg);
	off += put_attr(b + off, IFLA_IFNAME, "wg0", 3); /* no NUL */
	put_hdr(b, (uint32_t)off, RTM_NEWLINK, 0, 1);
	rc = nl_parse_link(b, off, &l, &e);
	tap_ok(rc == 0 && strcmp(l.name, "wg0") == 0 && l.index == 4,
	    "unterminated name read as %s", l.name);
	tap_ok(nl_link_tunnel_why(&l) != NULL, "type none counts as tunnel: %s",
	    nl_link_tunnel_why(&l));
}

int
main(void)
{
	test_parsers();
	if (unshare(CLONE_NEWNET) != 0) {
		tap_diag("no network namespace (%s): kernel part skipped",
		    strerror(errno));
		return tap_done();
	}
	test_kernel();
	return tap_done();
}
