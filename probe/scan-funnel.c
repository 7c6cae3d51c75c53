/* SPDX-License-Identifier: MIT */
/*
 * scan-funnel.c — what one item does, step after step: liveness, reach,
 * the upload and download MTU searches (upstream's, proto/mtu.h), the
 * handshake under its permit, the burst, the loss probes; how many tries
 * a step gets, what a failure means for the item, and which tries count
 * as lost (docs/probes.md, "Loss"). Answers arrive here already matched
 * to the item's query (scan-net.c) and are judged by scan-judge.c; the
 * sending, timing and bookkeeping are scan-item.c's.
 */
#include <string.h>

#include "probe/scan-int.h"

/* ---- handshake permits (the server has 255 session slots) ---------------- */

void
scan_hs_release(struct scan *s, struct item *it)
{
	struct item *w;

	if (!it->hs_permit)
		return;
	it->hs_permit = 0;
	s->hs_used--;
	while (s->hlen > 0 && s->hs_used < s->o.hs_parallel) {
		w = &s->items[s->hswait[s->hhead]];
		s->hhead = (s->hhead + 1) % s->nitems;
		s->hlen--;
		if (w->state != IT_HS_WAIT)
			continue;
		w->hs_permit = 1;
		s->hs_used++;
		scan_item_enter(s, w, IT_INIT);
		scan_item_query(s, w);
	}
}

static void
hs_begin(struct scan *s, struct item *it)
{
	uint64_t r = scan_rnd(s);

	memcpy(it->verify, &r, 4);
	scan_item_enter(s, it, IT_HS_WAIT);
	if (s->hs_used < s->o.hs_parallel) {
		it->hs_permit = 1;
		s->hs_used++;
		scan_item_enter(s, it, IT_INIT);
		scan_item_query(s, it);
		return;
	}
	s->hswait[(s->hhead + s->hlen) % s->nitems] = scan_item_idx(s, it);
	s->hlen++;
}

/* ---- loss ----------------------------------------------------------------- */

/*
 * A step (or an MTU candidate) passed after `tries` attempts: the one
 * answered is valid, every try before it got no valid answer in time.
 * Candidates that failed are not counted: above the MTU a failure is the
 * size, not loss.
 */
static void
loss_step_passed(struct item *it, int tries)
{
	tries = MAX(tries, 1);
	it->probes += tries;
	it->lost += tries - 1;
	it->lost_refused += MIN(it->step_refused, tries - 1);
	it->step_refused = 0;
}

void
scan_loss_begin(struct scan *s, struct item *it)
{
	if (s->o.loss_probes <= 0) {
		scan_item_finish(s, it, 1, RES_R_OK);
		return;
	}
	it->loss_left = s->o.loss_probes;
	scan_item_enter(s, it, IT_LOSS);
	scan_trace(s, it, "%d loss probes, one at a time", it->loss_left);
	scan_item_query(s, it);
}

/* One loss probe ended; valid says whether its answer was. */
static void
loss_probe_done(struct scan *s, struct item *it, int valid, int reason)
{
	it->probes++;
	if (!valid) {
		it->lost++;
		if (reason == RES_R_REFUSED)
			it->lost_refused++;
	}
	if (--it->loss_left > 0) {
		scan_item_query(s, it);
		return;
	}
	scan_item_finish(s, it, 1, RES_R_OK);
}

/* ---- MTU searches ------------------------------------------------------- */

static uint64_t
mtu_timeout_us(const struct scan *s)
{
	return (uint64_t)s->o.t_mtu.timeout_ms * 1000;
}

static void
mtu_begin_up(struct scan *s, struct item *it)
{
	size_t dl = strlen(s->o.domains[it->dom]);
	size_t cap = wire_max_upload_payload(dl, s->o.method);
	int hi = mtu_upload_max(s->o.max_up, dl, s->o.method);

	scan_item_enter(s, it, IT_UP);
	mtu_search_init(&it->ms, s->o.min_up, hi, MTU_UP_FLOOR,
	    s->o.t_mtu.tries, mtu_timeout_us(s));
	scan_trace(s, it, "upload MTU search over %d..%d (name cap %zu)",
	    it->ms.low, it->ms.high, cap);
	if (mtu_search_next(&it->ms) == 0) {
		scan_evid(&it->r, "empty upload range %d..%d", it->ms.low, hi);
		scan_item_finish(s, it, 0, RES_R_UPLOAD_MTU);
		return;
	}
	scan_item_query(s, it);
}

