/* SPDX-License-Identifier: MIT */
/*
 * probe-cmd.h — what `scan`, `mtu` and `handshake` share: the options
 * that say what to probe with (domains, key, method, the MTU search),
 * declared once and read once into struct scan_setup (probe/scan-setup.h,
 * which applies them over the config file), and the runner of `mtu` and
 * `handshake`, which differ only in the last stage.
 *
 * A command's option table starts with CLI_PROBE_OPTS (mtu and handshake
 * add CLI_PROBE_RUN_OPTS) and numbers its own long options from
 * PROBE_OPT_END (PROBE_OPT_RUN_END).
 */
#ifndef MDNS_CLI_PROBE_CMD_H
#define MDNS_CLI_PROBE_CMD_H

#include "cli/cli.h"
#include "common/result.h"
#include "probe/scan-setup.h"

enum {
	PROBE_OPT_DOMAIN = ARGS_LONG,
	PROBE_OPT_KEY_FILE,
	PROBE_OPT_METHOD,
	PROBE_OPT_UP,
	PROBE_OPT_DOWN,
	PROBE_OPT_MTU_TIMEOUT,
	PROBE_OPT_MTU_TRIES,
	PROBE_OPT_END, /* scan's own long options start here */
	PROBE_OPT_TIMEOUT = PROBE_OPT_END,
	PROBE_OPT_NO_STEPS,
	PROBE_OPT_RUN_END /* handshake's own long options start here */
};

/*
 * The shared entries, first in each command's struct args_opt table
 * (laid out by hand: clang-format cannot indent a table in a macro).
 */
/* clang-format off */
#define CLI_PROBE_OPTS							\
    {PROBE_OPT_DOMAIN, "domain", "D", ARGS_REPEAT,			\
	"tunnel domain (repeatable; else --config)"},			\
    {PROBE_OPT_KEY_FILE, "key-file", "F", 0,				\
	"encryption key file (else the config's)"},			\
    {PROBE_OPT_METHOD, "method", "N", 0,				\
	"DATA_ENCRYPTION_METHOD 0..5 (else the config's, else 5;\n"	\
	"0..2 are weak, docs/security.md)"},				\
    {PROBE_OPT_UP, "up-mtu", "MIN:MAX", 0,				\
	"upload MTU search range (config, 38:150)"},			\
    {PROBE_OPT_DOWN, "down-mtu", "MIN:MAX", 0,				\
	"download range (config, 100:500)"},				\
    {PROBE_OPT_MTU_TIMEOUT, "mtu-timeout-ms", "MS", 0,			\
	"MTU probe timeout (config, 2000)"},				\
    {PROBE_OPT_MTU_TRIES, "mtu-tries", "N", 0,				\
	"MTU probe attempts (config, 2)"}

/* What cli_probe_run reads besides CLI_PROBE_OPTS (mtu, handshake). */
#define CLI_PROBE_RUN_OPTS						\
    {PROBE_OPT_TIMEOUT, "timeout-ms", "MS", 0,				\
	"liveness/reach/handshake timeout (1500/2000/3000)"},		\
    {PROBE_OPT_NO_STEPS, "no-steps", NULL, 0,				\
	"print only the result table"}
/* clang-format on */

/*
 * The options of CLI_PROBE_OPTS in a (ranges checked) into su, which the
 * caller has zeroed; su->method is -1 when --method was not given. The
 * caller sets su->config and runs scan_setup_apply. 0, or -1 after
 * printing the one-line error.
 */
int cli_probe_args(const struct args *a, struct scan_setup *su);

/*
 * `mtu` and `handshake`: the scan engine over the RESOLVER operands up to
 * stage (without the env stage and the store), the steps (text only) and
 * the results through the sink of ctx->format. Returns the exit code.
 */
int cli_probe_run(
    struct cli_ctx *ctx, const struct args *a, enum res_stage stage);

#endif
