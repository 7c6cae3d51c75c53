/* SPDX-License-Identifier: MIT */
/*
 * util.c — allocation wrappers, error buffers, clocks, hex and integer
 * parsing. Nothing here does I/O except the abort message on allocation
 * failure.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hmap.h"
#include "common/util.h"

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char buf[ERR_MSG_MAX];
	va_list ap;
	size_t n;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	n = strlen(buf);
	if (n + 2 < sizeof buf) {
		memcpy(buf + n, ": ", 2);
		n += 2;
		memcpy(
		    buf + n, e->msg, MIN(strlen(e->msg), sizeof buf - n - 1));
		buf[MIN(n + strlen(e->msg), sizeof buf - 1)] = '\0';
	}
	memcpy(e->msg, buf, sizeof e->msg);
	return -1;
}

static void
oom(size_t n)
{
	fprintf(stderr, "mdns-doctor: out of memory (%zu bytes)\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom(strlen(s));
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom(n);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom(0);
	return p;
}

uint64_t
now_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
now_mono_ms(void)
{
	return now_mono_us() / 1000u;
}

int64_t
now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fmt_iso8601_ms(int64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(wall_ms % 1000));
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
hex_decode(const char *in, size_t inlen, uint8_t *out, size_t cap)
{
	size_t i;

	if (inlen % 2 != 0 || inlen / 2 > cap)
		return -1;
	for (i = 0; i < inlen / 2; i++) {
		int hi = hex_digit((unsigned char)in[2 * i]);
		int lo = hex_digit((unsigned char)in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(inlen / 2);
}

int
parse_int(
    const char *s, long long min, long long max, long long *out, struct err *e)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return err_set(e, "empty number");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return err_set(e, "number out of range: %s", s);
	if (*end != '\0' || end == s)
		return err_set(e, "not a number: %s", s);
	if (v < min || v > max)
		return err_set(e, "%lld is outside %lld..%lld", v, min, max);
	*out = v;
	return 0;
}

void
str_printable(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 4 < outlen; i++)
		out[i] = isprint((unsigned char)in[i]) ? in[i] : '?';
	if (in[i] != '\0' && i >= 3)
		memcpy(out + i - 3, "...", 3);
	out[i] = '\0';
}

uint64_t
str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void
str_dedupe(char **v, size_t *n)
{
	struct hmap_strset seen = {0};
	size_t i, kept = 0;

	for (i = 0; i < *n; i++) {
		if (hmap_strset_add(&seen, v[i]))
			v[kept++] = v[i];
		else
			free(v[i]);
	}
	hmap_strset_free(&seen);
	*n = kept;
}

char *
str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int
fd_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}
