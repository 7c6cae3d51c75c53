/* SPDX-License-Identifier: MIT */
/*
 * test-sinks.c — golden-file tests of the output sinks (reports/sink.h).
 *
 * A fixed set of results (commas, quotes, newlines, tabs, UTF-8, invalid
 * UTF-8, IPv6, odd ports, duplicates) goes through every format; each
 * output is compared byte for byte with tests/golden/sinks.EXT (txt for
 * the text format, else the format name). On a
 * mismatch the actual output is written to $BUILD/golden-actual/ and the
 * first differing line is shown, with the diff command to run.
 *
 * After a deliberate format change, regenerate the goldens with
 *	MDNS_UPDATE_GOLDEN=1 build/tests/test-sinks
 * and review the diff before committing.
 *
 * Beyond byte equality the outputs are read back: the JSON goldens are
 * parsed with jansson and the CSV with a small RFC 4180 reader, and the
 * tricky strings must come back exactly as they went in.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common/result.h"
#include "common/util.h"
#include "reports/sink.h"
#include "tests/tap.h"

#define NRES 6

static const char *ev_tricky =
    "sent \"A? x7f3a,1.t.example\" to 198.51.100.7:5353\n"
    "got NXDOMAIN, AA=1, \"authority\" SOA";
static const char *ev_utf8 = "réponse ✓ reçue\tTXT 220 B, 0x20 ok";
static const char *ev_bad = "raw \xff\xfe bytes";

static void
make_results(struct res_resolver *r, struct res_check *c, struct res_run *run)
{
	int i;

	for (i = 0; i < NRES; i++)
		res_resolver_init(&r[i]);

	/* 0: a full survivor */
	snprintf(r[0].addr, sizeof r[0].addr, "203.0.113.10");
	snprintf(r[0].domain, sizeof r[0].domain, "t.example");
	r[0].stage = RES_STAGE_BURST;
	r[0].verdict = RES_VERDICT_OK;
	r[0].reason = RES_R_OK;
	r[0].rtt_us = 41250;
	r[0].upload_mtu = 128;
	r[0].download_mtu = 940;
	r[0].shape.longest_name = 253;
	r[0].shape.max_labels = 5;
	r[0].shape.case_preserved = RES_TRI_YES;
	r[0].shape.max_answer_bytes = 1232;
	r[0].shape.edns_size = 1232;
	r[0].shape.tc_seen = RES_TRI_NO;
	r[0].shape.tcp_ok = RES_TRI_UNKNOWN;
	r[0].policy.present = 1;
	r[0].policy.comp_pair = 0x11;
	r[0].policy.max_dup = 5;
	r[0].policy.max_setup_dup = 6;
	r[0].policy.max_upload_mtu = 150;
	r[0].policy.max_download_mtu = 4096;
	r[0].policy.max_workers = 255;
	r[0].policy.min_ping_ms = 50;
	r[0].policy.max_batch = 20;
	r[0].policy.max_arq_window = 8000;
	r[0].policy.max_nack_gap = 255;
	r[0].policy.min_comp_size = 120;
	r[0].policy.min_rto_ms = 50;
	r[0].burst_sent = 200;
	r[0].burst_ok = 193;
	r[0].burst_qps = 96.54;
	res_textf(r[0].evidence, sizeof r[0].evidence,
	    "MTU up %d down %d; SESSION_ACCEPT sid %d", 128, 940, 7);
	r[0].at_ms = 1795000000123LL;

	/* 1: odd port, tricky evidence */
	snprintf(r[1].addr, sizeof r[1].addr, "198.51.100.7");
	r[1].port = 5353;
	snprintf(r[1].domain, sizeof r[1].domain, "t.example");
	r[1].stage = RES_STAGE_REACH;
	r[1].reason = RES_R_NXDOMAIN;
	r[1].rtt_us = 999;
	res_textf(r[1].evidence, sizeof r[1].evidence, "%s", ev_tricky);
	r[1].at_ms = 1795000000456LL;

	/* 2: IPv6 survivor, UTF-8 domain and evidence, odd port */
	snprintf(r[2].addr, sizeof r[2].addr, "2001:db8::53");
	r[2].port = 8053;
	snprintf(r[2].domain, sizeof r[2].domain, "тест.example");
	r[2].stage = RES_STAGE_HANDSHAKE;
	r[2].verdict = RES_VERDICT_OK;
	r[2].reason = RES_R_OK;
	r[2].rtt_us = 120000;
	r[2].upload_mtu = 72;
	r[2].download_mtu = 220;
	r[2].shape.edns_size = 0;
	r[2].shape.case_preserved = RES_TRI_NO;
	r[2].shape.tc_seen = RES_TRI_YES;
	r[2].shape.tcp_ok = RES_TRI_NO;
	r[2].probes = 40;
	r[2].lost = 1;
	r[2].up_at_ceiling = RES_TRI_NO;
	r[2].down_at_ceiling = RES_TRI_YES;
	res_textf(r[2].evidence, sizeof r[2].evidence, "%s", ev_utf8);
	r[2].at_ms = 1795000000789LL;

	/* 3: same resolver as 0, another domain: once in ips */
	r[3] = r[0];
	snprintf(r[3].domain, sizeof r[3].domain, "t2.example");
	r[3].policy.present = 0;
	r[3].burst_sent = 0;
	r[3].burst_ok = 0;
	r[3].burst_qps = -1;
	/* ... where it loses probes: degraded */
	r[3].verdict = RES_VERDICT_DEGRADED;
	r[3].reason = RES_R_LOSS;
	r[3].probes = 31;
	r[3].lost = 9;
	r[3].up_at_ceiling = RES_TRI_YES;

	/* 4: nothing known, invalid UTF-8 from the wire */
	snprintf(r[4].addr, sizeof r[4].addr, "192.0.2.1");
	r[4].stage = RES_STAGE_LIVENESS;
	r[4].reason = RES_R_TIMEOUT;
	res_textf(r[4].evidence, sizeof r[4].evidence, "%s", ev_bad);

	/* 5: IPv6 on port 53, hijacked */
	snprintf(r[5].addr, sizeof r[5].addr, "2001:db8::1");
	snprintf(r[5].domain, sizeof r[5].domain, "t.example");
	r[5].stage = RES_STAGE_REACH;
	r[5].reason = RES_R_HIJACK;
	r[5].rtt_us = 3000;
	res_textf(r[5].evidence, sizeof r[5].evidence,
	    "A 10.10.34.36 for a TXT question");
	r[5].at_ms = 1795000001000LL;

	res_check_init(&c[0]);
	c[0].kind = RES_CHECK_IP;
	snprintf(c[0].subject, sizeof c[0].subject, "ipv4");
	c[0].verdict = RES_VERDICT_OK;
	c[0].reason = RES_R_OK;
	res_textf(c[0].detail, sizeof c[0].detail,
	    "exit 203.0.113.99 = expected, direct 192.0.2.200");
	res_textf(c[0].evidence, sizeof c[0].evidence,
	    "GET http://127.0.0.1:8080/ip via socks5 -> 203.0.113.99");
	c[0].at_ms = 1795000002000LL;
	res_check_init(&c[1]);
	c[1].kind = RES_CHECK_LEAK;
	c[1].verdict = RES_VERDICT_FAIL;
	c[1].reason = RES_R_LEAK;
	res_textf(c[1].detail, sizeof c[1].detail,
	    "resolver \"192.0.2.53\" saw names, outside the tunnel");
	res_textf(c[1].evidence, sizeof c[1].evidence, "line1\nline2");
	c[1].at_ms = 1795000003000LL;

	res_run_init(run);
	snprintf(run->command, sizeof run->command, "scan");
	snprintf(run->version, sizeof run->version, "0.1-test");
	snprintf(run->args_digest, sizeof run->args_digest,
	    "sha256:0123456789abcdef0123456789abcdef");
	run->started_ms = 1795000000000LL;
	run->ended_ms = 1795000004500LL;
	run->stages[RES_STAGE_LIVENESS] =
	    (struct res_stage_stats){6, 5, 1, 1200};
	run->stages[RES_STAGE_REACH] = (struct res_stage_stats){5, 3, 2, 800};
	run->stages[RES_STAGE_MTU] = (struct res_stage_stats){3, 3, 0, 1500};
	run->stages[RES_STAGE_HANDSHAKE] =
	    (struct res_stage_stats){3, 3, 0, 400};
	run->stages[RES_STAGE_BURST] = (struct res_stage_stats){1, 1, 0, 600};
}

