/* SPDX-License-Identifier: MIT */
/*
 * test-config.c — effective configuration: the upstream samples (role,
 * typed fields, every key listed), defaults for absent keys, upstream
 * clamps with notes, validation messages with file:line:col, the server
 * key file, and a profile laid over a client config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/tap.h"

static char dir[256];

static char *
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF)
		tap_diag("cannot write %s", path);
	if (f != NULL)
		fclose(f);
	return path;
}

static char *
sample(const char *name)
{
	return xasprintf(
	    "%s/interop/upstream-configs/%s", tap_shared_dir(), name);
}

static const struct cfg_item *
find_item(const struct cfg *c, const char *key, struct cfg_item *it)
{
	size_t i;

	for (i = 0; i < cfg_item_count(c); i++) {
		cfg_item_at(c, i, it);
		if (strcmp(it->key, key) == 0)
			return it;
	}
	return NULL;
}

static void
client_sample(void)
{
	char *path = sample("client_config.toml.simple");
	struct toml_doc *doc = NULL;
	struct cfg *c = NULL;
	struct cfg_item it;
	struct err e = {""};
	size_t i, from_file = 0;
	char *want;

	tap_ok(cfg_load(path, NULL, NULL, &c, &e) == 0,
	    "client sample loads "
	    "(%s)",
	    e.msg);
	toml_parse_file(path, &doc, &e);
	if (c == NULL || doc == NULL) {
		free(path);
		toml_free(doc);
		cfg_free(c);
		return;
	}
	tap_is_int(c->role, CFG_CLIENT, "detected as client");
	for (i = 0; i < cfg_item_count(c); i++) {
		cfg_item_at(c, i, &it);
		if (it.source == CFG_SRC_FILE)
			from_file++;
	}
	tap_is_int(from_file, toml_count(doc), "every file key is listed");
	tap_ok(c->client.ndomains == 1 &&
		strcmp(c->client.domains[0], "v.domain.com") == 0,
	    "domains");
	tap_is_int(c->client.method, 1, "method");
	tap_is_str(c->client.protocol, "SOCKS5", "protocol");
	tap_is_int(c->client.base64, 0, "BASE_ENCODE_DATA");
	tap_is_int(c->client.max_down_mtu, 4000, "MAX_DOWNLOAD_MTU");
	tap_is_int(c->client.min_up_mtu, 38, "MIN_UPLOAD_MTU");
	tap_is_int(c->client.mtu_retries, 2, "MTU_TEST_RETRIES");
	tap_ok(c->client.mtu_timeout_s == 2.0, "MTU_TEST_TIMEOUT");
	tap_is_int(c->client.dup, 3, "PACKET_DUPLICATION_COUNT");
	tap_is_int(c->client.setup_dup, 4, "SETUP_PACKET_DUPLICATION");
	tap_is_int(c->client.arq.window, 1000, "ARQ window");
	tap_is_int(c->client.arq.nack_max_gap, 32, "ARQ NACK gap");
	tap_is_int(c->client.listen_port, 18000, "listen port");
	tap_ok(c->client.key == NULL && c->client.key_fp[0] == '\0',
	    "empty key: no key");
	tap_ok(cfg_validate(c, &e) == -1, "sample without key is invalid");
	want = xasprintf("%s:35:18: ENCRYPTION_KEY: is required in a client "
			 "config",
	    path);
	tap_is_str(e.msg, want, "error names file:line:col");
	free(want);
	tap_ok(find_item(c, "SOCKS5_PASS", &it) && it.secret,
	    "SOCKS5_PASS is secret");
	tap_ok(
	    find_item(c, "ENCRYPTION_KEY", &it) && it.secret && it.line == 35,
	    "ENCRYPTION_KEY is secret, line 35");
	tap_is_int(cfg_warning_count(c), 0, "no warnings on the sample");
	toml_free(doc);
	cfg_free(c);
	free(path);
}

static void
server_sample(void)
{
	char *path = sample("server_config.toml.simple");
	struct cfg *c = NULL;
	struct cfg_item it;
	struct err e = {""};

	tap_ok(cfg_load(path, NULL, NULL, &c, &e) == 0,
	    "server sample loads "
	    "(%s)",
	    e.msg);
	if (c == NULL) {
		free(path);
		return;
	}
	tap_is_int(c->role, CFG_SERVER, "detected as server");
	tap_ok(c->server.ndomains == 1 &&
		strcmp(c->server.domains[0], "v.domain.com") == 0,
	    "DOMAIN");
	tap_is_int(c->server.up_comp_mask, 0xf, "upload types 0..3");
	tap_is_int(c->server.pol_up_mtu, 150, "client policy upload MTU");
	tap_is_int(c->server.pol_down_mtu, 4096, "policy download MTU");
	tap_is_int(c->server.udp_port, 53, "UDP_PORT");
	tap_is_int(
	    c->server.max_packets_per_batch, 10, "MAX_PACKETS_PER_BATCH");
	tap_ok(
	    c->server.arq.nack_initial_delay_s == 0.3, "server NACK delay 0.3");
	tap_ok(find_item(c, "MIN_VPN_LABEL_LENGTH", &it) &&
		it.source == CFG_SRC_DEFAULT && it.value->i64 == 3,
	    "absent key gets the upstream default");
	tap_ok(find_item(c, "CONFIG_VERSION", &it) && it.known,
	    "CONFIG_VERSION is known");
	tap_ok(cfg_validate(c, &e) == 0, "server sample valid (%s)", e.msg);
	tap_ok(c->server.key == NULL && cfg_warning_count(c) == 1 &&
		strstr(cfg_warning_at(c, 0), "encrypt_key.txt: No such file") !=
		    NULL,
	    "missing key file is a warning");
	cfg_free(c);
	free(path);
}

static void
server_key(void)
{
	char *kp = write_file("encrypt_key.txt", "3a7f1c9e5b2d8046\n");
	char *cp = write_file("server.toml",
	    "DOMAIN = [\"T.Example.\"]\n"
	    "DATA_ENCRYPTION_METHOD = 3\n");
	char *kp2 = write_file("other.key", "short\n");
	struct cfg *c = NULL;
	struct cfg_opts o = {.role = -1, .key_file = kp2};
	char fp[CFG_FP_LEN], *want;
	struct err e = {""};

	tap_ok(cfg_load(cp, NULL, NULL, &c, &e) == 0, "server with key file");
	cfg_fingerprint("3a7f1c9e5b2d8046", 16, fp, sizeof fp);
	tap_ok(c && c->server.key &&
		strcmp(c->server.key, "3a7f1c9e5b2d8046") == 0 &&
		strcmp(c->server.key_fp, fp) == 0,
	    "key read next to the config");
	tap_ok(c && strcmp(c->server.domains[0], "t.example") == 0,
	    "domain normalised");
	tap_ok(c && cfg_validate(c, &e) == 0, "valid (%s)", e.msg);
	tap_ok(strncmp(fp, "sha256:", 7) == 0 && strlen(fp) == 15,
	    "fingerprint form sha256:8hex");
	cfg_free(c);
	c = NULL;
	tap_ok(cfg_load(cp, NULL, &o, &c, &e) == 0 && cfg_validate(c, &e) == -1,
	    "short key in --key-file is invalid");
	want = xasprintf(
	    "%s: ENCRYPTION_KEY_FILE: %s: the key has 5 "
	    "characters but method 3 (aes-128-gcm) needs 16; the upstream "
	    "server would replace it with a new key",
	    cp, kp2);
	tap_is_str(e.msg, want, "message");
	free(want);
	cfg_free(c);
	unlink(kp);
	unlink(kp2);
	unlink(cp);
	free(kp);
	free(kp2);
	free(cp);
}

struct bad {
	const char *text;
	const char *msg; /* after "DIR/c.toml" */
	int load_fails;
};

