/* SPDX-License-Identifier: MIT */
/*
 * test-scan-report.c — what `scan` decides after and around a run, now
 * testable without a scan: ranking (upload, download, RTT, address), the
 * verdict, the diagnosis of the first stage that passed nobody (with the
 * method for a wrong key and the direct server check for reach), the
 * client_resolvers.txt (MTU header, one line per address, IPv6 in
 * brackets, read back by the list reader), and the resume policy (which
 * run, seed, item count) with the skip set across its growth.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/resolvers.h"
#include "probe/scan-report.h"
#include "probe/scan-resume.h"
#include "tests/tap.h"

static struct res_resolver
res(const char *addr, unsigned port, int up, int down, int64_t rtt)
{
	struct res_resolver r;

	res_resolver_init(&r);
	snprintf(r.addr, sizeof r.addr, "%s", addr);
	r.port = (uint16_t)port;
	snprintf(r.domain, sizeof r.domain, "t.example");
	r.stage = RES_STAGE_HANDSHAKE;
	r.verdict = RES_VERDICT_OK;
	r.upload_mtu = up;
	r.download_mtu = down;
	r.rtt_us = rtt;
	return r;
}

static struct res_resolver
failed(const char *addr, enum res_stage st, enum res_reason why)
{
	struct res_resolver r = res(addr, 53, 0, 0, -1);

	r.stage = st;
	r.verdict = RES_VERDICT_FAIL;
	r.reason = why;
	snprintf(r.evidence, sizeof r.evidence, "evidence of %s", addr);
	return r;
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Loss and ceilings (issue 11): a degraded resolver ranks after every ok
 * one whatever its MTU, is left out of client_resolvers.txt unless asked
 * (and the file says so), an all-degraded run is a warning, and a maximum
 * at the top of the search range is written as "N or more" with the
 * option that raises it.
 */
static void
check_degraded(const struct scan_opts *o)
{
	struct scan_report *rp = scan_report_new();
	char path[] = "/tmp/test-scan-report.XXXXXX", *text;
	struct res_resolver r;
	struct err e = {""};
	int fd;

	r = res("10.0.2.1", 53, 150, 500, 1000);
	r.verdict = RES_VERDICT_DEGRADED;
	r.reason = RES_R_LOSS;
	r.probes = 30;
	r.lost = 9;
	scan_report_add(rp, &r);
	tap_is_int(scan_report_verdict(rp, 0), RES_VERDICT_WARN,
	    "only degraded survivors: warn");
	r = res("10.0.2.2", 53, 100, 500, 9000);
	r.probes = 30;
	r.lost = 1;
	r.down_at_ceiling = RES_TRI_YES;
	scan_report_add(rp, &r);
	r = res("10.0.2.3", 53, 100, 500, 8000);
	r.probes = 30;
	r.lost = 0;
	r.down_at_ceiling = RES_TRI_YES;
	scan_report_add(rp, &r);
	scan_report_rank(rp);
	tap_ok(rp->nok == 3 && rp->ndegraded == 1 &&
		strcmp(rp->ok[0].addr, "10.0.2.3") == 0 &&
		strcmp(rp->ok[1].addr, "10.0.2.2") == 0 &&
		strcmp(rp->ok[2].addr, "10.0.2.1") == 0,
	    "ranked: ok before degraded, then lower loss first");
	tap_is_int(
	    scan_report_verdict(rp, 0), RES_VERDICT_OK, "an ok survivor: ok");
	if ((fd = mkstemp(path)) == -1) {
		tap_ok(0, "temp file: %s", strerror(errno));
		scan_report_free(rp);
		return;
	}
	close(fd);
	scan_report_write_resolvers(rp, path, o, 0, "scan", &e);
	text = slurp(path);
	tap_ok(strstr(text, "2 resolver(s)") != NULL &&
		strstr(text, "1 degraded resolver(s) left out") != NULL &&
		strstr(text, "10.0.2.1") == NULL &&
		strstr(text, "# MAX_UPLOAD_MTU = 100\n") != NULL,
	    "degraded left out of client_resolvers.txt, and said so");
	tap_ok(strstr(text,
		   "# MAX_DOWNLOAD_MTU = 500 or more: 500 is the top "
		   "of the search range") != NULL &&
		strstr(text, "--down-mtu 100:1000") != NULL,
	    "download ceiling reached: 'or more' and how to raise it");
	scan_report_write_resolvers(rp, path, o, 1, "scan", &e);
	text = slurp(path);
	tap_ok(strstr(text, "3 resolver(s)") != NULL &&
		strstr(text, "\n10.0.2.1\n") != NULL &&
		strstr(text, "# MAX_UPLOAD_MTU = 150\n") != NULL,
	    "with_degraded: listed last");
	unlink(path);
	scan_report_free(rp);
}

