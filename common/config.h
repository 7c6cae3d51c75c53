/* SPDX-License-Identifier: MIT */
/*
 * config.h — the one configuration model of MasterDnsVPN settings, used by
 * every command (config, scan, mtu, handshake, decode, connect, serve) and
 * by the engine. cfg_load reads a client_config.toml or server_config.toml
 * (role detected from its keys), lays a JSON profile over a client
 * configuration, takes upstream's defaults for absent keys, reads the
 * server's encrypt_key.txt and optionally a resolver list, and fills one
 * typed struct per role (struct cfg_client, struct cfg_server). Defaults,
 * ranges, clamping and messages are written once, in one key table
 * (config-keys.c), the way upstream's internal/config finalize*Config
 * does them; docs/config.md lists every key's rule.
 *
 * Every key, known or not, is also listed as written with where it came
 * from (cfg_item_*), and every known key's effective value with its
 * source can be had as JSON (cfg_*_effective_json) — the same object
 * `config show --format json` prints and the engine's status reports.
 *
 * Load errors (syntax, wrong type, a value that is not a finite number)
 * fail cfg_load; semantic problems are collected and reported by
 * cfg_validate, so a caller can still show an invalid file. Messages read
 * "FILE:LINE:COL: KEY: reason" when the value is in a file.
 */
#ifndef MDNS_CONFIG_H
#define MDNS_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/net.h"
#include "common/profile.h"
#include "common/toml.h"
#include "common/util.h"

enum cfg_role {
	CFG_CLIENT = 0,
	CFG_SERVER = 1,
};

enum cfg_source {
	CFG_SRC_DEFAULT = 0,  /* upstream default, key absent */
	CFG_SRC_FILE,	      /* as written in the config file */
	CFG_SRC_PROFILE,      /* from the JSON profile */
	CFG_SRC_CLAMPED,      /* the rules changed the value given */
	CFG_SRC_OPTION,	      /* set by a command-line option */
	CFG_SRC_INVALID,      /* refused: the configuration is invalid */
	CFG_SRC_MDNS_DEFAULT, /* key absent; our default differs from
			       * upstream's (DATA_ENCRYPTION_METHOD) */
};

/* Length of a key fingerprint "sha256:" + 8 hex digits, with NUL. */
#define CFG_FP_LEN 16

/* Keys in the client and server tables (checked at compile time). */
#define CFG_CLIENT_NKEYS 105
#define CFG_SERVER_NKEYS 86

/* ARQ_* keys (both roles; seconds as written). */
struct cfg_arq {
	int window;
	double initial_rto_s;
	double max_rto_s;
	double control_initial_rto_s;
	double control_max_rto_s;
	int max_control_retries;
	int max_data_retries;
	int nack_max_gap;
	double nack_initial_delay_s;
	double nack_repeat_s;
	double inactivity_timeout_s;
	double data_packet_ttl_s;
	double control_packet_ttl_s;
	double terminal_drain_timeout_s;
	double terminal_ack_wait_timeout_s;
};

/*
 * The effective client settings: one field per key of client_config.toml
 * (upstream name in the comment, docs/config.md for the rules) and our
 * MDNS_* keys. Strings and arrays are owned (cfg_client_clear frees them).
 */
