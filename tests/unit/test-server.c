/* SPDX-License-Identifier: MIT */
/*
 * test-server.c — server behaviour the captures do not cover, driven
 * in-process through eng_server_handle with a fake clock: SESSION_BUSY
 * when the table is full, idempotent INIT and its reuse TTL, idle expiry
 * (then ERROR_DROP in the session's mode), SESSION_CLOSE only with the
 * right cookie, the invalid-cookie threshold, a SYN of the wrong protocol
 * (NODATA), RST for data on an unknown stream, packed control blocks from
 * the client, and the policy bytes of SESSION_ACCEPT from the config.
 */
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "engine/server.h"
#include "proto/wire.h"
#include "tests/tap.h"

static uint64_t fake_now = 1000000;
static struct wire_cipher *cip;
static uint8_t ans[65536], fbuf[65536];

static uint64_t
clk(void *arg)
{
	(void)arg;
	return fake_now;
}

/* Send frame f; returns the answer's RCODE (or -1 for silence) and puts
 * the answer frame (if any) into *out. */
static int
ask(struct eng_server *s, const struct wire_frame *f, int b64,
    struct wire_frame *out, int *has)
{
	char qn[1024];
	uint8_t wn[1100], msg[1400];
	long q, w, m;
	size_t an;
	struct dns_answer a;

	*has = 0;
	q = wire_encode_query_name(f, cip, NULL, "t.example", qn, sizeof qn);
	w = dns_name_encode(qn, (size_t)q, wn, sizeof wn, NULL);
	m = dns_query_write(
	    msg, sizeof msg, 7, wn, (size_t)w, DNS_TYPE_TXT, 4096, NULL);
	if (q <= 0 || w <= 0 || m <= 0)
		return -2;
	an = eng_server_handle(s, msg, (size_t)m, ans, sizeof ans);
	if (an == 0)
		return -1;
	if (dns_answer_parse(ans, an, b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW,
		fbuf, sizeof fbuf, &a, NULL) == DNS_ANS_FRAME &&
	    wire_frame_parse(fbuf, a.frame_len, out) == WIRE_OK)
		*has = 1;
	return be16_load(ans + 2) & DNS_F_RCODE;
}

static void
init_frame(struct wire_frame *f, uint8_t *p, uint8_t v, uint8_t mode)
{
	struct wire_session_init in;

	memset(&in, 0, sizeof in);
	in.mode = mode;
	in.upload_mtu = 141;
	in.download_mtu = 1000;
	in.verify[0] = v;
	in.verify[3] = 0x5a;
	wire_session_init_build(&in, p, WIRE_SESSION_INIT_LEN);
	memset(f, 0, sizeof *f);
	f->type = WIRE_SESSION_INIT;
	f->payload = p;
	f->payload_len = WIRE_SESSION_INIT_LEN;
}

static void
ping_frame(struct wire_frame *f, uint8_t sid, uint8_t cookie, uint8_t *p)
{
	wire_ping_build(NULL, p, WIRE_PING_LEN);
	memset(f, 0, sizeof *f);
	f->type = WIRE_PING;
	f->session_id = sid;
	f->cookie = cookie;
	f->payload = p;
	f->payload_len = WIRE_PING_LEN;
}

