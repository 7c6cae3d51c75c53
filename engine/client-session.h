/* SPDX-License-Identifier: MIT */
/*
 * client-session.h — the client's session (client-session.c): phases and
 * events, SESSION_INIT and its answers, re-init after ERROR_DROP, and
 * the dispatch of downstream frames (PONG, ERROR_DROP, packed blocks,
 * stream frames). Not a public interface.
 */
#ifndef MDNS_CLIENT_SESSION_H
#define MDNS_CLIENT_SESSION_H

#include "engine/client-int.h"

/* An engine event to the control socket (kind per control-protocol.md). */
void ecl_event(struct eng_client *c, const char *kind, const char *resolver,
    const char *detail);
void ecl_set_phase(struct eng_client *c, int phase);
/* Start (or restart) the handshake with the synced MTUs. */
void ecl_session_start(struct eng_client *c, uint64_t now);
/*
 * A decoded downstream frame (payload decompressed). Returns 1 when the
 * client should pump afterwards (a connected-phase frame).
 */
int ecl_session_frame(
    struct eng_client *c, const struct wire_frame *f, uint64_t now);
/*
 * On the tick: a connected session with queries out and no valid tunnel
 * answer for the stall timeout goes stalled (event "stalled"); the next
 * valid answer makes it connected again, ERROR_DROP re-initialises it.
 */
void ecl_session_check_stall(struct eng_client *c, uint64_t now);
/* Stop the init timer (the client is going away). */
void ecl_session_free(struct eng_client *c);

#endif