static const struct bad bads[] = {
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = 5\n",
	":2:18: ENCRYPTION_KEY: expected string, got integer", 1},
    {"DOMAINS = [\"a.b\", 7]\n",
	":1:19: DOMAINS: array items must be strings, got integer", 1},
    {"DOMAINS = [\"a.b\"]\nLISTEN_PORT = 1.5\n",
	":2:15: LISTEN_PORT: expected integer, got float", 1},
    {"DOMAINS = [\"a.b\"]\nDOMAIN = [\"a.b\"]\n",
	": has client keys (DOMAINS) and server keys (DOMAIN); cannot tell "
	"client from server",
	1},
    {"LOG_LEVEL = \"INFO\"\n",
	": no client or server keys (such as "
	"DOMAINS or DOMAIN); cannot tell client from server",
	1},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
     "DATA_ENCRYPTION_METHOD = 9\n",
	":3:26: DATA_ENCRYPTION_METHOD: 9 is outside 0..5", 0},
    {"DOMAINS = []\nENCRYPTION_KEY = \"k\"\n",
	":1:11: DOMAINS: must contain at least one domain", 0},
    {"ENCRYPTION_KEY = \"k\"\n", ": DOMAINS: must contain at least one domain",
	0},
    {"DOMAINS = [\"a..b\"]\nENCRYPTION_KEY = \"k\"\n",
	":1:11: DOMAINS: domain a..b has an empty label", 0},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
     "PROTOCOL_TYPE = \"http\"\n",
	":3:17: PROTOCOL_TYPE: \"HTTP\" is not SOCKS5 or TCP", 0},
    /* A value with an escaped newline stays on one line in the message. */
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
     "PROTOCOL_TYPE = \"tcp\\nx\"\n",
	":3:17: PROTOCOL_TYPE: \"TCP?X\" is not SOCKS5 or TCP", 0},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\nLISTEN_PORT = 70000\n",
	":3:15: LISTEN_PORT: 70000 is outside 0..65535", 0},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
     "MIN_UPLOAD_MTU = 200\nMAX_UPLOAD_MTU = 100\n",
	":3:18: MIN_UPLOAD_MTU: 200 is greater than MAX_UPLOAD_MTU 100", 0},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
     "UPLOAD_COMPRESSION_TYPE = 4\n",
	":3:27: UPLOAD_COMPRESSION_TYPE: 4 is outside 0..3", 0},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\nSOCKS5_AUTH = true\n"
     "SOCKS5_USER = \"\"\n",
	":3:15: SOCKS5_AUTH: true needs SOCKS5_USER", 0},
    {"DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
     "RESOLVER_BALANCING_STRATEGY = 9\n",
	":3:31: RESOLVER_BALANCING_STRATEGY: 9 is outside 0..8", 0},
    {"DOMAIN = [\"a.b\"]\nUDP_PORT = 0\n",
	":2:12: UDP_PORT: 0 is outside 1..65535", 0},
    {"DOMAIN = [\"a.b\"]\nUSE_EXTERNAL_SOCKS5 = true\n",
	":2:23: USE_EXTERNAL_SOCKS5: true needs FORWARD_IP", 0},
    {"DOMAINS = [\"a.b\"\n", ":1:11: unterminated array", 1},
};