/* rpt_set_width for the next render (check_width). */
static int render_width;

/* Run one format over the fixed set; returns malloc'd output. */
static char *
render(const char *fmt, int with_checks, size_t *len, int *rc)
{
	struct res_resolver r[NRES];
	struct res_check c[2];
	struct res_run run;
	struct err e = {""};
	struct rpt_sink *s;
	char *buf = NULL;
	FILE *f;
	int i;

	make_results(r, c, &run);
	f = open_memstream(&buf, len);
	s = rpt_open(fmt, f, &e);
	if (s == NULL) {
		fclose(f);
		free(buf);
		*rc = -1;
		return NULL;
	}
	rpt_set_width(s, render_width);
	*rc = 0;
	for (i = 0; i < NRES; i++)
		*rc |= rpt_result(s, &r[i]);
	if (with_checks) {
		*rc |= rpt_check(s, &c[0]);
		*rc |= rpt_check(s, &c[1]);
	}
	*rc |= rpt_summary(s, &run);
	*rc |= rpt_close(s, &e);
	fclose(f);
	if (*rc != 0)
		tap_diag("%s: %s", fmt, e.msg);
	return buf;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int
spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static const char *
top(void)
{
	const char *t = getenv("MDNS_TOP");

	return t && *t ? t : ".";
}

/* Show the first differing line of two texts as TAP comments. */
static void
show_diff(const char *want, const char *got)
{
	int line = 1;
	const char *w = want, *g = got, *we, *ge;

	for (;;) {
		we = strchr(w, '\n');
		ge = strchr(g, '\n');
		if (we == NULL)
			we = w + strlen(w);
		if (ge == NULL)
			ge = g + strlen(g);
		if (we - w != ge - g || memcmp(w, g, (size_t)(we - w)) != 0) {
			tap_diag("  first difference at line %d", line);
			tap_diag("  want: %.*s", (int)(we - w), w);
			tap_diag("  got:  %.*s", (int)(ge - g), g);
			return;
		}
		if (*we == '\0' || *ge == '\0')
			break;
		w = we + 1;
		g = ge + 1;
		line++;
	}
	tap_diag("  texts differ in length only (line %d)", line);
}

/*
 * Compare got with tests/golden/NAME (or rewrite it when
 * MDNS_UPDATE_GOLDEN=1); fmt names the output in messages.
 */
static void
golden_compare(const char *fmt, const char *name, const char *got, size_t glen)
{
	char path[4096], apath[4200], dir[4096];
	const char *build = getenv("BUILD");
	char *want;
	size_t wlen;
	int eq;

	snprintf(path, sizeof path, "%s/tests/golden/%s", top(), name);
	if (getenv("MDNS_UPDATE_GOLDEN") != NULL &&
	    strcmp(getenv("MDNS_UPDATE_GOLDEN"), "1") == 0) {
		tap_ok(spit(path, got, glen) == 0, "%s: golden rewritten %s",
		    fmt, path);
	}
	want = slurp(path, &wlen);
	eq = want != NULL && wlen == glen && memcmp(want, got, glen) == 0;
	if (!tap_ok(eq, "%s: output equals %s", fmt, path)) {
		snprintf(dir, sizeof dir, "%s/%s/golden-actual", top(),
		    build && *build ? build : "build");
		mkdir(dir, 0755);
		snprintf(apath, sizeof apath, "%s/%s", dir, name);
		spit(apath, got, glen);
		if (want == NULL)
			tap_diag("  cannot read %s: %s", path, strerror(errno));
		else
			show_diff(want, got);
		tap_diag("  actual output in %s; see: diff -u %s %s", apath,
		    path, apath);
		tap_diag("  if the change is intended: MDNS_UPDATE_GOLDEN=1 "
			 "build/tests/test-sinks");
	}
	free(want);
}

/* Compare the output of fmt with its golden file (or rewrite it). */
static char *
golden(const char *fmt, int with_checks, size_t *outlen)
{
	char name[64];
	char *got;
	size_t glen;
	int rc;

	got = render(fmt, with_checks, &glen, &rc);
	tap_ok(got != NULL && rc == 0, "%s: rendered without error", fmt);
	if (got == NULL)
		return NULL;
	/* The golden of the text format is sinks.txt. */
	snprintf(name, sizeof name, "sinks.%s",
	    strcmp(fmt, "text") == 0 ? "txt" : fmt);
	golden_compare(fmt, name, got, glen);
	*outlen = glen;
	return got;
}

/* ---- read-back checks ------------------------------------------------- */

static void
check_json_doc(const char *txt)
{
	json_error_t je;
	json_t *doc = json_loads(txt, 0, &je), *res, *o;

	if (!tap_ok(doc != NULL, "json: golden parses (%s line %d)", je.text,
		je.line))
		return;
	res = json_object_get(doc, "results");
	tap_is_int(json_array_size(res), NRES, "json: %d results", NRES);
	tap_is_int(json_array_size(json_object_get(doc, "checks")), 2,
	    "json: 2 checks");
	tap_is_str(json_string_value(
		       json_object_get(json_array_get(res, 1), "evidence")),
	    ev_tricky, "json: quotes, commas and newline round-trip");
	tap_is_str(json_string_value(
		       json_object_get(json_array_get(res, 2), "evidence")),
	    ev_utf8, "json: UTF-8 and tab round-trip");
	tap_is_str(json_string_value(
		       json_object_get(json_array_get(res, 4), "evidence")),
	    "raw \\xff\\xfe bytes",
	    "json: invalid UTF-8 escaped as \\xNN text");
	o = json_array_get(res, 0);
	tap_is_int(json_integer_value(json_object_get(
		       json_object_get(o, "policy"), "max_arq_window")),
	    8000, "json: policy field");
	tap_ok(json_is_null(json_object_get(json_array_get(res, 4), "rtt_us")),
	    "json: unknown number is null");
	tap_ok(json_is_false(json_object_get(
		   json_object_get(json_array_get(res, 2), "shape"),
		   "case_preserved")),
	    "json: case_preserved false");
	tap_is_int(
	    json_integer_value(json_object_get(
		json_object_get(
		    json_object_get(json_object_get(doc, "summary"), "stages"),
		    "reach"),
		"failed")),
	    2, "json: summary stage counts");
	json_decref(doc);
}

static void
check_jsonl(const char *txt)
{
	const char *p = txt, *nl;
	int lines = 0, bad = 0, results = 0, summaries = 0, checks = 0;
	json_error_t je;
	json_t *o;
	const char *type;

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			bad++;
			break;
		}
		lines++;
		o = json_loadb(p, (size_t)(nl - p), 0, &je);
		if (o == NULL || !json_is_object(o)) {
			bad++;
			json_decref(o);
			continue;
		}
		type = json_string_value(json_object_get(o, "type"));
		if (type && strcmp(type, "result") == 0)
			results++;
		else if (type && strcmp(type, "summary") == 0)
			summaries++;
		else if (type && strcmp(type, "check") == 0)
			checks++;
		else
			bad++;
		if (results == 2 && type && strcmp(type, "result") == 0)
			tap_is_str(
			    json_string_value(json_object_get(o, "evidence")),
			    ev_tricky, "jsonl: tricky evidence round-trips");
		json_decref(o);
	}
	tap_is_int(bad, 0, "jsonl: every line is one JSON object with a type");
	tap_ok(results == NRES && checks == 2 && summaries == 1,
	    "jsonl: %d results, %d checks, %d summary", results, checks,
	    summaries);
	tap_is_int(lines, NRES + 3, "jsonl: one object per line");
}

