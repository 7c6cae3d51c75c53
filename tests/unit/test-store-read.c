/* SPDX-License-Identifier: MIT */
/*
 * test-store-read.c — the store's read-back queries (store.h, second
 * half) and the engine snapshot writer, on real SQLite files in a private
 * temp directory: run listings with their counts and filters, the run
 * before another (same digest), the last-known-good list across runs
 * (surviving a run where everything fails, --since, counts), two runs
 * side by side, the latest check per kind and subject, snapshots by run
 * and pruning, the writer on a real event loop (events carried, a locked
 * file skipped and counted, retention applied), opening without creating,
 * and the 3 -> 4 migration.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/ev.h"
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

static long long
sql_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -999;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void
result(struct res_resolver *r, const char *addr, const char *dom, int ok,
    int up, int down, int64_t at)
{
	res_resolver_init(r);
	snprintf(r->addr, sizeof r->addr, "%s", addr);
	snprintf(r->domain, sizeof r->domain, "%s", dom);
	r->stage = ok ? RES_STAGE_HANDSHAKE : RES_STAGE_REACH;
	r->verdict = ok ? RES_VERDICT_OK : RES_VERDICT_FAIL;
	r->reason = ok ? RES_R_OK : RES_R_TIMEOUT;
	r->rtt_us = ok ? 20000 + up : -1;
	r->upload_mtu = ok ? up : -1;
	r->download_mtu = ok ? down : -1;
	r->at_ms = at;
}

/* ---- runs ----------------------------------------------------------- */

struct runs {
	struct store_run_row r[16];
	int n;
};

static int
runs_cb(void *arg, const struct store_run_row *r)
{
	struct runs *x = arg;

	if (x->n < 16)
		x->r[x->n] = *r;
	x->n++;
	return 0;
}

/* ---- good ----------------------------------------------------------- */

struct goods {
	struct store_good g[16];
	int n;
};

static int
good_cb(void *arg, const struct store_good *g)
{
	struct goods *x = arg;

	if (x->n < 16)
		x->g[x->n] = *g;
	x->n++;
	return 0;
}

/* ---- pairs ---------------------------------------------------------- */

struct pairs {
	char line[16][128];
	int n;
};

static int
pair_cb(void *arg, const struct res_resolver *a, const struct res_resolver *b)
{
	struct pairs *x = arg;
	const struct res_resolver *any = a != NULL ? a : b;

	if (x->n < 16 && any != NULL)
		snprintf(x->line[x->n], sizeof x->line[0], "%s %s:%d>%s:%d",
		    any->addr, a ? res_verdict_name(a->verdict) : "-",
		    a ? a->upload_mtu : 0,
		    b ? res_verdict_name(b->verdict) : "-",
		    b ? b->upload_mtu : 0);
	x->n++;
	return 0;
}

/* ---- checks, snapshots ---------------------------------------------- */

struct checks {
	struct res_check c[8];
	int64_t run[8];
	int n;
};

static int
checks_cb(void *arg, int64_t run_id, const struct res_check *c)
{
	struct checks *x = arg;

	if (x->n < 8) {
		x->c[x->n] = *c;
		x->run[x->n] = run_id;
	}
	x->n++;
	return 0;
}

struct snaps {
	char phase[8][32];
	char counters[8][512];
	int64_t run[8];
	int n;
};

static int
snaps_cb(void *arg, const struct store_snapshot *sn)
{
	struct snaps *x = arg;

	if (x->n < 8) {
		snprintf(x->phase[x->n], 32, "%s", sn->phase);
		snprintf(x->counters[x->n], 512, "%s", sn->counters);
		x->run[x->n] = sn->run_id;
	}
	x->n++;
	return 0;
}

