/*
 * raptorq-gf.c — the octet field of RFC 6330 5.7 (GF(256) with the
 * polynomial x^8 + x^4 + x^3 + x^2 + 1, OCT_EXP and OCT_LOG of 5.7.3-4) and
 * the one bulk operation the code needs: dst += c * src over a symbol. The
 * bulk loop splits c * x into two 16-entry nibble tables, so the same
 * tables serve the portable loop and the SSSE3/AVX2 byte-shuffle loops,
 * picked at run time on x86-64. It knows nothing about the code itself.
 */
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

/* lo[x] = c * x and hi[x] = c * (x << 4) for x < 16. */
static void
rq_nibble_tables(uint8_t c, uint8_t lo[16], uint8_t hi[16])
{
	unsigned x;

	for (x = 0; x < 16; x++) {
		lo[x] = rq_gf_mul(c, (uint8_t)x);
		hi[x] = rq_gf_mul(c, (uint8_t)(x << 4));
	}
}

#ifdef RQ_X86
__attribute__((target("avx2"))) static size_t
rq_muladd_avx2(uint8_t *dst, const uint8_t *src, const uint8_t lo[16],
    const uint8_t hi[16], size_t n)
{
	__m256i tl = _mm256_broadcastsi128_si256(
	    _mm_loadu_si128((const __m128i *)(const void *)lo));
	__m256i th = _mm256_broadcastsi128_si256(
	    _mm_loadu_si128((const __m128i *)(const void *)hi));
	__m256i mask = _mm256_set1_epi8(0x0f);
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		__m256i s = _mm256_loadu_si256(
		    (const __m256i *)(const void *)(src + i));
		__m256i d =
		    _mm256_loadu_si256((const __m256i *)(void *)(dst + i));
		__m256i l = _mm256_shuffle_epi8(tl, _mm256_and_si256(s, mask));
		__m256i h = _mm256_shuffle_epi8(
		    th, _mm256_and_si256(_mm256_srli_epi64(s, 4), mask));
		d = _mm256_xor_si256(d, _mm256_xor_si256(l, h));
		_mm256_storeu_si256((__m256i *)(void *)(dst + i), d);
	}
	return i;
}

__attribute__((target("ssse3"))) static size_t
rq_muladd_ssse3(uint8_t *dst, const uint8_t *src, const uint8_t lo[16],
    const uint8_t hi[16], size_t n)
{
	__m128i tl = _mm_loadu_si128((const __m128i *)(const void *)lo);
	__m128i th = _mm_loadu_si128((const __m128i *)(const void *)hi);
	__m128i mask = _mm_set1_epi8(0x0f);
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i s =
		    _mm_loadu_si128((const __m128i *)(const void *)(src + i));
		__m128i d = _mm_loadu_si128((const __m128i *)(void *)(dst + i));
		__m128i l = _mm_shuffle_epi8(tl, _mm_and_si128(s, mask));
		__m128i h = _mm_shuffle_epi8(
		    th, _mm_and_si128(_mm_srli_epi64(s, 4), mask));
		d = _mm_xor_si128(d, _mm_xor_si128(l, h));
		_mm_storeu_si128((__m128i *)(void *)(dst + i), d);
	}
	return i;
}
#endif

void
rq_gf_muladd(uint8_t *dst, const uint8_t *src, uint8_t c, size_t n)
{
	uint8_t lo[16], hi[16];
	size_t i = 0;

	if (c == 0 || n == 0)
		return;
	if (c == 1) {
		rq_xor(dst, src, n);
		return;
	}
	rq_nibble_tables(c, lo, hi);
#ifdef RQ_X86
	if (n >= 32 && __builtin_cpu_supports("avx2"))
		i = rq_muladd_avx2(dst, src, lo, hi, n);
	else if (n >= 16 && __builtin_cpu_supports("ssse3"))
		i = rq_muladd_ssse3(dst, src, lo, hi, n);
#endif
	for (; i < n; i++)
		dst[i] ^= (uint8_t)(lo[src[i] & 15] ^ hi[src[i] >> 4]);
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
