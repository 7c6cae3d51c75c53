/*
 * config.c — the effective configuration (see config.h). The upstream
 * defaults are written below as TOML text and read with the same reader
 * as the user's file, so a key's expected type is the type of its default
 * and "show" can print defaults exactly like file values. Values are laid
 * over each other: profile, then file, then defaults. The typed fields
 * are then normalised and clamped following upstream's rules
 * (internal/config/client.go and server.go at bc69a58, read for behaviour
 * only), and each change is noted on its key.
 *
 * It does not read resolver lists (resolvers.c) and does not generate
 * keys: a missing server key file is reported, never written.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/log.h"

#define CFG_MAX_KEYFILE 4096

/* Upstream client defaults (defaultClientConfig). */
static const char client_defaults[] =
    "PROTOCOL_TYPE = \"SOCKS5\"\n"
    "DOMAINS = []\n"
    "DATA_ENCRYPTION_METHOD = 1\n"
    "ENCRYPTION_KEY = \"\"\n"
    "LISTEN_IP = \"127.0.0.1\"\n"
    "LISTEN_PORT = 18000\n"
    "SOCKS5_AUTH = false\n"
    "SOCKS5_USER = \"master_dns_vpn\"\n"
    "SOCKS5_PASS = \"master_dns_vpn\"\n"
    "LOCAL_DNS_ENABLED = false\n"
    "LOCAL_DNS_IP = \"127.0.0.1\"\n"
    "LOCAL_DNS_PORT = 53\n"
    "LOCAL_DNS_CACHE_MAX_RECORDS = 10000\n"
    "LOCAL_DNS_CACHE_TTL_SECONDS = 14400.0\n"
    "LOCAL_DNS_PENDING_TIMEOUT_SECONDS = 300.0\n"
    "DNS_RESPONSE_FRAGMENT_TIMEOUT_SECONDS = 60.0\n"
    "LOCAL_DNS_CACHE_PERSIST_TO_FILE = true\n"
    "LOCAL_DNS_CACHE_FLUSH_INTERVAL_SECONDS = 60.0\n"
    "RESOLVER_BALANCING_STRATEGY = 2\n"
    "PACKET_DUPLICATION_COUNT = 2\n"
    "SETUP_PACKET_DUPLICATION_COUNT = 2\n"
    "STREAM_RESOLVER_FAILOVER_RESEND_THRESHOLD = 2\n"
    "STREAM_RESOLVER_FAILOVER_COOLDOWN = 2.5\n"
    "RECHECK_INACTIVE_SERVERS_ENABLED = true\n"
    "AUTO_DISABLE_TIMEOUT_SERVERS = true\n"
    "AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS = 30.0\n"
    "BASE_ENCODE_DATA = false\n"
    "UPLOAD_COMPRESSION_TYPE = 0\n"
    "DOWNLOAD_COMPRESSION_TYPE = 0\n"
    "COMPRESSION_MIN_SIZE = 100\n"
    "MIN_UPLOAD_MTU = 38\n"
    "MIN_DOWNLOAD_MTU = 100\n"
    "MAX_UPLOAD_MTU = 150\n"
    "MAX_DOWNLOAD_MTU = 500\n"
    "AUTO_REMOVE_LOW_MTU_SERVERS = true\n"
    "MTU_TEST_RETRIES = 2\n"
    "MTU_TEST_TIMEOUT = 2.0\n"
    "MTU_TEST_PARALLELISM = 16\n"
    "SAVE_MTU_SERVERS_TO_FILE = false\n"
    "MTU_SERVERS_FILE_NAME = \"masterdnsvpn_success_test_{time}.log\"\n"
    "MTU_SERVERS_FILE_FORMAT = \"{IP} ({DOMAIN}) - UP: {UP_MTU} DOWN: "
    "{DOWN-MTU}\"\n"
    "MTU_USING_SECTION_SEPARATOR_TEXT = \"\"\n"
    "MTU_REMOVED_SERVER_LOG_FORMAT = \"Resolver {IP} ({DOMAIN}) removed at "
    "{TIME} due to {CAUSE}\"\n"
    "MTU_ADDED_SERVER_LOG_FORMAT = \"Resolver {IP} ({DOMAIN}) added back at "
    "{TIME} (UP {UP_MTU}, DOWN {DOWN_MTU})\"\n"
    "MTU_REACTIVE_ADDED_SERVER_LOG_FORMAT = \"Resolver {IP} ({DOMAIN}) added "
    "back at {TIME} after reactive recheck (UP {UP_MTU}, DOWN {DOWN_MTU})\"\n"
    "RX_TX_WORKERS = 4\n"
    "TUNNEL_PROCESS_WORKERS = 0\n"
    "TUNNEL_PACKET_TIMEOUT_SECONDS = 10.0\n"
    "DISPATCHER_IDLE_POLL_INTERVAL_SECONDS = 0.020\n"
    "RX_CHANNEL_SIZE = 4096\n"
    "SOCKS_UDP_ASSOCIATE_READ_TIMEOUT_SECONDS = 30.0\n"
    "CLIENT_TERMINAL_STREAM_RETENTION_SECONDS = 45.0\n"
    "CLIENT_CANCELLED_SETUP_RETENTION_SECONDS = 120.0\n"
    "SESSION_INIT_RETRY_BASE_SECONDS = 1.0\n"
    "SESSION_INIT_RETRY_STEP_SECONDS = 1.0\n"
    "SESSION_INIT_RETRY_LINEAR_AFTER = 5\n"
    "SESSION_INIT_RETRY_MAX_SECONDS = 60.0\n"
    "SESSION_INIT_BUSY_RETRY_INTERVAL_SECONDS = 60.0\n"
    "SESSION_INIT_RACING_COUNT = 3\n"
    "PING_AGGRESSIVE_INTERVAL_SECONDS = 0.100\n"
    "PING_LAZY_INTERVAL_SECONDS = 0.750\n"
    "PING_COOLDOWN_INTERVAL_SECONDS = 2.0\n"
    "PING_COLD_INTERVAL_SECONDS = 15.0\n"
    "PING_WARM_THRESHOLD_SECONDS = 8.0\n"
    "PING_COOL_THRESHOLD_SECONDS = 20.0\n"
    "PING_COLD_THRESHOLD_SECONDS = 30.0\n"
    "MAX_PACKETS_PER_BATCH = 8\n"
    "ARQ_WINDOW_SIZE = 600\n"
    "ARQ_INITIAL_RTO_SECONDS = 1.0\n"
    "ARQ_MAX_RTO_SECONDS = 5.0\n"
    "ARQ_CONTROL_INITIAL_RTO_SECONDS = 0.5\n"
    "ARQ_CONTROL_MAX_RTO_SECONDS = 3.0\n"
    "ARQ_MAX_CONTROL_RETRIES = 400\n"
    "ARQ_INACTIVITY_TIMEOUT_SECONDS = 1800.0\n"
    "ARQ_DATA_PACKET_TTL_SECONDS = 2400.0\n"
    "ARQ_CONTROL_PACKET_TTL_SECONDS = 1200.0\n"
    "ARQ_MAX_DATA_RETRIES = 1200\n"
    "ARQ_DATA_NACK_MAX_GAP = 16\n"
    "ARQ_DATA_NACK_INITIAL_DELAY_SECONDS = 0.1\n"
    "ARQ_DATA_NACK_REPEAT_SECONDS = 1.0\n"
    "ARQ_TERMINAL_DRAIN_TIMEOUT_SECONDS = 120.0\n"
    "ARQ_TERMINAL_ACK_WAIT_TIMEOUT_SECONDS = 90.0\n"
    "LOG_LEVEL = \"INFO\"\n";

