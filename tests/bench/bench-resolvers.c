/* SPDX-License-Identifier: MIT */
/*
 * bench-resolvers.c — resolver list streaming speed: a generated
 * 1,000,000-line list (distinct IPv4, some with ports, comments, repeats)
 * and 64 /16 prefixes (4.2 M hosts after the cap), counted by rl_count.
 * Prints the median of 3 runs in lines/s and addresses/s, and the peak
 * RSS. Not part of the test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/resolvers.h"

#define RUNS 3

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
run(const char *label, const char *path, uint64_t lines)
{
	double t[RUNS];
	uint64_t count = 0;
	struct rl_stats st;
	struct err e;
	int i;

	for (i = 0; i < RUNS; i++) {
		uint64_t t0 = now_mono_us();

		if (rl_count(path, NULL, &count, &st, &e) == -1) {
			fprintf(stderr, "%s\n", e.msg);
			return -1;
		}
		t[i] = (double)(now_mono_us() - t0) / 1e6;
	}
	qsort(t, RUNS, sizeof t[0], cmp_dbl);
	printf("%-28s %8.3f s  %10.0f lines/s  %10.0f addresses/s  "
	       "(%llu addresses)\n",
	    label, t[RUNS / 2], (double)lines / t[RUNS / 2],
	    (double)count / t[RUNS / 2], (unsigned long long)count);
	return 0;
}

int
main(void)
{
	const char *td = getenv("TMPDIR");
	char p1[256], p2[256];
	int fd1, fd2, rc = 0;
	FILE *f1, *f2;
	struct rusage ru;
	long i;

	snprintf(p1, sizeof p1, "%s/bench-resolvers-XXXXXX",
	    td && *td ? td : "/tmp");
	memcpy(p2, p1, sizeof p2);
	fd1 = mkstemp(p1);
	fd2 = mkstemp(p2);
	f1 = fd1 >= 0 ? fdopen(fd1, "w") : NULL;
	f2 = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
	if (f1 == NULL || f2 == NULL) {
		perror("mkstemp");
		return 1;
	}
	for (i = 0; i < 1000000; i++) {
		uint32_t v = 0x0a000000u + (uint32_t)i;

		if (i % 100 == 99)
			fprintf(f1, "# comment\n");
		else if (i % 3 == 0)
			fprintf(f1, "%u.%u.%u.%u:5353\n", v >> 24,
			    (v >> 16) & 255, (v >> 8) & 255, v & 255);
		else
			fprintf(f1, "%u.%u.%u.%u\n", v >> 24, (v >> 16) & 255,
			    (v >> 8) & 255, v & 255);
	}
	for (i = 0; i < 64; i++)
		fprintf(f2, "100.%ld.0.0/16\n", 64 + i);
	fclose(f1);
	fclose(f2);
	if (run("1M lines, single addresses", p1, 1000000) == -1 ||
	    run("64 x /16 prefixes", p2, 64) == -1)
		rc = 1;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %ld MiB\n", ru.ru_maxrss / 1024);
	unlink(p1);
	unlink(p2);
	return rc;
}
