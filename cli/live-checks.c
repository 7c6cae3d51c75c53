/* SPDX-License-Identifier: MIT */
/*
 * live-checks.c — `connect --checks` (live-checks.h): a one-second timer
 * on the engine's loop starts a run of `ip` (probe/exitip) and of `leak`
 * (probe/leak) when one is due, both on the same loop (libcurl multi and
 * non-blocking UDP: the engine keeps serving while they run); each result
 * is judged by the same functions as the commands (cli_ip_plan_judge,
 * cli_leak_plan_judge), turned into the status object and handed to the
 * engine, and written into the history.
 *
 * A run is never started while the previous one of the same check still
 * runs; the first waits for the session to be live (a check of a tunnel
 * that is not up yet says nothing), later ones run on time whatever the
 * session does, so that a tunnel gone down shows in the verdict instead
 * of a stale "ok".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/checks-out.h"
#include "cli/live-checks.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"

#define LIVE_TICK_US 1000000
#define LIVE_ROWS    (LEAKZ_REPORT_MAX + 2)

struct cli_live {
	struct ev_loop *loop;
	struct eng_client *cl;
	struct cli_snap *snap;
	uint64_t interval_us;
	uint64_t tick, reap;
	struct cli_ip_plan *ip;
	struct cli_leak_plan *lk;
	/* the runs: running while the pointer is set and !done */
	struct exitip *x;
	struct leak *l;
	int x_done, l_done;
	uint64_t x_next, l_next; /* monotonic us of the next run; 0: now */
	int64_t x_t0, l_t0;	 /* wall ms the run started */
	unsigned runs;
	int live_once; /* the session has been live */
};

static int
is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/*
 * The status object of a check: the overall verdict (code), reason and
 * detail of the first row that has it, address, every row with its
 * evidence, the time. Each row also goes into the history.
 */
static json_t *
result_obj(struct cli_live *lv, struct res_check *c, size_t n, int code,
    const char *address, int64_t t0)
{
	json_t *o = json_object(), *rows = json_array();
	int64_t now = now_wall_ms();
	const struct res_check *main = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		c[i].at_ms = now;
		if (main == NULL && res_verdict_exit(c[i].verdict) == code)
			main = &c[i];
		json_array_append_new(rows,
		    json_pack("{s:s,s:s,s:s,s:s,s:s}", "subject", c[i].subject,
			"verdict",
			cli_status_name(res_verdict_exit(c[i].verdict)),
			"reason", res_reason_name(c[i].reason), "detail",
			c[i].detail, "evidence", c[i].evidence));
		cli_snap_check(lv->snap, &c[i]);
	}
	json_object_set_new(o, "verdict", json_string(cli_status_name(code)));
	json_object_set_new(o, "reason",
	    json_string(main ? res_reason_name(main->reason) : "no_result"));
	json_object_set_new(o, "detail",
	    json_string(main ? main->detail : "the check gave no result"));
	json_object_set_new(
	    o, "address", address[0] ? json_string(address) : json_null());
	json_object_set_new(o, "evidence", json_pack("{s:o}", "checks", rows));
	json_object_set_new(o, "time_unix_ms", json_integer(now));
	json_object_set_new(o, "duration_ms", json_integer(now - t0));
	json_object_set_new(o, "run", json_integer(lv->runs));
	json_object_set_new(o, "interval_s",
	    json_integer((json_int_t)(lv->interval_us / 1000000)));
	return o;
}

/* A check that has no result (why, one line): verdict word and reason. */
static json_t *
plain_obj(const char *verdict, const char *reason, const char *detail,
    int64_t time_ms)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:n,s:n}", "verdict", verdict,
	    "reason", reason, "detail", detail, "address", "evidence");

	json_object_set_new(
	    o, "time_unix_ms", time_ms ? json_integer(time_ms) : json_null());
	return o;
}

static void
on_reap(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct cli_live *lv = arg;

	(void)loop;
	(void)id;
	lv->reap = 0;
	if (lv->x != NULL && lv->x_done) {
		exitip_free(lv->x);
		lv->x = NULL;
	}
	if (lv->l != NULL && lv->l_done) {
		leak_free(lv->l);
		lv->l = NULL;
	}
}

/* A run is freed from the loop, never inside its own callback. */
static void
reap_soon(struct cli_live *lv)
{
	if (lv->reap == 0)
		lv->reap = ev_timer_add(lv->loop, 0, on_reap, lv);
}

static void
ip_done(void *arg, struct exitip *x)
{
	struct cli_live *lv = arg;
	struct res_check c[2];
	const struct exitip_obs *obs;
	char address[2 * ECHO_IP_MAX + 2] = "";
	size_t nc, n, i;
	int fam, code;

	cli_ip_plan_judge(lv->ip, x, c, &nc);
	code = exitip_exit_code(c, nc);
	/* The exit address seen through the tunnel, per family. */
	obs = exitip_obs(x, &n);
	for (fam = 4; fam <= 6; fam += 2)
		for (i = 0; i < n; i++)
			if (obs[i].ok && obs[i].path == EXITIP_TUNNEL &&
			    obs[i].family == fam) {
				size_t len = strlen(address);

				snprintf(address + len, sizeof address - len,
				    "%s%s", len ? " " : "", obs[i].ip);
				break;
			}
	eng_client_set_check(lv->cl, ENG_CHECK_EXIT_IP,
	    result_obj(lv, c, nc, code, address, lv->x_t0));
	lv->x_done = 1;
	reap_soon(lv);
}

