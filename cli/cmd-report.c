/* SPDX-License-Identifier: MIT */
/*
 * cmd-report.c — `mdns-doctor report`: one file for support, in HTML
 * (default), Markdown or JSON (reports/report.h, docs/report.md).
 *
 * This file gathers; the model redacts and the renderers write. In
 * order: what must not appear (the configuration's secrets, this host's
 * addresses, the direct addresses of the latest `ip` checks, --own,
 * the host name and $HOME), then the content: the last scan from the
 * history (its survivors ranked as `scan` ranks them, its failures
 * counted per stage and reason), the running engine's status from the
 * control socket, the engine snapshots of the --since window, the latest
 * check of every kind and subject, the effective configuration, host and
 * version facts. Reading the history never creates it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ldns/ldns.h>
#include <lz4.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <zlib.h>
#include <zstd.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/ctlc.h"
#include "common/method.h"
#include "common/nl.h"
#include "common/path.h"
#include "engine/ctl.h"
#include "probe/scan-report.h"
#include "reports/report.h"
#include "store/store.h"

enum {
	OPT_REDACT = ARGS_LONG,
	OPT_SINCE,
	OPT_CONTROL,
	OPT_SERVER,
	OPT_NO_ENGINE,
	OPT_OWN,
	OPT_ROWS,
	OPT_PROFILE,
};

static const struct args_opt report_opts[] = {
    {'o', "output", "FILE", 0,
	"write the report to FILE (atomically) instead of\nstandard output"},
    {OPT_REDACT, "redact", "own|all|none", 0,
	"addresses replaced by pseudonyms: own (default: this\n"
	"host's and its public address), all, none; secrets\n"
	"never appear"},
    {OPT_SINCE, "since", "AGE", 0,
	"engine snapshots of the last AGE: N, Ns, Nm, Nh, Nd\n(default 24h; 0: "
	"all)"},
    {OPT_CONTROL, "control", "PATH", 0,
	"ask the engine at this control socket (default: the\n"
	"client's default socket)"},
    {OPT_SERVER, "server", NULL, 0, "ask the server's default socket"},
    {OPT_NO_ENGINE, "no-engine", NULL, 0, "do not ask a running engine"},
    {OPT_OWN, "own", "ADDR", ARGS_REPEAT,
	"one more address of yours to hide (repeatable)"},
    {OPT_ROWS, "rows", "N", 0, "scan survivors listed (default 100)"},
    {OPT_PROFILE, "profile", "FILE", 0,
	"JSON profile laid over the client config"},
    {0, NULL, NULL, 0, NULL},
};

struct gather {
	struct cli_ctx *ctx;
	struct rpt_model *m;
	struct store *db;
	struct scan_report *rp;
	struct cfg *cfg;
	int64_t last_run; /* check runs: a one-entry cache for the command */
	char last_cmd[RES_COMMAND_MAX];
	int64_t last_started;
};

/* "90", "90s", "15m", "24h", "7d" into ms; -1 when it is none of those. */
static int64_t
parse_age(const char *s)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {
	    {'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	struct err e;
	long long v;
	size_t n = strlen(s), i;
	int64_t mul = 1000;
	char num[32];

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n + 1);
	for (i = 0; i < nitems(units); i++)
		if (num[n - 1] == units[i].unit) {
			mul = units[i].ms;
			num[n - 1] = '\0';
		}
	if (parse_int(num, 0, 3650LL * 86400, &v, &e) != 0 ||
	    v * mul / 1000 > 3650LL * 86400)
		return -1;
	return v * mul;
}

/* ---- what must not appear ---------------------------------------------- */

static int
own_check_cb(void *arg, int64_t run_id, const struct res_check *c)
{
	struct gather *g = arg;

	(void)run_id;
	rpt_model_own_from_check(g->m, c);
	return 0;
}

/* What the report needs of either role's configuration. */
struct cfg_view {
	const char *key, *key_fp, *socks_pass;
	char *const *domains;
	size_t ndomains;
	int method;
};

static void
cfg_view(const struct cfg *c, struct cfg_view *v)
{
	if (c->role == CFG_SERVER) {
		*v = (struct cfg_view){c->server.key, c->server.key_fp,
		    c->server.socks_pass, c->server.domains, c->server.ndomains,
		    c->server.method};
	} else {
		*v = (struct cfg_view){c->client.key, c->client.key_fp,
		    c->client.socks_pass, c->client.domains, c->client.ndomains,
		    c->client.method};
	}
}

/* Secrets of the configuration: the key, the SOCKS password, and every
 * item config show would only fingerprint. */
