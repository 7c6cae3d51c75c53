/* SPDX-License-Identifier: MIT */
/*
 * test-leak-judge.c — the leak verdict (probe/leak.h leak_judge) on made-up
 * observations, one rule at a time: a resolver outside the tunnel's
 * egress is a leak (with family, names and count), the egress itself is
 * ok, no tunnel baseline is no_baseline and never a leak, an unreadable
 * report or no system resolver is unknown with the reason, a system path
 * that reached nothing cannot tell; and the resolv.conf reader.
 */
#include "probe/leak.h"
#include "tests/tap.h"

static struct leak_opts o;
static struct leak_obs ob;

static void
setup(void)
{
	memset(&o, 0, sizeof o);
	memset(&ob, 0, sizeof ob);
	o.zone = "leak.example";
	o.nnames = 6;
	o.nsys = 1;
	net_addr_parse("10.0.0.53", 53, &o.sys[0], NULL);
	o.sys_from = "/etc/resolv.conf";
	o.have_tun = 1;
	net_addr_parse("127.0.0.1:5353", 53, &o.tun, NULL);
	ob.sys.names = ob.tun.names = 6;
	ob.sys.sent = ob.tun.sent = ob.sys.answered = ob.tun.answered = 12;
	ob.sys.mask = 0x3f;
	ob.tun.mask = 0xfc0;
	ob.report_ok = 1;
}

static void
entry(const char *addr, int fam, uint32_t count, uint64_t mask)
{
	struct leakz_entry *e = &ob.rep[ob.nrep++];

	snprintf(e->addr, sizeof e->addr, "%s", addr);
	e->family = fam;
	e->count = count;
	e->mask = mask;
	ob.rep_total = ob.nrep;
}

static const struct res_check *
find(const struct res_check *c, size_t n, const char *subject)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].subject, subject) == 0)
			return &c[i];
	return NULL;
}

int
main(void)
{
	struct res_check c[LEAKZ_REPORT_MAX + 2];
	const struct res_check *r;
	union net_addr ns[LEAK_SYS_MAX];
	char buf[64];
	size_t n;

	setup();
	entry("192.0.2.1", 4, 12, 0x3f);     /* the ISP: system names */
	entry("198.51.100.3", 4, 12, 0xfc0); /* the exit: tunnel names */
	leak_judge(&ob, &o, c, nitems(c), &n);
	r = find(c, n, "192.0.2.1");
	tap_ok(n == 1 && r != NULL && r->verdict == RES_VERDICT_FAIL &&
		r->reason == RES_R_LEAK,
	    "a system-path resolver the tunnel never used: fail leak");
	tap_ok(r &&
		strstr(r->detail,
		    "192.0.2.1 (IPv4) asked for 6 of 6 "
		    "system-path name(s), 12 queries; the "
		    "tunnel's egress is 198.51.100.3"),
	    "... detail: family, names, count, egress: %s", r ? r->detail : "");
	tap_ok(r &&
		strstr(r->evidence,
		    "report via -: 192.0.2.1 x12 names 3f, "
		    "198.51.100.3 x12 names fc0"),
	    "... evidence has the report: %s", r ? r->evidence : "");

	setup();
	entry("198.51.100.3", 4, 24, 0xfff);
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 1 && c[0].verdict == RES_VERDICT_OK &&
		strstr(c[0].detail, "the tunnel's own egress"),
	    "the system path reaches only the tunnel's egress: ok");

	setup();
	entry("2001:db8::53", 6, 3, 0x7);
	entry("192.0.2.1", 4, 9, 0x38);
	entry("198.51.100.3", 4, 12, 0xfc0);
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 2 && find(c, n, "2001:db8::53") &&
		find(c, n, "2001:db8::53")->reason == RES_R_LEAK &&
		strstr(find(c, n, "2001:db8::53")->detail,
		    "(IPv6) asked for 3 of 6") &&
		find(c, n, "192.0.2.1")->reason == RES_R_LEAK,
	    "two leaking resolvers, each its own row (IPv6 and IPv4)");

	setup();
	o.have_tun = 0;
	o.tun_why = "engine not running";
	ob.tun.names = ob.tun.sent = ob.tun.answered = 0;
	ob.tun.mask = 0;
	entry("192.0.2.1", 4, 12, 0x3f);
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 1 && c[0].verdict == RES_VERDICT_UNKNOWN &&
		c[0].reason == RES_R_NO_BASELINE &&
		strstr(c[0].evidence, "no tunnel path: engine not running"),
	    "no tunnel path: unknown no_baseline, never a leak");

	setup();
	ob.tun.answered = 0;
	entry("192.0.2.1", 4, 12, 0x3f);
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 1 && c[0].reason == RES_R_NO_BASELINE,
	    "tunnel names that reached nobody: no_baseline");

	setup();
	ob.report_ok = 0;
	ob.report_why = RES_R_MALFORMED;
	snprintf(ob.report_error, sizeof ob.report_error, "x: not a report");
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 1 && strcmp(c[0].subject, "report") == 0 &&
		c[0].verdict == RES_VERDICT_UNKNOWN &&
		c[0].reason == RES_R_MALFORMED &&
		strstr(c[0].detail, "x: not a report"),
	    "an unreadable report: unknown with its reason");

	setup();
	entry("198.51.100.3", 4, 12, 0xfc0);
	ob.sys.answered = 0;
	snprintf(ob.sys.error, sizeof ob.sys.error, "10.0.0.53:53: timeout");
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 1 && strcmp(c[0].subject, "system resolver") == 0 &&
		c[0].reason == RES_R_FETCH_FAILED &&
		strstr(c[0].detail, "cannot tell"),
	    "no system-path name reached the zone: unknown, cannot tell");

	setup();
	o.nsys = 0;
	o.sys_why = "/etc/resolv.conf has no usable nameserver line";
	leak_judge(&ob, &o, c, nitems(c), &n);
	tap_ok(n == 1 && c[0].reason == RES_R_FETCH_FAILED &&
		strstr(c[0].detail, "no usable nameserver"),
	    "no system resolver: unknown, said why");

	n = leak_resolv_conf("# comment\nsearch example\nnameserver 10.0.0.1\n"
			     "nameserver  ::1\nnameserver fe80::1%eth0\n"
			     "nameserver bogus\nnameserver 10.0.0.2\n"
			     "nameserver 10.0.0.3\n",
	    ns, LEAK_SYS_MAX);
	net_addr_format(&ns[1], buf, sizeof buf);
	tap_ok(n == 3 && strcmp(buf, "[::1]:53") == 0,
	    "resolv.conf: three nameservers, scoped and bogus ones skipped "
	    "(%zu, %s)",
	    n, buf);
	tap_is_int((int)leak_resolv_conf("", ns, LEAK_SYS_MAX), 0,
	    "an empty resolv.conf: none");
	return tap_done();
}
