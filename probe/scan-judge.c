/* SPDX-License-Identifier: MIT */
/*
 * scan-judge.c — what an answer from a resolver means for the step that
 * asked (scan-judge.h): liveness and reach from the DNS header alone, the
 * MTU echoes through proto/mtu.h, SESSION_ACCEPT with its policy, PONG and
 * the close. Pure: the socket layer matched the answer to its query; the
 * funnel (scan-funnel.c) acts on the outcome. It does not retry, time or
 * send anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe/scan-judge.h"
#include "proto/mtu.h"
#include "proto/tunnel.h"

void
scan_evid(struct res_resolver *r, const char *fmt, ...)
{
	size_t n = strlen(r->evidence);
	va_list ap;

	if (n + 2 >= sizeof r->evidence)
		return;
	if (n > 0) {
		r->evidence[n++] = ';';
		r->evidence[n++] = ' ';
		r->evidence[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(r->evidence + n, sizeof r->evidence - n, fmt, ap);
	va_end(ap);
}

static void jtrace(const struct scan_judge *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
jtrace(const struct scan_judge *j, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (j->trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	j->trace(j->trace_arg, line);
}

int
scan_question_matches(
    const uint8_t *query, size_t qwire, const uint8_t *m, size_t n, int *exact)
{
	size_t ql = qwire + 4, i;
	uint8_t a, b;

	*exact = 0;
	if (n < DNS_HDR_LEN + ql || be16_load(m + 4) != 1)
		return 0;
	for (i = 0; i < ql; i++) {
		a = m[DNS_HDR_LEN + i];
		b = query[DNS_HDR_LEN + i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		if (a != b)
			return 0;
	}
	*exact = memcmp(m + DNS_HDR_LEN, query + DNS_HDR_LEN, ql) == 0;
	return 1;
}

int
scan_query_labels(const uint8_t *query, size_t qwire)
{
	size_t i;
	int labels = 0;

	for (i = DNS_HDR_LEN; i < DNS_HDR_LEN + qwire && query[i] != 0;
	     i += (size_t)query[i] + 1)
		labels++;
	return labels;
}

static enum res_reason
rcode_reason(unsigned rc)
{
	switch (rc) {
	case 1:
		return RES_R_FORMERR;
	case 2:
		return RES_R_SERVFAIL;
	case 3:
		return RES_R_NXDOMAIN;
	case 5:
		return RES_R_REFUSED;
	default:
		return RES_R_RCODE_OTHER;
	}
}

/* The reach signature: NOERROR, no answer records, AA=0, no authority. */
int
scan_judge_reach(const uint8_t *msg, size_t len, enum res_reason *reason,
    char *why, size_t cap)
{
	uint8_t frame[4096];
	struct dns_answer a;
	struct err e;
	unsigned rc;

	if (dns_answer_parse(msg, len, DNS_RESP_RAW, frame, sizeof frame, &a,
		&e) == DNS_ANS_MALFORMED) {
		*reason = RES_R_MALFORMED;
		snprintf(why, cap, "reach: malformed answer (%s)", e.msg);
		return -1;
	}
	rc = a.flags & DNS_F_RCODE;
	if (rc != 0) {
		*reason = rcode_reason(rc);
		snprintf(why, cap, "reach: %s%s", dns_rcode_name(rc),
		    (a.flags & DNS_F_AA) ? " with AA" : "");
		return -1;
	}
	if (a.ancount > 0) {
		*reason = RES_R_HIJACK;
		snprintf(why, cap,
		    "reach: NOERROR with %u answer record(s) for an "
		    "undecodable name (the server sends none): forged",
		    a.ancount);
		return -1;
	}
	if (a.flags & DNS_F_TC) {
		*reason = RES_R_TRUNCATED;
		snprintf(why, cap, "reach: TC=1 on an empty answer");
		return -1;
	}
	if ((a.flags & DNS_F_AA) || a.nscount > 0) {
		*reason = RES_R_NO_SIGNATURE;
		snprintf(why, cap,
		    "reach: NODATA with AA=%d and %u authority "
		    "record(s): an authority, not the tunnel server",
		    (a.flags & DNS_F_AA) ? 1 : 0, a.nscount);
		return -1;
	}
	*reason = RES_R_OK;
	snprintf(why, cap, "reach: signature NODATA (AA=0, no SOA)");
	return 0;
}

