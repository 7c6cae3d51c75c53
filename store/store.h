/* SPDX-License-Identifier: MIT */
/*
 * store.h — the SQLite history of mdns-doctor: runs, resolver results,
 * checks, engine snapshots and scan progress (for --resume).
 *
 * The database is opened in WAL mode with a 5 s busy timeout and foreign
 * keys on; the schema version lives in PRAGMA user_version and is brought
 * forward by an array of migrations (docs/store.md). Every statement that
 * carries a value is prepared and bound; timestamps are integer UTC
 * milliseconds. Enum values of the result model are stored by their stable
 * names (res_*_name()), never by number.
 *
 * A struct store is one connection; use it from one thread. Several
 * processes may open the same file (WAL readers do not block the writer;
 * writers wait up to the busy timeout).
 *
 * Return convention: 0 on success, -1 with e set ("cannot open DB PATH:
 * reason", "store: ..."). Lookups that may find nothing return 1 for
 * "not found".
 *
 * Reading back (the second half of this header) is what `history`,
 * `report` and `check` build on: runs, the last-known-good resolvers,
 * the difference of two runs, one resolver's timeline, the latest checks
 * and the engine snapshots; docs/store.md lists which query answers which
 * question. The periodic snapshot writer of `connect` and `serve` sits on
 * the same API (store_snap_*).
 */
#ifndef MDNS_STORE_H
#define MDNS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/ev.h"
#include "common/result.h"
#include "common/util.h"

/* The schema version this build writes and understands. */
#define STORE_SCHEMA_VERSION 5

struct store;

/* A row of the runs table. */
struct store_run_info {
	int64_t id;
	char command[RES_COMMAND_MAX];
	char args_digest[RES_DIGEST_MAX];
	char version[RES_VERSION_MAX];
	char host[256];
	char status[32];    /* "running" until store_run_end() */
	int64_t started_ms; /* wall UTC ms */
	int64_t ended_ms;   /* wall UTC ms; 0 while running */
};

/* Scan position for --resume (docs/store.md, "Resume"). */
struct store_progress {
	uint64_t seed;	   /* seed of the deterministic shuffle */
	uint64_t position; /* every index below this is committed */
	uint64_t total;	   /* number of items in the shuffled list */
};

/*
 * Open (creating if needed) the database at path. Missing parent
 * directories are created with mode 0700. Applies pending migrations;
 * refuses a file whose user_version is newer than STORE_SCHEMA_VERSION.
 * Returns the handle or NULL with e = "cannot open DB PATH: reason".
 */
struct store *store_open(const char *path, struct err *e);

/* store_open_flags flags */
#define STORE_NO_CREATE 0x1 /* a missing file is an error, not a new DB */

/*
 * store_open with flags. With STORE_NO_CREATE a missing file fails with
 * "no history at PATH (nothing has been stored there yet)" and nothing is
 * created: readers (history, report) must not leave empty files behind.
 */
struct store *store_open_flags(const char *path, unsigned flags, struct err *e);

/*
 * How long a statement waits for another process's write lock before it
 * fails with "database is locked" (store_open sets 5000 ms). The engine's
 * snapshot writer uses a short one so that it never holds up its loop.
 */
void store_set_busy_timeout(struct store *s, int ms);

/*
 * The history file's default place, $XDG_STATE_HOME/mdns-doctor/history.db
 * with the fallbacks of common/path.h; malloc'd, or NULL with e set.
 */
char *store_default_path(struct err *e);

/* Finish statements and close. NULL is fine. */
void store_close(struct store *s);

/* The schema version of the open file (PRAGMA user_version). */
int store_schema_version(struct store *s);

/*
 * Start a run: inserts into runs with status "running", started_ms now,
 * host from gethostname(). Sets *run_id.
 */
int store_run_begin(struct store *s, const char *command,
    const char *args_digest, const char *version, int64_t *run_id,
    struct err *e);

/*
 * End a run: sets ended_ms to now and status (free text; the CLI uses
 * "ok", "warning", "critical", "unknown", "interrupted").
 */
int store_run_end(
    struct store *s, int64_t run_id, const char *status, struct err *e);

/* Save the per-stage counters of a run (replaces earlier ones). */
int store_run_stats(
    struct store *s, int64_t run_id, const struct res_run *run, struct err *e);

/*
 * Read a run back as a summary for the sinks (command, digest, version,
 * times, stage counters). Returns 0, 1 when there is no such run, -1.
 */
int store_run_get(struct store *s, int64_t run_id, struct res_run *out,
    struct store_run_info *info, struct err *e);

/*
 * The most recent run (largest started_ms, then id) of command, and, when
 * args_digest is not NULL, with that digest. Returns 0 and fills out, 1
 * when there is none, -1 on error.
 */
