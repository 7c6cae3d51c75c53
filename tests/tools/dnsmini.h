/* SPDX-License-Identifier: MIT */
/*
 * dnsmini.h — the few DNS wire operations the fixture tools need in their
 * hot paths (resolver-farm, farm-upstream, farmq): header and single-question
 * parsing, OPT detection and removal, truncation, and appending A, TXT and
 * OPT records. Written by hand because ldns allocates per packet and is too
 * slow for 20,000 queries per second; it is not a general DNS library (no
 * name decompression into text, no record iteration API).
 *
 * Every function works on a caller-owned buffer and never allocates; the
 * dnsmini_put_* functions assume room for what they append (at most 13 +
 * 255 bytes) and return the new length.
 */
#ifndef MDNS_TESTS_DNSMINI_H
#define MDNS_TESTS_DNSMINI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"

#define DNS_HDR	  12
#define DNS_T_A	  1
#define DNS_T_TXT 16
#define DNS_T_OPT 41

struct dnsmini_q {
	size_t qname_end;    /* offset just past the QNAME */
	size_t qend;	     /* offset just past the question */
	unsigned name_chars; /* presentation length, no trailing dot */
	uint16_t qtype;
	uint16_t udp; /* OPT payload size, 0 = no OPT */
};

/* Skip a possibly compressed name at *off. 0 / -1. */
static inline int
dnsmini_skip_name(const uint8_t *p, size_t len, size_t *off)
{
	size_t o = *off;

	for (;;) {
		uint8_t c;

		if (o >= len)
			return -1;
		c = p[o];
		if ((c & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return -1;
			*off = o + 2;
			return 0;
		}
		if ((c & 0xc0) != 0)
			return -1;
		o += 1 + (size_t)c;
		if (c == 0) {
			*off = o;
			return 0;
		}
	}
}

/*
 * Parse header and the single question (uncompressed name, as RFC 1035
 * queries always are), and find an OPT in the remaining records. Returns
 * 0, or -1 for anything a resolver would reject as malformed.
 */
static inline int
dnsmini_parse(const uint8_t *p, size_t len, struct dnsmini_q *q)
{
	size_t o = DNS_HDR, wire = 0;
	unsigned nrr, i;

	memset(q, 0, sizeof *q);
	if (len < DNS_HDR || be16_load(p + 4) != 1)
		return -1;
	for (;;) {
		uint8_t c;

		if (o >= len)
			return -1;
		c = p[o];
		if ((c & 0xc0) != 0)
			return -1;
		wire += 1 + (size_t)c;
		if (wire > 255)
			return -1;
		o += 1 + (size_t)c;
		if (c == 0)
			break;
		q->name_chars += c + (q->name_chars ? 1u : 0u);
	}
	q->qname_end = o;
	if (o + 4 > len)
		return -1;
	q->qtype = be16_load(p + o);
	q->qend = o + 4;
	nrr = (unsigned)be16_load(p + 6) + be16_load(p + 8) + be16_load(p + 10);
	o = q->qend;
	for (i = 0; i < nrr; i++) {
		uint16_t type, rdlen;

		if (dnsmini_skip_name(p, len, &o) == -1 || o + 10 > len)
			return -1;
		type = be16_load(p + o);
		rdlen = be16_load(p + o + 8);
		if (type == DNS_T_OPT && q->udp == 0)
			q->udp = MAX(be16_load(p + o + 2), 512);
		o += 10 + (size_t)rdlen;
		if (o > len)
			return -1;
	}
	return 0;
}

/*
 * Copy the records after the question from src to dst leaving out OPT
 * records, fixing ARCOUNT in dst's header. Returns the new length or 0
 * when src is malformed.
 */
static inline size_t
dnsmini_strip_opt(
    const uint8_t *src, size_t len, size_t qend, uint8_t *dst, size_t cap)
{
	size_t o = qend, d = qend, start;
	unsigned an, ns, ar, i, kept_ar = 0;

	an = be16_load(src + 6);
	ns = be16_load(src + 8);
	ar = be16_load(src + 10);
	if (qend > cap)
		return 0;
	if (dst != src)
		memcpy(dst, src, qend);
	for (i = 0; i < an + ns + ar; i++) {
		uint16_t type, rdlen;

		start = o;
		if (dnsmini_skip_name(src, len, &o) == -1 || o + 10 > len)
			return 0;
		type = be16_load(src + o);
		rdlen = be16_load(src + o + 8);
		o += 10 + (size_t)rdlen;
		if (o > len)
			return 0;
		if (i >= an + ns && type == DNS_T_OPT)
			continue;
		if (i >= an + ns)
			kept_ar++;
		if (d + (o - start) > cap)
			return 0;
		memmove(dst + d, src + start, o - start);
		d += o - start;
	}
	be16_store(dst + 10, (uint16_t)kept_ar);
	return d;
}

/* Keep header and question, set TC, drop every record. */
static inline size_t
dnsmini_truncate(uint8_t *p, size_t qend)
{
	p[2] |= 0x02;
	be16_store(p + 6, 0);
	be16_store(p + 8, 0);
	be16_store(p + 10, 0);
	return qend;
}

static inline size_t
dnsmini_put_opt(uint8_t *p, size_t o)
{
	static const uint8_t opt[11] = {
	    0, 0, DNS_T_OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};

	memcpy(p + o, opt, sizeof opt);
	be16_store(p + 10, (uint16_t)(be16_load(p + 10) + 1));
	return o + sizeof opt;
}

/* An A record for the question name (pointer to offset 12), TTL 60. */
static inline size_t
dnsmini_put_a(uint8_t *p, size_t o, uint32_t ip)
{
	p[o] = 0xc0;
	p[o + 1] = DNS_HDR;
	be16_store(p + o + 2, DNS_T_A);
	be16_store(p + o + 4, 1);
	be32_store(p + o + 6, 60);
	be16_store(p + o + 10, 4);
	be32_store(p + o + 12, ip);
	return o + 16;
}

static inline size_t
dnsmini_put_txt(uint8_t *p, size_t o, const char *txt)
{
	size_t n = strlen(txt);

	p[o] = 0xc0;
	p[o + 1] = DNS_HDR;
	be16_store(p + o + 2, DNS_T_TXT);
	be16_store(p + o + 4, 1);
	be32_store(p + o + 6, 60);
	be16_store(p + o + 10, (uint16_t)(n + 1));
	p[o + 12] = (uint8_t)n;
	memcpy(p + o + 13, txt, n);
	return o + 13 + n;
}

#endif
