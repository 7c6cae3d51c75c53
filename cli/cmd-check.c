/* SPDX-License-Identifier: MIT */
/*
 * cmd-check.c — `mdns-doctor check`: the cron / monitoring mode
 * (docs/check.md). Runs the configured sub-checks — the engine is live,
 * sessions open through the best resolvers, a small scan of the list,
 * the exit IP (when an expected exit is configured), DNS leak (when a
 * leak zone is configured), the age of the last-known-good list — and
 * prints one monitoring-plugins line, exit 0/1/2/3.
 *
 * The deadline is kept by process, not by promise: the sub-checks run in
 * a child that reports each verdict through a pipe as it is reached; the
 * parent waits until the deadline, then kills the child, and what had not
 * finished is UNKNOWN. So a stopped engine, a resolver that never
 * answers or a locked history can delay the answer by the deadline at
 * most, never hang it. The parent then writes the output (nagios, text,
 * json, prom), the node_exporter textfile (temporary file, fsync,
 * rename) and the run into the history.
 *
 * The judgement itself is probe/check.h's; the probes are scan's, the
 * control socket client's, ip's and leak's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/checks-out.h"
#include "cli/cli.h"
#include "common/ctlc.h"
#include "common/log.h"
#include "common/resolvers.h"
#include "engine/ctl.h"
#include "probe/check.h"
#include "probe/scan-setup.h"
#include "probe/scan.h"
#include "proto/leakzone.h"
#include "reports/sink.h"
#include "store/store.h"

enum {
	OPT_CHECKS = ARGS_LONG,
	OPT_DEADLINE,
	OPT_CONTROL,
	OPT_ENGINE_TIMEOUT,
	OPT_RESOLVERS,
	OPT_SAMPLE,
	OPT_TEXTFILE,
	OPT_NO_STORE,
};

static const struct args_opt check_opts[] = {
    {'w', "warning", "LIMITS", ARGS_REPEAT,
	"warning thresholds, KEY=RANGE,...: rtt (ms), loss (%),\nage (s), "
	"hs, good, fresh (s); a bare RANGE is rtt's"},
    {'c', "critical", "LIMITS", ARGS_REPEAT,
	"critical thresholds, the same keys"},
    {OPT_CHECKS, "checks", "LIST", 0,
	"engine,handshake,scan,ip,leak,fresh (default: all but\nip, which "
	"joins when an expected exit is configured)"},
    {OPT_DEADLINE, "deadline", "SECONDS", 0,
	"for the whole check (default 60); past it: UNKNOWN"},
    {OPT_CONTROL, "control", "PATH", 0, "the engine's control socket"},
    {OPT_ENGINE_TIMEOUT, "engine-timeout", "MS", 0,
	"how long the engine may take to answer (default 5000)"},
    {OPT_RESOLVERS, "resolvers", "FILE", 0,
	"list for the handshakes and the scan (default: the\nconfig's "
	"client_resolvers.txt)"},
    {'n', "handshakes", "N", 0,
	"resolvers to open a session through (default 3)"},
    {OPT_SAMPLE, "scan-sample", "N", 0,
	"resolvers in the small scan (default 10)"},
    {OPT_TEXTFILE, "textfile", "DIR", 0,
	"write DIR/mdns_doctor_check.prom for node_exporter"},
    {OPT_NO_STORE, "no-store", NULL, 0, "do not record the run in the history"},
    {0, NULL, NULL, 0, NULL},
};

#define TEXTFILE_NAME "mdns_doctor_check.prom"
#define LAST_SUCCESS  "mdns_doctor_check_last_success_timestamp_seconds"

/* The sub-checks, in the order they run and are shown. */
enum sub { S_ENGINE, S_FRESH, S_HANDSHAKE, S_SCAN, S_IP, S_LEAK, S_COUNT };
static const char *const sub_names[S_COUNT] = {
    "engine", "fresh", "handshake", "scan", "ip", "leak"};
/* Shown order: the engine first, the list's age last. */
static const enum sub shown[S_COUNT] = {
    S_ENGINE, S_HANDSHAKE, S_SCAN, S_IP, S_LEAK, S_FRESH};

/* One sub-check's outcome, as the child reported it. */
struct outcome {
	int done;	       /* a verdict came (else: deadline or not run) */
	int tested;	       /* 0: not tested (why in brief) */
	int state;	       /* EXIT_* */
	struct res_check c[2]; /* ip may bring one per family */
	size_t nc;
	char brief[160]; /* for the status line */
};

