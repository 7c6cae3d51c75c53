/*
 * dns-lat.h — latency of DNS through the tunnel, for the status and the
 * metrics of both sides: the last DNSLAT_N samples in a ring, the median
 * and the 99th percentile over them (nearest rank), and a count of every
 * sample ever taken. Pure; no clock, no allocation.
 */
#ifndef MDNS_DNS_LAT_H
#define MDNS_DNS_LAT_H

#include <stdint.h>

#define DNSLAT_N 1024

struct dnslat {
	uint32_t us[DNSLAT_N]; /* microseconds, capped at UINT32_MAX */
	unsigned n;	       /* samples held (<= DNSLAT_N) */
	unsigned next;	       /* ring position */
	uint64_t count;	       /* samples ever added */
	uint64_t sum_us;       /* of every sample ever added */
};

void dnslat_add(struct dnslat *l, uint64_t us);
/* The p-th percentile (0 < p <= 100) of the samples held, in
 * microseconds; 0 when there is none. */
uint64_t dnslat_pct(const struct dnslat *l, double p);

#endif
