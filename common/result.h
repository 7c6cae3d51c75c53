/* SPDX-License-Identifier: MIT */
/*
 * result.h — the one result model every probe fills and every output sink
 * (reports/sink.h) and the history store (store/store.h) reads.
 *
 * These are plain value structs: fixed-size text buffers, no pointers, no
 * hidden ownership. Copy them with '=' or memcpy, keep arrays of them, zero
 * them with res_resolver_init() and friends (which also mark every numeric
 * field "unknown").
 *
 * Conventions for every field below:
 *   - integers that can be unknown use -1 for "unknown / not measured";
 *   - yes/no/unknown facts use enum res_tri;
 *   - times of day are integer UTC milliseconds since the epoch ("_ms" with
 *     wall meaning), durations are "_ms" or "_us" as named;
 *   - sizes are bytes.
 *
 * Secrets (encryption key, SOCKS passwords) have no field here on purpose:
 * what is not in the model cannot leak through a sink or the store. Probes
 * must not put them into evidence text either; use log_redact().
 *
 * Enum values are process-internal; the stable identifiers are the names
 * returned by res_*_name() (they are what JSON, CSV and the store carry).
 * Never rename a name; add new codes at the end of an enum.
 */
#ifndef MDNS_RESULT_H
#define MDNS_RESULT_H

#include <stddef.h>
#include <stdint.h>

/* Text capacities, NUL included. */
#define RES_ADDR_MAX	 64   /* numeric IPv4/IPv6 text (+ scope) */
#define RES_DOMAIN_MAX	 256  /* a DNS name in text form */
#define RES_EVIDENCE_MAX 1024 /* what was sent, what came back */
#define RES_DETAIL_MAX	 256  /* one-line check detail */
#define RES_COMMAND_MAX	 32   /* subcommand name */
#define RES_DIGEST_MAX	 48   /* "sha256:" + 32 hex */
#define RES_VERSION_MAX	 64   /* mdns-doctor version string */
#define RES_SUBJECT_MAX	 96   /* what one check is about */
#define RES_WHOAMI_MAX	 32   /* why no whoami address (short) */

/* The furthest stage of the scan funnel a resolver was tested in. */
enum res_stage {
	RES_STAGE_NONE = 0,  /* "none": not tested at all */
	RES_STAGE_ENV,	     /* "env": path checks (interception, NS) */
	RES_STAGE_LIVENESS,  /* "liveness": answers DNS at all */
	RES_STAGE_REACH,     /* "reach": in-zone name reaches server */
	RES_STAGE_MTU,	     /* "mtu": upload/download MTU sweep + shape */
	RES_STAGE_HANDSHAKE, /* "handshake": SESSION_INIT/ACCEPT, PING */
	RES_STAGE_BURST,     /* "burst": sustained load */
	RES_STAGE_COUNT
};

/*
 * Verdicts. The first four numeric values equal the monitoring-plugin exit
 * codes (EXIT_OK .. EXIT_UNKNOWN in common/util.h); checks may use those
 * four. Per-resolver results use OK, DEGRADED and FAIL: DEGRADED passed
 * every stage but lost more of its probes than the scan's threshold
 * (docs/probes.md, "Loss"); it counts as a warning (exit code 1).
 */
enum res_verdict {
	RES_VERDICT_OK = 0,	 /* "ok" */
	RES_VERDICT_WARN = 1,	 /* "warn" */
	RES_VERDICT_FAIL = 2,	 /* "fail" */
	RES_VERDICT_UNKNOWN = 3, /* "unknown": could not be decided */
	RES_VERDICT_DEGRADED,	 /* "degraded": works, but loses probes */
	RES_VERDICT_COUNT
};

