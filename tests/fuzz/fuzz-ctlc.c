/* SPDX-License-Identifier: MIT */
/*
 * fuzz-ctlc.c — the control client's reply reader (ctlc_recv) on
 * arbitrary bytes from the engine: the input is written into one end of a
 * socketpair in two parts and the reader drains the other end without
 * blocking. Every reply it returns is a JSON document, every failure
 * comes with a message, and nothing crashes or leaks.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ctlc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read every complete line there is; 1 when the reader gave up (-1). */
static int
drain(struct ctlc *c)
{
	struct err e = {""};
	json_t *j;
	int r;

	while ((r = ctlc_recv(c, &j, 0, &e)) == 1) {
		if (j == NULL)
			abort();
		json_decref(j);
	}
	if (r == -1 && e.msg[0] == '\0')
		abort();
	return r == -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlc c;
	int sv[2];
	size_t half = size / 2;

	if (size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	memset(&c, 0, sizeof c);
	c.fd = sv[0];
	/* A line split across reads must come out whole. */
	if (write(sv[1], data, half) != (ssize_t)half)
		abort();
	if (!drain(&c)) {
		if (write(sv[1], data + half, size - half) !=
		    (ssize_t)(size - half))
			abort();
		if (!drain(&c)) {
			/* End of stream: the reader must say so. */
			close(sv[1]);
			sv[1] = -1;
			if (!drain(&c))
				abort();
		}
	}
	if (sv[1] >= 0)
		close(sv[1]);
	ctlc_close(&c);
	return 0;
}
