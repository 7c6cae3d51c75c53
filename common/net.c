/* SPDX-License-Identifier: MIT */
/*
 * net.c — numeric socket address parsing and formatting, and the few socket
 * calls every module repeats: non-blocking close-on-exec UDP and TCP sockets,
 * binding, listening, connecting and reading back the bound address.
 *
 * It never resolves names (no getaddrinfo): configuration and fixtures give
 * literal addresses, and a name lookup would block the event loop. It never
 * logs; every failure is a one-line message in the caller's struct err.
 *
 * The acceptor (net_acceptor_*) is the one accept loop of the tree: the
 * back-off when descriptors run out lives here, not in each listener.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/hmap.h"
#include "common/net.h"

/* Longest text we even try to parse: "[v6]:port" plus some slack. */
#define NET_PARSE_MAX 128

/*
 * Parse a decimal port "0".."65535" from [s, s + n). Returns 0, -1 when it
 * is not a plain number (caller reports "bad address"), -2 when too big.
 */
static int
parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -2;
	*out = (uint16_t)v;
	return 0;
}

/* The input shown printable and bounded: messages stay one line. */
static int
bad_address(const char *s, struct err *e)
{
	char shown[80];

	str_printable(s, shown, sizeof shown);
	return err_set(e, "bad address: %s", shown);
}

int
net_addr_parse(
    const char *s, uint16_t default_port, union net_addr *out, struct err *e)
{
	char host[NET_PARSE_MAX];
	const char *port = NULL, *colon, *end;
	size_t len, hostlen, portlen = 0;
	uint16_t p = default_port;
	union net_addr a;
	int r;

	if (s == NULL)
		return err_set(e, "bad address: (null)");
	len = strlen(s);
	if (len == 0)
		return err_set(e, "bad address: empty");
	if (len >= NET_PARSE_MAX)
		return err_set(e, "bad address: too long (%zu bytes)", len);
	memset(&a, 0, sizeof a);

	if (s[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		end = strchr(s, ']');
		if (end == NULL)
			return bad_address(s, e);
		hostlen = (size_t)(end - s - 1);
		memcpy(host, s + 1, hostlen);
		host[hostlen] = '\0';
		if (end[1] == ':') {
			port = end + 2;
			portlen = strlen(port);
		} else if (end[1] != '\0')
			return bad_address(s, e);
		if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) != 1)
			return bad_address(s, e);
		a.in6.sin6_family = AF_INET6;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Two or more colons: a bare IPv6 address. */
			if (inet_pton(AF_INET6, s, &a.in6.sin6_addr) != 1)
				return bad_address(s, e);
			a.in6.sin6_family = AF_INET6;
		} else {
			hostlen = colon ? (size_t)(colon - s) : len;
			memcpy(host, s, hostlen);
			host[hostlen] = '\0';
			if (colon != NULL) {
				port = colon + 1;
				portlen = strlen(port);
			}
			if (inet_pton(AF_INET, host, &a.in.sin_addr) != 1)
				return bad_address(s, e);
			a.in.sin_family = AF_INET;
		}
	}
	if (port != NULL) {
		r = parse_port(port, portlen, &p);
		if (r == -1)
			return bad_address(s, e);
		if (r == -2) {
			char shown[80];

			str_printable(port, shown, sizeof shown);
			return err_set(e, "port out of range: %s", shown);
		}
	}
	net_addr_set_port(&a, p);
	*out = a;
	return 0;
}

void
net_addr_format_ip(const union net_addr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	const char *r = NULL;

	if (len == 0)
		return;
	if (a->sa.sa_family == AF_INET)
		r = inet_ntop(AF_INET, &a->in.sin_addr, tmp, sizeof tmp);
	else if (a->sa.sa_family == AF_INET6)
		r = inet_ntop(AF_INET6, &a->in6.sin6_addr, tmp, sizeof tmp);
	snprintf(buf, len, "%s", r ? r : "?");
}

void
net_addr_format(const union net_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (len == 0)
		return;
	net_addr_format_ip(a, ip, sizeof ip);
	if (a->sa.sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, net_addr_port(a));
	else if (a->sa.sa_family == AF_INET)
		snprintf(buf, len, "%s:%u", ip, net_addr_port(a));
	else
		snprintf(buf, len, "?");
}

socklen_t
net_addr_len(const union net_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return sizeof a->in;
	if (a->sa.sa_family == AF_INET6)
		return sizeof a->in6;
	return 0;
}

int
net_addr_ip_bytes(const union net_addr *a, uint8_t b[16])
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(b, 0, 16);
	if (a->sa.sa_family == AF_INET) {
		memcpy(b, &a->in.sin_addr, 4);
		return 4;
	}
	if (a->sa.sa_family != AF_INET6)
		return 0;
	if (memcmp(&a->in6.sin6_addr, mapped, 12) == 0) {
		memcpy(b, (const uint8_t *)&a->in6.sin6_addr + 12, 4);
		return 4;
	}
	memcpy(b, &a->in6.sin6_addr, 16);
	return 6;
}