static void
declare_secrets(struct gather *g)
{
	static const char *const what[] = {"encryption key", "SOCKS5 password"};
	const char *sec[2];
	struct cfg_view v;
	struct cfg_item it;
	size_t i;

	if (g->cfg == NULL)
		return;
	cfg_view(g->cfg, &v);
	sec[0] = v.key;
	sec[1] = v.socks_pass;
	for (i = 0; i < nitems(sec); i++)
		if (sec[i] != NULL && sec[i][0] != '\0' &&
		    rpt_model_secret(g->m, sec[i], strlen(sec[i])) != 0)
			rpt_model_note(g->m,
			    "the %s is shorter than 4 characters; it has no "
			    "field in this report, but text is not scrubbed "
			    "of it",
			    what[i]);
	for (i = 0; i < cfg_item_count(g->cfg); i++) {
		cfg_item_at(g->cfg, i, &it);
		if (it.secret && it.value->type == TOML_STRING &&
		    it.value->len >= 4)
			rpt_model_secret(g->m, it.value->str, it.value->len);
	}
}

/* ---- content -------------------------------------------------------------- */

static int
scan_result_cb(void *arg, int64_t run_id, const struct res_resolver *r)
{
	struct gather *g = arg;

	(void)run_id;
	scan_report_add(g->rp, r);
	return 0;
}

static void
add_scan(struct gather *g)
{
	struct store_run_info info;
	struct res_run run;
	struct err e = {""};
	size_t i;
	int st, r, rc;

	rc = store_last_run(g->db, "scan", NULL, &info, &e);
	if (rc == 0)
		rc = store_run_get(g->db, info.id, &run, &info, &e);
	if (rc != 0) {
		if (rc < 0)
			rpt_model_note(g->m, "last scan: %s", e.msg);
		return;
	}
	rpt_model_scan(g->m, info.id, &run, info.status, info.host);
	g->rp = scan_report_new();
	if (store_run_results(g->db, info.id, scan_result_cb, g, &e) != 0)
		rpt_model_note(g->m, "last scan's results: %s", e.msg);
	scan_report_rank(g->rp);
	for (i = 0; i < g->rp->nok; i++)
		rpt_model_scan_ok(g->m, &g->rp->ok[i]);
	for (st = 0; st < RES_STAGE_COUNT; st++)
		for (r = 0; r < RES_R_COUNT; r++)
			if (g->rp->n[st][r] > 0)
				rpt_model_scan_fail(g->m, (enum res_stage)st,
				    (enum res_reason)r, g->rp->n[st][r],
				    g->rp->ex[st][r]);
}

static int
check_cb(void *arg, int64_t run_id, const struct res_check *c)
{
	struct gather *g = arg;
	struct store_run_info info;
	struct res_run run;
	struct err e;

	if (run_id != g->last_run) {
		g->last_run = run_id;
		snprintf(g->last_cmd, sizeof g->last_cmd, "?");
		g->last_started = 0;
		if (store_run_get(g->db, run_id, &run, &info, &e) == 0) {
			snprintf(g->last_cmd, sizeof g->last_cmd, "%s",
			    info.command);
			g->last_started = info.started_ms;
		}
	}
	rpt_model_check(g->m, g->last_cmd, run_id, g->last_started, c);
	return 0;
}

static int
snapshot_cb(void *arg, const struct store_snapshot *sn)
{
	struct gather *g = arg;
	json_error_t je;
	json_t *c = json_loads(sn->counters, 0, &je);

	if (!json_is_object(c)) {
		json_decref(c);
		c = json_object();
	}
	rpt_model_snapshot(g->m, sn->at_ms, sn->phase, sn->session_id, c);
	json_decref(c);
	return 0;
}

static void
add_live(struct gather *g, const struct args *args)
{
	const char *control = args_get(args, OPT_CONTROL);
	struct err e = {""};
	json_t *reply;
	char *path;

	if (args_has(args, OPT_NO_ENGINE)) {
		rpt_model_live(g->m, NULL, "not asked (--no-engine)");
		return;
	}
	path = control != NULL ?
	    xstrdup(control) :
	    ctl_default_path(args_has(args, OPT_SERVER) ? "server" : "client");
	reply = ctlc_call(path, "status", 2000, &e);
	if (reply == NULL) {
		rpt_model_live(g->m, NULL, e.msg);
	} else if (!json_is_true(json_object_get(reply, "ok"))) {
		rpt_model_live(
		    g->m, NULL, "the engine refused the status request");
	} else {
		rpt_model_live(g->m, json_object_get(reply, "status"), NULL);
	}
	json_decref(reply);
	free(path);
}

