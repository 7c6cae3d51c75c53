/*
 * client.c — the tunnel client engine (see client.h): phases MTU discovery
 * -> session handshake -> connected, the query pump that keeps up to
 * max_inflight DNS queries outstanding (each carries one frame: data,
 * control, a packed block of ACKs, or a PING that only opens an answer
 * slot), and the dispatch of downstream frames to streams.
 *
 * Streams, the SOCKS front end and the data path are in client-stream.c;
 * configuration reading in client-config.c. Not here yet: the resolver
 * pool (one resolver × domain is used, chosen by pick_conn()), packet
 * duplication, the local DNS listener and DNS-over-tunnel, SOCKS UDP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "engine/client-int.h"
#include "engine/dns.h"

#define SEC(x) ((uint64_t)((x)*1000000.0))
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

static void
set_phase(struct eng_client *c, int phase)
{
	c->st.phase = phase;
}

/*
 * The seam for the resolver pool: which resolver × domain carries the next
 * query. One connection for now: the first resolver and the first domain.
 */
static const struct cli_conn *
pick_conn(struct eng_client *c)
{
	return &c->conn;
}

/* ---- sending ---- */

/* Encode frame f into a query and send it; returns the DNS id or -1. */
static int
send_frame(struct eng_client *c, const struct wire_frame *f)
{
	const struct cli_conn *cn = pick_conn(c);
	char qname[WIRE_QNAME_BUF * 2];
	uint8_t wname[300], msg[600];
	long qn, wn, mn;
	uint16_t id;
	ssize_t w;

	qn = wire_encode_query_name(
	    f, c->cipher, NULL, cn->domain, qname, sizeof qname);
	if (qn <= 0)
		return -1;
	wn = dns_name_encode(qname, (size_t)qn, wname, sizeof wname, NULL);
	if (wn <= 0) {
		log_debug("query name too long (%ld chars)", qn);
		return -1;
	}
	id = c->next_dns_id++;
	mn = dns_query_write(msg, sizeof msg, id, wname, (size_t)wn,
	    DNS_TYPE_TXT, DNS_EDNS_SIZE, NULL);
	if (mn <= 0)
		return -1;
	w = send(cn->fd, msg, (size_t)mn, 0);
	if (w < 0)
		return -1;
	c->st.queries_sent++;
	c->st.frames_up++;
	if (c->sent_at[id] == 0)
		c->inflight++;
	c->sent_at[id] = cli_now(c) ? cli_now(c) : 1;
	c->ring[c->ring_tail++ & CLI_RING_MASK] = id;
	c->last_send = cli_now(c);
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
	if (f->type == WIRE_STREAM_DATA || f->type == WIRE_STREAM_RESEND)
		c->st.bytes_up += f->len;
	send_frame(c, &w);
	free(f);
	return 1;
}

