/* SPDX-License-Identifier: MIT */
/*
 * pool-probe.c — the pool's MTU tests, confirms and rechecks as probes
 * (pool.h, "MTU probes"): which connection to probe, at which size, how
 * often, which DNS id an answer must carry and from which resolver, and
 * what the outcome means for the pool. Before ready a test is upstream's
 * search (proto/mtu.h, the one `scan` and `mtu` run) for upload then
 * download; after ready it probes only the synced sizes (a search over one
 * value); a confirm is one quick upload probe. Every size is tried up to
 * MTU_TEST_RETRIES times, each attempt with a new probe code and its own
 * timeout; the search keeps the attempts and deadlines, this file the
 * DNS ids and the due list.
 *
 * Pure like the rest of the pool: the client sends the queries this file
 * hands out and returns the answers; time comes in as `now`, timeouts are
 * found by pool_probe_tick.
 */
#include <limits.h>
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

/* Put the probe on the due list: it wants its next attempt sent. */
static void
queue(struct pool *p, struct pool_probe *pr)
{
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

static int
to_int(unsigned v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

/* Start one direction's search (stage 0 upload, 1 download) over
 * [max(min, floor), max], upstream's ranges (proto/mtu.h). */
static void
search(struct pool_probe *pr, int stage, unsigned min, int max, int floor)
{
	pr->stage = stage;
	mtu_search_init(&pr->ms, to_int(min), max, floor, to_int(pr->attempts),
	    pr->timeout_us);
}

static void advance(struct pool *p, struct pool_probe *pr, uint64_t now);

/* Start the sweep of one direction (before ready). */
static void
sweep_stage(struct pool *p, struct pool_probe *pr, int stage, uint64_t now)
{
	const struct pool_probe_cfg *c = &p->pcfg;
	char why[POOL_REASON_MAX];

	if (stage == 0)
		search(pr, 0, c->min_up,
		    mtu_upload_high(
			to_int(c->max_up), p->up_cap[p->c[pr->conn].domain]),
		    MTU_UP_FLOOR);
	else
		search(pr, 1, c->min_down, to_int(c->max_down), MTU_DOWN_FLOOR);
	if (pr->ms.high < pr->ms.low) {
		snprintf(why, sizeof(why), "%s MTU range empty (%d > %d)",
		    stage ? "download" : "upload", pr->ms.low, pr->ms.high);
		finish(p, pr, 0, 0, 0, why, now);
		return;
	}
	advance(p, pr, now);
}

/* Test the one size v of a stage with retries (after ready). */
static void
single_stage(
    struct pool *p, struct pool_probe *pr, int stage, unsigned v, uint64_t now)
{
	search(pr, stage, v, to_int(v), 0);
	advance(p, pr, now);
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
	pr->up_mtu = p->sync_up;
	single_stage(p, pr, 0, p->sync_up, now);
}

/* A stage's search is over (ms.best, 0 = nothing passed): next stage or
 * the outcome. */
static void
stage_done(struct pool *p, struct pool_probe *pr, uint64_t now)
{
	char why[POOL_REASON_MAX];
	unsigned best = (unsigned)pr->ms.best;
	const char *dir = pr->stage ? "download" : "upload";

	if (best == 0) {
		if (pr->kind == PROBE_SWEEP)
			snprintf(why, sizeof(why),
			    "%s MTU test failed at the minimum %d: no valid "
			    "answer",
			    dir, pr->ms.low);
		else
			snprintf(why, sizeof(why),
			    "%s MTU probe at the synced %d failed", dir,
			    pr->ms.high);
		finish(p, pr, 0, 0, 0, why, now);
		return;
	}
	if (pr->kind != PROBE_SWEEP) {
		if (pr->stage == 0 && pr->kind != PROBE_CONFIRM)
			single_stage(p, pr, 1, p->sync_down, now);
		else
			finish(p, pr, 1, p->sync_up, p->sync_down, NULL, now);
		return;
	}
	if (pr->stage == 0) {
		pr->up_mtu = best;
		sweep_stage(p, pr, 1, now);
		return;
	}
	finish(p, pr, 1, pr->up_mtu, best, NULL, now);
}

/* After an attempt's outcome: send again (a retry or the next size),
 * wait, or the stage is over. */
static void
advance(struct pool *p, struct pool_probe *pr, uint64_t now)
{
	switch (mtu_search_state(&pr->ms)) {
	case MTU_SEND:
		queue(p, pr);
		break;
	case MTU_WAIT:
		break;
	case MTU_DONE:
		stage_done(p, pr, now);
		break;
	}
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
		if (pr->dns_id >= 0 && mtu_search_expire(&pr->ms, now)) {
			unhook(p, pr);
			advance(p, pr, now);
		}
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
	q->size = (unsigned)mtu_search_next(&pr->ms);
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
	(void)mtu_search_sent(&pr->ms, now);
	p->probe_by_id[dns_id] = pr;
}

int
pool_probe_answer(struct pool *p, long resolver, uint16_t dns_id,
    const struct wire_frame *f, uint64_t now, uint64_t *rtt_us)
{
	struct pool_probe *pr;
	int pass;

	if (p->probe_by_id == NULL || (pr = p->probe_by_id[dns_id]) == NULL)
		return 0;
	if (resolver >= 0 && p->c[pr->conn].resolver != (uint32_t)resolver)
		return 0; /* someone else's answer with that id */
	if (rtt_us != NULL)
		*rtt_us = now - pr->ms.sent_us;
	pass = f != NULL &&
	    mtu_probe_check(pr->stage ? MTU_DOWN : MTU_UP, pr->code,
		mtu_search_next(&pr->ms), f) == MTU_ECHO_OK;
	if (pass)
		p->c[pr->conn].last_valid_us = now ? now : 1;
	unhook(p, pr);
	mtu_search_answer(&pr->ms, pass ? MTU_PASS : MTU_FAIL, now);
	advance(p, pr, now);
	return 1;
}