static void
leak_done(void *arg, struct leak *l)
{
	struct cli_live *lv = arg;
	struct res_check *c = xcalloc(LIVE_ROWS, sizeof *c);
	char address[256] = "";
	size_t nc, i, len;
	int code;

	cli_leak_plan_judge(lv->lk, l, c, LIVE_ROWS, &nc);
	code = cli_checks_exit(c, nc);
	/* The resolvers behind the verdict (leaking ones when critical). */
	for (i = 0; i < nc; i++) {
		if (res_verdict_exit(c[i].verdict) != code ||
		    !is_ip(c[i].subject))
			continue;
		len = strlen(address);
		if (len + strlen(c[i].subject) + 2 > sizeof address)
			break;
		snprintf(address + len, sizeof address - len, "%s%s",
		    len ? " " : "", c[i].subject);
	}
	eng_client_set_check(lv->cl, ENG_CHECK_LEAK,
	    result_obj(lv, c, nc, code, address, lv->l_t0));
	free(c);
	lv->l_done = 1;
	reap_soon(lv);
}

static void
start_ip(struct cli_live *lv)
{
	struct err e = {""};

	lv->x_done = 0;
	lv->x_t0 = now_wall_ms();
	lv->x =
	    exitip_start(lv->loop, cli_ip_plan_opts(lv->ip), ip_done, lv, &e);
	if (lv->x == NULL)
		eng_client_set_check(lv->cl, ENG_CHECK_EXIT_IP,
		    plain_obj("unknown", "internal", e.msg, now_wall_ms()));
}

static void
start_leak(struct cli_live *lv)
{
	json_t *st = eng_client_status_json(lv->cl, "", 1);
	struct err e = {""};
	char local[480];

	/* The local signal as the command shows it, from the same status. */
	cli_leak_local(st, local, sizeof local);
	json_decref(st);
	lv->l_done = 0;
	lv->l_t0 = now_wall_ms();
	lv->l = leak_start(
	    lv->loop, cli_leak_plan_opts(lv->lk, local), leak_done, lv, &e);
	if (lv->l == NULL)
		eng_client_set_check(lv->cl, ENG_CHECK_LEAK,
		    plain_obj("unknown", "internal", e.msg, now_wall_ms()));
}

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct cli_live *lv = arg;
	uint64_t now = ev_now_us(loop);
	int started = 0;

	(void)id;
	lv->tick = ev_timer_add(loop, LIVE_TICK_US, on_tick, lv);
	/* A client on its way out has nothing left to prove. */
	if (eng_client_stats(lv->cl)->phase == ENG_CLI_STOPPING)
		return;
	if (!lv->live_once && !eng_client_live(lv->cl))
		return;
	lv->live_once = 1;
	if (lv->x == NULL && now >= lv->x_next) {
		lv->x_next = now + lv->interval_us;
		started = 1;
		start_ip(lv);
	}
	if (lv->lk != NULL && lv->l == NULL && now >= lv->l_next) {
		lv->l_next = now + lv->interval_us;
		started = 1;
		start_leak(lv);
	}
	if (started)
		lv->runs++;
}

/* The client's listener bound, "HOST:PORT", or "" with why set. */
static void
socks_addr(const union net_addr *bound, const struct cfg *conf, char *buf,
    size_t len, char *why, size_t wlen)
{
	buf[0] = '\0';
	if (bound == NULL)
		snprintf(why, wlen, "the engine has no listener");
	else if (conf->client.socks_auth && conf->client.socks_user == NULL)
		snprintf(why, wlen,
		    "the SOCKS port needs SOCKS5_USER and SOCKS5_PASS");
	else
		net_addr_format(bound, buf, len);
}

struct cli_live *
cli_live_start(struct ev_loop *loop, struct eng_client *cl,
    const union net_addr *bound, const struct cfg *conf, unsigned interval_ms,
    struct cli_snap *snap, struct err *e)
{
	struct cli_live *lv = xcalloc(1, sizeof *lv);
	char socks[NET_ADDR_STRLEN], why[200];
	union net_addr dns;
	int have_dns = eng_client_dns_addr(cl, &dns) == 0;

	lv->loop = loop;
	lv->cl = cl;
	lv->snap = snap;
	lv->interval_us = (uint64_t)interval_ms * 1000;
	socks_addr(bound, conf, socks, sizeof socks, why, sizeof why);
	if ((lv->ip = cli_ip_plan_new(conf, socks[0] ? socks : NULL, why, e)) ==
	    NULL) {
		free(lv);
		return NULL;
	}
	lv->lk = cli_leak_plan_new(conf, have_dns ? &dns : NULL,
	    "the engine has no DNS listener (LOCAL_DNS_ENABLED)");
	eng_client_set_check(cl, ENG_CHECK_EXIT_IP,
	    plain_obj("not tested", "pending",
		"the first run starts when the session is live", 0));
	eng_client_set_check(cl, ENG_CHECK_LEAK,
	    lv->lk != NULL ?
		plain_obj("not tested", "pending",
		    "the first run starts when the session is live", 0) :
		plain_obj("not tested", "no_leak_zone",
		    "no MDNS_LEAK_ZONE in the configuration", 0));
	lv->tick = ev_timer_add(loop, LIVE_TICK_US, on_tick, lv);
	log_info("exit checks every %u s: ip%s", interval_ms / 1000,
	    lv->lk != NULL ? " and leak" : " (leak: no MDNS_LEAK_ZONE)");
	return lv;
}

void
cli_live_stop(struct cli_live *lv)
{
	if (lv == NULL)
		return;
	if (lv->tick != 0)
		ev_timer_cancel(lv->loop, lv->tick);
	if (lv->reap != 0)
		ev_timer_cancel(lv->loop, lv->reap);
	exitip_free(lv->x);
	leak_free(lv->l);
	cli_ip_plan_free(lv->ip);
	cli_leak_plan_free(lv->lk);
	free(lv);
}
