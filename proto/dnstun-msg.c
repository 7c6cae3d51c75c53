/* SPDX-License-Identifier: MIT */
/*
 * dnstun-msg.c — the DNS message side of DNS through the tunnel: the
 * request reader (upstream dnsparser ParseDNSRequestLite), the carried
 * types, the rcode-only answers, what client and server do with a request,
 * the cache key, the answer rewrite for a cache hit, the check of an
 * upstream resolver's answer, and cutting messages into DNS_QUERY frames.
 *
 * Names are read exactly as upstream reads them (pointers anywhere in the
 * message, at most 10 jumps, A-Z lowered, label bytes otherwise kept), so
 * cache keys and verdicts agree with upstream's. It does not interpret
 * answers beyond the header and first question, and it does not touch the
 * reassembly table (dnstun-reasm.c).
 */
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "proto/dnstun.h"

#define MAX_JUMPS 10

static inline char
lower(uint8_t c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/*
 * upstream parseName. When q is not NULL the text goes to q->name (and a
 * text longer than DNSTUN_NAME_MAX fails). *next is the offset after the
 * name where it was written. 0 or -1.
 */
static int
parse_name(const uint8_t *m, size_t len, size_t off, struct dnstun_question *q,
    size_t *next)
{
	size_t orig = off, tl = 0, ptr, i;
	unsigned jumps = 0;
	int jumped = 0, labels = 0;
	uint8_t c;

	for (;;) {
		if (off >= len)
			return -1;
		c = m[off];
		if (c == 0) {
			off++;
			if (!jumped)
				orig = off;
			break;
		}
		if (c >= 0xc0) {
			if (off + 1 >= len || jumps >= MAX_JUMPS)
				return -1;
			ptr = be16_load(m + off) & 0x3fff;
			if (ptr >= len)
				return -1;
			if (!jumped) {
				orig = off + 2;
				jumped = 1;
			}
			off = ptr;
			jumps++;
			continue;
		}
		if (c > 63)
			return -1;
		off++;
		if (c > len - off)
			return -1;
		if (q != NULL) {
			if (tl + (tl > 0) + c > DNSTUN_NAME_MAX)
				return -1;
			if (tl > 0)
				q->name[tl++] = '.';
			for (i = 0; i < c; i++)
				q->name[tl++] = lower(m[off + i]);
		}
		labels = 1;
		off += c;
		if (!jumped)
			orig = off;
	}
	if (q != NULL) {
		if (!labels)
			q->name[tl++] = '.';
		q->name[tl] = '\0';
		q->name_len = tl;
	}
	*next = orig;
	return 0;
}

/* upstream skipQuestions; *at is where it stopped (start of a bad one). */
static int
skip_questions(const uint8_t *m, size_t len, unsigned count, size_t *at)
{
	size_t off = DNS_HDR_LEN, next;
	unsigned i;

	for (i = 0; i < count; i++) {
		if (dns_name_skip(m, len, off, &next) < 0 || next + 4 > len) {
			*at = off;
			return -1;
		}
		off = next + 4;
	}
	*at = off;
	return 0;
}

/* upstream isLikelyDNSRequestHeader. */
static int
likely_request(const uint8_t *m)
{
	uint16_t flags = be16_load(m + 2), qd = be16_load(m + 4);

	return (flags & DNS_F_QR) == 0 && qd >= 1 && qd <= DNS_REQ_MAX_QD &&
	    ((flags & DNS_F_OPCODE) >> 11) <= DNS_REQ_MAX_OPCODE &&
	    be16_load(m + 6) <= DNS_REQ_MAX_RR &&
	    be16_load(m + 8) <= DNS_REQ_MAX_RR &&
	    be16_load(m + 10) <= DNS_REQ_MAX_RR;
}

static enum dnstun_req_status
parse(const uint8_t *m, size_t len, struct dnstun_req *r, int request)
{
	size_t off, next;
	unsigned i;

	memset(r, 0, offsetof(struct dnstun_req, q));
	r->q.name_len = 0;
	r->q.name[0] = '\0';
	r->q.qtype = r->q.qclass = 0;
	if (len < DNS_HDR_LEN)
		return DNSTUN_REQ_SHORT;
	r->id = be16_load(m);
	r->flags = be16_load(m + 2);
	r->qdcount = be16_load(m + 4);
	r->ancount = be16_load(m + 6);
	r->nscount = be16_load(m + 8);
	r->arcount = be16_load(m + 10);
	if (request && !likely_request(m))
		return DNSTUN_REQ_NOT_REQUEST;
	if (r->qdcount == 0)
		return DNSTUN_REQ_BAD_QUESTION;
	off = DNS_HDR_LEN;
	for (i = 0; i < r->qdcount; i++) {
		if (parse_name(m, len, off, i == 0 ? &r->q : NULL, &next) < 0 ||
		    next + 4 > len)
			return DNSTUN_REQ_BAD_QUESTION;
		if (i == 0) {
			r->q.qtype = be16_load(m + next);
			r->q.qclass = be16_load(m + next + 2);
		}
		off = next + 4;
	}
	r->question_end = off;
	return DNSTUN_REQ_OK;
}

enum dnstun_req_status
dnstun_req_parse(const uint8_t *m, size_t len, struct dnstun_req *r)
{
	return parse(m, len, r, 1);
}

enum dnstun_req_status
dnstun_msg_parse(const uint8_t *m, size_t len, struct dnstun_req *r)
{
	return parse(m, len, r, 0);
}

const char *
dnstun_req_strstatus(int s)
{
	static const char *const names[] = {
	    "ok", "short", "not a request", "bad question"};

	return s >= 0 && (size_t)s < nitems(names) ? names[s] : "?";
}

bool
dnstun_type_supported(uint16_t qtype, uint16_t qclass)
{
	if (qclass != DNS_CLASS_IN)
		return false;
	switch (qtype) {
	case 1:	  /* A */
	case 28:  /* AAAA */
	case 5:	  /* CNAME */
	case 15:  /* MX */
	case 2:	  /* NS */
	case 12:  /* PTR */
	case 33:  /* SRV */
	case 64:  /* SVCB */
	case 257: /* CAA */
	case 35:  /* NAPTR */
	case 6:	  /* SOA */
	case 65:  /* HTTPS */
	case 52:  /* TLSA */
		return true;
	default:
		return false;
	}
}

/* Header, question bytes [12, qend), OPT; the shared tail of both. */
static long
rcode_build(const uint8_t *m, size_t len, uint16_t qd, size_t qend,
    size_t opt_qend, unsigned rcode, uint8_t *out, size_t cap)
{
	size_t qlen = 0, opt_off = 0, opt_len, n;

	if (qend >= DNS_HDR_LEN && qend <= len)
		qlen = qend - DNS_HDR_LEN;
	else
		qd = 0;
	opt_len = dns_find_opt(m, len, opt_qend, be16_load(m + 6),
	    be16_load(m + 8), be16_load(m + 10), &opt_off);
	n = DNS_HDR_LEN + qlen + opt_len;
	if (n > cap)
		return -1;
	memcpy(out, m, 2);
	be16_store(out + 2, dns_resp_flags(be16_load(m + 2), rcode));
	be16_store(out + 4, qd);
	be16_store(out + 6, 0);
	be16_store(out + 8, 0);
	be16_store(out + 10, opt_len > 0 ? 1 : 0);
	memcpy(out + DNS_HDR_LEN, m + DNS_HDR_LEN, qlen);
	memcpy(out + DNS_HDR_LEN + qlen, m + opt_off, opt_len);
	return (long)n;
}

long
dnstun_answer_rcode(const uint8_t *m, size_t len, const struct dnstun_req *r,
    unsigned rcode, uint8_t *out, size_t cap)
{
	if (len < DNS_HDR_LEN || !likely_request(m))
		return -1;
	return rcode_build(m, len, r->qdcount, r->question_end, r->question_end,
	    rcode, out, cap);
}

long
dnstun_answer_rcode_raw(
    const uint8_t *m, size_t len, unsigned rcode, uint8_t *out, size_t cap)
{
	size_t at;
	int ok;

	if (len < DNS_HDR_LEN || !likely_request(m))
		return -1;
	ok = skip_questions(m, len, be16_load(m + 4), &at) == 0;
	/* Upstream looks for the OPT from where the skip stopped even when
	 * it failed, and echoes no question then. */
	return rcode_build(m, len, ok ? be16_load(m + 4) : 0,
	    ok ? at : DNS_HDR_LEN, at, rcode, out, cap);
}

const char *
dnstun_why_name(int why)
{
	static const char *const names[] = {"ok", "short", "not_request",
	    "bad_question", "unsupported", "nospace"};

	return why >= 0 && (size_t)why < nitems(names) ? names[why] : "?";
}

static enum dnstun_action
reply(long n, size_t *out_len, enum dnstun_why *why, enum dnstun_why w)
{
	if (n < 0) {
		*why = DNSTUN_WHY_NOSPACE;
		return DNSTUN_DROP;
	}
	*out_len = (size_t)n;
	*why = w;
	return DNSTUN_REPLY;
}

enum dnstun_action
dnstun_server_check(const uint8_t *m, size_t len, struct dnstun_req *r,
    uint8_t *out, size_t cap, size_t *out_len, enum dnstun_why *why)
{
	*out_len = 0;
	switch (dnstun_req_parse(m, len, r)) {
	case DNSTUN_REQ_SHORT:
		*why = DNSTUN_WHY_SHORT;
		return DNSTUN_DROP;
	case DNSTUN_REQ_NOT_REQUEST:
		*why = DNSTUN_WHY_NOT_REQUEST;
		return DNSTUN_DROP;
	case DNSTUN_REQ_BAD_QUESTION:
		return reply(dnstun_answer_rcode_raw(
				 m, len, DNSTUN_RCODE_FORMERR, out, cap),
		    out_len, why, DNSTUN_WHY_BAD_QUESTION);
	default:
		break;
	}
	if (!dnstun_type_supported(r->q.qtype, r->q.qclass))
		return reply(dnstun_answer_rcode(
				 m, len, r, DNSTUN_RCODE_NOTIMP, out, cap),
		    out_len, why, DNSTUN_WHY_UNSUPPORTED);
	*why = DNSTUN_WHY_OK;
	return DNSTUN_RESOLVE;
}

enum dnstun_action
dnstun_local_check(const uint8_t *m, size_t len, unsigned flags,
    struct dnstun_req *r, uint8_t *out, size_t cap, size_t *out_len,
    enum dnstun_why *why)
{
	static const enum dnstun_why whys[] = {DNSTUN_WHY_OK, DNSTUN_WHY_SHORT,
	    DNSTUN_WHY_NOT_REQUEST, DNSTUN_WHY_BAD_QUESTION};
	enum dnstun_req_status st;

	*out_len = 0;
	st = dnstun_req_parse(m, len, r);
	if (st != DNSTUN_REQ_OK) {
		*why = whys[st];
		return DNSTUN_DROP;
	}
	if ((flags & DNSTUN_LOCAL_REFUSE_UNSUPPORTED) &&
	    !dnstun_type_supported(r->q.qtype, r->q.qclass))
		return reply(dnstun_answer_rcode(
				 m, len, r, DNSTUN_RCODE_NOTIMP, out, cap),
		    out_len, why, DNSTUN_WHY_UNSUPPORTED);
	*why = DNSTUN_WHY_OK;
	return DNSTUN_RESOLVE;
}

void
dnstun_patch_answer(uint8_t *ans, size_t len, const uint8_t *q, size_t qlen)
{
	uint16_t qf, af;

	if (len < 2 || qlen < 2)
		return;
	ans[0] = q[0];
	ans[1] = q[1];
	if (len < 4 || qlen < 4)
		return;
	qf = be16_load(q + 2);
	af = be16_load(ans + 2);
	af = (uint16_t)((af & ~(DNS_F_RD | DNS_F_CD)) |
	    (qf & (DNS_F_RD | DNS_F_CD)));
	be16_store(ans + 2, af);
}

size_t
dnstun_key(const struct dnstun_question *q, uint8_t *key)
{
	be16_store(key, q->qtype);
	be16_store(key + 2, q->qclass);
	memcpy(key + 4, q->name, q->name_len);
	return 4 + q->name_len;
}

uint32_t
dnstun_key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

enum dnstun_ans_check
dnstun_answer_check(
    const uint8_t *m, size_t len, uint16_t id, const struct dnstun_question *q)
{
	struct dnstun_question got;
	size_t next;

	if (len < DNS_HDR_LEN)
		return DNSTUN_ANS_SHORT;
	if ((be16_load(m + 2) & DNS_F_QR) == 0)
		return DNSTUN_ANS_NOT_RESPONSE;
	if (be16_load(m) != id)
		return DNSTUN_ANS_ID;
	if (be16_load(m + 4) == 0)
		return (be16_load(m + 2) & DNS_F_RCODE) != 0 ?
		    DNSTUN_ANS_OK :
		    DNSTUN_ANS_QUESTION;
	if (parse_name(m, len, DNS_HDR_LEN, &got, &next) < 0 ||
	    next + 4 > len || be16_load(m + next) != q->qtype ||
	    be16_load(m + next + 2) != q->qclass ||
	    got.name_len != q->name_len ||
	    memcmp(got.name, q->name, q->name_len) != 0)
		return DNSTUN_ANS_QUESTION;
	return DNSTUN_ANS_OK;
}

const char *
dnstun_ans_check_name(int c)
{
	static const char *const names[] = {
	    "ok", "short", "not_response", "id", "question"};

	return c >= 0 && (size_t)c < nitems(names) ? names[c] : "?";
}

unsigned
dnstun_frag_count(size_t len, size_t mtu)
{
	size_t n;

	if (len == 0 || mtu == 0)
		return 0;
	n = (len + mtu - 1) / mtu;
	return n > DNSTUN_FRAG_MAX ? 0 : (unsigned)n;
}

int
dnstun_frag_frame(const uint8_t *msg, size_t len, size_t mtu, unsigned i,
    uint8_t type, uint16_t seq, struct wire_frame *f)
{
	unsigned total = dnstun_frag_count(len, mtu);
	size_t off;

	if ((type != WIRE_DNS_QUERY_REQ && type != WIRE_DNS_QUERY_RES) ||
	    i >= total)
		return -1;
	off = (size_t)i * mtu;
	memset(f, 0, sizeof *f);
	f->type = type;
	f->seq = seq;
	f->frag_id = (uint8_t)i;
	f->frag_total = (uint8_t)total;
	f->payload = msg + off;
	f->payload_len = MIN(mtu, len - off);
	return 0;
}

int
dnstun_ack_frame(const struct wire_frame *in, struct wire_frame *ack)
{
	if (in->type != WIRE_DNS_QUERY_REQ && in->type != WIRE_DNS_QUERY_RES)
		return -1;
	memset(ack, 0, sizeof *ack);
	ack->session_id = in->session_id;
	ack->cookie = in->cookie;
	ack->type = (uint8_t)wire_ack_type(in->type);
	ack->seq = in->seq;
	ack->frag_id = in->frag_id;
	ack->frag_total = in->frag_total;
	return 0;
}
