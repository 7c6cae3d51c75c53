/* SPDX-License-Identifier: MIT */
/*
 * scan-int.h — the inside of the scan engine (probe/scan.h), shared by its
 * units and by nothing else:
 *
 *   scan.c	    public API, admission, the tick and the event pump
 *   scan-item.c    item slots, life and death, stage accounting, timers
 *   scan-funnel.c  the per-item state machine: next step, tries, the MTU
 *		    search (proto/mtu.h), handshake permits
 *   scan-query.c   the query of each step (proto/tunnel.h builds it)
 *   scan-net.c	    UDP sockets, the pending table, matching answers
 *   scan-judge.c   what an answer means (public: scan-judge.h)
 *   scan-tcp.c	    the TCP check after TC=1
 *   scan-burst.c   the burst stage
 *   scan-whoami.c  the whoami step after liveness (scan --whoami)
 *   scan-env.c	    the env stage (interception, the server directly)
 *   scan-heap.c    deadline heap
 *
 * The address -> items map (struct scan.amap) is a common/hmap.h
 * multimap keyed by net_addr_hash: several items share an address when
 * there are several domains; put when an item is admitted, looked up for
 * an answer whose ID is not pending (scan-net.c), deleted when the item
 * is freed.
 *
 * Symbols are scan_-prefixed because they cross units; none is part of
 * the module's interface.
 */
#ifndef MDNS_SCAN_INT_H
#define MDNS_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/hmap.h"
#include "common/net.h"
#include "common/result.h"
#include "probe/scan-judge.h"
#include "probe/scan-util.h"
#include "probe/scan.h"
#include "proto/mtu.h"
#include "proto/wire.h"

#define SCAN_NSOCK	 4 /* sockets per family: 4 × 65536 IDs */
#define SCAN_TICK_US	 2000
#define SCAN_DONE_BITS	 (1u << 22) /* positions admitted past cursor */
#define SCAN_RTT_SAMPLES 16
#define SCAN_QBUF	 1100
#define SCAN_RBUF	 65536

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
	IT_TCP,	   /* the first truncated download probe over TCP */
	IT_LOSS,   /* the loss probes after the last stage passed */
	IT_WHOAMI, /* whoami names after liveness (not a stage) */
};

/* What an item's timer means when it fires. */
enum evk {
	EVK_NONE = 0,
	EVK_TIMEOUT,
	EVK_SENDAT,
	EVK_BURST_END,
};

/* ---- containers (scan-heap.c) ------------------------------------------- */

/* Deadlines with generation numbers (lazy cancel), a binary min-heap. */
struct scan_heap_ent {
	uint64_t when;
	uint32_t idx;
	uint32_t gen;
};
struct scan_heap {
	struct scan_heap_ent *v;
	size_t n, cap;
};
void scan_heap_push(
    struct scan_heap *h, uint64_t when, uint32_t idx, uint32_t gen);
/* Remove the earliest entry (h->v[0]); h->n must be > 0. */
void scan_heap_pop(struct scan_heap *h);
void scan_heap_free(struct scan_heap *h);

/* ---- state -------------------------------------------------------------- */

struct item {
	uint64_t pos;
	union net_addr addr;
	uint64_t ahash; /* net_addr_hash(&addr): its key in scan.amap */
	unsigned dom;
	int state;
	int tries; /* attempts of the current query */
	int inflight;
	int queued; /* in the ready queue */
	int sock;
	uint16_t id;
	uint8_t q[SCAN_QBUF];
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
	int last_reason; /* reason of the last failed attempt */
	int64_t rtt[SCAN_RTT_SAMPLES];
	int nrtt;
	int env_idx;
	uint16_t prev_id[4]; /* earlier attempts of this step */
	int8_t prev_sock[4];
	int tcp_fd;  /* -1 when no TCP check runs (scan_slot_get) */
	int tc_cand; /* first download size answered with TC */
	uint8_t *tcp_buf;
	size_t tcp_len;
	struct scan *owner;
	int b_sent, b_ok, b_out, b_refused;
	/* Loss (docs/probes.md): counted probes, those without a valid
	 * answer, how many of them were REFUSED; REFUSED answers to the
	 * step under way; loss probes still to send. */
	int probes, lost, lost_refused, step_refused, loss_left;
	uint64_t b_t0, b_tlast;
	int who; /* IT_WHOAMI: the name asked (index in opts.whoami) */
	struct res_resolver r;
};

struct stage_acc {
	uint32_t tested, passed, failed;
	uint64_t t_first, t_last;
};

struct scan {
	struct ev_loop *loop;
	struct scan_opts o;
	struct wire_cipher *cipher;
	int fd4[SCAN_NSOCK], fd6[SCAN_NSOCK];
	uint32_t *pend4[SCAN_NSOCK], *pend6[SCAN_NSOCK]; /* id -> idx + 1 */
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
	struct scan_heap heap;
	struct hmap amap; /* net_addr_hash(addr) -> item index */

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
	uint8_t rbuf[SCAN_RBUF];
	uint8_t fbuf[8192];
};

/* ---- scan.c ------------------------------------------------------------- */

uint64_t scan_rnd(struct scan *s);
/* Run due timers, admit items and send what the rate allows. */
void scan_pump(struct scan *s);

