/* SPDX-License-Identifier: MIT */
/*
 * pool.h — the client's resolver pool (docs/pool.md): connections
 * (resolver × domain), per-connection statistics keyed as upstream keys them
 * (resolver, local socket, DNS id), balancing strategies 1–8, duplication,
 * a preferred resolver per stream with failover, auto-disable of resolvers
 * that only time out, background recheck scheduling, low-MTU outlier
 * removal, and the fast start (the tunnel starts once a minimum working set
 * has passed its MTU tests; later resolvers join live only if they carry
 * the synced MTU).
 *
 * The pool is pure: it sends nothing and reads no clock. Every call that
 * depends on time takes `now` in microseconds of a monotonic clock (the
 * client passes now_mono_us(); tests pass a fake clock). The client does the
 * I/O (MTU probes, queries) and reports results. One thread; not locked.
 *
 * Connection ids are dense: 0 .. pool_size()-1, id = resolver * ndomains +
 * domain (the order upstream builds its list in).
 */
#ifndef MDNS_POOL_H
#define MDNS_POOL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/net.h"
#include "common/util.h"

#define POOL_NONE	UINT32_MAX /* "no connection" */
#define POOL_REASON_MAX 96

/* Balancing strategies (RESOLVER_BALANCING_STRATEGY); 0 = round robin. */
enum pool_strategy {
	POOL_RR_DEFAULT = 0,
	POOL_RANDOM = 1,
	POOL_ROUND_ROBIN = 2,
	POOL_LEAST_LOSS = 3,
	POOL_LOWEST_LATENCY = 4,
	POOL_HYBRID = 5,
	POOL_LOSS_THEN_LATENCY = 6,
	POOL_LOSS_TOP_RANDOM = 7,
	POOL_LOSS_TOP_RR = 8,
};

enum pool_state {
	POOL_TESTING,	 /* queued for or under its first MTU test */
	POOL_ACTIVE,	 /* carries traffic */
	POOL_DISABLED,	 /* auto-disabled (no valid answer for the window) */
	POOL_RECHECKING, /* inactive, a recheck probe is running */
	POOL_REJECTED,	 /* failed its MTU test, outlier, or too small */
};

/* What a frame is, for the duplication count and stream stickiness. */
enum pool_frame {
	POOL_FRAME_OTHER,	  /* any other frame: k = dup */
	POOL_FRAME_STREAM_DATA,	  /* STREAM_DATA: sticky preferred + k-1 */
	POOL_FRAME_STREAM_RESEND, /* STREAM_RESEND: as data, counts resends */
	POOL_FRAME_SETUP,	  /* STREAM_SYN, SOCKS5_SYN, CLOSE_*, packed */
	POOL_FRAME_PING,	  /* PING: k <= 2 */
};

struct pool_cfg {
	int strategy;	    /* 0..8 (default 2: round robin) */
	unsigned dup;	    /* PACKET_DUPLICATION_COUNT (2) */
	unsigned setup_dup; /* SETUP_PACKET_DUPLICATION_COUNT (2) */
	unsigned
	    failover_resends; /* STREAM_RESOLVER_FAILOVER_RESEND_THRESHOLD (2) */
	uint64_t
	    failover_cooldown_us; /* STREAM_RESOLVER_FAILOVER_COOLDOWN (2.5 s) */
	int auto_disable;	  /* AUTO_DISABLE_TIMEOUT_SERVERS (1) */
	uint64_t
	    disable_window_us; /* AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS (30 s) */
	int confirm_down;      /* ask the client for a confirm probe (1) */
	uint64_t packet_timeout_us; /* TUNNEL_PACKET_TIMEOUT_SECONDS (10 s) */
	int recheck;		    /* RECHECK_INACTIVE_SERVERS_ENABLED (1) */
	int remove_low_mtu;	    /* AUTO_REMOVE_LOW_MTU_SERVERS (1) */
	uint64_t
	    mtu_test_timeout_us;    /* MTU_TEST_TIMEOUT (2 s), recheck floor */
	unsigned mtu_parallelism;   /* MTU_TEST_PARALLELISM (16), after start */
	unsigned start_parallelism; /* tests in flight before ready (256) */
	unsigned ready_min;	    /* passed needed to start (3; 0 = all) */
	uint64_t ready_wait_us;	    /* start with >= 1 passed after (6 s) */
	unsigned pending_cap;	    /* tracked queries in flight (12288) */
	unsigned event_cap;	    /* queued events kept (4096) */
	uint64_t seed;		    /* PRNG seed (0: fixed default) */
};

/*
 * One connection; read-only for callers (pool_conn). The pool's own links,
 * flags and windows are private (engine/pool-int.h).
 */
