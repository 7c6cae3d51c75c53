/* SPDX-License-Identifier: MIT */
/*
 * bench-fec.c — the download FEC (docs/fec.md) against loss: `serve`
 * (FEC_ENABLED, ceilings 16 / 40 %) and `connect` as real processes, the
 * fault relay (build/tools/udp-relay, seed 11) between them dropping 10 %
 * or 30 % of datagrams each way, 10 MiB down through the SOCKS5 port at
 * download MTU 200, once per FEC level (none, conservative, balanced,
 * aggressive). Prints wall seconds and the bytes the relay carried each
 * way (its stats at exit). One run per case: the loss pattern is seeded,
 * the figures vary with machine load. Asserts nothing but the byte count.
 *
 * The origin is in-process: a thread serving a tiny protocol ("D" + u64:
 * send that many bytes; "U" + u64: read that many, answer "OK").
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
#include "tests/bench/bench-origin.h"

#define MiB	 (1024 * 1024)
#define FEC_DOWN (10ULL * MiB)

static char dir[256];
/* A transfer longer than this is cut (BENCH_FEC_LIMIT seconds). */
static double limit_s = 300;

static unsigned long long
stat_bytes(const char *path, const char *dir_key)
{
	char buf[4096], *p;
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strstr(buf, dir_key)) == NULL ||
	    (p = strstr(p, "\"bytes_out\":")) == NULL)
		return 0;
	return strtoull(p + 12, NULL, 10);
}

