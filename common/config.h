/*
 * config.h — the effective MasterDnsVPN configuration: a client_config.toml
 * or server_config.toml (role detected from its keys), the upstream
 * defaults for absent keys, the server's encrypt_key.txt, and optionally a
 * JSON profile laid over a client configuration. Wire-relevant settings
 * are typed fields of struct cfg, normalised and clamped the way the
 * upstream Go code does (each change is noted); every key, known or not,
 * is also listed with its value and where it came from.
 *
 * Load errors (syntax, wrong type) fail cfg_load; semantic problems are
 * reported by cfg_validate, so a caller can still show an invalid file.
 * Messages read "FILE:LINE:COL: KEY: reason" when a line is known.
 */
#ifndef MDNS_CONFIG_H
#define MDNS_CONFIG_H

#include <stddef.h>

#include "common/profile.h"
#include "common/toml.h"
#include "common/util.h"

enum cfg_role {
	CFG_CLIENT = 0,
	CFG_SERVER = 1,
};

enum cfg_source {
	CFG_SRC_DEFAULT = 0, /* upstream default, key absent */
	CFG_SRC_FILE,	     /* as written in the config file */
	CFG_SRC_PROFILE,     /* from the JSON profile */
};

/* Length of a key fingerprint "sha256:" + 8 hex digits, with NUL. */
#define CFG_FP_LEN 16

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

/* Server limits sent to clients in SESSION_ACCEPT (server role only). */
struct cfg_policy {
	int max_packet_duplication;
	int max_setup_duplication;
	int max_upload_mtu;
	int max_download_mtu;
	int max_rx_tx_workers;
	double min_ping_aggressive_s;
	int max_packets_per_batch;
	int max_arq_window;
	int max_arq_nack_gap;
	int min_compression_min_size;
	double min_arq_initial_rto_s;
};

struct cfg_private;

struct cfg {
	enum cfg_role role;
	char *path; /* config file as given; NULL: profile only */
	char *dir;  /* its directory ("." when none) */

	char **domains; /* DOMAINS / DOMAIN, normalised */
	size_t ndomains;
	char *protocol;		 /* PROTOCOL_TYPE: "SOCKS5" or "TCP" */
	int method;		 /* DATA_ENCRYPTION_METHOD 0..5 */
	char *key;		 /* key text (SECRET), NULL when unknown */
	char key_fp[CFG_FP_LEN]; /* "sha256:xxxxxxxx", "" when none */
	char *key_path;		 /* server: key file used, else NULL */
	int base_encode;	 /* BASE_ENCODE_DATA: base64 TXT answers */
	int upload_compression;	 /* client type 0..3 */
	int download_compression;
	unsigned upload_compression_mask; /* server: bit per type */
	unsigned download_compression_mask;
	int compression_min_size;
	int min_upload_mtu; /* client MTU search bounds */
	int max_upload_mtu;
	int min_download_mtu;
	int max_download_mtu;
	int mtu_test_retries;
	double mtu_test_timeout_s;
	int mtu_test_parallelism;
	int packet_duplication;
	int setup_packet_duplication;
	int balancing_strategy; /* client 0..8 */
	int max_packets_per_batch;
	struct cfg_arq arq;
	char *listen_ip; /* client LISTEN_IP, server UDP_HOST */
	int listen_port; /* client LISTEN_PORT, server UDP_PORT */
	int socks5_auth;
	char *socks5_user;
	char *socks5_pass;	  /* SECRET */
	int min_vpn_label_length; /* server */
	struct cfg_policy policy; /* server */

	/* From a profile (client). */
	char *profile_path;
	char *expected_exit_ip;
	struct prof_fec fec;
	union net_addr *resolvers; /* profile resolvers, may be empty */
	size_t nresolvers;

	struct cfg_private *priv;
};

/* One key of the effective configuration. */
struct cfg_item {
	const char *key;
	const struct toml_value *value; /* as written or default */
	enum cfg_source source;
	const char *origin; /* file the value came from, NULL: default */
	int line;	    /* 0 when not from a file */
	int known;	    /* read by upstream for this role */
	int secret;	    /* never print value: cfg_item_fingerprint;
				 * known secrets and unknown keys named like
				 * one (*KEY*, *PASS*, *SECRET*, *TOKEN*) */
	const char *note;   /* "clamped to 10 (upstream range 1..10)" */
};

struct cfg_opts {
	int role;	      /* -1 = detect from the keys */
	const char *key_file; /* server: key file instead of the config's */
};

/*
 * Load path (may be NULL when prof is given: a client from defaults and
 * the profile) and lay prof (may be NULL) over it. opts may be NULL.
 * On success *out is freed with cfg_free. Returns 0, or -1 with e set
 * for unreadable files, syntax errors, wrong value types or an
 * undecidable role.
 */
int cfg_load(const char *path, const struct profile *prof,
    const struct cfg_opts *opts, struct cfg **out, struct err *e);
void cfg_free(struct cfg *c);

/*
 * Check the loaded configuration the way the upstream client/server
 * would refuse to start (and a little more: key lengths, domains).
 * Returns 0, or -1 with the first problem in e.
 */
int cfg_validate(const struct cfg *c, struct err *e);

/* Keys in display order: file order, then defaults, then profile. */
size_t cfg_item_count(const struct cfg *c);
void cfg_item_at(const struct cfg *c, size_t i, struct cfg_item *out);

/* Every problem cfg_validate would report, in file order of checks. */
size_t cfg_error_count(const struct cfg *c);
const char *cfg_error_at(const struct cfg *c, size_t i);

/* Warnings found while loading ("FILE:LINE: unknown key X (ignored)"). */
size_t cfg_warning_count(const struct cfg *c);
const char *cfg_warning_at(const struct cfg *c, size_t i);

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

/* "client"/"server" and "default"/"file"/"profile"; static strings. */
const char *cfg_role_name(enum cfg_role role);
const char *cfg_source_name(enum cfg_source src);

#endif
