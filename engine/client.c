/*
 * client.c — the tunnel client engine (see client.h): phases MTU discovery
 * -> session handshake -> connected, the query pump that keeps up to
 * max_inflight DNS queries outstanding (each carries one frame: data,
 * control, a packed block of ACKs, or a PING that only opens an answer
 * slot), and the dispatch of downstream frames to streams.
 *
 * Streams, the SOCKS front end and the data path are in client-stream.c;
 * configuration reading in client-config.c; the status and metrics in
 * client-ctl.c. Every query goes to the connections the resolver pool
 * (engine/pool.h) selects, with duplication; the MTU tests, confirms and
 * rechecks the pool asks for run here as per-connection probes (each with
 * its own DNS id and timer). Not here yet: the local DNS listener,
 * DNS-over-tunnel, SOCKS UDP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "engine/client-int.h"
#include "proto/dns.h"
#include "engine/pool.h"

#define SEC(x)	((uint64_t)((x)*1000000.0))
#define TICK_US 20000ULL
/* An unanswered query frees its in-flight slot after 4 x the smoothed
 * answer time (within these bounds): lost queries must not hold the pipe. */
#define QUERY_TIMEOUT_MIN_US 150000ULL
#define QUERY_TIMEOUT_MAX_US 3000000ULL

uint64_t
cli_now(struct eng_client *c)
{
	return ev_now_us(c->loop);
}

static void
rand_bytes(uint8_t *p, size_t n)
{
	size_t i;

	if (RAND_bytes(p, (int)n) != 1)
		for (i = 0; i < n; i++)
			p[i] = (uint8_t)(now_mono_us() >> (i % 8));
}

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

void
cli_event(struct eng_client *c, const char *kind, const char *resolver,
    const char *detail)
{
	if (c->ev_cb != NULL)
		c->ev_cb(c->ev_arg, kind, resolver, detail);
}

const char *
eng_client_phase_name(int phase)
{
	switch (phase) {
	case ENG_CLI_STARTING:
		return "starting";
	case ENG_CLI_MTU:
		return "mtu-testing";
	case ENG_CLI_HANDSHAKE:
		return "handshaking";
	case ENG_CLI_CONNECTED:
		return "connected";
	case ENG_CLI_RECONNECTING:
		return "reconnecting";
	case ENG_CLI_STOPPING:
		return "stopping";
	default:
		return "failed";
	}
}

static void
set_phase(struct eng_client *c, int phase)
{
	if (c->st.phase == phase)
		return;
	c->st.phase = phase;
	cli_event(c, "phase", NULL, eng_client_phase_name(phase));
}

/* ---- sending ---- */

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

static int
conn_fd(struct eng_client *c, uint32_t conn)
{
	const union net_addr *a = pool_conn_addr(c->pool, conn);

	return a->sa.sa_family == AF_INET6 ? c->fd6 : c->fd4;
}

/* Next DNS id not held by a probe. */
static uint16_t
alloc_dns_id(struct eng_client *c)
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
		if (c->probe_by_id[id] == NULL)
			return id;
	}
	return c->next_dns_id++;
}

/*
 * Encode frame f for connection conn with DNS id and send it. Returns 0 or
 * -1 (encoding failed or the socket refused it).
 */
static int
send_to_conn(struct eng_client *c, const struct wire_frame *f, uint32_t conn,
    uint16_t id)
{
	const union net_addr *a = pool_conn_addr(c->pool, conn);
	char qname[WIRE_QNAME_BUF * 2];
	uint8_t wname[300], msg[600];
	long qn, wn, mn;
	int fd = conn_fd(c, conn);

	if (fd == -1)
		return -1;
	qn = wire_encode_query_name(f, c->cipher, NULL,
	    pool_conn_domain(c->pool, conn), qname, sizeof qname);
	if (qn <= 0)
		return -1;
	wn = dns_name_encode(qname, (size_t)qn, wname, sizeof wname, NULL);
	if (wn <= 0) {
		log_debug("query name too long (%ld chars)", qn);
		return -1;
	}
	mn = dns_query_write(msg, sizeof msg, id, wname, (size_t)wn,
	    DNS_TYPE_TXT, DNS_EDNS_SIZE, NULL);
	if (mn <= 0)
		return -1;
	if (sendto(fd, msg, (size_t)mn, 0, &a->sa, net_addr_len(a)) < 0)
		return -1;
	return 0;
}

/*
 * Send frame f to the connections the pool selects (duplication: the same
 * DNS id to each). Returns the DNS id or -1 when nothing could carry it.
 */
