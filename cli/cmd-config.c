/* SPDX-License-Identifier: MIT */
/*
 * cmd-config.c — "config show" prints the effective configuration (every
 * key of the file, defaults for the rest, profile overrides, each marked
 * with where it came from; secrets only as fingerprints), the expanded
 * resolver count and the method's security finding; "config check"
 * validates: exit 3 with one "FILE:LINE:COL: reason" line on stderr when
 * invalid, else the level of the method's finding (0, or 1/2 with the
 * finding's line on stderr; common/method.h, docs/security.md).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/method.h"
#include "common/path.h"
#include "common/resolvers.h"

enum { OPT_RESOLVERS = ARGS_LONG, OPT_PROFILE, OPT_KEYFILE };

static const struct args_opt config_opts[] = {
    {OPT_RESOLVERS, "resolvers", "FILE", 0,
	"resolver list to count (default: client_resolvers.txt\n"
	"next to a client config)"},
    {OPT_PROFILE, "profile", "FILE", 0,
	"JSON profile laid over the client config"},
    {OPT_KEYFILE, "key-file", "FILE", 0,
	"server key file instead of ENCRYPTION_KEY_FILE"},
    {0, NULL, NULL, 0, NULL},
};

/* What the resolver list pass found. */
struct rl_result {
	char *path;	     /* NULL when no list */
	int missing_default; /* default list looked for, not there */
	int open_failed;
	char open_error[ERR_MSG_MAX];
	uint64_t count;
	struct rl_stats st;
	char first_error[ERR_MSG_MAX];
};

static void
rl_note_error(void *arg, const char *msg)
{
	struct rl_result *r = arg;

	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof r->first_error, "%.*s",
		    (int)sizeof r->first_error - 1, msg);
}

static void
count_resolvers(const struct cfg *c, const char *given, struct rl_result *r)
{
	struct rl_opts o = {.on_error = rl_note_error, .arg = r};
	struct err e;

	memset(r, 0, sizeof *r);
	if (given != NULL) {
		r->path = xstrdup(given);
	} else if (c->role == CFG_CLIENT && c->path != NULL) {
		r->path = cfg_default_resolvers_path(c);
		if (access(r->path, F_OK) != 0) {
			r->missing_default = 1;
			return;
		}
	} else {
		return;
	}
	if (rl_count(r->path, &o, &r->count, &r->st, &e) == -1) {
		r->open_failed = 1;
		snprintf(r->open_error, sizeof r->open_error, "%s", e.msg);
	} else if (r->count == 0 && r->first_error[0] == '\0') {
		/* Upstream refuses to start without one resolver. */
		snprintf(r->first_error, sizeof r->first_error,
		    "%.*s: no "
		    "resolvers in the list",
		    (int)sizeof r->first_error - 40, r->path);
	}
}

/* Value text for display; secrets become their fingerprint. */
static char *
value_text(const struct cfg_item *it)
{
	char fp[CFG_FP_LEN];

	if (it->secret) {
		if (!cfg_item_fingerprint(it, fp, sizeof fp))
			return xstrdup("(secret, empty)");
		return xasprintf("(secret %s)", fp);
	}
	return toml_value_format(it->value);
}

/* The key in use (client ENCRYPTION_KEY or the server's key file). */
struct key_info {
	const char *key, *fp, *path;
	int method;
};

static void
key_info(const struct cfg *c, struct key_info *k)
{
	if (c->role == CFG_SERVER) {
		k->key = c->server.key;
		k->fp = c->server.key_fp;
		k->path = c->server.key_path;
		k->method = c->server.method;
	} else {
		k->key = c->client.key;
		k->fp = c->client.key_fp;
		k->path = NULL;
		k->method = c->client.method;
	}
}

