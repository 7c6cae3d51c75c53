/*
 * cmd-serve.c — `mdns-doctor serve`: run the tunnel server from an
 * upstream server_config.toml (and the encrypt_key.txt it names), read
 * through the one configuration model (common/config.h), until SIGINT or
 * SIGTERM. A configuration `config check` refuses is refused here with
 * the same line and exit 3. Prints "listening ADDR" on stdout once bound,
 * so a caller that asked for port 0 learns the port.
 */
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
#include "engine/ctl.h"
#include "engine/server.h"

enum { OPT_LISTEN = 1, OPT_ALLOW, OPT_CONTROL };

static const struct option serve_longopts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"allow-target", required_argument, NULL, OPT_ALLOW},
    {"control", required_argument, NULL, OPT_CONTROL},
    {NULL, 0, NULL, 0},
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

/* --allow-target CIDR... extend MDNS_ALLOW_TARGETS. */
static void
apply_allow(struct cfg *c, char **allow, size_t nallow)
{
	struct cfg_server *sv = &c->server;
	size_t i;

	if (nallow == 0)
		return;
	sv->allow = xreallocarray(
	    sv->allow, sv->nallow + nallow + 1, sizeof *sv->allow);
	for (i = 0; i < nallow; i++)
		sv->allow[sv->nallow++] = xstrdup(allow[i]);
	cfg_set_source(c, "MDNS_ALLOW_TARGETS", CFG_SRC_OPTION);
}

static int
cmd_serve_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cfg_opts opts = {.role = -1};
	struct cfg *cfg = NULL;
	struct eng_server *srv = NULL;
	struct ev_loop *loop = NULL;
	struct err e = {""};
	union net_addr la, bound;
	const char *listen = NULL, *control = NULL;
	struct ctl_server *ctl = NULL;
	struct serve_ctl sc = {0};
	struct cli_snap *snap = NULL;
	char *ctlpath = NULL, **allow = NULL;
	char buf[NET_ADDR_STRLEN];
	size_t nallow = 0;
	int c, rc = EXIT_UNKNOWN;

	while ((c = cli_getopt(ctx, &cmd_serve_entry, argc, argv, "",
		    serve_longopts)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_CONTROL:
			control = optarg;
			break;
		case OPT_ALLOW:
			allow = xreallocarray(allow, nallow + 1, sizeof *allow);
			allow[nallow++] = optarg;
			break;
		case 'H':
			rc = EXIT_OK;
			goto out;
		default:
			goto out;
		}
	}
	if (optind < argc) {
		cli_error(
		    &cmd_serve_entry, "unexpected argument: %s", argv[optind]);
		goto out;
	}
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
	apply_allow(cfg, allow, nallow);
	if (apply_listen(cfg, listen, &la, &e) == -1) {
		cli_error(&cmd_serve_entry, "%s", e.msg);
		goto out;
	}
	rc = EXIT_CRITICAL;
	if ((loop = ev_loop_new(&e)) == NULL ||
	    (srv = eng_server_new(loop, &cfg->server, &e)) == NULL ||
	    eng_server_listen(srv, &la, &bound, &e) == -1 ||
	    ev_signal_add(loop, SIGINT, on_signal, NULL, &e) == -1 ||
	    ev_signal_add(loop, SIGTERM, on_signal, NULL, &e) == -1) {
		cli_error(&cmd_serve_entry, "%s", e.msg);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The control socket: an explicit --control must work; the default
	 * path is best effort (another server may hold it), so the tunnel
	 * still serves without it.
	 */
	sc.loop = loop;
	sc.srv = srv;
	sc.started_us = now_mono_us();
	{
		struct ctl_handlers h = {"server", cli_version(), serve_status,
		    serve_metrics, serve_stop, &sc};

		ctlpath =
		    control ? xstrdup(control) : ctl_default_path("server");
		if ((ctl = ctl_server_new(loop, ctlpath, &h, &e)) == NULL) {
			if (control != NULL) {
				cli_error(&cmd_serve_entry, "%s", e.msg);
				goto out;
			}
			log_warn("no control socket: %s", e.msg);
		}
	}
	if (cli_snap_start(ctx, loop, "serve", argc, argv, serve_status, &sc,
		&snap) != 0) {
		rc = EXIT_UNKNOWN;
		goto out;
	}
	net_addr_format(&bound, buf, sizeof buf);
	printf("listening %s\n", buf);
	fflush(stdout);
	log_info("serving %zu domain(s), method %d, on %s",
	    cfg->server.ndomains, cfg->server.method, buf);
	rc = ev_run(loop) == 0 ? EXIT_OK : EXIT_CRITICAL;
out:
	cli_snap_stop(snap, rc);
	ctl_server_free(ctl);
	free(ctlpath);
	eng_server_free(srv);
	if (loop != NULL)
		ev_loop_free(loop);
	cfg_free(cfg);
	free(allow);
	return rc;
}

const struct cmd_entry cmd_serve_entry = {
    .name = "serve",
    .usage = "serve --config server_config.toml [--listen ADDR:PORT] "
	     "[--allow-target CIDR]...",
    .summary = "run the tunnel server (authoritative for the domain)",
    .options =
	"  --listen ADDR:PORT   override UDP_HOST/UDP_PORT (port 0: any)\n"
	"  --allow-target CIDR  let the target filter pass this range\n"
	"                       (tests, special deployments; repeatable)\n"
	"  --control PATH       control socket (default: runtime dir\n"
	"                       server.sock; status --server reads it)\n",
    .exec = cmd_serve_exec,
};
