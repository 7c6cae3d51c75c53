/* SPDX-License-Identifier: MIT */
/*
 * fuzz-store.c — the history database read back as outside input: a
 * history.db is a file the user (or a crashed run, or another version)
 * hands us, and SQLite types are per value, so any column may hold any
 * type. The input fills one run, its stages, two results, a check and the
 * scan progress with values of fuzzer-chosen type (NULL, integer, real,
 * text or blob, bytes included) through a second, raw connection; the
 * store then reads it all back (last run, run summary, results, history,
 * checks, progress) and every result goes through every sink. Readers
 * must map unknown names to neutral values (enums in range), keep strings
 * terminated, and the JSON sinks must still write parseable JSON. Inserts
 * the schema rejects (NOT NULL, foreign keys) are simply skipped.
 *
 * It does not fuzz SQLite's file format: a store_open of random bytes only
 * ever reaches "file is not a database".
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/result.h"
#include "common/util.h"
#include "reports/sink.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p, *end;
};

static unsigned
in_byte(struct in *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

/* Bind parameter i to a value whose type the input chooses. */
static void
bind_any(sqlite3_stmt *st, int i, struct in *in)
{
	unsigned sel = in_byte(in);
	size_t n = 0, k;
	int64_t v = 0;

	switch (sel % 6) {
	case 0:
		sqlite3_bind_null(st, i);
		return;
	case 1:
	case 2:
		for (k = 0; k < 8; k++)
			v = (int64_t)((uint64_t)v << 8 | in_byte(in));
		/* Small values are the interesting ones for enums. */
		if (sel % 6 == 1)
			v %= 300;
		sqlite3_bind_int64(st, i, v);
		return;
	case 3:
		sqlite3_bind_double(st, i, (double)(int8_t)in_byte(in) * 1.5e7);
		return;
	default:
		while (in->p + n < in->end && in->p[n] != 0xff && n < 600)
			n++;
		if (sel % 6 == 4)
			sqlite3_bind_text(st, i, (const char *)in->p, (int)n,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(
			    st, i, in->p, (int)n, SQLITE_TRANSIENT);
		in->p += n;
		if (in->p < in->end)
			in->p++;
		return;
	}
}

static void
insert(sqlite3 *db, const char *sql, int nfixed, int nparams, struct in *in)
{
	sqlite3_stmt *st;
	int i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		abort(); /* our SQL against our schema */
	for (i = 1; i <= nfixed; i++)
		sqlite3_bind_int64(st, i, 1); /* run_id */
	for (; i <= nparams; i++)
		bind_any(st, i, in);
	(void)sqlite3_step(st);
	sqlite3_finalize(st);
}

static void
check_text(const char *s, size_t cap)
{
	if (strnlen(s, cap) == cap)
		abort();
}

static void
check_result(const struct res_resolver *r)
{
	check_text(r->addr, sizeof r->addr);
	check_text(r->domain, sizeof r->domain);
	check_text(r->evidence, sizeof r->evidence);
	if ((unsigned)r->stage >= RES_STAGE_COUNT ||
	    (unsigned)r->verdict >= RES_VERDICT_COUNT ||
	    (unsigned)r->reason >= RES_R_COUNT)
		abort();
}

struct sinks {
	struct rpt_sink *s[5];
	FILE *f[5];
	char *buf[5];
	size_t len[5];
	int n;
};

static const char *const fmts[] = {"text", "json", "jsonl", "csv", "ips"};

static int
on_result(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct sinks *k = arg;
	int i;

	(void)run_id;
	check_result(r);
	for (i = 0; i < k->n; i++)
		rpt_result(k->s[i], r);
	return 0;
}

static int
on_check(void *arg, int64_t run_id, const struct res_check *c)
{
	struct sinks *k = arg;
	int i;

	(void)run_id;
	check_text(c->detail, sizeof c->detail);
	check_text(c->subject, sizeof c->subject);
	check_text(c->evidence, sizeof c->evidence);
	if ((unsigned)c->kind >= RES_CHECK_COUNT ||
	    (unsigned)c->verdict >= RES_VERDICT_COUNT ||
	    (unsigned)c->reason >= RES_R_COUNT)
		abort();
	for (i = 0; i < k->n; i++)
		if (strcmp(fmts[i], "csv") != 0)
			rpt_check(k->s[i], c);
	return 0;
}

static int
on_history(void *arg, int64_t run_id, const struct res_resolver *r)
{
	(void)arg;
	(void)run_id;
	check_result(r);
	return 0;
}

static char *dbpath;
static struct store *st;
static sqlite3 *raw;

/* libFuzzer ends with exit(): remove the database and its directory. */
static void
cleanup(void)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char *p, *slash;
	size_t i;

	if (raw != NULL)
		sqlite3_close(raw);
	if (st != NULL)
		store_close(st);
	for (i = 0; i < nitems(suffix); i++) {
		p = xasprintf("%s%s", dbpath, suffix[i]);
		unlink(p);
		free(p);
	}
	if ((slash = strrchr(dbpath, '/')) != NULL) {
		*slash = '\0';
		rmdir(dbpath);
	}
	free(dbpath);
}

