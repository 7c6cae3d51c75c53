/* SPDX-License-Identifier: MIT */
/*
 * udp-relay — a fault-injecting UDP relay for ARQ and failover tests: the
 * userspace stand-in for netem, which this kernel lacks.
 *
 *   udp-relay --upstream ADDR:PORT [--listen ADDR[:PORT]] [--seed N]
 *             [--stats FILE] [--idle S] [FAULTS]
 *
 * Clients send to the listen address; each client source address gets its
 * own upstream socket (connected to --upstream), so answers find their way
 * back to the right client. Every packet, in each direction ("up" = client
 * to server, "down" = server to client), passes these stages in order:
 *
 *   loss P        drop with probability P
 *   truncate N    cut to N bytes (when longer), with probability
 *   truncate-prob P  (default 1)
 *   dup P         send twice with probability P
 *   delay MS      hold for MS milliseconds, plus
 *   jitter MS     a uniform random 0..MS more (this alone can reorder)
 *   reorder P     with probability P hold the packet back and send it right
 *                 after the next packet of the same client and direction,
 *                 or after reorder-ms MS (default 50) if none comes
 *
 * Each FAULT is given as --up-NAME V, --down-NAME V or --NAME V (both).
 * Probabilities are "0.1" or "10%". Randomness comes from one xoshiro256**
 * generator per direction, both seeded from --seed, so a run is
 * reproducible given the same packet order in each direction (the
 * interleaving of the two directions does not matter).
 *
 * Counters per direction (received, forwarded, dropped, duplicated,
 * reordered, reorder_timeouts, truncated, delayed, send_errors, bytes) are
 * written as one JSON object to --stats FILE on SIGUSR1 and at exit (via a
 * temporary file and rename, so readers never see half a file) and printed
 * on stdout at exit (SIGTERM/SIGINT). "reordered" counts only packets that
 * really went out after a later one. With --listen port 0 (the default) it
 * prints "port=N" when ready. Idle clients are forgotten after --idle
 * seconds (default 60). It relays datagrams only: no TCP, no ICMP errors.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

enum { DIR_UP = 0, DIR_DOWN = 1 };
static const char *dir_name[2] = {"up", "down"};

enum {
	P_LOSS,
	P_DUP,
	P_REORDER,
	P_REORDER_MS,
	P_DELAY,
	P_JITTER,
	P_TRUNCATE,
	P_TRUNCATE_PROB,
	P_COUNT,
};
static const char *param_name[P_COUNT] = {"loss", "dup", "reorder",
    "reorder-ms", "delay", "jitter", "truncate", "truncate-prob"};

struct faults {
	double loss, dup, reorder, truncate_prob;
	uint64_t reorder_us, delay_us, jitter_us;
	size_t truncate;
};

struct dstats {
	uint64_t received, forwarded, dropped, duplicated, reordered;
	uint64_t reorder_timeouts, truncated, delayed, send_errors;
	uint64_t bytes_in, bytes_out;
};

struct flow;
struct relay;

struct pkt {
	struct flow *fl;
	int dir;
	size_t len;
	uint8_t data[];
};

struct flow {
	struct relay *r;
	union net_addr client;
	int ufd;
	uint64_t last_us;
	int pending; /* packets in delay timers or held */
	struct pkt *held[2];
	uint64_t held_timer[2];
	struct flow *hnext;
};

#define FLOW_BUCKETS 4096

struct relay {
	struct ev_loop *loop;
	int lfd;
	union net_addr upstream;
	struct faults f[2];
	struct dstats st[2];
	uint64_t rng[2][4]; /* one generator per direction */
	uint64_t seed;
	uint64_t idle_us;
	const char *stats_path;
	struct flow *buckets[FLOW_BUCKETS];
	size_t nflows, flows_total;
};

static uint8_t rbuf[65536];

