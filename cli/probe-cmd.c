/* SPDX-License-Identifier: MIT */
/*
 * probe-cmd.c — what scan, mtu and handshake share (probe-cmd.h): reading
 * the shared options into struct scan_setup (only reading and range
 * checks: the config file and the precedence are scan_setup_apply's), and
 * the runner of `mtu` and `handshake`: the scan engine over the RESOLVER
 * operands up to the command's stage, without the env stage and without
 * the store, every step printed (text only) and the result table, with
 * the QNAME shape checks, through the sink.
 *
 * Exit codes of the runner: 0 every resolver ok, 1 some passed (or passed
 * degraded), 2 none passed, 3 usage or setup errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/probe-cmd.h"
#include "common/net.h"
#include "probe/scan.h"
#include "reports/sink.h"

int
cli_probe_args(const struct args *a, struct scan_setup *su)
{
	long long method = -1, lo = 0, hi = 0, v = 0;
	const char *d;

	for (su->ndomains = 0;
	     (d = args_value(a, PROBE_OPT_DOMAIN, su->ndomains)) != NULL;
	     su->ndomains++) {
		if (su->ndomains == SCAN_MAX_DOMAINS) {
			cli_error(
			    a->cmd, "at most %d domains", SCAN_MAX_DOMAINS);
			return -1;
		}
		su->domains[su->ndomains] = d;
	}
	su->key_file = args_get(a, PROBE_OPT_KEY_FILE);
	if (args_strtonum(a, PROBE_OPT_METHOD, 0, 5, &method) != 0)
		return -1;
	su->method = (int)method;
	if (args_range(a, PROBE_OPT_UP, 5, 512, &lo, &hi) != 0)
		return -1;
	su->min_up = (int)lo;
	su->max_up = (int)hi;
	lo = hi = 0;
	if (args_range(a, PROBE_OPT_DOWN, 20, 4096, &lo, &hi) != 0)
		return -1;
	su->min_down = (int)lo;
	su->max_down = (int)hi;
	if (args_strtonum(a, PROBE_OPT_MTU_TIMEOUT, 10, 60000, &v) != 0)
		return -1;
	su->mtu_timeout_ms = (int)v;
	v = 0;
	if (args_strtonum(a, PROBE_OPT_MTU_TRIES, 1, 10, &v) != 0)
		return -1;
	su->mtu_tries = (int)v;
	return 0;
}

/* ---- the runner of mtu and handshake ------------------------------------ */

struct probe_run {
	struct rpt_sink *sink;
	int steps;
	unsigned nok, npassed, n;
};

static void
cb_trace(void *arg, const struct res_resolver *r, const char *line)
{
	struct probe_run *m = arg;
	char who[RES_ADDR_MAX + 16];

	if (!m->steps)
		return;
	rpt_resolver_text(r->addr, r->port, who, sizeof who);
	printf("%s %s: %s\n", who, r->domain, line);
}

static void
cb_result(void *arg, uint64_t pos, const struct res_resolver *r)
{
	struct probe_run *m = arg;

	(void)pos;
	m->n++;
	if (r->verdict == RES_VERDICT_OK)
		m->nok++;
	if (res_passed(r))
		m->npassed++;
	rpt_result(m->sink, r);
}

int
cli_probe_run(struct cli_ctx *ctx, const struct args *a, enum res_stage stage)
{
	const struct cmd_entry *ent = a->cmd;
	struct scan_setup su;
	struct scan_opts o;
	struct probe_run m;
	union net_addr *addrs = NULL;
	struct err e = {""};
	long long timeout_ms = 0;
	int i, rc = EXIT_UNKNOWN;

	memset(&su, 0, sizeof su);
	memset(&m, 0, sizeof m);
	scan_opts_defaults(&o);
	if (cli_probe_args(a, &su) != 0 ||
	    args_strtonum(a, PROBE_OPT_TIMEOUT, 10, 60000, &timeout_ms) != 0)
		goto out;
	if (timeout_ms > 0)
		o.t_live.timeout_ms = o.t_reach.timeout_ms = o.t_hs.timeout_ms =
		    (int)timeout_ms;
	if (a->noperands == 0) {
		cli_error(ent, "give at least one RESOLVER (IP[:PORT])");
		goto out;
	}
	su.config = ctx->config;
	if (scan_setup_apply(&su, &o, &e) == -1)
		goto bad;
	if (o.key == NULL) {
		cli_error(ent,
		    "the %s probes need the key: --key-file or "
		    "--config",
		    ent->name);
		goto out;
	}
	addrs = xcalloc((size_t)a->noperands, sizeof *addrs);
	for (i = 0; i < a->noperands; i++)
		if (net_addr_parse(a->operands[i], 53, &addrs[i], &e) == -1) {
			cli_error(ent, "%s: %s", a->operands[i], e.msg);
			goto out;
		}
	if ((m.sink = rpt_open(ctx->format, stdout, &e)) == NULL)
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
	m.steps = !args_has(a, PROBE_OPT_NO_STEPS) && !ctx->quiet &&
	    strcmp(ctx->format, "text") == 0;
	if (scan_run_blocking(&o, addrs, (size_t)a->noperands, &e) == -1)
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
	scan_setup_free(&su);
	return rc;
}