static void
check_report(void)
{
	struct scan_report *rp = scan_report_new();
	struct scan_opts o;
	struct res_run run;
	struct res_resolver r;
	char path[4096], *text, *out = NULL;
	size_t len = 0;
	struct rl_reader *rl;
	union net_addr a;
	struct err e = {""};
	FILE *f;
	int fd, n;

	scan_opts_defaults(&o);
	tap_is_int(scan_report_verdict(rp, 0), RES_VERDICT_FAIL,
	    "nobody passed: fail");
	r = res("10.0.0.3", 53, 100, 500, 9000);
	tap_is_int(scan_report_add(rp, &r), 1, "a survivor is kept");
	r = res("10.0.0.1", 5353, 141, 300, 5000);
	scan_report_add(rp, &r);
	r = res("2001:db8::1", 53, 141, 500, 7000);
	scan_report_add(rp, &r);
	r = res("10.0.0.2", 53, 141, 500, 3000);
	scan_report_add(rp, &r);
	r = res("10.0.0.2", 53, 141, 500, 3000);
	snprintf(r.domain, sizeof r.domain, "u.example");
	scan_report_add(rp, &r);
	r = failed("10.0.0.9", RES_STAGE_MTU, RES_R_NAME_CUT);
	tap_is_int(scan_report_add(rp, &r), 0, "a failure is counted");
	scan_report_rank(rp);
	tap_ok(rp->nok == 5 && strcmp(rp->ok[0].addr, "10.0.0.2") == 0 &&
		strcmp(rp->ok[2].addr, "2001:db8::1") == 0 &&
		strcmp(rp->ok[3].addr, "10.0.0.1") == 0 &&
		strcmp(rp->ok[4].addr, "10.0.0.3") == 0,
	    "ranked by upload, download, then RTT");
	tap_is_int(scan_report_verdict(rp, 0), RES_VERDICT_OK, "ok");
	tap_is_int(scan_report_verdict(rp, 1), RES_VERDICT_WARN,
	    "with a warning: warn");

	if ((fd = mkstemp(tap_tmppath(
		 path, sizeof path, "test-scan-report.XXXXXX"))) == -1) {
		tap_ok(0, "temp file: %s", strerror(errno));
		return;
	}
	close(fd);
	tap_is_int(scan_report_write_resolvers(rp, path, &o, 0, "scan", &e), 0,
	    "client_resolvers.txt written");
	text = slurp(path);
	tap_ok(strstr(text,
		   "# client_resolvers.txt written by mdns-doctor "
		   "scan: 4 resolver(s), best first\n") == text,
	    "header: counts the lines written (10.0.0.2 ranks twice)");
	tap_ok(strstr(text,
		   "# MIN_UPLOAD_MTU = 100\n# MAX_UPLOAD_MTU = 141\n"
		   "# MIN_DOWNLOAD_MTU = 300\n"
		   "# MAX_DOWNLOAD_MTU = 500\n") != NULL,
	    "the MTU range that keeps every resolver");
	tap_ok(strstr(text,
		   "\n10.0.0.2\n[2001:db8::1]:53\n10.0.0.1:5353\n"
		   "10.0.0.3\n") != NULL,
	    "best first, one line per address, ports and IPv6 as the reader "
	    "reads them");
	n = 0;
	if (rl_open(path, NULL, &rl, &e) == 0) {
		while (rl_next(rl, &a, &e) == 1)
			n++;
		rl_close(rl);
	}
	tap_is_int(n, 4, "the list reader reads 4 addresses back");
	unlink(path);
	tap_is_int(scan_report_write_resolvers(
		       rp, "/proc/nonexistent/x", &o, 0, "scan", &e),
	    -1, "unwritable path refused");
	tap_ok(strstr(e.msg, "cannot write /proc/nonexistent/x") != NULL,
	    "and named (%s)", e.msg);

	check_degraded(&o);

	/* Diagnosis: mtu tested, nobody passed, mostly a wrong key. */
	scan_report_free(rp);
	rp = scan_report_new();
	r = failed("10.0.1.1", RES_STAGE_MTU, RES_R_KEY_OR_METHOD);
	scan_report_add(rp, &r);
	r = failed("10.0.1.2", RES_STAGE_MTU, RES_R_KEY_OR_METHOD);
	scan_report_add(rp, &r);
	r = failed("10.0.1.3", RES_STAGE_MTU, RES_R_UPLOAD_MTU);
	scan_report_add(rp, &r);
	res_run_init(&run);
	run.stages[RES_STAGE_LIVENESS].tested = 3;
	run.stages[RES_STAGE_LIVENESS].passed = 3;
	run.stages[RES_STAGE_MTU].tested = 3;
	o.method = 5;
	o.key = "k";
	o.domains[0] = "t.example";
	o.ndomains = 1;
	f = open_memstream(&out, &len);
	scan_report_diagnose(rp, f, &run, &o, "");
	fclose(f);
	tap_ok(strstr(out, "diagnosis: stage mtu passed nobody (3 tested)") !=
		NULL,
	    "diagnosis names the stage");
	tap_ok(strstr(out, "  2 × key_or_method_wrong") != NULL &&
		strstr(out, "e.g. 10.0.1.1: evidence of 10.0.1.1") != NULL,
	    "reasons counted with the first example");
	tap_ok(strstr(out, "DATA_ENCRYPTION_METHOD (5)") != NULL,
	    "a wrong key names the method");
	tap_ok(strstr(out, "note: no key") == NULL, "a key was given");
	free(out);
	out = NULL;

	run.stages[RES_STAGE_MTU].tested = 0;
	run.stages[RES_STAGE_REACH].tested = 3;
	o.key = NULL;
	o.have_server = 1;
	f = open_memstream(&out, &len);
	scan_report_diagnose(rp, f, &run, &o, "tunnel server 1.2.3.4 silent");
	fclose(f);
	tap_ok(strstr(out, "stage reach passed nobody") != NULL &&
		strstr(out, "(domain t.example)") != NULL &&
		strstr(out,
		    "direct query to the server: tunnel server "
		    "1.2.3.4 silent") != NULL,
	    "reach: the domain and the direct server check");
	tap_ok(strstr(out, "note: no key given") != NULL, "no key: noted");
	free(out);
	scan_report_free(rp);
}

