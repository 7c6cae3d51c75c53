/* SPDX-License-Identifier: MIT */
/*
 * test-socks.c — the client's SOCKS handshake parser (engine/socks.h) on
 * byte strings: SOCKS5 without and with RFC 1929 authentication, IPv4,
 * IPv6 and name targets in the tunnel's form, every refusal with its REP
 * code, SOCKS4 and 4a, messages split at every byte, and the replies.
 * The front end around it (sockets, streams) is tested end to end by
 * tests/sh/test-engine-tunnel.sh.
 */
#include <string.h>

#include "engine/socks.h"
#include "tests/tap.h"

static const struct socks_cfg noauth = {0, "user", "pass"};
static const struct socks_cfg auth = {1, "user", "pass"};

struct result {
	enum socks_verdict v;
	uint8_t reply[64];
	size_t rlen; /* all reply bytes, concatenated */
	size_t left; /* bytes left in the buffer */
};

/* Feed msg in pieces of `step` bytes (0: all at once) until a verdict
 * other than WAIT/AGAIN, as the front end does. */
static struct result
feed(struct socks *s, const struct socks_cfg *cfg, const uint8_t *msg, size_t n,
    size_t step)
{
	struct result r;
	uint8_t in[600], rep[SOCKS_REPLY_MAX];
	size_t len = 0, off = 0, k, rl;

	memset(&r, 0, sizeof r);
	socks_init(s);
	while (off < n) {
		k = step == 0 || n - off < step ? n - off : step;
		memcpy(in + len, msg + off, k);
		len += k;
		off += k;
		for (;;) {
			r.v = socks_step(s, cfg, in, &len, rep, &rl);
			memcpy(r.reply + r.rlen, rep, rl);
			r.rlen += rl;
			if (r.v != SOCKS_AGAIN)
				break;
		}
		if (r.v != SOCKS_WAIT)
			break;
	}
	r.left = len;
	return r;
}

