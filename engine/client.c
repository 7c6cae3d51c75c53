/* SPDX-License-Identifier: MIT */
/*
 * client.c — the tunnel client engine (see client.h): its lifecycle, its
 * sockets and timer, the resolver pool's housekeeping (MTU tests, the
 * fast start, confirms and rechecks, events), and the walk of each DNS
 * answer, which goes forward and does not come back:
 *
 *   codec (proto/: DNS answer, frame, probe payload, decompression)
 *   -> pool (pool-probe.c: a probe's answer; or pool-pend.c, pool.c:
 *      the resolver's statistics) -> the query slots (client-query.c)
 *   -> the session (client-session.c) -> its streams (client-stream.c,
 *      engine/stream.c, arq.c, txq.c).
 *
 * What an answer causes to be sent (the next probe query, the pump)
 * leaves afterwards, as a walk of its own. The session is in
 * client-session.c, the local side in client-stream.c, sending in
 * client-query.c, configuration in client-config.c, status and metrics
 * in client-ctl.c, DNS through the tunnel (the local DNS listener, the
 * DNS sink) in client-dns.c and SOCKS5 UDP ASSOCIATE in client-udp.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/client-dns.h"
#include "engine/client-fec.h"
#include "engine/client-query.h"
#include "engine/client-session.h"
#include "engine/client-stream.h"
#include "engine/client-tun.h"
#include "engine/client-udp.h"
#include "engine/pool.h"
#include "proto/tunnel.h"

#define SEC(x)	((uint64_t)((x)*1000000.0))
#define TICK_US 20000ULL

const struct eng_client_stats *
eng_client_stats(const struct eng_client *c)
{
	return &c->st;
}

const char *
eng_client_error(const struct eng_client *c)
{
	return c->error;
}

void
eng_client_set_event_cb(
    struct eng_client *c, eng_client_event_cb *cb, void *arg)
{
	c->ev_cb = cb;
	c->ev_arg = arg;
}

/* ---- an answer's walk ---- */

/* What the codec made of one DNS answer. */
struct answer {
	uint16_t id;
	int rcode;
	int parsed;   /* it carried a tunnel frame */
	int inflated; /* the frame's payload is usable (decompressed) */
	struct tunnel_answer ta; /* ta.f: the frame */
};

/*
 * The codec stage (proto/tunnel.h): DNS answer -> frame -> decompression.
 * A probe's answer is not inflated: a probe judges the payload as it came
 * (upstream does).
 */
static void
decode(struct eng_client *c, const uint8_t *msg, size_t len, int inflate,
    struct answer *a)
{
	int mode = c->st.phase == ENG_CLI_CONNECTED ? c->mode : c->cfg.base64;
	enum tunnel_ans st;

	a->id = be16_load(msg);
	a->rcode = msg[3] & 0x0f;
	st = tunnel_answer_parse(msg, len,
	    mode ? DNS_RESP_BASE64 : DNS_RESP_RAW, c->fbuf, ECL_BUF,
	    inflate ? c->ibuf : NULL, ECL_BUF, &a->ta, NULL);
	a->parsed = st == TUNNEL_FRAME || st == TUNNEL_BADCOMP;
	a->inflated = st == TUNNEL_FRAME;
}

/*
 * What a probe's answer said, for the diagnosis when every MTU test
 * fails: the judgement scan and handshake make (probe/scan-judge.c).
 * NOERROR without a frame is NODATA, the server's answer to a query it
 * cannot decrypt (wrong key or method); NXDOMAIN says the name is not
 * in a zone the server (or the resolver) serves (wrong DOMAINS).
 */
static void
note_probe_rcode(struct eng_client *c, const struct answer *a)
{
	c->probe_rc.answers++;
	if (a->rcode == 0 && !a->parsed)
		c->probe_rc.nodata++;
	else if (a->rcode == 3)
		c->probe_rc.nxdomain++;
	else if (a->rcode == 5)
		c->probe_rc.refused++;
	else if (a->rcode == 2)
		c->probe_rc.servfail++;
	else if (a->rcode != 0)
		c->probe_rc.other++;
}

