/* SPDX-License-Identifier: MIT */
/*
 * test-dnstun.c — proto/dnstun (DNS through the tunnel) and proto/socks-udp
 * on hand-built messages: the request reader against upstream's rules,
 * the carried types, the FORMERR / NOTIMP answers byte for byte, the
 * answer rewrite, the upstream-answer check, fragment cutting, and the
 * reassembly table under duplicates, disagreeing totals, missing
 * fragments, timeouts and floods (memory stays inside its bounds).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dnstun.h"
#include "proto/socks-udp.h"
#include "tests/tap.h"

/* Build a query: header fields, then raw question bytes. */
static size_t
mkq(uint8_t *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar, const void *body, size_t blen)
{
	be16_store(b, id);
	be16_store(b + 2, flags);
	be16_store(b + 4, qd);
	be16_store(b + 6, an);
	be16_store(b + 8, ns);
	be16_store(b + 10, ar);
	memcpy(b + 12, body, blen);
	return 12 + blen;
}

static size_t
hex(const char *h, uint8_t *out)
{
	long n = hex_decode(h, strlen(h), out, 4096);

	if (n < 0)
		abort();
	return (size_t)n;
}

/* "\3www\3dns\7example\0" + type + class IN */
static const uint8_t Q_WWW_A[] = {3, 'w', 'w', 'w', 3, 'd', 'n', 's', 7, 'e',
    'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
/* OPT RR: root, type 41, class 4096, ttl 0, rdlen 0 */
static const uint8_t OPT[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};

static void
test_parse(void)
{
	struct dnstun_req r;
	uint8_t m[4096], body[2048];
	size_t n, i, o;

	n = mkq(m, 0x4000, 0x0100, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_OK, "A query parses");
	tap_is_str(r.q.name, "www.dns.example", "name text");
	tap_ok(r.q.qtype == 1 && r.q.qclass == 1 && r.id == 0x4000 &&
		r.question_end == n,
	    "type, class, id, end of question");

	memcpy(body, Q_WWW_A, sizeof Q_WWW_A);
	body[1] = 'W';
	body[6] = 'N';
	n = mkq(m, 1, 0x0100, 1, 0, 0, 0, body, sizeof Q_WWW_A);
	dnstun_req_parse(m, n, &r);
	tap_is_str(r.q.name, "www.dns.example", "A-Z lowered");

	body[0] = 0;
	body[1] = 0;
	body[2] = 2;
	body[3] = 0;
	body[4] = 1;
	n = mkq(m, 1, 0, 1, 0, 0, 0, body, 5);
	tap_ok(dnstun_req_parse(m, n, &r) == DNSTUN_REQ_OK &&
		strcmp(r.q.name, ".") == 0 && r.q.qtype == 2,
	    "root name reads as \".\"");

	/* label bytes are kept: a dot inside a label, a zero byte */
	body[0] = 3;
	memcpy(body + 1, "a.b", 3);
	body[4] = 0;
	memcpy(body + 5, "\0\1\0\1", 4);
	n = mkq(m, 1, 0, 1, 0, 0, 0, body, 9);
	dnstun_req_parse(m, n, &r);
	tap_ok(r.q.name_len == 3 && memcmp(r.q.name, "a.b", 3) == 0,
	    "a dot inside a label is kept as it is (upstream)");

	/* forward pointer: question name is a pointer to a name after it */
	o = 0;
	body[o++] = 0xc0;
	body[o++] = 12 + 6;
	memcpy(body + o, "\0\1\0\1", 4);
	o += 4;
	memcpy(body + o, "\3fwd\0", 5);
	o += 5;
	n = mkq(m, 1, 0, 1, 0, 0, 0, body, o);
	tap_ok(dnstun_req_parse(m, n, &r) == DNSTUN_REQ_OK &&
		strcmp(r.q.name, "fwd") == 0 && r.question_end == 12 + 6,
	    "forward compression pointer followed (upstream allows any)");

	/* pointer loop: 11 jumps */
	body[0] = 0xc0;
	body[1] = 12;
	memcpy(body + 2, "\0\1\0\1", 4);
	n = mkq(m, 1, 0, 1, 0, 0, 0, body, 6);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_BAD_QUESTION,
	    "pointer loop is a bad question");
	body[1] = 200;
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_BAD_QUESTION,
	    "pointer past the end");
	body[0] = 64;
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_BAD_QUESTION,
	    "label length 64");
	n = mkq(m, 1, 0, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A - 1);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_BAD_QUESTION,
	    "QCLASS cut off");

	/* chains of 10 and 11 pointers: upstream follows at most 10 */
	for (i = 10; i <= 11; i++) {
		size_t k;

		o = 0;
		body[o++] = 0xc0;
		body[o++] = 12 + 6;
		memcpy(body + o, "\0\1\0\1", 4);
		o += 4;
		for (k = 1; k < i; k++) {
			body[o] = 0xc0;
			body[o + 1] = (uint8_t)(12 + o + 2);
			o += 2;
		}
		memcpy(body + o, "\1x\0", 3);
		o += 3;
		n = mkq(m, 1, 0, 1, 0, 0, 0, body, o);
		if (i == 10)
			tap_ok(dnstun_req_parse(m, n, &r) == DNSTUN_REQ_OK &&
				strcmp(r.q.name, "x") == 0,
			    "10 compression pointers followed");
		else
			tap_is_int(dnstun_req_parse(m, n, &r),
			    DNSTUN_REQ_BAD_QUESTION,
			    "11 pointers: bad question");
	}

	/* a name longer than DNSTUN_NAME_MAX through a pointer: 8 labels of
	 * 63 in the question, then a pointer to 9 more after it */
	o = 0;
	for (i = 0; i < 8; i++) {
		body[o++] = 63;
		memset(body + o, 'z', 63);
		o += 63;
	}
	body[o] = (uint8_t)(0xc0 | ((12 + o + 6) >> 8));
	body[o + 1] = (uint8_t)(12 + o + 6);
	o += 2;
	memcpy(body + o, "\0\1\0\1", 4);
	o += 4;
	for (i = 0; i < 9; i++) {
		body[o++] = 63;
		memset(body + o, 'a', 63);
		o += 63;
	}
	body[o++] = 0;
	n = mkq(m, 1, 0, 1, 0, 0, 0, body, o);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_BAD_QUESTION,
	    "name text over 1024 characters is a bad question");
	m[12 + 8 * 64 + 2 + 4 + 8 * 64] = 0; /* cut the tail to 8 labels */
	tap_ok(dnstun_req_parse(m, n, &r) == DNSTUN_REQ_OK &&
		r.q.name_len == 16 * 64 - 1,
	    "1023 characters are fine");

	n = mkq(m, 1, 0x8100, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_NOT_REQUEST, "QR=1");
	n = mkq(m, 1, 7 << 11, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(
	    dnstun_req_parse(m, n, &r), DNSTUN_REQ_NOT_REQUEST, "opcode 7");
	n = mkq(m, 1, 6 << 11, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_OK, "opcode 6 ok");
	n = mkq(m, 1, 0, 0, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_NOT_REQUEST, "QD 0");
	n = mkq(m, 1, 0, 65, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_req_parse(m, n, &r), DNSTUN_REQ_NOT_REQUEST, "QD 65");
	n = mkq(m, 1, 0, 1, 0, 0, 257, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(
	    dnstun_req_parse(m, n, &r), DNSTUN_REQ_NOT_REQUEST, "AR 257");
	tap_is_int(dnstun_req_parse(m, 11, &r), DNSTUN_REQ_SHORT, "11 bytes");
}

static void
test_types(void)
{
	static const uint16_t yes[] = {
	    1, 28, 5, 15, 2, 12, 33, 64, 257, 35, 6, 65, 52};
	static const uint16_t no[] = {16, 255, 0, 41, 99, 13, 251, 252};
	int ok = 1;
	size_t i;

	for (i = 0; i < nitems(yes); i++)
		ok &= dnstun_type_supported(yes[i], 1);
	tap_ok(ok, "the 13 carried types, class IN");
	ok = 1;
	for (i = 0; i < nitems(no); i++)
		ok &= !dnstun_type_supported(no[i], 1);
	tap_ok(ok, "TXT, ANY, OPT, AXFR... are not carried");
	tap_ok(!dnstun_type_supported(1, 3) && !dnstun_type_supported(1, 255),
	    "class CH / ANY not carried");
}

static void
test_answers(void)
{
	struct dnstun_req r;
	enum dnstun_why why;
	uint8_t m[600], out[600], body[300], want[600];
	size_t n, olen, wl, o;

	/* s8 app query 2: TXT short.dns.example, the server's NOTIMP */
	n = hex("4002010000010000000000000573686f727403646e73076578616d706c65"
		"0000100001",
	    m);
	wl = hex("4002818400010000000000000573686f727403646e73076578616d706c65"
		 "0000100001",
	    want);
	tap_is_int(dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why),
	    DNSTUN_REPLY, "server: TXT is answered");
	tap_ok(why == DNSTUN_WHY_UNSUPPORTED && olen == wl &&
		memcmp(out, want, wl) == 0,
	    "server: TXT -> NOTIMP, byte for byte as in s8");
	tap_is_int(
	    dnstun_local_check(m, n, 0, &r, out, sizeof out, &olen, &why),
	    DNSTUN_RESOLVE, "client: TXT goes to the server (upstream)");
	tap_ok(dnstun_local_check(m, n, DNSTUN_LOCAL_REFUSE_UNSUPPORTED, &r,
		   out, sizeof out, &olen, &why) == DNSTUN_REPLY &&
		olen == wl && memcmp(out, want, wl) == 0,
	    "client with REFUSE_UNSUPPORTED: the same NOTIMP locally");
	tap_is_int(dnstun_server_check(m, n, &r, out, 20, &olen, &why),
	    DNSTUN_DROP, "no room for the answer: drop");
	tap_is_int(why, DNSTUN_WHY_NOSPACE, "... why nospace");

	/* NOTIMP keeps opcode, RD, CD; clears AA/TC; echoes the OPT */
	memcpy(body, Q_WWW_A, sizeof Q_WWW_A);
	body[sizeof Q_WWW_A - 3] = 16; /* TXT */
	memcpy(body + sizeof Q_WWW_A, OPT, sizeof OPT);
	n = mkq(m, 7, 0x0710 | (2 << 11), 1, 0, 0, 1, body,
	    sizeof Q_WWW_A + sizeof OPT);
	dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why);
	tap_ok(olen == n &&
		be16_load(out + 2) == (0x8094 | (2 << 11) | 0x100) &&
		be16_load(out + 10) == 1 &&
		memcmp(out + 12, m + 12, n - 12) == 0,
	    "NOTIMP: flags QR RA RD CD opcode, question and OPT echoed");

	/* FORMERR: question with a dangling pointer still skips: echoed */
	o = 0;
	body[o++] = 1;
	body[o++] = 'x';
	body[o++] = 0xc0;
	body[o++] = 250;
	memcpy(body + o, "\0\1\0\1", 4);
	o += 4;
	memcpy(body + o, OPT, sizeof OPT);
	o += sizeof OPT;
	n = mkq(m, 9, 0x0100, 1, 0, 0, 1, body, o);
	tap_is_int(dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why),
	    DNSTUN_REPLY, "bad question: server answers");
	tap_ok(why == DNSTUN_WHY_BAD_QUESTION && olen == n &&
		be16_load(out + 2) == 0x8181 && be16_load(out + 4) == 1 &&
		memcmp(out + 12, m + 12, n - 12) == 0,
	    "FORMERR with the question and OPT echoed (skip succeeds)");
	tap_is_int(
	    dnstun_local_check(m, n, 0, &r, out, sizeof out, &olen, &why),
	    DNSTUN_DROP, "client drops a bad question (upstream)");

	/* FORMERR: question cut off -> QD 0, no question, no OPT */
	n = mkq(m, 9, 0x0100, 1, 0, 0, 0, Q_WWW_A, 10);
	dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why);
	tap_ok(olen == 12 && be16_load(out + 4) == 0 &&
		be16_load(out + 2) == 0x8181 && be16_load(out) == 9,
	    "FORMERR for a cut question: header only, QD 0");
	n = mkq(m, 9, 0x8100, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why),
	    DNSTUN_DROP, "a response is dropped without answer");
	tap_is_int(dnstun_server_check(m, 5, &r, out, sizeof out, &olen, &why),
	    DNSTUN_DROP, "5 bytes: dropped");
	tap_is_int(why, DNSTUN_WHY_SHORT, "... why short");

	/* two questions: both copied, QD 2 */
	memcpy(body, Q_WWW_A, sizeof Q_WWW_A);
	body[sizeof Q_WWW_A - 3] = 16;
	memcpy(body + sizeof Q_WWW_A, Q_WWW_A, sizeof Q_WWW_A);
	n = mkq(m, 3, 0, 2, 0, 0, 0, body, 2 * sizeof Q_WWW_A);
	dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why);
	tap_ok(olen == n && be16_load(out + 4) == 2,
	    "NOTIMP with two questions copies both (QD 2)");

	n = mkq(m, 3, 0x0100, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	tap_is_int(dnstun_server_check(m, n, &r, out, sizeof out, &olen, &why),
	    DNSTUN_RESOLVE, "A: resolve");
	tap_is_int(dnstun_answer_rcode(
		       m, n, &r, DNSTUN_RCODE_SERVFAIL, out, sizeof out),
	    (long)n, "SERVFAIL answer length");
	tap_is_int(be16_load(out + 2), 0x8182, "SERVFAIL flags");
}

