/* SPDX-License-Identifier: MIT */
/*
 * client-ctl.c — the client's face on the control socket: its state as the
 * STATUS object of docs/control-protocol.md (client role, with the
 * effective configuration it runs with) and its counters as Prometheus
 * text. Reads the client, the pool and the streams' ARQ counters; changes
 * nothing (counters are never reset by reading).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/client-dns.h"
#include "engine/client-fec.h"
#include "engine/client-int.h"
#include "engine/client-session.h"
#include "engine/client-tun.h"
#include "engine/client.h"
#include "engine/pool.h"

/* ARQ counters of every stream, live and gone. */
static void
arq_totals(const struct eng_client *c, struct arq_stats *t, uint64_t *rto_us)
{
	size_t i;

	*t = c->arq_done;
	*rto_us =
	    c->arqc.rto_init_us ? c->arqc.rto_init_us : c->arqc_cfg.rto_init_us;
	for (i = 0; i < c->streams.n; i++)
		if (c->streams.v[i]->arq != NULL)
			arq_stats_add(t, arq_get_stats(c->streams.v[i]->arq));
}

/* Rates over the last ~5 s from the one-a-second samples. */
static void
rates(const struct eng_client *c, double *up, double *down, double *qps)
{
	unsigned n = c->nrate, back, i;
	uint64_t now = ev_now_us(c->loop);
	double dt;

	*up = *down = *qps = 0;
	if (n == 0)
		return;
	back = n > 5 ? 5 : n - 1;
	i = (n - 1 - back) % nitems(c->rate);
	if (now <= c->rate[i].t)
		return;
	dt = (double)(now - c->rate[i].t) / 1e6;
	*up = (double)(c->st.bytes_up - c->rate[i].up) / dt;
	*down = (double)(c->st.bytes_down - c->rate[i].down) / dt;
	*qps = (double)(c->st.queries_sent - c->rate[i].q) / dt;
}

static const char *
stream_state(const struct ecl_stream *st)
{
	switch (st->state) {
	case ECL_SOCKS:
		return "socks";
	case ECL_WAIT_SESSION:
		return "waiting";
	case ECL_CONNECTING:
		return "connecting";
	case ECL_OPEN:
		return st->s.local_eof || st->s.peer_close_read ? "closing" :
								  "open";
	default:
		return "closing";
	}
}

/* The wall-clock time of the session's last valid tunnel answer, from
 * its age on the loop's clock (as last_valid_metrics does per connection). */
static int64_t
live_wall_ms(const struct eng_client *c, uint64_t now)
{
	int64_t wall = now_wall_ms();

	if (c->live_us > now)
		return wall;
	return wall - (int64_t)((now - c->live_us) / 1000);
}

#define STREAM_LIST_MAX 1000

json_t *
eng_client_status_json(
    struct eng_client *c, const char *version, size_t list_max)
{
	const struct eng_client_stats *st = &c->st;
	uint64_t now = ev_now_us(c->loop), rto;
	struct arq_stats a;
	json_t *o = json_object(), *sess, *list;
	double ru, rd, q;
	size_t i;
	int k,
	    connected = c->sid != 0 &&
	    (st->phase == ENG_CLI_CONNECTED || st->phase == ENG_CLI_STOPPING);

