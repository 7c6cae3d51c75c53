/* SPDX-License-Identifier: MIT */
/*
 * test-resolvers.c — resolver list reader: every line form, comments,
 * prefix expansion and its cap, duplicate removal in first-seen order,
 * IPv6, bad lines in lenient and strict mode, and a generated
 * 1,000,000-line file streamed through rl_count.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/resolvers.h"
#include "tests/tap.h"

struct msgs {
	char list[16][ERR_MSG_MAX];
	int n;
};

static void
collect(void *arg, const char *msg)
{
	struct msgs *m = arg;

	if (m->n < 16)
		snprintf(m->list[m->n], sizeof m->list[0], "%s", msg);
	m->n++;
}

static void
fmt(const union net_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof ip);
		snprintf(buf, len, "%s:%u", ip, ntohs(a->in.sin_port));
	} else {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof ip);
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
	}
}

struct sinks {
	struct msgs *errs;
	struct msgs *warns;
};

static void
collect_err(void *arg, const char *msg)
{
	struct sinks *k = arg;

	if (k->errs != NULL)
		collect(k->errs, msg);
}

static void
collect_warn(void *arg, const char *msg)
{
	struct sinks *k = arg;

	if (k->warns != NULL)
		collect(k->warns, msg);
}

/*
 * Read text fully; the addresses joined by spaces into out (capped), the
 * count returned. Errors and warnings go to errs / warns (may be NULL);
 * in strict mode the error rl_next returns is appended to errs too.
 */
static long
run(const char *text, int strict, char *out, size_t outlen, struct msgs *errs,
    struct msgs *warns, struct rl_stats *st)
{
	struct sinks k = {errs, warns};
	struct rl_opts o = {.strict = strict,
	    .on_error = collect_err,
	    .on_warning = collect_warn,
	    .arg = &k};
	struct rl_reader *r;
	union net_addr a;
	struct err e = {""};
	long n = 0;
	int rc;

	out[0] = '\0';
	rl_open_mem("t.txt", text, strlen(text), &o, &r, &e);
	while ((rc = rl_next(r, &a, &e)) == 1) {
		char b[80];
		size_t l = strlen(out);

		fmt(&a, b, sizeof b);
		if (l + strlen(b) + 2 < outlen)
			snprintf(out + l, outlen - l, "%s%s", l ? " " : "", b);
		n++;
	}
	if (rc == -1 && errs != NULL)
		collect(errs, e.msg);
	if (st != NULL)
		*st = *rl_stats(r);
	rl_close(r);
	return n;
}

struct form {
	const char *line;
	const char *want;
};

static const struct form forms[] = {
    {"8.8.8.8", "8.8.8.8:53"},
    {"1.1.1.1:5353", "1.1.1.1:5353"},
    {"  9.9.9.9:53  ", "9.9.9.9:53"},
    {"2001:4860:4860::8888", "[2001:4860:4860::8888]:53"},
    {"[2001:4860:4860::8844]:5300", "[2001:4860:4860::8844]:5300"},
    {"[2001:db8::1]", "[2001:db8::1]:53"},
    {"::ffff:192.0.2.1", "192.0.2.1:53"},
    {"[1.2.3.4]:54", "1.2.3.4:54"},
    {"192.168.1.0/30", "192.168.1.1:53 192.168.1.2:53"},
    {"192.168.1.0/30:5353", "192.168.1.1:5353 192.168.1.2:5353"},
    {"192.168.1.7/30", "192.168.1.5:53 192.168.1.6:53"},
    {"10.0.0.0/31", "10.0.0.0:53 10.0.0.1:53"},
    {"10.0.0.9/32:99", "10.0.0.9:99"},
    {"2001:db8::/126",
	"[2001:db8::1]:53 [2001:db8::2]:53 "
	"[2001:db8::3]:53"},
    {"[2001:db8::/127]:5353", "[2001:db8::]:5353 [2001:db8::1]:5353"},
    {"2001:db8::/128:8053", "[2001:db8::]:8053"},
    {"8.8.4.4 # google", "8.8.4.4:53"},
    {"8.8.4.4#x", "8.8.4.4:53"},
    {"8.8.4.4:53\r", "8.8.4.4:53"},
    {"10.1.1.255/30", "10.1.1.253:53 10.1.1.254:53"},
    {"0.0.0.0/31", "0.0.0.0:53 0.0.0.1:53"},
};