/* Liveness, the direct server check and reach: the DNS header decides. */
static enum scan_outcome
judge_plain(
    struct scan_judge *j, const uint8_t *m, size_t n, enum res_reason *reason)
{
	struct dns_answer a;
	struct err e;
	enum res_reason rr;
	char why[200];
	int exact = 0;

	(void)scan_question_matches(j->query, j->qwire, m, n, &exact);
	if (dns_answer_parse(m, n, DNS_RESP_RAW, j->fbuf, j->fcap, &a, &e) ==
	    DNS_ANS_MALFORMED) {
		jtrace(j, "  <- malformed (%s)", e.msg);
		scan_evid(j->r, "%s: malformed answer (%s)",
		    j->step == SCAN_STEP_LIVE ? "liveness" : "reach", e.msg);
		*reason = RES_R_MALFORMED;
		return SCAN_RETRY;
	}
	if (j->r->shape.case_preserved != RES_TRI_NO)
		j->r->shape.case_preserved = exact ? RES_TRI_YES : RES_TRI_NO;
	jtrace(j,
	    "  <- %s an=%u ns=%u aa=%d tc=%d, %zu bytes, "
	    "%.1f ms",
	    dns_rcode_name(a.flags & DNS_F_RCODE), a.ancount, a.nscount,
	    (a.flags & DNS_F_AA) ? 1 : 0, (a.flags & DNS_F_TC) ? 1 : 0, n,
	    j->ms);
	if (j->step == SCAN_STEP_LIVE) {
		scan_evid(j->r, "liveness: %s in %.1f ms",
		    dns_rcode_name(a.flags & DNS_F_RCODE), j->ms);
		*reason = RES_R_OK;
		return SCAN_PASS;
	}
	if (j->step == SCAN_STEP_REACH)
		j->r->shape.edns_size = a.has_opt ? a.edns_udp_size : 0;
	*reason = RES_R_OK;
	if (scan_judge_reach(m, n, &rr, why, sizeof why) != 0)
		*reason = rr;
	scan_evid(j->r, "%s", why);
	return *reason == RES_R_OK ? SCAN_PASS : SCAN_FAIL;
}

static const char *
type_name(uint8_t type, const char *unknown)
{
	return wire_type_name(type) ? wire_type_name(type) : unknown;
}

static void
take_policy(struct scan_judge *j, const struct wire_session_accept *acc)
{
	struct res_policy *p = &j->r->policy;

	p->comp_pair = acc->comp_pair;
	if (!acc->has_policy)
		return;
	p->present = 1;
	p->max_dup = acc->policy.max_dup;
	p->max_setup_dup = acc->policy.max_setup_dup;
	p->max_upload_mtu = acc->policy.max_upload_mtu;
	p->max_download_mtu = acc->policy.max_download_mtu;
	p->max_workers = acc->policy.max_workers;
	p->min_ping_ms =
	    (int)(wire_scaled_seconds(acc->policy.min_ping_interval_raw) *
		    1000 +
		0.5);
	p->max_batch = acc->policy.max_batch;
	p->max_arq_window = acc->policy.max_arq_window;
	p->max_nack_gap = acc->policy.max_nack_gap;
	p->min_comp_size = acc->policy.min_comp_min_size;
	p->min_rto_ms =
	    (int)(wire_scaled_seconds(acc->policy.min_rto_raw) * 1000 + 0.5);
}

static enum scan_outcome
judge_init(
    struct scan_judge *j, const struct wire_frame *f, enum res_reason *reason)
{
	struct wire_session_accept acc;
	const struct res_policy *p = &j->r->policy;

	if (f->type == WIRE_SESSION_BUSY) {
		jtrace(j, "  <- SESSION_BUSY");
		*reason = RES_R_BUSY;
		scan_evid(j->r,
		    "SESSION_BUSY: the server's session table is "
		    "full");
		return SCAN_FAIL;
	}
	if (f->type != WIRE_SESSION_ACCEPT ||
	    wire_session_accept_parse(f->payload, f->payload_len, &acc) !=
		WIRE_OK ||
	    memcmp(acc.verify, j->verify, 4) != 0) {
		jtrace(j, "  <- %s without our verify code",
		    type_name(f->type, "?"));
		*reason = RES_R_HANDSHAKE_FAILED;
		return SCAN_RETRY;
	}
	j->sid = acc.session_id;
	j->cookie = acc.cookie;
	take_policy(j, &acc);
	jtrace(j,
	    "  <- SESSION_ACCEPT: session %u, verify code "
	    "matches, %.1f ms",
	    acc.session_id, j->ms);
	if (acc.has_policy)
		jtrace(j,
		    "     policy: compression 0x%02x, dup %d/%d, "
		    "MTU up %d down %d, workers %d, ping >= %d ms, "
		    "batch %d, window %d, NACK gap %d, compression "
		    "min %d, RTO >= %d ms",
		    acc.comp_pair, p->max_dup, p->max_setup_dup,
		    p->max_upload_mtu, p->max_download_mtu, p->max_workers,
		    p->min_ping_ms, p->max_batch, p->max_arq_window,
		    p->max_nack_gap, p->min_comp_size, p->min_rto_ms);
	*reason = RES_R_OK;
	return SCAN_PASS;
}

