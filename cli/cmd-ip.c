/* SPDX-License-Identifier: MIT */
/*
 * cmd-ip.c — `mdns-doctor ip`: the public address the world sees, per
 * address family, directly and through the tunnel engine's SOCKS port,
 * compared with the expected exit (probe/exitip.h, docs/checks.md).
 *
 * Where things come from (all settings through the one configuration
 * model, common/config.h: --config and --profile are read together):
 *   SOCKS port   --socks HOST:PORT; else the running client's status
 *                (socks.listen, through --control or the default
 *                socket); else LISTEN_IP:LISTEN_PORT of --config (an
 *                upstream client has no control socket). SOCKS5
 *                user/password from --config when the port needs them.
 *   expectation  --expect IP (repeatable, one per family); else
 *                MDNS_EXPECTED_EXIT_IP of the model: the --profile's
 *                expectedExitIP, else the key in --config.
 *   services     --service4/--service6 URL (repeatable; --service URL
 *                when the host is an address literal); else
 *                MDNS_IP_ECHO_V4 / MDNS_IP_ECHO_V6 of --config; else
 *                the built-in public services. Naming any service
 *                replaces the whole built-in list.
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
#include "engine/client.h"
#include "engine/ctl.h"
#include "probe/exitip.h"

enum {
	OPT_SOCKS = ARGS_LONG,
	OPT_CONTROL,
	OPT_EXPECT,
	OPT_PROFILE,
	OPT_SERVICE,
	OPT_SERVICE4,
	OPT_SERVICE6,
	OPT_TIMEOUT,
	OPT_NO_STORE,
};

static const struct args_opt ip_opts[] = {
    {'4', NULL, NULL, 0, "check only IPv4 (default both)"},
    {'6', NULL, NULL, 0, "check only IPv6 (default both)"},
    {OPT_SOCKS, "socks", "HOST:PORT", 0,
	"the tunnel's SOCKS5 port (default: from the engine's\n"
	"status, else LISTEN_IP/PORT of --config)"},
    {OPT_CONTROL, "control", "PATH", 0, "the engine's control socket"},
    {OPT_EXPECT, "expect", "IP", ARGS_REPEAT,
	"expected exit address (repeatable: one per\n"
	"family; else the profile's expectedExitIP, else\n"
	"MDNS_EXPECTED_EXIT_IP of --config)"},
    {OPT_PROFILE, "profile", "FILE", 0, "JSON profile (expectedExitIP)"},
    {OPT_SERVICE4, "service4", "URL", ARGS_REPEAT,
	"IPv4 IP-echo service (repeatable; replaces the\n"
	"built-in list, as do MDNS_IP_ECHO_V4/_V6)"},
    {OPT_SERVICE6, "service6", "URL", ARGS_REPEAT,
	"IPv6 IP-echo service (repeatable)"},
    {OPT_SERVICE, "service", "URL", ARGS_REPEAT,
	"a service whose host is an address literal"},
    {OPT_TIMEOUT, "timeout-ms", "MS", 0, "per request (default 15000)"},
    {OPT_NO_STORE, "no-store", NULL, 0,
	"do not record the checks in the history"},
    {0, NULL, NULL, 0, NULL},
};

#define IP_TIMEOUT_MS	15000
#define IP_MAX_SERVICES 32
#define IP_MAX_EXPECT	8

struct ip_cli {
	const char *socks_arg, *control;
	struct exitip_service svc[IP_MAX_SERVICES];
	size_t nsvc;
	char expect[IP_MAX_EXPECT][ECHO_IP_MAX];
	const char *expect_ptr[IP_MAX_EXPECT];
	size_t nexpect;
	char *owned[IP_MAX_SERVICES + 8]; /* strings to free */
	size_t nowned;
	long long timeout_ms;
	int want4, want6, store;
	struct cfg *conf;      /* --config and/or --profile, when given */
	struct cfg_client cfg; /* its client settings, or the defaults */
	int have_cfg;	       /* --config given (LISTEN_*, SOCKS5_*) */
	char socks[NET_ADDR_STRLEN];
	char why[256]; /* why there is no SOCKS port */
	char expect_from[300];
	char ua[80];
};

static char *
keep(struct ip_cli *ic, char *s)
{
	if (ic->nowned < nitems(ic->owned))
		ic->owned[ic->nowned++] = s;
	return s;
}

