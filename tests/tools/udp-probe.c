/* SPDX-License-Identifier: MIT */
/*
 * udp-probe — both ends of a measured UDP path, for testing udp-relay from
 * the receiving side rather than trusting the relay's own counters.
 *
 *   udp-probe echo [--listen ADDR] [--port N]
 *       Send every datagram back to its sender. Prints "port=N" when
 *       ready; at SIGTERM/SIGINT prints {"echoed":N} and exits.
 *   udp-probe blast --target ADDR:PORT [--count N] [--size B] [--id X]
 *                   [--window K] [--wait-ms W]
 *       Send N numbered datagrams of B bytes (>= 20), never more than K
 *       beyond the highest number answered so far (so a busy relay or
 *       server never overflows a socket buffer and adds losses of its
 *       own; after 100 ms without answers the window's tail counts as
 *       lost and sending goes on), then collect for
 *       W ms more, and print one JSON object: sent, received (datagrams),
 *       unique (distinct sequence numbers), duplicates, out_of_order (a
 *       first arrival below the highest number already seen), truncated
 *       (shorter than sent), foreign (not ours: another client's id) and
 *       the smallest and largest round trip in microseconds.
 *
 * Datagram layout: 8-byte client id, 4-byte sequence number, 8-byte send
 * time (monotonic us), then filler. Exit 0, or 2 on usage/socket errors.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
big_buffers(int fd)
{
	int sz = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

static uint64_t
be64_load(const uint8_t *p)
{
	return ((uint64_t)be32_load(p) << 32) | be32_load(p + 4);
}

static void
be64_store(uint8_t *p, uint64_t v)
{
	be32_store(p, (uint32_t)(v >> 32));
	be32_store(p + 4, (uint32_t)v);
}

static int
run_echo(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"port", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	static uint8_t buf[65536];
	struct sigaction sa;
	union net_addr a, from;
	struct err e = {""};
	const char *listen_s = "127.0.0.1";
	long long port = 0;
	uint64_t echoed = 0;
	socklen_t fl;
	ssize_t n;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			listen_s = optarg;
		else if (c != 'p' ||
		    parse_int(optarg, 0, 65535, &port, &e) < 0) {
			fprintf(stderr,
			    "usage: udp-probe echo [--listen ADDR] "
			    "[--port N]\n");
			return 2;
		}
	}
	if (net_addr_parse(listen_s, (uint16_t)port, &a, &e) < 0 ||
	    (fd = net_udp_bind(&a, &e)) < 0 || net_local_addr(fd, &a, &e) < 0) {
		fprintf(stderr, "udp-probe: %s\n", e.msg);
		return 2;
	}
	big_buffers(fd);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("port=%u\n", net_addr_port(&a));
	fflush(stdout);
	while (!stop_flag) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, -1) <= 0)
			continue;
		for (;;) {
			fl = sizeof from;
			n = recvfrom(fd, buf, sizeof buf, 0, &from.sa, &fl);
			if (n < 0)
				break;
			if (sendto(fd, buf, (size_t)n, 0, &from.sa, fl) >= 0)
				echoed++;
		}
	}
	printf("{\"echoed\":%llu}\n", (unsigned long long)echoed);
	return 0;
}

struct blast {
	uint64_t id;
	uint32_t count;
	size_t size;
	uint8_t *seen;
	uint64_t received, unique, dups, ooo, trunc, foreign;
	int64_t high;
	uint32_t ack; /* window base: one past the highest answered */
	uint64_t rtt_min, rtt_max;
};

static void
blast_drain(struct blast *b, int fd)
{
	static uint8_t buf[65536];
	ssize_t n;
	uint32_t seq;
	uint64_t rtt;

	while ((n = recv(fd, buf, sizeof buf, 0)) >= 0) {
		b->received++;
		if ((size_t)n < b->size)
			b->trunc++;
		if (n < 20 || be64_load(buf) != b->id) {
			b->foreign += n >= 8 && be64_load(buf) != b->id;
			continue;
		}
		seq = be32_load(buf + 8);
		if (seq >= b->count) {
			b->foreign++;
			continue;
		}
		if (b->seen[seq]) {
			b->dups++;
			continue;
		}
		b->seen[seq] = 1;
		b->unique++;
		if ((int64_t)seq < b->high)
			b->ooo++;
		else
			b->high = seq;
		if (seq >= b->ack)
			b->ack = seq + 1;
		rtt = now_mono_us() - be64_load(buf + 12);
		if (b->unique == 1 || rtt < b->rtt_min)
			b->rtt_min = rtt;
		if (rtt > b->rtt_max)
			b->rtt_max = rtt;
	}
}

