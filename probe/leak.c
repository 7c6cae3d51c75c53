/* SPDX-License-Identifier: MIT */
/*
 * leak.c — the `leak` check (leak.h): the queries on the event loop and
 * the verdict. Each query has its own non-blocking UDP socket and one
 * timer; a try that times out goes to the next system resolver (as the
 * C library's resolver does with several nameserver lines). Answers are
 * read by proto/leakzone (the one parser of the zone's answers, fuzzed)
 * and must come from the address the query went to. Token and names are
 * random and never logged; the evidence names resolvers and counts.
 */
#include "probe/leak.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

enum { PATH_SYS = 0, PATH_TUN, PATH_REPORT };

const char *const leak_default_whoami[] = {
    "o-o.myaddr.l.google.com",
    "whoami.ds.akahelp.net",
    "resolver.dnscrypt.info",
};
const size_t leak_ndefault_whoami = nitems(leak_default_whoami);

size_t
leak_whoami_defaults(const char **out, size_t max)
{
	size_t i;

	for (i = 0; i < leak_ndefault_whoami && i < max; i++)
		out[i] = leak_default_whoami[i];
	return i;
}

struct lq {
	struct leak *l;
	int fd;
	int path;
	uint16_t id, type;
	int tries, srv;
	int report_sys; /* the report goes to the system resolver now */
	int who;	/* a whoami query: its name's index, else -1 */
	int done;
	uint64_t timer;
	char name[DNS_NAME_TEXT_MAX];
	uint8_t pkt[512];
	size_t plen;
	union net_addr to;
};

struct leak {
	const struct leak_opts *o;
	struct ev_loop *loop;
	struct lq *q;
	size_t nq, pending;
	int report_started, finished;
	uint64_t done_timer;
	struct leak_obs ob;
	void (*done)(void *arg, struct leak *l);
	void *arg;
};

static void
rnd_text(char *out, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t b[64];
	size_t i;

	if (n > sizeof b)
		n = sizeof b;
	if (getrandom(b, n, 0) != (ssize_t)n)
		for (i = 0; i < n; i++)
			b[i] = (uint8_t)(now_mono_us() >> (i % 8));
	for (i = 0; i < n; i++)
		out[i] = al[b[i] % 36];
	out[n] = '\0';
}

static uint16_t
rnd16(void)
{
	uint16_t v = 0;

	if (getrandom(&v, sizeof v, 0) != sizeof v)
		v = (uint16_t)now_mono_us();
	return v;
}

static struct leak_path_obs *
path_obs(struct leak *l, int path)
{
	return path == PATH_SYS ? &l->ob.sys : &l->ob.tun;
}

static void close_q(struct lq *q);
static void start_report(struct leak *l);

static void
on_done_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct leak *l = arg;

	(void)loop;
	(void)id;
	l->done_timer = 0;
	l->done(l->arg, l);
}

static void
finish(struct leak *l)
{
	if (l->finished)
		return;
	l->finished = 1;
	l->done_timer = ev_timer_add(l->loop, 0, on_done_timer, l);
}

/* One query ended (answered or given up). */
static void
q_end(struct lq *q)
{
	struct leak *l = q->l;

	q->done = 1;
	close_q(q);
	if (l->pending > 0)
		l->pending--;
	if (q->path == PATH_REPORT)
		finish(l);
	else if (l->pending == 0)
		start_report(l);
}

static int q_start(struct lq *q, struct err *e);

/*
 * The report through the tunnel failed: ask the system resolver instead
 * (a tunnel with upstream's DNS rules answers TXT with NOTIMP: only
 * address-like types pass, docs/checks.md). 1 when it was sent there.
 */
