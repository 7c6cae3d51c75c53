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

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

#define ENG_CLI_MAX_DOMAINS 16

/* client_config.toml settings the engine reads (upstream names). */
struct eng_client_cfg {
	char *domains[ENG_CLI_MAX_DOMAINS]; /* DOMAINS */
	size_t ndomains;
	int method;			 /* DATA_ENCRYPTION_METHOD */
	char *key;			 /* ENCRYPTION_KEY */
	int protocol_tcp;		 /* PROTOCOL_TYPE "TCP" */
	char *listen_ip;		 /* LISTEN_IP */
	uint16_t listen_port;		 /* LISTEN_PORT */
	int socks_auth;			 /* SOCKS5_AUTH */
	char *socks_user, *socks_pass;	 /* SOCKS5_USER / SOCKS5_PASS */
	int base64;			 /* BASE_ENCODE_DATA */
	int up_comp, down_comp;		 /* UPLOAD/DOWNLOAD_COMPRESSION_TYPE */
	unsigned comp_min;		 /* COMPRESSION_MIN_SIZE */
	unsigned min_up_mtu, max_up_mtu; /* MIN/MAX_UPLOAD_MTU */
	unsigned min_down_mtu, max_down_mtu; /* MIN/MAX_DOWNLOAD_MTU */
	unsigned mtu_retries;		     /* MTU_TEST_RETRIES */
	double mtu_timeout_s;		     /* MTU_TEST_TIMEOUT */
	unsigned max_batch;		     /* MAX_PACKETS_PER_BATCH */
	unsigned arq_window;		     /* ARQ_WINDOW_SIZE */
	double arq_rto_s, arq_max_rto_s;
	double arq_ctl_rto_s, arq_ctl_max_rto_s;
	unsigned arq_max_ctl_retries, arq_max_data_retries;
	double arq_data_ttl_s, arq_ctl_ttl_s;
	unsigned arq_nack_gap;
	double arq_nack_delay_s, arq_nack_repeat_s;
	double ping_aggr_s, ping_lazy_s, ping_cool_s, ping_cold_s;
	double ping_warm_thr_s, ping_cool_thr_s, ping_cold_thr_s;
	double init_retry_base_s, init_busy_retry_s;
	/* Resolvers (client_resolvers.txt). */
	union net_addr *resolvers;
	size_t nresolvers;
	/* Ours: queries kept in flight at most (MDNS_MAX_INFLIGHT). */
	unsigned max_inflight;
	/* Resolver pool (docs/pool.md; upstream names). */
	int strategy;		    /* RESOLVER_BALANCING_STRATEGY */
	unsigned dup, setup_dup;    /* PACKET_/SETUP_PACKET_DUPLICATION_COUNT */
	unsigned failover_resends;  /* STREAM_RESOLVER_FAILOVER_RESEND_... */
	double failover_cooldown_s; /* STREAM_RESOLVER_FAILOVER_COOLDOWN */
	int auto_disable;	    /* AUTO_DISABLE_TIMEOUT_SERVERS */
	double disable_window_s;    /* AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS */
	double packet_timeout_s;    /* TUNNEL_PACKET_TIMEOUT_SECONDS */
	unsigned mtu_parallelism;   /* MTU_TEST_PARALLELISM */
	int recheck;		    /* RECHECK_INACTIVE_SERVERS_ENABLED */
	int remove_low_mtu;	    /* AUTO_REMOVE_LOW_MTU_SERVERS */
	/* Ours: fast start (MDNS_READY_MIN, MDNS_READY_WAIT_SECONDS,
	 * MDNS_START_PARALLELISM). */
	unsigned ready_min, start_parallelism;
	double ready_wait_s;
};

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

void eng_client_cfg_defaults(struct eng_client_cfg *c);
/* Read client_config.toml over the defaults; 0 or -1 ("FILE:LINE: ..."). */
int eng_client_cfg_load(
    struct eng_client_cfg *c, const char *path, struct err *e);
/* Append the resolvers of a client_resolvers.txt; 0 or -1. */
int eng_client_cfg_resolvers(
    struct eng_client_cfg *c, const char *path, struct err *e);
/*
 * Lay a JSON profile (mobile-client format, common/profile.h) over c:
 * its domains replace c's, its resolvers are appended, its method and key
 * (or key file, relative to the profile) replace c's. FEC settings are
 * ignored (not upstream). 0, or -1 with e set.
 */
int eng_client_cfg_profile(
    struct eng_client_cfg *c, const char *path, struct err *e);
void eng_client_cfg_free(struct eng_client_cfg *c);

/* A client on loop with a copy of cfg; NULL with e set on bad settings. */
struct eng_client *eng_client_new(
    struct ev_loop *loop, const struct eng_client_cfg *cfg, struct err *e);
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
