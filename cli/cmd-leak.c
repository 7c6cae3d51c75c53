/* SPDX-License-Identifier: MIT */
/*
 * cmd-leak.c — `mdns-doctor leak`: do the names applications resolve
 * reach resolvers outside the tunnel? (probe/leak.h, docs/checks.md).
 *
 * Where things come from:
 *   zone          --zone NAME; else MDNS_LEAK_ZONE of --config
 *   system path   --system-resolver ADDR (repeatable); else the
 *                 nameserver lines of /etc/resolv.conf (what the C
 *                 library's getaddrinfo asks)
 *   tunnel path   --tunnel-dns ADDR:PORT; else the running client's DNS
 *                 listener (status dns.listener, through --control or the
 *                 default socket); else LOCAL_DNS_IP/PORT of --config when
 *                 LOCAL_DNS_ENABLED
 * The local signal (SOCKS requests carrying an IP literal instead of a
 * host name) comes from the same status when the engine reports it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/checks-out.h"
#include "cli/cli.h"
#include "common/config.h"
#include "common/ctlc.h"
#include "common/ev.h"
#include "common/net.h"
#include "common/profile.h"
#include "engine/ctl.h"
#include "probe/leak.h"

enum {
	OPT_ZONE = ARGS_LONG,
	OPT_EXTENDED,
	OPT_NAMES,
	OPT_SYSTEM,
	OPT_TUNNEL_DNS,
	OPT_CONTROL,
	OPT_TIMEOUT,
	OPT_TRIES,
	OPT_RESOLV,
	OPT_WHOAMI,
	OPT_NO_WHOAMI,
	OPT_NO_STORE,
};

static const struct args_opt leak_opts[] = {
    {OPT_ZONE, "zone", "NAME", 0,
	"the leak zone a `serve --leak-zone` answers\n"
	"(default: MDNS_LEAK_ZONE of --config)"},
    {OPT_EXTENDED, "extended", NULL, 0, "36 names instead of 6"},
    {OPT_NAMES, "names", "N", 0, "names per path (1..58)"},
    {OPT_SYSTEM, "system-resolver", "ADDR[:PORT]", ARGS_REPEAT,
	"the system path's resolver (repeatable; default:\n"
	"the nameservers of /etc/resolv.conf)"},
    {OPT_RESOLV, "resolv-conf", "FILE", 0,
	"read the nameservers from FILE instead"},
    {OPT_TUNNEL_DNS, "tunnel-dns", "ADDR:PORT", 0,
	"the tunnel's DNS listener (default: from the\n"
	"engine's status, else LOCAL_DNS_* of --config)"},
    {OPT_CONTROL, "control", "PATH", 0, "the engine's control socket"},
    {OPT_TIMEOUT, "timeout-ms", "MS", 0,
	"per try (default 4000: a name through the\n"
	"tunnel takes several DNS round trips)"},
    {OPT_TRIES, "tries", "N", 0, "tries per query (default 2)"},
    {OPT_WHOAMI, "whoami", "NAME", ARGS_REPEAT,
	"a whoami name (TXT: the asking resolver's\n"
	"address) asked through both paths (repeatable;\n"
	"default: o-o.myaddr.l.google.com,\n"
	"whoami.ds.akahelp.net, resolver.dnscrypt.info)"},
    {OPT_NO_WHOAMI, "no-whoami", NULL, 0, "ask no whoami name"},
    {OPT_NO_STORE, "no-store", NULL, 0,
	"do not record the checks in the history"},
    {0, NULL, NULL, 0, NULL},
};

struct leak_cli {
	struct leak_opts o;
	char zone[256];
	char sys_from[300], sys_why[300], tun_from[300], tun_why[300];
	char local[480];
	const char *control;
	int quiet;
};

static int
read_resolv(struct leak_cli *lc, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	char buf[8192];
	size_t n;

	snprintf(lc->sys_from, sizeof lc->sys_from, "%s", path);
	if (f == NULL) {
		snprintf(
		    lc->sys_why, sizeof lc->sys_why, "%s: cannot read", path);
		return 0;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	lc->o.nsys = leak_resolv_conf(buf, lc->o.sys, LEAK_SYS_MAX);
	if (lc->o.nsys == 0)
		snprintf(lc->sys_why, sizeof lc->sys_why,
		    "%s has no usable nameserver line", path);
	(void)e;
	return 0;
}

/* "; by client: ADDR host N IP N, ..." (the engine's most recent four
 * SOCKS clients, status socks.clients) after the totals in buf. */