/* Stable reason codes (design.md 4.2). Add new codes at the end only. */
enum res_reason {
	RES_R_OK = 0,		/* passed every stage it was put through */
	RES_R_TIMEOUT,		/* no answer within the timeout (all tries) */
	RES_R_NXDOMAIN,		/* NXDOMAIN (e.g. AA=1 from a rewriter) */
	RES_R_SERVFAIL,		/* SERVFAIL */
	RES_R_REFUSED,		/* REFUSED */
	RES_R_FORMERR,		/* FORMERR */
	RES_R_RCODE_OTHER,	/* another non-zero RCODE (NOTIMP, ...) */
	RES_R_HIJACK,		/* forged answer: data the server never sends */
	RES_R_WRONG_SOURCE,	/* answer came from a different address/port */
	RES_R_WRONG_ID,		/* answer with a different DNS ID */
	RES_R_WRONG_QUESTION,	/* answer echoes a different question */
	RES_R_MALFORMED,	/* unparsable answer */
	RES_R_TRUNCATED,	/* TC=1 where a full answer was needed */
	RES_R_INTERCEPTED,	/* UDP/53 intercepted on the path (env) */
	RES_R_NO_DELEGATION,	/* NS delegation of the tunnel domain broken */
	RES_R_SERVER_DOWN,	/* tunnel server does not answer directly */
	RES_R_NET_ERROR,	/* local send/receive error (ENETUNREACH..) */
	RES_R_KEY_OR_METHOD,	/* server cannot decrypt: key/method */
	RES_R_UPLOAD_MTU,	/* upload MTU below the usable minimum */
	RES_R_DOWNLOAD_MTU,	/* download MTU below the usable minimum */
	RES_R_NAME_CUT,		/* long QNAMEs do not pass (length cut-off) */
	RES_R_HANDSHAKE_FAILED, /* no valid SESSION_ACCEPT (wrong verify...) */
	RES_R_BUSY,		/* SESSION_BUSY: server session table full */
	RES_R_PING_FAILED,	/* session opened but PING got no PONG */
	RES_R_ERROR_DROP,	/* server answered ERROR_DROP */
	RES_R_BURST_LOSS,	/* burst success rate below the threshold */
	RES_R_RATE_LIMITED,	/* answers stop/REFUSED above a query rate */
	RES_R_ROUTED_IN_TUNNEL, /* resolver address is routed into the tunnel */
	RES_R_EXIT_IP_MISMATCH, /* tunnel exit IP differs from the expected */
	RES_R_NOT_TUNNELLED,	/* tunnel exit IP equals the direct IP */
	RES_R_LEAK,		/* names seen by a resolver outside */
	RES_R_FETCH_FAILED,	/* IP-echo / leak endpoint could not be read */
	RES_R_SKIPPED,		/* not tested (filtered out, cancelled) */
	RES_R_INTERNAL,		/* internal error in mdns-doctor */
	RES_R_NO_SIGNATURE,	/* NOERROR/NODATA, but not the tunnel
				   server's signature (AA=1 or SOA) */
	RES_R_NO_BASELINE,	/* nothing to compare with (no expected
				   exit IP, no baseline) */
	RES_R_DISAGREE,		/* independent services answered
				   differently */
	RES_R_NO_ROUTE,		/* the kernel has no usable route */
	RES_R_LOSS,		/* passed, but lost more probes than allowed */
	RES_R_WEAK_METHOD,	/* DATA_ENCRYPTION_METHOD 0..2: readable or
				   forgeable (common/method.h) */
	RES_R_NO_ENGINE,	/* no engine answers on its control socket */
	RES_R_NOT_LIVE,		/* the engine answers but is not connected */
	RES_R_THRESHOLD,	/* a measured value crossed -w/-c */
	RES_R_STALE,		/* the last-known-good list is too old */
	RES_R_DEADLINE,		/* the global deadline ended the check */
	RES_R_COUNT
};

/* Yes / no / unknown for facts a probe may or may not have established. */
enum res_tri {
	RES_TRI_UNKNOWN = -1,
	RES_TRI_NO = 0,
	RES_TRI_YES = 1,
};

/*
 * Server session policy from SESSION_ACCEPT bytes 2 and 7..19
 * (wire-protocol.md 1.9), decoded into units. present == 0 means no policy
 * bytes were seen (no handshake, or an old 7-byte accept); then every other
 * field is -1.
 */
struct res_policy {
	int present;	      /* 1 when bytes 7..19 were received */
	int comp_pair;	      /* byte 2: accepted compression pair, 0..255 */
	int max_dup;	      /* byte 7 low nibble: max packet duplication */
	int max_setup_dup;    /* byte 7 high nibble: setup dup. */
	int max_upload_mtu;   /* byte 8, bytes */
	int max_download_mtu; /* bytes 9..10, bytes */
	int max_workers;      /* byte 11: RX/TX workers */
	int min_ping_ms;      /* byte 12 decoded: 50 + b*950/255, ms */
	int max_batch;	      /* byte 13: packets per batch */
	int max_arq_window;   /* bytes 14..15: ARQ window, packets */
	int max_nack_gap;     /* byte 16: ARQ NACK gap, packets */
	int min_comp_size;    /* bytes 17..18: compression min size, bytes */
	int min_rto_ms;	      /* byte 19 decoded like byte 12, ms */
};

