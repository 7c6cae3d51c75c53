/* SPDX-License-Identifier: MIT */
/*
 * config-keys.c — every key of client_config.toml and server_config.toml
 * (and our MDNS_* keys) written once: its default, the field of the role
 * struct it fills, and the rule upstream's finalizeClientConfig /
 * finalizeServerConfig applies (internal/config/client.go, server.go at
 * bc69a58, read for behaviour only). The tables are in upstream's order of
 * evaluation, so a bound taken from another key (ARQ_MAX_RTO_SECONDS is
 * at least ARQ_INITIAL_RTO_SECONDS) sees that key's effective value, and
 * problems come out in the order upstream would meet them.
 *
 * Rules: a value below `below` (floats: 0 or less) takes a fallback, then
 * is kept within lo..hi; or a value outside lo..hi is refused (upstream
 * will not start); strings may be trimmed, upper-cased, or take their
 * default when empty. Keys whose rule is more than that have a hook.
 * Every change is noted on the key and marks its source "clamped".
 *
 * Also here, because they walk the same tables: the effective values as
 * JSON, deep copies and freeing of the role structs. Loading is config.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config-int.h"
#include "common/method.h"

enum kind {
	K_STR,	/* char * */
	K_BOOL, /* int */
	K_INT,	/* int */
	K_UINT, /* unsigned */
	K_PORT, /* uint16_t */
	K_DBL,	/* double */
	K_STRV, /* char ** and a size_t count at off_n */
	K_MASK, /* unsigned, bit per compression type, from an int list */
};

struct fill;
typedef void hook_fn(struct fill *f);

struct key {
	const char *name;
	const char *dflt; /* TOML literal; its type is the key's type */
	unsigned char kind;
	unsigned secret : 1;	 /* never shown, only fingerprinted */
	unsigned extra : 1;	 /* listed only when written */
	unsigned trim : 1;	 /* surrounding white space removed */
	unsigned upper : 1;	 /* upper-cased */
	unsigned empty_dflt : 1; /* "" takes the default */
	unsigned has_fb : 1;	 /* below `below` (floats: <= 0) means fb */
	unsigned has_lo : 1, has_hi : 1;
	unsigned refuse : 1; /* outside lo..hi is a problem */
	unsigned single : 1; /* K_STRV: a lone string is a one-item list */
	size_t off;	     /* the field */
	size_t off_n;	     /* K_STRV: its count; a hook's second field */
	double below, fb, lo, hi;
	size_t lo_off; /* floats: lo is this field's value (offset + 1) */
	hook_fn *hook; /* does the whole rule instead */
	/* Upstream's default (TOML literal) where ours differs; NULL: same. */
	const char *upstream;
};

#define CL(f) offsetof(struct cfg_client, f)
#define SV(f) offsetof(struct cfg_server, f)

#define KEY(n, d, k, o, ...)                                                   \
	{                                                                      \
		.name = (n), .dflt = (d), .kind = (k), .off = (o), __VA_ARGS__ \
	}
#define AS_IS	     .hook = NULL
#define BELOW(b, f)  .has_fb = 1, .below = (b), .fb = (f)
#define ATMOST0(f)   .has_fb = 1, .fb = (f)
#define RANGE(l, h)  .has_lo = 1, .lo = (l), .has_hi = 1, .hi = (h)
#define HI(h)	     .has_hi = 1, .hi = (h)
#define LO_FROM(o)   .has_lo = 1, .lo_off = (o) + 1
#define REFUSE(l, h) .refuse = 1, RANGE(l, h)
#define HOOK(h)	     .hook = (h)

/* A key being filled: where its value goes and where it came from. */
struct fill {
	struct cfg *c;
	char *base; /* the role struct */
	unsigned char *src;
	const struct key *k;
	size_t idx;
	const struct toml_value *v; /* as given (file, profile or default) */
	const struct cfg_opts *opts;
};

#define FIELD(f, type)	     (*(type *)(void *)((f)->base + (f)->k->off))
#define FIELD_AT(f, o, type) (*(type *)(void *)((f)->base + (o)))

static hook_fn h_protocol, h_socks, h_setup_dup, h_nack_gap, h_mtu, h_rx_tx,
    h_process_workers, h_client_key, h_domains, h_dns_upstream,
    h_external_socks, h_comp_mask, h_server_method, h_key_file, h_echo_urls,
    h_exit_ips, h_leak_zone, h_fec_level;

/* The ARQ keys: window default, control/data retry ranges, NACK delay
 * default and ceiling, and the NACK repeat fallback differ by role. */
#define ARQ_KEYS(S, win_s, win, ctlmin, datamax, delay_s, delay, dmax, rep)    \
	KEY("ARQ_WINDOW_SIZE", win_s, K_INT, S(arq.window), BELOW(1, win),     \
	    RANGE(1, 8000)),                                                   \
	    KEY("ARQ_INITIAL_RTO_SECONDS", "1.0", K_DBL, S(arq.initial_rto_s), \
		ATMOST0(0.5), RANGE(0.01, 60)),                                \
	    KEY("ARQ_MAX_RTO_SECONDS", "5.0", K_DBL, S(arq.max_rto_s),         \
		ATMOST0(3.0), LO_FROM(S(arq.initial_rto_s)), HI(120)),         \
	    KEY("ARQ_CONTROL_INITIAL_RTO_SECONDS", "0.5", K_DBL,               \
		S(arq.control_initial_rto_s), ATMOST0(0.5), RANGE(0.01, 60)),  \
	    KEY("ARQ_CONTROL_MAX_RTO_SECONDS", "3.0", K_DBL,                   \
		S(arq.control_max_rto_s), ATMOST0(2.0),                        \
		LO_FROM(S(arq.control_initial_rto_s)), HI(120)),               \
	    KEY("ARQ_MAX_CONTROL_RETRIES", "400", K_INT,                       \
		S(arq.max_control_retries), BELOW(1, 128),                     \
		RANGE(ctlmin, 5000)),                                          \
	    KEY("ARQ_INACTIVITY_TIMEOUT_SECONDS", "1800.0", K_DBL,             \
		S(arq.inactivity_timeout_s), ATMOST0(1800), RANGE(10, 86400)), \
	    KEY("ARQ_DATA_PACKET_TTL_SECONDS", "2400.0", K_DBL,                \
		S(arq.data_packet_ttl_s), ATMOST0(2400), RANGE(10, 86400)),    \
	    KEY("ARQ_CONTROL_PACKET_TTL_SECONDS", "1200.0", K_DBL,             \
		S(arq.control_packet_ttl_s), ATMOST0(1200), RANGE(10, 86400)), \
	    KEY("ARQ_MAX_DATA_RETRIES", "1200", K_INT,                         \
		S(arq.max_data_retries), BELOW(1, 128),                        \
		RANGE(ctlmin, datamax)),                                       \
	    KEY("ARQ_DATA_NACK_MAX_GAP", "16", K_INT, S(arq.nack_max_gap),     \
		HOOK(h_nack_gap)),                                             \
	    KEY("ARQ_DATA_NACK_INITIAL_DELAY_SECONDS", delay_s, K_DBL,         \
		S(arq.nack_initial_delay_s), ATMOST0(delay),                   \
		RANGE(0.01, dmax)),                                            \
	    KEY("ARQ_DATA_NACK_REPEAT_SECONDS", "1.0", K_DBL,                  \
		S(arq.nack_repeat_s), ATMOST0(rep), RANGE(0.01, dmax)),        \
	    KEY("ARQ_TERMINAL_DRAIN_TIMEOUT_SECONDS", "120.0", K_DBL,          \
		S(arq.terminal_drain_timeout_s), ATMOST0(120),                 \
		RANGE(10, 3600)),                                              \
	    KEY("ARQ_TERMINAL_ACK_WAIT_TIMEOUT_SECONDS", "90.0", K_DBL,        \
		S(arq.terminal_ack_wait_timeout_s), ATMOST0(90),               \
		RANGE(5, 3600))