static void
line_forms(void)
{
	size_t i;

	for (i = 0; i < nitems(forms); i++) {
		char out[512];
		struct msgs errs = {.n = 0};

		run(forms[i].line, 1, out, sizeof out, &errs, NULL, NULL);
		tap_is_str(errs.n ? errs.list[0] : out, forms[i].want,
		    "line form '%s'", forms[i].line);
	}
}

static void
comments_and_blanks(void)
{
	char out[512];
	struct msgs errs = {.n = 0};
	struct rl_stats st;
	long n;

	n = run("# header\n\n   \n\t# indented comment\n1.1.1.1 # one\n"
		"\r\n#2.2.2.2\n3.3.3.3\n",
	    1, out, sizeof out, &errs, NULL, &st);
	tap_is_int(n, 2, "comments and blanks give two addresses");
	tap_is_str(out, "1.1.1.1:53 3.3.3.3:53", "the right two");
	tap_is_int(errs.n, 0, "no errors");
	tap_is_int(st.lines, 8, "eight lines counted");
	tap_is_int(st.entries, 2, "two entry lines");
	n = run("", 1, out, sizeof out, &errs, NULL, &st);
	tap_is_int(n, 0, "empty input: no addresses");
	n = run("4.4.4.4", 1, out, sizeof out, &errs, NULL, &st);
	tap_is_str(out, "4.4.4.4:53", "last line without newline is read");
}

static void
expansion(void)
{
	char out[256];
	struct msgs errs = {.n = 0}, warns = {.n = 0};
	struct rl_stats st;

	tap_is_int(run("192.0.2.0/24", 1, out, sizeof out, &errs, &warns, &st),
	    254, "/24 expands to 254 hosts");
	tap_is_int(warns.n, 0, "no warning for /24");
	tap_is_int(run("192.0.0.0/16", 1, out, sizeof out, &errs, &warns, &st),
	    65534, "/16 expands to 65534 hosts, under the cap");
	tap_is_int(warns.n, 0, "no warning for /16");
	tap_is_int(
	    run("2001:db8::/112", 1, out, sizeof out, &errs, &warns, &st),
	    65535, "IPv6 /112 expands to 65535 hosts");
	tap_is_int(run("10.0.0.0/8", 1, out, sizeof out, &errs, &warns, &st),
	    RL_PREFIX_CAP, "/8 capped at 65536");
	tap_is_int(st.capped, 1, "capped counter");
	tap_is_int(warns.n, 1, "one warning");
	tap_is_str(warns.list[0],
	    "t.txt:1: 10.0.0.0/8 has 16777216 "
	    "addresses, capped to 65536",
	    "cap message");
	tap_ok(strncmp(out, "10.0.0.1:53 10.0.0.2:53", 23) == 0,
	    "capped expansion starts after the network address");
	warns.n = 0;
	run("1.1.1.1\n2001:db8:1::/64:5353\n", 1, out, sizeof out, &errs,
	    &warns, &st);
	tap_is_str(warns.list[0],
	    "t.txt:2: 2001:db8:1::/64 has 2^64 "
	    "addresses, capped to 65536",
	    "IPv6 cap message");
	tap_is_int(st.addresses, 1 + RL_PREFIX_CAP, "IPv6 /64 capped");
	warns.n = 0;
	tap_is_int(run("0.0.0.0/0", 1, out, sizeof out, &errs, &warns, &st),
	    RL_PREFIX_CAP, "/0 capped");
	tap_is_str(warns.list[0],
	    "t.txt:1: 0.0.0.0/0 has 4294967296 "
	    "addresses, capped to 65536",
	    "/0 message");
	warns.n = 0;
	tap_is_int(run("10.0.0.0/15", 1, out, sizeof out, &errs, &warns, &st),
	    RL_PREFIX_CAP, "/15 (131070 hosts) capped");
	{
		struct rl_opts o = {.prefix_cap = 3};
		struct rl_reader *r;
		union net_addr a;
		struct err e;
		long n = 0;

		rl_open_mem("t.txt", "10.0.0.0/24\n", 12, &o, &r, &e);
		while (rl_next(r, &a, &e) == 1)
			n++;
		tap_is_int(n, 3, "a smaller prefix_cap is honoured");
		rl_close(r);
	}
}

