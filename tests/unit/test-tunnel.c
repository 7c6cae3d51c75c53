/* SPDX-License-Identifier: MIT */
/*
 * test-tunnel.c — proto/tunnel: a frame into a DNS query and out of an
 * answer, the two steps the engine and the scan share.
 *
 * Query: byte for byte what the engine and the scan each wrote before
 * (wire_encode_query_name, dns_name_encode, dns_query_write) for a fixed
 * nonce; the server side's readers (dns_query_parse,
 * wire_decode_query_name) get the frame back; names over 253 characters
 * are refused before anything is encrypted, with the reason.
 * Answer: answers written by the server side's builders (dns_answer_build,
 * dns_answer_empty) come back as the frame, with a compressed payload
 * inflated only when asked; a payload that does not inflate, TXT data that
 * is no frame, NODATA, a cut message and a missing chunk each get their
 * own status.
 */
#include <string.h>

#include "proto/tunnel.h"
#include "tests/tap.h"

#define DOMAIN "t.example"

static struct wire_cipher *cip;

static void
data_frame(struct wire_frame *f, const uint8_t *p, size_t n)
{
	memset(f, 0, sizeof *f);
	f->session_id = 7;
	f->cookie = 0x5a;
	f->type = WIRE_STREAM_DATA;
	f->stream_id = 3;
	f->seq = 41;
	f->frag_total = 1;
	f->payload = p;
	f->payload_len = n;
}

static void
check_query(void)
{
	static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	uint8_t pl[600], msg[TUNNEL_QUERY_MAX], old[TUNNEL_QUERY_MAX];
	uint8_t wn[300], buf[4096];
	char name[WIRE_QNAME_BUF], one[] = ".";
	struct tunnel_qinfo qi;
	struct wire_frame f, g;
	struct dns_query q;
	struct err e = {""};
	long n, on, qn, wl;
	size_t i;

	for (i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)(i * 7);
	data_frame(&f, pl, 100);
	n = tunnel_query_frame(
	    &f, cip, nonce, DOMAIN, 0xbeef, msg, sizeof msg, &qi, &e);
	tap_ok(n > 0, "100-byte STREAM_DATA: a query (%ld bytes) %s", n, e.msg);
	qn = wire_encode_query_name(&f, cip, nonce, DOMAIN, name, sizeof name);
	wl = dns_name_encode(name, (size_t)qn, wn, sizeof wn, NULL);
	on = dns_query_write(old, sizeof old, 0xbeef, wn, (size_t)wl,
	    DNS_TYPE_TXT, DNS_EDNS_SIZE, NULL);
	tap_ok(n == on && memcmp(msg, old, (size_t)n) == 0,
	    "byte for byte what the engine and the scan wrote by hand");
	tap_ok(qi.qname_chars == (size_t)qn && qi.qname_wire == (size_t)wl,
	    "QNAME sizes reported (%zu chars, %zu wire)", qi.qname_chars,
	    qi.qname_wire);

	tap_is_int(dns_query_parse(msg, (size_t)n, &q, &e), DNS_QUERY_OK,
	    "the server's reader takes it");
	tap_ok(q.id == 0xbeef && q.qtype == DNS_TYPE_TXT &&
		(q.flags & DNS_F_RD) && q.opt_len > 0 &&
		q.edns_udp_size == DNS_EDNS_SIZE,
	    "ID, TXT, RD and our EDNS 4096");
	{
		const char *doms[] = {DOMAIN};

		tap_is_int(wire_decode_query_name(q.qname, q.qname_len, doms, 1,
			       cip, buf, sizeof buf, &g, NULL),
		    WIRE_OK, "the server decodes the frame");
	}
	tap_ok(g.type == f.type && g.session_id == 7 && g.cookie == 0x5a &&
		g.stream_id == 3 && g.seq == 41 && g.payload_len == 100 &&
		memcmp(g.payload, pl, 100) == 0,
	    "every field and the payload survive");

	data_frame(&f, pl, 500);
	memset(&e, 0, sizeof e);
	tap_is_int(tunnel_query_frame(
		       &f, cip, NULL, DOMAIN, 1, msg, sizeof msg, &qi, &e),
	    -1, "a 500-byte payload does not fit a QNAME");
	tap_ok(strstr(e.msg, "longer than 253") != NULL, "and says so (%s)",
	    e.msg);
	data_frame(&f, pl, wire_max_upload_payload(strlen(DOMAIN), 1));
	n = tunnel_query_frame(
	    &f, cip, NULL, DOMAIN, 1, msg, sizeof msg, &qi, NULL);
	tap_ok(n > 0 && qi.qname_chars <= WIRE_QNAME_MAX,
	    "the largest payload upstream allows fits (%zu chars)",
	    qi.qname_chars);
	f.type = 0x99;
	tap_is_int(tunnel_query_frame(
		       &f, cip, NULL, DOMAIN, 1, msg, sizeof msg, &qi, &e),
	    -1, "an unknown frame type is refused");

	n = tunnel_query_name(one, 1, 2, 9, msg, sizeof msg, &qi, &e);
	tap_ok(n > 0 &&
		dns_query_parse(msg, (size_t)n, &q, NULL) ==
		    DNS_QUERY_FORMERR &&
		q.qtype == 2 && qi.qname_wire == 1,
	    "'.' NS: the root query liveness sends");
	tap_is_int(tunnel_query_name("a..b", 4, 1, 9, msg, sizeof msg, &qi, &e),
	    -1, "an empty label is refused");
}

