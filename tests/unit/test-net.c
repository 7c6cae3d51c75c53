/* SPDX-License-Identifier: MIT */
/*
 * test-net.c — address parsing (good and bad input, exact messages),
 * formatting round trips, the address hash, and real UDP and TCP traffic over loopback.
 * The acceptor under descriptor exhaustion (a low RLIMIT_NOFILE, every
 * slot filled): pending connections are shed with the message through the
 * reserve descriptor, without the reserve the listener pauses instead of
 * being polled again, and it serves again once descriptors are free.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/hmap.h"
#include "common/net.h"
#include "tests/tap.h"

/* Wait (bounded, so a bug cannot hang the suite) until fd is ready. */
static int
wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	return poll(&p, 1, 5000) == 1 && (p.revents & events);
}

struct good_case {
	const char *in;
	uint16_t def;
	int family;
	const char *ip;
	uint16_t port;
	const char *formatted;
};

static const struct good_case good[] = {
    {"1.2.3.4", 53, AF_INET, "1.2.3.4", 53, "1.2.3.4:53"},
    {"1.2.3.4:5353", 53, AF_INET, "1.2.3.4", 5353, "1.2.3.4:5353"},
    {"127.0.0.1:0", 53, AF_INET, "127.0.0.1", 0, "127.0.0.1:0"},
    {"255.255.255.255:65535", 1, AF_INET, "255.255.255.255", 65535,
	"255.255.255.255:65535"},
    {"::1", 53, AF_INET6, "::1", 53, "[::1]:53"},
    {"[::1]", 7, AF_INET6, "::1", 7, "[::1]:7"},
    {"[::1]:53", 7, AF_INET6, "::1", 53, "[::1]:53"},
    {"2001:DB8::0:1", 53, AF_INET6, "2001:db8::1", 53, "[2001:db8::1]:53"},
    {"[::ffff:1.2.3.4]:80", 0, AF_INET6, "::ffff:1.2.3.4", 80,
	"[::ffff:1.2.3.4]:80"},
    {"::", 0, AF_INET6, "::", 0, "[::]:0"},
    {"1.2.3.4:00053", 0, AF_INET, "1.2.3.4", 53, "1.2.3.4:53"},
};

struct bad_case {
	const char *in;
	const char *msg;
};

static const struct bad_case bad[] = {
    {"", "bad address: empty"},
    {"1.2.3", "bad address: 1.2.3"},
    {"1.2.3.256", "bad address: 1.2.3.256"},
    {"1.2.3.4:", "bad address: 1.2.3.4:"},
    {"1.2.3.4:x", "bad address: 1.2.3.4:x"},
    {"1.2.3.4:-1", "bad address: 1.2.3.4:-1"},
    {"1.2.3.4:+53", "bad address: 1.2.3.4:+53"},
    {"1.2.3.4:65536", "port out of range: 65536"},
    {"1.2.3.4:99999999999999999999",
	"port out of range: "
	"99999999999999999999"},
    {"[::1]:70000", "port out of range: 70000"},
    {"localhost", "bad address: localhost"},
    /* Control bytes never reach the one-line message. */
    {"1.2.3.4\nInjected: line", "bad address: 1.2.3.4?Injected: line"},
    {"\x1b[31m1.2.3.4", "bad address: ?[31m1.2.3.4"},
    {"localhost:53", "bad address: localhost:53"},
    {"[::1", "bad address: [::1"},
    {"[::1]x", "bad address: [::1]x"},
    {"[::1]:", "bad address: [::1]:"},
    {"[1.2.3.4]:53", "bad address: [1.2.3.4]:53"},
    {"[]", "bad address: []"},
    {"::g", "bad address: ::g"},
    {" 1.2.3.4", "bad address:  1.2.3.4"},
    {"1.2.3.4 ", "bad address: 1.2.3.4 "},
    {"1:2", "bad address: 1:2"},
};

