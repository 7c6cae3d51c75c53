/* SPDX-License-Identifier: MIT */
/*
 * test-dns-cache.c — engine/dns-cache against upstream's dnscache rules:
 * key folding, sliding expiry, pending and re-dispatch, negative answers,
 * the id/RD/CD rewrite without TTL changes, sharded LRU eviction (shards
 * computed here independently), and the DNSC v1 file: round trip, a file
 * written by hand to upstream's layout, wall-clock ageing, and corrupt
 * files ignored and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/dns-cache.h"
#include "proto/dnstun.h"
#include "tests/tap.h"

#define S 1000000ULL

static char dir[200];

/* A query and an answer for name/type; rcode in the answer. */
static size_t
mk(uint8_t *b, const char *name, uint16_t type, uint16_t id, int answer,
    unsigned rcode)
{
	size_t o = 12, l;
	const char *p = name, *dot;

	memset(b, 0, 12);
	be16_store(b, id);
	be16_store(b + 2, answer ? (uint16_t)(0x8580 | rcode) : 0x0100);
	be16_store(b + 4, 1);
	while (*p) {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		b[o++] = (uint8_t)l;
		memcpy(b + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	be16_store(b + o, type);
	be16_store(b + o + 2, 1);
	o += 4;
	if (answer && rcode == 0) {
		be16_store(b + 6, 1);
		memcpy(
		    b + o, "\xc0\x0c\0\1\0\1\0\0\1\x2c\0\4\xc6\x33\x64\7", 16);
		o += 16;
	}
	return o;
}

static void
q_of(const uint8_t *m, size_t n, struct dnstun_question *q)
{
	struct dnstun_req r;

	if (dnstun_msg_parse(m, n, &r) != DNSTUN_REQ_OK)
		abort();
	*q = r.q;
}

static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static unsigned
shard_of(const char *name, uint16_t type)
{
	uint8_t k[600];
	size_t l = strlen(name);

	be16_store(k, type);
	be16_store(k + 2, 1);
	memcpy(k + 4, name, l);
	return fnv(k, 4 + l) & 31;
}

static void
test_semantics(void)
{
	struct dnscache_cfg cfg = {64, 100 * S, 30 * S};
	struct dnscache *c = dnscache_new(&cfg);
	const struct dnscache_stats *st = dnscache_stats(c);
	struct dnstun_question q;
	uint8_t qm[512], am[512], out[DNSTUN_MSG_MAX];
	size_t qn, an, on;

	qn = mk(qm, "WWW.Dns.Example", 1, 0x4006, 0, 0);
	an = mk(am, "www.dns.example", 1, 0x4000, 1, 0);
	q_of(qm, qn, &q);
	tap_is_int(dnscache_get(c, &q, qm, qn, 0, out, sizeof out, &on),
	    DNSCACHE_MISS, "empty: miss");
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 0);
	q_of(qm, qn, &q);
	tap_is_int(dnscache_get(c, &q, qm, qn, 10 * S, out, sizeof out, &on),
	    DNSCACHE_HIT, "mixed-case question hits the lower-case entry");
	tap_ok(on == an && be16_load(out) == 0x4006 &&
		be16_load(out + 2) == 0x8580 &&
		memcmp(out + 4, am + 4, an - 4) == 0,
	    "hit: the query's id, everything else (TTL 300) unchanged");
	qm[2] = 0x00;
	qm[3] = 0x10;
	dnscache_get(c, &q, qm, qn, 10 * S, out, sizeof out, &on);
	tap_is_int(be16_load(out + 2), 0x8490, "hit: RD and CD from the query");
	qm[2] = 0x01;
	qm[3] = 0;

	/* sliding expiry: each hit renews for ttl (upstream LastUsedAt) */
	tap_is_int(dnscache_get(c, &q, qm, qn, 109 * S, out, sizeof out, &on),
	    DNSCACHE_HIT, "hit 99 s after the last use");
	tap_is_int(dnscache_get(c, &q, qm, qn, 208 * S, out, sizeof out, &on),
	    DNSCACHE_HIT, "hit 208 s after storing: renewed by use");
	tap_is_int(dnscache_get(c, &q, qm, qn, 308 * S, out, sizeof out, &on),
	    DNSCACHE_MISS, "100 s unused: expired");
	tap_ok(st->expired == 1 && dnscache_count(c) == 0,
	    "expired entry removed, counted");

	/* client: pending and re-dispatch */
	tap_is_int(
	    dnscache_lookup(c, &q, qm, qn, 400 * S, out, sizeof out, &on),
	    DNSCACHE_DISPATCH, "lookup miss: dispatch");
	tap_is_int(
	    dnscache_lookup(c, &q, qm, qn, 429 * S, out, sizeof out, &on),
	    DNSCACHE_PENDING, "29 s later: pending, do not send again");
	tap_is_int(
	    dnscache_lookup(c, &q, qm, qn, 430 * S, out, sizeof out, &on),
	    DNSCACHE_DISPATCH, "pending timeout: send again");
	tap_is_int(
	    dnscache_lookup(c, &q, qm, qn, 1000 * S, out, sizeof out, &on),
	    DNSCACHE_DISPATCH, "a pending entry never expires, it re-sends");
	tap_ok(dnscache_pending(c) == 1 && st->redispatch == 2,
	    "one pending entry, two re-dispatches counted");
	tap_is_int(dnscache_get(c, &q, qm, qn, 1000 * S, out, sizeof out, &on),
	    DNSCACHE_MISS, "server lookup of a pending entry: miss");
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 1001 * S);
	tap_ok(dnscache_pending(c) == 0 &&
		dnscache_lookup(c, &q, qm, qn, 1002 * S, out, sizeof out,
		    &on) == DNSCACHE_HIT,
	    "answer stored: pending cleared, hit");
	dnscache_lookup(c, &q, qm, qn, 1002 * S, out, sizeof out, &on);

	/* negative answers are kept like any other */
	an = mk(am, "nx.dns.example", 1, 0x4004, 1, 3);
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 1003 * S);
	qn = mk(qm, "nx.dns.example", 1, 0x0101, 0, 0);
	tap_ok(dnscache_get(c, &q, qm, qn, 1004 * S, out, sizeof out, &on) ==
		    DNSCACHE_HIT &&
		(be16_load(out + 2) & 15) == 3,
	    "NXDOMAIN cached");
	an = mk(am, "sf.dns.example", 1, 1, 1, 2);
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 1003 * S);
	tap_is_int(dnscache_get(c, &q, qm, qn, 1004 * S, out, sizeof out, &on),
	    DNSCACHE_HIT, "SERVFAIL cached (upstream keeps every answer)");
	tap_is_int(dnscache_get(c, &q, qm, qn, 1004 * S, out, 10, &on),
	    DNSCACHE_MISS, "out too small: miss");
	dnscache_put(c, &q, am, 11, 1005 * S);
	tap_is_int(st->refused, 1, "an 11-byte answer is not stored");

	/* type is part of the key */
	an = mk(am, "www.dns.example", 28, 1, 1, 0);
	q_of(am, an, &q);
	tap_is_int(dnscache_get(c, &q, am, an, 1004 * S, out, sizeof out, &on),
	    DNSCACHE_MISS, "AAAA is another entry than A");
	dnscache_lookup(c, &q, am, an, 1004 * S, out, sizeof out, &on);
	dnscache_clear_pending(c);
	tap_is_int(dnscache_pending(c), 0, "clear_pending");
	q_of(am, an, &q);
	q.qtype = 1;
	dnscache_forget(c, &q);
	tap_is_int(dnscache_get(c, &q, am, an, 1004 * S, out, sizeof out, &on),
	    DNSCACHE_MISS, "forget");
	dnscache_free(c);
}

