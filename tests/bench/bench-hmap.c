/* SPDX-License-Identifier: MIT */
/*
 * bench-hmap.c — common/hmap against the hand-written tables it replaced,
 * on their own kinds of key: 64-bit timer ids (ev.c kept {id, slot}
 * entries inline), strings (toml.c, config.c, sink.c: an index table that
 * compares the key at every probe), socket addresses (engine/pool.c,
 * probe/scan.c: an index table with an FNV hash) and 18-byte keys
 * (resolvers.c: the keys inline). Insert, lookup hit, lookup miss and
 * delete, in millions of operations per second, lookups in random order.
 * The former tables are re-created here in their essentials (linear
 * probing, their load factor, their hash) to be measured. Prints numbers;
 * asserts nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/net.h"
#include "common/util.h"

static uint64_t t0;

static void
start(void)
{
	t0 = now_mono_us();
}

/* M ops/s since start(). */
static double
mops(size_t n)
{
	uint64_t us = now_mono_us() - t0;

	return us ? (double)n / (double)us : 0;
}

static void
row(const char *name, double ins, double hit, double miss, double del)
{
	printf("  %-30s insert %6.1f  hit %6.1f  miss %6.1f", name, ins, hit,
	    miss);
	if (del >= 0)
		printf("  delete %6.1f", del);
	printf("  M/s\n");
}

static size_t *
shuffled(size_t n)
{
	size_t *p = xmalloc(n * sizeof *p), i, j, t;
	uint64_t r = 88172645463325252ULL;

	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n - 1; i > 0; i--) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		j = r % (i + 1);
		t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	return p;
}

static volatile uint64_t sink_v; /* keeps lookups from being optimised out */

/* ---- 64-bit ids ------------------------------------------------------ */

/* The former ev.c table: {id, slot} inline, Fibonacci home, load 1/2. */
struct idref {
	struct {
		uint64_t id;
		uint32_t slot;
	} * e;
	size_t cap, len;
};

static size_t
idref_home(const struct idref *t, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (t->cap - 1);
}

static void
idref_put(struct idref *t, uint64_t id, uint32_t slot)
{
	size_t i;

	if ((t->len + 1) * 2 > t->cap) {
		struct idref o = *t;

		t->cap = o.cap ? o.cap * 2 : 64;
		t->e = xcalloc(t->cap, sizeof *t->e);
		t->len = 0;
		for (i = 0; i < o.cap; i++)
			if (o.e[i].id != 0)
				idref_put(t, o.e[i].id, o.e[i].slot);
		free(o.e);
	}
	for (i = idref_home(t, id); t->e[i].id != 0; i = (i + 1) & (t->cap - 1))
		;
	t->e[i].id = id;
	t->e[i].slot = slot;
	t->len++;
}

static uint32_t
idref_get(const struct idref *t, uint64_t id, int take)
{
	size_t mask = t->cap - 1, i, j, k;
	struct idref *w = (struct idref *)t;
	uint32_t slot;

	for (i = idref_home(t, id); t->e[i].id != id; i = (i + 1) & mask)
		if (t->e[i].id == 0)
			return UINT32_MAX;
	slot = t->e[i].slot;
	if (!take)
		return slot;
	for (j = (i + 1) & mask; t->e[j].id != 0; j = (j + 1) & mask) {
		k = idref_home(t, t->e[j].id);
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			w->e[i] = w->e[j];
			i = j;
		}
	}
	w->e[i].id = 0;
	w->len--;
	return slot;
}

