/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sinks — libFuzzer target for the output sinks. Text from the wire
 * (evidence, domains, details) reaches every sink, so arbitrary bytes are
 * split at NUL bytes into address, domain, evidence and detail, pushed
 * through each format, and the JSON outputs must still parse (and the
 * JSON evidence must be valid UTF-8 that jansson accepts). Any crash,
 * sanitizer report or unparsable JSON aborts.
 */
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/result.h"
#include "common/util.h"
#include "reports/sink.h"

static void
field(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
	size_t n = 0;

	while (*p < end && **p != 0 && n + 1 < cap)
		out[n++] = (char)*(*p)++;
	out[n] = '\0';
	if (*p < end)
		(*p)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fmts[] = {
	    "text", "json", "jsonl", "csv", "ips", "prom", "nagios"};
	struct rpt_perf pf;
	const uint8_t *p = data, *end = data + size;
	struct res_resolver r;
	struct res_check c;
	struct res_run run;
	struct rpt_sink *s;
	char *buf;
	const char *nl;
	size_t len, i;
	json_error_t je;
	json_t *j;
	FILE *f;

	res_resolver_init(&r);
	res_check_init(&c);
	res_run_init(&run);
	field(&p, end, r.addr, sizeof r.addr);
	field(&p, end, r.domain, sizeof r.domain);
	field(&p, end, r.evidence, sizeof r.evidence);
	field(&p, end, c.detail, sizeof c.detail);
	field(&p, end, run.command, sizeof run.command);
	memcpy(c.evidence, r.evidence, sizeof c.evidence);
	snprintf(c.subject, sizeof c.subject, "%s", r.domain);
	if (size > 0) {
		r.port = (uint16_t)(data[0] | data[size - 1] << 8);
		r.verdict = data[0] & 1 ? RES_VERDICT_OK : RES_VERDICT_FAIL;
		r.reason = (enum res_reason)(data[size - 1] % RES_R_COUNT);
		r.burst_sent = data[0];
		r.burst_ok = data[0] / 2;
		r.burst_qps = data[size / 2] * 1.37;
	}
	for (i = 0; i < nitems(fmts); i++) {
		buf = NULL;
		f = open_memstream(&buf, &len);
		s = rpt_open(fmts[i], f, NULL);
		rpt_result(s, &r);
		rpt_result(s, &r);
		if (strcmp(fmts[i], "csv") != 0)
			rpt_check(s, &c);
		memset(&pf, 0, sizeof pf);
		pf.label = run.command[0] ? run.command : "x";
		pf.value = r.burst_qps;
		pf.uom = "ms";
		pf.warn = r.domain;
		pf.min = pf.max = NAN;
		rpt_perf(s, &pf);
		rpt_status(s, size > 0 ? data[0] % 5 : 0, c.detail);
		rpt_summary(s, &run);
		if (rpt_close(s, NULL) != 0)
			abort();
		fclose(f);
		if (strcmp(fmts[i], "json") == 0) {
			j = json_loadb(buf, len, 0, &je);
			if (j == NULL)
				abort();
			json_decref(j);
		}
		if (strcmp(fmts[i], "jsonl") == 0) {
			/* every line one object: no raw newline leaks out */
			for (p = (const uint8_t *)buf, end = p + len; p < end;
			     p = (const uint8_t *)nl + 1) {
				nl = memchr(p, '\n', (size_t)(end - p));
				if (nl == NULL)
					abort();
				j = json_loadb((const char *)p,
				    (size_t)(nl - (const char *)p), 0, &je);
				if (j == NULL)
					abort();
				json_decref(j);
			}
		}
		/* nagios: one line; prom: every line a comment or a sample
		 * of ours (no label value broke out of its quotes). */
		if (strcmp(fmts[i], "nagios") == 0 &&
		    (len == 0 || memchr(buf, '\n', len) != buf + len - 1))
			abort();
		if (strcmp(fmts[i], "prom") == 0)
			for (p = (const uint8_t *)buf, end = p + len; p < end;
			     p = (const uint8_t *)nl + 1) {
				nl = memchr(p, '\n', (size_t)(end - p));
				if (nl == NULL ||
				    (*p != '#' &&
					memcmp(p, "mdns_doctor", 11) != 0))
					abort();
			}
		free(buf);
	}
	return 0;
}
