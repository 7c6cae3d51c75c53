/*
 * scan.c — the staged resolver scan engine (scan.h). One set of
 * non-blocking UDP sockets per address family, a pending table per socket
 * indexed by DNS ID, a binary heap of deadlines, a ready queue drained
 * under the token bucket, and a fixed pool of item slots. Every item runs
 * its own small state machine through the stages; nothing blocks.
 *
 * It does not: parse configuration, print, or talk to the store (the CLI
 * does that through the callbacks). TCP fallback after TC=1 is not tried
 * (shape.tcp_ok stays unknown).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "proto/dns.h"
#include "proto/wire.h"
#include "probe/scan.h"
#include "probe/scan_util.h"

#define NSOCK	    4 /* sockets per family: 4 × 65536 IDs */
#define TICK_US	    2000
#define DONE_BITS   (1u << 22) /* positions admitted past cursor */
#define RTT_SAMPLES 16
#define QBUF	    1100
#define RBUF	    65536

enum it_state {
	IT_FREE = 0,
	IT_ENV_ICPT, /* interception probe */
	IT_ENV_SRV,  /* direct server probe */
	IT_LIVE,
	IT_REACH,
	IT_UP,
	IT_DOWN,
	IT_HS_WAIT, /* waiting for a handshake permit */
	IT_INIT,
	IT_PING,
	IT_CLOSE,
	IT_BURST,
	IT_TCP, /* the first truncated download probe over TCP */
};

enum evk {
	EVK_NONE = 0,
	EVK_TIMEOUT,
	EVK_SENDAT,
	EVK_BURST_END,
};

/* Outcome of one answer for the stage logic. */
enum outcome {
	OUT_PASS = 0, /* step passed: next step */
	OUT_RETRY,    /* attempt failed; retry if tries are left */
	OUT_SIZEFAIL, /* MTU candidate failed for good (TC, cut) */
	OUT_FAIL,     /* item fails with a reason now */
	OUT_IGNORE,   /* not for us: keep waiting */
};

struct item {
	uint64_t pos;
	union net_addr addr;
	unsigned dom;
	int state;
	int tries; /* attempts of the current query */
	int inflight;
	int queued; /* in the ready queue */
	int sock;
	uint16_t id;
	uint8_t q[QBUF];
	size_t qlen, qwire; /* query length, QNAME wire length */
	size_t qchars;	    /* QNAME text length */
	uint64_t sent_us, next_send_us;
	uint32_t gen;
	int evk;
	struct mtu_search ms;
	uint32_t code;
	uint8_t verify[4];
	uint8_t sid, cookie;
	int hs_permit;
	int last_reason;  /* reason of the last failed attempt */
	int last_timeout; /* last attempt of the candidate timed out */
	int64_t rtt[RTT_SAMPLES];
	int nrtt;
	int env_idx;
	uint16_t prev_id[4]; /* earlier attempts of this step */
	int8_t prev_sock[4];
	int tcp_fd;  /* -1 when no TCP check runs (slot_get) */
	int tc_cand; /* first download size answered with TC */
	uint8_t *tcp_buf;
	size_t tcp_len;
	struct scan *owner;
	int b_sent, b_ok, b_out;
	uint64_t b_t0, b_tlast;
	struct res_resolver r;
};

struct heap_ent {
	uint64_t when;
	uint32_t idx;
	uint32_t gen;
};

struct stage_acc {
	uint32_t tested, passed, failed;
	uint64_t t_first, t_last;
};

struct scan {
	struct ev_loop *loop;
	struct scan_opts o;
	struct wire_cipher *cipher;
	uint8_t domwire[SCAN_MAX_DOMAINS][256];
	size_t domwire_len[SCAN_MAX_DOMAINS];
	int fd4[NSOCK], fd6[NSOCK];
	uint32_t *pend4[NSOCK], *pend6[NSOCK]; /* id -> idx + 1 */
	unsigned next_sock;

	/* targets */
	union net_addr *addrs;
	uint64_t naddrs, addrcap;
	uint64_t total;
	struct scan_perm perm;

	/* items */
	struct item *items;
	uint32_t nitems; /* slots */
	uint32_t *freel;
	uint32_t nfree;
	uint32_t *ready; /* ring */
	uint32_t rhead, rlen;
	uint32_t *hswait; /* ring of items waiting for a permit */
	uint32_t hhead, hlen;
	int hs_used;
	struct heap_ent *heap;
	size_t nheap, heapcap;
	uint32_t *amap; /* addr -> idx + 1, open addressing */
	uint32_t amask;

	/* positions */
	uint64_t next_pos, cursor, start_pos;
	uint8_t *donebits;

	struct scan_bucket bucket;
	uint64_t tick_id;
	uint64_t rng;
	uint32_t probe_code;
	int running, stopping, done_called, env_pending, intercepted;
	int server_down;
	void *done_arg;
	uint64_t env_total;
	char env_evidence[RES_EVIDENCE_MAX];

	struct scan_counters c;
	struct stage_acc st[RES_STAGE_COUNT];
	uint8_t rbuf[RBUF];
	uint8_t fbuf[8192];
};

static void pump(struct scan *s);
static void item_next_step(struct scan *s, struct item *it);
static void item_send_ready(struct scan *s, struct item *it);

/* ---- small helpers ------------------------------------------------------ */

static uint64_t
rnd(struct scan *s)
{
	return scan_rand64(&s->rng);
}

