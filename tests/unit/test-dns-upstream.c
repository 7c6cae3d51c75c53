/* SPDX-License-Identifier: MIT */
/*
 * test-dns-upstream.c — engine/dns-upstream on loopback against servers
 * that misbehave the way real networks do, all on one event loop: answers
 * with the wrong id, from the wrong port, for another question, cut short;
 * a silent server (timeout, hedging to the next), a closed port (ICMP:
 * the next server at once, or FAILED when it was the only one), SERVFAIL
 * accepted as an answer (upstream), identical questions sharing one
 * upstream query, cancellation, and the bounds. Answers from real
 * resolvers (unbound, auth-responder) are checked by
 * tests/sh/test-dns-upstream.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"
#include "engine/dns-upstream.h"
#include "proto/dnstun.h"
#include "tests/tap.h"

#define MS 1000ULL

enum behave {
	B_ANSWER,   /* answer at once */
	B_SILENT,   /* never answer */
	B_DELAY,    /* answer after delay_ms */
	B_BADFIRST, /* a bad datagram (kind in bad), then the answer */
	B_SERVFAIL, /* answer SERVFAIL */
};

enum bad { BAD_ID, BAD_SOURCE, BAD_QUESTION, BAD_SHORT };

struct fake {
	struct ev_loop *loop;
	int fd, alt_fd; /* alt: another port, for wrong-source answers */
	union net_addr addr;
	enum behave b;
	enum bad bad;
	unsigned delay_ms;
	int got;	   /* queries received */
	uint16_t last_id;  /* id of the last query seen */
	uint64_t first_at; /* loop time of the first query */
	uint8_t pend[512];
	size_t pend_len;
	union net_addr pend_to;
};

struct result {
	int calls;
	enum dnsup_status st;
	uint8_t ans[512];
	size_t len;
	uint64_t at;
};

static struct ev_loop *loop;
static int in_query;
static int cb_inside;

static size_t
mkquery(uint8_t *b, uint16_t id, uint16_t flags, const char *label)
{
	size_t l = strlen(label);

	memset(b, 0, 12);
	be16_store(b, id);
	be16_store(b + 2, flags);
	be16_store(b + 4, 1);
	b[12] = (uint8_t)l;
	memcpy(b + 13, label, l);
	memcpy(b + 13 + l, "\7example\0\0\1\0\1", 13);
	return 26 + l;
}