/* splitmix64 seeds xoshiro256** (both public-domain algorithms). */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct relay *r, int dir)
{
	uint64_t *s = r->rng[dir], res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

static int
chance(struct relay *r, int dir, double p)
{
	if (p <= 0)
		return 0;
	return (double)(rng_next(r, dir) >> 11) * 0x1.0p-53 < p;
}

static void
stats_json(const struct relay *r, FILE *f)
{
	int d;

	fprintf(f, "{");
	for (d = 0; d < 2; d++) {
		const struct dstats *s = &r->st[d];

		fprintf(f,
		    "\"%s\":{\"received\":%llu,\"forwarded\":%llu,"
		    "\"dropped\":%llu,\"duplicated\":%llu,\"reordered\":%llu,"
		    "\"reorder_timeouts\":%llu,\"truncated\":%llu,"
		    "\"delayed\":%llu,\"send_errors\":%llu,\"bytes_in\":%llu,"
		    "\"bytes_out\":%llu},",
		    dir_name[d], (unsigned long long)s->received,
		    (unsigned long long)s->forwarded,
		    (unsigned long long)s->dropped,
		    (unsigned long long)s->duplicated,
		    (unsigned long long)s->reordered,
		    (unsigned long long)s->reorder_timeouts,
		    (unsigned long long)s->truncated,
		    (unsigned long long)s->delayed,
		    (unsigned long long)s->send_errors,
		    (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out);
	}
	fprintf(f, "\"flows\":%zu,\"flows_total\":%zu,\"seed\":%llu}\n",
	    r->nflows, r->flows_total, (unsigned long long)r->seed);
}

static void
stats_write(const struct relay *r)
{
	char *tmp;
	FILE *f;

	if (r->stats_path == NULL)
		return;
	tmp = xasprintf("%s.tmp", r->stats_path);
	if ((f = fopen(tmp, "w")) != NULL) {
		stats_json(r, f);
		if (fclose(f) == 0 && rename(tmp, r->stats_path) == 0) {
			free(tmp);
			return;
		}
	}
	fprintf(stderr, "udp-relay: %s: %s\n", r->stats_path, strerror(errno));
	free(tmp);
}

static void
xmit(struct relay *r, struct flow *fl, int dir, const uint8_t *d, size_t n)
{
	ssize_t k;

	if (dir == DIR_UP)
		k = send(fl->ufd, d, n, 0);
	else
		k = sendto(
		    r->lfd, d, n, 0, &fl->client.sa, net_addr_len(&fl->client));
	if (k < 0) {
		r->st[dir].send_errors++;
		return;
	}
	r->st[dir].forwarded++;
	r->st[dir].bytes_out += n;
}

static struct pkt *
pkt_new(struct flow *fl, int dir, const uint8_t *d, size_t n)
{
	struct pkt *p = xmalloc(sizeof *p + n);

	p->fl = fl;
	p->dir = dir;
	p->len = n;
	memcpy(p->data, d, n);
	fl->pending++;
	return p;
}

static void
pkt_free(struct pkt *p)
{
	p->fl->pending--;
	free(p);
}

/* The reorder stage's timer ran out: nothing overtook the held packet. */
static void
on_held_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct pkt *p = arg;
	struct flow *fl = p->fl;

	(void)loop;
	(void)id;
	fl->held[p->dir] = NULL;
	fl->held_timer[p->dir] = 0;
	fl->r->st[p->dir].reorder_timeouts++;
	xmit(fl->r, fl, p->dir, p->data, p->len);
	pkt_free(p);
}

/*
 * Last stage: maybe hold the packet back (reorder), else send it and then
 * release a packet held before it. p, when not NULL, owns the bytes and is
 * consumed.
 */
static void
emit(struct flow *fl, int dir, const uint8_t *d, size_t n, struct pkt *p)
{
	struct relay *r = fl->r;
	struct pkt *h;

	if (fl->held[dir] == NULL && chance(r, dir, r->f[dir].reorder)) {
		if (p == NULL)
			p = pkt_new(fl, dir, d, n);
		fl->held[dir] = p;
		fl->held_timer[dir] = ev_timer_add(
		    r->loop, r->f[dir].reorder_us, on_held_timeout, p);
		return;
	}
	xmit(r, fl, dir, d, n);
	if (p != NULL)
		pkt_free(p);
	if ((h = fl->held[dir]) != NULL) {
		ev_timer_cancel(r->loop, fl->held_timer[dir]);
		fl->held[dir] = NULL;
		fl->held_timer[dir] = 0;
		r->st[dir].reordered++;
		xmit(r, fl, dir, h->data, h->len);
		pkt_free(h);
	}
}

static void
on_delay_done(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct pkt *p = arg;

	(void)loop;
	(void)id;
	emit(p->fl, p->dir, p->data, p->len, p);
}

/* The fault pipeline for one received datagram. */
static void
process(struct relay *r, struct flow *fl, int dir, uint8_t *d, size_t n)
{
	const struct faults *f = &r->f[dir];
	struct dstats *st = &r->st[dir];
	int copies = 1, i;

	st->received++;
	st->bytes_in += n;
	fl->last_us = ev_now_us(r->loop);
	if (chance(r, dir, f->loss)) {
		st->dropped++;
		return;
	}
	if (f->truncate > 0 && n > f->truncate &&
	    chance(r, dir, f->truncate_prob)) {
		n = f->truncate;
		st->truncated++;
	}
	if (chance(r, dir, f->dup)) {
		copies = 2;
		st->duplicated++;
	}
	for (i = 0; i < copies; i++) {
		uint64_t delay = f->delay_us;

		if (f->jitter_us > 0)
			delay += rng_next(r, dir) % (f->jitter_us + 1);
		if (delay == 0) {
			emit(fl, dir, d, n, NULL);
			continue;
		}
		st->delayed++;
		ev_timer_add(
		    r->loop, delay, on_delay_done, pkt_new(fl, dir, d, n));
	}
}

static void
on_upstream(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct flow *fl = arg;
	ssize_t n;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < 256; i++) {
		n = recv(fd, rbuf, sizeof rbuf, 0);
		if (n < 0)
			return;
		process(fl->r, fl, DIR_DOWN, rbuf, (size_t)n);
	}
}