static void trace(struct scan *s, struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
trace(struct scan *s, struct item *it, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (s->o.on_trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->o.on_trace(s->o.arg, &it->r, line);
}

/* Append text to the evidence paragraph. */
static void evid(struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
evid(struct item *it, const char *fmt, ...)
{
	size_t n = strlen(it->r.evidence);
	va_list ap;

	if (n + 2 >= sizeof it->r.evidence)
		return;
	if (n > 0) {
		it->r.evidence[n++] = ';';
		it->r.evidence[n++] = ' ';
		it->r.evidence[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(it->r.evidence + n, sizeof it->r.evidence - n, fmt, ap);
	va_end(ap);
}

/* Case-insensitive compare of the question we sent with the answer's. */
static int
question_matches(const struct item *it, const uint8_t *m, size_t n, int *exact)
{
	size_t ql = it->qwire + 4, i;
	uint8_t a, b;

	*exact = 0;
	if (n < 12 + ql || be16_load(m + 4) != 1)
		return 0;
	for (i = 0; i < ql; i++) {
		a = m[12 + i];
		b = it->q[12 + i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		if (a != b)
			return 0;
	}
	*exact = memcmp(m + 12, it->q + 12, ql) == 0;
	return 1;
}

/* Put pre in front of the evidence (env findings mark every result). */
static void
evid_prefix(struct item *it, const char *pre)
{
	size_t l = strlen(it->r.evidence), p = strlen(pre);

	if (l + p + 1 > sizeof it->r.evidence)
		l = sizeof it->r.evidence - p - 1;
	memmove(it->r.evidence + p, it->r.evidence, l);
	memcpy(it->r.evidence, pre, p);
	it->r.evidence[l + p] = '\0';
}

static uint32_t
addr_hash(const union net_addr *a)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *p;
	size_t n, i;

	if (a->sa.sa_family == AF_INET6) {
		p = (const uint8_t *)&a->in6.sin6_addr;
		n = 16;
	} else {
		p = (const uint8_t *)&a->in.sin_addr;
		n = 4;
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	h = (h ^ net_addr_port(a)) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static void
amap_put(struct scan *s, uint32_t idx)
{
	uint32_t i = addr_hash(&s->items[idx].addr) & s->amask;

	while (s->amap[i] != 0)
		i = (i + 1) & s->amask;
	s->amap[i] = idx + 1;
}

/*
 * The item probing address a whose query in flight has the question of
 * the answer m (several items share an address when there are several
 * domains), or NULL.
 */
static struct item *
amap_find(struct scan *s, const union net_addr *a, const uint8_t *m, size_t n)
{
	uint32_t i = addr_hash(a) & s->amask, v;
	struct item *it;
	int exact;

	while ((v = s->amap[i]) != 0) {
		it = &s->items[v - 1];
		if (net_addr_equal(&it->addr, a) && it->inflight &&
		    it->state != IT_BURST && question_matches(it, m, n, &exact))
			return it;
		i = (i + 1) & s->amask;
	}
	return NULL;
}

static void
amap_del(struct scan *s, uint32_t idx)
{
	uint32_t i = addr_hash(&s->items[idx].addr) & s->amask, j, k, v;

	while (s->amap[i] != 0 && s->amap[i] != idx + 1)
		i = (i + 1) & s->amask;
	if (s->amap[i] == 0)
		return;
	s->amap[i] = 0;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	j = i;
	for (;;) {
		j = (j + 1) & s->amask;
		if ((v = s->amap[j]) == 0)
			break;
		k = addr_hash(&s->items[v - 1].addr) & s->amask;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			s->amap[i] = v;
			s->amap[j] = 0;
			i = j;
		}
	}
}

static void
heap_push(struct scan *s, uint64_t when, uint32_t idx, uint32_t gen)
{
	size_t i;

	if (s->nheap == s->heapcap) {
		s->heapcap = s->heapcap ? s->heapcap * 2 : 1024;
		s->heap = xreallocarray(s->heap, s->heapcap, sizeof *s->heap);
	}
	i = s->nheap++;
	while (i > 0 && s->heap[(i - 1) / 2].when > when) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i].when = when;
	s->heap[i].idx = idx;
	s->heap[i].gen = gen;
}

static void
heap_pop(struct scan *s)
{
	struct heap_ent last = s->heap[--s->nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < s->nheap) {
		if (c + 1 < s->nheap && s->heap[c + 1].when < s->heap[c].when)
			c++;
		if (s->heap[c].when >= last.when)
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
}

static uint32_t
item_idx(struct scan *s, struct item *it)
{
	return (uint32_t)(it - s->items);
}

static void
item_event(struct scan *s, struct item *it, int kind, uint64_t when)
{
	it->gen++;
	it->evk = kind;
	if (kind != EVK_NONE)
		heap_push(s, when, item_idx(s, it), it->gen);
}

static const struct scan_try *
stage_try(struct scan *s, int state)
{
	switch (state) {
	case IT_ENV_ICPT:
	case IT_LIVE:
		return &s->o.t_live;
	case IT_ENV_SRV:
	case IT_REACH:
		return &s->o.t_reach;
	case IT_UP:
	case IT_DOWN:
	case IT_TCP:
		return &s->o.t_mtu;
	default:
		return &s->o.t_hs;
	}
}

static enum res_stage
state_stage(int state)
{
	switch (state) {
	case IT_ENV_ICPT:
	case IT_ENV_SRV:
		return RES_STAGE_ENV;
	case IT_LIVE:
		return RES_STAGE_LIVENESS;
	case IT_REACH:
		return RES_STAGE_REACH;
	case IT_UP:
	case IT_DOWN:
	case IT_TCP:
		return RES_STAGE_MTU;
	case IT_HS_WAIT:
	case IT_INIT:
	case IT_PING:
	case IT_CLOSE:
		return RES_STAGE_HANDSHAKE;
	case IT_BURST:
		return RES_STAGE_BURST;
	default:
		return RES_STAGE_NONE;
	}
}

static void
stage_enter(struct scan *s, struct item *it, enum res_stage st, uint64_t now)
{
	struct stage_acc *a = &s->st[st];

	a->tested++;
	if (a->t_first == 0)
		a->t_first = now;
	it->r.stage = st;
}

static void
stage_leave(struct scan *s, enum res_stage st, int passed, uint64_t now)
{
	struct stage_acc *a = &s->st[st];

	if (passed)
		a->passed++;
	else
		a->failed++;
	if (now > a->t_last)
		a->t_last = now;
}

/* Random letters and digits in random case. */
static void
rand_label(struct scan *s, char *out, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			r = rnd(s);
		out[i] = al[(r & 0xff) % 36];
		if ((r & 0x100) && out[i] >= 'a')
			out[i] = (char)(out[i] - 32);
		r >>= 9;
	}
	out[n] = '\0';
}

/* Random-case copy of a domain (0x20 style). */
static void
rand_case(struct scan *s, const char *in, char *out, size_t cap)
{
	uint64_t r = rnd(s);
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < cap; i++) {
		out[i] = in[i];
		if (out[i] >= 'a' && out[i] <= 'z' && (r & 1))
			out[i] = (char)(out[i] - 32);
		r = (r >> 1) | (r << 63);
	}
	out[i] = '\0';
}

/* ---- query building ----------------------------------------------------- */

static int
put_query(struct scan *s, struct item *it, const char *name, uint16_t qtype)
{
	uint8_t qn[DNS_NAME_STRICT_MAX + 1];
	struct err e;
	long n, l;

	if ((n = dns_name_encode(name, strlen(name), qn, sizeof qn, &e)) < 0) {
		evid(it, "cannot encode query name (%s)", e.msg);
		return -1;
	}
	l = dns_query_write(
	    it->q, sizeof it->q, 0, qn, (size_t)n, qtype, DNS_EDNS_SIZE, &e);
	if (l < 0) {
		evid(it, "cannot write query (%s)", e.msg);
		return -1;
	}
	it->qlen = (size_t)l;
	it->qwire = (size_t)n;
	it->qchars = strlen(name);
	(void)s;
	return 0;
}

static int
put_frame_query(struct scan *s, struct item *it, const struct wire_frame *f)
{
	char name[WIRE_QNAME_BUF];
	long n;

	n = wire_encode_query_name(
	    f, s->cipher, NULL, s->o.domains[it->dom], name, sizeof name);
	if (n < 0 || n > WIRE_QNAME_MAX) {
		evid(it, "probe name does not fit (%ld chars)", n);
		return -1;
	}
	return put_query(s, it, name, DNS_TYPE_TXT);
}

static int
build_query(struct scan *s, struct item *it)
{
	uint8_t pl[4200];
	struct wire_frame f;
	char name[300], dom[260], lab[16];
	long n;

	memset(&f, 0, sizeof f);
	switch (it->state) {
	case IT_ENV_ICPT:
	case IT_LIVE:
		/* A neutral name: the root's NS unless told otherwise. */
		if (s->o.liveness_name == NULL ||
		    strcmp(s->o.liveness_name, ".") == 0)
			return put_query(s, it, ".", 2);
		rand_case(s, s->o.liveness_name, name, sizeof name);
		return put_query(s, it, name, DNS_TYPE_A);
	case IT_ENV_SRV:
	case IT_REACH:
		/* 12 characters: length 1 mod 11 is never valid base36. */
		rand_label(s, lab, 12);
		rand_case(s, s->o.domains[it->dom], dom, sizeof dom);
		snprintf(name, sizeof name, "%s.%s", lab, dom);
		return put_query(s, it, name, DNS_TYPE_TXT);
	case IT_UP:
		it->code = ++s->probe_code;
		n = wire_mtu_up_req_build((uint8_t)s->o.response_mode, it->code,
		    (size_t)mtu_search_next(&it->ms), pl, sizeof pl);
		if (n < 0)
			return -1;
		f.session_id = 255;
		f.type = WIRE_MTU_UP_REQ;
		f.stream_id = 1;
		f.seq = 1;
		f.frag_total = 1;
		f.payload = pl;
		f.payload_len = (size_t)n;
		return put_frame_query(s, it, &f);
	case IT_DOWN:
	case IT_TCP:
		it->code = ++s->probe_code;
		n = wire_mtu_down_req_build((uint8_t)s->o.response_mode,
		    it->code,
		    (uint16_t)(it->state == IT_TCP ? it->tc_cand :
						     mtu_search_next(&it->ms)),
		    (size_t)MAX(7, it->r.upload_mtu), pl, sizeof pl);
		if (n < 0)
			return -1;
		f.session_id = 255;
		f.type = WIRE_MTU_DOWN_REQ;
		f.payload = pl;
		f.payload_len = (size_t)n;
		return put_frame_query(s, it, &f);
	case IT_INIT: {
		struct wire_session_init in;

		memset(&in, 0, sizeof in);
		in.mode = (uint8_t)s->o.response_mode;
		in.comp_pair = 0;
		in.upload_mtu = (uint16_t)MAX(it->r.upload_mtu, 0);
		in.download_mtu = (uint16_t)MAX(it->r.download_mtu, 0);
		memcpy(in.verify, it->verify, 4);
		n = wire_session_init_build(&in, pl, sizeof pl);
		if (n < 0)
			return -1;
		f.type = WIRE_SESSION_INIT;
		f.payload = pl;
		f.payload_len = (size_t)n;
		return put_frame_query(s, it, &f);
	}
	case IT_PING:
		n = wire_ping_build(NULL, pl, sizeof pl);
		f.session_id = it->sid;
		f.cookie = it->cookie;
		f.type = WIRE_PING;
		f.payload = pl;
		f.payload_len = (size_t)n;
		return put_frame_query(s, it, &f);
	case IT_CLOSE:
		f.session_id = it->sid;
		f.cookie = it->cookie;
		f.type = WIRE_SESSION_CLOSE;
		return put_frame_query(s, it, &f);
	case IT_BURST:
		rand_label(s, lab, 12);
		snprintf(
		    name, sizeof name, "%s.%s", lab, s->o.domains[it->dom]);
		return put_query(s, it, name, DNS_TYPE_TXT);
	}
	return -1;
}

/* ---- sockets ------------------------------------------------------------ */

static int
open_socks(struct scan *s, int family, struct err *e)
{
	union net_addr b;
	int *fds = family == AF_INET6 ? s->fd6 : s->fd4;
	uint32_t **pend = family == AF_INET6 ? s->pend6 : s->pend4;
	int i, sz = 4 << 20;

	if (fds[0] >= 0)
		return 0;
	if (net_addr_parse(family == AF_INET6 ? "[::]" : "0.0.0.0", 0, &b, e) ==
	    -1)
		return -1;
	for (i = 0; i < NSOCK; i++) {
		if ((fds[i] = net_udp_bind(&b, e)) == -1)
			return -1;
		(void)setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		(void)setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		pend[i] = xcalloc(65536, sizeof *pend[i]);
	}
	return 0;
}

static void on_read(struct ev_loop *loop, int fd, int events, void *arg);

static int
watch_socks(struct scan *s, int family, struct err *e)
{
	int *fds = family == AF_INET6 ? s->fd6 : s->fd4;
	int i;

	for (i = 0; i < NSOCK; i++)
		if (fds[i] >= 0 &&
		    ev_io_add(s->loop, fds[i], EV_READ, on_read, s, e) == -1)
			return -1;
	return 0;
}

static void
release_pending(struct scan *s, struct item *it)
{
	uint32_t **pend =
	    it->addr.sa.sa_family == AF_INET6 ? s->pend6 : s->pend4;

	if (!it->inflight)
		return;
	if (pend[it->sock][it->id] == item_idx(s, it) + 1)
		pend[it->sock][it->id] = 0;
	it->inflight = 0;
	s->c.queries_inflight--;
}

/* ---- item life ---------------------------------------------------------- */

static void
done_mark(struct scan *s, uint64_t pos)
{
	uint64_t b;

	b = pos % DONE_BITS;
	s->donebits[b / 8] |= (uint8_t)(1u << (b % 8));
	while (s->cursor < s->next_pos) {
		b = s->cursor % DONE_BITS;
		if (!(s->donebits[b / 8] & (1u << (b % 8))))
			break;
		s->donebits[b / 8] &= (uint8_t) ~(1u << (b % 8));
		s->cursor++;
	}
}

static int64_t
median_rtt(struct item *it)
{
	int64_t v[RTT_SAMPLES], t;
	int i, j, n = it->nrtt < RTT_SAMPLES ? it->nrtt : RTT_SAMPLES;

	if (n == 0)
		return -1;
	memcpy(v, it->rtt, (size_t)n * sizeof v[0]);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static void hs_release(struct scan *s, struct item *it);

static void
tcp_close(struct scan *s, struct item *it)
{
	if (it->tcp_fd >= 0) {
		ev_io_del(s->loop, it->tcp_fd);
		close(it->tcp_fd);
		it->tcp_fd = -1;
	}
	free(it->tcp_buf);
	it->tcp_buf = NULL;
	it->tcp_len = 0;
}

static void
item_free(struct scan *s, struct item *it)
{
	tcp_close(s, it);
	release_pending(s, it);
	hs_release(s, it);
	item_event(s, it, EVK_NONE, 0);
	if (it->state != IT_ENV_ICPT && it->state != IT_ENV_SRV)
		amap_del(s, item_idx(s, it));
	it->state = IT_FREE;
	it->queued = 0;
	s->freel[s->nfree++] = item_idx(s, it);
	s->c.inflight--;
}

static void env_finish(
    struct scan *s, struct item *it, int ok, enum res_reason reason);
static void tcp_done(struct scan *s, struct item *it, int ok, const char *why);

/* Final verdict of an item: hand the result out and free the slot. */
static void
item_finish(struct scan *s, struct item *it, int ok, enum res_reason reason)
{
	uint64_t now = now_mono_us();
	enum res_stage st = it->r.stage;

	if (it->state == IT_ENV_ICPT || it->state == IT_ENV_SRV) {
		env_finish(s, it, ok, reason);
		return;
	}
	stage_leave(s, st, ok, now);
	it->r.verdict = ok ? RES_VERDICT_OK : RES_VERDICT_FAIL;
	it->r.reason = ok ? RES_R_OK : reason;
	it->r.rtt_us = median_rtt(it);
	it->r.at_ms = now_wall_ms();
	if (s->server_down)
		evid_prefix(it, "env: tunnel server silent directly; ");
	if (s->intercepted)
		evid_prefix(it, "path: UDP/53 intercepted; ");
	trace(s, it, "result: %s (%s)", ok ? "ok" : "fail",
	    res_reason_name(it->r.reason));
	if (ok)
		s->c.passed++;
	s->c.done++;
	if (s->o.on_result != NULL)
		s->o.on_result(s->o.arg, it->pos, &it->r);
	done_mark(s, it->pos);
	item_free(s, it);
}

static void
item_enter(struct scan *s, struct item *it, int state)
{
	enum res_stage old = state_stage(it->state);
	enum res_stage nst = state_stage(state);
	uint64_t now = now_mono_us();

	if (nst != old && old != RES_STAGE_NONE && old != RES_STAGE_ENV)
		stage_leave(s, old, 1, now);
	it->state = state;
	it->tries = 0;
	it->last_timeout = 0;
	if (nst != old && nst != RES_STAGE_ENV)
		stage_enter(s, it, nst, now);
}

static void
schedule_send(struct scan *s, struct item *it)
{
	uint64_t now = now_mono_us();

	if (it->next_send_us > now)
		item_event(s, it, EVK_SENDAT, it->next_send_us);
	else
		item_send_ready(s, it);
}

static void
item_send_ready(struct scan *s, struct item *it)
{
	uint32_t cap = s->nitems;

	item_event(s, it, EVK_NONE, 0);
	if (it->queued)
		return;
	it->queued = 1;
	s->ready[(s->rhead + s->rlen) % cap] = item_idx(s, it);
	s->rlen++;
}

/* Start the query of the current step (first try). */
static void
item_query(struct scan *s, struct item *it)
{
	it->tries = 0;
	memset(it->prev_sock, 0, sizeof it->prev_sock);
	schedule_send(s, it);
}

static void
trace_send(struct scan *s, struct item *it)
{
	static const char *const nm[] = {[IT_ENV_ICPT] = "liveness",
	    [IT_ENV_SRV] = "TXT",
	    [IT_LIVE] = "liveness",
	    [IT_REACH] = "TXT",
	    [IT_UP] = "MTU_UP_REQ",
	    [IT_DOWN] = "MTU_DOWN_REQ",
	    [IT_INIT] = "SESSION_INIT",
	    [IT_PING] = "PING",
	    [IT_CLOSE] = "SESSION_CLOSE",
	    [IT_BURST] = "TXT",
	    [IT_TCP] = "MTU_DOWN_REQ over TCP"};
	char what[64] = "";
	size_t i;
	int labels = 0;

	for (i = 12; i < 12 + it->qwire && it->q[i] != 0;
	     i += (size_t)it->q[i] + 1)
		labels++;
	if (it->state == IT_UP)
		snprintf(what, sizeof what, " %d payload bytes",
		    mtu_search_next(&it->ms));
	else if (it->state == IT_DOWN)
		snprintf(what, sizeof what, " asking %d bytes (request %d)",
		    mtu_search_next(&it->ms), MAX(7, it->r.upload_mtu));
	else if (it->state == IT_INIT)
		snprintf(what, sizeof what, " up %d down %d", it->r.upload_mtu,
		    it->r.download_mtu);
	else if (it->state == IT_PING || it->state == IT_CLOSE)
		snprintf(what, sizeof what, " session %u", it->sid);
	trace(s, it,
	    "-> %s%s: %zu-char QNAME, %d labels, %zu-byte query, "
	    "try %d",
	    nm[it->state] ? nm[it->state] : "?", what, it->qchars, labels,
	    it->qlen, it->tries);
}

static int
do_send(struct scan *s, struct item *it)
{
	int fam = it->addr.sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
	int *fds = fam == AF_INET6 ? s->fd6 : s->fd4;
	uint32_t **pend = fam == AF_INET6 ? s->pend6 : s->pend4;
	uint64_t now;
	unsigned k;
	uint16_t id;
	ssize_t n;
	struct err e;

	if (build_query(s, it) == -1) {
		item_finish(s, it, 0, RES_R_INTERNAL);
		return 0;
	}
	if (fds[0] < 0 &&
	    (open_socks(s, fam, &e) == -1 || watch_socks(s, fam, &e) == -1)) {
		evid(it, "no socket: %s", e.msg);
		item_finish(s, it, 0, RES_R_NET_ERROR);
		return 0;
	}
	k = s->next_sock++ % NSOCK;
	id = (uint16_t)rnd(s);
	while (pend[k][id] != 0)
		id++;
	be16_store(it->q, id);
	n = sendto(
	    fds[k], it->q, it->qlen, 0, &it->addr.sa, net_addr_len(&it->addr));
	now = now_mono_us();
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return -1; /* try again on the next tick */
		s->c.send_errors++;
		evid(it, "send failed: %s", strerror(errno));
		trace(s, it, "send failed: %s", strerror(errno));
		item_finish(s, it, 0, RES_R_NET_ERROR);
		return 0;
	}
	s->c.sent++;
	pend[k][id] = item_idx(s, it) + 1;
	it->sock = (int)k;
	it->id = id;
	it->inflight = 1;
	it->sent_us = now;
	it->tries++;
	if (++s->c.queries_inflight > s->c.peak_queries_inflight)
		s->c.peak_queries_inflight = s->c.queries_inflight;
	it->next_send_us = now + (uint64_t)s->o.pace_ms * 1000;
	if (s->o.on_trace != NULL)
		trace_send(s, it);
	item_event(s, it, EVK_TIMEOUT,
	    now + (uint64_t)stage_try(s, it->state)->timeout_ms * 1000);
	return 0;
}

/* ---- handshake permits -------------------------------------------------- */

static void
hs_release(struct scan *s, struct item *it)
{
	struct item *w;

	if (!it->hs_permit)
		return;
	it->hs_permit = 0;
	s->hs_used--;
	while (s->hlen > 0 && s->hs_used < s->o.hs_parallel) {
		w = &s->items[s->hswait[s->hhead]];
		s->hhead = (s->hhead + 1) % s->nitems;
		s->hlen--;
		if (w->state != IT_HS_WAIT)
			continue;
		w->hs_permit = 1;
		s->hs_used++;
		item_enter(s, w, IT_INIT);
		item_query(s, w);
	}
}

static void
hs_begin(struct scan *s, struct item *it)
{
	uint64_t r = rnd(s);

	memcpy(it->verify, &r, 4);
	item_enter(s, it, IT_HS_WAIT);
	if (s->hs_used < s->o.hs_parallel) {
		it->hs_permit = 1;
		s->hs_used++;
		item_enter(s, it, IT_INIT);
		item_query(s, it);
		return;
	}
	s->hswait[(s->hhead + s->hlen) % s->nitems] = item_idx(s, it);
	s->hlen++;
}

/* ---- stage transitions -------------------------------------------------- */

static void
mtu_begin_up(struct scan *s, struct item *it)
{
	size_t cap =
	    wire_max_upload_payload(strlen(s->o.domains[it->dom]), s->o.method);
	int hi = MIN(s->o.max_up, 512);

	hi = MIN(hi, (int)cap);
	item_enter(s, it, IT_UP);
	mtu_search_init(&it->ms, s->o.min_up, hi, 10);
	trace(s, it, "upload MTU search over %d..%d (name cap %zu)", it->ms.low,
	    it->ms.high, cap);
	if (mtu_search_next(&it->ms) == 0) {
		evid(it, "empty upload range %d..%d", it->ms.low, hi);
		item_finish(s, it, 0, RES_R_UPLOAD_MTU);
		return;
	}
	item_query(s, it);
}

static void
mtu_begin_down(struct scan *s, struct item *it)
{
	item_enter(s, it, IT_DOWN);
	mtu_search_init(&it->ms, s->o.min_down, s->o.max_down, 20);
	trace(
	    s, it, "download MTU search over %d..%d", it->ms.low, it->ms.high);
	if (mtu_search_next(&it->ms) == 0) {
		evid(it, "empty download range");
		item_finish(s, it, 0, RES_R_DOWNLOAD_MTU);
		return;
	}
	item_query(s, it);
}

static void burst_begin(struct scan *s, struct item *it);

/* The step after the current one passed. */
static void
item_next_step(struct scan *s, struct item *it)
{
	enum res_stage max = s->o.max_stage;

	switch (it->state) {
	case IT_LIVE:
		if (max < RES_STAGE_REACH)
			break;
		item_enter(s, it, IT_REACH);
		item_query(s, it);
		return;
	case IT_REACH:
		if (max < RES_STAGE_MTU)
			break;
		if (s->cipher == NULL) {
			evid(it, "no key: MTU and handshake not tested");
			break;
		}
		mtu_begin_up(s, it);
		return;
	case IT_UP:
		mtu_begin_down(s, it);
		return;
	case IT_DOWN:
	case IT_TCP:
		if (max < RES_STAGE_HANDSHAKE)
			break;
		hs_begin(s, it);
		return;
	case IT_INIT:
		item_enter(s, it, IT_PING);
		item_query(s, it);
		return;
	case IT_PING:
		item_enter(s, it, IT_CLOSE);
		item_query(s, it);
		return;
	case IT_CLOSE:
		hs_release(s, it);
		if (max < RES_STAGE_BURST || s->o.burst <= 0)
			break;
		burst_begin(s, it);
		return;
	default:
		break;
	}
	item_finish(s, it, 1, RES_R_OK);
}

/* ---- answers ------------------------------------------------------------ */

static const char *
rcode_name(unsigned rc)
{
	static const char *const n[] = {
	    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};

	return rc < nitems(n) ? n[rc] : "RCODE";
}

static enum res_reason
rcode_reason(unsigned rc)
{
	switch (rc) {
	case 1:
		return RES_R_FORMERR;
	case 2:
		return RES_R_SERVFAIL;
	case 3:
		return RES_R_NXDOMAIN;
	case 5:
		return RES_R_REFUSED;
	default:
		return RES_R_RCODE_OTHER;
	}
}

/* The reach signature: NOERROR, no answer records, AA=0, no authority. */
int
scan_judge_reach(const uint8_t *msg, size_t len, enum res_reason *reason,
    char *why, size_t cap)
{
	uint8_t frame[4096];
	struct dns_answer a;
	struct err e;
	unsigned rc;

	if (dns_answer_parse(msg, len, DNS_RESP_RAW, frame, sizeof frame, &a,
		&e) == DNS_ANS_MALFORMED) {
		*reason = RES_R_MALFORMED;
		snprintf(why, cap, "reach: malformed answer (%s)", e.msg);
		return -1;
	}
	rc = a.flags & DNS_F_RCODE;
	if (rc != 0) {
		*reason = rcode_reason(rc);
		snprintf(why, cap, "reach: %s%s", rcode_name(rc),
		    (a.flags & DNS_F_AA) ? " with AA" : "");
		return -1;
	}
	if (a.ancount > 0) {
		*reason = RES_R_HIJACK;
		snprintf(why, cap,
		    "reach: NOERROR with %u answer record(s) for an "
		    "undecodable name (the server sends none): forged",
		    a.ancount);
		return -1;
	}
	if (a.flags & DNS_F_TC) {
		*reason = RES_R_TRUNCATED;
		snprintf(why, cap, "reach: TC=1 on an empty answer");
		return -1;
	}
	if ((a.flags & DNS_F_AA) || a.nscount > 0) {
		*reason = RES_R_NO_SIGNATURE;
		snprintf(why, cap,
		    "reach: NODATA with AA=%d and %u authority "
		    "record(s): an authority, not the tunnel server",
		    (a.flags & DNS_F_AA) ? 1 : 0, a.nscount);
		return -1;
	}
	*reason = RES_R_OK;
	snprintf(why, cap, "reach: signature NODATA (AA=0, no SOA)");
	return 0;
}

static double
ms_since(const struct item *it)
{
	return (double)(now_mono_us() - it->sent_us) / 1000;
}

static void
note_rtt(struct item *it, uint64_t now)
{
	it->rtt[it->nrtt % RTT_SAMPLES] = (int64_t)(now - it->sent_us);
	it->nrtt++;
}

static enum outcome
judge_frame(
    struct scan *s, struct item *it, const uint8_t *m, size_t n, int *reason)
{
	struct dns_answer a;
	struct wire_frame f;
	struct wire_mtu_res mr;
	struct wire_session_accept acc;
	enum dns_answer_status st;
	struct err e = {""}; /* NOFRAME (an rcode, NODATA) leaves no message */
	unsigned rc;
	int cand = mtu_search_next(&it->ms);

	st = dns_answer_parse(m, n, (enum dns_resp_mode)s->o.response_mode,
	    s->fbuf, sizeof s->fbuf, &a, &e);
	if (st == DNS_ANS_MALFORMED) {
		trace(s, it, "  <- malformed answer (%s)", e.msg);
		*reason = RES_R_MALFORMED;
		return OUT_RETRY;
	}
	rc = a.flags & DNS_F_RCODE;
	if (a.flags & DNS_F_TC) {
		it->r.shape.tc_seen = RES_TRI_YES;
		if (it->state == IT_DOWN && it->tc_cand == 0)
			it->tc_cand = cand;
		trace(s, it, "  <- TC=1, %zu bytes, no records", n);
		*reason = RES_R_TRUNCATED;
		return it->state == IT_UP || it->state == IT_DOWN ?
		    OUT_SIZEFAIL :
		    OUT_RETRY;
	}
	if (st != DNS_ANS_FRAME) {
		if (rc == 0 && a.ancount == 0 && st == DNS_ANS_NOFRAME) {
			if (it->state == IT_CLOSE) {
				trace(s, it,
				    "  <- NODATA: session closed "
				    "(%.1f ms)",
				    ms_since(it));
				return OUT_PASS;
			}
			trace(s, it,
			    "  <- NODATA: the server could not "
			    "decrypt or parse the probe");
			*reason = it->state == IT_UP || it->state == IT_DOWN ?
			    RES_R_KEY_OR_METHOD :
			    RES_R_HANDSHAKE_FAILED;
			evid(it,
			    "%s probe answered NODATA: the server cannot "
			    "decrypt it (key or method wrong)",
			    it->state == IT_UP	     ? "MTU_UP" :
				it->state == IT_DOWN ? "MTU_DOWN" :
						       "SESSION_INIT");
			return OUT_FAIL;
		}
		trace(s, it, "  <- %s, %s%s%s%s", rcode_name(rc),
		    dns_answer_strstatus(st), e.msg[0] ? " (" : "", e.msg,
		    e.msg[0] ? ")" : "");
		*reason = rc != 0 ? rcode_reason(rc) : RES_R_MALFORMED;
		if (st == DNS_ANS_INCOMPLETE &&
		    (it->state == IT_UP || it->state == IT_DOWN))
			return OUT_SIZEFAIL;
		return OUT_RETRY;
	}
	if (wire_frame_parse(s->fbuf, a.frame_len, &f) != WIRE_OK) {
		trace(s, it, "  <- TXT is not a tunnel frame");
		*reason = RES_R_HIJACK;
		return OUT_RETRY;
	}
	if (f.type == WIRE_ERROR_DROP) {
		trace(s, it, "  <- ERROR_DROP");
		*reason = RES_R_ERROR_DROP;
		evid(it, "server answered ERROR_DROP");
		return OUT_FAIL;
	}
	switch (it->state) {
	case IT_UP:
		if (f.type != WIRE_MTU_UP_RES ||
		    wire_mtu_up_res_parse(f.payload, f.payload_len, &mr) !=
			WIRE_OK ||
		    mr.code != it->code || mr.len != cand) {
			/*
			 * The server answered our exact question with
			 * another frame: it decoded the probe into something
			 * else, which only a wrong key or method does.
			 */
			trace(s, it, "  <- %s: not the echo of probe %d",
			    wire_type_name(f.type) ? wire_type_name(f.type) :
						     "?",
			    cand);
			*reason = RES_R_KEY_OR_METHOD;
			evid(it,
			    "MTU_UP probe answered with %s instead of its "
			    "echo: the server decoded it into another frame "
			    "(key or method wrong)",
			    wire_type_name(f.type) ? wire_type_name(f.type) :
						     "an unknown frame");
			return OUT_FAIL;
		}
		trace(s, it,
		    "  <- MTU_UP_RES: server got %u bytes, %zu-byte "
		    "answer, %.1f ms",
		    mr.len, n, ms_since(it));
		it->r.shape.longest_name =
		    MAX(it->r.shape.longest_name, (int)it->qchars);
		{
			int labels = 0;
			size_t i;

			for (i = 12; i < 12 + it->qwire && it->q[i] != 0;
			     i += (size_t)it->q[i] + 1)
				labels++;
			it->r.shape.max_labels =
			    MAX(it->r.shape.max_labels, labels);
		}
		return OUT_PASS;
	case IT_DOWN:
		if (f.type != WIRE_MTU_DOWN_RES ||
		    wire_mtu_down_res_parse(f.payload, f.payload_len, &mr) !=
			WIRE_OK ||
		    mr.code != it->code || mr.len != cand ||
		    f.payload_len != (size_t)cand) {
			trace(s, it, "  <- %s: not the %d-byte answer asked",
			    wire_type_name(f.type) ? wire_type_name(f.type) :
						     "?",
			    cand);
			if (f.type != WIRE_MTU_DOWN_RES) {
				*reason = RES_R_KEY_OR_METHOD;
				evid(it,
				    "MTU_DOWN probe answered with %s: the "
				    "server decoded it into another frame (key "
				    "or method wrong)",
				    wire_type_name(f.type) ?
					wire_type_name(f.type) :
					"an unknown frame");
				return OUT_FAIL;
			}
			*reason = RES_R_MALFORMED;
			return OUT_RETRY;
		}
		trace(s, it,
		    "  <- MTU_DOWN_RES: %zu payload bytes in a "
		    "%zu-byte answer (%u TXT, EDNS %s%u), %.1f ms",
		    f.payload_len, n, a.txt_rrs, a.has_opt ? "" : "none ",
		    a.has_opt ? a.edns_udp_size : 0, ms_since(it));
		it->r.shape.max_answer_bytes =
		    MAX(it->r.shape.max_answer_bytes, (int)n);
		it->r.shape.edns_size = a.has_opt ? a.edns_udp_size : 0;
		return OUT_PASS;
	case IT_INIT:
		if (f.type == WIRE_SESSION_BUSY) {
			trace(s, it, "  <- SESSION_BUSY");
			*reason = RES_R_BUSY;
			evid(it,
			    "SESSION_BUSY: the server's session table is "
			    "full");
			return OUT_FAIL;
		}
		if (f.type != WIRE_SESSION_ACCEPT ||
		    wire_session_accept_parse(f.payload, f.payload_len, &acc) !=
			WIRE_OK ||
		    memcmp(acc.verify, it->verify, 4)) {
			trace(s, it, "  <- %s without our verify code",
			    wire_type_name(f.type) ? wire_type_name(f.type) :
						     "?");
			*reason = RES_R_HANDSHAKE_FAILED;
			return OUT_RETRY;
		}
		it->sid = acc.session_id;
		it->cookie = acc.cookie;
		it->r.policy.comp_pair = acc.comp_pair;
		if (acc.has_policy) {
			struct res_policy *p = &it->r.policy;

			p->present = 1;
			p->max_dup = acc.policy.max_dup;
			p->max_setup_dup = acc.policy.max_setup_dup;
			p->max_upload_mtu = acc.policy.max_upload_mtu;
			p->max_download_mtu = acc.policy.max_download_mtu;
			p->max_workers = acc.policy.max_workers;
			p->min_ping_ms =
			    (int)(wire_scaled_seconds(
				      acc.policy.min_ping_interval_raw) *
				    1000 +
				0.5);
			p->max_batch = acc.policy.max_batch;
			p->max_arq_window = acc.policy.max_arq_window;
			p->max_nack_gap = acc.policy.max_nack_gap;
			p->min_comp_size = acc.policy.min_comp_min_size;
			p->min_rto_ms =
			    (int)(wire_scaled_seconds(acc.policy.min_rto_raw) *
				    1000 +
				0.5);
		}
		trace(s, it,
		    "  <- SESSION_ACCEPT: session %u, verify code "
		    "matches, %.1f ms",
		    acc.session_id, ms_since(it));
		if (acc.has_policy)
			trace(s, it,
			    "     policy: compression 0x%02x, dup %d/%d, "
			    "MTU up %d down %d, workers %d, ping >= %d ms, "
			    "batch %d, window %d, NACK gap %d, compression "
			    "min %d, RTO >= %d ms",
			    acc.comp_pair, it->r.policy.max_dup,
			    it->r.policy.max_setup_dup,
			    it->r.policy.max_upload_mtu,
			    it->r.policy.max_download_mtu,
			    it->r.policy.max_workers, it->r.policy.min_ping_ms,
			    it->r.policy.max_batch, it->r.policy.max_arq_window,
			    it->r.policy.max_nack_gap,
			    it->r.policy.min_comp_size,
			    it->r.policy.min_rto_ms);
		return OUT_PASS;
	case IT_PING:
		if (f.type == WIRE_PONG) {
			trace(s, it, "  <- PONG, %.1f ms", ms_since(it));
			return OUT_PASS;
		}
		trace(s, it, "  <- %s on the session",
		    wire_type_name(f.type) ? wire_type_name(f.type) : "?");
		return OUT_PASS;
	case IT_CLOSE:
		trace(s, it, "  <- %s",
		    wire_type_name(f.type) ? wire_type_name(f.type) : "?");
		return OUT_PASS;
	default:
		break;
	}
	*reason = RES_R_INTERNAL;
	return OUT_FAIL;
}

static void mtu_step_done(struct scan *s, struct item *it, int passed);

/* The current candidate or step failed on this attempt. */
static void
attempt_failed(struct scan *s, struct item *it, int reason, int size_final)
{
	const struct scan_try *t = stage_try(s, it->state);

	release_pending(s, it);
	it->last_reason = reason;
	if (it->state == IT_TCP) {
		tcp_done(s, it, 0, "no answer over TCP in time");
		return;
	}
	if (it->state == IT_CLOSE) {
		/* A close nobody confirms still leaves a passed handshake. */
		evid(it, "SESSION_CLOSE unanswered");
		item_next_step(s, it);
		return;
	}
	if (!size_final && it->tries < t->tries) {
		/* A late answer to this attempt still counts. */
		it->prev_id[(it->tries - 1) & 3] = it->id;
		it->prev_sock[(it->tries - 1) & 3] = (int8_t)(it->sock + 1);
		schedule_send(s, it);
		return;
	}
	if (it->state == IT_UP || it->state == IT_DOWN) {
		mtu_step_done(s, it, 0);
		return;
	}
	if (it->state == IT_BURST)
		return;
	switch (it->state) {
	case IT_LIVE:
		evid(it, "liveness: %s after %d tries of %d ms",
		    res_reason_name(reason), it->tries, t->timeout_ms);
		break;
	case IT_REACH:
		if (reason == RES_R_TIMEOUT)
			evid(it,
			    "reach: no answer to a TXT in-zone query "
			    "after %d tries of %d ms (the resolver answers "
			    "neutral names)",
			    it->tries, t->timeout_ms);
		break;
	case IT_INIT:
		if (reason == RES_R_TIMEOUT)
			reason = RES_R_HANDSHAKE_FAILED;
		evid(it,
		    "SESSION_INIT: no valid SESSION_ACCEPT after %d "
		    "tries",
		    it->tries);
		break;
	case IT_PING:
		reason = RES_R_PING_FAILED;
		evid(it, "PING: no PONG after %d tries", it->tries);
		break;
	default:
		break;
	}
	item_finish(s, it, 0, (enum res_reason)reason);
}

/* ---- TCP fallback check ------------------------------------------------- */

/*
 * After a download search that met TC=1: send the first truncated size
 * again over TCP (RFC 7766 framing) and see whether the whole answer comes
 * back. Only recorded (shape.tcp_ok); the tunnel itself is UDP-only.
 */
static void
tcp_done(struct scan *s, struct item *it, int ok, const char *why)
{
	tcp_close(s, it);
	item_event(s, it, EVK_NONE, 0);
	it->r.shape.tcp_ok = ok ? RES_TRI_YES : RES_TRI_NO;
	trace(s, it, "  <- TCP fallback for %d bytes: %s", it->tc_cand, why);
	evid(it, "TC=1 at %d bytes; over TCP: %s", it->tc_cand, why);
	item_next_step(s, it);
}

static void
tcp_judge(struct scan *s, struct item *it, const uint8_t *m, size_t n)
{
	struct dns_answer a;
	struct wire_frame f;
	struct wire_mtu_res mr;
	struct err e;
	int exact;

	if (!question_matches(it, m, n, &exact) ||
	    dns_answer_parse(m, n, (enum dns_resp_mode)s->o.response_mode,
		s->fbuf, sizeof s->fbuf, &a, &e) != DNS_ANS_FRAME ||
	    wire_frame_parse(s->fbuf, a.frame_len, &f) != WIRE_OK ||
	    f.type != WIRE_MTU_DOWN_RES ||
	    wire_mtu_down_res_parse(f.payload, f.payload_len, &mr) != WIRE_OK ||
	    mr.code != it->code || f.payload_len != (size_t)it->tc_cand) {
		tcp_done(s, it, 0, "an answer that is not the whole probe");
		return;
	}
	tcp_done(s, it, 1, "the whole answer arrived");
}

static void
on_tcp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct item *it = arg;
	struct scan *s = it->owner;
	uint8_t lenbuf[2];
	socklen_t sl = sizeof(int);
	size_t need;
	ssize_t n;
	int soerr = 0;

	(void)loop;
	if (it->tcp_fd != fd)
		return;
	if (events & EV_WRITE) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			tcp_done(s, it, 0,
			    soerr ? strerror(soerr) : "connect failed");
			return;
		}
		be16_store(lenbuf, (uint16_t)it->qlen);
		if (write(fd, lenbuf, 2) != 2 ||
		    write(fd, it->q, it->qlen) != (ssize_t)it->qlen) {
			tcp_done(s, it, 0, "cannot send the query");
			return;
		}
		ev_io_set(s->loop, fd, EV_READ);
		return;
	}
	if (it->tcp_buf == NULL)
		it->tcp_buf = xmalloc(2 + 65535);
	n = read(fd, it->tcp_buf + it->tcp_len, 2 + 65535 - it->tcp_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tcp_done(s, it, 0,
		    n == 0 ? "connection closed before an "
			     "answer" :
			     strerror(errno));
		return;
	}
	it->tcp_len += (size_t)n;
	if (it->tcp_len < 2)
		return;
	need = (size_t)be16_load(it->tcp_buf);
	if (it->tcp_len < 2 + need)
		return;
	tcp_judge(s, it, it->tcp_buf + 2, need);
}

static void
tcp_begin(struct scan *s, struct item *it)
{
	struct err e;
	uint16_t id = (uint16_t)rnd(s);

	item_enter(s, it, IT_TCP);
	if (build_query(s, it) == -1) {
		tcp_done(s, it, 0, "cannot build the query");
		return;
	}
	be16_store(it->q, id);
	it->sent_us = now_mono_us();
	it->tries = 1;
	if (s->o.on_trace != NULL)
		trace_send(s, it);
	if ((it->tcp_fd = net_tcp_connect(&it->addr, &e)) == -1) {
		tcp_done(s, it, 0, e.msg);
		return;
	}
	if (ev_io_add(s->loop, it->tcp_fd, EV_WRITE, on_tcp, it, &e) == -1) {
		tcp_done(s, it, 0, e.msg);
		return;
	}
	item_event(s, it, EVK_TIMEOUT,
	    it->sent_us + (uint64_t)s->o.t_mtu.timeout_ms * 1000);
}

static void
mtu_step_done(struct scan *s, struct item *it, int passed)
{
	int cand = mtu_search_next(&it->ms), floor, best;

	trace(s, it, "%s %d: %s", it->state == IT_UP ? "upload" : "download",
	    cand, passed ? "passed" : "failed");
	it->last_timeout = !passed && it->last_reason == RES_R_TIMEOUT;
	mtu_search_report(&it->ms, passed);
	if (mtu_search_next(&it->ms) != 0) {
		item_query(s, it);
		return;
	}
	best = it->ms.best;
	if (it->state == IT_UP) {
		floor = MAX(10, s->o.min_up);
		if (best < floor) {
			enum res_reason r = it->last_timeout ? RES_R_NAME_CUT :
							       RES_R_UPLOAD_MTU;

			evid(it, "upload MTU: even %d bytes failed (%s)%s",
			    it->ms.low, res_reason_name(it->last_reason),
			    r == RES_R_NAME_CUT ? "; long names are dropped "
						  "on the path" :
						  "");
			item_finish(s, it, 0, r);
			return;
		}
		it->r.upload_mtu = best;
		evid(it, "upload MTU %d after %d probes", best, it->ms.steps);
	} else {
		floor = MAX(20, s->o.min_down);
		if (best < floor) {
			evid(it, "download MTU: even %d bytes failed (%s)",
			    it->ms.low, res_reason_name(it->last_reason));
			item_finish(s, it, 0, RES_R_DOWNLOAD_MTU);
			return;
		}
		it->r.download_mtu = best;
		evid(it,
		    "download MTU %d after %d probes (largest answer "
		    "%d bytes)",
		    best, it->ms.steps, it->r.shape.max_answer_bytes);
		if (it->tc_cand > 0) {
			tcp_begin(s, it);
			return;
		}
	}
	item_next_step(s, it);
}

static void
handle_answer(
    struct scan *s, struct item *it, const uint8_t *m, size_t n, uint64_t now)
{
	struct dns_answer a;
	struct err e;
	enum dns_answer_status st;
	enum outcome o = OUT_PASS;
	int reason = RES_R_OK, exact = 0;

	(void)question_matches(it, m, n, &exact);
	if (it->state == IT_BURST) {
		release_pending(s, it);
		return;
	}
	release_pending(s, it);
	item_event(s, it, EVK_NONE, 0);
	note_rtt(it, now);
	switch (it->state) {
	case IT_ENV_ICPT:
		item_finish(s, it, 0, RES_R_INTERCEPTED);
		return;
	case IT_LIVE:
	case IT_ENV_SRV:
	case IT_REACH:
		st = dns_answer_parse(
		    m, n, DNS_RESP_RAW, s->fbuf, sizeof s->fbuf, &a, &e);
		if (st == DNS_ANS_MALFORMED) {
			trace(s, it, "  <- malformed (%s)", e.msg);
			evid(it, "%s: malformed answer (%s)",
			    it->state == IT_LIVE ? "liveness" : "reach", e.msg);
			o = OUT_RETRY;
			reason = RES_R_MALFORMED;
			break;
		}
		if (it->r.shape.case_preserved != RES_TRI_NO)
			it->r.shape.case_preserved =
			    exact ? RES_TRI_YES : RES_TRI_NO;
		trace(s, it,
		    "  <- %s an=%u ns=%u aa=%d tc=%d, %zu bytes, "
		    "%.1f ms",
		    rcode_name(a.flags & DNS_F_RCODE), a.ancount, a.nscount,
		    (a.flags & DNS_F_AA) ? 1 : 0, (a.flags & DNS_F_TC) ? 1 : 0,
		    n, (double)(now - it->sent_us) / 1000);
		if (it->state == IT_LIVE) {
			evid(it, "liveness: %s in %.1f ms",
			    rcode_name(a.flags & DNS_F_RCODE),
			    (double)(now - it->sent_us) / 1000);
			o = OUT_PASS;
			break;
		}
		if (it->state == IT_REACH && a.has_opt)
			it->r.shape.edns_size = a.edns_udp_size;
		else if (it->state == IT_REACH)
			it->r.shape.edns_size = 0;
		{
			enum res_reason rr;
			char why[200];

			o = scan_judge_reach(m, n, &rr, why, sizeof why) == 0 ?
			    OUT_PASS :
			    OUT_FAIL;
			reason = (int)rr;
			evid(it, "%s", why);
		}
		break;
	default:
		o = judge_frame(s, it, m, n, &reason);
		break;
	}
	switch (o) {
	case OUT_PASS:
		if (it->state == IT_ENV_SRV) {
			item_finish(s, it, 1, RES_R_OK);
			return;
		}
		if (it->state == IT_UP || it->state == IT_DOWN)
			mtu_step_done(s, it, 1);
		else
			item_next_step(s, it);
		break;
	case OUT_RETRY:
		attempt_failed(s, it, reason, 0);
		break;
	case OUT_SIZEFAIL:
		attempt_failed(s, it, reason, 1);
		break;
	case OUT_FAIL:
		item_finish(s, it, 0, (enum res_reason)reason);
		break;
	case OUT_IGNORE:
		break;
	}
}

/* An answer that does not map to the query it claims (ID or source). */
static void
handle_mismatch(struct scan *s, struct item *it, int reason,
    const union net_addr *from, const uint8_t *m, size_t n)
{
	char fa[NET_ADDR_STRLEN];

	(void)m;
	net_addr_format(from, fa, sizeof fa);
	if (it->state == IT_ENV_ICPT) {
		release_pending(s, it);
		item_event(s, it, EVK_NONE, 0);
		item_finish(s, it, 0, RES_R_INTERCEPTED);
		return;
	}
	trace(s, it, "  <- answer from %s with %s (%zu bytes)", fa,
	    reason == RES_R_WRONG_SOURCE ? "our ID and question" :
		reason == RES_R_WRONG_ID ? "another ID" :
					   "another question",
	    n);
	if (reason == RES_R_WRONG_SOURCE)
		evid(it, "answer came from %s, not from the address asked", fa);
	else if (reason == RES_R_WRONG_ID)
		evid(it, "answer with ID 0x%04x to our query with ID 0x%04x",
		    be16_load(m), it->id);
	else
		evid(it, "answer echoes another question");
	release_pending(s, it);
	item_event(s, it, EVK_NONE, 0);
	if (it->state == IT_UP || it->state == IT_DOWN ||
	    it->state == IT_BURST) {
		attempt_failed(s, it, reason, 0);
		return;
	}
	item_finish(s, it, 0, (enum res_reason)reason);
}

/* Is id (on socket k) an earlier attempt of the item's current step? */
static int
late_answer(const struct item *it, int k, uint16_t id)
{
	int i;

	for (i = 0; i < 4; i++)
		if (it->prev_sock[i] == k + 1 && it->prev_id[i] == id)
			return 1;
	return 0;
}

static void
on_read(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct scan *s = arg;
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	uint32_t **pend = NULL, v;
	struct item *it;
	uint64_t now;
	int k, budget = 256, exact;

	(void)loop;
	(void)events;
	for (k = 0; k < NSOCK; k++) {
		if (s->fd4[k] == fd) {
			pend = s->pend4;
			break;
		}
		if (s->fd6[k] == fd) {
			pend = s->pend6;
			break;
		}
	}
	if (pend == NULL)
		return;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, s->rbuf, sizeof s->rbuf, 0, &from.sa, &fl);
		if (n < 0)
			break;
		now = now_mono_us();
		s->c.received++;
		if (n < 12 || !(s->rbuf[2] & 0x80)) {
			s->c.stray++;
			continue;
		}
		v = pend[k][be16_load(s->rbuf)];
		it = v ? &s->items[v - 1] : NULL;
		if (it != NULL && it->state == IT_BURST) {
			/* Burst names differ per query: ID and source. */
			if (net_addr_equal(&from, &it->addr)) {
				it->b_ok++;
				it->b_tlast = now;
			}
			pend[k][be16_load(s->rbuf)] = 0;
			it->b_out--;
			s->c.queries_inflight--;
			continue;
		}
		if (it != NULL && it->inflight && it->sock == k &&
		    question_matches(it, s->rbuf, (size_t)n, &exact)) {
			if (!net_addr_equal(&from, &it->addr))
				handle_mismatch(s, it, RES_R_WRONG_SOURCE,
				    &from, s->rbuf, (size_t)n);
			else
				handle_answer(s, it, s->rbuf, (size_t)n, now);
			continue;
		}
		/* Not ours by ID: the same resolver with a wrong ID? */
		it = amap_find(s, &from, s->rbuf, (size_t)n);
		if (it != NULL) {
			if (late_answer(it, k, be16_load(s->rbuf))) {
				handle_answer(s, it, s->rbuf, (size_t)n, now);
				continue;
			}
			handle_mismatch(
			    s, it, RES_R_WRONG_ID, &from, s->rbuf, (size_t)n);
			continue;
		}
		s->c.stray++;
	}
	pump(s);
}

