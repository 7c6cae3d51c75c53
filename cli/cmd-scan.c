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

#include "cli/cli.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/net.h"
#include "common/path.h"
#include "common/resolvers.h"
#include "common/result.h"
#include "probe/scan-report.h"
#include "probe/scan-resume.h"
#include "probe/scan-setup.h"
#include "probe/scan.h"
#include "reports/sink.h"
#include "store/store.h"

#define BATCH	 512
#define FLUSH_US 500000

enum {
	OPT_DOMAIN = 1,
	OPT_KEY_FILE,
	OPT_METHOD,
	OPT_RATE,
	OPT_PARALLEL,
	OPT_PACE,
	OPT_SEED,
	OPT_STAGES,
	OPT_BURST,
	OPT_TIMEOUT,
	OPT_TRIES,
	OPT_MTU_TIMEOUT,
	OPT_MTU_TRIES,
	OPT_UP,
	OPT_DOWN,
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
};

static const struct option scan_longopts[] = {
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"method", required_argument, NULL, OPT_METHOD},
    {"rate", required_argument, NULL, OPT_RATE},
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"pace-ms", required_argument, NULL, OPT_PACE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"stages", required_argument, NULL, OPT_STAGES},
    {"burst", required_argument, NULL, OPT_BURST},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"tries", required_argument, NULL, OPT_TRIES},
    {"mtu-timeout-ms", required_argument, NULL, OPT_MTU_TIMEOUT},
    {"mtu-tries", required_argument, NULL, OPT_MTU_TRIES},
    {"up-mtu", required_argument, NULL, OPT_UP},
    {"down-mtu", required_argument, NULL, OPT_DOWN},
    {"server", required_argument, NULL, OPT_SERVER},
    {"intercept-probe", required_argument, NULL, OPT_ICPT},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"no-store", no_argument, NULL, OPT_NO_STORE},
    {"write-resolvers", required_argument, NULL, OPT_WRITE},
    {"all", no_argument, NULL, OPT_ALL},
    {"hs-parallel", required_argument, NULL, OPT_HS_PAR},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"stats", required_argument, NULL, OPT_STATS},
    {"liveness-name", required_argument, NULL, OPT_LIVE_NAME},
    {"loss-probes", required_argument, NULL, OPT_LOSS_PROBES},
    {"max-loss", required_argument, NULL, OPT_MAX_LOSS},
    {"include-degraded", no_argument, NULL, OPT_WITH_DEGRADED},
    {NULL, 0, NULL, 0}};

/* Addresses that cannot be resolvers (RFC 5737 documentation ranges). */
static const char *const default_icpt[] = {
    "192.0.2.1", "198.51.100.1", "203.0.113.1"};

