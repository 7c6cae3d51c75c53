/* SPDX-License-Identifier: MIT */
/*
 * fetch.h — small HTTP(S) GETs with libcurl's multi interface driven by
 * the project's event loop (common/ev.h): curl's sockets are watched with
 * ev_io, its timeout is one ev timer, nothing ever blocks (names are
 * resolved by curl's threaded resolver). Many fetches run at once on one
 * struct fetch; each ends in exactly one callback.
 *
 * Made for IP-echo requests: each fetch is a fresh connection (no reuse,
 * so two fetches are two independent observations), redirects are not
 * followed (a redirect is not an answer), bodies are capped, and proxies
 * come only from the request, never from the environment (http_proxy
 * must not silently turn a "direct" fetch into a proxied one).
 */
#ifndef MDNS_FETCH_H
#define MDNS_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/util.h"

struct fetch;

struct fetch_req {
	const char *url;	/* http:// or https:// only */
	const char *proxy;	/* "socks5h://127.0.0.1:1080" or NULL */
	const char *proxy_user; /* SOCKS5 user/password, or NULL */
	const char *proxy_pass;
	int family;	 /* 4 or 6: resolve the host that way; 0 any */
	int timeout_ms;	 /* whole transfer */
	size_t max_body; /* larger bodies fail the fetch */
	const char *user_agent;
};

struct fetch_result {
	int done;	  /* a complete HTTP response was read */
	long status;	  /* HTTP status; 0 without a response */
	const char *body; /* done: body bytes (not NUL-terminated) */
	size_t len;
	int timed_out;	     /* the transfer hit timeout_ms */
	char error[256];     /* !done: curl's reason, one line */
	char local_ip[48];   /* our address on the connection, or "" */
	char primary_ip[48]; /* the peer we connected to (the proxy when
				proxied), or "" */
	int64_t total_ms;    /* start to end */
};

/* Called once per fetch; r and its body are valid only during the call.
 * The callback may start new fetches or free nothing but its own data. */
typedef void fetch_cb(void *arg, const struct fetch_result *r);

/* A fetcher on loop. NULL with e set when curl cannot be set up. */
struct fetch *fetch_new(struct ev_loop *loop, struct err *e);
/*
 * Start a GET. 0, or -1 with e set (bad option for this libcurl, a URL
 * that is not http/https); cb is then never called.
 */
int fetch_get(struct fetch *f, const struct fetch_req *req, fetch_cb *cb,
    void *arg, struct err *e);
/* Fetches still running. */
size_t fetch_pending(const struct fetch *f);
/* Cancel everything still running (no callbacks) and free f. NULL ok. */
void fetch_free(struct fetch *f);

#endif
