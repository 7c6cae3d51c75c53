/* SPDX-License-Identifier: MIT */
/*
 * fuzz-toml.c — libFuzzer target for the TOML subset reader: any input
 * must parse or fail with a message, never crash or leak; a parsed
 * document is walked, looked up and formatted back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_doc *doc;
	struct err e;
	size_t i;

	if (toml_parse_buf("fuzz.toml", (const char *)data, size, &doc, &e) ==
	    -1) {
		if (e.msg[0] == '\0' || strncmp(e.msg, "fuzz.toml:", 10) != 0)
			abort();
		return 0;
	}
	for (i = 0; i < toml_count(doc); i++) {
		const struct toml_entry *ent = toml_entry_at(doc, i);
		char *f = toml_value_format(&ent->value);

		if (toml_find(doc, ent->key) != ent)
			abort();
		free(f);
	}
	toml_free(doc);
	return 0;
}
