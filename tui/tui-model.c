/* SPDX-License-Identifier: MIT */
/*
 * tui-model.c — parse control-protocol status snapshots and events into the
 * dashboard's plain structs, derive throughput from byte counters, keep the
 * 60 s rate history and the event log, sort and filter the resolver table.
 * It does not draw and does not talk to the engine: tui.c feeds it lines
 * and tui-draw.c reads it.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/tui-model.h"

static const char *const sort_names[TUI_SORT_COUNT] = {
    "address",
    "domain",
    "state",
    "rtt",
    "loss",
    "up-mtu",
    "down-mtu",
    "sent",
    "answered",
    "timeouts",
};

/* Member lookup along a dotted path ("traffic.bytes_up"). */
static json_t *
jget(json_t *o, const char *path)
{
	const char *p = path, *dot;
	char key[64];

	while (o != NULL && json_is_object(o)) {
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		if (dot == NULL)
			return o;
		p = dot + 1;
	}
	return NULL;
}

static long long
jint(json_t *o, const char *path)
{
	json_t *v = jget(o, path);
	double d;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (isfinite(d) && d > -9e18 && d < 9e18)
			return (long long)d;
	}
	return 0;
}

static double
jnum(json_t *o, const char *path, double dflt)
{
	json_t *v = jget(o, path);

	if (json_is_number(v))
		return json_number_value(v);
	return dflt;
}

/* A malloc'd copy of a string member, "" when absent or not a string. */
static char *
jstrdup(json_t *o, const char *path)
{
	json_t *v = jget(o, path);

	return xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

/* socks.requests and the most recent of socks.clients (the first). */
static void
parse_socks_clients(json_t *o, struct tui_status *st)
{
	json_t *a = jget(o, "socks.clients"), *first;

	st->socks_req_name = jint(o, "socks.requests.hostname");
	st->socks_req_ip = jint(o, "socks.requests.ip_literal");
	st->socks_nclients =
	    json_is_array(a) ? (long long)json_array_size(a) : 0;
	first = st->socks_nclients > 0 ? json_array_get(a, 0) : NULL;
	free(st->socks_last_client);
	st->socks_last_client = jstrdup(first, "address");
	st->socks_last_name = jint(first, "hostname");
	st->socks_last_ip = jint(first, "ip_literal");
}

void
tui_status_free(struct tui_status *st)
{
	size_t i;

	free(st->version);
	free(st->phase);
	free(st->response_mode);
	free(st->exit_ip);
	free(st->leak);
	free(st->domains);
	for (i = 0; i < st->nres; i++) {
		free(st->res[i].address);
		free(st->res[i].domain);
		free(st->res[i].state);
		free(st->res[i].reason);
	}
	free(st->res);
	for (i = 0; i < st->nstreams; i++)
		free(st->streams[i].state);
	free(st->streams);
	for (i = 0; i < st->nfec; i++)
		free(st->fec[i].name);
	free(st->fec);
	free(st->socks_last_client);
	memset(st, 0, sizeof *st);
}

/*
 * An exit check (exit_ip, leak): connect --checks gives an object
 * {"verdict", "reason", "address", ...} (docs/checks.md), shown as the
 * verdict word and the address ("ok 10.77.1.2", "critical 10.78.1.1"),
 * with the reason when the verdict is not ok ("unknown (fetch_failed)",
 * "not tested (no_leak_zone)": a header never shows a bare verdict that
 * does not say why); a string is
 * shown as is, a boolean leak as "leak"/"no leak", another object by its
 * "ip" member or its compact JSON. *code gets 0 ok, 1 warning, 2
 * critical, 3 unknown, -1 for anything else ("not tested").
 */
static char *
verdict_text(json_t *v, int *code)
{
	static const char *const words[] = {
	    "ok", "warning", "critical", "unknown"};
	json_t *m, *a, *why;
	char *s, *r;
	size_t i;

	*code = -1;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_boolean(v)) {
		*code = json_is_true(v) ? 2 : 0;
		return xstrdup(json_is_true(v) ? "leak" : "no leak");
	}
	if (json_is_object(v)) {
		if (json_is_string(m = json_object_get(v, "verdict"))) {
			for (i = 0; i < nitems(words); i++)
				if (strcmp(json_string_value(m), words[i]) == 0)
					*code = (int)i;
			a = json_object_get(v, "address");
			why = json_object_get(v, "reason");
			if (*code == 0 || !json_is_string(why) ||
			    strcmp(json_string_value(why), "ok") == 0)
				why = NULL;
			return xasprintf("%s%s%s%s%s%s", json_string_value(m),
			    json_is_string(a) ? " " : "",
			    json_is_string(a) ? json_string_value(a) : "",
			    why ? " (" : "", why ? json_string_value(why) : "",
			    why ? ")" : "");
		}
		if (json_is_string(m = json_object_get(v, "ip")))
			return xstrdup(json_string_value(m));
		if ((s = json_dumps(v, JSON_COMPACT)) != NULL) {
			r = xstrdup(s);
			free(s);
			return r;
		}
	}
	return xstrdup("");
}