static uint64_t
ping_interval(struct eng_client *c, uint64_t now)
{
	uint64_t idle = now - c->last_traffic;
	const struct eng_client_cfg *g = &c->cfg;
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
static void mtu_result(struct eng_client *c, int pass);

void
eng_client_handle_answer(struct eng_client *c, const uint8_t *msg, size_t len)
{
	static uint8_t fbuf[65536], ibuf[65536];
	struct dns_answer a;
	struct wire_frame f;
	const uint8_t *payload;
	size_t plen;
	long dn;
	int mode = c->st.phase == ENG_CLI_CONNECTED ? c->mode : c->cfg.base64;
	uint16_t id;

	if (len < DNS_HDR_LEN)
		return;
	id = be16_load(msg);
	if (c->sent_at[id] != 0) {
		uint64_t rtt = cli_now(c) - c->sent_at[id];

		c->dns_srtt =
		    c->dns_srtt == 0 ? rtt : (7 * c->dns_srtt + rtt) / 8;
		c->sent_at[id] = 0;
		c->inflight--;
	}
	c->st.answers++;
	if (dns_answer_parse(msg, len, mode ? DNS_RESP_BASE64 : DNS_RESP_RAW,
		fbuf, sizeof fbuf, &a, NULL) != DNS_ANS_FRAME ||
	    wire_frame_parse(fbuf, a.frame_len, &f) != WIRE_OK) {
		c->st.bad_answers++;
		if (c->st.phase == ENG_CLI_MTU && id == c->mtu_dns_id)
			mtu_result(c, 0);
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
	case ENG_CLI_MTU:
		if (id != c->mtu_dns_id)
			return;
		if (c->mtu_stage == 0) {
			struct wire_mtu_res r;

			mtu_result(c,
			    f.type == WIRE_MTU_UP_RES &&
				wire_mtu_up_res_parse(payload, plen, &r) ==
				    WIRE_OK &&
				r.code == c->mtu_code && r.len == c->mtu_cur);
		} else {
			struct wire_mtu_res r;

			mtu_result(c,
			    f.type == WIRE_MTU_DOWN_RES && plen == c->mtu_cur &&
				wire_mtu_down_res_parse(payload, plen, &r) ==
				    WIRE_OK &&
				r.code == c->mtu_code && r.len == c->mtu_cur);
		}
		return;
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

static void
on_udp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct eng_client *c = arg;
	static uint8_t buf[65536];
	ssize_t n;
	int budget = 512;

	(void)loop;
	(void)events;
	while (budget-- > 0 && c->conn.fd == fd) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0)
			break;
		eng_client_handle_answer(c, buf, (size_t)n);
	}
}

/* ---- MTU discovery (upstream binarySearchMTU) ---- */

static void mtu_send(struct eng_client *c);

static void
on_mtu_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng_client *c = arg;

	(void)loop;
	(void)id;
	c->mtu_timer = 0;
	mtu_result(c, 0);
}

static void
mtu_send(struct eng_client *c)
{
	struct wire_frame f;
	uint8_t p[4200];
	long n;
	int id;

	c->mtu_code++;
	memset(&f, 0, sizeof f);
	f.session_id = 255;
	if (c->mtu_stage == 0) {
		n = wire_mtu_up_req_build((uint8_t)c->cfg.base64, c->mtu_code,
		    c->mtu_cur, p, sizeof p);
		f.type = WIRE_MTU_UP_REQ;
		f.stream_id = 1;
		f.seq = 1;
		f.frag_id = 0;
		f.frag_total = 1;
	} else {
		n = wire_mtu_down_req_build((uint8_t)c->cfg.base64, c->mtu_code,
		    (uint16_t)c->mtu_cur, MAX(7u, c->up_mtu), p, sizeof p);
		f.type = WIRE_MTU_DOWN_REQ;
	}
	f.payload = p;
	f.payload_len = n > 0 ? (size_t)n : 0;
	id = send_frame(c, &f);
	c->mtu_dns_id = id >= 0 ? id : -1;
	c->mtu_timer =
	    ev_timer_add(c->loop, SEC(c->cfg.mtu_timeout_s), on_mtu_timeout, c);
}

static void
mtu_test(struct eng_client *c, unsigned v)
{
	c->mtu_cur = v;
	c->mtu_attempt = 0;
	mtu_send(c);
}

static void
mtu_stage_start(struct eng_client *c, int stage)
{
	unsigned cap;

	c->mtu_stage = stage;
	c->mtu_step = 0;
	c->mtu_best = 0;
	if (stage == 0) {
		cap = (unsigned)wire_max_upload_payload(
		    strlen(c->conn.domain), c->cfg.method);
		c->mtu_lo = MAX(c->cfg.min_up_mtu, 10u);
		c->mtu_hi = MIN(MIN(c->cfg.max_up_mtu, 512u), cap);
	} else {
		c->mtu_lo = MAX(c->cfg.min_down_mtu, 20u);
		c->mtu_hi = MIN(c->cfg.max_down_mtu, 4096u);
	}
	if (c->mtu_lo > c->mtu_hi) {
		snprintf(c->error, sizeof c->error,
		    "%s MTU range empty "
		    "(%u > %u)",
		    stage ? "download" : "upload", c->mtu_lo, c->mtu_hi);
		set_phase(c, ENG_CLI_FAILED);
		ev_stop(c->loop);
		return;
	}
	mtu_test(c, c->mtu_hi);
}

