/* SPDX-License-Identifier: MIT */
/*
 * dns.c — DNS messages for the tunnel: query reader and answer builders
 * (server), query writer and answer reader (client), answer size maths.
 *
 * It handles exactly the message shapes MasterDnsVPN uses: one question,
 * TXT answers, an optional OPT RR. It is not a general DNS library: RDATA
 * of other types is bounds-checked and skipped, never interpreted, and
 * names are kept as lower-case text without escaping, which is what the
 * upstream server matches domains on. Nothing here allocates; see
 * docs/dns.md for the strictness decisions.
 */
#include <string.h>

#include "proto/b64.h"
#include "proto/dns.h"
#include "proto/txt.h"

static inline char
lower(uint8_t c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/*
 * Read the name at off. Pointers are followed only when allow_ptr is set,
 * and each must point below the start of the label run it ends, so no
 * chain can loop; at most DNS_NAME_MAX_JUMPS are followed. When text is not
 * NULL it receives the lower-case presentation text. *next is the offset
 * just after the name where it was written, *wire its uncompressed length.
 * Returns 0, or -1 with *why set.
 */
static int
name_read(const uint8_t *msg, size_t len, size_t off, int allow_ptr, char *text,
    size_t *textlen, size_t *next, size_t *wire, const char **why)
{
	size_t pos = off, run = off, w = 0, tl = 0, end = 0, target, i;
	unsigned jumps = 0;
	uint8_t c;

	for (;;) {
		if (pos >= len) {
			*why = "name runs past the end of the message";
			return -1;
		}
		c = msg[pos];
		if (c == 0) {
			w++;
			if (jumps == 0)
				end = pos + 1;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			if (!allow_ptr) {
				*why =
				    "compression pointer in the question name";
				return -1;
			}
			if (pos + 1 >= len) {
				*why = "compression pointer cut off";
				return -1;
			}
			target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			if (target < DNS_HDR_LEN) {
				*why = "compression pointer into the header";
				return -1;
			}
			if (target >= run) {
				*why = "compression pointer does not point "
				       "backwards";
				return -1;
			}
			if (++jumps > DNS_NAME_MAX_JUMPS) {
				*why = "too many compression pointers";
				return -1;
			}
			if (jumps == 1)
				end = pos + 2;
			pos = run = target;
			continue;
		}
		if (c > DNS_LABEL_MAX) {
			*why = "label longer than 63 or unknown label type";
			return -1;
		}
		if (c > len - pos - 1) {
			*why = "label runs past the end of the message";
			return -1;
		}
		w += 1 + (size_t)c;
		if (w + 1 > DNS_NAME_WIRE_MAX) {
			*why = "name longer than 1024 bytes";
			return -1;
		}
		if (text != NULL) {
			if (tl > 0)
				text[tl++] = '.';
			for (i = 0; i < c; i++)
				text[tl++] = lower(msg[pos + 1 + i]);
		}
		pos += 1 + (size_t)c;
	}
	if (text != NULL) {
		text[tl] = '\0';
		*textlen = tl;
	}
	*next = end;
	if (wire != NULL)
		*wire = w;
	return 0;
}

int
dns_name_read(const uint8_t *msg, size_t len, size_t off, char *text,
    size_t *next, const char **why)
{
	size_t tl;

	return name_read(msg, len, off, 1, text, &tl, next, NULL, why);
}

int
dns_name_skip(const uint8_t *msg, size_t len, size_t off, size_t *next)
{
	uint8_t c;

	for (;;) {
		if (off >= len)
			return -1;
		c = msg[off];
		if (c == 0) {
			*next = off + 1;
			return 0;
		}
		if (c >= 0xc0) {
			if (off + 1 >= len)
				return -1;
			*next = off + 2;
			return 0;
		}
		if (c > DNS_LABEL_MAX)
			return -1;
		off += 1 + (size_t)c;
	}
}

/* Skip one RR structurally; *type and *rr_end on success. */
static int
rr_skip(
    const uint8_t *msg, size_t len, size_t off, uint16_t *type, size_t *rr_end)
{
	size_t p, rdlen;

	if (dns_name_skip(msg, len, off, &p) < 0 || len - p < 10)
		return -1;
	*type = be16_load(msg + p);
	rdlen = be16_load(msg + p + 8);
	if (rdlen > len - p - 10)
		return -1;
	*rr_end = p + 10 + rdlen;
	return 0;
}

size_t
dns_find_opt(const uint8_t *msg, size_t len, size_t off, unsigned an,
    unsigned ns, unsigned ar, size_t *start)
{
	size_t end;
	unsigned i;
	uint16_t type;

	if (ar == 0 || off < DNS_HDR_LEN || off > len)
		return 0;
	for (i = 0; i < an + ns; i++) {
		if (rr_skip(msg, len, off, &type, &end) < 0)
			return 0;
		off = end;
	}
	for (i = 0; i < ar; i++) {
		if (rr_skip(msg, len, off, &type, &end) < 0)
			return 0;
		if (type == DNS_TYPE_OPT) {
			*start = off;
			return end - off;
		}
		off = end;
	}
	return 0;
}

/* The first OPT RR of the additional section, like upstream. */
static void
query_find_opt(struct dns_query *q)
{
	const uint8_t *p;
	size_t nend;
	uint32_t ttl;

	q->opt_len = dns_find_opt(q->msg, q->msg_len, q->question_end,
	    q->ancount, q->nscount, q->arcount, &q->opt_off);
	if (q->opt_len == 0 ||
	    dns_name_skip(q->msg, q->msg_len, q->opt_off, &nend) < 0)
		return;
	p = q->msg + nend;
	q->edns_udp_size = be16_load(p + 2);
	ttl = be32_load(p + 4);
	q->edns_ext_rcode = (uint8_t)(ttl >> 24);
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_flags = (uint16_t)ttl;
}

enum dns_query_verdict
dns_query_parse(
    const uint8_t *msg, size_t len, struct dns_query *q, struct err *e)
{
	const char *why;
	size_t off, next, wire;
	unsigned i, opcode;

	q->msg = msg;
	q->msg_len = len;
	q->qname_len = 0;
	q->qname[0] = '\0';
	q->qname_wire_len = 0;
	q->question_end = DNS_HDR_LEN;
	q->opt_off = q->opt_len = 0;
	q->edns_udp_size = 0;
	q->edns_ext_rcode = q->edns_version = 0;
	q->edns_flags = 0;
	q->qtype = q->qclass = 0;
	if (len < DNS_HDR_LEN) {
		err_set(e,
		    "not a request: %zu bytes, shorter than a DNS "
		    "header",
		    len);
		return DNS_QUERY_DROP;
	}
	q->id = be16_load(msg);
	q->flags = be16_load(msg + 2);
	q->qdcount = be16_load(msg + 4);
	q->ancount = be16_load(msg + 6);
	q->nscount = be16_load(msg + 8);
	q->arcount = be16_load(msg + 10);
	opcode = (q->flags & DNS_F_OPCODE) >> 11;
	if (q->flags & DNS_F_QR) {
		err_set(e, "not a request: QR bit set");
		return DNS_QUERY_DROP;
	}
	if (opcode > DNS_REQ_MAX_OPCODE) {
		err_set(e, "not a request: opcode %u", opcode);
		return DNS_QUERY_DROP;
	}
	if (q->qdcount == 0 || q->qdcount > DNS_REQ_MAX_QD) {
		err_set(e, "not a request: QDCOUNT %u", q->qdcount);
		return DNS_QUERY_DROP;
	}
	if (q->ancount > DNS_REQ_MAX_RR || q->nscount > DNS_REQ_MAX_RR ||
	    q->arcount > DNS_REQ_MAX_RR) {
		err_set(e, "not a request: counts AN %u NS %u AR %u",
		    q->ancount, q->nscount, q->arcount);
		return DNS_QUERY_DROP;
	}
	if (name_read(msg, len, DNS_HDR_LEN, 0, q->qname, &q->qname_len, &next,
		&wire, &why) < 0) {
		err_set(e, "unparseable question: %s", why);
		return DNS_QUERY_DROP;
	}
	q->qname_wire_len = next - DNS_HDR_LEN;
	if (len - next < 4) {
		err_set(e, "unparseable question: QTYPE/QCLASS cut off");
		return DNS_QUERY_DROP;
	}
	q->qtype = be16_load(msg + next);
	q->qclass = be16_load(msg + next + 2);
	off = next + 4;
	for (i = 1; i < q->qdcount; i++) {
		if (name_read(msg, len, off, 1, NULL, NULL, &next, NULL, &why) <
		    0) {
			err_set(e, "unparseable question %u: %s", i + 1, why);
			return DNS_QUERY_DROP;
		}
		if (len - next < 4) {
			err_set(e, "unparseable question %u: cut off", i + 1);
			return DNS_QUERY_DROP;
		}
		off = next + 4;
	}
	q->question_end = off;
	query_find_opt(q);
	if (q->qname_len == 0) {
		err_set(e, "empty QNAME");
		return DNS_QUERY_FORMERR;
	}
	return DNS_QUERY_OK;
}

uint16_t
dns_resp_flags(uint16_t req_flags, unsigned rcode)
{
	/* A recursive resolver's look: RA set, AA and TC cleared. */
	return (uint16_t)(DNS_F_QR | DNS_F_RA |
	    (req_flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)) |
	    (rcode & DNS_F_RCODE));
}

