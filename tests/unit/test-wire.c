/* SPDX-License-Identifier: MIT */
/*
 * test-wire.c — the frame layer on its own: the packet type table, the
 * header check byte (against a reference written from the spec text and
 * captured headers), frame build/parse for every type, each cipher (round
 * trips, nonce handling, GCM tamper detection), each compressor (round
 * trips, the "only if smaller" rule, the 10 MiB cap), the fixed payloads,
 * upload capacity (the 15 values of wire-protocol.md 1.2) and the
 * query-name pipeline with every rejection reason.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/b36.h"
#include "proto/wire.h"
#include "tests/tap.h"

/* The check byte exactly as wire-protocol.md 1.5 words it. */
static uint8_t
ref_check(const uint8_t *h, size_t n)
{
	unsigned acc = (unsigned)(n * 17 + 0x5d) % 256;
	size_t i;

	for (i = 0; i < n; i++) {
		acc = (acc + h[i] + (unsigned)i) % 256;
		acc ^= ((unsigned)h[i] << (i & 3)) % 256;
	}
	return (uint8_t)acc;
}

static void
test_types(void)
{
	/* wire-protocol.md 1.5: S=1 Q=2 F=4 C=8, -1 unknown. */
	static const struct {
		uint8_t type;
		unsigned ext;
		size_t hl;
		const char *name;
	} t[] = {
	    {0x01, 15, 11, "MTU_UP_REQ"},
	    {0x02, 0, 4, "MTU_UP_RES"},
	    {0x03, 0, 4, "MTU_DOWN_REQ"},
	    {0x04, 15, 11, "MTU_DOWN_RES"},
	    {0x05, 0, 4, "SESSION_INIT"},
	    {0x06, 0, 4, "SESSION_ACCEPT"},
	    {0x07, 0, 4, "PING"},
	    {0x08, 0, 4, "PONG"},
	    {0x09, 3, 8, "STREAM_SYN"},
	    {0x0f, 15, 11, "STREAM_DATA"},
	    {0x10, 3, 8, "STREAM_DATA_ACK"},
	    {0x12, 15, 11, "STREAM_RESEND"},
	    {0x13, 8, 5, "PACKED_CONTROL_BLOCKS"},
	    {0x1a, 7, 10, "SOCKS5_SYN"},
	    {0x2b, 3, 8, "SOCKS5_ADDRESS_TYPE_UNSUPPORTED_ACK"},
	    {0x32, 15, 11, "DNS_QUERY_REQ"},
	    {0x35, 7, 10, "DNS_QUERY_RES_ACK"},
	    {0x36, 0, 4, "SESSION_CLOSE"},
	    {0x37, 0, 4, "SESSION_BUSY"},
	    /* The FEC fork's types (fork vpnproto/parser.go). */
	    {0x38, 0, 4, "SESSION_CAPS"},
	    {0x39, 0, 4, "SESSION_CAPS_ACK"},
	    {0x3a, 3, 8, "STREAM_FEC_SYMBOL"},
	    {0xff, 0, 4, "ERROR_DROP"},
	};
	static const uint8_t acks[][2] = {
	    {0x32, 0x34},
	    {0x33, 0x35},
	    {0x09, 0x0a},
	    {0x0b, 0x0c},
	    {0x0d, 0x0e},
	    {0x14, 0x15},
	    {0x16, 0x17},
	    {0x18, 0x19},
	    {0x1a, 0x1b},
	    {0x1c, 0x1d},
	    {0x1e, 0x1f},
	    {0x20, 0x21},
	    {0x22, 0x23},
	    {0x24, 0x25},
	    {0x26, 0x27},
	    {0x28, 0x29},
	    {0x2a, 0x2b},
	    {0x2c, 0x2d},
	    {0x2e, 0x2f},
	    {0x30, 0x31},
	};
	size_t i, valid = 0, named = 0, withack = 0, packable = 0, fork = 0;
	unsigned ty;

	for (i = 0; i < nitems(t); i++) {
		tap_is_int(
		    wire_type_ext(t[i].type), t[i].ext, "ext of %s", t[i].name);
		tap_is_int(wire_header_len(t[i].type), t[i].hl,
		    "header length of %s", t[i].name);
		tap_is_str(wire_type_name(t[i].type), t[i].name, "name 0x%02x",
		    t[i].type);
	}
	for (ty = 0; ty < 256; ty++) {
		valid += wire_type_valid((uint8_t)ty);
		named += wire_type_name((uint8_t)ty) != NULL;
		withack += wire_ack_type((uint8_t)ty) >= 0;
		packable += wire_is_packable((uint8_t)ty, 0);
		fork += wire_type_fork((uint8_t)ty);
		if (wire_is_packable((uint8_t)ty, 1))
			tap_ok(0, "type 0x%02x packable with payload", ty);
	}
	tap_is_int(valid, 59,
	    "59 valid types (upstream 0x01..0x37, 0xff; fork 0x38..0x3a)");
	tap_is_int(named, 59, "every valid type has a name");
	tap_ok(!wire_type_valid(0) && !wire_type_valid(0x3b) &&
		!wire_type_valid(0x40) && wire_header_len(0x3b) == 0 &&
		wire_header_len(0x40) == 0,
	    "0x00, 0x3b and 0x40 are unknown");
	tap_ok(fork == 3 && wire_type_fork(WIRE_SESSION_CAPS) &&
		wire_type_fork(WIRE_SESSION_CAPS_ACK) &&
		wire_type_fork(WIRE_STREAM_FEC_SYMBOL),
	    "exactly the fork's 0x38..0x3a are marked as fork types");
	tap_ok(wire_ack_type(WIRE_SESSION_CAPS) < 0 &&
		wire_ack_origin(WIRE_SESSION_CAPS_ACK) < 0 &&
		!wire_is_packable(WIRE_STREAM_FEC_SYMBOL, 0) &&
		!wire_is_packable(WIRE_SESSION_CAPS_ACK, 0),
	    "fork types: no fixed _ACK pairing, never packed");
	for (i = 0; i < nitems(acks); i++)
		tap_ok(wire_ack_type(acks[i][0]) == acks[i][1] &&
			wire_ack_origin(acks[i][1]) == acks[i][0],
		    "%s <-> %s", wire_type_name(acks[i][0]),
		    wire_type_name(acks[i][1]));
	tap_is_int(withack, nitems(acks), "no other type has a fixed ACK");
	tap_ok(wire_ack_type(WIRE_STREAM_DATA) < 0 &&
		wire_ack_origin(WIRE_STREAM_DATA_ACK) < 0,
	    "data ACKs stay in the ARQ");
	/* 35 per upstream IsPackableControlPacket. */
	tap_is_int(packable, 35, "35 packable control types");
	tap_ok(wire_is_packable(WIRE_STREAM_DATA_NACK, 0) &&
		wire_is_packable(WIRE_SOCKS5_CONNECTED, 0) &&
		!wire_is_packable(WIRE_STREAM_RST, 0) &&
		!wire_is_packable(WIRE_SOCKS5_SYN, 0) &&
		!wire_is_packable(WIRE_STREAM_CLOSE_READ, 0),
	    "packable: ACKs and results yes, RST/SYN/CLOSE no");
	tap_is_str(wire_strerror(WIRE_E_CHECK), "header check byte mismatch",
	    "strerror");
}