/* An MTU probe answered by a frame: its echo, or a wrong key. */
static enum scan_outcome
judge_mtu(struct scan_judge *j, const struct tunnel_answer *ta, size_t n,
    enum res_reason *reason)
{
	const struct wire_frame *f = &ta->f;
	enum mtu_echo echo;

	if (j->step == SCAN_STEP_UP) {
		if (mtu_probe_check(MTU_UP, j->code, j->cand, f) !=
		    MTU_ECHO_OK) {
			/*
			 * The server answered our exact question with
			 * another frame: it decoded the probe into something
			 * else, which only a wrong key or method does.
			 */
			jtrace(j, "  <- %s: not the echo of probe %d",
			    type_name(f->type, "?"), j->cand);
			*reason = RES_R_KEY_OR_METHOD;
			scan_evid(j->r,
			    "MTU_UP probe answered with %s instead of its "
			    "echo: the server decoded it into another frame "
			    "(key or method wrong)",
			    type_name(f->type, "an unknown frame"));
			return SCAN_FAIL;
		}
		jtrace(j,
		    "  <- MTU_UP_RES: server got %d bytes, %zu-byte "
		    "answer, %.1f ms",
		    j->cand, n, j->ms);
		j->r->shape.longest_name =
		    MAX(j->r->shape.longest_name, (int)j->qchars);
		j->r->shape.max_labels = MAX(j->r->shape.max_labels,
		    scan_query_labels(j->query, j->qwire));
		*reason = RES_R_OK;
		return SCAN_PASS;
	}
	if ((echo = mtu_probe_check(MTU_DOWN, j->code, j->cand, f)) !=
	    MTU_ECHO_OK) {
		jtrace(j, "  <- %s: not the %d-byte answer asked",
		    type_name(f->type, "?"), j->cand);
		if (echo == MTU_ECHO_OTHER) {
			*reason = RES_R_KEY_OR_METHOD;
			scan_evid(j->r,
			    "MTU_DOWN probe answered with %s: the "
			    "server decoded it into another frame (key "
			    "or method wrong)",
			    type_name(f->type, "an unknown frame"));
			return SCAN_FAIL;
		}
		*reason = RES_R_MALFORMED;
		return SCAN_RETRY;
	}
	jtrace(j,
	    "  <- MTU_DOWN_RES: %zu payload bytes in a "
	    "%zu-byte answer (%u TXT, EDNS %s%u), %.1f ms",
	    f->payload_len, n, ta->dns.txt_rrs, ta->dns.has_opt ? "" : "none ",
	    ta->dns.has_opt ? ta->dns.edns_udp_size : 0, j->ms);
	j->r->shape.max_answer_bytes =
	    MAX(j->r->shape.max_answer_bytes, (int)n);
	j->r->shape.edns_size = ta->dns.has_opt ? ta->dns.edns_udp_size : 0;
	*reason = RES_R_OK;
	return SCAN_PASS;
}

/* The download probe over TCP: the whole echo, or not. */
static enum scan_outcome
judge_tcp(
    struct scan_judge *j, const uint8_t *m, size_t n, enum res_reason *reason)
{
	struct tunnel_answer ta;
	int exact;

	if (scan_question_matches(j->query, j->qwire, m, n, &exact) &&
	    tunnel_answer_parse(m, n, j->mode, j->fbuf, j->fcap, NULL, 0, &ta,
		NULL) == TUNNEL_FRAME &&
	    mtu_probe_check(MTU_DOWN, j->code, j->cand, &ta.f) == MTU_ECHO_OK) {
		*reason = RES_R_OK;
		return SCAN_PASS;
	}
	*reason = RES_R_MALFORMED;
	return SCAN_FAIL;
}

static int
is_mtu(const struct scan_judge *j)
{
	return j->step == SCAN_STEP_UP || j->step == SCAN_STEP_DOWN;
}

