/* SPDX-License-Identifier: MIT */
/*
 * test-leakzone.c — the leak zone's codec (proto/leakzone.h) and the
 * server's records (engine/server-leak.h), without sockets: names are
 * classified as the server must (test names, reports, everything else
 * under the zone, names outside it), answers carry the asker's address
 * for A/AAAA/TXT, the token's records come back in the report (counts,
 * name masks, both families), the report fits the asker's UDP size, the
 * table is bounded and expires, and the readers refuse every kind of bad
 * answer and report with a reason.
 */
#include <arpa/inet.h>

#include "engine/server-leak.h"
#include "proto/dns.h"
#include "proto/leakzone.h"
#include "tests/tap.h"

#define ZONE "leak.example"

static void
classify(const char *q, enum leakz_kind want, const char *tok, int idx)
{
	struct leakz_qname qn;
	enum leakz_kind k = leakz_classify(q, strlen(q), ZONE, &qn);

	tap_ok(k == want && (tok == NULL || strcmp(qn.token, tok) == 0) &&
		(idx < 0 || qn.idx == idx),
	    "%s: kind %d (want %d) token %s idx %d", q, k, want, qn.token,
	    qn.idx);
}

/* A query for name/type (with EDNS 1232 when edns) into buf; its length. */
static size_t
query(uint8_t *buf, const char *name, uint16_t type, int edns, uint16_t id)
{
	uint8_t wire[256];
	long wl = dns_name_encode(name, strlen(name), wire, sizeof wire, NULL);
	long n = dns_query_write(
	    buf, 1500, id, wire, (size_t)wl, type, edns ? 1232 : 0, NULL);

	return n < 0 ? 0 : (size_t)n;
}

static union net_addr
addr(const char *s)
{
	union net_addr a;

	net_addr_parse(s, 53, &a, NULL);
	return a;
}

/* Ask l for name/type from "from"; parse the answer into a. */
static int
ask(struct srv_leak *l, const char *from, const char *name, uint16_t type,
    int edns, uint64_t now, struct leakz_answer *a)
{
	uint8_t q[1500], out[1500];
	union net_addr f = addr(from);
	size_t ql = query(q, name, type, edns, 4242);
	long n = srv_leak_handle(l, q, ql, &f, now, out, sizeof out);
	struct err e = {""};

	if (n <= 0)
		return (int)n - 10;
	if (leakz_answer_parse(out, (size_t)n, 4242, name, type, a, &e) != 0) {
		tap_diag("parse: %s", e.msg);
		return -1;
	}
	return (int)n;
}

