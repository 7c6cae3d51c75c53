/*
 * cmd-status.c — one-shot engine status from the control socket, as a text
 * summary or the raw JSON status object (--format json). Exit 0 when the
 * engine answers (connected or serving), 1 when it answers but is not
 * connected, 2 when no engine of ours runs (or only an untrusted socket
 * was found), 3 on usage errors.
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

enum { OPT_CONTROL = ARGS_LONG, OPT_SERVER, OPT_TIMEOUT };

static const struct args_opt status_opts[] = {
    {OPT_CONTROL, "control", "PATH", 0,
	"control socket (default: runtime dir)"},
    {OPT_SERVER, "server", NULL, 0, "the server's socket (server.sock)"},
    {OPT_TIMEOUT, "timeout", "MS", 0, "reply deadline (default 3000)"},
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

static void
print_client(json_t *st)
{
	json_t *list =
	    json_object_get(json_object_get(st, "resolvers"), "list");
	json_t *r;
	size_t i;

	printf("phase      %s\n", jstr(st, "phase", "?"));
	printf("session    %lld (re-inits %lld)\n", jint(st, "session.id"),
	    jint(st, "session.reinits"));
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
	if (json_array_size(list) == 0)
		return;
	printf("\n%-24s %-16s %-10s %6s %6s %8s %6s %8s %8s %8s\n", "RESOLVER",
	    "DOMAIN", "STATE", "UP", "DOWN", "RTT_MS", "LOSS%", "SENT",
	    "ANSWERED", "TIMEOUTS");
	json_array_foreach(list, i, r)
	{
		json_t *loss = json_object_get(r, "loss");
		json_t *rtt = json_object_get(r, "rtt_ms");

		printf("%-24s %-16s %-10s %6lld %6lld %8.1f %6.1f %8lld %8lld "
		       "%8lld\n",
		    jstr(r, "address", "?"), jstr(r, "domain", "?"),
		    jstr(r, "state", "?"), jint(r, "upload_mtu"),
		    jint(r, "download_mtu"), json_number_value(rtt),
		    100.0 * json_number_value(loss), jint(r, "sent"),
		    jint(r, "answered"), jint(r, "timeouts"));
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
	printf("drops      %lld bad cookie, %lld undecodable\n",
	    jint(st, "drops.bad_cookie"), jint(st, "drops.undecodable"));
	printf("traffic    up %lld B, down %lld B\n",
	    jint(st, "traffic.bytes_up"), jint(st, "traffic.bytes_down"));
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
	long long timeout_ms = 3000;
	struct ctlc_where where;
	struct err e = {""};
	json_t *reply, *st;
	char *msg;
	int rc;

	if (args_strtonum(args, OPT_TIMEOUT, 1, 600000, &timeout_ms) != 0)
		return EXIT_UNKNOWN;
	/* Characters the terminal can show stay; the rest become '?'. */
	setlocale(LC_CTYPE, "");
	reply = ctlc_call_find(
	    control, role, "status", (int)timeout_ms, &where, &e);
	if (reply == NULL) {
		msg = ctlc_term_safe(e.msg, 0);
		cli_error(&cmd_status_entry, "%s", msg);
		free(msg);
		return EXIT_CRITICAL;
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
		return EXIT_CRITICAL;
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
	rc = EXIT_OK;
	if (strcmp(jstr(st, "role", ""), "client") == 0 &&
	    strcmp(jstr(st, "phase", ""), "connected") != 0)
		rc = EXIT_WARNING;
	json_decref(reply);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .summary = "one-shot engine status from the control socket",
    .args = {.opts = status_opts, .formats = "text,json"},
    .run = cmd_status_run,
};