static void
add_versions(struct gather *g)
{
	struct rpt_model *m = g->m;
	char v[32];

	rpt_model_fact(m, RPT_SEC_VERSIONS, "mdns-doctor", cli_version());
	snprintf(v, sizeof v, "%d", STORE_SCHEMA_VERSION);
	rpt_model_fact(m, RPT_SEC_VERSIONS, "history schema (this build)", v);
	if (g->db != NULL) {
		snprintf(v, sizeof v, "%d", store_schema_version(g->db));
		rpt_model_fact(m, RPT_SEC_VERSIONS, "history schema (file)", v);
	}
	rpt_model_fact(m, RPT_SEC_VERSIONS, "SQLite", sqlite3_libversion());
	rpt_model_fact(m, RPT_SEC_VERSIONS, "libcurl",
	    curl_version_info(CURLVERSION_NOW)->version);
	rpt_model_fact(
	    m, RPT_SEC_VERSIONS, "OpenSSL", OpenSSL_version(OPENSSL_VERSION));
	rpt_model_fact(m, RPT_SEC_VERSIONS, "ldns", ldns_version());
	rpt_model_fact(m, RPT_SEC_VERSIONS, "jansson", jansson_version_str());
	rpt_model_fact(m, RPT_SEC_VERSIONS, "zstd", ZSTD_versionString());
	rpt_model_fact(m, RPT_SEC_VERSIONS, "lz4", LZ4_versionString());
	rpt_model_fact(m, RPT_SEC_VERSIONS, "zlib", zlibVersion());
}

/* PRETTY_NAME of /etc/os-release, or "". */
static void
os_name(char *buf, size_t len)
{
	char line[256], *p;
	FILE *f = fopen("/etc/os-release", "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		p = line + 12;
		p[strcspn(p, "\n")] = '\0';
		if (*p == '"') {
			p++;
			p[strcspn(p, "\"")] = '\0';
		}
		snprintf(buf, len, "%s", p);
	}
	fclose(f);
}

static void
add_routes(struct rpt_model *m)
{
	static const int fam[] = {AF_INET, AF_INET6};
	struct nl_route r[4];
	struct nl_link l;
	struct err e;
	struct nl nl = {.fd = -1};
	char gw[NET_ADDR_STRLEN], line[256], key[32];
	const char *why;
	size_t i, k, n;

	if (nl_open(&nl, &e) != 0) {
		rpt_model_fact(m, RPT_SEC_HOST, "default routes", e.msg);
		return;
	}
	for (i = 0; i < nitems(fam); i++) {
		snprintf(key, sizeof key, "default route %s",
		    fam[i] == AF_INET ? "IPv4" : "IPv6");
		if (nl_default_routes(&nl, fam[i], r, nitems(r), &n, &e) != 0) {
			rpt_model_fact(m, RPT_SEC_HOST, key, e.msg);
			continue;
		}
		if (n == 0)
			rpt_model_fact(m, RPT_SEC_HOST, key, "none");
		for (k = 0; k < n && k < nitems(r); k++) {
			snprintf(l.name, sizeof l.name, "?");
			why = NULL;
			if (nl_link_get(&nl, r[k].oif, &l, &e) == 0)
				why = nl_link_tunnel_why(&l);
			gw[0] = '\0';
			if (r[k].gateway.sa.sa_family != AF_UNSPEC)
				net_addr_format_ip(
				    &r[k].gateway, gw, sizeof gw);
			snprintf(line, sizeof line, "dev %s%s%s%s%s%s", l.name,
			    gw[0] ? " via " : "", gw, why ? " (a tunnel: " : "",
			    why ? why : "", why ? ")" : "");
			rpt_model_fact(m, RPT_SEC_HOST, key, line);
		}
	}
	nl_close(&nl);
}

