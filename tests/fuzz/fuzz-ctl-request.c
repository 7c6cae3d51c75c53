/* SPDX-License-Identifier: MIT */
/* fuzz-ctl-request.c — the control socket's request parser never crashes
 * and either returns a document with a valid command or an error message. */
#include <stdlib.h>
#include <string.h>

#include "engine/ctl.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct ctl_request req;
	struct err e = {""};
	json_t *doc;

	doc = ctl_parse_request((const char *)data, size, &req, &e);
	if (doc != NULL) {
		if (req.cmd > CTL_CMD_STOP)
			abort();
		if (req.cmd == CTL_CMD_WATCH &&
		    (req.interval_ms < CTL_WATCH_MIN_MS ||
			req.interval_ms > CTL_WATCH_MAX_MS))
			abort();
		json_decref(doc);
	} else if (e.msg[0] == '\0') {
		abort();
	}
	return 0;
}
