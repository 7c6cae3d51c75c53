/* SPDX-License-Identifier: MIT */
/*
 * bench-dnstun.c — the per-query CPU cost of DNS through the tunnel's
 * pure parts: the server's verdict on a query, a server cache hit with
 * 50000 entries held (and a store), cutting a 433-byte answer into three
 * DNS_QUERY_RES frames (s8's 25-record answer at download MTU 200) and
 * reassembling them. Median of 5 runs, operations per second; nothing is
 * asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "engine/dns-cache.h"
#include "proto/dnstun.h"
#include "proto/wire.h"

#define RUNS 5

static uint8_t query[64], answer[512], out[DNSTUN_MSG_MAX], fb[512];
static size_t qlen, alen;
static struct dnstun_req req;
static struct dnscache *cache;
static struct dnstun_reasm *reasm;
static uint64_t clock_us;
static uint16_t seq;
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

static void
op_check(void)
{
	struct dnstun_req r;
	enum dnstun_why why;
	size_t n;

	sink += dnstun_server_check(query, qlen, &r, out, sizeof out, &n, &why);
}

static void
op_cache_hit(void)
{
	size_t n;

	sink += dnscache_get(
	    cache, &req.q, query, qlen, clock_us, out, sizeof out, &n);
}

static void
op_cache_put(void)
{
	dnscache_put(cache, &req.q, answer, alen, clock_us);
}

static void
op_cut(void)
{
	struct wire_frame f;
	unsigned i, n = dnstun_frag_count(alen, 200);

	for (i = 0; i < n; i++) {
		dnstun_frag_frame(
		    answer, alen, 200, i, WIRE_DNS_QUERY_RES, 6, &f);
		f.session_id = 1;
		sink += (size_t)wire_frame_build(&f, fb, sizeof fb);
	}
}

static void
op_reasm(void)
{
	struct wire_frame f;
	unsigned i, n = dnstun_frag_count(alen, 200);
	size_t len;

	seq++;
	for (i = 0; i < n; i++) {
		dnstun_frag_frame(
		    answer, alen, 200, i, WIRE_DNS_QUERY_RES, seq, &f);
		sink += dnstun_reasm_add(reasm, 1, seq, f.frag_id, f.frag_total,
		    f.payload, f.payload_len, clock_us, out, sizeof out, &len);
	}
}

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
	static const char qhex[] = "4003010000010000000000000362696703646e73"
				   "076578616d706c650000010001";
	struct dnscache_cfg cc;
	struct dnstun_reasm_cfg rc;
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	size_t i, o;
	char name[64];

	qlen = (size_t)hex_decode(qhex, strlen(qhex), query, sizeof query);
	memcpy(answer, query, qlen);
	be16_store(answer + 2, 0x8580);
	be16_store(answer + 6, 25);
	o = qlen;
	for (i = 0; i < 25; i++) {
		memcpy(answer + o, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc6\x33\x64",
		    15);
		answer[o + 15] = (uint8_t)(i + 1);
		o += 16;
	}
	alen = o;
	dnstun_req_parse(query, qlen, &req);
	dnscache_cfg_server(&cc);
	cache = dnscache_new(&cc);
	for (i = 0; i < 50000; i++) {
		struct dnstun_question q = req.q;

		q.name_len =
		    (size_t)snprintf(name, sizeof name, "h%zu.dns.example", i);
		memcpy(q.name, name, q.name_len + 1);
		dnscache_put(cache, &q, answer, alen, 0);
	}
	dnscache_put(cache, &req.q, answer, alen, 0);
	dnstun_reasm_defaults(&rc, 0);
	reasm = dnstun_reasm_new(&rc);

	printf("bench-dnstun: %ld iterations x %d runs, median; query %zu B, "
	       "answer %zu B (3 fragments at MTU 200), cache of %zu\n",
	    iters, RUNS, qlen, alen, dnscache_count(cache));
	printf("  server-check          %12.0f /s\n", measure(op_check, iters));
	printf("  cache-hit (50000)     %12.0f /s\n",
	    measure(op_cache_hit, iters));
	printf("  cache-store           %12.0f /s\n",
	    measure(op_cache_put, iters));
	printf("  cut 3 RES frames      %12.0f answers/s\n",
	    measure(op_cut, iters));
	printf("  reassemble 3 frames   %12.0f answers/s\n",
	    measure(op_reasm, iters));
	dnscache_free(cache);
	dnstun_reasm_free(reasm);
	return sink == 0;
}
