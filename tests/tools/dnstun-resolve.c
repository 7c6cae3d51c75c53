/* SPDX-License-Identifier: MIT */
/*
 * dnstun-resolve — the server side of DNS through the tunnel, minus the
 * tunnel: each query (hex) goes through dnstun_server_check, the server
 * cache and the upstream resolver client, exactly as the server will
 * handle a reassembled DNS_QUERY_REQ. For tests against real resolvers.
 *
 *   dnstun-resolve --upstream ADDR[,ADDR...] [--timeout MS] [--no-cache]
 *                  [--parallel] [--owner-max N] [--linger MS] HEXQUERY...
 *
 * Prints one line per query, "INDEX KIND [HEX]", KIND being answer, cache,
 * reply (FORMERR/NOTIMP built locally), drop:WHY, timeout, failed or
 * refused:WHY; then one line "stats k=v ..." with the resolver client's
 * counters. Queries run one after another (so the cache sees the earlier
 * answers) unless --parallel starts them all at once. Before the stats
 * it waits --linger MS (200) for late datagrams, so the drop counters see
 * them. Exit 0, or 2 on usage errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ev.h"
#include "common/util.h"
#include "engine/dns-cache.h"
#include "engine/dns-upstream.h"
#include "proto/dnstun.h"

struct job {
	int idx;
	uint8_t q[DNSTUN_MSG_MAX];
	size_t n;
	struct dnstun_req r;
	int done;
};

static struct ev_loop *loop;
static struct dnscache *cache;
static int pending;

static void
print_hex(int idx, const char *kind, const uint8_t *p, size_t n)
{
	char *h = xmalloc(2 * n + 1);

	hex_encode(p, n, h);
	printf("%d %s %s\n", idx, kind, h);
	free(h);
}

static void
on_answer(void *arg, enum dnsup_status st, const uint8_t *ans, size_t len)
{
	struct job *j = arg;

	if (st == DNSUP_OK) {
		print_hex(j->idx, "answer", ans, len);
		if (cache != NULL)
			dnscache_put(cache, &j->r.q, ans, len, now_mono_us());
	} else {
		printf("%d %s\n", j->idx, dnsup_status_name(st));
	}
	j->done = 1;
	pending--;
}

static void
start(struct dnsup *u, struct job *j)
{
	static uint8_t out[DNSTUN_MSG_MAX];
	enum dnstun_why why;
	enum dnsup_refuse rf;
	size_t olen;
	char kind[64];

	switch (dnstun_server_check(
	    j->q, j->n, &j->r, out, sizeof out, &olen, &why)) {
	case DNSTUN_DROP:
		printf("%d drop:%s\n", j->idx, dnstun_why_name(why));
		j->done = 1;
		return;
	case DNSTUN_REPLY:
		print_hex(j->idx, "reply", out, olen);
		j->done = 1;
		return;
	default:
		break;
	}
	if (cache != NULL &&
	    dnscache_get(cache, &j->r.q, j->q, j->n, now_mono_us(), out,
		sizeof out, &olen) == DNSCACHE_HIT) {
		print_hex(j->idx, "cache", out, olen);
		j->done = 1;
		return;
	}
	if (dnsup_query(u, j->q, j->n, 1, on_answer, j, &rf) == NULL) {
		snprintf(
		    kind, sizeof kind, "refused:%s", dnsup_refuse_name(rf));
		printf("%d %s\n", j->idx, kind);
		j->done = 1;
		return;
	}
	pending++;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dnstun-resolve --upstream ADDR[,ADDR...] [--timeout MS] "
	    "[--no-cache] [--parallel] [--owner-max N] [--linger MS] "
	    "HEXQUERY...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"upstream", required_argument, NULL, 'u'},
	    {"timeout", required_argument, NULL, 't'},
	    {"no-cache", no_argument, NULL, 'n'},
	    {"parallel", no_argument, NULL, 'p'},
	    {"owner-max", required_argument, NULL, 'o'},
	    {"linger", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct dnsup_cfg c;
	struct dnscache_cfg cc;
	const struct dnsup_stats *st;
	struct dnsup *u;
	struct job *jobs;
	struct err e;
	char *list = NULL, *tok, *save;
	long long v;
	int ch, use_cache = 1, parallel = 0, i, n, linger_ms = 200;
	uint64_t end;

	dnsup_cfg_defaults(&c);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'u':
			list = optarg;
			break;
		case 't':
			if (parse_int(optarg, 1, 600000, &v, &e) < 0)
				usage();
			c.timeout_us = (uint64_t)v * 1000;
			break;
		case 'n':
			use_cache = 0;
			break;
		case 'p':
			parallel = 1;
			break;
		case 'o':
			if (parse_int(optarg, 0, 100000, &v, &e) < 0)
				usage();
			c.max_waiters_owner = (unsigned)v;
			break;
		case 'l':
			if (parse_int(optarg, 0, 60000, &v, &e) < 0)
				usage();
			linger_ms = (int)v;
			break;
		default:
			usage();
		}
	}
	if (list == NULL || optind >= argc)
		usage();
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		const char *one[1] = {tok};

		if (dnsup_cfg_add_servers(&c, one, 1, &e) < 0) {
			fprintf(stderr, "dnstun-resolve: %s\n", e.msg);
			return 2;
		}
	}
	if ((loop = ev_loop_new(&e)) == NULL ||
	    (u = dnsup_new(loop, &c, &e)) == NULL) {
		fprintf(stderr, "dnstun-resolve: %s\n", e.msg);
		return 2;
	}
	if (use_cache) {
		dnscache_cfg_server(&cc);
		cache = dnscache_new(&cc);
	}
	n = argc - optind;
	jobs = xcalloc((size_t)n, sizeof *jobs);
	for (i = 0; i < n; i++) {
		long l = hex_decode(argv[optind + i], strlen(argv[optind + i]),
		    jobs[i].q, sizeof jobs[i].q);

		if (l < 0) {
			fprintf(
			    stderr, "dnstun-resolve: query %d: bad hex\n", i);
			return 2;
		}
		jobs[i].n = (size_t)l;
		jobs[i].idx = i;
	}
	for (i = 0; i < n; i++) {
		start(u, &jobs[i]);
		while (!parallel && pending > 0)
			ev_run_once(loop, -1);
		fflush(stdout);
	}
	while (pending > 0)
		ev_run_once(loop, -1);
	end = now_mono_ms() + (uint64_t)linger_ms;
	while (now_mono_ms() < end)
		ev_run_once(loop, (int)(end - now_mono_ms()));
	st = dnsup_stats(u);
	printf("stats sent=%llu answers=%llu shared=%llu hedged=%llu "
	       "timeouts=%llu failures=%llu icmp=%llu drop_source=%llu "
	       "drop_id=%llu drop_question=%llu drop_malformed=%llu\n",
	    (unsigned long long)st->sent, (unsigned long long)st->answers,
	    (unsigned long long)st->shared, (unsigned long long)st->hedged,
	    (unsigned long long)st->timeouts, (unsigned long long)st->failures,
	    (unsigned long long)st->icmp_errors,
	    (unsigned long long)st->drop_source,
	    (unsigned long long)st->drop_id,
	    (unsigned long long)st->drop_question,
	    (unsigned long long)st->drop_malformed);
	dnsup_free(u);
	dnscache_free(cache);
	ev_loop_free(loop);
	free(jobs);
	return 0;
}
