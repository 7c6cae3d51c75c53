/* SPDX-License-Identifier: MIT */
/*
 * test-tun.c — the TUN glue without a device: packet checks and the
 * packets we build (tun-pkt.c), then lwIP behind tun_attach on a datagram
 * socket pair playing the kernel: a TCP handshake, data both ways, the
 * application's half-close and ours, a reset, the flow limit, the DNS
 * path with its late and busy cases. Every packet we receive back is
 * checked by the same parser (so its checksums are verified too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "engine/tun.h"
#include "tests/tap.h"

static const uint8_t APP4[4] = {198, 18, 0, 1}, DST4[4] = {10, 71, 0, 1};
static const uint8_t DNS4[4] = {198, 18, 0, 2};
static uint8_t APP6[16], DST6[16];

/* An IPv4 or IPv6 packet around an L4 payload, checksums right. */
static size_t
mk(uint8_t *out, int fam, const uint8_t *src, const uint8_t *dst, uint8_t proto,
    const uint8_t *l4, size_t l4len)
{
	size_t hl = fam == 4 ? 20 : 40, ck = 0;
	uint32_t s;
	uint8_t *p = out + hl;

	memset(out, 0, hl);
	if (fam == 4) {
		out[0] = 0x45;
		be16_store(out + 2, (uint16_t)(hl + l4len));
		be16_store(out + 6, 0x4000);
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		be16_store(out + 10, tun_pkt_fold(tun_pkt_sum(0, out, 20)));
	} else {
		out[0] = 0x60;
		be16_store(out + 4, (uint16_t)l4len);
		out[6] = proto;
		out[7] = 64;
		memcpy(out + 8, src, 16);
		memcpy(out + 24, dst, 16);
	}
	memcpy(p, l4, l4len);
	if (proto == IPPROTO_TCP)
		ck = 16;
	else if (proto == IPPROTO_UDP)
		ck = 6;
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		ck = 2;
	else
		return hl + l4len; /* no checksum we know of */
	be16_store(p + ck, 0);
	s = 0;
	if (proto != IPPROTO_ICMP) {
		s = tun_pkt_sum(0, src, fam == 4 ? 4 : 16);
		s = tun_pkt_sum(s, dst, fam == 4 ? 4 : 16);
		s += proto + (uint32_t)l4len;
	}
	be16_store(p + ck, tun_pkt_fold(tun_pkt_sum(s, p, l4len)));
	return hl + l4len;
}

static size_t
tcp(uint8_t *out, int fam, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, const char *data)
{
	uint8_t h[1500];
	size_t n = data ? strlen(data) : 0;

	memset(h, 0, 20);
	be16_store(h, sport);
	be16_store(h + 2, dport);
	be32_store(h + 4, seq);
	be32_store(h + 8, ack);
	h[12] = 5 << 4;
	h[13] = flags;
	be16_store(h + 14, 65535);
	if (n > 0)
		memcpy(h + 20, data, n);
	return mk(out, fam, fam == 4 ? APP4 : APP6, fam == 4 ? DST4 : DST6,
	    IPPROTO_TCP, h, 20 + n);
}

static size_t
udp(uint8_t *out, int fam, const uint8_t *dst, uint16_t dport,
    const uint8_t *data, size_t n)
{
	uint8_t h[1500];

	be16_store(h, 5353);
	be16_store(h + 2, dport);
	be16_store(h + 4, (uint16_t)(8 + n));
	memcpy(h + 8, data, n);
	return mk(out, fam, fam == 4 ? APP4 : APP6, dst, IPPROTO_UDP, h, 8 + n);
}

static union net_addr dns4, dns6;

static enum tun_pkt_kind
kind(const uint8_t *p, size_t n, enum tun_drop *why)
{
	struct tun_pkt pk;

	return tun_pkt_parse(p, n, 1500, &dns4, &dns6, &pk, why);
}

