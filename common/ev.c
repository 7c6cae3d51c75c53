/* SPDX-License-Identifier: MIT */
/*
 * ev.c — the event loop behind ev.h: level-triggered epoll over a table of
 * watched fds indexed by fd number, one-shot timers in a binary min-heap on
 * CLOCK_MONOTONIC microseconds, signals read from one signalfd, and a hook
 * run before every sleep.
 *
 * Safety while dispatching: every registration of an fd gets a fresh
 * generation number which travels in epoll's data word, so an event that
 * was already fetched for an fd that a callback deleted (or deleted and
 * re-added, or closed and reopened under the same number) is dropped
 * instead of reaching the wrong callback. Timers are addressed by a 64-bit
 * id that is never reused; the hash table of common/hmap.h maps ids to timer
 * slots, and each slot knows its heap position, so add and cancel are both
 * O(log n). Timers with equal deadlines fire in the order they were added.
 *
 * It is single-threaded and not thread-safe; ev_signal_add blocks signals
 * only in the calling thread (call it before starting threads). It does not
 * close fds it did not open (only its own epoll fd and signalfd).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/hmap.h"

#define EV_BATCH  256
#define SLOT_NONE UINT32_MAX

struct ev_fd {
	ev_io_cb *cb;
	void *arg;
	uint32_t gen; /* 0 = not watched */
	int mask;
	int in_epoll; /* mask 0 keeps the fd out of epoll */
};

struct ev_timer {
	uint64_t id; /* 0 = free slot */
	uint64_t deadline_us;
	uint64_t seq; /* tie-break: first added fires first */
	ev_timer_cb *cb;
	void *arg;
	uint32_t heap_pos; /* index in heap[], or next free slot */
};

struct ev_loop {
	int epfd;
	int sigfd;
	int stop;
	int dispatching;
	uint64_t now_us;
	uint32_t next_gen;
	uint64_t ncalls; /* user callbacks run in this iteration */

	struct ev_fd *fds;
	size_t nfds;

	struct ev_timer *slots;
	uint32_t nslots;
	uint32_t free_slot; /* head of the free list, SLOT_NONE if empty */
	uint32_t *heap;	    /* slot indices */
	uint32_t heap_len;
	uint64_t next_id;
	uint64_t next_seq;
	struct hmap ids; /* timer id -> slot */

	sigset_t sigset;
	ev_signal_cb *sig_cb[_NSIG];
	void *sig_arg[_NSIG];

	ev_hook_cb *before_sleep;
	void *before_sleep_arg;
};

/* ---- id -> slot (common/hmap; the id is its own hash) ---- */

/* Take timer id out of the id table; its slot, or SLOT_NONE if unknown. */
static uint32_t
id_take(struct ev_loop *l, uint64_t id)
{
	struct hmap_it it;
	uint32_t v;

	for (v = hmap_find(&l->ids, id, &it); v != HMAP_NONE;
	     v = hmap_find_next(&l->ids, &it))
		if (l->slots[v].id == id) {
			hmap_remove(&l->ids, &it);
			return v;
		}
	return SLOT_NONE;
}

/* ---- timer heap ---- */

static int
timer_before(const struct ev_loop *l, uint32_t a, uint32_t b)
{
	const struct ev_timer *ta = &l->slots[a], *tb = &l->slots[b];

	if (ta->deadline_us != tb->deadline_us)
		return ta->deadline_us < tb->deadline_us;
	return ta->seq < tb->seq;
}

static void
heap_set(struct ev_loop *l, uint32_t pos, uint32_t slot)
{
	l->heap[pos] = slot;
	l->slots[slot].heap_pos = pos;
}

static void
heap_up(struct ev_loop *l, uint32_t pos)
{
	uint32_t slot = l->heap[pos], parent;

	while (pos > 0) {
		parent = (pos - 1) / 2;
		if (!timer_before(l, slot, l->heap[parent]))
			break;
		heap_set(l, pos, l->heap[parent]);
		pos = parent;
	}
	heap_set(l, pos, slot);
}

