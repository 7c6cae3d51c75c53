/* SPDX-License-Identifier: MIT */
/*
 * hs-engine.c — wait for the engine's session over the control socket
 * (hs-engine.h). Blocking polls with ctlc_call; no event loop needed.
 * Does not start or steer the engine.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "common/ctlc.h"
#include "probe/hs-engine.h"

static json_int_t
jint_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/*
 * The part of a status that the check is about, as compact JSON: role,
 * phase, uptime, the session id (or null), the MTUs and the resolver
 * counts without the per-resolver list. A real status is several KB and
 * would be cut mid-string to fit the evidence; this summary fits whole
 * and stays valid JSON. Caller frees.
 */
static char *
evidence_dump(json_t *st)
{
	static const char *const keep[] = {
	    "role", "phase", "uptime_ms", "last_valid_answer_age_ms", "mtu"};
	json_t *o = json_object(), *sess, *res, *v;
	char *s;
	size_t i;

	for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if ((v = json_object_get(st, keep[i])) != NULL)
			json_object_set(o, keep[i], v);
	sess = json_object_get(st, "session");
	if (json_is_object(sess))
		json_object_set_new(o, "session",
		    json_pack("{s:O?}", "id", json_object_get(sess, "id")));
	else
		json_object_set_new(o, "session", json_null());
	res = json_object_get(st, "resolvers");
	if (json_is_object(res)) {
		v = json_deep_copy(res);
		json_object_del(v, "list");
		json_object_set_new(o, "resolvers", v);
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

enum res_verdict
hs_engine_wait(const char *path, int deadline_ms, int poll_ms,
    struct res_check *c, void (*on_step)(void *arg, const char *line),
    void *arg)
{
	uint64_t t0 = now_mono_ms();
	char last[RES_DETAIL_MAX] = "", now[RES_DETAIL_MAX];
	struct err e;
	json_t *r, *st;
	const char *phase, *role;
	json_int_t sid, active, total;
	char *dump, age[48];

	res_check_init(c);
	c->kind = RES_CHECK_HANDSHAKE;
	for (;;) {
		r = ctlc_call(path, "status", 2000, &e);
		if (r == NULL) {
			c->verdict = RES_VERDICT_UNKNOWN;
			c->reason = RES_R_INTERNAL;
			res_textf(c->detail, sizeof c->detail, "%s", e.msg);
			res_textf(c->evidence, sizeof c->evidence,
			    "status request on %s: %s", path, e.msg);
			return c->verdict;
		}
		st = json_object_get(r, "status");
		role = json_string_value(json_object_get(st, "role"));
		if (!json_is_true(json_object_get(r, "ok")) || st == NULL ||
		    role == NULL || strcmp(role, "client") != 0) {
			c->verdict = RES_VERDICT_UNKNOWN;
			c->reason = RES_R_INTERNAL;
			res_textf(c->detail, sizeof c->detail,
			    "%s does not "
			    "answer like a client engine (role %s)",
			    path, role ? role : "none");
			json_decref(r);
			return c->verdict;
		}
		phase = json_string_value(json_object_get(st, "phase"));
		sid = jint_at(st, "session", "id");
		active = jint_at(st, "resolvers", "active");
		total = jint_at(st, "resolvers", "total");
		/* Live: a session, an active resolver, and the engine's own
		 * word that valid tunnel answers come (phase connected, not
		 * stalled or reconnecting). */
		if (sid > 0 && active >= 1 && phase != NULL &&
		    strcmp(phase, "connected") == 0) {
			c->verdict = RES_VERDICT_OK;
			c->reason = RES_R_OK;
			res_textf(c->detail, sizeof c->detail,
			    "engine has "
			    "session %lld with %lld of %lld resolver(s) "
			    "active (phase %s) after %llu ms",
			    (long long)sid, (long long)active, (long long)total,
			    phase ? phase : "?",
			    (unsigned long long)(now_mono_ms() - t0));
		} else if (sid > 0 && active >= 1)
			res_textf(c->detail, sizeof c->detail,
			    "session %lld not live: phase %s, last valid "
			    "tunnel answer %s",
			    (long long)sid, phase ? phase : "?",
			    ctlc_answer_age(st, age, sizeof age));
		else if (sid <= 0)
			res_textf(c->detail, sizeof c->detail,
			    "no session "
			    "yet: phase %s, %lld of %lld resolver(s) active",
			    phase ? phase : "?", (long long)active,
			    (long long)total);
		else
			res_textf(c->detail, sizeof c->detail,
			    "session %lld "
			    "but no active resolver (phase %s, %lld total)",
			    (long long)sid, phase ? phase : "?",
			    (long long)total);
		snprintf(now, sizeof now, "%s", c->detail);
		if (on_step != NULL && strcmp(now, last) != 0)
			on_step(arg, now);
		snprintf(last, sizeof last, "%s", now);
		dump = evidence_dump(st);
		res_textf(
		    c->evidence, sizeof c->evidence, "%s", dump ? dump : "");
		free(dump);
		json_decref(r);
		if (c->verdict == RES_VERDICT_OK)
			return c->verdict;
		if (now_mono_ms() - t0 >= (uint64_t)deadline_ms) {
			c->verdict = RES_VERDICT_FAIL;
			c->reason = RES_R_HANDSHAKE_FAILED;
			res_textf(c->detail, sizeof c->detail,
			    "after %d ms: "
			    "%s",
			    deadline_ms, last);
			return c->verdict;
		}
		sleep_ms(poll_ms);
	}
}
