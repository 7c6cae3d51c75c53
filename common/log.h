/* SPDX-License-Identifier: MIT */
/*
 * log.h — levelled logging to stderr or a file, each line prefixed with an
 * ISO-8601 UTC timestamp and the level. Secrets never reach a log: callers
 * pass keys through log_redact() (a short fingerprint) instead.
 */
#ifndef MDNS_LOG_H
#define MDNS_LOG_H

#include <stddef.h>

#include "common/util.h"

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
	LOG_TRACE = 4,
};

/* Set the threshold (messages above it are dropped). Default LOG_WARN. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "ERROR", "WARN", "INFO", "DEBUG", "TRACE" (static string). */
const char *log_level_name(enum log_level level);
/*
 * Parse a level name, any case ("warning" too), for configuration and
 * command lines. Returns 0, or -1 with e set ("bad log level: ...").
 */
int log_level_parse(const char *s, enum log_level *out, struct err *e);
/* Log to path (appending), or to stderr when path is NULL. 0 / -1. */
int log_open(const char *path, struct err *e);
/* Close a log file opened by log_open; logging goes to stderr again. */
void log_close(void);

/*
 * One line "TIME LEVEL message" to the log when level is at or above the
 * threshold; never to stdout. Secrets must go through log_redact first.
 */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * The printable stand-in for a secret: "sha256:" plus the first 8 hex
 * digits of SHA-256(secret), written into out (at least 16 bytes).
 * Used by logs, the store and reports alike.
 */
void log_redact(const char *secret, size_t len, char *out, size_t outlen);

#endif
