/*
 * cmd-scan.c — `mdns-doctor scan LIST...`: the staged funnel over resolver
 * lists (probe/scan.h). Results stream into the history store in batches
 * together with the resume cursor; at the end they are read back from the
 * store and written through the chosen sink (survivors first, ranked by
 * MTU and RTT), with a diagnosis when a stage passed nobody and an
 * optional client_resolvers.txt.
 *
 * Exit codes: 0 survivors found, 1 survivors but a warning (interception,
 * a silent tunnel server, bad list lines), 2 nobody passed, 3 usage/config/store errors or an
 * interrupted scan.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/net.h"
#include "common/path.h"
#include "common/resolvers.h"
#include "common/result.h"
#include "probe/scan.h"
#include "probe/scan-setup.h"
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
    {NULL, 0, NULL, 0}};

/* Addresses that cannot be resolvers (RFC 5737 documentation ranges). */
static const char *const default_icpt[] = {
    "192.0.2.1", "198.51.100.1", "203.0.113.1"};

/* Skip set for --resume: results already stored, by address+port+domain. */
struct skipset {
	char **keys;
	size_t n, cap; /* open addressing, cap power of two */
};

/* Per (stage, reason): count and one example. */
struct diag {
	uint32_t n[RES_STAGE_COUNT][RES_R_COUNT];
	char ex[RES_STAGE_COUNT][RES_R_COUNT][160];
};

struct scan_cli {
	struct cli_ctx *ctx;
	struct ev_loop *loop;
	struct scan *scan;
	struct scan_opts o;
	struct store *db;
	int64_t run_id;
	struct res_resolver *batch;
	size_t nbatch;
	uint64_t last_flush;
	struct skipset skip;
	struct rpt_sink *sink;
	int stopped, store_failed, bad_lines, progress;
	uint64_t t0;
	struct err err;
	uint64_t tick;
};

static uint64_t
fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static char *
skip_key(const char *addr, unsigned port, const char *domain)
{
	return xasprintf("%s|%u|%s", addr, port, domain);
}

static void
skip_add(struct skipset *k, char *key)
{
	size_t i, j;

	if (2 * (k->n + 1) > k->cap) {
		struct skipset nk = {NULL, 0, k->cap ? k->cap * 2 : 1024};

		nk.keys = xcalloc(nk.cap, sizeof *nk.keys);
		for (j = 0; j < k->cap; j++)
			if (k->keys[j] != NULL) {
				i = fnv(k->keys[j]) & (nk.cap - 1);
				while (nk.keys[i] != NULL)
					i = (i + 1) & (nk.cap - 1);
				nk.keys[i] = k->keys[j];
				nk.n++;
			}
		free(k->keys);
		*k = nk;
	}
	i = fnv(key) & (k->cap - 1);
	while (k->keys[i] != NULL) {
		if (strcmp(k->keys[i], key) == 0) {
			free(key);
			return;
		}
		i = (i + 1) & (k->cap - 1);
	}
	k->keys[i] = key;
	k->n++;
}

static int
skip_has(const struct skipset *k, const char *key)
{
	size_t i;

	if (k->cap == 0)
		return 0;
	i = fnv(key) & (k->cap - 1);
	while (k->keys[i] != NULL) {
		if (strcmp(k->keys[i], key) == 0)
			return 1;
		i = (i + 1) & (k->cap - 1);
	}
	return 0;
}

static void
skip_free(struct skipset *k)
{
	size_t i;

	for (i = 0; i < k->cap; i++)
		free(k->keys[i]);
	free(k->keys);
}

static int
cb_skip(void *arg, const union net_addr *a, const char *domain)
{
	struct scan_cli *sc = arg;
	char ip[NET_ADDR_STRLEN], *key;
	int r;

	if (sc->skip.n == 0)
		return 0;
	net_addr_format_ip(a, ip, sizeof ip);
	key = skip_key(ip, net_addr_port(a), domain);
	r = skip_has(&sc->skip, key);
	free(key);
	return r;
}

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

/* ---- reading results back ----------------------------------------------- */

