/* SPDX-License-Identifier: MIT */
/*
 * tun-driver — full-VPN mode (engine/tun.h) with test sinks, for the
 * namespace tests and by hand: the TUN device, lwIP, the routes and the
 * resolver configuration exactly as `connect --tun` will set them up, but
 * TCP flows go out through tun-connector.h (a plain TCP connection per
 * flow) and DNS queries to the mapped address are forwarded over UDP to
 * --dns-upstream instead of through a tunnel. Not part of the product.
 *
 *   tun-driver [--name IF] [--mtu N] [--addr4 A/LEN|none]
 *              [--addr6 A/LEN|none] [--dns4 A] [--dns6 A]
 *              [--state-dir DIR] [--resolv-conf PATH] [--no-resolver]
 *              [--no-routes] [--exit-dev IF] [--resolver ADDR]...
 *              [--dns-upstream ADDR:PORT] [--status FILE]
 *              [--max-flows N]
 *   tun-driver --cleanup [--state-dir DIR]
 *
 * Prints "ready IF" on stdout when everything is up. SIGUSR1 writes the
 * status JSON (tun_vpn_json plus the connector's counts) to --status
 * (atomically); SIGTERM / SIGINT restore everything and exit 0. The
 * upstream resolver gets a host route through tun_route_resolver_add, as
 * the tunnel's resolvers will (--resolver: before the half-default
 * routes go in): its queries then leave outside the TUN.
 * Exit: 0, 1 on a start or restore error (one line on stderr).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "engine/tun.h"
#include "tests/tools/tun-connector.h"

struct fwd_slot {
	uint64_t qid;
	uint16_t id; /* the application's DNS id */
};

struct driver {
	struct ev_loop *loop;
	struct tun_vpn vpn;
	struct tun_conn conn;
	const char *status;
	int ufd; /* to --dns-upstream */
	uint16_t next_id;
	struct fwd_slot slots[65536];
	uint64_t fwd_sent, fwd_recv;
};

static int
fwd_query(void *arg, uint64_t qid, const uint8_t *msg, size_t len)
{
	struct driver *d = arg;
	uint8_t b[4096];
	uint16_t id = ++d->next_id;

	if (len < 12 || len > sizeof b)
		return -1;
	memcpy(b, msg, len);
	d->slots[id].qid = qid;
	d->slots[id].id = be16_load(msg);
	be16_store(b, id);
	if (send(d->ufd, b, len, 0) != (ssize_t)len)
		return -1;
	d->fwd_sent++;
	return 0;
}

static void
fwd_answer(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct driver *d = arg;
	uint8_t b[65536];
	ssize_t r;
	uint16_t id;

	(void)loop;
	(void)events;
	while ((r = recv(fd, b, sizeof b, 0)) >= 12) {
		id = be16_load(b);
		if (d->slots[id].qid == 0)
			continue;
		be16_store(b, d->slots[id].id);
		d->fwd_recv++;
		(void)tun_dns_answer(
		    d->vpn.tun, d->slots[id].qid, b, (size_t)r);
		d->slots[id].qid = 0;
	}
}

static void
write_status(struct driver *d)
{
	json_t *o = tun_vpn_json(&d->vpn);
	char *tmp;

	json_object_set_new(o, "connector",
	    json_pack("{s:I,s:I,s:I}", "opened", (json_int_t)d->conn.opened,
		"failed", (json_int_t)d->conn.failed, "closed",
		(json_int_t)d->conn.closed));
	json_object_set_new(o, "dns_forward",
	    json_pack("{s:I,s:I}", "sent", (json_int_t)d->fwd_sent, "received",
		(json_int_t)d->fwd_recv));
	tmp = xasprintf("%s.tmp", d->status);
	if (json_dump_file(o, tmp, JSON_COMPACT) == 0)
		(void)rename(tmp, d->status);
	free(tmp);
	json_decref(o);
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct driver *d = arg;

	if (signo == SIGUSR1) {
		if (d->status != NULL)
			write_status(d);
		return;
	}
	ev_stop(loop);
}

static int
addr_plen(const char *s, union net_addr *a, int *plen, struct err *e)
{
	char buf[128], *slash;
	long long v;

	if (strcmp(s, "none") == 0) {
		memset(a, 0, sizeof *a);
		return 0;
	}
	snprintf(buf, sizeof buf, "%s", s);
	if ((slash = strchr(buf, '/')) == NULL)
		return err_set(e, "%s: want ADDRESS/LENGTH", s);
	*slash = '\0';
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, buf, &a->in.sin_addr) == 1)
		a->sa.sa_family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &a->in6.sin6_addr) == 1)
		a->sa.sa_family = AF_INET6;
	else
		return err_set(e, "%s: not an address", s);
	if (parse_int(slash + 1, 1, a->sa.sa_family == AF_INET ? 32 : 128, &v,
		e) == -1)
		return -1;
	*plen = (int)v;
	return 0;
}

static int
ip_only(const char *s, union net_addr *a, struct err *e)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, s, &a->in.sin_addr) == 1)
		a->sa.sa_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a->in6.sin6_addr) == 1)
		a->sa.sa_family = AF_INET6;
	else
		return err_set(e, "%s: not an address", s);
	return 0;
}

