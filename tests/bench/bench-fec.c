/* SPDX-License-Identifier: MIT */
/*
 * bench-fec.c — the download FEC (docs/fec.md) against loss: `serve`
 * (FEC_ENABLED, ceilings 16 / 40 %) and `connect` as real processes, the
 * fault relay (build/tools/udp-relay, seed 11) between them dropping 10 %
 * or 30 % of datagrams each way, a download through the SOCKS5 port at
 * download MTU 200, once per FEC level (none, conservative, balanced,
 * aggressive): 10 MiB at 10 % and 30 % loss (BENCH_FEC_MIB and
 * BENCH_FEC_MIB30 change them; the size is printed). Prints wall seconds,
 * the bytes the relay carried each way (its stats at exit), the server's
 * retransmissions (RTO + RESEND, status `arq`), its repair symbols sent
 * and skipped (group acknowledged) and the client's recovered packets.
 * One run per case: the loss pattern is seeded, the figures vary with
 * machine load. Asserts nothing but the byte count. BENCH_FEC_LOSS
 * ("10,30") and BENCH_FEC_LEVELS ("none,conservative,...") pick cases.
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

#include <jansson.h>

#include "common/util.h"
#include "tests/bench/bench-proc.h"
#include "tests/bench/bench-origin.h"

#define MiB (1024 * 1024)

static char dir[256];
/* A transfer longer than this is cut (BENCH_FEC_LIMIT seconds). */
static double limit_s = 300;

/* A number at path (dotted) in the JSON status of the process behind
 * control socket sock, or -1. */
static long long
status_num(const char *bin, const char *sock, const char *path)
{
	char cmd[1200], key[64];
	const char *p = path, *dot;
	json_t *root, *o;
	json_error_t je;
	long long v = -1;
	FILE *f;

	snprintf(
	    cmd, sizeof cmd, "%s status --control %s --format json", bin, sock);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	root = json_loadf(f, 0, &je);
	pclose(f);
	for (o = root; o != NULL && *p != '\0'; p = *dot ? dot + 1 : dot) {
		dot = strchr(p, '.');
		if (dot == NULL)
			dot = p + strlen(p);
		snprintf(key, sizeof key, "%.*s", (int)(dot - p), p);
		o = json_object_get(o, key);
	}
	if (o != NULL && json_is_integer(o))
		v = (long long)json_integer_value(o);
	json_decref(root);
	return v;
}

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
run_case(const char *bin, const char *relay, unsigned loss, const char *level,
    unsigned mib)
{
	char p[512], sport[32], cport[32], rport[64], got[64], st[512];
	char lossarg[16], ssock[300], csock[300];
	long long rtx = -1, ssent = -1, sskip = -1, rec = -1;
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
		    sport, "--control", ssock, NULL};

		snprintf(ssock, sizeof ssock, "%s/srv.sock", dir);
		unlink(ssock);
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
		    "--resolvers", rp, "--listen", cport, "--control", csock,
		    NULL};

		snprintf(rp, sizeof rp, "%s/resolvers.txt", dir);
		snprintf(csock, sizeof csock, "%s/cli.sock", dir);
		unlink(csock);
		cli = rl > 0 ? bench_spawn(av, "connected", NULL, 0) : -1;
	}
	if (cli > 0) {
		d = bench_transfer(cli_port, 1, (uint64_t)mib * MiB, limit_s);
		rtx = status_num(bin, ssock, "arq.retransmits");
		ssent = status_num(bin, ssock, "fec.symbols_sent");
		sskip = status_num(bin, ssock, "fec.symbols_skipped");
		rec = status_num(bin, csock, "fec.recovered_packets");
		if (getenv("BENCH_FEC_VERBOSE") != NULL) {
			char cmd[1400], line[4096];
			FILE *pf;

			/* the status objects as they are, for a closer look */
			snprintf(cmd, sizeof cmd,
			    "for s in %s %s; do %s status --control $s "
			    "--format json | jq -c '{fec, arq}'; done",
			    ssock, csock, bin);
			pf = popen(cmd, "r");
			while (pf != NULL && fgets(line, sizeof line, pf))
				fputs(line, stdout);
			if (pf != NULL)
				pclose(pf);
		}
	}
	bench_stop(cli);
	bench_stop(rl);
	bench_stop(srv);
	if (cli <= 0) {
		printf("loss %2u%% %-13s could not start\n", loss, level);
		return;
	}
	printf("loss %2u%% %-13s down %2u MiB %7.2f s (%5.3f MiB/s)  relay "
	       "bytes down %llu up %llu  server retransmits %lld  symbols "
	       "sent %lld skipped %lld  client recovered %lld%s\n",
	    loss, level, mib, d, d > 0 ? mib / d : 0.0,
	    stat_bytes(st, "\"down\""), stat_bytes(st, "\"up\""), rtx, ssent,
	    sskip, rec, d < 0 ? "  (FAILED)" : "");
	fflush(stdout);
}

int
main(void)
{
	const char *bin = getenv("MDNS_BIN");
	const char *levels = getenv("BENCH_FEC_LEVELS"), *lp, *losses;
	unsigned mib10 = 10, mib30 = 10, loss;
	char relay[600], lv[32];
	char *end;

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
	if (getenv("BENCH_FEC_MIB") != NULL)
		mib10 = (unsigned)strtoul(getenv("BENCH_FEC_MIB"), NULL, 10);
	if (getenv("BENCH_FEC_MIB30") != NULL)
		mib30 = (unsigned)strtoul(getenv("BENCH_FEC_MIB30"), NULL, 10);
	if (levels == NULL)
		levels = "none,conservative,balanced,aggressive";
	if ((losses = getenv("BENCH_FEC_LOSS")) == NULL)
		losses = "10,30";
	printf("fec: %u MiB (10 %% loss) / %u MiB (30 %% loss) down at "
	       "download MTU 200 through the fault relay (seed 11), one run "
	       "per case, limit %.0f s\n",
	    mib10, mib30, limit_s);
	for (; *losses != '\0'; losses = *end ? end + 1 : end) {
		loss = (unsigned)strtoul(losses, &end, 10);
		for (lp = levels; *lp != '\0';) {
			size_t k = strcspn(lp, ",");

			snprintf(lv, sizeof lv, "%.*s", (int)k, lp);
			run_case(
			    bin, relay, loss, lv, loss >= 30 ? mib30 : mib10);
			lp += k + (lp[k] == ',');
		}
		if (end == losses)
			break;
	}
	{
		char p[512];
		const char *files[] = {"encrypt_key.txt", "server_config.toml",
		    "client_config.toml", "resolvers.txt", "relay.json",
		    "srv.sock", "cli.sock"};

		for (size_t i = 0; i < nitems(files); i++) {
			snprintf(p, sizeof p, "%s/%s", dir, files[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return 0;
}
