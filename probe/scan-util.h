/* SPDX-License-Identifier: MIT */
/*
 * scan-util.h — the pure building blocks of the resolver scan, kept apart
 * from sockets and time so they can be unit-tested exactly:
 *
 *   scan_perm	a seeded pseudo-random permutation of [0, n) computed one
 *		index at a time (a balanced Feistel network on the next even
 *		power of two, cycle-walking back into range), so the shuffled
 *		order needs no table and the resume cursor is just a position;
 *   scan_bucket a token bucket for the global queries-per-second limit.
 *
 * None of these allocate; all state is in the caller's structs. The MTU
 * search they once held is upstream protocol logic: proto/mtu.h.
 */
#ifndef MDNS_SCAN_UTIL_H
#define MDNS_SCAN_UTIL_H

#include <stdint.h>

/* ---- permutation -------------------------------------------------------- */

struct scan_perm {
	uint64_t n; /* size of the index space */
	uint64_t seed;
	unsigned half; /* bits per Feistel half */
	uint64_t mask; /* (1 << half) - 1 */
};

/* Prepare the permutation of [0, n) for seed. n may be 0. */
void scan_perm_init(struct scan_perm *p, uint64_t n, uint64_t seed);
/*
 * The index at position pos (pos < n). Every index appears exactly once
 * as pos runs over [0, n); the order depends only on n and seed.
 */
uint64_t scan_perm_at(const struct scan_perm *p, uint64_t pos);

/* splitmix64 step: advance *state and return the next 64-bit value. */
uint64_t scan_rand64(uint64_t *state);

/* ---- token bucket ------------------------------------------------------- */

struct scan_bucket {
	double rate;  /* tokens per second; <= 0 means unlimited */
	double burst; /* capacity */
	double tokens;
	uint64_t last_us; /* time of the last refill */
};

/* A bucket with rate tokens/s holding at most burst, starting full. */
void scan_bucket_init(
    struct scan_bucket *b, double rate, double burst, uint64_t now_us);
/* Take one token at now_us: 1 when taken, 0 when the bucket is empty. */
int scan_bucket_take(struct scan_bucket *b, uint64_t now_us);
/* Microseconds until a token will be available (0 when one is). */
uint64_t scan_bucket_wait_us(struct scan_bucket *b, uint64_t now_us);

#endif
