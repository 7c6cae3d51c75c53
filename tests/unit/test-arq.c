/* SPDX-License-Identifier: MIT */
/*
 * test-arq.c — the ARQ (engine/arq.c) driven by a fake clock and a
 * simulated channel: RTO maths, selective ACK, in-order delivery across
 * the 16-bit wrap, the "old" and window rules, NACK timing and the gap
 * rule, the RESEND lane, Karn's rule, control reliability, and whole
 * transfers under loss, reordering and duplication checked byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine/arq.h"
#include "tests/tap.h"

#define MS 1000ULL

/* ---- a recording emitter ---- */

struct frame {
	enum arq_out kind;
	uint8_t type, frag, total, comp;
	uint16_t seq;
	uint8_t *data;
	size_t len;
	uint64_t due; /* delivery time in the channel */
};

struct rec {
	struct frame *f;
	size_t n, cap;
};

static void
rec_emit(void *arg, enum arq_out kind, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, uint8_t comp, const uint8_t *data, size_t len)
{
	struct rec *r = arg;
	struct frame *f;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->f = xreallocarray(r->f, r->cap, sizeof *r->f);
	}
	f = &r->f[r->n++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->type = type;
	f->seq = seq;
	f->frag = frag;
	f->total = total;
	f->comp = comp;
	f->len = len;
	f->data = xmalloc(len ? len : 1);
	if (len)
		memcpy(f->data, data, len);
}

static void
rec_clear(struct rec *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->f[i].data);
	r->n = 0;
}

static size_t
rec_count(const struct rec *r, enum arq_out kind)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->f[i].kind == kind;
	return n;
}

static int
rec_has(const struct rec *r, enum arq_out kind, uint16_t seq)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->f[i].kind == kind && r->f[i].seq == seq)
			return 1;
	return 0;
}

static void
test_config(struct arq_config *c)
{
	arq_config_defaults(c, 1);
	c->window = 300;
	c->rto_init_us = 200 * MS;
	c->rto_max_us = 2000 * MS;
	c->nack_max_gap = 16;
	c->nack_initial_delay_us = 100 * MS;
	c->nack_repeat_us = 500 * MS;
}

/* ---- RTO maths ---- */

static void
test_rtt_maths(void)
{
	struct arq_rtt r = {0};
	uint64_t b;

	b = arq_rtt_update(&r, 100 * MS, 50 * MS, 5000 * MS);
	tap_is_int(r.srtt_us, 100 * MS, "first sample sets SRTT");
	tap_is_int(r.rttvar_us, 50 * MS, "first sample RTTVAR = R/2");
	tap_is_int(b, 300 * MS, "base = SRTT + 4 RTTVAR");
	b = arq_rtt_update(&r, 200 * MS, 50 * MS, 5000 * MS);
	/* rttvar = (3*50 + 100)/4 = 62.5; srtt = (7*100 + 200)/8 = 112.5 */
	tap_is_int(r.rttvar_us, 62500, "RTTVAR gain 1/4");
	tap_is_int(r.srtt_us, 112500, "SRTT gain 1/8");
	tap_is_int(b, 112500 + 4 * 62500, "base after second sample");
	b = arq_rtt_update(&r, 20000 * MS, 50 * MS, 1000 * MS);
	tap_is_int(b, 1000 * MS, "base clamped to max");
	memset(&r, 0, sizeof r);
	b = arq_rtt_update(&r, 1 * MS, 100 * MS, 1000 * MS);
	tap_is_int(r.srtt_us, 100 * MS, "sample clamped to min first");
	tap_is_int(b, 300 * MS, "base from clamped sample");
}

/* ---- send side ---- */

