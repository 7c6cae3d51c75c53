/* SPDX-License-Identifier: MIT */
/*
 * farmq.c — a small DNS query tool for tests (dig is not installed): sends
 * one query, or --count N queries with distinct IDs, over UDP to a loopback
 * server and prints what came back as key=value words on one line, so
 * shell tests can check answers with grep. Unlike the general dnsq tool,
 * it reports answers from another address or with another ID (the farm's
 * wrong-source and wrong-id behaviours) instead of ignoring them, and
 * counts answers to bursts (lossy, ratelimited).
 *
 * Single query output (one line):
 *   status=answer from=ADDR:PORT id_match=0|1 rcode=NAME tc=0|1 aa=0|1
 *   an=N ar=N size=BYTES rtt_ms=MS edns=SIZE|none qname=NAME a=IP
 *   txtlen=N txt=TEXT
 * (a= and txt= only when present; txt= is last and may contain spaces) or
 *   status=timeout
 * With --count N (N queries sent back to back, answers counted until
 * --timeout-ms after the last send):
 *   sent=N answered=M noerror=.. nxdomain=.. servfail=.. refused=..
 *   other=.. tc=.. timeouts=..
 *
 * The socket is not connected, so answers from another address or with
 * another ID are seen and reported rather than filtered by the kernel.
 * Not a general resolver: no retries, no TCP, no recursion.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "tests/tools/dnsmini.h"

static const char *
q_rcode(int r)
{
	static const char *names[] = {
	    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};

	return r >= 0 && r < (int)nitems(names) ? names[r] : "OTHER";
}

static int
q_type(const char *s)
{
	if (strcasecmp(s, "A") == 0)
		return DNS_T_A;
	if (strcasecmp(s, "TXT") == 0)
		return DNS_T_TXT;
	if (strcasecmp(s, "NS") == 0)
		return 2;
	if (strcasecmp(s, "AAAA") == 0)
		return 28;
	return -1;
}

static int
q_build(
    uint8_t *b, size_t cap, uint16_t id, const char *name, int type, long edns)
{
	size_t o = DNS_HDR, n;
	const char *s = name, *dot;

	memset(b, 0, DNS_HDR);
	be16_store(b, id);
	b[2] = 0x01; /* RD */
	be16_store(b + 4, 1);
	while (*s != '\0') {
		dot = strchr(s, '.');
		n = dot ? (size_t)(dot - s) : strlen(s);
		if (n == 0 || n > 63 || o + n + 1 > 255 + DNS_HDR)
			return -1;
		b[o++] = (uint8_t)n;
		memcpy(b + o, s, n);
		o += n;
		s += n;
		if (*s == '.')
			s++;
	}
	b[o++] = 0;
	be16_store(b + o, (uint16_t)type);
	be16_store(b + o + 2, 1);
	o += 4;
	if (edns > 0) {
		o = dnsmini_put_opt(b, o);
		be16_store(b + o - 8, (uint16_t)edns);
	}
	return o <= cap ? (int)o : -1;
}

/* Print the first A and TXT of the answer section, as far as parsable. */
static void
q_print_answer(const uint8_t *b, size_t len, const struct dnsmini_q *fq)
{
	size_t o = fq->qend, i;
	unsigned an = be16_load(b + 6), k;
	int have_a = 0, have_txt = 0;
	char txt[4096];
	size_t tl = 0;

	for (k = 0; k < an; k++) {
		uint16_t type, rdlen;

		if (dnsmini_skip_name(b, len, &o) == -1 || o + 10 > len)
			return;
		type = be16_load(b + o);
		rdlen = be16_load(b + o + 8);
		o += 10;
		if (o + rdlen > len)
			return;
		if (type == DNS_T_A && rdlen == 4 && !have_a) {
			printf(" a=%u.%u.%u.%u", b[o], b[o + 1], b[o + 2],
			    b[o + 3]);
			have_a = 1;
		}
		if (type == DNS_T_TXT && !have_txt) {
			for (i = 0; i < rdlen;) {
				size_t sl = b[o + i];

				if (i + 1 + sl > rdlen)
					break;
				sl = MIN(sl, sizeof txt - tl - 1);
				memcpy(txt + tl, b + o + i + 1, sl);
				tl += sl;
				i += 1 + (size_t)b[o + i];
			}
			have_txt = 1;
		}
		o += rdlen;
	}
	if (have_txt) {
		txt[tl] = '\0';
		for (i = 0; i < tl; i++)
			if (!isprint((unsigned char)txt[i]))
				txt[i] = '?';
		printf(" txtlen=%zu txt=%s", tl, txt);
	}
}

