/* SPDX-License-Identifier: MIT */
/*
 * client-fec.c — the client side of the download FEC (see client-fec.h,
 * docs/fec.md). As the fork's client does: one SESSION_CAPS once the
 * session is up (repeated, up to ECL_FEC_CAPS_TRIES in all, within the
 * wait while unanswered, since a lost query is not an answer), FEC only from a
 * CAPS_ACK that says so, within min(MTU_TEST_TIMEOUT, 2 s); silence or
 * NODATA leave it off and nothing else changes. With FEC on, each stream
 * keeps its last ECL_FEC_RECENT payloads by sequence number; a repair
 * symbol opens (or joins) the decoder of its group, which takes the
 * group's payloads that did arrive, and once it decodes, the packets
 * that never arrived go to the ARQ cut to their lengths, as if they had.
 * Malformed or inconsistent symbol frames are dropped and counted.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "engine/client-fec.h"
#include "engine/client-query.h"
#include "engine/client-stream.h"
#include "proto/raptorq.h"

#define ECL_FEC_RECENT 512 /* payloads kept per stream (by seq) */
#define SEC(x)	       ((uint64_t)((x)*1000000.0))
#define ECL_FEC_GROUPS 16 /* groups being decoded per stream */
/* SESSION_CAPS sent at most this often, evenly within the wait: a lost
 * query or answer is not a refusal (at 10 % loss each way one exchange
 * fails one time in five, at 30 % one in two; eight fail together
 * one time in 400 000 and one in 200). */
#define ECL_FEC_CAPS_TRIES 8

enum { FEC_IDLE = 0, FEC_WAITING, FEC_ON, FEC_OFF };

struct ecl_fec {
	int state;
	struct fec_params want, eff;
	uint64_t deadline, resend_at;
	unsigned sent;
	struct eng_fec_stats st;
};

struct fec_slot {
	uint16_t seq, len;
	uint8_t *p; /* NULL: empty */
};

struct fec_grp {
	int used, done, failed;
	uint16_t start;
	struct fec_sym meta; /* sym pointer not kept */
	struct rq_dec *dec;
	uint64_t have; /* source symbols fed, bit per index */
	uint64_t born;
};

struct ecl_fec_rx {
	struct fec_slot recent[ECL_FEC_RECENT];
	struct fec_grp g[ECL_FEC_GROUPS];
	uint64_t gen;
};

static struct ecl_fec *
fec_of(struct eng_client *c)
{
	if (c->fec == NULL)
		c->fec = xcalloc(1, sizeof *c->fec);
	return c->fec;
}

void
ecl_fec_wanted(const struct cfg_client *cfg, struct fec_params *p)
{
	fec_params_default(p);
	if (cfg->fec_level != NULL && cfg->fec_level[0] != '\0') {
		if (fec_params_level(cfg->fec_level, p, NULL) == -1)
			p->enabled = false;
	} else if (cfg->fec.enabled) {
		/* A profile's fecLevel (VpnDad); upload-only is not ours. */
		p->enabled = cfg->fec.direction != PROF_FEC_UPLOAD;
		p->group = (unsigned)cfg->fec.group;
		p->overhead = (unsigned)cfg->fec.overhead_pct;
		p->flush_ms = (unsigned)cfg->fec.flush_ms;
	} else {
		p->enabled = cfg->fec_enabled &&
		    (cfg->fec_direction == NULL ||
			strcasecmp(cfg->fec_direction, "download") == 0);
		p->group = (unsigned)cfg->fec_group;
		p->overhead = (unsigned)cfg->fec_overhead;
		p->symbol_size = (unsigned)cfg->fec_symbol_size;
		p->flush_ms = (unsigned)cfg->fec_flush_ms;
	}
	fec_params_normalize(p);
}

static void
send_caps(struct eng_client *c, uint64_t now)
{
	struct ecl_fec *fc = c->fec;
	uint8_t b[FEC_CAPS_LEN];
	struct wire_frame f;

	fec_caps_encode(&fc->want, b);
	ecl_frame_init(c, &f, WIRE_SESSION_CAPS);
	f.payload = b;
	f.payload_len = sizeof b;
	ecl_send_frame(c, &f, now);
	fc->sent++;
}

void
ecl_fec_session_up(struct eng_client *c, uint64_t now)
{
	struct ecl_fec *fc = fec_of(c);
	uint64_t wait = SEC(c->cfg.mtu_timeout_s);

	ecl_fec_wanted(&c->cfg, &fc->want);
	fc->state = FEC_IDLE;
	if (!fc->want.enabled)
		return;
	if (wait == 0 || wait > SEC(2))
		wait = SEC(2);
	fc->state = FEC_WAITING;
	fc->deadline = now + wait;
	fc->resend_at = now + wait / ECL_FEC_CAPS_TRIES;
	fc->sent = 0;
	send_caps(c, now);
}

void
ecl_fec_session_lost(struct eng_client *c)
{
	if (c->fec != NULL && c->fec->state != FEC_IDLE)
		c->fec->state = FEC_OFF;
}

