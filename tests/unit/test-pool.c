/* SPDX-License-Identifier: MIT */
/*
 * test-pool.c — the resolver pool (engine/pool.[ch]) on a fake clock:
 * each balancing strategy against a reference written from upstream's
 * definitions, duplication, stream failover and cooldown, query matching,
 * auto-disable (and not), confirm, recheck schedule and re-enable, the
 * low-MTU outlier rule, the fast start over 1,000 connections, the status
 * export and monotonic counters, and the MTU probes (search, retries,
 * timeouts, matching) against simulated resolvers. No network: addresses
 * are only labels.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/net.h"
#include "common/util.h"
#include "engine/pool.h"
#include "proto/wire.h"
#include "tests/tap.h"

#define SEC  1000000ull
#define MSEC 1000ull

static uint64_t clk = 1000 * SEC; /* fake monotonic clock, µs */
static uint16_t next_dns = 1;

static union net_addr *
mkaddrs(size_t n)
{
	union net_addr *a = xcalloc(n, sizeof(*a));
	size_t i;

	for (i = 0; i < n; i++) {
		a[i].in.sin_family = AF_INET;
		a[i].in.sin_port = htons(53);
		a[i].in.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i + 1);
	}
	return a;
}

/* A pool of n connections with one domain, created at clk. */
static struct pool *
mkpool(const struct pool_cfg *cfg, size_t n)
{
	static const char *dom[] = {"t.example"};
	union net_addr *a = mkaddrs(n);
	struct err e = {""};
	struct pool *p = pool_new(cfg, a, n, dom, 1, clk, &e);

	if (p == NULL)
		tap_diag("pool_new: %s", e.msg);
	free(a);
	return p;
}

/* Test everything and pass all with the same MTUs: all ACTIVE. */
static struct pool *
mkactive(int strategy, size_t n)
{
	struct pool_cfg cfg;
	struct pool *p;
	uint32_t *ids = xcalloc(n, sizeof(*ids));
	size_t k, i;

	pool_cfg_default(&cfg);
	cfg.strategy = strategy;
	cfg.ready_min = 0;
	cfg.start_parallelism = (unsigned)n;
	cfg.seed = 42;
	p = mkpool(&cfg, n);
	k = pool_mtu_test_next(p, clk, ids, n);
	for (i = 0; i < k; i++)
		pool_mtu_result(p, ids[i], 1, 120, 1000, NULL, clk, NULL);
	free(ids);
	while (pool_event_next(p, &(struct pool_event){0}))
		;
	return p;
}

/* n queries to id: the first `ok` answered after rtt, the rest lost. */
static void
feed(struct pool *p, uint32_t id, unsigned n, unsigned ok, uint64_t rtt)
{
	const struct pool_conn *c = pool_conn(p, id);
	unsigned i;

	for (i = 0; i < n; i++) {
		uint16_t d = next_dns++;

		pool_on_send(p, id, 3, d, clk);
		if (i < ok)
			pool_on_answer(
			    p, c->resolver, 3, d, 0, clk + rtt, NULL);
		else
			pool_on_timeout(p, c->resolver, 3, d, clk + rtt);
	}
}

/* ---- reference scores, written from upstream's balancer.go ---- */

static uint64_t
ref_loss(const struct pool_conn *c)
{
	if (c->s_sent < 5)
		return 200;
	return c->s_lost == 0 ? 0 : c->s_lost * 1000 / c->s_sent;
}

static uint64_t
ref_lat(const struct pool_conn *c)
{
	return c->rtt_n < 5 ? 999000 : c->rtt_sum_us / c->rtt_n;
}

static uint64_t
ref_pen(const struct pool_conn *c)
{
	uint64_t l = ref_lat(c);

	if (l == 999000)
		return 200;
	return l / 1000 > 1000 ? 1000 : l / 1000;
}

static int
all_distinct_active(struct pool *p, const uint32_t *v, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct pool_conn *c = pool_conn(p, v[i]);

		if (c == NULL || c->state != POOL_ACTIVE)
			return 0;
		for (j = 0; j < i; j++)
			if (v[i] == v[j])
				return 0;
	}
	return 1;
}

static void
test_new_errors(void)
{
	struct pool_cfg cfg;
	union net_addr *a = mkaddrs(2);
	const char *dom[] = {"t.example"};
	struct err e = {""};

	pool_cfg_default(&cfg);
	cfg.strategy = 9;
	tap_ok(pool_new(&cfg, a, 2, dom, 1, 0, &e) == NULL &&
		strstr(e.msg, "strategy 9") != NULL,
	    "strategy 9 refused: %s", e.msg);
	cfg.strategy = 2;
	tap_ok(pool_new(&cfg, a, 0, dom, 1, 0, &e) == NULL &&
		strstr(e.msg, "no resolvers") != NULL,
	    "no resolvers refused");
	tap_ok(pool_new(&cfg, a, 2, dom, 0, 0, &e) == NULL &&
		strstr(e.msg, "no domains") != NULL,
	    "no domains refused");
	free(a);
}

static void
test_lookup_and_keys(void)
{
	struct pool_cfg cfg;
	const char *dom[] = {"a.example", "b.example"};
	union net_addr *a = mkaddrs(3), probe;
	struct pool *p;
	uint32_t ids[6];
	uint64_t rtt = 0;
	size_t k, i;

	pool_cfg_default(&cfg);
	cfg.ready_min = 0;
	p = pool_new(&cfg, a, 3, dom, 2, clk, NULL);
	tap_is_int(pool_size(p), 6, "3 resolvers x 2 domains");
	tap_is_str(pool_conn_domain(p, 3), "b.example",
	    "id = resolver * ndomains + domain");
	tap_is_int(pool_conn(p, 3)->resolver, 1, "conn 3 is resolver 1");
	probe = a[2];
	tap_is_int(pool_resolver_find(p, &probe), 2,
	    "resolver found by "
	    "address");
	probe.in.sin_port = htons(54);
	tap_is_int(pool_resolver_find(p, &probe), -1, "other port unknown");
	k = pool_mtu_test_next(p, clk, ids, 6);
	for (i = 0; i < k; i++)
		pool_mtu_result(p, ids[i], 1, 100, 500, NULL, clk, NULL);
	/* one DNS id duplicated to two resolvers and to one resolver over
	 * two local sockets: each answer matches its own send */
	pool_on_send(p, 0, 7, 500, clk);
	pool_on_send(p, 2, 7, 500, clk);
	pool_on_send(p, 4, 8, 500, clk);
	pool_on_send(p, 5, 9, 500, clk); /* resolver 2 again, socket 9 */
	tap_is_int(pool_on_answer(p, 1, 7, 500, 0, clk + 20 * MSEC, &rtt), 2,
	    "answer from resolver 1 matches conn 2");
	tap_is_int(rtt, 20000, "rtt measured from the send");
	tap_is_int(pool_on_answer(p, 2, 9, 500, 0, clk + 30 * MSEC, NULL), 5,
	    "same resolver, other local socket: conn 5");
	tap_is_int(pool_on_answer(p, 2, 8, 500, 0, clk + 30 * MSEC, NULL), 4,
	    "same resolver, socket 8: conn 4");
	tap_is_int(pool_on_answer(p, 1, 7, 500, 0, clk, NULL), POOL_NONE,
	    "a second answer matches nothing");
	tap_is_int(pool_on_answer(p, 0, 7, 501, 0, clk, NULL), POOL_NONE,
	    "unknown DNS id matches nothing");
	tap_is_int(pool_conn(p, 0)->answered, 0,
	    "unanswered conn 0 not "
	    "counted");
	/* RCODE != 0 is a failure, NOERROR (even without TXT) a success */
	pool_on_send(p, 1, 7, 600, clk);
	pool_on_answer(p, 0, 7, 600, 2, clk + 5 * MSEC, NULL);
	tap_ok(pool_conn(p, 1)->failures == 1 &&
		pool_conn(p, 1)->answered == 0 && pool_conn(p, 1)->s_lost == 1,
	    "SERVFAIL counts as a failure (loss)");
	pool_on_send(p, 1, 7, 601, clk);
	pool_on_answer(p, 0, 7, 601, 0, clk + 5 * MSEC, NULL);
	tap_is_int(pool_conn(p, 1)->answered, 1, "NOERROR counts as answered");
	pool_free(p);
	free(a);
}

