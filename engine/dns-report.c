/* SPDX-License-Identifier: MIT */
/*
 * dns-report.c — the reporting pieces both sides of DNS through the
 * tunnel share (dns-report.h): the latency ring, nearest-rank
 * percentiles over it (a sorted copy: status reads are a few a second),
 * and named counters as JSON and Prometheus text.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dns-report.h"

void
dnsrep_lat_add(struct dnsrep_lat *l, uint64_t us)
{
	l->us[l->next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	l->next = (l->next + 1) % DNSREP_LAT_N;
	if (l->n < DNSREP_LAT_N)
		l->n++;
	l->count++;
	l->sum_us += us;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
dnsrep_lat_pct(const struct dnsrep_lat *l, double p)
{
	uint32_t v[DNSREP_LAT_N];
	unsigned rank;

	if (l->n == 0 || p <= 0)
		return 0;
	memcpy(v, l->us, l->n * sizeof v[0]);
	qsort(v, l->n, sizeof v[0], cmp_u32);
	/* nearest rank: ceil(p/100 * n), 1-based */
	rank = (unsigned)(p / 100.0 * l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return v[rank - 1];
}

json_t *
dnsrep_lat_json(const struct dnsrep_lat *l)
{
	return json_pack("{s:f,s:f,s:I}", "p50_ms",
	    (double)dnsrep_lat_pct(l, 50) / 1000.0, "p99_ms",
	    (double)dnsrep_lat_pct(l, 99) / 1000.0, "samples",
	    (json_int_t)l->count);
}

void
dnsrep_lat_prom(
    FILE *f, const char *name, const char *help, const struct dnsrep_lat *l)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s summary\n", name, help, name);
	fprintf(f, "%s{quantile=\"0.5\"} %.6f\n", name,
	    (double)dnsrep_lat_pct(l, 50) / 1e6);
	fprintf(f, "%s{quantile=\"0.99\"} %.6f\n", name,
	    (double)dnsrep_lat_pct(l, 99) / 1e6);
	fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name,
	    (double)l->sum_us / 1e6, name, (unsigned long long)l->count);
}

json_t *
dnsrep_kv_json(const struct dnsrep_kv *kv, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(
		    o, kv[i].name, json_integer((json_int_t)kv[i].v));
	return o;
}

void
dnsrep_kv_prom(FILE *f, const char *name, const char *help, const char *label,
    const struct dnsrep_kv *kv, size_t n)
{
	size_t i;

	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s{%s=\"%s\"} %llu\n", name, label, kv[i].name,
		    (unsigned long long)kv[i].v);
}
