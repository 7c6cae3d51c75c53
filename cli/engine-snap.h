/* SPDX-License-Identifier: MIT */
/*
 * engine-snap.h — the periodic snapshots `connect` and `serve` write into
 * the history (docs/store.md, "Engine snapshots"): the glue between a
 * running engine and store_snap_* — where the database is, the run the
 * snapshots belong to, and the MDNS_SNAPSHOT_* settings of the config.
 * A command calls start before its loop runs, forwards its events, and
 * calls stop when the loop has ended; that is all.
 */
#ifndef MDNS_ENGINE_SNAP_H
#define MDNS_ENGINE_SNAP_H

#include "cli/cli.h"
#include "common/ev.h"
#include "store/store.h"

struct cli_snap;

/*
 * Start writing snapshots of fn's status on loop, as a run of command
 * (its command line digested, never stored). Settings: MDNS_SNAPSHOT_INTERVAL_SECONDS
 * (0 = off), MDNS_SNAPSHOT_RETENTION_DAYS and MDNS_SNAPSHOT_MAX_ROWS from
 * ctx->config, defaults otherwise. Returns -1 after printing the error
 * when a key is invalid (the command exits 3); 0 otherwise with *out set
 * to the writer, or NULL when snapshots are off or the history cannot be
 * opened (said as a warning: the tunnel matters more than its record).
 */
int cli_snap_start(struct cli_ctx *ctx, struct ev_loop *loop,
    const char *command, const struct args *args, store_snap_fn fn, void *arg,
    struct cli_snap **out);

/* An engine event for the next snapshot. s may be NULL. */
void cli_snap_event(struct cli_snap *s, const char *kind, const char *resolver,
    const char *detail);

/*
 * A check (connect --checks) into the history as a check of the run the
 * snapshots belong to. s may be NULL (no history: nothing is written); a
 * failure is logged as a warning, once.
 */
void cli_snap_check(struct cli_snap *s, const struct res_check *c);

/*
 * Take the last snapshot, end the run with the command's exit code
 * ("ok" for 0, else "critical"), close the history, free s (may be NULL).
 */
void cli_snap_stop(struct cli_snap *s, int exit_code);

#endif
