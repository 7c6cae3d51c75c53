/* SPDX-License-Identifier: MIT */
/*
 * fuzz-check.c — the -w/-c arguments of `check` (probe/check.h): any
 * bytes through chk_limits_parse and chk_range_parse. A range that parses
 * must keep its text, never have its start above its end, and decide
 * alerts consistently (a value alerts against "@R" exactly when it does
 * not against R); a list that fails must leave a message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double probe[] = {-1e9, -1, 0, 0.5, 1, 10, 1e9, NAN};
	char text[256], at[260];
	struct chk_limits l;
	struct chk_range r, ri;
	struct err e = {""};
	size_t i;

	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size)
		return 0;
	chk_limits_defaults(&l, 3);
	if (chk_limits_parse(&l, size & 1, text, &e) != 0 && e.msg[0] == '\0')
		abort();
	if (chk_range_parse(text, &r, NULL) == 0) {
		if (strcmp(r.text, text) != 0 ||
		    (r.has_lo && r.has_hi && r.lo > r.hi))
			abort();
		snprintf(at, sizeof at, "@%s", text);
		if (!r.inside && chk_range_parse(at, &ri, NULL) == 0)
			for (i = 0; i < sizeof probe / sizeof probe[0]; i++)
				if (!isnan(probe[i]) &&
				    chk_range_alert(&r, probe[i]) ==
					chk_range_alert(&ri, probe[i]))
					abort();
	}
	return 0;
}
