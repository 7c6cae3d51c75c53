/* SPDX-License-Identifier: MIT */
/*
 * scan-burst.c — the optional burst stage (--stages burst --burst K): K
 * queries for distinct random in-zone names at once on one socket,
 * counted when they come back with their ID from the address asked *and*
 * are the tunnel server's signature answer (a REFUSED from a resolver
 * that rate-limits is an answer, not a success); the item passes when at
 * least 90 % came back valid within the reach timeout. The
 * global rate limit is not applied inside a burst (sustaining one is the
 * point of the stage); its queries count in the sent total.
 */
#include "probe/scan-int.h"

void
scan_burst_begin(struct scan *s, struct item *it)
{
	uint64_t now = now_mono_us();
	int i;

	scan_item_enter(s, it, IT_BURST);
	it->b_sent = it->b_ok = it->b_out = it->b_refused = 0;
	it->b_t0 = now;
	for (i = 0; i < s->o.burst; i++) {
		if (scan_build_query(s, it) == -1 ||
		    scan_send_on(s, it, (unsigned)(it->pos % SCAN_NSOCK)) == -1)
			break;
		it->b_sent++;
		it->b_out++;
	}
	/* Match answers by question: keep the last query's question. */
	it->inflight = 1;
	scan_item_event(s, it, EVK_BURST_END,
	    now + (uint64_t)s->o.t_reach.timeout_ms * 1000);
}

void
scan_burst_answer(struct scan *s, struct item *it, unsigned k, uint16_t id,
    const union net_addr *from, const uint8_t *m, size_t n, uint64_t now)
{
	uint32_t **pend = scan_pend(s, it);
	enum res_reason why;
	char line[200];

	/* Burst names differ per query: ID and source match it, the
	 * signature makes it a success. */
	if (net_addr_equal(from, &it->addr)) {
		if (scan_judge_reach(m, n, &why, line, sizeof line) == 0) {
			it->b_ok++;
			it->b_tlast = now;
		} else if (why == RES_R_REFUSED)
			it->b_refused++;
	}
	pend[k][id] = 0;
	it->b_out--;
	s->c.queries_inflight--;
}

static void
burst_release(struct scan *s, struct item *it)
{
	uint32_t **pend = scan_pend(s, it);
	uint32_t id;

	for (id = 0; id < 65536; id++)
		if (pend[it->sock][id] == scan_item_idx(s, it) + 1) {
			pend[it->sock][id] = 0;
			s->c.queries_inflight--;
		}
	it->inflight = 0;
}

void
scan_burst_abandon(struct scan *s, struct item *it)
{
	burst_release(s, it);
	scan_item_free(s, it);
}

void
scan_burst_end(struct scan *s, struct item *it)
{
	double secs;
	int ok, bad;

	burst_release(s, it);
	secs =
	    (double)(it->b_tlast > it->b_t0 ? it->b_tlast - it->b_t0 : 1) / 1e6;
	it->r.burst_sent = it->b_sent;
	it->r.burst_ok = it->b_ok;
	it->r.burst_qps = it->b_ok / secs;
	ok = it->b_sent > 0 && it->b_ok * 10 >= it->b_sent * 9;
	bad = it->b_sent - it->b_ok;
	scan_evid(&it->r,
	    "burst: %d of %d valid answers (%d REFUSED, %d missing or "
	    "wrong), %.0f answers/s",
	    it->b_ok, it->b_sent, it->b_refused, bad - it->b_refused,
	    it->r.burst_qps);
	if (ok) {
		scan_loss_begin(s, it);
		return;
	}
	/* Mostly REFUSED: the resolver limits the query rate. */
	scan_item_finish(s, it, 0,
	    it->b_refused * 2 >= bad ? RES_R_RATE_LIMITED : RES_R_BURST_LOSS);
}
