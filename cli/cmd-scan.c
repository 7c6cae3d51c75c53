/* SPDX-License-Identifier: MIT */
/*
 * cmd-scan.c — `mdns-doctor scan LIST...`: the staged funnel over resolver
 * lists (probe/scan.h). This file only glues: options into scan options,
 * the history store (results stream into it in batches together with the
 * resume cursor), the progress line and the exit code. What a result
 * means is the scan's; the resume policy is probe/scan-resume.h's; the
 * ranking, diagnosis, client_resolvers.txt and counters file are
 * probe/scan-report.h's. At the end the run's results are read back from
 * the store (a resumed run reports everything) and written through the
 * chosen sink, survivors last and best first.
 *
 * Exit codes: 0 survivors found, 1 survivors but a warning (only
 * degraded survivors, interception that can affect a listed resolver, a
 * silent tunnel server, bad list lines), 2 nobody passed, 3
 * usage/config/store errors or an interrupted scan (which still prints
 * the results and counts it has).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/probe-cmd.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/net.h"
#include "common/path.h"
#include "common/profile.h"
#include "common/resolvers.h"
#include "common/result.h"
#include "probe/leak.h"
#include "probe/scan-report.h"
#include "probe/scan-resume.h"
#include "probe/scan-setup.h"
#include "probe/scan.h"
#include "proto/dns.h"
#include "reports/sink.h"
#include "store/store.h"

#define BATCH	 512
#define FLUSH_US 500000

enum {
	OPT_RATE = PROBE_OPT_END,
	OPT_PARALLEL,
	OPT_PACE,
	OPT_SEED,
	OPT_STAGES,
	OPT_BURST,
	OPT_TIMEOUT,
	OPT_TRIES,
	OPT_SERVER,
	OPT_ICPT,
	OPT_RESUME,
	OPT_NO_STORE,
	OPT_WRITE,
	OPT_ALL,
	OPT_HS_PAR,
	OPT_PROGRESS,
	OPT_STATS,
	OPT_LIVE_NAME,
	OPT_LOSS_PROBES,
	OPT_MAX_LOSS,
	OPT_WITH_DEGRADED,
	OPT_WHOAMI,
	OPT_WHOAMI_NAME,
};

/* The stages --stages names, in order (res_stage_from_name knows them). */
#define STAGES "liveness|reach|mtu|handshake|burst"

static const struct args_opt scan_opts[] = {
    CLI_PROBE_OPTS,
    {OPT_STAGES, "stages", STAGES, 0, "last stage (handshake)"},
    {OPT_BURST, "burst", "K", 0, "burst stage with K queries at once"},
    {OPT_RATE, "rate", "QPS", 0,
	"global queries per second (500; 0 = no limit)"},
    {OPT_PARALLEL, "parallel", "N", 0, "resolvers in flight at most (2048)"},
    {OPT_PACE, "pace-ms", "MS", 0, "gap between queries to one resolver (0)"},
    {OPT_HS_PAR, "hs-parallel", "N", 0, "handshakes at once (32)"},
    {OPT_SEED, "seed", "N", 0, "shuffle seed (1)"},
    {OPT_TIMEOUT, "timeout-ms", "MS", 0, "liveness/reach timeout (1500/2000)"},
    {OPT_TRIES, "tries", "N", 0, "liveness/reach attempts (2)"},
    {OPT_SERVER, "server", "ADDR:PORT", 0,
	"check the tunnel server directly first"},
    {OPT_ICPT, "intercept-probe", "A", ARGS_REPEAT,
	"address that cannot be a resolver (repeatable;\n"
	"default 192.0.2.1 198.51.100.1 203.0.113.1; none)"},
    {OPT_RESUME, "resume", NULL, 0,
	"continue the last interrupted identical scan"},
    {OPT_NO_STORE, "no-store", NULL, 0, "keep results in memory only"},
    {OPT_WRITE, "write-resolvers", "F", 0,
	"write survivors as client_resolvers.txt"},
    {OPT_WITH_DEGRADED, "include-degraded", NULL, 0,
	"--write-resolvers lists degraded ones too"},
    {OPT_ALL, "all", NULL, 0, "text: list failed resolvers too"},
    {OPT_PROGRESS, "progress", NULL, 0,
	"progress bar even when stderr is no TTY"},
    {OPT_STATS, "stats", "FILE", 0, "write scan counters as JSON"},
    {OPT_LIVE_NAME, "liveness-name", "N", 0,
	"neutral name for liveness (A query; default:\nNS of the root)"},
    {OPT_LOSS_PROBES, "loss-probes", "N", 0,
	"probes per survivor to measure loss (10)"},
    {OPT_MAX_LOSS, "max-loss", "PCT", 0,
	"loss above which a survivor is degraded (10)"},
    {OPT_WHOAMI, "whoami", NULL, 0,
	"ask whoami names through each live resolver:\n"
	"its egress address (WHOAMI column)"},
    {OPT_WHOAMI_NAME, "whoami-name", "NAME", ARGS_REPEAT,
	"a whoami name (TXT; repeatable, at most 4;\n"
	"implies --whoami; default: leak's public ones)"},
    {0, NULL, NULL, 0, NULL},
};