static int
send_frame(struct eng_client *c, const struct wire_frame *f)
{
	uint32_t ids[16];
	uint64_t now = cli_now(c);
	size_t k, i, sent = 0, cap;
	enum pool_frame cls = frame_class(f->type);
	uint16_t id;

	/* The server policy caps duplication (upstream clamps the same). */
	cap = cls == POOL_FRAME_SETUP ? c->cap_setup_dup : c->cap_dup;
	cap = MIN(MAX(cap, 1u), nitems(ids));
	k = pool_select(c->pool, cls, f->stream_id, now, ids, cap);
	if (k == 0) {
		c->force_id = -1;
		return -1;
	}
	id = alloc_dns_id(c);
	for (i = 0; i < k; i++) {
		if (send_to_conn(c, f, ids[i], id) == -1)
			continue;
		pool_on_send(c->pool, ids[i], conn_fd(c, ids[i]), id, now);
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
	c->ring[c->ring_tail++ & CLI_RING_MASK] = id;
	c->last_send = now;
	return id;
}

static void
frame_init(struct eng_client *c, struct wire_frame *f, uint8_t type)
{
	memset(f, 0, sizeof *f);
	f->session_id = c->sid;
	f->cookie = c->cookie;
	f->type = type;
}

static void
send_ping(struct eng_client *c)
{
	struct wire_frame f;
	uint8_t p[WIRE_PING_LEN];

	wire_ping_build(NULL, p, sizeof p);
	frame_init(c, &f, WIRE_PING);
	f.payload = p;
	f.payload_len = sizeof p;
	if (send_frame(c, &f) >= 0)
		c->st.pings++;
}

static int
packable_pred(void *arg, const struct txq_frame *f)
{
	(void)arg;
	return wire_is_packable(f->type, f->len);
}

/* Candidate queues: 0 = stream 0, then the streams in id order. */
static struct txq *
cand(struct eng_client *c, size_t k, struct cli_stream **st)
{
	if (k == 0) {
		*st = NULL;
		return &c->q0;
	}
	*st = c->streams[k - 1];
	return &(*st)->q;
}

static struct txq_frame *
pop_live(struct eng_client *c, struct txq *q, struct cli_stream *st)
{
	struct txq_frame *f;
	uint64_t now = cli_now(c);

	while ((f = txq_pop(q)) != NULL) {
		if (st == NULL)
			return f;
		if (f->type == WIRE_STREAM_DATA ||
		    f->type == WIRE_STREAM_RESEND) {
			if (!arq_in_flight(st->arq, f->seq)) {
				free(f);
				continue;
			}
			arq_note_sent(st->arq, f->seq, now);
		} else
			arq_ctl_note_sent(
			    st->arq, f->type, f->seq, f->frag, now);
		return f;
	}
	return NULL;
}

/* Send the next queued frame (round robin, priority); 0 if none. */
static int
send_next(struct eng_client *c)
{
	size_t total = c->nstreams + 1, i, k, start = 0;
	uint8_t pk[64 * WIRE_PACKED_BLOCK_LEN];
	struct txq_frame *f = NULL, *g;
	struct cli_stream *st = NULL, *st2;
	struct wire_frame w;
	struct wire_block b;
	struct txq *q;
	size_t plen;
	unsigned blocks;

	for (k = 0; k < total; k++) {
		cand(c, k, &st);
		if ((st == NULL ? 0 : st->id) >= c->rr) {
			start = k;
			break;
		}
	}
	for (i = 0; i < total && f == NULL; i++) {
		k = (start + i) % total;
		q = cand(c, k, &st);
		if (q->n > 0)
			f = pop_live(c, q, st);
	}
	if (f == NULL)
		return 0;
	c->rr = (st == NULL ? 0 : st->id) + 1;
	frame_init(c, &w, f->type);
	if (wire_is_packable(f->type, f->len) && c->max_blocks > 1) {
		b.type = f->type;
		b.stream_id = f->stream;
		b.seq = f->seq;
		b.frag_id = f->frag;
		b.frag_total = f->total;
		wire_block_put(&b, pk, WIRE_PACKED_BLOCK_LEN);
		plen = WIRE_PACKED_BLOCK_LEN;
		blocks = 1;
		for (i = 0; i < total && blocks < c->max_blocks; i++) {
			q = cand(c, (k + i) % total, &st2);
			while (blocks < c->max_blocks && q->n > 0 &&
			    (g = txq_pop_if(q, packable_pred, NULL)) != NULL) {
				if (st2 != NULL)
					arq_ctl_note_sent(st2->arq, g->type,
					    g->seq, g->frag, cli_now(c));
				b.type = g->type;
				b.stream_id = g->stream;
				b.seq = g->seq;
				b.frag_id = g->frag;
				b.frag_total = g->total;
				wire_block_put(
				    &b, pk + plen, WIRE_PACKED_BLOCK_LEN);
				plen += WIRE_PACKED_BLOCK_LEN;
				blocks++;
				free(g);
			}
		}
		if (blocks > 1) {
			w.type = WIRE_PACKED_CONTROL_BLOCKS;
			w.payload = pk;
			w.payload_len = plen;
			free(f);
			c->st.packed_sent++;
			send_frame(c, &w);
			return 1;
		}
	}
	w.stream_id = f->stream;
	w.seq = f->seq;
	w.frag_id = f->frag;
	w.frag_total = f->total;
	w.comp = f->comp;
	w.payload = f->data;
	w.payload_len = f->len;
	send_frame(c, &w);
	free(f);
	return 1;
}

static uint64_t
ping_interval(struct eng_client *c, uint64_t now)
{
	uint64_t idle = now - c->last_traffic;
	const struct cfg_client *g = &c->cfg;
	double aggr = MAX(g->ping_aggr_s, c->min_ping_s);

	if (idle < SEC(g->ping_warm_thr_s))
		return SEC(aggr);
	if (idle < SEC(g->ping_cool_thr_s))
		return SEC(g->ping_lazy_s);
	if (idle < SEC(g->ping_cold_thr_s))
		return SEC(g->ping_cool_s);
	return SEC(g->ping_cold_s);
}

/* Fill the pipe: queued frames first, then polls while data flows. */
void
cli_pump(struct eng_client *c)
{
	uint64_t now;

	if (c->st.phase != ENG_CLI_CONNECTED)
		return;
	while (c->inflight < c->cfg.max_inflight && send_next(c))
		;
	now = cli_now(c);
	/* Polls give the server answer slots for data it holds. */
	while (c->inflight < c->cfg.max_inflight && c->want_polls > 0) {
		send_ping(c);
		c->want_polls--;
	}
	c->want_polls = 0;
	if (c->inflight == 0 && now - c->last_send >= ping_interval(c, now))
		send_ping(c);
}

/* ---- receiving ---- */

static void handle_frame(struct eng_client *c, const struct wire_frame *f,
    const uint8_t *payload, size_t plen);

static void
expand_packed(struct eng_client *c, const struct wire_frame *f)
{
	struct wire_block b;
	struct wire_frame g;
	size_t i;

	c->st.packed_recv++;
	for (i = 0;
	     wire_block_get(f->payload, f->payload_len, i, &b) == WIRE_OK;
	     i++) {
		if (b.type == WIRE_PACKED_CONTROL_BLOCKS ||
		    !wire_type_valid(b.type))
			continue;
		memset(&g, 0, sizeof g);
		g.session_id = f->session_id;
		g.cookie = f->cookie;
		g.type = b.type;
		g.stream_id = b.stream_id;
		g.seq = b.seq;
		g.frag_id = b.frag_id;
		g.frag_total = b.frag_total;
		handle_frame(c, &g, NULL, 0);
	}
}

static void session_lost(struct eng_client *c, const char *why);

static void
handle_frame(struct eng_client *c, const struct wire_frame *f,
    const uint8_t *payload, size_t plen)
{
	switch (f->type) {
	case WIRE_PONG:
		c->st.pongs++;
		return;
	case WIRE_ERROR_DROP:
		/* Only for our current session: a late ERROR_DROP answering a
		 * query of the previous session must not kill the new one. */
		if (f->session_id != c->sid)
			return;
		c->st.error_drops++;
		cli_event(c, "error_drop", NULL, "ERROR_DROP from the server");
		session_lost(c, "ERROR_DROP from the server");
		return;
	case WIRE_PACKED_CONTROL_BLOCKS:
		expand_packed(c, f);
		return;
	default:
		break;
	}
	if (f->session_id != c->sid || f->cookie != c->cookie)
		return;
	c->last_traffic = cli_now(c);
	cli_stream_frame(c, f, payload, plen);
}

static void start_init(struct eng_client *c);
static void probe_result(struct cli_probe *pr, int pass);

/* Whether a parsed answer frame passes probe pr's current test. */
static int
probe_pass(struct cli_probe *pr, const struct wire_frame *f)
{
	struct wire_mtu_res r;

	if (pr->stage == 0)
		return f->type == WIRE_MTU_UP_RES &&
		    wire_mtu_up_res_parse(f->payload, f->payload_len, &r) ==
		    WIRE_OK &&
		    r.code == pr->code && r.len == pr->cur;
	return f->type == WIRE_MTU_DOWN_RES && f->payload_len == pr->cur &&
	    wire_mtu_down_res_parse(f->payload, f->payload_len, &r) ==
	    WIRE_OK &&
	    r.code == pr->code && r.len == pr->cur;
}

/* Smoothed answer time, for freeing the slots of unanswered queries. */
static void
note_rtt(struct eng_client *c, uint64_t rtt)
{
	c->dns_srtt = !c->have_srtt ? rtt : (7 * c->dns_srtt + rtt) / 8;
	c->have_srtt = 1;
}

/*
 * One DNS answer from resolver index `resolver` (-1: unknown, e.g. tests
 * and the fuzzer) on local socket fd.
 */
static void
handle_answer(
    struct eng_client *c, long resolver, int fd, const uint8_t *msg, size_t len)
{
	static uint8_t fbuf[65536], ibuf[65536];
	struct dns_answer a;
	struct wire_frame f;
	struct cli_probe *pr;
	const uint8_t *payload;
	size_t plen;
	long dn;
	int mode = c->st.phase == ENG_CLI_CONNECTED ? c->mode : c->cfg.base64;
	int parsed;
	uint16_t id;

	if (len < DNS_HDR_LEN)
		return;
	id = be16_load(msg);
	pr = c->probe_by_id[id];
	if (pr != NULL && resolver >= 0 &&
	    pool_conn(c->pool, pr->conn)->resolver != (uint32_t)resolver)
		pr = NULL; /* someone else's answer with that id */
	if (pr == NULL && resolver >= 0)
		pool_on_answer(c->pool, (uint32_t)resolver, fd, id,
		    msg[3] & 0x0f, cli_now(c), NULL);
	if (pr == NULL && c->sent_at[id] != 0) {
		note_rtt(c, cli_now(c) - c->sent_at[id]);
		c->sent_at[id] = 0;
		c->inflight--;
	} else if (pr != NULL)
		note_rtt(c, cli_now(c) - pr->sent_us); /* same resolvers */
	if (pr != NULL)
		c->st.probes_answered++;
	else
		c->st.answers++;
	parsed =
	    dns_answer_parse(msg, len, mode ? DNS_RESP_BASE64 : DNS_RESP_RAW,
		fbuf, sizeof fbuf, &a, NULL) == DNS_ANS_FRAME &&
	    wire_frame_parse(fbuf, a.frame_len, &f) == WIRE_OK;
	if (pr != NULL) {
		probe_result(pr, parsed && probe_pass(pr, &f));
		return;
	}
	if (!parsed) {
		c->st.bad_answers++;
		return;
	}
	c->st.frames_down++;
	payload = f.payload;
	plen = f.payload_len;
	if (f.comp != 0 && (wire_type_ext(f.type) & WIRE_EXT_COMP)) {
		dn = wire_decompress(
		    f.comp, f.payload, f.payload_len, ibuf, sizeof ibuf, NULL);
		if (dn < 0) {
			c->st.bad_answers++;
			return;
		}
		payload = ibuf;
		plen = (size_t)dn;
		f.payload = payload;
		f.payload_len = plen;
	}
	switch (c->st.phase) {
	case ENG_CLI_HANDSHAKE:
	case ENG_CLI_RECONNECTING:
		cli_handshake_answer(c, &f);
		return;
	case ENG_CLI_CONNECTED:
		if (f.type != WIRE_PONG && f.type != WIRE_ERROR_DROP)
			c->want_polls++;
		handle_frame(c, &f, payload, plen);
		cli_pump(c);
		return;
	default:
		return;
	}
}

void
eng_client_handle_answer(struct eng_client *c, const uint8_t *msg, size_t len)
{
	handle_answer(c, -1, -1, msg, len);
}

static void
on_udp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_client *c = arg;
	static uint8_t buf[65536];
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	long r;
	int budget = 512;

	(void)loop;
	(void)events;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, buf, sizeof buf, 0, &from.sa, &fl);
		if (n < 0)
			break;
		r = pool_resolver_find(c->pool, &from);
		if (r < 0) {
			c->st.bad_answers++; /* not one of our resolvers */
			continue;
		}
		handle_answer(c, r, fd, buf, (size_t)n);
	}
}

