/* SPDX-License-Identifier: MIT */
/*
 * fuzz-server.c — libFuzzer target for the server's packet handler. The
 * first input byte picks the path: even = the rest is a raw UDP payload
 * (DNS parsing, domain match, decoding); odd = the rest is a tunnel frame
 * that is encrypted, base36-encoded and wrapped in a valid TXT query, so
 * the session, stream and packing code sees arbitrary frames. One server
 * lives across inputs, so state built by earlier inputs (sessions, streams)
 * is exercised too. The server has no event loop: streams never connect.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "engine/server.h"
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct eng_server *srv;
static struct wire_cipher *cip;
static uint8_t out[65536];

static void
setup(void)
{
	struct cfg_server c;

	cfg_server_defaults(&c);
	free(c.domains);
	c.domains = xcalloc(2, sizeof(char *));
	c.domains[0] = xstrdup("t.example");
	c.ndomains = 1;
	c.method = 1;
	c.key = xstrdup("5f3c8e1a9b2d47e6c0f18a3b5d7e9c21");
	c.max_sessions = 4;
	c.max_packets_per_batch = 10;
	srv = eng_server_new(NULL, &c, NULL);
	cip = wire_cipher_new(1, "5f3c8e1a9b2d47e6c0f18a3b5d7e9c21", 32, NULL);
	cfg_server_clear(&c);
	if (srv == NULL || cip == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_frame f;
	char qname[WIRE_QNAME_BUF * 4];
	uint8_t wname[1100], msg[1400];
	long qn, wn, mn;

	if (srv == NULL)
		setup();
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		eng_server_handle(srv, data + 1, size - 1, out, sizeof out);
		return 0;
	}
	/* A frame: header fields from the input, the rest as payload. */
	if (size < 9)
		return 0;
	memset(&f, 0, sizeof f);
	f.session_id = data[1] % 4;
	f.type = data[2];
	f.stream_id = data[3] % 8;
	f.seq = data[4];
	f.frag_id = data[5] % 3;
	f.frag_total = data[6] % 4;
	f.comp = data[7] % 4;
	f.cookie = data[8];
	f.payload = data + 9;
	f.payload_len = MIN(size - 9, 600);
	qn = wire_encode_query_name(
	    &f, cip, NULL, "t.example", qname, sizeof qname);
	if (qn <= 0)
		return 0;
	wn = dns_name_encode(qname, (size_t)qn, wname, sizeof wname, NULL);
	if (wn <= 0) {
		/* Longer than 253: the server still takes it (upstream does). */
		return 0;
	}
	mn = dns_query_write(msg, sizeof msg, 0x1234, wname, (size_t)wn,
	    DNS_TYPE_TXT, 4096, NULL);
	if (mn > 0)
		eng_server_handle(srv, msg, (size_t)mn, out, sizeof out);
	return 0;
}
