/* SPDX-License-Identifier: MIT */
/*
 * toml.h — a reader for the TOML subset MasterDnsVPN configuration files
 * use: flat "KEY = value" lines with strings, integers, floats, booleans
 * and arrays, "#" comments and blank lines. "[table]" headers are tolerated
 * (their keys read as "table.KEY"). Keys keep file order.
 *
 * Not supported (each gives a clear error): multi-line strings, inline
 * tables, arrays of tables, dates and times, quoted keys. See
 * docs/config.md for the exact grammar.
 *
 * Errors read "NAME:LINE:COL: reason" where NAME is the file name given,
 * LINE and COL count from 1 (COL in bytes).
 */
#ifndef MDNS_TOML_H
#define MDNS_TOML_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

enum toml_type {
	TOML_STRING,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_ARRAY,
};

/*
 * One value. Only the member matching type is meaningful, except that an
 * integer also fills dbl (so a float setting may be written "2").
 * Strings are NUL-terminated and never contain a NUL byte.
 */
struct toml_value {
	enum toml_type type;
	int line; /* where the value starts, from 1 */
	int col;
	int64_t i64;
	double dbl;
	int boolean;
	char *str;
	size_t len;		  /* strlen(str) */
	struct toml_value *items; /* TOML_ARRAY */
	size_t nitems;
};

/* A key with its value, in file order. */
struct toml_entry {
	const char *key;
	struct toml_value value;
	int line; /* where the key starts */
	int col;
};

struct toml_doc;

/*
 * Parse len bytes of buf; name is used in error messages (usually the
 * path). On success *out is a new document the caller frees with
 * toml_free(). Returns 0, or -1 with e set to "NAME:LINE:COL: reason".
 */
int toml_parse_buf(const char *name, const char *buf, size_t len,
    struct toml_doc **out, struct err *e);
/* Read and parse a file (at most 16 MiB). 0 / -1 as toml_parse_buf. */
int toml_parse_file(const char *path, struct toml_doc **out, struct err *e);
void toml_free(struct toml_doc *doc);

/* The name given at parse time (borrowed). */
const char *toml_name(const struct toml_doc *doc);
/* Number of keys, and the i-th entry in file order (borrowed). */
size_t toml_count(const struct toml_doc *doc);
const struct toml_entry *toml_entry_at(const struct toml_doc *doc, size_t i);
/* The entry or value for key (exact, case-sensitive), or NULL. */
const struct toml_entry *toml_find(const struct toml_doc *doc, const char *key);
const struct toml_value *toml_get(const struct toml_doc *doc, const char *key);

/*
 * Whether a key's name says it holds a secret: it contains KEY, PASS,
 * SECRET or TOKEN (any case) and does not end in _FILE or _PATH. The
 * parser never quotes such a key's value in an error message; the config
 * layer shows such unknown keys only as fingerprints.
 */
int toml_key_looks_secret(const char *key);

/* "string", "integer", "float", "boolean", "array". */
const char *toml_type_name(enum toml_type type);
/*
 * The value written back as a TOML literal ("abc" with escapes, 12, 2.5,
 * true, [1, 2]); a malloc'd string the caller frees.
 */
char *toml_value_format(const struct toml_value *v);
/*
 * Append s as a TOML basic string literal (quotes and escapes included)
 * to the malloc'd string *buf of length *len (both updated).
 */
void toml_quote(const char *s, char **buf, size_t *len);

/*
 * Typed lookups for config readers. Each leaves *out unchanged and returns
 * 0 when the key is absent; returns 0 after storing the value when it has
 * the right type (and, for numbers, lies in [lo, hi]); else -1 with e set
 * to "FILE:LINE: KEY must be ..." / "KEY out of range (lo..hi)".
 * toml_get_str replaces *out (freeing the old string) with a malloc'd copy.
 */
int toml_get_num(const struct toml_doc *doc, const char *key, double lo,
    double hi, double *out, struct err *e);
int toml_get_uint(const struct toml_doc *doc, const char *key, double lo,
    double hi, unsigned *out, struct err *e);
int toml_get_int(const struct toml_doc *doc, const char *key, double lo,
    double hi, int *out, struct err *e);
int toml_get_bool(
    const struct toml_doc *doc, const char *key, int *out, struct err *e);
int toml_get_str(
    const struct toml_doc *doc, const char *key, char **out, struct err *e);

#endif
