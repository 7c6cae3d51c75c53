/* SPDX-License-Identifier: MIT */
/*
 * client-dns.c — the client's half of DNS through the tunnel
 * (docs/dns-tunnel.md, wire-protocol.md 1.14). Queries come from the
 * local DNS listener (LOCAL_DNS_ENABLED; UDP only, as upstream: it has no
 * TCP listener), from SOCKS5 UDP ASSOCIATE (client-udp.c) and from the
 * DNS sink (eng_client_dns_query, for the tun device). Each is read as
 * upstream's client reads it (dnstun_local_check: anything unreadable is
 * dropped without an answer, every readable request is carried whatever
 * its type), looked up in the cache with upstream's semantics
 * (engine/dns-cache.c, persisted in upstream's file format), and on a
 * miss cut at the upload MTU into DNS_QUERY_REQ fragments: tracked
 * control frames of stream 0's ARQ, resent until the server's REQ_ACK.
 * Every DNS_QUERY_RES fragment is acknowledged at once, copies too; a
 * reassembled answer is stored and handed to every application waiting
 * for it, rewritten for its query (id, RD, CD).
 *
 * Where we differ (the lead's decisions, docs/dns-tunnel.md 7): waiting
 * applications are answered when the answer arrives (upstream answers
 * only their retry, from the cache), and get SERVFAIL built from their
 * query after MDNS_LOCAL_DNS_ANSWER_TIMEOUT_SECONDS (the query is then
 * forgotten, so the next one goes out again); SERVFAIL from the tunnel is
 * passed on but not cached; RES fragments for no query of ours are acked
 * and dropped, and a reassembled answer that does not answer the question
 * carried (id, QR, question: dnstun_answer_check) is dropped, so the
 * application never gets a wrong answer. Query names are never logged.
 *
 * Bounds: 256 queries in flight, 1024 waiting applications (64 on one
 * query), queries of at most 4096 bytes, reassembly 256 answers / 4 MiB.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/client-dns.h"
#include "engine/client-query.h"

#define SEC(x)		    ((uint64_t)((x)*1000000.0))
#define ECL_DNS_MAX_PEND    256
#define ECL_DNS_MAX_WAITERS 1024
#define ECL_DNS_MAX_WAIT1   64
#define ECL_DNS_QUERY_MAX   4096  /* also the listener's read (upstream) */
#define ECL_DNS_POLL_CREDIT 64	  /* polls after PONG per query sent */
#define ECL_DNS_POLL_MIN_US 1000  /* then a poll timer from 1 ms ... */
#define ECL_DNS_POLL_MAX_US 50000 /* ... doubling up to 50 ms */

const struct eng_client_dns_stats *
eng_client_dns_stats(const struct eng_client *c)
{
	return &c->dns.st;
}

uint64_t
eng_client_dns_latency_us(const struct eng_client *c, double p)
{
	return dnsrep_lat_pct(&c->dns.lat, p);
}

int
eng_client_dns_addr(const struct eng_client *c, union net_addr *out)
{
	struct err e;

	if (c->dns.fd == -1)
		return -1;
	return net_local_addr(c->dns.fd, out, &e);
}

/* ---- waiters ---- */

static int
same_q(const struct dnstun_question *a, const struct dnstun_question *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass &&
	    a->name_len == b->name_len &&
	    memcmp(a->name, b->name, a->name_len) == 0;
}

/* Hand ans to w (rewritten for its query) and free w. */
static void
deliver(struct eng_client *c, struct ecl_dns_waiter *w, const uint8_t *ans,
    size_t len)
{
	uint8_t *copy = xmalloc(len ? len : 1);

	memcpy(copy, ans, len);
	dnstun_patch_answer(copy, len, w->data, w->qlen);
	c->dns.st.delivered++;
	w->cb(w->arg, w->data + w->qlen, w->ctxlen, copy, len);
	free(copy);
	free(w);
}

