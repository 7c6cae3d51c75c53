/* SPDX-License-Identifier: MIT */
/*
 * scan-net.c — the scan's UDP side: four non-blocking sockets per address
 * family (opened on first use), a pending table of 65,536 slots per socket
 * mapping a DNS ID to the item that sent it, sending an item's query with
 * a free random ID, and matching what comes back (by socket + ID, then
 * source and question; an answer whose ID is not pending is looked up by
 * its source address for a late try or a wrong ID). What an answer means
 * is decided elsewhere (scan-funnel.c, scan-judge.c, scan-burst.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "probe/scan-int.h"

static void on_read(struct ev_loop *loop, int fd, int events, void *arg);

int
scan_socks_open(struct scan *s, int family, struct err *e)
{
	union net_addr b;
	int *fds = family == AF_INET6 ? s->fd6 : s->fd4;
	uint32_t **pend = family == AF_INET6 ? s->pend6 : s->pend4;
	int i, sz = 4 << 20;

	if (fds[0] >= 0)
		return 0;
	if (net_addr_parse(family == AF_INET6 ? "[::]" : "0.0.0.0", 0, &b, e) ==
	    -1)
		return -1;
	for (i = 0; i < SCAN_NSOCK; i++) {
		if ((fds[i] = net_udp_bind(&b, e)) == -1)
			return -1;
		(void)setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		(void)setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		pend[i] = xcalloc(65536, sizeof *pend[i]);
	}
	return 0;
}

int
scan_socks_watch(struct scan *s, int family, struct err *e)
{
	int *fds = family == AF_INET6 ? s->fd6 : s->fd4;
	int i;

	for (i = 0; i < SCAN_NSOCK; i++)
		if (fds[i] >= 0 &&
		    ev_io_add(s->loop, fds[i], EV_READ, on_read, s, e) == -1)
			return -1;
	return 0;
}

void
scan_socks_close(struct scan *s)
{
	int i;

	for (i = 0; i < SCAN_NSOCK; i++) {
		if (s->fd4[i] >= 0) {
			ev_io_del(s->loop, s->fd4[i]);
			close(s->fd4[i]);
		}
		if (s->fd6[i] >= 0) {
			ev_io_del(s->loop, s->fd6[i]);
			close(s->fd6[i]);
		}
		free(s->pend4[i]);
		free(s->pend6[i]);
	}
}

uint32_t **
scan_pend(struct scan *s, const struct item *it)
{
	return it->addr.sa.sa_family == AF_INET6 ? s->pend6 : s->pend4;
}

void
scan_release_pending(struct scan *s, struct item *it)
{
	uint32_t **pend = scan_pend(s, it);

	if (!it->inflight)
		return;
	if (pend[it->sock][it->id] == scan_item_idx(s, it) + 1)
		pend[it->sock][it->id] = 0;
	it->inflight = 0;
	s->c.queries_inflight--;
}

int
scan_send_on(struct scan *s, struct item *it, unsigned k)
{
	int *fds = it->addr.sa.sa_family == AF_INET6 ? s->fd6 : s->fd4;
	uint32_t **pend = scan_pend(s, it);
	uint16_t id = (uint16_t)scan_rnd(s);

	while (pend[k][id] != 0)
		id++;
	be16_store(it->q, id);
	if (sendto(fds[k], it->q, it->qlen, 0, &it->addr.sa,
		net_addr_len(&it->addr)) < 0)
		return -1;
	pend[k][id] = scan_item_idx(s, it) + 1;
	it->sock = (int)k;
	it->id = id;
	s->c.sent++;
	if (++s->c.queries_inflight > s->c.peak_queries_inflight)
		s->c.peak_queries_inflight = s->c.queries_inflight;
	return 0;
}

int
scan_send(struct scan *s, struct item *it)
{
	int fam = it->addr.sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
	int *fds = fam == AF_INET6 ? s->fd6 : s->fd4;
	uint64_t now, deadline;
	struct err e;

	if (scan_build_query(s, it) == -1) {
		scan_item_finish(s, it, 0, RES_R_INTERNAL);
		return 0;
	}
	if (fds[0] < 0 &&
	    (scan_socks_open(s, fam, &e) == -1 ||
		scan_socks_watch(s, fam, &e) == -1)) {
		scan_evid(&it->r, "no socket: %s", e.msg);
		scan_item_finish(s, it, 0, RES_R_NET_ERROR);
		return 0;
	}
	if (scan_send_on(s, it, s->next_sock++ % SCAN_NSOCK) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return -1; /* try again on the next tick */
		s->c.send_errors++;
		scan_evid(&it->r, "send failed: %s", strerror(errno));
		scan_trace(s, it, "send failed: %s", strerror(errno));
		scan_item_finish(s, it, 0, RES_R_NET_ERROR);
		return 0;
	}
	now = now_mono_us();
	it->inflight = 1;
	it->sent_us = now;
	it->tries++;
	it->next_send_us = now + (uint64_t)s->o.pace_ms * 1000;
	if (s->o.on_trace != NULL)
		scan_trace_send(s, it);
	/* The MTU search keeps its own deadlines (upstream's timeout). */
	if (it->state == IT_UP || it->state == IT_DOWN)
		deadline = mtu_search_sent(&it->ms, now);
	else
		deadline = now +
		    (uint64_t)scan_stage_try(s, it->state)->timeout_ms * 1000;
	scan_item_event(s, it, EVK_TIMEOUT, deadline);
	return 0;
}

