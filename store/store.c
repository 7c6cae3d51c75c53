/* SPDX-License-Identifier: MIT */
/*
 * store.c — the SQLite history (store.h): opening with WAL, busy timeout
 * and foreign keys; forward-only migrations keyed by PRAGMA user_version;
 * inserts and listings over the shared result model.
 *
 * Every SQL text here is a compile-time constant; values always travel as
 * bound parameters. It does not decide what to keep or prune (the CLI's
 * history and report commands do), and it never stores secrets: the model
 * it stores has no field for one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/path.h"
#include "common/result.h"
#include "common/util.h"
#include "store/store.h"

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *ins_result;
	sqlite3_stmt *set_progress;
};

/*
 * Migrations: entry i brings the schema from version i to i + 1 and ends
 * by setting user_version to i + 1, inside the same transaction. Never
 * edit a published entry; append a new one (docs/store.md).
 */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  command TEXT NOT NULL,"
    "  args_digest TEXT NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  host TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  status TEXT NOT NULL);"
    "CREATE INDEX runs_by_command ON runs(command, started_ms);"
    "CREATE TABLE run_stages ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  stage TEXT NOT NULL,"
    "  tested INTEGER NOT NULL,"
    "  passed INTEGER NOT NULL,"
    "  failed INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, stage));"
    "CREATE TABLE resolver_results ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  resolver TEXT NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  domain TEXT NOT NULL,"
    "  stage TEXT NOT NULL,"
    "  verdict TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  rtt_us INTEGER,"
    "  upload_mtu INTEGER,"
    "  download_mtu INTEGER,"
    "  longest_name INTEGER,"
    "  max_labels INTEGER,"
    "  case_preserved INTEGER,"
    "  max_answer_bytes INTEGER,"
    "  edns_size INTEGER,"
    "  tc_seen INTEGER,"
    "  tcp_ok INTEGER,"
    "  policy_present INTEGER NOT NULL,"
    "  policy_comp_pair INTEGER,"
    "  policy_max_dup INTEGER,"
    "  policy_max_setup_dup INTEGER,"
    "  policy_max_upload_mtu INTEGER,"
    "  policy_max_download_mtu INTEGER,"
    "  policy_max_workers INTEGER,"
    "  policy_min_ping_ms INTEGER,"
    "  policy_max_batch INTEGER,"
    "  policy_max_arq_window INTEGER,"
    "  policy_max_nack_gap INTEGER,"
    "  policy_min_comp_size INTEGER,"
    "  policy_min_rto_ms INTEGER,"
    "  burst_sent INTEGER NOT NULL,"
    "  burst_ok INTEGER NOT NULL,"
    "  burst_qps REAL,"
    "  evidence TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL);"
    "CREATE INDEX results_by_resolver ON resolver_results(resolver, at_ms);"
    "CREATE INDEX results_by_run ON resolver_results(run_id);"
    "CREATE TABLE checks ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  verdict TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  evidence TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL);"
    "CREATE INDEX checks_by_run ON checks(run_id);"
    "CREATE TABLE engine_snapshots ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,"
    "  at_ms INTEGER NOT NULL,"
    "  phase TEXT NOT NULL,"
    "  session_id INTEGER,"
    "  counters TEXT NOT NULL);"
    "CREATE INDEX snapshots_by_time ON engine_snapshots(at_ms);"
    "CREATE TABLE scan_progress ("
    "  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    "  seed INTEGER NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL);"
    "PRAGMA user_version = 1;",
    /* 1 -> 2: checks carry their subject (a resolver, an address
     * family); "the last ip check" is found by kind and time. */
    "ALTER TABLE checks ADD COLUMN subject TEXT;"
    "CREATE INDEX checks_by_kind ON checks(kind, at_ms);"
    "PRAGMA user_version = 2;",
    /* 2 -> 3: loss over the probes, MTUs at the search ceiling
     * (issue 11; docs/probes.md). NULL: not measured. */
    "ALTER TABLE resolver_results ADD COLUMN probes INTEGER;"
    "ALTER TABLE resolver_results ADD COLUMN lost INTEGER;"
    "ALTER TABLE resolver_results ADD COLUMN upload_at_ceiling INTEGER;"
    "ALTER TABLE resolver_results ADD COLUMN download_at_ceiling INTEGER;"
    "PRAGMA user_version = 3;",
    /* 3 -> 4: reading back (history, report, check). The last-known-good
     * list reads only passing rows, newest per resolver x port x domain:
     * a partial index keeps that cheap when millions of failures are
     * stored beside them. Comparing two runs looks each key of one up in
     * the other: results_by_key, which also serves everything
     * results_by_run did (its prefix), so that one goes. An engine
     * session's snapshots are read by run. */
    "CREATE INDEX results_passed ON resolver_results(resolver, port, "
    "domain, at_ms) WHERE verdict IN ('ok', 'degraded');"
    "CREATE INDEX results_by_key ON resolver_results(run_id, resolver, "
    "port, domain);"
    "DROP INDEX results_by_run;"
    "CREATE INDEX snapshots_by_run ON engine_snapshots(run_id, at_ms);"
    "PRAGMA user_version = 4;",
    /* 4 -> 5: scan --whoami (docs/checks.md): the resolver's egress as
     * a whoami name reported it, the name, why there is none. All three
     * NULL: the run asked no whoami name. */
    "ALTER TABLE resolver_results ADD COLUMN whoami TEXT;"
    "ALTER TABLE resolver_results ADD COLUMN whoami_name TEXT;"
    "ALTER TABLE resolver_results ADD COLUMN whoami_error TEXT;"
    "PRAGMA user_version = 5;",
};

