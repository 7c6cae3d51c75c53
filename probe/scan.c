/* SPDX-License-Identifier: MIT */
/*
 * scan.c — the staged resolver scan (scan.h): its public interface, the
 * admission of items in shuffled order under the resume cursor, and the
 * pump that runs on every socket event and every 2 ms tick (due timers,
 * admission, the ready queue drained under the token bucket). The units
 * it drives are listed in scan-int.h: what an item does is
 * scan-funnel.c's, the sockets are scan-net.c's, what an answer means is
 * scan-judge.c's.
 *
 * It does not: parse configuration, print, or talk to the store (the CLI
 * does that through the callbacks).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/method.h"
#include "common/util.h"
#include "probe/scan-int.h"
#include "proto/dns.h"

uint64_t
scan_rnd(struct scan *s)
{
	return scan_rand64(&s->rng);
}

/* ---- admission and the tick --------------------------------------------- */

static void
admit(struct scan *s)
{
	struct item *it;
	uint64_t idx;
	uint32_t lim = (uint32_t)(s->o.rate > 0 ? s->o.rate / 50 + 64 : 4096);

	if (s->env_pending > 0 || s->stopping)
		return;
	while (s->next_pos < s->total && s->rlen < lim &&
	    s->next_pos - s->cursor < SCAN_DONE_BITS - 1) {
		idx = scan_perm_at(&s->perm, s->next_pos);
		if (s->o.skip != NULL &&
		    s->o.skip(s->o.arg, &s->addrs[idx / s->o.ndomains],
			s->o.domains[idx % s->o.ndomains])) {
			s->c.skipped++;
			s->c.done++;
			s->next_pos++;
			scan_done_mark(s, s->next_pos - 1);
			continue;
		}
		if ((it = scan_slot_get(s)) == NULL)
			break;
		it->pos = s->next_pos++;
		it->addr = s->addrs[idx / s->o.ndomains];
		it->dom = (unsigned)(idx % s->o.ndomains);
		net_addr_format_ip(&it->addr, it->r.addr, sizeof it->r.addr);
		it->r.port = net_addr_port(&it->addr);
		snprintf(it->r.domain, sizeof it->r.domain, "%s",
		    s->o.domains[it->dom]);
		it->state = IT_FREE;
		it->ahash = net_addr_hash(&it->addr);
		hmap_put(&s->amap, it->ahash, scan_item_idx(s, it));
		scan_item_enter(s, it, IT_LIVE);
		scan_item_query(s, it);
	}
}

static void
check_done(struct scan *s)
{
	if (s->done_called || !s->running)
		return;
	if (s->stopping ||
	    (s->env_pending == 0 && s->next_pos >= s->total &&
		s->c.inflight == 0)) {
		s->done_called = 1;
		s->running = 0;
		if (s->o.on_done != NULL)
			s->o.on_done(
			    s->done_arg != NULL ? s->done_arg : s->o.arg);
	}
}

void
scan_pump(struct scan *s)
{
	struct scan_heap_ent h;
	struct item *it;
	uint64_t now;

	if (!s->running)
		return;
	now = now_mono_us();
	while (s->heap.n > 0 && s->heap.v[0].when <= now) {
		h = s->heap.v[0];
		scan_heap_pop(&s->heap);
		it = &s->items[h.idx];
		if (it->gen != h.gen || it->state == IT_FREE)
			continue;
		switch (it->evk) {
		case EVK_TIMEOUT:
			it->evk = EVK_NONE;
			scan_trace(s, it, "  .. no answer in %d ms",
			    scan_stage_try(s, it->state)->timeout_ms);
			if (it->state == IT_ENV_ICPT) {
				scan_release_pending(s, it);
				scan_item_finish(s, it, 1, RES_R_OK);
			} else
				scan_attempt_failed(s, it, RES_R_TIMEOUT, 0);
			break;
		case EVK_SENDAT:
			it->evk = EVK_NONE;
			scan_item_ready(s, it);
			break;
		case EVK_BURST_END:
			it->evk = EVK_NONE;
			scan_burst_end(s, it);
			break;
		}
	}
	admit(s);
	while (s->rlen > 0) {
		it = &s->items[s->ready[s->rhead]];
		if (it->state == IT_FREE || !it->queued) {
			s->rhead = (s->rhead + 1) % s->nitems;
			s->rlen--;
			continue;
		}
		if (!scan_bucket_take(&s->bucket, now_mono_us()))
			break;
		s->rhead = (s->rhead + 1) % s->nitems;
		s->rlen--;
		it->queued = 0;
		if (scan_send(s, it) == -1) {
			/* Socket buffer full: retry in a tick. */
			scan_item_event(s, it, EVK_SENDAT, now + SCAN_TICK_US);
			break;
		}
		admit(s);
	}
	check_done(s);
}

