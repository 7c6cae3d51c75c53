/* SPDX-License-Identifier: MIT */
/*
 * pool-int.h — the resolver pool's private state, shared by its files
 * (not a public interface; callers use engine/pool.h):
 *
 *   pool.c        connections, statistics and scores, states, the fast
 *                 start, auto-disable, confirm and recheck scheduling
 *   pool-pend.c   queries in flight (resolver, socket, DNS id) and expiry
 *   pool-pick.c   balancing strategies, duplication, stream routes
 *   pool-status.c events and the STATUS export
 *   pool-tables.c upstream's scaling tables and the low-MTU outlier rule
 *   pool-probe.c  the MTU tests, confirms and rechecks as probes
 *   stree.c       the order-statistic tree the strategies rank with
 *
 * The MTU search itself is proto/mtu.h (shared with `scan` and `mtu`).
 */
#ifndef MDNS_POOL_INT_H
#define MDNS_POOL_INT_H

#include "common/hmap.h"
#include "engine/pool.h"
#include "engine/stree.h"
#include "proto/mtu.h"

#define NIL	     UINT32_MAX
#define NBUCKET	     6
#define LOSS_UNKNOWN 200
#define LAT_UNKNOWN  999000
#define S(x)	     ((uint64_t)(x)*1000000u)
#define MS(x)	     ((uint64_t)(x)*1000u)

/* Per-connection state callers never see (links, flags, windows). */
struct pool_link {
	uint32_t act_pos;	   /* index in the active array */
	uint32_t in_prev, in_next; /* inactive FIFO */
	uint32_t epoch;		   /* bumped when it leaves ACTIVE */
	/* sliding loss window: NBUCKET buckets over the disable window */
	uint32_t w_ok[NBUCKET], w_bad[NBUCKET];
	uint64_t w_epoch; /* bucket number of w_*[epoch % NBUCKET] */
	/* auto-disable: current run of failures with no answer */
	uint64_t streak_start_us; /* send time of its first query */
	uint32_t streak_n;
	uint8_t passed, in_fifo, testing, confirming, checking;
	enum pool_state prev_state; /* state to return to after a recheck */
};

/* A query in flight. */
struct pend {
	uint32_t resolver, conn;
	int local;
	uint16_t id;
	uint8_t used, timed_out;
	uint64_t sent, timed_out_at;
	uint32_t prev, next;
};

/* A stream's preferred connection and failover state. */
struct route {
	uint32_t pref, pref_epoch;
	uint32_t streak;
	uint8_t exists, failed_over;
	uint64_t last_failover;
};

/* An MTU test, confirm or recheck of one connection (pool-probe.c). */
enum probe_kind {
	PROBE_SWEEP,   /* upstream's full search (before ready) */
	PROBE_SYNCED,  /* first test after ready: synced sizes only */
	PROBE_RECHECK, /* recheck: synced sizes, recheck timeout */
	PROBE_CONFIRM, /* confirm: one upload probe, <= 1 s */
};

struct pool_probe {
	uint32_t conn;
	enum probe_kind kind;
	int stage; /* 0 upload, 1 download */
	/* this stage's search: attempts, deadlines, the best size; after
	 * ready a search over the one synced size */
	struct mtu_search ms;
	unsigned attempts, up_mtu; /* tries per size; upload MTU (padding) */
	uint32_t code;
	int dns_id;	     /* -1: no query out */
	int due;	     /* on the due list: wants a query sent */
	uint64_t timeout_us; /* per attempt */
	struct pool_probe *prev, *next; /* all probes */
	struct pool_probe *due_next;
};

struct pool {
	struct pool_cfg cfg;
	union net_addr *res;
	size_t nres;
	char **dom;
	size_t ndom;
	struct hmap rhash; /* resolver address -> index */
	struct pool_conn *c;
	struct pool_link *l;
	uint32_t n;
	uint64_t start, last_now;
	uint64_t rng;
	uint64_t rr;
	/* active set */
	uint32_t *act;
	uint32_t nact;
	size_t cnt[5];
	uint32_t n_loss_sig, n_lat_sig;
	/* exploration of connections whose loss is unknown (pool-pick.c):
	 * the scan's cursor in act[], picks without duplication seen */
	uint32_t explore_at;
	uint64_t explore_n;
	/* tree over active connections keyed by score << 32 | id (3..8) */
	int use_tree;
	struct stree tree;
	struct stree_node *tn;
	/* strategy 6 candidate cache */
	uint32_t *cand;
	uint32_t ncand;
	uint64_t cand_at;
	int cand_valid;
	/* fast start */
	uint32_t next_test, tests_in_flight, npassed;
	uint32_t *passed;
	int ready;
	unsigned sync_up, sync_down;
	/* inactive FIFO for rechecks (disabled/rejected), by last check */
	uint32_t in_head, in_tail;
	uint32_t checks_in_flight;
	uint64_t next_poll;
	uint32_t *confirm;
	uint32_t nconfirm, confirm_cap;
	/* queries in flight */
	struct pend *pe;
	uint32_t pcap, pfree, phead, ptail, pcursor, pcount;
	struct hmap pend_map; /* (resolver, socket, DNS id) -> pe index */
	/* streams */
	struct route *routes;
	/* probes */
	struct pool_probe_cfg pcfg;
	unsigned *up_cap; /* per domain */
	struct pool_probe *probes, **probe_by_id;
	struct pool_probe *due_head, *due_tail;
	size_t nprobes;
	uint32_t probe_code;
	/* events */
	struct pool_event *ev;
	uint32_t ev_head, ev_len;
	uint64_t ev_dropped;
};

/* pool.c */
uint64_t pool_rnd(struct pool *p);
uint64_t pool_loss_score(const struct pool_conn *c);
uint64_t pool_lat_penalty(const struct pool_conn *c);
int pool_is_active(const struct pool *p, uint32_t id);
void pool_check_ready(struct pool *p, uint64_t now);
/* A query of connection id was sent / answered / lost (statistics). */
void pool_stat_sent(struct pool *p, uint32_t id);
void pool_stat_answer(
    struct pool *p, uint32_t id, int late, uint64_t now, uint64_t rtt_us);
void pool_stat_fail(
    struct pool *p, uint32_t id, uint64_t sent, uint64_t at, int timeout);

/* pool-pend.c */
void pool_pend_init(struct pool *p);
uint64_t pool_pend_deadline(const struct pool *p, uint64_t req);

/* pool-probe.c */
void pool_probe_free_all(struct pool *p);

/* pool-status.c */
void pool_push_event(struct pool *p, enum pool_event_kind k, uint32_t id,
    uint64_t now, const char *detail);

#endif