/* Column list shared by the result inserts and selects (same order). */
#define RESULT_COLS                                                            \
	"resolver, port, domain, stage, verdict, reason, rtt_us, "             \
	"upload_mtu, download_mtu, longest_name, max_labels, "                 \
	"case_preserved, max_answer_bytes, edns_size, tc_seen, tcp_ok, "       \
	"policy_present, policy_comp_pair, policy_max_dup, "                   \
	"policy_max_setup_dup, policy_max_upload_mtu, "                        \
	"policy_max_download_mtu, policy_max_workers, "                        \
	"policy_min_ping_ms, policy_max_batch, policy_max_arq_window, "        \
	"policy_max_nack_gap, policy_min_comp_size, "                          \
	"policy_min_rto_ms, "                                                  \
	"burst_sent, burst_ok, burst_qps, evidence, at_ms, probes, lost, "     \
	"upload_at_ceiling, download_at_ceiling, whoami, whoami_name, "        \
	"whoami_error"

static int
db_err(struct store *s, struct err *e, const char *what)
{
	return err_set(e, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int
prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct err *e)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return db_err(s, e, "prepare");
	}
	return 0;
}

/* Run a constant statement without values (BEGIN, COMMIT, PRAGMA). */
static int
exec_const(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(
		    e, "store: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
bind_opt(sqlite3_stmt *st, int i, long long v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *t)
{
	sqlite3_bind_text(st, i, t ? t : "", -1, SQLITE_TRANSIENT);
}

static long long
col_opt(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return -1;
	return sqlite3_column_int64(st, i);
}

static void
col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

/* mkdir -p of the directory part of path, new directories 0700. */
static int
make_parent(const char *path, struct err *e)
{
	char *dir = xstrdup(path), *p, c;
	struct stat sb;
	int rc = 0;

	p = strrchr(dir, '/');
	if (p == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (stat(dir, &sb) != 0) {
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				rc = err_set(e,
				    "cannot create directory "
				    "%s: %s",
				    dir, strerror(errno));
		} else if (!S_ISDIR(sb.st_mode))
			rc = err_set(e, "%s is not a directory", dir);
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

static int
user_version(struct store *s, int *v, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "PRAGMA user_version", &st, e) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(s, e, "read user_version");
	return 0;
}

static int
migrate(struct store *s, struct err *e)
{
	int v, target = (int)nitems(migrations);

	if (user_version(s, &v, e) != 0)
		return -1;
	if (v > target)
		return err_set(e,
		    "schema version %d is newer than this "
		    "mdns-doctor understands (%d); use a newer mdns-doctor or "
		    "another --db",
		    v, target);
	while (v < target) {
		/*
		 * IMMEDIATE takes the write lock first, so a second process
		 * opening the same new file waits and then sees the new
		 * version instead of applying the migration twice.
		 */
		if (exec_const(s, "BEGIN IMMEDIATE", e) != 0)
			return -1;
		if (user_version(s, &v, e) != 0) {
			rollback(s);
			return -1;
		}
		if (v >= target) {
			exec_const(s, "COMMIT", NULL);
			break;
		}
		if (exec_const(s, migrations[v], e) != 0 ||
		    exec_const(s, "COMMIT", e) != 0) {
			rollback(s);
			return err_prefix(e, "migration to version %d", v + 1);
		}
		v++;
	}
	return 0;
}

static int
setup(struct store *s, struct err *e)
{
	sqlite3_stmt *st;
	const unsigned char *mode;
	int ok;

	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK)
		return db_err(s, e, "busy timeout");
	/* The first statement: its error is the file's ("not a database"). */
	if (sqlite3_prepare_v2(
		s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
		return err_set(e, "%s", sqlite3_errmsg(s->db));
	ok = sqlite3_step(st) == SQLITE_ROW;
	mode = ok ? sqlite3_column_text(st, 0) : NULL;
	if (!ok || mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		if (ok)
			err_set(e, "journal mode is %s, WAL is not available",
			    mode ? (const char *)mode : "unknown");
		else
			err_set(e, "%s", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	/*
	 * NORMAL in WAL mode: a process crash (SIGKILL) never loses a
	 * committed transaction; only a power cut may lose the last ones.
	 */
	if (exec_const(s, "PRAGMA synchronous = NORMAL", e) != 0 ||
	    exec_const(s, "PRAGMA foreign_keys = ON", e) != 0)
		return -1;
	if (migrate(s, e) != 0)
		return -1;
	if (prepare(s,
		"INSERT INTO resolver_results (run_id, " RESULT_COLS ") VALUES "
		"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		"?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		&s->ins_result, e) != 0)
		return -1;
	if (prepare(s,
		"INSERT INTO scan_progress (run_id, seed, position, "
		"total, updated_ms) VALUES (?,?,?,?,?) ON CONFLICT(run_id) DO "
		"UPDATE SET seed = excluded.seed, position = "
		"excluded.position, "
		"total = excluded.total, updated_ms = excluded.updated_ms",
		&s->set_progress, e) != 0)
		return -1;
	return 0;
}

struct store *
store_open(const char *path, struct err *e)
{
	return store_open_flags(path, 0, e);
}

struct store *
store_open_flags(const char *path, unsigned flags, struct err *e)
{
	struct store *s;
	struct err sub = {""};
	struct stat sb;
	int rc;

	if (path == NULL || *path == '\0') {
		err_set(e, "cannot open DB: empty path");
		return NULL;
	}
	if ((flags & STORE_NO_CREATE) && stat(path, &sb) != 0) {
		if (errno == ENOENT)
			err_set(e,
			    "no history at %s (nothing has been stored "
			    "there yet)",
			    path);
		else
			err_set(
			    e, "cannot open DB %s: %s", path, strerror(errno));
		return NULL;
	}
	/* A private directory, no planted link, a 0600 file (path.h). */
	if (make_parent(path, &sub) != 0 || path_prepare_db(path, &sub) != 0) {
		err_set(e, "cannot open DB %s: %s", path, sub.msg);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		err_set(&sub, "%s",
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (setup(s, &sub) != 0)
		goto fail;
	return s;
fail:
	if (sub.msg[0] == '\0' && s->db != NULL)
		err_set(&sub, "%s", sqlite3_errmsg(s->db));
	err_set(e, "cannot open DB %s: %s", path, sub.msg);
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->ins_result);
	sqlite3_finalize(s->set_progress);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

void
store_set_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms < 0 ? 0 : ms);
}

char *
store_default_path(struct err *e)
{
	char *dir = path_state_dir(e), *p;

	if (dir == NULL)
		return NULL;
	p = path_join(dir, "history.db");
	free(dir);
	return p;
}

int
store_schema_version(struct store *s)
{
	int v = -1;

	if (user_version(s, &v, NULL) != 0)
		return -1;
	return v;
}

/* ---- runs ------------------------------------------------------------- */

int
store_run_begin(struct store *s, const char *command, const char *args_digest,
    const char *version, int64_t *run_id, struct err *e)
{
	sqlite3_stmt *st;
	char host[256] = "";
	int rc;

	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	if (prepare(s,
		"INSERT INTO runs (command, args_digest, started_ms, "
		"host, version, status) VALUES (?,?,?,?,?,'running')",
		&st, e) != 0)
		return -1;
	bind_text(st, 1, command);
	bind_text(st, 2, args_digest);
	sqlite3_bind_int64(st, 3, now_wall_ms());
	bind_text(st, 4, host);
	bind_text(st, 5, version);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "begin run");
	*run_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_run_end(
    struct store *s, int64_t run_id, const char *status, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "UPDATE runs SET ended_ms = ?, status = ? WHERE id = ?",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, now_wall_ms());
	bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, run_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "end run");
	if (sqlite3_changes(s->db) != 1)
		return err_set(e, "store: no run %lld", (long long)run_id);
	return 0;
}

int
store_run_stats(
    struct store *s, int64_t run_id, const struct res_run *run, struct err *e)
{
	sqlite3_stmt *st;
	int i, rc = SQLITE_DONE;

	if (prepare(s,
		"INSERT OR REPLACE INTO run_stages (run_id, stage, "
		"tested, passed, failed, duration_ms) VALUES (?,?,?,?,?,?)",
		&st, e) != 0)
		return -1;
	if (exec_const(s, "BEGIN IMMEDIATE", e) != 0) {
		sqlite3_finalize(st);
		return -1;
	}
	for (i = 0; i < RES_STAGE_COUNT && rc == SQLITE_DONE; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, run_id);
		bind_text(st, 2, res_stage_name((enum res_stage)i));
		sqlite3_bind_int64(st, 3, run->stages[i].tested);
		sqlite3_bind_int64(st, 4, run->stages[i].passed);
		sqlite3_bind_int64(st, 5, run->stages[i].failed);
		sqlite3_bind_int64(st, 6, run->stages[i].duration_ms);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		db_err(s, e, "run stats");
		rollback(s);
		return -1;
	}
	if (exec_const(s, "COMMIT", e) != 0) {
		rollback(s);
		return -1;
	}
	return 0;
}

#define RUN_COLS                                                               \
	"id, command, args_digest, version, host, status, "                    \
	"started_ms, ended_ms"

static void
read_run_info(sqlite3_stmt *st, struct store_run_info *o)
{
	memset(o, 0, sizeof *o);
	o->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, o->command, sizeof o->command);
	col_text(st, 2, o->args_digest, sizeof o->args_digest);
	col_text(st, 3, o->version, sizeof o->version);
	col_text(st, 4, o->host, sizeof o->host);
	col_text(st, 5, o->status, sizeof o->status);
	o->started_ms = sqlite3_column_int64(st, 6);
	o->ended_ms = col_opt(st, 7) < 0 ? 0 : col_opt(st, 7);
}

int
store_run_get(struct store *s, int64_t run_id, struct res_run *out,
    struct store_run_info *info, struct err *e)
{
	sqlite3_stmt *st;
	struct store_run_info ri;
	enum res_stage stage;
	int rc;

	if (prepare(s, "SELECT " RUN_COLS " FROM runs WHERE id = ?", &st, e) !=
	    0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_run_info(st, &ri);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return db_err(s, e, "read run");
	if (info != NULL)
		*info = ri;
	if (out == NULL)
		return 0;
	res_run_init(out);
	snprintf(out->command, sizeof out->command, "%s", ri.command);
	snprintf(
	    out->args_digest, sizeof out->args_digest, "%s", ri.args_digest);
	snprintf(out->version, sizeof out->version, "%s", ri.version);
	out->started_ms = ri.started_ms;
	out->ended_ms = ri.ended_ms;
	if (prepare(s,
		"SELECT stage, tested, passed, failed, duration_ms "
		"FROM run_stages WHERE run_id = ?",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (res_stage_from_name(
			(const char *)sqlite3_column_text(st, 0), &stage) != 0)
			continue; /* a stage a newer version added */
		out->stages[stage].tested =
		    (uint32_t)sqlite3_column_int64(st, 1);
		out->stages[stage].passed =
		    (uint32_t)sqlite3_column_int64(st, 2);
		out->stages[stage].failed =
		    (uint32_t)sqlite3_column_int64(st, 3);
		out->stages[stage].duration_ms = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "read run stages");
	return 0;
}

/* Bind text, or NULL for a NULL pointer ("any" in the queries). */
static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
	if (t != NULL)
		bind_text(st, i, t);
	else
		sqlite3_bind_null(st, i);
}

/* Step a query for at most one run and finalize it: 0 with out filled,
 * 1 when there is none, -1 (what names the query in the message). */
static int
one_run(struct store *s, sqlite3_stmt *st, struct store_run_info *out,
    const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		read_run_info(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return db_err(s, e, what);
	return 0;
}

int
store_last_run(struct store *s, const char *command, const char *args_digest,
    struct store_run_info *out, struct err *e)
{
	sqlite3_stmt *st;

	if (prepare(s,
		"SELECT " RUN_COLS " FROM runs WHERE command = ?1 "
		"AND (?2 IS NULL OR args_digest = ?2) "
		"ORDER BY started_ms DESC, id DESC LIMIT 1",
		&st, e) != 0)
		return -1;
	bind_text(st, 1, command);
	bind_text_or_null(st, 2, args_digest);
	return one_run(s, st, out, "last run", e);
}

/* ---- results ---------------------------------------------------------- */

static int
insert_result(
    struct store *s, int64_t run_id, const struct res_resolver *r, int64_t now)
{
	sqlite3_stmt *st = s->ins_result;
	const struct res_policy *p = &r->policy;
	int i = 1, k;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, i++, run_id);
	bind_text(st, i++, r->addr);
	sqlite3_bind_int(st, i++, r->port);
	bind_text(st, i++, r->domain);
	bind_text(st, i++, res_stage_name(r->stage));
	bind_text(st, i++, res_verdict_name(r->verdict));
	bind_text(st, i++, res_reason_name(r->reason));
	bind_opt(st, i++, r->rtt_us);
	bind_opt(st, i++, r->upload_mtu);
	bind_opt(st, i++, r->download_mtu);
	bind_opt(st, i++, r->shape.longest_name);
	bind_opt(st, i++, r->shape.max_labels);
	bind_opt(st, i++, r->shape.case_preserved);
	bind_opt(st, i++, r->shape.max_answer_bytes);
	bind_opt(st, i++, r->shape.edns_size);
	bind_opt(st, i++, r->shape.tc_seen);
	bind_opt(st, i++, r->shape.tcp_ok);
	sqlite3_bind_int(st, i++, p->present ? 1 : 0);
	for (k = 0; k < RES_POLICY_NFIELDS; k++)
		bind_opt(st, i++, p->present ? res_policy_get(p, k) : -1);
	sqlite3_bind_int(st, i++, r->burst_sent);
	sqlite3_bind_int(st, i++, r->burst_ok);
	if (r->burst_qps < 0)
		sqlite3_bind_null(st, i++);
	else
		sqlite3_bind_double(st, i++, r->burst_qps);
	bind_text(st, i++, r->evidence);
	sqlite3_bind_int64(st, i++, r->at_ms > 0 ? r->at_ms : now);
	bind_opt(st, i++, r->probes);
	bind_opt(st, i++, r->lost);
	bind_opt(st, i++, r->up_at_ceiling);
	bind_opt(st, i++, r->down_at_ceiling);
	if (r->whoami_asked) {
		bind_text(st, i++, r->whoami);
		bind_text(st, i++, r->whoami_name);
		bind_text(st, i++, r->whoami_error);
	} /* else NULL: not asked */
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int
bind_progress_step(
    struct store *s, int64_t run_id, const struct store_progress *p)
{
	sqlite3_stmt *st = s->set_progress;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, run_id);
	/* uint64 stored bit for bit in SQLite's signed 64-bit integer. */
	sqlite3_bind_int64(st, 2, (sqlite3_int64)p->seed);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)p->position);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->total);
	sqlite3_bind_int64(st, 5, now_wall_ms());
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

int
store_add_batch(struct store *s, int64_t run_id, const struct res_resolver *arr,
    size_t n, const struct store_progress *p, struct err *e)
{
	int64_t now = now_wall_ms();
	size_t i;

	if (exec_const(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (insert_result(s, run_id, &arr[i], now) != 0) {
			db_err(s, e, "add result");
			goto fail;
		}
	}
	if (p != NULL && bind_progress_step(s, run_id, p) != 0) {
		db_err(s, e, "set progress");
		goto fail;
	}
	if (exec_const(s, "COMMIT", e) != 0)
		goto fail;
	sqlite3_reset(s->ins_result);
	sqlite3_reset(s->set_progress);
	return 0;
fail:
	sqlite3_reset(s->ins_result);
	sqlite3_reset(s->set_progress);
	rollback(s);
	return -1;
}

int
store_add_results(struct store *s, int64_t run_id,
    const struct res_resolver *arr, size_t n, struct err *e)
{
	return store_add_batch(s, run_id, arr, n, NULL, e);
}

static void
read_result(sqlite3_stmt *st, int c, struct res_resolver *r)
{
	struct res_policy *p = &r->policy;
	const char *t;
	size_t k;

	res_resolver_init(r);
	col_text(st, c++, r->addr, sizeof r->addr);
	r->port = (uint16_t)sqlite3_column_int(st, c++);
	col_text(st, c++, r->domain, sizeof r->domain);
	/*
	 * Names a newer mdns-doctor may have added read back as the most
	 * neutral value rather than failing the whole listing.
	 */
	t = (const char *)sqlite3_column_text(st, c++);
	if (res_stage_from_name(t, &r->stage) != 0)
		r->stage = RES_STAGE_NONE;
	t = (const char *)sqlite3_column_text(st, c++);
	if (res_verdict_from_name(t, &r->verdict) != 0)
		r->verdict = RES_VERDICT_UNKNOWN;
	t = (const char *)sqlite3_column_text(st, c++);
	if (res_reason_from_name(t, &r->reason) != 0)
		r->reason = RES_R_INTERNAL;
	r->rtt_us = col_opt(st, c++);
	r->upload_mtu = (int)col_opt(st, c++);
	r->download_mtu = (int)col_opt(st, c++);
	r->shape.longest_name = (int)col_opt(st, c++);
	r->shape.max_labels = (int)col_opt(st, c++);
	r->shape.case_preserved = (enum res_tri)col_opt(st, c++);
	r->shape.max_answer_bytes = (int)col_opt(st, c++);
	r->shape.edns_size = (int)col_opt(st, c++);
	r->shape.tc_seen = (enum res_tri)col_opt(st, c++);
	r->shape.tcp_ok = (enum res_tri)col_opt(st, c++);
	p->present = sqlite3_column_int(st, c++) != 0;
	for (k = 0; k < RES_POLICY_NFIELDS; k++)
		res_policy_set(p, k, (int)col_opt(st, c++));
	r->burst_sent = sqlite3_column_int(st, c++);
	r->burst_ok = sqlite3_column_int(st, c++);
	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		r->burst_qps = -1;
	else
		r->burst_qps = sqlite3_column_double(st, c);
	c++;
	col_text(st, c++, r->evidence, sizeof r->evidence);
	r->at_ms = sqlite3_column_int64(st, c++);
	r->probes = (int)col_opt(st, c++);
	r->lost = (int)col_opt(st, c++);
	r->up_at_ceiling = (enum res_tri)col_opt(st, c++);
	r->down_at_ceiling = (enum res_tri)col_opt(st, c++);
	r->whoami_asked = sqlite3_column_type(st, c + 2) != SQLITE_NULL;
	col_text(st, c++, r->whoami, sizeof r->whoami);
	col_text(st, c++, r->whoami_name, sizeof r->whoami_name);
	col_text(st, c++, r->whoami_error, sizeof r->whoami_error);
}

static int
list_results(struct store *s, const char *sql, int64_t run_id,
    const char *address, store_result_cb cb, void *arg, struct err *e)
{
	struct res_resolver r;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, sql, &st, e) != 0)
		return -1;
	if (address != NULL)
		bind_text(st, 1, address);
	else
		sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_result(st, 1, &r);
		if (cb(arg, sqlite3_column_int64(st, 0), &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "list results");
	return 0;
}

int
store_resolver_history(struct store *s, const char *address, store_result_cb cb,
    void *arg, struct err *e)
{
	return list_results(s,
	    "SELECT run_id, " RESULT_COLS
	    " FROM resolver_results WHERE resolver = ? "
	    "ORDER BY at_ms DESC, id DESC",
	    0, address ? address : "", cb, arg, e);
}

int
store_run_results(struct store *s, int64_t run_id, store_result_cb cb,
    void *arg, struct err *e)
{
	return list_results(s,
	    "SELECT run_id, " RESULT_COLS
	    " FROM resolver_results WHERE run_id = ? ORDER BY id",
	    run_id, NULL, cb, arg, e);
}

/* ---- checks, snapshots, progress -------------------------------------- */

int
store_add_check(
    struct store *s, int64_t run_id, const struct res_check *c, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s,
		"INSERT INTO checks (run_id, kind, verdict, reason, "
		"detail, evidence, at_ms, subject) VALUES (?,?,?,?,?,?,?,?)",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, res_check_kind_name(c->kind));
	bind_text(st, 3, res_verdict_name(c->verdict));
	bind_text(st, 4, res_reason_name(c->reason));
	bind_text(st, 5, c->detail);
	bind_text(st, 6, c->evidence);
	sqlite3_bind_int64(st, 7, c->at_ms > 0 ? c->at_ms : now_wall_ms());
	if (c->subject[0] != '\0')
		bind_text(st, 8, c->subject);
	else
		sqlite3_bind_null(st, 8);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "add check");
	return 0;
}

