/* SPDX-License-Identifier: MIT */
/*
 * dns-upstream.c — non-blocking UDP resolver client for the server's DNS
 * through the tunnel (contract in dns-upstream.h, policy in
 * docs/dns-tunnel.md): hedged queries to DNS_UPSTREAM_SERVERS, identical
 * questions shared, answers matched by socket, random id, source address
 * and question.
 *
 * It does not cache (engine/dns-cache does, in front of it), does not
 * retry over TCP when an answer is truncated (upstream does not either:
 * the TC answer is passed on), and does not judge rcodes: the first
 * acceptable answer is the answer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/dns-upstream.h"
#include "proto/dns.h"
#include "proto/dnstun.h"

#define MS_US	    1000ULL
#define RECV_BUDGET 64
#define ID_TRIES    16
#define ANSWER_MAX  65536
#define NSOCK_MAX   64

enum { A_IDLE = 0, A_SENT, A_FAILED };

struct question;

struct attempt {
	struct question *qn;
	struct attempt *hnext;
	unsigned sock;
	uint16_t id;
	uint8_t state;
};

struct dnsup_req {
	struct question *qn;
	struct dnsup_req *prev, *next;
	dnsup_cb *cb;
	void *arg;
	uint16_t id, flags;
	uint8_t owner;
	uint8_t leader;
};

struct question {
	struct dnsup *u;
	struct question *hnext;	      /* sharing table */
	struct question *prev, *next; /* all questions */
	uint32_t khash;
	size_t klen;
	uint8_t key[DNSTUN_KEY_MAX];
	struct dnstun_question q;
	uint8_t *query;
	size_t len;
	struct attempt att[DNSUP_MAX_SERVERS];
	struct dnsup_req *waiters;
	unsigned nwaiters;
	uint64_t hedge_timer, deadline_timer, fail_timer;
	uint8_t hedged, finishing, shared;
};

struct usock {
	struct dnsup *u;
	int fd, family;
	unsigned idx;
};

struct dnsup {
	struct ev_loop *loop;
	struct dnsup_cfg cfg;
	struct dnsup_stats st;
	struct usock socks[NSOCK_MAX];
	unsigned nsocks;
	struct attempt **ab;
	size_t amask;
	struct question **qb;
	size_t qmask;
	struct question *qhead;
	unsigned nquestions, nwaiters;
	unsigned owner_waiters[256];
	uint8_t rnd[256];
	size_t rnd_left;
	uint8_t buf[ANSWER_MAX];
	uint8_t out[ANSWER_MAX];
};

void
dnsup_cfg_defaults(struct dnsup_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->timeout_us = 4000 * MS_US;
	c->max_queries = 1024;
	c->max_waiters = 4096;
	c->max_waiters_owner = 256;
	c->nsockets = 4;
	c->coalesce = 1;
}

int
dnsup_cfg_add_servers(
    struct dnsup_cfg *c, const char *const *list, size_t n, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (c->nservers >= DNSUP_MAX_SERVERS)
			return err_set(e, "DNS_UPSTREAM_SERVERS: more than %d",
			    DNSUP_MAX_SERVERS);
		if (net_addr_parse(list[i], 53, &c->servers[c->nservers], e) <
		    0)
			return err_prefix(
			    e, "DNS_UPSTREAM_SERVERS entry %zu", i + 1);
		c->nservers++;
	}
	return 0;
}

const char *
dnsup_status_name(int s)
{
	static const char *const names[] = {"ok", "timeout", "failed"};

	return s >= 0 && (size_t)s < nitems(names) ? names[s] : "?";
}

const char *
dnsup_refuse_name(int r)
{
	static const char *const names[] = {
	    "none", "parse", "noserver", "full", "owner"};

	return r >= 0 && (size_t)r < nitems(names) ? names[r] : "?";
}

uint64_t
dnsup_hedge_delay_us(uint64_t timeout_us)
{
	uint64_t d = timeout_us / 5;

	if (d < 100 * MS_US)
		d = 100 * MS_US;
	if (d > 350 * MS_US)
		d = 350 * MS_US;
	return d >= timeout_us ? timeout_us / 2 : d;
}

static uint16_t
random16(struct dnsup *u)
{
	uint16_t v;

	if (u->rnd_left < 2) {
		if (getrandom(u->rnd, sizeof u->rnd, 0) !=
		    (ssize_t)sizeof u->rnd)
			abort(); /* the kernel's CSPRNG is not optional */
		u->rnd_left = sizeof u->rnd;
	}
	u->rnd_left -= 2;
	v = be16_load(u->rnd + u->rnd_left);
	return v;
}

