/* SPDX-License-Identifier: MIT */
/*
 * test-toml.c — the TOML subset reader against the real upstream sample
 * configs (read from $MDNS_SHARED, never copied) and a table of malformed
 * inputs with their exact "file:line:col: reason" messages.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/toml.h"
#include "tests/tap.h"

/*
 * An independent, line-based view of a flat sample file: every line that
 * starts with an UPPER_SNAKE key followed by "=", with the raw text to the
 * right (trailing comment and blanks removed). The samples have no '#'
 * inside strings, so cutting at '#' is safe for them.
 */
struct rawkv {
	char key[128];
	char raw[512];
	int line;
};

static int
read_raw(const char *path, struct rawkv *kv, int max)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0, lineno = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line, *eq, *hash, *end;
		size_t klen;

		lineno++;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_')
			p++;
		if (p == line)
			continue;
		klen = (size_t)(p - line);
		while (*p == ' ')
			p++;
		if (*p != '=')
			continue;
		eq = p;
		if (n == max)
			break;
		memcpy(kv[n].key, line, klen);
		kv[n].key[klen] = '\0';
		p = eq + 1;
		while (*p == ' ')
			p++;
		if ((hash = strchr(p, '#')) != NULL)
			*hash = '\0';
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		snprintf(kv[n].raw, sizeof kv[n].raw, "%s", p);
		kv[n].line = lineno;
		n++;
	}
	fclose(f);
	return n;
}

/* Does the parsed value agree with the raw text the test extracted? */
static int
value_matches_raw(const struct toml_value *v, const char *raw)
{
	size_t rl = strlen(raw);

	if (raw[0] == '"')
		return v->type == TOML_STRING && rl >= 2 &&
		    strlen(v->str) == rl - 2 &&
		    memcmp(v->str, raw + 1, rl - 2) == 0;
	if (raw[0] == '[')
		return v->type == TOML_ARRAY;
	if (strcmp(raw, "true") == 0 || strcmp(raw, "false") == 0)
		return v->type == TOML_BOOL && v->boolean == (raw[0] == 't');
	if (strchr(raw, '.') != NULL)
		return v->type == TOML_FLOAT && v->dbl == strtod(raw, NULL);
	return v->type == TOML_INT && v->i64 == strtoll(raw, NULL, 10);
}

static void
check_sample(const char *file, int min_keys)
{
	char path[1024];
	struct rawkv *kv = calloc(400, sizeof *kv);
	struct toml_doc *doc = NULL;
	struct err e = {""};
	int n, i, bad = 0, order_ok = 1;

	snprintf(path, sizeof path, "%s/interop/upstream-configs/%s",
	    tap_shared_dir(), file);
	n = read_raw(path, kv, 400);
	tap_ok(n >= min_keys, "%s: test's own scan finds %d keys", file, n);
	tap_ok(toml_parse_file(path, &doc, &e) == 0, "%s parses (%s)", file,
	    e.msg);
	if (doc == NULL) {
		free(kv);
		return;
	}
	tap_is_int(toml_count(doc), n, "%s: key count matches line scan", file);
	for (i = 0; i < n; i++) {
		const struct toml_entry *ent = toml_find(doc, kv[i].key);

		if (ent == NULL || !value_matches_raw(&ent->value, kv[i].raw) ||
		    ent->line != kv[i].line) {
			tap_diag("%s: key %s raw %s line %d", file, kv[i].key,
			    kv[i].raw, kv[i].line);
			bad++;
		}
		if (i < (int)toml_count(doc) &&
		    strcmp(toml_entry_at(doc, (size_t)i)->key, kv[i].key) != 0)
			order_ok = 0;
	}
	tap_is_int(
	    bad, 0, "%s: every key has the type and value of its line", file);
	tap_ok(order_ok, "%s: keys iterate in file order", file);
	toml_free(doc);
	free(kv);
}