/* Collect answers for us microseconds, or only until some come (first). */
static void
blast_wait(struct blast *b, int fd, uint64_t us, int first)
{
	uint64_t end = now_mono_us() + us, now;

	while ((now = now_mono_us()) < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = (int)((end - now + 999) / 1000);

		if (poll(&p, 1, ms) > 0) {
			blast_drain(b, fd);
			if (first)
				return;
		}
	}
	blast_drain(b, fd);
}

static int
run_blast(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'n'},
	    {"size", required_argument, NULL, 's'},
	    {"id", required_argument, NULL, 'i'},
	    {"window", required_argument, NULL, 'k'},
	    {"wait-ms", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct blast b = {.count = 1000, .size = 100, .high = -1};
	union net_addr target, any;
	struct err e = {""};
	const char *target_s = NULL;
	long long v, window = 256, wait_ms = 500;
	uint8_t *pkt;
	uint32_t seq;
	uint64_t sent = 0;
	int c, fd, bad = 0;

	if (getrandom(&b.id, sizeof b.id, 0) != sizeof b.id)
		b.id = now_mono_us() ^ (uint64_t)getpid();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			target_s = optarg;
			break;
		case 'n':
			bad |= parse_int(optarg, 1, 10000000, &v, &e);
			b.count = (uint32_t)v;
			break;
		case 's':
			bad |= parse_int(optarg, 20, 65000, &v, &e);
			b.size = (size_t)v;
			break;
		case 'i':
			bad |= parse_int(optarg, 0, INT64_MAX, &v, &e);
			b.id = (uint64_t)v;
			break;
		case 'k':
			bad |= parse_int(optarg, 1, 100000, &window, &e);
			break;
		case 'w':
			bad |= parse_int(optarg, 0, 600000, &wait_ms, &e);
			break;
		default:
			bad = -1;
		}
	}
	if (bad || target_s == NULL) {
		fprintf(stderr,
		    "usage: udp-probe blast --target ADDR:PORT "
		    "[--count N] [--size B] [--id X] [--window K] "
		    "[--wait-ms W]%s%s\n",
		    e.msg[0] ? ": " : "", e.msg);
		return 2;
	}
	if (net_addr_parse(target_s, 0, &target, &e) < 0) {
		fprintf(stderr, "udp-probe: %s\n", e.msg);
		return 2;
	}
	memset(&any, 0, sizeof any);
	any.sa.sa_family = target.sa.sa_family;
	if ((fd = net_udp_bind(&any, &e)) < 0) {
		fprintf(stderr, "udp-probe: %s\n", e.msg);
		return 2;
	}
	if (connect(fd, &target.sa, net_addr_len(&target)) < 0) {
		fprintf(stderr, "udp-probe: connect %s: %s\n", target_s,
		    strerror(errno));
		return 2;
	}
	big_buffers(fd);
	b.seen = xcalloc(b.count, 1);
	pkt = xmalloc(b.size);
	for (size_t i = 20; i < b.size; i++)
		pkt[i] = (uint8_t)i;
	be64_store(pkt, b.id);
	for (seq = 0; seq < b.count; seq++) {
		while (seq - b.ack >= (uint32_t)window) {
			uint64_t before = b.received;

			blast_wait(&b, fd, 100000, 1);
			if (b.received == before)
				b.ack = seq; /* the window's tail was lost */
		}
		be32_store(pkt + 8, seq);
		be64_store(pkt + 12, now_mono_us());
		/* A refused send (no listener yet: ECONNREFUSED) is a loss. */
		if (send(fd, pkt, b.size, 0) == (ssize_t)b.size)
			sent++;
		blast_drain(&b, fd);
	}
	blast_wait(&b, fd, (uint64_t)wait_ms * 1000, 0);
	printf("{\"sent\":%llu,\"received\":%llu,\"unique\":%llu,"
	       "\"duplicates\":%llu,\"out_of_order\":%llu,\"truncated\":%llu,"
	       "\"foreign\":%llu,\"rtt_min_us\":%llu,\"rtt_max_us\":%llu}\n",
	    (unsigned long long)sent, (unsigned long long)b.received,
	    (unsigned long long)b.unique, (unsigned long long)b.dups,
	    (unsigned long long)b.ooo, (unsigned long long)b.trunc,
	    (unsigned long long)b.foreign, (unsigned long long)b.rtt_min,
	    (unsigned long long)b.rtt_max);
	free(b.seen);
	free(pkt);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "echo") == 0)
		return run_echo(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "blast") == 0)
		return run_blast(argc - 1, argv + 1);
	fprintf(stderr, "usage: udp-probe echo|blast [options]\n");
	return 2;
}
