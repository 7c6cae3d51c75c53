/* SPDX-License-Identifier: MIT */
/*
 * server-int.h — the server's private data, shared by server.c (packet
 * handler, sessions, polling), server-stream.c (a session's streams:
 * upstream connects and stream I/O) and server-ctl.c (status). Data only:
 * each file's functions are declared in its own header (server-stream.h)
 * or in the public engine/server.h. Not a public interface.
 */
#ifndef MDNS_SERVER_INT_H
#define MDNS_SERVER_INT_H

#include "common/hmap.h"
#include "engine/dns-cache.h"
#include "engine/dns-report.h"
#include "engine/dns-upstream.h"
#include "engine/fec.h"
#include "engine/filter.h"
#include "engine/resolve.h"
#include "engine/server.h"
#include "engine/stream.h"
#include "proto/wire.h"

enum sst_state {
	SST_SYN, /* SYN fragments arriving */
	SST_RESOLVING,
	SST_CONNECTING,
	SST_OPEN,
	SST_FAILED, /* failure frame sent, awaiting its ACK */
	SST_RESET,  /* RST sent, awaiting RST_ACK */
};

struct srv_session;
struct srv_source;
struct srv_sources;

struct srv_stream {
	struct stream s; /* the core: id, socket, ARQ, queue, half-close */
	struct srv_session *sess;
	enum sst_state state;
	/* SOCKS5_SYN fragments */
	uint8_t syn_total, syn_have, syn_started;
	uint16_t syn_seq;
	uint8_t *syn_frag[256];
	uint16_t syn_len[256];
	struct eng_resolve_req *rq;
	union net_addr addrs[ENG_RESOLVE_MAX_ADDRS];
	size_t naddrs, addr_i;
	uint64_t timer;
	uint64_t last_activity;
	struct srv_fec_grp *fec; /* download FEC group (server-fec.c) */
	uint64_t created;
	size_t rx_acct;	    /* ARQ bytes counted in the totals */
	uint16_t syn_bytes; /* SOCKS5_SYN payload held */
	uint8_t conn_counted;
};

/* A ring of the ids closed last, oldest first (server-stream.c). */
struct srv_rclosed {
	uint64_t at;
	uint16_t id;
	uint8_t live; /* 0: closed again later, a newer entry counts */
};

struct srv_ctrack {
	uint64_t hits[32];
	unsigned nhits;
	uint64_t last_emit;
};

enum { SESS_NONE = 0, SESS_ACTIVE, SESS_CLOSED };

struct srv_session {
	struct eng_server *srv;
	int state;
	uint8_t id, cookie, mode, up_comp, down_comp;
	uint8_t sig[WIRE_SESSION_INIT_LEN];
	uint16_t up_mtu, down_mtu;
	unsigned max_blocks;
	uint64_t created, reuse_until, last_activity, closed_at;
	struct stream_table streams; /* struct srv_stream, by id */
	struct txq q0;		     /* stream 0 (session-level) */
	struct txq orphan;	     /* RST / ACK for unknown streams */
	int32_t rr;
	struct srv_rclosed *rclosed; /* SRV_RCLOSED_MAX, lazily */
	size_t rc_head, nrclosed;
	struct hmap rcmap;	   /* id -> ring index: O(1) per frame */
	struct srv_ctrack *ctrack; /* 256 entries, lazily */
	uint8_t *last_packed;
	size_t last_packed_len;
	unsigned last_packed_left;
	struct arq *dns_arq;   /* stream 0: DNS_QUERY_RES until acked */
	struct fec_params fec; /* negotiated download FEC (server-fec.c) */
	size_t rx_held;	       /* received stream bytes held (budget) */
	unsigned nconns;       /* upstream connections open */
};

struct srv_dns_job;

/* DNS through the tunnel (server-dns.c). */
struct srv_dns {
	struct dnstun_reasm *reasm;
	struct dnscache *cache;
	struct dnsup *up;	  /* NULL without a loop */
	struct srv_dns_job *jobs; /* resolutions in flight */
	unsigned njobs;
	uint64_t next_expire;
	struct eng_server_dns_stats st;
	struct dnsrep_lat lat;
	uint8_t *buf, *ans; /* DNSTUN_MSG_MAX each */
};

struct eng_server {
	struct ev_loop *loop;
	struct cfg_server cfg; /* own copy (cfg_server_copy) */
	struct wire_cipher *cipher;
	struct eng_filter *filter;
	struct eng_resolver *resolver;
	struct srv_session sess[256];
	unsigned nactive;
	unsigned unknown_drop_ctr;
	int force_cookie;
	int fd;
	uint64_t tick_timer;
	uint64_t (*clock)(void *);
	void *clock_arg;
	struct arq_config arqc;
	struct eng_server_stats st;
	struct eng_server_guard_stats gst; /* server-budget.c; its rx_held and
					   * upstream_conns are the budget counts */
	struct eng_server_limits lim;	   /* server-budget.c */
	struct srv_dns *dns;
	struct srv_leak *leak; /* MDNS_LEAK_ZONE (server-leak.h), or NULL */
	struct eng_fec_stats fec_st; /* download FEC (server-fec.c) */
	struct arq_stats arq_done;   /* ARQ counters of freed streams */
	const union net_addr *from;  /* source of the query being handled */
	struct srv_source *from_src; /* its record (server-source.c), NULL
					* until looked up */
	struct srv_sources *sources; /* server-source.c */
	int force_id;		     /* tests: the next session's id */
	int in_session;		     /* the query is a working session's */
	uint8_t *rxbuf, *txbuf;
	/* refused SOCKS targets logged at the default level, at most
	 * SRV_DENY_LOG_MAX per SRV_DENY_LOG_WINDOW (server-stream.c) */
	uint64_t deny_window;
	unsigned deny_logged;
	uint64_t deny_unlogged;
};

/* The server's clock: the test override, else the loop's time. */
static inline uint64_t
srv_now(const struct eng_server *s)
{
	if (s->clock != NULL)
		return s->clock(s->clock_arg);
	return s->loop != NULL ? ev_now_us(s->loop) : now_mono_us();
}

#endif