static struct toml_doc *
load_sample(const char *file)
{
	char path[1024];
	struct toml_doc *doc = NULL;
	struct err e;

	snprintf(path, sizeof path, "%s/interop/upstream-configs/%s",
	    tap_shared_dir(), file);
	if (toml_parse_file(path, &doc, &e) == -1)
		tap_diag("%s", e.msg);
	return doc;
}

static void
check_str(struct toml_doc *d, const char *key, const char *want)
{
	const struct toml_value *v = d ? toml_get(d, key) : NULL;

	tap_ok(v != NULL && v->type == TOML_STRING && strcmp(v->str, want) == 0,
	    "%s is string \"%s\"", key, want);
}

static void
check_int(struct toml_doc *d, const char *key, long long want)
{
	const struct toml_value *v = d ? toml_get(d, key) : NULL;

	tap_ok(v != NULL && v->type == TOML_INT && v->i64 == want,
	    "%s is integer %lld", key, want);
}

static void
check_float(struct toml_doc *d, const char *key, double want)
{
	const struct toml_value *v = d ? toml_get(d, key) : NULL;

	tap_ok(v != NULL && v->type == TOML_FLOAT && v->dbl == want,
	    "%s is float %g", key, want);
}

static void
check_bool(struct toml_doc *d, const char *key, int want)
{
	const struct toml_value *v = d ? toml_get(d, key) : NULL;

	tap_ok(v != NULL && v->type == TOML_BOOL && v->boolean == want,
	    "%s is boolean %s", key, want ? "true" : "false");
}

static void
specific_keys(void)
{
	struct toml_doc *c = load_sample("client_config.toml.simple");
	struct toml_doc *s = load_sample("server_config.toml.simple");
	const struct toml_value *v;

	v = c ? toml_get(c, "DOMAINS") : NULL;
	tap_ok(v && v->type == TOML_ARRAY && v->nitems == 1 &&
		v->items[0].type == TOML_STRING &&
		strcmp(v->items[0].str, "v.domain.com") == 0,
	    "client DOMAINS is [\"v.domain.com\"]");
	check_int(c, "DATA_ENCRYPTION_METHOD", 1);
	check_str(c, "ENCRYPTION_KEY", "");
	check_str(c, "PROTOCOL_TYPE", "SOCKS5");
	check_int(c, "LISTEN_PORT", 18000);
	check_bool(c, "SOCKS5_AUTH", 0);
	check_bool(c, "LOCAL_DNS_CACHE_PERSIST_TO_FILE", 1);
	check_float(c, "LOCAL_DNS_CACHE_TTL_SECONDS", 14400.0);
	check_float(c, "STREAM_RESOLVER_FAILOVER_COOLDOWN", 2.5);
	check_float(c, "DISPATCHER_IDLE_POLL_INTERVAL_SECONDS", 0.020);
	check_int(c, "MAX_DOWNLOAD_MTU", 4000);
	check_str(c, "MTU_SERVERS_FILE_FORMAT",
	    "{IP} ({DOMAIN}) - UP: {UP_MTU} DOWN: {DOWN-MTU}");
	check_bool(c, "BASE_ENCODE_DATA", 0);

	v = s ? toml_get(s, "DOMAIN") : NULL;
	tap_ok(v && v->type == TOML_ARRAY && v->nitems == 1 &&
		strcmp(v->items[0].str, "v.domain.com") == 0,
	    "server DOMAIN is [\"v.domain.com\"]");
	v = s ? toml_get(s, "SUPPORTED_UPLOAD_COMPRESSION_TYPES") : NULL;
	tap_ok(v && v->type == TOML_ARRAY && v->nitems == 4 &&
		v->items[0].type == TOML_INT && v->items[0].i64 == 0 &&
		v->items[3].type == TOML_INT && v->items[3].i64 == 3,
	    "SUPPORTED_UPLOAD_COMPRESSION_TYPES is [0, 1, 2, 3]");
	v = s ? toml_get(s, "DNS_UPSTREAM_SERVERS") : NULL;
	tap_ok(v && v->type == TOML_ARRAY && v->nitems == 2 &&
		strcmp(v->items[1].str, "1.0.0.1:53") == 0,
	    "DNS_UPSTREAM_SERVERS has 1.0.0.1:53 second");
	check_int(s, "SOCKET_BUFFER_SIZE", 8388608);
	check_str(s, "CONFIG_VERSION", "12");
	check_float(
	    s, "MIN_ALLOWED_CLIENT_PING_AGGRESSIVE_INTERVAL_SECONDS", 0.05);
	check_str(s, "FORWARD_IP", "");
	check_str(s, "ENCRYPTION_KEY_FILE", "encrypt_key.txt");
	check_int(s, "MAX_ALLOWED_CLIENT_UPLOAD_MTU", 150);
	tap_ok(s && toml_get(s, "ENCRYPTION_KEY") == NULL,
	    "server sample has no ENCRYPTION_KEY");
	tap_ok(s && toml_get(s, "DOMAINS") == NULL, "lookup is exact");
	toml_free(c);
	toml_free(s);
}

