/* SPDX-License-Identifier: MIT */
/*
 * fuzz-net-addr.c — net_addr_parse on arbitrary text: it must never crash,
 * and whatever it accepts must format into text that parses back to the
 * same address.
 */
#include <stdlib.h>
#include <string.h>

#include "common/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[256], buf[NET_ADDR_STRLEN];
	union net_addr a, b;
	struct err e;

	if (size >= sizeof in)
		size = sizeof in - 1;
	memcpy(in, data, size);
	in[size] = '\0';
	if (net_addr_parse(in, 53, &a, &e) != 0)
		return 0;
	net_addr_format(&a, buf, sizeof buf);
	if (net_addr_parse(buf, 1, &b, &e) != 0 || !net_addr_equal(&a, &b))
		abort();
	return 0;
}