/* ---- probes: MTU tests (upstream binarySearchMTU), confirm, recheck ---- */

static void probe_send(struct cli_probe *pr);

static void
probe_unhook(struct cli_probe *pr)
{
	struct eng_client *c = pr->c;

	if (pr->timer != 0)
		ev_timer_cancel(c->loop, pr->timer);
	pr->timer = 0;
	if (pr->dns_id >= 0 && c->probe_by_id[pr->dns_id] == pr)
		c->probe_by_id[pr->dns_id] = NULL;
	pr->dns_id = -1;
}

static void
probe_free(struct cli_probe *pr)
{
	struct eng_client *c = pr->c;

	probe_unhook(pr);
	if (pr->prev != NULL)
		pr->prev->next = pr->next;
	else
		c->probes = pr->next;
	if (pr->next != NULL)
		pr->next->prev = pr->prev;
	c->nprobes--;
	free(pr);
}

static void
on_probe_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct cli_probe *pr = arg;

	(void)loop;
	(void)id;
	pr->timer = 0;
	probe_result(pr, 0);
}

static void
probe_send(struct cli_probe *pr)
{
	struct eng_client *c = pr->c;
	struct wire_frame f;
	uint8_t p[4200];
	long n;
	uint16_t id;
	unsigned tries;

	probe_unhook(pr);
	pr->code = ++c->mtu_code;
	memset(&f, 0, sizeof f);
	f.session_id = 255;
	if (pr->stage == 0) {
		n = wire_mtu_up_req_build(
		    (uint8_t)c->cfg.base64, pr->code, pr->cur, p, sizeof p);
		f.type = WIRE_MTU_UP_REQ;
		f.stream_id = 1;
		f.seq = 1;
		f.frag_id = 0;
		f.frag_total = 1;
	} else {
		n = wire_mtu_down_req_build((uint8_t)c->cfg.base64, pr->code,
		    (uint16_t)pr->cur, MAX(7u, pr->up_mtu), p, sizeof p);
		f.type = WIRE_MTU_DOWN_REQ;
	}
	f.payload = p;
	f.payload_len = n > 0 ? (size_t)n : 0;
	/* An id neither in flight as a query nor held by another probe. */
	for (tries = 0; tries < 65536; tries++) {
		id = c->next_dns_id++;
		if (c->probe_by_id[id] == NULL && c->sent_at[id] == 0)
			break;
	}
	pr->dns_id = id;
	pr->sent_us = cli_now(c);
	c->probe_by_id[id] = pr;
	if (send_to_conn(c, &f, pr->conn, id) == 0)
		c->st.probes_sent++;
	pr->timer = ev_timer_add(c->loop, pr->timeout_us, on_probe_timeout, pr);
}

