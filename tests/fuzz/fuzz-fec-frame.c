/* SPDX-License-Identifier: MIT */
/*
 * fuzz-fec-frame.c — SESSION_CAPS and STREAM_FEC_SYMBOL payloads from
 * hostile input (proto/fec-frame.h). Aborts when a payload the parser
 * accepts breaks its own invariants or does not rebuild to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/fec-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[FEC_SYM_HDR + 2 * FEC_MAX_GROUP + FEC_MAX_SYMBOL];
	struct fec_params p, q, r;
	struct fec_sym s;
	uint32_t sum = 0;
	unsigned i;
	long n;

	if (fec_caps_decode(data, size, &p, NULL) == 0) {
		if (p.group < FEC_MIN_GROUP || p.group > FEC_MAX_GROUP ||
		    p.overhead > FEC_MAX_OVERHEAD ||
		    p.flush_ms < FEC_MIN_FLUSH_MS ||
		    p.flush_ms > FEC_MAX_FLUSH_MS)
			abort();
		fec_caps_encode(&p, out);
		if (fec_caps_decode(out, FEC_CAPS_LEN, &q, NULL) != 0 ||
		    p.enabled != q.enabled || p.group != q.group ||
		    p.overhead != q.overhead ||
		    p.symbol_size != q.symbol_size || p.flush_ms != q.flush_ms)
			abort();
		fec_negotiate(&p, &q, &r);
		if (r.enabled != p.enabled || (p.enabled && r.group != p.group))
			abort();
	}
	if (fec_sym_parse(data, size, &s, NULL) != 0)
		return 0;
	if (s.count == 0 || s.count > FEC_MAX_GROUP || s.base != s.count ||
	    s.id < s.count || s.id >= 2 * s.count || s.sym_len == 0 ||
	    s.sym + s.sym_len != data + size)
		abort();
	for (i = 0; i < s.count; i++) {
		if (s.lens[i] == 0 || s.lens[i] > s.sym_len)
			abort();
		sum += s.lens[i];
	}
	if (sum != s.orig_len)
		abort();
	n = fec_sym_build(&s, out, sizeof out, NULL);
	if (n != (long)size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