static void
mtu_stage_done(struct eng_client *c, unsigned best)
{
	if (c->mtu_stage == 0) {
		c->up_mtu = best;
		log_info("upload MTU %u", best);
		mtu_stage_start(c, 1);
		return;
	}
	c->down_mtu = best;
	log_info("download MTU %u", best);
	c->st.up_mtu = c->up_mtu;
	c->st.down_mtu = c->down_mtu;
	start_init(c);
}

static void
mtu_result(struct eng_client *c, int pass)
{
	unsigned mid;

	if (c->mtu_timer != 0)
		ev_timer_cancel(c->loop, c->mtu_timer);
	c->mtu_timer = 0;
	c->mtu_dns_id = -1;
	if (!pass && ++c->mtu_attempt < MAX(c->cfg.mtu_retries, 1u)) {
		mtu_send(c);
		return;
	}
	switch (c->mtu_step) {
	case 0: /* high end */
		if (pass) {
			mtu_stage_done(c, c->mtu_cur);
			return;
		}
		c->mtu_step = 1;
		mtu_test(c, c->mtu_lo);
		return;
	case 1: /* low end */
		if (!pass) {
			snprintf(c->error, sizeof c->error,
			    "%s MTU test failed "
			    "at the minimum %u (resolver or server not "
			    "answering, or wrong key/method)",
			    c->mtu_stage ? "download" : "upload", c->mtu_lo);
			set_phase(c, ENG_CLI_FAILED);
			ev_stop(c->loop);
			return;
		}
		c->mtu_best = c->mtu_lo;
		c->mtu_l = c->mtu_lo + 1;
		c->mtu_h = c->mtu_hi - 1;
		c->mtu_step = 2;
		break;
	default: /* bisection */
		if (pass) {
			c->mtu_best = c->mtu_cur;
			c->mtu_l = c->mtu_cur + 1;
		} else
			c->mtu_h = c->mtu_cur - 1;
		break;
	}
	if (c->mtu_l > c->mtu_h || c->mtu_h < c->mtu_lo) {
		mtu_stage_done(c, c->mtu_best);
		return;
	}
	mid = (c->mtu_l + c->mtu_h) / 2;
	mtu_test(c, mid);
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
	c->next_dns_id = c->init_dns_id;
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
	c->init_dns_id = c->next_dns_id;
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
	if (a.has_policy) {
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
	tmo = c->dns_srtt == 0 ? QUERY_TIMEOUT_MAX_US : 4 * c->dns_srtt;
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
    struct ev_loop *loop, const struct eng_client_cfg *cfg, struct err *e)
{
	struct eng_client *c;

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
	c->cfg = *cfg;
	c->conn.fd = -1;
	c->listen_fd = -1;
	c->conn.addr = cfg->resolvers[0];
	c->conn.domain = xstrdup(cfg->domains[0]);
	c->cfg.key = NULL;
	c->cipher = wire_cipher_new(cfg->method, cfg->key ? cfg->key : "",
	    cfg->key ? strlen(cfg->key) : 0, e);
	if (c->cipher == NULL) {
		free(c->conn.domain);
		free(c);
		return NULL;
	}
	/* Borrowed strings we need later are copied. */
	c->cfg.socks_user = cfg->socks_user ? xstrdup(cfg->socks_user) : NULL;
	c->cfg.socks_pass = cfg->socks_pass ? xstrdup(cfg->socks_pass) : NULL;
	c->cfg.listen_ip = NULL;
	c->cfg.resolvers = NULL;
	for (size_t i = 0; i < ENG_CLI_MAX_DOMAINS; i++)
		c->cfg.domains[i] = NULL;
	if (c->cfg.max_inflight == 0)
		c->cfg.max_inflight = 32;
	arq_config_defaults(&c->arqc_cfg, 1);
	c->arqc_cfg.window = cfg->arq_window;
	c->arqc_cfg.rto_init_us = SEC(cfg->arq_rto_s);
	c->arqc_cfg.rto_max_us = SEC(cfg->arq_max_rto_s);
	c->arqc_cfg.ctl_rto_init_us = SEC(cfg->arq_ctl_rto_s);
	c->arqc_cfg.ctl_rto_max_us = SEC(cfg->arq_ctl_max_rto_s);
	c->arqc_cfg.ctl_max_retries = cfg->arq_max_ctl_retries;
	c->arqc_cfg.max_data_retries = cfg->arq_max_data_retries;
	c->arqc_cfg.data_ttl_us = SEC(cfg->arq_data_ttl_s);
	c->arqc_cfg.ctl_ttl_us = SEC(cfg->arq_ctl_ttl_s);
	c->arqc_cfg.nack_max_gap = cfg->arq_nack_gap;
	c->arqc_cfg.nack_initial_delay_us = SEC(cfg->arq_nack_delay_s);
	c->arqc_cfg.nack_repeat_us = SEC(cfg->arq_nack_repeat_s);
	rand_bytes((uint8_t *)&c->next_dns_id, sizeof c->next_dns_id);
	c->next_stream_id = 1;
	c->mtu_dns_id = -1;
	rand_bytes((uint8_t *)&c->mtu_code, sizeof c->mtu_code);
	c->mtu_code &= 0xffff; /* upstream: a counter; any start works */
	c->sent_at = xcalloc(65536, sizeof *c->sent_at);
	c->ring = xcalloc(CLI_RING_MASK + 1, sizeof *c->ring);
	return c;
}

int
eng_client_start(struct eng_client *c, union net_addr *bound, struct err *e)
{
	union net_addr any;

	if (cli_listen(c, bound, e) == -1)
		return -1;
	memset(&any, 0, sizeof any);
	any.sa.sa_family = c->conn.addr.sa.sa_family;
	if ((c->conn.fd = net_udp_bind(&any, e)) == -1)
		return -1;
	if (connect(c->conn.fd, &c->conn.addr.sa,
		net_addr_len(&c->conn.addr)) == -1) {
		err_set(e, "connect to resolver: %s", strerror(errno));
		return -1;
	}
	{
		int sz = 4 << 20;

		(void)setsockopt(
		    c->conn.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	if (ev_io_add(c->loop, c->conn.fd, EV_READ, on_udp, c, e) == -1)
		return -1;
	c->tick_timer = ev_timer_add(c->loop, TICK_US, on_tick, c);
	set_phase(c, ENG_CLI_MTU);
	mtu_stage_start(c, 0);
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
	if (c->conn.fd != -1) {
		ev_io_del(c->loop, c->conn.fd);
		close(c->conn.fd);
	}
	if (c->tick_timer)
		ev_timer_cancel(c->loop, c->tick_timer);
	if (c->mtu_timer)
		ev_timer_cancel(c->loop, c->mtu_timer);
	if (c->init_timer)
		ev_timer_cancel(c->loop, c->init_timer);
	if (c->close_timer)
		ev_timer_cancel(c->loop, c->close_timer);
	txq_clear(&c->q0);
	wire_cipher_free(c->cipher);
	free(c->conn.domain);
	free(c->cfg.socks_user);
	free(c->cfg.socks_pass);
	free(c->sent_at);
	free(c->ring);
	free(c->streams);
	free(c);
}