/* Addresses that cannot be resolvers (RFC 5737 documentation ranges). */
static const char *const default_icpt[] = {
    "192.0.2.1", "198.51.100.1", "203.0.113.1"};

/* The command line as given, before the config file is read. */
struct scan_args {
	struct scan_setup su; /* the shared probe options (probe-cmd.h) */
	char **lists;	      /* LIST operands */
	int nlists;
	int resume, no_store, all, progress, seed_given;
	int with_degraded;
	const char *write_path, *stats_path;
	char whoami[SCAN_WHOAMI_MAX][DNS_NAME_TEXT_MAX]; /* normalised */
};

struct scan_cli {
	struct cli_ctx *ctx;
	struct scan_args a;
	struct scan_opts o;
	const char *fmt;
	struct ev_loop *loop;
	struct scan *scan;
	struct store *db;
	char *dbpath, *tmpdb;
	int64_t run_id;
	struct res_run run;
	int have_prog;
	struct store_progress prog;
	struct scan_skipset skip;
	struct res_resolver *batch;
	size_t nbatch;
	uint64_t last_flush, t0, tick;
	struct rpt_sink *sink;
	struct scan_report *rep;
	int stopped, store_failed, bad_lines, progress;
};

/* ---- options ------------------------------------------------------------ */

/* ADDR[:PORT] given to option opt ("--server") into *out. 0 / -1. */
static int
addr_opt(const struct args *args, const char *opt, const char *text,
    union net_addr *out)
{
	struct err e = {""};

	if (net_addr_parse(text, 53, out, &e) == -1) {
		cli_error(args->cmd, "%s: %s", opt, e.msg);
		return -1;
	}
	return 0;
}

/* --whoami, --whoami-name: the names into a->whoami, o->whoami. 0 / -1. */
static int
whoami_args(const struct args *args, struct scan_args *a, struct scan_opts *o)
{
	const char *v;
	struct err e = {""};
	size_t i;

	for (i = 0; (v = args_value(args, OPT_WHOAMI_NAME, i)) != NULL; i++) {
		if (i == SCAN_WHOAMI_MAX) {
			cli_error(args->cmd, "more than %d --whoami-name",
			    SCAN_WHOAMI_MAX);
			return -1;
		}
		snprintf(a->whoami[i], sizeof a->whoami[i], "%s", v);
		if (strlen(v) >= sizeof a->whoami[i] ||
		    prof_domain_normalize(a->whoami[i], &e) != 0) {
			cli_error(args->cmd, "--whoami-name %s: %s", v,
			    e.msg[0] ? e.msg : "too long");
			return -1;
		}
		o->whoami[o->nwhoami++] = a->whoami[i];
	}
	/* --whoami alone: the public names leak asks by default. */
	if (o->nwhoami == 0 && args_has(args, OPT_WHOAMI))
		o->nwhoami = leak_whoami_defaults(o->whoami, SCAN_WHOAMI_MAX);
	return 0;
}