static void
test_parse(void)
{
	static const uint8_t lo[4] = {127, 0, 0, 1}, mc[4] = {224, 0, 0, 1};
	uint8_t p[2000], icmp[12] = {8, 0, 0, 0, 0, 1, 0, 1, 'a', 'b'};
	uint8_t q[40] = {0x12, 0x34, 1, 0, 0, 1};
	enum tun_drop why;
	size_t n;

	n = tcp(p, 4, 40000, 80, 1, 0, 0x02, NULL);
	tap_is_int(kind(p, n, &why), TUN_PKT_TCP, "IPv4 SYN: TCP");
	n = tcp(p, 6, 40000, 80, 1, 0, 0x02, NULL);
	tap_is_int(kind(p, n, &why), TUN_PKT_TCP, "IPv6 SYN: TCP");
	n = udp(p, 4, DNS4, 53, q, 30);
	tap_is_int(kind(p, n, &why), TUN_PKT_DNS, "UDP to 198.18.0.2:53: DNS");
	n = udp(p, 4, DNS4, 54, q, 30);
	tap_is_int(kind(p, n, &why), TUN_PKT_UDP, "... port 54: other UDP");
	n = udp(p, 4, DST4, 53, q, 30);
	tap_is_int(kind(p, n, &why), TUN_PKT_UDP, "port 53 elsewhere: other");
	n = udp(p, 6, (const uint8_t *)&dns6.in6.sin6_addr, 53, q, 30);
	tap_is_int(kind(p, n, &why), TUN_PKT_DNS, "IPv6 DNS");
	n = mk(p, 4, APP4, DST4, IPPROTO_ICMP, icmp, sizeof icmp);
	tap_is_int(kind(p, n, &why), TUN_PKT_ECHO, "ICMP echo");
	icmp[0] = 3;
	n = mk(p, 4, APP4, DST4, IPPROTO_ICMP, icmp, sizeof icmp);
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_ICMP,
	    "an ICMP error is dropped, never answered");
	n = mk(p, 4, APP4, DST4, 47, icmp, sizeof icmp);
	tap_is_int(kind(p, n, &why), TUN_PKT_PROTO, "GRE: other protocol");

	n = tcp(p, 4, 40000, 80, 1, 0, 0x02, NULL);
	p[30] ^= 1; /* in the TCP header */
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_CHECKSUM,
	    "TCP checksum");
	n = tcp(p, 4, 40000, 80, 1, 0, 0x02, NULL);
	p[8] = 1; /* TTL: header checksum now wrong */
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_CHECKSUM,
	    "IPv4 header checksum");
	n = tcp(p, 4, 40000, 80, 1, 0, 0x02, NULL);
	tap_ok(
	    kind(p, n - 1, &why) == TUN_PKT_DROP && why == TUN_DROP_MALFORMED,
	    "length shorter than the header says: malformed");
	tap_ok(kind(p, 1501, &why) == TUN_PKT_DROP && why == TUN_DROP_OVERSIZE,
	    "longer than the MTU: oversize");
	tap_ok(kind(p, 0, &why) == TUN_PKT_DROP, "empty: dropped");
	n = mk(p, 4, lo, DST4, IPPROTO_ICMP, icmp, sizeof icmp);
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_MARTIAN,
	    "loopback source: martian");
	n = mk(p, 4, APP4, mc, IPPROTO_ICMP, icmp, sizeof icmp);
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_MULTICAST,
	    "multicast destination: multicast (the host's own IGMP, not bad)");
	n = mk(p, 4, APP4, APP4, IPPROTO_ICMP, icmp, sizeof icmp);
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_MARTIAN,
	    "source = destination: martian (lwIP would loop it)");
	n = tcp(p, 4, 40000, 80, 1, 0, 0x02, NULL);
	be16_store(p + 6, 0x2000);
	be16_store(p + 10, 0);
	be16_store(p + 10, tun_pkt_fold(tun_pkt_sum(0, p, 20)));
	tap_ok(kind(p, n, &why) == TUN_PKT_DROP && why == TUN_DROP_FRAGMENT,
	    "IPv4 fragment");
	/* IPv6 with a destination-options header before TCP */
	{
		uint8_t l4[100], t[60];
		size_t tn = tcp(t, 6, 1, 2, 3, 0, 0x02, NULL) - 40;

		memset(l4, 0, 8);
		l4[0] = IPPROTO_TCP; /* next header */
		l4[1] = 0;	     /* 8 bytes */
		memcpy(l4 + 8, t + 40, tn);
		n = mk(p, 6, APP6, DST6, 60, l4, 8 + tn);
		tap_is_int(kind(p, n, &why), TUN_PKT_TCP,
		    "IPv6 destination options, then TCP");
		p[40] = 44;
		tap_ok(kind(p, n, &why) == TUN_PKT_DROP &&
			why == TUN_DROP_FRAGMENT,
		    "IPv6 fragment header");
		p[41] = 200; /* longer than the packet */
		p[40] = IPPROTO_TCP;
		tap_ok(kind(p, n, &why) == TUN_PKT_DROP &&
			why == TUN_DROP_MALFORMED,
		    "IPv6 extension header past the end");
	}
}

