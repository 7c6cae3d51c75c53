/* SPDX-License-Identifier: MIT */
/*
 * test-store.c — the SQLite store: the schema and its pragmas (read back
 * with a separate sqlite3 connection), round trips of every field,
 * batch atomicity, last run, history order, progress, reopening without
 * re-migrating, migrating a v1 file, refusing a newer schema, and clean errors for paths that
 * cannot hold a database. Works in a private temp directory it removes.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/result.h"
#include "common/util.h"
#include "store/store.h"
#include "tests/tap.h"

static char tmpdir[256];

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
cleanup(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One value from a fresh read-only connection, as text ("" if none). */
static void
sql_text(const char *db, const char *sql, char *out, size_t len)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static long long
sql_int(const char *db, const char *sql)
{
	char buf[64];

	sql_text(db, sql, buf, sizeof buf);
	return buf[0] ? strtoll(buf, NULL, 10) : -999;
}

static int
sql_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	int rc;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
full_result(struct res_resolver *r, int i)
{
	res_resolver_init(r);
	snprintf(r->addr, sizeof r->addr, "%s",
	    i % 2 ? "2001:db8::7" : "203.0.113.10");
	r->port = (uint16_t)(53 + i);
	snprintf(r->domain, sizeof r->domain, "тест-%d.example", i);
	r->stage = (enum res_stage)(i % RES_STAGE_COUNT);
	r->verdict = i % 3 ? RES_VERDICT_FAIL : RES_VERDICT_OK;
	r->reason = (enum res_reason)(i % RES_R_COUNT);
	r->rtt_us = 41250 + i;
	r->upload_mtu = 100 + i;
	r->download_mtu = 900 + i;
	r->shape.longest_name = 200 + i;
	r->shape.max_labels = 4;
	r->shape.case_preserved = RES_TRI_YES;
	r->shape.max_answer_bytes = 1232;
	r->shape.edns_size = 0;
	r->shape.tc_seen = RES_TRI_NO;
	r->shape.tcp_ok = RES_TRI_UNKNOWN;
	r->policy.present = 1;
	r->policy.comp_pair = 0x11;
	r->policy.max_dup = 5;
	r->policy.max_setup_dup = 6;
	r->policy.max_upload_mtu = 150;
	r->policy.max_download_mtu = 4096;
	r->policy.max_workers = 255;
	r->policy.min_ping_ms = 50;
	r->policy.max_batch = 20;
	r->policy.max_arq_window = 8000;
	r->policy.max_nack_gap = 255;
	r->policy.min_comp_size = 120;
	r->policy.min_rto_ms = 61;
	r->burst_sent = 200;
	r->burst_ok = 193 - i;
	r->burst_qps = 96.54 + i / 7.0;
	r->probes = 40 + i;
	r->lost = i;
	r->up_at_ceiling = i % 2 ? RES_TRI_YES : RES_TRI_NO;
	r->down_at_ceiling = i % 3 ? RES_TRI_UNKNOWN : RES_TRI_YES;
	res_textf(r->evidence, sizeof r->evidence,
	    "sent \"TXT? a,b\"\nrecv 'x' ✓ %d", i);
	r->at_ms = 1795000000000LL + i;
	/* whoami: asked with an address, asked without one, not asked */
	r->whoami_asked = i % 3 != 2;
	if (i % 3 == 0) {
		snprintf(r->whoami, sizeof r->whoami, "10.78.1.%d", i);
		snprintf(
		    r->whoami_name, sizeof r->whoami_name, "whoami.leak.test");
	} else if (i % 3 == 1)
		snprintf(r->whoami_error, sizeof r->whoami_error, "not tested");
}

