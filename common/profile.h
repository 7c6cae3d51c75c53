/* SPDX-License-Identifier: MIT */
/*
 * profile.h — the JSON profile mobile clients share (one file describing a
 * tunnel):
 *
 *	{ "version": 1, "name": "home", "protocol": "masterdns",
 *	  "domain": "t.example.com"  (or "domains": [...]),
 *	  "resolvers": [{"type": "udp", "address": "203.0.113.10:53"}],
 *	  "expectedExitIP": "198.51.100.7",
 *	  "masterdns": { "encryptionMethod": 2 (or "encryptionLevel":
 *	      "chacha20"), "key": "..." (or "keyFile": "key.txt"),
 *	      "fecLevel": "balanced", "fecDirection": "download" } }
 *
 * Errors read "FILE: reason", or "FILE:LINE:COL: reason" for JSON syntax
 * errors. docs/config.md lists every field and decision.
 */
#ifndef MDNS_PROFILE_H
#define MDNS_PROFILE_H

#include <stddef.h>

#include "common/net.h"
#include "common/util.h"

enum prof_fec_dir {
	PROF_FEC_DOWNLOAD = 0,
	PROF_FEC_UPLOAD,
	PROF_FEC_BOTH,
};

/* Forward error correction settings (the arianizadi fork's presets). */
struct prof_fec {
	int enabled;
	int group;	  /* data packets per group: 8, 12, 16 */
	int overhead_pct; /* repair overhead: 15, 25, 40 */
	int flush_ms;	  /* flush timeout: 25, 20, 15 */
	enum prof_fec_dir direction;
	const char *level; /* "none", "conservative", ... (static) */
};

struct prof_resolver {
	char *type;	     /* "udp" */
	char *address;	     /* as written */
	union net_addr addr; /* parsed, port 53 when absent */
};

struct profile {
	char *path;	/* file name given (or buffer name) */
	long version;	/* 0 when absent */
	char *name;	/* NULL when absent */
	char *protocol; /* "masterdns" */
	char **domains; /* normalised: lower case, no final dot */
	size_t ndomains;
	struct prof_resolver *resolvers;
	size_t nresolvers;
	char *expected_exit_ip; /* NULL when absent */
	int method;		/* enum method (common/method.h), -1: absent */
	char *key;		/* key text, NULL when absent (secret!) */
	char *key_file;		/* as written, NULL when absent */
	struct prof_fec fec;	/* disabled when absent */
};

/*
 * Read a profile file. A "keyFile" is read (relative to the profile's
 * directory, surrounding white space trimmed) into key. On success *out
 * is a new profile freed with prof_free. Returns 0, or -1 with e set.
 */
int prof_load_file(const char *path, struct profile **out, struct err *e);
/*
 * The same from len bytes of buf named name; a keyFile is recorded but
 * not read (key stays NULL).
 */
int prof_load_buf(const char *name, const char *buf, size_t len,
    struct profile **out, struct err *e);
void prof_free(struct profile *p);

/*
 * Fill fec from a level name ("none", "conservative", "balanced",
 * "aggressive"). Returns 0, or -1 for an unknown level.
 */
int prof_fec_from_level(const char *level, struct prof_fec *fec);
const char *prof_fec_dir_name(enum prof_fec_dir d);

/*
 * Check and normalise a tunnel domain in place (lower case, final dot
 * removed): one or more labels of 1..63 letters, digits, '-' or '_',
 * at most 253 characters in all. Returns 0, or -1 with e set.
 */
int prof_domain_normalize(char *domain, struct err *e);

#endif
