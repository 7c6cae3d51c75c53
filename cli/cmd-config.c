/*
 * cmd-config.c — "config show" prints the effective configuration (every
 * key of the file, upstream defaults for the rest, profile overrides, each
 * marked with where it came from; secrets only as fingerprints) and the
 * expanded resolver count; "config check" validates and exits 0 or 3 with
 * one "FILE:LINE:COL: reason" line on stderr.
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

enum { OPT_RESOLVERS = 2000, OPT_PROFILE, OPT_KEYFILE };

static const struct option config_longopts[] = {
    {"resolvers", required_argument, NULL, OPT_RESOLVERS},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"key-file", required_argument, NULL, OPT_KEYFILE},
    {NULL, 0, NULL, 0},
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
		if (cl->expected_exit_ip != NULL)
			printf(
			    "# expected exit IP: %s\n", cl->expected_exit_ip);
	}
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
		json_object_set_new(root, "expected_exit_ip",
		    jstr_or_null(cl->expected_exit_ip));
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
cmd_config_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *resolvers = NULL, *profile_path = NULL, *sub = "show";
	struct cfg_opts opts = {.role = -1};
	struct profile *prof = NULL;
	struct cfg *c = NULL;
	struct rl_result r;
	struct err e;
	char *dflt = NULL;
	const char *path;
	int ch, json = 0, check, rc, invalid;
	size_t i;

	while ((ch = cli_getopt(ctx, &cmd_config_entry, argc, argv, "",
		    config_longopts)) != -1) {
		switch (ch) {
		case OPT_RESOLVERS:
			resolvers = optarg;
			break;
		case OPT_PROFILE:
			profile_path = optarg;
			break;
		case OPT_KEYFILE:
			opts.key_file = optarg;
			break;
		case 'H':
			return EXIT_OK;
		default:
			return EXIT_UNKNOWN;
		}
	}
	if (optind < argc)
		sub = argv[optind++];
	if (optind < argc) {
		cli_error(
		    &cmd_config_entry, "unexpected argument: %s", argv[optind]);
		return EXIT_UNKNOWN;
	}
	if (strcmp(sub, "show") != 0 && strcmp(sub, "check") != 0) {
		cli_error(&cmd_config_entry,
		    "unknown subcommand: %s (show or "
		    "check)",
		    sub);
		return EXIT_UNKNOWN;
	}
	check = strcmp(sub, "check") == 0;
	if (ctx->format != NULL && strcmp(ctx->format, "text") != 0) {
		if (strcmp(ctx->format, "json") != 0 || check) {
			cli_error(&cmd_config_entry,
			    "format %s is not "
			    "supported here (%s)",
			    ctx->format,
			    check ? "check prints no data" : "text or json");
			return EXIT_UNKNOWN;
		}
		json = 1;
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
	if (check) {
		if (cfg_error_count(c) > 0)
			fprintf(stderr, "%s\n", cfg_error_at(c, 0));
		else if (r.open_failed)
			fprintf(stderr, "%s\n", r.open_error);
		else if (r.first_error[0] != '\0')
			fprintf(stderr, "%s\n", r.first_error);
		if (ctx->verbose > 0)
			for (i = 0; i < cfg_warning_count(c); i++)
				fprintf(stderr, "warning: %s\n",
				    cfg_warning_at(c, i));
		if (!invalid && !ctx->quiet)
			printf("%s: valid %s configuration\n",
			    c->path ? c->path : c->profile_path,
			    cfg_role_name(c->role));
	} else {
		if (json)
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
	return invalid ? EXIT_UNKNOWN : EXIT_OK;
}

const struct cmd_entry cmd_config_entry = {
    .name = "config",
    .usage = "config [show|check] [--config FILE] [--resolvers FILE] "
	     "[--profile FILE] [--key-file FILE]",
    .summary = "show or check the effective configuration",
    .options =
	"  show                 print every key: file, defaults, profile "
	"(default)\n"
	"  check                validate; exit 0 (valid) or 3 (invalid)\n"
	"  --resolvers FILE     resolver list to count (default: "
	"client_resolvers.txt\n"
	"                       next to a client config)\n"
	"  --profile FILE       JSON profile laid over the client config\n"
	"  --key-file FILE      server key file instead of "
	"ENCRYPTION_KEY_FILE\n"
	"  --format text|json   output of show\n",
    .exec = cmd_config_exec,
};
