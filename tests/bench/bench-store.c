/* SPDX-License-Identifier: MIT */
/*
 * bench-store — write 10,000 fully populated results in batches of 500
 * into a fresh DB (WAL, synchronous NORMAL, as the CLI opens it), five
 * times, and print the median:
 *	store: 10000 results in N ms (median of 5)
 * plus the read-back time of one run through store_run_results.
 * Works in a temp directory it removes. Exit 1 on a store error.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/result.h"
#include "common/util.h"
#include "store/store.h"

#define NRESULTS 10000
#define BATCH	 500
#define RUNS	 5

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
count_cb(void *arg, int64_t run_id, const struct res_resolver *r)
{
	(*(size_t *)arg)++;
	return 0;
}

int
main(void)
{
	const char *td = getenv("TMPDIR");
	char dir[256], path[320];
	struct res_resolver *rs = xcalloc(NRESULTS, sizeof *rs);
	uint64_t w[RUNS], rd[RUNS], t0;
	struct err e = {""};
	struct store *s;
	int64_t run_id;
	size_t i, got;
	int k, rc = 0;

	snprintf(
	    dir, sizeof dir, "%s/bench-store-XXXXXX", td && *td ? td : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (i = 0; i < NRESULTS; i++) {
		res_resolver_init(&rs[i]);
		snprintf(rs[i].addr, sizeof rs[i].addr, "10.%zu.%zu.%zu",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
		snprintf(rs[i].domain, sizeof rs[i].domain, "t.example");
		rs[i].stage = RES_STAGE_MTU;
		rs[i].verdict = RES_VERDICT_OK;
		rs[i].reason = RES_R_OK;
		rs[i].rtt_us = 40000 + (int64_t)i;
		rs[i].upload_mtu = 128;
		rs[i].download_mtu = 940;
		rs[i].shape.longest_name = 253;
		rs[i].shape.case_preserved = RES_TRI_YES;
		res_textf(rs[i].evidence, sizeof rs[i].evidence,
		    "sent TXT? %zu.t.example; got NODATA AA=0 RA=1 in 40 ms",
		    i);
	}
	for (k = 0; k < RUNS && rc == 0; k++) {
		snprintf(path, sizeof path, "%s/h%d.db", dir, k);
		if ((s = store_open(path, &e)) == NULL ||
		    store_run_begin(
			s, "bench", "sha256:0", "bench", &run_id, &e) != 0) {
			rc = 1;
			store_close(s);
			break;
		}
		t0 = now_mono_us();
		for (i = 0; i < NRESULTS && rc == 0; i += BATCH)
			if (store_add_results(s, run_id, rs + i, BATCH, &e) !=
			    0)
				rc = 1;
		w[k] = now_mono_us() - t0;
		got = 0;
		t0 = now_mono_us();
		if (rc == 0 &&
		    store_run_results(s, run_id, count_cb, &got, &e) != 0)
			rc = 1;
		rd[k] = now_mono_us() - t0;
		if (rc == 0 && got != NRESULTS) {
			snprintf(e.msg, sizeof e.msg, "read %zu of %d", got,
			    NRESULTS);
			rc = 1;
		}
		store_close(s);
	}
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(rs);
	if (rc != 0) {
		fprintf(stderr, "bench-store: %s\n", e.msg);
		return 1;
	}
	qsort(w, RUNS, sizeof w[0], cmp_u64);
	qsort(rd, RUNS, sizeof rd[0], cmp_u64);
	printf("store: %d results in %llu ms (median of %d)\n", NRESULTS,
	    (unsigned long long)(w[RUNS / 2] / 1000), RUNS);
	printf("store: read back %d results in %llu ms (median of %d)\n",
	    NRESULTS, (unsigned long long)(rd[RUNS / 2] / 1000), RUNS);
	return 0;
}