uint16_t
dns_resp_flags_aa(uint16_t req_flags, unsigned rcode)
{
	return (uint16_t)(DNS_F_QR | DNS_F_AA |
	    (req_flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)) |
	    (rcode & DNS_F_RCODE));
}

/* Header, question section; returns the offset after the question. */
static size_t
answer_head(
    uint8_t *out, const struct dns_query *q, uint16_t flags, unsigned ancount)
{
	size_t qlen = q->question_end - DNS_HDR_LEN;

	be16_store(out, q->id);
	be16_store(out + 2, flags);
	be16_store(out + 4, q->qdcount);
	be16_store(out + 6, (uint16_t)ancount);
	be16_store(out + 8, 0);
	be16_store(out + 10, q->opt_len > 0 ? 1 : 0);
	memcpy(out + DNS_HDR_LEN, q->msg + DNS_HDR_LEN, qlen);
	return DNS_HDR_LEN + qlen;
}

size_t
dns_answer_size(size_t frame_len, size_t qname_wire, size_t question_len,
    size_t opt_len, enum dns_resp_mode mode)
{
	int b64 = mode == DNS_RESP_BASE64;
	unsigned n = txt_chunk_count(frame_len, b64), k;
	size_t size, name_off = DNS_HDR_LEN + question_len;

	if (n == 0)
		return 0;
	size = DNS_HDR_LEN + question_len + opt_len;
	for (k = 0; k < n; k++) {
		size += (k == 0 || name_off > 0x3fff ? qname_wire : 2) + 10 +
		    1 + txt_chunk_wire_len(frame_len, b64, n, k);
	}
	return size;
}

