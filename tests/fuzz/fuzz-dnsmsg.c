/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dnsmsg.c — the fixtures' DNS message parser (tests/tools/dnsmsg.h,
 * used by dnsq and auth-responder on whatever arrives from the network) on
 * arbitrary bytes: it must never crash or overrun, every string it fills
 * must be terminated, and a plain question name it accepts must survive
 * being written into a query and parsed again.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/tools/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsm_msg m, m2;
	uint8_t q[600];
	long qlen;
	int i;

	if (dnsm_parse(data, size, &m, NULL) != 0)
		return 0;
	if (m.nrr < 0 || m.nrr > DNSM_MAX_RR ||
	    strnlen(m.qname, sizeof m.qname) == sizeof m.qname)
		abort();
	for (i = 0; i < m.nrr; i++)
		if (strnlen(m.rr[i].name, DNSM_NAME_MAX) == DNSM_NAME_MAX ||
		    strnlen(m.rr[i].text, DNSM_RDATA_TEXT) == DNSM_RDATA_TEXT)
			abort();
	if (m.qdcount == 0 || strchr(m.qname, '\\') != NULL)
		return 0;
	qlen = dnsm_build_query(
	    q, sizeof q, m.id, m.qname, m.qtype, m.qclass, 1, 1232);
	if (qlen < 0)
		abort();
	if (dnsm_parse(q, (size_t)qlen, &m2, NULL) != 0 ||
	    strcmp(m.qname, m2.qname) != 0 || m2.qtype != m.qtype ||
	    !m2.has_opt || m2.edns_size != 1232)
		abort();
	return 0;
}
