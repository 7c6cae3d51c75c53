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
 */
#ifndef MDNS_STORE_H
#define MDNS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "common/util.h"

/* The schema version this build writes and understands. */
#define STORE_SCHEMA_VERSION 3

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

#endif
