/* SPDX-License-Identifier: MIT */
/*
 * auth-responder — a tiny authoritative DNS server for one zone on
 * loopback, the far end of "resolvers in the path" tests.
 *
 *   auth-responder --zone ZONE [--listen ADDR] [--port N] [--ttl S]
 *                  [--txt-size N] [--log FILE]
 *
 * For any name at or under ZONE it answers with AA: TXT "ok:<qname in lower
 * case>" (or, with --txt-size N, N bytes of TXT data in 255-byte strings),
 * SOA and NS at the apex, NODATA plus SOA for other types. Outside the zone
 * it answers NXDOMAIN with AA. The question is echoed byte for byte, so a
 * resolver's case randomisation survives. An answer larger than the
 * client's UDP size (512, or its EDNS size) goes out with TC and no
 * records; the same port also serves DNS over TCP, so the resolver can
 * retry there.
 * With --port 0 it binds a free port; when ready it prints "port=N" on
 * stdout. Each query is logged as "PROTO SRC TYPE NAME" to --log.
 * It does not do zone files, DNSSEC, EDNS options or anything else.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "tests/tools/dnsmsg.h"

struct resp_conf {
	const char *zone;
	uint32_t ttl;
	long txt_size;
	FILE *log;
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Append one record header (name as pointer to the question) at off. */
static size_t
put_rr_head(uint8_t *b, size_t off, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	be16_store(b + off, 0xc00c);
	be16_store(b + off + 2, type);
	be16_store(b + off + 4, 1);
	be32_store(b + off + 6, ttl);
	be16_store(b + off + 10, rdlen);
	return off + 12;
}

/* SOA rdata for the zone at b[off]; returns the new offset or -1. */
static long
put_soa_rr(uint8_t *b, size_t cap, size_t off, const struct resp_conf *c,
    int owner_is_question)
{
	char mname[DNSM_NAME_MAX + 16], rname[DNSM_NAME_MAX + 16];
	long p, start;

	snprintf(mname, sizeof mname, "ns.%s", c->zone);
	snprintf(rname, sizeof rname, "hostmaster.%s", c->zone);
	if (owner_is_question) {
		if (off + 12 > cap)
			return -1;
		p = (long)put_rr_head(b, off, DNSM_T_SOA, c->ttl, 0);
	} else {
		p = dnsm_put_name(b, cap, off, c->zone);
		if (p < 0 || (size_t)p + 10 > cap)
			return -1;
		be16_store(b + p, DNSM_T_SOA);
		be16_store(b + p + 2, 1);
		be32_store(b + p + 4, c->ttl);
		p += 10;
	}
	start = p;
	if ((p = dnsm_put_name(b, cap, (size_t)p, mname)) < 0 ||
	    (p = dnsm_put_name(b, cap, (size_t)p, rname)) < 0 ||
	    (size_t)p + 20 > cap)
		return -1;
	be32_store(b + p, 1);
	be32_store(b + p + 4, 3600);
	be32_store(b + p + 8, 600);
	be32_store(b + p + 12, 86400);
	be32_store(b + p + 16, c->ttl);
	p += 20;
	be16_store(b + start - 2, (uint16_t)(p - start));
	return p;
}

/*
 * Build the answer to query q (qlen bytes) into r. limit is the largest
 * answer the transport allows; larger answers are cut to the question with
 * TC. Returns the length, or 0 when the message must be ignored.
 */