struct chk {
	struct cli_ctx *ctx;
	const struct args *args;
	struct chk_limits lim;
	int want[S_COUNT];
	int ip_asked; /* --checks named ip: measure even without expectation */
	long long hs, sample, engine_ms;
	unsigned deadline_ms;
	const char *control, *resolvers, *textfile;
	uint64_t t0_us;
	int64_t started_ms;
	struct outcome out[S_COUNT];
	double perf[CHK_NMETRICS];
	char error[ERR_MSG_MAX]; /* a config error from the child */
	int deadline_hit;
};

/* ---- the child: run the sub-checks ---------------------------------------- */

/* Remaining milliseconds before the deadline, at least 1. */
static int
remaining_ms(const struct chk *k)
{
	uint64_t el = (now_mono_us() - k->t0_us) / 1000;

	return el >= k->deadline_ms ? 1 : (int)(k->deadline_ms - el);
}

/* One outcome as a JSON line on fd. */
static void
emit(int fd, enum sub s, int tested, int state, const struct res_check *c,
    size_t nc, const char *brief, const double *perf)
{
	json_t *o = json_object(), *a = json_array(), *p = json_object();
	char *txt;
	size_t i, off = 0, len;
	ssize_t w;
	int m;

	json_object_set_new(o, "sub", json_integer(s));
	json_object_set_new(o, "tested", json_boolean(tested));
	json_object_set_new(o, "state", json_integer(state));
	json_object_set_new(o, "brief", json_string(brief));
	for (i = 0; i < nc; i++)
		json_array_append_new(a,
		    json_pack("{s:i,s:s,s:i,s:i,s:s?,s:s?}", "kind", c[i].kind,
			"subject", c[i].subject, "verdict", c[i].verdict,
			"reason", c[i].reason, "detail", c[i].detail,
			"evidence", c[i].evidence));
	json_object_set_new(o, "checks", a);
	/* Measured but unknown (NAN) goes as null: 'U' in the perfdata. */
	for (m = 0; perf != NULL && m < CHK_NMETRICS; m++)
		if (isnan(perf[m]) || perf[m] > -1e300)
			json_object_set_new(p,
			    chk_metric_name((enum chk_metric)m),
			    isnan(perf[m]) ? json_null() : json_real(perf[m]));
	json_object_set_new(o, "perf", p);
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (txt == NULL)
		return;
	len = strlen(txt);
	for (; off < len; off += (size_t)w)
		if ((w = write(fd, txt + off, len - off)) <= 0)
			break;
	(void)!write(fd, "\n", 1);
	free(txt);
}

/*
 * Every metric absent: a sub-check then sets what it measures (NAN:
 * measured, but no value came out, e.g. no session for an rtt).
 */
static void
no_perf(double *p)
{
	int m;

	for (m = 0; m < CHK_NMETRICS; m++)
		p[m] = -1e308; /* absent (NAN means measured but unknown) */
}

static void
child_engine(struct chk *k, int fd)
{
	struct chk_engine en;
	struct res_check c;
	struct err e = {""};
	double perf[CHK_NMETRICS];
	char *path, brief[160];
	json_t *reply, *st = NULL;
	/* The timeout asked for, not what is left before the deadline: an
	 * engine that has not answered when the deadline comes is cut by it
	 * (UNKNOWN), not judged on a shorter wait than the user gave. */
	int state, t = (int)k->engine_ms;

	path = k->control ? xstrdup(k->control) : ctl_default_path("client");
	reply = ctlc_call(path, "status", t, &e);
	if (reply != NULL && json_is_true(json_object_get(reply, "ok")))
		st = json_object_get(reply, "status");
	else if (reply != NULL)
		err_set(&e, "the engine at %s refused: %s", path,
		    json_string_value(json_object_get(reply, "error")));
	else if (strstr(e.msg, "not running") == NULL)
		/* It accepted and then said nothing: stopped or hung. */
		err_prefix(
		    &e, "the engine at %s did not answer in %d ms", path, t);
	state = chk_engine_judge(st, e.msg, now_wall_ms(), &k->lim, &c, &en);
	no_perf(perf);
	if (st != NULL) {
		perf[CHK_LOSS] = en.loss_pct;
		/* Only an engine that reports the age has one to show. */
		if (!isnan(en.age_s))
			perf[CHK_AGE] = en.age_s;
		snprintf(brief, sizeof brief, "engine %s", en.phase);
	} else
		snprintf(brief, sizeof brief, "%s",
		    reply == NULL && strstr(e.msg, "did not answer") != NULL ?
			"engine not answering" :
			"no engine");
	emit(fd, S_ENGINE, 1, state, &c, 1, brief, perf);
	json_decref(reply);
	free(path);
}

/* The last-known-good list, newest confirmed first. */
struct goods {
	struct store_good *g;
	size_t n, cap;
	int64_t newest;
};