static void
test_patch_key_check(void)
{
	struct dnstun_req r;
	uint8_t m[300], a[300], key[DNSTUN_KEY_MAX], q2[300];
	size_t n, kl, an;

	n = mkq(m, 0x1234, 0x0110, 1, 0, 0, 0, Q_WWW_A, sizeof Q_WWW_A);
	memcpy(a, m, n);
	be16_store(a, 0);
	be16_store(a + 2, 0x8580);
	dnstun_patch_answer(a, n, m, n);
	tap_ok(be16_load(a) == 0x1234 && be16_load(a + 2) == 0x8590,
	    "patch: id and RD/CD from the query, AA/RA kept");
	be16_store(m + 2, 0x0000);
	dnstun_patch_answer(a, n, m, n);
	tap_is_int(be16_load(a + 2), 0x8480, "patch: RD and CD cleared");
	a[0] = 9;
	dnstun_patch_answer(a, 1, m, n);
	tap_is_int(a[0], 9, "patch: a 1-byte answer is left alone");

	dnstun_req_parse(m, n, &r);
	kl = dnstun_key(&r.q, key);
	tap_ok(kl == 4 + 15 && be16_load(key) == 1 && be16_load(key + 2) == 1 &&
		memcmp(key + 4, "www.dns.example", 15) == 0,
	    "cache key: type, class, name");

	an = n;
	memcpy(a, m, n);
	be16_store(a + 2, 0x8180);
	tap_is_int(dnstun_answer_check(a, an, 0x1234, &r.q), DNSTUN_ANS_OK,
	    "answer check: ok");
	tap_is_int(dnstun_answer_check(a, an, 0x1235, &r.q), DNSTUN_ANS_ID,
	    "answer check: id");
	tap_is_int(dnstun_answer_check(m, n, 0x1234, &r.q),
	    DNSTUN_ANS_NOT_RESPONSE, "answer check: QR clear");
	a[13] = 'W';
	tap_is_int(dnstun_answer_check(a, an, 0x1234, &r.q), DNSTUN_ANS_OK,
	    "answer check: case does not matter");
	a[13] = 'v';
	tap_is_int(dnstun_answer_check(a, an, 0x1234, &r.q),
	    DNSTUN_ANS_QUESTION, "answer check: other name");
	a[13] = 'w';
	a[an - 3] = 28;
	tap_is_int(dnstun_answer_check(a, an, 0x1234, &r.q),
	    DNSTUN_ANS_QUESTION, "answer check: other type");
	mkq(q2, 0x1234, 0x8180, 0, 0, 0, 0, "", 0);
	tap_is_int(dnstun_answer_check(q2, 12, 0x1234, &r.q),
	    DNSTUN_ANS_QUESTION, "answer check: NOERROR without question");
	be16_store(q2 + 2, 0x8185);
	tap_is_int(dnstun_answer_check(q2, 12, 0x1234, &r.q), DNSTUN_ANS_OK,
	    "answer check: REFUSED without question is an answer");
	tap_is_int(dnstun_answer_check(q2, 11, 0x1234, &r.q), DNSTUN_ANS_SHORT,
	    "answer check: short");
}

