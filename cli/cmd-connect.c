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
#include "engine/client.h"
#include "engine/ctl.h"

enum { OPT_RESOLVERS = 1, OPT_LISTEN, OPT_PROFILE, OPT_CONTROL };

static const struct option connect_longopts[] = {
    {"resolvers", required_argument, NULL, OPT_RESOLVERS},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"control", required_argument, NULL, OPT_CONTROL},
    {NULL, 0, NULL, 0},
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
cmd_connect_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cfg_opts opts = {.role = -1};
	struct profile *prof = NULL;
	struct cfg *cfg = NULL;
	struct eng_client *cl = NULL;
	struct ev_loop *loop = NULL;
	struct err e = {""};
	struct watch w = {NULL, NULL, 0, NULL};
	union net_addr bound;
	const char *listen = NULL, *profile = NULL;
	const char *control = NULL;
	char *ctlpath = NULL;
	char buf[NET_ADDR_STRLEN];
	int c, rc = EXIT_UNKNOWN;

	while ((c = cli_getopt(ctx, &cmd_connect_entry, argc, argv, "",
		    connect_longopts)) != -1) {
		switch (c) {
		case OPT_RESOLVERS:
			opts.resolvers = optarg;
			break;
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_PROFILE:
			profile = optarg;
			break;
		case OPT_CONTROL:
			control = optarg;
			break;
		case 'H':
			rc = EXIT_OK;
			goto out;
		default:
			goto out;
		}
	}
	if (optind < argc) {
		cli_error(&cmd_connect_entry, "unexpected argument: %s",
		    argv[optind]);
		goto out;
	}
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
	/* The engine has its own copy; the list may be large. */
	cfg_free(cfg);
	cfg = NULL;
	w.c = cl;
	{
		struct ctl_handlers h = {"client", cli_version(),
		    connect_status, connect_metrics, connect_stop, &w};

		ctlpath =
		    control ? xstrdup(control) : ctl_default_path("client");
		if ((w.ctl = ctl_server_new(loop, ctlpath, &h, &e)) == NULL) {
			if (control != NULL) {
				cli_error(&cmd_connect_entry, "%s", e.msg);
				goto out;
			}
			log_warn("no control socket: %s", e.msg);
		}
	}
	eng_client_set_event_cb(cl, connect_event, &w);
	if (cli_snap_start(ctx, loop, "connect", argc, argv, connect_status, &w,
		&w.snap) != 0) {
		rc = EXIT_UNKNOWN;
		goto out;
	}
	if (eng_client_start(cl, &bound, &e) == -1) {
		cli_error(&cmd_connect_entry, "%s", e.msg);
		goto out;
	}
	net_addr_format(&bound, buf, sizeof buf);
	printf("listening %s\n", buf);
	fflush(stdout);
	ev_set_before_sleep(loop, before_sleep, &w);
	if (ev_run(loop) != 0)
		goto out;
	if (eng_client_stats(cl)->phase == ENG_CLI_FAILED) {
		cli_error(&cmd_connect_entry, "%s", eng_client_error(cl));
		goto out;
	}
	rc = EXIT_OK;
out:
	cli_snap_stop(w.snap, rc);
	ctl_server_free(w.ctl);
	free(ctlpath);
	eng_client_free(cl);
	if (loop != NULL)
		ev_loop_free(loop);
	cfg_free(cfg);
	prof_free(prof);
	return rc;
}

const struct cmd_entry cmd_connect_entry = {
    .name = "connect",
    .usage = "connect --config client_config.toml --resolvers "
	     "client_resolvers.txt [--profile FILE] [--listen ADDR:PORT] "
	     "[--control PATH]",
    .summary = "run the tunnel client (local SOCKS5/SOCKS4 proxy)",
    .options = "  --resolvers FILE     client_resolvers.txt (all are "
	       "used: the resolver pool)\n"
	       "  --profile FILE       JSON profile: domains, resolvers, "
	       "method, key\n"
	       "  --listen ADDR:PORT   override LISTEN_IP/LISTEN_PORT (port "
	       "0: any)\n"
	       "  --control PATH       control socket (default "
	       "$XDG_RUNTIME_DIR/mdns-doctor/engine.sock)\n",
    .exec = cmd_connect_exec,
};