static int
good_cb(void *arg, const struct store_good *g)
{
	struct goods *gs = arg;

	if (gs->n == gs->cap) {
		gs->cap = gs->cap ? gs->cap * 2 : 64;
		gs->g = xreallocarray(gs->g, gs->cap, sizeof *gs->g);
	}
	gs->g[gs->n++] = *g;
	gs->newest = MAX(gs->newest, g->ok.at_ms);
	return 0;
}

/* Still good when last seen first, then the most recently good. */
static int
good_order(const void *a, const void *b)
{
	const struct store_good *x = a, *y = b;
	int xs = x->seen_verdict == RES_VERDICT_OK ||
	    x->seen_verdict == RES_VERDICT_DEGRADED,
	    ys = y->seen_verdict == RES_VERDICT_OK ||
	    y->seen_verdict == RES_VERDICT_DEGRADED;

	if (xs != ys)
		return ys - xs;
	return x->ok.at_ms < y->ok.at_ms ? 1 :
	    x->ok.at_ms > y->ok.at_ms	 ? -1 :
					   0;
}

static void
child_fresh(struct chk *k, int fd, struct goods *gs)
{
	struct res_check c;
	struct store *db = NULL;
	struct err e = {""};
	double perf[CHK_NMETRICS];
	char *path, brief[160];
	int state;

	path = k->ctx->db ? xstrdup(k->ctx->db) : store_default_path(&e);
	if (path != NULL &&
	    (db = store_open_flags(path, STORE_NO_CREATE, &e)) != NULL &&
	    store_good(db, 0, good_cb, gs, &e) != 0)
		gs->n = 0;
	store_close(db);
	free(path);
	if (gs->n > 1)
		qsort(gs->g, gs->n, sizeof *gs->g, good_order);
	if (!k->want[S_FRESH])
		return;
	no_perf(perf);
	state = chk_fresh_judge(
	    gs->newest, gs->n, now_wall_ms(), &k->lim, &c, &perf[CHK_FRESH]);
	if (gs->n > 0) {
		snprintf(brief, sizeof brief, "last-known-good %.1f h old",
		    perf[CHK_FRESH] / 3600);
	} else {
		snprintf(brief, sizeof brief, "no last-known-good list");
		if (e.msg[0] != '\0')
			res_textf(c.evidence, sizeof c.evidence, "%s", e.msg);
	}
	emit(fd, S_FRESH, 1, state, &c, 1, brief, perf);
}

struct collect {
	struct res_resolver *r;
	size_t n, cap;
};

static void
collect_cb(void *arg, uint64_t pos, const struct res_resolver *r)
{
	struct collect *col = arg;

	(void)pos;
	if (col->n == col->cap) {
		col->cap = col->cap ? col->cap * 2 : 16;
		col->r = xreallocarray(col->r, col->cap, sizeof *col->r);
	}
	col->r[col->n++] = *r;
}

/*
 * Up to want addresses of the resolver list into out: the first ones, or
 * (sample) a uniform sample. Returns how many, -1 with e set.
 */
static long
read_list(const char *path, size_t want, int sample, union net_addr *out,
    struct err *e)
{
	struct rl_reader *rd;
	union net_addr a;
	uint64_t seen = 0, j;
	size_t n = 0;
	int rc;

	if (rl_open(path, NULL, &rd, e) != 0)
		return -1;
	srandom((unsigned)now_wall_ms());
	while ((rc = rl_next(rd, &a, e)) == 1) {
		seen++;
		if (n < want)
			out[n++] = a;
		else if (!sample)
			break;
		else if ((j = (uint64_t)random() % seen) < want)
			out[j] = a; /* reservoir sampling */
	}
	rl_close(rd);
	return rc < 0 ? -1 : (long)n;
}

/* The scan options from the config; -1 with e set. */
static int
scan_options(
    struct chk *k, struct scan_setup *su, struct scan_opts *o, struct err *e)
{
	memset(su, 0, sizeof *su);
	su->method = -1;
	su->config = k->ctx->config;
	scan_opts_defaults(o);
	if (k->ctx->config == NULL)
		return err_set(e,
		    "needs the tunnel's settings: give --config "
		    "client_config.toml");
	return scan_setup_apply(su, o, e);
}

