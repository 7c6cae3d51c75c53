/* SPDX-License-Identifier: MIT */
/*
 * check.c — the judgement of `check` (check.h): threshold ranges in the
 * monitoring-plugins syntax, the default limits, and one pure function
 * per sub-check from its observations to a res_check and its measured
 * values. No I/O, no clock: the CLI passes `now`.
 *
 * The status fields read are those of docs/control-protocol.md; the
 * last-valid-answer age is read where the engine reports it
 * (last_valid_answer_age_ms or last_valid_answer_ms, at the top or in
 * "session") and treated as "not reported" otherwise.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe/check.h"

static const struct {
	const char *name, *uom, *help;
} metrics[CHK_NMETRICS] = {
    [CHK_RTT] = {"rtt", "ms", "median round trip of the handshakes"},
    [CHK_LOSS] = {"loss", "%", "share of the engine's queries unanswered"},
    [CHK_AGE] = {"age", "s", "time since the engine's last valid answer"},
    [CHK_HS] = {"hs", "", "sessions opened through the resolvers tried"},
    [CHK_GOOD] = {"good", "", "resolvers that passed the small scan"},
    [CHK_FRESH] = {"fresh", "s", "age of the newest last-known-good result"},
};

const char *
chk_metric_name(enum chk_metric m)
{
	return m < CHK_NMETRICS ? metrics[m].name : "invalid";
}

const char *
chk_metric_uom(enum chk_metric m)
{
	return m < CHK_NMETRICS ? metrics[m].uom : "";
}

const char *
chk_metric_help(enum chk_metric m)
{
	return m < CHK_NMETRICS ? metrics[m].help : "";
}

/* ---- ranges ------------------------------------------------------------- */

/* A number of the range syntax: [-]digits[.digits]. */
static int
range_num(const char *p, size_t n, double *out)
{
	char buf[32], *end;
	size_t i, dots = 0, digits = 0;

	if (n == 0 || n >= sizeof buf)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			digits++;
		else if (p[i] == '.')
			dots++;
		else if (!(p[i] == '-' && i == 0))
			return -1;
	}
	if (digits == 0 || dots > 1)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

int
chk_range_parse(const char *text, struct chk_range *r, struct err *e)
{
	const char *p = text, *colon;
	struct chk_range x;

	memset(&x, 0, sizeof x);
	if (strlen(text) >= sizeof x.text)
		return err_set(e, "range too long: %.40s", text);
	snprintf(x.text, sizeof x.text, "%s", text);
	if (*p == '@') {
		x.inside = 1;
		p++;
	}
	colon = strchr(p, ':');
	if (colon == NULL) {
		/* "10": 0..10 */
		if (range_num(p, strlen(p), &x.hi) != 0)
			goto bad;
		x.has_lo = x.has_hi = 1;
		x.lo = 0;
	} else {
		if (colon == p + 1 && *p == '~')
			x.has_lo = 0;
		else if (range_num(p, (size_t)(colon - p), &x.lo) == 0)
			x.has_lo = 1;
		else
			goto bad;
		if (colon[1] == '\0')
			x.has_hi = 0;
		else if (range_num(colon + 1, strlen(colon + 1), &x.hi) == 0)
			x.has_hi = 1;
		else
			goto bad;
	}
	if (x.has_lo && x.has_hi && x.lo > x.hi)
		return err_set(e, "range %s: start above end", text);
	x.set = 1;
	*r = x;
	return 0;
bad:
	return err_set(
	    e, "not a threshold range: '%s' (N, N:, ~:N, N:M or @N:M)", text);
}

int
chk_range_alert(const struct chk_range *r, double v)
{
	int in;

	if (!r->set || isnan(v))
		return 0;
	in = (!r->has_lo || v >= r->lo) && (!r->has_hi || v <= r->hi);
	return r->inside ? in : !in;
}

/* ---- limits ------------------------------------------------------------- */

static void
set_range(struct chk_range *r, const char *text)
{
	(void)chk_range_parse(text, r, NULL);
}

