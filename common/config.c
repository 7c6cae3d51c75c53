/* SPDX-License-Identifier: MIT */
/*
 * config.c — loading the configuration model (see config.h): the file
 * and an optional profile are read, every value is type-checked against
 * the key table's default (a key's type is the type of its default, an
 * integer is accepted for a float), and the values are laid over each
 * other — profile, then file, then defaults — into the item list that
 * `config show` prints. config-keys.c then turns the items into the typed
 * role struct, rule by rule. Messages, notes and the item index live here.
 *
 * It does not generate keys (a missing server key file is reported,
 * never written) and does not count resolver lists (`config` streams
 * them with rl_count); a list named in cfg_opts is read into the client.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config-int.h"
#include "common/log.h"
#include "common/method.h"
#include "common/resolvers.h"

/* Keys that say which role a file is for. */
static const char *const client_markers[] = {"DOMAINS", "ENCRYPTION_KEY",
    "LISTEN_IP", "LISTEN_PORT", "MIN_UPLOAD_MTU", "MAX_UPLOAD_MTU",
    "RESOLVER_BALANCING_STRATEGY", "BASE_ENCODE_DATA"};
static const char *const server_markers[] = {"DOMAIN", "UDP_HOST", "UDP_PORT",
    "ENCRYPTION_KEY_FILE", "MAX_ALLOWED_CLIENT_UPLOAD_MTU",
    "SUPPORTED_UPLOAD_COMPRESSION_TYPES", "DNS_UPSTREAM_SERVERS"};

static void
push(char ***list, size_t *n, char *s)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = s;
}

static const char *
item_key(const void *ctx, uint32_t i)
{
	const struct cfg_private *pv = ctx;

	return pv->items[i].key;
}

/* Items by key through the index: a file with many keys (each unknown
 * one looked up for its warning) stays linear, not quadratic. */
static struct item *
item_find(const struct cfg *c, const char *key)
{
	const struct cfg_private *pv = c->priv;
	uint32_t i = hmap_find_str(&pv->index, key, item_key, pv);

	return i == HMAP_NONE ? NULL : &pv->items[i];
}

const struct toml_value *
cfg_value(const struct cfg *c, const char *key)
{
	const struct item *it = item_find(c, key);

	return it ? it->value : toml_get(c->priv->extra, key);
}

enum cfg_source
cfg_given_source(const struct cfg *c, const char *key)
{
	const struct item *it = item_find(c, key);

	return it ? it->source : CFG_SRC_DEFAULT;
}

/* Where key's value came from, as a message prefix (malloc'd). */
static char *
where(const struct cfg *c, const char *key)
{
	const struct item *it = item_find(c, key);
	const char *file = c->path;

	if (file == NULL)
		file = c->profile_path ? c->profile_path : "(defaults)";
	if (it != NULL && it->source != CFG_SRC_DEFAULT && it->line > 0)
		return xasprintf("%s:%d:%d", it->origin, it->line, it->col);
	if (it != NULL && it->source == CFG_SRC_PROFILE)
		return xasprintf("%s", it->origin);
	return xasprintf("%s", file);
}

static void
vpush(struct cfg *c, char ***list, size_t *n, const char *key, const char *fmt,
    va_list ap)
{
	char msg[ERR_MSG_MAX], *w = where(c, key);

	vsnprintf(msg, sizeof msg, fmt, ap);
	push(list, n, xasprintf("%s: %s: %s", w, key, msg));
	free(w);
}

void
cfg_problem(struct cfg *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpush(c, &c->priv->errors, &c->priv->nerrors, key, fmt, ap);
	va_end(ap);
	push(&c->priv->error_keys, &c->priv->nerror_keys, xstrdup(key));
}

void
cfg_warning(struct cfg *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpush(c, &c->priv->warnings, &c->priv->nwarnings, key, fmt, ap);
	va_end(ap);
}

void
cfg_note(struct cfg *c, const char *key, const char *fmt, ...)
{
	struct item *it = item_find(c, key);
	va_list ap;

	if (it == NULL)
		return;
	free(it->note);
	va_start(ap, fmt);
	if (vasprintf(&it->note, fmt, ap) < 0)
		it->note = NULL;
	va_end(ap);
}

void
cfg_push_warning(struct cfg *c, const char *msg)
{
	push(&c->priv->warnings, &c->priv->nwarnings, xstrdup(msg));
}