static void
child_probe(struct chk *k, int fd, enum sub s, const struct goods *gs)
{
	struct scan_setup su;
	struct scan_opts o;
	struct collect col = {NULL, 0, 0};
	struct res_check c;
	struct err e = {""};
	double perf[CHK_NMETRICS];
	size_t want = s == S_HANDSHAKE ? (size_t)k->hs : (size_t)k->sample, i,
	       n = 0;
	union net_addr *addrs = xcalloc(want, sizeof *addrs);
	const char *list;
	char brief[160];
	int state, v;
	long got;

	no_perf(perf);
	if (scan_options(k, &su, &o, &e) != 0)
		goto unknown;
	if (s == S_HANDSHAKE && o.key == NULL) {
		err_set(&e, "needs the key (ENCRYPTION_KEY in --config)");
		goto unknown;
	}
	/* Handshakes go through the best of the last-known-good list. */
	for (i = 0; s == S_HANDSHAKE && i < gs->n && n < want; i++)
		if (net_addr_parse(gs->g[i].ok.addr, gs->g[i].ok.port,
			&addrs[n], NULL) == 0)
			n++;
	list = k->resolvers ? k->resolvers : su.resolvers_path;
	if (n == 0 && list != NULL) {
		if ((got = read_list(list, want, s == S_SCAN, addrs, &e)) < 0)
			goto unknown;
		n = (size_t)got;
	}
	for (i = 0; s == S_SCAN && n == 0 && i < gs->n && n < want; i++)
		if (net_addr_parse(gs->g[i].ok.addr, gs->g[i].ok.port,
			&addrs[n], NULL) == 0)
			n++;
	o.max_stage = s == S_HANDSHAKE ? RES_STAGE_HANDSHAKE : RES_STAGE_REACH;
	o.nintercept = 0;
	o.rate = 200;
	o.on_result = collect_cb;
	o.arg = &col;
	if (n > 0 && scan_run_blocking(&o, addrs, n, &e) != 0)
		goto unknown;
	if (s == S_HANDSHAKE) {
		state = chk_handshake_judge(
		    col.r, col.n, &k->lim, &c, &v, &perf[CHK_RTT]);
		perf[CHK_HS] = v;
		if (v > 0)
			snprintf(brief, sizeof brief,
			    "handshake %d/%zu (rtt %.1f ms)", v, col.n,
			    perf[CHK_RTT]);
		else
			snprintf(brief, sizeof brief, "handshake %d/%zu (%s)",
			    v, col.n, res_reason_name(c.reason));
	} else {
		state =
		    chk_scan_judge(col.r, col.n, o.max_stage, &k->lim, &c, &v);
		perf[CHK_GOOD] = v;
		snprintf(brief, sizeof brief, "scan %d/%zu", v, col.n);
	}
	emit(fd, s, 1, state, &c, 1, brief, perf);
	goto out;
unknown:
	res_check_init(&c);
	c.kind = s == S_HANDSHAKE ? RES_CHECK_HANDSHAKE : RES_CHECK_SCAN;
	c.reason = RES_R_INTERNAL;
	res_textf(c.detail, sizeof c.detail, "%s", e.msg);
	snprintf(
	    brief, sizeof brief, "%s unknown (%.100s)", sub_names[s], e.msg);
	emit(fd, s, 1, EXIT_UNKNOWN, &c, 1, brief, perf);
out:
	scan_setup_free(&su);
	free(col.r);
	free(addrs);
}

/*
 * The rows of the ip or leak check as one outcome: rc 1 is "not tested"
 * (why_not says what is missing, key the setting that would give it),
 * another failure or no row UNKNOWN with the error or none_why, else the
 * worst verdict of the rows, each named in the brief ("leak" for a row
 * that found one).
 */
static void
emit_rows(int fd, enum sub s, enum res_check_kind kind, int rc,
    struct res_check *c, size_t n, const struct err *e, const char *why_not,
    const char *key, const char *none_why)
{
	const char *name = s == S_IP ? "ip" : "leak";
	char brief[160];
	size_t i, o = 0;
	int state = EXIT_OK;

	if (rc == 1) {
		res_check_init(&c[0]);
		c[0].kind = kind;
		res_textf(c[0].detail, sizeof c[0].detail,
		    "not tested: %s (%s)", why_not, key);
		snprintf(
		    brief, sizeof brief, "%s not tested (%s)", name, why_not);
		emit(fd, s, 0, EXIT_OK, c, 1, brief, NULL);
		return;
	}
	if (rc != 0 || n == 0) {
		res_check_init(&c[0]);
		c[0].kind = kind;
		c[0].reason = RES_R_INTERNAL;
		res_textf(c[0].detail, sizeof c[0].detail, "%s",
		    rc != 0 ? e->msg : none_why);
		snprintf(brief, sizeof brief, "%s unknown", name);
		emit(fd, s, 1, EXIT_UNKNOWN, c, 1, brief, NULL);
		return;
	}
	o += (size_t)snprintf(brief, sizeof brief, "%s", name);
	for (i = 0; i < n; i++) {
		state = chk_worst(state, chk_verdict_state(c[i].verdict));
		if (o < sizeof brief)
			o += (size_t)snprintf(brief + o, sizeof brief - o,
			    " %s %s", c[i].subject,
			    c[i].reason == RES_R_LEAK ?
				"leak" :
				res_verdict_name(c[i].verdict));
	}
	emit(fd, s, 1, state, c, n, brief, NULL);
}