static inline size_t
att_slot(const struct dnsup *u, unsigned sock, uint16_t id)
{
	return (size_t)((((uint32_t)sock << 16 | id) * 2654435761u) >> 7) &
	    u->amask;
}

static struct attempt *
att_find(struct dnsup *u, unsigned sock, uint16_t id)
{
	struct attempt *a;

	for (a = u->ab[att_slot(u, sock, id)]; a != NULL; a = a->hnext)
		if (a->sock == sock && a->id == id)
			return a;
	return NULL;
}

static void
att_unhash(struct dnsup *u, struct attempt *a)
{
	struct attempt **pp = &u->ab[att_slot(u, a->sock, a->id)];

	while (*pp != NULL && *pp != a)
		pp = &(*pp)->hnext;
	if (*pp == a)
		*pp = a->hnext;
	a->hnext = NULL;
}

/* Close the attempt for good: nothing more is accepted for its id. */
static void
att_close(struct dnsup *u, struct attempt *a)
{
	if (a->state == A_SENT)
		att_unhash(u, a);
	if (a->state != A_IDLE)
		a->state = A_FAILED;
}

static void fail_timer_cb(struct ev_loop *loop, uint64_t id, void *arg);

/* Evaluate failures later, on the loop (never inside dnsup_query). */
static void
attempt_failed(struct question *qn)
{
	if (qn->fail_timer == 0)
		qn->fail_timer =
		    ev_timer_add(qn->u->loop, 0, fail_timer_cb, qn);
}

static void
att_send(struct dnsup *u, struct question *qn, unsigned server)
{
	struct attempt *a = &qn->att[server];
	const union net_addr *to = &u->cfg.servers[server];
	unsigned i, first = u->nsocks, count = 0, s;
	size_t slot;
	uint16_t id = 0;

	for (i = 0; i < u->nsocks; i++)
		if (u->socks[i].family == to->sa.sa_family) {
			if (first == u->nsocks)
				first = i;
			count++;
		}
	a->qn = qn;
	if (count == 0)
		goto fail;
	s = first + random16(u) % count;
	for (i = 0; i < ID_TRIES; i++) {
		id = random16(u);
		if (att_find(u, s, id) == NULL)
			break;
	}
	if (i == ID_TRIES)
		goto fail;
	a->sock = s;
	a->id = id;
	be16_store(qn->query, id);
	if (sendto(u->socks[s].fd, qn->query, qn->len, MSG_NOSIGNAL, &to->sa,
		net_addr_len(to)) < 0) {
		u->st.send_errors++;
		goto fail;
	}
	u->st.sent++;
	a->state = A_SENT;
	slot = att_slot(u, s, id);
	a->hnext = u->ab[slot];
	u->ab[slot] = a;
	return;
fail:
	a->state = A_FAILED;
	attempt_failed(qn);
}

static void
hedge(struct question *qn)
{
	struct dnsup *u = qn->u;
	size_t i;

	if (qn->hedged)
		return;
	qn->hedged = 1;
	if (qn->hedge_timer != 0) {
		ev_timer_cancel(u->loop, qn->hedge_timer);
		qn->hedge_timer = 0;
	}
	if (u->cfg.nservers > 1)
		u->st.hedged++;
	for (i = 1; i < u->cfg.nservers; i++)
		if (qn->att[i].state == A_IDLE)
			att_send(u, qn, (unsigned)i);
}

static void
unlink_question(struct dnsup *u, struct question *qn)
{
	struct question **pp;
	size_t i;

	if (qn->shared) {
		pp = &u->qb[qn->khash & u->qmask];
		while (*pp != NULL && *pp != qn)
			pp = &(*pp)->hnext;
		if (*pp == qn)
			*pp = qn->hnext;
		qn->shared = 0;
	}
	if (qn->prev != NULL)
		qn->prev->next = qn->next;
	else
		u->qhead = qn->next;
	if (qn->next != NULL)
		qn->next->prev = qn->prev;
	qn->prev = qn->next = NULL;
	for (i = 0; i < u->cfg.nservers; i++)
		att_close(u, &qn->att[i]);
	if (qn->hedge_timer != 0)
		ev_timer_cancel(u->loop, qn->hedge_timer);
	if (qn->deadline_timer != 0)
		ev_timer_cancel(u->loop, qn->deadline_timer);
	if (qn->fail_timer != 0)
		ev_timer_cancel(u->loop, qn->fail_timer);
	qn->hedge_timer = qn->deadline_timer = qn->fail_timer = 0;
	u->nquestions--;
}

