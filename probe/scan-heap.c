/* SPDX-License-Identifier: MIT */
/*
 * scan-heap.c — the scan's timers (scan-int.h): one binary min-heap of
 * (deadline, item, generation). An item re-arms by bumping its generation,
 * so stale entries are skipped when they surface instead of being searched
 * for and removed. Grows by doubling; never shrinks.
 */
#include <stdlib.h>

#include "common/util.h"
#include "probe/scan-int.h"

void
scan_heap_push(struct scan_heap *h, uint64_t when, uint32_t idx, uint32_t gen)
{
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	i = h->n++;
	while (i > 0 && h->v[(i - 1) / 2].when > when) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i].when = when;
	h->v[i].idx = idx;
	h->v[i].gen = gen;
}

void
scan_heap_pop(struct scan_heap *h)
{
	struct scan_heap_ent last = h->v[--h->n];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < h->n) {
		if (c + 1 < h->n && h->v[c + 1].when < h->v[c].when)
			c++;
		if (h->v[c].when >= last.when)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
}

void
scan_heap_free(struct scan_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
