/* SPDX-License-Identifier: MIT */
/*
 * config-int.h — what the two halves of the configuration model share
 * (not a public header): config.c loads files, keeps the item list and
 * the messages; config-keys.c holds the key tables and turns values into
 * the typed role structs.
 */
#ifndef MDNS_CONFIG_INT_H
#define MDNS_CONFIG_INT_H

#include "common/config.h"
#include "common/hmap.h"

/* One listed key (see struct cfg_item). */
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
	struct toml_doc *defaults; /* listed defaults, from the key table */
	struct toml_doc *extra;	   /* known keys listed only when written */
	struct toml_doc *file;
	struct toml_doc *prof;
	char *defaults_text, *extra_text;
	struct item *items;
	size_t nitems, items_cap;
	struct hmap index; /* key -> index into items (common/hmap) */
	char **warnings;
	size_t nwarnings;
	char **errors;
	size_t nerrors;
	char **error_keys; /* the key of errors[i], NULL for none */
	size_t nerror_keys;
};

/* config.c */

/* The value key has for c: listed item (profile > file > default), else
 * an unlisted known key's default; NULL for a key of no table. */
const struct toml_value *cfg_value(const struct cfg *c, const char *key);
/* How the value of key came in (default when not listed). */
enum cfg_source cfg_given_source(const struct cfg *c, const char *key);
/* "WHERE: KEY: message" onto the problems, warnings; a note on the key. */
void cfg_problem(struct cfg *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_warning(struct cfg *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_note(struct cfg *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A message without a key (resolver lists) onto the warnings/problems. */
void cfg_push_warning(struct cfg *c, const char *msg);
void cfg_push_problem(struct cfg *c, const char *msg);

/* config-keys.c */

/* Whether key is in role's table; its type-giving default then. */
int cfg_key_known(enum cfg_role role, const char *key);
/* A secret key of the table (ENCRYPTION_KEY, SOCKS5_PASS). */
int cfg_key_secret(enum cfg_role role, const char *key);
/* A list key that also takes a lone string (MDNS_EXPECTED_EXIT_IP). */
int cfg_key_single(enum cfg_role role, const char *key);
/*
 * Upstream's default of key as a TOML literal when ours differs
 * (DATA_ENCRYPTION_METHOD: "1"), else NULL: an absent key then has the
 * source CFG_SRC_MDNS_DEFAULT and a note saying why.
 */
const char *cfg_key_upstream_default(enum cfg_role role, const char *key);
/*
 * The table's defaults as TOML text: listed (extra = 0: upstream's
 * default struct) or known-but-unlisted keys (extra = 1: legacy keys,
 * the sample's CONFIG_VERSION, our MDNS_* keys). malloc'd.
 */
char *cfg_keys_defaults_text(enum cfg_role role, int extra);
/* Fill c's role struct from its values, rule by rule (upstream order),
 * noting every change and collecting problems. */
void cfg_keys_fill(struct cfg *c, const struct cfg_opts *opts);

#endif