/* QNAME / answer shape checks from the MTU stage. */
struct res_shape {
	int longest_name; /* longest total QNAME that passed, bytes */
	int max_labels;	  /* most labels in a QNAME that passed */
	enum res_tri case_preserved; /* 0x20 letter case came back intact */
	int max_answer_bytes; /* largest DNS response actually delivered */
	int edns_size;	      /* EDNS UDP size advertised; 0 = no EDNS */
	enum res_tri tc_seen; /* a TC=1 answer was seen */
	enum res_tri tcp_ok;  /* TCP fallback worked after TC=1 */
};

/*
 * One resolver × domain result.
 *
 * Loss (docs/probes.md, "Loss"): `probes` counts the probes that should
 * have had a valid answer (every try of every step that passed, MTU
 * candidates up to the measured MTU, the loss probes), `lost` those that
 * got none in time (timeout, REFUSED, SERVFAIL, a wrong answer).
 * `*_at_ceiling`: the MTU equals the top of the search range the user
 * chose (not a limit of the protocol), so the path may carry more;
 * unknown when no MTU was measured.
 */
struct res_resolver {
	char addr[RES_ADDR_MAX];	 /* numeric address, no brackets/port */
	uint16_t port;			 /* UDP port, usually 53 */
	char domain[RES_DOMAIN_MAX];	 /* tunnel domain tested; "" = none */
	enum res_stage stage;		 /* furthest stage attempted */
	enum res_verdict verdict;	 /* OK, DEGRADED or FAIL */
	enum res_reason reason;		 /* why (RES_R_OK when verdict OK) */
	int64_t rtt_us;			 /* median round trip, microseconds */
	int upload_mtu;			 /* exact upload MTU, bytes */
	int download_mtu;		 /* exact download MTU, bytes */
	struct res_shape shape;		 /* QNAME/answer shape checks */
	struct res_policy policy;	 /* server policy from the handshake */
	int burst_sent;			 /* burst queries sent; 0 = none */
	int burst_ok;			 /* of those, answered correctly */
	double burst_qps;		 /* delivered answers per second; -1 */
	int probes;			 /* counted for loss; -1 = none */
	int lost;			 /* of those, no valid answer in time */
	enum res_tri up_at_ceiling;	 /* upload_mtu is the range's top */
	enum res_tri down_at_ceiling;	 /* download_mtu: the same */
	char evidence[RES_EVIDENCE_MAX]; /* sent/received, one paragraph */
	int64_t at_ms;			 /* wall UTC ms of verdict; 0 = now */
	/* scan --whoami (docs/checks.md): the resolver's egress as a
	 * whoami name reported it. whoami_asked 0: the run asked none (the
	 * texts are ""); else whoami is the address ("" none) and
	 * whoami_error why there is none ("not tested", "timeout",
	 * "rcode 5", "no address", "malformed"; "" with an address). */
	int whoami_asked;
	char whoami[RES_ADDR_MAX];
	char whoami_name[RES_DOMAIN_MAX]; /* the name that answered, or
					     the first that failed */
	char whoami_error[RES_WHOAMI_MAX];
};

/* Per-stage counters of a run. */
struct res_stage_stats {
	uint32_t tested; /* resolvers × domains tested */
	uint32_t passed;
	uint32_t failed;
	int64_t duration_ms; /* wall time spent in the stage, ms */
};

/* A run summary: one command invocation. */
struct res_run {
	char command[RES_COMMAND_MAX];	  /* "scan", "mtu", ... */
	char args_digest[RES_DIGEST_MAX]; /* res_args_digest() of argv */
	char version[RES_VERSION_MAX];	  /* mdns-doctor version */
	int64_t started_ms;		  /* wall UTC ms */
	int64_t ended_ms;		  /* wall UTC ms; 0 = still running */
	struct res_stage_stats stages[RES_STAGE_COUNT]; /* by enum res_stage */
};

