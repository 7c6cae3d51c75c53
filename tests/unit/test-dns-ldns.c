/* SPDX-License-Identifier: MIT */
/*
 * test-dns-ldns.c — differential test of our DNS readers against ldns
 * (ldns_wire2pkt), the oracle.
 *
 * A seeded generator makes queries and answers of our shapes (tunnel
 * queries with and without EDNS, raw and base64 TXT answers, empty
 * answers) and mutates them: random byte flips, flips in the header and
 * names, truncations, count changes, and compression pointers planted at
 * random label positions. Every packet goes through dns_answer_parse (a
 * full reader of all sections) and dns_query_parse, and through
 * ldns_wire2pkt.
 *
 * Where both accept, the fields must agree: id, flag bits, counts, the
 * first question's name (lower-cased), type and class, EDNS UDP size, the
 * TXT data, and for raw answers the frame reassembled here from ldns's TXT
 * strings. Where they disagree on accept/reject, the disagreement must be
 * one of the documented ones (docs/dns.md):
 *  - we refuse compression pointers that do not point backwards, point
 *    into the header, or chain more than 10 times (ldns allows forward
 *    pointers and up to 65535 hops);
 *  - we accept names of 256..1024 wire bytes (upstream does; ldns refuses);
 *  - we do not interpret RDATA of types other than TXT/OPT, ldns does
 *    (and then walks on from where its RDATA parser stopped);
 *  - the query reader classifies headers (QR=1, opcode > 6, counts) as
 *    "not a request" and reads nothing after the question section but a
 *    lax walk to the OPT RR, like upstream.
 */
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "proto/txt.h"
#include "tests/tap.h"

static uint64_t rng = 0x5eed5eed12345678ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct stats {
	unsigned packets, both_ok, both_bad, fields_bad, txt_cmp, txt_bad,
	    frame_cmp, frame_bad, doc_ours_stricter, doc_ours_laxer, undoc;
};

static struct stats sa, sq;
static uint8_t frame[70000], fbuf[70000];
static unsigned long_names, overflow_seen;

/* ldns owner name as lower-case text, labels joined by '.'; its length
 * (labels may hold NUL bytes, so no strcmp on it). */
static size_t
ldns_name_text(const ldns_rdf *r, char *out, size_t cap)
{
	const uint8_t *d = ldns_rdf_data(r);
	size_t n = ldns_rdf_size(r), i = 0, o = 0, l, j;

	while (i < n && d[i] != 0 && o + 64 < cap) {
		l = d[i++];
		if (o > 0)
			out[o++] = '.';
		for (j = 0; j < l && i < n; j++, i++)
			out[o++] =
			    (char)(d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 32 :
								d[i]);
	}
	out[o] = '\0';
	return o;
}

static int
has_other_types(const ldns_pkt *p)
{
	const ldns_rr_list *l[3] = {
	    ldns_pkt_answer(p), ldns_pkt_authority(p), ldns_pkt_additional(p)};
	size_t i, j;
	ldns_rr_type t;

	for (i = 0; i < 3; i++)
		for (j = 0; j < ldns_rr_list_rr_count(l[i]); j++) {
			t = ldns_rr_get_type(ldns_rr_list_rr(l[i], j));
			if (t != LDNS_RR_TYPE_TXT && t != LDNS_RR_TYPE_OPT)
				return 1;
		}
	return 0;
}

/* Concatenated strings of a TXT RR from ldns; returns length. */
static size_t
ldns_txt_data(const ldns_rr *rr, uint8_t *out)
{
	size_t i, o = 0, n;
	const ldns_rdf *f;

	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		f = ldns_rr_rdf(rr, i);
		n = ldns_rdf_size(f);
		if (n > 0) {
			memcpy(out + o, ldns_rdf_data(f) + 1, n - 1);
			o += n - 1;
		}
	}
	return o;
}

static int
pointer_reason(const char *msg)
{
	return strstr(msg, "compression pointer") != NULL;
}