static void
parse_resolvers(json_t *list, struct tui_status *st)
{
	json_t *r;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return;
	st->res = xcalloc(json_array_size(list), sizeof *st->res);
	json_array_foreach(list, i, r)
	{
		struct tui_resolver *x;

		if (!json_is_object(r))
			continue;
		x = &st->res[st->nres++];
		x->address = jstrdup(r, "address");
		x->domain = jstrdup(r, "domain");
		x->state = jstrdup(r, "state");
		x->reason = jstrdup(r, "reason");
		x->upload_mtu = jint(r, "upload_mtu");
		x->download_mtu = jint(r, "download_mtu");
		x->rtt_ms = jnum(r, "rtt_ms", -1);
		x->loss = jnum(r, "loss", 0);
		x->sent = jint(r, "sent");
		x->answered = jint(r, "answered");
		x->timeouts = jint(r, "timeouts");
	}
}

static void
parse_streams(json_t *list, struct tui_status *st)
{
	json_t *s;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return;
	st->streams = xcalloc(json_array_size(list), sizeof *st->streams);
	json_array_foreach(list, i, s)
	{
		struct tui_stream *x;

		if (!json_is_object(s))
			continue;
		x = &st->streams[st->nstreams++];
		x->id = jint(s, "id");
		x->state = jstrdup(s, "state");
		x->bytes_up = jint(s, "bytes_up");
		x->bytes_down = jint(s, "bytes_down");
	}
}

static void
parse_fec(json_t *fec, struct tui_status *st)
{
	const char *k;
	json_t *v;

	if (!json_is_object(fec))
		return;
	st->has_fec = 1;
	st->fec = xcalloc(json_object_size(fec) + 1, sizeof *st->fec);
	json_object_foreach(fec, k, v)
	{
		if (!json_is_number(v) && !json_is_boolean(v))
			continue;
		st->fec[st->nfec].name = xstrdup(k);
		st->fec[st->nfec].value =
		    json_is_boolean(v) ? json_is_true(v) : json_number_value(v);
		st->nfec++;
	}
}

static char *
join_domains(json_t *a)
{
	size_t i, len = 1;
	json_t *d;
	char *s;

	json_array_foreach(a, i, d) if (json_is_string(d)) len +=
	    strlen(json_string_value(d)) + 2;
	s = xcalloc(1, len);
	json_array_foreach(a, i, d)
	{
		if (!json_is_string(d))
			continue;
		if (s[0] != '\0')
			strncat(s, ", ", len - strlen(s) - 1);
		strncat(s, json_string_value(d), len - strlen(s) - 1);
	}
	return s;
}

/* Sum of the integer members of an object. */
static long long
jsum(json_t *o, const char *path)
{
	json_t *v = jget(o, path), *m;
	const char *k;
	long long n = 0;

	if (!json_is_object(v))
		return 0;
	json_object_foreach(v, k, m) if (json_is_integer(m) &&
	    json_integer_value(m) > 0) n += (long long)json_integer_value(m);
	return n;
}

