/* SPDX-License-Identifier: MIT */
/*
 * scan-report.h — what `scan` makes of a finished run (docs/probes.md,
 * "Output"): the survivors ranked best first, the diagnosis of the first
 * stage that passed nobody, the client_resolvers.txt for the MasterDnsVPN
 * client, the run's verdict, and the counters file. The CLI feeds it the
 * run's results as the store returns them (a resumed run reports
 * everything) and decides where the text goes; nothing here reads the
 * store or writes to stdout on its own.
 */
#ifndef MDNS_SCAN_REPORT_H
#define MDNS_SCAN_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "common/result.h"
#include "common/util.h"
#include "probe/scan.h"

#define SCAN_DIAG_EXAMPLE 160

struct scan_report {
	/* Survivors (verdict ok or degraded); best first after rank, the
	 * degraded ones after every ok one. */
	struct res_resolver *ok;
	size_t nok, okcap;
	size_t ndegraded; /* of the survivors, degraded */
	size_t naffected; /* results interception can affect (port 53,
			     not loopback) */
	uint64_t nres;	  /* results taken */
	/* Failures per (stage, reason), one example of evidence each. */
	uint32_t n[RES_STAGE_COUNT][RES_R_COUNT];
	char ex[RES_STAGE_COUNT][RES_R_COUNT][SCAN_DIAG_EXAMPLE];
};

struct scan_report *scan_report_new(void);
void scan_report_free(struct scan_report *rp);

/*
 * Take one result: a survivor (ok or degraded) is kept for ranking
 * (returns 1), a failure is counted for the diagnosis (returns 0).
 */
int scan_report_add(struct scan_report *rp, const struct res_resolver *r);

/*
 * Best first: ok before degraded; then larger upload MTU, larger download
 * MTU, lower loss, lower RTT, then address order (so equal runs rank
 * equally).
 */
void scan_report_rank(struct scan_report *rp);

/*
 * Explain the first stage that was tested and passed nobody: its reasons
 * with counts and one example each, the direct server check for reach
 * (env, from scan_env_evidence), the method for key_or_method_wrong; and
 * a note when no key was given. Writes to f (nothing when all is well).
 */
void scan_report_diagnose(const struct scan_report *rp, FILE *f,
    const struct res_run *run, const struct scan_opts *o, const char *env);

/*
 * Write the survivors as a client_resolvers.txt (IP, IP:PORT or
 * [v6]:PORT, one per address, best first; degraded ones only with
 * with_degraded) headed by comment lines with the MTU range that keeps
 * every listed resolver; by names the writer ("scan", "history good").
 * An MTU at the top of the search range o used is
 * written as "N or more" with how to raise the ceiling. 0, or -1 with e
 * set.
 */
int scan_report_write_resolvers(const struct scan_report *rp, const char *path,
    const struct scan_opts *o, int with_degraded, const char *by,
    struct err *e);

/*
 * The run's verdict: FAIL when nobody passed, WARN when the survivors are
 * all degraded or something needs a look (warnings != 0: interception
 * that can affect a listed resolver, a silent server, bad list lines), OK
 * otherwise.
 */
enum res_verdict scan_report_verdict(
    const struct scan_report *rp, int warnings);

/*
 * The security finding of the scan's encryption method (method_finding,
 * common/method.h: 0 CRITICAL, 1 and 2 WARNING) as a check of the run,
 * so the sinks show it (text check table, json/jsonl) and the history
 * keeps it: kind security, subject DATA_ENCRYPTION_METHOD, verdict fail
 * (0) or warn (1, 2), reason weak_method, the finding's line as detail.
 * Returns 1 when c was filled, 0 for a method that is not weak. It does
 * not change the scan's exit code (that judges the resolvers).
 */
int scan_report_method_check(int method, struct res_check *c);

/*
 * The scan's counters (total, done, passed, sent, received, stray, peaks)
 * and the wall time as one JSON object on one line in path (--stats; read
 * by bench-scan). 0, or -1 with e set.
 */
int scan_write_stats(
    const struct scan *s, const char *path, uint64_t wall_ms, struct err *e);

#endif