/* The answer a resolver would give: question echoed, one A record. */
static size_t
answer_for(const uint8_t *q, size_t n, uint8_t *a, unsigned rcode)
{
	memcpy(a, q, n);
	be16_store(a + 2, (uint16_t)(0x8180 | rcode));
	if (rcode != 0)
		return n;
	be16_store(a + 6, 1);
	memcpy(a + n, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc6\x33\x64\x07", 16);
	return n + 16;
}

static void
delayed_send(struct ev_loop *l, uint64_t id, void *arg)
{
	struct fake *f = arg;

	(void)l;
	(void)id;
	sendto(f->fd, f->pend, f->pend_len, 0, &f->pend_to.sa,
	    net_addr_len(&f->pend_to));
}

static void
fake_read(struct ev_loop *l, int fd, int events, void *arg)
{
	struct fake *f = arg;
	union net_addr from;
	socklen_t fl = sizeof from;
	uint8_t q[512], a[600], bad[600];
	ssize_t n;
	size_t an;

	(void)events;
	n = recvfrom(fd, q, sizeof q, 0, &from.sa, &fl);
	if (n < 12)
		return;
	if (f->got++ == 0)
		f->first_at = ev_now_us(l);
	f->last_id = be16_load(q);
	an = answer_for(q, (size_t)n, a, f->b == B_SERVFAIL ? 2 : 0);
	switch (f->b) {
	case B_SILENT:
		return;
	case B_DELAY:
		memcpy(f->pend, a, an);
		f->pend_len = an;
		f->pend_to = from;
		ev_timer_add(l, f->delay_ms * MS, delayed_send, f);
		return;
	case B_BADFIRST:
		memcpy(bad, a, an);
		if (f->bad == BAD_ID) {
			be16_store(bad, (uint16_t)(be16_load(a) + 1));
			sendto(fd, bad, an, 0, &from.sa, fl);
		} else if (f->bad == BAD_SOURCE) {
			sendto(f->alt_fd, bad, an, 0, &from.sa, fl);
		} else if (f->bad == BAD_QUESTION) {
			bad[13] ^= 0x01;
			sendto(fd, bad, an, 0, &from.sa, fl);
		} else {
			sendto(fd, bad, 5, 0, &from.sa, fl);
		}
		break;
	default:
		break;
	}
	sendto(fd, a, an, 0, &from.sa, fl);
}

static void
fake_open(struct fake *f, enum behave b, const char *ip)
{
	union net_addr any;

	memset(f, 0, sizeof *f);
	f->b = b;
	net_addr_parse(ip, 0, &any, NULL);
	f->fd = net_udp_bind(&any, NULL);
	f->alt_fd = net_udp_bind(&any, NULL);
	net_local_addr(f->fd, &f->addr, NULL);
	ev_io_add(loop, f->fd, EV_READ, fake_read, f, NULL);
}

static void
fake_close(struct fake *f)
{
	ev_io_del(loop, f->fd);
	close(f->fd);
	close(f->alt_fd);
}

/* A loopback port nobody listens on (ICMP port unreachable). */
static union net_addr
closed_port(void)
{
	union net_addr a, any;
	int fd;

	net_addr_parse("127.0.0.1", 0, &any, NULL);
	fd = net_udp_bind(&any, NULL);
	net_local_addr(fd, &a, NULL);
	close(fd);
	return a;
}

static void
on_result(void *arg, enum dnsup_status st, const uint8_t *ans, size_t len)
{
	struct result *r = arg;

	if (in_query)
		cb_inside = 1;
	r->calls++;
	r->st = st;
	r->len = len;
	if (len > 0 && len <= sizeof r->ans)
		memcpy(r->ans, ans, len);
	r->at = ev_now_us(loop);
}

static void
run_until(int *flag, int want, unsigned max_ms)
{
	uint64_t end = now_mono_us() + max_ms * MS;

	while (*flag < want && now_mono_us() < end)
		ev_run_once(loop, 20);
}

static struct dnsup *
mk_up(const union net_addr *servers, size_t n, uint64_t timeout_ms)
{
	struct dnsup_cfg c;
	struct err e;
	struct dnsup *u;

	dnsup_cfg_defaults(&c);
	memcpy(c.servers, servers, n * sizeof *servers);
	c.nservers = n;
	c.timeout_us = timeout_ms * MS;
	u = dnsup_new(loop, &c, &e);
	if (u == NULL)
		tap_diag("dnsup_new: %s", e.msg);
	return u;
}

static struct dnsup_req *
ask(struct dnsup *u, uint16_t id, const char *label, struct result *r)
{
	uint8_t q[300];
	size_t n = mkquery(q, id, 0x0100, label);
	struct dnsup_req *h;

	memset(r, 0, sizeof *r);
	in_query = 1;
	h = dnsup_query(u, q, n, 1, on_result, r, NULL);
	in_query = 0;
	return h;
}

static void
test_answers(void)
{
	struct fake f;
	struct result r;
	struct dnsup *u;
	const struct dnsup_stats *st;
	int i, rewritten = 0;
	enum bad kinds[] = {BAD_ID, BAD_SOURCE, BAD_QUESTION, BAD_SHORT};
	const char *names[] = {"wrong id", "wrong source port",
	    "wrong question", "5-byte datagram"};

	fake_open(&f, B_ANSWER, "127.0.0.1");
	u = mk_up(&f.addr, 1, 2000);
	st = dnsup_stats(u);
	ask(u, 0x4000, "www", &r);
	tap_is_int(r.calls, 0, "no callback inside dnsup_query");
	run_until(&r.calls, 1, 5000);
	tap_ok(r.calls == 1 && r.st == DNSUP_OK && be16_load(r.ans) == 0x4000 &&
		r.len == 26 + 3 + 16,
	    "answer with the requester's id restored");
	for (i = 0; i < 8; i++) {
		ask(u, 0x4000, "www", &r);
		run_until(&r.calls, 1, 5000);
		rewritten += f.last_id != 0x4000;
	}
	tap_ok(rewritten >= 7, "the id on the wire is random (%d/8 differ)",
	    rewritten);
	for (i = 0; i < 4; i++) {
		f.b = B_BADFIRST;
		f.bad = kinds[i];
		ask(u, 0x11, "www", &r);
		run_until(&r.calls, 1, 5000);
		tap_ok(r.calls == 1 && r.st == DNSUP_OK &&
			be16_load(r.ans) == 0x11,
		    "%s first: dropped, the right answer still wins", names[i]);
	}
	tap_ok(st->drop_id == 1 && st->drop_source == 1 &&
		st->drop_question == 1 && st->drop_malformed == 1,
	    "each bad datagram counted under its reason");
	f.b = B_SERVFAIL;
	ask(u, 0x22, "www", &r);
	run_until(&r.calls, 1, 5000);
	tap_ok(r.st == DNSUP_OK && (be16_load(r.ans + 2) & 15) == 2,
	    "SERVFAIL from the server is an answer (upstream)");
	f.b = B_SILENT;
	dnsup_free(u);
	u = mk_up(&f.addr, 1, 300);
	ask(u, 0x33, "www", &r);
	run_until(&r.calls, 1, 5000);
	tap_ok(r.calls == 1 && r.st == DNSUP_TIMEOUT && r.len == 0,
	    "silent server: timeout");
	dnsup_free(u);
	fake_close(&f);
}

static void
test_hedge_and_icmp(void)
{
	struct fake silent, good;
	union net_addr sv[3];
	struct result r;
	struct dnsup *u;
	const struct dnsup_stats *st;
	uint64_t t0;

	tap_is_int(dnsup_hedge_delay_us(4000 * MS), 350 * MS, "hedge 4 s: 350");
	tap_is_int(dnsup_hedge_delay_us(1000 * MS), 200 * MS, "hedge 1 s: 200");
	tap_is_int(dnsup_hedge_delay_us(300 * MS), 100 * MS, "hedge .3: 100");
	tap_is_int(dnsup_hedge_delay_us(100 * MS), 50 * MS, "hedge .1: 50");

	fake_open(&silent, B_SILENT, "127.0.0.1");
	fake_open(&good, B_ANSWER, "127.0.0.1");
	sv[0] = silent.addr;
	sv[1] = good.addr;
	u = mk_up(sv, 2, 4000);
	st = dnsup_stats(u);
	t0 = now_mono_us();
	ask(u, 0x44, "hedge", &r);
	run_until(&r.calls, 1, 8000);
	tap_ok(r.st == DNSUP_OK && silent.got == 1 && good.got == 1 &&
		st->hedged == 1,
	    "first server silent: the second is asked and answers");
	tap_ok(good.first_at >= t0 + 350 * MS,
	    "... not before the hedge delay (%.0f ms)",
	    (double)(good.first_at - t0) / 1000);
	dnsup_free(u);

	/* closed port first: ICMP makes it fail, the second is asked now */
	sv[0] = closed_port();
	sv[1] = good.addr;
	good.got = 0;
	u = mk_up(sv, 2, 4000);
	st = dnsup_stats(u);
	ask(u, 0x45, "icmp", &r);
	run_until(&r.calls, 1, 8000);
	tap_ok(r.st == DNSUP_OK && st->icmp_errors >= 1 && st->hedged == 1,
	    "closed port first: ICMP counted (%llu), the second answers",
	    (unsigned long long)st->icmp_errors);
	dnsup_free(u);

	u = mk_up(sv, 1, 10000);
	ask(u, 0x46, "icmp", &r);
	run_until(&r.calls, 1, 12000);
	tap_is_int(r.st, DNSUP_FAILED,
	    "the only server's port is closed: failed, not a timeout");
	dnsup_free(u);

	/* a send error (broadcast without SO_BROADCAST): never leaves */
	net_addr_parse("255.255.255.255", 53, &sv[0], NULL);
	u = mk_up(sv, 1, 10000);
	st = dnsup_stats(u);
	ask(u, 0x47, "bcast", &r);
	tap_is_int(r.calls, 0, "send error: no callback inside dnsup_query");
	run_until(&r.calls, 1, 5000);
	tap_ok(r.st == DNSUP_FAILED && st->send_errors == 1 && !cb_inside,
	    "... failed on the next loop turn, counted");
	dnsup_free(u);
	fake_close(&silent);
	fake_close(&good);
}

static void
test_shared_cancel_bounds(void)
{
	struct fake f;
	struct result r1, r2, r3;
	struct dnsup *u;
	struct dnsup_cfg c;
	const struct dnsup_stats *st;
	struct dnsup_req *h;
	enum dnsup_refuse why;
	uint8_t q[300];
	size_t n;
	struct err e;

	fake_open(&f, B_DELAY, "127.0.0.1");
	f.delay_ms = 100;
	u = mk_up(&f.addr, 1, 3000);
	st = dnsup_stats(u);
	ask(u, 0x100, "same", &r1);
	n = mkquery(q, 0x200, 0x0010, "SAME"); /* CD, no RD, upper case */
	memset(&r2, 0, sizeof r2);
	dnsup_query(u, q, n, 2, on_result, &r2, NULL);
	tap_ok(dnsup_questions(u) == 1 && dnsup_waiters(u, -1) == 2 &&
		st->shared == 1,
	    "identical question (any case): shared");
	run_until(&r2.calls, 1, 5000);
	run_until(&r1.calls, 1, 5000);
	tap_ok(f.got == 1 && r1.st == DNSUP_OK && r2.st == DNSUP_OK,
	    "one upstream query, two answers");
	tap_ok(be16_load(r1.ans) == 0x100 && be16_load(r2.ans) == 0x200 &&
		(be16_load(r2.ans + 2) & 0x0110) == 0x0010 &&
		(be16_load(r1.ans + 2) & 0x0110) == 0x0100,
	    "each with its own id; the follower with its RD/CD");

	f.got = 0;
	h = ask(u, 0x300, "gone", &r1);
	dnsup_cancel(h);
	tap_ok(dnsup_questions(u) == 0 && dnsup_waiters(u, -1) == 0,
	    "cancel the only requester: question dropped");
	run_until(&f.got, 1, 2000);
	ev_run_once(loop, 300);
	ev_run_once(loop, 50);
	tap_ok(r1.calls == 0 && st->drop_id >= 1,
	    "no callback; the late answer is an unknown id");
	dnsup_free(u);

	dnsup_cfg_defaults(&c);
	c.servers[0] = f.addr;
	c.nservers = 1;
	c.max_queries = 2;
	c.max_waiters_owner = 1;
	u = dnsup_new(loop, &c, &e);
	st = dnsup_stats(u);
	n = mkquery(q, 1, 0x0100, "q1");
	dnsup_query(u, q, n, 1, on_result, &r1, NULL);
	n = mkquery(q, 1, 0x0100, "q2");
	tap_ok(dnsup_query(u, q, n, 1, on_result, &r2, &why) == NULL &&
		why == DNSUP_R_OWNER,
	    "second request of one owner: refused (owner bound 1)");
	dnsup_query(u, q, n, 2, on_result, &r2, NULL);
	n = mkquery(q, 1, 0x0100, "q3");
	tap_ok(dnsup_query(u, q, n, 3, on_result, &r3, &why) == NULL &&
		why == DNSUP_R_FULL,
	    "third distinct question: refused (max 2)");
	tap_ok(dnsup_query(u, (const uint8_t *)"junk", 4, 4, on_result, &r3,
		   &why) == NULL &&
		why == DNSUP_R_PARSE && st->refused[DNSUP_R_PARSE] == 1,
	    "not a request: refused");
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	dnsup_cancel_owner(u, 1);
	dnsup_cancel_owner(u, 2);
	tap_ok(dnsup_questions(u) == 0 && dnsup_waiters(u, 1) == 0 &&
		dnsup_waiters(u, 2) == 0,
	    "cancel_owner: all gone");
	ev_run_once(loop, 300);
	tap_ok(r1.calls == 0 && r2.calls == 0, "... without callbacks");
	dnsup_free(u);
	fake_close(&f);
}

static void
test_cfg_and_v6(void)
{
	struct dnsup_cfg c;
	struct err e;
	const char *ok[] = {"1.1.1.1", "9.9.9.9:5353", "[::1]:53", "::1"};
	const char *bad[] = {"dns.google"};
	struct fake f;
	struct result r;
	struct dnsup *u;
	union net_addr any;
	int fd;

	dnsup_cfg_defaults(&c);
	tap_ok(dnsup_cfg_add_servers(&c, ok, 4, &e) == 0 && c.nservers == 4 &&
		net_addr_port(&c.servers[0]) == 53 &&
		net_addr_port(&c.servers[1]) == 5353 &&
		c.servers[3].sa.sa_family == AF_INET6,
	    "server list in upstream's notation, port 53 by default");
	tap_ok(dnsup_cfg_add_servers(&c, bad, 1, &e) == -1 &&
		strstr(e.msg, "entry 1") != NULL,
	    "host names refused: %s", e.msg);

	net_addr_parse("::1", 0, &any, NULL);
	fd = net_udp_bind(&any, NULL);
	if (fd < 0) {
		tap_ok(1, "# SKIP no IPv6 loopback here");
		return;
	}
	close(fd);
	fake_open(&f, B_ANSWER, "::1");
	u = mk_up(&f.addr, 1, 2000);
	ask(u, 0x66, "six", &r);
	run_until(&r.calls, 1, 5000);
	tap_ok(r.st == DNSUP_OK && be16_load(r.ans) == 0x66,
	    "IPv6 upstream answers");
	dnsup_free(u);
	fake_close(&f);
}

int
main(void)
{
	struct err e;

	loop = ev_loop_new(&e);
	test_answers();
	test_hedge_and_icmp();
	test_shared_cancel_bounds();
	test_cfg_and_v6();
	ev_loop_free(loop);
	return tap_done();
}
