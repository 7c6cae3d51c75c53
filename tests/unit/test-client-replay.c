/* SPDX-License-Identifier: MIT */
/*
 * test-client-replay.c — the real upstream server's answers in
 * $MDNS_SHARED/interop (every capture of a full upstream client/server
 * session) are fed to our client (eng_client_handle_answer), which runs on
 * a real event loop and sends its queries to a UDP socket this test reads.
 *
 * For each capture:
 *  - MTU discovery runs on the captured answers: each probe our client
 *    sends is looked up in the capture by (type, size, probe code) and the
 *    real server's answer is fed back with our DNS id; answers the capture
 *    point dropped (s6) are withheld, so our client times out exactly where
 *    upstream's did. It must end at upstream's MTUs (SESSION_INIT fields).
 *  - The captured SESSION_ACCEPT is refused as it is (its verify code is
 *    the upstream client's, not ours); the same answer with only the
 *    verify code set to ours is accepted, with the captured session id and
 *    cookie, so every later captured answer belongs to our session.
 *  - Every SOCKS5 stream of the capture is opened through a socketpair
 *    adopted by the client (eng_client_adopt), and must get the captured
 *    stream id. Then every later answer is fed in capture order.
 *  - Our client must acknowledge every STREAM_DATA/RESEND (DATA_ACK with
 *    its seq), SOCKS5_CONNECTED, CLOSE_READ (and every other frame that
 *    has an _ACK type), also when they came inside packed control blocks,
 *    must never RST one of its streams, and the bytes it writes to each
 *    local socket must be exactly what the upstream client got: SOCKS
 *    reply 0, then the HTTP response whose body has the SHA-256 recorded
 *    in the capture (GET) or is the origin's "received N bytes" line
 *    (POST). s7 is truncated (downstream data removed), so only its ACKs
 *    are checked.
 * Files of crafted cases (s5) are skipped: their answers follow no client
 * of ours. Captures and their query/answer pairing come from
 * tests/interop.h. s9 (the FEC fork, TCP-forward mode) has no config in
 * its header: the README's settings are used (client_config()), its
 * streams open with STREAM_SYN and the body is checked against the
 * header's body_sha256. s9 runs with FEC_LEVEL balanced: the captured
 * SESSION_CAPS_ACK must turn FEC on as the fork client's log says, and the
 * answers carrying two STREAM_DATA packets (seq 5 and 17, and their
 * RESENDs) are withheld, so the body is only intact (and those packets
 * acknowledged) if our client rebuilds them from the fork server's
 * STREAM_FEC_SYMBOL frames (docs/fec.md).
 *
 * s8 (DNS through the tunnel, no streams) is replayed for MTU discovery,
 * the handshake and a session that survives every captured answer (its
 * DNS_QUERY_RES frames arrive for no query of ours: acked and dropped);
 * then dns_app() puts each application query of the capture's app lines
 * to our client (the DNS sink, eng_client_dns_query), finds the captured
 * exchange whose DNS_QUERY_REQ carried the same bytes (our REQ fragments
 * must be cut as upstream's were), feeds the real server's DNS_QUERY_RES
 * answers for it with our seq, and the application must get exactly the
 * answer the app line records, every RES fragment acknowledged; the
 * repeated query is answered from our cache without a REQ.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"
#include "engine/client.h"
#include "proto/dns.h"
#include "proto/fec-frame.h"
#include "proto/wire.h"
#include "tests/interop.h"
#include "tests/tap.h"

#define MAXS 16

struct key {
	uint8_t type;
	uint16_t stream, seq;
	uint8_t frag;
};

/* A DNS_QUERY_REQ fragment our client sent. */
struct reqf {
	uint16_t seq;
	uint8_t frag, total;
	size_t len;
	uint8_t p[512];
};

struct run {
	const char *name;
	struct reqf *reqs;
	size_t nreqs;
	uint8_t lastq[600]; /* the last DNS query our client sent */
	size_t lastq_len;
	struct icap cap;
	json_t *hdr, **lines; /* cap's */
	size_t nlines;
	int tcp; /* PROTOCOL_TYPE TCP: streams open with STREAM_SYN */
	struct ev_loop *loop;
	struct eng_client *cl;
	struct wire_cipher *ci;
	const char *domain;
	int srv_fd, b64;
	/* What our client sent (packed blocks expanded). */
	struct key *sent;
	size_t nsent;
	/* Session setup. */
	unsigned mtu_fed, mtu_withheld, mtu_unknown;
	struct {
		uint8_t type;
		long long size;
	} * probes;
	size_t nprobes;
	unsigned packed, packed_want; /* packed answers, ACKs wanted in them */
	int init_seen, init_up, init_down, raw_accept_refused;
	uint8_t sid, cookie;
	/* Streams opened locally: capture stream id, our id, fd, bytes. */
	struct {
		uint16_t cap_id, our_id;
		int fd, eof;
		uint8_t *buf;
		size_t len;
	} st[MAXS];
	size_t nst;
};

static json_t *
jget(json_t *o, const char *path)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && o != NULL;
	     tok = strtok_r(NULL, ".", &save))
		o = json_object_get(o, tok);
	return o;
}

