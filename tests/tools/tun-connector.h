/* SPDX-License-Identifier: MIT */
/*
 * tun-connector.h — a flow sink (engine/tun.h) for tests and benchmarks
 * only: each TCP flow from the TUN becomes a plain TCP connection from
 * this process to the flow's destination (or to a fixed address), bytes
 * copied both ways with 64 KiB buffers, backpressure in both directions,
 * half-close carried, a reset answered with a reset. It stands where the
 * tunnel client's streams will stand (docs/tun.md), so the TUN + lwIP
 * path can carry real curl traffic before that wiring exists. Not part
 * of the product.
 *
 * Its sockets must not be routed back into the TUN: tun_conn.bind_dev
 * names the interface they leave through (SO_BINDTODEVICE, which makes
 * the kernel pick among that interface's routes only: the original
 * default route, not the TUN's halves), or tun_conn.fixed sends every
 * flow to one address (loopback in the benchmark).
 *
 * Static functions in a header, included by one tool and one benchmark
 * each (as dnsmini.h is).
 */
#ifndef MDNS_TESTS_TUN_CONNECTOR_H
#define MDNS_TESTS_TUN_CONNECTOR_H

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "engine/tun.h"

#define TC_BUF 65536

struct tun_conn {
	struct ev_loop *loop;
	char bind_dev[IF_NAMESIZE]; /* "" : none */
	union net_addr fixed;	    /* AF_UNSPEC: the flow's destination */
	uint64_t opened, failed, closed;
};

struct tc_pipe {
	uint8_t b[TC_BUF];
	size_t off, len;
	int eof; /* the reading side ended */
};

struct tc_flow {
	struct tun_conn *c;
	struct tun_flow *f;
	int fd;
	int connected;
	int fd_mask;
	struct tc_pipe up;   /* flow -> socket */
	struct tc_pipe down; /* socket -> flow */
	int up_shut, down_shut;
};

static void tc_update(struct tc_flow *x);

static void
tc_end(struct tc_flow *x, int reset)
{
	if (x->fd != -1) {
		if (reset) {
			struct linger l = {1, 0};

			(void)setsockopt(
			    x->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
		}
		ev_io_del(x->c->loop, x->fd);
		close(x->fd);
	}
	if (reset)
		tun_flow_abort(x->f);
	else
		tun_flow_close(x->f);
	x->c->closed++;
	free(x);
}

/* Move bytes; returns -1 when x ended (freed). */
static int
tc_pump(struct tc_flow *x)
{
	ssize_t r;

	/* flow -> socket */
	for (;;) {
		if (x->up.len == 0 && !x->up.eof) {
			r = tun_flow_recv(x->f, x->up.b, TC_BUF);
			if (r > 0) {
				x->up.off = 0;
				x->up.len = (size_t)r;
			} else if (r == 0)
				x->up.eof = 1;
			else if (errno != EAGAIN) {
				tc_end(x, 1);
				return -1;
			}
		}
		if (x->up.len == 0 || !x->connected)
			break;
		r = send(x->fd, x->up.b + x->up.off, x->up.len, MSG_NOSIGNAL);
		if (r > 0) {
			x->up.off += (size_t)r;
			x->up.len -= (size_t)r;
			continue;
		}
		if (r == -1 && errno == EAGAIN)
			break;
		tc_end(x, 1);
		return -1;
	}
	if (x->up.eof && x->up.len == 0 && x->connected && !x->up_shut) {
		(void)shutdown(x->fd, SHUT_WR);
		x->up_shut = 1;
	}
	/* socket -> flow */
	for (; x->connected;) {
		if (x->down.len == 0 && !x->down.eof) {
			r = recv(x->fd, x->down.b, TC_BUF, 0);
			if (r > 0) {
				x->down.off = 0;
				x->down.len = (size_t)r;
			} else if (r == 0)
				x->down.eof = 1;
			else if (errno != EAGAIN) {
				tc_end(x, 1);
				return -1;
			}
		}
		if (x->down.len == 0)
			break;
		r = tun_flow_send(x->f, x->down.b + x->down.off, x->down.len);
		if (r > 0) {
			x->down.off += (size_t)r;
			x->down.len -= (size_t)r;
			continue;
		}
		if (errno == EAGAIN)
			break;
		tc_end(x, 1);
		return -1;
	}
	if (x->down.eof && x->down.len == 0 && !x->down_shut) {
		(void)tun_flow_shutdown_wr(x->f);
		x->down_shut = 1;
	}
	if (x->up_shut && x->down_shut) {
		tc_end(x, 0);
		return -1;
	}
	return 0;
}

static void
tc_sock_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct tc_flow *x = arg;
	struct err e = {""};

	(void)loop;
	(void)fd;
	if (!x->connected) {
		if (net_tcp_connect_result(x->fd, &e) == -1) {
			x->c->failed++;
			tc_end(x, 1);
			return;
		}
		x->connected = 1;
	}
	(void)events;
	if (tc_pump(x) == 0)
		tc_update(x);
}

static void
tc_flow_io(struct tun_flow *f, int events, void *arg)
{
	struct tc_flow *x = arg;

	(void)f;
	(void)events;
	if (tc_pump(x) == 0)
		tc_update(x);
}

/* Interest: read a side while its buffer is empty, write while full. */
static void
tc_update(struct tc_flow *x)
{
	int fm = 0, sm = 0;

	if (!x->connected) {
		sm = EV_WRITE;
	} else {
		if (x->up.len == 0 && !x->up.eof)
			fm |= EV_READ;
		if (x->up.len > 0)
			sm |= EV_WRITE;
		if (x->down.len == 0 && !x->down.eof)
			sm |= EV_READ;
		if (x->down.len > 0)
			fm |= EV_WRITE;
	}
	tun_flow_set_mask(x->f, fm);
	if (sm != x->fd_mask) {
		ev_io_set(x->c->loop, x->fd, sm);
		x->fd_mask = sm;
	}
}

static int
tc_open(void *arg, struct tun_flow *f, const union net_addr *src,
    const union net_addr *dst)
{
	struct tun_conn *c = arg;
	struct tc_flow *x;
	struct err e = {""};
	union net_addr to =
	    c->fixed.sa.sa_family != AF_UNSPEC ? c->fixed : *dst;
	int fd;

	(void)src;
	if (c->fixed.sa.sa_family != AF_UNSPEC)
		net_addr_set_port(&to, net_addr_port(dst));
	fd = socket(
	    to.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (c->bind_dev[0] != '\0' &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->bind_dev,
		(socklen_t)strlen(c->bind_dev)) == -1) {
		close(fd);
		return -1;
	}
	if (connect(fd, &to.sa, net_addr_len(&to)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		c->failed++;
		return -1;
	}
	x = xcalloc(1, sizeof *x);
	x->c = c;
	x->f = f;
	x->fd = fd;
	x->fd_mask = EV_WRITE;
	if (ev_io_add(c->loop, fd, EV_WRITE, tc_sock_io, x, &e) == -1) {
		close(fd);
		free(x);
		return -1;
	}
	tun_flow_set_io(f, 0, tc_flow_io, x);
	c->opened++;
	return 0;
}

#endif