/* defaultClientConfig and finalizeClientConfig, in its order. */
static const struct key client_keys[] = {
    KEY("PROTOCOL_TYPE", "\"SOCKS5\"", K_STR, CL(protocol),
	.off_n = CL(protocol_tcp), HOOK(h_protocol)),
    KEY("LOG_LEVEL", "\"INFO\"", K_STR, CL(log_level), .trim = 1,
	.empty_dflt = 1),
    /* Ours: AES-256-GCM (upstream: 1, XOR; docs/security.md). */
    KEY("DATA_ENCRYPTION_METHOD", "5", K_INT, CL(method), REFUSE(0, 5),
	.upstream = "1"),
    KEY("LISTEN_IP", "\"127.0.0.1\"", K_STR, CL(listen_ip), .trim = 1,
	.empty_dflt = 1),
    KEY("LISTEN_PORT", "18000", K_PORT, CL(listen_port), REFUSE(0, 65535)),
    KEY("SOCKS5_AUTH", "false", K_BOOL, CL(socks_auth), AS_IS),
    KEY("SOCKS5_USER", "\"master_dns_vpn\"", K_STR, CL(socks_user),
	HOOK(h_socks)),
    KEY("SOCKS5_PASS", "\"master_dns_vpn\"", K_STR, CL(socks_pass), .secret = 1,
	HOOK(h_socks)),
    KEY("LOCAL_DNS_ENABLED", "false", K_BOOL, CL(local_dns_enabled), AS_IS),
    KEY("LOCAL_DNS_IP", "\"127.0.0.1\"", K_STR, CL(local_dns_ip), .trim = 1,
	.empty_dflt = 1),
    KEY("LOCAL_DNS_PORT", "53", K_INT, CL(local_dns_port), REFUSE(0, 65535)),
    KEY("LOCAL_DNS_CACHE_MAX_RECORDS", "10000", K_INT,
	CL(local_dns_cache_max_records), BELOW(1, 10000)),
    KEY("LOCAL_DNS_CACHE_TTL_SECONDS", "14400.0", K_DBL,
	CL(local_dns_cache_ttl_s), ATMOST0(14400)),
    KEY("LOCAL_DNS_PENDING_TIMEOUT_SECONDS", "300.0", K_DBL,
	CL(local_dns_pending_timeout_s), ATMOST0(300)),
    KEY("LOCAL_DNS_CACHE_FLUSH_INTERVAL_SECONDS", "60.0", K_DBL,
	CL(local_dns_cache_flush_s), ATMOST0(60)),
    KEY("LOCAL_DNS_CACHE_PERSIST_TO_FILE", "true", K_BOOL,
	CL(local_dns_cache_persist), AS_IS),
    KEY("UPLOAD_COMPRESSION_TYPE", "0", K_INT, CL(up_comp), REFUSE(0, 3)),
    KEY("DOWNLOAD_COMPRESSION_TYPE", "0", K_INT, CL(down_comp), REFUSE(0, 3)),
    KEY("COMPRESSION_MIN_SIZE", "100", K_UINT, CL(comp_min), BELOW(100, 100)),
    KEY("RESOLVER_BALANCING_STRATEGY", "2", K_INT, CL(strategy), REFUSE(0, 8)),
    KEY("PACKET_DUPLICATION_COUNT", "2", K_UINT, CL(dup), BELOW(1, 2),
	RANGE(1, 10)),
    KEY("SETUP_PACKET_DUPLICATION_COUNT", "2", K_UINT, CL(setup_dup),
	HOOK(h_setup_dup)),
    KEY("STREAM_RESOLVER_FAILOVER_RESEND_THRESHOLD", "2", K_UINT,
	CL(failover_resends), BELOW(1, 2), RANGE(1, 256)),
    KEY("STREAM_RESOLVER_FAILOVER_COOLDOWN", "2.5", K_DBL,
	CL(failover_cooldown_s), ATMOST0(2.5), RANGE(0.1, 120)),
    KEY("AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS", "30.0", K_DBL,
	CL(disable_window_s), ATMOST0(30), RANGE(1, 86400)),
    KEY("MAX_PACKETS_PER_BATCH", "8", K_UINT, CL(max_batch), BELOW(1, 8),
	RANGE(1, 64)),
    ARQ_KEYS(CL, "600", 600, 5, 100000, "0.1", 0.1, 60, 1.0),
    KEY("MIN_UPLOAD_MTU", "38", K_UINT, CL(min_up_mtu), HOOK(h_mtu)),
    KEY("MIN_DOWNLOAD_MTU", "100", K_UINT, CL(min_down_mtu), HOOK(h_mtu)),
    KEY("MAX_UPLOAD_MTU", "150", K_UINT, CL(max_up_mtu), HOOK(h_mtu)),
    KEY("MAX_DOWNLOAD_MTU", "500", K_UINT, CL(max_down_mtu), HOOK(h_mtu)),
    KEY("MTU_TEST_RETRIES", "2", K_UINT, CL(mtu_retries), BELOW(1, 1)),
    KEY("MTU_TEST_TIMEOUT", "2.0", K_DBL, CL(mtu_timeout_s), ATMOST0(2.0)),
    KEY("MTU_TEST_PARALLELISM", "16", K_UINT, CL(mtu_parallelism), BELOW(1, 1)),
    KEY("TUNNEL_READER_WORKERS", "0", K_INT, CL(legacy_reader_workers),
	.extra = 1),
    KEY("TUNNEL_WRITER_WORKERS", "0", K_INT, CL(legacy_writer_workers),
	.extra = 1),
    KEY("RX_TX_WORKERS", "4", K_INT, CL(rx_tx_workers), HOOK(h_rx_tx)),
    KEY("TUNNEL_PROCESS_WORKERS", "0", K_INT, CL(tunnel_process_workers),
	HOOK(h_process_workers)),
    KEY("TUNNEL_PACKET_TIMEOUT_SECONDS", "10.0", K_DBL, CL(packet_timeout_s),
	ATMOST0(10), RANGE(0.5, 120)),
    KEY("DISPATCHER_IDLE_POLL_INTERVAL_SECONDS", "0.020", K_DBL,
	CL(dispatcher_idle_poll_s), ATMOST0(0.02), RANGE(0.001, 1)),
    KEY("PING_AGGRESSIVE_INTERVAL_SECONDS", "0.100", K_DBL, CL(ping_aggr_s),
	ATMOST0(0.1), RANGE(0.01, 30)),
    KEY("PING_LAZY_INTERVAL_SECONDS", "0.750", K_DBL, CL(ping_lazy_s),
	ATMOST0(0.75), LO_FROM(CL(ping_aggr_s)), HI(60)),
    KEY("PING_COOLDOWN_INTERVAL_SECONDS", "2.0", K_DBL, CL(ping_cool_s),
	ATMOST0(2.0), LO_FROM(CL(ping_lazy_s)), HI(300)),
    KEY("PING_COLD_INTERVAL_SECONDS", "15.0", K_DBL, CL(ping_cold_s),
	ATMOST0(15), LO_FROM(CL(ping_cool_s)), HI(3600)),
    KEY("PING_WARM_THRESHOLD_SECONDS", "8.0", K_DBL, CL(ping_warm_thr_s),
	ATMOST0(8), RANGE(0.1, 600)),
    KEY("PING_COOL_THRESHOLD_SECONDS", "20.0", K_DBL, CL(ping_cool_thr_s),
	ATMOST0(20), LO_FROM(CL(ping_warm_thr_s)), HI(1800)),
    KEY("PING_COLD_THRESHOLD_SECONDS", "30.0", K_DBL, CL(ping_cold_thr_s),
	ATMOST0(30), LO_FROM(CL(ping_cool_thr_s)), HI(3600)),
    KEY("RX_CHANNEL_SIZE", "4096", K_INT, CL(rx_channel_size), BELOW(1, 4096),
	RANGE(64, 65536)),
    KEY("DNS_RESPONSE_FRAGMENT_TIMEOUT_SECONDS", "60.0", K_DBL,
	CL(dns_fragment_timeout_s), ATMOST0(60), RANGE(1, 600)),
    KEY("SOCKS_UDP_ASSOCIATE_READ_TIMEOUT_SECONDS", "30.0", K_DBL,
	CL(socks_udp_timeout_s), ATMOST0(30), RANGE(1, 3600)),
    KEY("CLIENT_TERMINAL_STREAM_RETENTION_SECONDS", "45.0", K_DBL,
	CL(terminal_retention_s), ATMOST0(45), RANGE(1, 3600)),
    KEY("CLIENT_CANCELLED_SETUP_RETENTION_SECONDS", "120.0", K_DBL,
	CL(cancelled_retention_s), ATMOST0(120), RANGE(1, 3600)),
    KEY("SESSION_INIT_RETRY_BASE_SECONDS", "1.0", K_DBL, CL(init_retry_base_s),
	ATMOST0(1), RANGE(0.1, 60)),
    KEY("SESSION_INIT_RETRY_STEP_SECONDS", "1.0", K_DBL, CL(init_retry_step_s),
	ATMOST0(1), RANGE(0, 60)),
    KEY("SESSION_INIT_RETRY_LINEAR_AFTER", "5", K_INT,
	CL(init_retry_linear_after), BELOW(0, 5), RANGE(0, 1000)),
    KEY("SESSION_INIT_RETRY_MAX_SECONDS", "60.0", K_DBL, CL(init_retry_max_s),
	ATMOST0(60), LO_FROM(CL(init_retry_base_s)), HI(3600)),
    KEY("SESSION_INIT_BUSY_RETRY_INTERVAL_SECONDS", "60.0", K_DBL,
	CL(init_busy_retry_s), ATMOST0(60), RANGE(1, 3600)),
    KEY("SESSION_INIT_RACING_COUNT", "3", K_INT, CL(init_racing_count),
	BELOW(1, 3), RANGE(1, 5)),
    KEY("MTU_SERVERS_FILE_NAME", "\"masterdnsvpn_success_test_{time}.log\"",
	K_STR, CL(mtu_file_name), .trim = 1),
    KEY("MTU_SERVERS_FILE_FORMAT",
	"\"{IP} ({DOMAIN}) - UP: {UP_MTU} DOWN: {DOWN-MTU}\"", K_STR,
	CL(mtu_file_format), .trim = 1),
    KEY("MTU_USING_SECTION_SEPARATOR_TEXT", "\"\"", K_STR,
	CL(mtu_separator_text), .trim = 1),
    KEY("MTU_REMOVED_SERVER_LOG_FORMAT",
	"\"Resolver {IP} ({DOMAIN}) removed at {TIME} due to {CAUSE}\"", K_STR,
	CL(mtu_removed_format), .trim = 1),
    KEY("MTU_ADDED_SERVER_LOG_FORMAT",
	"\"Resolver {IP} ({DOMAIN}) added back at {TIME} (UP {UP_MTU}, DOWN "
	"{DOWN_MTU})\"",
	K_STR, CL(mtu_added_format), .trim = 1),
    KEY("MTU_REACTIVE_ADDED_SERVER_LOG_FORMAT",
	"\"Resolver {IP} ({DOMAIN}) added back at {TIME} after reactive "
	"recheck (UP {UP_MTU}, DOWN {DOWN_MTU})\"",
	K_STR, CL(mtu_reactive_format), .trim = 1),
    KEY("ENCRYPTION_KEY", "\"\"", K_STR, CL(key), .secret = 1,
	HOOK(h_client_key)),
    KEY("DOMAINS", "[]", K_STRV, CL(domains), .off_n = CL(ndomains),
	HOOK(h_domains)),
    KEY("BASE_ENCODE_DATA", "false", K_BOOL, CL(base64), AS_IS),
    KEY("RECHECK_INACTIVE_SERVERS_ENABLED", "true", K_BOOL, CL(recheck), AS_IS),
    KEY("AUTO_DISABLE_TIMEOUT_SERVERS", "true", K_BOOL, CL(auto_disable),
	AS_IS),
    KEY("AUTO_REMOVE_LOW_MTU_SERVERS", "true", K_BOOL, CL(remove_low_mtu),
	AS_IS),
    KEY("SAVE_MTU_SERVERS_TO_FILE", "false", K_BOOL, CL(save_mtu_servers),
	AS_IS),
    /* The FEC fork's keys (arianizadi/MasterDnsVPN; docs/fec.md): listed
     * only when written, ranges clamped as the fork's NormalizeParams. */
    KEY("FEC_LEVEL", "\"\"", K_STR, CL(fec_level), .extra = 1,
	HOOK(h_fec_level)),
    KEY("FEC_ENABLED", "false", K_BOOL, CL(fec_enabled), .extra = 1, AS_IS),
    KEY("FEC_DIRECTION", "\"download\"", K_STR, CL(fec_direction), .extra = 1,
	.trim = 1, .empty_dflt = 1),
    KEY("FEC_GROUP_SIZE", "8", K_INT, CL(fec_group), .extra = 1, BELOW(1, 8),
	RANGE(2, 64)),
    KEY("FEC_OVERHEAD_PERCENT", "15", K_INT, CL(fec_overhead), .extra = 1,
	BELOW(0, 15), RANGE(0, 100)),
    KEY("FEC_SYMBOL_SIZE", "0", K_INT, CL(fec_symbol_size), .extra = 1,
	BELOW(0, 0), RANGE(0, 65535)),
    KEY("FEC_FLUSH_TIMEOUT_MS", "25", K_INT, CL(fec_flush_ms), .extra = 1,
	BELOW(1, 25), RANGE(1, 1000)),
    /* Ours (docs/engine.md): refused outside their range. */
    KEY("MDNS_MAX_INFLIGHT", "32", K_UINT, CL(max_inflight), .extra = 1,
	REFUSE(1, 1024)),
    KEY("MDNS_READY_MIN", "3", K_UINT, CL(ready_min), .extra = 1,
	REFUSE(0, 1000000)),
    KEY("MDNS_READY_WAIT_SECONDS", "6.0", K_DBL, CL(ready_wait_s), .extra = 1,
	REFUSE(0, 3600)),
    KEY("MDNS_START_PARALLELISM", "256", K_UINT, CL(start_parallelism),
	.extra = 1, REFUSE(1, 4096)),
    /* Ours, for `ip` (docs/checks.md): URLs and IP literals, checked. */
    KEY("MDNS_IP_ECHO_V4", "[]", K_STRV, CL(ip_echo_v4),
	.off_n = CL(nip_echo_v4), .extra = 1, HOOK(h_echo_urls)),
    KEY("MDNS_IP_ECHO_V6", "[]", K_STRV, CL(ip_echo_v6),
	.off_n = CL(nip_echo_v6), .extra = 1, HOOK(h_echo_urls)),
    KEY("MDNS_EXPECTED_EXIT_IP", "[]", K_STRV, CL(expected_exit),
	.off_n = CL(nexpected_exit), .extra = 1, .single = 1, HOOK(h_exit_ips)),
    KEY("MDNS_LOCAL_DNS_ANSWER_TIMEOUT_SECONDS", "8.0", K_DBL,
	CL(local_dns_answer_timeout_s), .extra = 1, REFUSE(0.1, 600)),
    /* Ours (docs/engine.md, "Liveness"): 0 = 2 x ARQ_MAX_RTO_SECONDS. */
    KEY("MDNS_STALL_TIMEOUT_SECONDS", "0.0", K_DBL, CL(stall_timeout_s),
	.extra = 1, REFUSE(0, 3600)),
    /* Ours, for `leak` (docs/checks.md): the zone a `serve` hosts. */
    KEY("MDNS_LEAK_ZONE", "\"\"", K_STR, CL(leak_zone), .extra = 1,
	HOOK(h_leak_zone)),
    /* Ours (docs/store.md, "Engine snapshots"). */
    KEY("MDNS_SNAPSHOT_INTERVAL_SECONDS", "30.0", K_DBL, CL(snap_interval_s),
	.extra = 1, REFUSE(0, 86400)),
    KEY("MDNS_SNAPSHOT_RETENTION_DAYS", "7.0", K_DBL, CL(snap_retention_days),
	.extra = 1, REFUSE(0.01, 3650)),
    KEY("MDNS_SNAPSHOT_MAX_ROWS", "20000", K_UINT, CL(snap_max_rows),
	.extra = 1, REFUSE(1, 10000000)),
};