static void
on_tick(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct scan *s = arg;

	(void)id;
	s->tick_id = 0;
	scan_pump(s);
	if (s->running)
		s->tick_id = ev_timer_add(loop, SCAN_TICK_US, on_tick, s);
}

/* ---- public ------------------------------------------------------------- */

void
scan_opts_defaults(struct scan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->method = METHOD_DEFAULT; /* our default, as config's (method.h) */
	o->max_stage = RES_STAGE_HANDSHAKE;
	o->rate = 500;
	o->parallel = 2048;
	o->hs_parallel = 32;
	o->t_live.timeout_ms = 1500;
	o->t_live.tries = 2;
	o->t_reach.timeout_ms = 2000;
	o->t_reach.tries = 2;
	o->t_mtu.timeout_ms = 2000;
	o->t_mtu.tries = 2;
	o->t_hs.timeout_ms = 3000;
	o->t_hs.tries = 3;
	o->min_up = 38;
	o->max_up = 150;
	o->min_down = 100;
	o->max_down = 500;
	o->seed = 1;
	o->loss_probes = 10;
	o->max_loss_pct = 10;
}

struct scan *
scan_new(struct ev_loop *loop, const struct scan_opts *o, struct err *e)
{
	uint8_t wname[DNS_NAME_STRICT_MAX + 1];
	struct scan *s;
	uint32_t i, n;
	size_t d;

	if (o->ndomains == 0 || o->ndomains > SCAN_MAX_DOMAINS) {
		err_set(e, "scan: need 1..%d tunnel domains", SCAN_MAX_DOMAINS);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->o = *o;
	if (s->o.parallel < 1)
		s->o.parallel = 1;
	if (s->o.hs_parallel < 1)
		s->o.hs_parallel = 1;
	for (i = 0; i < SCAN_NSOCK; i++)
		s->fd4[i] = s->fd6[i] = -1;
	for (d = 0; d < o->ndomains; d++) {
		if (dns_name_encode(o->domains[d], strlen(o->domains[d]), wname,
			sizeof wname, e) < 0) {
			err_prefix(e, "domain '%s'", o->domains[d]);
			scan_free(s);
			return NULL;
		}
	}
	if (o->key != NULL &&
	    (s->cipher = wire_cipher_new(o->method, o->key, o->keylen, e)) ==
		NULL) {
		scan_free(s);
		return NULL;
	}
	n = (uint32_t)s->o.parallel + SCAN_MAX_ENV_PROBES + 1;
	s->nitems = n;
	s->items = xcalloc(n, sizeof *s->items);
	s->freel = xcalloc(n, sizeof *s->freel);
	for (i = 0; i < n; i++)
		s->freel[i] = n - 1 - i;
	s->nfree = n;
	s->ready = xcalloc(n, sizeof *s->ready);
	s->hswait = xcalloc(n, sizeof *s->hswait);
	hmap_reserve(&s->amap, n); /* never grows while items are admitted */
	s->donebits = xcalloc(SCAN_DONE_BITS / 8, 1);
	if (getrandom(&s->rng, sizeof s->rng, 0) != sizeof s->rng)
		s->rng = now_mono_us() ^ (uint64_t)getpid();
	s->probe_code = (uint32_t)scan_rnd(s);
	if (scan_socks_open(s, AF_INET, e) == -1) {
		scan_free(s);
		return NULL;
	}
	return s;
}

void
scan_free(struct scan *s)
{
	if (s == NULL)
		return;
	if (s->tick_id != 0)
		ev_timer_cancel(s->loop, s->tick_id);
	scan_socks_close(s);
	wire_cipher_free(s->cipher);
	free(s->addrs);
	free(s->items);
	free(s->freel);
	free(s->ready);
	free(s->hswait);
	scan_heap_free(&s->heap);
	hmap_free(&s->amap);
	free(s->donebits);
	free(s);
}

void
scan_add(struct scan *s, const union net_addr *a)
{
	if (s->naddrs == s->addrcap) {
		s->addrcap = s->addrcap ? s->addrcap * 2 : 1024;
		s->addrs =
		    xreallocarray(s->addrs, s->addrcap, sizeof *s->addrs);
	}
	s->addrs[s->naddrs++] = *a;
}

int
scan_add_list(
    struct scan *s, const char *path, const struct rl_opts *opts, struct err *e)
{
	struct rl_reader *r;
	union net_addr a;
	int rc;

	if (rl_open(path, opts, &r, e) == -1)
		return -1;
	while ((rc = rl_next(r, &a, e)) == 1)
		scan_add(s, &a);
	rl_close(r);
	return rc == 0 ? 0 : -1;
}

uint64_t
scan_naddrs(const struct scan *s)
{
	return s->naddrs;
}

int
scan_start(struct scan *s, uint64_t start_pos, struct err *e)
{
	s->total = s->naddrs * s->o.ndomains;
	scan_perm_init(&s->perm, s->total, s->o.seed);
	if (start_pos > s->total)
		start_pos = s->total;
	s->next_pos = s->cursor = s->start_pos = start_pos;
	s->c.total = s->total;
	s->c.done = start_pos;
	s->c.skipped = start_pos;
	scan_bucket_init(&s->bucket, s->o.rate,
	    s->o.rate > 0 ? MAX(1, s->o.rate / 100) : 1, now_mono_us());
	if (scan_socks_watch(s, AF_INET, e) == -1)
		return -1;
	s->running = 1;
	scan_env_start(s);
	s->tick_id = ev_timer_add(s->loop, 1, on_tick, s);
	return 0;
}

void
scan_stop(struct scan *s)
{
	uint32_t i;

	if (!s->running)
		return;
	s->stopping = 1;
	for (i = 0; i < s->nitems; i++) {
		struct item *it = &s->items[i];

		if (it->state == IT_FREE)
			continue;
		/*
		 * An abandoned item is redone from the start on resume:
		 * take back what it counted, so resumed totals are exact.
		 */
		if (it->state != IT_ENV_ICPT && it->state != IT_ENV_SRV)
			scan_item_uncount(s, it);
		if (it->state == IT_BURST)
			scan_burst_abandon(s, it);
		else
			scan_item_free(s, it);
	}
	s->env_pending = 0;
	check_done(s);
}

void
scan_set_done_arg(struct scan *s, void *arg)
{
	s->done_arg = arg;
}

uint64_t
scan_cursor(const struct scan *s)
{
	return s->cursor;
}

void
scan_counters(const struct scan *s, struct scan_counters *out)
{
	*out = s->c;
	out->total = s->total;
}

void
scan_stage_stats(const struct scan *s, struct res_run *run)
{
	int i;

	for (i = 0; i < RES_STAGE_COUNT; i++) {
		const struct stage_acc *a = &s->st[i];

		run->stages[i].tested += a->tested;
		run->stages[i].passed += a->passed;
		run->stages[i].failed += a->failed;
		if (a->t_first != 0 && a->t_last >= a->t_first)
			run->stages[i].duration_ms +=
			    (int64_t)((a->t_last - a->t_first) / 1000);
	}
}

int
scan_intercepted(const struct scan *s)
{
	return s->intercepted;
}

int
scan_server_down(const struct scan *s)
{
	return s->server_down;
}

const char *
scan_env_evidence(const struct scan *s)
{
	return s->env_evidence;
}
