/*
 * cmd-metrics.c — the engine's counters in the Prometheus text exposition
 * format, read from the control socket; suitable for a node_exporter
 * textfile collector (write to a file and rename).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/ctlc.h"
#include "engine/ctl.h"

enum { OPT_CONTROL = 1, OPT_SERVER };

static const struct option metrics_opts[] = {
    {"control", required_argument, NULL, OPT_CONTROL},
    {"server", no_argument, NULL, OPT_SERVER},
    {NULL, 0, NULL, 0},
};

static int
cmd_metrics_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *control = NULL, *role = "client";
	struct err e = {""};
	json_t *reply, *text;
	char *path;
	int c;

	while ((c = cli_getopt(ctx, &cmd_metrics_entry, argc, argv, "",
		    metrics_opts)) != -1) {
		switch (c) {
		case OPT_CONTROL:
			control = optarg;
			break;
		case OPT_SERVER:
			role = "server";
			break;
		case 'H':
			return EXIT_OK;
		default:
			return EXIT_UNKNOWN;
		}
	}
	if (optind < argc) {
		cli_error(&cmd_metrics_entry, "unexpected argument: %s",
		    argv[optind]);
		return EXIT_UNKNOWN;
	}
	path = control ? xstrdup(control) : ctl_default_path(role);
	reply = ctlc_call(path, "metrics", 3000, &e);
	free(path);
	if (reply == NULL) {
		cli_error(&cmd_metrics_entry, "%s", e.msg);
		return EXIT_CRITICAL;
	}
	text = json_object_get(reply, "text");
	if (!json_is_true(json_object_get(reply, "ok")) ||
	    !json_is_string(text)) {
		json_t *er = json_object_get(reply, "error");

		cli_error(&cmd_metrics_entry, "engine refused: %s",
		    json_is_string(er) ? json_string_value(er) : "?");
		json_decref(reply);
		return EXIT_CRITICAL;
	}
	fputs(json_string_value(text), stdout);
	json_decref(reply);
	return EXIT_OK;
}

const struct cmd_entry cmd_metrics_entry = {
    .name = "metrics",
    .usage = "metrics [--control PATH] [--server]",
    .summary = "engine counters in Prometheus text format",
    .options = "  --control PATH       control socket (default: runtime dir)\n"
	       "  --server             the server's socket (server.sock)\n",
    .exec = cmd_metrics_exec,
};