/* The "dns" object (docs/dns-tunnel.md) of either role. */
static void
parse_dns(json_t *o, struct tui_status *st)
{
	int client = st->role == TUI_ROLE_CLIENT;

	if (!json_is_object(jget(o, "dns")))
		return;
	st->dns_queries =
	    client ? jsum(o, "dns.queries") : jint(o, "dns.queries");
	st->dns_hits = jint(o, "dns.cache.hits");
	st->dns_tunnel = jint(o, client ? "dns.sent" : "dns.resolved");
	st->dns_frag_up = jint(o,
	    client ? "dns.fragments.req_sent" : "dns.fragments.req_received");
	st->dns_frag_down = jint(o,
	    client ? "dns.fragments.res_received" : "dns.fragments.res_sent");
	st->dns_fail = jsum(o, "dns.failures");
	st->dns_p50_ms = jnum(o, "dns.latency.p50_ms", 0);
	st->dns_p99_ms = jnum(o, "dns.latency.p99_ms", 0);
	st->has_dns = st->dns_queries > 0 ||
	    (client && json_is_string(jget(o, "dns.listener")));
}

/* The client's "tun" object (docs/tun.md): null when off. */
static void
parse_tun(json_t *o, struct tui_status *st)
{
	if (!json_is_object(jget(o, "tun")))
		return;
	st->has_tun = 1;
	st->tun_pkts_in = jint(o, "tun.counters.packets.in");
	st->tun_pkts_out = jint(o, "tun.counters.packets.out");
	st->tun_bytes_in = jint(o, "tun.counters.packets.bytes_in");
	st->tun_bytes_out = jint(o, "tun.counters.packets.bytes_out");
	st->tun_flows_open = jint(o, "tun.counters.tcp.open");
	st->tun_flows_opened = jint(o, "tun.counters.tcp.opened");
	st->tun_dns_queries = jint(o, "tun.counters.dns.queries");
	st->tun_dropped = jsum(o, "tun.counters.dropped");
	st->tun_errors = jsum(o, "tun.counters.errors");
	st->tun_routes = jint(o, "tun.routes_installed");
}

