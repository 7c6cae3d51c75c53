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

enum { OPT_CONTROL = ARGS_LONG, OPT_SERVER };

static const struct args_opt metrics_opts[] = {
    {OPT_CONTROL, "control", "PATH", 0,
	"control socket (default: runtime dir)"},
    {OPT_SERVER, "server", NULL, 0, "the server's socket (server.sock)"},
    {0, NULL, NULL, 0, NULL},
};

static int
cmd_metrics_run(struct cli_ctx *ctx, const struct args *args)
{
	const char *control = args_get(args, OPT_CONTROL);
	const char *role = args_has(args, OPT_SERVER) ? "server" : "client";
	struct err e = {""};
	json_t *reply, *text;
	char *path;

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

/*
 * Only the Prometheus text exposition: the JSON view of the same counters
 * is `status --format json`, so --format json is refused, not faked.
 */
const struct cmd_entry cmd_metrics_entry = {
    .name = "metrics",
    .summary = "engine counters in Prometheus text format",
    .args = {.opts = metrics_opts, .formats = "prom"},
    .run = cmd_metrics_run,
};
