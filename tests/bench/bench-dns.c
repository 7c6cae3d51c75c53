/* SPDX-License-Identifier: MIT */
/*
 * bench-dns.c — throughput of the DNS hot path: parse a tunnel query,
 * build the raw tunnel answer for a 200- and a 1000-byte frame, parse the
 * 1000-byte answer back, and build the same 1000-byte answer with ldns
 * (ldns_pkt_new + RRs + ldns_pkt2wire) for comparison. Prints the median
 * of 5 runs in operations per second and the ratio to ldns. Numbers only;
 * nothing is asserted.
 */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "proto/dns.h"
#include "proto/txt.h"

#define RUNS 5

static uint8_t qb[512], ab[8192], fr[8192], frame[4096];
static struct dns_query gq;
static volatile size_t sink;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t qlen, alen;

static void
op_parse_query(void)
{
	struct dns_query q;

	sink += dns_query_parse(qb, qlen, &q, NULL) + q.qname_len;
}

static void
op_build_200(void)
{
	sink += (size_t)dns_answer_build(
	    ab, sizeof ab, &gq, frame, 200, 11, DNS_RESP_RAW, NULL);
}

static void
op_build_1000(void)
{
	sink += (size_t)dns_answer_build(
	    ab, sizeof ab, &gq, frame, 1000, 11, DNS_RESP_RAW, NULL);
}

static void
op_parse_answer(void)
{
	struct dns_answer a;

	sink +=
	    dns_answer_parse(ab, alen, DNS_RESP_RAW, fr, sizeof fr, &a, NULL) +
	    a.frame_len;
}

static void
op_ldns_build_1000(void)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *rr;
	ldns_rdf *owner;
	uint8_t *wire = NULL, raw[TXT_RAW_CHUNK + 1];
	size_t wl = 0, l;
	unsigned n = txt_chunk_count(1000, 0), k;

	ldns_pkt_set_id(p, gq.id);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	owner = ldns_dname_new_frm_data(
	    (uint16_t)gq.qname_wire_len, gq.msg + DNS_HDR_LEN);
	rr = ldns_rr_new();
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(rr, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);
	for (k = 0; k < n; k++) {
		l = txt_chunk_raw(frame, 1000, 0, n, k, raw + 1);
		raw[0] = (uint8_t)l;
		rr = ldns_rr_new();
		ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
		ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_ttl(rr, 0);
		ldns_rr_push_rdf(
		    rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, l + 1, raw));
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	ldns_pkt_set_edns_udp_size(p, 4096);
	if (ldns_pkt2wire(&wire, p, &wl) == LDNS_STATUS_OK)
		sink += wl;
	free(wire);
	ldns_pkt_free(p);
}

/* Median operations per second over RUNS runs of iters calls. */
static double
measure(void (*op)(void), long iters)
{
	double r[RUNS], t;
	long i;
	int run;

	for (run = 0; run < RUNS; run++) {
		t = now_s();
		for (i = 0; i < iters; i++)
			op();
		r[run] = (double)iters / (now_s() - t);
	}
	qsort(r, RUNS, sizeof r[0], cmp_d);
	return r[RUNS / 2];
}

int
main(int argc, char **argv)
{
	char data[160];
	uint8_t dom[16], qn[300];
	long dl, ql, iters = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	double pq, b200, b1000, pa, lb;
	size_t i;

	for (i = 0; i < sizeof data; i++)
		data[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[(i * 7) % 36];
	for (i = 0; i < sizeof frame; i++)
		frame[i] = (uint8_t)(i * 13);
	dl = dns_name_encode("t.example", 9, dom, sizeof dom, NULL);
	ql = dns_qname_from_data(
	    data, 150, dom, (size_t)dl, qn, sizeof qn, NULL);
	qlen = (size_t)dns_query_write(
	    qb, sizeof qb, 0x1234, qn, (size_t)ql, DNS_TYPE_TXT, 4096, NULL);
	if (dns_query_parse(qb, qlen, &gq, NULL) != DNS_QUERY_OK)
		return 1;
	alen = (size_t)dns_answer_build(
	    ab, sizeof ab, &gq, frame, 1000, 11, DNS_RESP_RAW, NULL);

	printf("bench-dns: %ld iterations x %d runs, median, query %zu B "
	       "(QNAME %zu B), 1000-byte answer %zu B\n",
	    iters, RUNS, qlen, gq.qname_wire_len, alen);
	pq = measure(op_parse_query, iters);
	printf("  parse-query          %12.0f /s\n", pq);
	b200 = measure(op_build_200, iters);
	printf("  build-answer 200 B   %12.0f /s\n", b200);
	b1000 = measure(op_build_1000, iters);
	printf("  build-answer 1000 B  %12.0f /s\n", b1000);
	alen = (size_t)dns_answer_build(
	    ab, sizeof ab, &gq, frame, 1000, 11, DNS_RESP_RAW, NULL);
	pa = measure(op_parse_answer, iters);
	printf("  parse-answer 1000 B  %12.0f /s\n", pa);
	lb = measure(op_ldns_build_1000, iters / 10 > 0 ? iters / 10 : 1);
	printf("  ldns build 1000 B    %12.0f /s\n", lb);
	printf("  ratio build-answer 1000 B ours/ldns: %.1fx\n", b1000 / lb);
	return sink == 0;
}