/* Name of the first field that differs, or NULL. */
static const char *
result_diff(const struct res_resolver *a, const struct res_resolver *b)
{
#define F(x)                                                                   \
	if (a->x != b->x)                                                      \
	return #x
#define S(x)                                                                   \
	if (strcmp(a->x, b->x) != 0)                                           \
	return #x
	S(addr);
	F(port);
	S(domain);
	F(stage);
	F(verdict);
	F(reason);
	F(rtt_us);
	F(upload_mtu);
	F(download_mtu);
	F(shape.longest_name);
	F(shape.max_labels);
	F(shape.case_preserved);
	F(shape.max_answer_bytes);
	F(shape.edns_size);
	F(shape.tc_seen);
	F(shape.tcp_ok);
	F(policy.present);
	F(policy.comp_pair);
	F(policy.max_dup);
	F(policy.max_setup_dup);
	F(policy.max_upload_mtu);
	F(policy.max_download_mtu);
	F(policy.max_workers);
	F(policy.min_ping_ms);
	F(policy.max_batch);
	F(policy.max_arq_window);
	F(policy.max_nack_gap);
	F(policy.min_comp_size);
	F(policy.min_rto_ms);
	F(burst_sent);
	F(burst_ok);
	F(burst_qps);
	S(evidence);
	F(at_ms);
	F(probes);
	F(lost);
	F(up_at_ceiling);
	F(down_at_ceiling);
	F(whoami_asked);
	S(whoami);
	S(whoami_name);
	S(whoami_error);
#undef F
#undef S
	return NULL;
}

struct collect {
	struct res_resolver r[64];
	int64_t run[64];
	int n;
	int stop_after; /* 0 = never */
};

