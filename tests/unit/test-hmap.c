/* SPDX-License-Identifier: MIT */
/*
 * test-hmap.c — the hash table against a reference model (a presence array
 * over a small key universe): random inserts, lookups, deletions through
 * hmap_del and through cursors, walks that delete as they go, growth,
 * reserve, clear, replace; with an identity hash, a well-mixed one and a
 * degenerate one (61 distinct hashes, so long clusters that wrap around
 * the end of the array and many values per hash). Then the string set and
 * the hashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/util.h"
#include "tests/tap.h"

#define U 4096 /* key universe: value == key */

enum hash_kind { H_ID, H_MIX, H_BAD, H_NKINDS };
static const char *const kind_name[] = {"identity", "mixed", "61 hashes"};

static uint64_t
khash(enum hash_kind k, uint32_t key)
{
	switch (k) {
	case H_ID:
		return key;
	case H_MIX:
		return hmap_hash_u64(key);
	default:
		return (uint64_t)(key % 61) * 0x100000001ULL;
	}
}

static uint64_t rng = 0x853c49e6748fea9bULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* How many times key is found under its hash (0 or 1 in a set). */
static int
count_found(const struct hmap *m, enum hash_kind k, uint32_t key)
{
	struct hmap_it it;
	uint32_t v;
	int n = 0;

	for (v = hmap_find(m, khash(k, key), &it); v != HMAP_NONE;
	     v = hmap_find_next(m, &it))
		n += v == key;
	return n;
}

/* A full walk sees exactly the model's keys, each once. */
static int
walk_matches(const struct hmap *m, const uint8_t *model)
{
	static uint8_t seen[U];
	struct hmap_it it;
	uint32_t v, n = 0, want = 0, i;

	memset(seen, 0, sizeof seen);
	for (v = hmap_first(m, &it); v != HMAP_NONE; v = hmap_next(m, &it)) {
		if (v >= U || !model[v] || seen[v]++)
			return 0;
		n++;
	}
	for (i = 0; i < U; i++)
		want += model[i];
	return n == want && hmap_len(m) == want;
}

/* A cluster spans the end of the array (slot cap-1 and slot 0 in use). */
static int
wraps(const struct hmap *m)
{
	return m->cap != 0 && m->slot[0].val != HMAP_NONE &&
	    m->slot[m->cap - 1].val != HMAP_NONE;
}