static void
probe_test(struct cli_probe *pr, unsigned v)
{
	pr->cur = v;
	pr->attempt = 0;
	probe_send(pr);
}

/* Report and free a finished probe. */
static void
probe_finish(
    struct cli_probe *pr, int ok, unsigned up, unsigned down, const char *why)
{
	struct eng_client *c = pr->c;
	struct err e = {""};

	if (pr->kind == CLI_PROBE_SWEEP || pr->kind == CLI_PROBE_SYNCED) {
		if (pool_mtu_result(c->pool, pr->conn, ok, up, down, why,
			cli_now(c), &e) == -1)
			log_debug("pool_mtu_result: %s", e.msg);
	} else if (pool_check_result(c->pool, pr->conn, ok, cli_now(c), &e) ==
	    -1)
		log_debug("pool_check_result: %s", e.msg);
	probe_free(pr);
}

static void
sweep_stage(struct cli_probe *pr, int stage)
{
	struct eng_client *c = pr->c;
	unsigned cap;
	char why[POOL_REASON_MAX];

	pr->stage = stage;
	pr->step = 0;
	pr->best = 0;
	if (stage == 0) {
		cap = (unsigned)wire_max_upload_payload(
		    strlen(pool_conn_domain(c->pool, pr->conn)), c->cfg.method);
		pr->lo = MAX(c->cfg.min_up_mtu, 10u);
		pr->hi = MIN(MIN(c->cfg.max_up_mtu, 512u), cap);
	} else {
		pr->lo = MAX(c->cfg.min_down_mtu, 20u);
		pr->hi = MIN(c->cfg.max_down_mtu, 4096u);
	}
	if (pr->lo > pr->hi) {
		snprintf(why, sizeof why, "%s MTU range empty (%u > %u)",
		    stage ? "download" : "upload", pr->lo, pr->hi);
		probe_finish(pr, 0, 0, 0, why);
		return;
	}
	probe_test(pr, pr->hi);
}

