/* SPDX-License-Identifier: MIT */
/*
 * fuzz-profile.c — libFuzzer target for the JSON profile reader: any input
 * loads or fails with a message naming the buffer, never crashes or leaks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p;
	struct err e;
	size_t i;

	if (prof_load_buf("fuzz.json", (const char *)data, size, &p, &e) ==
	    -1) {
		if (strncmp(e.msg, "fuzz.json", 9) != 0)
			abort();
		return 0;
	}
	if (p->ndomains == 0 || strcmp(p->protocol, "") == 0)
		abort();
	for (i = 0; i < p->ndomains; i++)
		if (strlen(p->domains[i]) == 0 || strlen(p->domains[i]) > 253)
			abort();
	prof_free(p);
	return 0;
}
