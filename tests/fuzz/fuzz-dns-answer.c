/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dns-answer.c — the client side on arbitrary responses: the answer
 * reader with chunk reassembly in both modes and with a small and a large
 * frame buffer; the result must be consistent (frame within the buffer,
 * same frame whatever the buffer when it fits), and the match check must
 * accept the answer's own id, name and type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"

static uint8_t big[70000], small[300];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a, b;
	enum dns_answer_status s1, s2;
	int m;

	for (m = 0; m <= 1; m++) {
		s1 = dns_answer_parse(data, size, m, big, sizeof big, &a, NULL);
		s2 = dns_answer_parse(
		    data, size, m, small, sizeof small, &b, NULL);
		if (s1 == DNS_ANS_FRAME) {
			if (a.frame_len > sizeof big)
				abort();
			if (a.frame_len <= sizeof small) {
				if (s2 != DNS_ANS_FRAME ||
				    b.frame_len != a.frame_len ||
				    memcmp(big, small, a.frame_len) != 0)
					abort();
			} else if (s2 != DNS_ANS_TOOBIG)
				abort();
		} else if (s1 != s2)
			abort();
		if (s1 != DNS_ANS_MALFORMED && a.has_question &&
		    !dns_answer_matches(
			&a, a.id, a.qname, a.qname_len, a.qtype))
			abort();
	}
	return 0;
}
