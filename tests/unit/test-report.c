/* SPDX-License-Identifier: MIT */
/*
 * test-report.c — the support report's model and renderers without the
 * CLI: the address finder on texts that hold and do not hold addresses,
 * the three redaction modes (consistent pseudonyms, own addresses,
 * host names, $HOME), secrets scrubbed in every form and mode, and odd
 * content — an empty model, a scan with no results, huge and unknown
 * numbers, texts with HTML and Markdown metacharacters, control bytes
 * and invalid UTF-8 — rendered in all three forms: JSON that parses,
 * HTML and Markdown that show the characters instead of obeying them,
 * finite chart geometry.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "proto/b64.h"
#include "reports/report-int.h"

/* Render m in form into a malloc'd string. */
static char *
render(struct rpt_model *m, enum rpt_form form)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct err e = {""};
	int rc = rpt_render(m, form, f, &e);

	fclose(f);
	if (rc != 0)
		tap_diag("render: %s", e.msg);
	return buf;
}

static void
test_finder(void)
{
	static const struct {
		const char *text;
		const char *want; /* the first address found, "" none */
	} cases[] = {
	    {"sent to 192.0.2.7:53 ok", "192.0.2.7"},
	    {"[2001:db8::1]:5353", "2001:db8::1"},
	    {"via fe80::1%eth0, metric 5", "fe80::1%eth0"},
	    {"mapped ::ffff:198.51.100.9.", "::ffff:198.51.100.9"},
	    {"ip=203.0.113.5;", "203.0.113.5"},
	    {"-> 10.1.2.3 (12 ms)", "10.1.2.3"},
	    {"version 1.2.3 of x", ""},
	    {"1.2.3.4.5 is an OID", ""},
	    {"at 10:30:00 today", ""},
	    {"mac 00:11:22:33:44:55", ""},
	    {"999.1.1.1 is no address", ""},
	    {"abc1.2.3.4", ""},
	    {"sha256:deadbeef", ""},
	    {"1.2.3.4x", ""},
	};
	size_t i, pos, start, len;
	char got[64];

	for (i = 0; i < nitems(cases); i++) {
		pos = 0;
		got[0] = '\0';
		if (rdx_next_addr(cases[i].text, &pos, &start, &len))
			snprintf(got, sizeof got, "%.*s", (int)len,
			    cases[i].text + start);
		tap_ok(strcmp(got, cases[i].want) == 0,
		    "finder: \"%s\" -> \"%s\"", cases[i].text, got);
	}
}

static void
test_modes(void)
{
	const char *text = "resolver 192.0.2.1:53 said 198.51.100.7; mine "
			   "203.0.113.9 and 10.9.8.7, again 192.0.2.1";
	struct rdx r;
	char *a, *b;

	/* own: only the user's addresses go, each always the same name. */
	rdx_init(&r, RPT_REDACT_OWN);
	tap_ok(rdx_own(&r, "203.0.113.9", RPT_OWN_PUBLIC) == 0 &&
		rdx_own(&r, "10.9.8.7", RPT_OWN_LOCAL) == 0,
	    "own addresses accepted");
	tap_ok(rdx_own(&r, "not-an-address", RPT_OWN_LOCAL) == -1,
	    "text that is no address is refused");
	a = rdx_text(&r, text, RDX_TEXT);
	tap_ok(strcmp(a,
		   "resolver 192.0.2.1:53 said 198.51.100.7; mine "
		   "public-1 and local-1, again 192.0.2.1") == 0,
	    "own: %s", a);
	b = rdx_text(&r, "203.0.113.9 again", RDX_TEXT);
	tap_ok(strcmp(b, "public-1 again") == 0, "same address, same name");
	tap_ok(rdx_own(&r, "192.0.2.99", RPT_OWN_LOCAL) == -1,
	    "no own address after content (frozen)");
	free(b);
	b = rdx_text(&r,
	    "id203.0.113.9 203.0.113.9x 203.0.113.90 1.203.0.113.9 "
	    "203.0.113.9.1",
	    RDX_TEXT);
	tap_ok(strcmp(b,
		   "idpublic-1 public-1x 203.0.113.90 1.203.0.113.9 "
		   "203.0.113.9.1") == 0,
	    "own address glued to a word still goes, longer numbers stay: %s",
	    b);
	free(a);
	free(b);
	rdx_free(&r);

	/* all: every address, resolvers by their field. */
	rdx_init(&r, RPT_REDACT_ALL);
	rdx_own(&r, "203.0.113.9", RPT_OWN_PUBLIC);
	b = rdx_text(&r, "192.0.2.1", RDX_RESOLVER);
	a = rdx_text(&r, text, RDX_TEXT);
	tap_ok(strcmp(b, "resolver-1") == 0, "all: resolver field: %s", b);
	tap_ok(strcmp(a,
		   "resolver resolver-1:53 said ip-1; mine public-1 "
		   "and ip-2, again resolver-1") == 0,
	    "all: %s", a);
	free(a);
	a = rdx_text(
	    &r, "0.0.0.0:1080 and [::]:53 and ::ffff:192.0.2.1", RDX_TEXT);
	tap_ok(strcmp(a, "0.0.0.0:1080 and [::]:53 and resolver-1") == 0,
	    "unspecified addresses stay, v4-mapped is the v4 address: %s", a);
	free(a);
	free(b);
	rdx_free(&r);

	/* none: addresses stay; hosts and home stay too. */
	rdx_init(&r, RPT_REDACT_NONE);
	rdx_own(&r, "203.0.113.9", RPT_OWN_PUBLIC);
	rdx_host(&r, "alices-laptop");
	a = rdx_text(&r, "203.0.113.9 on alices-laptop", RDX_TEXT);
	tap_ok(strcmp(a, "203.0.113.9 on alices-laptop") == 0, "none: %s", a);
	free(a);
	rdx_free(&r);

	/* Hosts and home. */
	rdx_init(&r, RPT_REDACT_OWN);
	rdx_host(&r, "alices-laptop");
	rdx_home(&r, "/home/alice/");
	a = rdx_text(&r,
	    "cannot open /home/alice/x.toml on alices-laptop "
	    "(alices-laptop2 differs)",
	    RDX_TEXT);
	tap_ok(strcmp(a,
		   "cannot open ~/x.toml on host-1 (alices-laptop2 "
		   "differs)") == 0,
	    "home and host name: %s", a);
	free(a);
	a = rdx_text(&r, "build-box", RDX_HOST);
	tap_ok(strcmp(a, "host-2") == 0, "another run's host: %s", a);
	free(a);
	rdx_free(&r);
}