static void
test_timeouts_and_late(void)
{
	struct pool *p = mkactive(2, 5);
	uint64_t req = pool_request_timeout(p), t0 = clk;
	const struct pool_conn *c = pool_conn(p, 1);

	tap_is_int(req, 5 * SEC,
	    "request timeout with 5 active: 5 s "
	    "(upstream check-interval floor)");
	pool_on_send(p, 1, 3, 900, t0);
	pool_tick(p, t0 + req - 1);
	tap_is_int(c->timeouts, 0, "not timed out just before the timeout");
	tap_is_int(pool_next_deadline(p, t0 + req - 1), t0 + req,
	    "deadline = send + request timeout");
	pool_tick(p, t0 + req);
	tap_ok(c->timeouts == 1 && c->s_lost == 1,
	    "timed out at the request "
	    "timeout");
	tap_is_int(pool_on_answer(p, 1, 3, 900, 0, t0 + req + SEC, NULL), 1,
	    "late answer still matched (grace)");
	tap_ok(c->late == 1 && c->answered == 1 && c->s_lost == 0 &&
		c->timeouts == 1,
	    "late answer retracts the loss, counters stay");
	pool_on_send(p, 1, 3, 901, t0 + 2 * SEC);
	pool_tick(p, t0 + 2 * SEC + 60 * SEC);
	tap_is_int(pool_on_answer(p, 1, 3, 901, 0, t0 + 63 * SEC, NULL),
	    POOL_NONE, "answer after the grace matches nothing");
	pool_free(p);
}

static void
test_round_robin_and_random(void)
{
	struct pool *p = mkactive(2, 5);
	uint32_t v[8], seen[5] = {0};
	size_t i, k;
	int ok = 1;

	for (i = 0; i < 5; i++) {
		pool_pick(p, 1, v);
		seen[v[0]]++;
	}
	for (i = 0; i < 5; i++)
		ok &= seen[i] == 1;
	tap_ok(ok, "round robin: 5 picks visit each of 5 once");
	k = pool_pick(p, 3, v);
	tap_ok(k == 3 && all_distinct_active(p, v, 3) &&
		(v[1] == (v[0] + 1) % 5) && v[2] == (v[0] + 2) % 5,
	    "round robin k=3: consecutive distinct");
	pool_free(p);

	p = mkactive(1, 7);
	memset(seen, 0, sizeof(seen));
	ok = 1;
	{
		unsigned cnt[7] = {0};

		for (i = 0; i < 2000; i++) {
			k = pool_pick(p, 4, v);
			ok &= k == 4 && all_distinct_active(p, v, 4);
			cnt[v[0]]++;
		}
		tap_ok(ok, "random k=4: always 4 distinct active");
		ok = 1;
		for (i = 0; i < 7; i++)
			ok &= cnt[i] > 2000 / 7 / 2;
		tap_ok(ok, "random: every connection drawn first often");
	}
	k = pool_pick(p, 20, v);
	tap_is_int(k, 7, "k above the active count is clamped");
	pool_free(p);
}

static void
test_least_loss(void)
{
	struct pool *p = mkactive(3, 5);
	uint32_t v[5], seen[5] = {0};
	size_t i;

	/* no signal yet: round robin */
	for (i = 0; i < 5; i++) {
		pool_pick(p, 1, v);
		seen[v[0]] = 1;
	}
	tap_ok(seen[0] && seen[1] && seen[2] && seen[3] && seen[4],
	    "least loss without signal is round robin");
	feed(p, 0, 10, 5, 10 * MSEC);  /* 500 */
	feed(p, 1, 10, 10, 10 * MSEC); /* 0 */
	feed(p, 2, 10, 8, 10 * MSEC);  /* 200 */
	feed(p, 3, 4, 0, 10 * MSEC);   /* < 5 sent: 200 probation */
	feed(p, 4, 10, 9, 10 * MSEC);  /* 100 */
	tap_ok(ref_loss(pool_conn(p, 0)) == 500 &&
		ref_loss(pool_conn(p, 4)) == 100 &&
		ref_loss(pool_conn(p, 3)) == 200,
	    "crafted losses as upstream scores them");
	pool_pick(p, 1, v);
	tap_is_int(v[0], 1, "least loss picks the 0 %% one");
	pool_pick(p, 2, v);
	tap_ok(v[0] == 1 && v[1] == 4, "k=2: the two lowest (1, 4)");
	pool_pick(p, 3, v);
	tap_ok(v[2] == 2 || v[2] == 3, "k=3: third is one of the 200s");
	/* a tie at the top rotates */
	feed(p, 4, 100, 100, 10 * MSEC); /* 10 lost of 110: 90 */
	feed(p, 3, 10, 10, 10 * MSEC);	 /* 4/14: 285 */
	{
		struct pool *q = mkactive(3, 4);
		int a = 0, b = 0;

		feed(q, 0, 10, 10, MSEC);
		feed(q, 2, 10, 10, MSEC);
		feed(q, 1, 10, 5, MSEC);
		feed(q, 3, 10, 5, MSEC);
		for (i = 0; i < 10; i++) {
			pool_pick(q, 1, v);
			a += v[0] == 0;
			b += v[0] == 2;
		}
		tap_ok(a > 0 && b > 0 && a + b == 10,
		    "equal best losses take turns (%d/%d)", a, b);
		pool_free(q);
	}
	pool_free(p);
}

static void
test_latency_and_hybrid(void)
{
	struct pool *p = mkactive(4, 5);
	uint32_t v[5];

	feed(p, 0, 10, 10, 50 * MSEC);
	feed(p, 1, 10, 10, 10 * MSEC);
	feed(p, 2, 10, 10, 30 * MSEC);
	feed(p, 3, 4, 4, 1 * MSEC); /* 4 samples: unknown */
	feed(p, 4, 10, 10, 20 * MSEC);
	tap_ok(ref_lat(pool_conn(p, 3)) == 999000, "4 RTT samples: unknown");
	pool_pick(p, 3, v);
	tap_ok(v[0] == 1 && v[1] == 4 && v[2] == 2,
	    "lowest latency k=3: 10, 20, 30 ms (%u %u %u)", v[0], v[1], v[2]);
	pool_free(p);

	p = mkactive(5, 3);
	feed(p, 0, 20, 20, 300 * MSEC); /* 0*8 + 300 = 300 */
	feed(p, 1, 20, 18, 10 * MSEC);	/* 100*8 + 10 = 810 */
	feed(p, 2, 20, 20, 100 * MSEC); /* 0*8 + 100 = 100 */
	{
		uint64_t h[3];
		int i;

		for (i = 0; i < 3; i++)
			h[i] = ref_loss(pool_conn(p, i)) * 8 +
			    ref_pen(pool_conn(p, i));
		tap_ok(h[0] == 300 && h[1] == 810 && h[2] == 100,
		    "hybrid scores per upstream: %llu %llu %llu",
		    (unsigned long long)h[0], (unsigned long long)h[1],
		    (unsigned long long)h[2]);
	}
	pool_pick(p, 3, v);
	tap_ok(v[0] == 2 && v[1] == 0 && v[2] == 1, "hybrid orders 2, 0, 1");
	pool_free(p);
}

