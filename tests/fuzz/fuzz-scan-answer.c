/* SPDX-License-Identifier: MIT */
/*
 * fuzz-scan-answer.c — the scan's judgement of answers from untrusted
 * resolvers (scan_judge_answer in probe/scan-judge.c: liveness, the direct
 * server check and reach; MTU_UP/MTU_DOWN echoes and the TCP re-check;
 * SESSION_ACCEPT with its policy, PONG, the close) on arbitrary bytes, in
 * every step, raw and base64 answer modes. fuzz-scan covers the reach
 * classifier alone; this covers every step through the judge's public
 * entry point. Every outcome and reason must be in range, the evidence
 * and every trace line terminated and free of NUL bytes before their end,
 * the policy numbers taken as they come.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/scan-judge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_trace(void *arg, const char *line)
{
	(void)arg;
	if (strnlen(line, 600) == 600)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The seeds' step numbers (st0..st5) index the first six. */
	static const enum scan_step steps[] = {SCAN_STEP_UP, SCAN_STEP_DOWN,
	    SCAN_STEP_INIT, SCAN_STEP_PING, SCAN_STEP_CLOSE, SCAN_STEP_TCP,
	    SCAN_STEP_LIVE, SCAN_STEP_SERVER, SCAN_STEP_REACH};
	static const uint8_t qname[] = "\005probe\001t\007example";
	static uint8_t query[64], fbuf[8192];
	static struct res_resolver r;
	struct scan_judge j;
	enum scan_outcome o;
	enum res_reason reason = RES_R_OK;
	int exact;

	if (size < 4)
		return 0;
	memset(&j, 0, sizeof j);
	res_resolver_init(&r);
	j.mode = (enum dns_resp_mode)(data[0] & 1);
	j.step = steps[(data[0] >> 1) % nitems(steps)];
	j.cand = 20 + data[1] * 8;
	j.code = be16_load(data + 2);
	memcpy(j.verify, data + 2, 2);
	memcpy(j.verify + 2, data, 2);
	/* Our query: header, the name above, QTYPE TXT, QCLASS IN. */
	memcpy(query + 12, qname, sizeof qname);
	j.query = query;
	j.qwire = sizeof qname;
	be16_store(query + 12 + j.qwire, DNS_TYPE_TXT);
	be16_store(query + 14 + j.qwire, 1);
	j.qchars = 15;
	j.r = &r;
	j.trace = on_trace;
	j.fbuf = fbuf;
	j.fcap = sizeof fbuf;
	data += 4;
	size -= 4;

	(void)scan_question_matches(query, j.qwire, data, size, &exact);
	o = scan_judge_answer(&j, data, size, &reason);
	if ((unsigned)o > SCAN_FAIL || (unsigned)reason >= RES_R_COUNT)
		abort();
	if (strnlen(r.evidence, sizeof r.evidence) == sizeof r.evidence)
		abort();
	return 0;
}
