/* SPDX-License-Identifier: MIT */
/*
 * bench-history — what the history costs the engine and its readers:
 *
 *   snapshot: store_snap_write of a client status shaped like the real
 *     one (64 resolvers, counters, a few events) into a file already
 *     holding the row cap (so every write also prunes), 2,000 times:
 *     median, 99th percentile and worst time per snapshot. This is the
 *     time the engine's loop is held once per interval.
 *   read-back: 20 scan runs of 10,000 resolvers (10 % passing) stored,
 *     then store_good (the last-known-good list) and store_run_pairs
 *     (two runs side by side), median of 5.
 *
 * Works in a temp directory it removes. Exit 1 on a store error.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/ev.h"
#include "common/result.h"
#include "common/util.h"
#include "store/store.h"

#define NSNAP	2000
#define MAXROWS 1000
#define NRUNS	20
#define NRES	10000
#define REPEATS 5

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

static uint64_t counter;

/* A client status of the real shape (docs/control-protocol.md). */
static json_t *
status(void *arg)
{
	json_t *st, *list = json_array();
	char addr[32];
	int i;

	(void)arg;
	counter++;
	for (i = 0; i < 64; i++) {
		snprintf(addr, sizeof addr, "198.51.100.%d:53", i);
		json_array_append_new(list,
		    json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:f,s:f,s:I,s:I,s:I}",
			"address", addr, "domain", "t.example", "state",
			"active", "reason", "", "upload_mtu", 141,
			"download_mtu", 1000, "rtt_ms", 12.5 + i, "loss", 0.02,
			"sent", (json_int_t)(counter * 100 + i), "answered",
			(json_int_t)(counter * 98), "timeouts",
			(json_int_t)(counter * 2)));
	}
	st = json_pack("{s:s,s:s,s:i,s:I,s:s,s:{s:i,s:I,s:i},s:{s:i,s:i}}",
	    "role", "client", "version", "bench", "pid", 1, "uptime_ms",
	    (json_int_t)(counter * 30000), "phase", "connected", "session",
	    "id", 7, "established_ms", (json_int_t)1795000000000LL, "reinits",
	    0, "mtu", "upload", 141, "download", 1000);
	json_object_set_new(st, "resolvers",
	    json_pack("{s:i,s:i,s:i,s:i,s:i,s:o}", "total", 64, "active", 64,
		"disabled", 0, "testing", 0, "rejected", 0, "list", list));
	json_object_set_new(st, "traffic",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "bytes_up",
		(json_int_t)(counter * 1000), "bytes_down",
		(json_int_t)(counter * 90000), "packets_up",
		(json_int_t)counter, "packets_down", (json_int_t)counter,
		"queries_sent", (json_int_t)counter, "answers",
		(json_int_t)counter, "rate_up_bps", 1.5, "rate_down_bps", 2.5,
		"qps", 30.0));
	json_object_set_new(st, "arq",
	    json_pack("{s:I,s:I,s:I,s:i}", "retransmits", (json_int_t)counter,
		"nacks_sent", (json_int_t)0, "nacks_received", (json_int_t)0,
		"rto_ms", 500));
	return st;
}

static int
count_good(void *arg, const struct store_good *g)
{
	(*(size_t *)arg)++;
	return 0;
}

static int
count_pair(
    void *arg, const struct res_resolver *a, const struct res_resolver *b)
{
	(*(size_t *)arg)++;
	return 0;
}