static void
dedup(void)
{
	char out[512];
	struct msgs errs = {.n = 0};
	struct rl_stats st;

	run("1.1.1.1\n2.2.2.2\n1.1.1.1\n1.1.1.1:54\n1.1.1.1:53\n2.2.2.2:53\n"
	    "::ffff:2.2.2.2\n",
	    1, out, sizeof out, &errs, NULL, &st);
	tap_is_str(out, "1.1.1.1:53 2.2.2.2:53 1.1.1.1:54",
	    "duplicates dropped, first order kept, port matters");
	tap_is_int(st.duplicates, 4, "four duplicates counted");
	run("192.0.2.2\n192.0.2.0/29\n192.0.2.4\n", 1, out, sizeof out, &errs,
	    NULL, &st);
	tap_is_str(out,
	    "192.0.2.2:53 192.0.2.1:53 192.0.2.3:53 192.0.2.4:53 "
	    "192.0.2.5:53 192.0.2.6:53",
	    "prefix overlaps a single address");
	tap_is_int(st.duplicates, 2, "two overlaps dropped");
	run("[2001:db8::1]:53\n2001:db8::1\n2001:DB8:0::1\n", 1, out,
	    sizeof out, &errs, NULL, &st);
	tap_is_str(out, "[2001:db8::1]:53", "IPv6 spellings are one address");
}

struct badline {
	const char *line;
	const char *msg;
};

static const struct badline bads[] = {
    {"dns.google", "t.txt:1: bad address: dns.google"},
    {"1.2.3.999", "t.txt:1: bad address: 1.2.3.999"},
    {"1.2.3", "t.txt:1: bad address: 1.2.3"},
    {"1.2.3.4:0", "t.txt:1: bad port: 0"},
    {"1.2.3.4:65536", "t.txt:1: bad port: 65536"},
    {"1.2.3.4:", "t.txt:1: bad port: "},
    {"1.2.3.4:dns", "t.txt:1: bad port: dns"},
    {"1.2.3.4/33", "t.txt:1: bad prefix length /33 (0..32)"},
    {"1.2.3.4/", "t.txt:1: bad prefix length / (0..32)"},
    {"2001:db8::/129", "t.txt:1: bad prefix length /129 (0..128)"},
    {"[2001:db8::1", "t.txt:1: missing ']'"},
    {"[2001:db8::1]53", "t.txt:1: expected ':PORT' after ']'"},
    {"[2001:db8::1]:99999", "t.txt:1: bad port: 99999"},
    {"[nothing]:53", "t.txt:1: bad address: nothing"},
    {"2001:db8::1::2:53",
	"t.txt:1: bad address: 2001:db8::1::2:53 (an "
	"IPv6 address with a port needs brackets: [ADDR]:PORT)"},
    {"fe80::1%eth0",
	"t.txt:1: bad address: fe80::1%eth0 (an IPv6 "
	"address with a port needs brackets: [ADDR]:PORT)"},
    {"8.8.8.8 53", "t.txt:1: one entry per line expected: 8.8.8.8 53"},
    {"8.8.8.8,1.1.1.1", "t.txt:1: bad address: 8.8.8.8,1.1.1.1"},
};

static void
bad_lines(void)
{
	size_t i;
	char out[512];
	struct msgs errs;
	struct rl_stats st;
	long n;

	for (i = 0; i < nitems(bads); i++) {
		errs.n = 0;
		n = run(bads[i].line, 0, out, sizeof out, &errs, NULL, &st);
		tap_ok(n == 0 && st.bad_lines == 1 && errs.n == 1,
		    "bad line '%s' rejected", bads[i].line);
		tap_is_str(errs.list[0], bads[i].msg, "message for '%s'",
		    bads[i].line);
	}
	/* Lenient: every bad line reported, good lines still read. */
	errs.n = 0;
	n = run("1.1.1.1\nbad1\n2.2.2.2\n# ok\n3.3.3.3:0\n4.4.4.4\n", 0, out,
	    sizeof out, &errs, NULL, &st);
	tap_is_int(n, 3, "lenient: three good addresses");
	tap_is_int(errs.n, 2, "lenient: two errors reported");
	tap_is_str(errs.list[0], "t.txt:2: bad address: bad1", "first error");
	tap_is_str(errs.list[1], "t.txt:5: bad port: 0", "second error");
	/* Strict: stops at the first. */
	errs.n = 0;
	n = run(
	    "1.1.1.1\nbad1\n2.2.2.2\n", 1, out, sizeof out, &errs, NULL, &st);
	tap_is_int(n, 1, "strict: stops after one address");
	tap_is_str(errs.n == 2 ? errs.list[1] : "",
	    "t.txt:2: bad address: "
	    "bad1",
	    "strict: rl_next error names file:line");
	/* Binary junk is reported, not echoed raw. */
	errs.n = 0;
	{
		static const char junk[] = "\x01\xff\x7f";

		run(junk, 0, out, sizeof out, &errs, NULL, &st);
		tap_is_str(errs.list[0], "t.txt:1: bad address: ???",
		    "non-printable bytes are masked in messages");
	}
}

