/* SPDX-License-Identifier: MIT */
/*
 * bench-origin.h — the end-to-end benchmarks' traffic (header only, like
 * bench-proc.h): an in-process origin thread serving a tiny protocol
 * ("D" + u64: send that many bytes; "U" + u64: read that many, answer
 * "OK") and one timed transfer through a SOCKS5 port to it.
 */
#ifndef MDNS_BENCH_ORIGIN_H
#define MDNS_BENCH_ORIGIN_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/bench/bench-proc.h"

static int bench_origin_fd;
static uint16_t bench_origin_port;

/* n bytes from fd; -1 on EOF, error, or when deadline (s) passed. */
static inline int
bench_readn(int fd, void *p, size_t n, double deadline)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		if (r == -1 && (errno == EAGAIN || errno == EINTR) &&
		    bench_now_s() < deadline)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static inline void *
bench_origin_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t hdr[9], buf[65536];
	uint64_t n, left;
	ssize_t r;

	memset(buf, 'x', sizeof buf);
	if (bench_readn(fd, hdr, 9, 1e300) == 0) {
		n = 0;
		for (int i = 1; i < 9; i++)
			n = (n << 8) | hdr[i];
		for (left = n; left > 0; left -= (uint64_t)r) {
			if (hdr[0] == 'D')
				r = write(fd, buf,
				    left < sizeof buf ? left : sizeof buf);
			else
				r = read(fd, buf,
				    left < sizeof buf ? left : sizeof buf);
			if (r <= 0)
				break;
		}
		if (hdr[0] == 'U')
			(void)!write(fd, "OK", 2);
	}
	close(fd);
	return NULL;
}

static inline void *
bench_origin_main(void *arg)
{
	pthread_t t;
	int fd;

	(void)arg;
	while ((fd = accept(bench_origin_fd, NULL, NULL)) != -1) {
		pthread_create(
		    &t, NULL, bench_origin_conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
	return NULL;
}

/* Start the origin on a free loopback port; -1 on failure. */
static inline int
bench_origin_start(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	pthread_t t;

	bench_origin_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(bench_origin_fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(bench_origin_fd, 64) == -1 ||
	    getsockname(bench_origin_fd, (struct sockaddr *)&a, &l) == -1)
		return -1;
	bench_origin_port = ntohs(a.sin_port);
	pthread_create(&t, NULL, bench_origin_main, NULL);
	return 0;
}

/*
 * One transfer of n bytes (down: origin to us) through the SOCKS5 port;
 * returns seconds, or -1 when it failed or took longer than limit_s.
 */
static inline double
bench_transfer(uint16_t socks, int down, uint64_t n, double limit_s)
{
	struct sockaddr_in a;
	struct timeval tv = {1, 0};
	uint8_t b[65536], req[16];
	uint64_t left;
	double t0, dl;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(socks);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	t0 = bench_now_s();
	dl = t0 + limit_s;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1)
		goto fail;
	memcpy(req, "\x05\x01\x00", 3);
	if (write(fd, req, 3) != 3 || bench_readn(fd, b, 2, dl) == -1)
		goto fail;
	memcpy(req, "\x05\x01\x00\x01\x7f\x00\x00\x01", 8);
	req[8] = (uint8_t)(bench_origin_port >> 8);
	req[9] = (uint8_t)bench_origin_port;
	if (write(fd, req, 10) != 10 || bench_readn(fd, b, 10, dl) == -1 ||
	    b[1] != 0)
		goto fail;
	b[0] = down ? 'D' : 'U';
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(n >> (56 - 8 * i));
	if (write(fd, b, 9) != 9)
		goto fail;
	memset(b, 'y', sizeof b);
	for (left = n; left > 0; left -= (uint64_t)r) {
		r = down ? read(fd, b, left < sizeof b ? left : sizeof b) :
			   write(fd, b, left < sizeof b ? left : sizeof b);
		if (r == -1 && (errno == EAGAIN || errno == EINTR) &&
		    bench_now_s() < dl) {
			r = 0;
			continue;
		}
		if (r <= 0)
			goto fail;
	}
	if (!down && bench_readn(fd, b, 2, dl) == -1)
		goto fail;
	close(fd);
	return bench_now_s() - t0;
fail:
	close(fd);
	return -1;
}

#endif