static void
test_frags(void)
{
	uint8_t msg[3000];
	struct wire_frame f, a;
	size_t i, off = 0;
	unsigned k;
	int ok = 1;

	for (i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7);
	tap_is_int(dnstun_frag_count(33, 141), 1, "33 bytes at 141: one");
	tap_is_int(dnstun_frag_count(202, 141), 2, "202 at 141: two (s8)");
	tap_is_int(dnstun_frag_count(433, 200), 3, "433 at 200: three (s8)");
	tap_is_int(dnstun_frag_count(200, 200), 1, "exactly the MTU: one");
	tap_is_int(dnstun_frag_count(0, 200), 0, "empty: none");
	tap_is_int(dnstun_frag_count(10, 0), 0, "MTU 0: none");
	tap_is_int(dnstun_frag_count(2550, 10), 255, "255 fragments");
	tap_is_int(dnstun_frag_count(2551, 10), 0, "256 would be needed: 0");
	for (k = 0; k < 3; k++) {
		ok &= dnstun_frag_frame(
			  msg, 433, 200, k, WIRE_DNS_QUERY_RES, 6, &f) == 0;
		ok &= f.payload == msg + off && f.frag_id == k &&
		    f.frag_total == 3 && f.seq == 6 && f.stream_id == 0 &&
		    f.type == WIRE_DNS_QUERY_RES;
		off += f.payload_len;
	}
	tap_ok(ok && off == 433, "three slices cover the message");
	tap_is_int(
	    dnstun_frag_frame(msg, 433, 200, 3, WIRE_DNS_QUERY_RES, 6, &f), -1,
	    "fragment 3 of 3 does not exist");
	tap_is_int(dnstun_frag_frame(msg, 10, 200, 0, WIRE_STREAM_DATA, 6, &f),
	    -1, "another type refused");
	dnstun_frag_frame(msg, 10, 200, 0, WIRE_DNS_QUERY_REQ, 9, &f);
	f.session_id = 4;
	f.cookie = 77;
	tap_ok(dnstun_ack_frame(&f, &a) == 0 &&
		a.type == WIRE_DNS_QUERY_REQ_ACK && a.seq == 9 &&
		a.frag_id == 0 && a.frag_total == 1 && a.session_id == 4 &&
		a.cookie == 77 && a.payload_len == 0,
	    "ack frame: _ACK type, same seq/frag/total, no payload");
}

