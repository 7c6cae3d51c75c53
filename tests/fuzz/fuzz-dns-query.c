/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dns-query.c — the server side on arbitrary UDP payloads: the query
 * reader, then every builder on what it accepted (tunnel answers of a few
 * frame sizes in both modes, the three empty answers), and the answer
 * reader on what the builders wrote, which must give the frame back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"

static uint8_t out[1 << 17], back[1 << 17], frame[70000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t lens[] = {4, 191, 192, 255, 256, 1000, 4107};
	struct dns_query q;
	struct dns_answer a;
	enum dns_query_verdict v;
	size_t i, j;
	long n;
	int m;

	v = dns_query_parse(data, size, &q, NULL);
	if (v == DNS_QUERY_DROP)
		return 0;
	if (q.question_end > size || q.opt_off + q.opt_len > size ||
	    q.qname_len >= DNS_NAME_TEXT_MAX || strlen(q.qname) > q.qname_len)
		abort();
	for (i = 0; i < 3; i++) {
		n = dns_answer_empty(out, sizeof out, &q, i, NULL);
		if (n != (long)(q.question_end + q.opt_len))
			abort();
	}
	if (v != DNS_QUERY_OK)
		return 0;
	if (frame[1] == 0)
		for (i = 0; i < sizeof frame; i++)
			frame[i] = (uint8_t)(i * 31 + 7);
	for (m = 0; m <= 1; m++) {
		for (j = 0; j < sizeof lens / sizeof lens[0]; j++) {
			n = dns_answer_build(
			    out, sizeof out, &q, frame, lens[j], 4, m, NULL);
			if (n < 0)
				abort();
			if ((size_t)n !=
			    dns_answer_size(lens[j], q.qname_wire_len,
				q.question_end - DNS_HDR_LEN, q.opt_len, m))
				abort();
			/* Our own answer must read back (the question may
			 * hold later names with pointers into the header
			 * region, which shifts nothing: same offsets). */
			if (dns_answer_parse(out, (size_t)n, m, back,
				sizeof back, &a, NULL) == DNS_ANS_FRAME &&
			    (a.frame_len != lens[j] ||
				memcmp(back, frame, lens[j]) != 0))
				abort();
		}
	}
	return 0;
}
