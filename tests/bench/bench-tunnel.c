/* SPDX-License-Identifier: MIT */
/*
 * bench-tunnel.c — end-to-end tunnel throughput: `mdns-doctor serve` and
 * `mdns-doctor connect` as real processes on loopback, 10 MiB down and
 * 3 MiB up through the SOCKS5 port, median of 5, at upload/download MTU
 * 141/200 and 141/1000, XOR and AES-256-GCM, directly and through unbound
 * (when installed). Prints wall seconds, MiB/s and the CPU seconds per MiB
 * each side spent (from /proc/PID/stat over all runs). Prints numbers,
 * asserts nothing but the byte counts. BENCH_TUNNEL_ONLY=SUBSTR runs only
 * the cases whose label ("xor unbound 200", ...) contains it.
 *
 * The origin is in-process (bench-origin.h).
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
#include "tests/bench/bench-origin.h"

#define MiB  (1024 * 1024)
#define RUNS 5

static char dir[256];

static void
run_case(const char *bin, int method, unsigned down_mtu, int via_unbound)
{
	char p[512], sport[32], cport[32], lsn[64], res[64];
	uint16_t srv_port = bench_free_port(SOCK_DGRAM), cli_port;
	uint16_t ub_port = 0;
	pid_t srv, cli, ub = -1;
	double d[RUNS], u[RUNS], c0s, c0c, c1s, c1c;
	FILE *f;
	int i, bad = 0;

	snprintf(p, sizeof p, "%s/encrypt_key.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\n");
	fclose(f);
	snprintf(p, sizeof p, "%s/server_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAIN = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = %d\n"
	    "MAX_PACKETS_PER_BATCH = 10\nARQ_WINDOW_SIZE = 1000\n"
	    "MDNS_ALLOW_TARGETS = [\"127.0.0.1/32\"]\n",
	    method);
	fclose(f);
	snprintf(sport, sizeof sport, "127.0.0.1:%u", srv_port);
	{
		char *av[] = {(char *)bin, "serve", "--config", p, "--listen",
		    sport, NULL};

		srv = bench_spawn(av, "listening", NULL, 0);
	}
	snprintf(res, sizeof res, "127.0.0.1:%u", srv_port);
	if (via_unbound) {
		ub_port = bench_free_port(SOCK_DGRAM);
		snprintf(p, sizeof p, "%s/unbound.conf", dir);
		f = fopen(p, "w");
		fprintf(f,
		    "server:\n  interface: 127.0.0.1@%u\n  port: %u\n"
		    "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n"
		    "  directory: \"%s\"\n  pidfile: \"%s/unbound.pid\"\n"
		    "  use-syslog: no\n  logfile: \"\"\n  do-ip6: no\n"
		    "  outgoing-interface: 127.0.0.1\n"
		    "  do-not-query-localhost: no\n"
		    "  access-control: 127.0.0.0/8 allow\n"
		    "  module-config: \"iterator\"\n"
		    "  qname-minimisation: yes\n  edns-buffer-size: 1232\n"
		    "  num-threads: 1\n  local-zone: \".\" refuse\n"
		    "  local-zone: \"t.example.\" transparent\n"
		    "stub-zone:\n  name: \"t.example.\"\n"
		    "  stub-addr: 127.0.0.1@%u\n",
		    ub_port, ub_port, dir, dir, srv_port);
		fclose(f);
		{
			char *av[] = {"unbound", "-d", "-c", p, NULL};

			ub = bench_spawn(av, NULL, NULL, 0);
		}
		usleep(500000);
		snprintf(res, sizeof res, "127.0.0.1:%u", ub_port);
	}
	snprintf(p, sizeof p, "%s/resolvers.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "%s\n", res);
	fclose(f);
	snprintf(p, sizeof p, "%s/client_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAINS = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = %d\n"
	    "ENCRYPTION_KEY = \"e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\"\n"
	    "MIN_DOWNLOAD_MTU = %u\nMAX_DOWNLOAD_MTU = %u\n"
	    "ARQ_WINDOW_SIZE = 1000\n",
	    method, down_mtu, down_mtu);
	fclose(f);
	cli_port = bench_free_port(SOCK_STREAM);
	snprintf(cport, sizeof cport, "127.0.0.1:%u", cli_port);
	{
		char rp[512];
		char *av[] = {(char *)bin, "connect", "--config", p,
		    "--resolvers", rp, "--listen", cport, NULL};

		snprintf(rp, sizeof rp, "%s/resolvers.txt", dir);
		cli = srv > 0 ? bench_spawn(av, "connected", NULL, 0) : -1;
	}
	snprintf(lsn, sizeof lsn, "%s %s %u", method == 1 ? "xor" : "aes256",
	    via_unbound ? "unbound" : "direct", down_mtu);
	if (getenv("BENCH_TUNNEL_ONLY") != NULL &&
	    strstr(lsn, getenv("BENCH_TUNNEL_ONLY")) == NULL)
		goto out;
	if (srv <= 0 || cli <= 0) {
		printf("%-22s could not start\n", lsn);
		goto out;
	}
	c0s = bench_cpu_s(srv);
	c0c = bench_cpu_s(cli);
	for (i = 0; i < RUNS; i++) {
		d[i] = bench_transfer(cli_port, 1, 10ULL * MiB, 600);
		u[i] = bench_transfer(cli_port, 0, 3ULL * MiB, 600);
		if (d[i] < 0 || u[i] < 0)
			bad++;
	}
	c1s = bench_cpu_s(srv) - c0s;
	c1c = bench_cpu_s(cli) - c0c;
	qsort(d, RUNS, sizeof d[0], bench_cmpd);
	qsort(u, RUNS, sizeof u[0], bench_cmpd);
	printf("%-22s down 10 MiB %6.2f s (%6.2f MiB/s)  up 3 MiB %6.2f s "
	       "(%5.2f MiB/s)  cpu/MiB server %.3f s client %.3f s%s\n",
	    lsn, d[RUNS / 2], 10 / d[RUNS / 2], u[RUNS / 2], 3 / u[RUNS / 2],
	    c1s / (13.0 * RUNS), c1c / (13.0 * RUNS),
	    bad ? "  (FAILED RUNS)" : "");
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
	int ub = access("/usr/sbin/unbound", X_OK) == 0;

	signal(SIGPIPE, SIG_IGN);
	if (bin == NULL)
		bin = "build/mdns-doctor";
	snprintf(dir, sizeof dir, "%s/mdns-bench-tunnel.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (bench_origin_start() == -1)
		return 1;
	printf("tunnel: 10 MiB down + 3 MiB up, median of %d, upload MTU "
	       "141 (XOR) / 113 (AES-GCM)\n",
	    RUNS);
	run_case(bin, 1, 200, 0);
	run_case(bin, 1, 1000, 0);
	run_case(bin, 5, 200, 0);
	run_case(bin, 5, 1000, 0);
	if (ub) {
		run_case(bin, 1, 200, 1);
		run_case(bin, 1, 1000, 1);
		run_case(bin, 5, 1000, 1);
	} else
		printf("unbound not installed: resolver cases skipped\n");
	{
		char p[512];
		const char *files[] = {"encrypt_key.txt", "server_config.toml",
		    "client_config.toml", "resolvers.txt", "unbound.conf",
		    "unbound.pid"};

		for (size_t i = 0; i < nitems(files); i++) {
			snprintf(p, sizeof p, "%s/%s", dir, files[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return 0;
}