/*
 * The item probing address a whose query in flight has the question of
 * the answer m (several items share an address when there are several
 * domains), or NULL.
 */
static struct item *
amap_find(struct scan *s, const union net_addr *a, const uint8_t *m, size_t n)
{
	struct hmap_it hi;
	struct item *it;
	uint32_t v;
	int exact;

	for (v = hmap_find(&s->amap, net_addr_hash(a), &hi); v != HMAP_NONE;
	     v = hmap_find_next(&s->amap, &hi)) {
		it = &s->items[v];
		if (net_addr_equal(&it->addr, a) && it->inflight &&
		    it->state != IT_BURST &&
		    scan_question_matches(it->q, it->qwire, m, n, &exact))
			return it;
	}
	return NULL;
}

/* An answer that does not map to the query it claims (ID or source). */
static void
handle_mismatch(struct scan *s, struct item *it, int reason,
    const union net_addr *from, const uint8_t *m, size_t n)
{
	char fa[NET_ADDR_STRLEN];

	net_addr_format(from, fa, sizeof fa);
	if (it->state == IT_ENV_ICPT) {
		scan_release_pending(s, it);
		scan_item_event(s, it, EVK_NONE, 0);
		scan_item_finish(s, it, 0, RES_R_INTERCEPTED);
		return;
	}
	scan_trace(s, it, "  <- answer from %s with %s (%zu bytes)", fa,
	    reason == RES_R_WRONG_SOURCE ? "our ID and question" :
		reason == RES_R_WRONG_ID ? "another ID" :
					   "another question",
	    n);
	if (reason == RES_R_WRONG_SOURCE)
		scan_evid(&it->r,
		    "answer came from %s, not from the address asked", fa);
	else if (reason == RES_R_WRONG_ID)
		scan_evid(&it->r,
		    "answer with ID 0x%04x to our query with ID 0x%04x",
		    be16_load(m), it->id);
	else
		scan_evid(&it->r, "answer echoes another question");
	scan_release_pending(s, it);
	scan_item_event(s, it, EVK_NONE, 0);
	if (it->state == IT_UP || it->state == IT_DOWN ||
	    it->state == IT_BURST || it->state == IT_LOSS ||
	    it->state == IT_WHOAMI) {
		scan_attempt_failed(s, it, reason, 0);
		return;
	}
	scan_item_finish(s, it, 0, (enum res_reason)reason);
}

/* Is id (on socket k) an earlier attempt of the item's current step? */
static int
late_answer(const struct item *it, int k, uint16_t id)
{
	int i;

	for (i = 0; i < 4; i++)
		if (it->prev_sock[i] == k + 1 && it->prev_id[i] == id)
			return 1;
	return 0;
}

static void
on_read(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct scan *s = arg;
	union net_addr from;
	socklen_t fl;
	ssize_t n;
	uint32_t **pend = NULL, v;
	struct item *it;
	uint64_t now;
	int k, budget = 256, exact;
	uint16_t id;

	(void)loop;
	(void)events;
	for (k = 0; k < SCAN_NSOCK; k++) {
		if (s->fd4[k] == fd) {
			pend = s->pend4;
			break;
		}
		if (s->fd6[k] == fd) {
			pend = s->pend6;
			break;
		}
	}
	if (pend == NULL)
		return;
	while (budget-- > 0) {
		fl = sizeof from;
		n = recvfrom(fd, s->rbuf, sizeof s->rbuf, 0, &from.sa, &fl);
		if (n < 0)
			break;
		now = now_mono_us();
		s->c.received++;
		if (n < DNS_HDR_LEN || !(s->rbuf[2] & 0x80)) {
			s->c.stray++;
			continue;
		}
		id = be16_load(s->rbuf);
		v = pend[k][id];
		it = v ? &s->items[v - 1] : NULL;
		if (it != NULL && it->state == IT_BURST) {
			scan_burst_answer(s, it, (unsigned)k, id, &from,
			    s->rbuf, (size_t)n, now);
			continue;
		}
		if (it != NULL && it->inflight && it->sock == k &&
		    scan_question_matches(
			it->q, it->qwire, s->rbuf, (size_t)n, &exact)) {
			if (!net_addr_equal(&from, &it->addr))
				handle_mismatch(s, it, RES_R_WRONG_SOURCE,
				    &from, s->rbuf, (size_t)n);
			else
				scan_item_answer(
				    s, it, s->rbuf, (size_t)n, now);
			continue;
		}
		/* Not ours by ID: the same resolver with a wrong ID? */
		it = amap_find(s, &from, s->rbuf, (size_t)n);
		if (it != NULL) {
			if (late_answer(it, k, id)) {
				scan_item_answer(
				    s, it, s->rbuf, (size_t)n, now);
				continue;
			}
			handle_mismatch(
			    s, it, RES_R_WRONG_ID, &from, s->rbuf, (size_t)n);
			continue;
		}
		s->c.stray++;
	}
	scan_pump(s);
}
