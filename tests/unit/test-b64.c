/* SPDX-License-Identifier: MIT */
/*
 * test-b64.c — unpadded base64: RFC 4648 section 10 vectors (padding
 * removed), agreement with OpenSSL's EVP_EncodeBlock/DecodeBlock on random
 * data of every length 0..400, and rejection of padding, foreign characters
 * and impossible lengths.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/b64.h"
#include "tests/tap.h"

static const struct {
	const char *plain, *enc;
} vec[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint8_t
rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)rng;
}

int
main(void)
{
	char enc[1024], ref[1024];
	uint8_t in[512], dec[512];
	size_t i, n, m, bad_enc = 0, bad_dec = 0, reflen;
	long r;

	for (i = 0; i < nitems(vec); i++) {
		n = strlen(vec[i].plain);
		m = b64_encode((const uint8_t *)vec[i].plain, n, enc);
		enc[m] = '\0';
		tap_is_str(enc, vec[i].enc, "encode \"%s\"", vec[i].plain);
		tap_is_int(b64_encoded_len(n), strlen(vec[i].enc),
		    "encoded_len(%zu)", n);
		r = b64_decode(vec[i].enc, strlen(vec[i].enc), dec, sizeof dec);
		tap_ok(r == (long)n && memcmp(dec, vec[i].plain, n) == 0,
		    "decode \"%s\"", vec[i].enc);
	}

	/* Every length against OpenSSL (padded) with the '=' stripped. */
	for (n = 0; n <= 400; n++) {
		for (i = 0; i < n; i++)
			in[i] = rnd8();
		m = b64_encode(in, n, enc);
		reflen =
		    (size_t)EVP_EncodeBlock((unsigned char *)ref, in, (int)n);
		while (reflen > 0 && ref[reflen - 1] == '=')
			reflen--;
		if (m != reflen || memcmp(enc, ref, m) != 0 ||
		    m != b64_encoded_len(n))
			bad_enc++;
		r = b64_decode(enc, m, dec, sizeof dec);
		if (r != (long)n || memcmp(dec, in, n) != 0 ||
		    b64_decoded_len(m) != n)
			bad_dec++;
	}
	tap_is_int(bad_enc, 0, "encode agrees with OpenSSL for 0..400 bytes");
	tap_is_int(bad_dec, 0, "decode round-trips 0..400 bytes");

	tap_is_int(
	    b64_decode("Zg==", 4, dec, sizeof dec), -1, "padding rejected");
	tap_is_int(
	    b64_decode("Zm8=", 4, dec, sizeof dec), -1, "single pad rejected");
	tap_is_int(b64_decode("Zm9vY", 5, dec, sizeof dec), -1,
	    "length %% 4 == 1 rejected");
	tap_is_int(
	    b64_decode("Z", 1, dec, sizeof dec), -1, "one character rejected");
	tap_is_int(b64_decode("Zm9-", 4, dec, sizeof dec), -1,
	    "url-safe '-' rejected");
	tap_is_int(b64_decode("Zm9_", 4, dec, sizeof dec), -1,
	    "url-safe '_' rejected");
	tap_is_int(
	    b64_decode("Zm 9", 4, dec, sizeof dec), -1, "space rejected");
	tap_is_int(
	    b64_decode("Zm9\n", 4, dec, sizeof dec), -1, "newline rejected");
	tap_is_int(b64_decode("Zm\0v", 4, dec, sizeof dec), -1, "NUL rejected");
	tap_is_int(b64_decode("Zm\xc3v", 4, dec, sizeof dec), -1,
	    "high byte rejected");
	tap_is_int(
	    b64_decode("Zm9vYmFy", 8, dec, 5), -1, "too small output rejected");
	tap_is_int(
	    b64_decode("Zm9vYmFy", 8, dec, 6), 6, "exact output size accepted");
	/* Go's default decoder ignores non-zero unused bits: "Zh" = "f". */
	r = b64_decode("Zh", 2, dec, sizeof dec);
	tap_ok(r == 1 && dec[0] == 'f', "unused low bits ignored like Go");
	tap_is_int(b64_decoded_len(5), (long long)(size_t)-1,
	    "decoded_len(5) impossible");
	tap_is_int(b64_decoded_len(255), 191, "255 chars carry 191 bytes");
	tap_is_int(b64_encoded_len(191), 255, "191 bytes fit a TXT string");
	tap_is_int(b64_encoded_len(192), 256, "192 bytes do not");
	/* Every byte value outside the alphabet is rejected in each slot. */
	{
		size_t badok = 0, c, pos;
		char t[4];

		for (c = 0; c < 256; c++) {
			if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				   "qrstuvwxyz0123456789+/",
				(int)c) &&
			    c != 0)
				continue;
			for (pos = 0; pos < 4; pos++) {
				memcpy(t, "QUJD", 4);
				t[pos] = (char)c;
				if (b64_decode(t, 4, dec, sizeof dec) != -1)
					badok++;
			}
		}
		tap_is_int(badok, 0,
		    "all 192 foreign byte values rejected "
		    "in every position");
	}
	return tap_done();
}