void
chk_limits_defaults(struct chk_limits *l, int handshakes)
{
	char n[16];

	memset(l, 0, sizeof *l);
	set_range(&l->warn[CHK_RTT], "1000");
	set_range(&l->crit[CHK_RTT], "3000");
	set_range(&l->warn[CHK_LOSS], "10");
	set_range(&l->crit[CHK_LOSS], "50");
	set_range(&l->warn[CHK_AGE], "30");
	set_range(&l->crit[CHK_AGE], "120");
	snprintf(n, sizeof n, "%d:", handshakes > 0 ? handshakes : 1);
	set_range(&l->warn[CHK_HS], n);
	set_range(&l->crit[CHK_HS], "1:");
	set_range(&l->warn[CHK_GOOD], "2:");
	set_range(&l->crit[CHK_GOOD], "1:");
	set_range(&l->warn[CHK_FRESH], "86400");
	set_range(&l->crit[CHK_FRESH], "604800");
}

int
chk_limits_parse(
    struct chk_limits *l, int crit, const char *text, struct err *e)
{
	const char *opt = crit ? "-c" : "-w";
	char *copy = xstrdup(text), *item, *save = NULL, *eq;
	struct chk_range r;
	struct err sub = {""};
	int m, rc = 0;

	if (strspn(text, ",") == strlen(text)) {
		free(copy);
		return err_set(e, "%s: no threshold given", opt);
	}
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		m = CHK_RTT;
		if (eq != NULL) {
			*eq = '\0';
			for (m = 0; m < CHK_NMETRICS; m++)
				if (strcmp(item, metrics[m].name) == 0)
					break;
			if (m == CHK_NMETRICS) {
				rc = err_set(e,
				    "%s: unknown key '%.40s' (rtt, loss, age, "
				    "hs, good, fresh)",
				    opt, item);
				break;
			}
		}
		if (chk_range_parse(eq ? eq + 1 : item, &r, &sub) != 0) {
			rc = err_set(
			    e, "%s: %s: %s", opt, metrics[m].name, sub.msg);
			break;
		}
		if (crit)
			l->crit[m] = r;
		else
			l->warn[m] = r;
	}
	free(copy);
	return rc;
}

int
chk_state(const struct chk_limits *l, enum chk_metric m, double v)
{
	if (chk_range_alert(&l->crit[m], v))
		return EXIT_CRITICAL;
	if (chk_range_alert(&l->warn[m], v))
		return EXIT_WARNING;
	return EXIT_OK;
}

int
chk_worst(int a, int b)
{
	static const int rank[] = {0, 2, 3, 1}; /* ok unknown warn crit */

	a = a >= 0 && a <= 3 ? a : EXIT_UNKNOWN;
	b = b >= 0 && b <= 3 ? b : EXIT_UNKNOWN;
	return rank[a] >= rank[b] ? a : b;
}

enum res_verdict
chk_verdict(int state)
{
	switch (state) {
	case EXIT_OK:
		return RES_VERDICT_OK;
	case EXIT_WARNING:
		return RES_VERDICT_WARN;
	case EXIT_CRITICAL:
		return RES_VERDICT_FAIL;
	default:
		return RES_VERDICT_UNKNOWN;
	}
}

int
chk_verdict_state(enum res_verdict v)
{
	return res_verdict_exit(v);
}

static void
finish(struct res_check *c, enum res_check_kind kind, int state,
    enum res_reason reason)
{
	c->kind = kind;
	c->verdict = chk_verdict(state);
	c->reason = state == EXIT_OK ? RES_R_OK : reason;
}

/* ---- engine ------------------------------------------------------------- */

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "";
}

static double
jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The last-valid-answer age in seconds, where the status has one. */
static double
answer_age(json_t *st, int64_t now_ms)
{
	json_t *where[2] = {st, json_object_get(st, "session")};
	double v;
	int i;

	for (i = 0; i < 2; i++) {
		if (!isnan(v = jnum(where[i], "last_valid_answer_age_ms")))
			return v / 1000;
		v = jnum(where[i], "last_valid_answer_ms");
		if (!isnan(v) && v > 0)
			return (double)(now_ms - (int64_t)v) / 1000;
	}
	return NAN;
}

/* Unanswered share of the queries sent, over the listed resolvers. */
static double
engine_loss(json_t *st)
{
	json_t *list =
	    json_object_get(json_object_get(st, "resolvers"), "list");
	json_t *r;
	double sent = 0, lost = 0, s, t;
	size_t i;

	json_array_foreach(list, i, r)
	{
		s = jnum(r, "sent");
		t = jnum(r, "timeouts");
		if (!isnan(s) && !isnan(t)) {
			sent += s;
			lost += t;
		}
	}
	return sent > 0 ? 100 * lost / sent : NAN;
}

