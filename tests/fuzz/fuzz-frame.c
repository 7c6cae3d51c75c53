/* SPDX-License-Identifier: MIT */
/*
 * fuzz-frame.c — upstream frames from hostile input. The first byte picks
 * the cipher method (low 3 bits, mod 6) and the path: bit 7 clear feeds the
 * rest as ciphertext (decrypt, frame parse, decompress, payload parsers);
 * bit 7 set feeds it as QNAME text to the server-side decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wire_cipher *ciphers[WIRE_METHOD_MAX + 1];

static void
payloads(const struct wire_frame *f, const uint8_t *p, size_t n)
{
	struct wire_mtu_req rq;
	struct wire_mtu_res rs;
	struct wire_session_init si;
	struct wire_session_accept sa;
	struct wire_target tg;
	struct wire_block b;
	uint8_t v[4];
	size_t i;

	(void)f;
	wire_mtu_up_req_parse(p, n, &rq);
	wire_mtu_down_req_parse(p, n, &rq);
	wire_mtu_up_res_parse(p, n, &rs);
	wire_mtu_down_res_parse(p, n, &rs);
	wire_session_init_parse(p, n, &si);
	wire_session_accept_parse(p, n, &sa);
	wire_session_busy_parse(p, n, v);
	wire_error_drop_check(p, n);
	wire_ping_check(p, n);
	if (wire_target_parse(p, n, &tg) == WIRE_OK &&
	    tg.atyp == WIRE_ATYP_DOMAIN &&
	    strlen((char *)tg.addr) > tg.addr_len)
		abort();
	for (i = 0; i < wire_block_count(n); i++)
		if (wire_block_get(p, n, i, &b) != WIRE_OK)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[8192], infl[65536];
	static const char *const doms[] = {"t.example", "vpn.example.org"};
	struct wire_frame f;
	struct err e;
	int m;
	long n;

	if (size < 1 || size > 4096)
		return 0;
	m = (data[0] & 7) % (WIRE_METHOD_MAX + 1);
	if (ciphers[m] == NULL)
		ciphers[m] =
		    wire_cipher_new(m, "fuzz-key-0123456789abcdef", 25, NULL);
	if (data[0] & 0x80) {
		if (wire_decode_query_name((const char *)data + 1, size - 1,
			doms, 2, ciphers[m], buf, sizeof buf, &f,
			NULL) != WIRE_OK)
			return 0;
	} else {
		n = wire_decrypt(
		    ciphers[m], data + 1, size - 1, buf, sizeof buf);
		if (n < 0 || wire_frame_parse(buf, (size_t)n, &f) != WIRE_OK)
			return 0;
		if (f.hdr_len + f.payload_len != (size_t)n)
			abort();
	}
	if (f.hdr_len != wire_header_len(f.type) || f.hdr_len < WIRE_HDR_MIN)
		abort();
	payloads(&f, f.payload, f.payload_len);
	if (f.comp != 0) {
		n = wire_decompress(
		    f.comp, f.payload, f.payload_len, infl, sizeof infl, &e);
		if (n > (long)sizeof infl)
			abort();
		if (n > 0)
			payloads(&f, infl, (size_t)n);
	}
	return 0;
}
