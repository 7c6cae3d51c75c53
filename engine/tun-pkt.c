/* SPDX-License-Identifier: MIT */
/*
 * tun-pkt.c — the checks every packet from the TUN device passes before
 * anything else sees it, and the few packets we build ourselves: ICMP /
 * ICMPv6 unreachables and the UDP answers of the mapped DNS address.
 * Pure functions over byte buffers (no lwIP, no socket, no clock), so the
 * fuzz target reaches them directly.
 *
 * What is refused here never reaches lwIP: lwIP's own error paths abort
 * the process on some inputs (a packet to itself, for one, would be
 * looped back through a thread this build never starts), so addresses
 * that cannot be a peer (multicast, broadcast, loopback, unspecified,
 * this-network, IPv4-mapped, source equal to destination) are dropped
 * first. Fragments are dropped too: nothing we carry needs them (TCP
 * segments fit the MTU, DNS queries are small). IPv6 extension headers
 * are walked (hop-by-hop, routing, destination options); a fragment
 * header or no next header drops the packet.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/tun.h"

#define IP4_HDR 20
#define IP6_HDR 40
#define UDP_HDR 8
#define DNS_HDR 12

uint32_t
tun_pkt_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)be16_load(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t
tun_pkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of RFC 768 / RFC 8200 section 8.1. */
static uint32_t
pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
    size_t l4len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t s = 0;

	s = tun_pkt_sum(s, src, alen);
	s = tun_pkt_sum(s, dst, alen);
	s += proto;
	s += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	return s;
}

static int
l4_sum_ok(const struct tun_pkt *p)
{
	uint32_t s = pseudo_sum(p->family, p->src, p->dst, p->proto, p->l4_len);

	return tun_pkt_fold(tun_pkt_sum(s, p->l4, p->l4_len)) == 0;
}

static int
v4_martian(const uint8_t *a, int is_src)
{
	uint32_t v = be32_load(a);

	if ((v >> 24) == 0 || (v >> 24) == 127) /* this network, loopback */
		return 1;
	if ((v >> 28) == 14 || v == 0xffffffffu) /* multicast, broadcast */
		return 1;
	if (is_src && (v >> 28) == 15) /* class E as a source */
		return 1;
	return 0;
}

static int
v6_martian(const uint8_t *a)
{
	if (a[0] == 0xff) /* multicast */
		return 1;
	/* ::/8 holds unspecified, loopback, IPv4-compatible and
	 * IPv4-mapped addresses: none is a peer on the wire (RFC 4291). */
	return a[0] == 0;
}

static enum tun_pkt_kind
drop(enum tun_drop *why, enum tun_drop d)
{
	*why = d;
	return TUN_PKT_DROP;
}

static int
is_dns(const struct tun_pkt *p, const union net_addr *d)
{
	if (d == NULL || p->dport != 53)
		return 0;
	if (p->family == AF_INET && d->sa.sa_family == AF_INET)
		return memcmp(p->dst, &d->in.sin_addr, 4) == 0;
	if (p->family == AF_INET6 && d->sa.sa_family == AF_INET6)
		return memcmp(p->dst, &d->in6.sin6_addr, 16) == 0;
	return 0;
}