static void
bad_configs(void)
{
	size_t i;

	for (i = 0; i < nitems(bads); i++) {
		char *p = write_file("c.toml", bads[i].text);
		char *want = xasprintf("%s%s", p, bads[i].msg);
		struct cfg *c = NULL;
		struct err e = {""};
		int r = cfg_load(p, NULL, NULL, &c, &e);

		if (bads[i].load_fails)
			tap_ok(r == -1 && c == NULL,
			    "bad config %zu: load "
			    "fails",
			    i);
		else
			tap_ok(r == 0 && cfg_validate(c, &e) == -1,
			    "bad config %zu: loads, invalid", i);
		tap_is_str(e.msg, want, "bad config %zu message", i);
		cfg_free(c);
		unlink(p);
		free(p);
		free(want);
	}
}

static void
clamps_and_unknown(void)
{
	char *p = write_file("client.toml",
	    "DOMAINS = [\"a.b\", \"A.B.\", "
	    "\"c.d\"]\nENCRYPTION_KEY = \"  k  \"\nPACKET_DUPLICATION_COUNT = "
	    "50\n"
	    "SETUP_PACKET_DUPLICATION_COUNT = 1\nARQ_WINDOW_SIZE = 0\n"
	    "MTU_TEST_TIMEOUT = 3\nFANCY_NEW_KEY = 1\n"
	    "ENCRYPTON_KEY = \"typo-secret\"\nsocks5_password = [\"pw\"]\n"
	    "OTHER_KEY_FILE = \"k.txt\"\nFANCY_OPTION = \"x\"\n");
	struct cfg *c = NULL;
	struct cfg_item it;
	struct err e = {""};
	char fp[CFG_FP_LEN], want[CFG_FP_LEN];

	tap_ok(cfg_load(p, NULL, NULL, &c, &e) == 0, "clamp config loads (%s)",
	    e.msg);
	if (c == NULL)
		return;
	tap_is_int(c->client.ndomains, 2, "duplicate domain dropped");
	tap_is_str(c->client.key, "k", "key trimmed like upstream");
	tap_is_int(c->client.dup, 10, "duplication clamped to 10");
	memset(&it, 0, sizeof it);
	find_item(c, "PACKET_DUPLICATION_COUNT", &it);
	tap_is_str(it.note,
	    "effective 10 (upstream: below 1 means 2, range "
	    "1..10)",
	    "clamp is noted");
	tap_is_int(
	    c->client.setup_dup, 10, "setup duplication at least duplication");
	tap_is_int(c->client.arq.window, 600, "ARQ window 0 means default 600");
	tap_ok(c->client.mtu_timeout_s == 3.0, "integer accepted for a float");
	tap_ok(find_item(c, "FANCY_NEW_KEY", &it) && !it.known,
	    "unknown key listed as unknown");
	/* A misspelt secret key still holds the secret: never shown. */
	tap_ok(find_item(c, "ENCRYPTON_KEY", &it) && !it.known && it.secret,
	    "unknown *KEY* key is secret");
	cfg_fingerprint("typo-secret", 11, want, sizeof want);
	tap_ok(cfg_item_fingerprint(&it, fp, sizeof fp) == 1 &&
		strcmp(fp, want) == 0,
	    "its fingerprint is the string's");
	tap_ok(find_item(c, "socks5_password", &it) && it.secret &&
		cfg_item_fingerprint(&it, fp, sizeof fp) == 1 &&
		strncmp(fp, "sha256:", 7) == 0,
	    "unknown *pass* array is secret with a fingerprint");
	tap_ok(find_item(c, "OTHER_KEY_FILE", &it) && !it.secret,
	    "a *_FILE key names a path, not a secret");
	tap_ok(find_item(c, "FANCY_OPTION", &it) && !it.secret,
	    "other unknown keys are not secret");
	tap_ok(cfg_warning_count(c) >= 2, "warnings: unknown key, key length");
	tap_ok(find_item(c, "LISTEN_IP", &it) && it.source == CFG_SRC_DEFAULT &&
		strcmp(it.value->str, "127.0.0.1") == 0,
	    "default LISTEN_IP");
	tap_ok(cfg_validate(c, &e) == 0, "valid (%s)", e.msg);
	cfg_free(c);
	unlink(p);
	free(p);
}