struct good_case {
	const char *text;
	const char *key;
	const char *formatted; /* toml_value_format of the value */
};

static const struct good_case goods[] = {
    {"A = \"a\\\"b\\\\c\\nd\\te\"", "A", "\"a\\\"b\\\\c\\nd\\te\""},
    {"A = 'C:\\path\\x'", "A", "\"C:\\\\path\\\\x\""},
    {"A = \"\\u00e9\\U0001F600\"", "A", "\"\xc3\xa9\xf0\x9f\x98\x80\""},
    {"A = 1_000_000", "A", "1000000"},
    {"A = -42", "A", "-42"},
    {"A = +7", "A", "7"},
    {"A = 0x1F", "A", "31"},
    {"A = 0xdead_beef", "A", "3735928559"},
    {"A = 0o17", "A", "15"},
    {"A = 0b101", "A", "5"},
    {"A = 9223372036854775807", "A", "9223372036854775807"},
    {"A = -9223372036854775808", "A", "-9223372036854775808"},
    {"A = 2.5", "A", "2.5"},
    {"A = 0.020", "A", "0.02"},
    {"A = 1e3", "A", "1000.0"},
    {"A = -1.5E-2", "A", "-0.015"},
    {"A = 1_0.2_5", "A", "10.25"},
    {"A = inf", "A", "inf"},
    {"A = -inf", "A", "-inf"},
    {"A = nan", "A", "nan"},
    {"A = true", "A", "true"},
    {"A = false # no", "A", "false"},
    {"A = []", "A", "[]"},
    {"A = [1, \"x\", 2.5, true, [3]]", "A", "[1, \"x\", 2.5, true, [3]]"},
    {"A = [\n  \"a\", # first\n\n  \"b\",\n]\n", "A", "[\"a\", \"b\"]"},
    {"  lower-case_1 =\t\"x\"", "lower-case_1", "\"x\""},
    {"[section]\nA = 1", "section.A", "1"},
    {"a . b = 1", "a.b", "1"},
    {"\xef\xbb\xbf"
     "A = 1\r\nB = 2\r\n",
	"B", "2"},
    {"A = \"#not a comment\"", "A", "\"#not a comment\""},
    {"A = \"\"", "A", "\"\""},
};

static void
good_inputs(void)
{
	size_t i;

	for (i = 0; i < nitems(goods); i++) {
		struct toml_doc *doc = NULL;
		struct err e = {""};
		const struct toml_value *v;
		char *f = NULL;

		if (toml_parse_buf("t.toml", goods[i].text,
			strlen(goods[i].text), &doc, &e) == 0 &&
		    (v = toml_get(doc, goods[i].key)) != NULL)
			f = toml_value_format(v);
		tap_is_str(f ? f : e.msg, goods[i].formatted,
		    "good input %zu reads back", i);
		free(f);
		toml_free(doc);
	}
}

