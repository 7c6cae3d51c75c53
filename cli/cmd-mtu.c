/*
 * cmd-mtu.c — `mdns-doctor mtu RESOLVER...`: the exact upload/download MTU
 * sweep per resolver × domain with every step shown (probe sizes, QNAME
 * lengths, what came back), then the result table with the QNAME shape
 * checks: longest name that passed, labels, case preservation, largest
 * delivered answer against the advertised EDNS size, TC seen.
 * Runs the scan engine (probe/scan.h) up to the mtu stage, without the env
 * stage and without the store. cli_probe_run (cli.h) is shared with
 * `handshake`, which runs the same probes one stage further.
 *
 * Formats: every result sink (text, json, jsonl, csv, ips); the steps are
 * printed with text only. Exit codes: 0 every resolver ok, 1 some passed
 * (or passed degraded), 2 none passed, 3 usage or setup errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/net.h"
#include "probe/scan.h"
#include "probe/scan-setup.h"
#include "reports/sink.h"

enum {
	OPT_DOMAIN = 1,
	OPT_KEY_FILE,
	OPT_METHOD,
	OPT_UP,
	OPT_DOWN,
	OPT_TIMEOUT,
	OPT_MTU_TIMEOUT,
	OPT_MTU_TRIES,
	OPT_QUIET_STEPS,
};

static const struct option mtu_longopts[] = {
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"method", required_argument, NULL, OPT_METHOD},
    {"up-mtu", required_argument, NULL, OPT_UP},
    {"down-mtu", required_argument, NULL, OPT_DOWN},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"mtu-timeout-ms", required_argument, NULL, OPT_MTU_TIMEOUT},
    {"mtu-tries", required_argument, NULL, OPT_MTU_TRIES},
    {"no-steps", no_argument, NULL, OPT_QUIET_STEPS}, {NULL, 0, NULL, 0}};

struct mtu_cli {
	struct rpt_sink *sink;
	int steps;
	unsigned nok, npassed, n;
};

static void
cb_trace(void *arg, const struct res_resolver *r, const char *line)
{
	struct mtu_cli *m = arg;
	char who[RES_ADDR_MAX + 16];

	if (!m->steps)
		return;
	rpt_resolver_text(r->addr, r->port, who, sizeof who);
	printf("%s %s: %s\n", who, r->domain, line);
}

static void
cb_result(void *arg, uint64_t pos, const struct res_resolver *r)
{
	struct mtu_cli *m = arg;

	(void)pos;
	m->n++;
	if (r->verdict == RES_VERDICT_OK)
		m->nok++;
	if (res_passed(r))
		m->npassed++;
	rpt_result(m->sink, r);
}

/* The command line as given, before the config file is read. */
struct probe_args {
	struct scan_setup su;
	int up, down, umin, umax, dmin, dmax, mto, mtr;
};

/* Parse argv into a and o. Returns 0, 1 after --help, -1 on an error. */
static int
probe_getopt(struct cli_ctx *ctx, int argc, char **argv,
    const struct cmd_entry *ent, struct probe_args *a, struct scan_opts *o,
    struct mtu_cli *m)
{
	struct err e = {""};
	long long v;
	int c;

	while ((c = cli_getopt(ctx, ent, argc, argv, "", mtu_longopts)) != -1) {
		switch (c) {
		case OPT_DOMAIN:
			if (a->su.ndomains < SCAN_MAX_DOMAINS)
				a->su.domains[a->su.ndomains++] = optarg;
			break;
		case OPT_KEY_FILE:
			a->su.key_file = optarg;
			break;
		case OPT_METHOD:
			if (parse_int(optarg, 0, 5, &v, &e) == -1)
				goto bad;
			a->su.method = (int)v;
			break;
		case OPT_UP:
			if (scan_parse_range(
				optarg, 5, 512, &a->umin, &a->umax, &e) == -1)
				goto bad;
			a->up = 1;
			break;
		case OPT_DOWN:
			if (scan_parse_range(
				optarg, 20, 4096, &a->dmin, &a->dmax, &e) == -1)
				goto bad;
			a->down = 1;
			break;
		case OPT_TIMEOUT:
			if (parse_int(optarg, 10, 60000, &v, &e) == -1)
				goto bad;
			o->t_live.timeout_ms = o->t_reach.timeout_ms =
			    o->t_hs.timeout_ms = (int)v;
			break;
		case OPT_MTU_TIMEOUT:
			if (parse_int(optarg, 10, 60000, &v, &e) == -1)
				goto bad;
			a->mto = (int)v;
			break;
		case OPT_MTU_TRIES:
			if (parse_int(optarg, 1, 10, &v, &e) == -1)
				goto bad;
			a->mtr = (int)v;
			break;
		case OPT_QUIET_STEPS:
			m->steps = 0;
			break;
		case 'H':
			return 1;
		default:
			return -1;
		}
	}
	return 0;
bad:
	cli_error(ent, "%s", e.msg);
	return -1;
}

