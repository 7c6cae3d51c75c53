/* SPDX-License-Identifier: MIT */
/*
 * test-b36.c — block base36: known vectors (computed with an independent
 * arbitrary-precision implementation), length tables, round trips of every
 * length 0..400 with random data, case folding, invalid groups and
 * characters, out-of-range groups keeping their low bytes, and the QNAME
 * label writer.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/b36.h"
#include "tests/tap.h"

static const struct {
	const char *hex, *b36;
} vec[] = {
    {"", ""},
    {"00", "00"},
    {"ff", "73"},
    {"0000", "0000"},
    {"4d6173746572446e7356504e2d313233", "5ygmdf3rl1g8i45hwsyrsh09wz"},
    {"01020304050607", "02sk3zitmo7"},
    {"ffffffffffffff", "jpia9pm8jr3"},
    {"ffffffffffff", "2rrvthnxtr"},
    {"ffffffffffffffffffffffffff", "jpia9pm8jr32rrvthnxtr"},
    {"68656c6c6f20776f726c64", "81c2z3kqlpz0ux7nms"},
};

static void
test_vectors(void)
{
	uint8_t in[64], out[64];
	char txt[128];
	size_t i, n, m;
	long d;

	for (i = 0; i < nitems(vec); i++) {
		n = (size_t)hex_decode(
		    vec[i].hex, strlen(vec[i].hex), in, sizeof in);
		m = b36_encode(in, n, txt);
		txt[m] = '\0';
		tap_is_str(txt, vec[i].b36, "encode %s", vec[i].hex);
		tap_is_int(m, b36_encoded_len(n), "encoded_len(%zu)", n);
		d = b36_decode(vec[i].b36, strlen(vec[i].b36), out, sizeof out);
		tap_ok(d == (long)n && memcmp(out, in, n) == 0, "decode %s",
		    vec[i].b36);
	}
}

static void
test_lengths(void)
{
	static const int chars_for[8] = {0, 2, 4, 5, 7, 8, 10, 11};
	static const int bytes_for[11] = {0, -1, 1, -1, 2, 3, -1, 4, 5, -1, 6};
	size_t r, bad = 0;

	for (r = 0; r < 8; r++)
		tap_is_int(b36_encoded_len(14 + r), 22 + chars_for[r],
		    "encoded_len(14 + %zu)", r);
	for (r = 0; r < 11; r++)
		tap_is_int(b36_decoded_len(22 + r),
		    bytes_for[r] < 0 ? -1 : 14 + bytes_for[r],
		    "decoded_len(22 + %zu)", r);
	/* Every encoded length decodes back to the byte count. */
	for (r = 0; r < 1000; r++)
		if (b36_decoded_len(b36_encoded_len(r)) != (long)r)
			bad++;
	tap_is_int(bad, 0, "decoded_len(encoded_len(n)) == n for n < 1000");
}

static void
test_round_trips(void)
{
	uint8_t in[400], out[400];
	char txt[700], up[700];
	size_t n, i, bad = 0, badcase = 0, badchar = 0;
	long d;

	srand(36);
	for (n = 0; n <= sizeof in; n++) {
		for (i = 0; i < n; i++)
			in[i] = (uint8_t)(n % 3 == 0 ? 0xff : rand());
		size_t m = b36_encode(in, n, txt);

		for (i = 0; i < m; i++) {
			if (!((txt[i] >= '0' && txt[i] <= '9') ||
				(txt[i] >= 'a' && txt[i] <= 'z')))
				badchar++;
			up[i] = (char)(txt[i] >= 'a' ? txt[i] - 32 : txt[i]);
		}
		d = b36_decode(txt, m, out, sizeof out);
		if (d != (long)n || memcmp(in, out, n) != 0)
			bad++;
		d = b36_decode(up, m, out, sizeof out);
		if (d != (long)n || memcmp(in, out, n) != 0)
			badcase++;
	}
	tap_is_int(bad, 0, "round trip of every length 0..400");
	tap_is_int(badcase, 0, "upper-case text decodes the same");
	tap_is_int(badchar, 0, "encoder emits only 0-9a-z");
}

static void
test_invalid(void)
{
	uint8_t out[32];
	static const char *const bad_len[] = {
	    "a", "abc", "abcdef", "abcdefghi", "abcdefghijkl"};
	size_t i;

	for (i = 0; i < nitems(bad_len); i++)
		tap_is_int(
		    b36_decode(bad_len[i], strlen(bad_len[i]), out, sizeof out),
		    -1, "reject trailing group \"%s\"", bad_len[i]);
	tap_is_int(b36_decode("abc-123", 7, out, sizeof out), -1, "reject '-'");
	tap_is_int(b36_decode("ab=d", 4, out, sizeof out), -1, "reject '='");
	tap_is_int(b36_decode("ab\xc3\xa9", 4, out, sizeof out), -1,
	    "reject non-ASCII");
	tap_is_int(b36_decode("0000", 4, out, 1), -1, "reject short buffer");
	tap_is_int(b36_decode("", 0, out, 0), 0, "empty decodes to empty");
	/* Out of range groups keep the low bytes, as upstream. */
	tap_ok(b36_decode("zz", 2, out, sizeof out) == 1 && out[0] == 0x0f,
	    "\"zz\" (1295) keeps low byte 0x0f");
	tap_ok(b36_decode("ZZZZ", 4, out, sizeof out) == 2 && out[0] == 0xa0 &&
		out[1] == 0xff,
	    "\"ZZZZ\" keeps 0xa0ff");
	tap_ok(b36_decode("zzzzzzzzzzz", 11, out, sizeof out) == 7 &&
		memcmp(out, "\xd3\x9d\x3e\x06\x3f\xff\xff", 7) == 0,
	    "36^11-1 keeps its low 56 bits");
}

static void
test_qname(void)
{
	uint8_t in[200];
	char q[400], txt[400];
	size_t i, m;
	long n;

	for (i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 7 + 1);
	m = b36_encode(in, 152, txt);
	tap_is_int(m, 239, "152 bytes -> 239 chars");
	n = b36_write_qname(in, 152, "t.example", q, sizeof q);
	tap_is_int(n, 252, "qname length 239 + 3 dots + 1 + 9");
	tap_is_int(b36_qname_len(152, 9), 252, "b36_qname_len agrees");
	tap_ok(q[63] == '.' && q[127] == '.' && q[191] == '.' &&
		strcmp(q + 242, ".t.example") == 0,
	    "labels 63/63/63/50 then "
	    "the domain");
	tap_ok(memcmp(q, txt, 63) == 0 && memcmp(q + 64, txt + 63, 63) == 0 &&
		memcmp(q + 192, txt + 189, 50) == 0,
	    "labels carry the text");
	n = b36_write_qname(in, 7, "a.b", q, sizeof q);
	tap_ok(
	    n == 15 && strcmp(q + 11, ".a.b") == 0 && strchr(q, '.') == q + 11,
	    "one label of 11");
	/* Exactly 63 chars: one label, no empty label after it. */
	n = b36_write_qname(in, 40, "d", q, sizeof q);
	tap_ok(n == 65 && q[63] == '.' && q[64] == 'd' && q[65] == '\0',
	    "63-char text stays one label (%ld)", n);
	tap_is_int(b36_write_qname(in, 152, "t.example", q, 252), -1,
	    "no room for the NUL");
	tap_is_int(
	    b36_write_qname(in, 152, "t.example", q, 253), 252, "exact room");
}

int
main(void)
{
	test_vectors();
	test_lengths();
	test_round_trips();
	test_invalid();
	test_qname();
	return tap_done();
}