struct cfg_client {
	char *protocol;			 /* PROTOCOL_TYPE: "SOCKS5" or "TCP" */
	int protocol_tcp;		 /* protocol is "TCP" */
	char *log_level;		 /* LOG_LEVEL */
	int method;			 /* DATA_ENCRYPTION_METHOD 0..5 */
	char *listen_ip;		 /* LISTEN_IP */
	uint16_t listen_port;		 /* LISTEN_PORT */
	int socks_auth;			 /* SOCKS5_AUTH */
	char *socks_user;		 /* SOCKS5_USER */
	char *socks_pass;		 /* SOCKS5_PASS (secret) */
	int local_dns_enabled;		 /* LOCAL_DNS_ENABLED */
	char *local_dns_ip;		 /* LOCAL_DNS_IP */
	int local_dns_port;		 /* LOCAL_DNS_PORT */
	int local_dns_cache_max_records; /* LOCAL_DNS_CACHE_MAX_RECORDS */
	double local_dns_cache_ttl_s;	 /* LOCAL_DNS_CACHE_TTL_SECONDS */
	double local_dns_pending_timeout_s; /* LOCAL_DNS_PENDING_TIMEOUT_... */
	double local_dns_cache_flush_s; /* LOCAL_DNS_CACHE_FLUSH_INTERVAL_.. */
	int local_dns_cache_persist;	/* LOCAL_DNS_CACHE_PERSIST_TO_FILE */
	int up_comp, down_comp;		/* UPLOAD/DOWNLOAD_COMPRESSION_TYPE */
	unsigned comp_min;		/* COMPRESSION_MIN_SIZE */
	int strategy;			/* RESOLVER_BALANCING_STRATEGY */
	unsigned dup;			/* PACKET_DUPLICATION_COUNT */
	unsigned setup_dup;		/* SETUP_PACKET_DUPLICATION_COUNT */
	unsigned failover_resends;  /* STREAM_RESOLVER_FAILOVER_RESEND_... */
	double failover_cooldown_s; /* STREAM_RESOLVER_FAILOVER_COOLDOWN */
	double disable_window_s;    /* AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS */
	unsigned max_batch;	    /* MAX_PACKETS_PER_BATCH */
	struct cfg_arq arq;	    /* ARQ_* */
	unsigned min_up_mtu, min_down_mtu; /* MIN_UPLOAD/DOWNLOAD_MTU */
	unsigned max_up_mtu, max_down_mtu; /* MAX_UPLOAD/DOWNLOAD_MTU */
	unsigned mtu_retries;		   /* MTU_TEST_RETRIES */
	double mtu_timeout_s;		   /* MTU_TEST_TIMEOUT */
	unsigned mtu_parallelism;	   /* MTU_TEST_PARALLELISM */
	int legacy_reader_workers;	   /* TUNNEL_READER_WORKERS (legacy) */
	int legacy_writer_workers;	   /* TUNNEL_WRITER_WORKERS (legacy) */
	int rx_tx_workers;		   /* RX_TX_WORKERS */
	int tunnel_process_workers;	   /* TUNNEL_PROCESS_WORKERS */
	double packet_timeout_s;	   /* TUNNEL_PACKET_TIMEOUT_SECONDS */
	double dispatcher_idle_poll_s; /* DISPATCHER_IDLE_POLL_INTERVAL_.. */
	double ping_aggr_s;	       /* PING_AGGRESSIVE_INTERVAL_SECONDS */
	double ping_lazy_s;	       /* PING_LAZY_INTERVAL_SECONDS */
	double ping_cool_s;	       /* PING_COOLDOWN_INTERVAL_SECONDS */
	double ping_cold_s;	       /* PING_COLD_INTERVAL_SECONDS */
	double ping_warm_thr_s;	       /* PING_WARM_THRESHOLD_SECONDS */
	double ping_cool_thr_s;	       /* PING_COOL_THRESHOLD_SECONDS */
	double ping_cold_thr_s;	       /* PING_COLD_THRESHOLD_SECONDS */
	int rx_channel_size;	       /* RX_CHANNEL_SIZE */
	double dns_fragment_timeout_s; /* DNS_RESPONSE_FRAGMENT_TIMEOUT_.. */
	double socks_udp_timeout_s;    /* SOCKS_UDP_ASSOCIATE_READ_TIMEOUT_.. */
	double terminal_retention_s;   /* CLIENT_TERMINAL_STREAM_RETENTION.. */
	double cancelled_retention_s;  /* CLIENT_CANCELLED_SETUP_RETENTION.. */
	double init_retry_base_s;      /* SESSION_INIT_RETRY_BASE_SECONDS */
	double init_retry_step_s;      /* SESSION_INIT_RETRY_STEP_SECONDS */
	int init_retry_linear_after;   /* SESSION_INIT_RETRY_LINEAR_AFTER */
	double init_retry_max_s;       /* SESSION_INIT_RETRY_MAX_SECONDS */
	double init_busy_retry_s;      /* SESSION_INIT_BUSY_RETRY_INTERVAL.. */
	int init_racing_count;	       /* SESSION_INIT_RACING_COUNT */
	char *mtu_file_name;	       /* MTU_SERVERS_FILE_NAME */
	char *mtu_file_format;	       /* MTU_SERVERS_FILE_FORMAT */
	char *mtu_separator_text;      /* MTU_USING_SECTION_SEPARATOR_TEXT */
	char *mtu_removed_format;      /* MTU_REMOVED_SERVER_LOG_FORMAT */
	char *mtu_added_format;	       /* MTU_ADDED_SERVER_LOG_FORMAT */
	char *mtu_reactive_format; /* MTU_REACTIVE_ADDED_SERVER_LOG_FORMAT */
	char *key;		 /* ENCRYPTION_KEY (secret), NULL when empty */
	char key_fp[CFG_FP_LEN]; /* its fingerprint, "" when none */
	char **domains;		 /* DOMAINS, normalised, first-seen order */
	size_t ndomains;
	int base64;		    /* BASE_ENCODE_DATA */
	int recheck;		    /* RECHECK_INACTIVE_SERVERS_ENABLED */
	int auto_disable;	    /* AUTO_DISABLE_TIMEOUT_SERVERS */
	int remove_low_mtu;	    /* AUTO_REMOVE_LOW_MTU_SERVERS */
	int save_mtu_servers;	    /* SAVE_MTU_SERVERS_TO_FILE */
	unsigned max_inflight;	    /* ours: MDNS_MAX_INFLIGHT */
	unsigned ready_min;	    /* ours: MDNS_READY_MIN */
	double ready_wait_s;	    /* ours: MDNS_READY_WAIT_SECONDS */
	unsigned start_parallelism; /* ours: MDNS_START_PARALLELISM */
	/* ours, for `ip` (docs/checks.md): IP-echo service URLs per family
	 * (empty: the built-in services) and the expected exit addresses
	 * (the profile's expectedExitIP lands here too). */
	char **ip_echo_v4; /* MDNS_IP_ECHO_V4 */
	size_t nip_echo_v4;
	char **ip_echo_v6; /* MDNS_IP_ECHO_V6 */
	size_t nip_echo_v6;
	char **expected_exit; /* MDNS_EXPECTED_EXIT_IP, IP literals */
	size_t nexpected_exit;
	double local_dns_answer_timeout_s; /* ours: MDNS_LOCAL_DNS_ANSWER_.. */
	double stall_timeout_s; /* ours: MDNS_STALL_TIMEOUT_SECONDS (0 auto) */
	char *leak_zone;	/* ours: MDNS_LEAK_ZONE ("" none), for `leak` */
	double snap_interval_s; /* ours: MDNS_SNAPSHOT_INTERVAL_SECONDS */
	double snap_retention_days; /* ours: MDNS_SNAPSHOT_RETENTION_DAYS */
	unsigned snap_max_rows;	    /* ours: MDNS_SNAPSHOT_MAX_ROWS */
	/* The FEC fork's keys (docs/fec.md); FEC_LEVEL, when not "", wins. */
	char *fec_level;     /* FEC_LEVEL: "", "none", "conservative", ... */
	int fec_enabled;     /* FEC_ENABLED */
	char *fec_direction; /* FEC_DIRECTION: only "download" enables */
	int fec_group;	     /* FEC_GROUP_SIZE 2..64 */
	int fec_overhead;    /* FEC_OVERHEAD_PERCENT 0..100 */
	int fec_symbol_size; /* FEC_SYMBOL_SIZE 0 (auto)..65535 */
	int fec_flush_ms;    /* FEC_FLUSH_TIMEOUT_MS 1..1000 */

