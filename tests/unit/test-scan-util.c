/* SPDX-License-Identifier: MIT */
/*
 * test-scan-util.c — the scan's pure parts: the seeded permutation is a
 * bijection for many sizes and depends on the seed; the token bucket never
 * hands out more than rate × time + burst; the MTU search the scan uses
 * (proto/mtu.h, tested in depth by test-mtu) finds exactly the largest
 * passing value of a threshold model for every threshold and range, with
 * upstream's step pattern (high, low, bisection).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/scan.h"
#include "probe/scan-setup.h"
#include "probe/scan-util.h"
#include "proto/mtu.h"
#include "tests/tap.h"

static int
perm_is_bijection(uint64_t n, uint64_t seed)
{
	struct scan_perm p;
	unsigned char *seen = calloc(n ? n : 1, 1);
	uint64_t i, x;
	int ok = 1;

	scan_perm_init(&p, n, seed);
	for (i = 0; i < n; i++) {
		x = scan_perm_at(&p, i);
		if (x >= n || seen[x]) {
			ok = 0;
			break;
		}
		seen[x] = 1;
	}
	free(seen);
	return ok;
}

/* Search [min,max] against "passes iff v <= limit"; returns best. */
static int
model(int min, int max, int floor, int limit, int *steps)
{
	struct mtu_search s;
	int v;

	mtu_search_init(&s, min, max, floor, 1, 0);
	while ((v = mtu_search_next(&s)) != 0)
		mtu_search_report(&s, v <= limit);
	*steps = s.steps;
	return s.best;
}

/* The key file reader (MIN:MAX ranges: test-cli-args.sh, args_range). */
static void
check_cli_inputs(void)
{
	char path[4096], big[2000];
	struct err e = {""};
	int fd;
	char *k;
	FILE *f;

	tap_tmppath(path, sizeof path, "test-scan-util.XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		tap_ok(0, "temp file: %s", strerror(errno));
		return;
	}
	fprintf(f, "\n  \n 00112233445566778899aabbccddeeff \n");
	fclose(f);
	k = scan_read_key_file(path, &e);
	tap_is_str(k ? k : "(null)", "00112233445566778899aabbccddeeff",
	    "key file: first non-empty line, trimmed");
	free(k);
	f = fopen(path, "w");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	fprintf(f, "\n%s\n", big);
	fclose(f);
	k = scan_read_key_file(path, &e);
	tap_ok(k == NULL, "key file: a 1999-byte line is refused, not cut");
	tap_ok(strstr(e.msg, ":2: line longer than") != NULL,
	    "with file:line (%s)", e.msg);
	free(k);
	unlink(path);
}

int
main(void)
{
	static const uint64_t sizes[] = {
	    0, 1, 2, 3, 5, 7, 16, 17, 255, 256, 1000, 4099, 65537, 100000};
	struct scan_perm p, q;
	struct scan_bucket b;
	uint64_t i, now, given;
	size_t k;
	int same, bad, steps, maxsteps, lim, want, got, lo, hi;

	for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		tap_ok(perm_is_bijection(sizes[k], 42 + k),
		    "permutation of %llu is a bijection",
		    (unsigned long long)sizes[k]);
	scan_perm_init(&p, 10000, 1);
	scan_perm_init(&q, 10000, 2);
	for (same = 0, i = 0; i < 10000; i++)
		same += scan_perm_at(&p, i) == scan_perm_at(&q, i);
	tap_ok(same < 100, "different seeds give different orders (%d equal)",
	    same);
	for (same = 0, i = 0; i < 10000; i++)
		same += scan_perm_at(&p, i) == i;
	tap_ok(same < 100, "the order is shuffled (%d fixed points)", same);
	scan_perm_init(&q, 10000, 1);
	for (bad = 0, i = 0; i < 10000; i++)
		bad += scan_perm_at(&p, i) != scan_perm_at(&q, i);
	tap_ok(bad == 0, "same seed, same order");

	/* Token bucket: 1000/s with burst 10 over 2 simulated seconds. */
	scan_bucket_init(&b, 1000, 10, 0);
	for (given = 0, now = 0; now <= 2000000; now += 100)
		while (scan_bucket_take(&b, now))
			given++;
	tap_ok(given <= 2000 + 10 && given >= 1990,
	    "bucket gives rate x time + burst (%llu)",
	    (unsigned long long)given);
	scan_bucket_init(&b, 100, 1, 0);
	tap_ok(scan_bucket_take(&b, 0) == 1, "first token available");
	tap_ok(scan_bucket_take(&b, 0) == 0, "bucket empty right after");
	tap_ok(scan_bucket_wait_us(&b, 0) >= 9999 &&
		scan_bucket_wait_us(&b, 0) <= 10001,
	    "wait is 1/rate");
	tap_ok(scan_bucket_take(&b, 10001) == 1, "token after the wait");
	scan_bucket_init(&b, 0, 1, 0);
	for (given = 0; given < 100000 && scan_bucket_take(&b, 0); given++)
		;
	tap_ok(given == 100000, "rate 0 means unlimited");

	/* MTU search against a threshold model, every limit in range. */
	bad = 0;
	maxsteps = 0;
	for (lo = 10; lo <= 40; lo += 15)
		for (hi = lo; hi <= 200; hi += 37)
			for (lim = 0; lim <= 210; lim++) {
				got = model(lo, hi, 10, lim, &steps);
				want = lim >= hi ? hi : lim >= lo ? lim : 0;
				if (got != want) {
					bad++;
					tap_diag(
					    "range %d..%d limit %d: got %d", lo,
					    hi, lim, got);
				}
				if (steps > maxsteps)
					maxsteps = steps;
			}
	tap_ok(bad == 0, "MTU search exact against the model");
	tap_ok(
	    maxsteps <= 2 + 8, "at most 2 + log2(range) steps (%d)", maxsteps);
	got = model(38, 150, 10, 1000, &steps);
	tap_ok(got == 150 && steps == 1, "high end passes: one step");
	got = model(38, 150, 10, 20, &steps);
	tap_ok(got == 0 && steps == 2, "low end fails: rejected after two");
	got = model(5, 150, 10, 9, &steps);
	tap_ok(got == 0, "floor raises the low end (5 -> 10)");
	got = model(100, 50, 10, 1000, &steps);
	tap_ok(got == 0 && steps == 0, "empty range: nothing tested");
	got = model(60, 60, 10, 59, &steps);
	tap_ok(got == 0 && steps == 1, "one candidate failing: one step");
	{
		struct mtu_search s;
		int seq[16], n = 0, v;

		mtu_search_init(&s, 20, 100, 20, 1, 0);
		while ((v = mtu_search_next(&s)) != 0 && n < 16) {
			seq[n++] = v;
			mtu_search_report(&s, v <= 64);
		}
		tap_ok(n >= 3 && seq[0] == 100 && seq[1] == 20 && seq[2] == 60,
		    "order: high, low, then midpoint of (21..99)");
		tap_is_int(s.best, 64, "bisection result");
	}
	check_cli_inputs();
	return tap_done();
}