/* defaultServerConfig and finalizeServerConfig, in its order. */
static const struct key server_keys[] = {
    KEY("PROTOCOL_TYPE", "\"SOCKS5\"", K_STR, SV(protocol),
	.off_n = SV(protocol_tcp), HOOK(h_protocol)),
    KEY("UDP_HOST", "\"0.0.0.0\"", K_STR, SV(udp_host), .empty_dflt = 1),
    KEY("UDP_PORT", "53", K_PORT, SV(udp_port), REFUSE(1, 65535)),
    KEY("UDP_READERS", "4", K_INT, SV(udp_readers), BELOW(1, 4)),
    KEY("SOCKET_BUFFER_SIZE", "8388608", K_INT, SV(socket_buffer_size),
	BELOW(1, 8388608)),
    KEY("MAX_CONCURRENT_REQUESTS", "16384", K_INT, SV(max_concurrent_requests),
	BELOW(1, 4096)),
    KEY("DNS_REQUEST_WORKERS", "8", K_INT, SV(dns_request_workers),
	BELOW(1, 8)),
    KEY("DEFERRED_SESSION_WORKERS", "4", K_INT, SV(deferred_workers),
	RANGE(0, 128)),
    KEY("DEFERRED_SESSION_QUEUE_LIMIT", "4096", K_INT, SV(deferred_queue_limit),
	BELOW(1, 256), HI(14336)),
    KEY("MAX_PACKET_SIZE", "65535", K_INT, SV(max_packet_size),
	BELOW(1, 65535)),
    KEY("DROP_LOG_INTERVAL_SECONDS", "2.0", K_DBL, SV(drop_log_interval_s),
	ATMOST0(2)),
    KEY("INVALID_COOKIE_WINDOW_SECONDS", "2.0", K_DBL,
	SV(invalid_cookie_window_s), ATMOST0(2)),
    KEY("INVALID_COOKIE_ERROR_THRESHOLD", "10", K_UINT,
	SV(invalid_cookie_threshold), BELOW(1, 10)),
    KEY("SESSION_TIMEOUT_SECONDS", "300.0", K_DBL, SV(session_timeout_s),
	ATMOST0(300)),
    KEY("SESSION_CLEANUP_INTERVAL_SECONDS", "30.0", K_DBL,
	SV(session_cleanup_s), ATMOST0(30)),
    KEY("CLOSED_SESSION_RETENTION_SECONDS", "600.0", K_DBL,
	SV(closed_retention_s), ATMOST0(600)),
    KEY("SESSION_INIT_REUSE_TTL_SECONDS", "600.0", K_DBL, SV(init_reuse_s),
	ATMOST0(600), RANGE(1, 86400)),
    KEY("RECENTLY_CLOSED_STREAM_TTL_SECONDS", "600.0", K_DBL,
	SV(recently_closed_stream_s), ATMOST0(600), RANGE(1, 86400)),
    KEY("RECENTLY_CLOSED_STREAM_CAP", "2000", K_INT,
	SV(recently_closed_stream_cap), BELOW(1, 2000), RANGE(1, 1000000)),
    KEY("TERMINAL_STREAM_RETENTION_SECONDS", "45.0", K_DBL,
	SV(terminal_retention_s), ATMOST0(45), RANGE(1, 86400)),
    KEY("MAX_PACKETS_PER_BATCH", "5", K_UINT, SV(max_packets_per_batch),
	BELOW(1, 20)),
    KEY("PACKET_BLOCK_CONTROL_DUPLICATION", "1", K_UINT, SV(packed_dup),
	RANGE(1, 4)),
    KEY("DNS_UPSTREAM_SERVERS", "[\"1.1.1.1:53\", \"1.0.0.1:53\"]", K_STRV,
	SV(dns_upstream), .off_n = SV(ndns_upstream), HOOK(h_dns_upstream)),
    KEY("DNS_UPSTREAM_TIMEOUT", "4.0", K_DBL, SV(dns_upstream_timeout_s),
	ATMOST0(4)),
    KEY("DNS_INFLIGHT_WAIT_TIMEOUT_SECONDS", "15.0", K_DBL,
	SV(dns_inflight_wait_s), ATMOST0(15), RANGE(0.1, 120)),
    KEY("SOCKS_CONNECT_TIMEOUT", "120.0", K_DBL, SV(socks_connect_timeout_s),
	ATMOST0(120)),
    KEY("DNS_FRAGMENT_ASSEMBLY_TIMEOUT", "300.0", K_DBL,
	SV(dns_fragment_timeout_s), ATMOST0(300)),
    KEY("STREAM_SETUP_ACK_TTL_SECONDS", "400.0", K_DBL, SV(setup_ack_ttl_s),
	ATMOST0(400), RANGE(1, 86400)),
    KEY("STREAM_RESULT_PACKET_TTL_SECONDS", "300.0", K_DBL, SV(result_ttl_s),
	ATMOST0(300), RANGE(1, 86400)),
    KEY("STREAM_FAILURE_PACKET_TTL_SECONDS", "120.0", K_DBL, SV(failure_ttl_s),
	ATMOST0(120), RANGE(1, 86400)),
    KEY("DNS_CACHE_MAX_RECORDS", "50000", K_INT, SV(dns_cache_max_records),
	BELOW(1, 50000)),
    KEY("DNS_CACHE_TTL_SECONDS", "300.0", K_DBL, SV(dns_cache_ttl_s),
	ATMOST0(3600)),
    KEY("FORWARD_PORT", "1080", K_PORT, SV(forward_port), REFUSE(0, 65535)),
    KEY("SOCKS5_AUTH", "false", K_BOOL, SV(socks_auth), AS_IS),
    KEY("SOCKS5_USER", "\"admin\"", K_STR, SV(socks_user), HOOK(h_socks)),
    KEY("SOCKS5_PASS", "\"123456\"", K_STR, SV(socks_pass), .secret = 1,
	HOOK(h_socks)),
    KEY("FORWARD_IP", "\"\"", K_STR, SV(forward_ip), AS_IS),
    KEY("USE_EXTERNAL_SOCKS5", "false", K_BOOL, SV(use_external_socks5),
	HOOK(h_external_socks)),
    KEY("MIN_VPN_LABEL_LENGTH", "3", K_INT, SV(min_vpn_label_length),
	BELOW(1, 3)),
    KEY("SUPPORTED_UPLOAD_COMPRESSION_TYPES", "[0, 1, 2, 3]", K_MASK,
	SV(up_comp_mask), HOOK(h_comp_mask)),
    KEY("SUPPORTED_DOWNLOAD_COMPRESSION_TYPES", "[0, 1, 2, 3]", K_MASK,
	SV(down_comp_mask), HOOK(h_comp_mask)),
    /* Ours: AES-256-GCM (upstream: 1, XOR; docs/security.md). */
    KEY("DATA_ENCRYPTION_METHOD", "5", K_INT, SV(method), HOOK(h_server_method),
	.upstream = "1"),
    KEY("ENCRYPTION_KEY_FILE", "\"encrypt_key.txt\"", K_STR, SV(key_file),
	HOOK(h_key_file)),
    KEY("LOG_LEVEL", "\"INFO\"", K_STR, SV(log_level), .empty_dflt = 1),
    ARQ_KEYS(SV, "800", 800, 1, 5000, "0.3", 0.3, 30, 0.8),
    KEY("MAX_ALLOWED_CLIENT_ACTIVE_SESSION", "255", K_UINT, SV(max_sessions),
	BELOW(1, 255), RANGE(1, 255)),
    KEY("MAX_ALLOWED_CLIENT_ACTIVE_STREAMS_PER_SESSION", "2000", K_UINT,
	SV(max_streams), BELOW(1, 2000), RANGE(1, 65535)),
    KEY("MAX_ALLOWED_CLIENT_PACKET_DUPLICATION_COUNT", "5", K_UINT, SV(pol_dup),
	BELOW(0, 5), RANGE(0, 15)),
    KEY("MAX_ALLOWED_CLIENT_SETUP_PACKET_DUPLICATION_COUNT", "6", K_UINT,
	SV(pol_setup_dup), BELOW(0, 6), RANGE(0, 15)),
    KEY("MAX_ALLOWED_CLIENT_UPLOAD_MTU", "150", K_UINT, SV(pol_up_mtu),
	BELOW(1, 150), RANGE(1, 255)),
    KEY("MAX_ALLOWED_CLIENT_DOWNLOAD_MTU", "4096", K_UINT, SV(pol_down_mtu),
	BELOW(1, 4096), RANGE(1, 65535)),
    KEY("MAX_ALLOWED_CLIENT_RX_TX_WORKERS", "255", K_UINT, SV(pol_workers),
	BELOW(1, 255), RANGE(1, 255)),
    KEY("MIN_ALLOWED_CLIENT_PING_AGGRESSIVE_INTERVAL_SECONDS", "0.05", K_DBL,
	SV(pol_ping_s), ATMOST0(0.05), RANGE(0.05, 1)),
    KEY("MAX_ALLOWED_CLIENT_PACKETS_PER_BATCH", "20", K_UINT, SV(pol_batch),
	BELOW(1, 20), RANGE(1, 255)),
    KEY("MAX_ALLOWED_CLIENT_ARQ_WINDOW_SIZE", "8000", K_UINT, SV(pol_window),
	BELOW(1, 8000), RANGE(1, 8000)),
    KEY("MAX_ALLOWED_CLIENT_ARQ_DATA_NACK_MAX_GAP", "255", K_UINT,
	SV(pol_nack_gap), BELOW(0, 255), RANGE(0, 255)),
    KEY("MIN_ALLOWED_CLIENT_COMPRESSION_MIN_SIZE", "120", K_UINT,
	SV(pol_comp_min), BELOW(1, 120), RANGE(1, 65535)),
    KEY("MIN_ALLOWED_CLIENT_ARQ_INITIAL_RTO_SECONDS", "0.05", K_DBL,
	SV(pol_rto_s), ATMOST0(0.05), RANGE(0.05, 1)),
    KEY("DOMAIN", "[]", K_STRV, SV(domains), .off_n = SV(ndomains),
	HOOK(h_domains)),
    /* In the shipped sample but not read by upstream code. */
    KEY("CONFIG_VERSION", "\"\"", K_STR, SV(config_version), .extra = 1),
    /* The FEC fork's server keys (docs/fec.md): listed only when written;
     * its ceilings for what a client may ask. */
    KEY("FEC_ENABLED", "false", K_BOOL, SV(fec_enabled), .extra = 1, AS_IS),
    KEY("FEC_MAX_GROUP_SIZE", "8", K_INT, SV(fec_max_group), .extra = 1,
	BELOW(1, 8), RANGE(2, 64)),
    KEY("FEC_MAX_OVERHEAD_PERCENT", "15", K_INT, SV(fec_max_overhead),
	.extra = 1, BELOW(0, 15), RANGE(0, 100)),
    KEY("FEC_MAX_SYMBOL_SIZE", "0", K_INT, SV(fec_max_symbol_size), .extra = 1,
	BELOW(0, 0), RANGE(0, 65535)),
    KEY("FEC_MAX_FLUSH_TIMEOUT_MS", "25", K_INT, SV(fec_max_flush_ms),
	.extra = 1, BELOW(1, 25), RANGE(1, 1000)),
    /* Ours: CIDRs the target filter lets through (docs/engine.md). */
    KEY("MDNS_ALLOW_TARGETS", "[]", K_STRV, SV(allow), .off_n = SV(nallow),
	.extra = 1),
    /* Ours (docs/security.md "Reflection", "Sessions"): per-source
     * budgets; 0 = none (one source carrying many resolvers). */
    KEY("MDNS_SOURCE_ANSWER_BYTES_PER_SECOND", "32768", K_INT,
	SV(src_answer_rate), .extra = 1, REFUSE(0, 1073741824)),
    KEY("MDNS_SOURCE_INIT_PER_SECOND", "2", K_INT, SV(src_init_rate),
	.extra = 1, REFUSE(0, 1000000)),
    /* Ours: the leak zone this server answers (docs/checks.md). */
    KEY("MDNS_LEAK_ZONE", "\"\"", K_STR, SV(leak_zone), .extra = 1,
	HOOK(h_leak_zone)),
    /* Ours (docs/store.md, "Engine snapshots"). */
    KEY("MDNS_SNAPSHOT_INTERVAL_SECONDS", "30.0", K_DBL, SV(snap_interval_s),
	.extra = 1, REFUSE(0, 86400)),
    KEY("MDNS_SNAPSHOT_RETENTION_DAYS", "7.0", K_DBL, SV(snap_retention_days),
	.extra = 1, REFUSE(0.01, 3650)),
    KEY("MDNS_SNAPSHOT_MAX_ROWS", "20000", K_UINT, SV(snap_max_rows),
	.extra = 1, REFUSE(1, 10000000)),
};