/* The exit-IP check (cmd-ip.c) when an expected exit is known. */
static void
child_ip(struct chk *k, int fd)
{
	struct res_check c[2];
	struct err e = {""};
	size_t n = 0;
	int rc;

	rc = cli_ip_checks(k->ctx, k->control,
	    MIN(15000, MAX(1000, remaining_ms(k) - 500)), !k->ip_asked, c, &n,
	    &e);
	emit_rows(fd, S_IP, RES_CHECK_IP, rc, c, n, &e, "no expected exit",
	    "MDNS_EXPECTED_EXIT_IP", "no service of a family to ask");
}

/* The leak check (cmd-leak.c) when --config names MDNS_LEAK_ZONE. */
static void
child_leak(struct chk *k, int fd)
{
	struct res_check c[LEAKZ_REPORT_MAX + 2];
	struct err e = {""};
	size_t n = 0;
	int rc;

	rc = cli_leak_checks(k->ctx, k->control,
	    MIN(15000, MAX(1000, remaining_ms(k) - 500)), c, nitems(c), &n, &e);
	emit_rows(fd, S_LEAK, RES_CHECK_LEAK, rc, c, n, &e, "no leak zone",
	    "MDNS_LEAK_ZONE", "no verdict");
}

static void
child_main(struct chk *k, int fd)
{
	struct goods gs = {NULL, 0, 0, 0};

	/* A parent killed by cron or by hand takes its child along. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	log_set_level(k->ctx->verbose ? LOG_INFO : LOG_ERROR);
	signal(SIGPIPE, SIG_IGN);
	if (k->want[S_ENGINE])
		child_engine(k, fd);
	child_fresh(k, fd, &gs); /* also the handshake candidates */
	if (k->want[S_HANDSHAKE])
		child_probe(k, fd, S_HANDSHAKE, &gs);
	if (k->want[S_SCAN])
		child_probe(k, fd, S_SCAN, &gs);
	if (k->want[S_IP])
		child_ip(k, fd);
	if (k->want[S_LEAK])
		child_leak(k, fd);
	free(gs.g);
}

/* ---- the parent: wait, read, judge ---------------------------------------- */

