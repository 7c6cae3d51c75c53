/* SPDX-License-Identifier: MIT */
/*
 * report-model.c — the support report's model (report.h): everything the
 * three renderers show, collected from the records the CLI hands in and
 * redacted on the way in (report-redact.c), plus what is derived from it
 * — the engine timeline's rates, the scan diagnosis, the security notes
 * that apply. Rendering is in report-html.c, report-md.c, report-json.c;
 * reading the store and the control socket is the CLI's (cli/cmd-report.c).
 *
 * It survives odd input by construction: texts are copied whatever they
 * hold (renderers escape), numbers outside what a chart can draw are
 * treated as unknown, and every list is bounded (survivor rows by
 * max_rows, events by MAX_EVENTS, the timeline by MAX_POINTS, keeping the
 * newest).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "reports/report-int.h"
#include "reports/sink-int.h"

#define MAX_EVENTS 500
#define MAX_POINTS 5000
#define MAX_ERES   200

static void eres_clear(struct rpt_model *m);

struct rpt_model *
rpt_model_new(enum rpt_redact mode, int64_t now_ms)
{
	struct rpt_model *m = xcalloc(1, sizeof *m);
	uint8_t rnd[6];
	char iso[40];
	size_t i;

	rdx_init(&m->rdx, mode);
	m->now_ms = now_ms;
	m->method = -1;
	m->max_rows = 100;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		uint64_t x = (uint64_t)now_ms ^ ((uint64_t)getpid() << 32);

		for (i = 0; i < sizeof rnd; i++, x >>= 8)
			rnd[i] = (uint8_t)x;
	}
	memcpy(m->id, "r-", 2);
	hex_encode(rnd, sizeof rnd, m->id + 2);
	fmt_iso8601_ms(now_ms, iso, sizeof iso);
	snprintf(m->marker, sizeof m->marker, "mdns-doctor report %s id %s",
	    iso, m->id);
	return m;
}

void
rpt_model_free(struct rpt_model *m)
{
	size_t i, s;

	if (m == NULL)
		return;
	for (s = 0; s < RPT_SEC_COUNT; s++) {
		for (i = 0; i < m->nfacts[s]; i++) {
			free(m->facts[s][i].key);
			free(m->facts[s][i].value);
		}
		free(m->facts[s]);
	}
	for (i = 0; i < m->ncfg; i++) {
		free(m->cfg[i].key);
		free(m->cfg[i].value);
		free(m->cfg[i].source);
		free(m->cfg[i].note);
	}
	free(m->cfg);
	free(m->scan_host);
	free(m->ok);
	for (i = 0; i < m->nfails; i++)
		free(m->fails[i].example);
	free(m->fails);
	free(m->chk);
	free(m->pts);
	for (i = 0; i < m->nev; i++) {
		free(m->ev[i].resolver);
		free(m->ev[i].detail);
	}
	free(m->ev);
	eres_clear(m);
	free(m->eres);
	json_decref(m->live);
	free(m->live_why);
	for (i = 0; i < m->nnotes; i++)
		free(m->notes[i]);
	free(m->notes);
	rdx_free(&m->rdx);
	free(m);
}

const char *
rpt_model_marker(const struct rpt_model *m)
{
	return m->marker;
}

/* Grow *arr (element size sz) so that one more fits. */
static void
grow(void *arrp, size_t *n, size_t *cap, size_t sz)
{
	void **arr = arrp;

	if (*n < *cap)
		return;
	*cap = *cap ? *cap * 2 : 16;
	*arr = xreallocarray(*arr, *cap, sz);
}

/* ---- what must not appear ------------------------------------------------ */

int
rpt_model_secret(struct rpt_model *m, const void *secret, size_t len)
{
	return rdx_secret(&m->rdx, secret, len);
}

int
rpt_model_own_addr(struct rpt_model *m, const char *addr, enum rpt_own k)
{
	return rdx_own(&m->rdx, addr, k);
}

