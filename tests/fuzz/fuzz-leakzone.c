/* SPDX-License-Identifier: MIT */
/*
 * fuzz-leakzone.c — the leak zone's answers of any bytes (proto/leakzone.h,
 * the client side of `leak`): leakz_answer_parse never reads outside the
 * message and keeps its bounds, and whatever it accepts goes through the
 * report reader, whose entries must be canonical addresses with a count
 * and a mask, and through the whoami reader (leakz_whoami_addr, shared
 * by leak and scan), whose address must be one. The same bytes as a
 * question go through the server's handler (engine/server-leak.h): its
 * answer, when there is one, stays within LEAKZ_UDP_MAX and reads back as
 * an answer to that question.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "engine/server-leak.h"
#include "proto/leakzone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_report(const struct leakz_answer *a)
{
	struct leakz_entry en[LEAKZ_REPORT_MAX];
	size_t n, total, i;
	uint8_t b[16];

	if (leakz_report_parse(a, en, LEAKZ_REPORT_MAX, &n, &total, NULL) != 0)
		return;
	if (n > LEAKZ_REPORT_MAX || n > total)
		abort();
	for (i = 0; i < n; i++)
		if (en[i].count == 0 || en[i].mask == 0 ||
		    inet_pton(en[i].family == 4 ? AF_INET : AF_INET6,
			en[i].addr, b) != 1)
			abort();
}

/* The whoami reader: an address it returns is one. */
static void
check_whoami(const struct leakz_answer *a)
{
	char ip[NET_ADDR_STRLEN];
	uint8_t b[16];

	if (leakz_whoami_addr(a, ip, sizeof ip, NULL) != 0)
		return;
	if (inet_pton(AF_INET, ip, b) != 1 && inet_pton(AF_INET6, ip, b) != 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct srv_leak *l;
	struct leakz_answer a;
	struct dns_query q;
	uint8_t *copy = malloc(size ? size : 1), out[LEAKZ_UDP_MAX];
	union net_addr from;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	long n;

	if (l == NULL)
		l = srv_leak_new("leak.example");
	memcpy(copy, data, size);
	/* As an answer to whoami.leak.example TXT (and as a report). */
	if (leakz_answer_parse(copy, size, id, "whoami.leak.example",
		DNS_TYPE_TXT, &a, NULL) == 0) {
		if (a.naddr > LEAKZ_ADDRS_MAX || a.ntxt > LEAKZ_TXT_MAX)
			abort();
		check_report(&a);
		check_whoami(&a);
	}
	/* As a question to the server. */
	memset(&from, 0, sizeof from);
	from.in.sin_family = AF_INET;
	from.in.sin_addr.s_addr = htonl(0x0a000001);
	n = srv_leak_handle(l, copy, size, &from, 1, out, sizeof out);
	if (n > (long)sizeof out)
		abort();
	if (n > 0 && dns_query_parse(copy, size, &q, NULL) == DNS_QUERY_OK &&
	    leakz_answer_parse(
		out, (size_t)n, q.id, q.qname, q.qtype, &a, NULL) != 0 &&
	    q.qname_len < 254)
		abort();
	free(copy);
	return 0;
}