static void
profile_overlay(void)
{
	char *cp = write_file("client_config.toml",
	    "DOMAINS = [\"old.example\"]"
	    "\nENCRYPTION_KEY = \"old-key-old-key-old-key-old-key!\"\n"
	    "DATA_ENCRYPTION_METHOD = 1\n");
	char *pp = write_file("p.json",
	    "{\"protocol\":\"masterdns\",\"domain\":"
	    "\"new.example\",\"expectedExitIP\":\"192.0.2.1\",\"resolvers\":"
	    "[{\"address\":\"127.0.0.1:5300\"}],\"masterdns\":{\"encryption"
	    "Level\":\"aes-256-gcm\",\"key\":"
	    "\"e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\","
	    "\"fecLevel\":\"aggressive\"}}");
	struct profile *prof = NULL;
	struct cfg *c = NULL;
	struct cfg_item it;
	struct err e = {""};

	tap_ok(prof_load_file(pp, &prof, &e) == 0, "profile loads (%s)", e.msg);
	tap_ok(
	    cfg_load(cp, prof, NULL, &c, &e) == 0, "overlay loads (%s)", e.msg);
	if (c != NULL) {
		tap_ok(c->client.ndomains == 1 &&
			strcmp(c->client.domains[0], "new.example") == 0,
		    "profile domain wins");
		tap_is_int(c->client.method, 5, "profile method wins");
		tap_is_str(c->client.key, "e2b4d6f8091a3c5e7f90b1d3f5a7c9eb",
		    "profile key wins");
		tap_ok(find_item(c, "ENCRYPTION_KEY", &it) &&
			it.source == CFG_SRC_PROFILE && it.secret,
		    "ENCRYPTION_KEY marked as from the profile");
		tap_ok(c->client.fec.enabled && c->client.fec.group == 16,
		    "FEC from profile");
		tap_is_int(c->client.nresolvers, 1, "profile resolvers");
		tap_ok(c->client.nexpected_exit == 1 &&
			strcmp(c->client.expected_exit[0], "192.0.2.1") == 0 &&
			cfg_key_source(c, "MDNS_EXPECTED_EXIT_IP") ==
			    CFG_SRC_PROFILE,
		    "exit IP (MDNS_EXPECTED_EXIT_IP from the profile)");
		tap_ok(cfg_validate(c, &e) == 0, "overlay valid (%s)", e.msg);
	}
	cfg_free(c);
	c = NULL;
	tap_ok(cfg_load(NULL, prof, NULL, &c, &e) == 0 &&
		c->role == CFG_CLIENT && cfg_validate(c, &e) == 0,
	    "profile alone makes a client (%s)", e.msg);
	cfg_free(c);
	prof_free(prof);
	unlink(cp);
	unlink(pp);
	free(cp);
	free(pp);
}

