/* SPDX-License-Identifier: MIT */
/*
 * test-mtu.c — proto/mtu: upstream's binarySearchMTU as a state machine,
 * driven through a simulated resolver on a fake clock.
 *
 * The simulated resolver passes a candidate iff it is <= its limit, and
 * can lose answers (a fixed pattern) or answer with a damaged echo; time
 * only moves when the test moves it. Checked: the exact order of
 * candidates upstream tests (high, low, bisection of the open interval);
 * the best value for every limit over several ranges; tries per candidate
 * and the deadline of every attempt; a lost answer costs exactly one
 * timeout; MTU_FAIL_FINAL skips the remaining tries; a late echo of an
 * earlier attempt still passes; a single candidate (MIN == MAX) that
 * fails is tried `tries` times and never tested again as the low end (the
 * engine's old copy did, the prober did not: upstream does not); the
 * ranges (MAX_UPLOAD_MTU 0 means 512, the QNAME cap); the probe frames
 * and the echo check against the server-side payload parsers.
 *
 * The probes' filler (issue 19): upstream's client sends zeros, so under
 * XOR one upload probe seen on the path is the key stream; ours is random
 * (two probes of one size differ, the key stream is not in them) and our
 * real server (engine/server, in process) still echoes them, for XOR and
 * AES-256-GCM, up and down.
 */
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "engine/server.h"
#include "proto/dns.h"
#include "proto/mtu.h"
#include "tests/tap.h"

#define TIMEOUT_US 2000000ULL

/* A resolver in front of the server, as the search sees it. */
struct sim {
	int limit;	 /* candidates <= limit are echoed */
	unsigned lose;	 /* bit i set: answer to probe i is lost */
	int damage;	 /* answers carry a wrong code (MTU_FAIL) */
	uint64_t rtt_us; /* answer time */
	uint64_t now;	 /* the fake clock */
	int sizes[64];	 /* every attempt sent, in order */
	uint64_t dl[64]; /* and its deadline */
	int nsent;
	int timeouts;
	int bad_deadline; /* deadlines not at send + timeout, early expiry */
};

/* Run a whole search against the simulated resolver; returns best. */
static int
drive(struct mtu_search *s, struct sim *r)
{
	int v, guard = 0;

	while (mtu_search_state(s) != MTU_DONE && guard++ < 200) {
		v = mtu_search_next(s);
		if (r->nsent < 64) {
			r->sizes[r->nsent] = v;
			r->dl[r->nsent] = r->now + TIMEOUT_US;
		}
		if (mtu_search_sent(s, r->now) != r->now + TIMEOUT_US)
			r->bad_deadline++;
		if (r->lose & (1u << (r->nsent++ & 31))) {
			/* Nothing comes back: the caller's timer fires. */
			r->now += TIMEOUT_US / 2;
			r->bad_deadline += mtu_search_expire(s, r->now);
			r->now += TIMEOUT_US / 2;
			r->timeouts += mtu_search_expire(s, r->now);
			continue;
		}
		r->now += r->rtt_us;
		mtu_search_answer(s,
		    v <= r->limit && !r->damage ? MTU_PASS : MTU_FAIL, r->now);
	}
	return s->best;
}

static int
model(int min, int max, int floor, int limit, int *steps)
{
	struct mtu_search s;
	int v;

	mtu_search_init(&s, min, max, floor, 1, TIMEOUT_US);
	while ((v = mtu_search_next(&s)) != 0)
		mtu_search_report(&s, v <= limit);
	*steps = s.steps;
	return s.best;
}

static void
check_order(void)
{
	static const int want[] = {150, 38, 94, 122, 108, 101, 97, 99, 100};
	struct mtu_search s;
	struct sim r = {.limit = 100, .rtt_us = 30000};
	int same = 1;
	size_t i;

	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 1, TIMEOUT_US);
	tap_is_int(drive(&s, &r), 100, "38..150 against a limit of 100: 100");
	tap_is_int(r.nsent, (int)nitems(want), "one attempt per candidate");
	for (i = 0; i < nitems(want) && i < (size_t)r.nsent; i++)
		same &= r.sizes[i] == want[i];
	tap_ok(same,
	    "upstream's order: high 150, low 38, then bisection of "
	    "39..149 (94 122 108 101 97 99 100)");
	tap_is_int(s.steps, 9, "nine candidates decided");
	tap_ok(s.best_rtt_us == 30000, "answer time of the best attempt (%llu)",
	    (unsigned long long)s.best_rtt_us);
	tap_ok(r.now == 9 * 30000ULL, "no time spent waiting (%llu us)",
	    (unsigned long long)r.now);
}

