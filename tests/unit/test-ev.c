/* SPDX-License-Identifier: MIT */
/*
 * test-ev.c — the event loop: timer order and cancellation (also from
 * inside callbacks and at 10,000 timers), fd readiness, changes to the fd
 * set while a batch is being dispatched, signalfd delivery, the
 * before-sleep hook and ev_stop. Nothing here asserts on elapsed time; the
 * loops that wait are bounded so a bug fails instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "tests/tap.h"

static struct ev_loop *L;

/* Pipe helpers: a failed write would make later checks meaningless. */
static void
put(int fd, const char *c)
{
	if (write(fd, c, 1) != 1)
		tap_diag("write fd %d: %s", fd, strerror(errno));
}

static void
drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		continue;
}

/* Run iterations until *done is set, at most max_iter of up to 1 s each. */
static int
run_until(int *done, int max_iter)
{
	while (!*done && max_iter-- > 0)
		if (ev_run_once(L, 1000) == -1)
			return -1;
	return *done ? 0 : -1;
}

/* ---- timer order ---- */

static int order[16], norder;

static void
rec_timer(struct ev_loop *l, uint64_t id, void *arg)
{
	if (norder < (int)nitems(order))
		order[norder++] = (int)(intptr_t)arg;
}

static const uint64_t order_delay_ms[] = {30, 10, 20, 0, 10, 5};
static uint64_t order_ids[nitems(order_delay_ms)];

/*
 * Add the timers from inside a dispatch: there the loop's cached time is
 * the reference for all of them, so their order depends on the delays
 * only, not on how long each add takes (valgrind makes that milliseconds).
 */
static void
add_order_timers(struct ev_loop *l, uint64_t id, void *arg)
{
	size_t k;

	for (k = 0; k < nitems(order_delay_ms); k++)
		order_ids[k] = ev_timer_add(l, order_delay_ms[k] * 1000,
		    rec_timer, (void *)(intptr_t)k);
}

static void
test_timer_order(void)
{
	/* Index order by deadline; equal deadlines fire in add order. */
	static const int want[] = {3, 5, 1, 4, 2, 0};
	uint64_t *ids = order_ids;
	int done = 0, i, ok = 1;
	size_t k;

	norder = 0;
	ev_timer_add(L, 0, add_order_timers, NULL);
	for (i = 0; i < 200 && ids[0] == 0; i++)
		ev_run_once(L, 1000);
	for (k = 0; k < nitems(order_delay_ms); k++) {
		ok &= ids[k] > 0;
		if (k > 0)
			ok &= ids[k] != ids[k - 1];
	}
	tap_ok(ok, "timer ids are > 0 and distinct");
	for (i = 0; i < 200 && norder < (int)nitems(want); i++)
		ev_run_once(L, 1000);
	done = norder == (int)nitems(want);
	tap_ok(done, "all %zu timers fired (%d)", nitems(want), norder);
	ok = done;
	for (k = 0; k < nitems(want) && ok; k++)
		ok = order[k] == want[k];
	tap_ok(ok, "timers added out of order fire in deadline order");
	if (!ok)
		for (k = 0; k < (size_t)norder; k++)
			tap_diag("  fired #%zu: timer %d", k, order[k]);
	tap_is_int(ev_timer_cancel(L, ids[0]), -1, "cancel after firing: -1");
}

/* ---- cancellation ---- */

static uint64_t victim;
static int victim_fired;

static void
victim_cb(struct ev_loop *l, uint64_t id, void *arg)
{
	victim_fired++;
}

static void
killer_cb(struct ev_loop *l, uint64_t id, void *arg)
{
	int *r = arg;

	*r = ev_timer_cancel(l, victim);
}

static void
rearm_cb(struct ev_loop *l, uint64_t id, void *arg)
{
	int *n = arg;

	(*n)++;
	ev_timer_add(l, 0, rearm_cb, arg);
}