/* Reassemble a raw-mode frame from ldns's view; 1 = frame, 0 = none/bad. */
static int
ldns_frame(const ldns_pkt *p, uint8_t *out, size_t *outlen, unsigned *txt_rrs)
{
	static uint8_t data[256][70000 / 64];
	static size_t dlen[256];
	static uint8_t one[70000];
	uint8_t tmp[70000];
	const ldns_rr_list *an = ldns_pkt_answer(p);
	size_t i, n, o = 0, onel = 0;
	int have[256];
	unsigned rrs = 0, k, total;

	memset(have, 0, sizeof have);
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		n = ldns_txt_data(rr, tmp);
		if (n == 0)
			continue;
		if (rrs++ == 0) {
			memcpy(one, tmp, n);
			onel = n;
		}
		if (n <= sizeof data[0]) {
			memcpy(data[tmp[0]], tmp, n);
			dlen[tmp[0]] = n;
			have[tmp[0]] = 1;
		} else
			have[tmp[0]] = -1; /* not a chunk of ours */
	}
	*txt_rrs = rrs;
	if (rrs == 0)
		return 0;
	if (rrs == 1) {
		memcpy(out, one, onel);
		*outlen = onel;
		return 1;
	}
	if (have[0] != 1 || dlen[0] < 3 || data[0][1] == 0)
		return 0;
	total = data[0][1];
	for (k = 0; k < 256; k++) {
		if ((k < total) != (have[k] != 0) || have[k] < 0)
			return 0;
	}
	for (k = 0; k < total; k++) {
		size_t skip = k == 0 ? 2 : 1;

		memcpy(out + o, data[k] + skip, dlen[k] - skip);
		o += dlen[k] - skip;
	}
	*outlen = o;
	return 1;
}

static void
diff_answer(const uint8_t *m, size_t len, enum dns_resp_mode mode)
{
	struct dns_answer a;
	struct err e = {""};
	enum dns_answer_status st;
	ldns_pkt *p = NULL;
	ldns_status ls;
	int ours, theirs;

	sa.packets++;
	st = dns_answer_parse(m, len, mode, frame, sizeof frame, &a, &e);
	ours = st != DNS_ANS_MALFORMED;
	ls = ldns_wire2pkt(&p, m, len);
	theirs = ls == LDNS_STATUS_OK;
	if (ours && theirs) {
		char qn[2048] = "";
		size_t qnl = 0;
		const ldns_rr *q0 =
		    ldns_rr_list_rr_count(ldns_pkt_question(p)) ?
		    ldns_rr_list_rr(ldns_pkt_question(p), 0) :
		    NULL;
		unsigned edns =
		    (unsigned)(be16_load(m + 10) - ldns_pkt_arcount(p));
		int bad = 0; /* bit n: n-th compared field differs */

		sa.both_ok++;
		if (q0)
			qnl = ldns_name_text(ldns_rr_owner(q0), qn, sizeof qn);
		bad |= (1 << 0) * (a.id != ldns_pkt_id(p));
		bad |= (1 << 1) * (!!(a.flags & DNS_F_QR) != ldns_pkt_qr(p));
		bad |= (1 << 2) *
		    (((a.flags & DNS_F_OPCODE) >> 11) !=
			ldns_pkt_get_opcode(p));
		bad |= (1 << 3) * (!!(a.flags & DNS_F_AA) != ldns_pkt_aa(p));
		bad |= (1 << 4) * (!!(a.flags & DNS_F_TC) != ldns_pkt_tc(p));
		bad |= (1 << 5) * (!!(a.flags & DNS_F_RD) != ldns_pkt_rd(p));
		bad |= (1 << 6) * (!!(a.flags & DNS_F_RA) != ldns_pkt_ra(p));
		bad |= (1 << 7) * (!!(a.flags & DNS_F_AD) != ldns_pkt_ad(p));
		bad |= (1 << 8) * (!!(a.flags & DNS_F_CD) != ldns_pkt_cd(p));
		bad |= (1 << 9) *
		    ((a.flags & DNS_F_RCODE) != ldns_pkt_get_rcode(p));
		bad |= (1 << 10) * (a.qdcount != ldns_pkt_qdcount(p));
		bad |= (1 << 11) * (a.ancount != ldns_pkt_ancount(p));
		bad |= (1 << 12) * (a.nscount != ldns_pkt_nscount(p));
		bad |= (1 << 13) * (a.has_question != (q0 != NULL));
		if (q0) {
			bad |= (1 << 14) *
			    (a.qname_len != qnl ||
				memcmp(a.qname, qn, qnl) != 0);
			bad |= (1 << 15) * (a.qtype != ldns_rr_get_type(q0));
			bad |= (1 << 16) * (a.qclass != ldns_rr_get_class(q0));
		}
		if (!has_other_types(p)) {
			bad |= (1 << 17) * (a.has_opt != (edns > 0));
			if (edns == 1)
				bad |= (1 << 18) *
				    (a.edns_udp_size !=
					ldns_pkt_edns_udp_size(p));
		}
		if (bad) {
			sa.fields_bad++;
			tap_diag("answer fields differ (%zu bytes): mask %#x",
			    len, bad);
		}
		if (!has_other_types(p) && mode == DNS_RESP_RAW) {
			size_t fl = 0;
			unsigned rrs;
			int lf = ldns_frame(p, fbuf, &fl, &rrs);

			sa.txt_cmp++;
			if (rrs != a.txt_rrs) {
				sa.txt_bad++;
				tap_diag("TXT RR count %u vs ldns %u",
				    a.txt_rrs, rrs);
			}
			if (lf || st == DNS_ANS_FRAME) {
				sa.frame_cmp++;
				if (!(lf && st == DNS_ANS_FRAME &&
					fl == a.frame_len &&
					memcmp(fbuf, frame, fl) == 0)) {
					sa.frame_bad++;
					tap_diag("frame: ours %s %zu, ldns %d "
						 "%zu",
					    dns_answer_strstatus(st),
					    a.frame_len, lf, fl);
				}
			}
		}
	} else if (!ours && !theirs) {
		sa.both_bad++;
	} else if (!ours) {
		/* We refuse, ldns accepts. */
		if (pointer_reason(e.msg) || a.other_rrs > 0 ||
		    has_other_types(p))
			sa.doc_ours_stricter++;
		else {
			sa.undoc++;
			tap_diag("answer: we refuse (%s), ldns accepts", e.msg);
		}
	} else {
		if (ls == LDNS_STATUS_DOMAINNAME_OVERFLOW || a.other_rrs > 0) {
			sa.doc_ours_laxer++;
			overflow_seen += ls == LDNS_STATUS_DOMAINNAME_OVERFLOW;
		} else {
			sa.undoc++;
			tap_diag("answer: we accept, ldns refuses: %s",
			    ldns_get_errorstr_by_id(ls));
		}
	}
	ldns_pkt_free(p);
}

