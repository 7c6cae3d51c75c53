/* SPDX-License-Identifier: MIT */
/*
 * ev.h — a single-threaded epoll event loop in the shape of Redis' ae.c:
 * io events on file descriptors, one-shot timers in a min-heap on
 * CLOCK_MONOTONIC, signals through signalfd, and a hook run before each
 * sleep. Everything in mdns-doctor that waits (engine, scans, fixtures)
 * waits here; nothing blocks inside a callback.
 *
 * Callbacks may add or remove any fd or timer, including their own, while
 * the loop dispatches; a removed fd gets no further callbacks in the same
 * iteration.
 */
#ifndef MDNS_EV_H
#define MDNS_EV_H

#include <stdint.h>

#include "common/util.h"

struct ev_loop;

enum {
	EV_READ = 1,
	EV_WRITE = 2,
};

typedef void ev_io_cb(struct ev_loop *loop, int fd, int events, void *arg);
typedef void ev_timer_cb(struct ev_loop *loop, uint64_t id, void *arg);
typedef void ev_signal_cb(struct ev_loop *loop, int signo, void *arg);
typedef void ev_hook_cb(struct ev_loop *loop, void *arg);

/* Create a loop; returns NULL with e set when epoll cannot be created. */
struct ev_loop *ev_loop_new(struct err *e);
/* Free the loop; does not close registered fds. */
void ev_loop_free(struct ev_loop *loop);

/*
 * Watch fd for events (EV_READ | EV_WRITE), calling cb(loop, fd, fired,
 * arg). Adding an fd that is already watched replaces its mask, callback
 * and argument. Returns 0 or -1 with e set.
 */
int ev_io_add(struct ev_loop *loop, int fd, int events, ev_io_cb *cb, void *arg,
    struct err *e);
/* Change the mask of a watched fd (0 = keep registered, no events). */
int ev_io_set(struct ev_loop *loop, int fd, int events);
/* Stop watching fd (safe if not watched). Does not close it. */
void ev_io_del(struct ev_loop *loop, int fd);

/*
 * One-shot timer firing after delay_us microseconds. Returns an id > 0
 * that stays unique for the loop's lifetime. Re-arm by adding again.
 */
uint64_t ev_timer_add(
    struct ev_loop *loop, uint64_t delay_us, ev_timer_cb *cb, void *arg);
/* Cancel a pending timer; returns 0, or -1 if it already fired or is
 * unknown. Cancelling id 0 is a no-op returning -1. */
int ev_timer_cancel(struct ev_loop *loop, uint64_t id);

/*
 * Deliver signo through signalfd (the signal is blocked for the process).
 * Returns 0 or -1 with e set.
 */
int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_cb *cb, void *arg,
    struct err *e);

/* Called before every sleep in epoll_wait (flush queues, batch writes). */
void ev_set_before_sleep(struct ev_loop *loop, ev_hook_cb *cb, void *arg);

/* Run until ev_stop(); returns 0, or -1 on a fatal epoll error. */
int ev_run(struct ev_loop *loop);
/*
 * Run one iteration: wait at most timeout_ms (-1 = until the next timer
 * or event), dispatch, return the number of callbacks run or -1.
 */
int ev_run_once(struct ev_loop *loop, int timeout_ms);
/* Make ev_run return after the current iteration. */
void ev_stop(struct ev_loop *loop);

/* Monotonic time in microseconds, cached at the start of the iteration. */
uint64_t ev_now_us(struct ev_loop *loop);

#endif