static void
mtu_begin_down(struct scan *s, struct item *it)
{
	scan_item_enter(s, it, IT_DOWN);
	mtu_search_init(&it->ms, s->o.min_down, s->o.max_down, MTU_DOWN_FLOOR,
	    s->o.t_mtu.tries, mtu_timeout_us(s));
	scan_trace(
	    s, it, "download MTU search over %d..%d", it->ms.low, it->ms.high);
	if (mtu_search_next(&it->ms) == 0) {
		scan_evid(&it->r, "empty download range");
		scan_item_finish(s, it, 0, RES_R_DOWNLOAD_MTU);
		return;
	}
	scan_item_query(s, it);
}

/* The search is over: record the MTU or fail the item. */
static void
mtu_done(struct scan *s, struct item *it)
{
	int best = it->ms.best;
	enum res_reason r;

	if (it->state == IT_UP) {
		if (best < MAX(MTU_UP_FLOOR, s->o.min_up)) {
			/* Long names that vanish (time out) rather than
			 * fail are a resolver cutting names. */
			r = it->ms.timed_out ? RES_R_NAME_CUT :
					       RES_R_UPLOAD_MTU;
			scan_evid(&it->r,
			    "upload MTU: even %d bytes failed (%s)%s",
			    it->ms.low, res_reason_name(it->last_reason),
			    r == RES_R_NAME_CUT ? "; long names are dropped "
						  "on the path" :
						  "");
			scan_item_finish(s, it, 0, r);
			return;
		}
		it->r.upload_mtu = best;
		/* The top of the user's range, below the protocol's caps:
		 * the path may carry more. */
		it->r.up_at_ceiling = best == s->o.max_up &&
			best < MIN(MTU_UP_CAP,
				   (int)wire_max_upload_payload(
				       strlen(s->o.domains[it->dom]),
				       s->o.method)) ?
		    RES_TRI_YES :
		    RES_TRI_NO;
		scan_evid(&it->r, "upload MTU %d%s after %d probes", best,
		    it->r.up_at_ceiling == RES_TRI_YES ?
			" (the search ceiling)" :
			"",
		    it->ms.steps);
		scan_next_step(s, it);
		return;
	}
	if (best < MAX(MTU_DOWN_FLOOR, s->o.min_down)) {
		scan_evid(&it->r, "download MTU: even %d bytes failed (%s)",
		    it->ms.low, res_reason_name(it->last_reason));
		scan_item_finish(s, it, 0, RES_R_DOWNLOAD_MTU);
		return;
	}
	it->r.download_mtu = best;
	it->r.down_at_ceiling =
	    best == s->o.max_down ? RES_TRI_YES : RES_TRI_NO;
	scan_evid(&it->r,
	    "download MTU %d%s after %d probes (largest answer "
	    "%d bytes)",
	    best,
	    it->r.down_at_ceiling == RES_TRI_YES ? " (the search ceiling)" : "",
	    it->ms.steps, it->r.shape.max_answer_bytes);
	if (it->tc_cand > 0) {
		scan_tcp_begin(s, it);
		return;
	}
	scan_next_step(s, it);
}

/*
 * The search took an outcome for candidate cand (decided after `steps`
 * candidates before it): send its next try, the next candidate, or end.
 */
static void
mtu_progress(struct scan *s, struct item *it, int cand, int steps)
{
	if (it->ms.steps == steps) {
		/* Same candidate, another try: a late answer to this one
		 * still counts. */
		it->prev_id[(it->tries - 1) & 3] = it->id;
		it->prev_sock[(it->tries - 1) & 3] = (int8_t)(it->sock + 1);
		scan_item_resend(s, it);
		return;
	}
	scan_trace(s, it, "%s %d: %s",
	    it->state == IT_UP ? "upload" : "download", cand,
	    it->ms.best == cand ? "passed" : "failed");
	if (mtu_search_state(&it->ms) == MTU_DONE) {
		mtu_done(s, it);
		return;
	}
	scan_item_query(s, it);
}

