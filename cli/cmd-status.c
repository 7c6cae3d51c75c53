/* SPDX-License-Identifier: MIT */
/*
 * cmd-status.c — one-shot engine status from the control socket, as a text
 * summary or the raw JSON status object (--format json). Exit codes
 * (README, "Exit codes of status"): a client 0 when connected and live,
 * 1 when live but degraded (resolvers disabled, loss above --max-loss,
 * 10 % by default), 2 when
 * stalled, reconnecting or not connected; a server 0 when serving, 2
 * when stopping; 3 when no engine of ours answers (or only an untrusted
 * socket was found) and on usage errors.
 *
 * Without --control the socket is looked for in every place an engine of
 * ours could use (ctlc_find); the one used is said on stderr with -v and
 * in the JSON as "control". Every string from the socket is made safe for
 * a terminal before it is printed (ctlc_term_*, shared with the TUI).
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/ctlc.h"

enum { OPT_CONTROL = ARGS_LONG, OPT_SERVER, OPT_TIMEOUT, OPT_MAX_LOSS };

static const struct args_opt status_opts[] = {
    {OPT_CONTROL, "control", "PATH", 0,
	"control socket (default: runtime dir)"},
    {OPT_SERVER, "server", NULL, 0, "the server's socket (server.sock)"},
    {OPT_TIMEOUT, "timeout", "MS", 0, "reply deadline (default 3000)"},
    {OPT_MAX_LOSS, "max-loss", "PCT", 0,
	"mean loss of the active resolvers above which a\n"
	"live client is degraded, exit 1 (0..100; 10)"},
    {0, NULL, NULL, 0, NULL},
};

static long long
jint(json_t *o, const char *path)
{
	char buf[128], *p, *save = NULL;
	json_t *v = o;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = strtok_r(buf, ".", &save); p != NULL && v != NULL;
	     p = strtok_r(NULL, ".", &save))
		v = json_object_get(v, p);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return 0;
}

static const char *
jstr(json_t *o, const char *key, const char *dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* Loss above which a live client is degraded (--max-loss): the scan's
 * --max-loss default (README, "Verdicts and exit codes of the probes"). */
#define STATUS_MAX_LOSS_PCT 10

/*
 * Why a live client is degraded into why[] (empty when it is not):
 * disabled resolvers, or the active resolvers' mean loss over the pool's
 * window above max_loss (a fraction).
 */
static void
client_degraded(json_t *st, double max_loss, char *why, size_t len)
{
	json_t *list =
	    json_object_get(json_object_get(st, "resolvers"), "list");
	json_t *r;
	double loss = 0;
	size_t i, n = 0;

	why[0] = '\0';
	json_array_foreach(list, i, r)
	{
		const char *state =
		    json_string_value(json_object_get(r, "state"));

		if (state == NULL || strcmp(state, "active") != 0)
			continue;
		loss += json_number_value(json_object_get(r, "loss"));
		n++;
	}
	if (jint(st, "resolvers.disabled") > 0)
		snprintf(why, len, "%lld resolver(s) disabled",
		    jint(st, "resolvers.disabled"));
	else if (n > 0 && loss / (double)n > max_loss)
		snprintf(why, len,
		    "loss %.1f %% over the active resolvers (above %.0f %%)",
		    100.0 * loss / (double)n, 100.0 * max_loss);
}

/* An exit check of connect --checks: "ok 10.77.1.2 (detail)"; nothing
 * when --checks is off (null). */
static void
print_check(json_t *st, const char *label, const char *name)
{
	json_t *c = json_object_get(st, name);
	const char *v = json_string_value(json_object_get(c, "verdict"));
	const char *a = json_string_value(json_object_get(c, "address"));
	const char *d = json_string_value(json_object_get(c, "detail"));
	char sv[32], sa[200], sd[300];

	if (v == NULL)
		return;
	str_printable(v, sv, sizeof sv);
	str_printable(a ? a : "", sa, sizeof sa);
	str_printable(d ? d : "", sd, sizeof sd);
	printf("%-10s %s%s%s (%s)\n", label, sv, sa[0] ? " " : "", sa, sd);
}

