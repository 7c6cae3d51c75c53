/* SPDX-License-Identifier: MIT */
/*
 * tunnel.c — frames in DNS queries and out of DNS answers (tunnel.h). It
 * strings together the name pipeline of wire-query.c, the query writer and
 * the answer reader of dns.c and the decompressor of wire-comp.c; it keeps
 * no state and decides nothing about what a frame means.
 */
#include <string.h>

#include "proto/tunnel.h"

long
tunnel_query_name(const char *name, size_t len, uint16_t qtype, uint16_t id,
    uint8_t *out, size_t cap, struct tunnel_qinfo *qi, struct err *e)
{
	uint8_t wname[DNS_NAME_STRICT_MAX + 1];
	long wn, mn;

	if ((wn = dns_name_encode(name, len, wname, sizeof wname, e)) < 0)
		return -1;
	mn = dns_query_write(
	    out, cap, id, wname, (size_t)wn, qtype, DNS_EDNS_SIZE, e);
	if (mn < 0)
		return -1;
	if (qi != NULL) {
		qi->qname_chars = len;
		qi->qname_wire = (size_t)wn;
	}
	return mn;
}

long
tunnel_query_frame(const struct wire_frame *f, struct wire_cipher *c,
    const uint8_t *nonce, const char *domain, uint16_t id, uint8_t *out,
    size_t cap, struct tunnel_qinfo *qi, struct err *e)
{
	char name[WIRE_QNAME_BUF];
	size_t hl = wire_header_len(f->type), want;
	long n;

	if (hl == 0)
		return err_set(e, "unknown frame type 0x%02x", f->type);
	if (c == NULL)
		return err_set(e, "no cipher for the frame");
	/* Known before anything is encrypted: refuse names over 253. */
	want = wire_qname_len(
	    hl + f->payload_len, strlen(domain), wire_cipher_method(c));
	if (want > WIRE_QNAME_MAX)
		return err_set(e,
		    "query name of %zu characters is longer "
		    "than 253",
		    want);
	n = wire_encode_query_name(f, c, nonce, domain, name, sizeof name);
	if (n < 0)
		return err_set(e, "frame cannot be encoded");
	return tunnel_query_name(
	    name, (size_t)n, DNS_TYPE_TXT, id, out, cap, qi, e);
}

enum tunnel_ans
tunnel_answer_parse(const uint8_t *msg, size_t len, enum dns_resp_mode mode,
    uint8_t *fbuf, size_t fcap, uint8_t *ibuf, size_t icap,
    struct tunnel_answer *a, struct err *e)
{
	enum dns_answer_status st;
	long dn;

	memset(&a->f, 0, sizeof a->f);
	a->wire_status = WIRE_OK;
	a->inflated = 0;
	st = dns_answer_parse(msg, len, mode, fbuf, fcap, &a->dns, e);
	if (st != DNS_ANS_FRAME)
		return (enum tunnel_ans)st;
	a->wire_status = wire_frame_parse(fbuf, a->dns.frame_len, &a->f);
	if (a->wire_status != WIRE_OK) {
		err_set(e, "TXT data is not a tunnel frame: %s",
		    wire_strerror(a->wire_status));
		return TUNNEL_NOTFRAME;
	}
	if (ibuf == NULL || a->f.comp == 0 ||
	    !(wire_type_ext(a->f.type) & WIRE_EXT_COMP))
		return TUNNEL_FRAME;
	dn = wire_decompress(
	    a->f.comp, a->f.payload, a->f.payload_len, ibuf, icap, e);
	if (dn < 0)
		return TUNNEL_BADCOMP;
	a->f.payload = ibuf;
	a->f.payload_len = (size_t)dn;
	a->inflated = 1;
	return TUNNEL_FRAME;
}

const char *
tunnel_ans_name(enum tunnel_ans st)
{
	switch (st) {
	case TUNNEL_NOTFRAME:
		return "not a frame";
	case TUNNEL_BADCOMP:
		return "bad compression";
	default:
		return dns_answer_strstatus((enum dns_answer_status)st);
	}
}
