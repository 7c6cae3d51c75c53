/* SPDX-License-Identifier: MIT */
/*
 * nl.c — rtnetlink requests and reply parsing (nl.h): route lookups,
 * default routes, interface facts, and the link, address and route
 * changes a full-VPN mode needs.
 *
 * Requests are built into a small stack buffer (a header, one fixed
 * struct, a handful of attributes) and sent with one send(); the answer is
 * read datagram by datagram until the exchange ends (the reply, an ACK or
 * an error, or NLMSG_DONE for a dump). Every byte that comes back goes
 * through nl_walk and the nl_parse_* functions, which copy headers out
 * with memcpy (no alignment assumptions) and check every length, so a
 * fuzzer can feed them anything.
 *
 * It does not create devices (a TUN device comes from /dev/net/tun), does
 * not manage policy rules, and does not watch for changes
 * (RTNLGRP_* multicast): checks ask when they run.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/nl.h"

/* Answers are read with this buffer: the kernel sizes dump datagrams to
 * fit the reader's page-sized buffer or larger; 32 KiB holds any single
 * route or link message with room to spare. */
/* Older C libraries lack it (linux/if_arp.h has it, but clashes with
 * net/if.h). */
#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif

#define NL_RXBUF	 (32 * 1024)
#define NL_TXBUF	 512
#define NL_RCV_TIMEOUT_S 2

struct req {
	uint8_t buf[NL_TXBUF];
	size_t len;
};

/* ---- request building ------------------------------------------------- */

static void *
req_init(struct req *r, unsigned type, unsigned flags, size_t body)
{
	struct nlmsghdr h;

	memset(r->buf, 0, sizeof r->buf);
	r->len = NLMSG_SPACE(body);
	memset(&h, 0, sizeof h);
	h.nlmsg_len = (uint32_t)r->len;
	h.nlmsg_type = (uint16_t)type;
	h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	memcpy(r->buf, &h, sizeof h);
	return r->buf + NLMSG_HDRLEN;
}

/* Append one attribute; the request buffer is sized for every request
 * built here, so overflow is a programming error. */
static void
req_attr(struct req *r, unsigned type, const void *data, size_t n)
{
	struct rtattr a;
	size_t need = RTA_SPACE(n);
	uint32_t total;

	if (r->len + need > sizeof r->buf)
		abort();
	a.rta_len = (unsigned short)RTA_LENGTH(n);
	a.rta_type = (unsigned short)type;
	memcpy(r->buf + r->len, &a, sizeof a);
	if (n > 0)
		memcpy(r->buf + r->len + RTA_LENGTH(0), data, n);
	r->len += need;
	total = (uint32_t)r->len;
	memcpy(r->buf + offsetof(struct nlmsghdr, nlmsg_len), &total,
	    sizeof total);
}

static void
req_u32(struct req *r, unsigned type, uint32_t v)
{
	req_attr(r, type, &v, sizeof v);
}

/* The raw address bytes of a (4 or 16) and their length. */
static size_t
addr_bytes(const union net_addr *a, const void **p)
{
	if (a->sa.sa_family == AF_INET) {
		*p = &a->in.sin_addr;
		return 4;
	}
	if (a->sa.sa_family == AF_INET6) {
		*p = &a->in6.sin6_addr;
		return 16;
	}
	*p = NULL;
	return 0;
}

static void
req_addr(struct req *r, unsigned type, const union net_addr *a)
{
	const void *p;
	size_t n = addr_bytes(a, &p);

	if (n > 0)
		req_attr(r, type, p, n);
}

/* ---- reply parsing ---------------------------------------------------- */

static void
set_addr(union net_addr *a, int family, const uint8_t *p)
{
	memset(a, 0, sizeof *a);
	if (family == AF_INET) {
		a->in.sin_family = AF_INET;
		memcpy(&a->in.sin_addr, p, 4);
	} else {
		a->in6.sin6_family = AF_INET6;
		memcpy(&a->in6.sin6_addr, p, 16);
	}
}

/*
 * Walk the attributes in [p, p + len): cb gets each one's type and
 * payload. -1 with e set when an attribute's length is impossible.
 */
typedef int attr_cb(
    void *arg, unsigned type, const uint8_t *data, size_t n, struct err *e);