/* Transport checks shared by both families. */
static enum tun_pkt_kind
l4(struct tun_pkt *p, const union net_addr *dns, enum tun_drop *why)
{
	const uint8_t *h = p->l4;
	size_t off;

	switch (p->proto) {
	case IPPROTO_TCP:
		if (p->l4_len < 20)
			return drop(why, TUN_DROP_MALFORMED);
		off = (size_t)(h[12] >> 4) * 4;
		if (off < 20 || off > p->l4_len)
			return drop(why, TUN_DROP_MALFORMED);
		p->sport = be16_load(h);
		p->dport = be16_load(h + 2);
		p->tcp_flags = h[13];
		if (p->sport == 0 || p->dport == 0)
			return drop(why, TUN_DROP_MALFORMED);
		if (!l4_sum_ok(p))
			return drop(why, TUN_DROP_CHECKSUM);
		return TUN_PKT_TCP;
	case IPPROTO_UDP:
		if (p->l4_len < UDP_HDR || be16_load(h + 4) != p->l4_len)
			return drop(why, TUN_DROP_MALFORMED);
		p->sport = be16_load(h);
		p->dport = be16_load(h + 2);
		if (p->sport == 0 || p->dport == 0)
			return drop(why, TUN_DROP_MALFORMED);
		/* A zero UDP checksum means "none" in IPv4 only. */
		if ((p->family == AF_INET6 || be16_load(h + 6) != 0) &&
		    !l4_sum_ok(p))
			return drop(why, TUN_DROP_CHECKSUM);
		return is_dns(p, dns) ? TUN_PKT_DNS : TUN_PKT_UDP;
	case IPPROTO_ICMP:
		if (p->family != AF_INET || p->l4_len < 8)
			return drop(why, TUN_DROP_MALFORMED);
		if (tun_pkt_fold(tun_pkt_sum(0, h, p->l4_len)) != 0)
			return drop(why, TUN_DROP_CHECKSUM);
		/* Never answer an ICMP error with one (RFC 1122 3.2.2). */
		return h[0] == 8 ? TUN_PKT_ECHO : drop(why, TUN_DROP_ICMP);
	case IPPROTO_ICMPV6:
		if (p->family != AF_INET6 || p->l4_len < 8)
			return drop(why, TUN_DROP_MALFORMED);
		if (!l4_sum_ok(p))
			return drop(why, TUN_DROP_CHECKSUM);
		return h[0] == 128 ? TUN_PKT_ECHO : drop(why, TUN_DROP_ICMP);
	default:
		return TUN_PKT_PROTO;
	}
}

static enum tun_pkt_kind
parse4(const uint8_t *b, size_t len, const union net_addr *dns,
    struct tun_pkt *p, enum tun_drop *why)
{
	size_t ihl, tot;

	if (len < IP4_HDR)
		return drop(why, TUN_DROP_MALFORMED);
	ihl = (size_t)(b[0] & 0x0f) * 4;
	tot = be16_load(b + 2);
	if (ihl < IP4_HDR || ihl > len || tot != len)
		return drop(why, TUN_DROP_MALFORMED);
	if (tun_pkt_fold(tun_pkt_sum(0, b, ihl)) != 0)
		return drop(why, TUN_DROP_CHECKSUM);
	/* MF set or an offset: a fragment. */
	if ((be16_load(b + 6) & 0x3fff) != 0)
		return drop(why, TUN_DROP_FRAGMENT);
	p->family = AF_INET;
	p->proto = b[9];
	memcpy(p->src, b + 12, 4);
	memcpy(p->dst, b + 16, 4);
	if (v4_martian(p->src, 1))
		return drop(why, TUN_DROP_MARTIAN);
	/* The host's own IGMP and broadcasts: normal, not bad packets. */
	if ((p->dst[0] >> 4) == 14 || be32_load(p->dst) == 0xffffffffu)
		return drop(why, TUN_DROP_MULTICAST);
	if (v4_martian(p->dst, 0) || memcmp(p->src, p->dst, 4) == 0)
		return drop(why, TUN_DROP_MARTIAN);
	p->nh_off = 9;
	p->l4 = b + ihl;
	p->l4_len = len - ihl;
	return l4(p, dns, why);
}

static enum tun_pkt_kind
parse6(const uint8_t *b, size_t len, const union net_addr *dns,
    struct tun_pkt *p, enum tun_drop *why)
{
	size_t off = IP6_HDR, nh_off = 6, hl;
	uint8_t nh;
	int hops = 0;

