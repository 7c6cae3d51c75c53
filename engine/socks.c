/* SPDX-License-Identifier: MIT */
/*
 * socks.c — the SOCKS5 / SOCKS4(a) handshake parser of socks.h. Each step
 * looks only at the bytes already buffered and waits when a message is
 * not complete yet. Refusals follow RFC 1928: an unsupported command gets
 * REP 7, an unknown address type REP 8, an empty name REP 1; a greeting
 * without an acceptable method gets 0xff and the connection is closed.
 * Nothing here touches a socket; replies come back to the caller.
 */
#include <string.h>

#include "engine/socks.h"

void
socks_init(struct socks *s)
{
	memset(s, 0, sizeof *s);
	s->phase = SOCKS_GREET;
}

size_t
socks_reply(const struct socks *s, int rep, uint8_t *out)
{
	if (s->socks4) {
		memset(out, 0, 8);
		out[1] = rep == 0 ? 0x5a : 0x5b;
		return 8;
	}
	memset(out, 0, 10);
	out[0] = 5;
	out[1] = (uint8_t)rep;
	out[3] = 1; /* BND 0.0.0.0:0 */
	return 10;
}

/* Drop the first n bytes of the buffer. */
static void
consume(uint8_t *in, size_t *len, size_t n)
{
	memmove(in, in + n, *len - n);
	*len -= n;
}

static enum socks_verdict
greet(struct socks *s, const struct socks_cfg *cfg, uint8_t *in, size_t *len,
    uint8_t *reply, size_t *rlen)
{
	size_t n = *len, need, i;

	if (n < 1)
		return SOCKS_WAIT;
	if (in[0] == 4) {
		s->socks4 = 1;
		s->phase = SOCKS_REQUEST;
		return SOCKS_AGAIN;
	}
	if (in[0] != 5)
		return SOCKS_CLOSE;
	if (n < 2)
		return SOCKS_WAIT;
	need = 2 + (size_t)in[1];
	if (n < need)
		return SOCKS_WAIT;
	reply[0] = 5;
	reply[1] = 0xff;
	for (i = 2; i < need; i++)
		if ((!cfg->auth && in[i] == 0) || (cfg->auth && in[i] == 2))
			reply[1] = in[i];
	*rlen = 2;
	if (reply[1] == 0xff)
		return SOCKS_CLOSE;
	consume(in, len, need);
	s->phase = reply[1] == 2 ? SOCKS_AUTH : SOCKS_REQUEST;
	return SOCKS_AGAIN;
}

/* RFC 1929: VER ULEN UNAME PLEN PASSWD. */
static enum socks_verdict
auth(struct socks *s, const struct socks_cfg *cfg, uint8_t *in, size_t *len,
    uint8_t *reply, size_t *rlen)
{
	size_t n = *len, ul, pl;

	if (n < 2)
		return SOCKS_WAIT;
	ul = in[1];
	if (n < 3 + ul)
		return SOCKS_WAIT;
	pl = in[2 + ul];
	if (n < 3 + ul + pl)
		return SOCKS_WAIT;
	reply[0] = 1;
	reply[1] = cfg->user != NULL && cfg->pass != NULL &&
		strlen(cfg->user) == ul && strlen(cfg->pass) == pl &&
		memcmp(in + 2, cfg->user, ul) == 0 &&
		memcmp(in + 3 + ul, cfg->pass, pl) == 0 ?
	    0 :
	    1;
	*rlen = 2;
	if (reply[1] != 0)
		return SOCKS_AUTH_FAILED;
	consume(in, len, 3 + ul + pl);
	s->phase = SOCKS_REQUEST;
	return SOCKS_AGAIN;
}

/* Refuse the request with SOCKS5 REP rep (SOCKS4: 0x5b) and close. */
static enum socks_verdict
refuse(struct socks *s, int rep, uint8_t *reply, size_t *rlen)
{
	*rlen = socks_reply(s, rep, reply);
	return SOCKS_CLOSE;
}

/* VN CD DSTPORT DSTIP USERID NUL [HOST NUL] (4a: DSTIP 0.0.0.x). */
static enum socks_verdict
request4(
    struct socks *s, uint8_t *in, size_t *len, uint8_t *reply, size_t *rlen)
{
	size_t n = *len, hl;
	uint8_t *z, *z2;

	if (n < 9)
		return SOCKS_WAIT;
	if ((z = memchr(in + 8, 0, n - 8)) == NULL)
		return SOCKS_WAIT;
	if (in[1] != 1)
		return refuse(s, 1, reply, rlen);
	if (in[4] == 0 && in[5] == 0 && in[6] == 0 && in[7] != 0) {
		/* SOCKS4a: a host name follows the user id. */
		z2 = memchr(z + 1, 0, (size_t)(in + n - (z + 1)));
		if (z2 == NULL)
			return SOCKS_WAIT;
		hl = (size_t)(z2 - (z + 1));
		if (hl == 0 || hl > 255)
			return refuse(s, 1, reply, rlen);
		s->target[0] = 3;
		s->target[1] = (uint8_t)hl;
		memcpy(s->target + 2, z + 1, hl);
		memcpy(s->target + 2 + hl, in + 2, 2);
		s->tlen = 4 + hl;
	} else {
		s->target[0] = 1;
		memcpy(s->target + 1, in + 4, 4);
		memcpy(s->target + 5, in + 2, 2);
		s->tlen = 7;
	}
	*len = 0;
	s->phase = SOCKS_DONE;
	return SOCKS_TARGET;
}

/* VER CMD RSV ATYP DST.ADDR DST.PORT. */
static enum socks_verdict
request5(
    struct socks *s, uint8_t *in, size_t *len, uint8_t *reply, size_t *rlen)
{
	size_t n = *len, need;

	if (n < 5)
		return SOCKS_WAIT;
	switch (in[3]) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	case 3:
		need = 4 + 1 + (size_t)in[4] + 2;
		break;
	default:
		return refuse(s, 8, reply, rlen);
	}
	if (n < need)
		return SOCKS_WAIT;
	if (in[0] != 5 || (in[1] != 1 && in[1] != 3))
		return refuse(s, 7, reply, rlen);
	if (in[3] == 3 && in[4] == 0 && in[1] == 1)
		return refuse(s, 1, reply, rlen);
	s->tlen = need - 3;
	memcpy(s->target, in + 3, s->tlen);
	*len = 0;
	s->phase = SOCKS_DONE;
	return in[1] == 3 ? SOCKS_UDP_ASSOCIATE : SOCKS_TARGET;
}

enum socks_verdict
socks_step(struct socks *s, const struct socks_cfg *cfg, uint8_t *in,
    size_t *len, uint8_t *reply, size_t *rlen)
{
	*rlen = 0;
	switch (s->phase) {
	case SOCKS_GREET:
		return greet(s, cfg, in, len, reply, rlen);
	case SOCKS_AUTH:
		return auth(s, cfg, in, len, reply, rlen);
	case SOCKS_REQUEST:
		if (s->socks4)
			return request4(s, in, len, reply, rlen);
		return request5(s, in, len, reply, rlen);
	default:
		return SOCKS_WAIT;
	}
}