static void
heap_down(struct ev_loop *l, uint32_t pos)
{
	uint32_t slot = l->heap[pos], child;

	for (;;) {
		child = 2 * pos + 1;
		if (child >= l->heap_len)
			break;
		if (child + 1 < l->heap_len &&
		    timer_before(l, l->heap[child + 1], l->heap[child]))
			child++;
		if (!timer_before(l, l->heap[child], slot))
			break;
		heap_set(l, pos, l->heap[child]);
		pos = child;
	}
	heap_set(l, pos, slot);
}

static void
heap_remove(struct ev_loop *l, uint32_t pos)
{
	uint32_t last;

	l->heap_len--;
	if (pos == l->heap_len)
		return;
	last = l->heap[l->heap_len];
	heap_set(l, pos, last);
	if (pos > 0 && timer_before(l, last, l->heap[(pos - 1) / 2]))
		heap_up(l, pos);
	else
		heap_down(l, pos);
}

static void
slot_free(struct ev_loop *l, uint32_t slot)
{
	l->slots[slot].id = 0;
	l->slots[slot].cb = NULL;
	l->slots[slot].arg = NULL;
	l->slots[slot].heap_pos = l->free_slot;
	l->free_slot = slot;
}

uint64_t
ev_timer_add(struct ev_loop *l, uint64_t delay_us, ev_timer_cb *cb, void *arg)
{
	struct ev_timer *t;
	uint32_t slot, i, n;

	if (l->free_slot == SLOT_NONE) {
		if (l->nslots >= SLOT_NONE / 2)
			abort(); /* two billion live timers: a bug */
		n = l->nslots ? l->nslots * 2 : 64;
		l->slots = xreallocarray(l->slots, n, sizeof *l->slots);
		l->heap = xreallocarray(l->heap, n, sizeof *l->heap);
		for (i = n; i > l->nslots; i--) {
			memset(&l->slots[i - 1], 0, sizeof l->slots[0]);
			l->slots[i - 1].heap_pos = l->free_slot;
			l->free_slot = i - 1;
		}
		l->nslots = n;
	}
	slot = l->free_slot;
	t = &l->slots[slot];
	l->free_slot = t->heap_pos;

	/*
	 * Inside a dispatch the iteration's cached time is the reference, so
	 * timers added together keep their relative order; outside, the
	 * cache may be stale (the caller may have blocked), so refresh it.
	 */
	if (!l->dispatching)
		l->now_us = now_mono_us();
	t->id = ++l->next_id;
	t->seq = l->next_seq++;
	t->deadline_us = delay_us > UINT64_MAX - l->now_us ?
	    UINT64_MAX :
	    l->now_us + delay_us;
	t->cb = cb;
	t->arg = arg;
	l->heap[l->heap_len] = slot;
	t->heap_pos = l->heap_len++;
	heap_up(l, t->heap_pos);
	hmap_put(&l->ids, t->id, slot);
	return t->id;
}

int
ev_timer_cancel(struct ev_loop *l, uint64_t id)
{
	uint32_t slot;

	if (id == 0 || (slot = id_take(l, id)) == SLOT_NONE)
		return -1;
	heap_remove(l, l->slots[slot].heap_pos);
	slot_free(l, slot);
	return 0;
}

/*
 * Fire expired timers. Timers added by these callbacks wait for the next
 * iteration even when already due (a zero-delay re-arm must not starve the
 * fds); they all sort after the expired ones, so stopping at the first one
 * is enough.
 */
static void
timers_run(struct ev_loop *l)
{
	uint64_t first_new = l->next_seq, id;
	struct ev_timer *t;
	ev_timer_cb *cb;
	void *arg;
	uint32_t slot;

	while (l->heap_len > 0) {
		slot = l->heap[0];
		t = &l->slots[slot];
		if (t->deadline_us > l->now_us || t->seq >= first_new)
			break;
		id = t->id;
		cb = t->cb;
		arg = t->arg;
		heap_remove(l, 0);
		hmap_del(&l->ids, id, slot);
		slot_free(l, slot);
		l->ncalls++;
		cb(l, id, arg);
	}
}

/* ---- fds ---- */