struct readback {
	struct scan_cli *sc;
	struct res_resolver *ok;
	size_t nok, okcap;
	struct diag *d;
	int all;
	uint64_t nres;
};

static int
cb_read(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct readback *rb = arg;
	int st = r->stage, rs = r->reason;

	(void)run_id;
	rb->nres++;
	if (r->verdict == RES_VERDICT_OK) {
		if (rb->nok == rb->okcap) {
			rb->okcap = rb->okcap ? rb->okcap * 2 : 64;
			rb->ok =
			    xreallocarray(rb->ok, rb->okcap, sizeof *rb->ok);
		}
		rb->ok[rb->nok++] = *r;
		return 0;
	}
	if (st >= 0 && st < RES_STAGE_COUNT && rs >= 0 && rs < RES_R_COUNT) {
		if (rb->d->n[st][rs]++ == 0)
			res_textf(rb->d->ex[st][rs], sizeof rb->d->ex[st][rs],
			    "%s: %s", r->addr, r->evidence);
	}
	if (rb->all && rb->sc->sink != NULL)
		rpt_result(rb->sc->sink, r);
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

static int
cb_read_skip(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct skipset *k = arg;

	(void)run_id;
	skip_add(k, skip_key(r->addr, r->port, r->domain));
	return 0;
}

static int
rank_cmp(const void *a, const void *b)
{
	const struct res_resolver *x = a, *y = b;
	int mx = MIN(x->upload_mtu, x->download_mtu >> 2);
	int my = MIN(y->upload_mtu, y->download_mtu >> 2);

	if (x->upload_mtu != y->upload_mtu)
		return y->upload_mtu - x->upload_mtu;
	if (x->download_mtu != y->download_mtu)
		return y->download_mtu - x->download_mtu;
	(void)mx;
	(void)my;
	if (x->rtt_us != y->rtt_us)
		return x->rtt_us < y->rtt_us ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

/* The first stage that passed nobody, with the reasons and evidence. */
static void
diagnose(FILE *f, const struct res_run *run, const struct diag *d,
    const struct scan_opts *o, const char *env, int have_key)
{
	static const char *const what[RES_STAGE_COUNT] = {
	    [RES_STAGE_LIVENESS] =
		"no address answered a neutral query "
		"at all: wrong list, wrong port, or the path drops DNS",
	    [RES_STAGE_REACH] =
		"resolvers answer neutral names but none "
		"reaches the tunnel server: the delegation or the "
		"server is down, or every resolver rewrites answers",
	    [RES_STAGE_MTU] = "the tunnel server is reached but no MTU "
			      "probe passed",
	    [RES_STAGE_HANDSHAKE] = "MTU probes pass but no session could "
				    "be opened",
	    [RES_STAGE_BURST] = "sessions open but no resolver sustains "
				"the burst",
	};
	int st, r, best;

	for (st = RES_STAGE_LIVENESS; st < RES_STAGE_COUNT; st++) {
		if (run->stages[st].tested == 0 || run->stages[st].passed > 0)
			continue;
		fprintf(f, "\ndiagnosis: stage %s passed nobody (%u tested): ",
		    res_stage_name((enum res_stage)st), run->stages[st].tested);
		fputs(what[st], f);
		if (st == RES_STAGE_REACH)
			fprintf(f, " (domain %s)", o->domains[0]);
		fputc('\n', f);
		best = -1;
		for (r = 0; r < RES_R_COUNT; r++) {
			if (d->n[st][r] == 0)
				continue;
			if (best < 0 || d->n[st][r] > d->n[st][best])
				best = r;
			fprintf(f, "  %u × %s (%s), e.g. %s\n", d->n[st][r],
			    res_reason_name((enum res_reason)r),
			    res_reason_text((enum res_reason)r), d->ex[st][r]);
		}
		if (st == RES_STAGE_MTU && best == RES_R_KEY_OR_METHOD)
			fprintf(f,
			    "  the server answers our probes with "
			    "NODATA: it cannot decrypt them. Check "
			    "DATA_ENCRYPTION_METHOD (%d) and the key.\n",
			    o->method);
		if (st == RES_STAGE_REACH)
			fprintf(f, "  direct query to the server: %s\n",
			    o->have_server ? env :
					     "not tested (give "
					     "--server ADDR:PORT)");
		break;
	}
	if (!have_key)
		fprintf(f,
		    "\nnote: no key given, MTU and handshake stages "
		    "were not run (--key-file or --config)\n");
}

static int
write_resolvers(
    const char *path, struct res_resolver *ok, size_t n, struct err *e)
{
	FILE *f;
	size_t i;
	int minu = 0, maxu = 0, mind = 0, maxd = 0;
	char buf[RES_ADDR_MAX + 16];

	for (i = 0; i < n; i++) {
		if (ok[i].upload_mtu > 0) {
			minu = minu == 0 ? ok[i].upload_mtu :
					   MIN(minu, ok[i].upload_mtu);
			maxu = MAX(maxu, ok[i].upload_mtu);
		}
		if (ok[i].download_mtu > 0) {
			mind = mind == 0 ? ok[i].download_mtu :
					   MIN(mind, ok[i].download_mtu);
			maxd = MAX(maxd, ok[i].download_mtu);
		}
	}
	if ((f = fopen(path, "w")) == NULL)
		return err_set(e, "cannot write %s: %s", path, strerror(errno));
	fprintf(f,
	    "# client_resolvers.txt written by mdns-doctor scan: "
	    "%zu resolver(s), best first\n",
	    n);
	if (minu > 0)
		fprintf(f,
		    "# recommended client_config.toml values that keep "
		    "every resolver below:\n# MIN_UPLOAD_MTU = %d\n"
		    "# MAX_UPLOAD_MTU = %d\n# MIN_DOWNLOAD_MTU = %d\n"
		    "# MAX_DOWNLOAD_MTU = %d\n",
		    minu, maxu, mind, maxd);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(ok[i].addr, ok[i - 1].addr) == 0 &&
		    ok[i].port == ok[i - 1].port)
			continue;
		rpt_resolver_text(ok[i].addr, ok[i].port, buf, sizeof buf);
		fprintf(f, "%s\n", buf);
	}
	if (fclose(f) != 0)
		return err_set(e, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* argv without --resume, for the digest that identifies "the same scan". */
static void
digest_args(int argc, char **argv, char *out, size_t len)
{
	char **v = xcalloc((size_t)argc + 1, sizeof *v);
	int i, n = 0;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--resume") != 0)
			v[n++] = argv[i];
	res_args_digest(n, v, out, len);
	free(v);
}

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

static int
cmd_scan_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct scan_cli sc;
	struct scan_setup su;
	struct rl_opts rlo;
	struct res_run run;
	struct store_run_info info;
	struct store_progress prog;
	struct readback rb;
	struct diag *dg = NULL;
	struct err e = {""};
	const char *fmt, *write_path = NULL, *stats_path = NULL;
	char digest[RES_DIGEST_MAX], *dbpath = NULL, *tmpdb = NULL;
	uint64_t start_pos = 0;
	long long v;
	int c, i, rc = EXIT_UNKNOWN, resume = 0, no_store = 0, all = 0;
	int seed_given = 0, icpt_given = 0, force_progress = 0, have_prog = 0;
	size_t k;

	memset(&sc, 0, sizeof sc);
	memset(&su, 0, sizeof su);
	memset(&rb, 0, sizeof rb);
	sc.ctx = ctx;
	su.method = -1;
	scan_opts_defaults(&sc.o);
	/* First pass for values that the config may override: remembered,
	 * applied after scan_setup_apply. */
	struct {
		int up, down, mtu_to, mtu_tries;
		int umin, umax, dmin, dmax;
		long long mto, mtr;
	} ov = {0};

	while ((c = cli_getopt(ctx, &cmd_scan_entry, argc, argv, "",
		    scan_longopts)) != -1) {
		switch (c) {
		case OPT_DOMAIN:
			if (su.ndomains == SCAN_MAX_DOMAINS) {
				cli_error(&cmd_scan_entry, "at most %d domains",
				    SCAN_MAX_DOMAINS);
				goto out;
			}
			su.domains[su.ndomains++] = optarg;
			break;
		case OPT_KEY_FILE:
			su.key_file = optarg;
			break;
		case OPT_METHOD:
			if (parse_num("--method", optarg, 0, 5, &v) == -1)
				goto out;
			su.method = (int)v;
			break;
		case OPT_RATE:
			if (parse_num("--rate", optarg, 0, 1000000, &v) == -1)
				goto out;
			sc.o.rate = (double)v;
			break;
		case OPT_PARALLEL:
			if (parse_num("--parallel", optarg, 1, 200000, &v) ==
			    -1)
				goto out;
			sc.o.parallel = (int)v;
			break;
		case OPT_PACE:
			if (parse_num("--pace-ms", optarg, 0, 60000, &v) == -1)
				goto out;
			sc.o.pace_ms = (int)v;
			break;
		case OPT_HS_PAR:
			if (parse_num("--hs-parallel", optarg, 1, 250, &v) ==
			    -1)
				goto out;
			sc.o.hs_parallel = (int)v;
			break;
		case OPT_SEED:
			if (parse_num("--seed", optarg, 0, INT64_MAX, &v) == -1)
				goto out;
			sc.o.seed = (uint64_t)v;
			seed_given = 1;
			break;
		case OPT_STAGES:
			if (scan_stage_parse(optarg, &sc.o.max_stage, &e) ==
			    -1) {
				cli_error(
				    &cmd_scan_entry, "--stages: %s", e.msg);
				goto out;
			}
			break;
		case OPT_BURST:
			if (parse_num("--burst", optarg, 0, 1000, &v) == -1)
				goto out;
			sc.o.burst = (int)v;
			break;
		case OPT_TIMEOUT:
			if (parse_num("--timeout-ms", optarg, 10, 60000, &v) ==
			    -1)
				goto out;
			sc.o.t_live.timeout_ms = sc.o.t_reach.timeout_ms =
			    (int)v;
			break;
		case OPT_TRIES:
			if (parse_num("--tries", optarg, 1, 10, &v) == -1)
				goto out;
			sc.o.t_live.tries = sc.o.t_reach.tries = (int)v;
			break;
		case OPT_MTU_TIMEOUT:
			if (parse_num("--mtu-timeout-ms", optarg, 10, 60000,
				&ov.mto) == -1)
				goto out;
			ov.mtu_to = 1;
			break;
		case OPT_MTU_TRIES:
			if (parse_num("--mtu-tries", optarg, 1, 10, &ov.mtr) ==
			    -1)
				goto out;
			ov.mtu_tries = 1;
			break;
		case OPT_UP:
			if (scan_parse_range(
				optarg, 5, 512, &ov.umin, &ov.umax, &e) == -1) {
				cli_error(
				    &cmd_scan_entry, "--up-mtu: %s", e.msg);
				goto out;
			}
			ov.up = 1;
			break;
		case OPT_DOWN:
			if (scan_parse_range(optarg, 20, 4096, &ov.dmin,
				&ov.dmax, &e) == -1) {
				cli_error(
				    &cmd_scan_entry, "--down-mtu: %s", e.msg);
				goto out;
			}
			ov.down = 1;
			break;
		case OPT_SERVER:
			if (net_addr_parse(optarg, 53, &sc.o.server, &e) ==
			    -1) {
				cli_error(
				    &cmd_scan_entry, "--server: %s", e.msg);
				goto out;
			}
			sc.o.have_server = 1;
			break;
		case OPT_ICPT:
			icpt_given = 1;
			if (strcmp(optarg, "none") == 0)
				break;
			if (sc.o.nintercept == SCAN_MAX_ENV_PROBES) {
				cli_error(&cmd_scan_entry,
				    "at most %d "
				    "--intercept-probe",
				    SCAN_MAX_ENV_PROBES);
				goto out;
			}
			if (net_addr_parse(optarg, 53,
				&sc.o.intercept[sc.o.nintercept], &e) == -1) {
				cli_error(&cmd_scan_entry,
				    "--intercept-probe: "
				    "%s",
				    e.msg);
				goto out;
			}
			sc.o.nintercept++;
			break;
		case OPT_RESUME:
			resume = 1;
			break;
		case OPT_NO_STORE:
			no_store = 1;
			break;
		case OPT_WRITE:
			write_path = optarg;
			break;
		case OPT_ALL:
			all = 1;
			break;
		case OPT_PROGRESS:
			force_progress = 1;
			break;
		case OPT_STATS:
			stats_path = optarg;
			break;
		case OPT_LIVE_NAME:
			sc.o.liveness_name = optarg;
			break;
		case 'H':
			rc = EXIT_OK;
			goto out;
		default:
			goto out;
		}
	}
	if (!icpt_given)
		for (k = 0; k < nitems(default_icpt); k++)
			(void)net_addr_parse(default_icpt[k], 53,
			    &sc.o.intercept[sc.o.nintercept++], NULL);
	su.config = ctx->config;
	if (scan_setup_apply(&su, &sc.o, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	if (ov.up) {
		sc.o.min_up = ov.umin;
		sc.o.max_up = ov.umax;
	}
	if (ov.down) {
		sc.o.min_down = ov.dmin;
		sc.o.max_down = ov.dmax;
	}
	if (ov.mtu_to)
		sc.o.t_mtu.timeout_ms = (int)ov.mto;
	if (ov.mtu_tries)
		sc.o.t_mtu.tries = (int)ov.mtr;
	if (optind >= argc && su.resolvers_path == NULL) {
		cli_error(&cmd_scan_entry, "no resolver list given");
		goto out;
	}
	fmt = ctx->format != NULL ? ctx->format : "text";
	if ((sc.sink = rpt_open(fmt, stdout, &e)) == NULL) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	log_set_level(ctx->quiet ? LOG_ERROR :
		ctx->verbose	 ? LOG_INFO :
				   LOG_WARN);

	/* Store and resume. */
	digest_args(argc, argv, digest, sizeof digest);
	if (no_store) {
		/* A private scratch database, removed at the end. */
		const char *td = getenv("TMPDIR");
		int fd;

		tmpdb =
		    xasprintf("%s/mdns-scan.XXXXXX", td && *td ? td : "/tmp");
		if ((fd = mkstemp(tmpdb)) == -1) {
			cli_error(&cmd_scan_entry, "cannot create %s: %s",
			    tmpdb, strerror(errno));
			goto out;
		}
		close(fd);
		unlink(tmpdb);
		dbpath = xstrdup(tmpdb);
	} else if ((dbpath = ctx->db != NULL ? xstrdup(ctx->db) :
					       default_db_path(&e)) == NULL) {
		cli_error(
		    &cmd_scan_entry, "no place for the history: %s", e.msg);
		goto out;
	}
	if ((sc.db = store_open(dbpath, &e)) == NULL) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	res_run_init(&run);
	if (resume) {
		i = store_last_run(sc.db, "scan", digest, &info, &e);
		if (i == -1) {
			cli_error(&cmd_scan_entry, "%s", e.msg);
			goto out;
		}
		if (i == 1 ||
		    (strcmp(info.status, "running") != 0 &&
			strcmp(info.status, "interrupted") != 0)) {
			cli_error(&cmd_scan_entry,
			    "--resume: no interrupted "
			    "scan with these arguments in %s",
			    dbpath);
			goto out;
		}
		sc.run_id = info.id;
		if (store_progress_get(sc.db, sc.run_id, &prog, &e) == 0) {
			have_prog = 1;
			start_pos = prog.position;
			if (seed_given && prog.seed != sc.o.seed) {
				cli_error(&cmd_scan_entry,
				    "--resume: stored "
				    "seed differs");
				goto out;
			}
			sc.o.seed = prog.seed;
		}
		if (store_run_results(
			sc.db, sc.run_id, cb_read_skip, &sc.skip, &e) == -1 ||
		    store_run_get(sc.db, sc.run_id, &run, NULL, &e) == -1) {
			cli_error(&cmd_scan_entry, "%s", e.msg);
			goto out;
		}
		if (!ctx->quiet)
			fprintf(stderr,
			    "resuming run %lld at position %llu "
			    "(%zu results stored)\n",
			    (long long)sc.run_id, (unsigned long long)start_pos,
			    sc.skip.n);
	} else {
		if (store_run_begin(sc.db, "scan", digest, cli_version(),
			&sc.run_id, &e) == -1) {
			cli_error(&cmd_scan_entry, "%s", e.msg);
			goto out;
		}
		snprintf(run.command, sizeof run.command, "scan");
		snprintf(run.args_digest, sizeof run.args_digest, "%s", digest);
		snprintf(run.version, sizeof run.version, "%s", cli_version());
		run.started_ms = now_wall_ms();
	}

	sc.o.on_result = cb_result;
	sc.o.on_check = cb_check;
	sc.o.on_done = cb_done;
	sc.o.skip = cb_skip;
	sc.o.arg = &sc;
	if ((sc.loop = ev_loop_new(&e)) == NULL ||
	    (sc.scan = scan_new(sc.loop, &sc.o, &e)) == NULL) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	memset(&rlo, 0, sizeof rlo);
	rlo.on_error = on_list_error;
	rlo.on_warning = on_list_warning;
	rlo.arg = &sc;
	for (i = optind; i < argc; i++)
		if (scan_add_list(sc.scan, argv[i], &rlo, &e) == -1) {
			cli_error(&cmd_scan_entry, "%s", e.msg);
			goto out;
		}
	if (optind >= argc &&
	    scan_add_list(sc.scan, su.resolvers_path, &rlo, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	if (scan_naddrs(sc.scan) == 0) {
		cli_error(&cmd_scan_entry, "no resolver address in the list%s",
		    sc.bad_lines ? " (only bad lines)" : "");
		goto out;
	}
	if (have_prog && prog.total != scan_naddrs(sc.scan) * sc.o.ndomains) {
		/* The shuffle is over the item count: another list is
		 * another order, so the cursor would mean nothing. */
		cli_error(&cmd_scan_entry,
		    "--resume: the list changed (%llu items now, %llu "
		    "when interrupted); start a new scan",
		    (unsigned long long)(scan_naddrs(sc.scan) * sc.o.ndomains),
		    (unsigned long long)prog.total);
		goto out;
	}
	if (!ctx->quiet)
		fprintf(stderr,
		    "scan: %llu address(es) × %zu domain(s), "
		    "rate %.0f q/s, seed %llu, key %s, method %d\n",
		    (unsigned long long)scan_naddrs(sc.scan), sc.o.ndomains,
		    sc.o.rate, (unsigned long long)sc.o.seed, su.key_fp,
		    sc.o.method);
	sc.batch = xcalloc(BATCH, sizeof *sc.batch);
	sc.progress = !ctx->quiet && (force_progress || isatty(2));
	sc.t0 = sc.last_flush = now_mono_us();
	/* Shells start background jobs with SIGINT ignored; an ignored
	 * signal never reaches the signalfd, so take it back. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (ev_signal_add(sc.loop, SIGINT, on_signal, &sc, &e) == -1 ||
	    ev_signal_add(sc.loop, SIGTERM, on_signal, &sc, &e) == -1 ||
	    scan_start(sc.scan, start_pos, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	sc.tick = ev_timer_add(sc.loop, 200000, on_tick, &sc);
	if (ev_run(sc.loop) == -1) {
		cli_error(&cmd_scan_entry, "event loop failed");
		goto out;
	}
	flush(&sc);
	if (sc.progress)
		progress_line(&sc, 1);
	scan_stage_stats(sc.scan, &run);
	run.ended_ms = now_wall_ms();

	if (stats_path != NULL) {
		struct scan_counters cn;
		FILE *sf = fopen(stats_path, "w");

		scan_counters(sc.scan, &cn);
		if (sf != NULL) {
			fprintf(sf,
			    "{\"total\":%llu,\"done\":%llu,"
			    "\"passed\":%llu,\"sent\":%llu,\"received\":%llu,"
			    "\"stray\":%llu,\"peak_inflight\":%llu,"
			    "\"peak_queries_inflight\":%llu,\"wall_ms\":%llu}"
			    "\n",
			    (unsigned long long)cn.total,
			    (unsigned long long)cn.done,
			    (unsigned long long)cn.passed,
			    (unsigned long long)cn.sent,
			    (unsigned long long)cn.received,
			    (unsigned long long)cn.stray,
			    (unsigned long long)cn.peak_inflight,
			    (unsigned long long)cn.peak_queries_inflight,
			    (unsigned long long)((now_mono_us() - sc.t0) /
				1000));
			fclose(sf);
		}
	}
	if (store_run_stats(sc.db, sc.run_id, &run, &e) == -1)
		fprintf(stderr, "mdns-doctor: scan: %s\n", e.msg);
	if (sc.stopped || sc.store_failed) {
		(void)store_run_end(sc.db, sc.run_id, "interrupted", &e);
		if (!ctx->quiet && !sc.store_failed)
			fprintf(stderr,
			    "scan interrupted at position %llu; "
			    "continue with the same arguments and --resume\n",
			    (unsigned long long)scan_cursor(sc.scan));
		rc = EXIT_UNKNOWN;
		goto out;
	}

	/* Read everything back (this run, resumed parts included). */
	dg = xcalloc(1, sizeof *dg);
	rb.sc = &sc;
	rb.d = dg;
	rb.all = all || strcmp(fmt, "text") != 0;
	if (store_run_results(sc.db, sc.run_id, cb_read, &rb, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "ips") != 0 &&
	    store_run_checks(sc.db, sc.run_id, cb_read_check, &sc, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	if (rb.nok > 1)
		qsort(rb.ok, rb.nok, sizeof *rb.ok, rank_cmp);
	for (k = 0; k < rb.nok; k++)
		rpt_result(sc.sink, &rb.ok[k]);
	rpt_summary(sc.sink, &run);
	if (rpt_close(sc.sink, &e) == -1) {
		sc.sink = NULL;
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	sc.sink = NULL;
	diagnose(strcmp(fmt, "text") == 0 ? stdout : stderr, &run, dg, &sc.o,
	    scan_env_evidence(sc.scan), sc.o.key != NULL);
	if (write_path != NULL &&
	    write_resolvers(write_path, rb.ok, rb.nok, &e) == -1) {
		cli_error(&cmd_scan_entry, "%s", e.msg);
		goto out;
	}
	rc = rb.nok == 0 ? EXIT_CRITICAL :
	    (scan_intercepted(sc.scan) || scan_server_down(sc.scan) ||
		sc.bad_lines > 0) ?
			   EXIT_WARNING :
			   EXIT_OK;
	(void)store_run_end(sc.db, sc.run_id,
	    rc == EXIT_OK	   ? "ok" :
		rc == EXIT_WARNING ? "warning" :
				     "critical",
	    &e);
	if (!ctx->quiet)
		fprintf(stderr, "scan: %zu of %llu passed%s\n", rb.nok,
		    (unsigned long long)rb.nres,
		    sc.bad_lines ? " (the list had bad lines)" : "");
out:
	if (sc.sink != NULL)
		rpt_close(sc.sink, NULL);
	scan_free(sc.scan);
	if (sc.loop != NULL)
		ev_loop_free(sc.loop);
	store_close(sc.db);
	skip_free(&sc.skip);
	scan_setup_free(&su);
	free(sc.batch);
	free(rb.ok);
	free(dg);
	if (tmpdb != NULL) {
		char *x;

		unlink(tmpdb);
		x = xasprintf("%s-wal", tmpdb);
		unlink(x);
		free(x);
		x = xasprintf("%s-shm", tmpdb);
		unlink(x);
		free(x);
		free(tmpdb);
	}
	free(dbpath);
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
	"                       NS of the root)\n",
    .exec = cmd_scan_exec,
};