static struct dnstun_reasm *
small_table(
    unsigned per_session, size_t sess_bytes, unsigned total, size_t total_bytes)
{
	struct dnstun_reasm_cfg c;

	dnstun_reasm_defaults(&c, 1);
	c.timeout_us = 10 * 1000000ULL;
	c.max_partial_session = per_session;
	c.max_bytes_session = sess_bytes;
	c.max_partial_total = total;
	c.max_bytes_total = total_bytes;
	c.max_done = 8;
	return dnstun_reasm_new(&c);
}

static void
test_reasm_basic(void)
{
	struct dnstun_reasm *r = small_table(64, 1 << 20, 256, 8 << 20);
	const struct dnstun_reasm_stats *st = dnstun_reasm_stats(r);
	uint8_t out[DNSTUN_MSG_MAX];
	size_t olen;
	enum dnstun_ra ra;

	tap_is_int(dnstun_reasm_add(r, 1, 8, 1, 2, (const uint8_t *)"world", 5,
		       0, out, sizeof out, &olen),
	    DNSTUN_RA_PARTIAL, "fragment 1 first (as in s8): partial");
	tap_is_int(dnstun_reasm_add(r, 1, 8, 1, 2, (const uint8_t *)"world", 5,
		       1, out, sizeof out, &olen),
	    DNSTUN_RA_DUP, "again: dup");
	ra = dnstun_reasm_add(r, 1, 8, 0, 2, (const uint8_t *)"hello ", 6, 2,
	    out, sizeof out, &olen);
	tap_ok(ra == DNSTUN_RA_COMPLETE && olen == 11 &&
		memcmp(out, "hello world", 11) == 0,
	    "fragment 0: complete, in order");
	tap_is_int(dnstun_reasm_add(r, 1, 8, 1, 2, (const uint8_t *)"world", 5,
		       3, out, sizeof out, &olen),
	    DNSTUN_RA_DONE, "late retransmission: done (no second message)");
	tap_is_int(dnstun_reasm_add(r, 2, 8, 1, 2, (const uint8_t *)"world", 5,
		       3, out, sizeof out, &olen),
	    DNSTUN_RA_PARTIAL, "same seq, other session: separate");
	tap_ok(dnstun_reasm_add(r, 1, 9, 0, 1, (const uint8_t *)"x", 1, 3, out,
		   sizeof out, &olen) == DNSTUN_RA_COMPLETE &&
		olen == 1,
	    "a single fragment (total 1) is a message");
	tap_is_int(dnstun_reasm_add(r, 1, 10, 5, 0, (const uint8_t *)"y", 1, 3,
		       out, sizeof out, &olen),
	    DNSTUN_RA_COMPLETE, "total 0 counts as 1, frag id ignored");
	tap_is_int(dnstun_reasm_add(r, 1, 11, 2, 2, (const uint8_t *)"y", 1, 3,
		       out, sizeof out, &olen),
	    DNSTUN_RA_BAD, "frag id 2 of 2: bad");
	tap_is_int(dnstun_reasm_add(r, 1, 11, 0, 2, (const uint8_t *)"", 0, 3,
		       out, sizeof out, &olen),
	    DNSTUN_RA_BAD, "empty fragment: bad");

	/* disagreeing totals: upstream restarts with the new total */
	dnstun_reasm_add(r, 1, 20, 0, 3, (const uint8_t *)"aa", 2, 4, out,
	    sizeof out, &olen);
	dnstun_reasm_add(r, 1, 20, 1, 3, (const uint8_t *)"bb", 2, 4, out,
	    sizeof out, &olen);
	tap_is_int(dnstun_reasm_add(r, 1, 20, 1, 2, (const uint8_t *)"BB", 2, 4,
		       out, sizeof out, &olen),
	    DNSTUN_RA_PARTIAL, "another total: started over");
	ra = dnstun_reasm_add(r, 1, 20, 0, 2, (const uint8_t *)"AA", 2, 4, out,
	    sizeof out, &olen);
	tap_ok(ra == DNSTUN_RA_COMPLETE && olen == 4 &&
		memcmp(out, "AABB", 4) == 0 && st->total_changed == 1,
	    "... completes with the new fragments only, counted");

	/* missing fragment: expires, memory comes back */
	dnstun_reasm_add(r, 3, 1, 0, 3, (const uint8_t *)"aa", 2, 100, out,
	    sizeof out, &olen);
	dnstun_reasm_add(r, 3, 1, 2, 3, (const uint8_t *)"cc", 2, 100, out,
	    sizeof out, &olen);
	tap_ok(dnstun_reasm_partial(r, 3) == 1 && dnstun_reasm_bytes(r, 3) > 0,
	    "incomplete message held");
	dnstun_reasm_expire(r, 100 + 10 * 1000000ULL - 1);
	tap_is_int(dnstun_reasm_partial(r, 3), 1, "not expired before 10 s");
	dnstun_reasm_expire(r, 100 + 10 * 1000000ULL);
	tap_ok(dnstun_reasm_partial(r, 3) == 0 &&
		dnstun_reasm_bytes(r, 3) == 0 && st->expired >= 1,
	    "expired at the timeout, bytes released, counted");
	tap_is_int(dnstun_reasm_add(r, 1, 8, 0, 2, (const uint8_t *)"hello ", 6,
		       20 * 1000000ULL, out, sizeof out, &olen),
	    DNSTUN_RA_PARTIAL, "a done id is forgotten after the timeout");
	dnstun_reasm_add(r, 1, 30, 0, 1, (const uint8_t *)"z", 1,
	    20 * 1000000ULL, out, sizeof out, &olen);
	dnstun_reasm_forget(r, 1, 30);
	tap_is_int(dnstun_reasm_add(r, 1, 30, 0, 1, (const uint8_t *)"z", 1,
		       20 * 1000000ULL, out, sizeof out, &olen),
	    DNSTUN_RA_COMPLETE, "forget: the message can come again");
	dnstun_reasm_add(r, 5, 1, 0, 2, (const uint8_t *)"aa", 2,
	    20 * 1000000ULL, out, sizeof out, &olen);
	dnstun_reasm_drop_session(r, 5);
	dnstun_reasm_drop_session(r, 1);
	tap_ok(dnstun_reasm_partial(r, 5) == 0 &&
		dnstun_reasm_bytes(r, 5) == 0 &&
		dnstun_reasm_add(r, 1, 30, 0, 1, (const uint8_t *)"z", 1,
		    20 * 1000000ULL, out, sizeof out,
		    &olen) == DNSTUN_RA_COMPLETE,
	    "drop_session releases its messages and done ids");
	tap_is_int(dnstun_reasm_add(r, 1, 31, 0, 2, (const uint8_t *)"abc", 3,
		       20 * 1000000ULL, out, 4, &olen),
	    DNSTUN_RA_PARTIAL, "small out: partial still fine");
	tap_is_int(dnstun_reasm_add(r, 1, 31, 1, 2, (const uint8_t *)"def", 3,
		       20 * 1000000ULL, out, 4, &olen),
	    DNSTUN_RA_BAD, "message larger than out: bad, not delivered");
	dnstun_reasm_free(r);
}

