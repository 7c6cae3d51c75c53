/* SPDX-License-Identifier: MIT */
/*
 * dnsmsg.h — the little DNS message code the test fixtures share
 * (auth-responder, dnsq): build a query, parse a message into a flat
 * summary, write names and TXT records. Header only, because every
 * tests/tools/NAME.c becomes its own program and the fuzz target
 * tests/fuzz/fuzz-dnsmsg.c includes it directly.
 *
 * It is deliberately small and strict: it does not validate DNSSEC, does not
 * keep rdata of types it does not print (A, AAAA, TXT, CNAME, NS, PTR are
 * decoded to text, everything else is shown as hex), and refuses anything
 * malformed with a reason. It is not the product's DNS code (engine/ and
 * probe/ own that); fixtures must not depend on the code they test.
 */
#ifndef MDNS_TESTS_DNSMSG_H
#define MDNS_TESTS_DNSMSG_H

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

#define DNSM_NAME_MAX	256 /* presentation form, NUL included */
#define DNSM_MAX_RR	32
#define DNSM_RDATA_TEXT 1200

enum {
	DNSM_T_A = 1,
	DNSM_T_NS = 2,
	DNSM_T_CNAME = 5,
	DNSM_T_SOA = 6,
	DNSM_T_PTR = 12,
	DNSM_T_MX = 15,
	DNSM_T_TXT = 16,
	DNSM_T_AAAA = 28,
	DNSM_T_OPT = 41,
	DNSM_T_ANY = 255,
};

enum {
	DNSM_F_QR = 0x8000,
	DNSM_F_AA = 0x0400,
	DNSM_F_TC = 0x0200,
	DNSM_F_RD = 0x0100,
	DNSM_F_RA = 0x0080,
	DNSM_F_AD = 0x0020,
	DNSM_F_CD = 0x0010,
};

struct dnsm_rr {
	char name[DNSM_NAME_MAX];
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	uint16_t rdlen;
	int section;		    /* 1 answer, 2 authority, 3 additional */
	char text[DNSM_RDATA_TEXT]; /* rdata in presentation form */
};

struct dnsm_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
	char qname[DNSM_NAME_MAX];
	uint16_t qtype;
	uint16_t qclass;
	int has_opt;	     /* an OPT record was present */
	uint16_t edns_size;  /* its UDP payload size */
	size_t question_end; /* offset just past the first question */
	int nrr;	     /* records kept in rr[] (at most DNSM_MAX_RR) */
	struct dnsm_rr rr[DNSM_MAX_RR];
};

static inline const char *
dnsm_rcode_name(int rcode)
{
	static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE"};

	if (rcode >= 0 && rcode < (int)nitems(names))
		return names[rcode];
	return "RCODE?";
}

static inline const char *
dnsm_type_name(uint16_t t)
{
	switch (t) {
	case DNSM_T_A:
		return "A";
	case DNSM_T_NS:
		return "NS";
	case DNSM_T_CNAME:
		return "CNAME";
	case DNSM_T_SOA:
		return "SOA";
	case DNSM_T_PTR:
		return "PTR";
	case DNSM_T_MX:
		return "MX";
	case DNSM_T_TXT:
		return "TXT";
	case DNSM_T_AAAA:
		return "AAAA";
	case DNSM_T_OPT:
		return "OPT";
	case DNSM_T_ANY:
		return "ANY";
	}
	return NULL;
}

/* Type from "TXT", "a", "TYPE99" or "99"; -1 when unknown. */
static inline int
dnsm_type_parse(const char *s)
{
	long long v;
	int t;

	for (t = 1; t < 256; t++) {
		const char *n = dnsm_type_name((uint16_t)t);

		if (n != NULL && strcasecmp(n, s) == 0)
			return t;
	}
	if (strncasecmp(s, "TYPE", 4) == 0)
		s += 4;
	if (parse_int(s, 0, 65535, &v, NULL) == 0)
		return (int)v;
	return -1;
}

/*
 * Write name (presentation form, trailing dot optional, "." = root) in wire
 * form at buf[off]. Returns the new offset or -1 when a label is empty or
 * longer than 63, the name longer than 255, or cap is too small.
 */