static void
model_run(enum hash_kind k)
{
	static uint8_t model[U];
	struct hmap m = HMAP_INIT;
	int bad_find = 0, bad_walk = 0, bad_del = 0, nwrap = 0, walks = 0;
	uint32_t op, key, v;
	struct hmap_it it;

	memset(model, 0, sizeof model);
	for (op = 0; op < 200000; op++) {
		/* Keys from a window that drifts, so the size rises and falls. */
		uint32_t span = 64 + (op / 5000 % 8) * 400;

		key = rnd(span);
		switch (rnd(5)) {
		case 0:
		case 1: /* insert if absent */
			if (count_found(&m, k, key) == 0)
				hmap_put(&m, khash(k, key), key);
			model[key] = 1;
			break;
		case 2: /* delete by (hash, value) */
			if (hmap_del(&m, khash(k, key), key) !=
			    (model[key] ? 0 : -1))
				bad_del++;
			model[key] = 0;
			break;
		case 3: /* delete through a lookup cursor */
			for (v = hmap_find(&m, khash(k, key), &it);
			     v != HMAP_NONE; v = hmap_find_next(&m, &it))
				if (v == key)
					hmap_remove(&m, &it);
			model[key] = 0;
			break;
		default: /* lookup */
			if (count_found(&m, k, key) != model[key])
				bad_find++;
		}
		nwrap += wraps(&m);
		if (op % 997 == 0) {
			walks++;
			bad_walk += !walk_matches(&m, model);
			for (key = 0; key < span; key++)
				bad_find +=
				    count_found(&m, k, key) != model[key];
		}
	}
	tap_is_int(bad_find, 0, "%s: every lookup agrees with the model",
	    kind_name[k]);
	tap_is_int(bad_del, 0, "%s: hmap_del finds exactly what is there",
	    kind_name[k]);
	tap_is_int(bad_walk, 0, "%s: %d walks saw each value once",
	    kind_name[k], walks);
	tap_ok(m.cap != 0 && (m.cap & (m.cap - 1)) == 0 &&
		hmap_len(&m) <= m.cap / 4 * 3,
	    "%s: capacity a power of two, load <= 3/4 (%zu in %u)",
	    kind_name[k], hmap_len(&m), m.cap);
	if (k == H_BAD)
		tap_ok(nwrap > 0,
		    "%s: clusters wrapped around the end (%d ops)",
		    kind_name[k], nwrap);

	/* Walk and delete: remove every key divisible by 3 while walking. */
	{
		static uint8_t visits[U], start[U];
		int twice = 0, left_bad = 0;

		memset(visits, 0, sizeof visits);
		memcpy(start, model, sizeof start);
		for (v = hmap_first(&m, &it); v != HMAP_NONE;
		     v = hmap_next(&m, &it)) {
			twice += visits[v]++ != 0;
			if (v % 3 == 0) {
				hmap_remove(&m, &it);
				model[v] = 0;
			}
		}
		for (key = 0; key < U; key++)
			left_bad += start[key] != visits[key];
		tap_is_int(twice, 0, "%s: walk-and-delete visits nothing twice",
		    kind_name[k]);
		tap_is_int(left_bad, 0,
		    "%s: walk-and-delete visits every value", kind_name[k]);
		tap_ok(walk_matches(&m, model),
		    "%s: after walk-and-delete the rest is intact",
		    kind_name[k]);
	}
	/* Delete everything while walking. */
	for (v = hmap_first(&m, &it); v != HMAP_NONE; v = hmap_next(&m, &it))
		hmap_remove(&m, &it);
	tap_is_int(
	    hmap_len(&m), 0, "%s: walk removing all empties it", kind_name[k]);
	hmap_free(&m);
}

/* Several values under one hash (a multimap), removed through a cursor. */
static void
multimap(void)
{
	struct hmap m = HMAP_INIT;
	struct hmap_it it;
	uint32_t v, i, seen = 0, again = 0;

	for (i = 0; i < 100; i++)
		hmap_put(&m, 42, i);
	for (i = 0; i < 50; i++)
		hmap_put(&m, 43 + i, 1000 + i);
	for (v = hmap_find(&m, 42, &it); v != HMAP_NONE;
	     v = hmap_find_next(&m, &it)) {
		if (v >= 100)
			again++;
		else if (v % 2 == 0)
			hmap_remove(&m, &it);
		seen++;
	}
	tap_is_int(seen, 100, "multimap: find visits all 100 values of a hash");
	tap_is_int(again, 0, "multimap: and no value of another hash");
	seen = 0;
	for (v = hmap_find(&m, 42, &it); v != HMAP_NONE;
	     v = hmap_find_next(&m, &it))
		seen += v % 2 == 1;
	tap_is_int(
	    seen, 50, "multimap: removal through the cursor kept the odd");
	tap_is_int(hmap_len(&m), 100, "multimap: 50 + 50 values left");
	tap_is_int(hmap_replace(&m, 43, 1000, 7777), 0, "replace: found");
	tap_is_int(hmap_find(&m, 43, &it), 7777, "replace: new value found");
	tap_is_int(hmap_replace(&m, 43, 1000, 1), -1, "replace: old is gone");
	tap_is_int(hmap_del(&m, 44, 7777), -1, "del: wrong hash is not found");
	hmap_free(&m);
}