int
rpt_model_own_local(struct rpt_model *m)
{
	struct ifaddrs *ifa, *i;
	char buf[INET6_ADDRSTRLEN];
	int n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (sa == NULL)
			continue;
		if (sa->sa_family == AF_INET) {
			const struct in_addr *a =
			    &((const struct sockaddr_in *)(const void *)sa)
				 ->sin_addr;

			if ((ntohl(a->s_addr) >> 24) == 127)
				continue;
			inet_ntop(AF_INET, a, buf, sizeof buf);
		} else if (sa->sa_family == AF_INET6) {
			const struct in6_addr *a =
			    &((const struct sockaddr_in6 *)(const void *)sa)
				 ->sin6_addr;

			if (IN6_IS_ADDR_LOOPBACK(a))
				continue;
			inet_ntop(AF_INET6, a, buf, sizeof buf);
		} else {
			continue;
		}
		if (rdx_own(&m->rdx, buf, RPT_OWN_LOCAL) == 0)
			n++;
	}
	freeifaddrs(ifa);
	return n;
}

int
rpt_model_own_from_check(struct rpt_model *m, const struct res_check *c)
{
	const char *seg;
	char addr[INET6_ADDRSTRLEN + 16];
	size_t pos = 0, start, len;
	int n = 0;

	if (c->kind != RES_CHECK_IP ||
	    (seg = strstr(c->evidence, "direct: ")) == NULL)
		return 0;
	/* "direct: URL -> ADDR (N ms), URL: reason, ..." (probe/exitip.c):
	 * an observation is the literal right after "-> ". */
	while (rdx_next_addr(seg, &pos, &start, &len)) {
		if (start < 3 || strncmp(seg + start - 3, "-> ", 3) != 0 ||
		    len >= sizeof addr)
			continue;
		memcpy(addr, seg + start, len);
		addr[len] = '\0';
		if (rdx_own(&m->rdx, addr, RPT_OWN_PUBLIC) == 0)
			n++;
	}
	return n;
}

void
rpt_model_own_host(struct rpt_model *m, const char *hostname)
{
	rdx_host(&m->rdx, hostname);
}

void
rpt_model_own_home(struct rpt_model *m, const char *home)
{
	rdx_home(&m->rdx, home);
}

/* ---- content -------------------------------------------------------------- */

static char *
red(struct rpt_model *m, const char *s)
{
	return rdx_text(&m->rdx, s != NULL ? s : "", RDX_TEXT);
}

void
rpt_model_fact(struct rpt_model *m, enum rpt_section sec, const char *key,
    const char *value)
{
	struct rpt_fact *f;

	if ((unsigned)sec >= RPT_SEC_COUNT)
		return;
	grow(&m->facts[sec], &m->nfacts[sec], &m->factcap[sec], sizeof *f);
	f = &m->facts[sec][m->nfacts[sec]++];
	f->key = red(m, key);
	f->value = red(m, value);
}

void
rpt_model_config_item(struct rpt_model *m, const char *key, const char *value,
    const char *source, const char *note, int secret)
{
	struct rpt_cfg *c;

	grow(&m->cfg, &m->ncfg, &m->cfgcap, sizeof *c);
	c = &m->cfg[m->ncfg++];
	c->key = red(m, key);
	c->value = red(m, value);
	c->source = red(m, source);
	c->note = note != NULL ? red(m, note) : NULL;
	c->secret = secret;
}

void
rpt_model_method(struct rpt_model *m, int method, const char *name)
{
	m->method = method;
	snprintf(m->method_name, sizeof m->method_name, "%s",
	    name != NULL ? name : "");
	rdx_buf(&m->rdx, m->method_name, sizeof m->method_name, RDX_TEXT);
}

void
rpt_model_set_max_rows(struct rpt_model *m, size_t max_rows)
{
	m->max_rows = max_rows;
}