int
tui_status_parse(json_t *o, struct tui_status *st, struct err *e)
{
	const char *role;
	json_t *v;

	memset(st, 0, sizeof *st);
	if (!json_is_object(o))
		return err_set(e, "status is not a JSON object");
	v = json_object_get(o, "role");
	role = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(role, "client") == 0)
		st->role = TUI_ROLE_CLIENT;
	else if (strcmp(role, "server") == 0)
		st->role = TUI_ROLE_SERVER;
	else
		return err_set(e, "status has no role client or server");
	st->version = jstrdup(o, "version");
	st->phase = jstrdup(o, "phase");
	st->pid = jint(o, "pid");
	st->uptime_ms = jint(o, "uptime_ms");
	st->bytes_up = jint(o, "traffic.bytes_up");
	st->bytes_down = jint(o, "traffic.bytes_down");
	st->str_active = jint(o, "streams.active");
	st->str_opened = jint(o, "streams.opened");
	st->str_closed = jint(o, "streams.closed");
	st->response_mode = jstrdup(o, "session.response_mode");
	st->exit_ip = xstrdup("");
	st->leak = xstrdup("");
	st->exit_code = st->leak_code = -1;
	st->domains = xstrdup("");
	if (st->role == TUI_ROLE_SERVER) {
		if (json_is_array(v = json_object_get(o, "domains"))) {
			free(st->domains);
			st->domains = join_domains(v);
		}
		st->sess_active = jint(o, "sessions.active");
		st->sess_opened = jint(o, "sessions.opened");
		st->sess_closed = jint(o, "sessions.closed");
		st->sess_expired = jint(o, "sessions.expired");
		st->sess_busy = jint(o, "sessions.busy");
		st->str_connect_failed = jint(o, "streams.connect_failed");
		st->str_filtered = jint(o, "streams.filtered");
		st->q_total = jint(o, "queries.total");
		st->q_tunnel = jint(o, "queries.tunnel");
		st->q_mtu_probe = jint(o, "queries.mtu_probe");
		st->q_nxdomain = jint(o, "queries.nxdomain");
		st->q_nodata = jint(o, "queries.nodata");
		st->q_formerr = jint(o, "queries.formerr");
		st->q_error_drop = jint(o, "queries.error_drop");
		st->q_no_reply = jint(o, "queries.no_reply");
		st->drop_bad_cookie = jint(o, "drops.bad_cookie");
		st->drop_undecodable = jint(o, "drops.undecodable");
		st->drop_unknown_session = jint(o, "drops.unknown_session");
		st->drop_not_request = jint(o, "drops.not_request");
		parse_dns(o, st);
		return 0;
	}
	st->has_session = json_is_object(json_object_get(o, "session"));
	st->live_age_ms =
	    json_is_integer(json_object_get(o, "last_valid_answer_age_ms")) ?
	    jint(o, "last_valid_answer_age_ms") :
	    -1;
	st->session_id = jint(o, "session.id");
	st->reinits = jint(o, "session.reinits");
	st->mtu_up = jint(o, "mtu.upload");
	st->mtu_down = jint(o, "mtu.download");
	st->res_total = jint(o, "resolvers.total");
	st->res_active = jint(o, "resolvers.active");
	st->res_disabled = jint(o, "resolvers.disabled");
	st->res_testing = jint(o, "resolvers.testing");
	st->res_rejected = jint(o, "resolvers.rejected");
	parse_resolvers(jget(o, "resolvers.list"), st);
	st->packets_up = jint(o, "traffic.packets_up");
	st->packets_down = jint(o, "traffic.packets_down");
	st->queries_sent = jint(o, "traffic.queries_sent");
	st->answers = jint(o, "traffic.answers");
	st->rate_up_bps = jnum(o, "traffic.rate_up_bps", 0);
	st->rate_down_bps = jnum(o, "traffic.rate_down_bps", 0);
	st->qps = jnum(o, "traffic.qps", 0);
	parse_streams(jget(o, "streams.list"), st);
	st->retransmits = jint(o, "arq.retransmits");
	st->nacks_sent = jint(o, "arq.nacks_sent");
	st->nacks_received = jint(o, "arq.nacks_received");
	st->rto_ms = jint(o, "arq.rto_ms");
	st->dup_factor = jint(o, "duplication.factor");
	st->dup_setup_factor = jint(o, "duplication.setup_factor");
	st->duplicates_sent = jint(o, "duplication.duplicates_sent");
	st->socks_accepted = jint(o, "socks.accepted");
	st->socks_read_errors = jint(o, "socks.read_errors");
	st->socks_write_errors = jint(o, "socks.write_errors");
	st->socks_auth_failures = jint(o, "socks.auth_failures");
	parse_socks_clients(o, st);
	st->ev_error_drop = jint(o, "events.error_drop");
	st->ev_session_busy = jint(o, "events.session_busy");
	st->ev_reinit = jint(o, "events.reinit");
	parse_fec(json_object_get(o, "fec"), st);
	parse_dns(o, st);
	parse_tun(o, st);
	v = json_object_get(o, "exit_ip");
	if (v != NULL && !json_is_null(v)) {
		free(st->exit_ip);
		st->exit_ip = verdict_text(v, &st->exit_code);
	}
	v = json_object_get(o, "leak");
	if (v != NULL && !json_is_null(v)) {
		free(st->leak);
		st->leak = verdict_text(v, &st->leak_code);
	}
	return 0;
}

void
tui_model_init(struct tui_model *m)
{
	struct tui_status *st = &m->cur;

	memset(m, 0, sizeof *m);
	m->sort = TUI_SORT_ADDRESS;
	/* Drawable before the first snapshot: every string is "". */
	st->version = xstrdup("");
	st->phase = xstrdup("");
	st->response_mode = xstrdup("");
	st->exit_ip = xstrdup("");
	st->leak = xstrdup("");
	st->exit_code = st->leak_code = -1;
	st->domains = xstrdup("");
}

void
tui_model_free(struct tui_model *m)
{
	size_t i;

	tui_status_free(&m->cur);
	for (i = 0; i < TUI_EVENTS; i++) {
		free(m->events[i].kind);
		free(m->events[i].resolver);
		free(m->events[i].detail);
	}
	free(m->filter);
	free(m->view);
	memset(m, 0, sizeof *m);
}

