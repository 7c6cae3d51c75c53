/* SPDX-License-Identifier: MIT */
/*
 * tap.h — a tiny TAP emitter for the unit tests. Header only: each test
 * binary includes it once. tap_done() prints the plan and returns the exit
 * status (0 when every test passed).
 */
#ifndef MDNS_TAP_H
#define MDNS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int __attribute__((format(printf, 2, 0)))
tap_okv(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline int __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_okv(cond, fmt, ap);
	va_end(ap);
	return r;
}

/* Diagnostics go to TAP comments. */
static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define tap_is_int(got, want, ...)                                             \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                            \
			tap_diag("  got %lld, want %lld", g_, w_);             \
	} while (0)

#define tap_is_str(got, want, ...)                                             \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		int eq_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;         \
		if (!tap_ok(eq_, __VA_ARGS__))                                 \
			tap_diag("  got \"%s\", want \"%s\"",                  \
			    g_ ? g_ : "(null)", w_ ? w_ : "(null)");           \
	} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/*
 * Where the team's shared material lives (../shared next to the checkout
 * unless MDNS_SHARED says otherwise).
 */
static inline const char *
tap_shared_dir(void)
{
	const char *s = getenv("MDNS_SHARED");

	return s && *s ? s : "../shared";
}

/*
 * Scratch files go under $TMPDIR: tests/run.sh gives every run a directory
 * of its own there, and a file a test leaves in it fails the run. /tmp
 * when TMPDIR is unset (a binary run by hand).
 */
static inline const char *
tap_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/*
 * "$TMPDIR/name" into buf, name ending in XXXXXX for mkstemp/mkdtemp.
 * Aborts when it does not fit: a cut template would point elsewhere.
 */
static inline char *
tap_tmppath(char *buf, size_t cap, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", tap_tmpdir(), name);

	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "tap_tmppath: %s/%s too long\n", tap_tmpdir(),
		    name);
		abort();
	}
	return buf;
}

#endif
