/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dnstun.c — the DNS-through-the-tunnel message readers on hostile
 * bytes: the request reader (both flavours), the server and client
 * verdicts with the rcode answers they build, the raw FORMERR builder,
 * the upstream-answer check and the answer rewrite. Invariants: answers
 * fit the space given and start with the query's id; a RESOLVE verdict
 * is for a carried type; names are bounded and NUL-terminated.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dnstun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_req(const struct dnstun_req *r, int st)
{
	if (st != DNSTUN_REQ_OK)
		return;
	if (r->q.name_len > DNSTUN_NAME_MAX || r->q.name[r->q.name_len] != 0 ||
	    r->q.name_len == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNSTUN_MSG_MAX], copy[DNSTUN_MSG_MAX];
	struct dnstun_req r, r2;
	enum dnstun_why why;
	enum dnstun_action a;
	size_t olen, cap;
	long n;

	if (size > DNSTUN_MSG_MAX)
		return 0;
	check_req(&r, dnstun_req_parse(data, size, &r));
	check_req(&r2, dnstun_msg_parse(data, size, &r2));
	cap = size > 0 ? (size_t)data[0] * 4 : 0;
	a = dnstun_server_check(data, size, &r, out, cap, &olen, &why);
	if (a == DNSTUN_REPLY &&
	    (olen > cap || olen < 12 || memcmp(out, data, 2) != 0 ||
		(out[2] & 0x80) == 0))
		abort();
	if (a == DNSTUN_RESOLVE &&
	    !dnstun_type_supported(r.q.qtype, r.q.qclass))
		abort();
	a = dnstun_local_check(data, size, DNSTUN_LOCAL_REFUSE_UNSUPPORTED, &r,
	    out, sizeof out, &olen, &why);
	if (a == DNSTUN_REPLY && why != DNSTUN_WHY_UNSUPPORTED)
		abort();
	n = dnstun_answer_rcode_raw(data, size, 1, out, sizeof out);
	if (n > (long)size + 12)
		abort();
	if (size >= 12) {
		/* an answer to itself: with QR set, the question the reader
		 * sees must check out (pointers may reach into the header,
		 * so read it from the flipped copy) */
		memcpy(copy, data, size);
		copy[2] |= 0x80;
		if (dnstun_msg_parse(copy, size, &r2) == DNSTUN_REQ_OK &&
		    dnstun_answer_check(copy, size, be16_load(copy), &r2.q) !=
			DNSTUN_ANS_OK)
			abort();
	}
	dnstun_answer_check(data, size, 0x1234, &r.q);
	memcpy(copy, data, size);
	dnstun_patch_answer(copy, size, data + size / 2, size - size / 2);
	return 0;
}
