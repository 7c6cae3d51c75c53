/* SPDX-License-Identifier: MIT */
/*
 * cmd-metrics.c — the engine's counters in the Prometheus text exposition
 * format, read from the control socket; suitable for a node_exporter
 * textfile collector (write to a file and rename).
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/ctlc.h"

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
	struct ctlc_where where;
	struct err e = {""};
	json_t *reply, *text;
	char *safe;

	setlocale(LC_CTYPE, "");
	reply = ctlc_call_find(control, role, "metrics", 3000, &where, &e);
	if (reply == NULL) {
		safe = ctlc_term_safe(e.msg, 0);
		cli_error(&cmd_metrics_entry, "%s", safe);
		free(safe);
		return EXIT_CRITICAL;
	}
	if (ctx->verbose)
		fprintf(stderr, "metrics: control socket %s (%s)\n", where.path,
		    where.source);
	text = json_object_get(reply, "text");
	if (!json_is_true(json_object_get(reply, "ok")) ||
	    !json_is_string(text)) {
		json_t *er = json_object_get(reply, "error");

		safe = ctlc_term_safe(
		    json_is_string(er) ? json_string_value(er) : "?", 0);
		cli_error(&cmd_metrics_entry, "engine refused: %s", safe);
		free(safe);
		json_decref(reply);
		return EXIT_CRITICAL;
	}
	/* Lines stay lines; no other control character gets through. */
	safe = ctlc_term_safe(json_string_value(text), 1);
	fputs(safe, stdout);
	free(safe);
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
