/* SPDX-License-Identifier: MIT */
/*
 * test-dns-wire.c — bad input at both ends of DNS through the tunnel,
 * in-process. The server (eng_server_handle, fake clock, no resolver:
 * what would be resolved gets SERVFAIL) gets DNS_QUERY_REQ frames that
 * are garbage, truncated, not requests, with bad questions, unsupported
 * types, fragment ids past their total, duplicates, totals that disagree,
 * oversized queries and a flood of incomplete queries: each is dropped or
 * answered as docs/dns-tunnel.md says, counted, acknowledged unless the
 * table had no room, and the reassembly stays within its per-session
 * bound. Answer fragments are resent until their RES_ACK; a RES_ACK for
 * nothing is counted. The client (a real loop; its resolver is this test,
 * passing queries to an in-process server except DNS_QUERY_REQ) gets answer fragments for no query, a bad fragment, a
 * duplicate, an answer to another question (dropped: never a wrong
 * answer), then the right one, and SERVFAIL when nothing comes in time.
 */
#include <jansson.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "engine/client.h"
#include "engine/server.h"
#include "engine/stream.h"
#include "proto/dns.h"
#include "proto/dnstun.h"
#include "proto/wire.h"
#include "tests/tap.h"

static uint64_t fake_now = 1000000;
static struct wire_cipher *cip;
static uint8_t ans[65536], fbuf[65536];

/* www.example A, RD */
static const uint8_t q_a[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3,
    'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};

static uint64_t
clk(void *arg)
{
	(void)arg;
	return fake_now;
}

/* Frames the server's answers carried (packed blocks expanded). */
struct seen {
	struct wire_frame f[512];
	uint8_t pay[512][512];
	size_t n;
};

static void
note(struct seen *sn, const struct wire_frame *f)
{
	if (sn->n == nitems(sn->f))
		return;
	sn->f[sn->n] = *f;
	memcpy(sn->pay[sn->n], f->payload, MIN(f->payload_len, 512));
	sn->f[sn->n].payload = sn->pay[sn->n];
	sn->n++;
}

/* Send f; note every frame of the answer. Returns the answer's type. */
static int
ask(struct eng_server *s, const struct wire_frame *f, struct seen *sn)
{
	char qn[1024];
	uint8_t wn[1100], msg[1400];
	struct dns_answer a;
	struct wire_frame r, g;
	long q, w, m;
	size_t an, i;

	q = wire_encode_query_name(f, cip, NULL, "t.example", qn, sizeof qn);
	w = q <= 0 ? -1 : dns_name_encode(qn, (size_t)q, wn, sizeof wn, NULL);
	m = w <= 0 ? -1 :
		     dns_query_write(msg, sizeof msg, 7, wn, (size_t)w,
			 DNS_TYPE_TXT, 4096, NULL);
	if (m <= 0)
		return -2;
	an = eng_server_handle(s, msg, (size_t)m, ans, sizeof ans);
	if (an == 0 ||
	    dns_answer_parse(ans, an, DNS_RESP_RAW, fbuf, sizeof fbuf, &a,
		NULL) != DNS_ANS_FRAME ||
	    wire_frame_parse(fbuf, a.frame_len, &r) != WIRE_OK)
		return -1;
	if (r.type != WIRE_PACKED_CONTROL_BLOCKS) {
		note(sn, &r);
		return r.type;
	}
	for (i = 0; stream_unpack(&r, i, &g) == 0; i++) {
		g.payload = (const uint8_t *)"";
		note(sn, &g);
	}
	return r.type;
}

static uint8_t sid, cookie;

static void
frame(struct wire_frame *f, uint8_t type, uint16_t seq, uint8_t frag,
    uint8_t total, const uint8_t *p, size_t n)
{
	memset(f, 0, sizeof *f);
	f->session_id = sid;
	f->cookie = cookie;
	f->type = type;
	f->seq = seq;
	f->frag_id = frag;
	f->frag_total = total;
	f->payload = p;
	f->payload_len = n;
}

/* Poll until PONG: everything queued comes out. */
static void
drain(struct eng_server *s, struct seen *sn)
{
	struct wire_frame f;
	uint8_t pp[WIRE_PING_LEN];
	int i;

	wire_ping_build(NULL, pp, sizeof pp);
	for (i = 0; i < 600; i++) {
		frame(&f, WIRE_PING, 0, 0, 0, pp, sizeof pp);
		if (ask(s, &f, sn) == WIRE_PONG)
			return;
	}
}

static int
acked(const struct seen *sn, uint16_t seq, uint8_t frag)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		if (sn->f[i].type == WIRE_DNS_QUERY_REQ_ACK &&
		    sn->f[i].seq == seq && sn->f[i].frag_id == frag)
			return 1;
	return 0;
}