static void
test_loss_then_latency(void)
{
	struct pool *p = mkactive(6, 4);
	uint32_t v[4];
	unsigned cnt[4] = {0}, i;
	int ok = 1;

	feed(p, 0, 50, 50, 100 * MSEC); /* loss 0, 100 ms */
	feed(p, 1, 50, 49, 20 * MSEC);	/* loss 20, 20 ms */
	feed(p, 2, 50, 45, 5 * MSEC);	/* loss 100, 5 ms */
	feed(p, 3, 50, 50, 22 * MSEC);	/* loss 0, 22 ms */
	/* upstream: best loss 0, cutoff 25 -> {0,1,3}; best latency 20 ms,
	 * tolerance max(2, 20/4) = 5 -> {1, 3} */
	for (i = 0; i < 400; i++) {
		clk += 10 * MSEC;
		pool_tick(p, clk);
		pool_pick(p, 1, v);
		cnt[v[0]]++;
	}
	tap_ok(cnt[0] == 0 && cnt[2] == 0,
	    "loss-then-latency never picks 0 "
	    "(slow) or 2 (lossy)");
	tap_ok(cnt[1] > 0 && cnt[3] > 0,
	    "picks at random in {1, 3} "
	    "(%u/%u)",
	    cnt[1], cnt[3]);
	for (i = 0; i < 100; i++)
		ok &= pool_pick(p, 3, v) == 3 && all_distinct_active(p, v, 3) &&
		    ((v[0] == 1 && v[1] == 3) || (v[0] == 3 && v[1] == 1));
	tap_ok(ok, "k=3: the pool first, then topped up");
	pool_free(p);

	/* the candidate set is cached for 50 ms of stats changes */
	p = mkactive(6, 3);
	feed(p, 0, 50, 50, 10 * MSEC);
	feed(p, 1, 50, 50, 100 * MSEC);
	feed(p, 2, 50, 50, 100 * MSEC);
	pool_tick(p, clk);
	pool_pick(p, 1, v);
	tap_is_int(v[0], 0, "fastest one picked");
	feed(p, 0, 200, 100, 10 * MSEC); /* now very lossy */
	pool_tick(p, clk + 10 * MSEC);
	pool_pick(p, 1, v);
	tap_is_int(v[0], 0, "within 50 ms the cached set still holds");
	pool_tick(p, clk + 60 * MSEC);
	pool_pick(p, 1, v);
	tap_ok(v[0] == 1 || v[0] == 2, "after 50 ms the lossy one is out");
	pool_free(p);
}

static void
test_top_tier(void)
{
	struct pool *p = mkactive(7, 30);
	uint32_t v[6], i;
	unsigned cnt[30] = {0};
	int ok = 1;

	for (i = 0; i < 30; i++)
		feed(p, i, 100, 100 - (i * 37 % 30), MSEC);
	/* tier = max(2, ceil(30/10)) = 3: the three lowest losses are the
	 * i with i*37%30 in {0,1,2}: i = 0, 13, 26 */
	for (i = 0; i < 300; i++) {
		pool_pick(p, 1, v);
		cnt[v[0]]++;
	}
	tap_ok(cnt[0] + cnt[13] + cnt[26] == 300,
	    "top-tier random stays in "
	    "the best 10 %%");
	tap_ok(cnt[0] && cnt[13] && cnt[26], "and uses all of it");
	for (i = 0; i < 50; i++) {
		ok &= pool_pick(p, 5, v) == 5 && all_distinct_active(p, v, 5);
		ok &= ref_loss(pool_conn(p, v[3])) <= 40;
	}
	tap_ok(ok, "k=5 > tier: tier plus the next best, distinct");
	pool_free(p);

	p = mkactive(8, 30);
	for (i = 0; i < 30; i++)
		feed(p, i, 100, 100 - (i * 37 % 30), MSEC);
	{
		uint32_t a, b, c;

		pool_pick(p, 1, v);
		a = v[0];
		pool_pick(p, 1, v);
		b = v[0];
		pool_pick(p, 1, v);
		c = v[0];
		pool_pick(p, 1, v);
		ok = a != b && b != c && a != c && v[0] == a;
		ok &= (a == 0 || a == 13 || a == 26) &&
		    (b == 0 || b == 13 || b == 26) &&
		    (c == 0 || c == 13 || c == 26);
		tap_ok(ok, "top-tier round robin cycles the 3 best");
	}
	pool_free(p);
}

static void
test_duplication(void)
{
	int s, ok = 1;
	uint32_t v[8];
	struct pool_cfg cfg;
	struct pool *p;

	for (s = 0; s <= 8; s++) {
		uint32_t i, k;

		p = mkactive(s, 12);
		for (i = 0; i < 12; i++)
			feed(p, i, 20, 20 - i % 4, (i + 1) * MSEC);
		for (k = 1; k <= 6; k++)
			for (i = 0; i < 20; i++)
				ok &= pool_pick(p, k, v) == k &&
				    all_distinct_active(p, v, k);
		pool_free(p);
	}
	tap_ok(ok, "every strategy: pick(k) gives k distinct active, k=1..6");
	pool_cfg_default(&cfg);
	cfg.dup = 3;
	cfg.setup_dup = 4;
	p = mkpool(&cfg, 2);
	tap_ok(pool_dup_count(p, POOL_FRAME_OTHER) == 3 &&
		pool_dup_count(p, POOL_FRAME_STREAM_DATA) == 3 &&
		pool_dup_count(p, POOL_FRAME_SETUP) == 4 &&
		pool_dup_count(p, POOL_FRAME_PING) == 2,
	    "dup 3/setup 4: 3, 4, "
	    "ping 2");
	pool_free(p);
	cfg.dup = 1;
	cfg.setup_dup = 0;
	p = mkpool(&cfg, 2);
	tap_ok(pool_dup_count(p, POOL_FRAME_SETUP) == 1 &&
		pool_dup_count(p, POOL_FRAME_PING) == 1,
	    "setup never below "
	    "normal; ping 1 when dup 1");
	pool_free(p);
	p = mkactive(2, 3);
	tap_is_int(pool_select(p, POOL_FRAME_SETUP, 0, clk, v, 8), 2,
	    "select: setup k = 2 (default)");
	pool_free(p);
}

