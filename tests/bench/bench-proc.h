/* SPDX-License-Identifier: MIT */
/*
 * bench-proc.h — what the end-to-end benchmarks share (header only, like
 * tests/tap.h): a monotonic clock in seconds, a free loopback port, a
 * child process started with its stdout on a pipe (waiting for a line
 * that says it is ready), and stopping it.
 */
#ifndef MDNS_BENCH_PROC_H
#define MDNS_BENCH_PROC_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double
bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A port of type (SOCK_DGRAM, SOCK_STREAM) free on 127.0.0.1 now. */
static inline uint16_t
bench_free_port(int type)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, type, 0);
	uint16_t p;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

/*
 * Start argv with stdout to a pipe (stderr to /dev/null) and wait for a
 * line starting with want (NULL: do not wait); the line goes to got
 * (may be NULL). The pipe stays open so the child never gets SIGPIPE.
 * Returns the pid, or -1 (the child killed) when it never said want.
 */
static inline pid_t
bench_spawn(char *const argv[], const char *want, char *got, size_t gotlen)
{
	int pfd[2];
	pid_t pid;
	FILE *f;
	char line[256];

	if (pipe(pfd) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	if (want == NULL) {
		close(pfd[0]);
		return pid;
	}
	f = fdopen(pfd[0], "r");
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, want, strlen(want)) == 0) {
			if (got != NULL && gotlen > 0) {
				size_t k = strnlen(line, gotlen - 1);

				memcpy(got, line, k);
				got[k] = '\0';
			}
			return pid;
		}
	fclose(f);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static inline void
bench_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* CPU seconds (user + system) process pid has used so far; 0 unknown. */
static inline double
bench_cpu_s(pid_t pid)
{
	char p[64], buf[1024], *s;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) == NULL ||
	    (s = strrchr(buf, ')')) == NULL ||
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		&ut, &st) != 2)
		ut = st = 0;
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* qsort comparison of doubles, ascending (for medians). */
static inline int
bench_cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
