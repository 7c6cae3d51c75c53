/* SPDX-License-Identifier: MIT */
/*
 * bench-engine-pool.c — the tunnel over a resolver pool, end to end: a real
 * `serve` behind the resolver farm (build/tools/resolver-farm) playing 5
 * good resolvers, and `connect` using all 5 (round robin) with its control
 * socket. Prints:
 *   * 10 MiB down / 3 MiB up, median of 3, with duplication 1 and 2;
 *   * 50 MiB downloads with 50 `watch` clients (100 ms snapshots,
 *     build/tools/ctl-watchers) against none, 5 alternating pairs: the
 *     slowdown of the medians in percent;
 *   * the client's CPU cost of serving 10 watchers at 100 ms and 1 s
 *     snapshots while idle (CPU ms per second over 10 s, from
 *     /proc/PID/schedstat), with no watcher as the baseline.
 * Asserts nothing but the byte counts. Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/bench/bench-proc.h"

#define MiB  (1024 * 1024)
#define RUNS 3

static int origin_fd;
static uint16_t origin_port;
static char dir[256];

static int
readn(int fd, void *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void *
origin_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t hdr[9], buf[65536];
	uint64_t n, left;
	ssize_t r;

	memset(buf, 'x', sizeof buf);
	if (readn(fd, hdr, 9) == 0) {
		n = 0;
		for (int i = 1; i < 9; i++)
			n = (n << 8) | hdr[i];
		for (left = n; left > 0; left -= (uint64_t)r) {
			if (hdr[0] == 'D')
				r = write(fd, buf, MIN(left, sizeof buf));
			else
				r = read(fd, buf, MIN(left, sizeof buf));
			if (r <= 0)
				break;
		}
		if (hdr[0] == 'U')
			(void)!write(fd, "OK", 2);
	}
	close(fd);
	return NULL;
}

static void *
origin_main(void *arg)
{
	pthread_t t;
	int fd;

	(void)arg;
	while ((fd = accept(origin_fd, NULL, NULL)) != -1) {
		pthread_create(&t, NULL, origin_conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
	return NULL;
}

/* One transfer through the SOCKS port; returns seconds or -1. */
static double
transfer(uint16_t socks, int down, uint64_t n)
{
	struct sockaddr_in a;
	uint8_t b[65536], req[16];
	uint64_t left;
	double t0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(socks);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t0 = bench_now_s();
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1)
		goto fail;
	memcpy(req, "\x05\x01\x00", 3);
	if (write(fd, req, 3) != 3 || readn(fd, b, 2) == -1)
		goto fail;
	memcpy(req, "\x05\x01\x00\x01\x7f\x00\x00\x01", 8);
	req[8] = (uint8_t)(origin_port >> 8);
	req[9] = (uint8_t)origin_port;
	if (write(fd, req, 10) != 10 || readn(fd, b, 10) == -1 || b[1] != 0)
		goto fail;
	b[0] = down ? 'D' : 'U';
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(n >> (56 - 8 * i));
	if (write(fd, b, 9) != 9)
		goto fail;
	memset(b, 'y', sizeof b);
	for (left = n; left > 0; left -= (uint64_t)r) {
		r = down ? read(fd, b, MIN(left, sizeof b)) :
			   write(fd, b, MIN(left, sizeof b));
		if (r <= 0)
			goto fail;
	}
	if (!down && readn(fd, b, 2) == -1)
		goto fail;
	close(fd);
	return bench_now_s() - t0;
fail:
	close(fd);
	return -1;
}

static pid_t
spawn(char *const argv[], const char *want)
{
	return bench_spawn(argv, want, NULL, 0);
}

static const char *bin, *top;

