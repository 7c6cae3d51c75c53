/* SPDX-License-Identifier: MIT */
/*
 * test-exitip.c — the `ip` verdict (exitip_judge) on made-up
 * observations, every rule of docs/checks.md one by one: ok, wrong exit,
 * not tunnelled (and a lying service that is not), disagreement on either
 * path, no expectation, too few answers, no tunnel path, no answers at
 * all, the direct path blocked (a blackout), per-family expectations,
 * and the exit code rule across families. The network half is tested by
 * tests/sh/test-ip.sh.
 */
#include "probe/exitip.h"
#include "tests/tap.h"

static const struct exitip_service svc[] = {
    {"http://a/ip", 4},
    {"http://b/ip", 4},
    {"http://c/ip", 6},
    {"http://d/ip", 6},
};

static struct exitip_obs obs[16];
static size_t nobs;

/* One observation: service i, path, address ("" = failed with why). */
static void
see(size_t i, enum exitip_path p, const char *ip, enum res_reason why)
{
	struct exitip_obs *o = &obs[nobs++];

	memset(o, 0, sizeof *o);
	o->svc = &svc[i];
	o->path = p;
	o->ms = 10;
	if (ip[0] != '\0') {
		o->ok = 1;
		snprintf(o->ip, sizeof o->ip, "%s", ip);
		o->family = svc[i].family;
	} else {
		o->why = why;
		snprintf(o->error, sizeof o->error, "%s",
		    why == RES_R_TIMEOUT ? "timeout after 10 ms" : "refused");
	}
}

static struct exitip_opts
opts(const char *const *expect, size_t nexpect)
{
	struct exitip_opts o;

	memset(&o, 0, sizeof o);
	o.svc = svc;
	o.nsvc = nitems(svc);
	o.want4 = o.want6 = 1;
	o.socks = "127.0.0.1:1080";
	o.expect = expect;
	o.nexpect = nexpect;
	o.expect_from = "--expect";
	return o;
}

/* Judge family 4 (or 6) and compare verdict and reason. */
static void
judge(int fam, const struct exitip_opts *o, enum res_verdict v,
    enum res_reason r, const char *what)
{
	struct res_check c;
	int rc = exitip_judge(obs, nobs, fam, o, &c);

	tap_ok(rc == 0 && c.verdict == v && c.reason == r, "%s: %s/%s (%s)",
	    what, res_verdict_name(c.verdict), res_reason_name(c.reason),
	    c.detail);
}

static const char *const E4[] = {"203.0.113.9"};
static const char *const E46[] = {"2001:db8::9", "203.0.113.9"};