static int
report_fallback(struct lq *q, const char *what)
{
	struct leak *l = q->l;
	char to[NET_ADDR_STRLEN];
	struct err e = {""};

	if (q->path != PATH_REPORT || q->report_sys || l->o->nsys == 0 ||
	    !l->o->have_tun)
		return 0;
	net_addr_format(&q->to, to, sizeof to);
	snprintf(l->ob.report_note, sizeof l->ob.report_note,
	    " (through the tunnel's listener %s: %s)", to, what);
	close_q(q);
	if (l->pending > 0)
		l->pending--;
	q->report_sys = 1;
	q->tries = q->srv = 0;
	if (q_start(q, &e) != 0) {
		l->ob.report_why = RES_R_FETCH_FAILED;
		snprintf(
		    l->ob.report_error, sizeof l->ob.report_error, "%s", e.msg);
		finish(l);
	}
	return 1;
}

static void
q_fail(struct lq *q, enum res_reason why, const char *what)
{
	struct leak *l = q->l;
	char to[NET_ADDR_STRLEN];

	if (report_fallback(q, what))
		return;
	if (q->who >= 0) {
		snprintf(l->ob.who[q->who][q->path].error,
		    sizeof l->ob.who[q->who][q->path].error, "%s", what);
		q_end(q);
		return;
	}

	net_addr_format(&q->to, to, sizeof to);
	if (q->path == PATH_REPORT) {
		l->ob.report_why = why;
		snprintf(l->ob.report_error, sizeof l->ob.report_error,
		    "%s: %s", to, what);
	} else {
		struct leak_path_obs *po = path_obs(l, q->path);

		po->failed++;
		if (po->error[0] == '\0')
			snprintf(
			    po->error, sizeof po->error, "%s: %s", to, what);
	}
	q_end(q);
}

static void on_timeout(struct ev_loop *loop, uint64_t id, void *arg);

static void
q_send(struct lq *q)
{
	const struct leak_opts *o = q->l->o;

	if (q->path == PATH_SYS || (q->path == PATH_REPORT && !o->have_tun))
		q->to = o->sys[q->srv % (int)o->nsys];
	else
		q->to = o->tun;
	if (sendto(q->fd, q->pkt, q->plen, 0, &q->to.sa, net_addr_len(&q->to)) <
	    0) {
		/* An unreachable network: the next try may go elsewhere. */
	}
	q->timer = ev_timer_add(
	    q->l->loop, (uint64_t)q->l->o->timeout_ms * 1000, on_timeout, q);
}

static void
on_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct lq *q = arg;
	char ms[32];

	(void)loop;
	(void)id;
	q->timer = 0;
	if (++q->tries < q->l->o->tries) {
		q->srv++;
		q_send(q);
		return;
	}
	snprintf(ms, sizeof ms, "timeout after %d ms", q->l->o->timeout_ms);
	q_fail(q, RES_R_TIMEOUT, ms);
}

static void
got_report(struct lq *q, const struct leakz_answer *a)
{
	struct leak *l = q->l;
	struct err e = {""};
	char to[NET_ADDR_STRLEN];

	net_addr_format(&q->to, to, sizeof to);
	snprintf(l->ob.report_via, sizeof l->ob.report_via, "%s", to);
	if (a->rcode != 0) {
		char why[40];

		snprintf(why, sizeof why, "rcode %u (%s)", a->rcode,
		    dns_rcode_name(a->rcode));
		if (report_fallback(q, why))
			return;
		l->ob.report_why = RES_R_FETCH_FAILED;
		snprintf(l->ob.report_error, sizeof l->ob.report_error,
		    "%s: rcode %u to the report query", to, a->rcode);
	} else if (leakz_report_parse(a, l->ob.rep, LEAKZ_REPORT_MAX,
		       &l->ob.nrep, &l->ob.rep_total, &e) != 0) {
		l->ob.report_why = RES_R_MALFORMED;
		snprintf(l->ob.report_error, sizeof l->ob.report_error,
		    "%s: %s", to, e.msg);
	} else
		l->ob.report_ok = 1;
	q_end(q);
}

/* A whoami answer: its address (proto/leakzone.h), or why none. */
static void
got_whoami(struct lq *q, const struct leakz_answer *a)
{
	struct leak_whoami_obs *w = &q->l->ob.who[q->who][q->path];
	struct err e = {""};

	if (leakz_whoami_addr(a, w->ip, sizeof w->ip, &e) != 0)
		snprintf(w->error, sizeof w->error, "%s", e.msg);
	q_end(q);
}

