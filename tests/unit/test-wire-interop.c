/* SPDX-License-Identifier: MIT */
/*
 * test-wire-interop.c — the frame layer against real upstream traffic:
 * every capture in $MDNS_SHARED/interop (see its README; which files are
 * captures, the expected list and the "app" lines: tests/interop.h),
 * including s8's DNS_QUERY_* frames and the FEC fork's types in s9.
 *
 * Queries: decoded.dns.qname goes through our server-side decoder and must
 * give the recorded frame (fields, frame_hex, payload_hex, inflated payload,
 * semantic fields) or, for the crafted s5 failures, a rejection of the same
 * class. Re-encoding the decoded frame (with the recorded nonce for methods
 * 2-5) must reproduce the QNAME byte for byte. Responses: frame_hex through
 * our frame parser, decompression and payload decoders (SESSION_ACCEPT
 * policy, MTU answers, PONG, ERROR_DROP, packed blocks). Mismatches are
 * reported as "file:line: reason" diagnostics; each file yields a handful
 * of TAP assertions plus per-file counts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/util.h"
#include "proto/wire.h"
#include "tests/interop.h"
#include "tests/tap.h"

#define BUF_MAX (64 * 1024)

struct counts {
	int queries, q_ok, q_neg, q_neg_ok, reenc, reenc_ok;
	int resp, r_frames, r_ok, inflated, inflated_ok;
	int fields, fields_ok, payload_checks, payload_checks_ok;
	int fail;
	int by_type[2][256]; /* [0] queries, [1] responses we decoded */
	int blocks[2];	     /* packed blocks inside them */
	int no_frame;	     /* responses without a tunnel frame */
};

static const char *cur_file;
static int cur_line;
static int diag_budget = 40;