/* Columns kind, verdict, reason, detail, evidence, at_ms, subject from
 * column 0 on. Returns -1 for a kind this build does not know. */
static int
read_check(sqlite3_stmt *st, struct res_check *c)
{
	const char *t;

	res_check_init(c);
	t = (const char *)sqlite3_column_text(st, 0);
	if (res_check_kind_from_name(t, &c->kind) != 0)
		return -1;
	t = (const char *)sqlite3_column_text(st, 1);
	if (res_verdict_from_name(t, &c->verdict) != 0)
		c->verdict = RES_VERDICT_UNKNOWN;
	t = (const char *)sqlite3_column_text(st, 2);
	if (res_reason_from_name(t, &c->reason) != 0)
		c->reason = RES_R_INTERNAL;
	col_text(st, 3, c->detail, sizeof c->detail);
	col_text(st, 4, c->evidence, sizeof c->evidence);
	c->at_ms = sqlite3_column_int64(st, 5);
	col_text(st, 6, c->subject, sizeof c->subject);
	return 0;
}

int
store_run_checks(struct store *s, int64_t run_id, store_check_cb cb, void *arg,
    struct err *e)
{
	struct res_check c;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s,
		"SELECT kind, verdict, reason, detail, evidence, at_ms, "
		"subject FROM checks WHERE run_id = ? ORDER BY id",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_check(st, &c) != 0)
			continue; /* a kind a newer version added */
		if (cb(arg, run_id, &c) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "list checks");
	return 0;
}