/* The RES message of seq (fragments concatenated); its length. */
static size_t
res_of(const struct seen *sn, uint16_t seq, uint8_t *out)
{
	size_t i, len = 0;
	unsigned k, total = 0;

	for (k = 0; k < 256; k++) {
		for (i = 0; i < sn->n; i++)
			if (sn->f[i].type == WIRE_DNS_QUERY_RES &&
			    sn->f[i].seq == seq && sn->f[i].frag_id == k) {
				memcpy(out + len, sn->f[i].payload,
				    sn->f[i].payload_len);
				len += sn->f[i].payload_len;
				total = sn->f[i].frag_total;
				break;
			}
		if (k + 1 >= total)
			break;
	}
	return len;
}

static long long
status_num(struct eng_server *s, const char *a, const char *b)
{
	json_t *o = eng_server_status_json(s, "t", 0, 0);
	json_t *v = json_object_get(json_object_get(o, "dns"), a);
	long long n;

	if (b != NULL)
		v = json_object_get(v, b);
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(o);
	return n;
}

/* A server for t.example, XOR with key "k3y", no loop (no resolver). */
static struct eng_server *
new_server(void)
{
	struct cfg_server c;
	struct eng_server *s;

	cfg_server_defaults(&c);
	free(c.domains);
	c.domains = xcalloc(2, sizeof(char *));
	c.domains[0] = xstrdup("t.example");
	c.ndomains = 1;
	c.method = 1;
	c.key = xstrdup("k3y");
	s = eng_server_new(NULL, &c, NULL);
	cfg_server_clear(&c);
	return s;
}

