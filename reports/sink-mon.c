/* SPDX-License-Identifier: MIT */
/*
 * sink-mon.c — the two monitoring formats of sink.h: prom (Prometheus
 * text exposition 0.0.4, for node_exporter's textfile collector) and
 * nagios (one monitoring-plugins line with performance data). Both
 * buffer what they are given and write at close: Prometheus wants every
 * sample of a family together under its HELP and TYPE, and a plugin's
 * line carries the state first and the data last.
 *
 * It decides no verdict of its own beyond the nagios fallback (the worst
 * check, or CRITICAL when results came and none passed) and names no
 * secret (the model has none). Labels and texts from the wire are made
 * valid UTF-8 and escaped for each format; numbers never depend on the
 * locale. docs/output-formats.md lists every metric.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "reports/sink-int.h"

/* One resolver's gauges (prom) and what nagios needs of it. */
struct mon_res {
	char *labels; /* resolver="..",domain=".." */
	char *state;  /* ,verdict="..",stage="..",reason=".." */
	int passed;
	double rtt_s; /* NAN when unknown */
	double loss;  /* 0..1, negative when not measured */
	int up, down; /* -1 when unknown */
};

struct mon_check {
	char *labels; /* check="..",subject=".." */
	int code;     /* EXIT_* of the verdict */
};

/* A perf value with its strings owned (freed through a cast). */
struct mon_perf {
	struct rpt_perf p;
};

struct rpt_mon {
	struct mon_res *res;
	size_t nres, rescap;
	struct hmap_strset seen; /* resolver|domain already taken */
	uint64_t nresults, npassed;
	struct mon_check *chk;
	size_t nchk, chkcap;
	struct mon_perf *perf;
	size_t nperf, perfcap;
	int have_status, status;
	char *status_text;
};

static struct rpt_mon *
mon(struct rpt_sink *s)
{
	struct rpt_mon **m = rpt_mon_slot(s);

	if (*m == NULL)
		*m = xcalloc(1, sizeof **m);
	return *m;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
rpt_mon_free(struct rpt_mon *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nres; i++) {
		free(m->res[i].labels);
		free(m->res[i].state);
	}
	for (i = 0; i < m->nchk; i++)
		free(m->chk[i].labels);
	for (i = 0; i < m->nperf; i++) {
		free((char *)m->perf[i].p.label);
		free((char *)m->perf[i].p.uom);
		free((char *)m->perf[i].p.warn);
		free((char *)m->perf[i].p.crit);
		free((char *)m->perf[i].p.help);
	}
	free(m->res);
	free(m->chk);
	free(m->perf);
	free(m->status_text);
	hmap_strset_free(&m->seen);
	free(m);
}

/* ---- Prometheus text: names, label values, numbers ---------------------- */

/* A label value: valid UTF-8 with \\, \" and \n escaped. malloc'd. */
static char *
prom_label_value(const char *v)
{
	char *c = rpt_clean_text(v, 0), *out = xmalloc(strlen(c) * 2 + 1);
	const char *p;
	size_t o = 0;

	for (p = c; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	free(c);
	return out;
}

/* A name part: [a-z0-9_] only (others become '_'), into buf. */
static void
prom_name_part(const char *in, char *buf, size_t len)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf[i] =
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	buf[i] = '\0';
}

/* A sample value: integers as such, else up to 6 decimals, trimmed. */
static void
num_text(double v, char *buf, size_t len)
{
	char *p;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (fabs(v) < 9e15 && v == floor(v)) {
		snprintf(buf, len, "%lld", (long long)v);
		return;
	}
	rpt_fmt_fixed(v, 6, buf, len);
	if (strchr(buf, '.') == NULL)
		return;
	for (p = buf + strlen(buf) - 1; *p == '0'; p--)
		*p = '\0';
	if (*p == '.')
		*p = '\0';
}

/* mdns_doctor_COMMAND from the summary, or mdns_doctor without one. */
static void
prom_prefix(struct rpt_sink *s, char *buf, size_t len)
{
	const struct res_run *run = rpt_run(s);
	char cmd[RES_COMMAND_MAX];

	if (run == NULL || run->command[0] == '\0') {
		snprintf(buf, len, "mdns_doctor");
		return;
	}
	prom_name_part(run->command, cmd, sizeof cmd);
	snprintf(buf, len, "mdns_doctor_%s", cmd);
}