	json_object_set_new(o, "role", json_string("client"));
	json_object_set_new(o, "version", json_string(version));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "uptime_ms",
	    json_integer((json_int_t)((now - c->started_us) / 1000)));
	json_object_set_new(o, "phase", json_string(eng_client_phase_shown(c)));
	/* Liveness, like wg's "latest handshake": the last valid tunnel
	 * answer on the session (null before the first). */
	json_object_set_new(o, "last_valid_answer_age_ms",
	    c->live_us == 0 ?
		json_null() :
		json_integer((json_int_t)((now - c->live_us) / 1000)));
	json_object_set_new(o, "last_valid_answer_unix_ms",
	    c->live_us == 0 ? json_null() :
			      json_integer((json_int_t)live_wall_ms(c, now)));
	json_object_set_new(o, "stall_timeout_ms",
	    json_integer((json_int_t)(c->stall_us / 1000)));
	if (connected) {
		const struct wire_policy *p = &c->policy;

		sess = json_pack("{s:i,s:I,s:I,s:s,s:{s:i,s:i}}", "id",
		    (int)c->sid, "established_ms",
		    (json_int_t)c->established_ms, "reinits",
		    (json_int_t)st->session_reinits, "response_mode",
		    c->mode ? "base64" : "raw", "compression", "upload",
		    c->up_comp, "download", c->down_comp);
		json_object_set_new(sess, "policy",
		    c->has_policy ?
			json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "max_dup",
			    (int)p->max_dup, "max_setup_dup",
			    (int)p->max_setup_dup, "max_upload_mtu",
			    (int)p->max_upload_mtu, "max_download_mtu",
			    (int)p->max_download_mtu, "max_batch",
			    (int)p->max_batch, "max_arq_window",
			    (int)p->max_arq_window) :
			json_null());
		json_object_set_new(o, "session", sess);
	} else
		json_object_set_new(o, "session", json_null());
	json_object_set_new(o, "mtu",
	    json_pack("{s:i,s:i}", "upload", (int)c->sess_up_mtu, "download",
		(int)c->sess_down_mtu));
	if (!connected) {
		json_object_set_new(o, "mtu",
		    json_pack("{s:i,s:i}", "upload", (int)c->up_mtu, "download",
			(int)c->down_mtu));
	}
	json_object_set_new(
	    o, "resolvers", pool_status_json(c->pool, now, list_max));
	rates(c, &ru, &rd, &q);
	json_object_set_new(o, "traffic",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "bytes_up",
		(json_int_t)st->bytes_up, "bytes_down",
		(json_int_t)st->bytes_down, "packets_up",
		(json_int_t)st->frames_up, "packets_down",
		(json_int_t)st->frames_down, "queries_sent",
		(json_int_t)st->queries_sent, "answers",
		(json_int_t)st->answers, "rate_up_bps", ru, "rate_down_bps", rd,
		"qps", q));
	list = json_array();
	for (i = 0; i < c->streams.n && i < STREAM_LIST_MAX; i++) {
		const struct ecl_stream *s = ecl_stream_at(c, i);

		json_array_append_new(list,
		    json_pack("{s:i,s:s,s:I,s:I}", "id", (int)s->s.id, "state",
			stream_state(s), "bytes_up", (json_int_t)s->bytes_up,
			"bytes_down", (json_int_t)s->bytes_down));
	}
	json_object_set_new(o, "streams",
	    json_pack("{s:I,s:I,s:I,s:I,s:o}", "active",
		(json_int_t)st->streams_active, "opened",
		(json_int_t)st->streams_opened, "closed",
		(json_int_t)st->streams_closed, "failed",
		(json_int_t)st->streams_failed, "list", list));
	arq_totals(c, &a, &rto);
	json_object_set_new(o, "arq",
	    json_pack("{s:I,s:I,s:I,s:I,s:I}", "retransmits",
		(json_int_t)(a.retransmits + a.resends), "nacks_sent",
		(json_int_t)a.nacks_sent, "nacks_received",
		(json_int_t)a.nacks_recv, "rto_ms", (json_int_t)(rto / 1000),
		"control_retransmits", (json_int_t)a.ctl_retransmits));
	json_object_set_new(o, "duplication",
	    json_pack("{s:i,s:i,s:I}", "factor",
		(int)MIN(pool_dup_count(c->pool, POOL_FRAME_OTHER), c->cap_dup),
		"setup_factor",
		(int)MIN(pool_dup_count(c->pool, POOL_FRAME_SETUP),
		    c->cap_setup_dup),
		"duplicates_sent", (json_int_t)st->duplicates_sent));
	json_object_set_new(o, "socks",
	    json_pack("{s:I,s:I,s:I,s:I}", "accepted",
		(json_int_t)st->socks_accepted, "read_errors",
		(json_int_t)st->socks_read_errors, "write_errors",
		(json_int_t)st->socks_write_errors, "auth_failures",
		(json_int_t)st->socks_auth_failures));
	/* Where the local listener is, for probes (`ip`) that use it. */
	{
		json_t *so = json_object_get(o, "socks");
		union net_addr la;
		char buf[NET_ADDR_STRLEN];

		if (c->listen_fd >= 0 &&
		    net_local_addr(c->listen_fd, &la, NULL) == 0) {
			net_addr_format(&la, buf, sizeof buf);
			json_object_set_new(so, "listen", json_string(buf));
		} else
			json_object_set_new(so, "listen", json_null());
		json_object_set_new(so, "protocol",
		    json_string(c->cfg.protocol_tcp ? "tcp" : "socks5"));
		json_object_set_new(
		    so, "auth", json_boolean(c->cfg.socks_auth));
		json_object_set_new(so, "requests",
		    json_pack("{s:I,s:I,s:I,s:I}", "hostname",
			(json_int_t)st->socks_req_name, "ip_literal",
			(json_int_t)(st->socks_req_ip4 + st->socks_req_ip6),
			"ipv4", (json_int_t)st->socks_req_ip4, "ipv6",
			(json_int_t)st->socks_req_ip6));
		/* The same by client address, the most recent first. */
		json_object_set_new(
		    so, "clients", ecl_peers_json(&c->peers, now_wall_ms()));
		json_object_set_new(
		    so, "clients_max", json_integer(ECL_PEERS_MAX));
		json_object_set_new(so, "clients_evicted",
		    json_integer((json_int_t)c->peers.evicted));
	}
	json_object_set_new(o, "events",
	    json_pack("{s:I,s:I,s:I,s:I}", "error_drop",
		(json_int_t)st->error_drops, "session_busy",
		(json_int_t)st->busy, "reinit", (json_int_t)st->session_reinits,
		"stalled", (json_int_t)st->stalls));
	json_object_set_new(o, "dns", ecl_dns_status_json(c));
	json_object_set_new(o, "tun", ecl_tun_status_json(c));
	json_object_set_new(o, "fec", ecl_fec_status_json(c));
	for (k = 0; k < ENG_CHECK_COUNT; k++)
		json_object_set_new(o,
		    eng_client_check_name((enum eng_client_check)k),
		    c->checks[k] ? json_incref(c->checks[k]) : json_null());
	/* What this engine runs with, key by key (secrets fingerprinted). */
	json_object_set_new(
	    o, "effective_config", cfg_client_effective_json(&c->cfg));
	return o;
}

