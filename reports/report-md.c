/* SPDX-License-Identifier: MIT */
/*
 * report-md.c — the support report as Markdown (CommonMark with GitHub
 * tables): the same sections as the HTML form, tables instead of charts.
 * Every text from the model is escaped so that it renders as the
 * characters it is: HTML metacharacters become entities (a Markdown
 * renderer passes raw HTML through), Markdown metacharacters get a
 * backslash, and table cells cannot break out of their column.
 */
#include <string.h>

#include "reports/report-int.h"

/* Write s escaped for Markdown text and table cells. */
static void
md(FILE *f, const char *s)
{
	static const char *const tab[128] = {
	    ['&'] = "&amp;",
	    ['<'] = "&lt;",
	    ['>'] = "&gt;",
	    ['\\'] = "\\\\",
	    ['`'] = "\\`",
	    ['*'] = "\\*",
	    ['_'] = "\\_",
	    ['['] = "\\[",
	    [']'] = "\\]",
	    ['|'] = "\\|",
	    ['~'] = "\\~",
	    ['#'] = "\\#",
	    ['!'] = "\\!",
	};

	rpt_escape(f, s, tab, NULL);
}

static void
md_num(FILE *f, double v, int decimals)
{
	char b[64];

	fputs(v < 0 ? "-" : rpt_num(b, sizeof b, v, decimals), f);
}

static void
md_facts(FILE *f, const struct rpt_model *m, enum rpt_section sec)
{
	size_t i;

	if (m->nfacts[sec] == 0) {
		fputs("(nothing known)\n", f);
		return;
	}
	fputs("| | |\n|---|---|\n", f);
	for (i = 0; i < m->nfacts[sec]; i++) {
		fputs("| ", f);
		md(f, m->facts[sec][i].key);
		fputs(" | ", f);
		md(f, m->facts[sec][i].value);
		fputs(" |\n", f);
	}
}

static void
md_config(FILE *f, const struct rpt_model *m)
{
	size_t i;

	fputs("\n## Configuration\n\n", f);
	md_facts(f, m, RPT_SEC_CONFIG);
	if (m->ncfg == 0)
		return;
	fputs("\n| key | value | from | note |\n|---|---|---|---|\n", f);
	for (i = 0; i < m->ncfg; i++) {
		fputs("| ", f);
		md(f, m->cfg[i].key);
		fputs(" | ", f);
		md(f, m->cfg[i].value);
		fputs(" | ", f);
		md(f, m->cfg[i].source);
		fputs(" | ", f);
		md(f, m->cfg[i].note);
		fputs(" |\n", f);
	}
}