static void
print_client(json_t *st)
{
	json_t *list =
	    json_object_get(json_object_get(st, "resolvers"), "list");
	json_t *r;
	size_t i;

	char age[32];

	printf("phase      %s\n", jstr(st, "phase", "?"));
	printf("session    %lld (re-inits %lld)\n", jint(st, "session.id"),
	    jint(st, "session.reinits"));
	printf("live       last valid tunnel answer %s (stalled after %lld "
	       "s without one)\n",
	    ctlc_answer_age(st, age, sizeof age),
	    jint(st, "stall_timeout_ms") / 1000);
	printf("uptime     %lld s\n", jint(st, "uptime_ms") / 1000);
	printf("mtu        upload %lld, download %lld\n",
	    jint(st, "mtu.upload"), jint(st, "mtu.download"));
	printf("resolvers  %lld active of %lld (%lld disabled, %lld testing, "
	       "%lld rejected)\n",
	    jint(st, "resolvers.active"), jint(st, "resolvers.total"),
	    jint(st, "resolvers.disabled"), jint(st, "resolvers.testing"),
	    jint(st, "resolvers.rejected"));
	printf("traffic    up %lld B in %lld packets, down %lld B in %lld "
	       "packets, %lld queries\n",
	    jint(st, "traffic.bytes_up"), jint(st, "traffic.packets_up"),
	    jint(st, "traffic.bytes_down"), jint(st, "traffic.packets_down"),
	    jint(st, "traffic.queries_sent"));
	printf("streams    %lld active, %lld opened\n",
	    jint(st, "streams.active"), jint(st, "streams.opened"));
	printf("arq        %lld retransmits, NACKs %lld sent / %lld received, "
	       "RTO %lld ms\n",
	    jint(st, "arq.retransmits"), jint(st, "arq.nacks_sent"),
	    jint(st, "arq.nacks_received"), jint(st, "arq.rto_ms"));
	printf("events     %lld ERROR_DROP, %lld SESSION_BUSY, %lld re-init\n",
	    jint(st, "events.error_drop"), jint(st, "events.session_busy"),
	    jint(st, "events.reinit"));
	print_check(st, "exit ip", "exit_ip");
	print_check(st, "leak", "leak");
	if (json_array_size(list) == 0)
		return;
	printf("\n%-24s %-16s %-10s %6s %6s %8s %6s %8s %8s %8s %s\n",
	    "RESOLVER", "DOMAIN", "STATE", "UP", "DOWN", "RTT_MS", "LOSS%",
	    "SENT", "ANSWERED", "TIMEOUTS", "LAST_VALID");
	json_array_foreach(list, i, r)
	{
		json_t *loss = json_object_get(r, "loss");
		json_t *rtt = json_object_get(r, "rtt_ms");

		printf("%-24s %-16s %-10s %6lld %6lld %8.1f %6.1f %8lld %8lld "
		       "%8lld %s\n",
		    jstr(r, "address", "?"), jstr(r, "domain", "?"),
		    jstr(r, "state", "?"), jint(r, "upload_mtu"),
		    jint(r, "download_mtu"), json_number_value(rtt),
		    100.0 * json_number_value(loss), jint(r, "sent"),
		    jint(r, "answered"), jint(r, "timeouts"),
		    ctlc_answer_age(r, age, sizeof age));
	}
}

static void
print_server(json_t *st)
{
	printf("phase      %s\n", jstr(st, "phase", "?"));
	printf("uptime     %lld s\n", jint(st, "uptime_ms") / 1000);
	printf("sessions   %lld active, %lld opened, %lld expired, %lld busy\n",
	    jint(st, "sessions.active"), jint(st, "sessions.opened"),
	    jint(st, "sessions.expired"), jint(st, "sessions.busy"));
	printf("streams    %lld active, %lld opened, %lld filtered, %lld "
	       "connect failures\n",
	    jint(st, "streams.active"), jint(st, "streams.opened"),
	    jint(st, "streams.filtered"), jint(st, "streams.connect_failed"));
	printf("queries    %lld total: %lld tunnel, %lld MTU probes, %lld "
	       "NXDOMAIN, %lld NODATA, %lld FORMERR, %lld ERROR_DROP, %lld "
	       "unanswered\n",
	    jint(st, "queries.total"), jint(st, "queries.tunnel"),
	    jint(st, "queries.mtu_up") + jint(st, "queries.mtu_down"),
	    jint(st, "queries.nxdomain"), jint(st, "queries.nodata"),
	    jint(st, "queries.formerr"), jint(st, "queries.error_drop"),
	    jint(st, "queries.no_reply"));
	printf("drops      %lld bad cookie, %lld undecodable, %lld "
	       "QNAME-minimisation steps\n",
	    jint(st, "drops.bad_cookie"), jint(st, "drops.undecodable"),
	    jint(st, "drops.qname_minimisation"));
	printf("traffic    up %lld B, down %lld B\n",
	    jint(st, "traffic.bytes_up"), jint(st, "traffic.bytes_down"));
}