	/* Not keys: the resolver list (cfg_opts.resolvers, then the
	 * profile's), and what only a profile gives. */
	union net_addr *resolvers;
	size_t nresolvers;
	struct prof_fec fec;

	/* Where each key's value came from, in key-table order. */
	unsigned char src[CFG_CLIENT_NKEYS];
};

/* The effective server settings (server_config.toml, MDNS_ALLOW_TARGETS). */
struct cfg_server {
	char *protocol;		     /* PROTOCOL_TYPE: "SOCKS5" or "TCP" */
	int protocol_tcp;	     /* protocol is "TCP" */
	char *udp_host;		     /* UDP_HOST */
	uint16_t udp_port;	     /* UDP_PORT */
	int udp_readers;	     /* UDP_READERS */
	int socket_buffer_size;	     /* SOCKET_BUFFER_SIZE */
	int max_concurrent_requests; /* MAX_CONCURRENT_REQUESTS */
	int src_answer_rate;	 /* ours: MDNS_SOURCE_ANSWER_BYTES_PER_SECOND */
	int src_init_rate;	 /* ours: MDNS_SOURCE_INIT_PER_SECOND */
	int dns_request_workers; /* DNS_REQUEST_WORKERS */
	int deferred_workers;	 /* DEFERRED_SESSION_WORKERS */
	int deferred_queue_limit;	   /* DEFERRED_SESSION_QUEUE_LIMIT */
	int max_packet_size;		   /* MAX_PACKET_SIZE */
	double drop_log_interval_s;	   /* DROP_LOG_INTERVAL_SECONDS */
	double invalid_cookie_window_s;	   /* INVALID_COOKIE_WINDOW_SECONDS */
	unsigned invalid_cookie_threshold; /* INVALID_COOKIE_ERROR_THRESHOLD */
	double session_timeout_s;	   /* SESSION_TIMEOUT_SECONDS */
	double session_cleanup_s;  /* SESSION_CLEANUP_INTERVAL_SECONDS */
	double closed_retention_s; /* CLOSED_SESSION_RETENTION_SECONDS */
	double init_reuse_s;	   /* SESSION_INIT_REUSE_TTL_SECONDS */
	double
	    recently_closed_stream_s;	/* RECENTLY_CLOSED_STREAM_TTL_SECONDS */
	int recently_closed_stream_cap; /* RECENTLY_CLOSED_STREAM_CAP */
	double terminal_retention_s;	/* TERMINAL_STREAM_RETENTION_SECONDS */
	unsigned max_packets_per_batch; /* MAX_PACKETS_PER_BATCH */
	unsigned packed_dup;		/* PACKET_BLOCK_CONTROL_DUPLICATION */
	char **dns_upstream;		/* DNS_UPSTREAM_SERVERS */
	size_t ndns_upstream;
	double dns_upstream_timeout_s;	/* DNS_UPSTREAM_TIMEOUT */
	double dns_inflight_wait_s;	/* DNS_INFLIGHT_WAIT_TIMEOUT_SECONDS */
	double socks_connect_timeout_s; /* SOCKS_CONNECT_TIMEOUT */
	double dns_fragment_timeout_s;	/* DNS_FRAGMENT_ASSEMBLY_TIMEOUT */
	double setup_ack_ttl_s;		/* STREAM_SETUP_ACK_TTL_SECONDS */
	double result_ttl_s;		/* STREAM_RESULT_PACKET_TTL_SECONDS */
	double failure_ttl_s;		/* STREAM_FAILURE_PACKET_TTL_SECONDS */
	int dns_cache_max_records;	/* DNS_CACHE_MAX_RECORDS */
	double dns_cache_ttl_s;		/* DNS_CACHE_TTL_SECONDS */
	uint16_t forward_port;		/* FORWARD_PORT */
	int socks_auth;			/* SOCKS5_AUTH */
	char *socks_user;		/* SOCKS5_USER */
	char *socks_pass;		/* SOCKS5_PASS (secret) */
	char *forward_ip;		/* FORWARD_IP */
	int use_external_socks5;	/* USE_EXTERNAL_SOCKS5 */
	int min_vpn_label_length;	/* MIN_VPN_LABEL_LENGTH */
	unsigned up_comp_mask;		/* SUPPORTED_UPLOAD_COMPRESSION_TYPES */
	unsigned down_comp_mask; /* SUPPORTED_DOWNLOAD_COMPRESSION_TYPES */
	int method;		 /* DATA_ENCRYPTION_METHOD */
	char *key_file;		 /* ENCRYPTION_KEY_FILE */
	char *log_level;	 /* LOG_LEVEL */
	struct cfg_arq arq;	 /* ARQ_* */
	unsigned max_sessions;	 /* MAX_ALLOWED_CLIENT_ACTIVE_SESSION */
	unsigned
	    max_streams; /* MAX_ALLOWED_CLIENT_ACTIVE_STREAMS_PER_SESSION */
	/* Client policy sent in SESSION_ACCEPT (MAX/MIN_ALLOWED_CLIENT_*). */
	unsigned pol_dup, pol_setup_dup, pol_up_mtu, pol_down_mtu;
	unsigned pol_workers;
	double pol_ping_s;
	unsigned pol_batch, pol_window, pol_nack_gap, pol_comp_min;
	double pol_rto_s;
	char **domains; /* DOMAIN, normalised, first-seen order */
	size_t ndomains;
	char *config_version; /* CONFIG_VERSION (sample only, not read) */
	/* The FEC fork's server keys (docs/fec.md): ceilings. */
	int fec_enabled;	 /* FEC_ENABLED */
	int fec_max_group;	 /* FEC_MAX_GROUP_SIZE 2..64 */
	int fec_max_overhead;	 /* FEC_MAX_OVERHEAD_PERCENT 0..100 */
	int fec_max_symbol_size; /* FEC_MAX_SYMBOL_SIZE 0..65535 */
	int fec_max_flush_ms;	 /* FEC_MAX_FLUSH_TIMEOUT_MS 1..1000 */
	char **allow;		 /* ours: MDNS_ALLOW_TARGETS (CIDRs) */
	size_t nallow;
	char *leak_zone; /* ours: MDNS_LEAK_ZONE ("" none; docs/checks.md) */
	double snap_interval_s;	    /* ours: MDNS_SNAPSHOT_INTERVAL_SECONDS */
	double snap_retention_days; /* ours: MDNS_SNAPSHOT_RETENTION_DAYS */
	unsigned snap_max_rows;	    /* ours: MDNS_SNAPSHOT_MAX_ROWS */

