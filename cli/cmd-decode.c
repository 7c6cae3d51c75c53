/* SPDX-License-Identifier: MIT */
/*
 * cmd-decode.c — decode captured DNS messages: the DNS fields and the
 * MasterDnsVPN frame inside.
 *
 * Messages come as hex, from the arguments or one per line on stdin
 * (blank lines and '#' comments skipped). A query (QR=0) is decoded as the
 * server does: domain match, base36, decryption with the key and method,
 * frame header; a response (QR=1) as the client does: TXT answers, chunk
 * reassembly, raw or base64 (auto: the one that yields a valid frame). The
 * payload is printed decompressed. The key never reaches the output.
 *
 * --config reads a client or server config through common/config.h; the
 * command line's --domain, --method and --key win over it.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "proto/dns.h"
#include "proto/wire.h"

#define DEC_MAX_DOMAINS 16
#define DEC_MSG_MAX	65536

enum { OPT_KEYFILE = ARGS_LONG, OPT_MODE };

static const struct args_opt decode_opts[] = {
    {'d', "domain", "NAME", ARGS_REPEAT, "tunnel domain (repeatable)"},
    {'m', "method", "N", 0, "encryption method 0..5 (queries only)"},
    {'k', "key", "TEXT", 0,
	"encryption key text (other users can read it\n"
	"in ps: prefer --key-file)"},
    {OPT_KEYFILE, "key-file", "FILE", 0,
	"read the key text from FILE (the safe way)"},
    {OPT_MODE, "mode", "auto|raw|base64", 0,
	"answers: auto (default: the encoding that\n"
	"yields a valid frame), raw or base64"},
    {0, NULL, NULL, 0, NULL},
};

struct dec {
	char *domains[DEC_MAX_DOMAINS];
	size_t ndomains;
	int method; /* -1 = not given */
	char *key;
	size_t keylen;
	int mode; /* -1 auto, 0 raw, 1 base64 */
	int json;
	struct wire_cipher *cipher;
	uint8_t msg[DEC_MSG_MAX], frame[DEC_MSG_MAX];
	uint8_t *inflated; /* WIRE_DECOMP_MAX bytes */
};

static int
dec_add_domain(struct dec *d, const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || d->ndomains >= DEC_MAX_DOMAINS)
		return -1;
	d->domains[d->ndomains++] = xstrndup(s, n);
	return 0;
}

/* Read a whole small text file, trimmed; NULL with e set. */
static char *
dec_read_text(const char *path, struct err *e)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	char *t;

	if (f == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	t = xstrdup(str_trim(buf));
	/* It is the key: leave no copy on the stack. */
	explicit_bzero(buf, sizeof buf);
	return t;
}

/*
 * Fill what the command line left open from a client or server config
 * (common/config.h: the same reader as every other command).
 */
static int
dec_config(struct dec *d, const char *path, int have_dom, int have_method,
    int have_key, struct err *e)
{
	struct cfg *c;
	char **doms;
	const char *key;
	size_t i, ndoms;

	if (cfg_load(path, NULL, NULL, &c, e) != 0)
		return -1;
	doms = c->role == CFG_SERVER ? c->server.domains : c->client.domains;
	ndoms = c->role == CFG_SERVER ? c->server.ndomains : c->client.ndomains;
	key = c->role == CFG_SERVER ? c->server.key : c->client.key;
	for (i = 0; !have_dom && i < ndoms; i++)
		if (dec_add_domain(d, doms[i], strlen(doms[i])) < 0)
			break;
	if (!have_method)
		d->method =
		    c->role == CFG_SERVER ? c->server.method : c->client.method;
	if (!have_key && key != NULL && *key != '\0') {
		free(d->key);
		d->key = xstrdup(key);
	}
	if (d->mode < 0)
		d->mode = c->role == CFG_SERVER ? 0 : c->client.base64;
	cfg_free(c);
	return 0;
}

static json_t *
jhex(const uint8_t *p, size_t n)
{
	char *h = xmalloc(2 * n + 1);
	json_t *j;

	hex_encode(p, n, h);
	j = json_string(h);
	free(h);
	return j;
}