static void
test_failover(void)
{
	struct pool *p = mkactive(2, 6);
	uint32_t v[4], a, b, c2;

	pool_stream_open(p, 5);
	tap_is_int(pool_select(p, POOL_FRAME_STREAM_DATA, 5, clk, v, 4), 2,
	    "stream data: 2 targets");
	a = v[0];
	tap_ok(pool_stream_preferred(p, 5) == a && v[1] != a,
	    "first target is the stream's preferred resolver");
	pool_select(p, POOL_FRAME_STREAM_DATA, 5, clk, v, 4);
	tap_is_int(v[0], a, "sticky across frames");
	pool_select(p, POOL_FRAME_STREAM_RESEND, 5, clk, v, 4);
	tap_is_int(v[0], a, "one resend: stays");
	pool_select(p, POOL_FRAME_STREAM_RESEND, 5, clk, v, 4);
	b = v[0];
	tap_ok(b != a && pool_stream_preferred(p, 5) == b,
	    "second resend: fails over (%u -> %u)", a, b);
	pool_select(p, POOL_FRAME_STREAM_RESEND, 5, clk + SEC, v, 4);
	pool_select(p, POOL_FRAME_STREAM_RESEND, 5, clk + 2 * SEC, v, 4);
	tap_is_int(v[0], b, "two more resends within 2.5 s: cooldown holds");
	pool_select(p, POOL_FRAME_STREAM_RESEND, 5, clk + 2600 * MSEC, v, 4);
	c2 = v[0];
	tap_ok(c2 != b, "after the cooldown: fails over again");
	pool_stream_progress(p, 5);
	pool_select(p, POOL_FRAME_STREAM_RESEND, 5, clk + 6 * SEC, v, 4);
	tap_is_int(v[0], c2, "progress resets the resend streak");
	pool_select(p, POOL_FRAME_STREAM_DATA, 6, clk, v, 4);
	tap_is_int(pool_stream_preferred(p, 6), POOL_NONE,
	    "a stream not "
	    "opened has no preferred resolver");
	pool_stream_close(p, 5);
	tap_is_int(pool_stream_preferred(p, 5), POOL_NONE,
	    "closed stream "
	    "forgotten");
	pool_free(p);

	/* least loss: failover goes to the best other (upstream
	 * getBestConnectionExcluding) */
	p = mkactive(3, 4);
	feed(p, 0, 20, 20, MSEC); /* 0 */
	feed(p, 1, 20, 19, MSEC); /* 50 */
	feed(p, 2, 20, 16, MSEC); /* 200 */
	feed(p, 3, 20, 18, MSEC); /* 100 */
	{
		int ok = 1, i;

		for (i = 0; i < 12; i++) {
			uint16_t st = (uint16_t)(100 + i);

			pool_stream_open(p, st);
			pool_select(p, POOL_FRAME_STREAM_DATA, st, clk, v, 4);
			a = v[0];
			pool_select(p, POOL_FRAME_STREAM_RESEND, st, clk, v, 4);
			pool_select(p, POOL_FRAME_STREAM_RESEND, st, clk, v, 4);
			ok &= v[0] == (a == 0 ? 1u : 0u);
		}
		tap_ok(ok, "least loss failover: best other resolver");
	}
	pool_free(p);

	/* a preferred resolver that stopped answering loses the very next
	 * retransmission, cooldown or not */
	p = mkactive(2, 4);
	pool_stream_open(p, 7);
	pool_select(p, POOL_FRAME_STREAM_DATA, 7, clk, v, 4);
	a = v[0];
	pool_select(p, POOL_FRAME_STREAM_RESEND, 7, clk, v, 4);
	pool_select(p, POOL_FRAME_STREAM_RESEND, 7, clk, v, 4);
	b = v[0]; /* failed over: the cooldown runs */
	feed(p, b, 2, 0, MSEC);
	pool_select(p, POOL_FRAME_STREAM_RESEND, 7, clk + MSEC, v, 4);
	tap_is_int(v[0], b, "two unanswered queries: the preferred stays");
	feed(p, b, 1, 0, MSEC);
	pool_select(p, POOL_FRAME_STREAM_RESEND, 7, clk + 2 * MSEC, v, 4);
	tap_ok(a != b && v[0] != b && pool_stream_preferred(p, 7) == v[0],
	    "three unanswered: the resend leaves it within the cooldown");
	pool_free(p);
}

/* Keep conns busy for `secs`: every 250 ms each conn gets one query;
 * conns in `dead` never answer, conns in `some` answer one in ten. */
static void
traffic(struct pool *p, unsigned n, unsigned secs, uint32_t dead, uint32_t some,
    int confirm_ok)
{
	unsigned step, i;
	uint32_t v[8];
	enum pool_check_kind kinds[8];

	for (step = 0; step < secs * 4; step++) {
		clk += 250 * MSEC;
		for (i = 0; i < n; i++) {
			const struct pool_conn *c = pool_conn(p, i);
			uint16_t d = next_dns++;

			if (c->state != POOL_ACTIVE)
				continue;
			pool_on_send(p, i, 3, d, clk);
			if (i == dead || (i == some && step % 10 != 0))
				continue;
			pool_on_answer(
			    p, c->resolver, 3, d, 0, clk + 40 * MSEC, NULL);
		}
		pool_tick(p, clk);
		if (confirm_ok >= 0) {
			size_t k = pool_check_next(p, clk, v, kinds, 8), j;

			for (j = 0; j < k; j++)
				pool_check_result(p, v[j],
				    kinds[j] == POOL_CHECK_CONFIRM ?
					confirm_ok :
					0,
				    clk, NULL);
		}
	}
}

static void
test_auto_disable(void)
{
	struct pool_cfg cfg;
	struct pool *p;
	struct pool_event ev;
	uint64_t t0;
	uint32_t v[8];
	enum pool_check_kind kinds[8];
	size_t k;
	struct err e = {""};

	tap_is_int(pool_disable_min_obs(3, 30 * SEC), 1000000,
	    "<= 3 active:"
	    " never (upstream)");
	tap_is_int(pool_disable_min_obs(6, 30 * SEC), 80,
	    "6 active, 30 s: "
	    "40 x 2 observations");
	tap_is_int(pool_disable_min_obs(200, 10 * SEC), 6,
	    "200 active, 10 s:"
	    " 6");

	p = mkactive(2, 6);
	t0 = clk;
	traffic(p, 6, 25, 0, 1, 0);
	tap_is_int(pool_conn(p, 0)->state, POOL_ACTIVE,
	    "25 s of only "
	    "timeouts: still active (window is 30 s)");
	traffic(p, 6, 10, 0, 1, 0);
	tap_is_int(pool_conn(p, 0)->state, POOL_DISABLED,
	    "past 30 s of only "
	    "timeouts: disabled (after a failed confirm)");
	tap_is_str(pool_conn(p, 0)->reason, "no valid answer for 30 s",
	    "reason says why");
	tap_is_int(pool_conn(p, 1)->state, POOL_ACTIVE,
	    "one answer in ten "
	    "keeps the lossy one active");
	tap_ok(pool_event_next(p, &ev) && ev.kind == POOL_EV_DISABLED &&
		ev.conn == 0 &&
		strcmp(ev.detail, "no valid answer for 30 s") == 0 &&
		ev.at_us > t0,
	    "disabled event queued with the reason");
	tap_is_str(pool_event_kind_name(ev.kind), "resolver_disabled",
	    "event kind name per the control protocol");
	traffic(p, 6, 60, 9, 1, 0);
	tap_is_int(pool_conn(p, 1)->state, POOL_ACTIVE,
	    "lossy one still "
	    "active after 60 s more");
	pool_free(p);

	/* confirm: the client's quick probe says "up" -> stays */
	p = mkactive(2, 6);
	traffic(p, 6, 40, 0, 99, 1);
	tap_is_int(pool_conn(p, 0)->state, POOL_ACTIVE,
	    "confirm probe "
	    "answered: not disabled");
	pool_free(p);

	/* no confirm when configured off or more than 20 active */
	pool_cfg_default(&cfg);
	cfg.confirm_down = 0;
	cfg.ready_min = 0;
	p = mkpool(&cfg, 6);
	k = pool_mtu_test_next(p, clk, v, 8);
	while (k--)
		pool_mtu_result(p, v[k], 1, 100, 500, NULL, clk, NULL);
	traffic(p, 6, 40, 2, 99, -1);
	tap_is_int(pool_conn(p, 2)->state, POOL_DISABLED,
	    "without confirm: "
	    "disabled directly");
	tap_is_int(pool_check_result(p, 3, 1, clk, &e), -1,
	    "result for a "
	    "connection not being checked is refused");
	tap_ok(strstr(e.msg, "not being checked") != NULL, "with a message");

	/* recheck schedule: 5 active, 1 inactive -> every 12 s, batch 1 */
	tap_is_int(pool_recheck_interval_us(5, 1), 12 * SEC,
	    "interval(5,1) "
	    "12 s");
	tap_is_int(
	    pool_recheck_interval_us(200, 50), 2 * SEC, "interval(200,50) 2 s");
	tap_is_int(
	    pool_recheck_interval_us(60, 25), 3 * SEC, "interval(60,25) 3 s");
	tap_is_int(pool_recheck_batch(200, 300), 16, "batch(200,300) 16");
	tap_is_int(pool_recheck_batch(3, 100), 2, "batch(3,100) 2");
	tap_is_int(pool_recheck_batch(30, 5), 2, "batch(30,5) 2");
	tap_is_int(pool_recheck_batch(100, 30), 7, "batch(100,30) 7");
	tap_is_int(pool_recheck_timeout(p), 6 * SEC,
	    "recheck probe timeout "
	    "with 5 active: 6 s");
	{
		uint64_t td = pool_conn(p, 2)->last_check_us;

		clk = td + 11 * SEC;
		k = pool_check_next(p, clk, v, kinds, 8);
		tap_is_int(k, 0, "no recheck before 12 s");
		tap_ok(pool_next_deadline(p, clk) <= td + 12 * SEC,
		    "deadline announces the recheck");
		clk = td + 12 * SEC;
		k = pool_check_next(p, clk, v, kinds, 8);
		tap_ok(k == 1 && v[0] == 2 && kinds[0] == POOL_CHECK_RECHECK,
		    "at 12 s: recheck the disabled one");
		tap_is_int(pool_conn(p, 2)->state, POOL_RECHECKING,
		    "state rechecking");
		pool_check_result(p, 2, 0, clk + 6 * SEC, NULL);
		tap_ok(pool_conn(p, 2)->state == POOL_DISABLED &&
			strcmp(pool_conn(p, 2)->reason,
			    "no valid answer for 30 s") == 0,
		    "failed recheck: disabled again, reason kept");
		clk += 6 * SEC;
		k = pool_check_next(p, clk, v, kinds, 8);
		tap_is_int(k, 0, "next recheck waits its interval");
		clk = td + 24 * SEC;
		k = pool_check_next(p, clk, v, kinds, 8);
		tap_ok(k == 1 && v[0] == 2,
		    "rechecked again 12 s after the "
		    "last start");
		while (pool_event_next(p, &ev))
			;
		pool_check_result(p, 2, 1, clk, NULL);
		tap_ok(pool_conn(p, 2)->state == POOL_ACTIVE &&
			pool_conn(p, 2)->reason[0] == '\0' &&
			pool_conn(p, 2)->down_mtu == 500,
		    "passed recheck: active "
		    "again at the synced MTU");
		tap_ok(pool_event_next(p, &ev) && ev.kind == POOL_EV_ENABLED &&
			ev.conn == 2,
		    "enabled event queued");
	}
	pool_free(p);

	/* 3 active: upstream never disables */
	p = mkactive(2, 3);
	traffic(p, 3, 60, 0, 99, 0);
	tap_is_int(pool_conn(p, 0)->state, POOL_ACTIVE,
	    "3 active: never "
	    "auto-disabled");
	pool_free(p);
}

