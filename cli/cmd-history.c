/* SPDX-License-Identifier: MIT */
/*
 * cmd-history.c — `mdns-doctor history`: read the history database back
 * (store.h, docs/store.md) without sqlite3.
 *
 *   history [list]          the runs, newest first, with what each holds
 *   history good            the last-known-good resolvers across runs: when
 *                           each last passed, its MTUs, RTT and loss then,
 *                           and whether it failed since; --write-resolvers
 *                           writes them as a client_resolvers.txt
 *   history diff [RUN [RUN]] what became good, what broke and whose MTU
 *                           changed between two runs (default: the last
 *                           scan and the scan of the same list before it)
 *   history resolver ADDR   one resolver's results, newest first
 *
 * The queries are the store's; this file picks runs, classifies the
 * differences and lays out the tables (reports/sink.h). It opens the
 * file read-mostly and never creates one. Exit codes: 0 when the query
 * ran (an empty answer included), 3 for usage, a missing history or a
 * store error.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/hmap.h"
#include "common/net.h"
#include "common/resolvers.h"
#include "probe/scan-report.h"
#include "reports/sink.h"
#include "store/store.h"

enum {
	OPT_SINCE = ARGS_LONG,
	OPT_LIMIT,
	OPT_COMMAND,
	OPT_WRITE,
	OPT_WITH_DEGRADED,
	OPT_ALL
};

static const struct args_opt history_opts[] = {
    {OPT_SINCE, "since", "T", 0,
	"only since T: a duration back from now (90m, 36h,\n7d, 2w) or a "
	"UTC date/time (2026-01-31T18:00)"},
    {OPT_LIMIT, "limit", "N", 0, "list: at most N runs; resolver: N results"},
    {OPT_COMMAND, "command", "NAME", 0, "list: only runs of NAME (scan, ...)"},
    {OPT_WRITE, "write-resolvers", "FILE", 0,
	"good: write the list as client_resolvers.txt with\nrecommended "
	"MTU settings"},
    {OPT_WITH_DEGRADED, "include-degraded", NULL, 0,
	"good: --write-resolvers lists degraded ones too\n(last)"},
    {OPT_ALL, "all", NULL, 0,
	"diff: also unchanged resolvers and changed\nfailure reasons"},
    {0, NULL, NULL, 0, NULL},
};

struct hist {
	struct cli_ctx *ctx;
	const struct args *args;
	struct store *db;
	struct rpt_table *t;
	int64_t since_ms;
	long long limit;
	int all;
	size_t n;
	/* diff counters */
	size_t good, broke, mtu, added, removed;
	struct scan_report *rep; /* good: for ranking and the file */
	struct store_good *goods;
	size_t ngoods, goodcap;
};

/* ---- --since ------------------------------------------------------------- */

/*
 * "90m", "36h", "7d", "2w", "45s" back from now, or a UTC date
 * "YYYY-MM-DD" with an optional "THH:MM[:SS]" and "Z". 0 / -1.
 */
static int
parse_since(const char *text, int64_t now_ms, int64_t *out, struct err *e)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000},
	    {'w', 7 * 86400000LL}};
	struct tm tm;
	const char *p;
	char *end;
	long long v;
	size_t i;

	v = strtoll(text, &end, 10);
	if (end != text && end[0] != '\0' && end[1] == '\0' && v >= 0 &&
	    v <= 100000 && isdigit((unsigned char)text[0])) {
		for (i = 0; i < nitems(units); i++)
			if (units[i].unit == *end) {
				*out = now_ms - v * units[i].ms;
				return 0;
			}
	}
	memset(&tm, 0, sizeof tm);
	p = strptime(text, "%Y-%m-%d", &tm);
	if (p != NULL && *p == 'T')
		p = strptime(p + 1, "%H:%M", &tm);
	if (p != NULL && *p == ':')
		p = strptime(p + 1, "%S", &tm);
	if (p != NULL && *p == 'Z')
		p++;
	if (p == NULL || *p != '\0')
		return err_set(e,
		    "--since: cannot read '%s' (a duration such as 36h or 7d, "
		    "or a UTC date such as 2026-01-31 or 2026-01-31T18:00)",
		    text);
	*out = (int64_t)timegm(&tm) * 1000;
	return 0;
}

/* ---- formatting helpers ------------------------------------------------- */

static void
when(int64_t ms, char *buf, size_t len)
{
	if (ms <= 0)
		snprintf(buf, len, "-");
	else
		fmt_iso8601_ms(ms, buf, len);
}