static void
check_resume(void)
{
	struct scan_skipset k;
	struct res_resolver r = res("10.1.0.0", 53, 0, 0, -1);
	union net_addr a;
	struct err e = {""};
	uint64_t seed = 9;
	char *lists[] = {"l.txt"};
	char d1[RES_DIGEST_MAX], d2[RES_DIGEST_MAX];
	struct scan_opts o1, o2;
	int i, miss = 0;

	memset(&k, 0, sizeof k); /* an empty set */
	/* The identity is what is probed, never how it is shown or paced
	 * overall (issue 11: --resume wanted --progress repeated). */
	scan_opts_defaults(&o1);
	o1.domains[0] = "t.example";
	o1.ndomains = 1;
	o2 = o1;
	o2.seed = 77;
	o2.rate = 9;
	o2.parallel = 3;
	scan_identity_digest(&o1, lists, 1, "sha256:ab", d1, sizeof d1);
	scan_identity_digest(&o2, lists, 1, "sha256:ab", d2, sizeof d2);
	tap_is_str(d1, d2, "seed, rate and parallelism: the same scan");
	o2.max_stage = RES_STAGE_REACH;
	scan_identity_digest(&o2, lists, 1, "sha256:ab", d2, sizeof d2);
	tap_ok(strcmp(d1, d2) != 0, "another last stage: another scan");
	o2 = o1;
	o2.t_mtu.tries = 5;
	scan_identity_digest(&o2, lists, 1, "sha256:ab", d2, sizeof d2);
	tap_ok(strcmp(d1, d2) != 0, "other probe parameters: another scan");
	scan_identity_digest(&o1, lists, 1, "sha256:cd", d2, sizeof d2);
	tap_ok(strcmp(d1, d2) != 0, "another key: another scan");
	tap_is_int(scan_resume_check_run(1, "interrupted", "h.db", &e), 0,
	    "an interrupted run continues");
	tap_is_int(scan_resume_check_run(1, "running", "h.db", &e), 0,
	    "a run that died running continues");
	tap_is_int(scan_resume_check_run(1, "ok", "h.db", &e), -1,
	    "a finished run does not");
	tap_is_str(e.msg,
	    "--resume: no interrupted scan with these arguments in h.db",
	    "and says so");
	tap_is_int(scan_resume_check_run(0, "", "h.db", &e), -1, "nor none");
	tap_is_int(scan_resume_seed(7, 0, &seed, &e), 0, "stored seed taken");
	tap_ok(seed == 7, "seed 7");
	seed = 9;
	tap_is_int(scan_resume_seed(7, 1, &seed, &e), -1,
	    "a different --seed is refused");
	tap_is_int(scan_resume_check_total(300, 299, &e), -1,
	    "another item count is refused");
	tap_is_str(e.msg,
	    "--resume: the list changed (299 items now, 300 when "
	    "interrupted); start a new scan",
	    "with both counts");

	for (i = 0; i < 5000; i++) {
		snprintf(r.addr, sizeof r.addr, "10.1.%d.%d", i / 256, i % 256);
		scan_skip_add(&k, &r);
	}
	scan_skip_add(&k, &r);
	tap_ok(scan_skip_count(&k) == 5000,
	    "5000 stored items, a repeat ignored (%zu)", scan_skip_count(&k));
	for (i = 0; i < 5000; i++) {
		char ip[32];

		snprintf(ip, sizeof ip, "10.1.%d.%d", i / 256, i % 256);
		net_addr_parse(ip, 53, &a, NULL);
		miss += !scan_skip_has(&k, &a, "t.example");
	}
	tap_is_int(miss, 0, "every one found after the table grew");
	net_addr_parse("10.1.0.1", 5353, &a, NULL);
	tap_ok(!scan_skip_has(&k, &a, "t.example"), "another port is not");
	net_addr_parse("10.1.0.1", 53, &a, NULL);
	tap_ok(!scan_skip_has(&k, &a, "u.example"), "nor another domain");
	scan_skip_free(&k);
}