static void
bench_ids(size_t n)
{
	uint64_t *ids = xmalloc(n * sizeof *ids);
	size_t *p = shuffled(n), i;
	struct hmap m = HMAP_INIT;
	struct idref r = {NULL, 0, 0};
	struct hmap_it it;
	double ins, hit, miss, del;
	uint32_t v;

	for (i = 0; i < n; i++)
		ids[i] = i + 1; /* ev's ids: a counter */
	printf("64-bit ids (ev timers), %zu keys\n", n);
	start();
	for (i = 0; i < n; i++)
		hmap_put(&m, ids[i], (uint32_t)i);
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		for (v = hmap_find(&m, ids[p[i]], &it); v != HMAP_NONE;
		     v = hmap_find_next(&m, &it))
			if (ids[v] == ids[p[i]]) {
				sink_v += v;
				break;
			}
	hit = mops(n);
	start();
	for (i = 0; i < n; i++)
		for (v = hmap_find(&m, ids[p[i]] + n, &it); v != HMAP_NONE;
		     v = hmap_find_next(&m, &it))
			sink_v += v;
	miss = mops(n);
	start();
	for (i = 0; i < n; i++)
		for (v = hmap_find(&m, ids[p[i]], &it); v != HMAP_NONE;
		     v = hmap_find_next(&m, &it))
			if (ids[v] == ids[p[i]]) {
				hmap_remove(&m, &it);
				break;
			}
	del = mops(n);
	row("hmap", ins, hit, miss, del);
	hmap_free(&m);

	start();
	for (i = 0; i < n; i++)
		idref_put(&r, ids[i], (uint32_t)i);
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += idref_get(&r, ids[p[i]], 0);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += idref_get(&r, ids[p[i]] + n, 0);
	miss = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += idref_get(&r, ids[p[i]], 1);
	del = mops(n);
	row("former ev.c table (inline)", ins, hit, miss, del);
	free(r.e);
	free(ids);
	free(p);
}

/* ---- strings --------------------------------------------------------- */

/* The former toml.c / config.c index: index + 1, key compared per probe. */
struct strref {
	char **keys;
	size_t n;
	size_t *slots, nslots;
};

static size_t *
strref_slot(const struct strref *t, const char *key)
{
	size_t mask = t->nslots - 1, i = (size_t)str_hash(key) & mask;

	while (t->slots[i] != 0 && strcmp(t->keys[t->slots[i] - 1], key) != 0)
		i = (i + 1) & mask;
	return &t->slots[i];
}

static void
strref_add(struct strref *t, char *key)
{
	size_t i;

	if ((t->n + 1) * 2 > t->nslots) {
		free(t->slots);
		t->nslots = t->nslots ? t->nslots * 2 : 64;
		t->slots = xcalloc(t->nslots, sizeof *t->slots);
		for (i = 0; i < t->n; i++)
			*strref_slot(t, t->keys[i]) = i + 1;
	}
	if (*strref_slot(t, key) == 0) {
		t->keys[t->n++] = key;
		*strref_slot(t, key) = t->n;
	}
}

static uint32_t
str_find(const struct hmap *m, char **keys, const char *key, uint64_t h,
    struct hmap_it *it)
{
	uint32_t v;

	for (v = hmap_find(m, h, it); v != HMAP_NONE; v = hmap_find_next(m, it))
		if (strcmp(keys[v], key) == 0)
			return v;
	return HMAP_NONE;
}

static void
bench_strings(size_t n)
{
	char **keys = xmalloc(n * sizeof *keys), **other, **stored;
	size_t *p = shuffled(n), i;
	struct hmap m = HMAP_INIT;
	struct strref r = {NULL, 0, NULL, 0};
	struct hmap_it it;
	double ins, hit, miss, del;
	uint64_t h;

	other = xmalloc(n * sizeof *other);
	stored = xmalloc(n * sizeof *stored);
	for (i = 0; i < n; i++) {
		keys[i] = xasprintf("MDNS_SETTING_%zu", i * 7919);
		other[i] = xasprintf("MDNS_ABSENT_%zu", i);
	}
	printf("strings (toml, config, sink), %zu keys\n", n);
	start();
	for (i = 0; i < n; i++) {
		h = str_hash(keys[i]);
		if (str_find(&m, stored, keys[i], h, &it) == HMAP_NONE) {
			stored[i] = keys[i];
			hmap_put(&m, h, (uint32_t)i);
		}
	}
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v +=
		    str_find(&m, stored, keys[p[i]], str_hash(keys[p[i]]), &it);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += str_find(
		    &m, stored, other[p[i]], str_hash(other[p[i]]), &it);
	miss = mops(n);
	start();
	for (i = 0; i < n; i++)
		if (str_find(&m, stored, keys[p[i]], str_hash(keys[p[i]]),
			&it) != HMAP_NONE)
			hmap_remove(&m, &it);
	del = mops(n);
	row("hmap", ins, hit, miss, del);
	hmap_free(&m);

	r.keys = xmalloc(n * sizeof *r.keys);
	start();
	for (i = 0; i < n; i++)
		strref_add(&r, keys[i]);
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += *strref_slot(&r, keys[p[i]]);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += *strref_slot(&r, other[p[i]]);
	miss = mops(n);
	row("former toml.c index", ins, hit, miss, -1);
	free(r.keys);
	free(r.slots);
	for (i = 0; i < n; i++) {
		free(keys[i]);
		free(other[i]);
	}
	free(keys);
	free(other);
	free(stored);
	free(p);
}