int
chk_engine_judge(json_t *st, const char *why, int64_t now_ms,
    const struct chk_limits *l, struct res_check *c, struct chk_engine *out)
{
	json_t *res, *sess;
	char age[48] = "", loss[48] = "";
	const char *role;
	int state, s2;

	res_check_init(c);
	memset(out, 0, sizeof *out);
	out->loss_pct = out->age_s = NAN;
	out->session = -1;
	if (st == NULL) {
		res_textf(c->detail, sizeof c->detail, "no engine: %s",
		    why ? why : "no reply");
		res_textf(
		    c->evidence, sizeof c->evidence, "%s", why ? why : "");
		finish(c, RES_CHECK_ENGINE, EXIT_CRITICAL, RES_R_NO_ENGINE);
		return EXIT_CRITICAL;
	}
	role = jstr(st, "role");
	snprintf(out->phase, sizeof out->phase, "%s", jstr(st, "phase"));
	res = json_object_get(st, "resolvers");
	out->active = (int)jnum(res, "active");
	out->total = (int)jnum(res, "total");
	sess = json_object_get(st, "session");
	if (json_is_integer(json_object_get(sess, "id")))
		out->session = json_integer_value(json_object_get(sess, "id"));
	out->loss_pct = engine_loss(st);
	out->age_s = answer_age(st, now_ms);
	res_textf(c->evidence, sizeof c->evidence,
	    "role %s, phase %s, session %lld, %d of %d resolvers active", role,
	    out->phase, (long long)out->session, out->active, out->total);
	if (strcmp(role, "server") == 0) {
		state = strcmp(out->phase, "serving") == 0 ? EXIT_OK :
							     EXIT_CRITICAL;
		res_textf(c->detail, sizeof c->detail, "server %s", out->phase);
		finish(c, RES_CHECK_ENGINE, state, RES_R_NOT_LIVE);
		return state;
	}
	/* Anything but connected is not live: stalled, reconnecting, ... */
	if (strcmp(out->phase, "connected") != 0 || out->active <= 0) {
		res_textf(c->detail, sizeof c->detail,
		    "not live: phase %s, %d of %d resolvers active",
		    out->phase[0] ? out->phase : "unknown", out->active,
		    out->total);
		finish(c, RES_CHECK_ENGINE, EXIT_CRITICAL, RES_R_NOT_LIVE);
		return EXIT_CRITICAL;
	}
	state = chk_state(l, CHK_AGE, out->age_s);
	s2 = chk_state(l, CHK_LOSS, out->loss_pct);
	state = chk_worst(state, s2);
	if (!isnan(out->age_s))
		snprintf(age, sizeof age, ", last valid answer %.0f s ago",
		    out->age_s);
	if (!isnan(out->loss_pct))
		snprintf(loss, sizeof loss, ", loss %.1f %%", out->loss_pct);
	res_textf(c->detail, sizeof c->detail,
	    "connected, session %lld, %d of %d resolvers active%s%s",
	    (long long)out->session, out->active, out->total, age, loss);
	finish(c, RES_CHECK_ENGINE, state, RES_R_THRESHOLD);
	return state;
}

/* ---- handshake, scan, fresh ---------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The most frequent failure reason of n results (RES_R_INTERNAL: none). */
static enum res_reason
top_reason(const struct res_resolver *r, size_t n, unsigned *count)
{
	unsigned cnt[RES_R_COUNT] = {0};
	size_t i;
	int best = RES_R_INTERNAL, k;

	for (i = 0; i < n; i++)
		if (!res_passed(&r[i]) && r[i].reason >= 0 &&
		    r[i].reason < RES_R_COUNT)
			cnt[r[i].reason]++;
	for (k = 0; k < RES_R_COUNT; k++)
		if (cnt[k] > cnt[best])
			best = k;
	*count = cnt[best];
	return (enum res_reason)best;
}

