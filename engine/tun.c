/* SPDX-License-Identifier: MIT */
/*
 * tun.c — the TUN device on the event loop: creating it (IFF_TUN |
 * IFF_NO_PI, after checking for CAP_NET_ADMIN), its MTU and addresses
 * through netlink, reading packets and sending each where tun_pkt_parse
 * says (TCP to lwIP in tun-stack.c, DNS queries to the DNS sink, the rest
 * answered with ICMP unreachable or dropped), the table of DNS queries
 * awaiting an answer, writing packets back, the counters and their JSON.
 *
 * It does not touch routes or the system resolver (tun-sys.c) and knows
 * nothing of the tunnel: flows and queries leave through the two sinks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/nl.h"
#include "engine/tun-int.h"

static const char *const drop_names[TUN_DROP_MAX] = {
    [TUN_DROP_OVERSIZE] = "oversize",
    [TUN_DROP_MALFORMED] = "malformed",
    [TUN_DROP_CHECKSUM] = "checksum",
    [TUN_DROP_FRAGMENT] = "fragment",
    [TUN_DROP_MARTIAN] = "martian",
    [TUN_DROP_MULTICAST] = "multicast",
    [TUN_DROP_ICMP] = "icmp",
    [TUN_DROP_PROTO] = "other_protocol",
    [TUN_DROP_UDP] = "udp_not_dns",
    [TUN_DROP_ECHO] = "icmp_echo",
    [TUN_DROP_DNS_NO_SINK] = "dns_no_sink",
    [TUN_DROP_DNS_BUSY] = "dns_busy",
    [TUN_DROP_DNS_REFUSED] = "dns_refused",
    [TUN_DROP_FLOW_LIMIT] = "flow_limit",
    [TUN_DROP_STACK] = "stack_memory",
};

const char *
tun_drop_name(enum tun_drop d)
{
	return (unsigned)d < TUN_DROP_MAX ? drop_names[d] : "?";
}

static void
set_ip(union net_addr *a, int family, const char *text)
{
	memset(a, 0, sizeof *a);
	a->sa.sa_family = (sa_family_t)family;
	if (family == AF_INET)
		(void)inet_pton(AF_INET, text, &a->in.sin_addr);
	else
		(void)inet_pton(AF_INET6, text, &a->in6.sin6_addr);
}

void
tun_config_defaults(struct tun_config *c)
{
	memset(c, 0, sizeof *c);
	/* 198.18.0.0/15 is set aside for benchmarking (RFC 2544) and is
	 * what other TUN-based VPNs use for their inside addresses; the
	 * IPv6 prefix is a ULA spelling "mdns". */
	set_ip(&c->addr4, AF_INET, "198.18.0.1");
	c->plen4 = 30;
	set_ip(&c->dns4, AF_INET, "198.18.0.2");
	set_ip(&c->addr6, AF_INET6, "fd6d:646e:7300::1");
	c->plen6 = 126;
	set_ip(&c->dns6, AF_INET6, "fd6d:646e:7300::2");
	c->mtu = 1500;
	c->max_flows = 4096;
	c->max_dns_pending = 512;
	c->dns_timeout_ms = 5000;
}

/* ---- writing ---- */

int
tun_write_pkt(struct tun *t, const uint8_t *p, size_t len)
{
	ssize_t w;

	do
		w = write(t->fd, p, len);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)len) {
		t->st.write_errors++;
		return -1;
	}
	t->st.pkts_out++;
	t->st.bytes_out += len;
	return 0;
}

/* ---- DNS through the mapped address ---- */

static void
dns_query(struct tun *t, const struct tun_pkt *p)
{
	uint64_t now = ev_now_us(t->loop), qid;
	struct tun_dns_slot *s;
	size_t alen = p->family == AF_INET ? 4 : 16;

	qid = ++t->next_qid;
	s = &t->dns[qid % t->cfg.max_dns_pending];
	if (s->qid != 0) {
		if (s->deadline_us > now) {
			t->st.drops[TUN_DROP_DNS_BUSY]++;
			return;
		}
		t->st.dns_timeouts++;
	}
	memset(s, 0, sizeof *s);
	s->qid = qid;
	s->deadline_us = now + (uint64_t)t->cfg.dns_timeout_ms * 1000;
	s->family = p->family;
	memcpy(s->app, p->src, alen);
	memcpy(s->dns, p->dst, alen);
	s->app_port = p->sport;
	t->st.dns_queries++;
	if (t->ds.query(t->ds.arg, qid, p->l4 + 8, p->l4_len - 8) == -1) {
		s->qid = 0;
		t->st.drops[TUN_DROP_DNS_REFUSED]++;
	}
}

