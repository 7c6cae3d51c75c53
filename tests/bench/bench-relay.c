/* SPDX-License-Identifier: MIT */
/*
 * bench-relay — packets per second through build/tools/udp-relay with no
 * faults configured (the relay's own cost) and with 10 % loss plus 5 %
 * duplication and reordering. This program is both ends: it sends 100-byte
 * datagrams to the relay and receives them on its own "server" socket,
 * keeping at most 256 in flight so the kernel's buffers never drop any.
 * Prints the median of three runs of 100,000 packets each. It finds the
 * relay next to this binary's directory or at $UDP_RELAY.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"

#define PKTS   100000
#define WINDOW 256
#define RUNS   3

static pid_t
start_relay(
    const char *path, uint16_t upstream_port, char **faults, uint16_t *port)
{
	char up[32], line[64];
	char *args[16];
	int pfd[2], n = 0;
	long long p;
	pid_t pid;
	FILE *f;

	snprintf(up, sizeof up, "127.0.0.1:%u", upstream_port);
	args[n++] = (char *)path;
	args[n++] = "--upstream";
	args[n++] = up;
	args[n++] = "--seed";
	args[n++] = "1";
	while (*faults && n < 15)
		args[n++] = *faults++;
	args[n] = NULL;
	if (pipe(pfd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(path, args);
		fprintf(stderr, "bench-relay: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (f == NULL || fgets(line, sizeof line, f) == NULL ||
	    strncmp(line, "port=", 5) != 0 ||
	    parse_int(str_trim(line + 5), 1, 65535, &p, NULL) < 0) {
		kill(pid, SIGTERM);
		return -1;
	}
	fclose(f);
	*port = (uint16_t)p;
	return pid;
}

/*
 * One run; returns microseconds. Packets carry a sequence number; the
 * highest one received bounds what can still be in flight (the relay holds
 * back at most one packet per direction), so losses never stall the window.
 */
static uint64_t
run(int cfd, int sfd, uint64_t *delivered)
{
	uint8_t pkt[100] = {0}, buf[2048];
	uint32_t sent = 0, high = 0;
	uint64_t t0 = now_mono_us();
	ssize_t n;

	while (sent < PKTS) {
		if (sent - high < WINDOW) {
			be32_store(pkt, sent);
			if (send(cfd, pkt, sizeof pkt, 0) == sizeof pkt)
				sent++;
			continue;
		}
		struct pollfd p = {.fd = sfd, .events = POLLIN};

		if (poll(&p, 1, 100) <= 0) {
			high = sent; /* the window's tail was lost */
			continue;
		}
		while ((n = recv(sfd, buf, sizeof buf, MSG_DONTWAIT)) >= 4) {
			(*delivered)++;
			high = MAX(high, be32_load(buf) + 1);
		}
	}
	for (;;) {
		struct pollfd p = {.fd = sfd, .events = POLLIN};

		if (poll(&p, 1, 50) <= 0)
			break;
		while (recv(sfd, buf, sizeof buf, MSG_DONTWAIT) >= 4)
			(*delivered)++;
	}
	/* The final 50 ms of silence is not work. */
	return now_mono_us() - t0 - 50000;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static char *none[] = {NULL};
	static char *faulty[] = {
	    "--up-loss", "10%", "--up-dup", "5%", "--up-reorder", "5%", NULL};
	static char **cases[] = {none, faulty};
	static const char *names[] = {
	    "no faults", "loss 10% dup 5% reorder 5%"};
	char *self = xstrdup(argv[0]), *path;
	union net_addr a;
	struct err e = {""};
	uint16_t sport, rport;
	int c, i;

	(void)argc;
	path = getenv("UDP_RELAY") ?
	    xstrdup(getenv("UDP_RELAY")) :
	    xasprintf("%s/../tools/udp-relay", dirname(self));
	for (c = 0; c < 2; c++) {
		uint64_t us[RUNS], delivered = 0;
		int sfd, cfd;
		pid_t pid;

		net_addr_parse("127.0.0.1:0", 0, &a, &e);
		if ((sfd = net_udp_bind(&a, &e)) < 0 ||
		    net_local_addr(sfd, &a, &e) < 0) {
			fprintf(stderr, "bench-relay: %s\n", e.msg);
			return 1;
		}
		sport = net_addr_port(&a);
		if ((pid = start_relay(path, sport, cases[c], &rport)) < 0) {
			fprintf(stderr, "bench-relay: relay did not start\n");
			return 1;
		}
		net_addr_set_port(&a, 0);
		cfd = net_udp_bind(&a, &e);
		net_addr_set_port(&a, rport);
		if (cfd < 0 || connect(cfd, &a.sa, net_addr_len(&a)) < 0) {
			fprintf(stderr, "bench-relay: client socket\n");
			kill(pid, SIGTERM);
			return 1;
		}
		for (i = 0; i < RUNS; i++)
			us[i] = run(cfd, sfd, &delivered);
		qsort(us, RUNS, sizeof us[0], cmp_u64);
		printf("udp-relay %s: %d packets of 100 B, median %.1f ms, "
		       "%.0f packets/s (delivered %.1f %%)\n",
		    names[c], PKTS, us[RUNS / 2] / 1000.0,
		    PKTS * 1e6 / (double)us[RUNS / 2],
		    100.0 * (double)delivered / (PKTS * RUNS));
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		close(cfd);
		close(sfd);
	}
	free(path);
	free(self);
	return 0;
}