/* SERVFAIL built from w's query, then free w. */
static void
deliver_servfail(struct eng_client *c, struct ecl_dns_waiter *w)
{
	struct dnstun_req r;
	uint8_t out[ECL_DNS_QUERY_MAX + 64];
	long n = -1;

	if (dnstun_req_parse(w->data, w->qlen, &r) == DNSTUN_REQ_OK)
		n = dnstun_answer_rcode(w->data, w->qlen, &r,
		    DNSTUN_RCODE_SERVFAIL, out, sizeof out);
	if (n <= 0) {
		free(w);
		return;
	}
	deliver(c, w, out, (size_t)n);
}

/* Deliver a detached list (callbacks may submit again: nothing of the
 * tables is held while they run). */
static void
deliver_all(struct eng_client *c, struct ecl_dns_waiter *w, const uint8_t *ans,
    size_t len)
{
	struct ecl_dns_waiter *next;

	for (; w != NULL; w = next) {
		next = w->next;
		if (ans != NULL)
			deliver(c, w, ans, len);
		else
			deliver_servfail(c, w);
	}
}

/* ---- queries in flight ---- */

static struct ecl_dns_pend *
pend_by_seq(struct ecl_dns *d, uint16_t seq)
{
	size_t i;

	for (i = 0; i < d->npend; i++)
		if (d->pend[i].seq == seq)
			return &d->pend[i];
	return NULL;
}

static struct ecl_dns_pend *
pend_by_q(struct ecl_dns *d, const struct dnstun_question *q)
{
	size_t i;

	for (i = 0; i < d->npend; i++)
		if (same_q(&d->pend[i].q, q))
			return &d->pend[i];
	return NULL;
}

/* Remove p (its REQ fragments no longer resent); returns its waiters. */
static struct ecl_dns_waiter *
pend_remove(struct eng_client *c, struct ecl_dns_pend *p, uint64_t now)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_waiter *w = p->w;
	unsigned i;

	if (c->arq0 != NULL)
		for (i = 0; i < p->nfrags; i++)
			arq_ctl_ack(c->arq0, WIRE_DNS_QUERY_REQ, p->seq,
			    (uint8_t)i, 0, now);
	d->nwaiters -= p->nw;
	*p = d->pend[--d->npend];
	return w;
}

static int
add_waiter(struct eng_client *c, struct ecl_dns_pend *p, const uint8_t *q,
    size_t n, const void *ctx, size_t ctxlen, eng_client_dns_cb *cb, void *arg,
    uint64_t now)
{
	struct ecl_dns_waiter *w;

	if (p->nw >= ECL_DNS_MAX_WAIT1 ||
	    c->dns.nwaiters >= ECL_DNS_MAX_WAITERS) {
		c->dns.st.drop_full++;
		return -1;
	}
	w = xmalloc(sizeof *w + n + ctxlen);
	w->cb = cb;
	w->arg = arg;
	w->deadline = now + SEC(c->cfg.local_dns_answer_timeout_s);
	w->qlen = (uint16_t)n;
	w->ctxlen = (uint16_t)ctxlen;
	memcpy(w->data, q, n);
	if (ctxlen > 0)
		memcpy(w->data + n, ctx, ctxlen);
	w->next = p->w;
	p->w = w;
	p->nw++;
	c->dns.nwaiters++;
	return 0;
}

static void
emit0(void *arg, enum arq_out kind, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct eng_client *c = arg;

	(void)kind;
	txq_push(&c->q0, txq_priority(type), type, 0, seq, frag, total, comp,
	    data, len);
}

