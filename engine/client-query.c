/* SPDX-License-Identifier: MIT */
/*
 * client-query.c — the client's DNS queries. Every query carries one
 * frame (data, control, a packed block of ACKs, or a PING that only
 * opens an answer slot) to the connections the resolver pool selects,
 * the same DNS id to each copy (duplication). The pump keeps up to
 * max_inflight queries out: queued frames first (the stream core's round
 * robin over stream 0 and the streams), then one PING per non-PONG
 * answer, and a timed PING when nothing is in flight. An unanswered
 * query frees its slot after the smoothed answer time + 4 x its
 * deviation (RFC 6298's RTO over answer times). The pool's
 * MTU probes leave through here too, with ids no query holds.
 *
 * Reads the session and stream state it sends from; changes nothing in
 * them but the queues it pops.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "engine/client-query.h"
#include "engine/pool.h"
#include "proto/mtu.h"
#include "proto/tunnel.h"

#define SEC(x) ((uint64_t)((x)*1000000.0))
/*
 * An unanswered query frees its in-flight slot after srtt + 4 x rttvar of
 * the answer times (within these bounds): lost queries must not hold the
 * pipe. The floor was 150 ms with 4 x srtt: on a path answering in 3 ms
 * with 10 % loss, a lost query then held its slot 50 answer times and the
 * 32 slots spent most of their time waiting for answers that never came
 * (issue 16). A late answer is still processed; its slot was only lent.
 * The floor stays 10 ms: 2 ms helped one resolver at 30 % loss on
 * loopback but lent so many slots of queries answered late that one
 * unbound in the path went from 13 to 25 s for 10 MiB (bench-tunnel,
 * docs/engine.md "Under loss").
 */
#define QUERY_TIMEOUT_MIN_US 10000ULL
#define QUERY_TIMEOUT_MAX_US 3000000ULL
/* A lost query is replaced by a poll this long after a busy answer. */
#define POLL_REPLACE_US 1000000ULL

/* How long an unanswered query holds its slot. */
static uint64_t
query_timeout_us(const struct eng_client *c)
{
	uint64_t tmo;

	tmo = !c->have_srtt ? QUERY_TIMEOUT_MAX_US :
			      c->dns_srtt + 4 * c->dns_rttvar;
	if (tmo < QUERY_TIMEOUT_MIN_US)
		tmo = QUERY_TIMEOUT_MIN_US;
	if (tmo > QUERY_TIMEOUT_MAX_US)
		tmo = QUERY_TIMEOUT_MAX_US;
	return tmo;
}

void
ecl_rand_bytes(uint8_t *p, size_t n)
{
	size_t i;

	if (RAND_bytes(p, (int)n) != 1)
		for (i = 0; i < n; i++)
			p[i] = (uint8_t)(now_mono_us() >> (i % 8));
}

/* The pool's class of a frame (duplication count, stream stickiness). */
static enum pool_frame
frame_class(uint8_t type)
{
	switch (type) {
	case WIRE_STREAM_DATA:
		return POOL_FRAME_STREAM_DATA;
	case WIRE_STREAM_RESEND:
		return POOL_FRAME_STREAM_RESEND;
	case WIRE_STREAM_SYN:
	case WIRE_SOCKS5_SYN:
	case WIRE_STREAM_CLOSE_READ:
	case WIRE_STREAM_CLOSE_WRITE:
	case WIRE_PACKED_CONTROL_BLOCKS:
		return POOL_FRAME_SETUP;
	case WIRE_PING:
		return POOL_FRAME_PING;
	default:
		return POOL_FRAME_OTHER;
	}
}

/* Where a query to one connection goes (looked up in the pool first). */
struct target {
	const union net_addr *addr;
	const char *domain;
	int fd; /* our socket of its family, -1 when none */
};

static void
target(struct eng_client *c, uint32_t conn, struct target *t)
{
	t->addr = pool_conn_addr(c->pool, conn);
	t->domain = pool_conn_domain(c->pool, conn);
	t->fd = t->addr->sa.sa_family == AF_INET6 ? c->fd6 : c->fd4;
}

uint16_t
ecl_alloc_dns_id(struct eng_client *c)
{
	uint16_t id;
	unsigned n;

	if (c->force_id >= 0) {
		id = (uint16_t)c->force_id;
		c->force_id = -1;
		return id;
	}
	for (n = 0; n < 65536; n++) {
		id = c->next_dns_id++;
		if (!pool_probe_holds(c->pool, id))
			return id;
	}
	return c->next_dns_id++;
}

/*
 * Encode frame f for target t with DNS id and send it. Returns 0 or -1
 * (encoding failed or the socket refused it).
 */
static int
send_query(struct eng_client *c, const struct wire_frame *f,
    const struct target *t, uint16_t id)
{
	uint8_t msg[TUNNEL_QUERY_MAX];
	struct err e;
	long mn;

	if (t->fd == -1)
		return -1;
	mn = tunnel_query_frame(
	    f, c->cipher, NULL, t->domain, id, msg, sizeof msg, NULL, &e);
	if (mn <= 0) {
		log_debug("query not built: %s", e.msg);
		return -1;
	}
	if (sendto(t->fd, msg, (size_t)mn, 0, &t->addr->sa,
		net_addr_len(t->addr)) < 0)
		return -1;
	return 0;
}