static void
server_side(void)
{
	static struct seen sn;
	static uint8_t big[5000], msg[4096];
	const struct eng_server_dns_stats *ds;
	struct eng_server *s;
	struct wire_session_init in;
	struct wire_session_accept acc;
	struct wire_frame f;
	uint8_t p[WIRE_SESSION_INIT_LEN], q[64];
	size_t n;
	unsigned i;
	int ok;

	s = new_server();
	tap_ok(s != NULL, "server");
	eng_server_set_clock(s, clk, NULL);
	ds = eng_server_dns_stats(s);
	memset(&in, 0, sizeof in);
	in.upload_mtu = 141;
	in.download_mtu = 100;
	in.verify[0] = 9;
	wire_session_init_build(&in, p, sizeof p);
	memset(&f, 0, sizeof f);
	f.type = WIRE_SESSION_INIT;
	f.payload = p;
	f.payload_len = sizeof p;
	sn.n = 0;
	ask(s, &f, &sn);
	ok = sn.n == 1 && sn.f[0].type == WIRE_SESSION_ACCEPT &&
	    wire_session_accept_parse(
		sn.f[0].payload, sn.f[0].payload_len, &acc) == WIRE_OK;
	tap_ok(ok, "session");
	if (!ok)
		goto out;
	sid = acc.session_id;
	cookie = acc.cookie;

	/* A whole query; no resolver here: SERVFAIL built from it. */
	sn.n = 0;
	frame(&f, WIRE_DNS_QUERY_REQ, 1, 0, 1, q_a, sizeof q_a);
	ask(s, &f, &sn);
	drain(s, &sn);
	n = res_of(&sn, 1, msg);
	tap_ok(acked(&sn, 1, 0) && n >= 12 && msg[0] == 0x12 &&
		msg[1] == 0x34 && (msg[3] & 0x0f) == 2 &&
		ds->servfail_local == 1,
	    "a query with no resolver: acked, SERVFAIL with its id");
	/* Garbage, short, not a request, a bad question, TXT. */
	sn.n = 0;
	frame(&f, WIRE_DNS_QUERY_REQ, 2, 0, 1, (const uint8_t *)"garbage", 7);
	ask(s, &f, &sn);
	memcpy(q, q_a, sizeof q_a);
	q[2] |= 0x80; /* QR */
	frame(&f, WIRE_DNS_QUERY_REQ, 3, 0, 1, q, sizeof q_a);
	ask(s, &f, &sn);
	memcpy(q, q_a, sizeof q_a);
	q[12] = 70; /* a label past the end */
	frame(&f, WIRE_DNS_QUERY_REQ, 4, 0, 1, q, sizeof q_a);
	ask(s, &f, &sn);
	memcpy(q, q_a, sizeof q_a);
	q[sizeof q_a - 3] = 16; /* TXT */
	frame(&f, WIRE_DNS_QUERY_REQ, 5, 0, 1, q, sizeof q_a);
	ask(s, &f, &sn);
	drain(s, &sn);
	tap_ok(ds->drop_short == 1 && ds->drop_not_request == 1 &&
		ds->formerr == 1 && ds->notimp == 1,
	    "garbage and a response dropped, bad question FORMERR, TXT "
	    "NOTIMP: counted (%llu %llu %llu %llu)",
	    (unsigned long long)ds->drop_short,
	    (unsigned long long)ds->drop_not_request,
	    (unsigned long long)ds->formerr, (unsigned long long)ds->notimp);
	tap_ok(acked(&sn, 2, 0) && acked(&sn, 3, 0) &&
		res_of(&sn, 2, msg) == 0 && res_of(&sn, 3, msg) == 0,
	    "... the dropped ones acked, with no answer (upstream's silence)");
	n = res_of(&sn, 4, msg);
	tap_ok(n >= 12 && (msg[3] & 0x0f) == 1, "... FORMERR sent");
	n = res_of(&sn, 5, msg);
	tap_ok(n >= 12 && (msg[3] & 0x0f) == 4, "... NOTIMP sent");
	/* Fragments: past the total, duplicates, totals that disagree. */
	sn.n = 0;
	frame(&f, WIRE_DNS_QUERY_REQ, 6, 3, 2, q_a, 10);
	ask(s, &f, &sn);
	frame(&f, WIRE_DNS_QUERY_REQ, 7, 0, 3, q_a, 10);
	ask(s, &f, &sn);
	ask(s, &f, &sn);
	frame(&f, WIRE_DNS_QUERY_REQ, 7, 1, 2, q_a + 10, 10);
	ask(s, &f, &sn);
	drain(s, &sn);
	tap_ok(ds->frag_bad == 1 && ds->frag_dup == 1 && acked(&sn, 6, 3) &&
		acked(&sn, 7, 0) && acked(&sn, 7, 1),
	    "fragment past its total (bad), a duplicate: counted and acked");
	tap_ok(status_num(s, "reassembly", "partial") == 1,
	    "another total restarts the query: one partial held");
	/* Oversized: 40 fragments of 120 bytes (4800 > 4096). */
	sn.n = 0;
	memset(big, 'x', sizeof big);
	for (i = 0; i < 40; i++) {
		frame(&f, WIRE_DNS_QUERY_REQ, 8, (uint8_t)i, 40, big + 120 * i,
		    120);
		ask(s, &f, &sn);
	}
	drain(s, &sn);
	tap_ok(ds->too_big == 1 && acked(&sn, 8, 34) &&
		status_num(s, "reassembly", "partial") <= 2,
	    "an oversized query (4800 bytes): dropped whole, counted, acked "
	    "(%llu, %d, %lld)",
	    (unsigned long long)ds->too_big, acked(&sn, 8, 34),
	    status_num(s, "reassembly", "partial"));
	/* A flood of incomplete queries: bounded, the excess unacked. */
	sn.n = 0;
	for (i = 0; i < 300; i++) {
		frame(&f, WIRE_DNS_QUERY_REQ, (uint16_t)(1000 + i), 0, 2, q_a,
		    10);
		ask(s, &f, &sn);
	}
	drain(s, &sn);
	tap_ok(status_num(s, "reassembly", "partial") <= 64 &&
		ds->frag_noroom > 0 && !acked(&sn, 1299, 0) &&
		acked(&sn, 1000, 0),
	    "300 incomplete queries: %lld held (bound 64), %llu refused "
	    "and left unacked",
	    status_num(s, "reassembly", "partial"),
	    (unsigned long long)ds->frag_noroom);
	/* Answers are resent until acked. */
	{
		uint64_t before = ds->res_resent;

		fake_now += 5000000;
		eng_server_tick(s);
		sn.n = 0;
		drain(s, &sn);
		tap_ok(ds->res_resent > before && res_of(&sn, 1, msg) > 0,
		    "unacked answer fragments are sent again (%llu)",
		    (unsigned long long)(ds->res_resent - before));
	}
	frame(&f, WIRE_DNS_QUERY_RES_ACK, 1, 0, 1, NULL, 0);
	ask(s, &f, &sn);
	frame(&f, WIRE_DNS_QUERY_RES_ACK, 999, 0, 1, NULL, 0);
	ask(s, &f, &sn);
	tap_ok(ds->res_acked == 1 && ds->ack_unknown == 1,
	    "RES_ACK clears its fragment; one for nothing is counted");
out:
	eng_server_free(s);
}