static void
add_sample(
    struct tui_model *m, long long t0, long long t1, double up, double down)
{
	struct tui_sample *s = &m->samples[m->sample_head];

	s->t0_ms = t0;
	s->t1_ms = t1;
	s->up_bps = up;
	s->down_bps = down;
	m->sample_head = (m->sample_head + 1) % TUI_SAMPLES;
	if (m->nsamples < TUI_SAMPLES)
		m->nsamples++;
}

/* The i-th most recent sample (0 = newest). */
static const struct tui_sample *
sample_at(const struct tui_model *m, size_t i)
{
	if (i >= m->nsamples)
		return NULL;
	return &m->samples[(m->sample_head + TUI_SAMPLES - 1 - i) %
	    TUI_SAMPLES];
}

void
tui_model_apply(struct tui_model *m, struct tui_status *st, long long now_ms)
{
	/*
	 * The engine's uptime is the time base: it is exact for the moment
	 * the counters were read, where our receive time carries socket and
	 * scheduling delay. Without it (an older engine) use our clock.
	 */
	long long t = st->uptime_ms > 0 ? st->uptime_ms : now_ms;

	if (m->have_prev && (st->pid != m->prev_pid || t < m->prev_t_ms)) {
		/* Another engine: its uptime is another clock. */
		m->nsamples = m->sample_head = 0;
		tui_model_disconnect(m);
	} else if (m->have_prev &&
	    (st->bytes_up < m->prev_up || st->bytes_down < m->prev_down)) {
		/* Counters never go back; start over rather than go < 0. */
		tui_model_disconnect(m);
	}
	if (m->have_prev && t > m->prev_t_ms) {
		double dt = (double)(t - m->prev_t_ms) / 1000.0;

		m->rate_up_bps = (double)(st->bytes_up - m->prev_up) / dt;
		m->rate_down_bps = (double)(st->bytes_down - m->prev_down) / dt;
		add_sample(
		    m, m->prev_t_ms, t, m->rate_up_bps, m->rate_down_bps);
	}
	/* The same moment twice (a status and a snapshot) changes nothing. */
	if (!m->have_prev || t > m->prev_t_ms) {
		m->have_prev = 1;
		m->prev_pid = st->pid;
		m->prev_t_ms = t;
		m->prev_up = st->bytes_up;
		m->prev_down = st->bytes_down;
	}
	tui_status_free(&m->cur);
	m->cur = *st;
	memset(st, 0, sizeof *st);
	m->have = 1;
	m->snapshots++;
	tui_model_update_view(m);
}

void
tui_model_disconnect(struct tui_model *m)
{
	m->have_prev = 0;
	m->rate_up_bps = m->rate_down_bps = 0;
}

void
tui_model_event(struct tui_model *m, long long at_ms, const char *kind,
    const char *resolver, const char *detail, int local)
{
	struct tui_event *ev = &m->events[m->event_head];

	free(ev->kind);
	free(ev->resolver);
	free(ev->detail);
	ev->at_ms = at_ms;
	ev->kind = xstrdup(kind ? kind : "");
	ev->resolver = xstrdup(resolver ? resolver : "");
	ev->detail = xstrdup(detail ? detail : "");
	ev->local = local;
	m->event_head = (m->event_head + 1) % TUI_EVENTS;
	if (m->nevents < TUI_EVENTS)
		m->nevents++;
	m->events_total++;
}

const struct tui_event *
tui_model_event_at(const struct tui_model *m, size_t i)
{
	if (i >= m->nevents)
		return NULL;
	return &m->events[(m->event_head + TUI_EVENTS - 1 - i) % TUI_EVENTS];
}

int
tui_model_feed(
    struct tui_model *m, json_t *msg, long long now_ms, struct err *e)
{
	struct tui_status st;
	json_t *v, *ev;
	const char *type;

