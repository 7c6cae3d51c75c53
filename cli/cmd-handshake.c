/* SPDX-License-Identifier: MIT */
/*
 * cmd-handshake.c — `mdns-doctor handshake RESOLVER...`: through each
 * resolver, liveness and reach, the MTU sweep (the session needs synced
 * MTUs), then SESSION_INIT -> SESSION_ACCEPT with our verify code (the
 * server's policy bytes are shown), PING -> PONG on the new session and
 * SESSION_CLOSE, every step with its timing.
 *
 * `handshake --engine`: instead, poll the running engine's control socket
 * until it reports a session id and at least one active resolver within
 * the deadline (probe/hs-engine.h), else say which step is missing.
 *
 * Formats: through resolvers every result sink (text, json, jsonl, csv,
 * ips); --engine gives one check, which text, json and jsonl carry (csv
 * and ips hold resolver results only, so they are refused up front).
 * The options of one mode are refused in the other.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/probe-cmd.h"
#include "common/result.h"
#include "engine/ctl.h"
#include "probe/hs-engine.h"
#include "reports/sink.h"

enum { OPT_ENGINE = PROBE_OPT_RUN_END, OPT_CONTROL, OPT_DEADLINE };

static const struct args_opt handshake_opts[] = {
    CLI_PROBE_OPTS,
    CLI_PROBE_RUN_OPTS,
    {OPT_ENGINE, "engine", NULL, 0,
	"verify the running engine's session instead"},
    {OPT_CONTROL, "control", "PATH", 0,
	"its control socket (default: runtime dir)"},
    {OPT_DEADLINE, "deadline-s", "N", 0, "how long to wait for it (25)"},
    {0, NULL, NULL, 0, NULL},
};

/* What --engine can print: its one check. */
static const struct args_spec engine_formats = {.formats = "text,json,jsonl"};

static void
on_step(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "engine: %s\n", line);
}

/*
 * The first option given that belongs to the other mode (--engine's own
 * without --engine, the probes' with it), or NULL.
 */
static const struct args_val *
other_mode(const struct args *a, int engine)
{
	size_t i;

	int key, probe;

	for (i = 0; i < a->nv; i++) {
		key = a->v[i].key;
		probe = key >= PROBE_OPT_DOMAIN && key < PROBE_OPT_RUN_END;
		if ((engine && probe) ||
		    (!engine && (key == OPT_CONTROL || key == OPT_DEADLINE)))
			return &a->v[i];
	}
	return NULL;
}

static int
engine_run(struct cli_ctx *ctx, const struct args *a)
{
	const struct cmd_entry *cmd = &cmd_handshake_entry;
	const char *control = args_get(a, OPT_CONTROL);
	struct res_check c;
	struct rpt_sink *s;
	struct err e = {""};
	char *path, list[64];
	long long deadline = 25;

	if (args_strtonum(a, OPT_DEADLINE, 1, 3600, &deadline) != 0)
		return EXIT_UNKNOWN;
	if (a->noperands > 0) {
		cli_error(cmd, "--engine takes no RESOLVER arguments");
		return EXIT_UNKNOWN;
	}
	if (!args_format_offered(&engine_formats, ctx->format)) {
		cli_error(cmd,
		    "unknown format %s (handshake --engine offers: %s)",
		    ctx->format,
		    args_list(engine_formats.formats, ',', list, sizeof list));
		return EXIT_UNKNOWN;
	}
	path = control ? xstrdup(control) : ctl_default_path("client");
	(void)hs_engine_wait(path, (int)(deadline * 1000), 250, &c,
	    ctx->quiet ? NULL : on_step, NULL);
	free(path);
	/* No engine (or not a client): say so on stderr too, in one line. */
	if (c.verdict == RES_VERDICT_UNKNOWN)
		cli_error(cmd, "%s", c.detail);
	if ((s = rpt_open(ctx->format, stdout, &e)) == NULL) {
		cli_error(cmd, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	rpt_set_width(s, rpt_term_width(stdout));
	rpt_check(s, &c);
	if (rpt_close(s, &e) == -1) {
		cli_error(cmd, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	return c.verdict == RES_VERDICT_OK ? EXIT_OK :
	    c.verdict == RES_VERDICT_FAIL  ? EXIT_CRITICAL :
					     EXIT_UNKNOWN;
}

static int
cmd_handshake_run(struct cli_ctx *ctx, const struct args *a)
{
	int engine = args_has(a, OPT_ENGINE) > 0;
	const struct args_val *v = other_mode(a, engine);

	if (v != NULL) {
		cli_error(a->cmd, "--%s %s", v->opt->name,
		    engine ?
			"is for the probes through resolvers, not --engine" :
			"goes with --engine");
		return EXIT_UNKNOWN;
	}
	if (engine)
		return engine_run(ctx, a);
	return cli_probe_run(ctx, a, RES_STAGE_HANDSHAKE);
}

const struct cmd_entry cmd_handshake_entry = {
    .name = "handshake",
    .summary = "SESSION_INIT/ACCEPT, PING/PONG and SESSION_CLOSE through "
	       "each resolver, step by step",
    .args = {.opts = handshake_opts,
	.operands = "RESOLVER...",
	.max_operands = -1,
	.formats = "text,json,jsonl,csv,ips",
	.notes = "\nWith --engine: no RESOLVER, only --control, --deadline-s "
		 "and\n--format text, json or jsonl.\n"},
    .run = cmd_handshake_run,
};
