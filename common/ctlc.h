/* SPDX-License-Identifier: MIT */
/*
 * ctlc.h — client side of the engine control protocol
 * (docs/control-protocol.md): find the engine's Unix socket, make sure the
 * process behind it is ours, send one request, read newline-delimited JSON
 * replies, and make the strings in them safe for a terminal. Used by
 * status, metrics, the TUI and handshake --engine; it never touches engine
 * internals.
 */
#ifndef MDNS_CTLC_H
#define MDNS_CTLC_H

#include <jansson.h>
#include <stddef.h>
#include <wchar.h>

#include "common/util.h"

#define CTLC_MAX_LINE (4 * 1024 * 1024)

struct ctlc {
	int fd;
	char *buf; /* bytes received, not yet returned */
	size_t len, cap;
};

/*
 * Connect to the socket at path (non-blocking afterwards when nonblock is
 * set) and check with SO_PEERCRED that the process listening there runs
 * as our effective uid or as root: a socket another user made is never
 * trusted. Returns 0 or -1 with e saying "engine not running at PATH"
 * when nothing listens there, or "... runs as uid N ...: not trusted".
 */
int ctlc_open(struct ctlc *c, const char *path, int nonblock, struct err *e);

/* Where ctlc_find found the engine, and the places it passed over. */
struct ctlc_where {
	char path[108];	    /* the socket (sun_path size) */
	const char *source; /* "--control", or path_runtime_dirs' source */
	char skipped[400];  /* "PATH: reason; ..." for untrusted places */
};

/*
 * Open the engine of role ("client": engine.sock, "server": server.sock):
 * at control when it is not NULL, else at the first default place
 * (common/path.h path_runtime_dirs, in that order) whose directory is
 * private to us (path_dir_private) and where an engine of ours answers.
 * A place whose directory another user owns or can write is skipped and
 * named in w->skipped. Returns 0 with w filled, or -1 with e saying what
 * was tried ("engine not running (looked in A, B)"; an untrusted place
 * is named with its reason).
 */
int ctlc_find(struct ctlc *c, const char *control, const char *role,
    int nonblock, struct ctlc_where *w, struct err *e);

/*
 * The socket path to name for role when no engine is found: the first
 * default place; malloc'd.
 */
char *ctlc_default_path(const char *role);
void ctlc_close(struct ctlc *c);

/*
 * Send a request object (borrowed) as one line. 0 / -1. When the engine
 * has already closed the connection but left a reply (a refusal), the
 * send counts as done so that ctlc_recv returns that reply.
 */
int ctlc_send(struct ctlc *c, json_t *req, struct err *e);

/*
 * Read the next reply. Blocking mode: waits up to timeout_ms (-1 forever).
 * Non-blocking mode: reads what is available. Returns 1 with *out set (a new
 * reference), 0 when no complete line is available yet (non-blocking or
 * timeout), or -1 with e set (connection closed, malformed reply).
 */
int ctlc_recv(struct ctlc *c, json_t **out, int timeout_ms, struct err *e);

/*
 * One request, one reply, blocking: connect, send {"cmd": cmd}, read the
 * reply, close. Returns the reply (new reference) or NULL with e set. A reply
 * with "ok": false is returned as is.
 */
json_t *ctlc_call(
    const char *path, const char *cmd, int timeout_ms, struct err *e);

/* ctlc_call on the engine ctlc_find finds; w as there. */
json_t *ctlc_call_find(const char *control, const char *role, const char *cmd,
    int timeout_ms, struct ctlc_where *w, struct err *e);

/*
 * "12.3 s ago", or "never" when o (a client status or one of its
 * resolvers) has no last_valid_answer_age_ms; into buf.
 */
const char *ctlc_answer_age(json_t *o, char *buf, size_t len);

/*
 * Terminal safety for text from the socket (the TUI, status, metrics,
 * error messages: every place such text reaches a terminal). Text is
 * decoded per the current locale (LC_CTYPE); a control character (C0,
 * DEL, C1), an undecodable byte or a character without a printable width
 * becomes one '?', so a string can never move the cursor or send an
 * escape sequence.
 *
 * ctlc_term_next: the next character of *s (not at its end): advances
 * *s, sets *wc to it (L'?' when replaced) and returns its column width.
 * ps is the caller's conversion state (zeroed at the start of a string).
 */
int ctlc_term_next(const char **s, mbstate_t *ps, wchar_t *wc);
/*
 * A safe malloc'd copy of s; keep_newlines leaves '\n' alone (multi-line
 * text such as the metrics exposition).
 */
char *ctlc_term_safe(const char *s, int keep_newlines);
/* Replace every string value in v (recursively) by its safe copy. */
void ctlc_term_sanitize(json_t *v);

#endif
