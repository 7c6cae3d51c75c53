/* SPDX-License-Identifier: MIT */
/*
 * exitip.c — the `ip` check (exitip.h): the fetches on the event loop and
 * the verdict. The SOCKS port is used as socks5h (the tunnel's far end
 * resolves the service's name, as an application using the proxy
 * properly would); the direct fetches resolve locally, restricted to the
 * service's family. It does not retry: a failed fetch is an observation
 * with its reason. Secrets (the SOCKS password) never reach evidence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/exitip.h"
#include "probe/fetch.h"

const struct exitip_service exitip_default_services[] = {
    {"https://api4.ipify.org/?format=json", 4},
    {"https://ipv4.icanhazip.com/", 4},
    {"https://1.1.1.1/cdn-cgi/trace", 4},
    {"https://api6.ipify.org/?format=json", 6},
    {"https://ipv6.icanhazip.com/", 6},
    {"https://[2606:4700:4700::1111]/cdn-cgi/trace", 6},
};
const size_t exitip_ndefault_services = nitems(exitip_default_services);

struct slot {
	struct exitip *x;
	size_t i; /* index into obs */
};

struct exitip {
	const struct exitip_opts *o;
	struct fetch *f;
	struct ev_loop *loop;
	struct exitip_obs *obs;
	struct slot *slots;
	size_t n, pending;
	char *proxy;
	void (*done)(void *arg, struct exitip *x);
	void *arg;
	uint64_t done_timer;
};

static const char *
fam_name(int family)
{
	return family == 6 ? "IPv6" : "IPv4";
}

static void
on_fetched(void *arg, const struct fetch_result *r)
{
	struct slot *s = arg;
	struct exitip *x = s->x;
	struct exitip_obs *ob = &x->obs[s->i];
	struct err e = {""};

	ob->ms = r->total_ms;
	snprintf(ob->local_ip, sizeof ob->local_ip, "%s", r->local_ip);
	if (!r->done) {
		ob->why = r->timed_out ? RES_R_TIMEOUT : RES_R_FETCH_FAILED;
		if (r->timed_out)
			snprintf(ob->error, sizeof ob->error,
			    "timeout after %lld ms", (long long)r->total_ms);
		else
			res_textf(ob->error, sizeof ob->error, "%s", r->error);
	} else if (r->status != 200) {
		ob->why = RES_R_FETCH_FAILED;
		snprintf(ob->error, sizeof ob->error, "HTTP %ld", r->status);
	} else if (echo_parse(r->body, r->len, ob->ip, &ob->family, NULL, &e) !=
	    0) {
		ob->why = RES_R_MALFORMED;
		snprintf(ob->error, sizeof ob->error, "%s", e.msg);
	} else if (ob->family != ob->svc->family) {
		ob->why = RES_R_MALFORMED;
		snprintf(ob->error, sizeof ob->error,
		    "answered %s address %s for an %s service",
		    fam_name(ob->family), ob->ip, fam_name(ob->svc->family));
		ob->ip[0] = '\0';
	} else
		ob->ok = 1;
	if (--x->pending == 0 && x->done != NULL)
		x->done(x->arg, x);
}

/* Nothing could be started: report completion from the loop. */
static void
on_nothing(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct exitip *x = arg;

	(void)loop;
	(void)id;
	x->done_timer = 0;
	x->done(x->arg, x);
}

struct exitip *
exitip_start(struct ev_loop *loop, const struct exitip_opts *o,
    void (*done)(void *arg, struct exitip *x), void *arg, struct err *e)
{
	struct exitip *x = xcalloc(1, sizeof *x);
	struct fetch_req req;
	struct err fe = {""};
	size_t i, max;
	int p;

	x->o = o;
	x->loop = loop;
	x->done = done;
	x->arg = arg;
	if ((x->f = fetch_new(loop, e)) == NULL) {
		free(x);
		return NULL;
	}
	if (o->socks != NULL)
		x->proxy = xasprintf("socks5h://%s", o->socks);
	max = o->nsvc * 2;
	x->obs = xcalloc(max ? max : 1, sizeof *x->obs);
	x->slots = xcalloc(max ? max : 1, sizeof *x->slots);
	for (i = 0; i < o->nsvc; i++) {
		if ((o->svc[i].family == 4 && !o->want4) ||
		    (o->svc[i].family == 6 && !o->want6))
			continue;
		for (p = EXITIP_DIRECT; p <= EXITIP_TUNNEL; p++) {
			struct exitip_obs *ob = &x->obs[x->n];

			if (p == EXITIP_TUNNEL && x->proxy == NULL)
				continue;
			ob->svc = &o->svc[i];
			ob->path = (enum exitip_path)p;
			memset(&req, 0, sizeof req);
			req.url = o->svc[i].url;
			req.timeout_ms = o->timeout_ms;
			req.max_body = ECHO_BODY_MAX;
			req.user_agent = o->user_agent;
			if (p == EXITIP_TUNNEL) {
				req.proxy = x->proxy;
				req.proxy_user = o->socks_user;
				req.proxy_pass = o->socks_pass;
			} else
				req.family = o->svc[i].family;
			x->slots[x->n].x = x;
			x->slots[x->n].i = x->n;
			if (fetch_get(x->f, &req, on_fetched, &x->slots[x->n],
				&fe) != 0) {
				ob->why = RES_R_FETCH_FAILED;
				snprintf(
				    ob->error, sizeof ob->error, "%s", fe.msg);
			} else
				x->pending++;
			x->n++;
		}
	}
	if (x->pending == 0 && done != NULL)
		x->done_timer = ev_timer_add(loop, 0, on_nothing, x);
	return x;
}

