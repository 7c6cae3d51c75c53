/* SPDX-License-Identifier: MIT */
/*
 * client-tun.c — full-VPN mode in the tunnel client (`connect --tun`,
 * docs/tun.md): the bridge between engine/tun.h and the client. TCP flows
 * lwIP accepted become streams directly (ecl_adopt_local: no SOCKS hop);
 * UDP queries to the mapped DNS address go into the client's DNS path
 * (eng_client_dns_query), and so do TCP connections to it port 53
 * (two-byte length prefix, RFC 7766: what an application does after a
 * truncated answer); every resolver of the pool gets a host route via the
 * original gateway before the half-default routes go in, and loses it
 * when the pool rejects its last connection.
 *
 * A flow reaches the stream core through a small handle (struct
 * ecl_flow): when the TUN closes before the streams are freed (stop,
 * then eng_client_free), the handles are cut from their flows first, so
 * no stream touches a flow lwIP freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine/client-stream.h"
#include "engine/client-tun.h"
#include "engine/pool.h"
#include "engine/tun.h"

/* A flow to the mapped DNS address, port 53: DNS over TCP. */
#define DNS_TCP_BUF (2 + 4096)

struct ecl_flow {
	struct ecl_flow *prev, *next; /* the bridge's list (while it runs) */
	struct ecl_tun *t;	      /* NULL once the bridge stopped */
	struct tun_flow *f;	      /* NULL once cut from the TUN */
	struct ecl_stream *st;	      /* the stream (not for DNS) */
	/* DNS over TCP: the query being read, answers waiting to be sent */
	int dns;
	uint8_t in[DNS_TCP_BUF];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff;
	unsigned inflight; /* queries waiting for the DNS path */
	int eof;
};

/* A resolver of the pool: its address and connections not rejected. */
struct ecl_tun_res {
	union net_addr a;
	unsigned live;
	int routed;
};

struct ecl_tun {
	struct eng_client *c;
	struct tun_vpn v;
	struct ecl_flow *flows;
	struct ecl_tun_res *res; /* by the pool's resolver index */
	size_t nres;
	uint64_t flows_stopping; /* refused: the client is stopping */
	uint64_t dns_tcp_flows, dns_tcp_queries, dns_tcp_bad;
	uint64_t routes_added, routes_removed, route_errors;
};

/* ---- flows as the stream core's local end ---- */