/* ---- socket addresses ------------------------------------------------ */

/* The former pool.c / scan.c address hash: FNV-1a over address and port. */
static uint32_t
fnv_addr(const union net_addr *a)
{
	uint32_t h = 2166136261u;
	const uint8_t *b = (const uint8_t *)&a->in.sin_addr;
	size_t i;

	for (i = 0; i < 4; i++)
		h = (h ^ b[i]) * 16777619u;
	h = (h ^ net_addr_port(a)) * 16777619u;
	return h ^ (h >> 15);
}

/* The former scan.c table: index + 1, compared per probe, load 1/2. */
struct addrref {
	uint32_t *slot, mask;
};

static uint32_t
addrref_find(const struct addrref *t, const union net_addr *v,
    const union net_addr *a, int del)
{
	uint32_t i = fnv_addr(a) & t->mask, j, k, x, idx;

	while (t->slot[i] != 0 && !net_addr_equal(&v[t->slot[i] - 1], a))
		i = (i + 1) & t->mask;
	if (t->slot[i] == 0)
		return UINT32_MAX;
	idx = t->slot[i] - 1;
	if (!del)
		return idx;
	t->slot[i] = 0;
	for (j = i;;) {
		j = (j + 1) & t->mask;
		if ((x = t->slot[j]) == 0)
			break;
		k = fnv_addr(&v[x - 1]) & t->mask;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			t->slot[i] = x;
			t->slot[j] = 0;
			i = j;
		}
	}
	return idx;
}

static uint32_t
addr_find(const struct hmap *m, const union net_addr *v,
    const union net_addr *a, struct hmap_it *it)
{
	uint32_t x;

	for (x = hmap_find(m, net_addr_hash(a), it); x != HMAP_NONE;
	     x = hmap_find_next(m, it))
		if (net_addr_equal(&v[x], a))
			return x;
	return HMAP_NONE;
}

static void
bench_addrs(size_t n)
{
	union net_addr *v = xcalloc(n, sizeof *v), *miss_a;
	size_t *p = shuffled(n), i;
	struct hmap m = HMAP_INIT;
	struct addrref r;
	struct hmap_it it;
	double ins, hit, miss, del;
	uint32_t cap, x;

	miss_a = xcalloc(n, sizeof *miss_a);
	for (i = 0; i < n; i++) {
		v[i].in.sin_family = AF_INET;
		v[i].in.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i / 4);
		v[i].in.sin_port = htons((uint16_t)(53 + i % 4));
		miss_a[i] = v[i];
		miss_a[i].in.sin_port = htons(5353);
	}
	printf("socket addresses (pool, scan), %zu keys\n", n);
	start();
	hmap_reserve(&m, n); /* sized once, as pool.c and scan.c do */
	for (i = 0; i < n; i++)
		if (addr_find(&m, v, &v[i], &it) == HMAP_NONE)
			hmap_put(&m, net_addr_hash(&v[i]), (uint32_t)i);
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += addr_find(&m, v, &v[p[i]], &it);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += addr_find(&m, v, &miss_a[p[i]], &it);
	miss = mops(n);
	start();
	for (i = 0; i < n; i++)
		if (addr_find(&m, v, &v[p[i]], &it) != HMAP_NONE)
			hmap_remove(&m, &it);
	del = mops(n);
	row("hmap + net_addr_hash", ins, hit, miss, del);
	hmap_free(&m);

	/* Sized once like pool.c's rhash_build (scan.c sizes it up front). */
	for (cap = 16; cap < 2 * n; cap <<= 1)
		;
	r.slot = xcalloc(cap, sizeof *r.slot);
	r.mask = cap - 1;
	start();
	for (i = 0; i < n; i++) {
		if (addrref_find(&r, v, &v[i], 0) != UINT32_MAX)
			continue;
		for (x = fnv_addr(&v[i]) & r.mask; r.slot[x] != 0;
		     x = (x + 1) & r.mask)
			;
		r.slot[x] = (uint32_t)i + 1;
	}
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += addrref_find(&r, v, &v[p[i]], 0);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += addrref_find(&r, v, &miss_a[p[i]], 0);
	miss = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += addrref_find(&r, v, &v[p[i]], 1);
	del = mops(n);
	row("former scan.c table (FNV)", ins, hit, miss, del);
	free(r.slot);
	free(v);
	free(miss_a);
	free(p);
}

