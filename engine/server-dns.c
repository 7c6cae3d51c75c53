/* SPDX-License-Identifier: MIT */
/*
 * server-dns.c — the server's half of DNS through the tunnel
 * (docs/dns-tunnel.md, wire-protocol.md 1.14): DNS_QUERY_REQ fragments of
 * a session are reassembled (proto/dnstun-reasm.c), the query is judged
 * as upstream's server judges it (dnstun_server_check: silence, FORMERR,
 * NOTIMP, or resolve), answered from the server cache (engine/dns-cache.c)
 * or by DNS_UPSTREAM_SERVERS through the non-blocking resolver client
 * (engine/dns-upstream.c), and the answer goes back cut at the session's
 * download MTU as DNS_QUERY_RES fragments on stream 0.
 *
 * Where we differ from upstream (the lead's decisions, docs/dns-tunnel.md
 * section 5): every REQ fragment the table takes or recognises is acked
 * (upstream acks only the completing one), except when it had no room or
 * the resolver tables are full (then the client's resend is the retry);
 * RES fragments are tracked control frames of the session's stream-0 ARQ
 * and go again until the client's RES_ACK (upstream sends them once).
 *
 * Bounds: reassembly 64 queries / 256 KiB per session and 4096 / 8 MiB in
 * total, queries of at most 4096 bytes; resolutions 256 per session and
 * 4096 in total (dns-upstream.h); unacknowledged answer fragments 1024
 * per session (an answer that does not fit becomes SERVFAIL). No query
 * name is ever logged.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine/server-dns.h"

#define SEC(x) ((uint64_t)((x)*1000000.0))
/* Longest query the server takes (ours; upstream has no bound). */
#define QUERY_MAX 4096
/* Unacknowledged DNS_QUERY_RES fragments per session. */
#define RES_FRAGS_MAX 1024

struct srv_dns_job {
	struct srv_dns_job *prev, *next;
	struct eng_server *srv;
	struct dnsup_req *r;
	uint8_t sid;
	uint64_t created; /* the session's, to tell a reused id */
	uint16_t seq;
	uint64_t t0;
	struct dnstun_question q;
	size_t qlen;
	uint8_t query[];
};

const struct eng_server_dns_stats *
eng_server_dns_stats(const struct eng_server *s)
{
	return &s->dns->st;
}

uint64_t
eng_server_dns_latency_us(const struct eng_server *s, double p)
{
	return dnsrep_lat_pct(&s->dns->lat, p);
}

/* ---- stream 0 ---- */

static void
emit0(void *arg, enum arq_out kind, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct srv_session *ss = arg;

	(void)kind;
	txq_push(&ss->q0, txq_priority(type), type, 0, seq, frag, total, comp,
	    data, len);
}

static struct arq *
arq0(struct srv_session *ss)
{
	if (ss->dns_arq == NULL)
		ss->dns_arq = arq_new(&ss->srv->arqc, emit0, ss);
	return ss->dns_arq;
}

static void
queue_ack(struct srv_session *ss, const struct wire_frame *f)
{
	struct wire_frame a;

	if (dnstun_ack_frame(f, &a) == -1)
		return;
	txq_push(&ss->q0, txq_priority(a.type), a.type, 0, a.seq, a.frag_id,
	    a.frag_total, 0, NULL, 0);
	ss->srv->dns->st.acks_sent++;
}

/* SERVFAIL built from the query (upstream's rcode-only answer). */
static long
servfail(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
	struct dnstun_req r;

	if (dnstun_req_parse(q, qlen, &r) != DNSTUN_REQ_OK)
		return dnstun_answer_rcode_raw(
		    q, qlen, DNSTUN_RCODE_SERVFAIL, out, cap);
	return dnstun_answer_rcode(
	    q, qlen, &r, DNSTUN_RCODE_SERVFAIL, out, cap);
}

/*
 * Cut ans at the session's download MTU into tracked DNS_QUERY_RES
 * fragments. An answer that needs more than 255 fragments, or more room
 * than the session has left, is replaced by SERVFAIL (upstream sends
 * nothing then and its client waits for ever).
 */
static void
send_answer(struct srv_session *ss, uint16_t seq, const uint8_t *q, size_t qlen,
    const uint8_t *ans, size_t len, uint64_t t0, uint64_t now)
{
	struct srv_dns *d = ss->srv->dns;
	struct arq *a = arq0(ss);
	uint8_t sf[1024];
	struct wire_frame f;
	unsigned n, i;
	long sl;

	n = dnstun_frag_count(len, ss->down_mtu);
	if (n == 0 || arq_ctl_count(a) + n > RES_FRAGS_MAX) {
		d->st.servfail_local++;
		sl = servfail(q, qlen, sf, sizeof sf);
		n = sl > 0 ? dnstun_frag_count((size_t)sl, ss->down_mtu) : 0;
		if (n == 0 || arq_ctl_count(a) + n > RES_FRAGS_MAX)
			return;
		ans = sf;
		len = (size_t)sl;
	}
	for (i = 0; i < n; i++) {
		if (dnstun_frag_frame(ans, len, ss->down_mtu, i,
			WIRE_DNS_QUERY_RES, seq, &f) == -1)
			return;
		arq_ctl_send(a, now, WIRE_DNS_QUERY_RES, seq, f.frag_id,
		    f.frag_total, f.payload, f.payload_len, 0);
		d->st.res_fragments++;
	}
	d->st.answers++;
	dnsrep_lat_add(&d->lat, now - t0);
}