/* ---- scan-item.c -------------------------------------------------------- */

void scan_trace(struct scan *s, struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A free slot, cleared, or NULL. */
struct item *scan_slot_get(struct scan *s);
/* Release the slot (timers, pending queries, TCP, permit, address map). */
void scan_item_free(struct scan *s, struct item *it);
/* Final verdict: hand the result out and free the slot. */
void scan_item_finish(
    struct scan *s, struct item *it, int ok, enum res_reason reason);
/* Move to state (stage accounting when the stage changes). */
void scan_item_enter(struct scan *s, struct item *it, int state);
/* Arm the item's one timer (EVK_NONE disarms). */
void scan_item_event(struct scan *s, struct item *it, int kind, uint64_t when);
/* Start the query of the current step (first try). */
void scan_item_query(struct scan *s, struct item *it);
/* Send again, honouring the per-resolver pace. */
void scan_item_resend(struct scan *s, struct item *it);
/* Into the ready queue (the token bucket decides when it goes out). */
void scan_item_ready(struct scan *s, struct item *it);
/* Position pos is final: advance the cursor over the done prefix. */
void scan_done_mark(struct scan *s, uint64_t pos);
const struct scan_try *scan_stage_try(const struct scan *s, int state);
/* Undo the stage counts of an item abandoned by scan_stop. */
void scan_item_uncount(struct scan *s, const struct item *it);
static inline uint32_t
scan_item_idx(const struct scan *s, const struct item *it)
{
	return (uint32_t)(it - s->items);
}

/* ---- scan-funnel.c ------------------------------------------------------ */

/* The step after the current one passed. */
void scan_next_step(struct scan *s, struct item *it);
/* Judge m for the item's step (scan-judge.h); the item keeps what it
 * learns (session, cookie, first truncated size). */
enum scan_outcome scan_item_judge(struct scan *s, struct item *it,
    const uint8_t *m, size_t n, uint64_t now, enum res_reason *reason);
/* An answer matched to the item's query arrived at now. */
void scan_item_answer(
    struct scan *s, struct item *it, const uint8_t *m, size_t n, uint64_t now);
/* The current attempt failed (timeout, mismatch); size_final: no retry. */
void scan_attempt_failed(
    struct scan *s, struct item *it, int reason, int size_final);
/* Give the handshake permit back and start the next waiting item. */
void scan_hs_release(struct scan *s, struct item *it);
/* Every stage passed: the loss probes, then the final result. */
void scan_loss_begin(struct scan *s, struct item *it);

/* ---- scan-query.c ------------------------------------------------------- */

/* Build the item's query for its state into it->q (ID 0). 0 / -1. */
int scan_build_query(struct scan *s, struct item *it);
/* The "-> ..." trace line of a query just sent. */
void scan_trace_send(struct scan *s, struct item *it);

/* ---- scan-net.c --------------------------------------------------------- */

/* Open (and with the loop running, watch) the family's sockets. 0 / -1. */
int scan_socks_open(struct scan *s, int family, struct err *e);
int scan_socks_watch(struct scan *s, int family, struct err *e);
void scan_socks_close(struct scan *s);
/*
 * Send the item's query now: build it, pick a socket and a free ID, mark
 * it pending, arm its timeout. Returns 0 (sent, or the item finished on an
 * error), or -1 when the socket buffer is full (try again later).
 */
int scan_send(struct scan *s, struct item *it);
/*
 * Send it->q on socket k with a free random ID and mark it pending for
 * the item. 0, or -1 with errno from sendto.
 */
int scan_send_on(struct scan *s, struct item *it, unsigned k);
/* Forget the item's query in flight. */
void scan_release_pending(struct scan *s, struct item *it);
/* The pending table of the item's address family. */
uint32_t **scan_pend(struct scan *s, const struct item *it);

/* ---- scan-tcp.c, scan-burst.c, scan-env.c ------------------------------- */

void scan_tcp_begin(struct scan *s, struct item *it);
void scan_tcp_done(struct scan *s, struct item *it, int ok, const char *why);
void scan_tcp_close(struct scan *s, struct item *it);

void scan_burst_begin(struct scan *s, struct item *it);
/* One burst answer m[0..n) with ID id on socket k (the pending entry is
 * its); only the server's signature counts. */
void scan_burst_answer(struct scan *s, struct item *it, unsigned k, uint16_t id,
    const union net_addr *from, const uint8_t *m, size_t n, uint64_t now);
void scan_burst_end(struct scan *s, struct item *it);
/* scan_stop: drop the burst without a result. */
void scan_burst_abandon(struct scan *s, struct item *it);

/* Liveness passed and the scan asks whoami names: the first one. */
void scan_whoami_begin(struct scan *s, struct item *it);
/* An answer m[0..n) to the whoami query (ID and question matched). */
void scan_whoami_answer(
    struct scan *s, struct item *it, const uint8_t *m, size_t n);
/* The name got no usable answer in its tries (a res_reason). */
void scan_whoami_failed(struct scan *s, struct item *it, int reason);

void scan_env_start(struct scan *s);
void scan_env_finish(
    struct scan *s, struct item *it, int ok, enum res_reason reason);

#endif