void
cfg_push_problem(struct cfg *c, const char *msg)
{
	push(&c->priv->errors, &c->priv->nerrors, xstrdup(msg));
	push(&c->priv->error_keys, &c->priv->nerror_keys, NULL);
}

void
cfg_fingerprint(const char *secret, size_t len, char *out, size_t outlen)
{
	/* One fingerprint for logs, store and reports alike. */
	log_redact(secret, len, out, outlen);
}

int
cfg_item_fingerprint(const struct cfg_item *it, char *out, size_t outlen)
{
	char *t;

	if (it->value->type == TOML_STRING) {
		if (it->value->len == 0)
			return 0;
		cfg_fingerprint(it->value->str, it->value->len, out, outlen);
		return 1;
	}
	/* An unknown secret-looking key may hold any type. */
	t = toml_value_format(it->value);
	cfg_fingerprint(t, strlen(t), out, outlen);
	explicit_bzero(t, strlen(t));
	free(t);
	return 1;
}

json_t *
cfg_value_json(const struct toml_value *v)
{
	json_t *a, *s;
	size_t i;

	switch (v->type) {
	case TOML_STRING:
		s = json_stringn(v->str, v->len);
		/* Not UTF-8: show it the way TOML would write it. */
		if (s == NULL) {
			char *t = toml_value_format(v);

			s = json_string(t);
			free(t);
		}
		return s ? s : json_null();
	case TOML_INT:
		return json_integer((json_int_t)v->i64);
	case TOML_FLOAT:
		a = json_real(v->dbl);
		return a ? a : json_null();
	case TOML_BOOL:
		return json_boolean(v->boolean);
	case TOML_ARRAY:
		a = json_array();
		for (i = 0; i < v->nitems; i++)
			json_array_append_new(a, cfg_value_json(&v->items[i]));
		return a;
	}
	return json_null();
}

/* Role from marker keys; -1 with e set when both or neither. */
static int
detect_role(const char *path, struct toml_doc *doc, struct err *e)
{
	const char *cm = NULL, *sm = NULL, *base;
	size_t i;

	for (i = 0; i < nitems(client_markers) && cm == NULL; i++)
		if (toml_find(doc, client_markers[i]) != NULL)
			cm = client_markers[i];
	for (i = 0; i < nitems(server_markers) && sm == NULL; i++)
		if (toml_find(doc, server_markers[i]) != NULL)
			sm = server_markers[i];
	if (cm != NULL && sm != NULL)
		return err_set(e,
		    "%s: has client keys (%s) and server keys "
		    "(%s); cannot tell client from server",
		    path, cm, sm);
	if (sm != NULL)
		return CFG_SERVER;
	if (cm != NULL)
		return CFG_CLIENT;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strstr(base, "server") != NULL)
		return CFG_SERVER;
	if (strstr(base, "client") != NULL)
		return CFG_CLIENT;
	return err_set(e,
	    "%s: no client or server keys (such as DOMAINS or "
	    "DOMAIN); cannot tell client from server",
	    path);
}

/*
 * A float setting holds seconds or a count: NaN or an infinity is not
 * one. Upstream's TOML decoder accepts them and its clamps keep NaN, so
 * the settings would be undefined; we refuse them at load.
 */
static int
check_finite(const char *path, const char *key, const struct toml_value *v,
    struct err *e)
{
	if (v->type != TOML_FLOAT || isfinite(v->dbl))
		return 0;
	return err_set(e, "%s:%d:%d: %s: %s is not a finite number", path,
	    v->line, v->col, key, isnan(v->dbl) ? "nan" : "inf");
}

/*
 * Check a file value's type against the default's. single: a list of
 * strings that also takes a lone string.
 */
static int
check_type(const char *path, const struct toml_entry *ent,
    const struct toml_value *dflt, int single, struct err *e)
{
	const struct toml_value *v = &ent->value;
	enum toml_type want = dflt->type, elem;
	size_t i;

	if (v->type == TOML_INT && want == TOML_FLOAT)
		return 0;
	if (single && v->type == TOML_STRING && want == TOML_ARRAY)
		return 0;
	if (v->type != want)
		return err_set(e, "%s:%d:%d: %s: expected %s, got %s", path,
		    v->line, v->col, ent->key, toml_type_name(want),
		    toml_type_name(v->type));
	if (want == TOML_FLOAT)
		return check_finite(path, ent->key, v, e);
	if (want != TOML_ARRAY)
		return 0;
	elem = dflt->nitems > 0 ? dflt->items[0].type : TOML_STRING;
	for (i = 0; i < v->nitems; i++) {
		if (v->items[i].type != elem)
			return err_set(e,
			    "%s:%d:%d: %s: array items must be "
			    "%ss, got %s",
			    path, v->items[i].line, v->items[i].col, ent->key,
			    toml_type_name(elem),
			    toml_type_name(v->items[i].type));
		if (elem == TOML_INT &&
		    (v->items[i].i64 < INT32_MIN ||
			v->items[i].i64 > INT32_MAX))
			return err_set(e, "%s:%d:%d: %s: %lld is out of range",
			    path, v->items[i].line, v->items[i].col, ent->key,
			    (long long)v->items[i].i64);
	}
	return 0;
}