	/* Not keys: the key file read (ENCRYPTION_KEY_FILE relative to the
	 * config, or cfg_opts.key_file) and its trimmed text. */
	char *key_path;
	char *key; /* secret, NULL when unread */
	char key_fp[CFG_FP_LEN];

	unsigned char src[CFG_SERVER_NKEYS];
};

struct cfg_private;

struct cfg {
	enum cfg_role role;
	char *path;		  /* config file as given; NULL: profile only */
	char *dir;		  /* its directory ("." when none) */
	char *profile_path;	  /* NULL without a profile */
	struct cfg_client client; /* filled when role is CFG_CLIENT */
	struct cfg_server server; /* filled when role is CFG_SERVER */
	struct cfg_private *priv;
};

/* One key as written (or defaulted) and where it came from. */
struct cfg_item {
	const char *key;
	const struct toml_value *value; /* as written or default */
	enum cfg_source source;		/* default, file or profile */
	const char *origin; /* file the value came from, NULL: default */
	int line;	    /* 0 when not from a file */
	int known;	    /* in the key table for this role */
	int secret;	    /* never print value: cfg_item_fingerprint;
			     * known secrets and unknown keys named like
			     * one (*KEY*, *PASS*, *SECRET*, *TOKEN*) */
	const char *note;   /* "effective 10 (upstream: ...)" */
};