/* ---- taking records -------------------------------------------------- */

int
rpt_mon_result(struct rpt_sink *s, const struct res_resolver *r)
{
	struct rpt_mon *m = mon(s);
	struct mon_res *x;
	char who[RES_ADDR_MAX + 16], *key, *a, *d, *st, *re;

	rpt_resolver_text(r->addr, r->port, who, sizeof who);
	m->nresults++;
	m->npassed += res_passed(r) != 0;
	/* One series per resolver and domain: the first result wins. */
	key = xasprintf("%s|%s", who, r->domain);
	if (!hmap_strset_add(&m->seen, key)) {
		free(key);
		return 0;
	}
	free(key);
	if (m->nres == m->rescap) {
		m->rescap = m->rescap ? m->rescap * 2 : 32;
		m->res = xreallocarray(m->res, m->rescap, sizeof *m->res);
	}
	x = &m->res[m->nres++];
	a = prom_label_value(who);
	d = prom_label_value(r->domain);
	st = prom_label_value(res_stage_name(r->stage));
	re = prom_label_value(res_reason_name(r->reason));
	x->labels = xasprintf("resolver=\"%s\",domain=\"%s\"", a, d);
	x->state = xasprintf(",verdict=\"%s\",stage=\"%s\",reason=\"%s\"",
	    res_verdict_name(r->verdict), st, re);
	free(a);
	free(d);
	free(st);
	free(re);
	x->passed = res_passed(r) != 0;
	x->loss = res_loss_rate(r);
	x->rtt_s = r->rtt_us >= 0 ? (double)r->rtt_us / 1e6 : NAN;
	x->up = r->upload_mtu;
	x->down = r->download_mtu;
	return 0;
}

int
rpt_mon_check(struct rpt_sink *s, const struct res_check *c)
{
	struct rpt_mon *m = mon(s);
	char *k, *sub;

	if (m->nchk == m->chkcap) {
		m->chkcap = m->chkcap ? m->chkcap * 2 : 8;
		m->chk = xreallocarray(m->chk, m->chkcap, sizeof *m->chk);
	}
	k = prom_label_value(res_check_kind_name(c->kind));
	sub = prom_label_value(c->subject);
	m->chk[m->nchk].labels =
	    xasprintf("check=\"%s\",subject=\"%s\"", k, sub);
	m->chk[m->nchk++].code = res_verdict_exit(c->verdict);
	free(k);
	free(sub);
	return 0;
}

int
rpt_mon_summary(struct rpt_sink *s, const struct res_run *run)
{
	(void)mon(s);
	return 0;
}

int
rpt_mon_perf(struct rpt_sink *s, const struct rpt_perf *p)
{
	struct rpt_mon *m = mon(s);
	struct mon_perf *x;

	if (p->label == NULL || p->label[0] == '\0')
		return rpt_fail(s, "%s", "perf: a value needs a label");
	if (m->nperf == m->perfcap) {
		m->perfcap = m->perfcap ? m->perfcap * 2 : 8;
		m->perf = xreallocarray(m->perf, m->perfcap, sizeof *m->perf);
	}
	x = &m->perf[m->nperf++];
	x->p = *p;
	x->p.label = xstrdup(p->label);
	x->p.uom = xstrdup(p->uom ? p->uom : "");
	x->p.warn = dup_or_null(p->warn);
	x->p.crit = dup_or_null(p->crit);
	x->p.help = dup_or_null(p->help);
	return 0;
}

int
rpt_mon_status(struct rpt_sink *s, int code, const char *text)
{
	struct rpt_mon *m = mon(s);

	m->have_status = 1;
	m->status =
	    code >= EXIT_OK && code <= EXIT_UNKNOWN ? code : EXIT_UNKNOWN;
	free(m->status_text);
	m->status_text = xstrdup(text ? text : "");
	return 0;
}

/* ---- prom output ------------------------------------------------------- */