void
rpt_model_scan(struct rpt_model *m, int64_t run_id, const struct res_run *run,
    const char *status, const char *host)
{
	m->have_scan = 1;
	m->scan_run_id = run_id;
	m->run = *run;
	rdx_buf(&m->rdx, m->run.command, sizeof m->run.command, RDX_TEXT);
	rdx_buf(&m->rdx, m->run.version, sizeof m->run.version, RDX_TEXT);
	snprintf(m->scan_status, sizeof m->scan_status, "%s",
	    status != NULL ? status : "");
	rdx_buf(&m->rdx, m->scan_status, sizeof m->scan_status, RDX_TEXT);
	free(m->scan_host);
	m->scan_host = rdx_text(&m->rdx, host != NULL ? host : "", RDX_HOST);
}

/* Redact the text fields of a result in place. */
static void
red_result(struct rpt_model *m, struct res_resolver *r)
{
	rdx_buf(&m->rdx, r->addr, sizeof r->addr, RDX_RESOLVER);
	rdx_buf(&m->rdx, r->domain, sizeof r->domain, RDX_TEXT);
	rdx_buf(&m->rdx, r->evidence, sizeof r->evidence, RDX_TEXT);
}

void
rpt_model_scan_ok(struct rpt_model *m, const struct res_resolver *r)
{
	m->nok_total++;
	if (m->nok >= m->max_rows)
		return;
	grow(&m->ok, &m->nok, &m->okcap, sizeof *m->ok);
	m->ok[m->nok] = *r;
	red_result(m, &m->ok[m->nok]);
	m->nok++;
}

void
rpt_model_scan_fail(struct rpt_model *m, enum res_stage st, enum res_reason why,
    uint32_t count, const char *example)
{
	struct rpt_fail *f;

	grow(&m->fails, &m->nfails, &m->failcap, sizeof *f);
	f = &m->fails[m->nfails++];
	f->stage = st;
	f->reason = why;
	f->count = count;
	f->example =
	    rdx_text(&m->rdx, example != NULL ? example : "", RDX_RESOLVER);
}

void
rpt_model_check(struct rpt_model *m, const char *command, int64_t run_id,
    int64_t run_started_ms, const struct res_check *c)
{
	struct rpt_chk *k;

	grow(&m->chk, &m->nchk, &m->chkcap, sizeof *k);
	k = &m->chk[m->nchk++];
	snprintf(k->command, sizeof k->command, "%s", command);
	rdx_buf(&m->rdx, k->command, sizeof k->command, RDX_TEXT);
	k->run_id = run_id;
	k->run_started_ms = run_started_ms;
	k->c = *c;
	rdx_buf(&m->rdx, k->c.subject, sizeof k->c.subject,
	    c->kind == RES_CHECK_ROUTE ? RDX_RESOLVER : RDX_TEXT);
	rdx_buf(&m->rdx, k->c.detail, sizeof k->c.detail, RDX_TEXT);
	rdx_buf(&m->rdx, k->c.evidence, sizeof k->c.evidence, RDX_TEXT);
}

/* The value at a dotted path ("traffic.bytes_up") in o, or NULL. */
static json_t *
jpath(json_t *o, const char *path)
{
	char key[64];
	const char *p = path, *dot;
	json_t *v = o;

	while (v != NULL && *p != '\0') {
		dot = strchr(p, '.');
		snprintf(key, sizeof key, "%.*s",
		    (int)(dot ? (size_t)(dot - p) : strlen(p)), p);
		v = json_object_get(v, key);
		p = dot ? dot + 1 : p + strlen(p);
	}
	return v;
}

/* A JSON number at a dotted path, or -1 (absent, not a number, not
 * finite, negative). */
