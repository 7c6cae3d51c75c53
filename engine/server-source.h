/* SPDX-License-Identifier: MIT */
/*
 * server-source.h — what the server keeps per source address (the UDP
 * sender: a resolver, or a client talking to the server directly) to
 * bound what one source can do (server-source.c, issue 19 items 4 and
 * 6): bytes of answers not tied to a working session (the reflection
 * budget), SESSION_INIT rate, invalid cookies, and whether the source
 * holds a working session (for the share of the session table kept for
 * such sources). Not a public interface: docs/security.md.
 */
#ifndef MDNS_SERVER_SOURCE_H
#define MDNS_SERVER_SOURCE_H

#include "engine/server-int.h"

/* Sources remembered; the oldest is forgotten first (a spoofer can make
 * us forget a source: its budgets start over, nothing worse). */
#define SRV_SOURCES_MAX 4096
/* Answer bytes to queries without a working session, and SESSION_INITs,
 * per source. A source's burst: this many seconds of its rate (the rates are the
 * MDNS_SOURCE_* keys: 32 KiB/s of answer bytes, 2 INITs/s). */
#define SRV_SRC_BURST 8
/* Share of the session table (in 1/4ths) open to any source; the rest
 * only to sources that already hold a working session. */
#define SRV_SESS_OPEN_QUARTERS 3

struct srv_source;

/* The record of the current query's source (s->from), made if needed;
 * NULL without a source. */
struct srv_source *srv_source_get(struct eng_server *s, uint64_t now);
/* May n more answer bytes go to src without a working session? Takes them
 * if so; 0 (counted) if not. */
int srv_source_answer_ok(
    struct eng_server *s, struct srv_source *src, size_t n, uint64_t now);
/* May src send one more SESSION_INIT now? (counted if not) */
int srv_source_init_ok(
    struct eng_server *s, struct srv_source *src, uint64_t now);
/* An invalid cookie from src: 1 when src is past the threshold within
 * the window (drop the query silently; counted). */
int srv_source_bad_cookie(
    struct eng_server *s, struct srv_source *src, uint64_t now);
/* A valid post-session query from src: it holds a working session. */
void srv_source_working(struct srv_source *src, uint64_t now);
/* Whether src may take a session from the reserved share. */
int srv_source_has_working(const struct srv_source *src, uint64_t now);
/* Forget every source. */
void srv_sources_free(struct eng_server *s);

#endif