/* ---- burst -------------------------------------------------------------- */

static void
burst_begin(struct scan *s, struct item *it)
{
	int fam = it->addr.sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
	int *fds = fam == AF_INET6 ? s->fd6 : s->fd4;
	uint32_t **pend = fam == AF_INET6 ? s->pend6 : s->pend4;
	uint64_t now = now_mono_us();
	unsigned k;
	uint16_t id;
	int i;

	item_enter(s, it, IT_BURST);
	it->b_sent = it->b_ok = it->b_out = 0;
	it->b_t0 = now;
	/*
	 * K queries at once on one socket, all for distinct random names;
	 * counted when they come back with their ID from the address asked.
	 * The global rate limit is not applied inside a burst (it is the
	 * point of the stage); the burst is counted in the sent total.
	 */
	for (i = 0; i < s->o.burst; i++) {
		if (build_query(s, it) == -1)
			break;
		k = (unsigned)(it->pos % NSOCK);
		id = (uint16_t)rnd(s);
		while (pend[k][id] != 0)
			id++;
		be16_store(it->q, id);
		if (sendto(fds[k], it->q, it->qlen, 0, &it->addr.sa,
			net_addr_len(&it->addr)) < 0)
			break;
		pend[k][id] = item_idx(s, it) + 1;
		it->sock = (int)k;
		it->b_sent++;
		it->b_out++;
		s->c.sent++;
		s->c.queries_inflight++;
	}
	/* Match answers by question: keep the last query's question. */
	it->inflight = 1;
	item_event(s, it, EVK_BURST_END,
	    now + (uint64_t)s->o.t_reach.timeout_ms * 1000);
}

