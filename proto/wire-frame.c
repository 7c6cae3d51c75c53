/* SPDX-License-Identifier: MIT */
/*
 * wire-frame.c — packet type table and the VPN frame header (upstream
 * internal/vpnproto/parser.go and builder.go, internal/enums): which header
 * extensions each type carries, the header check byte, frame build and
 * parse, the fixed control -> _ACK mapping and the "packable" predicate.
 * The table also names the three types only the FEC fork of MasterDnsVPN
 * (arianizadi/MasterDnsVPN 4104a7f, internal/enums/dns.go and
 * vpnproto/parser.go) defines, so decoders can show that traffic; upstream
 * rejects them, and what a peer does with them is the caller's business
 * (wire_type_fork). It knows nothing about encryption, base36 or DNS.
 */
#include <string.h>

#include "proto/wire.h"

#define S WIRE_EXT_STREAM
#define Q WIRE_EXT_SEQ
#define F WIRE_EXT_FRAG
#define C WIRE_EXT_COMP
#define V 0x80 /* valid type */
#define K 0x40 /* the FEC fork's type, unknown to upstream */

struct wire_type_info {
	const char *name;
	uint8_t flags;	  /* V | WIRE_EXT_* */
	uint8_t ack;	  /* fixed _ACK type, 0 when none */
	uint8_t packable; /* may travel as a packed block (empty payload) */
};