static void
waiter_unlink(struct dnsup *u, struct dnsup_req *r)
{
	struct question *qn = r->qn;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		qn->waiters = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	qn->nwaiters--;
	u->nwaiters--;
	u->owner_waiters[r->owner]--;
}

static void
question_free(struct question *qn)
{
	free(qn->query);
	free(qn);
}

/*
 * Deliver the outcome to every requester, one at a time, so a callback
 * may cancel requests of the same question that are still waiting.
 */
static void
finish(
    struct question *qn, enum dnsup_status st, const uint8_t *ans, size_t len)
{
	struct dnsup *u = qn->u;
	struct dnsup_req *r;
	uint8_t hdr[4];

	unlink_question(u, qn);
	qn->finishing = 1;
	if (st == DNSUP_OK)
		u->st.answers++;
	else if (st == DNSUP_TIMEOUT)
		u->st.timeouts++;
	else
		u->st.failures++;
	while ((r = qn->waiters) != NULL) {
		waiter_unlink(u, r);
		if (st == DNSUP_OK) {
			memcpy(u->out, ans, len);
			be16_store(hdr, r->id);
			be16_store(hdr + 2, r->flags);
			if (r->leader)
				be16_store(u->out, r->id);
			else
				dnstun_patch_answer(u->out, len, hdr, 4);
		}
		r->cb(r->arg, st, st == DNSUP_OK ? u->out : NULL,
		    st == DNSUP_OK ? len : 0);
		free(r);
	}
	question_free(qn);
}

static void
all_failed_check(struct question *qn)
{
	struct dnsup *u = qn->u;
	size_t i;

	if (!qn->hedged)
		hedge(qn);
	for (i = 0; i < u->cfg.nservers; i++)
		if (qn->att[i].state != A_FAILED)
			return;
	finish(qn, DNSUP_FAILED, NULL, 0);
}

static void
fail_timer_cb(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct question *qn = arg;

	(void)loop;
	(void)id;
	qn->fail_timer = 0;
	all_failed_check(qn);
}

static void
hedge_timer_cb(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct question *qn = arg;

	(void)loop;
	(void)id;
	qn->hedge_timer = 0;
	hedge(qn);
}

static void
deadline_timer_cb(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct question *qn = arg;

	(void)loop;
	(void)id;
	qn->deadline_timer = 0;
	finish(qn, DNSUP_TIMEOUT, NULL, 0);
}

static void
on_datagram(struct usock *s, const union net_addr *from, size_t n)
{
	struct dnsup *u = s->u;
	struct attempt *a;
	struct question *qn;
	unsigned server;

	if (n < DNS_HDR_LEN || (be16_load(u->buf + 2) & DNS_F_QR) == 0) {
		u->st.drop_malformed++;
		return;
	}
	a = att_find(u, s->idx, be16_load(u->buf));
	if (a == NULL) {
		u->st.drop_id++;
		return;
	}
	qn = a->qn;
	server = (unsigned)(a - qn->att);
	if (!net_addr_equal(from, &u->cfg.servers[server])) {
		u->st.drop_source++;
		return;
	}
	if (dnstun_answer_check(u->buf, n, a->id, &qn->q) != DNSTUN_ANS_OK) {
		u->st.drop_question++;
		return;
	}
	finish(qn, DNSUP_OK, u->buf, n);
}

/* ICMP errors queued by IP_RECVERR: the original datagram and target. */
static void
drain_errqueue(struct usock *s)
{
	struct dnsup *u = s->u;
	union net_addr to;
	uint8_t head[DNS_HDR_LEN], ctl[512];
	struct iovec iov;
	struct msghdr mh;
	struct attempt *a;
	ssize_t n;
	int i;

	for (i = 0; i < RECV_BUDGET; i++) {
		memset(&mh, 0, sizeof mh);
		memset(&to, 0, sizeof to);
		iov.iov_base = head;
		iov.iov_len = sizeof head;
		mh.msg_name = &to;
		mh.msg_namelen = sizeof to;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof ctl;
		n = recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0)
			return;
		u->st.icmp_errors++;
		if (n < 2)
			continue;
		a = att_find(u, s->idx, be16_load(head));
		if (a == NULL ||
		    !net_addr_equal(
			&to, &u->cfg.servers[(size_t)(a - a->qn->att)]))
			continue;
		att_close(u, a);
		attempt_failed(a->qn);
	}
}

