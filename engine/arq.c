/* SPDX-License-Identifier: MIT */
/*
 * arq.c — the per-stream ARQ of wire-protocol.md 1.12, written from the
 * description and checked against upstream's behaviour (internal/arq).
 *
 * Both directions keep frames in power-of-two rings indexed by seq & mask:
 * the send ring holds at most "window" frames spanning fewer than 2 x
 * window sequence numbers, the peer's receive window when both sides use
 * the same window (arq_send_ready enforces the span, which upstream does
 * not need because it keys a map), the receive ring covers rcv_nxt ..
 * rcv_nxt + 2·window. NACK bookkeeping (first seen, last sent) lives in the
 * receive slots, so it is pruned automatically as rcv_nxt advances.
 * Control frames are few per stream and sit in a small array.
 *
 * Not here: packet types, priorities, queues, stream state (close/RST
 * choreography) — the stream code owns those.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine/arq.h"

#define SETUP_RTO_CAP_US 350000ULL
#define SEQ_OLD		 32768u

struct snd_slot {
	uint8_t *data;
	uint16_t len;
	uint16_t seq;
	uint8_t comp;
	uint8_t used;
	uint8_t dispatched;
	uint8_t sample_ok;
	unsigned retries;
	uint64_t created, last_sent, rto, last_resend;
};

struct rcv_slot {
	uint8_t *data;
	uint16_t len;
	uint16_t seq;
	uint8_t present;
	uint8_t nack_seen; /* nack_first valid */
	uint8_t nack_sent; /* nack_last valid */
	uint64_t nack_first, nack_last;
};

struct ctl_item {
	uint8_t type, frag, total, setup, dispatched, sample_ok;
	uint16_t seq;
	uint8_t *payload;
	size_t len;
	unsigned retries;
	uint64_t created, last_sent, rto;
};

struct arq {
	struct arq_config c;
	arq_emit_cb *emit;
	void *arg;
	unsigned window, limit, rwnd;

	struct snd_slot *snd;
	unsigned snd_mask, snd_count;
	uint16_t snd_una, snd_nxt;

	struct rcv_slot *rcv;
	unsigned rcv_mask, rcv_count;
	uint16_t rcv_nxt;
	size_t rcv_off;	  /* bytes of frame rcv_nxt already consumed */
	size_t rcv_bytes; /* payload bytes held on the receive side */

	struct ctl_item *ctl;
	unsigned nctl, ctl_cap;

	struct arq_rtt rtt, ctl_rtt;
	struct arq_rtt path; /* unclamped ACK samples, for the NACK timers */
	uint64_t ext_srtt, ext_rttvar; /* arq_set_path_rtt, 0 = none */
	uint64_t nack_floor;	       /* arq_set_nack_floor */
	uint64_t last_activity;
	struct arq_stats st;
};

/* Seconds (finite, clamped by the model) as microseconds, truncated
 * like the engine's SEC(). */
static uint64_t
us(double s)
{
	return s > 0 ? (uint64_t)(s * 1000000.0) : 0;
}

void
arq_config_from(struct arq_config *c, const struct cfg_arq *in)
{
	memset(c, 0, sizeof *c);
	c->window = in->window > 0 ? (unsigned)in->window : 0;
	c->rto_init_us = us(in->initial_rto_s);
	c->rto_max_us = us(in->max_rto_s);
	c->rto_min_us = ARQ_RTO_MIN_US;
	c->nack_max_gap = in->nack_max_gap > 0 ? (unsigned)in->nack_max_gap : 0;
	c->nack_initial_delay_us = us(in->nack_initial_delay_s);
	c->nack_repeat_us = us(in->nack_repeat_s);
	c->ctl_rto_init_us = us(in->control_initial_rto_s);
	c->ctl_rto_max_us = us(in->control_max_rto_s);
	c->max_data_retries =
	    in->max_data_retries > 0 ? (unsigned)in->max_data_retries : 0;
	c->data_ttl_us = us(in->data_packet_ttl_s);
	c->ctl_max_retries =
	    in->max_control_retries > 0 ? (unsigned)in->max_control_retries : 0;
	c->ctl_ttl_us = us(in->control_packet_ttl_s);
}