/* Start a probe of kind k on connection conn. */
static void
probe_start(struct eng_client *c, uint32_t conn, enum cli_probe_kind k)
{
	struct cli_probe *pr = xcalloc(1, sizeof *pr);
	unsigned up, down;

	pr->c = c;
	pr->conn = conn;
	pr->kind = k;
	pr->dns_id = -1;
	pr->attempts = MAX(c->cfg.mtu_retries, 1u);
	pr->timeout_us = SEC(c->cfg.mtu_timeout_s);
	pr->next = c->probes;
	if (c->probes != NULL)
		c->probes->prev = pr;
	c->probes = pr;
	c->nprobes++;
	if (k == CLI_PROBE_SWEEP) {
		sweep_stage(pr, 0);
		return;
	}
	pool_synced(c->pool, &up, &down);
	if (k == CLI_PROBE_RECHECK)
		pr->timeout_us = pool_recheck_timeout(c->pool);
	if (k == CLI_PROBE_CONFIRM) {
		pr->attempts = 1;
		pr->timeout_us = MIN(pr->timeout_us, 1000000ULL);
	}
	pr->stage = 0;
	pr->up_mtu = up;
	probe_test(pr, up);
}

static void
sweep_stage_done(struct cli_probe *pr, unsigned best)
{
	if (pr->stage == 0) {
		pr->up_mtu = best;
		sweep_stage(pr, 1);
		return;
	}
	probe_finish(pr, 1, pr->up_mtu, best, NULL);
}

