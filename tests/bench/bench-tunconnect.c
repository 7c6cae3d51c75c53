/* SPDX-License-Identifier: MIT */
/*
 * bench-tunconnect — the real full-VPN mode against the SOCKS port on the
 * same tunnel: `mdns-doctor connect --tun` in an "app" network namespace,
 * `mdns-doctor serve` and the HTTP fixture in a "net" namespace (veth
 * between them, made here with ip(8) and removed at the end; root needed,
 * else it says so and exits 0). 10 MiB downloads with curl in app, once
 * with no proxy (through the TUN, lwIP and a stream) and once through
 * the client's SOCKS5 port, median of RUNS each; prints MiB/s and the
 * client's and the server's CPU per MiB (from /proc/PID/stat). XOR,
 * download MTU 1000, direct to the server (no resolver between: the
 * comparison is the client's local side).
 */
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/bench/bench-proc.h"

#define RUNS  3
#define BYTES 10485760

static char app[64], net[64], dir[256];

/* /bin/sh -c cmd; its exit status (-1 when it did not run). */
static int
run_sh(const char *cmd)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return run_sh(cmd);
}

/* One 10 MiB download in app (proxy "" for none); seconds, -1 on error. */
static double
fetch(uint16_t port, const char *proxy)
{
	char cmd[512], out[64] = "";
	double t0 = bench_now_s();
	FILE *f;

	snprintf(cmd, sizeof cmd,
	    "ip netns exec %s curl -s -o /dev/null --max-time 300 "
	    "-w '%%{size_download}' %s%s "
	    "'http://10.71.0.1:%u/bytes/%d?seed=1'",
	    app, proxy[0] ? "--socks5 " : "--noproxy '*'", proxy, port, BYTES);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof out, f) == NULL)
		out[0] = '\0';
	if (pclose(f) != 0 || strtol(out, NULL, 10) != BYTES)
		return -1;
	return bench_now_s() - t0;
}

static void
measure(
    const char *what, uint16_t port, const char *proxy, pid_t cli, pid_t srv)
{
	double t[RUNS], c0 = bench_cpu_s(cli), s0 = bench_cpu_s(srv), c, s;
	int i, bad = 0;

	for (i = 0; i < RUNS; i++)
		if ((t[i] = fetch(port, proxy)) < 0)
			bad++;
	c = (bench_cpu_s(cli) - c0) * 1000 / (RUNS * 10.0);
	s = (bench_cpu_s(srv) - s0) * 1000 / (RUNS * 10.0);
	qsort(t, RUNS, sizeof t[0], bench_cmpd);
	printf("  %-28s %6.2f s  %6.2f MiB/s  client %6.1f ms CPU/MiB  "
	       "server %6.1f ms CPU/MiB%s\n",
	    what, t[RUNS / 2], 10 / t[RUNS / 2], c, s,
	    bad ? "  (FAILED RUNS)" : "");
	fflush(stdout);
}