static void
print_text(const struct cfg *c, const struct rl_result *r)
{
	const struct cfg_client *cl = &c->client;
	struct key_info k;
	size_t i, n = cfg_item_count(c);
	size_t nfile = 0, ndef = 0, nprof = 0, nunk = 0;
	char finding[2 * ERR_MSG_MAX];
	int valid;

	printf("# mdns-doctor effective %s configuration\n",
	    cfg_role_name(c->role));
	if (c->path != NULL)
		printf("# file: %s\n", c->path);
	if (c->profile_path != NULL)
		printf("# profile: %s\n", c->profile_path);
	for (i = 0; i < n; i++) {
		struct cfg_item it;
		char *v;

		cfg_item_at(c, i, &it);
		v = value_text(&it);
		printf("%s = %s  # %s", it.key, v, cfg_source_name(it.source));
		if (it.source == CFG_SRC_FILE)
			printf(" line %d", it.line);
		if (!it.known)
			printf(", unknown key (upstream ignores it)");
		if (it.note != NULL)
			printf(", %s", it.note);
		printf("\n");
		free(v);
		if (!it.known)
			nunk++;
		if (it.source == CFG_SRC_FILE)
			nfile++;
		else if (it.source == CFG_SRC_PROFILE)
			nprof++;
		else
			ndef++;
	}
	printf("# keys: %zu from the file, %zu defaults, %zu from the profile, "
	       "%zu unknown\n",
	    nfile, ndef, nprof, nunk);
	key_info(c, &k);
	if (k.key != NULL)
		printf("# encryption key: %s (%s, method %d %s)\n", k.fp,
		    k.path ? k.path : "ENCRYPTION_KEY", k.method,
		    method_name(k.method));
	else
		printf("# encryption key: none\n");
	if (c->profile_path != NULL) {
		printf("# fec: %s", cl->fec.level);
		if (cl->fec.enabled)
			printf(" (group %d, overhead %d%%, flush %d ms, %s)",
			    cl->fec.group, cl->fec.overhead_pct,
			    cl->fec.flush_ms,
			    prof_fec_dir_name(cl->fec.direction));
		printf("\n# profile resolvers: %zu\n", cl->nresolvers);
	}
	if (c->role == CFG_CLIENT && cl->nexpected_exit > 0) {
		printf("# expected exit IP:");
		for (i = 0; i < cl->nexpected_exit; i++)
			printf("%s %s", i ? "," : "", cl->expected_exit[i]);
		printf("\n");
	}
	if (cfg_method_finding(c, finding, sizeof finding) != EXIT_OK)
		printf("# security: %s\n", finding);
	if (r->path != NULL && !r->open_failed && !r->missing_default)
		printf("# resolvers: %s: %llu addresses (%llu lines, %llu "
		       "duplicates, %llu bad lines, %llu capped prefixes)\n",
		    r->path, (unsigned long long)r->count,
		    (unsigned long long)r->st.lines,
		    (unsigned long long)r->st.duplicates,
		    (unsigned long long)r->st.bad_lines,
		    (unsigned long long)r->st.capped);
	else if (r->missing_default)
		printf("# resolvers: %s not found\n", r->path);
	valid = cfg_error_count(c) == 0 && r->first_error[0] == '\0' &&
	    !r->open_failed;
	printf("# valid: %s\n", valid ? "yes" : "no");
}

static json_t *
jstr_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	return j ? j : json_null();
}

/*
 * The security findings: [] or [{"level": "warning", "key":
 * "DATA_ENCRYPTION_METHOD", "method": 1, "reason": ..., "doc": ...,
 * "message": the one line config check prints}].
 */
static json_t *
findings_json(const struct cfg *c)
{
	json_t *arr = json_array(), *o;
	int m = c->role == CFG_SERVER ? c->server.method : c->client.method;
	const struct method_finding *f = method_finding(m);
	char line[2 * ERR_MSG_MAX], lvl[16];
	size_t i;
	int level = cfg_method_finding(c, line, sizeof line);

	if (level == EXIT_OK || f == NULL)
		return arr;
	snprintf(lvl, sizeof lvl, "%s", method_level_name(level));
	for (i = 0; lvl[i] != '\0'; i++)
		lvl[i] = (char)(lvl[i] - 'A' + 'a');
	o = json_object();
	json_object_set_new(o, "level", json_string(lvl));
	json_object_set_new(o, "key", json_string("DATA_ENCRYPTION_METHOD"));
	json_object_set_new(o, "method", json_integer(m));
	json_object_set_new(o, "reason", json_string(f->reason));
	json_object_set_new(o, "doc", json_string(f->doc));
	json_object_set_new(o, "message", json_string(line));
	json_array_append_new(arr, o);
	return arr;
}