static void
on_read(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct usock *s = arg;
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < RECV_BUDGET; i++) {
		fl = sizeof from;
		n = recvfrom(fd, s->u->buf, sizeof s->u->buf, MSG_DONTWAIT,
		    &from.sa, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			drain_errqueue(s);
			continue;
		}
		on_datagram(s, &from, (size_t)n);
	}
	drain_errqueue(s);
}

static int
open_socks(struct dnsup *u, int family, struct err *e)
{
	union net_addr any;
	unsigned i;
	int one = 1, fd;

	for (i = 0; i < u->cfg.nsockets && u->nsocks < NSOCK_MAX; i++) {
		memset(&any, 0, sizeof any);
		any.sa.sa_family = (sa_family_t)family;
		if (family == AF_INET6)
			any.in6.sin6_addr = in6addr_any;
		fd = net_udp_bind(&any, e);
		if (fd < 0)
			return -1;
		if ((family == AF_INET ?
			    setsockopt(
				fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one) :
			    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
				sizeof one)) < 0) {
			close(fd);
			return err_set(e, "IP_RECVERR: %s", strerror(errno));
		}
		u->socks[u->nsocks].u = u;
		u->socks[u->nsocks].fd = fd;
		u->socks[u->nsocks].family = family;
		u->socks[u->nsocks].idx = u->nsocks;
		if (ev_io_add(u->loop, fd, EV_READ, on_read,
			&u->socks[u->nsocks], e) < 0) {
			close(fd);
			return -1;
		}
		u->nsocks++;
	}
	return 0;
}

static size_t
pow2_at_least(size_t n)
{
	size_t p = 64;

	while (p < n && p < ((size_t)1 << 22))
		p <<= 1;
	return p;
}

struct dnsup *
dnsup_new(struct ev_loop *loop, const struct dnsup_cfg *c, struct err *e)
{
	struct dnsup *u = xcalloc(1, sizeof *u);
	int fam4 = 0, fam6 = 0;
	size_t i, na, nq;

	u->loop = loop;
	u->cfg = *c;
	if (u->cfg.nsockets == 0)
		u->cfg.nsockets = 1;
	if (u->cfg.nsockets > NSOCK_MAX / 2)
		u->cfg.nsockets = NSOCK_MAX / 2;
	if (u->cfg.nservers > DNSUP_MAX_SERVERS)
		u->cfg.nservers = DNSUP_MAX_SERVERS;
	for (i = 0; i < u->cfg.nservers; i++) {
		if (u->cfg.servers[i].sa.sa_family == AF_INET)
			fam4 = 1;
		else if (u->cfg.servers[i].sa.sa_family == AF_INET6)
			fam6 = 1;
	}
	na = pow2_at_least(
	    (size_t)MAX(u->cfg.max_queries, 1u) * MAX(u->cfg.nservers, 1) * 2);
	nq = pow2_at_least((size_t)MAX(u->cfg.max_queries, 1u) * 2);
	u->ab = xcalloc(na, sizeof *u->ab);
	u->amask = na - 1;
	u->qb = xcalloc(nq, sizeof *u->qb);
	u->qmask = nq - 1;
	if ((fam4 && open_socks(u, AF_INET, e) < 0) ||
	    (fam6 && open_socks(u, AF_INET6, e) < 0)) {
		dnsup_free(u);
		return NULL;
	}
	return u;
}

void
dnsup_free(struct dnsup *u)
{
	struct question *qn;
	struct dnsup_req *r;
	unsigned i;

	if (u == NULL)
		return;
	while ((qn = u->qhead) != NULL) {
		unlink_question(u, qn);
		while ((r = qn->waiters) != NULL) {
			waiter_unlink(u, r);
			free(r);
		}
		question_free(qn);
	}
	for (i = 0; i < u->nsocks; i++) {
		ev_io_del(u->loop, u->socks[i].fd);
		close(u->socks[i].fd);
	}
	free(u->ab);
	free(u->qb);
	free(u);
}

static struct question *
find_shared(struct dnsup *u, const uint8_t *key, size_t klen, uint32_t h)
{
	struct question *qn;

	for (qn = u->qb[h & u->qmask]; qn != NULL; qn = qn->hnext)
		if (qn->khash == h && qn->klen == klen &&
		    memcmp(qn->key, key, klen) == 0)
			return qn;
	return NULL;
}

static struct dnsup_req *
refuse(struct dnsup *u, enum dnsup_refuse r, enum dnsup_refuse *why)
{
	u->st.refused[r]++;
	if (why != NULL)
		*why = r;
	return NULL;
}