static void
test_send_window(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t b = 'x';
	int n = 0, s;

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	while ((s = arq_send(a, 0, &b, 1, 0)) >= 0)
		n++;
	tap_is_int(n, 240, "send window stops at 0.8 x window");
	tap_is_int(rec_count(&r, ARQ_OUT_DATA), 240, "each send emitted DATA");
	tap_ok(!arq_send_ready(a), "not ready when full");
	tap_ok(arq_on_ack(a, 5, 10 * MS), "ack of in-flight seq handled");
	tap_ok(!arq_on_ack(a, 5, 10 * MS), "second ack ignored");
	tap_ok(arq_send_ready(a), "ready again after an ack");
	tap_is_int(arq_unacked(a), 239, "unacked count");
	tap_ok(!arq_on_ack(a, 4000, 10 * MS), "ack of unknown seq ignored");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

static void
test_rto_backoff(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t b = 'x';
	uint64_t now = 0, want;
	int i;

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	arq_send(a, now, &b, 1, 0);
	rec_clear(&r);
	tap_is_int(arq_frame_rto_us(a, 0), 200 * MS, "initial RTO");
	arq_tick(a, 500 * MS, NULL);
	tap_is_int(r.n, 0, "no retransmit before the frame is dispatched");
	arq_note_sent(a, 0, now);
	arq_tick(a, 199 * MS, NULL);
	tap_is_int(r.n, 0, "no retransmit before RTO");
	now = 200 * MS;
	arq_tick(a, now, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_RESEND), 1,
	    "single due frame retransmitted as RESEND");
	tap_is_int(arq_frame_rto_us(a, 0), 270 * MS, "RTO x1.35");
	want = 270 * MS;
	for (i = 0; i < 12; i++) {
		arq_note_sent(a, 0, now);
		now += arq_frame_rto_us(a, 0);
		arq_tick(a, now, NULL);
		want = (uint64_t)((double)want * 1.35);
		if (want > 2000 * MS)
			want = 2000 * MS;
	}
	tap_is_int(arq_frame_rto_us(a, 0), want, "RTO clamped at max");
	tap_is_int(arq_get_stats(a)->retransmits, 13, "retransmit count");
	/* Karn: the ack of a retransmitted frame gives no sample. */
	arq_note_sent(a, 0, now);
	arq_on_ack(a, 0, now + 1500 * MS);
	tap_is_int(arq_rto_us(a), 200 * MS, "Karn: no sample from retransmit");
	/* A clean frame gives one. */
	arq_send(a, now, &b, 1, 0);
	arq_note_sent(a, 1, now);
	arq_on_ack(a, 1, now + 300 * MS);
	tap_is_int(arq_rto_us(a), 900 * MS, "sample 300 ms -> base 900 ms");
	arq_send(a, now, &b, 1, 0);
	tap_is_int(arq_frame_rto_us(a, 2), 900 * MS,
	    "new frame starts at adaptive base");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

static void
test_resend_lane(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t b = 'x';
	int i;

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	for (i = 0; i < 100; i++) {
		arq_send(a, 0, &b, 1, 0);
		arq_note_sent(a, (uint16_t)i, 0);
	}
	rec_clear(&r);
	tap_ok(arq_on_nack(a, 7, 10 * MS), "NACK queues a RESEND");
	tap_ok(rec_has(&r, ARQ_OUT_RESEND, 7), "RESEND for seq 7");
	tap_ok(!arq_on_nack(a, 7, 400 * MS),
	    "second NACK within interval ignored");
	tap_ok(arq_on_nack(a, 7, 510 * MS), "NACK after the interval resends");
	tap_ok(!arq_on_nack(a, 500, 510 * MS), "NACK for unknown seq ignored");
	/* Many due at once: oldest 10 % of window (30) go RESEND. */
	rec_clear(&r);
	arq_tick(a, 1000 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_RESEND), 30,
	    "front budget of a batch goes to the RESEND lane");
	tap_is_int(
	    rec_count(&r, ARQ_OUT_DATA), 70, "rest retransmitted as DATA");
	tap_ok(rec_has(&r, ARQ_OUT_RESEND, 0) && rec_has(&r, ARQ_OUT_DATA, 99),
	    "oldest get the lane");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

/* ---- receive side ---- */

static void
test_receive_rules(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	const uint8_t *p;
	uint8_t d[3] = {'a', 'b', 'c'};

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	tap_is_int(arq_recv(a, 0, 1, d + 1, 1), ARQ_RX_NEW, "out of order new");
	tap_is_int(arq_rx_peek(a, &p), 0, "nothing deliverable before seq 0");
	tap_is_int(arq_recv(a, 0, 1, d + 1, 1), ARQ_RX_DUP, "duplicate");
	tap_is_int(rec_count(&r, ARQ_OUT_ACK), 2, "duplicate acked again");
	tap_is_int(arq_recv(a, 0, 0, d, 1), ARQ_RX_NEW, "seq 0");
	tap_is_int(arq_rx_peek(a, &p), 1, "seq 0 deliverable");
	tap_ok(p[0] == 'a', "seq 0 data");
	arq_rx_consume(a, 1);
	tap_is_int(arq_rx_peek(a, &p), 1, "seq 1 deliverable next");
	tap_ok(p[0] == 'b', "seq 1 data");
	arq_rx_consume(a, 1);
	tap_is_int(arq_rcv_nxt(a), 2, "rcv_nxt advanced");
	rec_clear(&r);
	tap_is_int(arq_recv(a, 0, 0, d, 1), ARQ_RX_OLD, "seq behind is old");
	tap_ok(rec_has(&r, ARQ_OUT_ACK, 0), "old frame still acked");
	tap_is_int(arq_recv(a, 0, (uint16_t)(2 - 30000), d, 1), ARQ_RX_OLD,
	    "far behind is old");
	rec_clear(&r);
	tap_is_int(arq_recv(a, 0, 2 + 600, d, 1), ARQ_RX_NEW,
	    "edge of receive window (2 x window) accepted");
	tap_is_int(arq_recv(a, 0, 2 + 601, d, 1), ARQ_RX_WINDOW,
	    "beyond receive window dropped");
	tap_ok(!rec_has(&r, ARQ_OUT_ACK, 2 + 601), "dropped frame not acked");
	/* Partial consumption of a frame. */
	arq_recv(a, 0, 2, d, 3);
	tap_is_int(arq_rx_peek(a, &p), 3, "3-byte frame");
	arq_rx_consume(a, 2);
	tap_is_int(arq_rx_peek(a, &p), 1, "1 byte left after partial write");
	tap_ok(p[0] == 'c', "partial offset right");
	arq_rx_consume(a, 1);
	tap_is_int(arq_rcv_nxt(a), 3, "frame done after partial writes");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

static void
test_nack_rules(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t d = 'z';

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	arq_recv(a, 0, 0, &d, 1);
	arq_recv(a, 0, 3, &d, 1);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 0,
	    "no NACK at first sighting (initial delay)");
	rec_clear(&r);
	arq_recv(a, 50 * MS, 4, &d, 1);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 0, "none within initial delay");
	arq_recv(a, 100 * MS, 5, &d, 1);
	tap_ok(rec_has(&r, ARQ_OUT_NACK, 1) && rec_has(&r, ARQ_OUT_NACK, 2),
	    "NACKs for 1 and 2 after the delay");
	tap_ok(!rec_has(&r, ARQ_OUT_NACK, 3) && !rec_has(&r, ARQ_OUT_NACK, 0),
	    "no NACK for present seqs");
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 2, "exactly two NACKs");
	rec_clear(&r);
	arq_recv(a, 300 * MS, 6, &d, 1);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 0, "no repeat within interval");
	arq_recv(a, 600 * MS, 7, &d, 1);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 2, "repeat after interval");
	rec_clear(&r);
	arq_recv(a, 600 * MS, 1, &d, 1);
	arq_recv(a, 1200 * MS, 8, &d, 1);
	tap_ok(!rec_has(&r, ARQ_OUT_NACK, 1), "arrived seq no longer NACKed");
	tap_ok(rec_has(&r, ARQ_OUT_NACK, 2), "still-missing seq NACKed");
	arq_free(a);
	rec_clear(&r);

	/* Gap beyond nack_max_gap: 5 % sample from the front + frontier. */
	c.nack_initial_delay_us = 0;
	a = arq_new(&c, rec_emit, &r);
	arq_recv(a, 0, 0, &d, 1);
	arq_rx_consume(a, 1);
	arq_recv(a, 0, 100, &d, 1);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 2, "wide gap: two NACKs");
	tap_ok(rec_has(&r, ARQ_OUT_NACK, 1), "front sample is rcv_nxt (1)");
	tap_ok(rec_has(&r, ARQ_OUT_NACK, 16), "frontier rcv_nxt + gap - 1");
	rec_clear(&r);
	/* Gap watchdog: silence for the repeat interval re-NACKs the gap. */
	arq_tick(a, 100 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 0, "watchdog waits for quiet");
	arq_tick(a, 600 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 16,
	    "watchdog NACKs every missing seq within the gap");
	arq_free(a);
	rec_clear(&r);

	c.nack_max_gap = 0;
	a = arq_new(&c, rec_emit, &r);
	arq_recv(a, 0, 5, &d, 1);
	arq_recv(a, 1000 * MS, 6, &d, 1);
	arq_tick(a, 5000 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_NACK), 0, "gap 0 disables NACKs");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

