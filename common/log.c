/* SPDX-License-Identifier: MIT */
/*
 * log.c — the process-wide log behind log.h: a level threshold and one
 * destination (stderr, or a file opened for appending). Each message
 * becomes exactly one line, "2026-11-21T23:59:59.123Z LEVEL message",
 * written with a single write(2) so lines from several processes appending
 * to the same file do not interleave. Control characters in messages are
 * escaped, so a hostile DNS name cannot forge extra log lines.
 *
 * It also computes the secret fingerprint (log_redact) shared by logs, the
 * store and reports. It is not thread-safe (mdns-doctor is single-threaded
 * around its event loop) and never writes to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/path.h"

/* Longest message kept; longer ones are cut and end in "...". */
#define LOG_MSG_MAX 4096

static enum log_level log_level = LOG_WARN;
static int log_fd = -1; /* -1: stderr */

static const char *const level_names[] = {
    [LOG_ERROR] = "ERROR",
    [LOG_WARN] = "WARN",
    [LOG_INFO] = "INFO",
    [LOG_DEBUG] = "DEBUG",
    [LOG_TRACE] = "TRACE",
};

void
log_set_level(enum log_level level)
{
	if (level > LOG_TRACE)
		level = LOG_TRACE;
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level >= nitems(level_names))
		return "?";
	return level_names[level];
}

int
log_level_parse(const char *s, enum log_level *out, struct err *e)
{
	size_t i;

	for (i = 0; i < nitems(level_names); i++)
		if (s != NULL && strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (s != NULL && strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return err_set(e,
	    "bad log level: %s (want error, warn, info, debug "
	    "or trace)",
	    s ? s : "(null)");
}

int
log_open(const char *path, struct err *e)
{
	struct err sub = {""};
	int fd;

	if (path == NULL) {
		log_close();
		return 0;
	}
	/* 0600, and never a file or link another user planted (path.h). */
	if ((fd = path_open_write(path, PATH_W_APPEND, &sub)) == -1)
		return err_set(e, "open log %s", sub.msg);
	log_close();
	log_fd = fd;
	return 0;
}

void
log_close(void)
{
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
}

/*
 * Append c to buf at *n, escaping control bytes; keeps room for "...\n".
 * Returns -1 (appending nothing) when c does not fit.
 */
static int
put_escaped(char *buf, size_t *n, size_t cap, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[4];
	size_t k = 0;

	if (c == '\n') {
		tmp[k++] = '\\';
		tmp[k++] = 'n';
	} else if (c == '\r') {
		tmp[k++] = '\\';
		tmp[k++] = 'r';
	} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
		tmp[k++] = '\\';
		tmp[k++] = 'x';
		tmp[k++] = hex[c >> 4];
		tmp[k++] = hex[c & 15];
	} else
		tmp[k++] = (char)c;
	if (*n + k + 4 >= cap)
		return -1;
	memcpy(buf + *n, tmp, k);
	*n += k;
	return 0;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX], line[LOG_MSG_MAX + 128], ts[40];
	va_list ap;
	size_t n, i, mlen;
	ssize_t w;
	int r, fd;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	mlen = strlen(msg);
	fmt_iso8601_ms(now_wall_ms(), ts, sizeof ts);
	n = (size_t)snprintf(
	    line, sizeof line, "%s %s ", ts, log_level_name(level));
	for (i = 0; i < mlen; i++)
		if (put_escaped(line, &n, sizeof line, (unsigned char)msg[i]) ==
		    -1)
			break;
	if ((size_t)r >= sizeof msg || i < mlen) {
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n++] = '\n';

	fd = log_fd == -1 ? STDERR_FILENO : log_fd;
	for (i = 0; i < n; i += (size_t)w) {
		w = write(fd, line + i, n - i);
		if (w == -1 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0)
			return; /* nowhere left to report it */
	}
}

void
log_redact(const char *secret, size_t len, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (outlen == 0)
		return;
	if (EVP_Digest(secret, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 4) {
		snprintf(out, outlen, "sha256:????????");
		return;
	}
	hex_encode(md, 4, hex);
	snprintf(out, outlen, "sha256:%s", hex);
}
