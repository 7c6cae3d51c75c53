/* SPDX-License-Identifier: MIT */
/*
 * client-stream.h — the client's local side (client-stream.c): the
 * listener, the SOCKS front end (engine/socks.h), and the client's
 * streams on the stream core (engine/stream.h). Not a public interface.
 */
#ifndef MDNS_CLIENT_STREAM_H
#define MDNS_CLIENT_STREAM_H

#include "engine/client-int.h"

/* Bind the local listener (LISTEN_IP:LISTEN_PORT). 0 or -1 with e set. */
int ecl_listen(struct eng_client *c, union net_addr *bound, struct err *e);
/*
 * Packets the download FEC rebuilt (client-fec.c): into the stream's ARQ
 * as if they had arrived, then one progress step (the stream may finish
 * and be freed). Returns how many were new to the ARQ.
 */
unsigned ecl_stream_recovered(struct ecl_stream *st, const uint16_t *seqs,
    const uint8_t *const *ps, const size_t *lens, unsigned n, uint64_t now);
/* A downstream frame for a stream of the current session. */
void ecl_stream_frame(
    struct eng_client *c, const struct wire_frame *f, uint64_t now);
/* A session is up: streams waiting for one send their SYN. */
void ecl_streams_session_up(struct eng_client *c, uint64_t now);
/* The session is gone: connecting streams wait again, open ones reset. */
void ecl_streams_session_lost(struct eng_client *c);
/* Reset every open stream (stopping). */
void ecl_streams_reset_all(struct eng_client *c);
/* ARQ timers of every stream. */
void ecl_streams_tick(struct eng_client *c, uint64_t now);
void ecl_streams_free_all(struct eng_client *c);
/*
 * A local end that is not a socket (a TUN flow: engine/client-tun.c) as
 * a new stream to target (the SOCKS5_SYN form: ATYP, address, port), no
 * SOCKS front end: opened at once or when the session is up; a failure
 * ends the local end with ops->abort. The stream owns h from here (ends
 * it with close or abort). NULL when stopping (h is still the caller's).
 */
struct ecl_stream *ecl_adopt_local(struct eng_client *c,
    const struct stream_local *ops, void *h, const uint8_t *target,
    size_t tlen);
/* The local end of st is ready for events (EV_READ / EV_WRITE). */
void ecl_stream_io(struct ecl_stream *st, int events);

#endif