_Static_assert(nitems(client_keys) == CFG_CLIENT_NKEYS,
    "CFG_CLIENT_NKEYS must count client_keys");
_Static_assert(nitems(server_keys) == CFG_SERVER_NKEYS,
    "CFG_SERVER_NKEYS must count server_keys");

static const struct key *
table(enum cfg_role role, size_t *n)
{
	if (role == CFG_SERVER) {
		*n = nitems(server_keys);
		return server_keys;
	}
	*n = nitems(client_keys);
	return client_keys;
}

static const struct key *
find(enum cfg_role role, const char *name, size_t *idx)
{
	size_t n, i;
	const struct key *t = table(role, &n);

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return &t[i];
		}
	return NULL;
}

int
cfg_key_known(enum cfg_role role, const char *key)
{
	return find(role, key, NULL) != NULL;
}

int
cfg_key_secret(enum cfg_role role, const char *key)
{
	const struct key *k = find(role, key, NULL);

	return k != NULL && k->secret;
}

int
cfg_key_single(enum cfg_role role, const char *key)
{
	const struct key *k = find(role, key, NULL);

	return k != NULL && k->single;
}

const char *
cfg_key_upstream_default(enum cfg_role role, const char *key)
{
	const struct key *k = find(role, key, NULL);

	return k != NULL ? k->upstream : NULL;
}