static void
burst_release(struct scan *s, struct item *it)
{
	uint32_t **pend =
	    it->addr.sa.sa_family == AF_INET6 ? s->pend6 : s->pend4;
	uint32_t id;

	for (id = 0; id < 65536; id++)
		if (pend[it->sock][id] == item_idx(s, it) + 1) {
			pend[it->sock][id] = 0;
			s->c.queries_inflight--;
		}
	it->inflight = 0;
}

static void
burst_end_quiet(struct scan *s, struct item *it)
{
	burst_release(s, it);
	item_free(s, it);
}

static void
burst_end(struct scan *s, struct item *it)
{
	double secs;
	int ok;

	burst_release(s, it);
	secs =
	    (double)(it->b_tlast > it->b_t0 ? it->b_tlast - it->b_t0 : 1) / 1e6;
	it->r.burst_sent = it->b_sent;
	it->r.burst_ok = it->b_ok;
	it->r.burst_qps = it->b_ok / secs;
	ok = it->b_sent > 0 && it->b_ok * 10 >= it->b_sent * 9;
	evid(it, "burst: %d of %d answered, %.0f answers/s", it->b_ok,
	    it->b_sent, it->r.burst_qps);
	item_finish(s, it, ok, RES_R_BURST_LOSS);
}

/* ---- env stage ---------------------------------------------------------- */