static void
test_frames(void)
{
	/* Headers from s1/s3 captures with their recorded check bytes. */
	static const uint8_t h1[] = {0xff, 0x02, 0x00};
	static const uint8_t h2[] = {
	    0xff, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
	uint8_t buf[512], payload[200];
	struct wire_frame f, g;
	size_t i, bad = 0, badref = 0;
	unsigned ty;
	long n;
	int st;

	tap_is_int(wire_check_byte(h1, sizeof h1), 0x79,
	    "check byte of a captured MTU_UP_RES header");
	tap_is_int(wire_check_byte(h2, sizeof h2), 0x2a,
	    "check byte of a captured MTU_UP_REQ header");
	srand(7);
	for (i = 0; i < 2000; i++) {
		uint8_t h[10];
		size_t k, hn = 1 + (size_t)rand() % 10;

		for (k = 0; k < hn; k++)
			h[k] = (uint8_t)rand();
		if (wire_check_byte(h, hn) != ref_check(h, hn))
			badref++;
	}
	tap_is_int(badref, 0, "check byte equals the spec formula");

	for (i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	for (ty = 0; ty < 256; ty++) {
		if (!wire_type_valid((uint8_t)ty))
			continue;
		memset(&f, 0, sizeof f);
		f.session_id = (uint8_t)(ty * 3);
		f.type = (uint8_t)ty;
		f.stream_id = (uint16_t)(0x1234 + ty);
		f.seq = (uint16_t)(0xfedc - ty);
		f.frag_id = 2;
		f.frag_total = 5;
		f.comp = 1;
		f.cookie = 0xa5;
		f.payload = payload;
		f.payload_len = ty % 50;
		n = wire_frame_build(&f, buf, sizeof buf);
		if (n != (long)(wire_header_len((uint8_t)ty) + ty % 50) ||
		    wire_frame_parse(buf, (size_t)n, &g) != WIRE_OK ||
		    g.session_id != f.session_id || g.type != f.type ||
		    g.cookie != f.cookie ||
		    g.hdr_len != wire_header_len((uint8_t)ty) ||
		    g.payload_len != f.payload_len ||
		    memcmp(g.payload, payload, g.payload_len) != 0 ||
		    g.check != ref_check(buf, g.hdr_len - 1u) ||
		    g.stream_id !=
			((wire_type_ext(f.type) & WIRE_EXT_STREAM) ?
				f.stream_id :
				0) ||
		    g.seq !=
			((wire_type_ext(f.type) & WIRE_EXT_SEQ) ? f.seq : 0) ||
		    g.frag_total !=
			((wire_type_ext(f.type) & WIRE_EXT_FRAG) ? 5 : 0) ||
		    g.comp != ((wire_type_ext(f.type) & WIRE_EXT_COMP) ? 1 : 0))
			bad++;
		/* Every truncation of the header is rejected. */
		for (i = 0; i < wire_header_len((uint8_t)ty); i++)
			if (wire_frame_parse(buf, i, &g) != WIRE_E_TOO_SHORT)
				bad++;
	}
	tap_is_int(bad, 0, "build/parse round trip and truncation, all types");

	memset(&f, 0, sizeof f);
	f.type = WIRE_STREAM_DATA;
	f.payload = payload;
	f.payload_len = 10;
	n = wire_frame_build(&f, buf, sizeof buf);
	buf[10] ^= 1;
	tap_is_int(wire_frame_parse(buf, (size_t)n, &g), WIRE_E_CHECK,
	    "flipped check byte rejected");
	buf[10] ^= 1;
	/* Every single-bit header flip: rejected exactly when the spec's
	 * check byte says so (an 8-bit check misses some flips). */
	bad = 0;
	i = 0;
	for (size_t bit = 0; bit < 10 * 8; bit++) {
		if (bit / 8 == 1)
			continue; /* type byte: changes the layout */
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		st = wire_frame_parse(buf, (size_t)n, &g);
		if (st !=
		    (ref_check(buf, 10) == buf[10] ? WIRE_OK : WIRE_E_CHECK))
			bad++;
		i += st == WIRE_E_CHECK;
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	tap_is_int(bad, 0,
	    "header bit flips follow the check byte (%zu of "
	    "72 detected)",
	    i);
	buf[4] ^= 0x80;
	/* Upstream weakness: bit 7 at offsets 0, 4, 8 cancels out. */
	tap_is_int(wire_frame_parse(buf, (size_t)n, &g), WIRE_OK,
	    "bit 7 flip at offset 4 is invisible to the check byte");
	buf[4] ^= 0x80;
	buf[1] = 0x40;
	tap_is_int(wire_frame_parse(buf, (size_t)n, &g), WIRE_E_TYPE,
	    "unknown type rejected");
	f.type = 0x40;
	tap_is_int(wire_frame_build(&f, buf, sizeof buf), -1,
	    "build refuses an unknown type");
	f.type = WIRE_STREAM_DATA;
	tap_is_int(
	    wire_frame_build(&f, buf, 20), -1, "build refuses a short buffer");
	tap_is_int(wire_frame_build(&f, buf, 21), 21, "exact buffer");
	tap_is_int(wire_frame_parse(buf, 3, &g), WIRE_E_TOO_SHORT,
	    "3 bytes too short");
}

static void
test_ciphers(void)
{
	static const char *key = "e2b4d6f8091a3c5e7f90b1d3f5a7c9eb";
	uint8_t in[300], ct[400], pt[400], nonce[16];
	struct wire_cipher *c, *w;
	struct err e;
	int m;
	size_t n, i, bad;
	long r, r2;

	for (i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 13 + 7);
	tap_ok(wire_cipher_new(6, key, 32, &e) == NULL &&
		strstr(e.msg, "method") != NULL,
	    "method 6 refused: %s", e.msg);
	for (m = 0; m <= WIRE_METHOD_MAX; m++) {
		c = wire_cipher_new(m, key, strlen(key), &e);
		tap_ok(c != NULL, "cipher %s created", wire_method_name(m));
		if (c == NULL)
			continue;
		bad = 0;
		for (n = 1; n <= sizeof in; n += 7) {
			r = wire_encrypt(c, in, n, NULL, ct, sizeof ct);
			if (r != (long)(n + (size_t)wire_cipher_overhead(m)))
				bad++;
			r2 = wire_decrypt(c, ct, (size_t)r, pt, sizeof pt);
			if (r2 != (long)n || memcmp(pt, in, n) != 0)
				bad++;
		}
		tap_is_int(bad, 0, "%s round trips, overhead %d",
		    wire_method_name(m), wire_cipher_overhead(m));
		tap_is_int(wire_encrypt(c, in, 100, NULL, ct,
			       100 + (size_t)wire_cipher_overhead(m) - 1),
		    -1, "%s refuses a short buffer", wire_method_name(m));
		if (m >= WIRE_METHOD_CHACHA20) {
			memset(nonce, 0x11, sizeof nonce);
			r = wire_encrypt(c, in, 50, nonce, ct, sizeof ct);
			r2 = wire_encrypt(c, in, 50, nonce, pt, sizeof pt);
			tap_ok(r == r2 && memcmp(ct, pt, (size_t)r) == 0 &&
				memcmp(ct, nonce,
				    (size_t)wire_cipher_nonce_len(m)) == 0,
			    "%s: fixed nonce is deterministic and leads",
			    wire_method_name(m));
			wire_encrypt(c, in, 50, NULL, pt, sizeof pt);
			tap_ok(memcmp(ct, pt, (size_t)r) != 0,
			    "%s: random nonces differ", wire_method_name(m));
			tap_is_int(wire_decrypt(c, ct,
				       (size_t)wire_cipher_nonce_len(m), pt,
				       sizeof pt),
			    -1, "%s: nonce-only input refused",
			    wire_method_name(m));
		}
		if (m >= WIRE_METHOD_AES128GCM) {
			r = wire_encrypt(c, in, 40, NULL, ct, sizeof ct);
			bad = 0;
			for (i = 0; i < (size_t)r; i++) {
				ct[i] ^= 0x04;
				if (wire_decrypt(
					c, ct, (size_t)r, pt, sizeof pt) != -1)
					bad++;
				ct[i] ^= 0x04;
			}
			tap_is_int(bad, 0,
			    "%s: any flipped bit in nonce, "
			    "ciphertext or tag fails authentication",
			    wire_method_name(m));
			tap_is_int(wire_decrypt(c, ct, 27, pt, sizeof pt), -1,
			    "%s: 27 bytes (< nonce+tag) refused",
			    wire_method_name(m));
			w = wire_cipher_new(m, "0000000000000000", 16, &e);
			tap_is_int(
			    wire_decrypt(w, ct, (size_t)r, pt, sizeof pt), -1,
			    "%s: wrong key fails", wire_method_name(m));
			wire_cipher_free(w);
			r = wire_encrypt(c, in, 0, NULL, ct, sizeof ct);
			tap_is_int(r, 0, "%s: empty in, empty out",
			    wire_method_name(m));
		}
		wire_cipher_free(c);
	}
	/* XOR: key text zero-padded to 32 bytes, byte i ^ key[i % 32]. */
	c = wire_cipher_new(WIRE_METHOD_XOR, "ab", 2, &e);
	memset(in, 0, 70);
	wire_encrypt(c, in, 70, NULL, ct, sizeof ct);
	tap_ok(ct[0] == 'a' && ct[1] == 'b' && ct[2] == 0 && ct[31] == 0 &&
		ct[32] == 'a' && ct[65] == 'b',
	    "XOR key zero-padded to 32");
	wire_cipher_free(c);
	c = wire_cipher_new(
	    WIRE_METHOD_XOR, "0123456789abcdef0123456789abcdefXYZ", 35, &e);
	wire_encrypt(c, in, 33, NULL, ct, sizeof ct);
	tap_ok(ct[31] == 'f' && ct[32] == '0', "XOR key truncated to 32");
	wire_cipher_free(c);
	/* AES-192: key text zero-padded to 24 bytes, not hashed. */
	c = wire_cipher_new(WIRE_METHOD_AES192GCM, "abc", 3, &e);
	w = wire_cipher_new(WIRE_METHOD_AES192GCM, "abc\0\0", 5, &e);
	memset(nonce, 1, sizeof nonce);
	r = wire_encrypt(c, in, 30, nonce, ct, sizeof ct);
	tap_ok(wire_decrypt(w, ct, (size_t)r, pt, sizeof pt) == 30,
	    "AES-192 key is zero-padded text");
	wire_cipher_free(c);
	wire_cipher_free(w);
}

static void
test_compression(void)
{
	static uint8_t big[WIRE_DECOMP_MAX + 2], out[WIRE_DECOMP_MAX + 64];
	uint8_t txt[3000], rnd[3000], comp[4000], back[4000];
	size_t i, clen;
	struct err e;
	int t, used;
	long n;

	for (i = 0; i < sizeof txt; i++)
		txt[i] = (uint8_t)("mdns-doctor upload test: compressible "
				   "text 0123456789\n"[i % 54]);
	srand(99);
	for (i = 0; i < sizeof rnd; i++)
		rnd[i] = (uint8_t)rand();
	tap_ok(wire_comp_pair(2, 3) == 0x23 && wire_comp_pair(7, 1) == 0x01,
	    "pair packing, unknown -> 0");
	for (t = 1; t <= WIRE_COMP_MAX; t++) {
		used = wire_compress_payload(
		    t, 120, txt, sizeof txt, comp, sizeof comp, &clen);
		tap_ok(used == t && clen < sizeof txt,
		    "%s compresses text "
		    "(%zu -> %zu)",
		    wire_comp_name(t), sizeof txt, clen);
		n = wire_decompress(t, comp, clen, back, sizeof back, &e);
		tap_ok(
		    n == (long)sizeof txt && memcmp(back, txt, sizeof txt) == 0,
		    "%s round trip", wire_comp_name(t));
		used = wire_compress_payload(
		    t, 120, rnd, sizeof rnd, comp, sizeof comp, &clen);
		tap_is_int(used, 0, "%s: incompressible data goes plain",
		    wire_comp_name(t));
		used = wire_compress_payload(
		    t, 120, txt, 120, comp, sizeof comp, &clen);
		tap_is_int(used, 0, "%s: 120 bytes with min 120 go plain",
		    wire_comp_name(t));
		used = wire_compress_payload(
		    t, 0, txt, 101, comp, sizeof comp, &clen);
		tap_is_int(used, t, "%s: min 0 means 100, 101 compresses",
		    wire_comp_name(t));
		used = wire_compress_payload(
		    t, -5, txt, 100, comp, sizeof comp, &clen);
		tap_is_int(used, 0, "%s: 100 bytes with default min plain",
		    wire_comp_name(t));
		n = wire_compress(t, txt, sizeof txt, comp, sizeof comp);
		comp[n / 2] ^= 0x55;
		comp[n / 2 + 1] ^= 0x55;
		n = wire_decompress(t, comp, (size_t)n, back, sizeof back, &e);
		tap_ok(n < 0 || n != (long)sizeof txt ||
			memcmp(back, txt, sizeof txt) != 0,
		    "%s: corruption detected or changes the output",
		    wire_comp_name(t));
		tap_is_int(wire_decompress(t, comp, 0, back, sizeof back, &e),
		    0, "%s: empty payload passes", wire_comp_name(t));
		n = wire_compress(t, txt, sizeof txt, comp, sizeof comp);
		tap_is_int(wire_decompress(t, comp, (size_t)n, back, 100, &e),
		    -1, "%s: caller buffer limit respected", wire_comp_name(t));
	}
	tap_is_int(wire_compress_payload(
		       9, 0, txt, sizeof txt, comp, sizeof comp, &clen),
	    0, "unknown type -> plain");
	n = wire_decompress(9, txt, 10, back, sizeof back, &e);
	tap_ok(n == 10 && memcmp(back, txt, 10) == 0,
	    "unknown type decompresses as a copy, as upstream");

	/* Trailing bytes after a DEFLATE stream, short LZ4 input. */
	n = wire_compress(WIRE_COMP_DEFLATE, txt, 500, comp, sizeof comp);
	comp[n] = 0;
	tap_is_int(
	    wire_decompress(3, comp, (size_t)n + 1, back, sizeof back, &e), -1,
	    "deflate: trailing byte rejected (%s)", e.msg);
	tap_is_int(
	    wire_decompress(3, comp, (size_t)n - 1, back, sizeof back, &e), -1,
	    "deflate: truncated stream rejected");
	tap_is_int(wire_decompress(2, comp, 3, back, sizeof back, &e), -1,
	    "lz4: 3 bytes rejected");
	n = wire_compress(WIRE_COMP_LZ4, txt, 500, comp, sizeof comp);
	comp[0] = 0xf5; /* declare 501 bytes */
	tap_is_int(wire_decompress(2, comp, (size_t)n, back, sizeof back, &e),
	    -1, "lz4: size prefix mismatch rejected");

	/* The 10 MiB cap, with a buffer larger than the cap. */
	memset(big, 0, sizeof big);
	for (t = 1; t <= WIRE_COMP_MAX; t++) {
		static uint8_t cbig[WIRE_DECOMP_MAX / 8];
		long cn;

		cn = wire_compress(t, big, WIRE_DECOMP_MAX, cbig, sizeof cbig);
		n = cn < 0 ?
		    -2 :
		    wire_decompress(t, cbig, (size_t)cn, out, sizeof out, &e);
		tap_is_int(n, WIRE_DECOMP_MAX, "%s: exactly 10 MiB inflates",
		    wire_comp_name(t));
		cn = wire_compress(
		    t, big, WIRE_DECOMP_MAX + 1, cbig, sizeof cbig);
		n = cn < 0 ?
		    -2 :
		    wire_decompress(t, cbig, (size_t)cn, out, sizeof out, &e);
		tap_is_int(n, -1, "%s: 10 MiB + 1 refused (%s)",
		    wire_comp_name(t), e.msg);
	}
	comp[0] = 0x01;
	comp[1] = 0x00;
	comp[2] = 0xa0;
	comp[3] = 0x00;
	tap_is_int(wire_decompress(2, comp, 10, out, sizeof out, &e), -1,
	    "lz4: declared 10 MiB + 1 refused before decoding");
}

static void
test_payloads(void)
{
	uint8_t p[300], v[4] = {0xc0, 0xff, 0xee, 0x01};
	struct wire_mtu_req rq;
	struct wire_mtu_res rs;
	struct wire_session_init si = {1, 0x21, 141, 1000, {1, 2, 3, 4}}, si2;
	struct wire_session_accept a, b;
	struct wire_target tg, tg2;
	struct wire_block bl, bl2;
	long n;

	n = wire_mtu_up_req_build(1, 0x1111003c, 60, p, sizeof p);
	tap_ok(n == 60 && p[0] == 1 && be32_load(p + 1) == 0x1111003c,
	    "MTU_UP_REQ build");
	tap_ok(wire_mtu_up_req_parse(p, 60, &rq) == WIRE_OK && rq.len == 60 &&
		rq.code == 0x1111003c && rq.mode == 1 && !rq.filler_zero,
	    "MTU_UP_REQ parse: our filler is random, not zeros");
	/* Upstream's bytes, for a test that needs them: zeros. */
	wire_set_mtu_filler(wire_filler_zeros);
	n = wire_mtu_up_req_build(1, 0x1111003c, 60, p, sizeof p);
	tap_ok(n == 60 && p[59] == 0 &&
		wire_mtu_up_req_parse(p, 60, &rq) == WIRE_OK && rq.filler_zero,
	    "MTU_UP_REQ with upstream's zero filler (injected)");
	wire_set_mtu_filler(NULL);
	tap_is_int(wire_mtu_up_req_parse(p, 4, &rq), WIRE_E_INVALID,
	    "MTU_UP_REQ of 4 bytes refused");
	tap_is_int(wire_mtu_up_req_parse(p, 5, &rq), WIRE_OK,
	    "MTU_UP_REQ of 5 bytes accepted");
	p[0] = 2;
	tap_is_int(wire_mtu_up_req_parse(p, 60, &rq), WIRE_E_INVALID,
	    "MTU_UP_REQ mode 2 refused");
	tap_is_int(wire_mtu_up_req_build(0, 1, 4, p, sizeof p), -1,
	    "MTU_UP_REQ m < 5 not built");
	n = wire_mtu_up_res_build(7, 141, p, sizeof p);
	tap_ok(n == 6 && wire_mtu_up_res_parse(p, 6, &rs) == WIRE_OK &&
		rs.code == 7 && rs.len == 141,
	    "MTU_UP_RES");
	tap_is_int(wire_mtu_up_res_parse(p, 7, &rs), WIRE_E_INVALID,
	    "MTU_UP_RES must be 6 bytes");
	n = wire_mtu_down_req_build(0, 9, 1000, 141, p, sizeof p);
	tap_ok(n == 141 && wire_mtu_down_req_parse(p, 141, &rq) == WIRE_OK &&
		rq.down == 1000 && rq.code == 9 && !rq.filler_zero,
	    "MTU_DOWN_REQ padded to 141 with random filler");
	wire_set_mtu_filler(wire_filler_zeros);
	n = wire_mtu_down_req_build(0, 9, 1000, 141, p, sizeof p);
	tap_ok(n == 141 && wire_mtu_down_req_parse(p, 141, &rq) == WIRE_OK &&
		rq.filler_zero,
	    "MTU_DOWN_REQ with upstream's zero filler (injected)");
	wire_set_mtu_filler(NULL);
	wire_mtu_down_req_build(0, 9, 19, 141, p, sizeof p);
	tap_is_int(wire_mtu_down_req_parse(p, 141, &rq), WIRE_E_INVALID,
	    "d = 19 refused");
	wire_mtu_down_req_build(0, 9, 20, 7, p, sizeof p);
	tap_is_int(wire_mtu_down_req_parse(p, 7, &rq), WIRE_OK,
	    "d = 20 in 7 bytes accepted");
	wire_mtu_down_req_build(0, 9, 4097, 7, p, sizeof p);
	tap_is_int(wire_mtu_down_req_parse(p, 7, &rq), WIRE_E_INVALID,
	    "d = 4097 refused");
	n = wire_mtu_down_res_build(9, 200, p, sizeof p);
	tap_ok(n == 200 && wire_mtu_down_res_parse(p, 200, &rs) == WIRE_OK &&
		rs.len == 200 && rs.filler_zero,
	    "MTU_DOWN_RES");

	tap_is_int(wire_session_init_build(&si, p, sizeof p), 10,
	    "SESSION_INIT is 10 bytes");
	tap_ok(wire_session_init_parse(p, 10, &si2) == WIRE_OK &&
		si2.mode == 1 && si2.comp_pair == 0x21 &&
		si2.upload_mtu == 141 && si2.download_mtu == 1000 &&
		memcmp(si2.verify, si.verify, 4) == 0,
	    "SESSION_INIT round trip");
	tap_is_int(wire_session_init_parse(p, 9, &si2), WIRE_E_INVALID,
	    "9-byte SESSION_INIT refused");

	/* The server defaults recorded in the captures. */
	memset(&a, 0, sizeof a);
	a.session_id = 1;
	a.cookie = 127;
	memcpy(a.verify, v, 4);
	a.has_policy = true;
	a.policy.max_dup = 5;
	a.policy.max_setup_dup = 6;
	a.policy.max_upload_mtu = 150;
	a.policy.max_download_mtu = 4096;
	a.policy.max_workers = 255;
	a.policy.min_ping_interval_raw = wire_scaled_byte(0.05);
	a.policy.max_batch = 20;
	a.policy.max_arq_window = 8000;
	a.policy.max_nack_gap = 255;
	a.policy.min_comp_min_size = 120;
	a.policy.min_rto_raw = wire_scaled_byte(0.05);
	n = wire_session_accept_build(&a, p, sizeof p);
	tap_is_int(n, 20, "SESSION_ACCEPT is 20 bytes");
	tap_ok(p[7] == 0x65 && p[8] == 150 && be16_load(p + 9) == 4096 &&
		be16_load(p + 14) == 8000 && be16_load(p + 17) == 120,
	    "policy byte layout");
	tap_ok(wire_session_accept_parse(p, 20, &b) == WIRE_OK &&
		memcmp(&a, &b, sizeof a) == 0,
	    "SESSION_ACCEPT round trip");
	tap_ok(wire_session_accept_parse(p, 7, &b) == WIRE_OK &&
		!b.has_policy && b.cookie == 127,
	    "legacy 7-byte accept");
	tap_is_int(wire_session_accept_parse(p, 6, &b), WIRE_E_INVALID,
	    "6-byte accept refused");
	tap_ok(wire_session_accept_parse(p, 19, &b) == WIRE_OK && !b.has_policy,
	    "partial policy ignored, as upstream");
	tap_ok(
	    wire_scaled_seconds(0) == 0.05 && wire_scaled_seconds(255) == 1.0,
	    "scaled bytes span 0.05..1.00 s");
	tap_is_int(wire_scaled_byte(0.1), 13, "0.1 s -> 13");
	tap_is_int(wire_scaled_byte(5), 255, "clamped high");
	tap_is_int(wire_scaled_byte(0), 0, "clamped low");

	tap_ok(wire_session_busy_build(v, p, 4) == 4 &&
		wire_session_busy_parse(p, 4, v) == WIRE_OK &&
		wire_session_busy_parse(p, 5, v) == WIRE_E_INVALID,
	    "SESSION_BUSY");
	tap_ok(wire_error_drop_build(NULL, p, sizeof p) == 8 &&
		wire_error_drop_check(p, 8) && !wire_error_drop_check(p + 1, 7),
	    "ERROR_DROP INV + 5");
	tap_ok(wire_ping_build(v, p, sizeof p) == 7 &&
		memcmp(p, "PO:\xc0\xff\xee\x01", 7) == 0 &&
		wire_ping_check(p, 7) && !wire_ping_check(p, 8),
	    "PING PO: + 4");

	memset(&tg, 0, sizeof tg);
	tg.atyp = WIRE_ATYP_DOMAIN;
	memcpy(tg.addr, "vm", 3);
	tg.addr_len = 2;
	tg.port = 8601;
	n = wire_target_build(&tg, p, sizeof p);
	tap_ok(n == 6 && memcmp(p, "\x03\x02vm\x21\x99", 6) == 0,
	    "SOCKS5 target vm:8601");
	tap_ok(wire_target_parse(p, 6, &tg2) == WIRE_OK &&
		strcmp((char *)tg2.addr, "vm") == 0 && tg2.port == 8601,
	    "target parse");
	tap_is_int(wire_target_parse(p, 5, &tg2), WIRE_E_INVALID,
	    "truncated target refused");
	tg.atyp = WIRE_ATYP_IPV6;
	memset(tg.addr, 0xfe, 16);
	n = wire_target_build(&tg, p, sizeof p);
	tap_ok(n == 19 && wire_target_parse(p, 19, &tg2) == WIRE_OK &&
		tg2.addr_len == 16 && tg2.addr[15] == 0xfe,
	    "IPv6 target");
	tg.atyp = WIRE_ATYP_IPV4;
	n = wire_target_build(&tg, p, sizeof p);
	tap_ok(n == 7 && wire_target_parse(p, 7, &tg2) == WIRE_OK &&
		tg2.port == 8601,
	    "IPv4 target");
	p[0] = 5;
	tap_is_int(
	    wire_target_parse(p, 7, &tg2), WIRE_E_INVALID, "ATYP 5 refused");
	memcpy(p, "\x03\x00\x00\x50", 4);
	tap_is_int(wire_target_parse(p, 4, &tg2), WIRE_E_INVALID,
	    "empty name refused");

	memset(&bl, 0, sizeof bl);
	bl.type = WIRE_STREAM_DATA_ACK;
	bl.stream_id = 0x0102;
	bl.seq = 0x0304;
	bl.frag_id = 5;
	bl.frag_total = 6;
	wire_block_put(&bl, p, 7);
	wire_block_put(&bl, p + 7, 7);
	tap_ok(wire_block_count(15) == 2 &&
		wire_block_get(p, 15, 1, &bl2) == WIRE_OK &&
		memcmp(&bl, &bl2, sizeof bl) == 0 &&
		wire_block_get(p, 15, 2, &bl2) == WIRE_E_INVALID,
	    "packed blocks, trailing partial ignored");
	tap_ok(
	    memcmp(p, "\x10\x01\x02\x03\x04\x05\x06", 7) == 0, "block layout");
	tap_is_int(wire_max_packed_blocks(141, 8), 8, "141/8 -> 8");
	tap_is_int(wire_max_packed_blocks(141, 20), 16, "141/20 -> 16");
	tap_is_int(wire_max_packed_blocks(1000, 10), 10, "1000/10 -> 10");
	tap_is_int(wire_max_packed_blocks(5, 10), 1, "tiny MTU -> 1");
	tap_is_int(wire_max_packed_blocks(141, 0), 1, "batch 0 -> 1");
}

static void
test_capacity(void)
{
	/* wire-protocol.md 1.2 table. */
	static const struct {
		size_t dl, xor_, chacha, gcm;
	} t[] = {
	    {9, 141, 125, 113},
	    {12, 139, 123, 111},
	    {16, 137, 121, 109},
	    {20, 134, 118, 106},
	    {30, 128, 112, 100},
	};
	size_t i;
	int m;

	for (i = 0; i < nitems(t); i++) {
		tap_is_int(wire_max_upload_payload(t[i].dl, 1), t[i].xor_,
		    "domain %zu XOR", t[i].dl);
		tap_is_int(wire_max_upload_payload(t[i].dl, 0), t[i].xor_,
		    "domain %zu none", t[i].dl);
		tap_is_int(wire_max_upload_payload(t[i].dl, 2), t[i].chacha,
		    "domain %zu ChaCha20", t[i].dl);
		tap_is_int(wire_max_upload_payload(t[i].dl, 5), t[i].gcm,
		    "domain %zu AES-GCM", t[i].dl);
	}
	for (m = 0; m <= WIRE_METHOD_MAX; m++) {
		size_t p = wire_max_upload_payload(9, m);

		tap_ok(wire_qname_len(11 + p, 9, m) <= 253 &&
			wire_qname_len(12 + p, 9, m) > 253,
		    "%s: %zu fits, one more does not", wire_method_name(m), p);
	}
	tap_is_int(wire_max_upload_payload(9, 6), 0, "unknown method");
	tap_is_int(wire_max_upload_payload(250, 1), 0, "no room at all");
}

static void
test_query_names(void)
{
	static const char *key = "3a7f1c9e5b2d8046";
	const char *doms[] = {"example", "t.EXAMPLE.", "a.t.example"};
	uint8_t pl[141], buf[4096];
	char q[600], q2[600];
	struct wire_cipher *c, *w;
	struct wire_frame f, g;
	struct err e;
	size_t idx, dl;
	long n;
	int m, st;

	for (n = 0; n < (long)sizeof pl; n++)
		pl[n] = (uint8_t)(n * 31);
	memset(&f, 0, sizeof f);
	f.session_id = 3;
	f.type = WIRE_STREAM_DATA;
	f.stream_id = 4;
	f.seq = 65535;
	f.cookie = 0x77;
	f.payload = pl;
	for (m = 0; m <= WIRE_METHOD_MAX; m++) {
		c = wire_cipher_new(m, key, strlen(key), &e);
		f.payload_len = wire_max_upload_payload(9, m);
		n = wire_encode_query_name(
		    &f, c, NULL, "t.example", q, sizeof q);
		st = wire_decode_query_name(
		    q, (size_t)n, doms, 3, c, buf, sizeof buf, &g, &idx);
		tap_ok(n > 0 && n <= 253 && st == WIRE_OK && idx == 1 &&
			g.seq == 65535 && g.cookie == 0x77 &&
			g.payload_len == f.payload_len &&
			memcmp(g.payload, pl, g.payload_len) == 0,
		    "%s: full-size frame through a %ld-char QNAME",
		    wire_method_name(m), n);
		wire_cipher_free(c);
	}
	c = wire_cipher_new(WIRE_METHOD_XOR, key, strlen(key), &e);
	f.payload_len = 20;
	n = wire_encode_query_name(&f, c, NULL, "T.Example", q, sizeof q);
	for (n = 0; q[n]; n++) /* 0x20 randomisation */
		if (n % 3 == 0 && q[n] >= 'a' && q[n] <= 'z')
			q[n] = (char)(q[n] - 32);
	st = wire_decode_query_name(
	    q, strlen(q), doms, 3, c, buf, sizeof buf, &g, &idx);
	tap_ok(st == WIRE_OK && g.payload_len == 20 && idx == 1,
	    "mixed case QNAME decodes");
	snprintf(q2, sizeof q2, "%s.", q);
	tap_is_int(wire_decode_query_name(
		       q2, strlen(q2), doms, 3, c, buf, sizeof buf, &g, NULL),
	    WIRE_OK, "trailing dot accepted");

	tap_ok(wire_match_domain("abc.a.t.example", 15, doms, 3, &dl) == 2 &&
		dl == 3,
	    "longest suffix wins");
	tap_ok(wire_match_domain("abc.xt.example", 14, doms, 3, &dl) == 0 &&
		dl == 6,
	    "label boundary respected (falls back to example)");
	tap_is_int(wire_match_domain("abc.t.exampl", 12, doms, 3, &dl), -1,
	    "out of zone");
	tap_is_int(wire_decode_query_name(
		       "abcd.org", 8, doms, 3, c, buf, sizeof buf, &g, NULL),
	    WIRE_E_OUT_OF_ZONE, "out of zone status");
	tap_is_int(wire_decode_query_name(
		       "", 0, doms, 3, c, buf, sizeof buf, &g, NULL),
	    WIRE_E_OUT_OF_ZONE, "root name out of zone");
	tap_is_int(wire_decode_query_name(
		       "t.example", 9, doms, 3, c, buf, sizeof buf, &g, NULL),
	    WIRE_E_NO_LABELS, "bare domain");
	tap_is_int(wire_decode_query_name("a.b.t.example", 13, doms, 3, c, buf,
		       sizeof buf, &g, NULL),
	    WIRE_E_SHORT_LABEL, "2 chars of data (dots removed) too short");
	tap_is_int(wire_decode_query_name("abcdefghijkl.t.example", 22, doms, 3,
		       c, buf, sizeof buf, &g, NULL),
	    WIRE_E_BASE36, "12 chars: invalid trailing group");
	tap_is_int(wire_decode_query_name("abc-.t.example", 14, doms, 3, c, buf,
		       sizeof buf, &g, NULL),
	    WIRE_E_BASE36, "'-' invalid");
	tap_is_int(wire_decode_query_name("0000.t.example", 14, doms, 3, c, buf,
		       sizeof buf, &g, NULL),
	    WIRE_E_TOO_SHORT, "2-byte frame");
	n = wire_encode_query_name(&f, c, NULL, "t.example", q, sizeof q);
	w = wire_cipher_new(
	    WIRE_METHOD_XOR, "ffffffffffffffffffffffffffffffff", 32, &e);
	st = wire_decode_query_name(
	    q, (size_t)n, doms, 3, w, buf, sizeof buf, &g, NULL);
	tap_ok(st == WIRE_E_CHECK || st == WIRE_E_TYPE, "XOR wrong key: %s",
	    wire_strerror(st));
	wire_cipher_free(w);
	/* A frame of unknown type with a correct check byte. */
	{
		uint8_t raw[8] = {0, 0x40, 0, 0, 1, 2, 3, 4};
		char txt[64];

		raw[3] = wire_check_byte(raw, 3);
		wire_encrypt(c, raw, 8, NULL, raw, sizeof raw);
		b36_write_qname(raw, 8, "t.example", txt, sizeof txt);
		tap_is_int(wire_decode_query_name(txt, strlen(txt), doms, 3, c,
			       buf, sizeof buf, &g, NULL),
		    WIRE_E_TYPE, "type 0x40");
	}
	wire_cipher_free(c);
	c = wire_cipher_new(WIRE_METHOD_AES128GCM, key, strlen(key), &e);
	w = wire_cipher_new(WIRE_METHOD_AES128GCM, "0000000000000000", 16, &e);
	n = wire_encode_query_name(&f, c, NULL, "t.example", q, sizeof q);
	tap_is_int(wire_decode_query_name(
		       q, (size_t)n, doms, 3, w, buf, sizeof buf, &g, NULL),
	    WIRE_E_DECRYPT, "GCM wrong key");
	tap_is_int(
	    wire_decode_query_name(q, (size_t)n, doms, 3, c, buf, 10, &g, NULL),
	    WIRE_E_DECRYPT, "GCM short output buffer");
	wire_cipher_free(c);
	wire_cipher_free(w);
}

int
main(void)
{
	test_types();
	test_frames();
	test_ciphers();
	test_compression();
	test_payloads();
	test_capacity();
	test_query_names();
	return tap_done();
}
