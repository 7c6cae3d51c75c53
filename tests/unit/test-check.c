/* SPDX-License-Identifier: MIT */
/*
 * test-check.c — the judgement of `check` (probe/check.h) without a
 * network: the monitoring-plugins threshold ranges (every form of the
 * guidelines, alert inside/outside, bad input refused), -w/-c lists,
 * state aggregation, and each sub-check's verdict from crafted
 * observations: engine statuses (connected, stalled, reconnecting, no
 * active resolver, no engine, a server, the last-valid-answer age where
 * the engine reports it, loss), handshake and scan results, and the age
 * of the last-known-good list.
 */
#include <math.h>
#include <string.h>

#include "probe/check.h"
#include "tests/tap.h"

static int
alerts(const char *range, double v)
{
	struct chk_range r;

	if (chk_range_parse(range, &r, NULL) != 0)
		return -1;
	return chk_range_alert(&r, v);
}

static void
ranges(void)
{
	static const struct {
		const char *range;
		double v;
		int alert;
	} t[] = {
	    {"10", -1, 1},
	    {"10", 0, 0},
	    {"10", 10, 0},
	    {"10", 10.5, 1},
	    {"10:", 9.9, 1},
	    {"10:", 1e9, 0},
	    {"~:10", -1e9, 0},
	    {"~:10", 11, 1},
	    {"10:20", 15, 0},
	    {"10:20", 21, 1},
	    {"10:20", 9, 1},
	    {"@10:20", 15, 1},
	    {"@10:20", 21, 0},
	    {"@10", 5, 1},
	    {"-5:-1", -3, 0},
	    {"-5:-1", 0, 1},
	    {"0.5:1.5", 1, 0},
	    {"2:", 1, 1},
	    {"1:", 1, 0},
	};
	static const char *const bad[] = {"", "x", "10:x", "1:2:3", "20:10",
	    "--1", "1.2.3", "@", ":", "~", "1e3", " 10", "10 ",
	    "123456789012345678901234567890123"};
	struct chk_range r;
	struct err e = {""};
	size_t i;
	int ok = 1;

	for (i = 0; i < nitems(t); i++)
		if (alerts(t[i].range, t[i].v) != t[i].alert) {
			tap_diag("range %s value %g: got %d", t[i].range,
			    t[i].v, alerts(t[i].range, t[i].v));
			ok = 0;
		}
	tap_ok(ok, "every range form alerts as the guidelines say (%zu cases)",
	    nitems(t));
	ok = 1;
	for (i = 0; i < nitems(bad); i++)
		if (chk_range_parse(bad[i], &r, &e) == 0) {
			tap_diag("accepted '%s'", bad[i]);
			ok = 0;
		}
	tap_ok(ok, "malformed ranges refused: %s", e.msg);
	tap_ok(
	    chk_range_parse("10", &r, NULL) == 0 && !chk_range_alert(&r, NAN),
	    "an unmeasured value (NAN) never alerts");
}

