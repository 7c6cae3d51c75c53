/* SPDX-License-Identifier: MIT */
/*
 * dns-cache.h — the DNS answer cache of DNS through the tunnel, with
 * upstream MasterDnsVPN's semantics (internal/dnscache), used by the
 * client's local listener and by the server in front of its upstream
 * resolvers:
 *
 *   - key: QTYPE ‖ QCLASS ‖ question name as upstream reads it (lower
 *     case), so "WWW.Example" and "www.example" share an entry;
 *   - size: 32 shards by FNV-1a of the key, each holding at most
 *     max_records / 32 (at least 1) entries, least recently used first
 *     out; pending entries count too;
 *   - age: an answer expires ttl after it was last *used* (every hit
 *     renews it), whatever the record TTLs say; pending entries never
 *     expire, they are re-sent after pending_timeout;
 *   - every answer is kept, NXDOMAIN, SERVFAIL and NOTIMP included;
 *   - a hit returns the stored answer with the query's id and RD/CD bits;
 *     record TTLs are not decremented;
 *   - persistence in upstream's file format ("DNSC", version 1), written
 *     atomically, read tolerantly (a corrupt file is counted and ignored).
 *
 * Time comes in as now_us (monotonic microseconds); the file stores Unix
 * seconds, so save and load also take the wall clock. Not thread safe.
 */
#ifndef MDNS_DNS_CACHE_H
#define MDNS_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "proto/dnstun.h"

#define DNSCACHE_SHARDS 32

struct dnscache;

/*
 * max_records: LOCAL_DNS_CACHE_MAX_RECORDS (client) or
 * DNS_CACHE_MAX_RECORDS (server). ttl_us: LOCAL_DNS_CACHE_TTL_SECONDS or
 * DNS_CACHE_TTL_SECONDS, 0 = 1 h (upstream). pending_timeout_us:
 * LOCAL_DNS_PENDING_TIMEOUT_SECONDS, 0 = 30 s (upstream).
 */
struct dnscache_cfg {
	size_t max_records;
	uint64_t ttl_us;
	uint64_t pending_timeout_us;
};

/* Client defaults: 10000 records, 14400 s, pending 300 s. */
void dnscache_cfg_client(struct dnscache_cfg *c);
/* Server defaults: 50000 records, 300 s (pending unused). */
void dnscache_cfg_server(struct dnscache_cfg *c);

enum dnscache_res {
	DNSCACHE_MISS = 0, /* nothing usable */
	DNSCACHE_HIT,	   /* the answer is in out */
	DNSCACHE_PENDING,  /* already asked, not answered yet: wait */
	DNSCACHE_DISPATCH, /* now pending: send the query (again) */
};

struct dnscache_stats {
	uint64_t hits, misses;
	uint64_t stored;	/* answers stored (dnscache_put) */
	uint64_t evicted;	/* entries dropped for size */
	uint64_t expired;	/* answers found expired */
	uint64_t dispatch;	/* DNSCACHE_DISPATCH verdicts */
	uint64_t redispatch;	/* ... of them for a pending timeout */
	uint64_t refused;	/* answers not stored (too short) or too big */
	uint64_t loaded, saved; /* entries read / written by load / save */
	uint64_t load_errors;	/* unreadable files ignored */
	uint64_t load_skipped;	/* readable entries dropped (bad, expired) */
	uint64_t save_errors;
};

/* max_records is raised to 1. Never NULL. */
struct dnscache *dnscache_new(const struct dnscache_cfg *c);
void dnscache_free(struct dnscache *c);

/*
 * Server lookup (upstream GetReady): an unexpired answer for q goes to
 * out, patched for query[0..qlen) (its id, its RD/CD), and renews the
 * entry: DNSCACHE_HIT. Otherwise DNSCACHE_MISS (an expired entry is
 * removed; out smaller than the answer counts as a miss).
 */
enum dnscache_res dnscache_get(struct dnscache *c,
    const struct dnstun_question *q, const uint8_t *query, size_t qlen,
    uint64_t now_us, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Client lookup (upstream LookupOrCreatePending): DNSCACHE_HIT as above;
 * DNSCACHE_DISPATCH when there was nothing (a pending entry is created) or
 * the pending entry was last sent pending_timeout or more ago; else
 * DNSCACHE_PENDING.
 */
enum dnscache_res dnscache_lookup(struct dnscache *c,
    const struct dnstun_question *q, const uint8_t *query, size_t qlen,
    uint64_t now_us, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Store an answer for q (upstream SetReady): kept with id 0, replacing a
 * pending or older entry. Answers shorter than a DNS header or longer
 * than 65535 bytes are not stored.
 */
void dnscache_put(struct dnscache *c, const struct dnstun_question *q,
    const uint8_t *ans, size_t len, uint64_t now_us);

/* Remove q's entry, pending or not. */
void dnscache_forget(struct dnscache *c, const struct dnstun_question *q);
/* Remove every pending entry (new session: nothing is in flight). */
void dnscache_clear_pending(struct dnscache *c);

/* Entries held, and how many of them are pending. */
size_t dnscache_count(const struct dnscache *c);
size_t dnscache_pending(const struct dnscache *c);
const struct dnscache_stats *dnscache_stats(const struct dnscache *c);

/*
 * Write every unexpired answer to path in upstream's format, through
 * path.tmp (mode 0600), fsync and rename; the directory is created (0700)
 * if missing. Does nothing when nothing changed since the last save or
 * load (*saved = 0). 0, or -1 with e set (counted in save_errors).
 */
int dnscache_save(struct dnscache *c, const char *path, uint64_t now_us,
    int64_t wall_s, size_t *saved, struct err *e);

/*
 * Replace the contents with path's answers that are not expired. A
 * missing file is not an error (*loaded = 0). A file that is not a cache
 * file or is cut inside an entry is ignored whole: the cache is left as
 * it was, load_errors counts it and -1 comes back with e set. Entries
 * whose key disagrees with their name, type and class, or whose answer is
 * not a DNS response, are skipped (load_skipped).
 */
int dnscache_load(struct dnscache *c, const char *path, uint64_t now_us,
    int64_t wall_s, size_t *loaded, struct err *e);

/* dnscache_load on bytes already read (the parser, fuzzed on its own);
 * e has no file name. */
int dnscache_load_mem(struct dnscache *c, const uint8_t *buf, size_t len,
    uint64_t now_us, int64_t wall_s, size_t *loaded, struct err *e);

/*
 * The default file: $XDG_STATE_HOME/mdns-doctor/local_dns_cache.bin (see
 * common/path.h; upstream keeps it next to its config file). malloc'd,
 * or NULL with e set.
 */
char *dnscache_default_path(struct err *e);

#endif
