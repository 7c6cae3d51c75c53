/* SPDX-License-Identifier: MIT */
/*
 * report-html.c — the support report as one self-contained HTML file:
 * inline CSS, inline SVG charts (the scan funnel, per-resolver RTT and
 * loss, throughput and phase over time), no script, no external URL and a
 * Content-Security-Policy that forbids fetching anything, so opening the
 * file in a browser makes no network request (docs/report.md, "HTML").
 *
 * Every text from the model goes through h() (HTML escaping); attribute
 * values are numbers, fixed class names or escaped text. Chart geometry
 * is computed in doubles from numbers the model already bounded (unknown
 * is -1, skipped), and written with rpt_num (locale-proof).
 */
#include <math.h>
#include <string.h>

#include "reports/report-int.h"

/* No fetch of any kind; inline style only; data: images (none today). */
#define CSP                                                                    \
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "       \
	"script-src 'none'; object-src 'none'; frame-src 'none'; "             \
	"connect-src 'none'; font-src 'none'; media-src 'none'; "              \
	"form-action 'none'; base-uri 'none'"

#define MAX_BARS 30

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:"
    "1000px;padding:1em 1.5em;color:#1d2329;background:#fff}"
    "h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.2em;margin-top:1.6em;"
    "border-bottom:1px solid #d4d9de;padding-bottom:.2em}"
    ".marker{font:12px monospace;color:#555;margin:0}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:13px}"
    "td,th{border:1px solid #d4d9de;padding:2px 6px;text-align:left;"
    "vertical-align:top}th{background:#f1f3f5}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    ".ev{font:12px monospace;word-break:break-all;max-width:40em}"
    ".ok{color:#16794a;font-weight:600}.warn{color:#a15c00;font-weight:600}"
    ".fail{color:#b3261e;font-weight:600}.unknown{color:#555;"
    "font-weight:600}.sec{background:#fff4e5;border-left:4px solid #e08a00;"
    "padding:.4em .8em;margin:.4em 0}"
    "nav a{margin-right:.8em}svg.chart{display:block;margin:.6em 0;"
    "background:#fafbfc;border:1px solid #e3e6e9}"
    "svg text{font:11px system-ui,sans-serif;fill:#1d2329}"
    ".bar-tested{fill:#c9d6e3}.bar-passed{fill:#2f6fab}"
    ".bar-rtt{fill:#2f6fab}.bar-loss{fill:#c0392b}"
    ".line-up{fill:none;stroke:#c0392b;stroke-width:1.5}"
    ".line-down{fill:none;stroke:#2f6fab;stroke-width:1.5}"
    ".axis{stroke:#8a949e;stroke-width:1}"
    "@media print{nav{display:none}}";

/* Write s escaped for HTML text and attribute values. */
static void
h(FILE *f, const char *s)
{
	static const char *const tab[128] = {
	    ['&'] = "&amp;",
	    ['<'] = "&lt;",
	    ['>'] = "&gt;",
	    ['"'] = "&quot;",
	    ['\''] = "&#39;",
	};

	/* "https://..." in evidence stays text a reader sees, but no
	 * scanner or mail filter finds a URL in the file (docs/report.md,
	 * "HTML"). */
	rpt_escape(f, s, tab, "&#58;");
}

/* A number for text or an attribute; "-" when unknown. */
static const char *
num(char *b, size_t n, double v, int decimals)
{
	return v < 0 ? "-" : rpt_num(b, n, v, decimals);
}

static void
td_num(FILE *f, double v, int decimals)
{
	char b[64];

	fprintf(f, "<td class=\"n\">%s</td>", num(b, sizeof b, v, decimals));
}

static void
td_text(FILE *f, const char *s, const char *cls)
{
	if (cls != NULL)
		fprintf(f, "<td class=\"%s\">", cls);
	else
		fputs("<td>", f);
	h(f, s);
	fputs("</td>", f);
}