/* Keys upstream reads without a default worth showing. */
static const char client_extra[] = "TUNNEL_READER_WORKERS = 0\n"
				   "TUNNEL_WRITER_WORKERS = 0\n";

/* Upstream server defaults (defaultServerConfig). */
static const char server_defaults[] =
    "DOMAIN = []\n"
    "PROTOCOL_TYPE = \"SOCKS5\"\n"
    "SUPPORTED_UPLOAD_COMPRESSION_TYPES = [0, 1, 2, 3]\n"
    "SUPPORTED_DOWNLOAD_COMPRESSION_TYPES = [0, 1, 2, 3]\n"
    "UDP_HOST = \"0.0.0.0\"\n"
    "UDP_PORT = 53\n"
    "UDP_READERS = 4\n"
    "DNS_REQUEST_WORKERS = 8\n"
    "MAX_CONCURRENT_REQUESTS = 16384\n"
    "SOCKET_BUFFER_SIZE = 8388608\n"
    "MAX_PACKET_SIZE = 65535\n"
    "DROP_LOG_INTERVAL_SECONDS = 2.0\n"
    "DEFERRED_SESSION_WORKERS = 4\n"
    "DEFERRED_SESSION_QUEUE_LIMIT = 4096\n"
    "INVALID_COOKIE_WINDOW_SECONDS = 2.0\n"
    "INVALID_COOKIE_ERROR_THRESHOLD = 10\n"
    "SESSION_TIMEOUT_SECONDS = 300.0\n"
    "SESSION_CLEANUP_INTERVAL_SECONDS = 30.0\n"
    "CLOSED_SESSION_RETENTION_SECONDS = 600.0\n"
    "SESSION_INIT_REUSE_TTL_SECONDS = 600.0\n"
    "RECENTLY_CLOSED_STREAM_TTL_SECONDS = 600.0\n"
    "RECENTLY_CLOSED_STREAM_CAP = 2000\n"
    "TERMINAL_STREAM_RETENTION_SECONDS = 45.0\n"
    "DNS_UPSTREAM_SERVERS = [\"1.1.1.1:53\", \"1.0.0.1:53\"]\n"
    "DNS_UPSTREAM_TIMEOUT = 4.0\n"
    "DNS_INFLIGHT_WAIT_TIMEOUT_SECONDS = 15.0\n"
    "DNS_FRAGMENT_ASSEMBLY_TIMEOUT = 300.0\n"
    "DNS_CACHE_MAX_RECORDS = 50000\n"
    "DNS_CACHE_TTL_SECONDS = 300.0\n"
    "SOCKS_CONNECT_TIMEOUT = 120.0\n"
    "USE_EXTERNAL_SOCKS5 = false\n"
    "SOCKS5_AUTH = false\n"
    "SOCKS5_USER = \"admin\"\n"
    "SOCKS5_PASS = \"123456\"\n"
    "FORWARD_IP = \"\"\n"
    "FORWARD_PORT = 1080\n"
    "MIN_VPN_LABEL_LENGTH = 3\n"
    "DATA_ENCRYPTION_METHOD = 1\n"
    "ENCRYPTION_KEY_FILE = \"encrypt_key.txt\"\n"
    "MAX_PACKETS_PER_BATCH = 5\n"
    "PACKET_BLOCK_CONTROL_DUPLICATION = 1\n"
    "STREAM_SETUP_ACK_TTL_SECONDS = 400.0\n"
    "STREAM_RESULT_PACKET_TTL_SECONDS = 300.0\n"
    "STREAM_FAILURE_PACKET_TTL_SECONDS = 120.0\n"
    "ARQ_WINDOW_SIZE = 800\n"
    "ARQ_INITIAL_RTO_SECONDS = 1.0\n"
    "ARQ_MAX_RTO_SECONDS = 5.0\n"
    "ARQ_CONTROL_INITIAL_RTO_SECONDS = 0.5\n"
    "ARQ_CONTROL_MAX_RTO_SECONDS = 3.0\n"
    "ARQ_MAX_CONTROL_RETRIES = 400\n"
    "ARQ_INACTIVITY_TIMEOUT_SECONDS = 1800.0\n"
    "ARQ_DATA_PACKET_TTL_SECONDS = 2400.0\n"
    "ARQ_CONTROL_PACKET_TTL_SECONDS = 1200.0\n"
    "ARQ_MAX_DATA_RETRIES = 1200\n"
    "ARQ_DATA_NACK_MAX_GAP = 16\n"
    "ARQ_DATA_NACK_INITIAL_DELAY_SECONDS = 0.3\n"
    "ARQ_DATA_NACK_REPEAT_SECONDS = 1.0\n"
    "ARQ_TERMINAL_DRAIN_TIMEOUT_SECONDS = 120.0\n"
    "ARQ_TERMINAL_ACK_WAIT_TIMEOUT_SECONDS = 90.0\n"
    "MAX_ALLOWED_CLIENT_ACTIVE_SESSION = 255\n"
    "MAX_ALLOWED_CLIENT_ACTIVE_STREAMS_PER_SESSION = 2000\n"
    "MAX_ALLOWED_CLIENT_PACKET_DUPLICATION_COUNT = 5\n"
    "MAX_ALLOWED_CLIENT_SETUP_PACKET_DUPLICATION_COUNT = 6\n"
    "MAX_ALLOWED_CLIENT_UPLOAD_MTU = 150\n"
    "MAX_ALLOWED_CLIENT_DOWNLOAD_MTU = 4096\n"
    "MAX_ALLOWED_CLIENT_RX_TX_WORKERS = 255\n"
    "MIN_ALLOWED_CLIENT_PING_AGGRESSIVE_INTERVAL_SECONDS = 0.05\n"
    "MAX_ALLOWED_CLIENT_PACKETS_PER_BATCH = 20\n"
    "MAX_ALLOWED_CLIENT_ARQ_WINDOW_SIZE = 8000\n"
    "MAX_ALLOWED_CLIENT_ARQ_DATA_NACK_MAX_GAP = 255\n"
    "MIN_ALLOWED_CLIENT_COMPRESSION_MIN_SIZE = 120\n"
    "MIN_ALLOWED_CLIENT_ARQ_INITIAL_RTO_SECONDS = 0.05\n"
    "LOG_LEVEL = \"INFO\"\n";