static void
env_finish(struct scan *s, struct item *it, int ok, enum res_reason reason)
{
	struct res_check c;
	char a[NET_ADDR_STRLEN];
	uint64_t now = now_mono_us();

	res_check_init(&c);
	net_addr_format(&it->addr, a, sizeof a);
	s->st[RES_STAGE_ENV].tested++;
	if (it->state == IT_ENV_ICPT) {
		/* ok here means "timed out", i.e. not intercepted. */
		int icpt = reason == RES_R_INTERCEPTED;

		c.kind = RES_CHECK_INTERCEPT;
		c.verdict = icpt ? RES_VERDICT_WARN : RES_VERDICT_OK;
		c.reason = icpt ? RES_R_INTERCEPTED : RES_R_OK;
		if (icpt) {
			s->intercepted = 1;
			res_textf(c.detail, sizeof c.detail,
			    "%s answered "
			    "although it cannot be a resolver: UDP/53 is "
			    "intercepted on the path",
			    a);
		} else
			res_textf(c.detail, sizeof c.detail,
			    "%s (cannot be "
			    "a resolver) stayed silent: no interception",
			    a);
		ok = !icpt;
	} else {
		c.kind = RES_CHECK_SERVER;
		s->server_down = !ok;
		c.verdict = ok ? RES_VERDICT_OK : RES_VERDICT_FAIL;
		c.reason = ok ? RES_R_OK : RES_R_SERVER_DOWN;
		res_textf(c.detail, sizeof c.detail,
		    ok ? "tunnel server %s "
			 "answers a random in-zone name with its signature" :
			 "tunnel server %s does not answer directly with its "
			 "signature",
		    a);
	}
	res_textf(c.evidence, sizeof c.evidence, "%s",
	    it->r.evidence[0] ? it->r.evidence : c.detail);
	{
		size_t l = strlen(s->env_evidence);

		snprintf(s->env_evidence + l, sizeof s->env_evidence - l,
		    "%s%s", l ? "; " : "", c.detail);
	}
	if (ok)
		s->st[RES_STAGE_ENV].passed++;
	else
		s->st[RES_STAGE_ENV].failed++;
	if (now > s->st[RES_STAGE_ENV].t_last)
		s->st[RES_STAGE_ENV].t_last = now;
	if (s->o.on_check != NULL)
		s->o.on_check(s->o.arg, &c);
	item_free(s, it);
	s->env_pending--;
}