static void
probe_result(struct cli_probe *pr, int pass)
{
	struct eng_client *c = pr->c;
	char why[POOL_REASON_MAX];
	unsigned mid, up, down;

	probe_unhook(pr);
	if (!pass && ++pr->attempt < pr->attempts) {
		probe_send(pr);
		return;
	}
	if (pr->kind != CLI_PROBE_SWEEP) {
		pool_synced(c->pool, &up, &down);
		if (!pass) {
			snprintf(why, sizeof why,
			    "%s MTU probe at the synced %u failed",
			    pr->stage ? "download" : "upload", pr->cur);
			probe_finish(pr, 0, 0, 0, why);
			return;
		}
		if (pr->stage == 0 && pr->kind != CLI_PROBE_CONFIRM) {
			pr->stage = 1;
			probe_test(pr, down);
			return;
		}
		probe_finish(pr, 1, up, down, NULL);
		return;
	}
	switch (pr->step) {
	case 0: /* high end */
		if (pass) {
			sweep_stage_done(pr, pr->cur);
			return;
		}
		pr->step = 1;
		probe_test(pr, pr->lo);
		return;
	case 1: /* low end */
		if (!pass) {
			snprintf(why, sizeof why,
			    "%s MTU test failed at the minimum %u: no valid "
			    "answer",
			    pr->stage ? "download" : "upload", pr->lo);
			probe_finish(pr, 0, 0, 0, why);
			return;
		}
		pr->best = pr->lo;
		pr->l = pr->lo + 1;
		pr->h = pr->hi - 1;
		pr->step = 2;
		break;
	default: /* bisection */
		if (pass) {
			pr->best = pr->cur;
			pr->l = pr->cur + 1;
		} else
			pr->h = pr->cur - 1;
		break;
	}
	if (pr->l > pr->h || pr->h < pr->lo) {
		sweep_stage_done(pr, pr->best);
		return;
	}
	mid = (pr->l + pr->h) / 2;
	probe_test(pr, mid);
}

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
		cli_event(c, pool_event_kind_name(ev.kind), addr, ev.detail);
	}
}

/* Give up: every MTU test failed. The error names the first reasons. */
static void
pool_give_up(struct eng_client *c)
{
	const struct pool_conn *pc = pool_conn(c->pool, 0);
	char addr[NET_ADDR_STRLEN];

	net_addr_format(pool_conn_addr(c->pool, 0), addr, sizeof addr);
	snprintf(c->error, sizeof c->error,
	    "no valid connections: all %zu failed their MTU test "
	    "(e.g. %s: %s)",
	    pool_size(c->pool), addr, pc != NULL ? pc->reason : "");
	set_phase(c, ENG_CLI_FAILED);
	ev_stop(c->loop);
}

/* Pool housekeeping on every tick: tests, the fast start, checks. */
static void
pool_work(struct eng_client *c, uint64_t now)
{
	uint32_t ids[64];
	enum pool_check_kind kinds[64];
	size_t n, i;

	pool_tick(c->pool, now);
	while ((n = pool_mtu_test_next(c->pool, now, ids, nitems(ids))) > 0)
		for (i = 0; i < n; i++)
			probe_start(c, ids[i],
			    c->pool_ready ? CLI_PROBE_SYNCED : CLI_PROBE_SWEEP);
	if (!c->pool_ready && c->st.phase == ENG_CLI_MTU &&
	    pool_ready(c->pool, now, &c->up_mtu, &c->down_mtu)) {
		c->pool_ready = 1;
		c->st.up_mtu = c->up_mtu;
		c->st.down_mtu = c->down_mtu;
		log_info("resolver pool ready: synced MTU %u/%u", c->up_mtu,
		    c->down_mtu);
		start_init(c);
	}
	if (!c->pool_ready && pool_failed(c->pool)) {
		drain_pool_events(c);
		pool_give_up(c);
		return;
	}
	if (c->pool_ready)
		while ((n = pool_check_next(
			    c->pool, now, ids, kinds, nitems(ids))) > 0)
			for (i = 0; i < n; i++)
				probe_start(c, ids[i],
				    kinds[i] == POOL_CHECK_CONFIRM ?
					CLI_PROBE_CONFIRM :
					CLI_PROBE_RECHECK);
	drain_pool_events(c);
}

/* ---- session handshake ---- */

static void on_init_timer(struct ev_loop *, uint64_t, void *);

static void
send_init_copy(struct eng_client *c)
{
	struct wire_frame f;
	uint8_t p[WIRE_SESSION_INIT_LEN];

	wire_session_init_build(&c->init, p, sizeof p);
	memset(&f, 0, sizeof f);
	f.type = WIRE_SESSION_INIT;
	f.payload = p;
	f.payload_len = sizeof p;
	/* Byte-identical copies: same DNS id, as upstream races them. */
	c->force_id = c->init_dns_id;
	send_frame(c, &f);
}

static void
start_init(struct eng_client *c)
{
	int up = c->cfg.up_comp, down = c->cfg.down_comp;

	if (c->st.phase != ENG_CLI_RECONNECTING)
		set_phase(c, ENG_CLI_HANDSHAKE);
	/* Compression is pointless when frames are not larger than the
	 * threshold (upstream disables it then). */
	if (c->up_mtu < 100 || c->up_mtu <= c->cfg.comp_min)
		up = 0;
	if (c->down_mtu < 100 || c->down_mtu <= c->cfg.comp_min)
		down = 0;
	memset(&c->init, 0, sizeof c->init);
	c->init.mode = (uint8_t)c->cfg.base64;
	c->init.comp_pair = wire_comp_pair(up, down);
	c->init.upload_mtu = (uint16_t)c->up_mtu;
	c->init.download_mtu = (uint16_t)c->down_mtu;
	rand_bytes(c->init.verify, 4);
	c->init_dns_id = alloc_dns_id(c);
	c->init_copies = 0;
	c->st.session_inits++;
	send_init_copy(c);
	c->init_copies = 1;
	c->init_timer = ev_timer_add(c->loop, 100000, on_init_timer, c);
}

