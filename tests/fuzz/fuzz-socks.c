/* SPDX-License-Identifier: MIT */
/*
 * fuzz-socks.c — libFuzzer target for the client's SOCKS5 / SOCKS4(a)
 * handshake parser (engine/socks.h), linked directly. Each input is fed
 * the way the client's front end feeds it: in one or two pieces (the
 * first byte says where to cut) into a 600-byte buffer, stepping until
 * the parser waits or decides. User/password authentication is on for
 * inputs whose first byte is odd. The target checks what the front end
 * relies on: the buffer never grows or overflows, replies fit
 * SOCKS_REPLY_MAX, and a finished request is a well-formed tunnel target
 * (ATYP 1, 3 or 4 with the matching length).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUF 600

/* Run the parser over what is buffered; 1 when it decided. */
static int
run(struct socks *s, const struct socks_cfg *cfg, uint8_t *in, size_t *len)
{
	uint8_t reply[SOCKS_REPLY_MAX + 1];
	size_t rlen, before;
	enum socks_verdict v;

	for (;;) {
		before = *len;
		v = socks_step(s, cfg, in, len, reply, &rlen);
		if (*len > before || rlen > SOCKS_REPLY_MAX)
			abort();
		switch (v) {
		case SOCKS_AGAIN:
			continue;
		case SOCKS_WAIT:
			return *len == BUF; /* the front end gives up */
		case SOCKS_TARGET:
			if (s->phase != SOCKS_DONE || s->tlen < 5 ||
			    s->tlen > SOCKS_TARGET_MAX)
				abort();
			if ((s->target[0] == 1 && s->tlen != 7) ||
			    (s->target[0] == 4 && s->tlen != 19) ||
			    (s->target[0] == 3 &&
				(s->target[1] == 0 ||
				    s->tlen != 4 + (size_t)s->target[1])) ||
			    (s->target[0] != 1 && s->target[0] != 3 &&
				s->target[0] != 4))
				abort();
			if (socks_reply(s, 0, reply) > SOCKS_REPLY_MAX)
				abort();
			return 1;
		case SOCKS_UDP_ASSOCIATE:
			/* the announced address: as complete as a target
			 * (an empty name is allowed here) */
			if (s->phase != SOCKS_DONE || s->tlen < 4 ||
			    s->tlen > SOCKS_TARGET_MAX || s->socks4 ||
			    (s->target[0] == 1 && s->tlen != 7) ||
			    (s->target[0] == 4 && s->tlen != 19) ||
			    (s->target[0] == 3 &&
				s->tlen != 4 + (size_t)s->target[1]))
				abort();
			return 1;
		case SOCKS_CLOSE:
		case SOCKS_AUTH_FAILED:
			return 1;
		}
		abort();
	}
}

/* One read's worth of bytes, as recv() hands them over while there is
 * room; 1 when the parser decided. */
static int
feed(struct socks *s, const struct socks_cfg *cfg, uint8_t *in, size_t *len,
    const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		k = n < BUF - *len ? n : BUF - *len;
		memcpy(in + *len, p, k);
		*len += k;
		p += k;
		n -= k;
		if (run(s, cfg, in, len))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks_cfg cfg = {0, "user", "pass"};
	struct socks s;
	uint8_t in[BUF];
	size_t len = 0, cut;

	if (size < 1 || size > 2000)
		return 0;
	cfg.auth = data[0] & 1;
	socks_init(&s);
	data++;
	size--;
	cut = size ? data[0] % (size + 1) : 0;
	if (feed(&s, &cfg, in, &len, data, cut))
		return 0;
	(void)feed(&s, &cfg, in, &len, data + cut, size - cut);
	return 0;
}