int store_last_run(struct store *s, const char *command,
    const char *args_digest, struct store_run_info *out, struct err *e);

/*
 * Add n results to run_id in one transaction: either all rows are stored
 * or none. at_ms 0 in a result is stored as now. The arrays stay the
 * caller's.
 */
int store_add_results(struct store *s, int64_t run_id,
    const struct res_resolver *arr, size_t n, struct err *e);

/*
 * Like store_add_results, and in the same transaction set the run's scan
 * progress to *p (p may be NULL). This is what makes --resume exact: the
 * cursor never runs ahead of or behind the committed results.
 */
int store_add_batch(struct store *s, int64_t run_id,
    const struct res_resolver *arr, size_t n, const struct store_progress *p,
    struct err *e);

/* Add one check result (at_ms 0 = now). */
int store_add_check(
    struct store *s, int64_t run_id, const struct res_check *c, struct err *e);

/*
 * Add an engine snapshot. run_id 0 = not tied to a run; at_ms 0 = now.
 * counters_json must be a JSON object (checked; stored as text).
 */
int store_add_snapshot(struct store *s, int64_t run_id, int64_t at_ms,
    const char *phase, int64_t session_id, const char *counters_json,
    struct err *e);

/*
 * Callback for result listings. Return 0 to continue, non-zero to stop
 * (the listing then returns 0). r is valid only during the call.
 */
typedef int (*store_result_cb)(
    void *arg, int64_t run_id, const struct res_resolver *r);
typedef int (*store_check_cb)(
    void *arg, int64_t run_id, const struct res_check *c);

/*
 * Every stored result for address (as stored: numeric text, no port),
 * newest first (at_ms, then insertion order, descending).
 */
int store_resolver_history(struct store *s, const char *address,
    store_result_cb cb, void *arg, struct err *e);

/* The results of one run in insertion order (to re-emit through sinks). */
int store_run_results(struct store *s, int64_t run_id, store_result_cb cb,
    void *arg, struct err *e);

/* The checks of one run in insertion order. */
int store_run_checks(struct store *s, int64_t run_id, store_check_cb cb,
    void *arg, struct err *e);

/* Set / read the scan progress of a run. get returns 1 when none. */
int store_progress_set(struct store *s, int64_t run_id,
    const struct store_progress *p, struct err *e);
int store_progress_get(
    struct store *s, int64_t run_id, struct store_progress *p, struct err *e);

/* ---- reading back (history, report, check) ---------------------------- */

/* A run with how much it holds (store_runs). */
struct store_run_row {
	struct store_run_info info;
	uint64_t nresults; /* resolver results */
	uint64_t npassed;  /* of those, verdict ok or degraded */
	uint64_t nchecks;
	uint64_t nsnapshots;
};

/* Which runs store_runs lists. Zeroed: every run. */
struct store_run_filter {
	const char *command; /* only this command; NULL: any */
	int64_t since_ms;    /* started at or after; 0: no bound */
	size_t limit;	     /* at most this many (newest); 0: no limit */
};

typedef int (*store_run_cb)(void *arg, const struct store_run_row *r);

/* Runs newest first (started_ms, then id, descending). */
int store_runs(struct store *s, const struct store_run_filter *f,
    store_run_cb cb, void *arg, struct err *e);

/*
 * The run of command that came before run_id: the newest with an earlier
 * (started_ms, id), and with args_digest when not NULL (the same scan of
 * the same list). Returns 0, 1 when there is none, -1.
 */
int store_run_before(struct store *s, int64_t run_id, const char *command,
    const char *args_digest, struct store_run_info *out, struct err *e);

/*
 * One resolver x port x domain of the last-known-good list: its newest
 * passing result (verdict ok or degraded) with the MTUs, RTT and loss
 * measured then, and what happened to it since.
 */
struct store_good {
	struct res_resolver ok;	       /* the newest passing result */
	int64_t ok_run;		       /* its run */
	int64_t seen_ms;	       /* the newest result of any verdict */
	int64_t seen_run;	       /* its run */
	enum res_verdict seen_verdict; /* and its verdict and reason: */
	enum res_reason seen_reason;   /* fail here = broken since */
	uint32_t npassed;	       /* passing results since since_ms */
	uint32_t ntested; /* results of any verdict since since_ms */
};

typedef int (*store_good_cb)(void *arg, const struct store_good *g);

/*
 * Every resolver x port x domain that passed at least once at or after
 * since_ms (0: ever), ordered by address, port, domain. A later failing
 * run does not remove an entry: that is what "last known good" means
 * (seen_verdict says it failed since). Served by the partial index
 * results_passed.
 */
int store_good(struct store *s, int64_t since_ms, store_good_cb cb, void *arg,
    struct err *e);

