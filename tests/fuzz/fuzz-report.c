/* SPDX-License-Identifier: MIT */
/*
 * fuzz-report.c — the support report's model on any bytes: the input is
 * at once the evidence of an `ip` check (own addresses are read from it),
 * every kind of text the model takes, and, when it parses, the counters
 * of an engine snapshot and a live status. All three forms are rendered;
 * the JSON must parse, the key given as a secret must not appear in any
 * letter case, the HTML must hold no "<script" and no "://", and an own
 * address must not survive in modes own and all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/report-int.h"

#define KEY "5f3c8e1a9b2d47e6"
#define OWN "203.0.113.9"

static char *
render(struct rpt_model *m, enum rpt_form form)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct err e;

	if (rpt_render(m, form, f, &e) != 0)
		abort();
	fclose(f);
	return buf;
}

/* OWN standing as a number of its own (not inside 1203.0.113.90). */
static int
own_left(const char *s)
{
	const char *p;

	for (p = strstr(s, OWN); p != NULL; p = strstr(p + 1, OWN)) {
		char a = p > s ? p[-1] : ' ', b = p[strlen(OWN)];

		if (!(a >= '0' && a <= '9') && a != '.' &&
		    !(b >= '0' && b <= '9') &&
		    !(b == '.' && p[strlen(OWN) + 1] >= '0' &&
			p[strlen(OWN) + 1] <= '9'))
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum rpt_redact mode = size > 0 ? (enum rpt_redact)(data[0] % 3) : 0;
	char *s = strndup((const char *)data, size), *out[3];
	struct res_resolver r;
	struct res_check c;
	struct rpt_model *m;
	struct res_run run;
	json_t *j;
	size_t i;

	m = rpt_model_new(mode, 1700000000000LL);
	rpt_model_secret(m, KEY, strlen(KEY));
	rpt_model_own_addr(m, OWN, RPT_OWN_PUBLIC);
	res_check_init(&c);
	c.kind = RES_CHECK_IP;
	snprintf(c.evidence, sizeof c.evidence, "%s", s);
	snprintf(c.detail, sizeof c.detail, "%s", s);
	rpt_model_own_from_check(m, &c);
	res_run_init(&run);
	run.stages[RES_STAGE_LIVENESS].tested = size;
	rpt_model_scan(m, 1, &run, s, s);
	res_resolver_init(&r);
	snprintf(r.addr, sizeof r.addr, "%s", s);
	snprintf(r.evidence, sizeof r.evidence, "%s", s);
	r.verdict = RES_VERDICT_OK;
	rpt_model_scan_ok(m, &r);
	rpt_model_scan_fail(m, RES_STAGE_REACH, RES_R_TIMEOUT, 3, s);
	rpt_model_check(m, s, 1, 1, &c);
	rpt_model_fact(m, RPT_SEC_HOST, s, s);
	rpt_model_config_item(m, s, s, s, s, 0);
	rpt_model_note(m, "%s", s);
	j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (json_is_object(j)) {
		rpt_model_snapshot(m, 1000, s, 1, j);
		rpt_model_snapshot(m, 2000, "connected", 2, j);
		rpt_model_live(m, j, NULL);
	}
	json_decref(j);
	for (i = 0; i < 3; i++)
		out[i] = render(m, (enum rpt_form)i);
	if ((j = json_loads(out[RPT_JSON], 0, NULL)) == NULL)
		abort();
	json_decref(j);
	for (i = 0; i < 3; i++) {
		if (strcasestr(out[i], KEY) != NULL)
			abort();
		if (mode != RPT_REDACT_NONE && own_left(out[i]))
			abort();
	}
	if (strcasestr(out[RPT_HTML], "<script") != NULL ||
	    strstr(out[RPT_HTML], "://") != NULL)
		abort();
	for (i = 0; i < 3; i++)
		free(out[i]);
	rpt_model_free(m);
	free(s);
	return 0;
}