static void
say(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

enum {
	O_NAME = 256,
	O_MTU,
	O_ADDR4,
	O_ADDR6,
	O_DNS4,
	O_DNS6,
	O_STATE,
	O_RESOLV,
	O_NORES,
	O_NOROUTES,
	O_EXITDEV,
	O_RESOLVER,
	O_UPSTREAM,
	O_STATUS,
	O_CLEANUP,
	O_MAXFLOWS,
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, O_NAME},
	    {"mtu", required_argument, NULL, O_MTU},
	    {"addr4", required_argument, NULL, O_ADDR4},
	    {"addr6", required_argument, NULL, O_ADDR6},
	    {"dns4", required_argument, NULL, O_DNS4},
	    {"dns6", required_argument, NULL, O_DNS6},
	    {"state-dir", required_argument, NULL, O_STATE},
	    {"resolv-conf", required_argument, NULL, O_RESOLV},
	    {"no-resolver", no_argument, NULL, O_NORES},
	    {"no-routes", no_argument, NULL, O_NOROUTES},
	    {"exit-dev", required_argument, NULL, O_EXITDEV},
	    {"resolver", required_argument, NULL, O_RESOLVER},
	    {"dns-upstream", required_argument, NULL, O_UPSTREAM},
	    {"status", required_argument, NULL, O_STATUS},
	    {"cleanup", no_argument, NULL, O_CLEANUP},
	    {"max-flows", required_argument, NULL, O_MAXFLOWS},
	    {NULL, 0, NULL, 0},
	};
	static struct driver d;
	struct tun_config tc;
	struct tun_sys_config sc = {NULL, NULL, 1, 1};
	struct tun_flow_sink fs;
	struct tun_dns_sink ds = {NULL, NULL};
	struct err e = {""};
	union net_addr up, res[16];
	const char *upstream = NULL;
	size_t nres = 0, i;
	long long v;
	int c, cleanup = 0, changed, rc = 0;

	tun_config_defaults(&tc);
	d.ufd = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_NAME:
			snprintf(tc.ifname, sizeof tc.ifname, "%s", optarg);
			break;
		case O_MTU:
			if (parse_int(optarg, 1, 65535, &v, &e) == -1)
				goto usage;
			tc.mtu = (int)v;
			break;
		case O_ADDR4:
			if (addr_plen(optarg, &tc.addr4, &tc.plen4, &e) == -1)
				goto usage;
			break;
		case O_ADDR6:
			if (addr_plen(optarg, &tc.addr6, &tc.plen6, &e) == -1)
				goto usage;
			break;
		case O_DNS4:
			if (ip_only(optarg, &tc.dns4, &e) == -1)
				goto usage;
			break;
		case O_DNS6:
			if (ip_only(optarg, &tc.dns6, &e) == -1)
				goto usage;
			break;
		case O_STATE:
			sc.state_dir = optarg;
			break;
		case O_RESOLV:
			sc.resolv_conf = optarg;
			break;
		case O_NORES:
			sc.set_resolver = 0;
			break;
		case O_NOROUTES:
			sc.default_routes = 0;
			break;
		case O_EXITDEV:
			snprintf(d.conn.bind_dev, sizeof d.conn.bind_dev, "%s",
			    optarg);
			break;
		case O_RESOLVER:
			if (nres == nitems(res) ||
			    ip_only(optarg, &res[nres], &e) == -1)
				goto usage;
			nres++;
			break;
		case O_UPSTREAM:
			upstream = optarg;
			break;
		case O_STATUS:
			d.status = optarg;
			break;
		case O_CLEANUP:
			cleanup = 1;
			break;
		case O_MAXFLOWS:
			if (parse_int(optarg, 1, 1000000, &v, &e) == -1)
				goto usage;
			tc.max_flows = (unsigned)v;
			break;
		default:
			err_set(&e, "unknown option");
			goto usage;
		}
	}
	if (cleanup) {
		if (tun_sys_cleanup(&sc, say, NULL, &changed, &e) == -1) {
			fprintf(stderr, "tun-driver: cleanup: %s\n", e.msg);
			return 1;
		}
		printf("cleanup: %d change(s) undone\n", changed);
		return 0;
	}
	if ((d.loop = ev_loop_new(&e)) == NULL)
		goto fail;
	d.conn.loop = d.loop;
	fs.open = tc_open;
	fs.arg = &d.conn;
	if (upstream != NULL) {
		if (net_addr_parse(upstream, 53, &up, &e) == -1)
			goto fail;
		d.ufd = socket(up.sa.sa_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (d.ufd == -1 || connect(d.ufd, &up.sa, net_addr_len(&up)))
			goto fail_errno;
		if (ev_io_add(d.loop, d.ufd, EV_READ, fwd_answer, &d, &e) == -1)
			goto fail;
		ds.query = fwd_query;
		ds.arg = &d;
	}
	if (ev_signal_add(d.loop, SIGTERM, on_signal, &d, &e) == -1 ||
	    ev_signal_add(d.loop, SIGINT, on_signal, &d, &e) == -1 ||
	    ev_signal_add(d.loop, SIGUSR1, on_signal, &d, &e) == -1)
		goto fail;
	if (tun_vpn_start(&d.vpn, d.loop, &tc, &sc, res, nres, &fs,
		upstream != NULL ? &ds : NULL, &e) == -1)
		goto fail;
	printf("ready %s\n", tun_ifname(d.vpn.tun));
	fflush(stdout);
	if (ev_run(d.loop) == -1)
		rc = 1;
	for (i = nres; i > 0; i--)
		(void)tun_route_resolver_del(d.vpn.sys, &res[i - 1], NULL);
	if (tun_vpn_stop(&d.vpn, &e) == -1) {
		fprintf(stderr, "tun-driver: restore: %s\n", e.msg);
		rc = 1;
	}
	if (d.ufd != -1)
		close(d.ufd);
	ev_loop_free(d.loop);
	return rc;
fail_errno:
	err_set(&e, "upstream %s: %s", upstream, strerror(errno));
fail:
	fprintf(stderr, "tun-driver: %s\n", e.msg);
	return 1;
usage:
	fprintf(stderr, "tun-driver: %s\n", e.msg);
	return 1;
}
