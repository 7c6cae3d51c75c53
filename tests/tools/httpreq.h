/* SPDX-License-Identifier: MIT */
/*
 * httpreq.h — the HTTP/1.x request-head parser of tests/tools/http-fixture,
 * header only so that tests/fuzz/fuzz-httpreq.c can include it.
 *
 * It parses one request line and its header fields, strictly: CRLF or bare
 * LF line ends, no obsolete line folding, at most HREQ_MAX_HEAD bytes. It
 * keeps only what the fixture acts on (method, path, query, version,
 * Content-Length, Connection, Expect, Transfer-Encoding) and ignores other
 * fields. It does not decode percent escapes or chunked bodies.
 */
#ifndef MDNS_TESTS_HTTPREQ_H
#define MDNS_TESTS_HTTPREQ_H

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

#define HREQ_MAX_HEAD 16384

struct hreq {
	char method[16];
	char path[1024];
	char query[1024];
	int minor;		/* HTTP/1.<minor> */
	int64_t content_length; /* -1 when absent */
	int chunked;		/* Transfer-Encoding present (not supported) */
	int conn_close;		/* Connection: close */
	int conn_keep_alive;	/* Connection: keep-alive */
	int expect_continue;	/* Expect: 100-continue */
};

/* Does the field value v (length n) contain token tok (comma list)? */
static inline int
hreq_has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* Copy [s, s+n) into dst of size cap; -1 when it does not fit. */
static inline int
hreq_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/*
 * Parse the request head at the start of buf (len bytes). Returns the
 * length of the head (through the blank line) when complete, 0 when more
 * bytes are needed, or -1 with a reason in e when the request is malformed
 * or its head exceeds HREQ_MAX_HEAD.
 */
static inline long
hreq_parse(const char *buf, size_t len, struct hreq *r, struct err *e)
{
	const char *p, *end, *eol, *sp1, *sp2, *t, *q, *colon;
	size_t head_len, n;
	int first = 1;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	/* Find the end of the head: an empty line. */
	for (n = 0; n < len; n++) {
		if (buf[n] != '\n')
			continue;
		if (n + 1 < len && buf[n + 1] == '\n')
			break;
		if (n + 2 < len && buf[n + 1] == '\r' && buf[n + 2] == '\n') {
			n++;
			break;
		}
	}
	if (n >= len) {
		if (len >= HREQ_MAX_HEAD)
			return err_set(e, "request head larger than %d bytes",
			    HREQ_MAX_HEAD);
		return 0;
	}
	head_len = n + 2;
	if (head_len > HREQ_MAX_HEAD)
		return err_set(
		    e, "request head larger than %d bytes", HREQ_MAX_HEAD);
	p = buf;
	end = buf + head_len;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (memchr(p, '\0', n) != NULL || memchr(p, '\r', n) != NULL)
			return err_set(e, "control character in request head");
		if (first) {
			first = 0;
			sp1 = memchr(p, ' ', n);
			if (sp1 == NULL)
				return err_set(e, "bad request line");
			sp2 = memchr(sp1 + 1, ' ', (size_t)(p + n - sp1 - 1));
			if (sp2 == NULL || sp2 == sp1 + 1)
				return err_set(e, "bad request line");
			if (hreq_copy(r->method, sizeof r->method, p,
				(size_t)(sp1 - p)) < 0 ||
			    sp1 == p)
				return err_set(e, "bad method");
			if ((size_t)(p + n - sp2 - 1) != 8 ||
			    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
			    (sp2[8] != '0' && sp2[8] != '1'))
				return err_set(e, "unsupported HTTP version");
			r->minor = sp2[8] - '0';
			t = sp1 + 1;
			/* absolute-form (through a proxy): drop scheme+host */
			if ((size_t)(sp2 - t) > 7 &&
			    strncasecmp(t, "http://", 7) == 0) {
				t = memchr(t + 7, '/', (size_t)(sp2 - t - 7));
				if (t == NULL)
					t = sp2;
			}
			if (t == sp2 || *t != '/')
				return err_set(e, "bad request target");
			q = memchr(t, '?', (size_t)(sp2 - t));
			if (hreq_copy(r->path, sizeof r->path, t,
				(size_t)((q ? q : sp2) - t)) < 0 ||
			    (q &&
				hreq_copy(r->query, sizeof r->query, q + 1,
				    (size_t)(sp2 - q - 1)) < 0))
				return err_set(e, "request target too long");
		} else {
			const char *v;
			size_t vl, nl;

			colon = memchr(p, ':', n);
			if (colon == NULL || colon == p ||
			    memchr(p, ' ', (size_t)(colon - p)) != NULL ||
			    p[0] == '\t')
				return err_set(e, "bad header field");
			nl = (size_t)(colon - p);
			v = colon + 1;
			vl = (size_t)(p + n - v);
			while (vl > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			while (
			    vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (nl == 14 &&
			    strncasecmp(p, "Content-Length", 14) == 0) {
				int64_t cl = 0;
				size_t i;

				if (vl == 0 || vl > 18)
					return err_set(e, "bad Content-Length");
				for (i = 0; i < vl; i++) {
					if (v[i] < '0' || v[i] > '9')
						return err_set(
						    e, "bad Content-Length");
					cl = cl * 10 + (v[i] - '0');
				}
				if (r->content_length >= 0 &&
				    r->content_length != cl)
					return err_set(
					    e, "conflicting Content-Length");
				r->content_length = cl;
			} else if (nl == 10 &&
			    strncasecmp(p, "Connection", 10) == 0) {
				r->conn_close |= hreq_has_token(v, vl, "close");
				r->conn_keep_alive |=
				    hreq_has_token(v, vl, "keep-alive");
			} else if (nl == 6 &&
			    strncasecmp(p, "Expect", 6) == 0) {
				r->expect_continue |=
				    hreq_has_token(v, vl, "100-continue");
			} else if (nl == 17 &&
			    strncasecmp(p, "Transfer-Encoding", 17) == 0) {
				r->chunked = 1;
			}
		}
		p = eol + 1;
	}
	if (first)
		return err_set(e, "empty request");
	return (long)head_len;
}

#endif
