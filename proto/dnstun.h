/* SPDX-License-Identifier: MIT */
/*
 * dnstun.h — DNS through the tunnel (DNS_QUERY_REQ / DNS_QUERY_RES,
 * wire-protocol.md 1.14), the pure parts both sides share: reading an
 * application's DNS request the way upstream does, the policy of which
 * questions are carried, the rcode-only answers upstream builds (FORMERR,
 * NOTIMP, SERVFAIL), the rewrite of a stored answer for a new query, the
 * cache key, the check that an upstream resolver's answer belongs to a
 * query, cutting a message into DNS_QUERY fragments and the reassembly
 * table for them.
 *
 * Byte for byte upstream MasterDnsVPN (Go, bc69a58) where upstream defines
 * the bytes; docs/dns-tunnel.md is the specification and lists every
 * place where we deliberately differ (bounds, duplicate handling).
 *
 * Conventions: no clock (time comes in as "now", microseconds of any
 * monotonic origin), no socket, no logging. Message functions write into
 * caller buffers and never allocate; the reassembly table allocates and
 * accounts for every byte it holds. Length-returning functions return the
 * length or -1.
 */
#ifndef MDNS_DNSTUN_H
#define MDNS_DNSTUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/* Longest question name text kept (lower-case, dot-joined). Upstream has
 * no bound; a longer name is treated as an unparseable question. */
#define DNSTUN_NAME_MAX 1024
/* Cache key: QTYPE (2) ‖ QCLASS (2) ‖ name text (upstream dnscache). */
#define DNSTUN_KEY_MAX (4 + DNSTUN_NAME_MAX)
/* Largest DNS message carried (UDP payload limit). */
#define DNSTUN_MSG_MAX 65535
/* Fragments of one message (the frame's 8-bit total). */
#define DNSTUN_FRAG_MAX 255

#define DNSTUN_RCODE_FORMERR  1
#define DNSTUN_RCODE_SERVFAIL 2
#define DNSTUN_RCODE_NOTIMP   4

/* ---- reading a request (upstream ParseDNSRequestLite) ----------------- */

/*
 * A question name as upstream reads it: labels joined by '.', ASCII A-Z
 * lowered, other bytes (dots included) kept as they are, "." for the root.
 */
struct dnstun_question {
	uint16_t qtype, qclass;
	size_t name_len;
	char name[DNSTUN_NAME_MAX + 1];
};

enum dnstun_req_status {
	DNSTUN_REQ_OK = 0,
	DNSTUN_REQ_SHORT,	 /* shorter than a header */
	DNSTUN_REQ_NOT_REQUEST,	 /* QR set, opcode > 6, QD 0 or > 64, counts */
	DNSTUN_REQ_BAD_QUESTION, /* a question does not parse */
};

struct dnstun_req {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
	size_t question_end;	  /* offset after the last question */
	struct dnstun_question q; /* the first question */
};

/*
 * Read a request: header, then every question (names may use compression
 * pointers to anywhere in the message, at most 10 jumps). On DNSTUN_REQ_OK
 * r is filled; on the other statuses the header fields may be set.
 */
enum dnstun_req_status dnstun_req_parse(
    const uint8_t *msg, size_t len, struct dnstun_req *r);
/*
 * The same reader without the request checks (upstream ParsePacketLite),
 * for answers: the client keys its cache on the answer's first question.
 * DNSTUN_REQ_BAD_QUESTION also when there is no question at all.
 */
enum dnstun_req_status dnstun_msg_parse(
    const uint8_t *msg, size_t len, struct dnstun_req *r);
/* "ok", "short", "not a request", "bad question". */
const char *dnstun_req_strstatus(int status);

/*
 * Whether upstream's server resolves a question: class IN and type A,
 * AAAA, CNAME, MX, NS, PTR, SRV, SVCB, CAA, NAPTR, SOA, HTTPS or TLSA.
 */
bool dnstun_type_supported(uint16_t qtype, uint16_t qclass);

/* ---- rcode-only answers (upstream dnsparser/response.go) ----------------
 *
 * Header: the request's id; flags QR, RA, the request's opcode, RD and CD,
 * the rcode; AA and TC clear. Body: the question section copied verbatim
 * and the request's first OPT RR echoed (ARCOUNT 1), nothing else.
 */

/* From a parsed request (QDCOUNT and questions as parsed). */
long dnstun_answer_rcode(const uint8_t *query, size_t len,
    const struct dnstun_req *r, unsigned rcode, uint8_t *out, size_t cap);
/*
 * From raw bytes whose questions did not parse (upstream
 * BuildFormatErrorResponse): questions are skipped structurally; when
 * that fails too, QDCOUNT 0 and no question. -1 when the bytes are not a
 * request (no answer at all).
 */
long dnstun_answer_rcode_raw(
    const uint8_t *query, size_t len, unsigned rcode, uint8_t *out, size_t cap);

/* ---- what each side does with a request -------------------------------- */