static void
parse_entry_api(void)
{
	struct rl_entry ent;
	struct err e;

	tap_ok(rl_parse_entry("198.51.100.7/24:5353", 53, &ent, &e) == 0 &&
		ent.prefix_len == 24 && ent.port == 5353 &&
		ntohl(ent.addr.in.sin_addr.s_addr) == 0xc6336400,
	    "rl_parse_entry: prefix masked, port kept");
	tap_ok(rl_parse_entry("198.51.100.7", 5300, &ent, &e) == 0 &&
		ent.prefix_len == -1 && ent.port == 5300 &&
		ntohs(ent.addr.in.sin_port) == 5300,
	    "rl_parse_entry: default port applied");
	tap_ok(rl_parse_entry("", 53, &ent, &e) == -1 &&
		strcmp(e.msg, "empty entry") == 0,
	    "rl_parse_entry: empty");
}

static void
big_file(void)
{
	char path[4096];
	int fd =
	    mkstemp(tap_tmppath(path, sizeof path, "test-resolvers-XXXXXX"));
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	uint64_t count = 0, want = 0;
	struct rl_stats st;
	struct err e = {""};
	struct rusage ru;
	long i;

	if (f == NULL) {
		tap_ok(0, "cannot create %s", path);
		return;
	}
	/*
	 * 1,000,000 lines: mostly distinct IPv4 (some with a port), every
	 * 16th line repeats an earlier one, every 100th is a comment, and
	 * every 1000th an IPv6 address.
	 */
	for (i = 0; i < 1000000; i++) {
		uint32_t v = 0x0a000000u + (uint32_t)i;

		if (i % 100 == 99) {
			fprintf(f, "# comment %ld\n", i);
		} else if (i % 16 == 15) {
			v -= 7;
			fprintf(f, "%u.%u.%u.%u\n", v >> 24, (v >> 16) & 255,
			    (v >> 8) & 255, v & 255);
		} else if (i % 1000 == 0) {
			fprintf(
			    f, "[2001:db8::%lx:%lx]:53\n", i >> 16, i & 0xffff);
			want++;
		} else if (i % 3 == 0) {
			fprintf(f, "%u.%u.%u.%u:5353\n", v >> 24,
			    (v >> 16) & 255, (v >> 8) & 255, v & 255);
			want++;
		} else {
			fprintf(f, "%u.%u.%u.%u\n", v >> 24, (v >> 16) & 255,
			    (v >> 8) & 255, v & 255);
			want++;
		}
	}
	fclose(f);
	/*
	 * A repeat of line i-7 is a duplicate only when that line was a
	 * plain port-53 IPv4 line that is not itself a comment.
	 */
	for (i = 0; i < 1000000; i++) {
		long j = i - 7;

		if (i % 100 == 99 || i % 16 != 15)
			continue;
		if (j % 100 == 99 || j % 16 == 15 || j % 1000 == 0 ||
		    j % 3 == 0)
			want++;
	}
	tap_ok(rl_count(path, NULL, &count, &st, &e) == 0,
	    "1M-line file "
	    "streams (%s)",
	    e.msg);
	tap_is_int(st.lines, 1000000, "all 1,000,000 lines read");
	tap_is_int(count, want, "distinct address count");
	tap_is_int(st.duplicates + st.addresses, st.entries,
	    "every entry is either new or a duplicate");
	tap_is_int(st.bad_lines, 0, "no bad lines");
	getrusage(RUSAGE_SELF, &ru);
	tap_ok(ru.ru_maxrss < 200 * 1024, "peak memory %ld KiB stays bounded",
	    ru.ru_maxrss);
	unlink(path);
	tap_ok(rl_count(path, NULL, &count, NULL, &e) == -1 &&
		strstr(e.msg, "No such file") != NULL,
	    "missing file: %s", e.msg);
}

int
main(void)
{
	line_forms();
	comments_and_blanks();
	expansion();
	dedup();
	bad_lines();
	parse_entry_api();
	big_file();
	return tap_done();
}
