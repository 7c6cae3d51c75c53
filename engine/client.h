/* SPDX-License-Identifier: MIT */
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
	uint64_t stalls; /* times the session went stalled */
	uint64_t duplicates_sent, probes_sent, probes_answered;
	uint64_t socks_accepted, socks_read_errors, socks_write_errors;
	uint64_t socks_auth_failures, streams_closed;
	/* SOCKS requests by target: a host name (the tunnel's far end
	 * resolves it) or an IP literal (the application resolved the name
	 * itself, outside the tunnel; docs/checks.md "leak"). */
	uint64_t socks_req_name, socks_req_ip4, socks_req_ip6;
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

/* DNS through the tunnel (docs/dns-tunnel.md); monotonic. */
struct eng_client_dns_stats {
	/* where queries came from */
	uint64_t from_listener, from_socks, from_sink;
	uint64_t cache_hits;	/* answered from the local cache */
	uint64_t sent;		/* queries sent through the tunnel */
	uint64_t joined;	/* waited on an identical query in flight */
	uint64_t req_fragments; /* DNS_QUERY_REQ frames (first sends) */
	uint64_t req_acked;	/* ... acknowledged by the server */
	uint64_t req_resent;	/* ... sent again */
	uint64_t res_fragments; /* DNS_QUERY_RES frames received */
	uint64_t answers;	/* answers reassembled for a query of ours */
	uint64_t delivered;	/* answers handed to an application */
	/* failures by reason */
	uint64_t drop_not_ready; /* no session: dropped (upstream) */
	uint64_t drop_short, drop_not_request, drop_bad_question;
	uint64_t drop_too_big;	   /* query over 4096 bytes */
	uint64_t drop_full;	   /* pending or waiter bounds reached */
	uint64_t servfail_timeout; /* no answer in time: SERVFAIL */
	uint64_t servfail_session; /* session lost while waiting */
	uint64_t unsolicited;	   /* RES for no query of ours (acked) */
	uint64_t bad_answer;	   /* reassembled, not an answer to it */
	uint64_t frag_bad, frag_dup, frag_noroom;
	uint64_t socks_drop;	/* SOCKS UDP datagrams not carried */
	uint64_t socks_foreign; /* ... from another address */
	uint64_t socks_assocs;	/* UDP ASSOCIATE requests served */
	uint64_t cache_loaded, cache_saved;
};

struct eng_client;

/*
 * DNS sink: the application side of DNS through the tunnel, for callers
 * that are not the local listener or SOCKS (the tun device). cb gets the
 * answer for the query (its id and RD/CD bits), with the ctx bytes the
 * caller gave (copied; up to ENG_CLIENT_DNS_CTX_MAX), exactly once per
 * accepted query: from the cache (before eng_client_dns_query returns),
 * from the tunnel, or SERVFAIL after MDNS_LOCAL_DNS_ANSWER_TIMEOUT_SECONDS.
 */
#define ENG_CLIENT_DNS_CTX_MAX 512
typedef void eng_client_dns_cb(
    void *arg, const void *ctx, size_t ctxlen, const uint8_t *ans, size_t len);
/*
 * Resolve query[0..len) through the tunnel. 0 when taken (cb will run),
 * -1 when dropped as upstream drops it (no session, not a readable
 * request) or over the bounds; counted either way.
 */
int eng_client_dns_query(struct eng_client *c, const uint8_t *query, size_t len,
    const void *ctx, size_t ctxlen, eng_client_dns_cb *cb, void *arg);
/* No callback for any query taken with arg (the caller goes away). */
void eng_client_dns_cancel(struct eng_client *c, void *arg);
const struct eng_client_dns_stats *eng_client_dns_stats(
    const struct eng_client *c);
/* Latency of tunnel answers (query sent to answer complete), p = 50, 99;
 * microseconds, 0 without samples. */
uint64_t eng_client_dns_latency_us(const struct eng_client *c, double p);
/* The local DNS listener's address (LOCAL_DNS_ENABLED). 0, or -1. */
int eng_client_dns_addr(const struct eng_client *c, union net_addr *out);

/*
 * Full-VPN mode (docs/tun.md, engine/tun.h): a TUN device whose TCP flows
 * become streams of this client (no SOCKS hop) and whose mapped DNS
 * address goes into the DNS path above; every resolver of the pool gets
 * a host route through the original gateway first (removed when the pool
 * rejects it). After eng_client_new, before eng_client_start. Refused in
 * TCP mode (the server would send every flow to FORWARD_IP). 0 or -1
 * with e set (nothing left changed).
 */
struct tun_config;
struct tun_sys_config;
int eng_client_tun_start(struct eng_client *c, const struct tun_config *tc,
    const struct tun_sys_config *sc, struct err *e);
/* Restore routes and resolver configuration and close the device (every
 * step tried; -1 with the first error). Before eng_client_free, which
 * does it too when it was not done. */
int eng_client_tun_stop(struct eng_client *c, struct err *e);

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
/*
 * The phase the status shows: "stalled" when the session is connected
 * but no valid tunnel answer came for the stall timeout while queries
 * were out (docs/engine.md, "Liveness"), else eng_client_phase_name.
 */
const char *eng_client_phase_shown(const struct eng_client *c);
/* 1 when connected and not stalled: the tunnel carries traffic. */
int eng_client_live(const struct eng_client *c);
/*
 * The exit checks `connect --checks` runs beside the engine (docs/checks.md,
 * "Inside the client"): the engine only keeps their latest results for the
 * status, the metrics and the events; who runs them is the caller's
 * business (the engine never includes a probe).
 */
enum eng_client_check {
	ENG_CHECK_EXIT_IP, /* status "exit_ip" */
	ENG_CHECK_LEAK,	   /* status "leak" */
	ENG_CHECK_COUNT
};
/*
 * Set the latest result of a check: obj (the reference is taken) is the
 * status object, {"verdict": "ok|warning|critical|unknown|not tested",
 * "reason", "detail", "address", "evidence", "time_unix_ms", ...};
 * NULL makes it null again. When the verdict differs from the previous
 * one (null counts as "not tested"), an event "check" is raised with the
 * detail "NAME: OLD -> NEW (reason): detail".
 */
void eng_client_set_check(
    struct eng_client *c, enum eng_client_check which, json_t *obj);
/* The check's name in the status and metrics ("exit_ip", "leak"). */
const char *eng_client_check_name(enum eng_client_check which);

/* Last fatal error text ("" when none), e.g. why MTU discovery failed. */
const char *eng_client_error(const struct eng_client *c);

#endif
