/* SPDX-License-Identifier: MIT */
/* test-util.c — hex, integer parsing, trimming, error buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/tap.h"

int
main(void)
{
	uint8_t b[8];
	char h[17];
	long long v;
	struct err e = {""};
	char s[] = "  hi there \t\n";

	hex_encode((const uint8_t *)"\x01\xab\xff", 3, h);
	tap_is_str(h, "01abff", "hex_encode");
	tap_is_int(hex_decode("01ABff", 6, b, sizeof b), 3, "hex_decode len");
	tap_ok(b[0] == 1 && b[1] == 0xab && b[2] == 0xff, "hex_decode bytes");
	tap_is_int(
	    hex_decode("0g", 2, b, sizeof b), -1, "hex_decode bad digit");
	tap_ok(hex_digit('0') == 0 && hex_digit('9') == 9 &&
		hex_digit('a') == 10 && hex_digit('F') == 15 &&
		hex_digit('g') == -1 && hex_digit('/') == -1 &&
		hex_digit(-1) == -1,
	    "hex_digit");
	{
		char p[16], q[32] = "abc\x01\ndef";

		str_printable("ok\ttext", p, sizeof p);
		tap_is_str(p, "ok?text", "str_printable: control byte as ?");
		str_printable("0123456789abcdefghij", p, sizeof p);
		tap_is_str(p, "012345678...", "str_printable: long text cut");
		str_printable(q, q, sizeof q);
		tap_is_str(q, "abc??def", "str_printable: in place");
	}
	tap_ok(str_hash("") == 14695981039346656037ULL &&
		str_hash("a") == 0xaf63dc4c8601ec8cULL,
	    "str_hash is FNV-1a");
	{
		char *sv[40];
		size_t n = 0, k, bad = 0;

		for (k = 0; k < 40; k++)
			sv[n++] = xasprintf("s%zu", k % 13);
		str_dedupe(sv, &n);
		tap_is_int(n, 13, "str_dedupe keeps one of each");
		for (k = 0; k < n; k++) {
			char want[8];

			snprintf(want, sizeof want, "s%zu", k);
			bad += strcmp(sv[k], want) != 0;
			free(sv[k]);
		}
		tap_is_int(bad, 0, "str_dedupe keeps first-seen order");
		n = 0;
		str_dedupe(sv, &n);
		tap_is_int(n, 0, "str_dedupe on nothing");
	}
	tap_is_int(hex_decode("012", 3, b, sizeof b), -1, "hex_decode odd");
	tap_is_int(hex_decode("000000000000000000", 18, b, sizeof b), -1,
	    "hex_decode overflow");
	tap_is_int(parse_int("42", 0, 100, &v, &e), 0, "parse_int ok");
	tap_is_int(v, 42, "parse_int value");
	tap_is_int(parse_int("42x", 0, 100, &v, &e), -1, "parse_int junk");
	tap_is_int(parse_int("101", 0, 100, &v, &e), -1, "parse_int range");
	tap_ok(
	    strstr(e.msg, "outside") != NULL, "parse_int message: %s", e.msg);
	tap_is_str(str_trim(s), "hi there", "str_trim");
	return tap_done();
}