enum scan_outcome
scan_judge_answer(
    struct scan_judge *j, const uint8_t *m, size_t n, enum res_reason *reason)
{
	struct tunnel_answer ta;
	enum tunnel_ans st;
	struct err e = {""}; /* NOFRAME (an rcode, NODATA) leaves no message */
	unsigned rc;

	switch (j->step) {
	case SCAN_STEP_LIVE:
	case SCAN_STEP_SERVER:
	case SCAN_STEP_REACH:
		return judge_plain(j, m, n, reason);
	case SCAN_STEP_TCP:
		return judge_tcp(j, m, n, reason);
	default:
		break;
	}
	if ((unsigned)j->step >= SCAN_STEP_COUNT) {
		*reason = RES_R_INTERNAL;
		return SCAN_FAIL;
	}
	st = tunnel_answer_parse(
	    m, n, j->mode, j->fbuf, j->fcap, NULL, 0, &ta, &e);
	if (st == TUNNEL_MALFORMED) {
		jtrace(j, "  <- malformed answer (%s)", e.msg);
		*reason = RES_R_MALFORMED;
		return SCAN_RETRY;
	}
	rc = ta.dns.flags & DNS_F_RCODE;
	if (ta.dns.flags & DNS_F_TC) {
		j->r->shape.tc_seen = RES_TRI_YES;
		if (j->step == SCAN_STEP_DOWN && j->tc_cand == 0)
			j->tc_cand = j->cand;
		jtrace(j, "  <- TC=1, %zu bytes, no records", n);
		*reason = RES_R_TRUNCATED;
		return is_mtu(j) ? SCAN_SIZEFAIL : SCAN_RETRY;
	}
	if (st == TUNNEL_NOTFRAME) {
		jtrace(j, "  <- TXT is not a tunnel frame");
		*reason = RES_R_HIJACK;
		return SCAN_RETRY;
	}
	if (st != TUNNEL_FRAME) {
		if (rc == 0 && ta.dns.ancount == 0 && st == TUNNEL_NOFRAME) {
			if (j->step == SCAN_STEP_CLOSE) {
				jtrace(j,
				    "  <- NODATA: session closed "
				    "(%.1f ms)",
				    j->ms);
				*reason = RES_R_OK;
				return SCAN_PASS;
			}
			jtrace(j,
			    "  <- NODATA: the server could not "
			    "decrypt or parse the probe");
			*reason = is_mtu(j) ? RES_R_KEY_OR_METHOD :
					      RES_R_HANDSHAKE_FAILED;
			scan_evid(j->r,
			    "%s probe answered NODATA: the server cannot "
			    "decrypt it (key or method wrong)",
			    j->step == SCAN_STEP_UP	  ? "MTU_UP" :
				j->step == SCAN_STEP_DOWN ? "MTU_DOWN" :
							    "SESSION_INIT");
			return SCAN_FAIL;
		}
		jtrace(j, "  <- %s, %s%s%s%s", dns_rcode_name(rc),
		    tunnel_ans_name(st), e.msg[0] ? " (" : "", e.msg,
		    e.msg[0] ? ")" : "");
		*reason = rc != 0 ? rcode_reason(rc) : RES_R_MALFORMED;
		if (st == TUNNEL_INCOMPLETE && is_mtu(j))
			return SCAN_SIZEFAIL;
		return SCAN_RETRY;
	}
	if (ta.f.type == WIRE_ERROR_DROP) {
		jtrace(j, "  <- ERROR_DROP");
		*reason = RES_R_ERROR_DROP;
		scan_evid(j->r, "server answered ERROR_DROP");
		return SCAN_FAIL;
	}
	switch (j->step) {
	case SCAN_STEP_UP:
	case SCAN_STEP_DOWN:
		return judge_mtu(j, &ta, n, reason);
	case SCAN_STEP_INIT:
		return judge_init(j, &ta.f, reason);
	case SCAN_STEP_PING:
		if (ta.f.type == WIRE_PONG)
			jtrace(j, "  <- PONG, %.1f ms", j->ms);
		else
			jtrace(j, "  <- %s on the session",
			    type_name(ta.f.type, "?"));
		*reason = RES_R_OK;
		return SCAN_PASS;
	case SCAN_STEP_CLOSE:
		jtrace(j, "  <- %s", type_name(ta.f.type, "?"));
		*reason = RES_R_OK;
		return SCAN_PASS;
	default:
		break;
	}
	*reason = RES_R_INTERNAL;
	return SCAN_FAIL;
}