static void
md_scan(FILE *f, const struct rpt_model *m)
{
	char diag[1024], t[40];
	size_t i;
	int st;

	fputs("\n## Last scan\n\n", f);
	if (!m->have_scan) {
		fputs("No scan in the history.\n", f);
		return;
	}
	fprintf(f, "Run %lld, ", (long long)m->scan_run_id);
	md(f, m->scan_status);
	fputs(", started ", f);
	md(f, rpt_time(t, sizeof t, m->run.started_ms));
	fputs(", ended ", f);
	md(f, rpt_time(t, sizeof t, m->run.ended_ms));
	fputs(", on ", f);
	md(f, m->scan_host);
	fputs(", mdns-doctor ", f);
	md(f, m->run.version);
	fputs(".\n\n| stage | tested | passed | failed | seconds |\n"
	      "|---|---:|---:|---:|---:|\n",
	    f);
	for (st = RES_STAGE_ENV; st < RES_STAGE_COUNT; st++) {
		const struct res_stage_stats *s = &m->run.stages[st];

		if (s->tested == 0 && s->passed == 0 && s->failed == 0)
			continue;
		fprintf(f, "| %s | %u | %u | %u | ",
		    res_stage_name((enum res_stage)st), s->tested, s->passed,
		    s->failed);
		md_num(f, (double)s->duration_ms / 1000.0, 1);
		fputs(" |\n", f);
	}
	rpt_model_diagnosis(m, diag, sizeof diag);
	fputs("\n**Diagnosis:** ", f);
	md(f, diag);
	fputs("\n", f);
	if (m->nok > 0) {
		fprintf(f,
		    "\nSurvivors, best first (%zu of %llu shown):\n\n"
		    "| resolver | port | domain | RTT ms | upload MTU | "
		    "download MTU | stage |\n"
		    "|---|---:|---|---:|---:|---:|---|\n",
		    m->nok, (unsigned long long)m->nok_total);
		for (i = 0; i < m->nok; i++) {
			const struct res_resolver *r = &m->ok[i];

			fputs("| ", f);
			md(f, r->addr);
			fprintf(f, " | %u | ", r->port);
			md(f, r->domain);
			fputs(" | ", f);
			md_num(f,
			    r->rtt_us < 0 ? -1 : (double)r->rtt_us / 1000.0, 1);
			fprintf(f, " | %d | %d | %s |\n", r->upload_mtu,
			    r->download_mtu, res_stage_name(r->stage));
		}
	}
	if (m->nfails > 0) {
		fputs("\nFailures by stage and reason:\n\n"
		      "| stage | reason | count | example |\n"
		      "|---|---|---:|---|\n",
		    f);
		for (i = 0; i < m->nfails; i++) {
			fprintf(f, "| %s | %s (",
			    res_stage_name(m->fails[i].stage),
			    res_reason_name(m->fails[i].reason));
			md(f, res_reason_text(m->fails[i].reason));
			fprintf(f, ") | %u | ", m->fails[i].count);
			md(f, m->fails[i].example);
			fputs(" |\n", f);
		}
	}
}

static void
md_checks(FILE *f, const struct rpt_model *m)
{
	char t[40];
	size_t i;

	fputs("\n## Last checks\n\n", f);
	if (m->nchk == 0) {
		fputs("No checks in the history.\n", f);
		return;
	}
	for (i = 0; i < m->nchk; i++) {
		const struct res_check *c = &m->chk[i].c;

		fprintf(f, "- **%s** (", res_check_kind_name(c->kind));
		md(f, m->chk[i].command);
		fprintf(f, " run %lld, ", (long long)m->chk[i].run_id);
		md(f, rpt_time(t, sizeof t, c->at_ms));
		fputs(") ", f);
		md(f, c->subject);
		fprintf(f, ": **%s** %s — ", res_verdict_name(c->verdict),
		    res_reason_name(c->reason));
		md(f, c->detail);
		fputs("\n  evidence: ", f);
		md(f, c->evidence);
		fputs("\n", f);
	}
}

