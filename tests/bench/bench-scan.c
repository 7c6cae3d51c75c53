/* SPDX-License-Identifier: MIT */
/*
 * bench-scan.c — scan speed and footprint on 10,000- and 100,000-address
 * resolver farms at a 5,000 queries/s limit. Starts a real tunnel server
 * (`mdns-doctor serve`), a farm in front of it (20 % good, 60 % dead,
 * 10 % refused, 5 % servfail, 5 % hijack — dead addresses dominate real
 * lists), runs `mdns-doctor scan` over every address with all stages up to
 * the handshake, and prints per farm: wall time against the bound
 * (queries sent ÷ rate + the longest tail of one item, tries × timeout),
 * queries per resolver, peak items and queries in flight, peak RSS and
 * CPU seconds of the scanner (from wait4), and how many passed.
 *
 * BENCH_SCAN_SIZES="10000,100000" and BENCH_SCAN_RATE override the
 * defaults. Everything runs on loopback; children are killed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

#define TIMEOUT_MS 1000
#define TRIES	   2

static char dir[256];
static const char *bin, *build;

/* fork/exec argv with stdout on a pipe; read until a line with prefix. */
static pid_t
spawn(char *const argv[], const char *prefix, char *line, size_t cap)
{
	int p[2];
	pid_t pid;
	size_t len = 0;
	ssize_t n;
	char *nl;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (nul >= 0)
			dup2(nul, 2);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		if (len + 1 >= cap)
			break;
		n = read(p[0], line + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
		if ((nl = strstr(line, prefix)) != NULL &&
		    strchr(nl, '\n') != NULL) {
			memmove(line, nl, strlen(nl) + 1);
			*strchr(line, '\n') = '\0';
			close(p[0]);
			return pid;
		}
	}
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void
stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static long long
json_num(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if ((p = strstr(text, pat)) == NULL)
		return -1;
	return strtoll(p + strlen(pat), NULL, 10);
}

static int
run_one(long n, long rate, const char *server)
{
	char farm[512], gen[256], spec_port[32], list[300], stats[300],
	    keyf[300], line[512], rates[32], text[1024];
	char *fargv[16], *sargv[40];
	struct rusage ru;
	uint64_t t0, t1;
	pid_t fpid, spid;
	FILE *f;
	long i, port, good = n / 5, dead = n * 6 / 10, ref = n / 10,
		      sf = n / 20, hj = n - good - dead - ref - n / 20;
	long long sent, peak, peakq, passed;
	double wall, bound, cpu;
	int st, k = 0;
	size_t tl;

	snprintf(farm, sizeof farm, "%s/tools/resolver-farm", build);
	snprintf(gen, sizeof gen,
	    "good=%ld,dead=%ld,refused=%ld,"
	    "servfail=%ld,hijack=%ld",
	    good, dead, ref, sf, hj);
	fargv[k++] = farm;
	fargv[k++] = "--upstream";
	fargv[k++] = (char *)server;
	fargv[k++] = "--gen";
	fargv[k++] = gen;
	fargv[k++] = "--base";
	fargv[k++] = "127.16.0.0";
	fargv[k++] = "--seed";
	fargv[k++] = "1";
	fargv[k] = NULL;
	if ((fpid = spawn(fargv, "port=", line, sizeof line)) == -1) {
		fprintf(stderr, "bench-scan: farm did not start\n");
		return -1;
	}
	port = strtol(line + 5, NULL, 10);
	snprintf(spec_port, sizeof spec_port, "%ld", port);
	snprintf(list, sizeof list, "%s/list.txt", dir);
	if ((f = fopen(list, "w")) == NULL) {
		stop(fpid);
		return -1;
	}
	for (i = 0; i < n; i++)
		fprintf(f, "127.%ld.%ld.%ld:%ld\n", 16 + (i >> 16),
		    (i >> 8) & 255, i & 255, port);
	fclose(f);
	snprintf(stats, sizeof stats, "%s/stats.json", dir);
	snprintf(keyf, sizeof keyf, "%s/key.txt", dir);
	snprintf(rates, sizeof rates, "%ld", rate);
	k = 0;
	sargv[k++] = (char *)bin;
	sargv[k++] = "-q";
	sargv[k++] = "scan";
	sargv[k++] = "--no-store";
	sargv[k++] = "--domain";
	sargv[k++] = "t.example";
	sargv[k++] = "--key-file";
	sargv[k++] = keyf;
	sargv[k++] = "--method";
	sargv[k++] = "1";
	sargv[k++] = "--rate";
	sargv[k++] = rates;
	sargv[k++] = "--parallel";
	sargv[k++] = "30000";
	sargv[k++] = "--timeout-ms";
	sargv[k++] = "1000";
	sargv[k++] = "--tries";
	sargv[k++] = "2";
	sargv[k++] = "--mtu-timeout-ms";
	sargv[k++] = "1000";
	sargv[k++] = "--intercept-probe";
	sargv[k++] = "none";
	/* The figures in docs/probes.md are the funnel's; loss probes add
	 * 10 queries per survivor (docs/probes.md, "Loss"). */
	sargv[k++] = "--loss-probes";
	sargv[k++] = "0";
	sargv[k++] = "--stats";
	sargv[k++] = stats;
	sargv[k++] = "--format";
	sargv[k++] = "ips";
	sargv[k++] = list;
	sargv[k] = NULL;
	t0 = now_mono_us();
	if ((spid = fork()) == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(nul, 1);
		dup2(nul, 2);
		execv(sargv[0], sargv);
		_exit(127);
	}
	if (spid < 0 || wait4(spid, &st, 0, &ru) == -1) {
		stop(fpid);
		return -1;
	}
	t1 = now_mono_us();
	stop(fpid);
	if ((f = fopen(stats, "r")) == NULL) {
		fprintf(stderr, "bench-scan: no stats (scan exit %d)\n",
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	tl = fread(text, 1, sizeof text - 1, f);
	text[tl] = '\0';
	fclose(f);
	unlink(stats);
	sent = json_num(text, "sent");
	peak = json_num(text, "peak_inflight");
	peakq = json_num(text, "peak_queries_inflight");
	passed = json_num(text, "passed");
	wall = (double)(t1 - t0) / 1e6;
	bound = (double)sent / (double)rate + TRIES * TIMEOUT_MS / 1000.0;
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("scan %7ld addresses @ %ld q/s: wall %.1f s, bound %.1f s "
	       "(ratio %.2f), %lld queries (%.2f per resolver), peak in flight "
	       "%lld resolvers / %lld queries, peak RSS %.1f MB, CPU %.1f s, "
	       "passed %lld (expected %ld), exit %d\n",
	    n, rate, wall, bound, wall / bound, sent, (double)sent / (double)n,
	    peak, peakq, ru.ru_maxrss / 1024.0, cpu, passed, good,
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	fflush(stdout);
	return 0;
}

int
main(void)
{
	const char *sizes = getenv("BENCH_SCAN_SIZES");
	const char *rs = getenv("BENCH_SCAN_RATE");
	char srvbin[300], cfg[300], keyp[300], line[256], server[256];
	char sz[256], *tok, *save = NULL;
	char *argv[8];
	pid_t spid;
	FILE *f;
	int rc = 0;

	build = getenv("BUILD") ? getenv("BUILD") : "build";
	bin = getenv("MDNS_BIN");
	if (bin == NULL) {
		snprintf(srvbin, sizeof srvbin, "%s/mdns-doctor", build);
		bin = srvbin;
	}
	snprintf(dir, sizeof dir, "%s/bench-scan.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(keyp, sizeof keyp, "%s/key.txt", dir);
	snprintf(cfg, sizeof cfg, "%s/server.toml", dir);
	if ((f = fopen(keyp, "w")) == NULL)
		return 1;
	fprintf(f, "5f3c0a9e1b7d2c4e6a8f0b1d3e5c7a9f\n");
	fclose(f);
	if ((f = fopen(cfg, "w")) == NULL)
		return 1;
	fprintf(f,
	    "DOMAIN = [\"t.example\"]\nUDP_HOST = \"127.0.0.1\"\n"
	    "UDP_PORT = 53\nDATA_ENCRYPTION_METHOD = 1\n"
	    "ENCRYPTION_KEY_FILE = \"key.txt\"\n");
	fclose(f);
	argv[0] = (char *)bin;
	argv[1] = "serve";
	argv[2] = "--config";
	argv[3] = cfg;
	argv[4] = "--listen";
	argv[5] = "127.0.0.1:0";
	argv[6] = NULL;
	if ((spid = spawn(argv, "listening ", line, sizeof line)) == -1) {
		fprintf(stderr, "bench-scan: serve did not start\n");
		rc = 1;
		goto out;
	}
	snprintf(server, sizeof server, "%s", line + 10);
	snprintf(sz, sizeof sz, "%s", sizes ? sizes : "10000,100000");
	for (tok = strtok_r(sz, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save))
		if (run_one(strtol(tok, NULL, 10),
			rs ? strtol(rs, NULL, 10) : 5000, server) == -1)
			rc = 1;
	stop(spid);
out:
	unlink(keyp);
	unlink(cfg);
	{
		char list[PATH_MAX];

		snprintf(list, sizeof list, "%s/list.txt", dir);
		unlink(list);
	}
	rmdir(dir);
	return rc;
}
