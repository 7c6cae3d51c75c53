/* SPDX-License-Identifier: MIT */
/*
 * profile.c — JSON profile reader (jansson) for the mobile-client contract
 * described in profile.h. It checks types and values of every known field
 * and names the offending field in its errors; unknown fields are ignored
 * so that newer profiles still load.
 *
 * It does not talk to the network and does not check the key against a
 * server; config.c overlays a profile onto a client configuration.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/method.h"
#include "common/profile.h"
#include "common/resolvers.h"

#define PROF_MAX_FILE	 (1u << 20)
#define PROF_MAX_KEYFILE 4096

/* The fork's presets: group size, repair overhead, flush timeout. */
static const struct prof_fec fec_levels[] = {
    {0, 0, 0, 0, PROF_FEC_DOWNLOAD, "none"},
    {1, 8, 15, 25, PROF_FEC_DOWNLOAD, "conservative"},
    {1, 12, 25, 20, PROF_FEC_DOWNLOAD, "balanced"},
    {1, 16, 40, 15, PROF_FEC_DOWNLOAD, "aggressive"},
};

int
prof_fec_from_level(const char *level, struct prof_fec *fec)
{
	size_t i;

	for (i = 0; i < nitems(fec_levels); i++) {
		if (strcasecmp(level, fec_levels[i].level) == 0) {
			enum prof_fec_dir d = fec->direction;

			*fec = fec_levels[i];
			fec->direction = d;
			return 0;
		}
	}
	return -1;
}

const char *
prof_fec_dir_name(enum prof_fec_dir d)
{
	switch (d) {
	case PROF_FEC_DOWNLOAD:
		return "download";
	case PROF_FEC_UPLOAD:
		return "upload";
	case PROF_FEC_BOTH:
		return "both";
	}
	return "?";
}

int
prof_domain_normalize(char *d, struct err *e)
{
	size_t n = strlen(d), i, label = 0;
	char s[80];

	str_printable(d, s, sizeof s);
	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	if (n == 0)
		return err_set(e, "empty domain");
	if (n > 253)
		return err_set(e, "domain %s is longer than 253 characters", s);
	for (i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.' || c == '\0') {
			if (label == 0)
				return err_set(e,
				    "domain %s has an empty "
				    "label",
				    s);
			if (label > 63)
				return err_set(e,
				    "domain %s has a label "
				    "longer than 63 characters",
				    s);
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return err_set(e, "domain %s has a bad character", s);
		d[i] = (char)tolower(c);
		label++;
	}
	return 0;
}

/* Field access helpers: each sets "FIELD: reason" in e. */

static int
get_string(
    json_t *obj, const char *field, const char *path, char **out, struct err *e)
{
	json_t *v = json_object_get(obj, field);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, "%s: must be a string", path);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, "%s: contains a NUL character", path);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
add_domain(struct profile *p, const char *text, const char *path, struct err *e)
{
	char *d = xstrdup(text);
	struct err de;

	if (prof_domain_normalize(d, &de) == -1) {
		free(d);
		return err_set(e, "%s: %s", path, de.msg);
	}
	p->domains =
	    xreallocarray(p->domains, p->ndomains + 1, sizeof *p->domains);
	p->domains[p->ndomains++] = d;
	return 0;
}

static int
read_domains(json_t *root, struct profile *p, struct err *e)
{
	json_t *one = json_object_get(root, "domain");
	json_t *many = json_object_get(root, "domains");
	size_t i;
	json_t *v;
	char path[64];

	if (one != NULL && many != NULL)
		return err_set(e, "give either domain or domains, not both");
	if (one == NULL && many == NULL)
		return err_set(e, "domain (or domains) is required");
	if (one != NULL) {
		if (!json_is_string(one))
			return err_set(e, "domain: must be a string");
		return add_domain(p, json_string_value(one), "domain", e);
	}
	if (!json_is_array(many) || json_array_size(many) == 0)
		return err_set(e,
		    "domains: must be a non-empty array of "
		    "strings");
	json_array_foreach(many, i, v)
	{
		snprintf(path, sizeof path, "domains[%zu]", i);
		if (!json_is_string(v))
			return err_set(e, "%s: must be a string", path);
		if (add_domain(p, json_string_value(v), path, e) == -1)
			return -1;
	}
	str_dedupe(p->domains, &p->ndomains);
	return 0;
}