/* What an answer leaves to be sent once its walk is over. */
#define AFTER_PROBES 1 /* a probe's next query */
#define AFTER_PUMP   2 /* the pump (a connected-phase frame) */

/*
 * One DNS answer from resolver index `resolver` (-1: unknown, e.g. tests
 * and the fuzzer) on local socket fd: decoded, accounted (a probe's, or
 * the pool's statistics and the query slot), then handed to the session.
 * Returns what to send afterwards (AFTER_*).
 */
static int
handle_answer(struct eng_client *c, long resolver, int fd, const uint8_t *msg,
    size_t len, uint64_t now)
{
	struct answer a;
	uint64_t rtt = 0;
	int probe;

	if (len < DNS_HDR_LEN)
		return 0;
	probe = pool_probe_holds(c->pool, be16_load(msg));
	decode(c, msg, len, !probe, &a);
	if (probe &&
	    pool_probe_answer(c->pool, resolver, a.id,
		a.parsed ? &a.ta.f : NULL, now, &rtt)) {
		note_probe_rcode(c, &a);
		ecl_probe_answered(c, rtt);
		return AFTER_PROBES;
	}
	if (probe) /* someone else's answer with a probe's id: inflate */
		decode(c, msg, len, 1, &a);
	/* Only a valid tunnel answer is a success for the pool: NOERROR
	 * without a frame of ours (a resolver's own answer, a forged one,
	 * one that does not decrypt) is loss, as REFUSED and SERVFAIL. */
	if (resolver >= 0)
		pool_on_answer(c->pool, (uint32_t)resolver, fd, a.id,
		    a.parsed && a.inflated ? 0 : (a.rcode != 0 ? a.rcode : -1),
		    now, NULL);
	ecl_query_answered(c, a.id, now);
	if (!a.parsed) {
		c->st.bad_answers++;
		return 0;
	}
	c->st.frames_down++;
	if (!a.inflated) {
		c->st.bad_answers++;
		return 0;
	}
	return ecl_session_frame(c, &a.ta.f, now) ? AFTER_PUMP : 0;
}

/* What an answer caused to be sent: the next probe query, the pump. */
static void
after_answer(struct eng_client *c, int what, uint64_t now)
{
	if (what & AFTER_PROBES)
		ecl_send_probes(c, now);
	if (what & AFTER_PUMP)
		ecl_pump(c, now);
}

void
eng_client_handle_answer(struct eng_client *c, const uint8_t *msg, size_t len)
{
	uint64_t now = ev_now_us(c->loop);

	after_answer(c, handle_answer(c, -1, -1, msg, len, now), now);
}

static void
on_udp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_client *c = arg;
	uint64_t now = ev_now_us(loop);
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	long r;
	int budget = 512;

	(void)events;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, c->rxbuf, ECL_BUF, 0, &from.sa, &fl);
		if (n < 0)
			break;
		r = pool_resolver_find(c->pool, &from);
		if (r < 0) {
			c->st.bad_answers++; /* not one of our resolvers */
			continue;
		}
		after_answer(
		    c, handle_answer(c, r, fd, c->rxbuf, (size_t)n, now), now);
	}
}

/* ---- the pool's housekeeping ---- */

/* Forward the pool's events to the control socket. */
static void
drain_pool_events(struct eng_client *c)
{
	struct pool_event ev;
	char addr[NET_ADDR_STRLEN];

	while (pool_event_next(c->pool, &ev)) {
		net_addr_format(
		    pool_conn_addr(c->pool, ev.conn), addr, sizeof addr);
		log_info("%s %s (%s): %s", pool_event_kind_name(ev.kind), addr,
		    pool_conn_domain(c->pool, ev.conn), ev.detail);
		ecl_event(c, pool_event_kind_name(ev.kind), addr, ev.detail);
		ecl_tun_pool_event(c, &ev);
	}
}

