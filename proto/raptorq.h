/* SPDX-License-Identifier: MIT */
/*
 * raptorq.h — RaptorQ (RFC 6330) over one source block, as the download
 * FEC of the MasterDnsVPN fork (arianizadi/MasterDnsVPN, on the Go library
 * xssnick/raptorq) uses it: K source symbols of T bytes each (the caller
 * zero-pads every packet of a group to the largest one), repair symbols
 * with encoding symbol ids (ESI) K, K+1, ..., and a decoder fed (id, bytes)
 * pairs that rebuilds the missing source symbols.
 *
 * Conventions. Symbol ids are ESIs: 0..K-1 are the source symbols, K and
 * up are repair symbols (internal symbol id ESI + K' - K, RFC 6330 5.3.1).
 * There is no source-block partitioning, sub-blocking or alignment: one
 * block, any T in 1..RQ_MAX_T, every byte position coded independently,
 * which is how the fork's library forms its blocks. Functions that can fail
 * on input return -1 with a one-line reason in e (which may be NULL).
 * Allocation failure aborts (xmalloc).
 *
 * Bounds. K is 1..RQ_MAX_K (the fork's largest group); larger K is refused
 * before anything is allocated. ids are at most RQ_MAX_ESI (24 bits, the
 * RFC's ESI field). The coefficient table of a K (L*K bytes, L <= RQ_MAX_L)
 * is solved on first use and shared by all encoders and decoders of the
 * process: 136 KiB for all 64 values of K together. An encoder holds K*T
 * bytes. A decoder holds at most K source and K + RQ_REPAIR_SLACK repair
 * symbols of T bytes (further repair symbols are ignored) plus, while it
 * decodes, a workspace under 16 KiB; rq_dec_mem_bound() gives the exact
 * ceiling and rq_dec_mem_peak() what a decoder used. Decoding never reads
 * more of a symbol than the T bytes given to rq_dec_add().
 *
 * A decoder that says it decoded has solved the code's linear system
 * exactly (on the missing source symbols; it has full rank exactly when
 * the RFC's decoding matrix has), so its source symbols are the encoder's,
 * provided the symbols fed to it were the encoder's: it cannot detect
 * forged symbols of the right length (the framing above must authenticate
 * them). Decoding fails, and says so, for rare symbol sets: in the tests
 * under 1 in 100 sets of exactly K symbols, much rarer with more.
 */
#ifndef MDNS_RAPTORQ_H
#define MDNS_RAPTORQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define RQ_MAX_K	64    /* source symbols per block */
#define RQ_MAX_T	65535 /* bytes per symbol (uint16 on the wire) */
#define RQ_MAX_ESI	((1u << 24) - 1) /* largest symbol id (RFC 6330 3.2) */
#define RQ_MAX_L	92		 /* intermediate symbols for K' = 69 */
#define RQ_REPAIR_SLACK 8		 /* repair symbols kept beyond K */

struct rq_enc;
struct rq_dec;

/*
 * Encoder over k source symbols of t bytes, read from src (k*t bytes, symbol
 * i at src + i*t; copied, so src may be freed). The first encoder for a K
 * solves for the coefficient table; later ones reuse it. Thread-safe.
 * Returns NULL with e set when k or t is out of
 * range.
 */
struct rq_enc *rq_enc_new(
    const uint8_t *src, uint32_t k, uint32_t t, struct err *e);
void rq_enc_free(struct rq_enc *enc);

/* K and T of an encoder. */
uint32_t rq_enc_k(const struct rq_enc *enc);
uint32_t rq_enc_t(const struct rq_enc *enc);

/*
 * Write the encoding symbol with id esi (a source symbol when esi < K, else
 * a repair symbol) into out, which holds T bytes. Returns 0, or -1 when esi
 * exceeds RQ_MAX_ESI.
 */
int rq_enc_symbol(
    const struct rq_enc *enc, uint32_t esi, uint8_t *out, struct err *e);

/*
 * Decoder for a block of k source symbols of t bytes. Returns NULL with e
 * set when k or t is out of range; allocates k*t bytes for the source.
 */
struct rq_dec *rq_dec_new(uint32_t k, uint32_t t, struct err *e);
void rq_dec_free(struct rq_dec *dec);

/*
 * Feed the symbol with id esi: len must equal T. Returns 1 when the symbol
 * was kept, 0 when it adds nothing (a duplicate id, a block already
 * decoded, or the repair store full), -1 with e set on a bad id or length.
 */
int rq_dec_add(struct rq_dec *dec, uint32_t esi, const uint8_t *sym, size_t len,
    struct err *e);

/* Distinct symbols kept so far; decoding can succeed once this is >= K. */
uint32_t rq_dec_count(const struct rq_dec *dec);
bool rq_dec_ready(const struct rq_dec *dec);

/*
 * Try to recover the missing source symbols. Returns 1 when every source
 * symbol is known (now or before), 0 when the symbols so far do not
 * determine the block (fewer than K, or a singular set: feed more and call
 * again). Never returns data it could not solve for.
 */
int rq_dec_decode(struct rq_dec *dec);

/* True once rq_dec_decode() returned 1. */
bool rq_dec_done(const struct rq_dec *dec);

/*
 * Source symbol i (T bytes) when known — received or recovered — else NULL
 * (also for i >= K). Valid until the decoder is freed.
 */
const uint8_t *rq_dec_source(const struct rq_dec *dec, uint32_t i);

/* True when source symbol i came in through rq_dec_add(). */
bool rq_dec_received(const struct rq_dec *dec, uint32_t i);

/* Bytes a decoder for (k, t) can ever hold at once; 0 when out of range. */
size_t rq_dec_mem_bound(uint32_t k, uint32_t t);

/* Most bytes this decoder held at once so far (symbols and workspace). */
size_t rq_dec_mem_peak(const struct rq_dec *dec);

#endif
