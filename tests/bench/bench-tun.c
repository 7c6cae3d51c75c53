/* SPDX-License-Identifier: MIT */
/*
 * bench-tun — what the userspace TCP/IP stack costs: 10 MiB downloads
 * through the TUN device and lwIP (engine/tun.h, flows carried on by the
 * test connector of tests/tools/tun-connector.h) against the same
 * download through a plain socket relay on the same event loop (what a
 * SOCKS hop costs without its handshake), and directly for reference.
 * In a network namespace of its own (unshare; root needed, else it says
 * so and exits 0): a server thread sends the bytes on 127.0.0.1, a client
 * thread reads them, the main thread runs the loop. Prints, per path, the
 * median of five runs: MiB/s and the loop thread's CPU time per MiB (the
 * cost the engine's thread would carry), and the whole process's.
 * The final TUN-versus-SOCKS comparison through the real tunnel comes
 * when the client is wired (docs/tun.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/nl.h"
#include "engine/tun.h"
#include "tests/tools/tun-connector.h"

#define BYTES (10u << 20)
#define RUNS  5

static uint16_t srv_port;
static int srv_fd;

/* Each accepted connection gets BYTES bytes, then EOF. */
static void *
server(void *arg)
{
	static uint8_t buf[65536];
	size_t left;
	ssize_t w;
	int c;

	(void)arg;
	memset(buf, 'x', sizeof buf);
	for (;;) {
		if ((c = accept(srv_fd, NULL, NULL)) == -1)
			return NULL;
		for (left = BYTES; left > 0; left -= (size_t)w)
			if ((w = send(c, buf, MIN(left, sizeof buf),
				 MSG_NOSIGNAL)) <= 0)
				break;
		close(c);
	}
}

struct client {
	union net_addr to;
	size_t got;
	int done_fd;
};

static void *
client(void *arg)
{
	static uint8_t buf[65536];
	struct client *c = arg;
	ssize_t r;
	uint64_t one = 1;
	int fd = socket(c->to.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	c->got = 0;
	if (fd != -1 && connect(fd, &c->to.sa, net_addr_len(&c->to)) == 0)
		while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
			c->got += (size_t)r;
	if (fd != -1)
		close(fd);
	if (write(c->done_fd, &one, sizeof one) != sizeof one)
		perror("bench-tun: eventfd");
	return NULL;
}

/* ---- the plain relay ---- */

struct rly {
	struct ev_loop *loop;
	int a, b; /* client side, server side */
	uint8_t buf[65536];
	size_t off, len;
};

static void
rly_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct rly *x = arg;
	ssize_t r;

	(void)fd;
	(void)events;
	for (;;) {
		if (x->len == 0) {
			r = recv(x->b, x->buf, sizeof x->buf, 0);
			if (r == 0 || (r < 0 && errno != EAGAIN))
				goto end;
			if (r < 0)
				break;
			x->off = 0;
			x->len = (size_t)r;
		}
		r = send(x->a, x->buf + x->off, x->len, MSG_NOSIGNAL);
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0)
			goto end;
		x->off += (size_t)r;
		x->len -= (size_t)r;
	}
	ev_io_set(loop, x->b, x->len == 0 ? EV_READ : 0);
	ev_io_add(loop, x->a, x->len > 0 ? EV_WRITE : 0, rly_io, x, NULL);
	return;
end:
	ev_io_del(loop, x->a);
	ev_io_del(loop, x->b);
	close(x->a);
	close(x->b);
	free(x);
}