/* HELP and TYPE of one gauge family. */
static int
family(struct rpt_sink *s, const char *name, const char *help)
{
	char *h = rpt_clean_text(help, 1);
	int rc;

	/* One line: clean_text writes a newline as the two characters \n,
	 * which is HELP's escape for it. */
	rc = fprintf(rpt_out(s), "# HELP %s %s\n# TYPE %s gauge\n", name, h,
		 name) < 0;
	free(h);
	return rc ? rpt_fail(s, "%s", "write error") : 0;
}

static int
sample(struct rpt_sink *s, const char *name, const char *labels,
    const char *extra, double v)
{
	char num[64];

	num_text(v, num, sizeof num);
	if (fprintf(rpt_out(s), "%s%s%s%s%s %s\n", name,
		labels || extra ? "{" : "", labels ? labels : "",
		extra ? extra : "", labels || extra ? "}" : "", num) < 0)
		return rpt_fail(s, "%s", "write error");
	return 0;
}

/* The prom name of a perf value: base units and their suffix. */
static double
perf_name(const char *prefix, const struct rpt_perf *p, char *buf, size_t len)
{
	static const struct {
		const char *uom, *suffix;
		double scale;
	} units[] = {
	    {"ms", "_seconds", 1e-3},
	    {"us", "_seconds", 1e-6},
	    {"s", "_seconds", 1},
	    {"%", "_ratio", 1e-2},
	    {"B", "_bytes", 1},
	    {"KB", "_bytes", 1024},
	    {"MB", "_bytes", 1048576},
	    {"TB", "_bytes", 1099511627776.0},
	};
	char label[64];
	size_t i;

	prom_name_part(p->label, label, sizeof label);
	for (i = 0; i < nitems(units); i++)
		if (strcmp(p->uom, units[i].uom) == 0) {
			snprintf(buf, len, "%s_%s%s", prefix, label,
			    units[i].suffix);
			return units[i].scale;
		}
	snprintf(buf, len, "%s_%s", prefix, label);
	return 1;
}

static int
prom_results(struct rpt_sink *s, struct rpt_mon *m, const char *prefix)
{
	char name[160];
	size_t i;
	int rc = 0;

	snprintf(name, sizeof name, "%s_resolver_passed", prefix);
	rc |= family(s, name,
	    "1 when the resolver passed every stage it was put through");
	for (i = 0; i < m->nres; i++)
		rc |= sample(s, name, m->res[i].labels, m->res[i].state,
		    m->res[i].passed);
	snprintf(name, sizeof name, "%s_resolver_rtt_seconds", prefix);
	rc |= family(s, name, "median round trip of the resolver's probes");
	for (i = 0; i < m->nres; i++)
		if (!isnan(m->res[i].rtt_s))
			rc |= sample(
			    s, name, m->res[i].labels, NULL, m->res[i].rtt_s);
	snprintf(name, sizeof name, "%s_resolver_loss_ratio", prefix);
	rc |= family(s, name, "share of the resolver's probes left unanswered");
	for (i = 0; i < m->nres; i++)
		if (m->res[i].loss >= 0)
			rc |= sample(
			    s, name, m->res[i].labels, NULL, m->res[i].loss);
	snprintf(name, sizeof name, "%s_resolver_upload_mtu_bytes", prefix);
	rc |= family(s, name, "exact upload MTU through the resolver");
	for (i = 0; i < m->nres; i++)
		if (m->res[i].up >= 0)
			rc |= sample(
			    s, name, m->res[i].labels, NULL, m->res[i].up);
	snprintf(name, sizeof name, "%s_resolver_download_mtu_bytes", prefix);
	rc |= family(s, name, "exact download MTU through the resolver");
	for (i = 0; i < m->nres; i++)
		if (m->res[i].down >= 0)
			rc |= sample(
			    s, name, m->res[i].labels, NULL, m->res[i].down);
	return rc ? -1 : 0;
}