static size_t
addr_hash(const union net_addr *a)
{
	const uint8_t *p = (const uint8_t *)a;
	size_t i, n = net_addr_len(a);
	uint64_t h = 1469598103934665603ULL;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)(h % FLOW_BUCKETS);
}

static void
grow_buffers(int fd)
{
	int sz = 4 << 20;

	/* FORCE works for root and lifts rmem_max; else take what we get. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

static struct flow *
flow_get(struct relay *r, const union net_addr *client)
{
	size_t h = addr_hash(client);
	struct flow *fl;
	union net_addr any;
	struct err e = {""};
	int fd;

	for (fl = r->buckets[h]; fl != NULL; fl = fl->hnext)
		if (net_addr_equal(&fl->client, client))
			return fl;
	memset(&any, 0, sizeof any);
	any.sa.sa_family = r->upstream.sa.sa_family;
	if ((fd = net_udp_bind(&any, &e)) < 0) {
		fprintf(stderr, "udp-relay: %s\n", e.msg);
		return NULL;
	}
	if (connect(fd, &r->upstream.sa, net_addr_len(&r->upstream)) < 0) {
		fprintf(stderr, "udp-relay: connect: %s\n", strerror(errno));
		close(fd);
		return NULL;
	}
	grow_buffers(fd);
	fl = xcalloc(1, sizeof *fl);
	fl->r = r;
	fl->client = *client;
	fl->ufd = fd;
	if (ev_io_add(r->loop, fd, EV_READ, on_upstream, fl, &e) < 0) {
		fprintf(stderr, "udp-relay: %s\n", e.msg);
		close(fd);
		free(fl);
		return NULL;
	}
	fl->hnext = r->buckets[h];
	r->buckets[h] = fl;
	r->nflows++;
	r->flows_total++;
	return fl;
}

static void
on_client(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct relay *r = arg;
	union net_addr from;
	struct flow *fl;
	socklen_t fl_len;
	ssize_t n;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < 256; i++) {
		fl_len = sizeof from;
		n = recvfrom(fd, rbuf, sizeof rbuf, 0, &from.sa, &fl_len);
		if (n < 0)
			return;
		if ((fl = flow_get(r, &from)) != NULL)
			process(r, fl, DIR_UP, rbuf, (size_t)n);
	}
}

/* Forget clients idle for longer than --idle with nothing in flight. */
static void
on_sweep(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct relay *r = arg;
	uint64_t now = ev_now_us(loop);
	struct flow **pp, *fl;
	size_t h;

	(void)id;
	for (h = 0; h < FLOW_BUCKETS; h++) {
		pp = &r->buckets[h];
		while ((fl = *pp) != NULL) {
			if (fl->pending == 0 &&
			    now - fl->last_us > r->idle_us) {
				*pp = fl->hnext;
				ev_io_del(loop, fl->ufd);
				close(fl->ufd);
				free(fl);
				r->nflows--;
			} else
				pp = &fl->hnext;
		}
	}
	ev_timer_add(loop, 1000000, on_sweep, r);
}

static void
on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct relay *r = arg;

	if (signo == SIGUSR1)
		stats_write(r);
	else
		ev_stop(loop);
}