/* The exit code of a status (the header comment); the reason on stderr
 * when it is not 0. */
static int
status_exit(json_t *st, double max_loss)
{
	const char *phase = jstr(st, "phase", "?");
	char why[160];

	if (strcmp(jstr(st, "role", ""), "client") != 0)
		return strcmp(phase, "stopping") == 0 ? EXIT_CRITICAL : EXIT_OK;
	if (strcmp(phase, "connected") != 0) {
		char *safe = ctlc_term_safe(phase, 0);

		fprintf(stderr, "status: not live: phase %s\n", safe);
		free(safe);
		return EXIT_CRITICAL;
	}
	client_degraded(st, max_loss, why, sizeof why);
	if (why[0] != '\0') {
		fprintf(stderr, "status: degraded: %s\n", why);
		return EXIT_WARNING;
	}
	return EXIT_OK;
}

/* Where the socket was found (-v), and the places passed over. */
static void
say_where(const struct ctlc_where *w)
{
	fprintf(stderr, "status: control socket %s (%s)\n", w->path, w->source);
	if (w->skipped[0] != '\0')
		fprintf(stderr, "status: passed over: %s\n", w->skipped);
}

static int
cmd_status_run(struct cli_ctx *ctx, const struct args *args)
{
	const char *control = args_get(args, OPT_CONTROL);
	const char *role = args_has(args, OPT_SERVER) ? "server" : "client";
	long long timeout_ms = 3000, max_loss = STATUS_MAX_LOSS_PCT;
	struct ctlc_where where;
	struct err e = {""};
	json_t *reply, *st;
	char *msg;
	int rc;

	if (args_strtonum(args, OPT_TIMEOUT, 1, 600000, &timeout_ms) != 0 ||
	    args_strtonum(args, OPT_MAX_LOSS, 0, 100, &max_loss) != 0)
		return EXIT_UNKNOWN;
	/* Characters the terminal can show stay; the rest become '?'. */
	setlocale(LC_CTYPE, "");
	reply = ctlc_call_find(
	    control, role, "status", (int)timeout_ms, &where, &e);
	if (reply == NULL) {
		msg = ctlc_term_safe(e.msg, 0);
		cli_error(&cmd_status_entry, "%s", msg);
		free(msg);
		return EXIT_UNKNOWN;
	}
	if (ctx->verbose)
		say_where(&where);
	/* JSON is escaped instead (below): its data stays exact. */
	if (strcmp(ctx->format, "json") != 0 ||
	    !json_is_true(json_object_get(reply, "ok")))
		ctlc_term_sanitize(reply);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		cli_error(&cmd_status_entry, "engine refused: %s",
		    jstr(reply, "error", "?"));
		json_decref(reply);
		return EXIT_UNKNOWN;
	}
	st = json_object_get(reply, "status");
	if (strcmp(ctx->format, "json") == 0) {
		if (json_is_object(st))
			json_object_set_new(st, "control",
			    json_pack("{s:s, s:s}", "path", where.path,
				"source", where.source));
		/* ASCII only: any character left is a \u escape. */
		json_dumpf(st, stdout,
		    JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		putchar('\n');
	} else if (strcmp(jstr(st, "role", ""), "server") == 0) {
		print_server(st);
	} else {
		print_client(st);
	}
	rc = status_exit(st, (double)max_loss / 100.0);
	json_decref(reply);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .summary = "one-shot engine status from the control socket",
    .args = {.opts = status_opts, .formats = "text,json"},
    .run = cmd_status_run,
};
