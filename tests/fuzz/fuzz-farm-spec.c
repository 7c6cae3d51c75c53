/* SPDX-License-Identifier: MIT */
/*
 * fuzz-farm-spec.c — libFuzzer target for the resolver farm's parsers of
 * outside input: spec files (first byte even) and DNS packets as the farm
 * and its tools parse them (first byte odd): header/question parsing, OPT
 * removal, truncation, and the case scrambler, which must be its own
 * inverse. The farm's source is included with its main() left out.
 */
#define FARM_NO_MAIN
#include "tests/tools/resolver-farm.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_spec(const uint8_t *data, size_t size)
{
	struct farm f;
	struct err e = {""};
	char *text = xmalloc(size + 1);

	memset(&f, 0, sizeof f);
	memcpy(text, data, size);
	text[size] = '\0';
	if (farm_spec_parse(&f, "fuzz", text, size, &e) == -1) {
		if (e.msg[0] == '\0')
			abort(); /* a failure must say why */
	} else if (f.nassigns > 0) {
		uint32_t lo = UINT32_MAX, hi = 0;
		size_t i;

		for (i = 0; i < f.nassigns; i++) {
			lo = MIN(lo, f.assigns[i].lo);
			hi = MAX(hi, f.assigns[i].hi);
		}
		/* Building is linear in the span: keep iterations fast. */
		if (hi - lo < (1u << 16) && farm_build(&f, &e) == 0) {
			for (i = 0; i < 64; i++)
				(void)farm_lookup(&f, lo + (uint32_t)i);
		}
	}
	free(text);
	free(f.table);
	free(f.assigns);
	free(f.profiles);
}

static void
fuzz_packet(const uint8_t *data, size_t size)
{
	uint8_t a[UPBUF], b[UPBUF], c[UPBUF];
	struct dnsmini_q q;
	size_t n;

	if (size > UPBUF)
		return;
	memcpy(a, data, size);
	if (dnsmini_parse(a, size, &q) == -1)
		return;
	if (q.qend > size || q.qname_end > q.qend)
		abort();
	n = dnsmini_strip_opt(a, size, q.qend, b, sizeof b);
	if (n > size)
		abort();
	memcpy(c, a, size);
	farm_scramble(c, q.qname_end, 12345);
	farm_scramble(c, q.qname_end, 12345);
	if (memcmp(a, c, size) != 0)
		abort();
	if (dnsmini_truncate(a, q.qend) != q.qend)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_spec(data + 1, size - 1);
	else
		fuzz_packet(data + 1, size - 1);
	return 0;
}