static void
test_outliers(void)
{
	unsigned up[12], down[12], tu, td;
	uint8_t drop[12];
	size_t i, n;
	struct pool_cfg cfg;
	struct pool *p;
	uint32_t v[16];
	unsigned su, sd;

	for (i = 0; i < 10; i++) {
		up[i] = 100;
		down[i] = 1000;
	}
	down[8] = 300;
	down[9] = 320;
	n = pool_outlier_filter(up, down, 10, drop, &tu, &td);
	tap_ok(n == 2 && drop[8] && drop[9] && td == 1000 && tu == 0,
	    "two low downloads among 10 dropped (target 1000)");
	for (i = 6; i < 10; i++)
		down[i] = 300;
	n = pool_outlier_filter(up, down, 10, drop, &tu, &td);
	tap_is_int(n, 0,
	    "4 low of 10 exceed the 20 %% budget: no gain, keep "
	    "all");
	for (i = 0; i < 10; i++)
		down[i] = i < 8 ? 500 : 450;
	tap_is_int(pool_outlier_filter(up, down, 10, drop, &tu, &td), 0,
	    "small differences kept");
	tap_is_int(pool_outlier_filter(up, down, 4, drop, &tu, &td), 0,
	    "fewer than 5: never");
	for (i = 0; i < 10; i++) {
		up[i] = i == 0 ? 40 : 140;
		down[i] = 1000;
	}
	n = pool_outlier_filter(up, down, 10, drop, &tu, &td);
	tap_ok(n == 1 && drop[0] && tu == 140, "a low upload dropped too");

	/* through the fast start with ready_min = 0 (upstream: wait all) */
	pool_cfg_default(&cfg);
	cfg.ready_min = 0;
	p = mkpool(&cfg, 10);
	n = pool_mtu_test_next(p, clk, v, 16);
	for (i = 0; i < n; i++)
		pool_mtu_result(p, v[i], 1, 100,
		    i >= 8 ? 300 + 20 * (i - 8) : 1000, NULL, clk, NULL);
	tap_ok(pool_ready(p, clk, &su, &sd) && su == 100 && sd == 1000,
	    "synced download 1000 after dropping outliers");
	tap_ok(pool_conn(p, 8)->state == POOL_REJECTED &&
		strcmp(pool_conn(p, 8)->reason,
		    "low-MTU outlier: download 300 < target 1000") == 0,
	    "outlier rejected with reason: %s", pool_conn(p, 8)->reason);
	pool_free(p);
}

struct job {
	uint32_t id;
	uint64_t at;
};

/* MTUs the fake client "measures" in the fast-start test. */
static int
good(uint32_t id, unsigned *up, unsigned *down)
{
	if (id % 100 != 7)
		return 0;
	*up = 120;
	*down = id == 507 ? 600 : id == 307 ? 1200 : 1000 + id / 100;
	return 1;
}