static void
test_runs_and_good(const char *dir)
{
	char db[400];
	struct err e = {""};
	struct store *s;
	struct res_resolver r[4];
	struct store_run_filter f;
	struct store_run_info info;
	struct runs rs;
	struct goods gs;
	struct pairs ps;
	int64_t r1, r2, r3, rip;
	struct res_check c;
	struct checks cs;
	int i;

	snprintf(db, sizeof db, "%s/read.db", dir);
	s = store_open(db, &e);
	if (!tap_ok(s != NULL, "open: %s", e.msg))
		return;
	/* Run 1: A ok (MTU 120), B ok (100), C fails. */
	store_run_begin(s, "scan", "sha256:list", "v", &r1, &e);
	result(&r[0], "192.0.2.1", "t.example", 1, 120, 900, 1000);
	result(&r[1], "192.0.2.2", "t.example", 1, 100, 800, 1001);
	result(&r[2], "192.0.2.3", "t.example", 0, 0, 0, 1002);
	tap_ok(store_add_results(s, r1, r, 3, &e) == 0, "run 1 stored");
	store_run_end(s, r1, "ok", &e);
	/* Another command's run in between, with a check. */
	store_run_begin(s, "ip", "sha256:ip", "v", &rip, &e);
	res_check_init(&c);
	c.kind = RES_CHECK_IP;
	snprintf(c.subject, sizeof c.subject, "ipv4");
	c.verdict = RES_VERDICT_OK;
	c.reason = RES_R_OK;
	c.at_ms = 1500;
	store_add_check(s, rip, &c, &e);
	store_run_end(s, rip, "ok", &e);
	/* Run 2, same list: A now MTU 110, B broke, C became good. */
	store_run_begin(s, "scan", "sha256:list", "v", &r2, &e);
	result(&r[0], "192.0.2.1", "t.example", 1, 110, 900, 2000);
	result(&r[1], "192.0.2.2", "t.example", 0, 0, 0, 2001);
	result(&r[2], "192.0.2.3", "t.example", 1, 90, 700, 2002);
	result(&r[3], "192.0.2.4", "t.example", 0, 0, 0, 2003);
	tap_ok(store_add_results(s, r2, r, 4, &e) == 0, "run 2 stored");
	store_run_end(s, r2, "ok", &e);
	/* Run 3, another list: everything fails. */
	store_run_begin(s, "scan", "sha256:other", "v", &r3, &e);
	for (i = 0; i < 3; i++)
		result(&r[i],
		    i == 0     ? "192.0.2.1" :
			i == 1 ? "192.0.2.2" :
				 "192.0.2.3",
		    "t.example", 0, 0, 0, 3000 + i);
	tap_ok(store_add_results(s, r3, r, 3, &e) == 0,
	    "run 3 stored (every resolver fails)");
	store_run_end(s, r3, "critical", &e);

	memset(&rs, 0, sizeof rs);
	tap_ok(store_runs(s, NULL, runs_cb, &rs, &e) == 0 && rs.n == 4,
	    "four runs listed (%d)", rs.n);
	tap_ok(rs.r[0].info.id == r3 && rs.r[3].info.id == r1, "newest first");
	tap_ok(rs.r[0].nresults == 3 && rs.r[0].npassed == 0 &&
		rs.r[1].nresults == 4 && rs.r[1].npassed == 2 &&
		rs.r[2].nchecks == 1 && rs.r[2].nresults == 0,
	    "counts: results, passed, checks");
	memset(&f, 0, sizeof f);
	f.command = "scan";
	f.limit = 2;
	memset(&rs, 0, sizeof rs);
	store_runs(s, &f, runs_cb, &rs, &e);
	tap_ok(rs.n == 2 && rs.r[0].info.id == r3 && rs.r[1].info.id == r2,
	    "filter by command, limit 2");

	tap_is_int(store_run_before(s, r2, "scan", "sha256:list", &info, &e), 0,
	    "a scan of the same list before run 2");
	tap_is_int(info.id, r1, "it is run 1");
	tap_is_int(store_run_before(s, r3, "scan", "sha256:other", &info, &e),
	    1, "nothing of the other list before run 3");
	tap_is_int(store_run_before(s, r3, "scan", NULL, &info, &e), 0,
	    "any scan before run 3");
	tap_is_int(info.id, r2, "is run 2");

	memset(&gs, 0, sizeof gs);
	tap_ok(store_good(s, 0, good_cb, &gs, &e) == 0, "good: %s", e.msg);
	tap_is_int(gs.n, 3, "three resolvers were ever good");
	tap_ok(strcmp(gs.g[0].ok.addr, "192.0.2.1") == 0 &&
		gs.g[0].ok.upload_mtu == 110 && gs.g[0].ok_run == r2 &&
		gs.g[0].ok.at_ms == 2000,
	    "A: its newest good result (MTU 110, run 2)");
	tap_ok(gs.g[0].seen_run == r3 &&
		gs.g[0].seen_verdict == RES_VERDICT_FAIL &&
		gs.g[0].seen_reason == RES_R_TIMEOUT && gs.g[0].seen_ms == 3000,
	    "A: failed since, in the all-fail run 3");
	tap_ok(gs.g[0].npassed == 2 && gs.g[0].ntested == 3,
	    "A: passed 2 of 3 (%u/%u)", gs.g[0].npassed, gs.g[0].ntested);
	tap_ok(strcmp(gs.g[1].ok.addr, "192.0.2.2") == 0 &&
		gs.g[1].ok.upload_mtu == 100 && gs.g[1].ok_run == r1,
	    "B: last good in run 1, survives two failing runs");
	tap_ok(strcmp(gs.g[2].ok.addr, "192.0.2.3") == 0 &&
		gs.g[2].ok.download_mtu == 700,
	    "C: good since run 2");
	memset(&gs, 0, sizeof gs);
	store_good(s, 1500, good_cb, &gs, &e);
	tap_ok(gs.n == 2 && strcmp(gs.g[0].ok.addr, "192.0.2.1") == 0 &&
		strcmp(gs.g[1].ok.addr, "192.0.2.3") == 0 &&
		gs.g[0].ntested == 2,
	    "since 1500: B drops out, counts start there");

	memset(&ps, 0, sizeof ps);
	tap_ok(store_run_pairs(s, r1, r2, pair_cb, &ps, &e) == 0 && ps.n == 4,
	    "run 1 vs 2: four keys (%d) %s", ps.n, e.msg);
	tap_is_str(ps.line[0], "192.0.2.1 ok:120>ok:110", "A: MTU changed");
	tap_is_str(ps.line[1], "192.0.2.2 ok:100>fail:-1", "B: broke");
	tap_is_str(ps.line[2], "192.0.2.3 fail:-1>ok:90", "C: became good");
	tap_is_str(ps.line[3], "192.0.2.4 -:0>fail:-1", "D: only in run 2");
	memset(&ps, 0, sizeof ps);
	store_run_pairs(s, r2, r1, pair_cb, &ps, &e);
	tap_is_str(ps.line[3], "192.0.2.4 fail:-1>-:0", "D: only in run A");

	/* Latest checks: a newer ipv4 check in another run wins. */
	c.verdict = RES_VERDICT_FAIL;
	c.reason = RES_R_NOT_TUNNELLED;
	c.at_ms = 4000;
	store_add_check(s, r3, &c, &e);
	c.subject[0] = '\0';
	c.kind = RES_CHECK_HANDSHAKE;
	c.verdict = RES_VERDICT_OK;
	c.at_ms = 100;
	store_add_check(s, r1, &c, &e);
	memset(&cs, 0, sizeof cs);
	tap_ok(store_latest_checks(s, 0, checks_cb, &cs, &e) == 0 && cs.n == 2,
	    "latest checks: one per kind and subject (%d)", cs.n);
	tap_ok(cs.c[0].kind == RES_CHECK_HANDSHAKE &&
		cs.c[1].kind == RES_CHECK_IP &&
		cs.c[1].verdict == RES_VERDICT_FAIL && cs.run[1] == r3 &&
		strcmp(cs.c[1].subject, "ipv4") == 0,
	    "the newest ipv4 check, with its run");
	memset(&cs, 0, sizeof cs);
	store_latest_checks(s, 200, checks_cb, &cs, &e);
	tap_is_int(cs.n, 1, "since 200: only the ip check");
	store_close(s);
}