void
net_addr_any_to_loopback(union net_addr *a)
{
	if (a->sa.sa_family == AF_INET &&
	    a->in.sin_addr.s_addr == htonl(INADDR_ANY))
		a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (a->sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr))
		a->in6.sin6_addr = in6addr_loopback;
}

int
net_addr_equal(const union net_addr *a, const union net_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		    a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		    a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
		    memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr,
			sizeof a->in6.sin6_addr) == 0;
	return 0;
}

uint64_t
net_addr_hash(const union net_addr *a)
{
	uint8_t k[24];

	if (a->sa.sa_family == AF_INET)
		return hmap_hash_u64((uint64_t)AF_INET << 48 |
		    (uint64_t)a->in.sin_port << 32 | a->in.sin_addr.s_addr);
	if (a->sa.sa_family == AF_INET6) {
		memcpy(k, &a->in6.sin6_addr, 16);
		memcpy(k + 16, &a->in6.sin6_port, 2);
		memcpy(k + 18, &a->in6.sin6_scope_id, 4);
		return hmap_hash_bytes(k, 22);
	}
	return 0;
}

uint16_t
net_addr_port(const union net_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return ntohs(a->in.sin_port);
	if (a->sa.sa_family == AF_INET6)
		return ntohs(a->in6.sin6_port);
	return 0;
}

void
net_addr_set_port(union net_addr *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET)
		a->in.sin_port = htons(port);
	else if (a->sa.sa_family == AF_INET6)
		a->in6.sin6_port = htons(port);
}

int
net_set_nonblock(int fd, struct err *e)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return err_set(e, "fcntl(F_GETFL): %s", strerror(errno));
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return err_set(e, "fcntl(F_SETFL): %s", strerror(errno));
	return 0;
}

/*
 * A non-blocking close-on-exec socket of the address's family. IPv6
 * sockets are IPV6_V6ONLY so "[::]:N" and "0.0.0.0:N" can be bound side by
 * side and an IPv6 listener never silently answers IPv4.
 */