/*
 * One line per address even when its entries are not adjacent after
 * ranking (two domains, or two runs for history), counted once in the
 * header, which names the command that wrote it.
 */
static void
check_dedup(const struct scan_opts *o)
{
	struct scan_report *rp = scan_report_new();
	char path[512], *text, *first;
	struct res_resolver r;
	struct err e = {""};
	int fd;

	r = res("10.0.3.1", 53, 200, 500, 1000);
	scan_report_add(rp, &r);
	r = res("10.0.3.2", 53, 150, 500, 1000);
	scan_report_add(rp, &r);
	r = res("10.0.3.1", 53, 100, 500, 1000);
	snprintf(r.domain, sizeof r.domain, "u.example");
	scan_report_add(rp, &r);
	scan_report_rank(rp);
	if ((fd = mkstemp(tap_tmppath(
		 path, sizeof path, "test-scan-report.XXXXXX"))) == -1) {
		tap_ok(0, "temp file: %s", strerror(errno));
		scan_report_free(rp);
		return;
	}
	close(fd);
	tap_is_int(
	    scan_report_write_resolvers(rp, path, o, 0, "history good", &e), 0,
	    "written");
	text = slurp(path);
	first = strstr(text, "\n10.0.3.1\n");
	tap_ok(first != NULL && strstr(first + 1, "\n10.0.3.1\n") == NULL,
	    "an address ranked twice, apart, is written once");
	tap_ok(
	    strstr(text,
		"written by mdns-doctor history good: 2 resolver(s)") != NULL,
	    "the header names the writer and counts addresses, not entries");
	tap_ok(first != NULL && strstr(text, "\n10.0.3.2\n") > first,
	    "at its best rank");
	unlink(path);
	scan_report_free(rp);
}

int
main(void)
{
	struct scan_opts o;

	scan_opts_defaults(&o);
	check_dedup(&o);
	check_report();
	check_resume();
	return tap_done();
}