int
store_add_snapshot(struct store *s, int64_t run_id, int64_t at_ms,
    const char *phase, int64_t session_id, const char *counters_json,
    struct err *e)
{
	sqlite3_stmt *st;
	json_error_t je;
	json_t *j;
	int rc;

	j = json_loads(counters_json ? counters_json : "", 0, &je);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return err_set(e,
		    "store: snapshot counters are not a JSON "
		    "object: %s",
		    j ? "not an object" : je.text);
	}
	json_decref(j);
	if (prepare(s,
		"INSERT INTO engine_snapshots (run_id, at_ms, phase, "
		"session_id, counters) VALUES (?,?,?,?,?)",
		&st, e) != 0)
		return -1;
	if (run_id > 0)
		sqlite3_bind_int64(st, 1, run_id);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, at_ms > 0 ? at_ms : now_wall_ms());
	bind_text(st, 3, phase);
	bind_opt(st, 4, session_id);
	bind_text(st, 5, counters_json);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "add snapshot");
	return 0;
}

int
store_progress_set(struct store *s, int64_t run_id,
    const struct store_progress *p, struct err *e)
{
	int rc = 0;

	if (bind_progress_step(s, run_id, p) != 0)
		rc = db_err(s, e, "set progress");
	sqlite3_reset(s->set_progress);
	return rc;
}