static void
on_read(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct lq *q = arg;
	uint8_t buf[4096];
	union net_addr from;
	socklen_t fl = sizeof from;
	struct leakz_answer a;
	struct err e = {""};
	ssize_t n;

	(void)loop;
	(void)events;
	n = recvfrom(fd, buf, sizeof buf, 0, &from.sa, &fl);
	if (n < 0) {
		if (errno == ECONNREFUSED && q->timer != 0) {
			/* ICMP port unreachable: wait for the timer. */
		}
		return;
	}
	if (!net_addr_equal(&from, &q->to))
		return; /* not from where we asked: ignore */
	if (leakz_answer_parse(
		buf, (size_t)n, q->id, q->name, q->type, &a, &e) != 0) {
		if (strstr(e.msg, "id") != NULL || strstr(e.msg, "question"))
			return; /* a late answer to someone else */
		if (q->timer != 0)
			ev_timer_cancel(q->l->loop, q->timer);
		q->timer = 0;
		q_fail(q, RES_R_MALFORMED, e.msg);
		return;
	}
	if (q->timer != 0)
		ev_timer_cancel(q->l->loop, q->timer);
	q->timer = 0;
	if (q->path == PATH_REPORT) {
		got_report(q, &a);
		return;
	}
	if (q->who >= 0) {
		got_whoami(q, &a);
		return;
	}
	if (a.rcode != 0) {
		char rc[64];

		snprintf(rc, sizeof rc, "rcode %u (%s) for a name the zone has",
		    a.rcode, dns_rcode_name(a.rcode));
		q_fail(q, RES_R_FETCH_FAILED, rc);
		return;
	}
	path_obs(q->l, q->path)->answered++;
	q_end(q);
}

static void
close_q(struct lq *q)
{
	if (q->timer != 0)
		ev_timer_cancel(q->l->loop, q->timer);
	q->timer = 0;
	if (q->fd >= 0) {
		ev_io_del(q->l->loop, q->fd);
		close(q->fd);
	}
	q->fd = -1;
}

/* Prepare and send q; -1 with e set when no socket can be made. */
static int
q_start(struct lq *q, struct err *e)
{
	const struct leak_opts *o = q->l->o;
	union net_addr any;
	const union net_addr *dst;
	uint8_t wire[DNS_NAME_WIRE_MAX];
	long wl, pl;

	dst =
	    (q->path == PATH_SYS || (q->path == PATH_REPORT && !o->have_tun)) ?
	    &o->sys[0] :
	    &o->tun;
	memset(&any, 0, sizeof any);
	any.sa.sa_family = dst->sa.sa_family;
	if ((q->fd = net_udp_bind(&any, e)) < 0)
		return -1;
	if (ev_io_add(q->l->loop, q->fd, EV_READ, on_read, q, e) != 0) {
		close(q->fd);
		q->fd = -1;
		return -1;
	}
	q->id = rnd16();
	wl = dns_name_encode(q->name, strlen(q->name), wire, sizeof wire, e);
	if (wl < 0 ||
	    (pl = dns_query_write(q->pkt, sizeof q->pkt, q->id, wire,
		 (size_t)wl, q->type, LEAKZ_UDP_MAX, e)) < 0) {
		close_q(q);
		return -1;
	}
	q->plen = (size_t)pl;
	q->l->pending++;
	if (q->path != PATH_REPORT && q->who < 0)
		path_obs(q->l, q->path)->sent++;
	q_send(q);
	return 0;
}