static void
test_socks5(void)
{
	static const uint8_t v4[] = {
	    5, 1, 0, 5, 1, 0, 1, 10, 0, 0, 7, 0x1f, 0x90};
	static const uint8_t name[] = {5, 1, 0, 5, 1, 0, 3, 11, 'e', 'x', 'a',
	    'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0, 80};
	uint8_t v6[3 + 4 + 16 + 2] = {5, 1, 0, 5, 1, 0, 4};
	struct socks s;
	struct result r;
	size_t step;
	int all = 1;

	r = feed(&s, &noauth, v4, sizeof v4, 0);
	tap_ok(r.v == SOCKS_TARGET && r.rlen == 2 && r.reply[0] == 5 &&
		r.reply[1] == 0,
	    "SOCKS5 no auth: method 0 chosen, request complete");
	tap_ok(s.tlen == 7 && memcmp(s.target, v4 + 6, 7) == 0,
	    "IPv4 target in the tunnel's form (ATYP, addr, port)");
	tap_ok(!s.socks4 && s.phase == SOCKS_DONE, "SOCKS5, done");
	r = feed(&s, &noauth, name, sizeof name, 0);
	tap_ok(r.v == SOCKS_TARGET && s.tlen == 15 && s.target[0] == 3 &&
		s.target[1] == 11 &&
		memcmp(s.target + 2, "example.com", 11) == 0,
	    "name target: ATYP 3, length, name, port");
	v6[3 + 4 + 15] = 1;
	v6[3 + 4 + 17] = 53;
	r = feed(&s, &noauth, v6, sizeof v6, 0);
	tap_ok(r.v == SOCKS_TARGET && s.tlen == 19 && s.target[0] == 4 &&
		s.target[16] == 1 && s.target[18] == 53,
	    "IPv6 target");
	for (step = 1; step < sizeof name; step++) {
		r = feed(&s, &noauth, name, sizeof name, step);
		all &= r.v == SOCKS_TARGET && s.tlen == 15;
	}
	tap_ok(all, "the same request split at every byte");
}

static void
test_auth(void)
{
	static const uint8_t good[] = {5, 1, 2, 1, 4, 'u', 's', 'e', 'r', 4,
	    'p', 'a', 's', 's', 5, 1, 0, 1, 1, 2, 3, 4, 0, 80};
	static const uint8_t bad[] = {
	    5, 1, 2, 1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 'x'};
	static const uint8_t noauth_only[] = {5, 1, 0};
	static const uint8_t auth_only[] = {5, 1, 2};
	struct socks s;
	struct result r;

	r = feed(&s, &auth, good, sizeof good, 0);
	tap_ok(r.v == SOCKS_TARGET && r.rlen == 4 &&
		memcmp(r.reply, "\x05\x02\x01\x00", 4) == 0,
	    "auth: method 2, then status 0, then the request");
	r = feed(&s, &auth, bad, sizeof bad, 0);
	tap_ok(r.v == SOCKS_AUTH_FAILED && r.rlen == 4 && r.reply[3] == 1,
	    "wrong password: status 1, auth failed");
	r = feed(&s, &auth, noauth_only, sizeof noauth_only, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.rlen == 2 && r.reply[1] == 0xff,
	    "auth required, client offers none: 0xff and close");
	r = feed(&s, &noauth, auth_only, sizeof auth_only, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.reply[1] == 0xff,
	    "no auth configured, client offers only user/password: 0xff");
	r = feed(&s, &noauth, (const uint8_t *)"\x06\x01\x00", 3, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.rlen == 0,
	    "not SOCKS 4 or 5: closed without a reply");
}

static void
test_refusals(void)
{
	static const uint8_t bind[] = {5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80};
	static const uint8_t atyp[] = {5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80};
	static const uint8_t empty[] = {5, 1, 0, 5, 1, 0, 3, 0, 0, 80};
	static const uint8_t udp[] = {5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t udp0[] = {5, 1, 0, 5, 3, 0, 3, 0, 0, 0};
	struct socks s;
	struct result r;

	r = feed(&s, &noauth, bind, sizeof bind, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.rlen == 12 && r.reply[2] == 5 &&
		r.reply[3] == 7,
	    "BIND: REP 7 (command not supported)");
	r = feed(&s, &noauth, udp, sizeof udp, 0);
	tap_ok(r.v == SOCKS_UDP_ASSOCIATE && s.tlen == 7 &&
		memcmp(s.target, udp + 6, 7) == 0 && s.phase == SOCKS_DONE,
	    "UDP ASSOCIATE: its own verdict, the announced address kept");
	r = feed(&s, &noauth, udp0, sizeof udp0, 0);
	tap_ok(r.v == SOCKS_UDP_ASSOCIATE && s.tlen == 4,
	    "UDP ASSOCIATE announcing an empty name: taken (RFC 1928: "
	    "the client may not know its address)");
	r = feed(&s, &noauth, atyp, sizeof atyp, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.reply[3] == 8, "unknown ATYP: REP 8");
	r = feed(&s, &noauth, empty, sizeof empty, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.reply[3] == 1, "empty name: REP 1");
	tap_ok(r.rlen == 12 && r.reply[2 + 3] == 1,
	    "refusal reply: VER 5, REP, RSV, ATYP 1, BND 0.0.0.0:0");
}

static void
test_socks4(void)
{
	static const uint8_t v4[] = {4, 1, 0, 80, 10, 0, 0, 9, 'u', 0};
	static const uint8_t v4a[] = {
	    4, 1, 1, 187, 0, 0, 0, 1, 0, 'h', 'o', 's', 't', 0};
	static const uint8_t v4bind[] = {4, 2, 0, 80, 10, 0, 0, 9, 0};
	static const uint8_t v4a_empty[] = {4, 1, 0, 80, 0, 0, 0, 1, 0, 0};
	uint8_t out[SOCKS_REPLY_MAX];
	struct socks s;
	struct result r;

	r = feed(&s, &noauth, v4, sizeof v4, 0);
	tap_ok(r.v == SOCKS_TARGET && s.socks4 && s.tlen == 7 &&
		s.target[0] == 1 && s.target[4] == 9 && s.target[6] == 80,
	    "SOCKS4: IPv4 target rewritten to the tunnel's form");
	r = feed(&s, &noauth, v4a, sizeof v4a, 0);
	tap_ok(r.v == SOCKS_TARGET && s.tlen == 8 && s.target[0] == 3 &&
		s.target[1] == 4 && memcmp(s.target + 2, "host", 4) == 0 &&
		s.target[6] == 1 && s.target[7] == 187,
	    "SOCKS4a: the name after the user id");
	r = feed(&s, &noauth, v4a, sizeof v4a - 1, 0);
	tap_ok(r.v == SOCKS_WAIT, "SOCKS4a: waits for the name's NUL");
	r = feed(&s, &noauth, v4bind, sizeof v4bind, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.rlen == 8 && r.reply[1] == 0x5b,
	    "SOCKS4 BIND refused with 0x5b");
	r = feed(&s, &noauth, v4a_empty, sizeof v4a_empty, 0);
	tap_ok(r.v == SOCKS_CLOSE && r.reply[1] == 0x5b,
	    "SOCKS4a empty name refused");
	r = feed(&s, &noauth, v4, sizeof v4, 0);
	tap_ok(socks_reply(&s, 0, out) == 8 && out[1] == 0x5a,
	    "SOCKS4 success reply 0x5a");
	tap_ok(socks_reply(&s, 5, out) == 8 && out[1] == 0x5b,
	    "SOCKS4 failure reply 0x5b");
}

static void
test_limits(void)
{
	uint8_t junk[600];
	struct socks s;
	struct result r;

	memset(junk, 0, sizeof junk);
	junk[0] = 5;
	junk[1] = 255; /* 255 methods: needs 257 bytes */
	r = feed(&s, &noauth, junk, 100, 0);
	tap_ok(r.v == SOCKS_WAIT && r.left == 100,
	    "an incomplete greeting waits and keeps its bytes");
	junk[0] = 4;
	junk[1] = 1;
	memset(junk + 8, 'u', sizeof junk - 8); /* user id never ends */
	r = feed(&s, &noauth, junk, sizeof junk, 0);
	tap_ok(r.v == SOCKS_WAIT && r.left == sizeof junk,
	    "a user id filling the buffer: still waiting (the front end "
	    "drops a full buffer)");
}

int
main(void)
{
	test_socks5();
	test_auth();
	test_refusals();
	test_socks4();
	test_limits();
	return tap_done();
}
