/* SPDX-License-Identifier: MIT */
/*
 * client-udp.c — SOCKS5 UDP ASSOCIATE (RFC 1928 section 7) for DNS, as
 * upstream's client does it (handleSocksUDPAssociate) with the lead's
 * changes (docs/dns-tunnel.md 9): the relay socket is bound to the TCP
 * connection's local address (not 0.0.0.0), its port goes back in the
 * reply, and datagrams are taken only from the TCP client's address (and
 * from the port it announced, or else the first one it used). Each
 * datagram is judged by upstream's rule (socks_udp_dns_check: no SOCKS
 * fragments, DST.PORT 53 only, the destination address not looked at);
 * the DNS query in it goes to client-dns.c and the answer comes back
 * with the request's header in front. Drops are silent and counted; the
 * association lives while its TCP connection is open and a datagram came
 * within SOCKS_UDP_ASSOCIATE_READ_TIMEOUT_SECONDS. Misses are answered
 * when the tunnel's answer arrives (upstream closes the association to
 * make the application retry).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/client-dns.h"
#include "engine/client-udp.h"
#include "proto/socks-udp.h"

#define SEC(x) ((uint64_t)((x)*1000000.0))

struct ecl_udp {
	struct ecl_udp *next;
	struct eng_client *c;
	int tcp, udp;
	union net_addr peer; /* the TCP client; its port once known */
	int port_known;
	uint64_t last, timer;
};

static void assoc_close(struct ecl_udp *u);

static int
same_ip(const union net_addr *a, const union net_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/* The answer, with the request's header (ctx) in front, to the client. */
static void
reply(void *arg, const void *ctx, size_t ctxlen, const uint8_t *ans, size_t len)
{
	struct ecl_udp *u = arg;
	uint8_t *out = xmalloc(ctxlen + len);

	memcpy(out, ctx, ctxlen);
	memcpy(out + ctxlen, ans, len);
	(void)sendto(
	    u->udp, out, ctxlen + len, 0, &u->peer.sa, net_addr_len(&u->peer));
	free(out);
}

static void
on_udp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct ecl_udp *u = arg;
	struct eng_client_dns_stats *st = &u->c->dns.st;
	uint8_t p[65536], hdr[SOCKS_UDP_HDR_MAX];
	struct socks_udp_hdr h;
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	long hl;
	int budget = 64;

	(void)events;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, p, sizeof p, 0, &from.sa, &fl);
		if (n < 0)
			break;
		if (!same_ip(&from, &u->peer) ||
		    (u->port_known &&
			net_addr_port(&from) != net_addr_port(&u->peer))) {
			st->socks_foreign++;
			continue;
		}
		if (!u->port_known) {
			net_addr_set_port(&u->peer, net_addr_port(&from));
			u->port_known = 1;
		}
		u->last = ev_now_us(loop);
		if (socks_udp_dns_check(p, (size_t)n, &h) != SOCKS_UDP_DNS) {
			st->socks_drop++;
			continue;
		}
		hl = socks_udp_build(
		    &h, (const uint8_t *)"", 0, hdr, sizeof hdr);
		if (hl < 0) {
			st->socks_drop++;
			continue;
		}
		st->from_socks++;
		(void)ecl_dns_submit(u->c, p + h.data_off,
		    (size_t)n - h.data_off, hdr, (size_t)hl, reply, u);
	}
}