static int
net_socket(const union net_addr *a, int type, const char *what, struct err *e)
{
	int fd, on = 1;

	if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
		return err_set(e, "%s socket: unsupported address family %d",
		    what, a->sa.sa_family);
	fd = socket(a->sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(e, "%s socket: %s", what, strerror(errno));
	if (a->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == -1) {
		err_set(e, "%s socket: IPV6_V6ONLY: %s", what, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
net_bind(int fd, const union net_addr *a, const char *what, struct err *e)
{
	char buf[NET_ADDR_STRLEN];
	int saved;

	if (bind(fd, &a->sa, net_addr_len(a)) == -1) {
		saved = errno;
		net_addr_format(a, buf, sizeof buf);
		err_set(e, "%s bind %s: %s", what, buf, strerror(saved));
		return -1;
	}
	return 0;
}

int
net_udp_bind(const union net_addr *bind_addr, struct err *e)
{
	int fd;

	if ((fd = net_socket(bind_addr, SOCK_DGRAM, "udp", e)) == -1)
		return -1;
	if (net_bind(fd, bind_addr, "udp", e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
net_tcp_listen(const union net_addr *addr, int backlog, struct err *e)
{
	char buf[NET_ADDR_STRLEN];
	int fd, on = 1;

	if ((fd = net_socket(addr, SOCK_STREAM, "tcp", e)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1) {
		err_set(e, "tcp SO_REUSEADDR: %s", strerror(errno));
		goto fail;
	}
	if (net_bind(fd, addr, "tcp", e) == -1)
		goto fail;
	if (listen(fd, backlog) == -1) {
		net_addr_format(addr, buf, sizeof buf);
		err_set(e, "tcp listen %s: %s", buf, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int
net_tcp_connect(const union net_addr *addr, struct err *e)
{
	char buf[NET_ADDR_STRLEN];
	int fd, saved;

	if ((fd = net_socket(addr, SOCK_STREAM, "tcp", e)) == -1)
		return -1;
	if (connect(fd, &addr->sa, net_addr_len(addr)) == -1 &&
	    errno != EINPROGRESS) {
		saved = errno;
		net_addr_format(addr, buf, sizeof buf);
		err_set(e, "tcp connect %s: %s", buf, strerror(saved));
		close(fd);
		return -1;
	}
	return fd;
}

int
net_tcp_connect_result(int fd, struct err *e)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return err_set(e, "tcp connect: SO_ERROR: %s", strerror(errno));
	if (soerr != 0)
		return err_set(e, "tcp connect: %s", strerror(soerr));
	return 0;
}

int
net_tcp_accept(int lfd, union net_addr *peer, struct err *e)
{
	union net_addr tmp;
	socklen_t len = sizeof tmp;
	int fd, saved;

	memset(&tmp, 0, sizeof tmp);
	fd = accept4(lfd, &tmp.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		if (saved != EAGAIN && saved != EWOULDBLOCK)
			err_set(e, "tcp accept: %s", strerror(saved));
		else
			err_set(e, "tcp accept: no pending connection");
		errno = saved;
		return -1;
	}
	if (peer != NULL)
		*peer = tmp;
	return fd;
}

int
net_local_addr(int fd, union net_addr *out, struct err *e)
{
	socklen_t len = sizeof *out;

	memset(out, 0, sizeof *out);
	if (getsockname(fd, &out->sa, &len) == -1)
		return err_set(e, "getsockname: %s", strerror(errno));
	return 0;
}

/* ---- an accept loop that does not spin when descriptors run out ------- */

#define ACCEPT_BATCH	 64
#define ACCEPT_PAUSE_MIN 50 /* ms */
#define ACCEPT_PAUSE_MAX 1000

struct net_acceptor {
	struct ev_loop *loop;
	int lfd;
	int reserve; /* /dev/null, given up to shed one connection */
	net_accept_cb *cb;
	void *arg;
	char *shed_msg;
	uint64_t timer;
	unsigned pause_ms;
	struct net_acceptor_stats st;
};

static int
reserve_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
acceptor_resume(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct net_acceptor *a = arg;

	(void)id;
	a->timer = 0;
	if (a->reserve < 0)
		a->reserve = reserve_open();
	ev_io_set(loop, a->lfd, EV_READ);
}

static void
acceptor_pause(struct net_acceptor *a)
{
	a->pause_ms = a->pause_ms == 0 ? ACCEPT_PAUSE_MIN :
					 MIN(a->pause_ms * 2, ACCEPT_PAUSE_MAX);
	a->st.paused++;
	ev_io_set(a->loop, a->lfd, 0);
	a->timer = ev_timer_add(
	    a->loop, (uint64_t)a->pause_ms * 1000, acceptor_resume, a);
}

/*
 * Give up the reserve descriptor to take one pending connection off the
 * queue and close it. 0 when one was shed, 1 when none was pending, -1
 * when it could not be done.
 */
static int
acceptor_shed(struct net_acceptor *a)
{
	int cfd, saved;

	if (a->reserve < 0)
		return -1;
	close(a->reserve);
	a->reserve = -1;
	cfd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	saved = errno;
	if (cfd >= 0) {
		if (a->shed_msg != NULL &&
		    send(cfd, a->shed_msg, strlen(a->shed_msg),
			MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			saved = 0; /* the peer left: nothing to tell */
		close(cfd);
		a->st.shed++;
	}
	a->reserve = reserve_open();
	if (cfd >= 0)
		return 0;
	return saved == EAGAIN || saved == EWOULDBLOCK ? 1 : -1;
}

static void
acceptor_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct net_acceptor *a = arg;
	int i, cfd;

	(void)loop;
	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			a->st.accepted++;
			a->pause_ms = 0;
			a->cb(a->arg, cfd);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue; /* that connection is gone; next */
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			a->st.exhausted++;
			switch (acceptor_shed(a)) {
			case 0:
				continue;
			case 1:
				return;
			default:
				acceptor_pause(a);
				return;
			}
		default:
			/* Unexpected (EINVAL...): never spin on it. */
			acceptor_pause(a);
			return;
		}
	}
}

struct net_acceptor *
net_acceptor_new(struct ev_loop *loop, int lfd, net_accept_cb *cb, void *arg,
    const char *shed_msg, struct err *e)
{
	struct net_acceptor *a = xcalloc(1, sizeof *a);

	a->loop = loop;
	a->lfd = lfd;
	a->cb = cb;
	a->arg = arg;
	a->shed_msg = shed_msg != NULL ? xstrdup(shed_msg) : NULL;
	/* Missing (already out of descriptors): pausing still works. */
	a->reserve = reserve_open();
	if (ev_io_add(loop, lfd, EV_READ, acceptor_io, a, e) != 0) {
		net_acceptor_free(a);
		return NULL;
	}
	return a;
}

void
net_acceptor_free(struct net_acceptor *a)
{
	if (a == NULL)
		return;
	if (a->timer != 0)
		ev_timer_cancel(a->loop, a->timer);
	ev_io_del(a->loop, a->lfd);
	if (a->reserve >= 0)
		close(a->reserve);
	free(a->shed_msg);
	free(a);
}

const struct net_acceptor_stats *
net_acceptor_stats(const struct net_acceptor *a)
{
	return &a->st;
}