/* In the shipped sample but not read by upstream code. */
static const char server_extra[] = "CONFIG_VERSION = \"\"\n";

/* Keys that say which role a file is for. */
static const char *const client_markers[] = {"DOMAINS", "ENCRYPTION_KEY",
    "LISTEN_IP", "LISTEN_PORT", "MIN_UPLOAD_MTU", "MAX_UPLOAD_MTU",
    "RESOLVER_BALANCING_STRATEGY", "BASE_ENCODE_DATA"};
static const char *const server_markers[] = {"DOMAIN", "UDP_HOST", "UDP_PORT",
    "ENCRYPTION_KEY_FILE", "MAX_ALLOWED_CLIENT_UPLOAD_MTU",
    "SUPPORTED_UPLOAD_COMPRESSION_TYPES", "DNS_UPSTREAM_SERVERS"};

static const char *const secret_keys[] = {"ENCRYPTION_KEY", "SOCKS5_PASS"};

struct item {
	const char *key;
	const struct toml_value *value;
	enum cfg_source source;
	const char *origin;
	int line, col;
	int known;
	int secret;
	char *note;
};

struct cfg_private {
	struct toml_doc *defaults;
	struct toml_doc *extra;
	struct toml_doc *file;
	struct toml_doc *prof;
	struct item *items;
	size_t nitems, items_cap;
	size_t *slots; /* open-addressing index of items by key */
	size_t nslots; /* a power of two, or 0 */
	char **warnings;
	size_t nwarnings;
	char **errors;
	size_t nerrors;
};

static void
push(char ***list, size_t *n, char *s)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = s;
}

/*
 * Items by key through a hash index: a file with many keys (each unknown
 * one looked up for its warning) stays linear, not quadratic.
 */
static struct item *
item_find(const struct cfg *c, const char *key)
{
	const struct cfg_private *pv = c->priv;
	size_t i, mask = pv->nslots - 1, k;

	if (pv->nslots == 0)
		return NULL;
	for (i = (size_t)str_hash(key) & mask;; i = (i + 1) & mask) {
		k = pv->slots[i];
		if (k == 0)
			return NULL;
		if (strcmp(pv->items[k - 1].key, key) == 0)
			return &pv->items[k - 1];
	}
}