/*
 * A strict RFC 4180 reader for the test: returns the fields of record
 * number rec (0 = header) in fields[], their count, or -1 on bad syntax.
 */
static int
csv_record(const char *txt, int rec, char **fields, int max)
{
	const char *p = txt;
	int r = 0, n = 0;
	char *f;
	size_t o;

	for (;;) {
		f = xmalloc(strlen(txt) + 1);
		o = 0;
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0') {
					free(f);
					return -1;
				}
				if (*p == '"' && p[1] == '"')
					f[o++] = *p++;
				else if (*p == '"')
					break;
				else
					f[o++] = *p;
			}
			p++;
		} else
			while (*p != ',' && *p != '\r' && *p != '\n' &&
			    *p != '\0' && *p != '"')
				f[o++] = *p++;
		f[o] = '\0';
		if (r == rec && n < max)
			fields[n++] = f;
		else
			free(f);
		if (*p == ',') {
			p++;
			continue;
		}
		if (p[0] != '\r' || p[1] != '\n')
			return -1; /* RFC 4180: CRLF ends a record */
		p += 2;
		if (r == rec)
			return n;
		r++;
		if (*p == '\0')
			return -1;
	}
}

static void
check_csv(const char *txt)
{
	char *f[64];
	int n, nh, i, rows = 0;

	nh = csv_record(txt, 0, f, 64);
	tap_ok(nh > 10 && strcmp(f[0], "address") == 0 &&
		strcmp(f[nh - 1], "evidence") == 0,
	    "csv: header row (%d columns)", nh);
	for (i = 0; i < nh; i++)
		free(f[i]);
	for (i = 1; i <= NRES; i++) {
		n = csv_record(txt, i, f, 64);
		if (n == nh)
			rows++;
		if (i == 2 && n == nh)
			tap_is_str(f[n - 1], ev_tricky,
			    "csv: quoted field with quotes, comma, newline");
		if (i == 3 && n == nh)
			tap_is_str(f[2], "тест.example", "csv: UTF-8 domain");
		while (n > 0)
			free(f[--n]);
	}
	tap_is_int(rows, NRES, "csv: every record has the header's width");
	tap_is_int(csv_record(txt, NRES + 1, f, 64), -1, "csv: no extra rows");
}