long
dns_answer_build(uint8_t *out, size_t cap, const struct dns_query *q,
    const uint8_t *frame, size_t frame_len, size_t hdr_len,
    enum dns_resp_mode mode, struct err *e)
{
	int b64 = mode == DNS_RESP_BASE64;
	unsigned n = txt_chunk_count(frame_len, b64), k;
	uint8_t tmp[TXT_RAW_CHUNK];
	size_t size, p, name_off, slen;

	if (n == 0)
		return err_set(e,
		    "frame of %zu bytes needs more than %d TXT "
		    "chunks",
		    frame_len, TXT_MAX_CHUNKS);
	if (hdr_len > frame_len)
		return err_set(e,
		    "frame of %zu bytes shorter than its "
		    "%zu-byte header",
		    frame_len, hdr_len);
	size = dns_answer_size(frame_len, q->qname_wire_len,
	    q->question_end - DNS_HDR_LEN, q->opt_len, mode);
	if (size > cap)
		return err_set(
		    e, "answer of %zu bytes does not fit %zu", size, cap);
	p = answer_head(out, q, dns_resp_flags(q->flags, DNS_RCODE_NOERROR), n);
	name_off = p;
	for (k = 0; k < n; k++) {
		if (k == 0 || name_off > 0x3fff) {
			memcpy(
			    out + p, q->msg + DNS_HDR_LEN, q->qname_wire_len);
			p += q->qname_wire_len;
		} else {
			be16_store(out + p, (uint16_t)(0xc000 | name_off));
			p += 2;
		}
		be16_store(out + p, DNS_TYPE_TXT);
		be16_store(out + p + 2, DNS_CLASS_IN);
		be32_store(out + p + 4, 0);
		if (b64) {
			slen = txt_chunk_raw(frame, frame_len, 1, n, k, tmp);
			slen = b64_encode(tmp, slen, (char *)out + p + 11);
		} else
			slen = txt_chunk_raw(
			    frame, frame_len, 0, n, k, out + p + 11);
		be16_store(out + p + 8, (uint16_t)(slen + 1));
		out[p + 10] = (uint8_t)slen;
		p += 11 + slen;
	}
	memcpy(out + p, q->msg + q->opt_off, q->opt_len);
	return (long)(p + q->opt_len);
}

