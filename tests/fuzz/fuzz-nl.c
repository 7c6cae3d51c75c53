/* SPDX-License-Identifier: MIT */
/*
 * fuzz-nl.c — the rtnetlink reply parsers (common/nl.h) on arbitrary
 * datagrams: nl_walk over the bytes, and every data message it hands out
 * decoded both as a route and as a link. Nothing may crash or read out of
 * bounds, and whatever decodes must satisfy the documented invariants
 * (prefix length within the family, a NUL-terminated non-empty name).
 * The first 4 bytes choose the sequence number to accept, so the fuzzer
 * can reach both the "ours" and the "someone else's" paths.
 */
#include <stdlib.h>
#include <string.h>

#include "common/nl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
each(void *arg, unsigned type, const void *msg, size_t len, struct err *e)
{
	struct nl_route r;
	struct nl_link l;

	(void)arg;
	(void)type;
	if (nl_parse_route(msg, len, &r, e) == 0) {
		if (r.dst_len < 0 ||
		    r.dst_len > (r.family == AF_INET ? 32 : 128))
			abort();
		(void)nl_route_type_name(r.type);
	}
	if (nl_parse_link(msg, len, &l, e) == 0) {
		if (l.name[0] == '\0' ||
		    strnlen(l.name, sizeof l.name) == sizeof l.name ||
		    strnlen(l.kind, sizeof l.kind) == sizeof l.kind)
			abort();
		(void)nl_link_tunnel_why(&l);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	uint32_t seq;
	char kmsg[64];
	int kerr = -1;
	uint8_t *copy;

	if (size < 4)
		return 0;
	memcpy(&seq, data, 4);
	/* An exact-size heap copy: ASan sees any read past the end. */
	copy = malloc(size - 4 ? size - 4 : 1);
	memcpy(copy, data + 4, size - 4);
	(void)nl_walk(
	    copy, size - 4, seq, each, NULL, &kerr, kmsg, sizeof kmsg, &e);
	free(copy);
	return 0;
}