/* Append "KEY = " and the TOML literal of s to *buf. */
static void
append_str(char **buf, size_t *len, const char *key, const char *s)
{
	char *t = xasprintf("%s%s = ", *buf, key);

	free(*buf);
	*buf = t;
	*len = strlen(t);
	toml_quote(s, buf, len);
	t = xasprintf("%s\n", *buf);
	free(*buf);
	*buf = t;
	*len = strlen(t);
}

/* The profile as a TOML overlay document. */
static int
profile_doc(const struct profile *p, struct toml_doc **out, struct err *e)
{
	char *buf = xstrdup(""), *tmp;
	size_t len = 0, i;
	int r;

	if (p->ndomains > 0) {
		tmp = xasprintf("%sDOMAINS = [", buf);
		free(buf);
		buf = tmp;
		len = strlen(buf);
		for (i = 0; i < p->ndomains; i++) {
			if (i > 0) {
				tmp = xasprintf("%s, ", buf);
				free(buf);
				buf = tmp;
				len = strlen(buf);
			}
			toml_quote(p->domains[i], &buf, &len);
		}
		tmp = xasprintf("%s]\n", buf);
		free(buf);
		buf = tmp;
	}
	if (p->method >= 0) {
		tmp = xasprintf(
		    "%sDATA_ENCRYPTION_METHOD = %d\n", buf, p->method);
		free(buf);
		buf = tmp;
	}
	if (p->key != NULL)
		append_str(&buf, &len, "ENCRYPTION_KEY", p->key);
	if (p->expected_exit_ip != NULL)
		append_str(
		    &buf, &len, "MDNS_EXPECTED_EXIT_IP", p->expected_exit_ip);
	r = toml_parse_buf(p->path, buf, strlen(buf), out, e);
	explicit_bzero(buf, strlen(buf));
	free(buf);
	return r;
}

static void
add_item(struct cfg *c, const char *key, const struct toml_value *v,
    enum cfg_source src, const char *origin, int line, int col, int known)
{
	struct cfg_private *pv = c->priv;
	struct item *it;

	if (pv->nitems == pv->items_cap) {
		pv->items_cap = pv->items_cap ? 2 * pv->items_cap : 128;
		pv->items =
		    xreallocarray(pv->items, pv->items_cap, sizeof *pv->items);
	}
	it = &pv->items[pv->nitems++];
	memset(it, 0, sizeof *it);
	it->key = key;
	it->value = v;
	it->source = src;
	it->origin = origin;
	it->line = line;
	it->col = col;
	it->known = known;
	it->secret = cfg_key_secret(c->role, key) ||
	    (!known && toml_key_looks_secret(key));
	hmap_put(&pv->index, str_hash(key), (uint32_t)(pv->nitems - 1));
}

/*
 * An absent key: upstream's default, or ours where it differs, marked
 * and explained (docs/config.md, "Our defaults").
 */
static void
default_item(struct cfg *c, const struct toml_entry *ent)
{
	const char *up = cfg_key_upstream_default(c->role, ent->key);

	if (up == NULL) {
		add_item(
		    c, ent->key, &ent->value, CFG_SRC_DEFAULT, NULL, 0, 0, 1);
		return;
	}
	add_item(c, ent->key, &ent->value, CFG_SRC_MDNS_DEFAULT, NULL, 0, 0, 1);
	if (strcmp(ent->key, "DATA_ENCRYPTION_METHOD") == 0)
		cfg_note(c, ent->key,
		    "upstream's default is %s (%s), which gives the key away "
		    "(docs/security.md#encryption-methods); the peer must "
		    "use %lld too",
		    up, method_name((int)strtol(up, NULL, 10)),
		    (long long)ent->value.i64);
	else
		cfg_note(c, ent->key, "upstream's default is %s", up);
}

