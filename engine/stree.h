/* SPDX-License-Identifier: MIT */
/*
 * stree.h — an order-statistic treap over dense ids (0 .. n-1) keyed by a
 * 64-bit score: insert, erase and re-key in O(log n), rank and select by
 * rank in O(log n), an in-order walk below a key in O(m + log n).
 *
 * The caller owns the node array (one node per id, zeroed or set up by
 * stree_init) and chooses each node's heap priority (any random 32-bit
 * value); the tree only links nodes, it never allocates. Keys must be
 * unique (the resolver pool puts the id in the low 32 bits). Used by the
 * resolver pool (engine/pool.c) to rank active connections by a
 * strategy's score; nothing in it knows about connections.
 */
#ifndef MDNS_STREE_H
#define MDNS_STREE_H

#include <stddef.h>
#include <stdint.h>

#define STREE_NIL UINT32_MAX

struct stree_node {
	uint64_t key;
	uint32_t left, right, prio, size;
	uint8_t in; /* linked into the tree */
};

struct stree {
	struct stree_node *n; /* borrowed: one node per id */
	uint32_t root;
};

/* Empty tree over nodes[0 .. count-1]; their prio fields (set by the
 * caller, before or after) are left alone. */
void stree_init(struct stree *t, struct stree_node *nodes, size_t count);
/* Link id with key (it must not be in the tree). */
void stree_insert(struct stree *t, uint32_t id, uint64_t key);
/* Unlink id (it must be in the tree). */
void stree_erase(struct stree *t, uint32_t id);
/* Number of ids in the tree. */
uint32_t stree_size(const struct stree *t);
/* Number of keys < k. */
uint32_t stree_rank(const struct stree *t, uint64_t k);
/* The id with the r-th smallest key (0-based), or STREE_NIL. */
uint32_t stree_select(const struct stree *t, uint32_t r);
/* As stree_select, with excl (STREE_NIL: none) left out of the order. */
uint32_t stree_select_skip(const struct stree *t, uint32_t r, uint32_t excl);
/* Size without excl (when excl is in the tree). */
uint32_t stree_size_excl(const struct stree *t, uint32_t excl);
/* Append the ids with key < lim in key order to out (*m grows). */
void stree_collect(
    const struct stree *t, uint64_t lim, uint32_t *out, uint32_t *m);

#endif