static void
print_json(const struct cfg *c, const struct rl_result *r)
{
	const struct cfg_client *cl = &c->client;
	json_t *root = json_object(), *keys = json_object(), *arr, *o;
	struct key_info k;
	size_t i;
	char fp[CFG_FP_LEN];
	int valid = cfg_error_count(c) == 0 && r->first_error[0] == '\0' &&
	    !r->open_failed;

	json_object_set_new(root, "file", jstr_or_null(c->path));
	json_object_set_new(root, "role", json_string(cfg_role_name(c->role)));
	json_object_set_new(root, "profile", jstr_or_null(c->profile_path));
	json_object_set_new(root, "valid", json_boolean(valid));
	arr = json_array();
	for (i = 0; i < cfg_error_count(c); i++)
		json_array_append_new(arr, jstr_or_null(cfg_error_at(c, i)));
	if (r->open_failed)
		json_array_append_new(arr, jstr_or_null(r->open_error));
	else if (r->first_error[0] != '\0')
		json_array_append_new(arr, jstr_or_null(r->first_error));
	json_object_set_new(root, "errors", arr);
	arr = json_array();
	for (i = 0; i < cfg_warning_count(c); i++)
		json_array_append_new(arr, jstr_or_null(cfg_warning_at(c, i)));
	json_object_set_new(root, "warnings", arr);
	for (i = 0; i < cfg_item_count(c); i++) {
		struct cfg_item it;

		cfg_item_at(c, i, &it);
		o = json_object();
		if (it.secret) {
			json_object_set_new(o, "value", json_null());
			json_object_set_new(o, "secret", json_true());
			if (cfg_item_fingerprint(&it, fp, sizeof fp))
				json_object_set_new(
				    o, "fingerprint", json_string(fp));
		} else {
			json_object_set_new(
			    o, "value", cfg_value_json(it.value));
		}
		json_object_set_new(
		    o, "source", json_string(cfg_source_name(it.source)));
		if (it.source == CFG_SRC_FILE)
			json_object_set_new(o, "line", json_integer(it.line));
		json_object_set_new(o, "known", json_boolean(it.known));
		if (it.note != NULL)
			json_object_set_new(o, "note", jstr_or_null(it.note));
		json_object_set_new(keys, it.key, o);
	}
	json_object_set_new(root, "keys", keys);
	/* The effective values, exactly as the running engine reports them
	 * in its status (docs/control-protocol.md). */
	json_object_set_new(root, "effective_config", cfg_effective_json(c));
	key_info(c, &k);
	o = json_object();
	json_object_set_new(
	    o, "fingerprint", k.key ? json_string(k.fp) : json_null());
	json_object_set_new(o, "file", jstr_or_null(k.path));
	json_object_set_new(o, "method", json_integer(k.method));
	json_object_set_new(
	    o, "method_name", jstr_or_null(method_name(k.method)));
	json_object_set_new(root, "encryption", o);
	json_object_set_new(root, "findings", findings_json(c));
	if (c->profile_path != NULL) {
		o = json_object();
		json_object_set_new(o, "level", json_string(cl->fec.level));
		json_object_set_new(
		    o, "enabled", json_boolean(cl->fec.enabled));
		json_object_set_new(o, "group", json_integer(cl->fec.group));
		json_object_set_new(
		    o, "overhead_pct", json_integer(cl->fec.overhead_pct));
		json_object_set_new(
		    o, "flush_ms", json_integer(cl->fec.flush_ms));
		json_object_set_new(o, "direction",
		    json_string(prof_fec_dir_name(cl->fec.direction)));
		json_object_set_new(root, "fec", o);
		json_object_set_new(root, "profile_resolvers",
		    json_integer((json_int_t)cl->nresolvers));
	}
	if (r->path != NULL) {
		o = json_object();
		json_object_set_new(o, "file", jstr_or_null(r->path));
		json_object_set_new(o, "found",
		    json_boolean(!r->missing_default && !r->open_failed));
		json_object_set_new(
		    o, "count", json_integer((json_int_t)r->count));
		json_object_set_new(
		    o, "lines", json_integer((json_int_t)r->st.lines));
		json_object_set_new(o, "duplicates",
		    json_integer((json_int_t)r->st.duplicates));
		json_object_set_new(
		    o, "bad_lines", json_integer((json_int_t)r->st.bad_lines));
		json_object_set_new(o, "capped_prefixes",
		    json_integer((json_int_t)r->st.capped));
		json_object_set_new(root, "resolvers", o);
	} else {
		json_object_set_new(root, "resolvers", json_null());
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

/* A default config path when none is given: XDG, then ~/.config. */
static char *
default_config_path(void)
{
	char *dir = path_config_dir(NULL), *p;

	if (dir == NULL)
		return NULL;
	p = path_join(dir, "client_config.toml");
	free(dir);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static int
cmd_config_run(struct cli_ctx *ctx, const struct args *args)
{
	const char *resolvers = args_get(args, OPT_RESOLVERS);
	const char *profile_path = args_get(args, OPT_PROFILE);
	const char *sub = args->noperands > 0 ? args->operands[0] : "show";
	struct cfg_opts opts = {.role = -1};
	struct profile *prof = NULL;
	struct cfg *c = NULL;
	struct rl_result r;
	struct err e;
	char *dflt = NULL, finding[2 * ERR_MSG_MAX];
	const char *path;
	int check, rc, invalid, level;
	size_t i;

	opts.key_file = args_get(args, OPT_KEYFILE);
	if (strcmp(sub, "show") != 0 && strcmp(sub, "check") != 0) {
		cli_error(&cmd_config_entry,
		    "unknown subcommand: %s (show or check)", sub);
		return EXIT_UNKNOWN;
	}
	check = strcmp(sub, "check") == 0;
	if (check && strcmp(ctx->format, "text") != 0) {
		cli_error(&cmd_config_entry,
		    "format %s is not supported here (check prints no data)",
		    ctx->format);
		return EXIT_UNKNOWN;
	}
	path = ctx->config;
	if (path == NULL && profile_path == NULL)
		path = dflt = default_config_path();
	if (path == NULL && profile_path == NULL) {
		cli_error(&cmd_config_entry,
		    "no configuration: give --config "
		    "FILE or --profile FILE");
		return EXIT_UNKNOWN;
	}
	if (profile_path != NULL &&
	    prof_load_file(profile_path, &prof, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		free(dflt);
		return EXIT_UNKNOWN;
	}
	rc = cfg_load(path, prof, &opts, &c, &e);
	prof_free(prof);
	if (rc == -1) {
		fprintf(stderr, "%s\n", e.msg);
		free(dflt);
		return EXIT_UNKNOWN;
	}
	count_resolvers(c, resolvers, &r);
	invalid =
	    cfg_error_count(c) > 0 || r.open_failed || r.first_error[0] != '\0';
	level = cfg_method_finding(c, finding, sizeof finding);
	if (check) {
		if (cfg_error_count(c) > 0)
			fprintf(stderr, "%s\n", cfg_error_at(c, 0));
		else if (r.open_failed)
			fprintf(stderr, "%s\n", r.open_error);
		else if (r.first_error[0] != '\0')
			fprintf(stderr, "%s\n", r.first_error);
		else if (level != EXIT_OK)
			fprintf(stderr, "%s\n", finding);
		if (ctx->verbose > 0)
			for (i = 0; i < cfg_warning_count(c); i++)
				fprintf(stderr, "warning: %s\n",
				    cfg_warning_at(c, i));
		if (!invalid && !ctx->quiet)
			printf("%s: valid %s configuration\n",
			    c->path ? c->path : c->profile_path,
			    cfg_role_name(c->role));
	} else {
		if (strcmp(ctx->format, "json") == 0)
			print_json(c, &r);
		else
			print_text(c, &r);
		if (!ctx->quiet)
			for (i = 0; i < cfg_warning_count(c); i++)
				fprintf(stderr, "warning: %s\n",
				    cfg_warning_at(c, i));
		for (i = 0; i < cfg_error_count(c); i++)
			fprintf(stderr, "%s\n", cfg_error_at(c, i));
		if (r.open_failed)
			fprintf(stderr, "%s\n", r.open_error);
		else if (r.st.bad_lines > 1)
			fprintf(stderr, "%s (and %llu more bad lines)\n",
			    r.first_error,
			    (unsigned long long)(r.st.bad_lines - 1));
		else if (r.first_error[0] != '\0')
			fprintf(stderr, "%s\n", r.first_error);
	}
	free(r.path);
	cfg_free(c);
	free(dflt);
	if (invalid)
		return EXIT_UNKNOWN;
	/* check: a valid configuration exits with its finding's level. */
	return check ? level : EXIT_OK;
}

const struct cmd_entry cmd_config_entry = {
    .name = "config",
    .summary = "show or check the effective configuration",
    .args = {.opts = config_opts,
	.operands = "[show|check]",
	.max_operands = 1,
	.formats = "text,json",
	.notes =
	    "\nsubcommands:\n"
	    "  show                 print every key: file, defaults, "
	    "profile (default)\n"
	    "  check                validate; exit 3 when invalid, else 0, "
	    "or 1 (WARNING) /\n"
	    "                       2 (CRITICAL) for a weak "
	    "DATA_ENCRYPTION_METHOD\n"
	    "                       (docs/security.md)\n"},
    .run = cmd_config_run,
};