static void
check_ips(const char *txt)
{
	tap_ok(strstr(txt, "198.51.100.7") == NULL &&
		strstr(txt, "192.0.2.1") == NULL &&
		strstr(txt, "2001:db8::1]") == NULL,
	    "ips: failed resolvers are not listed");
	tap_ok(strstr(txt, "203.0.113.10\n") == txt &&
		strstr(txt + 1, "203.0.113.10") == NULL,
	    "ips: a resolver tested for two domains is listed once");
	tap_ok(strstr(txt, "[2001:db8::53]:8053\n") != NULL,
	    "ips: IPv6 in brackets with port");
}

/* The table's STAGE column starts at the same character in every line. */
static void
check_text(const char *txt)
{
	const char *hdr = strstr(txt, "RESOLVER "), *line, *nl;
	size_t col = 0, cp, i;
	int lines = 0, aligned = 0;

	if (!tap_ok(hdr != NULL, "text: result table header present"))
		return;
	col = (size_t)(strstr(hdr, "STAGE") - hdr);
	for (line = hdr; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		lines++;
		/* walk col code points; expect "  X" just before/at col */
		for (i = 0, cp = 0; line + i < nl && cp < col; i++)
			if (((unsigned char)line[i] & 0xc0) != 0x80)
				cp++;
		while (line + i < nl && ((unsigned char)line[i] & 0xc0) == 0x80)
			i++;
		if (cp == col && line[i - 1] == ' ' && line[i] != ' ')
			aligned++;
	}
	tap_is_int(lines, NRES + 1, "text: one line per result plus header");
	tap_is_int(aligned, lines, "text: columns aligned across UTF-8 rows");
	tap_ok(
	    strstr(txt, "run: scan") == txt, "text: summary block comes first");
}

