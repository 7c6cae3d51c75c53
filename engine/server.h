/* SPDX-License-Identifier: MIT */
/*
 * server.h — the tunnel server (`mdns-doctor serve`): the authoritative DNS
 * server for the tunnel domain(s), speaking the MasterDnsVPN Go wire
 * protocol (wire-protocol.md 1.6–1.13). One thread, one event loop; every
 * upstream connect and name lookup is asynchronous.
 *
 * The packet handler (eng_server_handle) is a plain function from one
 * received DNS message to at most one answer, so tests and the fuzzer can
 * drive the whole server in-process without sockets.
 */
#ifndef MDNS_SERVER_H
#define MDNS_SERVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

/* Counters (monotonic unless named *_active). */
struct eng_server_stats {
	uint64_t queries; /* UDP payloads handled */
	uint64_t ans_tunnel, ans_nodata, ans_nxdomain, ans_formerr;
	uint64_t ans_none; /* silence (not a request, unanswerable) */
	uint64_t mtu_up, mtu_down;
	uint64_t sessions_created, sessions_reused, sessions_busy;
	uint64_t sessions_closed, sessions_expired;
	unsigned sessions_active;
	uint64_t streams_opened, streams_closed;
	unsigned streams_active;
	uint64_t drop_decode; /* undecodable in-zone names */
	uint64_t drop_qmin;   /* resolvers' QNAME-minimisation steps */
	uint64_t drop_bad_cookie, error_drop_sent;
	uint64_t filter_denied, connect_failed, connect_ok;
	uint64_t bytes_up, bytes_down; /* stream payload bytes */
	uint64_t resolve_started, resolve_failed;
};

/* DNS through the tunnel (docs/dns-tunnel.md); monotonic. */
struct eng_server_dns_stats {
	uint64_t req_fragments; /* DNS_QUERY_REQ frames taken */
	uint64_t queries;	/* reassembled queries */
	uint64_t acks_sent;	/* DNS_QUERY_REQ_ACK queued */
	uint64_t cache_hits;	/* answered from the server cache */
	uint64_t resolved;	/* sent to DNS_UPSTREAM_SERVERS */
	uint64_t answers;	/* answers sent (DNS_QUERY_RES messages) */
	uint64_t res_fragments; /* DNS_QUERY_RES frames (first sends) */
	uint64_t res_acked;	/* ... acknowledged by the client */
	uint64_t res_resent;	/* ... sent again (no RES_ACK in time) */
	uint64_t res_expired;	/* ... given up (control retries) */
	/* failures by reason */
	uint64_t drop_short, drop_not_request;	    /* no answer (upstream) */
	uint64_t formerr, notimp;		    /* answered here */
	uint64_t servfail_timeout, servfail_failed; /* resolvers */
	uint64_t servfail_local; /* no resolver, too big, no room */
	uint64_t refused_busy;	 /* resolver tables full: left unacked */
	uint64_t frag_bad;	 /* bad fragments (acked, dropped) */
	uint64_t frag_dup;	 /* copies of held or completed ones */
	uint64_t frag_noroom;	 /* over the reassembly bounds */
	uint64_t too_big;	 /* query over 4096 bytes */
	uint64_t ack_unknown;	 /* RES_ACK for nothing we hold */
};

/*
 * What the server refused to hold or do for its clients (issue 19,
 * docs/security.md); monotonic unless named as a gauge.
 */
struct eng_server_guard_stats {
	/* item 2: memory */
	uint64_t drop_comp;	  /* compression the session did not agree */
	uint64_t drop_inflate;	  /* would inflate past the bound */
	uint64_t drop_preconnect; /* data for a stream not connected yet */
	uint64_t drop_stream_budget, drop_session_budget, drop_server_budget;
	uint64_t syn_too_big; /* SOCKS5_SYN past its byte bound */
	uint64_t syn_timeout; /* streams whose SYN never completed */
	uint64_t rx_held;     /* gauge: received bytes held in ARQs */
	/* item 3: work per query */
	uint64_t packed_blocks;	 /* packed blocks worked through */
	uint64_t packed_cut;	 /* packed blocks past the per-frame bound */
	uint64_t orphan_dropped; /* replies refused: orphan lane full */
	/* item 5: streams and descriptors */
	uint64_t streams_refused; /* server-wide stream cap */
	uint64_t conn_refused;	  /* upstream connection caps */
	uint64_t upstream_conns;  /* gauge */
	/* item 6: reflection */
	uint64_t ans_truncated;	  /* TC: over the asker's UDP size */
	uint64_t src_answer_drop; /* per-source answer bytes spent */
	/* item 4: sessions */
	uint64_t init_rate_drop;    /* SESSION_INIT over the source's rate */
	uint64_t cookie_src_drop;   /* invalid cookies past the threshold */
	uint64_t sessions_reserved; /* INIT refused: reserved share */
};

