/* SPDX-License-Identifier: MIT */
/*
 * scan-judge.h — the scan's judgement of what a resolver sent back: the
 * only place where answers from untrusted resolvers are read after the
 * socket layer has matched them to a query (by ID, source and question).
 *
 * One pure entry point, scan_judge_answer: given the step the query was
 * for and what the query asked (its bytes, the MTU candidate and probe
 * code, the verify code), it classifies the answer (pass, retry, size
 * failure, fail) with a reason code, appends one piece of evidence to the
 * result, fills what the answer shows about the path (shape: TC seen,
 * largest answer, EDNS size, longest name, labels, case) and the server's
 * policy, and writes trace lines for `mtu` / `handshake`. No I/O, no
 * clock, no scan state: the fuzz target (tests/fuzz/fuzz-scan-answer.c)
 * calls it directly. docs/probes.md lists every reason.
 */
#ifndef MDNS_SCAN_JUDGE_H
#define MDNS_SCAN_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "proto/dns.h"

/* What the query was for. */
enum scan_step {
	SCAN_STEP_LIVE = 0, /* liveness: a neutral name */
	SCAN_STEP_SERVER,   /* env: the tunnel server asked directly */
	SCAN_STEP_REACH,    /* an undecodable random in-zone name */
	SCAN_STEP_UP,	    /* MTU_UP_REQ of `cand` bytes */
	SCAN_STEP_DOWN,	    /* MTU_DOWN_REQ asking `cand` bytes */
	SCAN_STEP_TCP,	    /* that download probe again over TCP */
	SCAN_STEP_INIT,	    /* SESSION_INIT with `verify` */
	SCAN_STEP_PING,	    /* PING on the new session */
	SCAN_STEP_CLOSE,    /* SESSION_CLOSE */
	SCAN_STEP_COUNT,
};

enum scan_outcome {
	SCAN_PASS = 0, /* the step passed */
	SCAN_RETRY,    /* this attempt failed; another try may pass */
	SCAN_SIZEFAIL, /* the MTU candidate failed for good (TC, cut) */
	SCAN_FAIL,     /* the item fails now with the reason */
};

struct scan_judge {
	/* The question: what was asked. */
	enum scan_step step;
	enum dns_resp_mode mode; /* response mode of tunnel answers */
	const uint8_t *query;	 /* our query message (header, question) */
	size_t qwire;		 /* its QNAME wire length */
	size_t qchars;		 /* its QNAME text length */
	int cand;		 /* UP, DOWN, TCP: the size asked */
	uint32_t code;		 /* UP, DOWN, TCP: the probe code */
	uint8_t verify[4];	 /* INIT: our verify code */
	double ms;		 /* since the query went out (trace only) */

	/* What the answer teaches. */
	struct res_resolver *r; /* evidence appended; shape, policy filled */
	int tc_cand;		/* DOWN: first size answered TC=1 (set once) */
	uint8_t sid, cookie;	/* INIT: the session the server opened */

	/* One line per step seen (NULL: no trace, nothing formatted). */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
	/* Work buffer for the frame inside the answer (4096 is enough). */
	uint8_t *fbuf;
	size_t fcap;
};

/*
 * Judge the answer m[0..n) to the query described by j. Returns the
 * outcome and sets *reason (RES_R_OK on a pass; for TCP the outcome is
 * pass or fail and only the trace says why). Every byte of m may be
 * hostile; nothing is read beyond n.
 */
enum scan_outcome scan_judge_answer(
    struct scan_judge *j, const uint8_t *m, size_t n, enum res_reason *reason);

/*
 * Classify an answer to the reach probe (a TXT query for an undecodable
 * random in-zone name): 0 when it is the tunnel server's signature
 * (NOERROR, no records, AA=0, no authority records, TC=0); else -1 with
 * *reason (nxdomain, servfail, refused, formerr, rcode_other, hijack for
 * records the server never sends, truncated, no_signature, malformed).
 * why gets one line of evidence either way.
 */
int scan_judge_reach(const uint8_t *msg, size_t len, enum res_reason *reason,
    char *why, size_t cap);

/*
 * Whether the answer m[0..n) echoes the question of our query (QDCOUNT 1,
 * same name case-insensitively, type and class): 1 or 0. *exact is 1 when
 * the name also kept its case (0x20 letters), which says whether the path
 * preserves case.
 */
int scan_question_matches(
    const uint8_t *query, size_t qwire, const uint8_t *m, size_t n, int *exact);

/* Append "; "-separated evidence to r->evidence (cut to fit). */
void scan_evid(struct res_resolver *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Labels of the QNAME of a query message (for trace lines and shape). */
int scan_query_labels(const uint8_t *query, size_t qwire);

#endif