static uint32_t
epoll_mask(int mask)
{
	return ((mask & EV_READ) ? EPOLLIN : 0) |
	    ((mask & EV_WRITE) ? EPOLLOUT : 0);
}

/* Bring epoll in line with f->mask; 0 or -1 with errno set. */
static int
fd_sync(struct ev_loop *l, int fd, struct ev_fd *f)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = epoll_mask(f->mask);
	ev.data.u64 = ((uint64_t)f->gen << 32) | (uint32_t)fd;
	if (f->mask == 0) {
		/*
		 * epoll reports EPOLLHUP/EPOLLERR even for an empty mask, which
		 * would spin the loop; an idle fd stays out of epoll.
		 */
		if (f->in_epoll)
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, &ev);
		f->in_epoll = 0;
		return 0;
	}
	if (epoll_ctl(l->epfd, f->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
		&ev) == -1)
		return -1;
	f->in_epoll = 1;
	return 0;
}

int
ev_io_add(struct ev_loop *l, int fd, int events, ev_io_cb *cb, void *arg,
    struct err *e)
{
	struct ev_fd *f, saved;
	size_t n;

	if (fd < 0)
		return err_set(e, "ev_io_add: bad fd %d", fd);
	if ((events & ~(EV_READ | EV_WRITE)) != 0)
		return err_set(e, "ev_io_add: bad event mask %#x", events);
	if ((size_t)fd >= l->nfds) {
		n = MAX(l->nfds * 2, (size_t)fd + 1);
		n = MAX(n, 64);
		l->fds = xreallocarray(l->fds, n, sizeof *l->fds);
		memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof *l->fds);
		l->nfds = n;
	}
	f = &l->fds[fd];
	saved = *f;
	if (f->gen == 0) {
		if (++l->next_gen == 0)
			l->next_gen = 1;
		f->gen = l->next_gen;
		f->in_epoll = 0;
	}
	f->mask = events;
	f->cb = cb;
	f->arg = arg;
	if (fd_sync(l, fd, f) == -1) {
		err_set(e, "epoll_ctl fd %d: %s", fd, strerror(errno));
		*f = saved;
		return -1;
	}
	return 0;
}

int
ev_io_set(struct ev_loop *l, int fd, int events)
{
	struct ev_fd *f;
	int old;

	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].gen == 0 ||
	    (events & ~(EV_READ | EV_WRITE)) != 0)
		return -1;
	f = &l->fds[fd];
	old = f->mask;
	f->mask = events;
	if (fd_sync(l, fd, f) == -1) {
		f->mask = old;
		return -1;
	}
	return 0;
}

void
ev_io_del(struct ev_loop *l, int fd)
{
	struct ev_fd *f;
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].gen == 0)
		return;
	f = &l->fds[fd];
	/* Fails harmlessly (EBADF) when the caller closed fd first. */
	if (f->in_epoll) {
		memset(&ev, 0, sizeof ev);
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, &ev);
	}
	memset(f, 0, sizeof *f);
}

/* ---- signals ---- */

static void
sig_read(struct ev_loop *l, int fd, int events, void *arg)
{
	struct signalfd_siginfo si[16];
	ssize_t n, i;
	uint32_t signo;

	for (;;) {
		n = read(fd, si, sizeof si);
		if (n <= 0)
			return;
		for (i = 0; i < n / (ssize_t)sizeof si[0]; i++) {
			signo = si[i].ssi_signo;
			if (signo >= _NSIG || l->sig_cb[signo] == NULL)
				continue;
			l->ncalls++;
			l->sig_cb[signo](l, (int)signo, l->sig_arg[signo]);
		}
	}
}

int
ev_signal_add(
    struct ev_loop *l, int signo, ev_signal_cb *cb, void *arg, struct err *e)
{
	sigset_t one, set;
	int fd;