/* Put item number idx (0-based) into the index, growing it at half full. */
static void
item_index(struct cfg_private *pv, size_t idx)
{
	size_t i, j, mask;

	if (2 * (idx + 1) > pv->nslots) {
		free(pv->slots);
		pv->nslots = pv->nslots ? pv->nslots * 2 : 256;
		pv->slots = xcalloc(pv->nslots, sizeof *pv->slots);
		mask = pv->nslots - 1;
		for (j = 0; j < idx; j++) {
			for (i = (size_t)str_hash(pv->items[j].key) & mask;
			     pv->slots[i] != 0; i = (i + 1) & mask)
				;
			pv->slots[i] = j + 1;
		}
	}
	mask = pv->nslots - 1;
	for (i = (size_t)str_hash(pv->items[idx].key) & mask; pv->slots[i] != 0;
	     i = (i + 1) & mask)
		;
	pv->slots[i] = idx + 1;
}

/* The effective value of key: profile, then file, then defaults. */
static const struct toml_value *
eff(const struct cfg *c, const char *key)
{
	const struct item *it = item_find(c, key);

	return it ? it->value : NULL;
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

/* "WHERE: KEY: message" onto a list of problems or warnings. */
static void
vpush(struct cfg *c, char ***list, size_t *n, const char *key, const char *fmt,
    va_list ap)
{
	char msg[ERR_MSG_MAX], *w = where(c, key);

	vsnprintf(msg, sizeof msg, fmt, ap);
	push(list, n, xasprintf("%s: %s: %s", w, key, msg));
	free(w);
}

static void __attribute__((format(printf, 3, 4)))
problem(struct cfg *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpush(c, &c->priv->errors, &c->priv->nerrors, key, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
warning(struct cfg *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpush(c, &c->priv->warnings, &c->priv->nwarnings, key, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
note(struct cfg *c, const char *key, const char *fmt, ...)
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

/* Typed getters; types were checked at load time. */

static int64_t
geti(const struct cfg *c, const char *key)
{
	const struct toml_value *v = eff(c, key);

	return v != NULL && v->type == TOML_INT ? v->i64 : 0;
}

static double
getd(const struct cfg *c, const char *key)
{
	const struct toml_value *v = eff(c, key);

	return v != NULL ? v->dbl : 0;
}

static int
getb(const struct cfg *c, const char *key)
{
	const struct toml_value *v = eff(c, key);

	return v != NULL && v->type == TOML_BOOL ? v->boolean : 0;
}

/* A trimmed malloc'd copy of a string setting. */
static char *
gets_trim(const struct cfg *c, const char *key)
{
	const struct toml_value *v = eff(c, key);
	char *s = xstrdup(v != NULL && v->type == TOML_STRING ? v->str : "");
	char *t = str_trim(s), *r = xstrdup(t);

	free(s);
	return r;
}

static int
sat_int(int64_t v)
{
	if (v > INT32_MAX)
		return INT32_MAX;
	if (v < INT32_MIN)
		return INT32_MIN;
	return (int)v;
}

/*
 * Upstream's "defaultIntBelow then clampInt": values below `below` take
 * dflt, then the result is kept within lo..hi. A change is noted.
 */
static int
clampi(struct cfg *c, const char *key, int64_t below, int64_t dflt, int64_t lo,
    int64_t hi)
{
	int64_t v = geti(c, key), r = v;

	if (r < below)
		r = dflt;
	if (r < lo)
		r = lo;
	if (r > hi)
		r = hi;
	if (r != v)
		note(c, key,
		    "effective %lld (upstream: below %lld means "
		    "%lld, range %lld..%lld)",
		    (long long)r, (long long)below, (long long)dflt,
		    (long long)lo, (long long)hi);
	return sat_int(r);
}

/* Upstream's "defaultFloatAtMostZero then clampFloat". */
static double
clampd(struct cfg *c, const char *key, double dflt, double lo, double hi)
{
	double v = getd(c, key), r = v;

	if (!(r > 0))
		r = dflt;
	if (r < lo)
		r = lo;
	if (r > hi)
		r = hi;
	if (r != v)
		note(c, key,
		    "effective %g (upstream: 0 or less means %g, "
		    "range %g..%g)",
		    r, dflt, lo, hi);
	return r;
}

static int
key_in(const char *key, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
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

/* The key length the upstream server writes and insists on. */
static size_t
required_key_len(int method)
{
	return method == 3 ? 16 : method == 4 ? 24 : 32;
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

/* Check a file value's type against the default's. */
static int
check_type(const char *path, const struct toml_entry *ent,
    const struct toml_value *dflt, struct err *e)
{
	const struct toml_value *v = &ent->value;
	enum toml_type want = dflt->type, elem;
	size_t i;

	if (v->type == TOML_INT && want == TOML_FLOAT)
		return 0;
	if (v->type != want)
		return err_set(e, "%s:%d:%d: %s: expected %s, got %s", path,
		    v->line, v->col, ent->key, toml_type_name(want),
		    toml_type_name(v->type));
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

/* The profile as a TOML overlay document. */
static int
profile_doc(const struct profile *p, struct toml_doc **out, struct err *e)
{
	char *buf = NULL, *tmp;
	size_t len = 0, i;
	int r;

	buf = xstrdup("");
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
	if (p->key != NULL) {
		len = strlen(buf);
		tmp = xasprintf("%sENCRYPTION_KEY = ", buf);
		free(buf);
		buf = tmp;
		len = strlen(buf);
		toml_quote(p->key, &buf, &len);
	}
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
	it->secret = key_in(key, secret_keys, nitems(secret_keys)) ||
	    (!known && toml_key_looks_secret(key));
	item_index(pv, pv->nitems - 1);
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
		known = toml_find(pv->defaults, ent->key) != NULL ||
		    toml_find(pv->extra, ent->key) != NULL;
		if ((pe = toml_find(pv->prof, ent->key)) != NULL)
			add_item(c, ent->key, &pe->value, CFG_SRC_PROFILE,
			    c->profile_path, 0, 0, known);
		else
			add_item(c, ent->key, &ent->value, CFG_SRC_FILE,
			    c->path, ent->value.line, ent->value.col, known);
		if (!known)
			warning(c, ent->key,
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
			add_item(c, ent->key, &ent->value, CFG_SRC_DEFAULT,
			    NULL, 0, 0, 1);
	}
}

/* Domains from DOMAINS/DOMAIN: normalised, empty skipped, de-duplicated. */
static void
fill_domains(struct cfg *c, const char *key)
{
	const struct toml_value *v = eff(c, key);
	size_t i;

	for (i = 0; v != NULL && i < v->nitems; i++) {
		char *d = xstrdup(v->items[i].str ? v->items[i].str : "");
		char *t = str_trim(d), *dup;
		struct err de;

		if (*t == '\0') {
			warning(c, key, "empty domain skipped");
			free(d);
			continue;
		}
		dup = xstrdup(t);
		free(d);
		if (prof_domain_normalize(dup, &de) == -1) {
			problem(c, key, "%s", de.msg);
			free(dup);
			continue;
		}
		push(&c->domains, &c->ndomains, dup);
	}
	str_dedupe(c->domains, &c->ndomains);
	if (c->ndomains == 0)
		problem(c, key, "must contain at least one domain");
}

static void
fill_arq(struct cfg *c, int server)
{
	struct cfg_arq *a = &c->arq;
	int gapcap;

	a->window =
	    clampi(c, "ARQ_WINDOW_SIZE", 1, server ? 800 : 600, 1, 8000);
	a->initial_rto_s = clampd(c, "ARQ_INITIAL_RTO_SECONDS", 0.5, 0.01, 60);
	a->max_rto_s =
	    clampd(c, "ARQ_MAX_RTO_SECONDS", 3.0, a->initial_rto_s, 120);
	a->control_initial_rto_s =
	    clampd(c, "ARQ_CONTROL_INITIAL_RTO_SECONDS", 0.5, 0.01, 60);
	a->control_max_rto_s = clampd(c, "ARQ_CONTROL_MAX_RTO_SECONDS", 2.0,
	    a->control_initial_rto_s, 120);
	a->max_control_retries =
	    clampi(c, "ARQ_MAX_CONTROL_RETRIES", 1, 128, server ? 1 : 5, 5000);
	a->inactivity_timeout_s =
	    clampd(c, "ARQ_INACTIVITY_TIMEOUT_SECONDS", 1800, 10, 86400);
	a->data_packet_ttl_s =
	    clampd(c, "ARQ_DATA_PACKET_TTL_SECONDS", 2400, 10, 86400);
	a->control_packet_ttl_s =
	    clampd(c, "ARQ_CONTROL_PACKET_TTL_SECONDS", 1200, 10, 86400);
	a->max_data_retries = clampi(c, "ARQ_MAX_DATA_RETRIES", 1, 128,
	    server ? 1 : 5, server ? 5000 : 100000);
	gapcap = MIN(MIN(MAX(a->window / 8, 16), 128), a->window - 1);
	a->nack_max_gap = clampi(c, "ARQ_DATA_NACK_MAX_GAP", 0, 16, 0, gapcap);
	a->nack_initial_delay_s =
	    clampd(c, "ARQ_DATA_NACK_INITIAL_DELAY_SECONDS", server ? 0.3 : 0.1,
		0.01, server ? 30 : 60);
	a->nack_repeat_s = clampd(c, "ARQ_DATA_NACK_REPEAT_SECONDS",
	    server ? 0.8 : 1.0, 0.01, server ? 30 : 60);
	a->terminal_drain_timeout_s =
	    clampd(c, "ARQ_TERMINAL_DRAIN_TIMEOUT_SECONDS", 120, 10, 3600);
	a->terminal_ack_wait_timeout_s =
	    clampd(c, "ARQ_TERMINAL_ACK_WAIT_TIMEOUT_SECONDS", 90, 5, 3600);
}

static void
fill_socks(struct cfg *c, int server)
{
	c->socks5_auth = getb(c, "SOCKS5_AUTH");
	c->socks5_user = gets_trim(c, "SOCKS5_USER");
	c->socks5_pass = gets_trim(c, "SOCKS5_PASS");
	if (strlen(c->socks5_user) > 255)
		problem(c, "SOCKS5_USER", "cannot exceed 255 bytes");
	if (strlen(c->socks5_pass) > 255)
		problem(c, "SOCKS5_PASS", "cannot exceed 255 bytes");
	if (c->socks5_auth && *c->socks5_user == '\0')
		problem(c, "SOCKS5_AUTH", "true needs SOCKS5_USER");
	if (server && c->socks5_auth && *c->socks5_pass == '\0')
		problem(c, "SOCKS5_AUTH", "true needs SOCKS5_PASS");
}

static void
fill_protocol(struct cfg *c)
{
	char *p = gets_trim(c, "PROTOCOL_TYPE"), *q;

	for (q = p; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	if (*p == '\0') {
		free(p);
		p = xstrdup("SOCKS5");
	}
	if (strcmp(p, "SOCKS5") != 0 && strcmp(p, "TCP") != 0) {
		char shown[64];

		str_printable(p, shown, sizeof shown);
		problem(
		    c, "PROTOCOL_TYPE", "\"%s\" is not SOCKS5 or TCP", shown);
	}
	c->protocol = p;
}

static void
check_port(struct cfg *c, const char *key, int lo)
{
	int64_t v = geti(c, key);

	if (v < lo || v > 65535)
		problem(c, key, "%lld is outside %d..65535", (long long)v, lo);
}

static void
check_key_length(struct cfg *c, const char *key, size_t len)
{
	size_t want = required_key_len(c->method);

	if (c->method == 0 || len == want)
		return;
	warning(c, key,
	    "the key has %zu characters; a MasterDnsVPN server "
	    "key for method %d (%s) has %zu",
	    len, c->method, prof_method_name(c->method), want);
}

static void
finalize_client(struct cfg *c)
{
	int64_t m;

	fill_protocol(c);
	m = geti(c, "DATA_ENCRYPTION_METHOD");
	if (m < 0 || m > 5)
		problem(c, "DATA_ENCRYPTION_METHOD", "%lld is outside 0..5",
		    (long long)m);
	c->method = m < 0 || m > 5 ? 1 : (int)m;
	c->listen_ip = gets_trim(c, "LISTEN_IP");
	if (*c->listen_ip == '\0') {
		free(c->listen_ip);
		c->listen_ip = xstrdup("127.0.0.1");
	}
	check_port(c, "LISTEN_PORT", 0);
	c->listen_port = sat_int(geti(c, "LISTEN_PORT"));
	check_port(c, "LOCAL_DNS_PORT", 0);
	fill_socks(c, 0);
	c->upload_compression = sat_int(geti(c, "UPLOAD_COMPRESSION_TYPE"));
	c->download_compression = sat_int(geti(c, "DOWNLOAD_COMPRESSION_TYPE"));
	if (c->upload_compression < 0 || c->upload_compression > 3)
		problem(c, "UPLOAD_COMPRESSION_TYPE", "%d is outside 0..3",
		    c->upload_compression);
	if (c->download_compression < 0 || c->download_compression > 3)
		problem(c, "DOWNLOAD_COMPRESSION_TYPE", "%d is outside 0..3",
		    c->download_compression);
	c->compression_min_size =
	    clampi(c, "COMPRESSION_MIN_SIZE", 100, 100, 100, INT32_MAX);
	c->balancing_strategy = sat_int(geti(c, "RESOLVER_BALANCING_STRATEGY"));
	if (c->balancing_strategy < 0 || c->balancing_strategy > 8)
		problem(c, "RESOLVER_BALANCING_STRATEGY", "%d is outside 0..8",
		    c->balancing_strategy);
	c->base_encode = getb(c, "BASE_ENCODE_DATA");
	c->packet_duplication =
	    clampi(c, "PACKET_DUPLICATION_COUNT", 1, 2, 1, 10);
	c->setup_packet_duplication =
	    clampi(c, "SETUP_PACKET_DUPLICATION_COUNT", 1,
		MAX(2, c->packet_duplication), c->packet_duplication, 12);
	c->max_packets_per_batch =
	    clampi(c, "MAX_PACKETS_PER_BATCH", 1, 8, 1, 64);
	fill_arq(c, 0);
	c->min_upload_mtu = sat_int(geti(c, "MIN_UPLOAD_MTU"));
	c->min_download_mtu = sat_int(geti(c, "MIN_DOWNLOAD_MTU"));
	c->max_upload_mtu = sat_int(geti(c, "MAX_UPLOAD_MTU"));
	c->max_download_mtu = sat_int(geti(c, "MAX_DOWNLOAD_MTU"));
	if (c->min_upload_mtu < 0)
		problem(c, "MIN_UPLOAD_MTU", "cannot be negative");
	if (c->min_download_mtu < 0)
		problem(c, "MIN_DOWNLOAD_MTU", "cannot be negative");
	if (c->max_upload_mtu < 0)
		problem(c, "MAX_UPLOAD_MTU", "cannot be negative");
	if (c->max_download_mtu < 0)
		problem(c, "MAX_DOWNLOAD_MTU", "cannot be negative");
	if (c->max_upload_mtu > 0 && c->min_upload_mtu > c->max_upload_mtu)
		problem(c, "MIN_UPLOAD_MTU",
		    "%d is greater than MAX_UPLOAD_MTU "
		    "%d",
		    c->min_upload_mtu, c->max_upload_mtu);
	if (c->max_download_mtu > 0 &&
	    c->min_download_mtu > c->max_download_mtu)
		problem(c, "MIN_DOWNLOAD_MTU",
		    "%d is greater than "
		    "MAX_DOWNLOAD_MTU %d",
		    c->min_download_mtu, c->max_download_mtu);
	c->mtu_test_retries = clampi(c, "MTU_TEST_RETRIES", 1, 1, 1, INT32_MAX);
	c->mtu_test_timeout_s = clampd(c, "MTU_TEST_TIMEOUT", 2.0, 0, 1e9);
	c->mtu_test_parallelism =
	    clampi(c, "MTU_TEST_PARALLELISM", 1, 1, 1, INT32_MAX);
	c->key = gets_trim(c, "ENCRYPTION_KEY");
	if (*c->key == '\0') {
		problem(c, "ENCRYPTION_KEY", "is required in a client config");
		free(c->key);
		c->key = NULL;
	} else {
		cfg_fingerprint(
		    c->key, strlen(c->key), c->key_fp, sizeof c->key_fp);
		check_key_length(c, "ENCRYPTION_KEY", strlen(c->key));
	}
	fill_domains(c, "DOMAINS");
}

/* Normalised list of compression types as a bit mask (upstream rules). */
static unsigned
compression_mask(struct cfg *c, const char *key)
{
	const struct toml_value *v = eff(c, key);
	unsigned mask = 0;
	size_t i;

	for (i = 0; v != NULL && i < v->nitems; i++) {
		if (v->items[i].i64 < 0 || v->items[i].i64 > 3) {
			warning(c, key, "type %lld ignored (0..3)",
			    (long long)v->items[i].i64);
			continue;
		}
		mask |= 1u << v->items[i].i64;
	}
	if (mask == 0) {
		note(c, key, "effective [0] (upstream: empty means OFF only)");
		mask = 1;
	}
	return mask;
}

static void
read_server_key(struct cfg *c, const struct cfg_opts *opts)
{
	char *name = gets_trim(c, "ENCRYPTION_KEY_FILE"), *buf, *t;
	FILE *f;
	size_t n;

	if (*name == '\0') {
		free(name);
		name = xstrdup("encrypt_key.txt");
	}
	if (opts != NULL && opts->key_file != NULL)
		c->key_path = xstrdup(opts->key_file);
	else if (name[0] == '/')
		c->key_path = xstrdup(name);
	else
		c->key_path = xasprintf("%s/%s", c->dir, name);
	free(name);
	if ((f = fopen(c->key_path, "rb")) == NULL) {
		warning(c, "ENCRYPTION_KEY_FILE",
		    "%s: %s (the upstream server "
		    "would generate a new key)",
		    c->key_path, strerror(errno));
		return;
	}
	buf = xmalloc(CFG_MAX_KEYFILE + 1);
	n = fread(buf, 1, CFG_MAX_KEYFILE + 1, f);
	fclose(f);
	if (n > CFG_MAX_KEYFILE || memchr(buf, '\0', n) != NULL) {
		problem(c, "ENCRYPTION_KEY_FILE",
		    "%s: not a key file (binary "
		    "or larger than %d bytes)",
		    c->key_path, CFG_MAX_KEYFILE);
		explicit_bzero(buf, n);
		free(buf);
		return;
	}
	buf[n] = '\0';
	t = str_trim(buf);
	if (strlen(t) != required_key_len(c->method)) {
		problem(c, "ENCRYPTION_KEY_FILE",
		    "%s: the key has %zu "
		    "characters but method %d (%s) needs %zu; the upstream "
		    "server would replace it with a new key",
		    c->key_path, strlen(t), c->method,
		    prof_method_name(c->method), required_key_len(c->method));
	}
	if (*t != '\0') {
		c->key = xstrdup(t);
		cfg_fingerprint(
		    c->key, strlen(c->key), c->key_fp, sizeof c->key_fp);
	}
	explicit_bzero(buf, n);
	free(buf);
}

static void
finalize_server(struct cfg *c, const struct cfg_opts *opts)
{
	struct cfg_policy *p = &c->policy;
	int64_t m;

	fill_protocol(c);
	c->listen_ip = gets_trim(c, "UDP_HOST");
	if (*c->listen_ip == '\0') {
		free(c->listen_ip);
		c->listen_ip = xstrdup("0.0.0.0");
	}
	check_port(c, "UDP_PORT", 1);
	c->listen_port = sat_int(geti(c, "UDP_PORT"));
	check_port(c, "FORWARD_PORT", 0);
	fill_socks(c, 1);
	if (getb(c, "USE_EXTERNAL_SOCKS5")) {
		char *ip = gets_trim(c, "FORWARD_IP");

		if (*ip == '\0')
			problem(c, "USE_EXTERNAL_SOCKS5",
			    "true needs "
			    "FORWARD_IP");
		if (geti(c, "FORWARD_PORT") <= 0)
			problem(c, "USE_EXTERNAL_SOCKS5",
			    "true needs a "
			    "FORWARD_PORT");
		free(ip);
	}
	c->min_vpn_label_length =
	    clampi(c, "MIN_VPN_LABEL_LENGTH", 1, 3, 1, INT32_MAX);
	c->upload_compression_mask =
	    compression_mask(c, "SUPPORTED_UPLOAD_COMPRESSION_TYPES");
	c->download_compression_mask =
	    compression_mask(c, "SUPPORTED_DOWNLOAD_COMPRESSION_TYPES");
	m = geti(c, "DATA_ENCRYPTION_METHOD");
	if (m < 0 || m > 5) {
		warning(c, "DATA_ENCRYPTION_METHOD",
		    "%lld is outside 0..5; "
		    "the upstream server uses 1 (XOR)",
		    (long long)m);
		note(c, "DATA_ENCRYPTION_METHOD",
		    "effective 1 (upstream: out "
		    "of range means 1)");
		m = 1;
	}
	c->method = (int)m;
	c->max_packets_per_batch =
	    clampi(c, "MAX_PACKETS_PER_BATCH", 1, 20, 1, INT32_MAX);
	fill_arq(c, 1);
	p->max_packet_duplication = clampi(
	    c, "MAX_ALLOWED_CLIENT_PACKET_DUPLICATION_COUNT", 0, 5, 0, 15);
	p->max_setup_duplication = clampi(c,
	    "MAX_ALLOWED_CLIENT_SETUP_PACKET_DUPLICATION_COUNT", 0, 6, 0, 15);
	p->max_upload_mtu =
	    clampi(c, "MAX_ALLOWED_CLIENT_UPLOAD_MTU", 1, 150, 1, 255);
	p->max_download_mtu =
	    clampi(c, "MAX_ALLOWED_CLIENT_DOWNLOAD_MTU", 1, 4096, 1, 65535);
	p->max_rx_tx_workers =
	    clampi(c, "MAX_ALLOWED_CLIENT_RX_TX_WORKERS", 1, 255, 1, 255);
	p->min_ping_aggressive_s =
	    clampd(c, "MIN_ALLOWED_CLIENT_PING_AGGRESSIVE_INTERVAL_SECONDS",
		0.05, 0.05, 1.0);
	p->max_packets_per_batch =
	    clampi(c, "MAX_ALLOWED_CLIENT_PACKETS_PER_BATCH", 1, 20, 1, 255);
	p->max_arq_window =
	    clampi(c, "MAX_ALLOWED_CLIENT_ARQ_WINDOW_SIZE", 1, 8000, 1, 8000);
	p->max_arq_nack_gap = clampi(
	    c, "MAX_ALLOWED_CLIENT_ARQ_DATA_NACK_MAX_GAP", 0, 255, 0, 255);
	p->min_compression_min_size = clampi(
	    c, "MIN_ALLOWED_CLIENT_COMPRESSION_MIN_SIZE", 1, 120, 1, 65535);
	p->min_arq_initial_rto_s = clampd(
	    c, "MIN_ALLOWED_CLIENT_ARQ_INITIAL_RTO_SECONDS", 0.05, 0.05, 1.0);
	fill_domains(c, "DOMAIN");
	read_server_key(c, opts);
}

int
cfg_load(const char *path, const struct profile *prof,
    const struct cfg_opts *opts, struct cfg **out, struct err *e)
{
	struct cfg *c;
	struct cfg_private *pv;
	const char *slash;
	struct toml_doc *file = NULL;
	struct err de;
	int role;
	size_t i;

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
	c = xcalloc(1, sizeof *c);
	pv = c->priv = xcalloc(1, sizeof *pv);
	c->role = role;
	pv->file = file;
	if (path != NULL) {
		c->path = xstrdup(path);
		slash = strrchr(path, '/');
		c->dir = slash == NULL ? xstrdup(".") :
		    slash == path      ? xstrdup("/") :
					 xstrndup(path, (size_t)(slash - path));
	} else {
		c->dir = xstrdup(".");
	}
	/* Our own defaults text: a parse failure is a bug, not input. */
	if (toml_parse_buf("(defaults)",
		role == CFG_SERVER ? server_defaults : client_defaults,
		strlen(role == CFG_SERVER ? server_defaults : client_defaults),
		&pv->defaults, &de) == -1 ||
	    toml_parse_buf("(defaults)",
		role == CFG_SERVER ? server_extra : client_extra,
		strlen(role == CFG_SERVER ? server_extra : client_extra),
		&pv->extra, &de) == -1) {
		err_set(e, "internal error in defaults: %s", de.msg);
		cfg_free(c);
		return -1;
	}
	for (i = 0; file != NULL && i < toml_count(file); i++) {
		const struct toml_entry *ent = toml_entry_at(file, i);
		const struct toml_value *d = toml_get(pv->defaults, ent->key);

		if (d == NULL)
			d = toml_get(pv->extra, ent->key);
		if (d != NULL && check_type(path, ent, d, e) == -1) {
			cfg_free(c);
			return -1;
		}
	}
	if (prof != NULL) {
		c->profile_path = xstrdup(prof->path);
		if (profile_doc(prof, &pv->prof, e) == -1) {
			cfg_free(c);
			return -1;
		}
		c->fec = prof->fec;
		if (prof->expected_exit_ip != NULL)
			c->expected_exit_ip = xstrdup(prof->expected_exit_ip);
		c->resolvers =
		    xcalloc(prof->nresolvers + 1, sizeof *c->resolvers);
		for (i = 0; i < prof->nresolvers; i++)
			c->resolvers[i] = prof->resolvers[i].addr;
		c->nresolvers = prof->nresolvers;
	} else {
		c->fec.level = "none";
	}
	build_items(c);
	if (role == CFG_SERVER)
		finalize_server(c, opts);
	else
		finalize_client(c);
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

char *
cfg_default_resolvers_path(const struct cfg *c)
{
	return xasprintf("%s/client_resolvers.txt", c->dir);
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
	}
	return "?";
}

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
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
	free(pv->slots);
	for (i = 0; i < pv->nwarnings; i++)
		free(pv->warnings[i]);
	free(pv->warnings);
	for (i = 0; i < pv->nerrors; i++)
		free(pv->errors[i]);
	free(pv->errors);
	toml_free(pv->defaults);
	toml_free(pv->extra);
	toml_free(pv->file);
	toml_free(pv->prof);
	free(pv);
	for (i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	free(c->domains);
	free(c->protocol);
	free_secret(c->key);
	free(c->key_path);
	free(c->listen_ip);
	free(c->socks5_user);
	free_secret(c->socks5_pass);
	free(c->profile_path);
	free(c->expected_exit_ip);
	free(c->resolvers);
	free(c->path);
	free(c->dir);
	free(c);
}