/*
 * Send frame f to the connections the pool selects (duplication: the same
 * DNS id to each). The walk goes pool (targets, id) -> codec and socket
 * -> pool (what left). Returns the DNS id or -1 when nothing carried it.
 */
static int
send_once(struct eng_client *c, const struct wire_frame *f, uint64_t now,
    size_t *ntargets)
{
	uint32_t ids[16];
	struct target t[16];
	uint8_t ok[16];
	size_t k, i, sent = 0, cap;
	enum pool_frame cls = frame_class(f->type);
	uint16_t id;

	/* The server policy caps duplication (upstream clamps the same). */
	cap = cls == POOL_FRAME_SETUP ? c->cap_setup_dup : c->cap_dup;
	cap = MIN(MAX(cap, 1u), nitems(ids));
	k = pool_select(c->pool, cls, f->stream_id, now, ids, cap);
	*ntargets = k;
	if (k == 0) {
		c->force_id = -1;
		return -1;
	}
	for (i = 0; i < k; i++)
		target(c, ids[i], &t[i]);
	id = ecl_alloc_dns_id(c);
	for (i = 0; i < k; i++)
		ok[i] = send_query(c, f, &t[i], id) == 0;
	for (i = 0; i < k; i++)
		if (ok[i]) {
			pool_on_send(c->pool, ids[i], t[i].fd, id, now);
			sent++;
		}
	if (sent == 0)
		return -1;
	c->st.queries_sent += sent;
	c->st.duplicates_sent += sent - 1;
	c->st.frames_up++;
	if (c->sent_at[id] == 0)
		c->inflight++;
	c->sent_at[id] = now ? now : 1;
	c->ring[c->ring_tail++ & ECL_RING_MASK] = id;
	c->last_send = now;
	if (c->unanswered_since == 0)
		c->unanswered_since = now ? now : 1;
	return id;
}

/*
 * A STREAM_RESEND that only one resolver carries goes in a second query
 * too (the server does the same with its answers): duplication across
 * resolvers cannot protect it, and a RESEND lost again is the longest
 * stall of the window (docs/engine.md "Under loss").
 */
int
ecl_send_frame(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	size_t k = 0;
	int id = send_once(c, f, now, &k);

	if (id >= 0 && k == 1 && f->type == WIRE_STREAM_RESEND)
		(void)send_once(c, f, now, &k);
	return id;
}

void
ecl_frame_init(struct eng_client *c, struct wire_frame *f, uint8_t type)
{
	memset(f, 0, sizeof *f);
	f->session_id = c->sid;
	f->cookie = c->cookie;
	f->type = type;
}

static void
send_ping(struct eng_client *c, uint64_t now)
{
	struct wire_frame f;
	uint8_t p[WIRE_PING_LEN];

	wire_ping_build(NULL, p, sizeof p);
	ecl_frame_init(c, &f, WIRE_PING);
	f.payload = p;
	f.payload_len = sizeof p;
	if (ecl_send_frame(c, &f, now) >= 0)
		c->st.pings++;
}

/* Send the next queued frame (round robin, priority); 0 if none. */
static int
send_next(struct eng_client *c, uint64_t now)
{
	uint8_t pk[64 * WIRE_PACKED_BLOCK_LEN];
	const struct stream_lane lane = {&c->q0, 0, c->arq0};
	struct stream_sched sc = {
	    &lane, 1, &c->streams, &c->rr, c->max_blocks, pk, 64};
	struct txq_frame *hold;
	struct wire_frame w;

	if (!stream_sched_next(&sc, now, &w, &hold))
		return 0;
	w.session_id = c->sid;
	w.cookie = c->cookie;
	if (w.type == WIRE_PACKED_CONTROL_BLOCKS)
		c->st.packed_sent++;
	ecl_send_frame(c, &w, now);
	free(hold);
	return 1;
}

static uint64_t
ping_interval(struct eng_client *c, uint64_t now)
{
	uint64_t idle = now - c->last_traffic;
	const struct cfg_client *g = &c->cfg;
	double aggr = MAX(g->ping_aggr_s, c->min_ping_s);

	/* Stalled: poll at least once a second, so a restarted server's
	 * ERROR_DROP (or the path coming back) is seen soon. */
	if (c->stalled)
		return SEC(MAX(1.0, c->min_ping_s));
	if (idle < SEC(g->ping_warm_thr_s))
		return SEC(aggr);
	if (idle < SEC(g->ping_cool_thr_s))
		return SEC(g->ping_lazy_s);
	if (idle < SEC(g->ping_cold_thr_s))
		return SEC(g->ping_cool_s);
	return SEC(g->ping_cold_s);
}

static void
on_expire_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;

	(void)id;
	c->expire_timer = 0;
	ecl_pump(c, ev_now_us(loop));
}

