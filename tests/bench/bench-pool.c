/* SPDX-License-Identifier: MIT */
/*
 * bench-pool.c — resolver pool hot path (engine/pool.c): for 1,000 and
 * 100,000 active connections and each balancing strategy 1–8, picks per
 * second of pool_pick(k=1) and pool_pick(k=2), and full query cycles per
 * second (pick 2, record both sends, record both answers: the statistics
 * update re-keys the strategy's tree). Stats are pre-seeded so every
 * strategy has its signal. Time in the pool is a fake clock advanced 1 µs
 * per cycle. Prints the median of 3 runs; nothing is asserted.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/net.h"
#include "common/util.h"
#include "engine/pool.h"

#define RUNS 3

static uint64_t fclk = 1000000000ull;
static uint16_t dns_id;
static volatile uint32_t sink;

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

static struct pool *
build(int strategy, size_t n)
{
	static const char *dom[] = {"t.example"};
	union net_addr *a = xcalloc(n, sizeof(*a));
	struct pool_cfg cfg;
	struct pool *p;
	uint32_t *ids = xcalloc(n, sizeof(*ids));
	size_t i, k, j;

	for (i = 0; i < n; i++) {
		a[i].in.sin_family = AF_INET;
		a[i].in.sin_port = htons(53);
		a[i].in.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i);
	}
	pool_cfg_default(&cfg);
	cfg.strategy = strategy;
	cfg.ready_min = 0;
	cfg.start_parallelism = (unsigned)n;
	cfg.seed = 1;
	cfg.auto_disable = 0;
	p = pool_new(&cfg, a, n, dom, 1, fclk, NULL);
	k = pool_mtu_test_next(p, fclk, ids, n);
	for (i = 0; i < k; i++)
		pool_mtu_result(p, ids[i], 1, 120, 1000, NULL, fclk, NULL);
	/* 8 queries each: loss 0..3 of 8, RTT 10..73 ms */
	for (i = 0; i < n; i++)
		for (j = 0; j < 8; j++) {
			uint16_t d = dns_id++;

			pool_on_send(p, (uint32_t)i, 0, d, fclk);
			if (j >= i % 4)
				pool_on_answer(p, (uint32_t)i, 0, d, 0,
				    fclk + (10 + i % 64) * 1000, NULL);
			else
				pool_on_timeout(p, (uint32_t)i, 0, d, fclk);
		}
	free(ids);
	free(a);
	return p;
}

/* ops per second of one loop kind: 0 pick1, 1 pick2, 2 full cycle */
static double
run(struct pool *p, int kind, long iters)
{
	uint32_t v[2];
	double t0 = now_s(), dt;
	long i;

	for (i = 0; i < iters; i++) {
		fclk++;
		if (kind == 0) {
			pool_pick(p, 1, v);
			sink += v[0];
		} else if (kind == 1) {
			pool_pick(p, 2, v);
			sink += v[1];
		} else {
			uint16_t d = dns_id++;
			size_t k = pool_pick(p, 2, v), j;

			for (j = 0; j < k; j++)
				pool_on_send(p, v[j], 0, d, fclk);
			for (j = 0; j < k; j++)
				pool_on_answer(p, pool_conn(p, v[j])->resolver,
				    0, d, (d & 15) == 0, fclk + 20000, NULL);
		}
	}
	dt = now_s() - t0;
	return iters / (dt > 0 ? dt : 1e-9);
}

int
main(void)
{
	static const size_t sizes[] = {1000, 100000};
	static const char *names[] = {"", "random", "round-robin", "least-loss",
	    "lowest-latency", "hybrid", "loss-then-latency", "top10%-random",
	    "top10%-rr"};
	size_t si;
	int s, kind, r;

	printf("%-8s %-18s %14s %14s %14s\n", "conns", "strategy", "pick1/s",
	    "pick2/s", "cycle/s");
	for (si = 0; si < 2; si++) {
		for (s = 1; s <= 8; s++) {
			struct pool *p = build(s, sizes[si]);
			double res[3];

			for (kind = 0; kind < 3; kind++) {
				double m[RUNS];
				long iters = kind == 2 ? 100000 : 300000;

				for (r = 0; r < RUNS; r++)
					m[r] = run(p, kind, iters);
				qsort(m, RUNS, sizeof(m[0]), cmp_d);
				res[kind] = m[RUNS / 2];
			}
			printf("%-8zu %-18s %14.0f %14.0f %14.0f\n", sizes[si],
			    names[s], res[0], res[1], res[2]);
			pool_free(p);
		}
	}
	return 0;
}