static void
growth(void)
{
	struct hmap m, z;
	struct hmap_it it;
	struct hmap_slot *before;
	uint32_t i, bad = 0;

	hmap_init(&m);
	memset(&z, 0, sizeof z);
	tap_is_int(hmap_find(&z, 1, &it), HMAP_NONE, "zeroed table: empty");
	tap_is_int(hmap_first(&z, &it), HMAP_NONE, "zeroed table: no walk");
	tap_is_int(hmap_del(&z, 1, 1), -1, "zeroed table: nothing to delete");
	tap_is_int(hmap_find_next(&z, &it), HMAP_NONE, "zeroed table: next");
	for (i = 0; i < 300000; i++)
		hmap_put(&m, i, i);
	for (i = 0; i < 300000; i++)
		bad += count_found(&m, H_ID, i) != 1;
	tap_is_int(bad, 0, "growth to 300000: every value still found");
	tap_ok(hmap_len(&m) <= m.cap / 4 * 3 && hmap_len(&m) > m.cap / 8 * 3,
	    "growth: load between 3/8 and 3/4 (%zu in %u)", hmap_len(&m),
	    m.cap);
	hmap_clear(&m);
	tap_is_int(hmap_len(&m), 0, "clear: empty");
	tap_is_int(hmap_find(&m, 5, &it), HMAP_NONE, "clear: nothing found");
	hmap_free(&m);
	tap_ok(m.slot == NULL && m.cap == 0, "free: back to the empty table");

	hmap_reserve(&m, 10000);
	before = m.slot;
	for (i = 0; i < 10000; i++)
		hmap_put(&m, hmap_hash_u64(i), i);
	tap_ok(m.slot == before, "reserve(10000): 10000 inserts do not grow");
	hmap_put(&m, 1, 10000);
	hmap_free(&m);
}

static void
strset(void)
{
	struct hmap_strset s = {0};
	char buf[32];
	int i, news = 0;

	for (i = 0; i < 3000; i++) {
		snprintf(
		    buf, sizeof buf, "10.0.%d.%d", i % 1000 / 256, i % 1000);
		news += hmap_strset_add(&s, buf);
	}
	tap_is_int(news, 1000, "strset: 1000 distinct of 3000 adds");
	tap_is_int(s.n, 1000, "strset: keeps each once");
	tap_is_str(s.str[999], "10.0.3.999", "strset: first-added order");
	tap_ok(hmap_strset_has(&s, "10.0.0.0") && !hmap_strset_has(&s, "10.0"),
	    "strset: has");
	hmap_strset_free(&s);
	tap_ok(s.n == 0 && !hmap_strset_has(&s, "10.0.0.0"),
	    "strset: free empties it");
}

static void
hashes(void)
{
	uint8_t a[18] = {1, 2, 3}, b[18] = {1, 2, 3};
	static uint32_t bucket[1024];
	uint32_t i, max = 0;

	tap_ok(hmap_hash_bytes(a, 18) == hmap_hash_bytes(b, 18),
	    "hash_bytes: equal keys, equal hashes");
	b[17] = 1;
	tap_ok(hmap_hash_bytes(a, 18) != hmap_hash_bytes(b, 18),
	    "hash_bytes: the last byte counts");
	tap_ok(hmap_hash_bytes("a", 1) != hmap_hash_bytes("a\0", 2),
	    "hash_bytes: the length counts");
	/* Sequential integers spread over 1024 buckets (top bits). */
	for (i = 0; i < 1024 * 64; i++)
		bucket[hmap_hash_u64(i) >> 54]++;
	for (i = 0; i < 1024; i++)
		max = MAX(max, bucket[i]);
	tap_ok(max < 64 * 2, "hash_u64: sequential keys spread (max %u of 64)",
	    max);
}

int
main(void)
{
	int k;

	for (k = 0; k < H_NKINDS; k++)
		model_run((enum hash_kind)k);
	multimap();
	growth();
	strset();
	hashes();
	return tap_done();
}
