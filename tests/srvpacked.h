/* SPDX-License-Identifier: MIT */
/*
 * srvpacked.h — shared by test-server-packed.c and bench-server-packed.c
 * (include after tests/srvkit.h): a session whose recently-closed list is
 * full (2,000 streams opened and reset), and PACKED_CONTROL_BLOCKS frames
 * of n STREAM_RST blocks for one unknown stream, ZSTD-compressed so that
 * hundreds of blocks fit one query (issue 19 item 3).
 */
#ifndef MDNS_TESTS_SRVPACKED_H
#define MDNS_TESTS_SRVPACKED_H

static uint8_t srvp_blocks[65536];

/* A session with ZSTD upload from `from`, its closed list filled. */
static int
srvp_session_full(struct eng_server *s, const union net_addr *from,
    uint8_t *sid, uint8_t *cookie)
{
	static const uint8_t part[] = {WIRE_ATYP_DOMAIN, 11, 'e', 'x'};
	struct wire_frame f;
	unsigned i;

	if (srvk_session(s, from, 77, WIRE_COMP_ZSTD << 4, sid, cookie) != 0)
		return -1;
	for (i = 1; i <= 2000; i++) {
		srvk_frame(&f, *sid, *cookie, WIRE_SOCKS5_SYN, (uint16_t)i, 0,
		    part, sizeof part);
		f.frag_total = 2;
		(void)srvk_ask(s, from, &f, 4096, 0, NULL, NULL);
		srvk_frame(&f, *sid, *cookie, WIRE_STREAM_RST, (uint16_t)i, 0,
		    NULL, 0);
		(void)srvk_ask(s, from, &f, 4096, 0, NULL, NULL);
	}
	return 0;
}

/* The query: n STREAM_RST blocks for stream 60000, compressed. Returns
 * its length, or -1 when it does not fit a query. */
static long
srvp_query(uint8_t sid, uint8_t cookie, unsigned n, uint8_t *msg, size_t cap)
{
	struct wire_block b;
	struct wire_frame f;
	uint8_t z[512];
	size_t zn = 0;
	unsigned i;

	memset(&b, 0, sizeof b);
	b.type = WIRE_STREAM_RST;
	b.stream_id = 60000;
	for (i = 0; i < n; i++)
		wire_block_put(&b, srvp_blocks + i * WIRE_PACKED_BLOCK_LEN,
		    WIRE_PACKED_BLOCK_LEN);
	if (wire_compress_payload(WIRE_COMP_ZSTD, 0, srvp_blocks,
		(size_t)n * WIRE_PACKED_BLOCK_LEN, z, sizeof z,
		&zn) != WIRE_COMP_ZSTD)
		return -1;
	srvk_frame(&f, sid, cookie, WIRE_PACKED_CONTROL_BLOCKS, 0, 0, z, zn);
	f.comp = WIRE_COMP_ZSTD;
	return srvk_query(&f, 4096, msg, cap);
}

#endif
