/* SPDX-License-Identifier: MIT */
/*
 * test-fec-frame.c — the FEC fork's caps and symbol payloads
 * (proto/fec-frame.h) against the bytes of s9-fork-fec.jsonl: the fork
 * client's SESSION_CAPS, the fork server's SESSION_CAPS_ACK (which our
 * negotiation must reproduce from the server config the README gives),
 * and every STREAM_FEC_SYMBOL: parsed, rebuilt byte for byte, and its
 * repair symbol reproduced by our RaptorQ encoder from the STREAM_DATA
 * payloads of the same capture. Then the malformed cases the parser must
 * refuse, the levels and the clamping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "proto/fec-frame.h"
#include "proto/raptorq.h"
#include "proto/wire.h"
#include "tests/interop.h"
#include "tests/tap.h"

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2, i;
	unsigned v;

	if (n > cap)
		return 0;
	for (i = 0; i < n; i++) {
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (uint8_t)v;
	}
	return n;
}

static json_t *
tun(json_t *l)
{
	return json_object_get(json_object_get(l, "decoded"), "tunnel");
}

static int
ptype(json_t *l)
{
	json_t *t = json_object_get(tun(l), "packet_type");

	return json_is_integer(t) ? (int)json_integer_value(t) : -1;
}

static long
tint(json_t *l, const char *k)
{
	json_t *t = json_object_get(tun(l), k);

	return json_is_integer(t) ? (long)json_integer_value(t) : -1;
}

/* Source payloads of stream 2 by sequence, from STREAM_DATA/RESEND. */
struct src {
	uint8_t *b;
	size_t n;
};

static void
s9(void)
{
	static uint8_t buf[4096], out[4096];
	static struct src srcs[65536];
	struct icap cap;
	struct fec_params cl, sv, eff, ack;
	struct fec_sym s, first;
	struct err e = {""};
	size_t i, n, nsym = 0, nbuilt = 0, nrepro = 0, ncheck = 0;
	int have_caps = 0, have_ack = 0;

	if (icap_load("s9-fork-fec.jsonl", &cap) == -1)
		return;
	for (i = 0; i < cap.nlines; i++) {
		json_t *l = cap.lines[i];
		int t = ptype(l);
		long seq = tint(l, "seq");

		if (icap_is_query(l) ||
		    (t != WIRE_STREAM_DATA && t != WIRE_STREAM_RESEND) ||
		    tint(l, "stream_id") != 2 || seq < 0 || seq > 65535 ||
		    srcs[seq].b != NULL)
			continue;
		n = unhex(icap_str(tun(l), "payload_hex"), buf, sizeof buf);
		srcs[seq].b = xmalloc(n + 1);
		memcpy(srcs[seq].b, buf, n);
		srcs[seq].n = n;
	}
	memset(&first, 0, sizeof first);
	for (i = 0; i < cap.nlines; i++) {
		json_t *l = cap.lines[i];
		int t = ptype(l);

		n = unhex(icap_str(tun(l), "payload_hex"), buf, sizeof buf);
		if (t == 0x38 && icap_is_query(l)) {
			have_caps = 1;
			tap_ok(fec_caps_decode(buf, n, &cl, &e) == 0 &&
				cl.enabled && cl.group == 12 &&
				cl.overhead == 25 && cl.symbol_size == 0 &&
				cl.flush_ms == 20,
			    "s9: the fork client's SESSION_CAPS reads as "
			    "balanced (%s)",
			    e.msg);
			fec_caps_encode(&cl, out);
			tap_ok(memcmp(out, buf, FEC_CAPS_LEN) == 0,
			    "s9: SESSION_CAPS re-encodes byte for byte");
			/* The server's config from the README. */
			fec_params_default(&sv);
			sv.enabled = true;
			sv.group = 16;
			sv.overhead = 40;
			fec_negotiate(&cl, &sv, &eff);
		}
		if (t == 0x39 && !icap_is_query(l) && have_caps) {
			have_ack = 1;
			fec_caps_encode(&eff, out);
			tap_ok(n == FEC_CAPS_LEN &&
				memcmp(out, buf, FEC_CAPS_LEN) == 0,
			    "s9: our negotiation gives the fork server's "
			    "CAPS_ACK bytes");
			tap_ok(fec_caps_decode(buf, n, &ack, &e) == 0 &&
				ack.enabled && ack.group == 12,
			    "s9: CAPS_ACK reads as enabled, group 12");
		}
		if (t != 0x3a || icap_is_query(l))
			continue;
		nsym++;
		if (fec_sym_parse(buf, n, &s, &e) == -1) {
			tap_ok(0, "s9: FEC symbol %zu: %s", nsym, e.msg);
			continue;
		}
		if (first.count == 0)
			first = s;
		if (fec_sym_build(&s, out, sizeof out, &e) == (long)n &&
		    memcmp(out, buf, n) == 0)
			nbuilt++;
		{
			long start = tint(l, "seq");
			uint8_t *blk = xcalloc(s.count, s.sym_len);
			uint8_t *rep = xmalloc(s.sym_len);
			struct rq_enc *enc;
			unsigned j, okl = 1;

			for (j = 0; j < s.count; j++) {
				struct src *p = &srcs[(start + j) & 0xffff];

				if (p->b == NULL || p->n != s.lens[j]) {
					okl = 0;
					break;
				}
				memcpy(blk + j * s.sym_len, p->b, p->n);
			}
			ncheck += okl;
			enc = rq_enc_new(blk, s.count, (uint32_t)s.sym_len, &e);
			if (okl && enc != NULL &&
			    rq_enc_symbol(enc, s.id, rep, &e) == 0 &&
			    memcmp(rep, s.sym, s.sym_len) == 0)
				nrepro++;
			rq_enc_free(enc);
			free(blk);
			free(rep);
		}
	}
	tap_ok(have_caps && have_ack, "s9 has SESSION_CAPS and its ACK");
	tap_ok(nsym == 7, "s9 has 7 STREAM_FEC_SYMBOL answers (%zu)", nsym);
	tap_ok(nbuilt == nsym,
	    "s9: every FEC symbol payload parses and "
	    "rebuilds byte for byte (%zu/%zu)",
	    nbuilt, nsym);
	tap_ok(ncheck == nsym,
	    "s9: every symbol's packet lengths match the STREAM_DATA "
	    "payloads of its group (%zu/%zu)",
	    ncheck, nsym);
	tap_ok(nrepro == nsym,
	    "s9: our encoder reproduces every repair symbol the fork sent "
	    "(%zu/%zu)",
	    nrepro, nsym);
	for (i = 0; i < 65536; i++)
		free(srcs[i].b);
	icap_free(&cap);
}

