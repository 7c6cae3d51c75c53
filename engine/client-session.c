/* SPDX-License-Identifier: MIT */
/*
 * client-session.c — the client's session after the pool is ready:
 * SESSION_INIT three times 100 ms apart with the same DNS id, then a wait
 * of 3 x MTU_TEST_TIMEOUT and retries with backoff (1 s base, +1 s per
 * failure after 5, at most 60 s; SESSION_INIT_BUSY_RETRY_INTERVAL after
 * BUSY); ACCEPT only with our verify code, its policy clamping MTUs,
 * window, NACK gap, compression threshold, RTO and ping floor; after
 * ERROR_DROP for the current session a new INIT with the same MTUs. The
 * downstream frames of a connected session are dispatched here: PONG,
 * ERROR_DROP, packed control blocks, and stream frames to
 * client-stream.c.
 */
#include <string.h>

#include "common/log.h"
#include "engine/client-dns.h"
#include "engine/client-fec.h"
#include "engine/client-query.h"
#include "engine/client-session.h"
#include "engine/client-stream.h"

#define SEC(x) ((uint64_t)((x)*1000000.0))

void
ecl_event(struct eng_client *c, const char *kind, const char *resolver,
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

const char *
eng_client_phase_shown(const struct eng_client *c)
{
	if (c->st.phase == ENG_CLI_CONNECTED && c->stalled)
		return "stalled";
	return eng_client_phase_name(c->st.phase);
}

int
eng_client_live(const struct eng_client *c)
{
	return c->st.phase == ENG_CLI_CONNECTED && !c->stalled;
}

void
ecl_set_phase(struct eng_client *c, int phase)
{
	if (c->st.phase == phase)
		return;
	c->st.phase = phase;
	c->stalled = 0;
	ecl_event(c, "phase", NULL, eng_client_phase_name(phase));
}

/* ---- liveness ---- */

/*
 * A valid tunnel answer on the session: a frame of ours (it decoded with
 * our key) naming our session. A stalled session is live again.
 */
static void
session_live(struct eng_client *c, uint64_t now)
{
	c->live_us = now ? now : 1;
	c->unanswered_since = 0;
	if (!c->stalled)
		return;
	c->stalled = 0;
	log_info("session %u live again: a valid tunnel answer", c->sid);
	ecl_event(c, "phase", NULL, "connected");
}

void
ecl_session_check_stall(struct eng_client *c, uint64_t now)
{
	char d[160];

	if (c->st.phase != ENG_CLI_CONNECTED || c->stalled ||
	    c->stall_us == 0 || c->unanswered_since == 0 ||
	    now - c->unanswered_since < c->stall_us)
		return;
	c->stalled = 1;
	c->st.stalls++;
	snprintf(d, sizeof d,
	    "session %u: no valid tunnel answer for %.1f s with queries out "
	    "(last valid answer %.1f s ago)",
	    c->sid, (double)(now - c->unanswered_since) / 1e6,
	    c->live_us ? (double)(now - c->live_us) / 1e6 : -1.0);
	log_warn("stalled: %s; polling until the server answers "
		 "(ERROR_DROP re-initialises)",
	    d);
	ecl_event(c, "stalled", NULL, d);
	ecl_event(c, "phase", NULL, "stalled");
}

static void handle_frame(
    struct eng_client *c, const struct wire_frame *f, uint64_t now);

static void
expand_packed(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	struct wire_frame g;
	size_t i;

	c->st.packed_recv++;
	for (i = 0; stream_unpack(f, i, &g) == 0; i++)
		if (g.type != WIRE_PACKED_CONTROL_BLOCKS &&
		    wire_type_valid(g.type))
			handle_frame(c, &g, now);
}

static void session_lost(struct eng_client *c, const char *why, uint64_t now);

static void
handle_frame(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	if (f->session_id == c->sid && f->type != WIRE_ERROR_DROP)
		session_live(c, now);
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
		ecl_event(c, "error_drop", NULL, "ERROR_DROP from the server");
		session_lost(c, "ERROR_DROP from the server", now);
		return;
	case WIRE_PACKED_CONTROL_BLOCKS:
		expand_packed(c, f, now);
		return;
	default:
		break;
	}
	if (f->session_id != c->sid || f->cookie != c->cookie)
		return;
	c->last_traffic = now;
	if (f->type == WIRE_SESSION_CAPS_ACK) {
		ecl_fec_caps_ack(c, f, now);
		return;
	}
	if (f->type == WIRE_DNS_QUERY_RES || f->type == WIRE_DNS_QUERY_REQ_ACK)
		ecl_dns_frame(c, f, now);
	else
		ecl_stream_frame(c, f, now);
}