/* family 4/6, or 0: the host must be an address literal (--service). */
static int
add_service(struct ip_cli *ic, const char *url, int family, struct err *e)
{
	char shown[120];
	int lit;

	str_printable(url, shown, sizeof shown);
	if (cfg_echo_url_check(url, family, &lit, e) != 0)
		return err_prefix(e, "service %s", shown);
	if (family == 0 && (family = lit) == 0)
		return err_set(e,
		    "service %s: the host is a name; say its family with "
		    "--service4 or --service6",
		    shown);
	if (ic->nsvc == IP_MAX_SERVICES)
		return err_set(e, "more than %d services", IP_MAX_SERVICES);
	ic->svc[ic->nsvc].url = keep(ic, xstrdup(url));
	ic->svc[ic->nsvc++].family = family;
	return 0;
}

static int
add_expect(struct ip_cli *ic, const char *text, struct err *e)
{
	int fam;

	if (ic->nexpect == IP_MAX_EXPECT)
		return err_set(e, "more than %d expected exits", IP_MAX_EXPECT);
	if (echo_normalize(text, ic->expect[ic->nexpect], &fam, e) != 0)
		return -1;
	ic->expect_ptr[ic->nexpect] = ic->expect[ic->nexpect];
	ic->nexpect++;
	return 0;
}

/*
 * The expectation when no --expect was given: MDNS_EXPECTED_EXIT_IP of
 * the model, from the profile (expectedExitIP) or the config file.
 */
static int
find_expectation(struct ip_cli *ic, const struct cfg *conf, struct err *e)
{
	const struct cfg_client *cl = &ic->cfg;
	size_t i;

	if (ic->nexpect > 0) {
		snprintf(ic->expect_from, sizeof ic->expect_from, "--expect");
		return 0;
	}
	for (i = 0; conf != NULL && i < cl->nexpected_exit; i++)
		if (add_expect(ic, cl->expected_exit[i], e) != 0)
			return err_prefix(e, "MDNS_EXPECTED_EXIT_IP");
	if (ic->nexpect == 0)
		return 0;
	if (cfg_key_source(conf, "MDNS_EXPECTED_EXIT_IP") == CFG_SRC_PROFILE)
		snprintf(ic->expect_from, sizeof ic->expect_from,
		    "expectedExitIP of %s", conf->profile_path);
	else
		snprintf(ic->expect_from, sizeof ic->expect_from,
		    "MDNS_EXPECTED_EXIT_IP of %s", conf->path);
	return 0;
}

/* A wildcard listener is reached on loopback. */
static void
set_socks(struct ip_cli *ic, const char *addr)
{
	union net_addr a;

	if (net_addr_parse(addr, 0, &a, NULL) == 0) {
		net_addr_any_to_loopback(&a);
		net_addr_format(&a, ic->socks, sizeof ic->socks);
	} else
		snprintf(ic->socks, sizeof ic->socks, "%s", addr);
}

/*
 * The SOCKS port: --socks, the engine's status, or the config. Leaves
 * ic->socks empty and ic->why set when there is none.
 */
static void
find_socks(struct ip_cli *ic)
{
	struct err e = {""};
	char *path;
	json_t *r, *so;
	const char *listen, *proto;
	int auth = 0;

	if (ic->socks_arg != NULL) {
		set_socks(ic, ic->socks_arg);
		return;
	}
	path = ic->control ? xstrdup(ic->control) : ctl_default_path("client");
	r = ctlc_call(path, "status", 3000, &e);
	so = json_object_get(json_object_get(r, "status"), "socks");
	listen = json_string_value(json_object_get(so, "listen"));
	proto = json_string_value(json_object_get(so, "protocol"));
	if (r != NULL && listen != NULL) {
		if (proto != NULL && strcmp(proto, "socks5") != 0)
			snprintf(ic->why, sizeof ic->why,
			    "the engine's listener %s is a TCP forward, not "
			    "SOCKS",
			    listen);
		else
			set_socks(ic, listen);
		auth = json_is_true(json_object_get(so, "auth"));
	} else if (r != NULL)
		snprintf(ic->why, sizeof ic->why,
		    "the engine at %s reports no SOCKS listener", path);
	else if (ic->have_cfg && !ic->cfg.protocol_tcp) {
		/* No engine of ours: an upstream client from this config. */
		char buf[NET_ADDR_STRLEN + 8];

		snprintf(buf, sizeof buf, "%s:%u",
		    ic->cfg.listen_ip ? ic->cfg.listen_ip : "127.0.0.1",
		    ic->cfg.listen_port);
		if (ic->cfg.listen_ip != NULL && strchr(ic->cfg.listen_ip, ':'))
			snprintf(buf, sizeof buf, "[%s]:%u", ic->cfg.listen_ip,
			    ic->cfg.listen_port);
		set_socks(ic, buf);
		auth = ic->cfg.socks_auth;
	} else
		snprintf(ic->why, sizeof ic->why,
		    "%s; start connect, or give --socks HOST:PORT", e.msg);
	if (ic->socks[0] != '\0' && auth &&
	    (!ic->have_cfg || ic->cfg.socks_user == NULL)) {
		snprintf(ic->why, sizeof ic->why,
		    "the SOCKS port %s needs a user and password: give "
		    "--config with SOCKS5_USER and SOCKS5_PASS",
		    ic->socks);
		ic->socks[0] = '\0';
	}
	json_decref(r);
	free(path);
}