static void
test_eviction(void)
{
	struct dnscache_cfg cfg = {64, 1000 * S, 30 * S};
	struct dnscache *c = dnscache_new(&cfg);
	struct dnstun_question q;
	char names[3][32];
	uint8_t am[512], out[DNSTUN_MSG_MAX];
	size_t an, on, i;
	unsigned sh = 99, found = 0;

	/* three names in one shard: shard cap is 64 / 32 = 2 */
	for (i = 0; found < 3 && i < 100000; i++) {
		char n[32];

		snprintf(n, sizeof n, "h%zu.example", i);
		if (sh == 99)
			sh = shard_of(n, 1);
		if (shard_of(n, 1) == sh)
			memcpy(names[found++], n, sizeof n);
	}
	for (i = 0; i < 2; i++) {
		an = mk(am, names[i], 1, 0, 1, 0);
		q_of(am, an, &q);
		dnscache_put(c, &q, am, an, i * S);
	}
	an = mk(am, names[0], 1, 0, 1, 0);
	q_of(am, an, &q);
	dnscache_get(c, &q, am, an, 5 * S, out, sizeof out, &on);
	an = mk(am, names[2], 1, 0, 1, 0);
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 6 * S);
	an = mk(am, names[1], 1, 0, 1, 0);
	q_of(am, an, &q);
	tap_is_int(dnscache_get(c, &q, am, an, 7 * S, out, sizeof out, &on),
	    DNSCACHE_MISS, "shard full: its least recently used entry went");
	an = mk(am, names[0], 1, 0, 1, 0);
	q_of(am, an, &q);
	tap_is_int(dnscache_get(c, &q, am, an, 7 * S, out, sizeof out, &on),
	    DNSCACHE_HIT, "... the recently used one stayed");
	tap_is_int(dnscache_stats(c)->evicted, 1, "one eviction counted");
	for (i = 0; i < 5000; i++) {
		char n[32];

		snprintf(n, sizeof n, "fill%zu.example", i);
		an = mk(am, n, 1, 0, 1, 0);
		q_of(am, an, &q);
		dnscache_put(c, &q, am, an, 10 * S);
	}
	tap_is_int(dnscache_count(c), 64, "never more than 32 x 2 entries");
	dnscache_free(c);

	cfg.max_records = 5; /* shard cap 1: up to 32 entries (upstream) */
	c = dnscache_new(&cfg);
	for (i = 0; i < 5000; i++) {
		char n[32];

		snprintf(n, sizeof n, "fill%zu.example", i);
		an = mk(am, n, 1, 0, 1, 0);
		q_of(am, an, &q);
		dnscache_lookup(c, &q, am, an, 10 * S, out, sizeof out, &on);
	}
	tap_ok(dnscache_count(c) == 32 && dnscache_pending(c) == 32,
	    "max 5 records: one per shard, 32 in all; pending ones count");
	dnscache_free(c);
}