static void
check_model(void)
{
	int lo, hi, lim, got, want, bad = 0, steps, maxsteps = 0;

	for (lo = 10; lo <= 40; lo += 15)
		for (hi = lo; hi <= 200; hi += 37)
			for (lim = 0; lim <= 210; lim++) {
				got = model(lo, hi, 10, lim, &steps);
				want = lim >= hi ? hi : lim >= lo ? lim : 0;
				bad += got != want;
				if (steps > maxsteps)
					maxsteps = steps;
			}
	tap_ok(bad == 0, "best is the largest passing value, for every limit");
	tap_ok(maxsteps <= 2 + 8, "at most 2 + log2(range) candidates (%d)",
	    maxsteps);
	tap_is_int(model(5, 150, 10, 9, &steps), 0,
	    "the floor raises the low end (5 -> 10)");
	tap_is_int(
	    model(100, 50, 10, 1000, &steps), 0, "empty range: rejected");
	tap_is_int(steps, 0, "and nothing tested");
	tap_is_int(model(38, 0, 10, 1000, &steps), 0, "MAX 0: rejected");
}

static void
check_retries(void)
{
	struct mtu_search s;
	struct sim r = {.limit = 100, .rtt_us = 1000};
	uint64_t t0;

	/* The answer to the first attempt at 150 is lost: one timeout. */
	r.lose = 1u << 0;
	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 2, TIMEOUT_US);
	tap_is_int(drive(&s, &r), 100, "a lost answer does not change best");
	tap_is_int(r.timeouts, 1, "it cost one timeout");
	tap_ok(r.sizes[0] == 150 && r.sizes[1] == 150 && r.sizes[2] == 38,
	    "150 is tried again after the timeout, fails, then the low end");
	tap_is_int(r.nsent, 13,
	    "2 tries for each of the 4 failing candidates, 1 for the 5 "
	    "passing");
	tap_ok(r.dl[1] == TIMEOUT_US + TIMEOUT_US,
	    "the retry's deadline runs from its own send");
	tap_is_int(r.bad_deadline, 0, "every deadline at send + timeout");

	/* Every answer lost: each candidate uses up its tries. */
	memset(&r, 0, sizeof r);
	r.limit = 1000;
	r.lose = ~0u;
	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 3, TIMEOUT_US);
	tap_is_int(drive(&s, &r), 0, "a silent resolver is rejected");
	tap_ok(r.nsent == 6 && r.sizes[2] == 150 && r.sizes[3] == 38 &&
		r.sizes[5] == 38,
	    "3 tries of the high end, 3 of the low end, nothing else");
	tap_ok(s.timed_out && r.now == 6 * TIMEOUT_US,
	    "rejected by timeouts, after 6 timeouts of fake time");

	/* Damaged echoes fail the attempt at once, without waiting. */
	memset(&r, 0, sizeof r);
	r.limit = 1000;
	r.damage = 1;
	r.rtt_us = 500;
	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 2, TIMEOUT_US);
	tap_is_int(drive(&s, &r), 0, "damaged echoes: rejected");
	tap_ok(r.nsent == 4 && r.now == 4 * 500 && !s.timed_out,
	    "2 tries each of high and low, no timeout (%d sent)", r.nsent);

	/* MTU_FAIL_FINAL: no retry of that candidate. */
	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 2, TIMEOUT_US);
	mtu_search_sent(&s, 0);
	mtu_search_answer(&s, MTU_FAIL_FINAL, 10);
	tap_is_int(mtu_search_next(&s), 38,
	    "MTU_FAIL_FINAL moves on to the low end at once");
	tap_is_int(s.probes, 1, "after one attempt");

	/* A late echo of the first attempt while the second is out. */
	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 2, TIMEOUT_US);
	t0 = mtu_search_sent(&s, 0);
	tap_is_int(mtu_search_expire(&s, t0 - 1), 0, "no timeout early");
	tap_is_int(mtu_search_expire(&s, t0), 1, "timeout at the deadline");
	tap_is_int(mtu_search_state(&s), MTU_SEND, "then send again");
	mtu_search_sent(&s, t0);
	tap_is_int(mtu_search_state(&s), MTU_WAIT, "waiting for the retry");
	mtu_search_answer(&s, MTU_PASS, t0 + 5);
	tap_ok(mtu_search_state(&s) == MTU_DONE && s.best == 150,
	    "a pass while the retry is out decides the candidate");
	tap_is_int(mtu_search_expire(&s, t0 + TIMEOUT_US), 0,
	    "the retry's timer then does nothing");
	mtu_search_init(&s, 38, 150, MTU_UP_FLOOR, 2, TIMEOUT_US);
	mtu_search_answer(&s, MTU_FAIL, 0);
	tap_ok(s.attempt == 0 && mtu_search_next(&s) == 150,
	    "a failing answer with no attempt out is ignored");
}