void
arq_config_defaults(struct arq_config *c, int is_client)
{
	if (is_client) {
		struct cfg_client d;

		cfg_client_defaults(&d);
		arq_config_from(c, &d.arq);
		cfg_client_clear(&d);
	} else {
		struct cfg_server d;

		cfg_server_defaults(&d);
		arq_config_from(c, &d.arq);
		cfg_server_clear(&d);
	}
}

static unsigned
pow2_at_least(unsigned n)
{
	unsigned p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint64_t
clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

uint64_t
arq_rtt_update(struct arq_rtt *r, uint64_t sample, uint64_t lo, uint64_t hi)
{
	uint64_t delta;

	sample = clamp_u64(sample, lo, hi);
	if (!r->init) {
		r->srtt_us = sample;
		r->rttvar_us = sample / 2;
		r->init = 1;
	} else {
		delta = r->srtt_us > sample ? r->srtt_us - sample :
					      sample - r->srtt_us;
		r->rttvar_us = (3 * r->rttvar_us + delta) / 4;
		r->srtt_us = (7 * r->srtt_us + sample) / 8;
	}
	r->base_us = clamp_u64(r->srtt_us + 4 * r->rttvar_us, lo, hi);
	return r->base_us;
}

struct arq *
arq_new(const struct arq_config *c, arq_emit_cb *emit, void *arg)
{
	struct arq *a = xcalloc(1, sizeof *a);

	a->c = *c;
	if (a->c.rto_max_us < 50000)
		a->c.rto_max_us = 50000;
	a->c.rto_min_us = clamp_u64(a->c.rto_min_us, 50000, a->c.rto_max_us);
	a->c.rto_init_us =
	    clamp_u64(a->c.rto_init_us, a->c.rto_min_us, a->c.rto_max_us);
	if (a->c.ctl_rto_max_us < 50000)
		a->c.ctl_rto_max_us = 50000;
	a->c.ctl_rto_init_us =
	    clamp_u64(a->c.ctl_rto_init_us, 50000, a->c.ctl_rto_max_us);
	if (a->c.nack_repeat_us < 100000)
		a->c.nack_repeat_us = 100000;
	a->window = MAX(c->window, 300u);
	if (a->window > 16384)
		a->window = 16384;
	a->limit = MAX(a->window * 8 / 10, 50u);
	a->rwnd = 2 * a->window;
	if (a->c.nack_max_gap > a->rwnd)
		a->c.nack_max_gap = a->rwnd;
	a->emit = emit;
	a->arg = arg;
	a->snd_mask = pow2_at_least(2 * a->window) - 1;
	a->rcv_mask = pow2_at_least(a->rwnd + 1) - 1;
	a->rtt.base_us = a->c.rto_init_us;
	a->ctl_rtt.base_us = a->c.ctl_rto_init_us;
	return a;
}

static void
snd_slot_clear(struct snd_slot *s)
{
	free(s->data);
	memset(s, 0, sizeof *s);
}

static void
rcv_slot_clear(struct rcv_slot *r)
{
	free(r->data);
	memset(r, 0, sizeof *r);
}

void
arq_free(struct arq *a)
{
	unsigned i;

	if (a == NULL)
		return;
	if (a->snd != NULL)
		for (i = 0; i <= a->snd_mask; i++)
			free(a->snd[i].data);
	if (a->rcv != NULL)
		for (i = 0; i <= a->rcv_mask; i++)
			free(a->rcv[i].data);
	for (i = 0; i < a->nctl; i++)
		free(a->ctl[i].payload);
	free(a->snd);
	free(a->rcv);
	free(a->ctl);
	free(a);
}

/* ---- send side ---- */

static struct snd_slot *
snd_find(const struct arq *a, uint16_t seq)
{
	struct snd_slot *s;

	if (a->snd == NULL)
		return NULL;
	/* Only seqs in [snd_una, snd_nxt) can be in flight. */
	if ((uint16_t)(seq - a->snd_una) >= (uint16_t)(a->snd_nxt - a->snd_una))
		return NULL;
	s = &a->snd[seq & a->snd_mask];
	return s->used && s->seq == seq ? s : NULL;
}

static int path_rtt(const struct arq *a, uint64_t *srtt, uint64_t *var);

/*
 * Before the first ACK sample the RTO is the path's (srtt + 4 x rttvar
 * of the owner's answer times, or of control ACKs), at most the
 * configured initial RTO: a frame lost among the first window otherwise
 * waited ARQ_INITIAL_RTO (0.5 s at upstream's defaults) while the send
 * span filled behind it (issue 16).
 */
uint64_t
arq_rto_us(const struct arq *a)
{
	uint64_t srtt, var;

	if (!a->rtt.init && path_rtt(a, &srtt, &var))
		return clamp_u64(
		    srtt + 4 * var, a->c.rto_min_us, a->c.rto_init_us);
	return clamp_u64(a->rtt.base_us, a->c.rto_min_us, a->c.rto_max_us);
}

void
arq_set_path_rtt(struct arq *a, uint64_t srtt_us, uint64_t rttvar_us)
{
	a->ext_srtt = srtt_us ? srtt_us : 1;
	a->ext_rttvar = rttvar_us;
}

void
arq_set_nack_floor(struct arq *a, uint64_t floor_us)
{
	a->nack_floor = floor_us;
}

/* The path estimate (srtt, rttvar); 0 when there is none. */
static int
path_rtt(const struct arq *a, uint64_t *srtt, uint64_t *var)
{
	if (a->ext_srtt != 0) {
		*srtt = a->ext_srtt;
		*var = a->ext_rttvar;
		return 1;
	}
	if (a->path.init) {
		*srtt = a->path.srtt_us;
		*var = a->path.rttvar_us;
		return 1;
	}
	return 0;
}

/*
 * The NACK timers follow the measured path below the configured values
 * (issue 16): upstream's 0.1-0.3 s delay and 0.8 s repeat are ceilings
 * here. The delay absorbs reordering, whose spread is the answer times'
 * deviation; a NACK's RESEND is due within srtt + 4 x rttvar.
 */
uint64_t
arq_nack_delay_us(const struct arq *a)
{
	uint64_t srtt, var;

	if (!path_rtt(a, &srtt, &var))
		return MAX(a->c.nack_initial_delay_us, a->nack_floor);
	return MAX(MIN(a->c.nack_initial_delay_us,
		       MAX(2 * var, ARQ_NACK_DELAY_MIN_US)),
	    a->nack_floor);
}

int
arq_path_rtt(const struct arq *a, uint64_t *srtt_us, uint64_t *rttvar_us)
{
	return path_rtt(a, srtt_us, rttvar_us);
}

uint64_t
arq_nack_repeat_us(const struct arq *a)
{
	uint64_t srtt, var;

	if (!path_rtt(a, &srtt, &var))
		return a->c.nack_repeat_us;
	return MIN(
	    a->c.nack_repeat_us, MAX(srtt + 4 * var, ARQ_NACK_REPEAT_MIN_US));
}

uint64_t
arq_ctl_rto_us(const struct arq *a)
{
	return clamp_u64(
	    a->ctl_rtt.base_us, a->c.ctl_rto_init_us, a->c.ctl_rto_max_us);
}

int
arq_send_ready(const struct arq *a)
{
	return a->snd_count < a->limit &&
	    (uint16_t)(a->snd_nxt - a->snd_una) < 2 * a->window;
}

int
arq_send(
    struct arq *a, uint64_t now, const uint8_t *data, size_t len, uint8_t comp)
{
	struct snd_slot *s;
	uint16_t seq;

	if (!arq_send_ready(a) || len > 65535)
		return -1;
	if (a->snd == NULL)
		a->snd = xcalloc(a->snd_mask + 1, sizeof *a->snd);
	seq = a->snd_nxt++;
	s = &a->snd[seq & a->snd_mask];
	s->data = xmalloc(len ? len : 1);
	if (len > 0)
		memcpy(s->data, data, len);
	s->len = (uint16_t)len;
	s->seq = seq;
	s->comp = comp;
	s->used = 1;
	s->sample_ok = 1;
	s->created = now;
	s->rto = arq_rto_us(a);
	a->snd_count++;
	a->st.data_sent++;
	a->emit(a->arg, ARQ_OUT_DATA, 0, seq, 0, 0, comp, s->data, s->len);
	return seq;
}

void
arq_note_sent(struct arq *a, uint16_t seq, uint64_t now)
{
	struct snd_slot *s = snd_find(a, seq);

	if (s != NULL) {
		/* A first send takes the RTO of the moment it leaves, not
		 * of when it was queued: frames queued before the first
		 * ACK sample would otherwise keep the initial RTO. */
		if (s->retries == 0 && !s->dispatched)
			s->rto = arq_rto_us(a);
		s->last_sent = now;
		s->dispatched = 1;
	}
}

/* Advance snd_una past acknowledged slots. */
static void
snd_advance(struct arq *a)
{
	while (a->snd_una != a->snd_nxt) {
		struct snd_slot *s = &a->snd[a->snd_una & a->snd_mask];

		if (s->used && s->seq == a->snd_una)
			break;
		a->snd_una++;
	}
}

int
arq_on_ack(struct arq *a, uint16_t seq, uint64_t now)
{
	struct snd_slot *s = snd_find(a, seq);

	a->last_activity = now;
	if (s == NULL)
		return 0;
	a->st.acks_recv++;
	if (s->sample_ok && s->dispatched && now >= s->last_sent) {
		arq_rtt_update(&a->rtt, now - s->last_sent, a->c.rto_min_us,
		    a->c.rto_max_us);
		arq_rtt_update(
		    &a->path, now - s->last_sent, 0, a->c.rto_max_us);
	}
	snd_slot_clear(s);
	a->snd_count--;
	snd_advance(a);
	return 1;
}

int
arq_on_nack(struct arq *a, uint16_t seq, uint64_t now)
{
	struct snd_slot *s = snd_find(a, seq);

	a->last_activity = now;
	a->st.nacks_recv++;
	if (s == NULL)
		return 0;
	if (s->last_resend != 0 && now - s->last_resend < arq_nack_repeat_us(a))
		return 0;
	/* 0 means "never"; keep a real timestamp distinct from it. */
	s->last_resend = now ? now : 1;
	s->sample_ok = 0;
	a->st.resends++;
	for (unsigned k = 0; k < MAX(a->c.resend_copies, 1u); k++)
		a->emit(a->arg, ARQ_OUT_RESEND, 0, seq, 0, 0, s->comp, s->data,
		    s->len);
	return 1;
}

int
arq_sent_at(const struct arq *a, uint16_t seq, uint64_t *at)
{
	const struct snd_slot *s = snd_find(a, seq);

	*at = 0;
	if (s == NULL || !s->dispatched)
		return 0;
	*at = s->last_sent;
	return 1;
}

void
arq_restart_rto(struct arq *a, uint16_t seq, uint64_t now)
{
	struct snd_slot *s = snd_find(a, seq);

	if (s == NULL || !s->dispatched)
		return;
	s->last_sent = now;
	s->sample_ok = 0;
}

int
arq_in_flight(const struct arq *a, uint16_t seq)
{
	return snd_find(a, seq) != NULL;
}

unsigned
arq_unacked(const struct arq *a)
{
	return a->snd_count;
}

uint16_t
arq_snd_nxt(const struct arq *a)
{
	return a->snd_nxt;
}

void
arq_send_discard(struct arq *a)
{
	unsigned i;

	if (a->snd != NULL)
		for (i = 0; i <= a->snd_mask; i++)
			snd_slot_clear(&a->snd[i]);
	a->snd_count = 0;
	a->snd_una = a->snd_nxt;
}

/* ---- receive side ---- */

static struct rcv_slot *
rcv_slot(struct arq *a, uint16_t seq)
{
	if (a->rcv == NULL)
		a->rcv = xcalloc(a->rcv_mask + 1, sizeof *a->rcv);
	return &a->rcv[seq & a->rcv_mask];
}

/* Whether seq (at or ahead of rcv_nxt, in window) is buffered. */
static int
rcv_has(const struct arq *a, uint16_t seq)
{
	const struct rcv_slot *r;

	if (a->rcv == NULL)
		return 0;
	r = &a->rcv[seq & a->rcv_mask];
	return r->present && r->seq == seq;
}

/* Upstream's shouldSendDataNack: first sighting only starts the clock. */
static int
nack_due(struct arq *a, uint16_t seq, uint64_t now)
{
	struct rcv_slot *r = rcv_slot(a, seq);

	if (r->seq != seq || !r->nack_seen) {
		if (!r->present) {
			r->seq = seq;
		}
		r->nack_seen = 1;
		r->nack_sent = 0;
		r->nack_first = now;
		return arq_nack_delay_us(a) == 0;
	}
	if (now - r->nack_first < arq_nack_delay_us(a))
		return 0;
	if (!r->nack_sent)
		return 1;
	return now - r->nack_last >= arq_nack_repeat_us(a);
}

static void
nack_emit(struct arq *a, uint16_t seq, uint64_t now)
{
	struct rcv_slot *r = rcv_slot(a, seq);

	r->nack_sent = 1;
	r->nack_last = now;
	a->st.nacks_sent++;
	a->emit(a->arg, ARQ_OUT_NACK, 0, seq, 0, 0, 0, NULL, 0);
}

/*
 * The gap rule: a frame arrived at distance diff ahead of rcv_nxt. Within
 * nack_max_gap every missing seq is a candidate; beyond it, a ~5 % sample
 * from the front plus the missing seq nearest the frontier.
 */
static void
nack_gap(struct arq *a, uint16_t seq, uint64_t now)
{
	uint16_t diff = (uint16_t)(seq - a->rcv_nxt), m, frontier;
	unsigned gap = a->c.nack_max_gap, sample, added = 0;
	uint16_t first_sampled[64];
	unsigned nsampled = 0, i;
	int seen;

	if (gap == 0 || diff == 0 || diff >= SEQ_OLD)
		return;
	if (diff <= gap) {
		for (m = a->rcv_nxt; m != seq; m++)
			if (!rcv_has(a, m) && nack_due(a, m, now))
				nack_emit(a, m, now);
		return;
	}
	sample = MAX(1u, (gap + 19) / 20);
	for (m = a->rcv_nxt; m != seq && added < sample; m++) {
		if (rcv_has(a, m))
			continue;
		if (nsampled < nitems(first_sampled))
			first_sampled[nsampled++] = m;
		added++;
		if (nack_due(a, m, now))
			nack_emit(a, m, now);
	}
	frontier = (uint16_t)(a->rcv_nxt + gap - 1);
	for (m = frontier;; m--) {
		if (!rcv_has(a, m)) {
			seen = 0;
			for (i = 0; i < nsampled; i++)
				if (first_sampled[i] == m)
					seen = 1;
			if (!seen && nack_due(a, m, now))
				nack_emit(a, m, now);
			break;
		}
		if (m == a->rcv_nxt)
			break;
	}
}

enum arq_rx
arq_recv(
    struct arq *a, uint64_t now, uint16_t seq, const uint8_t *data, size_t len)
{
	uint16_t diff = (uint16_t)(seq - a->rcv_nxt);
	struct rcv_slot *r;
	int exists;

	a->last_activity = now;
	if (diff >= SEQ_OLD) {
		a->st.rx_old++;
		a->emit(a->arg, ARQ_OUT_ACK, 0, seq, 0, 0, 0, NULL, 0);
		return ARQ_RX_OLD;
	}
	if (diff > a->rwnd || len > 65535) {
		a->st.rx_window_drop++;
		return ARQ_RX_WINDOW;
	}
	exists = rcv_has(a, seq);
	if (!exists && a->rcv_count >= a->rwnd && seq != a->rcv_nxt) {
		a->st.rx_window_drop++;
		return ARQ_RX_WINDOW;
	}
	if (!exists) {
		r = rcv_slot(a, seq);
		/* A new frame also clears this seq's NACK state. */
		rcv_slot_clear(r);
		r->data = xmalloc(len ? len : 1);
		if (len > 0)
			memcpy(r->data, data, len);
		r->len = (uint16_t)len;
		r->seq = seq;
		r->present = 1;
		a->rcv_count++;
		a->rcv_bytes += len;
	} else
		a->st.rx_dup++;
	a->emit(a->arg, ARQ_OUT_ACK, 0, seq, 0, 0, 0, NULL, 0);
	nack_gap(a, seq, now);
	return exists ? ARQ_RX_DUP : ARQ_RX_NEW;
}

size_t
arq_rx_peek(const struct arq *a, const uint8_t **p)
{
	const struct rcv_slot *r;

	if (!rcv_has(a, a->rcv_nxt))
		return 0;
	r = &a->rcv[a->rcv_nxt & a->rcv_mask];
	if (r->len == 0)
		return 0;
	*p = r->data + a->rcv_off;
	return r->len - a->rcv_off;
}

/* Skip over empty frames at rcv_nxt (nothing to write for them). */
static void
rcv_skip_empty(struct arq *a)
{
	struct rcv_slot *r;

	while (rcv_has(a, a->rcv_nxt)) {
		r = &a->rcv[a->rcv_nxt & a->rcv_mask];
		if (r->len != 0)
			break;
		rcv_slot_clear(r);
		a->rcv_count--;
		a->rcv_nxt++;
		a->rcv_off = 0;
	}
}

void
arq_rx_consume(struct arq *a, size_t n)
{
	struct rcv_slot *r;
	size_t left;

	rcv_skip_empty(a);
	while (n > 0 && rcv_has(a, a->rcv_nxt)) {
		r = &a->rcv[a->rcv_nxt & a->rcv_mask];
		left = r->len - a->rcv_off;
		if (n < left) {
			a->rcv_off += n;
			return;
		}
		n -= left;
		a->rcv_bytes -= r->len;
		rcv_slot_clear(r);
		a->rcv_count--;
		a->rcv_nxt++;
		a->rcv_off = 0;
		rcv_skip_empty(a);
	}
}

unsigned
arq_rx_buffered(const struct arq *a)
{
	return a->rcv_count;
}

size_t
arq_rx_bytes(const struct arq *a)
{
	return a->rcv_bytes;
}

uint16_t
arq_rcv_nxt(const struct arq *a)
{
	return a->rcv_nxt;
}

/* ---- control reliability ---- */

static struct ctl_item *
ctl_find(const struct arq *a, uint8_t type, uint16_t seq, uint8_t frag)
{
	unsigned i;

	for (i = 0; i < a->nctl; i++)
		if (a->ctl[i].type == type && a->ctl[i].seq == seq &&
		    a->ctl[i].frag == frag)
			return &a->ctl[i];
	return NULL;
}

static void
ctl_remove(struct arq *a, unsigned i)
{
	free(a->ctl[i].payload);
	a->ctl[i] = a->ctl[--a->nctl];
}

int
arq_ctl_send(struct arq *a, uint64_t now, uint8_t type, uint16_t seq,
    uint8_t frag, uint8_t total, const uint8_t *payload, size_t len, int setup)
{
	struct ctl_item *c;
	uint64_t rto;

	if (ctl_find(a, type, seq, frag) != NULL)
		return 0;
	if (a->nctl == a->ctl_cap) {
		a->ctl_cap = a->ctl_cap ? a->ctl_cap * 2 : 4;
		a->ctl = xreallocarray(a->ctl, a->ctl_cap, sizeof *a->ctl);
	}
	rto = arq_ctl_rto_us(a);
	if (setup && rto > SETUP_RTO_CAP_US)
		rto = SETUP_RTO_CAP_US;
	c = &a->ctl[a->nctl++];
	memset(c, 0, sizeof *c);
	c->type = type;
	c->seq = seq;
	c->frag = frag;
	c->total = total;
	c->setup = setup != 0;
	c->sample_ok = 1;
	c->created = now;
	c->rto = rto;
	c->len = len;
	c->payload = xmalloc(len ? len : 1);
	if (len)
		memcpy(c->payload, payload, len);
	a->emit(
	    a->arg, ARQ_OUT_CTL, type, seq, frag, total, 0, c->payload, c->len);
	return 1;
}

void
arq_ctl_note_sent(
    struct arq *a, uint8_t type, uint16_t seq, uint8_t frag, uint64_t now)
{
	struct ctl_item *c = ctl_find(a, type, seq, frag);

	if (c != NULL) {
		c->last_sent = now;
		c->dispatched = 1;
	}
}

int
arq_ctl_ack(struct arq *a, uint8_t type, uint16_t seq, uint8_t frag,
    int any_seq, uint64_t now)
{
	struct ctl_item *c = ctl_find(a, type, seq, frag);
	int found = 0;
	unsigned i;

	a->last_activity = now;
	if (c != NULL && c->sample_ok && c->dispatched && now >= c->last_sent) {
		arq_rtt_update(&a->ctl_rtt, now - c->last_sent,
		    a->c.ctl_rto_init_us, a->c.ctl_rto_max_us);
		if (!a->rtt.init)
			arq_rtt_update(
			    &a->path, now - c->last_sent, 0, a->c.rto_max_us);
	}
	for (i = 0; i < a->nctl;) {
		c = &a->ctl[i];
		if (c->type == type &&
		    (any_seq || (c->seq == seq && c->frag == frag))) {
			ctl_remove(a, i);
			found = 1;
		} else
			i++;
	}
	return found;
}

int
arq_ctl_pending(const struct arq *a, uint8_t type)
{
	unsigned i;

	for (i = 0; i < a->nctl; i++)
		if (a->ctl[i].type == type)
			return 1;
	return 0;
}

unsigned
arq_ctl_count(const struct arq *a)
{
	return a->nctl;
}

/* ---- timers ---- */

/* Upstream sends the oldest ~10 % (1..64) of a retransmit batch as RESEND,
 * the rest as plain DATA; a single retransmission always goes as RESEND. */
static unsigned
front_budget(const struct arq *a)
{
	unsigned b = a->window / 10;

	return b < 1 ? 1 : b > 64 ? 64 : b;
}

static void
gap_watchdog(struct arq *a, uint64_t now)
{
	uint16_t m;
	unsigned i;

	if (a->c.nack_max_gap == 0 || a->rcv_count == 0 ||
	    rcv_has(a, a->rcv_nxt))
		return;
	if (now - a->last_activity < arq_nack_repeat_us(a))
		return;
	for (i = 0, m = a->rcv_nxt; i < a->c.nack_max_gap; i++, m++)
		if (!rcv_has(a, m) && nack_due(a, m, now))
			nack_emit(a, m, now);
}

static enum arq_tick_res
data_timers(struct arq *a, uint64_t now)
{
	struct snd_slot *s;
	unsigned due = 0, budget, sent = 0;
	uint16_t q;
	uint64_t grown;

	if (a->snd_count == 0)
		return ARQ_TICK_OK;
	for (q = a->snd_una; q != a->snd_nxt; q++) {
		s = &a->snd[q & a->snd_mask];
		if (!s->used || s->seq != q)
			continue;
		if (now - s->created >= a->c.data_ttl_us &&
		    s->retries >= a->c.max_data_retries)
			return ARQ_TICK_DATA_FAILED;
		if (s->dispatched && now - s->last_sent >= s->rto)
			due++;
	}
	/* Oldest first: the frames furthest from snd_nxt get the lane. */
	budget = due == 1 ? 1 : MIN(due, front_budget(a));
	for (q = a->snd_una; q != a->snd_nxt && due > 0; q++) {
		s = &a->snd[q & a->snd_mask];
		if (!s->used || s->seq != q || !s->dispatched ||
		    now - s->last_sent < s->rto)
			continue;
		due--;
		a->emit(a->arg, sent < budget ? ARQ_OUT_RESEND : ARQ_OUT_DATA,
		    0, q, 0, 0, s->comp, s->data, s->len);
		sent++;
		a->st.retransmits++;
		s->last_sent = now;
		s->dispatched = 0;
		s->retries++;
		s->sample_ok = 0;
		grown = (uint64_t)((double)s->rto * 1.35);
		s->rto = clamp_u64(grown, arq_rto_us(a), a->c.rto_max_us);
	}
	return ARQ_TICK_OK;
}

static enum arq_tick_res
ctl_timers(struct arq *a, uint64_t now, uint8_t *expired_type)
{
	struct ctl_item *c;
	unsigned i, maxr;
	uint64_t ttl, floor, grown;
	double growth;

	for (i = 0; i < a->nctl; i++) {
		c = &a->ctl[i];
		maxr = a->c.ctl_max_retries;
		ttl = a->c.ctl_ttl_us;
		if (c->setup) {
			maxr = MAX(maxr, 120u);
			ttl = MAX(ttl, 300ULL * 1000000);
		}
		if (now - c->created >= ttl || c->retries >= maxr) {
			if (expired_type != NULL)
				*expired_type = c->type;
			ctl_remove(a, i);
			return ARQ_TICK_CTL_EXPIRED;
		}
		if (!c->dispatched || now - c->last_sent < c->rto)
			continue;
		a->emit(a->arg, ARQ_OUT_CTL, c->type, c->seq, c->frag, c->total,
		    0, c->payload, c->len);
		a->st.ctl_retransmits++;
		c->last_sent = now;
		c->dispatched = 0;
		c->retries++;
		c->sample_ok = 0;
		floor = arq_ctl_rto_us(a);
		growth = 1.25;
		if (c->setup) {
			growth = 1.15;
			if (floor > SETUP_RTO_CAP_US)
				floor = SETUP_RTO_CAP_US;
		}
		grown = (uint64_t)((double)c->rto * growth);
		c->rto = clamp_u64(grown, floor, a->c.ctl_rto_max_us);
	}
	return ARQ_TICK_OK;
}

enum arq_tick_res
arq_tick(struct arq *a, uint64_t now, uint8_t *expired_type)
{
	enum arq_tick_res r;

	gap_watchdog(a, now);
	if ((r = data_timers(a, now)) != ARQ_TICK_OK)
		return r;
	return ctl_timers(a, now, expired_type);
}

uint64_t
arq_frame_rto_us(const struct arq *a, uint16_t seq)
{
	const struct snd_slot *s = snd_find(a, seq);

	return s != NULL ? s->rto : 0;
}

const struct arq_stats *
arq_get_stats(const struct arq *a)
{
	return &a->st;
}

void
arq_stats_add(struct arq_stats *to, const struct arq_stats *from)
{
	to->data_sent += from->data_sent;
	to->retransmits += from->retransmits;
	to->resends += from->resends;
	to->nacks_sent += from->nacks_sent;
	to->nacks_recv += from->nacks_recv;
	to->acks_recv += from->acks_recv;
	to->ctl_retransmits += from->ctl_retransmits;
	to->rx_dup += from->rx_dup;
	to->rx_old += from->rx_old;
	to->rx_window_drop += from->rx_window_drop;
}