/* Build a payload of k packets (lengths len..), symbol t, id. */
static size_t
mk(uint8_t *out, unsigned k, unsigned len, size_t t, uint32_t id)
{
	static uint8_t sym[2000];
	struct fec_sym s;
	unsigned i;
	long n;

	memset(&s, 0, sizeof s);
	s.count = k;
	for (i = 0; i < k && i < FEC_MAX_GROUP; i++)
		s.lens[i] = (uint16_t)len;
	s.id = id;
	memset(sym, 0x5a, sizeof sym);
	s.sym = sym;
	s.sym_len = t;
	n = fec_sym_build(&s, out, 4096, NULL);
	return n < 0 ? 0 : (size_t)n;
}

static void
malformed(void)
{
	static uint8_t b[4096];
	struct fec_sym s, s2;
	struct err e = {""};
	size_t n;

	n = mk(b, 12, 200, 200, 12);
	tap_ok(n == 12 + 24 + 200 && fec_sym_parse(b, n, &s, &e) == 0,
	    "a good payload parses (%s)", e.msg);
	tap_ok(fec_sym_parse(b, 11, &s, &e) == -1, "short header refused");
	tap_ok(
	    fec_sym_parse(b, 12 + 24, &s, &e) == -1, "no symbol bytes refused");
	b[0] = 2;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1, "version 2 refused");
	b[0] = 1;
	b[1] = 65;
	tap_ok(fec_sym_parse(b, 4096, &s, &e) == -1 &&
		strstr(e.msg, "group count") != NULL,
	    "group count 65 refused (%s)", e.msg);
	b[1] = 0;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1, "group count 0 refused");
	b[1] = 12;
	b[7] = 13;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1,
	    "base count other than the group count refused");
	b[7] = 12;
	b[11] = 11;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1 && strstr(e.msg, "id") != NULL,
	    "symbol id below K (a source id) refused");
	b[11] = 24;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1, "symbol id 2K refused");
	b[8] = 1;
	b[11] = 12;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1, "symbol id 2^24+K refused");
	b[8] = 0;
	b[5] ^= 1;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1 &&
		strstr(e.msg, "add up") != NULL,
	    "original length disagreeing with the lengths refused");
	b[5] ^= 1;
	b[13] = 201;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1,
	    "a packet longer than the symbol refused");
	b[12] = 0;
	b[13] = 0;
	tap_ok(fec_sym_parse(b, n, &s, &e) == -1, "an empty packet refused");
	n = mk(b, 12, 200, 200, 23);
	tap_ok(fec_sym_parse(b, n, &s, &e) == 0, "id 2K-1 accepted");
	n = mk(b, 12, 200, 300, 13);
	tap_ok(
	    fec_sym_parse(b, n, &s2, &e) == 0 && !fec_sym_same_group(&s, &s2),
	    "a different T is a different group");
	n = mk(b, 12, 200, 200, 14);
	fec_sym_parse(b, n, &s2, &e);
	tap_ok(fec_sym_same_group(&s, &s2), "same metadata, same group");
	n = mk(b, 1, 5, 5, 1);
	tap_ok(n > 0 && fec_sym_parse(b, n, &s, &e) == 0 && s.count == 1,
	    "a group of one packet (a flush) is valid");
	n = mk(b, 64, 1000, 1000, 127);
	tap_ok(n > 0 && fec_sym_parse(b, n, &s, &e) == 0,
	    "64 packets, id 127 valid");
	tap_ok(mk(b, 65, 10, 10, 65) == 0, "build refuses 65 packets");
}

