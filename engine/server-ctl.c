/* SPDX-License-Identifier: MIT */
/*
 * server-ctl.c — the server's face on the control socket: its counters as
 * the STATUS object of docs/control-protocol.md (server role, with the
 * effective configuration it runs with) and as Prometheus text. Reads
 * only; changes nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/server-dns.h"
#include "engine/server-fec.h"
#include "engine/server-int.h"
#include "engine/server-leak.h"
#include "engine/server.h"

/* What the server refused (issue 19, docs/security.md). */
static json_t *
guard_json(const struct eng_server_guard_stats *g)
{
	json_t *o = json_object();
	const struct {
		const char *k;
		uint64_t v;
	} f[] = {
	    {"drop_comp", g->drop_comp},
	    {"drop_inflate", g->drop_inflate},
	    {"drop_preconnect", g->drop_preconnect},
	    {"drop_stream_budget", g->drop_stream_budget},
	    {"drop_session_budget", g->drop_session_budget},
	    {"drop_server_budget", g->drop_server_budget},
	    {"syn_too_big", g->syn_too_big},
	    {"syn_timeout", g->syn_timeout},
	    {"rx_held_bytes", g->rx_held},
	    {"packed_blocks", g->packed_blocks},
	    {"packed_cut", g->packed_cut},
	    {"orphan_dropped", g->orphan_dropped},
	    {"streams_refused", g->streams_refused},
	    {"conn_refused", g->conn_refused},
	    {"upstream_conns", g->upstream_conns},
	    {"answers_truncated", g->ans_truncated},
	    {"source_answer_drop", g->src_answer_drop},
	    {"init_rate_drop", g->init_rate_drop},
	    {"cookie_source_drop", g->cookie_src_drop},
	    {"sessions_reserved", g->sessions_reserved},
	};
	size_t i;

	for (i = 0; i < nitems(f); i++)
		json_object_set_new(
		    o, f[i].k, json_integer((json_int_t)f[i].v));
	return o;
}

/* The same as one metric family, labelled by counter. */
static void
guard_metrics(FILE *f, const struct eng_server_guard_stats *g)
{
	json_t *o = guard_json(g);
	void *it;

	fprintf(f,
	    "# HELP mdns_server_guard What the server refused or holds "
	    "(issue 19; rx_held_bytes, upstream_conns: gauges).\n"
	    "# TYPE mdns_server_guard untyped\n");
	for (it = json_object_iter(o); it != NULL;
	     it = json_object_iter_next(o, it))
		fprintf(f, "mdns_server_guard{what=\"%s\"} %lld\n",
		    json_object_iter_key(it),
		    (long long)json_integer_value(json_object_iter_value(it)));
	json_decref(o);
}

/* ARQ counters of every stream, the freed ones included. */
static void
arq_totals(const struct eng_server *s, struct arq_stats *a)
{
	unsigned i;
	size_t j;

	*a = s->arq_done;
	for (i = 1; i < 256; i++)
		for (j = 0; j < s->sess[i].streams.n; j++)
			if (s->sess[i].streams.v[j]->arq != NULL)
				arq_stats_add(a,
				    arq_get_stats(
					s->sess[i].streams.v[j]->arq));
}

json_t *
eng_server_status_json(const struct eng_server *s, const char *version,
    uint64_t uptime_ms, int stopping)
{
	const struct eng_server_stats *st = &s->st;
	json_t *o = json_object(), *doms = json_array();
	struct arq_stats a;
	size_t i;

	for (i = 0; i < s->cfg.ndomains; i++)
		json_array_append_new(doms, json_string(s->cfg.domains[i]));
	json_object_set_new(o, "role", json_string("server"));
	json_object_set_new(o, "version", json_string(version));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(
	    o, "uptime_ms", json_integer((json_int_t)uptime_ms));
	json_object_set_new(
	    o, "phase", json_string(stopping ? "stopping" : "serving"));
	json_object_set_new(o, "domains", doms);
	json_object_set_new(o, "sessions",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "active",
		(json_int_t)st->sessions_active, "opened",
		(json_int_t)st->sessions_created, "reused",
		(json_int_t)st->sessions_reused, "closed",
		(json_int_t)st->sessions_closed, "expired",
		(json_int_t)st->sessions_expired, "busy",
		(json_int_t)st->sessions_busy));
	json_object_set_new(o, "streams",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "active",
		(json_int_t)st->streams_active, "opened",
		(json_int_t)st->streams_opened, "closed",
		(json_int_t)st->streams_closed, "connect_ok",
		(json_int_t)st->connect_ok, "connect_failed",
		(json_int_t)st->connect_failed, "filtered",
		(json_int_t)st->filter_denied));
	json_object_set_new(o, "queries",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "total",
		(json_int_t)st->queries, "tunnel", (json_int_t)st->ans_tunnel,
		"mtu_up", (json_int_t)st->mtu_up, "mtu_down",
		(json_int_t)st->mtu_down, "nxdomain",
		(json_int_t)st->ans_nxdomain, "nodata",
		(json_int_t)st->ans_nodata, "formerr",
		(json_int_t)st->ans_formerr, "no_reply",
		(json_int_t)st->ans_none, "error_drop",
		(json_int_t)st->error_drop_sent));
	json_object_set_new(o, "drops",
	    json_pack("{s:I,s:I,s:I}", "bad_cookie",
		(json_int_t)st->drop_bad_cookie, "undecodable",
		(json_int_t)st->drop_decode, "qname_minimisation",
		(json_int_t)st->drop_qmin));
	json_object_set_new(o, "resolve",
	    json_pack("{s:I,s:I}", "started", (json_int_t)st->resolve_started,
		"failed", (json_int_t)st->resolve_failed));
	json_object_set_new(o, "traffic",
	    json_pack("{s:I,s:I}", "bytes_up", (json_int_t)st->bytes_up,
		"bytes_down", (json_int_t)st->bytes_down));
	json_object_set_new(o, "dns", srv_dns_status_json(s));
	json_object_set_new(o, "leak", srv_leak_status_json(s->leak));
	json_object_set_new(o, "fec", srv_fec_status_json(s));
	arq_totals(s, &a);
	/* retransmits as in the client's status: RTO-driven + RESENDs */
	json_object_set_new(o, "arq",
	    json_pack("{s:I,s:I,s:I,s:I,s:I}", "data_sent",
		(json_int_t)a.data_sent, "retransmits",
		(json_int_t)(a.retransmits + a.resends), "rto_retransmits",
		(json_int_t)a.retransmits, "resends", (json_int_t)a.resends,
		"nacks_received", (json_int_t)a.nacks_recv));
	json_object_set_new(o, "guard", guard_json(&s->gst));
	/* What this engine runs with, key by key (secrets fingerprinted). */
	json_object_set_new(
	    o, "effective_config", cfg_server_effective_json(&s->cfg));
	return o;
}