static void
test_parse(void)
{
	union net_addr a, b;
	struct err e;
	char buf[NET_ADDR_STRLEN], ip[NET_ADDR_STRLEN];
	char longin[300];
	size_t i;

	for (i = 0; i < nitems(good); i++) {
		e.msg[0] = '\0';
		memset(&a, 0xaa, sizeof a);
		if (!tap_ok(
			net_addr_parse(good[i].in, good[i].def, &a, &e) == 0,
			"parse \"%s\"", good[i].in)) {
			tap_diag("  error: %s", e.msg);
			continue;
		}
		tap_is_int(a.sa.sa_family, good[i].family, "  family");
		tap_is_int(net_addr_port(&a), good[i].port, "  port");
		net_addr_format_ip(&a, ip, sizeof ip);
		tap_is_str(ip, good[i].ip, "  format_ip");
		net_addr_format(&a, buf, sizeof buf);
		tap_is_str(buf, good[i].formatted, "  format");
		/* Formatting is parseable and gives back the same address. */
		tap_ok(net_addr_parse(buf, 1, &b, &e) == 0 &&
			net_addr_equal(&a, &b),
		    "  round trip \"%s\"", buf);
		tap_is_int(net_addr_len(&a),
		    good[i].family == AF_INET ? sizeof(struct sockaddr_in) :
						sizeof(struct sockaddr_in6),
		    "  len");
	}
	for (i = 0; i < nitems(bad); i++) {
		e.msg[0] = '\0';
		memset(&a, 0x55, sizeof a);
		memcpy(&b, &a, sizeof b);
		tap_is_int(net_addr_parse(bad[i].in, 53, &a, &e), -1,
		    "reject \"%s\"", bad[i].in);
		tap_is_str(e.msg, bad[i].msg, "  message");
		tap_ok(memcmp(&a, &b, sizeof a) == 0, "  out untouched");
	}
	memset(longin, '1', sizeof longin - 1);
	longin[sizeof longin - 1] = '\0';
	tap_is_int(net_addr_parse(longin, 53, &a, &e), -1, "reject long");
	tap_is_str(
	    e.msg, "bad address: too long (299 bytes)", "  long message");
	tap_is_int(net_addr_parse(NULL, 53, &a, &e), -1, "reject NULL");
	tap_is_int(net_addr_parse("1.2.3.4", 53, &a, NULL), 0, "NULL err ok");
	tap_is_int(
	    net_addr_parse("1.2.3.4:x", 53, &a, NULL), -1, "NULL err bad");
}

static void
test_equal(void)
{
	union net_addr a, b, c;
	char small[6];

	net_addr_parse("10.0.0.1:53", 0, &a, NULL);
	net_addr_parse("10.0.0.1", 53, &b, NULL);
	tap_ok(net_addr_equal(&a, &b), "equal: same ip and port");
	net_addr_set_port(&b, 54);
	tap_ok(!net_addr_equal(&a, &b), "equal: port differs");
	tap_is_int(net_addr_port(&b), 54, "set_port");
	net_addr_parse("10.0.0.2:53", 0, &b, NULL);
	tap_ok(!net_addr_equal(&a, &b), "equal: ip differs");
	net_addr_parse("[::ffff:10.0.0.1]:53", 0, &c, NULL);
	tap_ok(!net_addr_equal(&a, &c), "equal: family differs");
	net_addr_parse("[::1]:53", 0, &b, NULL);
	net_addr_parse("::1", 53, &c, NULL);
	tap_ok(net_addr_equal(&b, &c), "equal: v6 same");
	/* Truncation never overruns. */
	net_addr_format(&a, small, sizeof small);
	tap_is_str(small, "10.0.", "format truncates to buffer");
}

