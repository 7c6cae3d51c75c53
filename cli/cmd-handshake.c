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
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/result.h"
#include "engine/ctl.h"
#include "probe/hs-engine.h"
#include "reports/sink.h"

enum { OPT_ENGINE = 1, OPT_CONTROL, OPT_DEADLINE };

/* What --engine can print: its one check. */
static const char *const engine_formats[] = {"text", "json", "jsonl"};

static const struct option engine_longopts[] = {
    {"engine", no_argument, NULL, OPT_ENGINE},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"deadline-s", required_argument, NULL, OPT_DEADLINE}, {NULL, 0, NULL, 0}};

static void
on_step(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "engine: %s\n", line);
}

static int
engine_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct res_check c;
	struct rpt_sink *s;
	struct err e = {""};
	const char *control = NULL;
	char *path;
	long long v, deadline = 25;
	int ch;

	while ((ch = cli_getopt(ctx, &cmd_handshake_entry, argc, argv, "",
		    engine_longopts)) != -1) {
		switch (ch) {
		case OPT_ENGINE:
			break;
		case OPT_CONTROL:
			control = optarg;
			break;
		case OPT_DEADLINE:
			if (parse_int(optarg, 1, 3600, &v, &e) == -1) {
				cli_error(&cmd_handshake_entry,
				    "--deadline-s: %s", e.msg);
				return EXIT_UNKNOWN;
			}
			deadline = v;
			break;
		case 'H':
			return EXIT_OK;
		default:
			return EXIT_UNKNOWN;
		}
	}
	if (optind < argc) {
		cli_error(&cmd_handshake_entry,
		    "--engine takes no RESOLVER "
		    "arguments");
		return EXIT_UNKNOWN;
	}
	for (ch = 0; ctx->format != NULL && ch < (int)nitems(engine_formats);
	     ch++)
		if (strcmp(ctx->format, engine_formats[ch]) == 0)
			break;
	if (ctx->format != NULL && ch == (int)nitems(engine_formats)) {
		cli_error(&cmd_handshake_entry,
		    "--engine: unknown format '%s' (valid: text, json, jsonl)",
		    ctx->format);
		return EXIT_UNKNOWN;
	}
	path = control ? xstrdup(control) : ctl_default_path("client");
	(void)hs_engine_wait(path, (int)(deadline * 1000), 250, &c,
	    ctx->quiet ? NULL : on_step, NULL);
	free(path);
	/* No engine (or not a client): say so on stderr too, in one line. */
	if (c.verdict == RES_VERDICT_UNKNOWN)
		cli_error(&cmd_handshake_entry, "%s", c.detail);
	if ((s = rpt_open(ctx->format ? ctx->format : "text", stdout, &e)) ==
	    NULL) {
		cli_error(&cmd_handshake_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	rpt_set_width(s, rpt_term_width(stdout));
	rpt_check(s, &c);
	if (rpt_close(s, &e) == -1) {
		cli_error(&cmd_handshake_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	return c.verdict == RES_VERDICT_OK ? EXIT_OK :
	    c.verdict == RES_VERDICT_FAIL  ? EXIT_CRITICAL :
					     EXIT_UNKNOWN;
}

static int
cmd_handshake_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--engine") == 0)
			return engine_exec(ctx, argc, argv);
	return cli_probe_run(
	    ctx, argc, argv, &cmd_handshake_entry, RES_STAGE_HANDSHAKE);
}

const struct cmd_entry cmd_handshake_entry = {
    .name = "handshake",
    .usage = "handshake [options] RESOLVER... | handshake --engine",
    .summary = "SESSION_INIT/ACCEPT, PING/PONG and SESSION_CLOSE through "
	       "each resolver, step by step",
    .options =
	"  --domain D           tunnel domain (repeatable; else --config)\n"
	"  --key-file F         encryption key file (else the config's)\n"
	"  --method N           DATA_ENCRYPTION_METHOD 0..5\n"
	"  --up-mtu MIN:MAX     upload MTU search range\n"
	"  --down-mtu MIN:MAX   download range\n"
	"  --timeout-ms MS      liveness/reach/handshake timeout\n"
	"  --mtu-timeout-ms MS  MTU probe timeout\n"
	"  --mtu-tries N        MTU probe attempts\n"
	"  --no-steps           print only the result table\n"
	"  --engine             verify the running engine's session "
	"instead\n"
	"  --control PATH       its control socket (default: runtime "
	"dir)\n"
	"  --deadline-s N       how long to wait for it (25)\n",
    .exec = cmd_handshake_exec,
};