static void
clients_evidence(char *buf, size_t cap, json_t *clients)
{
	size_t i, len = strlen(buf);
	json_t *c;

	json_array_foreach(clients, i, c)
	{
		const char *a =
		    json_string_value(json_object_get(c, "address"));

		if (i == 4 || a == NULL || len + 1 >= cap)
			break;
		len += (size_t)snprintf(buf + len, cap - len,
		    "%s%s host %lld IP %lld", i ? ", " : "; by client: ", a,
		    (long long)json_integer_value(
			json_object_get(c, "hostname")),
		    (long long)json_integer_value(
			json_object_get(c, "ip_literal")));
	}
	if (len >= cap)
		buf[cap - 1] = '\0';
}

void
cli_leak_local(json_t *st, char *buf, size_t len)
{
	json_t *req = json_object_get(json_object_get(st, "socks"), "requests");

	if (len == 0)
		return;
	buf[0] = '\0';
	if (json_is_object(req))
		snprintf(buf, len,
		    "; SOCKS requests since start: %lld with a host name, "
		    "%lld with an IP literal (an application that resolves "
		    "names itself)",
		    (long long)json_integer_value(
			json_object_get(req, "hostname")),
		    (long long)json_integer_value(
			json_object_get(req, "ip_literal")));
	clients_evidence(
	    buf, len, json_object_get(json_object_get(st, "socks"), "clients"));
}

/* The engine's status: the DNS listener and the SOCKS counts. */
static void
from_engine(struct leak_cli *lc, int want_tun)
{
	struct err e = {""};
	char *path =
	    lc->control ? xstrdup(lc->control) : ctl_default_path("client");
	json_t *r = ctlc_call(path, "status", 3000, &e);
	json_t *st = json_object_get(r, "status");
	const char *lis = json_string_value(
	    json_object_get(json_object_get(st, "dns"), "listener"));

	cli_leak_local(st, lc->local, sizeof lc->local);
	if (!want_tun)
		goto out;
	if (lis != NULL && net_addr_parse(lis, 53, &lc->o.tun, NULL) == 0) {
		net_addr_any_to_loopback(&lc->o.tun);
		lc->o.have_tun = 1;
		snprintf(lc->tun_from, sizeof lc->tun_from,
		    "the engine's DNS listener (%s)", path);
	} else if (r != NULL)
		snprintf(lc->tun_why, sizeof lc->tun_why,
		    "the engine at %s has no DNS listener (LOCAL_DNS_ENABLED)",
		    path);
	else
		snprintf(lc->tun_why, sizeof lc->tun_why,
		    "%s; start connect, or give --tunnel-dns ADDR:PORT", e.msg);
out:
	json_decref(r);
	free(path);
}