/* The median of RUNS 10 MiB downloads (seconds); -1 if any failed. */
static double
median_down(uint16_t socks, uint64_t n)
{
	double d[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		if ((d[i] = transfer(socks, 1, n)) < 0)
			return -1;
	qsort(d, RUNS, sizeof d[0], bench_cmpd);
	return d[RUNS / 2];
}

static double
median_up(uint16_t socks, uint64_t n)
{
	double d[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		if ((d[i] = transfer(socks, 0, n)) < 0)
			return -1;
	qsort(d, RUNS, sizeof d[0], bench_cmpd);
	return d[RUNS / 2];
}

/* Start the client with dup; returns its pid, *port the SOCKS port. */
static pid_t
start_client(unsigned farm_port, unsigned dup, uint16_t *port, const char *ctl)
{
	char p[512], rp[512], cport[32];
	FILE *f;
	int i;

	snprintf(rp, sizeof rp, "%s/resolvers.txt", dir);
	f = fopen(rp, "w");
	for (i = 1; i <= 5; i++)
		fprintf(f, "127.7.0.%d:%u\n", i, farm_port);
	fclose(f);
	snprintf(p, sizeof p, "%s/client_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAINS = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "ENCRYPTION_KEY = \"e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\"\n"
	    "MIN_DOWNLOAD_MTU = 1000\nMAX_DOWNLOAD_MTU = 1000\n"
	    "ARQ_WINDOW_SIZE = 1000\nPACKET_DUPLICATION_COUNT = %u\n"
	    "RESOLVER_BALANCING_STRATEGY = 2\nMDNS_READY_MIN = 5\n",
	    dup);
	fclose(f);
	*port = bench_free_port(SOCK_STREAM);
	snprintf(cport, sizeof cport, "127.0.0.1:%u", *port);
	{
		char *av[] = {(char *)bin, "connect", "--config", p,
		    "--resolvers", rp, "--listen", cport, "--control",
		    (char *)ctl, NULL};

		return spawn(av, "connected");
	}
}

static pid_t
watchers(const char *ctl, unsigned n, unsigned ms)
{
	char tool[512], ns[16], mss[16];
	char *av[] = {tool, "--socket", (char *)ctl, "--clients", ns,
	    "--interval-ms", mss, NULL};

	snprintf(tool, sizeof tool, "%s/build/tools/ctl-watchers", top);
	snprintf(ns, sizeof ns, "%u", n);
	snprintf(mss, sizeof mss, "%u", ms);
	return spawn(av, "ready");
}

/* CPU nanoseconds of pid so far (/proc/PID/schedstat: exact, unlike the
 * 10 ms ticks of /proc/PID/stat). */
static double
cpu_ns(pid_t pid)
{
	char p[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(p, sizeof p, "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return (double)ns;
}

/* CPU ms per second of pid over secs of wall time. */
static double
cpu_rate(pid_t pid, double secs)
{
	double c0 = cpu_ns(pid), t0 = bench_now_s();

	usleep((useconds_t)(secs * 1e6));
	return (cpu_ns(pid) - c0) / 1e6 / (bench_now_s() - t0);
}

int
main(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	pthread_t t;
	char p[512], sport[32], line[256], farm[512], up[32], ctl[300];
	uint16_t srv_port, socks;
	unsigned farm_port;
	pid_t srv, fm, cli, w;
	double d1, u1, d2, u2, base, with, c0, c10, c10s;
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	bin = getenv("MDNS_BIN") ? getenv("MDNS_BIN") : "build/mdns-doctor";
	top = getenv("MDNS_TOP") ? getenv("MDNS_TOP") : ".";
	snprintf(dir, sizeof dir, "%s/mdns-bench-pool.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(ctl, sizeof ctl, "%s/engine.sock", dir);
	origin_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(origin_fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(origin_fd, 64) == -1 ||
	    getsockname(origin_fd, (struct sockaddr *)&a, &l) == -1)
		return 1;
	origin_port = ntohs(a.sin_port);
	pthread_create(&t, NULL, origin_main, NULL);

	snprintf(p, sizeof p, "%s/encrypt_key.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\n");
	fclose(f);
	snprintf(p, sizeof p, "%s/server_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAIN = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "MAX_PACKETS_PER_BATCH = 10\nARQ_WINDOW_SIZE = 1000\n"
	    "MDNS_ALLOW_TARGETS = [\"127.0.0.1/32\"]\n");
	fclose(f);
	srv_port = bench_free_port(SOCK_DGRAM);
	snprintf(sport, sizeof sport, "127.0.0.1:%u", srv_port);
	{
		char sctl[300];
		char *av[] = {(char *)bin, "serve", "--config", p, "--listen",
		    sport, "--control", sctl, NULL};

		snprintf(sctl, sizeof sctl, "%s/server.sock", dir);
		srv = spawn(av, "listening");
	}
	snprintf(p, sizeof p, "%s/farm.spec", dir);
	f = fopen(p, "w");
	fprintf(f, "127.7.0.1-127.7.0.5 good\n");
	fclose(f);
	snprintf(farm, sizeof farm, "%s/build/tools/resolver-farm", top);
	snprintf(up, sizeof up, "127.0.0.1:%u", srv_port);
	{
		char *av[] = {farm, "--spec", p, "--upstream", up, NULL};

		fm = srv > 0 ? bench_spawn(av, "port=", line, sizeof line) : -1;
	}
	if (srv <= 0 || fm <= 0 || sscanf(line, "port=%u", &farm_port) != 1) {
		printf("could not start serve and the farm\n");
		bench_stop(fm);
		bench_stop(srv);
		return 1;
	}
	printf("pool tunnel: 5 good farm resolvers, round robin, XOR, MTU "
	       "141/1000, median of %d\n",
	    RUNS);
	cli = start_client(farm_port, 1, &socks, ctl);
	d1 = cli > 0 ? median_down(socks, 10ULL * MiB) : -1;
	u1 = cli > 0 ? median_up(socks, 3ULL * MiB) : -1;
	bench_stop(cli);
	printf("  dup 1: down 10 MiB %6.2f s (%6.2f MiB/s)  up 3 MiB %6.2f s "
	       "(%5.2f MiB/s)\n",
	    d1, 10 / d1, u1, 3 / u1);
	cli = start_client(farm_port, 2, &socks, ctl);
	d2 = cli > 0 ? median_down(socks, 10ULL * MiB) : -1;
	u2 = cli > 0 ? median_up(socks, 3ULL * MiB) : -1;
	printf("  dup 2: down 10 MiB %6.2f s (%6.2f MiB/s)  up 3 MiB %6.2f s "
	       "(%5.2f MiB/s)\n",
	    d2, 10 / d2, u2, 3 / u2);
	fflush(stdout);
	/* 50 watchers during a transfer: alternate without/with, 5 pairs,
	 * 50 MiB each, compare the medians. */
	{
		double b[5], x[5];
		int i;

		for (i = 0; i < 5; i++) {
			b[i] = transfer(socks, 1, 50ULL * MiB);
			w = watchers(ctl, 50, 100);
			x[i] = transfer(socks, 1, 50ULL * MiB);
			bench_stop(w);
			if (b[i] < 0 || x[i] < 0)
				b[0] = -1;
		}
		qsort(b, 5, sizeof b[0], bench_cmpd);
		qsort(x, 5, sizeof x[0], bench_cmpd);
		base = b[2];
		with = x[2];
	}
	printf("  50 watchers (100 ms): down 50 MiB %6.2f s vs %6.2f s "
	       "without (median of 5 alternating): %+.1f %%\n",
	    with, base, (with / base - 1) * 100);
	fflush(stdout);
	/* CPU cost of 10 watchers while idle */
	sleep(1);
	c0 = cpu_rate(cli, 10);
	w = watchers(ctl, 10, 100);
	c10 = cpu_rate(cli, 10);
	bench_stop(w);
	w = watchers(ctl, 10, 1000);
	c10s = cpu_rate(cli, 10);
	bench_stop(w);
	printf("  client CPU idle: %.2f ms/s no watcher, %.2f ms/s with 10 "
	       "watchers at 100 ms, %.2f ms/s at 1 s\n",
	    c0, c10, c10s);
	bench_stop(cli);
	bench_stop(fm);
	bench_stop(srv);
	{
		const char *files[] = {"encrypt_key.txt", "server_config.toml",
		    "client_config.toml", "resolvers.txt", "farm.spec",
		    "server.sock", "engine.sock"};

		for (size_t i = 0; i < nitems(files); i++) {
			snprintf(p, sizeof p, "%s/%s", dir, files[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return d1 < 0 || d2 < 0 || u1 < 0 || u2 < 0 || base < 0 || with < 0;
}