static double
jnum(json_t *o, const char *path)
{
	json_t *v = jpath(o, path);
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	return isfinite(d) && d >= 0 ? d : -1;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
add_event(struct rpt_model *m, json_t *e)
{
	struct rpt_event *ev;
	double at = jnum(e, "at_ms");

	if (!json_is_object(e))
		return;
	if (m->nev == MAX_EVENTS) {
		/* Keep the newest. */
		m->ev_dropped++;
		free(m->ev[0].resolver);
		free(m->ev[0].detail);
		memmove(m->ev, m->ev + 1, (m->nev - 1) * sizeof *m->ev);
		m->nev--;
	}
	grow(&m->ev, &m->nev, &m->evcap, sizeof *ev);
	ev = &m->ev[m->nev++];
	ev->at_ms = at > 0 && at < 1e15 ? (int64_t)at : 0;
	snprintf(ev->kind, sizeof ev->kind, "%s",
	    jstr(e, "kind") ? jstr(e, "kind") : "?");
	rdx_buf(&m->rdx, ev->kind, sizeof ev->kind, RDX_TEXT);
	ev->resolver = jstr(e, "resolver") ?
	    rdx_text(&m->rdx, jstr(e, "resolver"), RDX_RESOLVER) :
	    NULL;
	ev->detail = red(m, jstr(e, "detail"));
}

static void
eres_clear(struct rpt_model *m)
{
	size_t i;

	for (i = 0; i < m->neres; i++) {
		free(m->eres[i].address);
		free(m->eres[i].domain);
		free(m->eres[i].state);
		free(m->eres[i].reason);
	}
	m->neres = 0;
}

static void
set_resolvers(struct rpt_model *m, json_t *list)
{
	struct rpt_eres *r;
	json_t *o;
	size_t i;

	eres_clear(m);
	json_array_foreach(list, i, o)
	{
		if (!json_is_object(o) || m->neres == MAX_ERES)
			continue;
		grow(&m->eres, &m->neres, &m->erescap, sizeof *r);
		r = &m->eres[m->neres++];
		r->address = rdx_text(&m->rdx,
		    jstr(o, "address") ? jstr(o, "address") : "?",
		    RDX_RESOLVER);
		r->domain = red(m, jstr(o, "domain"));
		r->state = red(m, jstr(o, "state"));
		r->reason = red(m, jstr(o, "reason"));
		r->rtt_ms = jnum(o, "rtt_ms");
		r->loss = jnum(o, "loss");
		r->sent = jnum(o, "sent");
		r->answered = jnum(o, "answered");
		r->timeouts = jnum(o, "timeouts");
		r->upload_mtu = jnum(o, "upload_mtu");
		r->download_mtu = jnum(o, "download_mtu");
		/* The engine says 0 for what it has not measured yet. */
		if (r->answered == 0)
			r->rtt_ms = -1;
		if (r->sent == 0)
			r->loss = -1;
	}
}

void
rpt_model_snapshot(struct rpt_model *m, int64_t at_ms, const char *phase,
    int64_t session_id, json_t *counters)
{
	struct rpt_point *p;
	json_t *list, *evs, *e;
	const char *role = jstr(counters, "role");
	size_t i;

	if (m->npts == MAX_POINTS) {
		memmove(m->pts, m->pts + 1, (m->npts - 1) * sizeof *m->pts);
		m->npts--;
	}
	grow(&m->pts, &m->npts, &m->ptcap, sizeof *p);
	p = &m->pts[m->npts++];
	memset(p, 0, sizeof *p);
	p->at_ms = at_ms;
	snprintf(p->phase, sizeof p->phase, "%s", phase ? phase : "?");
	rdx_buf(&m->rdx, p->phase, sizeof p->phase, RDX_TEXT);
	snprintf(p->role, sizeof p->role, "%s", role ? role : "");
	rdx_buf(&m->rdx, p->role, sizeof p->role, RDX_TEXT);
	p->session_id = session_id;
	p->bytes_up = jnum(counters, "traffic.bytes_up");
	p->bytes_down = jnum(counters, "traffic.bytes_down");
	p->rate_up = p->rate_down = -1;
	p->active = jnum(counters, "resolvers.active");
	p->total = jnum(counters, "resolvers.total");
	p->retransmits = jnum(counters, "arq.retransmits");
	list = json_object_get(json_object_get(counters, "resolvers"), "list");
	if (!m->eres_live && json_array_size(list) > 0)
		set_resolvers(m, list);
	/* The events the writer saw since the previous snapshot (the
	 * status's own "events" is an object of counters). */
	evs = json_object_get(counters, "snapshot_events");
	if (json_is_array(evs))
		json_array_foreach(evs, i, e)
		{
			add_event(m, e);
		}
	m->ev_dropped +=
	    (uint64_t)MAX(0, jnum(counters, "snapshot_events_dropped"));
}

/* Label and dotted path of the live status facts, per role. */
static const char *const live_client[][2] = {
    {"phase", "phase"},
    {"version", "version"},
    {"uptime (ms)", "uptime_ms"},
    {"session", "session.id"},
    {"session re-inits", "session.reinits"},
    {"upload MTU", "mtu.upload"},
    {"download MTU", "mtu.download"},
    {"resolvers total", "resolvers.total"},
    {"resolvers active", "resolvers.active"},
    {"resolvers disabled", "resolvers.disabled"},
    {"bytes up", "traffic.bytes_up"},
    {"bytes down", "traffic.bytes_down"},
    {"queries sent", "traffic.queries_sent"},
    {"streams active", "streams.active"},
    {"streams opened", "streams.opened"},
    {"ARQ retransmits", "arq.retransmits"},
    {"ERROR_DROP events", "events.error_drop"},
    {"SESSION_BUSY events", "events.session_busy"},
    {"SOCKS listener", "socks.listen"},
    {"SOCKS protocol", "socks.protocol"},
};
static const char *const live_server[][2] = {
    {"phase", "phase"},
    {"version", "version"},
    {"uptime (ms)", "uptime_ms"},
    {"sessions active", "sessions.active"},
    {"sessions opened", "sessions.opened"},
    {"sessions busy", "sessions.busy"},
    {"streams opened", "streams.opened"},
    {"streams filtered", "streams.filtered"},
    {"connect failures", "streams.connect_failed"},
    {"queries", "queries.total"},
    {"ERROR_DROP sent", "queries.error_drop"},
    {"bad cookies", "drops.bad_cookie"},
    {"bytes up", "traffic.bytes_up"},
    {"bytes down", "traffic.bytes_down"},
};

/* The value at a dotted path as text, or NULL. */
static char *
jtext(json_t *o, const char *path)
{
	json_t *v = jpath(o, path);

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v)) {
		char b[64];

		return xstrdup(rpt_num(b, sizeof b, json_real_value(v), 1));
	}
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	return NULL;
}