/* The zone, the two paths; -1 after printing why. */
static int
leak_setup(struct cli_ctx *ctx, struct leak_cli *lc, const struct args *args)
{
	struct cfg_opts co = {.role = CFG_CLIENT};
	struct cfg *conf = NULL;
	struct err e = {""};
	const char *v, *zone = args_get(args, OPT_ZONE);
	long long names = LEAK_NAMES_DEFAULT, tmo = 4000, tries = 2;
	size_t i;

	if (args_has(args, OPT_EXTENDED))
		names = LEAK_NAMES_EXTENDED;
	if (args_strtonum(args, OPT_NAMES, 1, LEAK_NAMES_MAX, &names) != 0 ||
	    args_strtonum(args, OPT_TIMEOUT, 100, 60000, &tmo) != 0 ||
	    args_strtonum(args, OPT_TRIES, 1, 10, &tries) != 0)
		return -1;
	if (ctx->config != NULL) {
		if (cfg_load(ctx->config, NULL, &co, &conf, &e) != 0)
			goto bad;
		if ((v = cfg_key_problem(conf, "MDNS_LEAK_ZONE")) != NULL) {
			err_set(&e, "%s", v);
			goto bad;
		}
	}
	if (zone == NULL && conf != NULL && *conf->client.leak_zone)
		zone = conf->client.leak_zone;
	if (zone == NULL) {
		err_set(&e,
		    "no leak zone: give --zone NAME or MDNS_LEAK_ZONE "
		    "in --config (a zone `serve --leak-zone` answers)");
		goto bad;
	}
	snprintf(lc->zone, sizeof lc->zone, "%s", zone);
	if (prof_domain_normalize(lc->zone, &e) != 0 ||
	    strlen(lc->zone) > 160) {
		if (!e.msg[0])
			err_set(&e, "the zone is too long for test names");
		err_prefix(&e, "--zone");
		goto bad;
	}
	for (i = 0; (v = args_value(args, OPT_WHOAMI, i)) != NULL; i++) {
		if (i == LEAK_WHOAMI_MAX) {
			err_set(
			    &e, "more than %d --whoami names", LEAK_WHOAMI_MAX);
			goto bad;
		}
		lc->o.whoami[lc->o.nwhoami++] = v;
	}
	if (lc->o.nwhoami == 0 && !args_has(args, OPT_NO_WHOAMI))
		lc->o.nwhoami =
		    leak_whoami_defaults(lc->o.whoami, LEAK_WHOAMI_MAX);
	lc->o.zone = lc->zone;
	lc->o.nnames = (int)names;
	lc->o.timeout_ms = (int)tmo;
	lc->o.tries = (int)tries;
	lc->control = args_get(args, OPT_CONTROL);
	/* The system path. */
	for (i = 0; (v = args_value(args, OPT_SYSTEM, i)) != NULL; i++) {
		if (lc->o.nsys == LEAK_SYS_MAX) {
			err_set(
			    &e, "more than %d system resolvers", LEAK_SYS_MAX);
			goto bad;
		}
		if (net_addr_parse(v, 53, &lc->o.sys[lc->o.nsys++], &e) != 0) {
			err_prefix(&e, "--system-resolver");
			goto bad;
		}
		snprintf(
		    lc->sys_from, sizeof lc->sys_from, "--system-resolver");
	}
	if (lc->o.nsys == 0)
		read_resolv(lc,
		    args_get(args, OPT_RESOLV) ? args_get(args, OPT_RESOLV) :
						 "/etc/resolv.conf",
		    &e);
	/* The tunnel path. */
	if ((v = args_get(args, OPT_TUNNEL_DNS)) != NULL) {
		if (net_addr_parse(v, 53, &lc->o.tun, &e) != 0) {
			err_prefix(&e, "--tunnel-dns");
			goto bad;
		}
		lc->o.have_tun = 1;
		snprintf(lc->tun_from, sizeof lc->tun_from, "--tunnel-dns");
	}
	from_engine(lc, !lc->o.have_tun);
	if (!lc->o.have_tun && conf != NULL && conf->client.local_dns_enabled &&
	    conf->client.local_dns_ip &&
	    net_addr_parse(conf->client.local_dns_ip,
		(uint16_t)conf->client.local_dns_port, &lc->o.tun, NULL) == 0) {
		lc->o.have_tun = 1;
		snprintf(lc->tun_from, sizeof lc->tun_from,
		    "LOCAL_DNS_IP/PORT of %s", ctx->config);
	}
	lc->o.sys_from = lc->sys_from;
	lc->o.sys_why = lc->sys_why;
	lc->o.tun_from = lc->tun_from;
	lc->o.tun_why = lc->tun_why;
	lc->o.local_evidence = lc->local[0] ? lc->local : NULL;
	cfg_free(conf);
	return 0;
bad:
	cfg_free(conf);
	cli_error(&cmd_leak_entry, "%s", e.msg);
	return -1;
}

static void
on_done(void *arg, struct leak *l)
{
	(void)l;
	ev_stop(arg);
}

static void
on_deadline(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	ev_stop(loop);
}

/* Run the queries and judge: out gets up to max checks (*n). */
static int
leak_measure(struct leak_cli *lc, struct res_check *out, size_t max, size_t *n,
    struct err *e)
{
	struct ev_loop *loop = NULL;
	struct leak *l = NULL;
	int rc = -1;

	*n = 0;
	if (!lc->quiet)
		fprintf(stderr,
		    "leak: %d name(s) under %s through the system "
		    "resolver%s and the tunnel%s\n",
		    lc->o.nnames, lc->o.zone, lc->o.nsys ? "" : " (none known)",
		    lc->o.have_tun ? "" : " (no tunnel path: not tested)");
	if ((loop = ev_loop_new(e)) == NULL ||
	    (l = leak_start(loop, &lc->o, on_done, loop, e)) == NULL)
		goto done;
	ev_timer_add(loop,
	    ((uint64_t)lc->o.timeout_ms * (uint64_t)(lc->o.tries * 2 + 1) +
		5000) *
		1000,
	    on_deadline, NULL);
	if (ev_run(loop) != 0) {
		err_set(e, "event loop failed");
		goto done;
	}
	leak_judge(leak_obs(l), &lc->o, out, max, n);
	rc = 0;
done:
	leak_free(l);
	if (loop != NULL)
		ev_loop_free(loop);
	return rc;
}

int
cli_leak_checks(struct cli_ctx *ctx, const char *control, int timeout_ms,
    struct res_check *out, size_t max, size_t *nout, struct err *e)
{
	struct leak_cli lc;
	struct cfg_opts co = {.role = CFG_CLIENT};
	struct cfg *conf = NULL;
	int rc;