static int
write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	fwrite(p, 1, n, f);
	return fclose(f);
}

/* One entry in upstream's writeBinaryEntry layout. */
static size_t
up_entry(uint8_t *b, const char *name, uint16_t type, const uint8_t *resp,
    size_t rlen, int64_t created, int64_t used, int bad_key)
{
	size_t l = strlen(name), o = 0;

	be16_store(b, (uint16_t)(4 + l));
	be16_store(b + 2, type);
	be16_store(b + 4, 1);
	memcpy(b + 6, name, l);
	if (bad_key)
		b[6] ^= 1;
	o = 6 + l;
	be16_store(b + o, (uint16_t)l);
	memcpy(b + o + 2, name, l);
	o += 2 + l;
	be16_store(b + o, type);
	be16_store(b + o + 2, 1);
	be16_store(b + o + 4, (uint16_t)rlen);
	memcpy(b + o + 6, resp, rlen);
	o += 6 + rlen;
	be32_store(b + o, (uint32_t)((uint64_t)created >> 32));
	be32_store(b + o + 4, (uint32_t)created);
	be32_store(b + o + 8, (uint32_t)((uint64_t)used >> 32));
	be32_store(b + o + 12, (uint32_t)used);
	return o + 16;
}

static void
test_file(void)
{
	struct dnscache_cfg cfg = {1000, 120 * S, 30 * S};
	struct dnscache *c = dnscache_new(&cfg), *d;
	const struct dnscache_stats *st;
	struct dnstun_question q;
	uint8_t am[512], out[DNSTUN_MSG_MAX], f[4096];
	char path[300], xdg[300], sub[400], *def;
	size_t an, on, saved = 9, loaded = 9, n;
	const int64_t wall = 1700000000;
	struct err e;
	struct stat sb;
	int fd;

	snprintf(path, sizeof path, "%s/state/local_dns_cache.bin", dir);
	tap_ok(dnscache_load(c, path, 0, wall, &loaded, &e) == 0 && loaded == 0,
	    "missing file: nothing loaded, no error");
	an = mk(am, "a.example", 1, 7, 1, 0);
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 1000 * S); /* used 100 s before save */
	an = mk(am, "b.example", 28, 7, 1, 0);
	q_of(am, an, &q);
	dnscache_put(c, &q, am, an, 1090 * S); /* 10 s before save */
	an = mk(am, "p.example", 1, 7, 0, 0);
	q_of(am, an, &q);
	dnscache_lookup(c, &q, am, an, 1100 * S, out, sizeof out, &on);
	tap_ok(dnscache_save(c, path, 1100 * S, wall, &saved, &e) == 0 &&
		saved == 2,
	    "save: two answers (pending not written), directory created");
	snprintf(sub, sizeof sub, "%s.tmp", path);
	tap_ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600 &&
		access(sub, F_OK) != 0,
	    "file mode 0600, no temporary left");
	tap_ok(dnscache_save(c, path, 1100 * S, wall, &saved, &e) == 0 &&
		saved == 0,
	    "nothing changed: no write");
	fd = open(path, O_RDONLY);
	n = (size_t)read(fd, f, sizeof f);
	close(fd);
	tap_ok(n > 10 && memcmp(f, "DNSC\0\1\0\0\0\2", 10) == 0,
	    "upstream header: DNSC, version 1, count 2");

	d = dnscache_new(&cfg);
	st = dnscache_stats(d);
	tap_ok(dnscache_load(d, path, 5 * S, wall + 25, &loaded, &e) == 0 &&
		loaded == 1 && st->load_skipped == 1,
	    "load 25 s later: a (125 s unused) expired, b (35 s) kept");
	an = mk(am, "b.example", 28, 0x99, 0, 0);
	q_of(am, an, &q);
	tap_is_int(dnscache_get(d, &q, am, an, 90 * S, out, sizeof out, &on),
	    DNSCACHE_MISS, "b keeps its age: 35 + 85 s = 120 s, expired");
	dnscache_load(d, path, 5 * S, wall + 25, &loaded, &e);
	tap_ok(dnscache_get(d, &q, am, an, 89 * S, out, sizeof out, &on) ==
		    DNSCACHE_HIT &&
		be16_load(out) == 0x99,
	    "... and is a hit one second earlier, with the new id");

	/* corrupt files: ignored whole, counted, the cache left as it was */
	write_file(path, (const uint8_t *)"garbage!garbage!", 16);
	tap_ok(dnscache_load(d, path, 89 * S, wall + 25, &loaded, &e) == -1 &&
		st->load_errors == 1 && strstr(e.msg, "magic") != NULL &&
		dnscache_count(d) == 1,
	    "bad magic: -1 (%s), counted, cache unchanged", e.msg);
	write_file(path, (const uint8_t *)"", 0);
	tap_ok(dnscache_load(d, path, 89 * S, wall + 25, &loaded, &e) == -1 &&
		st->load_errors == 2,
	    "empty file: ignored, counted");
	write_file(path, f, n - 5);
	tap_ok(dnscache_load(d, path, 89 * S, wall + 25, &loaded, &e) == -1 &&
		strstr(e.msg, "cut off") != NULL && dnscache_count(d) == 1,
	    "entry cut off: ignored whole (%s)", e.msg);
	f[5] = 2;
	write_file(path, f, n);
	tap_ok(dnscache_load(d, path, 89 * S, wall + 25, &loaded, &e) == -1 &&
		strstr(e.msg, "version") != NULL,
	    "version 2: ignored");
	f[5] = 1;
	f[9] = 7;
	write_file(path, f, n);
	tap_ok(dnscache_load(d, path, 89 * S, wall + 25, &loaded, &e) == 0 &&
		loaded == 1,
	    "count 7 but 2 whole entries: loaded (upstream stops at EOF)");
	dnscache_free(d);

	/* a file in upstream's layout, written here by hand */
	an = mk(am, "www.dns.example", 1, 0, 1, 0);
	saved = an;
	memcpy(f, "DNSC\0\1\0\0\0\3", 10);
	n = 10;
	n += up_entry(
	    f + n, "www.dns.example", 1, am, an, wall - 50, wall - 5, 0);
	n += up_entry(f + n, "x.dns.example", 1, am, an, wall, wall, 1);
	am[2] = 0x01; /* not a response */
	n += up_entry(f + n, "y.dns.example", 1, am, an, wall, wall, 0);
	am[2] = 0x85;
	write_file(path, f, n);
	d = dnscache_new(&cfg);
	st = dnscache_stats(d);
	tap_ok(dnscache_load(d, path, 0, wall, &loaded, &e) == 0 &&
		loaded == 1 && st->load_skipped == 2,
	    "upstream-layout file: 1 entry, key mismatch and non-answer "
	    "skipped");
	an = mk(am, "WWW.dns.example", 1, 0x4006, 0, 0);
	q_of(am, an, &q);
	tap_ok(dnscache_lookup(d, &q, am, an, 0, out, sizeof out, &on) ==
		    DNSCACHE_HIT &&
		be16_load(out) == 0x4006 && on == saved,
	    "... and answers");
	dnscache_free(d);

	/* default path under XDG_STATE_HOME, directories created */
	snprintf(xdg, sizeof xdg, "%s/xdg", dir);
	setenv("XDG_STATE_HOME", xdg, 1);
	def = dnscache_default_path(&e);
	dnscache_put(c, &q, out, on, 1200 * S);
	snprintf(sub, sizeof sub, "%s/mdns-doctor/local_dns_cache.bin", xdg);
	tap_is_str(def, sub, "default path in the XDG state directory");
	tap_ok(dnscache_save(c, def, 1200 * S, wall, &saved, &e) == 0 &&
		saved >= 1 && stat(def, &sb) == 0,
	    "save to the default path creates its directories");
	free(def);
	snprintf(sub, sizeof sub, "%s/state/local_dns_cache.bin/x.bin", dir);
	st = dnscache_stats(c);
	dnscache_put(c, &q, out, on, 1201 * S);
	tap_ok(dnscache_save(c, sub, 1200 * S, wall, &saved, &e) == -1 &&
		st->save_errors == 1,
	    "unwritable place: -1 (%s), counted", e.msg);

	/* Another user's PATH.tmp planted in a sticky, world-writable
	 * directory is neither written nor renamed into place. */
	snprintf(sub, sizeof sub, "%s/sticky", dir);
	if (mkdir(sub, 01777) == 0 && chmod(sub, 01777) == 0 &&
	    geteuid() == 0) {
		char planted[1100], target[1000];
		int pfd;

		snprintf(target, sizeof target, "%s/cache.bin", sub);
		snprintf(planted, sizeof planted, "%s.tmp", target);
		pfd = open(planted, O_WRONLY | O_CREAT | O_EXCL, 0666);
		if (pfd >= 0) {
			if (fchown(pfd, 65534, 65534) != 0)
				tap_diag("fchown: %s", strerror(errno));
			close(pfd);
		}
		tap_ok(dnscache_save(c, target, 1200 * S, wall, &saved, &e) ==
			    -1 &&
			stat(target, &sb) != 0,
		    "a planted PATH.tmp of another user is refused (%s)",
		    e.msg);
		unlink(planted);
	} else {
		tap_ok(1, "# SKIP not root: cannot plant another user's file");
	}
	dnscache_free(c);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int
main(void)
{
	if (mkdtemp(tap_tmppath(dir, sizeof dir, "test-dns-cache-XXXXXX")) ==
	    NULL) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	test_semantics();
	test_eviction();
	test_file();
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	tap_ok(access(dir, F_OK) != 0, "temporary directory removed");
	return tap_done();
}