static void
on_done(void *arg, struct exitip *x)
{
	(void)x;
	ev_stop(arg);
}

static void
on_deadline(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	ev_stop(loop);
}

static void
ip_cli_free(struct ip_cli *ic)
{
	size_t i;

	for (i = 0; i < ic->nowned; i++)
		free(ic->owned[i]);
	cfg_client_clear(&ic->cfg); /* set up by defaults at least */
	cfg_free(ic->conf);
}

/* The keys ip reads: a problem in one of them stops it. */
static const char *const ip_keys[] = {"MDNS_IP_ECHO_V4", "MDNS_IP_ECHO_V6",
    "MDNS_EXPECTED_EXIT_IP", "LISTEN_IP", "LISTEN_PORT", "PROTOCOL_TYPE",
    "SOCKS5_AUTH", "SOCKS5_USER", "SOCKS5_PASS"};

/* --config and --profile through the model; -1 with e set. */
static int
load_config(
    struct cli_ctx *ctx, struct ip_cli *ic, const char *profile, struct err *e)
{
	struct cfg_opts co = {.role = CFG_CLIENT};
	struct profile *p = NULL;
	const char *why;
	size_t i;
	int rc;

	if (ctx->config == NULL && profile == NULL)
		return 0;
	if (profile != NULL && prof_load_file(profile, &p, e) != 0)
		return -1;
	rc = cfg_load(ctx->config, p, &co, &ic->conf, e);
	prof_free(p);
	if (rc != 0)
		return -1;
	for (i = 0; i < nitems(ip_keys); i++)
		if ((why = cfg_key_problem(ic->conf, ip_keys[i])) != NULL)
			return err_set(e, "%s", why);
	cfg_client_clear(&ic->cfg);
	cfg_client_copy(&ic->cfg, &ic->conf->client);
	ic->have_cfg = ctx->config != NULL;
	return 0;
}

/*
 * What the model conf (NULL: none) adds to the options: the services
 * (the config's when none was named, else the built-in ones) and the
 * expectation. ic->cfg holds conf's client settings. 0 / -1 with e set.
 */
static int
ip_from_model(struct ip_cli *ic, const struct cfg *conf, struct err *e)
{
	const struct cfg_client *cl = &ic->cfg;
	int named;
	size_t i;

	named = ic->nsvc > 0;
	for (i = 0; !named && i < cl->nip_echo_v4; i++)
		if (add_service(ic, cl->ip_echo_v4[i], 4, e) != 0)
			return -1;
	for (i = 0; !named && i < cl->nip_echo_v6; i++)
		if (add_service(ic, cl->ip_echo_v6[i], 6, e) != 0)
			return -1;
	for (i = 0; ic->nsvc == 0 && i < exitip_ndefault_services; i++)
		ic->svc[i] = exitip_default_services[i];
	if (ic->nsvc == 0)
		ic->nsvc = exitip_ndefault_services;
	return find_expectation(ic, conf, e);
}

/* --config and --profile, then ip_from_model. 0 / -1 with e set. */
static int
ip_configure(
    struct cli_ctx *ctx, struct ip_cli *ic, const char *profile, struct err *e)
{
	if (load_config(ctx, ic, profile, e) != 0)
		return -1;
	return ip_from_model(ic, ic->conf, e);
}

