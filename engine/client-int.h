/*
 * client-int.h — private structures shared by client.c (phases, query
 * pump, downstream dispatch) and client-stream.c (SOCKS front end, stream
 * data path). Not a public interface.
 */
#ifndef MDNS_CLIENT_INT_H
#define MDNS_CLIENT_INT_H

#include <stdio.h>

#include "engine/arq.h"
#include "engine/client.h"
#include "engine/txq.h"
#include "proto/wire.h"

#define CLI_RING_MASK 65535u

struct pool;

/* An MTU test, confirm or recheck of one pool connection. */
enum cli_probe_kind {
	CLI_PROBE_SWEEP,   /* upstream's full sweep (before ready) */
	CLI_PROBE_SYNCED,  /* first test after ready: synced sizes only */
	CLI_PROBE_RECHECK, /* pool recheck: synced sizes, recheck timeout */
	CLI_PROBE_CONFIRM, /* pool confirm: one upload probe, <= 1 s */
};

struct cli_probe {
	struct eng_client *c;
	uint32_t conn;
	enum cli_probe_kind kind;
	int stage, step; /* stage 0 upload, 1 download */
	unsigned lo, hi, l, h, cur, best, attempt, attempts, up_mtu;
	uint32_t code;
	int dns_id;
	uint64_t timer, timeout_us, sent_us;
	struct cli_probe *prev, *next;
};

enum cs_state {
	CS_GREET,	 /* SOCKS: waiting for the greeting */
	CS_AUTH,	 /* SOCKS5 user/password */
	CS_REQUEST,	 /* SOCKS: waiting for the request */
	CS_WAIT_SESSION, /* target known, no session yet */
	CS_CONNECTING,	 /* SYN sent, waiting for the result */
	CS_OPEN,
	CS_DEAD, /* RST sent or received: finishing */
};

struct cli_stream {
	struct eng_client *c;
	uint16_t id;
	int fd;
	int io_mask;
	enum cs_state state;
	int socks4;
	uint8_t in[600];
	size_t inlen;
	uint8_t target[300];
	size_t tlen;
	uint8_t out[32]; /* SOCKS reply still to write */
	size_t outlen;
	struct arq *arq;
	struct txq q;
	unsigned local_eof : 1, close_read_sent : 1, close_read_acked : 1;
	unsigned peer_close_read : 1, shut_wr : 1, peer_close_write : 1;
	unsigned write_broken : 1, close_write_sent : 1, replied : 1;
	uint64_t created;
	uint64_t bytes_up, bytes_down;
	int pooled; /* pool_stream_open was called */
};

struct eng_client {
	struct ev_loop *loop;
	struct cfg_client cfg; /* own copy (cfg_client_copy) */
	struct wire_cipher *cipher;
	struct pool *pool;
	int fd4, fd6; /* one unconnected UDP socket per family */
	int pool_ready;
	int force_id; /* next DNS id to use (SESSION_INIT copies), or -1 */
	struct cli_probe **probe_by_id; /* by DNS id */
	struct cli_probe *probes;
	unsigned nprobes;
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
	char error[256];
	struct eng_client_stats st;
	int stopping;
	/* query bookkeeping */
	uint16_t next_dns_id;
	uint64_t *sent_at; /* by DNS id; 0 = not in flight */
	uint16_t *ring;	   /* ids in send order */
	uint32_t ring_head, ring_tail;
	unsigned inflight;
	uint64_t dns_srtt; /* smoothed answer time */
	int have_srtt;	   /* dns_srtt holds at least one sample */
	unsigned want_polls;
	uint64_t last_send, last_traffic;
	uint64_t tick_timer, close_timer;
	unsigned close_rounds;
	/* MTU (synced by the pool) */
	uint32_t mtu_code;
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
	int32_t rr;
	/* streams, sorted by id */
	struct cli_stream **streams;
	size_t nstreams, cap;
	uint16_t next_stream_id;
	/* accepted connections waiting for a session/handshake (no id) */
	struct cli_stream **pending;
	size_t npending, pcap;
};

uint64_t cli_now(struct eng_client *c);
void cli_pump(struct eng_client *c);
void cli_handshake_answer(struct eng_client *c, const struct wire_frame *f);
void cli_event(struct eng_client *c, const char *kind, const char *resolver,
    const char *detail);

/* client-stream.c */
int cli_listen(struct eng_client *c, union net_addr *bound, struct err *e);
void cli_stream_frame(struct eng_client *c, const struct wire_frame *f,
    const uint8_t *payload, size_t plen);
void cli_streams_session_up(struct eng_client *c);
void cli_streams_reset_all(struct eng_client *c);
void cli_streams_session_lost(struct eng_client *c);
void cli_streams_tick(struct eng_client *c, uint64_t now);
void cli_streams_free_all(struct eng_client *c);

#endif
