/* SPDX-License-Identifier: MIT */
/*
 * scan-report.c — ranking, diagnosis, client_resolvers.txt, verdict and
 * the counters file of a finished scan (scan-report.h). It judges nothing
 * again: every result is final when it arrives here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/hmap.h"
#include "common/method.h"
#include "common/path.h"
#include "common/resolvers.h"
#include "probe/scan-report.h"
#include "proto/mtu.h"

struct scan_report *
scan_report_new(void)
{
	return xcalloc(1, sizeof(struct scan_report));
}

void
scan_report_free(struct scan_report *rp)
{
	if (rp == NULL)
		return;
	free(rp->ok);
	free(rp);
}

int
scan_report_add(struct scan_report *rp, const struct res_resolver *r)
{
	int st = r->stage, rs = r->reason;

	rp->nres++;
	if (scan_intercept_can_affect(r->addr, r->port))
		rp->naffected++;
	if (res_passed(r)) {
		if (r->verdict == RES_VERDICT_DEGRADED)
			rp->ndegraded++;
		if (rp->nok == rp->okcap) {
			rp->okcap = rp->okcap ? rp->okcap * 2 : 64;
			rp->ok =
			    xreallocarray(rp->ok, rp->okcap, sizeof *rp->ok);
		}
		rp->ok[rp->nok++] = *r;
		return 1;
	}
	if (st >= 0 && st < RES_STAGE_COUNT && rs >= 0 && rs < RES_R_COUNT &&
	    rp->n[st][rs]++ == 0)
		res_textf(rp->ex[st][rs], sizeof rp->ex[st][rs], "%s: %s",
		    r->addr, r->evidence);
	return 0;
}

static int
rank_cmp(const void *a, const void *b)
{
	const struct res_resolver *x = a, *y = b;
	double lx = res_loss_rate(x), ly = res_loss_rate(y);

	if (x->verdict != y->verdict)
		return x->verdict == RES_VERDICT_OK ? -1 : 1;
	if (x->upload_mtu != y->upload_mtu)
		return y->upload_mtu - x->upload_mtu;
	if (x->download_mtu != y->download_mtu)
		return y->download_mtu - x->download_mtu;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	if (x->rtt_us != y->rtt_us)
		return x->rtt_us < y->rtt_us ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

void
scan_report_rank(struct scan_report *rp)
{
	if (rp->nok > 1)
		qsort(rp->ok, rp->nok, sizeof *rp->ok, rank_cmp);
}

void
scan_report_diagnose(const struct scan_report *rp, FILE *f,
    const struct res_run *run, const struct scan_opts *o, const char *env)
{
	static const char *const what[RES_STAGE_COUNT] = {
	    [RES_STAGE_LIVENESS] =
		"no address answered a neutral query "
		"at all: wrong list, wrong port, or the path drops DNS",
	    [RES_STAGE_REACH] =
		"resolvers answer neutral names but none "
		"reaches the tunnel server: the delegation or the "
		"server is down, or every resolver rewrites answers",
	    [RES_STAGE_MTU] = "the tunnel server is reached but no MTU "
			      "probe passed",
	    [RES_STAGE_HANDSHAKE] = "MTU probes pass but no session could "
				    "be opened",
	    [RES_STAGE_BURST] = "sessions open but no resolver sustains "
				"the burst",
	};
	int st, r, best;

	for (st = RES_STAGE_LIVENESS; st < RES_STAGE_COUNT; st++) {
		if (run->stages[st].tested == 0 || run->stages[st].passed > 0)
			continue;
		fprintf(f, "\ndiagnosis: stage %s passed nobody (%u tested): ",
		    res_stage_name((enum res_stage)st), run->stages[st].tested);
		fputs(what[st], f);
		if (st == RES_STAGE_REACH)
			fprintf(f, " (domain %s)", o->domains[0]);
		fputc('\n', f);
		best = -1;
		for (r = 0; r < RES_R_COUNT; r++) {
			if (rp->n[st][r] == 0)
				continue;
			if (best < 0 || rp->n[st][r] > rp->n[st][best])
				best = r;
			fprintf(f, "  %u × %s (%s), e.g. %s\n", rp->n[st][r],
			    res_reason_name((enum res_reason)r),
			    res_reason_text((enum res_reason)r), rp->ex[st][r]);
		}
		if (st == RES_STAGE_MTU && best == RES_R_KEY_OR_METHOD)
			fprintf(f,
			    "  the server answers our probes with "
			    "NODATA: it cannot decrypt them. Check "
			    "DATA_ENCRYPTION_METHOD (%d) and the key.\n",
			    o->method);
		if (st == RES_STAGE_REACH)
			fprintf(f, "  direct query to the server: %s\n",
			    o->have_server ? env :
					     "not tested (give "
					     "--server ADDR:PORT)");
		break;
	}
	if (rp->nok > 0 && rp->ndegraded == rp->nok) {
		fprintf(f,
		    "\ndiagnosis: every resolver that passed (%zu) loses more "
		    "than %.0f%% of its probes (verdict degraded); e.g. %s: "
		    "%s\n",
		    rp->nok, o->max_loss_pct, rp->ok[0].addr,
		    rp->ok[0].evidence);
	}
	if (o->key == NULL)
		fprintf(f,
		    "\nnote: no key given, MTU and handshake stages "
		    "were not run (--key-file or --config)\n");
}

/* "# MAX_X_MTU = N" with what a ceiling reached means. */
static void
write_max(FILE *f, const char *key, int v, int ceiling, const char *opt, int lo,
    int hi_max)
{
	if (!ceiling) {
		fprintf(f, "# %s = %d\n", key, v);
		return;
	}
	fprintf(f,
	    "# %s = %d or more: %d is the top of the search range (the "
	    "ceiling was reached),\n#   the resolvers may carry more; to "
	    "measure it scan again with %s %d:%d\n#   (or a higher %s in "
	    "the config)\n",
	    key, v, v, opt, lo, MIN(v * 2, hi_max), key);
}

