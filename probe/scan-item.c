/* SPDX-License-Identifier: MIT */
/*
 * scan-item.c — the life of one item (a resolver × a domain) in the scan:
 * its slot, its single timer, its place in the ready queue, the per-stage
 * tested/passed/failed counts and times, and its final result handed to
 * the caller with the cursor moved on. What the item does at each step is
 * scan-funnel.c's business; this unit only keeps the books.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "probe/scan-int.h"

void
scan_trace(struct scan *s, struct item *it, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (s->o.on_trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->o.on_trace(s->o.arg, &it->r, line);
}

/* Put pre in front of the evidence (env findings mark every result). */
static void
evid_prefix(struct item *it, const char *pre)
{
	size_t l = strlen(it->r.evidence), p = strlen(pre);

	if (l + p + 1 > sizeof it->r.evidence)
		l = sizeof it->r.evidence - p - 1;
	memmove(it->r.evidence + p, it->r.evidence, l);
	memcpy(it->r.evidence, pre, p);
	it->r.evidence[l + p] = '\0';
}

const struct scan_try *
scan_stage_try(const struct scan *s, int state)
{
	switch (state) {
	case IT_ENV_ICPT:
	case IT_LIVE:
	case IT_WHOAMI:
		return &s->o.t_live;
	case IT_ENV_SRV:
	case IT_REACH:
	case IT_LOSS:
		return &s->o.t_reach;
	case IT_UP:
	case IT_DOWN:
	case IT_TCP:
		return &s->o.t_mtu;
	default:
		return &s->o.t_hs;
	}
}

static enum res_stage
state_stage(int state)
{
	switch (state) {
	case IT_ENV_ICPT:
	case IT_ENV_SRV:
		return RES_STAGE_ENV;
	case IT_LIVE:
	case IT_WHOAMI: /* a step of liveness, not a stage */
		return RES_STAGE_LIVENESS;
	case IT_REACH:
		return RES_STAGE_REACH;
	case IT_UP:
	case IT_DOWN:
	case IT_TCP:
		return RES_STAGE_MTU;
	case IT_HS_WAIT:
	case IT_INIT:
	case IT_PING:
	case IT_CLOSE:
		return RES_STAGE_HANDSHAKE;
	case IT_BURST:
		return RES_STAGE_BURST;
	default:
		return RES_STAGE_NONE;
	}
}

static void
stage_enter(struct scan *s, struct item *it, enum res_stage st, uint64_t now)
{
	struct stage_acc *a = &s->st[st];

	a->tested++;
	if (a->t_first == 0)
		a->t_first = now;
	it->r.stage = st;
}

static void
stage_leave(struct scan *s, enum res_stage st, int passed, uint64_t now)
{
	struct stage_acc *a = &s->st[st];

	if (passed)
		a->passed++;
	else
		a->failed++;
	if (now > a->t_last)
		a->t_last = now;
}

void
scan_item_uncount(struct scan *s, const struct item *it)
{
	int st;

	for (st = RES_STAGE_LIVENESS;
	     st <= (int)it->r.stage && st < RES_STAGE_COUNT; st++) {
		s->st[st].tested--;
		if (st < (int)it->r.stage)
			s->st[st].passed--;
	}
}

void
scan_item_enter(struct scan *s, struct item *it, int state)
{
	enum res_stage old = state_stage(it->state);
	enum res_stage nst = state_stage(state);
	uint64_t now = now_mono_us();

	if (state == IT_LOSS) {
		/* Not a stage: the item stays in its last one until the
		 * loss probes are done. */
		it->state = state;
		it->tries = 0;
		return;
	}
	if (nst != old && old != RES_STAGE_NONE && old != RES_STAGE_ENV)
		stage_leave(s, old, 1, now);
	it->state = state;
	it->tries = 0;
	if (nst != old && nst != RES_STAGE_ENV)
		stage_enter(s, it, nst, now);
}

void
scan_item_event(struct scan *s, struct item *it, int kind, uint64_t when)
{
	it->gen++;
	it->evk = kind;
	if (kind != EVK_NONE)
		scan_heap_push(&s->heap, when, scan_item_idx(s, it), it->gen);
}

void
scan_item_ready(struct scan *s, struct item *it)
{
	uint32_t cap = s->nitems;

	scan_item_event(s, it, EVK_NONE, 0);
	if (it->queued)
		return;
	it->queued = 1;
	s->ready[(s->rhead + s->rlen) % cap] = scan_item_idx(s, it);
	s->rlen++;
}

void
scan_item_resend(struct scan *s, struct item *it)
{
	uint64_t now = now_mono_us();

	if (it->next_send_us > now)
		scan_item_event(s, it, EVK_SENDAT, it->next_send_us);
	else
		scan_item_ready(s, it);
}

void
scan_item_query(struct scan *s, struct item *it)
{
	it->tries = 0;
	it->step_refused = 0;
	memset(it->prev_sock, 0, sizeof it->prev_sock);
	scan_item_resend(s, it);
}