void
ecl_fec_caps_ack(struct eng_client *c, const struct wire_frame *f, uint64_t now)
{
	struct ecl_fec *fc = c->fec;
	struct fec_params p;
	struct err e = {""};

	(void)now;
	if (fc == NULL || fc->state != FEC_WAITING)
		return;
	if (fec_caps_decode(f->payload, f->payload_len, &p, &e) == -1 ||
	    !p.enabled) {
		fc->state = FEC_OFF;
		log_debug("FEC off: %s",
		    e.msg[0] != '\0' ? e.msg : "the server declined");
		return;
	}
	fc->eff = p;
	fc->state = FEC_ON;
	fc->st.negotiated++;
	log_info("FEC negotiated for download: group=%u overhead=%u%% "
		 "symbol=%u flush=%ums",
	    p.group, p.overhead, p.symbol_size, p.flush_ms);
}

void
ecl_fec_tick(struct eng_client *c, uint64_t now)
{
	struct ecl_fec *fc = c->fec;

	if (fc == NULL || fc->state != FEC_WAITING)
		return;
	if (now >= fc->deadline) {
		fc->state = FEC_OFF;
		log_debug("FEC off: no SESSION_CAPS_ACK");
		return;
	}
	if (fc->sent < ECL_FEC_CAPS_TRIES && now >= fc->resend_at) {
		send_caps(c, now);
		fc->resend_at = now +
		    (fc->deadline - fc->resend_at) /
			(ECL_FEC_CAPS_TRIES - fc->sent + 1);
	}
}

/* ---- per stream ---- */

static struct ecl_fec_rx *
rx_of(struct ecl_stream *st)
{
	if (st->fec == NULL)
		st->fec = xcalloc(1, sizeof *st->fec);
	return st->fec;
}

static const struct fec_slot *
recent(const struct ecl_fec_rx *rx, uint16_t seq)
{
	const struct fec_slot *sl = &rx->recent[seq % ECL_FEC_RECENT];

	return sl->p != NULL && sl->seq == seq ? sl : NULL;
}

static void
grp_free(struct fec_grp *g)
{
	rq_dec_free(g->dec);
	memset(g, 0, sizeof *g);
}

/* Feed the group every payload of it we hold; 0, or -1 on a length that
 * disagrees with the group's (the group is then malformed). */
static int
grp_feed(struct ecl_fec_rx *rx, struct fec_grp *g)
{
	uint8_t *pad = NULL;
	const struct fec_slot *sl;
	size_t t = g->meta.sym_len;
	unsigned i;

	for (i = 0; i < g->meta.count; i++) {
		if (g->have & (1ull << i))
			continue;
		if ((sl = recent(rx, (uint16_t)(g->start + i))) == NULL)
			continue;
		if (sl->len != g->meta.lens[i]) {
			free(pad);
			return -1;
		}
		if (pad == NULL)
			pad = xmalloc(t);
		memcpy(pad, sl->p, sl->len);
		memset(pad + sl->len, 0, t - sl->len);
		if (rq_dec_add(g->dec, i, pad, t, NULL) >= 0)
			g->have |= 1ull << i;
	}
	free(pad);
	return 0;
}

/* Try the group; on success hand the missing packets to the stream.
 * Returns 1 when it handed any (the stream may be gone then). */
static int
grp_try(struct eng_client *c, struct ecl_stream *st, struct fec_grp *g,
    uint64_t now)
{
	struct ecl_fec *fc = c->fec;
	uint16_t seqs[FEC_MAX_GROUP];
	const uint8_t *ps[FEC_MAX_GROUP];
	size_t lens[FEC_MAX_GROUP];
	unsigned i, n = 0, k = g->meta.count;
	uint8_t *copy[FEC_MAX_GROUP];

	if (g->done)
		return 0;
	if (g->have == (k == 64 ? ~0ull : (1ull << k) - 1)) {
		g->done = 1; /* nothing was lost */
		return 0;
	}
	if (!rq_dec_ready(g->dec))
		return 0;
	if (rq_dec_decode(g->dec) != 1) {
		if (!g->failed)
			fc->st.failed_groups++;
		g->failed = 1;
		return 0;
	}
	if (g->failed)
		fc->st.failed_groups--; /* a later symbol made it */
	g->done = 1;
	fc->st.decoded_groups++;
	for (i = 0; i < k; i++) {
		if (rq_dec_received(g->dec, i))
			continue;
		seqs[n] = (uint16_t)(g->start + i);
		copy[n] = xmalloc(g->meta.lens[i]);
		memcpy(copy[n], rq_dec_source(g->dec, i), g->meta.lens[i]);
		ps[n] = copy[n];
		lens[n] = g->meta.lens[i];
		n++;
	}
	if (n == 0)
		return 0;
	/* The stream may finish while it takes them: touch nothing after. */
	fc->st.recovered_packets +=
	    (uint64_t)ecl_stream_recovered(st, seqs, ps, lens, n, now);
	for (i = 0; i < n; i++)
		free(copy[i]);
	return 1;
}