static void
test_fast_start(void)
{
	struct pool_cfg cfg;
	struct pool *p;
	struct job *jobs = xcalloc(2000, sizeof(*jobs));
	size_t nj = 0, i, k, max_inflight_before = 0, max_after = 0;
	uint32_t v[512];
	uint64_t t0 = clk, ready_at = 0;
	unsigned su = 0, sd = 0, su2, sd2, tested_at_ready = 0, tested = 0;
	struct pool_counts pc;
	struct pool_event ev;
	int saw507 = 0, saw307 = 0;

	pool_cfg_default(&cfg);
	p = mkpool(&cfg, 1000);
	tap_ok(!pool_ready(p, clk, NULL, NULL) && !pool_failed(p),
	    "not ready before any test");
	for (;;) {
		k = pool_mtu_test_next(p, clk, v, 512);
		for (i = 0; i < k; i++) {
			unsigned u, d;

			jobs[nj].id = v[i];
			jobs[nj++].at =
			    clk + (good(v[i], &u, &d) ? SEC : 8 * SEC);
		}
		pool_counts(p, &pc);
		if (ready_at == 0 && pc.in_flight_tests > max_inflight_before)
			max_inflight_before = pc.in_flight_tests;
		if (ready_at && k > 0 && pc.in_flight_tests > max_after)
			max_after = pc.in_flight_tests;
		if (nj == 0)
			break;
		/* advance to the earliest finishing job */
		{
			size_t m = 0;

			for (i = 1; i < nj; i++)
				if (jobs[i].at < jobs[m].at)
					m = i;
			clk = jobs[m].at;
			for (i = 0; i < nj;) {
				unsigned u = 0, d = 0;

				if (jobs[i].at > clk) {
					i++;
					continue;
				}
				tested++;
				if (good(jobs[i].id, &u, &d))
					pool_mtu_result(p, jobs[i].id, 1, u, d,
					    NULL, clk, NULL);
				else
					pool_mtu_result(p, jobs[i].id, 0, 0, 0,
					    "upload MTU probe failed at 150: "
					    "timeout",
					    clk, NULL);
				jobs[i] = jobs[--nj];
			}
		}
		pool_tick(p, clk);
		if (!ready_at && pool_ready(p, clk, &su, &sd)) {
			ready_at = clk;
			tested_at_ready = tested;
		}
	}
	tap_ok(ready_at == t0 + SEC,
	    "ready 1 s in, when 3 passed "
	    "(fake clock)");
	tap_ok(tested_at_ready < 100,
	    "long before the list is tested (%u of "
	    "1000 done)",
	    tested_at_ready);
	tap_ok(su == 120 && sd == 1000,
	    "synced = min of the working set "
	    "(%u/%u)",
	    su, sd);
	tap_ok(max_inflight_before <= 256 && max_inflight_before == 256,
	    "start parallelism 256 in flight before ready");
	tap_ok(max_after > 0 && max_after <= 16,
	    "after ready, new tests start"
	    " only below MTU_TEST_PARALLELISM 16 (%zu)",
	    max_after);
	pool_counts(p, &pc);
	tap_ok(pc.active == 9 && pc.rejected == 991 && pc.testing == 0,
	    "end: 9 active, 991 rejected, 0 testing");
	pool_synced(p, &su2, &sd2);
	tap_ok(su2 == su && sd2 == sd, "synced MTU unchanged by later ones");
	tap_is_str(pool_conn(p, 507)->reason, "download MTU 600 < synced 1000",
	    "smaller late resolver rejected with reason");
	tap_is_int(pool_conn(p, 307)->state, POOL_ACTIVE,
	    "larger late "
	    "resolver joined live");
	tap_is_str(pool_conn(p, 13)->reason,
	    "upload MTU probe failed at 150: "
	    "timeout",
	    "failed test keeps the client's reason");
	while (pool_event_next(p, &ev)) {
		if (ev.conn == 507 && ev.kind == POOL_EV_REJECTED &&
		    strstr(ev.detail, "600 < synced 1000"))
			saw507 = 1;
		if (ev.conn == 307 && ev.kind == POOL_EV_ENABLED)
			saw307 = 1;
	}
	tap_ok(saw507 && saw307, "rejected and joined events queued");
	tap_ok(
	    pool_conn(p, 307)->s_sent == 10 && pool_conn(p, 307)->s_acked == 8,
	    "late joiner seeded with "
	    "upstream's conservative stats");
	pool_free(p);
	free(jobs);

	/* time rule: one pass, start after ready_wait (6 s) */
	clk += SEC;
	p = mkpool(&cfg, 50);
	k = pool_mtu_test_next(p, clk, v, 512);
	pool_mtu_result(p, v[3], 1, 100, 700, NULL, clk + 500 * MSEC, NULL);
	tap_ok(!pool_ready(p, clk + 5 * SEC, NULL, NULL),
	    "1 passed, 5 s: "
	    "waiting");
	tap_is_int(pool_conn(p, 3)->state, POOL_TESTING,
	    "passed one shown "
	    "as testing");
	tap_is_int(pool_next_deadline(p, clk + 5 * SEC), clk + 6 * SEC,
	    "deadline at the wait limit");
	pool_tick(p, clk + 6 * SEC);
	tap_ok(pool_ready(p, clk + 6 * SEC, &su, &sd) && sd == 700,
	    "1 passed, 6 s: ready");
	pool_free(p);

	/* all fail */
	p = mkpool(&cfg, 5);
	k = pool_mtu_test_next(p, clk, v, 512);
	for (i = 0; i < k; i++)
		pool_mtu_result(
		    p, v[i], 0, 0, 0, "download MTU probe failed", clk, NULL);
	tap_ok(pool_failed(p) && !pool_ready(p, clk, NULL, NULL),
	    "every test failed: pool_failed");
	tap_is_int(pool_mtu_result(p, 2, 1, 1, 1, NULL, clk, NULL), -1,
	    "second result for a connection refused");
	pool_free(p);
}

static int
good_1k(uint32_t id, unsigned *up, unsigned *down)
{
	if (id % 1000 != 999)
		return 0;
	*up = 100;
	*down = 800;
	return 1;
}

/* Run the MTU phase to the end on the fake clock: passes take 1 s,
 * failures 8 s. Returns the fake time of readiness (0: never). */
static uint64_t
simulate(struct pool *p, int (*isgood)(uint32_t, unsigned *, unsigned *),
    unsigned *tested_at_ready)
{
	struct job *jobs = xcalloc(1024, sizeof(*jobs));
	size_t nj = 0, i, k;
	uint32_t v[256];
	uint64_t ready_at = 0;
	unsigned tested = 0;

	for (;;) {
		k = pool_mtu_test_next(p, clk, v, 256);
		for (i = 0; i < k && nj < 1024; i++) {
			unsigned u, d;

			jobs[nj].id = v[i];
			jobs[nj++].at =
			    clk + (isgood(v[i], &u, &d) ? SEC : 8 * SEC);
		}
		if (nj == 0)
			break;
		{
			uint64_t t = jobs[0].at;

			for (i = 1; i < nj; i++)
				if (jobs[i].at < t)
					t = jobs[i].at;
			clk = t;
		}
		for (i = 0; i < nj;) {
			unsigned u = 0, d = 0;

			if (jobs[i].at > clk) {
				i++;
				continue;
			}
			tested++;
			if (isgood(jobs[i].id, &u, &d))
				pool_mtu_result(
				    p, jobs[i].id, 1, u, d, NULL, clk, NULL);
			else
				pool_mtu_result(p, jobs[i].id, 0, 0, 0,
				    "timeout", clk, NULL);
			jobs[i] = jobs[--nj];
		}
		pool_tick(p, clk);
		if (!ready_at && pool_ready(p, clk, NULL, NULL)) {
			ready_at = clk;
			*tested_at_ready = tested;
		}
	}
	free(jobs);
	return ready_at;
}

static void
test_fast_start_100k(void)
{
	struct pool_cfg cfg;
	struct pool *p;
	struct pool_counts pc;
	uint64_t t0, ready_at;
	unsigned tested = 0, su, sd;

	pool_cfg_default(&cfg);
	cfg.event_cap = 64;
	t0 = clk;
	p = mkpool(&cfg, 100000);
	ready_at = simulate(p, good_1k, &tested);
	/* 256 in flight, 8 s per dead one: id 999 starts in the 4th wave
	 * (t = 24 s) and passes at 25 s; 6 s have passed, so 1 is enough */
	tap_ok(ready_at == t0 + 25 * SEC,
	    "100,000: ready at 25 s with one "
	    "passed (fake clock)");
	tap_ok(tested < 1100, "after %u of 100,000 tests", tested);
	pool_counts(p, &pc);
	pool_synced(p, &su, &sd);
	tap_ok(pc.active == 100 && pc.rejected == 99900 && pc.testing == 0 &&
		su == 100 && sd == 800,
	    "end: the 100 good ones active, the rest "
	    "rejected");
	tap_ok(pool_events_dropped(p) > 99000,
	    "event ring bounded (%llu "
	    "dropped)",
	    (unsigned long long)pool_events_dropped(p));
	pool_free(p);
}