static void
test_control(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t t = 0;
	uint64_t now = 0;
	unsigned n = 0;
	enum arq_tick_res tr = ARQ_TICK_OK;

	test_config(&c);
	c.ctl_max_retries = 5;
	a = arq_new(&c, rec_emit, &r);
	tap_is_int(arq_ctl_send(a, 0, 0x30, 0, 0, 0, NULL, 0, 0), 1,
	    "control frame tracked");
	tap_is_int(arq_ctl_send(a, 0, 0x30, 0, 0, 0, NULL, 0, 0), 0,
	    "same key not tracked twice");
	tap_is_int(rec_count(&r, ARQ_OUT_CTL), 1, "emitted once");
	arq_ctl_send(a, 0, 0x1a, 0, 1, 2, (const uint8_t *)"ab", 2, 1);
	tap_is_int(arq_ctl_count(a), 2, "two tracked");
	arq_ctl_note_sent(a, 0x30, 0, 0, 0);
	arq_ctl_note_sent(a, 0x1a, 0, 1, 0);
	rec_clear(&r);
	arq_tick(a, 349 * MS, NULL);
	tap_is_int(r.n, 0, "nothing before 350 ms");
	arq_tick(a, 350 * MS, NULL);
	tap_ok(rec_has(&r, ARQ_OUT_CTL, 0) && r.n == 1 && r.f[0].type == 0x1a &&
		r.f[0].frag == 1 && r.f[0].total == 2 && r.f[0].len == 2,
	    "setup frame resent at 350 ms with its fragment and payload");
	rec_clear(&r);
	arq_tick(a, 499 * MS, NULL);
	tap_is_int(r.n, 0, "normal control frame not before 500 ms");
	arq_tick(a, 500 * MS, NULL);
	tap_ok(
	    r.n == 1 && r.f[0].type == 0x30, "normal frame resent at 500 ms");
	tap_ok(arq_ctl_pending(a, 0x30), "still pending");
	tap_is_int(arq_ctl_ack(a, 0x30, 0, 0, 0, 600 * MS), 1, "ack clears it");
	tap_ok(!arq_ctl_pending(a, 0x30), "no longer pending");
	tap_is_int(arq_ctl_rto_us(a), 500 * MS, "Karn for control frames too");
	tap_is_int(
	    arq_ctl_ack(a, 0x30, 0, 0, 0, 600 * MS), 0, "second ack no-op");
	/* Close-type acks clear every frame of the type. */
	arq_ctl_send(a, 0, 0x18, 0, 0, 0, NULL, 0, 0);
	arq_ctl_send(a, 0, 0x18, 1, 0, 0, NULL, 0, 0);
	tap_is_int(arq_ctl_ack(a, 0x18, 7, 0, 1, 0), 1, "any-seq ack");
	tap_ok(!arq_ctl_pending(a, 0x18), "all RST frames cleared");
	arq_free(a);
	rec_clear(&r);

	/* Expiry after max retries (normal frame: 5). */
	a = arq_new(&c, rec_emit, &r);
	arq_ctl_send(a, 0, 0x14, 0, 0, 0, NULL, 0, 0);
	while (tr == ARQ_TICK_OK && n < 100) {
		arq_ctl_note_sent(a, 0x14, 0, 0, now);
		now += 3000 * MS;
		tr = arq_tick(a, now, &t);
		n++;
	}
	tap_is_int(tr, ARQ_TICK_CTL_EXPIRED, "control frame expires");
	tap_is_int(t, 0x14, "expired type reported");
	tap_is_int(n, 6, "after max retries (5 resends)");
	tap_is_int(arq_ctl_count(a), 0, "expired frame removed");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

static void
test_data_failure(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t b = 1;
	uint64_t now = 0;
	int n = 0;
	enum arq_tick_res tr = ARQ_TICK_OK;

	test_config(&c);
	c.max_data_retries = 3;
	c.data_ttl_us = 10000 * MS;
	a = arq_new(&c, rec_emit, &r);
	arq_send(a, 0, &b, 1, 0);
	while (tr == ARQ_TICK_OK && n < 1000) {
		arq_note_sent(a, 0, now);
		now += 2000 * MS;
		tr = arq_tick(a, now, NULL);
		n++;
	}
	tap_is_int(tr, ARQ_TICK_DATA_FAILED, "data frame fails eventually");
	tap_ok(now >= 10000 * MS, "not before the TTL even past max retries");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

/* ---- whole transfers over a faulty simulated channel ---- */

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

struct sim {
	struct arq *snd, *rcv;
	struct rec to_rcv, to_snd; /* emitted, not yet in channel */
	struct frame *chan_fwd, *chan_back;
	size_t nfwd, nback, capf, capb;
	unsigned loss_pct, dup_pct;
};

static void
chan_put(struct frame **ch, size_t *n, size_t *cap, const struct frame *f,
    uint64_t due)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*ch = xreallocarray(*ch, *cap, sizeof **ch);
	}
	(*ch)[*n] = *f;
	(*ch)[*n].data = xmalloc(f->len ? f->len : 1);
	memcpy((*ch)[*n].data, f->data, f->len);
	(*ch)[*n].due = due;
	(*n)++;
}