static int
attrs_walk(const uint8_t *p, size_t len, attr_cb *cb, void *arg, struct err *e)
{
	struct rtattr a;

	while (len >= sizeof a) {
		memcpy(&a, p, sizeof a);
		if (a.rta_len < sizeof a || a.rta_len > len)
			return err_set(e,
			    "netlink: attribute %u has length %u (%zu left)",
			    (unsigned)a.rta_type, (unsigned)a.rta_len, len);
		if (cb(arg, a.rta_type & NLA_TYPE_MASK, p + RTA_LENGTH(0),
			a.rta_len - RTA_LENGTH(0), e) != 0)
			return -1;
		if (RTA_ALIGN(a.rta_len) >= len)
			break;
		p += RTA_ALIGN(a.rta_len);
		len -= RTA_ALIGN(a.rta_len);
	}
	return 0;
}

static int
want_len(unsigned type, size_t n, size_t want, struct err *e)
{
	if (n != want)
		return err_set(e,
		    "netlink: attribute %u has %zu bytes, not %zu", type, n,
		    want);
	return 0;
}

static uint32_t
load_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

struct route_ctx {
	struct nl_route *r;
	size_t alen;
};

/* Gateway (and interface) of the first path of RTA_MULTIPATH. */
static int
route_nexthop_attr(
    void *arg, unsigned type, const uint8_t *data, size_t n, struct err *e)
{
	struct route_ctx *c = arg;

	if (type == RTA_GATEWAY) {
		if (want_len(type, n, c->alen, e) != 0)
			return -1;
		set_addr(&c->r->gateway, c->r->family, data);
	}
	return 0;
}

static int
route_multipath(
    struct route_ctx *c, const uint8_t *p, size_t len, struct err *e)
{
	struct rtnexthop nh;
	size_t step;
	int first = 1;

