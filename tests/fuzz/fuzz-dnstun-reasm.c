/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dnstun-reasm.c — the DNS_QUERY reassembly table driven by hostile
 * fragment sequences. Each record of the input is: session (2 bits), seq
 * (3 bits: many collisions), frag id, total, clock step, payload length,
 * payload. Small bounds make every limit bite. Invariants: the bounds
 * always hold, a completed message is never longer than max_msg, and
 * everything is released on free (ASan checks leaks).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/dnstun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNSTUN_MSG_MAX];
	struct dnstun_reasm_cfg c;
	struct dnstun_reasm *r;
	uint64_t now = 0;
	size_t off = 0, n, olen;

	dnstun_reasm_defaults(&c, 1);
	c.timeout_us = 1000;
	c.max_msg = 600;
	c.max_partial_session = 3;
	c.max_bytes_session = 2048;
	c.max_partial_total = 6;
	c.max_bytes_total = 4096;
	c.max_done = 5;
	r = dnstun_reasm_new(&c);
	while (size - off >= 5) {
		const uint8_t *h = data + off;

		n = h[4] % 200;
		off += 5;
		if (n > size - off)
			n = size - off;
		now += h[3] * 10;
		if (dnstun_reasm_add(r, h[0] & 3, (uint16_t)((h[0] >> 2) & 7),
			h[1] % 8, h[2] % 8, data + off, n, now, out,
			(h[3] & 1) ? sizeof out : 300,
			&olen) == DNSTUN_RA_COMPLETE &&
		    olen > c.max_msg)
			abort();
		off += n;
		if (dnstun_reasm_partial(r, -1) > c.max_partial_total ||
		    dnstun_reasm_bytes(r, -1) > c.max_bytes_total ||
		    dnstun_reasm_partial(r, h[0] & 3) > c.max_partial_session ||
		    dnstun_reasm_bytes(r, h[0] & 3) > c.max_bytes_session ||
		    dnstun_reasm_done(r) > c.max_done)
			abort();
		if (h[2] == 0xff)
			dnstun_reasm_drop_session(r, h[0] & 3);
		if (h[1] == 0xff)
			dnstun_reasm_forget(r, h[0] & 3, (h[0] >> 2) & 7);
	}
	dnstun_reasm_free(r);
	return 0;
}