struct cfg_opts {
	int role;	       /* -1 = detect from the keys */
	const char *key_file;  /* server: key file instead of the config's */
	const char *resolvers; /* client: read this resolver list */
};

/*
 * Load path (may be NULL when prof is given: a client from defaults and
 * the profile) and lay prof (may be NULL) over it. opts may be NULL.
 * On success *out is freed with cfg_free. Returns 0, or -1 with e set
 * for unreadable files, syntax errors, wrong value types, non-finite
 * numbers or an undecidable role.
 */
int cfg_load(const char *path, const struct profile *prof,
    const struct cfg_opts *opts, struct cfg **out, struct err *e);
void cfg_free(struct cfg *c);

/*
 * Check the loaded configuration the way the upstream client/server
 * would refuse to start (and a little more: key lengths, domains, our
 * MDNS_* ranges). Returns 0, or -1 with the first problem in e.
 */
int cfg_validate(const struct cfg *c, struct err *e);

/*
 * cfg_load for a program that runs with the configuration (serve,
 * connect): it also fails when the file is not for role, when it is
 * invalid (e gets the first problem, exactly as `config check` prints
 * it), and when a server has no key to serve with (the doctor never
 * generates one).
 */
int cfg_load_valid(const char *path, const struct profile *prof,
    const struct cfg_opts *opts, enum cfg_role role, struct cfg **out,
    struct err *e);

/* Keys in display order: file order, then defaults, then profile. */
size_t cfg_item_count(const struct cfg *c);
void cfg_item_at(const struct cfg *c, size_t i, struct cfg_item *out);

/* Every problem cfg_validate would report, in the order of the checks. */
size_t cfg_error_count(const struct cfg *c);
const char *cfg_error_at(const struct cfg *c, size_t i);

/*
 * The first problem cfg_validate reports for key (as cfg_error_at gives
 * it), or NULL when the key has none: a command that reads a few keys of
 * a file (ip) refuses only what it uses.
 */