/*
 * Why every MTU test failed, from what the probes' answers were, naming
 * the configuration key to check; "" when nothing says more than the
 * reasons (answers of several kinds).
 */
static const char *
diagnosis(const struct eng_client *c, char *buf, size_t len)
{
	uint64_t n = c->probe_rc.answers;

	if (n == 0)
		return ": no answer to any probe: check that the resolvers "
		       "reach the server (the resolver list) and that "
		       "`serve` runs";
	if (c->probe_rc.nodata * 2 > n) {
		snprintf(buf, len,
		    ": key or method wrong: the server answered %llu of "
		    "%llu probes NODATA, it cannot decrypt them: check "
		    "ENCRYPTION_KEY and DATA_ENCRYPTION_METHOD (both must "
		    "be the server's)",
		    (unsigned long long)c->probe_rc.nodata,
		    (unsigned long long)n);
		return buf;
	}
	if (c->probe_rc.nxdomain * 2 > n) {
		snprintf(buf, len,
		    ": wrong domain: %llu of %llu probes answered NXDOMAIN, "
		    "the server does not serve %s: check DOMAINS (the "
		    "server's DOMAIN)",
		    (unsigned long long)c->probe_rc.nxdomain,
		    (unsigned long long)n,
		    c->cfg.ndomains > 0 ? c->cfg.domains[0] : "the domain");
		return buf;
	}
	if ((c->probe_rc.refused + c->probe_rc.servfail) * 2 > n) {
		snprintf(buf, len,
		    ": the resolvers refuse: %llu REFUSED, %llu SERVFAIL of "
		    "%llu answers: check the resolver list",
		    (unsigned long long)c->probe_rc.refused,
		    (unsigned long long)c->probe_rc.servfail,
		    (unsigned long long)n);
		return buf;
	}
	return "";
}

/* Give up: every MTU test failed. The error names the first reasons. */
static void
pool_give_up(struct eng_client *c)
{
	const struct pool_conn *pc = pool_conn(c->pool, 0);
	char addr[NET_ADDR_STRLEN], why[200];

	net_addr_format(pool_conn_addr(c->pool, 0), addr, sizeof addr);
	snprintf(c->error, sizeof c->error,
	    "no valid connections: all %zu failed their MTU test "
	    "(e.g. %s: %s)%s",
	    pool_size(c->pool), addr, pc != NULL ? pc->reason : "",
	    diagnosis(c, why, sizeof why));
	ecl_set_phase(c, ENG_CLI_FAILED);
	ev_stop(c->loop);
}

/* Pool housekeeping on every tick: probes, the fast start, checks. */
static void
pool_work(struct eng_client *c, uint64_t now)
{
	pool_tick(c->pool, now);
	pool_probe_tick(c->pool, now);
	if (!c->pool_ready && c->st.phase == ENG_CLI_MTU &&
	    pool_ready(c->pool, now, &c->up_mtu, &c->down_mtu)) {
		c->pool_ready = 1;
		c->st.up_mtu = c->up_mtu;
		c->st.down_mtu = c->down_mtu;
		log_info("resolver pool ready: synced MTU %u/%u", c->up_mtu,
		    c->down_mtu);
		ecl_session_start(c, now);
	}
	if (!c->pool_ready && pool_failed(c->pool)) {
		drain_pool_events(c);
		pool_give_up(c);
		return;
	}
	ecl_send_probes(c, now);
	drain_pool_events(c);
}

