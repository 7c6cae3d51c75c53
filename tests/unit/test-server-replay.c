/*
 * test-server-replay.c — every query the real upstream client (and the
 * crafted negative cases) sent in $MDNS_SHARED/interop (every .jsonl file) goes through
 * our server's packet handler, in capture order, against a fresh server
 * with the capture's domain, method and key. Our answer must have the same
 * class as the real server's: silence or not, RCODE, AA and RA, tunnel
 * frame or empty. Frames are decoded with the client-side reader and
 * compared where the real server's answer is deterministic: MTU probe
 * answers (type, code, echoed length), SESSION_ACCEPT (session id, verify
 * code, compression pair, policy bytes), ERROR_DROP, SESSION_BUSY; every
 * post-session answer must carry the session's id and cookie. The cookie
 * of a new session is taken from the capture (eng_server_force_cookie), so
 * the client's later queries validate as they did against upstream.
 *
 * In s5 the SOCKS5 denials must reach the client: each stream the real
 * server refused gets SOCKS5_RULESET_DENIED from ours too (alone or as a
 * packed block) before its _ACK is replayed.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proto/dns.h"
#include "engine/server.h"
#include "proto/wire.h"
#include "tests/tap.h"

struct cmp {
	unsigned queries, class_bad, frame_bad, det_checked, sess_checked;
	unsigned denials_seen, denials_expected;
	char first[512];
};

static void
note(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	if (c->first[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->first, sizeof c->first, fmt, ap);
	va_end(ap);
}

static int
hexbytes(const char *h, uint8_t **out, size_t *n)
{
	size_t l = strlen(h);

	*out = xmalloc(l / 2 + 1);
	if (hex_decode(h, l, *out, l / 2 + 1) < 0) {
		free(*out);
		return -1;
	}
	*n = l / 2;
	return 0;
}

static json_t *
jget(json_t *o, const char *path)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && o != NULL;
	     tok = strtok_r(NULL, ".", &save))
		o = json_object_get(o, tok);
	return o;
}

static long long
jint(json_t *o, const char *path, long long dflt)
{
	json_t *v = jget(o, path);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* Decode a tunnel answer's frame; returns 0 and fills f (payload points
 * into buf). */
static int
decode_answer(const uint8_t *msg, size_t len, int b64, uint8_t *buf, size_t cap,
    struct wire_frame *f)
{
	struct dns_answer a;

	if (dns_answer_parse(msg, len, b64 ? DNS_RESP_BASE64 : DNS_RESP_RAW,
		buf, cap, &a, NULL) != DNS_ANS_FRAME)
		return -1;
	return wire_frame_parse(buf, a.frame_len, f) == WIRE_OK ? 0 : -1;
}

/* Set the bit of every stream a RULESET_DENIED (alone or packed) names. */
static void
mark_denied(const struct wire_frame *f, int *bits)
{
	struct wire_block b;
	size_t i;

	if (f->type == WIRE_SOCKS5_RULESET_DENIED)
		bits[f->stream_id / 8] |= 1 << (f->stream_id % 8);
	if (f->type != WIRE_PACKED_CONTROL_BLOCKS)
		return;
	for (i = 0;
	     wire_block_get(f->payload, f->payload_len, i, &b) == WIRE_OK; i++)
		if (b.type == WIRE_SOCKS5_RULESET_DENIED)
			bits[b.stream_id / 8] |= 1 << (b.stream_id % 8);
}

