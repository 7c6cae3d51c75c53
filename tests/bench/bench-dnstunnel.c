/* SPDX-License-Identifier: MIT */
/*
 * bench-dnstunnel.c — DNS through the tunnel end to end: `mdns-doctor
 * serve` resolving at an unbound that answers dns.example from
 * local-data, `mdns-doctor connect` with its local DNS listener, XOR, MTU
 * 141/200, on loopback; the client's resolver is the server itself
 * (direct) or a recursive unbound with a stub zone for t.example (through
 * unbound). Every query asks a new name (n<i>.dns.example A: NXDOMAIN
 * from local-data), so neither cache answers.
 *
 * Per case: the latency of one tunnel round trip (an in-zone A query to
 * the server, answered NODATA at once: what every DNS_QUERY exchange
 * needs at least once) and of the resolver alone (asked directly), both
 * median of 200; then tunnelled queries one at a time (p50, p99, queries
 * per second) and 16 in flight (queries per second), 400 each. The limit
 * of one tunnel round trip per query is 1 / (round trip + resolver) one at
 * a time. Prints numbers; asserts only that every query was answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/bench/bench-proc.h"

#define N_RTT 200
#define N_Q   400
#define WIN   16

static char dir[256];
static unsigned name_ctr;

static int
udp_to(uint16_t port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A query for LABEL.ZONE, type A, RD, with id. */
static size_t
query(uint8_t *q, uint16_t id, const char *label, const char *zone)
{
	char name[256];
	size_t n = 12, l;
	char *tok, *save = NULL;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 1;
	q[5] = 1;
	snprintf(name, sizeof name, "%s.%s", label, zone);
	for (tok = strtok_r(name, ".", &save); tok != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		l = strlen(tok);
		q[n++] = (uint8_t)l;
		memcpy(q + n, tok, l);
		n += l;
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

/* One query at a time to port: latencies into lat[n]; answered count. */
static int
one_by_one(uint16_t port, const char *zone, int fresh, double *lat, int n)
{
	uint8_t q[300], a[4096];
	struct pollfd p;
	int fd = udp_to(port), i, ok = 0;
	char label[32];
	double t0;
	size_t ql;
	ssize_t r;

	if (fd == -1)
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(label, sizeof label, fresh ? "n%u" : "x%u",
		    fresh ? name_ctr++ : (unsigned)i);
		ql = query(q, (uint16_t)i, label, zone);
		t0 = bench_now_s();
		if (send(fd, q, ql, 0) < 0)
			break;
		p.fd = fd;
		p.events = POLLIN;
		lat[i] = 10;
		while (poll(&p, 1, 10000) > 0) {
			r = recv(fd, a, sizeof a, 0);
			if (r >= 12 && a[0] == q[0] && a[1] == q[1]) {
				lat[i] = bench_now_s() - t0;
				ok++;
				break;
			}
		}
	}
	close(fd);
	return ok;
}

/* n fresh queries with win in flight; seconds for all, answered count. */
static double
windowed(uint16_t port, int n, int win, int *answered)
{
	uint8_t q[300], a[4096];
	struct pollfd p;
	int fd = udp_to(port), sent = 0, got = 0, inflight = 0;
	char label[32];
	double t0 = bench_now_s();
	ssize_t r;

	*answered = 0;
	if (fd == -1)
		return -1;
	while (got < n && bench_now_s() - t0 < 60) {
		while (sent < n && inflight < win) {
			snprintf(label, sizeof label, "n%u", name_ctr++);
			if (send(fd, q,
				query(q, (uint16_t)sent, label, "dns.example"),
				0) < 0)
				break;
			sent++;
			inflight++;
		}
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 10000) <= 0)
			break;
		while ((r = recv(fd, a, sizeof a, MSG_DONTWAIT)) > 0)
			if (r >= 12) {
				got++;
				inflight--;
			}
	}
	close(fd);
	*answered = got;
	return bench_now_s() - t0;
}

static pid_t
unbound_conf(const char *name, uint16_t port, uint16_t stub)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s.conf", dir, name);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fprintf(f,
	    "server:\n  interface: 127.0.0.1@%u\n  port: %u\n"
	    "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n"
	    "  directory: \"%s\"\n  pidfile: \"%s/%s.pid\"\n"
	    "  use-syslog: no\n  logfile: \"\"\n  do-ip6: no\n"
	    "  outgoing-interface: 127.0.0.1\n  do-not-query-localhost: no\n"
	    "  access-control: 127.0.0.0/8 allow\n"
	    "  module-config: \"iterator\"\n  num-threads: 1\n"
	    "  local-zone: \".\" refuse\n",
	    port, port, dir, dir, name);
	if (stub == 0)
		fprintf(f,
		    "  local-zone: \"dns.example.\" static\n"
		    "  local-data: \"www.dns.example. 300 IN A "
		    "198.51.100.7\"\n");
	else
		fprintf(f,
		    "  local-zone: \"t.example.\" transparent\n"
		    "  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n"
		    "stub-zone:\n  name: \"t.example.\"\n"
		    "  stub-addr: 127.0.0.1@%u\n",
		    stub);
	fclose(f);
	{
		char *av[] = {"unbound", "-d", "-c", p, NULL};
		pid_t pid = bench_spawn(av, NULL, NULL, 0);

		usleep(500000);
		return pid;
	}
}