static void
test_secrets(void)
{
	const char *key = "5f3c8e1a9b2d47e6c0f18a3b5d7e9c21";
	char hex[80], b64[80], upper[40], raw[16], rawb64[40], text[512];
	enum rpt_redact mode;
	struct rdx r;
	char *a;
	size_t i;

	hex_encode((const uint8_t *)key, strlen(key), hex);
	b64_encode((const uint8_t *)key, strlen(key), b64);
	for (i = 0; key[i] != '\0'; i++)
		upper[i] = (char)(key[i] >= 'a' ? key[i] - 32 : key[i]);
	upper[i] = '\0';
	hex_decode(key, strlen(key), (uint8_t *)raw, sizeof raw);
	b64_encode((const uint8_t *)raw, sizeof raw, rawb64);
	snprintf(text, sizeof text, "k=%s K=%s hex=%s b64=%s raw64=%s pw=%s.",
	    key, upper, hex, b64, rawb64, "hunter2!");
	for (mode = RPT_REDACT_OWN; mode <= RPT_REDACT_NONE; mode++) {
		rdx_init(&r, mode);
		tap_ok(rdx_secret(&r, key, strlen(key)) == 0 &&
			rdx_secret(&r, "hunter2!", 8) == 0,
		    "secrets accepted");
		tap_ok(rdx_secret(&r, "abc", 3) == -1,
		    "a 3-byte secret is refused");
		a = rdx_text(&r, text, RDX_TEXT);
		tap_ok(strstr(a, key) == NULL && strstr(a, upper) == NULL &&
			strstr(a, hex) == NULL &&
			strstr(a, "hunter2") == NULL &&
			strstr(a, "5f3c8e1a") == NULL,
		    "mode %s: key text, case, hex and password gone: %s",
		    rpt_redact_name(mode), a);
		tap_ok(strncmp(b64, "", 1) != 0 &&
			strstr(a, "NWYzYzhlMWE5YjJk") == NULL &&
			strstr(a, "XzyOGpstR+bA8Yo7XX6cIQ") == NULL,
		    "mode %s: base64 of the text and of its bytes gone",
		    rpt_redact_name(mode));
		tap_ok(strstr(a, "k=(secret) K=(secret)") != NULL,
		    "replaced by (secret)");
		free(a);
		rdx_free(&r);
	}
}

/* Strings that must not be obeyed by any renderer. */
#define NASTY                                                                  \
	"<script>alert(1)</script> | *bold* _it_ `code` [l](http://x/y) "      \
	"![i](https://e.example/p.png) # h &amp; \"q\" 'a' \\ ~~s~~"