/*
 * Every slot is taken: wake when the oldest query's slot is due back.
 * Answers run the pump and free due slots as they come, but when every
 * query out was lost none comes, and the slots waited for the 20 ms tick
 * (at 30 % loss the 32 slots fill with lost queries every ~100 queries,
 * docs/engine.md "Under loss").
 */
static void
arm_expire(struct eng_client *c, uint64_t now)
{
	uint64_t at;
	uint16_t qid;

	if (c->loop == NULL || c->ring_head == c->ring_tail)
		return;
	qid = c->ring[c->ring_head & ECL_RING_MASK];
	if (c->sent_at[qid] == 0)
		return;
	at = c->sent_at[qid] + query_timeout_us(c);
	if (c->expire_timer != 0) {
		if (c->expire_at <= at)
			return;
		ev_timer_cancel(c->loop, c->expire_timer);
	}
	c->expire_at = at;
	c->expire_timer =
	    ev_timer_add(c->loop, at > now ? at - now : 0, on_expire_timer, c);
}

void
ecl_pump(struct eng_client *c, uint64_t now)
{
	if (c->st.phase != ENG_CLI_CONNECTED)
		return;
	/* Free the slots of lost queries now, not on the next 20 ms tick. */
	ecl_queries_expire(c, now);
	while (c->inflight < c->cfg.max_inflight && send_next(c, now))
		;
	if (c->inflight >= c->cfg.max_inflight)
		arm_expire(c, now);
	/* Polls give the server answer slots for data it holds. */
	while (c->inflight < c->cfg.max_inflight && c->want_polls > 0) {
		send_ping(c, now);
		c->want_polls--;
	}
	c->want_polls = 0;
	if (c->inflight == 0 && now - c->last_send >= ping_interval(c, now))
		send_ping(c, now);
}

/* ---- probes ---- */

static int
to_int(unsigned v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

/* An id neither in flight as a query nor held by another probe. */
static uint16_t
probe_dns_id(struct eng_client *c)
{
	uint16_t id = 0;
	unsigned tries;

	for (tries = 0; tries < 65536; tries++) {
		id = c->next_dns_id++;
		if (!pool_probe_holds(c->pool, id) && c->sent_at[id] == 0)
			break;
	}
	return id;
}

void
ecl_send_probes(struct eng_client *c, uint64_t now)
{
	struct pool_probe_query q;
	struct target t;
	struct wire_frame f;
	uint8_t p[4200];
	uint16_t id;

	while (pool_probe_next(c->pool, &q)) {
		target(c, q.conn, &t);
		id = probe_dns_id(c);
		/* A size upstream never sends is not sent: the attempt
		 * fails by its timeout, as upstream counts it. */
		if (mtu_probe_frame(q.download ? MTU_DOWN : MTU_UP,
			(uint8_t)c->cfg.base64, q.code, to_int(q.size),
			to_int(q.pad), p, sizeof p, &f) == 0 &&
		    send_query(c, &f, &t, id) == 0)
			c->st.probes_sent++;
		pool_probe_sent(c->pool, &q, id, now);
	}
}

/* ---- answers and slots ---- */

/* Smoothed answer time, for freeing the slots of unanswered queries. */
static void
note_rtt(struct eng_client *c, uint64_t rtt)
{
	uint64_t d;

	if (!c->have_srtt) {
		c->dns_srtt = rtt;
		c->dns_rttvar = rtt / 2;
		c->have_srtt = 1;
		return;
	}
	d = c->dns_srtt > rtt ? c->dns_srtt - rtt : rtt - c->dns_srtt;
	c->dns_rttvar = (3 * c->dns_rttvar + d) / 4;
	c->dns_srtt = (7 * c->dns_srtt + rtt) / 8;
}

void
ecl_query_answered(struct eng_client *c, uint16_t id, uint64_t now)
{
	if (c->sent_at[id] != 0) {
		note_rtt(c, now - c->sent_at[id]);
		c->sent_at[id] = 0;
		c->inflight--;
	}
	c->st.answers++;
}

void
ecl_probe_answered(struct eng_client *c, uint64_t rtt_us)
{
	note_rtt(c, rtt_us); /* same resolvers */
	c->st.probes_answered++;
}

void
ecl_queries_expire(struct eng_client *c, uint64_t now)
{
	uint64_t tmo = query_timeout_us(c);
	uint16_t qid;

	while (c->ring_head != c->ring_tail) {
		qid = c->ring[c->ring_head & ECL_RING_MASK];
		if (c->sent_at[qid] != 0 && now - c->sent_at[qid] < tmo)
			break;
		if (c->sent_at[qid] != 0) {
			c->sent_at[qid] = 0;
			c->inflight--;
			c->st.timeouts++;
			/*
			 * Its answer would have asked for the next poll: while
			 * the server is busy, a lost query is replaced, or at
			 * 30 % loss the polls die out down to the timed PING
			 * (docs/engine.md "Under loss"). A PONG ends the chain.
			 */
			if (c->last_busy != 0 &&
			    now - c->last_busy < POLL_REPLACE_US)
				c->want_polls++;
		}
		c->ring_head++;
	}
}
