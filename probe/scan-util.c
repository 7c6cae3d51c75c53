/* SPDX-License-Identifier: MIT */
/*
 * scan-util.c — seeded permutation and token bucket (see scan-util.h).
 * Pure functions of their inputs and the times passed in; no I/O, no
 * clocks, no allocation. The MTU search is upstream logic and lives in
 * proto/mtu.c.
 */
#include "probe/scan-util.h"

uint64_t
scan_rand64(uint64_t *state)
{
	uint64_t z;

	z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
scan_perm_init(struct scan_perm *p, uint64_t n, uint64_t seed)
{
	unsigned bits = 2;

	while (bits < 64 && (1ULL << bits) < n)
		bits++;
	if (bits & 1)
		bits++;
	p->n = n;
	p->seed = seed;
	p->half = bits / 2;
	p->mask = (1ULL << p->half) - 1;
}

static uint64_t
perm_round(const struct scan_perm *p, unsigned round, uint64_t x)
{
	uint64_t st =
	    p->seed ^ ((uint64_t)round << 56) ^ (x * 0x2545f4914f6cdd1dULL);

	return scan_rand64(&st) & p->mask;
}

static uint64_t
perm_once(const struct scan_perm *p, uint64_t x)
{
	uint64_t l = x >> p->half, r = x & p->mask, t;
	unsigned i;

	for (i = 0; i < 4; i++) {
		t = r;
		r = l ^ perm_round(p, i, r);
		l = t;
	}
	return (l << p->half) | r;
}

uint64_t
scan_perm_at(const struct scan_perm *p, uint64_t pos)
{
	uint64_t x = pos;

	if (p->n <= 1)
		return 0;
	/*
	 * Cycle walking: the Feistel network permutes [0, 4^half), which is
	 * less than 4n; following the cycle from pos until it lands in
	 * [0, n) keeps the map a bijection on [0, n).
	 */
	do
		x = perm_once(p, x);
	while (x >= p->n);
	return x;
}

void
scan_bucket_init(
    struct scan_bucket *b, double rate, double burst, uint64_t now_us)
{
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last_us = now_us;
}

static void
bucket_refill(struct scan_bucket *b, uint64_t now_us)
{
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->last_us = now_us > b->last_us ? now_us : b->last_us;
}

int
scan_bucket_take(struct scan_bucket *b, uint64_t now_us)
{
	if (b->rate <= 0)
		return 1;
	bucket_refill(b, now_us);
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

uint64_t
scan_bucket_wait_us(struct scan_bucket *b, uint64_t now_us)
{
	if (b->rate <= 0)
		return 0;
	bucket_refill(b, now_us);
	if (b->tokens >= 1)
		return 0;
	return (uint64_t)((1 - b->tokens) * 1e6 / b->rate) + 1;
}
