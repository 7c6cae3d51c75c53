/* SPDX-License-Identifier: MIT */
/*
 * hmap.c — the open-addressing hash table of hmap.h: linear probing over
 * 8-byte {hash, value} slots, Fibonacci home slots, growth at 3/4 load,
 * backward-shift deletion; plus the byte and integer hashes and a string
 * set built on the table.
 *
 * Why a walk may delete: backward shift only moves values from later in a
 * cluster into the hole, never before it. A lookup or a walk that looks at
 * the hole again after a removal therefore sees every remaining value of
 * the cluster once. A full walk starts just after an empty slot, so no
 * cluster wraps across its starting point (which would otherwise let a
 * shift carry a visited value past the start, or an unvisited one before
 * it).
 *
 * It does not shrink, does not keep keys, and is not thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/util.h"

#define HMAP_MIN_CAP 16u
#define HMAP_MAX_CAP (1u << 31)
#define GOLDEN64     0x9e3779b97f4a7c15ULL

enum { IT_AT, IT_REMOVED, IT_DONE };

/*
 * The 32 bits a slot keeps: the top half of a Fibonacci multiply, which
 * every bit of the 64-bit hash reaches (sequential ids spread too).
 */
static uint32_t
fold(uint64_t h)
{
	return (uint32_t)((h * GOLDEN64) >> 32);
}

/* The home slot: the top bits of the kept hash. */
static uint32_t
home(const struct hmap *m, uint32_t h)
{
	return h >> m->shift;
}

static void
put_raw(struct hmap *m, uint32_t h, uint32_t val)
{
	uint32_t mask = m->cap - 1, i;

	for (i = home(m, h); m->slot[i].val != HMAP_NONE; i = (i + 1) & mask)
		;
	m->slot[i].hash = h;
	m->slot[i].val = val;
}

/* Rebuild with cap slots (a power of two that fits len at 3/4 load). */
static void
resize(struct hmap *m, uint32_t cap)
{
	struct hmap_slot *old = m->slot;
	uint32_t oldcap = m->cap, i, bits = 0;

	while ((1u << bits) < cap)
		bits++;
	m->slot = xreallocarray(NULL, cap, sizeof *m->slot);
	memset(m->slot, 0xff, (size_t)cap * sizeof *m->slot);
	m->cap = cap;
	m->shift = 32 - bits;
	for (i = 0; i < oldcap; i++)
		if (old[i].val != HMAP_NONE)
			put_raw(m, old[i].hash, old[i].val);
	free(old);
}

/* The capacity that holds n values at no more than 3/4 load. */
static uint32_t
cap_for(size_t n)
{
	size_t cap = HMAP_MIN_CAP;

	while (cap / 4 * 3 < n) {
		if (cap >= HMAP_MAX_CAP)
			abort(); /* 1.6 G values: treat like an alloc failure */
		cap *= 2;
	}
	return (uint32_t)cap;
}

void
hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof *m);
}

void
hmap_free(struct hmap *m)
{
	free(m->slot);
	memset(m, 0, sizeof *m);
}

void
hmap_clear(struct hmap *m)
{
	if (m->cap != 0)
		memset(m->slot, 0xff, (size_t)m->cap * sizeof *m->slot);
	m->len = 0;
}

void
hmap_reserve(struct hmap *m, size_t n)
{
	uint32_t cap = cap_for(n);

	if (cap > m->cap)
		resize(m, cap);
}

size_t
hmap_len(const struct hmap *m)
{
	return m->len;
}

void
hmap_put(struct hmap *m, uint64_t hash, uint32_t val)
{
	if (val == HMAP_NONE)
		abort(); /* a caller bug, like a NULL dereference */
	if ((size_t)m->len + 1 > (size_t)m->cap / 4 * 3)
		resize(m, cap_for((size_t)m->len + 1));
	put_raw(m, fold(hash), val);
	m->len++;
}

/* Walk the probe sequence from slot i for it->hash. */
static uint32_t
find_from(const struct hmap *m, struct hmap_it *it, uint32_t i)
{
	uint32_t mask = m->cap - 1;

	for (;; i = (i + 1) & mask) {
		const struct hmap_slot *s = &m->slot[i];

		if (s->val == HMAP_NONE) {
			it->i = i;
			it->state = IT_DONE;
			return HMAP_NONE;
		}
		if (s->hash == it->hash) {
			it->i = i;
			it->state = IT_AT;
			return s->val;
		}
	}
}

uint32_t
hmap_find(const struct hmap *m, uint64_t hash, struct hmap_it *it)
{
	it->hash = fold(hash);
	it->left = 0;
	if (m->len == 0) {
		it->i = 0;
		it->state = IT_DONE;
		return HMAP_NONE;
	}
	return find_from(m, it, home(m, it->hash));
}