/* ---- resolutions ---- */

static void
job_unlink(struct srv_dns *d, struct srv_dns_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		d->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	d->njobs--;
}

static void
resolved(void *arg, enum dnsup_status st, const uint8_t *ans, size_t len)
{
	struct srv_dns_job *j = arg;
	struct eng_server *s = j->srv;
	struct srv_dns *d = s->dns;
	struct srv_session *ss = &s->sess[j->sid];
	uint64_t now = srv_now(s);
	long sl;

	job_unlink(d, j);
	if (ss->state != SESS_ACTIVE || ss->created != j->created) {
		free(j);
		return;
	}
	if (st == DNSUP_OK) {
		dnscache_put(d->cache, &j->q, ans, len, now);
		send_answer(
		    ss, j->seq, j->query, j->qlen, ans, len, j->t0, now);
	} else {
		if (st == DNSUP_TIMEOUT)
			d->st.servfail_timeout++;
		else
			d->st.servfail_failed++;
		sl = servfail(j->query, j->qlen, d->ans, DNSTUN_MSG_MAX);
		if (sl > 0)
			send_answer(ss, j->seq, j->query, j->qlen, d->ans,
			    (size_t)sl, j->t0, now);
	}
	free(j);
}

/*
 * A complete query of session ss. Returns 0 when it was taken (answered
 * or being resolved), -1 when the resolver tables are full: the caller
 * leaves the completing fragment unacknowledged and forgets the query, so
 * the client's resend brings it back.
 */
static int
query(struct srv_session *ss, uint16_t seq, const uint8_t *q, size_t qlen,
    uint64_t now)
{
	struct srv_dns *d = ss->srv->dns;
	struct dnstun_req req;
	struct srv_dns_job *j;
	enum dnstun_action act;
	enum dnstun_why why;
	enum dnsup_refuse refuse;
	size_t alen = 0;
	long sl;

	d->st.queries++;
	act = dnstun_server_check(
	    q, qlen, &req, d->ans, DNSTUN_MSG_MAX, &alen, &why);
	if (act == DNSTUN_DROP) {
		if (why == DNSTUN_WHY_SHORT)
			d->st.drop_short++;
		else
			d->st.drop_not_request++;
		return 0;
	}
	if (act == DNSTUN_REPLY) {
		if (why == DNSTUN_WHY_UNSUPPORTED)
			d->st.notimp++;
		else
			d->st.formerr++;
		send_answer(ss, seq, q, qlen, d->ans, alen, now, now);
		return 0;
	}
	if (dnscache_get(d->cache, &req.q, q, qlen, now, d->ans, DNSTUN_MSG_MAX,
		&alen) == DNSCACHE_HIT) {
		d->st.cache_hits++;
		send_answer(ss, seq, q, qlen, d->ans, alen, now, now);
		return 0;
	}
	if (d->up == NULL) {
		d->st.servfail_local++;
		sl = servfail(q, qlen, d->ans, DNSTUN_MSG_MAX);
		if (sl > 0)
			send_answer(
			    ss, seq, q, qlen, d->ans, (size_t)sl, now, now);
		return 0;
	}
	j = xcalloc(1, sizeof *j + qlen);
	j->srv = ss->srv;
	j->sid = ss->id;
	j->created = ss->created;
	j->seq = seq;
	j->t0 = now;
	j->q = req.q;
	j->qlen = qlen;
	memcpy(j->query, q, qlen);
	j->r = dnsup_query(d->up, q, qlen, ss->id, resolved, j, &refuse);
	if (j->r == NULL) {
		free(j);
		d->st.refused_busy++;
		return -1;
	}
	d->st.resolved++;
	j->next = d->jobs;
	if (d->jobs != NULL)
		d->jobs->prev = j;
	d->jobs = j;
	d->njobs++;
	return 0;
}

/* ---- frames ---- */