/* A new query in flight: DNS_QUERY_REQ fragments at the upload MTU. */
static struct ecl_dns_pend *
dispatch(struct eng_client *c, const struct dnstun_question *qq,
    const uint8_t *q, size_t n, uint64_t now)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_pend *p;
	struct wire_frame f;
	unsigned nf, i;

	nf = dnstun_frag_count(n, c->sess_up_mtu);
	if (nf == 0) {
		d->st.drop_too_big++;
		return NULL;
	}
	if (d->npend >= ECL_DNS_MAX_PEND) {
		d->st.drop_full++;
		return NULL;
	}
	while (pend_by_seq(d, d->next_seq) != NULL)
		d->next_seq++;
	p = &d->pend[d->npend++];
	memset(p, 0, sizeof *p);
	p->seq = d->next_seq++;
	p->id = be16_load(q);
	p->nfrags = (uint8_t)nf;
	p->sent_at = now;
	p->q = *qq;
	for (i = 0; i < nf; i++) {
		if (dnstun_frag_frame(q, n, c->sess_up_mtu, i,
			WIRE_DNS_QUERY_REQ, p->seq, &f))
			break;
		arq_ctl_send(c->arq0, now, WIRE_DNS_QUERY_REQ, p->seq,
		    f.frag_id, f.frag_total, f.payload, f.payload_len, 0);
		d->st.req_fragments++;
	}
	d->st.sent++;
	d->poll_credit = ECL_DNS_POLL_CREDIT;
	d->poll_delay = ECL_DNS_POLL_MIN_US;
	return p;
}

int
ecl_dns_submit(struct eng_client *c, const uint8_t *q, size_t n,
    const void *ctx, size_t ctxlen, eng_client_dns_cb *cb, void *arg)
{
	struct ecl_dns *d = &c->dns;
	uint64_t now = ev_now_us(c->loop);
	struct ecl_dns_pend *p;
	struct dnstun_req req;
	enum dnstun_why why;
	size_t alen = 0;
	uint8_t *copy;

	if (c->st.phase != ENG_CLI_CONNECTED || c->arq0 == NULL) {
		d->st.drop_not_ready++;
		return -1;
	}
	if (n > ECL_DNS_QUERY_MAX || ctxlen > ENG_CLIENT_DNS_CTX_MAX) {
		d->st.drop_too_big++;
		return -1;
	}
	if (dnstun_local_check(q, n, 0, &req, d->ans, DNSTUN_MSG_MAX, &alen,
		&why) != DNSTUN_RESOLVE) {
		if (why == DNSTUN_WHY_SHORT)
			d->st.drop_short++;
		else if (why == DNSTUN_WHY_NOT_REQUEST)
			d->st.drop_not_request++;
		else
			d->st.drop_bad_question++;
		return -1;
	}
	if (dnscache_lookup(d->cache, &req.q, q, n, now, d->ans, DNSTUN_MSG_MAX,
		&alen) == DNSCACHE_HIT) {
		d->st.cache_hits++;
		d->st.delivered++;
		copy = xmalloc(alen);
		memcpy(copy, d->ans, alen);
		cb(arg, ctx, ctxlen, copy, alen);
		free(copy);
		return 0;
	}
	if ((p = pend_by_q(d, &req.q)) != NULL) {
		if (add_waiter(c, p, q, n, ctx, ctxlen, cb, arg, now) == -1)
			return -1;
		d->st.joined++;
		return 0;
	}
	if (d->nwaiters >= ECL_DNS_MAX_WAITERS ||
	    (p = dispatch(c, &req.q, q, n, now)) == NULL) {
		if (d->nwaiters >= ECL_DNS_MAX_WAITERS)
			d->st.drop_full++;
		dnscache_forget(d->cache, &req.q);
		return -1;
	}
	(void)add_waiter(c, p, q, n, ctx, ctxlen, cb, arg, now);
	ecl_pump(c, now);
	return 0;
}

int
eng_client_dns_query(struct eng_client *c, const uint8_t *query, size_t len,
    const void *ctx, size_t ctxlen, eng_client_dns_cb *cb, void *arg)
{
	c->dns.st.from_sink++;
	return ecl_dns_submit(c, query, len, ctx, ctxlen, cb, arg);
}

void
eng_client_dns_cancel(struct eng_client *c, void *arg)
{
	struct ecl_dns_waiter **pw, *w;
	size_t i;

	for (i = 0; i < c->dns.npend; i++)
		for (pw = &c->dns.pend[i].w; (w = *pw) != NULL;) {
			if (w->arg != arg) {
				pw = &w->next;
				continue;
			}
			*pw = w->next;
			c->dns.pend[i].nw--;
			c->dns.nwaiters--;
			free(w);
		}
}