long
dns_answer_empty(uint8_t *out, size_t cap, const struct dns_query *q,
    enum dns_empty_kind kind, struct err *e)
{
	size_t size = q->question_end + q->opt_len, p;
	uint16_t flags;

	if (size > cap)
		return err_set(
		    e, "answer of %zu bytes does not fit %zu", size, cap);
	switch (kind) {
	case DNS_EMPTY_NXDOMAIN:
		flags = dns_resp_flags_aa(q->flags, DNS_RCODE_NXDOMAIN);
		break;
	case DNS_EMPTY_FORMERR:
		flags = dns_resp_flags(q->flags, DNS_RCODE_FORMERR);
		break;
	default:
		flags = dns_resp_flags(q->flags, DNS_RCODE_NOERROR);
		break;
	}
	p = answer_head(out, q, flags, 0);
	memcpy(out + p, q->msg + q->opt_off, q->opt_len);
	return (long)(p + q->opt_len);
}

long
dns_name_encode(
    const char *text, size_t len, uint8_t *out, size_t cap, struct err *e)
{
	size_t i, start = 0, o = 0, lab;

	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len > DNS_NAME_STRICT_MAX - 2)
		return err_set(
		    e, "name of %zu characters longer than 253", len);
	if ((len == 0 ? 1 : len + 2) > cap)
		return err_set(e, "name does not fit %zu bytes", cap);
	if (len == 0) {
		out[0] = 0;
		return 1;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '.')
			continue;
		lab = i - start;
		if (lab == 0 || lab > DNS_LABEL_MAX)
			return err_set(e,
			    "label %zu characters long at "
			    "offset %zu",
			    lab, start);
		out[o++] = (uint8_t)lab;
		memcpy(out + o, text + start, lab);
		o += lab;
		start = i + 1;
	}
	out[o++] = 0;
	return (long)o;
}

long
dns_qname_from_data(const char *data, size_t n, const uint8_t *dom,
    size_t dom_len, uint8_t *out, size_t cap, struct err *e)
{
	size_t labels = (n + DNS_LABEL_MAX - 1) / DNS_LABEL_MAX;
	size_t total = n + labels + dom_len, i, o = 0, l;

	if (total > DNS_NAME_STRICT_MAX)
		return err_set(e, "QNAME of %zu bytes longer than 255", total);
	if (total > cap)
		return err_set(e, "QNAME does not fit %zu bytes", cap);
	for (i = 0; i < n; i += l) {
		l = MIN(n - i, (size_t)DNS_LABEL_MAX);
		out[o++] = (uint8_t)l;
		memcpy(out + o, data + i, l);
		o += l;
	}
	memcpy(out + o, dom, dom_len);
	return (long)(o + dom_len);
}

size_t
dns_qname_max_data(size_t domain_len)
{
	size_t c;

	/* chars + dots between data labels + one dot + domain <= 253. */
	for (c = 253; c > 0; c--)
		if (c + (c - 1) / DNS_LABEL_MAX + 1 + domain_len <= 253)
			return c;
	return 0;
}

long
dns_query_write(uint8_t *out, size_t cap, uint16_t id, const uint8_t *qname,
    size_t qname_len, uint16_t qtype, uint16_t edns_size, struct err *e)
{
	size_t size =
		   DNS_HDR_LEN + qname_len + 4 + (edns_size ? DNS_OPT_LEN : 0),
	       p;

	if (qname_len > cap || size > cap)
		return err_set(
		    e, "query of %zu bytes does not fit %zu", size, cap);
	be16_store(out, id);
	be16_store(out + 2, DNS_F_RD);
	be16_store(out + 4, 1);
	be16_store(out + 6, 0);
	be16_store(out + 8, 0);
	be16_store(out + 10, edns_size ? 1 : 0);
	memcpy(out + DNS_HDR_LEN, qname, qname_len);
	p = DNS_HDR_LEN + qname_len;
	be16_store(out + p, qtype);
	be16_store(out + p + 2, DNS_CLASS_IN);
	p += 4;
	if (edns_size) {
		out[p] = 0;
		be16_store(out + p + 1, DNS_TYPE_OPT);
		be16_store(out + p + 3, edns_size);
		be32_store(out + p + 5, 0);
		be16_store(out + p + 9, 0);
		p += DNS_OPT_LEN;
	}
	return (long)p;
}