/* A number cell, or NULL (unknown) for a negative value. */
static const char *
num(long long v, char *buf, size_t len)
{
	if (v < 0)
		return NULL;
	snprintf(buf, len, "%lld", v);
	return buf;
}

/* Milliseconds with one decimal from microseconds, or NULL. */
static const char *
ms1(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		return NULL;
	snprintf(buf, len, "%lld.%lld", (long long)(us / 1000),
	    (long long)(us % 1000 / 100));
	return buf;
}

/*
 * Loss of a result in percent with one decimal, or NULL: the share of
 * its probes that got no valid answer (docs/probes.md, "Loss").
 */
static const char *
loss_pct(const struct res_resolver *r, char *buf, size_t len)
{
	double rate = res_loss_rate(r);
	long long t;

	if (rate < 0)
		return NULL;
	t = (long long)(rate * 1000 + 0.5);
	snprintf(buf, len, "%lld.%lld", t / 10, t % 10);
	return buf;
}

static int
open_db(struct hist *h)
{
	struct err e = {""};
	char *path;

	path = h->ctx->db ? xstrdup(h->ctx->db) : store_default_path(&e);
	if (path == NULL) {
		cli_error(
		    &cmd_history_entry, "no place for the history: %s", e.msg);
		return -1;
	}
	h->db = store_open_flags(path, STORE_NO_CREATE, &e);
	free(path);
	if (h->db == NULL) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int
table_open(
    struct hist *h, const char *key, const struct rpt_col *cols, size_t n)
{
	struct err e = {""};

	h->t = rpt_table_open(h->ctx->format, stdout, key, cols, n, &e);
	if (h->t == NULL) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int
table_close(struct hist *h, const char *empty)
{
	struct err e = {""};
	int rc = rpt_table_close(h->t, empty, &e);

	h->t = NULL;
	if (rc != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	return EXIT_OK;
}

/* ---- list --------------------------------------------------------------- */

static const struct rpt_col run_cols[] = {
    {"run", RPT_COL_INT},
    {"command", RPT_COL_STR},
    {"started", RPT_COL_STR},
    {"duration_s", RPT_COL_NUM},
    {"status", RPT_COL_STR},
    {"results", RPT_COL_INT},
    {"passed", RPT_COL_INT},
    {"checks", RPT_COL_INT},
    {"snapshots", RPT_COL_INT},
    {"host", RPT_COL_STR},
    {"version", RPT_COL_STR},
    {"args_digest", RPT_COL_STR},
};

static int
list_cb(void *arg, const struct store_run_row *r)
{
	struct hist *h = arg;
	char id[24], st[40], d[32], nr[24], np[24], nc[24], ns[24];
	const char *cells[nitems(run_cols)];
	const struct store_run_info *i = &r->info;
	size_t k = 0;

	snprintf(id, sizeof id, "%lld", (long long)i->id);
	when(i->started_ms, st, sizeof st);
	if (i->ended_ms >= i->started_ms && i->ended_ms > 0)
		snprintf(d, sizeof d, "%.1f",
		    (double)(i->ended_ms - i->started_ms) / 1000);
	snprintf(nr, sizeof nr, "%llu", (unsigned long long)r->nresults);
	snprintf(np, sizeof np, "%llu", (unsigned long long)r->npassed);
	snprintf(nc, sizeof nc, "%llu", (unsigned long long)r->nchecks);
	snprintf(ns, sizeof ns, "%llu", (unsigned long long)r->nsnapshots);
	cells[k++] = id;
	cells[k++] = i->command;
	cells[k++] = st;
	cells[k++] = i->ended_ms > 0 ? d : NULL;
	cells[k++] = i->status;
	cells[k++] = nr;
	cells[k++] = np;
	cells[k++] = nc;
	cells[k++] = ns;
	cells[k++] = i->host;
	cells[k++] = i->version;
	cells[k++] = i->args_digest;
	h->n++;
	return rpt_table_row(h->t, cells) != 0;
}

static int
do_list(struct hist *h)
{
	struct store_run_filter f;
	struct err e = {""};

	memset(&f, 0, sizeof f);
	f.command = args_get(h->args, OPT_COMMAND);
	f.since_ms = h->since_ms;
	f.limit = h->limit > 0 ? (size_t)h->limit : 0;
	if (table_open(h, "runs", run_cols, nitems(run_cols)) != 0)
		return EXIT_UNKNOWN;
	if (store_runs(h->db, &f, list_cb, h, &e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		rpt_table_close(h->t, NULL, NULL);
		return EXIT_UNKNOWN;
	}
	return table_close(h, "no runs");
}

/* ---- good --------------------------------------------------------------- */

static const struct rpt_col good_cols[] = {
    {"resolver", RPT_COL_STR},
    {"domain", RPT_COL_STR},
    {"last_ok", RPT_COL_STR},
    {"ok_run", RPT_COL_INT},
    {"upload_mtu", RPT_COL_INT},
    {"download_mtu", RPT_COL_INT},
    {"rtt_ms", RPT_COL_NUM},
    {"loss_pct", RPT_COL_NUM},
    {"passed", RPT_COL_INT},
    {"tested", RPT_COL_INT},
    {"last_seen", RPT_COL_STR},
    {"since", RPT_COL_STR},
};

static int
good_cb(void *arg, const struct store_good *g)
{
	struct hist *h = arg;

	if (h->ngoods == h->goodcap) {
		h->goodcap = h->goodcap ? h->goodcap * 2 : 64;
		h->goods =
		    xreallocarray(h->goods, h->goodcap, sizeof *h->goods);
	}
	h->goods[h->ngoods++] = *g;
	return 0;
}

/* "addr|port|domain": one entry of the list. malloc'd. */
static char *
good_key(const struct res_resolver *r)
{
	return xasprintf("%s|%u|%s", r->addr, r->port, r->domain);
}

static const char *
key_at(const void *ctx, uint32_t i)
{
	return ((char *const *)ctx)[i];
}

/*
 * Rank the list best first with scan's ranking (scan_report_rank): rank
 * the results in a report, then order the entries by where theirs went.
 */
static void
rank_goods(struct hist *h)
{
	struct hmap map = HMAP_INIT;
	char **keys = xcalloc(h->ngoods, sizeof *keys), *k;
	uint32_t at;
	struct store_good *sorted;
	size_t i;

	h->rep = scan_report_new();
	for (i = 0; i < h->ngoods; i++)
		scan_report_add(h->rep, &h->goods[i].ok);
	scan_report_rank(h->rep);
	for (i = 0; i < h->rep->nok; i++) {
		keys[i] = good_key(&h->rep->ok[i]);
		hmap_put(&map, str_hash(keys[i]), (uint32_t)i);
	}
	sorted = xcalloc(h->ngoods, sizeof *sorted);
	for (i = 0; i < h->ngoods; i++) {
		k = good_key(&h->goods[i].ok);
		at = hmap_find_str(&map, k, key_at, keys);
		free(k);
		sorted[at == HMAP_NONE ? i : at] = h->goods[i];
	}
	free(h->goods);
	h->goods = sorted;
	for (i = 0; i < h->rep->nok; i++)
		free(keys[i]);
	free(keys);
	hmap_free(&map);
}

static int
good_row(struct hist *h, const struct store_good *g)
{
	char who[RES_ADDR_MAX + 16], lo[40], ls[40], run[24], up[16], dn[16],
	    rtt[24], loss[24], np[16], nt[16], since[64];
	const char *cells[nitems(good_cols)];
	size_t k = 0;

	rpt_resolver_text(g->ok.addr, g->ok.port, who, sizeof who);
	when(g->ok.at_ms, lo, sizeof lo);
	when(g->seen_ms, ls, sizeof ls);
	snprintf(run, sizeof run, "%lld", (long long)g->ok_run);
	snprintf(np, sizeof np, "%u", g->npassed);
	snprintf(nt, sizeof nt, "%u", g->ntested);
	if (g->seen_verdict == RES_VERDICT_OK ||
	    g->seen_verdict == RES_VERDICT_DEGRADED)
		snprintf(since, sizeof since, "%s",
		    res_verdict_name(g->seen_verdict));
	else
		snprintf(since, sizeof since, "%s %s",
		    res_verdict_name(g->seen_verdict),
		    res_reason_name(g->seen_reason));
	cells[k++] = who;
	cells[k++] = g->ok.domain[0] ? g->ok.domain : NULL;
	cells[k++] = lo;
	cells[k++] = run;
	cells[k++] = num(g->ok.upload_mtu, up, sizeof up);
	cells[k++] = num(g->ok.download_mtu, dn, sizeof dn);
	cells[k++] = ms1(g->ok.rtt_us, rtt, sizeof rtt);
	cells[k++] = loss_pct(&g->ok, loss, sizeof loss);
	cells[k++] = np;
	cells[k++] = nt;
	cells[k++] = ls;
	cells[k++] = since;
	return rpt_table_row(h->t, cells);
}

static int
do_good(struct hist *h)
{
	const char *path = args_get(h->args, OPT_WRITE);
	struct scan_opts o;
	struct err e = {""};
	size_t i, broken = 0;
	int rc;

	if (store_good(h->db, h->since_ms, good_cb, h, &e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	rank_goods(h);
	if (table_open(h, "good", good_cols, nitems(good_cols)) != 0)
		return EXIT_UNKNOWN;
	for (i = 0; i < h->ngoods; i++) {
		good_row(h, &h->goods[i]);
		broken += h->goods[i].seen_verdict != RES_VERDICT_OK &&
		    h->goods[i].seen_verdict != RES_VERDICT_DEGRADED;
	}
	rc = table_close(h, "no resolver has passed (yet)");
	if (rc != EXIT_OK)
		return rc;
	if (!h->ctx->quiet)
		fprintf(stderr,
		    "history: %zu last-known-good resolver(s), %zu of them "
		    "failed since\n",
		    h->ngoods, broken);
	if (path == NULL)
		return EXIT_OK;
	/* The search ranges a hint about ceilings names: scan's defaults. */
	scan_opts_defaults(&o);
	if (scan_report_write_resolvers(h->rep, path, &o,
		args_has(h->args, OPT_WITH_DEGRADED), "history good",
		&e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	return EXIT_OK;
}

/* ---- diff --------------------------------------------------------------- */

static const struct rpt_col diff_cols[] = {
    {"change", RPT_COL_STR},
    {"resolver", RPT_COL_STR},
    {"domain", RPT_COL_STR},
    {"before", RPT_COL_STR},
    {"after", RPT_COL_STR},
    {"upload_before", RPT_COL_INT},
    {"upload_after", RPT_COL_INT},
    {"download_before", RPT_COL_INT},
    {"download_after", RPT_COL_INT},
    {"evidence", RPT_COL_STR},
};

/* "ok", or "fail timeout": how a result ended. */
static void
outcome(const struct res_resolver *r, char *buf, size_t len)
{
	if (r == NULL)
		snprintf(buf, len, "absent");
	else if (r->verdict == RES_VERDICT_OK)
		snprintf(buf, len, "%s", res_verdict_name(r->verdict));
	else
		snprintf(buf, len, "%s %s", res_verdict_name(r->verdict),
		    res_reason_name(r->reason));
}

/*
 * What changed between a and b (either NULL when absent), or NULL when
 * nothing worth listing did (without --all).
 */
static const char *
classify(
    struct hist *h, const struct res_resolver *a, const struct res_resolver *b)
{
	if (a == NULL)
		return h->added++, "added";
	if (b == NULL)
		return h->removed++, "removed";
	if (!res_passed(a) && res_passed(b))
		return h->good++, "became_good";
	if (res_passed(a) && !res_passed(b))
		return h->broke++, "broke";
	if (res_passed(a) && res_passed(b) &&
	    (a->upload_mtu != b->upload_mtu ||
		a->download_mtu != b->download_mtu))
		return h->mtu++, "mtu_changed";
	if (res_passed(a) && res_passed(b) && a->verdict != b->verdict)
		return "verdict_changed";
	if (!h->all)
		return NULL;
	if (!res_passed(a) && a->reason != b->reason)
		return "reason_changed";
	return "same";
}

static int
pair_cb(void *arg, const struct res_resolver *a, const struct res_resolver *b)
{
	struct hist *h = arg;
	const struct res_resolver *any = a ? a : b;
	char who[RES_ADDR_MAX + 16], bef[64], aft[64], u0[16], u1[16], d0[16],
	    d1[16];
	const char *cells[nitems(diff_cols)], *what;
	size_t k = 0;

	if ((what = classify(h, a, b)) == NULL)
		return 0;
	rpt_resolver_text(any->addr, any->port, who, sizeof who);
	outcome(a, bef, sizeof bef);
	outcome(b, aft, sizeof aft);
	cells[k++] = what;
	cells[k++] = who;
	cells[k++] = any->domain[0] ? any->domain : NULL;
	cells[k++] = bef;
	cells[k++] = aft;
	cells[k++] = a ? num(a->upload_mtu, u0, sizeof u0) : NULL;
	cells[k++] = b ? num(b->upload_mtu, u1, sizeof u1) : NULL;
	cells[k++] = a ? num(a->download_mtu, d0, sizeof d0) : NULL;
	cells[k++] = b ? num(b->download_mtu, d1, sizeof d1) : NULL;
	/* Why it is what it is now (or was, when it went away). */
	cells[k++] = b ? b->evidence : a->evidence;
	h->n++;
	return rpt_table_row(h->t, cells) != 0;
}

/* A run id operand. 0 / -1 (said). */
static int
run_arg(const char *text, struct hist *h, struct store_run_info *out)
{
	struct err e = {""};
	long long id;
	int rc;

	if (parse_int(text, 1, INT64_MAX, &id, &e) != 0) {
		cli_error(&cmd_history_entry, "RUN %s: %s", text, e.msg);
		return -1;
	}
	rc = store_run_get(h->db, id, NULL, out, &e);
	if (rc == 1)
		cli_error(
		    &cmd_history_entry, "no run %lld (history lists them)", id);
	else if (rc != 0)
		cli_error(&cmd_history_entry, "%s", e.msg);
	return rc == 0 ? 0 : -1;
}

/* The runs to compare: operands, else the last scan and its list's
 * previous one. 0 / -1 (said). */
static int
pick_runs(struct hist *h, int nargs, char **argv, struct store_run_info *a,
    struct store_run_info *b)
{
	struct err e = {""};
	int rc;

	if (nargs == 2)
		return run_arg(argv[0], h, a) == 0 &&
			run_arg(argv[1], h, b) == 0 ?
		    0 :
		    -1;
	if (nargs == 1) {
		if (run_arg(argv[0], h, b) != 0)
			return -1;
	} else if ((rc = store_last_run(h->db, "scan", NULL, b, &e)) != 0) {
		cli_error(&cmd_history_entry, "%s",
		    rc == 1 ? "no scan in the history yet" : e.msg);
		return -1;
	}
	rc = store_run_before(h->db, b->id, b->command, b->args_digest, a, &e);
	if (rc == 1)
		cli_error(&cmd_history_entry,
		    "run %lld has no earlier %s of the same list to compare "
		    "with; name two runs: history diff RUN RUN",
		    (long long)b->id, b->command);
	else if (rc != 0)
		cli_error(&cmd_history_entry, "%s", e.msg);
	return rc == 0 ? 0 : -1;
}

static int
do_diff(struct hist *h, int nargs, char **argv)
{
	struct store_run_info a, b;
	struct err e = {""};
	char buf[64];
	int rc;

	if (pick_runs(h, nargs, argv, &a, &b) != 0)
		return EXIT_UNKNOWN;
	if (table_open(h, "changes", diff_cols, nitems(diff_cols)) != 0)
		return EXIT_UNKNOWN;
	snprintf(buf, sizeof buf, "%lld", (long long)a.id);
	rpt_table_meta(h->t, "from_run", buf, RPT_COL_INT);
	when(a.started_ms, buf, sizeof buf);
	rpt_table_meta(h->t, "from_started", buf, RPT_COL_STR);
	snprintf(buf, sizeof buf, "%lld", (long long)b.id);
	rpt_table_meta(h->t, "to_run", buf, RPT_COL_INT);
	when(b.started_ms, buf, sizeof buf);
	rpt_table_meta(h->t, "to_started", buf, RPT_COL_STR);
	if (store_run_pairs(h->db, a.id, b.id, pair_cb, h, &e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		rpt_table_close(h->t, NULL, NULL);
		return EXIT_UNKNOWN;
	}
	rc = table_close(h, "no changes");
	if (!h->ctx->quiet)
		fprintf(stderr,
		    "history: run %lld -> %lld: %zu became good, %zu broke, "
		    "%zu MTU changed, %zu added, %zu removed\n",
		    (long long)a.id, (long long)b.id, h->good, h->broke, h->mtu,
		    h->added, h->removed);
	return rc;
}

/* ---- resolver ----------------------------------------------------------- */

struct tl {
	struct hist *h;
	struct rpt_sink *sink;
	uint16_t port; /* 0: any */
};

static int
timeline_cb(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct tl *t = arg;

	(void)run_id;
	if (r->at_ms < t->h->since_ms)
		return 1; /* newest first: the rest is older */
	if (t->port != 0 && r->port != t->port)
		return 0;
	if (t->h->limit > 0 && (long long)t->h->n >= t->h->limit)
		return 1;
	t->h->n++;
	return rpt_result(t->sink, r) != 0;
}

static int
do_resolver(struct hist *h, const char *addr)
{
	struct tl t = {h, NULL, 0};
	struct err e = {""};
	union net_addr a;
	char ip[NET_ADDR_STRLEN];
	int rc;

	/* "1.2.3.4", "1.2.3.4:5353", "[2001:db8::1]:53": port 0 = any. */
	if (net_addr_parse(addr, 0, &a, &e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	net_addr_format_ip(&a, ip, sizeof ip);
	t.port = net_addr_port(&a);
	if ((t.sink = rpt_open(h->ctx->format, stdout, &e)) == NULL) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	rc = store_resolver_history(h->db, ip, timeline_cb, &t, &e);
	if (rc != 0)
		cli_error(&cmd_history_entry, "%s", e.msg);
	if (rpt_close(t.sink, &e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		rc = -1;
	}
	return rc == 0 ? EXIT_OK : EXIT_UNKNOWN;
}

/* ---- the command --------------------------------------------------------- */

static int
cmd_history_run(struct cli_ctx *ctx, const struct args *args)
{
	static const char *const subs[] = {"list", "good", "diff", "resolver"};
	const char *sub = args->noperands > 0 ? args->operands[0] : "list";
	struct hist h;
	struct err e = {""};
	int rc = EXIT_UNKNOWN,
	    nargs = args->noperands > 0 ? args->noperands - 1 : 0;
	size_t i;

	memset(&h, 0, sizeof h);
	h.ctx = ctx;
	h.args = args;
	h.all = args_has(args, OPT_ALL);
	for (i = 0; i < nitems(subs); i++)
		if (strcmp(sub, subs[i]) == 0)
			break;
	if (i == nitems(subs)) {
		cli_error(&cmd_history_entry,
		    "unknown view '%s' (list, good, diff, resolver)", sub);
		return EXIT_UNKNOWN;
	}
	if ((i == 0 || i == 1) && nargs > 0) {
		cli_error(&cmd_history_entry, "%s takes no argument", sub);
		return EXIT_UNKNOWN;
	}
	if (i == 3 && nargs != 1) {
		cli_error(&cmd_history_entry,
		    "give one address: history "
		    "resolver ADDR");
		return EXIT_UNKNOWN;
	}
	if (args_get(args, OPT_WRITE) != NULL && i != 1) {
		cli_error(&cmd_history_entry,
		    "--write-resolvers goes with history good");
		return EXIT_UNKNOWN;
	}
	if (args_strtonum(args, OPT_LIMIT, 1, 100000000, &h.limit) != 0)
		return EXIT_UNKNOWN;
	if (args_get(args, OPT_SINCE) != NULL &&
	    parse_since(args_get(args, OPT_SINCE), now_wall_ms(), &h.since_ms,
		&e) != 0) {
		cli_error(&cmd_history_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	if (open_db(&h) != 0)
		return EXIT_UNKNOWN;
	switch (i) {
	case 0:
		rc = do_list(&h);
		break;
	case 1:
		rc = do_good(&h);
		break;
	case 2:
		rc = do_diff(&h, nargs, args->operands + 1);
		break;
	default:
		rc = do_resolver(&h, args->operands[1]);
	}
	if (h.t != NULL)
		rpt_table_close(h.t, NULL, NULL);
	scan_report_free(h.rep);
	free(h.goods);
	store_close(h.db);
	return rc;
}

const struct cmd_entry cmd_history_entry = {
    .name = "history",
    .summary = "read the history back: runs, last-known-good resolvers, "
	       "what changed, one resolver's timeline",
    .args = {.opts = history_opts,
	.operands = "[list | good | diff [RUN [RUN]] | resolver ADDR]",
	.min_operands = 0,
	.max_operands = 3,
	.formats = "text,json,csv",
	.notes = "Views:\n"
		 "  list                 runs, newest first (the default)\n"
		 "  good                 last-known-good resolvers across "
		 "runs: when each last\n"
		 "                       passed, its MTUs, RTT and loss, and "
		 "what it did since\n"
		 "  diff [RUN [RUN]]     became good / broke / MTU changed "
		 "between two runs\n"
		 "                       (default: the last scan and the one "
		 "before it of the\n"
		 "                       same list)\n"
		 "  resolver ADDR        one resolver's results, newest first\n"
		 "The database is --db FILE or "
		 "$XDG_STATE_HOME/mdns-doctor/history.db;\n"
		 "history never creates one."},
    .run = cmd_history_run,
};
