/* SPDX-License-Identifier: MIT */
/*
 * fuzz-b36.c — block base36 both ways. Any text that decodes must decode
 * to the same bytes again after re-encoding (out-of-range groups are
 * normalised by the first decode), and any bytes must survive
 * encode/decode and the QNAME writer.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/b36.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t a[4096], b[4096];
	static char t[8192];
	long n, m;
	size_t k;

	if (size > 2048)
		return 0;
	n = b36_decode((const char *)data, size, a, sizeof a);
	if (n >= 0) {
		if (n != b36_decoded_len(size))
			abort();
		k = b36_encode(a, (size_t)n, t);
		if (k != size)
			abort();
		m = b36_decode(t, k, b, sizeof b);
		if (m != n || memcmp(a, b, (size_t)n) != 0)
			abort();
	}
	k = b36_encode(data, size, t);
	if (k != b36_encoded_len(size))
		abort();
	m = b36_decode(t, k, b, sizeof b);
	if (m != (long)size || memcmp(b, data, size) != 0)
		abort();
	m = b36_write_qname(data, size, "t.example", t, sizeof t);
	if (m != (long)b36_qname_len(size, 9) || t[m] != '\0')
		abort();
	return 0;
}
