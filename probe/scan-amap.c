/*
 * scan-amap.c — the scan's address -> item map (scan-int.h): finds the
 * items probing an address when an answer arrives with an ID that is not
 * pending (a wrong ID, or a late answer to an earlier try). Open
 * addressing with linear probing and backward-shift deletion; sized once
 * for the item slots, so it never grows. It knows nothing of items: the
 * caller compares addresses and questions.
 */
#include <stdlib.h>

#include "common/util.h"
#include "probe/scan-int.h"

uint32_t
scan_addr_hash(const union net_addr *a)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *p;
	size_t n, i;

	if (a->sa.sa_family == AF_INET6) {
		p = (const uint8_t *)&a->in6.sin6_addr;
		n = 16;
	} else {
		p = (const uint8_t *)&a->in.sin_addr;
		n = 4;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	h = (h ^ net_addr_port(a)) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

void
scan_amap_init(struct scan_amap *m, uint32_t n)
{
	uint32_t size;

	for (size = 1024; size < 2 * n; size *= 2)
		;
	m->slot = xcalloc(size, sizeof *m->slot);
	m->mask = size - 1;
}

void
scan_amap_free(struct scan_amap *m)
{
	free(m->slot);
	m->slot = NULL;
}

void
scan_amap_put(struct scan_amap *m, uint32_t h, uint32_t idx)
{
	uint32_t i = h & m->mask;

	while (m->slot[i].v != 0)
		i = (i + 1) & m->mask;
	m->slot[i].v = idx + 1;
	m->slot[i].h = h;
}

uint32_t
scan_amap_next(const struct scan_amap *m, uint32_t h, uint32_t *pos)
{
	uint32_t i = *pos & m->mask, v, vh;

	while ((v = m->slot[i].v) != 0) {
		vh = m->slot[i].h;
		i = (i + 1) & m->mask;
		if (vh == h) {
			*pos = i;
			return v;
		}
	}
	*pos = i;
	return 0;
}

void
scan_amap_del(struct scan_amap *m, uint32_t h, uint32_t idx)
{
	uint32_t i = h & m->mask, j, k;

	while (m->slot[i].v != 0 && m->slot[i].v != idx + 1)
		i = (i + 1) & m->mask;
	if (m->slot[i].v == 0)
		return;
	m->slot[i].v = 0;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	j = i;
	for (;;) {
		j = (j + 1) & m->mask;
		if (m->slot[j].v == 0)
			break;
		k = m->slot[j].h & m->mask;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			m->slot[i] = m->slot[j];
			m->slot[j].v = 0;
			i = j;
		}
	}
}