static void
test_build(void)
{
	uint8_t p[2000], out[1500], big[3000], q[40] = {0x12, 0x34, 1, 0, 0, 1};
	struct tun_pkt pk, back;
	enum tun_drop why;
	size_t n, m;
	int tr;

	/* a query: header + fixture.test A IN */
	memcpy(q + 12, "\7fixture\4test\0\0\1\0\1", 18);
	n = udp(p, 4, DST4, 9, q, 30);
	(void)tun_pkt_parse(p, n, 1500, &dns4, &dns6, &pk, &why);
	m = tun_pkt_unreach(&pk, TUN_PKT_UDP, 1500, out, sizeof out);
	tap_ok(m == 20 + 8 + n, "port unreachable quotes the whole datagram");
	tap_ok(out[20] == 3 && out[21] == 3, "... ICMP type 3 code 3");
	tap_ok(tun_pkt_fold(tun_pkt_sum(0, out + 20, m - 20)) == 0 &&
		tun_pkt_fold(tun_pkt_sum(0, out, 20)) == 0,
	    "... checksums right");
	tap_ok(memcmp(out + 12, DST4, 4) == 0 && memcmp(out + 16, APP4, 4) == 0,
	    "... from the destination to the application");
	n = udp(p, 6, DST6, 9, q, 30);
	(void)tun_pkt_parse(p, n, 1500, &dns4, &dns6, &pk, &why);
	m = tun_pkt_unreach(&pk, TUN_PKT_UDP, 1500, out, sizeof out);
	tap_ok(m > 48 && out[40] == 1 && out[41] == 4 &&
		tun_pkt_parse(out, m, 1500, &dns4, &dns6, &back, &why) ==
		    TUN_PKT_DROP &&
		why == TUN_DROP_ICMP,
	    "ICMPv6 port unreachable, its checksum right (parsed back)");
	memset(big, 0, sizeof big);
	n = udp(p, 6, DST6, 9, big, 1400);
	(void)tun_pkt_parse(p, n, 1500, &dns4, &dns6, &pk, &why);
	m = tun_pkt_unreach(&pk, TUN_PKT_UDP, 1500, out, sizeof out);
	tap_is_int(m, 1280, "ICMPv6 error capped at 1280 bytes");

	/* DNS answers */
	n = udp(p, 4, DNS4, 53, q, 30);
	(void)tun_pkt_parse(p, n, 1500, &dns4, &dns6, &pk, &why);
	m = tun_pkt_udp_answer(&pk, q, 30, 1500, out, sizeof out, &tr);
	tap_ok(m == 58 && !tr, "an answer: IP + UDP + message");
	tap_is_int(tun_pkt_parse(out, m, 1500, &dns4, &dns6, &back, &why),
	    TUN_PKT_UDP, "... parses back with its checksum right");
	tap_ok(back.sport == 53 && back.dport == 5353,
	    "... from port 53 to the application's port");
	memcpy(big, q, 30);
	be16_store(big + 6, 3);
	m = tun_pkt_udp_answer(&pk, big, 2000, 1500, out, sizeof out, &tr);
	tap_ok(tr && m == 20 + 8 + 30, "too long: cut to header + question");
	tap_ok((out[28 + 2] & 0x02) && be16_load(out + 28 + 4) == 1 &&
		be16_load(out + 28 + 6) == 0,
	    "... TC set, one question, no answers");
	tap_is_int(tun_pkt_parse(out, m, 1500, &dns4, &dns6, &back, &why),
	    TUN_PKT_UDP, "... checksum right");
	tap_is_int(tun_pkt_udp_answer(&pk, q, 5, 1500, out, sizeof out, &tr), 0,
	    "shorter than a DNS header: nothing");
}