static void
params(void)
{
	struct fec_params p, c, s, o;
	uint8_t b[8];
	struct err e = {""};

	tap_ok(fec_params_level("balanced", &p, &e) == 0 && p.enabled &&
		p.group == 12 && p.overhead == 25 && p.flush_ms == 20,
	    "balanced");
	tap_ok(fec_params_level(" High ", &p, &e) == 0 && p.group == 16 &&
		p.overhead == 40 && p.flush_ms == 15,
	    "the fork's alias 'high' is aggressive");
	tap_ok(fec_params_level("off", &p, &e) == 0 && !p.enabled, "off");
	tap_ok(fec_params_level("turbo", &p, &e) == -1, "unknown level: %s",
	    e.msg);
	tap_ok(fec_caps_decode(
		   (const uint8_t *)"\1\1\1\xff\0\0\0\0", 8, &p, &e) == 0 &&
		p.group == 2 && p.overhead == 100 && p.flush_ms == 25,
	    "caps values clamped as the fork does");
	tap_ok(fec_caps_decode(
		   (const uint8_t *)"\1\1\x0c\x19\0\0\0", 7, &p, &e) == -1,
	    "7-byte caps refused");
	tap_ok(fec_caps_decode(
		   (const uint8_t *)"\2\1\x0c\x19\0\0\0\x14", 8, &p, &e) == -1,
	    "caps version 2 refused");
	fec_params_level("aggressive", &c, NULL);
	fec_params_default(&s);
	fec_negotiate(&c, &s, &o);
	fec_caps_encode(&o, b);
	tap_ok(!o.enabled && b[1] == 0, "server disabled: FEC off");
	s.enabled = true;
	s.symbol_size = 300;
	c.symbol_size = 500;
	fec_negotiate(&c, &s, &o);
	tap_ok(o.enabled && o.group == 8 && o.overhead == 15 &&
		o.flush_ms == 15 && o.symbol_size == 300,
	    "negotiation takes each minimum, server caps the symbol size");
	tap_ok(fec_repair_count(12, 25) == 3 && fec_repair_count(8, 15) == 2 &&
		fec_repair_count(16, 40) == 7 && fec_repair_count(2, 1) == 1 &&
		fec_repair_count(12, 0) == 0 && fec_repair_count(64, 100) == 64,
	    "repair counts: ceil(K x overhead %%), at least one");
}

int
main(void)
{
	s9();
	malformed();
	params();
	return tap_done();
}