/*
 * The disagreement this module settled: with MIN == MAX the engine's copy
 * of the search tested the failing value again as the low end (2 x tries
 * attempts), the prober's stopped. Upstream stops ("Only one MTU candidate
 * existed and it failed").
 */
static void
check_single(void)
{
	struct mtu_search s;
	struct sim r = {.limit = 59, .rtt_us = 1000};

	mtu_search_init(&s, 60, 60, MTU_UP_FLOOR, 2, TIMEOUT_US);
	tap_is_int(drive(&s, &r), 0, "single candidate 60 failing: rejected");
	tap_is_int(r.nsent, 2,
	    "after its 2 tries only: the same size is not tested again as "
	    "the low end");
	tap_is_int(s.steps, 1, "one candidate decided");
	memset(&r, 0, sizeof r);
	r.limit = 59;
	r.lose = ~0u;
	mtu_search_init(&s, 60, 60, MTU_UP_FLOOR, 2, TIMEOUT_US);
	tap_ok(drive(&s, &r) == 0 && r.nsent == 2 && r.now == 2 * TIMEOUT_US,
	    "silent: 2 timeouts, not 4");
	memset(&r, 0, sizeof r);
	r.limit = 60;
	mtu_search_init(&s, 60, 60, 0, 1, TIMEOUT_US);
	tap_ok(drive(&s, &r) == 60 && r.nsent == 1,
	    "a one-value check (floor 0, one try) passes in one attempt");
}

static void
check_ranges(void)
{
	int xor_cap = (int)wire_max_upload_payload(9, 1);

	tap_is_int(xor_cap, 141, "QNAME cap under t.example with XOR");
	tap_is_int(mtu_upload_max(150, 9, 1), 141, "MAX 150 capped to 141");
	tap_is_int(mtu_upload_max(100, 9, 1), 100, "MAX 100 kept");
	tap_is_int(mtu_upload_max(0, 9, 1), 141,
	    "MAX_UPLOAD_MTU 0 means 512 (upstream), then the cap");
	tap_is_int(mtu_upload_max(4000, 240, 1), 0,
	    "a 240-character domain leaves no room: 0");
	tap_is_int(mtu_upload_max(600, 1, 0),
	    (int)wire_max_upload_payload(1, 0),
	    "above 512 means 512, under the cap");
}