enum dnstun_action {
	DNSTUN_DROP = 0, /* no answer at all */
	DNSTUN_REPLY,	 /* answer with the bytes written to out */
	DNSTUN_RESOLVE,	 /* cache, then tunnel (client) or upstream (server) */
};

/* Why; the index of a failure counter. */
enum dnstun_why {
	DNSTUN_WHY_OK = 0,
	DNSTUN_WHY_SHORT,	 /* dropped: shorter than a header */
	DNSTUN_WHY_NOT_REQUEST,	 /* dropped: not a request */
	DNSTUN_WHY_BAD_QUESTION, /* server: FORMERR; client: dropped */
	DNSTUN_WHY_UNSUPPORTED,	 /* NOTIMP */
	DNSTUN_WHY_NOSPACE,	 /* out too small for the answer: dropped */
	DNSTUN_WHY_COUNT
};
/* "ok", "short", "not_request", "bad_question", "unsupported", "nospace". */
const char *dnstun_why_name(int why);

/*
 * Server, for a reassembled DNS_QUERY_REQ (upstream
 * buildDNSQueryResponsePayload before the cache): shorter than a header or
 * not a request -> DROP; questions that do not parse -> REPLY FORMERR;
 * an unsupported type or class -> REPLY NOTIMP; otherwise RESOLVE with r
 * filled. *out_len is set for REPLY; *why always.
 */
enum dnstun_action dnstun_server_check(const uint8_t *query, size_t len,
    struct dnstun_req *r, uint8_t *out, size_t cap, size_t *out_len,
    enum dnstun_why *why);

/* dnstun_local_check flags. */
#define DNSTUN_LOCAL_REFUSE_UNSUPPORTED 0x1 /* NOTIMP here, not upstream */

/*
 * Client, for a datagram from the local listener or SOCKS UDP (upstream
 * ProcessDNSQuery): anything that is not a readable request -> DROP (no
 * answer); otherwise RESOLVE, every type included, because upstream's
 * client sends TXT and friends to the server, which answers NOTIMP. With
 * DNSTUN_LOCAL_REFUSE_UNSUPPORTED an unsupported question is answered
 * here with the NOTIMP the server would send (REPLY), saving the trip.
 */
enum dnstun_action dnstun_local_check(const uint8_t *query, size_t len,
    unsigned flags, struct dnstun_req *r, uint8_t *out, size_t cap,
    size_t *out_len, enum dnstun_why *why);

/* ---- stored answers ---------------------------------------------------- */

/*
 * Upstream PatchResponseForQuery, in place: the answer takes the query's
 * id and the query's RD and CD bits; nothing else changes (TTLs are not
 * decremented). Messages shorter than 2 (id) or 4 (flags) bytes keep
 * what they have.
 */
void dnstun_patch_answer(
    uint8_t *ans, size_t len, const uint8_t *query, size_t qlen);

/* Cache key of a question into key (DNSTUN_KEY_MAX); returns its length. */
size_t dnstun_key(const struct dnstun_question *q, uint8_t *key);
/* FNV-1a (32 bit) of a key: upstream picks the cache shard with it. */
uint32_t dnstun_key_hash(const uint8_t *key, size_t len);

/* ---- an upstream resolver's answer -------------------------------------- */

enum dnstun_ans_check {
	DNSTUN_ANS_OK = 0,
	DNSTUN_ANS_SHORT,	 /* shorter than a header */
	DNSTUN_ANS_NOT_RESPONSE, /* QR clear */
	DNSTUN_ANS_ID,		 /* another id */
	DNSTUN_ANS_QUESTION,	 /* another or an unreadable question */
};
/*
 * Does msg answer the question q asked with id: QR set, same id, and a
 * first question with the same name (as read by dnstun_req_parse, so case
 * does not matter), type and class. An answer without a question is
 * accepted only with a non-zero rcode (servers answer FORMERR or NOTIMP
 * so). Upstream checks the id only; docs/dns-tunnel.md says why we check
 * more.
 */
enum dnstun_ans_check dnstun_answer_check(const uint8_t *msg, size_t len,
    uint16_t id, const struct dnstun_question *q);
/* "ok", "short", "not_response", "id", "question". */
const char *dnstun_ans_check_name(int c);

/* ---- fragments --------------------------------------------------------- */

/*
 * Fragments for a message of len bytes at mtu payload bytes per frame
 * (upstream cuts at exactly mtu; the last one is shorter): 1..255, or 0
 * when len or mtu is 0 or more than 255 fragments would be needed (the
 * upstream server then sends nothing; its client would wrap the count).
 */
unsigned dnstun_frag_count(size_t len, size_t mtu);

/*
 * Fragment i of msg as a DNS_QUERY_REQ or DNS_QUERY_RES frame: stream 0,
 * seq, frag_id i, frag_total = dnstun_frag_count (1 for a single frame),
 * comp 0, payload pointing into msg. session_id and cookie are left 0 for
 * the caller. Returns 0, or -1 for another type or i out of range.
 */
int dnstun_frag_frame(const uint8_t *msg, size_t len, size_t mtu, unsigned i,
    uint8_t type, uint16_t seq, struct wire_frame *f);