	if (!json_is_object(msg))
		return err_set(e,
		    "engine sent something that is not a JSON "
		    "object");
	v = json_object_get(msg, "ok");
	if (json_is_false(v)) {
		v = json_object_get(msg, "error");
		return err_set(e, "engine refused: %s",
		    json_is_string(v) ? json_string_value(v) :
					"no reason given");
	}
	v = json_object_get(msg, "type");
	type = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(type, "event") == 0) {
		ev = json_object_get(msg, "event");
		if (!json_is_object(ev))
			return err_set(e, "event line without an event object");
		v = json_object_get(ev, "at_ms");
		tui_model_event(m,
		    json_is_integer(v) ? json_integer_value(v) : now_ms,
		    json_string_value(json_object_get(ev, "kind")),
		    json_string_value(json_object_get(ev, "resolver")),
		    json_string_value(json_object_get(ev, "detail")), 0);
		return 2;
	}
	v = json_object_get(msg, "status");
	if (v == NULL)
		return 0;
	if (tui_status_parse(v, &st, e) != 0) {
		tui_status_free(&st);
		return -1;
	}
	tui_model_apply(m, &st, now_ms);
	return 1;
}

void
tui_model_spark(const struct tui_model *m, int up, int *levels, size_t ncols,
    double *peak_bps)
{
	const struct tui_sample *newest = sample_at(m, 0), *s;
	double *val, peak = 0;
	long long end, start;
	size_t c, i;

	*peak_bps = 0;
	for (c = 0; c < ncols; c++)
		levels[c] = -1;
	if (newest == NULL || ncols == 0)
		return;
	val = xcalloc(ncols, sizeof *val);
	end = newest->t1_ms;
	start = end - TUI_HIST_MS;
	for (c = 0; c < ncols; c++) {
		double b0 = (double)start +
		    (double)TUI_HIST_MS * (double)c / (double)ncols;
		double b1 = (double)start +
		    (double)TUI_HIST_MS * (double)(c + 1) / (double)ncols;
		double w = 0, sum = 0;

		for (i = 0; (s = sample_at(m, i)) != NULL; i++) {
			double o0 = MAX((double)s->t0_ms, b0);
			double o1 = MIN((double)s->t1_ms, b1);

			if ((double)s->t1_ms <= b0)
				break; /* older samples end earlier still */
			if (o1 <= o0)
				continue;
			w += o1 - o0;
			sum += (o1 - o0) * (up ? s->up_bps : s->down_bps);
		}
		if (w > 0) {
			val[c] = sum / w;
			levels[c] = 0;
			if (val[c] > peak)
				peak = val[c];
		}
	}
	for (c = 0; c < ncols; c++) {
		if (levels[c] < 0 || val[c] <= 0 || peak <= 0)
			continue;
		levels[c] =
		    1 + (int)(val[c] / peak * (TUI_SPARK_LEVELS - 2) + 0.5);
		if (levels[c] > TUI_SPARK_LEVELS - 1)
			levels[c] = TUI_SPARK_LEVELS - 1;
	}
	*peak_bps = peak;
	free(val);
}

int
tui_natcmp(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;
			int r;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			if ((r = memcmp(a, b, la)) != 0)
				return r < 0 ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	if (*a == *b)
		return 0;
	return *a == '\0' ? -1 : 1;
}

