/* SPDX-License-Identifier: MIT */
/*
 * scan.h — the staged resolver scan: one event loop, thousands of
 * resolver × domain items in flight, a global queries-per-second limit,
 * per-resolver pacing, a seeded shuffle and per-stage timeouts and tries.
 *
 * Funnel per item (docs/probes.md has the details and every reason code):
 *   env	  once per scan, before any item: queries to addresses that
 *		  cannot be resolvers must stay unanswered (interception), and
 *		  the tunnel server, when its address is given, must answer a
 *		  random in-zone name with its signature NODATA;
 *   liveness	  a well-formed answer (any RCODE) from the probed address
 *		  with our ID and question, for a neutral name (root NS by
 *		  default) that does not involve the tunnel server;
 *   (whoami)	  only with opts.nwhoami: whoami names through the resolver,
 *		  its egress address recorded; never fails the item;
 *   reach	  a TXT query for a random undecodable in-zone name must get
 *		  the server's signature answer (NOERROR, no records, AA=0);
 *   mtu	  the upstream upload then download MTU search with MTU_UP /
 *		  MTU_DOWN probes (needs the key);
 *   handshake	  SESSION_INIT -> ACCEPT (our verify code), PING -> PONG,
 *		  SESSION_CLOSE;
 *   burst	  optional: K queries at once, success rate and answers/s.
 * An item stops at its first failing stage; its result (common/result.h)
 * is handed to on_result as soon as it is final.
 *
 * Order and resume: the items are the addresses of the lists × the
 * domains; they are visited in the order of a seeded permutation
 * (scan-util.h) of that index space. scan_cursor() is the lowest shuffled
 * position whose result has not been handed out yet, so "every position
 * below the cursor is done": store it with the results (store_add_batch)
 * and a later scan_start(.., cursor, skip) continues exactly.
 *
 * The scan owns its sockets and timers on the caller's loop; it never
 * prints and never exits. Return convention: 0 / -1 with struct err.
 */
#ifndef MDNS_SCAN_H
#define MDNS_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/resolvers.h"
#include "common/result.h"
#include "common/util.h"

#define SCAN_MAX_DOMAINS    16
#define SCAN_MAX_ENV_PROBES 8
#define SCAN_WHOAMI_MAX	    4 /* whoami names (scan --whoami) */

/* Timeout and attempts of one stage. */
struct scan_try {
	int timeout_ms;
	int tries;
};

struct scan_opts {
	const char *domains[SCAN_MAX_DOMAINS]; /* borrowed */
	size_t ndomains;
	int method;	 /* DATA_ENCRYPTION_METHOD 0..5 */
	const char *key; /* key text (borrowed); NULL: no key */
	size_t keylen;
	int response_mode; /* 0 raw, 1 base64 TXT answers */

	const char *liveness_name; /* neutral name; NULL/"." = root NS */
	enum res_stage max_stage;  /* last stage to run */
	int burst;		   /* burst queries, 0 = no burst stage */
	/*
	 * Loss: after its last stage passed, an item sends loss_probes more
	 * in-zone TXT probes, one at a time (one try each, reach timeout),
	 * and its loss over every counted probe (docs/probes.md, "Loss")
	 * above max_loss_pct makes it DEGRADED instead of OK.
	 */
	int loss_probes;
	double max_loss_pct;
	/*
	 * Whoami (scan --whoami; docs/checks.md): after liveness passed, the
	 * item asks these names (TXT, in order, liveness timeout and tries)
	 * through the resolver until one answers with an address: the
	 * resolver's egress, in r.whoami. It never fails an item and its
	 * tries are not counted as loss. nwhoami 0: no whoami step at all.
	 */
	const char *whoami[SCAN_WHOAMI_MAX]; /* borrowed */
	size_t nwhoami;

	double rate;	 /* global queries/s, <= 0 unlimited */
	int parallel;	 /* items in flight at most */
	int pace_ms;	 /* min gap between queries to one resolver */
	int hs_parallel; /* handshakes at once (255 session slots) */
	struct scan_try t_live, t_reach, t_mtu, t_hs;
	int min_up, max_up, min_down, max_down; /* MTU search ranges */
	uint64_t seed;				/* shuffle seed */