const struct exitip_obs *
exitip_obs(const struct exitip *x, size_t *n)
{
	*n = x->n;
	return x->obs;
}

void
exitip_free(struct exitip *x)
{
	if (x == NULL)
		return;
	fetch_free(x->f);
	if (x->done_timer != 0)
		ev_timer_cancel(x->loop, x->done_timer);
	free(x->obs);
	free(x->slots);
	free(x->proxy);
	free(x);
}

/* ---- the verdict ------------------------------------------------------ */

/* Distinct addresses (at most 8 kept) and how many answers said each. */
struct tally {
	char ip[8][ECHO_IP_MAX];
	int count[8];
	size_t n, answers;
};

static void
tally_add(struct tally *t, const char *ip)
{
	size_t i;

	t->answers++;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->ip[i], ip) == 0) {
			t->count[i]++;
			return;
		}
	if (t->n < nitems(t->ip)) {
		snprintf(t->ip[t->n], sizeof t->ip[t->n], "%s", ip);
		t->count[t->n++] = 1;
	}
}

static int
tally_has(const struct tally *t, const char *ip)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->ip[i], ip) == 0)
			return 1;
	return 0;
}

/* "a" or "a (2), b (1)" */
static void
tally_text(const struct tally *t, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	if (t->n == 1) {
		snprintf(buf, len, "%s", t->ip[0]);
		return;
	}
	for (i = 0; i < t->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s (%d)",
		    i ? ", " : "", t->ip[i], t->count[i]);
}

/* Append "; " and formatted text to the evidence. */
static void __attribute__((format(printf, 3, 4)))
ev_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/* The evidence: expectation, then every observation of the family. */
static void
evidence(const struct exitip_obs *obs, size_t n, int family,
    const struct exitip_opts *o, const char *const *exp, size_t nexp, char *buf,
    size_t len)
{
	size_t i;
	int p, first;

	buf[0] = '\0';
	if (nexp == 0)
		ev_add(buf, len, "expected: none");
	for (i = 0; i < nexp; i++)
		ev_add(buf, len, "%s%s", i ? ", " : "expected: ", exp[i]);
	if (nexp > 0 && o->expect_from != NULL)
		ev_add(buf, len, " (%s)", o->expect_from);
	for (p = EXITIP_TUNNEL; p >= EXITIP_DIRECT; p--) {
		first = 1;
		if (p == EXITIP_TUNNEL && o->socks == NULL) {
			ev_add(buf, len, "; tunnel: not asked (%s)",
			    o->no_socks_why ? o->no_socks_why :
					      "no SOCKS port");
			continue;
		}
		for (i = 0; i < n; i++) {
			if (obs[i].path != (enum exitip_path)p ||
			    obs[i].svc->family != family)
				continue;
			ev_add(buf, len, "%s%s", first ? "; " : ", ",
			    first ?
				(p == EXITIP_TUNNEL ? "tunnel via socks5h://" :
						      "direct: ") :
				"");
			if (first && p == EXITIP_TUNNEL)
				ev_add(buf, len, "%s: ", o->socks);
			first = 0;
			if (obs[i].ok)
				ev_add(buf, len, "%s -> %s (%lld ms)",
				    obs[i].svc->url, obs[i].ip,
				    (long long)obs[i].ms);
			else
				ev_add(buf, len, "%s: %s", obs[i].svc->url,
				    obs[i].error);
		}
	}
}

/* The reason most tunnel fetches failed with. */
static enum res_reason
common_failure(const struct exitip_obs *obs, size_t n, int family)
{
	int votes[RES_R_COUNT] = {0}, best = RES_R_FETCH_FAILED;
	size_t i;

	for (i = 0; i < n; i++)
		if (obs[i].path == EXITIP_TUNNEL && !obs[i].ok &&
		    obs[i].svc->family == family)
			votes[obs[i].why]++;
	if (votes[RES_R_TIMEOUT] > votes[best])
		best = RES_R_TIMEOUT;
	if (votes[RES_R_MALFORMED] > votes[best])
		best = RES_R_MALFORMED;
	return (enum res_reason)best;
}

