/* SPDX-License-Identifier: MIT */
/*
 * wire-comp.c — payload compression as upstream does it
 * (internal/compression/types.go, wire-protocol.md 1.7): type 1 a standard
 * zstd frame (level 1, upstream's "fastest"), type 2 an LZ4 block behind a
 * 4-byte little-endian original size, type 3 raw DEFLATE (no zlib header,
 * level 1). Compressed bytes need not match upstream's, only decompress to
 * the same thing. Decompression never produces more than 10 MiB.
 *
 * Each thread keeps one reusable context per library, created on first use,
 * so a packet costs no allocation. It does not decide which frame types may
 * carry compression (that is the WIRE_EXT_COMP bit of the type).
 */
#include <string.h>

#include <lz4.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "proto/wire.h"

#define LZ4_PREFIX 4

static _Thread_local ZSTD_CCtx *tl_zcctx;
static _Thread_local ZSTD_DCtx *tl_zdctx;
static _Thread_local z_stream tl_defl, tl_infl;
static _Thread_local int tl_defl_ok, tl_infl_ok;

const char *
wire_comp_name(int type)
{
	static const char *const names[] = {"off", "zstd", "lz4", "deflate"};

	if (type < 0 || type > WIRE_COMP_MAX)
		return NULL;
	return names[type];
}

/* Upstream treats every unknown type (4..255) as "off". */
static int
norm_type(int type)
{
	return type >= 0 && type <= WIRE_COMP_MAX ? type : WIRE_COMP_OFF;
}

uint8_t
wire_comp_pair(int upload, int download)
{
	return (uint8_t)(norm_type(upload) << 4 | norm_type(download));
}

void
wire_comp_split(uint8_t pair, int *upload, int *download)
{
	*upload = norm_type(pair >> 4);
	*download = norm_type(pair & 0x0f);
}

size_t
wire_compress_bound(int type, size_t n)
{
	switch (type) {
	case WIRE_COMP_ZSTD:
		return ZSTD_compressBound(n);
	case WIRE_COMP_LZ4:
		if (n > LZ4_MAX_INPUT_SIZE)
			return 0;
		return LZ4_PREFIX + (size_t)LZ4_compressBound((int)n);
	case WIRE_COMP_DEFLATE:
		/* zlib's deflateBound for raw streams plus some slack. */
		return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 16;
	}
	return 0;
}

static z_stream *
deflater(void)
{
	if (!tl_defl_ok) {
		memset(&tl_defl, 0, sizeof tl_defl);
		if (deflateInit2(&tl_defl, 1, Z_DEFLATED, -15, 8,
			Z_DEFAULT_STRATEGY) != Z_OK)
			return NULL;
		tl_defl_ok = 1;
	} else if (deflateReset(&tl_defl) != Z_OK)
		return NULL;
	return &tl_defl;
}

static z_stream *
inflater(void)
{
	if (!tl_infl_ok) {
		memset(&tl_infl, 0, sizeof tl_infl);
		if (inflateInit2(&tl_infl, -15) != Z_OK)
			return NULL;
		tl_infl_ok = 1;
	} else if (inflateReset(&tl_infl) != Z_OK)
		return NULL;
	return &tl_infl;
}

long
wire_compress(int type, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t r;
	z_stream *zs;
	int lr;

	switch (type) {
	case WIRE_COMP_ZSTD:
		if (tl_zcctx == NULL && (tl_zcctx = ZSTD_createCCtx()) == NULL)
			return -1;
		r = ZSTD_compressCCtx(tl_zcctx, out, cap, in, n, 1);
		return ZSTD_isError(r) ? -1 : (long)r;
	case WIRE_COMP_LZ4:
		if (cap < LZ4_PREFIX || n > LZ4_MAX_INPUT_SIZE)
			return -1;
		out[0] = (uint8_t)n;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)(n >> 16);
		out[3] = (uint8_t)(n >> 24);
		lr = LZ4_compress_default((const char *)in,
		    (char *)out + LZ4_PREFIX, (int)n,
		    (int)MIN(cap - LZ4_PREFIX, (size_t)INT32_MAX));
		return lr <= 0 ? -1 : (long)(lr + LZ4_PREFIX);
	case WIRE_COMP_DEFLATE:
		if ((zs = deflater()) == NULL || n > UINT32_MAX)
			return -1;
		zs->next_in = (Bytef *)(uintptr_t)in;
		zs->avail_in = (uInt)n;
		zs->next_out = out;
		zs->avail_out = (uInt)MIN(cap, (size_t)UINT32_MAX);
		if (deflate(zs, Z_FINISH) != Z_STREAM_END)
			return -1;
		return (long)zs->total_out;
	}
	return -1;
}