int
tun_dns_answer(struct tun *t, uint64_t qid, const uint8_t *msg, size_t len)
{
	struct tun_dns_slot *s;
	struct tun_pkt p;
	size_t n, alen;
	int trunc;

	if (qid == 0 || t->cfg.max_dns_pending == 0)
		goto late;
	s = &t->dns[qid % t->cfg.max_dns_pending];
	if (s->qid != qid || s->deadline_us < ev_now_us(t->loop))
		goto late;
	s->qid = 0;
	memset(&p, 0, sizeof p);
	p.family = s->family;
	alen = p.family == AF_INET ? 4 : 16;
	memcpy(p.src, s->app, alen);
	memcpy(p.dst, s->dns, alen);
	p.sport = s->app_port;
	p.dport = 53;
	n = tun_pkt_udp_answer(
	    &p, msg, len, (size_t)t->cfg.mtu, t->buf, TUN_PKT_MAX, &trunc);
	if (n == 0)
		goto late;
	if (trunc)
		t->st.dns_truncated++;
	t->st.dns_answers++;
	return tun_write_pkt(t, t->buf, n);
late:
	t->st.dns_late++;
	return -1;
}

/* ---- reading ---- */

static void
unreach(struct tun *t, const struct tun_pkt *p, enum tun_pkt_kind k)
{
	uint8_t out[1280];
	size_t n = tun_pkt_unreach(p, k, (size_t)t->cfg.mtu, out, sizeof out);

	if (n > 0 && tun_write_pkt(t, out, n) == 0)
		t->st.icmp_sent++;
}

void
tun_input(struct tun *t, const uint8_t *pkt, size_t len)
{
	struct tun_pkt p;
	enum tun_drop why;
	enum tun_pkt_kind k;

	t->st.pkts_in++;
	t->st.bytes_in += len;
	k = tun_pkt_parse(
	    pkt, len, (size_t)t->cfg.mtu, &t->cfg.dns4, &t->cfg.dns6, &p, &why);
	switch (k) {
	case TUN_PKT_TCP:
		tun_stack_input(t->stack, &p);
		return;
	case TUN_PKT_DNS:
		if (t->ds.query == NULL) {
			t->st.drops[TUN_DROP_DNS_NO_SINK]++;
			unreach(t, &p, TUN_PKT_UDP);
			return;
		}
		dns_query(t, &p);
		return;
	case TUN_PKT_UDP:
		t->st.drops[TUN_DROP_UDP]++;
		unreach(t, &p, k);
		return;
	case TUN_PKT_ECHO:
		t->st.drops[TUN_DROP_ECHO]++;
		unreach(t, &p, k);
		return;
	case TUN_PKT_PROTO:
		t->st.drops[TUN_DROP_PROTO]++;
		unreach(t, &p, k);
		return;
	case TUN_PKT_DROP:
		t->st.drops[why]++;
		return;
	}
}

/* Up to 64 packets per wake-up, then back to the loop. */
static void
on_readable(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct tun *t = arg;
	ssize_t r;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < 64; i++) {
		r = read(fd, t->buf, TUN_PKT_MAX);
		if (r > 0) {
			tun_input(t, t->buf, (size_t)r);
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF or an error: a device that went away, a short read. */
		t->st.read_errors++;
		return;
	}
}

/* ---- creating ---- */

static int
check_config(const struct tun_config *c, struct err *e)
{
	if (c->mtu < TUN_MTU_MIN || c->mtu > TUN_MTU_MAX)
		return err_set(e, "tun: MTU %d is out of range (%d..%d)",
		    c->mtu, TUN_MTU_MIN, TUN_MTU_MAX);
	if (c->addr4.sa.sa_family == AF_INET && (c->plen4 < 1 || c->plen4 > 32))
		return err_set(e, "tun: IPv4 prefix length %d", c->plen4);
	if (c->addr6.sa.sa_family == AF_INET6 &&
	    (c->plen6 < 1 || c->plen6 > 128))
		return err_set(e, "tun: IPv6 prefix length %d", c->plen6);
	if (c->max_flows == 0 || c->max_dns_pending == 0)
		return err_set(e, "tun: max_flows and max_dns_pending > 0");
	return 0;
}

