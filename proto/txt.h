/* SPDX-License-Identifier: MIT */
/*
 * txt.h — the TXT side of MasterDnsVPN answers: how a downstream frame is
 * cut into TXT character-strings (single RR or "0x00, N, ..." / "k, ..."
 * chunks, wire-protocol.md 1.6) and how TXT RDATA is turned back into bytes
 * (raw or unpadded base64, one or several character-strings per RR).
 *
 * Nothing here allocates; everything works on caller buffers. The DNS
 * message around the strings is proto/dns.h's business.
 */
#ifndef MDNS_TXT_H
#define MDNS_TXT_H

#include <stddef.h>
#include <stdint.h>

/* Raw bytes one TXT string carries per response mode (255, or 191 bytes
 * that become 255 base64 characters). */
#define TXT_RAW_CHUNK 255
#define TXT_B64_CHUNK 191
/* Chunk ids are one byte and N is one byte: at most 255 chunks. */
#define TXT_MAX_CHUNKS 255

/* Largest raw chunk for the mode (b64 = 0 raw, 1 base64). */
static inline size_t
txt_chunk_max(int b64)
{
	return b64 ? TXT_B64_CHUNK : TXT_RAW_CHUNK;
}

/*
 * Number of TXT RRs a frame of frame_len bytes takes: 1 when it fits one
 * string (it is then sent as is, even if it starts with 0x00), otherwise
 * the chunk count N. Chunk 0 is "0x00, N, frame[0 .. max-2)" (the frame
 * header followed by the first payload bytes), chunk k is "k" followed by
 * the next max-1 bytes. Returns 0 when N would exceed 255.
 */
unsigned txt_chunk_count(size_t frame_len, int b64);

/*
 * Write chunk k of n (n from txt_chunk_count) of frame into out, which must
 * hold txt_chunk_max(b64) bytes, before any base64. Returns its length.
 */
size_t txt_chunk_raw(const uint8_t *frame, size_t frame_len, int b64,
    unsigned n, unsigned k, uint8_t *out);

/* Length of chunk k's TXT string on the wire (after base64 if b64). */
size_t txt_chunk_wire_len(size_t frame_len, int b64, unsigned n, unsigned k);

/*
 * Decode TXT RDATA rd[0..rdlen): the concatenation of its
 * character-strings, base64-decoded as one text when b64 is set. The
 * strings must fill RDATA exactly. Decoded bytes [skip, skip + cap) are
 * written to out (out may be NULL when cap is 0), so a caller can peek at
 * the first bytes, validate without output, or drop a chunk prefix.
 * Returns the total decoded length (skipped and unwritten bytes included),
 * or -1 when the strings overrun RDATA or the base64 text is bad.
 */
long txt_rdata_decode(const uint8_t *rd, size_t rdlen, int b64, size_t skip,
    uint8_t *out, size_t cap);

#endif
