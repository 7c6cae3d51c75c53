/* SPDX-License-Identifier: MIT */
/*
 * store-writer — fixture for the store crash test. Opens DB, starts a run
 * and writes batches of K results forever (or N batches): batch b holds K
 * rows whose domain is "batch-B.example", committed together with the scan
 * cursor position b + 1. After each commit it prints "committed B" on
 * stdout (flushed), so the test knows which batches must survive a
 * SIGKILL.
 *
 * Usage: store-writer DB K [N]
 * Exit: 0 after N batches, 1 on a store error (message on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/result.h"
#include "common/util.h"
#include "store/store.h"

int
main(int argc, char **argv)
{
	struct err e = {""};
	struct store *s;
	struct res_resolver *rs;
	struct store_progress pg = {.seed = 42};
	long long k, n = -1, b, i;
	int64_t run_id;

	if (argc < 3 || argc > 4 ||
	    parse_int(argv[2], 1, 100000, &k, &e) != 0 ||
	    (argc == 4 && parse_int(argv[3], 0, 1000000000, &n, &e) != 0)) {
		fprintf(stderr, "usage: store-writer DB K [N] %s\n", e.msg);
		return 2;
	}
	if ((s = store_open(argv[1], &e)) == NULL ||
	    store_run_begin(s, "crash-test", "sha256:0", "test", &run_id, &e) !=
		0) {
		fprintf(stderr, "store-writer: %s\n", e.msg);
		store_close(s);
		return 1;
	}
	rs = xcalloc((size_t)k, sizeof *rs);
	pg.total = (uint64_t)(n < 0 ? 0 : n);
	for (b = 0; n < 0 || b < n; b++) {
		for (i = 0; i < k; i++) {
			res_resolver_init(&rs[i]);
			snprintf(rs[i].addr, sizeof rs[i].addr,
			    "10.%lld.%lld.%lld", (b >> 8) & 255, b & 255,
			    i & 255);
			snprintf(rs[i].domain, sizeof rs[i].domain,
			    "batch-%lld.example", b);
			rs[i].stage = RES_STAGE_REACH;
			rs[i].reason = RES_R_TIMEOUT;
			res_textf(rs[i].evidence, sizeof rs[i].evidence,
			    "run %lld batch %lld row %lld", (long long)run_id,
			    b, i);
		}
		pg.position = (uint64_t)b + 1;
		if (store_add_batch(s, run_id, rs, (size_t)k, &pg, &e) != 0) {
			fprintf(stderr, "store-writer: %s\n", e.msg);
			free(rs);
			store_close(s);
			return 1;
		}
		printf("committed %lld %lld\n", (long long)run_id, b);
		fflush(stdout);
	}
	free(rs);
	store_run_end(s, run_id, "ok", &e);
	store_close(s);
	return 0;
}