enum res_check_kind {
	RES_CHECK_IP = 0,    /* "ip": public IP through the tunnel */
	RES_CHECK_LEAK,	     /* "leak": DNS leak */
	RES_CHECK_HANDSHAKE, /* "handshake": session through the engine */
	RES_CHECK_ROUTE,     /* "route": resolver routed into the tunnel */
	RES_CHECK_INTERCEPT, /* "intercept": UDP/53 intercepted on path */
	RES_CHECK_SERVER,    /* "server": tunnel server answers directly */
	RES_CHECK_SECURITY,  /* "security": a finding about the set-up
				(the encryption method) */
	RES_CHECK_ENGINE,    /* "engine": the running engine is live */
	RES_CHECK_SCAN,	     /* "scan": a small scan of the list */
	RES_CHECK_FRESH,     /* "fresh": age of the last-known-good list */
	RES_CHECK_COUNT
};

/*
 * One check (ip, leak, handshake, route). A command may emit several
 * checks of one kind, one per subject: the resolver address a route check
 * is about, the address family of an ip check ("ipv4"), "" for a check
 * about the whole set-up.
 */
struct res_check {
	enum res_check_kind kind;
	char subject[RES_SUBJECT_MAX];	 /* "" = the whole set-up */
	enum res_verdict verdict;	 /* any of the four */
	enum res_reason reason;		 /* stable code for the verdict */
	char detail[RES_DETAIL_MAX];	 /* one line for a person */
	char evidence[RES_EVIDENCE_MAX]; /* what was sent, what came back */
	int64_t at_ms;			 /* wall UTC ms; 0 = now */
};

/*
 * Reset to "nothing known": empty text, -1 numbers, RES_TRI_UNKNOWN, no
 * policy, no burst, at_ms 0. A resolver starts as port 53, stage none,
 * verdict fail, reason skipped (so a result nobody filled in never reads
 * as a success); a check starts as verdict unknown, reason skipped.
 */
void res_resolver_init(struct res_resolver *r);
void res_run_init(struct res_run *run);
void res_check_init(struct res_check *c);
void res_policy_init(struct res_policy *p);

/*
 * The policy's value fields (all but present) in struct order, so sinks
 * and the store walk one list instead of naming each field:
 * res_policy_field_name(i) is the stable name ("comp_pair"), get/set read
 * and write field i. i must be below RES_POLICY_NFIELDS.
 */
#define RES_POLICY_NFIELDS 12
const char *res_policy_field_name(size_t i);
int res_policy_get(const struct res_policy *p, size_t i);
void res_policy_set(struct res_policy *p, size_t i, int v);

/*
 * Names and texts. *_name() returns the stable lower-case identifier
 * ("wrong_source"), res_reason_text() a short sentence for people. Out of
 * range values give "invalid". The strings are static.
 */
const char *res_stage_name(enum res_stage s);
const char *res_verdict_name(enum res_verdict v);
const char *res_reason_name(enum res_reason r);
const char *res_reason_text(enum res_reason r);
const char *res_check_kind_name(enum res_check_kind k);
const char *res_tri_name(enum res_tri t); /* "yes" "no" "unknown" */

/*
 * Reverse lookups of the names above. Return 0 and set *out, or -1 when
 * name is not a known identifier (out untouched).
 */
int res_stage_from_name(const char *name, enum res_stage *out);
int res_verdict_from_name(const char *name, enum res_verdict *out);
int res_reason_from_name(const char *name, enum res_reason *out);
int res_check_kind_from_name(const char *name, enum res_check_kind *out);

/*
 * Bounded formatted write into a fixed text field (evidence, detail):
 * truncates, always NUL-terminates. Use as
 *	res_textf(r.evidence, sizeof r.evidence, "sent %s", q);
 */
void res_textf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Burst success rate ok/sent in [0, 1], or -1 when no burst was run. */
double res_burst_rate(const struct res_resolver *r);

/* Loss ratio lost/probes in [0, 1], or -1 when not measured. */
double res_loss_rate(const struct res_resolver *r);

/* Passed every stage it was put through: verdict OK or DEGRADED. */
int res_passed(const struct res_resolver *r);

/*
 * The monitoring-plugin exit code a verdict stands for: ok 0, warn and
 * degraded 1, fail 2, unknown (and anything else) 3.
 */
int res_verdict_exit(enum res_verdict v);

/*
 * Digest of a command line for runs: "sha256:" + first 32 hex digits of
 * SHA-256 over the arguments joined by NUL bytes. Identifies "the same
 * invocation" (for --resume and history) without storing arguments that
 * might contain secrets. out must hold RES_DIGEST_MAX bytes.
 */
void res_args_digest(int argc, char *const argv[], char *out, size_t outlen);

#endif