static void
md_engine(FILE *f, const struct rpt_model *m)
{
	char t[40], r1[48], r2[48];
	size_t i;

	fputs("\n## Engine\n\n", f);
	if (m->live == NULL) {
		fputs("Live status: ", f);
		md(f, m->live_why ? m->live_why : "not asked");
		fputs(".\n\n", f);
	} else {
		md_facts(f, m, RPT_SEC_ENGINE);
		fputs("\n", f);
	}
	if (m->neres > 0) {
		fprintf(f,
		    "Resolvers (%s):\n\n| resolver | domain | state | RTT ms | "
		    "loss %% | sent | answered | timeouts |\n"
		    "|---|---|---|---:|---:|---:|---:|---:|\n",
		    m->eres_live ? "live" : "last snapshot");
		for (i = 0; i < m->neres; i++) {
			const struct rpt_eres *r = &m->eres[i];

			fputs("| ", f);
			md(f, r->address);
			fputs(" | ", f);
			md(f, r->domain);
			fputs(" | ", f);
			md(f, r->state);
			fputs(" | ", f);
			md_num(f, r->rtt_ms, 1);
			fputs(" | ", f);
			md_num(f, r->loss < 0 ? -1 : 100 * r->loss, 1);
			fputs(" | ", f);
			md_num(f, r->sent, 0);
			fputs(" | ", f);
			md_num(f, r->answered, 0);
			fputs(" | ", f);
			md_num(f, r->timeouts, 0);
			fputs(" |\n", f);
		}
		fputs("\n", f);
	}
	fputs("Timeline (", f);
	md(f, m->role[0] ? m->role : "-");
	fprintf(f, ", %zu snapshot(s)", m->npts);
	if (m->nother > 0)
		fprintf(f, "; %zu of the other role not shown", m->nother);
	fputs("):", f);
	if (m->npts == 0)
		fputs(" none in the history.\n", f);
	else
		fputs("\n\n", f);
	if (m->npts > 0) {
		fputs("| time | phase | session | up | down | active "
		      "resolvers |\n|---|---|---:|---:|---:|---:|\n",
		    f);
		for (i = 0; i < m->npts; i++) {
			const struct rpt_point *p = &m->pts[i];

			/* Phase changes, the first and the last point. */
			if (i > 0 && i + 1 < m->npts &&
			    strcmp(p->phase, m->pts[i - 1].phase) == 0 &&
			    p->session_id == m->pts[i - 1].session_id)
				continue;
			fputs("| ", f);
			md(f, rpt_time(t, sizeof t, p->at_ms));
			fputs(" | ", f);
			md(f, p->phase);
			fprintf(f, " | %lld | %s | %s | ",
			    (long long)p->session_id,
			    rpt_rate(r1, sizeof r1, p->rate_up),
			    rpt_rate(r2, sizeof r2, p->rate_down));
			md_num(f, p->active, 0);
			fputs(" |\n", f);
		}
	}
	fprintf(f, "\nEvents (%zu", m->nev);
	if (m->ev_dropped > 0)
		fprintf(f, "; %llu more not kept",
		    (unsigned long long)m->ev_dropped);
	fputs(m->nev > 0 ? "):\n\n" : "): none.\n", f);
	if (m->nev > 0)
		fputs("| time | kind | resolver | detail |\n"
		      "|---|---|---|---|\n",
		    f);
	for (i = 0; i < m->nev; i++) {
		fputs("| ", f);
		md(f, rpt_time(t, sizeof t, m->ev[i].at_ms));
		fputs(" | ", f);
		md(f, m->ev[i].kind);
		fputs(" | ", f);
		md(f, m->ev[i].resolver);
		fputs(" | ", f);
		md(f, m->ev[i].detail);
		fputs(" |\n", f);
	}
}

int
rpt_render_md(struct rpt_model *m, FILE *f)
{
	const char *sec[8];
	size_t i, n;

	/* The marker is the first line, as in every form. */
	md(f, m->marker);
	fputs("\n\n# mdns-doctor support report\n\n", f);
	fprintf(f, "Report id `%s`; addresses redacted: %s.\n", m->id,
	    rpt_redact_name(m->rdx.mode));
	n = rpt_model_security(m, sec, nitems(sec));
	if (n > 0)
		fputs("\n## Security notes\n\n", f);
	for (i = 0; i < n; i++) {
		fputs("- ", f);
		md(f, sec[i]);
		fputs("\n", f);
	}
	fputs("\n## Versions\n\n", f);
	md_facts(f, m, RPT_SEC_VERSIONS);
	fputs("\n## Host and environment\n\n", f);
	md_facts(f, m, RPT_SEC_HOST);
	md_config(f, m);
	md_scan(f, m);
	md_checks(f, m);
	md_engine(f, m);
	if (m->nnotes > 0)
		fputs("\n## Notes\n\n", f);
	for (i = 0; i < m->nnotes; i++) {
		fputs("- ", f);
		md(f, m->notes[i]);
		fputs("\n", f);
	}
	return ferror(f) ? -1 : 0;
}