/*
 * Many keys: every unknown one is listed once with its own line and
 * warning (the item index grows several times on the way), and the known
 * keys still resolve. 3000 keys load in milliseconds; the quadratic
 * lookup this replaced took seconds at 50000.
 */
static void
many_keys(void)
{
	size_t i, len = 0, cap = 0, unknown = 0, bad_line = 0;
	char *text, line[64], *p, *want;
	struct cfg *c = NULL;
	struct cfg_item it;
	struct err e = {""};

	cap = 4096;
	text = xmalloc(cap);
	for (i = 0; i < 3000; i++) {
		int n = snprintf(line, sizeof line, "%s%sX_%zu = %zu\n",
		    i == 0 ? "DOMAINS = [\"a.b\"]\n" : "",
		    i == 1500 ? "MTU_TEST_RETRIES = 5\n" : "", i, i);

		if (len + (size_t)n + 1 > cap) {
			cap *= 2;
			text = xrealloc(text, cap);
		}
		memcpy(text + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	p = write_file("many.toml", text);
	free(text);
	tap_ok(
	    cfg_load(p, NULL, NULL, &c, &e) == 0, "3000 keys load (%s)", e.msg);
	if (c != NULL) {
		for (i = 0; i < cfg_item_count(c); i++) {
			cfg_item_at(c, i, &it);
			if (strncmp(it.key, "X_", 2) != 0)
				continue;
			unknown++;
			/* X_k is on line k+2, or k+3 after the known key. */
			if (it.known ||
			    it.line !=
				(int)(strtol(it.key + 2, NULL, 10) +
				    (strtol(it.key + 2, NULL, 10) >= 1500 ? 3 :
									    2)))
				bad_line++;
		}
		tap_is_int(unknown, 3000, "every unknown key listed once");
		tap_is_int(bad_line, 0, "each with its own line");
		tap_is_int(c->client.mtu_retries, 5, "a known key among them");
		want = xasprintf("%s:3002:10: X_2999: unknown key", p);
		tap_ok(cfg_warning_count(c) >= 3000 &&
			strncmp(cfg_warning_at(c, 2999), want, strlen(want)) ==
			    0,
		    "warning names the key's line: %s",
		    cfg_warning_count(c) >= 3000 ? cfg_warning_at(c, 2999) :
						   "");
		free(want);
	}
	cfg_free(c);
	unlink(p);
	free(p);
}

/* Many domains, each twice in another spelling: kept once, in order. */
static void
many_domains(void)
{
	size_t i, len, cap = 1 << 16, bad = 0;
	char *text = xmalloc(cap), *p;
	struct cfg *c = NULL;
	struct err e = {""};

	len =
	    (size_t)snprintf(text, cap, "ENCRYPTION_KEY = \"k\"\nDOMAINS = [");
	for (i = 0; i < 4000; i++) {
		char one[64];
		int n = i % 2 == 0 ?
		    snprintf(one, sizeof one, "\"d%zu.example\", ", i / 2) :
		    snprintf(one, sizeof one, "\"D%zu.Example.\", ", i / 2);

		if (len + (size_t)n + 4 > cap) {
			cap *= 2;
			text = xrealloc(text, cap);
		}
		memcpy(text + len, one, (size_t)n + 1);
		len += (size_t)n;
	}
	memcpy(text + len, "]\n", 3);
	p = write_file("domains.toml", text);
	free(text);
	tap_ok(cfg_load(p, NULL, NULL, &c, &e) == 0, "4000 domains load (%s)",
	    e.msg);
	if (c != NULL) {
		tap_is_int(c->client.ndomains, 2000, "each domain kept once");
		for (i = 0; i < c->client.ndomains; i++) {
			char want[32];

			snprintf(want, sizeof want, "d%zu.example", i);
			bad += strcmp(c->client.domains[i], want) != 0;
		}
		tap_is_int(bad, 0, "in first-seen order, normalised");
	}
	cfg_free(c);
	unlink(p);
	free(p);
}

/* The effective value of key in an effective_config object, as text. */
static char *
eff(json_t *o, const char *key, const char **src)
{
	json_t *k = json_object_get(o, key);

	*src = json_string_value(json_object_get(k, "source"));
	if (*src == NULL)
		*src = "(none)";
	return json_dumps(json_object_get(k, "value"), JSON_ENCODE_ANY);
}

static void
is_eff(json_t *o, const char *key, const char *want, const char *want_src)
{
	const char *src;
	char *got = eff(o, key, &src);

	tap_ok(
	    got != NULL && strcmp(got, want) == 0 && strcmp(src, want_src) == 0,
	    "%s: effective %s (%s), got %s (%s)", key, want, want_src,
	    got ? got : "(none)", src);
	free(got);
}

/*
 * Where the engine's old readers disagreed with upstream: the one model
 * follows upstream (docs/config.md lists each case).
 */
static void
upstream_rules(void)
{
	char *cp = write_file("client_config.toml",
	    "DOMAINS = [\"t.example\"]\nENCRYPTION_KEY = \"k\"\n"
	    "ARQ_MAX_CONTROL_RETRIES = 4\nMAX_PACKETS_PER_BATCH = 200\n"
	    "PROTOCOL_TYPE = \" tcp \"\nSOCKS5_USER = \" u \"\n"
	    "MTU_TEST_TIMEOUT = 0.01\nMTU_TEST_RETRIES = 1000\n"
	    "FANCY = 1\n");
	char *sp = write_file("server_config.toml",
	    "DOMAIN = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 9\n"
	    "SUPPORTED_UPLOAD_COMPRESSION_TYPES = [2]\n"
	    "UDP_HOST = \" 127.0.0.1\"\nARQ_MAX_CONTROL_RETRIES = 4\n"
	    "PACKET_BLOCK_CONTROL_DUPLICATION = 9\n");
	char *np = write_file("nan.toml",
	    "DOMAINS = [\"t.example\"]\n"
	    "ARQ_INITIAL_RTO_SECONDS = nan\n");
	char *want, fp[CFG_FP_LEN];
	struct cfg *c = NULL;
	struct err e = {""};
	json_t *o;

	tap_ok(
	    cfg_load(cp, NULL, NULL, &c, &e) == 0 && cfg_validate(c, &e) == 0,
	    "client loads and is valid (%s)", e.msg);
	if (c != NULL) {
		o = cfg_effective_json(c);
		is_eff(o, "ARQ_MAX_CONTROL_RETRIES", "5", "clamped");
		is_eff(o, "MAX_PACKETS_PER_BATCH", "64", "clamped");
		is_eff(o, "PROTOCOL_TYPE", "\"TCP\"", "clamped");
		tap_ok(c->client.protocol_tcp, "\" tcp \" is TCP");
		is_eff(o, "SOCKS5_USER", "\" u \"", "file");
		is_eff(o, "MTU_TEST_TIMEOUT", "0.01", "file");
		is_eff(o, "MTU_TEST_RETRIES", "1000", "file");
		is_eff(o, "MDNS_MAX_INFLIGHT", "32", "default");
		is_eff(o, "ARQ_WINDOW_SIZE", "600", "default");
		tap_ok(json_object_get(o, "FANCY") == NULL,
		    "an unknown key has no effective value");
		cfg_fingerprint("k", 1, fp, sizeof fp);
		tap_is_str(
		    json_string_value(json_object_get(
			json_object_get(o, "ENCRYPTION_KEY"), "fingerprint")),
		    fp, "the key only as its fingerprint");
		tap_ok(json_is_null(json_object_get(
			   json_object_get(o, "ENCRYPTION_KEY"), "value")),
		    "and no value");
		json_decref(o);
		tap_ok(cfg_set_source(c, "LISTEN_PORT", CFG_SRC_OPTION) == 0 &&
			cfg_set_source(c, "NO_SUCH_KEY", CFG_SRC_OPTION) == -1,
		    "cfg_set_source takes table keys only");
		o = cfg_effective_json(c);
		is_eff(o, "LISTEN_PORT", "18000", "option");
		{
			struct cfg_client cc;
			json_t *o2;

			cfg_client_copy(&cc, &c->client);
			o2 = cfg_client_effective_json(&cc);
			tap_ok(json_equal(o, o2), "a copy reports the same");
			tap_ok(cc.socks_user != c->client.socks_user &&
				cc.domains != c->client.domains,
			    "with its own strings");
			json_decref(o2);
			cfg_client_clear(&cc);
			tap_ok(cc.key == NULL && cc.ndomains == 0, "cleared");
		}
		json_decref(o);
	}
	cfg_free(c);
	c = NULL;
	tap_ok(
	    cfg_load(sp, NULL, NULL, &c, &e) == 0, "server loads (%s)", e.msg);
	if (c != NULL) {
		o = cfg_effective_json(c);
		is_eff(o, "DATA_ENCRYPTION_METHOD", "1", "clamped");
		tap_is_int(c->server.up_comp_mask, 4, "[2] is {2}, not {0, 2}");
		is_eff(o, "SUPPORTED_UPLOAD_COMPRESSION_TYPES", "[2]", "file");
		is_eff(o, "UDP_HOST", "\" 127.0.0.1\"", "file");
		is_eff(o, "ARQ_MAX_CONTROL_RETRIES", "4", "file");
		is_eff(o, "PACKET_BLOCK_CONTROL_DUPLICATION", "4", "clamped");
		is_eff(o, "ARQ_WINDOW_SIZE", "800", "default");
		json_decref(o);
	}
	cfg_free(c);
	c = NULL;
	tap_ok(cfg_load_valid(sp, NULL, NULL, CFG_CLIENT, &c, &e) == -1 &&
		c == NULL,
	    "a server file is not a client's");
	want = xasprintf("%s: a server configuration, not a client one", sp);
	tap_is_str(e.msg, want, "role message");
	free(want);
	tap_ok(cfg_load_valid(sp, NULL, NULL, CFG_SERVER, &c, &e) == -1,
	    "a server without a key file does not run");
	tap_ok(strstr(e.msg, "ENCRYPTION_KEY_FILE: ") != NULL &&
		strstr(e.msg, "no key to serve with") != NULL,
	    "and says so: %s", e.msg);
	tap_ok(cfg_load(np, NULL, NULL, &c, &e) == -1, "nan refused at load");
	want = xasprintf(
	    "%s:2:27: ARQ_INITIAL_RTO_SECONDS: nan is not a finite number", np);
	tap_is_str(e.msg, want, "nan message");
	free(want);
	unlink(cp);
	unlink(sp);
	unlink(np);
	free(cp);
	free(sp);
	free(np);
}

/* The role defaults the engine's pool and ARQ start from. */
static void
role_defaults(void)
{
	struct cfg_client cl;
	struct cfg_server sv;

	cfg_client_defaults(&cl);
	cfg_server_defaults(&sv);
	tap_ok(cl.arq.window == 600 && cl.arq.nack_initial_delay_s == 0.1 &&
		cl.max_inflight == 32 && cl.ready_min == 3 &&
		cl.start_parallelism == 256 && cl.listen_port == 18000 &&
		cl.dup == 2 && cl.strategy == 2 && cl.ndomains == 0,
	    "client defaults");
	tap_ok(sv.arq.window == 800 && sv.arq.nack_initial_delay_s == 0.3 &&
		sv.max_packets_per_batch == 5 && sv.pol_down_mtu == 4096 &&
		sv.up_comp_mask == 0xf && sv.udp_port == 53 &&
		strcmp(sv.udp_host, "0.0.0.0") == 0 && sv.nallow == 0,
	    "server defaults");
	cfg_client_clear(&cl);
	cfg_server_clear(&sv);
}

/* The FEC fork's keys (docs/fec.md): aliases, clamps, refusal. */
static void
fec_keys(void)
{
	char *p = write_file("fec-client.toml",
	    "DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
	    "FEC_LEVEL = \" High \"\nFEC_GROUP_SIZE = 99\n"
	    "FEC_OVERHEAD_PERCENT = -3\nFEC_FLUSH_TIMEOUT_MS = 0\n");
	char *b = write_file("fec-bad.toml",
	    "DOMAINS = [\"a.b\"]\nENCRYPTION_KEY = \"k\"\n"
	    "FEC_LEVEL = \"turbo\"\n");
	char *s = write_file("fec-server.toml",
	    "DOMAIN = [\"a.b\"]\nFEC_ENABLED = true\n"
	    "FEC_MAX_GROUP_SIZE = 1\nFEC_MAX_OVERHEAD_PERCENT = 140\n");
	struct cfg *c = NULL;
	struct err e = {""};

	tap_ok(cfg_load(p, NULL, NULL, &c, &e) == 0,
	    "FEC client config loads (%s)", e.msg);
	if (c != NULL) {
		tap_is_str(c->client.fec_level, "aggressive",
		    "FEC_LEVEL ' High ' is the fork's alias of aggressive");
		tap_ok(c->client.fec_group == 64 &&
			c->client.fec_overhead == 15 &&
			c->client.fec_flush_ms == 25,
		    "FEC_* clamped as the fork does (64, 15, 25)");
		cfg_free(c);
		c = NULL;
	}
	tap_ok(
	    cfg_load(b, NULL, NULL, &c, &e) == -1 || cfg_validate(c, &e) == -1,
	    "FEC_LEVEL 'turbo' is refused (%s)", e.msg);
	cfg_free(c);
	c = NULL;
	tap_ok(cfg_load(s, NULL, NULL, &c, &e) == 0 && c->server.fec_enabled &&
		c->server.fec_max_group == 2 &&
		c->server.fec_max_overhead == 100,
	    "server FEC keys read and clamped (%s)", e.msg);
	cfg_free(c);
	unlink(p);
	unlink(b);
	unlink(s);
	free(p);
	free(b);
	free(s);
}

int
main(void)
{
	if (mkdtemp(tap_tmppath(dir, sizeof dir, "test-config-XXXXXX")) ==
	    NULL) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	client_sample();
	server_sample();
	server_key();
	bad_configs();
	clamps_and_unknown();
	profile_overlay();
	many_keys();
	many_domains();
	upstream_rules();
	role_defaults();
	fec_keys();
	rmdir(dir);
	return tap_done();
}
