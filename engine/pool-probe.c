/*
 * pool-probe.c — the pool's MTU tests, confirms and rechecks as probes
 * (pool.h, "MTU probes"): which connection to probe, at which size, how
 * often, which DNS id an answer must carry and from which resolver, and
 * what the outcome means for the pool. Before ready a test is upstream's
 * search (engine/mtu-search.c) for upload then download; after ready it
 * probes only the synced sizes; a confirm is one quick upload probe.
 * Every size is tried up to MTU_TEST_RETRIES times, each attempt with a
 * new probe code and its own timeout.
 *
 * Pure like the rest of the pool: the client sends the queries this file
 * hands out and returns the answers; time comes in as `now`, timeouts are
 * found by pool_probe_tick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/pool-int.h"

void
pool_probe_setup(struct pool *p, const struct pool_probe_cfg *c)
{
	size_t i;

	p->pcfg = *c;
	if (p->pcfg.retries < 1)
		p->pcfg.retries = 1;
	p->up_cap = xcalloc(p->ndom, sizeof(*p->up_cap));
	for (i = 0; i < p->ndom; i++)
		p->up_cap[i] = c->up_cap != NULL ? c->up_cap[i] : 512;
	p->pcfg.up_cap = NULL;
	p->probe_code = c->first_code;
	if (p->probe_by_id == NULL)
		p->probe_by_id = xcalloc(65536, sizeof(*p->probe_by_id));
}

size_t
pool_probes_running(const struct pool *p)
{
	return p->nprobes;
}

int
pool_probe_holds(const struct pool *p, uint16_t dns_id)
{
	return p->probe_by_id != NULL && p->probe_by_id[dns_id] != NULL;
}

/* Forget the query in flight (its id no longer matches an answer). */
static void
unhook(struct pool *p, struct pool_probe *pr)
{
	if (pr->dns_id >= 0 && p->probe_by_id[pr->dns_id] == pr)
		p->probe_by_id[pr->dns_id] = NULL;
	pr->dns_id = -1;
}

static void
due_remove(struct pool *p, struct pool_probe *pr)
{
	struct pool_probe **pp = &p->due_head, *prev = NULL;

	if (!pr->due)
		return;
	while (*pp != pr) {
		prev = *pp;
		pp = &(*pp)->due_next;
	}
	*pp = pr->due_next;
	if (p->due_tail == pr)
		p->due_tail = prev;
	pr->due = 0;
}

static void
probe_free(struct pool *p, struct pool_probe *pr)
{
	unhook(p, pr);
	due_remove(p, pr);
	if (pr->prev != NULL)
		pr->prev->next = pr->next;
	else
		p->probes = pr->next;
	if (pr->next != NULL)
		pr->next->prev = pr->prev;
	p->nprobes--;
	free(pr);
}

void
pool_probe_free_all(struct pool *p)
{
	while (p->probes != NULL)
		probe_free(p, p->probes);
	free(p->probe_by_id);
	free(p->up_cap);
}

/* Ask for a query at size v (a new size: attempts start over). */
static void
test(struct pool *p, struct pool_probe *pr, unsigned v)
{
	pr->cur = v;
	pr->attempt = 0;
	if (pr->due)
		return;
	pr->due = 1;
	pr->due_next = NULL;
	if (p->due_tail != NULL)
		p->due_tail->due_next = pr;
	else
		p->due_head = pr;
	p->due_tail = pr;
}

/* Ask for the same size again (a retry). */
static void
retry(struct pool *p, struct pool_probe *pr)
{
	unsigned attempt = pr->attempt;

	test(p, pr, pr->cur);
	pr->attempt = attempt;
}

/* Report the outcome to the pool and free the probe. */
static void
finish(struct pool *p, struct pool_probe *pr, int ok, unsigned up,
    unsigned down, const char *why, uint64_t now)
{
	if (pr->kind == PROBE_SWEEP || pr->kind == PROBE_SYNCED)
		(void)pool_mtu_result(
		    p, pr->conn, ok, up, down, why, now, NULL);
	else
		(void)pool_check_result(p, pr->conn, ok, now, NULL);
	probe_free(p, pr);
}

/* Start the search of one direction (stage 0 upload, 1 download). */
static void
sweep_stage(struct pool *p, struct pool_probe *pr, int stage, uint64_t now)
{
	const struct pool_probe_cfg *c = &p->pcfg;
	char why[POOL_REASON_MAX];
	unsigned lo, hi;

	pr->stage = stage;
	if (stage == 0) {
		lo = MAX(c->min_up, 10u);
		hi =
		    MIN(MIN(c->max_up, 512u), p->up_cap[p->c[pr->conn].domain]);
	} else {
		lo = MAX(c->min_down, 20u);
		hi = MIN(c->max_down, 4096u);
	}
	if (lo > hi) {
		snprintf(why, sizeof(why), "%s MTU range empty (%u > %u)",
		    stage ? "download" : "upload", lo, hi);
		finish(p, pr, 0, 0, 0, why, now);
		return;
	}
	msearch_init(&pr->ms, lo, hi);
	test(p, pr, msearch_next(&pr->ms));
}

