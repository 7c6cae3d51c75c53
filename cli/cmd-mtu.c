/* SPDX-License-Identifier: MIT */
/*
 * cmd-mtu.c — `mdns-doctor mtu RESOLVER...`: the exact upload/download MTU
 * sweep per resolver × domain with every step shown (probe sizes, QNAME
 * lengths, what came back), then the result table with the QNAME shape
 * checks: longest name that passed, labels, case preservation, largest
 * delivered answer against the advertised EDNS size, TC seen.
 * The runner is shared with `handshake` (cli_probe_run, probe-cmd.h),
 * which runs the same probes one stage further.
 *
 * Formats: every result sink (text, json, jsonl, csv, ips); the steps are
 * printed with text only. Not prom or nagios: their state would not be
 * this exit code (some resolvers failing is a warning here). Exit codes:
 * 0 every resolver ok, 1 some passed (or passed degraded), 2 none passed,
 * 3 usage or setup errors.
 */
#include "cli/probe-cmd.h"

static const struct args_opt mtu_opts[] = {
    CLI_PROBE_OPTS,
    CLI_PROBE_RUN_OPTS,
    {0, NULL, NULL, 0, NULL},
};

static int
cmd_mtu_run(struct cli_ctx *ctx, const struct args *args)
{
	return cli_probe_run(ctx, args, RES_STAGE_MTU);
}

const struct cmd_entry cmd_mtu_entry = {
    .name = "mtu",
    .summary = "exact upload/download MTU sweep with every step, plus "
	       "QNAME shape checks",
    .args = {.opts = mtu_opts,
	.operands = "RESOLVER...",
	.min_operands = 1,
	.max_operands = -1,
	.formats = "text,json,jsonl,csv,ips"},
    .run = cmd_mtu_run,
};
