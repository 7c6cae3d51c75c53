/* SPDX-License-Identifier: MIT */
/*
 * fuzz-echo.c — IP-echo bodies (probe/echo.h) of any bytes: no crash, no
 * read beyond the body, and whatever is accepted is a canonical address
 * that normalises to itself with the same family.
 */
#include <stdlib.h>
#include <string.h>

#include "probe/echo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ip[ECHO_IP_MAX], again[ECHO_IP_MAX];
	struct err e;
	int fam, fam2;
	char *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	if (echo_parse(copy, size, ip, &fam, NULL, &e) == 0) {
		if ((fam != 4 && fam != 6) ||
		    echo_normalize(ip, again, &fam2, &e) != 0 ||
		    strcmp(ip, again) != 0 || fam != fam2)
			abort();
	}
	free(copy);
	return 0;
}