static void
setup_once(void)
{
	const char *td = getenv("TMPDIR");
	char *dir;
	struct err e;

	dir = xasprintf("%s/fuzz-store.XXXXXX", td && *td ? td : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	dbpath = xasprintf("%s/history.db", dir);
	free(dir);
	if ((st = store_open(dbpath, &e)) == NULL) {
		fprintf(stderr, "fuzz-store: %s\n", e.msg);
		abort();
	}
	if (sqlite3_open(dbpath, &raw) != SQLITE_OK)
		abort();
	sqlite3_exec(raw, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, data + size};
	struct store_run_info info;
	struct store_progress prog;
	struct res_run run;
	struct sinks k;
	struct err e;
	char addr[128];
	int i;

	if (st == NULL)
		setup_once();
	sqlite3_exec(raw,
	    "DELETE FROM scan_progress; DELETE FROM checks; "
	    "DELETE FROM resolver_results; DELETE FROM run_stages; "
	    "DELETE FROM runs",
	    NULL, NULL, NULL);
	sqlite3_exec(raw,
	    "INSERT INTO runs (id, command, args_digest, started_ms, host, "
	    "version, status) VALUES (1, 'scan', 'd', 0, 'h', 'v', 'running')",
	    NULL, NULL, NULL);
	insert(raw,
	    "UPDATE runs SET command = ?, args_digest = ?, started_ms = ?, "
	    "ended_ms = ?, host = ?, version = ?, status = ? WHERE id = 1",
	    0, 7, &in);
	for (i = 0; i < 2; i++)
		insert(raw, "INSERT INTO run_stages VALUES (?,?,?,?,?,?)", 1, 6,
		    &in);
	for (i = 0; i < 2; i++)
		insert(raw,
		    "INSERT INTO resolver_results VALUES (NULL,?,"
		    "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		    "?,?,?,?,?,?)",
		    1, 35, &in);
	insert(
	    raw, "INSERT INTO checks VALUES (NULL,?,?,?,?,?,?,?,?)", 1, 8, &in);
	insert(raw, "INSERT INTO scan_progress VALUES (?,?,?,?,?)", 1, 5, &in);

	if (store_last_run(st, "scan", NULL, &info, &e) == 0) {
		check_text(info.command, sizeof info.command);
		check_text(info.args_digest, sizeof info.args_digest);
		check_text(info.version, sizeof info.version);
		check_text(info.host, sizeof info.host);
		check_text(info.status, sizeof info.status);
	}
	memset(&k, 0, sizeof k);
	for (i = 0; i < (int)nitems(fmts); i++) {
		k.f[i] = open_memstream(&k.buf[i], &k.len[i]);
		k.s[i] = rpt_open(fmts[i], k.f[i], NULL);
		k.n++;
	}
	(void)store_run_results(st, 1, on_result, &k, &e);
	(void)store_run_checks(st, 1, on_check, &k, &e);
	if (store_run_get(st, 1, &run, &info, &e) == 0) {
		check_text(run.command, sizeof run.command);
		for (i = 0; i < k.n; i++)
			rpt_summary(k.s[i], &run);
	}
	for (i = 0; i < k.n; i++) {
		if (rpt_close(k.s[i], NULL) != 0)
			abort();
		fclose(k.f[i]);
		if (strcmp(fmts[i], "json") == 0) {
			json_t *j = json_loadb(k.buf[i], k.len[i], 0, NULL);

			if (j == NULL)
				abort();
			json_decref(j);
		}
		free(k.buf[i]);
	}
	(void)store_progress_get(st, 1, &prog, &e);
	/* The history of whatever address the first result names. */
	snprintf(
	    addr, sizeof addr, "%.*s", (int)MIN(size, 40), (const char *)data);
	(void)store_resolver_history(st, addr, on_history, NULL, &e);
	return 0;
}