char *
cfg_keys_defaults_text(enum cfg_role role, int extra)
{
	size_t n, i;
	const struct key *t = table(role, &n);
	char *s = xstrdup(""), *u;

	for (i = 0; i < n; i++) {
		if (t[i].extra != (extra != 0))
			continue;
		u = xasprintf("%s%s = %s\n", s, t[i].name, t[i].dflt);
		free(s);
		s = u;
	}
	return s;
}

/* ---- filling the role struct ---- */

static void
set_src(struct fill *f, enum cfg_source s)
{
	f->src[f->idx] = (unsigned char)s;
}

/* The value was changed by the rules. */
static void
changed(struct fill *f)
{
	set_src(f, CFG_SRC_CLAMPED);
}

/* What a rule says, for notes: "below 1 means 2, range 1..10". */
static void
rule_text(const struct key *k, double lo, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (k->has_fb && k->kind == K_DBL)
		n = snprintf(buf, len, "0 or less means %.15g", k->fb);
	else if (k->has_fb)
		n = snprintf(
		    buf, len, "below %.15g means %.15g", k->below, k->fb);
	if (n < 0 || (size_t)n >= len)
		return;
	if (k->has_lo && k->has_hi)
		snprintf(buf + n, len - (size_t)n, "%srange %.15g..%.15g",
		    n ? ", " : "", lo, k->hi);
	else if (k->has_lo)
		snprintf(buf + n, len - (size_t)n, "%sat least %.15g",
		    n ? ", " : "", lo);
	else if (k->has_hi)
		snprintf(buf + n, len - (size_t)n, "%sat most %.15g",
		    n ? ", " : "", k->hi);
}

static void
store_int(struct fill *f, int64_t r)
{
	switch (f->k->kind) {
	case K_UINT:
		FIELD(f, unsigned) = r < 0 ? 0u : (unsigned)r;
		break;
	case K_PORT:
		FIELD(f, uint16_t) = r < 0 || r > 65535 ? 0 : (uint16_t)r;
		break;
	default:
		FIELD(f, int) = (int)r;
		break;
	}
}

/* Outside lo..hi: a problem; the field keeps the default. */
static int
refused(struct fill *f, double v, int integer)
{
	const struct key *k = f->k;

	if (!k->refuse || (v >= k->lo && v <= k->hi))
		return 0;
	if (integer)
		cfg_problem(f->c, k->name, "%lld is outside %lld..%lld",
		    (long long)v, (long long)k->lo, (long long)k->hi);
	else
		cfg_problem(
		    f->c, k->name, "%g is outside %g..%g", v, k->lo, k->hi);
	set_src(f, CFG_SRC_INVALID);
	return 1;
}

static void
fill_int(struct fill *f)
{
	const struct key *k = f->k;
	int64_t v = f->v->i64, r = v;
	char rule[128];

	if (refused(f, (double)v, 1)) {
		store_int(f, strtoll(k->dflt, NULL, 10));
		return;
	}
	if (k->has_fb && r < k->below)
		r = (int64_t)k->fb;
	if (k->has_lo && r < k->lo)
		r = (int64_t)k->lo;
	if (k->has_hi && r > k->hi)
		r = (int64_t)k->hi;
	/* Held in 32 bits: far beyond any upstream range anyway. */
	r = r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : r;
	store_int(f, r);
	if (r == v)
		return;
	rule_text(k, k->lo, rule, sizeof rule);
	cfg_note(f->c, k->name, "effective %lld (upstream: %s)", (long long)r,
	    rule[0] ? rule : "held in 32 bits");
	changed(f);
}

static void
fill_dbl(struct fill *f)
{
	const struct key *k = f->k;
	double v = f->v->dbl, r = v;
	double lo = k->lo_off ? FIELD_AT(f, k->lo_off - 1, double) : k->lo;
	char rule[128];

	if (refused(f, v, 0)) {
		FIELD(f, double) = strtod(k->dflt, NULL);
		return;
	}
	if (k->has_fb && !(r > 0))
		r = k->fb;
	if (k->has_lo && r < lo)
		r = lo;
	if (k->has_hi && r > k->hi)
		r = k->hi;
	FIELD(f, double) = r;
	if (r == v)
		return;
	rule_text(k, lo, rule, sizeof rule);
	cfg_note(f->c, k->name, "effective %.15g (upstream: %s)", r, rule);
	changed(f);
}

/* The key's default string (its literal parsed with the defaults). */
static const char *
default_str(struct fill *f)
{
	const struct toml_value *d = toml_get(f->c->priv->defaults, f->k->name);

	if (d == NULL)
		d = toml_get(f->c->priv->extra, f->k->name);
	return d != NULL && d->type == TOML_STRING ? d->str : "";
}

/* A string by the key's flags: trimmed, upper-cased, "" = default. */
static char *
norm_str(struct fill *f)
{
	char *s = xstrdup(f->v->str), *t, *q;

	if (f->k->trim) {
		t = xstrdup(str_trim(s));
		free(s);
		s = t;
	}
	if (f->k->upper)
		for (q = s; *q; q++)
			*q = (char)toupper((unsigned char)*q);
	if (f->k->empty_dflt && *s == '\0') {
		free(s);
		s = xstrdup(default_str(f));
	}
	return s;
}

static void
fill_str(struct fill *f)
{
	char *s = norm_str(f), shown[64];

	FIELD(f, char *) = s;
	if (strcmp(s, f->v->str) == 0)
		return;
	if (!f->k->secret) {
		str_printable(s, shown, sizeof shown);
		cfg_note(f->c, f->k->name, "effective \"%s\" (upstream: %s)",
		    shown,
		    strcmp(s, default_str(f)) == 0 && f->k->empty_dflt ?
			"empty means the default" :
			"surrounding white space removed");
	}
	changed(f);
}

/* The items of a list value; a lone string (single keys) is one. */
static const struct toml_value *
list_items(const struct toml_value *v, size_t *n)
{
	if (v->type == TOML_STRING) {
		*n = 1;
		return v;
	}
	*n = v->nitems;
	return v->items;
}

static void
fill_strv(struct fill *f)
{
	size_t i, n;
	const struct toml_value *it = list_items(f->v, &n);
	char **v = xcalloc(n + 1, sizeof *v);

	for (i = 0; i < n; i++)
		v[i] = xstrdup(it[i].str ? it[i].str : "");
	FIELD(f, char **) = v;
	FIELD_AT(f, f->k->off_n, size_t) = n;
}

