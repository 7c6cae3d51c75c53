/*
 * scan-env.c — the env stage, run once before any item is admitted:
 * neutral queries to addresses that cannot be resolvers must stay
 * unanswered (an answer means UDP/53 is intercepted on the path), and the
 * tunnel server, when --server gives its address, must answer a random
 * in-zone name with its signature. Each probe is an item in a slot of its
 * own whose result is a check (kinds intercept and server), not a
 * resolver result; the findings mark every later result's evidence.
 */
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
	acc->tested++;
	if (it->state == IT_ENV_ICPT) {
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
	if (ok)
		acc->passed++;
	else
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