static const char *
jtext(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static void
take_record(struct chk *k, const char *line)
{
	json_t *o = json_loads(line, 0, NULL), *a, *x, *p, *v;
	struct outcome *out;
	const char *key;
	int s, m;

	s = (int)json_integer_value(json_object_get(o, "sub"));
	if (o == NULL || s < 0 || s >= S_COUNT) {
		json_decref(o);
		return;
	}
	out = &k->out[s];
	out->done = 1;
	out->tested = json_is_true(json_object_get(o, "tested"));
	out->state = (int)json_integer_value(json_object_get(o, "state"));
	snprintf(out->brief, sizeof out->brief, "%s", jtext(o, "brief"));
	a = json_object_get(o, "checks");
	for (out->nc = 0; out->nc < 2 && out->nc < json_array_size(a);
	     out->nc++) {
		struct res_check *c = &out->c[out->nc];

		x = json_array_get(a, out->nc);
		res_check_init(c);
		c->kind = (enum res_check_kind)json_integer_value(
		    json_object_get(x, "kind"));
		c->verdict = (enum res_verdict)json_integer_value(
		    json_object_get(x, "verdict"));
		c->reason = (enum res_reason)json_integer_value(
		    json_object_get(x, "reason"));
		res_textf(
		    c->subject, sizeof c->subject, "%s", jtext(x, "subject"));
		res_textf(
		    c->detail, sizeof c->detail, "%s", jtext(x, "detail"));
		res_textf(c->evidence, sizeof c->evidence, "%s",
		    jtext(x, "evidence"));
		c->at_ms = now_wall_ms();
	}
	p = json_object_get(o, "perf");
	json_object_foreach(p, key, v)
	{
		for (m = 0; m < CHK_NMETRICS; m++)
			if (strcmp(key, chk_metric_name((enum chk_metric)m)) ==
			    0)
				k->perf[m] = json_is_number(v) ?
				    json_number_value(v) :
				    NAN;
	}
	json_decref(o);
}

/* Run the child, read what it reports until it ends or the deadline. */
static void
run_child(struct chk *k)
{
	char buf[65536], *nl;
	size_t have = 0;
	struct pollfd pfd;
	pid_t pid;
	int fds[2], left, st;
	ssize_t r;

	if (pipe(fds) != 0) {
		snprintf(
		    k->error, sizeof k->error, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		snprintf(
		    k->error, sizeof k->error, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(k, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		left = remaining_ms(k);
		if ((now_mono_us() - k->t0_us) / 1000 >= k->deadline_ms) {
			k->deadline_hit = 1;
			break;
		}
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd.revents == 0)
			continue;
		r = read(fds[0], buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			break; /* the child is done (or died) */
		have += (size_t)r;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			take_record(k, buf);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof buf - 1)
			have = 0; /* a record that long is not ours */
	}
	close(fds[0]);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* ---- output --------------------------------------------------------------- */

/* The overall state and the status line's text. */
static int
overall(struct chk *k, char *text, size_t len)
{
	size_t o = 0, i;
	int state = EXIT_OK, any = 0, first = 1;
	enum sub s;

	text[0] = '\0';
	if (k->deadline_hit)
		o += (size_t)snprintf(text, len,
		    "deadline %.1f s reached: ", k->deadline_ms / 1000.0);
	for (i = 0; i < S_COUNT; i++) {
		s = shown[i];
		if (!k->want[s])
			continue;
		if (!k->out[s].done) {
			struct outcome *out = &k->out[s];

			/* Started or queued when the deadline came. */
			res_check_init(&out->c[0]);
			out->c[0].kind = s == S_ENGINE ? RES_CHECK_ENGINE :
			    s == S_FRESH	       ? RES_CHECK_FRESH :
			    s == S_HANDSHAKE	       ? RES_CHECK_HANDSHAKE :
			    s == S_SCAN		       ? RES_CHECK_SCAN :
			    s == S_IP		       ? RES_CHECK_IP :
							 RES_CHECK_LEAK;
			out->c[0].reason =
			    k->deadline_hit ? RES_R_DEADLINE : RES_R_INTERNAL;
			res_textf(out->c[0].detail, sizeof out->c[0].detail,
			    k->deadline_hit ?
				"the deadline (%.1f s) came before a verdict" :
				"the check process ended before a verdict "
				"(%.1f s)",
			    k->deadline_ms / 1000.0);
			out->c[0].at_ms = now_wall_ms();
			out->nc = 1;
			out->tested = 1;
			out->state = EXIT_UNKNOWN;
			snprintf(out->brief, sizeof out->brief, "%s %s",
			    sub_names[s],
			    k->deadline_hit ? "cut by the deadline" :
					      "unknown");
		}
		if (k->out[s].tested) {
			state = chk_worst(state, k->out[s].state);
			any = 1;
		}
		if (o < len)
			o += (size_t)snprintf(text + o, len - o, "%s%s",
			    first ? "" : "; ", k->out[s].brief);
		first = 0;
	}
	if (k->deadline_hit || !any)
		state = EXIT_UNKNOWN;
	return state;
}

/* Every measured value, as perfdata / gauges / json. */
static void
put_perf(struct chk *k, struct rpt_sink *sink)
{
	static const enum sub by[CHK_NMETRICS] = {[CHK_RTT] = S_HANDSHAKE,
	    [CHK_LOSS] = S_ENGINE,
	    [CHK_AGE] = S_ENGINE,
	    [CHK_HS] = S_HANDSHAKE,
	    [CHK_GOOD] = S_SCAN,
	    [CHK_FRESH] = S_FRESH};
	struct rpt_perf p;
	int m;

	for (m = 0; m < CHK_NMETRICS; m++) {
		if (!k->want[by[m]] || !k->out[by[m]].done ||
		    !k->out[by[m]].tested || k->perf[m] < -1e300)
			continue;
		memset(&p, 0, sizeof p);
		p.label = chk_metric_name((enum chk_metric)m);
		p.uom = chk_metric_uom((enum chk_metric)m);
		p.value = k->perf[m];
		p.warn = k->lim.warn[m].set ? k->lim.warn[m].text : NULL;
		p.crit = k->lim.crit[m].set ? k->lim.crit[m].text : NULL;
		p.min = 0;
		p.max = m == CHK_LOSS ? 100 :
		    m == CHK_HS	      ? (double)k->hs :
		    m == CHK_GOOD     ? (double)k->sample :
					NAN;
		p.help = chk_metric_help((enum chk_metric)m);
		rpt_perf(sink, &p);
	}
}

/* The run as a summary for the sinks (times only). */
static void
summary(struct chk *k, struct res_run *run)
{
	res_run_init(run);
	snprintf(run->command, sizeof run->command, "check");
	snprintf(run->version, sizeof run->version, "%s", cli_version());
	run->started_ms = k->started_ms;
	run->ended_ms = now_wall_ms();
}

/*
 * Write everything to sink: checks, perf, status and (with_run) the
 * summary. Checks that were not tested go only where a person reads
 * them (tested_only for prom: a gauge of 3 would read as UNKNOWN).
 */
static int
render(struct chk *k, struct rpt_sink *sink, int state, const char *text,
    double last_success, int tested_only, int with_run)
{
	struct res_run run;
	struct rpt_perf p;
	size_t i, j;
	struct err e = {""};

	for (i = 0; i < S_COUNT; i++)
		for (j = 0; k->want[i] && j < k->out[i].nc; j++)
			if (k->out[i].tested || !tested_only)
				rpt_check(sink, &k->out[i].c[j]);
	put_perf(k, sink);
	if (!isnan(last_success)) {
		memset(&p, 0, sizeof p);
		p.label = "last_success_timestamp";
		p.uom = "s";
		p.value = last_success;
		p.min = p.max = NAN;
		p.help = "when the check last ended OK or WARNING (0: never)";
		rpt_perf(sink, &p);
	}
	rpt_status(sink, state, text);
	summary(k, &run);
	if (with_run)
		rpt_summary(sink, &run);
	if (rpt_close(sink, &e) != 0) {
		cli_error(&cmd_check_entry, "%s", e.msg);
		return -1;
	}
	return 0;
}

/*
 * The last-success value of an earlier textfile, 0 when none. A link or
 * anything but a regular file is not read (the directory may be shared
 * with the collector's other writers).
 */
static double
old_last_success(const char *path)
{
	char line[256];
	double v = 0;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	FILE *f;

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return 0;
	}
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, LAST_SUCCESS " ", sizeof LAST_SUCCESS) == 0)
			v = strtod(line + sizeof LAST_SUCCESS, NULL);
	fclose(f);
	return isfinite(v) && v > 0 ? v : 0;
}

/*
 * The node_exporter textfile: written to a temporary file in the same
 * directory, flushed to disk, then renamed over the old one, so a reader
 * sees the old file or the new one, never a part.
 */
static int
write_textfile(struct chk *k, int state, const char *text)
{
	char *path = xasprintf("%s/%s", k->textfile, TEXTFILE_NAME);
	char *tmp = xasprintf("%s/.%s.XXXXXX", k->textfile, TEXTFILE_NAME);
	struct rpt_sink *sink;
	struct err e = {""};
	double last = old_last_success(path);
	FILE *f = NULL;
	int fd, dfd, rc = -1;

	if (state == EXIT_OK || state == EXIT_WARNING)
		last = (double)now_wall_ms() / 1000;
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		cli_error(&cmd_check_entry, "cannot write %s: %s", tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	sink = rpt_open("prom", f, &e);
	if (render(k, sink, state, text, last, 1, 1) != 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		cli_error(&cmd_check_entry, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		cli_error(&cmd_check_entry, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		cli_error(&cmd_check_entry, "cannot rename %s to %s: %s", tmp,
		    path, strerror(errno));
		goto out;
	}
	/* The rename itself survives a crash once the directory is synced. */
	if ((dfd = open(k->textfile, O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

/* The run and its checks into the history; failures only warn. */
static void
store_run(struct chk *k, int state)
{
	char digest[RES_DIGEST_MAX], *path;
	struct store *db = NULL;
	struct err e = {""};
	int64_t run;
	size_t i, j;

	path = k->ctx->db ? xstrdup(k->ctx->db) : store_default_path(&e);
	if (path == NULL || (db = store_open(path, &e)) == NULL)
		goto fail;
	/* Past the deadline the answer comes first: wait briefly only. */
	store_set_busy_timeout(db, 500);
	res_args_digest(k->args->argc, k->args->argv, digest, sizeof digest);
	if (store_run_begin(db, "check", digest, cli_version(), &run, &e) != 0)
		goto fail;
	for (i = 0; i < S_COUNT; i++)
		for (j = 0; k->want[i] && j < k->out[i].nc; j++)
			if (store_add_check(db, run, &k->out[i].c[j], &e) != 0)
				goto fail;
	if (store_run_end(db, run, cli_status_name(state), &e) != 0)
		goto fail;
	store_close(db);
	free(path);
	return;
fail:
	if (!k->ctx->quiet)
		fprintf(
		    stderr, "mdns-doctor: check: not recorded: %s\n", e.msg);
	store_close(db);
	free(path);
}

/* ---- options -------------------------------------------------------------- */

static int
parse_checks(struct chk *k, const char *list)
{
	char *copy = xstrdup(list), *it, *save = NULL;
	int s, rc = 0;

	memset(k->want, 0, sizeof k->want);
	for (it = strtok_r(copy, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		for (s = 0; s < S_COUNT; s++)
			if (strcmp(it, sub_names[s]) == 0)
				break;
		if (s == S_COUNT) {
			cli_error(&cmd_check_entry,
			    "--checks: unknown check '%s' (engine, handshake, "
			    "scan, ip, leak, fresh)",
			    it);
			rc = -1;
			break;
		}
		k->want[s] = 1;
		k->ip_asked |= s == S_IP;
	}
	free(copy);
	return rc;
}

static int
setup(struct chk *k, const struct args *args)
{
	struct err e = {""};
	struct stat sb;
	const char *v;
	size_t i;
	int s;

	k->hs = 3;
	k->sample = 10;
	k->engine_ms = 5000;
	k->deadline_ms = 60000;
	if (args_strtonum(args, 'n', 1, 64, &k->hs) != 0 ||
	    args_strtonum(args, OPT_SAMPLE, 1, 10000, &k->sample) != 0 ||
	    args_strtonum(args, OPT_ENGINE_TIMEOUT, 1, 600000, &k->engine_ms) !=
		0 ||
	    args_seconds(args, OPT_DEADLINE, 1000, 3600000, &k->deadline_ms) !=
		0)
		return -1;
	chk_limits_defaults(&k->lim, (int)k->hs);
	for (i = 0; (v = args_value(args, 'w', i)) != NULL; i++)
		if (chk_limits_parse(&k->lim, 0, v, &e) != 0)
			goto bad;
	for (i = 0; (v = args_value(args, 'c', i)) != NULL; i++)
		if (chk_limits_parse(&k->lim, 1, v, &e) != 0)
			goto bad;
	for (s = 0; s < S_COUNT; s++)
		k->want[s] = 1;
	if ((v = args_get(args, OPT_CHECKS)) != NULL && parse_checks(k, v) != 0)
		return -1;
	k->control = args_get(args, OPT_CONTROL);
	k->resolvers = args_get(args, OPT_RESOLVERS);
	k->textfile = args_get(args, OPT_TEXTFILE);
	if (k->textfile != NULL &&
	    (stat(k->textfile, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		err_set(&e, "--textfile: %s is not a directory", k->textfile);
		goto bad;
	}
	for (s = 0; s < CHK_NMETRICS; s++)
		k->perf[s] = -1e308;
	return 0;
bad:
	cli_error(&cmd_check_entry, "%s", e.msg);
	return -1;
}

static int
cmd_check_run(struct cli_ctx *ctx, const struct args *args)
{
	struct chk k;
	struct rpt_sink *sink = NULL;
	struct err e = {""};
	char text[1024];
	int state;

	memset(&k, 0, sizeof k);
	k.ctx = ctx;
	k.args = args;
	k.t0_us = now_mono_us();
	k.started_ms = now_wall_ms();
	if (setup(&k, args) != 0)
		return EXIT_UNKNOWN;
	run_child(&k);
	if (k.error[0] != '\0') {
		printf("MDNS-DOCTOR UNKNOWN - %s\n", k.error);
		return EXIT_UNKNOWN;
	}
	state = overall(&k, text, sizeof text);
	if (k.textfile != NULL)
		(void)write_textfile(&k, state, text);
	if (k.textfile == NULL || strcmp(ctx->format, "prom") != 0) {
		if (strcmp(ctx->format, "text") == 0) {
			/* The line, then the checks with their evidence. */
			sink = rpt_open("nagios", stdout, &e);
			render(&k, sink, state, text, NAN, 0, 1);
			putchar('\n');
		}
		sink = rpt_open(ctx->format, stdout, &e);
		if (sink == NULL ||
		    render(&k, sink, state, text, NAN,
			strcmp(ctx->format, "prom") == 0,
			strcmp(ctx->format, "text") != 0) != 0)
			state = EXIT_UNKNOWN;
	}
	if (!args_has(args, OPT_NO_STORE))
		store_run(&k, state);
	return state;
}

const struct cmd_entry cmd_check_entry = {
    .name = "check",
    .summary = "cron/monitoring mode: the configured checks, one "
	       "monitoring-plugins line, exit 0/1/2/3",
    .args = {.opts = check_opts,
	.formats = "nagios,text,json,prom",
	.notes = "Thresholds are monitoring-plugins ranges: 10 (alert above "
		 "10 or below 0),\n10: (below 10), ~:10, 10:20, @10:20 "
		 "(inside). Defaults: -w rtt=1000,\nloss=10,age=30,hs=N:,"
		 "good=2:,fresh=86400 -c rtt=3000,loss=50,age=120,\n"
		 "hs=1:,good=1:,fresh=604800 (N: --handshakes). The state is "
		 "the worst\nsub-check's (critical > warning > unknown > "
		 "ok); past --deadline it is\nUNKNOWN. --textfile writes the "
		 "prom format atomically; with --format\nprom nothing goes "
		 "to stdout. docs/check.md has the rules."},
    .run = cmd_check_run,
};