void
srv_dns_frame(struct srv_session *ss, const struct wire_frame *f,
    const uint8_t *payload, size_t plen, uint64_t now)
{
	struct srv_dns *d = ss->srv->dns;
	enum dnstun_ra ra;
	size_t len = 0;

	if (f->type == WIRE_DNS_QUERY_RES_ACK) {
		if (ss->dns_arq != NULL &&
		    arq_ctl_ack(ss->dns_arq, WIRE_DNS_QUERY_RES, f->seq,
			f->frag_id, 0, now))
			d->st.res_acked++;
		else
			d->st.ack_unknown++;
		return;
	}
	if (f->type != WIRE_DNS_QUERY_REQ)
		return;
	d->st.req_fragments++;
	ra = dnstun_reasm_add(d->reasm, ss->id, f->seq, f->frag_id,
	    f->frag_total, payload, plen, now, d->buf, QUERY_MAX, &len);
	switch (ra) {
	case DNSTUN_RA_NOROOM:
		d->st.frag_noroom++;
		return; /* unacked: the client sends it again */
	case DNSTUN_RA_BAD:
		d->st.frag_bad++;
		d->st.too_big = dnstun_reasm_stats(d->reasm)->too_big;
		break;
	case DNSTUN_RA_DUP:
	case DNSTUN_RA_DONE:
		d->st.frag_dup++;
		break;
	case DNSTUN_RA_COMPLETE:
		if (query(ss, f->seq, d->buf, len, now) == -1) {
			dnstun_reasm_forget(d->reasm, ss->id, f->seq);
			return;
		}
		break;
	default:
		break;
	}
	queue_ack(ss, f);
}

void
srv_dns_session_close(struct srv_session *ss)
{
	struct srv_dns *d = ss->srv->dns;
	struct srv_dns_job *j, *next;

	if (d != NULL) {
		dnstun_reasm_drop_session(d->reasm, ss->id);
		for (j = d->jobs; j != NULL; j = next) {
			next = j->next;
			if (j->sid != ss->id)
				continue;
			dnsup_cancel(j->r);
			job_unlink(d, j);
			free(j);
		}
	}
	arq_free(ss->dns_arq);
	ss->dns_arq = NULL;
}

void
srv_dns_tick(struct eng_server *s, uint64_t now)
{
	struct srv_dns *d = s->dns;
	struct srv_session *ss;
	uint64_t before;
	unsigned i, k;
	uint8_t t;

	for (i = 1; i < 256; i++) {
		ss = &s->sess[i];
		if (ss->state != SESS_ACTIVE || ss->dns_arq == NULL)
			continue;
		before = arq_get_stats(ss->dns_arq)->ctl_retransmits;
		for (k = 0; k < 64 &&
		     arq_tick(ss->dns_arq, now, &t) == ARQ_TICK_CTL_EXPIRED;
		     k++)
			d->st.res_expired++;
		d->st.res_resent +=
		    arq_get_stats(ss->dns_arq)->ctl_retransmits - before;
	}
	if (now >= d->next_expire) {
		dnstun_reasm_expire(d->reasm, now);
		d->next_expire = now + 1000000;
	}
}

/* ---- lifecycle ---- */

int
srv_dns_new(struct eng_server *s, struct err *e)
{
	const struct cfg_server *c = &s->cfg;
	struct dnstun_reasm_cfg rc;
	struct dnscache_cfg cc;
	struct dnsup_cfg uc;
	struct srv_dns *d = xcalloc(1, sizeof *d);

	s->dns = d;
	dnstun_reasm_defaults(&rc, 1);
	if (c->dns_fragment_timeout_s > 0)
		rc.timeout_us = SEC(c->dns_fragment_timeout_s);
	rc.max_msg = QUERY_MAX;
	d->reasm = dnstun_reasm_new(&rc);
	dnscache_cfg_server(&cc);
	if (c->dns_cache_max_records > 0)
		cc.max_records = (size_t)c->dns_cache_max_records;
	if (c->dns_cache_ttl_s > 0)
		cc.ttl_us = SEC(c->dns_cache_ttl_s);
	d->cache = dnscache_new(&cc);
	d->buf = xmalloc(DNSTUN_MSG_MAX);
	d->ans = xmalloc(DNSTUN_MSG_MAX);
	dnsup_cfg_defaults(&uc);
	if (c->dns_upstream_timeout_s > 0)
		uc.timeout_us = SEC(c->dns_upstream_timeout_s);
	if (dnsup_cfg_add_servers(&uc, (const char *const *)c->dns_upstream,
		c->ndns_upstream, e) == -1)
		return -1;
	if (s->loop == NULL || uc.nservers == 0)
		return 0;
	if ((d->up = dnsup_new(s->loop, &uc, e)) == NULL)
		return -1;
	return 0;
}

void
srv_dns_free(struct eng_server *s)
{
	struct srv_dns *d = s->dns;
	struct srv_dns_job *j, *next;

	if (d == NULL)
		return;
	for (j = d->jobs; j != NULL; j = next) {
		next = j->next;
		free(j);
	}
	dnsup_free(d->up);
	dnscache_free(d->cache);
	dnstun_reasm_free(d->reasm);
	free(d->buf);
	free(d->ans);
	free(d);
	s->dns = NULL;
}