/* ---- the exit checks of connect --checks ------------------------------ */

static const char *const check_names[ENG_CHECK_COUNT] = {
    [ENG_CHECK_EXIT_IP] = "exit_ip",
    [ENG_CHECK_LEAK] = "leak",
};

const char *
eng_client_check_name(enum eng_client_check which)
{
	return (unsigned)which < ENG_CHECK_COUNT ? check_names[which] :
						   "invalid";
}

/* A check's verdict word, "not tested" for none. */
static const char *
check_verdict(const json_t *obj)
{
	const char *v = json_string_value(json_object_get(obj, "verdict"));

	return v != NULL ? v : "not tested";
}

/* The verdict as an exit code (0 ok .. 3 unknown), -1 for not tested. */
static int
check_code(const json_t *obj)
{
	static const char *const words[] = {
	    "ok", "warning", "critical", "unknown"};
	const char *v = check_verdict(obj);
	int i;

	for (i = 0; i < (int)nitems(words); i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	return -1;
}

void
eng_client_set_check(
    struct eng_client *c, enum eng_client_check which, json_t *obj)
{
	const char *was, *now, *reason, *detail;
	char buf[512];

	if ((unsigned)which >= ENG_CHECK_COUNT) {
		json_decref(obj);
		return;
	}
	was = check_verdict(c->checks[which]);
	now = check_verdict(obj);
	if (strcmp(was, now) != 0) {
		reason = json_string_value(json_object_get(obj, "reason"));
		detail = json_string_value(json_object_get(obj, "detail"));
		snprintf(buf, sizeof buf, "%s: %s -> %s (%s): %s",
		    check_names[which], was, now, reason ? reason : "",
		    detail ? detail : "");
		log_info("check %s", buf);
		ecl_event(c, "check", NULL, buf);
	}
	json_decref(c->checks[which]);
	c->checks[which] = obj;
}

/* Per check: its verdict as a number and when it was reached. */
static void
check_metrics(const struct eng_client *c, FILE *f)
{
	size_t k;

	fprintf(f,
	    "# HELP mdns_client_check_verdict Verdict of the exit check "
	    "(connect --checks): 0 ok, 1 warning, 2 critical, 3 unknown, -1 "
	    "not tested.\n# TYPE mdns_client_check_verdict gauge\n");
	for (k = 0; k < ENG_CHECK_COUNT; k++)
		fprintf(f, "mdns_client_check_verdict{check=\"%s\"} %d\n",
		    check_names[k], check_code(c->checks[k]));
	fprintf(f,
	    "# HELP mdns_client_check_timestamp_seconds Unix time of the "
	    "exit check's last result (0: none).\n"
	    "# TYPE mdns_client_check_timestamp_seconds gauge\n");
	for (k = 0; k < ENG_CHECK_COUNT; k++)
		fprintf(f,
		    "mdns_client_check_timestamp_seconds{check=\"%s\"} "
		    "%.3f\n",
		    check_names[k],
		    (double)json_integer_value(
			json_object_get(c->checks[k], "time_unix_ms")) /
			1000.0);
}

static void
metric(
    FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
	    type, name, (unsigned long long)v);
}

