/* SPDX-License-Identifier: MIT */
/*
 * method.h — the DATA_ENCRYPTION_METHOD numbers MasterDnsVPN uses, their
 * names (the names JSON profiles write, shown everywhere a method is
 * printed), the key length the upstream server generates for each, and
 * what each method leaves open (the security finding every command that
 * knows a method reports: config check, serve, connect, scan, report,
 * check; docs/security.md "Encryption methods"). One table shared by the
 * configuration readers (common/config, profile) and the codec
 * (proto/wire-crypto); it knows nothing of ciphers.
 */
#ifndef MDNS_METHOD_H
#define MDNS_METHOD_H

#include <stddef.h>

enum method {
	METHOD_NONE = 0,
	METHOD_XOR = 1,
	METHOD_CHACHA20 = 2,
	METHOD_AES128GCM = 3,
	METHOD_AES192GCM = 4,
	METHOD_AES256GCM = 5,
};

#define METHOD_MAX 5

/*
 * The method our configuration model, serve, connect and scan use when
 * nothing chooses one: AES-256-GCM, the only methods with integrity
 * (3..5) and the longest key. Upstream's default is XOR (1), which gives
 * the key away; a config that does not write DATA_ENCRYPTION_METHOD
 * therefore talks only to peers configured for 5 (docs/config.md).
 */
#define METHOD_DEFAULT		METHOD_AES256GCM
#define METHOD_UPSTREAM_DEFAULT METHOD_XOR

/* "none", "xor", "chacha20", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm"
 * for 0..5; NULL otherwise. */
const char *method_name(int method);
/* The method for a name above (case-insensitive), or -1. */
int method_from_name(const char *name);
/*
 * Characters of the key text the upstream server writes to
 * encrypt_key.txt and insists on for method (internal/security): 16 for
 * AES-128, 24 for AES-192, else 32.
 */
size_t method_key_len(int method);

/*
 * What a method leaves open, as a finding: 0 (none) is CRITICAL, 1 (XOR)
 * and 2 (ChaCha20 without a MAC) are WARNING, 3..5 (AES-GCM) are OK.
 * These are properties of the upstream protocol, not of a deployment:
 * the doctor reports them, it does not refuse them (the peer has to
 * match).
 */
struct method_finding {
	int level;	    /* EXIT_OK, EXIT_WARNING or EXIT_CRITICAL */
	const char *reason; /* one line, no final stop; "" when OK */
	const char *doc;    /* where it is explained: "docs/security.md#..." */
};

/* The finding for method 0..5 (static), or NULL outside. */
const struct method_finding *method_finding(int method);

/*
 * The finding as the one line every command prints, into buf:
 * "WARNING: 1 (xor): REASON (docs/security.md#encryption-methods)";
 * "" for an OK method or one outside 0..5. Returns the level (EXIT_OK
 * for those). Callers put their own prefix in front (a config location,
 * "DATA_ENCRYPTION_METHOD", the command name).
 */
int method_finding_text(int method, char *buf, size_t len);

/* "OK", "WARNING", "CRITICAL" for EXIT_OK/WARNING/CRITICAL; else "UNKNOWN". */
const char *method_level_name(int level);

#endif
