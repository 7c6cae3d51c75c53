/* SPDX-License-Identifier: MIT */
/*
 * test-dns.c — proto/dns and proto/txt on their own: writers and readers
 * round trip, chunk layout for every frame length, answer reader edge cases
 * (order, duplicates, missing chunks, bad base64, multi-string RDATA),
 * query reader edge cases (pointer loops, forward pointers, truncation,
 * lying counts, long labels and names, zero questions, QR=1), flags of the
 * empty answers, and the size maths (checked against the formula of
 * wire-protocol.md 1.6 written out independently here).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/b64.h"
#include "proto/dns.h"
#include "proto/txt.h"
#include "tests/tap.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint8_t qbuf[4096], abuf[70000], fbuf[70000], frame[70000];

/* A tunnel-like query for "<data>.t.example". */
static long
make_query(uint8_t *out, size_t cap, uint16_t id, size_t datalen, uint16_t edns)
{
	char data[300];
	uint8_t dom[64], qn[300];
	long dl, ql;
	size_t i;

	for (i = 0; i < datalen; i++)
		data[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[rnd() % 36];
	dl = dns_name_encode("t.example", 9, dom, sizeof dom, NULL);
	ql = dns_qname_from_data(
	    data, datalen, dom, (size_t)dl, qn, sizeof qn, NULL);
	if (ql < 0)
		return -1;
	return dns_query_write(
	    out, cap, id, qn, (size_t)ql, DNS_TYPE_TXT, edns, NULL);
}

/*
 * A TXT answer written by hand: every owner a pointer to the question
 * name, RDATA split into character-strings of at most split bytes.
 */
static size_t
hand_answer(uint8_t *out, const uint8_t *q, size_t qlen_question,
    const uint8_t *const *rr, const size_t *rrlen, size_t n, size_t split)
{
	size_t p, i, o, l, start;

	memcpy(out, q, 12);
	be16_store(out + 2, 0x8180);
	be16_store(out + 6, (uint16_t)n);
	be16_store(out + 8, 0);
	be16_store(out + 10, 0);
	memcpy(out + 12, q + 12, qlen_question);
	p = 12 + qlen_question;
	for (i = 0; i < n; i++) {
		be16_store(out + p, 0xc00c);
		be16_store(out + p + 2, DNS_TYPE_TXT);
		be16_store(out + p + 4, DNS_CLASS_IN);
		be32_store(out + p + 6, 0);
		start = p + 10;
		o = p + 12;
		for (l = 0; l < rrlen[i]; l += split) {
			size_t s = MIN(split, rrlen[i] - l);

			out[o++] = (uint8_t)s;
			memcpy(out + o, rr[i] + l, s);
			o += s;
		}
		be16_store(out + start, (uint16_t)(o - p - 12));
		p = o;
	}
	return p;
}

static void
test_names(void)
{
	uint8_t w[600];
	char big[400];
	struct err e = {""};

	tap_is_int(dns_name_encode("t.example", 9, w, sizeof w, &e), 11,
	    "encode t.example");
	tap_ok(memcmp(w, "\001t\007example\000", 11) == 0, "wire bytes");
	tap_is_int(dns_name_encode("t.example.", 10, w, sizeof w, &e), 11,
	    "final dot allowed");
	tap_is_int(dns_name_encode("", 0, w, sizeof w, &e), 1, "empty = root");
	tap_is_int(dns_name_encode(".", 1, w, sizeof w, &e), 1, "dot = root");
	tap_is_int(dns_name_encode("a..b", 4, w, sizeof w, &e), -1,
	    "empty label rejected");
	memset(big, 'a', sizeof big);
	tap_is_int(dns_name_encode(big, 64, w, sizeof w, &e), -1,
	    "64-char label rejected");
	tap_is_int(dns_name_encode(big, 63, w, sizeof w, &e), 65,
	    "63-char label accepted");
	/* 253 characters: 63.63.63.61 */
	big[63] = big[127] = big[191] = '.';
	tap_is_int(dns_name_encode(big, 253, w, sizeof w, &e), 255,
	    "253 characters = 255 wire bytes");
	big[253] = 'a';
	tap_is_int(dns_name_encode(big, 254, w, sizeof w, &e), -1,
	    "254 characters rejected");
	tap_is_int(dns_name_encode("t.example", 9, w, 10, &e), -1,
	    "small buffer rejected");
	/* Table of wire-protocol.md 1.2: max base36 chars by domain length */
	tap_is_int(dns_qname_max_data(9), 240, "max data chars, domain 9");
	tap_is_int(dns_qname_max_data(12), 237, "max data chars, domain 12");
	tap_is_int(dns_qname_max_data(16), 233, "max data chars, domain 16");
	tap_is_int(dns_qname_max_data(20), 229, "max data chars, domain 20");
	tap_is_int(dns_qname_max_data(30), 219, "max data chars, domain 30");
	{
		uint8_t dom[16];
		long dl = dns_name_encode("t.example", 9, dom, sizeof dom, &e);

		memset(big, 'x', sizeof big);
		tap_is_int(dns_qname_from_data(
			       big, 240, dom, (size_t)dl, w, sizeof w, &e),
		    255, "240 data chars fit t.example");
		tap_ok(w[0] == 63 && w[64] == 63 && w[128] == 63 &&
			w[192] == 51 && w[244] == 1,
		    "63-char labels, then rest");
		tap_is_int(dns_qname_from_data(
			       big, 241, dom, (size_t)dl, w, sizeof w, &e),
		    -1, "241 data chars do not");
	}
}

static void
test_query_roundtrip(void)
{
	struct dns_query q;
	struct err e = {""};
	long ql;
	size_t n, bad = 0;

	for (n = 3; n <= 240; n++) {
		ql = make_query(qbuf, sizeof qbuf, (uint16_t)n, n, 4096);
		if (ql < 0 ||
		    dns_query_parse(qbuf, (size_t)ql, &q, &e) != DNS_QUERY_OK ||
		    q.id != n || q.flags != 0x0100 || q.qtype != DNS_TYPE_TXT ||
		    q.qclass != DNS_CLASS_IN || q.qdcount != 1 ||
		    q.arcount != 1 || q.opt_len != 11 ||
		    q.edns_udp_size != 4096 ||
		    q.qname_len != n + (n - 1) / 63 + 10 ||
		    strcmp(q.qname + q.qname_len - 10, ".t.example") != 0 ||
		    q.question_end + 11 != (size_t)ql)
			bad++;
	}
	tap_is_int(bad, 0, "written queries read back, 3..240 data chars");
	ql = make_query(qbuf, sizeof qbuf, 7, 20, 0);
	tap_ok(ql > 0 &&
		dns_query_parse(qbuf, (size_t)ql, &q, &e) == DNS_QUERY_OK &&
		q.opt_len == 0 && q.arcount == 0,
	    "query without EDNS");
	ql = make_query(qbuf, sizeof qbuf, 7, 20, 1232);
	tap_ok(ql > 0 &&
		dns_query_parse(qbuf, (size_t)ql, &q, &e) == DNS_QUERY_OK &&
		q.edns_udp_size == 1232,
	    "EDNS size 1232");
	tap_is_int(dns_query_write(
		       qbuf, 20, 1, (const uint8_t *)"\0", 1, 16, 4096, &e),
	    -1, "small buffer rejected");
	/* Mixed case: text lowered, wire kept. */
	{
		uint8_t w[64];
		long l = dns_name_encode("AbC.T.Example", 13, w, sizeof w, &e);

		ql = dns_query_write(
		    qbuf, sizeof qbuf, 9, w, (size_t)l, 16, 4096, &e);
		tap_ok(
		    dns_query_parse(qbuf, (size_t)ql, &q, &e) == DNS_QUERY_OK &&
			strcmp(q.qname, "abc.t.example") == 0 &&
			memcmp(qbuf + 12, w, (size_t)l) == 0,
		    "mixed case: text lowered, wire kept");
	}
}

/* Flip header fields of a good query and check the verdict. */
static void
test_query_edges(void)
{
	struct dns_query q;
	struct err e = {""};
	uint8_t m[2048];
	long ql;
	size_t i, bad;
	enum dns_query_verdict v;

	ql = make_query(qbuf, sizeof qbuf, 0x1234, 100, 4096);
#define VERDICT(buf, len) dns_query_parse((buf), (len), &q, &e)
	memcpy(m, qbuf, (size_t)ql);
	m[2] |= 0x80;
	tap_is_int(VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "QR=1 dropped");
	memcpy(m, qbuf, (size_t)ql);
	m[2] = (uint8_t)((m[2] & 0x87) | (7 << 3));
	tap_is_int(VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "opcode 7 dropped");
	m[2] = (uint8_t)((m[2] & 0x87) | (6 << 3));
	tap_is_int(VERDICT(m, (size_t)ql), DNS_QUERY_OK, "opcode 6 accepted");
	memcpy(m, qbuf, (size_t)ql);
	be16_store(m + 4, 0);
	tap_is_int(
	    VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "zero questions dropped");
	be16_store(m + 4, 65);
	tap_is_int(
	    VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "QDCOUNT 65 dropped");
	/* With the OPT behind it, a second "question" would be the OPT's root
	 * name and type/class: use a query without EDNS. */
	{
		long l2 = make_query(m, sizeof m, 1, 50, 0);

		be16_store(m + 4, 2);
		tap_is_int(VERDICT(m, (size_t)l2), DNS_QUERY_DROP,
		    "QDCOUNT 2 with one question dropped");
	}
	memcpy(m, qbuf, (size_t)ql);
	be16_store(m + 6, 257);
	tap_is_int(
	    VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "ANCOUNT 257 dropped");
	be16_store(m + 6, 1);
	tap_ok(VERDICT(m, (size_t)ql) == DNS_QUERY_OK && q.opt_len == 0,
	    "ANCOUNT 1 lying: accepted, OPT not found (as upstream)");
	memcpy(m, qbuf, (size_t)ql);
	be16_store(m + 10, 2);
	tap_ok(VERDICT(m, (size_t)ql) == DNS_QUERY_OK && q.opt_len == 11,
	    "ARCOUNT 2 lying: first OPT still found");
	memcpy(m, qbuf, (size_t)ql);
	m[12] = 64;
	tap_is_int(
	    VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "label length 64 dropped");
	m[12] = 0x80;
	tap_is_int(
	    VERDICT(m, (size_t)ql), DNS_QUERY_DROP, "label type 0x80 dropped");
	m[12] = 0xc0;
	m[13] = 0x04;
	tap_is_int(VERDICT(m, (size_t)ql), DNS_QUERY_DROP,
	    "pointer in first question dropped");
	/* Every truncation: before the question ends -> drop; after -> ok
	 * without OPT. */
	bad = 0;
	for (i = 0; i < (size_t)ql; i++) {
		v = VERDICT(qbuf, i);
		if (i < (size_t)ql - 11 ? v != DNS_QUERY_DROP :
					  (v != DNS_QUERY_OK || q.opt_len != 0))
			bad++;
	}
	tap_is_int(bad, 0, "every truncation classified");
	/* Root QNAME: FORMERR, and the FORMERR answer has flags 0x8181. */
	ql = dns_query_write(
	    qbuf, sizeof qbuf, 5, (const uint8_t *)"\0", 1, 16, 4096, &e);
	tap_is_int(VERDICT(qbuf, (size_t)ql), DNS_QUERY_FORMERR,
	    "root QNAME is FORMERR");
	{
		long al = dns_answer_empty(
		    abuf, sizeof abuf, &q, DNS_EMPTY_FORMERR, &e);

		tap_ok(al == ql && be16_load(abuf + 2) == 0x8181 &&
			memcmp(abuf + 4, qbuf + 4, (size_t)ql - 4) == 0,
		    "FORMERR answer 0x8181, rest echoed");
	}
	/* Second question with pointer chains. */
	{
		size_t p;

		ql = make_query(m, sizeof m, 1, 10, 0);
		p = (size_t)ql;
		be16_store(m + 4, 2);
		/* backward pointer to the first name: fine */
		m[p] = 0xc0;
		m[p + 1] = 12;
		be16_store(m + p + 2, 16);
		be16_store(m + p + 4, 1);
		tap_ok(VERDICT(m, p + 6) == DNS_QUERY_OK &&
			q.question_end == p + 6,
		    "backward pointer in question 2");
		/* pointer to itself: loop */
		m[p + 1] = (uint8_t)p;
		tap_is_int(
		    VERDICT(m, p + 6), DNS_QUERY_DROP, "self pointer dropped");
		/* forward pointer */
		m[p + 1] = (uint8_t)(p + 2);
		tap_is_int(VERDICT(m, p + 6), DNS_QUERY_DROP,
		    "forward pointer dropped");
		/* two-step loop: label then pointer back to the label */
		m[p] = 1;
		m[p + 1] = 'a';
		m[p + 2] = 0xc0;
		m[p + 3] = (uint8_t)p;
		be16_store(m + p + 4, 16);
		be16_store(m + p + 6, 1);
		tap_is_int(VERDICT(m, p + 8), DNS_QUERY_DROP,
		    "label+pointer loop dropped");
	}
	/* Long names: 269 bytes (s5) accepted, 1024 accepted, 1025 not. */
	{
		size_t w, p, l;

		for (w = 269; w <= 1026; w += 1) {
			if (w != 269 && w != 1024 && w != 1025)
				continue;
			memset(m, 0, 12);
			be16_store(m + 2, 0x0100);
			be16_store(m + 4, 1);
			p = 12;
			l = w - 1; /* bytes before the root */
			while (l > 0) {
				size_t lab = MIN(l - 1, (size_t)63);

				if (l - 1 - lab == 1) /* avoid a 0-len tail */
					lab--;
				m[p++] = (uint8_t)lab;
				memset(m + p, 'a', lab);
				p += lab;
				l -= lab + 1;
			}
			m[p++] = 0;
			be16_store(m + p, 16);
			be16_store(m + p + 2, 1);
			v = VERDICT(m, p + 4);
			tap_ok(p - 12 == w &&
				(w <= 1024 ? v == DNS_QUERY_OK &&
					    q.qname_wire_len == w :
					     v == DNS_QUERY_DROP),
			    "%zu-byte QNAME %s", w,
			    w <= 1024 ? "accepted" : "dropped");
		}
	}
	tap_is_int(VERDICT(qbuf, 11), DNS_QUERY_DROP, "11 bytes dropped");
#undef VERDICT
}

static void
test_flags(void)
{
	struct dns_query q;
	struct err e = {""};
	long ql, al;

	ql = make_query(qbuf, sizeof qbuf, 77, 30, 4096);
	/* opcode 2, RD, AD, CD, Z set in the request */
	be16_store(qbuf + 2, 0x1000 | 0x0100 | 0x0040 | 0x0020 | 0x0010);
	dns_query_parse(qbuf, (size_t)ql, &q, &e);
	al = dns_answer_empty(abuf, sizeof abuf, &q, DNS_EMPTY_NODATA, &e);
	tap_is_int(be16_load(abuf + 2),
	    0x8000 | 0x1000 | 0x0100 | 0x0080 | 0x0010,
	    "NODATA: QR RA, opcode RD CD copied, AD Z dropped");
	tap_ok(
	    al == ql && be16_load(abuf + 6) == 0 && be16_load(abuf + 10) == 1,
	    "NODATA: no RR, OPT echoed");
	dns_answer_empty(abuf, sizeof abuf, &q, DNS_EMPTY_NXDOMAIN, &e);
	tap_is_int(be16_load(abuf + 2),
	    0x8000 | 0x1000 | 0x0400 | 0x0100 | 0x0010 | 3,
	    "NXDOMAIN: QR AA, RA clear");
	be16_store(qbuf + 2, 0x0100);
	dns_query_parse(qbuf, (size_t)ql, &q, &e);
	dns_answer_empty(abuf, sizeof abuf, &q, DNS_EMPTY_NXDOMAIN, &e);
	tap_is_int(be16_load(abuf + 2), 0x8503, "NXDOMAIN 0x8503 as captured");
	al = dns_answer_build(abuf, sizeof abuf, &q, (const uint8_t *)"abcd", 4,
	    4, DNS_RESP_RAW, &e);
	tap_is_int(be16_load(abuf + 2), 0x8180, "tunnel answer 0x8180");
	tap_is_int(
	    dns_answer_empty(abuf, (size_t)ql - 1, &q, DNS_EMPTY_NODATA, &e),
	    -1, "small buffer rejected");
	tap_is_int(dns_answer_build(abuf, (size_t)al - 1, &q,
		       (const uint8_t *)"abcd", 4, 4, DNS_RESP_RAW, &e),
	    -1, "small buffer rejected (tunnel)");
	tap_is_int(dns_answer_build(abuf, sizeof abuf, &q,
		       (const uint8_t *)"abc", 3, 4, DNS_RESP_RAW, &e),
	    -1, "frame shorter than header rejected");
}

/* Build and read back frames of every length in both modes. */
static void
test_answer_roundtrip(void)
{
	struct dns_query q;
	struct dns_answer a;
	struct err e = {""};
	size_t len, bad = 0, badn = 0, badsize = 0, i;
	long ql, al;
	int b64;
	enum dns_answer_status st;

	ql = make_query(qbuf, sizeof qbuf, 4242, 150, 4096);
	dns_query_parse(qbuf, (size_t)ql, &q, &e);
	for (i = 0; i < sizeof fbuf; i++)
		fbuf[i] = (uint8_t)rnd();
	for (b64 = 0; b64 <= 1; b64++) {
		for (len = 4; len <= 48000; len += len < 1200 ? 1 : 97) {
			unsigned n = txt_chunk_count(len, b64);

			al = dns_answer_build(abuf, sizeof abuf, &q, fbuf, len,
			    11 < len ? 11 : 4,
			    b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, &e);
			if (n == 0) {
				if (al != -1)
					bad++;
				continue;
			}
			if (al < 0) {
				bad++;
				continue;
			}
			if ((size_t)al !=
			    dns_answer_size(len, q.qname_wire_len,
				q.question_end - 12, q.opt_len,
				b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW))
				badsize++;
			st = dns_answer_parse(abuf, (size_t)al,
			    b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, frame,
			    sizeof frame, &a, &e);
			if (st != DNS_ANS_FRAME || a.frame_len != len ||
			    memcmp(frame, fbuf, len) != 0 ||
			    !dns_answer_matches(
				&a, 4242, q.qname, q.qname_len, DNS_TYPE_TXT))
				bad++;
			if (a.txt_rrs != n || be16_load(abuf + 6) != n ||
			    (n == 1) != (a.chunks == 0))
				badn++;
		}
	}
	tap_is_int(bad, 0, "frames 4..48000 bytes round trip, raw and base64");
	tap_is_int(badn, 0, "RR count = txt_chunk_count");
	tap_is_int(badsize, 0, "dns_answer_size = built length");
	tap_is_int(txt_chunk_count(255, 0), 1, "255 raw bytes: one RR");
	tap_is_int(txt_chunk_count(256, 0), 2, "256 raw bytes: two chunks");
	tap_is_int(txt_chunk_count(191, 1), 1, "191 bytes base64: one RR");
	tap_is_int(txt_chunk_count(192, 1), 2, "192 bytes base64: two");
	tap_is_int(txt_chunk_count(1000, 0), 4, "1000 raw: 4 RRs");
	tap_is_int(txt_chunk_count(1000, 1), 6, "1000 base64: 6 RRs");
	tap_is_int(txt_chunk_count(4107, 0), 17, "MTU_DOWN_RES 4096: 17 raw");
	tap_is_int(txt_chunk_count(4107, 1), 22, "4096 base64: 22");
	tap_is_int(txt_chunk_count(253 + 254 * 254, 0), 255,
	    "largest raw frame: 255 chunks");
	tap_is_int(txt_chunk_count(253 + 254 * 254 + 1, 0), 0,
	    "one byte more: too many");
	/* Layout of a 600-byte raw frame: chunk 0 = 00 03 + 253 bytes. */
	ql = make_query(qbuf, sizeof qbuf, 1, 20, 0);
	dns_query_parse(qbuf, (size_t)ql, &q, &e);
	al = dns_answer_build(
	    abuf, sizeof abuf, &q, fbuf, 600, 11, DNS_RESP_RAW, &e);
	{
		size_t p = q.question_end, nl = q.qname_wire_len;

		tap_ok(memcmp(abuf + p, qbuf + 12, nl) == 0 &&
			be16_load(abuf + p + nl) == 16 &&
			be32_load(abuf + p + nl + 4) == 0 &&
			be16_load(abuf + p + nl + 8) == 256 &&
			abuf[p + nl + 10] == 255 && abuf[p + nl + 11] == 0 &&
			abuf[p + nl + 12] == 3 &&
			memcmp(abuf + p + nl + 13, fbuf, 253) == 0,
		    "chunk 0: full name, TTL 0, 00 03 + first 253 bytes");
		p += nl + 11 + 255;
		tap_ok(be16_load(abuf + p) == (0xc000 | q.question_end) &&
			be16_load(abuf + p + 10) == 256 &&
			abuf[p + 12] == 255 && abuf[p + 13] == 1 &&
			memcmp(abuf + p + 14, fbuf + 253, 254) == 0,
		    "chunk 1: pointer to first owner, 01 + 254 bytes");
		p += 13 + 255;
		tap_ok(abuf[p + 13] == 2 && abuf[p + 12] == 94 &&
			memcmp(abuf + p + 14, fbuf + 507, 93) == 0 &&
			(size_t)al == p + 13 + 94,
		    "chunk 2: 02 + last 93 bytes");
	}
}

static void
test_answer_reader(void)
{
	struct dns_query q;
	struct dns_answer a;
	struct err e = {""};
	uint8_t chunks[8][300], txt[8][400];
	const uint8_t *rr[8] = {NULL};
	size_t rl[8] = {0}, al, i, qsec;
	long ql;
	unsigned n, k;
	enum dns_answer_status st;

	ql = make_query(qbuf, sizeof qbuf, 99, 40, 0);
	dns_query_parse(qbuf, (size_t)ql, &q, &e);
	qsec = q.question_end - 12;
	n = txt_chunk_count(700, 0);
	/* 700 bytes take three raw chunks; the reorders below rely on it. */
	tap_is_int(n, 3, "700-byte frame in 3 raw chunks");
	for (k = 0; k < n; k++) {
		rl[k] = txt_chunk_raw(fbuf, 700, 0, n, k, chunks[k]);
		rr[k] = chunks[k];
	}
#define READ(mode)                                                             \
	dns_answer_parse(abuf, al, (mode), frame, sizeof frame, &a, &e)
	/* Reverse order, owners all pointers. */
	{
		const uint8_t *r2[3] = {rr[2], rr[1], rr[0]};
		size_t l2[3] = {rl[2], rl[1], rl[0]};

		al = hand_answer(abuf, qbuf, qsec, r2, l2, 3, 255);
		st = READ(DNS_RESP_RAW);
		tap_ok(st == DNS_ANS_FRAME && a.frame_len == 700 &&
			memcmp(frame, fbuf, 700) == 0 && a.chunks == 3,
		    "chunks in reverse order reassemble");
	}
	/* Duplicate: a bogus chunk 1 replaced by the right one later. */
	{
		uint8_t bogus[10] = {1, 'x', 'x'};
		const uint8_t *r2[4] = {rr[0], bogus, rr[2], rr[1]};
		size_t l2[4] = {rl[0], 3, rl[2], rl[1]};

		al = hand_answer(abuf, qbuf, qsec, r2, l2, 4, 255);
		st = READ(DNS_RESP_RAW);
		tap_ok(st == DNS_ANS_FRAME && a.frame_len == 700 &&
			memcmp(frame, fbuf, 700) == 0 && a.txt_rrs == 4,
		    "later duplicate replaces earlier");
		r2[1] = rr[1];
		l2[1] = rl[1];
		r2[3] = bogus;
		l2[3] = 3;
		al = hand_answer(abuf, qbuf, qsec, r2, l2, 4, 255);
		st = READ(DNS_RESP_RAW);
		tap_ok(st == DNS_ANS_FRAME && a.frame_len == 700 - 254 + 2,
		    "... and the other way round the bogus one wins");
	}
	/* Missing chunk. */
	al = hand_answer(abuf, qbuf, qsec, rr, rl, 2, 255);
	tap_is_int(READ(DNS_RESP_RAW), DNS_ANS_INCOMPLETE,
	    "missing chunk: "
	    "incomplete (%s)",
	    e.msg);
	/* Missing chunk 0. */
	al = hand_answer(abuf, qbuf, qsec, rr + 1, rl + 1, 2, 255);
	tap_is_int(READ(DNS_RESP_RAW), DNS_ANS_INCOMPLETE,
	    "no chunk 0: "
	    "incomplete");
	/* Extra chunk id beyond N. */
	{
		uint8_t extra[3] = {3, 'z', 'z'};
		const uint8_t *r2[4] = {rr[0], rr[1], rr[2], extra};
		size_t l2[4] = {rl[0], rl[1], rl[2], 3};

		al = hand_answer(abuf, qbuf, qsec, r2, l2, 4, 255);
		tap_is_int(READ(DNS_RESP_RAW), DNS_ANS_BADTXT,
		    "chunk id >= N refused");
		memcpy(txt[0], rr[0], rl[0]);
		txt[0][1] = 0;
		r2[0] = txt[0];
		al = hand_answer(abuf, qbuf, qsec, r2, l2, 3, 255);
		tap_is_int(READ(DNS_RESP_RAW), DNS_ANS_BADTXT, "N = 0 refused");
		l2[0] = 2;
		al = hand_answer(abuf, qbuf, qsec, r2, l2, 3, 255);
		tap_is_int(READ(DNS_RESP_RAW), DNS_ANS_BADTXT,
		    "2-byte chunk 0 refused");
	}
	/* Multi-string RDATA: same frame whatever the split. */
	{
		size_t splits[] = {1, 7, 64, 100}, j, ok = 0;

		for (j = 0; j < nitems(splits); j++) {
			al =
			    hand_answer(abuf, qbuf, qsec, rr, rl, 3, splits[j]);
			st = READ(DNS_RESP_RAW);
			ok += st == DNS_ANS_FRAME && a.frame_len == 700 &&
			    memcmp(frame, fbuf, 700) == 0;
		}
		tap_is_int(ok, nitems(splits), "multi-string RDATA (raw)");
		/* base64 of a 150-byte frame, split at odd places */
		char t64[256];
		size_t tl = b64_encode(fbuf, 150, t64);
		const uint8_t *r1[1] = {(const uint8_t *)t64};
		size_t l1[1] = {tl};

		ok = 0;
		for (j = 0; j < nitems(splits); j++) {
			al =
			    hand_answer(abuf, qbuf, qsec, r1, l1, 1, splits[j]);
			st = READ(DNS_RESP_BASE64);
			ok += st == DNS_ANS_FRAME && a.frame_len == 150 &&
			    memcmp(frame, fbuf, 150) == 0;
		}
		tap_is_int(ok, nitems(splits), "multi-string base64 RDATA");
		t64[tl] = '=';
		l1[0] = tl + 1;
		al = hand_answer(abuf, qbuf, qsec, r1, l1, 1, 255);
		tap_is_int(READ(DNS_RESP_BASE64), DNS_ANS_BADTXT,
		    "base64 with '=' refused");
		l1[0] = 5;
		al = hand_answer(abuf, qbuf, qsec, r1, l1, 1, 255);
		tap_is_int(READ(DNS_RESP_BASE64), DNS_ANS_BADTXT,
		    "base64 of length 5 refused");
		l1[0] = tl;
		al = hand_answer(abuf, qbuf, qsec, r1, l1, 1, 255);
		tap_is_int(dns_answer_parse(
			       abuf, al, DNS_RESP_BASE64, frame, 149, &a, &e),
		    DNS_ANS_TOOBIG, "frame over cap: too big");
	}
	/* String overrunning RDATA: malformed. Empty TXT RR: ignored. */
	{
		const uint8_t *r1[1] = {rr[0]};
		size_t l1[1] = {10};

		al = hand_answer(abuf, qbuf, qsec, r1, l1, 1, 255);
		abuf[al - 11] = 11; /* string length 11 in 10 bytes */
		tap_is_int(READ(DNS_RESP_RAW), DNS_ANS_MALFORMED,
		    "TXT string overrun is malformed");
		l1[0] = 0;
		al = hand_answer(abuf, qbuf, qsec, r1, l1, 1, 255);
		tap_ok(READ(DNS_RESP_RAW) == DNS_ANS_NOFRAME && a.txt_rrs == 0,
		    "empty TXT RR carries no frame");
	}
	/* Every truncation of a real answer is malformed. */
	{
		size_t bad = 0;
		long bl;

		ql = make_query(qbuf, sizeof qbuf, 3, 60, 4096);
		dns_query_parse(qbuf, (size_t)ql, &q, &e);
		bl = dns_answer_build(
		    abuf, sizeof abuf, &q, fbuf, 600, 11, DNS_RESP_RAW, &e);
		for (i = 0; i < (size_t)bl; i++)
			if (dns_answer_parse(abuf, i, DNS_RESP_RAW, frame,
				sizeof frame, &a, &e) != DNS_ANS_MALFORMED)
				bad++;
		tap_is_int(bad, 0, "all %ld truncations malformed", bl);
		tap_ok(dns_answer_parse(abuf, (size_t)bl, DNS_RESP_RAW, frame,
			   sizeof frame, &a, &e) == DNS_ANS_FRAME &&
			a.has_opt && a.edns_udp_size == 4096,
		    "whole answer reads, OPT seen");
		tap_ok(!dns_answer_matches(&a, 4, q.qname, q.qname_len, 16),
		    "other id does not match");
		tap_ok(!dns_answer_matches(&a, 3, "x.t.example", 11, 16),
		    "other name does not match");
		tap_ok(!dns_answer_matches(&a, 3, q.qname, q.qname_len, 1),
		    "other type does not match");
		{
			char up[DNS_NAME_TEXT_MAX];

			for (i = 0; i <= q.qname_len; i++)
				up[i] = (char)(q.qname[i] >= 'a' &&
					    q.qname[i] <= 'z' ?
					q.qname[i] - 32 :
					q.qname[i]);
			tap_ok(dns_answer_matches(&a, 3, up, q.qname_len, 16),
			    "upper-case name matches");
		}
		/* pointer loop in an answer owner */
		abuf[q.question_end + q.qname_wire_len + 11 + 255] = 0xc0;
		abuf[q.question_end + q.qname_wire_len + 11 + 255 + 1] =
		    (uint8_t)(q.question_end + q.qname_wire_len + 11 + 255);
		tap_is_int(dns_answer_parse(abuf, (size_t)bl, DNS_RESP_RAW,
			       frame, sizeof frame, &a, &e),
		    DNS_ANS_MALFORMED, "self-pointing owner name is malformed");
	}
	/* A label ending in a '.' byte (fuzzer find): the text ends in '.',
	 * which must not be taken for a final dot. */
	{
		static const uint8_t nm[] = "\003ab.\001t\000";
		long bl;

		ql = dns_query_write(
		    qbuf, sizeof qbuf, 8, nm, sizeof nm - 1, 16, 0, &e);
		dns_query_parse(qbuf, (size_t)ql, &q, &e);
		bl = dns_answer_build(
		    abuf, sizeof abuf, &q, fbuf, 10, 4, DNS_RESP_RAW, &e);
		tap_ok(dns_answer_parse(abuf, (size_t)bl, DNS_RESP_RAW, frame,
			   sizeof frame, &a, &e) == DNS_ANS_FRAME &&
			strcmp(a.qname, "ab..t") == 0 &&
			dns_answer_matches(&a, 8, a.qname, a.qname_len, 16),
		    "label with a dot byte matches");
	}
#undef READ
}

/* The 1.6 formula written out, raw mode, 11-byte header. */
static size_t
formula_raw(size_t p, size_t qn)
{
	size_t flen = 11 + p, size, rest, c;

	if (flen <= 255)
		return 12 + (qn + 4) + (qn + 10 + 1 + flen) + 11;
	size = 12 + (qn + 4) + (qn + 10 + 1 + 255) + 11;
	rest = flen - 253;
	while (rest > 0) {
		c = MIN(rest, (size_t)254);
		size += 2 + 10 + 1 + 1 + c;
		rest -= c;
	}
	return size;
}

static void
test_capacity(void)
{
	size_t p, qn, bad = 0, budgets[] = {512, 1232, 4096}, j;
	long m;
	int b64;

	for (qn = 20; qn <= 260; qn += 40)
		for (p = 0; p < 5000; p++)
			if (dns_response_size(p, qn, DNS_RESP_RAW, 11) !=
			    formula_raw(p, qn))
				bad++;
	tap_is_int(bad, 0, "dns_response_size = 1.6 formula (raw)");
	bad = 0;
	for (b64 = 0; b64 <= 1; b64++)
		for (qn = 11; qn <= 300; qn += 17)
			for (j = 0; j < nitems(budgets); j++) {
				m = dns_max_payload(budgets[j], qn,
				    b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, 11);
				if (m < 0) {
					if (dns_response_size(0, qn, b64, 11) <=
					    budgets[j])
						bad++;
					continue;
				}
				if (dns_response_size((size_t)m, qn, b64, 11) >
					budgets[j] ||
				    dns_response_size((size_t)m + 1, qn, b64,
					11) <= budgets[j])
					bad++;
			}
	tap_is_int(bad, 0, "dns_max_payload is the largest fitting payload");
	/* Monotonic in P (what the binary search relies on). */
	bad = 0;
	for (b64 = 0; b64 <= 1; b64++)
		for (p = 0; p < 20000; p++)
			if (dns_response_size(p + 1, 255, b64, 11) <
			    dns_response_size(p, 255, b64, 11))
				bad++;
	tap_is_int(bad, 0, "size grows with the payload");
	/* 255-wire-byte QNAME, 512 budget: 512-12-259-266-11 < 0 -> -1 */
	tap_is_int(dns_max_payload(512, 255, DNS_RESP_RAW, 11), -1,
	    "512 budget cannot carry a frame for a 255-byte QNAME");
	/* 40-byte QNAME: header, question, full chunk 0 (253 - 11 payload
	 * bytes), OPT, then chunk 1's RR (pointer, fixed, length, id). */
	tap_is_int(dns_max_payload(512, 40, DNS_RESP_RAW, 11),
	    242 + (512 - 12 - 44 - (40 + 11 + 255) - 11 - 14),
	    "512 budget, 40-byte QNAME");
}

int
main(void)
{
	test_names();
	test_query_roundtrip();
	test_query_edges();
	test_flags();
	test_answer_roundtrip();
	test_answer_reader();
	test_capacity();
	return tap_done();
}
