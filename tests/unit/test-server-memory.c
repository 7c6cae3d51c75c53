/* SPDX-License-Identifier: MIT */
/*
 * test-server-memory.c — issue 19 item 2: what a tunnel user (or anyone,
 * under methods 0-2) can make the server hold. The review's attack, in
 * process on the real packet handler: STREAM_DATA compressed with a type
 * the session never agreed, inflating to 64 KiB each, out of order, for
 * streams still in SYN (fragment 0 of 2 only, so no target is
 * contacted); the same with compression agreed; plain data before
 * connect across 2,000 streams of three sessions. The heap in use must
 * stay within +32 MB (before: hundreds of MB) and every refusal is
 * counted. Then the SYN timeout frees what stays in SYN, and on a real
 * loop with a target that never reads, the per-stream, per-session and
 * server budgets stop out-of-order data (with small limits set).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/net.h"
#include "tests/tap.h"
#include "tests/srvkit.h"

#define BOUND_BYTES (32u << 20)

static uint8_t zeros[65000];

static void
syn_half(struct eng_server *s, const union net_addr *from, uint8_t sid,
    uint8_t cookie, uint16_t stream)
{
	static const uint8_t part[] = {WIRE_ATYP_DOMAIN, 11, 'e', 'x'};
	struct wire_frame f;

	srvk_frame(
	    &f, sid, cookie, WIRE_SOCKS5_SYN, stream, 0, part, sizeof part);
	f.frag_id = 0;
	f.frag_total = 2;
	(void)srvk_ask(s, from, &f, 4096, 0, NULL, NULL);
}

static void
data(struct eng_server *s, const union net_addr *from, uint8_t sid,
    uint8_t cookie, uint16_t stream, uint16_t seq, uint8_t comp,
    const uint8_t *p, size_t n)
{
	struct wire_frame f;

	srvk_frame(&f, sid, cookie, WIRE_STREAM_DATA, stream, seq, p, n);
	f.comp = comp;
	(void)srvk_ask(s, from, &f, 4096, 0, NULL, NULL);
}

static void
heap_ok(size_t before, const char *what)
{
	size_t after = srvk_heap();
	long long grew = (long long)after - (long long)before;

	if (before == 0 && after == 0) {
		tap_ok(1, "# SKIP %s: the allocator gives no figures", what);
		return;
	}
	tap_ok(grew < (long long)BOUND_BYTES, "%s: heap grew %.1f MB (< 32)",
	    what, (double)grew / 1e6);
}

/* Part 1: the review's attacks on a server without a loop. */
static void
attacks(void)
{
	struct cfg_server c;
	struct eng_server *s;
	union net_addr from = srvk_addr(1);
	const struct eng_server_guard_stats *g;
	const struct eng_server_stats *st;
	uint8_t zc[256], sid, cookie, sid2, cookie2, sid3[3], ck3[3];
	size_t zn = 0, before;
	unsigned i, k;
	int comp;

	srvk_cfg(&c);
	c.arq.window = 16384;
	s = srvk_new(&c);
	g = eng_server_guard_stats(s);
	st = eng_server_stats(s);
	comp = wire_compress_payload(
	    WIRE_COMP_ZSTD, 0, zeros, sizeof zeros, zc, sizeof zc, &zn);
	tap_ok(comp == WIRE_COMP_ZSTD && zn < 40,
	    "65,000 zero bytes compress to %zu bytes", zn);

	/* 1. compression the session never agreed, SYN streams */
	tap_ok(srvk_session(s, &from, 1, 0, &sid, &cookie) == 0,
	    "session without compression");
	before = srvk_heap();
	for (k = 1; k <= 3; k++) {
		syn_half(s, &from, sid, cookie, (uint16_t)k);
		for (i = 1; i <= 1200; i++)
			data(s, &from, sid, cookie, (uint16_t)k,
			    (uint16_t)(i * 7 % 1600 + 1), WIRE_COMP_ZSTD, zc,
			    zn);
	}
	heap_ok(before, "3,600 STREAM_DATA inflating to 64 KiB, not agreed");
	tap_ok(g->drop_comp >= 3600, "every one refused as not agreed (%llu)",
	    (unsigned long long)g->drop_comp);

	/* 2. compression agreed (ZSTD up): the inflation bound */
	tap_ok(srvk_session(
		   s, &from, 2, WIRE_COMP_ZSTD << 4, &sid2, &cookie2) == 0,
	    "session with ZSTD upload");
	before = srvk_heap();
	for (k = 1; k <= 3; k++) {
		syn_half(s, &from, sid2, cookie2, (uint16_t)k);
		for (i = 1; i <= 1200; i++)
			data(s, &from, sid2, cookie2, (uint16_t)k,
			    (uint16_t)(i * 7 % 1600 + 1), WIRE_COMP_ZSTD, zc,
			    zn);
	}
	heap_ok(before, "3,600 agreed ZSTD frames inflating to 64 KiB");
	tap_ok(g->drop_inflate >= 3600, "inflation past 4 KiB refused (%llu)",
	    (unsigned long long)g->drop_inflate);

	/* 3. plain data before connect: 2,000 streams x 3 sessions */
	before = srvk_heap();
	for (k = 0; k < 3; k++)
		if (srvk_session(
			s, &from, (uint8_t)(10 + k), 0, &sid3[k], &ck3[k]) != 0)
			break;
	tap_is_int(k, 3, "three more sessions");
	for (k = 0; k < 3; k++)
		for (i = 1; i <= 2000; i++) {
			syn_half(s, &from, sid3[k], ck3[k], (uint16_t)i);
			data(s, &from, sid3[k], ck3[k], (uint16_t)i, 5, 0,
			    zeros, 100);
			data(s, &from, sid3[k], ck3[k], (uint16_t)i, 9, 0,
			    zeros, 100);
		}
	heap_ok(before, "6,000 SYN streams with data before connect");
	tap_ok(g->drop_preconnect >= 8000, "data before connect refused (%llu)",
	    (unsigned long long)g->drop_preconnect);
	tap_ok(st->streams_active <= 4096 && g->streams_refused > 0,
	    "streams of all sessions capped: %u active, %llu refused",
	    st->streams_active, (unsigned long long)g->streams_refused);
	tap_is_int(g->rx_held, 0, "nothing held in ARQs");

	/* 4. the SYN timeout */
	srvk_now += 11ULL * 1000000;
	eng_server_tick(s);
	tap_is_int(st->streams_active, 0, "SYN streams gone after 10 s");
	tap_ok(g->syn_timeout >= 4096, "SYN timeouts counted (%llu)",
	    (unsigned long long)g->syn_timeout);
	eng_server_free(s);
}