/* ---- the stack on a socket pair ---- */

static struct tun *T;
static int S; /* the "kernel" end */
static struct tun_flow *F;
static union net_addr Fdst;
static uint8_t rxd[4096];
static size_t nrx;
static int eof_seen, refuse;
static uint64_t qids[8];
static size_t nq;

static void
fio(struct tun_flow *f, int events, void *arg)
{
	ssize_t r;

	(void)arg;
	(void)events;
	while ((r = tun_flow_recv(f, rxd + nrx, sizeof rxd - nrx)) > 0)
		nrx += (size_t)r;
	if (r == 0)
		eof_seen = 1;
	else if (errno != EAGAIN)
		eof_seen = -errno;
}

static int
fopen_(void *arg, struct tun_flow *f, const union net_addr *src,
    const union net_addr *dst)
{
	(void)arg;
	(void)src;
	if (refuse)
		return -1;
	F = f;
	Fdst = *dst;
	tun_flow_set_io(f, EV_READ, fio, NULL);
	return 0;
}

static int
dq(void *arg, uint64_t qid, const uint8_t *m, size_t n)
{
	(void)arg;
	(void)m;
	(void)n;
	if (nq < nitems(qids))
		qids[nq++] = qid;
	return 0;
}

static void
spin(struct ev_loop *loop)
{
	int i;

	for (i = 0; i < 5; i++)
		(void)ev_run_once(loop, 5);
}

/* The next TCP segment the stack wrote (0 when none). */
static size_t
next_tcp(uint8_t *b, struct tun_pkt *pk)
{
	enum tun_drop why;
	ssize_t r;

	while ((r = recv(S, b, 65535, 0)) > 0)
		if (tun_pkt_parse(b, (size_t)r, 1500, &dns4, &dns6, pk, &why) ==
		    TUN_PKT_TCP)
			return (size_t)r;
	return 0;
}

/* SYN, the stack's SYN-ACK, our ACK (IPv4, sequence 7): the ISS. */
static uint32_t
handshake(struct ev_loop *loop, uint16_t sport, uint16_t dport)
{
	uint8_t p[2000], b[65536];
	struct tun_pkt pk;
	uint32_t iss = 0;
	size_t n;

	n = tcp(p, 4, sport, dport, 7, 0, 0x02, NULL);
	tun_input(T, p, n);
	while (next_tcp(b, &pk) > 0)
		if ((pk.tcp_flags & 0x12) == 0x12 && pk.dport == sport)
			iss = be32_load(pk.l4 + 4);
	n = tcp(p, 4, sport, dport, 8, iss + 1, 0x10, NULL);
	tun_input(T, p, n);
	spin(loop);
	return iss;
}