static void
on_poll_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;

	(void)id;
	c->dns.poll_timer = 0;
	if (c->dns.npend == 0 || c->st.phase != ENG_CLI_CONNECTED)
		return;
	c->want_polls++;
	ecl_pump(c, ev_now_us(loop));
}

int
ecl_dns_want_poll(struct eng_client *c)
{
	struct ecl_dns *d = &c->dns;

	if (d->npend == 0)
		return 0;
	if (d->poll_credit > 0) {
		d->poll_credit--;
		return 1;
	}
	/* Credit spent (a slow resolver): poll on a timer, backing off. */
	if (d->poll_timer == 0) {
		d->poll_timer =
		    ev_timer_add(c->loop, d->poll_delay, on_poll_timer, c);
		d->poll_delay = MIN(d->poll_delay * 2, ECL_DNS_POLL_MAX_US);
	}
	return 0;
}

/* ---- answers ---- */

static void
answer(struct eng_client *c, struct ecl_dns_pend *p, const uint8_t *ans,
    size_t len, uint64_t now)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_waiter *w;
	struct dnstun_req r;
	int cached = 0;

	/* Never a wrong answer: it must answer the question we carried. */
	if (dnstun_answer_check(ans, len, p->id, &p->q) != DNSTUN_ANS_OK) {
		d->st.bad_answer++;
		return;
	}
	d->st.answers++;
	dnsrep_lat_add(&d->lat, now - p->sent_at);
	if (len >= 12 && (ans[3] & 0x0f) != DNSTUN_RCODE_SERVFAIL &&
	    dnstun_msg_parse(ans, len, &r) == DNSTUN_REQ_OK) {
		dnscache_put(d->cache, &r.q, ans, len, now);
		cached = same_q(&r.q, &p->q);
	}
	if (!cached)
		dnscache_forget(d->cache, &p->q);
	w = pend_remove(c, p, now);
	deliver_all(c, w, ans, len);
}

void
ecl_dns_frame(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_pend *p;
	struct wire_frame a;
	size_t len = 0;

	if (f->stream_id != 0)
		return;
	if (f->type == WIRE_DNS_QUERY_REQ_ACK) {
		if (c->arq0 != NULL &&
		    arq_ctl_ack(c->arq0, WIRE_DNS_QUERY_REQ, f->seq, f->frag_id,
			0, now))
			d->st.req_acked++;
		return;
	}
	if (f->type != WIRE_DNS_QUERY_RES)
		return;
	d->st.res_fragments++;
	if (dnstun_ack_frame(f, &a) == 0)
		txq_push(&c->q0, txq_priority(a.type), a.type, 0, a.seq,
		    a.frag_id, a.frag_total, 0, NULL, 0);
	if ((p = pend_by_seq(d, f->seq)) == NULL) {
		d->st.unsolicited++;
		return;
	}
	switch (dnstun_reasm_add(d->reasm, 0, f->seq, f->frag_id, f->frag_total,
	    f->payload, f->payload_len, now, d->buf, DNSTUN_MSG_MAX, &len)) {
	case DNSTUN_RA_COMPLETE:
		answer(c, p, d->buf, len, now);
		break;
	case DNSTUN_RA_BAD:
		d->st.frag_bad++;
		break;
	case DNSTUN_RA_DUP:
	case DNSTUN_RA_DONE:
		d->st.frag_dup++;
		break;
	case DNSTUN_RA_NOROOM:
		d->st.frag_noroom++;
		break;
	default:
		break;
	}
}

/* ---- the listener ---- */

static void
listener_reply(
    void *arg, const void *ctx, size_t ctxlen, const uint8_t *ans, size_t len)
{
	struct eng_client *c = arg;

	(void)sendto(c->dns.fd, ans, len, 0, (const struct sockaddr *)ctx,
	    (socklen_t)ctxlen);
}

static void
on_listener(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_client *c = arg;
	uint8_t q[ECL_DNS_QUERY_MAX];
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	int budget = 256;

	(void)loop;
	(void)events;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, q, sizeof q, 0, &from.sa, &fl);
		if (n < 0)
			break;
		c->dns.st.from_listener++;
		(void)ecl_dns_submit(
		    c, q, (size_t)n, &from, (size_t)fl, listener_reply, c);
	}
}