/* Build the item list: file order, then defaults, then the profile. */
static void
build_items(struct cfg *c)
{
	struct cfg_private *pv = c->priv;
	const struct toml_entry *ent, *pe;
	size_t i;

	for (i = 0; pv->file != NULL && i < toml_count(pv->file); i++) {
		int known;

		ent = toml_entry_at(pv->file, i);
		known = cfg_key_known(c->role, ent->key);
		if ((pe = toml_find(pv->prof, ent->key)) != NULL)
			add_item(c, ent->key, &pe->value, CFG_SRC_PROFILE,
			    c->profile_path, 0, 0, known);
		else
			add_item(c, ent->key, &ent->value, CFG_SRC_FILE,
			    c->path, ent->value.line, ent->value.col, known);
		if (!known)
			cfg_warning(c, ent->key,
			    "unknown key for a %s config "
			    "(upstream ignores it)",
			    cfg_role_name(c->role));
	}
	for (i = 0; i < toml_count(pv->defaults); i++) {
		ent = toml_entry_at(pv->defaults, i);
		if (item_find(c, ent->key) != NULL)
			continue;
		if ((pe = toml_find(pv->prof, ent->key)) != NULL)
			add_item(c, ent->key, &pe->value, CFG_SRC_PROFILE,
			    c->profile_path, 0, 0, 1);
		else
			default_item(c, ent);
	}
	/* What only a profile sets among the keys listed when written
	 * (MDNS_EXPECTED_EXIT_IP from expectedExitIP). */
	for (i = 0; pv->prof != NULL && i < toml_count(pv->prof); i++) {
		pe = toml_entry_at(pv->prof, i);
		if (item_find(c, pe->key) == NULL)
			add_item(c, pe->key, &pe->value, CFG_SRC_PROFILE,
			    c->profile_path, 0, 0,
			    cfg_key_known(c->role, pe->key));
	}
}

/* Resolver-list lines the reader skips become warnings. */
static void
rl_warn(void *arg, const char *msg)
{
	cfg_push_warning(arg, msg);
}

/* Client: append the addresses of a resolver list (lenient, as upstream:
 * a bad line is skipped, with a warning). */
static int
read_resolvers(struct cfg *c, const char *path, struct err *e)
{
	struct rl_opts o = {.on_error = rl_warn, .arg = c};
	struct cfg_client *cl = &c->client;
	struct rl_reader *r;
	union net_addr a;
	size_t before = cl->nresolvers;
	int rc;

	if (rl_open(path, &o, &r, e) == -1)
		return -1;
	while ((rc = rl_next(r, &a, e)) == 1) {
		cl->resolvers = xreallocarray(
		    cl->resolvers, cl->nresolvers + 1, sizeof *cl->resolvers);
		cl->resolvers[cl->nresolvers++] = a;
	}
	rl_close(r);
	if (rc == -1)
		return -1;
	if (cl->nresolvers == before) {
		char *m = xasprintf("%s: no resolvers in the list", path);

		cfg_push_problem(c, m);
		free(m);
	}
	return 0;
}

/* Parse our own defaults text: a failure is a bug, not input. */
static int
parse_defaults(struct cfg *c, struct err *e)
{
	struct cfg_private *pv = c->priv;
	struct err de;

	pv->defaults_text = cfg_keys_defaults_text(c->role, 0);
	pv->extra_text = cfg_keys_defaults_text(c->role, 1);
	if (toml_parse_buf("(defaults)", pv->defaults_text,
		strlen(pv->defaults_text), &pv->defaults, &de) == -1 ||
	    toml_parse_buf("(defaults)", pv->extra_text, strlen(pv->extra_text),
		&pv->extra, &de) == -1)
		return err_set(e, "internal error in defaults: %s", de.msg);
	return 0;
}

static struct cfg *
cfg_new(int role, const char *path, struct toml_doc *file)
{
	struct cfg *c = xcalloc(1, sizeof *c);
	const char *slash;

	c->priv = xcalloc(1, sizeof *c->priv);
	c->role = role;
	c->priv->file = file;
	if (path != NULL) {
		c->path = xstrdup(path);
		slash = strrchr(path, '/');
		c->dir = slash == NULL ? xstrdup(".") :
		    slash == path      ? xstrdup("/") :
					 xstrndup(path, (size_t)(slash - path));
	} else {
		c->dir = xstrdup(".");
	}
	return c;
}

/* The rest of cfg_load once c exists; -1 with e set. */
static int
load(struct cfg *c, const struct profile *prof, const struct cfg_opts *opts,
    struct err *e)
{
	struct cfg_private *pv = c->priv;
	size_t i;

