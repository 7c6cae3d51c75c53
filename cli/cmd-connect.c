/* SPDX-License-Identifier: MIT */
/*
 * cmd-connect.c — `mdns-doctor connect`: run the tunnel client from an
 * upstream client_config.toml and client_resolvers.txt (and/or a JSON
 * profile), read through the one configuration model (common/config.h:
 * `config check` refuses the same files with the same line and exit 3),
 * until SIGINT or SIGTERM (then SESSION_CLOSE is sent before exiting). Prints "listening
 * ADDR" on stdout once the local proxy is bound (port 0 picks one), and
 * "connected session N" once the session is up. Serves the control
 * socket (docs/control-protocol.md): --control PATH must work; the default
 * path is best effort (a warning when another engine holds it).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine-snap.h"
#include "cli/live-checks.h"
#include "common/config.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/net.h"
#include "engine/client.h"
#include "engine/ctl.h"
#include "engine/tun.h"

enum {
	OPT_RESOLVERS = ARGS_LONG,
	OPT_LISTEN,
	OPT_PROFILE,
	OPT_CONTROL,
	OPT_TUN,
	OPT_CLEANUP,
	OPT_TUN_MTU,
	OPT_TUN_ADDR4,
	OPT_TUN_ADDR6,
	OPT_TUN_DNS4,
	OPT_TUN_DNS6,
	OPT_TUN_NO_RESOLVER,
	OPT_CHECKS,
};

static const struct args_opt connect_opts[] = {
    {OPT_RESOLVERS, "resolvers", "FILE", 0,
	"client_resolvers.txt (all are used: the resolver pool)"},
    {OPT_PROFILE, "profile", "FILE", 0,
	"JSON profile: domains, resolvers, method, key"},
    {OPT_LISTEN, "listen", "ADDR:PORT", 0,
	"override LISTEN_IP/LISTEN_PORT (port 0: any)"},
    {OPT_CONTROL, "control", "PATH", 0,
	"control socket (default\n"
	"$XDG_RUNTIME_DIR/mdns-doctor/engine.sock)"},
    {OPT_TUN, "tun", NULL, 0,
	"full-VPN mode: a TUN device (operand NAME, default\n"
	"mdns0) carries every application's traffic (docs/tun.md)"},
    {OPT_CLEANUP, "cleanup", NULL, 0,
	"with --tun: undo what a crashed --tun run left\n"
	"(routes, resolv.conf) and exit"},
    {OPT_TUN_MTU, "tun-mtu", "N", 0, "the TUN's MTU (1280..9000; 1500)"},
    {OPT_TUN_ADDR4, "tun-addr4", "ADDR/LEN|none", 0,
	"the TUN's IPv4 address (198.18.0.1/30)"},
    {OPT_TUN_ADDR6, "tun-addr6", "ADDR/LEN|none", 0,
	"the TUN's IPv6 address (fd6d:646e:7300::1/126)"},
    {OPT_TUN_DNS4, "tun-dns4", "ADDR", 0,
	"the mapped DNS address (198.18.0.2)"},
    {OPT_TUN_DNS6, "tun-dns6", "ADDR", 0,
	"the mapped IPv6 DNS address (fd6d:646e:7300::2)"},
    {OPT_TUN_NO_RESOLVER, "tun-no-resolver", NULL, 0,
	"leave the system resolver (/etc/resolv.conf) alone"},
    {OPT_CHECKS, "checks", "SECONDS", ARGS_OPTIONAL,
	"run the exit checks (ip, leak) inside the client\n"
	"every SECONDS (default 300; 1..86400): status\n"
	"exit_ip and leak (docs/checks.md)"},
    {0, NULL, NULL, 0, NULL},
};

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	eng_client_stop(arg);
}

struct watch {
	struct eng_client *c;
	struct ctl_server *ctl;
	int said;
	struct cli_snap *snap; /* periodic snapshots into the history */
};

/* Status list cap: huge pools would make every snapshot megabytes. */
#define STATUS_RESOLVERS_MAX 1000

static json_t *
connect_status(void *arg)
{
	struct watch *w = arg;

	return eng_client_status_json(
	    w->c, cli_version(), STATUS_RESOLVERS_MAX);
}

static char *
connect_metrics(void *arg)
{
	struct watch *w = arg;

	return eng_client_metrics_text(w->c);
}

static void
connect_stop(void *arg)
{
	struct watch *w = arg;

	eng_client_stop(w->c);
}

static void
connect_event(
    void *arg, const char *kind, const char *resolver, const char *detail)
{
	struct watch *w = arg;

	if (w->ctl != NULL)
		ctl_server_event(w->ctl, kind, resolver, detail);
	cli_snap_event(w->snap, kind, resolver, detail);
}

