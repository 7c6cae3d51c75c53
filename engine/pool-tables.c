/* SPDX-License-Identifier: MIT */
/*
 * pool-tables.c — upstream's numbers for the resolver pool, as pure
 * functions: how many observations auto-disable needs, how often the
 * health loop runs, recheck spacing and batch size by the active and
 * inactive counts (internal/client/balancer.go, async_runtime.go), and
 * the low-MTU outlier rule (optimizeMTUResolvers in mtu.go). No pool
 * state is read here; pool.c applies the results.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/pool-int.h"

/* ---- upstream's scaling tables ---- */

unsigned
pool_disable_min_obs(size_t active, uint64_t window_us)
{
	static const struct {
		size_t upto;
		unsigned base;
	} t[] = {
	    {5, 48},
	    {8, 40},
	    {10, 34},
	    {15, 26},
	    {20, 22},
	    {30, 18},
	    {40, 15},
	    {50, 13},
	    {75, 10},
	    {100, 8},
	    {150, 7},
	};
	unsigned base = 6;
	size_t i;

	if (active <= 3)
		return 1000000;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (active <= t[i].upto) {
			base = t[i].base;
			break;
		}
	if (window_us >= S(60))
		return base * 3;
	if (window_us >= S(30))
		return base * 2;
	return base;
}

uint64_t
pool_check_interval_us(size_t active, uint64_t window_us)
{
	static const struct {
		size_t upto;
		uint64_t floor_ms;
	} t[] = {
	    {3, 5000},
	    {5, 5000},
	    {8, 4500},
	    {10, 4000},
	    {15, 3500},
	    {20, 3000},
	    {30, 2500},
	    {50, 2000},
	    {75, 1500},
	};
	uint64_t iv = window_us / 30, maxiv = S(5);
	size_t i;

	if (iv == 0)
		iv = S(3);
	if (iv < S(1))
		iv = S(1);
	if (window_us >= S(60))
		maxiv = S(12);
	else if (window_us >= S(30))
		maxiv = S(8);
	if (iv > maxiv)
		iv = maxiv;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (active <= t[i].upto) {
			if (iv < MS(t[i].floor_ms))
				iv = MS(t[i].floor_ms);
			break;
		}
	return iv;
}

uint64_t
pool_recheck_interval_us(size_t active, size_t inactive)
{
	uint64_t iv;

	if (inactive == 0)
		return S(12);
	if (inactive <= 3)
		iv = S(12);
	else if (inactive <= 6)
		iv = S(10);
	else if (inactive <= 12)
		iv = S(8);
	else if (inactive <= 24)
		iv = S(6);
	else if (inactive <= 48)
		iv = S(5);
	else if (inactive <= 96)
		iv = S(4);
	else
		iv = S(3);
	if (active <= 3) {
		if (iv < S(12))
			iv = S(12);
	} else if (active <= 5) {
		if (iv < S(10))
			iv = S(10);
	} else if (active <= 10) {
		if (iv < S(8))
			iv = S(8);
	} else if (active >= 100 && inactive >= 40) {
		if (iv > S(2))
			iv = S(2);
	} else if (active >= 50 && inactive >= 20) {
		if (iv > S(3))
			iv = S(3);
	}
	if (iv < S(2))
		iv = S(2);
	if (iv > S(12))
		iv = S(12);
	return iv;
}

unsigned
pool_recheck_batch(size_t active, size_t inactive)
{
	unsigned b;

	if (inactive == 0)
		return 1;
	if (inactive <= 2)
		b = 1;
	else if (inactive <= 5)
		b = 2;
	else if (inactive <= 10)
		b = 3;
	else if (inactive <= 20)
		b = 4;
	else if (inactive <= 40)
		b = 6;
	else if (inactive <= 80)
		b = 8;
	else if (inactive <= 120)
		b = 10;
	else if (inactive <= 200)
		b = 12;
	else
		b = 14;
	if (active <= 3) {
		if (b > 2)
			b = 2;
	} else if (active <= 5) {
		if (b > 3)
			b = 3;
	} else if (active <= 10) {
		if (b > 4)
			b = 4;
	} else if (active >= 100 && inactive >= 40) {
		b += 2;
	} else if (active >= 50 && inactive >= 20) {
		b++;
	}
	if (active >= 20 && inactive * 4 < active && b > 2)
		b--;
	if (b > 16)
		b = 16;
	if (b > inactive)
		b = (unsigned)inactive;
	return b < 1 ? 1 : b;
}