static void
fill_odd(struct rpt_model *m)
{
	struct res_run run;
	struct res_resolver r;
	struct res_check c;
	json_t *snap;

	res_run_init(&run);
	snprintf(run.command, sizeof run.command, "scan");
	snprintf(run.version, sizeof run.version, "<v1>");
	run.started_ms = INT64_MAX;
	run.ended_ms = -5;
	run.stages[RES_STAGE_LIVENESS].tested = UINT32_MAX;
	run.stages[RES_STAGE_LIVENESS].passed = UINT32_MAX;
	run.stages[RES_STAGE_REACH].tested = UINT32_MAX;
	run.stages[RES_STAGE_REACH].passed = 0;
	run.stages[RES_STAGE_REACH].duration_ms = INT64_MAX;
	rpt_model_scan(m, INT64_MAX, &run, NASTY, NASTY);
	res_resolver_init(&r);
	snprintf(r.addr, sizeof r.addr, "192.0.2.44");
	snprintf(r.domain, sizeof r.domain, "%s", "t.<b>example</b>|x");
	snprintf(
	    r.evidence, sizeof r.evidence, "%s\n\r\x01\xff\xfe end", NASTY);
	r.verdict = RES_VERDICT_OK;
	r.rtt_us = INT64_MAX;
	r.upload_mtu = INT32_MAX;
	r.download_mtu = -1;
	r.burst_sent = 10;
	r.burst_ok = 20; /* more answers than queries: must not break */
	rpt_model_scan_ok(m, &r);
	rpt_model_scan_fail(
	    m, RES_STAGE_REACH, RES_R_HIJACK, UINT32_MAX, NASTY);
	rpt_model_scan_fail(
	    m, (enum res_stage)99, (enum res_reason)999, 1, NULL);
	res_check_init(&c);
	c.kind = RES_CHECK_IP;
	snprintf(c.subject, sizeof c.subject, "%.60s", NASTY);
	snprintf(c.detail, sizeof c.detail, "%s", NASTY);
	snprintf(c.evidence, sizeof c.evidence, "%s\xff\xfe", NASTY);
	c.at_ms = INT64_MAX;
	rpt_model_check(m, NASTY, -1, -1, &c);
	rpt_model_fact(m, RPT_SEC_HOST, NASTY, NASTY);
	rpt_model_config_item(m, NASTY, NASTY, NASTY, NASTY, 1);
	rpt_model_note(m, "%s", NASTY);
	/* Snapshots: huge, negative, missing and wrong-typed numbers. */
	snap = json_pack("{s:s, s:{s:f, s:f}, s:{s:[{s:s, s:f, s:f}]}, "
			 "s:[{s:I, s:s, s:s, s:s}]}",
	    "role", "client", "traffic", "bytes_up", 1e300, "bytes_down", -7.0,
	    "resolvers", "list", "address", NASTY, "rtt_ms", 1e308, "loss", 2.5,
	    "snapshot_events", "at_ms", (json_int_t)INT64_MAX, "kind", NASTY,
	    "resolver", NASTY, "detail", NASTY);
	rpt_model_snapshot(m, 1000, NASTY, -1, snap);
	rpt_model_snapshot(m, 1000, "connected", 1, snap); /* same time */
	json_decref(snap);
	snap = json_pack("{s:s, s:s}", "role", "client", "traffic", "x");
	rpt_model_snapshot(m, -1, NULL, INT64_MAX, snap);
	json_decref(snap);
	rpt_model_live(m, NULL, NASTY);
	rpt_model_method(m, 1, NASTY);
}

static void
check_no_raw(const char *out, const char *what)
{
	/* JSON carries text as it is; markup only matters in the others. */
	if (strcmp(what, "json") != 0) {
		tap_ok(strstr(out, "<script") == NULL, "%s: no raw <script>",
		    what);
		tap_ok(
		    strstr(out, "<b>example") == NULL, "%s: no raw <b>", what);
	}
	tap_ok(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL,
	    "%s: no nan/inf", what);
	tap_ok(strstr(out, "\xff") == NULL && strchr(out, '\x01') == NULL,
	    "%s: no invalid UTF-8 or control bytes", what);
}