static int
prom_summary(struct rpt_sink *s, const struct res_run *run, const char *prefix)
{
	static const struct {
		const char *what, *help;
	} fam[] = {
	    {"tested", "resolvers x domains tested in the stage"},
	    {"passed", "of those, passed"},
	    {"failed", "of those, failed"},
	    {"duration_seconds", "wall time spent in the stage"},
	};
	char name[160], lab[48];
	size_t f;
	int i, rc = 0, any = 0;

	/* Stages nothing was tested in are left out (as in text). */
	for (i = RES_STAGE_NONE + 1; i < RES_STAGE_COUNT; i++)
		any |=
		    run->stages[i].tested > 0 || run->stages[i].duration_ms > 0;
	for (f = 0; any && f < nitems(fam); f++) {
		snprintf(name, sizeof name, "%s_stage_%s", prefix, fam[f].what);
		rc |= family(s, name, fam[f].help);
		for (i = RES_STAGE_NONE + 1; i < RES_STAGE_COUNT; i++) {
			const struct res_stage_stats *x = &run->stages[i];

			if (x->tested == 0 && x->duration_ms == 0)
				continue;
			snprintf(lab, sizeof lab, "stage=\"%s\"",
			    res_stage_name((enum res_stage)i));
			rc |= sample(s, name, lab, NULL,
			    f == 0     ? x->tested :
				f == 1 ? x->passed :
				f == 2 ? x->failed :
					 (double)x->duration_ms / 1000);
		}
	}
	if (run->started_ms > 0) {
		snprintf(
		    name, sizeof name, "%s_started_timestamp_seconds", prefix);
		rc |= family(s, name, "when the run started (UTC)");
		rc |=
		    sample(s, name, NULL, NULL, (double)run->started_ms / 1000);
	}
	if (run->started_ms > 0 && run->ended_ms >= run->started_ms) {
		snprintf(name, sizeof name, "%s_duration_seconds", prefix);
		rc |= family(s, name, "how long the run took");
		rc |= sample(s, name, NULL, NULL,
		    (double)(run->ended_ms - run->started_ms) / 1000);
	}
	return rc ? -1 : 0;
}

int
rpt_prom_close(struct rpt_sink *s)
{
	struct rpt_mon *m = mon(s);
	const struct res_run *run = rpt_run(s);
	char prefix[64], name[200];
	double scale;
	size_t i, j;
	int rc = 0, dup;

	prom_prefix(s, prefix, sizeof prefix);
	if (m->have_status) {
		snprintf(name, sizeof name, "%s_status", prefix);
		rc |= family(s, name,
		    "overall state: 0 ok, 1 warning, 2 critical, 3 unknown");
		rc |= sample(s, name, NULL, NULL, m->status);
	}
	for (i = 0; i < m->nperf; i++) {
		scale = perf_name(prefix, &m->perf[i].p, name, sizeof name);
		/* A name given twice would be two families: keep the first. */
		for (dup = 0, j = 0; j < i && !dup; j++) {
			char other[200];

			perf_name(prefix, &m->perf[j].p, other, sizeof other);
			dup = strcmp(other, name) == 0;
		}
		if (dup)
			continue;
		rc |= family(s, name,
		    m->perf[i].p.help ? m->perf[i].p.help : m->perf[i].p.label);
		rc |= sample(s, name, NULL, NULL, m->perf[i].p.value * scale);
	}
	if (m->nchk > 0) {
		snprintf(name, sizeof name, "%s_verdict", prefix);
		rc |= family(s, name,
		    "state of one check: 0 ok, 1 warning, 2 critical, "
		    "3 unknown");
		for (i = 0; i < m->nchk; i++)
			rc |= sample(
			    s, name, m->chk[i].labels, NULL, m->chk[i].code);
	}
	if (m->nres > 0)
		rc |= prom_results(s, m, prefix);
	if (run != NULL)
		rc |= prom_summary(s, run, prefix);
	return rc ? -1 : 0;
}

/* ---- nagios output ----------------------------------------------------- */

/* Text for the status line: one line, no '|' (it starts the perfdata). */
static char *
plugin_text(const char *t)
{
	char *c = rpt_clean_text(t, 1), *p;

	for (p = c; *p != '\0'; p++)
		if (*p == '|')
			*p = '/';
	return c;
}

/* A threshold keeps only the characters of the range syntax. */
static void
range_text(const char *in, char *buf, size_t len)
{
	size_t o = 0;

	for (; in != NULL && *in != '\0' && o + 1 < len; in++)
		if (strchr("0123456789.:~@-", *in) != NULL)
			buf[o++] = *in;
	buf[o] = '\0';
}

/* One perfdata item: 'label'=value[uom];warn;crit;min;max, trailing
 * empty fields left out. */
