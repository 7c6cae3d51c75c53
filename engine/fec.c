/* SPDX-License-Identifier: MIT */
/*
 * fec.c — status and metrics of the download FEC, shared by client and
 * server (see fec.h). Nothing here touches a packet.
 */
#include <stddef.h>

#include "engine/fec.h"

json_t *
eng_fec_json(
    int negotiated, const struct fec_params *p, const struct eng_fec_stats *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "negotiated", json_boolean(negotiated));
	json_object_set_new(
	    o, "group_size", negotiated ? json_integer(p->group) : json_null());
	json_object_set_new(o, "overhead",
	    negotiated ? json_integer(p->overhead) : json_null());
	json_object_set_new(o, "symbol_size",
	    negotiated ? json_integer(p->symbol_size) : json_null());
	json_object_set_new(o, "flush_ms",
	    negotiated ? json_integer(p->flush_ms) : json_null());
#define N(k) json_object_set_new(o, #k, json_integer((json_int_t)st->k))
	N(groups_created);
	N(symbols_sent);
	N(symbols_skipped);
	N(symbols_received);
	N(decoded_groups);
	N(recovered_packets);
	N(failed_groups);
	N(overhead_bytes);
	N(malformed);
#undef N
	return o;
}

void
eng_fec_metrics(
    FILE *f, const char *prefix, int negotiated, const struct eng_fec_stats *st)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} m[] = {
	    {"groups_created_total", "FEC groups encoded.",
		offsetof(struct eng_fec_stats, groups_created)},
	    {"symbols_sent_total", "FEC repair symbols sent.",
		offsetof(struct eng_fec_stats, symbols_sent)},
	    {"symbols_skipped_total",
		"FEC repair symbols not sent: the group was acknowledged.",
		offsetof(struct eng_fec_stats, symbols_skipped)},
	    {"symbols_received_total", "FEC repair symbols received.",
		offsetof(struct eng_fec_stats, symbols_received)},
	    {"decoded_groups_total", "FEC groups decoded.",
		offsetof(struct eng_fec_stats, decoded_groups)},
	    {"recovered_packets_total", "Packets rebuilt by FEC.",
		offsetof(struct eng_fec_stats, recovered_packets)},
	    {"failed_groups_total", "FEC groups that failed to code.",
		offsetof(struct eng_fec_stats, failed_groups)},
	    {"overhead_bytes_total", "FEC repair payload bytes.",
		offsetof(struct eng_fec_stats, overhead_bytes)},
	    {"malformed_total", "FEC symbol frames dropped as malformed.",
		offsetof(struct eng_fec_stats, malformed)},
	};
	size_t i;

	fprintf(f,
	    "# HELP %s_fec_negotiated Whether download FEC is on.\n"
	    "# TYPE %s_fec_negotiated gauge\n%s_fec_negotiated %d\n",
	    prefix, prefix, prefix, negotiated ? 1 : 0);
	for (i = 0; i < sizeof m / sizeof m[0]; i++)
		fprintf(f,
		    "# HELP %s_fec_%s %s\n# TYPE %s_fec_%s counter\n"
		    "%s_fec_%s %llu\n",
		    prefix, m[i].name, m[i].help, prefix, m[i].name, prefix,
		    m[i].name,
		    (unsigned long long)*(
			const uint64_t *)(const void *)((const char *)st +
			m[i].off));
}