static void
test_snapshots(const char *dir)
{
	char db[400];
	struct err e = {""};
	struct store *s;
	struct snaps sn;
	int64_t run;
	uint64_t n = 0;
	int i;

	snprintf(db, sizeof db, "%s/snap.db", dir);
	s = store_open(db, &e);
	store_run_begin(s, "connect", "d", "v", &run, &e);
	for (i = 0; i < 5; i++)
		store_add_snapshot(s, i < 3 ? run : 0, 1000 + i,
		    i % 2 ? "connected" : "handshaking", i, "{\"n\":1}", &e);
	memset(&sn, 0, sizeof sn);
	store_snapshots(s, run, 0, snaps_cb, &sn, &e);
	tap_ok(sn.n == 3 && strcmp(sn.phase[0], "handshaking") == 0 &&
		strcmp(sn.phase[1], "connected") == 0 && sn.run[0] == run,
	    "three snapshots of the run, oldest first");
	memset(&sn, 0, sizeof sn);
	store_snapshots(s, 0, 1003, snaps_cb, &sn, &e);
	tap_ok(sn.n == 2 && sn.run[0] == 0, "all runs since 1003: two");
	tap_ok(store_prune_snapshots(s, 1001, 0, &n, &e) == 0 && n == 1,
	    "pruned one by age");
	tap_ok(store_prune_snapshots(s, 0, 2, &n, &e) == 0 && n == 2,
	    "pruned two beyond a cap of 2");
	tap_is_int(sql_int(db, "SELECT min(at_ms) FROM engine_snapshots"), 1003,
	    "the newest two are kept");
	store_close(s);
}

