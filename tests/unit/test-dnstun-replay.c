/* SPDX-License-Identifier: MIT */
/*
 * test-dnstun-replay.c — the pure DNS-through-the-tunnel parts against
 * the real upstream client and server: $MDNS_SHARED/interop/s8-*.jsonl.
 *
 * For each capture, in capture order:
 *   - every DNS_QUERY_REQ fragment goes into a server-side reassembly
 *     table and every DNS_QUERY_RES fragment into a client-side one; each
 *     completed REQ must be a query an "app" line records, each completed
 *     RES the answer that app line records; late copies must be DONE;
 *   - our fragmenter, at the session's MTUs (SESSION_INIT upload and
 *     download MTU), must cut those messages into exactly the captured
 *     frames (wire_frame_build == frame_hex, every copy);
 *   - our acknowledgement of each captured REQ / RES frame must equal
 *     the captured REQ_ACK / RES_ACK frames;
 *   - dnstun_server_check on each app query: the TXT one gives exactly
 *     the server's NOTIMP, the others RESOLVE;
 *   - a client cache fed with the completed answers gives the repeated
 *     query (the last app line) exactly the answer the app got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "engine/dns-cache.h"
#include "proto/dnstun.h"
#include "proto/wire.h"
#include "tests/tap.h"

#define MAXAPP	 16
#define MAXFRAME 2048

struct msg {
	uint8_t b[DNSTUN_MSG_MAX];
	size_t n;
	int seq; /* -1: free slot */
};

#define MAXSEQ 64

/* The slot of seq in a table of MAXSEQ messages (a free one if new). */
static struct msg *
slot(struct msg *t, uint16_t seq)
{
	struct msg *fr = NULL;
	int i;

	for (i = 0; i < MAXSEQ; i++) {
		if (t[i].seq == seq)
			return &t[i];
		if (t[i].seq < 0 && fr == NULL)
			fr = &t[i];
	}
	if (fr == NULL)
		abort(); /* more exchanges than a capture has */
	fr->seq = seq;
	fr->n = 0;
	return fr;
}

struct app {
	struct msg query, answer;
	int used;
};

struct frame {
	int dir_query;
	uint8_t type, session, cookie, frag_id, frag_total, comp;
	uint16_t seq;
	uint8_t raw[MAXFRAME];
	size_t raw_len;
	uint8_t payload[MAXFRAME];
	size_t payload_len;
};

static long long
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static size_t
jhex(json_t *o, const char *k, uint8_t *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, k));
	long n;

	if (s == NULL)
		return 0;
	n = hex_decode(s, strlen(s), out, cap);
	return n < 0 ? 0 : (size_t)n;
}

static int
build_eq(const struct wire_frame *f, const struct frame *want)
{
	uint8_t b[MAXFRAME];
	long n = wire_frame_build(f, b, sizeof b);

	return n > 0 && (size_t)n == want->raw_len &&
	    memcmp(b, want->raw, want->raw_len) == 0;
}

static int
find_app(struct app *apps, int napps, const uint8_t *q, size_t n)
{
	int i;

	for (i = 0; i < napps; i++)
		if (apps[i].query.n == n && memcmp(apps[i].query.b, q, n) == 0)
			return i;
	return -1;
}