uint32_t
hmap_find_next(const struct hmap *m, struct hmap_it *it)
{
	switch (it->state) {
	case IT_DONE:
		return HMAP_NONE;
	case IT_REMOVED:
		/* A later candidate may have shifted into the hole. */
		return find_from(m, it, it->i);
	default:
		return find_from(m, it, (it->i + 1) & (m->cap - 1));
	}
}

uint32_t
hmap_first(const struct hmap *m, struct hmap_it *it)
{
	uint32_t i;

	it->hash = 0;
	it->left = 0;
	it->i = 0;
	it->state = IT_DONE;
	if (m->len == 0)
		return HMAP_NONE;
	/* Start just after an empty slot (there is one: load <= 3/4). */
	for (i = 0; m->slot[i].val != HMAP_NONE; i++)
		;
	it->i = i;
	it->left = m->cap - 1;
	it->state = IT_AT;
	return hmap_next(m, it);
}

uint32_t
hmap_next(const struct hmap *m, struct hmap_it *it)
{
	uint32_t mask = m->cap - 1;

	if (it->state == IT_DONE)
		return HMAP_NONE;
	if (it->state == IT_REMOVED) {
		it->state = IT_AT;
		if (m->slot[it->i].val != HMAP_NONE)
			return m->slot[it->i].val;
	}
	while (it->left > 0) {
		it->i = (it->i + 1) & mask;
		it->left--;
		if (m->slot[it->i].val != HMAP_NONE)
			return m->slot[it->i].val;
	}
	it->state = IT_DONE;
	return HMAP_NONE;
}

/* Empty slot i, shifting later members of its cluster back. */
static void
remove_at(struct hmap *m, uint32_t i)
{
	uint32_t mask = m->cap - 1, j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (m->slot[j].val == HMAP_NONE)
			break;
		k = home(m, m->slot[j].hash);
		/* The value at j may fill hole i when i lies in [k, j). */
		if (((j - k) & mask) >= ((j - i) & mask)) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i].val = HMAP_NONE;
	m->len--;
}

void
hmap_remove(struct hmap *m, struct hmap_it *it)
{
	if (it->state != IT_AT || m->slot[it->i].val == HMAP_NONE)
		abort(); /* no current value: a caller bug */
	remove_at(m, it->i);
	it->state = IT_REMOVED;
}

/* The slot holding exactly (hash, val), or HMAP_NONE. */
static uint32_t
slot_of(const struct hmap *m, uint64_t hash, uint32_t val)
{
	struct hmap_it it;
	uint32_t v;

	for (v = hmap_find(m, hash, &it); v != HMAP_NONE;
	     v = hmap_find_next(m, &it))
		if (v == val)
			return it.i;
	return HMAP_NONE;
}

int
hmap_del(struct hmap *m, uint64_t hash, uint32_t val)
{
	uint32_t i = slot_of(m, hash, val);

	if (i == HMAP_NONE)
		return -1;
	remove_at(m, i);
	return 0;
}

int
hmap_replace(struct hmap *m, uint64_t hash, uint32_t old, uint32_t val)
{
	uint32_t i = slot_of(m, hash, old);

	if (i == HMAP_NONE || val == HMAP_NONE)
		return -1;
	m->slot[i].val = val;
	return 0;
}

/* The finaliser of SplitMix64: every input bit reaches every output bit. */
uint64_t
hmap_hash_u64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * Eight bytes at a time, each word mixed in by a multiply, then the
 * finaliser; the length is mixed in so that keys differing only in
 * trailing zero bytes differ. For short fixed keys (addresses, ids): not
 * a defence against chosen collisions, like every hash here.
 */
uint64_t
hmap_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, b, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	}
	return hmap_hash_u64(h);
}

uint32_t
hmap_find_str(const struct hmap *m, const char *key,
    const char *(*key_of)(const void *ctx, uint32_t val), const void *ctx)
{
	struct hmap_it it;
	uint32_t v;

	for (v = hmap_find(m, str_hash(key), &it); v != HMAP_NONE;
	     v = hmap_find_next(m, &it))
		if (strcmp(key_of(ctx, v), key) == 0)
			return v;
	return HMAP_NONE;
}

static const char *
strset_key(const void *set, uint32_t v)
{
	return ((const struct hmap_strset *)set)->str[v];
}

int
hmap_strset_add(struct hmap_strset *set, const char *s)
{
	if (hmap_find_str(&set->map, s, strset_key, set) != HMAP_NONE)
		return 0;
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->str = xreallocarray(set->str, set->cap, sizeof *set->str);
	}
	set->str[set->n] = xstrdup(s);
	hmap_put(&set->map, str_hash(s), (uint32_t)set->n);
	set->n++;
	return 1;
}

int
hmap_strset_has(const struct hmap_strset *set, const char *s)
{
	return hmap_find_str(&set->map, s, strset_key, set) != HMAP_NONE;
}

void
hmap_strset_free(struct hmap_strset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->str[i]);
	free(set->str);
	hmap_free(&set->map);
	memset(set, 0, sizeof *set);
}
