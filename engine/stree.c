/* SPDX-License-Identifier: MIT */
/*
 * stree.c — the order-statistic treap of stree.h: split/merge by key,
 * subtree sizes for rank and select. Recursion depth is O(log n) in
 * expectation (random priorities). It allocates nothing and knows
 * nothing of what the ids stand for.
 */
#include "engine/stree.h"

#define NIL	  STREE_NIL
#define TSZ(t, x) ((x) == NIL ? 0u : (t)->n[x].size)

void
stree_init(struct stree *t, struct stree_node *nodes, size_t count)
{
	size_t i;

	t->n = nodes;
	t->root = NIL;
	for (i = 0; i < count; i++) {
		nodes[i].left = nodes[i].right = NIL;
		nodes[i].size = 0;
		nodes[i].in = 0;
	}
}

static void
fix(struct stree *t, uint32_t x)
{
	t->n[x].size = 1 + TSZ(t, t->n[x].left) + TSZ(t, t->n[x].right);
}

/* Split u into keys < k (l) and >= k (r). */
static void
split(struct stree *t, uint32_t u, uint64_t k, uint32_t *l, uint32_t *r)
{
	if (u == NIL) {
		*l = *r = NIL;
		return;
	}
	if (t->n[u].key < k) {
		split(t, t->n[u].right, k, &t->n[u].right, r);
		*l = u;
	} else {
		split(t, t->n[u].left, k, l, &t->n[u].left);
		*r = u;
	}
	fix(t, u);
}

static uint32_t
merge(struct stree *t, uint32_t a, uint32_t b)
{
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (t->n[a].prio > t->n[b].prio) {
		t->n[a].right = merge(t, t->n[a].right, b);
		fix(t, a);
		return a;
	}
	t->n[b].left = merge(t, a, t->n[b].left);
	fix(t, b);
	return b;
}

void
stree_insert(struct stree *t, uint32_t id, uint64_t key)
{
	struct stree_node *x = &t->n[id];
	uint32_t l, r;

	x->key = key;
	x->left = x->right = NIL;
	x->size = 1;
	split(t, t->root, key, &l, &r);
	t->root = merge(t, merge(t, l, id), r);
	x->in = 1;
}

void
stree_erase(struct stree *t, uint32_t id)
{
	uint32_t l, m, r;

	split(t, t->root, t->n[id].key, &l, &m);
	split(t, m, t->n[id].key + 1, &m, &r);
	t->root = merge(t, l, r);
	t->n[id].in = 0;
}

uint32_t
stree_size(const struct stree *t)
{
	return TSZ(t, t->root);
}

uint32_t
stree_rank(const struct stree *t, uint64_t k)
{
	uint32_t u = t->root, n = 0;

	while (u != NIL) {
		if (t->n[u].key < k) {
			n += TSZ(t, t->n[u].left) + 1;
			u = t->n[u].right;
		} else {
			u = t->n[u].left;
		}
	}
	return n;
}

uint32_t
stree_select(const struct stree *t, uint32_t r)
{
	uint32_t u = t->root;

	while (u != NIL) {
		uint32_t ls = TSZ(t, t->n[u].left);

		if (r < ls) {
			u = t->n[u].left;
		} else if (r == ls) {
			return u;
		} else {
			r -= ls + 1;
			u = t->n[u].right;
		}
	}
	return NIL;
}

uint32_t
stree_select_skip(const struct stree *t, uint32_t r, uint32_t excl)
{
	if (excl != NIL && t->n[excl].in && stree_rank(t, t->n[excl].key) <= r)
		r++;
	return stree_select(t, r);
}

uint32_t
stree_size_excl(const struct stree *t, uint32_t excl)
{
	uint32_t n = TSZ(t, t->root);

	if (excl != NIL && t->n[excl].in)
		n--;
	return n;
}

static void
collect(
    const struct stree *t, uint32_t u, uint64_t lim, uint32_t *out, uint32_t *m)
{
	while (u != NIL) {
		collect(t, t->n[u].left, lim, out, m);
		if (t->n[u].key >= lim)
			return;
		out[(*m)++] = u;
		u = t->n[u].right;
	}
}

void
stree_collect(const struct stree *t, uint64_t lim, uint32_t *out, uint32_t *m)
{
	collect(t, t->root, lim, out, m);
}
