/* SPDX-License-Identifier: MIT */
/*
 * fec-frame.h — the download FEC of the MasterDnsVPN fork
 * (arianizadi/MasterDnsVPN 4104a7f, internal/fec; docs/fec.md): the
 * parameters a side wants, their negotiation, the 8-byte SESSION_CAPS /
 * SESSION_CAPS_ACK payload and the STREAM_FEC_SYMBOL payload.
 *
 * SESSION_CAPS and its ACK carry: version (1), flags (bit 0: download FEC),
 * group size, overhead %, symbol size (uint16 BE, 0 = auto), flush timeout
 * ms (uint16 BE). Values outside the fork's ranges are clamped as the fork
 * does (group 2..64, overhead 0..100, flush 1..1000), so a fork peer and we
 * arrive at the same effective values.
 *
 * STREAM_FEC_SYMBOL (header: stream id, sequence = the group's first
 * sequence number) carries: version (1), group count K, original length
 * (uint32 BE, the sum of the packet lengths), base symbol count (uint16
 * BE, = K), symbol id (uint32 BE, K.. for repair symbols), K packet
 * lengths (uint16 BE), then the symbol (T bytes, T >= every length).
 * fec_sym_parse() is stricter than the fork's decoder where the fork's
 * encoder never goes (base = K, repair ids K..2K-1, non-empty packets):
 * anything else is refused with a reason and the caller counts it.
 */
#ifndef MDNS_FEC_FRAME_H
#define MDNS_FEC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define FEC_VERSION	  1
#define FEC_FLAG_DOWNLOAD 0x01
#define FEC_CAPS_LEN	  8
#define FEC_MIN_GROUP	  2
#define FEC_MAX_GROUP	  64
#define FEC_MAX_OVERHEAD  100
#define FEC_MIN_FLUSH_MS  1
#define FEC_MAX_FLUSH_MS  1000
#define FEC_MAX_SYMBOL	  65535
#define FEC_SYM_HDR	  12 /* bytes before the packet lengths */

/* Defaults of the fork (its level "conservative"). */
#define FEC_DEFAULT_GROUP    8
#define FEC_DEFAULT_OVERHEAD 15
#define FEC_DEFAULT_FLUSH_MS 25

/* What one side wants or what was agreed (download direction only). */
struct fec_params {
	bool enabled;
	unsigned group;	      /* packets per group, 2..64 */
	unsigned overhead;    /* repair symbols per group, % of K, 0..100 */
	unsigned symbol_size; /* smallest T, 0 = the largest packet */
	unsigned flush_ms;    /* a partial group is closed after this */
};

/* The fork's defaults, disabled. */
void fec_params_default(struct fec_params *p);

/*
 * Clamp into the fork's ranges as its NormalizeParams does: a group of 0
 * takes the default, a flush of 0 takes the default.
 */
void fec_params_normalize(struct fec_params *p);

/*
 * Parameters of a level name ("none", "conservative", "balanced",
 * "aggressive", and the fork's aliases off/disabled, safe/low, medium,
 * high). Returns 0, or -1 with e set for an unknown name.
 */
int fec_params_level(const char *level, struct fec_params *p, struct err *e);

/* The 8-byte caps payload of p (normalized first). */
void fec_caps_encode(const struct fec_params *p, uint8_t out[FEC_CAPS_LEN]);

/*
 * Parse a caps payload: exactly 8 bytes and version 1, else -1 with e set.
 * The values are normalized (clamped) as the fork does.
 */
int fec_caps_decode(
    const uint8_t *b, size_t n, struct fec_params *p, struct err *e);

/*
 * The effective parameters from the client's request and the server's
 * ceilings (the fork's Negotiate): disabled unless both are enabled; the
 * minimum of group, overhead and flush; the symbol size the server caps.
 */
void fec_negotiate(const struct fec_params *client,
    const struct fec_params *server, struct fec_params *out);

/* Repair symbols for a group of k: ceil(k * overhead / 100), at least 1
 * when overhead > 0, 0 when it is 0. */
unsigned fec_repair_count(unsigned k, unsigned overhead);

/* One STREAM_FEC_SYMBOL payload. */
struct fec_sym {
	unsigned count;	   /* K, 1..64 */
	uint32_t orig_len; /* sum of lens */
	unsigned base;	   /* base symbol count, = count */
	uint32_t id;	   /* symbol id, count..2*count-1 */
	uint16_t lens[FEC_MAX_GROUP];
	const uint8_t *sym; /* the symbol (points into the parsed buffer) */
	size_t sym_len;	    /* T */
};

/*
 * Parse and check a STREAM_FEC_SYMBOL payload. Returns 0, or -1 with a
 * one-line reason in e: short, version, group count 0 or over 64, base
 * count other than K, id outside K..2K-1, empty symbol, a packet length 0
 * or over T, lengths that do not add up to the original length.
 */
int fec_sym_parse(const uint8_t *p, size_t n, struct fec_sym *s, struct err *e);

/* Bytes of a payload for k packets and a symbol of t bytes. */
size_t fec_sym_size(unsigned k, size_t t);

/*
 * Write s (count, lens, id, sym, sym_len; orig_len and base are computed)
 * to out. Returns the length, or -1 with e set when s does not pass
 * fec_sym_parse's checks or cap is too small.
 */
long fec_sym_build(
    const struct fec_sym *s, uint8_t *out, size_t cap, struct err *e);

/* Whether two parsed symbols describe the same group (all but id, sym). */
bool fec_sym_same_group(const struct fec_sym *a, const struct fec_sym *b);

#endif