	if (parse_defaults(c, e) == -1)
		return -1;
	for (i = 0; pv->file != NULL && i < toml_count(pv->file); i++) {
		const struct toml_entry *ent = toml_entry_at(pv->file, i);
		const struct toml_value *d = toml_get(pv->defaults, ent->key);

		if (d == NULL)
			d = toml_get(pv->extra, ent->key);
		if (d != NULL &&
		    check_type(c->path, ent, d,
			cfg_key_single(c->role, ent->key), e) == -1)
			return -1;
	}
	if (prof != NULL) {
		struct cfg_client *cl = &c->client;

		c->profile_path = xstrdup(prof->path);
		if (profile_doc(prof, &pv->prof, e) == -1)
			return -1;
		cl->fec = prof->fec;
	} else {
		c->client.fec.level = "none";
	}
	build_items(c);
	cfg_keys_fill(c, opts);
	if (c->role == CFG_CLIENT && opts != NULL && opts->resolvers != NULL &&
	    read_resolvers(c, opts->resolvers, e) == -1)
		return -1;
	if (prof != NULL) {
		struct cfg_client *cl = &c->client;

		cl->resolvers = xreallocarray(cl->resolvers,
		    cl->nresolvers + prof->nresolvers + 1,
		    sizeof *cl->resolvers);
		for (i = 0; i < prof->nresolvers; i++)
			cl->resolvers[cl->nresolvers++] =
			    prof->resolvers[i].addr;
	}
	return 0;
}