static int
collect_cb(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct collect *c = arg;

	if (c->n < 64) {
		c->r[c->n] = *r;
		c->run[c->n] = run_id;
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static int
count_cb(void *arg, int64_t run_id, const struct res_resolver *r)
{
	(*(int *)arg)++;
	return 0;
}

static int
check_cb(void *arg, int64_t run_id, const struct res_check *c)
{
	struct res_check *out = arg;

	out[out[0].at_ms == 0 ? 0 : 1] = *c;
	return 0;
}

static void
test_schema(const char *db)
{
	static const char *const tables[] = {"runs", "run_stages",
	    "resolver_results", "checks", "engine_snapshots", "scan_progress"};
	char buf[64], sql[256];
	size_t i;
	int present = 0;

	tap_is_int(sql_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "user_version %d", STORE_SCHEMA_VERSION);
	sql_text(db, "PRAGMA journal_mode", buf, sizeof buf);
	tap_is_str(buf, "wal", "journal_mode is wal (read back)");
	for (i = 0; i < nitems(tables); i++) {
		snprintf(sql, sizeof sql,
		    "SELECT count(*) FROM sqlite_master "
		    "WHERE type = 'table' AND name = '%s'",
		    tables[i]);
		present += sql_int(db, sql) == 1;
	}
	tap_is_int(present, nitems(tables), "all v1 tables exist");
	tap_is_int(sql_int(db,
		       "SELECT count(*) FROM sqlite_master WHERE "
		       "type = 'index' AND name IN ('results_by_resolver', "
		       "'runs_by_command')"),
	    2, "history and last-run indexes exist");
	tap_is_int(sql_int(db,
		       "SELECT count(*) FROM pragma_table_info('checks') "
		       "WHERE name = 'subject'"),
	    1, "v2: checks.subject exists");
	tap_is_int(sql_int(db,
		       "SELECT count(*) FROM sqlite_master WHERE "
		       "type = 'index' AND name = 'checks_by_kind'"),
	    1, "v2: checks_by_kind index exists");
}

/*
 * A file written by schema v1 (the current file taken back: the subject
 * column and its index, the loss and ceiling columns dropped, user_version
 * 1) opens, migrates to the current version once, its old check reads
 * back with an empty subject and its old result with loss and ceilings
 * unknown.
 */
static void
test_migrate_v1(const char *dir)
{
	char db[400];
	struct err e = {""};
	struct store *s;
	struct res_check c, got[2];
	static struct collect col;
	int64_t run;

	snprintf(db, sizeof db, "%s/v1.db", dir);
	s = store_open(db, &e);
	res_check_init(&c);
	c.kind = RES_CHECK_IP;
	c.verdict = RES_VERDICT_OK;
	c.reason = RES_R_OK;
	c.at_ms = 1000;
	tap_ok(s != NULL && store_run_begin(s, "ip", "d", "v", &run, &e) == 0 &&
		store_add_check(s, run, &c, &e) == 0,
	    "v1 file: a run with a check: %s", e.msg);
	store_close(s);
	tap_ok(
	    sql_exec(db,
		"DROP INDEX checks_by_kind;"
		"DROP INDEX results_passed;"
		"DROP INDEX snapshots_by_run;"
		"DROP INDEX results_by_key;"
		"CREATE INDEX results_by_run ON resolver_results(run_id);"
		"ALTER TABLE checks DROP COLUMN subject;"
		"ALTER TABLE resolver_results DROP COLUMN probes;"
		"ALTER TABLE resolver_results DROP COLUMN lost;"
		"ALTER TABLE resolver_results DROP COLUMN upload_at_ceiling;"
		"ALTER TABLE resolver_results DROP COLUMN "
		"download_at_ceiling;"
		"ALTER TABLE resolver_results DROP COLUMN whoami;"
		"ALTER TABLE resolver_results DROP COLUMN whoami_name;"
		"ALTER TABLE resolver_results DROP COLUMN whoami_error;"
		"INSERT INTO resolver_results (run_id, resolver, port, domain, "
		"stage, verdict, reason, policy_present, burst_sent, "
		"burst_ok, evidence, at_ms) VALUES (1, '10.9.9.9', 53, "
		"'t.example', 'mtu', 'ok', 'ok', 0, 0, 0, '', 1000);"
		"PRAGMA user_version = 1;") == 0 &&
		sql_int(db, "PRAGMA user_version") == 1,
	    "file taken back to schema v1");
	s = store_open(db, &e);
	tap_ok(s != NULL, "v1 file opens: %s", s ? "" : e.msg);
	if (s == NULL)
		return;
	tap_is_int(sql_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "migrated to v%d", STORE_SCHEMA_VERSION);
	memset(&col, 0, sizeof col);
	store_run_results(s, run, collect_cb, &col, &e);
	tap_ok(col.n == 1 && col.r[0].probes == -1 && col.r[0].lost == -1 &&
		col.r[0].up_at_ceiling == RES_TRI_UNKNOWN &&
		col.r[0].down_at_ceiling == RES_TRI_UNKNOWN,
	    "a v1 result: loss and ceilings unknown");
	tap_ok(
	    col.n == 1 && !col.r[0].whoami_asked && col.r[0].whoami[0] == '\0',
	    "a v1 result: no whoami asked");
	snprintf(c.subject, sizeof c.subject, "ipv6");
	c.at_ms = 2000;
	tap_ok(store_add_check(s, run, &c, &e) == 0, "v2 check added");
	memset(got, 0, sizeof got);
	store_run_checks(s, run, check_cb, got, &e);
	tap_ok(got[0].subject[0] == '\0' &&
		strcmp(got[1].subject, "ipv6") == 0 && got[0].at_ms == 1000 &&
		got[1].at_ms == 2000,
	    "old check has no subject, new one has \"%s\"", got[1].subject);
	store_close(s);
}

int
main(void)
{
	char db[600], dbdir[300], bad[300], buf[600];
	struct err e = {""};
	struct store *s, *s2;
	struct res_resolver in[8], batch[100];
	struct collect col;
	struct store_run_info ri;
	struct store_progress pg, pg2;
	struct res_run run, run2;
	struct res_check ck[2], got[2];
	int64_t r1, r2, r3, r4;
	struct stat sb;
	const char *d;
	int i, n, ok, schema_rows;
	FILE *f;

	if (mkdtemp(tap_tmppath(tmpdir, sizeof tmpdir, "test-store-XXXXXX")) ==
	    NULL) {
		tap_ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	atexit(cleanup);
	snprintf(dbdir, sizeof dbdir, "%s/state/mdns-doctor", tmpdir);
	snprintf(db, sizeof db, "%s/history.db", dbdir);

	s = store_open(db, &e);
	if (!tap_ok(s != NULL, "open creates a new DB: %s", e.msg))
		return tap_done();
	tap_ok(stat(dbdir, &sb) == 0 && (sb.st_mode & 0777) == 0700,
	    "missing parent directory created with mode 0700");
	tap_is_int(store_schema_version(s), STORE_SCHEMA_VERSION,
	    "store_schema_version");
	test_schema(db);
	tap_is_int(sql_int(db, "PRAGMA foreign_keys"), 0,
	    "(a fresh connection has foreign keys off by default...)");

	/* foreign keys are on in the store's connection */
	full_result(&in[0], 0);
	tap_is_int(store_add_results(s, 424242, in, 1, &e), -1,
	    "...but the store's has them on: unknown run_id refused");
	tap_ok(strstr(e.msg, "FOREIGN KEY") != NULL, "FK error: %s", e.msg);

	/* round trip of every field */
	tap_is_int(store_run_begin(s, "scan", "sha256:aaaa", "0.1", &r1, &e), 0,
	    "run_begin");
	for (i = 0; i < 8; i++)
		full_result(&in[i], i);
	in[3].policy.present = 0; /* and a result without policy */
	res_policy_init(&in[3].policy);
	in[4].burst_qps = -1;
	in[4].burst_sent = 0;
	in[4].burst_ok = 0;
	in[4].probes = in[4].lost = -1;
	in[4].up_at_ceiling = RES_TRI_UNKNOWN;
	in[5].rtt_us = -1;
	in[5].shape.case_preserved = RES_TRI_UNKNOWN;
	in[5].shape.edns_size = -1;
	tap_is_int(store_add_results(s, r1, in, 8, &e), 0,
	    "add 8 results in one batch: %s", e.msg);
	memset(&col, 0, sizeof col);
	tap_is_int(
	    store_run_results(s, r1, collect_cb, &col, &e), 0, "run_results");
	tap_is_int(col.n, 8, "8 results back");
	for (i = 0, ok = 1; i < 8 && i < col.n; i++) {
		d = result_diff(&in[i], &col.r[i]);
		if (d != NULL) {
			tap_diag("  result %d differs in %s", i, d);
			ok = 0;
		}
		if (col.run[i] != r1)
			ok = 0;
	}
	tap_ok(ok, "every field round-trips, in insertion order");

	/* at_ms 0 means now */
	full_result(&in[0], 0);
	in[0].at_ms = 0;
	store_add_results(s, r1, in, 1, &e);
	tap_ok(sql_int(db, "SELECT max(at_ms) FROM resolver_results") >
		    1795000000000LL - 1 &&
		sql_int(db,
		    "SELECT count(*) FROM "
		    "resolver_results WHERE at_ms = 0") == 0,
	    "at_ms 0 is stored as the current time");

	/* batches: atomic, including a failure in the middle */
	for (i = 0; i < 100; i++) {
		full_result(&batch[i], i);
		snprintf(batch[i].domain, sizeof batch[i].domain, "b.example");
	}
	n = (int)sql_int(db, "SELECT count(*) FROM resolver_results");
	tap_ok(store_add_results(s, r1, batch, 100, &e) == 0 &&
		store_add_results(s, r1, batch, 100, &e) == 0,
	    "two batches of 100");
	tap_is_int(sql_int(db, "SELECT count(*) FROM resolver_results"),
	    n + 200, "200 rows added");
	sql_exec(db,
	    "CREATE TRIGGER poison BEFORE INSERT ON resolver_results "
	    "WHEN NEW.domain = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); "
	    "END");
	snprintf(batch[50].domain, sizeof batch[50].domain, "poison");
	tap_is_int(store_add_results(s, r1, batch, 100, &e), -1,
	    "a batch with a failing row fails: %s", e.msg);
	tap_is_int(sql_int(db, "SELECT count(*) FROM resolver_results"),
	    n + 200, "...and none of its 100 rows is stored");
	sql_exec(db, "DROP TRIGGER poison");
	snprintf(batch[50].domain, sizeof batch[50].domain, "b.example");
	pg.seed = 0xfedcba9876543210ULL;
	pg.position = 300;
	pg.total = 1000000;
	tap_is_int(store_add_batch(s, r1, batch, 10, &pg, &e), 0,
	    "batch with progress");
	tap_ok(store_progress_get(s, r1, &pg2, &e) == 0 &&
		pg2.seed == pg.seed && pg2.position == 300 &&
		pg2.total == 1000000,
	    "progress stored with the batch (64-bit seed)");
	pg.position = 400;
	tap_is_int(store_progress_set(s, r1, &pg, &e), 0, "progress_set");
	tap_ok(store_progress_get(s, r1, &pg2, &e) == 0 && pg2.position == 400,
	    "progress updated in place");
	tap_is_int(store_progress_get(s, 999, &pg2, &e), 1,
	    "no progress for an unknown run");

	/* runs: end, stats, last run */
	res_run_init(&run);
	run.stages[RES_STAGE_LIVENESS] =
	    (struct res_stage_stats){10, 7, 3, 1234};
	run.stages[RES_STAGE_MTU] = (struct res_stage_stats){7, 2, 5, 99};
	tap_is_int(store_run_stats(s, r1, &run, &e), 0, "run_stats");
	tap_is_int(store_run_end(s, r1, "warning", &e), 0, "run_end");
	tap_is_int(store_run_end(s, 31337, "ok", &e), -1,
	    "run_end of an unknown run fails: %s", e.msg);
	tap_is_int(store_run_get(s, r1, &run2, &ri, &e), 0, "run_get");
	tap_ok(strcmp(run2.command, "scan") == 0 &&
		strcmp(run2.args_digest, "sha256:aaaa") == 0 &&
		strcmp(run2.version, "0.1") == 0 &&
		run2.ended_ms >= run2.started_ms && run2.started_ms > 0 &&
		strcmp(ri.status, "warning") == 0 && ri.host[0] != '\0',
	    "run fields read back (status %s, host %s)", ri.status, ri.host);
	tap_ok(memcmp(run.stages, run2.stages, sizeof run.stages) == 0,
	    "stage counters read back");
	tap_is_int(store_run_get(s, 777, &run2, NULL, &e), 1,
	    "run_get of an unknown run is 'not found'");

	store_run_begin(s, "scan", "sha256:bbbb", "0.1", &r2, &e);
	store_run_begin(s, "mtu", "sha256:aaaa", "0.1", &r3, &e);
	tap_ok(store_last_run(s, "scan", NULL, &ri, &e) == 0 && ri.id == r2 &&
		strcmp(ri.status, "running") == 0 && ri.ended_ms == 0,
	    "last scan run is the newest, still running");
	tap_ok(store_last_run(s, "scan", "sha256:aaaa", &ri, &e) == 0 &&
		ri.id == r1,
	    "last scan run with a digest");
	tap_ok(store_last_run(s, "mtu", NULL, &ri, &e) == 0 && ri.id == r3,
	    "last mtu run");
	tap_is_int(store_last_run(s, "leak", NULL, &ri, &e), 1,
	    "no leak run: not found");

	/* history: newest first, only that address, callback can stop */
	for (i = 0; i < 3; i++) {
		full_result(&in[i], 0);
		snprintf(in[i].addr, sizeof in[i].addr, "198.51.100.77");
	}
	in[0].at_ms = 1000;
	in[1].at_ms = 3000;
	in[2].at_ms = 2000;
	store_add_results(s, r2, &in[0], 1, &e);
	store_add_results(s, r3, &in[1], 1, &e);
	store_add_results(s, r2, &in[2], 1, &e);
	memset(&col, 0, sizeof col);
	tap_is_int(
	    store_resolver_history(s, "198.51.100.77", collect_cb, &col, &e), 0,
	    "history");
	tap_ok(col.n == 3 && col.r[0].at_ms == 3000 && col.run[0] == r3 &&
		col.r[1].at_ms == 2000 && col.r[2].at_ms == 1000,
	    "history newest first with run ids (%d rows)", col.n);
	memset(&col, 0, sizeof col);
	col.stop_after = 1;
	store_resolver_history(s, "198.51.100.77", collect_cb, &col, &e);
	tap_is_int(col.n, 1, "history callback can stop early");
	n = 0;
	store_resolver_history(s, "198.51.100.78", count_cb, &n, &e);
	tap_is_int(n, 0, "no history for another address");

	/* checks and snapshots */
	res_check_init(&ck[0]);
	ck[0].kind = RES_CHECK_LEAK;
	ck[0].verdict = RES_VERDICT_FAIL;
	ck[0].reason = RES_R_LEAK;
	res_textf(ck[0].detail, sizeof ck[0].detail, "seen by \"x\", y");
	res_textf(ck[0].evidence, sizeof ck[0].evidence, "a\nb");
	ck[0].at_ms = 5000;
	ck[1] = ck[0];
	ck[1].kind = RES_CHECK_ROUTE;
	ck[1].verdict = RES_VERDICT_WARN;
	ck[1].reason = RES_R_ROUTED_IN_TUNNEL;
	ck[1].at_ms = 6000;
	snprintf(ck[1].subject, sizeof ck[1].subject, "192.0.2.53");
	tap_ok(store_add_check(s, r3, &ck[0], &e) == 0 &&
		store_add_check(s, r3, &ck[1], &e) == 0,
	    "add checks");
	memset(got, 0, sizeof got);
	store_run_checks(s, r3, check_cb, got, &e);
	tap_ok(got[0].kind == RES_CHECK_LEAK &&
		got[1].kind == RES_CHECK_ROUTE &&
		got[1].verdict == RES_VERDICT_WARN &&
		got[1].reason == RES_R_ROUTED_IN_TUNNEL &&
		strcmp(got[0].detail, ck[0].detail) == 0 &&
		strcmp(got[0].evidence, "a\nb") == 0 && got[1].at_ms == 6000 &&
		got[0].subject[0] == '\0' &&
		strcmp(got[1].subject, "192.0.2.53") == 0,
	    "checks round-trip in order");
	tap_is_int(store_add_snapshot(s, r3, 0, "connected", 7,
		       "{\"bytes_up\":123,\"streams\":2}", &e),
	    0, "add snapshot");
	tap_is_int(store_add_snapshot(s, 0, 100, "starting", -1, "{}", &e), 0,
	    "add snapshot without run or session");
	tap_is_int(store_add_snapshot(s, r3, 0, "connected", 7, "{\"a\":", &e),
	    -1, "snapshot with bad JSON refused: %s", e.msg);
	tap_is_int(sql_int(db,
		       "SELECT count(*) FROM engine_snapshots WHERE "
		       "json_extract(counters, '$.bytes_up') = 123 AND "
		       "session_id = 7"),
	    1, "snapshot counters stored as JSON text");

	/* a second connection writes concurrently (WAL + busy timeout) */
	s2 = store_open(db, &e);
	ok = s2 != NULL;
	for (i = 0; ok && i < 5; i++)
		ok = store_add_results(s, r2, batch, 10, &e) == 0 &&
		    store_add_results(s2, r2, batch, 10, &e) == 0;
	tap_ok(ok, "two connections write in turn: %s", ok ? "" : e.msg);
	store_close(s2);

	/* reopen: data kept, no second migration */
	n = (int)sql_int(db, "SELECT count(*) FROM resolver_results");
	schema_rows = (int)sql_int(db, "SELECT count(*) FROM sqlite_master");
	store_close(s);
	e.msg[0] = '\0';
	s = store_open(db, &e);
	tap_ok(s != NULL, "reopen: %s", e.msg);
	tap_is_int(sql_int(db, "SELECT count(*) FROM resolver_results"), n,
	    "reopen keeps every row");
	tap_is_int(sql_int(db, "SELECT count(*) FROM sqlite_master"),
	    schema_rows, "reopen does not re-run migrations");
	tap_ok(s != NULL && store_last_run(s, "mtu", NULL, &ri, &e) == 0 &&
		ri.id == r3,
	    "reopened store answers queries");
	store_run_begin(s, "scan", "x", "0.1", &r4, &e);
	tap_ok(r4 > r3, "new runs continue the id sequence");
	store_close(s);

	/* a newer schema is refused, and left untouched */
	sql_exec(db, "PRAGMA user_version = 99");
	e.msg[0] = '\0';
	s = store_open(db, &e);
	tap_ok(s == NULL && strstr(e.msg, "cannot open DB ") == e.msg &&
		strstr(e.msg, db) != NULL && strstr(e.msg, "newer") != NULL,
	    "newer schema refused: %s", e.msg);
	tap_is_int(sql_int(db, "PRAGMA user_version"), 99,
	    "refused file keeps its version");
	store_close(s);

	/* paths that cannot hold a DB: clean errors, no crash */
	snprintf(bad, sizeof bad, "%s/afile", tmpdir);
	f = fopen(bad, "w");
	if (f != NULL) {
		fputs("not a database, just some text that is long enough to "
		      "fill a header page of sixteen bytes or more\n",
		    f);
		fclose(f);
	}
	snprintf(buf, sizeof buf, "%s/afile/history.db", tmpdir);
	s = store_open(buf, &e);
	tap_ok(s == NULL && strncmp(e.msg, "cannot open DB ", 15) == 0 &&
		strstr(e.msg, "not a directory") != NULL,
	    "parent is a file: %s", e.msg);
	s = store_open(tmpdir, &e);
	tap_ok(s == NULL && strncmp(e.msg, "cannot open DB ", 15) == 0,
	    "path is a directory: %s", e.msg);
	s = store_open("/proc/mdns-doctor-test/history.db", &e);
	tap_ok(s == NULL && strncmp(e.msg, "cannot open DB ", 15) == 0,
	    "unwritable place (/proc): %s", e.msg);
	s = store_open(bad, &e);
	tap_ok(s == NULL && strstr(e.msg, "not a database") != NULL,
	    "a file that is not SQLite: %s", e.msg);
	s = store_open("", &e);
	tap_ok(s == NULL && strstr(e.msg, "cannot open DB") != NULL,
	    "empty path: %s", e.msg);

	test_migrate_v1(tmpdir);
	return tap_done();
}