/* ---- status and metrics ---- */

#define KV(n, v)                                                               \
	{                                                                      \
		(n), (v)                                                       \
	}

static size_t
failures(const struct eng_server_dns_stats *s, struct dnsrep_kv *kv)
{
	const struct dnsrep_kv v[] = {KV("short", s->drop_short),
	    KV("not_request", s->drop_not_request), KV("formerr", s->formerr),
	    KV("notimp", s->notimp), KV("timeout", s->servfail_timeout),
	    KV("upstream_failed", s->servfail_failed),
	    KV("local", s->servfail_local), KV("busy", s->refused_busy),
	    KV("frag_bad", s->frag_bad), KV("frag_dup", s->frag_dup),
	    KV("frag_noroom", s->frag_noroom), KV("too_big", s->too_big),
	    KV("res_expired", s->res_expired),
	    KV("ack_unknown", s->ack_unknown)};

	memcpy(kv, v, sizeof v);
	return nitems(v);
}

static size_t
fragments(const struct eng_server_dns_stats *s, struct dnsrep_kv *kv)
{
	const struct dnsrep_kv v[] = {KV("req_received", s->req_fragments),
	    KV("req_acked", s->acks_sent), KV("res_sent", s->res_fragments),
	    KV("res_acked", s->res_acked), KV("res_resent", s->res_resent)};

	memcpy(kv, v, sizeof v);
	return nitems(v);
}

json_t *
srv_dns_status_json(const struct eng_server *s)
{
	const struct srv_dns *d = s->dns;
	const struct eng_server_dns_stats *st = &d->st;
	struct dnsrep_kv kv[16];
	json_t *o = json_object(), *ups = json_array();
	size_t n, i;

	for (i = 0; i < s->cfg.ndns_upstream; i++)
		json_array_append_new(ups, json_string(s->cfg.dns_upstream[i]));
	json_object_set_new(o, "upstreams", ups);
	json_object_set_new(
	    o, "queries", json_integer((json_int_t)st->queries));
	json_object_set_new(o, "cache",
	    json_pack("{s:I,s:I}", "entries",
		(json_int_t)dnscache_count(d->cache), "hits",
		(json_int_t)st->cache_hits));
	json_object_set_new(
	    o, "resolved", json_integer((json_int_t)st->resolved));
	json_object_set_new(
	    o, "answers", json_integer((json_int_t)st->answers));
	json_object_set_new(o, "in_flight", json_integer((json_int_t)d->njobs));
	json_object_set_new(o, "reassembly",
	    json_pack("{s:I,s:I}", "partial",
		(json_int_t)dnstun_reasm_partial(d->reasm, -1), "bytes",
		(json_int_t)dnstun_reasm_bytes(d->reasm, -1)));
	n = fragments(st, kv);
	json_object_set_new(o, "fragments", dnsrep_kv_json(kv, n));
	n = failures(st, kv);
	json_object_set_new(o, "failures", dnsrep_kv_json(kv, n));
	json_object_set_new(o, "latency", dnsrep_lat_json(&d->lat));
	return o;
}

void
srv_dns_metrics(const struct eng_server *s, FILE *f)
{
	const struct eng_server_dns_stats *st = &s->dns->st;
	struct dnsrep_kv kv[16];
	size_t n;

	fprintf(f,
	    "# HELP mdns_server_dns_queries_total DNS queries reassembled.\n"
	    "# TYPE mdns_server_dns_queries_total counter\n"
	    "mdns_server_dns_queries_total %llu\n"
	    "# HELP mdns_server_dns_cache_hits_total Answered from the "
	    "server cache.\n"
	    "# TYPE mdns_server_dns_cache_hits_total counter\n"
	    "mdns_server_dns_cache_hits_total %llu\n"
	    "# HELP mdns_server_dns_upstream_queries_total Sent to "
	    "DNS_UPSTREAM_SERVERS.\n"
	    "# TYPE mdns_server_dns_upstream_queries_total counter\n"
	    "mdns_server_dns_upstream_queries_total %llu\n",
	    (unsigned long long)st->queries, (unsigned long long)st->cache_hits,
	    (unsigned long long)st->resolved);
	n = fragments(st, kv);
	dnsrep_kv_prom(f, "mdns_server_dns_fragments_total",
	    "DNS_QUERY fragments by kind.", "kind", kv, n);
	n = failures(st, kv);
	dnsrep_kv_prom(f, "mdns_server_dns_failures_total",
	    "DNS queries dropped or failed by reason.", "reason", kv, n);
	dnsrep_lat_prom(f, "mdns_server_dns_latency_seconds",
	    "Query complete to answer queued.", &s->dns->lat);
}