static void
add_host(struct rpt_model *m, const char *hostname)
{
	struct utsname u;
	char buf[512], line[256];
	FILE *f;
	size_t n = 0;

	rpt_model_fact(m, RPT_SEC_HOST, "host name", hostname);
	if (uname(&u) == 0) {
		snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release,
		    u.machine);
		rpt_model_fact(m, RPT_SEC_HOST, "kernel", buf);
	}
	os_name(buf, sizeof buf);
	if (buf[0] != '\0')
		rpt_model_fact(m, RPT_SEC_HOST, "system", buf);
	snprintf(buf, sizeof buf, "%u", (unsigned)getuid());
	rpt_model_fact(m, RPT_SEC_HOST, "running as uid", buf);
	add_routes(m);
	/* The system resolvers: a local stub, the router, a provider's. */
	buf[0] = '\0';
	if ((f = fopen("/etc/resolv.conf", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			char *p = line + strspn(line, " \t");

			if (strncmp(p, "nameserver", 10) != 0)
				continue;
			p = str_trim(p + 10);
			if (strlen(buf) + strlen(p) + 3 < sizeof buf)
				snprintf(buf + strlen(buf),
				    sizeof buf - strlen(buf), "%s%s",
				    n++ ? ", " : "", p);
		}
		fclose(f);
	}
	rpt_model_fact(m, RPT_SEC_HOST, "system resolvers (resolv.conf)",
	    buf[0] ? buf : "none");
}

/* The effective configuration as `config show` prints it. */
static void
add_config(struct gather *g)
{
	struct cfg *c = g->cfg;
	struct cfg_view v;
	struct cfg_item it;
	char fp[CFG_FP_LEN], *val, n[32];
	size_t i;

	if (c == NULL)
		return;
	cfg_view(c, &v);
	rpt_model_fact(g->m, RPT_SEC_CONFIG, "file", c->path ? c->path : "-");
	if (c->profile_path != NULL)
		rpt_model_fact(
		    g->m, RPT_SEC_CONFIG, "profile", c->profile_path);
	rpt_model_fact(g->m, RPT_SEC_CONFIG, "role", cfg_role_name(c->role));
	for (i = 0; i < v.ndomains; i++)
		rpt_model_fact(g->m, RPT_SEC_CONFIG, "domain", v.domains[i]);
	snprintf(n, sizeof n, "%d (%s)", v.method,
	    method_name(v.method) ? method_name(v.method) : "?");
	rpt_model_fact(g->m, RPT_SEC_CONFIG, "encryption method", n);
	rpt_model_fact(g->m, RPT_SEC_CONFIG, "encryption key",
	    v.key != NULL ? v.key_fp : "none");
	snprintf(n, sizeof n, "%zu", cfg_error_count(c));
	rpt_model_fact(g->m, RPT_SEC_CONFIG, "problems", n);
	for (i = 0; i < cfg_error_count(c); i++)
		rpt_model_fact(
		    g->m, RPT_SEC_CONFIG, "problem", cfg_error_at(c, i));
	rpt_model_method(g->m, v.method, method_name(v.method));
	for (i = 0; i < cfg_item_count(c); i++) {
		cfg_item_at(c, i, &it);
		if (it.secret)
			val = cfg_item_fingerprint(&it, fp, sizeof fp) ?
			    xasprintf("(secret %s)", fp) :
			    xstrdup("(secret, empty)");
		else
			val = toml_value_format(it.value);
		rpt_model_config_item(g->m, it.key, val,
		    cfg_source_name(it.source), it.note, it.secret);
		free(val);
	}
}

/* The configuration: --config, else the default client config. */
static void
load_config(struct gather *g, const struct args *args)
{
	const char *profile = args_get(args, OPT_PROFILE);
	struct profile *prof = NULL;
	char *dflt = NULL, *dir;
	const char *path = g->ctx->config;
	struct err e = {""};

	if (path == NULL && profile == NULL &&
	    (dir = path_config_dir(NULL)) != NULL) {
		dflt = path_join(dir, "client_config.toml");
		free(dir);
		if (access(dflt, R_OK) == 0)
			path = dflt;
	}
	if (path == NULL && profile == NULL) {
		free(dflt);
		return;
	}
	if (profile != NULL && prof_load_file(profile, &prof, &e) != 0) {
		cli_error(&cmd_report_entry, "%s", e.msg);
	} else if (cfg_load(path, prof, NULL, &g->cfg, &e) != 0) {
		cli_error(&cmd_report_entry, "%s", e.msg);
		g->cfg = NULL;
	}
	prof_free(prof);
	free(dflt);
}

/* ---- output ---------------------------------------------------------------- */

