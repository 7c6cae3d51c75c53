/* SPDX-License-Identifier: MIT */
/*
 * bench-ev.c — event loop throughput: timer add+cancel with many timers
 * live, firing many timers, and io dispatch (pipe ping-pong). Prints
 * numbers; asserts nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/ev.h"

static void
nop_timer(struct ev_loop *l, uint64_t id, void *arg)
{
	(*(long *)arg)++;
}

struct pp {
	int a[2], b[2];
	long rounds, left;
};

/* Ping-pong: a byte goes a -> b -> a ... until left reaches 0. */
static void
pp_cb(struct ev_loop *l, int fd, int events, void *arg)
{
	struct pp *p = arg;
	char c;

	if (read(fd, &c, 1) != 1)
		return;
	p->rounds++;
	if (--p->left <= 0) {
		ev_stop(l);
		return;
	}
	if (write(fd == p->a[0] ? p->b[1] : p->a[1], &c, 1) != 1)
		abort();
}

int
main(void)
{
	struct ev_loop *l = ev_loop_new(NULL);
	enum { LIVE = 100000, OPS = 1000000, FIRE = 1000000 };
	uint64_t *ids, t0, t1;
	long fired = 0, i;
	struct pp p = {.left = 200000};

	ids = calloc(LIVE, sizeof *ids);
	for (i = 0; i < LIVE; i++)
		ids[i] = ev_timer_add(l,
		    3600000000ULL + (uint64_t)i * 7919 % 1000000, nop_timer,
		    &fired);
	t0 = now_mono_us();
	for (i = 0; i < OPS; i++) {
		ev_timer_cancel(l, ids[i % LIVE]);
		ids[i % LIVE] = ev_timer_add(l,
		    3600000000ULL + (uint64_t)i * 104729 % 1000000, nop_timer,
		    &fired);
	}
	t1 = now_mono_us();
	printf("ev timer cancel+add (%d live): %.0f ns/op\n", LIVE,
	    (double)(t1 - t0) * 1000 / OPS);
	for (i = 0; i < LIVE; i++)
		ev_timer_cancel(l, ids[i]);

	t0 = now_mono_us();
	for (i = 0; i < FIRE; i++)
		ev_timer_add(l, (uint64_t)i * 7919 % 1000, nop_timer, &fired);
	while (fired < FIRE)
		ev_run_once(l, 10);
	t1 = now_mono_us();
	printf("ev timers fired: %d in %.1f ms (%.0f ns/timer incl. add)\n",
	    FIRE, (double)(t1 - t0) / 1000, (double)(t1 - t0) * 1000 / FIRE);

	if (pipe2(p.a, O_NONBLOCK) == -1 || pipe2(p.b, O_NONBLOCK) == -1)
		return 1;
	ev_io_add(l, p.a[0], EV_READ, pp_cb, &p, NULL);
	ev_io_add(l, p.b[0], EV_READ, pp_cb, &p, NULL);
	t0 = now_mono_us();
	if (write(p.a[1], "x", 1) != 1)
		return 1;
	ev_run(l);
	t1 = now_mono_us();
	printf("ev io dispatch (pipe ping-pong): %ld callbacks, %.0f ns each\n",
	    p.rounds, (double)(t1 - t0) * 1000 / (double)p.rounds);
	free(ids);
	ev_loop_free(l);
	return 0;
}
