/*
 * cmd-tui.c — `mdns-doctor tui` (alias `watch`): the live dashboard on the
 * engine's control socket. Parses the options and runs tui_run(); exit 0
 * on quit (or SIGINT/SIGTERM), 3 on usage errors or when there is no
 * terminal to draw on. An engine that is not running is not an error:
 * the dashboard says so and keeps retrying.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tui/tui.h"

enum { OPT_CONTROL = 1, OPT_SERVER, OPT_ASCII };

static const struct option tui_opts_long[] = {
    {"control", required_argument, NULL, OPT_CONTROL},
    {"server", no_argument, NULL, OPT_SERVER},
    {"ascii", no_argument, NULL, OPT_ASCII},
    {"delay", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};

/* Seconds with decimals, like top's -d: 0.1 to 60. */
static int
parse_delay(const char *s, unsigned *ms)
{
	char *end;
	double d;

	d = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(d) || d < 0.1 || d > 60)
		return -1;
	*ms = (unsigned)(d * 1000 + 0.5);
	return 0;
}

static int
cmd_tui_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct tui_opts o = {.interval_ms = 1000};
	struct err e = {""};
	int c;

	while ((c = cli_getopt(ctx, &cmd_tui_entry, argc, argv,
		    "d:", tui_opts_long)) != -1) {
		switch (c) {
		case OPT_CONTROL:
			o.control = optarg;
			break;
		case OPT_SERVER:
			o.server = 1;
			break;
		case OPT_ASCII:
			o.ascii = 1;
			break;
		case 'd':
			if (parse_delay(optarg, &o.interval_ms) != 0) {
				cli_error(&cmd_tui_entry,
				    "-d: not a number of "
				    "seconds from 0.1 to 60: %s",
				    optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 'H':
			return EXIT_OK;
		default:
			return EXIT_UNKNOWN;
		}
	}
	if (optind < argc) {
		cli_error(
		    &cmd_tui_entry, "unexpected argument: %s", argv[optind]);
		return EXIT_UNKNOWN;
	}
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
    .usage = "tui [-d SECONDS] [--control PATH] [--server] [--ascii]",
    .summary = "live dashboard of the running engine (control socket)",
    .options =
	"  -d, --delay SECONDS  refresh interval, 0.1 to 60 (default 1)\n"
	"  --control PATH       control socket (default: the runtime "
	"dir's\n"
	"                       engine.sock, else server.sock)\n"
	"  --server             the server's socket (server.sock)\n"
	"  --ascii              ASCII sparklines even in a UTF-8 locale\n"
	"  keys: q quit, ? help, Tab pane, s sort, r reverse, / filter,\n"
	"        d detail, p pause\n",
    .exec = cmd_tui_exec,
};