static void
replay(const char *name)
{
	static struct app apps[MAXAPP];
	static struct frame fr[4096];
	static struct msg reqmsg[MAXSEQ], resmsg[MAXSEQ];
	static uint8_t out[DNSTUN_MSG_MAX];
	struct dnstun_reasm_cfg rc;
	struct dnstun_reasm *srv, *cli;
	struct dnscache_cfg cc;
	struct dnscache *cache;
	struct dnstun_req r;
	enum dnstun_why why;
	char path[1024], *line = NULL;
	size_t cap = 0, olen, i, j;
	int napps = 0, nfr = 0, up_mtu = -1, down_mtu = -1, k;
	int req_frags = 0, res_frags = 0, req_done = 0, res_done = 0;
	int late = 0, late_done = 0, cut_ok = 0, cut_n = 0, ack_ok = 0;
	int ack_n = 0, q_match = 0, a_match = 0, bad = 0;
	uint16_t seqs[64];
	int nseqs = 0, seq_app[64];
	FILE *fp;

	for (i = 0; i < MAXSEQ; i++)
		reqmsg[i].seq = resmsg[i].seq = -1;
	snprintf(path, sizeof path, "%s/interop/%s", tap_shared_dir(), name);
	fp = fopen(path, "r");
	tap_ok(fp != NULL, "%s: open", name);
	if (fp == NULL)
		return;
	while (getline(&line, &cap, fp) > 0) {
		json_t *o = json_loads(line, 0, NULL), *t;

		if (o == NULL)
			continue;
		if (json_is_true(json_object_get(o, "app")) && napps < MAXAPP) {
			apps[napps].query.n = jhex(o, "query",
			    apps[napps].query.b, sizeof apps[napps].query.b);
			apps[napps].answer.n = jhex(o, "answer",
			    apps[napps].answer.b, sizeof apps[napps].answer.b);
			napps++;
		}
		t = json_object_get(json_object_get(o, "decoded"), "tunnel");
		if (json_is_object(t) &&
		    json_is_true(json_object_get(t, "ok")) &&
		    nfr < (int)nitems(fr)) {
			struct frame *f = &fr[nfr];
			int type = (int)jint(t, "packet_type");

			if (type == WIRE_SESSION_INIT) {
				json_t *fl = json_object_get(t, "fields");

				up_mtu = (int)jint(fl, "upload_mtu");
				down_mtu = (int)jint(fl, "download_mtu");
			}
			if (type >= WIRE_DNS_QUERY_REQ &&
			    type <= WIRE_DNS_QUERY_RES_ACK) {
				memset(f, 0, sizeof *f);
				f->dir_query =
				    strcmp(json_string_value(
					       json_object_get(o, "dir")),
					"query") == 0;
				f->type = (uint8_t)type;
				f->session = (uint8_t)jint(t, "session_id");
				f->cookie = (uint8_t)jint(t, "cookie");
				f->seq = (uint16_t)jint(t, "seq");
				f->frag_id = (uint8_t)jint(t, "frag_id");
				f->frag_total = (uint8_t)jint(t, "frag_total");
				f->comp = (uint8_t)MAX(jint(t, "comp"), 0);
				f->raw_len =
				    jhex(t, "frame_hex", f->raw, sizeof f->raw);
				f->payload_len = jhex(t, "payload_hex",
				    f->payload, sizeof f->payload);
				nfr++;
			}
		}
		json_decref(o);
	}
	free(line);
	fclose(fp);
	tap_ok(napps == 7 && nfr > 20 && up_mtu == 141 && down_mtu == 200,
	    "%s: %d app lines, %d DNS frames, MTU up %d down %d", name, napps,
	    nfr, up_mtu, down_mtu);

	dnstun_reasm_defaults(&rc, 1);
	srv = dnstun_reasm_new(&rc);
	dnstun_reasm_defaults(&rc, 0);
	cli = dnstun_reasm_new(&rc);
	for (k = 0; k < nfr; k++) {
		struct frame *f = &fr[k];
		uint64_t now = (uint64_t)k * 1000;
		enum dnstun_ra ra;
		int a;

		if (f->type == WIRE_DNS_QUERY_REQ) {
			req_frags++;
			ra = dnstun_reasm_add(srv, f->session, f->seq,
			    f->frag_id, f->frag_total, f->payload,
			    f->payload_len, now, out, sizeof out, &olen);
			if (ra == DNSTUN_RA_COMPLETE) {
				req_done++;
				memcpy(slot(reqmsg, f->seq)->b, out, olen);
				slot(reqmsg, f->seq)->n = olen;
				a = find_app(apps, napps, out, olen);
				if (a >= 0 && !apps[a].used && nseqs < 64) {
					apps[a].used = 1;
					seqs[nseqs] = f->seq;
					seq_app[nseqs++] = a;
					q_match++;
				} else {
					bad++;
					tap_diag(
					    "%s: REQ seq %u matches no app "
					    "query",
					    name, f->seq);
				}
			} else if (slot(reqmsg, f->seq)->n > 0) {
				late++;
				late_done += ra == DNSTUN_RA_DONE;
			} else if (ra != DNSTUN_RA_PARTIAL) {
				bad++;
			}
		} else if (f->type == WIRE_DNS_QUERY_RES) {
			res_frags++;
			ra = dnstun_reasm_add(cli, f->session, f->seq,
			    f->frag_id, f->frag_total, f->payload,
			    f->payload_len, now, out, sizeof out, &olen);
			if (ra == DNSTUN_RA_COMPLETE) {
				res_done++;
				memcpy(slot(resmsg, f->seq)->b, out, olen);
				slot(resmsg, f->seq)->n = olen;
				for (j = 0; j < (size_t)nseqs; j++)
					if (seqs[j] == f->seq &&
					    apps[seq_app[j]].answer.n == olen &&
					    memcmp(apps[seq_app[j]].answer.b,
						out, olen) == 0)
						a_match++;
			} else if (ra != DNSTUN_RA_PARTIAL) {
				bad++;
			}
		}
	}
	tap_ok(req_done == 6 && q_match == 6 && bad == 0,
	    "%s: %d REQ fragments -> %d queries, each an app query", name,
	    req_frags, req_done);
	tap_ok(late > 0 && late == late_done,
	    "%s: %d late REQ copies (unacknowledged by upstream) all DONE",
	    name, late);
	tap_ok(res_done == 6 && a_match == 6,
	    "%s: %d RES fragments -> %d answers, each the app's answer", name,
	    res_frags, res_done);

	/* our fragmenter and acks against every captured frame */
	for (k = 0; k < nfr; k++) {
		struct frame *f = &fr[k];
		struct wire_frame w, in;
		const struct msg *m;
		size_t mtu;

		if (f->type == WIRE_DNS_QUERY_REQ ||
		    f->type == WIRE_DNS_QUERY_RES) {
			int isreq = f->type == WIRE_DNS_QUERY_REQ;

			m = slot(isreq ? reqmsg : resmsg, f->seq);
			mtu = (size_t)(isreq ? up_mtu : down_mtu);
			cut_n++;
			if (dnstun_frag_frame(m->b, m->n, mtu, f->frag_id,
				f->type, f->seq, &w) == 0) {
				w.session_id = f->session;
				w.cookie = f->cookie;
				cut_ok += build_eq(&w, f) &&
				    w.frag_total == f->frag_total;
			}
		} else {
			ack_n++;
			/* the frame it acknowledges */
			memset(&in, 0, sizeof in);
			in.type = (uint8_t)wire_ack_origin(f->type);
			in.session_id = f->session;
			in.cookie = f->cookie;
			in.seq = f->seq;
			in.frag_id = f->frag_id;
			in.frag_total = f->frag_total;
			if (dnstun_ack_frame(&in, &w) == 0)
				ack_ok += build_eq(&w, f);
		}
	}
	tap_ok(cut_n > 0 && cut_ok == cut_n,
	    "%s: our cut at MTU %d/%d rebuilds %d/%d captured REQ/RES frames",
	    name, up_mtu, down_mtu, cut_ok, cut_n);
	tap_ok(ack_n > 0 && ack_ok == ack_n,
	    "%s: our acks equal %d/%d captured REQ_ACK/RES_ACK frames", name,
	    ack_ok, ack_n);

	/* the server's verdict on each query it got */
	{
		int resolve = 0, notimp = 0;

		for (j = 0; j < (size_t)nseqs; j++) {
			const struct msg *q = &apps[seq_app[j]].query;
			const struct msg *a = slot(resmsg, seqs[j]);
			enum dnstun_action act;

			act = dnstun_server_check(
			    q->b, q->n, &r, out, sizeof out, &olen, &why);
			if (act == DNSTUN_RESOLVE)
				resolve++;
			else if (act == DNSTUN_REPLY && olen == a->n &&
			    memcmp(out, a->b, olen) == 0 &&
			    why == DNSTUN_WHY_UNSUPPORTED)
				notimp++;
		}
		tap_ok(resolve == 5 && notimp == 1,
		    "%s: server check: 5 resolved, TXT answered NOTIMP exactly "
		    "as upstream (%d, %d)",
		    name, resolve, notimp);
	}

	/* the client cache: misses dispatch, answers stored, repeat hits */
	dnscache_cfg_client(&cc);
	cache = dnscache_new(&cc);
	{
		int disp = 0, pend = 0, hit_ok = 0;

		for (j = 0; j < (size_t)nseqs; j++) {
			const struct msg *q = &apps[seq_app[j]].query;
			const struct msg *a = slot(resmsg, seqs[j]);

			dnstun_req_parse(q->b, q->n, &r);
			disp += dnscache_lookup(cache, &r.q, q->b, q->n, 0, out,
				    sizeof out, &olen) == DNSCACHE_DISPATCH;
			pend += dnscache_lookup(cache, &r.q, q->b, q->n, 1000,
				    out, sizeof out, &olen) == DNSCACHE_PENDING;
			if (dnstun_msg_parse(a->b, a->n, &r) == DNSTUN_REQ_OK)
				dnscache_put(cache, &r.q, a->b, a->n, 2000);
		}
		for (k = 0; k < napps; k++) {
			const struct app *ap = &apps[k];

			if (ap->used)
				continue;
			dnstun_req_parse(ap->query.b, ap->query.n, &r);
			hit_ok = dnscache_lookup(cache, &r.q, ap->query.b,
				     ap->query.n, 40 * 1000000ULL, out,
				     sizeof out, &olen) == DNSCACHE_HIT &&
			    olen == ap->answer.n &&
			    memcmp(out, ap->answer.b, olen) == 0;
		}
		tap_ok(disp == 6 && pend == 6,
		    "%s: cache: first lookups dispatch, second ones wait",
		    name);
		tap_ok(hit_ok,
		    "%s: the repeated query gets from our cache exactly the "
		    "answer upstream's cache gave",
		    name);
	}
	dnscache_free(cache);
	dnstun_reasm_free(srv);
	dnstun_reasm_free(cli);
	for (i = 0; i < MAXSEQ; i++)
		reqmsg[i].seq = resmsg[i].seq = -1;
	memset(apps, 0, sizeof apps);
}

int
main(void)
{
	replay("s8-xor-raw-dns.jsonl");
	replay("s8-xor-base64-dns.jsonl");
	return tap_done();
}