void
rpt_model_live(struct rpt_model *m, json_t *status, const char *why)
{
	const char *const(*tab)[2];
	const char *role;
	size_t i, n;
	char *v;

	json_decref(m->live);
	m->live = NULL;
	free(m->live_why);
	m->live_why = NULL;
	if (!json_is_object(status)) {
		m->live_why = red(m, why ? why : "no engine status");
		return;
	}
	/* Resolvers first: their addresses are named "resolver-N" before
	 * the copy's other texts are redacted. */
	set_resolvers(
	    m, json_object_get(json_object_get(status, "resolvers"), "list"));
	m->eres_live = 1;
	m->live = json_deep_copy(status);
	rdx_json(&m->rdx, m->live);
	role = jstr(m->live, "role");
	snprintf(m->role, sizeof m->role, "%s", role ? role : "client");
	tab = strcmp(m->role, "server") == 0 ? live_server : live_client;
	n = strcmp(m->role, "server") == 0 ? nitems(live_server) :
					     nitems(live_client);
	for (i = 0; i < n; i++) {
		if ((v = jtext(m->live, tab[i][1])) == NULL)
			continue;
		/* Already redacted (the copy above): store as is. */
		grow(&m->facts[RPT_SEC_ENGINE], &m->nfacts[RPT_SEC_ENGINE],
		    &m->factcap[RPT_SEC_ENGINE], sizeof(struct rpt_fact));
		m->facts[RPT_SEC_ENGINE][m->nfacts[RPT_SEC_ENGINE]].key =
		    xstrdup(tab[i][0]);
		m->facts[RPT_SEC_ENGINE][m->nfacts[RPT_SEC_ENGINE]++].value = v;
	}
}