struct pool_conn {
	uint32_t resolver, domain;
	enum pool_state state;
	char reason[POOL_REASON_MAX]; /* why not active ("" when active) */
	unsigned up_mtu, down_mtu;    /* measured (or synced after recheck) */
	/* monotonic counters (never reset) */
	uint64_t sent, answered, timeouts, failures, late;
	/* scoring counters, upstream's half-life (halved past 1000) */
	uint64_t s_sent, s_acked, s_lost, rtt_sum_us, rtt_n;
	uint64_t last_check_us; /* last recheck started */
	uint64_t last_valid_us; /* last valid tunnel answer (0: none) */
};

enum pool_event_kind {
	POOL_EV_DISABLED, /* "resolver_disabled" */
	POOL_EV_ENABLED,  /* "resolver_enabled" */
	POOL_EV_REJECTED, /* "resolver_rejected" */
};

struct pool_event {
	enum pool_event_kind kind;
	uint32_t conn;
	uint64_t at_us; /* the `now` of the call that caused it */
	char detail[POOL_REASON_MAX];
};

/* What pool_check_next asks the client to do with a connection. */
enum pool_check_kind {
	POOL_CHECK_RECHECK, /* upload + download probe at the synced sizes */
	POOL_CHECK_CONFIRM, /* quick "is it down" probe (upstream confirm) */
};

struct pool;

/*
 * The pool settings of a client configuration (the one model,
 * common/config.h: the upstream keys above and our MDNS_* keys); the
 * fields without a key (confirm_down, pending_cap, event_cap) get the
 * constants shown, seed 0.
 */
void pool_cfg_from(struct pool_cfg *c, const struct cfg_client *in);
/* The same for the upstream defaults (cfg_client_defaults). */
void pool_cfg_default(struct pool_cfg *c);

/*
 * Build a pool of nres × ndom connections, all TESTING. The strings and
 * addresses are copied. now starts the fast-start clock. Returns NULL with
 * e set on a bad configuration (no resolvers or domains, strategy outside
 * 0..8, more than 2^31 connections). Free with pool_free.
 */
struct pool *pool_new(const struct pool_cfg *cfg,
    const union net_addr *resolvers, size_t nres, const char *const *domains,
    size_t ndom, uint64_t now, struct err *e);
void pool_free(struct pool *p);

size_t pool_size(const struct pool *p);
/* Connection id (borrowed pointer, valid until pool_free); NULL if bad. */
const struct pool_conn *pool_conn(const struct pool *p, uint32_t id);
const union net_addr *pool_conn_addr(const struct pool *p, uint32_t id);
const char *pool_conn_domain(const struct pool *p, uint32_t id);
const char *pool_state_name(enum pool_state s);
const char *pool_event_kind_name(enum pool_event_kind k);
/* Resolver index of an address (same family, address and port), or -1. */
long pool_resolver_find(const struct pool *p, const union net_addr *a);

/* Counts by state (rechecking counts under disabled in the status). */
struct pool_counts {
	size_t total, active, disabled, rechecking, testing, rejected;
	size_t in_flight_tests, passed_waiting;
};
void pool_counts(const struct pool *p, struct pool_counts *out);

/* ---- MTU tests and the fast start ---- */

/*
 * Up to max connection ids to MTU-test now, written to out; returns how
 * many. Keeps at most start_parallelism (before ready) or mtu_parallelism
 * (after) tests in flight. Before ready the client runs the full upstream
 * sweep; after ready it may probe only at the synced sizes (pool_synced).
 */
size_t pool_mtu_test_next(
    struct pool *p, uint64_t now, uint32_t *out, size_t max);
/*
 * Report a finished MTU test. ok: up/down are the MTUs found. !ok: why
 * ("upload MTU probe failed at 38: timeout"); up/down ignored. After ready a
 * pass joins live only if up >= synced upload and down >= synced download,
 * else it is rejected with the reason. Returns 0, or -1 with e set when id
 * is unknown or not under test.
 */
int pool_mtu_result(struct pool *p, uint32_t id, int ok, unsigned up,
    unsigned down, const char *why, uint64_t now, struct err *e);
/*
 * 1 once the working set is in (synced MTUs fixed, survivors ACTIVE), 0
 * before. Sets *up and *down (each may be NULL) when ready. Checks the
 * time rule, so call it (or pool_tick) with the current time.
 */
int pool_ready(struct pool *p, uint64_t now, unsigned *up, unsigned *down);
/* 1 when every connection was tested and none passed: the tunnel cannot
 * start ("No valid connections"); the reasons are in the list. */
int pool_failed(const struct pool *p);
/* Synced MTUs (0, 0 before ready). */
void pool_synced(const struct pool *p, unsigned *up, unsigned *down);