static inline long
dnsm_put_name(uint8_t *buf, size_t cap, size_t off, const char *name)
{
	size_t start = off;
	const char *p = name, *dot;
	size_t l;

	if (strcmp(name, ".") == 0 || *name == '\0')
		p = "";
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || off + 1 + l >= cap)
			return -1;
		buf[off++] = (uint8_t)l;
		memcpy(buf + off, p, l);
		off += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (off >= cap || off - start + 1 > 255)
		return -1;
	buf[off++] = 0;
	return (long)off;
}

/*
 * Read a possibly compressed name at msg[*off] into out (presentation form
 * without trailing dot, "." for the root; bytes outside [!-~] and '.' inside
 * a label are escaped as \DDD). Advances *off past the name in the record.
 * Returns 0 or -1 on truncation, bad labels, pointer loops or overflow.
 */
static inline int
dnsm_get_name(
    const uint8_t *msg, size_t len, size_t *off, char *out, size_t outcap)
{
	size_t p = *off, o = 0, wire = 0;
	int jumped = 0, hops = 0;

	if (outcap < 2)
		return -1;
	for (;;) {
		uint8_t l;
		size_t i;

		if (p >= len)
			return -1;
		l = msg[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > 64)
				return -1;
			if (!jumped)
				*off = p + 2;
			jumped = 1;
			p = ((size_t)(l & 0x3f) << 8) | msg[p + 1];
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;
		p++;
		if (l == 0)
			break;
		wire += 1 + l;
		if (wire > 254 || p + l > len)
			return -1;
		if (o > 0) {
			if (o + 1 >= outcap)
				return -1;
			out[o++] = '.';
		}
		for (i = 0; i < l; i++) {
			uint8_t c = msg[p + i];

			if (c > ' ' && c < 0x7f && c != '.' && c != '\\') {
				if (o + 1 >= outcap)
					return -1;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= outcap)
					return -1;
				snprintf(out + o, 5, "\\%03u", c);
				o += 4;
			}
		}
		p += l;
	}
	if (!jumped)
		*off = p;
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return 0;
}

/* rdata of one record as presentation text (TXT: "a" "b"). */
static inline void
dnsm_rdata_text(const uint8_t *msg, size_t len, size_t rdoff, uint16_t type,
    uint16_t rdlen, char *out, size_t cap)
{
	size_t o = 0, p = rdoff, end = rdoff + rdlen;
	char name[DNSM_NAME_MAX];

	out[0] = '\0';
	switch (type) {
	case DNSM_T_A:
		if (rdlen == 4 &&
		    inet_ntop(AF_INET, msg + p, out, (socklen_t)cap) != NULL)
			return;
		break;
	case DNSM_T_AAAA:
		if (rdlen == 16 &&
		    inet_ntop(AF_INET6, msg + p, out, (socklen_t)cap) != NULL)
			return;
		break;
	case DNSM_T_NS:
	case DNSM_T_CNAME:
	case DNSM_T_PTR:
		if (dnsm_get_name(msg, len, &p, name, sizeof name) == 0 &&
		    p == end) {
			snprintf(out, cap, "%s", name);
			return;
		}
		break;
	case DNSM_T_TXT:
		while (p < end) {
			uint8_t l = msg[p++];
			size_t i;

			if (p + l > end)
				break;
			if (o + 4 >= cap)
				return;
			if (o > 0)
				out[o++] = ' ';
			out[o++] = '"';
			for (i = 0; i < l && o + 6 < cap; i++) {
				uint8_t c = msg[p + i];

				if (c == '"' || c == '\\') {
					out[o++] = '\\';
					out[o++] = (char)c;
				} else if (c >= ' ' && c < 0x7f) {
					out[o++] = (char)c;
				} else {
					snprintf(out + o, 5, "\\%03u", c);
					o += 4;
				}
			}
			out[o++] = '"';
			out[o] = '\0';
			p += l;
		}
		if (p == end)
			return;
		break;
	}
	/* Unknown type or malformed rdata: RFC 3597 generic form. */
	o = (size_t)snprintf(out, cap, "\\# %u ", rdlen);
	for (p = rdoff; p < end && o + 3 < cap; p++, o += 2)
		snprintf(out + o, 3, "%02x", msg[p]);
}