/* Label values are addresses and domain names; escape per the format. */
static void
label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

/* Per connection: the wall-clock time of its last valid tunnel answer
 * (connections without one are left out). */
static void
last_valid_metrics(struct eng_client *c, FILE *f, size_t n, uint64_t now)
{
	static const char *name =
	    "mdns_client_resolver_last_valid_answer_timestamp_seconds";
	int64_t wall = now_wall_ms();
	char addr[NET_ADDR_STRLEN];
	size_t i;

	fprintf(f,
	    "# HELP %s Unix time of the resolver's last valid tunnel "
	    "answer.\n# TYPE %s gauge\n",
	    name, name);
	for (i = 0; i < n; i++) {
		const struct pool_conn *p = pool_conn(c->pool, (uint32_t)i);

		if (p->last_valid_us == 0 || p->last_valid_us > now)
			continue;
		net_addr_format(
		    pool_conn_addr(c->pool, (uint32_t)i), addr, sizeof addr);
		fprintf(f, "%s{resolver=\"", name);
		label(f, addr);
		fputs("\",domain=\"", f);
		label(f, pool_conn_domain(c->pool, (uint32_t)i));
		fprintf(f, "\"} %.3f\n",
		    (double)(wall -
			(int64_t)((now - p->last_valid_us) / 1000)) /
			1000.0);
	}
}

/* Per-resolver series are listed for at most this many connections. */
#define METRIC_CONN_MAX 1000

