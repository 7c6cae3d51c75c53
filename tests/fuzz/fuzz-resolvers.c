/* SPDX-License-Identifier: MIT */
/*
 * fuzz-resolvers.c — libFuzzer target for the resolver list reader over a
 * memory buffer, lenient and strict: every returned address has a port,
 * counters stay consistent, nothing crashes or leaks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/resolvers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int strict;

	for (strict = 0; strict <= 1; strict++) {
		/* A small cap keeps big prefixes from eating the run. */
		struct rl_opts o = {.strict = strict,
		    .on_error = ignore,
		    .on_warning = ignore,
		    .prefix_cap = 64};
		struct rl_reader *r;
		union net_addr a;
		struct err e;
		const struct rl_stats *st;
		int rc;

		rl_open_mem("fuzz.txt", (const char *)data, size, &o, &r, &e);
		while ((rc = rl_next(r, &a, &e)) == 1) {
			if ((a.sa.sa_family == AF_INET && a.in.sin_port == 0) ||
			    (a.sa.sa_family == AF_INET6 &&
				a.in6.sin6_port == 0) ||
			    (a.sa.sa_family != AF_INET &&
				a.sa.sa_family != AF_INET6))
				abort();
		}
		st = rl_stats(r);
		if (st->bad_lines > st->entries || st->entries > st->lines)
			abort();
		if (rc == -1 && !strict)
			abort();
		rl_close(r);
	}
	return 0;
}