/*
 * Parse a whole message: header, first question (others are skipped), every
 * record (the first DNSM_MAX_RR kept in m->rr), OPT noted. Returns 0, or -1
 * with the reason in e.
 */
static inline int
dnsm_parse(const uint8_t *msg, size_t len, struct dnsm_msg *m, struct err *e)
{
	size_t off = 12;
	char name[DNSM_NAME_MAX];
	int i, total;

	memset(m, 0, sizeof *m);
	if (len < 12)
		return err_set(
		    e, "message shorter than a header (%zu bytes)", len);
	m->id = be16_load(msg);
	m->flags = be16_load(msg + 2);
	m->qdcount = be16_load(msg + 4);
	m->ancount = be16_load(msg + 6);
	m->nscount = be16_load(msg + 8);
	m->arcount = be16_load(msg + 10);
	for (i = 0; i < m->qdcount; i++) {
		if (dnsm_get_name(msg, len, &off, name, sizeof name) < 0)
			return err_set(e, "bad question name at %zu", off);
		if (off + 4 > len)
			return err_set(e, "question truncated at %zu", off);
		if (i == 0) {
			memcpy(m->qname, name, sizeof name);
			m->qtype = be16_load(msg + off);
			m->qclass = be16_load(msg + off + 2);
			m->question_end = off + 4;
		}
		off += 4;
	}
	total = m->ancount + m->nscount + m->arcount;
	for (i = 0; i < total; i++) {
		struct dnsm_rr *rr = NULL;
		uint16_t type, rdlen;

		if (dnsm_get_name(msg, len, &off, name, sizeof name) < 0)
			return err_set(e, "bad record name at %zu", off);
		if (off + 10 > len)
			return err_set(
			    e, "record header truncated at %zu", off);
		type = be16_load(msg + off);
		rdlen = be16_load(msg + off + 8);
		if (off + 10 + rdlen > len)
			return err_set(e, "rdata truncated at %zu", off);
		if (type == DNSM_T_OPT) {
			m->has_opt = 1;
			m->edns_size = be16_load(msg + off + 2);
		} else if (m->nrr < DNSM_MAX_RR) {
			rr = &m->rr[m->nrr++];
			memcpy(rr->name, name, sizeof name);
			rr->type = type;
			rr->class = be16_load(msg + off + 2);
			rr->ttl = be32_load(msg + off + 4);
			rr->rdlen = rdlen;
			rr->section = i < m->ancount	? 1 :
			    i < m->ancount + m->nscount ? 2 :
							  3;
			dnsm_rdata_text(msg, len, off + 10, type, rdlen,
			    rr->text, sizeof rr->text);
		}
		off += 10 + (size_t)rdlen;
	}
	return 0;
}

/*
 * Build a query: id, RD when rd, one question, and an OPT record with
 * UDP size edns_size when edns_size > 0. Returns the length or -1.
 */
static inline long
dnsm_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *qname,
    uint16_t qtype, uint16_t qclass, int rd, uint16_t edns_size)
{
	long off;

	if (cap < 12)
		return -1;
	memset(buf, 0, 12);
	be16_store(buf, id);
	be16_store(buf + 2, rd ? DNSM_F_RD : 0);
	be16_store(buf + 4, 1);
	be16_store(buf + 10, edns_size > 0);
	off = dnsm_put_name(buf, cap, 12, qname);
	if (off < 0 || (size_t)off + 4 > cap)
		return -1;
	be16_store(buf + off, qtype);
	be16_store(buf + off + 2, qclass);
	off += 4;
	if (edns_size > 0) {
		if ((size_t)off + 11 > cap)
			return -1;
		buf[off] = 0;
		be16_store(buf + off + 1, DNSM_T_OPT);
		be16_store(buf + off + 3, edns_size);
		memset(buf + off + 5, 0, 6);
		off += 11;
	}
	return off;
}

/* Is name equal to zone or below it (case-insensitive, label aligned)? */
static inline int
dnsm_in_zone(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	if (zl > 0 && zone[zl - 1] == '.')
		zl--;
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (zl == 0)
		return 1;
	if (nl < zl || strncasecmp(name + nl - zl, zone, zl) != 0)
		return 0;
	return nl == zl || name[nl - zl - 1] == '.';
}

#endif