int
ecl_dns_listen(struct eng_client *c, struct err *e)
{
	union net_addr a;
	char *hp;
	const char *ip = c->cfg.local_dns_ip;

	if (!c->cfg.local_dns_enabled)
		return 0;
	if (ip == NULL)
		ip = "127.0.0.1";
	hp = strchr(ip, ':') != NULL && ip[0] != '[' ? xasprintf("[%s]", ip) :
						       xstrdup(ip);
	if (net_addr_parse(hp, (uint16_t)c->cfg.local_dns_port, &a, e) == -1) {
		free(hp);
		return -1;
	}
	free(hp);
	if ((c->dns.fd = net_udp_bind(&a, e)) == -1)
		return -1;
	if (ev_io_add(c->loop, c->dns.fd, EV_READ, on_listener, c, e) == -1) {
		close(c->dns.fd);
		c->dns.fd = -1;
		return -1;
	}
	return 0;
}

/* ---- session, time, lifecycle ---- */

void
ecl_dns_session_up(struct eng_client *c, uint64_t now)
{
	(void)now;
	arq_free(c->arq0);
	c->arq0 = arq_new(&c->arqc, emit0, c);
	dnscache_clear_pending(c->dns.cache);
}

void
ecl_dns_session_lost(struct eng_client *c)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_waiter *all = NULL, *w, *next;
	uint64_t now = ev_now_us(c->loop);

	while (d->npend > 0)
		for (w = pend_remove(c, &d->pend[0], now); w != NULL;
		     w = next) {
			next = w->next;
			w->next = all;
			all = w;
			d->st.servfail_session++;
		}
	dnscache_clear_pending(d->cache);
	dnstun_reasm_drop_session(d->reasm, 0);
	arq_free(c->arq0);
	c->arq0 = NULL;
	deliver_all(c, all, NULL, 0);
}

static void
flush_cache(struct eng_client *c, uint64_t now)
{
	struct err e = {""};
	size_t n = 0;

	if (c->dns.cache_path == NULL)
		return;
	if (dnscache_save(c->dns.cache, c->dns.cache_path, now,
		now_wall_ms() / 1000, &n, &e) == -1)
		log_warn("local DNS cache not saved: %s", e.msg);
	c->dns.st.cache_saved += n;
}

void
ecl_dns_tick(struct eng_client *c, uint64_t now)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_waiter *late = NULL, **pw, *w;
	uint64_t before;
	size_t i;
	unsigned k;
	uint8_t t;

	for (i = d->npend; i > 0; i--) {
		struct ecl_dns_pend *p = &d->pend[i - 1];

		for (pw = &p->w; (w = *pw) != NULL;) {
			if (now < w->deadline) {
				pw = &w->next;
				continue;
			}
			*pw = w->next;
			p->nw--;
			d->nwaiters--;
			w->next = late;
			late = w;
			d->st.servfail_timeout++;
		}
		if (p->nw == 0) {
			dnscache_forget(d->cache, &p->q);
			(void)pend_remove(c, p, now);
		}
	}
	if (c->arq0 != NULL) {
		before = arq_get_stats(c->arq0)->ctl_retransmits;
		for (k = 0; k < 64 &&
		     arq_tick(c->arq0, now, &t) == ARQ_TICK_CTL_EXPIRED;
		     k++)
			;
		d->st.req_resent +=
		    arq_get_stats(c->arq0)->ctl_retransmits - before;
	}
	if (now >= d->next_expire) {
		dnstun_reasm_expire(d->reasm, now);
		d->next_expire = now + 10 * 1000000ULL;
	}
	if (now >= d->next_flush) {
		if (d->next_flush != 0)
			flush_cache(c, now);
		d->next_flush = now +
		    SEC(c->cfg.local_dns_cache_flush_s > 0 ?
			    c->cfg.local_dns_cache_flush_s :
			    60);
	}
	deliver_all(c, late, NULL, 0);
}