/* The command line into a and o. 0, or -1 after printing the error. */
static int
scan_args_get(const struct args *args, struct scan_args *a, struct scan_opts *o)
{
	long long rate = -1, parallel = o->parallel, pace = o->pace_ms;
	long long hs_par = o->hs_parallel, seed = -1, burst = o->burst;
	long long timeout = 0, tries = 0, loss_probes = o->loss_probes;
	long long max_loss = -1;
	const char *v;
	size_t i;

	if (cli_probe_args(args, &a->su) != 0 ||
	    args_strtonum(args, OPT_RATE, 0, 1000000, &rate) != 0 ||
	    args_strtonum(args, OPT_PARALLEL, 1, 200000, &parallel) != 0 ||
	    args_strtonum(args, OPT_PACE, 0, 60000, &pace) != 0 ||
	    args_strtonum(args, OPT_HS_PAR, 1, 250, &hs_par) != 0 ||
	    args_strtonum(args, OPT_SEED, 0, INT64_MAX, &seed) != 0 ||
	    args_strtonum(args, OPT_BURST, 0, 1000, &burst) != 0 ||
	    args_strtonum(args, OPT_TIMEOUT, 10, 60000, &timeout) != 0 ||
	    args_strtonum(args, OPT_TRIES, 1, 10, &tries) != 0 ||
	    args_strtonum(args, OPT_LOSS_PROBES, 0, 1000, &loss_probes) != 0 ||
	    args_strtonum(args, OPT_MAX_LOSS, 0, 100, &max_loss) != 0)
		return -1;
	if (rate >= 0)
		o->rate = (double)rate;
	o->parallel = (int)parallel;
	o->pace_ms = (int)pace;
	o->hs_parallel = (int)hs_par;
	if ((a->seed_given = seed >= 0))
		o->seed = (uint64_t)seed;
	o->burst = (int)burst;
	if (timeout > 0)
		o->t_live.timeout_ms = o->t_reach.timeout_ms = (int)timeout;
	if (tries > 0)
		o->t_live.tries = o->t_reach.tries = (int)tries;
	o->loss_probes = (int)loss_probes;
	if (max_loss >= 0)
		o->max_loss_pct = (double)max_loss;
	if ((v = args_get(args, OPT_STAGES)) != NULL)
		(void)res_stage_from_name(v, &o->max_stage); /* one of STAGES */
	if ((v = args_get(args, OPT_SERVER)) != NULL) {
		if (addr_opt(args, "--server", v, &o->server) != 0)
			return -1;
		o->have_server = 1;
	}
	/* Without --intercept-probe: addresses that cannot be resolvers. */
	for (i = 0; !args_has(args, OPT_ICPT) && i < nitems(default_icpt); i++)
		(void)net_addr_parse(
		    default_icpt[i], 53, &o->intercept[o->nintercept++], NULL);
	for (i = 0; (v = args_value(args, OPT_ICPT, i)) != NULL; i++) {
		if (strcmp(v, "none") == 0)
			continue;
		if (o->nintercept == SCAN_MAX_ENV_PROBES) {
			cli_error(args->cmd, "at most %d --intercept-probe",
			    SCAN_MAX_ENV_PROBES);
			return -1;
		}
		if (addr_opt(args, "--intercept-probe", v,
			&o->intercept[o->nintercept]) != 0)
			return -1;
		o->nintercept++;
	}
	a->resume = args_has(args, OPT_RESUME) > 0;
	a->no_store = args_has(args, OPT_NO_STORE) > 0;
	a->all = args_has(args, OPT_ALL) > 0;
	a->progress = args_has(args, OPT_PROGRESS) > 0;
	a->with_degraded = args_has(args, OPT_WITH_DEGRADED) > 0;
	a->write_path = args_get(args, OPT_WRITE);
	a->stats_path = args_get(args, OPT_STATS);
	o->liveness_name = args_get(args, OPT_LIVE_NAME);
	if (whoami_args(args, a, o) != 0)
		return -1;
	a->lists = args->operands;
	a->nlists = args->noperands;
	return 0;
}

