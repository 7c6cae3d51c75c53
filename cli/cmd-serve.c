/* SPDX-License-Identifier: MIT */
/*
 * cmd-serve.c — `mdns-doctor serve`: run the tunnel server from an
 * upstream server_config.toml (and the encrypt_key.txt it names), read
 * through the one configuration model (common/config.h), until SIGINT or
 * SIGTERM. A configuration `config check` refuses is refused here with
 * the same line and exit 3. Prints "listening ADDR" on stdout once bound,
 * so a caller that asked for port 0 learns the port.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine-snap.h"
#include "common/config.h"
#include "common/ev.h"
#include "common/log.h"
#include "common/net.h"
#include "common/profile.h"
#include "engine/ctl.h"
#include "engine/server.h"

enum { OPT_LISTEN = ARGS_LONG, OPT_ALLOW, OPT_CONTROL, OPT_LEAK_ZONE };

static const struct args_opt serve_opts[] = {
    {OPT_LISTEN, "listen", "ADDR:PORT", 0,
	"override UDP_HOST/UDP_PORT (port 0: any)"},
    {OPT_ALLOW, "allow-target", "CIDR", ARGS_REPEAT,
	"let the target filter pass this range\n"
	"(tests, special deployments; repeatable)"},
    {OPT_CONTROL, "control", "PATH", 0,
	"control socket (default: runtime dir\n"
	"server.sock; status --server reads it)"},
    {OPT_LEAK_ZONE, "leak-zone", "NAME", 0,
	"also answer this zone for `leak` (overrides\n"
	"MDNS_LEAK_ZONE; docs/checks.md)"},
    {0, NULL, NULL, 0, NULL},
};

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	ev_stop(loop);
}

/* What the control socket callbacks need. */
struct serve_ctl {
	struct ev_loop *loop;
	struct eng_server *srv;
	uint64_t started_us;
	int stopping;
};

static json_t *
serve_status(void *arg)
{
	struct serve_ctl *sc = arg;

	return eng_server_status_json(sc->srv, cli_version(),
	    (now_mono_us() - sc->started_us) / 1000, sc->stopping);
}

static char *
serve_metrics(void *arg)
{
	struct serve_ctl *sc = arg;

	return eng_server_metrics_text(
	    sc->srv, (now_mono_us() - sc->started_us) / 1000);
}

static void
serve_stop(void *arg)
{
	struct serve_ctl *sc = arg;

	sc->stopping = 1;
	ev_stop(sc->loop);
}

/* --listen overrides UDP_HOST/UDP_PORT (port 0: any free one). */
static int
apply_listen(
    struct cfg *c, const char *listen, union net_addr *la, struct err *e)
{
	struct cfg_server *sv = &c->server;
	char buf[NET_ADDR_STRLEN], *hostport;
	int rc;

	if (listen != NULL)
		hostport = xstrdup(listen);
	else if (strchr(sv->udp_host, ':') != NULL)
		hostport = xasprintf("[%s]", sv->udp_host);
	else
		hostport = xstrdup(sv->udp_host);
	rc = net_addr_parse(hostport, sv->udp_port, la, e);
	free(hostport);
	if (rc == -1 || listen == NULL)
		return rc;
	net_addr_format_ip(la, buf, sizeof buf);
	free(sv->udp_host);
	sv->udp_host = xstrdup(buf);
	sv->udp_port = net_addr_port(la);
	cfg_set_source(c, "UDP_HOST", CFG_SRC_OPTION);
	cfg_set_source(c, "UDP_PORT", CFG_SRC_OPTION);
	return 0;
}

/*
 * The listening socket could not be bound: name the address and where it
 * came from (--listen, or the UDP_HOST/UDP_PORT keys), and say when it
 * is in use (another serve, a resolver on port 53).
 */
static void
serve_bind_error(
    const char *listen, const union net_addr *la, const struct err *e)
{
	char addr[NET_ADDR_STRLEN];
	const char *from = listen != NULL ? "--listen" : "UDP_HOST/UDP_PORT";

	net_addr_format(la, addr, sizeof addr);
	if (strstr(e->msg, strerror(EADDRINUSE)) != NULL)
		cli_error(&cmd_serve_entry,
		    "%s is in use (%s): another server or resolver holds "
		    "it",
		    addr, from);
	else
		cli_error(&cmd_serve_entry, "cannot listen on %s (%s): %s",
		    addr, from, e->msg);
}

/* --leak-zone NAME overrides MDNS_LEAK_ZONE. 0, or -1 with e set. */
static int
apply_leak_zone(struct cfg *c, const char *zone, struct err *e)
{
	char *z;

	if (zone == NULL)
		return 0;
	z = xstrdup(zone);
	if (prof_domain_normalize(z, e) == -1) {
		free(z);
		return err_prefix(e, "--leak-zone");
	}
	free(c->server.leak_zone);
	c->server.leak_zone = z;
	cfg_set_source(c, "MDNS_LEAK_ZONE", CFG_SRC_OPTION);
	return 0;
}