static void
fill_one(struct fill *f)
{
	set_src(f, cfg_given_source(f->c, f->k->name));
	if (f->k->hook != NULL) {
		f->k->hook(f);
		return;
	}
	switch (f->k->kind) {
	case K_STR:
		fill_str(f);
		break;
	case K_BOOL:
		FIELD(f, int) = f->v->boolean;
		break;
	case K_INT:
	case K_UINT:
	case K_PORT:
		fill_int(f);
		break;
	case K_DBL:
		fill_dbl(f);
		break;
	case K_STRV:
		fill_strv(f);
		break;
	default:
		break;
	}
}

void
cfg_keys_fill(struct cfg *c, const struct cfg_opts *opts)
{
	struct fill f = {.c = c, .opts = opts};
	size_t n;
	const struct key *t = table(c->role, &n);

	if (c->role == CFG_SERVER) {
		f.base = (char *)&c->server;
		f.src = c->server.src;
	} else {
		f.base = (char *)&c->client;
		f.src = c->client.src;
	}
	for (f.idx = 0; f.idx < n; f.idx++) {
		f.k = &t[f.idx];
		f.v = cfg_value(c, f.k->name);
		fill_one(&f);
	}
}

/* ---- hooks: the rules that are more than a clamp ---- */

static void
h_protocol(struct fill *f)
{
	char *raw = xstrdup(f->v->str), *p = xstrdup(str_trim(raw)), *q;
	char shown[64];

	free(raw);
	for (q = p; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	if (*p == '\0') {
		free(p);
		p = xstrdup("SOCKS5");
	}
	if (strcmp(p, "SOCKS5") != 0 && strcmp(p, "TCP") != 0) {
		str_printable(p, shown, sizeof shown);
		cfg_problem(
		    f->c, f->k->name, "\"%s\" is not SOCKS5 or TCP", shown);
		set_src(f, CFG_SRC_INVALID);
	} else if (strcmp(p, f->v->str) != 0) {
		cfg_note(f->c, f->k->name,
		    "effective \"%s\" (upstream: trimmed and upper-cased, "
		    "empty means SOCKS5)",
		    p);
		changed(f);
	}
	FIELD(f, char *) = p;
	FIELD_AT(f, f->k->off_n, int) = strcmp(p, "TCP") == 0;
}

/*
 * SOCKS5_USER / SOCKS5_PASS: at most 255 bytes (not trimmed upstream).
 * Once both are read, SOCKS5_AUTH needs a user (the server: and a
 * password).
 */
static void
h_socks(struct fill *f)
{
	int server = f->c->role == CFG_SERVER;
	int auth = server ? f->c->server.socks_auth : f->c->client.socks_auth;
	const char *user, *pass;

	FIELD(f, char *) = xstrdup(f->v->str);
	if (f->v->len > 255) {
		cfg_problem(f->c, f->k->name, "cannot exceed 255 bytes");
		set_src(f, CFG_SRC_INVALID);
		return;
	}
	if (strcmp(f->k->name, "SOCKS5_PASS") != 0 || !auth)
		return;
	user = server ? f->c->server.socks_user : f->c->client.socks_user;
	pass = server ? f->c->server.socks_pass : f->c->client.socks_pass;
	if (*user == '\0')
		cfg_problem(f->c, "SOCKS5_AUTH", "true needs SOCKS5_USER");
	else if (server && *pass == '\0')
		cfg_problem(f->c, "SOCKS5_AUTH", "true needs SOCKS5_PASS");
}

/* At least PACKET_DUPLICATION_COUNT, below 1 means max(2, that), <= 12. */
static void
h_setup_dup(struct fill *f)
{
	unsigned dup = f->c->client.dup;
	int64_t v = f->v->i64, r = v;

	if (r < 1)
		r = MAX(2, dup);
	r = MIN(MAX(r, (int64_t)dup), 12);
	FIELD(f, unsigned) = (unsigned)r;
	if (r == v)
		return;
	cfg_note(f->c, f->k->name,
	    "effective %lld (upstream: below 1 means %u, range %u..12)",
	    (long long)r, MAX(2u, dup), dup);
	changed(f);
}

/* Below 0 means 16; at most min(max(window/8, 16), 128, window-1). */
static void
h_nack_gap(struct fill *f)
{
	const struct cfg_arq *a =
	    f->c->role == CFG_SERVER ? &f->c->server.arq : &f->c->client.arq;
	int cap = MIN(MIN(MAX(a->window / 8, 16), 128), a->window - 1);
	int64_t v = f->v->i64, r = v;

	if (r < 0)
		r = 16;
	r = MAX(MIN(r, cap), 0);
	FIELD(f, int) = (int)r;
	if (r == v)
		return;
	cfg_note(f->c, f->k->name,
	    "effective %lld (upstream: below 0 means 16, range 0..%d from "
	    "ARQ_WINDOW_SIZE)",
	    (long long)r, cap);
	changed(f);
}

/* MIN/MAX_UPLOAD/DOWNLOAD_MTU: not negative, min <= max (max 0: any). */
static void
h_mtu(struct fill *f)
{
	int64_t v = f->v->i64;
	const char *min_key;
	const struct toml_value *mn;
	size_t mi;

	store_int(f, MIN(v, INT32_MAX));
	if (v > INT32_MAX) {
		cfg_note(f->c, f->k->name, "effective %d (held in 32 bits)",
		    INT32_MAX);
		changed(f);
	}
	if (v < 0) {
		cfg_problem(f->c, f->k->name, "cannot be negative");
		set_src(f, CFG_SRC_INVALID);
		return;
	}
	if (strncmp(f->k->name, "MAX_", 4) != 0 || v == 0)
		return;
	min_key = f->k->name[4] == 'U' ? "MIN_UPLOAD_MTU" : "MIN_DOWNLOAD_MTU";
	mn = cfg_value(f->c, min_key);
	if (mn == NULL || mn->i64 <= v)
		return;
	cfg_problem(f->c, min_key, "%lld is greater than %s %lld",
	    (long long)mn->i64, f->k->name, (long long)v);
	if (find(f->c->role, min_key, &mi) != NULL)
		f->src[mi] = CFG_SRC_INVALID;
}

/* RX_TX_WORKERS, or the legacy TUNNEL_READER/WRITER_WORKERS when it is
 * not written; below 1 means 4; range 1..128. */
static void
h_rx_tx(struct fill *f)
{
	struct cfg_client *cl = &f->c->client;
	int legacy = MAX(cl->legacy_reader_workers, cl->legacy_writer_workers);
	int64_t v = f->v->i64, r = v;

	if (cfg_given_source(f->c, f->k->name) == CFG_SRC_DEFAULT && legacy > 0)
		r = legacy;
	if (r < 1)
		r = 4;
	r = MIN(MAX(r, 1), 128);
	FIELD(f, int) = (int)r;
	if (r == v)
		return;
	cfg_note(f->c, f->k->name,
	    "effective %lld (upstream: legacy reader/writer workers when "
	    "absent, below 1 means 4, range 1..128)",
	    (long long)r);
	changed(f);
}

/* Written: within 1..256 and at least RX_TX_WORKERS; else derived. */
static void
h_process_workers(struct fill *f)
{
	int rx = MAX(f->c->client.rx_tx_workers, 1);
	int64_t v = f->v->i64, r;

	if (cfg_given_source(f->c, f->k->name) != CFG_SRC_DEFAULT) {
		r = MIN(MAX(v, 1), 256);
		r = MAX(r, rx);
	} else {
		r = MIN(MAX(MAX(4, rx + 1), rx), 256);
	}
	FIELD(f, int) = (int)r;
	if (r == v)
		return;
	cfg_note(f->c, f->k->name,
	    "effective %lld (upstream: when written range 1..256 and at "
	    "least RX_TX_WORKERS, else max(4, RX_TX_WORKERS + 1))",
	    (long long)r);
	changed(f);
}

static void
h_client_key(struct fill *f)
{
	struct cfg_client *cl = &f->c->client;
	char *s = xstrdup(f->v->str), *t = xstrdup(str_trim(s));
	size_t want;

	explicit_bzero(s, strlen(s));
	free(s);
	if (strcmp(t, f->v->str) != 0)
		changed(f);
	if (*t == '\0') {
		cfg_problem(f->c, f->k->name, "is required in a client config");
		set_src(f, CFG_SRC_INVALID);
		free(t);
		return;
	}
	cl->key = t;
	cfg_fingerprint(t, strlen(t), cl->key_fp, sizeof cl->key_fp);
	want = method_key_len(cl->method);
	if (cl->method != METHOD_NONE && strlen(t) != want)
		cfg_warning(f->c, f->k->name,
		    "the key has %zu characters; a MasterDnsVPN server "
		    "key for method %d (%s) has %zu",
		    strlen(t), cl->method, method_name(cl->method), want);
}

/* Domains: trimmed, normalised, empty skipped, de-duplicated in order. */
static void
h_domains(struct fill *f)
{
	const struct toml_value *v = f->v;
	char **list = xcalloc(v->nitems + 1, sizeof *list);
	size_t i, n = 0, same = 1;

	for (i = 0; i < v->nitems; i++) {
		char *d = xstrdup(v->items[i].str ? v->items[i].str : "");
		char *t = xstrdup(str_trim(d));
		struct err de;

		free(d);
		if (*t == '\0') {
			cfg_warning(f->c, f->k->name, "empty domain skipped");
			free(t);
			same = 0;
			continue;
		}
		if (prof_domain_normalize(t, &de) == -1) {
			cfg_problem(f->c, f->k->name, "%s", de.msg);
			set_src(f, CFG_SRC_INVALID);
			free(t);
			same = 0;
			continue;
		}
		list[n++] = t;
	}
	str_dedupe(list, &n);
	for (i = 0; same && i < n; i++)
		same = n == v->nitems && strcmp(list[i], v->items[i].str) == 0;
	FIELD(f, char **) = list;
	FIELD_AT(f, f->k->off_n, size_t) = n;
	if (n == 0) {
		cfg_problem(
		    f->c, f->k->name, "must contain at least one domain");
		set_src(f, CFG_SRC_INVALID);
	} else if (!same || n != v->nitems) {
		if (f->src[f->idx] != CFG_SRC_INVALID)
			changed(f);
	}
}

/* Empty means ["1.1.1.1:53"] (not the default list). */
static void
h_dns_upstream(struct fill *f)
{
	fill_strv(f);
	if (f->v->nitems > 0)
		return;
	free(FIELD(f, char **));
	FIELD(f, char **) = xcalloc(2, sizeof(char *));
	FIELD(f, char **)[0] = xstrdup("1.1.1.1:53");
	FIELD_AT(f, f->k->off_n, size_t) = 1;
	cfg_note(f->c, f->k->name,
	    "effective [\"1.1.1.1:53\"] (upstream: empty means that)");
	changed(f);
}

static void
h_external_socks(struct fill *f)
{
	struct cfg_server *sv = &f->c->server;

	FIELD(f, int) = f->v->boolean;
	if (!f->v->boolean)
		return;
	if (*sv->forward_ip == '\0')
		cfg_problem(f->c, f->k->name, "true needs FORWARD_IP");
	if (sv->forward_port == 0)
		cfg_problem(f->c, f->k->name, "true needs a FORWARD_PORT");
}

/* Types 0..3 as a set; others dropped; nothing left means OFF only. */
static void
h_comp_mask(struct fill *f)
{
	const struct toml_value *v = f->v;
	unsigned mask = 0, same = 1;
	size_t i;

	for (i = 0; i < v->nitems; i++) {
		int64_t t = v->items[i].i64;

		if (t < 0 || t > 3) {
			cfg_warning(f->c, f->k->name,
			    "type %lld ignored (0..3)", (long long)t);
			same = 0;
			continue;
		}
		if (mask & (1u << t))
			same = 0;
		mask |= 1u << t;
	}
	if (mask == 0) {
		cfg_note(f->c, f->k->name,
		    "effective [0] (upstream: empty means OFF only)");
		mask = 1;
		same = 0;
	}
	FIELD(f, unsigned) = mask;
	if (!same)
		changed(f);
}

/* Outside 0..5: upstream silently uses 1. */
static void
h_server_method(struct fill *f)
{
	int64_t m = f->v->i64;

	FIELD(f, int) = m < 0 || m > 5 ? 1 : (int)m;
	if (m >= 0 && m <= 5)
		return;
	cfg_warning(f->c, f->k->name,
	    "%lld is outside 0..5; the upstream server uses 1 (XOR)",
	    (long long)m);
	cfg_note(
	    f->c, f->k->name, "effective 1 (upstream: out of range means 1)");
	changed(f);
}

#define MAX_KEYFILE 4096

/* ENCRYPTION_KEY_FILE ("" = encrypt_key.txt) next to the config, or
 * cfg_opts.key_file: the key text, trimmed, of the length upstream
 * insists on (it would replace a key of another length). */
static void
h_key_file(struct fill *f)
{
	struct cfg_server *sv = &f->c->server;
	const char *name;
	char *buf, *t;
	FILE *fp;
	size_t n;

	fill_str(f);
	if (*sv->key_file == '\0') {
		free(sv->key_file);
		sv->key_file = xstrdup("encrypt_key.txt");
		changed(f);
	}
	name = sv->key_file;
	if (f->opts != NULL && f->opts->key_file != NULL)
		sv->key_path = xstrdup(f->opts->key_file);
	else if (name[0] == '/')
		sv->key_path = xstrdup(name);
	else
		sv->key_path = xasprintf("%s/%s", f->c->dir, name);
	if ((fp = fopen(sv->key_path, "rb")) == NULL) {
		cfg_warning(f->c, f->k->name,
		    "%s: %s (the upstream server would generate a new key)",
		    sv->key_path, strerror(errno));
		return;
	}
	buf = xmalloc(MAX_KEYFILE + 1);
	n = fread(buf, 1, MAX_KEYFILE + 1, fp);
	fclose(fp);
	if (n > MAX_KEYFILE || memchr(buf, '\0', n) != NULL) {
		cfg_problem(f->c, f->k->name,
		    "%s: not a key file (binary or larger than %d bytes)",
		    sv->key_path, MAX_KEYFILE);
		explicit_bzero(buf, n);
		free(buf);
		return;
	}
	buf[n] = '\0';
	t = str_trim(buf);
	if (strlen(t) != method_key_len(sv->method))
		cfg_problem(f->c, f->k->name,
		    "%s: the key has %zu characters but method %d (%s) needs "
		    "%zu; the upstream server would replace it with a new key",
		    sv->key_path, strlen(t), sv->method,
		    method_name(sv->method), method_key_len(sv->method));
	if (*t != '\0') {
		sv->key = xstrdup(t);
		cfg_fingerprint(
		    sv->key, strlen(sv->key), sv->key_fp, sizeof sv->key_fp);
	}
	explicit_bzero(buf, n);
	free(buf);
}

#define ECHO_URL_MAX  1024
#define ECHO_LIST_MAX 16 /* per family: ip takes 32 services in all */
#define EXIT_LIST_MAX 8

int
cfg_echo_url_check(const char *url, int family, int *literal, struct err *e)
{
	const char *h, *end, *p;
	char host[64];
	unsigned char buf[16];

	*literal = 0;
	if (strncmp(url, "http://", 7) == 0)
		h = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		h = url + 8;
	else
		return err_set(e, "not an http:// or https:// URL");
	if (strlen(url) > ECHO_URL_MAX)
		return err_set(e, "longer than %d bytes", ECHO_URL_MAX);
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return err_set(e, "a blank or control character");
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || (size_t)(end - h - 1) >= sizeof host)
			return err_set(e, "an unterminated [IPv6] host");
		memcpy(host, h + 1, (size_t)(end - h - 1));
		host[end - h - 1] = '\0';
		if (inet_pton(AF_INET6, host, buf) != 1)
			return err_set(e, "[%s] is not an IPv6 address", host);
		*literal = 6;
	} else {
		end = h + strcspn(h, ":/?#");
		if (end == h)
			return err_set(e, "no host");
		if ((size_t)(end - h) < sizeof host) {
			memcpy(host, h, (size_t)(end - h));
			host[end - h] = '\0';
			if (inet_pton(AF_INET, host, buf) == 1)
				*literal = 4;
		}
	}
	if (family != 0 && *literal != 0 && *literal != family)
		return err_set(e,
		    "an IPv%d address in a list of IPv%d services", *literal,
		    family);
	return 0;
}