struct dnsup_req *
dnsup_query(struct dnsup *u, const uint8_t *query, size_t len, uint8_t owner,
    dnsup_cb *cb, void *arg, enum dnsup_refuse *why)
{
	struct dnstun_req req;
	struct question *qn = NULL;
	struct dnsup_req *r;
	uint8_t key[DNSTUN_KEY_MAX];
	size_t klen;
	uint32_t h;

	if (why != NULL)
		*why = DNSUP_R_NONE;
	if (dnstun_req_parse(query, len, &req) != DNSTUN_REQ_OK)
		return refuse(u, DNSUP_R_PARSE, why);
	if (u->cfg.nservers == 0 || u->nsocks == 0)
		return refuse(u, DNSUP_R_NOSERVER, why);
	if (u->owner_waiters[owner] >= u->cfg.max_waiters_owner)
		return refuse(u, DNSUP_R_OWNER, why);
	if (u->nwaiters >= u->cfg.max_waiters)
		return refuse(u, DNSUP_R_FULL, why);
	klen = dnstun_key(&req.q, key);
	h = dnstun_key_hash(key, klen);
	if (u->cfg.coalesce)
		qn = find_shared(u, key, klen, h);
	if (qn == NULL && u->nquestions >= u->cfg.max_queries)
		return refuse(u, DNSUP_R_FULL, why);
	r = xcalloc(1, sizeof *r);
	r->cb = cb;
	r->arg = arg;
	r->id = req.id;
	r->flags = req.flags;
	r->owner = owner;
	u->st.requests++;
	if (qn != NULL) {
		u->st.shared++;
	} else {
		qn = xcalloc(1, sizeof *qn);
		qn->u = u;
		qn->khash = h;
		qn->klen = klen;
		memcpy(qn->key, key, klen);
		qn->q = req.q;
		qn->query = xmalloc(len);
		memcpy(qn->query, query, len);
		qn->len = len;
		qn->next = u->qhead;
		if (u->qhead != NULL)
			u->qhead->prev = qn;
		u->qhead = qn;
		u->nquestions++;
		if (u->cfg.coalesce) {
			qn->hnext = u->qb[h & u->qmask];
			u->qb[h & u->qmask] = qn;
			qn->shared = 1;
		}
		r->leader = 1;
		qn->deadline_timer = ev_timer_add(
		    u->loop, u->cfg.timeout_us, deadline_timer_cb, qn);
		if (u->cfg.nservers > 1)
			qn->hedge_timer = ev_timer_add(u->loop,
			    dnsup_hedge_delay_us(u->cfg.timeout_us),
			    hedge_timer_cb, qn);
		else
			qn->hedged = 1;
		att_send(u, qn, 0);
	}
	r->qn = qn;
	r->next = qn->waiters;
	if (qn->waiters != NULL)
		qn->waiters->prev = r;
	qn->waiters = r;
	qn->nwaiters++;
	u->nwaiters++;
	u->owner_waiters[owner]++;
	return r;
}

void
dnsup_cancel(struct dnsup_req *r)
{
	struct question *qn = r->qn;
	struct dnsup *u = qn->u;

	waiter_unlink(u, r);
	free(r);
	u->st.cancelled++;
	if (qn->nwaiters == 0 && !qn->finishing) {
		unlink_question(u, qn);
		question_free(qn);
	}
}

void
dnsup_cancel_owner(struct dnsup *u, uint8_t owner)
{
	struct question *qn, *qnext;
	struct dnsup_req *r, *rnext;

	for (qn = u->qhead; qn != NULL; qn = qnext) {
		qnext = qn->next;
		for (r = qn->waiters; r != NULL; r = rnext) {
			rnext = r->next;
			if (r->owner == owner) {
				/* dnsup_cancel may free qn: look no further
				 * at its waiters once it is the last. */
				if (qn->nwaiters == 1) {
					dnsup_cancel(r);
					break;
				}
				dnsup_cancel(r);
			}
		}
	}
}

unsigned
dnsup_questions(const struct dnsup *u)
{
	return u->nquestions;
}

unsigned
dnsup_waiters(const struct dnsup *u, int owner)
{
	return owner < 0 ? u->nwaiters : u->owner_waiters[owner & 0xff];
}

const struct dnsup_stats *
dnsup_stats(const struct dnsup *u)
{
	return &u->st;
}

int
dnsup_local_addr(const struct dnsup *u, int family, union net_addr *out)
{
	unsigned i;

	for (i = 0; i < u->nsocks; i++)
		if (u->socks[i].family == family)
			return net_local_addr(u->socks[i].fd, out, NULL);
	return -1;
}