	*nout = 0;
	memset(&lc, 0, sizeof lc);
	if (ctx->config == NULL ||
	    cfg_load(ctx->config, NULL, &co, &conf, e) != 0 ||
	    *conf->client.leak_zone == '\0') {
		cfg_free(conf);
		return 1;
	}
	snprintf(lc.zone, sizeof lc.zone, "%s", conf->client.leak_zone);
	lc.o.zone = lc.zone;
	lc.o.nnames = LEAK_NAMES_DEFAULT;
	lc.o.tries = 2;
	lc.o.timeout_ms = timeout_ms / 5 > 100 ? timeout_ms / 5 : 100;
	lc.control = control;
	lc.quiet = 1;
	read_resolv(&lc, "/etc/resolv.conf", e);
	from_engine(&lc, 1);
	if (!lc.o.have_tun && conf->client.local_dns_enabled &&
	    conf->client.local_dns_ip &&
	    net_addr_parse(conf->client.local_dns_ip,
		(uint16_t)conf->client.local_dns_port, &lc.o.tun, NULL) == 0)
		lc.o.have_tun = 1;
	cfg_free(conf);
	lc.o.sys_from = lc.sys_from;
	lc.o.sys_why = lc.sys_why;
	lc.o.tun_from = lc.tun_from;
	lc.o.tun_why = lc.tun_why;
	lc.o.local_evidence = lc.local[0] ? lc.local : NULL;
	rc = leak_measure(&lc, out, max, nout, e);
	return rc;
}

/* ---- connect --checks (checks-out.h) ---------------------------------- */

struct cli_leak_plan {
	struct leak_cli lc;
};

struct cli_leak_plan *
cli_leak_plan_new(
    const struct cfg *conf, const union net_addr *tun_dns, const char *tun_why)
{
	struct cli_leak_plan *p;
	struct leak_cli *lc;

	if (conf == NULL || *conf->client.leak_zone == '\0')
		return NULL;
	p = xcalloc(1, sizeof *p);
	lc = &p->lc;
	snprintf(lc->zone, sizeof lc->zone, "%s", conf->client.leak_zone);
	lc->o.zone = lc->zone;
	lc->o.nnames = LEAK_NAMES_DEFAULT;
	lc->o.tries = 2;
	lc->o.timeout_ms = 4000;
	lc->quiet = 1;
	if (tun_dns != NULL) {
		lc->o.tun = *tun_dns;
		net_addr_any_to_loopback(&lc->o.tun);
		lc->o.have_tun = 1;
		snprintf(lc->tun_from, sizeof lc->tun_from,
		    "the engine's DNS listener");
	} else
		snprintf(lc->tun_why, sizeof lc->tun_why, "%s",
		    tun_why ? tun_why : "no DNS listener");
	lc->o.sys_from = lc->sys_from;
	lc->o.sys_why = lc->sys_why;
	lc->o.tun_from = lc->tun_from;
	lc->o.tun_why = lc->tun_why;
	return p;
}

const struct leak_opts *
cli_leak_plan_opts(struct cli_leak_plan *p, const char *local_evidence)
{
	struct leak_cli *lc = &p->lc;
	struct err e = {""};

	/* The system's resolvers may have changed since the last run. */
	lc->o.nsys = 0;
	lc->sys_why[0] = '\0';
	read_resolv(lc, "/etc/resolv.conf", &e);
	snprintf(lc->local, sizeof lc->local, "%s",
	    local_evidence ? local_evidence : "");
	lc->o.local_evidence = lc->local[0] ? lc->local : NULL;
	return &lc->o;
}

void
cli_leak_plan_judge(const struct cli_leak_plan *p, const struct leak *l,
    struct res_check *out, size_t max, size_t *n)
{
	leak_judge(leak_obs(l), &p->lc.o, out, max, n);
}

void
cli_leak_plan_free(struct cli_leak_plan *p)
{
	free(p);
}

static int
cmd_leak_run(struct cli_ctx *ctx, const struct args *args)
{
	struct leak_cli lc;
	struct cli_checks *out;
	struct res_check c[LEAKZ_REPORT_MAX + 2];
	struct err e = {""};
	size_t i, nc = 0;

	memset(&lc, 0, sizeof lc);
	lc.quiet = ctx->quiet;
	if (leak_setup(ctx, &lc, args) != 0)
		return EXIT_UNKNOWN;
	if (leak_measure(&lc, c, nitems(c), &nc, &e) != 0) {
		cli_error(&cmd_leak_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	if ((out = cli_checks_open(ctx, &cmd_leak_entry, args->argc, args->argv,
		 !args_has(args, OPT_NO_STORE))) == NULL)
		return EXIT_UNKNOWN;
	for (i = 0; i < nc; i++)
		cli_checks_add(out, &c[i]);
	return cli_checks_close(out, cli_checks_worst(out));
}

const struct cmd_entry cmd_leak_entry = {
    .name = "leak",
    .summary = "DNS leak: do names resolved by the system reach resolvers "
	       "outside the tunnel",
    .args = {.opts = leak_opts, .formats = "text,json,jsonl"},
    .run = cmd_leak_run,
};