char *
eng_client_metrics_text(struct eng_client *c)
{
	const struct eng_client_stats *st = &c->st;
	static const char *fam[3][2] = {
	    {"mdns_client_resolver_sent_total", "Queries sent."},
	    {"mdns_client_resolver_answered_total", "Answers received."},
	    {"mdns_client_resolver_timeouts_total", "Queries timed out."},
	};
	static const char *states[] = {
	    "active", "disabled", "testing", "rejected"};
	struct pool_counts pc;
	struct arq_stats a;
	uint64_t rto, now = ev_now_us(c->loop);
	char *buf = NULL, addr[NET_ADDR_STRLEN];
	size_t len = 0, i, n, k;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	metric(f, "mdns_client_uptime_seconds", "gauge",
	    "Seconds since the client started.",
	    (now - c->started_us) / 1000000);
	fprintf(f,
	    "# HELP mdns_client_connected Whether a session is up and live "
	    "(not stalled).\n"
	    "# TYPE mdns_client_connected gauge\nmdns_client_connected %d\n",
	    eng_client_live(c));
	fprintf(f,
	    "# HELP mdns_client_stalled Whether the session is stalled (no "
	    "valid tunnel answer for the stall timeout).\n"
	    "# TYPE mdns_client_stalled gauge\nmdns_client_stalled %d\n",
	    st->phase == ENG_CLI_CONNECTED && c->stalled);
	fprintf(f,
	    "# HELP mdns_client_last_valid_answer_timestamp_seconds Unix "
	    "time of the last valid tunnel answer on the session (0: none).\n"
	    "# TYPE mdns_client_last_valid_answer_timestamp_seconds gauge\n"
	    "mdns_client_last_valid_answer_timestamp_seconds %.3f\n",
	    c->live_us == 0 ? 0.0 : (double)live_wall_ms(c, now) / 1000.0);
	fprintf(f,
	    "# HELP mdns_client_bytes_total Stream payload bytes.\n"
	    "# TYPE mdns_client_bytes_total counter\n"
	    "mdns_client_bytes_total{direction=\"up\"} %llu\n"
	    "mdns_client_bytes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)st->bytes_up,
	    (unsigned long long)st->bytes_down);
	fprintf(f,
	    "# HELP mdns_client_packets_total Tunnel frames.\n"
	    "# TYPE mdns_client_packets_total counter\n"
	    "mdns_client_packets_total{direction=\"up\"} %llu\n"
	    "mdns_client_packets_total{direction=\"down\"} %llu\n",
	    (unsigned long long)st->frames_up,
	    (unsigned long long)st->frames_down);
	metric(f, "mdns_client_queries_total", "counter",
	    "DNS queries sent (copies included).", st->queries_sent);
	metric(f, "mdns_client_answers_total", "counter",
	    "DNS answers to tunnel queries.", st->answers);
	metric(f, "mdns_client_duplicates_total", "counter",
	    "Extra copies sent for duplication.", st->duplicates_sent);
	metric(f, "mdns_client_probes_total", "counter",
	    "MTU, confirm and recheck probes sent.", st->probes_sent);
	metric(f, "mdns_client_streams_active", "gauge",
	    "Streams currently open.", st->streams_active);
	metric(f, "mdns_client_streams_opened_total", "counter",
	    "Streams opened.", st->streams_opened);
	arq_totals(c, &a, &rto);
	metric(f, "mdns_client_arq_retransmits_total", "counter",
	    "Data frames sent again (RTO and NACK).",
	    a.retransmits + a.resends);
	fprintf(f,
	    "# HELP mdns_client_arq_nacks_total NACKs by direction.\n"
	    "# TYPE mdns_client_arq_nacks_total counter\n"
	    "mdns_client_arq_nacks_total{direction=\"sent\"} %llu\n"
	    "mdns_client_arq_nacks_total{direction=\"received\"} %llu\n",
	    (unsigned long long)a.nacks_sent, (unsigned long long)a.nacks_recv);
	fprintf(f,
	    "# HELP mdns_client_socks_errors_total SOCKS bridge errors.\n"
	    "# TYPE mdns_client_socks_errors_total counter\n"
	    "mdns_client_socks_errors_total{kind=\"read\"} %llu\n"
	    "mdns_client_socks_errors_total{kind=\"write\"} %llu\n"
	    "mdns_client_socks_errors_total{kind=\"auth\"} %llu\n",
	    (unsigned long long)st->socks_read_errors,
	    (unsigned long long)st->socks_write_errors,
	    (unsigned long long)st->socks_auth_failures);
	fprintf(f,
	    "# HELP mdns_client_socks_requests_total SOCKS requests by "
	    "target: a host name, or an IP literal the application resolved "
	    "itself.\n"
	    "# TYPE mdns_client_socks_requests_total counter\n"
	    "mdns_client_socks_requests_total{target=\"hostname\"} %llu\n"
	    "mdns_client_socks_requests_total{target=\"ipv4\"} %llu\n"
	    "mdns_client_socks_requests_total{target=\"ipv6\"} %llu\n",
	    (unsigned long long)st->socks_req_name,
	    (unsigned long long)st->socks_req_ip4,
	    (unsigned long long)st->socks_req_ip6);
	/* Per client address in status only (socks.clients): here how
	 * many the bounded table holds and how many it pushed out. */
	metric(f, "mdns_client_socks_clients", "gauge",
	    "Recent local SOCKS client addresses tracked (at most 64).",
	    c->peers.n);
	metric(f, "mdns_client_socks_clients_evicted_total", "counter",
	    "SOCKS client addresses pushed out of the recent table.",
	    c->peers.evicted);
	fprintf(f,
	    "# HELP mdns_client_session_events_total Session events.\n"
	    "# TYPE mdns_client_session_events_total counter\n"
	    "mdns_client_session_events_total{kind=\"init\"} %llu\n"
	    "mdns_client_session_events_total{kind=\"reinit\"} %llu\n"
	    "mdns_client_session_events_total{kind=\"error_drop\"} %llu\n"
	    "mdns_client_session_events_total{kind=\"session_busy\"} %llu\n"
	    "mdns_client_session_events_total{kind=\"stalled\"} %llu\n",
	    (unsigned long long)st->session_inits,
	    (unsigned long long)st->session_reinits,
	    (unsigned long long)st->error_drops, (unsigned long long)st->busy,
	    (unsigned long long)st->stalls);
	pool_counts(c->pool, &pc);
	fprintf(f,
	    "# HELP mdns_client_resolvers Connections by state.\n"
	    "# TYPE mdns_client_resolvers gauge\n");
	{
		size_t v[4] = {pc.active, pc.disabled + pc.rechecking,
		    pc.testing, pc.rejected};

		for (i = 0; i < nitems(states); i++)
			fprintf(f, "mdns_client_resolvers{state=\"%s\"} %zu\n",
			    states[i], v[i]);
	}
	ecl_dns_metrics(c, f);
	ecl_fec_metrics(c, f);
	ecl_tun_metrics(c, f);
	check_metrics(c, f);
	n = MIN(pool_size(c->pool), (size_t)METRIC_CONN_MAX);
	for (k = 0; k < nitems(fam); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", fam[k][0],
		    fam[k][1], fam[k][0]);
		for (i = 0; i < n; i++) {
			const struct pool_conn *p =
			    pool_conn(c->pool, (uint32_t)i);
			uint64_t v = k == 0 ? p->sent :
			    k == 1	    ? p->answered :
					      p->timeouts;

			net_addr_format(pool_conn_addr(c->pool, (uint32_t)i),
			    addr, sizeof addr);
			fprintf(f, "%s{resolver=\"", fam[k][0]);
			label(f, addr);
			fputs("\",domain=\"", f);
			label(f, pool_conn_domain(c->pool, (uint32_t)i));
			fprintf(f, "\"} %llu\n", (unsigned long long)v);
		}
	}
	last_valid_metrics(c, f, n, now);
	fclose(f);
	return buf;
}