static void
check_probes(void)
{
	uint8_t buf[4200], res[4200];
	struct wire_frame f, a;
	struct wire_mtu_req q;
	long n;

	tap_is_int(
	    mtu_probe_frame(MTU_UP, 1, 0xa1b2c3d4, 100, 0, buf, sizeof buf, &f),
	    0, "upload probe of 100 bytes");
	tap_ok(f.type == WIRE_MTU_UP_REQ && f.session_id == 255 &&
		f.stream_id == 1 && f.seq == 1 && f.frag_id == 0 &&
		f.frag_total == 1 && f.payload_len == 100,
	    "MTU_UP_REQ, session 255, stream 1, seq 1, fragment 0 of 1");
	tap_ok(wire_mtu_up_req_parse(f.payload, f.payload_len, &q) == WIRE_OK &&
		q.mode == 1 && q.code == 0xa1b2c3d4 && !q.filler_zero,
	    "the server's parser reads mode, code and (random) filler");
	tap_is_int(mtu_probe_frame(MTU_UP, 0, 1, 4, 0, buf, sizeof buf, &f), -1,
	    "upload below 5 bytes is never sent");

	tap_is_int(
	    mtu_probe_frame(MTU_DOWN, 0, 7, 1500, 141, buf, sizeof buf, &f), 0,
	    "download probe asking 1500");
	tap_ok(f.type == WIRE_MTU_DOWN_REQ && f.payload_len == 141 &&
		wire_mtu_down_req_parse(f.payload, f.payload_len, &q) ==
		    WIRE_OK &&
		q.down == 1500 && q.code == 7,
	    "MTU_DOWN_REQ padded to the upload MTU, asking d = 1500");
	mtu_probe_frame(MTU_DOWN, 0, 7, 1500, 0, buf, sizeof buf, &f);
	tap_is_int((int)f.payload_len, 7, "padded to at least 7 bytes");
	tap_is_int(mtu_probe_frame(MTU_DOWN, 0, 7, 19, 0, buf, sizeof buf, &f),
	    -1, "download below 20 is never sent");

	memset(&a, 0, sizeof a);
	a.type = WIRE_MTU_UP_RES;
	n = wire_mtu_up_res_build(0xa1b2c3d4, 100, res, sizeof res);
	a.payload = res;
	a.payload_len = (size_t)n;
	tap_is_int(mtu_probe_check(MTU_UP, 0xa1b2c3d4, 100, &a), MTU_ECHO_OK,
	    "the server's echo passes");
	tap_is_int(mtu_probe_check(MTU_UP, 0xa1b2c3d5, 100, &a), MTU_ECHO_WRONG,
	    "another code: wrong echo");
	tap_is_int(mtu_probe_check(MTU_UP, 0xa1b2c3d4, 101, &a), MTU_ECHO_WRONG,
	    "another size: wrong echo");
	a.payload_len = 7;
	tap_is_int(mtu_probe_check(MTU_UP, 0xa1b2c3d4, 100, &a), MTU_ECHO_WRONG,
	    "a 7-byte payload: wrong echo");
	a.type = WIRE_PONG;
	tap_is_int(mtu_probe_check(MTU_UP, 0xa1b2c3d4, 100, &a), MTU_ECHO_OTHER,
	    "another frame type: other");

	a.type = WIRE_MTU_DOWN_RES;
	n = wire_mtu_down_res_build(7, 300, res, sizeof res);
	a.payload_len = (size_t)n;
	tap_is_int(mtu_probe_check(MTU_DOWN, 7, 300, &a), MTU_ECHO_OK,
	    "download echo of exactly 300 bytes passes");
	a.payload_len = 299;
	tap_is_int(mtu_probe_check(MTU_DOWN, 7, 300, &a), MTU_ECHO_WRONG,
	    "a shorter payload fails");
	a.type = WIRE_MTU_UP_RES;
	tap_is_int(mtu_probe_check(MTU_DOWN, 7, 300, &a), MTU_ECHO_OTHER,
	    "MTU_UP_RES to a download probe: other");
}

/* The filler bytes of a probe frame's payload (after the fixed part). */
static const uint8_t *
filler(enum mtu_dir d, const struct wire_frame *f, size_t *n)
{
	size_t fixed = d == MTU_UP ? WIRE_MTU_UP_MIN : WIRE_MTU_DOWN_REQ_MIN;

	*n = f->payload_len - fixed;
	return f->payload + fixed;
}