static void
before_sleep(struct ev_loop *loop, void *arg)
{
	struct watch *w = arg;
	const struct eng_client_stats *st = eng_client_stats(w->c);

	(void)loop;
	if (!w->said && st->phase == ENG_CLI_CONNECTED) {
		w->said = 1;
		printf("connected session %u mtu %u/%u\n", st->session_id,
		    st->up_mtu, st->down_mtu);
		fflush(stdout);
	}
}

/* "ADDR" (plen NULL) or "ADDR/LEN" or "none" (family AF_UNSPEC). */
static int
tun_addr(
    const char *opt, const char *s, union net_addr *a, int *plen, struct err *e)
{
	char buf[128], *slash = NULL;
	long long v;

	memset(a, 0, sizeof *a);
	if (plen != NULL && strcmp(s, "none") == 0)
		return 0;
	snprintf(buf, sizeof buf, "%s", s);
	if (plen != NULL && (slash = strchr(buf, '/')) == NULL)
		return err_set(e, "--%s: want ADDRESS/LENGTH: %s", opt, s);
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &a->in.sin_addr) == 1)
		a->sa.sa_family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &a->in6.sin6_addr) == 1)
		a->sa.sa_family = AF_INET6;
	else
		return err_set(e, "--%s: not an address: %s", opt, s);
	if (slash != NULL) {
		if (parse_int(slash + 1, 1,
			a->sa.sa_family == AF_INET ? 32 : 128, &v, e) == -1)
			return err_set(e, "--%s: bad length: %s", opt, s);
		*plen = (int)v;
	}
	return 0;
}

/* The --tun options into the device's and the machine's configuration. */
static int
tun_options(const struct args *args, struct tun_config *tc,
    struct tun_sys_config *sc, struct err *e)
{
	long long v;
	const char *s;

	tun_config_defaults(tc);
	memset(sc, 0, sizeof *sc);
	sc->set_resolver = !args_has(args, OPT_TUN_NO_RESOLVER);
	sc->default_routes = 1;
	if (args->noperands > 0) {
		if (strlen(args->operands[0]) >= sizeof tc->ifname ||
		    args->operands[0][0] == '\0' ||
		    strchr(args->operands[0], '/') != NULL)
			return err_set(
			    e, "not a device name: %s", args->operands[0]);
		snprintf(
		    tc->ifname, sizeof tc->ifname, "%s", args->operands[0]);
	}
	if (args_strtonum(args, OPT_TUN_MTU, TUN_MTU_MIN, TUN_MTU_MAX, &v) ==
	    -1)
		return err_set(
		    e, "--tun-mtu: %d..%d", TUN_MTU_MIN, TUN_MTU_MAX);
	if (args_has(args, OPT_TUN_MTU))
		tc->mtu = (int)v;
	if ((s = args_get(args, OPT_TUN_ADDR4)) != NULL &&
	    tun_addr("tun-addr4", s, &tc->addr4, &tc->plen4, e) == -1)
		return -1;
	if ((s = args_get(args, OPT_TUN_ADDR6)) != NULL &&
	    tun_addr("tun-addr6", s, &tc->addr6, &tc->plen6, e) == -1)
		return -1;
	if ((s = args_get(args, OPT_TUN_DNS4)) != NULL &&
	    tun_addr("tun-dns4", s, &tc->dns4, NULL, e) == -1)
		return -1;
	if ((s = args_get(args, OPT_TUN_DNS6)) != NULL &&
	    tun_addr("tun-dns6", s, &tc->dns6, NULL, e) == -1)
		return -1;
	if (tc->addr6.sa.sa_family == AF_UNSPEC)
		memset(&tc->dns6, 0, sizeof tc->dns6);
	return 0;
}

