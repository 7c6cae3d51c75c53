/* SPDX-License-Identifier: MIT */
/*
 * mtu.c — upstream's MTU discovery as pure logic (mtu.h): the search
 * ranges, the probe frames and their echo check, and binarySearchMTU as a
 * state machine with retries and per-attempt deadlines. It never sends,
 * reads a clock or allocates; the engine and the scan do the I/O and the
 * timers and report back.
 */
#include <string.h>

#include "proto/mtu.h"

int
mtu_upload_high(int max_cfg, size_t room)
{
	int hi = max_cfg <= 0 || max_cfg > MTU_UP_CAP ? MTU_UP_CAP : max_cfg;

	return (size_t)hi < room ? hi : (int)room;
}

int
mtu_upload_max(int max_cfg, size_t domain_len, int method)
{
	return mtu_upload_high(
	    max_cfg, wire_max_upload_payload(domain_len, method));
}

int
mtu_probe_frame(enum mtu_dir d, uint8_t mode, uint32_t code, int size,
    int up_mtu, uint8_t *buf, size_t cap, struct wire_frame *f)
{
	size_t total;
	long n;

	memset(f, 0, sizeof *f);
	f->session_id = MTU_PROBE_SESSION;
	if (d == MTU_UP) {
		if (size < WIRE_MTU_UP_MIN)
			return -1;
		n = wire_mtu_up_req_build(mode, code, (size_t)size, buf, cap);
		f->type = WIRE_MTU_UP_REQ;
		f->stream_id = 1;
		f->seq = 1;
		f->frag_total = 1;
	} else {
		if (size < WIRE_MTU_DOWN_MIN || size > UINT16_MAX)
			return -1;
		total = up_mtu > WIRE_MTU_DOWN_REQ_MIN ? (size_t)up_mtu :
							 WIRE_MTU_DOWN_REQ_MIN;
		n = wire_mtu_down_req_build(
		    mode, code, (uint16_t)size, total, buf, cap);
		f->type = WIRE_MTU_DOWN_REQ;
	}
	if (n < 0)
		return -1;
	f->payload = buf;
	f->payload_len = (size_t)n;
	return 0;
}

enum mtu_echo
mtu_probe_check(
    enum mtu_dir d, uint32_t code, int size, const struct wire_frame *f)
{
	struct wire_mtu_res r;

	if (d == MTU_UP) {
		if (f->type != WIRE_MTU_UP_RES)
			return MTU_ECHO_OTHER;
		if (wire_mtu_up_res_parse(f->payload, f->payload_len, &r) !=
			WIRE_OK ||
		    r.code != code || r.len != size)
			return MTU_ECHO_WRONG;
		return MTU_ECHO_OK;
	}
	if (f->type != WIRE_MTU_DOWN_RES)
		return MTU_ECHO_OTHER;
	if (size < 0 || f->payload_len != (size_t)size ||
	    wire_mtu_down_res_parse(f->payload, f->payload_len, &r) !=
		WIRE_OK ||
	    r.code != code || r.len != size)
		return MTU_ECHO_WRONG;
	return MTU_ECHO_OK;
}

static void
finish(struct mtu_search *s)
{
	s->phase = MTU_PH_DONE;
	s->cand = 0;
}

void
mtu_search_init(struct mtu_search *s, int min, int max, int floor, int tries,
    uint64_t timeout_us)
{
	memset(s, 0, sizeof *s);
	s->low = min > floor ? min : floor;
	s->high = max;
	s->tries = tries < 1 ? 1 : tries;
	s->timeout_us = timeout_us;
	s->phase = MTU_PH_HIGH;
	s->cand = s->high;
	if (max <= 0 || s->high < s->low)
		finish(s);
}

int
mtu_search_next(const struct mtu_search *s)
{
	return s->phase == MTU_PH_DONE ? 0 : s->cand;
}

enum mtu_state
mtu_search_state(const struct mtu_search *s)
{
	if (s->phase == MTU_PH_DONE)
		return MTU_DONE;
	return s->waiting ? MTU_WAIT : MTU_SEND;
}

static void
bisect_next(struct mtu_search *s)
{
	if (s->left > s->right) {
		finish(s);
		return;
	}
	s->phase = MTU_PH_BISECT;
	s->cand = (s->left + s->right) / 2;
}

void
mtu_search_report(struct mtu_search *s, int passed)
{
	if (s->phase == MTU_PH_DONE)
		return;
	s->steps++;
	s->attempt = 0;
	s->waiting = 0;
	switch (s->phase) {
	case MTU_PH_HIGH:
		if (passed) {
			s->best = s->high;
			finish(s);
		} else if (s->low == s->high)
			finish(s); /* the only candidate failed */
		else {
			s->phase = MTU_PH_LOW;
			s->cand = s->low;
		}
		break;
	case MTU_PH_LOW:
		if (!passed) {
			finish(s);
			break;
		}
		s->best = s->low;
		s->left = s->low + 1;
		s->right = s->high - 1;
		bisect_next(s);
		break;
	case MTU_PH_BISECT:
		if (passed) {
			s->best = s->cand;
			s->left = s->cand + 1;
		} else
			s->right = s->cand - 1;
		bisect_next(s);
		break;
	case MTU_PH_DONE:
		break;
	}
}

uint64_t
mtu_search_sent(struct mtu_search *s, uint64_t now_us)
{
	if (s->phase == MTU_PH_DONE)
		return now_us;
	s->attempt++;
	s->probes++;
	s->waiting = 1;
	s->sent_us = now_us;
	s->deadline_us = now_us + s->timeout_us;
	return s->deadline_us;
}

/* The attempt in flight failed; timeout says how. */
static void
attempt_failed(struct mtu_search *s, int final, int timeout)
{
	s->waiting = 0;
	s->timed_out = timeout;
	if (!final && s->attempt < s->tries)
		return; /* MTU_SEND again for the same value */
	mtu_search_report(s, 0);
}

void
mtu_search_answer(struct mtu_search *s, enum mtu_outcome o, uint64_t now_us)
{
	int cand = s->cand;

	if (s->phase == MTU_PH_DONE)
		return;
	if (o == MTU_PASS) {
		mtu_search_report(s, 1);
		if (s->best == cand)
			s->best_rtt_us =
			    now_us > s->sent_us ? now_us - s->sent_us : 0;
		s->timed_out = 0;
		return;
	}
	if (!s->waiting)
		return;
	attempt_failed(s, o == MTU_FAIL_FINAL, 0);
}

int
mtu_search_expire(struct mtu_search *s, uint64_t now_us)
{
	if (s->phase == MTU_PH_DONE || !s->waiting || now_us < s->deadline_us)
		return 0;
	attempt_failed(s, 0, 1);
	return 1;
}