static const struct wire_type_info wire_types[256] = {
    [0x01] = {"MTU_UP_REQ", V | S | Q | F | C, 0, 0},
    [0x02] = {"MTU_UP_RES", V, 0, 0},
    [0x03] = {"MTU_DOWN_REQ", V, 0, 0},
    [0x04] = {"MTU_DOWN_RES", V | S | Q | F | C, 0, 0},
    [0x05] = {"SESSION_INIT", V, 0, 0},
    [0x06] = {"SESSION_ACCEPT", V, 0, 0},
    [0x07] = {"PING", V, 0, 0},
    [0x08] = {"PONG", V, 0, 0},
    [0x09] = {"STREAM_SYN", V | S | Q, 0x0a, 0},
    [0x0a] = {"STREAM_SYN_ACK", V | S | Q, 0, 1},
    [0x0b] = {"STREAM_CONNECTED", V | S | Q, 0x0c, 1},
    [0x0c] = {"STREAM_CONNECTED_ACK", V | S | Q, 0, 1},
    [0x0d] = {"STREAM_CONNECT_FAIL", V | S | Q, 0x0e, 1},
    [0x0e] = {"STREAM_CONNECT_FAIL_ACK", V | S | Q, 0, 1},
    [0x0f] = {"STREAM_DATA", V | S | Q | F | C, 0, 0},
    [0x10] = {"STREAM_DATA_ACK", V | S | Q, 0, 1},
    [0x11] = {"STREAM_DATA_NACK", V | S | Q, 0, 1},
    [0x12] = {"STREAM_RESEND", V | S | Q | F | C, 0, 0},
    [0x13] = {"PACKED_CONTROL_BLOCKS", V | C, 0, 0},
    [0x14] = {"STREAM_CLOSE_WRITE", V | S | Q, 0x15, 0},
    [0x15] = {"STREAM_CLOSE_WRITE_ACK", V | S | Q, 0, 1},
    [0x16] = {"STREAM_CLOSE_READ", V | S | Q, 0x17, 0},
    [0x17] = {"STREAM_CLOSE_READ_ACK", V | S | Q, 0, 1},
    [0x18] = {"STREAM_RST", V | S | Q, 0x19, 0},
    [0x19] = {"STREAM_RST_ACK", V | S | Q, 0, 1},
    [0x1a] = {"SOCKS5_SYN", V | S | Q | F, 0x1b, 0},
    [0x1b] = {"SOCKS5_SYN_ACK", V | S | Q, 0, 1},
    [0x1c] = {"SOCKS5_CONNECT_FAIL", V | S | Q, 0x1d, 1},
    [0x1d] = {"SOCKS5_CONNECT_FAIL_ACK", V | S | Q, 0, 1},
    [0x1e] = {"SOCKS5_RULESET_DENIED", V | S | Q, 0x1f, 1},
    [0x1f] = {"SOCKS5_RULESET_DENIED_ACK", V | S | Q, 0, 1},
    [0x20] = {"SOCKS5_NETWORK_UNREACHABLE", V | S | Q, 0x21, 1},
    [0x21] = {"SOCKS5_NETWORK_UNREACHABLE_ACK", V | S | Q, 0, 1},
    [0x22] = {"SOCKS5_HOST_UNREACHABLE", V | S | Q, 0x23, 1},
    [0x23] = {"SOCKS5_HOST_UNREACHABLE_ACK", V | S | Q, 0, 1},
    [0x24] = {"SOCKS5_CONNECTION_REFUSED", V | S | Q, 0x25, 1},
    [0x25] = {"SOCKS5_CONNECTION_REFUSED_ACK", V | S | Q, 0, 1},
    [0x26] = {"SOCKS5_TTL_EXPIRED", V | S | Q, 0x27, 1},
    [0x27] = {"SOCKS5_TTL_EXPIRED_ACK", V | S | Q, 0, 1},
    [0x28] = {"SOCKS5_COMMAND_UNSUPPORTED", V | S | Q, 0x29, 1},
    [0x29] = {"SOCKS5_COMMAND_UNSUPPORTED_ACK", V | S | Q, 0, 1},
    [0x2a] = {"SOCKS5_ADDRESS_TYPE_UNSUPPORTED", V | S | Q, 0x2b, 1},
    [0x2b] = {"SOCKS5_ADDRESS_TYPE_UNSUPPORTED_ACK", V | S | Q, 0, 1},
    [0x2c] = {"SOCKS5_AUTH_FAILED", V | S | Q, 0x2d, 1},
    [0x2d] = {"SOCKS5_AUTH_FAILED_ACK", V | S | Q, 0, 1},
    [0x2e] = {"SOCKS5_UPSTREAM_UNAVAILABLE", V | S | Q, 0x2f, 1},
    [0x2f] = {"SOCKS5_UPSTREAM_UNAVAILABLE_ACK", V | S | Q, 0, 1},
    [0x30] = {"SOCKS5_CONNECTED", V | S | Q, 0x31, 1},
    [0x31] = {"SOCKS5_CONNECTED_ACK", V | S | Q, 0, 1},
    [0x32] = {"DNS_QUERY_REQ", V | S | Q | F | C, 0x34, 0},
    [0x33] = {"DNS_QUERY_RES", V | S | Q | F | C, 0x35, 0},
    [0x34] = {"DNS_QUERY_REQ_ACK", V | S | Q | F, 0, 1},
    [0x35] = {"DNS_QUERY_RES_ACK", V | S | Q | F, 0, 1},
    [0x36] = {"SESSION_CLOSE", V, 0, 0},
    [0x37] = {"SESSION_BUSY", V, 0, 0},
    /* FEC fork only; the fork pairs no _ACK with them and never packs them. */
    [0x38] = {"SESSION_CAPS", V | K, 0, 0},
    [0x39] = {"SESSION_CAPS_ACK", V | K, 0, 0},
    [0x3a] = {"STREAM_FEC_SYMBOL", V | K | S | Q, 0, 0},
    [0xff] = {"ERROR_DROP", V, 0, 0},
};

#undef S
#undef Q
#undef F
#undef C

const char *
wire_type_name(uint8_t type)
{
	return wire_types[type].name;
}

bool
wire_type_valid(uint8_t type)
{
	return (wire_types[type].flags & V) != 0;
}

bool
wire_type_fork(uint8_t type)
{
	return (wire_types[type].flags & K) != 0;
}

unsigned
wire_type_ext(uint8_t type)
{
	return wire_types[type].flags & 0x0f;
}

size_t
wire_header_len(uint8_t type)
{
	unsigned fl = wire_types[type].flags;
	size_t n = WIRE_HDR_MIN;

	if (!(fl & V))
		return 0;
	if (fl & WIRE_EXT_STREAM)
		n += 2;
	if (fl & WIRE_EXT_SEQ)
		n += 2;
	if (fl & WIRE_EXT_FRAG)
		n += 2;
	if (fl & WIRE_EXT_COMP)
		n += 1;
	return n;
}

int
wire_ack_type(uint8_t type)
{
	return wire_types[type].ack ? wire_types[type].ack : -1;
}

static int16_t ack_origin[256];