static void
test_recheck_rejected(void)
{
	struct pool_cfg cfg;
	struct pool *p;
	uint32_t v[8];
	enum pool_check_kind kinds[8];
	size_t k;
	int seen2 = 0, seen3 = 0, round;
	struct pool_event ev;
	struct err e = {""};

	pool_cfg_default(&cfg);
	cfg.ready_min = 2;
	cfg.event_cap = 3;
	p = mkpool(&cfg, 4);
	k = pool_mtu_test_next(p, clk, v, 8);
	tap_is_int(k, 4, "4 handed out");
	pool_mtu_result(p, 0, 1, 100, 1000, NULL, clk, NULL);
	pool_mtu_result(p, 1, 1, 110, 1100, NULL, clk, NULL);
	tap_ok(pool_ready(p, clk, NULL, NULL), "ready with 2");
	pool_mtu_result(p, 2, 1, 100, 600, NULL, clk, NULL);
	pool_mtu_result(
	    p, 3, 0, 0, 0, "download MTU probe failed at 200", clk, NULL);
	tap_is_str(pool_conn(p, 2)->reason, "download MTU 600 < synced 1000",
	    "late small one rejected");
	tap_is_int(pool_mtu_result(p, 3, 1, 1, 1, NULL, clk, &e), -1,
	    "a second result is refused");
	/* 2 active, 2 inactive: one at a time, each every 12 s */
	for (round = 0; round < 8; round++) {
		clk += 6 * SEC;
		k = pool_check_next(p, clk, v, kinds, 8);
		tap_ok(k <= 1, "round %d: batch of at most 1", round);
		if (k == 1 && seen2 + seen3 == 0)
			tap_ok(pool_next_deadline(p, clk + 6 * SEC) >
				clk + 6 * SEC,
			    "full batch in flight: the "
			    "deadline does not spin");
		if (k == 1) {
			seen2 += v[0] == 2;
			seen3 += v[0] == 3;
			pool_check_result(
			    p, v[0], v[0] == 2 && round >= 4, clk, NULL);
		}
	}
	tap_ok(seen2 >= 2 && seen3 >= 1,
	    "both rejected ones rechecked "
	    "(%d, %d)",
	    seen2, seen3);
	tap_ok(pool_conn(p, 2)->state == POOL_ACTIVE &&
		pool_conn(p, 2)->down_mtu == 1000,
	    "rejected one re-enabled at the "
	    "synced MTU when the recheck passes");
	tap_ok(pool_conn(p, 3)->state == POOL_REJECTED &&
		strcmp(pool_conn(p, 3)->reason,
		    "download MTU probe failed at 200") == 0,
	    "failing one stays rejected with its reason");
	tap_ok(pool_events_dropped(p) > 0,
	    "event ring of 3 dropped the "
	    "oldest");
	k = 0;
	while (pool_event_next(p, &ev))
		k++;
	tap_is_int(k, 3, "3 newest events kept");
	tap_ok(ev.kind == POOL_EV_ENABLED && ev.conn == 2, "newest last");
	pool_free(p);
}