/* Append one metric family with a single sample. */
static void
metric(FILE *f, const char *name, const char *type, const char *help,
    const char *labels, uint64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s%s %llu\n", name, help, name,
	    type, name, labels, (unsigned long long)v);
}

char *
eng_server_metrics_text(const struct eng_server *s, uint64_t uptime_ms)
{
	const struct eng_server_stats *st = &s->st;
	static const char *kinds[] = {"tunnel", "nxdomain", "nodata", "formerr",
	    "no_reply", "error_drop"};
	uint64_t kv[6];
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	kv[0] = st->ans_tunnel;
	kv[1] = st->ans_nxdomain;
	kv[2] = st->ans_nodata;
	kv[3] = st->ans_formerr;
	kv[4] = st->ans_none;
	kv[5] = st->error_drop_sent;
	metric(f, "mdns_server_uptime_seconds", "gauge",
	    "Seconds since the server started.", "", uptime_ms / 1000);
	metric(f, "mdns_server_queries_total", "counter",
	    "DNS messages received.", "", st->queries);
	fprintf(f,
	    "# HELP mdns_server_answers_total Answers by kind.\n"
	    "# TYPE mdns_server_answers_total counter\n");
	for (i = 0; i < nitems(kinds); i++)
		fprintf(f, "mdns_server_answers_total{kind=\"%s\"} %llu\n",
		    kinds[i], (unsigned long long)kv[i]);
	fprintf(f,
	    "# HELP mdns_server_mtu_probes_total MTU probes answered.\n"
	    "# TYPE mdns_server_mtu_probes_total counter\n"
	    "mdns_server_mtu_probes_total{direction=\"up\"} %llu\n"
	    "mdns_server_mtu_probes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)st->mtu_up, (unsigned long long)st->mtu_down);
	fprintf(f,
	    "# HELP mdns_server_drops_total Queries dropped by reason.\n"
	    "# TYPE mdns_server_drops_total counter\n"
	    "mdns_server_drops_total{reason=\"bad_cookie\"} %llu\n"
	    "mdns_server_drops_total{reason=\"undecodable\"} %llu\n"
	    "mdns_server_drops_total{reason=\"qname_minimisation\"} %llu\n",
	    (unsigned long long)st->drop_bad_cookie,
	    (unsigned long long)st->drop_decode,
	    (unsigned long long)st->drop_qmin);
	metric(f, "mdns_server_sessions_active", "gauge",
	    "Sessions currently open.", "", st->sessions_active);
	metric(f, "mdns_server_sessions_opened_total", "counter",
	    "Sessions created.", "", st->sessions_created);
	metric(f, "mdns_server_sessions_busy_total", "counter",
	    "SESSION_BUSY answers (table full).", "", st->sessions_busy);
	metric(f, "mdns_server_sessions_expired_total", "counter",
	    "Sessions closed for idleness.", "", st->sessions_expired);
	metric(f, "mdns_server_streams_active", "gauge",
	    "Streams currently open.", "", st->streams_active);
	metric(f, "mdns_server_streams_opened_total", "counter",
	    "Streams opened.", "", st->streams_opened);
	metric(f, "mdns_server_streams_filtered_total", "counter",
	    "Targets refused by the filter.", "", st->filter_denied);
	metric(f, "mdns_server_connect_failures_total", "counter",
	    "Upstream connects that failed.", "", st->connect_failed);
	fprintf(f,
	    "# HELP mdns_server_bytes_total Stream payload bytes.\n"
	    "# TYPE mdns_server_bytes_total counter\n"
	    "mdns_server_bytes_total{direction=\"up\"} %llu\n"
	    "mdns_server_bytes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)st->bytes_up,
	    (unsigned long long)st->bytes_down);
	guard_metrics(f, &s->gst);
	srv_dns_metrics(s, f);
	srv_fec_metrics(s, f);
	fclose(f);
	return buf;
}
