/* SPDX-License-Identifier: MIT */
/*
 * net.h — socket addresses and non-blocking socket helpers (anet.c style:
 * errors go into a caller-supplied struct err). IPv4 and IPv6.
 */
#ifndef MDNS_NET_H
#define MDNS_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/util.h"

union net_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

/* Longest text net_addr_format writes, NUL included. */
#define NET_ADDR_STRLEN (INET6_ADDRSTRLEN + 9)

/*
 * Parse "1.2.3.4", "1.2.3.4:53", "::1", "[::1]" or "[::1]:53" (numeric only,
 * no name lookup). A missing port becomes default_port. Returns 0 or -1 with
 * e set ("bad address: ...", "port out of range: ...").
 */
int net_addr_parse(
    const char *s, uint16_t default_port, union net_addr *out, struct err *e);
/* "1.2.3.4:53" or "[::1]:53" into buf (NET_ADDR_STRLEN is enough). */
void net_addr_format(const union net_addr *a, char *buf, size_t len);
/* Address only, no port: "1.2.3.4" or "::1". */
void net_addr_format_ip(const union net_addr *a, char *buf, size_t len);
/* sizeof the sockaddr for a's family (for bind, connect, sendto). */
socklen_t net_addr_len(const union net_addr *a);
/*
 * The address as bytes into b (16 bytes, zero-filled): 4 for IPv4 and for
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, as a dual-stack socket reports an IPv4
 * peer), 6 for other IPv6, 0 for another family.
 */
int net_addr_ip_bytes(const union net_addr *a, uint8_t b[16]);
/* A wildcard address (0.0.0.0, ::) becomes loopback, the port kept: a
 * wildcard listener is reached there. Other addresses are left alone. */
void net_addr_any_to_loopback(union net_addr *a);
/* Same family, address and port. */
int net_addr_equal(const union net_addr *a, const union net_addr *b);
/*
 * Hash of what net_addr_equal compares (family, address, port, IPv6 scope),
 * for the table of common/hmap.h: equal addresses hash equal.
 */
uint64_t net_addr_hash(const union net_addr *a);
/* The port in host byte order, and setting it. */
uint16_t net_addr_port(const union net_addr *a);
void net_addr_set_port(union net_addr *a, uint16_t port);

/* Set O_NONBLOCK on fd. 0, or -1 with e set. */
int net_set_nonblock(int fd, struct err *e);
/*
 * A non-blocking, close-on-exec UDP socket bound to bind_addr (port 0 = any
 * free port). Returns the fd or -1 with e set.
 */
int net_udp_bind(const union net_addr *bind_addr, struct err *e);
/* Non-blocking TCP listener with SO_REUSEADDR; fd or -1. */
int net_tcp_listen(const union net_addr *addr, int backlog, struct err *e);
/* Start a non-blocking TCP connect (EINPROGRESS is success); fd or -1. */
int net_tcp_connect(const union net_addr *addr, struct err *e);
/*
 * After a non-blocking connect's fd turns writable: 0 when connected, -1
 * with e set ("tcp connect: Connection refused") otherwise.
 */
int net_tcp_connect_result(int fd, struct err *e);
/*
 * Accept one connection from listener lfd as a non-blocking, close-on-exec
 * fd; the peer address goes into peer when not NULL. Returns the fd, or -1
 * with e set and errno kept (EAGAIN/EWOULDBLOCK: nothing pending).
 */
int net_tcp_accept(int lfd, union net_addr *peer, struct err *e);
/* The locally bound address of fd (to learn an ephemeral port). 0 / -1. */
int net_local_addr(int fd, union net_addr *out, struct err *e);

/*
 * An accept loop for a listening socket on the event loop that survives
 * descriptor exhaustion. A level-triggered listener whose accept4 fails
 * with EMFILE keeps the connection pending and the loop spinning at full
 * CPU; here, on EMFILE/ENFILE (and ENOBUFS/ENOMEM) the acceptor closes
 * the one descriptor it keeps in reserve, accepts the pending connection,
 * writes shed_msg to it (when not NULL) and closes it, then takes its
 * reserve again. When that is not possible either, it stops watching the
 * listener for 50 ms, doubling up to 1 s while the shortage lasts.
 *
 * Each accepted connection (non-blocking, close-on-exec) goes to
 * cb(arg, fd), which owns it and must not free the acceptor. At most 64
 * connections are taken per wake-up. The acceptor does not own lfd:
 * net_acceptor_free stops watching it and closes only the reserve.
 * Returns NULL with e set when lfd cannot be watched.
 */
struct ev_loop;
struct net_acceptor;
typedef void net_accept_cb(void *arg, int fd);

struct net_acceptor_stats {
	uint64_t accepted;  /* handed to the callback */
	uint64_t exhausted; /* accept4 failures for lack of descriptors */
	uint64_t shed;	    /* accepted and closed at once (the reserve) */
	uint64_t paused;    /* times the listener was paused */
};

struct net_acceptor *net_acceptor_new(struct ev_loop *loop, int lfd,
    net_accept_cb *cb, void *arg, const char *shed_msg, struct err *e);
void net_acceptor_free(struct net_acceptor *a);
const struct net_acceptor_stats *net_acceptor_stats(
    const struct net_acceptor *a);

#endif