/* Config file, then the command line over it; the sink. 0 / -1. */
static int
setup(struct scan_cli *sc)
{
	struct scan_args *a = &sc->a;
	struct err e = {""};

	a->su.config = sc->ctx->config;
	if (scan_setup_apply(&a->su, &sc->o, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		return -1;
	}
	if (a->nlists == 0 && a->su.resolvers_path == NULL) {
		cli_error(&cmd_scan_entry,
		    "no resolver list given (name a LIST, or --config a "
		    "client_config.toml with client_resolvers.txt beside it)");
		return -1;
	}
	/* Never read a file the user did not name without saying so. */
	if (a->nlists == 0 && !sc->ctx->quiet)
		fprintf(stderr,
		    "scan: no LIST given: reading %s (the list next to "
		    "%s)\n",
		    a->su.resolvers_path, sc->ctx->config);
	sc->fmt = sc->ctx->format;
	if ((sc->sink = rpt_open(sc->fmt, stdout, &e)) == NULL) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		return -1;
	}
	rpt_set_width(sc->sink, rpt_term_width(stdout));
	log_set_level(sc->ctx->quiet ? LOG_ERROR :
		sc->ctx->verbose     ? LOG_INFO :
				       LOG_WARN);
	return 0;
}

/* ---- the history store and resume ---------------------------------------- */

/*
 * --no-store: a scratch database in a directory of its own made by
 * mkdtemp (0700, a fresh name): nobody else can plant a file or a
 * symlink for the database or the -wal and -shm files SQLite opens by
 * name beside it. remove_scratch removes all of it.
 */
