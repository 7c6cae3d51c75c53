/* SPDX-License-Identifier: MIT */
/*
 * srvkit.h — unit tests that attack the tunnel server in-process
 * (issue 19): a server from the defaults with a fake clock, queries built
 * as a client builds them (any EDNS size, any source address) and fed to
 * eng_server_handle_from, answers read with the client-side reader, and
 * the process's heap in use (mallinfo2) for memory bounds. Include once
 * per test binary, after tests/tap.h.
 */
#ifndef MDNS_TESTS_SRVKIT_H
#define MDNS_TESTS_SRVKIT_H

#include <arpa/inet.h>
#include <malloc.h>
#include <string.h>

#include "common/util.h"
#include "engine/server.h"
#include "proto/dns.h"
#include "proto/wire.h"

static uint64_t srvk_now = 1000000;
static struct wire_cipher *srvk_cip;
static uint8_t srvk_ans[65536], srvk_fbuf[65536];
static size_t srvk_anlen;

static uint64_t
srvk_clk(void *arg)
{
	(void)arg;
	return srvk_now;
}

/* A server on t.example, method 1 key "k3y", cfg tuned by the caller
 * between srvk_cfg and srvk_new. */
static void
srvk_cfg(struct cfg_server *c)
{
	cfg_server_defaults(c);
	free(c->domains);
	c->domains = xcalloc(2, sizeof(char *));
	c->domains[0] = xstrdup("t.example");
	c->ndomains = 1;
	c->method = 1;
	c->key = xstrdup("k3y");
}

static struct eng_server *
srvk_new(struct cfg_server *c)
{
	struct eng_server *s = eng_server_new(NULL, c, NULL);

	if (srvk_cip == NULL)
		srvk_cip = wire_cipher_new(1, "k3y", 3, NULL);
	if (s != NULL)
		eng_server_set_clock(s, srvk_clk, NULL);
	cfg_server_clear(c);
	return s;
}

/* 127.0.0.x:5353 (or ::ffff-free IPv4 only: enough for the tests). */
static union net_addr
srvk_addr(unsigned x)
{
	union net_addr a;

	memset(&a, 0, sizeof a);
	a.in.sin_family = AF_INET;
	a.in.sin_port = htons(5353);
	a.in.sin_addr.s_addr = htonl(0x7f000000u | (x & 0xffffff));
	return a;
}

/* The DNS query carrying f (edns 0: no OPT RR); its length, or -1. */
static long
srvk_query(const struct wire_frame *f, uint16_t edns, uint8_t *msg, size_t cap)
{
	char qn[1024];
	uint8_t wn[1100];
	long q, w;

	q = wire_encode_query_name(
	    f, srvk_cip, NULL, "t.example", qn, sizeof qn);
	if (q <= 0)
		return -1;
	w = dns_name_encode(qn, (size_t)q, wn, sizeof wn, NULL);
	if (w <= 0)
		return -1;
	return dns_query_write(
	    msg, cap, 7, wn, (size_t)w, DNS_TYPE_TXT, edns, NULL);
}

/*
 * Send f from `from` (NULL: no source) advertising edns. Returns the
 * answer's RCODE, -1 for silence, -2 when the query cannot be built;
 * srvk_anlen is the answer's length; *has (may be NULL) says whether out
 * got a frame.
 */
static int
srvk_ask(struct eng_server *s, const union net_addr *from,
    const struct wire_frame *f, uint16_t edns, int b64, struct wire_frame *out,
    int *has)
{
	uint8_t msg[1400];
	struct dns_answer a;
	struct wire_frame tmp;
	long m;

	if (has != NULL)
		*has = 0;
	if (out == NULL)
		out = &tmp;
	if ((m = srvk_query(f, edns, msg, sizeof msg)) <= 0)
		return -2;
	srvk_anlen = eng_server_handle_from(
	    s, from, msg, (size_t)m, srvk_ans, sizeof srvk_ans);
	if (srvk_anlen == 0)
		return -1;
	if (dns_answer_parse(srvk_ans, srvk_anlen,
		b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW, srvk_fbuf,
		sizeof srvk_fbuf, &a, NULL) == DNS_ANS_FRAME &&
	    wire_frame_parse(srvk_fbuf, a.frame_len, out) == WIRE_OK &&
	    has != NULL)
		*has = 1;
	return be16_load(srvk_ans + 2) & DNS_F_RCODE;
}

/* SESSION_INIT with verify byte v and compression pair comp; 0 and the
 * session's id and cookie, or -1. */
static int
srvk_session(struct eng_server *s, const union net_addr *from, uint8_t v,
    uint8_t comp, uint8_t *sid, uint8_t *cookie)
{
	struct wire_session_init in;
	struct wire_session_accept acc;
	struct wire_frame f, r;
	uint8_t p[WIRE_SESSION_INIT_LEN];
	int has;

	memset(&in, 0, sizeof in);
	in.comp_pair = comp;
	in.upload_mtu = 150;
	in.download_mtu = 1000;
	in.verify[0] = v;
	in.verify[1] = (uint8_t)(v >> 8);
	in.verify[3] = 0x5a;
	wire_session_init_build(&in, p, sizeof p);
	memset(&f, 0, sizeof f);
	f.type = WIRE_SESSION_INIT;
	f.payload = p;
	f.payload_len = sizeof p;
	if (srvk_ask(s, from, &f, 4096, 0, &r, &has) != 0 || !has ||
	    r.type != WIRE_SESSION_ACCEPT ||
	    wire_session_accept_parse(r.payload, r.payload_len, &acc) !=
		WIRE_OK)
		return -1;
	*sid = acc.session_id;
	*cookie = acc.cookie;
	return 0;
}

/* A frame of the session (payload may be NULL). */
static void
srvk_frame(struct wire_frame *f, uint8_t sid, uint8_t cookie, uint8_t type,
    uint16_t stream, uint16_t seq, const uint8_t *p, size_t n)
{
	memset(f, 0, sizeof *f);
	f->session_id = sid;
	f->cookie = cookie;
	f->type = type;
	f->stream_id = stream;
	f->seq = seq;
	f->payload = p;
	f->payload_len = n;
}

/* Heap bytes in use (0 where the allocator does not say, as under ASan). */
static inline size_t
srvk_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

#endif