static void
mtu_outcome(struct scan *s, struct item *it, int reason, int pass, int final)
{
	uint64_t now = now_mono_us();
	int cand = mtu_search_next(&it->ms), steps = it->ms.steps;

	if (pass) {
		loss_step_passed(it, it->ms.attempt);
		mtu_search_answer(&it->ms, MTU_PASS, now);
	} else if (reason != RES_R_TIMEOUT ||
	    !mtu_search_expire(&it->ms, MAX(now, it->ms.deadline_us)))
		mtu_search_answer(
		    &it->ms, final ? MTU_FAIL_FINAL : MTU_FAIL, now);
	mtu_progress(s, it, cand, steps);
}

/* ---- steps -------------------------------------------------------------- */

void
scan_next_step(struct scan *s, struct item *it)
{
	enum res_stage max = s->o.max_stage;

	if (it->state == IT_LIVE && s->o.nwhoami > 0) {
		scan_whoami_begin(s, it);
		return;
	}
	switch (it->state) {
	case IT_LIVE:
	case IT_WHOAMI:
		if (max < RES_STAGE_REACH)
			break;
		scan_item_enter(s, it, IT_REACH);
		scan_item_query(s, it);
		return;
	case IT_REACH:
		if (max < RES_STAGE_MTU)
			break;
		if (s->cipher == NULL) {
			scan_evid(
			    &it->r, "no key: MTU and handshake not tested");
			break;
		}
		mtu_begin_up(s, it);
		return;
	case IT_UP:
		mtu_begin_down(s, it);
		return;
	case IT_DOWN:
	case IT_TCP:
		if (max < RES_STAGE_HANDSHAKE)
			break;
		hs_begin(s, it);
		return;
	case IT_INIT:
		scan_item_enter(s, it, IT_PING);
		scan_item_query(s, it);
		return;
	case IT_PING:
		scan_item_enter(s, it, IT_CLOSE);
		scan_item_query(s, it);
		return;
	case IT_CLOSE:
		scan_hs_release(s, it);
		if (max < RES_STAGE_BURST || s->o.burst <= 0)
			break;
		scan_burst_begin(s, it);
		return;
	default:
		break;
	}
	scan_loss_begin(s, it);
}

void
scan_attempt_failed(struct scan *s, struct item *it, int reason, int size_final)
{
	const struct scan_try *t = scan_stage_try(s, it->state);

	scan_release_pending(s, it);
	it->last_reason = reason;
	if (it->state == IT_LOSS) {
		loss_probe_done(s, it, 0, reason);
		return;
	}
	if (it->state == IT_WHOAMI && (size_final || it->tries >= t->tries)) {
		scan_whoami_failed(s, it, reason);
		return;
	}
	if (reason == RES_R_REFUSED)
		it->step_refused++;
	if (it->state == IT_TCP) {
		scan_tcp_done(s, it, 0, "no answer over TCP in time");
		return;
	}
	if (it->state == IT_CLOSE) {
		/* A close nobody confirms still leaves a passed handshake
		 * (its tries count as lost). */
		it->probes += MAX(it->tries, 1);
		it->lost += MAX(it->tries, 1);
		it->lost_refused += it->step_refused;
		it->step_refused = 0;
		scan_evid(&it->r, "SESSION_CLOSE unanswered");
		scan_next_step(s, it);
		return;
	}
	if (it->state == IT_UP || it->state == IT_DOWN) {
		mtu_outcome(s, it, reason, 0, size_final);
		return;
	}
	if (!size_final && it->tries < t->tries) {
		/* A late answer to this attempt still counts. */
		it->prev_id[(it->tries - 1) & 3] = it->id;
		it->prev_sock[(it->tries - 1) & 3] = (int8_t)(it->sock + 1);
		scan_item_resend(s, it);
		return;
	}
	if (it->state == IT_BURST)
		return;
	switch (it->state) {
	case IT_LIVE:
		scan_evid(&it->r, "liveness: %s after %d tries of %d ms",
		    res_reason_name(reason), it->tries, t->timeout_ms);
		break;
	case IT_REACH:
		if (reason == RES_R_TIMEOUT)
			scan_evid(&it->r,
			    "reach: no answer to a TXT in-zone query "
			    "after %d tries of %d ms (the resolver answers "
			    "neutral names)",
			    it->tries, t->timeout_ms);
		break;
	case IT_INIT:
		if (reason == RES_R_TIMEOUT)
			reason = RES_R_HANDSHAKE_FAILED;
		scan_evid(&it->r,
		    "SESSION_INIT: no valid SESSION_ACCEPT after %d "
		    "tries",
		    it->tries);
		break;
	case IT_PING:
		reason = RES_R_PING_FAILED;
		scan_evid(&it->r, "PING: no PONG after %d tries", it->tries);
		break;
	default:
		break;
	}
	scan_item_finish(s, it, 0, (enum res_reason)reason);
}