static void
diff_query(const uint8_t *m, size_t len)
{
	struct dns_query q;
	struct err e = {""};
	enum dns_query_verdict v;
	ldns_pkt *p = NULL, *p2 = NULL;
	ldns_status ls, ls2;
	uint8_t cut[4096];
	int ours, theirs;

	sq.packets++;
	v = dns_query_parse(m, len, &q, &e);
	ours = v != DNS_QUERY_DROP;
	ls = ldns_wire2pkt(&p, m, len);
	theirs = ls == LDNS_STATUS_OK;
	if (ours && theirs) {
		char qn[2048];
		size_t qnl;
		const ldns_rr *q0 = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		unsigned edns = (unsigned)(q.arcount - ldns_pkt_arcount(p));
		int bad = 0;

		sq.both_ok++;
		qnl = ldns_name_text(ldns_rr_owner(q0), qn, sizeof qn);
		bad |= (1 << 0) * (q.id != ldns_pkt_id(p));
		bad |= (1 << 1) * (!!(q.flags & DNS_F_RD) != ldns_pkt_rd(p));
		bad |= (1 << 2) * (!!(q.flags & DNS_F_CD) != ldns_pkt_cd(p));
		bad |= (1 << 3) *
		    (((q.flags & DNS_F_OPCODE) >> 11) !=
			ldns_pkt_get_opcode(p));
		bad |= (1 << 4) * (q.qdcount != ldns_pkt_qdcount(p));
		bad |= (1 << 5) *
		    (q.qname_len != qnl || memcmp(q.qname, qn, qnl) != 0);
		bad |= (1 << 6) * (q.qtype != ldns_rr_get_type(q0));
		bad |= (1 << 7) * (q.qclass != ldns_rr_get_class(q0));
		bad |= (1 << 8) * ((v == DNS_QUERY_FORMERR) != (qnl == 0));
		if (!has_other_types(p)) {
			bad |= (1 << 9) * ((q.opt_len > 0) != (edns > 0));
			if (edns == 1)
				bad |= (1 << 10) *
				    (q.edns_udp_size !=
					    ldns_pkt_edns_udp_size(p) ||
					q.edns_version !=
					    ldns_pkt_edns_version(p));
		}
		if (bad) {
			sq.fields_bad++;
			tap_diag("query fields differ (mask %#x): %s vs %s",
			    bad, q.qname, qn);
		}
	} else if (!ours && !theirs) {
		sq.both_bad++;
	} else if (!ours) {
		if (strncmp(e.msg, "not a request", 13) == 0 ||
		    pointer_reason(e.msg))
			sq.doc_ours_stricter++;
		else {
			sq.undoc++;
			tap_diag("query: we drop (%s), ldns accepts", e.msg);
		}
	} else {
		/* We accept: ldns must accept the header + question alone,
		 * unless the name is one of the long ones we allow. */
		size_t qe = q.question_end;

		memcpy(cut, m, qe);
		be16_store(cut + 6, 0);
		be16_store(cut + 8, 0);
		be16_store(cut + 10, 0);
		ls2 = ldns_wire2pkt(&p2, cut, qe);
		if (ls2 == LDNS_STATUS_OK ||
		    ls == LDNS_STATUS_DOMAINNAME_OVERFLOW)
			sq.doc_ours_laxer++;
		else {
			sq.undoc++;
			tap_diag("query: we accept, ldns refuses the question: "
				 "%s",
			    ldns_get_errorstr_by_id(ls2));
		}
		ldns_pkt_free(p2);
	}
	ldns_pkt_free(p);
}