int
chk_handshake_judge(const struct res_resolver *r, size_t n,
    const struct chk_limits *l, struct res_check *c, int *opened,
    double *rtt_ms)
{
	double *rtt = xcalloc(n + 1, sizeof *rtt);
	size_t i, k = 0;
	enum res_reason why;
	unsigned cnt;
	int state;

	res_check_init(c);
	*opened = 0;
	*rtt_ms = NAN;
	for (i = 0; i < n; i++)
		if (res_passed(&r[i])) {
			(*opened)++;
			if (r[i].rtt_us >= 0)
				rtt[k++] = (double)r[i].rtt_us / 1000;
		}
	if (k > 0) {
		qsort(rtt, k, sizeof *rtt, cmp_double);
		*rtt_ms =
		    k % 2 ? rtt[k / 2] : (rtt[k / 2 - 1] + rtt[k / 2]) / 2;
	}
	free(rtt);
	if (n == 0) {
		res_textf(c->detail, sizeof c->detail,
		    "no resolver to try (no last-known-good list, no "
		    "resolver list)");
		finish(c, RES_CHECK_HANDSHAKE, EXIT_UNKNOWN, RES_R_SKIPPED);
		return EXIT_UNKNOWN;
	}
	if (*opened == 0) {
		why = top_reason(r, n, &cnt);
		res_textf(c->detail, sizeof c->detail,
		    "0 of %zu sessions opened: %u x %s", n, cnt,
		    res_reason_name(why));
		res_textf(c->evidence, sizeof c->evidence, "%s: %s", r[0].addr,
		    r[0].evidence);
		finish(c, RES_CHECK_HANDSHAKE, EXIT_CRITICAL, why);
		return EXIT_CRITICAL;
	}
	state = chk_worst(
	    chk_state(l, CHK_HS, *opened), chk_state(l, CHK_RTT, *rtt_ms));
	res_textf(c->detail, sizeof c->detail,
	    "%d of %zu sessions opened, median rtt %.1f ms", *opened, n,
	    *rtt_ms);
	for (i = 0; i < n; i++)
		if (!res_passed(&r[i])) {
			res_textf(c->evidence, sizeof c->evidence,
			    "%s failed: %s", r[i].addr, r[i].evidence);
			break;
		}
	finish(c, RES_CHECK_HANDSHAKE, state, RES_R_THRESHOLD);
	return state;
}

int
chk_scan_judge(const struct res_resolver *r, size_t n, enum res_stage stage,
    const struct chk_limits *l, struct res_check *c, int *good)
{
	enum res_reason why;
	unsigned cnt;
	size_t i;
	int state;

	res_check_init(c);
	*good = 0;
	for (i = 0; i < n; i++)
		*good += res_passed(&r[i]) != 0;
	if (n == 0) {
		res_textf(
		    c->detail, sizeof c->detail, "no resolver list to sample");
		finish(c, RES_CHECK_SCAN, EXIT_UNKNOWN, RES_R_SKIPPED);
		return EXIT_UNKNOWN;
	}
	state = chk_state(l, CHK_GOOD, *good);
	why = top_reason(r, n, &cnt);
	if (cnt > 0)
		res_textf(c->detail, sizeof c->detail,
		    "%d of %zu passed up to %s; most failed with %s (%u)",
		    *good, n, res_stage_name(stage), res_reason_name(why), cnt);
	else
		res_textf(c->detail, sizeof c->detail,
		    "%d of %zu passed up to %s", *good, n,
		    res_stage_name(stage));
	finish(c, RES_CHECK_SCAN, state, RES_R_THRESHOLD);
	return state;
}

int
chk_fresh_judge(int64_t newest_ms, size_t count, int64_t now_ms,
    const struct chk_limits *l, struct res_check *c, double *age_s)
{
	int state;

	res_check_init(c);
	*age_s = NAN;
	if (newest_ms <= 0 || count == 0) {
		res_textf(c->detail, sizeof c->detail,
		    "no last-known-good list: no resolver has passed a scan "
		    "in this history");
		finish(c, RES_CHECK_FRESH, EXIT_CRITICAL, RES_R_STALE);
		return EXIT_CRITICAL;
	}
	*age_s = (double)(now_ms - newest_ms) / 1000;
	if (*age_s < 0)
		*age_s = 0;
	state = chk_state(l, CHK_FRESH, *age_s);
	res_textf(c->detail, sizeof c->detail,
	    "%zu last-known-good resolver(s), the newest %.1f h old", count,
	    *age_s / 3600);
	finish(c, RES_CHECK_FRESH, state, RES_R_STALE);
	return state;
}