static void
limits(void)
{
	struct chk_limits l;
	struct err e = {""};

	chk_limits_defaults(&l, 3);
	tap_is_str(l.warn[CHK_HS].text, "3:", "hs warns below all 3");
	tap_is_int(chk_state(&l, CHK_RTT, 500), EXIT_OK, "rtt 500: ok");
	tap_is_int(
	    chk_state(&l, CHK_RTT, 1500), EXIT_WARNING, "rtt 1500: warning");
	tap_is_int(
	    chk_state(&l, CHK_RTT, 3500), EXIT_CRITICAL, "rtt 3500: critical");
	tap_is_int(chk_state(&l, CHK_GOOD, 0), EXIT_CRITICAL, "good 0: crit");
	tap_is_int(chk_state(&l, CHK_GOOD, 1), EXIT_WARNING, "good 1: warn");
	tap_ok(chk_limits_parse(&l, 0, "50,loss=1,good=5:", &e) == 0 &&
		chk_state(&l, CHK_RTT, 60) == EXIT_WARNING &&
		chk_state(&l, CHK_LOSS, 2) == EXIT_WARNING &&
		chk_state(&l, CHK_GOOD, 4) == EXIT_WARNING &&
		strcmp(l.warn[CHK_RTT].text, "50") == 0,
	    "-w 50,loss=1,good=5: (a bare range is rtt): %s", e.msg);
	tap_ok(chk_limits_parse(&l, 1, "hs=@0", &e) == 0 &&
		chk_state(&l, CHK_HS, 0) == EXIT_CRITICAL &&
		chk_state(&l, CHK_HS, 3) == EXIT_OK,
	    "-c hs=@0");
	tap_ok(chk_limits_parse(&l, 0, "jitter=5", &e) == -1 &&
		strstr(e.msg, "-w: unknown key 'jitter'") != NULL,
	    "unknown key: %s", e.msg);
	tap_ok(chk_limits_parse(&l, 1, "rtt=abc", &e) == -1 &&
		strstr(e.msg, "-c: rtt: not a threshold range") != NULL,
	    "bad range named with its key: %s", e.msg);
	tap_ok(chk_limits_parse(&l, 1, "", &e) == -1, "empty: %s", e.msg);
	tap_is_int(
	    chk_worst(EXIT_OK, EXIT_UNKNOWN), EXIT_UNKNOWN, "unknown beats ok");
	tap_is_int(chk_worst(EXIT_UNKNOWN, EXIT_WARNING), EXIT_WARNING,
	    "warning beats unknown");
	tap_is_int(chk_worst(EXIT_CRITICAL, EXIT_WARNING), EXIT_CRITICAL,
	    "critical beats all");
}

static json_t *
status(const char *phase, int active, const char *extra)
{
	char buf[1024];
	json_t *st;

	snprintf(buf, sizeof buf,
	    "{\"role\":\"client\",\"phase\":\"%s\",\"session\":{\"id\":7},"
	    "\"resolvers\":{\"total\":3,\"active\":%d,\"list\":["
	    "{\"sent\":100,\"timeouts\":2},{\"sent\":100,\"timeouts\":0}]}%s}",
	    phase, active, extra ? extra : "");
	st = json_loads(buf, 0, NULL);
	if (st == NULL)
		tap_diag("bad fixture %s", buf);
	return st;
}

static void
engine(void)
{
	struct chk_limits l;
	struct chk_engine en;
	struct res_check c;
	json_t *st;
	int s;

	chk_limits_defaults(&l, 3);
	st = status("connected", 3, NULL);
	s = chk_engine_judge(st, NULL, 1000000, &l, &c, &en);
	tap_ok(s == EXIT_OK && c.verdict == RES_VERDICT_OK &&
		c.kind == RES_CHECK_ENGINE && en.session == 7 &&
		fabs(en.loss_pct - 1.0) < 1e-9 && isnan(en.age_s),
	    "connected: ok, loss 1 %%, no age reported (%s)", c.detail);
	json_decref(st);
	st = status("stalled", 3, NULL);
	s = chk_engine_judge(st, NULL, 0, &l, &c, &en);
	tap_ok(s == EXIT_CRITICAL && c.reason == RES_R_NOT_LIVE &&
		strstr(c.detail, "phase stalled") != NULL,
	    "stalled: critical not_live (%s)", c.detail);
	json_decref(st);
	st = status("reconnecting", 0, NULL);
	tap_is_int(chk_engine_judge(st, NULL, 0, &l, &c, &en), EXIT_CRITICAL,
	    "reconnecting: critical");
	json_decref(st);
	st = status("connected", 0, NULL);
	tap_is_int(chk_engine_judge(st, NULL, 0, &l, &c, &en), EXIT_CRITICAL,
	    "connected without an active resolver: critical");
	json_decref(st);
	tap_ok(chk_engine_judge(NULL, "engine not running at /x", 0, &l, &c,
		   &en) == EXIT_CRITICAL &&
		c.reason == RES_R_NO_ENGINE && strstr(c.detail, "/x") != NULL,
	    "no engine: critical no_engine (%s)", c.detail);
	st = status("connected", 3, ",\"last_valid_answer_age_ms\":45000");
	s = chk_engine_judge(st, NULL, 0, &l, &c, &en);
	tap_ok(
	    s == EXIT_WARNING && c.reason == RES_R_THRESHOLD && en.age_s == 45,
	    "answer 45 s old: warning (%s)", c.detail);
	json_decref(st);
	st = json_loads("{\"role\":\"client\",\"phase\":\"connected\","
			"\"session\":{\"id\":1,\"last_valid_answer_ms\":"
			"1000000},\"resolvers\":{\"active\":1,\"total\":1}}",
	    0, NULL);
	s = chk_engine_judge(st, NULL, 1200000, &l, &c, &en);
	tap_ok(s == EXIT_CRITICAL && en.age_s == 200,
	    "session.last_valid_answer_ms 200 s ago: critical");
	json_decref(st);
	st = json_loads("{\"role\":\"client\",\"phase\":\"connected\","
			"\"resolvers\":{\"active\":2,\"total\":2,\"list\":["
			"{\"sent\":10,\"timeouts\":6}]}}",
	    0, NULL);
	tap_is_int(chk_engine_judge(st, NULL, 0, &l, &c, &en), EXIT_CRITICAL,
	    "loss 60 %%: critical");
	json_decref(st);
	st = json_loads("{\"role\":\"server\",\"phase\":\"serving\"}", 0, NULL);
	tap_is_int(chk_engine_judge(st, NULL, 0, &l, &c, &en), EXIT_OK,
	    "a serving server: ok");
	json_decref(st);
}

