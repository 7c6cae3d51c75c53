/* SPDX-License-Identifier: MIT */
/*
 * client-int.h — the client's private data, shared by its files. Data
 * only: each file's functions are declared in its own header, so the
 * calls point one way:
 *
 *   client.c          lifecycle, sockets, timers, the answer's walk
 *     -> client-session.c  handshake, session, downstream frames
 *     -> client-stream.c   local listener, SOCKS front end, streams
 *     -> client-query.c    DNS ids, query slots, sending, the pump
 *     -> engine/stream.c, pool*.c, socks.c, proto/
 *   client-ctl.c      status and metrics (reads only)
 *   client-peers.c    recent SOCKS clients and their request targets
 *
 * Not a public interface.
 */
#ifndef MDNS_CLIENT_INT_H
#define MDNS_CLIENT_INT_H

#include <stdio.h>

#include "engine/arq.h"
#include "engine/client-peers.h"
#include "engine/dns-cache.h"
#include "engine/dns-report.h"
#include "engine/client.h"
#include "engine/socks.h"
#include "engine/stream.h"
#include "engine/txq.h"
#include "proto/wire.h"

#define ECL_RING_MASK 65535u
#define ECL_BUF	      65536 /* one UDP datagram, one frame, one inflated */

struct pool;
struct ecl_fec;	   /* client-fec.c */
struct ecl_fec_rx; /* client-fec.c */

/* An application waiting for a DNS answer (client-dns.c). */
struct ecl_dns_waiter {
	struct ecl_dns_waiter *next;
	eng_client_dns_cb *cb;
	void *arg;
	uint64_t deadline;
	uint16_t qlen, ctxlen;
	uint8_t data[]; /* the query, then ctx */
};

/* A query in flight through the tunnel, by seq. */
struct ecl_dns_pend {
	uint16_t seq;
	uint16_t id; /* DNS id of the query carried */
	uint8_t nfrags;
	uint64_t sent_at;
	struct dnstun_question q;
	struct ecl_dns_waiter *w;
	unsigned nw;
};

struct ecl_udp;
struct ecl_tun;

/* DNS through the tunnel, the client's half (client-dns.c). */
struct ecl_dns {
	int fd; /* local listener, -1 when off */
	struct dnscache *cache;
	struct dnstun_reasm *reasm;
	struct ecl_dns_pend *pend; /* ECL_DNS_MAX_PEND */
	size_t npend;
	unsigned nwaiters;
	unsigned poll_credit; /* polls after PONG while answers are due */
	uint64_t poll_delay;  /* then polls on a timer, backing off */
	uint64_t poll_timer;
	uint16_t next_seq;
	char *cache_path; /* NULL: no persistence */
	uint64_t next_flush, next_expire;
	struct eng_client_dns_stats st;
	struct dnsrep_lat lat;
	struct ecl_udp *udp; /* SOCKS UDP associations (client-udp.c) */
	uint8_t *buf, *ans;  /* DNSTUN_MSG_MAX each */
};

enum ecl_stream_state {
	ECL_SOCKS,	  /* SOCKS handshake in progress */
	ECL_WAIT_SESSION, /* target known, no session yet */
	ECL_CONNECTING,	  /* SYN sent, waiting for the result */
	ECL_OPEN,
	ECL_DEAD, /* RST sent or received: finishing */
};

struct ecl_stream {
	struct stream s; /* the core: id, socket, ARQ, queue, half-close */
	struct eng_client *c;
	enum ecl_stream_state state;
	struct socks socks; /* parser state and the target */
	uint8_t in[600];    /* handshake bytes not consumed yet */
	size_t inlen;
	int replied;
	uint64_t created;
	uint64_t bytes_up, bytes_down;
	int pooled;		/* pool_stream_open was called */
	struct ecl_fec_rx *fec; /* download FEC receiver (client-fec.c) */
};

