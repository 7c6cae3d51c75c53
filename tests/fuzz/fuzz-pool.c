/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pool.c — the resolver pool driven by hostile sequences of client
 * events (MTU results, sends, answers with any id/socket/rcode, timeouts,
 * clock jumps, checks, streams). The pool parses no bytes, but everything
 * it is told comes from the network in the end; this checks it never
 * crashes and keeps its invariants: state counts add up, picks are
 * distinct active connections, counters never go down, the synced MTU
 * never changes once set. A violated invariant aborts.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rd {
	const uint8_t *p;
	size_t n;
};

static unsigned
byte(struct rd *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static void
check_distinct_active(struct pool *p, const uint32_t *v, size_t k)
{
	size_t i, j;

	for (i = 0; i < k; i++) {
		const struct pool_conn *c = pool_conn(p, v[i]);

		if (c == NULL || c->state != POOL_ACTIVE)
			abort();
		for (j = 0; j < i; j++)
			if (v[i] == v[j])
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *doms[] = {"a.example", "b.example", "c.example"};
	struct rd r = {data, size};
	union net_addr addrs[40];
	struct pool_cfg cfg;
	struct pool *p;
	struct pool_counts pc;
	uint64_t now = 5000000, *prev;
	uint32_t testing[64], v[16];
	enum pool_check_kind kinds[16];
	size_t ntest = 0, nres, ndom, n, i, k;
	unsigned su = 0, sd = 0, u, d;
	int ready = 0;
	struct pool_event ev;
	json_t *st;

	pool_cfg_default(&cfg);
	cfg.strategy = (int)(byte(&r) % 9);
	nres = 1 + byte(&r) % 40;
	ndom = 1 + byte(&r) % 3;
	cfg.dup = byte(&r) % 7;
	cfg.setup_dup = byte(&r) % 7;
	cfg.ready_min = byte(&r) % 6;
	cfg.disable_window_us = (uint64_t)(1 + byte(&r) % 40) * 1000000;
	cfg.confirm_down = byte(&r) & 1;
	cfg.start_parallelism = 1 + byte(&r) % 64;
	cfg.mtu_parallelism = 1 + byte(&r) % 8;
	cfg.pending_cap = 16 + byte(&r);
	cfg.event_cap = byte(&r) % 16;
	cfg.seed = 1 + byte(&r);
	memset(addrs, 0, sizeof(addrs));
	for (i = 0; i < nres; i++) {
		addrs[i].in.sin_family = AF_INET;
		addrs[i].in.sin_port = htons(53);
		addrs[i].in.sin_addr.s_addr = htonl(
		    0x7f000001u + (uint32_t)(i % 20)); /* duplicates allowed */
	}
	p = pool_new(&cfg, addrs, nres, doms, ndom, now, NULL);
	if (p == NULL)
		abort();
	n = pool_size(p);
	prev = calloc(n * 3, sizeof(*prev));
	while (r.n > 0) {
		unsigned op = byte(&r) % 12, a = byte(&r), b = byte(&r);
		uint32_t id = (uint32_t)(a % (n + 1)); /* n: invalid id */

		switch (op) {
		case 0:
			k = pool_mtu_test_next(p, now, v, 1 + b % 16);
			for (i = 0; i < k && ntest < 64; i++)
				testing[ntest++] = v[i];
			break;
		case 1:
			if (ntest == 0)
				break;
			i = a % ntest;
			u = 1 + byte(&r) * 2;
			d = 1 + byte(&r) * 8;
			if (pool_mtu_result(p, testing[i], b & 1, u, d, "fuzz",
				now, NULL) != 0)
				abort();
			testing[i] = testing[--ntest];
			break;
		case 2:
			k = pool_pick(p, b % 10, v);
			check_distinct_active(p, v, k);
			break;
		case 3:
			k = pool_select(p, (enum pool_frame)(b % 5),
			    (uint16_t)(a % 8), now, v, 16);
			check_distinct_active(p, v, k);
			break;
		case 4:
			pool_on_send(
			    p, id, b % 3, (uint16_t)(byte(&r) % 32), now);
			break;
		case 5:
			pool_on_answer(p, a % (uint32_t)nres, b % 3,
			    (uint16_t)(byte(&r) % 32), b % 4 == 0 ? 2 : 0,
			    now + (uint64_t)a * 1000, NULL);
			break;
		case 6:
			pool_on_timeout(p, a % (uint32_t)nres, b % 3,
			    (uint16_t)(byte(&r) % 32), now);
			break;
		case 7:
			now += (uint64_t)a * b * 1000;
			pool_tick(p, now);
			break;
		case 8:
			k = pool_check_next(p, now, v, kinds, 1 + b % 16);
			for (i = 0; i < k; i++)
				if (pool_check_result(
					p, v[i], (a >> i) & 1, now, NULL) != 0)
					abort();
			break;
		case 9:
			if (b % 3 == 0)
				pool_stream_open(p, (uint16_t)(a % 8));
			else if (b % 3 == 1)
				pool_stream_progress(p, (uint16_t)(a % 8));
			else
				pool_stream_close(p, (uint16_t)(a % 8));
			break;
		case 10:
			st = pool_status_json(p, now, b % 5);
			if (st == NULL)
				abort();
			json_decref(st);
			break;
		default:
			while (pool_event_next(p, &ev))
				if (ev.conn >= n)
					abort();
			break;
		}
		pool_counts(p, &pc);
		if (pc.active + pc.disabled + pc.rechecking + pc.testing +
			pc.rejected !=
		    n)
			abort();
		if (pool_ready(p, now, &u, &d)) {
			if (ready && (u != su || d != sd))
				abort();
			ready = 1;
			su = u;
			sd = d;
		}
		for (i = 0; i < n; i++) {
			const struct pool_conn *c = pool_conn(p, (uint32_t)i);

			if (c->sent < prev[3 * i] ||
			    c->answered < prev[3 * i + 1] ||
			    c->timeouts < prev[3 * i + 2])
				abort();
			prev[3 * i] = c->sent;
			prev[3 * i + 1] = c->answered;
			prev[3 * i + 2] = c->timeouts;
			if (ready && c->state == POOL_ACTIVE &&
			    (c->up_mtu < su || c->down_mtu < sd))
				abort();
		}
	}
	free(prev);
	pool_free(p);
	return 0;
}