static void __attribute__((format(printf, 2, 3)))
fail(struct counts *c, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	c->fail++;
	if (diag_budget-- <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tap_diag("%s:%d: %s", cur_file, cur_line, msg);
}

static long long
jint(json_t *o, const char *k, long long dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
jbool(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* Compare bytes with a hex string from the capture. */
static bool
hex_eq(const uint8_t *p, size_t n, const char *hex)
{
	static uint8_t tmp[BUF_MAX];
	long m;

	if (hex == NULL)
		return false;
	m = hex_decode(hex, strlen(hex), tmp, sizeof tmp);
	return m >= 0 && (size_t)m == n && memcmp(tmp, p, n) == 0;
}

static bool
hex32_eq(uint32_t v, const char *hex)
{
	uint8_t b[4];

	be32_store(b, v);
	return hex_eq(b, 4, hex);
}

/* Header fields common to queries and responses. */
static bool
frame_fields_match(struct counts *c, const struct wire_frame *f, json_t *t)
{
	unsigned ext = wire_type_ext(f->type);
	const char *name = jstr(t, "packet_type_name");

	if (f->session_id != jint(t, "session_id", -1) ||
	    f->type != jint(t, "packet_type", -1) ||
	    f->cookie != jint(t, "cookie", -1) ||
	    f->check != jint(t, "check_byte", -1) ||
	    f->hdr_len != jint(t, "header_len", -1)) {
		fail(c, "basic header fields differ (type 0x%02x)", f->type);
		return false;
	}
	if (name == NULL || wire_type_name(f->type) == NULL ||
	    strcmp(name, wire_type_name(f->type)) != 0) {
		fail(c, "type name %s vs %s", name ? name : "-",
		    wire_type_name(f->type) ? wire_type_name(f->type) : "-");
		return false;
	}
	if (((ext & WIRE_EXT_STREAM) &&
		f->stream_id != jint(t, "stream_id", -1)) ||
	    ((ext & WIRE_EXT_SEQ) && f->seq != jint(t, "seq", -1)) ||
	    ((ext & WIRE_EXT_FRAG) &&
		(f->frag_id != jint(t, "frag_id", -1) ||
		    f->frag_total != jint(t, "frag_total", -1))) ||
	    ((ext & WIRE_EXT_COMP) && f->comp != jint(t, "comp", -1))) {
		fail(c, "extension fields differ (type %s)", name);
		return false;
	}
	/* A field the type does not carry must be absent from the capture. */
	if ((!(ext & WIRE_EXT_STREAM) && json_object_get(t, "stream_id")) ||
	    (!(ext & WIRE_EXT_FRAG) && json_object_get(t, "frag_id")) ||
	    (!(ext & WIRE_EXT_COMP) && json_object_get(t, "comp"))) {
		fail(c, "capture has fields type %s should not carry", name);
		return false;
	}
	if (!hex_eq(f->payload, f->payload_len, jstr(t, "payload_hex"))) {
		fail(c, "payload differs (%zu bytes)", f->payload_len);
		return false;
	}
	return true;
}

static bool
blocks_match(struct counts *c, const uint8_t *p, size_t n, json_t *fields)
{
	json_t *blocks = json_object_get(fields, "blocks"), *b;
	struct wire_block blk;
	size_t i;

	if (!json_is_array(blocks) ||
	    json_array_size(blocks) != wire_block_count(n)) {
		fail(c, "packed block count differs");
		return false;
	}
	json_array_foreach(blocks, i, b)
	{
		if (wire_block_get(p, n, i, &blk) != WIRE_OK ||
		    blk.type != jint(b, "type", -1) ||
		    blk.stream_id != jint(b, "stream_id", -1) ||
		    blk.seq != jint(b, "seq", -1) ||
		    blk.frag_id != jint(b, "frag_id", -1) ||
		    blk.frag_total != jint(b, "frag_total", -1) ||
		    !wire_is_packable(blk.type, 0)) {
			fail(c, "packed block %zu differs or not packable", i);
			return false;
		}
	}
	return true;
}

static bool
policy_match(struct counts *c, const struct wire_policy *p, json_t *j)
{
	if (p->max_dup != jint(j, "max_dup", -1) ||
	    p->max_setup_dup != jint(j, "max_setup_dup", -1) ||
	    p->max_upload_mtu != jint(j, "max_upload_mtu", -1) ||
	    p->max_download_mtu != jint(j, "max_download_mtu", -1) ||
	    p->max_workers != jint(j, "max_workers", -1) ||
	    p->min_ping_interval_raw != jint(j, "min_ping_interval_raw", -1) ||
	    p->max_batch != jint(j, "max_batch", -1) ||
	    p->max_arq_window != jint(j, "max_arq_window", -1) ||
	    p->max_nack_gap != jint(j, "max_nack_gap", -1) ||
	    p->min_comp_min_size != jint(j, "min_comp_min_size", -1) ||
	    p->min_rto_raw != jint(j, "min_rto_raw", -1) ||
	    fabs(wire_scaled_seconds(p->min_ping_interval_raw) -
		json_number_value(json_object_get(j, "min_ping_interval_s"))) >
		1e-3 ||
	    fabs(wire_scaled_seconds(p->min_rto_raw) -
		json_number_value(json_object_get(j, "min_rto_s"))) > 1e-3) {
		fail(c, "SESSION_ACCEPT policy differs");
		return false;
	}
	return true;
}

/*
 * Semantic payload fields of one frame (payload already inflated).
 * Returns true when everything recorded matches.
 */
static bool
fields_match(
    struct counts *c, uint8_t type, const uint8_t *p, size_t n, json_t *fl)
{
	struct wire_mtu_req rq;
	struct wire_mtu_res rs;
	struct wire_session_init si;
	struct wire_session_accept sa;
	struct wire_target tg;
	uint8_t v[4];
	int st;

	switch (type) {
	case WIRE_MTU_UP_REQ:
		st = wire_mtu_up_req_parse(p, n, &rq);
		if (rq.len != (size_t)jint(fl, "probe_size", -1))
			goto bad;
		if (n >= 5 &&
		    (rq.mode != jint(fl, "response_mode", -1) ||
			!hex32_eq(rq.code, jstr(fl, "probe_code_hex")) ||
			rq.filler_zero != jbool(fl, "filler_all_zero")))
			goto bad;
		return st == WIRE_OK || n < 5 || rq.mode > 1;
	case WIRE_MTU_UP_RES:
		if (wire_mtu_up_res_parse(p, n, &rs) != WIRE_OK ||
		    !hex32_eq(rs.code, jstr(fl, "probe_code_hex")) ||
		    rs.len != jint(fl, "echoed_len", -1))
			goto bad;
		return true;
	case WIRE_MTU_DOWN_REQ:
		wire_mtu_down_req_parse(p, n, &rq);
		if (rq.len != (size_t)jint(fl, "request_len", -1) ||
		    rq.mode != jint(fl, "response_mode", -1) ||
		    !hex32_eq(rq.code, jstr(fl, "probe_code_hex")) ||
		    rq.down != jint(fl, "requested_down", -1) ||
		    rq.filler_zero != jbool(fl, "filler_all_zero"))
			goto bad;
		return true;
	case WIRE_MTU_DOWN_RES:
		if (wire_mtu_down_res_parse(p, n, &rs) != WIRE_OK ||
		    !hex32_eq(rs.code, jstr(fl, "probe_code_hex")) ||
		    rs.len != jint(fl, "echoed_down", -1) ||
		    rs.payload_len - 6 != (size_t)jint(fl, "filler_len", -1) ||
		    rs.filler_zero != jbool(fl, "filler_all_zero"))
			goto bad;
		return true;
	case WIRE_SESSION_INIT:
		st = wire_session_init_parse(p, n, &si);
		if (n != 10)
			return st == WIRE_E_INVALID &&
			    (size_t)jint(fl, "len", -1) == n;
		if (si.mode != jint(fl, "response_mode", -1) ||
		    si.upload_mtu != jint(fl, "upload_mtu", -1) ||
		    si.download_mtu != jint(fl, "download_mtu", -1) ||
		    !hex_eq(si.verify, 4, jstr(fl, "verify_hex")) ||
		    (si.comp_pair >> 4) != jint(fl, "upload_comp", -1) ||
		    (si.comp_pair & 15) != jint(fl, "download_comp", -1))
			goto bad;
		return true;
	case WIRE_SESSION_ACCEPT:
		if (wire_session_accept_parse(p, n, &sa) != WIRE_OK ||
		    sa.session_id != jint(fl, "assigned_session_id", -1) ||
		    sa.cookie != jint(fl, "assigned_cookie", -1) ||
		    !hex_eq(sa.verify, 4, jstr(fl, "verify_hex")) ||
		    sa.has_policy != (n >= 20))
			goto bad;
		if (sa.has_policy)
			return policy_match(
			    c, &sa.policy, json_object_get(fl, "policy"));
		return true;
	case WIRE_SESSION_BUSY:
		if (wire_session_busy_parse(p, n, v) != WIRE_OK ||
		    !hex_eq(v, 4, jstr(fl, "verify_hex")))
			goto bad;
		return true;
	case WIRE_PING:
	case WIRE_PONG:
		if (wire_ping_check(p, n) != jbool(fl, "po_prefix_ok") ||
		    (n == 7 && !hex_eq(p + 3, 4, jstr(fl, "nonce_hex"))))
			goto bad;
		return true;
	case WIRE_ERROR_DROP:
		if (wire_error_drop_check(p, n) != jbool(fl, "inv_prefix_ok") ||
		    n != (size_t)jint(fl, "len", -1))
			goto bad;
		return true;
	case WIRE_SOCKS5_SYN:
		if (wire_target_parse(p, n, &tg) != WIRE_OK ||
		    tg.atyp != jint(fl, "atyp", -1) ||
		    tg.port != jint(fl, "port", -1))
			goto bad;
		if (tg.atyp == WIRE_ATYP_DOMAIN &&
		    strcmp((char *)tg.addr,
			jstr(fl, "addr") ? jstr(fl, "addr") : "") != 0)
			goto bad;
		if (tg.atyp == WIRE_ATYP_IPV4) {
			char ip[20];

			snprintf(ip, sizeof ip, "%u.%u.%u.%u", tg.addr[0],
			    tg.addr[1], tg.addr[2], tg.addr[3]);
			if (strcmp(ip,
				jstr(fl, "addr") ? jstr(fl, "addr") : "") != 0)
				goto bad;
		}
		return true;
	case WIRE_PACKED_CONTROL_BLOCKS:
		return blocks_match(c, p, n, fl);
	}
	return true;
bad:
	fail(c, "%s payload fields differ", wire_type_name(type));
	return false;
}

/* Our status must be in the class the capture's error text describes. */
static bool
reason_matches(int st, const char *err, bool in_zone)
{
	if (!in_zone)
		return st == WIRE_E_OUT_OF_ZONE;
	if (err == NULL)
		return false;
	if (strstr(err, "outside"))
		return st == WIRE_E_OUT_OF_ZONE;
	if (strstr(err, "no data labels"))
		return st == WIRE_E_NO_LABELS;
	/* Upstream rejects < 3 data characters before base36 even runs. */
	if (strstr(err, "base36"))
		return st == WIRE_E_BASE36 || st == WIRE_E_SHORT_LABEL;
	if (strstr(err, "shorter than 2") || strstr(err, "frame shorter"))
		return st == WIRE_E_TOO_SHORT || st == WIRE_E_SHORT_LABEL;
	if (strstr(err, "check byte"))
		return st == WIRE_E_CHECK;
	if (strstr(err, "unknown packet type"))
		return st == WIRE_E_TYPE;
	if (strstr(err, "aes-gcm") || strstr(err, "chacha"))
		return st == WIRE_E_DECRYPT;
	return false;
}

/*
 * The server answers a crafted s5 pre-session probe only when its payload
 * passes the checks the payload parsers implement.
 */
static void
check_presession_case(
    struct counts *c, json_t *line, json_t *dns, const struct wire_frame *f)
{
	json_t *cs = json_object_get(line, "case");
	const char *expect = cs ? jstr(cs, "expect") : NULL;
	struct wire_mtu_req rq;
	struct wire_session_init si;
	bool accepted, want;
	const char *answer;

	if (expect == NULL || jint(dns, "qtype", 0) != 16 ||
	    jint(dns, "qr", 0) != 0)
		return;
	switch (f->type) {
	case WIRE_MTU_UP_REQ:
		accepted = wire_mtu_up_req_parse(
			       f->payload, f->payload_len, &rq) == WIRE_OK;
		answer = "MTU_UP_RES";
		break;
	case WIRE_MTU_DOWN_REQ:
		accepted = wire_mtu_down_req_parse(
			       f->payload, f->payload_len, &rq) == WIRE_OK;
		answer = "MTU_DOWN_RES";
		break;
	case WIRE_SESSION_INIT:
		accepted = wire_session_init_parse(
			       f->payload, f->payload_len, &si) == WIRE_OK &&
		    f->session_id == 0;
		answer = "SESSION_ACCEPT";
		break;
	default:
		return;
	}
	want = strstr(expect, answer) != NULL &&
	    strncmp(expect, "NOERROR", 7) != 0;
	c->payload_checks++;
	if (accepted == want)
		c->payload_checks_ok++;
	else
		fail(c, "case %s: payload %s, server %s", jstr(cs, "name"),
		    accepted ? "accepted" : "rejected",
		    want ? "answered" : "did not answer");
}

static void
check_query(struct counts *c, json_t *line, json_t *dns, json_t *t,
    struct wire_cipher *ciph, const char *domain)
{
	static uint8_t buf[BUF_MAX], infl[BUF_MAX], nonce[32];
	static char qn[1024];
	const char *qname = jstr(dns, "qname"), *nhex;
	const char *domains[1] = {domain};
	json_t *cs = json_object_get(line, "case"), *ci;
	struct wire_frame f;
	struct err e;
	bool ok = jbool(t, "ok");
	bool in_zone =
	    json_object_get(t, "in_zone") == NULL || jbool(t, "in_zone");
	bool mixed;
	long n;
	int st;

	if (qname == NULL)
		qname = "";
	c->queries++;
	st = wire_decode_query_name(
	    qname, strlen(qname), domains, 1, ciph, buf, sizeof buf, &f, NULL);
	/* The capture's decoder speaks upstream: the FEC fork's types are
	 * unknown there (s5 fork_type_0x38_session_caps). Ours names them,
	 * and our server answers them as unknown (test-server-replay). */
	if (st == WIRE_OK && wire_type_fork(f.type) && !ok)
		st = WIRE_E_TYPE;
	if (!ok || !in_zone) {
		c->q_neg++;
		if (st != WIRE_OK &&
		    reason_matches(st, jstr(t, "error"), in_zone))
			c->q_neg_ok++;
		else
			fail(c, "negative query: got \"%s\", capture says %s",
			    wire_strerror(st),
			    jstr(t, "error") ? jstr(t, "error") :
					       "out of zone");
		return;
	}
	if (st != WIRE_OK) {
		fail(c, "query rejected: %s", wire_strerror(st));
		return;
	}
	if (!hex_eq(buf, f.hdr_len + f.payload_len, jstr(t, "frame_hex"))) {
		fail(c, "decrypted frame differs from frame_hex");
		return;
	}
	if (!frame_fields_match(c, &f, t))
		return;
	if (f.comp != 0) {
		c->inflated++;
		n = wire_decompress(
		    f.comp, f.payload, f.payload_len, infl, sizeof infl, &e);
		if (n < 0 ||
		    !hex_eq(infl, (size_t)n, jstr(t, "payload_inflated_hex"))) {
			fail(c, "inflated query payload differs: %s",
			    n < 0 ? e.msg : "bytes");
			return;
		}
		c->inflated_ok++;
		f.payload = infl;
		f.payload_len = (size_t)n;
	}
	if (json_object_get(t, "fields")) {
		c->fields++;
		if (fields_match(c, f.type, f.payload, f.payload_len,
			json_object_get(t, "fields")))
			c->fields_ok++;
	}
	check_presession_case(c, line, dns, &f);
	c->q_ok++;
	c->by_type[0][f.type]++;
	if (f.type == WIRE_PACKED_CONTROL_BLOCKS)
		c->blocks[0] += (int)wire_block_count(f.payload_len);

	/* Re-encode: same frame, same nonce -> the same QNAME. */
	st = wire_decode_query_name(
	    qname, strlen(qname), domains, 1, ciph, buf, sizeof buf, &f, NULL);
	ci = json_object_get(t, "cipher");
	nhex = ci ? jstr(ci, "nonce_hex") : NULL;
	if (nhex != NULL &&
	    hex_decode(nhex, strlen(nhex), nonce, sizeof nonce) !=
		wire_cipher_nonce_len(wire_cipher_method(ciph))) {
		fail(c, "bad nonce_hex");
		return;
	}
	c->reenc++;
	n = wire_encode_query_name(
	    &f, ciph, nhex ? nonce : NULL, domain, qn, sizeof qn);
	mixed = cs && jstr(cs, "name") &&
	    strcmp(jstr(cs, "name"), "mixed_case_qname") == 0;
	if (n < 0 || (mixed ? strcasecmp(qn, qname) : strcmp(qn, qname)) != 0)
		fail(c, "re-encoded QNAME differs:\n#   got  %s\n#   want %s",
		    n < 0 ? "(error)" : qn, qname);
	else
		c->reenc_ok++;
}

static void
check_response(struct counts *c, json_t *t)
{
	static uint8_t buf[BUF_MAX], infl[BUF_MAX];
	const char *fh = jstr(t, "frame_hex");
	struct wire_frame f;
	struct err e;
	long n;
	int st;

	c->resp++;
	if (fh == NULL || !jbool(t, "ok"))
		return;
	c->r_frames++;
	n = hex_decode(fh, strlen(fh), buf, sizeof buf);
	if (n < 0) {
		fail(c, "bad frame_hex");
		return;
	}
	st = wire_frame_parse(buf, (size_t)n, &f);
	if (st != WIRE_OK) {
		fail(c, "response frame rejected: %s", wire_strerror(st));
		return;
	}
	if (!frame_fields_match(c, &f, t))
		return;
	if (f.comp != 0) {
		c->inflated++;
		n = wire_decompress(
		    f.comp, f.payload, f.payload_len, infl, sizeof infl, &e);
		if (n < 0 ||
		    !hex_eq(infl, (size_t)n, jstr(t, "payload_inflated_hex"))) {
			fail(c, "inflated response payload differs: %s",
			    n < 0 ? e.msg : "bytes");
			return;
		}
		c->inflated_ok++;
		f.payload = infl;
		f.payload_len = (size_t)n;
	}
	if (json_object_get(t, "fields")) {
		c->fields++;
		if (fields_match(c, f.type, f.payload, f.payload_len,
			json_object_get(t, "fields")))
			c->fields_ok++;
	}
	c->r_ok++;
	c->by_type[1][f.type]++;
	if (f.type == WIRE_PACKED_CONTROL_BLOCKS)
		c->blocks[1] += (int)wire_block_count(f.payload_len);
}

/*
 * The header's stats as flat "query:TYPE" / "response:TYPE" keys: s1..s7
 * write them so, s8 and s9 as {"query": {TYPE: n}, "response": {...}}.
 * Returns a new reference.
 */
static json_t *
stats_flat(json_t *stats)
{
	static const char *const dirs[] = {"query", "response"};
	json_t *flat, *sub, *v;
	const char *k;
	char *fk;
	size_t d;

	if (!json_is_object(json_object_get(stats, "query")) &&
	    !json_is_object(json_object_get(stats, "response")))
		return json_incref(stats);
	flat = json_object();
	for (d = 0; d < nitems(dirs); d++) {
		sub = json_object_get(stats, dirs[d]);
		json_object_foreach(sub, k, v)
		{
			fk = xasprintf("%s:%s", dirs[d], k);
			json_object_set(flat, fk, v);
			free(fk);
		}
	}
	return flat;
}

/* Packets the stats count (packed blocks are not packets). */
static long long
stats_total(json_t *stats)
{
	json_t *flat = stats_flat(stats), *v;
	const char *k;
	long long n = 0;

	json_object_foreach(flat, k, v)
	{
		if ((strncmp(k, "query:", 6) == 0 ||
			strncmp(k, "response:", 9) == 0) &&
		    strstr(k, ":packed-blocks") == NULL)
			n += json_integer_value(v);
	}
	json_decref(flat);
	return n;
}

/*
 * The header's stats count packet types per direction, as the capture's
 * own decoder saw them; our decode of the same lines must count the same.
 */
static bool
stats_match(struct counts *c, json_t *stats_in)
{
	json_t *stats = stats_flat(stats_in);
	const char *key, *k;
	json_t *v;
	int want, got, dir, seen[2][256] = {{0}}, no_frame = 0;
	unsigned t;
	bool ok = true;

	json_object_foreach(stats, key, v)
	{
		/* key drives the iteration: never modify it. */
		k = key;
		want = (int)json_integer_value(v);
		if (strncmp(k, "query:", 6) == 0) {
			dir = 0;
			k += 6;
		} else if (strncmp(k, "response:", 9) == 0) {
			dir = 1;
			k += 9;
		} else
			continue; /* the reference's own re-encode notes */
		if (strcmp(k, "UNDECODED") == 0)
			got = dir == 0 ? c->q_neg : -1;
		else if (strcmp(k, "packed-blocks") == 0)
			got = c->blocks[dir];
		else if (strncmp(k, "no-tunnel-frame", 15) == 0) {
			no_frame += want;
			continue;
		} else {
			for (t = 0; t < 256; t++)
				if (wire_type_name((uint8_t)t) &&
				    strcmp(wire_type_name((uint8_t)t), k) == 0)
					break;
			if (t == 256) {
				fail(c, "stats: unknown key %s", k);
				ok = false;
				continue;
			}
			got = c->by_type[dir][t];
			seen[dir][t] = 1;
		}
		if (got != want) {
			fail(c, "stats %s%s: capture %d, we %d",
			    dir ? "response:" : "query:", k, want, got);
			ok = false;
		}
	}
	for (dir = 0; dir < 2; dir++)
		for (t = 0; t < 256; t++)
			if (c->by_type[dir][t] && !seen[dir][t]) {
				fail(c, "stats lack %d %s", c->by_type[dir][t],
				    wire_type_name((uint8_t)t));
				ok = false;
			}
	if (no_frame != c->no_frame) {
		fail(c, "responses without frame: capture %d, we %d", no_frame,
		    c->no_frame);
		ok = false;
	}
	json_decref(stats);
	return ok;
}

static int
run_file(const char *base, struct counts *tot)
{
	struct icap cap;
	json_t *hdr, *line, *dec, *dns, *t;
	struct wire_cipher *ciph = NULL;
	struct counts c = {0};
	struct err e = {""};
	const char *key, *domain, *dir;
	size_t i;
	long long want_packets;

	cur_file = base;
	cur_line = 1;
	if (icap_load(base, &cap) == -1)
		return -1;
	hdr = cap.hdr;
	key = jstr(hdr, "key");
	domain = jstr(hdr, "domain");
	ciph = wire_cipher_new((int)jint(hdr, "method", -1), key ? key : "",
	    key ? strlen(key) : 0, &e);
	if (ciph == NULL || domain == NULL) {
		tap_ok(0, "%s: header (%s)", base, ciph ? "no domain" : e.msg);
		cap.nlines = 0;
	}
	for (i = 0; i < cap.nlines; i++) {
		line = cap.lines[i];
		cur_line = cap.lineno[i];
		dir = jstr(line, "dir");
		dec = json_object_get(line, "decoded");
		dns = json_object_get(dec, "dns");
		t = json_object_get(dec, "tunnel");
		if (dir && strcmp(dir, "query") == 0 && json_is_object(t))
			check_query(&c, line, dns, t, ciph, domain);
		else if (dir && strcmp(dir, "response") == 0) {
			if (json_is_object(t))
				check_response(&c, t);
			else {
				c.resp++;
				c.no_frame++;
			}
		}
	}
	tap_diag("%s: %d queries (%d decoded, %d negative rejected of %d, "
		 "%d/%d re-encoded exactly), %d responses (%d frames), "
		 "%d/%d inflated, %d/%d field sets, %d/%d s5 payload checks",
	    base, c.queries, c.q_ok, c.q_neg_ok, c.q_neg, c.reenc_ok, c.reenc,
	    c.resp, c.r_frames, c.inflated_ok, c.inflated, c.fields_ok,
	    c.fields, c.payload_checks_ok, c.payload_checks);
	tap_ok(c.queries > 0 && c.q_ok + c.q_neg == c.queries &&
		c.q_neg_ok == c.q_neg,
	    "%s: every query decodes or is rejected "
	    "for the recorded reason",
	    base);
	tap_ok(c.reenc > 0 && c.reenc_ok == c.reenc,
	    "%s: every accepted query re-encodes to the captured QNAME", base);
	tap_ok(c.r_frames > 0 && c.r_ok == c.r_frames,
	    "%s: every response frame parses with the recorded fields", base);
	tap_ok(c.inflated_ok == c.inflated && c.fields_ok == c.fields &&
		c.payload_checks_ok == c.payload_checks,
	    "%s: decompression and payload fields match", base);
	/* s8 and s9 give no packet_count: their stats count every packet. */
	want_packets = jint(hdr, "packet_count", -1);
	if (want_packets < 0)
		want_packets = stats_total(json_object_get(hdr, "stats"));
	tap_ok(c.queries + c.resp == want_packets,
	    "%s: all %lld packets seen%s", base, want_packets,
	    json_object_get(hdr, "packet_count") ? "" :
						   " (header stats total)");
	tap_ok(stats_match(&c, json_object_get(hdr, "stats")),
	    "%s: per-type counts equal the header's stats", base);
	tap_ok(c.fail == 0, "%s: no mismatches", base);
	tot->queries += c.queries;
	tot->q_ok += c.q_ok;
	tot->q_neg += c.q_neg;
	tot->q_neg_ok += c.q_neg_ok;
	tot->reenc_ok += c.reenc_ok;
	tot->resp += c.resp;
	tot->r_frames += c.r_frames;
	tot->r_ok += c.r_ok;
	tot->inflated_ok += c.inflated_ok;
	tot->fields_ok += c.fields_ok;
	tot->payload_checks_ok += c.payload_checks_ok;
	tot->fail += c.fail;
	icap_free(&cap);
	wire_cipher_free(ciph);
	return 0;
}

int
main(void)
{
	char **names;
	long nn, i;
	struct counts tot = {0};

	if ((nn = icap_list(&names)) < 0)
		return tap_done();
	for (i = 0; i < nn; i++)
		run_file(names[i], &tot);
	icap_free_names(names, nn);
	tap_diag(
	    "total: %d queries, %d decoded, %d negatives rejected, "
	    "%d QNAMEs re-encoded exactly, %d response frames, %d inflated, "
	    "%d field sets",
	    tot.queries, tot.q_ok, tot.q_neg_ok, tot.reenc_ok, tot.r_ok,
	    tot.inflated_ok, tot.fields_ok);
	/* The README's file table: 15 files, 3346 packets, 12 + 6 crafted
	 * failures in s5; more captures may be added later. */
	tap_ok(nn >= 15, "all 15 capture files present (%ld)", nn);
	tap_ok(tot.queries + tot.resp >= 3346,
	    "at least 3346 packets checked (%d)", tot.queries + tot.resp);
	tap_ok(tot.q_neg >= 18, "the 18 crafted failures are rejected (%d)",
	    tot.q_neg);
	tap_is_int(tot.q_neg_ok, tot.q_neg, "each for the recorded reason");
	tap_is_int(tot.fail, 0, "no mismatch anywhere");
	return tap_done();
}
