/* SPDX-License-Identifier: MIT */
/*
 * route.c — the `route` check (route.h): one RTM_GETROUTE per resolver
 * address and one RTM_GETLINK for the interface it names, turned into a
 * verdict with the kernel's answer as evidence. It does not resolve
 * names, send packets or follow policy rules itself: the kernel's route
 * lookup already applies them.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe/route.h"

struct hop {
	struct nl_link link;
	int have_link;
	const char *tunnel; /* why it is a tunnel, or NULL */
	char text[192];	    /* "dev tun7 (index 3, kind tun, ...)" */
};

static const char *
tunnel_reason(const struct nl_link *l, const struct route_opts *o)
{
	size_t i;

	for (i = 0; o != NULL && i < o->ntunnel_ifs; i++)
		if (strcmp(l->name, o->tunnel_ifs[i]) == 0)
			return "named by --tunnel-if";
	return nl_link_tunnel_why(l);
}

/* The interface of a route, described; -1 with e set when netlink fails
 * (an interface that vanished between the two requests is described as
 * such, not an error). */
static int
describe_oif(struct nl *nl, int oif, const struct route_opts *o, struct hop *h,
    struct err *e)
{
	memset(h, 0, sizeof *h);
	if (oif <= 0) {
		snprintf(h->text, sizeof h->text, "no output interface");
		return 0;
	}
	if (nl_link_get(nl, oif, &h->link, e) != 0) {
		if (errno != ENODEV)
			return -1;
		snprintf(h->text, sizeof h->text, "interface %d (gone)", oif);
		return 0;
	}
	h->have_link = 1;
	h->tunnel = tunnel_reason(&h->link, o);
	snprintf(h->text, sizeof h->text,
	    "dev %s (index %d, %s%s%s, type %s%s%s)", h->link.name,
	    h->link.index, h->link.kind[0] ? "kind " : "",
	    h->link.kind[0] ? h->link.kind : "no kind",
	    (h->link.flags & IFF_UP) ? ", up" : ", down",
	    nl_link_type_name(h->link.type),
	    (h->link.flags & IFF_POINTOPOINT) ? ", point-to-point" : "",
	    h->tunnel ? ", a tunnel" : "");
	return 0;
}

static void
ip_text(const union net_addr *a, char *buf, size_t len)
{
	if (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6)
		net_addr_format_ip(a, buf, len);
	else
		snprintf(buf, len, "-");
}

static const char *
metric_text(int64_t metric, char *buf, size_t len)
{
	if (metric < 0)
		return "-";
	snprintf(buf, len, "%lld", (long long)metric);
	return buf;
}

static void
internal(struct res_check *c, const char *what, const struct err *e)
{
	c->verdict = RES_VERDICT_UNKNOWN;
	c->reason = RES_R_INTERNAL;
	res_textf(c->detail, sizeof c->detail, "%s: %s", what, e->msg);
	res_textf(c->evidence, sizeof c->evidence, "%s", e->msg);
}

enum res_verdict
route_check_addr(struct nl *nl, const union net_addr *addr, const char *subject,
    const struct route_opts *o, struct res_check *c)
{
	char ip[NET_ADDR_STRLEN], gw[NET_ADDR_STRLEN], src[NET_ADDR_STRLEN];
	char tb[16], metric[24];
	struct nl_route r;
	struct err e = {""};
	struct hop h;
	int rc;

	res_check_init(c);
	c->kind = RES_CHECK_ROUTE;
	c->at_ms = now_wall_ms();
	net_addr_format_ip(addr, ip, sizeof ip);
	res_textf(c->subject, sizeof c->subject, "%s", subject ? subject : ip);
	rc = nl_route_get(nl, addr, &r, &e);
	if (rc < 0) {
		internal(c, "route lookup failed", &e);
		return c->verdict;
	}
	if (rc == 1) {
		c->verdict = RES_VERDICT_FAIL;
		c->reason = RES_R_NO_ROUTE;
		res_textf(c->detail, sizeof c->detail,
		    "no route to %s: %s; queries to it cannot leave", ip,
		    nl_noroute_text(r.error));
		res_textf(c->evidence, sizeof c->evidence,
		    "route get %s: %s (%s)", ip, strerror(r.error),
		    nl_noroute_text(r.error));
		return c->verdict;
	}
	if (describe_oif(nl, r.oif, o, &h, &e) != 0) {
		internal(c, "interface lookup failed", &e);
		return c->verdict;
	}
	ip_text(&r.gateway, gw, sizeof gw);
	ip_text(&r.prefsrc, src, sizeof src);
	res_textf(c->evidence, sizeof c->evidence,
	    "route get %s: %s, table %s, %s, gateway %s, src %s, metric %s%s",
	    ip, nl_route_type_name(r.type),
	    nl_table_name(r.table, tb, sizeof tb), h.text, gw, src,
	    metric_text(r.metric, metric, sizeof metric),
	    r.nexthops > 1 ? ", multipath (first path shown)" : "");
	if (h.tunnel != NULL) {
		c->verdict = RES_VERDICT_FAIL;
		c->reason = RES_R_ROUTED_IN_TUNNEL;
		res_textf(c->detail, sizeof c->detail,
		    "%s is routed into %s (%s): the tunnel would carry its "
		    "own carrier",
		    ip, h.link.name, h.tunnel);
		return c->verdict;
	}
	c->verdict = RES_VERDICT_OK;
	c->reason = RES_R_OK;
	if (r.type == RTN_LOCAL)
		res_textf(c->detail, sizeof c->detail,
		    "%s is an address of this host (dev %s)", ip,
		    h.have_link ? h.link.name : "?");
	else if (r.gateway.sa.sa_family != AF_UNSPEC)
		res_textf(c->detail, sizeof c->detail,
		    "%s goes via %s dev %s, src %s", ip, gw,
		    h.have_link ? h.link.name : "?", src);
	else
		res_textf(c->detail, sizeof c->detail,
		    "%s is on-link on dev %s, src %s", ip,
		    h.have_link ? h.link.name : "?", src);
	return c->verdict;
}