static struct item *
slot_get(struct scan *s)
{
	struct item *it;

	if (s->nfree == 0)
		return NULL;
	it = &s->items[s->freel[--s->nfree]];
	memset(it, 0, offsetof(struct item, r));
	it->tcp_fd = -1;
	it->owner = s;
	res_resolver_init(&it->r);
	it->r.shape.case_preserved = RES_TRI_UNKNOWN;
	if (++s->c.inflight > s->c.peak_inflight)
		s->c.peak_inflight = s->c.inflight;
	return it;
}

static void
env_start(struct scan *s)
{
	struct item *it;
	size_t i;
	uint64_t now = now_mono_us();

	s->st[RES_STAGE_ENV].t_first = now;
	for (i = 0; i <= s->o.nintercept; i++) {
		if (i == s->o.nintercept && !s->o.have_server)
			break;
		if ((it = slot_get(s)) == NULL)
			break;
		it->pos = UINT64_MAX;
		it->addr =
		    i < s->o.nintercept ? s->o.intercept[i] : s->o.server;
		it->state = i < s->o.nintercept ? IT_ENV_ICPT : IT_ENV_SRV;
		it->env_idx = (int)i;
		net_addr_format_ip(&it->addr, it->r.addr, sizeof it->r.addr);
		s->env_pending++;
		item_query(s, it);
	}
}