int
main(void)
{
	struct exitip_opts o = opts(E4, 1), none = opts(NULL, 0);
	struct res_check c[2];

	nobs = 0;
	see(0, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(1, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	see(1, EXITIP_DIRECT, "192.0.2.2", 0);
	judge(4, &o, RES_VERDICT_OK, RES_R_OK, "right exit");
	judge(4, &none, RES_VERDICT_WARN, RES_R_NO_BASELINE,
	    "no expectation: never a silent ok");
	{
		const char *const wrong[] = {"203.0.113.10"};
		struct exitip_opts w = opts(wrong, 1);

		judge(4, &w, RES_VERDICT_FAIL, RES_R_EXIT_IP_MISMATCH,
		    "wrong exit");
	}
	{
		struct exitip_opts only6 = opts(E46, 1); /* 2001:db8::9 */

		judge(4, &only6, RES_VERDICT_WARN, RES_R_NO_BASELINE,
		    "an IPv6 expectation says nothing about IPv4");
	}
	judge(6, &o, RES_VERDICT_UNKNOWN, RES_R_FETCH_FAILED,
	    "IPv6 services never asked: unknown");

	nobs = 0; /* exit = direct */
	see(0, EXITIP_TUNNEL, "192.0.2.2", 0);
	see(1, EXITIP_TUNNEL, "192.0.2.2", 0);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	see(1, EXITIP_DIRECT, "192.0.2.2", 0);
	{
		const char *const same[] = {"192.0.2.2"};
		struct exitip_opts s = opts(same, 1);

		judge(4, &s, RES_VERDICT_FAIL, RES_R_NOT_TUNNELLED,
		    "expected and direct are the same: not tunnelled");
	}
	judge(4, &none, RES_VERDICT_FAIL, RES_R_NOT_TUNNELLED,
	    "not tunnelled needs no expectation");

	nobs = 0; /* a liar next to an honest service */
	see(0, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(1, EXITIP_TUNNEL, "198.51.100.77", 0);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	see(1, EXITIP_DIRECT, "198.51.100.77", 0);
	judge(4, &o, RES_VERDICT_WARN, RES_R_DISAGREE,
	    "a lying service: disagree, not 'not tunnelled'");
	nobs = 0; /* a liar, and no tunnel */
	see(0, EXITIP_TUNNEL, "192.0.2.2", 0);
	see(1, EXITIP_TUNNEL, "198.51.100.77", 0);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	see(1, EXITIP_DIRECT, "198.51.100.77", 0);
	judge(4, &none, RES_VERDICT_FAIL, RES_R_NOT_TUNNELLED,
	    "a liar does not hide a missing tunnel");

	nobs = 0; /* direct answers disagree (CGNAT pools) */
	see(0, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(1, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	see(1, EXITIP_DIRECT, "192.0.2.3", 0);
	judge(4, &o, RES_VERDICT_WARN, RES_R_DISAGREE, "direct disagree");

	nobs = 0; /* blackout: no direct answer at all */
	see(0, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(1, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(0, EXITIP_DIRECT, "", RES_R_TIMEOUT);
	see(1, EXITIP_DIRECT, "", RES_R_FETCH_FAILED);
	judge(4, &o, RES_VERDICT_OK, RES_R_OK,
	    "direct blocked, tunnel right: ok");

	nobs = 0; /* one witness only */
	see(0, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(1, EXITIP_TUNNEL, "", RES_R_MALFORMED);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	judge(4, &o, RES_VERDICT_WARN, RES_R_FETCH_FAILED,
	    "one answer through the tunnel: warn");
	{
		const char *const wrong[] = {"203.0.113.10"};
		struct exitip_opts w = opts(wrong, 1);

		judge(4, &w, RES_VERDICT_FAIL, RES_R_EXIT_IP_MISMATCH,
		    "one answer can still be the wrong exit");
	}

	nobs = 0; /* every tunnel fetch failed */
	see(0, EXITIP_TUNNEL, "", RES_R_TIMEOUT);
	see(1, EXITIP_TUNNEL, "", RES_R_TIMEOUT);
	see(0, EXITIP_DIRECT, "192.0.2.2", 0);
	judge(4, &o, RES_VERDICT_UNKNOWN, RES_R_TIMEOUT,
	    "tunnel silent: unknown, timeout");
	nobs = 0;
	see(0, EXITIP_TUNNEL, "", RES_R_MALFORMED);
	see(1, EXITIP_TUNNEL, "", RES_R_MALFORMED);
	judge(4, &o, RES_VERDICT_UNKNOWN, RES_R_MALFORMED,
	    "garbage only: unknown, malformed");
	{
		struct exitip_opts ns = opts(E4, 1);

		nobs = 0;
		ns.socks = NULL;
		ns.no_socks_why = "engine not running";
		see(0, EXITIP_DIRECT, "192.0.2.2", 0);
		judge(4, &ns, RES_VERDICT_UNKNOWN, RES_R_FETCH_FAILED,
		    "no SOCKS port: unknown");
	}

	nobs = 0; /* both families */
	see(0, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(1, EXITIP_TUNNEL, "203.0.113.9", 0);
	see(2, EXITIP_TUNNEL, "2001:db8::9", 0);
	see(3, EXITIP_TUNNEL, "2001:db8::9", 0);
	see(2, EXITIP_DIRECT, "2001:db8::2", 0);
	{
		struct exitip_opts both = opts(E46, 2);

		judge(4, &both, RES_VERDICT_OK, RES_R_OK, "IPv4 of two");
		judge(6, &both, RES_VERDICT_OK, RES_R_OK, "IPv6 of two");
		both.nsvc = 2;
		tap_is_int(exitip_judge(obs, nobs, 6, &both, &c[0]), 1,
		    "no IPv6 service configured: no IPv6 check");
	}

	res_check_init(&c[0]);
	res_check_init(&c[1]);
	c[0].verdict = RES_VERDICT_OK;
	c[1].verdict = RES_VERDICT_UNKNOWN;
	tap_is_int(exitip_exit_code(c, 2), EXIT_OK,
	    "an undecided family does not hide the other's ok");
	c[1].verdict = RES_VERDICT_WARN;
	tap_is_int(exitip_exit_code(c, 2), EXIT_WARNING, "worst counts");
	c[0].verdict = RES_VERDICT_FAIL;
	tap_is_int(exitip_exit_code(c, 2), EXIT_CRITICAL, "fail wins");
	c[0].verdict = c[1].verdict = RES_VERDICT_UNKNOWN;
	tap_is_int(exitip_exit_code(c, 2), EXIT_UNKNOWN, "nothing decided");
	tap_is_int(exitip_exit_code(c, 0), EXIT_UNKNOWN, "no checks");
	tap_ok(exitip_ndefault_services >= 4, "built-in services exist");
	return tap_done();
}