static const char *
verdict_class(enum res_verdict v)
{
	switch (v) {
	case RES_VERDICT_OK:
		return "ok";
	case RES_VERDICT_WARN:
		return "warn";
	case RES_VERDICT_FAIL:
		return "fail";
	default:
		return "unknown";
	}
}

static void
facts_table(FILE *f, const struct rpt_model *m, enum rpt_section sec)
{
	size_t i;

	if (m->nfacts[sec] == 0) {
		fputs("<p>(nothing known)</p>\n", f);
		return;
	}
	fputs("<table>\n", f);
	for (i = 0; i < m->nfacts[sec]; i++) {
		fputs("<tr><th>", f);
		h(f, m->facts[sec][i].key);
		fputs("</th>", f);
		td_text(f, m->facts[sec][i].value, NULL);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* ---- charts ------------------------------------------------------------- */

/* <text> at x, y with escaped content; anchor "start", "end", "middle". */
static void
svg_text(FILE *f, double x, double y, const char *anchor, const char *s)
{
	char bx[32], by[32];

	fprintf(f, "<text x=\"%s\" y=\"%s\" text-anchor=\"%s\">",
	    rpt_num(bx, sizeof bx, x, 1), rpt_num(by, sizeof by, y, 1), anchor);
	h(f, s);
	fputs("</text>\n", f);
}

static void
svg_rect(FILE *f, const char *cls, double x, double y, double w, double hgt)
{
	char b[4][32];

	if (!(w >= 0))
		w = 0;
	fprintf(f,
	    "<rect class=\"%s\" x=\"%s\" y=\"%s\" width=\"%s\" "
	    "height=\"%s\"/>\n",
	    cls, rpt_num(b[0], 32, x, 1), rpt_num(b[1], 32, y, 1),
	    rpt_num(b[2], 32, w, 1), rpt_num(b[3], 32, hgt, 1));
}

static void
svg_open(FILE *f, const char *id, double w, double hgt, const char *title)
{
	char bw[32], bh[32];

	fprintf(f,
	    "<svg class=\"chart\" id=\"%s\" width=\"%s\" height=\"%s\" "
	    "viewBox=\"0 0 %s %s\" role=\"img\">"
	    "<title>",
	    id, rpt_num(bw, sizeof bw, w, 0), rpt_num(bh, sizeof bh, hgt, 0),
	    bw, bh);
	h(f, title);
	fputs("</title>\n", f);
}

/* A label cut to n characters (on a UTF-8 boundary) for a chart row. */
static void
short_label(const char *s, char *buf, size_t len, size_t n)
{
	size_t i = 0, k = 0;

	while (s[i] != '\0' && k < n) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		k++;
	}
	if (s[i] != '\0')
		i = rdx_cut(s, i);
	snprintf(buf, len, "%.*s%s", (int)i, s, s[i] != '\0' ? "…" : "");
}

static void
chart_funnel(FILE *f, const struct rpt_model *m)
{
	const struct res_stage_stats *s = m->run.stages;
	const double x0 = 100, bw = 420, row = 28;
	double max = 1, y;
	char label[64];
	int st, rows = 0;

	for (st = RES_STAGE_ENV; st < RES_STAGE_COUNT; st++) {
		if (s[st].tested == 0)
			continue;
		rows++;
		if (s[st].tested > max)
			max = s[st].tested;
	}
	if (rows == 0)
		return;
	svg_open(f, "chart-funnel", 640, 16 + rows * row,
	    "scan funnel: resolvers tested and passed per stage");
	y = 10;
	for (st = RES_STAGE_ENV; st < RES_STAGE_COUNT; st++) {
		if (s[st].tested == 0)
			continue;
		svg_text(f, x0 - 8, y + 15, "end",
		    res_stage_name((enum res_stage)st));
		svg_rect(f, "bar-tested", x0, y, bw * s[st].tested / max, 20);
		svg_rect(f, "bar-passed", x0, y,
		    bw *
			(s[st].passed > s[st].tested ? s[st].tested :
						       s[st].passed) /
			max,
		    20);
		snprintf(label, sizeof label, "%u / %u passed", s[st].passed,
		    s[st].tested);
		svg_text(f, x0 + bw + 8, y + 15, "start", label);
		y += row;
	}
	fputs("</svg>\n", f);
}

/* One horizontal bar chart: labels, values (-1 unknown), unit. */
static void
chart_bars(FILE *f, const char *id, const char *title, const char *cls,
    char *const *labels, const double *v, size_t n, const char *unit,
    int decimals)
{
	const double x0 = 190, bw = 360, row = 20;
	double max = 0, y;
	char lab[128], val[64], b[48];
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	if (n == 0)
		return;
	svg_open(f, id, 640, 12 + n * row, title);
	for (i = 0, y = 6; i < n; i++, y += row) {
		short_label(labels[i], lab, sizeof lab, 30);
		svg_text(f, x0 - 8, y + 13, "end", lab);
		if (v[i] < 0) {
			svg_text(f, x0 + 4, y + 13, "start", "no figure");
			continue;
		}
		svg_rect(f, cls, x0, y + 2, max > 0 ? bw * v[i] / max : 0, 14);
		snprintf(val, sizeof val, "%s %s",
		    rpt_num(b, sizeof b, v[i], decimals), unit);
		svg_text(f, x0 + (max > 0 ? bw * v[i] / max : 0) + 6, y + 13,
		    "start", val);
	}
	fputs("</svg>\n", f);
}

/* Per-resolver RTT and loss: the engine's figures, else the scan's. */
static void
chart_resolvers(FILE *f, const struct rpt_model *m)
{
	char *labels[MAX_BARS];
	double rtt[MAX_BARS], loss[MAX_BARS];
	char *own[MAX_BARS];
	size_t i, n = 0;
	const char *from;

	if (m->neres > 0) {
		for (i = 0; i < m->neres && n < MAX_BARS; i++, n++) {
			const struct rpt_eres *r = &m->eres[i];

			/* A resolver out of use says so in its label. */
			own[n] = labels[n] = r->state[0] == '\0' ||
				strcmp(r->state, "active") == 0 ?
			    xstrdup(r->address) :
			    xasprintf("%s (%s)", r->address, r->state);
			rtt[n] = r->rtt_ms;
			loss[n] = r->loss < 0 ? -1 : 100 * r->loss;
		}
		from = m->eres_live ? "the running engine" :
				      "the last engine snapshot";
	} else {
		for (i = 0; i < m->nok && n < MAX_BARS; i++, n++) {
			const struct res_resolver *r = &m->ok[i];
			double rate = res_burst_rate(r);

			own[n] = labels[n] =
			    xasprintf("%s:%u", r->addr, r->port);
			rtt[n] =
			    r->rtt_us < 0 ? -1 : (double)r->rtt_us / 1000.0;
			loss[n] = rate < 0 ? -1 : 100 * (1 - rate);
		}
		from = "the last scan (loss: failed burst queries)";
	}
	if (n == 0) {
		fputs("<p>No per-resolver figures (no engine snapshot or live "
		      "status with resolvers, no scan survivor).</p>\n",
		    f);
		return;
	}
	fputs("<h3>Round trip per resolver</h3>\n<p>From ", f);
	h(f, from);
	fputs(".</p>\n", f);
	chart_bars(f, "chart-rtt", "round-trip time per resolver, ms",
	    "bar-rtt", labels, rtt, n, "ms", 1);
	fputs("<h3>Loss per resolver</h3>\n", f);
	chart_bars(f, "chart-loss", "loss per resolver, percent", "bar-loss",
	    labels, loss, n, "%", 1);
	for (i = 0; i < n; i++)
		free(own[i]);
}

static const char *
phase_colour(const char *p)
{
	static const char *const map[][2] = {
	    {"connected", "#2e8b57"},
	    {"serving", "#2e8b57"},
	    {"reconnecting", "#e08a00"},
	    {"handshaking", "#6a8fc7"},
	    {"mtu-testing", "#9db4d8"},
	    {"starting", "#b8c4d0"},
	    {"stopping", "#8a949e"},
	    {"failed", "#b3261e"},
	};
	size_t i;

	for (i = 0; i < nitems(map); i++)
		if (strcmp(p, map[i][0]) == 0)
			return map[i][1];
	return "#c7c7c7";
}

/* Polyline of one rate series; a point with an unknown rate breaks it. */
static void
series(FILE *f, const struct rpt_model *m, int up, double t0, double span,
    double max)
{
	const double x0 = 70, pw = 540, y0 = 20, ph = 140;
	char bx[32], by[32];
	size_t i;
	int open = 0;

	for (i = 0; i < m->npts; i++) {
		double v = up ? m->pts[i].rate_up : m->pts[i].rate_down;
		double x = x0 + pw * ((double)m->pts[i].at_ms - t0) / span;

		if (v < 0) {
			if (open)
				fputs("\"/>\n", f);
			open = 0;
			continue;
		}
		if (!open)
			fprintf(f, "<polyline class=\"%s\" points=\"",
			    up ? "line-up" : "line-down");
		fprintf(f, "%s%s,%s", open ? " " : "",
		    rpt_num(bx, sizeof bx, x, 1),
		    rpt_num(by, sizeof by, y0 + ph - ph * v / max, 1));
		open = 1;
	}
	if (open)
		fputs("\"/>\n", f);
}

static void
chart_timeline(FILE *f, const struct rpt_model *m)
{
	const double x0 = 70, pw = 540, y0 = 20, ph = 140, band = 172;
	double t0, span, max = 0, x, w;
	char a[48], b[48], lab[64];
	size_t i, j, k;
	const char *seen[16];
	size_t nseen = 0;

	if (m->npts == 0) {
		fputs("<p>No engine snapshots in the history.</p>\n", f);
		return;
	}
	t0 = (double)m->pts[0].at_ms;
	span = (double)m->pts[m->npts - 1].at_ms - t0;
	if (span <= 0)
		span = 1;
	for (i = 0; i < m->npts; i++) {
		if (m->pts[i].rate_up > max)
			max = m->pts[i].rate_up;
		if (m->pts[i].rate_down > max)
			max = m->pts[i].rate_down;
	}
	if (max <= 0)
		max = 1;
	svg_open(f, "chart-throughput", 640, 236,
	    "throughput (bytes per second) and phase over time");
	fprintf(f,
	    "<line class=\"axis\" x1=\"70\" y1=\"20\" x2=\"70\" y2=\"160\"/>"
	    "<line class=\"axis\" x1=\"70\" y1=\"160\" x2=\"610\" y2=\"160\"/>"
	    "\n");
	svg_text(f, x0 - 6, y0 + 4, "end", rpt_rate(a, sizeof a, max));
	svg_text(f, x0 - 6, y0 + ph + 4, "end", "0");
	series(f, m, 1, t0, span, max);
	series(f, m, 0, t0, span, max);
	/* The phase band: one rect per run of equal phase. */
	for (i = 0; i < m->npts; i = j) {
		for (j = i + 1; j < m->npts &&
		     strcmp(m->pts[j].phase, m->pts[i].phase) == 0;
		     j++)
			;
		x = x0 + pw * ((double)m->pts[i].at_ms - t0) / span;
		w = j < m->npts ?
		    pw * ((double)m->pts[j].at_ms - m->pts[i].at_ms) / span :
		    x0 + pw - x;
		if (w < 2)
			w = 2;
		fprintf(f,
		    "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"14\" "
		    "fill=\"%s\"><title>",
		    rpt_num(a, sizeof a, x, 1), rpt_num(b, sizeof b, band, 1),
		    rpt_num(lab, sizeof lab, w, 1),
		    phase_colour(m->pts[i].phase));
		h(f, m->pts[i].phase);
		fputs("</title></rect>\n", f);
		for (k = 0; k < nseen && strcmp(seen[k], m->pts[i].phase); k++)
			;
		if (k == nseen && nseen < nitems(seen))
			seen[nseen++] = m->pts[i].phase;
	}
	svg_text(f, x0 - 6, band + 11, "end", "phase");
	svg_text(f, x0, 202, "start", rpt_time(a, sizeof a, m->pts[0].at_ms));
	svg_text(f, x0 + pw, 202, "end",
	    rpt_time(b, sizeof b, m->pts[m->npts - 1].at_ms));
	/* Legend: the two lines, then the phases seen. */
	x = x0;
	fprintf(f,
	    "<rect x=\"70\" y=\"214\" width=\"12\" height=\"3\" "
	    "fill=\"#c0392b\"/>\n");
	svg_text(f, x + 16, 220, "start", "up");
	fprintf(f,
	    "<rect x=\"120\" y=\"214\" width=\"12\" height=\"3\" "
	    "fill=\"#2f6fab\"/>\n");
	svg_text(f, 136, 220, "start", "down");
	for (k = 0, x = 190; k < nseen && x < 600; k++) {
		fprintf(f,
		    "<rect x=\"%s\" y=\"211\" width=\"10\" height=\"10\" "
		    "fill=\"%s\"/>\n",
		    rpt_num(a, sizeof a, x, 1), phase_colour(seen[k]));
		short_label(seen[k], lab, sizeof lab, 16);
		svg_text(f, x + 14, 220, "start", lab);
		x += 24 + 7 * (double)strlen(lab);
	}
	fputs("</svg>\n", f);
}

/* ---- sections ------------------------------------------------------------ */

static void
sec_summary(FILE *f, const struct rpt_model *m)
{
	enum res_verdict worst = RES_VERDICT_OK;
	size_t i;

	fputs("<h2 id=\"summary\">Summary</h2>\n<table>\n", f);
	fputs("<tr><th>last scan</th>", f);
	if (m->have_scan) {
		fprintf(f, "<td>run %lld, ", (long long)m->scan_run_id);
		h(f, m->scan_status);
		fprintf(f, ", %llu survivor(s)</td>",
		    (unsigned long long)m->nok_total);
	} else {
		fputs("<td>none</td>", f);
	}
	fputs("</tr>\n<tr><th>last checks</th>", f);
	for (i = 0; i < m->nchk; i++)
		if (m->chk[i].c.verdict > worst)
			worst = m->chk[i].c.verdict;
	if (m->nchk > 0)
		fprintf(f, "<td class=\"%s\">%zu check(s), worst: %s</td>",
		    verdict_class(worst), m->nchk, res_verdict_name(worst));
	else
		fputs("<td>none</td>", f);
	fputs("</tr>\n<tr><th>engine</th><td>", f);
	if (m->live != NULL) {
		fputs("running, ", f);
		h(f, json_string_value(json_object_get(m->live, "phase")));
	} else {
		h(f, m->live_why ? m->live_why : "not asked");
	}
	fprintf(f, "; %zu snapshot(s), %zu event(s)</td></tr>\n</table>\n",
	    m->npts, m->nev);
}

static void
sec_config(FILE *f, const struct rpt_model *m)
{
	size_t i, n;
	int pass;

	fputs("<h2 id=\"config\">Configuration</h2>\n", f);
	facts_table(f, m, RPT_SEC_CONFIG);
	if (m->ncfg == 0)
		return;
	/* What the user set first; the defaults folded (no script needed:
	 * <details> opens by itself). */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0, n = 0; i < m->ncfg; i++)
			n += (strcmp(m->cfg[i].source, "default") == 0) == pass;
		if (n == 0)
			continue;
		if (pass == 1)
			fprintf(f,
			    "<details><summary>%zu keys at their upstream "
			    "default</summary>\n",
			    n);
		fputs("<table>\n<tr><th>key</th><th>value</th><th>from</th>"
		      "<th>note</th></tr>\n",
		    f);
		for (i = 0; i < m->ncfg; i++) {
			if ((strcmp(m->cfg[i].source, "default") == 0) != pass)
				continue;
			fputs("<tr>", f);
			td_text(f, m->cfg[i].key, NULL);
			td_text(
			    f, m->cfg[i].value, m->cfg[i].secret ? "ev" : NULL);
			td_text(f, m->cfg[i].source, NULL);
			td_text(f, m->cfg[i].note, NULL);
			fputs("</tr>\n", f);
		}
		fputs(pass ? "</table>\n</details>\n" : "</table>\n", f);
	}
}