static void
codec(void)
{
	char buf[300];
	struct err e = {""};

	classify("n0-abc.tok12345.leak.example", LEAKZ_NAME, "tok12345", 0);
	classify(
	    "n63-z9.abcdefgh0123.leak.example", LEAKZ_NAME, "abcdefgh0123", 63);
	classify("r-q1.tok12345.leak.example", LEAKZ_REPORT, "tok12345", -1);
	classify("leak.example", LEAKZ_OTHER, NULL, -1);
	classify("whoami.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("tok12345.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("n64-abc.tok12345.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("n07-abc.tok12345.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("n1-abc.short.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("n1-.tok12345.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("x.n1-a.tok12345.leak.example", LEAKZ_OTHER, NULL, -1);
	classify("n1-abc.tok12345.notleak.example", LEAKZ_OUT, NULL, -1);
	classify("xleak.example", LEAKZ_OUT, NULL, -1);
	classify("example", LEAKZ_OUT, NULL, -1);
	tap_ok(
	    leakz_name(buf, sizeof buf, ZONE, "tok12345", 5, "r4nd", &e) == 0 &&
		strcmp(buf, "n5-r4nd.tok12345.leak.example") == 0,
	    "test name written: %s", buf);
	tap_ok(
	    leakz_name(buf, sizeof buf, ZONE, "tok12345", -1, "x", &e) == 0 &&
		strcmp(buf, "r-x.tok12345.leak.example") == 0,
	    "report name written: %s", buf);
	tap_ok(leakz_name(buf, sizeof buf, ZONE, "TOK", 1, "x", &e) == -1,
	    "a bad token refused: %s", e.msg);
	tap_ok(leakz_name(buf, sizeof buf, ZONE, "tok12345", 64, "x", &e) == -1,
	    "name 64 refused: %s", e.msg);
}

static void
server(void)
{
	struct srv_leak *l = srv_leak_new(ZONE);
	struct leakz_answer a;
	struct leakz_entry en[LEAKZ_REPORT_MAX];
	size_t n, total;
	struct err e = {""};
	char name[300];
	int i, rc;

	tap_ok(srv_leak_new("") == NULL, "no zone: no leak zone");
	tap_is_int(ask(NULL, "10.0.0.1", "whoami." ZONE, DNS_TYPE_A, 0, 0, &a),
	    -11, "NULL: not handled");
	rc = ask(l, "10.0.0.1", "whoami." ZONE, DNS_TYPE_A, 0, 0, &a);
	tap_ok(rc > 0 && a.naddr == 1 && strcmp(a.addr[0], "10.0.0.1") == 0 &&
		(a.flags & DNS_F_AA),
	    "whoami A: the asker's address, authoritative");
	rc = ask(l, "[2001:db8::5]", "whoami." ZONE, DNS_TYPE_AAAA, 1, 0, &a);
	tap_ok(rc > 0 && a.naddr == 1 && strcmp(a.addr[0], "2001:db8::5") == 0,
	    "whoami AAAA from an IPv6 asker");
	rc = ask(l, "10.0.0.1", "whoami." ZONE, DNS_TYPE_AAAA, 1, 0, &a);
	tap_ok(rc > 0 && a.naddr == 0 && a.rcode == 0,
	    "AAAA to an IPv4 asker: NODATA");
	rc =
	    ask(l, "[::ffff:10.0.0.9]", "Whoami." ZONE, DNS_TYPE_TXT, 1, 0, &a);
	tap_ok(rc > 0 && a.ntxt == 1 && strcmp(a.txt[0], "10.0.0.9") == 0,
	    "TXT: the address as text; IPv4-mapped is IPv4; case ignored");
	tap_is_int(ask(l, "10.0.0.1", "t.example", DNS_TYPE_A, 0, 0, &a), -11,
	    "outside the zone: left to the tunnel");

	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "n%d-abc.tok12345." ZONE, i);
		ask(l, i < 4 ? "10.0.0.1" : "[2001:db8::5]", name, DNS_TYPE_A,
		    1, 1000, &a);
		ask(l, i < 4 ? "10.0.0.1" : "[2001:db8::5]", name,
		    DNS_TYPE_AAAA, 1, 1000, &a);
	}
	ask(l, "10.0.0.2", "n2-zz.tok12345." ZONE, DNS_TYPE_A, 1, 1000, &a);
	rc =
	    ask(l, "10.0.0.3", "r-x.tok12345." ZONE, DNS_TYPE_TXT, 1, 2000, &a);
	tap_ok(rc > 0 &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0,
	    "report read%s%s", e.msg[0] ? ": " : "", e.msg);
	tap_ok(n == 3 && total == 3 && strcmp(en[0].addr, "10.0.0.1") == 0 &&
		en[0].count == 8 && en[0].mask == 0xf && en[0].family == 4 &&
		strcmp(en[1].addr, "2001:db8::5") == 0 && en[1].count == 4 &&
		en[1].mask == 0x30 && en[1].family == 6 &&
		strcmp(en[2].addr, "10.0.0.2") == 0 && en[2].mask == 0x4,
	    "report: each address with its count and name mask");
	rc =
	    ask(l, "10.0.0.3", "r-c.tok12345." ZONE, DNS_TYPE_CAA, 1, 2000, &a);
	tap_ok(rc > 0 && a.ntxt == 4 &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0 &&
		n == 3 && strcmp(en[1].addr, "2001:db8::5") == 0 &&
		en[1].mask == 0x30,
	    "the same report as one CAA RR (tag leak1)%s%s",
	    e.msg[0] ? ": " : "", e.msg);
	rc = ask(l, "10.0.0.3", "whoami." ZONE, DNS_TYPE_CAA, 1, 2000, &a);
	tap_ok(rc > 0 && a.ntxt == 0 && a.naddr == 0 && a.rcode == 0,
	    "CAA for another name: NODATA");
	rc =
	    ask(l, "10.0.0.3", "r-y.other123." ZONE, DNS_TYPE_TXT, 0, 2000, &a);
	tap_ok(rc > 0 &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0 &&
		n == 0 && total == 0,
	    "unknown token: an empty report");
	tap_is_int((int)srv_leak_stats(l)->tokens, 1, "one token held");

	/* Many addresses: the report fits 512 bytes without EDNS. */
	for (i = 0; i < SRV_LEAK_ADDRS + 3; i++) {
		char from[64];

		snprintf(from, sizeof from,
		    "[2001:db8:aaaa:bbbb:cccc:dddd:%x:1]", i);
		ask(l, from, "n1-x.manyaddr1." ZONE, DNS_TYPE_A, 0, 3000, &a);
	}
	tap_is_int((int)srv_leak_stats(l)->addr_full, 3,
	    "addresses beyond the bound are counted, not kept");
	rc = ask(
	    l, "10.0.0.3", "r-z.manyaddr1." ZONE, DNS_TYPE_TXT, 0, 3000, &a);
	tap_ok(rc > 0 && rc <= 512 &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0 &&
		total == SRV_LEAK_ADDRS && n < total && n > 0,
	    "without EDNS: %zu of %zu entries in %d bytes", n, total, rc);
	rc = ask(
	    l, "10.0.0.3", "r-z.manyaddr1." ZONE, DNS_TYPE_TXT, 1, 3000, &a);
	tap_ok(rc > 512 && rc <= LEAKZ_UDP_MAX &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0 &&
		n > 8,
	    "with EDNS 1232: %zu entries in %d bytes", n, rc);

	/* Expiry and the bound on tokens. */
	ask(l, "10.0.0.1", "whoami." ZONE, DNS_TYPE_A, 0,
	    1000 + (uint64_t)SRV_LEAK_TTL_S * 1000000, &a);
	tap_is_int((int)srv_leak_stats(l)->tokens, 1,
	    "the first token expired after its lifetime");
	ask(l, "10.0.0.1", "whoami." ZONE, DNS_TYPE_A, 0,
	    3000 + (uint64_t)SRV_LEAK_TTL_S * 1000000, &a);
	tap_is_int((int)srv_leak_stats(l)->tokens, 0, "... then the second");
	for (i = 0; i < SRV_LEAK_TOKENS + 10; i++) {
		snprintf(name, sizeof name, "n0-a.tk%07d." ZONE, i);
		ask(l, "10.0.0.1", name, DNS_TYPE_A, 0, 4000000000ULL, &a);
	}
	tap_is_int(
	    (int)srv_leak_stats(l)->tokens, SRV_LEAK_TOKENS, "tokens bounded");
	tap_is_int((int)srv_leak_stats(l)->evicted, 10, "the oldest evicted");
	rc = ask(l, "10.0.0.3", "r-a.tk0000000." ZONE, DNS_TYPE_TXT, 0,
	    4000000000ULL, &a);
	tap_ok(rc > 0 &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0 &&
		total == 0,
	    "an evicted token reports nothing");
	snprintf(name, sizeof name, "r-a.tk%07d." ZONE, SRV_LEAK_TOKENS + 9);
	rc = ask(l, "10.0.0.3", name, DNS_TYPE_TXT, 0, 4000000000ULL, &a);
	tap_ok(rc > 0 &&
		leakz_report_parse(&a, en, LEAKZ_REPORT_MAX, &n, &total, &e) ==
		    0 &&
		total == 1,
	    "the newest is still there");
	srv_leak_free(l);
}

static void
bad_answer(const uint8_t *m, size_t len, const char *why)
{
	struct leakz_answer a;
	struct err e = {""};
	int rc = leakz_answer_parse(
	    m, len, 7, "whoami.leak.example", DNS_TYPE_TXT, &a, &e);

	tap_ok(rc == -1 && strstr(e.msg, why) != NULL,
	    "answer refused (%s): %s", why, e.msg);
}

static void
bad_report(const char *const *txt, size_t n, const char *why)
{
	struct leakz_answer a;
	struct leakz_entry en[4];
	size_t k, total;
	struct err e = {""};
	size_t i;

	memset(&a, 0, sizeof a);
	for (i = 0; i < n; i++)
		snprintf(a.txt[i], sizeof a.txt[i], "%s", txt[i]);
	a.ntxt = n;
	tap_ok(leakz_report_parse(&a, en, 4, &k, &total, &e) == -1 &&
		strstr(e.msg, why) != NULL,
	    "report refused (%s): %s", why, e.msg);
}

static void
readers(void)
{
	uint8_t q[600], m[600];
	size_t ql = query(q, "whoami.leak.example", DNS_TYPE_TXT, 0, 7);

	memcpy(m, q, ql);
	bad_answer(m, 5, "shorter than a DNS header");
	bad_answer(m, ql, "not an answer");
	m[2] |= 0x80;
	{
		struct leakz_answer a;
		struct err e = {""};

		tap_ok(leakz_answer_parse(m, ql, 7, "WHOAMI.leak.example",
			   DNS_TYPE_TXT, &a, &e) == 0 &&
			a.naddr == 0 && a.ntxt == 0,
		    "an empty answer reads (question case ignored)");
	}
	m[0] ^= 1;
	bad_answer(m, ql, "another query's id");
	m[0] ^= 1;
	m[13] = 'x';
	bad_answer(m, ql, "another question");
	m[13] = q[13];
	m[7] = 1; /* one answer that is not there */
	bad_answer(m, ql, "answer 0");
	/* A TXT RR whose string runs past its record. */
	memcpy(m + ql,
	    "\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x00\x00\x03\x05"
	    "ab",
	    15);
	bad_answer(m, ql + 15, "TXT string runs past");
	/* A pointer loop. */
	memcpy(m + ql, "\xc0\x2e", 2);
	bad_answer(m, ql + 2, "name does not parse");
	/* An A record of 5 bytes. */
	memcpy(m + ql,
	    "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x05\x01\x02\x03\x04"
	    "\x05",
	    17);
	bad_answer(m, ql + 17, "A of 5 bytes");

	{
		const char *a[] = {"hello"};
		const char *b[] = {"leak1 addrs=1 shown=001"};
		const char *c[] = {"leak1 addrs=1 shown=001", "10.0.0.1 3"};
		const char *d[] = {"leak1 addrs=1 shown=001", "foo 3 1"};
		const char *f[] = {"leak1 addrs=1 shown=001", "10.0.0.1 0 1"};
		const char *g[] = {"leak1 addrs=1 shown=001", "10.0.0.1 3 0"};
		const char *h[] = {"leak1 addrs=1 shown=001", "10.0.0.1 3 xyz"};
		const char *i[] = {"leak1 addrs=0 shown=001", "10.0.0.1 3 1"};
		const char *j[] = {"leak1 addrs=1 shown=001", "10.0.0.1 3 1 x"};

		bad_report(a, 1, "no leak1 header");
		bad_report(a, 0, "no report data");
		bad_report(b, 1, "has 0");
		bad_report(c, 2, "is not \"ADDRESS COUNT MASK\"");
		bad_report(d, 2, "not an address");
		bad_report(f, 2, "bad count");
		bad_report(g, 2, "bad name mask");
		bad_report(h, 2, "bad name mask");
		bad_report(i, 2, "says 1 of 0");
		bad_report(j, 2, "is not \"ADDRESS COUNT MASK\"");
	}
}

/* One whoami answer: rcode, TXT strings, A/AAAA texts -> ip or error. */
static void
whoami_case(unsigned rcode, const char *const *txt, size_t ntxt,
    const char *addr, const char *want_ip, const char *want_err)
{
	struct leakz_answer a;
	struct err e = {""};
	char ip[NET_ADDR_STRLEN];
	size_t i;
	int rc;

	memset(&a, 0, sizeof a);
	a.rcode = rcode;
	for (i = 0; i < ntxt; i++)
		snprintf(a.txt[i], sizeof a.txt[i], "%s", txt[i]);
	a.ntxt = ntxt;
	if (addr != NULL) {
		snprintf(a.addr[0], sizeof a.addr[0], "%s", addr);
		a.naddr = 1;
	}
	rc = leakz_whoami_addr(&a, ip, sizeof ip, &e);
	if (want_err == NULL)
		tap_ok(rc == 0 && strcmp(ip, want_ip) == 0,
		    "whoami %s%s -> %s (%s)", ntxt ? txt[0] : "",
		    addr ? addr : "", want_ip, ip);
	else
		tap_ok(rc == -1 && strstr(e.msg, want_err) != NULL,
		    "whoami %s: %s (%s)", ntxt ? txt[0] : "-", want_err, e.msg);
}

/* The whoami reader on the shapes the public names answer. */
static void
whoami(void)
{
	const char *g[] = {"74.125.1.2"};
	const char *ak[] = {"ns", "192.0.2.1"};
	const char *dc[] = {"Resolver IP: 192.0.2.7"};
	const char *v6[] = {
	    "edns0-client-subnet 2001:DB8::/56", "2001:db8:0:0::53"};
	const char *bad[] = {"hello", "1.2.3", "::g"};

	whoami_case(0, g, 1, NULL, "74.125.1.2", NULL);
	whoami_case(0, ak, 2, NULL, "192.0.2.1", NULL);
	whoami_case(0, dc, 1, NULL, "192.0.2.7", NULL);
	whoami_case(0, v6, 2, NULL, "2001:db8::53", NULL);
	whoami_case(0, NULL, 0, "10.0.0.9", "10.0.0.9", NULL);
	whoami_case(0, bad, 3, NULL, "", "no address in the answer");
	whoami_case(0, NULL, 0, NULL, "", "no address in the answer");
	whoami_case(5, NULL, 0, NULL, "", "rcode 5 (REFUSED)");
	whoami_case(2, g, 1, NULL, "", "rcode 2 (SERVFAIL)");
}

int
main(void)
{
	codec();
	server();
	readers();
	whoami();
	return tap_done();
}
