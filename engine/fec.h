/* SPDX-License-Identifier: MIT */
/*
 * fec.h — the download FEC of the MasterDnsVPN fork in the engine
 * (docs/fec.md): what the server side (engine/server-fec.c) and the
 * client side (engine/client-fec.c) count, and how both show it in status
 * (`fec`, the fork's bridge names where they fit) and metrics. The wire
 * rules are proto/fec-frame.h, the code proto/raptorq.h.
 */
#ifndef MDNS_ENGINE_FEC_H
#define MDNS_ENGINE_FEC_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/fec-frame.h"

/* Counters; monotonic. */
struct eng_fec_stats {
	uint64_t negotiated;	    /* sessions that agreed on FEC */
	uint64_t groups_created;    /* server: groups encoded */
	uint64_t symbols_sent;	    /* server: repair symbols sent */
	uint64_t symbols_skipped;   /* server: not sent (group acked or
				       stream gone first) */
	uint64_t symbols_received;  /* client: STREAM_FEC_SYMBOL taken */
	uint64_t decoded_groups;    /* client: groups rebuilt */
	uint64_t recovered_packets; /* client: missing packets handed on */
	uint64_t failed_groups;	    /* decode failed (or encode, server) */
	uint64_t overhead_bytes;    /* repair payload bytes sent/received */
	uint64_t malformed;	    /* symbol frames dropped as malformed */
	uint64_t caps_refused;	    /* server: SESSION_CAPS not understood */
};

/*
 * The status object: negotiated, the effective parameters (null when not
 * negotiated) and the counters.
 */
json_t *eng_fec_json(
    int negotiated, const struct fec_params *p, const struct eng_fec_stats *st);

/* Prometheus families "<prefix>_fec_*". */
void eng_fec_metrics(FILE *f, const char *prefix, int negotiated,
    const struct eng_fec_stats *st);

#endif