static void
on_init_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;
	uint64_t backoff;

	(void)loop;
	(void)id;
	c->init_timer = 0;
	if (c->st.phase != ENG_CLI_HANDSHAKE &&
	    c->st.phase != ENG_CLI_RECONNECTING)
		return;
	if (c->init_copies < 3) {
		send_init_copy(c);
		c->init_copies++;
		c->init_timer = ev_timer_add(c->loop,
		    c->init_copies < 3 ? 100000 : SEC(3 * c->cfg.mtu_timeout_s),
		    on_init_timer, c);
		return;
	}
	if (c->init_copies == 3) {
		/* No answer: retry with backoff (1 s base, +1 s after 5). */
		c->init_fails++;
		backoff = SEC(c->cfg.init_retry_base_s);
		if (c->init_fails > 5)
			backoff += SEC(c->init_fails - 5);
		if (backoff > SEC(60))
			backoff = SEC(60);
		log_warn("session init: no answer, retrying");
		c->init_copies = 4;
		c->init_timer =
		    ev_timer_add(c->loop, backoff, on_init_timer, c);
		return;
	}
	start_init(c);
}

void
cli_handshake_answer(struct eng_client *c, const struct wire_frame *f)
{
	struct wire_session_accept a;
	uint8_t v[4];
	const struct wire_policy *p = &a.policy;
	int up, down;

	if (f->type == WIRE_SESSION_BUSY &&
	    wire_session_busy_parse(f->payload, f->payload_len, v) == WIRE_OK &&
	    memcmp(v, c->init.verify, 4) == 0) {
		c->st.busy++;
		cli_event(c, "session_busy", NULL,
		    "server busy (session table full)");
		log_warn("server busy (session table full), retrying later");
		if (c->init_timer != 0)
			ev_timer_cancel(c->loop, c->init_timer);
		c->init_copies = 4;
		c->init_timer = ev_timer_add(
		    c->loop, SEC(c->cfg.init_busy_retry_s), on_init_timer, c);
		return;
	}
	if (f->type != WIRE_SESSION_ACCEPT ||
	    wire_session_accept_parse(f->payload, f->payload_len, &a) !=
		WIRE_OK ||
	    memcmp(a.verify, c->init.verify, 4) != 0 || a.session_id == 0)
		return;
	if (c->init_timer != 0)
		ev_timer_cancel(c->loop, c->init_timer);
	c->init_timer = 0;
	c->init_fails = 0;
	c->sid = a.session_id;
	c->cookie = a.cookie;
	c->mode = c->cfg.base64;
	wire_comp_split(a.comp_pair, &up, &down);
	c->up_comp = up;
	c->down_comp = down;
	c->sess_up_mtu = c->up_mtu;
	c->sess_down_mtu = c->down_mtu;
	c->arqc = c->arqc_cfg;
	c->comp_min = c->cfg.comp_min;
	c->min_ping_s = 0;
	c->max_blocks = (unsigned)wire_max_packed_blocks(
	    c->up_mtu, MAX(c->cfg.max_batch, 1u));
	c->has_policy = a.has_policy;
	c->policy = a.policy;
	c->established_ms = now_wall_ms();
	c->cap_dup = c->cap_setup_dup = 16;
	if (a.has_policy) {
		if (p->max_dup > 0)
			c->cap_dup = p->max_dup;
		if (p->max_setup_dup > 0)
			c->cap_setup_dup = p->max_setup_dup;
		if (p->max_upload_mtu > 0)
			c->sess_up_mtu =
			    MIN(c->sess_up_mtu, (unsigned)p->max_upload_mtu);
		if (p->max_download_mtu > 0)
			c->sess_down_mtu = MIN(
			    c->sess_down_mtu, (unsigned)p->max_download_mtu);
		if (p->max_arq_window > 0)
			c->arqc.window =
			    MIN(c->arqc.window, (unsigned)p->max_arq_window);
		c->arqc.nack_max_gap =
		    MIN(c->arqc.nack_max_gap, (unsigned)p->max_nack_gap);
		c->comp_min = MAX(c->comp_min, (unsigned)p->min_comp_min_size);
		c->arqc.rto_init_us = MAX(c->arqc.rto_init_us,
		    SEC(wire_scaled_seconds(p->min_rto_raw)));
		c->min_ping_s = wire_scaled_seconds(p->min_ping_interval_raw);
		if (p->max_batch > 0)
			c->max_blocks =
			    (unsigned)wire_max_packed_blocks(c->sess_up_mtu,
				MIN(MAX(c->cfg.max_batch, 1u),
				    (unsigned)p->max_batch));
	}
	c->st.session_id = c->sid;
	c->last_traffic = cli_now(c);
	{
		char d[64];

		snprintf(d, sizeof d, "session %u", c->sid);
		cli_event(c,
		    c->st.phase == ENG_CLI_RECONNECTING ? "session_reinit" :
							  "session_init",
		    NULL, d);
	}
	set_phase(c, ENG_CLI_CONNECTED);
	log_info("session %u accepted (cookie fingerprint hidden), MTU %u/%u, "
		 "compression %s/%s",
	    c->sid, c->sess_up_mtu, c->sess_down_mtu,
	    wire_comp_name(c->up_comp), wire_comp_name(c->down_comp));
	cli_streams_session_up(c);
	cli_pump(c);
}

