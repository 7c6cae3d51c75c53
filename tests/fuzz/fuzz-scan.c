/* SPDX-License-Identifier: MIT */
/*
 * fuzz-scan.c — the scan's parsers and pure parts under arbitrary input:
 * the reach-answer classifier over any bytes (must not crash, must give a
 * reason in range and a terminated line), and from the same bytes a
 * permutation size/seed (must be a bijection) and an MTU search range and
 * limit (must finish within 2 + log2 steps with the model's answer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/scan-judge.h"
#include "probe/scan-util.h"
#include "proto/mtu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum res_reason r = RES_R_COUNT;
	char why[256];
	static unsigned char seen[4096];
	struct scan_perm p;
	struct mtu_search s;
	uint64_t n, seed = 0, i, x;
	int lo, hi, lim, v, want;
	size_t k;

	memset(why, 'x', sizeof why);
	(void)scan_judge_reach(data, size, &r, why, sizeof why);
	if ((unsigned)r >= RES_R_COUNT || memchr(why, '\0', sizeof why) == NULL)
		abort();
	if (size < 8)
		return 0;
	n = ((uint64_t)data[0] << 8 | data[1]) % sizeof seen;
	for (k = 0; k < 6; k++)
		seed = seed << 8 | data[2 + k];
	scan_perm_init(&p, n, seed);
	memset(seen, 0, sizeof seen);
	for (i = 0; i < n; i++) {
		x = scan_perm_at(&p, i);
		if (x >= n || seen[x])
			abort();
		seen[x] = 1;
	}
	lo = data[2] + 1;
	hi = lo + data[3] * 4;
	lim = data[4] * 5;
	mtu_search_init(&s, lo, hi, 10, 1, 0);
	for (k = 0; (v = mtu_search_next(&s)) != 0; k++) {
		if (k > 2 + 12)
			abort();
		mtu_search_report(&s, v <= lim);
	}
	lo = lo > 10 ? lo : 10;
	want = lim >= hi ? hi : lim >= lo ? lim : 0;
	if (hi < lo)
		want = 0;
	if (s.best != want)
		abort();
	return 0;
}