/* ---- admission and the tick --------------------------------------------- */

static void
admit(struct scan *s)
{
	struct item *it;
	uint64_t idx, now = now_mono_us();
	uint32_t lim = (uint32_t)(s->o.rate > 0 ? s->o.rate / 50 + 64 : 4096);

	if (s->env_pending > 0 || s->stopping)
		return;
	while (s->next_pos < s->total && s->rlen < lim &&
	    s->next_pos - s->cursor < DONE_BITS - 1) {
		idx = scan_perm_at(&s->perm, s->next_pos);
		if (s->o.skip != NULL &&
		    s->o.skip(s->o.arg, &s->addrs[idx / s->o.ndomains],
			s->o.domains[idx % s->o.ndomains])) {
			s->c.skipped++;
			s->c.done++;
			s->next_pos++;
			done_mark(s, s->next_pos - 1);
			continue;
		}
		if ((it = slot_get(s)) == NULL)
			break;
		it->pos = s->next_pos++;
		it->addr = s->addrs[idx / s->o.ndomains];
		it->dom = (unsigned)(idx % s->o.ndomains);
		net_addr_format_ip(&it->addr, it->r.addr, sizeof it->r.addr);
		it->r.port = net_addr_port(&it->addr);
		snprintf(it->r.domain, sizeof it->r.domain, "%s",
		    s->o.domains[it->dom]);
		it->state = IT_FREE;
		amap_put(s, item_idx(s, it));
		item_enter(s, it, IT_LIVE);
		(void)now;
		item_query(s, it);
	}
}

static void
check_done(struct scan *s)
{
	if (s->done_called || !s->running)
		return;
	if (s->stopping ||
	    (s->env_pending == 0 && s->next_pos >= s->total &&
		s->c.inflight == 0)) {
		s->done_called = 1;
		s->running = 0;
		if (s->o.on_done != NULL)
			s->o.on_done(
			    s->done_arg != NULL ? s->done_arg : s->o.arg);
	}
}