/* The bytes of an address; IPv4-mapped IPv6 counts as IPv4. */
static void
test_ip_bytes(void)
{
	static const uint8_t v4[16] = {10, 0, 0, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	union net_addr a;
	uint8_t b[16];

	net_addr_parse("10.0.0.1:53", 0, &a, NULL);
	tap_is_int(net_addr_ip_bytes(&a, b), 4, "ip_bytes: IPv4");
	tap_ok(memcmp(b, v4, 16) == 0, "ip_bytes: IPv4 bytes, rest zero");
	net_addr_parse("[::ffff:10.0.0.1]:53", 0, &a, NULL);
	memset(b, 0xee, sizeof b);
	tap_is_int(net_addr_ip_bytes(&a, b), 4, "ip_bytes: mapped is IPv4");
	tap_ok(memcmp(b, v4, 16) == 0, "ip_bytes: mapped bytes, rest zero");
	net_addr_parse("[2001:db8::1]:53", 0, &a, NULL);
	tap_is_int(net_addr_ip_bytes(&a, b), 6, "ip_bytes: IPv6");
	tap_ok(memcmp(b, v6, 16) == 0, "ip_bytes: IPv6 bytes");
	memset(&a, 0, sizeof a);
	a.sa.sa_family = AF_UNIX;
	tap_is_int(net_addr_ip_bytes(&a, b), 0, "ip_bytes: another family");
}

/* A wildcard address becomes loopback with its port; others stay. */
static void
test_any_to_loopback(void)
{
	union net_addr a;
	char buf[NET_ADDR_STRLEN];

	net_addr_parse("0.0.0.0:1080", 0, &a, NULL);
	net_addr_any_to_loopback(&a);
	net_addr_format(&a, buf, sizeof buf);
	tap_is_str(buf, "127.0.0.1:1080", "any_to_loopback: IPv4 wildcard");
	net_addr_parse("[::]:1080", 0, &a, NULL);
	net_addr_any_to_loopback(&a);
	net_addr_format(&a, buf, sizeof buf);
	tap_is_str(buf, "[::1]:1080", "any_to_loopback: IPv6 wildcard");
	net_addr_parse("10.0.0.1:53", 0, &a, NULL);
	net_addr_any_to_loopback(&a);
	net_addr_format(&a, buf, sizeof buf);
	tap_is_str(buf, "10.0.0.1:53", "any_to_loopback: others unchanged");
}

/* net_addr_hash agrees with net_addr_equal and keys the hmap table. */
static void
test_hash(void)
{
	union net_addr a, b, *v;
	struct hmap m = HMAP_INIT;
	struct hmap_it it;
	uint32_t i, j, lost = 0;
	char s[64];

	net_addr_parse("10.0.0.1:53", 0, &a, NULL);
	memset(&b, 0xa5, sizeof b); /* padding and sin_zero full of junk */
	b.in.sin_family = AF_INET;
	b.in.sin_port = a.in.sin_port;
	b.in.sin_addr = a.in.sin_addr;
	tap_ok(net_addr_equal(&a, &b) && net_addr_hash(&a) == net_addr_hash(&b),
	    "hash: equal addresses hash equal (padding ignored)");
	net_addr_set_port(&b, 54);
	tap_ok(net_addr_hash(&a) != net_addr_hash(&b), "hash: port counts");
	net_addr_parse("[::ffff:10.0.0.1]:53", 0, &b, NULL);
	tap_ok(net_addr_hash(&a) != net_addr_hash(&b), "hash: family counts");
	net_addr_parse("[::1]:53", 0, &a, NULL);
	net_addr_parse("::1", 53, &b, NULL);
	tap_ok(net_addr_hash(&a) == net_addr_hash(&b), "hash: v6 equal");

	/* 20000 addresses (v4 and v6, few ports) as keys of the table. */
	v = calloc(20000, sizeof *v);
	for (i = 0; i < 20000; i++) {
		if (i % 2)
			snprintf(s, sizeof s, "10.%u.%u.%u:%u", i >> 16 & 255,
			    i >> 8 & 255, i & 255, 53 + i % 3);
		else
			snprintf(
			    s, sizeof s, "[2001:db8::%x]:%u", i, 53 + i % 3);
		net_addr_parse(s, 0, &v[i], NULL);
		hmap_put(&m, net_addr_hash(&v[i]), i);
	}
	for (i = 0; i < 20000; i++) {
		for (j = hmap_find(&m, net_addr_hash(&v[i]), &it);
		     j != HMAP_NONE && !net_addr_equal(&v[j], &v[i]);
		     j = hmap_find_next(&m, &it))
			;
		lost += j != i;
	}
	tap_is_int(lost, 0, "hash: 20000 addresses found through hmap");
	hmap_free(&m);
	free(v);
}

static void
test_udp(void)
{
	union net_addr any, la, lb, from;
	socklen_t fromlen = sizeof from;
	struct err e = {""};
	char buf[64];
	ssize_t n;
	int a, b, fl;

	net_addr_parse("127.0.0.1:0", 0, &any, NULL);
	a = net_udp_bind(&any, &e);
	if (!tap_ok(a >= 0, "udp bind 127.0.0.1:0")) {
		tap_diag("  %s", e.msg);
		return;
	}
	b = net_udp_bind(&any, &e);
	tap_ok(b >= 0, "udp bind second");
	tap_is_int(net_local_addr(a, &la, &e), 0, "local addr");
	net_local_addr(b, &lb, &e);
	tap_ok(net_addr_port(&la) != 0, "ephemeral port read back (%u)",
	    net_addr_port(&la));
	tap_ok(net_addr_port(&la) != net_addr_port(&lb), "distinct ports");
	fl = fcntl(a, F_GETFL);
	tap_ok(fl != -1 && (fl & O_NONBLOCK), "udp socket non-blocking");
	fl = fcntl(a, F_GETFD);
	tap_ok(fl != -1 && (fl & FD_CLOEXEC), "udp socket close-on-exec");

	n = recv(a, buf, sizeof buf, 0);
	tap_ok(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "recv on empty socket does not block");
	n = sendto(b, "hello", 5, 0, &la.sa, net_addr_len(&la));
	tap_is_int(n, 5, "udp sendto");
	tap_ok(wait_fd(a, POLLIN), "udp readable");
	n = recvfrom(a, buf, sizeof buf, 0, &from.sa, &fromlen);
	tap_ok(n == 5 && memcmp(buf, "hello", 5) == 0, "udp payload");
	tap_ok(net_addr_equal(&from, &lb), "udp source is the sender");

	/* Binding a port already taken fails with a readable message. */
	tap_is_int(net_udp_bind(&la, &e), -1, "udp bind busy port fails");
	snprintf(buf, sizeof buf, "udp bind 127.0.0.1:%u: %s",
	    net_addr_port(&la), strerror(EADDRINUSE));
	tap_is_str(e.msg, buf, "  busy message");
	close(a);
	close(b);

	net_addr_parse("[::1]:0", 0, &any, NULL);
	a = net_udp_bind(&any, &e);
	if (a == -1) {
		tap_diag("no IPv6 loopback here: %s", e.msg);
		return;
	}
	tap_is_int(net_local_addr(a, &la, &e), 0, "v6 local addr");
	net_addr_format_ip(&la, buf, sizeof buf);
	tap_is_str(buf, "::1", "v6 bound to ::1");
	b = net_udp_bind(&any, &e);
	n = sendto(b, "v6", 2, 0, &la.sa, net_addr_len(&la));
	tap_is_int(n, 2, "v6 sendto");
	tap_ok(wait_fd(a, POLLIN), "v6 readable");
	tap_is_int(recv(a, buf, sizeof buf, 0), 2, "v6 recv");
	close(a);
	close(b);
}

static void
test_tcp(void)
{
	union net_addr any, la, peer, cl;
	struct err e = {""};
	char buf[64];
	int l, c, s, port;

	net_addr_parse("127.0.0.1:0", 0, &any, NULL);
	l = net_tcp_listen(&any, 16, &e);
	if (!tap_ok(l >= 0, "tcp listen")) {
		tap_diag("  %s", e.msg);
		return;
	}
	net_local_addr(l, &la, &e);
	tap_ok(net_addr_port(&la) != 0, "tcp listen port");
	tap_is_int(net_tcp_accept(l, NULL, &e), -1, "accept with none pending");
	tap_ok(errno == EAGAIN || errno == EWOULDBLOCK, "  errno EAGAIN");
	tap_is_str(e.msg, "tcp accept: no pending connection", "  message");

	c = net_tcp_connect(&la, &e);
	tap_ok(c >= 0, "tcp connect started");
	tap_ok(wait_fd(c, POLLOUT), "connect completes (writable)");
	tap_is_int(net_tcp_connect_result(c, &e), 0, "connect result ok");
	tap_ok(wait_fd(l, POLLIN), "listener readable");
	s = net_tcp_accept(l, &peer, &e);
	tap_ok(s >= 0, "accept");
	net_local_addr(c, &cl, &e);
	tap_ok(net_addr_equal(&peer, &cl), "accepted peer is the client");
	tap_ok(fcntl(s, F_GETFL) & O_NONBLOCK, "accepted fd non-blocking");
	tap_ok(fcntl(s, F_GETFD) & FD_CLOEXEC, "accepted fd close-on-exec");
	tap_is_int(write(c, "ping", 4), 4, "client write");
	tap_ok(wait_fd(s, POLLIN), "server readable");
	tap_is_int(read(s, buf, sizeof buf), 4, "server read");
	tap_ok(memcmp(buf, "ping", 4) == 0, "server payload");
	tap_is_int(write(s, "pong!", 5), 5, "server write");
	tap_ok(wait_fd(c, POLLIN), "client readable");
	tap_ok(read(c, buf, sizeof buf) == 5 && memcmp(buf, "pong!", 5) == 0,
	    "client payload");
	close(s);
	close(c);

	/* A second listener on the same port is refused. */
	tap_is_int(net_tcp_listen(&la, 16, &e), -1, "listen busy port fails");
	tap_ok(strstr(e.msg, "tcp bind 127.0.0.1:") == e.msg, "  message: %s",
	    e.msg);
	/* Closing the listener makes a connect to its port get refused. */
	port = net_addr_port(&la);
	close(l);
	c = net_tcp_connect(&la, &e);
	if (c >= 0) {
		tap_ok(wait_fd(c, POLLOUT), "refused connect signals");
		tap_is_int(net_tcp_connect_result(c, &e), -1,
		    "connect to closed port %d fails", port);
		tap_is_str(
		    e.msg, "tcp connect: Connection refused", "  message");
		close(c);
	} else {
		tap_ok(strstr(e.msg, "Connection refused") != NULL,
		    "connect to closed port fails at once: %s", e.msg);
	}
}

struct acc_fix {
	int fds[8];
	size_t n;
};

static void
acc_cb(void *arg, int fd)
{
	struct acc_fix *f = arg;

	if (f->n < nitems(f->fds))
		f->fds[f->n++] = fd;
	else
		close(fd);
}

/* Open /dev/null until EMFILE; returns how many were opened. */
static size_t
fill_fds(int *v, size_t cap)
{
	size_t n = 0;
	int fd;

	while (n < cap && (fd = open("/dev/null", O_RDONLY)) >= 0)
		v[n++] = fd;
	return n;
}

/* What a shed client receives: the message, then the end. */
static int
got_shed(int c)
{
	char buf[64];
	ssize_t n;

	if (!wait_fd(c, POLLIN))
		return 0;
	n = read(c, buf, sizeof buf);
	if (n != 5 || memcmp(buf, "shed\n", 5) != 0)
		return 0;
	return wait_fd(c, POLLIN) && read(c, buf, sizeof buf) == 0;
}

static void
test_acceptor(void)
{
	static int filler[256];
	union net_addr any, la;
	struct rlimit old, low;
	struct acc_fix f = {{0}, 0};
	struct err e = {""};
	struct ev_loop *loop;
	struct net_acceptor *a;
	const struct net_acceptor_stats *st;
	int l, c[4], i, calls;
	size_t nfill, k;

	if (getrlimit(RLIMIT_NOFILE, &old) != 0 ||
	    (loop = ev_loop_new(&e)) == NULL) {
		tap_ok(0, "acceptor: set-up (%s)", e.msg);
		return;
	}
	net_addr_parse("127.0.0.1:0", 0, &any, NULL);
	l = net_tcp_listen(&any, 16, &e);
	net_local_addr(l, &la, &e);
	a = net_acceptor_new(loop, l, acc_cb, &f, "shed\n", &e);
	if (!tap_ok(a != NULL, "acceptor on a listener")) {
		ev_loop_free(loop);
		return;
	}
	st = net_acceptor_stats(a);
	c[0] = net_tcp_connect(&la, &e);
	tap_ok(wait_fd(l, POLLIN), "a connection pending");
	ev_run_once(loop, 1000);
	tap_ok(st->accepted == 1 && f.n == 1, "accepted and handed over");

	/*
	 * Out of descriptors: the client sockets exist first (connect needs
	 * none), then every slot up to a low limit is filled.
	 */
	for (i = 1; i < 4; i++)
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
	low = old;
	low.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &low) != 0) {
		tap_ok(0, "setrlimit 64");
		return;
	}
	nfill = fill_fds(filler, nitems(filler));
	tap_ok(open("/dev/null", O_RDONLY) < 0 && errno == EMFILE,
	    "every descriptor taken (%zu filled)", nfill);
	for (i = 1; i < 3; i++)
		connect(c[i], &la.sa, net_addr_len(&la));
	tap_ok(wait_fd(l, POLLIN), "two connections pending under EMFILE");
	ev_run_once(loop, 1000);
	tap_is_int(st->shed, 2, "both shed through the reserve descriptor");
	tap_ok(st->exhausted >= 2, "EMFILE counted (%llu)",
	    (unsigned long long)st->exhausted);
	tap_ok(got_shed(c[1]) && got_shed(c[2]),
	    "each shed client read the message and the end");
	calls = ev_run_once(loop, 0);
	tap_is_int(calls, 0, "nothing left to do: the loop does not spin");
	tap_is_int(f.n, 1, "nothing handed over meanwhile");
	net_acceptor_free(a);

	/* No reserve (made while out of descriptors): pause, then resume. */
	nfill += fill_fds(filler + nfill, nitems(filler) - nfill);
	a = net_acceptor_new(loop, l, acc_cb, &f, "shed\n", &e);
	st = net_acceptor_stats(a);
	connect(c[3], &la.sa, net_addr_len(&la));
	tap_ok(wait_fd(l, POLLIN), "a connection pending, no reserve");
	ev_run_once(loop, 0);
	tap_ok(st->paused == 1 && st->shed == 0, "listener paused");
	for (i = calls = 0; i < 20; i++)
		calls += ev_run_once(loop, 0);
	tap_is_int(st->exhausted, 1, "not polled again while paused");
	tap_is_int(calls, 0, "20 loop turns did nothing");
	for (k = 0; k < nfill; k++)
		close(filler[k]);
	for (i = 0; i < 50 && st->accepted == 0; i++)
		ev_run_once(loop, 100);
	tap_ok(st->accepted == 1 && f.n == 2,
	    "after the pause, with descriptors free, it is served");
	net_acceptor_free(a);
	setrlimit(RLIMIT_NOFILE, &old);
	for (i = 0; i < 4; i++)
		close(c[i]);
	for (k = 0; k < f.n; k++)
		close(f.fds[k]);
	close(l);
	ev_loop_free(loop);
}

int
main(void)
{
	test_parse();
	test_equal();
	test_ip_bytes();
	test_any_to_loopback();
	test_hash();
	test_udp();
	test_tcp();
	test_acceptor();
	return tap_done();
}