/* Everything before the fetches; -1 after printing why. */
static int
ip_setup(struct cli_ctx *ctx, struct ip_cli *ic, const struct args *args)
{
	struct err e = {""};
	const char *v;
	size_t i;

	ic->want4 = args_has(args, '4');
	ic->want6 = args_has(args, '6');
	if (!ic->want4 && !ic->want6)
		ic->want4 = ic->want6 = 1;
	ic->socks_arg = args_get(args, OPT_SOCKS);
	ic->control = args_get(args, OPT_CONTROL);
	ic->store = !args_has(args, OPT_NO_STORE);
	if (args_strtonum(args, OPT_TIMEOUT, 100, 600000, &ic->timeout_ms) != 0)
		return -1;
	for (i = 0; (v = args_value(args, OPT_EXPECT, i)) != NULL; i++)
		if (add_expect(ic, v, &e) != 0)
			goto bad;
	/* Services in command-line order, whichever option named them. */
	for (i = 0; i < args->nv; i++) {
		int k = args->v[i].key;

		if ((k == OPT_SERVICE || k == OPT_SERVICE4 ||
			k == OPT_SERVICE6) &&
		    add_service(ic, args->v[i].value,
			k == OPT_SERVICE4     ? 4 :
			    k == OPT_SERVICE6 ? 6 :
						0,
			&e) != 0)
			goto bad;
	}
	if (ip_configure(ctx, ic, args_get(args, OPT_PROFILE), &e) != 0)
		goto bad;
	find_socks(ic);
	return 0;
bad:
	cli_error(&cmd_ip_entry, "%s", e.msg);
	return -1;
}

/* The probe's options from ic (pointing into ic). */
static void
ip_probe_opts(struct ip_cli *ic, struct exitip_opts *o)
{
	memset(o, 0, sizeof *o);
	o->svc = ic->svc;
	o->nsvc = ic->nsvc;
	o->want4 = ic->want4;
	o->want6 = ic->want6;
	o->socks = ic->socks[0] ? ic->socks : NULL;
	o->no_socks_why = ic->why;
	if (o->socks != NULL && ic->have_cfg && ic->cfg.socks_auth) {
		o->socks_user = ic->cfg.socks_user;
		o->socks_pass = ic->cfg.socks_pass;
	}
	o->timeout_ms = (int)ic->timeout_ms;
	snprintf(ic->ua, sizeof ic->ua, "mdns-doctor/%s", cli_version());
	o->user_agent = ic->ua;
	o->expect = ic->expect_ptr;
	o->nexpect = ic->nexpect;
	o->expect_from = ic->expect_from[0] ? ic->expect_from : NULL;
}

/* Judge each family asked for: c gets up to two checks (*nc). */
static void
ip_judge(const struct exitip_opts *o, const struct exitip *x,
    struct res_check c[2], size_t *nc)
{
	const struct exitip_obs *obs;
	size_t n;
	int fam;

	*nc = 0;
	obs = exitip_obs(x, &n);
	for (fam = 4; fam <= 6; fam += 2) {
		if ((fam == 4 && !o->want4) || (fam == 6 && !o->want6))
			continue;
		if (exitip_judge(obs, n, fam, o, &c[*nc]) == 0)
			(*nc)++;
	}
}

/*
 * Fetch through the tunnel and directly, then judge each family asked
 * for: c gets up to two checks (*nc). 0, or -1 with e set when the
 * fetches cannot run.
 */
static int
ip_measure(struct ip_cli *ic, int quiet, struct res_check c[2], size_t *nc,
    struct err *e)
{
	struct exitip_opts o;
	struct exitip *x = NULL;
	struct ev_loop *loop = NULL;
	int rc = -1;

	*nc = 0;
	ip_probe_opts(ic, &o);
	if (!quiet)
		fprintf(stderr, "ip: %zu service(s), directly%s%s\n", o.nsvc,
		    o.socks ? " and through socks5h://" : "; no tunnel path: ",
		    o.socks ? o.socks : ic->why);
	if ((loop = ev_loop_new(e)) == NULL ||
	    (x = exitip_start(loop, &o, on_done, loop, e)) == NULL)
		goto done;
	/* curl ends every fetch at its timeout; this is only a backstop. */
	ev_timer_add(
	    loop, ((uint64_t)ic->timeout_ms + 5000) * 1000, on_deadline, NULL);
	if (ev_run(loop) != 0) {
		err_set(e, "event loop failed");
		goto done;
	}
	ip_judge(&o, x, c, nc);
	rc = 0;
done:
	exitip_free(x);
	if (loop != NULL)
		ev_loop_free(loop);
	return rc;
}

