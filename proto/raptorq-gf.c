/* SPDX-License-Identifier: MIT */
/*
 * raptorq-gf.c — the octet field of RFC 6330 5.7 (GF(256) with the
 * polynomial x^8 + x^4 + x^3 + x^2 + 1, OCT_EXP and OCT_LOG of 5.7.3-4) and
 * the one bulk operation the code needs: dst += c * src over a symbol. The
 * bulk loop splits c * x into two 16-entry nibble tables, so the same
 * tables serve the portable loop and the SSSE3/AVX2 byte-shuffle loops,
 * picked at run time on x86-64. It knows nothing about the code itself.
 */
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RQ_X86 1
#endif

#include "proto/raptorq-int.h"

/* OCT_EXP[i] = alpha^i for i < 510 (twice the period, so that the sum of
 * two logarithms needs no reduction); OCT_LOG its inverse on 1..255. */
const uint8_t rq_oct_exp[510] = {1, 2, 4, 8, 16, 32, 64, 128, 29, 58, 116, 232,
    205, 135, 19, 38, 76, 152, 45, 90, 180, 117, 234, 201, 143, 3, 6, 12, 24,
    48, 96, 192, 157, 39, 78, 156, 37, 74, 148, 53, 106, 212, 181, 119, 238,
    193, 159, 35, 70, 140, 5, 10, 20, 40, 80, 160, 93, 186, 105, 210, 185, 111,
    222, 161, 95, 190, 97, 194, 153, 47, 94, 188, 101, 202, 137, 15, 30, 60,
    120, 240, 253, 231, 211, 187, 107, 214, 177, 127, 254, 225, 223, 163, 91,
    182, 113, 226, 217, 175, 67, 134, 17, 34, 68, 136, 13, 26, 52, 104, 208,
    189, 103, 206, 129, 31, 62, 124, 248, 237, 199, 147, 59, 118, 236, 197, 151,
    51, 102, 204, 133, 23, 46, 92, 184, 109, 218, 169, 79, 158, 33, 66, 132, 21,
    42, 84, 168, 77, 154, 41, 82, 164, 85, 170, 73, 146, 57, 114, 228, 213, 183,
    115, 230, 209, 191, 99, 198, 145, 63, 126, 252, 229, 215, 179, 123, 246,
    241, 255, 227, 219, 171, 75, 150, 49, 98, 196, 149, 55, 110, 220, 165, 87,
    174, 65, 130, 25, 50, 100, 200, 141, 7, 14, 28, 56, 112, 224, 221, 167, 83,
    166, 81, 162, 89, 178, 121, 242, 249, 239, 195, 155, 43, 86, 172, 69, 138,
    9, 18, 36, 72, 144, 61, 122, 244, 245, 247, 243, 251, 235, 203, 139, 11, 22,
    44, 88, 176, 125, 250, 233, 207, 131, 27, 54, 108, 216, 173, 71, 142, 1, 2,
    4, 8, 16, 32, 64, 128, 29, 58, 116, 232, 205, 135, 19, 38, 76, 152, 45, 90,
    180, 117, 234, 201, 143, 3, 6, 12, 24, 48, 96, 192, 157, 39, 78, 156, 37,
    74, 148, 53, 106, 212, 181, 119, 238, 193, 159, 35, 70, 140, 5, 10, 20, 40,
    80, 160, 93, 186, 105, 210, 185, 111, 222, 161, 95, 190, 97, 194, 153, 47,
    94, 188, 101, 202, 137, 15, 30, 60, 120, 240, 253, 231, 211, 187, 107, 214,
    177, 127, 254, 225, 223, 163, 91, 182, 113, 226, 217, 175, 67, 134, 17, 34,
    68, 136, 13, 26, 52, 104, 208, 189, 103, 206, 129, 31, 62, 124, 248, 237,
    199, 147, 59, 118, 236, 197, 151, 51, 102, 204, 133, 23, 46, 92, 184, 109,
    218, 169, 79, 158, 33, 66, 132, 21, 42, 84, 168, 77, 154, 41, 82, 164, 85,
    170, 73, 146, 57, 114, 228, 213, 183, 115, 230, 209, 191, 99, 198, 145, 63,
    126, 252, 229, 215, 179, 123, 246, 241, 255, 227, 219, 171, 75, 150, 49, 98,
    196, 149, 55, 110, 220, 165, 87, 174, 65, 130, 25, 50, 100, 200, 141, 7, 14,
    28, 56, 112, 224, 221, 167, 83, 166, 81, 162, 89, 178, 121, 242, 249, 239,
    195, 155, 43, 86, 172, 69, 138, 9, 18, 36, 72, 144, 61, 122, 244, 245, 247,
    243, 251, 235, 203, 139, 11, 22, 44, 88, 176, 125, 250, 233, 207, 131, 27,
    54, 108, 216, 173, 71, 142};