int
main(void)
{
	struct cfg_server c;
	struct eng_server *s;
	struct wire_frame f, r;
	struct wire_session_accept acc;
	struct wire_block b;
	uint8_t p1[16], p2[16], pp[8], pk[32], v[4], sid, cookie;
	int has, rc, i, drops;

	cip = wire_cipher_new(1, "k3y", 3, NULL);
	cfg_server_defaults(&c);
	free(c.domains);
	c.domains = xcalloc(2, sizeof(char *));
	c.domains[0] = xstrdup("t.example");
	c.ndomains = 1;
	c.method = 1;
	c.key = xstrdup("k3y");
	c.max_sessions = 1;
	c.pol_up_mtu = 120;
	c.pol_window = 3000;
	c.session_timeout_s = 300;
	c.init_reuse_s = 600;
	s = eng_server_new(NULL, &c, NULL);
	tap_ok(s != NULL, "server created");
	eng_server_set_clock(s, clk, NULL);

	init_frame(&f, p1, 1, 0);
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(rc == 0 && has && r.type == WIRE_SESSION_ACCEPT,
	    "INIT -> SESSION_ACCEPT");
	tap_is_int(wire_session_accept_parse(r.payload, r.payload_len, &acc),
	    WIRE_OK, "ACCEPT parses");
	sid = acc.session_id;
	cookie = acc.cookie;
	tap_ok(sid >= 1, "first session id %u (random, 1..255)", sid);
	tap_ok(acc.has_policy && acc.policy.max_upload_mtu == 120 &&
		acc.policy.max_arq_window == 3000 && acc.policy.max_dup == 5,
	    "policy bytes come from the config");
	fake_now += 10000000;
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_SESSION_ACCEPT && r.payload[0] == sid &&
		r.payload[1] == cookie,
	    "repeated INIT: same session and cookie (idempotent)");
	init_frame(&f, p2, 2, 1);
	rc = ask(s, &f, 1, &r, &has);
	tap_ok(rc == 0 && has && r.type == WIRE_SESSION_BUSY,
	    "second session with a full table -> SESSION_BUSY (base64 mode)");
	tap_ok(
	    wire_session_busy_parse(r.payload, r.payload_len, v) == WIRE_OK &&
		v[0] == 2 && v[3] == 0x5a,
	    "BUSY echoes the verify code");
	tap_is_int(eng_server_stats(s)->sessions_busy, 1, "busy counted");

	/* Wrong protocol SYN and unknown-stream data. */
	memset(&f, 0, sizeof f);
	f.type = WIRE_STREAM_SYN;
	f.session_id = sid;
	f.cookie = cookie;
	f.stream_id = 3;
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(rc == 0 && !has, "STREAM_SYN on a SOCKS5 server -> NODATA");
	f.type = WIRE_STREAM_DATA;
	f.stream_id = 9;
	f.payload = (const uint8_t *)"xyz";
	f.payload_len = 3;
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_STREAM_RST && r.stream_id == 9,
	    "data on an unknown stream -> STREAM_RST");
	/* Packed blocks from the client: RST for stream 4 -> RST_ACK. */
	b.type = WIRE_STREAM_RST;
	b.stream_id = 4;
	b.seq = 0;
	b.frag_id = 0;
	b.frag_total = 0;
	wire_block_put(&b, pk, 7);
	b.type = WIRE_STREAM_DATA_ACK;
	b.stream_id = 5;
	wire_block_put(&b, pk + 7, 7);
	memset(&f, 0, sizeof f);
	f.type = WIRE_PACKED_CONTROL_BLOCKS;
	f.session_id = sid;
	f.cookie = cookie;
	f.payload = pk;
	f.payload_len = 14;
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_STREAM_RST_ACK && r.stream_id == 4,
	    "packed RST block answered with RST_ACK");
	ping_frame(&f, sid, cookie, pp);
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_PONG && r.session_id == sid &&
		r.cookie == cookie,
	    "nothing queued -> PONG with id and cookie");

	/* Invalid cookie: NODATA up to the threshold, then one ERROR_DROP. */
	drops = 0;
	for (i = 0; i < 12; i++) {
		ping_frame(&f, sid, (uint8_t)(cookie ^ 0x55), pp);
		rc = ask(s, &f, 0, &r, &has);
		if (has && r.type == WIRE_ERROR_DROP) {
			drops++;
			tap_is_int(i, 9, "ERROR_DROP on the 10th bad cookie");
		}
	}
	tap_is_int(drops, 1, "exactly one ERROR_DROP in the window");
	ping_frame(&f, sid, cookie, pp);
	ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_PONG, "session survives a cookie storm");

	/* SESSION_CLOSE with a wrong cookie is ignored. */
	memset(&f, 0, sizeof f);
	f.type = WIRE_SESSION_CLOSE;
	f.session_id = sid;
	f.cookie = (uint8_t)(cookie + 1);
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(rc == 0 && !has, "SESSION_CLOSE answered with NODATA");
	ping_frame(&f, sid, cookie, pp);
	ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_PONG, "wrong-cookie close ignored");

	/* Idle expiry, then ERROR_DROP in the session's mode (raw). */
	fake_now += 301ULL * 1000000;
	eng_server_tick(s);
	tap_is_int(eng_server_stats(s)->sessions_expired, 1,
	    "idle session expired after SESSION_TIMEOUT");
	ping_frame(&f, sid, cookie, pp);
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_ERROR_DROP && r.session_id == sid,
	    "expired session -> ERROR_DROP (raw, the session's mode)");
	/* The slot is free again: the base64 client gets a session. */
	init_frame(&f, p2, 2, 1);
	rc = ask(s, &f, 1, &r, &has);
	tap_ok(has && r.type == WIRE_SESSION_ACCEPT,
	    "after expiry a new session is accepted");
	tap_ok(r.payload[0] != sid,
	    "the new session does not take the expired one's id");
	/* Reuse TTL: the first INIT payload, much later, is a new session. */
	fake_now += 700ULL * 1000000;
	sid = r.payload[0];
	memset(&f, 0, sizeof f);
	f.type = WIRE_SESSION_CLOSE;
	f.session_id = sid;
	f.cookie = r.payload[1];
	ask(s, &f, 0, &r, &has);
	tap_is_int(eng_server_stats(s)->sessions_closed, 1,
	    "SESSION_CLOSE with the right cookie closes");
	init_frame(&f, p1, 1, 0);
	rc = ask(s, &f, 0, &r, &has);
	tap_ok(has && r.type == WIRE_SESSION_ACCEPT && r.payload[0] != sid,
	    "INIT after the reuse TTL creates a new session (id %u)",
	    has ? r.payload[0] : 0);

	eng_server_free(s);
	cfg_server_clear(&c);
	wire_cipher_free(cip);
	return tap_done();
}
