/* SPDX-License-Identifier: MIT */
/*
 * scan-query.c — the query each step of the scan sends, written into the
 * item's buffer with ID 0 (scan-net.c sets the ID): neutral names for
 * liveness, random undecodable in-zone names for reach and burst, and
 * tunnel frames (MTU probes from proto/mtu.h, SESSION_INIT, PING,
 * SESSION_CLOSE) through proto/tunnel.h. Also the trace line of a query.
 */
#include <stdio.h>
#include <string.h>

#include "probe/scan-int.h"
#include "proto/tunnel.h"

/* Random letters and digits in random case. */
static void
rand_label(struct scan *s, char *out, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 8 == 0)
			r = scan_rnd(s);
		out[i] = al[(r & 0xff) % 36];
		if ((r & 0x100) && out[i] >= 'a')
			out[i] = (char)(out[i] - 32);
		r >>= 9;
	}
	out[n] = '\0';
}

/* Random-case copy of a domain (0x20 style). */
static void
rand_case(struct scan *s, const char *in, char *out, size_t cap)
{
	uint64_t r = scan_rnd(s);
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < cap; i++) {
		out[i] = in[i];
		if (out[i] >= 'a' && out[i] <= 'z' && (r & 1))
			out[i] = (char)(out[i] - 32);
		r = (r >> 1) | (r << 63);
	}
	out[i] = '\0';
}

static void
keep(struct item *it, long n, const struct tunnel_qinfo *qi)
{
	it->qlen = (size_t)n;
	it->qwire = qi->qname_wire;
	it->qchars = qi->qname_chars;
}

static int
put_name(struct item *it, const char *name, uint16_t qtype)
{
	struct tunnel_qinfo qi;
	struct err e;
	long n;

	n = tunnel_query_name(
	    name, strlen(name), qtype, 0, it->q, sizeof it->q, &qi, &e);
	if (n < 0) {
		scan_evid(&it->r, "cannot write the query (%s)", e.msg);
		return -1;
	}
	keep(it, n, &qi);
	return 0;
}

static int
put_frame(struct scan *s, struct item *it, const struct wire_frame *f)
{
	struct tunnel_qinfo qi;
	struct err e;
	long n;

	n = tunnel_query_frame(f, s->cipher, NULL, s->o.domains[it->dom], 0,
	    it->q, sizeof it->q, &qi, &e);
	if (n < 0) {
		scan_evid(&it->r, "probe does not fit a query (%s)", e.msg);
		return -1;
	}
	keep(it, n, &qi);
	return 0;
}

/* The tunnel frame of a frame-carrying step; payload into pl. */
static int
step_frame(struct scan *s, struct item *it, uint8_t *pl, size_t cap,
    struct wire_frame *f)
{
	struct wire_session_init in;
	long n;

	memset(f, 0, sizeof *f);
	switch (it->state) {
	case IT_UP:
		it->code = ++s->probe_code;
		return mtu_probe_frame(MTU_UP, (uint8_t)s->o.response_mode,
		    it->code, mtu_search_next(&it->ms), 0, pl, cap, f);
	case IT_DOWN:
	case IT_TCP:
		it->code = ++s->probe_code;
		return mtu_probe_frame(MTU_DOWN, (uint8_t)s->o.response_mode,
		    it->code,
		    it->state == IT_TCP ? it->tc_cand :
					  mtu_search_next(&it->ms),
		    it->r.upload_mtu, pl, cap, f);
	case IT_INIT:
		memset(&in, 0, sizeof in);
		in.mode = (uint8_t)s->o.response_mode;
		in.upload_mtu = (uint16_t)MAX(it->r.upload_mtu, 0);
		in.download_mtu = (uint16_t)MAX(it->r.download_mtu, 0);
		memcpy(in.verify, it->verify, 4);
		n = wire_session_init_build(&in, pl, cap);
		f->type = WIRE_SESSION_INIT;
		break;
	case IT_PING:
		n = wire_ping_build(NULL, pl, cap);
		f->session_id = it->sid;
		f->cookie = it->cookie;
		f->type = WIRE_PING;
		break;
	case IT_CLOSE:
		f->session_id = it->sid;
		f->cookie = it->cookie;
		f->type = WIRE_SESSION_CLOSE;
		return 0;
	default:
		return -1;
	}
	if (n < 0)
		return -1;
	f->payload = pl;
	f->payload_len = (size_t)n;
	return 0;
}

int
scan_build_query(struct scan *s, struct item *it)
{
	uint8_t pl[4200];
	struct wire_frame f;
	char name[300], dom[260], lab[16];

	switch (it->state) {
	case IT_ENV_ICPT:
	case IT_LIVE:
		/* A neutral name: the root's NS unless told otherwise. */
		if (s->o.liveness_name == NULL ||
		    strcmp(s->o.liveness_name, ".") == 0)
			return put_name(it, ".", 2);
		rand_case(s, s->o.liveness_name, name, sizeof name);
		return put_name(it, name, DNS_TYPE_A);
	case IT_ENV_SRV:
	case IT_REACH:
	case IT_LOSS:
		/* 12 characters: length 1 mod 11 is never valid base36. */
		rand_label(s, lab, 12);
		rand_case(s, s->o.domains[it->dom], dom, sizeof dom);
		snprintf(name, sizeof name, "%s.%s", lab, dom);
		return put_name(it, name, DNS_TYPE_TXT);
	case IT_WHOAMI:
		return put_name(it, s->o.whoami[it->who], DNS_TYPE_TXT);
	case IT_BURST:
		rand_label(s, lab, 12);
		snprintf(
		    name, sizeof name, "%s.%s", lab, s->o.domains[it->dom]);
		return put_name(it, name, DNS_TYPE_TXT);
	default:
		if (step_frame(s, it, pl, sizeof pl, &f) == -1)
			return -1;
		return put_frame(s, it, &f);
	}
}

void
scan_trace_send(struct scan *s, struct item *it)
{
	static const char *const nm[] = {[IT_ENV_ICPT] = "liveness",
	    [IT_ENV_SRV] = "TXT",
	    [IT_LIVE] = "liveness",
	    [IT_REACH] = "TXT",
	    [IT_UP] = "MTU_UP_REQ",
	    [IT_DOWN] = "MTU_DOWN_REQ",
	    [IT_INIT] = "SESSION_INIT",
	    [IT_PING] = "PING",
	    [IT_CLOSE] = "SESSION_CLOSE",
	    [IT_BURST] = "TXT",
	    [IT_TCP] = "MTU_DOWN_REQ over TCP",
	    [IT_LOSS] = "TXT loss probe",
	    [IT_WHOAMI] = "whoami TXT"};
	char what[64] = "";

	if (it->state == IT_UP)
		snprintf(what, sizeof what, " %d payload bytes",
		    mtu_search_next(&it->ms));
	else if (it->state == IT_DOWN)
		snprintf(what, sizeof what, " asking %d bytes (request %d)",
		    mtu_search_next(&it->ms), MAX(7, it->r.upload_mtu));
	else if (it->state == IT_INIT)
		snprintf(what, sizeof what, " up %d down %d", it->r.upload_mtu,
		    it->r.download_mtu);
	else if (it->state == IT_PING || it->state == IT_CLOSE)
		snprintf(what, sizeof what, " session %u", it->sid);
	scan_trace(s, it,
	    "-> %s%s: %zu-char QNAME, %d labels, %zu-byte query, "
	    "try %d",
	    nm[it->state] ? nm[it->state] : "?", what, it->qchars,
	    scan_query_labels(it->q, it->qwire), it->qlen, it->tries);
}