const char *cfg_key_problem(const struct cfg *c, const char *key);

/* Where key's effective value came from, or -1 for a key of no table. */
int cfg_key_source(const struct cfg *c, const char *key);

/*
 * The security finding of the effective DATA_ENCRYPTION_METHOD
 * (method_finding, common/method.h) as one line with the key's location,
 * into buf: "FILE:LINE:COL: DATA_ENCRYPTION_METHOD: WARNING: 1 (xor):
 * REASON (docs/security.md#encryption-methods)"; "" when the method is
 * not weak. Returns its level: EXIT_OK, EXIT_WARNING or EXIT_CRITICAL.
 * `config check` exits with it when the configuration is otherwise
 * valid; serve and connect log it at start.
 */
int cfg_method_finding(const struct cfg *c, char *buf, size_t len);

/*
 * The rule for an IP-echo service URL (MDNS_IP_ECHO_V4/_V6 and ip's
 * --service options): http:// or https://, a host, at most 1024 bytes,
 * no blank or control character; family 4 or 6 refuses an address
 * literal of the other family (0: any). *literal gets the host's family
 * when it is an address literal, else 0. Returns 0, or -1 with the
 * reason in e (without the URL).
 */
int cfg_echo_url_check(
    const char *url, int family, int *literal, struct err *e);

/* Warnings found while loading ("FILE:LINE:COL: X: unknown key ..."). */
size_t cfg_warning_count(const struct cfg *c);
const char *cfg_warning_at(const struct cfg *c, size_t i);

/*
 * Mark key (of c's role) as set from elsewhere, e.g. CFG_SRC_OPTION after
 * a command-line option changed its field. Returns 0, or -1 for a key
 * not in the table.
 */
int cfg_set_source(struct cfg *c, const char *key, enum cfg_source src);

/*
 * Every known key of the role with its effective value and source:
 * {"KEY": {"value": V, "source": "file"}, ...} in key-table order;
 * secrets as {"value": null, "secret": true, "fingerprint": FP} (no
 * fingerprint when empty). A new reference. The engine's status reports
 * this for the struct it runs with; `config show` for the loaded one.
 */
json_t *cfg_client_effective_json(const struct cfg_client *c);
json_t *cfg_server_effective_json(const struct cfg_server *c);
json_t *cfg_effective_json(const struct cfg *c);

/*
 * The upstream defaults of a role (no file): what cfg_load gives for an
 * empty file. The engine's tests and the runtime defaults of pool and
 * ARQ start from these. Free with cfg_*_clear.
 */
void cfg_client_defaults(struct cfg_client *out);
void cfg_server_defaults(struct cfg_server *out);

/* Deep copies (every string and array), and freeing them (secrets are
 * zeroed first). dst is overwritten; clear leaves a zeroed struct. */
void cfg_client_copy(struct cfg_client *dst, const struct cfg_client *src);
void cfg_server_copy(struct cfg_server *dst, const struct cfg_server *src);
void cfg_client_clear(struct cfg_client *c);
void cfg_server_clear(struct cfg_server *c);

/* Each warning as a log_warn line (serve, connect: once at start). */
void cfg_log_warnings(const struct cfg *c);

/* Client: the resolver list next to the config (client_resolvers.txt);
 * malloc'd path. */
char *cfg_default_resolvers_path(const struct cfg *c);

/* "sha256:" + first 8 hex of SHA-256(secret) into out (CFG_FP_LEN). */
void cfg_fingerprint(const char *secret, size_t len, char *out, size_t outlen);

/*
 * Fingerprint of a secret item's value into out (CFG_FP_LEN): of the
 * string's bytes, or of the TOML text of a value of another type. Returns
 * 1, or 0 (out untouched) for an empty string, which has no fingerprint.
 */
int cfg_item_fingerprint(const struct cfg_item *it, char *out, size_t outlen);

/* A TOML value as JSON (strings that are not UTF-8 in TOML notation);
 * a new reference. */
json_t *cfg_value_json(const struct toml_value *v);

/* "client"/"server"; "default"/"file"/"profile"/"clamped"/"option"/
 * "invalid"/"mdns-default". Static strings. */
const char *cfg_role_name(enum cfg_role role);
const char *cfg_source_name(enum cfg_source src);

#endif