/* The frame object; fields the type lacks are null. */
static json_t *
dec_frame_json(
    const struct wire_frame *f, int check_ok, const uint8_t *pl, size_t pl_len)
{
	unsigned ext = wire_type_ext(f->type);
	const char *name = wire_type_name(f->type);
	json_t *o = json_object();

	json_object_set_new(o, "session", json_integer(f->session_id));
	json_object_set_new(o, "type", json_integer(f->type));
	json_object_set_new(
	    o, "type_name", name ? json_string(name) : json_null());
	json_object_set_new(o, "stream",
	    ext & WIRE_EXT_STREAM ? json_integer(f->stream_id) : json_null());
	json_object_set_new(
	    o, "seq", ext & WIRE_EXT_SEQ ? json_integer(f->seq) : json_null());
	json_object_set_new(o, "frag",
	    ext & WIRE_EXT_FRAG ? json_integer(f->frag_id) : json_null());
	json_object_set_new(o, "total",
	    ext & WIRE_EXT_FRAG ? json_integer(f->frag_total) : json_null());
	json_object_set_new(o, "comp",
	    ext & WIRE_EXT_COMP ? json_integer(f->comp) : json_null());
	json_object_set_new(o, "cookie", json_integer(f->cookie));
	json_object_set_new(o, "check_ok", json_boolean(check_ok));
	json_object_set_new(
	    o, "payload_hex", pl ? jhex(pl, pl_len) : json_null());
	return o;
}

/*
 * Decompress a parsed frame's payload when its C byte says so. Returns the
 * payload to print (f's own or d->inflated) or NULL with e set.
 */
static const uint8_t *
dec_payload(
    struct dec *d, const struct wire_frame *f, size_t *len, struct err *e)
{
	long n;

	if (f->comp == 0 || !(wire_type_ext(f->type) & WIRE_EXT_COMP)) {
		*len = f->payload_len;
		return f->payload;
	}
	if (d->inflated == NULL)
		d->inflated = xmalloc(WIRE_DECOMP_MAX);
	n = wire_decompress(f->comp, f->payload, f->payload_len, d->inflated,
	    WIRE_DECOMP_MAX, e);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return d->inflated;
}

/*
 * A name from the wire as printable ASCII: bytes outside '!'..'~' and the
 * backslash become \DDD (RFC 1035 presentation style), so a hostile name
 * can neither drive the terminal nor go missing from the JSON (jansson
 * refuses strings that are not UTF-8).
 */
static json_t *
jname(const char *s, size_t n)
{
	char *t = xmalloc(4 * n + 1);
	size_t i, o = 0;
	unsigned char c;
	json_t *j;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c > ' ' && c < 0x7f && c != '\\') {
			t[o++] = (char)c;
			continue;
		}
		t[o++] = '\\';
		t[o++] = (char)('0' + c / 100);
		t[o++] = (char)('0' + c / 10 % 10);
		t[o++] = (char)('0' + c % 10);
	}
	t[o] = '\0';
	j = json_string(t);
	free(t);
	return j;
}