/* "0.25" or "25%" into [0, 1]. */
static int
parse_prob(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0)
		return -1;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end != '\0' || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

static int
set_param(struct faults *f, int param, const char *val)
{
	long long v;

	switch (param) {
	case P_LOSS:
		return parse_prob(val, &f->loss);
	case P_DUP:
		return parse_prob(val, &f->dup);
	case P_REORDER:
		return parse_prob(val, &f->reorder);
	case P_TRUNCATE_PROB:
		return parse_prob(val, &f->truncate_prob);
	}
	if (parse_int(val, 0, param == P_TRUNCATE ? 65535 : 3600000, &v, NULL) <
	    0)
		return -1;
	switch (param) {
	case P_REORDER_MS:
		f->reorder_us = (uint64_t)v * 1000;
		break;
	case P_DELAY:
		f->delay_us = (uint64_t)v * 1000;
		break;
	case P_JITTER:
		f->jitter_us = (uint64_t)v * 1000;
		break;
	case P_TRUNCATE:
		f->truncate = (size_t)v;
		break;
	}
	return 0;
}

static void
usage(void)
{
	int i;

	fprintf(stderr,
	    "usage: udp-relay --upstream ADDR:PORT "
	    "[--listen ADDR[:PORT]] [--seed N] [--stats FILE] [--idle S]\n"
	    "       faults, each as --NAME, --up-NAME or --down-NAME:");
	for (i = 0; i < P_COUNT; i++)
		fprintf(stderr, " %s", param_name[i]);
	fprintf(stderr, "\n");
	exit(2);
}

enum { O_UPSTREAM = 1000, O_LISTEN, O_SEED, O_STATS, O_IDLE };