void
rpt_model_note(struct rpt_model *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	grow(&m->notes, &m->nnotes, &m->notecap, sizeof *m->notes);
	m->notes[m->nnotes++] = red(m, buf);
}

/* ---- derived -------------------------------------------------------------- */

static int
point_cmp(const void *a, const void *b)
{
	const struct rpt_point *x = a, *y = b;

	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/*
 * Once before rendering: the role the timeline shows (the live engine's,
 * else the newest snapshot's), the other role's snapshots counted and
 * dropped, time order, and rates between neighbours.
 */
static void
prepare(struct rpt_model *m)
{
	size_t i, j;
	double dt;

	if (m->prepared)
		return;
	m->prepared = 1;
	if (m->npts > 1)
		qsort(m->pts, m->npts, sizeof *m->pts, point_cmp);
	if (m->role[0] == '\0' && m->npts > 0)
		snprintf(m->role, sizeof m->role, "%s",
		    m->pts[m->npts - 1].role[0] ? m->pts[m->npts - 1].role :
						  "client");
	for (i = j = 0; i < m->npts; i++) {
		if (m->pts[i].role[0] != '\0' &&
		    strcmp(m->pts[i].role, m->role) != 0) {
			m->nother++;
			continue;
		}
		m->pts[j++] = m->pts[i];
	}
	m->npts = j;
	for (i = 1; i < m->npts; i++) {
		struct rpt_point *a = &m->pts[i - 1], *b = &m->pts[i];

		dt = (double)(b->at_ms - a->at_ms) / 1000.0;
		if (dt <= 0)
			continue;
		/* A counter that went down: the engine restarted. */
		if (a->bytes_up >= 0 && b->bytes_up >= a->bytes_up)
			b->rate_up = (b->bytes_up - a->bytes_up) / dt;
		if (a->bytes_down >= 0 && b->bytes_down >= a->bytes_down)
			b->rate_down = (b->bytes_down - a->bytes_down) / dt;
	}
}

void
rpt_model_diagnosis(const struct rpt_model *m, char *buf, size_t len)
{
	const struct res_stage_stats *s = m->run.stages;
	int st, last = -1, none = -1;
	uint64_t nfail;
	size_t i, best;
	size_t off;

	buf[0] = '\0';
	if (!m->have_scan)
		return;
	for (st = RES_STAGE_LIVENESS; st < RES_STAGE_COUNT; st++) {
		if (s[st].tested == 0)
			continue;
		last = st;
		if (none < 0 && s[st].passed == 0)
			none = st;
	}
	if (last < 0) {
		snprintf(buf, len, "The scan tested nothing.");
		return;
	}
	for (i = 0, nfail = 0; i < m->nfails; i++)
		nfail += m->fails[i].count;
	if (none < 0) {
		snprintf(buf, len,
		    "%llu of %llu resolver result(s) passed every stage run "
		    "(up to %s); the failures are listed by stage and reason.",
		    (unsigned long long)m->nok_total,
		    (unsigned long long)(m->nok_total + nfail),
		    res_stage_name((enum res_stage)last));
		return;
	}
	off = (size_t)snprintf(buf, len, "Stage %s passed nobody (%u tested).",
	    res_stage_name((enum res_stage)none), s[none].tested);
	/* The most common reason of that stage. */
	for (i = 0, best = m->nfails; i < m->nfails; i++)
		if ((int)m->fails[i].stage == none &&
		    (best == m->nfails ||
			m->fails[i].count > m->fails[best].count))
			best = i;
	if (best < m->nfails && off < len)
		snprintf(buf + off, len - off,
		    " Most common reason: %s (%s), %u time(s).",
		    res_reason_name(m->fails[best].reason),
		    res_reason_text(m->fails[best].reason),
		    m->fails[best].count);
}

size_t
rpt_model_security(const struct rpt_model *m, const char **out, size_t max)
{
	static const char *const method_note[] = {
	    "DATA_ENCRYPTION_METHOD 0 (none): client-to-server frames "
	    "travel in clear; anyone on the resolver path reads them.",
	    "DATA_ENCRYPTION_METHOD 1 (XOR with a static key) hides nothing "
	    "from an observer who knows or guesses some plaintext; use an "
	    "AES-GCM method (3 to 5).",
	    "DATA_ENCRYPTION_METHOD 2 (ChaCha20 without a MAC) does not "
	    "detect altered frames; use an AES-GCM method (3 to 5).",
	};
	size_t n = 0;

	if (n < max &&
	    (m->ncfg > 0 || m->have_scan || m->live != NULL || m->npts > 0))
		out[n++] = "MasterDnsVPN never encrypts server-to-client "
			   "frames (they are compressed or base64-encoded at "
			   "most): anyone on the resolver path can read what "
			   "the server sends back, whatever the method.";
	if (n < max && m->method >= 0 && m->method <= 2)
		out[n++] = method_note[m->method];
	return n;
}

/* ---- output ------------------------------------------------------------- */

const char *
rpt_num(char *buf, size_t len, double v, int decimals)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		rpt_fmt_fixed(v, decimals, buf, len); /* locale-proof */
	return buf;
}