static void
sec_scan(FILE *f, const struct rpt_model *m)
{
	char diag[1024], t[40], b[48];
	size_t i;
	int st;

	fputs("<h2 id=\"scan\">Last scan</h2>\n", f);
	if (!m->have_scan) {
		fputs("<p>No scan in the history.</p>\n", f);
		return;
	}
	fprintf(f, "<p>Run %lld, status <b>", (long long)m->scan_run_id);
	h(f, m->scan_status);
	fputs("</b>, started ", f);
	h(f, rpt_time(t, sizeof t, m->run.started_ms));
	fputs(", ended ", f);
	h(f, rpt_time(t, sizeof t, m->run.ended_ms));
	fputs(", on ", f);
	h(f, m->scan_host);
	fputs(", mdns-doctor ", f);
	h(f, m->run.version);
	fputs(".</p>\n", f);
	chart_funnel(f, m);
	fputs("<table>\n<tr><th>stage</th><th>tested</th><th>passed</th>"
	      "<th>failed</th><th>seconds</th></tr>\n",
	    f);
	for (st = RES_STAGE_ENV; st < RES_STAGE_COUNT; st++) {
		const struct res_stage_stats *s = &m->run.stages[st];

		if (s->tested == 0 && s->passed == 0 && s->failed == 0)
			continue;
		fprintf(
		    f, "<tr><td>%s</td>", res_stage_name((enum res_stage)st));
		td_num(f, s->tested, 0);
		td_num(f, s->passed, 0);
		td_num(f, s->failed, 0);
		td_num(f, (double)s->duration_ms / 1000.0, 1);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<p><b>Diagnosis:</b> ", f);
	rpt_model_diagnosis(m, diag, sizeof diag);
	h(f, diag);
	fputs("</p>\n", f);
	if (m->nok > 0) {
		fprintf(f,
		    "<h3>Survivors, best first (%zu of %llu shown)</h3>\n"
		    "<table>\n<tr><th>resolver</th><th>port</th><th>domain</th>"
		    "<th>RTT ms</th><th>upload MTU</th><th>download MTU</th>"
		    "<th>stage</th></tr>\n",
		    m->nok, (unsigned long long)m->nok_total);
		for (i = 0; i < m->nok; i++) {
			const struct res_resolver *r = &m->ok[i];

			fputs("<tr>", f);
			td_text(f, r->addr, NULL);
			td_num(f, r->port, 0);
			td_text(f, r->domain, NULL);
			td_num(f,
			    r->rtt_us < 0 ? -1 : (double)r->rtt_us / 1000.0, 1);
			td_num(f, r->upload_mtu, 0);
			td_num(f, r->download_mtu, 0);
			td_text(f, res_stage_name(r->stage), NULL);
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	if (m->nfails == 0)
		return;
	fputs("<h3>Failures by stage and reason</h3>\n<table>\n<tr><th>stage"
	      "</th><th>reason</th><th>count</th><th>example</th></tr>\n",
	    f);
	for (i = 0; i < m->nfails; i++) {
		fprintf(f, "<tr><td>%s</td><td>%s (",
		    res_stage_name(m->fails[i].stage),
		    res_reason_name(m->fails[i].reason));
		h(f, res_reason_text(m->fails[i].reason));
		fprintf(f, ")</td><td class=\"n\">%s</td>",
		    rpt_num(b, sizeof b, m->fails[i].count, 0));
		td_text(f, m->fails[i].example, "ev");
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
sec_checks(FILE *f, const struct rpt_model *m)
{
	char t[40];
	size_t i;

	fputs("<h2 id=\"checks\">Last checks</h2>\n", f);
	if (m->nchk == 0) {
		fputs("<p>No checks in the history.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th>check</th><th>subject</th><th>verdict</th>"
	      "<th>detail</th><th>evidence</th><th>when</th></tr>\n",
	    f);
	for (i = 0; i < m->nchk; i++) {
		const struct res_check *c = &m->chk[i].c;

		fprintf(f, "<tr><td>%s<br>(", res_check_kind_name(c->kind));
		h(f, m->chk[i].command);
		fprintf(f, " run %lld)</td>", (long long)m->chk[i].run_id);
		td_text(f, c->subject, NULL);
		fprintf(f, "<td class=\"%s\">%s<br>%s</td>",
		    verdict_class(c->verdict), res_verdict_name(c->verdict),
		    res_reason_name(c->reason));
		td_text(f, c->detail, NULL);
		td_text(f, c->evidence, "ev");
		td_text(f, rpt_time(t, sizeof t, c->at_ms), NULL);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
sec_engine(FILE *f, const struct rpt_model *m)
{
	char t[40], r1[48], r2[48];
	size_t i;

	fputs("<h2 id=\"engine\">Engine</h2>\n", f);
	if (m->live != NULL) {
		fputs("<h3>Running now</h3>\n", f);
		facts_table(f, m, RPT_SEC_ENGINE);
	} else {
		fputs("<p>Live status: ", f);
		h(f, m->live_why ? m->live_why : "not asked");
		fputs(".</p>\n", f);
	}
	chart_resolvers(f, m);
	if (m->neres > 0) {
		fputs(
		    "<table>\n<tr><th>resolver</th><th>domain</th><th>state"
		    "</th><th>RTT ms</th><th>loss %</th><th>sent</th><th>"
		    "answered</th><th>timeouts</th><th>MTU up/down</th></tr>\n",
		    f);
		for (i = 0; i < m->neres; i++) {
			const struct rpt_eres *r = &m->eres[i];

			fputs("<tr>", f);
			td_text(f, r->address, NULL);
			td_text(f, r->domain, NULL);
			td_text(f, r->state, NULL);
			td_num(f, r->rtt_ms, 1);
			td_num(f, r->loss < 0 ? -1 : 100 * r->loss, 1);
			td_num(f, r->sent, 0);
			td_num(f, r->answered, 0);
			td_num(f, r->timeouts, 0);
			fprintf(f, "<td class=\"n\">%s / %s</td></tr>\n",
			    num(r1, sizeof r1, r->upload_mtu, 0),
			    num(r2, sizeof r2, r->download_mtu, 0));
		}
		fputs("</table>\n", f);
	}
	fputs("<h3>Throughput and phase over time</h3>\n<p>", f);
	fprintf(f, "%zu snapshot(s) of the ", m->npts);
	h(f, m->role[0] ? m->role : "engine");
	if (m->nother > 0)
		fprintf(f, "; %zu of the other role not shown", m->nother);
	fputs(".</p>\n", f);
	chart_timeline(f, m);
	if (m->npts > 0) {
		fputs(
		    "<table>\n<tr><th>time</th><th>phase</th><th>session</th>"
		    "<th>up</th><th>down</th><th>active resolvers</th></tr>\n",
		    f);
		for (i = 0; i < m->npts; i++) {
			const struct rpt_point *p = &m->pts[i];

			if (i > 0 && i + 1 < m->npts &&
			    strcmp(p->phase, m->pts[i - 1].phase) == 0 &&
			    p->session_id == m->pts[i - 1].session_id)
				continue;
			fputs("<tr>", f);
			td_text(f, rpt_time(t, sizeof t, p->at_ms), NULL);
			td_text(f, p->phase, NULL);
			td_num(f,
			    p->session_id > 0 ? (double)p->session_id : -1, 0);
			td_text(f, rpt_rate(r1, sizeof r1, p->rate_up), "n");
			td_text(f, rpt_rate(r2, sizeof r2, p->rate_down), "n");
			td_num(f, p->active, 0);
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	fprintf(f, "<h3>Events (%zu)</h3>\n", m->nev);
	if (m->ev_dropped > 0)
		fprintf(f, "<p>%llu more were not kept.</p>\n",
		    (unsigned long long)m->ev_dropped);
	if (m->nev == 0)
		return;
	fputs("<table>\n<tr><th>time</th><th>kind</th><th>resolver</th>"
	      "<th>detail</th></tr>\n",
	    f);
	for (i = 0; i < m->nev; i++) {
		fputs("<tr>", f);
		td_text(f, rpt_time(t, sizeof t, m->ev[i].at_ms), NULL);
		td_text(f, m->ev[i].kind, NULL);
		td_text(f, m->ev[i].resolver, NULL);
		td_text(f, m->ev[i].detail, NULL);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

int
rpt_render_html(struct rpt_model *m, FILE *f)
{
	const char *sec[8];
	size_t i, n;

	/* The marker line first, as in every form (a comment before the
	 * doctype does not change the document mode). */
	fputs("<!-- ", f);
	h(f, m->marker);
	fputs(" -->\n<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"" CSP
	      "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, "
	      "initial-scale=1\">\n<title>mdns-doctor report ",
	    f);
	h(f, m->id);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	fputs("<p class=\"marker\">", f);
	h(f, m->marker);
	fputs("</p>\n<h1>mdns-doctor support report</h1>\n<p>Report id <b>", f);
	h(f, m->id);
	fprintf(f, "</b>; addresses redacted: <b>%s</b>.</p>\n",
	    rpt_redact_name(m->rdx.mode));
	fputs("<nav><a href=\"#summary\">summary</a><a href=\"#versions\">"
	      "versions</a><a href=\"#host\">host</a><a href=\"#config\">"
	      "configuration</a><a href=\"#scan\">scan</a><a href=\"#checks\">"
	      "checks</a><a href=\"#engine\">engine</a></nav>\n",
	    f);
	sec_summary(f, m);
	n = rpt_model_security(m, sec, nitems(sec));
	if (n > 0)
		fputs("<h2 id=\"security\">Security notes</h2>\n", f);
	for (i = 0; i < n; i++) {
		fputs("<p class=\"sec\">", f);
		h(f, sec[i]);
		fputs("</p>\n", f);
	}
	fputs("<h2 id=\"versions\">Versions</h2>\n", f);
	facts_table(f, m, RPT_SEC_VERSIONS);
	fputs("<h2 id=\"host\">Host and environment</h2>\n", f);
	facts_table(f, m, RPT_SEC_HOST);
	sec_config(f, m);
	sec_scan(f, m);
	sec_checks(f, m);
	sec_engine(f, m);
	if (m->nnotes > 0)
		fputs("<h2 id=\"notes\">Notes</h2>\n<ul>\n", f);
	for (i = 0; i < m->nnotes; i++) {
		fputs("<li>", f);
		h(f, m->notes[i]);
		fputs("</li>\n", f);
	}
	if (m->nnotes > 0)
		fputs("</ul>\n", f);
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
