/*
 * mtu-search.h — the engine's MTU search for one direction of one
 * connection, upstream's binarySearchMTU (wire-protocol.md 1.8): test
 * the high end; if it fails, the low end; if that passes, bisect the
 * open interval between them. Pure: the caller tests each size (with
 * its own retries) and reports pass or fail.
 *
 * Kept apart so it can be swapped for the shared implementation in
 * proto/ without touching the probe bookkeeping (engine/pool-probe.c).
 * Known difference from probe/'s copy: when low == high, a failed high
 * end is tested again as the low end (the engine always did).
 */
#ifndef MDNS_MTU_SEARCH_H
#define MDNS_MTU_SEARCH_H

struct msearch {
	unsigned lo, hi; /* the range (lo <= hi) */
	unsigned l, h;	 /* bisection interval still open */
	unsigned cur;	 /* size under test, 0 when done */
	unsigned best;	 /* largest size that passed, 0 = none */
	int step;	 /* 0 high end, 1 low end, 2 bisection */
	int failed_low;	 /* done because the low end failed */
};

/* Start over [lo, hi]; lo <= hi (the caller rejects an empty range). */
void msearch_init(struct msearch *s, unsigned lo, unsigned hi);
/* The size to test now, or 0 when the search is done. */
unsigned msearch_next(const struct msearch *s);
/* Report the outcome of the size msearch_next() gave. */
void msearch_report(struct msearch *s, int pass);

#endif
