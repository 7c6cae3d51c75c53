/* SPDX-License-Identifier: MIT */
/*
 * scan-tcp.c — the one TCP exchange of the scan: after a download search
 * that met TC=1, the first truncated size is asked again over TCP (RFC
 * 7766 two-byte length framing) within the MTU timeout, and shape.tcp_ok
 * records whether the whole answer came back. Only recorded: the tunnel
 * itself is UDP-only, so the result never fails an item.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "probe/scan-int.h"

void
scan_tcp_close(struct scan *s, struct item *it)
{
	if (it->tcp_fd >= 0) {
		ev_io_del(s->loop, it->tcp_fd);
		close(it->tcp_fd);
		it->tcp_fd = -1;
	}
	free(it->tcp_buf);
	it->tcp_buf = NULL;
	it->tcp_len = 0;
}

void
scan_tcp_done(struct scan *s, struct item *it, int ok, const char *why)
{
	scan_tcp_close(s, it);
	scan_item_event(s, it, EVK_NONE, 0);
	it->r.shape.tcp_ok = ok ? RES_TRI_YES : RES_TRI_NO;
	scan_trace(
	    s, it, "  <- TCP fallback for %d bytes: %s", it->tc_cand, why);
	scan_evid(&it->r, "TC=1 at %d bytes; over TCP: %s", it->tc_cand, why);
	scan_next_step(s, it);
}

static void
on_tcp(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct item *it = arg;
	struct scan *s = it->owner;
	enum res_reason reason;
	uint8_t lenbuf[2];
	socklen_t sl = sizeof(int);
	size_t need;
	ssize_t n;
	int soerr = 0;

	(void)loop;
	if (it->tcp_fd != fd)
		return;
	if (events & EV_WRITE) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			scan_tcp_done(s, it, 0,
			    soerr ? strerror(soerr) : "connect failed");
			return;
		}
		be16_store(lenbuf, (uint16_t)it->qlen);
		if (write(fd, lenbuf, 2) != 2 ||
		    write(fd, it->q, it->qlen) != (ssize_t)it->qlen) {
			scan_tcp_done(s, it, 0, "cannot send the query");
			return;
		}
		ev_io_set(s->loop, fd, EV_READ);
		return;
	}
	if (it->tcp_buf == NULL)
		it->tcp_buf = xmalloc(2 + 65535);
	n = read(fd, it->tcp_buf + it->tcp_len, 2 + 65535 - it->tcp_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		scan_tcp_done(s, it, 0,
		    n == 0 ? "connection closed before an "
			     "answer" :
			     strerror(errno));
		return;
	}
	it->tcp_len += (size_t)n;
	if (it->tcp_len < 2)
		return;
	need = (size_t)be16_load(it->tcp_buf);
	if (it->tcp_len < 2 + need)
		return;
	if (scan_item_judge(s, it, it->tcp_buf + 2, need, now_mono_us(),
		&reason) == SCAN_PASS)
		scan_tcp_done(s, it, 1, "the whole answer arrived");
	else
		scan_tcp_done(
		    s, it, 0, "an answer that is not the whole probe");
}

void
scan_tcp_begin(struct scan *s, struct item *it)
{
	struct err e;
	uint16_t id = (uint16_t)scan_rnd(s);

	scan_item_enter(s, it, IT_TCP);
	if (scan_build_query(s, it) == -1) {
		scan_tcp_done(s, it, 0, "cannot build the query");
		return;
	}
	be16_store(it->q, id);
	it->sent_us = now_mono_us();
	it->tries = 1;
	if (s->o.on_trace != NULL)
		scan_trace_send(s, it);
	if ((it->tcp_fd = net_tcp_connect(&it->addr, &e)) == -1) {
		scan_tcp_done(s, it, 0, e.msg);
		return;
	}
	if (ev_io_add(s->loop, it->tcp_fd, EV_WRITE, on_tcp, it, &e) == -1) {
		scan_tcp_done(s, it, 0, e.msg);
		return;
	}
	scan_item_event(s, it, EVK_TIMEOUT,
	    it->sent_us + (uint64_t)s->o.t_mtu.timeout_ms * 1000);
}