static void
start_report(struct leak *l)
{
	struct lq *q = &l->q[l->nq - 1];
	char rnd[12];
	struct err e = {""};

	if (l->report_started)
		return;
	l->report_started = 1;
	if (l->ob.sys.sent == 0 && l->ob.tun.sent == 0) {
		l->ob.report_why = RES_R_FETCH_FAILED;
		snprintf(l->ob.report_error, sizeof l->ob.report_error,
		    "nothing was sent");
		finish(l);
		return;
	}
	rnd_text(rnd, 10);
	q->path = PATH_REPORT;
	/* CAA, not TXT: the tunnel's DNS path (upstream's rules) passes
	 * CAA and answers TXT with NOTIMP (docs/checks.md). */
	q->type = DNS_TYPE_CAA;
	if (leakz_name(q->name, sizeof q->name, l->o->zone, l->ob.token, -1,
		rnd, &e) != 0 ||
	    q_start(q, &e) != 0) {
		l->ob.report_why = RES_R_FETCH_FAILED;
		snprintf(
		    l->ob.report_error, sizeof l->ob.report_error, "%s", e.msg);
		finish(l);
	}
}

struct leak *
leak_start(struct ev_loop *loop, const struct leak_opts *o,
    void (*done)(void *arg, struct leak *l), void *arg, struct err *e)
{
	struct leak *l = xcalloc(1, sizeof *l);
	int nsys = o->nsys > 0 ? o->nnames : 0, ntun = 0, i, t, path;
	size_t k = 0;
	char rnd[12];

	if (o->have_tun)
		ntun = o->nnames < LEAKZ_NAMES_MAX - o->nnames ?
		    o->nnames :
		    LEAKZ_NAMES_MAX - o->nnames;
	l->o = o;
	l->loop = loop;
	l->done = done;
	l->arg = arg;
	rnd_text(l->ob.token, 14);
	l->nq = (size_t)(nsys + ntun) * 2 + o->nwhoami * 2 + 1;
	l->q = xcalloc(l->nq, sizeof *l->q);
	for (k = 0; k < l->nq; k++) {
		l->q[k].l = l;
		l->q[k].fd = -1;
		l->q[k].who = -1;
	}
	k = 0;
	l->ob.sys.names = nsys;
	l->ob.tun.names = ntun;
	for (i = 0; i < nsys + ntun; i++) {
		path = i < nsys ? PATH_SYS : PATH_TUN;
		path_obs(l, path)->mask |= (uint64_t)1 << i;
		rnd_text(rnd, 10);
		for (t = 0; t < 2; t++) {
			struct lq *q = &l->q[k++];

			q->path = path;
			q->type = t == 0 ? DNS_TYPE_A : DNS_TYPE_AAAA;
			if (leakz_name(q->name, sizeof q->name, o->zone,
				l->ob.token, i, rnd, e) != 0 ||
			    q_start(q, e) != 0) {
				leak_free(l);
				return NULL;
			}
		}
	}
	for (i = 0; i < (int)o->nwhoami && i < LEAK_WHOAMI_MAX; i++)
		for (path = PATH_SYS; path <= PATH_TUN; path++) {
			struct lq *q = &l->q[k++];

			if ((path == PATH_SYS && o->nsys == 0) ||
			    (path == PATH_TUN && !o->have_tun) ||
			    strlen(o->whoami[i]) >= sizeof q->name)
				continue;
			q->path = path;
			q->who = i;
			/* TXT is what whoami names answer, but the tunnel's
			 * DNS path refuses it (upstream's type list): A. */
			q->type = path == PATH_TUN ? DNS_TYPE_A : DNS_TYPE_TXT;
			snprintf(q->name, sizeof q->name, "%s", o->whoami[i]);
			if (q_start(q, e) != 0) {
				leak_free(l);
				return NULL;
			}
		}
	if (l->pending == 0)
		start_report(l);
	return l;
}

const struct leak_obs *
leak_obs(const struct leak *l)
{
	return &l->ob;
}

void
leak_free(struct leak *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nq; i++)
		close_q(&l->q[i]);
	if (l->done_timer != 0)
		ev_timer_cancel(l->loop, l->done_timer);
	free(l->q);
	free(l);
}

/* ---- the verdict ---- */

static int
popcount64(uint64_t m)
{
	return __builtin_popcountll(m);
}