/* Decode one hex message; prints it; returns 1 when fully decoded. */
static int
dec_one(struct dec *d, const char *hex, size_t hexlen, const char *where)
{
	struct err e = {""};
	struct wire_frame f;
	struct dns_query q;
	struct dns_answer a;
	json_t *o = json_object(), *dj = json_null(), *fj = NULL;
	const uint8_t *pl = NULL;
	size_t pl_len = 0;
	char errbuf[ERR_MSG_MAX + 64] = "";
	long n;
	int ok = 0, st, qr;

	n = hex_decode(hex, hexlen, d->msg, sizeof d->msg);
	if (n < 0) {
		snprintf(errbuf, sizeof errbuf,
		    "not hex (odd length, bad "
		    "digit or over %d bytes)",
		    DEC_MSG_MAX);
		goto out;
	}
	if (n < DNS_HDR_LEN) {
		snprintf(errbuf, sizeof errbuf,
		    "%ld bytes: shorter than a "
		    "DNS header",
		    n);
		goto out;
	}
	qr = (d->msg[2] & 0x80) != 0;
	dj = json_object();
	json_object_set_new(dj, "id", json_integer(be16_load(d->msg)));
	json_object_set_new(dj, "qr", json_integer(qr));
	json_object_set_new(dj, "rcode", json_integer(d->msg[3] & 0x0f));
	json_object_set_new(dj, "aa", json_integer((d->msg[2] >> 2) & 1));
	if (!qr) {
		enum dns_query_verdict v;

		v = dns_query_parse(d->msg, (size_t)n, &q, &e);
		json_object_set_new(dj, "qname",
		    v != DNS_QUERY_DROP ? jname(q.qname, q.qname_len) :
					  json_null());
		json_object_set_new(dj, "qtype",
		    v != DNS_QUERY_DROP ? json_integer(q.qtype) : json_null());
		json_object_set_new(dj, "answers", json_integer(q.ancount));
		if (v != DNS_QUERY_OK) {
			snprintf(errbuf, sizeof errbuf, "query: %s", e.msg);
			goto out;
		}
		if (d->ndomains == 0) {
			snprintf(errbuf, sizeof errbuf,
			    "query: no --domain "
			    "to match the name against");
			goto out;
		}
		if (d->cipher == NULL) {
			snprintf(errbuf, sizeof errbuf,
			    "query: decoding needs "
			    "--method and --key (or --config)");
			goto out;
		}
		st = wire_decode_query_name(q.qname, q.qname_len,
		    (const char *const *)d->domains, d->ndomains, d->cipher,
		    d->frame, sizeof d->frame, &f, NULL);
		if (st != WIRE_OK) {
			snprintf(errbuf, sizeof errbuf, "query: %s",
			    wire_strerror(st));
			goto out;
		}
		if ((pl = dec_payload(d, &f, &pl_len, &e)) == NULL) {
			snprintf(
			    errbuf, sizeof errbuf, "query: payload: %s", e.msg);
			goto out;
		}
		fj = dec_frame_json(&f, 1, pl, pl_len);
		ok = 1;
		goto out;
	}
	/* A response: the given mode, or raw and then base64 when raw does
	 * not give a frame with a valid header. */
	{
		int m = d->mode < 0 ? 0 : d->mode;

		st = dns_answer_parse(
		    d->msg, (size_t)n, m, d->frame, sizeof d->frame, &a, &e);
		if (d->mode < 0 &&
		    (st != DNS_ANS_FRAME ||
			wire_frame_parse(d->frame, a.frame_len, &f) !=
			    WIRE_OK)) {
			struct dns_answer b;
			struct err e2 = {""};

			if (dns_answer_parse(d->msg, (size_t)n, 1, d->frame,
				sizeof d->frame, &b, &e2) == DNS_ANS_FRAME &&
			    wire_frame_parse(d->frame, b.frame_len, &f) ==
				WIRE_OK) {
				a = b;
				st = DNS_ANS_FRAME;
			} else
				st = dns_answer_parse(d->msg, (size_t)n, 0,
				    d->frame, sizeof d->frame, &a, &e);
		}
		json_object_set_new(dj, "qname",
		    a.has_question ? jname(a.qname, a.qname_len) : json_null());
		json_object_set_new(dj, "qtype",
		    a.has_question ? json_integer(a.qtype) : json_null());
		json_object_set_new(dj, "answers", json_integer(a.ancount));
		if (st == DNS_ANS_NOFRAME) {
			snprintf(errbuf, sizeof errbuf,
			    "no frame (rcode %u, "
			    "%u answers)",
			    (unsigned)(a.flags & DNS_F_RCODE),
			    (unsigned)a.ancount);
			goto out;
		}
		if (st != DNS_ANS_FRAME) {
			snprintf(errbuf, sizeof errbuf, "response: %s: %s",
			    dns_answer_strstatus(st), e.msg);
			goto out;
		}
		st = wire_frame_parse(d->frame, a.frame_len, &f);
		if (st == WIRE_E_CHECK) {
			fj = dec_frame_json(&f, 0, NULL, 0);
			goto out;
		}
		if (st != WIRE_OK) {
			snprintf(errbuf, sizeof errbuf, "response frame: %s",
			    wire_strerror(st));
			goto out;
		}
		if ((pl = dec_payload(d, &f, &pl_len, &e)) == NULL) {
			snprintf(errbuf, sizeof errbuf, "response: payload: %s",
			    e.msg);
			goto out;
		}
		fj = dec_frame_json(&f, 1, pl, pl_len);
		ok = 1;
	}
out:
	json_object_set_new(o, "dns", dj);
	if (fj != NULL)
		json_object_set_new(o, "frame", fj);
	else
		json_object_set_new(o, "error", json_string(errbuf));
	if (d->json) {
		json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		putchar('\n');
	} else {
		json_t *x;

		printf("%s", where);
		if (json_is_object(dj)) {
			printf(" %s id=%lld rcode=%lld aa=%lld",
			    json_integer_value(json_object_get(dj, "qr")) ?
				"response" :
				"query",
			    json_integer_value(json_object_get(dj, "id")),
			    json_integer_value(json_object_get(dj, "rcode")),
			    json_integer_value(json_object_get(dj, "aa")));
			x = json_object_get(dj, "qname");
			if (json_is_string(x))
				printf(" qname=%s qtype=%lld answers=%lld",
				    json_string_value(x),
				    json_integer_value(
					json_object_get(dj, "qtype")),
				    json_integer_value(
					json_object_get(dj, "answers")));
		}
		if (fj != NULL) {
			const char *k;
			json_t *v;

			printf("\n  frame:");
			json_object_foreach(fj, k, v)
			{
				if (strcmp(k, "payload_hex") == 0)
					continue;
				if (json_is_null(v))
					continue;
				if (json_is_string(v))
					printf(
					    " %s=%s", k, json_string_value(v));
				else if (json_is_boolean(v))
					printf(" %s=%s", k,
					    json_is_true(v) ? "yes" : "no");
				else
					printf(" %s=%lld", k,
					    json_integer_value(v));
			}
			v = json_object_get(fj, "payload_hex");
			if (json_is_string(v))
				printf("\n  payload (%zu bytes): %s",
				    json_string_length(v) / 2,
				    json_string_value(v));
			printf("\n");
		} else
			printf("\n  error: %s\n", errbuf);
	}
	json_decref(o); /* frees dj and fj too */
	return ok;
}

