/* SPDX-License-Identifier: MIT */
/*
 * mtu.h — upstream MasterDnsVPN's MTU discovery (internal/client/mtu.go,
 * bc69a58) written once for every caller: the client engine's per-resolver
 * tests and checks, `scan` and `mtu`. Three parts:
 *
 *   ranges	upload [max(MIN, 10), min(MAX or 512, 512, QNAME cap)],
 *		download [max(MIN, 20), MAX] (testUploadMTU/testDownloadMTU);
 *   probes	the MTU_UP_REQ / MTU_DOWN_REQ frame for a candidate and the
 *		judgement of the frame that answers it (sendUploadMTUProbe,
 *		sendDownloadMTUProbe, buildMTUProbeQuery);
 *   search	binarySearchMTU as a state machine: the high end, then the
 *		low end, then bisection of the open interval, each candidate
 *		tried up to `tries` times with a timeout per attempt.
 *
 * Pure logic: no clock, no socket, no allocation. Time comes in as now_us
 * (any monotonic microsecond count); the caller sends the query, arms its
 * own timer at the deadline the search gives and reports what came back.
 * docs/wire.md ("MTU discovery") describes the contract and the one place
 * where a caller may shorten upstream's retries.
 */
#ifndef MDNS_MTU_H
#define MDNS_MTU_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

#define MTU_UP_FLOOR	  10  /* upstream minUploadMTUFloor */
#define MTU_DOWN_FLOOR	  20  /* minDownloadMTUFloor (SESSION_ACCEPT size) */
#define MTU_UP_CAP	  512 /* defaultUploadMaxCap */
#define MTU_PROBE_SESSION 255

enum mtu_dir {
	MTU_UP = 0,
	MTU_DOWN = 1,
};

/* ---- ranges ------------------------------------------------------------- */

/*
 * The high end of the upload search: MAX_UPLOAD_MTU (<= 0 or above 512
 * means 512, as upstream) capped by the largest payload whose QNAME fits
 * 253 characters under a domain of domain_len characters with the method
 * (wire_max_upload_payload). 0 when nothing fits: the search then rejects
 * at once.
 */
int mtu_upload_max(int max_cfg, size_t domain_len, int method);
/*
 * The same from a QNAME room already known (wire_max_upload_payload of
 * the domain and method): min(MAX_UPLOAD_MTU, 512, room), MAX <= 0 or
 * above 512 meaning 512. The engine's pool keeps the room per domain.
 */
int mtu_upload_high(int max_cfg, size_t room);

/* ---- probes ------------------------------------------------------------- */

/*
 * The probe frame for candidate size: session 255, cookie 0. MTU_UP_REQ
 * (stream 1, seq 1, fragment 0 of 1) carries exactly size payload bytes;
 * MTU_DOWN_REQ asks for size bytes and is padded to max(7, up_mtu) bytes,
 * so the download probe also carries an upload-sized name. mode is the
 * response mode (WIRE_RESPONSE_*), code the probe code the answer must
 * echo. The payload goes to buf (cap bytes; 4200 holds any candidate) and
 * f points at it. Returns 0, or -1 for a size upstream never sends (upload
 * below 5, download below 20 or above 65535) or a short buf: count that as
 * a failed attempt, as upstream does.
 */
int mtu_probe_frame(enum mtu_dir d, uint8_t mode, uint32_t code, int size,
    int up_mtu, uint8_t *buf, size_t cap, struct wire_frame *f);

enum mtu_echo {
	MTU_ECHO_OK = 0, /* the echo of the probe: the candidate passed */
	MTU_ECHO_OTHER,	 /* another frame type answered */
	MTU_ECHO_WRONG,	 /* the right type with a wrong code, size or length */
};

/*
 * Judge the frame that answered the probe (code, size) in direction d:
 * MTU_UP_RES with exactly 6 payload bytes, our code and the echoed size;
 * MTU_DOWN_RES with exactly size payload bytes, our code and the echoed
 * size. Everything else fails the attempt; MTU_ECHO_OTHER lets a caller
 * tell "the server decoded the probe into something else" (a wrong key or
 * method) from a damaged echo.
 */