void
eng_client_force_session(struct eng_client *c, uint8_t sid, uint8_t cookie,
    unsigned up_mtu, unsigned down_mtu, int mode)
{
	c->up_mtu = c->sess_up_mtu = up_mtu;
	c->down_mtu = c->sess_down_mtu = down_mtu;
	c->sid = sid;
	c->cookie = cookie;
	c->mode = mode;
	c->arqc = c->arqc_cfg;
	c->comp_min = c->cfg.comp_min;
	c->max_blocks =
	    (unsigned)wire_max_packed_blocks(up_mtu, MAX(c->cfg.max_batch, 1u));
	set_phase(c, ENG_CLI_CONNECTED);
}

/* ERROR_DROP: a new session with the same MTUs, no new scan. */
static void
session_lost(struct eng_client *c, const char *why)
{
	if (c->st.phase != ENG_CLI_CONNECTED)
		return;
	log_warn("session %u lost: %s; re-initialising", c->sid, why);
	cli_streams_session_lost(c);
	txq_clear(&c->q0);
	c->sid = 0;
	c->cookie = 0;
	c->st.session_reinits++;
	set_phase(c, ENG_CLI_RECONNECTING);
	start_init(c);
}

/* ---- timers ---- */

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;
	uint64_t now = cli_now(c), tmo;
	uint16_t qid;

	(void)id;
	tmo = !c->have_srtt ? QUERY_TIMEOUT_MAX_US : 4 * c->dns_srtt;
	if (tmo < QUERY_TIMEOUT_MIN_US)
		tmo = QUERY_TIMEOUT_MIN_US;
	if (tmo > QUERY_TIMEOUT_MAX_US)
		tmo = QUERY_TIMEOUT_MAX_US;
	/* Queries without an answer free their slot after a while. */
	while (c->ring_head != c->ring_tail) {
		qid = c->ring[c->ring_head & CLI_RING_MASK];
		if (c->sent_at[qid] != 0 && now - c->sent_at[qid] < tmo)
			break;
		if (c->sent_at[qid] != 0) {
			c->sent_at[qid] = 0;
			c->inflight--;
			c->st.timeouts++;
		}
		c->ring_head++;
	}
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
	if (c->st.phase == ENG_CLI_CONNECTED) {
		cli_streams_tick(c, now);
		cli_pump(c);
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
		frame_init(c, &f, WIRE_SESSION_CLOSE);
		send_frame(c, &f);
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
	cli_streams_reset_all(c);
	if (c->st.phase != ENG_CLI_CONNECTED) {
		set_phase(c, ENG_CLI_STOPPING);
		ev_stop(c->loop);
		return;
	}
	set_phase(c, ENG_CLI_STOPPING);
	c->close_rounds = 0;
	on_close_timer(c->loop, 0, c);
}

/* ---- lifecycle ---- */

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
	rand_bytes((uint8_t *)&c->next_dns_id, sizeof c->next_dns_id);
	c->next_stream_id = 1;
	rand_bytes((uint8_t *)&c->mtu_code, sizeof c->mtu_code);
	c->mtu_code &= 0xffff; /* upstream: a counter; any start works */
	c->sent_at = xcalloc(65536, sizeof *c->sent_at);
	c->ring = xcalloc(CLI_RING_MASK + 1, sizeof *c->ring);
	c->probe_by_id = xcalloc(65536, sizeof *c->probe_by_id);
	c->cap_dup = c->cap_setup_dup = 16;
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

	if (cli_listen(c, bound, e) == -1)
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
	set_phase(c, ENG_CLI_MTU);
	pool_work(c, cli_now(c));
	return 0;
}

void
eng_client_free(struct eng_client *c)
{
	if (c == NULL)
		return;
	cli_streams_free_all(c);
	if (c->listen_fd != -1) {
		ev_io_del(c->loop, c->listen_fd);
		close(c->listen_fd);
	}
	if (c->fd4 != -1) {
		ev_io_del(c->loop, c->fd4);
		close(c->fd4);
	}
	if (c->fd6 != -1) {
		ev_io_del(c->loop, c->fd6);
		close(c->fd6);
	}
	while (c->probes != NULL)
		probe_free(c->probes);
	if (c->tick_timer)
		ev_timer_cancel(c->loop, c->tick_timer);
	if (c->init_timer)
		ev_timer_cancel(c->loop, c->init_timer);
	if (c->close_timer)
		ev_timer_cancel(c->loop, c->close_timer);
	txq_clear(&c->q0);
	wire_cipher_free(c->cipher);
	pool_free(c->pool);
	free(c->probe_by_id);
	cfg_client_clear(&c->cfg);
	free(c->sent_at);
	free(c->ring);
	free(c->streams);
	free(c);
}
