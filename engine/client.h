/*
 * client.h — the tunnel client (`mdns-doctor connect`): MTU discovery with
 * the upstream algorithm, session setup, a local SOCKS5/SOCKS4 proxy (or
 * TCP-forward listener) whose connections travel as streams through DNS
 * queries to the tunnel server (wire-protocol.md 1.8–1.13).
 *
 * Every query goes to connections (resolver × domain) chosen by the
 * resolver pool (engine/pool.h): MTU tests with a fast start, duplication,
 * per-stream preferred resolvers, auto-disable and rechecks. The state is
 * exported as the control protocol's STATUS and as Prometheus metrics.
 * One thread, one event loop, nothing blocks.
 */
#ifndef MDNS_CLIENT_H
#define MDNS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/config.h"
#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

struct eng_client_stats {
	uint64_t queries_sent, answers, timeouts, bad_answers;
	uint64_t frames_up, frames_down, bytes_up, bytes_down;
	uint64_t pings, pongs, packed_sent, packed_recv;
	uint64_t error_drops, busy, session_inits, session_reinits;
	uint64_t duplicates_sent, probes_sent, probes_answered;
	uint64_t socks_accepted, socks_read_errors, socks_write_errors;
	uint64_t socks_auth_failures, streams_closed;
	uint64_t streams_opened, streams_failed;
	unsigned streams_active;
	unsigned up_mtu, down_mtu; /* synced */
	int phase;		   /* enum below */
	uint8_t session_id;
};

enum eng_client_phase {
	ENG_CLI_STARTING,
	ENG_CLI_MTU,
	ENG_CLI_HANDSHAKE,
	ENG_CLI_CONNECTED,
	ENG_CLI_RECONNECTING,
	ENG_CLI_STOPPING,
	ENG_CLI_FAILED,
};

struct eng_client;

/* Engine events for the control socket: kind per docs/control-protocol.md
 * (resolver_*, session_init, session_reinit, error_drop, session_busy,
 * phase); resolver and detail may be NULL. */
typedef void eng_client_event_cb(
    void *arg, const char *kind, const char *resolver, const char *detail);

/*
 * A client on loop with a copy of cfg (the one configuration model,
 * common/config.h; its resolvers are handed to the pool and not kept).
 * NULL with e set when cfg has no domain or no resolver.
 */
struct eng_client *eng_client_new(
    struct ev_loop *loop, const struct cfg_client *cfg, struct err *e);
void eng_client_free(struct eng_client *c);
/*
 * Bind the local listener and start MTU discovery and the session.
 * *bound (may be NULL) gets the listener address. 0 or -1 with e set.
 */
int eng_client_start(
    struct eng_client *c, union net_addr *bound, struct err *e);
/*
 * Graceful stop: send SESSION_CLOSE (three times, 100 ms apart), then stop
 * the loop. Safe to call twice.
 */
void eng_client_stop(struct eng_client *c);
/*
 * Process one DNS answer as if it came from the resolver (the UDP reader
 * calls this; tests and the fuzzer call it directly). Never fails; bad
 * input is counted in bad_answers.
 */
void eng_client_handle_answer(
    struct eng_client *c, const uint8_t *msg, size_t len);
/*
 * Serve a connected local socket (fd, now owned by the client) as if the
 * listener had accepted it: SOCKS handshake (or TCP-forward) and stream.
 */
void eng_client_adopt(struct eng_client *c, int fd);
/*
 * Tests only: skip discovery and the handshake and act as connected with
 * this session id, cookie, MTUs and response mode (0 raw, 1 base64).
 */
void eng_client_force_session(struct eng_client *c, uint8_t sid, uint8_t cookie,
    unsigned up_mtu, unsigned down_mtu, int mode);
const struct eng_client_stats *eng_client_stats(const struct eng_client *c);
/* Where engine events go (NULL: nowhere). */
void eng_client_set_event_cb(
    struct eng_client *c, eng_client_event_cb *cb, void *arg);
/*
 * The STATUS object of docs/control-protocol.md (client role): a new
 * reference. list_max caps the resolver list (0: all). Reads only.
 */
json_t *eng_client_status_json(
    struct eng_client *c, const char *version, size_t list_max);
/* The client's counters as Prometheus text (malloc'd), or NULL. */
char *eng_client_metrics_text(struct eng_client *c);
/* Phase name as in the status ("mtu-testing", "connected", ...). */
const char *eng_client_phase_name(int phase);
/* Last fatal error text ("" when none), e.g. why MTU discovery failed. */
const char *eng_client_error(const struct eng_client *c);

#endif