static size_t
answer(const struct resp_conf *c, const uint8_t *q, size_t qlen, uint8_t *r,
    size_t cap, size_t limit, int is_udp, const char *src, const char *proto)
{
	struct dnsm_msg m;
	struct err e = {""};
	uint16_t flags;
	size_t off, udp_limit = 512;
	int in_zone, apex, nans = 0, nauth = 0;
	long p;

	if (qlen < 12 || (be16_load(q + 2) & DNSM_F_QR))
		return 0;
	flags = DNSM_F_QR | (be16_load(q + 2) & DNSM_F_RD);
	if (dnsm_parse(q, qlen, &m, &e) < 0 || m.qdcount != 1 ||
	    ((m.flags >> 11) & 0xf) != 0) {
		memcpy(r, q, 12);
		be16_store(r + 2, flags | 1);
		memset(r + 4, 0, 8);
		if (c->log)
			fprintf(c->log, "%s %s FORMERR -\n", proto, src);
		return 12;
	}
	if (c->log) {
		const char *tn = dnsm_type_name(m.qtype);

		if (tn != NULL)
			fprintf(
			    c->log, "%s %s %s %s\n", proto, src, tn, m.qname);
		else
			fprintf(c->log, "%s %s TYPE%u %s\n", proto, src,
			    m.qtype, m.qname);
	}
	if (m.has_opt && m.edns_size > 512)
		udp_limit = m.edns_size;
	if (is_udp)
		limit = MIN(limit, udp_limit);
	/* Header and the question copied verbatim (case preserved). */
	off = m.question_end;
	memcpy(r, q, off);
	in_zone = dnsm_in_zone(m.qname, c->zone);
	apex = in_zone && dnsm_in_zone(c->zone, m.qname);
	flags |= DNSM_F_AA;
	if (!in_zone) {
		flags |= 3; /* NXDOMAIN */
	} else if (m.qtype == DNSM_T_TXT || m.qtype == DNSM_T_ANY) {
		uint8_t *rd;
		size_t n, i, len;
		char text[DNSM_NAME_MAX + 4];

		if (off + 12 > cap)
			return 0;
		off = put_rr_head(r, off, DNSM_T_TXT, c->ttl, 0);
		rd = r + off;
		if (c->txt_size > 0) {
			for (n = 0; n < (size_t)c->txt_size; n += len) {
				len = MIN(255, (size_t)c->txt_size - n);
				if (off + 1 + len > cap)
					return 0;
				r[off++] = (uint8_t)len;
				for (i = 0; i < len; i++)
					r[off++] =
					    (uint8_t)('a' + (n + i) % 26);
			}
		} else {
			len = (size_t)snprintf(
			    text, sizeof text, "ok:%s", m.qname);
			len = MIN(len, 255);
			for (i = 0; i < len; i++)
				text[i] = (char)tolower((unsigned char)text[i]);
			r[off++] = (uint8_t)len;
			memcpy(r + off, text, len);
			off += len;
		}
		be16_store(rd - 2, (uint16_t)(r + off - rd));
		nans = 1;
	} else if (apex && m.qtype == DNSM_T_SOA) {
		if ((p = put_soa_rr(r, cap, off, c, 1)) < 0)
			return 0;
		off = (size_t)p;
		nans = 1;
	} else if (apex && m.qtype == DNSM_T_NS) {
		char ns[DNSM_NAME_MAX + 4];

		snprintf(ns, sizeof ns, "ns.%s", c->zone);
		off = put_rr_head(r, off, DNSM_T_NS, c->ttl, 0);
		if ((p = dnsm_put_name(r, cap, off, ns)) < 0)
			return 0;
		be16_store(r + off - 2, (uint16_t)((size_t)p - off));
		off = (size_t)p;
		nans = 1;
	}
	if (in_zone && nans == 0) {
		if ((p = put_soa_rr(r, cap, off, c, 0)) < 0)
			return 0;
		off = (size_t)p;
		nauth = 1;
	}
	if (m.has_opt) {
		if (off + 11 > cap)
			return 0;
		r[off] = 0;
		be16_store(r + off + 1, DNSM_T_OPT);
		be16_store(r + off + 3, 1232);
		memset(r + off + 5, 0, 6);
		off += 11;
	}
	be16_store(r + 4, 1);
	be16_store(r + 6, (uint16_t)nans);
	be16_store(r + 8, (uint16_t)nauth);
	be16_store(r + 10, m.has_opt ? 1 : 0);
	if (off > limit) {
		flags |= DNSM_F_TC;
		off = m.question_end;
		memset(r + 6, 0, 6);
	}
	be16_store(r + 2, flags);
	return off;
}

static void
serve_udp(const struct resp_conf *c, int fd)
{
	static uint8_t q[65536], r[65536];
	union net_addr from;
	char src[NET_ADDR_STRLEN];
	socklen_t fl;
	ssize_t n;
	size_t rl;

	for (;;) {
		fl = sizeof from;
		n = recvfrom(fd, q, sizeof q, 0, &from.sa, &fl);
		if (n < 0)
			return;
		net_addr_format(&from, src, sizeof src);
		rl = answer(c, q, (size_t)n, r, sizeof r, 65507, 1, src, "udp");
		if (rl > 0)
			(void)sendto(fd, r, rl, 0, &from.sa, fl);
	}
}