/* Code points of the longest line of txt. */
static size_t
longest_line(const char *txt)
{
	size_t w = 0, best = 0;

	for (; *txt != '\0'; txt++) {
		if (*txt == '\n') {
			best = MAX(best, w);
			w = 0;
		} else if (((unsigned char)*txt & 0xc0) != 0x80)
			w++;
	}
	return MAX(best, w);
}

/*
 * Text fitted to a terminal width (issue 11): every line of the tables
 * fits, the evidence is cut with an ellipsis, detail columns are left out
 * and named, addresses and ports stay whole; width 0 is the golden file.
 */
static void
check_width(void)
{
	char *buf;
	size_t len;
	int w, rc;

	for (w = 80; w <= 120; w += 40) {
		render_width = w;
		buf = render("text", 1, &len, &rc);
		render_width = 0;
		if (getenv("SHOW_WIDTH"))
			fputs(buf, stderr);
		tap_ok(longest_line(buf) <= (size_t)w,
		    "width %d: longest line %zu", w, longest_line(buf));
		tap_ok(strstr(buf, "[2001:db8::53]:8053 ") != NULL &&
			strstr(buf, "198.51.100.7:5353 ") != NULL &&
			strstr(buf, "203.0.113.10 ") != NULL,
		    "width %d: addresses and ports whole", w);
		tap_ok(strstr(buf, "\xe2\x80\xa6\n") != NULL,
		    "width %d: evidence cut with an ellipsis", w);
		tap_ok(strstr(buf, "(hidden to fit ") != NULL,
		    "width %d: the left-out columns are named", w);
		tap_ok(strstr(buf, " LOSS ") != NULL && strstr(buf, "29.0%") &&
			strstr(buf,
			    "\xe2\x89\xa5"
			    "220"),
		    "width %d: loss and the MTU ceiling stay", w);
		free(buf);
	}
}

static void
check_errors(void)
{
	struct err e = {""};
	struct res_resolver r;
	struct res_check c;
	struct rpt_sink *s;
	FILE *f;

	tap_ok(rpt_open("xml", stdout, &e) == NULL &&
		strstr(e.msg, "unknown format 'xml'") != NULL &&
		strstr(e.msg, "text, json, jsonl, csv, ips") != NULL,
	    "unknown format lists the valid ones: %s", e.msg);

	f = fopen("/dev/null", "w");
	s = rpt_open("csv", f, &e);
	res_check_init(&c);
	tap_is_int(rpt_check(s, &c), -1, "csv refuses checks");
	e.msg[0] = '\0';
	tap_ok(rpt_close(s, &e) == -1 && strstr(e.msg, "csv") != NULL,
	    "csv close reports the refused check: %s", e.msg);
	fclose(f);

	f = fopen("/dev/full", "w");
	if (f == NULL) {
		tap_ok(1, "# skip /dev/full missing");
		return;
	}
	s = rpt_open("jsonl", f, &e);
	res_resolver_init(&r);
	snprintf(r.addr, sizeof r.addr, "192.0.2.1");
	rpt_result(s, &r);
	e.msg[0] = '\0';
	tap_ok(rpt_close(s, &e) == -1 && strstr(e.msg, "write error") != NULL,
	    "write error on a full device is reported: %s", e.msg);
	fclose(f);
}

/* The field list the sinks and the store walk matches the struct. */
static void
policy_fields(void)
{
	struct res_policy p;
	size_t i;
	int ok = 1;

	res_policy_init(&p);
	for (i = 0; i < RES_POLICY_NFIELDS; i++)
		ok &= res_policy_get(&p, i) == -1;
	tap_ok(ok && p.present == 0, "init: every policy field -1");
	for (i = 0; i < RES_POLICY_NFIELDS; i++)
		res_policy_set(&p, i, 100 + (int)i);
	tap_ok(p.comp_pair == 100 && p.max_dup == 101 &&
		p.max_setup_dup == 102 && p.max_upload_mtu == 103 &&
		p.max_download_mtu == 104 && p.max_workers == 105 &&
		p.min_ping_ms == 106 && p.max_batch == 107 &&
		p.max_arq_window == 108 && p.max_nack_gap == 109 &&
		p.min_comp_size == 110 && p.min_rto_ms == 111 && p.present == 0,
	    "set i writes the i-th field in struct order");
	tap_is_str(res_policy_field_name(0), "comp_pair", "first name");
	tap_is_str(res_policy_field_name(RES_POLICY_NFIELDS - 1), "min_rto_ms",
	    "last name");
	tap_is_str(res_policy_field_name(RES_POLICY_NFIELDS), "invalid",
	    "out of range name");
}

/*
 * A run read back from a history file may hold any times: the text summary
 * once subtracted them in int64_t (signed overflow; a huge negative
 * duration) and printed llabs(LLONG_MIN) for durations past llround's
 * range.
 */
