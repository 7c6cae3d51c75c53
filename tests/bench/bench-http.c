/* SPDX-License-Identifier: MIT */
/*
 * bench-http — how fast the local "internet" moves bytes on loopback.
 * Starts build/tools/http-fixture (found next to this binary's directory,
 * or at $HTTP_FIXTURE), then over one keep-alive connection times five
 * 10 MiB downloads (a new seed each time, so the fixture's SHA-256 pass is
 * included) and five 10 MiB uploads, and prints the medians in ms and MB/s.
 * A benchmark prints numbers; it asserts nothing except that the transfers
 * completed.
 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"

#define SIZE (10u << 20)
#define RUNS 5

/* Read one response; returns the body length or -1. */
static long long
read_response(int fd)
{
	static char buf[1 << 16];
	size_t have = 0;
	char *end, *cl;
	long long len, got;
	ssize_t k;

	for (;;) {
		k = read(fd, buf + have, sizeof buf - 1 - have);
		if (k <= 0)
			return -1;
		have += (size_t)k;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl == NULL)
		return -1;
	len = strtoll(cl + 17, NULL, 10);
	got = (long long)(have - (size_t)(end + 4 - buf));
	while (got < len) {
		k = read(
		    fd, buf, (size_t)MIN((long long)sizeof buf, len - got));
		if (k <= 0)
			return -1;
		got += k;
	}
	return len;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, uint64_t *us)
{
	uint64_t med;

	qsort(us, RUNS, sizeof us[0], cmp_u64);
	med = us[RUNS / 2];
	printf("http-fixture %s 10 MiB: median %.1f ms, %.0f MB/s "
	       "(min %.1f ms, max %.1f ms, %d runs)\n",
	    what, med / 1000.0, SIZE / (double)med, us[0] / 1000.0,
	    us[RUNS - 1] / 1000.0, RUNS);
}

int
main(int argc, char **argv)
{
	union net_addr a;
	struct err e = {""};
	uint64_t down[RUNS], up[RUNS], t0;
	char *self, *path, line[64], req[256];
	int pfd[2], fd, i, status;
	long long port;
	char *body;
	pid_t pid;
	FILE *f;

	(void)argc;
	self = xstrdup(argv[0]);
	path = getenv("HTTP_FIXTURE") ?
	    xstrdup(getenv("HTTP_FIXTURE")) :
	    xasprintf("%s/../tools/http-fixture", dirname(self));
	if (pipe(pfd) < 0 || (pid = fork()) < 0) {
		perror("bench-http");
		return 1;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(path, path, "--port", "0", (char *)NULL);
		fprintf(stderr, "bench-http: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (f == NULL || fgets(line, sizeof line, f) == NULL ||
	    strncmp(line, "port=", 5) != 0 ||
	    parse_int(str_trim(line + 5), 1, 65535, &port, &e) < 0) {
		fprintf(stderr, "bench-http: fixture did not start\n");
		kill(pid, SIGTERM);
		return 1;
	}
	net_addr_parse("127.0.0.1", (uint16_t)port, &a, &e);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, &a.sa, net_addr_len(&a)) < 0) {
		perror("bench-http: connect");
		kill(pid, SIGTERM);
		return 1;
	}
	body = xcalloc(1, SIZE);
	for (i = 0; i < RUNS; i++) {
		int n = snprintf(req, sizeof req,
		    "GET /bytes/%u?seed=%d "
		    "HTTP/1.1\r\nHost: bench\r\n\r\n",
		    SIZE, 1000 + i);

		t0 = now_mono_us();
		if (fd_write_all(fd, req, (size_t)n) < 0 ||
		    read_response(fd) != SIZE) {
			fprintf(stderr, "bench-http: download failed\n");
			kill(pid, SIGTERM);
			return 1;
		}
		down[i] = now_mono_us() - t0;
	}
	for (i = 0; i < RUNS; i++) {
		int n = snprintf(req, sizeof req,
		    "POST /upload HTTP/1.1\r\n"
		    "Host: bench\r\nContent-Length: %u\r\n\r\n",
		    SIZE);

		t0 = now_mono_us();
		if (fd_write_all(fd, req, (size_t)n) < 0 ||
		    fd_write_all(fd, body, SIZE) < 0 ||
		    read_response(fd) <= 0) {
			fprintf(stderr, "bench-http: upload failed\n");
			kill(pid, SIGTERM);
			return 1;
		}
		up[i] = now_mono_us() - t0;
	}
	report("download", down);
	report("upload", up);
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	free(body);
	free(path);
	free(self);
	return 0;
}