static void
test_status_and_counters(void)
{
	struct pool *p = mkactive(3, 8);
	json_t *st, *l0;
	const char *keys[] = {"address", "domain", "state", "reason",
	    "upload_mtu", "download_mtu", "rtt_ms", "loss", "sent", "answered",
	    "timeouts", "last_valid_answer_age_ms"};
	uint64_t prev[8][3] = {{0}};
	unsigned step, i;
	int ok = 1, keys_ok = 1;
	uint32_t v[4];

	srand(7);
	for (step = 0; step < 4000; step++) {
		uint32_t id = (uint32_t)rand() % 8;
		const struct pool_conn *c = pool_conn(p, id);
		uint16_t d = next_dns++;

		clk += 5 * MSEC;
		pool_pick(p, 2, v);
		pool_on_send(p, id, 1, d, clk);
		if (rand() % 4)
			pool_on_answer(p, c->resolver, 1, d, rand() % 10 == 0,
			    clk + (uint64_t)(rand() % 200) * MSEC, NULL);
		pool_tick(p, clk);
		for (i = 0; i < 8; i++) {
			c = pool_conn(p, i);
			ok &= c->sent >= prev[i][0] &&
			    c->answered >= prev[i][1] &&
			    c->timeouts >= prev[i][2];
			ok &= c->s_sent <= 1001;
			prev[i][0] = c->sent;
			prev[i][1] = c->answered;
			prev[i][2] = c->timeouts;
		}
	}
	tap_ok(ok,
	    "counters monotonic over 4000 random events; scoring "
	    "counters halved past 1000");
	tap_ok(pool_conn(p, 0)->sent > 400, "traffic really flowed (%llu)",
	    (unsigned long long)pool_conn(p, 0)->sent);
	st = pool_status_json(p, clk, 0);
	tap_ok(json_integer_value(json_object_get(st, "total")) == 8 &&
		json_integer_value(json_object_get(st, "active")) == 8 &&
		json_array_size(json_object_get(st, "list")) == 8,
	    "status: total/active/list");
	tap_ok(json_object_size(st) == 6,
	    "status has exactly total, active, "
	    "disabled, testing, rejected, list");
	l0 = json_array_get(json_object_get(st, "list"), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		keys_ok &= json_object_get(l0, keys[i]) != NULL;
	tap_ok(keys_ok && json_object_size(l0) == 12,
	    "list entry has exactly "
	    "the 12 documented members");
	tap_is_str(json_string_value(json_object_get(l0, "address")),
	    "10.0.0.1:53", "address formatted");
	tap_is_str(json_string_value(json_object_get(l0, "state")), "active",
	    "state name");
	tap_ok(json_real_value(json_object_get(l0, "loss")) > 0.1 &&
		json_real_value(json_object_get(l0, "loss")) < 0.5,
	    "loss over the window near the injected 25-35 %%");
	tap_ok(json_real_value(json_object_get(l0, "rtt_ms")) > 20 &&
		json_real_value(json_object_get(l0, "rtt_ms")) < 200,
	    "rtt in ms is the decayed mean");
	json_decref(st);
	st = pool_status_json(p, clk, 3);
	tap_is_int(json_array_size(json_object_get(st, "list")), 3,
	    "list_max caps the list");
	json_decref(st);
	pool_free(p);
}

/* ---- probes (pool-probe.c) against simulated resolvers ---- */

/* What each simulated resolver carries (0: dead). */
struct simres {
	unsigned up, down;
};

struct simrun {
	unsigned queries[4], first_up[4], pad[4];
	uint32_t last_code;
	int codes_grow;
};

/* The frame a server answers probe (download, code, size) with. */
static const struct wire_frame *
echo(struct wire_frame *f, uint8_t *buf, size_t cap, int download,
    uint32_t code, unsigned size)
{
	long n;

	memset(f, 0, sizeof(*f));
	f->session_id = 255;
	f->type = download ? WIRE_MTU_DOWN_RES : WIRE_MTU_UP_RES;
	n = download ? wire_mtu_down_res_build(code, (uint16_t)size, buf, cap) :
		       wire_mtu_up_res_build(code, (uint16_t)size, buf, cap);
	f->payload = buf;
	f->payload_len = n > 0 ? (size_t)n : 0;
	return f;
}

/* Send what the probes want; resolvers answer what they carry at once. */
static void
probe_round(struct pool *p, const struct simres *r, struct simrun *run)
{
	struct pool_probe_query q;
	struct wire_frame a;
	uint8_t buf[4200];
	uint64_t rtt;
	uint16_t id;

	pool_probe_tick(p, clk);
	while (pool_probe_next(p, &q)) {
		id = next_dns++;
		pool_probe_sent(p, &q, id, clk);
		if (run->queries[q.conn]++ == 0)
			run->first_up[q.conn] = q.size;
		if (q.download)
			run->pad[q.conn] = q.pad;
		if (q.code <= run->last_code)
			run->codes_grow = 0;
		run->last_code = q.code;
		if (q.size > (q.download ? r[q.conn].down : r[q.conn].up))
			continue; /* too big: no answer, the probe times out */
		pool_probe_answer(p, (long)q.conn, id,
		    echo(&a, buf, sizeof(buf), q.download, q.code, q.size),
		    clk + 5 * MSEC, &rtt);
	}
}

/* A pool that tests one connection at a time and never rechecks (the
 * rejected ones would be probed again); probes of 2 tries of 1 s. */
static void
probe_cfgs(struct pool_cfg *cfg, struct pool_probe_cfg *pc, const unsigned *cap,
    uint32_t first_code)
{
	pool_cfg_default(cfg);
	cfg->ready_min = 1;
	cfg->start_parallelism = 1;
	cfg->mtu_parallelism = 1;
	cfg->recheck = 0;
	memset(pc, 0, sizeof(*pc));
	pc->retries = 2;
	pc->timeout_us = SEC;
	pc->up_cap = cap;
	pc->first_code = first_code;
}

/* Probe MTUs r = {min up, max up, min down, max down}: ticks of 100 ms. */
static void
probe_run(struct pool *p, struct pool_probe_cfg *pc, const unsigned r[4],
    const struct simres *res, struct simrun *run, int ticks)
{
	int i;

	pc->min_up = r[0];
	pc->max_up = r[1];
	pc->min_down = r[2];
	pc->max_down = r[3];
	pool_probe_setup(p, pc);
	for (i = 0; i < ticks; i++) {
		probe_round(p, res, run);
		clk += 100 * MSEC;
	}
}

static void
test_probes(void)
{
	static const struct simres res[4] = {
	    {0, 0}, {97, 613}, {200, 500}, {200, 1000}};
	static const unsigned cap[1] = {150};
	struct simrun run = {{0}, {0}, {0}, 100, 1};
	struct pool_probe_cfg pc;
	struct pool_cfg cfg;
	struct pool_probe_query q;
	struct wire_frame a;
	uint8_t buf[64];
	uint32_t code;
	struct pool *p;
	unsigned up = 0, down = 0;
	uint64_t rtt = 0;

	probe_cfgs(&cfg, &pc, cap, 100);
	p = mkpool(&cfg, 4);
	/* 60 s of 100 ms ticks: the search needs about 30 s of timeouts */
	probe_run(
	    p, &pc, (const unsigned[4]){10, 200, 20, 1000}, res, &run, 600);
	tap_is_int(pool_probes_running(p), 0, "every probe finished");
	tap_is_str(pool_conn(p, 0)->reason,
	    "upload MTU test failed at the minimum 10: no valid answer",
	    "dead resolver: failed at the minimum, after its retries");
	tap_is_int(
	    run.queries[0], 4, "dead: high and low end, 2 attempts each");
	tap_is_int(run.first_up[1], 150,
	    "the high end is capped by the domain's QNAME room");
	tap_ok(pool_ready(p, clk, &up, &down), "ready");
	tap_ok(up == 97 && down == 613,
	    "the search found 97/613 and synced them (%u/%u)", up, down);
	tap_is_int(
	    run.pad[1], 97, "download requests padded to the upload MTU");
	tap_is_str(pool_conn(p, 2)->reason,
	    "download MTU probe at the synced 613 failed",
	    "after ready: probed at the synced sizes only, rejected");
	tap_is_int(
	    run.queries[2], 3, "synced probe: upload once, download twice");
	tap_ok(pool_conn(p, 3)->state == POOL_ACTIVE &&
		pool_conn(p, 3)->up_mtu == 97 &&
		pool_conn(p, 3)->down_mtu == 613,
	    "a bigger resolver joins live with the synced MTUs");
	tap_ok(run.codes_grow, "every attempt carries a new probe code");
	/* Matching: only the resolver asked, only the code sent. */
	pool_free(p);
	cfg.ready_min = 0;
	p = mkpool(&cfg, 2);
	pool_probe_setup(p, &pc);
	pool_probe_tick(p, clk);
	tap_ok(pool_probe_next(p, &q) && q.conn == 0 && !q.download &&
		q.size == 150,
	    "first query: upload at the high end");
	pool_probe_sent(p, &q, 4242, clk);
	tap_ok(pool_probe_holds(p, 4242), "the probe holds its DNS id");
	tap_is_int(
	    pool_probe_answer(p, 1, 4242,
		echo(&a, buf, sizeof(buf), 0, q.code, q.size), clk, NULL),
	    0, "the same id from another resolver is not the probe's");
	code = q.code;
	tap_is_int(pool_probe_answer(p, 0, 4242,
		       echo(&a, buf, sizeof(buf), 0, code + 1, q.size),
		       clk + 7 * MSEC, &rtt),
	    1, "the probe's id from its resolver is its answer");
	tap_is_int(rtt, 7 * MSEC, "with its answer time");
	tap_ok(!pool_probe_holds(p, 4242) && pool_probe_next(p, &q) &&
		q.size == 150 && q.code != code,
	    "a wrong code fails the attempt: the same size again, new code");
	pool_probe_sent(p, &q, 4243, clk);
	clk += SEC - 1;
	pool_probe_tick(p, clk);
	tap_ok(!pool_probe_next(p, &q), "no timeout before MTU_TEST_TIMEOUT");
	clk += 1;
	pool_probe_tick(p, clk);
	tap_ok(pool_probe_next(p, &q) && q.size == 10,
	    "second attempt timed out: the low end next");
	pool_free(p);
}

/*
 * The engine runs the search `scan` and `mtu` run (proto/mtu.h). Where
 * the engine's own copy differed: with MIN == MAX it tested a failing
 * single size a second time as the low end (2 x retries timeouts for a
 * dead resolver); upstream's binarySearchMTU stops ("only one MTU
 * candidate existed"). And MAX_UPLOAD_MTU 0 means 512 under the QNAME
 * room, as upstream, where the engine's copy rejected every resolver.
 */
static void
test_probe_single(void)
{
	static const struct simres res[2] = {{0, 0}, {60, 500}};
	static const unsigned cap[1] = {150};
	struct simrun run = {{0}, {0}, {0}, 0, 1};
	struct pool_probe_cfg pc;
	struct pool_cfg cfg;
	struct pool *p;
	unsigned up = 0, down = 0;

	probe_cfgs(&cfg, &pc, cap, 1);
	p = mkpool(&cfg, 2);
	probe_run(
	    p, &pc, (const unsigned[4]){60, 60, 200, 200}, res, &run, 100);
	tap_is_int(pool_probes_running(p), 0, "single: every probe finished");
	tap_is_int(run.queries[0], 2,
	    "MIN == MAX, dead resolver: its 2 tries only, the same size is "
	    "not tested again as the low end (upstream)");
	tap_is_str(pool_conn(p, 0)->reason,
	    "upload MTU test failed at the minimum 60: no valid answer",
	    "single: rejected at the minimum");
	tap_is_int(run.queries[1], 2, "MIN == MAX passing: one query each way");
	tap_ok(pool_ready(p, clk, &up, &down) && up == 60 && down == 200,
	    "single: synced 60/200");
	pool_free(p);
	/* MAX_UPLOAD_MTU 0: 512 under the QNAME room, not an empty range */
	memset(&run, 0, sizeof(run));
	run.codes_grow = 1;
	p = mkpool(&cfg, 2);
	pc.min_up = 10;
	pc.max_up = 0;
	pool_probe_setup(p, &pc);
	probe_round(p, res, &run);
	tap_is_int(run.first_up[0], 150,
	    "MAX_UPLOAD_MTU 0: the high end is the QNAME room");
	pool_free(p);
}

int
main(void)
{
	test_new_errors();
	test_lookup_and_keys();
	test_timeouts_and_late();
	test_round_robin_and_random();
	test_least_loss();
	test_latency_and_hybrid();
	test_loss_then_latency();
	test_top_tier();
	test_duplication();
	test_failover();
	test_auto_disable();
	test_outliers();
	test_fast_start();
	test_fast_start_100k();
	test_recheck_rejected();
	test_status_and_counters();
	test_probes();
	test_probe_single();
	return tap_done();
}