static void
flow_unlink(struct ecl_flow *w)
{
	struct ecl_tun *t = w->t;

	if (t == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		t->flows = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->t = NULL;
}

static ssize_t
fl_recv(void *h, void *buf, size_t len)
{
	struct ecl_flow *w = h;

	if (w->f == NULL) {
		errno = ECONNRESET;
		return -1;
	}
	return tun_flow_recv(w->f, buf, len);
}

static ssize_t
fl_send(void *h, const void *buf, size_t len)
{
	struct ecl_flow *w = h;

	if (w->f == NULL) {
		errno = ECONNRESET;
		return -1;
	}
	return tun_flow_send(w->f, buf, len);
}

static void
fl_shutdown_wr(void *h)
{
	struct ecl_flow *w = h;

	if (w->f != NULL)
		(void)tun_flow_shutdown_wr(w->f);
}

static void
fl_set_mask(void *h, int mask)
{
	struct ecl_flow *w = h;

	if (w->f != NULL)
		tun_flow_set_mask(w->f, mask);
}

static void
fl_end(struct ecl_flow *w, int abort)
{
	if (w->f != NULL) {
		if (abort)
			tun_flow_abort(w->f);
		else
			tun_flow_close(w->f);
	}
	flow_unlink(w);
	free(w->out);
	free(w);
}

static void
fl_close(void *h)
{
	fl_end(h, 0);
}

static void
fl_abort(void *h)
{
	fl_end(h, 1);
}

static const struct stream_local flow_local = {
    .recv = fl_recv,
    .send = fl_send,
    .shutdown_wr = fl_shutdown_wr,
    .set_mask = fl_set_mask,
    .close = fl_close,
    .abort = fl_abort,
};

static void
flow_io(struct tun_flow *f, int events, void *arg)
{
	struct ecl_flow *w = arg;

	(void)f;
	if (w->st != NULL)
		ecl_stream_io(w->st, events);
}

/* ---- DNS over TCP to the mapped address ---- */

static void dns_tcp_io(struct tun_flow *f, int events, void *arg);

static void
dns_tcp_mask(struct ecl_flow *w)
{
	int mask = 0;

	if (w->f == NULL)
		return;
	if (!w->eof && w->inlen < sizeof w->in)
		mask |= EV_READ;
	if (w->outoff < w->outlen)
		mask |= EV_WRITE;
	tun_flow_set_mask(w->f, mask);
}

static void
dns_tcp_answer(
    void *arg, const void *ctx, size_t ctxlen, const uint8_t *ans, size_t len)
{
	struct ecl_flow *w = arg;

	(void)ctx;
	(void)ctxlen;
	w->inflight--;
	if (w->f == NULL || len > 65535)
		return;
	w->out = xrealloc(w->out, w->outlen + 2 + len);
	be16_store(w->out + w->outlen, (uint16_t)len);
	memcpy(w->out + w->outlen + 2, ans, len);
	w->outlen += 2 + len;
	dns_tcp_mask(w);
}

/* The DNS-over-TCP flow is done: the DNS path forgets it, then it ends. */
static void
dns_tcp_end(struct ecl_flow *w, int abort)
{
	if (w->inflight > 0 && w->t != NULL)
		eng_client_dns_cancel(w->t->c, w);
	fl_end(w, abort);
}

static void
dns_tcp_io(struct tun_flow *f, int events, void *arg)
{
	struct ecl_flow *w = arg;
	struct ecl_tun *t = w->t;
	ssize_t r;
	size_t n;

	(void)f;
	if (t == NULL)
		return;
	if (events & EV_WRITE) {
		while (w->outoff < w->outlen) {
			r = tun_flow_send(
			    w->f, w->out + w->outoff, w->outlen - w->outoff);
			if (r > 0) {
				w->outoff += (size_t)r;
				continue;
			}
			if (errno == EAGAIN)
				break;
			dns_tcp_end(w, 1);
			return;
		}
		if (w->outoff == w->outlen)
			w->outoff = w->outlen = 0;
	}
	while ((events & EV_READ) && !w->eof && w->inlen < sizeof w->in) {
		r = tun_flow_recv(
		    w->f, w->in + w->inlen, sizeof w->in - w->inlen);
		if (r == 0) {
			w->eof = 1;
			break;
		}
		if (r < 0) {
			if (errno == EAGAIN)
				break;
			dns_tcp_end(w, 1);
			return;
		}
		w->inlen += (size_t)r;
		while (w->inlen >= 2 && w->inlen >= 2u + be16_load(w->in)) {
			n = be16_load(w->in);
			t->dns_tcp_queries++;
			/* counted first: a cached answer comes at once */
			w->inflight++;
			if (eng_client_dns_query(t->c, w->in + 2, n, NULL, 0,
				dns_tcp_answer, w) == -1)
				w->inflight--;
			memmove(w->in, w->in + 2 + n, w->inlen - 2 - n);
			w->inlen -= 2 + n;
		}
		if (w->inlen == sizeof w->in) {
			/* a length above what the DNS path takes */
			t->dns_tcp_bad++;
			dns_tcp_end(w, 1);
			return;
		}
	}
	/* The application finished asking and everything is answered. */
	if (w->eof && w->inflight == 0 && w->outlen == 0) {
		dns_tcp_end(w, 0);
		return;
	}
	dns_tcp_mask(w);
}

/* ---- the sinks ---- */

static int
same_ip(const union net_addr *a, const union net_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return a->sa.sa_family == AF_INET6 &&
	    memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

static int
flow_open(void *arg, struct tun_flow *f, const union net_addr *src,
    const union net_addr *dst)
{
	struct ecl_tun *t = arg;
	const struct tun_config *tc = tun_get_config(t->v.tun);
	uint8_t target[19];
	size_t tlen;
	struct ecl_flow *w;

	(void)src;
	if (t->c->stopping) {
		t->flows_stopping++;
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->t = t;
	w->f = f;
	w->next = t->flows;
	if (t->flows != NULL)
		t->flows->prev = w;
	t->flows = w;
	if (net_addr_port(dst) == 53 &&
	    (same_ip(dst, &tc->dns4) || same_ip(dst, &tc->dns6))) {
		w->dns = 1;
		t->dns_tcp_flows++;
		tun_flow_set_io(f, EV_READ, dns_tcp_io, w);
		return 0;
	}
	if (dst->sa.sa_family == AF_INET) {
		target[0] = 1;
		memcpy(target + 1, &dst->in.sin_addr, 4);
		tlen = 5;
	} else {
		target[0] = 4;
		memcpy(target + 1, &dst->in6.sin6_addr, 16);
		tlen = 17;
	}
	be16_store(target + tlen, net_addr_port(dst));
	tlen += 2;
	tun_flow_set_io(f, 0, flow_io, w);
	w->st = ecl_adopt_local(t->c, &flow_local, w, target, tlen);
	if (w->st == NULL) {
		/* the caller resets the application's connection */
		w->f = NULL;
		fl_end(w, 0);
		t->flows_stopping++;
		return -1;
	}
	return 0;
}

static void
dns_answer(
    void *arg, const void *ctx, size_t ctxlen, const uint8_t *ans, size_t len)
{
	struct ecl_tun *t = arg;
	uint64_t qid;

	if (ctxlen != sizeof qid || t->v.tun == NULL)
		return;
	memcpy(&qid, ctx, sizeof qid);
	(void)tun_dns_answer(t->v.tun, qid, ans, len);
}

static int
dns_query(void *arg, uint64_t qid, const uint8_t *msg, size_t len)
{
	struct ecl_tun *t = arg;

	return eng_client_dns_query(
	    t->c, msg, len, &qid, sizeof qid, dns_answer, t);
}

/* ---- resolvers in and out ---- */

/* Every resolver of the pool by index, with its connections. */
static void
collect_resolvers(struct ecl_tun *t)
{
	struct pool *p = t->c->pool;
	size_t n = pool_size(p), i;
	const struct pool_conn *pc;

	for (i = 0; i < n; i++) {
		pc = pool_conn(p, (uint32_t)i);
		if (pc->resolver >= t->nres) {
			t->res = xreallocarray(
			    t->res, pc->resolver + 1, sizeof *t->res);
			memset(t->res + t->nres, 0,
			    (pc->resolver + 1 - t->nres) * sizeof *t->res);
			t->nres = pc->resolver + 1;
		}
		if (pc->state == POOL_REJECTED)
			continue;
		t->res[pc->resolver].a = *pool_conn_addr(p, (uint32_t)i);
		t->res[pc->resolver].live++;
	}
}

void
ecl_tun_pool_event(struct eng_client *c, const struct pool_event *ev)
{
	struct ecl_tun *t = c->tun;
	const struct pool_conn *pc;
	struct ecl_tun_res *r;
	char addr[NET_ADDR_STRLEN];
	struct err e = {""};

	if (t == NULL || t->v.sys == NULL || ev->kind != POOL_EV_REJECTED ||
	    (pc = pool_conn(c->pool, ev->conn)) == NULL ||
	    pc->resolver >= t->nres)
		return;
	r = &t->res[pc->resolver];
	if (r->live == 0 || --r->live > 0 || !r->routed)
		return;
	/* Its last connection is rejected: never queried again. */
	r->routed = 0;
	net_addr_format_ip(&r->a, addr, sizeof addr);
	if (tun_route_resolver_del(t->v.sys, &r->a, &e) == -1) {
		t->route_errors++;
		log_warn("tun: resolver %s: %s", addr, e.msg);
		return;
	}
	t->routes_removed++;
	log_info("tun: resolver %s rejected, its host route removed", addr);
}

/* ---- start, stop, status ---- */

int
eng_client_tun_start(struct eng_client *c, const struct tun_config *tc,
    const struct tun_sys_config *sc, struct err *e)
{
	struct ecl_tun *t;
	struct tun_flow_sink fs;
	struct tun_dns_sink ds;
	union net_addr *keep;
	size_t i, n = 0;

	if (c->tun != NULL)
		return err_set(e, "full-VPN mode is running already");
	if (c->cfg.protocol_tcp)
		return err_set(e,
		    "connect --tun needs SOCKS5 mode: with PROTOCOL_TYPE "
		    "TCP the server connects every stream to its one "
		    "FORWARD_IP/FORWARD_PORT");
	t = xcalloc(1, sizeof *t);
	t->c = c;
	collect_resolvers(t);
	keep = xcalloc(t->nres + 1, sizeof *keep);
	for (i = 0; i < t->nres; i++)
		if (t->res[i].live > 0)
			keep[n++] = t->res[i].a;
	fs.open = flow_open;
	fs.arg = t;
	ds.query = dns_query;
	ds.arg = t;
	c->tun = t;
	if (tun_vpn_start(&t->v, c->loop, tc, sc, keep, n, &fs, &ds, e) == -1) {
		c->tun = NULL;
		free(keep);
		free(t->res);
		free(t);
		return -1;
	}
	free(keep);
	for (i = 0; i < t->nres; i++)
		if (t->res[i].live > 0) {
			t->res[i].routed = 1;
			t->routes_added++;
		}
	return 0;
}

int
eng_client_tun_stop(struct eng_client *c, struct err *e)
{
	struct ecl_tun *t = c->tun;
	struct ecl_flow *w, *next;
	size_t i;
	int rc = 0;

	if (t == NULL)
		return 0;
	eng_client_dns_cancel(c, t);
	/* Cut every flow from the TUN before lwIP frees them: a stream
	 * still holding one sees a reset; DNS-over-TCP flows end here. */
	for (w = t->flows; w != NULL; w = next) {
		next = w->next;
		if (w->dns) {
			dns_tcp_end(w, 1);
			continue;
		}
		tun_flow_abort(w->f);
		w->f = NULL;
		flow_unlink(w);
	}
	for (i = 0; i < t->nres; i++)
		if (t->res[i].routed &&
		    tun_route_resolver_del(t->v.sys, &t->res[i].a, NULL) == 0)
			t->res[i].routed = 0;
	if (tun_vpn_stop(&t->v, e) == -1)
		rc = -1;
	c->tun = NULL;
	free(t->res);
	free(t);
	return rc;
}

json_t *
ecl_tun_status_json(const struct eng_client *c)
{
	const struct ecl_tun *t = c->tun;
	json_t *o;

	if (t == NULL)
		return json_null();
	o = tun_vpn_json(&t->v);
	json_object_set_new(o, "bridge",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "refused_stopping",
		(json_int_t)t->flows_stopping, "dns_tcp_flows",
		(json_int_t)t->dns_tcp_flows, "dns_tcp_queries",
		(json_int_t)t->dns_tcp_queries, "resolver_routes_added",
		(json_int_t)t->routes_added, "resolver_routes_removed",
		(json_int_t)t->routes_removed, "route_errors",
		(json_int_t)t->route_errors));
	return o;
}

static void
mline(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "%s%s %llu\n", name, labels, (unsigned long long)v);
}

static void
mhead(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
ecl_tun_metrics(const struct eng_client *c, FILE *f)
{
	const struct ecl_tun *t = c->tun;
	const struct tun_stats *s;
	char lab[64];
	int i;

	if (t == NULL || t->v.tun == NULL)
		return;
	s = tun_get_stats(t->v.tun);
	mhead(f, "mdns_client_tun_packets_total", "counter",
	    "TUN packets (in: from applications).");
	mline(f, "mdns_client_tun_packets_total", "{direction=\"in\"}",
	    s->pkts_in);
	mline(f, "mdns_client_tun_packets_total", "{direction=\"out\"}",
	    s->pkts_out);
	mhead(f, "mdns_client_tun_bytes_total", "counter", "TUN bytes.");
	mline(f, "mdns_client_tun_bytes_total", "{direction=\"in\"}",
	    s->bytes_in);
	mline(f, "mdns_client_tun_bytes_total", "{direction=\"out\"}",
	    s->bytes_out);
	mhead(f, "mdns_client_tun_errors_total", "counter",
	    "TUN device read/write errors.");
	mline(f, "mdns_client_tun_errors_total", "{kind=\"read\"}",
	    s->read_errors);
	mline(f, "mdns_client_tun_errors_total", "{kind=\"write\"}",
	    s->write_errors);
	mhead(f, "mdns_client_tun_flows_open", "gauge", "TCP flows open.");
	mline(f, "mdns_client_tun_flows_open", "", s->flows_open);
	mhead(f, "mdns_client_tun_flows_opened_total", "counter",
	    "TCP flows handed to the tunnel.");
	mline(f, "mdns_client_tun_flows_opened_total", "", s->flows_opened);
	mhead(f, "mdns_client_tun_dns_queries_total", "counter",
	    "DNS queries to the mapped address (UDP).");
	mline(f, "mdns_client_tun_dns_queries_total", "", s->dns_queries);
	mhead(f, "mdns_client_tun_dropped_total", "counter",
	    "Packets from the TUN not carried, by reason.");
	for (i = 0; i < TUN_DROP_MAX; i++) {
		snprintf(lab, sizeof lab, "{reason=\"%s\"}",
		    tun_drop_name((enum tun_drop)i));
		mline(f, "mdns_client_tun_dropped_total", lab, s->drops[i]);
	}
	mhead(f, "mdns_client_tun_routes", "gauge",
	    "Routes installed (half-default and resolver host routes).");
	mline(f, "mdns_client_tun_routes", "", tun_sys_nroutes(t->v.sys));
}
