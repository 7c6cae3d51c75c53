/* SPDX-License-Identifier: MIT */
/*
 * test-server-sources.c — issue 19 items 6 and 4, on the real packet
 * handler with source addresses.
 *
 * Item 6 (reflection): an answer never exceeds the query's UDP size (512
 * without EDNS, else the OPT size): an MTU download probe asking for more
 * gets an empty answer with TC. Before, a 46-byte probe without EDNS got
 * 5,874 bytes back (x128). Answers that no working session asked for are
 * bounded per source (256 KiB burst, 32 KiB/s); other sources and a
 * source's working sessions are not affected. Upstream clients advertise
 * 4096 and get their full probes.
 *
 * Item 4 (sessions): random session ids; SESSION_INIT limited per
 * source; the last quarter of the table kept for sources with a working
 * session; invalid cookies past INVALID_COOKIE_ERROR_THRESHOLD within the
 * window get silence, per source (before, 52 queries found another
 * user's session).
 */
#include <stdio.h>

#include "tests/tap.h"
#include "tests/srvkit.h"

static int
mtu_down(struct eng_server *s, const union net_addr *from, uint16_t edns,
    uint16_t size, size_t *qlen)
{
	struct wire_frame f;
	uint8_t p[32], msg[1400];
	long n = wire_mtu_down_req_build(0, 0x01020304, size, 20, p, sizeof p);

	srvk_frame(&f, 0, 0, WIRE_MTU_DOWN_REQ, 0, 0, p, (size_t)n);
	*qlen = (size_t)srvk_query(&f, edns, msg, sizeof msg);
	return srvk_ask(s, from, &f, edns, 0, NULL, NULL);
}

static int
tc(void)
{
	return (srvk_ans[2] & 0x02) != 0;
}

static void
reflection(void)
{
	struct cfg_server c;
	struct eng_server *s;
	union net_addr a = srvk_addr(10), b = srvk_addr(11);
	const struct eng_server_guard_stats *g;
	struct wire_frame f;
	uint8_t sid, ck, pp[WIRE_PING_LEN];
	size_t ql, out = 0;
	unsigned i, answered = 0;
	int rc, has;

	srvk_cfg(&c);
	s = srvk_new(&c);
	g = eng_server_guard_stats(s);

	rc = mtu_down(s, &a, 0, 4000, &ql);
	tap_ok(rc == 0 && srvk_anlen <= 512 && tc(),
	    "probe for 4,000 without EDNS: %zu bytes with TC (x%.1f of %zu)",
	    srvk_anlen, (double)srvk_anlen / (double)ql, ql);
	rc = mtu_down(s, &a, 1232, 1000, &ql);
	tap_ok(rc == 0 && srvk_anlen <= 1232 && !tc() && srvk_anlen > 1000,
	    "probe for 1,000 under EDNS 1232: answered (%zu bytes)",
	    srvk_anlen);
	rc = mtu_down(s, &a, 1232, 2000, &ql);
	tap_ok(rc == 0 && srvk_anlen <= 1232 && tc(),
	    "probe for 2,000 under EDNS 1232: %zu bytes with TC", srvk_anlen);
	rc = mtu_down(s, &a, 4096, 3000, &ql);
	tap_ok(rc == 0 && !tc() && srvk_anlen > 3000 && srvk_anlen <= 4096,
	    "upstream's EDNS 4096: a 3,000 probe answered (%zu bytes)",
	    srvk_anlen);
	tap_ok(g->ans_truncated == 2, "truncations counted (%llu)",
	    (unsigned long long)g->ans_truncated);

	/* a replayed probe from one source: its budget runs out */
	for (i = 0; i < 400; i++) {
		rc = mtu_down(s, &b, 4096, 3500, &ql);
		if (rc >= 0) {
			answered++;
			out += srvk_anlen;
		}
	}
	tap_ok(answered < 100 && out < 300000 && g->src_answer_drop > 0,
	    "400 replays of a 3,500 probe: %u answered, %zu bytes, %llu "
	    "refused",
	    answered, out, (unsigned long long)g->src_answer_drop);
	rc = mtu_down(s, &a, 4096, 3500, &ql);
	tap_ok(rc == 0 && srvk_anlen > 3500, "another source is answered");
	srvk_now += 1000000;
	for (i = answered = 0; i < 40; i++)
		answered += mtu_down(s, &b, 4096, 3500, &ql) >= 0;
	tap_ok(answered >= 8 && answered <= 11,
	    "one second later: %u more (32 KiB/s)", answered);
	/* a working session of the spent source is not limited */
	tap_ok(srvk_session(s, &a, 1, 0, &sid, &ck) == 0, "session from a");
	srvk_now += 60ULL * 1000000;
	for (i = 0; i < 200; i++)
		(void)mtu_down(s, &a, 4096, 3500, &ql);
	wire_ping_build(NULL, pp, sizeof pp);
	srvk_frame(&f, sid, ck, WIRE_PING, 0, 0, pp, sizeof pp);
	rc = srvk_ask(s, &a, &f, 4096, 0, NULL, &has);
	tap_ok(rc == 0 && has, "its PING still answered (budget spent)");
	eng_server_free(s);
}