/* Move emitted frames into a channel with loss, dup and random delay. */
static void
sim_launch(
    struct sim *s, struct rec *r, struct arq *from, int fwd, uint64_t now)
{
	size_t i;
	int copies;

	for (i = 0; i < r->n; i++) {
		struct frame *f = &r->f[i];

		if (fwd &&
		    (f->kind == ARQ_OUT_DATA || f->kind == ARQ_OUT_RESEND))
			arq_note_sent(from, f->seq, now);
		if (rnd() % 100 < s->loss_pct)
			continue;
		copies = rnd() % 100 < s->dup_pct ? 2 : 1;
		while (copies-- > 0) {
			uint64_t due = now + 20 * MS + (rnd() % 80) * MS;

			if (fwd)
				chan_put(
				    &s->chan_fwd, &s->nfwd, &s->capf, f, due);
			else
				chan_put(
				    &s->chan_back, &s->nback, &s->capb, f, due);
		}
	}
	rec_clear(r);
}

static int
run_transfer(unsigned total, unsigned loss, unsigned dup, uint8_t *out,
    size_t *outlen, uint64_t *elapsed, uint64_t *nacks)
{
	struct arq_config c;
	struct sim s;
	uint8_t chunk[100];
	unsigned sent = 0, i;
	uint64_t now = 0;
	size_t got = 0, k;
	const uint8_t *p;
	size_t n;

	memset(&s, 0, sizeof s);
	s.loss_pct = loss;
	s.dup_pct = dup;
	test_config(&c);
	c.nack_initial_delay_us = 30 * MS;
	s.snd = arq_new(&c, rec_emit, &s.to_rcv);
	s.rcv = arq_new(&c, rec_emit, &s.to_snd);
	while (got < total && now < 3600ULL * 1000 * MS) {
		while (sent < total && arq_send_ready(s.snd)) {
			unsigned len =
			    MIN(total - sent, (unsigned)sizeof chunk);

			for (i = 0; i < len; i++)
				chunk[i] = (uint8_t)((sent + i) * 7 + 3);
			arq_send(s.snd, now, chunk, len, 0);
			sent += len;
		}
		sim_launch(&s, &s.to_rcv, s.snd, 1, now);
		sim_launch(&s, &s.to_snd, s.rcv, 0, now);
		now += 10 * MS;
		/* Deliver due frames. */
		for (k = 0; k < s.nfwd;) {
			struct frame *f = &s.chan_fwd[k];

			if (f->due > now) {
				k++;
				continue;
			}
			arq_recv(s.rcv, now, f->seq, f->data, f->len);
			free(f->data);
			s.chan_fwd[k] = s.chan_fwd[--s.nfwd];
		}
		for (k = 0; k < s.nback;) {
			struct frame *f = &s.chan_back[k];

			if (f->due > now) {
				k++;
				continue;
			}
			if (f->kind == ARQ_OUT_ACK)
				arq_on_ack(s.snd, f->seq, now);
			else if (f->kind == ARQ_OUT_NACK)
				arq_on_nack(s.snd, f->seq, now);
			free(f->data);
			s.chan_back[k] = s.chan_back[--s.nback];
		}
		while ((n = arq_rx_peek(s.rcv, &p)) > 0) {
			if (got + n > total)
				break;
			memcpy(out + got, p, n);
			got += n;
			arq_rx_consume(s.rcv, n);
		}
		arq_tick(s.snd, now, NULL);
		arq_tick(s.rcv, now, NULL);
	}
	*outlen = got;
	*elapsed = now;
	*nacks = arq_get_stats(s.rcv)->nacks_sent;
	for (k = 0; k < s.nfwd; k++)
		free(s.chan_fwd[k].data);
	for (k = 0; k < s.nback; k++)
		free(s.chan_back[k].data);
	free(s.chan_fwd);
	free(s.chan_back);
	rec_clear(&s.to_rcv);
	rec_clear(&s.to_snd);
	free(s.to_rcv.f);
	free(s.to_snd.f);
	tap_diag("transfer %u B loss %u%% dup %u%%: %llu ms simulated, "
		 "%llu retransmits, %llu resends, %llu nacks",
	    total, loss, dup, (unsigned long long)(now / MS),
	    (unsigned long long)arq_get_stats(s.snd)->retransmits,
	    (unsigned long long)arq_get_stats(s.snd)->resends,
	    (unsigned long long)*nacks);
	i = arq_unacked(s.snd);
	arq_free(s.snd);
	arq_free(s.rcv);
	return (int)i;
}

