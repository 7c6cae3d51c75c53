/* SPDX-License-Identifier: MIT */
/*
 * report-json.c — the support report as one JSON document (jansson),
 * members in a fixed order with "marker" first. It shows the model as it
 * is (every text already redacted); unknown numbers are null. The
 * document's shape is described in docs/report.md.
 */
#include <math.h>
#include <string.h>

#include "reports/report-int.h"

/* Model texts are valid UTF-8 already (report-redact.c cleans them). */
static json_t *
jstr(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	return j != NULL ? j : json_null();
}

/* A number, or null when unknown (negative or not finite). */
static json_t *
jnum(double v)
{
	if (!isfinite(v) || v < 0)
		return json_null();
	if (v == floor(v) && v < 9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *
jtime(int64_t ms)
{
	return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *
facts(const struct rpt_model *m, enum rpt_section sec)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < m->nfacts[sec]; i++)
		json_object_set_new(
		    o, m->facts[sec][i].key, jstr(m->facts[sec][i].value));
	return o;
}

static json_t *
config(const struct rpt_model *m)
{
	json_t *o = json_object(), *keys = json_array(), *k;
	size_t i;

	json_object_set_new(o, "summary", facts(m, RPT_SEC_CONFIG));
	json_object_set_new(o, "method",
	    m->method >= 0 ? json_integer(m->method) : json_null());
	json_object_set_new(o, "method_name",
	    m->method >= 0 ? jstr(m->method_name) : json_null());
	for (i = 0; i < m->ncfg; i++) {
		k = json_object();
		json_object_set_new(k, "key", jstr(m->cfg[i].key));
		json_object_set_new(k, "value", jstr(m->cfg[i].value));
		json_object_set_new(k, "source", jstr(m->cfg[i].source));
		json_object_set_new(
		    k, "secret", json_boolean(m->cfg[i].secret));
		if (m->cfg[i].note != NULL)
			json_object_set_new(k, "note", jstr(m->cfg[i].note));
		json_array_append_new(keys, k);
	}
	json_object_set_new(o, "keys", keys);
	return o;
}

static json_t *
result(const struct res_resolver *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "address", jstr(r->addr));
	json_object_set_new(o, "port", json_integer(r->port));
	json_object_set_new(o, "domain", jstr(r->domain));
	json_object_set_new(o, "stage", jstr(res_stage_name(r->stage)));
	json_object_set_new(o, "verdict", jstr(res_verdict_name(r->verdict)));
	json_object_set_new(o, "reason", jstr(res_reason_name(r->reason)));
	json_object_set_new(o, "rtt_ms",
	    r->rtt_us >= 0 ? jnum((double)r->rtt_us / 1000.0) : json_null());
	json_object_set_new(o, "upload_mtu", jnum(r->upload_mtu));
	json_object_set_new(o, "download_mtu", jnum(r->download_mtu));
	json_object_set_new(o, "burst_success",
	    r->burst_sent > 0 ? jnum(res_burst_rate(r)) : json_null());
	json_object_set_new(o, "evidence", jstr(r->evidence));
	json_object_set_new(o, "at_ms", jtime(r->at_ms));
	return o;
}

static json_t *
scan(const struct rpt_model *m)
{
	json_t *o, *a, *x;
	char diag[1024];
	size_t i;
	int st;

	if (!m->have_scan)
		return json_null();
	o = json_object();
	json_object_set_new(o, "run_id", json_integer(m->scan_run_id));
	json_object_set_new(o, "status", jstr(m->scan_status));
	json_object_set_new(o, "host", jstr(m->scan_host));
	json_object_set_new(o, "version", jstr(m->run.version));
	json_object_set_new(o, "started_ms", jtime(m->run.started_ms));
	json_object_set_new(o, "ended_ms", jtime(m->run.ended_ms));
	a = json_array();
	for (st = RES_STAGE_ENV; st < RES_STAGE_COUNT; st++) {
		const struct res_stage_stats *s = &m->run.stages[st];

		if (s->tested == 0 && s->passed == 0 && s->failed == 0)
			continue;
		x = json_object();
		json_object_set_new(
		    x, "stage", jstr(res_stage_name((enum res_stage)st)));
		json_object_set_new(x, "tested", json_integer(s->tested));
		json_object_set_new(x, "passed", json_integer(s->passed));
		json_object_set_new(x, "failed", json_integer(s->failed));
		json_object_set_new(
		    x, "duration_ms", jnum((double)s->duration_ms));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "stages", a);
	json_object_set_new(
	    o, "survivors_total", json_integer((json_int_t)m->nok_total));
	a = json_array();
	for (i = 0; i < m->nok; i++)
		json_array_append_new(a, result(&m->ok[i]));
	json_object_set_new(o, "survivors", a);
	a = json_array();
	for (i = 0; i < m->nfails; i++) {
		x = json_object();
		json_object_set_new(
		    x, "stage", jstr(res_stage_name(m->fails[i].stage)));
		json_object_set_new(
		    x, "reason", jstr(res_reason_name(m->fails[i].reason)));
		json_object_set_new(
		    x, "text", jstr(res_reason_text(m->fails[i].reason)));
		json_object_set_new(
		    x, "count", json_integer(m->fails[i].count));
		json_object_set_new(x, "example", jstr(m->fails[i].example));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "failures", a);
	rpt_model_diagnosis(m, diag, sizeof diag);
	json_object_set_new(o, "diagnosis", jstr(diag));
	return o;
}