/* ---- timers ---- */

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;
	uint64_t now = ev_now_us(loop);

	(void)id;
	ecl_queries_expire(c, now);
	if (c->st.phase != ENG_CLI_FAILED && c->pool != NULL)
		pool_work(c, now);
	if (now >= c->rate_next) {
		/* one traffic sample a second for the rates */
		unsigned r = c->nrate++ % nitems(c->rate);

		c->rate[r].t = now;
		c->rate[r].up = c->st.bytes_up;
		c->rate[r].down = c->st.bytes_down;
		c->rate[r].q = c->st.queries_sent;
		c->rate_next = now + 1000000;
	}
	ecl_dns_tick(c, now);
	if (c->st.phase == ENG_CLI_CONNECTED) {
		ecl_session_check_stall(c, now);
		ecl_fec_tick(c, now);
		ecl_streams_tick(c, now);
		ecl_pump(c, now);
	}
	c->tick_timer = ev_timer_add(loop, TICK_US, on_tick, c);
}

static void
on_close_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;
	struct wire_frame f;

	(void)id;
	c->close_timer = 0;
	if (c->close_rounds < 3 && c->sid != 0) {
		ecl_frame_init(c, &f, WIRE_SESSION_CLOSE);
		ecl_send_frame(c, &f, ev_now_us(loop));
		c->close_rounds++;
		c->close_timer = ev_timer_add(loop, 100000, on_close_timer, c);
		return;
	}
	ev_stop(loop);
}

void
eng_client_stop(struct eng_client *c)
{
	if (c->stopping)
		return;
	c->stopping = 1;
	ecl_streams_reset_all(c);
	if (c->st.phase != ENG_CLI_CONNECTED) {
		ecl_set_phase(c, ENG_CLI_STOPPING);
		ev_stop(c->loop);
		return;
	}
	ecl_set_phase(c, ENG_CLI_STOPPING);
	c->close_rounds = 0;
	on_close_timer(c->loop, 0, c);
}

/* ---- lifecycle ---- */

/* The probe settings: MTU ranges, retries, timeout, QNAME room. */
static void
probe_setup(struct eng_client *c, const struct cfg_client *cfg)
{
	unsigned *cap = xcalloc(cfg->ndomains, sizeof *cap);
	struct pool_probe_cfg pc;
	uint32_t code = 0;
	size_t i;

	for (i = 0; i < cfg->ndomains; i++)
		cap[i] = (unsigned)wire_max_upload_payload(
		    strlen(cfg->domains[i]), cfg->method);
	ecl_rand_bytes((uint8_t *)&code, sizeof code);
	memset(&pc, 0, sizeof pc);
	pc.min_up = cfg->min_up_mtu;
	pc.max_up = cfg->max_up_mtu;
	pc.min_down = cfg->min_down_mtu;
	pc.max_down = cfg->max_down_mtu;
	pc.retries = MAX(cfg->mtu_retries, 1u);
	pc.timeout_us = SEC(cfg->mtu_timeout_s);
	pc.up_cap = cap;
	pc.first_code = code & 0xffff; /* upstream: a counter; any start */
	pool_probe_setup(c->pool, &pc);
	free(cap);
}

struct eng_client *
eng_client_new(
    struct ev_loop *loop, const struct cfg_client *cfg, struct err *e)
{
	struct eng_client *c;
	struct pool_cfg pc;

