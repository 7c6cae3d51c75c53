/*
 * ctlc.h — client side of the engine control protocol
 * (docs/control-protocol.md): connect to the Unix socket, send one request,
 * read newline-delimited JSON replies. Used by status, metrics, the TUI and
 * handshake --engine; it never touches engine internals.
 */
#ifndef MDNS_CTLC_H
#define MDNS_CTLC_H

#include <jansson.h>
#include <stddef.h>

#include "common/util.h"

#define CTLC_MAX_LINE (4 * 1024 * 1024)

struct ctlc {
	int fd;
	char *buf; /* bytes received, not yet returned */
	size_t len, cap;
};

/*
 * Connect to the socket at path (non-blocking afterwards when nonblock is
 * set). Returns 0 or -1 with e saying "engine not running at PATH" when
 * nothing listens there.
 */
int ctlc_open(struct ctlc *c, const char *path, int nonblock, struct err *e);
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

#endif