void
ecl_dns_init(struct eng_client *c)
{
	struct ecl_dns *d = &c->dns;
	struct dnstun_reasm_cfg rc;
	struct dnscache_cfg cc;
	struct err e = {""};
	size_t n = 0;

	d->fd = -1;
	dnscache_cfg_client(&cc);
	if (c->cfg.local_dns_cache_max_records > 0)
		cc.max_records = (size_t)c->cfg.local_dns_cache_max_records;
	if (c->cfg.local_dns_cache_ttl_s > 0)
		cc.ttl_us = SEC(c->cfg.local_dns_cache_ttl_s);
	if (c->cfg.local_dns_pending_timeout_s > 0)
		cc.pending_timeout_us = SEC(c->cfg.local_dns_pending_timeout_s);
	d->cache = dnscache_new(&cc);
	dnstun_reasm_defaults(&rc, 0);
	if (c->cfg.dns_fragment_timeout_s > 0)
		rc.timeout_us = SEC(c->cfg.dns_fragment_timeout_s);
	d->reasm = dnstun_reasm_new(&rc);
	d->pend = xcalloc(ECL_DNS_MAX_PEND, sizeof *d->pend);
	d->buf = xmalloc(DNSTUN_MSG_MAX);
	d->ans = xmalloc(DNSTUN_MSG_MAX);
	ecl_rand_bytes((uint8_t *)&d->next_seq, sizeof d->next_seq);
	if (!c->cfg.local_dns_enabled || !c->cfg.local_dns_cache_persist)
		return;
	if ((d->cache_path = dnscache_default_path(&e)) == NULL) {
		log_warn("local DNS cache not persisted: %s", e.msg);
		return;
	}
	if (dnscache_load(d->cache, d->cache_path, ev_now_us(c->loop),
		now_wall_ms() / 1000, &n, &e) == -1)
		log_warn("local DNS cache file ignored: %s", e.msg);
	d->st.cache_loaded = n;
}

void
ecl_dns_free(struct eng_client *c)
{
	struct ecl_dns *d = &c->dns;
	struct ecl_dns_waiter *w, *next;
	size_t i;

	if (d->cache == NULL)
		return;
	flush_cache(c, ev_now_us(c->loop));
	for (i = 0; i < d->npend; i++)
		for (w = d->pend[i].w; w != NULL; w = next) {
			next = w->next;
			free(w);
		}
	if (d->fd != -1) {
		ev_io_del(c->loop, d->fd);
		close(d->fd);
	}
	if (d->poll_timer != 0)
		ev_timer_cancel(c->loop, d->poll_timer);
	arq_free(c->arq0);
	c->arq0 = NULL;
	dnscache_free(d->cache);
	dnstun_reasm_free(d->reasm);
	free(d->pend);
	free(d->buf);
	free(d->ans);
	free(d->cache_path);
	memset(d, 0, sizeof *d);
	d->fd = -1;
}

/* ---- status and metrics ---- */

#define KV(n, v)                                                               \
	{                                                                      \
		(n), (v)                                                       \
	}

static size_t
failures(const struct eng_client_dns_stats *s, struct dnsrep_kv *kv)
{
	const struct dnsrep_kv v[] = {KV("not_ready", s->drop_not_ready),
	    KV("short", s->drop_short), KV("not_request", s->drop_not_request),
	    KV("bad_question", s->drop_bad_question),
	    KV("too_big", s->drop_too_big), KV("full", s->drop_full),
	    KV("timeout", s->servfail_timeout),
	    KV("session_lost", s->servfail_session),
	    KV("unsolicited", s->unsolicited), KV("bad_answer", s->bad_answer),
	    KV("frag_bad", s->frag_bad), KV("frag_dup", s->frag_dup),
	    KV("frag_noroom", s->frag_noroom),
	    KV("socks_dropped", s->socks_drop),
	    KV("socks_foreign", s->socks_foreign)};

	memcpy(kv, v, sizeof v);
	return nitems(v);
}

static size_t
fragments(const struct eng_client_dns_stats *s, struct dnsrep_kv *kv)
{
	const struct dnsrep_kv v[] = {KV("req_sent", s->req_fragments),
	    KV("req_acked", s->req_acked), KV("req_resent", s->req_resent),
	    KV("res_received", s->res_fragments)};

	memcpy(kv, v, sizeof v);
	return nitems(v);
}

