/* SPDX-License-Identifier: MIT */
/*
 * txt.c — chunk layout and TXT RDATA decoding for tunnel answers.
 *
 * The layout only depends on the frame length and the mode: chunk 0 always
 * takes the first max-2 bytes of the frame (header plus first payload
 * bytes), so the frame header length never enters the computation. The
 * RDATA decoder streams base64 across character-string boundaries, so an
 * RR split into several strings needs no scratch buffer. It is stricter
 * than upstream's extractTXTBytes in one way: strings that overrun RDATA are
 * an error here, where upstream keeps the truncated tail.
 */
#include <string.h>

#include "proto/b64.h"
#include "proto/txt.h"

unsigned
txt_chunk_count(size_t frame_len, int b64)
{
	size_t max = txt_chunk_max(b64), rest, n;

	if (frame_len <= max)
		return 1;
	rest = frame_len - (max - 2);
	n = 1 + (rest + (max - 2)) / (max - 1);
	return n > TXT_MAX_CHUNKS ? 0 : (unsigned)n;
}

/* Frame offset and length of chunk k's data (without its prefix). */
static void
chunk_span(
    size_t frame_len, int b64, unsigned n, unsigned k, size_t *off, size_t *len)
{
	size_t max = txt_chunk_max(b64), end;

	if (n == 1) {
		*off = 0;
		*len = frame_len;
		return;
	}
	if (k == 0) {
		*off = 0;
		end = max - 2;
	} else {
		*off = (max - 2) + (size_t)(k - 1) * (max - 1);
		end = *off + (max - 1);
	}
	if (end > frame_len)
		end = frame_len;
	*len = *off < end ? end - *off : 0;
}

size_t
txt_chunk_raw(const uint8_t *frame, size_t frame_len, int b64, unsigned n,
    unsigned k, uint8_t *out)
{
	size_t off, len, p = 0;

	chunk_span(frame_len, b64, n, k, &off, &len);
	if (n > 1) {
		out[p++] = (uint8_t)k;
		if (k == 0)
			out[p++] = (uint8_t)n;
	}
	if (len > 0)
		memcpy(out + p, frame + off, len);
	return p + len;
}

size_t
txt_chunk_wire_len(size_t frame_len, int b64, unsigned n, unsigned k)
{
	size_t off, len;

	chunk_span(frame_len, b64, n, k, &off, &len);
	if (n > 1)
		len += k == 0 ? 2 : 1;
	return b64 ? b64_encoded_len(len) : len;
}

struct sink {
	uint8_t *out;
	size_t skip, cap, n;
};

static inline void
sink_put(struct sink *s, uint8_t b)
{
	if (s->n >= s->skip && s->n - s->skip < s->cap)
		s->out[s->n - s->skip] = b;
	s->n++;
}

static void
sink_copy(struct sink *s, const uint8_t *p, size_t len)
{
	size_t a, b;

	/* Overlap of [n, n+len) with [skip, skip+cap). */
	a = s->n > s->skip ? s->n : s->skip;
	b = s->n + len;
	if (b > s->skip + s->cap)
		b = s->skip + s->cap;
	if (a < b)
		memcpy(s->out + (a - s->skip), p + (a - s->n), b - a);
	s->n += len;
}

long
txt_rdata_decode(const uint8_t *rd, size_t rdlen, int b64, size_t skip,
    uint8_t *out, size_t cap)
{
	struct sink s = {out, skip, out ? cap : 0, 0};
	size_t off = 0, slen, i;
	uint32_t acc = 0;
	unsigned nacc = 0;
	uint8_t v;

	while (off < rdlen) {
		slen = rd[off++];
		if (slen > rdlen - off)
			return -1;
		if (!b64) {
			sink_copy(&s, rd + off, slen);
			off += slen;
			continue;
		}
		for (i = 0; i < slen; i++) {
			v = b64_value(rd[off + i]);
			if (v == 0xff)
				return -1;
			acc = (acc << 6) | v;
			if (++nacc == 4) {
				sink_put(&s, (uint8_t)(acc >> 16));
				sink_put(&s, (uint8_t)(acc >> 8));
				sink_put(&s, (uint8_t)acc);
				acc = 0;
				nacc = 0;
			}
		}
		off += slen;
	}
	switch (nacc) {
	case 1:
		return -1;
	case 2:
		sink_put(&s, (uint8_t)(acc >> 4));
		break;
	case 3:
		sink_put(&s, (uint8_t)(acc >> 10));
		sink_put(&s, (uint8_t)(acc >> 2));
		break;
	}
	return (long)s.n;
}
