/*
 * dns-lat.c — the latency ring of DNS through the tunnel (dns-lat.h):
 * samples in, nearest-rank percentiles out over the last DNSLAT_N. The
 * percentile sorts a copy (status reads are rare: a few a second).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dns-lat.h"

void
dnslat_add(struct dnslat *l, uint64_t us)
{
	l->us[l->next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	l->next = (l->next + 1) % DNSLAT_N;
	if (l->n < DNSLAT_N)
		l->n++;
	l->count++;
	l->sum_us += us;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
dnslat_pct(const struct dnslat *l, double p)
{
	uint32_t v[DNSLAT_N];
	unsigned rank;

	if (l->n == 0 || p <= 0)
		return 0;
	memcpy(v, l->us, l->n * sizeof v[0]);
	qsort(v, l->n, sizeof v[0], cmp_u32);
	/* nearest rank: ceil(p/100 * n), 1-based */
	rank = (unsigned)(p / 100.0 * l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return v[rank - 1];
}