/* ---- 18-byte keys ---------------------------------------------------- */

#define K18 18

/* The former resolvers.c set: keys inline, port bytes 0 = empty, 0.7. */
struct k18ref {
	uint8_t (*k)[K18];
	size_t cap, n;
};

static uint64_t
k18ref_hash(const uint8_t *k)
{
	uint64_t a, b, h;

	memcpy(&a, k, 8);
	memcpy(&b, k + 8, 8);
	h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) ^
	    ((uint64_t)k[16] << 8 | k[17]) * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h;
}

static int
k18ref_add(struct k18ref *s, const uint8_t *k, int add)
{
	size_t mask, i;

	if (add && (s->cap == 0 || (s->n + 1) * 10 > s->cap * 7)) {
		struct k18ref b = {NULL, s->cap ? s->cap * 2 : 1024, 0};

		b.k = xcalloc(b.cap, K18);
		for (i = 0; i < s->cap; i++)
			if (s->k[i][16] != 0 || s->k[i][17] != 0)
				k18ref_add(&b, s->k[i], 1);
		free(s->k);
		*s = b;
	}
	mask = s->cap - 1;
	for (i = (size_t)k18ref_hash(k) & mask;; i = (i + 1) & mask) {
		if (s->k[i][16] == 0 && s->k[i][17] == 0) {
			if (add) {
				memcpy(s->k[i], k, K18);
				s->n++;
			}
			return add;
		}
		if (memcmp(s->k[i], k, K18) == 0)
			return !add;
	}
}

static uint32_t
k18_find(const struct hmap *m, uint8_t (*keys)[K18], const uint8_t *k,
    struct hmap_it *it)
{
	uint32_t v;

	for (v = hmap_find(m, hmap_hash_bytes(k, K18), it); v != HMAP_NONE;
	     v = hmap_find_next(m, it))
		if (memcmp(keys[v], k, K18) == 0)
			return v;
	return HMAP_NONE;
}

static void
bench_k18(size_t n)
{
	uint8_t(*k)[K18] = xcalloc(n, K18), (*stored)[K18], miss_k[K18];
	size_t *p = shuffled(n), i, ns = 0;
	struct hmap m = HMAP_INIT;
	struct k18ref r = {NULL, 0, 0};
	struct hmap_it it;
	double ins, hit, miss;

	stored = xcalloc(n, K18);
	for (i = 0; i < n; i++) {
		k[i][10] = k[i][11] = 0xff; /* ::ffff:10.x.y.z port 53 */
		k[i][12] = 10;
		k[i][13] = (uint8_t)(i >> 16);
		k[i][14] = (uint8_t)(i >> 8);
		k[i][15] = (uint8_t)i;
		k[i][17] = 53;
	}
	printf("18-byte keys (resolver lists), %zu keys\n", n);
	start();
	for (i = 0; i < n; i++)
		if (k18_find(&m, stored, k[i], &it) == HMAP_NONE) {
			memcpy(stored[ns], k[i], K18);
			hmap_put(
			    &m, hmap_hash_bytes(k[i], K18), (uint32_t)ns++);
		}
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += k18_find(&m, stored, k[p[i]], &it);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++) {
		memcpy(miss_k, k[p[i]], K18);
		miss_k[17] = 54;
		sink_v += k18_find(&m, stored, miss_k, &it);
	}
	miss = mops(n);
	row("hmap + key array", ins, hit, miss, -1);
	hmap_free(&m);

	start();
	for (i = 0; i < n; i++)
		k18ref_add(&r, k[i], 1);
	ins = mops(n);
	start();
	for (i = 0; i < n; i++)
		sink_v += (uint64_t)k18ref_add(&r, k[p[i]], 0);
	hit = mops(n);
	start();
	for (i = 0; i < n; i++) {
		memcpy(miss_k, k[p[i]], K18);
		miss_k[17] = 54;
		sink_v += (uint64_t)k18ref_add(&r, miss_k, 0);
	}
	miss = mops(n);
	row("former resolvers.c set (inline)", ins, hit, miss, -1);
	free(r.k);
	free(k);
	free(stored);
	free(p);
}

int
main(void)
{
	bench_ids(1000000);
	bench_strings(200000);
	bench_addrs(200000);
	bench_k18(1000000);
	return 0;
}