static void
probe_start(struct pool *p, uint32_t conn, enum probe_kind k, uint64_t now)
{
	struct pool_probe *pr = xcalloc(1, sizeof(*pr));

	pr->conn = conn;
	pr->kind = k;
	pr->dns_id = -1;
	pr->attempts = p->pcfg.retries;
	pr->timeout_us = p->pcfg.timeout_us;
	pr->next = p->probes;
	if (p->probes != NULL)
		p->probes->prev = pr;
	p->probes = pr;
	p->nprobes++;
	if (k == PROBE_SWEEP) {
		sweep_stage(p, pr, 0, now);
		return;
	}
	if (k == PROBE_RECHECK)
		pr->timeout_us = pool_recheck_timeout(p);
	if (k == PROBE_CONFIRM) {
		pr->attempts = 1;
		pr->timeout_us = MIN(pr->timeout_us, 1000000ULL);
	}
	pr->stage = 0;
	pr->up_mtu = p->sync_up;
	test(p, pr, p->sync_up);
}

/* One attempt passed or failed: retry, next size, next stage or done. */
static void
result(struct pool *p, struct pool_probe *pr, int pass, uint64_t now)
{
	char why[POOL_REASON_MAX];
	unsigned best;

	unhook(p, pr);
	if (!pass && ++pr->attempt < pr->attempts) {
		retry(p, pr);
		return;
	}
	if (pr->kind != PROBE_SWEEP) {
		if (!pass) {
			snprintf(why, sizeof(why),
			    "%s MTU probe at the synced %u failed",
			    pr->stage ? "download" : "upload", pr->cur);
			finish(p, pr, 0, 0, 0, why, now);
			return;
		}
		if (pr->stage == 0 && pr->kind != PROBE_CONFIRM) {
			pr->stage = 1;
			test(p, pr, p->sync_down);
			return;
		}
		finish(p, pr, 1, p->sync_up, p->sync_down, NULL, now);
		return;
	}
	msearch_report(&pr->ms, pass);
	if (msearch_next(&pr->ms) != 0) {
		test(p, pr, msearch_next(&pr->ms));
		return;
	}
	if (pr->ms.failed_low) {
		snprintf(why, sizeof(why),
		    "%s MTU test failed at the minimum %u: no valid answer",
		    pr->stage ? "download" : "upload", pr->ms.lo);
		finish(p, pr, 0, 0, 0, why, now);
		return;
	}
	best = pr->ms.best;
	if (pr->stage == 0) {
		pr->up_mtu = best;
		sweep_stage(p, pr, 1, now);
		return;
	}
	finish(p, pr, 1, pr->up_mtu, best, NULL, now);
}

void
pool_probe_tick(struct pool *p, uint64_t now)
{
	struct pool_probe *pr, *next;
	enum pool_check_kind kinds[64];
	uint32_t ids[64];
	size_t n, i;

	p->last_now = now;
	for (pr = p->probes; pr != NULL; pr = next) {
		next = pr->next;
		if (pr->dns_id >= 0 && now - pr->sent_us >= pr->timeout_us)
			result(p, pr, 0, now);
	}
	while ((n = pool_mtu_test_next(p, now, ids, nitems(ids))) > 0)
		for (i = 0; i < n; i++)
			probe_start(p, ids[i],
			    p->ready ? PROBE_SYNCED : PROBE_SWEEP, now);
	if (!p->ready)
		return;
	while ((n = pool_check_next(p, now, ids, kinds, nitems(ids))) > 0)
		for (i = 0; i < n; i++)
			probe_start(p, ids[i],
			    kinds[i] == POOL_CHECK_CONFIRM ? PROBE_CONFIRM :
							     PROBE_RECHECK,
			    now);
}

int
pool_probe_next(struct pool *p, struct pool_probe_query *q)
{
	struct pool_probe *pr = p->due_head;

	if (pr == NULL)
		return 0;
	p->due_head = pr->due_next;
	if (p->due_head == NULL)
		p->due_tail = NULL;
	pr->due = 0;
	pr->code = ++p->probe_code;
	memset(q, 0, sizeof(*q));
	q->conn = pr->conn;
	q->download = pr->stage;
	q->size = pr->cur;
	q->pad = MAX(7u, pr->up_mtu);
	q->code = pr->code;
	q->tag = pr;
	return 1;
}

void
pool_probe_sent(struct pool *p, const struct pool_probe_query *q,
    uint16_t dns_id, uint64_t now)
{
	struct pool_probe *pr = q->tag;

	unhook(p, pr);
	pr->dns_id = dns_id;
	pr->sent_us = now;
	p->probe_by_id[dns_id] = pr;
}

/* Whether the reply passes the probe's current test. */
static int
passes(const struct pool_probe *pr, const struct pool_probe_reply *r)
{
	if (!r->parsed || r->code != pr->code || r->len != pr->cur)
		return 0;
	if (pr->stage == 0)
		return r->type == POOL_PROBE_UP_RES;
	return r->type == POOL_PROBE_DOWN_RES && r->payload_len == pr->cur;
}

int
pool_probe_answer(struct pool *p, long resolver, uint16_t dns_id,
    const struct pool_probe_reply *r, uint64_t now, uint64_t *rtt_us)
{
	struct pool_probe *pr;

	if (p->probe_by_id == NULL || (pr = p->probe_by_id[dns_id]) == NULL)
		return 0;
	if (resolver >= 0 && p->c[pr->conn].resolver != (uint32_t)resolver)
		return 0; /* someone else's answer with that id */
	if (rtt_us != NULL)
		*rtt_us = now - pr->sent_us;
	if (passes(pr, r))
		p->c[pr->conn].last_valid_us = now ? now : 1;
	result(p, pr, passes(pr, r), now);
	return 1;
}