static void
run_case(const char *bin, const char *relay, unsigned loss, const char *level)
{
	char p[512], sport[32], cport[32], rport[64], got[64], st[512];
	char lossarg[16];
	uint16_t srv_port = bench_free_port(SOCK_DGRAM), cli_port;
	pid_t srv, cli = -1, rl = -1;
	double d = -1;
	FILE *f;

	snprintf(p, sizeof p, "%s/encrypt_key.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "5f3c8e1a9b2d47e6c0f18a3b5d7e9c21\n");
	fclose(f);
	snprintf(p, sizeof p, "%s/server_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAIN = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "MAX_PACKETS_PER_BATCH = 10\nARQ_WINDOW_SIZE = 4000\n"
	    "ARQ_INITIAL_RTO_SECONDS = 0.2\nARQ_MAX_RTO_SECONDS = 1.0\n"
	    "ARQ_DATA_NACK_INITIAL_DELAY_SECONDS = 0.05\n"
	    "ARQ_DATA_NACK_REPEAT_SECONDS = 0.3\n"
	    "FEC_ENABLED = true\nFEC_MAX_GROUP_SIZE = 16\n"
	    "FEC_MAX_OVERHEAD_PERCENT = 40\n"
	    "MDNS_ALLOW_TARGETS = [\"127.0.0.1/32\"]\n");
	fclose(f);
	snprintf(sport, sizeof sport, "127.0.0.1:%u", srv_port);
	{
		char *av[] = {(char *)bin, "serve", "--config", p, "--listen",
		    sport, NULL};

		srv = bench_spawn(av, "listening", NULL, 0);
	}
	snprintf(st, sizeof st, "%s/relay.json", dir);
	unlink(st);
	snprintf(lossarg, sizeof lossarg, "%u%%", loss);
	{
		char *av[] = {(char *)relay, "--upstream", sport, "--seed",
		    "11", "--loss", lossarg, "--stats", st, NULL};

		rl = srv > 0 ? bench_spawn(av, "port=", got, sizeof got) : -1;
	}
	snprintf(rport, sizeof rport, "127.0.0.1:%ld",
	    rl > 0 ? strtol(got + 5, NULL, 10) : 0L);
	snprintf(p, sizeof p, "%s/resolvers.txt", dir);
	f = fopen(p, "w");
	fprintf(f, "%s\n", rport);
	fclose(f);
	snprintf(p, sizeof p, "%s/client_config.toml", dir);
	f = fopen(p, "w");
	fprintf(f,
	    "DOMAINS = [\"t.example\"]\nDATA_ENCRYPTION_METHOD = 1\n"
	    "ENCRYPTION_KEY = \"5f3c8e1a9b2d47e6c0f18a3b5d7e9c21\"\n"
	    "MIN_DOWNLOAD_MTU = 200\nMAX_DOWNLOAD_MTU = 200\n"
	    "MTU_TEST_RETRIES = 8\nMTU_TEST_TIMEOUT = 0.3\n"
	    "MDNS_MAX_INFLIGHT = 128\nARQ_WINDOW_SIZE = 4000\n"
	    "ARQ_INITIAL_RTO_SECONDS = 0.2\nARQ_MAX_RTO_SECONDS = 1.0\n"
	    "ARQ_DATA_NACK_INITIAL_DELAY_SECONDS = 0.05\n"
	    "ARQ_DATA_NACK_REPEAT_SECONDS = 0.3\n"
	    "FEC_LEVEL = \"%s\"\n",
	    level);
	fclose(f);
	cli_port = bench_free_port(SOCK_STREAM);
	snprintf(cport, sizeof cport, "127.0.0.1:%u", cli_port);
	{
		char rp[512];
		char *av[] = {(char *)bin, "connect", "--config", p,
		    "--resolvers", rp, "--listen", cport, NULL};

		snprintf(rp, sizeof rp, "%s/resolvers.txt", dir);
		cli = rl > 0 ? bench_spawn(av, "connected", NULL, 0) : -1;
	}
	if (cli > 0)
		d = bench_transfer(cli_port, 1, FEC_DOWN, limit_s);
	bench_stop(cli);
	bench_stop(rl);
	bench_stop(srv);
	if (cli <= 0) {
		printf("loss %2u%% %-13s could not start\n", loss, level);
		return;
	}
	printf("loss %2u%% %-13s down 10 MiB %7.2f s (%5.3f MiB/s)  relay "
	       "bytes down %llu up %llu%s\n",
	    loss, level, d, d > 0 ? 10 / d : 0.0, stat_bytes(st, "\"down\""),
	    stat_bytes(st, "\"up\""), d < 0 ? "  (FAILED)" : "");
	fflush(stdout);
}

int
main(void)
{
	const char *bin = getenv("MDNS_BIN");
	static const char *const levels[] = {
	    "none", "conservative", "balanced", "aggressive"};
	static const unsigned losses[] = {10, 30};
	char relay[600];

	signal(SIGPIPE, SIG_IGN);
	if (bin == NULL)
		bin = "build/mdns-doctor";
	snprintf(relay, sizeof relay, "%s", bin);
	if (strrchr(relay, '/') != NULL)
		*strrchr(relay, '/') = '\0';
	else
		snprintf(relay, sizeof relay, ".");
	snprintf(relay + strlen(relay), sizeof relay - strlen(relay),
	    "/tools/udp-relay");
	if (getenv("UDP_RELAY") != NULL)
		snprintf(relay, sizeof relay, "%s", getenv("UDP_RELAY"));
	snprintf(dir, sizeof dir, "%s/mdns-bench-fec.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (bench_origin_start() == -1)
		return 1;
	if (getenv("BENCH_FEC_LIMIT") != NULL)
		limit_s = strtod(getenv("BENCH_FEC_LIMIT"), NULL);
	printf("fec: 10 MiB down at download MTU 200 through the fault relay "
	       "(seed 11), one run per case\n");
	for (size_t i = 0; i < nitems(losses); i++)
		for (size_t j = 0; j < nitems(levels); j++)
			run_case(bin, relay, losses[i], levels[j]);
	{
		char p[512];
		const char *files[] = {"encrypt_key.txt", "server_config.toml",
		    "client_config.toml", "resolvers.txt", "relay.json"};

		for (size_t i = 0; i < nitems(files); i++) {
			snprintf(p, sizeof p, "%s/%s", dir, files[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return 0;
}
