/* SPDX-License-Identifier: MIT */
/*
 * test-server-packed.c — issue 19 item 3: one PACKED_CONTROL_BLOCKS
 * query must not buy unbounded work or memory. The review's attack:
 * compressed frames of STREAM_RST blocks for an unknown stream (each
 * queues an RST_ACK), 500 queries; before, one frame expanded to 9,362
 * blocks and 500 queries grew the server by 219 MB. Now a frame inflates
 * to 4 KiB at most, at most 256 blocks of it are worked through, the
 * orphan lane holds at most 512 replies, and the recently-closed list
 * (looked up per block) keeps its meaning: ids closed last are
 * remembered, the 2,001st closing evicts the oldest. CPU per query is
 * measured by bench-server-packed.
 */
#include <stdio.h>

#include "tests/tap.h"
#include "tests/srvkit.h"
#include "tests/srvpacked.h"

int
main(void)
{
	struct cfg_server c;
	struct eng_server *s;
	union net_addr from = srvk_addr(3);
	const struct eng_server_guard_stats *g;
	const struct eng_server_stats *st;
	struct wire_frame f, r;
	uint8_t msg[1400], sid = 0, cookie = 0;
	size_t before, an;
	long m, grew;
	unsigned i;
	int has;

	srvk_cfg(&c);
	s = srvk_new(&c);
	g = eng_server_guard_stats(s);
	st = eng_server_stats(s);
	tap_ok(srvp_session_full(s, &from, &sid, &cookie) == 0,
	    "2,000 streams opened and reset");
	tap_is_int(st->streams_active, 0, "none left open");

	/* the review's frame: 9,362 blocks (65,534 bytes inflated) */
	m = srvp_query(sid, cookie, 9362, msg, sizeof msg);
	tap_ok(m > 0, "9,362 blocks fit one %ld-byte query", m);
	an = eng_server_handle_from(
	    s, &from, msg, (size_t)m, srvk_ans, sizeof srvk_ans);
	tap_ok(an > 0 && g->drop_inflate == 1 && g->packed_blocks == 0,
	    "refused: inflates past 4 KiB (blocks worked %llu)",
	    (unsigned long long)g->packed_blocks);

	/* 585 blocks (4,095 bytes): 256 worked, the rest cut */
	m = srvp_query(sid, cookie, 585, msg, sizeof msg);
	before = srvk_heap();
	for (i = 0; i < 500; i++)
		(void)eng_server_handle_from(
		    s, &from, msg, (size_t)m, srvk_ans, sizeof srvk_ans);
	grew = (long)(srvk_heap() - before);
	tap_is_int(g->packed_blocks, 500 * 256, "256 blocks per query worked");
	tap_is_int(g->packed_cut, 500 * (585 - 256), "the rest counted as cut");
	tap_ok(g->orphan_dropped > 0, "orphan lane full: %llu replies refused",
	    (unsigned long long)g->orphan_dropped);
	if (before == 0)
		tap_ok(1, "# SKIP heap: the allocator gives no figures");
	else
		tap_ok(grew < 2000000,
		    "500 queries: heap grew %ld bytes (< 2 MB)", grew);

	/* the closed list: stream 1 was closed first, 2000 last */
	srvk_frame(&f, sid, cookie, WIRE_STREAM_DATA, 2000, 0, msg, 10);
	(void)srvk_ask(s, &from, &f, 4096, 0, &r, &has);
	tap_is_int(st->streams_active, 0, "data for a closed id: no stream");
	/* one more closing evicts id 1: a SYN for it opens a stream again */
	srvk_frame(&f, sid, cookie, WIRE_SOCKS5_SYN, 2001, 0, msg, 4);
	f.frag_total = 2;
	(void)srvk_ask(s, &from, &f, 4096, 0, NULL, NULL);
	srvk_frame(&f, sid, cookie, WIRE_STREAM_RST, 2001, 0, NULL, 0);
	(void)srvk_ask(s, &from, &f, 4096, 0, NULL, NULL);
	srvk_frame(&f, sid, cookie, WIRE_SOCKS5_SYN, 2, 0, msg, 4);
	f.frag_total = 2;
	(void)srvk_ask(s, &from, &f, 4096, 0, NULL, NULL);
	tap_is_int(st->streams_active, 0, "id 2 still remembered");
	srvk_frame(&f, sid, cookie, WIRE_SOCKS5_SYN, 1, 0, msg, 4);
	f.frag_total = 2;
	(void)srvk_ask(s, &from, &f, 4096, 0, NULL, NULL);
	tap_is_int(st->streams_active, 1, "id 1 evicted: a new stream");
	/* after the TTL nothing is remembered */
	srvk_now += 3600ULL * 1000000;
	srvk_frame(&f, sid, cookie, WIRE_SOCKS5_SYN, 3, 0, msg, 4);
	f.frag_total = 2;
	(void)srvk_ask(s, &from, &f, 4096, 0, NULL, NULL);
	tap_is_int(st->streams_active, 2, "past the TTL: a new stream");
	eng_server_free(s);
	return tap_done();
}