int
wire_compress_payload(int type, long min_size, const uint8_t *in, size_t n,
    uint8_t *out, size_t cap, size_t *out_len)
{
	long r;

	type = norm_type(type);
	if (type == WIRE_COMP_OFF || n == 0)
		return WIRE_COMP_OFF;
	if (min_size <= 0)
		min_size = WIRE_COMP_MIN_SIZE_DEFAULT;
	if (n <= (size_t)min_size)
		return WIRE_COMP_OFF;
	/* Only a strictly smaller result is worth it: give n - 1 of room. */
	r = wire_compress(type, in, n, out, MIN(cap, n - 1));
	if (r < 0 || (size_t)r >= n)
		return WIRE_COMP_OFF;
	*out_len = (size_t)r;
	return type;
}

static long
inflate_raw(
    const uint8_t *in, size_t n, uint8_t *out, size_t lim, struct err *e)
{
	z_stream *zs = inflater();
	uint8_t extra;
	int r;

	if (zs == NULL)
		return err_set(e, "deflate: cannot initialise zlib");
	if (n > UINT32_MAX)
		return err_set(e, "deflate: input too large");
	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->avail_in = (uInt)n;
	zs->next_out = out;
	zs->avail_out = (uInt)lim;
	r = inflate(zs, Z_FINISH);
	if (r != Z_STREAM_END && zs->avail_out == 0) {
		/* Full: the stream may still end with no more output. */
		zs->next_out = &extra;
		zs->avail_out = 1;
		r = inflate(zs, Z_FINISH);
		if (zs->avail_out == 0)
			return err_set(
			    e, "deflate: output exceeds %zu bytes", lim);
	}
	if (r != Z_STREAM_END)
		return err_set(e, "deflate: corrupt or truncated stream");
	if (zs->avail_in != 0)
		return err_set(
		    e, "deflate: %u bytes after the stream", zs->avail_in);
	return (long)zs->total_out;
}

long
wire_decompress(int type, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
    struct err *e)
{
	size_t lim = MIN(cap, (size_t)WIRE_DECOMP_MAX), r;
	uint32_t orig;
	int lr;

	type = norm_type(type);
	/* Upstream passes empty payloads and unknown types through as is. */
	if (n == 0)
		return 0;
	switch (type) {
	case WIRE_COMP_OFF:
		if (n > cap)
			return err_set(
			    e, "payload of %zu bytes exceeds buffer", n);
		memmove(out, in, n);
		return (long)n;
	case WIRE_COMP_ZSTD:
		if (tl_zdctx == NULL && (tl_zdctx = ZSTD_createDCtx()) == NULL)
			return err_set(e, "zstd: cannot create context");
		r = ZSTD_decompressDCtx(tl_zdctx, out, lim, in, n);
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
				return err_set(
				    e, "zstd: output exceeds %zu bytes", lim);
			return err_set(e, "zstd: %s", ZSTD_getErrorName(r));
		}
		return (long)r;
	case WIRE_COMP_LZ4:
		if (n < LZ4_PREFIX)
			return err_set(e, "lz4: shorter than the size prefix");
		orig = (uint32_t)in[0] | (uint32_t)in[1] << 8 |
		    (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
		if (orig > lim)
			return err_set(
			    e, "lz4: declared size %u exceeds %zu", orig, lim);
		if (n - LZ4_PREFIX > INT32_MAX)
			return err_set(e, "lz4: input too large");
		lr = LZ4_decompress_safe((const char *)in + LZ4_PREFIX,
		    (char *)out, (int)(n - LZ4_PREFIX), (int)orig);
		if (lr < 0 || (uint32_t)lr != orig)
			return err_set(e, "lz4: corrupt block");
		return lr;
	case WIRE_COMP_DEFLATE:
		return inflate_raw(in, n, out, lim, e);
	}
	return err_set(e, "unknown compression type %d", type);
}