typedef int item_check_fn(const char *s, int family, struct err *e);

static int
check_echo_url(const char *s, int family, struct err *e)
{
	int lit;

	return cfg_echo_url_check(s, family, &lit, e);
}

static int
check_ip_literal(const char *s, int family, struct err *e)
{
	unsigned char buf[16];

	(void)family;
	if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
		return err_set(e, "not an IP address");
	return 0;
}

/* A list of strings, at most max (what: "services"), each passing check. */
static void
fill_checked(struct fill *f, size_t max, const char *what, int family,
    item_check_fn *check)
{
	char **v, shown[80];
	struct err e;
	size_t i, n;

	fill_strv(f);
	v = FIELD(f, char **);
	n = FIELD_AT(f, f->k->off_n, size_t);
	if (n > max) {
		cfg_problem(
		    f->c, f->k->name, "%zu %s; at most %zu", n, what, max);
		set_src(f, CFG_SRC_INVALID);
		return;
	}
	for (i = 0; i < n; i++)
		if (check(v[i], family, &e) != 0) {
			str_printable(v[i], shown, sizeof shown);
			cfg_problem(
			    f->c, f->k->name, "\"%s\": %s", shown, e.msg);
			set_src(f, CFG_SRC_INVALID);
			return;
		}
}

/* MDNS_IP_ECHO_V4 / _V6: every URL by cfg_echo_url_check, at most 16. */
static void
h_echo_urls(struct fill *f)
{
	fill_checked(f, ECHO_LIST_MAX, "services",
	    strcmp(f->k->name, "MDNS_IP_ECHO_V6") == 0 ? 6 : 4, check_echo_url);
}

