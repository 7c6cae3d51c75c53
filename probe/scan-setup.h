/* SPDX-License-Identifier: MIT */
/*
 * scan-setup.h — turn what a user gives the probe commands (a MasterDnsVPN
 * client_config.toml, and/or --domain, --key-file, --method, ranges) into
 * struct scan_opts. Shared by `scan`, `mtu` and `handshake`.
 *
 * Precedence: command-line values over the config file over the upstream
 * client defaults. The key is read from the config (ENCRYPTION_KEY) or a
 * key file (first line, blanks trimmed); it stays in the setup's memory,
 * is borrowed by the scan_opts and is never written anywhere but the
 * cipher. key_fp gives its fingerprint for messages.
 */
#ifndef MDNS_SCAN_SETUP_H
#define MDNS_SCAN_SETUP_H

#include "probe/scan.h"

struct scan_setup {
	const char *config;		       /* client_config.toml or NULL */
	const char *key_file;		       /* or NULL */
	int method;			       /* -1: from config / default 1 */
	const char *domains[SCAN_MAX_DOMAINS]; /* --domain, may be 0 */
	size_t ndomains;
	/* --up-mtu, --down-mtu, --mtu-timeout-ms, --mtu-tries: 0 = not
	 * given (the config's or the default then) */
	int min_up, max_up, min_down, max_down;
	int mtu_timeout_ms, mtu_tries;
	/* results, owned by the setup (scan_setup_free) */
	char *key;
	char key_fp[24];
	char *dom_store[SCAN_MAX_DOMAINS];
	char *resolvers_path; /* list next to the config, or NULL */
};

/*
 * Fill o (already holding scan_opts_defaults and the command's own
 * options) from the config file, then the setup's command-line values
 * over it. Returns 0, or
 * -1 with e set ("FILE:LINE: ...", "cannot read key file F: ...",
 * "no tunnel domain: give --domain or --config").
 */
int scan_setup_apply(struct scan_setup *su, struct scan_opts *o, struct err *e);
void scan_setup_free(struct scan_setup *su);

/*
 * Run a scan over explicit addresses to the end on a private event loop
 * (for `mtu` and `handshake`): o's callbacks see the results and trace
 * lines; o->on_done is chained. Returns 0, or -1 with e set.
 */
int scan_run_blocking(
    struct scan_opts *o, const union net_addr *addrs, size_t n, struct err *e);

/* Read a key file: first non-empty line, trimmed. malloc'd or NULL. */
char *scan_read_key_file(const char *path, struct err *e);

#endif