/* ---- the writer on a loop -------------------------------------------- */

struct eng {
	int calls;
	struct store_snap *w;
	struct ev_loop *loop;
	int ticks;
};

static json_t *
status_fn(void *arg)
{
	struct eng *g = arg;

	g->calls++;
	return json_pack("{s:s, s:{s:i}, s:{s:I}}", "phase", "connected",
	    "session", "id", 42, "traffic", "bytes_up", (json_int_t)g->calls);
}

static void
stop_after(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct eng *g = arg;

	if (store_snap_stats(g->w)->written + store_snap_stats(g->w)->busy >=
	    (uint64_t)g->ticks)
		ev_stop(loop);
	else
		ev_timer_add(loop, 5000, stop_after, g);
}

static void
test_writer(const char *dir)
{
	char db[400];
	struct err e = {""};
	struct store *s;
	struct store_snap_opts o;
	struct eng g;
	struct snaps sn;
	const struct store_snap_stats *st;
	sqlite3 *lock = NULL;
	json_t *j;
	int64_t run;
	int k;

	snprintf(db, sizeof db, "%s/writer.db", dir);
	s = store_open(db, &e);
	store_run_begin(s, "connect", "d", "v", &run, &e);
	memset(&g, 0, sizeof g);
	g.loop = ev_loop_new(&e);
	store_snap_defaults(&o);
	tap_ok(
	    o.interval_ms == 30000 && o.max_rows == 20000 && o.max_events == 64,
	    "defaults: 30 s, 20000 rows, 64 events");
	o.interval_ms = 20;
	o.max_rows = 2;
	o.max_events = 2;
	g.w = store_snap_new(g.loop, s, run, &o, status_fn, &g);
	store_snap_event(g.w, "phase", NULL, "connected");
	store_snap_event(g.w, "resolver_disabled", "192.0.2.9:53", "timeouts");
	store_snap_event(g.w, "error_drop", NULL, "x");
	g.ticks = 3;
	ev_timer_add(g.loop, 5000, stop_after, &g);
	ev_run(g.loop);
	st = store_snap_stats(g.w);
	tap_ok(st->written == 3 && st->failed == 0,
	    "three snapshots written on the loop (%llu, %s)",
	    (unsigned long long)st->written, st->error);
	tap_ok(st->events == 2 && st->events_dropped == 1,
	    "two events stored, one over the cap counted");
	tap_ok(st->pruned == 1 &&
		sql_int(db,
		    "SELECT count(*) FROM "
		    "engine_snapshots") == 2,
	    "the cap of 2 rows applied in the same transaction");
	memset(&sn, 0, sizeof sn);
	store_snapshots(s, run, 0, snaps_cb, &sn, &e);
	j = json_loads(sn.counters[0], 0, NULL);
	tap_ok(j != NULL && sn.n == 2 && strcmp(sn.phase[0], "connected") == 0,
	    "stored: phase and the status object");
	tap_is_int(
	    sql_int(db, "SELECT session_id FROM engine_snapshots LIMIT 1"), 42,
	    "the session id is a column");
	json_decref(j);

	/* Another process holds the write lock: the writer skips, counts, and
	 * keeps the event for the next snapshot. */
	store_snap_event(g.w, "phase", NULL, "stalled");
	sqlite3_open_v2(db, &lock, SQLITE_OPEN_READWRITE, NULL);
	k = sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	tap_ok(k == SQLITE_OK, "a second connection takes the write lock");
	tap_is_int(store_snap_write(g.w, &e), -1, "write while locked fails");
	tap_ok(store_snap_stats(g.w)->busy == 1 &&
		store_snap_stats(g.w)->failed == 0,
	    "counted as busy, not as failed");
	sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(lock);
	tap_is_int(store_snap_write(g.w, &e), 0, "next write works: %s", e.msg);
	tap_ok(sql_int(db,
		   "SELECT count(*) FROM engine_snapshots WHERE counters LIKE "
		   "'%\"detail\":\"stalled\"%'") == 1,
	    "the event kept across the skipped write is stored");
	store_snap_free(g.w);
	ev_loop_free(g.loop);
	store_close(s);
}

