/* SPDX-License-Identifier: MIT */
/*
 * test-filter.c — the server's target filter: every refused range at its
 * edges, IPv6 and the IPv6 forms that carry an IPv4 address (mapped,
 * compatible, SIIT-translated, NAT64 64:ff9b::/96, 6to4 2002::/16) judged
 * by that address, localhost names, public addresses passing, and the
 * allow-list overriding refusals only inside its CIDRs.
 */
#include <arpa/inet.h>
#include <string.h>

#include "engine/filter.h"
#include "tests/tap.h"

static int
addr_check(const struct eng_filter *f, const char *ip)
{
	union net_addr a;

	memset(&a, 0, sizeof a);
	if (inet_pton(AF_INET, ip, &a.in.sin_addr) == 1)
		a.in.sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &a.in6.sin6_addr) == 1)
		a.in6.sin6_family = AF_INET6;
	else
		return 99;
	return eng_filter_addr(f, &a, NULL);
}

int
main(void)
{
	static const char *refused[] = {
	    "127.0.0.1",
	    "127.255.255.254",
	    "10.0.0.1",
	    "10.255.255.255",
	    "172.16.0.1",
	    "172.31.255.255",
	    "192.168.1.1",
	    "169.254.1.1",
	    "224.0.0.1",
	    "239.255.255.255",
	    "0.0.0.0",
	    "0.1.2.3",
	    "255.255.255.255",
	    "100.64.0.1",
	    "100.127.255.255",
	    "198.18.0.1",
	    "198.19.255.255",
	    "::1",
	    "::",
	    "fc00::1",
	    "fdff::1",
	    "fe80::1",
	    "febf::1",
	    "ff02::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3",
	    "::ffff:100.64.0.1",
	    /* IPv4-embedded forms (issue 19 item 9). */
	    "::127.0.0.1",
	    "::10.0.0.1",
	    "::192.168.0.1",
	    "::ffff:0:127.0.0.1",
	    "::ffff:0:10.1.2.3",
	    "64:ff9b::127.0.0.1",
	    "64:ff9b::10.1.2.3",
	    "64:ff9b::a9fe:a9fe", /* 169.254.169.254, cloud metadata */
	    "64:ff9b::c0a8:101",
	    "2002:7f00:1::1",
	    "2002:c0a8:101::1",
	    "2002:a00:1:abcd::5",
	    "2002:a9fe:a9fe::",
	};
	static const char *passed[] = {
	    "1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1",
	    "100.63.255.255", "100.128.0.1", "198.17.255.255", "198.20.0.1",
	    "11.0.0.1", "192.169.0.1", "2001:4860::8888", "::ffff:8.8.8.8",
	    "223.255.255.255", "64:ff9b::8.8.8.8", "::ffff:0:8.8.8.8",
	    "2002:808:808::1", "64:ff9c::127.0.0.1", /* not the NAT64 prefix */
	    "2003:7f00:1::1",			     /* not 6to4 */
	};
	struct eng_filter *f = eng_filter_new();
	struct err e = {""};
	const char *why = NULL;
	size_t i;

	for (i = 0; i < nitems(refused); i++) {
		tap_is_int(eng_filter_host(f, refused[i], NULL), -1,
		    "literal %s refused", refused[i]);
		tap_is_int(addr_check(f, refused[i]), -1, "address %s refused",
		    refused[i]);
	}
	for (i = 0; i < nitems(passed); i++) {
		tap_is_int(eng_filter_host(f, passed[i], NULL), 0,
		    "literal %s passes", passed[i]);
		tap_is_int(addr_check(f, passed[i]), 0, "address %s passes",
		    passed[i]);
	}
	tap_is_int(eng_filter_host(f, "127.0.0.1", &why), -1, "why set");
	tap_is_str(why, "loopback", "reason names the range");
	tap_is_int(eng_filter_host(f, "64:ff9b::10.0.0.1", &why), -1,
	    "NAT64 form refused");
	tap_is_str(why, "private", "  with the embedded address's reason");
	tap_is_int(
	    eng_filter_host(f, "2002:a9fe:1::", &why), -1, "6to4 form refused");
	tap_is_str(why, "link-local", "  with the embedded address's reason");
	tap_is_int(eng_filter_host(f, "localhost", NULL), -1, "localhost");
	tap_is_int(eng_filter_host(f, "LocalHost.", NULL), -1,
	    "localhost any case, trailing dot");
	tap_is_int(
	    eng_filter_host(f, "a.b.localhost", NULL), -1, "*.localhost");
	tap_is_int(eng_filter_host(f, "notlocalhost", NULL), 0,
	    "notlocalhost is a different name");
	tap_is_int(eng_filter_host(f, "example.com", NULL), 0,
	    "ordinary name passes the name stage");
	tap_is_int(eng_filter_host(f, "", NULL), -1, "empty host refused");

	tap_is_int(eng_filter_allow(f, "127.0.0.0/8", &e), 0, "allow 127/8");
	tap_is_int(eng_filter_allow(f, "::1", &e), 0, "allow ::1");
	tap_is_int(
	    eng_filter_allow(f, "10.1.0.0/33", &e), -1, "bad prefix rejected");
	tap_ok(strstr(e.msg, "10.1.0.0/33") != NULL, "message names it: %s",
	    e.msg);
	tap_is_int(eng_filter_allow(f, "nonsense", &e), -1, "bad CIDR");
	tap_is_int(addr_check(f, "127.0.0.1"), 0, "allowed loopback passes");
	tap_is_int(addr_check(f, "::ffff:127.0.0.5"), 0,
	    "mapped form matches the IPv4 allow entry");
	tap_is_int(addr_check(f, "::1"), 0, "allowed ::1 passes");
	tap_is_int(addr_check(f, "64:ff9b::127.0.0.9"), 0,
	    "NAT64 form matches the IPv4 allow entry");
	tap_is_int(addr_check(f, "64:ff9b::10.0.0.1"), -1,
	    "NAT64 form outside the allow-list still refused");
	tap_is_int(addr_check(f, "10.0.0.1"), -1,
	    "outside the allow-list still refused");
	tap_is_int(eng_filter_host(f, "localhost", NULL), 0,
	    "with an allow-list, localhost goes to the address check");
	eng_filter_free(f);
	return tap_done();
}
