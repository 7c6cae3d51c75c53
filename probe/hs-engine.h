/* SPDX-License-Identifier: MIT */
/*
 * hs-engine.h — `handshake --engine`: verify the running tunnel engine's
 * session through its control socket (docs/control-protocol.md), never
 * through engine internals. The engine passes when its status shows a
 * session id and at least one active (accepted) resolver before the
 * deadline; otherwise the check says which step is missing (engine not
 * running, still testing MTUs, handshaking without a session, no active
 * resolver) with the last status seen as evidence.
 */
#ifndef MDNS_HS_ENGINE_H
#define MDNS_HS_ENGINE_H

#include "common/result.h"

/*
 * Poll `status` on the socket at path every poll_ms until the deadline
 * (ms). Fills c (kind handshake): verdict ok / fail (reason
 * handshake_failed) / unknown (engine not running or not a client: reason
 * internal with the error text). on_step (may be NULL) gets one line per
 * change of what was seen. Returns c->verdict.
 */
enum res_verdict hs_engine_wait(const char *path, int deadline_ms, int poll_ms,
    struct res_check *c, void (*on_step)(void *arg, const char *line),
    void *arg);

#endif