static int
read_resolvers(json_t *root, struct profile *p, struct err *e)
{
	json_t *arr = json_object_get(root, "resolvers"), *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return err_set(e, "resolvers: must be an array");
	p->resolvers = xcalloc(json_array_size(arr) + 1, sizeof *p->resolvers);
	json_array_foreach(arr, i, v)
	{
		struct prof_resolver *r = &p->resolvers[i];
		struct rl_entry ent;
		struct err pe;
		char path[64], s[80];

		p->nresolvers = i + 1;
		snprintf(path, sizeof path, "resolvers[%zu]", i);
		if (!json_is_object(v))
			return err_set(e, "%s: must be an object", path);
		snprintf(path, sizeof path, "resolvers[%zu].type", i);
		if (get_string(v, "type", path, &r->type, e) == -1)
			return -1;
		if (r->type == NULL)
			r->type = xstrdup("udp");
		if (strcasecmp(r->type, "udp") != 0) {
			str_printable(r->type, s, sizeof s);
			return err_set(e,
			    "%s: unsupported type \"%s\" (only "
			    "\"udp\")",
			    path, s);
		}
		snprintf(path, sizeof path, "resolvers[%zu].address", i);
		if (get_string(v, "address", path, &r->address, e) == -1)
			return -1;
		if (r->address == NULL)
			return err_set(e, "%s: is required", path);
		if (rl_parse_entry(r->address, RL_DEFAULT_PORT, &ent, &pe) ==
		    -1)
			return err_set(e, "%s: %s", path, pe.msg);
		if (ent.prefix_len >= 0)
			return err_set(
			    e, "%s: a prefix is not allowed here", path);
		r->addr = ent.addr;
	}
	return 0;
}

static int
read_masterdns(json_t *root, struct profile *p, struct err *e)
{
	json_t *m = json_object_get(root, "masterdns"), *v, *lvl;
	char *s = NULL, buf[80];
	int byname = -1;

	if (m == NULL)
		return 0;
	if (!json_is_object(m))
		return err_set(e, "masterdns: must be an object");
	if ((v = json_object_get(m, "encryptionMethod")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 5)
			return err_set(e,
			    "masterdns.encryptionMethod: must "
			    "be an integer 0..5");
		p->method = (int)json_integer_value(v);
	}
	if ((lvl = json_object_get(m, "encryptionLevel")) != NULL) {
		if (!json_is_string(lvl) ||
		    (byname = method_from_name(json_string_value(lvl))) < 0) {
			str_printable(json_is_string(lvl) ?
				json_string_value(lvl) :
				"(not a string)",
			    buf, sizeof buf);
			return err_set(e,
			    "masterdns.encryptionLevel: unknown "
			    "level \"%s\" (none, xor, chacha20, aes-128-gcm, "
			    "aes-192-gcm, aes-256-gcm)",
			    buf);
		}
		if (p->method >= 0 && p->method != byname)
			return err_set(e,
			    "masterdns: encryptionMethod %d and "
			    "encryptionLevel \"%s\" disagree",
			    p->method, method_name(byname));
		p->method = byname;
	}
	if (get_string(m, "key", "masterdns.key", &p->key, e) == -1 ||
	    get_string(m, "keyFile", "masterdns.keyFile", &p->key_file, e) ==
		-1)
		return -1;
	if (p->key != NULL && p->key_file != NULL)
		return err_set(e,
		    "masterdns: give either key or keyFile, not "
		    "both");
	if (p->key != NULL && *p->key == '\0')
		return err_set(e, "masterdns.key: is empty");
	if (get_string(m, "fecDirection", "masterdns.fecDirection", &s, e) ==
	    -1)
		return -1;
	if (s != NULL) {
		if (strcasecmp(s, "download") == 0)
			p->fec.direction = PROF_FEC_DOWNLOAD;
		else if (strcasecmp(s, "upload") == 0)
			p->fec.direction = PROF_FEC_UPLOAD;
		else if (strcasecmp(s, "both") == 0)
			p->fec.direction = PROF_FEC_BOTH;
		else {
			str_printable(s, buf, sizeof buf);
			free(s);
			return err_set(e,
			    "masterdns.fecDirection: unknown "
			    "direction \"%s\" (download, upload, both)",
			    buf);
		}
		free(s);
	}
	if (get_string(m, "fecLevel", "masterdns.fecLevel", &s, e) == -1)
		return -1;
	if (s != NULL) {
		if (prof_fec_from_level(s, &p->fec) == -1) {
			str_printable(s, buf, sizeof buf);
			free(s);
			return err_set(e,
			    "masterdns.fecLevel: unknown level "
			    "\"%s\" (none, conservative, balanced, "
			    "aggressive)",
			    buf);
		}
		free(s);
	}
	return 0;
}