static void
test_timer_cancel(void)
{
	uint64_t a, b, c, r;
	int killed = 99, n = 0, calls;

	norder = 0;
	a = ev_timer_add(L, 5000, rec_timer, (void *)1);
	b = ev_timer_add(L, 10000, rec_timer, (void *)2);
	c = ev_timer_add(L, 20000, rec_timer, (void *)3);
	tap_is_int(ev_timer_cancel(L, b), 0, "cancel pending timer: 0");
	tap_is_int(ev_timer_cancel(L, b), -1, "cancel twice: -1");
	tap_is_int(ev_timer_cancel(L, 0), -1, "cancel id 0: -1");
	tap_is_int(ev_timer_cancel(L, c + 1000), -1, "cancel unknown id: -1");
	while (norder < 2 && n++ < 200)
		ev_run_once(L, 1000);
	/* c's deadline is after b's, so b would have fired by now. */
	tap_ok(norder == 2 && order[0] == 1 && order[1] == 3,
	    "cancelled timer never fires, others do (%d fired)", norder);
	tap_is_int(ev_timer_cancel(L, a), -1, "cancel fired timer: -1");

	/* A callback cancels a timer that is due in the same iteration. */
	victim_fired = 0;
	ev_timer_add(L, 0, killer_cb, &killed);
	victim = ev_timer_add(L, 0, victim_cb, NULL);
	calls = ev_run_once(L, 1000);
	tap_is_int(killed, 0, "cancel from a callback: 0");
	tap_is_int(
	    victim_fired, 0, "due timer cancelled in dispatch is skipped");
	tap_is_int(calls, 1, "ev_run_once counted one callback");
	r = ev_timer_add(L, 0, victim_cb, NULL);
	tap_ok(r > victim, "ids keep growing after reuse of slots");
	ev_timer_cancel(L, r);

	/* A zero-delay re-arm waits for the next iteration. */
	n = 0;
	ev_timer_add(L, 0, rearm_cb, &n);
	tap_is_int(ev_run_once(L, 1000), 1, "re-armed timer: 1 call");
	tap_is_int(ev_run_once(L, 1000), 1, "  and 1 in the next iteration");
	tap_is_int(n, 2, "  re-armed timer ran twice");
	tap_is_int(ev_run_once(L, 0), 1, "  still re-arming");
}

/* ---- 10,000 timers ---- */

#define NBIG 10000

struct big {
	uint64_t base_us;
	uint64_t delay_us[NBIG];
	uint64_t id[NBIG];
	int cancelled[NBIG];
	int fired[NBIG];
	int seq[NBIG];
	int nseq;
	int early;
	int total;
};

static struct big *B;

static void
big_cb(struct ev_loop *l, uint64_t id, void *arg)
{
	int i = (int)(intptr_t)arg;

	if (id != B->id[i])
		B->early += 1000000; /* wrong id: counted as failure */
	if (ev_now_us(l) < B->base_us + B->delay_us[i])
		B->early++;
	B->fired[i]++;
	B->seq[B->nseq < NBIG ? B->nseq++ : NBIG - 1] = i;
	B->total++;
}

static uint32_t rng = 12345;