/* The command line as given, before the config file is read. */
struct scan_args {
	struct scan_setup su; /* --domain, --key-file, --method */
	int resume, no_store, all, progress, seed_given, icpt_given;
	int with_degraded;
	const char *write_path, *stats_path;
	/* Values the config also sets: applied after scan_setup_apply. */
	int up, down, mtu_to, mtu_tries;
	int umin, umax, dmin, dmax;
	long long mto, mtr;
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

static int
parse_num(
    const char *opt, const char *s, long long lo, long long hi, long long *out)
{
	struct err e;

	if (parse_int(s, lo, hi, out, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s: %s", opt, e.msg);
		return -1;
	}
	return 0;
}

/* Parse argv into a and o. Returns 0, 1 after --help, -1 on a bad value. */
static int
scan_getopt(struct cli_ctx *ctx, int argc, char **argv, struct scan_args *a,
    struct scan_opts *o)
{
	struct err e = {""};
	long long v;
	int c;

	while ((c = cli_getopt(ctx, &cmd_scan_entry, argc, argv, "",
		    scan_longopts)) != -1) {
		switch (c) {
		case OPT_DOMAIN:
			if (a->su.ndomains == SCAN_MAX_DOMAINS) {
				cli_error(&cmd_scan_entry, "at most %d domains",
				    SCAN_MAX_DOMAINS);
				return -1;
			}
			a->su.domains[a->su.ndomains++] = optarg;
			break;
		case OPT_KEY_FILE:
			a->su.key_file = optarg;
			break;
		case OPT_METHOD:
			if (parse_num("--method", optarg, 0, 5, &v) == -1)
				return -1;
			a->su.method = (int)v;
			break;
		case OPT_RATE:
			if (parse_num("--rate", optarg, 0, 1000000, &v) == -1)
				return -1;
			o->rate = (double)v;
			break;
		case OPT_PARALLEL:
			if (parse_num("--parallel", optarg, 1, 200000, &v) ==
			    -1)
				return -1;
			o->parallel = (int)v;
			break;
		case OPT_PACE:
			if (parse_num("--pace-ms", optarg, 0, 60000, &v) == -1)
				return -1;
			o->pace_ms = (int)v;
			break;
		case OPT_HS_PAR:
			if (parse_num("--hs-parallel", optarg, 1, 250, &v) ==
			    -1)
				return -1;
			o->hs_parallel = (int)v;
			break;
		case OPT_SEED:
			if (parse_num("--seed", optarg, 0, INT64_MAX, &v) == -1)
				return -1;
			o->seed = (uint64_t)v;
			a->seed_given = 1;
			break;
		case OPT_STAGES:
			if (scan_stage_parse(optarg, &o->max_stage, &e) == -1) {
				cli_error(
				    &cmd_scan_entry, "--stages: %s", e.msg);
				return -1;
			}
			break;
		case OPT_BURST:
			if (parse_num("--burst", optarg, 0, 1000, &v) == -1)
				return -1;
			o->burst = (int)v;
			break;
		case OPT_TIMEOUT:
			if (parse_num("--timeout-ms", optarg, 10, 60000, &v) ==
			    -1)
				return -1;
			o->t_live.timeout_ms = o->t_reach.timeout_ms = (int)v;
			break;
		case OPT_TRIES:
			if (parse_num("--tries", optarg, 1, 10, &v) == -1)
				return -1;
			o->t_live.tries = o->t_reach.tries = (int)v;
			break;
		case OPT_MTU_TIMEOUT:
			if (parse_num("--mtu-timeout-ms", optarg, 10, 60000,
				&a->mto) == -1)
				return -1;
			a->mtu_to = 1;
			break;
		case OPT_MTU_TRIES:
			if (parse_num("--mtu-tries", optarg, 1, 10, &a->mtr) ==
			    -1)
				return -1;
			a->mtu_tries = 1;
			break;
		case OPT_UP:
			if (scan_parse_range(
				optarg, 5, 512, &a->umin, &a->umax, &e) == -1) {
				cli_error(
				    &cmd_scan_entry, "--up-mtu: %s", e.msg);
				return -1;
			}
			a->up = 1;
			break;
		case OPT_DOWN:
			if (scan_parse_range(optarg, 20, 4096, &a->dmin,
				&a->dmax, &e) == -1) {
				cli_error(
				    &cmd_scan_entry, "--down-mtu: %s", e.msg);
				return -1;
			}
			a->down = 1;
			break;
		case OPT_SERVER:
			if (net_addr_parse(optarg, 53, &o->server, &e) == -1) {
				cli_error(
				    &cmd_scan_entry, "--server: %s", e.msg);
				return -1;
			}
			o->have_server = 1;
			break;
		case OPT_ICPT:
			a->icpt_given = 1;
			if (strcmp(optarg, "none") == 0)
				break;
			if (o->nintercept == SCAN_MAX_ENV_PROBES) {
				cli_error(&cmd_scan_entry,
				    "at most %d --intercept-probe",
				    SCAN_MAX_ENV_PROBES);
				return -1;
			}
			if (net_addr_parse(optarg, 53,
				&o->intercept[o->nintercept], &e) == -1) {
				cli_error(&cmd_scan_entry,
				    "--intercept-probe: %s", e.msg);
				return -1;
			}
			o->nintercept++;
			break;
		case OPT_RESUME:
			a->resume = 1;
			break;
		case OPT_NO_STORE:
			a->no_store = 1;
			break;
		case OPT_WRITE:
			a->write_path = optarg;
			break;
		case OPT_ALL:
			a->all = 1;
			break;
		case OPT_PROGRESS:
			a->progress = 1;
			break;
		case OPT_STATS:
			a->stats_path = optarg;
			break;
		case OPT_LIVE_NAME:
			o->liveness_name = optarg;
			break;
		case OPT_LOSS_PROBES:
			if (parse_num("--loss-probes", optarg, 0, 1000, &v) ==
			    -1)
				return -1;
			o->loss_probes = (int)v;
			break;
		case OPT_MAX_LOSS:
			if (parse_num("--max-loss", optarg, 0, 100, &v) == -1)
				return -1;
			o->max_loss_pct = (double)v;
			break;
		case OPT_WITH_DEGRADED:
			a->with_degraded = 1;
			break;
		case 'H':
			return 1;
		default:
			return -1;
		}
	}
	return 0;
}

/* Config file, then the command line over it; the sink. 0 / -1. */
static int
setup(struct scan_cli *sc, int argc)
{
	struct scan_args *a = &sc->a;
	struct err e = {""};
	size_t k;

	if (!a->icpt_given)
		for (k = 0; k < nitems(default_icpt); k++)
			(void)net_addr_parse(default_icpt[k], 53,
			    &sc->o.intercept[sc->o.nintercept++], NULL);
	a->su.config = sc->ctx->config;
	if (scan_setup_apply(&a->su, &sc->o, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		return -1;
	}
	if (a->up) {
		sc->o.min_up = a->umin;
		sc->o.max_up = a->umax;
	}
	if (a->down) {
		sc->o.min_down = a->dmin;
		sc->o.max_down = a->dmax;
	}
	if (a->mtu_to)
		sc->o.t_mtu.timeout_ms = (int)a->mto;
	if (a->mtu_tries)
		sc->o.t_mtu.tries = (int)a->mtr;
	if (optind >= argc && a->su.resolvers_path == NULL) {
		cli_error(&cmd_scan_entry,
		    "no resolver list given (name a LIST, or --config a "
		    "client_config.toml with client_resolvers.txt beside it)");
		return -1;
	}
	/* Never read a file the user did not name without saying so. */
	if (optind >= argc && !sc->ctx->quiet)
		fprintf(stderr,
		    "scan: no LIST given: reading %s (the list next to "
		    "%s)\n",
		    a->su.resolvers_path, sc->ctx->config);
	sc->fmt = sc->ctx->format != NULL ? sc->ctx->format : "text";
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

/* $XDG_STATE_HOME/mdns-doctor/history.db and its fallbacks (path.h). */
static char *
default_db_path(struct err *e)
{
	char *dir = path_state_dir(e), *p;

	if (dir == NULL)
		return NULL;
	p = path_join(dir, "history.db");
	free(dir);
	return p;
}

/* The history database, or with --no-store a private scratch one. */
static int
open_history(struct scan_cli *sc)
{
	struct err e = {""};
	const char *td;
	int fd;

	if (sc->a.no_store) {
		td = getenv("TMPDIR");
		sc->tmpdb =
		    xasprintf("%s/mdns-scan.XXXXXX", td && *td ? td : "/tmp");
		if ((fd = mkstemp(sc->tmpdb)) == -1) {
			cli_error(&cmd_scan_entry, "cannot create %s: %s",
			    sc->tmpdb, strerror(errno));
			return -1;
		}
		close(fd);
		unlink(sc->tmpdb);
		sc->dbpath = xstrdup(sc->tmpdb);
	} else if ((sc->dbpath = sc->ctx->db != NULL ?
			   xstrdup(sc->ctx->db) :
			   default_db_path(&e)) == NULL) {
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
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char *x;
	size_t i;

	for (i = 0; i < nitems(suffix); i++) {
		x = xasprintf("%s%s", path, suffix[i]);
		unlink(x);
		free(x);
	}
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
resume_or_begin(struct scan_cli *sc, int argc, char **argv)
{
	char digest[RES_DIGEST_MAX];
	struct store_run_info info;
	struct err e = {""};
	int found;

	if (optind < argc)
		scan_identity_digest(&sc->o, argv + optind,
		    (size_t)(argc - optind), sc->a.su.key_fp, digest,
		    sizeof digest);
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
		    sc->skip.n);
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
prepare(struct scan_cli *sc, int argc, char **argv)
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
	for (i = optind; i < argc; i++)
		if (scan_add_list(sc->scan, argv[i], &rlo, &e) == -1)
			goto fail;
	if (optind >= argc &&
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

	if (!sc->ctx->quiet)
		fprintf(stderr,
		    "scan: %llu address(es) × %zu domain(s), "
		    "rate %.0f q/s, seed %llu, key %s, method %d\n",
		    (unsigned long long)scan_naddrs(sc->scan), sc->o.ndomains,
		    sc->o.rate, (unsigned long long)sc->o.seed, sc->a.su.key_fp,
		    sc->o.method);
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

/*
 * Write text to f folded at blanks into width columns (0: as it is),
 * continuation lines indented by four: the diagnosis is prose, and
 * folding cuts nothing (an address stays whole on its line).
 */
static void
put_folded(FILE *f, const char *text, int width)
{
	const char *p = text, *line, *end, *brk;
	size_t cols, indent = 0;

	while (*p != '\0') {
		line = p;
		if ((end = strchr(p, '\n')) == NULL)
			end = p + strlen(p);
		cols = indent;
		brk = NULL;
		for (; p < end; p++) {
			if (((unsigned char)*p & 0xc0) != 0x80)
				cols++;
			if (*p == ' ' && p > line)
				brk = p;
			if (width > 0 && cols > (size_t)width && brk != NULL)
				break;
		}
		if (p < end) {
			/* Fold at the last blank; go on four columns in. */
			fprintf(f, "%.*s\n    ", (int)(brk - line), line);
			for (p = brk + 1; *p == ' '; p++)
				;
			indent = 4;
			continue;
		}
		fprintf(f, "%.*s%s", (int)(end - line), line, *end ? "\n" : "");
		p = *end ? end + 1 : end;
		indent = 0;
	}
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
			put_folded(stdout, diag, rpt_term_width(stdout));
		else
			put_folded(stderr, diag, rpt_term_width(stderr));
		free(diag);
	}
	if (sc->a.write_path != NULL &&
	    scan_report_write_resolvers(sc->rep, sc->a.write_path, &sc->o,
		sc->a.with_degraded, &e) == -1)
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
	static const int code[] = {[RES_VERDICT_OK] = EXIT_OK,
	    [RES_VERDICT_WARN] = EXIT_WARNING,
	    [RES_VERDICT_FAIL] = EXIT_CRITICAL};
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
	/* Interception only matters when it can touch a listed resolver
	 * (UDP/53, not loopback); the check is reported either way. */
	v = scan_report_verdict(sc->rep,
	    (scan_intercepted(sc->scan) && sc->rep->naffected > 0) ||
		scan_server_down(sc->scan) || sc->bad_lines > 0);
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
	return code[v];
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
cmd_scan_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct scan_cli sc;
	int rc = EXIT_UNKNOWN;

	memset(&sc, 0, sizeof sc);
	sc.ctx = ctx;
	sc.a.su.method = -1;
	scan_opts_defaults(&sc.o);
	switch (scan_getopt(ctx, argc, argv, &sc.a, &sc.o)) {
	case 1:
		return EXIT_OK;
	case -1:
		return EXIT_UNKNOWN;
	}
	if (setup(&sc, argc) == 0 && open_history(&sc) == 0 &&
	    resume_or_begin(&sc, argc, argv) == 0 &&
	    prepare(&sc, argc, argv) == 0 && run(&sc) == 0)
		rc = finish(&sc);
	cleanup(&sc);
	return rc;
}

const struct cmd_entry cmd_scan_entry = {
    .name = "scan",
    .usage = "scan [options] LIST...",
    .summary = "staged funnel over resolver lists: liveness, reach, MTU, "
	       "handshake",
    .options =
	"  --domain D           tunnel domain (repeatable; else --config)\n"
	"  --key-file F         encryption key file (else the config's)\n"
	"  --method N           DATA_ENCRYPTION_METHOD 0..5\n"
	"  --stages S           last stage: liveness reach mtu handshake "
	"burst\n"
	"  --burst K            burst stage with K queries at once\n"
	"  --rate QPS           global queries per second (500; 0 = no "
	"limit)\n"
	"  --parallel N         resolvers in flight at most (2048)\n"
	"  --pace-ms MS         gap between queries to one resolver (0)\n"
	"  --hs-parallel N      handshakes at once (32)\n"
	"  --seed N             shuffle seed (1)\n"
	"  --timeout-ms MS      liveness/reach timeout (1500/2000)\n"
	"  --tries N            liveness/reach attempts (2)\n"
	"  --mtu-timeout-ms MS  MTU probe timeout (config, 2000)\n"
	"  --mtu-tries N        MTU probe attempts (config, 2)\n"
	"  --up-mtu MIN:MAX     upload MTU search range (config, 38:150)\n"
	"  --down-mtu MIN:MAX   download range (config, 100:500)\n"
	"  --server ADDR:PORT   check the tunnel server directly first\n"
	"  --intercept-probe A  address that cannot be a resolver "
	"(repeatable;\n"
	"                       default 192.0.2.1 198.51.100.1 "
	"203.0.113.1; none)\n"
	"  --resume             continue the last interrupted identical "
	"scan\n"
	"  --no-store           keep results in memory only\n"
	"  --write-resolvers F  write survivors as client_resolvers.txt\n"
	"  --all                text: list failed resolvers too\n"
	"  --progress           progress bar even when stderr is no TTY\n"
	"  --stats FILE         write scan counters as JSON\n"
	"  --liveness-name N    neutral name for liveness (A query; "
	"default:\n"
	"                       NS of the root)\n"
	"  --loss-probes N      probes per survivor to measure loss (10)\n"
	"  --max-loss PCT       loss above which a survivor is degraded "
	"(10)\n"
	"  --include-degraded   --write-resolvers lists degraded ones "
	"too\n",
    .exec = cmd_scan_exec,
};