static int
perfdata(struct rpt_sink *s, const struct rpt_perf *p)
{
	char v[64], mn[64] = "", mx[64] = "", lab[80], w[32], c[32];
	const char *f[4];
	size_t i, o = 0, last;
	int rc;

	/* Printable ASCII; quotes doubled (the guidelines' rule). */
	for (i = 0; p->label[i] != '\0' && o + 3 < sizeof lab; i++) {
		unsigned char ch = (unsigned char)p->label[i];

		if (ch == '\'')
			lab[o++] = '\'';
		lab[o++] = ch == '=' || ch < 0x21 || ch > 0x7e ? '_' : (char)ch;
	}
	lab[o] = '\0';
	range_text(p->warn, w, sizeof w);
	range_text(p->crit, c, sizeof c);
	if (isfinite(p->value))
		num_text(p->value, v, sizeof v);
	else
		snprintf(v, sizeof v, "U");
	if (isfinite(p->min))
		num_text(p->min, mn, sizeof mn);
	if (isfinite(p->max))
		num_text(p->max, mx, sizeof mx);
	f[0] = w;
	f[1] = c;
	f[2] = mn;
	f[3] = mx;
	for (last = 4; last > 0 && f[last - 1][0] == '\0'; last--)
		;
	rc = fprintf(rpt_out(s), " '%s'=%s%s", lab, v,
		 isfinite(p->value) && p->uom ? p->uom : "") < 0;
	for (i = 0; i < last && !rc; i++)
		rc = fprintf(rpt_out(s), ";%s", f[i]) < 0;
	return rc ? rpt_fail(s, "%s", "write error") : 0;
}

int
rpt_nagios_close(struct rpt_sink *s)
{
	struct rpt_mon *m = mon(s);
	const struct res_run *run = rpt_run(s);
	struct rpt_perf derived[3];
	size_t i, nd = 0;
	int code = EXIT_OK, rank[] = {0, 2, 3, 1}, rc;
	char *text;

	if (m->have_status) {
		code = m->status;
		text = plugin_text(m->status_text);
	} else {
		/* The worst check (critical > warning > unknown > ok), and no
		 * survivor among the results is critical. */
		for (i = 0; i < m->nchk; i++)
			if (rank[m->chk[i].code] > rank[code])
				code = m->chk[i].code;
		if (m->nresults > 0 && m->npassed == 0)
			code = EXIT_CRITICAL;
		if (m->nresults > 0)
			text = xasprintf("%s: %llu of %llu resolvers passed",
			    run ? run->command : "results",
			    (unsigned long long)m->npassed,
			    (unsigned long long)m->nresults);
		else
			text = xasprintf("%zu check(s)", m->nchk);
	}
	if (m->nresults > 0) {
		memset(derived, 0, sizeof derived);
		derived[nd].label = "passed";
		derived[nd].uom = "";
		derived[nd].value = (double)m->npassed;
		derived[nd].min = 0;
		derived[nd++].max = (double)m->nresults;
		derived[nd].label = "tested";
		derived[nd].uom = "";
		derived[nd].value = (double)m->nresults;
		derived[nd].min = 0;
		derived[nd++].max = NAN;
	}
	if (run != NULL && run->started_ms > 0 &&
	    run->ended_ms >= run->started_ms) {
		memset(&derived[nd], 0, sizeof derived[nd]);
		derived[nd].label = "time";
		derived[nd].uom = "s";
		derived[nd].value =
		    (double)(run->ended_ms - run->started_ms) / 1000;
		derived[nd].min = 0;
		derived[nd++].max = NAN;
	}
	rc = fprintf(rpt_out(s), "MDNS-DOCTOR %s - %s", rpt_state_name(code),
		 text) < 0;
	free(text);
	if (rc)
		return rpt_fail(s, "%s", "write error");
	if (m->nperf + nd > 0 && fputs(" |", rpt_out(s)) == EOF)
		return rpt_fail(s, "%s", "write error");
	for (i = 0; i < m->nperf; i++)
		if (perfdata(s, &m->perf[i].p) != 0)
			return -1;
	for (i = 0; i < nd; i++)
		if (perfdata(s, &derived[i]) != 0)
			return -1;
	if (fputc('\n', rpt_out(s)) == EOF)
		return rpt_fail(s, "%s", "write error");
	return 0;
}