/* ---- Balancing and duplication (hot path) ---- */

/* Duplication count for a frame class: upstream's rule (setup = max(dup,
 * setup_dup), ping = min(dup, 2)); not clamped to the active count. */
unsigned pool_dup_count(const struct pool *p, enum pool_frame cls);
/*
 * Pick up to k distinct ACTIVE connections by the strategy; returns how
 * many (min(k, active)); 0 when nothing is active.
 */
size_t pool_pick(struct pool *p, size_t k, uint32_t *out);
/*
 * The targets for one frame: k = pool_dup_count(cls) (clamped to cap and
 * the active count); stream data and resends with k > 1 use the stream's
 * preferred resolver first (failover after failover_resends resends unless
 * within the cooldown) plus k-1 by the strategy. Returns how many.
 */
size_t pool_select(struct pool *p, enum pool_frame cls, uint16_t stream,
    uint64_t now, uint32_t *out, size_t cap);
/* Stream routing state (upstream EnsureStream/NoteStreamProgress/Cleanup). */
void pool_stream_open(struct pool *p, uint16_t stream);
void pool_stream_progress(struct pool *p, uint16_t stream);
void pool_stream_close(struct pool *p, uint16_t stream);
/* Current preferred connection of a stream, or POOL_NONE. */
uint32_t pool_stream_preferred(const struct pool *p, uint16_t stream);

/* ---- Statistics ---- */

/* A query (DNS id) went to connection id over local socket `local`. */
void pool_on_send(
    struct pool *p, uint32_t id, int local, uint16_t dns_id, uint64_t now);
/*
 * An answer came from resolver index `resolver` on socket `local`. rcode 0
 * is a success (the client passes 0 only for a valid tunnel answer: a
 * frame that decoded with its key), anything else a failure (the client
 * passes -1 for NOERROR without a valid frame). Returns the
 * connection the query was sent to (and *rtt_us if not NULL), or POOL_NONE
 * when no query matches (unknown or evicted: nothing is counted).
 */
uint32_t pool_on_answer(struct pool *p, uint32_t resolver, int local,
    uint16_t dns_id, int rcode, uint64_t now, uint64_t *rtt_us);
/* The client declares a query lost now (optional; pool_tick finds them
 * itself after the request timeout). Returns the connection or POOL_NONE. */
uint32_t pool_on_timeout(struct pool *p, uint32_t resolver, int local,
    uint16_t dns_id, uint64_t now);
/* Request timeout currently used for the queries of the pool. */
uint64_t pool_request_timeout(const struct pool *p);
/* Decayed mean RTT of a connection in µs (0 when it has no sample) and
 * loss over the sliding window (0..1; 0 without samples). */
uint64_t pool_conn_rtt_us(const struct pool *p, uint32_t id);
double pool_conn_loss(const struct pool *p, uint32_t id, uint64_t now);

/*
 * Housekeeping: expires queries past the request timeout (timeouts, which
 * may auto-disable), applies the fast-start time rule. Call at least at
 * pool_next_deadline(). Cost: O(expired) amortised.
 */
void pool_tick(struct pool *p, uint64_t now);
/* Earliest time pool_tick or pool_check_next has work (UINT64_MAX: none). */
uint64_t pool_next_deadline(const struct pool *p, uint64_t now);

/* ---- Auto-disable confirm and background rechecks ---- */

/*
 * Connections to probe now (up to max); kinds[i] says what to do with
 * out[i]. CONFIRM: a connection about to be disabled (upstream's quick
 * probe; report down/up with pool_check_result). RECHECK: an inactive
 * (disabled or rejected) connection whose turn has come; probe upload at
 * the synced upload MTU and download at the synced download MTU, each up to
 * pool_recheck_timeout(). The pool decides batch size and spacing from the
 * active and inactive counts (upstream's tables).
 */
size_t pool_check_next(struct pool *p, uint64_t now, uint32_t *out,
    enum pool_check_kind *kinds, size_t max);
/* Probe timeout for rechecks now (grows when few resolvers are active). */
uint64_t pool_recheck_timeout(const struct pool *p);
/*
 * Report a CONFIRM or RECHECK outcome (ok = the probes passed). A passed
 * recheck re-enables the connection; a failed confirm disables it. Returns
 * 0, or -1 with e set when id is not being checked.
 */
int pool_check_result(
    struct pool *p, uint32_t id, int ok, uint64_t now, struct err *e);

/* ---- MTU probes (pool-probe.c) ---- */