	if (cfg->ndomains == 0) {
		err_set(e, "no DOMAINS configured");
		return NULL;
	}
	if (cfg->nresolvers == 0) {
		err_set(e, "no resolvers");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->fd4 = c->fd6 = -1;
	c->force_id = -1;
	c->listen_fd = -1;
	c->cipher = wire_cipher_new(cfg->method, cfg->key ? cfg->key : "",
	    cfg->key ? strlen(cfg->key) : 0, e);
	if (c->cipher == NULL) {
		free(c);
		return NULL;
	}
	pool_cfg_from(&pc, cfg);
	c->pool = pool_new(&pc, cfg->resolvers, cfg->nresolvers,
	    (const char *const *)cfg->domains, cfg->ndomains, ev_now_us(loop),
	    e);
	if (c->pool == NULL) {
		wire_cipher_free(c->cipher);
		free(c);
		return NULL;
	}
	c->started_us = ev_now_us(loop);
	cfg_client_copy(&c->cfg, cfg);
	/* The pool keeps its own copy of the (possibly huge) list. */
	free(c->cfg.resolvers);
	c->cfg.resolvers = NULL;
	arq_config_from(&c->arqc_cfg, &cfg->arq);
	/* Stall timeout: twice the RTO ceiling unless set (docs/engine.md,
	 * "Liveness"). */
	c->stall_us = SEC(cfg->stall_timeout_s > 0 ? cfg->stall_timeout_s :
						     2 * cfg->arq.max_rto_s);
	ecl_rand_bytes((uint8_t *)&c->next_dns_id, sizeof c->next_dns_id);
	c->next_stream_id = 1;
	probe_setup(c, cfg);
	c->sent_at = xcalloc(65536, sizeof *c->sent_at);
	c->ring = xcalloc(ECL_RING_MASK + 1, sizeof *c->ring);
	c->rxbuf = xmalloc(ECL_BUF);
	c->fbuf = xmalloc(ECL_BUF);
	c->ibuf = xmalloc(ECL_BUF);
	c->cap_dup = c->cap_setup_dup = 16;
	ecl_dns_init(c);
	return c;
}

/* An unconnected UDP socket of family fam, watched by the loop; -1. */
static int
open_udp(struct eng_client *c, int fam, struct err *e)
{
	union net_addr any;
	int fd, sz = 4 << 20;

	memset(&any, 0, sizeof any);
	any.sa.sa_family = (sa_family_t)fam;
	if ((fd = net_udp_bind(&any, e)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	if (ev_io_add(c->loop, fd, EV_READ, on_udp, c, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
eng_client_start(struct eng_client *c, union net_addr *bound, struct err *e)
{
	size_t i;
	int v4 = 0, v6 = 0;

	if (ecl_listen(c, bound, e) == -1 || ecl_dns_listen(c, e) == -1)
		return -1;
	for (i = 0; i < pool_size(c->pool); i++) {
		if (pool_conn_addr(c->pool, (uint32_t)i)->sa.sa_family ==
		    AF_INET6)
			v6 = 1;
		else
			v4 = 1;
		if (v4 && v6)
			break;
	}
	if (v4 && (c->fd4 = open_udp(c, AF_INET, e)) == -1)
		return -1;
	if (v6 && (c->fd6 = open_udp(c, AF_INET6, e)) == -1)
		return -1;
	c->tick_timer = ev_timer_add(c->loop, TICK_US, on_tick, c);
	ecl_set_phase(c, ENG_CLI_MTU);
	pool_work(c, ev_now_us(c->loop));
	return 0;
}

void
eng_client_free(struct eng_client *c)
{
	struct err e = {""};

	if (c == NULL)
		return;
	if (eng_client_tun_stop(c, &e) == -1)
		log_warn("full-VPN mode: restore: %s", e.msg);
	ecl_streams_free_all(c);
	ecl_udp_free_all(c);
	ecl_dns_free(c);
	net_acceptor_free(c->acc);
	c->acc = NULL;
	if (c->listen_fd != -1)
		close(c->listen_fd);
	if (c->fd4 != -1) {
		ev_io_del(c->loop, c->fd4);
		close(c->fd4);
	}
	if (c->fd6 != -1) {
		ev_io_del(c->loop, c->fd6);
		close(c->fd6);
	}
	if (c->tick_timer)
		ev_timer_cancel(c->loop, c->tick_timer);
	if (c->close_timer)
		ev_timer_cancel(c->loop, c->close_timer);
	if (c->expire_timer)
		ev_timer_cancel(c->loop, c->expire_timer);
	ecl_session_free(c);
	for (size_t k = 0; k < ENG_CHECK_COUNT; k++)
		json_decref(c->checks[k]);
	free(c->fec);
	wire_cipher_free(c->cipher);
	pool_free(c->pool);
	free(c->rxbuf);
	free(c->fbuf);
	free(c->ibuf);
	cfg_client_clear(&c->cfg);
	free(c->sent_at);
	free(c->ring);
	free(c);
}