int
scan_report_method_check(int method, struct res_check *c)
{
	const struct method_finding *f = method_finding(method);
	char line[RES_DETAIL_MAX];

	if (method_finding_text(method, line, sizeof line) == EXIT_OK)
		return 0;
	res_check_init(c);
	c->kind = RES_CHECK_SECURITY;
	res_textf(c->subject, sizeof c->subject, "DATA_ENCRYPTION_METHOD");
	c->verdict =
	    f->level == EXIT_CRITICAL ? RES_VERDICT_FAIL : RES_VERDICT_WARN;
	c->reason = RES_R_WEAK_METHOD;
	res_textf(c->detail, sizeof c->detail, "%s", line);
	res_textf(c->evidence, sizeof c->evidence,
	    "DATA_ENCRYPTION_METHOD = %d (%s), from --method, --config or "
	    "the default; %s",
	    method, method_name(method), f->doc);
	return 1;
}

int
scan_report_write_resolvers(const struct scan_report *rp, const char *path,
    const struct scan_opts *o, int with_degraded, const char *by, struct err *e)
{
	struct hmap_strset seen = {HMAP_INIT, NULL, 0, 0};
	const struct res_resolver *ok = rp->ok;
	size_t i, n = 0, skipped = 0;
	int minu = 0, maxu = 0, mind = 0, maxd = 0, cu = 0, cd = 0;
	char buf[RES_ADDR_MAX + 16];
	struct err sub = {""};
	FILE *f;

	/* The minimum keeps every listed resolver through the client's own
	 * MTU test; the maximum stops it probing beyond what any carries. */
	for (i = 0; i < rp->nok; i++) {
		if (ok[i].verdict != RES_VERDICT_OK && !with_degraded) {
			skipped++;
			continue;
		}
		/* One line per address, at its best rank: several domains
		 * (or runs, for history) list it more than once. */
		rl_format_entry(ok[i].addr, ok[i].port, buf, sizeof buf);
		n += (size_t)hmap_strset_add(&seen, buf);
		if (ok[i].upload_mtu > 0) {
			minu = minu == 0 ? ok[i].upload_mtu :
					   MIN(minu, ok[i].upload_mtu);
			maxu = MAX(maxu, ok[i].upload_mtu);
		}
		if (ok[i].download_mtu > 0) {
			mind = mind == 0 ? ok[i].download_mtu :
					   MIN(mind, ok[i].download_mtu);
			maxd = MAX(maxd, ok[i].download_mtu);
		}
	}
	/* The maximum is at the ceiling when the best one reached it. */
	for (i = 0; i < rp->nok; i++) {
		if (ok[i].verdict != RES_VERDICT_OK && !with_degraded)
			continue;
		cu |= ok[i].upload_mtu == maxu &&
		    ok[i].up_at_ceiling == RES_TRI_YES;
		cd |= ok[i].download_mtu == maxd &&
		    ok[i].down_at_ceiling == RES_TRI_YES;
	}
	if ((f = path_fopen_write(path, &sub)) == NULL) {
		hmap_strset_free(&seen);
		return err_set(e, "cannot write %s", sub.msg);
	}
	fprintf(f,
	    "# client_resolvers.txt written by mdns-doctor %s: "
	    "%zu resolver(s), best first\n",
	    by, n);
	if (skipped > 0)
		fprintf(f,
		    "# %zu degraded resolver(s) left out (loss above %.0f%%; "
		    "--include-degraded lists them last)\n",
		    skipped, o->max_loss_pct);
	if (minu > 0) {
		fprintf(f,
		    "# recommended client_config.toml values that keep "
		    "every resolver below:\n# MIN_UPLOAD_MTU = %d\n",
		    minu);
		write_max(f, "MAX_UPLOAD_MTU", maxu, cu, "--up-mtu", o->min_up,
		    MTU_UP_CAP);
		fprintf(f, "# MIN_DOWNLOAD_MTU = %d\n", mind);
		write_max(f, "MAX_DOWNLOAD_MTU", maxd, cd, "--down-mtu",
		    o->min_down, 4096);
	}
	for (i = 0; i < seen.n; i++)
		fprintf(f, "%s\n", seen.str[i]);
	hmap_strset_free(&seen);
	if (fclose(f) != 0)
		return err_set(e, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

enum res_verdict
scan_report_verdict(const struct scan_report *rp, int warnings)
{
	if (rp->nok == 0)
		return RES_VERDICT_FAIL;
	return warnings || rp->ndegraded == rp->nok ? RES_VERDICT_WARN :
						      RES_VERDICT_OK;
}

int
scan_write_stats(
    const struct scan *s, const char *path, uint64_t wall_ms, struct err *e)
{
	struct scan_counters c;
	json_t *o;
	char *text;
	struct err sub = {""};
	FILE *f;
	int rc;

	scan_counters(s, &c);
	o = json_pack("{sI sI sI sI sI sI sI sI sI}", "total",
	    (json_int_t)c.total, "done", (json_int_t)c.done, "passed",
	    (json_int_t)c.passed, "sent", (json_int_t)c.sent, "received",
	    (json_int_t)c.received, "stray", (json_int_t)c.stray,
	    "peak_inflight", (json_int_t)c.peak_inflight,
	    "peak_queries_inflight", (json_int_t)c.peak_queries_inflight,
	    "wall_ms", (json_int_t)wall_ms);
	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
			   NULL;
	json_decref(o);
	if (text == NULL)
		return err_set(e, "cannot build the counters");
	if ((f = path_fopen_write(path, &sub)) == NULL) {
		free(text);
		return err_set(e, "cannot write %s", sub.msg);
	}
	rc = fprintf(f, "%s\n", text) < 0;
	free(text);
	if (fclose(f) != 0 || rc)
		return err_set(e, "cannot write %s: %s", path, strerror(errno));
	return 0;
}