/*
 * The pool runs the MTU tests, confirms and rechecks it schedules as
 * probes: series of MTU_UP_REQ / MTU_DOWN_REQ queries to one connection,
 * each size tried up to `retries` times with its own timeout, sized by
 * upstream's search (proto/mtu.h) before ready and at the synced
 * MTUs after. The client does the I/O: it sends each query the pool
 * hands out (pool_probe_next) with a DNS id of its choice, says so
 * (pool_probe_sent), and gives back every answer to an id a probe holds
 * (pool_probe_answer). Outcomes go to pool_mtu_result /
 * pool_check_result inside the pool; probes are never traffic
 * (pool_on_send / pool_on_answer).
 */
struct pool_probe_cfg {
	unsigned min_up, max_up;     /* MIN/MAX_UPLOAD_MTU */
	unsigned min_down, max_down; /* MIN/MAX_DOWNLOAD_MTU */
	unsigned retries;	     /* MTU_TEST_RETRIES (>= 1) */
	uint64_t timeout_us;	     /* MTU_TEST_TIMEOUT */
	const unsigned *up_cap;	     /* per domain: most upload bytes a QNAME
					carries (copied) */
	uint32_t first_code;	     /* probe codes count up from here */
};

/* One probe query to send. */
struct pool_probe_query {
	uint32_t conn;
	int download;  /* 0: MTU_UP_REQ of `size` bytes; 1: MTU_DOWN_REQ */
	unsigned size; /* upload size, or the download size asked for */
	unsigned pad;  /* MTU_DOWN_REQ padding: max(7, upload MTU) */
	uint32_t code; /* probe code, new for every attempt */
	void *tag;     /* the pool's; give it back to pool_probe_sent */
};

/* Settings for every probe (call once, before the first tick). */
void pool_probe_setup(struct pool *p, const struct pool_probe_cfg *c);
/*
 * Expire attempts past their timeout (retry, next size or a result),
 * then start the tests and checks the pool schedules now. Call on every
 * tick, before taking the queries.
 */
void pool_probe_tick(struct pool *p, uint64_t now);
/* The next query to send into *q: 1, or 0 when none is due. */
int pool_probe_next(struct pool *p, struct pool_probe_query *q);
/* q went out (or failed to) with dns_id at now: its timeout starts. */
void pool_probe_sent(struct pool *p, const struct pool_probe_query *q,
    uint16_t dns_id, uint64_t now);
/* Whether a probe waits for an answer with this DNS id. */
int pool_probe_holds(const struct pool *p, uint16_t dns_id);
/*
 * An answer with dns_id from resolver index `resolver` (-1: unknown, as
 * in tests) carrying frame f (NULL: no frame; its payload as it came, not
 * inflated). Returns 1 when a probe held the id (the attempt passed when
 * f is the echo mtu_probe_check wants, else failed; *rtt_us, if not
 * NULL, gets its answer time), else 0.
 */
struct wire_frame;
int pool_probe_answer(struct pool *p, long resolver, uint16_t dns_id,
    const struct wire_frame *f, uint64_t now, uint64_t *rtt_us);
/* Probes running. */
size_t pool_probes_running(const struct pool *p);

/* ---- Events and status ---- */

/* Pop the oldest queued event into *ev; 1 if one was there, else 0. */
int pool_event_next(struct pool *p, struct pool_event *ev);
/* Events dropped because the queue was full (oldest first). */
uint64_t pool_events_dropped(const struct pool *p);
/*
 * The "resolvers" member of the control protocol's STATUS: total, active,
 * disabled (incl. rechecking), testing, rejected and list (address,
 * domain, state, reason, upload_mtu, download_mtu, rtt_ms, loss, sent,
 * answered, timeouts, last_valid_answer_age_ms: null when none). list_max > 0 caps the list (active first, then the
 * rest in id order); 0 lists all. Returns a new reference.
 */
json_t *pool_status_json(const struct pool *p, uint64_t now, size_t list_max);

/*
 * Upstream's low-MTU outlier rule (AUTO_REMOVE_LOW_MTU_SERVERS) over n >= 5
 * passed connections: sets drop[i] = 1 for each one to drop, writes the
 * upload/download targets used (0 when that axis is not filtered) and
 * returns how many are dropped (0: keep all; fewer than 5 always keeps).
 */
size_t pool_outlier_filter(const unsigned *up, const unsigned *down, size_t n,
    uint8_t *drop, unsigned *target_up, unsigned *target_down);

/* Upstream's scaling tables, exposed for tests and the docs. */
unsigned pool_disable_min_obs(size_t active, uint64_t window_us);
uint64_t pool_check_interval_us(size_t active, uint64_t window_us);
uint64_t pool_recheck_interval_us(size_t active, size_t inactive);
unsigned pool_recheck_batch(size_t active, size_t inactive);

#endif