/*
 * The bounds of what one client can make the server hold or do (issue
 * 19; the defaults and why: docs/security.md "Tunnel user"). Fixed at
 * creation from constants and the descriptor limit; tests set smaller
 * ones with eng_server_set_limits.
 */
struct eng_server_limits {
	size_t stream_rx;	/* received bytes held per stream ... */
	size_t stream_rx_hard;	/* ... and for its next in-order frame */
	size_t session_rx;	/* per session */
	size_t server_rx;	/* all sessions */
	unsigned streams_max;	/* streams of all sessions */
	unsigned conn_session;	/* upstream connections per session */
	unsigned conn_max;	/* and of all sessions */
	unsigned packed_blocks; /* blocks of one packed frame worked */
	unsigned orphan_max;	/* replies queued on a session's orphan lane */
};

struct eng_server;

/*
 * A server over loop (which must outlive it) with a copy of cfg (the one
 * configuration model, common/config.h). Does not open sockets. Returns
 * NULL with e set on bad settings (no domain, no key for the method, bad
 * allow CIDR).
 */
struct eng_server *eng_server_new(
    struct ev_loop *loop, const struct cfg_server *cfg, struct err *e);
void eng_server_free(struct eng_server *s);

/*
 * Bind the UDP listener at addr (port 0 picks a free one) and serve on the
 * loop. Returns 0 or -1 with e set. *bound (if not NULL) gets the address.
 */
int eng_server_listen(struct eng_server *s, const union net_addr *addr,
    union net_addr *bound, struct err *e);

/*
 * Handle one received DNS message; write the answer into out (cap bytes,
 * 65535 is always enough) and return its length, or 0 for no reply.
 * Never fails otherwise and never crashes on any input.
 */
size_t eng_server_handle(struct eng_server *s, const uint8_t *msg, size_t len,
    uint8_t *out, size_t cap);
/*
 * The same for a message from `from` (the UDP source): per-source limits
 * (INIT rate, invalid cookies, answer bytes) apply to it. from NULL = no
 * source known (eng_server_handle): those limits are not applied.
 */
size_t eng_server_handle_from(struct eng_server *s, const union net_addr *from,
    const uint8_t *msg, size_t len, uint8_t *out, size_t cap);

/* Override the clock (tests): microseconds, monotonic. NULL = the loop's. */
void eng_server_set_clock(
    struct eng_server *s, uint64_t (*now_us)(void *), void *arg);

/*
 * Tests only: the cookie the next new session gets (0..255), instead of a
 * random byte; -1 restores random cookies. Lets a replay of captured
 * traffic continue with the cookie the real server handed out.
 */
void eng_server_force_cookie(struct eng_server *s, int cookie);
/* Tests only: the id the next new session gets (1..255) when free,
 * instead of a random free one; -1 restores random ids. */
void eng_server_force_session_id(struct eng_server *s, int id);

/* Expire idle sessions and run ARQ timers now (the loop does it itself). */
void eng_server_tick(struct eng_server *s);

const struct eng_server_stats *eng_server_stats(const struct eng_server *s);
const struct eng_server_guard_stats *eng_server_guard_stats(
    const struct eng_server *s);
void eng_server_get_limits(
    const struct eng_server *s, struct eng_server_limits *l);
void eng_server_set_limits(
    struct eng_server *s, const struct eng_server_limits *l);
/* DNS through the tunnel: counters, latency (microseconds, REQ complete
 * to answer queued; p = 50, 99) and holdings. */
const struct eng_server_dns_stats *eng_server_dns_stats(
    const struct eng_server *s);
uint64_t eng_server_dns_latency_us(const struct eng_server *s, double p);

/*
 * The server's STATUS object for the control socket (server role of
 * docs/control-protocol.md); a new reference. server-ctl.c.
 */
json_t *eng_server_status_json(const struct eng_server *s, const char *version,
    uint64_t uptime_ms, int stopping);
/* The counters as Prometheus text (malloc'd), or NULL on failure. */
char *eng_server_metrics_text(const struct eng_server *s, uint64_t uptime_ms);

#endif