static void
test_open_and_migrate(const char *dir)
{
	char db[400], none[400];
	struct err e = {""};
	struct store *s;
	struct stat sb;

	snprintf(none, sizeof none, "%s/none/h.db", dir);
	s = store_open_flags(none, STORE_NO_CREATE, &e);
	tap_ok(s == NULL && strstr(e.msg, "no history at") != NULL,
	    "a missing file is not created: %s", e.msg);
	snprintf(db, sizeof db, "%s/none", dir);
	tap_ok(stat(db, &sb) != 0, "not even its directory");

	snprintf(db, sizeof db, "%s/v3.db", dir);
	s = store_open(db, &e);
	store_close(s);
	sqlite3 *h = NULL;
	sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL);
	tap_ok(sqlite3_exec(h,
		   "DROP INDEX results_passed; DROP INDEX snapshots_by_run; "
		   "DROP INDEX results_by_key; CREATE INDEX results_by_run ON "
		   "resolver_results(run_id); ALTER TABLE resolver_results "
		   "DROP COLUMN whoami; ALTER TABLE resolver_results DROP "
		   "COLUMN whoami_name; ALTER TABLE resolver_results DROP "
		   "COLUMN whoami_error; PRAGMA user_version = 3;",
		   NULL, NULL, NULL) == SQLITE_OK,
	    "file taken back to v3");
	sqlite3_close(h);
	s = store_open_flags(db, STORE_NO_CREATE, &e);
	if (!tap_ok(s != NULL, "v3 file opens: %s", s ? "" : e.msg))
		return;
	tap_is_int(store_schema_version(s), STORE_SCHEMA_VERSION,
	    "migrated to the current version");
	tap_is_int(sql_int(db,
		       "SELECT count(*) FROM sqlite_master WHERE name IN "
		       "('results_passed', 'snapshots_by_run', "
		       "'results_by_key')"),
	    3, "its indexes exist");
	tap_is_int(sql_int(db,
		       "SELECT count(*) FROM sqlite_master WHERE name = "
		       "'results_by_run'"),
	    0, "results_by_run (a prefix of results_by_key) is gone");
	store_close(s);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test-store-read.XXXXXX",
	    t && *t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		tap_ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	atexit(cleanup);
	test_runs_and_good(tmpdir);
	test_snapshots(tmpdir);
	test_writer(tmpdir);
	test_open_and_migrate(tmpdir);
	return tap_done();
}
