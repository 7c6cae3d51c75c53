/* SPDX-License-Identifier: MIT */
/*
 * fuzz-term-safe.c — the terminal sanitiser (ctlc_term_safe, ctlc.h) on
 * arbitrary bytes from the control socket, in a UTF-8 locale and in the C
 * locale: the result is never longer than the input, holds no C0 byte
 * (a newline only when asked to keep them) and no DEL, and in the C locale
 * nothing but printable ASCII; in UTF-8 it is valid UTF-8 without C1
 * characters.
 */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctlc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the UTF-8 sequence at s, or 0 when it is not valid or is C1. */
static size_t
utf8_ok(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0; /* U+0080..U+009F */
	return n;
}

static void
check(const char *in, size_t len, int keep, int utf8)
{
	char *out = ctlc_term_safe(in, keep);
	const unsigned char *p = (const unsigned char *)out;
	size_t n;

	if (strlen(out) > len)
		abort();
	while (*p != '\0') {
		if ((*p < 0x20 && !(keep && *p == '\n')) || *p == 0x7f)
			abort();
		if (!utf8 && *p >= 0x80)
			abort();
		n = utf8 ? utf8_ok(p) : 1;
		if (n == 0)
			abort();
		p += n;
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int utf8 = -1;
	char *s;

	if (size > 65536)
		return 0;
	if (utf8 < 0)
		utf8 = setlocale(LC_CTYPE, "C.UTF-8") != NULL;
	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check(s, strlen(s), size > 0 && (data[0] & 1), utf8);
	setlocale(LC_CTYPE, "C");
	check(s, strlen(s), 0, 0);
	if (utf8)
		setlocale(LC_CTYPE, "C.UTF-8");
	free(s);
	return 0;
}