static void
sessions(void)
{
	struct cfg_server c;
	struct eng_server *s;
	const struct eng_server_guard_stats *g;
	union net_addr a = srvk_addr(20), e, x = srvk_addr(99);
	struct wire_frame f, r;
	uint8_t sid[32], ck[32], pp[WIRE_PING_LEN], vsid, vck;
	unsigned i, ok, seq = 0, nodata = 0, silent = 0;
	int rc, has;

	srvk_cfg(&c);
	c.max_sessions = 8;
	s = srvk_new(&c);
	g = eng_server_guard_stats(s);

	/* rate: 40 INITs at one instant from one source */
	for (i = ok = 0; i < 40; i++)
		ok += srvk_session(
			  s, &a, (uint8_t)(100 + i), 0, &sid[0], &ck[0]) == 0;
	tap_is_int(ok, 6, "table of 8: 6 for any source");
	tap_ok(g->sessions_reserved > 0,
	    "then refused: the reserved quarter "
	    "(%llu)",
	    (unsigned long long)g->sessions_reserved);
	srvk_now += 10ULL * 1000000;
	tap_ok(srvk_session(s, &x, 1, 0, &vsid, &vck) == -1,
	    "a new source gets no reserved session");
	wire_ping_build(NULL, pp, sizeof pp);
	srvk_frame(&f, sid[0], ck[0], WIRE_PING, 0, 0, pp, sizeof pp);
	(void)srvk_ask(s, &a, &f, 4096, 0, NULL, NULL);
	tap_ok(srvk_session(s, &a, 99, 0, &vsid, &vck) == 0,
	    "a source with a working session does");
	eng_server_free(s);

	srvk_cfg(&c);
	s = srvk_new(&c);
	g = eng_server_guard_stats(s);
	for (i = ok = 0; i < 40; i++)
		if (srvk_session(s, &a, (uint8_t)(100 + i), 0, &sid[ok % 32],
			&ck[ok % 32]) == 0)
			ok++;
	tap_ok(ok == 16 && g->init_rate_drop == 24,
	    "40 INITs at once from one source: 16 sessions, %llu dropped",
	    (unsigned long long)g->init_rate_drop);
	for (i = 1; i < 16; i++)
		seq += sid[i] == sid[i - 1] + 1;
	tap_ok(
	    seq < 8, "session ids random (%u of 15 follow the previous)", seq);
	e = srvk_addr(21);
	tap_ok(srvk_session(s, &e, 1, 0, &vsid, &vck) == 0,
	    "another source still gets one");
	srvk_now += 1000000;
	for (i = ok = 0; i < 10; i++)
		ok += srvk_session(
			  s, &a, (uint8_t)(200 + i), 0, &sid[0], &ck[0]) == 0;
	tap_is_int(ok, 2, "one second later: 2 more (2 per second)");

	/* a cookie guesser against e's session, from x */
	wire_ping_build(NULL, pp, sizeof pp);
	for (i = 0; i < 256; i++) {
		if ((uint8_t)i == vck)
			continue;
		srvk_frame(
		    &f, vsid, (uint8_t)i, WIRE_PING, 0, 0, pp, sizeof pp);
		rc = srvk_ask(s, &x, &f, 4096, 0, &r, &has);
		if (rc == -1)
			silent++;
		else if (!has)
			nodata++;
	}
	tap_ok(nodata <= 10 && silent >= 245,
	    "255 wrong cookies from one source: %u answered, %u silence",
	    nodata, silent);
	tap_ok(g->cookie_src_drop >= 245, "counted (%llu)",
	    (unsigned long long)g->cookie_src_drop);
	srvk_frame(&f, vsid, vck, WIRE_PING, 0, 0, pp, sizeof pp);
	rc = srvk_ask(s, &e, &f, 4096, 0, &r, &has);
	tap_ok(rc == 0 && has && r.type == WIRE_PONG,
	    "the session's own client is answered");
	srvk_frame(&f, vsid, vck, WIRE_PING, 0, 0, pp, sizeof pp);
	rc = srvk_ask(s, &x, &f, 4096, 0, &r, &has);
	tap_ok(rc == 0 && has,
	    "the right cookie from the guesser's source "
	    "too (the cookie is the only secret)");
	eng_server_free(s);
}

int
main(void)
{
	reflection();
	sessions();
	return tap_done();
}
