/* SPDX-License-Identifier: MIT */
/*
 * scan-resume.h — how `scan --resume` continues an interrupted scan
 * (docs/probes.md, "Order, store and resume"): what identifies "the same
 * scan" (a digest of the arguments without --resume), which stored run
 * may be continued, the checks on its stored progress (the seed, the item
 * count the permutation was built for), and the set of items already
 * stored, which the scan skips. The CLI reads the store and hands the
 * facts in; nothing here touches the store or prints.
 */
#ifndef MDNS_SCAN_RESUME_H
#define MDNS_SCAN_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "common/hmap.h"
#include "common/net.h"
#include "common/result.h"
#include "common/util.h"
#include "probe/scan.h"

/*
 * The scan's identity (res_args_digest of a canonical text): the lists
 * (resolved paths), domains, key fingerprint, method, response mode, last
 * stage, burst size, liveness name, every stage's timeout and tries, MTU
 * ranges, pace, the env probes, the loss probes and threshold. Two runs
 * with the same digest are the same scan, however they were displayed
 * (--format, --progress, -q, colour, --all, --stats, --write-resolvers)
 * or paced overall (--rate, --parallel, --hs-parallel); the seed is
 * checked apart (scan_resume_seed). key_fp may be "" (no key).
 */
void scan_identity_digest(const struct scan_opts *o, char *const *lists,
    size_t nlists, const char *key_fp, char *out, size_t len);

/*
 * May the last stored run with our digest be continued? found is 0 when
 * there is none; status is its status. 0, or -1 with e set ("--resume: no
 * interrupted scan with these arguments in DBPATH").
 */
int scan_resume_check_run(
    int found, const char *status, const char *dbpath, struct err *e);

/*
 * The seed to continue with: the stored one. A --seed given (seed_given)
 * that differs is refused. 0, or -1 with e set.
 */
int scan_resume_seed(
    uint64_t stored, int seed_given, uint64_t *seed, struct err *e);

/*
 * The shuffle depends on the item count: a list whose count differs from
 * the stored one cannot be continued. 0, or -1 with e set.
 */
int scan_resume_check_total(uint64_t stored, uint64_t now, struct err *e);

/*
 * Items already stored, by address, port and domain. A zeroed struct is
 * an empty set.
 */
struct scan_skipset {
	struct hmap_strset set; /* "address|port|domain" */
};

/* "address|port|domain" fits: address text, port, '|' twice, a name. */
#define SCAN_SKIP_KEY_MAX (RES_ADDR_MAX + 8 + RES_DOMAIN_MAX)

/* Remember a stored result's item (once, however often it is given). */
void scan_skip_add(struct scan_skipset *k, const struct res_resolver *r);
/* How many distinct items are remembered. */
size_t scan_skip_count(const struct scan_skipset *k);
/* Is the item (address with port, domain) stored? 1 or 0. */
int scan_skip_has(
    const struct scan_skipset *k, const union net_addr *a, const char *domain);
void scan_skip_free(struct scan_skipset *k);

#endif