static void
test_stack(struct ev_loop *loop, int fam)
{
	uint8_t p[2000], b[65536];
	struct tun_pkt pk;
	uint32_t iss, ack;
	size_t n;
	uint16_t sp = (uint16_t)(41000 + fam);

	F = NULL;
	nrx = 0;
	eof_seen = 0;
	n = tcp(p, fam, sp, 8080, 1000, 0, 0x02, NULL);
	tun_input(T, p, n);
	n = next_tcp(b, &pk);
	tap_ok(n > 0 && (pk.tcp_flags & 0x12) == 0x12 && pk.sport == 8080,
	    "IPv%d: SYN-ACK from the destination's port", fam);
	tap_ok(memcmp(pk.src, fam == 4 ? DST4 : DST6, fam == 4 ? 4 : 16) == 0,
	    "... from the destination address the application asked for");
	iss = be32_load(pk.l4 + 4);
	tap_is_int(be32_load(pk.l4 + 8), 1001, "... acknowledging our SYN");
	n = tcp(p, fam, sp, 8080, 1001, iss + 1, 0x10, NULL);
	tun_input(T, p, n);
	spin(loop);
	tap_ok(F != NULL, "handshake done: the sink got the flow");
	tap_ok(F != NULL && net_addr_port(&Fdst) == 8080 &&
		Fdst.sa.sa_family == (fam == 4 ? AF_INET : AF_INET6),
	    "... with the destination port and family");
	n = tcp(p, fam, sp, 8080, 1001, iss + 1, 0x18, "hello tunnel");
	tun_input(T, p, n);
	spin(loop);
	tap_ok(nrx == 12 && memcmp(rxd, "hello tunnel", 12) == 0,
	    "data from the application reaches the sink");
	tap_ok(tun_flow_send(F, "pong", 4) == 4, "the sink sends 4 bytes");
	n = next_tcp(b, &pk);
	while (n > 0 && pk.l4_len == 20) /* a pure ACK first */
		n = next_tcp(b, &pk);
	tap_ok(n > 0 && pk.l4_len == 24 && memcmp(pk.l4 + 20, "pong", 4) == 0,
	    "... they reach the application");
	ack = be32_load(pk.l4 + 4) + 4;
	n = tcp(p, fam, sp, 8080, 1013, ack, 0x11, NULL); /* FIN */
	tun_input(T, p, n);
	spin(loop);
	tap_is_int(eof_seen, 1, "the application's FIN: recv returns 0");
	tap_ok(
	    tun_flow_send(F, "more", 4) == 4, "half-closed: we may still send");
	tap_is_int(tun_flow_shutdown_wr(F), 0, "our FIN");
	tap_ok(tun_flow_send(F, "x", 1) == -1 && errno == EPIPE,
	    "send after shutdown: EPIPE");
	tun_flow_close(F);
	spin(loop);
	while (next_tcp(b, &pk) > 0)
		;
}

static void
test_reset_and_limits(struct ev_loop *loop)
{
	uint8_t p[2000], b[65536];
	struct tun_pkt pk;
	uint32_t iss;
	size_t n;
	const struct tun_stats *st = tun_get_stats(T);
	uint64_t resets = st->flows_reset, refused = st->flows_refused;

	F = NULL;
	eof_seen = 0;
	iss = handshake(loop, 42000, 80);
	n = tcp(p, 4, 42000, 80, 8, iss + 1, 0x04, NULL); /* RST */
	tun_input(T, p, n);
	spin(loop);
	tap_is_int(eof_seen, -ECONNRESET, "the application's RST: ECONNRESET");
	tap_is_int(st->flows_reset, resets + 1, "... counted");
	tun_flow_close(F);
	refuse = 1;
	(void)handshake(loop, 42001, 80);
	n = next_tcp(b, &pk);
	tap_ok(n > 0 && (pk.tcp_flags & 0x04), "the sink refuses: RST");
	tap_is_int(st->flows_refused, refused + 1, "... counted");
	refuse = 0;
	tap_is_int(st->flows_open, 0, "no flow open");
	/* a segment for no connection: RST */
	n = tcp(p, 4, 42002, 81, 7, 9, 0x10, NULL);
	tun_input(T, p, n);
	n = next_tcp(b, &pk);
	tap_ok(n > 0 && (pk.tcp_flags & 0x04), "a stray segment gets a RST");
}

static void
test_dns(struct ev_loop *loop)
{
	uint8_t p[2000], b[65536], q[30] = {0xab, 0xcd, 1, 0, 0, 1};
	const struct tun_stats *st = tun_get_stats(T);
	struct tun_pkt pk;
	enum tun_drop why;
	ssize_t r;
	size_t n, i;

	(void)loop;
	memcpy(q + 12, "\7fixture\4test\0\0\1\0\1", 18);
	nq = 0;
	n = udp(p, 4, DNS4, 53, q, 30);
	tun_input(T, p, n);
	tap_is_int(nq, 1, "a query reaches the DNS sink");
	tap_is_int(
	    tun_dns_answer(T, qids[0], q, 30), 0, "the answer goes back");
	r = recv(S, b, sizeof b, 0);
	tap_ok(r == 58 &&
		tun_pkt_parse(b, (size_t)r, 1500, &dns4, &dns6, &pk, &why) ==
		    TUN_PKT_UDP &&
		pk.sport == 53 && pk.dport == 5353,
	    "... as UDP from 198.18.0.2:53 to the application");
	tap_is_int(tun_dns_answer(T, qids[0], q, 30), -1, "twice: late");
	tap_is_int(st->dns_late, 1, "... counted late");
	for (i = 0; i < 5; i++)
		tun_input(T, p, n);
	tap_is_int(st->drops[TUN_DROP_DNS_BUSY], 1,
	    "the fifth pending query (4 slots) is dropped as busy");
	n = udp(p, 4, DST4, 9, q, 30);
	tun_input(T, p, n);
	while ((r = recv(S, b, sizeof b, 0)) > 0)
		;
	tap_is_int(st->drops[TUN_DROP_UDP], 1, "other UDP counted");
	tap_ok(st->icmp_sent >= 1, "... and answered unreachable");
}