struct bad_case {
	const char *text;
	const char *msg;
};

static const struct bad_case bads[] = {
    {"A = \"abc", "t.toml:1:5: unterminated string"},
    {"\n\nDOMAINS = [\"a\", \"b\n", "t.toml:3:17: unterminated string"},
    {"A = 'abc\nB = 1", "t.toml:1:5: unterminated string"},
    {"A = [1, 2", "t.toml:1:5: unterminated array"},
    {"X = 1\nA = [\n1,\n2\n", "t.toml:2:5: unterminated array"},
    {"A = [1 2]", "t.toml:1:8: expected ',' or ']' in array"},
    {"A = [1,,2]", "t.toml:1:8: invalid value"},
    {"A = 1\nA = 2", "t.toml:2:1: duplicate key A (first set on line 1)"},
    {"A = 1\n[t]\nB = 1\nB = 3",
	"t.toml:4:1: duplicate key t.B (first set on line 3)"},
    {"A 1", "t.toml:1:3: expected '=' after key"},
    {"A =", "t.toml:1:4: missing value"},
    {"A = # c", "t.toml:1:5: missing value"},
    {"= 1", "t.toml:1:1: invalid character '=' in key"},
    {"A = yes", "t.toml:1:5: invalid value 'yes' (strings need quotes)"},
    {"A = SOCKS5",
	"t.toml:1:5: invalid value 'SOCKS5' (strings need "
	"quotes)"},
    {"A = 1 2", "t.toml:1:7: unexpected text after value"},
    {"A = \"x\" y", "t.toml:1:9: unexpected text after value"},
    {"A = 01", "t.toml:1:5: leading zeros are not allowed in '01'"},
    {"A = 1__0", "t.toml:1:5: invalid number '1__0'"},
    {"A = 1_", "t.toml:1:5: invalid number '1_'"},
    {"A = 1.", "t.toml:1:5: invalid float '1.'"},
    {"A = .5", "t.toml:1:5: invalid value"},
    {"A = 1e", "t.toml:1:5: invalid float '1e'"},
    {"A = 0xG", "t.toml:1:5: invalid number '0xG'"},
    {"A = -0x10",
	"t.toml:1:5: a sign is not allowed on hex, octal or "
	"binary"},
    {"A = 9223372036854775808",
	"t.toml:1:5: integer out of range '9223372036854775808'"},
    {"A = 1e999", "t.toml:1:5: float out of range '1e999'"},
    {"A = 1979-05-27", "t.toml:1:5: dates and times are not supported"},
    {"A = 07:32:00", "t.toml:1:5: dates and times are not supported"},
    {"A = {x = 1}", "t.toml:1:5: inline tables are not supported"},
    {"[[t]]\nA = 1", "t.toml:1:1: arrays of tables are not supported"},
    {"[t\nA = 1", "t.toml:1:3: expected ']' after table name"},
    {"\"A\" = 1", "t.toml:1:1: quoted keys are not supported"},
    {"A = \"\"\"x\"\"\"",
	"t.toml:1:5: multi-line strings are not "
	"supported"},
    {"A = \"a\\qb\"", "t.toml:1:7: unknown escape \\q"},
    {"A = \"\\u12\"", "t.toml:1:6: bad \\u escape: need 4 hex digits"},
    {"A = \"\\uD800\"",
	"t.toml:1:6: bad \\u escape: U+D800 is not "
	"allowed"},
    {"A = \"\\u0000\"",
	"t.toml:1:6: bad \\u escape: U+0000 is not "
	"allowed"},
    {"A = \"a\x01\"", "t.toml:1:7: control character 0x01 in string"},
    {"A = 1 # bell\x07",
	"t.toml:1:13: control character 0x07 in "
	"comment"},
    {"A = tru", "t.toml:1:5: invalid value 'tru' (strings need quotes)"},
    {"A = truex",
	"t.toml:1:5: invalid value 'truex' (strings need "
	"quotes)"},
    /* An unquoted secret is never echoed back. */
    {"ENCRYPTION_KEY = s3cr3t",
	"t.toml:1:18: invalid value (value of "
	"a secret key) (strings need quotes)"},
    {"SOCKS5_PASS = 12ab34",
	"t.toml:1:15: invalid number (value of a "
	"secret key)"},
    {"[x]\napi_token = [007]",
	"t.toml:2:14: leading zeros are not "
	"allowed in (value of a secret key)"},
    {"ENCRYPTION_KEY_FILE = k.txt",
	"t.toml:1:23: invalid value 'k' "
	"(strings need quotes)"},
    {"A = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]",
	"t.toml:1:37: arrays nested too deeply"},
};