/*
 * The results of two runs side by side, joined on address, port and
 * domain: cb gets a and b, either NULL when that run has no result for
 * the key; first every key of run_a (in address, port, domain order),
 * then the keys only run_b has. The caller decides what counts as a
 * change. (A run holds one result per key; were there two, both pair.)
 */
typedef int (*store_pair_cb)(
    void *arg, const struct res_resolver *a, const struct res_resolver *b);
int store_run_pairs(struct store *s, int64_t run_a, int64_t run_b,
    store_pair_cb cb, void *arg, struct err *e);

/*
 * The newest check of every (kind, subject) at or after since_ms, with
 * the run it belongs to; ordered by kind, then subject.
 */
int store_latest_checks(struct store *s, int64_t since_ms, store_check_cb cb,
    void *arg, struct err *e);

/* One engine snapshot (store_snapshots). Text fields are borrowed. */
struct store_snapshot {
	int64_t id;
	int64_t run_id;	      /* 0: not tied to a run */
	int64_t at_ms;	      /* wall UTC ms */
	const char *phase;    /* "connected", "serving", ... */
	int64_t session_id;   /* -1: none */
	const char *counters; /* the JSON object as stored */
};

typedef int (*store_snapshot_cb)(void *arg, const struct store_snapshot *sn);

/*
 * Snapshots oldest first: of run_id (0: of every run and none) at or
 * after since_ms (0: all).
 */
int store_snapshots(struct store *s, int64_t run_id, int64_t since_ms,
    store_snapshot_cb cb, void *arg, struct err *e);

/*
 * Delete snapshots older than before_ms (0: none by age) and beyond the
 * newest keep_rows (0: no cap), in one transaction. *deleted (may be
 * NULL) gets the number of rows removed.
 */
int store_prune_snapshots(struct store *s, int64_t before_ms,
    uint64_t keep_rows, uint64_t *deleted, struct err *e);

/*
 * Group writes into one transaction (BEGIN IMMEDIATE ... COMMIT): the
 * insert functions above and store_prune_snapshots join an open one.
 * commit rolls back when it fails.
 */
int store_tx_begin(struct store *s, struct err *e);
int store_tx_commit(struct store *s, struct err *e);
void store_tx_rollback(struct store *s);

/* Whether the last failure was another process holding the lock. */
int store_locked(struct store *s);

/* ---- the engine's periodic snapshots ------------------------------------ */

/*
 * A snapshot writer for a running engine (`connect`, `serve`): every
 * interval it asks fn for the engine's status (the object the control
 * socket serves), adds the events seen since the last snapshot, and
 * writes it as one engine_snapshots row in one small transaction that
 * also applies the retention. It runs on the engine's loop: a write that
 * would wait for another process's lock longer than busy_ms is skipped
 * and counted, never waited out. docs/store.md has the defaults and the
 * cost measured per snapshot.
 */
struct store_snap_opts {
	unsigned interval_ms; /* between snapshots; 0: no timer */
	int64_t retention_ms; /* older snapshots are deleted; 0: kept */
	uint64_t max_rows;    /* at most this many kept; 0: no cap */
	unsigned max_events;  /* events kept per snapshot; more are counted */
	int busy_ms;	      /* lock wait of one write */
};

/* Defaults: 30 s, 7 days, 20,000 rows, 64 events, 50 ms. */
void store_snap_defaults(struct store_snap_opts *o);

/* The engine's status as a new reference to a JSON object, or NULL. */
typedef json_t *(*store_snap_fn)(void *arg);

struct store_snap_stats {
	uint64_t written;	 /* snapshots stored */
	uint64_t busy;		 /* skipped: the file was locked */
	uint64_t failed;	 /* other errors (the first is kept) */
	uint64_t events;	 /* events stored */
	uint64_t events_dropped; /* beyond max_events in an interval */
	uint64_t pruned;	 /* old rows deleted */
	uint64_t last_us, max_us, total_us; /* time spent per snapshot */
	char error[ERR_MSG_MAX];	    /* first failure, "" when none */
};

struct store_snap;

/*
 * A writer for run_id (0: none) on loop, storing into s (both borrowed:
 * they must outlive the writer). Applies o->busy_ms to s. The first
 * snapshot is taken one interval after the start.
 */
struct store_snap *store_snap_new(struct ev_loop *loop, struct store *s,
    int64_t run_id, const struct store_snap_opts *o, store_snap_fn fn,
    void *arg);

/* Remember an engine event for the next snapshot (strings copied). */
void store_snap_event(struct store_snap *w, const char *kind,
    const char *resolver, const char *detail);

/* Take one snapshot now (also used for the last one at shutdown). */
int store_snap_write(struct store_snap *w, struct err *e);

const struct store_snap_stats *store_snap_stats(const struct store_snap *w);

/* Cancel the timer and free w (no final snapshot). NULL is fine. */
void store_snap_free(struct store_snap *w);

#endif
