/* SPDX-License-Identifier: MIT */
/*
 * dns-report.h — latency of DNS through the tunnel, for the status and the
 * metrics of both sides: the last DNSREP_LAT_N samples in a ring, the median
 * and the 99th percentile over them (nearest rank), and a count of every
 * sample ever taken. Pure; no clock, no allocation.
 */
#ifndef MDNS_DNS_REPORT_H
#define MDNS_DNS_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define DNSREP_LAT_N 1024

struct dnsrep_lat {
	uint32_t us[DNSREP_LAT_N]; /* microseconds, capped at UINT32_MAX */
	unsigned n;		   /* samples held (<= DNSREP_LAT_N) */
	unsigned next;		   /* ring position */
	uint64_t count;		   /* samples ever added */
	uint64_t sum_us;	   /* of every sample ever added */
};

void dnsrep_lat_add(struct dnsrep_lat *l, uint64_t us);
/* The p-th percentile (0 < p <= 100) of the samples held, in
 * microseconds; 0 when there is none. */
uint64_t dnsrep_lat_pct(const struct dnsrep_lat *l, double p);

/* {"p50_ms": x, "p99_ms": y, "samples": n} (a new reference). */
json_t *dnsrep_lat_json(const struct dnsrep_lat *l);
/* A Prometheus summary NAME{quantile="0.5"|"0.99"} in seconds, with
 * NAME_sum and NAME_count. */
void dnsrep_lat_prom(
    FILE *f, const char *name, const char *help, const struct dnsrep_lat *l);

/* A named counter. */
struct dnsrep_kv {
	const char *name;
	uint64_t v;
};
/* {name: v, ...} (a new reference). */
json_t *dnsrep_kv_json(const struct dnsrep_kv *kv, size_t n);
/* One counter family NAME{LABEL="name"} v per entry. */
void dnsrep_kv_prom(FILE *f, const char *name, const char *help,
    const char *label, const struct dnsrep_kv *kv, size_t n);

#endif
