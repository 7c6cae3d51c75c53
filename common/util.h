/* SPDX-License-Identifier: MIT */
/*
 * util.h — small building blocks every module uses: allocation wrappers that
 * abort on failure, the caller-supplied error buffer, monotonic and wall
 * clocks, hex and string helpers.
 *
 * Error convention across mdns-doctor: functions return 0 on success and -1
 * on failure with a one-line message written into a caller-supplied
 * struct err (which may be NULL when the caller does not care).
 */
#ifndef MDNS_UTIL_H
#define MDNS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Monitoring-plugin exit codes, used everywhere a verdict becomes a status. */
enum {
	EXIT_OK = 0,
	EXIT_WARNING = 1,
	EXIT_CRITICAL = 2,
	EXIT_UNKNOWN = 3,
};

#define ERR_MSG_MAX 512

/* A one-line error message; empty string means "no error recorded". */
struct err {
	char msg[ERR_MSG_MAX];
};

/* Format a message into e (if e is not NULL); always returns -1. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix an existing message: "prefix: old message"; returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocation: abort with a message on failure, never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* asprintf that aborts on failure; returns a malloc'd string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Clocks. Monotonic for intervals and timers, wall for records (UTC ms). */
uint64_t now_mono_us(void);
uint64_t now_mono_ms(void);
int64_t now_wall_ms(void);
/* Format wall milliseconds as ISO-8601 UTC with milliseconds into buf. */
void fmt_iso8601_ms(int64_t wall_ms, char *buf, size_t len);

/* Hex: encode n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/*
 * Decode hex text (upper or lower case, length even) into out of capacity
 * cap. Returns the number of bytes written or -1 on bad input or overflow.
 */
long hex_decode(const char *in, size_t inlen, uint8_t *out, size_t cap);
/* Value 0..15 of one hex digit (either case), or -1. */
int hex_digit(int c);

/*
 * Parse a decimal integer in [min, max] from the whole string s. Returns 0
 * or -1 (with e set) when it is not a number, has trailing junk or is out
 * of range.
 */
int parse_int(
    const char *s, long long min, long long max, long long *out, struct err *e);

/*
 * Printable, bounded copy of untrusted text for messages: non-printable
 * bytes become '?', text longer than outlen - 4 is cut and ends in "...".
 * in and out may be the same buffer.
 */
void str_printable(const char *in, char *out, size_t outlen);

/* FNV-1a (64-bit) of a NUL-terminated string: the string hash for the
 * table of common/hmap.h. */
uint64_t str_hash(const char *s);

/*
 * Drop repeated strings from v[0 .. *n) in place: the first of each stays,
 * in order, the others are freed and *n shrinks. Linear time (hash set).
 */
void str_dedupe(char **v, size_t *n);

/* Strip leading and trailing ASCII white space in place; returns s. */
char *str_trim(char *s);

/* Write all n bytes to a blocking fd, retrying on EINTR and short
 * writes. 0, or -1 with errno set. */
int fd_write_all(int fd, const void *p, size_t n);

/* Big-endian load/store helpers for wire formats. */
static inline uint16_t
be16_load(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t
be32_load(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}
static inline void
be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void
be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
