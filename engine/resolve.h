/* SPDX-License-Identifier: MIT */
/*
 * resolve.h — asynchronous host name resolution for the engine's event
 * loop. A few worker threads call getaddrinfo(3); each finished lookup is
 * handed back to the loop thread through a pipe, where its callback runs.
 * The loop never blocks on DNS, and callbacks never run on a worker.
 *
 * Why threads and not getaddrinfo_a: glibc's getaddrinfo_a also runs
 * lookups on helper threads, but signals completion by signal or by a
 * callback on its own thread; a pipe from our own small pool is simpler to
 * fold into the epoll loop and to cancel.
 */
#ifndef MDNS_RESOLVE_H
#define MDNS_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

#define ENG_RESOLVE_MAX_ADDRS 8

struct eng_resolver;
struct eng_resolve_req;

/*
 * Called on the loop thread. status 0 with n >= 1 addresses (port set), or
 * -1 with why ("no such host", ...) and n == 0. addrs is valid only during
 * the call.
 */
typedef void eng_resolve_cb(void *arg, int status, const char *why,
    const union net_addr *addrs, size_t n);

/* A resolver with `threads` workers (1..16) on loop. NULL with e set. */
struct eng_resolver *eng_resolver_new(
    struct ev_loop *loop, unsigned threads, struct err *e);
/* Stop the workers (waits for lookups in progress) and free everything.
 * Pending callbacks are not called. */
void eng_resolver_free(struct eng_resolver *r);

/*
 * Start looking up host (TCP, any family). The callback runs later on the
 * loop thread unless the request is cancelled first. Returns a handle
 * valid until the callback runs or eng_resolve_cancel is called.
 */
struct eng_resolve_req *eng_resolve(struct eng_resolver *r, const char *host,
    uint16_t port, eng_resolve_cb *cb, void *arg);
/* The callback will not be called; the handle is released. */
void eng_resolve_cancel(struct eng_resolve_req *q);

#endif
