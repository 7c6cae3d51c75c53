/* SPDX-License-Identifier: MIT */
/*
 * checks-out.c — sink, store and exit code for the check commands
 * (checks-out.h). It decides nothing about the checks themselves: the
 * commands fill the res_check records and choose the final exit code.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/checks-out.h"
#include "reports/sink.h"
#include "store/store.h"

struct cli_checks {
	const struct cmd_entry *cmd;
	struct rpt_sink *sink;
	struct store *db;
	int64_t run_id;
	int failed; /* a store write failed (said once) */
	unsigned seen[RES_VERDICT_COUNT];
};

const char *
cli_status_name(int rc)
{
	switch (rc) {
	case EXIT_OK:
		return "ok";
	case EXIT_WARNING:
		return "warning";
	case EXIT_CRITICAL:
		return "critical";
	default:
		return "unknown";
	}
}

struct cli_checks *
cli_checks_open(struct cli_ctx *ctx, const struct cmd_entry *cmd, int argc,
    char **argv, int store)
{
	struct cli_checks *o = xcalloc(1, sizeof *o);
	char digest[RES_DIGEST_MAX], *path = NULL;
	struct err e = {""};

	o->cmd = cmd;
	o->sink = rpt_open(ctx->format ? ctx->format : "text", stdout, &e);
	if (o->sink == NULL)
		goto fail;
	rpt_set_width(o->sink, rpt_term_width(stdout));
	if (!store)
		return o;
	if (ctx->db != NULL)
		path = xstrdup(ctx->db);
	else if ((path = store_default_path(&e)) == NULL) {
		err_prefix(&e, "no place for the history (--no-store?)");
		goto fail;
	}
	res_args_digest(argc, argv, digest, sizeof digest);
	if ((o->db = store_open(path, &e)) == NULL ||
	    store_run_begin(
		o->db, cmd->name, digest, cli_version(), &o->run_id, &e) != 0)
		goto fail;
	free(path);
	return o;
fail:
	cli_error(cmd, "%s", e.msg);
	free(path);
	store_close(o->db);
	rpt_close(o->sink, NULL);
	free(o);
	return NULL;
}

void
cli_checks_add(struct cli_checks *o, const struct res_check *c)
{
	struct err e = {""};

	if ((unsigned)c->verdict < RES_VERDICT_COUNT)
		o->seen[c->verdict]++;
	(void)rpt_check(o->sink, c);
	if (o->db != NULL && store_add_check(o->db, o->run_id, c, &e) != 0 &&
	    !o->failed) {
		cli_error(o->cmd, "%s", e.msg);
		o->failed = 1;
	}
}

int
cli_checks_worst(const struct cli_checks *o)
{
	if (o->seen[RES_VERDICT_FAIL])
		return EXIT_CRITICAL;
	if (o->seen[RES_VERDICT_UNKNOWN])
		return EXIT_UNKNOWN;
	if (o->seen[RES_VERDICT_WARN])
		return EXIT_WARNING;
	return o->seen[RES_VERDICT_OK] ? EXIT_OK : EXIT_UNKNOWN;
}

int
cli_checks_exit(const struct res_check *c, size_t n)
{
	int seen[4] = {0, 0, 0, 0};
	size_t i;

	for (i = 0; i < n; i++)
		seen[res_verdict_exit(c[i].verdict)] = 1;
	if (seen[EXIT_CRITICAL])
		return EXIT_CRITICAL;
	if (seen[EXIT_UNKNOWN] || n == 0)
		return EXIT_UNKNOWN;
	return seen[EXIT_WARNING] ? EXIT_WARNING : EXIT_OK;
}

int
cli_checks_close(struct cli_checks *o, int rc)
{
	struct err e = {""};

	if (o->db != NULL &&
	    store_run_end(o->db, o->run_id, cli_status_name(rc), &e) != 0 &&
	    !o->failed) {
		cli_error(o->cmd, "%s", e.msg);
		o->failed = 1;
	}
	store_close(o->db);
	if (rpt_close(o->sink, &e) != 0) {
		cli_error(o->cmd, "%s", e.msg);
		rc = EXIT_UNKNOWN;
	}
	if (o->failed)
		rc = EXIT_UNKNOWN;
	free(o);
	return rc;
}