static void
check_wild_run(void)
{
	static const int64_t t[][2] = {
	    {-280375465135052LL, INT64_MAX},
	    {1, INT64_MAX},
	    {INT64_MIN + 1, 1000},
	};
	struct res_run run;
	struct rpt_sink *s;
	char *buf = NULL, *d;
	size_t len, i;
	int ok = 1;
	FILE *f;

	for (i = 0; i < nitems(t); i++) {
		res_run_init(&run);
		snprintf(run.command, sizeof run.command, "scan");
		run.started_ms = t[i][0];
		run.ended_ms = t[i][1];
		f = open_memstream(&buf, &len);
		s = rpt_open("text", f, NULL);
		if (rpt_summary(s, &run) != 0 || rpt_close(s, NULL) != 0)
			ok = 0;
		fclose(f);
		d = strstr(buf, "duration_s: ");
		if (d == NULL || d[12] < '1' || d[12] > '9') {
			tap_diag("started %lld ended %lld: %s",
			    (long long)t[i][0], (long long)t[i][1], buf);
			ok = 0;
		}
		free(buf);
		buf = NULL;
	}
	tap_ok(ok, "text summary: a positive duration for any stored times");
}

/* A report of checks only (ip, route): no results, no summary. */
static void
check_checks_only(void)
{
	struct res_check c;
	struct rpt_sink *s;
	struct err e = {""};
	json_error_t je;
	json_t *doc;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	res_check_init(&c);
	c.kind = RES_CHECK_ROUTE;
	snprintf(c.subject, sizeof c.subject, "192.0.2.53");
	s = rpt_open("json", f, &e);
	rpt_check(s, &c);
	rc = rpt_close(s, &e);
	fclose(f);
	doc = json_loads(buf ? buf : "", 0, &je);
	tap_ok(rc == 0 && doc != NULL &&
		json_is_null(json_object_get(doc, "summary")) &&
		json_array_size(json_object_get(doc, "checks")) == 1 &&
		strcmp(json_string_value(json_object_get(
			   json_array_get(json_object_get(doc, "checks"), 0),
			   "subject")),
		    "192.0.2.53") == 0,
	    "json: checks only, summary null (%s)", rc ? e.msg : je.text);
	json_decref(doc);
	free(buf);
}

/* ---- the monitoring formats (prom, nagios) --------------------------- */

/*
 * The Prometheus text format as node_exporter reads it: comment lines
 * "# HELP name text" and "# TYPE name gauge" before a family's samples,
 * samples "name{l="v",...} value" whose name is the family's, no family
 * twice, no series twice, label values with only \\ \" \n escapes.
 * promtool checks the same files in tests/sh/test-check.sh.
 */
static void
check_prom(const char *txt, const char *what)
{
	char fam[32][128], series[256][300], name[128], *copy, *line, *save;
	size_t nfam = 0, nser = 0, i;
	int ok = 1, typed = 0, lineno = 0;

	copy = xstrdup(txt);
	name[0] = '\0';
	for (line = strtok_r(copy, "\n", &save); line != NULL && ok;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (strncmp(line, "# HELP ", 7) == 0) {
			if (sscanf(line + 7, "%127s", name) != 1)
				ok = 0;
			for (i = 0; i < nfam && ok; i++)
				if (strcmp(fam[i], name) == 0)
					ok = 0; /* family split in two */
			if (ok && nfam < 32)
				snprintf(fam[nfam++], 128, "%s", name);
			typed = 0;
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			char n2[128], t[32];

			ok = sscanf(line + 7, "%127s %31s", n2, t) == 2 &&
			    strcmp(n2, name) == 0 && strcmp(t, "gauge") == 0;
			typed = 1;
		} else {
			size_t nl = strcspn(line, "{ ");
			const char *p = line + nl, *v;
			char *end;

			ok = typed && nl == strlen(name) &&
			    strncmp(line, name, nl) == 0;
			if (ok && *p == '{') {
				for (p++; *p != '}' && *p != '\0' && ok; p++) {
					if (*p == '\\') {
						p++;
						ok = *p == '\\' || *p == '"' ||
						    *p == 'n';
					}
				}
				ok = ok && *p == '}';
				p++;
			}
			ok = ok && *p == ' ';
			v = p + 1;
			if (ok && strcmp(v, "NaN") != 0) {
				(void)strtod(v, &end);
				ok = end != v && *end == '\0';
			}
			if (ok) {
				for (i = 0; i < nser && ok; i++)
					ok = strncmp(series[i], line,
						 (size_t)(p - line)) != 0 ||
					    series[i][p - line] != '\0';
				if (ok && nser < 256)
					snprintf(series[nser++], 300, "%.*s",
					    (int)(p - line), line);
			}
		}
		if (!ok)
			tap_diag("  line %d: %s", lineno, line);
	}
	tap_ok(
	    ok && nfam > 0, "%s: valid exposition, %zu families", what, nfam);
	free(copy);
}