static char *
scratch_db(void)
{
	const char *td = getenv("TMPDIR");
	char *dir = xasprintf("%s/mdns-scan.XXXXXX", td && *td ? td : "/tmp");
	char *db;

	if (mkdtemp(dir) == NULL) {
		cli_error(&cmd_scan_entry, "cannot create %s: %s", dir,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	db = path_join(dir, "scan.db");
	free(dir);
	return db;
}

/* The history database, or with --no-store a private scratch one. */
static int
open_history(struct scan_cli *sc)
{
	struct err e = {""};

	if (sc->a.no_store) {
		if ((sc->tmpdb = scratch_db()) == NULL)
			return -1;
		sc->dbpath = xstrdup(sc->tmpdb);
	} else if ((sc->dbpath = sc->ctx->db != NULL ?
			   xstrdup(sc->ctx->db) :
			   store_default_path(&e)) == NULL) {
		cli_error(
		    &cmd_scan_entry, "no place for the history: %s", e.msg);
		return -1;
	}
	if ((sc->db = store_open(sc->dbpath, &e)) == NULL) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		return -1;
	}
	return 0;
}

static void
remove_scratch(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char *x;
	size_t i;

	for (i = 0; i < nitems(suffix); i++) {
		x = xasprintf("%s%s", path, suffix[i]);
		unlink(x);
		free(x);
	}
	x = xstrdup(path);
	*strrchr(x, '/') = '\0';
	rmdir(x);
	free(x);
}

static int
cb_read_skip(void *arg, int64_t run_id, const struct res_resolver *r)
{
	(void)run_id;
	scan_skip_add(arg, r);
	return 0;
}

/* Continue the interrupted run with our digest, or begin a new one. */
static int
resume_or_begin(struct scan_cli *sc)
{
	char digest[RES_DIGEST_MAX];
	struct store_run_info info;
	struct err e = {""};
	int found;

	if (sc->a.nlists > 0)
		scan_identity_digest(&sc->o, sc->a.lists, (size_t)sc->a.nlists,
		    sc->a.su.key_fp, digest, sizeof digest);
	else
		scan_identity_digest(&sc->o, &sc->a.su.resolvers_path, 1,
		    sc->a.su.key_fp, digest, sizeof digest);
	res_run_init(&sc->run);
	if (!sc->a.resume) {
		if (store_run_begin(sc->db, "scan", digest, cli_version(),
			&sc->run_id, &e) == -1)
			goto fail;
		snprintf(sc->run.command, sizeof sc->run.command, "scan");
		snprintf(sc->run.args_digest, sizeof sc->run.args_digest, "%s",
		    digest);
		snprintf(sc->run.version, sizeof sc->run.version, "%s",
		    cli_version());
		sc->run.started_ms = now_wall_ms();
		return 0;
	}
	if ((found = store_last_run(sc->db, "scan", digest, &info, &e)) == -1 ||
	    scan_resume_check_run(found == 0, info.status, sc->dbpath, &e) ==
		-1)
		goto fail;
	sc->run_id = info.id;
	if (store_progress_get(sc->db, sc->run_id, &sc->prog, &e) == 0) {
		sc->have_prog = 1;
		if (scan_resume_seed(
			sc->prog.seed, sc->a.seed_given, &sc->o.seed, &e) == -1)
			goto fail;
	}
	if (store_run_results(
		sc->db, sc->run_id, cb_read_skip, &sc->skip, &e) == -1 ||
	    store_run_get(sc->db, sc->run_id, &sc->run, NULL, &e) == -1)
		goto fail;
	if (!sc->ctx->quiet)
		fprintf(stderr,
		    "resuming run %lld at position %llu "
		    "(%zu results stored)\n",
		    (long long)sc->run_id,
		    (unsigned long long)(sc->have_prog ? sc->prog.position : 0),
		    scan_skip_count(&sc->skip));
	return 0;
fail:
	cli_error(&cmd_scan_entry, "%s", e.msg);
	return -1;
}

/* Write the batch and the cursor in one transaction. */
static void
flush(struct scan_cli *sc)
{
	struct store_progress p;
	struct err e;

	sc->last_flush = now_mono_us();
	if (sc->db == NULL || sc->store_failed)
		return;
	p.seed = sc->o.seed;
	p.position = scan_cursor(sc->scan);
	p.total = scan_naddrs(sc->scan) * sc->o.ndomains;
	if (store_add_batch(
		sc->db, sc->run_id, sc->batch, sc->nbatch, &p, &e) == -1) {
		fprintf(stderr, "mdns-doctor: scan: %s\n", e.msg);
		sc->store_failed = 1;
		scan_stop(sc->scan);
		return;
	}
	sc->nbatch = 0;
}

/* ---- scan callbacks and the loop ----------------------------------------- */

static int
cb_skip(void *arg, const union net_addr *a, const char *domain)
{
	struct scan_cli *sc = arg;

	return scan_skip_has(&sc->skip, a, domain);
}

static void
cb_result(void *arg, uint64_t pos, const struct res_resolver *r)
{
	struct scan_cli *sc = arg;

	(void)pos;
	sc->batch[sc->nbatch++] = *r;
	if (sc->nbatch == BATCH)
		flush(sc);
}

static void
cb_check(void *arg, const struct res_check *c)
{
	struct scan_cli *sc = arg;
	struct err e;

	if (!sc->ctx->quiet)
		fprintf(stderr, "env: %s: %s\n", res_verdict_name(c->verdict),
		    c->detail);
	if (sc->db != NULL && store_add_check(sc->db, sc->run_id, c, &e) == -1)
		fprintf(stderr, "mdns-doctor: scan: %s\n", e.msg);
}

static void
cb_done(void *arg)
{
	struct scan_cli *sc = arg;

	ev_stop(sc->loop);
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct scan_cli *sc = arg;

	(void)loop;
	(void)signo;
	sc->stopped = 1;
	scan_stop(sc->scan);
}

static void
progress_line(struct scan_cli *sc, int final)
{
	struct scan_counters c;
	double el = (double)(now_mono_us() - sc->t0) / 1e6, frac, eta;
	char bar[31];
	int i, fill;

	scan_counters(sc->scan, &c);
	frac = c.total ? (double)c.done / (double)c.total : 1;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	eta = frac > 0.001 && c.done > c.skipped ?
	    el * (1 - frac) / ((double)(c.done - c.skipped) / (double)c.total) :
	    0;
	fprintf(stderr,
	    "\r[%s] %5.1f%% %llu/%llu ok %llu inflight %llu "
	    "%.0f q/s ETA %d:%02d ",
	    bar, frac * 100, (unsigned long long)c.done,
	    (unsigned long long)c.total, (unsigned long long)c.passed,
	    (unsigned long long)c.inflight, el > 0 ? (double)c.sent / el : 0,
	    (int)eta / 60, (int)eta % 60);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct scan_cli *sc = arg;

	(void)id;
	if (sc->nbatch > 0 && now_mono_us() - sc->last_flush >= FLUSH_US)
		flush(sc);
	if (sc->progress)
		progress_line(sc, 0);
	sc->tick = ev_timer_add(loop, 200000, on_tick, sc);
}

static void
on_list_error(void *arg, const char *msg)
{
	struct scan_cli *sc = arg;

	sc->bad_lines++;
	fprintf(stderr, "mdns-doctor: scan: %s\n", msg);
}

static void
on_list_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "mdns-doctor: scan: warning: %s\n", msg);
}

