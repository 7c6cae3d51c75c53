/* SPDX-License-Identifier: MIT */
/*
 * pool-status.c — what the resolver pool shows: its event queue (a ring
 * that drops the oldest when full and counts the drops), state and event
 * names, counts by state, and the control protocol's `resolvers` member
 * (docs/control-protocol.md). Reads the pool; changes nothing but the
 * event ring.
 */
#include <stdio.h>
#include <string.h>

#include "engine/pool-int.h"

/* ---- events ---- */

void
pool_push_event(struct pool *p, enum pool_event_kind k, uint32_t id,
    uint64_t now, const char *detail)
{
	struct pool_event *e;

	if (p->cfg.event_cap == 0)
		return;
	if (p->ev_len == p->cfg.event_cap) {
		p->ev_head = (p->ev_head + 1) % p->cfg.event_cap;
		p->ev_len--;
		p->ev_dropped++;
	}
	e = &p->ev[(p->ev_head + p->ev_len) % p->cfg.event_cap];
	p->ev_len++;
	e->kind = k;
	e->conn = id;
	e->at_us = now;
	snprintf(e->detail, sizeof(e->detail), "%s", detail);
}

int
pool_event_next(struct pool *p, struct pool_event *ev)
{
	if (p->ev_len == 0)
		return 0;
	*ev = p->ev[p->ev_head];
	p->ev_head = (p->ev_head + 1) % p->cfg.event_cap;
	p->ev_len--;
	return 1;
}

uint64_t
pool_events_dropped(const struct pool *p)
{
	return p->ev_dropped;
}

const char *
pool_state_name(enum pool_state s)
{
	static const char *const names[] = {
	    "testing", "active", "disabled", "rechecking", "rejected"};

	return (unsigned)s < 5 ? names[s] : "?";
}

const char *
pool_event_kind_name(enum pool_event_kind k)
{
	switch (k) {
	case POOL_EV_DISABLED:
		return "resolver_disabled";
	case POOL_EV_ENABLED:
		return "resolver_enabled";
	case POOL_EV_REJECTED:
		return "resolver_rejected";
	}
	return "?";
}

void
pool_counts(const struct pool *p, struct pool_counts *o)
{
	memset(o, 0, sizeof(*o));
	o->total = p->n;
	o->active = p->cnt[POOL_ACTIVE];
	o->disabled = p->cnt[POOL_DISABLED];
	o->rechecking = p->cnt[POOL_RECHECKING];
	o->testing = p->cnt[POOL_TESTING];
	o->rejected = p->cnt[POOL_REJECTED];
	o->in_flight_tests = p->tests_in_flight;
	o->passed_waiting = p->ready ? 0 : p->npassed;
}

/* ---- status ---- */

static json_t *
conn_json(const struct pool *p, uint32_t id, uint64_t now)
{
	const struct pool_conn *c = &p->c[id];
	char addr[NET_ADDR_STRLEN];

	net_addr_format(&p->res[c->resolver], addr, sizeof(addr));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:I, s:I, "
			 "s:I, s:o}",
	    "address", addr, "domain", p->dom[c->domain], "state",
	    pool_state_name(c->state), "reason", c->reason, "upload_mtu",
	    (json_int_t)c->up_mtu, "download_mtu", (json_int_t)c->down_mtu,
	    "rtt_ms", pool_conn_rtt_us(p, id) / 1000.0, "loss",
	    pool_conn_loss(p, id, now), "sent", (json_int_t)c->sent, "answered",
	    (json_int_t)c->answered, "timeouts", (json_int_t)c->timeouts,
	    "last_valid_answer_age_ms",
	    c->last_valid_us == 0 ?
		json_null() :
		json_integer((json_int_t)((now >= c->last_valid_us ?
						  now - c->last_valid_us :
						  0) /
		    1000)));
}

json_t *
pool_status_json(const struct pool *p, uint64_t now, size_t list_max)
{
	json_t *o, *list = json_array();
	uint32_t i;
	size_t n = 0;

	if (list_max == 0) {
		for (i = 0; i < p->n; i++)
			json_array_append_new(list, conn_json(p, i, now));
	} else {
		for (i = 0; i < p->nact && n < list_max; i++, n++)
			json_array_append_new(
			    list, conn_json(p, p->act[i], now));
		for (i = 0; i < p->n && n < list_max; i++)
			if (p->c[i].state != POOL_ACTIVE) {
				json_array_append_new(
				    list, conn_json(p, i, now));
				n++;
			}
	}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "total",
	    (json_int_t)p->n, "active", (json_int_t)p->cnt[POOL_ACTIVE],
	    "disabled",
	    (json_int_t)(p->cnt[POOL_DISABLED] + p->cnt[POOL_RECHECKING]),
	    "testing", (json_int_t)p->cnt[POOL_TESTING], "rejected",
	    (json_int_t)p->cnt[POOL_REJECTED], "list", list);
	return o;
}