	if (len < IP6_HDR || (size_t)be16_load(b + 4) + IP6_HDR != len)
		return drop(why, TUN_DROP_MALFORMED);
	p->family = AF_INET6;
	memcpy(p->src, b + 8, 16);
	memcpy(p->dst, b + 24, 16);
	if (v6_martian(p->src))
		return drop(why, TUN_DROP_MARTIAN);
	/* The host's own MLD reports and router solicitations. */
	if (p->dst[0] == 0xff)
		return drop(why, TUN_DROP_MULTICAST);
	if (v6_martian(p->dst) || memcmp(p->src, p->dst, 16) == 0)
		return drop(why, TUN_DROP_MARTIAN);
	nh = b[6];
	for (;;) {
		if (nh == 0 || nh == 43 || nh == 60) {
			/* hop-by-hop, routing, destination options */
			if (off + 8 > len || ++hops > 8)
				return drop(why, TUN_DROP_MALFORMED);
			/* Hop-by-hop only right after the fixed header. */
			if (nh == 0 && off != IP6_HDR)
				return drop(why, TUN_DROP_MALFORMED);
			hl = ((size_t)b[off + 1] + 1) * 8;
			if (off + hl > len)
				return drop(why, TUN_DROP_MALFORMED);
			nh_off = off;
			nh = b[off];
			off += hl;
			continue;
		}
		if (nh == 44)
			return drop(why, TUN_DROP_FRAGMENT);
		if (nh == 59)
			return drop(why, TUN_DROP_MALFORMED);
		break;
	}
	p->proto = nh;
	p->nh_off = nh_off;
	p->l4 = b + off;
	p->l4_len = len - off;
	return l4(p, dns, why);
}

enum tun_pkt_kind
tun_pkt_parse(const uint8_t *pkt, size_t len, size_t mtu,
    const union net_addr *dns4, const union net_addr *dns6, struct tun_pkt *p,
    enum tun_drop *why)
{
	memset(p, 0, sizeof *p);
	*why = TUN_DROP_MAX;
	if (len > mtu)
		return drop(why, TUN_DROP_OVERSIZE);
	if (len < 1)
		return drop(why, TUN_DROP_MALFORMED);
	p->ip = pkt;
	p->ip_len = len;
	switch (pkt[0] >> 4) {
	case 4:
		return parse4(pkt, len, dns4, p, why);
	case 6:
		return parse6(pkt, len, dns6, p, why);
	default:
		return drop(why, TUN_DROP_MALFORMED);
	}
}

/* An IP header from p's destination to its source around l4len bytes. */
static size_t
ip_header(const struct tun_pkt *p, uint8_t proto, size_t l4len, uint8_t *out)
{
	if (p->family == AF_INET) {
		memset(out, 0, IP4_HDR);
		out[0] = 0x45;
		be16_store(out + 2, (uint16_t)(IP4_HDR + l4len));
		be16_store(out + 6, 0x4000); /* DF */
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, p->dst, 4);
		memcpy(out + 16, p->src, 4);
		be16_store(
		    out + 10, tun_pkt_fold(tun_pkt_sum(0, out, IP4_HDR)));
		return IP4_HDR;
	}
	memset(out, 0, IP6_HDR);
	out[0] = 0x60;
	be16_store(out + 4, (uint16_t)l4len);
	out[6] = proto;
	out[7] = 64;
	memcpy(out + 8, p->dst, 16);
	memcpy(out + 24, p->src, 16);
	return IP6_HDR;
}