enum mtu_echo mtu_probe_check(
    enum mtu_dir d, uint32_t code, int size, const struct wire_frame *f);

/* ---- search ------------------------------------------------------------- */

enum mtu_phase {
	MTU_PH_HIGH = 0, /* testing the high end */
	MTU_PH_LOW,	 /* high failed: testing the low end */
	MTU_PH_BISECT,	 /* low passed: bisecting (low, high) */
	MTU_PH_DONE,
};

/* What the caller has to do next. */
enum mtu_state {
	MTU_SEND = 0, /* send an attempt for mtu_search_next() now */
	MTU_WAIT,     /* an attempt is in flight until s->deadline_us */
	MTU_DONE,     /* finished: s->best (0 = rejected) */
};

/* How one attempt ended (the timeout is mtu_search_expire's business). */
enum mtu_outcome {
	MTU_PASS = 0,	/* the echo (mtu_probe_check gave MTU_ECHO_OK) */
	MTU_FAIL,	/* a wrong answer: the next try, if any is left */
	MTU_FAIL_FINAL, /* a failure a retry cannot change: no more tries */
};

struct mtu_search {
	int low, high;	 /* the range after the floor is applied */
	int left, right; /* open interval still to search */
	int best;	 /* best passing value; 0 = none (rejected) */
	int cand;	 /* value under test, 0 when done */
	int steps;	 /* candidates decided so far */
	int tries;     /* attempts per candidate (upstream MTU_TEST_RETRIES) */
	int attempt;   /* attempts sent for cand */
	int probes;    /* attempts sent in all */
	int waiting;   /* an attempt is in flight */
	int timed_out; /* the last failed attempt timed out */
	uint64_t timeout_us;  /* per attempt (MTU_TEST_TIMEOUT) */
	uint64_t sent_us;     /* when the attempt in flight went out */
	uint64_t deadline_us; /* when it times out */
	uint64_t best_rtt_us; /* answer time of the passing best attempt */
	enum mtu_phase phase;
};

/*
 * Start a search over [max(min, floor), max] with tries attempts (< 1
 * counts as 1) of timeout_us each per candidate. An empty range (max <= 0
 * or high < low) is done at once with best 0, as upstream. A single value
 * (min == max, floor 0) is how a caller tests one size with retries.
 */
void mtu_search_init(struct mtu_search *s, int min, int max, int floor,
    int tries, uint64_t timeout_us);
/* The value under test, or 0 when the search is done. */
int mtu_search_next(const struct mtu_search *s);
/* MTU_SEND, MTU_WAIT or MTU_DONE. */
enum mtu_state mtu_search_state(const struct mtu_search *s);

/*
 * Candidate level: report that mtu_search_next()'s value passed or failed
 * for good (all its attempts folded into one outcome) and move on: high
 * passes -> done; high fails with low == high -> done, rejected (upstream
 * does not test the same size twice); low fails -> rejected; else bisect.
 */
void mtu_search_report(struct mtu_search *s, int passed);

/*
 * Attempt level (what the engine and the scan use): an attempt for
 * mtu_search_next() went out at now_us. Returns its deadline.
 */
uint64_t mtu_search_sent(struct mtu_search *s, uint64_t now_us);
/*
 * An answer to the attempt in flight arrived at now_us with outcome o.
 * MTU_PASS decides the candidate (and records the answer time when it
 * becomes the best); MTU_FAIL uses up the attempt: the state is MTU_SEND
 * again for the same value while tries are left, else the candidate
 * failed; MTU_FAIL_FINAL fails the candidate at once. An answer while no
 * attempt is in flight is ignored unless it is a pass (a late echo of an
 * earlier attempt still proves the size).
 */
void mtu_search_answer(
    struct mtu_search *s, enum mtu_outcome o, uint64_t now_us);
/*
 * Call when the caller's timer fires: when an attempt is in flight and
 * now_us has reached its deadline, it failed by timeout (s->timed_out set)
 * and 1 is returned; otherwise nothing changes and 0 is returned.
 */
int mtu_search_expire(struct mtu_search *s, uint64_t now_us);

#endif