static void
bad_inputs(void)
{
	size_t i;

	for (i = 0; i < nitems(bads); i++) {
		struct toml_doc *doc = (struct toml_doc *)1;
		struct err e = {""};
		int r;

		r = toml_parse_buf(
		    "t.toml", bads[i].text, strlen(bads[i].text), &doc, &e);
		tap_ok(r == -1 && doc == NULL, "bad input %zu rejected", i);
		tap_is_str(e.msg, bads[i].msg, "bad input %zu message", i);
	}
	/* A NUL byte is reported where it is, not silently cut. */
	{
		struct toml_doc *doc;
		struct err e = {""};
		static const char nul[] = "A = 1\nB = \"x\0y\"\n";

		tap_ok(toml_parse_buf(
			   "t.toml", nul, sizeof nul - 1, &doc, &e) == -1,
		    "NUL byte rejected");
		tap_is_str(
		    e.msg, "t.toml:2:7: NUL byte in file", "NUL byte message");
	}
}

static void
files(void)
{
	char path[4096];
	struct toml_doc *doc = NULL;
	struct err e = {""};
	int fd = mkstemp(tap_tmppath(path, sizeof path, "test-toml-XXXXXX"));
	static const char text[] = "# c\nZ = 1\nA = [\"x\"]\nM = 'y'\n";
	const struct toml_entry *ent;

	if (fd < 0 ||
	    write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
		tap_diag("cannot write %s", path);
	close(fd);
	tap_ok(toml_parse_file(path, &doc, &e) == 0, "temp file parses");
	tap_is_int(doc ? toml_count(doc) : 0, 3, "three keys");
	ent = doc ? toml_entry_at(doc, 0) : NULL;
	tap_ok(ent && strcmp(ent->key, "Z") == 0 && ent->line == 2 &&
		ent->col == 1,
	    "first entry Z at 2:1");
	ent = doc ? toml_entry_at(doc, 2) : NULL;
	tap_ok(ent && strcmp(ent->key, "M") == 0 && ent->value.col == 5,
	    "third entry M, value at column 5");
	tap_ok(doc && toml_entry_at(doc, 3) == NULL, "no fourth entry");
	tap_is_str(doc ? toml_name(doc) : NULL, path, "name is the path");
	toml_free(doc);
	unlink(path);
	tap_ok(toml_parse_file(path, &doc, &e) == -1 && doc == NULL,
	    "missing file fails");
	tap_ok(strstr(e.msg, path) != NULL &&
		strstr(e.msg, "No such file") != NULL,
	    "missing file message names the path: %s", e.msg);
	tap_is_str(toml_type_name(TOML_FLOAT), "float", "type name");
}

int
main(void)
{
	check_sample("client_config.toml.simple", 60);
	check_sample("server_config.toml.simple", 60);
	specific_keys();
	good_inputs();
	bad_inputs();
	files();
	return tap_done();
}