/*
 * The acknowledgement of a DNS_QUERY_REQ or _RES frame: its _ACK type,
 * stream 0, the same seq, frag_id and frag_total, no payload; session_id
 * and cookie copied. Returns 0, or -1 for another type.
 */
int dnstun_ack_frame(const struct wire_frame *in, struct wire_frame *ack);

/* ---- reassembly --------------------------------------------------------
 *
 * Keyed by (session, seq) like upstream's fragmentstore. A message is
 * complete when fragments 0..total-1 are all there; a frame with total 0
 * or 1 is a whole message (its frag_id is not looked at, as upstream). A
 * completed (session, seq) is remembered for the timeout, so late copies
 * of its fragments are recognised (DONE) instead of making a second
 * message. Memory is bounded per session and in total; see
 * docs/dns-tunnel.md for the eviction rules.
 */

struct dnstun_reasm;

struct dnstun_reasm_cfg {
	uint64_t timeout_us; /* assembly timeout = how long a done id is kept */
	size_t max_msg;	     /* largest message, bytes (<= DNSTUN_MSG_MAX) */
	unsigned max_partial_session; /* incomplete messages per session */
	size_t max_bytes_session;     /* bytes held per session */
	unsigned max_partial_total;   /* incomplete messages, all sessions */
	size_t max_bytes_total;	      /* bytes held, all sessions */
	unsigned max_done;	      /* completed ids remembered */
};

/*
 * Defaults. Server: timeout 300 s (DNS_FRAGMENT_ASSEMBLY_TIMEOUT), 64
 * messages / 256 KiB per session, 4096 / 8 MiB in total, 16384 done ids.
 * Client: 60 s (DNS_RESPONSE_FRAGMENT_TIMEOUT_SECONDS), 256 / 4 MiB for
 * its one session and in total, 4096 done ids. max_msg 65535.
 */
void dnstun_reasm_defaults(struct dnstun_reasm_cfg *c, int is_server);

enum dnstun_ra {
	DNSTUN_RA_PARTIAL = 0, /* stored; more fragments needed */
	DNSTUN_RA_COMPLETE,    /* the message is in out[0 .. *out_len) */
	DNSTUN_RA_DUP,	       /* this fragment is already held: ignored */
	DNSTUN_RA_DONE,	       /* this message was completed lately */
	DNSTUN_RA_BAD,	       /* frag_id >= total, empty, or too big */
	DNSTUN_RA_NOROOM,      /* over the memory bounds: dropped */
};
/* "partial", "complete", "dup", "done", "bad", "noroom". */
const char *dnstun_ra_name(int r);

struct dnstun_reasm_stats {
	uint64_t fragments;	/* fragments offered */
	uint64_t completed;	/* messages completed */
	uint64_t dup;		/* DNSTUN_RA_DUP */
	uint64_t done_dup;	/* DNSTUN_RA_DONE */
	uint64_t bad;		/* DNSTUN_RA_BAD, too_big included */
	uint64_t too_big;	/* message over max_msg (dropped whole) */
	uint64_t total_changed; /* a fragment gave another total: restarted */
	uint64_t noroom;	/* DNSTUN_RA_NOROOM */
	uint64_t evicted;	/* incomplete messages evicted for room */
	uint64_t expired;	/* incomplete messages timed out */
	uint64_t done_evicted;	/* done ids forgotten early for room */
};

/* A table with the given bounds (copied). Never NULL. */
struct dnstun_reasm *dnstun_reasm_new(const struct dnstun_reasm_cfg *c);
void dnstun_reasm_free(struct dnstun_reasm *r);

/*
 * Offer one fragment. On DNSTUN_RA_COMPLETE the message (at most
 * cfg.max_msg bytes, so out needs that much) is copied to out and the
 * (session, seq) is remembered as done. Expired entries are swept first.
 */
enum dnstun_ra dnstun_reasm_add(struct dnstun_reasm *r, uint8_t session,
    uint16_t seq, uint8_t frag_id, uint8_t frag_total, const uint8_t *p,
    size_t n, uint64_t now, uint8_t *out, size_t cap, size_t *out_len);

/* Drop incomplete messages and done ids older than the timeout. */
void dnstun_reasm_expire(struct dnstun_reasm *r, uint64_t now);
/* Forget one done id, so the message can be offered again (the server
 * could not take it and left it unacknowledged). */
void dnstun_reasm_forget(struct dnstun_reasm *r, uint8_t session, uint16_t seq);
/* Drop everything of one session (session closed). */
void dnstun_reasm_drop_session(struct dnstun_reasm *r, uint8_t session);

const struct dnstun_reasm_stats *dnstun_reasm_stats(
    const struct dnstun_reasm *r);
/* Current holdings: incomplete messages, bytes (payload + bookkeeping),
 * done ids; per session when session >= 0, in total for -1. */
unsigned dnstun_reasm_partial(const struct dnstun_reasm *r, int session);
size_t dnstun_reasm_bytes(const struct dnstun_reasm *r, int session);
unsigned dnstun_reasm_done(const struct dnstun_reasm *r);

#endif