static void
test_reasm_bounds(void)
{
	struct dnstun_reasm_cfg c;
	struct dnstun_reasm *r;
	const struct dnstun_reasm_stats *st;
	uint8_t out[DNSTUN_MSG_MAX], big[2000];
	size_t olen, i, max_seen = 0, max_sess = 0;
	uint64_t seed = 88172645463325252ULL;
	unsigned seq;
	int ok = 1;

	memset(big, 'b', sizeof big);
	r = small_table(4, 1 << 20, 256, 8 << 20);
	st = dnstun_reasm_stats(r);
	for (seq = 0; seq < 4; seq++)
		dnstun_reasm_add(r, 1, (uint16_t)seq, 0, 2, big, 10, 0, out,
		    sizeof out, &olen);
	tap_is_int(
	    dnstun_reasm_add(r, 1, 4, 0, 2, big, 10, 0, out, sizeof out, &olen),
	    DNSTUN_RA_NOROOM, "5th incomplete message of a session: noroom");
	tap_ok(dnstun_reasm_add(r, 1, 0, 1, 2, big, 10, 0, out, sizeof out,
		   &olen) == DNSTUN_RA_COMPLETE,
	    "... the held ones still complete");
	tap_is_int(
	    dnstun_reasm_add(r, 2, 4, 0, 2, big, 10, 0, out, sizeof out, &olen),
	    DNSTUN_RA_PARTIAL, "another session is not affected");
	dnstun_reasm_free(r);

	/* total bounds: the heaviest other session loses its oldest */
	r = small_table(64, 1 << 20, 8, 8 << 20);
	st = dnstun_reasm_stats(r);
	for (seq = 0; seq < 7; seq++)
		dnstun_reasm_add(r, 9, (uint16_t)seq, 0, 2, big, 100, seq, out,
		    sizeof out, &olen);
	dnstun_reasm_add(r, 3, 0, 0, 2, big, 10, 10, out, sizeof out, &olen);
	tap_is_int(dnstun_reasm_add(
		       r, 3, 1, 0, 2, big, 10, 11, out, sizeof out, &olen),
	    DNSTUN_RA_PARTIAL, "table full: a light session still gets in");
	tap_ok(st->evicted == 1 && dnstun_reasm_partial(r, 9) == 6 &&
		dnstun_reasm_add(r, 9, 1, 1, 2, big, 100, 12, out, sizeof out,
		    &olen) == DNSTUN_RA_COMPLETE,
	    "... by evicting the flooding session's oldest message");
	dnstun_reasm_add(r, 9, 100, 0, 2, big, 100, 13, out, sizeof out, &olen);
	tap_is_int(dnstun_reasm_add(
		       r, 9, 101, 0, 2, big, 100, 13, out, sizeof out, &olen),
	    DNSTUN_RA_NOROOM, "full again: the heaviest session gets noroom");
	dnstun_reasm_free(r);

	/* too big */
	dnstun_reasm_defaults(&c, 0);
	c.max_msg = 1500;
	r = dnstun_reasm_new(&c);
	st = dnstun_reasm_stats(r);
	dnstun_reasm_add(r, 1, 1, 0, 2, big, 1000, 0, out, sizeof out, &olen);
	tap_ok(dnstun_reasm_add(r, 1, 1, 1, 2, big, 600, 0, out, sizeof out,
		   &olen) == DNSTUN_RA_BAD &&
		st->too_big == 1 && dnstun_reasm_partial(r, -1) == 0,
	    "a message over max_msg is dropped whole");
	tap_is_int(dnstun_reasm_add(
		       r, 1, 2, 0, 1, big, 1501, 0, out, sizeof out, &olen),
	    DNSTUN_RA_BAD, "a single fragment over max_msg: bad");
	dnstun_reasm_free(r);

	/* flood: random fragments of random sessions, bounds always hold */
	r = small_table(16, 64 * 1024, 512, 1 << 20);
	st = dnstun_reasm_stats(r);
	for (i = 0; i < 200000; i++) {
		uint8_t sess, fid, tot;
		uint16_t sq;
		size_t n;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		sess = (uint8_t)(seed % 40);
		sq = (uint16_t)(seed >> 8);
		tot = (uint8_t)((seed >> 24) % 12);
		fid = (uint8_t)((seed >> 32) % 13);
		n = (size_t)((seed >> 40) % 1500);
		dnstun_reasm_add(r, sess, sq, fid, tot, big, n, i * 1000, out,
		    sizeof out, &olen);
		if (dnstun_reasm_bytes(r, -1) > max_seen)
			max_seen = dnstun_reasm_bytes(r, -1);
		if (dnstun_reasm_bytes(r, sess) > max_sess)
			max_sess = dnstun_reasm_bytes(r, sess);
		ok &= dnstun_reasm_partial(r, -1) <= 512 &&
		    dnstun_reasm_partial(r, sess) <= 16 &&
		    dnstun_reasm_done(r) <= 8;
	}
	tap_ok(ok && max_seen <= (1 << 20) && max_sess <= 64 * 1024,
	    "flood of 200000 fragments: bounds hold (max %zu B total, %zu B "
	    "one session)",
	    max_seen, max_sess);
	tap_ok(st->noroom + st->evicted > 0 && st->done_evicted > 0 &&
		st->bad > 0 && st->completed > 0,
	    "flood: noroom %llu evicted %llu bad %llu completed %llu",
	    (unsigned long long)st->noroom, (unsigned long long)st->evicted,
	    (unsigned long long)st->bad, (unsigned long long)st->completed);
	dnstun_reasm_free(r);
	r = small_table(16, 64 * 1024, 512, 1 << 20);
	dnstun_reasm_free(r);
}