/* ---- session handshake ---- */

static void on_init_timer(struct ev_loop *, uint64_t, void *);

static void
send_init_copy(struct eng_client *c, uint64_t now)
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
	ecl_send_frame(c, &f, now);
}

void
ecl_session_start(struct eng_client *c, uint64_t now)
{
	int up = c->cfg.up_comp, down = c->cfg.down_comp;

	if (c->st.phase != ENG_CLI_RECONNECTING)
		ecl_set_phase(c, ENG_CLI_HANDSHAKE);
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
	ecl_rand_bytes(c->init.verify, 4);
	c->init_dns_id = ecl_alloc_dns_id(c);
	c->init_copies = 0;
	c->st.session_inits++;
	send_init_copy(c, now);
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
		send_init_copy(c, ev_now_us(loop));
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
	ecl_session_start(c, ev_now_us(loop));
}

static void
handshake_answer(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	struct wire_session_accept a;
	uint8_t v[4];
	const struct wire_policy *p = &a.policy;
	int up, down;

	if (f->type == WIRE_SESSION_BUSY &&
	    wire_session_busy_parse(f->payload, f->payload_len, v) == WIRE_OK &&
	    memcmp(v, c->init.verify, 4) == 0) {
		c->st.busy++;
		ecl_event(c, "session_busy", NULL,
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
		/* Our RTO follows the path down to 50 ms, never below the
		 * floor the server allows its clients. */
		c->arqc.rto_min_us = MAX(c->arqc.rto_min_us,
		    SEC(wire_scaled_seconds(p->min_rto_raw)));
		c->min_ping_s = wire_scaled_seconds(p->min_ping_interval_raw);
		if (p->max_batch > 0)
			c->max_blocks =
			    (unsigned)wire_max_packed_blocks(c->sess_up_mtu,
				MIN(MAX(c->cfg.max_batch, 1u),
				    (unsigned)p->max_batch));
	}
	c->st.session_id = c->sid;
	c->last_traffic = now;
	session_live(c, now);
	{
		char d[64];

		snprintf(d, sizeof d, "session %u", c->sid);
		ecl_event(c,
		    c->st.phase == ENG_CLI_RECONNECTING ? "session_reinit" :
							  "session_init",
		    NULL, d);
	}
	ecl_set_phase(c, ENG_CLI_CONNECTED);
	ecl_dns_session_up(c, now);
	log_info("session %u accepted (cookie fingerprint hidden), MTU %u/%u, "
		 "compression %s/%s",
	    c->sid, c->sess_up_mtu, c->sess_down_mtu,
	    wire_comp_name(c->up_comp), wire_comp_name(c->down_comp));
	ecl_streams_session_up(c, now);
	ecl_fec_session_up(c, now);
	ecl_pump(c, now);
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
	ecl_set_phase(c, ENG_CLI_CONNECTED);
	ecl_dns_session_up(c, ev_now_us(c->loop));
	ecl_fec_session_up(c, ev_now_us(c->loop));
}

/* ERROR_DROP: a new session with the same MTUs, no new scan. */
static void
session_lost(struct eng_client *c, const char *why, uint64_t now)
{
	if (c->st.phase != ENG_CLI_CONNECTED)
		return;
	log_warn("session %u lost: %s; re-initialising", c->sid, why);
	ecl_streams_session_lost(c);
	ecl_fec_session_lost(c);
	txq_clear(&c->q0);
	ecl_dns_session_lost(c);
	c->sid = 0;
	c->cookie = 0;
	c->st.session_reinits++;
	ecl_set_phase(c, ENG_CLI_RECONNECTING);
	ecl_session_start(c, now);
}

int
ecl_session_frame(
    struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	switch (c->st.phase) {
	case ENG_CLI_HANDSHAKE:
	case ENG_CLI_RECONNECTING:
		handshake_answer(c, f, now);
		return 0;
	case ENG_CLI_CONNECTED:
		if ((f->type != WIRE_PONG && f->type != WIRE_ERROR_DROP) ||
		    (f->type == WIRE_PONG && ecl_dns_want_poll(c))) {
			c->want_polls++;
			c->last_busy = now;
		}
		handle_frame(c, f, now);
		return 1;
	default:
		return 0;
	}
}

void
ecl_session_free(struct eng_client *c)
{
	if (c->init_timer)
		ev_timer_cancel(c->loop, c->init_timer);
	c->init_timer = 0;
	txq_clear(&c->q0);
}