static json_t *
checks(const struct rpt_model *m)
{
	json_t *a = json_array(), *x;
	size_t i;

	for (i = 0; i < m->nchk; i++) {
		const struct res_check *c = &m->chk[i].c;

		x = json_object();
		json_object_set_new(x, "command", jstr(m->chk[i].command));
		json_object_set_new(
		    x, "run_id", json_integer(m->chk[i].run_id));
		json_object_set_new(
		    x, "run_started_ms", jtime(m->chk[i].run_started_ms));
		json_object_set_new(
		    x, "kind", jstr(res_check_kind_name(c->kind)));
		json_object_set_new(x, "subject", jstr(c->subject));
		json_object_set_new(
		    x, "verdict", jstr(res_verdict_name(c->verdict)));
		json_object_set_new(
		    x, "reason", jstr(res_reason_name(c->reason)));
		json_object_set_new(x, "detail", jstr(c->detail));
		json_object_set_new(x, "evidence", jstr(c->evidence));
		json_object_set_new(x, "at_ms", jtime(c->at_ms));
		json_array_append_new(a, x);
	}
	return a;
}

static json_t *
engine(const struct rpt_model *m)
{
	json_t *o = json_object(), *a, *x;
	size_t i;

	json_object_set_new(o, "role", jstr(m->role[0] ? m->role : NULL));
	json_object_set_new(
	    o, "live", m->live ? json_incref(m->live) : json_null());
	json_object_set_new(o, "live_unavailable", jstr(m->live_why));
	a = json_array();
	for (i = 0; i < m->neres; i++) {
		const struct rpt_eres *r = &m->eres[i];

		x = json_object();
		json_object_set_new(x, "address", jstr(r->address));
		json_object_set_new(x, "domain", jstr(r->domain));
		json_object_set_new(x, "state", jstr(r->state));
		json_object_set_new(x, "rtt_ms", jnum(r->rtt_ms));
		json_object_set_new(x, "loss", jnum(r->loss));
		json_object_set_new(x, "sent", jnum(r->sent));
		json_object_set_new(x, "answered", jnum(r->answered));
		json_object_set_new(x, "timeouts", jnum(r->timeouts));
		json_object_set_new(x, "upload_mtu", jnum(r->upload_mtu));
		json_object_set_new(x, "download_mtu", jnum(r->download_mtu));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "resolvers_from",
	    m->neres == 0 ? json_null() :
			    jstr(m->eres_live ? "live" : "snapshot"));
	json_object_set_new(o, "resolvers", a);
	a = json_array();
	for (i = 0; i < m->npts; i++) {
		const struct rpt_point *p = &m->pts[i];

		x = json_object();
		json_object_set_new(x, "at_ms", jtime(p->at_ms));
		json_object_set_new(x, "phase", jstr(p->phase));
		json_object_set_new(x, "session_id",
		    p->session_id > 0 ? json_integer(p->session_id) :
					json_null());
		json_object_set_new(x, "bytes_up", jnum(p->bytes_up));
		json_object_set_new(x, "bytes_down", jnum(p->bytes_down));
		json_object_set_new(x, "rate_up_bps", jnum(p->rate_up));
		json_object_set_new(x, "rate_down_bps", jnum(p->rate_down));
		json_object_set_new(x, "resolvers_active", jnum(p->active));
		json_object_set_new(x, "retransmits", jnum(p->retransmits));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "timeline", a);
	json_object_set_new(
	    o, "other_role_snapshots", json_integer((json_int_t)m->nother));
	a = json_array();
	for (i = 0; i < m->nev; i++) {
		x = json_object();
		json_object_set_new(x, "at_ms", jtime(m->ev[i].at_ms));
		json_object_set_new(x, "kind", jstr(m->ev[i].kind));
		json_object_set_new(x, "resolver", jstr(m->ev[i].resolver));
		json_object_set_new(x, "detail", jstr(m->ev[i].detail));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "events", a);
	json_object_set_new(
	    o, "events_dropped", json_integer((json_int_t)m->ev_dropped));
	return o;
}

int
rpt_render_json(struct rpt_model *m, FILE *out)
{
	json_t *root = json_object(), *a;
	const char *sec[8];
	char iso[40];
	size_t i, n;
	int rc;

	json_object_set_new(root, "marker", jstr(m->marker));
	a = json_object();
	json_object_set_new(a, "id", jstr(m->id));
	json_object_set_new(a, "generated_ms", jtime(m->now_ms));
	json_object_set_new(
	    a, "generated", jstr(rpt_time(iso, sizeof iso, m->now_ms)));
	json_object_set_new(a, "redact", jstr(rpt_redact_name(m->rdx.mode)));
	json_object_set_new(a, "schema", json_integer(1));
	json_object_set_new(root, "report", a);
	json_object_set_new(root, "versions", facts(m, RPT_SEC_VERSIONS));
	json_object_set_new(root, "host", facts(m, RPT_SEC_HOST));
	json_object_set_new(root, "config", config(m));
	a = json_array();
	n = rpt_model_security(m, sec, nitems(sec));
	for (i = 0; i < n; i++)
		json_array_append_new(a, jstr(sec[i]));
	json_object_set_new(root, "security", a);
	json_object_set_new(root, "scan", scan(m));
	json_object_set_new(root, "checks", checks(m));
	json_object_set_new(root, "engine", engine(m));
	a = json_array();
	for (i = 0; i < m->nnotes; i++)
		json_array_append_new(a, jstr(m->notes[i]));
	json_object_set_new(root, "notes", a);
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc != 0 || fputc('\n', out) == EOF)
		return -1;
	return 0;
}