static void
path_text(char *buf, size_t cap, const char *what,
    const struct leak_path_obs *p, const char *via)
{
	if (p->names == 0)
		res_textf(buf, cap, "%s: not tested", what);
	else
		res_textf(buf, cap,
		    "%s via %s: %d name(s), %d of %d answered%s%s", what, via,
		    p->names, p->answered, p->sent,
		    p->error[0] ? "; first failure: " : "", p->error);
}

static void
evidence(
    const struct leak_obs *ob, const struct leak_opts *o, char *buf, size_t cap)
{
	char sys[300], tun[700], via[200] = "", rep[400] = "";
	size_t i, len = 0, w, pth;

	for (i = 0; i < o->nsys; i++) {
		char a[NET_ADDR_STRLEN];

		net_addr_format(&o->sys[i], a, sizeof a);
		len += (size_t)snprintf(
		    via + len, sizeof via - len, "%s%s", i ? "," : "", a);
		if (len >= sizeof via)
			break;
	}
	if (o->nsys > 0 && len < sizeof via)
		snprintf(via + len, sizeof via - len, " (%s)",
		    o->sys_from ? o->sys_from : "given");
	path_text(
	    sys, sizeof sys, "system path", &ob->sys, o->nsys > 0 ? via : "-");
	if (o->have_tun)
		net_addr_format(&o->tun, via, sizeof via);
	path_text(
	    tun, sizeof tun, "tunnel path", &ob->tun, o->have_tun ? via : "-");
	len = 0;
	for (i = 0; i < ob->nrep && len < sizeof rep; i++)
		len += (size_t)snprintf(rep + len, sizeof rep - len,
		    "%s%s x%u names %llx", i ? ", " : "", ob->rep[i].addr,
		    ob->rep[i].count, (unsigned long long)ob->rep[i].mask);
	for (w = 0; w < o->nwhoami && w < LEAK_WHOAMI_MAX; w++)
		for (pth = 0; pth < 2; pth++) {
			const struct leak_whoami_obs *wo = &ob->who[w][pth];
			size_t tl = strlen(tun);

			if ((wo->ip[0] == '\0' && wo->error[0] == '\0') ||
			    tl + 1 >= sizeof tun)
				continue;
			snprintf(tun + tl, sizeof tun - tl,
			    "; whoami %s %s: %s", o->whoami[w],
			    pth ? "tunnel" : "system",
			    wo->ip[0] ? wo->ip : wo->error);
		}
	res_textf(buf, cap, "zone %s; %s; %s; report via %s%s: %s%s%s%s%s",
	    o->zone, sys, tun, ob->report_via[0] ? ob->report_via : "-",
	    ob->report_note,
	    ob->report_ok ? (ob->nrep ? rep : "nobody asked") :
			    ob->report_error,
	    ob->rep_total > ob->nrep ? " (more not shown)" : "",
	    o->have_tun ? "" : "; no tunnel path: ",
	    o->have_tun ? "" : (o->tun_why ? o->tun_why : "none"),
	    o->local_evidence ? o->local_evidence : "");
}

static struct res_check *
row(struct res_check *out, size_t max, size_t *n)
{
	struct res_check *c;

	if (*n >= max)
		return NULL;
	c = &out[(*n)++];
	res_check_init(c);
	c->kind = RES_CHECK_LEAK;
	return c;
}

void
leak_judge(const struct leak_obs *ob, const struct leak_opts *o,
    struct res_check *out, size_t max, size_t *n)
{
	char ev[RES_EVIDENCE_MAX];
	uint64_t tun_seen = 0;
	struct res_check *c;
	size_t i, j, nsysaddr = 0;