static int
cmp_num(double a, double b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/*
 * Default direction per column: names ascending, RTT ascending (fast
 * first), everything else descending (the biggest problem or the busiest
 * resolver first); `reverse` flips it. Ties fall back to address, domain.
 */
static int
cmp_res(const void *pa, const void *pb, void *arg)
{
	const struct tui_model *sort_model = arg;
	const struct tui_resolver *a =
	    &sort_model->cur.res[*(const size_t *)pa];
	const struct tui_resolver *b =
	    &sort_model->cur.res[*(const size_t *)pb];
	int r = 0;

	switch (sort_model->sort) {
	case TUI_SORT_ADDRESS:
	case TUI_SORT_COUNT:
		break;
	case TUI_SORT_DOMAIN:
		r = tui_natcmp(a->domain, b->domain);
		break;
	case TUI_SORT_STATE:
		r = strcmp(a->state, b->state);
		break;
	case TUI_SORT_RTT:
		/* Unmeasured (negative) RTTs go last either way round. */
		if ((a->rtt_ms < 0) != (b->rtt_ms < 0))
			return a->rtt_ms < 0 ? 1 : -1;
		r = cmp_num(a->rtt_ms, b->rtt_ms);
		break;
	case TUI_SORT_LOSS:
		r = -cmp_num(a->loss, b->loss);
		break;
	case TUI_SORT_UP_MTU:
		r = -cmp_num((double)a->upload_mtu, (double)b->upload_mtu);
		break;
	case TUI_SORT_DOWN_MTU:
		r = -cmp_num((double)a->download_mtu, (double)b->download_mtu);
		break;
	case TUI_SORT_SENT:
		r = -cmp_num((double)a->sent, (double)b->sent);
		break;
	case TUI_SORT_ANSWERED:
		r = -cmp_num((double)a->answered, (double)b->answered);
		break;
	case TUI_SORT_TIMEOUTS:
		r = -cmp_num((double)a->timeouts, (double)b->timeouts);
		break;
	}
	if (r == 0)
		r = tui_natcmp(a->address, b->address);
	if (r == 0)
		r = tui_natcmp(a->domain, b->domain);
	if (r == 0)
		r = cmp_num(
		    (double)*(const size_t *)pa, (double)*(const size_t *)pb);
	return sort_model->sort_reverse ? -r : r;
}

static int
icontains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n == 0)
		return 1;
	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && hay[i] != '\0'; i++)
			if (tolower((unsigned char)hay[i]) !=
			    tolower((unsigned char)needle[i]))
				break;
		if (i == n)
			return 1;
	}
	return 0;
}

void
tui_model_update_view(struct tui_model *m)
{
	const char *f = m->filter ? m->filter : "";
	size_t i;

	free(m->view);
	m->view = xcalloc(m->cur.nres + 1, sizeof *m->view);
	m->nview = 0;
	for (i = 0; i < m->cur.nres; i++) {
		const struct tui_resolver *r = &m->cur.res[i];

		if (icontains(r->address, f) || icontains(r->domain, f) ||
		    icontains(r->state, f))
			m->view[m->nview++] = i;
	}
	qsort_r(m->view, m->nview, sizeof *m->view, cmp_res, m);
}

void
tui_model_set_sort(struct tui_model *m, enum tui_sort s, int reverse)
{
	m->sort = s >= 0 && s < TUI_SORT_COUNT ? s : TUI_SORT_ADDRESS;
	m->sort_reverse = reverse != 0;
	tui_model_update_view(m);
}

void
tui_model_next_sort(struct tui_model *m)
{
	tui_model_set_sort(
	    m, (enum tui_sort)((m->sort + 1) % TUI_SORT_COUNT), 0);
}

void
tui_model_set_filter(struct tui_model *m, const char *filter)
{
	free(m->filter);
	m->filter =
	    filter != NULL && filter[0] != '\0' ? xstrdup(filter) : NULL;
	tui_model_update_view(m);
}

const char *
tui_sort_name(enum tui_sort s)
{
	return s >= 0 && s < TUI_SORT_COUNT ? sort_names[s] : "?";
}

void
tui_fmt_rate(double bps, char *buf, size_t len)
{
	static const char *const unit[] = {"B/s", "KiB/s", "MiB/s", "GiB/s"};
	size_t u = 0;

	if (!(bps > 0))
		bps = 0;
	while (bps >= 1024 && u + 1 < nitems(unit)) {
		bps /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", bps, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", bps, unit[u]);
}

void
tui_fmt_count(long long n, char *buf, size_t len)
{
	static const char suffix[] = "kMGTP";
	double v = (double)n;
	size_t u = 0;

	if (n < 0)
		n = 0, v = 0;
	if (n < 100000) {
		snprintf(buf, len, "%lld", n);
		return;
	}
	while (v >= 1000 && u < sizeof suffix - 1) {
		v /= 1000;
		u++;
	}
	/* 1 decimal below 100 ("12.3k"), none above ("123k"). */
	if (v < 99.95)
		snprintf(buf, len, "%.1f%c", v, suffix[u - 1]);
	else
		snprintf(buf, len, "%.0f%c", v, suffix[u - 1]);
}

void
tui_fmt_duration(long long ms, char *buf, size_t len)
{
	long long s = ms > 0 ? ms / 1000 : 0;

	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm", s / 86400,
		    s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm%02llds", s / 3600,
		    s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}