static void
test_odd(void)
{
	struct rpt_model *m;
	json_error_t je;
	const char *note;
	json_t *j;
	char *out;

	/* An empty model renders in every form. */
	m = rpt_model_new(RPT_REDACT_OWN, 1700000000000LL);
	out = render(m, RPT_JSON);
	j = json_loads(out, 0, &je);
	tap_ok(j != NULL && json_is_null(json_object_get(j, "scan")),
	    "empty model: JSON parses, scan null");
	tap_ok(strncmp(out,
		   "{\n  \"marker\": \"mdns-doctor report "
		   "2023-11-14T22:13:20.000Z id r-",
		   52) == 0,
	    "the marker comes first");
	json_decref(j);
	free(out);
	out = render(m, RPT_HTML);
	tap_ok(strncmp(out, "<!-- mdns-doctor report 2023-", 29) == 0 &&
		strstr(out, "default-src 'none'") != NULL &&
		strstr(out, "<svg") == NULL,
	    "empty model: HTML with the marker and CSP, no chart");
	free(out);
	out = render(m, RPT_MD);
	tap_ok(strncmp(out, "mdns-doctor report 2023-", 24) == 0,
	    "empty model: Markdown starts with the marker");
	free(out);
	rpt_model_free(m);

	/* A scan that has no results at all. */
	m = rpt_model_new(RPT_REDACT_OWN, 1700000000000LL);
	{
		struct res_run run;

		res_run_init(&run);
		rpt_model_scan(m, 1, &run, "ok", "h");
	}
	out = render(m, RPT_MD);
	tap_ok(strstr(out, "The scan tested nothing.") != NULL,
	    "a run with no results: said so");
	free(out);
	rpt_model_free(m);

	/* Odd content everywhere. */
	m = rpt_model_new(RPT_REDACT_ALL, 1700000000000LL);
	fill_odd(m);
	out = render(m, RPT_JSON);
	j = json_loads(out, 0, &je);
	tap_ok(j != NULL, "odd: JSON parses (%s)", j ? "" : je.text);
	note =
	    json_string_value(json_array_get(json_object_get(j, "notes"), 0));
	tap_ok(note != NULL && strcmp(note, NASTY) == 0,
	    "odd: JSON keeps the text exactly");
	tap_ok(strstr(out, "192.0.2.44") == NULL &&
		strstr(out, "resolver-1") != NULL,
	    "odd: mode all hid the resolver");
	check_no_raw(out, "json");
	json_decref(j);
	free(out);

	out = render(m, RPT_HTML);
	check_no_raw(out, "html");
	tap_ok(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL,
	    "html: the script tag is shown as text");
	tap_ok(strstr(out, "://") == NULL, "html: no \"://\" anywhere");
	tap_ok(strstr(out, "id=\"chart-funnel\"") != NULL &&
		strstr(out, "id=\"chart-rtt\"") != NULL &&
		strstr(out, "id=\"chart-throughput\"") != NULL,
	    "html: funnel, RTT and throughput charts drawn");
	tap_ok(strstr(out, "\\xff\\xfe") != NULL,
	    "html: invalid UTF-8 shown as \\xNN");
	free(out);

	out = render(m, RPT_MD);
	check_no_raw(out, "md");
	tap_ok(strstr(out, "&lt;script&gt;") != NULL &&
		strstr(out, "\\*bold\\*") != NULL &&
		strstr(out, "\\[l\\](http") != NULL &&
		strstr(out, "\\!\\[i\\]") != NULL &&
		strstr(out, " \\| \\*") != NULL,
	    "md: HTML as entities, Markdown metacharacters escaped");
	/* No table row may gain columns from a '|' in the text. */
	{
		const char *l = out, *nl;
		int bad = 0;

		for (; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
			const char *p;
			int pipes = 0;

			if (*l != '|')
				continue;
			for (p = l; p < nl; p++)
				pipes += *p == '|' && (p == l || p[-1] != '\\');
			/* Rows of the failure table have 5 bars. */
			if (strstr(l, "| reach | hijack") == l && pipes != 5)
				bad = 1;
		}
		tap_ok(!bad, "md: a '|' in a cell stays in the cell");
	}
	free(out);
	rpt_model_free(m);
}

/* Found by fuzz-report: the timeline's role is text from the store. */
static void
test_role_markup(void)
{
	struct rpt_model *m = rpt_model_new(RPT_REDACT_OWN, 1700000000000LL);
	json_t *c = json_pack("{s:s}", "role", "<b>://");
	char *out;

	rpt_model_snapshot(m, 1000, "connected", 1, c);
	json_decref(c);
	out = render(m, RPT_HTML);
	tap_ok(strstr(out, "<b>:") == NULL && strstr(out, "://") == NULL &&
		strstr(out, "of the &lt;b&gt;&#58;//") != NULL,
	    "html: a role from the store is escaped");
	free(out);
	out = render(m, RPT_MD);
	tap_ok(strstr(out, "Timeline (&lt;b&gt;://,") != NULL,
	    "md: a role from the store is escaped");
	free(out);
	rpt_model_free(m);
}

int
main(void)
{
	test_finder();
	test_modes();
	test_secrets();
	test_odd();
	test_role_markup();
	return tap_done();
}