int
main(int argc, char **argv)
{
	static struct option opts[5 + 3 * P_COUNT + 1];
	static char names[3 * P_COUNT][32];
	static struct relay r;
	struct err e = {""};
	union net_addr listen_a;
	const char *listen_s = "127.0.0.1:0";
	long long v;
	int c, i, d, no = 0, have_up = 0, seeded = 0;

	opts[no++] =
	    (struct option){"upstream", required_argument, NULL, O_UPSTREAM};
	opts[no++] =
	    (struct option){"listen", required_argument, NULL, O_LISTEN};
	opts[no++] = (struct option){"seed", required_argument, NULL, O_SEED};
	opts[no++] = (struct option){"stats", required_argument, NULL, O_STATS};
	opts[no++] = (struct option){"idle", required_argument, NULL, O_IDLE};
	/* val = param * 3 + which (0 both, 1 up, 2 down). */
	for (i = 0; i < P_COUNT; i++) {
		for (d = 0; d < 3; d++) {
			char *nm = names[i * 3 + d];

			snprintf(nm, sizeof names[0], "%s%s",
			    d == 0     ? "" :
				d == 1 ? "up-" :
					 "down-",
			    param_name[i]);
			opts[no++] = (struct option){
			    nm, required_argument, NULL, i * 3 + d};
		}
	}
	for (d = 0; d < 2; d++) {
		r.f[d].truncate_prob = 1;
		r.f[d].reorder_us = 50000;
	}
	r.idle_us = 60000000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_UPSTREAM:
			if (net_addr_parse(optarg, 0, &r.upstream, &e) < 0 ||
			    net_addr_port(&r.upstream) == 0) {
				fprintf(stderr,
				    "udp-relay: --upstream %s: "
				    "%s\n",
				    optarg, e.msg[0] ? e.msg : "port needed");
				return 2;
			}
			have_up = 1;
			break;
		case O_LISTEN:
			listen_s = optarg;
			break;
		case O_SEED:
			if (parse_int(optarg, 0, INT64_MAX, &v, &e) < 0)
				usage();
			r.seed = (uint64_t)v;
			seeded = 1;
			break;
		case O_STATS:
			r.stats_path = optarg;
			break;
		case O_IDLE:
			if (parse_int(optarg, 1, 86400, &v, &e) < 0)
				usage();
			r.idle_us = (uint64_t)v * 1000000;
			break;
		default:
			if (c < 0 || c >= 3 * P_COUNT)
				usage();
			for (d = 0; d < 2; d++) {
				if (c % 3 != 0 && c % 3 != d + 1)
					continue;
				if (set_param(&r.f[d], c / 3, optarg) < 0) {
					fprintf(stderr,
					    "udp-relay: --%s: bad "
					    "value %s\n",
					    opts[5 + c].name, optarg);
					return 2;
				}
			}
		}
	}
	if (!have_up || optind != argc)
		usage();
	if (!seeded)
		r.seed = now_mono_us() ^ ((uint64_t)getpid() << 32);
	{
		uint64_t x = r.seed;

		for (d = 0; d < 2; d++)
			for (i = 0; i < 4; i++)
				r.rng[d][i] = splitmix64(&x);
	}
	if (net_addr_parse(listen_s, 0, &listen_a, &e) < 0) {
		fprintf(
		    stderr, "udp-relay: --listen %s: %s\n", listen_s, e.msg);
		return 2;
	}
	if ((r.loop = ev_loop_new(&e)) == NULL ||
	    (r.lfd = net_udp_bind(&listen_a, &e)) < 0 ||
	    net_local_addr(r.lfd, &listen_a, &e) < 0 ||
	    ev_io_add(r.loop, r.lfd, EV_READ, on_client, &r, &e) < 0 ||
	    ev_signal_add(r.loop, SIGTERM, on_signal, &r, &e) < 0 ||
	    ev_signal_add(r.loop, SIGINT, on_signal, &r, &e) < 0 ||
	    ev_signal_add(r.loop, SIGUSR1, on_signal, &r, &e) < 0) {
		fprintf(stderr, "udp-relay: %s\n", e.msg);
		return 2;
	}
	grow_buffers(r.lfd);
	ev_timer_add(r.loop, 1000000, on_sweep, &r);
	printf("port=%u\n", net_addr_port(&listen_a));
	fflush(stdout);
	if (ev_run(r.loop) < 0) {
		fprintf(stderr, "udp-relay: event loop failed\n");
		return 1;
	}
	stats_write(&r);
	stats_json(&r, stdout);
	fflush(stdout);
	return 0;
}