static void
results(void)
{
	struct res_resolver r[3];
	struct chk_limits l;
	struct res_check c;
	double rtt, age;
	int n, i;

	chk_limits_defaults(&l, 3);
	for (i = 0; i < 3; i++) {
		res_resolver_init(&r[i]);
		snprintf(r[i].addr, sizeof r[i].addr, "192.0.2.%d", i + 1);
		r[i].verdict = RES_VERDICT_OK;
		r[i].reason = RES_R_OK;
		r[i].rtt_us = 10000 * (i + 1);
	}
	tap_ok(chk_handshake_judge(r, 3, &l, &c, &n, &rtt) == EXIT_OK &&
		n == 3 && rtt == 20,
	    "3 of 3 sessions, median 20 ms: ok (%s)", c.detail);
	r[2].verdict = RES_VERDICT_FAIL;
	r[2].reason = RES_R_TIMEOUT;
	tap_ok(chk_handshake_judge(r, 3, &l, &c, &n, &rtt) == EXIT_WARNING &&
		n == 2 && rtt == 15 && strstr(c.evidence, "192.0.2.3") != NULL,
	    "2 of 3: warning (hs below 3:), the failure as evidence");
	for (i = 0; i < 3; i++) {
		r[i].verdict = RES_VERDICT_FAIL;
		r[i].reason = i ? RES_R_TIMEOUT : RES_R_HANDSHAKE_FAILED;
	}
	tap_ok(chk_handshake_judge(r, 3, &l, &c, &n, &rtt) == EXIT_CRITICAL &&
		c.reason == RES_R_TIMEOUT && isnan(rtt) &&
		strstr(c.detail, "2 x timeout") != NULL,
	    "none opened: critical with the most frequent reason (%s)",
	    c.detail);
	tap_is_int(chk_handshake_judge(r, 0, &l, &c, &n, &rtt), EXIT_UNKNOWN,
	    "no resolver to try: unknown");
	r[0].verdict = RES_VERDICT_OK;
	tap_ok(
	    chk_scan_judge(r, 3, RES_STAGE_REACH, &l, &c, &n) == EXIT_WARNING &&
		n == 1 && strstr(c.detail, "1 of 3 passed up to reach") != NULL,
	    "scan 1 of 3: warning (%s)", c.detail);
	tap_is_int(chk_scan_judge(r, 0, RES_STAGE_REACH, &l, &c, &n),
	    EXIT_UNKNOWN, "empty scan: unknown");
	tap_ok(chk_fresh_judge(0, 0, 5000, &l, &c, &age) == EXIT_CRITICAL &&
		c.reason == RES_R_STALE && isnan(age),
	    "no last-known-good list: critical stale");
	tap_ok(chk_fresh_judge(1000, 4, 1000 + 3600 * 1000, &l, &c, &age) ==
		    EXIT_OK &&
		age == 3600,
	    "an hour old: ok (%s)", c.detail);
	tap_is_int(chk_fresh_judge(1, 4, 2LL * 86400 * 1000, &l, &c, &age),
	    EXIT_WARNING, "two days old: warning");
}

int
main(void)
{
	ranges();
	limits();
	engine();
	results();
	return tap_done();
}