	if (signo <= 0 || signo >= _NSIG || signo == SIGKILL ||
	    signo == SIGSTOP)
		return err_set(e, "ev_signal_add: bad signal %d", signo);
	set = l->sigset;
	sigaddset(&set, signo);
	sigemptyset(&one);
	sigaddset(&one, signo);
	/* Blocked first, so no instance slips through to the default action. */
	if (sigprocmask(SIG_BLOCK, &one, NULL) == -1)
		return err_set(e, "sigprocmask: %s", strerror(errno));
	fd = signalfd(l->sigfd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return err_set(e, "signalfd: %s", strerror(errno));
	if (l->sigfd == -1) {
		if (ev_io_add(l, fd, EV_READ, sig_read, NULL, e) == -1) {
			close(fd);
			return -1;
		}
		l->sigfd = fd;
	}
	l->sigset = set;
	l->sig_cb[signo] = cb;
	l->sig_arg[signo] = arg;
	return 0;
}

/* ---- loop ---- */

struct ev_loop *
ev_loop_new(struct err *e)
{
	struct ev_loop *l;
	int fd;

	if ((fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		err_set(e, "epoll_create1: %s", strerror(errno));
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->epfd = fd;
	l->sigfd = -1;
	l->free_slot = SLOT_NONE;
	l->next_seq = 1;
	sigemptyset(&l->sigset);
	l->now_us = now_mono_us();
	return l;
}

void
ev_loop_free(struct ev_loop *l)
{
	if (l == NULL)
		return;
	/*
	 * Signals stay blocked: unblocking one that is pending (SIGUSR1,
	 * SIGTERM) would run its default action and kill the process.
	 */
	if (l->sigfd != -1)
		close(l->sigfd);
	close(l->epfd);
	free(l->fds);
	free(l->slots);
	free(l->heap);
	hmap_free(&l->ids);
	free(l);
}

void
ev_set_before_sleep(struct ev_loop *l, ev_hook_cb *cb, void *arg)
{
	l->before_sleep = cb;
	l->before_sleep_arg = arg;
}

uint64_t
ev_now_us(struct ev_loop *l)
{
	return l->now_us;
}

void
ev_stop(struct ev_loop *l)
{
	l->stop = 1;
}

/* How long epoll may sleep: up to the first timer, capped by limit_ms. */
static int
wait_ms(struct ev_loop *l, int limit_ms)
{
	uint64_t deadline, ms;

	if (l->heap_len == 0)
		return limit_ms < 0 ? -1 : limit_ms;
	deadline = l->slots[l->heap[0]].deadline_us;
	if (deadline <= l->now_us)
		return 0;
	/* Round up: waking a little late beats spinning until the deadline. */
	ms = (deadline - l->now_us + 999) / 1000;
	if (ms > INT_MAX)
		ms = INT_MAX;
	if (limit_ms >= 0 && (uint64_t)limit_ms < ms)
		return limit_ms;
	return (int)ms;
}

int
ev_run_once(struct ev_loop *l, int timeout_ms)
{
	struct epoll_event evs[EV_BATCH];
	struct ev_fd *f;
	uint32_t gen, ev;
	int n, i, fd, fired;

	l->ncalls = 0;
	if (l->before_sleep != NULL)
		l->before_sleep(l, l->before_sleep_arg);
	l->now_us = now_mono_us();
	n = epoll_wait(l->epfd, evs, EV_BATCH, wait_ms(l, timeout_ms));
	if (n == -1) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	l->now_us = now_mono_us();
	l->dispatching = 1;
	for (i = 0; i < n; i++) {
		fd = (int)(uint32_t)evs[i].data.u64;
		gen = (uint32_t)(evs[i].data.u64 >> 32);
		/* Deleted (or replaced) by an earlier callback: drop it. */
		if ((size_t)fd >= l->nfds || l->fds[fd].gen != gen)
			continue;
		f = &l->fds[fd];
		ev = evs[i].events;
		fired = 0;
		if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
			fired |= EV_READ;
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			fired |= EV_WRITE;
		/* An earlier callback may have narrowed the mask. */
		fired &= f->mask;
		if (fired == 0 || f->cb == NULL)
			continue;
		if (f->cb != sig_read)
			l->ncalls++;
		f->cb(l, fd, fired, f->arg);
	}
	timers_run(l);
	l->dispatching = 0;
	return (int)MIN(l->ncalls, INT_MAX);
}

int
ev_run(struct ev_loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (ev_run_once(l, -1) == -1)
			return -1;
	return 0;
}