static void
run_case(const char *bin, uint16_t auth, int via_unbound)
{
	char p[512], sport[32], cport[32], rp[512];
	uint16_t srv_port = bench_free_port(SOCK_DGRAM), ub_port = 0, res_port;
	uint16_t dns_port = bench_free_port(SOCK_DGRAM);
	pid_t srv, cli = -1, ub = -1;
	double rtt[N_RTT], up[N_RTT], lat[N_Q], t;
	int ok, answered;
	FILE *f;

	snprintf(p, sizeof p, "%s/encrypt_key.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "5f3c8e1a9b2d47e6c0f18a3b5d7e9c21\n");
	fclose(f);
	snprintf(p, sizeof p, "%s/server_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAIN = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "DNS_UPSTREAM_SERVERS = [\"127.0.0.1:%u\"]\n",
	    auth);
	fclose(f);
	snprintf(sport, sizeof sport, "127.0.0.1:%u", srv_port);
	{
		char *av[] = {(char *)bin, "serve", "--config", p, "--listen",
		    sport, NULL};

		srv = bench_spawn(av, "listening", NULL, 0);
	}
	res_port = srv_port;
	if (via_unbound) {
		ub_port = bench_free_port(SOCK_DGRAM);
		ub = unbound_conf("stub", ub_port, srv_port);
		res_port = ub_port;
	}
	snprintf(rp, sizeof rp, "%s/resolvers.txt", dir);
	f = fopen(rp, "w");
	fprintf(f, "127.0.0.1:%u\n", res_port);
	fclose(f);
	snprintf(p, sizeof p, "%s/client_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAINS = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "ENCRYPTION_KEY = \"5f3c8e1a9b2d47e6c0f18a3b5d7e9c21\"\n"
	    "MAX_UPLOAD_MTU = 150\nMIN_DOWNLOAD_MTU = 200\n"
	    "MAX_DOWNLOAD_MTU = 200\nLOCAL_DNS_ENABLED = true\n"
	    "LOCAL_DNS_PORT = %u\nLOCAL_DNS_CACHE_PERSIST_TO_FILE = false\n",
	    dns_port);
	fclose(f);
	snprintf(
	    cport, sizeof cport, "127.0.0.1:%u", bench_free_port(SOCK_STREAM));
	{
		char *av[] = {(char *)bin, "connect", "--config", p,
		    "--resolvers", rp, "--listen", cport, NULL};

		cli = srv > 0 ? bench_spawn(av, "connected", NULL, 0) : -1;
	}
	printf("%-8s ", via_unbound ? "unbound" : "direct");
	if (srv <= 0 || cli <= 0) {
		printf("could not start\n");
		goto out;
	}
	/* one tunnel round trip: NODATA from the server for an A query */
	one_by_one(res_port, "t.example", 0, rtt, N_RTT);
	one_by_one(auth, "dns.example", 1, up, N_RTT);
	qsort(rtt, N_RTT, sizeof rtt[0], bench_cmpd);
	qsort(up, N_RTT, sizeof up[0], bench_cmpd);
	ok = one_by_one(dns_port, "dns.example", 1, lat, N_Q);
	qsort(lat, N_Q, sizeof lat[0], bench_cmpd);
	t = windowed(dns_port, N_Q, WIN, &answered);
	{
		double sum = 0, lim = 1 / (rtt[N_RTT / 2] + up[N_RTT / 2]);
		int i;

		for (i = 0; i < N_Q; i++)
			sum += lat[i];
		printf("round trip %.2f ms, resolver %.2f ms (limit %.0f q/s "
		       "one at a time) | tunnelled one at a time: p50 %.2f "
		       "ms p99 %.2f ms, %.0f q/s (%d/%d) | %d in flight: "
		       "%.0f q/s (%d/%d)\n",
		    rtt[N_RTT / 2] * 1e3, up[N_RTT / 2] * 1e3, lim,
		    lat[N_Q / 2] * 1e3, lat[N_Q * 99 / 100] * 1e3, N_Q / sum,
		    ok, N_Q, WIN, t > 0 ? answered / t : 0, answered, N_Q);
	}
	fflush(stdout);
out:
	bench_stop(cli);
	bench_stop(ub);
	bench_stop(srv);
}

int
main(void)
{
	const char *bin = getenv("MDNS_BIN");
	uint16_t auth = bench_free_port(SOCK_DGRAM);
	pid_t ap;

	signal(SIGPIPE, SIG_IGN);
	if (bin == NULL)
		bin = "build/mdns-doctor";
	if (access("/usr/sbin/unbound", X_OK) != 0) {
		printf("unbound not installed: nothing to resolve at\n");
		return 0;
	}
	snprintf(dir, sizeof dir, "%s/mdns-bench-dnstunnel.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	printf("DNS through the tunnel: XOR, MTU 141/200, fresh names "
	       "(NXDOMAIN from local-data), %d queries, medians of %d "
	       "round trips\n",
	    N_Q, N_RTT);
	ap = unbound_conf("auth", auth, 0);
	run_case(bin, auth, 0);
	run_case(bin, auth, 1);
	bench_stop(ap);
	{
		char p[512];
		const char *files[] = {"encrypt_key.txt", "server_config.toml",
		    "client_config.toml", "resolvers.txt", "auth.conf",
		    "stub.conf", "auth.pid", "stub.pid"};

		for (size_t i = 0; i < nitems(files); i++) {
			snprintf(p, sizeof p, "%s/%s", dir, files[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return 0;
}