int
ecl_fec_data(struct eng_client *c, struct ecl_stream *st, uint16_t seq,
    const uint8_t *p, size_t n, uint64_t now)
{
	struct ecl_fec_rx *rx;
	struct fec_slot *sl;
	struct fec_grp *g;
	unsigned i;

	if (c->fec == NULL || c->fec->state != FEC_ON || n == 0 ||
	    n > FEC_MAX_SYMBOL)
		return 0;
	rx = rx_of(st);
	sl = &rx->recent[seq % ECL_FEC_RECENT];
	if (sl->p != NULL && sl->seq == seq)
		return 0; /* a copy of one we hold */
	free(sl->p);
	sl->p = xmalloc(n);
	memcpy(sl->p, p, n);
	sl->len = (uint16_t)n;
	sl->seq = seq;
	for (i = 0; i < ECL_FEC_GROUPS; i++) {
		g = &rx->g[i];
		if (!g->used || g->done ||
		    (uint16_t)(seq - g->start) >= g->meta.count)
			continue;
		if (grp_feed(rx, g) == -1) {
			c->fec->st.malformed++;
			grp_free(g);
			continue;
		}
		return grp_try(c, st, g, now); /* st may be gone */
	}
	return 0;
}

void
ecl_fec_symbol(struct eng_client *c, struct ecl_stream *st,
    const struct wire_frame *f, uint64_t now)
{
	struct ecl_fec *fc = c->fec;
	struct ecl_fec_rx *rx;
	struct fec_grp *g = NULL, *old = NULL;
	struct fec_sym s;
	struct err e = {""};
	unsigned i;

	if (fc == NULL || fc->state != FEC_ON)
		return;
	fc->st.symbols_received++;
	fc->st.overhead_bytes += f->payload_len;
	if (fec_sym_parse(f->payload, f->payload_len, &s, &e) == -1 ||
	    s.count > fc->eff.group) {
		fc->st.malformed++;
		log_debug("FEC symbol dropped: %s",
		    e.msg[0] != '\0' ? e.msg :
				       "group over the negotiated size");
		return;
	}
	rx = rx_of(st);
	for (i = 0; i < ECL_FEC_GROUPS && g == NULL; i++) {
		struct fec_grp *x = &rx->g[i];

		if (x->used && x->start == f->seq)
			g = x;
		else if (old == NULL || (old->used && !x->used) ||
		    (old->used && x->used && x->born < old->born))
			old = x;
	}
	if (g != NULL && !fec_sym_same_group(&g->meta, &s)) {
		fc->st.malformed++;
		log_debug(
		    "FEC symbol dropped: metadata differs from its group");
		return;
	}
	if (g == NULL) {
		/* A new group takes a free entry or the oldest one. */
		g = old;
		if (g->used)
			grp_free(g);
		g->dec = rq_dec_new(s.count, (uint32_t)s.sym_len, &e);
		if (g->dec == NULL) {
			fc->st.malformed++;
			return;
		}
		g->used = 1;
		g->start = f->seq;
		g->meta = s;
		g->meta.sym = NULL;
		g->born = ++rx->gen;
		if (grp_feed(rx, g) == -1) {
			fc->st.malformed++;
			grp_free(g);
			return;
		}
	}
	if (g->done)
		return;
	if (rq_dec_add(g->dec, s.id, s.sym, s.sym_len, &e) == -1) {
		fc->st.malformed++;
		return;
	}
	(void)grp_try(c, st, g, now);
}

uint64_t
ecl_fec_nack_floor_us(const struct eng_client *c)
{
	uint64_t f;

	if (c->fec == NULL || c->fec->state != FEC_ON)
		return 0;
	f = (uint64_t)c->fec->eff.flush_ms * 1000;
	if (c->have_srtt)
		f += 2 * c->dns_srtt + 4 * c->dns_rttvar;
	return MIN(f, ECL_FEC_NACK_FLOOR_MAX);
}

void
ecl_fec_stream_free(struct ecl_stream *st)
{
	struct ecl_fec_rx *rx = st->fec;
	unsigned i;

	if (rx == NULL)
		return;
	for (i = 0; i < ECL_FEC_RECENT; i++)
		free(rx->recent[i].p);
	for (i = 0; i < ECL_FEC_GROUPS; i++)
		rq_dec_free(rx->g[i].dec);
	free(rx);
	st->fec = NULL;
}

json_t *
ecl_fec_status_json(const struct eng_client *c)
{
	const struct ecl_fec *fc = c->fec;
	static const char *const states[] = {"off", "negotiating", "on", "off"};
	json_t *o;

	if (fc == NULL)
		return json_null();
	o = eng_fec_json(fc->state == FEC_ON,
	    fc->state == FEC_ON ? &fc->eff : &fc->want, &fc->st);
	json_object_set_new(o, "wanted", json_boolean(fc->want.enabled));
	json_object_set_new(o, "state", json_string(states[fc->state]));
	return o;
}

void
ecl_fec_metrics(const struct eng_client *c, FILE *f)
{
	static const struct eng_fec_stats zero;

	eng_fec_metrics(f, "mdns_client",
	    c->fec != NULL && c->fec->state == FEC_ON,
	    c->fec != NULL ? &c->fec->st : &zero);
}