	while (len >= sizeof nh) {
		memcpy(&nh, p, sizeof nh);
		if (nh.rtnh_len < sizeof nh || nh.rtnh_len > len)
			return err_set(e,
			    "netlink: nexthop length %u (%zu "
			    "left)",
			    (unsigned)nh.rtnh_len, len);
		c->r->nexthops++;
		if (first) {
			c->r->oif = nh.rtnh_ifindex;
			if (attrs_walk(p + RTNH_LENGTH(0),
				nh.rtnh_len - RTNH_LENGTH(0),
				route_nexthop_attr, c, e) != 0)
				return -1;
			first = 0;
		}
		step = (size_t)RTNH_ALIGN(nh.rtnh_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

static int
route_attr(
    void *arg, unsigned type, const uint8_t *data, size_t n, struct err *e)
{
	struct route_ctx *c = arg;
	struct nl_route *r = c->r;

	switch (type) {
	case RTA_DST:
		if (want_len(type, n, c->alen, e) != 0)
			return -1;
		set_addr(&r->dst, r->family, data);
		break;
	case RTA_GATEWAY:
		if (want_len(type, n, c->alen, e) != 0)
			return -1;
		set_addr(&r->gateway, r->family, data);
		break;
	case RTA_PREFSRC:
		if (want_len(type, n, c->alen, e) != 0)
			return -1;
		set_addr(&r->prefsrc, r->family, data);
		break;
	case RTA_VIA: {
		/* An IPv4 route through an IPv6 next hop (RFC 5549). */
		uint16_t fam;

		if (n < 2)
			return err_set(e, "netlink: RTA_VIA too short");
		memcpy(&fam, data, 2);
		if ((fam == AF_INET && n == 2 + 4) ||
		    (fam == AF_INET6 && n == 2 + 16))
			set_addr(&r->gateway, fam, data + 2);
		else
			return err_set(e,
			    "netlink: RTA_VIA family %u with "
			    "%zu bytes",
			    (unsigned)fam, n - 2);
		break;
	}
	case RTA_OIF:
		if (want_len(type, n, 4, e) != 0)
			return -1;
		r->oif = (int)load_u32(data);
		break;
	case RTA_PRIORITY:
		if (want_len(type, n, 4, e) != 0)
			return -1;
		r->metric = load_u32(data);
		break;
	case RTA_TABLE:
		if (want_len(type, n, 4, e) != 0)
			return -1;
		r->table = load_u32(data);
		break;
	case RTA_MULTIPATH:
		return route_multipath(c, data, n, e);
	default:
		break;
	}
	return 0;
}

/* The header and fixed part of a message; -1 when it is too short. */
static int
msg_body(const void *msg, size_t len, size_t fixed, const uint8_t **body,
    size_t *blen, struct err *e)
{
	struct nlmsghdr h;

	if (len < NLMSG_HDRLEN)
		return err_set(e, "netlink: message of %zu bytes", len);
	memcpy(&h, msg, sizeof h);
	if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
		return err_set(e, "netlink: message length %u of %zu",
		    (unsigned)h.nlmsg_len, len);
	if (h.nlmsg_len < NLMSG_SPACE(fixed))
		return err_set(e, "netlink: message type %u too short (%u)",
		    (unsigned)h.nlmsg_type, (unsigned)h.nlmsg_len);
	*body = (const uint8_t *)msg + NLMSG_HDRLEN;
	*blen = h.nlmsg_len - NLMSG_HDRLEN;
	return 0;
}

int
nl_parse_route(const void *msg, size_t len, struct nl_route *out, struct err *e)
{
	struct route_ctx c = {out, 0};
	const uint8_t *body;
	struct rtmsg rm;
	size_t blen;

	memset(out, 0, sizeof *out);
	out->metric = -1;
	if (msg_body(msg, len, sizeof rm, &body, &blen, e) != 0)
		return -1;
	memcpy(&rm, body, sizeof rm);
	if (rm.rtm_family != AF_INET && rm.rtm_family != AF_INET6)
		return err_set(
		    e, "netlink: route of family %u", (unsigned)rm.rtm_family);
	out->family = rm.rtm_family;
	c.alen = rm.rtm_family == AF_INET ? 4 : 16;
	if ((size_t)rm.rtm_dst_len > c.alen * 8)
		return err_set(e, "netlink: route prefix length %u",
		    (unsigned)rm.rtm_dst_len);
	out->dst_len = rm.rtm_dst_len;
	out->type = rm.rtm_type;
	out->table = rm.rtm_table;
	out->protocol = rm.rtm_protocol;
	out->scope = rm.rtm_scope;
	if (attrs_walk(body + NLMSG_ALIGN(sizeof rm),
		blen - MIN(blen, NLMSG_ALIGN(sizeof rm)), route_attr, &c,
		e) != 0)
		return -1;
	if (out->nexthops == 0)
		out->nexthops = out->oif != 0 ? 1 : 0;
	return 0;
}

static int
linkinfo_attr(
    void *arg, unsigned type, const uint8_t *data, size_t n, struct err *e)
{
	struct nl_link *l = arg;
	size_t k;

	(void)e;
	if (type != IFLA_INFO_KIND)
		return 0;
	/* A string attribute; the NUL is usually there but not promised. */
	k = strnlen((const char *)data, n);
	if (k >= sizeof l->kind)
		k = sizeof l->kind - 1;
	memcpy(l->kind, data, k);
	l->kind[k] = '\0';
	return 0;
}

static int
link_attr(
    void *arg, unsigned type, const uint8_t *data, size_t n, struct err *e)
{
	struct nl_link *l = arg;
	size_t k;

	switch (type) {
	case IFLA_IFNAME:
		k = strnlen((const char *)data, n);
		if (k == 0 || k >= sizeof l->name)
			return err_set(e,
			    "netlink: interface name of %zu "
			    "bytes",
			    k);
		memcpy(l->name, data, k);
		l->name[k] = '\0';
		break;
	case IFLA_MTU:
		if (want_len(type, n, 4, e) != 0)
			return -1;
		l->mtu = (int)MIN(load_u32(data), (uint32_t)INT32_MAX);
		break;
	case IFLA_LINKINFO:
		return attrs_walk(data, n, linkinfo_attr, l, e);
	default:
		break;
	}
	return 0;
}

int
nl_parse_link(const void *msg, size_t len, struct nl_link *out, struct err *e)
{
	struct ifinfomsg ifi;
	const uint8_t *body;
	size_t blen;

	memset(out, 0, sizeof *out);
	out->mtu = -1;
	if (msg_body(msg, len, sizeof ifi, &body, &blen, e) != 0)
		return -1;
	memcpy(&ifi, body, sizeof ifi);
	if (ifi.ifi_index <= 0)
		return err_set(e, "netlink: interface index %d", ifi.ifi_index);
	out->index = ifi.ifi_index;
	out->type = ifi.ifi_type;
	out->flags = ifi.ifi_flags;
	if (attrs_walk(body + NLMSG_ALIGN(sizeof ifi),
		blen - MIN(blen, NLMSG_ALIGN(sizeof ifi)), link_attr, out,
		e) != 0)
		return -1;
	if (out->name[0] == '\0')
		return err_set(
		    e, "netlink: interface %d without a name", out->index);
	return 0;
}

struct ack_ctx {
	char *kmsg;
	size_t kmsglen;
};

static int
ack_attr(void *arg, unsigned type, const uint8_t *data, size_t n, struct err *e)
{
	struct ack_ctx *c = arg;
	char raw[256];
	size_t k;

	(void)e;
	if (type != NLMSGERR_ATTR_MSG || c->kmsg == NULL)
		return 0;
	k = strnlen((const char *)data, n);
	if (k >= sizeof raw)
		k = sizeof raw - 1;
	memcpy(raw, data, k);
	raw[k] = '\0';
	str_printable(raw, c->kmsg, c->kmsglen);
	return 0;
}

/* An NLMSG_ERROR message: the errno, and the extended-ack text. */
static int
parse_error(const uint8_t *p, const struct nlmsghdr *h, int *kerr, char *kmsg,
    size_t kmsglen, struct err *e)
{
	struct ack_ctx c = {kmsg, kmsglen};
	struct nlmsgerr me;
	size_t off;

	if (h->nlmsg_len < NLMSG_SPACE(sizeof me))
		return err_set(e, "netlink: short error message (%u)",
		    (unsigned)h->nlmsg_len);
	memcpy(&me, p + NLMSG_HDRLEN, sizeof me);
	if (me.error > 0 || me.error < -4095)
		return err_set(e, "netlink: error code %d", me.error);
	*kerr = -me.error;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* TLVs follow the echoed request: its header only when capped. */
	off = NLMSG_HDRLEN + sizeof me;
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (me.msg.nlmsg_len < NLMSG_HDRLEN ||
		    me.msg.nlmsg_len > h->nlmsg_len)
			return err_set(e, "netlink: echoed request length %u",
			    (unsigned)me.msg.nlmsg_len);
		off += NLMSG_ALIGN(me.msg.nlmsg_len) - NLMSG_HDRLEN;
	}
	off = NLMSG_ALIGN(off);
	if (off >= h->nlmsg_len)
		return 0;
	return attrs_walk(p + off, h->nlmsg_len - off, ack_attr, &c, e);
}

int
nl_walk(const void *buf, size_t len, uint32_t seq, nl_msg_cb *cb, void *arg,
    int *kerr, char *kmsg, size_t kmsglen, struct err *e)
{
	const uint8_t *p = buf;
	struct nlmsghdr h;

	if (kmsg != NULL && kmsglen > 0)
		kmsg[0] = '\0';
	while (len > 0) {
		if (len < NLMSG_HDRLEN)
			return err_set(e, "netlink: %zu stray bytes", len);
		memcpy(&h, p, sizeof h);
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return err_set(e, "netlink: message length %u of %zu",
			    (unsigned)h.nlmsg_len, len);
		if (h.nlmsg_seq == seq) {
			if (h.nlmsg_type == NLMSG_ERROR)
				return parse_error(
					   p, &h, kerr, kmsg, kmsglen, e) == 0 ?
				    1 :
				    -1;
			if (h.nlmsg_type == NLMSG_DONE) {
				*kerr = 0;
				return 1;
			}
			if (h.nlmsg_type >= NLMSG_MIN_TYPE &&
			    cb(arg, h.nlmsg_type, p, h.nlmsg_len, e) != 0)
				return -1;
			/* A single (not multipart) reply is complete. */
			if (!(h.nlmsg_flags & NLM_F_MULTI) &&
			    h.nlmsg_type >= NLMSG_MIN_TYPE) {
				*kerr = 0;
				return 1;
			}
		}
		if (NLMSG_ALIGN(h.nlmsg_len) >= len)
			break;
		p += NLMSG_ALIGN(h.nlmsg_len);
		len -= NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

/* ---- the socket ------------------------------------------------------- */

int
nl_open(struct nl *nl, struct err *e)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof sa;
	struct timeval tv = {NL_RCV_TIMEOUT_S, 0};
	int one = 1;

	memset(nl, 0, sizeof *nl);
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return err_set(e, "netlink: socket: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &sl) != 0) {
		err_set(e, "netlink: bind: %s", strerror(errno));
		nl_close(nl);
		return -1;
	}
	nl->portid = sa.nl_pid;
	(void)setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	/* Best effort: older kernels lack them and still work. */
	(void)setsockopt(
	    nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	(void)setsockopt(
	    nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	nl->seq = (uint32_t)now_mono_us();
	return 0;
}

void
nl_close(struct nl *nl)
{
	if (nl->fd > 0)
		close(nl->fd);
	nl->fd = -1;
}

/*
 * Send r and read until the exchange ends. cb sees each data message.
 * Returns 0, or -1 with e = "netlink: WHAT: reason" and errno = the
 * kernel's error.
 */
static int
exchange(struct nl *nl, struct req *r, nl_msg_cb *cb, void *arg,
    const char *what, struct err *e)
{
	uint8_t rx[NL_RXBUF];
	struct sockaddr_nl sa;
	socklen_t sl;
	uint32_t seq = ++nl->seq;
	ssize_t k;
	int kerr = 0, rc;

	memcpy(r->buf + offsetof(struct nlmsghdr, nlmsg_seq), &seq, sizeof seq);
	nl->kmsg[0] = '\0';
	if (send(nl->fd, r->buf, r->len, 0) != (ssize_t)r->len) {
		rc = errno;
		err_set(e, "netlink: %s: send: %s", what, strerror(rc));
		errno = rc;
		return -1;
	}
	for (;;) {
		sl = sizeof sa;
		k = recvfrom(nl->fd, rx, sizeof rx, MSG_TRUNC,
		    (struct sockaddr *)&sa, &sl);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = errno == EAGAIN ? ETIMEDOUT : errno;
			err_set(
			    e, "netlink: %s: receive: %s", what, strerror(rc));
			errno = rc;
			return -1;
		}
		if ((size_t)k > sizeof rx) {
			err_set(
			    e, "netlink: %s: reply of %zd bytes cut", what, k);
			errno = EMSGSIZE;
			return -1;
		}
		/* Only the kernel (port 0) speaks for itself. */
		if (sl < sizeof sa || sa.nl_pid != 0)
			continue;
		rc = nl_walk(rx, (size_t)k, seq, cb, arg, &kerr, nl->kmsg,
		    sizeof nl->kmsg, e);
		if (rc < 0) {
			err_prefix(e, "%s", what);
			errno = EPROTO;
			return -1;
		}
		if (rc == 1)
			break;
	}
	if (kerr != 0) {
		if (nl->kmsg[0] != '\0')
			err_set(e, "netlink: %s: %s (%s)", what, strerror(kerr),
			    nl->kmsg);
		else
			err_set(e, "netlink: %s: %s", what, strerror(kerr));
		errno = kerr;
		return -1;
	}
	return 0;
}

static int
ignore_msg(void *arg, unsigned type, const void *msg, size_t len, struct err *e)
{
	(void)arg;
	(void)type;
	(void)msg;
	(void)len;
	(void)e;
	return 0;
}

static void
addr_text(const union net_addr *a, int plen, char *buf, size_t len)
{
	char ip[NET_ADDR_STRLEN];

	if (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6)
		net_addr_format_ip(a, ip, sizeof ip);
	else
		snprintf(ip, sizeof ip, "?");
	if (plen >= 0)
		snprintf(buf, len, "%s/%d", ip, plen);
	else
		snprintf(buf, len, "%s", ip);
}

/* ---- routes ----------------------------------------------------------- */

struct one_route {
	struct nl_route *out;
	int got;
};

static int
route_get_msg(
    void *arg, unsigned type, const void *msg, size_t len, struct err *e)
{
	struct one_route *c = arg;

	if (type != RTM_NEWROUTE || c->got)
		return 0;
	if (nl_parse_route(msg, len, c->out, e) != 0)
		return -1;
	c->got = 1;
	return 0;
}

int
nl_route_get(struct nl *nl, const union net_addr *dst, struct nl_route *out,
    struct err *e)
{
	struct one_route c = {out, 0};
	struct rtmsg *rm;
	struct req r;
	char what[NET_ADDR_STRLEN + 16], ip[NET_ADDR_STRLEN];
	const void *p;
	size_t n = addr_bytes(dst, &p);

	memset(out, 0, sizeof *out);
	out->metric = -1;
	if (n == 0)
		return err_set(e, "netlink: route get: not an IP address");
	net_addr_format_ip(dst, ip, sizeof ip);
	snprintf(what, sizeof what, "route get %s", ip);
	rm = req_init(&r, RTM_GETROUTE, 0, sizeof *rm);
	rm->rtm_family = (unsigned char)dst->sa.sa_family;
	rm->rtm_dst_len = (unsigned char)(n * 8);
	req_attr(&r, RTA_DST, p, n);
	if (exchange(nl, &r, route_get_msg, &c, what, e) != 0) {
		switch (errno) {
		case ENETUNREACH:
		case EHOSTUNREACH:
		case EACCES:
		case EINVAL:
			memset(out, 0, sizeof *out);
			out->metric = -1;
			out->family = dst->sa.sa_family;
			out->error = errno;
			return 1;
		default:
			return -1;
		}
	}
	if (!c.got)
		return err_set(e, "netlink: %s: no route in the reply", what);
	return 0;
}

struct dump_defaults {
	int family;
	struct nl_route *out;
	size_t max, n;
};

static int
default_msg(
    void *arg, unsigned type, const void *msg, size_t len, struct err *e)
{
	struct dump_defaults *c = arg;
	struct nl_route rt;

	if (type != RTM_NEWROUTE)
		return 0;
	if (nl_parse_route(msg, len, &rt, e) != 0)
		return -1;
	if (rt.family != c->family || rt.dst_len != 0 ||
	    rt.type != RTN_UNICAST || rt.table == RT_TABLE_LOCAL)
		return 0;
	if (c->n < c->max)
		c->out[c->n] = rt;
	c->n++;
	return 0;
}

int
nl_default_routes(struct nl *nl, int family, struct nl_route *out, size_t max,
    size_t *n, struct err *e)
{
	struct dump_defaults c = {family, out, max, 0};
	struct rtmsg *rm;
	struct req r;

	rm = req_init(&r, RTM_GETROUTE, NLM_F_DUMP, sizeof *rm);
	rm->rtm_family = (unsigned char)family;
	if (exchange(nl, &r, default_msg, &c,
		family == AF_INET6 ? "dump IPv6 routes" : "dump IPv4 routes",
		e) != 0)
		return -1;
	*n = c.n;
	return 0;
}

static int
route_change(struct nl *nl, const struct nl_route_spec *s, unsigned type,
    unsigned flags, struct err *e)
{
	struct rtmsg *rm;
	struct req r;
	char what[2 * NET_ADDR_STRLEN + 64], dst[NET_ADDR_STRLEN + 16];
	const void *p;
	size_t n;
	uint32_t table = s->table ? s->table : RT_TABLE_MAIN;
	int has_gw = s->gateway.sa.sa_family != AF_UNSPEC;

	if (s->family != AF_INET && s->family != AF_INET6)
		return err_set(e, "netlink: route: family %d", s->family);
	if (s->dst_len < 0 || s->dst_len > (s->family == AF_INET ? 32 : 128))
		return err_set(
		    e, "netlink: route: prefix length %d", s->dst_len);
	if (s->dst_len > 0)
		addr_text(&s->dst, s->dst_len, dst, sizeof dst);
	else
		snprintf(dst, sizeof dst, "default");
	snprintf(what, sizeof what, "route %s %s",
	    type == RTM_NEWROUTE ? "add" : "del", dst);
	rm = req_init(&r, type, flags | NLM_F_ACK, sizeof *rm);
	rm->rtm_family = (unsigned char)s->family;
	rm->rtm_dst_len = (unsigned char)s->dst_len;
	rm->rtm_table = (unsigned char)(table < 256 ? table : RT_TABLE_UNSPEC);
	if (type == RTM_NEWROUTE) {
		rm->rtm_protocol =
		    (unsigned char)(s->protocol ? s->protocol : RTPROT_STATIC);
		rm->rtm_type = (unsigned char)(s->type ? s->type : RTN_UNICAST);
		/* As ip(8) does: a unicast route with no gateway is on-link. */
		rm->rtm_scope = (rm->rtm_type == RTN_UNICAST && !has_gw) ?
		    RT_SCOPE_LINK :
		    RT_SCOPE_UNIVERSE;
	} else {
		rm->rtm_protocol = (unsigned char)s->protocol;
		rm->rtm_type = (unsigned char)s->type;
		rm->rtm_scope = RT_SCOPE_NOWHERE; /* match any scope */
	}
	if (table >= 256)
		req_u32(&r, RTA_TABLE, table);
	if (s->dst_len > 0) {
		n = addr_bytes(&s->dst, &p);
		if (n != (s->family == AF_INET ? 4u : 16u))
			return err_set(
			    e, "netlink: %s: destination family", what);
		req_attr(&r, RTA_DST, p, n);
	}
	if (has_gw) {
		if (s->gateway.sa.sa_family != s->family)
			return err_set(e, "netlink: %s: gateway family", what);
		req_addr(&r, RTA_GATEWAY, &s->gateway);
	}
	if (s->prefsrc.sa.sa_family != AF_UNSPEC)
		req_addr(&r, RTA_PREFSRC, &s->prefsrc);
	if (s->oif > 0)
		req_u32(&r, RTA_OIF, (uint32_t)s->oif);
	if (s->metric >= 0)
		req_u32(&r, RTA_PRIORITY, (uint32_t)s->metric);
	return exchange(nl, &r, ignore_msg, NULL, what, e);
}

int
nl_route_add(
    struct nl *nl, const struct nl_route_spec *r, int replace, struct err *e)
{
	return route_change(nl, r, RTM_NEWROUTE,
	    NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), e);
}

int
nl_route_del(struct nl *nl, const struct nl_route_spec *r, struct err *e)
{
	return route_change(nl, r, RTM_DELROUTE, 0, e);
}

/* ---- links and addresses ---------------------------------------------- */

struct one_link {
	struct nl_link *out;
	int got;
};

static int
link_msg(void *arg, unsigned type, const void *msg, size_t len, struct err *e)
{
	struct one_link *c = arg;

	if (type != RTM_NEWLINK || c->got)
		return 0;
	if (nl_parse_link(msg, len, c->out, e) != 0)
		return -1;
	c->got = 1;
	return 0;
}

static int
link_query(struct nl *nl, int index, const char *name, struct nl_link *out,
    struct err *e)
{
	struct one_link c = {out, 0};
	struct ifinfomsg *ifi;
	struct req r;
	char what[IF_NAMESIZE + 32];
	uint32_t mask = RTEXT_FILTER_SKIP_STATS;

	if (name != NULL && (name[0] == '\0' || strlen(name) >= IF_NAMESIZE))
		return err_set(e, "netlink: bad interface name");
	if (name != NULL)
		snprintf(what, sizeof what, "link %s", name);
	else
		snprintf(what, sizeof what, "link %d", index);
	ifi = req_init(&r, RTM_GETLINK, 0, sizeof *ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = name != NULL ? 0 : index;
	if (name != NULL)
		req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	req_u32(&r, IFLA_EXT_MASK, mask);
	if (exchange(nl, &r, link_msg, &c, what, e) != 0)
		return -1;
	if (!c.got) {
		errno = ENODEV;
		return err_set(e, "netlink: %s: no link in the reply", what);
	}
	return 0;
}

int
nl_link_get(struct nl *nl, int index, struct nl_link *out, struct err *e)
{
	if (index <= 0) {
		errno = ENODEV;
		return err_set(e, "netlink: interface index %d", index);
	}
	return link_query(nl, index, NULL, out, e);
}

int
nl_link_by_name(
    struct nl *nl, const char *name, struct nl_link *out, struct err *e)
{
	return link_query(nl, 0, name, out, e);
}

static int
link_set(struct nl *nl, int index, int up, int mtu, struct err *e)
{
	struct ifinfomsg *ifi;
	struct req r;
	char what[64];

	snprintf(what, sizeof what, "link %d set %s", index,
	    mtu > 0 ? "mtu" : (up ? "up" : "down"));
	ifi = req_init(&r, RTM_NEWLINK, NLM_F_ACK, sizeof *ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	if (mtu > 0)
		req_u32(&r, IFLA_MTU, (uint32_t)mtu);
	else {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	return exchange(nl, &r, ignore_msg, NULL, what, e);
}

int
nl_link_set_up(struct nl *nl, int index, int up, struct err *e)
{
	return link_set(nl, index, up, 0, e);
}

int
nl_link_set_mtu(struct nl *nl, int index, int mtu, struct err *e)
{
	if (mtu <= 0)
		return err_set(e, "netlink: MTU %d", mtu);
	return link_set(nl, index, 0, mtu, e);
}

static int
addr_change(struct nl *nl, unsigned type, int index, const union net_addr *addr,
    int plen, const union net_addr *peer, struct err *e)
{
	struct ifaddrmsg *ifa;
	struct req r;
	char what[NET_ADDR_STRLEN + 64], a[NET_ADDR_STRLEN + 16];
	int family = addr->sa.sa_family;
	const void *p;
	size_t n = addr_bytes(addr, &p);

	if (n == 0 || plen < 0 || (size_t)plen > n * 8)
		return err_set(e, "netlink: address: bad address or prefix");
	if (peer != NULL && peer->sa.sa_family != family)
		return err_set(e, "netlink: address: peer family");
	addr_text(addr, plen, a, sizeof a);
	snprintf(what, sizeof what, "address %s %s dev %d",
	    type == RTM_NEWADDR ? "add" : "del", a, index);
	ifa = req_init(&r, type,
	    NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0),
	    sizeof *ifa);
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = (unsigned)index;
	if (family == AF_INET6 && type == RTM_NEWADDR)
		ifa->ifa_flags = IFA_F_NODAD;
	req_attr(&r, IFA_LOCAL, p, n);
	/* Deleting matches IFA_ADDRESS against the peer: send it only when
	 * adding. */
	if (type == RTM_NEWADDR)
		req_addr(&r, IFA_ADDRESS, peer != NULL ? peer : addr);
	return exchange(nl, &r, ignore_msg, NULL, what, e);
}

int
nl_addr_add(struct nl *nl, int index, const union net_addr *addr, int plen,
    const union net_addr *peer, struct err *e)
{
	return addr_change(nl, RTM_NEWADDR, index, addr, plen, peer, e);
}

int
nl_addr_del(struct nl *nl, int index, const union net_addr *addr, int plen,
    struct err *e)
{
	return addr_change(nl, RTM_DELADDR, index, addr, plen, NULL, e);
}

/* ---- names ------------------------------------------------------------ */

const char *
nl_link_tunnel_why(const struct nl_link *l)
{
	static const struct {
		const char *kind, *why;
	} kinds[] = {
	    {"tun", "kind tun"},
	    {"wireguard", "kind wireguard"},
	    {"ipip", "kind ipip"},
	    {"sit", "kind sit"},
	    {"gre", "kind gre"},
	    {"gretap", "kind gretap"},
	    {"ip6gre", "kind ip6gre"},
	    {"ip6tnl", "kind ip6tnl"},
	    {"vti", "kind vti"},
	    {"vti6", "kind vti6"},
	    {"xfrm", "kind xfrm"},
	    {"ppp", "kind ppp"},
	};
	size_t i;

	if (l->type == ARPHRD_LOOPBACK || (l->flags & IFF_LOOPBACK))
		return NULL;
	for (i = 0; i < nitems(kinds); i++)
		if (strcmp(l->kind, kinds[i].kind) == 0)
			return kinds[i].why;
	switch (l->type) {
	case ARPHRD_NONE:
		return "layer-3 device (no link-layer header)";
	case ARPHRD_PPP:
		return "PPP link";
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_IPGRE:
	case ARPHRD_SIT:
	case ARPHRD_IP6GRE:
		return "IP tunnel device";
	default:
		break;
	}
	if (l->flags & IFF_POINTOPOINT)
		return "point-to-point";
	return NULL;
}

const char *
nl_route_type_name(int type)
{
	switch (type) {
	case RTN_UNICAST:
		return "unicast";
	case RTN_LOCAL:
		return "local";
	case RTN_BROADCAST:
		return "broadcast";
	case RTN_ANYCAST:
		return "anycast";
	case RTN_MULTICAST:
		return "multicast";
	case RTN_BLACKHOLE:
		return "blackhole";
	case RTN_UNREACHABLE:
		return "unreachable";
	case RTN_PROHIBIT:
		return "prohibit";
	case RTN_THROW:
		return "throw";
	case RTN_NAT:
		return "nat";
	default:
		return "unspec";
	}
}

const char *
nl_table_name(uint32_t table, char *buf, size_t len)
{
	switch (table) {
	case RT_TABLE_MAIN:
		return "main";
	case RT_TABLE_LOCAL:
		return "local";
	case RT_TABLE_DEFAULT:
		return "default";
	default:
		snprintf(buf, len, "%u", table);
		return buf;
	}
}

const char *
nl_link_type_name(unsigned type)
{
	switch (type) {
	case ARPHRD_ETHER:
		return "ether";
	case ARPHRD_LOOPBACK:
		return "loopback";
	case ARPHRD_NONE:
		return "none";
	case ARPHRD_PPP:
		return "ppp";
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
		return "tunnel";
	case ARPHRD_IPGRE:
	case ARPHRD_IP6GRE:
		return "gre";
	case ARPHRD_SIT:
		return "sit";
	case ARPHRD_IEEE80211:
	case ARPHRD_IEEE80211_RADIOTAP:
		return "wlan";
	default:
		return "other";
	}
}

const char *
nl_noroute_text(int error)
{
	switch (error) {
	case ENETUNREACH:
		return "no route (network unreachable)";
	case EHOSTUNREACH:
		return "an unreachable route";
	case EACCES:
		return "a prohibit route";
	case EINVAL:
		return "a blackhole route";
	default:
		return "no usable route";
	}
}