/* The TCP connection: anything read is ignored; EOF or error ends it. */
static void
on_tcp(struct ev_loop *loop, int fd, int events, void *arg)
{
	uint8_t b[512];
	ssize_t n;

	(void)loop;
	(void)events;
	while ((n = recv(fd, b, sizeof b, 0)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		assoc_close(arg);
}

static void
on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct ecl_udp *u = arg;
	uint64_t tmo = SEC(u->c->cfg.socks_udp_timeout_s > 0 ?
		u->c->cfg.socks_udp_timeout_s :
		30);
	uint64_t now = ev_now_us(loop);

	(void)id;
	u->timer = 0;
	if (now - u->last >= tmo) {
		assoc_close(u);
		return;
	}
	u->timer = ev_timer_add(loop, u->last + tmo - now, on_timer, u);
}

static void
assoc_close(struct ecl_udp *u)
{
	struct ecl_udp **pp;

	for (pp = &u->c->dns.udp; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	eng_client_dns_cancel(u->c, u);
	if (u->timer != 0)
		ev_timer_cancel(u->c->loop, u->timer);
	ev_io_del(u->c->loop, u->udp);
	ev_io_del(u->c->loop, u->tcp);
	close(u->udp);
	close(u->tcp);
	free(u);
}

/* The SOCKS5 reply: REP, then BND.ADDR/BND.PORT of a. */
static size_t
assoc_reply(int rep, const union net_addr *a, uint8_t *out)
{
	size_t n = 4;

	out[0] = 5;
	out[1] = (uint8_t)rep;
	out[2] = 0;
	if (a != NULL && a->sa.sa_family == AF_INET6) {
		out[3] = 4;
		memcpy(out + 4, &a->in6.sin6_addr, 16);
		memcpy(out + 20, &a->in6.sin6_port, 2);
		return 22;
	}
	out[3] = 1;
	if (a != NULL) {
		memcpy(out + 4, &a->in.sin_addr, 4);
		memcpy(out + 8, &a->in.sin_port, 2);
	} else
		memset(out + 4, 0, 6);
	return n + 6;
}

int
ecl_udp_open(
    struct eng_client *c, int tcp, const uint8_t *announced, size_t alen)
{
	struct ecl_udp *u;
	union net_addr local, bound;
	uint8_t r[32];
	struct err e = {""};
	uint16_t aport = 0;
	socklen_t sl;
	size_t n;

	if (alen >= 2)
		aport =
		    (uint16_t)(announced[alen - 2] << 8 | announced[alen - 1]);
	u = xcalloc(1, sizeof *u);
	u->c = c;
	u->tcp = tcp;
	u->udp = -1;
	sl = sizeof u->peer;
	if (net_local_addr(tcp, &local, &e) == -1)
		goto fail;
	if (getpeername(tcp, &u->peer.sa, &sl) == -1) {
		err_set(&e, "getpeername: %s", strerror(errno));
		goto fail;
	}
	net_addr_set_port(&local, 0);
	if ((u->udp = net_udp_bind(&local, &e)) == -1 ||
	    net_local_addr(u->udp, &bound, &e) == -1)
		goto fail;
	if (aport != 0) {
		net_addr_set_port(&u->peer, aport);
		u->port_known = 1;
	}
	if (ev_io_add(c->loop, u->udp, EV_READ, on_udp, u, &e) == -1)
		goto fail;
	if (ev_io_add(c->loop, tcp, EV_READ, on_tcp, u, &e) == -1) {
		ev_io_del(c->loop, u->udp);
		goto fail;
	}
	u->last = ev_now_us(c->loop);
	u->timer = ev_timer_add(c->loop,
	    SEC(c->cfg.socks_udp_timeout_s > 0 ? c->cfg.socks_udp_timeout_s :
						 30),
	    on_timer, u);
	u->next = c->dns.udp;
	c->dns.udp = u;
	c->dns.st.socks_assocs++;
	n = assoc_reply(0, &bound, r);
	(void)send(tcp, r, n, MSG_NOSIGNAL);
	return 0;
fail:
	log_info("SOCKS5 UDP ASSOCIATE failed: %s", e.msg);
	n = assoc_reply(1, NULL, r);
	(void)send(tcp, r, n, MSG_NOSIGNAL);
	if (u->udp != -1)
		close(u->udp);
	free(u);
	return -1;
}

void
ecl_udp_free_all(struct eng_client *c)
{
	while (c->dns.udp != NULL)
		assoc_close(c->dns.udp);
}
