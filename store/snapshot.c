/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c — the periodic engine snapshots of `connect` and `serve`
 * (store.h, store_snap_*): a timer on the engine's loop asks for the
 * status object the control socket serves, adds the events seen since the
 * previous snapshot, and stores it as one engine_snapshots row; the same
 * transaction deletes what the retention no longer keeps.
 *
 * It is built on the public store API only. It never waits for another
 * process's lock longer than busy_ms (a skipped snapshot is counted, the
 * next one comes an interval later), never logs and never prints: the
 * caller reads store_snap_stats(). It does not decide what the status
 * holds; the caller's function does (the CLI trims long lists).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define EVENT_TEXT_MAX 160

struct snap_event {
	int64_t at_ms;
	char kind[32];
	char resolver[RES_ADDR_MAX + 8];
	char detail[EVENT_TEXT_MAX];
};

struct store_snap {
	struct ev_loop *loop;
	struct store *db;
	int64_t run_id;
	struct store_snap_opts o;
	store_snap_fn fn;
	void *arg;
	uint64_t timer;
	struct snap_event *ev; /* o.max_events slots */
	size_t nev;
	uint64_t dropped; /* events beyond max_events since the last write */
	struct store_snap_stats st;
};

void
store_snap_defaults(struct store_snap_opts *o)
{
	memset(o, 0, sizeof *o);
	o->interval_ms = 30000;
	o->retention_ms = 7LL * 24 * 3600 * 1000;
	o->max_rows = 20000;
	o->max_events = 64;
	o->busy_ms = 50;
}

static void on_timer(struct ev_loop *loop, uint64_t id, void *arg);

static void
arm(struct store_snap *w)
{
	w->timer = w->o.interval_ms > 0 ?
	    ev_timer_add(
		w->loop, (uint64_t)w->o.interval_ms * 1000, on_timer, w) :
	    0;
}

struct store_snap *
store_snap_new(struct ev_loop *loop, struct store *s, int64_t run_id,
    const struct store_snap_opts *o, store_snap_fn fn, void *arg)
{
	struct store_snap *w = xcalloc(1, sizeof *w);

	w->loop = loop;
	w->db = s;
	w->run_id = run_id;
	w->o = *o;
	w->fn = fn;
	w->arg = arg;
	if (w->o.max_events > 0)
		w->ev = xcalloc(w->o.max_events, sizeof *w->ev);
	store_set_busy_timeout(s, w->o.busy_ms);
	arm(w);
	return w;
}

void
store_snap_event(struct store_snap *w, const char *kind, const char *resolver,
    const char *detail)
{
	struct snap_event *x;

	if (w == NULL)
		return;
	if (w->nev >= w->o.max_events) {
		w->dropped++;
		return;
	}
	x = &w->ev[w->nev++];
	x->at_ms = now_wall_ms();
	snprintf(x->kind, sizeof x->kind, "%s", kind ? kind : "");
	snprintf(
	    x->resolver, sizeof x->resolver, "%s", resolver ? resolver : "");
	snprintf(x->detail, sizeof x->detail, "%s", detail ? detail : "");
}

/* The events as a JSON array in the control protocol's EVENT shape. */
static json_t *
events_json(const struct store_snap *w)
{
	json_t *a = json_array(), *o, *d;
	size_t i;

	for (i = 0; i < w->nev; i++) {
		o = json_object();
		json_object_set_new(o, "at_ms", json_integer(w->ev[i].at_ms));
		json_object_set_new(o, "kind", json_string(w->ev[i].kind));
		if (w->ev[i].resolver[0] != '\0')
			json_object_set_new(
			    o, "resolver", json_string(w->ev[i].resolver));
		/* Details come from the wire at times: never let a bad byte
		 * make the row unencodable. */
		d = json_string(w->ev[i].detail);
		json_object_set_new(
		    o, "detail", d ? d : json_string("(not UTF-8)"));
		json_array_append_new(a, o);
	}
	return a;
}

static void
fail(struct store_snap *w, const struct err *e)
{
	w->st.failed++;
	if (w->st.error[0] == '\0')
		snprintf(w->st.error, sizeof w->st.error, "%s", e->msg);
}

int
store_snap_write(struct store_snap *w, struct err *e)
{
	uint64_t t0 = now_mono_us(), dt, pruned = 0;
	int64_t now = now_wall_ms();
	json_t *status, *sess;
	const char *phase;
	char *text;
	int64_t sid = -1;
	int rc;

	status = w->fn(w->arg);
	if (!json_is_object(status)) {
		json_decref(status);
		err_set(e, "snapshot: the engine gave no status object");
		fail(w, e);
		return -1;
	}
	json_object_set_new(status, "snapshot_events", events_json(w));
	json_object_set_new(
	    status, "snapshot_events_dropped", json_integer(w->dropped));
	phase = json_string_value(json_object_get(status, "phase"));
	sess = json_object_get(status, "session");
	if (json_is_integer(json_object_get(sess, "id")))
		sid = json_integer_value(json_object_get(sess, "id"));
	text = json_dumps(status, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		json_decref(status);
		err_set(e, "snapshot: cannot encode the status");
		fail(w, e);
		return -1;
	}
	rc = store_tx_begin(w->db, e);
	if (rc == 0)
		rc = store_add_snapshot(w->db, w->run_id, now,
		    phase ? phase : "unknown", sid, text, e);
	if (rc == 0)
		rc = store_prune_snapshots(w->db,
		    w->o.retention_ms > 0 ? now - w->o.retention_ms : 0,
		    w->o.max_rows, &pruned, e);
	if (rc == 0)
		rc = store_tx_commit(w->db, e);
	else
		store_tx_rollback(w->db);
	free(text);
	json_decref(status);
	dt = now_mono_us() - t0;
	w->st.last_us = dt;
	w->st.max_us = MAX(w->st.max_us, dt);
	w->st.total_us += dt;
	if (rc != 0) {
		/* Locked by another writer: keep the events for the next. */
		if (store_locked(w->db))
			w->st.busy++;
		else
			fail(w, e);
		return -1;
	}
	w->st.written++;
	w->st.pruned += pruned;
	w->st.events += w->nev;
	w->st.events_dropped += w->dropped;
	w->nev = 0;
	w->dropped = 0;
	return 0;
}

static void
on_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct store_snap *w = arg;
	struct err e = {""};

	(void)loop;
	(void)id;
	(void)store_snap_write(w, &e);
	arm(w);
}

const struct store_snap_stats *
store_snap_stats(const struct store_snap *w)
{
	return &w->st;
}

void
store_snap_free(struct store_snap *w)
{
	if (w == NULL)
		return;
	if (w->timer != 0)
		ev_timer_cancel(w->loop, w->timer);
	free(w->ev);
	free(w);
}