/* Read exactly n bytes (the socket has a receive timeout). */
static int
read_full(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = read(fd, b + got, n - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/*
 * One TCP client at a time, blocking with a 2 s timeout: resolvers only
 * come here after a TC answer, and a fixture does not need more.
 */
static void
serve_tcp(const struct resp_conf *c, int lfd)
{
	static uint8_t q[65536], r[65538];
	struct timeval tv = {.tv_sec = 2};
	union net_addr from;
	char src[NET_ADDR_STRLEN];
	socklen_t fl = sizeof from;
	uint8_t lb[2];
	size_t rl;
	int fd;

	fd = accept4(lfd, &from.sa, &fl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	net_addr_format(&from, src, sizeof src);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	while (!stop_flag && read_full(fd, lb, 2) == 0) {
		size_t ql = be16_load(lb);

		if (read_full(fd, q, ql) < 0)
			break;
		rl =
		    answer(c, q, ql, r + 2, sizeof r - 2, 65535, 0, src, "tcp");
		if (rl == 0)
			break;
		be16_store(r, (uint16_t)rl);
		if (write(fd, r, rl + 2) != (ssize_t)(rl + 2))
			break;
		if (c->log)
			fflush(c->log);
	}
	close(fd);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: auth-responder --zone ZONE [--listen ADDR] "
	    "[--port N] [--ttl S] [--txt-size N] [--log FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"zone", required_argument, NULL, 'z'},
	    {"listen", required_argument, NULL, 'l'},
	    {"port", required_argument, NULL, 'p'},
	    {"ttl", required_argument, NULL, 't'},
	    {"txt-size", required_argument, NULL, 's'},
	    {"log", required_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	struct resp_conf conf = {.ttl = 60};
	struct err e = {""};
	struct sigaction sa;
	union net_addr addr;
	const char *listen_s = "127.0.0.1", *log_path = NULL;
	long long v, port = 0;
	int c, ufd = -1, tfd = -1, tries;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'z':
			conf.zone = optarg;
			break;
		case 'l':
			listen_s = optarg;
			break;
		case 'p':
			if (parse_int(optarg, 0, 65535, &port, &e) < 0)
				usage();
			break;
		case 't':
			if (parse_int(optarg, 0, 86400, &v, &e) < 0)
				usage();
			conf.ttl = (uint32_t)v;
			break;
		case 's':
			if (parse_int(optarg, 0, 60000, &v, &e) < 0)
				usage();
			conf.txt_size = (long)v;
			break;
		case 'L':
			log_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (conf.zone == NULL || optind != argc)
		usage();
	if (log_path != NULL && (conf.log = fopen(log_path, "a")) == NULL) {
		fprintf(stderr, "auth-responder: %s: %s\n", log_path,
		    strerror(errno));
		return 2;
	}
	if (net_addr_parse(listen_s, 0, &addr, &e) < 0) {
		fprintf(stderr, "auth-responder: %s\n", e.msg);
		return 2;
	}
	/* UDP and TCP on the same port: with port 0, retry until both fit. */
	for (tries = 0; tries < 50; tries++) {
		net_addr_set_port(&addr, (uint16_t)port);
		if ((ufd = net_udp_bind(&addr, &e)) < 0)
			break;
		if (net_local_addr(ufd, &addr, &e) < 0)
			break;
		if ((tfd = net_tcp_listen(&addr, 64, &e)) >= 0 || port != 0)
			break;
		close(ufd);
		ufd = -1;
	}
	if (ufd < 0 || tfd < 0) {
		fprintf(stderr, "auth-responder: %s\n", e.msg);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("port=%u\n", net_addr_port(&addr));
	fflush(stdout);
	while (!stop_flag) {
		struct pollfd pfd[2] = {{.fd = ufd, .events = POLLIN},
		    {.fd = tfd, .events = POLLIN}};

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN)
			serve_udp(&conf, ufd);
		if (pfd[1].revents & POLLIN)
			serve_tcp(&conf, tfd);
		if (conf.log)
			fflush(conf.log);
	}
	if (conf.log)
		fclose(conf.log);
	return 0;
}
