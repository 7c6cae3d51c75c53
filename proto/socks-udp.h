/* SPDX-License-Identifier: MIT */
/*
 * socks-udp.h — the SOCKS5 UDP ASSOCIATE datagram header (RFC 1928
 * section 7): RSV(2) FRAG(1) ATYP(1) DST.ADDR DST.PORT(2) DATA, read and
 * written; and upstream MasterDnsVPN's rule for which datagrams the
 * client carries (DNS to port 53 only, no SOCKS fragments).
 *
 * Pure: caller buffers, no allocation. The DNS payload itself is
 * proto/dnstun.h's business.
 */
#ifndef MDNS_SOCKS_UDP_H
#define MDNS_SOCKS_UDP_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS_UDP_ATYP_IPV4   1
#define SOCKS_UDP_ATYP_DOMAIN 3
#define SOCKS_UDP_ATYP_IPV6   4

/* Longest header: 4 + 1 + 255 + 2. */
#define SOCKS_UDP_HDR_MAX 262

struct socks_udp_hdr {
	uint16_t rsv; /* as received (RFC: must be 0; upstream ignores it) */
	uint8_t frag; /* 0 = standalone datagram */
	uint8_t atyp; /* 1, 3 or 4 */
	uint8_t addr_len;  /* 4, 16, or the name length (0..255) */
	uint8_t addr[256]; /* address bytes, or the name (NUL added) */
	uint16_t port;
	size_t data_off; /* where DATA starts */
};

enum socks_udp_status {
	SOCKS_UDP_OK = 0,
	SOCKS_UDP_E_SHORT, /* cut off inside the header */
	SOCKS_UDP_E_ATYP,  /* address type not 1, 3 or 4 */
};

/*
 * Parse a datagram's header. On SOCKS_UDP_OK, h describes it and the data
 * is p[h->data_off .. n) (possibly empty). RSV and FRAG are reported, not
 * judged: socks_udp_dns_check applies upstream's rule.
 */
enum socks_udp_status socks_udp_parse(
    const uint8_t *p, size_t n, struct socks_udp_hdr *h);

/*
 * Write RSV 0, FRAG 0, h's address and port, then data[0..len) into out.
 * Returns the datagram length, or -1 for a bad atyp/length or short out.
 */
long socks_udp_build(const struct socks_udp_hdr *h, const uint8_t *data,
    size_t len, uint8_t *out, size_t cap);

/* What the client does with a datagram from the application. */
enum socks_udp_verdict {
	SOCKS_UDP_DNS = 0,    /* carry p[data_off..n) as a DNS query */
	SOCKS_UDP_DROP_SHORT, /* under 6 bytes or header cut off */
	SOCKS_UDP_DROP_FRAG,  /* FRAG != 0: fragments are not supported */
	SOCKS_UDP_DROP_ATYP,  /* unknown address type */
	SOCKS_UDP_DROP_PORT,  /* DST.PORT is not 53 */
	SOCKS_UDP_VERDICT_COUNT
};

/*
 * Upstream's rule (client handleSocksUDPAssociate): at least 6 bytes,
 * FRAG 0, a known address type with its address complete, DST.PORT 53;
 * the address itself is not looked at (any server), RSV is not checked,
 * and empty DATA passes (the DNS reader then rejects it). Each drop is
 * silent and the association stays open. h is filled when the header
 * parsed.
 */
enum socks_udp_verdict socks_udp_dns_check(
    const uint8_t *p, size_t n, struct socks_udp_hdr *h);

/* "dns", "short", "frag", "atyp", "port". */
const char *socks_udp_verdict_name(int v);

#endif