const uint8_t rq_oct_log[256] = {0, 0, 1, 25, 2, 50, 26, 198, 3, 223, 51, 238,
    27, 104, 199, 75, 4, 100, 224, 14, 52, 141, 239, 129, 28, 193, 105, 248,
    200, 8, 76, 113, 5, 138, 101, 47, 225, 36, 15, 33, 53, 147, 142, 218, 240,
    18, 130, 69, 29, 181, 194, 125, 106, 39, 249, 185, 201, 154, 9, 120, 77,
    228, 114, 166, 6, 191, 139, 98, 102, 221, 48, 253, 226, 152, 37, 179, 16,
    145, 34, 136, 54, 208, 148, 206, 143, 150, 219, 189, 241, 210, 19, 92, 131,
    56, 70, 64, 30, 66, 182, 163, 195, 72, 126, 110, 107, 58, 40, 84, 250, 133,
    186, 61, 202, 94, 155, 159, 10, 21, 121, 43, 78, 212, 229, 172, 115, 243,
    167, 87, 7, 112, 192, 247, 140, 128, 99, 13, 103, 74, 222, 237, 49, 197,
    254, 24, 227, 165, 153, 119, 38, 184, 180, 124, 17, 68, 146, 217, 35, 32,
    137, 46, 55, 63, 209, 91, 149, 188, 207, 205, 144, 135, 151, 178, 220, 252,
    190, 97, 242, 86, 211, 171, 20, 42, 93, 158, 132, 60, 57, 83, 71, 109, 65,
    162, 31, 45, 67, 216, 183, 123, 164, 118, 196, 23, 73, 236, 127, 12, 111,
    246, 108, 161, 59, 82, 41, 157, 85, 170, 251, 96, 134, 177, 187, 204, 62,
    90, 203, 89, 95, 176, 156, 169, 160, 81, 11, 245, 22, 235, 122, 117, 44,
    215, 79, 174, 213, 233, 230, 231, 173, 232, 116, 214, 244, 234, 168, 80, 88,
    175};

static void
rq_xor(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t a, b;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < n; i++)
		dst[i] ^= src[i];
}

/*
 * rq_nib[c][x] = c * x and rq_nib[c][16 + x] = c * (x << 4) for x < 16:
 * the two nibble tables of every coefficient (8 KiB), filled once.
 */
static uint8_t rq_nib[256][32];
static pthread_once_t rq_nib_once = PTHREAD_ONCE_INIT;

static void
rq_nib_init(void)
{
	unsigned c, x;

	for (c = 0; c < 256; c++)
		for (x = 0; x < 16; x++) {
			rq_nib[c][x] = rq_gf_mul((uint8_t)c, (uint8_t)x);
			rq_nib[c][16 + x] =
			    rq_gf_mul((uint8_t)c, (uint8_t)(x << 4));
		}
}

/*
 * The combine loops: out[i] = sum over j < n of c_j * src[j][i] for i in
 * [from, len), where nib[j] points to c_j's nibble tables. Each returns
 * the first byte it left for a narrower loop. A chunk is read whole before
 * it is written, so out may be one of the sources.
 */
#ifdef RQ_X86
__attribute__((target("avx2"))) static size_t
rq_combine_avx2(uint8_t *out, const uint8_t *const *nib,
    const uint8_t *const *src, size_t n, size_t from, size_t len)
{
	__m256i mask = _mm256_set1_epi8(0x0f), acc, s, tl, th;
	size_t i, j;

	for (i = from; i + 32 <= len; i += 32) {
		acc = _mm256_setzero_si256();
		for (j = 0; j < n; j++) {
			tl = _mm256_broadcastsi128_si256(_mm_loadu_si128(
			    (const __m128i *)(const void *)nib[j]));
			th = _mm256_broadcastsi128_si256(_mm_loadu_si128(
			    (const __m128i *)(const void *)(nib[j] + 16)));
			s = _mm256_loadu_si256(
			    (const __m256i *)(const void *)(src[j] + i));
			acc = _mm256_xor_si256(acc,
			    _mm256_shuffle_epi8(tl, _mm256_and_si256(s, mask)));
			acc = _mm256_xor_si256(acc,
			    _mm256_shuffle_epi8(th,
				_mm256_and_si256(
				    _mm256_srli_epi64(s, 4), mask)));
		}
		_mm256_storeu_si256((__m256i *)(void *)(out + i), acc);
	}
	return i;
}

