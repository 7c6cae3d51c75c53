/* SPDX-License-Identifier: MIT */
/*
 * fuzz-tun.c — raw IP packets into the TUN glue (engine/tun.h): the
 * checks of tun-pkt.c, lwIP behind them, the flow and DNS sinks, the
 * packets written back. The "device" is one end of a datagram socket
 * pair (tun_attach), drained after every packet.
 *
 * Input: records of [flags][len hi][len lo][len bytes]. flags bit 0 fixes
 * the IPv4 header checksum and the TCP/UDP checksum first (else nearly
 * every fuzzed segment would stop at the checksum check and lwIP would
 * never be reached); bit 1 runs the loop (sink callbacks, lwIP timers)
 * after the packet. The sink echoes what it reads, half-closes at EOF and
 * answers DNS queries with the query itself; bit 2 makes it close or
 * abort a flow instead; bit 5 sets the segment's acknowledgement number
 * to the last SYN-ACK's sequence number + 1 (lwIP picks it at random),
 * so handshakes complete and data flows. Invariants: nothing crashes, the counters add up
 * (every packet counted in, no more drops than packets), no more flows
 * open than allowed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "engine/tun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tun *T;
static int mode;
static uint32_t synack_seq;

/* Remember the sequence number of a SYN-ACK lwIP wrote. */
static void
watch_out(const uint8_t *p, size_t n)
{
	size_t off;
	uint8_t proto;

	if (n < 40)
		return;
	off = (p[0] >> 4) == 4 ? (size_t)(p[0] & 15) * 4 : 40;
	proto = (p[0] >> 4) == 4 ? p[9] : p[6];
	if (n >= off + 20 && proto == 6 && (p[off + 13] & 0x12) == 0x12)
		synack_seq = be32_load(p + off + 4);
}

static void
set_ack(uint8_t *p, size_t n)
{
	size_t off;

	if (n < 1)
		return;
	off = (p[0] >> 4) == 4 ? (size_t)(p[0] & 15) * 4 : 40;
	if (n >= off + 20)
		be32_store(p + off + 8, synack_seq + 1);
}

static void
flow_io(struct tun_flow *f, int events, void *arg)
{
	uint8_t b[2048];
	ssize_t r;

	(void)arg;
	if (mode & 4) {
		if (mode & 8)
			tun_flow_abort(f);
		else
			tun_flow_close(f);
		return;
	}
	if (events & EV_READ) {
		r = tun_flow_recv(f, b, sizeof b);
		if (r > 0)
			(void)tun_flow_send(f, b, (size_t)r);
		else if (r == 0)
			(void)tun_flow_shutdown_wr(f);
		else
			tun_flow_close(f);
	}
}

static int
open_flow(void *arg, struct tun_flow *f, const union net_addr *src,
    const union net_addr *dst)
{
	(void)arg;
	(void)src;
	(void)dst;
	if (mode & 16)
		return -1;
	tun_flow_set_io(f, EV_READ, flow_io, NULL);
	return 0;
}

static int
dns(void *arg, uint64_t qid, const uint8_t *msg, size_t len)
{
	(void)arg;
	(void)tun_dns_answer(T, qid, msg, len);
	return 0;
}

static void
fix_sums(uint8_t *p, size_t n)
{
	size_t ihl, off, l4;
	uint32_t s;
	int fam;

	if (n < 1)
		return;
	fam = p[0] >> 4;
	if (fam == 4 && n >= 20) {
		ihl = (size_t)(p[0] & 15) * 4;
		if (ihl < 20 || ihl > n)
			return;
		be16_store(p + 2, (uint16_t)n);
		be16_store(p + 10, 0);
		be16_store(p + 10, tun_pkt_fold(tun_pkt_sum(0, p, ihl)));
		off = ihl;
	} else if (fam == 6 && n >= 40) {
		be16_store(p + 4, (uint16_t)(n - 40));
		off = 40;
	} else
		return;
	l4 = n - off;
	if (fam == 4) {
		s = tun_pkt_sum(0, p + 12, 8) + p[9];
		if (p[9] == 6 && l4 >= 20)
			be16_store(p + off + 16, 0);
		else if (p[9] == 17 && l4 >= 8) {
			be16_store(p + off + 4, (uint16_t)l4);
			be16_store(p + off + 6, 0);
		} else if (p[9] == 1 && l4 >= 8) {
			be16_store(p + off + 2, 0);
			be16_store(p + off + 2,
			    tun_pkt_fold(tun_pkt_sum(0, p + off, l4)));
			return;
		} else
			return;
	} else {
		s = tun_pkt_sum(0, p + 8, 32) + p[6];
		if (p[6] == 6 && l4 >= 20)
			be16_store(p + off + 16, 0);
		else if (p[6] == 17 && l4 >= 8) {
			be16_store(p + off + 4, (uint16_t)l4);
			be16_store(p + off + 6, 0);
		} else if (p[6] == 58 && l4 >= 8)
			be16_store(p + off + 2, 0);
		else
			return;
	}
	s += (uint32_t)l4;
	s = tun_pkt_fold(tun_pkt_sum(s, p + off, l4));
	if ((fam == 4 ? p[9] : p[6]) == 6)
		be16_store(p + off + 16, (uint16_t)s);
	else if ((fam == 4 ? p[9] : p[6]) == 17)
		be16_store(p + off + 6, s == 0 ? 0xffff : (uint16_t)s);
	else
		be16_store(p + off + 2, (uint16_t)s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[TUN_PKT_MAX], sink[TUN_PKT_MAX];
	static struct ev_loop *loop;
	struct tun_config c;
	struct tun_flow_sink fs = {open_flow, NULL};
	struct tun_dns_sink ds = {dns, NULL};
	const struct tun_stats *st;
	uint64_t fed = 0, drops = 0;
	size_t off = 0, n;
	ssize_t r;
	int sv[2], i;

	if (loop == NULL && (loop = ev_loop_new(NULL)) == NULL)
		abort();
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	tun_config_defaults(&c);
	c.max_flows = 8;
	c.max_dns_pending = 4;
	if ((T = tun_attach(loop, &c, sv[0], &fs, &ds, NULL)) == NULL)
		abort();
	while (off + 3 <= size) {
		mode = data[off];
		n = MIN((size_t)be16_load(data + off + 1), size - off - 3);
		memcpy(pkt, data + off + 3, n);
		off += 3 + n;
		if (mode & 32)
			set_ack(pkt, n);
		if (mode & 1)
			fix_sums(pkt, n);
		tun_input(T, pkt, n);
		fed++;
		if (mode & 2)
			for (i = 0; i < 3; i++)
				(void)ev_run_once(loop, 0);
		while ((r = recv(sv[1], sink, sizeof sink, 0)) > 0)
			watch_out(sink, (size_t)r);
	}
	st = tun_get_stats(T);
	for (i = 0; i < TUN_DROP_MAX; i++)
		drops += st->drops[i];
	if (st->pkts_in != fed || drops > fed || st->flows_open > c.max_flows)
		abort();
	json_decref(tun_stats_json(st));
	tun_close(T);
	T = NULL;
	close(sv[1]);
	return 0;
}