#define DEFAULTS_MAX 8

enum res_verdict
route_check_default(
    struct nl *nl, int family, const struct route_opts *o, struct res_check *c)
{
	const char *fam = family == AF_INET6 ? "IPv6" : "IPv4";
	struct nl_route r[DEFAULTS_MAX];
	char gw[NET_ADDR_STRLEN], tb[16], one[256], metric[24];
	char detail[RES_DETAIL_MAX] = "", ev[RES_EVIDENCE_MAX] = "";
	struct err e = {""};
	struct hop h;
	size_t n = 0, i;
	int tunnels = 0;

	res_check_init(c);
	c->kind = RES_CHECK_ROUTE;
	c->at_ms = now_wall_ms();
	res_textf(c->subject, sizeof c->subject, "default %s",
	    family == AF_INET6 ? "ipv6" : "ipv4");
	if (nl_default_routes(nl, family, r, DEFAULTS_MAX, &n, &e) != 0) {
		internal(c, "route dump failed", &e);
		return c->verdict;
	}
	c->verdict = RES_VERDICT_OK;
	c->reason = RES_R_OK;
	if (n == 0) {
		res_textf(
		    c->detail, sizeof c->detail, "no %s default route", fam);
		res_textf(c->evidence, sizeof c->evidence,
		    "%s route dump: no default route in any table", fam);
		return c->verdict;
	}
	for (i = 0; i < MIN(n, (size_t)DEFAULTS_MAX); i++) {
		if (describe_oif(nl, r[i].oif, o, &h, &e) != 0) {
			internal(c, "interface lookup failed", &e);
			return c->verdict;
		}
		ip_text(&r[i].gateway, gw, sizeof gw);
		tunnels += h.tunnel != NULL;
		snprintf(one, sizeof one, "%s%s%s dev %s table %s%s",
		    i ? "; " : "",
		    r[i].gateway.sa.sa_family != AF_UNSPEC ? "via " : "",
		    r[i].gateway.sa.sa_family != AF_UNSPEC ? gw : "",
		    h.have_link ? h.link.name : "?",
		    nl_table_name(r[i].table, tb, sizeof tb),
		    h.tunnel ? " (a tunnel)" : "");
		res_textf(detail + strlen(detail),
		    sizeof detail - strlen(detail), "%s", one);
		res_textf(ev + strlen(ev), sizeof ev - strlen(ev),
		    "%sdefault table %s metric %s gateway %s %s", i ? "; " : "",
		    nl_table_name(r[i].table, tb, sizeof tb),
		    metric_text(r[i].metric, metric, sizeof metric), gw,
		    h.text);
	}
	res_textf(c->detail, sizeof c->detail, "%s default: %s%s%s", fam,
	    detail, n > DEFAULTS_MAX ? " (more not shown)" : "",
	    tunnels ? "; traffic without a more specific route enters the "
		      "tunnel" :
		      "");
	res_textf(c->evidence, sizeof c->evidence, "%s", ev);
	return c->verdict;
}
