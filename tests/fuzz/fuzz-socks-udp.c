/* SPDX-License-Identifier: MIT */
/*
 * fuzz-socks-udp.c — the SOCKS5 UDP ASSOCIATE datagram header reader and
 * upstream's DNS rule on hostile bytes. Invariants: the data offset never
 * passes the end, a DNS verdict means FRAG 0 and port 53, and a parsed
 * header builds back to the same header bytes (RSV and FRAG zeroed).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/socks-udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[70000];
	struct socks_udp_hdr h;
	long n;

	if (socks_udp_dns_check(data, size, &h) == SOCKS_UDP_DNS &&
	    (h.frag != 0 || h.port != 53 || h.data_off > size))
		abort();
	if (socks_udp_parse(data, size, &h) != SOCKS_UDP_OK)
		return 0;
	if (h.data_off > size)
		abort();
	n = socks_udp_build(
	    &h, data + h.data_off, size - h.data_off, out, sizeof out);
	if (n != (long)size || memcmp(out + 3, data + 3, h.data_off - 3) != 0 ||
	    memcmp(out + h.data_off, data + h.data_off, size - h.data_off) != 0)
		abort();
	return 0;
}