const char *
dns_rcode_name(unsigned rcode)
{
	static const char *const n[] = {
	    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};

	return rcode < nitems(n) ? n[rcode] : "RCODE";
}

const char *
dns_answer_strstatus(enum dns_answer_status s)
{
	switch (s) {
	case DNS_ANS_FRAME:
		return "frame";
	case DNS_ANS_NOFRAME:
		return "no frame";
	case DNS_ANS_MALFORMED:
		return "malformed";
	case DNS_ANS_BADTXT:
		return "bad TXT data";
	case DNS_ANS_INCOMPLETE:
		return "incomplete";
	case DNS_ANS_TOOBIG:
		return "too big";
	}
	return "?";
}

#define HAVE(k) (have[(k) >> 3] & (1 << ((k)&7)))

struct txt_ref {
	const uint8_t *rd;
	uint16_t len;
};

enum dns_answer_status
dns_answer_parse(const uint8_t *msg, size_t len, enum dns_resp_mode mode,
    uint8_t *frame, size_t cap, struct dns_answer *a, struct err *e)
{
	struct txt_ref slot[256], first = {NULL, 0};
	uint8_t have[256 / 8];
	int b64 = mode == DNS_RESP_BASE64;
	const char *why;
	size_t off, next, rdlen, pos, skip;
	unsigned i, total, k, n, bad_rr = 0;
	uint16_t type;
	uint8_t peek[2];
	long t;

	memset(a, 0, offsetof(struct dns_answer, qname));
	a->qname[0] = '\0';
	a->has_opt = 0;
	a->edns_udp_size = 0;
	a->txt_rrs = a->chunks = a->other_rrs = 0;
	a->frame_len = 0;
	if (len < DNS_HDR_LEN) {
		err_set(e, "message of %zu bytes shorter than a header", len);
		return DNS_ANS_MALFORMED;
	}
	a->id = be16_load(msg);
	a->flags = be16_load(msg + 2);
	a->qdcount = be16_load(msg + 4);
	a->ancount = be16_load(msg + 6);
	a->nscount = be16_load(msg + 8);
	a->arcount = be16_load(msg + 10);
	off = DNS_HDR_LEN;
	for (i = 0; i < a->qdcount; i++) {
		if (name_read(msg, len, off, 1, i == 0 ? a->qname : NULL,
			&a->qname_len, &next, NULL, &why) < 0) {
			err_set(e, "question %u: %s", i + 1, why);
			return DNS_ANS_MALFORMED;
		}
		if (len - next < 4) {
			err_set(e, "question %u cut off", i + 1);
			return DNS_ANS_MALFORMED;
		}
		if (i == 0) {
			a->has_question = 1;
			a->qtype = be16_load(msg + next);
			a->qclass = be16_load(msg + next + 2);
		}
		off = next + 4;
	}
	total = (unsigned)a->ancount + a->nscount + a->arcount;
	/* A bitmap of filled slots spares clearing 4 KiB per message. */
	memset(have, 0, sizeof have);
	for (i = 0; i < total; i++) {
		if (name_read(msg, len, off, 1, NULL, NULL, &next, NULL, &why) <
		    0) {
			err_set(e, "record %u: %s", i + 1, why);
			return DNS_ANS_MALFORMED;
		}
		if (len - next < 10) {
			err_set(e, "record %u: fixed fields cut off", i + 1);
			return DNS_ANS_MALFORMED;
		}
		type = be16_load(msg + next);
		rdlen = be16_load(msg + next + 8);
		off = next + 10;
		if (rdlen > len - off) {
			err_set(e, "record %u: RDATA runs past the end", i + 1);
			return DNS_ANS_MALFORMED;
		}
		if (type != DNS_TYPE_TXT && type != DNS_TYPE_OPT)
			a->other_rrs++;
		if (i >= (unsigned)a->ancount + a->nscount &&
		    type == DNS_TYPE_OPT && !a->has_opt) {
			a->has_opt = 1;
			a->edns_udp_size = be16_load(msg + next + 2);
		}
		if (type == DNS_TYPE_TXT &&
		    txt_rdata_decode(msg + off, rdlen, 0, 0, NULL, 0) < 0) {
			err_set(
			    e, "record %u: TXT strings overrun RDATA", i + 1);
			return DNS_ANS_MALFORMED;
		}
		if (i < a->ancount && type == DNS_TYPE_TXT) {
			t = txt_rdata_decode(msg + off, rdlen, b64, 0, peek, 1);
			if (t < 0 && bad_rr == 0)
				bad_rr = i + 1;
			if (t > 0) {
				if (a->txt_rrs++ == 0) {
					first.rd = msg + off;
					first.len = (uint16_t)rdlen;
				}
				slot[peek[0]].rd = msg + off;
				slot[peek[0]].len = (uint16_t)rdlen;
				have[peek[0] >> 3] |=
				    (uint8_t)(1 << (peek[0] & 7));
			}
		}
		off += rdlen;
	}
	/* Report bad base64 only once the whole message has parsed. */
	if (bad_rr != 0) {
		err_set(e, "answer %u: bad base64 text", bad_rr);
		return DNS_ANS_BADTXT;
	}
	if (a->txt_rrs == 0)
		return DNS_ANS_NOFRAME;
	if (a->txt_rrs == 1) {
		t = txt_rdata_decode(first.rd, first.len, b64, 0, frame, cap);
		if ((size_t)t > cap) {
			err_set(
			    e, "frame of %ld bytes larger than %zu", t, cap);
			return DNS_ANS_TOOBIG;
		}
		a->frame_len = (size_t)t;
		return DNS_ANS_FRAME;
	}
	if (!HAVE(0)) {
		err_set(e, "%u TXT answers but no chunk 0", a->txt_rrs);
		return DNS_ANS_INCOMPLETE;
	}
	t = txt_rdata_decode(slot[0].rd, slot[0].len, b64, 0, peek, 2);
	if (t < 3) {
		err_set(e, "chunk 0 of %ld bytes, shorter than 3", t);
		return DNS_ANS_BADTXT;
	}
	n = peek[1];
	if (n == 0) {
		err_set(e, "chunk 0 announces 0 chunks");
		return DNS_ANS_BADTXT;
	}
	for (k = 0; k < 256; k++) {
		if (k < n && !HAVE(k)) {
			err_set(e, "chunk %u of %u missing", k, n);
			return DNS_ANS_INCOMPLETE;
		}
		if (k >= n && HAVE(k)) {
			err_set(e, "chunk id %u beyond the %u announced", k, n);
			return DNS_ANS_BADTXT;
		}
	}
	pos = 0;
	for (k = 0; k < n; k++) {
		skip = k == 0 ? 2 : 1;
		t = txt_rdata_decode(
		    slot[k].rd, slot[k].len, b64, skip, frame + pos, cap - pos);
		if ((size_t)t - skip > cap - pos) {
			err_set(e, "reassembled frame larger than %zu", cap);
			return DNS_ANS_TOOBIG;
		}
		pos += (size_t)t - skip;
	}
	a->chunks = n;
	a->frame_len = pos;
	return DNS_ANS_FRAME;
}

int
dns_answer_matches(const struct dns_answer *a, uint16_t id, const char *qname,
    size_t qname_len, uint16_t qtype)
{
	size_t i;

	if (a->id != id || !a->has_question || a->qtype != qtype ||
	    a->qname_len != qname_len)
		return 0;
	for (i = 0; i < qname_len; i++)
		if (a->qname[i] != lower((uint8_t)qname[i]))
			return 0;
	return 1;
}

size_t
dns_response_size(
    size_t payload, size_t qname_wire, enum dns_resp_mode mode, size_t hdr_len)
{
	return dns_answer_size(
	    hdr_len + payload, qname_wire, qname_wire + 4, DNS_OPT_LEN, mode);
}

long
dns_max_payload(
    size_t budget, size_t qname_wire, enum dns_resp_mode mode, size_t hdr_len)
{
	size_t lo = 0, hi = 65535, mid, s;

	s = dns_response_size(0, qname_wire, mode, hdr_len);
	if (s == 0 || s > budget)
		return -1;
	/* Size grows with the payload: find the last P that fits. */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		s = dns_response_size(mid, qname_wire, mode, hdr_len);
		if (s != 0 && s <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	return (long)lo;
}
