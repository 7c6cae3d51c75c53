/* SPDX-License-Identifier: MIT */
/*
 * socks-udp.c — SOCKS5 UDP ASSOCIATE datagram headers (RFC 1928 section
 * 7) and upstream's choice of which datagrams become DNS queries.
 *
 * The parser is exact about lengths and nothing else: RSV and FRAG are
 * returned as received so the caller (or socks_udp_dns_check) decides.
 * It does not reassemble SOCKS fragments (upstream drops them, and so do
 * we) and does not resolve the address.
 */
#include <string.h>

#include "common/util.h"
#include "proto/socks-udp.h"

enum socks_udp_status
socks_udp_parse(const uint8_t *p, size_t n, struct socks_udp_hdr *h)
{
	size_t alen;

	memset(h, 0, offsetof(struct socks_udp_hdr, addr));
	h->addr[0] = '\0';
	h->port = 0;
	h->data_off = 0;
	if (n < 4)
		return SOCKS_UDP_E_SHORT;
	h->rsv = be16_load(p);
	h->frag = p[2];
	h->atyp = p[3];
	switch (h->atyp) {
	case SOCKS_UDP_ATYP_IPV4:
	case SOCKS_UDP_ATYP_IPV6:
		alen = h->atyp == SOCKS_UDP_ATYP_IPV4 ? 4 : 16;
		if (n < 4 + alen + 2)
			return SOCKS_UDP_E_SHORT;
		memcpy(h->addr, p + 4, alen);
		h->data_off = 4 + alen + 2;
		break;
	case SOCKS_UDP_ATYP_DOMAIN:
		if (n < 5)
			return SOCKS_UDP_E_SHORT;
		alen = p[4];
		if (n < 5 + alen + 2)
			return SOCKS_UDP_E_SHORT;
		memcpy(h->addr, p + 5, alen);
		h->addr[alen] = '\0';
		h->data_off = 5 + alen + 2;
		break;
	default:
		return SOCKS_UDP_E_ATYP;
	}
	h->addr_len = (uint8_t)alen;
	h->port = be16_load(p + h->data_off - 2);
	return SOCKS_UDP_OK;
}

long
socks_udp_build(const struct socks_udp_hdr *h, const uint8_t *data, size_t len,
    uint8_t *out, size_t cap)
{
	size_t hl;

	switch (h->atyp) {
	case SOCKS_UDP_ATYP_IPV4:
		if (h->addr_len != 4)
			return -1;
		hl = 4 + 4 + 2;
		break;
	case SOCKS_UDP_ATYP_IPV6:
		if (h->addr_len != 16)
			return -1;
		hl = 4 + 16 + 2;
		break;
	case SOCKS_UDP_ATYP_DOMAIN:
		hl = 5 + (size_t)h->addr_len + 2;
		break;
	default:
		return -1;
	}
	if (hl > cap || len > cap - hl)
		return -1;
	out[0] = out[1] = out[2] = 0;
	out[3] = h->atyp;
	if (h->atyp == SOCKS_UDP_ATYP_DOMAIN) {
		out[4] = h->addr_len;
		memcpy(out + 5, h->addr, h->addr_len);
	} else {
		memcpy(out + 4, h->addr, h->addr_len);
	}
	be16_store(out + hl - 2, h->port);
	if (len > 0)
		memcpy(out + hl, data, len);
	return (long)(hl + len);
}

enum socks_udp_verdict
socks_udp_dns_check(const uint8_t *p, size_t n, struct socks_udp_hdr *h)
{
	enum socks_udp_status st;

	st = socks_udp_parse(p, n, h);
	/* Upstream's order: length, then FRAG, then the address type. */
	if (n < 6)
		return SOCKS_UDP_DROP_SHORT;
	if (h->frag != 0)
		return SOCKS_UDP_DROP_FRAG;
	if (st == SOCKS_UDP_E_ATYP)
		return SOCKS_UDP_DROP_ATYP;
	if (st != SOCKS_UDP_OK)
		return SOCKS_UDP_DROP_SHORT;
	if (h->port != 53)
		return SOCKS_UDP_DROP_PORT;
	return SOCKS_UDP_DNS;
}

const char *
socks_udp_verdict_name(int v)
{
	static const char *const names[] = {
	    "dns", "short", "frag", "atyp", "port"};

	return v >= 0 && (size_t)v < nitems(names) ? names[v] : "?";
}