int
cli_probe_run(struct cli_ctx *ctx, int argc, char **argv,
    const struct cmd_entry *ent, enum res_stage stage)
{
	struct probe_args a;
	struct scan_opts o;
	struct mtu_cli m;
	union net_addr *addrs = NULL;
	struct err e = {""};
	int i, rc = EXIT_UNKNOWN, n = 0;

	memset(&a, 0, sizeof a);
	memset(&m, 0, sizeof m);
	m.steps = 1;
	a.su.method = -1;
	scan_opts_defaults(&o);
	switch (probe_getopt(ctx, argc, argv, ent, &a, &o, &m)) {
	case 1:
		return EXIT_OK;
	case -1:
		return EXIT_UNKNOWN;
	}
	if (optind >= argc) {
		cli_error(ent, "give at least one RESOLVER (IP[:PORT])");
		return EXIT_UNKNOWN;
	}
	a.su.config = ctx->config;
	if (scan_setup_apply(&a.su, &o, &e) == -1)
		goto bad;
	if (o.key == NULL) {
		cli_error(ent,
		    "the %s probes need the key: --key-file or "
		    "--config",
		    ent->name);
		goto out;
	}
	if (a.up) {
		o.min_up = a.umin;
		o.max_up = a.umax;
	}
	if (a.down) {
		o.min_down = a.dmin;
		o.max_down = a.dmax;
	}
	if (a.mto)
		o.t_mtu.timeout_ms = a.mto;
	if (a.mtr)
		o.t_mtu.tries = a.mtr;
	addrs = xcalloc((size_t)(argc - optind), sizeof *addrs);
	for (i = optind; i < argc; i++)
		if (net_addr_parse(argv[i], 53, &addrs[n++], &e) == -1) {
			cli_error(ent, "%s: %s", argv[i], e.msg);
			goto out;
		}
	if ((m.sink = rpt_open(
		 ctx->format ? ctx->format : "text", stdout, &e)) == NULL)
		goto bad;
	rpt_set_width(m.sink, rpt_term_width(stdout));
	o.max_stage = stage;
	/* The point here is the MTU or the session: loss is judged over
	 * the steps' own probes (docs/probes.md, "Loss"). */
	o.loss_probes = 0;
	o.rate = 200;
	o.nintercept = 0;
	o.on_trace = cb_trace;
	o.on_result = cb_result;
	o.arg = &m;
	m.steps = m.steps && !ctx->quiet &&
	    (ctx->format == NULL || strcmp(ctx->format, "text") == 0);
	if (scan_run_blocking(&o, addrs, (size_t)n, &e) == -1)
		goto bad;
	if (m.steps)
		printf("\n");
	if (rpt_close(m.sink, &e) == -1) {
		m.sink = NULL;
		goto bad;
	}
	m.sink = NULL;
	/* A degraded resolver (it passed, losing probes) is a warning. */
	rc = m.nok == m.n ? EXIT_OK :
	    m.npassed > 0 ? EXIT_WARNING :
			    EXIT_CRITICAL;
	goto out;
bad:
	cli_error(ent, "%s", e.msg);
out:
	if (m.sink != NULL)
		rpt_close(m.sink, NULL);
	free(addrs);
	scan_setup_free(&a.su);
	return rc;
}

static int
cmd_mtu_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_probe_run(ctx, argc, argv, &cmd_mtu_entry, RES_STAGE_MTU);
}

#define PROBE_OPTIONS                                                          \
	"  --domain D           tunnel domain (repeatable; else --config)\n"   \
	"  --key-file F         encryption key file (else the config's)\n"     \
	"  --method N           DATA_ENCRYPTION_METHOD 0..5\n"                 \
	"  --up-mtu MIN:MAX     upload MTU search range (config, 38:150)\n"    \
	"  --down-mtu MIN:MAX   download range (config, 100:500)\n"            \
	"  --timeout-ms MS      liveness/reach/handshake timeout\n"            \
	"  --mtu-timeout-ms MS  MTU probe timeout (config, 2000)\n"            \
	"  --mtu-tries N        MTU probe attempts (config, 2)\n"              \
	"  --no-steps           print only the result table\n"

const struct cmd_entry cmd_mtu_entry = {
    .name = "mtu",
    .usage = "mtu [options] RESOLVER...",
    .summary = "exact upload/download MTU sweep with every step, plus "
	       "QNAME shape checks",
    .options = PROBE_OPTIONS,
    .exec = cmd_mtu_exec,
};