static void
pump(struct scan *s)
{
	struct heap_ent h;
	struct item *it;
	uint64_t now;

	if (!s->running)
		return;
	now = now_mono_us();
	while (s->nheap > 0 && s->heap[0].when <= now) {
		h = s->heap[0];
		heap_pop(s);
		it = &s->items[h.idx];
		if (it->gen != h.gen || it->state == IT_FREE)
			continue;
		switch (it->evk) {
		case EVK_TIMEOUT:
			it->evk = EVK_NONE;
			trace(s, it, "  .. no answer in %d ms",
			    stage_try(s, it->state)->timeout_ms);
			if (it->state == IT_ENV_ICPT) {
				release_pending(s, it);
				item_finish(s, it, 1, RES_R_OK);
			} else
				attempt_failed(s, it, RES_R_TIMEOUT, 0);
			break;
		case EVK_SENDAT:
			it->evk = EVK_NONE;
			item_send_ready(s, it);
			break;
		case EVK_BURST_END:
			it->evk = EVK_NONE;
			burst_end(s, it);
			break;
		}
	}
	admit(s);
	while (s->rlen > 0) {
		it = &s->items[s->ready[s->rhead]];
		if (it->state == IT_FREE || !it->queued) {
			s->rhead = (s->rhead + 1) % s->nitems;
			s->rlen--;
			continue;
		}
		if (!scan_bucket_take(&s->bucket, now_mono_us()))
			break;
		s->rhead = (s->rhead + 1) % s->nitems;
		s->rlen--;
		it->queued = 0;
		if (do_send(s, it) == -1) {
			/* Socket buffer full: retry in a tick. */
			item_event(s, it, EVK_SENDAT, now + TICK_US);
			break;
		}
		admit(s);
	}
	check_done(s);
}

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct scan *s = arg;

	(void)id;
	s->tick_id = 0;
	pump(s);
	if (s->running)
		s->tick_id = ev_timer_add(loop, TICK_US, on_tick, s);
}

/* ---- public ------------------------------------------------------------- */

void
scan_opts_defaults(struct scan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->method = 1;
	o->max_stage = RES_STAGE_HANDSHAKE;
	o->rate = 500;
	o->parallel = 2048;
	o->hs_parallel = 32;
	o->t_live.timeout_ms = 1500;
	o->t_live.tries = 2;
	o->t_reach.timeout_ms = 2000;
	o->t_reach.tries = 2;
	o->t_mtu.timeout_ms = 2000;
	o->t_mtu.tries = 2;
	o->t_hs.timeout_ms = 3000;
	o->t_hs.tries = 3;
	o->min_up = 38;
	o->max_up = 150;
	o->min_down = 100;
	o->max_down = 500;
	o->seed = 1;
}

struct scan *
scan_new(struct ev_loop *loop, const struct scan_opts *o, struct err *e)
{
	struct scan *s;
	uint32_t i, n, m;
	size_t d;
	long l;

	if (o->ndomains == 0 || o->ndomains > SCAN_MAX_DOMAINS) {
		err_set(e, "scan: need 1..%d tunnel domains", SCAN_MAX_DOMAINS);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->o = *o;
	if (s->o.parallel < 1)
		s->o.parallel = 1;
	if (s->o.hs_parallel < 1)
		s->o.hs_parallel = 1;
	for (i = 0; i < NSOCK; i++)
		s->fd4[i] = s->fd6[i] = -1;
	for (d = 0; d < o->ndomains; d++) {
		l = dns_name_encode(o->domains[d], strlen(o->domains[d]),
		    s->domwire[d], sizeof s->domwire[d], e);
		if (l < 0) {
			err_prefix(e, "domain '%s'", o->domains[d]);
			scan_free(s);
			return NULL;
		}
		s->domwire_len[d] = (size_t)l;
	}
	if (o->key != NULL &&
	    (s->cipher = wire_cipher_new(o->method, o->key, o->keylen, e)) ==
		NULL) {
		scan_free(s);
		return NULL;
	}
	n = (uint32_t)s->o.parallel + SCAN_MAX_ENV_PROBES + 1;
	s->nitems = n;
	s->items = xcalloc(n, sizeof *s->items);
	s->freel = xcalloc(n, sizeof *s->freel);
	for (i = 0; i < n; i++)
		s->freel[i] = n - 1 - i;
	s->nfree = n;
	s->ready = xcalloc(n, sizeof *s->ready);
	s->hswait = xcalloc(n, sizeof *s->hswait);
	for (m = 1024; m < 2 * n; m *= 2)
		;
	s->amap = xcalloc(m, sizeof *s->amap);
	s->amask = m - 1;
	s->donebits = xcalloc(DONE_BITS / 8, 1);
	if (getrandom(&s->rng, sizeof s->rng, 0) != sizeof s->rng)
		s->rng = now_mono_us() ^ (uint64_t)getpid();
	s->probe_code = (uint32_t)rnd(s);
	if (open_socks(s, AF_INET, e) == -1) {
		scan_free(s);
		return NULL;
	}
	return s;
}

void
scan_free(struct scan *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->tick_id != 0)
		ev_timer_cancel(s->loop, s->tick_id);
	for (i = 0; i < NSOCK; i++) {
		if (s->fd4[i] >= 0) {
			ev_io_del(s->loop, s->fd4[i]);
			close(s->fd4[i]);
		}
		if (s->fd6[i] >= 0) {
			ev_io_del(s->loop, s->fd6[i]);
			close(s->fd6[i]);
		}
		free(s->pend4[i]);
		free(s->pend6[i]);
	}
	wire_cipher_free(s->cipher);
	free(s->addrs);
	free(s->items);
	free(s->freel);
	free(s->ready);
	free(s->hswait);
	free(s->heap);
	free(s->amap);
	free(s->donebits);
	free(s);
}

void
scan_add(struct scan *s, const union net_addr *a)
{
	if (s->naddrs == s->addrcap) {
		s->addrcap = s->addrcap ? s->addrcap * 2 : 1024;
		s->addrs =
		    xreallocarray(s->addrs, s->addrcap, sizeof *s->addrs);
	}
	s->addrs[s->naddrs++] = *a;
}

int
scan_add_list(
    struct scan *s, const char *path, const struct rl_opts *opts, struct err *e)
{
	struct rl_reader *r;
	union net_addr a;
	int rc;

	if (rl_open(path, opts, &r, e) == -1)
		return -1;
	while ((rc = rl_next(r, &a, e)) == 1)
		scan_add(s, &a);
	rl_close(r);
	return rc == 0 ? 0 : -1;
}

uint64_t
scan_naddrs(const struct scan *s)
{
	return s->naddrs;
}

int
scan_start(struct scan *s, uint64_t start_pos, struct err *e)
{
	s->total = s->naddrs * s->o.ndomains;
	scan_perm_init(&s->perm, s->total, s->o.seed);
	if (start_pos > s->total)
		start_pos = s->total;
	s->next_pos = s->cursor = s->start_pos = start_pos;
	s->c.total = s->total;
	s->c.done = start_pos;
	s->c.skipped = start_pos;
	scan_bucket_init(&s->bucket, s->o.rate,
	    s->o.rate > 0 ? MAX(1, s->o.rate / 100) : 1, now_mono_us());
	if (watch_socks(s, AF_INET, e) == -1)
		return -1;
	s->running = 1;
	env_start(s);
	s->tick_id = ev_timer_add(s->loop, 1, on_tick, s);
	return 0;
}

static void
item_uncount(struct scan *s, const struct item *it)
{
	int st;

	for (st = RES_STAGE_LIVENESS;
	     st <= (int)it->r.stage && st < RES_STAGE_COUNT; st++) {
		s->st[st].tested--;
		if (st < (int)it->r.stage)
			s->st[st].passed--;
	}
}

void
scan_stop(struct scan *s)
{
	uint32_t i;

	if (!s->running)
		return;
	s->stopping = 1;
	for (i = 0; i < s->nitems; i++) {
		struct item *it = &s->items[i];

		if (it->state == IT_FREE)
			continue;
		/*
		 * An abandoned item is redone from the start on resume:
		 * take back what it counted, so resumed totals are exact.
		 */
		if (it->state != IT_ENV_ICPT && it->state != IT_ENV_SRV)
			item_uncount(s, it);
		if (it->state == IT_BURST)
			burst_end_quiet(s, it);
		else
			item_free(s, it);
	}
	s->env_pending = 0;
	check_done(s);
}

void
scan_set_done_arg(struct scan *s, void *arg)
{
	s->done_arg = arg;
}

uint64_t
scan_cursor(const struct scan *s)
{
	return s->cursor;
}

void
scan_counters(const struct scan *s, struct scan_counters *out)
{
	*out = s->c;
	out->total = s->total;
}

void
scan_stage_stats(const struct scan *s, struct res_run *run)
{
	int i;

	for (i = 0; i < RES_STAGE_COUNT; i++) {
		const struct stage_acc *a = &s->st[i];

		run->stages[i].tested += a->tested;
		run->stages[i].passed += a->passed;
		run->stages[i].failed += a->failed;
		if (a->t_first != 0 && a->t_last >= a->t_first)
			run->stages[i].duration_ms +=
			    (int64_t)((a->t_last - a->t_first) / 1000);
	}
}

int
scan_intercepted(const struct scan *s)
{
	return s->intercepted;
}

int
scan_server_down(const struct scan *s)
{
	return s->server_down;
}

const char *
scan_env_evidence(const struct scan *s)
{
	return s->env_evidence;
}

int
scan_parse_range(
    const char *text, int lo, int hi, int *a, int *b, struct err *e)
{
	char buf[64], *colon;
	long long x, y;

	/* Never parse a silently shortened copy ("38:150" + junk). */
	if (strlen(text) >= sizeof buf)
		return err_set(e, "'%.20s...' is too long for MIN:MAX", text);
	snprintf(buf, sizeof buf, "%s", text);
	if ((colon = strchr(buf, ':')) == NULL)
		return err_set(e, "'%s' is not MIN:MAX", text);
	*colon = '\0';
	if (parse_int(buf, lo, hi, &x, e) == -1 ||
	    parse_int(colon + 1, lo, hi, &y, e) == -1)
		return -1;
	if (x > y)
		return err_set(e, "'%s': MIN above MAX", text);
	*a = (int)x;
	*b = (int)y;
	return 0;
}
