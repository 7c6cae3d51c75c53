/* SPDX-License-Identifier: MIT */
/*
 * hmap.h — the one open-addressing hash table of the tree, and the hashes
 * that go with it.
 *
 * The table maps a 64-bit hash to a 32-bit value, usually an index into an
 * array the caller owns (entries, items, timer slots). It never sees the
 * keys: a lookup walks the values stored under a hash and the caller
 * compares its own key for each candidate. That one design serves every
 * kind of key in the tree (strings, addresses, ids, byte keys), sets and
 * multimaps (several values under one key) alike, and growth needs no
 * callback because each slot keeps (32 bits of) its hash.
 *
 * Conventions:
 * * Linear probing in a power-of-two array of 8-byte slots {hash, value};
 *   the kept hash is the top half of a Fibonacci multiply, so even
 *   sequential ids spread. Load stays at most 3/4 (the table doubles
 *   before an insert would pass it) and never shrinks (hmap_free does).
 * * Deletion is backward-shift: no tombstones, so a table that sees many
 *   inserts and deletes never degrades and never needs a rebuild.
 * * Values are 0 .. UINT32_MAX - 1; HMAP_NONE means "no (more) value".
 * * A zeroed struct hmap (or HMAP_INIT) is an empty table. Allocation
 *   failure aborts (x* wrappers). Not thread-safe.
 * * hmap_put (and hmap_reserve) may move every slot: a cursor is valid
 *   only until the next insert. hmap_remove through a cursor keeps that
 *   cursor valid (and only that one).
 *
 * Typical lookup of a string key, entries[] owned by the caller:
 *
 *	struct hmap_it it;
 *	uint32_t v;
 *
 *	for (v = hmap_find(&m, str_hash(key), &it); v != HMAP_NONE;
 *	     v = hmap_find_next(&m, &it))
 *		if (strcmp(entries[v].key, key) == 0)
 *			return &entries[v];
 *
 * Hashes: strings str_hash (common/util.h), socket addresses net_addr_hash
 * (common/net.h), fixed byte keys hmap_hash_bytes, integers and composite
 * integer keys hmap_hash_u64. A plain id may be passed as its own hash
 * (the table mixes it).
 */
#ifndef MDNS_HMAP_H
#define MDNS_HMAP_H

#include <stddef.h>
#include <stdint.h>

#define HMAP_NONE UINT32_MAX

struct hmap_slot {
	uint32_t hash; /* folded hash of the value's key */
	uint32_t val;  /* HMAP_NONE: empty */
};

/* The fields are private; read the size with hmap_len. */
struct hmap {
	struct hmap_slot *slot; /* cap slots, or NULL */
	uint32_t cap;		/* 0 or a power of two */
	uint32_t len;		/* values stored */
	unsigned shift;		/* 32 - log2(cap) */
};

#define HMAP_INIT                                                              \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

/* A cursor for hmap_find/hmap_find_next or hmap_first/hmap_next. */
struct hmap_it {
	uint32_t i;    /* slot last returned (or where the walk stands) */
	uint32_t hash; /* find: the folded hash sought */
	uint32_t left; /* first/next: slots still to visit */
	uint8_t state; /* private */
};

/* Empty table (same as zeroing it). */
void hmap_init(struct hmap *m);
/* Release the slots; m is then an empty table again. The caller's values
 * (what they index) are not touched. */
void hmap_free(struct hmap *m);
/* Remove every value, keeping the capacity. */
void hmap_clear(struct hmap *m);
/* Make room for n values in total without further growth. */
void hmap_reserve(struct hmap *m, size_t n);
/* Number of values stored. */
size_t hmap_len(const struct hmap *m);

/*
 * Store val under hash. Duplicates are not checked (a multimap is allowed):
 * look the key up first when it must be unique. May grow the table, which
 * invalidates every cursor.
 */
void hmap_put(struct hmap *m, uint64_t hash, uint32_t val);

/*
 * The first value stored under hash (candidates whose folded hash matches;
 * the caller compares keys), or HMAP_NONE. hmap_find_next gives the next
 * candidate, HMAP_NONE at the end. Order among candidates is unspecified.
 */
uint32_t hmap_find(const struct hmap *m, uint64_t hash, struct hmap_it *it);
uint32_t hmap_find_next(const struct hmap *m, struct hmap_it *it);

/*
 * For string keys: the value stored under str_hash(key) whose own key,
 * key_of(ctx, value), equals key; HMAP_NONE when there is none.
 */
uint32_t hmap_find_str(const struct hmap *m, const char *key,
    const char *(*key_of)(const void *ctx, uint32_t val), const void *ctx);

/*
 * Every value once, in table order: hmap_first, then hmap_next until
 * HMAP_NONE. Inserting during a walk is not allowed; removing the value
 * the cursor just returned (hmap_remove) is, and the walk still sees every
 * other value exactly once.
 */
uint32_t hmap_first(const struct hmap *m, struct hmap_it *it);
uint32_t hmap_next(const struct hmap *m, struct hmap_it *it);

/*
 * Remove the value the cursor returned last (from hmap_find/find_next or
 * hmap_first/next). The same cursor then continues with the following
 * value as if nothing had moved.
 */
void hmap_remove(struct hmap *m, struct hmap_it *it);

/* Remove the value val stored under hash; 0, or -1 when not there. */
int hmap_del(struct hmap *m, uint64_t hash, uint32_t val);
/*
 * Replace value old stored under hash by new (when the caller moves an
 * entry in its array); 0, or -1 when old is not there.
 */
int hmap_replace(struct hmap *m, uint64_t hash, uint32_t old, uint32_t val);

/* Hashes for keys of fixed size: n bytes at p, and one 64-bit integer. */
uint64_t hmap_hash_bytes(const void *p, size_t n);
uint64_t hmap_hash_u64(uint64_t x);

/*
 * A set of strings on top of the table, for de-duplication: it keeps a
 * copy of each distinct string, in the order first added.
 */
struct hmap_strset {
	struct hmap map;
	char **str; /* n distinct strings, first-added order */
	size_t n, cap;
};

/* Add a copy of s unless present: 1 when it was new, 0 when it was not. */
int hmap_strset_add(struct hmap_strset *set, const char *s);
/* Whether s is in the set. */
int hmap_strset_has(const struct hmap_strset *set, const char *s);
/* Free the copies and the table; the set is then empty. */
void hmap_strset_free(struct hmap_strset *set);

#endif
