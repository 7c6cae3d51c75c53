/* SPDX-License-Identifier: MIT */
/*
 * bench-farm.c — throughput and memory of the resolver farm at 100,000
 * addresses. Starts build/tools/farm-upstream and build/tools/resolver-farm
 * (--gen good=100000, every query forwarded upstream and relayed back),
 * then blasts TXT queries at random farm addresses from one socket with
 * 256 in flight, counting answered queries per second over 3 s, three
 * times; prints the median against the 20,000 queries/s requirement and
 * the farm's resident memory. A second farm of 100,000 "hijack" addresses
 * (answers made locally, no upstream) shows the farm's own ceiling.
 *
 * Everything runs on loopback; both children are killed at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

#define NADDR	  100000
#define INFLIGHT  256
#define ROUND_US  3000000
#define LOST_US	  500000
#define FARM_BASE 0x7f010000u /* 127.1.0.0 */

struct child {
	pid_t pid;
	int port;
};

/* fork/exec argv with stdout on a pipe; wait for its "port=N" line. */
static int
spawn(char *const argv[], struct child *c)
{
	int p[2];
	char buf[256];
	size_t len = 0;
	ssize_t n;
	char *nl;

	if (pipe(p) == -1)
		return -1;
	if ((c->pid = fork()) == -1)
		return -1;
	if (c->pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		n = read(p[0], buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if ((nl = strstr(buf, "port=")) != NULL &&
		    strchr(nl, '\n') != NULL) {
			c->port = (int)strtol(nl + 5, NULL, 10);
			close(p[0]);
			return 0;
		}
	}
	close(p[0]);
	return -1;
}

static void
stop(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
}

static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *fp;
	long kb = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

static size_t
build_query(uint8_t *b, uint16_t id)
{
	static const uint8_t tail[] = {
	    1, 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 16, 0, 1};
	int n;

	memset(b, 0, 12);
	be16_store(b, id);
	b[2] = 1;
	b[5] = 1;
	n = snprintf((char *)b + 13, 16, "b%05u", id);
	b[12] = (uint8_t)n;
	memcpy(b + 13 + n, tail, sizeof tail);
	return 13 + (size_t)n + sizeof tail;
}

/* Answered queries per second over one round against the farm on port. */
static double
blast(int port, uint64_t *rng, uint64_t *lost_out)
{
	static uint64_t sent_at[65536];
	static uint8_t busy[65536];
	uint8_t q[64], r[2048];
	struct sockaddr_in to;
	int fd, buf = 8 << 20;
	unsigned inflight = 0, id = 0;
	uint64_t start, now, answered = 0, lost = 0, last_sweep;

	memset(busy, 0, sizeof busy);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)port);
	start = last_sweep = now_mono_us();
	for (now = start; now - start < ROUND_US; now = now_mono_us()) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		while (inflight < INFLIGHT) {
			uint32_t a;

			id = (id + 1) & 0xffff;
			if (busy[id])
				continue;
			*rng = *rng * 6364136223846793005ull +
			    1442695040888963407ull;
			a = FARM_BASE + (uint32_t)((*rng >> 33) % NADDR);
			to.sin_addr.s_addr = htonl(a);
			if (sendto(fd, q, build_query(q, (uint16_t)id), 0,
				(struct sockaddr *)&to, sizeof to) == -1)
				break;
			busy[id] = 1;
			sent_at[id] = now;
			inflight++;
		}
		poll(&pfd, 1, 5);
		while ((n = recv(fd, r, sizeof r, 0)) >= 12) {
			uint16_t rid = be16_load(r);

			if (busy[rid]) {
				busy[rid] = 0;
				inflight--;
				answered++;
			}
		}
		if (now - last_sweep > 100000) {
			for (unsigned i = 0; i < 65536; i++)
				if (busy[i] && now - sent_at[i] > LOST_US) {
					busy[i] = 0;
					inflight--;
					lost++;
				}
			last_sweep = now;
		}
	}
	close(fd);
	*lost_out = lost;
	return (double)answered * 1e6 / (double)(now - start);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median3(int port, uint64_t *rng, uint64_t *lost)
{
	double v[3];
	uint64_t l, lsum = 0;
	int i;

	for (i = 0; i < 3; i++) {
		v[i] = blast(port, rng, &l);
		lsum += l;
	}
	qsort(v, 3, sizeof v[0], cmp_double);
	*lost = lsum;
	return v[1];
}

int
main(int argc, char **argv)
{
	char tools[4096], up_bin[4200], farm_bin[4200], up_arg[64];
	const char *b = getenv("BUILD");
	struct child up = {0, 0}, farm = {0, 0}, hij = {0, 0};
	uint64_t rng = 42, lost;
	double qps;
	long rss;
	char *argv0;

	if (b != NULL) {
		snprintf(tools, sizeof tools, "%s/tools", b);
	} else {
		argv0 = xstrdup(argv[0]);
		snprintf(tools, sizeof tools, "%s/../tools", dirname(argv0));
		free(argv0);
	}
	snprintf(up_bin, sizeof up_bin, "%s/farm-upstream", tools);
	snprintf(farm_bin, sizeof farm_bin, "%s/resolver-farm", tools);
	signal(SIGPIPE, SIG_IGN);

	{
		char *av[] = {up_bin, "--port", "0", NULL};

		if (spawn(av, &up) == -1) {
			fprintf(
			    stderr, "bench-farm: cannot start %s\n", up_bin);
			return 1;
		}
	}
	snprintf(up_arg, sizeof up_arg, "127.0.0.1:%d", up.port);
	{
		char *av[] = {farm_bin, "--gen", "good=100000", "--base",
		    "127.1.0.0", "--port", "0", "--upstream", up_arg,
		    "--upstream-timeout-ms", "1000", NULL};

		if (spawn(av, &farm) == -1) {
			fprintf(
			    stderr, "bench-farm: cannot start %s\n", farm_bin);
			stop(&up);
			return 1;
		}
	}
	blast(farm.port, &rng, &lost); /* warm up caches and buffers */
	qps = median3(farm.port, &rng, &lost);
	rss = rss_kb(farm.pid);
	printf(
	    "farm: %d addresses, %.0f queries/s (limit 20000)\n", NADDR, qps);
	printf("farm: RSS %ld kB at %d addresses (good, via upstream); "
	       "%llu queries lost in 3 rounds\n",
	    rss, NADDR, (unsigned long long)lost);
	stop(&farm);
	stop(&up);

	{
		char *av[] = {farm_bin, "--gen", "hijack=100000", "--base",
		    "127.1.0.0", "--port", "0", NULL};

		if (spawn(av, &hij) == -1) {
			fprintf(
			    stderr, "bench-farm: cannot start hijack farm\n");
			return 1;
		}
	}
	qps = median3(hij.port, &rng, &lost);
	printf("farm: %d addresses, %.0f queries/s answered locally "
	       "(hijack, no upstream); RSS %ld kB\n",
	    NADDR, qps, rss_kb(hij.pid));
	stop(&hij);
	return 0;
}