/* ---- connect --checks (checks-out.h) ---------------------------------- */

struct cli_ip_plan {
	struct ip_cli ic;
	struct exitip_opts o;
};

struct cli_ip_plan *
cli_ip_plan_new(const struct cfg *conf, const char *socks,
    const char *no_socks_why, struct err *e)
{
	struct cli_ip_plan *p = xcalloc(1, sizeof *p);
	struct ip_cli *ic = &p->ic;

	ic->timeout_ms = IP_TIMEOUT_MS;
	ic->want4 = ic->want6 = 1;
	cfg_client_defaults(&ic->cfg);
	cfg_client_clear(&ic->cfg);
	cfg_client_copy(&ic->cfg, &conf->client);
	ic->have_cfg = 1;
	if (ip_from_model(ic, conf, e) != 0) {
		cli_ip_plan_free(p);
		return NULL;
	}
	if (socks != NULL)
		set_socks(ic, socks);
	else
		snprintf(ic->why, sizeof ic->why, "%s",
		    no_socks_why ? no_socks_why : "no SOCKS port");
	if (ic->socks[0] != '\0' && ic->cfg.protocol_tcp) {
		snprintf(ic->why, sizeof ic->why,
		    "the engine's listener %s is a TCP forward, not SOCKS",
		    ic->socks);
		ic->socks[0] = '\0';
	}
	ip_probe_opts(ic, &p->o);
	return p;
}

const struct exitip_opts *
cli_ip_plan_opts(const struct cli_ip_plan *p)
{
	return &p->o;
}

void
cli_ip_plan_judge(const struct cli_ip_plan *p, const struct exitip *x,
    struct res_check c[2], size_t *nc)
{
	ip_judge(&p->o, x, c, nc);
}

void
cli_ip_plan_free(struct cli_ip_plan *p)
{
	if (p == NULL)
		return;
	ip_cli_free(&p->ic);
	free(p);
}

int
cli_ip_checks(struct cli_ctx *ctx, const char *control, int timeout_ms,
    int only_if_expected, struct res_check out[2], size_t *nout, struct err *e)
{
	struct ip_cli ic;
	int rc;

	*nout = 0;
	memset(&ic, 0, sizeof ic);
	ic.timeout_ms = timeout_ms;
	ic.control = control;
	ic.want4 = ic.want6 = 1;
	cfg_client_defaults(&ic.cfg);
	if (ip_configure(ctx, &ic, NULL, e) != 0)
		rc = -1;
	else if (only_if_expected && ic.nexpect == 0)
		rc = 1;
	else {
		find_socks(&ic);
		rc = ip_measure(&ic, 1, out, nout, e);
	}
	ip_cli_free(&ic);
	return rc;
}

static int
cmd_ip_run(struct cli_ctx *ctx, const struct args *args)
{
	struct ip_cli ic;
	struct cli_checks *out;
	struct res_check c[2];
	struct err e = {""};
	size_t i, nc = 0;
	int rc = EXIT_UNKNOWN;

	memset(&ic, 0, sizeof ic);
	ic.timeout_ms = IP_TIMEOUT_MS;
	ic.store = 1;
	cfg_client_defaults(&ic.cfg);
	if (ip_setup(ctx, &ic, args) != 0)
		goto done;
	if (ip_measure(&ic, ctx->quiet, c, &nc, &e) != 0) {
		cli_error(&cmd_ip_entry, "%s", e.msg);
		goto done;
	}
	if ((out = cli_checks_open(
		 ctx, &cmd_ip_entry, args->argc, args->argv, ic.store)) == NULL)
		goto done;
	for (i = 0; i < nc; i++)
		cli_checks_add(out, &c[i]);
	if (nc == 0)
		cli_error(&cmd_ip_entry, "no service of the family asked for");
	rc = cli_checks_close(out, exitip_exit_code(c, nc));
done:
	ip_cli_free(&ic);
	return rc;
}

const struct cmd_entry cmd_ip_entry = {
    .name = "ip",
    .summary = "public IP through the tunnel and directly, per family, "
	       "against the expected exit",
    .args = {.opts = ip_opts, .formats = "text,json,jsonl,csv"},
    .run = cmd_ip_run,
};