	/* Stage env: addresses that must not answer; the server address. */
	union net_addr intercept[SCAN_MAX_ENV_PROBES];
	size_t nintercept;
	union net_addr server;
	int have_server;

	/* Callbacks (all optional). r and c are valid during the call. */
	void (*on_result)(
	    void *arg, uint64_t pos, const struct res_resolver *r);
	void (*on_check)(void *arg, const struct res_check *c);
	/* One line per step (sent / received / decided), for mtu/handshake. */
	void (*on_trace)(
	    void *arg, const struct res_resolver *r, const char *line);
	/* Called once when every item is final (or after scan_stop). */
	void (*on_done)(void *arg);
	/* Resume: return 1 when the item at pos is already stored. */
	int (*skip)(void *arg, const union net_addr *a, const char *domain);
	void *arg;
};

/* Counters for progress display and benchmarks. */
struct scan_counters {
	uint64_t total;	  /* items (addresses × domains) */
	uint64_t done;	  /* final results handed out or skipped */
	uint64_t skipped; /* done by an earlier run (resume) */
	uint64_t passed;  /* items that passed every stage */
	uint64_t sent, received, stray, send_errors;
	uint64_t inflight; /* items being probed now */
	uint64_t peak_inflight;
	uint64_t queries_inflight, peak_queries_inflight;
};

struct scan;

/* Defaults: rate 500/s, parallel 2048, pace 0, hs_parallel 32, liveness
 * 1.5 s × 2, reach 2 s × 2, mtu 2 s × 2 (upstream), handshake 3 s × 3,
 * ranges up 38..150 and down 100..500 (upstream client defaults), seed 1,
 * stages up to handshake, raw answers, method METHOD_DEFAULT (5,
 * AES-256-GCM: our default, as the configuration model's), 10 loss
 * probes, 10 % loss allowed. */
void scan_opts_defaults(struct scan_opts *o);

/* A scan on loop (which must outlive it). Opens its sockets. */
struct scan *scan_new(
    struct ev_loop *loop, const struct scan_opts *o, struct err *e);
void scan_free(struct scan *s);

/* Add one target address (port set) before scan_start. */
void scan_add(struct scan *s, const union net_addr *a);
/*
 * Stream a resolver list (rl_open) into the scan. Bad lines go to
 * opts->on_error (see resolvers.h); returns 0, or -1 with e set when the
 * file cannot be read (or, strict, on the first bad line).
 */
int scan_add_list(struct scan *s, const char *path, const struct rl_opts *opts,
    struct err *e);
/* Number of addresses added so far. */
uint64_t scan_naddrs(const struct scan *s);

/*
 * Start: env checks, then items from shuffled position start_pos on.
 * Returns 0, or -1 with e set. on_done comes from the loop.
 */
int scan_start(struct scan *s, uint64_t start_pos, struct err *e);
/* Stop admitting and abandon items in flight (SIGINT); on_done follows. */
void scan_stop(struct scan *s);

/* Pass arg to on_done instead of opts->arg (for wrappers). */
void scan_set_done_arg(struct scan *s, void *arg);

/* Lowest shuffled position not yet final. */
uint64_t scan_cursor(const struct scan *s);
void scan_counters(const struct scan *s, struct scan_counters *out);
/* Per-stage tested/passed/failed/duration into run->stages (adds). */
void scan_stage_stats(const struct scan *s, struct res_run *run);
/* 1 when the env stage found interception, 0 otherwise. */
int scan_intercepted(const struct scan *s);
/*
 * Whether interception on the path can touch a resolver at addr (numeric
 * text) and port: UDP/53 to an address that is not loopback. Only those
 * results carry the interception mark, and only they raise the exit code.
 */
int scan_intercept_can_affect(const char *addr, uint16_t port);
/* 1 when --server was given and did not answer with its signature. */
int scan_server_down(const struct scan *s);
/* Evidence of the env stage (borrowed text, "" before it ran). */
const char *scan_env_evidence(const struct scan *s);

#endif
