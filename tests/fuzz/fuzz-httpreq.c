/* SPDX-License-Identifier: MIT */
/*
 * fuzz-httpreq.c — the http-fixture's request-head parser
 * (tests/tools/httpreq.h) on arbitrary bytes: never a crash or overrun; a
 * head it accepts lies within the input, has a method, a path starting
 * with '/', HTTP/1.0 or 1.1, and parses the same when fed again alone.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/tools/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hreq r, r2;
	long n;

	n = hreq_parse((const char *)data, size, &r, NULL);
	if (n <= 0)
		return 0;
	if ((size_t)n > size || n > HREQ_MAX_HEAD || r.method[0] == '\0' ||
	    r.path[0] != '/' || (r.minor != 0 && r.minor != 1))
		abort();
	if (hreq_parse((const char *)data, (size_t)n, &r2, NULL) != n ||
	    memcmp(&r, &r2, sizeof r) != 0)
		abort();
	return 0;
}
