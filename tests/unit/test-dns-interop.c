/* SPDX-License-Identifier: MIT */
/*
 * test-dns-interop.c — the DNS layer against every captured message in
 * $MDNS_SHARED/interop/ (every capture, tests/interop.h; s8's "app" lines
 * are not tunnel messages and are left out; s9 is the FEC fork's traffic):
 *  - every query parses with dns_query_parse with the recorded verdict
 *    (QR=1 dropped, root QNAME FORMERR) and qname/qtype/qclass/EDNS fields;
 *  - every response read by dns_answer_parse yields exactly frame_hex in the
 *    recorded txt_encoding, or "no frame" with the recorded rcode/AA/RA;
 *  - every response is rebuilt byte for byte from its query's wire (the
 *    query it answers, paired by tests/interop.h) plus
 *    frame_hex (dns_answer_build) or from the rcode (dns_answer_empty);
 *  - every TXT response's length equals dns_answer_size, and
 *    dns_response_size for the usual one-question + 11-byte-OPT shape.
 * Per-file counts go out as TAP diagnostics; totals are asserted.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "tests/interop.h"
#include "tests/tap.h"

#define MAXMSG 70000

struct counts {
	unsigned queries, q_ok, responses, frames, frames_ok, noframe,
	    noframe_ok, rebuilt, rebuilt_ok, sized, sized_ok, formula,
	    formula_ok;
};

static struct counts tot;

/* Hex field into a fresh buffer; returns length or -1. */
static long
hexfield(json_t *o, const char *key, uint8_t **out)
{
	const char *h = json_string_value(json_object_get(o, key));
	size_t n;

	if (h == NULL)
		return -1;
	n = strlen(h);
	*out = xmalloc(n / 2 + 1);
	return hex_decode(h, n, *out, n / 2 + 1);
}

static int
jint(json_t *o, const char *key)
{
	return (int)json_integer_value(json_object_get(o, key));
}