__attribute__((target("ssse3"))) static size_t
rq_combine_ssse3(uint8_t *out, const uint8_t *const *nib,
    const uint8_t *const *src, size_t n, size_t from, size_t len)
{
	__m128i mask = _mm_set1_epi8(0x0f), acc, s, tl, th;
	size_t i, j;

	for (i = from; i + 16 <= len; i += 16) {
		acc = _mm_setzero_si128();
		for (j = 0; j < n; j++) {
			tl = _mm_loadu_si128(
			    (const __m128i *)(const void *)nib[j]);
			th = _mm_loadu_si128(
			    (const __m128i *)(const void *)(nib[j] + 16));
			s = _mm_loadu_si128(
			    (const __m128i *)(const void *)(src[j] + i));
			acc = _mm_xor_si128(
			    acc, _mm_shuffle_epi8(tl, _mm_and_si128(s, mask)));
			acc = _mm_xor_si128(acc,
			    _mm_shuffle_epi8(
				th, _mm_and_si128(_mm_srli_epi64(s, 4), mask)));
		}
		_mm_storeu_si128((__m128i *)(void *)(out + i), acc);
	}
	return i;
}
#endif

/* Widest loop allowed: 2 AVX2, 1 SSSE3, 0 bytes (tests lower it). */
static int rq_simd_max = 2;

void
rq_gf_set_simd(int level)
{
	rq_simd_max = level;
}

static void
rq_combine_bytes(uint8_t *out, const uint8_t *const *nib,
    const uint8_t *const *src, size_t n, size_t from, size_t len)
{
	size_t i, j;
	uint8_t acc, x;

	for (i = from; i < len; i++) {
		acc = 0;
		for (j = 0; j < n; j++) {
			x = src[j][i];
			acc ^=
			    (uint8_t)(nib[j][x & 15] ^ nib[j][16 + (x >> 4)]);
		}
		out[i] = acc;
	}
}

/*
 * The widest loop the CPU has, then narrower ones for the tail. When out
 * is none of the sources, a ragged tail is one more wide chunk that
 * overlaps the previous one (it writes the same bytes again).
 */
static void
rq_combine_tables(uint8_t *out, const uint8_t *const *nib,
    const uint8_t *const *src, size_t n, size_t len, int aliased)
{
	size_t i = 0;

#ifdef RQ_X86
	if (len >= 32 && rq_simd_max >= 2 && __builtin_cpu_supports("avx2")) {
		i = rq_combine_avx2(out, nib, src, n, i, len);
		if (i < len && !aliased)
			i = rq_combine_avx2(out, nib, src, n, len - 32, len);
	}
	if (len - i >= 16 && rq_simd_max >= 1 &&
	    __builtin_cpu_supports("ssse3")) {
		i = rq_combine_ssse3(out, nib, src, n, i, len);
		if (i < len && !aliased)
			i = rq_combine_ssse3(out, nib, src, n, len - 16, len);
	}
#else
	(void)aliased;
#endif
	rq_combine_bytes(out, nib, src, n, i, len);
}

void
rq_gf_combine(uint8_t *out, const uint8_t *c, const uint8_t *const *src,
    size_t n, size_t len)
{
	const uint8_t *nib[RQ_COMBINE_MAX], *s[RQ_COMBINE_MAX];
	size_t j, m = 0;
	int aliased = 0, pass;

	pthread_once(&rq_nib_once, rq_nib_init);
	/* Terms whose source is out go first, into the first fold, before
	 * out is written. */
	for (pass = 0; pass < 2; pass++)
		for (j = 0; j < n; j++) {
			if (c[j] == 0 || (src[j] == out) != (pass == 0))
				continue;
			if (m == RQ_COMBINE_MAX) {
				/* Fold what is there so far into out. */
				rq_combine_tables(out, nib, s, m, len, aliased);
				nib[0] = rq_nib[1];
				s[0] = out;
				m = 1;
				aliased = 1;
			}
			if (src[j] == out)
				aliased = 1;
			nib[m] = rq_nib[c[j]];
			s[m++] = src[j];
		}
	if (m == 0) {
		memset(out, 0, len);
		return;
	}
	rq_combine_tables(out, nib, s, m, len, aliased);
}

void
rq_gf_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n)
{
	const uint8_t *nib[2], *s[2];

	if (c == 0 || n == 0)
		return;
	if (c == 1) {
		rq_xor(dst, src, n);
		return;
	}
	pthread_once(&rq_nib_once, rq_nib_init);
	nib[0] = rq_nib[1];
	nib[1] = rq_nib[c];
	s[0] = dst;
	s[1] = src;
	rq_combine_tables(dst, nib, s, 2, n, 1);
}

void
rq_gf_scale(uint8_t *dst, uint8_t c, size_t n)
{
	size_t i;

	if (c == 1)
		return;
	if (c == 0) {
		memset(dst, 0, n);
		return;
	}
	for (i = 0; i < n; i++)
		dst[i] = rq_gf_mul(dst[i], c);
}