	*n = 0;
	evidence(ob, o, ev, sizeof ev);
	if (o->nsys == 0 && (c = row(out, max, n)) != NULL) {
		snprintf(c->subject, sizeof c->subject, "system resolver");
		c->reason = RES_R_FETCH_FAILED;
		res_textf(c->detail, sizeof c->detail,
		    "no system resolver to test: %s",
		    o->sys_why ? o->sys_why : "none configured");
		snprintf(c->evidence, sizeof c->evidence, "%s", ev);
		return;
	}
	if (!ob->report_ok) {
		if ((c = row(out, max, n)) == NULL)
			return;
		snprintf(c->subject, sizeof c->subject, "report");
		c->reason =
		    ob->report_why ? ob->report_why : RES_R_FETCH_FAILED;
		res_textf(c->detail, sizeof c->detail,
		    "the leak zone's report could not be read: %s",
		    ob->report_error);
		snprintf(c->evidence, sizeof c->evidence, "%s", ev);
		return;
	}
	for (i = 0; i < ob->nrep; i++)
		if (ob->rep[i].mask & ob->tun.mask)
			tun_seen |= (uint64_t)1 << i;
	for (i = 0; i < ob->nrep; i++) {
		const struct leakz_entry *en = &ob->rep[i];
		int names = popcount64(en->mask & ob->sys.mask);

		if (names == 0)
			continue;
		nsysaddr++;
		if ((c = row(out, max, n)) == NULL)
			return;
		snprintf(c->subject, sizeof c->subject, "%s", en->addr);
		snprintf(c->evidence, sizeof c->evidence, "%s", ev);
		if (tun_seen == 0) {
			c->reason = RES_R_NO_BASELINE;
			res_textf(c->detail, sizeof c->detail,
			    "resolver %s (IPv%d) asked for %d of %d "
			    "system-path name(s), %u queries; no baseline: "
			    "nothing reached the zone through the tunnel",
			    en->addr, en->family, names, ob->sys.names,
			    en->count);
			continue;
		}
		if (tun_seen & ((uint64_t)1 << i)) {
			c->verdict = RES_VERDICT_OK;
			c->reason = RES_R_OK;
			res_textf(c->detail, sizeof c->detail,
			    "resolver %s (IPv%d) asked for %d of %d "
			    "system-path name(s): the tunnel's own egress",
			    en->addr, en->family, names, ob->sys.names);
			continue;
		}
		c->verdict = RES_VERDICT_FAIL;
		c->reason = RES_R_LEAK;
		{
			char eg[160] = "";
			size_t len = 0;

			for (j = 0; j < ob->nrep && len < sizeof eg; j++)
				if (tun_seen & ((uint64_t)1 << j))
					len += (size_t)snprintf(eg + len,
					    sizeof eg - len, "%s%s",
					    len ? "," : "", ob->rep[j].addr);
			res_textf(c->detail, sizeof c->detail,
			    "leak: resolver %s (IPv%d) asked for %d of %d "
			    "system-path name(s), %u queries; the tunnel's "
			    "egress is %s",
			    en->addr, en->family, names, ob->sys.names,
			    en->count, eg);
		}
	}
	if (nsysaddr == 0 && (c = row(out, max, n)) != NULL) {
		snprintf(c->subject, sizeof c->subject, "system resolver");
		c->reason = RES_R_FETCH_FAILED;
		res_textf(c->detail, sizeof c->detail,
		    "no system-path name reached the leak zone (%d of %d "
		    "queries answered)%s%s: cannot tell",
		    ob->sys.answered, ob->sys.sent,
		    ob->sys.error[0] ? "; " : "", ob->sys.error);
		snprintf(c->evidence, sizeof c->evidence, "%s", ev);
	}
}

size_t
leak_resolv_conf(const char *text, union net_addr *out, size_t max)
{
	const char *p = text;
	size_t n = 0;

	while (p != NULL && *p != '\0' && n < max) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256], word[32], val[200];

		if (len < sizeof line) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (sscanf(line, " %31s %199s", word, val) == 2 &&
			    strcmp(word, "nameserver") == 0 &&
			    strchr(val, '%') == NULL) {
				char br[210];

				/* A bare IPv6 address would read its last
				 * group as a port. */
				snprintf(br, sizeof br,
				    strchr(val, ':') ? "[%s]" : "%s", val);
				if (net_addr_parse(br, 53, &out[n], NULL) == 0)
					n++;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return n;
}