/* --allow-target CIDR... extend MDNS_ALLOW_TARGETS. */
static void
apply_allow(struct cfg *c, const struct args *args)
{
	struct cfg_server *sv = &c->server;
	size_t i, n = (size_t)args_has(args, OPT_ALLOW);

	if (n == 0)
		return;
	sv->allow =
	    xreallocarray(sv->allow, sv->nallow + n + 1, sizeof *sv->allow);
	for (i = 0; i < n; i++)
		sv->allow[sv->nallow++] =
		    xstrdup(args_value(args, OPT_ALLOW, i));
	cfg_set_source(c, "MDNS_ALLOW_TARGETS", CFG_SRC_OPTION);
}

static int
cmd_serve_run(struct cli_ctx *ctx, const struct args *args)
{
	struct cfg_opts opts = {.role = -1};
	struct cfg *cfg = NULL;
	struct eng_server *srv = NULL;
	struct ev_loop *loop = NULL;
	struct err e = {""};
	union net_addr la, bound;
	const char *listen = args_get(args, OPT_LISTEN);
	const char *control = args_get(args, OPT_CONTROL);
	struct ctl_server *ctl = NULL;
	struct serve_ctl sc = {0};
	struct cli_snap *snap = NULL;
	int ctl_busy = 0;
	char buf[NET_ADDR_STRLEN], finding[2 * ERR_MSG_MAX];
	int rc = EXIT_UNKNOWN;

	if (ctx->config == NULL) {
		cli_error(&cmd_serve_entry,
		    "--config server_config.toml is "
		    "required");
		goto out;
	}
	log_set_level(ctx->quiet  ? LOG_ERROR :
		ctx->verbose >= 2 ? LOG_DEBUG :
		ctx->verbose	  ? LOG_INFO :
				    LOG_WARN);
	/* The one reader: the same message and exit code as config check. */
	if (cfg_load_valid(ctx->config, NULL, &opts, CFG_SERVER, &cfg, &e) ==
	    -1) {
		fprintf(stderr, "%s\n", e.msg);
		goto out;
	}
	cfg_log_warnings(cfg);
	/* A weak method is the clients' choice too: said, never refused. */
	if (cfg_method_finding(cfg, finding, sizeof finding) != EXIT_OK)
		log_warn("%s", finding);
	apply_allow(cfg, args);
	if (apply_leak_zone(cfg, args_get(args, OPT_LEAK_ZONE), &e) == -1 ||
	    apply_listen(cfg, listen, &la, &e) == -1) {
		cli_error(&cmd_serve_entry, "%s", e.msg);
		goto out;
	}
	rc = EXIT_CRITICAL;
	/*
	 * The signals are blocked before the server starts its lookup
	 * threads (engine/resolve.c), which inherit the mask: a thread
	 * with SIGTERM unblocked took it with the default action, so the
	 * process died without removing its control socket.
	 */
	if ((loop = ev_loop_new(&e)) == NULL ||
	    ev_signal_add(loop, SIGINT, on_signal, NULL, &e) == -1 ||
	    ev_signal_add(loop, SIGTERM, on_signal, NULL, &e) == -1 ||
	    (srv = eng_server_new(loop, &cfg->server, &e)) == NULL) {
		cli_error(&cmd_serve_entry, "%s", e.msg);
		goto out;
	}
	if (eng_server_listen(srv, &la, &bound, &e) == -1) {
		serve_bind_error(listen, &la, &e);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sc.loop = loop;
	sc.srv = srv;
	sc.started_us = now_mono_us();
	{
		struct ctl_handlers h = {"server", cli_version(), serve_status,
		    serve_metrics, serve_stop, &sc};

		/*
		 * --control must work. The default place is shared with
		 * other engines of ours: when one holds it, this one runs
		 * without a socket (so two can run); no safe place at all
		 * (a planted directory) stops us rather than run blind.
		 */
		ctl = control != NULL ?
		    ctl_server_new(loop, control, &h, &e) :
		    ctl_server_new_default(loop, &h, &ctl_busy, &e);
		if (ctl == NULL) {
			if (!ctl_busy) {
				cli_error(&cmd_serve_entry, "%s", e.msg);
				goto out;
			}
			log_warn("no control socket: %s", e.msg);
		}
	}
	if (cli_snap_start(
		ctx, loop, "serve", args, serve_status, &sc, &snap) != 0) {
		rc = EXIT_UNKNOWN;
		goto out;
	}
	net_addr_format(&bound, buf, sizeof buf);
	printf("listening %s\n", buf);
	fflush(stdout);
	log_info("serving %zu domain(s), method %d, on %s%s",
	    cfg->server.ndomains, cfg->server.method, buf,
	    *cfg->server.leak_zone ? "; and a leak zone" : "");
	rc = ev_run(loop) == 0 ? EXIT_OK : EXIT_CRITICAL;
out:
	cli_snap_stop(snap, rc);
	ctl_server_free(ctl);
	eng_server_free(srv);
	if (loop != NULL)
		ev_loop_free(loop);
	cfg_free(cfg);
	return rc;
}

const struct cmd_entry cmd_serve_entry = {
    .name = "serve",
    .summary = "run the tunnel server (authoritative for the domain)",
    .args = {.opts = serve_opts,
	.notes =
	    "\nNeeds --config server_config.toml (and the key file it "
	    "names). Without\nDATA_ENCRYPTION_METHOD it serves AES-256-GCM "
	    "(5; upstream's default is XOR);\na weak method (0..2) is "
	    "logged as a warning at start (docs/security.md).\n"},
    .run = cmd_serve_run,
};