static struct tun *
tun_new(struct ev_loop *loop, const struct tun_config *cfg,
    const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e)
{
	struct tun *t;

	if (check_config(cfg, e) == -1)
		return NULL;
	t = xcalloc(1, sizeof *t);
	t->loop = loop;
	t->cfg = *cfg;
	t->fd = -1;
	if (fs != NULL)
		t->fs = *fs;
	if (ds != NULL)
		t->ds = *ds;
	t->dns = xcalloc(cfg->max_dns_pending, sizeof *t->dns);
	t->buf = xmalloc(TUN_PKT_MAX);
	snprintf(t->ifname, sizeof t->ifname, "%s",
	    cfg->ifname[0] != '\0' ? cfg->ifname : TUN_DEFAULT_NAME);
	return t;
}

static void
tun_free(struct tun *t)
{
	free(t->dns);
	free(t->buf);
	free(t);
}

static int
start(struct tun *t, int fd, struct err *e)
{
	t->fd = fd;
	if (net_set_nonblock(fd, e) == -1)
		return -1;
	if ((t->stack = tun_stack_new(t, e)) == NULL)
		return -1;
	return ev_io_add(t->loop, fd, EV_READ, on_readable, t, e);
}

struct tun *
tun_attach(struct ev_loop *loop, const struct tun_config *cfg, int fd,
    const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e)
{
	struct tun *t = tun_new(loop, cfg, fs, ds, e);

	if (t == NULL) {
		close(fd);
		return NULL;
	}
	if (start(t, fd, e) == -1) {
		tun_close(t);
		return NULL;
	}
	return t;
}

/* Whether the effective capability set holds CAP_NET_ADMIN. */
int
tun_have_net_admin(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) == -1)
		return 0;
	return (d[CAP_NET_ADMIN / 32].effective &
		   (1u << (CAP_NET_ADMIN % 32))) != 0;
}

static int
configure(struct tun *t, struct err *e)
{
	struct nl nl;
	int rc = -1;

	if (nl_open(&nl, e) == -1)
		return -1;
	if (nl_link_set_mtu(&nl, t->ifindex, t->cfg.mtu, e) == -1)
		goto out;
	if (t->cfg.addr4.sa.sa_family == AF_INET &&
	    nl_addr_add(
		&nl, t->ifindex, &t->cfg.addr4, t->cfg.plen4, NULL, e) == -1)
		goto out;
	if (t->cfg.addr6.sa.sa_family == AF_INET6 &&
	    nl_addr_add(
		&nl, t->ifindex, &t->cfg.addr6, t->cfg.plen6, NULL, e) == -1)
		goto out;
	if (nl_link_set_up(&nl, t->ifindex, 1, e) == -1)
		goto out;
	rc = 0;
out:
	nl_close(&nl);
	return rc;
}

struct tun *
tun_open(struct ev_loop *loop, const struct tun_config *cfg,
    const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e)
{
	struct ifreq ifr;
	struct tun *t;
	int fd;

	if (!tun_have_net_admin()) {
		err_set(e,
		    "tun: creating a TUN device needs root or "
		    "CAP_NET_ADMIN (try sudo, or setcap "
		    "cap_net_admin+ep on the binary)");
		return NULL;
	}
	if ((t = tun_new(loop, cfg, fs, ds, e)) == NULL)
		return NULL;
	/* TUNSETIFF would attach to an existing persistent device of that
	 * name and we would configure someone else's interface. */
	if (if_nametoindex(t->ifname) != 0) {
		err_set(e, "tun: a device named %s exists already", t->ifname);
		tun_free(t);
		return NULL;
	}
	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1) {
		err_set(e, "tun: /dev/net/tun: %s", strerror(errno));
		tun_free(t);
		return NULL;
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", t->ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		err_set(e, "tun: create %s: %s%s", t->ifname, strerror(errno),
		    errno == EBUSY ? " (a device of that name exists)" : "");
		close(fd);
		tun_free(t);
		return NULL;
	}
	snprintf(t->ifname, sizeof t->ifname, "%s", ifr.ifr_name);
	t->ifindex = (int)if_nametoindex(t->ifname);
	if (t->ifindex == 0 || configure(t, e) == -1) {
		if (t->ifindex == 0)
			err_set(e, "tun: %s has no index", t->ifname);
		err_prefix(e, "tun: configure %s", t->ifname);
		close(fd);
		tun_free(t);
		return NULL;
	}
	if (start(t, fd, e) == -1) {
		tun_close(t);
		return NULL;
	}
	return t;
}