void
scan_done_mark(struct scan *s, uint64_t pos)
{
	uint64_t b;

	b = pos % SCAN_DONE_BITS;
	s->donebits[b / 8] |= (uint8_t)(1u << (b % 8));
	while (s->cursor < s->next_pos) {
		b = s->cursor % SCAN_DONE_BITS;
		if (!(s->donebits[b / 8] & (1u << (b % 8))))
			break;
		s->donebits[b / 8] &= (uint8_t) ~(1u << (b % 8));
		s->cursor++;
	}
}

static int64_t
median_rtt(const struct item *it)
{
	int64_t v[SCAN_RTT_SAMPLES], t;
	int i, j, n = MIN(it->nrtt, SCAN_RTT_SAMPLES);

	if (n == 0)
		return -1;
	memcpy(v, it->rtt, (size_t)n * sizeof v[0]);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

struct item *
scan_slot_get(struct scan *s)
{
	struct item *it;

	if (s->nfree == 0)
		return NULL;
	it = &s->items[s->freel[--s->nfree]];
	memset(it, 0, offsetof(struct item, r));
	it->tcp_fd = -1;
	it->owner = s;
	res_resolver_init(&it->r);
	it->r.shape.case_preserved = RES_TRI_UNKNOWN;
	if (s->o.nwhoami > 0) {
		/* Until the item reaches the whoami step (liveness). */
		it->r.whoami_asked = 1;
		snprintf(it->r.whoami_error, sizeof it->r.whoami_error,
		    "not tested");
	}
	if (++s->c.inflight > s->c.peak_inflight)
		s->c.peak_inflight = s->c.inflight;
	return it;
}

void
scan_item_free(struct scan *s, struct item *it)
{
	scan_tcp_close(s, it);
	scan_release_pending(s, it);
	scan_hs_release(s, it);
	scan_item_event(s, it, EVK_NONE, 0);
	if (it->state != IT_ENV_ICPT && it->state != IT_ENV_SRV)
		(void)hmap_del(&s->amap, it->ahash, scan_item_idx(s, it));
	it->state = IT_FREE;
	it->queued = 0;
	s->freel[s->nfree++] = scan_item_idx(s, it);
	s->c.inflight--;
}

/*
 * The loss over the counted probes: above the threshold a passing item is
 * DEGRADED, as rate_limited when most lost probes were REFUSED.
 */
static void
judge_loss(struct scan *s, struct item *it, int *ok, enum res_reason *reason)
{
	double pct;

	if (it->probes <= 0)
		return;
	it->r.probes = it->probes;
	it->r.lost = it->lost;
	if (!*ok || it->lost == 0)
		return;
	pct = 100.0 * it->lost / it->probes;
	if (pct <= s->o.max_loss_pct) {
		scan_evid(&it->r,
		    "loss: %d of %d probes without a valid answer "
		    "(%.1f%%)",
		    it->lost, it->probes, pct);
		return;
	}
	*reason =
	    it->lost_refused * 2 > it->lost ? RES_R_RATE_LIMITED : RES_R_LOSS;
	scan_evid(&it->r,
	    "loss: %d of %d probes without a valid answer (%.1f%%, %d of them "
	    "REFUSED, the rest timed out or were wrong), above the %.0f%% "
	    "threshold: degraded",
	    it->lost, it->probes, pct, it->lost_refused, s->o.max_loss_pct);
	*ok = 2;
}

void
scan_item_finish(
    struct scan *s, struct item *it, int ok, enum res_reason reason)
{
	uint64_t now = now_mono_us();
	enum res_stage st = it->r.stage;

	if (it->state == IT_ENV_ICPT || it->state == IT_ENV_SRV) {
		scan_env_finish(s, it, ok, reason);
		return;
	}
	judge_loss(s, it, &ok, &reason);
	stage_leave(s, st, ok != 0, now);
	it->r.verdict = ok == 2 ? RES_VERDICT_DEGRADED :
	    ok			? RES_VERDICT_OK :
				  RES_VERDICT_FAIL;
	it->r.reason = ok == 1 ? RES_R_OK : reason;
	it->r.rtt_us = median_rtt(it);
	it->r.at_ms = now_wall_ms();
	if (s->server_down)
		evid_prefix(it, "env: tunnel server silent directly; ");
	if (s->intercepted && scan_intercept_can_affect(it->r.addr, it->r.port))
		evid_prefix(it, "path: UDP/53 intercepted; ");
	scan_trace(s, it, "result: %s (%s)", res_verdict_name(it->r.verdict),
	    res_reason_name(it->r.reason));
	if (ok)
		s->c.passed++;
	s->c.done++;
	if (s->o.on_result != NULL)
		s->o.on_result(s->o.arg, it->pos, &it->r);
	scan_done_mark(s, it->pos);
	scan_item_free(s, it);
}
