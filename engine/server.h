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

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

#define ENG_SRV_MAX_DOMAINS 16

/* The settings the server reads from server_config.toml (upstream names in
 * comments); eng_server_cfg_defaults gives upstream's defaults. */
struct eng_server_cfg {
	char *domains[ENG_SRV_MAX_DOMAINS]; /* DOMAIN */
	size_t ndomains;
	int protocol_tcp;	 /* PROTOCOL_TYPE "TCP" (else SOCKS5) */
	unsigned up_comp_mask;	 /* SUPPORTED_UPLOAD_COMPRESSION_TYPES */
	unsigned down_comp_mask; /* SUPPORTED_DOWNLOAD_COMPRESSION_TYPES */
	char *udp_host;		 /* UDP_HOST */
	uint16_t udp_port;	 /* UDP_PORT */
	int method;		 /* DATA_ENCRYPTION_METHOD */
	char *key;		 /* contents of ENCRYPTION_KEY_FILE */
	char *key_file;		 /* ENCRYPTION_KEY_FILE */
	double invalid_cookie_window_s;	   /* INVALID_COOKIE_WINDOW_SECONDS */
	unsigned invalid_cookie_threshold; /* INVALID_COOKIE_ERROR_THRESHOLD */
	double session_timeout_s;	   /* SESSION_TIMEOUT_SECONDS */
	double session_cleanup_s;  /* SESSION_CLEANUP_INTERVAL_SECONDS */
	double closed_retention_s; /* CLOSED_SESSION_RETENTION_SECONDS */
	double init_reuse_s;	   /* SESSION_INIT_REUSE_TTL_SECONDS */
	double
	    recently_closed_stream_s;	/* RECENTLY_CLOSED_STREAM_TTL_SECONDS */
	double socks_connect_timeout_s; /* SOCKS_CONNECT_TIMEOUT */
	char *forward_ip;		/* FORWARD_IP (TCP mode) */
	uint16_t forward_port;		/* FORWARD_PORT */
	unsigned max_packets_per_batch; /* MAX_PACKETS_PER_BATCH */
	unsigned packed_dup;		/* PACKET_BLOCK_CONTROL_DUPLICATION */
	unsigned arq_window;		/* ARQ_WINDOW_SIZE */
	double arq_rto_s, arq_max_rto_s;	 /* ARQ_INITIAL_RTO/MAX_RTO */
	double arq_ctl_rto_s, arq_ctl_max_rto_s; /* ARQ_CONTROL_* */
	unsigned arq_max_ctl_retries;		 /* ARQ_MAX_CONTROL_RETRIES */
	unsigned arq_max_data_retries;		 /* ARQ_MAX_DATA_RETRIES */
	double arq_data_ttl_s, arq_ctl_ttl_s;
	unsigned arq_nack_gap;	  /* ARQ_DATA_NACK_MAX_GAP */
	double arq_nack_delay_s;  /* ARQ_DATA_NACK_INITIAL_DELAY_SECONDS */
	double arq_nack_repeat_s; /* ARQ_DATA_NACK_REPEAT_SECONDS */
	unsigned max_sessions;	  /* MAX_ALLOWED_CLIENT_ACTIVE_SESSION */
	unsigned
	    max_streams; /* MAX_ALLOWED_CLIENT_ACTIVE_STREAMS_PER_SESSION */
	/* Client policy sent in SESSION_ACCEPT bytes 7..19. */
	unsigned pol_dup, pol_setup_dup, pol_up_mtu, pol_down_mtu;
	unsigned pol_workers, pol_batch, pol_window, pol_nack_gap;
	unsigned pol_comp_min;
	double pol_ping_s, pol_rto_s;
	/* Ours: CIDRs the target filter lets through (MDNS_ALLOW_TARGETS). */
	char **allow;
	size_t nallow;
};

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
	uint64_t drop_bad_cookie, error_drop_sent;
	uint64_t filter_denied, connect_failed, connect_ok;
	uint64_t bytes_up, bytes_down; /* stream payload bytes */
	uint64_t resolve_started, resolve_failed;
};

struct eng_server;

/* Upstream defaults (and domain list empty, key NULL). */
void eng_server_cfg_defaults(struct eng_server_cfg *c);
/*
 * Read server_config.toml into c (over the defaults already in it) and the
 * key file it names (relative to the config's directory). Returns 0, or -1
 * with e set ("FILE:LINE: reason").
 */
int eng_server_cfg_load(
    struct eng_server_cfg *c, const char *path, struct err *e);
/* Free the strings a cfg owns. */
void eng_server_cfg_free(struct eng_server_cfg *c);

/*
 * A server over loop (which must outlive it) with a copy of cfg. Does not
 * open sockets. Returns NULL with e set on bad settings (no domain, bad
 * method or key, bad allow CIDR).
 */
struct eng_server *eng_server_new(
    struct ev_loop *loop, const struct eng_server_cfg *cfg, struct err *e);
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

/* Override the clock (tests): microseconds, monotonic. NULL = the loop's. */
void eng_server_set_clock(
    struct eng_server *s, uint64_t (*now_us)(void *), void *arg);

/*
 * Tests only: the cookie the next new session gets (0..255), instead of a
 * random byte; -1 restores random cookies. Lets a replay of captured
 * traffic continue with the cookie the real server handed out.
 */
void eng_server_force_cookie(struct eng_server *s, int cookie);

/* Expire idle sessions and run ARQ timers now (the loop does it itself). */
void eng_server_tick(struct eng_server *s);

const struct eng_server_stats *eng_server_stats(const struct eng_server *s);

/*
 * The server's STATUS object for the control socket (server role of
 * docs/control-protocol.md); a new reference. server-ctl.c.
 */
json_t *eng_server_status_json(const struct eng_server *s, const char *version,
    uint64_t uptime_ms, int stopping);
/* The counters as Prometheus text (malloc'd), or NULL on failure. */
char *eng_server_metrics_text(const struct eng_server *s, uint64_t uptime_ms);

#endif