/* The server's answer to query msg carrying frame bytes fr[0..n). */
static long
answer(const uint8_t *msg, size_t mlen, const uint8_t *fr, size_t n, size_t hdr,
    enum dns_resp_mode mode, uint8_t *out, size_t cap)
{
	struct dns_query q;

	if (dns_query_parse(msg, mlen, &q, NULL) != DNS_QUERY_OK)
		return -1;
	return dns_answer_build(out, cap, &q, fr, n, hdr, mode, NULL);
}

static void
check_answer(void)
{
	static uint8_t big[3000], comp[3200], fr[4096], ans[8192];
	static uint8_t fbuf[8192], ibuf[65536];
	struct tunnel_answer ta;
	struct wire_frame f;
	struct dns_query q;
	uint8_t msg[TUNNEL_QUERY_MAX];
	struct err e = {""};
	long m, n, an, cn;
	uint32_t x = 1;
	size_t i;

	/* Sixteen letters at random: zstd halves it, no more. */
	for (i = 0; i < sizeof big; i++) {
		x = x * 1103515245 + 12345;
		big[i] = (uint8_t)('a' + ((x >> 16) & 15));
	}
	data_frame(&f, big, 10);
	m = tunnel_query_frame(
	    &f, cip, NULL, DOMAIN, 77, msg, sizeof msg, NULL, NULL);

	/* A compressed downstream frame, chunked in base64 mode. */
	cn = wire_compress(WIRE_COMP_ZSTD, big, sizeof big, comp, sizeof comp);
	data_frame(&f, comp, (size_t)cn);
	f.comp = WIRE_COMP_ZSTD;
	n = wire_frame_build(&f, fr, sizeof fr);
	an = answer(msg, (size_t)m, fr, (size_t)n, 11, DNS_RESP_BASE64, ans,
	    sizeof ans);
	tap_ok(
	    cn > 0 && an > 0, "server answer with a %ld-byte zstd payload", cn);
	tap_is_int(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_BASE64, fbuf,
		       sizeof fbuf, ibuf, sizeof ibuf, &ta, &e),
	    TUNNEL_FRAME, "read back as a frame");
	tap_ok(ta.inflated && ta.f.payload_len == sizeof big &&
		memcmp(ta.f.payload, big, sizeof big) == 0 &&
		ta.f.payload == ibuf,
	    "payload inflated into the caller's buffer");
	tap_ok(ta.f.type == WIRE_STREAM_DATA && ta.f.seq == 41 &&
		ta.dns.id == 77 && ta.dns.chunks > 1,
	    "frame fields, DNS id, %u chunks", ta.dns.chunks);
	tap_is_int(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_BASE64, fbuf,
		       sizeof fbuf, NULL, 0, &ta, &e),
	    TUNNEL_FRAME, "without an inflate buffer");
	tap_ok(!ta.inflated && ta.f.payload_len == (size_t)cn,
	    "the payload stays as it came");
	tap_ok(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_RAW, fbuf,
		   sizeof fbuf, ibuf, sizeof ibuf, &ta, &e) != TUNNEL_FRAME,
	    "base64 chunks read as raw: no frame (%s)", e.msg);

	/* A payload that claims zstd and is not. */
	data_frame(&f, big, 50);
	f.comp = WIRE_COMP_ZSTD;
	n = wire_frame_build(&f, fr, sizeof fr);
	an = answer(
	    msg, (size_t)m, fr, (size_t)n, 11, DNS_RESP_RAW, ans, sizeof ans);
	memset(&e, 0, sizeof e);
	tap_is_int(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_RAW, fbuf,
		       sizeof fbuf, ibuf, sizeof ibuf, &ta, &e),
	    TUNNEL_BADCOMP, "corrupt compressed payload: bad compression");
	tap_ok(e.msg[0] != '\0', "with the reason (%s)", e.msg);

	/* TXT bytes that are no frame (check byte wrong). */
	data_frame(&f, big, 20);
	n = wire_frame_build(&f, fr, sizeof fr);
	fr[3] ^= 0x01;
	an = answer(
	    msg, (size_t)m, fr, (size_t)n, 4, DNS_RESP_RAW, ans, sizeof ans);
	tap_is_int(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_RAW, fbuf,
		       sizeof fbuf, ibuf, sizeof ibuf, &ta, &e),
	    TUNNEL_NOTFRAME, "damaged header: not a frame");
	tap_ok(ta.wire_status != WIRE_OK, "wire status says why (%s)",
	    wire_strerror(ta.wire_status));
	tap_is_str(tunnel_ans_name(TUNNEL_NOTFRAME), "not a frame", "named");
	tap_is_str(tunnel_ans_name(TUNNEL_INCOMPLETE), "incomplete",
	    "DNS statuses keep their names");

	/* NODATA, a cut message. */
	dns_query_parse(msg, (size_t)m, &q, NULL);
	an = dns_answer_empty(ans, sizeof ans, &q, DNS_EMPTY_NODATA, NULL);
	tap_is_int(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_RAW, fbuf,
		       sizeof fbuf, ibuf, sizeof ibuf, &ta, &e),
	    TUNNEL_NOFRAME, "NODATA: no frame");
	tap_is_int(tunnel_answer_parse(ans, 11, DNS_RESP_RAW, fbuf, sizeof fbuf,
		       ibuf, sizeof ibuf, &ta, &e),
	    TUNNEL_MALFORMED, "11 bytes: malformed");

	/* Chunked raw answer with its last chunk's count raised by one. */
	data_frame(&f, big, 600);
	n = wire_frame_build(&f, fr, sizeof fr);
	an = answer(
	    msg, (size_t)m, fr, (size_t)n, 11, DNS_RESP_RAW, ans, sizeof ans);
	be16_store(ans + 6, (uint16_t)(be16_load(ans + 6) - 1));
	tap_is_int(tunnel_answer_parse(ans, (size_t)an, DNS_RESP_RAW, fbuf,
		       sizeof fbuf, ibuf, sizeof ibuf, &ta, &e),
	    TUNNEL_INCOMPLETE, "a chunk not counted: incomplete");
}

int
main(void)
{
	struct err e = {""};

	cip = wire_cipher_new(
	    WIRE_METHOD_XOR, "0123456789abcdef0123456789abcdef", 32, &e);
	if (cip == NULL) {
		tap_ok(0, "cipher: %s", e.msg);
		return tap_done();
	}
	check_query();
	check_answer();
	wire_cipher_free(cip);
	return tap_done();
}