static int
read_root(json_t *root, struct profile *p, struct err *e)
{
	json_t *v;
	char s[80];
	unsigned char ipbuf[16];

	if (!json_is_object(root))
		return err_set(e, "the profile must be a JSON object");
	if ((v = json_object_get(root, "version")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return err_set(e,
			    "version: must be a positive "
			    "integer");
		p->version = (long)json_integer_value(v);
	}
	if (get_string(root, "name", "name", &p->name, e) == -1 ||
	    get_string(root, "protocol", "protocol", &p->protocol, e) == -1)
		return -1;
	if (p->protocol == NULL)
		return err_set(e, "protocol: is required (\"masterdns\")");
	if (strcasecmp(p->protocol, "masterdns") != 0) {
		str_printable(p->protocol, s, sizeof s);
		return err_set(e,
		    "protocol: \"%s\" is not supported (only "
		    "\"masterdns\")",
		    s);
	}
	if (read_domains(root, p, e) == -1 || read_resolvers(root, p, e) == -1)
		return -1;
	if (get_string(root, "expectedExitIP", "expectedExitIP",
		&p->expected_exit_ip, e) == -1)
		return -1;
	if (p->expected_exit_ip != NULL &&
	    inet_pton(AF_INET, p->expected_exit_ip, ipbuf) != 1 &&
	    inet_pton(AF_INET6, p->expected_exit_ip, ipbuf) != 1) {
		str_printable(p->expected_exit_ip, s, sizeof s);
		return err_set(e,
		    "expectedExitIP: \"%s\" is not an IP "
		    "address",
		    s);
	}
	return read_masterdns(root, p, e);
}

static int
load(const char *name, const char *buf, size_t len, struct profile **out,
    struct err *e)
{
	json_error_t jerr;
	json_t *root;
	struct profile *p;
	char *near;

	*out = NULL;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jansson quotes the text around the error ("near '...'"),
		 * which may be the encryption key: keep only the reason,
		 * except for a duplicate key, where the text is the key. */
		if (strncmp(jerr.text, "duplicate object key", 20) != 0 &&
		    (near = strstr(jerr.text, " near '")) != NULL)
			*near = '\0';
		if (jerr.line > 0)
			return err_set(e, "%s:%d:%d: %s", name, jerr.line,
			    jerr.column, jerr.text);
		return err_set(e, "%s: %s", name, jerr.text);
	}
	p = xcalloc(1, sizeof *p);
	p->path = xstrdup(name);
	p->method = -1;
	p->fec = fec_levels[0];
	if (read_root(root, p, e) == -1) {
		err_prefix(e, "%s", name);
		json_decref(root);
		prof_free(p);
		return -1;
	}
	json_decref(root);
	*out = p;
	return 0;
}

int
prof_load_buf(const char *name, const char *buf, size_t len,
    struct profile **out, struct err *e)
{
	return load(name, buf, len, out, e);
}

/* Read a small file whole; NUL-terminated malloc'd text or NULL. */
static char *
slurp(const char *path, size_t max, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(max + 1);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		err_set(e, "%s: %s", path,
		    ferror(f) ? strerror(errno) : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
prof_load_file(const char *path, struct profile **out, struct err *e)
{
	char *buf, *kbuf, *kpath, *t;
	const char *slash;
	size_t len;
	struct profile *p;
	struct err ke;

	*out = NULL;
	if ((buf = slurp(path, PROF_MAX_FILE, &len, e)) == NULL)
		return -1;
	/* The file may hold the key: clear it before giving it back. */
	if (load(path, buf, len, &p, e) == -1) {
		explicit_bzero(buf, len);
		free(buf);
		return -1;
	}
	explicit_bzero(buf, len);
	free(buf);
	if (p->key_file != NULL) {
		slash = strrchr(path, '/');
		if (p->key_file[0] == '/' || slash == NULL)
			kpath = xstrdup(p->key_file);
		else
			kpath = xasprintf(
			    "%.*s/%s", (int)(slash - path), path, p->key_file);
		kbuf = slurp(kpath, PROF_MAX_KEYFILE, &len, &ke);
		free(kpath);
		if (kbuf == NULL) {
			err_set(e, "%s: masterdns.keyFile: %s", path, ke.msg);
			prof_free(p);
			return -1;
		}
		t = memchr(kbuf, '\0', len) != NULL ? "" : str_trim(kbuf);
		if (*t == '\0') {
			err_set(e,
			    "%s: masterdns.keyFile: %s is empty or "
			    "binary",
			    path, p->key_file);
			free(kbuf);
			prof_free(p);
			return -1;
		}
		p->key = xstrdup(t);
		explicit_bzero(kbuf, len);
		free(kbuf);
	}
	*out = p;
	return 0;
}

void
prof_free(struct profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ndomains; i++)
		free(p->domains[i]);
	free(p->domains);
	for (i = 0; i < p->nresolvers; i++) {
		free(p->resolvers[i].type);
		free(p->resolvers[i].address);
	}
	free(p->resolvers);
	if (p->key != NULL) {
		explicit_bzero(p->key, strlen(p->key));
		free(p->key);
	}
	free(p->key_file);
	free(p->name);
	free(p->protocol);
	free(p->expected_exit_ip);
	free(p->path);
	free(p);
}