static void
replay_file(const char *path, const char *name)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	json_t **lines = NULL, *hdr = NULL;
	size_t nlines = 0, i, j;
	struct cfg_server cfg;
	struct eng_server *srv;
	struct err e = {""};
	struct cmp c;
	static uint8_t out[65536], fb[65536], fb2[65536];
	uint8_t *qw, *rw;
	size_t ql, rl;
	int denied[65536 / 8 + 1];
	int b64sess[256];

	memset(&c, 0, sizeof c);
	memset(denied, 0, sizeof denied);
	memset(b64sess, 0, sizeof b64sess);
	if (fp == NULL) {
		tap_ok(0, "%s: open", name);
		return;
	}
	while (getline(&line, &cap, fp) > 0) {
		json_t *jl = json_loads(line, 0, NULL);

		if (jl == NULL)
			continue;
		if (hdr == NULL) {
			hdr = jl;
			continue;
		}
		lines = xreallocarray(lines, nlines + 1, sizeof *lines);
		lines[nlines++] = jl;
	}
	free(line);
	fclose(fp);

	cfg_server_defaults(&cfg);
	free(cfg.domains);
	cfg.domains = xcalloc(2, sizeof(char *));
	cfg.domains[0] = xstrdup(json_string_value(jget(hdr, "domain")));
	cfg.ndomains = 1;
	cfg.method = (int)jint(hdr, "method", 1);
	cfg.key = xstrdup(json_string_value(jget(hdr, "key")));
	cfg.max_packets_per_batch = 10;
	srv = eng_server_new(NULL, &cfg, &e);
	tap_ok(srv != NULL, "%s: server created %s", name, e.msg);
	if (srv == NULL)
		goto out;

	for (i = 0; i < nlines; i++) {
		json_t *q = lines[i], *r = NULL, *rt, *qt;
		const char *dir = json_string_value(json_object_get(q, "dir"));
		long long n = jint(q, "n", -1);
		size_t an;
		int qtype, rtype, rb64;
		struct wire_frame of, rf;
		uint16_t oflags, rflags;

		if (dir == NULL || strcmp(dir, "query") != 0)
			continue;
		for (j = i + 1; j < nlines; j++) {
			json_t *cand = lines[j];

			if (strcmp(
				json_string_value(json_object_get(cand, "dir")),
				"response") == 0 &&
			    jint(cand, "decoded.answers_query_n", -2) == n) {
				r = cand;
				break;
			}
		}
		qt = jget(q, "decoded.tunnel");
		qtype = (int)jint(qt, "packet_type", -1);
		/* A new session: make ours hand out the captured cookie. */
		if (qtype == WIRE_SESSION_INIT && r != NULL &&
		    jint(r, "decoded.tunnel.packet_type", -1) ==
			WIRE_SESSION_ACCEPT)
			eng_server_force_cookie(srv,
			    (int)jint(r,
				"decoded.tunnel.fields.assigned_cookie", -1));
		if (hexbytes(json_string_value(json_object_get(q, "wire")), &qw,
			&ql) == -1)
			continue;
		an = eng_server_handle(srv, qw, ql, out, sizeof out);
		free(qw);
		c.queries++;
		if (r == NULL) {
			/* s6 drops answers at the capture point only. */
			if (an != 0 && strstr(name, "s6") == NULL &&
			    strstr(name, "s7") == NULL) {
				c.class_bad++;
				note(&c,
				    "n=%lld: we answered, upstream did not", n);
			}
			continue;
		}
		if (an == 0) {
			c.class_bad++;
			note(&c, "n=%lld: silence, upstream answered", n);
			continue;
		}
		hexbytes(
		    json_string_value(json_object_get(r, "wire")), &rw, &rl);
		oflags = be16_load(out + 2);
		rflags = be16_load(rw + 2);
		if ((oflags & (DNS_F_RCODE | DNS_F_AA | DNS_F_RA | DNS_F_QR)) !=
			(rflags &
			    (DNS_F_RCODE | DNS_F_AA | DNS_F_RA | DNS_F_QR)) ||
		    (be16_load(out + 6) > 0) != (be16_load(rw + 6) > 0) ||
		    be16_load(out) != be16_load(rw)) {
			c.class_bad++;
			note(&c,
			    "n=%lld: flags %04x an %u, upstream %04x an %u", n,
			    oflags, be16_load(out + 6), rflags,
			    be16_load(rw + 6));
			free(rw);
			continue;
		}
		rt = jget(r, "decoded.tunnel");
		if (!json_is_object(rt)) {
			free(rw);
			continue;
		}
		rb64 = strcmp(json_string_value(
				  json_object_get(rt, "txt_encoding")),
			   "base64") == 0;
		if (decode_answer(out, an, rb64, fb, sizeof fb, &of) == -1 ||
		    decode_answer(rw, rl, rb64, fb2, sizeof fb2, &rf) == -1) {
			c.frame_bad++;
			note(&c, "n=%lld: our answer does not decode", n);
			free(rw);
			continue;
		}
		rtype = rf.type;
		switch (rtype) {
		case WIRE_MTU_UP_RES:
		case WIRE_MTU_DOWN_RES:
		case WIRE_SESSION_ACCEPT:
		case WIRE_SESSION_BUSY:
			c.det_checked++;
			if (of.type != rf.type ||
			    of.session_id != rf.session_id ||
			    of.payload_len != rf.payload_len ||
			    memcmp(of.payload, rf.payload,
				rtype == WIRE_MTU_DOWN_RES ?
				    6 :
				    rf.payload_len) != 0) {
				/* ACCEPT: byte 1 (cookie) is forced equal. */
				c.frame_bad++;
				note(&c, "n=%lld: %s differs (ours %s len %zu)",
				    n, wire_type_name(rtype),
				    wire_type_name(of.type), of.payload_len);
			}
			if (rtype == WIRE_SESSION_ACCEPT)
				b64sess[rf.payload[0]] = rb64;
			break;
		case WIRE_ERROR_DROP:
			c.det_checked++;
			if (of.type != WIRE_ERROR_DROP ||
			    of.session_id != rf.session_id ||
			    !wire_error_drop_check(
				of.payload, of.payload_len)) {
				c.frame_bad++;
				note(&c, "n=%lld: expected ERROR_DROP, got %s",
				    n, wire_type_name(of.type));
			}
			break;
		default:
			/* Post-session: our frame, for this session. */
			c.sess_checked++;
			if (of.session_id != rf.session_id ||
			    of.cookie != rf.cookie) {
				c.frame_bad++;
				note(&c,
				    "n=%lld: session/cookie %u/%u, "
				    "upstream %u/%u",
				    n, of.session_id, of.cookie, rf.session_id,
				    rf.cookie);
			}
			break;
		}
		/* Denials: remember what ours delivered per stream. */
		mark_denied(&of, denied);
		if (qtype == WIRE_SOCKS5_RULESET_DENIED_ACK) {
			unsigned sid = (unsigned)jint(qt, "stream_id", 0);

			c.denials_expected++;
			if (denied[sid / 8] & (1 << (sid % 8)))
				c.denials_seen++;
			else
				note(&c, "n=%lld: stream %u denial not seen", n,
				    sid);
		}
		free(rw);
	}
	tap_ok(c.class_bad == 0,
	    "%s: %u queries, answer class as upstream "
	    "(%u differ)",
	    name, c.queries, c.class_bad);
	tap_ok(c.frame_bad == 0,
	    "%s: frames: %u deterministic and %u "
	    "post-session checked (%u differ)",
	    name, c.det_checked, c.sess_checked, c.frame_bad);
	if (c.first[0] != '\0')
		tap_diag("%s: first difference: %s", name, c.first);
	if (strstr(name, "s5-negative-xor") != NULL) {
		tap_ok(c.denials_expected == 2 && c.denials_seen == 2,
		    "%s: both SOCKS5 denials delivered (%u/%u)", name,
		    c.denials_seen, c.denials_expected);
		tap_ok(eng_server_stats(srv)->filter_denied == 2,
		    "%s: two targets refused by the filter", name);
	}
	eng_server_free(srv);
out:
	cfg_server_clear(&cfg);
	for (i = 0; i < nlines; i++)
		json_decref(lines[i]);
	free(lines);
	json_decref(hdr);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(void)
{
	char dir[1024], path[1400];
	char *names[64];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/interop", tap_shared_dir());
	if ((d = opendir(dir)) == NULL) {
		tap_ok(0, "open %s", dir);
		return tap_done();
	}
	while ((de = readdir(d)) != NULL && n < nitems(names))
		if (strstr(de->d_name, ".jsonl") != NULL)
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmpstr);
	tap_ok(n >= 15, "found %zu capture files", n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		replay_file(path, names[i]);
		free(names[i]);
	}
	return tap_done();
}