/* Write to path through a temporary file in the same directory. */
static int
write_file(struct rpt_model *m, enum rpt_form form, const char *path)
{
	struct err e = {""};
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkstemp(tmp), rc = -1;
	FILE *f;

	if (fd < 0) {
		cli_error(&cmd_report_entry, "cannot write %s: %s", path,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	/* mkstemp makes 0600; a report is for sending, so umask decides. */
	fchmod(fd, 0666 & ~umask(umask(0)));
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
	} else if (rpt_render(m, form, f, &e) != 0) {
		fclose(f);
	} else if (fclose(f) == 0 && rename(tmp, path) == 0) {
		rc = 0;
	}
	if (rc != 0) {
		cli_error(&cmd_report_entry, "cannot write %s: %s", path,
		    e.msg[0] ? e.msg : strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int
cmd_report_run(struct cli_ctx *ctx, const struct args *args)
{
	struct gather g = {.ctx = ctx, .last_run = -1};
	enum rpt_redact mode = RPT_REDACT_OWN;
	enum rpt_form form;
	long long rows = 100;
	int64_t since = 86400000LL, now = now_wall_ms();
	char host[256] = "", *dbpath = NULL;
	struct err e = {""};
	const char *a, *out = args_get(args, 'o');
	size_t i;
	int rc = EXIT_OK;

	if (args_strtonum(args, OPT_ROWS, 0, 100000, &rows) != 0)
		return EXIT_UNKNOWN;
	if ((a = args_get(args, OPT_SINCE)) != NULL &&
	    (since = parse_age(a)) < 0) {
		cli_error(&cmd_report_entry,
		    "--since: not an age: %s (N, Ns, Nm, Nh or Nd)", a);
		return EXIT_UNKNOWN;
	}
	if ((a = args_get(args, OPT_REDACT)) != NULL)
		rpt_redact_from_name(a, &mode);
	rpt_form_from_name(ctx->format, &form);
	g.m = rpt_model_new(mode, now);
	rpt_model_set_max_rows(g.m, (size_t)rows);

	/* 1. What must not appear. */
	for (i = 0; (a = args_value(args, OPT_OWN, i)) != NULL; i++)
		if (rpt_model_own_addr(g.m, a, RPT_OWN_LOCAL) != 0) {
			cli_error(
			    &cmd_report_entry, "--own: not an address: %s", a);
			rc = EXIT_UNKNOWN;
			goto out;
		}
	load_config(&g, args);
	declare_secrets(&g);
	if (mode != RPT_REDACT_NONE)
		rpt_model_own_local(g.m);
	gethostname(host, sizeof host - 1);
	rpt_model_own_host(g.m, host);
	rpt_model_own_home(g.m, getenv("HOME"));
	dbpath = ctx->db != NULL ? xstrdup(ctx->db) : store_default_path(&e);
	if (dbpath != NULL &&
	    (g.db = store_open_flags(dbpath, STORE_NO_CREATE, &e)) != NULL)
		store_latest_checks(g.db, 0, own_check_cb, &g, &e);

	/* 2. Content: resolvers first (they get "resolver-N"). */
	if (g.db == NULL)
		rpt_model_note(g.m, "no history: %s", e.msg);
	else
		add_scan(&g);
	add_live(&g, args);
	if (g.db != NULL) {
		if (store_snapshots(g.db, 0, since > 0 ? now - since : 0,
			snapshot_cb, &g, &e) != 0)
			rpt_model_note(g.m, "engine snapshots: %s", e.msg);
		if (store_latest_checks(g.db, 0, check_cb, &g, &e) != 0)
			rpt_model_note(g.m, "checks: %s", e.msg);
	}
	if (g.cfg == NULL)
		rpt_model_note(g.m,
		    "no configuration given (--config FILE); "
		    "none found at the default place either");
	add_config(&g);
	add_versions(&g);
	add_host(g.m, host);

	/* 3. Out. */
	if (out != NULL) {
		if (write_file(g.m, form, out) != 0)
			rc = EXIT_UNKNOWN;
	} else if (rpt_render(g.m, form, stdout, &e) != 0) {
		cli_error(&cmd_report_entry, "%s", e.msg);
		rc = EXIT_UNKNOWN;
	}
out:
	scan_report_free(g.rp);
	store_close(g.db);
	cfg_free(g.cfg);
	rpt_model_free(g.m);
	free(dbpath);
	return rc;
}

const struct cmd_entry cmd_report_entry = {
    .name = "report",
    .summary = "one file for support: history, engine, configuration, "
	       "redacted",
    .args = {.opts = report_opts,
	.formats = "html,md,json",
	.notes = "\nThe report holds the last scan (stage counts, diagnosis, "
		 "survivors),\nthe latest checks with their evidence, the "
		 "engine's status, timeline and\nevents, the effective "
		 "configuration (secrets as fingerprints), versions\nand a "
		 "host summary. Secrets never appear. docs/report.md says "
		 "what is\nredacted and how.\n"},
    .run = cmd_report_run,
};
