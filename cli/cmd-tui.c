/* SPDX-License-Identifier: MIT */
/*
 * cmd-tui.c — `mdns-doctor tui` (alias `watch`): the live dashboard on the
 * engine's control socket. Parses the options and runs tui_run(); exit 0
 * on quit (or SIGINT/SIGTERM), 3 on usage errors or when there is no
 * terminal to draw on. An engine that is not running is not an error:
 * the dashboard says so and keeps retrying.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tui/tui.h"

enum { OPT_CONTROL = ARGS_LONG, OPT_SERVER, OPT_ASCII };

static const struct args_opt tui_opts[] = {
    {'d', "delay", "SECONDS", 0, "refresh interval, 0.1 to 60 (default 1)"},
    {OPT_CONTROL, "control", "PATH", 0,
	"control socket (default: the runtime dir's\n"
	"engine.sock, else server.sock)"},
    {OPT_SERVER, "server", NULL, 0, "the server's socket (server.sock)"},
    {OPT_ASCII, "ascii", NULL, 0, "ASCII sparklines even in a UTF-8 locale"},
    {0, NULL, NULL, 0, NULL},
};

static int
cmd_tui_run(struct cli_ctx *ctx, const struct args *args)
{
	struct tui_opts o = {.interval_ms = 1000};
	struct err e = {""};

	/* Seconds with decimals, like top's -d. */
	if (args_seconds(args, 'd', 100, 60000, &o.interval_ms) != 0)
		return EXIT_UNKNOWN;
	o.control = args_get(args, OPT_CONTROL);
	o.server = args_has(args, OPT_SERVER) > 0;
	o.ascii = args_has(args, OPT_ASCII) > 0;
	o.no_color = ctx->no_color;
	if (tui_run(&o, &e) != 0) {
		cli_error(&cmd_tui_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_tui_entry = {
    .name = "tui",
    .alias = "watch",
    .summary = "live dashboard of the running engine (control socket)",
    .args =
	{
	    .opts = tui_opts,
	    .notes = "  keys: q quit, ? help, Tab pane, s sort, r reverse, / "
		     "filter,\n"
		     "        d detail, p pause\n",
	},
    .run = cmd_tui_run,
};
