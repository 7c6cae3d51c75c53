/* SPDX-License-Identifier: MIT */
/*
 * socks.h — the client's SOCKS handshake parser, one local connection at
 * a time: SOCKS5 (RFC 1928) with no authentication or user/password (RFC
 * 1929), CONNECT and UDP ASSOCIATE (carried out by engine/client-udp.c,
 * for DNS only); SOCKS4 and 4a. Pure: bytes in, bytes to answer
 * and a verdict out; no socket, no allocation. The client's front end
 * (engine/client-stream.c) feeds it what a connection sent and carries
 * out the verdict; tests/fuzz/fuzz-socks.c links it directly.
 *
 * The target comes out in the tunnel's form (wire-protocol.md 1.5,
 * SOCKS5_SYN payload): ATYP, address (IPv4, a length-prefixed name, or
 * IPv6) and port, as SOCKS5 writes it; SOCKS4 targets are rewritten so.
 */
#ifndef MDNS_SOCKS_H
#define MDNS_SOCKS_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS_TARGET_MAX 300 /* ATYP + 1 + 255 + port, rounded up */
#define SOCKS_REPLY_MAX	 10

enum socks_phase {
	SOCKS_GREET,   /* waiting for the greeting */
	SOCKS_AUTH,    /* SOCKS5 user/password */
	SOCKS_REQUEST, /* waiting for the request */
	SOCKS_DONE,    /* target known */
};

/* What the caller does after socks_step. */
enum socks_verdict {
	SOCKS_WAIT,	     /* nothing more to do until more bytes come */
	SOCKS_AGAIN,	     /* progress: call again with what is left */
	SOCKS_TARGET,	     /* the request is complete: target/tlen are set */
	SOCKS_CLOSE,	     /* close the connection (after sending reply) */
	SOCKS_AUTH_FAILED,   /* wrong user/password: count, send, close */
	SOCKS_UDP_ASSOCIATE, /* SOCKS5 UDP ASSOCIATE: target is the
			      * address the client announced (RFC 1928) */
};

struct socks_cfg {
	int auth;	  /* require user/password (SOCKS5_AUTH) */
	const char *user; /* SOCKS5_USER (NULL: none accepted) */
	const char *pass; /* SOCKS5_PASS */
};

struct socks {
	enum socks_phase phase;
	int socks4; /* the client spoke SOCKS4/4a */
	uint8_t target[SOCKS_TARGET_MAX];
	size_t tlen;
};

/* A parser at the start of a connection. */
void socks_init(struct socks *s);
/*
 * Consume what is complete at the front of in[0 .. *len) (consumed bytes
 * are removed, the rest moved to the front; a finished request drops
 * whatever follows it). reply (SOCKS_REPLY_MAX bytes) gets what to send
 * back now, *rlen its length (0: nothing). Never reads past *len.
 */
enum socks_verdict socks_step(struct socks *s, const struct socks_cfg *cfg,
    uint8_t *in, size_t *len, uint8_t *reply, size_t *rlen);
/*
 * The reply to the request once the tunnel's result is known, in the
 * dialect the client spoke: rep is the SOCKS5 REP code (0 success; SOCKS4
 * gets 0x5a or 0x5b). Returns its length (8 or 10).
 */
size_t socks_reply(const struct socks *s, int rep, uint8_t *out);

#endif