static long long
jint(json_t *o, const char *path, long long dflt)
{
	json_t *v = jget(o, path);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *
jstr(json_t *o, const char *path)
{
	json_t *v = jget(o, path);

	return json_is_string(v) ? json_string_value(v) : "";
}

static uint8_t *
hexbytes(const char *h, size_t *n)
{
	size_t l = strlen(h);
	uint8_t *out = xmalloc(l / 2 + 1);

	if (hex_decode(h, l, out, l / 2 + 1) < 0) {
		free(out);
		return NULL;
	}
	*n = l / 2;
	return out;
}

static void
add_sent(
    struct run *r, uint8_t type, uint16_t stream, uint16_t seq, uint8_t frag)
{
	r->sent = xreallocarray(r->sent, r->nsent + 1, sizeof *r->sent);
	r->sent[r->nsent++] = (struct key){type, stream, seq, frag};
}

static int
was_sent(
    const struct run *r, uint8_t type, uint16_t stream, uint16_t seq, int frag)
{
	size_t i;

	for (i = 0; i < r->nsent; i++)
		if (r->sent[i].type == type && r->sent[i].stream == stream &&
		    r->sent[i].seq == seq &&
		    (frag < 0 || r->sent[i].frag == frag))
			return 1;
	return 0;
}

/* Feed a captured answer with its DNS id replaced by ours. */
static void
feed(struct run *r, json_t *resp, int id)
{
	size_t n;
	uint8_t *w = hexbytes(jstr(resp, "wire"), &n);

	if (w == NULL || n < DNS_HDR_LEN) {
		free(w);
		return;
	}
	if (id >= 0)
		be16_store(w, (uint16_t)id);
	eng_client_handle_answer(r->cl, w, n);
	free(w);
}

/*
 * Feed a captured tunnel answer rebuilt for our query msg: same frame
 * header, payload with the four bytes at offset at replaced by patch4
 * (our probe code or verify code), then cut to cut bytes (0: not cut), or
 * replaced by whole (wlen bytes) when whole is not NULL. Returns 0, or -1
 * if the answer did not decode.
 */
static int
feed_frame(struct run *r, json_t *resp, const uint8_t *msg, size_t len,
    const uint8_t *patch4, size_t at, size_t cut, const uint8_t *whole,
    size_t wlen)
{
	static uint8_t fb[65536], pb[8192], nb[8300], out[16384];
	struct dns_answer da;
	struct dns_query q;
	struct wire_frame f;
	size_t n;
	uint8_t *w = hexbytes(jstr(resp, "wire"), &n);
	long fl, an;

	if (w == NULL)
		return -1;
	if (dns_answer_parse(w, n, r->b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, fb,
		sizeof fb, &da, NULL) != DNS_ANS_FRAME ||
	    wire_frame_parse(fb, da.frame_len, &f) != WIRE_OK ||
	    (whole == NULL && f.payload_len < at + 4) ||
	    f.payload_len > sizeof pb || wlen > sizeof pb ||
	    dns_query_parse(msg, len, &q, NULL) != DNS_QUERY_OK) {
		free(w);
		return -1;
	}
	free(w);
	if (whole != NULL) {
		memcpy(pb, whole, wlen);
		f.payload_len = wlen;
	} else {
		memcpy(pb, f.payload, f.payload_len);
		memcpy(pb + at, patch4, 4);
		if (cut > 0 && cut < f.payload_len)
			f.payload_len = cut;
	}
	f.payload = pb;
	fl = wire_frame_build(&f, nb, sizeof nb);
	if (fl <= 0)
		return -1;
	an = dns_answer_build(out, sizeof out, &q, nb, (size_t)fl,
	    wire_header_len(f.type), r->b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW,
	    NULL);
	if (an <= 0)
		return -1;
	eng_client_handle_answer(r->cl, out, (size_t)an);
	return 0;
}

static int
feed_patched(struct run *r, json_t *resp, const uint8_t *msg, size_t len,
    const uint8_t *patch4, size_t at)
{
	return feed_frame(r, resp, msg, len, patch4, at, 0, NULL, 0);
}

/*
 * Our probe number k of this type and size is upstream's k-th probe of
 * the same type and size: answer it as the real server did (with our
 * probe code; upstream's client counts codes from 1, ours starts at a
 * random value), or withhold the answer the capture point dropped.
 */
static void
on_mtu_probe(
    struct run *r, const struct wire_frame *f, const uint8_t *msg, size_t len)
{
	struct wire_mtu_req q;
	int up = f->type == WIRE_MTU_UP_REQ;
	uint8_t code[4];
	size_t i, k = 0, seen;
	long long size;

	if ((up ? wire_mtu_up_req_parse(f->payload, f->payload_len, &q) :
		  wire_mtu_down_req_parse(f->payload, f->payload_len, &q)) !=
	    WIRE_OK) {
		r->mtu_unknown++;
		return;
	}
	size = up ? (long long)q.len : (long long)q.down;
	for (seen = i = 0; i < r->nprobes; i++)
		if (r->probes[i].type == f->type && r->probes[i].size == size)
			seen++;
	r->probes = xreallocarray(r->probes, r->nprobes + 1, sizeof *r->probes);
	r->probes[r->nprobes].type = f->type;
	r->probes[r->nprobes++].size = size;
	be32_store(code, q.code);
	for (i = 0; i < r->nlines; i++) {
		json_t *l = r->lines[i], *a;

		if (strcmp(jstr(l, "dir"), "query") != 0 ||
		    jint(l, "decoded.tunnel.packet_type", -1) != f->type ||
		    jint(l,
			up ? "decoded.tunnel.fields.probe_size" :
			     "decoded.tunnel.fields.requested_down",
			-1) != size ||
		    k++ != seen)
			continue;
		a = icap_answer(&r->cap, i);
		if (a == NULL || json_is_true(json_object_get(a, "dropped"))) {
			r->mtu_withheld++;
			return;
		}
		if (feed_patched(r, a, msg, len, code, 0) == 0)
			r->mtu_fed++;
		else
			r->mtu_unknown++;
		return;
	}
	if (r->mtu_unknown++ == 0)
		tap_diag("%s: probe upstream did not send: %s size %lld",
		    r->name, wire_type_name(f->type), size);
}

static void
on_init(
    struct run *r, const struct wire_frame *f, const uint8_t *msg, size_t len)
{
	struct wire_session_init in;
	struct wire_session_accept acc;
	struct wire_frame af;
	struct dns_answer da;
	static uint8_t fb[65536];
	json_t *resp = NULL;
	size_t i, n;
	uint8_t *w;

	if (r->init_seen++ ||
	    wire_session_init_parse(f->payload, f->payload_len, &in) != WIRE_OK)
		return;
	r->init_up = in.upload_mtu;
	r->init_down = in.download_mtu;
	for (i = 0; i < r->nlines && resp == NULL; i++)
		if (strcmp(jstr(r->lines[i], "dir"), "response") == 0 &&
		    jint(r->lines[i], "decoded.tunnel.packet_type", -1) ==
			WIRE_SESSION_ACCEPT)
			resp = r->lines[i];
	if (resp == NULL)
		return;
	/* As captured: the upstream client's verify code, not ours. */
	feed(r, resp, be16_load(msg));
	r->raw_accept_refused =
	    eng_client_stats(r->cl)->phase != ENG_CLI_CONNECTED;
	/* The same answer with our verify code (bytes 3..6). */
	w = hexbytes(jstr(resp, "wire"), &n);
	if (w != NULL &&
	    dns_answer_parse(w, n, r->b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, fb,
		sizeof fb, &da, NULL) == DNS_ANS_FRAME &&
	    wire_frame_parse(fb, da.frame_len, &af) == WIRE_OK &&
	    wire_session_accept_parse(af.payload, af.payload_len, &acc) ==
		WIRE_OK) {
		r->sid = acc.session_id;
		r->cookie = acc.cookie;
		(void)feed_patched(r, resp, msg, len, in.verify, 3);
	}
	free(w);
}

/* Read every query our client sent; answer session setup from the capture. */
static void
drain(struct run *r)
{
	static uint8_t msg[600], fb[65536];
	const char *doms[1] = {r->domain};
	struct dns_query q;
	struct wire_frame f;
	struct wire_block b;
	ssize_t n;
	size_t i;

	while ((n = recv(r->srv_fd, msg, sizeof msg, MSG_DONTWAIT)) > 0) {
		if (dns_query_parse(msg, (size_t)n, &q, NULL) != DNS_QUERY_OK ||
		    wire_decode_query_name(q.qname, q.qname_len, doms, 1, r->ci,
			fb, sizeof fb, &f, NULL) != WIRE_OK)
			continue;
		add_sent(r, f.type, f.stream_id, f.seq, f.frag_id);
		memcpy(r->lastq, msg, (size_t)n);
		r->lastq_len = (size_t)n;
		if (f.type == WIRE_DNS_QUERY_REQ && f.payload_len <= 512) {
			r->reqs = xreallocarray(
			    r->reqs, r->nreqs + 1, sizeof *r->reqs);
			r->reqs[r->nreqs].seq = f.seq;
			r->reqs[r->nreqs].frag = f.frag_id;
			r->reqs[r->nreqs].total = f.frag_total;
			r->reqs[r->nreqs].len = f.payload_len;
			memcpy(r->reqs[r->nreqs].p, f.payload, f.payload_len);
			r->nreqs++;
		}
		if (f.type == WIRE_PACKED_CONTROL_BLOCKS)
			for (i = 0; wire_block_get(f.payload, f.payload_len, i,
					&b) == WIRE_OK;
			     i++)
				add_sent(
				    r, b.type, b.stream_id, b.seq, b.frag_id);
		if (f.type == WIRE_MTU_UP_REQ || f.type == WIRE_MTU_DOWN_REQ)
			on_mtu_probe(r, &f, msg, (size_t)n);
		else if (f.type == WIRE_SESSION_INIT)
			on_init(r, &f, msg, (size_t)n);
	}
}

static void
read_locals(struct run *r)
{
	uint8_t buf[65536];
	ssize_t n;
	size_t i;

	for (i = 0; i < r->nst; i++) {
		while (!r->st[i].eof &&
		    (n = recv(r->st[i].fd, buf, sizeof buf, MSG_DONTWAIT)) !=
			-1) {
			if (n == 0) {
				r->st[i].eof = 1;
				break;
			}
			r->st[i].buf =
			    xrealloc(r->st[i].buf, r->st[i].len + (size_t)n);
			memcpy(r->st[i].buf + r->st[i].len, buf, (size_t)n);
			r->st[i].len += (size_t)n;
		}
	}
}

/* Run the loop for about ms milliseconds (0: one non-blocking turn). */
static void
pump(struct run *r, int ms)
{
	uint64_t end = ev_now_us(r->loop) + (uint64_t)ms * 1000;

	do {
		ev_run_once(r->loop, ms ? 2 : 0);
		drain(r);
		read_locals(r);
	} while (ev_now_us(r->loop) < end);
}

/*
 * Open a local connection for the captured SOCKS5_SYN (a SOCKS5 request
 * for its target) or, in TCP-forward mode, STREAM_SYN line.
 */
static void
open_local(struct run *r, json_t *l)
{
	int sv[2];
	size_t n = 0, before = r->nsent, i;
	uint8_t *p =
	    r->tcp ? NULL : hexbytes(jstr(l, "decoded.tunnel.payload_hex"), &n);
	uint8_t req[300] = {5, 1, 0};
	int k, syn = r->tcp ? WIRE_STREAM_SYN : WIRE_SOCKS5_SYN;

	if ((!r->tcp && p == NULL) || r->nst == MAXS || n > sizeof req - 3 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		free(p);
		return;
	}
	if (n > 0)
		memcpy(req + 3, p, n);
	free(p);
	r->st[r->nst].cap_id = (uint16_t)jint(l, "decoded.tunnel.stream_id", 0);
	r->st[r->nst].fd = sv[1];
	eng_client_adopt(r->cl, sv[0]);
	if (!r->tcp &&
	    (write(sv[1], "\x05\x01\x00", 3) != 3 ||
		write(sv[1], req, n + 3) != (ssize_t)(n + 3)))
		return;
	r->nst++;
	for (k = 0; k < 200; k++) {
		pump(r, 5);
		for (i = before; i < r->nsent; i++)
			if (r->sent[i].type == syn) {
				r->st[r->nst - 1].our_id = r->sent[i].stream;
				return;
			}
	}
}

static int
opened(const struct run *r, uint16_t id)
{
	size_t i;

	for (i = 0; i < r->nst; i++)
		if (r->st[i].our_id == id)
			return 1;
	return 0;
}

/* Count the frames a captured answer carries that need our _ACK. */
static void
expect_acks(struct run *r, json_t *resp, unsigned *want, unsigned *missing,
    char *first, size_t fcap)
{
	static uint8_t fb[65536];
	struct dns_answer da;
	struct wire_frame f;
	struct wire_block b;
	struct key ks[512];
	size_t nk = 0, i, n;
	uint8_t *w = hexbytes(jstr(resp, "wire"), &n);

	if (w == NULL)
		return;
	if (dns_answer_parse(w, n, r->b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, fb,
		sizeof fb, &da, NULL) != DNS_ANS_FRAME ||
	    wire_frame_parse(fb, da.frame_len, &f) != WIRE_OK) {
		free(w);
		return;
	}
	free(w);
	if (f.type == WIRE_PACKED_CONTROL_BLOCKS) {
		r->packed++;
		for (i = 0; nk < 512 &&
		     wire_block_get(f.payload, f.payload_len, i, &b) == WIRE_OK;
		     i++)
			ks[nk++] =
			    (struct key){b.type, b.stream_id, b.seq, b.frag_id};
	} else
		ks[nk++] = (struct key){f.type, f.stream_id, f.seq, f.frag_id};
	for (i = 0; i < nk; i++) {
		int data = ks[i].type == WIRE_STREAM_DATA ||
		    ks[i].type == WIRE_STREAM_RESEND;
		int at =
		    data ? WIRE_STREAM_DATA_ACK : wire_ack_type(ks[i].type);

		if (ks[i].stream == 0 || at < 0 || !opened(r, ks[i].stream))
			continue;
		(*want)++;
		if (f.type == WIRE_PACKED_CONTROL_BLOCKS)
			r->packed_want++;
		if (!was_sent(r, (uint8_t)at, ks[i].stream, ks[i].seq,
			data ? -1 : ks[i].frag)) {
			(*missing)++;
			if (first[0] == '\0')
				snprintf(first, fcap, "%s stream %u seq %u",
				    wire_type_name(ks[i].type), ks[i].stream,
				    ks[i].seq);
		}
	}
}

static void
sha_hex(const uint8_t *p, size_t n, char *out)
{
	uint8_t md[32];
	unsigned ml = 0;

	EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

/*
 * Check stream i's local bytes against the capture's action i, or, in a
 * capture without actions (s9), against the header's body_sha256.
 */
static void
check_body(struct run *r, size_t i, json_t *act)
{
	const uint8_t *p = r->st[i].buf, *body;
	size_t n = r->st[i].len, bl;
	char hex[65];
	const char *kind = act ? jstr(act, "action.kind") : "get";

	if (!r->tcp && (n < 12 || memcmp(p, "\x05\x00\x05\x00", 4) != 0)) {
		tap_ok(0, "%s: stream %zu: SOCKS replies (%zu bytes)", r->name,
		    i + 1, n);
		return;
	}
	if (!r->tcp) {
		p += 12;
		n -= 12;
	}
	body = memmem(p, n, "\r\n\r\n", 4);
	if (body == NULL) {
		tap_ok(0, "%s: stream %zu: HTTP head (%zu bytes)", r->name,
		    i + 1, n);
		return;
	}
	body += 4;
	bl = n - (size_t)(body - p);
	if (act == NULL) {
		sha_hex(body, bl, hex);
		tap_ok(strcmp(hex, jstr(r->hdr, "body_sha256")) == 0 &&
			json_is_true(
			    json_object_get(r->hdr, "transfer_intact")),
		    "%s: stream %zu: body %zu bytes, SHA-256 as the capture's "
		    "client got it",
		    r->name, i + 1, bl);
	} else if (strcmp(kind, "get") == 0) {
		sha_hex(body, bl, hex);
		tap_ok(bl == (size_t)jint(act, "got_len", -1) &&
			strcmp(hex, jstr(act, "got_sha256")) == 0,
		    "%s: stream %zu: GET body %zu bytes, SHA-256 as upstream "
		    "got it",
		    r->name, i + 1, bl);
	} else {
		const char *want = jstr(act, "stdout");

		tap_ok(bl == strlen(want) && memcmp(body, want, bl) == 0,
		    "%s: stream %zu: POST reply as upstream got it (%.*s)",
		    r->name, i + 1, (int)MIN(bl, 30u), (const char *)body);
	}
}

/*
 * The client settings of a capture: its header's config.client or, for
 * s9, which records none, what the README says of it (TCP-forward mode,
 * download MTU 200). Keys left out take the upstream sample config's
 * values (replay()). NULL for crafted cases (s5): no client to replay.
 */
static json_t *
client_config(const struct run *r)
{
	json_t *cc = jget(r->hdr, "config.client");

	if (json_is_object(cc))
		return json_incref(cc);
	if (strcmp(r->name, "s9-fork-fec.jsonl") == 0)
		return json_pack("{s:s, s:i}", "PROTOCOL_TYPE", "TCP",
		    "MAX_DOWNLOAD_MTU", 200);
	return NULL;
}

/* Answers of these types in the capture, and the feature they need. */
static void
diag_untested(const struct run *r)
{
	unsigned n[256] = {0}, t;
	size_t i;

	for (i = 0; i < r->nlines; i++)
		if (!icap_is_query(r->lines[i]))
			n[jint(r->lines[i], "decoded.tunnel.packet_type", 0) &
			    255]++;
	for (t = 0; t < 256; t++)
		if (n[t] > 0 && wire_type_fork((uint8_t)t))
			tap_diag(
			    "%s: not checked yet: %u %s fed to our client, "
			    "which has no FEC (left for its feature issue)",
			    r->name, n[t], wire_type_name((uint8_t)t));
}

/* ---- DNS through the tunnel (s8) ---- */

struct app_answer {
	int called;
	uint8_t ans[4096];
	size_t len;
};

static void
app_cb(
    void *arg, const void *ctx, size_t ctxlen, const uint8_t *ans, size_t len)
{
	struct app_answer *a = arg;

	(void)ctx;
	(void)ctxlen;
	a->called++;
	a->len = MIN(len, sizeof a->ans);
	memcpy(a->ans, ans, a->len);
}

/* The REQ message of capture seq (its fragments in order), or 0. */
static size_t
cap_req(struct run *r, long long seq, uint8_t *out, size_t cap, unsigned *total,
    size_t *flen)
{
	size_t i, n, len = 0;
	long long k;
	uint8_t *p;

	*total = 0;
	for (k = 0; k < 256; k++) {
		for (i = 0; i < r->nlines; i++) {
			json_t *l = r->lines[i];

			if (!icap_is_query(l) ||
			    jint(l, "decoded.tunnel.packet_type", -1) !=
				WIRE_DNS_QUERY_REQ ||
			    jint(l, "decoded.tunnel.seq", -1) != seq ||
			    jint(l, "decoded.tunnel.frag_id", -1) != k)
				continue;
			*total =
			    (unsigned)jint(l, "decoded.tunnel.frag_total", 1);
			p = hexbytes(jstr(l, "decoded.tunnel.payload_hex"), &n);
			if (p != NULL && len + n <= cap) {
				memcpy(out + len, p, n);
				if (k < 8)
					flen[k] = n;
				len += n;
			}
			free(p);
			break;
		}
		if (k + 1 >= *total)
			break;
	}
	return len;
}

/* Feed every captured DNS_QUERY_RES of capture seq with our seq. */
static unsigned
feed_res(struct run *r, long long seq, uint16_t ours)
{
	static uint8_t fb[65536], nb[8300], out[16384];
	struct dns_answer da;
	struct dns_query q;
	struct wire_frame f;
	unsigned fed = 0;
	size_t i, n;
	long fl, an;
	uint8_t *w;

	if (dns_query_parse(r->lastq, r->lastq_len, &q, NULL) != DNS_QUERY_OK)
		return 0;
	for (i = 0; i < r->nlines; i++) {
		json_t *l = r->lines[i];

		if (icap_is_query(l) ||
		    jint(l, "decoded.tunnel.packet_type", -1) !=
			WIRE_DNS_QUERY_RES ||
		    jint(l, "decoded.tunnel.seq", -1) != seq)
			continue;
		w = hexbytes(jstr(l, "wire"), &n);
		if (w == NULL ||
		    dns_answer_parse(w, n,
			r->b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, fb, sizeof fb,
			&da, NULL) != DNS_ANS_FRAME ||
		    wire_frame_parse(fb, da.frame_len, &f) != WIRE_OK) {
			free(w);
			continue;
		}
		free(w);
		f.seq = ours;
		fl = wire_frame_build(&f, nb, sizeof nb);
		an = fl <= 0 ?
		    -1 :
		    dns_answer_build(out, sizeof out, &q, nb, (size_t)fl,
			wire_header_len(f.type),
			r->b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, NULL);
		if (an <= 0)
			continue;
		eng_client_handle_answer(r->cl, out, (size_t)an);
		fed++;
	}
	return fed;
}

static void
dns_app(struct run *r)
{
	static uint8_t ours[4096], theirs[4096];
	char first[200] = "";
	size_t i, k, n = 0, ok = 0, cut_ok = 0, ql, al, napp = 0;
	unsigned fed_all = 0, acked = 0, total;
	FILE *fp;
	char *lb = NULL, path[4200];
	size_t lcap = 0;
	json_t *apps[16];

	snprintf(path, sizeof path, "%s/%s", icap_dir(), r->name);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	while (getline(&lb, &lcap, fp) > 0 && napp < nitems(apps)) {
		json_t *j = json_loads(lb, 0, NULL);

		if (json_is_true(json_object_get(j, "app")))
			apps[napp++] = j;
		else
			json_decref(j);
	}
	free(lb);
	fclose(fp);
	for (i = 0; i < napp; i++) {
		struct app_answer a;
		uint8_t *q = hexbytes(jstr(apps[i], "query"), &ql);
		uint8_t *want = hexbytes(jstr(apps[i], "answer"), &al);
		size_t before = r->nreqs, olen = 0, tlen = 0, flen[8] = {0};
		uint16_t seq = 0;
		long long cs = -1;
		int hit;

		memset(&a, 0, sizeof a);
		n++;
		if (q == NULL || want == NULL ||
		    eng_client_dns_query(r->cl, q, ql, NULL, 0, app_cb, &a) !=
			0) {
			snprintf(first, sizeof first, "app %zu not taken", i);
			free(q);
			free(want);
			continue;
		}
		hit = a.called;
		/* Until every fragment of our REQ is out (a loaded machine
		 * may need more than one 20 ms turn), at most 2 s. */
		for (int turn = 0; turn < 100; turn++) {
			unsigned want_n = 0, got = 0;

			pump(r, 20);
			for (k = before; k < r->nreqs; k++)
				if (r->reqs[k].frag == 0) {
					want_n = r->reqs[k].total;
					seq = r->reqs[k].seq;
					break;
				}
			for (k = before; k < r->nreqs && want_n > 0; k++)
				if (r->reqs[k].seq == seq &&
				    r->reqs[k].frag < 32)
					got |= 1u << r->reqs[k].frag;
			if (hit ||
			    (want_n > 0 && want_n <= 32 &&
				got ==
				    (want_n == 32 ? ~0u : (1u << want_n) - 1)))
				break;
		}
		/* Our REQ for it, reassembled. */
		for (k = before; k < r->nreqs; k++)
			if (r->reqs[k].frag == 0) {
				seq = r->reqs[k].seq;
				break;
			}
		for (total = 0; !hit && total < 8; total++)
			for (k = before; k < r->nreqs; k++)
				if (r->reqs[k].seq == seq &&
				    r->reqs[k].frag == total &&
				    olen + r->reqs[k].len <= sizeof ours) {
					memcpy(ours + olen, r->reqs[k].p,
					    r->reqs[k].len);
					olen += r->reqs[k].len;
					break;
				}
		/* The captured exchange with the same REQ bytes. */
		for (k = 0; !hit && k < r->nlines; k++) {
			long long s =
			    jint(r->lines[k], "decoded.tunnel.seq", -1);
			unsigned tt;
			size_t j, same = 1;

			if (!icap_is_query(r->lines[k]) ||
			    jint(r->lines[k], "decoded.tunnel.packet_type",
				-1) != WIRE_DNS_QUERY_REQ)
				continue;
			tlen = cap_req(r, s, theirs, sizeof theirs, &tt, flen);
			if (tlen != olen || memcmp(theirs, ours, olen) != 0)
				continue;
			cs = s;
			for (j = 0; j < tt && j < 8; j++) {
				size_t m;

				for (m = before; m < r->nreqs; m++)
					if (r->reqs[m].seq == seq &&
					    r->reqs[m].frag == j)
						break;
				if (m == r->nreqs || r->reqs[m].total != tt ||
				    r->reqs[m].len != flen[j])
					same = 0;
			}
			cut_ok += same;
			break;
		}
		if (!hit && cs >= 0) {
			unsigned fed = feed_res(r, cs, seq);

			fed_all += fed;
			pump(r, 50);
			for (k = 0; k < 256; k++)
				if (was_sent(r, WIRE_DNS_QUERY_RES_ACK, 0, seq,
					(int)k))
					acked++;
		}
		if (a.called == 1 && a.len == al &&
		    memcmp(a.ans, want, al) == 0 && (hit == (i + 1 == napp)))
			ok++;
		else if (first[0] == '\0')
			snprintf(first, sizeof first, "app %zu (%s): %s%s", i,
			    jstr(apps[i], "qname"),
			    a.called ? "another answer" : "no answer",
			    cs < 0 && !hit ? ", no captured REQ matched" : "");
		free(q);
		free(want);
	}
	tap_ok(n == 7 && ok == n,
	    "%s: DNS: each of the %zu application queries gets exactly the "
	    "answer upstream's client handed its application (%zu%s%s)",
	    r->name, n, ok, first[0] ? "; first: " : "", first);
	tap_ok(cut_ok == n - 1,
	    "%s: DNS: our %zu tunnelled queries are cut into the captured "
	    "DNS_QUERY_REQ fragments (%zu)",
	    r->name, n - 1, cut_ok);
	tap_ok(fed_all >= 9 && acked == fed_all,
	    "%s: DNS: every DNS_QUERY_RES fed is acknowledged (%u of %u)",
	    r->name, acked, fed_all);
	tap_ok(eng_client_dns_stats(r->cl)->cache_hits == 1,
	    "%s: DNS: the repeated query is answered from our cache", r->name);
	for (i = 0; i < napp; i++)
		json_decref(apps[i]);
}

/*
 * s9 with FEC: the answers carrying stream 2's seq 5 and 17 (in the
 * groups starting at 0 and 12, which the capture's repair symbols cover)
 * are never fed, so the body is only complete if our client rebuilds
 * them from the fork server's symbols.
 */
static int
fec_withheld(json_t *l)
{
	long long t = jint(l, "decoded.tunnel.packet_type", -1);
	long long seq = jint(l, "decoded.tunnel.seq", -1);

	return (t == WIRE_STREAM_DATA || t == WIRE_STREAM_RESEND) &&
	    jint(l, "decoded.tunnel.stream_id", -1) == 2 &&
	    (seq == 5 || seq == 17);
}

/*
 * s9 with FEC on: the first captured STREAM_FEC_SYMBOL answer fed again
 * with its payload altered (group count 65, a source id, original length
 * 1, a packet longer than the symbol, the first two lengths swapped: a
 * group whose metadata differs from the one already seen; an id beyond
 * the repair range, 2K; the symbol 10 bytes short, so its length
 * disagrees with its group's; the payload cut inside the packet lengths;
 * a well-formed group of 13, over the negotiated 12): each dropped and
 * counted in fec.malformed, the session on.
 */
static void
fec_malformed(struct run *r, const char *name)
{
	static const struct {
		uint8_t p[4];
		size_t at, cut;
	} bad[] = {{{1, 65, 0, 0}, 0, 0}, {{0, 0, 0, 5}, 8, 0},
	    {{0, 0, 0, 1}, 2, 0}, {{0, 201, 0, 200}, 12, 0},
	    {{0, 200, 0, 116}, 12, 0}, {{0, 0, 0, 24}, 8, 0},
	    {{1, 12, 0, 0}, 0, 1}, {{1, 12, 0, 0}, 0, 22}};
	static uint8_t big[FEC_SYM_HDR + 2 * 13 + 100], sym[100];
	struct fec_sym fs;
	json_t *st, *fo;
	size_t i, k, n;
	int fed = 0, want = (int)nitems(bad) + 1;
	long long before, after;
	uint8_t *q;

	st = eng_client_status_json(r->cl, "test", 0);
	before = jint(json_object_get(st, "fec"), "malformed", -1);
	json_decref(st);
	for (i = 0; i < r->nlines; i++)
		if (!icap_is_query(r->lines[i]) &&
		    jint(r->lines[i], "decoded.tunnel.packet_type", -1) ==
			WIRE_STREAM_FEC_SYMBOL &&
		    r->cap.peer[i] >= 0)
			break;
	if (i == r->nlines) {
		tap_ok(0, "%s: no FEC symbol answer to alter", name);
		return;
	}
	q = hexbytes(jstr(r->lines[r->cap.peer[i]], "wire"), &n);
	for (k = 0; q != NULL && k < nitems(bad); k++) {
		size_t cut = bad[k].cut;

		/* cut 1: 10 bytes short of the captured payload */
		if (cut == 1)
			cut = (size_t)jint(r->lines[i],
				  "decoded.tunnel.payload_len", 0) -
			    10;
		if (feed_frame(r, r->lines[i], q, n, bad[k].p, bad[k].at, cut,
			NULL, 0) == 0)
			fed++;
	}
	memset(&fs, 0, sizeof fs);
	fs.count = 13;
	fs.id = 13;
	for (k = 0; k < 13; k++)
		fs.lens[k] = 100;
	fs.sym = sym;
	fs.sym_len = sizeof sym;
	if (q != NULL && fec_sym_build(&fs, big, sizeof big, NULL) > 0 &&
	    feed_frame(r, r->lines[i], q, n, NULL, 0, 0, big, sizeof big) == 0)
		fed++;
	free(q);
	pump(r, 0);
	st = eng_client_status_json(r->cl, "test", 0);
	fo = json_object_get(st, "fec");
	after = jint(fo, "malformed", -1);
	tap_ok(fed == want && after == before + want &&
		jint(fo, "recovered_packets", 0) == 2 &&
		eng_client_stats(r->cl)->phase == ENG_CLI_CONNECTED,
	    "%s: %d malformed STREAM_FEC_SYMBOL frames (count 65, id below "
	    "K, wrong original length, packet over T, other lengths for a "
	    "known group, id 2K, symbol 10 bytes short, cut inside the "
	    "lengths, a group of 13 over the negotiated 12) dropped and "
	    "counted (fed %d, counted %lld), the session on",
	    name, want, fed, after - before);
	json_decref(st);
}

static void
replay(const char *name)
{
	char first[160] = "";
	size_t i, want_streams;
	struct run r;
	struct cfg_client cfg;
	struct err e = {""};
	union net_addr sa;
	json_t *cc = NULL, *acts;
	unsigned want = 0, missing = 0, rst = 0;
	int started, syn, round;
	int fec = strcmp(name, "s9-fork-fec.jsonl") == 0;
	unsigned nwithheld = 0;
	static uint8_t syn_ids[65536 / 8];

	memset(&r, 0, sizeof r);
	memset(syn_ids, 0, sizeof syn_ids);
	r.name = name;
	r.srv_fd = -1;
	if (icap_load(name, &r.cap) == -1)
		return;
	r.hdr = r.cap.hdr;
	r.lines = r.cap.lines;
	r.nlines = r.cap.nlines;
	cc = client_config(&r);
	if (cc == NULL)
		goto out; /* crafted cases: no client to replay */
	r.tcp = strcmp(jstr(cc, "PROTOCOL_TYPE"), "TCP") == 0;
	syn = r.tcp ? WIRE_STREAM_SYN : WIRE_SOCKS5_SYN;

	r.domain = jstr(r.hdr, "domain");
	r.b64 = strcmp(jstr(r.hdr, "response_mode"), "base64") == 0;
	r.ci = wire_cipher_new((int)jint(r.hdr, "method", 1),
	    jstr(r.hdr, "key"), strlen(jstr(r.hdr, "key")), &e);
	r.loop = ev_loop_new(&e);
	net_addr_parse("127.0.0.1:0", 0, &sa, &e);
	r.srv_fd = net_udp_bind(&sa, &e);
	if (r.ci == NULL || r.loop == NULL || r.srv_fd == -1 ||
	    net_local_addr(r.srv_fd, &sa, &e) == -1) {
		tap_ok(0, "%s: setup: %s", name, e.msg);
		goto out;
	}
	cfg_client_defaults(&cfg);
	free(cfg.domains);
	cfg.domains = xcalloc(2, sizeof(char *));
	cfg.domains[0] = xstrdup(r.domain);
	cfg.ndomains = 1;
	cfg.method = (int)jint(r.hdr, "method", 1);
	cfg.key = xstrdup(jstr(r.hdr, "key"));
	cfg.base64 = r.b64;
	cfg.protocol_tcp = r.tcp;
	cfg.up_comp = (int)jint(cc, "UPLOAD_COMPRESSION_TYPE", 0);
	cfg.down_comp = (int)jint(cc, "DOWNLOAD_COMPRESSION_TYPE", 0);
	cfg.min_up_mtu = (unsigned)jint(cc, "MIN_UPLOAD_MTU", 38);
	cfg.max_up_mtu = (unsigned)jint(cc, "MAX_UPLOAD_MTU", 150);
	cfg.min_down_mtu = (unsigned)jint(cc, "MIN_DOWNLOAD_MTU", 200);
	cfg.max_down_mtu = (unsigned)jint(cc, "MAX_DOWNLOAD_MTU", 1000);
	cfg.mtu_retries = (unsigned)jint(cc, "MTU_TEST_RETRIES", 2);
	cfg.mtu_timeout_s = 0.05; /* withheld answers: time out quickly */
	if (fec) {
		/* The fork client's level; its CAPS_ACK is in the capture. */
		free(cfg.fec_level);
		cfg.fec_level = xstrdup("balanced");
	}
	free(cfg.listen_ip);
	cfg.listen_ip = xstrdup("127.0.0.1");
	cfg.listen_port = 0;
	cfg.resolvers = xcalloc(1, sizeof *cfg.resolvers);
	cfg.resolvers[0] = sa;
	cfg.nresolvers = 1;
	r.cl = eng_client_new(r.loop, &cfg, &e);
	cfg_client_clear(&cfg);
	started = r.cl != NULL && eng_client_start(r.cl, NULL, &e) == 0;
	tap_ok(started, "%s: client started %s", name, e.msg);
	if (!started)
		goto out;

	/* MTU discovery and the handshake on the captured answers. */
	for (i = 0;
	     i < 1500 && eng_client_stats(r.cl)->phase != ENG_CLI_CONNECTED &&
	     eng_client_stats(r.cl)->phase != ENG_CLI_FAILED;
	     i++)
		pump(&r, 2);
	tap_ok(r.mtu_fed > 0 && r.mtu_unknown == 0,
	    "%s: every MTU probe of ours is one upstream sent (%u answered, "
	    "%u withheld as captured, %u unknown)",
	    name, r.mtu_fed, r.mtu_withheld, r.mtu_unknown);
	for (i = 0; i < r.nlines; i++)
		if (jint(r.lines[i], "decoded.tunnel.packet_type", -1) ==
		    WIRE_SESSION_INIT)
			break;
	tap_ok(i < r.nlines &&
		r.init_up ==
		    jint(r.lines[i], "decoded.tunnel.fields.upload_mtu", -1) &&
		r.init_down ==
		    jint(r.lines[i], "decoded.tunnel.fields.download_mtu", -1),
	    "%s: MTU discovery ends at upstream's MTUs (%d/%d)", name,
	    r.init_up, r.init_down);
	tap_ok(r.raw_accept_refused,
	    "%s: the captured ACCEPT (upstream's verify code) is refused",
	    name);
	tap_ok(eng_client_stats(r.cl)->phase == ENG_CLI_CONNECTED &&
		eng_client_stats(r.cl)->session_id == r.sid,
	    "%s: the captured ACCEPT with our verify code gives session %u",
	    name, r.sid);
	if (eng_client_stats(r.cl)->phase != ENG_CLI_CONNECTED)
		goto out;

	/* The session: open streams as upstream did, feed every answer. */
	for (i = 0; i < r.nlines; i++) {
		json_t *l = r.lines[i];
		int t = (int)jint(l, "decoded.tunnel.packet_type", -1);

		if (t == WIRE_MTU_UP_REQ || t == WIRE_MTU_DOWN_REQ ||
		    t == WIRE_MTU_UP_RES || t == WIRE_MTU_DOWN_RES ||
		    t == WIRE_SESSION_INIT || t == WIRE_SESSION_ACCEPT)
			continue;
		if (strcmp(jstr(l, "dir"), "query") == 0) {
			if (t == syn &&
			    jint(l, "decoded.tunnel.frag_id", 0) == 0) {
				uint16_t id = (uint16_t)jint(
				    l, "decoded.tunnel.stream_id", 0);
				size_t k;

				for (k = 0; k < r.nst; k++)
					if (r.st[k].cap_id == id)
						break;
				if (k == r.nst)
					open_local(&r, l);
			}
			continue;
		}
		if (json_is_true(json_object_get(l, "dropped")))
			continue;
		if (fec && fec_withheld(l)) {
			nwithheld++;
			continue;
		}
		feed(&r, l, -1);
		pump(&r, 0);
	}
	/* Our client paces its queries: give the ACKs up to 5 s to leave. */
	for (round = 0; round < 50; round++) {
		pump(&r, 100);
		want = missing = r.packed = r.packed_want = 0;
		first[0] = '\0';
		for (i = 0; i < r.nlines; i++)
			if (strcmp(jstr(r.lines[i], "dir"), "response") == 0 &&
			    !json_is_true(
				json_object_get(r.lines[i], "dropped")))
				expect_acks(&r, r.lines[i], &want, &missing,
				    first, sizeof first);
		if (round >= 2 && missing == 0)
			break;
	}
	if (fec) {
		json_t *st = eng_client_status_json(r.cl, "test", 0);
		json_t *fo = json_object_get(st, "fec");

		tap_ok(json_is_true(json_object_get(fo, "negotiated")) &&
			jint(fo, "group_size", 0) == 12 &&
			jint(fo, "overhead", 0) == 25,
		    "%s: FEC negotiated from the fork server's CAPS_ACK "
		    "(group 12, overhead 25 %%)",
		    name);
		tap_ok(nwithheld > 0 && jint(fo, "symbols_received", 0) == 7 &&
			jint(fo, "recovered_packets", 0) == 2 &&
			jint(fo, "malformed", 0) == 0,
		    "%s: STREAM_DATA seq 5 and 17 withheld (%u answers): the "
		    "fork's repair symbols (%lld taken) rebuilt %lld packets "
		    "(%lld groups)",
		    name, nwithheld, jint(fo, "symbols_received", 0),
		    jint(fo, "recovered_packets", 0),
		    jint(fo, "decoded_groups", 0));
		json_decref(st);
		fec_malformed(&r, name);
	} else
		diag_untested(&r);
	tap_ok(eng_client_stats(r.cl)->phase == ENG_CLI_CONNECTED,
	    "%s: the session survives every captured answer", name);
	acts = json_object_get(r.hdr, "actions");
	/* One stream per action; s9 records no actions: count its SYNs. */
	want_streams = json_array_size(acts);
	for (i = 0; acts == NULL && i < r.nlines; i++) {
		long long id = jint(r.lines[i], "decoded.tunnel.stream_id", -1);

		if (icap_is_query(r.lines[i]) && id >= 0 && id < 65536 &&
		    jint(r.lines[i], "decoded.tunnel.packet_type", -1) == syn &&
		    !(syn_ids[id / 8] & (1 << (id % 8)))) {
			syn_ids[id / 8] |= (uint8_t)(1 << (id % 8));
			want_streams++;
		}
	}
	if (strncmp(name, "s8-", 3) == 0)
		dns_app(&r);
	if (want_streams == 0) {
		tap_diag("%s: no streams in this capture: the stream checks "
			 "do not apply",
		    name);
		goto out;
	}
	{
		int ids_ok = r.nst > 0 && r.nst == want_streams;

		for (i = 0; i < r.nst; i++)
			if (r.st[i].our_id != r.st[i].cap_id)
				ids_ok = 0;
		tap_ok(ids_ok, "%s: %zu %s streams opened with upstream's ids",
		    name, r.nst, r.tcp ? "TCP-forward" : "SOCKS5");
	}
	tap_ok(want > 0 && missing == 0,
	    "%s: every frame needing an ACK was acknowledged (%u, %u of them "
	    "in %u packed answers; %u missing%s%s)",
	    name, want, r.packed_want, r.packed, missing,
	    first[0] ? ", first " : "", first);
	for (i = 0; i < r.nsent; i++)
		if (r.sent[i].type == WIRE_STREAM_RST &&
		    opened(&r, r.sent[i].stream))
			rst++;
	tap_ok(rst == 0, "%s: no stream of ours was reset (%u RST)", name, rst);
	if (json_object_get(r.hdr, "truncated") == NULL && acts != NULL)
		for (i = 0; i < r.nst && i < json_array_size(acts); i++)
			check_body(&r, i, json_array_get(acts, i));
	else if (acts == NULL)
		for (i = 0; i < r.nst; i++)
			if (r.st[i].len > 0 || i + 1 == r.nst)
				check_body(&r, i, NULL);
out:
	json_decref(cc);
	for (i = 0; i < r.nst; i++) {
		close(r.st[i].fd);
		free(r.st[i].buf);
	}
	eng_client_free(r.cl);
	if (r.loop != NULL)
		ev_loop_free(r.loop);
	if (r.srv_fd != -1)
		close(r.srv_fd);
	wire_cipher_free(r.ci);
	free(r.sent);
	free(r.reqs);
	free(r.probes);
	icap_free(&r.cap);
}

int
main(void)
{
	char **names;
	long n, i;

	if ((n = icap_list(&names)) < 0)
		return tap_done();
	tap_ok(n >= 10, "%ld captures in %s", n, icap_dir());
	for (i = 0; i < n; i++)
		replay(names[i]);
	icap_free_names(names, n);
	return tap_done();
}