int
main(void)
{
	const char *bin = getenv("MDNS_BIN");
	char tools[512], fix[600], p[512], rp[512], ctl[512], line[256];
	char *copy;
	pid_t fx = -1, srv = -1, cli = -1;
	uint16_t hport = 0;
	FILE *f;
	int rc = 1;

	if (geteuid() != 0) {
		printf("bench-tunconnect: skipped (needs root for network "
		       "namespaces and a TUN device)\n");
		return 0;
	}
	if (bin == NULL)
		bin = "build/mdns-doctor";
	copy = strdup(bin);
	snprintf(tools, sizeof tools, "%s/tools", dirname(copy));
	free(copy);
	snprintf(fix, sizeof fix, "%s/http-fixture", tools);
	snprintf(app, sizeof app, "mdb%d-app", (int)getpid());
	snprintf(net, sizeof net, "mdb%d-net", (int)getpid());
	snprintf(dir, sizeof dir, "%s/bench-tunconnect.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (sh("ip netns add %s && ip netns add %s && "
	       "ip -n %s link set lo up && ip -n %s link set lo up && "
	       "ip -n %s link add a0 type veth peer name n0 netns %s && "
	       "ip -n %s addr add 10.70.0.2/24 dev a0 && "
	       "ip -n %s addr add 10.70.0.1/24 dev n0 && "
	       "ip -n %s addr add 10.71.0.1/32 dev lo && "
	       "ip -n %s link set a0 up && ip -n %s link set n0 up && "
	       "ip -n %s route add default via 10.70.0.1",
		app, net, app, net, app, net, app, net, net, app, net,
		app) != 0) {
		fprintf(stderr, "bench-tunconnect: namespaces: ip failed\n");
		goto out;
	}
	{
		char *av[] = {"ip", "netns", "exec", net, fix, "--listen",
		    "10.71.0.1", "--port", "0", NULL};

		fx = bench_spawn(av, "port=", line, sizeof line);
		if (fx > 0)
			hport = (uint16_t)strtol(line + 5, NULL, 10);
	}
	snprintf(p, sizeof p, "%s/encrypt_key.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\n");
	fclose(f);
	snprintf(p, sizeof p, "%s/server_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAIN = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "MAX_PACKETS_PER_BATCH = 10\nARQ_WINDOW_SIZE = 1000\n"
	    "MDNS_ALLOW_TARGETS = [\"10.71.0.0/24\"]\n");
	fclose(f);
	{
		char *av[] = {"ip", "netns", "exec", net, (char *)bin, "serve",
		    "--config", p, "--listen", "10.70.0.1:5300", "--control",
		    ctl, NULL};

		snprintf(ctl, sizeof ctl, "%s/srv.sock", dir);
		srv = bench_spawn(av, "listening", NULL, 0);
	}
	snprintf(rp, sizeof rp, "%s/resolvers.txt", dir);
	f = fopen(rp, "w");
	fprintf(f, "10.70.0.1:5300\n");
	fclose(f);
	snprintf(p, sizeof p, "%s/client_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAINS = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "ENCRYPTION_KEY = \"e2b4d6f8091a3c5e7f90b1d3f5a7c9eb\"\n"
	    "MIN_DOWNLOAD_MTU = 1000\nMAX_DOWNLOAD_MTU = 1000\n"
	    "ARQ_WINDOW_SIZE = 1000\n");
	fclose(f);
	{
		char rt[300], st[300];
		char *av[] = {"ip", "netns", "exec", app, "env", rt, st,
		    (char *)bin, "connect", "--tun", "mdnsb0",
		    "--tun-no-resolver", "--config", p, "--resolvers", rp,
		    "--listen", "127.0.0.1:1080", "--control", ctl, NULL};

		snprintf(rt, sizeof rt, "XDG_RUNTIME_DIR=%s", dir);
		snprintf(st, sizeof st, "XDG_STATE_HOME=%s", dir);
		snprintf(ctl, sizeof ctl, "%s/cl.sock", dir);
		cli = fx > 0 && srv > 0 ?
		    bench_spawn(av, "connected", NULL, 0) :
		    -1;
	}
	if (fx <= 0 || srv <= 0 || cli <= 0) {
		fprintf(stderr,
		    "bench-tunconnect: could not start (fixture "
		    "%d serve %d connect %d)\n",
		    (int)fx, (int)srv, (int)cli);
		goto out;
	}
	printf("bench-tunconnect: 10 MiB downloads through serve/connect "
	       "(XOR, MTU 1000, direct), median of %d\n",
	    RUNS);
	measure("connect --tun (no proxy)", hport, "", cli, srv);
	measure("SOCKS5 port", hport, "127.0.0.1:1080", cli, srv);
	rc = 0;
out:
	bench_stop(cli);
	bench_stop(srv);
	bench_stop(fx);
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; "
	   "rm -rf '%s'",
	    app, net, dir);
	return rc;
}