static int
cmd_decode_run(struct cli_ctx *ctx, const struct args *args)
{
	struct dec *d = xcalloc(1, sizeof *d);
	struct err e = {""};
	int rc = EXIT_UNKNOWN, all = 1, have_dom, have_key, have_method;
	int seen = 0, lineno = 0, i;
	long long v = -1;
	const char *s, *kf;
	char *line = NULL, *p, where[64];
	size_t cap = 0, k;

	d->method = -1;
	d->mode =
	    args_choice(args, OPT_MODE, 0) - 1; /* -1 auto, 0 raw, 1 b64 */
	d->json = strcmp(ctx->format, "text") != 0;
	for (k = 0; (s = args_value(args, 'd', k)) != NULL; k++)
		if (dec_add_domain(d, s, strlen(s)) < 0) {
			cli_error(&cmd_decode_entry,
			    "bad or too many --domain: %s", s);
			goto done;
		}
	have_dom = k > 0;
	if (args_strtonum(args, 'm', 0, WIRE_METHOD_MAX, &v) != 0)
		goto done;
	d->method = (int)v;
	have_method = v >= 0;
	if ((kf = args_get(args, OPT_KEYFILE)) != NULL && args_has(args, 'k')) {
		cli_error(
		    &cmd_decode_entry, "give --key or --key-file, not both");
		goto done;
	}
	if (kf != NULL) {
		if ((d->key = dec_read_text(kf, &e)) == NULL) {
			cli_error(&cmd_decode_entry, "--key-file %s", e.msg);
			goto done;
		}
	} else if (args_get(args, 'k') != NULL) {
		d->key = xstrdup(args_get(args, 'k'));
		/*
		 * The values point into argv: wiping them shortens the time
		 * the key shows in /proc/PID/cmdline (and ps) to our start.
		 */
		for (k = 0; (s = args_value(args, 'k', k)) != NULL; k++)
			explicit_bzero((char *)(uintptr_t)s, strlen(s));
	}
	have_key = d->key != NULL;
	if (ctx->config != NULL &&
	    dec_config(d, ctx->config, have_dom, have_method, have_key, &e) <
		0) {
		cli_error(&cmd_decode_entry, "%s", e.msg);
		goto done;
	}
	if (d->method > 0 && d->key == NULL) {
		cli_error(&cmd_decode_entry,
		    "method %d needs --key, "
		    "--key-file or --config",
		    d->method);
		goto done;
	}
	if (d->method >= 0) {
		d->keylen = d->key ? strlen(d->key) : 0;
		d->cipher = wire_cipher_new(
		    d->method, d->key ? d->key : "", d->keylen, &e);
		if (d->cipher == NULL) {
			cli_error(&cmd_decode_entry, "%s", e.msg);
			goto done;
		}
	}
	if (args->noperands > 0) {
		for (i = 0; i < args->noperands; i++, seen++) {
			snprintf(where, sizeof where, "#%d", seen + 1);
			all &= dec_one(d, args->operands[i],
			    strlen(args->operands[i]), where);
		}
	} else {
		while (getline(&line, &cap, stdin) > 0) {
			lineno++;
			p = str_trim(line);
			if (*p == '\0' || *p == '#')
				continue;
			snprintf(where, sizeof where, "stdin:%d", lineno);
			all &= dec_one(d, p, strlen(p), where);
			seen++;
		}
	}
	if (seen == 0) {
		cli_error(&cmd_decode_entry,
		    "no messages (give hex arguments "
		    "or lines on stdin)");
		goto done;
	}
	fflush(stdout);
	rc = all ? EXIT_OK : EXIT_WARNING;
done:
	free(line);
	for (k = 0; k < d->ndomains; k++)
		free(d->domains[k]);
	if (d->key != NULL) {
		explicit_bzero(d->key, strlen(d->key));
		free(d->key);
	}
	wire_cipher_free(d->cipher);
	free(d->inflated);
	free(d);
	return rc;
}

const struct cmd_entry cmd_decode_entry = {
    .name = "decode",
    .summary = "decode DNS messages (hex) and the tunnel frame inside",
    .args =
	{
	    .opts = decode_opts,
	    .operands = "[HEX...]",
	    .max_operands = -1,
	    /* jsonl is json: both print one object per message and line. */
	    .formats = "text,json,jsonl",
	},
    .run = cmd_decode_run,
};