static void
test_transfers(void)
{
	static const struct {
		unsigned total, loss, dup;
	} cases[] = {
	    {50000, 0, 0},
	    {200000, 10, 5},
	    {200000, 30, 10},
	    /* > 65536 frames of 100 bytes: crosses the 16-bit wrap. */
	    {7000000, 3, 3},
	};
	size_t i, got, j;
	uint8_t *out;
	uint64_t el, nacks;
	int bad;

	for (i = 0; i < nitems(cases); i++) {
		out = xmalloc(cases[i].total);
		run_transfer(cases[i].total, cases[i].loss, cases[i].dup, out,
		    &got, &el, &nacks);
		tap_is_int(got, cases[i].total,
		    "transfer %zu: all bytes "
		    "delivered (loss %u%%)",
		    i, cases[i].loss);
		bad = 0;
		for (j = 0; j < got; j++)
			if (out[j] != (uint8_t)(j * 7 + 3))
				bad = 1;
		tap_ok(!bad, "transfer %zu: bytes in order and intact", i);
		if (cases[i].loss > 0)
			tap_ok(
			    nacks > 0, "transfer %zu: loss produced NACKs", i);
		free(out);
	}
}

/* ---- issue 16: the timers under loss ---- */

static void
test_loss_timers(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t b = 'x';

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	tap_is_int(arq_rto_us(a), 200 * MS, "RTO before a sample: the initial");
	arq_send(a, 0, &b, 1, 0);
	arq_note_sent(a, 0, 0);
	arq_on_ack(a, 0, 10 * MS);
	/* 10 ms clamped to the 50 ms floor: srtt 50, rttvar 25 */
	tap_is_int(arq_rto_us(a), 150 * MS,
	    "RTO follows the path below ARQ_INITIAL_RTO (floor 50 ms)");
	arq_free(a);

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	tap_is_int(arq_nack_delay_us(a), 100 * MS,
	    "no path estimate: configured NACK delay");
	tap_is_int(arq_nack_repeat_us(a), 500 * MS,
	    "no path estimate: configured NACK repeat");
	arq_set_path_rtt(a, 10 * MS, 4 * MS);
	tap_is_int(arq_nack_delay_us(a), 8 * MS, "NACK delay 2 x rttvar");
	tap_is_int(
	    arq_nack_repeat_us(a), 26 * MS, "NACK repeat srtt + 4 x rttvar");
	rec_clear(&r);
	arq_recv(a, 0, 1, &b, 1);
	arq_recv(a, 7 * MS, 2, &b, 1);
	tap_ok(!rec_has(&r, ARQ_OUT_NACK, 0), "no NACK before 2 x rttvar");
	arq_recv(a, 9 * MS, 3, &b, 1);
	tap_ok(rec_has(&r, ARQ_OUT_NACK, 0), "NACK once 2 x rttvar passed");
	arq_set_path_rtt(a, 1000 * MS, 1000 * MS);
	tap_ok(arq_nack_delay_us(a) == 100 * MS &&
		arq_nack_repeat_us(a) == 500 * MS,
	    "the configured values are ceilings");
	arq_free(a);

	/* Before the first ACK sample the path's RTT sets the RTO (at
	 * most the initial one), and a frame takes the RTO of the moment
	 * it leaves, not of when it was queued. */
	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	arq_send(a, 0, &b, 1, 0);
	tap_is_int(arq_frame_rto_us(a, 0), 200 * MS,
	    "queued before any estimate: the initial RTO");
	arq_set_path_rtt(a, 20 * MS, 5 * MS);
	tap_is_int(arq_rto_us(a), 50 * MS,
	    "no ACK sample: path srtt + 4 x rttvar (40 ms, floor 50 ms)");
	arq_set_path_rtt(a, 60 * MS, 10 * MS);
	tap_is_int(arq_rto_us(a), 100 * MS, "no ACK sample: 60 + 4 x 10 ms");
	arq_note_sent(a, 0, 1 * MS);
	tap_is_int(arq_frame_rto_us(a, 0), 100 * MS,
	    "first dispatch takes the RTO of the moment it leaves");
	rec_clear(&r);
	arq_tick(a, 101 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_RESEND), 1,
	    "retransmitted after 100 ms, not the initial 200 ms");
	arq_note_sent(a, 0, 101 * MS);
	tap_is_int(arq_frame_rto_us(a, 0), 135 * MS,
	    "a retransmission keeps its backed-off RTO");
	arq_set_path_rtt(a, 500 * MS, 500 * MS);
	tap_is_int(arq_rto_us(a), 200 * MS,
	    "a slow path estimate is capped at the initial RTO");
	arq_send(a, 0, &b, 1, 0);
	arq_note_sent(a, 1, 0);
	arq_on_ack(a, 1, 10 * MS);
	tap_is_int(arq_rto_us(a), 150 * MS, "the first ACK sample takes over");
	arq_free(a);

	test_config(&c);
	c.resend_copies = 2;
	a = arq_new(&c, rec_emit, &r);
	arq_send(a, 0, &b, 1, 0);
	arq_note_sent(a, 0, 0);
	rec_clear(&r);
	arq_on_nack(a, 0, 5 * MS);
	tap_is_int(rec_count(&r, ARQ_OUT_RESEND), 2,
	    "resend_copies 2: a NACK gets two RESENDs");
	tap_is_int(arq_get_stats(a)->resends, 1, "counted as one resend");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