/* MDNS_EXPECTED_EXIT_IP: IPv4/IPv6 literals (a lone string is one). */
static void
h_exit_ips(struct fill *f)
{
	fill_checked(f, EXIT_LIST_MAX, "addresses", 0, check_ip_literal);
}

/* MDNS_LEAK_ZONE: "" (none) or a domain name, normalised (lower case,
 * no final dot). */
static void
h_leak_zone(struct fill *f)
{
	char *z = xstrdup(str_trim(f->v->str ? f->v->str : ""));
	struct err de;

	FIELD(f, char *) = z;
	if (*z != '\0' && prof_domain_normalize(z, &de) == -1) {
		cfg_problem(f->c, f->k->name, "%s", de.msg);
		set_src(f, CFG_SRC_INVALID);
	}
}

/*
 * FEC_LEVEL: trimmed, lower-cased, '_' read as '-', the fork's aliases
 * (off, disabled, safe, low, medium, high) named by their level; "" means
 * the FEC_* keys decide. Anything else: refused, as the fork refuses it.
 */
static void
h_fec_level(struct fill *f)
{
	static const char *const alias[][2] = {{"off", "none"},
	    {"disabled", "none"}, {"disable", "none"}, {"safe", "conservative"},
	    {"low", "conservative"}, {"medium", "balanced"},
	    {"high", "aggressive"}, {"none", "none"},
	    {"conservative", "conservative"}, {"balanced", "balanced"},
	    {"aggressive", "aggressive"}};
	char *raw = xstrdup(f->v->str), *p = xstrdup(str_trim(raw)), *q;
	char shown[64];
	size_t i;

	free(raw);
	for (q = p; *q; q++)
		*q = *q == '_' ? '-' : (char)tolower((unsigned char)*q);
	for (i = 0; *p != '\0' && i < nitems(alias); i++)
		if (strcmp(p, alias[i][0]) == 0)
			break;
	if (*p != '\0' && i == nitems(alias)) {
		str_printable(p, shown, sizeof shown);
		cfg_problem(f->c, f->k->name,
		    "\"%s\" is not none, conservative, balanced or aggressive",
		    shown);
		set_src(f, CFG_SRC_INVALID);
	} else if (*p != '\0') {
		free(p);
		p = xstrdup(alias[i][1]);
	}
	if (strcmp(p, f->v->str) != 0 && i < nitems(alias)) {
		cfg_note(f->c, f->k->name,
		    "effective \"%s\" (the fork: trimmed, lower-cased, "
		    "aliases named by their level)",
		    p);
		changed(f);
	}
	FIELD(f, char *) = p;
}

int
cfg_key_source(const struct cfg *c, const char *key)
{
	size_t idx;

	if (find(c->role, key, &idx) == NULL)
		return -1;
	return c->role == CFG_SERVER ? c->server.src[idx] : c->client.src[idx];
}

int
cfg_set_source(struct cfg *c, const char *key, enum cfg_source src)
{
	size_t idx;

	if (find(c->role, key, &idx) == NULL)
		return -1;
	if (c->role == CFG_SERVER)
		c->server.src[idx] = (unsigned char)src;
	else
		c->client.src[idx] = (unsigned char)src;
	return 0;
}

/* ---- effective values as JSON ---- */

static json_t *
str_json(const char *s)
{
	struct toml_value v = {.type = TOML_STRING};

	v.str = (char *)(s ? s : "");
	v.len = strlen(v.str);
	return cfg_value_json(&v);
}

static json_t *
key_json(const struct key *k, const char *base, unsigned char src)
{
	const void *p = base + k->off;
	json_t *o = json_object(), *a;
	char fp[CFG_FP_LEN];
	size_t i, n;
	unsigned m;

	if (k->secret) {
		const char *s = *(char *const *)p;

		json_object_set_new(o, "value", json_null());
		json_object_set_new(o, "secret", json_true());
		if (s != NULL && *s != '\0') {
			cfg_fingerprint(s, strlen(s), fp, sizeof fp);
			json_object_set_new(o, "fingerprint", json_string(fp));
		}
	} else {
		switch (k->kind) {
		case K_STR:
			a = str_json(*(char *const *)p);
			break;
		case K_BOOL:
			a = json_boolean(*(const int *)p);
			break;
		case K_INT:
			a = json_integer(*(const int *)p);
			break;
		case K_UINT:
			a = json_integer((json_int_t) * (const unsigned *)p);
			break;
		case K_PORT:
			a = json_integer(*(const uint16_t *)p);
			break;
		case K_DBL:
			a = json_real(*(const double *)p);
			break;
		case K_STRV:
			a = json_array();
			n = *(const size_t *)(const void *)(base + k->off_n);
			for (i = 0; i < n; i++)
				json_array_append_new(
				    a, str_json((*(char **const *)p)[i]));
			break;
		default: /* K_MASK */
			a = json_array();
			m = *(const unsigned *)p;
			for (i = 0; i < 4; i++)
				if (m & (1u << i))
					json_array_append_new(
					    a, json_integer((json_int_t)i));
			break;
		}
		json_object_set_new(o, "value", a ? a : json_null());
	}
	json_object_set_new(
	    o, "source", json_string(cfg_source_name((enum cfg_source)src)));
	return o;
}

static json_t *
effective_json(enum cfg_role role, const char *base, const unsigned char *src)
{
	size_t n, i;
	const struct key *t = table(role, &n);
	json_t *o = json_object();

	for (i = 0; i < n; i++)
		json_object_set_new(
		    o, t[i].name, key_json(&t[i], base, src[i]));
	return o;
}

json_t *
cfg_client_effective_json(const struct cfg_client *c)
{
	return effective_json(CFG_CLIENT, (const char *)c, c->src);
}

json_t *
cfg_server_effective_json(const struct cfg_server *c)
{
	return effective_json(CFG_SERVER, (const char *)c, c->src);
}

/* ---- copies ---- */

static char **
copy_list(char *const *v, size_t n)
{
	char **r = xcalloc(n + 1, sizeof *r);
	size_t i;

	for (i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Deep-copy every string and list field of the table (dst = src done). */
static void
copy_fields(enum cfg_role role, char *dst, const char *src)
{
	size_t n, i;
	const struct key *t = table(role, &n);

	for (i = 0; i < n; i++) {
		char **d = (char **)(void *)(dst + t[i].off);
		char *const *s = (char *const *)(const void *)(src + t[i].off);

		if (t[i].kind == K_STR)
			*d = *s != NULL ? xstrdup(*s) : NULL;
		else if (t[i].kind == K_STRV)
			*(char ***)(void *)d = *(char **const *)s != NULL ?
			    copy_list(*(char **const *)s,
				*(const size_t *)(const void *)(src +
				    t[i].off_n)) :
			    NULL;
	}
}

static void
clear_fields(enum cfg_role role, char *base)
{
	size_t n, i, j, cnt;
	const struct key *t = table(role, &n);

	for (i = 0; i < n; i++) {
		if (t[i].kind == K_STR) {
			free_secret(*(char **)(void *)(base + t[i].off));
		} else if (t[i].kind == K_STRV) {
			char **v = *(char ***)(void *)(base + t[i].off);

			cnt = *(size_t *)(void *)(base + t[i].off_n);
			for (j = 0; v != NULL && j < cnt; j++)
				free(v[j]);
			free(v);
		}
	}
}

void
cfg_client_copy(struct cfg_client *dst, const struct cfg_client *src)
{
	*dst = *src;
	copy_fields(CFG_CLIENT, (char *)dst, (const char *)src);
	dst->resolvers = NULL;
	if (src->resolvers != NULL) {
		dst->resolvers =
		    xcalloc(src->nresolvers + 1, sizeof *dst->resolvers);
		memcpy(dst->resolvers, src->resolvers,
		    src->nresolvers * sizeof *dst->resolvers);
	}
}

void
cfg_server_copy(struct cfg_server *dst, const struct cfg_server *src)
{
	*dst = *src;
	copy_fields(CFG_SERVER, (char *)dst, (const char *)src);
	dst->key_path = src->key_path ? xstrdup(src->key_path) : NULL;
	dst->key = src->key ? xstrdup(src->key) : NULL;
}

void
cfg_client_clear(struct cfg_client *c)
{
	clear_fields(CFG_CLIENT, (char *)c);
	free(c->resolvers);
	explicit_bzero(c, sizeof *c);
}

void
cfg_server_clear(struct cfg_server *c)
{
	clear_fields(CFG_SERVER, (char *)c);
	free(c->key_path);
	free_secret(c->key);
	explicit_bzero(c, sizeof *c);
}