int
exitip_judge(const struct exitip_obs *obs, size_t n, int family,
    const struct exitip_opts *o, struct res_check *c)
{
	const char *fam = fam_name(family);
	const char *exp[8];
	struct tally t = {0}, d = {0};
	char ts[256], ds[256], more[RES_DETAIL_MAX] = "";
	char es[RES_DETAIL_MAX] = "";
	size_t i, nsvc = 0, nexp = 0, same;
	int matched = 0, fam2;

	for (i = 0; i < o->nsvc; i++)
		nsvc += o->svc[i].family == family;
	if (nsvc == 0)
		return 1;
	res_check_init(c);
	c->kind = RES_CHECK_IP;
	c->at_ms = now_wall_ms();
	snprintf(c->subject, sizeof c->subject, "ipv%d", family);
	for (i = 0; i < o->nexpect && nexp < nitems(exp); i++) {
		fam2 = strchr(o->expect[i], ':') != NULL ? 6 : 4;
		if (fam2 == family)
			exp[nexp++] = o->expect[i];
	}
	for (i = 0; i < nexp; i++)
		ev_add(es, sizeof es, "%s%s", i ? " or " : "", exp[i]);
	for (i = 0; i < n; i++) {
		if (!obs[i].ok || obs[i].svc->family != family)
			continue;
		tally_add(obs[i].path == EXITIP_TUNNEL ? &t : &d, obs[i].ip);
	}
	evidence(obs, n, family, o, exp, nexp, c->evidence, sizeof c->evidence);
	tally_text(&d, ds, sizeof ds);

	if (t.answers == 0) {
		c->verdict = RES_VERDICT_UNKNOWN;
		if (o->socks == NULL) {
			c->reason = RES_R_FETCH_FAILED;
			res_textf(c->detail, sizeof c->detail,
			    "%s: no tunnel path (%s)%s%s", fam,
			    o->no_socks_why ? o->no_socks_why : "no SOCKS port",
			    d.answers ? "; direct " : "", d.answers ? ds : "");
		} else if (d.answers == 0) {
			c->reason = common_failure(obs, n, family);
			res_textf(c->detail, sizeof c->detail,
			    "%s: no service answered, directly or through the "
			    "tunnel (no %s here or at the exit?)",
			    fam, fam);
		} else {
			c->reason = common_failure(obs, n, family);
			res_textf(c->detail, sizeof c->detail,
			    "%s: no service answered through the tunnel (%s); "
			    "direct %s",
			    fam, res_reason_name(c->reason), ds);
		}
		return 0;
	}
	tally_text(&t, ts, sizeof ts);
	for (i = 0; i < nexp; i++)
		matched |= tally_has(&t, exp[i]);

	/* Critical first: wrong exit, then no tunnel at all. */
	if (nexp > 0 && !matched) {
		c->verdict = RES_VERDICT_FAIL;
		c->reason = RES_R_EXIT_IP_MISMATCH;
		res_textf(c->detail, sizeof c->detail,
		    "%s exit %s, expected %s%s%s", fam, ts, es,
		    d.answers ? "; direct " : "", d.answers ? ds : "");
		return 0;
	}
	/* Every address seen through the tunnel was also seen directly: the
	 * traffic does not leave through the tunnel. (One address in both
	 * sets next to others is a lying or caching service: disagree.) */
	for (i = 0, same = 0; i < t.n; i++)
		same += tally_has(&d, t.ip[i]);
	if (same == t.n) {
		c->verdict = RES_VERDICT_FAIL;
		c->reason = RES_R_NOT_TUNNELLED;
		res_textf(c->detail, sizeof c->detail,
		    "%s exit %s equals the direct address: traffic does not "
		    "leave through the tunnel",
		    fam, ts);
		return 0;
	}

	/* Then warnings, the first one giving the reason. */
	c->verdict = RES_VERDICT_OK;
	c->reason = RES_R_OK;
#define WARN(r, ...)                                                           \
	do {                                                                   \
		if (c->verdict == RES_VERDICT_OK) {                            \
			c->verdict = RES_VERDICT_WARN;                         \
			c->reason = (r);                                       \
		}                                                              \
		ev_add(more, sizeof more, __VA_ARGS__);                        \
	} while (0)
	if (t.n > 1)
		WARN(RES_R_DISAGREE, "; services disagree through the tunnel%s",
		    same ? " (an address seen both ways)" : "");
	if (d.n > 1)
		WARN(RES_R_DISAGREE,
		    "; services disagree on the direct address");
	if (nexp == 0)
		WARN(RES_R_NO_BASELINE,
		    "; no expected %s exit to compare with (--expect, "
		    "expectedExitIP, MDNS_EXPECTED_EXIT_IP)",
		    fam);
	if (t.answers < 2)
		WARN(RES_R_FETCH_FAILED,
		    "; only %zu of %zu %s service(s) answered through the "
		    "tunnel",
		    t.answers, nsvc, fam);
#undef WARN
	res_textf(c->detail, sizeof c->detail, "%s exit %s%s%s, direct %s%s",
	    fam, ts, nexp ? " = expected" : "",
	    t.n == 1 && t.answers > 1 ? " (services agree)" : "",
	    d.answers ? ds : "no answer", more);
	return 0;
}

int
exitip_exit_code(const struct res_check *c, size_t n)
{
	int rc = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (c[i].verdict == RES_VERDICT_UNKNOWN)
			continue;
		if ((int)c[i].verdict > rc)
			rc = (int)c[i].verdict;
	}
	return rc < 0 ? EXIT_UNKNOWN : rc;
}