/* lwIP's timers keep running with nothing else happening: a segment
 * the application never acknowledges is sent again (RTO, ~3 s). */
static void
test_retransmit(struct ev_loop *loop)
{
	uint8_t b[65536];
	struct tun_pkt pk;
	uint64_t end;
	int again = 0;

	F = NULL;
	(void)handshake(loop, 44000, 80);
	if (F == NULL) {
		tap_ok(0, "retransmission: no flow");
		return;
	}
	tap_ok(tun_flow_send(F, "ping", 4) == 4, "4 bytes out, never acked");
	while (next_tcp(b, &pk) > 0)
		;
	end = now_mono_us() + 8000000;
	while (!again && now_mono_us() < end) {
		(void)ev_run_once(loop, 100);
		while (next_tcp(b, &pk) > 0)
			if (pk.l4_len == 24 &&
			    memcmp(pk.l4 + 20, "ping", 4) == 0)
				again = 1;
	}
	tap_ok(again, "... sent again by lwIP's timer on the idle loop");
	tun_flow_abort(F);
	spin(loop);
}

static void
test_flow_limit(struct ev_loop *loop)
{
	const struct tun_stats *st = tun_get_stats(T);
	int i;

	for (i = 0; i < 3; i++)
		(void)handshake(loop, (uint16_t)(43000 + i), 80);
	tap_is_int(st->drops[TUN_DROP_FLOW_LIMIT], 1,
	    "max_flows 2: the third connection is reset");
	tap_is_int(st->flows_open, 2, "two flows open");
}

int
main(void)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	struct tun_config c;
	struct tun_flow_sink fs = {fopen_, NULL};
	struct tun_dns_sink ds = {dq, NULL};
	struct err e = {""};
	json_t *j;
	int sv[2];

	inet_pton(AF_INET6, "fd6d:646e:7300::1", APP6);
	inet_pton(AF_INET6, "fd71::1", DST6);
	tun_config_defaults(&c);
	dns4 = c.dns4;
	dns6 = c.dns6;
	test_parse();
	test_build();

	c.max_dns_pending = 4;
	c.max_flows = 2;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == -1)
		return 1;
	S = sv[1];
	T = tun_attach(loop, &c, sv[0], &fs, &ds, &e);
	tap_ok(T != NULL, "tun_attach on a socket pair %s", e.msg);
	if (T == NULL)
		return tap_done();
	tap_ok(tun_attach(loop, &c, dup(sv[1]), &fs, &ds, &e) == NULL &&
		strstr(e.msg, "one stack") != NULL,
	    "a second stack in the process is refused");
	test_stack(loop, 4);
	test_stack(loop, 6);
	test_reset_and_limits(loop);
	test_dns(loop);
	test_retransmit(loop);
	test_flow_limit(loop);
	j = tun_stats_json(tun_get_stats(T));
	tap_ok(json_integer_value(json_object_get(
		   json_object_get(j, "dropped"), "udp_not_dns")) == 1,
	    "JSON counters: dropped.udp_not_dns");
	json_decref(j);
	tun_close(T);
	close(S);
	c.mtu = 100;
	tap_ok(tun_attach(loop, &c, dup(0), &fs, &ds, &e) == NULL &&
		strstr(e.msg, "MTU 100") != NULL,
	    "MTU out of range refused: %s", e.msg);
	ev_loop_free(loop);
	return tap_done();
}