/* The scan on its loop with the lists loaded. 0 / -1. */
static int
prepare(struct scan_cli *sc)
{
	struct rl_opts rlo;
	struct err e = {""};
	uint64_t total;
	int i;

	sc->o.on_result = cb_result;
	sc->o.on_check = cb_check;
	sc->o.on_done = cb_done;
	sc->o.skip = cb_skip;
	sc->o.arg = sc;
	if ((sc->loop = ev_loop_new(&e)) == NULL ||
	    (sc->scan = scan_new(sc->loop, &sc->o, &e)) == NULL)
		goto fail;
	memset(&rlo, 0, sizeof rlo);
	rlo.on_error = on_list_error;
	rlo.on_warning = on_list_warning;
	rlo.arg = sc;
	for (i = 0; i < sc->a.nlists; i++)
		if (scan_add_list(sc->scan, sc->a.lists[i], &rlo, &e) == -1)
			goto fail;
	if (sc->a.nlists == 0 &&
	    scan_add_list(sc->scan, sc->a.su.resolvers_path, &rlo, &e) == -1)
		goto fail;
	if (scan_naddrs(sc->scan) == 0) {
		cli_error(&cmd_scan_entry, "no resolver address in the list%s",
		    sc->bad_lines ? " (only bad lines)" : "");
		return -1;
	}
	total = scan_naddrs(sc->scan) * sc->o.ndomains;
	if (sc->have_prog &&
	    scan_resume_check_total(sc->prog.total, total, &e) == -1)
		goto fail;
	return 0;
fail:
	cli_error(&cmd_scan_entry, "%s", e.msg);
	return -1;
}