static int
bench_snapshots(const char *dir)
{
	char path[128];
	uint64_t *t = xcalloc(NSNAP, sizeof *t), t0;
	struct store_snap_opts o;
	struct store_snap *w;
	struct ev_loop *loop;
	struct err e = {""};
	struct store *s;
	int64_t run;
	char ev[64];
	size_t i;

	snprintf(path, sizeof path, "%s/snap.db", dir);
	if ((s = store_open(path, &e)) == NULL ||
	    store_run_begin(s, "connect", "d", "bench", &run, &e) != 0 ||
	    (loop = ev_loop_new(&e)) == NULL) {
		fprintf(stderr, "bench-history: %s\n", e.msg);
		return -1;
	}
	store_snap_defaults(&o);
	o.interval_ms = 0; /* driven by hand */
	o.max_rows = MAXROWS;
	w = store_snap_new(loop, s, run, &o, status, NULL);
	for (i = 0; i < MAXROWS + NSNAP; i++) {
		snprintf(ev, sizeof ev, "resolver %zu", i);
		store_snap_event(w, "resolver_disabled", "198.51.100.9:53", ev);
		t0 = now_mono_us();
		if (store_snap_write(w, &e) != 0) {
			fprintf(stderr, "bench-history: %s\n", e.msg);
			return -1;
		}
		if (i >= MAXROWS)
			t[i - MAXROWS] = now_mono_us() - t0;
	}
	qsort(t, NSNAP, sizeof *t, cmp_u64);
	printf("snapshot: %d writes of a 64-resolver status with pruning at "
	       "%d rows: median %llu us, p99 %llu us, max %llu us\n",
	    NSNAP, MAXROWS, (unsigned long long)t[NSNAP / 2],
	    (unsigned long long)t[NSNAP * 99 / 100],
	    (unsigned long long)t[NSNAP - 1]);
	store_snap_free(w);
	ev_loop_free(loop);
	store_close(s);
	free(t);
	return 0;
}

static int
bench_reads(const char *dir)
{
	char path[128];
	struct res_resolver *rs = xcalloc(NRES, sizeof *rs);
	uint64_t tg[REPEATS], tp[REPEATS], t0;
	struct err e = {""};
	struct store *s;
	int64_t run[NRUNS];
	size_t i, n = 0;
	int k;

	snprintf(path, sizeof path, "%s/read.db", dir);
	if ((s = store_open(path, &e)) == NULL)
		goto fail;
	for (k = 0; k < NRUNS; k++) {
		for (i = 0; i < NRES; i++) {
			res_resolver_init(&rs[i]);
			snprintf(rs[i].addr, sizeof rs[i].addr,
			    "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
			snprintf(
			    rs[i].domain, sizeof rs[i].domain, "t.example");
			/* 10 % pass, a different tenth in every run. */
			rs[i].verdict = (i + (size_t)k) % 10 == 0 ?
			    RES_VERDICT_OK :
			    RES_VERDICT_FAIL;
			rs[i].reason = rs[i].verdict == RES_VERDICT_OK ?
			    RES_R_OK :
			    RES_R_TIMEOUT;
			rs[i].upload_mtu = 100 + k;
			rs[i].at_ms = 1795000000000LL + k * 100000 + (int64_t)i;
			res_textf(rs[i].evidence, sizeof rs[i].evidence,
			    "liveness: timeout after 2 tries of 1500 ms");
		}
		if (store_run_begin(s, "scan", "d", "bench", &run[k], &e) != 0)
			goto fail;
		for (i = 0; i < NRES; i += 500)
			if (store_add_results(s, run[k], rs + i, 500, &e) != 0)
				goto fail;
	}
	for (k = 0; k < REPEATS; k++) {
		n = 0;
		t0 = now_mono_us();
		if (store_good(s, 0, count_good, &n, &e) != 0)
			goto fail;
		tg[k] = now_mono_us() - t0;
		t0 = now_mono_us();
		if (store_run_pairs(s, run[NRUNS - 2], run[NRUNS - 1],
			count_pair, &n, &e) != 0)
			goto fail;
		tp[k] = now_mono_us() - t0;
	}
	qsort(tg, REPEATS, sizeof *tg, cmp_u64);
	qsort(tp, REPEATS, sizeof *tp, cmp_u64);
	printf("read-back over %d results (%d runs): last-known-good %llu ms, "
	       "two runs side by side %llu ms (median of %d)\n",
	    NRUNS * NRES, NRUNS, (unsigned long long)tg[REPEATS / 2] / 1000,
	    (unsigned long long)tp[REPEATS / 2] / 1000, REPEATS);
	store_close(s);
	free(rs);
	return 0;
fail:
	fprintf(stderr, "bench-history: %s\n", e.msg);
	store_close(s);
	free(rs);
	return -1;
}

int
main(void)
{
	char dir[] = "/tmp/bench-history-XXXXXX";
	int rc = 0;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (bench_snapshots(dir) != 0 || bench_reads(dir) != 0)
		rc = 1;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