static size_t
sources(const struct eng_client_dns_stats *s, struct dnsrep_kv *kv)
{
	const struct dnsrep_kv v[] = {KV("listener", s->from_listener),
	    KV("socks", s->from_socks), KV("sink", s->from_sink)};

	memcpy(kv, v, sizeof v);
	return nitems(v);
}

json_t *
ecl_dns_status_json(const struct eng_client *c)
{
	const struct ecl_dns *d = &c->dns;
	const struct eng_client_dns_stats *s = &d->st;
	struct dnsrep_kv kv[16];
	union net_addr a;
	char buf[NET_ADDR_STRLEN];
	json_t *o = json_object();
	size_t n;

	if (eng_client_dns_addr(c, &a) == 0) {
		net_addr_format(&a, buf, sizeof buf);
		json_object_set_new(o, "listener", json_string(buf));
	} else
		json_object_set_new(o, "listener", json_null());
	n = sources(s, kv);
	json_object_set_new(o, "queries", dnsrep_kv_json(kv, n));
	json_object_set_new(o, "cache",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "entries",
		(json_int_t)dnscache_count(d->cache), "pending",
		(json_int_t)dnscache_pending(d->cache), "hits",
		(json_int_t)s->cache_hits, "loaded",
		(json_int_t)s->cache_loaded, "saved",
		(json_int_t)s->cache_saved, "file",
		d->cache_path != NULL ? json_string(d->cache_path) :
					json_null()));
	json_object_set_new(o, "sent", json_integer((json_int_t)s->sent));
	json_object_set_new(o, "joined", json_integer((json_int_t)s->joined));
	json_object_set_new(o, "answers", json_integer((json_int_t)s->answers));
	json_object_set_new(
	    o, "delivered", json_integer((json_int_t)s->delivered));
	json_object_set_new(o, "in_flight", json_integer((json_int_t)d->npend));
	json_object_set_new(
	    o, "waiting", json_integer((json_int_t)d->nwaiters));
	json_object_set_new(
	    o, "socks_associations", json_integer((json_int_t)s->socks_assocs));
	n = fragments(s, kv);
	json_object_set_new(o, "fragments", dnsrep_kv_json(kv, n));
	n = failures(s, kv);
	json_object_set_new(o, "failures", dnsrep_kv_json(kv, n));
	json_object_set_new(o, "latency", dnsrep_lat_json(&d->lat));
	return o;
}

void
ecl_dns_metrics(const struct eng_client *c, FILE *f)
{
	const struct eng_client_dns_stats *s = &c->dns.st;
	struct dnsrep_kv kv[16];
	size_t n;

	n = sources(s, kv);
	dnsrep_kv_prom(f, "mdns_client_dns_queries_total",
	    "DNS queries from applications by source.", "source", kv, n);
	fprintf(f,
	    "# HELP mdns_client_dns_cache_hits_total Answered from the local "
	    "cache.\n# TYPE mdns_client_dns_cache_hits_total counter\n"
	    "mdns_client_dns_cache_hits_total %llu\n",
	    (unsigned long long)s->cache_hits);
	fprintf(f,
	    "# HELP mdns_client_dns_tunnel_queries_total Queries sent "
	    "through the tunnel.\n"
	    "# TYPE mdns_client_dns_tunnel_queries_total counter\n"
	    "mdns_client_dns_tunnel_queries_total %llu\n",
	    (unsigned long long)s->sent);
	n = fragments(s, kv);
	dnsrep_kv_prom(f, "mdns_client_dns_fragments_total",
	    "DNS_QUERY fragments by kind.", "kind", kv, n);
	n = failures(s, kv);
	dnsrep_kv_prom(f, "mdns_client_dns_failures_total",
	    "DNS queries dropped or failed by reason.", "reason", kv, n);
	dnsrep_lat_prom(f, "mdns_client_dns_latency_seconds",
	    "Tunnel answer time (query sent to answer complete).", &c->dns.lat);
}
