/* SPDX-License-Identifier: MIT */
/*
 * live-checks.h — `connect --checks[=SECONDS]` (docs/checks.md, "Inside
 * the client"): the `ip` and `leak` checks run periodically on the
 * client engine's own event loop, through the client's own SOCKS port
 * and DNS listener, never blocking it. Each result goes into the engine
 * (eng_client_set_check: status `exit_ip` / `leak`, metrics, an event
 * when the verdict changes) and, when connect records snapshots, into the
 * history as checks of connect's run.
 *
 * The wiring lives in cli/ because the engine may not include a probe
 * (docs/architecture.md, "Layering"): this file owns the timer and the
 * probe runs, the engine only keeps the latest result.
 */
#ifndef MDNS_LIVE_CHECKS_H
#define MDNS_LIVE_CHECKS_H

#include "cli/engine-snap.h"
#include "common/config.h"
#include "common/ev.h"
#include "engine/client.h"

#define LIVE_CHECKS_INTERVAL_MS 300000 /* --checks without a value */

struct cli_live;

/*
 * Start the checks of cl (started: its listeners are bound; bound is its
 * SOCKS listener's address, from eng_client_start, NULL: none) on loop, the
 * first as soon as the session is live, then every interval_ms. conf is
 * the configuration cl runs with (read now, not kept). snap (may be NULL:
 * no history) gets every result. NULL with e set when a setting cannot
 * be used.
 */
struct cli_live *cli_live_start(struct ev_loop *loop, struct eng_client *cl,
    const union net_addr *bound, const struct cfg *conf, unsigned interval_ms,
    struct cli_snap *snap, struct err *e);

/* Stop what still runs and free l (NULL is fine). Before the engine and
 * the snapshot writer are freed. */
void cli_live_stop(struct cli_live *l);

#endif
