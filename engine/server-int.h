/*
 * server-int.h — private structures shared by the server's files
 * (server.c: packet handler, sessions, polling; server-stream.c: upstream
 * connects and stream I/O). Not a public interface.
 */
#ifndef MDNS_SERVER_INT_H
#define MDNS_SERVER_INT_H

#include "engine/arq.h"
#include "engine/filter.h"
#include "engine/resolve.h"
#include "engine/server.h"
#include "engine/txq.h"
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

struct srv_stream {
	struct srv_session *sess;
	uint16_t id;
	enum sst_state state;
	int fd;
	int io_mask; /* EV_READ/EV_WRITE registered */
	struct arq *arq;
	struct txq q;
	/* SOCKS5_SYN fragments */
	uint8_t syn_total, syn_have, syn_started;
	uint16_t syn_seq;
	uint8_t *syn_frag[256];
	uint16_t syn_len[256];
	struct eng_resolve_req *rq;
	union net_addr addrs[ENG_RESOLVE_MAX_ADDRS];
	size_t naddrs, addr_i;
	uint64_t timer;
	/* half-close */
	unsigned local_eof : 1, close_read_sent : 1, close_read_acked : 1;
	unsigned peer_close_read : 1, shut_wr : 1, peer_close_write : 1;
	unsigned write_broken : 1, close_write_sent : 1;
	uint64_t last_activity;
};

struct srv_rclosed {
	uint16_t id;
	uint64_t at;
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
	struct srv_stream **streams; /* sorted by id */
	size_t nstreams, cap;
	struct txq q0;	   /* stream 0 (session-level) */
	struct txq orphan; /* RST / ACK for unknown streams */
	int32_t rr;
	struct srv_rclosed *rclosed;
	size_t nrclosed, rccap;
	struct srv_ctrack *ctrack; /* 256 entries, lazily */
	uint8_t *last_packed;
	size_t last_packed_len;
	unsigned last_packed_left;
};

struct eng_server {
	struct ev_loop *loop;
	struct cfg_server cfg; /* own copy (cfg_server_copy) */
	struct wire_cipher *cipher;
	struct eng_filter *filter;
	struct eng_resolver *resolver;
	struct srv_session sess[256];
	unsigned nactive;
	unsigned next_id;
	unsigned unknown_drop_ctr;
	int force_cookie;
	int fd;
	uint64_t tick_timer;
	uint64_t (*clock)(void *);
	void *clock_arg;
	struct arq_config arqc;
	struct eng_server_stats st;
	uint8_t *rxbuf, *txbuf;
};

uint64_t srv_now(struct eng_server *s);

/* server-stream.c */
struct srv_stream *srv_stream_new(struct srv_session *ss, uint16_t id);
void srv_stream_free(struct srv_stream *st);
/* Remove from the session (recently closed list), close and free. */
void srv_stream_finish(struct srv_stream *st);
void srv_stream_syn_fragment(struct srv_stream *st, const struct wire_frame *f);
void srv_stream_tcp_syn(struct srv_stream *st, uint16_t seq);
void srv_stream_data(
    struct srv_stream *st, const uint8_t *p, size_t n, uint16_t seq);
void srv_stream_progress(struct srv_stream *st);
void srv_stream_tick(struct srv_stream *st, uint64_t now);
/* Session helpers in server.c used by streams. */
struct srv_stream *srv_stream_find(struct srv_session *ss, uint16_t id);
void srv_session_unlink_stream(struct srv_session *ss, struct srv_stream *st);
void srv_orphan(
    struct srv_session *ss, uint8_t type, uint16_t stream, uint16_t seq);

#endif