static void
lower_str(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static int
check_query(const char *file, int n, json_t *dns, const uint8_t *w, size_t wl)
{
	struct dns_query q;
	struct err e = {""};
	enum dns_query_verdict v, want;
	char qn[DNS_NAME_TEXT_MAX];
	json_t *edns = json_object_get(dns, "edns");

	v = dns_query_parse(w, wl, &q, &e);
	snprintf(qn, sizeof qn, "%s",
	    json_string_value(json_object_get(dns, "qname")));
	lower_str(qn);
	want = jint(dns, "qr") ? DNS_QUERY_DROP :
	    qn[0] == '\0'      ? DNS_QUERY_FORMERR :
				 DNS_QUERY_OK;
	if (v != want) {
		tap_diag("%s n=%d: verdict %d, want %d (%s)", file, n, v, want,
		    e.msg);
		return 0;
	}
	if (v == DNS_QUERY_DROP)
		return 1;
	if (strcmp(q.qname, qn) != 0 || q.qtype != jint(dns, "qtype") ||
	    q.qclass != jint(dns, "qclass") || q.id != jint(dns, "id") ||
	    (edns != NULL) != (q.opt_len > 0) ||
	    (edns &&
		(q.edns_udp_size != jint(edns, "udp_size") ||
		    q.edns_version != jint(edns, "version") ||
		    11 + (size_t)jint(edns, "rdlen") != q.opt_len))) {
		tap_diag("%s n=%d: query fields differ (qname %s)", file, n,
		    q.qname);
		return 0;
	}
	return 1;
}

static void
do_file(const char *name)
{
	struct icap cap;
	json_t *o, *dec, *dns, *tun;
	uint8_t *w, *fr = NULL, *out, *frame, *qw = NULL;
	size_t i, ql = 0;
	struct counts c;
	int mode_b64, n;
	long wl, qwl;

	memset(&c, 0, sizeof c);
	if (icap_load(name, &cap) == -1)
		return;
	mode_b64 = strcmp(icap_str(cap.hdr, "response_mode"), "base64") == 0;
	out = xmalloc(MAXMSG);
	frame = xmalloc(MAXMSG);
	for (i = 0; i < cap.nlines; i++) {
		o = cap.lines[i];
		n = jint(o, "n");
		dec = json_object_get(o, "decoded");
		dns = json_object_get(dec, "dns");
		tun = json_object_get(dec, "tunnel");
		wl = hexfield(o, "wire", &w);
		if (wl < 0) {
			tap_ok(0, "%s:%d: bad wire hex", name, cap.lineno[i]);
			continue;
		}
		if (icap_is_query(o)) {
			c.queries++;
			c.q_ok += check_query(name, n, dns, w, (size_t)wl);
			free(w);
			continue;
		}
		/* A response. */
		struct dns_answer a;
		struct dns_query q;
		struct err e = {""};
		enum dns_answer_status st;
		const char *enc = NULL;
		enum dns_resp_mode mode;
		long fl = -1, bl;
		long qi = cap.peer[i];

		c.responses++;
		if (tun && !json_is_null(tun))
			enc = json_string_value(
			    json_object_get(tun, "txt_encoding"));
		mode = enc ? (strcmp(enc, "base64") == 0 ? DNS_RESP_BASE64 :
							   DNS_RESP_RAW) :
			     (mode_b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW);
		st = dns_answer_parse(
		    w, (size_t)wl, mode, frame, MAXMSG, &a, &e);
		if (enc) {
			c.frames++;
			fl = hexfield(tun, "frame_hex", &fr);
			if (st == DNS_ANS_FRAME && (long)a.frame_len == fl &&
			    memcmp(frame, fr, (size_t)fl) == 0 &&
			    a.txt_rrs == (unsigned)jint(tun, "txt_rr_count"))
				c.frames_ok++;
			else
				tap_diag("%s n=%d: reader %s (%s), %zu bytes, "
					 "want %ld",
				    name, n, dns_answer_strstatus(st), e.msg,
				    a.frame_len, fl);
		} else {
			c.noframe++;
			if (st == DNS_ANS_NOFRAME &&
			    (a.flags & DNS_F_RCODE) == jint(dns, "rcode") &&
			    !!(a.flags & DNS_F_AA) == jint(dns, "aa") &&
			    !!(a.flags & DNS_F_RA) == jint(dns, "ra"))
				c.noframe_ok++;
			else
				tap_diag("%s n=%d: reader %s, want no frame",
				    name, n, dns_answer_strstatus(st));
		}
		/* Byte-exact rebuild from the query. */
		c.rebuilt++;
		free(qw);
		qw = NULL;
		qwl = qi < 0 ? -1 : hexfield(cap.lines[qi], "wire", &qw);
		ql = qwl < 0 ? 0 : (size_t)qwl;
		if (qwl < 0 ||
		    dns_query_parse(qw, ql, &q, &e) == DNS_QUERY_DROP) {
			tap_diag("%s n=%d: its query (line %d) unusable", name,
			    n, qi < 0 ? -1 : cap.lineno[qi]);
		} else {
			if (enc) {
				bl = dns_answer_build(out, MAXMSG, &q, fr,
				    (size_t)fl, (size_t)jint(tun, "header_len"),
				    mode, &e);
			} else {
				int rc = jint(dns, "rcode");

				bl = dns_answer_empty(out, MAXMSG, &q,
				    rc == 3	? DNS_EMPTY_NXDOMAIN :
					rc == 1 ? DNS_EMPTY_FORMERR :
						  DNS_EMPTY_NODATA,
				    &e);
			}
			if (bl == wl && memcmp(out, w, (size_t)wl) == 0)
				c.rebuilt_ok++;
			else
				tap_diag("%s n=%d: rebuilt %ld bytes, "
					 "captured %ld",
				    name, n, bl, wl);
			if (enc) {
				size_t sz = dns_answer_size((size_t)fl,
				    q.qname_wire_len,
				    q.question_end - DNS_HDR_LEN, q.opt_len,
				    mode);
				c.sized++;
				c.sized_ok += sz == (size_t)wl;
				if (q.qdcount == 1 &&
				    q.opt_len == DNS_OPT_LEN) {
					size_t hl =
					    (size_t)jint(tun, "header_len");
					c.formula++;
					c.formula_ok +=
					    dns_response_size((size_t)fl - hl,
						q.qname_wire_len, mode,
						hl) == (size_t)wl;
				}
			}
		}
		if (enc)
			free(fr);
		free(w);
	}
	free(qw);
	tap_diag("%s: queries %u/%u, frames %u/%u, no-frame %u/%u, "
		 "rebuilt %u/%u, sized %u/%u, formula %u/%u",
	    name, c.q_ok, c.queries, c.frames_ok, c.frames, c.noframe_ok,
	    c.noframe, c.rebuilt_ok, c.rebuilt, c.sized_ok, c.sized,
	    c.formula_ok, c.formula);
	tot.queries += c.queries;
	tot.q_ok += c.q_ok;
	tot.responses += c.responses;
	tot.frames += c.frames;
	tot.frames_ok += c.frames_ok;
	tot.noframe += c.noframe;
	tot.noframe_ok += c.noframe_ok;
	tot.rebuilt += c.rebuilt;
	tot.rebuilt_ok += c.rebuilt_ok;
	tot.sized += c.sized;
	tot.sized_ok += c.sized_ok;
	tot.formula += c.formula;
	tot.formula_ok += c.formula_ok;
	free(out);
	free(frame);
	icap_free(&cap);
}

int
main(void)
{
	char **names;
	long nn, i;

	if ((nn = icap_list(&names)) < 0)
		return tap_done();
	tap_ok(nn >= 15, "found %ld capture files", nn);
	for (i = 0; i < nn; i++)
		do_file(names[i]);
	icap_free_names(names, nn);
	tap_ok(tot.queries >= 1700, "%u queries seen", tot.queries);
	tap_is_int(tot.q_ok, tot.queries,
	    "every query parses with the "
	    "recorded fields and verdict");
	tap_ok(tot.frames >= 1400, "%u responses with a frame", tot.frames);
	tap_is_int(tot.frames_ok, tot.frames,
	    "client reader yields every "
	    "captured frame exactly");
	tap_ok(tot.noframe > 30, "%u responses without a frame", tot.noframe);
	tap_is_int(tot.noframe_ok, tot.noframe,
	    "client reader reports no "
	    "frame with the recorded rcode/AA/RA");
	tap_is_int(tot.rebuilt, tot.responses, "every response was tried");
	tap_is_int(tot.rebuilt_ok, tot.rebuilt,
	    "server builders reproduce "
	    "every captured response byte for byte");
	tap_is_int(tot.sized_ok, tot.sized,
	    "dns_answer_size equals every "
	    "TXT response length");
	tap_ok(tot.formula >= 1400, "%u responses of the usual shape",
	    tot.formula);
	tap_is_int(tot.formula_ok, tot.formula,
	    "dns_response_size (1.6 "
	    "formula) equals their lengths");
	return tap_done();
}
