/* SPDX-License-Identifier: MIT */
/*
 * scan-env.c — the env stage, run once before any item is admitted:
 * neutral queries to addresses that cannot be resolvers must stay
 * unanswered (an answer means UDP/53 is intercepted on the path), and the
 * tunnel server, when --server gives its address, must answer a random
 * in-zone name with its signature. Each probe is an item in a slot of its
 * own whose result is a check (kinds intercept and server), not a
 * resolver result; the findings mark the evidence of the later results
 * they can affect. A probe that could not be sent (no route: "Network is
 * unreachable") tested nothing: its check is `unknown` with the error,
 * never "no interception".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "probe/scan-int.h"

void
scan_env_finish(struct scan *s, struct item *it, int ok, enum res_reason reason)
{
	struct stage_acc *acc = &s->st[RES_STAGE_ENV];
	struct res_check c;
	char a[NET_ADDR_STRLEN];
	uint64_t now = now_mono_us();
	size_t l;
	int icpt;

	res_check_init(&c);
	net_addr_format(&it->addr, a, sizeof a);
	if (reason == RES_R_NET_ERROR) {
		/* Nothing went out: no verdict either way. */
		c.kind = it->state == IT_ENV_ICPT ? RES_CHECK_INTERCEPT :
						    RES_CHECK_SERVER;
		c.verdict = RES_VERDICT_UNKNOWN;
		c.reason = RES_R_NET_ERROR;
		res_textf(c.detail, sizeof c.detail, "%s: not tested: %s", a,
		    it->r.evidence[0] ? it->r.evidence : "local error");
		ok = -1;
	} else
		acc->tested++;
	if (ok == -1)
		;
	else if (it->state == IT_ENV_ICPT) {
		/* ok here means "timed out", i.e. not intercepted. */
		icpt = reason == RES_R_INTERCEPTED;
		c.kind = RES_CHECK_INTERCEPT;
		c.verdict = icpt ? RES_VERDICT_WARN : RES_VERDICT_OK;
		c.reason = icpt ? RES_R_INTERCEPTED : RES_R_OK;
		if (icpt) {
			s->intercepted = 1;
			res_textf(c.detail, sizeof c.detail,
			    "%s answered "
			    "although it cannot be a resolver: UDP/53 is "
			    "intercepted on the path",
			    a);
		} else
			res_textf(c.detail, sizeof c.detail,
			    "%s (cannot be "
			    "a resolver) stayed silent: no interception",
			    a);
		ok = !icpt;
	} else {
		c.kind = RES_CHECK_SERVER;
		s->server_down = !ok;
		c.verdict = ok ? RES_VERDICT_OK : RES_VERDICT_FAIL;
		c.reason = ok ? RES_R_OK : RES_R_SERVER_DOWN;
		res_textf(c.detail, sizeof c.detail,
		    ok ? "tunnel server %s "
			 "answers a random in-zone name with its signature" :
			 "tunnel server %s does not answer directly with its "
			 "signature",
		    a);
	}
	res_textf(c.evidence, sizeof c.evidence, "%s",
	    it->r.evidence[0] ? it->r.evidence : c.detail);
	l = strlen(s->env_evidence);
	snprintf(s->env_evidence + l, sizeof s->env_evidence - l, "%s%s",
	    l ? "; " : "", c.detail);
	if (ok == 1)
		acc->passed++;
	else if (ok == 0)
		acc->failed++;
	if (now > acc->t_last)
		acc->t_last = now;
	if (s->o.on_check != NULL)
		s->o.on_check(s->o.arg, &c);
	scan_item_free(s, it);
	s->env_pending--;
}

void
scan_env_start(struct scan *s)
{
	struct item *it;
	size_t i;

	s->st[RES_STAGE_ENV].t_first = now_mono_us();
	for (i = 0; i <= s->o.nintercept; i++) {
		if (i == s->o.nintercept && !s->o.have_server)
			break;
		if ((it = scan_slot_get(s)) == NULL)
			break;
		it->pos = UINT64_MAX;
		it->addr =
		    i < s->o.nintercept ? s->o.intercept[i] : s->o.server;
		it->state = i < s->o.nintercept ? IT_ENV_ICPT : IT_ENV_SRV;
		it->env_idx = (int)i;
		net_addr_format_ip(&it->addr, it->r.addr, sizeof it->r.addr);
		s->env_pending++;
		scan_item_query(s, it);
	}
}

int
scan_intercept_can_affect(const char *addr, uint16_t port)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (port != 53)
		return 0;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) != 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 0;
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return a6.s6_addr[12] != 127;
		return 1;
	}
	return 1; /* not numeric (scope suffix...): assume it can */
}