/* Part 2: budgets of connected streams, on a loop, a target that never
 * reads (listening, never accepting). */
static int
run_until(struct ev_loop *loop, const uint64_t *ctr, uint64_t want)
{
	int i;

	for (i = 0; i < 400 && *ctr < want; i++)
		ev_run_once(loop, 10);
	return *ctr >= want;
}

static void
budgets(void)
{
	struct cfg_server c;
	struct eng_server *s;
	struct eng_server_limits l;
	struct ev_loop *loop = ev_loop_new(NULL);
	union net_addr from = srvk_addr(2), ta;
	const struct eng_server_guard_stats *g;
	const struct eng_server_stats *st;
	struct wire_frame f;
	uint8_t tgt[7], sid[3], ck[3];
	socklen_t tl = sizeof ta;
	unsigned i, k, j, n = 0;
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ta = srvk_addr(1);
	ta.in.sin_port = 0;
	if (lfd < 0 || bind(lfd, &ta.sa, sizeof ta.in) != 0 ||
	    listen(lfd, 64) != 0 || getsockname(lfd, &ta.sa, &tl) != 0) {
		tap_ok(0, "target listener");
		return;
	}
	srvk_cfg(&c);
	c.arq.window = 16384;
	c.pol_window = 10; /* the client's window: 10 x 150 bytes */
	c.allow = xcalloc(2, sizeof(char *));
	c.allow[0] = xstrdup("127.0.0.1/32");
	c.nallow = 1;
	s = eng_server_new(loop, &c, NULL);
	cfg_server_clear(&c);
	eng_server_set_clock(s, srvk_clk, NULL);
	g = eng_server_guard_stats(s);
	st = eng_server_stats(s);
	eng_server_get_limits(s, &l);
	l.stream_rx = 8000;
	l.stream_rx_hard = 16000;
	l.session_rx = 20000;
	l.server_rx = 40000;
	eng_server_set_limits(s, &l);
	tgt[0] = WIRE_ATYP_IPV4;
	memcpy(tgt + 1, &ta.in.sin_addr, 4);
	memcpy(tgt + 5, &ta.in.sin_port, 2);
	for (k = 0; k < 3; k++) {
		srvk_session(s, &from, (uint8_t)(20 + k), 0, &sid[k], &ck[k]);
		for (j = 1; j <= 4; j++, n++) {
			srvk_frame(&f, sid[k], ck[k], WIRE_SOCKS5_SYN,
			    (uint16_t)j, 0, tgt, sizeof tgt);
			(void)srvk_ask(s, &from, &f, 4096, 0, NULL, NULL);
		}
	}
	tap_ok(run_until(loop, &st->connect_ok, n),
	    "%u streams connected to a target that never reads", n);
	/* out of order (seq 0 never sent): 100 x 100 bytes per stream */
	for (k = 0; k < 3; k++)
		for (j = 1; j <= 4; j++)
			for (i = 1; i <= 100; i++)
				data(s, &from, sid[k], ck[k], (uint16_t)j,
				    (uint16_t)i, 0, zeros, 100);
	tap_ok(g->drop_stream_budget > 0, "stream budget drops (%llu)",
	    (unsigned long long)g->drop_stream_budget);
	tap_ok(g->drop_session_budget > 0, "session budget drops (%llu)",
	    (unsigned long long)g->drop_session_budget);
	tap_ok(g->drop_server_budget > 0, "server budget drops (%llu)",
	    (unsigned long long)g->drop_server_budget);
	tap_ok(g->rx_held <= 40000, "held %llu bytes <= the server's 40,000",
	    (unsigned long long)g->rx_held);
	/* the in-order frame still goes through, and what waited behind it
	 * is written out */
	data(s, &from, sid[0], ck[0], 1, 0, 0, zeros, 100);
	for (i = 0; i < 20; i++)
		ev_run_once(loop, 5);
	tap_ok(g->rx_held < 40000 - 1000,
	    "in-order frame taken: %llu bytes held after writing",
	    (unsigned long long)g->rx_held);
	tap_is_int(g->upstream_conns, n, "upstream connections counted");
	eng_server_free(s);
	close(lfd);
	ev_loop_free(loop);
}

int
main(void)
{
	attacks();
	budgets();
	return tap_done();
}