static void
q_print_name(const uint8_t *b, size_t qname_end)
{
	size_t o = DNS_HDR;

	if (b[o] == 0) {
		putchar('.');
		return;
	}
	while (o < qname_end && b[o] != 0) {
		if (o != DNS_HDR)
			putchar('.');
		for (size_t i = 1; i <= b[o]; i++)
			putchar(isgraph(b[o + i]) ? b[o + i] : '?');
		o += 1 + (size_t)b[o];
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"edns", required_argument, NULL, 'e'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {"id", required_argument, NULL, 'i'},
	    {"count", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct err e = {""};
	union net_addr srv, from, any;
	socklen_t fl;
	uint8_t q[600], r[65536];
	long long port = 53, edns = 1232, timeout_ms = 1000, id = -1;
	long long count = 0;
	int ch, fd, type = DNS_T_TXT, qlen, rcvbuf = 8 << 20;
	long long sent, answered = 0, byrc[6] = {0}, other = 0, tcs = 0;
	uint64_t deadline, start_us;
	char fs[NET_ADDR_STRLEN];

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		long long *dst = NULL, lo = 0, hi = 65535;

		switch (ch) {
		case 'p':
			dst = &port;
			break;
		case 'e':
			dst = &edns;
			break;
		case 't':
			dst = &timeout_ms;
			hi = 60000;
			break;
		case 'i':
			dst = &id;
			break;
		case 'c':
			dst = &count;
			lo = 1;
			hi = 60000;
			break;
		default:
			goto usage;
		}
		if (parse_int(optarg, lo, hi, dst, &e) == -1) {
			fprintf(stderr, "farmq: %s\n", e.msg);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		goto usage;
	if (net_addr_parse(argv[optind], (uint16_t)port, &srv, &e) == -1) {
		fprintf(stderr, "farmq: %s\n", e.msg);
		return 2;
	}
	if (argc - optind == 3 && (type = q_type(argv[optind + 2])) == -1) {
		fprintf(stderr, "farmq: unknown type '%s'\n", argv[optind + 2]);
		return 2;
	}
	memset(&any, 0, sizeof any);
	any.sa.sa_family = srv.sa.sa_family;
	if ((fd = net_udp_bind(&any, &e)) == -1) {
		fprintf(stderr, "farmq: %s\n", e.msg);
		return 1;
	}
	/* Room for a whole --count burst of answers before we read any. */
	if (setsockopt(
		fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (id < 0)
		id = (long long)(now_mono_us() & 0xffff);
	/*
	 * Before the send: rtt_ms is a lower bound the slow-resolver tests
	 * assert, and a process descheduled between sendto and the clock
	 * read (a loaded machine) measured a 150 ms delay as 148 ms.
	 */
	start_us = now_mono_us();
	for (sent = 0; sent < (count ? count : 1); sent++) {
		qlen = q_build(q, sizeof q, (uint16_t)(id + sent),
		    argv[optind + 1], type, edns);
		if (qlen == -1) {
			fprintf(
			    stderr, "farmq: bad name '%s'\n", argv[optind + 1]);
			return 2;
		}
		if (sendto(fd, q, (size_t)qlen, 0, &srv.sa,
			net_addr_len(&srv)) == -1) {
			fprintf(stderr, "farmq: sendto: %s\n", strerror(errno));
			return 1;
		}
	}
	deadline = now_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		uint64_t now = now_mono_ms();
		struct dnsmini_q fq;
		ssize_t n;
		int rc;

		if (now >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		fl = sizeof from.ss;
		n = recvfrom(fd, r, sizeof r, 0, &from.sa, &fl);
		if (n < DNS_HDR || !(r[2] & 0x80))
			continue;
		rc = r[3] & 0x0f;
		if (count) {
			answered++;
			if (rc < 6)
				byrc[rc]++;
			else
				other++;
			if (r[2] & 0x02)
				tcs++;
			if (answered == count)
				break;
			continue;
		}
		net_addr_format(&from, fs, sizeof fs);
		printf("status=answer from=%s id_match=%d rcode=%s tc=%d aa=%d "
		       "an=%u ar=%u size=%zd rtt_ms=%llu",
		    fs, be16_load(r) == (uint16_t)id, q_rcode(rc),
		    !!(r[2] & 0x02), !!(r[2] & 0x04), be16_load(r + 6),
		    be16_load(r + 10), n,
		    (unsigned long long)((now_mono_us() - start_us) / 1000));
		if (be16_load(r + 4) == 1 &&
		    dnsmini_parse(r, (size_t)n, &fq) == 0) {
			if (fq.udp)
				printf(" edns=%u", fq.udp);
			else
				printf(" edns=none");
			printf(" qname=");
			q_print_name(r, fq.qname_end);
			q_print_answer(r, (size_t)n, &fq);
		}
		putchar('\n');
		close(fd);
		return 0;
	}
	close(fd);
	if (count) {
		printf("sent=%lld answered=%lld noerror=%lld nxdomain=%lld "
		       "servfail=%lld refused=%lld other=%lld tc=%lld "
		       "timeouts=%lld\n",
		    count, answered, byrc[0], byrc[3], byrc[2], byrc[5],
		    other + byrc[1] + byrc[4], tcs, count - answered);
		return 0;
	}
	printf("status=timeout\n");
	return 0;
usage:
	fprintf(stderr,
	    "usage: farmq [--port P] [--edns SIZE|0] "
	    "[--timeout-ms MS] [--id N] [--count N] SERVER NAME [TYPE]\n");
	return 2;
}