/* Run to the end (or SIGINT) and commit the last batch. 0 / -1. */
static int
run(struct scan_cli *sc)
{
	struct err e = {""};
	struct res_check mc;

	if (!sc->ctx->quiet)
		fprintf(stderr,
		    "scan: %llu address(es) × %zu domain(s), "
		    "rate %.0f q/s, seed %llu, key %s, method %d\n",
		    (unsigned long long)scan_naddrs(sc->scan), sc->o.ndomains,
		    sc->o.rate, (unsigned long long)sc->o.seed, sc->a.su.key_fp,
		    sc->o.method);
	/* A weak method: said now, kept as a check of the run (once). */
	if (scan_report_method_check(sc->o.method, &mc)) {
		if (!sc->ctx->quiet)
			fprintf(stderr, "scan: %s\n", mc.detail);
		if (!sc->a.resume && sc->db != NULL &&
		    store_add_check(sc->db, sc->run_id, &mc, &e) == -1)
			fprintf(stderr, "mdns-doctor: scan: %s\n", e.msg);
	}
	sc->batch = xcalloc(BATCH, sizeof *sc->batch);
	sc->progress = !sc->ctx->quiet && (sc->a.progress || isatty(2));
	sc->t0 = sc->last_flush = now_mono_us();
	/* Shells start background jobs with SIGINT ignored; an ignored
	 * signal never reaches the signalfd, so take it back. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (ev_signal_add(sc->loop, SIGINT, on_signal, sc, &e) == -1 ||
	    ev_signal_add(sc->loop, SIGTERM, on_signal, sc, &e) == -1 ||
	    scan_start(sc->scan, sc->have_prog ? sc->prog.position : 0, &e) ==
		-1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		return -1;
	}
	sc->tick = ev_timer_add(sc->loop, 200000, on_tick, sc);
	if (ev_run(sc->loop) == -1) {
		cli_error(&cmd_scan_entry, "event loop failed");
		return -1;
	}
	flush(sc);
	if (sc->progress)
		progress_line(sc, 1);
	return 0;
}

/* ---- the end ------------------------------------------------------------ */

static int
cb_read(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct scan_cli *sc = arg;

	(void)run_id;
	/* Failures stream out now (text: only with --all); survivors are
	 * ranked and written last. */
	if (!scan_report_add(sc->rep, r) &&
	    (sc->a.all || strcmp(sc->fmt, "text") != 0))
		rpt_result(sc->sink, r);
	return 0;
}

static int
cb_read_check(void *arg, int64_t run_id, const struct res_check *c)
{
	struct scan_cli *sc = arg;

	(void)run_id;
	rpt_check(sc->sink, c);
	return 0;
}

static const int verdict_code[] = {[RES_VERDICT_OK] = EXIT_OK,
    [RES_VERDICT_WARN] = EXIT_WARNING,
    [RES_VERDICT_FAIL] = EXIT_CRITICAL};

/* The run's verdict once every result is in sc->rep. */
static enum res_verdict
run_verdict(struct scan_cli *sc)
{
	/* Interception only matters when it can touch a listed resolver
	 * (UDP/53, not loopback); the check is reported either way. */
	return scan_report_verdict(sc->rep,
	    (scan_intercepted(sc->scan) && sc->rep->naffected > 0) ||
		scan_server_down(sc->scan) || sc->bad_lines > 0);
}

/*
 * Read the run back, write the sink, the diagnosis and the list; an
 * interrupted run (partial) writes what it has, without the diagnosis
 * and the list, which need every result.
 */
static int
report(struct scan_cli *sc, int partial)
{
	struct err e = {""};
	char *diag = NULL;
	size_t dlen = 0;
	FILE *mf;
	size_t k;

	sc->rep = scan_report_new();
	if (store_run_results(sc->db, sc->run_id, cb_read, sc, &e) == -1)
		goto fail;
	if (strcmp(sc->fmt, "csv") != 0 && strcmp(sc->fmt, "ips") != 0 &&
	    store_run_checks(sc->db, sc->run_id, cb_read_check, sc, &e) == -1)
		goto fail;
	scan_report_rank(sc->rep);
	for (k = 0; k < sc->rep->nok; k++)
		rpt_result(sc->sink, &sc->rep->ok[k]);
	/* The monitoring formats state what the exit code says. */
	diag = xasprintf("scan: %zu of %llu passed (%zu degraded)%s",
	    sc->rep->nok, (unsigned long long)sc->rep->nres, sc->rep->ndegraded,
	    partial ? ", interrupted" : "");
	rpt_status(sc->sink,
	    partial ? EXIT_UNKNOWN : verdict_code[run_verdict(sc)], diag);
	free(diag);
	diag = NULL;
	rpt_summary(sc->sink, &sc->run);
	if (rpt_close(sc->sink, &e) == -1) {
		sc->sink = NULL;
		goto fail;
	}
	sc->sink = NULL;
	if (partial)
		return 0;
	if ((mf = open_memstream(&diag, &dlen)) != NULL) {
		scan_report_diagnose(
		    sc->rep, mf, &sc->run, &sc->o, scan_env_evidence(sc->scan));
		fclose(mf);
		if (strcmp(sc->fmt, "text") == 0)
			rpt_put_folded(
			    stdout, diag, rpt_term_width(stdout), 0, 4);
		else
			rpt_put_folded(
			    stderr, diag, rpt_term_width(stderr), 0, 4);
		free(diag);
	}
	if (sc->a.write_path != NULL &&
	    scan_report_write_resolvers(sc->rep, sc->a.write_path, &sc->o,
		sc->a.with_degraded, "scan", &e) == -1)
		goto fail;
	return 0;
fail:
	cli_error(&cmd_scan_entry, "%s", e.msg);
	return -1;
}

/* The run's end in the store and the exit code. */
static int
finish(struct scan_cli *sc)
{
	enum res_verdict v;
	struct err e = {""};

	scan_stage_stats(sc->scan, &sc->run);
	sc->run.ended_ms = now_wall_ms();
	if (sc->a.stats_path != NULL &&
	    scan_write_stats(sc->scan, sc->a.stats_path,
		(now_mono_us() - sc->t0) / 1000, &e) == -1)
		fprintf(stderr, "mdns-doctor: scan: %s\n", e.msg);
	if (store_run_stats(sc->db, sc->run_id, &sc->run, &e) == -1)
		fprintf(stderr, "mdns-doctor: scan: %s\n", e.msg);
	if (sc->stopped || sc->store_failed) {
		(void)store_run_end(sc->db, sc->run_id, "interrupted", &e);
		/* What is stored so far, and the stage counts. */
		if (!sc->store_failed && report(sc, 1) == 0 && !sc->ctx->quiet)
			fprintf(stderr,
			    "scan: interrupted with %llu result(s): %zu "
			    "passed (%zu degraded)\n",
			    (unsigned long long)sc->rep->nres, sc->rep->nok,
			    sc->rep->ndegraded);
		if (!sc->ctx->quiet && !sc->store_failed)
			fprintf(stderr,
			    "scan interrupted at position %llu; "
			    "continue with the same lists, stages and probe "
			    "options and --resume\n",
			    (unsigned long long)scan_cursor(sc->scan));
		return EXIT_UNKNOWN;
	}
	if (report(sc, 0) == -1)
		return EXIT_UNKNOWN;
	v = run_verdict(sc);
	(void)store_run_end(sc->db, sc->run_id,
	    v == RES_VERDICT_OK	      ? "ok" :
		v == RES_VERDICT_WARN ? "warning" :
					"critical",
	    &e);
	if (!sc->ctx->quiet)
		fprintf(stderr, "scan: %zu of %llu passed (%zu degraded)%s\n",
		    sc->rep->nok, (unsigned long long)sc->rep->nres,
		    sc->rep->ndegraded,
		    sc->bad_lines ? " (the list had bad lines)" : "");
	return verdict_code[v];
}

static void
cleanup(struct scan_cli *sc)
{
	if (sc->sink != NULL)
		rpt_close(sc->sink, NULL);
	scan_free(sc->scan);
	if (sc->loop != NULL)
		ev_loop_free(sc->loop);
	store_close(sc->db);
	scan_skip_free(&sc->skip);
	scan_setup_free(&sc->a.su);
	scan_report_free(sc->rep);
	free(sc->batch);
	if (sc->tmpdb != NULL)
		remove_scratch(sc->tmpdb);
	free(sc->tmpdb);
	free(sc->dbpath);
}

static int
cmd_scan_run(struct cli_ctx *ctx, const struct args *args)
{
	struct scan_cli sc;
	int rc = EXIT_UNKNOWN;

	memset(&sc, 0, sizeof sc);
	sc.ctx = ctx;
	scan_opts_defaults(&sc.o);
	if (scan_args_get(args, &sc.a, &sc.o) == 0 && setup(&sc) == 0 &&
	    open_history(&sc) == 0 && resume_or_begin(&sc) == 0 &&
	    prepare(&sc) == 0 && run(&sc) == 0)
		rc = finish(&sc);
	cleanup(&sc);
	return rc;
}

const struct cmd_entry cmd_scan_entry = {
    .name = "scan",
    .summary = "staged funnel over resolver lists: liveness, reach, MTU, "
	       "handshake",
    .args = {.opts = scan_opts,
	.operands = "[LIST...]",
	.max_operands = -1,
	.formats = "text,json,jsonl,csv,ips,prom,nagios",
	.notes = "\nWithout LIST: the client_resolvers.txt next to --config "
		 "(said on stderr).\n"},
    .run = cmd_scan_run,
};
