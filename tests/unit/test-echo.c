/* SPDX-License-Identifier: MIT */
/*
 * test-echo.c — IP-echo bodies (probe/echo.h): the three shapes real
 * services send (plain text with or without newline, JSON, Cloudflare's
 * trace), normalisation (upper-case and long IPv6 forms, IPv4-mapped),
 * and every kind of wrong answer refused with a reason: empty, binary,
 * HTML, host names, lists, zones, JSON without the member or of the wrong
 * type, two different ip= lines, an over-long body.
 */
#include "probe/echo.h"
#include "tests/tap.h"

static void
good(const char *body, const char *want, int wfam, enum echo_shape wsh)
{
	char ip[ECHO_IP_MAX] = "";
	struct err e = {""};
	enum echo_shape sh = ECHO_PLAIN;
	int fam = 0, rc;

	rc = echo_parse(body, strlen(body), ip, &fam, &sh, &e);
	tap_ok(rc == 0 && strcmp(ip, want) == 0 && fam == wfam && sh == wsh,
	    "%s -> %s (IPv%d, %s)%s%s", want, ip, fam, echo_shape_name(sh),
	    rc ? ": " : "", rc ? e.msg : "");
}

static void
bad(const char *body, size_t len, const char *why)
{
	char ip[ECHO_IP_MAX];
	struct err e = {""};
	int fam, rc;

	rc = echo_parse(body, len, ip, &fam, NULL, &e);
	tap_ok(rc == -1 && strstr(e.msg, why) != NULL, "refused (%s): %s", why,
	    e.msg);
}

int
main(void)
{
	static const char trace[] =
	    "fl=29f123\nh=1.1.1.1\nip=198.51.100.23\nts=1717000000.123\n"
	    "visit_scheme=https\nuag=mdns-doctor\ncolo=FRA\nsliver=none\n"
	    "http=http/1.1\nloc=DE\ntls=TLSv1.3\nsni=off\nwarp=off\n"
	    "gateway=off\nrbi=off\nkex=X25519\n";
	char big[ECHO_BODY_MAX + 2];
	char ip[ECHO_IP_MAX];
	struct err e;
	int fam;

	good("203.0.113.7\n", "203.0.113.7", 4, ECHO_PLAIN);
	good("203.0.113.7", "203.0.113.7", 4, ECHO_PLAIN);
	good("  2001:DB8:0:0::1\r\n", "2001:db8::1", 6, ECHO_PLAIN);
	good("::ffff:192.0.2.9\n", "192.0.2.9", 4, ECHO_PLAIN);
	good("{\"ip\":\"198.51.100.1\"}", "198.51.100.1", 4, ECHO_JSON);
	good("{\"ip\": \"2001:db8::2\", \"country\": \"XX\"}\n", "2001:db8::2",
	    6, ECHO_JSON);
	good("{\"origin\": \"192.0.2.77\"}", "192.0.2.77", 4, ECHO_JSON);
	good("{\"status\":\"success\",\"query\":\"192.0.2.78\"}", "192.0.2.78",
	    4, ECHO_JSON);
	good(trace, "198.51.100.23", 4, ECHO_KV);
	good("ip=2001:db8::9\nloc=XX\n", "2001:db8::9", 6, ECHO_KV);
	good("ip=192.0.2.1\r\nip=192.0.2.1\r\n", "192.0.2.1", 4, ECHO_KV);

	bad("", 0, "empty body");
	bad(" \n\t", 3, "empty body");
	bad("1.2.3.4\0garbage", 15, "binary body");
	bad("<html><body>Too many requests</body></html>", 43,
	    "not an IP address: \"<html>");
	bad("example.com\n", 12, "not an IP address");
	bad("203.0.113.7, 198.51.100.2", 25, "not an IP address");
	bad("fe80::1%eth0", 12, "not an IP address");
	bad("256.1.1.1", 9, "not an IP address");
	bad("{\"ip\": 17}", 10, "string \"ip\" member");
	bad("{\"address\": \"192.0.2.1\"}", 24, "string \"ip\" member");
	bad("{\"ip\": \"1.2.3.4\"", 16, "bad JSON");
	bad("[\"1.2.3.4\"]", 11, "not an IP address");
	bad("{\"ip\":\"1.2.3.4\",\"ip\":\"5.6.7.8\"}", 31, "bad JSON");
	bad("{\"origin\": \"192.0.2.1, 198.51.100.2\"}", 37, "not an IP");
	bad("ip=192.0.2.1\nip=192.0.2.2\n", 26, "two different ip= lines");
	bad("ip=\nloc=XX\n", 11, "empty address");
	bad("ip=nonsense\n", 12, "not an IP address: \"nonsense\"");
	memset(big, '1', sizeof big);
	bad(big, sizeof big, "bytes (an IP-echo answer is short)");
	bad("\x01\x02\xff\xfe", 4, "not an IP address: \"????\"");
	tap_ok(echo_normalize("2001:0db8::0001", ip, &fam, &e) == 0 &&
		strcmp(ip, "2001:db8::1") == 0 && fam == 6,
	    "normalize a user's address: %s", ip);
	tap_ok(echo_normalize("", ip, &fam, &e) == -1, "normalize empty: %s",
	    e.msg);
	return tap_done();
}
