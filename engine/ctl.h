/* SPDX-License-Identifier: MIT */
/*
 * ctl.h — the engine's control socket server (docs/control-protocol.md):
 * newline-delimited JSON over a Unix stream socket, owner-only, with
 * bounded per-client buffers so a slow or stuck client can never stall the
 * engine. The engine supplies callbacks that build its status and metrics;
 * this module knows nothing about tunnels.
 */
#ifndef MDNS_CTL_H
#define MDNS_CTL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/util.h"

#define CTL_SCHEMA	 1
#define CTL_MAX_REQUEST	 4096	      /* bytes per request line */
#define CTL_MAX_OUTPUT	 (256 * 1024) /* bytes queued per client */
#define CTL_WATCH_MIN_MS 100
#define CTL_WATCH_MAX_MS 60000

struct ctl_server;

struct ctl_handlers {
	const char *role; /* "client" or "server" */
	const char *version;
	/* New reference to the status object; called per snapshot. */
	json_t *(*status)(void *arg);
	/* malloc'd Prometheus text exposition; NULL if unsupported. */
	char *(*metrics)(void *arg);
	/* Begin a clean shutdown (the reply is sent first). */
	void (*stop)(void *arg);
	void *arg;
};

struct ctl_stats {
	uint64_t accepted;     /* connections accepted */
	uint64_t refused_uid;  /* peers with another uid */
	uint64_t requests;     /* well-formed requests served */
	uint64_t bad_requests; /* error replies sent */
	uint64_t dropped_slow; /* clients dropped for a full buffer */
	uint64_t events;       /* events broadcast */
};

enum ctl_cmd {
	CTL_CMD_VERSION,
	CTL_CMD_STATUS,
	CTL_CMD_WATCH,
	CTL_CMD_METRICS,
	CTL_CMD_STOP,
};

struct ctl_request {
	enum ctl_cmd cmd;
	unsigned interval_ms; /* watch only */
	json_t *id;	      /* borrowed from the parsed document, or NULL */
};

/*
 * Parse one request line (without the newline). On success returns the
 * parsed document (caller json_decref()s it; req->id points into it). On
 * failure returns NULL with a one-line reason in e.
 */
json_t *ctl_parse_request(
    const char *line, size_t len, struct ctl_request *req, struct err *e);

/*
 * Listen on path: creates the parent directory 0700 when missing (an
 * existing one is left alone), replaces a stale socket file, refuses when
 * another engine answers there, chmods the socket 0600. Returns NULL with
 * e set on failure. The handlers struct is copied; its arg must outlive
 * the server. Accepting never spins when descriptors run out: a
 * connection that cannot be served is told so and closed (net.h).
 */
struct ctl_server *ctl_server_new(struct ev_loop *loop, const char *path,
    const struct ctl_handlers *h, struct err *e);

/*
 * Listen at the default place for h->role (docs/control-protocol.md
 * "Socket"): the first usable directory of path_runtime_dirs (the places
 * clients search, in their order). A directory another user owns or can
 * write is skipped with a warning that names it and the place used
 * instead. Returns the server; or NULL with e set and *busy set when a
 * live engine of ours already holds the socket there (the caller may run
 * without a control socket: two engines can run, one is reachable by
 * default); or NULL with e set and *busy clear when no safe place exists
 * (the caller must not start: it would run with no socket at all).
 */
struct ctl_server *ctl_server_new_default(struct ev_loop *loop,
    const struct ctl_handlers *h, int *busy, struct err *e);
/* The socket path the server listens on (borrowed). */
const char *ctl_server_path(const struct ctl_server *srv);
/* Close every client, stop listening and unlink the socket file. */
void ctl_server_free(struct ctl_server *srv);

/*
 * Broadcast an event to every watcher. kind per the protocol; resolver and
 * detail may be NULL.
 */
void ctl_server_event(struct ctl_server *srv, const char *kind,
    const char *resolver, const char *detail);

/* The server's counters (borrowed; valid until ctl_server_free). */
const struct ctl_stats *ctl_server_stats(const struct ctl_server *srv);
/* Number of connected clients and of those in watch mode. */
size_t ctl_server_clients(const struct ctl_server *srv);
size_t ctl_server_watchers(const struct ctl_server *srv);

/*
 * For clients: the socket of a running engine of ours for role ("client"
 * → engine.sock, "server" → server.sock) as common/ctlc.h ctlc_find finds
 * it, else the first default place (to name in messages); malloc'd. New
 * code calls ctlc_find / ctlc_call_find directly (one connection, and it
 * says where it looked); engines use ctl_server_new_default.
 */
char *ctl_default_path(const char *role);

#endif