static void
say_line(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

/* connect --tun --cleanup: what a crashed run left, undone. */
static int
tun_cleanup(const struct tun_sys_config *sc)
{
	struct err e = {""};
	int changed = 0;

	if (tun_sys_cleanup(sc, say_line, NULL, &changed, &e) == -1) {
		cli_error(&cmd_connect_entry, "--cleanup: %s", e.msg);
		return EXIT_UNKNOWN;
	}
	printf("cleanup: %d change(s) undone\n", changed);
	return EXIT_OK;
}

/* --listen overrides LISTEN_IP/LISTEN_PORT (port 0: any free one). */
static int
apply_listen(struct cfg *c, const char *listen, struct err *e)
{
	struct cfg_client *cl = &c->client;
	char buf[NET_ADDR_STRLEN];
	union net_addr la;

	if (net_addr_parse(listen, cl->listen_port, &la, e) == -1)
		return -1;
	net_addr_format_ip(&la, buf, sizeof buf);
	free(cl->listen_ip);
	cl->listen_ip = xstrdup(buf);
	cl->listen_port = net_addr_port(&la);
	cfg_set_source(c, "LISTEN_IP", CFG_SRC_OPTION);
	cfg_set_source(c, "LISTEN_PORT", CFG_SRC_OPTION);
	return 0;
}

static int
cmd_connect_run(struct cli_ctx *ctx, const struct args *args)
{
	struct cfg_opts opts = {.role = -1};
	struct profile *prof = NULL;
	struct cfg *cfg = NULL;
	struct eng_client *cl = NULL;
	struct ev_loop *loop = NULL;
	struct err e = {""};
	struct watch w = {NULL, NULL, 0, NULL};
	struct cli_live *live = NULL;
	unsigned checks_ms = LIVE_CHECKS_INTERVAL_MS;
	union net_addr bound;
	const char *listen = args_get(args, OPT_LISTEN);
	const char *profile = args_get(args, OPT_PROFILE);
	const char *control = args_get(args, OPT_CONTROL);
	int ctl_busy = 0, tun = args_has(args, OPT_TUN);
	char buf[NET_ADDR_STRLEN], finding[2 * ERR_MSG_MAX];
	int rc = EXIT_UNKNOWN;
	struct tun_config tc;
	struct tun_sys_config sc;

	if (!tun &&
	    (args->noperands > 0 || args_has(args, OPT_CLEANUP) ||
		args_has(args, OPT_TUN_MTU) || args_has(args, OPT_TUN_ADDR4) ||
		args_has(args, OPT_TUN_ADDR6) || args_has(args, OPT_TUN_DNS4) ||
		args_has(args, OPT_TUN_DNS6) ||
		args_has(args, OPT_TUN_NO_RESOLVER))) {
		/* "--checks 60": the value is optional, so only --checks=60
		 * gives it; 60 became an operand. */
		if (args->noperands > 0 && args_has(args, OPT_CHECKS) &&
		    args_get(args, OPT_CHECKS) == NULL &&
		    strspn(args->operands[0], "0123456789.") ==
			strlen(args->operands[0]))
			cli_error(&cmd_connect_entry,
			    "write --checks=%s (the interval is optional and "
			    "follows '=')",
			    args->operands[0]);
		else
			cli_error(&cmd_connect_entry,
			    "a device name, --cleanup and --tun-* need --tun");
		return EXIT_UNKNOWN;
	}
	if (tun && tun_options(args, &tc, &sc, &e) == -1) {
		cli_error(&cmd_connect_entry, "%s", e.msg);
		return EXIT_UNKNOWN;
	}
	if (tun && args_has(args, OPT_CLEANUP))
		return tun_cleanup(&sc);
	/* In full-VPN mode the "direct" fetches of ip are routed into the
	 * TUN too: every exit would read as not_tunnelled (docs/checks.md). */
	if (tun && args_has(args, OPT_CHECKS)) {
		cli_error(&cmd_connect_entry,
		    "--checks does not work with --tun yet: ip's direct path "
		    "would go through the tunnel too");
		return EXIT_UNKNOWN;
	}
	if (args_seconds(args, OPT_CHECKS, 1000, 86400000, &checks_ms) != 0)
		return EXIT_UNKNOWN;
	opts.resolvers = args_get(args, OPT_RESOLVERS);
	if ((ctx->config == NULL || opts.resolvers == NULL) &&
	    profile == NULL) {
		cli_error(&cmd_connect_entry,
		    "--config client_config.toml and --resolvers "
		    "client_resolvers.txt (or --profile FILE) are required");
		goto out;
	}
	log_set_level(ctx->quiet  ? LOG_ERROR :
		ctx->verbose >= 2 ? LOG_DEBUG :
		ctx->verbose	  ? LOG_INFO :
				    LOG_WARN);
	/* The one reader: the same message and exit code as config check. */
	if ((profile != NULL && prof_load_file(profile, &prof, &e) == -1) ||
	    cfg_load_valid(ctx->config, prof, &opts, CFG_CLIENT, &cfg, &e) ==
		-1) {
		fprintf(stderr, "%s\n", e.msg);
		goto out;
	}
	cfg_log_warnings(cfg);
	/* A weak method is the peer's choice too: said, never refused. */
	if (cfg_method_finding(cfg, finding, sizeof finding) != EXIT_OK)
		log_warn("%s", finding);
	if (listen != NULL && apply_listen(cfg, listen, &e) == -1) {
		cli_error(&cmd_connect_entry, "%s", e.msg);
		goto out;
	}
	rc = EXIT_CRITICAL;
	signal(SIGPIPE, SIG_IGN);
	if ((loop = ev_loop_new(&e)) == NULL ||
	    (cl = eng_client_new(loop, &cfg->client, &e)) == NULL ||
	    ev_signal_add(loop, SIGINT, on_signal, cl, &e) == -1 ||
	    ev_signal_add(loop, SIGTERM, on_signal, cl, &e) == -1) {
		cli_error(&cmd_connect_entry, "%s", e.msg);
		goto out;
	}
	w.c = cl;
	{
		struct ctl_handlers h = {"client", cli_version(),
		    connect_status, connect_metrics, connect_stop, &w};

		/*
		 * --control must work. The default place is shared with
		 * other engines of ours: when one holds it, this one runs
		 * without a socket (so two can run); no safe place at all
		 * (a planted directory) stops us rather than run blind.
		 */
		w.ctl = control != NULL ?
		    ctl_server_new(loop, control, &h, &e) :
		    ctl_server_new_default(loop, &h, &ctl_busy, &e);
		if (w.ctl == NULL) {
			if (!ctl_busy) {
				cli_error(&cmd_connect_entry, "%s", e.msg);
				goto out;
			}
			log_warn("no control socket: %s", e.msg);
		}
	}
	eng_client_set_event_cb(cl, connect_event, &w);
	if (cli_snap_start(
		ctx, loop, "connect", args, connect_status, &w, &w.snap) != 0) {
		rc = EXIT_UNKNOWN;
		goto out;
	}
	/* Full-VPN mode: the resolvers are routed outside first. */
	if (tun && eng_client_tun_start(cl, &tc, &sc, &e) == -1) {
		cli_error(&cmd_connect_entry, "--tun: %s", e.msg);
		goto out;
	}
	if (eng_client_start(cl, &bound, &e) == -1) {
		cli_error(&cmd_connect_entry, "%s", e.msg);
		goto out;
	}
	/* The exit checks read the settings; then the engine has its own
	 * copy and ours goes (the resolver list may be large). */
	if (args_has(args, OPT_CHECKS) &&
	    (live = cli_live_start(
		 loop, cl, &bound, cfg, checks_ms, w.snap, &e)) == NULL) {
		cli_error(&cmd_connect_entry, "--checks: %s", e.msg);
		rc = EXIT_UNKNOWN;
		goto out;
	}
	cfg_free(cfg);
	cfg = NULL;
	net_addr_format(&bound, buf, sizeof buf);
	printf("listening %s\n", buf);
	if (tun)
		printf("tun %s\n",
		    tc.ifname[0] != '\0' ? tc.ifname : TUN_DEFAULT_NAME);
	fflush(stdout);
	ev_set_before_sleep(loop, before_sleep, &w);
	if (ev_run(loop) != 0)
		goto out;
	/* SIGINT/SIGTERM stopped the loop: the machine comes back first. */
	if (tun && eng_client_tun_stop(cl, &e) == -1) {
		cli_error(&cmd_connect_entry, "--tun: restore: %s", e.msg);
		goto out;
	}
	if (eng_client_stats(cl)->phase == ENG_CLI_FAILED) {
		cli_error(&cmd_connect_entry, "%s", eng_client_error(cl));
		goto out;
	}
	rc = EXIT_OK;
out:
	cli_live_stop(live);
	cli_snap_stop(w.snap, rc);
	ctl_server_free(w.ctl);
	if (cl != NULL && eng_client_tun_stop(cl, &e) == -1) {
		cli_error(&cmd_connect_entry, "--tun: restore: %s", e.msg);
		rc = EXIT_CRITICAL;
	}
	eng_client_free(cl);
	if (loop != NULL)
		ev_loop_free(loop);
	cfg_free(cfg);
	prof_free(prof);
	return rc;
}

const struct cmd_entry cmd_connect_entry = {
    .name = "connect",
    .summary = "run the tunnel client (local SOCKS5/SOCKS4 proxy)",
    .args = {.opts = connect_opts,
	.operands = "[NAME]",
	.max_operands = 1,
	.notes = "\nNeeds --config client_config.toml and --resolvers "
		 "client_resolvers.txt,\nor --profile FILE. A weak "
		 "DATA_ENCRYPTION_METHOD (0..2) is logged as a\nwarning at "
		 "start (docs/security.md).\n"
		 "With --tun (root or CAP_NET_ADMIN) NAME is the TUN device "
		 "(mdns0);\nSIGINT/SIGTERM restore the routes and "
		 "resolv.conf; after a crash,\n`connect --tun --cleanup`.\n"},
    .run = cmd_connect_run,
};
