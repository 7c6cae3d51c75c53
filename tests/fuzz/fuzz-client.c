/* SPDX-License-Identifier: MIT */
/*
 * fuzz-client.c — libFuzzer target for the client's answer handler
 * (eng_client_handle_answer): the first input byte picks the path: even =
 * the rest is a raw DNS answer; odd = the rest is a downstream frame
 * (header fields from the input, session 1 and cookie 7 so it passes the
 * session check) wrapped in a well-formed TXT answer, so frame dispatch,
 * packed blocks, ERROR_DROP re-init and stream lookups see arbitrary
 * frames. The client is forced into a session and never sends anything
 * (its resolver socket is not opened).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ev.h"
#include "common/util.h"
#include "engine/client.h"
#include "proto/dns.h"
#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_loop *loop;
static struct eng_client *cl;
static struct dns_query q;
static uint8_t qmsg[512];

static void
setup(void)
{
	struct cfg_client c;
	uint8_t wn[300];
	long w, m;

	loop = ev_loop_new(NULL);
	cfg_client_defaults(&c);
	free(c.domains);
	c.domains = xcalloc(2, sizeof(char *));
	c.domains[0] = xstrdup("t.example");
	c.ndomains = 1;
	c.method = 1;
	c.key = xstrdup("5f3c8e1a9b2d47e6c0f18a3b5d7e9c21");
	c.resolvers = xcalloc(1, sizeof *c.resolvers);
	net_addr_parse("127.0.0.1:9", 53, &c.resolvers[0], NULL);
	c.nresolvers = 1;
	cl = eng_client_new(loop, &c, NULL);
	cfg_client_clear(&c);
	if (loop == NULL || cl == NULL)
		abort();
	eng_client_force_session(cl, 1, 7, 141, 1000, 0);
	w = dns_name_encode("abcdefgh.t.example", 18, wn, sizeof wn, NULL);
	m = dns_query_write(
	    qmsg, sizeof qmsg, 0x4242, wn, (size_t)w, DNS_TYPE_TXT, 4096, NULL);
	if (m <= 0 ||
	    dns_query_parse(qmsg, (size_t)m, &q, NULL) != DNS_QUERY_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t fb[8192], ans[65536];
	struct wire_frame f;
	long fl, an;

	if (cl == NULL)
		setup();
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		eng_client_handle_answer(cl, data + 1, size - 1);
		return 0;
	}
	if (size < 8)
		return 0;
	memset(&f, 0, sizeof f);
	f.session_id = (data[1] & 0x80) ? data[1] : 1;
	f.cookie = 7;
	f.type = data[2];
	f.stream_id = data[3] % 8;
	f.seq = data[4];
	f.frag_id = data[5] % 3;
	f.frag_total = data[6] % 4;
	f.comp = data[7] % 4;
	f.payload = data + 8;
	f.payload_len = MIN(size - 8, 4000);
	fl = wire_frame_build(&f, fb, sizeof fb);
	if (fl <= 0)
		return 0;
	an = dns_answer_build(ans, sizeof ans, &q, fb, (size_t)fl,
	    wire_header_len(f.type), DNS_RESP_RAW, NULL);
	if (an > 0)
		eng_client_handle_answer(cl, ans, (size_t)an);
	return 0;
}