static void
rly_accept(struct ev_loop *loop, int fd, int events, void *arg)
{
	union net_addr *to = arg;
	struct rly *x;
	int a;

	(void)events;
	while ((a = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		x = xcalloc(1, sizeof *x);
		x->loop = loop;
		x->a = a;
		x->b = socket(AF_INET, SOCK_STREAM, 0);
		/* loopback connects at once; then non-blocking */
		if (connect(x->b, &to->sa, net_addr_len(to)) == -1) {
			close(a);
			close(x->b);
			free(x);
			continue;
		}
		(void)net_set_nonblock(x->b, NULL);
		ev_io_add(loop, x->b, EV_READ, rly_io, x, NULL);
		ev_io_add(loop, x->a, 0, rly_io, x, NULL);
	}
}

/* ---- measuring ---- */

static double
cpu_s(int who)
{
	struct rusage u;

	getrusage(who, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
	    ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static void
on_done(struct ev_loop *loop, int fd, int events, void *arg)
{
	uint64_t v;

	(void)events;
	(void)arg;
	if (read(fd, &v, sizeof v) == sizeof v)
		ev_stop(loop);
}

struct result {
	double mibs, loop_ms, proc_ms;
};

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
run(struct ev_loop *loop, const union net_addr *to, int efd, struct result *r)
{
	double t0, l0, p0, mibs[RUNS], lm[RUNS], pm[RUNS];
	struct client c;
	pthread_t th;
	int i;

	for (i = 0; i < RUNS; i++) {
		c.to = *to;
		c.done_fd = efd;
		t0 = (double)now_mono_us() / 1e6;
		l0 = cpu_s(RUSAGE_THREAD);
		p0 = cpu_s(RUSAGE_SELF);
		pthread_create(&th, NULL, client, &c);
		ev_run(loop);
		pthread_join(th, NULL);
		if (c.got != BYTES) {
			fprintf(stderr, "bench-tun: got %zu of %u bytes\n",
			    c.got, BYTES);
			return -1;
		}
		mibs[i] =
		    (BYTES / 1048576.0) / ((double)now_mono_us() / 1e6 - t0);
		lm[i] =
		    (cpu_s(RUSAGE_THREAD) - l0) * 1000 / (BYTES / 1048576.0);
		pm[i] = (cpu_s(RUSAGE_SELF) - p0) * 1000 / (BYTES / 1048576.0);
	}
	qsort(mibs, RUNS, sizeof *mibs, cmp_d);
	qsort(lm, RUNS, sizeof *lm, cmp_d);
	qsort(pm, RUNS, sizeof *pm, cmp_d);
	r->mibs = mibs[RUNS / 2];
	r->loop_ms = lm[RUNS / 2];
	r->proc_ms = pm[RUNS / 2];
	return 0;
}

static void
report(const char *what, const struct result *r)
{
	printf("  %-34s %8.1f MiB/s  loop %6.2f ms CPU/MiB  process %6.2f "
	       "ms CPU/MiB\n",
	    what, r->mibs, r->loop_ms, r->proc_ms);
}

int
main(void)
{
	struct ev_loop *loop;
	struct tun_config tc;
	struct tun_conn conn;
	struct tun_flow_sink fs = {tc_open, &conn};
	struct nl_route_spec rs;
	struct result direct, relay, viatun;
	union net_addr a, to;
	struct err e = {""};
	struct tun *t;
	struct nl nl;
	pthread_t th;
	int efd, lfd;

	if (unshare(CLONE_NEWNET) == -1) {
		printf("bench-tun: skipped (needs root for a network "
		       "namespace and a TUN device: %s)\n",
		    strerror(errno));
		return 0;
	}
	if (nl_open(&nl, &e) == -1 || nl_link_set_up(&nl, 1, 1, &e) == -1)
		goto fail;
	loop = ev_loop_new(&e);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev_io_add(loop, efd, EV_READ, on_done, NULL, &e);

	(void)net_addr_parse("127.0.0.1:0", 0, &a, &e);
	if ((srv_fd = net_tcp_listen(&a, 16, &e)) == -1 ||
	    net_local_addr(srv_fd, &a, &e) == -1)
		goto fail;
	/* The server thread blocks in accept. */
	(void)fcntl(srv_fd, F_SETFL, fcntl(srv_fd, F_GETFL) & ~O_NONBLOCK);
	srv_port = net_addr_port(&a);
	pthread_create(&th, NULL, server, NULL);

	printf("bench-tun: 10 MiB downloads, median of %d\n", RUNS);
	/* direct: the client straight to the server */
	{
		uint64_t one = 1;
		double t0 = (double)now_mono_us() / 1e6,
		       p0 = cpu_s(RUSAGE_SELF);
		struct client c = {a, 0, efd};

		client(&c);
		if (read(efd, &one, sizeof one) != sizeof one)
			return 1;
		direct.mibs =
		    (BYTES / 1048576.0) / ((double)now_mono_us() / 1e6 - t0);
		direct.loop_ms = 0;
		direct.proc_ms =
		    (cpu_s(RUSAGE_SELF) - p0) * 1000 / (BYTES / 1048576.0);
		report("direct (kernel only, one run)", &direct);
	}

	(void)net_addr_parse("127.0.0.1:0", 0, &to, &e);
	if ((lfd = net_tcp_listen(&to, 16, &e)) == -1 ||
	    net_local_addr(lfd, &to, &e) == -1 ||
	    ev_io_add(loop, lfd, EV_READ, rly_accept, &a, &e) == -1)
		goto fail;
	if (run(loop, &to, efd, &relay) == -1)
		return 1;
	report("socket relay on the loop", &relay);
	ev_io_del(loop, lfd);
	close(lfd);

	memset(&conn, 0, sizeof conn);
	conn.loop = loop;
	conn.fixed = a; /* every flow to the server, its port kept */
	tun_config_defaults(&tc);
	snprintf(tc.ifname, sizeof tc.ifname, "mdnsbench0");
	if ((t = tun_open(loop, &tc, &fs, NULL, &e)) == NULL)
		goto fail;
	memset(&rs, 0, sizeof rs);
	rs.family = AF_INET;
	(void)net_addr_parse("10.99.0.0:0", 0, &rs.dst, &e);
	rs.dst_len = 24;
	rs.oif = tun_ifindex(t);
	rs.metric = -1;
	if (nl_route_add(&nl, &rs, 0, &e) == -1)
		goto fail;
	(void)net_addr_parse("10.99.0.1:0", srv_port, &to, &e);
	net_addr_set_port(&to, srv_port);
	if (run(loop, &to, efd, &viatun) == -1)
		return 1;
	report("TUN + lwIP + connector", &viatun);
	printf("  userspace stack: %.2f ms CPU/MiB more on the loop thread "
	       "than the relay (%.1fx)\n",
	    viatun.loop_ms - relay.loop_ms,
	    relay.loop_ms > 0 ? viatun.loop_ms / relay.loop_ms : 0.0);
	tun_close(t);
	nl_close(&nl);
	return 0;
fail:
	fprintf(stderr, "bench-tun: %s\n", e.msg);
	return 1;
}