/* A number as the plugins guidelines write one: [-0-9.]+ (or U). */
static const char *
plugin_num(const char *p, int allow_u)
{
	const char *q = p;

	if (allow_u && *p == 'U')
		return p + 1;
	if (*q == '-')
		q++;
	while ((*q >= '0' && *q <= '9') || *q == '.')
		q++;
	return q > p && q[-1] != '-' ? q : NULL;
}

/* A threshold range: [@][start:][end] with ~ for minus infinity. */
static const char *
plugin_range(const char *p)
{
	const char *q;

	if (*p == '@')
		p++;
	if (*p == '~')
		p++;
	else if ((q = plugin_num(p, 0)) != NULL)
		p = q;
	if (*p == ':') {
		p++;
		if ((q = plugin_num(p, 0)) != NULL)
			p = q;
	}
	return p;
}

/*
 * One monitoring-plugins line: "MDNS-DOCTOR STATE - text[ | perfdata]",
 * perfdata items "'label'=value[uom][;warn[;crit[;min[;max]]]]"
 * separated by spaces. Returns the number of items, -1 when it does not
 * parse.
 */
static int
parse_plugin_line(const char *line, char *state, size_t slen)
{
	static const char *const uoms[] = {
	    "", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"};
	const char *p, *q;
	size_t i, n;
	int items = 0, f;

	if (strncmp(line, "MDNS-DOCTOR ", 12) != 0)
		return -1;
	p = line + 12;
	n = strcspn(p, " ");
	snprintf(state, slen, "%.*s", (int)n, p);
	if (strncmp(p + n, " - ", 3) != 0 || strchr(line, '\n') != NULL)
		return -1;
	if ((p = strchr(line, '|')) == NULL)
		return 0;
	p++;
	while (*p == ' ') {
		p++;
		if (*p == '\'') {
			for (p++; *p != '\0'; p++) {
				if (*p == '\'' && p[1] == '\'')
					p++;
				else if (*p == '\'')
					break;
			}
			if (*p++ != '\'')
				return -1;
		} else {
			while (*p != '=' && *p != ' ' && *p != '\0')
				p++;
		}
		if (*p++ != '=')
			return -1;
		if ((q = plugin_num(p, 1)) == NULL)
			return -1;
		p = q;
		n = strspn(
		    p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%");
		for (i = 0; i < nitems(uoms); i++)
			if (strlen(uoms[i]) == n && strncmp(p, uoms[i], n) == 0)
				break;
		if (i == nitems(uoms))
			return -1;
		p += n;
		for (f = 0; f < 4 && *p == ';'; f++) {
			p++;
			q = f < 2 ? plugin_range(p) : plugin_num(p, 0);
			p = q ? q : p;
		}
		if (*p != ' ' && *p != '\0')
			return -1;
		items++;
	}
	return *p == '\0' ? items : -1;
}

static void
check_nagios(const char *txt, const char *what)
{
	char state[32], *line = xstrdup(txt);
	size_t n = strlen(line);
	int items;

	tap_ok(
	    n > 0 && line[n - 1] == '\n' && strchr(line, '\n') == line + n - 1,
	    "%s: exactly one line", what);
	if (n > 0)
		line[n - 1] = '\0';
	items = parse_plugin_line(line, state, sizeof state);
	tap_ok(items > 0, "%s: parses as a plugin line with %d perf items",
	    what, items);
	free(line);
}

/* A check-like report: checks, perf values and a status, no results. */
static char *
render_check(const char *fmt, size_t *len)
{
	struct res_check c[2];
	struct res_run run;
	struct rpt_sink *s;
	struct rpt_perf p;
	struct err e = {""};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int rc = 0;

	res_check_init(&c[0]);
	c[0].kind = RES_CHECK_HANDSHAKE;
	c[0].verdict = RES_VERDICT_OK;
	c[0].reason = RES_R_OK;
	snprintf(c[0].detail, sizeof c[0].detail, "3 of 3 sessions opened");
	c[0].at_ms = 1795000000000LL;
	c[1] = c[0];
	c[1].kind = RES_CHECK_IP;
	snprintf(c[1].subject, sizeof c[1].subject, "ip\"v4\n|x");
	c[1].verdict = RES_VERDICT_WARN;
	res_run_init(&run);
	snprintf(run.command, sizeof run.command, "check");
	run.started_ms = 1795000000000LL;
	run.ended_ms = 1795000002500LL;
	s = rpt_open(fmt, f, &e);
	rc |= rpt_check(s, &c[0]);
	rc |= rpt_check(s, &c[1]);
	memset(&p, 0, sizeof p);
	p.label = "rtt";
	p.value = 12.3;
	p.uom = "ms";
	p.warn = "1000";
	p.crit = "3000";
	p.min = 0;
	p.max = NAN;
	p.help = "median handshake round trip";
	rc |= rpt_perf(s, &p);
	p.label = "loss";
	p.value = 2.5;
	p.uom = "%";
	p.warn = "10";
	p.crit = "50";
	p.max = 100;
	p.help = NULL;
	rc |= rpt_perf(s, &p);
	p.label = "good";
	p.value = 3;
	p.uom = "";
	p.warn = "2:";
	p.crit = "1:";
	p.max = NAN;
	rc |= rpt_perf(s, &p);
	p.label = "answer_age";
	p.value = NAN;
	p.uom = "s";
	p.warn = p.crit = NULL;
	p.min = NAN;
	rc |= rpt_perf(s, &p);
	rc |= rpt_status(s, EXIT_WARNING, "engine connected | ip: warn");
	rc |= rpt_summary(s, &run);
	rc |= rpt_close(s, &e);
	fclose(f);
	tap_ok(rc == 0, "%s: a check report renders: %s", fmt, e.msg);
	return buf;
}

static void
check_monitoring(void)
{
	json_t *doc, *perf;
	char *out, state[32];
	size_t len;

	out = render_check("prom", &len);
	golden_compare("prom", "check.prom", out, len);
	check_prom(out, "prom check");
	tap_ok(strstr(out, "mdns_doctor_check_status 1\n") != NULL &&
		strstr(out, "mdns_doctor_check_rtt_seconds 0.0123\n") != NULL &&
		strstr(out, "mdns_doctor_check_loss_ratio 0.025\n") != NULL &&
		strstr(out, "mdns_doctor_check_answer_age_seconds NaN\n") !=
		    NULL &&
		strstr(out,
		    "mdns_doctor_check_verdict{check=\"ip\","
		    "subject=\"ip\\\"v4\\n|x\"} 1\n") != NULL,
	    "prom: status, units converted, NaN, escaped label");
	free(out);

	out = render_check("nagios", &len);
	golden_compare("nagios", "check.nagios", out, len);
	check_nagios(out, "nagios check");
	out[len - 1] = '\0';
	tap_is_int(parse_plugin_line(out, state, sizeof state), 5,
	    "nagios: five perf items (four given, time)");
	tap_is_str(state, "WARNING", "nagios: the state given");
	tap_ok(strstr(out, "'rtt'=12.3ms;1000;3000;0 ") != NULL &&
		strstr(out, "'good'=3;2:;1:;0 ") != NULL &&
		strstr(out, "'answer_age'=U ") != NULL &&
		strstr(out, "connected / ip") != NULL,
	    "nagios: thresholds, U for unknown, no '|' in the text: %s", out);
	free(out);

	out = render_check("json", &len);
	doc = json_loads(out, 0, NULL);
	perf = json_object_get(doc, "perf");
	tap_ok(doc != NULL &&
		json_integer_value(json_object_get(
		    json_object_get(doc, "status"), "code")) == 1 &&
		json_array_size(perf) == 4 &&
		json_is_null(
		    json_object_get(json_array_get(perf, 3), "value")) &&
		strcmp(json_string_value(
			   json_object_get(json_array_get(perf, 2), "warn")),
		    "2:") == 0,
	    "json: status and perf keys");
	json_decref(doc);
	free(out);
}

int
main(void)
{
	static const char *const fmts[] = {
	    "text", "json", "jsonl", "csv", "ips", "prom", "nagios"};
	char *out;
	size_t i, len;
	char digest[RES_DIGEST_MAX], digest2[RES_DIGEST_MAX];
	char *argv1[] = {"scan", "a", "bc"}, *argv2[] = {"scan", "ab", "c"};
	enum res_reason rr;
	int names_ok = 1, k;

	policy_fields();

	for (i = 0; i < nitems(fmts); i++) {
		out = golden(fmts[i], strcmp(fmts[i], "csv") != 0, &len);
		if (out == NULL)
			continue;
		if (strcmp(fmts[i], "json") == 0)
			check_json_doc(out);
		else if (strcmp(fmts[i], "jsonl") == 0)
			check_jsonl(out);
		else if (strcmp(fmts[i], "csv") == 0)
			check_csv(out);
		else if (strcmp(fmts[i], "ips") == 0)
			check_ips(out);
		else if (strcmp(fmts[i], "prom") == 0)
			check_prom(out, "prom");
		else if (strcmp(fmts[i], "nagios") == 0)
			check_nagios(out, "nagios");
		else
			check_text(out);
		free(out);
	}
	check_errors();
	check_wild_run();
	check_checks_only();
	check_width();
	check_monitoring();

	for (k = 0; k < RES_R_COUNT; k++) {
		if (res_reason_from_name(
			res_reason_name((enum res_reason)k), &rr) != 0 ||
		    (int)rr != k ||
		    strcmp(res_reason_text((enum res_reason)k), "invalid") == 0)
			names_ok = 0;
	}
	tap_ok(names_ok, "every reason has a unique name and a text");
	tap_is_str(res_reason_name(RES_R_COUNT), "invalid",
	    "out-of-range reason is 'invalid'");
	res_args_digest(3, argv1, digest, sizeof digest);
	res_args_digest(3, argv2, digest2, sizeof digest2);
	tap_ok(strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 39 &&
		strcmp(digest, digest2) != 0,
	    "args digest separates arguments");
	return tap_done();
}