const char *
rpt_time(char *buf, size_t len, int64_t ms)
{
	if (ms <= 0 || ms > (int64_t)253402300799999LL) /* year 9999 */
		snprintf(buf, len, "-");
	else
		fmt_iso8601_ms(ms, buf, len);
	return buf;
}

const char *
rpt_rate(char *buf, size_t len, double bps)
{
	static const char *const unit[] = {"B/s", "kB/s", "MB/s", "GB/s"};
	char n[48];
	size_t u = 0;

	if (!isfinite(bps) || bps < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	while (bps >= 1000 && u + 1 < nitems(unit)) {
		bps /= 1000;
		u++;
	}
	snprintf(
	    buf, len, "%s %s", rpt_num(n, sizeof n, bps, u ? 1 : 0), unit[u]);
	return buf;
}

void
rpt_escape(
    FILE *f, const char *s, const char *const tab[128], const char *url_colon)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ':' && url_colon != NULL && strncmp(s, "://", 3) == 0)
			fputs(url_colon, f);
		else if (c < 128 && tab[c] != NULL)
			fputs(tab[c], f);
		else
			fputc(c, f);
	}
}

int
rpt_form_from_name(const char *name, enum rpt_form *out)
{
	static const char *const names[] = {"html", "md", "json"};
	size_t i;

	for (i = 0; i < nitems(names); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum rpt_form)i;
			return 0;
		}
	return -1;
}

static const char *const redact_names[] = {"own", "all", "none"};

int
rpt_redact_from_name(const char *name, enum rpt_redact *out)
{
	size_t i;

	for (i = 0; i < nitems(redact_names); i++)
		if (strcmp(name, redact_names[i]) == 0) {
			*out = (enum rpt_redact)i;
			return 0;
		}
	return -1;
}

const char *
rpt_redact_name(enum rpt_redact mode)
{
	return (unsigned)mode < nitems(redact_names) ? redact_names[mode] :
						       "invalid";
}

int
rpt_render(struct rpt_model *m, enum rpt_form form, FILE *out, struct err *e)
{
	int rc;

	prepare(m);
	switch (form) {
	case RPT_HTML:
		rc = rpt_render_html(m, out);
		break;
	case RPT_MD:
		rc = rpt_render_md(m, out);
		break;
	case RPT_JSON:
		rc = rpt_render_json(m, out);
		break;
	default:
		return err_set(e, "report: unknown form %d", (int)form);
	}
	if (rc != 0 || fflush(out) != 0 || ferror(out))
		return err_set(e, "report: write error");
	return 0;
}