struct eng_client {
	struct ev_loop *loop;
	struct cfg_client cfg; /* own copy (cfg_client_copy) */
	struct wire_cipher *cipher;
	struct pool *pool;
	int fd4, fd6; /* one unconnected UDP socket per family */
	int pool_ready;
	int force_id; /* next DNS id to use (SESSION_INIT copies), or -1 */
	eng_client_event_cb *ev_cb;
	void *ev_arg;
	uint64_t started_us;
	int64_t established_ms; /* wall clock of the last ACCEPT */
	int has_policy;
	struct wire_policy policy;
	unsigned cap_dup, cap_setup_dup; /* duplication clamped by policy */
	struct arq_stats arq_done;	 /* of freed streams */
	/* traffic rate samples, one a second (ring of 8) */
	struct {
		uint64_t t, up, down, q;
	} rate[8];
	unsigned nrate;
	uint64_t rate_next;
	int listen_fd;
	struct net_acceptor *acc; /* the SOCKS listener's accept loop */
	char error[512];
	struct eng_client_stats st;
	int stopping;
	/* query bookkeeping */
	uint16_t next_dns_id;
	uint64_t *sent_at; /* by DNS id; 0 = not in flight */
	uint16_t *ring;	   /* ids in send order */
	uint32_t ring_head, ring_tail;
	unsigned inflight;
	uint64_t dns_srtt;   /* smoothed answer time */
	uint64_t dns_rttvar; /* its mean deviation (RFC 6298) */
	int have_srtt;	     /* dns_srtt holds at least one sample */
	unsigned want_polls;
	/* a timer at the oldest query's expiry while every slot is taken
	 * (0 none), and when it fires */
	uint64_t expire_timer, expire_at;
	uint64_t last_send, last_traffic;
	/* liveness (client-session.c): the last valid tunnel answer on the
	 * session (monotonic clock; 0 none), the first query sent
	 * since (0: none out), the stall threshold and whether it passed */
	uint64_t live_us;
	uint64_t unanswered_since;
	uint64_t stall_us;
	int stalled;
	/* what the MTU probes' answers were, for the diagnosis when every
	 * test failed (client.c pool_give_up) */
	struct {
		uint64_t answers, nodata, nxdomain, refused, servfail, other;
	} probe_rc;
	uint64_t last_busy; /* last answer that was not a bare PONG */
	uint64_t tick_timer, close_timer;
	unsigned close_rounds;
	/* MTU (synced by the pool) */
	unsigned up_mtu, down_mtu;
	/* handshake */
	struct wire_session_init init;
	uint16_t init_dns_id;
	unsigned init_copies, init_fails;
	uint64_t init_timer;
	/* session */
	uint8_t sid, cookie;
	int mode, up_comp, down_comp;
	unsigned sess_up_mtu, sess_down_mtu, comp_min, max_blocks;
	double min_ping_s;
	struct arq_config arqc_cfg, arqc;
	struct txq q0;
	struct arq *arq0; /* stream 0: DNS_QUERY_REQ until acked */
	struct ecl_dns dns;
	int32_t rr;
	/* streams with an id (struct ecl_stream), by id */
	struct stream_table streams;
	uint16_t next_stream_id;
	/* accepted connections waiting for a session/handshake (no id) */
	struct ecl_stream **pending;
	size_t npending, pcap;
	struct ecl_tun *tun; /* full-VPN mode (client-tun.c), or NULL */
	/* buffers (ECL_BUF each): a datagram, its frame, inflated payload */
	uint8_t *rxbuf, *fbuf, *ibuf;
	struct ecl_fec *fec; /* download FEC (client-fec.c), NULL until used */
	struct ecl_peers peers; /* recent SOCKS clients (client-peers.c) */
	/* connect --checks (client-ctl.c): the latest result of each exit
	 * check as its status object, NULL while not tested */
	json_t *checks[ENG_CHECK_COUNT];
};

/* The i-th stream in id order. */
static inline struct ecl_stream *
ecl_stream_at(const struct eng_client *c, size_t i)
{
	return STREAM_OWNER(c->streams.v[i], struct ecl_stream, s);
}

#endif