int
cfg_load(const char *path, const struct profile *prof,
    const struct cfg_opts *opts, struct cfg **out, struct err *e)
{
	struct toml_doc *file = NULL;
	struct cfg *c;
	int role;

	*out = NULL;
	if (path == NULL && prof == NULL)
		return err_set(e, "no configuration file or profile given");
	if (path != NULL && toml_parse_file(path, &file, e) == -1)
		return -1;
	role = opts != NULL && opts->role >= 0 ? opts->role :
	    file != NULL		       ? detect_role(path, file, e) :
						 CFG_CLIENT;
	if (role < 0) {
		toml_free(file);
		return -1;
	}
	if (prof != NULL && role == CFG_SERVER) {
		toml_free(file);
		return err_set(e,
		    "%s: a profile describes a client; %s is a "
		    "server config",
		    prof->path, path);
	}
	c = cfg_new(role, path, file);
	if (load(c, prof, opts, e) == -1) {
		cfg_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* The role's defaults: a configuration without file or profile. */
static struct cfg *
defaults_of(enum cfg_role role)
{
	struct cfg *c = cfg_new(role, NULL, NULL);
	struct err e;

	/* Our own text: abort on failure like an allocation would. */
	if (load(c, NULL, NULL, &e) == -1) {
		fprintf(stderr, "mdns-doctor: %s\n", e.msg);
		abort();
	}
	return c;
}

/*
 * The defaults are built once per role (a parse of the table's text and
 * a pass of the rules) and copied out after: fuzz targets and tests ask
 * for them per input. Kept for the life of the process.
 */
static struct cfg *dflt[2];
static pthread_once_t dflt_once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void
build_client_defaults(void)
{
	dflt[CFG_CLIENT] = defaults_of(CFG_CLIENT);
}

static void
build_server_defaults(void)
{
	dflt[CFG_SERVER] = defaults_of(CFG_SERVER);
}

void
cfg_client_defaults(struct cfg_client *out)
{
	pthread_once(&dflt_once[CFG_CLIENT], build_client_defaults);
	cfg_client_copy(out, &dflt[CFG_CLIENT]->client);
}

void
cfg_server_defaults(struct cfg_server *out)
{
	pthread_once(&dflt_once[CFG_SERVER], build_server_defaults);
	cfg_server_copy(out, &dflt[CFG_SERVER]->server);
}

int
cfg_load_valid(const char *path, const struct profile *prof,
    const struct cfg_opts *opts, enum cfg_role role, struct cfg **out,
    struct err *e)
{
	struct cfg *c;

	if (cfg_load(path, prof, opts, &c, e) == -1)
		return -1;
	if (c->role != role) {
		err_set(e, "%s: a %s configuration, not a %s one",
		    c->path ? c->path : c->profile_path, cfg_role_name(c->role),
		    cfg_role_name(role));
		cfg_free(c);
		return -1;
	}
	if (role == CFG_SERVER && c->server.key == NULL &&
	    c->server.method != METHOD_NONE)
		cfg_problem(c, "ENCRYPTION_KEY_FILE",
		    "%s: no key to serve with (the doctor never generates "
		    "one: write a key of %zu characters there)",
		    c->server.key_path, method_key_len(c->server.method));
	if (cfg_validate(c, e) == -1) {
		cfg_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int
cfg_validate(const struct cfg *c, struct err *e)
{
	if (c->priv->nerrors == 0)
		return 0;
	return err_set(e, "%s", c->priv->errors[0]);
}

size_t
cfg_error_count(const struct cfg *c)
{
	return c->priv->nerrors;
}

const char *
cfg_error_at(const struct cfg *c, size_t i)
{
	return i < c->priv->nerrors ? c->priv->errors[i] : NULL;
}

const char *
cfg_key_problem(const struct cfg *c, const char *key)
{
	const struct cfg_private *pv = c->priv;
	size_t i;

	for (i = 0; i < pv->nerror_keys; i++)
		if (pv->error_keys[i] != NULL &&
		    strcmp(pv->error_keys[i], key) == 0)
			return pv->errors[i];
	return NULL;
}

int
cfg_method_finding(const struct cfg *c, char *buf, size_t len)
{
	const char *key = "DATA_ENCRYPTION_METHOD";
	int m = c->role == CFG_SERVER ? c->server.method : c->client.method;
	char text[ERR_MSG_MAX], *w;
	int level = method_finding_text(m, text, sizeof text);

	if (len > 0)
		buf[0] = '\0';
	if (level == EXIT_OK)
		return level;
	w = where(c, key);
	snprintf(buf, len, "%s: %s: %s", w, key, text);
	free(w);
	return level;
}

size_t
cfg_item_count(const struct cfg *c)
{
	return c->priv->nitems;
}

void
cfg_item_at(const struct cfg *c, size_t i, struct cfg_item *out)
{
	const struct item *it = &c->priv->items[i];

	out->key = it->key;
	out->value = it->value;
	out->source = it->source;
	out->origin = it->origin;
	out->line = it->line;
	out->known = it->known;
	out->secret = it->secret;
	out->note = it->note;
}

size_t
cfg_warning_count(const struct cfg *c)
{
	return c->priv->nwarnings;
}

const char *
cfg_warning_at(const struct cfg *c, size_t i)
{
	return i < c->priv->nwarnings ? c->priv->warnings[i] : NULL;
}

void
cfg_log_warnings(const struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->priv->nwarnings; i++)
		log_warn("%s", c->priv->warnings[i]);
}

char *
cfg_default_resolvers_path(const struct cfg *c)
{
	return xasprintf("%s/client_resolvers.txt", c->dir);
}

json_t *
cfg_effective_json(const struct cfg *c)
{
	return c->role == CFG_SERVER ? cfg_server_effective_json(&c->server) :
				       cfg_client_effective_json(&c->client);
}

const char *
cfg_role_name(enum cfg_role role)
{
	return role == CFG_SERVER ? "server" : "client";
}

const char *
cfg_source_name(enum cfg_source src)
{
	switch (src) {
	case CFG_SRC_DEFAULT:
		return "default";
	case CFG_SRC_FILE:
		return "file";
	case CFG_SRC_PROFILE:
		return "profile";
	case CFG_SRC_CLAMPED:
		return "clamped";
	case CFG_SRC_OPTION:
		return "option";
	case CFG_SRC_INVALID:
		return "invalid";
	case CFG_SRC_MDNS_DEFAULT:
		return "mdns-default";
	}
	return "?";
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
cfg_free(struct cfg *c)
{
	struct cfg_private *pv;
	size_t i;

	if (c == NULL)
		return;
	pv = c->priv;
	for (i = 0; i < pv->nitems; i++)
		free(pv->items[i].note);
	free(pv->items);
	hmap_free(&pv->index);
	free_list(pv->warnings, pv->nwarnings);
	free_list(pv->errors, pv->nerrors);
	free_list(pv->error_keys, pv->nerror_keys);
	toml_free(pv->defaults);
	toml_free(pv->extra);
	toml_free(pv->file);
	toml_free(pv->prof);
	free(pv->defaults_text);
	free(pv->extra_text);
	free(pv);
	cfg_client_clear(&c->client);
	cfg_server_clear(&c->server);
	free(c->profile_path);
	free(c->path);
	free(c->dir);
	free(c);
}
