/* SPDX-License-Identifier: MIT */
/*
 * checks-out.h — what the check commands (ip, route, later leak and check)
 * share after the probing: every check goes to the output sink chosen by
 * --format and, unless --no-store, into the history store as one run of
 * the command (docs/store.md), and the run ends with the command's exit
 * status. Kept out of cli.h so that each check command stays one file
 * plus this helper.
 */
#ifndef MDNS_CHECKS_OUT_H
#define MDNS_CHECKS_OUT_H

#include <jansson.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/net.h"
#include "common/result.h"
#include "probe/exitip.h"
#include "probe/leak.h"

struct cli_checks;

/*
 * Open the sink (ctx->format, default text, on stdout) and, when store is
 * set, the history (ctx->db or the XDG state path) with a new run named
 * after cmd, its argument digest taken from argv. Errors are printed as
 * "mdns-doctor: CMD: reason"; returns NULL then (the caller exits
 * UNKNOWN).
 */
struct cli_checks *cli_checks_open(struct cli_ctx *ctx,
    const struct cmd_entry *cmd, int argc, char **argv, int store);

/* Emit and store one check (a write error is reported at close). */
void cli_checks_add(struct cli_checks *o, const struct res_check *c);

/*
 * The exit code of a set of verdicts: any fail -> CRITICAL, else any
 * unknown -> UNKNOWN, else any warn -> WARNING, else OK (no verdicts at
 * all: UNKNOWN).
 */
int cli_checks_worst(const struct cli_checks *o);

/*
 * The same rule over the checks c[0..n) by each verdict's exit code
 * (res_verdict_exit: degraded counts as a warning); n == 0: UNKNOWN.
 */
int cli_checks_exit(const struct res_check *c, size_t n);

/* An exit code's word: "ok", "warning", "critical", else "unknown". */
const char *cli_status_name(int rc);

/*
 * End the run with status rc ("ok", "warning", "critical", "unknown"),
 * finish the output and free o. Returns rc, or UNKNOWN when the output or
 * the store failed (said on stderr).
 */
int cli_checks_close(struct cli_checks *o, int rc);

/*
 * The ip check for `check` (cmd-ip.c): configured from --config alone
 * (MDNS_IP_ECHO_V4/_V6 services, else the built-in ones;
 * MDNS_EXPECTED_EXIT_IP), the SOCKS port from the engine's status at
 * control (NULL: the default socket). out gets a check per family that
 * got a verdict (*nout). Returns 0; 1 without measuring when
 * only_if_expected and no expected exit is configured; -1 with e set
 * when the config cannot be used or the fetches cannot run.
 */
int cli_ip_checks(struct cli_ctx *ctx, const char *control, int timeout_ms,
    int only_if_expected, struct res_check out[2], size_t *nout, struct err *e);

/*
 * The leak check for `check` (cmd-leak.c): only when --config names
 * MDNS_LEAK_ZONE (else 1, nothing measured); the system path from
 * /etc/resolv.conf, the tunnel path from the engine at control (NULL:
 * the default socket) or LOCAL_DNS_* of the config; the queries within
 * about timeout_ms. out gets up to max checks (*nout). 0, or -1 with e
 * set when the queries cannot run.
 */
int cli_leak_checks(struct cli_ctx *ctx, const char *control, int timeout_ms,
    struct res_check *out, size_t max, size_t *nout, struct err *e);

/*
 * For `connect --checks` (cli/live-checks.c), which runs the probes on the
 * engine's own loop: the same settings and the same verdicts as `ip` and
 * `leak`, split so that the caller starts and ends the runs.
 *
 * The ip plan from a loaded configuration (MDNS_IP_ECHO_V4/_V6, else the
 * built-in services; MDNS_EXPECTED_EXIT_IP from the profile's
 * expectedExitIP or the file) and the SOCKS port socks ("HOST:PORT", a
 * wildcard reached on loopback; NULL: no tunnel path) with SOCKS5_USER/
 * PASS when it needs them; no_socks_why says why socks is NULL. NULL with
 * e set when a setting cannot be used.
 * The options stay valid until the plan is freed.
 */
struct cli_ip_plan;
struct cli_ip_plan *cli_ip_plan_new(const struct cfg *conf, const char *socks,
    const char *no_socks_why, struct err *e);
const struct exitip_opts *cli_ip_plan_opts(const struct cli_ip_plan *p);
/* The checks of a finished run, one per family that got one (*nc). */
void cli_ip_plan_judge(const struct cli_ip_plan *p, const struct exitip *x,
    struct res_check c[2], size_t *nc);
void cli_ip_plan_free(struct cli_ip_plan *p);

/*
 * The leak plan: NULL when conf names no MDNS_LEAK_ZONE (not tested).
 * The system path from /etc/resolv.conf (read again for every run), the
 * tunnel path tun_dns (the
 * engine's DNS listener, a wildcard reached on loopback; NULL: none,
 * tun_why says why), 6 names, whoami names none.
 */
struct cli_leak_plan;
struct cli_leak_plan *cli_leak_plan_new(
    const struct cfg *conf, const union net_addr *tun_dns, const char *tun_why);
/* The options for the next run, with this local evidence (or NULL). */
const struct leak_opts *cli_leak_plan_opts(
    struct cli_leak_plan *p, const char *local_evidence);
void cli_leak_plan_judge(const struct cli_leak_plan *p, const struct leak *l,
    struct res_check *out, size_t max, size_t *n);
void cli_leak_plan_free(struct cli_leak_plan *p);
/* The local signal as leak's evidence says it, from an engine's status
 * st (socks.requests by target, the most recent socks.clients), for
 * local_evidence; "" when st has none. */
void cli_leak_local(json_t *st, char *buf, size_t len);

#endif
