/* SPDX-License-Identifier: MIT */
/*
 * engine-snap.c — periodic engine snapshots for `connect` and `serve`
 * (engine-snap.h): opens the history, begins a run named after the
 * command, reads the MDNS_SNAPSHOT_* keys, and drives store_snap_* on the
 * engine's loop with the status the control socket serves, trimmed so a
 * row stays small (the first SNAP_RESOLVERS resolvers, no stream list).
 *
 * Snapshots are a record, never a reason for the tunnel to stop: when
 * the history cannot be opened the engine runs without them (a warning);
 * only invalid keys are refused, like every other key of ours. The keys
 * are read through the one configuration model (common/config.h), which
 * reads the file a second time here so that the commands only pass the
 * path (docs/store.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/engine-snap.h"
#include "common/config.h"
#include "common/log.h"

/* Per snapshot: resolvers kept from the status list (active first). */
#define SNAP_RESOLVERS 64

struct cli_snap {
	struct store *db;
	struct store_snap *w;
	int64_t run_id;
	store_snap_fn fn;
	void *arg;
	int check_failed; /* a check could not be written (said once) */
};

/* The command's status without what makes rows large. */
static json_t *
trimmed(void *arg)
{
	struct cli_snap *s = arg;
	json_t *st = s->fn(s->arg), *list;

	list = json_object_get(json_object_get(st, "resolvers"), "list");
	while (json_array_size(list) > SNAP_RESOLVERS)
		json_array_remove(list, json_array_size(list) - 1);
	json_object_del(json_object_get(st, "streams"), "list");
	return st;
}

/*
 * The MDNS_SNAPSHOT_* keys of path (a config of role) into o, through
 * the one configuration model (its ranges, its messages). 0 / -1.
 */
static int
read_keys(const char *path, enum cfg_role role, struct store_snap_opts *o,
    struct err *e)
{
	struct cfg_opts co = {.role = (int)role};
	struct cfg *c;
	double iv, days;
	unsigned rows;
	int rc;

	if (path == NULL)
		return 0;
	if (cfg_load(path, NULL, &co, &c, e) != 0)
		return -1;
	rc = cfg_validate(c, e);
	iv = role == CFG_SERVER ? c->server.snap_interval_s :
				  c->client.snap_interval_s;
	days = role == CFG_SERVER ? c->server.snap_retention_days :
				    c->client.snap_retention_days;
	rows = role == CFG_SERVER ? c->server.snap_max_rows :
				    c->client.snap_max_rows;
	cfg_free(c);
	if (rc != 0)
		return -1;
	/* Below a second the writer would be the engine's main work. */
	if (iv > 0 && iv < 1)
		return err_set(e,
		    "%s: MDNS_SNAPSHOT_INTERVAL_SECONDS is 0 (off) or at "
		    "least 1",
		    path);
	o->interval_ms = (unsigned)(iv * 1000);
	o->retention_ms = (int64_t)(days * 86400000.0);
	o->max_rows = rows;
	return 0;
}

int
cli_snap_start(struct cli_ctx *ctx, struct ev_loop *loop, const char *command,
    const struct args *args, store_snap_fn fn, void *arg, struct cli_snap **out)
{
	struct store_snap_opts o;
	struct cli_snap *s;
	struct err e = {""};
	char digest[RES_DIGEST_MAX], *path;

	*out = NULL;
	store_snap_defaults(&o);
	if (read_keys(ctx->config,
		strcmp(command, "serve") == 0 ? CFG_SERVER : CFG_CLIENT, &o,
		&e) != 0) {
		fprintf(stderr, "mdns-doctor: %s: %s\n", command, e.msg);
		return -1;
	}
	if (o.interval_ms == 0)
		return 0;
	path = ctx->db ? xstrdup(ctx->db) : store_default_path(&e);
	s = xcalloc(1, sizeof *s);
	if (path == NULL || (s->db = store_open(path, &e)) == NULL ||
	    (res_args_digest(args->argc, args->argv, digest, sizeof digest),
		store_run_begin(s->db, command, digest, cli_version(),
		    &s->run_id, &e)) != 0) {
		log_warn("no engine snapshots in the history: %s", e.msg);
		store_close(s->db);
		free(s);
		free(path);
		return 0;
	}
	free(path);
	s->fn = fn;
	s->arg = arg;
	s->w = store_snap_new(loop, s->db, s->run_id, &o, trimmed, s);
	log_info("engine snapshots every %u s into run %lld",
	    o.interval_ms / 1000, (long long)s->run_id);
	*out = s;
	return 0;
}

void
cli_snap_event(struct cli_snap *s, const char *kind, const char *resolver,
    const char *detail)
{
	if (s != NULL)
		store_snap_event(s->w, kind, resolver, detail);
}

void
cli_snap_check(struct cli_snap *s, const struct res_check *c)
{
	struct err e = {""};

	if (s == NULL)
		return;
	if (store_add_check(s->db, s->run_id, c, &e) != 0 && !s->check_failed) {
		log_warn("checks not recorded in the history: %s", e.msg);
		s->check_failed = 1;
	}
}

void
cli_snap_stop(struct cli_snap *s, int exit_code)
{
	const struct store_snap_stats *st;
	struct err e = {""};

	if (s == NULL)
		return;
	/* The last one says how the session ended. */
	(void)store_snap_write(s->w, &e);
	st = store_snap_stats(s->w);
	if (st->failed > 0)
		log_warn("engine snapshots: %llu failed: %s",
		    (unsigned long long)st->failed, st->error);
	log_info("engine snapshots: %llu written, %llu skipped (locked), "
		 "max %llu us",
	    (unsigned long long)st->written, (unsigned long long)st->busy,
	    (unsigned long long)st->max_us);
	/* The run's end may wait for the lock a little longer. */
	store_set_busy_timeout(s->db, 1000);
	if (store_run_end(
		s->db, s->run_id, exit_code == 0 ? "ok" : "critical", &e) != 0)
		log_warn("engine snapshots: %s", e.msg);
	store_snap_free(s->w);
	store_close(s->db);
	free(s);
}