int
store_progress_get(
    struct store *s, int64_t run_id, struct store_progress *p, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s,
		"SELECT seed, position, total FROM scan_progress "
		"WHERE run_id = ?",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->seed = (uint64_t)sqlite3_column_int64(st, 0);
		p->position = (uint64_t)sqlite3_column_int64(st, 1);
		p->total = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return db_err(s, e, "read progress");
	return 0;
}

/* ---- transactions for callers that group writes ------------------------ */

int
store_tx_begin(struct store *s, struct err *e)
{
	return exec_const(s, "BEGIN IMMEDIATE", e);
}

int
store_tx_commit(struct store *s, struct err *e)
{
	if (exec_const(s, "COMMIT", e) != 0) {
		rollback(s);
		return -1;
	}
	return 0;
}

void
store_tx_rollback(struct store *s)
{
	rollback(s);
}

int
store_locked(struct store *s)
{
	int rc = sqlite3_extended_errcode(s->db) & 0xff;

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* ---- reading back: runs ------------------------------------------------- */

int
store_runs(struct store *s, const struct store_run_filter *f, store_run_cb cb,
    void *arg, struct err *e)
{
	struct store_run_row r;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s,
		"SELECT " RUN_COLS ", "
		"(SELECT count(*) FROM resolver_results x WHERE x.run_id = "
		"runs.id), "
		"(SELECT count(*) FROM resolver_results x WHERE x.run_id = "
		"runs.id AND x.verdict IN ('ok', 'degraded')), "
		"(SELECT count(*) FROM checks x WHERE x.run_id = runs.id), "
		"(SELECT count(*) FROM engine_snapshots x WHERE x.run_id = "
		"runs.id) "
		"FROM runs WHERE (?1 IS NULL OR command = ?1) AND "
		"started_ms >= ?2 ORDER BY started_ms DESC, id DESC LIMIT ?3",
		&st, e) != 0)
		return -1;
	bind_text_or_null(st, 1, f != NULL ? f->command : NULL);
	sqlite3_bind_int64(st, 2, f != NULL ? f->since_ms : 0);
	sqlite3_bind_int64(st, 3,
	    f != NULL && f->limit > 0 && f->limit < INT64_MAX ?
		(sqlite3_int64)f->limit :
		-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_run_info(st, &r.info);
		r.nresults = (uint64_t)sqlite3_column_int64(st, 8);
		r.npassed = (uint64_t)sqlite3_column_int64(st, 9);
		r.nchecks = (uint64_t)sqlite3_column_int64(st, 10);
		r.nsnapshots = (uint64_t)sqlite3_column_int64(st, 11);
		if (cb(arg, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "list runs");
	return 0;
}

int
store_run_before(struct store *s, int64_t run_id, const char *command,
    const char *args_digest, struct store_run_info *out, struct err *e)
{
	sqlite3_stmt *st;

	if (prepare(s,
		"SELECT " RUN_COLS " FROM runs WHERE command = ?2 "
		"AND (?3 IS NULL OR args_digest = ?3) AND (started_ms, id) < "
		"(SELECT started_ms, id FROM runs WHERE id = ?1) "
		"ORDER BY started_ms DESC, id DESC LIMIT 1",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, command);
	bind_text_or_null(st, 3, args_digest);
	return one_run(s, st, out, "run before", e);
}

/* ---- reading back: last known good, two runs side by side -------------- */

/* How many columns RESULT_COLS names (for selects with two blocks). */
static int
result_ncols(void)
{
	const char *p;
	int n = 1;

	for (p = RESULT_COLS; *p != '\0'; p++)
		n += *p == ',';
	return n;
}

/* A stored verdict name, or UNKNOWN for one this build does not know. */
static enum res_verdict
col_verdict(sqlite3_stmt *st, int i)
{
	enum res_verdict v;

	if (res_verdict_from_name(
		(const char *)sqlite3_column_text(st, i), &v) != 0)
		v = RES_VERDICT_UNKNOWN;
	return v;
}

int
store_good(struct store *s, int64_t since_ms, store_good_cb cb, void *arg,
    struct err *e)
{
	struct store_good g;
	sqlite3_stmt *st;
	int rc, c;

	/*
	 * k: the newest passing time per resolver x port x domain (an index
	 * walk over results_passed); g: that row, the newest row of any
	 * verdict and the counts, all through the indexes; then the row.
	 */
	if (prepare(s,
		"WITH k AS (SELECT resolver AS kr, port AS kp, domain AS kd, "
		"max(at_ms) AS km FROM resolver_results WHERE verdict IN "
		"('ok', 'degraded') AND at_ms >= ?1 GROUP BY resolver, port, "
		"domain), "
		"g AS (SELECT "
		"(SELECT y.id FROM resolver_results y WHERE y.resolver = kr "
		"AND y.port = kp AND y.domain = kd AND y.verdict IN ('ok', "
		"'degraded') AND y.at_ms = km ORDER BY y.id DESC LIMIT 1) "
		"AS ok_id, "
		"(SELECT y.id FROM resolver_results y WHERE y.resolver = kr "
		"AND y.port = kp AND y.domain = kd AND y.at_ms >= ?1 "
		"ORDER BY y.at_ms DESC, y.id DESC LIMIT 1) AS s_id, "
		"(SELECT count(*) FROM resolver_results y WHERE y.resolver = "
		"kr AND y.port = kp AND y.domain = kd AND y.verdict IN ('ok', "
		"'degraded') AND y.at_ms >= ?1) AS npassed, "
		"(SELECT count(*) FROM resolver_results y WHERE y.resolver = "
		"kr AND y.port = kp AND y.domain = kd AND y.at_ms >= ?1) "
		"AS ntested FROM k) "
		"SELECT run_id, " RESULT_COLS ", "
		"(SELECT z.at_ms FROM resolver_results z WHERE z.id = s_id), "
		"(SELECT z.run_id FROM resolver_results z WHERE z.id = s_id), "
		"(SELECT z.verdict FROM resolver_results z WHERE z.id = s_id), "
		"(SELECT z.reason FROM resolver_results z WHERE z.id = s_id), "
		"npassed, ntested FROM g JOIN resolver_results ON id = ok_id "
		"ORDER BY resolver, port, domain",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&g, 0, sizeof g);
		g.ok_run = sqlite3_column_int64(st, 0);
		read_result(st, 1, &g.ok);
		c = 1 + result_ncols();
		g.seen_ms = sqlite3_column_int64(st, c++);
		g.seen_run = sqlite3_column_int64(st, c++);
		g.seen_verdict = col_verdict(st, c++);
		if (res_reason_from_name(
			(const char *)sqlite3_column_text(st, c++),
			&g.seen_reason) != 0)
			g.seen_reason = RES_R_INTERNAL;
		g.npassed = (uint32_t)sqlite3_column_int64(st, c++);
		g.ntested = (uint32_t)sqlite3_column_int64(st, c++);
		if (cb(arg, &g) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "last known good");
	return 0;
}

int
store_run_pairs(struct store *s, int64_t run_a, int64_t run_b, store_pair_cb cb,
    void *arg, struct err *e)
{
	struct res_resolver *a, *b;
	sqlite3_stmt *st;
	int rc, n = result_ncols(), stop = 0;

	/*
	 * Every key of a with its match in b, then the keys only b has; each
	 * lookup is one probe of results_by_key. (SQLite plans a FULL OUTER
	 * JOIN of the two as a nested scan: minutes for two 100k-runs.)
	 */
	if (prepare(s,
		"SELECT a.*, b.* FROM "
		"(SELECT " RESULT_COLS " FROM resolver_results WHERE run_id = "
		"?1) a LEFT JOIN "
		"(SELECT " RESULT_COLS " FROM resolver_results WHERE run_id = "
		"?2) b ON a.resolver = b.resolver AND a.port = b.port AND "
		"a.domain = b.domain "
		"UNION ALL SELECT a.*, b.* FROM "
		"(SELECT " RESULT_COLS " FROM resolver_results WHERE run_id = "
		"?2) b LEFT JOIN "
		"(SELECT " RESULT_COLS " FROM resolver_results WHERE run_id = "
		"?1) a ON a.resolver = b.resolver AND a.port = b.port AND "
		"a.domain = b.domain WHERE a.resolver IS NULL",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_a);
	sqlite3_bind_int64(st, 2, run_b);
	a = xmalloc(sizeof *a);
	b = xmalloc(sizeof *b);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int has_a = sqlite3_column_type(st, 0) != SQLITE_NULL;
		int has_b = sqlite3_column_type(st, n) != SQLITE_NULL;

		if (has_a)
			read_result(st, 0, a);
		if (has_b)
			read_result(st, n, b);
		stop = cb(arg, has_a ? a : NULL, has_b ? b : NULL) != 0;
	}
	if (stop)
		rc = SQLITE_DONE;
	free(a);
	free(b);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "compare runs");
	return 0;
}

/* ---- reading back: checks and snapshots --------------------------------- */

int
store_latest_checks(struct store *s, int64_t since_ms, store_check_cb cb,
    void *arg, struct err *e)
{
	struct res_check c;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s,
		"SELECT kind, verdict, reason, detail, evidence, at_ms, "
		"subject, run_id FROM (SELECT *, row_number() OVER "
		"(PARTITION BY kind, subject ORDER BY at_ms DESC, id DESC) "
		"AS rn FROM checks WHERE at_ms >= ?1) WHERE rn = 1 "
		"ORDER BY kind, coalesce(subject, '')",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_check(st, &c) != 0)
			continue;
		if (cb(arg, sqlite3_column_int64(st, 7), &c) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "latest checks");
	return 0;
}

int
store_snapshots(struct store *s, int64_t run_id, int64_t since_ms,
    store_snapshot_cb cb, void *arg, struct err *e)
{
	struct store_snapshot sn;
	sqlite3_stmt *st;
	const char *t;
	int rc;

	/* Two texts so that each uses its index (by run, by time). */
	if (prepare(s,
		run_id > 0 ?
		    "SELECT id, run_id, at_ms, phase, session_id, counters "
		    "FROM engine_snapshots WHERE run_id = ?1 AND at_ms >= ?2 "
		    "ORDER BY at_ms, id" :
		    "SELECT id, run_id, at_ms, phase, session_id, counters "
		    "FROM engine_snapshots WHERE ?1 = 0 AND at_ms >= ?2 "
		    "ORDER BY at_ms, id",
		&st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id > 0 ? run_id : 0);
	sqlite3_bind_int64(st, 2, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sn.id = sqlite3_column_int64(st, 0);
		sn.run_id = col_opt(st, 1) < 0 ? 0 : col_opt(st, 1);
		sn.at_ms = sqlite3_column_int64(st, 2);
		t = (const char *)sqlite3_column_text(st, 3);
		sn.phase = t ? t : "";
		sn.session_id = col_opt(st, 4);
		t = (const char *)sqlite3_column_text(st, 5);
		sn.counters = t ? t : "{}";
		if (cb(arg, &sn) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "list snapshots");
	return 0;
}

/* Run one bound DELETE; adds the rows removed to *n. */
static int
delete_step(
    struct store *s, const char *sql, int64_t v, uint64_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, sql, &st, e) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(s, e, "prune snapshots");
	*n += (uint64_t)sqlite3_changes(s->db);
	return 0;
}

int
store_prune_snapshots(struct store *s, int64_t before_ms, uint64_t keep_rows,
    uint64_t *deleted, struct err *e)
{
	uint64_t n = 0;
	int own = sqlite3_get_autocommit(s->db), rc = 0;

	if (own && exec_const(s, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (before_ms > 0)
		rc = delete_step(s,
		    "DELETE FROM engine_snapshots WHERE at_ms < ?1", before_ms,
		    &n, e);
	if (rc == 0 && keep_rows > 0 && keep_rows < INT64_MAX)
		rc = delete_step(s,
		    "DELETE FROM engine_snapshots WHERE id <= (SELECT id "
		    "FROM engine_snapshots ORDER BY id DESC LIMIT 1 "
		    "OFFSET ?1)",
		    (int64_t)keep_rows, &n, e);
	if (own) {
		if (rc == 0)
			rc = exec_const(s, "COMMIT", e);
		if (rc != 0)
			rollback(s);
	}
	if (rc == 0 && deleted != NULL)
		*deleted = n;
	return rc;
}