/* What the download FEC uses (docs/fec.md): the NACK floor, the time a
 * frame left, restarting its RTO. */
static void
test_fec_hooks(void)
{
	struct arq_config c;
	struct rec r = {0};
	struct arq *a;
	uint8_t b = 'x';
	uint64_t at = 1;

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	arq_set_path_rtt(a, 10 * MS, 4 * MS);
	arq_set_nack_floor(a, 30 * MS);
	tap_is_int(arq_nack_delay_us(a), 30 * MS,
	    "NACK floor 30 ms over 2 x rttvar (8 ms)");
	arq_recv(a, 0, 1, &b, 1);
	arq_recv(a, 9 * MS, 2, &b, 1);
	tap_ok(!rec_has(&r, ARQ_OUT_NACK, 0), "no NACK before the floor");
	arq_recv(a, 31 * MS, 3, &b, 1);
	tap_ok(rec_has(&r, ARQ_OUT_NACK, 0), "NACK once the floor passed");
	arq_set_nack_floor(a, 0);
	tap_is_int(arq_nack_delay_us(a), 8 * MS, "floor 0: as before");
	arq_free(a);

	test_config(&c);
	a = arq_new(&c, rec_emit, &r);
	arq_send(a, 0, &b, 1, 0);
	tap_ok(arq_sent_at(a, 0, &at) == 0 && at == 0,
	    "sent_at: queued, not left yet");
	arq_note_sent(a, 0, 5 * MS);
	tap_ok(arq_sent_at(a, 0, &at) == 1 && at == 5 * MS,
	    "sent_at: when it left");
	rec_clear(&r);
	arq_restart_rto(a, 0, 150 * MS);
	arq_tick(a, 300 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_RESEND), 0,
	    "restart_rto: no RTO 200 ms after the send, 150 ms after the "
	    "restart");
	arq_tick(a, 350 * MS, NULL);
	tap_is_int(rec_count(&r, ARQ_OUT_RESEND), 1,
	    "restart_rto: RTO 200 ms after the restart");
	arq_on_ack(a, 0, 360 * MS);
	tap_ok(arq_sent_at(a, 0, &at) == 0 && arq_rto_us(a) == 200 * MS,
	    "acked: not in flight; no RTT sample (Karn)");
	arq_send(a, 400 * MS, &b, 1, 0);
	arq_note_sent(a, 1, 400 * MS);
	arq_restart_rto(a, 1, 410 * MS);
	arq_on_ack(a, 1, 420 * MS);
	tap_is_int(arq_rto_us(a), 200 * MS,
	    "restarted frame's ACK gives no RTT sample");
	arq_free(a);
	rec_clear(&r);
	free(r.f);
}

int
main(void)
{
	test_rtt_maths();
	test_send_window();
	test_rto_backoff();
	test_resend_lane();
	test_receive_rules();
	test_nack_rules();
	test_control();
	test_data_failure();
	test_transfers();
	test_loss_timers();
	test_fec_hooks();
	return tap_done();
}