/* ---- the client ---- */

struct got {
	int n;
	uint8_t a[1024];
	size_t len;
};

static void
got_cb(void *arg, const void *ctx, size_t ctxlen, const uint8_t *a, size_t len)
{
	struct got *g = arg;

	(void)ctx;
	(void)ctxlen;
	g->n++;
	g->len = MIN(len, sizeof g->a);
	memcpy(g->a, a, g->len);
}

/*
 * The client's resolver: queries are answered by the server srv, except
 * DNS_QUERY_REQ, which is swallowed (its seq noted): the test answers
 * those itself. The session's id and cookie come from the ACCEPT.
 */
struct proxy {
	int fd;
	struct eng_server *srv;
	int seq; /* last REQ seen, -1 */
	uint8_t qmsg[600];
	size_t qlen;
};

static void
proxy_run(struct proxy *px)
{
	static uint8_t msg[600], fb[4096], out[65536], fb2[65536];
	const char *doms[1] = {"t.example"};
	struct wire_session_accept acc;
	struct dns_answer da;
	struct dns_query q;
	struct wire_frame f, r;
	union net_addr from;
	socklen_t fl = sizeof from;
	ssize_t n;
	size_t an;

	while ((n = recvfrom(px->fd, msg, sizeof msg, MSG_DONTWAIT, &from.sa,
		    &fl)) > 0) {
		if (dns_query_parse(msg, (size_t)n, &q, NULL) != DNS_QUERY_OK ||
		    wire_decode_query_name(q.qname, q.qname_len, doms, 1, cip,
			fb, sizeof fb, &f, NULL) != WIRE_OK)
			continue;
		memcpy(px->qmsg, msg, (size_t)n);
		px->qlen = (size_t)n;
		if (f.type == WIRE_DNS_QUERY_REQ) {
			px->seq = f.seq;
			continue;
		}
		an =
		    eng_server_handle(px->srv, msg, (size_t)n, out, sizeof out);
		if (an == 0)
			continue;
		if (dns_answer_parse(out, an, DNS_RESP_RAW, fb2, sizeof fb2,
			&da, NULL) == DNS_ANS_FRAME &&
		    wire_frame_parse(fb2, da.frame_len, &r) == WIRE_OK &&
		    r.type == WIRE_SESSION_ACCEPT &&
		    wire_session_accept_parse(r.payload, r.payload_len, &acc) ==
			WIRE_OK) {
			sid = acc.session_id;
			cookie = acc.cookie;
		}
		(void)sendto(px->fd, out, an, 0, &from.sa, fl);
		fl = sizeof from;
	}
}

/* Feed a DNS_QUERY_RES frame as an answer to the client's query qmsg. */
static void
feed(struct eng_client *cl, const uint8_t *qmsg, size_t qlen, uint16_t seq,
    uint8_t frag, uint8_t total, const uint8_t *p, size_t n)
{
	uint8_t fb[2048], out[4096];
	struct dns_query q;
	struct wire_frame f;
	long fl, an;

	if (dns_query_parse(qmsg, qlen, &q, NULL) != DNS_QUERY_OK)
		return;
	frame(&f, WIRE_DNS_QUERY_RES, seq, frag, total, p, n);
	fl = wire_frame_build(&f, fb, sizeof fb);
	an = fl <= 0 ? -1 :
		       dns_answer_build(out, sizeof out, &q, fb, (size_t)fl,
			   wire_header_len(f.type), DNS_RESP_RAW, NULL);
	if (an > 0)
		eng_client_handle_answer(cl, out, (size_t)an);
}

static void
run(struct ev_loop *loop, struct proxy *px, int ms)
{
	uint64_t end = ev_now_us(loop) + (uint64_t)ms * 1000;

	while (ev_now_us(loop) < end) {
		ev_run_once(loop, 2);
		proxy_run(px);
	}
}