__attribute__((constructor)) static void
ack_origin_init(void)
{
	unsigned t;

	for (t = 255; t > 0; t--)
		if (wire_types[t].ack != 0)
			ack_origin[wire_types[t].ack] = (int16_t)(t + 1);
}

int
wire_ack_origin(uint8_t ack_type)
{
	/* Built once before main: the server looks every received block up
	 * here, and a scan of the 256 types was most of the CPU a packed
	 * query cost (issue 19 item 3). 0 = none, else type + 1. */
	return ack_origin[ack_type] - 1;
}

bool
wire_is_packable(uint8_t type, size_t payload_len)
{
	return payload_len == 0 && wire_types[type].packable;
}

const char *
wire_strerror(int status)
{
	switch (status) {
	case WIRE_OK:
		return "ok";
	case WIRE_E_OUT_OF_ZONE:
		return "name outside the tunnel domains";
	case WIRE_E_NO_LABELS:
		return "no data labels before the tunnel domain";
	case WIRE_E_SHORT_LABEL:
		return "data labels shorter than the minimum";
	case WIRE_E_BASE36:
		return "invalid base36 data";
	case WIRE_E_DECRYPT:
		return "decryption failed (wrong key/method or corrupt)";
	case WIRE_E_TOO_SHORT:
		return "frame shorter than its header";
	case WIRE_E_CHECK:
		return "header check byte mismatch";
	case WIRE_E_TYPE:
		return "unknown packet type";
	case WIRE_E_SPACE:
		return "buffer too small";
	case WIRE_E_INVALID:
		return "invalid payload or argument";
	}
	return "unknown wire status";
}

uint8_t
wire_check_byte(const uint8_t *hdr, size_t n)
{
	uint8_t acc = (uint8_t)(n * 17 + 0x5d);
	size_t i;

	for (i = 0; i < n; i++) {
		acc = (uint8_t)(acc + hdr[i] + (uint8_t)i);
		acc ^= (uint8_t)(hdr[i] << (i & 3));
	}
	return acc;
}

long
wire_frame_build(const struct wire_frame *f, uint8_t *out, size_t cap)
{
	unsigned fl = wire_types[f->type].flags;
	size_t hl = wire_header_len(f->type), o = 2;

	if (hl == 0 || cap < hl || f->payload_len > cap - hl)
		return -1;
	out[0] = f->session_id;
	out[1] = f->type;
	if (fl & WIRE_EXT_STREAM) {
		be16_store(out + o, f->stream_id);
		o += 2;
	}
	if (fl & WIRE_EXT_SEQ) {
		be16_store(out + o, f->seq);
		o += 2;
	}
	if (fl & WIRE_EXT_FRAG) {
		out[o++] = f->frag_id;
		out[o++] = f->frag_total;
	}
	if (fl & WIRE_EXT_COMP)
		out[o++] = f->comp;
	out[o++] = f->cookie;
	out[o] = wire_check_byte(out, o);
	o++;
	if (f->payload_len > 0)
		memmove(out + o, f->payload, f->payload_len);
	return (long)(o + f->payload_len);
}

int
wire_frame_parse(const uint8_t *buf, size_t n, struct wire_frame *f)
{
	unsigned fl;
	size_t hl, o = 2;

	memset(f, 0, sizeof *f);
	if (n < WIRE_HDR_MIN)
		return WIRE_E_TOO_SHORT;
	fl = wire_types[buf[1]].flags;
	if (!(fl & V))
		return WIRE_E_TYPE;
	hl = wire_header_len(buf[1]);
	if (n < hl)
		return WIRE_E_TOO_SHORT;
	f->session_id = buf[0];
	f->type = buf[1];
	if (fl & WIRE_EXT_STREAM) {
		f->stream_id = be16_load(buf + o);
		o += 2;
	}
	if (fl & WIRE_EXT_SEQ) {
		f->seq = be16_load(buf + o);
		o += 2;
	}
	if (fl & WIRE_EXT_FRAG) {
		f->frag_id = buf[o++];
		f->frag_total = buf[o++];
	}
	if (fl & WIRE_EXT_COMP)
		f->comp = buf[o++];
	f->cookie = buf[o++];
	f->check = buf[o];
	f->hdr_len = (uint8_t)hl;
	if (f->check != wire_check_byte(buf, o))
		return WIRE_E_CHECK;
	f->payload = buf + hl;
	f->payload_len = n - hl;
	return WIRE_OK;
}
