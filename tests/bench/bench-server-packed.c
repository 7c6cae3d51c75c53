/* SPDX-License-Identifier: MIT */
/*
 * bench-server-packed.c — CPU per PACKED_CONTROL_BLOCKS query on the
 * server's packet handler (issue 19 item 3): frames of STREAM_RST blocks
 * for an unknown stream, ZSTD-compressed into one query, against a
 * session whose recently-closed list is empty and one where it is full
 * (2,000 ids). Before the fix one frame worked 9,362 blocks, each looked
 * up linearly in that list: 7.2 ms a query full, 0.2 ms fresh. Prints
 * microseconds per query (median of 5 runs of 200 queries); asserts
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/tap.h"
#include "tests/srvkit.h"
#include "tests/srvpacked.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
run(int full, unsigned blocks)
{
	struct cfg_server c;
	struct eng_server *s;
	union net_addr from = srvk_addr(9);
	uint8_t msg[1400], sid = 0, cookie = 0;
	uint64_t t[5], t0;
	long m;
	int k, i;

	srvk_cfg(&c);
	s = srvk_new(&c);
	if (full)
		srvp_session_full(s, &from, &sid, &cookie);
	else
		srvk_session(s, &from, 77, WIRE_COMP_ZSTD << 4, &sid, &cookie);
	if ((m = srvp_query(sid, cookie, blocks, msg, sizeof msg)) <= 0) {
		eng_server_free(s);
		return -1;
	}
	for (k = 0; k < 5; k++) {
		t0 = now_mono_us();
		for (i = 0; i < 200; i++)
			(void)eng_server_handle_from(s, &from, msg, (size_t)m,
			    srvk_ans, sizeof srvk_ans);
		t[k] = now_mono_us() - t0;
	}
	qsort(t, 5, sizeof t[0], cmp_u64);
	eng_server_free(s);
	return (double)t[2] / 200.0;
}

int
main(void)
{
	static const unsigned sizes[] = {585, 9362};
	size_t i;

	printf("packed STREAM_RST queries, us per query (median of 5 x 200)\n");
	for (i = 0; i < nitems(sizes); i++)
		printf("  %5u blocks: closed list empty %8.1f  full %8.1f\n",
		    sizes[i], run(0, sizes[i]), run(1, sizes[i]));
	return 0;
}