static void
client_side(void)
{
	struct cfg_client c;
	struct ev_loop *loop;
	struct eng_client *cl = NULL;
	const struct eng_client_dns_stats *ds;
	struct err e = {""};
	union net_addr ra;
	struct proxy px;
	struct got g, g2;
	uint8_t good[64], other[64];
	int seq, i;

	memset(&px, 0, sizeof px);
	px.seq = -1;
	loop = ev_loop_new(&e);
	net_addr_parse("127.0.0.1:0", 0, &ra, &e);
	px.fd = net_udp_bind(&ra, &e);
	net_local_addr(px.fd, &ra, &e);
	px.srv = new_server();
	cfg_client_defaults(&c);
	free(c.domains);
	c.domains = xcalloc(2, sizeof(char *));
	c.domains[0] = xstrdup("t.example");
	c.ndomains = 1;
	c.method = 1;
	c.key = xstrdup("k3y");
	c.listen_port = 0;
	c.mtu_timeout_s = 0.2;
	c.local_dns_answer_timeout_s = 0.3;
	c.resolvers = xcalloc(1, sizeof *c.resolvers);
	c.resolvers[0] = ra;
	c.nresolvers = 1;
	if (px.srv != NULL)
		cl = eng_client_new(loop, &c, &e);
	cfg_client_clear(&c);
	tap_ok(cl != NULL && eng_client_start(cl, NULL, &e) == 0, "client %s",
	    e.msg);
	if (cl == NULL)
		goto out;
	ds = eng_client_dns_stats(cl);
	tap_ok(eng_client_dns_query(cl, q_a, sizeof q_a, NULL, 0, got_cb, &g) ==
		    -1 &&
		ds->drop_not_ready == 1,
	    "no session: dropped (upstream), counted");
	for (i = 0; i < 300 && eng_client_stats(cl)->phase != ENG_CLI_CONNECTED;
	     i++)
		run(loop, &px, 10);
	tap_ok(eng_client_stats(cl)->phase == ENG_CLI_CONNECTED,
	    "connected through the in-process server");
	memset(&g, 0, sizeof g);
	tap_ok(eng_client_dns_query(
		   cl, (const uint8_t *)"junk", 4, NULL, 0, got_cb, &g) == -1 &&
		ds->drop_short == 1,
	    "a short query: dropped, counted");
	tap_ok(eng_client_dns_query(
		   cl, q_a, sizeof q_a, "ctx", 3, got_cb, &g) == 0,
	    "a query taken");
	run(loop, &px, 30);
	seq = px.seq;
	tap_ok(seq >= 0, "its DNS_QUERY_REQ went out (seq %d)", seq);
	/* an answer for no query, a bad fragment, a duplicate */
	feed(cl, px.qmsg, px.qlen, (uint16_t)(seq + 1), 0, 1, q_a, sizeof q_a);
	feed(cl, px.qmsg, px.qlen, (uint16_t)seq, 2, 2, q_a, 5);
	feed(cl, px.qmsg, px.qlen, (uint16_t)seq, 0, 2, q_a, 5);
	feed(cl, px.qmsg, px.qlen, (uint16_t)seq, 0, 2, q_a, 5);
	tap_ok(ds->unsolicited == 1 && ds->frag_bad == 1 && ds->frag_dup == 1 &&
		g.n == 0,
	    "unsolicited, bad and duplicate fragments: counted, nothing "
	    "delivered");
	/* an answer to another question: dropped */
	memcpy(other, q_a, sizeof q_a);
	other[2] |= 0x80;
	other[13] = 'x';
	feed(cl, px.qmsg, px.qlen, (uint16_t)seq, 1, 2, other + 5,
	    sizeof q_a - 5);
	tap_ok(ds->bad_answer == 1 && g.n == 0,
	    "an answer to another question: dropped, never delivered");
	run(loop, &px, 400);
	tap_ok(g.n == 1 && g.len >= 12 && g.a[0] == 0x12 &&
		(g.a[3] & 0x0f) == 2 && ds->servfail_timeout == 1,
	    "no answer in time: SERVFAIL with the query's id");
	/* the next try goes out again and gets the right answer */
	memset(&g2, 0, sizeof g2);
	px.seq = -1;
	eng_client_dns_query(cl, q_a, sizeof q_a, NULL, 0, got_cb, &g2);
	run(loop, &px, 30);
	seq = px.seq;
	memcpy(good, q_a, sizeof q_a);
	good[2] |= 0x80;
	good[3] = 0x83; /* RA, NXDOMAIN */
	feed(cl, px.qmsg, px.qlen, (uint16_t)seq, 0, 1, good, sizeof q_a);
	tap_ok(seq >= 0 && g2.n == 1 && g2.len == sizeof q_a &&
		memcmp(g2.a, good, sizeof q_a) == 0,
	    "the retry: sent again, the right answer delivered as it came");
out:
	eng_client_free(cl);
	eng_server_free(px.srv);
	close(px.fd);
	ev_loop_free(loop);
}

int
main(void)
{
	cip = wire_cipher_new(1, "k3y", 3, NULL);
	server_side();
	client_side();
	wire_cipher_free(cip);
	return tap_done();
}
