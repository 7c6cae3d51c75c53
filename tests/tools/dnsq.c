/* SPDX-License-Identifier: MIT */
/*
 * dnsq — send one DNS query over UDP and print what came back, as text
 * (default) or one JSON object (--json). The test suite's stand-in for dig,
 * which Debian's minimal images lack.
 *
 *   dnsq --server ADDR:PORT [--type T] [--class IN|CH] [--timeout MS]
 *        [--edns N] [--no-rd] [--id N] [--json] NAME
 *
 * Text output: a first line "rcode=R flags=qr,aa,... id=N answers=N", then
 * one "SECTION NAME TTL TYPE DATA" line per record. Answers from another
 * address or with another ID are ignored (and counted in "ignored=N").
 * Exit status: 0 an answer was received, 1 none before the timeout, 2 usage
 * or socket error, 3 the answer could not be parsed.
 * It does not retry, follow TC over TCP, or validate anything.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"
#include "tests/tools/dnsmsg.h"

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
flags_text(uint16_t fl, char *buf, size_t cap)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {{DNSM_F_QR, "qr"}, {DNSM_F_AA, "aa"}, {DNSM_F_TC, "tc"},
	    {DNSM_F_RD, "rd"}, {DNSM_F_RA, "ra"}, {DNSM_F_AD, "ad"},
	    {DNSM_F_CD, "cd"}};
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < nitems(names); i++) {
		if ((fl & names[i].bit) == 0)
			continue;
		o += (size_t)snprintf(
		    buf + o, cap - o, "%s%s", o ? "," : "", names[i].name);
		if (o >= cap)
			break;
	}
}

static void
print_type(FILE *f, uint16_t t)
{
	const char *n = dnsm_type_name(t);

	if (n != NULL)
		fputs(n, f);
	else
		fprintf(f, "TYPE%u", t);
}

static void
print_text(const struct dnsm_msg *m, int ignored)
{
	static const char *sect[] = {"", "answer", "authority", "additional"};
	char fl[64];
	int i;

	flags_text(m->flags, fl, sizeof fl);
	printf("rcode=%s flags=%s id=%u answers=%u authority=%u "
	       "additional=%u edns=%u ignored=%d\n",
	    dnsm_rcode_name(m->flags & 0xf), fl, m->id, m->ancount, m->nscount,
	    m->arcount, (unsigned)(m->has_opt ? m->edns_size : 0), ignored);
	for (i = 0; i < m->nrr; i++) {
		printf("%s %s %u ", sect[m->rr[i].section], m->rr[i].name,
		    m->rr[i].ttl);
		print_type(stdout, m->rr[i].type);
		printf(" %s\n", m->rr[i].text);
	}
}

static void
print_json(const struct dnsm_msg *m, int ignored)
{
	static const char *sect[] = {"", "answer", "authority", "additional"};
	char fl[64];
	int i;

	flags_text(m->flags, fl, sizeof fl);
	printf("{\"rcode\":\"%s\",\"id\":%u,\"flags\":\"%s\",\"tc\":%s,"
	       "\"aa\":%s,\"edns\":%u,\"ignored\":%d,\"qname\":",
	    dnsm_rcode_name(m->flags & 0xf), m->id, fl,
	    (m->flags & DNSM_F_TC) ? "true" : "false",
	    (m->flags & DNSM_F_AA) ? "true" : "false",
	    (unsigned)(m->has_opt ? m->edns_size : 0), ignored);
	json_str(stdout, m->qname);
	printf(",\"records\":[");
	for (i = 0; i < m->nrr; i++) {
		printf("%s{\"section\":\"%s\",\"name\":", i ? "," : "",
		    sect[m->rr[i].section]);
		json_str(stdout, m->rr[i].name);
		printf(",\"ttl\":%u,\"type\":\"", m->rr[i].ttl);
		print_type(stdout, m->rr[i].type);
		printf("\",\"data\":");
		json_str(stdout, m->rr[i].text);
		printf("}");
	}
	printf("]}\n");
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dnsq --server ADDR:PORT [--type T] "
	    "[--class IN|CH] [--timeout MS] [--edns N] [--no-rd] [--id N] "
	    "[--json] NAME\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"type", required_argument, NULL, 't'},
	    {"class", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"edns", required_argument, NULL, 'e'},
	    {"no-rd", no_argument, NULL, 'n'},
	    {"id", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	union net_addr srv, bind_addr, from;
	struct err e = {""};
	struct dnsm_msg m;
	uint8_t q[512], r[65536];
	const char *server = NULL;
	long long v, timeout_ms = 2000, edns = 1232, id = -1;
	int qtype = DNSM_T_A, qclass = 1, rd = 1, json = 0, c, fd;
	int ignored = 0;
	uint64_t deadline;
	long qlen;
	uint16_t rid;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 't':
			if ((qtype = dnsm_type_parse(optarg)) < 0) {
				fprintf(
				    stderr, "dnsq: unknown type %s\n", optarg);
				return 2;
			}
			break;
		case 'c':
			if (strcasecmp(optarg, "IN") == 0)
				qclass = 1;
			else if (strcasecmp(optarg, "CH") == 0)
				qclass = 3;
			else if (parse_int(optarg, 0, 65535, &v, &e) == 0)
				qclass = (int)v;
			else
				usage();
			break;
		case 'T':
			if (parse_int(optarg, 1, 3600000, &timeout_ms, &e) < 0)
				usage();
			break;
		case 'e':
			if (parse_int(optarg, 0, 65535, &edns, &e) < 0)
				usage();
			break;
		case 'n':
			rd = 0;
			break;
		case 'i':
			if (parse_int(optarg, 0, 65535, &id, &e) < 0)
				usage();
			break;
		case 'j':
			json = 1;
			break;
		default:
			usage();
		}
	}
	if (server == NULL || optind + 1 != argc)
		usage();
	if (net_addr_parse(server, 53, &srv, &e) < 0) {
		fprintf(stderr, "dnsq: %s\n", e.msg);
		return 2;
	}
	if (id < 0) {
		if (getrandom(&rid, sizeof rid, 0) != sizeof rid)
			rid = (uint16_t)getpid();
	} else
		rid = (uint16_t)id;
	qlen = dnsm_build_query(q, sizeof q, rid, argv[optind], (uint16_t)qtype,
	    (uint16_t)qclass, rd, (uint16_t)edns);
	if (qlen < 0) {
		fprintf(stderr, "dnsq: bad name %s\n", argv[optind]);
		return 2;
	}
	memset(&bind_addr, 0, sizeof bind_addr);
	bind_addr.sa.sa_family = srv.sa.sa_family;
	if ((fd = net_udp_bind(&bind_addr, &e)) < 0) {
		fprintf(stderr, "dnsq: %s\n", e.msg);
		return 2;
	}
	if (sendto(fd, q, (size_t)qlen, 0, &srv.sa, net_addr_len(&srv)) < 0) {
		fprintf(
		    stderr, "dnsq: send to %s: %s\n", server, strerror(errno));
		return 2;
	}
	deadline = now_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = now_mono_ms();
		socklen_t fl = sizeof from;
		ssize_t n;

		if (now >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		n = recvfrom(fd, r, sizeof r, 0, &from.sa, &fl);
		if (n < 0)
			continue;
		if (!net_addr_equal(&from, &srv) || n < 2 ||
		    be16_load(r) != rid) {
			ignored++;
			continue;
		}
		if (dnsm_parse(r, (size_t)n, &m, &e) < 0) {
			fprintf(stderr, "dnsq: bad answer from %s: %s\n",
			    server, e.msg);
			return 3;
		}
		if (json)
			print_json(&m, ignored);
		else
			print_text(&m, ignored);
		return 0;
	}
	if (json)
		printf("{\"rcode\":\"TIMEOUT\",\"ignored\":%d}\n", ignored);
	else
		printf("rcode=TIMEOUT ignored=%d\n", ignored);
	return 1;
}