/* ---- low-MTU outlier rule (upstream optimizeMTUResolvers) ---- */

static int
cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

struct axis {
	unsigned old_min, target;
	double rel_gain;
	int worth;
};

static void
axis_analyse(const unsigned *v, size_t n, double tol, unsigned min_gap,
    unsigned min_gain, size_t max_drops, struct axis *a)
{
	unsigned *s = xmalloc(n * sizeof(*s));
	unsigned p75, achievable;
	long thr;
	size_t i, bad = 0, drops;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_uint);
	a->old_min = s[0];
	p75 = s[n * 3 / 4];
	thr = (long)((double)p75 * tol);
	if ((long)p75 - thr < (long)min_gap)
		thr = (long)p75 - (long)min_gap;
	if (thr < 1)
		thr = 1;
	for (i = 0; i < n; i++)
		if ((long)s[i] < thr)
			bad++;
	drops = bad > max_drops ? max_drops : bad;
	achievable = a->old_min;
	if (drops > 0 && drops < n)
		achievable = s[drops];
	a->rel_gain =
	    a->old_min > 0 ? (double)(achievable - a->old_min) / a->old_min : 0;
	a->worth = drops > 0 &&
	    (achievable - a->old_min >= min_gain || a->rel_gain >= 0.35);
	a->target = a->worth ? achievable : a->old_min;
	free(s);
}

size_t
pool_outlier_filter(const unsigned *up, const unsigned *down, size_t n,
    uint8_t *drop, unsigned *target_up, unsigned *target_down)
{
	static const struct {
		size_t above;
		double ratio, tol;
		unsigned gain_up, gain_down;
	} t[] = {
	    {1000, 0.35, 0.85, 24, 64},
	    {200, 0.30, 0.80, 32, 96},
	    {150, 0.28, 0.78, 40, 96},
	    {100, 0.27, 0.77, 44, 104},
	    {75, 0.26, 0.76, 46, 112},
	    {50, 0.25, 0.75, 48, 128},
	    {24, 0.22, 0.72, 56, 128},
	    {0, 0.20, 0.70, 64, 160},
	};
	struct axis u, d;
	size_t i, k, max_drops, projected = 0;

	memset(drop, 0, n);
	*target_up = *target_down = 0;
	if (n < 5)
		return 0;
	for (k = 0; t[k].above && n <= t[k].above; k++)
		;
	max_drops = (size_t)((double)n * t[k].ratio);
	if (max_drops < 1)
		max_drops = 1;
	axis_analyse(up, n, t[k].tol, 24, t[k].gain_up, max_drops, &u);
	axis_analyse(down, n, t[k].tol, 96, t[k].gain_down, max_drops, &d);
	if (!u.worth && !d.worth)
		return 0;
	for (i = 0; i < n; i++)
		if ((u.worth && up[i] < u.target) ||
		    (d.worth && down[i] < d.target))
			projected++;
	if (projected > max_drops) {
		if (u.rel_gain >= d.rel_gain)
			d.worth = 0;
		else
			u.worth = 0;
		if (!u.worth && !d.worth)
			return 0;
	}
	projected = 0;
	for (i = 0; i < n; i++) {
		drop[i] = (u.worth && up[i] < u.target) ||
		    (d.worth && down[i] < d.target);
		projected += drop[i];
	}
	if (projected == n) {
		memset(drop, 0, n);
		return 0;
	}
	*target_up = u.worth ? u.target : 0;
	*target_down = d.worth ? d.target : 0;
	return projected;
}