static void
check_filler(void)
{
	static const char key[] = "0123456789abcdef0123456789abcdef";
	uint8_t b1[4200], b2[4200], fr[4300], zero[4300], c1[4400], c2[4400];
	struct wire_cipher *x = wire_cipher_new(WIRE_METHOD_XOR, key, 32, NULL);
	struct wire_frame f1, f2;
	const uint8_t *p1, *p2;
	size_t n1, n2, nf, i, nz;
	long fl, k1, k2;
	int d, zeros;

	for (d = MTU_UP; d <= MTU_DOWN; d++) {
		const char *dir = d == MTU_UP ? "upload" : "download";
		int size = d == MTU_UP ? 120 : 1000;

		mtu_probe_frame(
		    (enum mtu_dir)d, 0, 1, size, 141, b1, sizeof b1, &f1);
		mtu_probe_frame(
		    (enum mtu_dir)d, 0, 1, size, 141, b2, sizeof b2, &f2);
		p1 = filler((enum mtu_dir)d, &f1, &n1);
		p2 = filler((enum mtu_dir)d, &f2, &n2);
		for (i = 0, nz = 0; i < n1; i++)
			nz += p1[i] == 0;
		tap_ok(
		    n1 == n2 && n1 > 100 && memcmp(p1, p2, n1) != 0 && nz < n1,
		    "%s: two probes of one size have different, non-zero "
		    "filler (%zu bytes)",
		    dir, n1);

		/*
		 * Under XOR the path sees frame ^ key stream. With upstream's
		 * zeros the filler's ciphertext is the key stream itself;
		 * with ours it is not.
		 */
		for (zeros = 0; zeros <= 1; zeros++) {
			wire_set_mtu_filler(zeros ? wire_filler_zeros : NULL);
			mtu_probe_frame((enum mtu_dir)d, 0, 1, size, 141, b1,
			    sizeof b1, &f1);
			wire_set_mtu_filler(NULL);
			fl = wire_frame_build(&f1, fr, sizeof fr);
			memset(zero, 0, sizeof zero);
			k1 = wire_encrypt(
			    x, fr, (size_t)fl, NULL, c1, sizeof c1);
			k2 = wire_encrypt(
			    x, zero, (size_t)fl, NULL, c2, sizeof c2);
			/* The filler ends the payload, the payload the frame. */
			(void)filler((enum mtu_dir)d, &f1, &nf);
			tap_ok(fl > (long)nf && k1 == fl && k2 == fl &&
				(memcmp(c1 + fl - (long)nf, c2 + fl - (long)nf,
				     nf) == 0) == zeros,
			    "%s, XOR: the probe on the path %s the key stream "
			    "(%s filler)",
			    dir, zeros ? "shows" : "does not show",
			    zeros ? "upstream's zero" : "our random");
		}
	}
	wire_cipher_free(x);
}

/*
 * Our probe through our real server: the query the client sends, the
 * server's answer, the echo judged as the client judges it.
 */
static enum mtu_echo
server_echo(
    struct eng_server *s, struct wire_cipher *c, enum mtu_dir d, int size)
{
	static uint8_t buf[4200], ans[65536], fb[65536];
	char qn[1024];
	uint8_t wn[1100], msg[1400];
	struct wire_frame f, r;
	struct dns_answer a;
	long q, w, m;
	size_t an;

	if (mtu_probe_frame(d, 0, 77, size, 100, buf, sizeof buf, &f) != 0)
		return MTU_ECHO_OTHER;
	q = wire_encode_query_name(&f, c, NULL, "t.example", qn, sizeof qn);
	w = q > 0 ? dns_name_encode(qn, (size_t)q, wn, sizeof wn, NULL) : -1;
	m = w > 0 ? dns_query_write(msg, sizeof msg, 7, wn, (size_t)w,
			DNS_TYPE_TXT, 4096, NULL) :
		    -1;
	if (m <= 0 ||
	    (an = eng_server_handle(s, msg, (size_t)m, ans, sizeof ans)) == 0 ||
	    dns_answer_parse(ans, an, DNS_RESP_RAW, fb, sizeof fb, &a, NULL) !=
		DNS_ANS_FRAME ||
	    wire_frame_parse(fb, a.frame_len, &r) != WIRE_OK)
		return MTU_ECHO_OTHER;
	return mtu_probe_check(d, 77, size, &r);
}

static void
check_server_echo(void)
{
	static const char key[] = "5f3c8e1a9b2d47e6c0f18a3b5d7e9c21";
	int methods[] = {WIRE_METHOD_XOR, WIRE_METHOD_AES256GCM};
	struct cfg_server c;
	struct eng_server *s;
	struct wire_cipher *ci;
	size_t i;

	for (i = 0; i < nitems(methods); i++) {
		cfg_server_defaults(&c);
		c.domains = xreallocarray(c.domains, 2, sizeof(char *));
		c.domains[0] = xstrdup("t.example");
		c.ndomains = 1;
		c.method = methods[i];
		c.key = xstrdup(key);
		s = eng_server_new(NULL, &c, NULL);
		ci = wire_cipher_new(methods[i], key, 32, NULL);
		tap_ok(s != NULL && ci != NULL &&
			server_echo(s, ci, MTU_UP, 100) == MTU_ECHO_OK &&
			server_echo(s, ci, MTU_DOWN, 900) == MTU_ECHO_OK,
		    "method %d: our server echoes our random-filler probes "
		    "(upload 100, download 900)",
		    methods[i]);
		eng_server_free(s);
		wire_cipher_free(ci);
		cfg_server_clear(&c);
	}
}

int
main(void)
{
	check_filler();
	check_server_echo();
	check_order();
	check_model();
	check_retries();
	check_single();
	check_ranges();
	check_probes();
	return tap_done();
}
