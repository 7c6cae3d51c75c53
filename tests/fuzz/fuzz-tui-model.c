/* SPDX-License-Identifier: MIT */
/*
 * fuzz-tui-model.c — arbitrary engine output through the dashboard model:
 * the input is split into lines as the control socket delivers them, each
 * line parsed as JSON and fed to tui_model_feed, then the view is sorted
 * by every column, filtered, and the sparklines computed, as a redraw
 * would. Any crash, leak or sanitizer report is a bug; error returns are
 * expected.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tui/tui-model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tui_model m;
	struct err e;
	const char *p = (const char *)data, *end = p + size;
	int levels[60];
	double peak;
	long long t = 0;
	int s;

	tui_model_init(&m);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *o = json_loadb(p, len, JSON_DECODE_ANY, NULL);

		if (o != NULL) {
			tui_model_feed(&m, o, t += 1000, &e);
			json_decref(o);
		}
		p += len + (nl != NULL);
	}
	for (s = 0; s < TUI_SORT_COUNT; s++) {
		tui_model_set_sort(&m, (enum tui_sort)s, s & 1);
		if (m.nview > 0 && m.view[0] >= m.cur.nres)
			__builtin_trap();
	}
	tui_model_set_filter(&m, "1");
	tui_model_spark(&m, 1, levels, 60, &peak);
	tui_model_spark(&m, 0, levels, 7, &peak);
	tui_model_free(&m);
	return 0;
}