void
tun_close(struct tun *t)
{
	if (t == NULL)
		return;
	tun_stack_free(t->stack);
	if (t->fd != -1) {
		ev_io_del(t->loop, t->fd);
		close(t->fd);
	}
	tun_free(t);
}

const char *
tun_ifname(const struct tun *t)
{
	return t->ifname;
}

int
tun_ifindex(const struct tun *t)
{
	return t->ifindex;
}

const struct tun_config *
tun_get_config(const struct tun *t)
{
	return &t->cfg;
}

const struct tun_stats *
tun_get_stats(const struct tun *t)
{
	return &t->st;
}

json_t *
tun_stats_json(const struct tun_stats *s)
{
	json_t *o, *d;
	int i;

	o = json_pack("{s:{s:I,s:I,s:I,s:I},s:{s:I,s:I},"
		      "s:{s:I,s:I,s:I,s:I,s:I,s:I},"
		      "s:{s:I,s:I,s:I,s:I,s:I},s:I}",
	    "packets", "in", (json_int_t)s->pkts_in, "out",
	    (json_int_t)s->pkts_out, "bytes_in", (json_int_t)s->bytes_in,
	    "bytes_out", (json_int_t)s->bytes_out, "errors", "read",
	    (json_int_t)s->read_errors, "write", (json_int_t)s->write_errors,
	    "tcp", "open", (json_int_t)s->flows_open, "opened",
	    (json_int_t)s->flows_opened, "refused",
	    (json_int_t)s->flows_refused, "reset", (json_int_t)s->flows_reset,
	    "bytes_up", (json_int_t)s->flow_bytes_up, "bytes_down",
	    (json_int_t)s->flow_bytes_down, "dns", "queries",
	    (json_int_t)s->dns_queries, "answers", (json_int_t)s->dns_answers,
	    "late", (json_int_t)s->dns_late, "timeouts",
	    (json_int_t)s->dns_timeouts, "truncated",
	    (json_int_t)s->dns_truncated, "icmp_sent",
	    (json_int_t)s->icmp_sent);
	d = json_object();
	for (i = 0; i < TUN_DROP_MAX; i++)
		json_object_set_new(
		    d, drop_names[i], json_integer((json_int_t)s->drops[i]));
	json_object_set_new(o, "dropped", d);
	return o;
}

/* ---- both ---- */

int
tun_vpn_start(struct tun_vpn *v, struct ev_loop *loop,
    const struct tun_config *tc, const struct tun_sys_config *sc,
    const union net_addr *keep_out, size_t nkeep,
    const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e)
{
	size_t i;

	memset(v, 0, sizeof *v);
	/* Before the lock and the state directory: say it first. */
	if (!tun_have_net_admin())
		return err_set(e,
		    "connect --tun needs root or CAP_NET_ADMIN "
		    "(to create the TUN device and change "
		    "routes)");
	if ((v->sys = tun_sys_begin(sc, e)) == NULL)
		return -1;
	for (i = 0; i < nkeep; i++)
		if (tun_route_resolver_add(v->sys, &keep_out[i], e) == -1) {
			(void)tun_sys_end(v->sys, NULL);
			v->sys = NULL;
			return -1;
		}
	if ((v->tun = tun_open(loop, tc, fs, ds, e)) == NULL) {
		(void)tun_sys_end(v->sys, NULL);
		v->sys = NULL;
		return -1;
	}
	if (tun_sys_apply(v->sys, v->tun, e) == -1) {
		(void)tun_vpn_stop(v, NULL);
		return -1;
	}
	return 0;
}

int
tun_vpn_stop(struct tun_vpn *v, struct err *e)
{
	int rc = tun_sys_end(v->sys, e);

	v->sys = NULL;
	tun_close(v->tun);
	v->tun = NULL;
	return rc;
}

json_t *
tun_vpn_json(const struct tun_vpn *v)
{
	json_t *o = v->sys != NULL ? tun_sys_json(v->sys) : json_object();

	if (v->tun != NULL) {
		json_object_set_new(o, "device", json_string(v->tun->ifname));
		json_object_set_new(o, "mtu", json_integer(v->tun->cfg.mtu));
		json_object_set_new(o, "counters", tun_stats_json(&v->tun->st));
	}
	return o;
}