/* ---- answers ------------------------------------------------------------ */

static enum scan_step
step_of(int state)
{
	switch (state) {
	case IT_ENV_SRV:
		return SCAN_STEP_SERVER;
	case IT_REACH:
		return SCAN_STEP_REACH;
	case IT_UP:
		return SCAN_STEP_UP;
	case IT_DOWN:
		return SCAN_STEP_DOWN;
	case IT_TCP:
		return SCAN_STEP_TCP;
	case IT_INIT:
		return SCAN_STEP_INIT;
	case IT_PING:
		return SCAN_STEP_PING;
	case IT_CLOSE:
		return SCAN_STEP_CLOSE;
	default:
		return SCAN_STEP_LIVE;
	}
}

static void
judge_trace(void *arg, const char *line)
{
	struct item *it = arg;
	struct scan *s = it->owner;

	s->o.on_trace(s->o.arg, &it->r, line);
}

enum scan_outcome
scan_item_judge(struct scan *s, struct item *it, const uint8_t *m, size_t n,
    uint64_t now, enum res_reason *reason)
{
	struct scan_judge j;
	enum scan_outcome o;

	memset(&j, 0, sizeof j);
	j.step = step_of(it->state);
	j.mode = (enum dns_resp_mode)s->o.response_mode;
	j.query = it->q;
	j.qwire = it->qwire;
	j.qchars = it->qchars;
	j.cand = it->state == IT_TCP ? it->tc_cand : mtu_search_next(&it->ms);
	j.code = it->code;
	memcpy(j.verify, it->verify, 4);
	j.ms = (double)(now - it->sent_us) / 1000;
	j.r = &it->r;
	j.tc_cand = it->tc_cand;
	if (s->o.on_trace != NULL) {
		j.trace = judge_trace;
		j.trace_arg = it;
	}
	j.fbuf = s->fbuf;
	j.fcap = sizeof s->fbuf;
	o = scan_judge_answer(&j, m, n, reason);
	it->tc_cand = j.tc_cand;
	if (it->state == IT_INIT && o == SCAN_PASS) {
		it->sid = j.sid;
		it->cookie = j.cookie;
	}
	return o;
}

static void
note_rtt(struct item *it, uint64_t now)
{
	it->rtt[it->nrtt % SCAN_RTT_SAMPLES] = (int64_t)(now - it->sent_us);
	it->nrtt++;
}

void
scan_item_answer(
    struct scan *s, struct item *it, const uint8_t *m, size_t n, uint64_t now)
{
	enum res_reason reason = RES_R_OK;
	enum scan_outcome o;

	scan_release_pending(s, it);
	if (it->state == IT_BURST)
		return;
	scan_item_event(s, it, EVK_NONE, 0);
	note_rtt(it, now);
	if (it->state == IT_ENV_ICPT) {
		scan_item_finish(s, it, 0, RES_R_INTERCEPTED);
		return;
	}
	if (it->state == IT_WHOAMI) {
		scan_whoami_answer(s, it, m, n);
		return;
	}
	if (it->state == IT_LOSS) {
		char why[200];

		loss_probe_done(s, it,
		    scan_judge_reach(m, n, &reason, why, sizeof why) == 0,
		    (int)reason);
		return;
	}
	o = scan_item_judge(s, it, m, n, now, &reason);
	switch (o) {
	case SCAN_PASS:
		if (it->state == IT_ENV_SRV)
			scan_item_finish(s, it, 1, RES_R_OK);
		else if (it->state == IT_UP || it->state == IT_DOWN)
			mtu_outcome(s, it, RES_R_OK, 1, 0);
		else {
			loss_step_passed(it, it->tries);
			scan_next_step(s, it);
		}
		break;
	case SCAN_RETRY:
		scan_attempt_failed(s, it, (int)reason, 0);
		break;
	case SCAN_SIZEFAIL:
		scan_attempt_failed(s, it, (int)reason, 1);
		break;
	case SCAN_FAIL:
		scan_item_finish(s, it, 0, reason);
		break;
	}
}