static void
test_socks_udp(void)
{
	struct socks_udp_hdr h, h2;
	uint8_t p[600], q[600];
	long n;

	memcpy(p,
	    "\0\0\0\1\x7f\0\0\1\0\x35"
	    "DATA",
	    14);
	tap_ok(socks_udp_parse(p, 14, &h) == SOCKS_UDP_OK && h.atyp == 1 &&
		h.port == 53 && h.data_off == 10 &&
		memcmp(h.addr, "\x7f\0\0\1", 4) == 0,
	    "IPv4 header");
	tap_is_int(
	    socks_udp_dns_check(p, 14, &h), SOCKS_UDP_DNS, "port 53: DNS");
	p[9] = 0x36;
	tap_is_int(socks_udp_dns_check(p, 14, &h), SOCKS_UDP_DROP_PORT,
	    "port 54: dropped");
	p[9] = 0x35;
	p[2] = 1;
	tap_is_int(socks_udp_dns_check(p, 14, &h), SOCKS_UDP_DROP_FRAG,
	    "FRAG 1: dropped");
	p[2] = 0;
	p[0] = 0xff;
	tap_is_int(socks_udp_dns_check(p, 14, &h), SOCKS_UDP_DNS,
	    "RSV not checked (upstream)");
	tap_is_int(socks_udp_dns_check(p, 10, &h), SOCKS_UDP_DNS,
	    "empty DATA passes the header check");
	tap_is_int(socks_udp_dns_check(p, 9, &h), SOCKS_UDP_DROP_SHORT,
	    "port cut off");
	tap_is_int(socks_udp_dns_check(p, 5, &h), SOCKS_UDP_DROP_SHORT,
	    "under 6 bytes");
	p[3] = 5;
	tap_is_int(
	    socks_udp_dns_check(p, 14, &h), SOCKS_UDP_DROP_ATYP, "ATYP 5");
	memcpy(p,
	    "\0\0\0\3\x07"
	    "dns.srv\0\x35"
	    "Q",
	    15);
	tap_ok(socks_udp_dns_check(p, 15, &h) == SOCKS_UDP_DNS &&
		h.addr_len == 7 && strcmp((char *)h.addr, "dns.srv") == 0 &&
		h.data_off == 14,
	    "domain header");
	memcpy(p, "\0\0\0\3\0\0\x35", 7);
	tap_ok(socks_udp_dns_check(p, 7, &h) == SOCKS_UDP_DNS &&
		h.addr_len == 0 && h.data_off == 7,
	    "empty domain accepted (upstream)");
	memset(p, 0, sizeof p);
	p[3] = 4;
	p[19] = 1;
	p[21] = 53;
	tap_ok(socks_udp_parse(p, 22, &h) == SOCKS_UDP_OK && h.port == 53 &&
		h.addr[15] == 1 && h.data_off == 22,
	    "IPv6 header");
	tap_is_int(socks_udp_parse(p, 21, &h2), SOCKS_UDP_E_SHORT, "IPv6 cut");
	n = socks_udp_build(&h, (const uint8_t *)"answer", 6, q, sizeof q);
	tap_ok(n == 28 && socks_udp_parse(q, (size_t)n, &h2) == SOCKS_UDP_OK &&
		memcmp(q + 22, "answer", 6) == 0 && h2.port == 53 &&
		memcmp(h2.addr, h.addr, 16) == 0,
	    "build, parse back");
	h.addr_len = 5;
	tap_is_int(socks_udp_build(&h, NULL, 0, q, sizeof q), -1,
	    "IPv6 with 5 address bytes refused");
	h.atyp = 3;
	memcpy(h.addr, "a.b.c", 5);
	tap_is_int(
	    socks_udp_build(&h, q, 10, q + 100, 16), -1, "short out refused");
}

int
main(void)
{
	test_parse();
	test_types();
	test_answers();
	test_patch_key_check();
	test_frags();
	test_reasm_basic();
	test_reasm_bounds();
	test_socks_udp();
	return tap_done();
}