/* Generate base packets into m; returns length and sets *mode. */
static size_t
gen_base(uint8_t *m, size_t cap, int *is_answer, enum dns_resp_mode *mode)
{
	static uint8_t qb[4096];
	char data[300];
	uint8_t dom[32], qn[320];
	struct dns_query q;
	struct err e = {""};
	size_t dl = rnd() % 241, i, flen;
	long l, ql;
	uint16_t edns_sizes[] = {0, 512, 1232, 4096};
	uint16_t types[] = {16, 16, 16, 1, 28};
	uint16_t id, qtype, edns;

	for (i = 0; i < dl; i++) {
		data[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[rnd() % 36];
		if (rnd() % 8 == 0 && data[i] >= 'a')
			data[i] = (char)(data[i] - 32);
	}
	l = rnd() % 2 ?
	    dns_name_encode("t.example", 9, dom, sizeof dom, &e) :
	    dns_name_encode("Tunnel.Example.COM", 18, dom, sizeof dom, &e);
	if (rnd() % 40 == 0)
		dl = 0;
	/* Too long for the longer domain: use fewer data characters. */
	while ((ql = dns_qname_from_data(
		    data, dl, dom, (size_t)l, qn, sizeof qn, &e)) < 0)
		dl -= 10;
	if (rnd() % 25 == 0) {
		/* Longer than RFC 1035 allows, as the s5 capture's 269-byte
		 * name: 256..299 wire bytes of 63-char labels. */
		size_t want = 256 + rnd() % 44, o = 0, lab;

		while (want - o > 1) {
			lab = MIN(want - o - 2, (size_t)63);
			if (lab == 0)
				break;
			qn[o++] = (uint8_t)lab;
			memset(qn + o, 'a' + (int)(rnd() % 26), lab);
			o += lab;
		}
		qn[o++] = 0;
		ql = (long)o;
		long_names++;
	}
	/* One rnd() per statement: argument order is unspecified. */
	id = (uint16_t)rnd();
	qtype = types[rnd() % nitems(types)];
	edns = edns_sizes[rnd() % 4];
	ql =
	    dns_query_write(qb, sizeof qb, id, qn, (size_t)ql, qtype, edns, &e);
	*mode = rnd() % 2 ? DNS_RESP_BASE64 : DNS_RESP_RAW;
	if (rnd() % 3 == 0) {
		*is_answer = 0;
		memcpy(m, qb, (size_t)ql);
		return (size_t)ql;
	}
	*is_answer = 1;
	dns_query_parse(qb, (size_t)ql, &q, &e);
	if (rnd() % 6 == 0)
		return (size_t)dns_answer_empty(m, cap, &q, rnd() % 3, &e);
	flen = rnd() % 4 == 0 ? 3000 : 300;
	flen = 4 + rnd() % flen;
	for (i = 0; i < flen; i++)
		fbuf[i] = (uint8_t)rnd();
	return (size_t)dns_answer_build(m, cap, &q, fbuf, flen, 4, *mode, &e);
}

static void
run_one(const uint8_t *m, size_t len, enum dns_resp_mode mode)
{
	diff_answer(m, len, mode);
	diff_query(m, len);
}

/* argv[1], when given, replaces the seed (for longer local runs). */
int
main(int argc, char **argv)
{
	static uint8_t base[70000], m[70000];
	size_t len, i, v, pos, nlab;
	int is_answer;
	enum dns_resp_mode mode;
	unsigned iter;

	if (argc > 1)
		rng = strtoull(argv[1], NULL, 0) | 1;
	for (iter = 0; iter < 900; iter++) {
		len = gen_base(base, sizeof base, &is_answer, &mode);
		run_one(base, len, mode);
		for (v = 0; v < 6; v++) {
			size_t ml = len;

			memcpy(m, base, len);
			switch (v) {
			case 0: /* random flips anywhere */
				for (i = 0; i < 1 + rnd() % 3; i++) {
					pos = rnd() % ml;
					m[pos] ^= (uint8_t)(1 + rnd() % 255);
				}
				break;
			case 1: /* flips in header and first name */
				for (i = 0; i < 1 + rnd() % 2; i++) {
					pos = rnd() % MIN(ml, (size_t)80);
					m[pos] = (uint8_t)rnd();
				}
				break;
			case 2: /* truncation */
				ml = rnd() % len;
				break;
			case 3: /* a count lies */
				pos = 4 + 2 * (rnd() % 4);
				be16_store(m + pos, (uint16_t)(rnd() % 4));
				break;
			case 4: /* plant a pointer at some label start */
				pos = 12;
				nlab = rnd() % 4;
				while (nlab-- > 0 && m[pos] != 0 &&
				    m[pos] < 64 && pos + m[pos] + 1 < ml)
					pos += m[pos] + 1u;
				if (rnd() % 2 == 0 && ml > 40)
					pos = 12 + rnd() % (ml - 14);
				if (pos + 1 < ml) {
					size_t t = rnd() % 3 == 0 ?
					    rnd() % ml :
					    rnd() % (pos + 1);

					m[pos] = (uint8_t)(0xc0 | (t >> 8));
					m[pos + 1] = (uint8_t)t;
				}
				break;
			case 5: /* change a type or RDLENGTH-ish byte */
				if (ml > 20) {
					pos = ml - 1 -
					    rnd() % MIN(ml - 13, (size_t)300);
					m[pos] = (uint8_t)rnd();
					m[pos - 1] = (uint8_t)(rnd() % 3);
				}
				break;
			}
			run_one(m, ml, mode);
		}
	}
	tap_diag("answer reader: %u packets, both accept %u, both refuse %u, "
		 "we stricter (documented) %u, we laxer (documented) %u, "
		 "TXT compared %u, frames compared %u",
	    sa.packets, sa.both_ok, sa.both_bad, sa.doc_ours_stricter,
	    sa.doc_ours_laxer, sa.txt_cmp, sa.frame_cmp);
	tap_diag("query reader: %u packets, both accept %u, both refuse %u, "
		 "we stricter (documented) %u, we laxer (documented) %u",
	    sq.packets, sq.both_ok, sq.both_bad, sq.doc_ours_stricter,
	    sq.doc_ours_laxer);
	tap_ok(sa.packets >= 6000, "%u packets", sa.packets);
	tap_ok(long_names > 10 && overflow_seen > 10,
	    "%u long-name bases, "
	    "%u accepted by us and refused by ldns as too long",
	    long_names, overflow_seen);
	tap_ok(sa.both_ok > 1000 && sa.both_bad > 500,
	    "both outcomes well represented (answer reader)");
	tap_is_int(sa.fields_bad, 0, "answer reader fields agree with ldns");
	tap_ok(sa.txt_cmp > 1000, "TXT data compared on %u", sa.txt_cmp);
	tap_is_int(sa.txt_bad, 0, "TXT RR counts agree with ldns");
	tap_ok(sa.frame_cmp > 500, "frames compared on %u", sa.frame_cmp);
	tap_is_int(sa.frame_bad, 0, "frames agree with reassembly from ldns");
	tap_is_int(sa.undoc, 0,
	    "answer reader: no undocumented "
	    "accept/reject disagreement");
	tap_ok(
	    sq.both_ok > 1000, "query reader: %u accepted by both", sq.both_ok);
	tap_is_int(sq.fields_bad, 0, "query reader fields agree with ldns");
	tap_is_int(sq.undoc, 0,
	    "query reader: no undocumented "
	    "accept/reject disagreement");
	return tap_done();
}