size_t
tun_pkt_unreach(const struct tun_pkt *p, enum tun_pkt_kind kind, size_t mtu,
    uint8_t *out, size_t cap)
{
	uint8_t type, code, proto;
	size_t hl, quote, max, l4len;
	uint32_t s;
	uint8_t *ic;

	if (p->family == AF_INET) {
		hl = IP4_HDR;
		proto = IPPROTO_ICMP;
		type = 3;
		/* RFC 792 asks for the header and 8 bytes; RFC 1812 4.3.2.3
		 * allows up to 576 bytes in all. */
		max = 576;
		if (kind == TUN_PKT_UDP)
			code = 3; /* port unreachable */
		else if (kind == TUN_PKT_ECHO)
			code = 1; /* host unreachable */
		else if (kind == TUN_PKT_PROTO)
			code = 2; /* protocol unreachable */
		else
			return 0;
	} else {
		hl = IP6_HDR;
		proto = IPPROTO_ICMPV6;
		max = 1280; /* RFC 4443 2.4 (c) */
		if (kind == TUN_PKT_UDP) {
			type = 1;
			code = 4; /* port unreachable */
		} else if (kind == TUN_PKT_ECHO) {
			type = 1;
			code = 3; /* address unreachable */
		} else if (kind == TUN_PKT_PROTO) {
			type = 4;
			code = 1; /* unrecognized next header */
		} else
			return 0;
	}
	max = MIN(max, MIN(mtu, cap));
	if (max < hl + 8)
		return 0;
	quote = MIN(p->ip_len, max - hl - 8);
	l4len = 8 + quote;
	ic = out + ip_header(p, proto, l4len, out);
	memset(ic, 0, 8);
	ic[0] = type;
	ic[1] = code;
	if (type == 4) /* the pointer: the offending next-header byte */
		be32_store(ic + 4, (uint32_t)p->nh_off);
	memcpy(ic + 8, p->ip, quote);
	s = p->family == AF_INET ?
	    0 :
	    pseudo_sum(AF_INET6, out + 8, out + 24, IPPROTO_ICMPV6, l4len);
	be16_store(ic + 2, tun_pkt_fold(tun_pkt_sum(s, ic, l4len)));
	return hl + l4len;
}

/* Length of header + question of a DNS message, or 0 when the question
 * does not parse (then only the header is kept). */
static size_t
question_end(const uint8_t *m, size_t len)
{
	size_t off = DNS_HDR, l;

	if (be16_load(m + 4) != 1)
		return 0;
	for (;;) {
		if (off >= len)
			return 0;
		l = m[off];
		if (l == 0) {
			off++;
			break;
		}
		if (l > 63) /* no compression in a question we echo */
			return 0;
		off += 1 + l;
	}
	return off + 4 <= len ? off + 4 : 0;
}

size_t
tun_pkt_udp_answer(const struct tun_pkt *p, const uint8_t *msg, size_t len,
    size_t mtu, uint8_t *out, size_t cap, int *truncated)
{
	size_t hl = p->family == AF_INET ? IP4_HDR : IP6_HDR;
	size_t room = MIN(mtu, cap), ul, qe;
	uint8_t *u, *d;
	uint32_t s;

	*truncated = 0;
	if (len < DNS_HDR || room < hl + UDP_HDR + DNS_HDR)
		return 0;
	if (hl + UDP_HDR + len > room) {
		qe = question_end(msg, len);
		if (qe == 0 || hl + UDP_HDR + qe > room)
			qe = DNS_HDR;
		len = qe;
		*truncated = 1;
	}
	ul = UDP_HDR + len;
	u = out + ip_header(p, IPPROTO_UDP, ul, out);
	be16_store(u, p->dport);
	be16_store(u + 2, p->sport);
	be16_store(u + 4, (uint16_t)ul);
	be16_store(u + 6, 0);
	d = u + UDP_HDR;
	memcpy(d, msg, len);
	if (*truncated) {
		d[2] |= 0x02; /* TC */
		if (len == DNS_HDR)
			be16_store(d + 4, 0);
		memset(d + 6, 0, 6); /* no answer, authority, additional */
	}
	s = pseudo_sum(p->family, p->dst, p->src, IPPROTO_UDP, ul);
	s = tun_pkt_fold(tun_pkt_sum(s, u, ul));
	be16_store(u + 6, s == 0 ? 0xffff : (uint16_t)s);
	return hl + ul;
}