static uint32_t
lcg(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void
big_setup(struct ev_loop *l, uint64_t id, void *arg)
{
	int i, *done = arg;

	/* Inside a callback all timers share the cached "now". */
	B->base_us = ev_now_us(l);
	for (i = 0; i < NBIG; i++) {
		B->delay_us[i] = lcg() % 30000;
		if (i % 10 == 0)
			B->delay_us[i] = B->delay_us[i / 2]; /* ties */
		B->id[i] = ev_timer_add(
		    l, B->delay_us[i], big_cb, (void *)(intptr_t)i);
	}
	/* Cancel a third, chosen at random, to exercise heap removal. */
	for (i = 0; i < NBIG; i++)
		if (lcg() % 3 == 0) {
			B->cancelled[i] = 1;
			if (ev_timer_cancel(l, B->id[i]) != 0)
				B->early += 1000000;
		}
	*done = 1;
}

static void
test_timer_many(void)
{
	int setup = 0, i, n, want = 0, once = 1, never = 1, sorted = 1;
	uint64_t da, db;
	int a, b;

	B = xcalloc(1, sizeof *B);
	ev_timer_add(L, 0, big_setup, &setup);
	run_until(&setup, 10);
	for (i = 0; i < NBIG; i++)
		want += !B->cancelled[i];
	for (n = 0; n < 1000 && B->total < want; n++)
		ev_run_once(L, 1000);
	tap_is_int(B->total, want, "%d of %d timers fired (rest cancelled)",
	    B->total, NBIG);
	for (i = 0; i < NBIG; i++) {
		if (B->cancelled[i] && B->fired[i] != 0)
			never = 0;
		if (!B->cancelled[i] && B->fired[i] != 1)
			once = 0;
	}
	tap_ok(once, "every live timer fired exactly once");
	tap_ok(never, "no cancelled timer fired");
	for (i = 1; i < B->nseq && sorted; i++) {
		a = B->seq[i - 1];
		b = B->seq[i];
		da = B->delay_us[a];
		db = B->delay_us[b];
		if (da > db || (da == db && a > b)) {
			sorted = 0;
			tap_diag("  #%d: timer %d (%llu us) after %d (%llu us)",
			    i, b, (unsigned long long)B->delay_us[b], a,
			    (unsigned long long)B->delay_us[a]);
		}
	}
	tap_ok(sorted, "fired in (deadline, add order) order");
	tap_is_int(B->early, 0, "no timer fired before its deadline");
	tap_is_int(ev_run_once(L, 0), 0, "nothing left afterwards");
	free(B);
}

/*
 * Many adds and cancels against a model: every cancel of a live id must
 * succeed and of a dead one fail. The live count is held at 4095, just
 * under the id hash's growth threshold (half of 8192), so its probe
 * clusters are long and often wrap around the table end, which is where
 * deletion by backward shift is easiest to get wrong.
 */
#define NCHURN 4095

static void
test_timer_churn(void)
{
	static uint64_t live[NCHURN], dead[NCHURN];
	int i, slot, bad = 0, ndead = 0;

	for (i = 0; i < NCHURN; i++)
		live[i] = ev_timer_add(L, 3600ULL * 1000000, big_cb, NULL);
	for (i = 0; i < 200000; i++) {
		slot = (int)(lcg() % NCHURN);
		if (ev_timer_cancel(L, live[slot]) != 0)
			bad++;
		dead[ndead++ % NCHURN] = live[slot];
		live[slot] = ev_timer_add(L, 3600ULL * 1000000, big_cb, NULL);
		if (ev_timer_cancel(L, dead[lcg() % MIN(ndead, NCHURN)]) != -1)
			bad++;
	}
	for (i = 0; i < NCHURN; i++)
		if (ev_timer_cancel(L, live[i]) != 0)
			bad++;
	tap_is_int(bad, 0, "200,000 cancel/add rounds match the model");
	tap_is_int(ev_run_once(L, 0), 0, "nothing pending after churn");
}

/* ---- fds ---- */

struct io_rec {
	int calls;
	int fd;
	int events;
	void *arg;
};

static void
io_rec_cb(struct ev_loop *l, int fd, int events, void *arg)
{
	struct io_rec *r = arg;

	r->calls++;
	r->fd = fd;
	r->events = events;
	r->arg = arg;
	if (events & EV_READ)
		drain(fd);
}

static void
test_pipe(void)
{
	struct io_rec r = {0}, w = {0}, other = {0};
	struct err e = {""};
	int p[2], big, tmp;
	char path[4096];

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		abort();
	tap_is_int(ev_io_add(L, p[0], EV_READ, io_rec_cb, &r, &e), 0,
	    "add pipe read end");
	tap_is_int(ev_run_once(L, 0), 0, "empty pipe: no callback");
	tap_is_int(write(p[1], "x", 1), 1, "write a byte");
	tap_is_int(ev_run_once(L, 1000), 1, "readable pipe: one callback");
	tap_ok(
	    r.calls == 1 && r.fd == p[0] && r.events == EV_READ && r.arg == &r,
	    "callback got fd, EV_READ and its arg");
	tap_is_int(ev_run_once(L, 0), 0, "drained pipe: quiet again");

	/* Re-adding replaces callback and argument. */
	ev_io_add(L, p[0], EV_READ, io_rec_cb, &other, &e);
	put(p[1], "y");
	ev_run_once(L, 1000);
	tap_ok(other.calls == 1 && r.calls == 1, "re-add replaced arg");

	tap_is_int(ev_io_add(L, p[1], EV_WRITE, io_rec_cb, &w, &e), 0,
	    "add pipe write end for EV_WRITE");
	tap_is_int(ev_run_once(L, 1000), 1, "writable: one callback");
	tap_ok(w.calls == 1 && w.events == EV_WRITE, "callback got EV_WRITE");
	tap_is_int(ev_io_set(L, p[1], 0), 0, "ev_io_set mask 0");
	tap_is_int(ev_run_once(L, 0), 0, "mask 0: no events");
	tap_is_int(ev_io_set(L, p[1], EV_WRITE), 0, "ev_io_set EV_WRITE");
	tap_is_int(ev_run_once(L, 0), 1, "writable again");
	ev_io_set(L, p[1], 0);
	ev_io_del(L, p[0]);
	close(p[0]);
	/* The write end now has an error condition; mask 0 must not spin. */
	tap_is_int(ev_run_once(L, 0), 0, "mask 0: no callback on EPOLLERR");
	ev_io_set(L, p[1], EV_WRITE);
	w.calls = 0;
	ev_run_once(L, 0);
	tap_ok(
	    w.calls == 1 && (w.events & EV_WRITE), "error shows as EV_WRITE");
	ev_io_del(L, p[1]);
	ev_io_del(L, p[1]);
	tap_is_int(
	    ev_run_once(L, 0), 0, "deleted fd: no events, double del ok");
	close(p[1]);

	tap_is_int(ev_io_set(L, 12345, EV_READ), -1, "ev_io_set unwatched: -1");
	tap_is_int(ev_io_add(L, -1, EV_READ, io_rec_cb, &r, &e), -1,
	    "add fd -1 fails");
	tap_is_str(e.msg, "ev_io_add: bad fd -1", "  message");

	/* A high fd number grows the table. */
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		abort();
	big = dup3(p[0], 900, O_CLOEXEC);
	memset(&r, 0, sizeof r);
	tap_is_int(
	    ev_io_add(L, big, EV_READ, io_rec_cb, &r, &e), 0, "add fd %d", big);
	put(p[1], "z");
	ev_run_once(L, 1000);
	tap_ok(r.calls == 1 && r.fd == 900, "fd 900 dispatched");
	ev_io_del(L, big);
	close(big);
	close(p[0]);
	close(p[1]);

	/* Regular files cannot be polled: a clear error, no crash. */
	tmp = mkstemp(tap_tmppath(path, sizeof path, "test-ev-XXXXXX"));
	unlink(path);
	tap_is_int(ev_io_add(L, tmp, EV_READ, io_rec_cb, &r, &e), -1,
	    "add regular file fails");
	tap_ok(strstr(e.msg, "epoll_ctl fd ") == e.msg, "  message: %s", e.msg);
	tap_is_int(ev_io_set(L, tmp, EV_READ), -1, "  and is not watched");
	close(tmp);
}

/* ---- changing the fd set during dispatch ---- */

struct pair {
	int rd[2]; /* read ends */
	int wr[2];
	int calls[2];
	int mode; /* 0 delete, 1 delete+re-add, 2 close+reopen,
				   3 mask cleared */
	int replacement_calls;
	int newpipe[2];
};

static struct pair P;

static void
replacement_cb(struct ev_loop *l, int fd, int events, void *arg)
{

	P.replacement_calls++;
	drain(fd);
}

static void
pair_cb(struct ev_loop *l, int fd, int events, void *arg)
{
	int me = (int)(intptr_t)arg, other = !me;

	P.calls[me]++;
	drain(fd);
	if (P.calls[other] != 0)
		return; /* the other ran first and did the work */
	if (P.mode == 3) {
		ev_io_set(l, P.rd[other], 0);
		return;
	}
	ev_io_del(l, P.rd[other]);
	if (P.mode == 1) {
		ev_io_add(l, P.rd[other], EV_READ, replacement_cb, NULL, NULL);
	} else if (P.mode == 2) {
		/* The same fd number now names a new, empty pipe. */
		close(P.rd[other]);
		if (pipe2(P.newpipe, O_NONBLOCK | O_CLOEXEC) == -1)
			abort();
		if (P.newpipe[0] != P.rd[other])
			tap_diag("  reopen got fd %d, not %d", P.newpipe[0],
			    P.rd[other]);
		P.rd[other] = P.newpipe[0];
		ev_io_add(l, P.newpipe[0], EV_READ, replacement_cb, NULL, NULL);
	}
}

static void
test_dispatch_changes(void)
{
	static const char *what[] = {
	    "delete", "delete and re-add", "close and reopen", "mask cleared"};
	int mode, i, p[2], calls;

	for (mode = 0; mode < 4; mode++) {
		memset(&P, 0, sizeof P);
		P.mode = mode;
		P.newpipe[0] = P.newpipe[1] = -1;
		for (i = 0; i < 2; i++) {
			if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
				abort();
			P.rd[i] = p[0];
			P.wr[i] = p[1];
			ev_io_add(L, p[0], EV_READ, pair_cb,
			    (void *)(intptr_t)i, NULL);
			put(p[1], "r");
		}
		calls = ev_run_once(L, 1000);
		tap_ok(calls == 1 && P.calls[0] + P.calls[1] == 1,
		    "%s: the other ready fd got no callback (%d, %d)",
		    what[mode], P.calls[0], P.calls[1]);
		tap_is_int(P.replacement_calls, 0,
		    "%s: pending event not given to the new watcher",
		    what[mode]);
		calls = ev_run_once(L, 0);
		if (mode == 1)
			tap_ok(calls == 1 && P.replacement_calls == 1,
			    "%s: new watcher sees the data next iteration",
			    what[mode]);
		else
			tap_ok(calls == 0 && P.replacement_calls == 0,
			    "%s: nothing further", what[mode]);
		for (i = 0; i < 2; i++) {
			ev_io_del(L, P.rd[i]);
			close(P.rd[i]);
			close(P.wr[i]);
		}
		if (P.newpipe[1] != -1)
			close(P.newpipe[1]);
	}
}

static void
self_del_cb(struct ev_loop *l, int fd, int events, void *arg)
{
	int *n = arg;

	(*n)++;
	ev_io_del(l, fd);
}

static void
test_self_delete(void)
{
	int p[2], n = 0;

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		abort();
	ev_io_add(L, p[0], EV_READ | EV_WRITE, self_del_cb, &n, NULL);
	put(p[1], "x");
	ev_run_once(L, 1000);
	ev_run_once(L, 0);
	tap_is_int(n, 1, "callback deleting itself is not called again");
	close(p[0]);
	close(p[1]);
}

/* ---- signals, hook, stop, time ---- */

static int sig_seen, sig_calls;
static void *sig_argp;

static void
sig_cb(struct ev_loop *l, int signo, void *arg)
{
	sig_seen = signo;
	sig_argp = arg;
	sig_calls++;
}

static void
test_signal(void)
{
	struct err e = {""};
	sigset_t cur;
	int i;

	tap_is_int(ev_signal_add(L, SIGUSR1, sig_cb, &sig_seen, &e), 0,
	    "ev_signal_add SIGUSR1");
	sigprocmask(SIG_BLOCK, NULL, &cur);
	tap_ok(sigismember(&cur, SIGUSR1), "SIGUSR1 is blocked");
	tap_is_int(ev_signal_add(L, SIGUSR2, sig_cb, NULL, &e), 0,
	    "ev_signal_add SIGUSR2 (same signalfd)");
	raise(SIGUSR1);
	for (i = 0; i < 10 && sig_calls == 0; i++)
		ev_run_once(L, 1000);
	tap_ok(sig_calls == 1 && sig_seen == SIGUSR1 && sig_argp == &sig_seen,
	    "SIGUSR1 delivered through signalfd with its arg");
	raise(SIGUSR2);
	for (i = 0; i < 10 && sig_calls == 1; i++)
		ev_run_once(L, 1000);
	tap_ok(sig_calls == 2 && sig_seen == SIGUSR2, "SIGUSR2 delivered");
	tap_is_int(ev_run_once(L, 0), 0, "no repeat delivery");
	tap_is_int(
	    ev_signal_add(L, SIGKILL, sig_cb, NULL, &e), -1, "SIGKILL refused");
	tap_is_str(e.msg, "ev_signal_add: bad signal 9", "  message");
}

static int hook_calls, hook_badarg;

static void
hook_cb(struct ev_loop *l, void *arg)
{
	hook_calls++;
	if (arg != &hook_calls)
		hook_badarg++;
}

static int stop_count;

static void
stop_cb(struct ev_loop *l, uint64_t id, void *arg)
{
	if (++stop_count < 5)
		ev_timer_add(l, 100, stop_cb, arg);
	else
		ev_stop(l);
}

static void
test_hook_stop(void)
{
	uint64_t t0, t1, t2;

	hook_calls = 0;
	ev_set_before_sleep(L, hook_cb, &hook_calls);
	ev_run_once(L, 0);
	ev_run_once(L, 0);
	tap_is_int(hook_calls, 2, "before-sleep hook ran once per iteration");
	tap_is_int(hook_badarg, 0, "hook got its arg");
	ev_set_before_sleep(L, NULL, NULL);
	ev_run_once(L, 0);
	tap_is_int(hook_calls, 2, "hook removed");

	stop_count = 0;
	ev_timer_add(L, 100, stop_cb, NULL);
	tap_is_int(ev_run(L), 0, "ev_run returns 0 after ev_stop");
	tap_is_int(stop_count, 5, "ev_run ran until ev_stop");

	t0 = ev_now_us(L);
	ev_run_once(L, 0);
	t1 = ev_now_us(L);
	t2 = ev_now_us(L);
	tap_ok(t1 >= t0 && t1 == t2, "ev_now_us monotonic and cached");
}

int
main(void)
{
	struct err e = {""};

	L = ev_loop_new(&e);
	if (L == NULL) {
		tap_ok(0, "ev_loop_new: %s", e.msg);
		return tap_done();
	}
	test_timer_order();
	test_timer_cancel();
	/* Drop the re-arming timer left by test_timer_cancel. */
	ev_loop_free(L);
	L = ev_loop_new(&e);
	test_timer_many();
	test_timer_churn();
	test_pipe();
	test_dispatch_changes();
	test_self_delete();
	test_signal();
	test_hook_stop();
	ev_loop_free(L);
	return tap_done();
}
