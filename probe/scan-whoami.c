/* SPDX-License-Identifier: MIT */
/*
 * scan-whoami.c — the whoami step of `scan --whoami` (docs/checks.md,
 * "Whoami fingerprints"): after liveness passed, the item asks the whoami
 * names (TXT) through the resolver, one name at a time, until one answers
 * with an address: the address the name's authoritative server saw the
 * query come from, the resolver's egress. The answer is read by the same
 * code as `leak --whoami` (proto/leakzone.h: leakz_answer_parse,
 * leakz_whoami_addr, fuzzed by fuzz-leakzone). Whatever the resolver
 * answers, the item goes on to its next stage: the step never fails an
 * item and its tries do not count as loss. What it found is in the
 * result (whoami, whoami_name, whoami_error) and one evidence line.
 */
#include <stdio.h>
#include <string.h>

#include "probe/scan-int.h"
#include "proto/leakzone.h"

void
scan_whoami_begin(struct scan *s, struct item *it)
{
	it->who = 0;
	/* whoami_asked: set by scan_slot_get for every item when nwhoami > 0 */
	it->r.whoami[0] = '\0';
	it->r.whoami_error[0] = '\0';
	scan_item_enter(s, it, IT_WHOAMI);
	scan_item_query(s, it);
}

/* The name it->who ended without an address: the next one, or done. The
 * first failure is the one kept (the error and the name). */
static void
next_name(struct scan *s, struct item *it, const char *why, const char *detail)
{
	const char *name = s->o.whoami[it->who];

	scan_trace(s, it, "whoami %s: %s", name, detail);
	scan_evid(&it->r, "whoami %s: %s", name, detail);
	if (it->r.whoami_error[0] == '\0') {
		snprintf(
		    it->r.whoami_error, sizeof it->r.whoami_error, "%s", why);
		snprintf(
		    it->r.whoami_name, sizeof it->r.whoami_name, "%s", name);
	}
	if ((size_t)++it->who < s->o.nwhoami) {
		scan_item_query(s, it);
		return;
	}
	scan_next_step(s, it);
}

void
scan_whoami_answer(struct scan *s, struct item *it, const uint8_t *m, size_t n)
{
	const char *name = s->o.whoami[it->who];
	struct leakz_answer a;
	struct err e = {""};
	char ip[NET_ADDR_STRLEN], why[RES_WHOAMI_MAX];

	/* scan-net matched the ID (this try's or an earlier one's). */
	if (leakz_answer_parse(
		m, n, be16_load(m), name, DNS_TYPE_TXT, &a, &e) != 0) {
		char d[200];

		snprintf(d, sizeof d, "malformed answer (%s)", e.msg);
		next_name(s, it, "malformed", d);
		return;
	}
	if (leakz_whoami_addr(&a, ip, sizeof ip, &e) != 0) {
		char d[200];

		if (a.rcode != 0)
			snprintf(why, sizeof why, "rcode %u (%s)", a.rcode,
			    dns_rcode_name(a.rcode));
		else
			snprintf(why, sizeof why, "no address");
		snprintf(d, sizeof d, "%s", e.msg);
		if (a.ntxt > 0) {
			size_t l = strlen(d);

			/* What came instead, quoted (sinks escape it). */
			snprintf(
			    d + l, sizeof d - l, " (TXT \"%.40s\")", a.txt[0]);
		}
		next_name(s, it, why, d);
		return;
	}
	snprintf(it->r.whoami, sizeof it->r.whoami, "%s", ip);
	snprintf(it->r.whoami_name, sizeof it->r.whoami_name, "%s", name);
	it->r.whoami_error[0] = '\0';
	scan_trace(s, it, "whoami %s: %s", name, ip);
	scan_evid(&it->r, "whoami %s: %s", name, ip);
	scan_next_step(s, it);
}

void
scan_whoami_failed(struct scan *s, struct item *it, int reason)
{
	char d[120];

	if (reason == RES_R_TIMEOUT)
		snprintf(d, sizeof d, "no answer after %d tries of %d ms",
		    it->tries, s->o.t_live.timeout_ms);
	else
		snprintf(d, sizeof d, "%s",
		    res_reason_text((enum res_reason)reason));
	next_name(s, it,
	    reason == RES_R_TIMEOUT ? "timeout" :
				      res_reason_name((enum res_reason)reason),
	    d);
}
