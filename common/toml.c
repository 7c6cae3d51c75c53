/* SPDX-License-Identifier: MIT */
/*
 * toml.c — recursive-descent reader for the flat TOML subset of
 * MasterDnsVPN configs (see toml.h). It keeps every key in file order with
 * the line and column of key and value, and finds keys through the hash
 * table of common/hmap.h so that large (fuzzed) inputs stay linear.
 *
 * It does not validate UTF-8 in strings or comments, does not support
 * multi-line strings, inline tables, arrays of tables or dates (each is
 * rejected with a message saying so), and does not check that a [table]
 * header is defined only once (duplicate keys are still caught).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hmap.h"
#include "common/toml.h"

#define TOML_MAX_FILE  (16u << 20)
#define TOML_MAX_DEPTH 32

struct toml_doc {
	char *name;
	struct toml_entry *entries;
	size_t n, cap;
	struct hmap index; /* key -> index into entries */
};

struct parser {
	const char *name;
	const char *buf;
	size_t len;
	size_t pos;
	int line;
	size_t line_start;
	struct err *e;
	char *prefix; /* current [table] + ".", or NULL */
	int secret;   /* value of a secret-looking key */
};

static void value_free(struct toml_value *v);

static int
col_of(const struct parser *p, size_t pos)
{
	return (int)(pos - p->line_start) + 1;
}

static int __attribute__((format(printf, 3, 4)))
perr(const struct parser *p, size_t pos, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(
	    p->e, "%s:%d:%d: %s", p->name, p->line, col_of(p, pos), msg);
}

/*
 * The offending value text for a message, quoted and cut at 40 bytes, or a
 * stand-in when the key looks secret (an unquoted key must not end up on
 * stderr). Returns q.
 */
static const char *
quoted(const struct parser *p, const char *t, size_t n, char q[48])
{
	if (p->secret)
		snprintf(q, 48, "(value of a secret key)");
	else
		snprintf(q, 48, "'%.*s'", (int)MIN(n, 40), t);
	return q;
}

static int
peek(const struct parser *p, size_t off)
{
	if (p->pos + off >= p->len)
		return -1;
	return (unsigned char)p->buf[p->pos + off];
}

static int
at_eol(const struct parser *p)
{
	int c = peek(p, 0);

	return c == -1 || c == '\n' || (c == '\r' && peek(p, 1) == '\n');
}

static void
skip_ws(struct parser *p)
{
	while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
		p->pos++;
}

/* Consume one end of line (\n or \r\n); caller checked at_eol. */
static void
eat_eol(struct parser *p)
{
	if (peek(p, 0) == '\r')
		p->pos++;
	if (peek(p, 0) == '\n') {
		p->pos++;
		p->line++;
		p->line_start = p->pos;
	}
}

/* Skip a comment up to (not including) the end of line. */
static int
skip_comment(struct parser *p)
{
	while (!at_eol(p)) {
		int c = peek(p, 0);

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return perr(p, p->pos,
			    "control character 0x%02x in comment", c);
		p->pos++;
	}
	return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int
skip_ws_nl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (peek(p, 0) == '#') {
			if (skip_comment(p) == -1)
				return -1;
		}
		if (peek(p, 0) == -1 || !at_eol(p))
			return 0;
		eat_eol(p);
	}
}

static int
is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Append bytes to a growing string. */
static void
sbuf_add(char **s, size_t *len, size_t *cap, const char *add, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = MAX(*cap * 2, *len + n + 16);
		*s = xrealloc(*s, *cap);
	}
	memcpy(*s + *len, add, n);
	*len += n;
	(*s)[*len] = '\0';
}

/*
 * A dotted bare key "a.b-c.D_1" (whitespace allowed around dots) into a
 * malloc'd string "a.b-c.D_1".
 */
static int
parse_key(struct parser *p, char **out)
{
	char *s = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		size_t start = p->pos;

		if (peek(p, 0) == '"' || peek(p, 0) == '\'') {
			free(s);
			return perr(p, p->pos, "quoted keys are not supported");
		}
		while (is_bare(peek(p, 0)))
			p->pos++;
		if (p->pos == start) {
			free(s);
			if (at_eol(p))
				return perr(p, p->pos, "expected a key");
			return perr(p, p->pos, "invalid character '%c' in key",
			    peek(p, 0) >= 0x20 && peek(p, 0) < 0x7f ?
				peek(p, 0) :
				'?');
		}
		sbuf_add(&s, &len, &cap, p->buf + start, p->pos - start);
		skip_ws(p);
		if (peek(p, 0) != '.')
			break;
		p->pos++;
		skip_ws(p);
		sbuf_add(&s, &len, &cap, ".", 1);
	}
	*out = s;
	return 0;
}

static void
utf8_put(char **s, size_t *len, size_t *cap, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sbuf_add(s, len, cap, b, n);
}

/* A "basic" or 'literal' single-line string starting at the quote. */
static int
parse_string(struct parser *p, struct toml_value *v)
{
	size_t open = p->pos;
	int q = peek(p, 0);
	char *s = NULL;
	size_t len = 0, cap = 0;

	if (peek(p, 1) == q && peek(p, 2) == q)
		return perr(p, open, "multi-line strings are not supported");
	p->pos++;
	sbuf_add(&s, &len, &cap, "", 0);
	for (;;) {
		int c = peek(p, 0);

		if (c == -1 || c == '\n' || (c == '\r' && peek(p, 1) == '\n')) {
			free(s);
			return perr(p, open, "unterminated string");
		}
		if (c == q) {
			p->pos++;
			break;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			free(s);
			return perr(
			    p, p->pos, "control character 0x%02x in string", c);
		}
		if (c != '\\' || q == '\'') {
			char ch = (char)c;

			sbuf_add(&s, &len, &cap, &ch, 1);
			p->pos++;
			continue;
		}
		/* An escape in a basic string. */
		{
			size_t esc = p->pos;
			int d = peek(p, 1);
			const char *r = NULL;
			unsigned long cp = 0;
			int i, n;

			switch (d) {
			case 'b':
				r = "\b";
				break;
			case 't':
				r = "\t";
				break;
			case 'n':
				r = "\n";
				break;
			case 'f':
				r = "\f";
				break;
			case 'r':
				r = "\r";
				break;
			case '"':
				r = "\"";
				break;
			case '\\':
				r = "\\";
				break;
			case 'u':
			case 'U':
				n = d == 'u' ? 4 : 8;
				for (i = 0; i < n; i++) {
					int h =
					    hex_digit(peek(p, 2 + (size_t)i));

					if (h < 0) {
						free(s);
						return perr(p, esc,
						    "bad \\%c "
						    "escape: need %d hex "
						    "digits",
						    d, n);
					}
					cp = cp << 4 | (unsigned long)h;
				}
				if (cp == 0 || cp > 0x10ffff ||
				    (cp >= 0xd800 && cp <= 0xdfff)) {
					free(s);
					return perr(p, esc,
					    "bad \\%c escape: "
					    "U+%04lX is not allowed",
					    d, cp);
				}
				utf8_put(&s, &len, &cap, cp);
				p->pos += 2 + (size_t)n;
				continue;
			default:
				free(s);
				if (d == -1 || d == '\n' || d == '\r')
					return perr(
					    p, open, "unterminated string");
				return perr(p, esc, "unknown escape \\%c",
				    d >= 0x20 && d < 0x7f ? d : '?');
			}
			sbuf_add(&s, &len, &cap, r, 1);
			p->pos += 2;
		}
	}
	v->type = TOML_STRING;
	v->str = s;
	v->len = len;
	return 0;
}

/*
 * Digits in base with single underscores between digits, appended to
 * clean (without underscores). Returns the number of digits, or -1 when
 * an underscore is misplaced.
 */
static int
scan_digits(
    const char *t, size_t n, size_t *i, int base, char *clean, size_t *cl)
{
	int count = 0, prev_us = 1;

	while (*i < n) {
		int c = (unsigned char)t[*i];
		int dv = hex_digit(c);

		if (c == '_') {
			if (prev_us)
				return -1;
			prev_us = 1;
			(*i)++;
			continue;
		}
		if (dv < 0 || dv >= base)
			break;
		clean[(*cl)++] = (char)c;
		prev_us = 0;
		count++;
		(*i)++;
	}
	if (count > 0 && prev_us)
		return -1;
	return count;
}

static int
looks_like_date(const char *t, size_t n)
{
	size_t i;

	if (n < 7)
		return 0;
	for (i = 0; i < 4; i++)
		if (t[i] < '0' || t[i] > '9')
			return 0;
	return t[4] == '-' && t[5] >= '0' && t[5] <= '9';
}

/* An integer or float token. */
static int
parse_number(struct parser *p, struct toml_value *v)
{
	size_t start = p->pos, n, i = 0, cl = 0;
	const char *t = p->buf + start;
	char clean[128], q[48];
	int neg = 0, sign = 0, base = 10, nd, is_float = 0;

	while (p->pos < p->len) {
		int c = peek(p, 0);

		if (!(is_bare(c) || c == '+' || c == '.'))
			break;
		p->pos++;
	}
	n = p->pos - start;
	if (peek(p, 0) == ':' || looks_like_date(t, n))
		return perr(p, start, "dates and times are not supported");
	if (n >= sizeof clean - 8)
		return perr(p, start, "number too long");
	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		sign = 1;
		i = 1;
		clean[cl++] = t[0];
	}
	if (n - i == 3 &&
	    (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->dbl = t[i] == 'i' ? (neg ? -INFINITY : INFINITY) : NAN;
		return 0;
	}
	if (n - i > 2 && t[i] == '0' &&
	    (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
		if (sign)
			return perr(p, start,
			    "a sign is not allowed on hex, octal or binary");
		base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
		i += 2;
		cl = 0;
	}
	nd = scan_digits(t, n, &i, base, clean, &cl);
	if (nd <= 0)
		return perr(p, start, "invalid number %s", quoted(p, t, n, q));
	if (base == 10 && nd > 1 && clean[sign] == '0')
		return perr(p, start, "leading zeros are not allowed in %s",
		    quoted(p, t, n, q));
	if (base == 10 && i < n && t[i] == '.') {
		is_float = 1;
		clean[cl++] = '.';
		i++;
		if (scan_digits(t, n, &i, 10, clean, &cl) <= 0)
			return perr(
			    p, start, "invalid float %s", quoted(p, t, n, q));
	}
	if (base == 10 && i < n && (t[i] == 'e' || t[i] == 'E')) {
		is_float = 1;
		clean[cl++] = 'e';
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			clean[cl++] = t[i++];
		if (scan_digits(t, n, &i, 10, clean, &cl) <= 0)
			return perr(
			    p, start, "invalid float %s", quoted(p, t, n, q));
	}
	if (i != n)
		return perr(p, start, "invalid number %s", quoted(p, t, n, q));
	clean[cl] = '\0';
	errno = 0;
	if (is_float) {
		v->type = TOML_FLOAT;
		v->dbl = strtod(clean, NULL);
		if (errno == ERANGE && isinf(v->dbl))
			return perr(p, start, "float out of range %s",
			    quoted(p, t, n, q));
		return 0;
	}
	if (base == 10) {
		long long ll = strtoll(clean, NULL, 10);

		if (errno == ERANGE)
			return perr(p, start, "integer out of range %s",
			    quoted(p, t, n, q));
		v->i64 = ll;
	} else {
		unsigned long long u = strtoull(clean, NULL, base);

		if (errno == ERANGE || u > INT64_MAX)
			return perr(p, start, "integer out of range %s",
			    quoted(p, t, n, q));
		v->i64 = (int64_t)u;
	}
	v->type = TOML_INT;
	v->dbl = (double)v->i64;
	return 0;
}

static int parse_value(struct parser *p, struct toml_value *v, int depth);

static int
parse_array(struct parser *p, struct toml_value *v, int depth)
{
	size_t open = p->pos, cap = 0;
	int open_line = p->line;
	size_t open_ls = p->line_start;

	if (depth >= TOML_MAX_DEPTH)
		return perr(p, open, "arrays nested too deeply");
	p->pos++;
	v->type = TOML_ARRAY;
	for (;;) {
		struct toml_value item;

		if (skip_ws_nl(p) == -1)
			return -1;
		if (peek(p, 0) == -1)
			goto unterminated;
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		memset(&item, 0, sizeof item);
		if (parse_value(p, &item, depth + 1) == -1) {
			value_free(&item);
			return -1;
		}
		if (v->nitems == cap) {
			cap = cap ? cap * 2 : 4;
			v->items =
			    xreallocarray(v->items, cap, sizeof *v->items);
		}
		v->items[v->nitems++] = item;
		if (skip_ws_nl(p) == -1)
			return -1;
		if (peek(p, 0) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p, 0) == -1)
			goto unterminated;
		return perr(p, p->pos, "expected ',' or ']' in array");
	}
unterminated:
	p->line = open_line;
	p->line_start = open_ls;
	return perr(p, open, "unterminated array");
}

static int
parse_value(struct parser *p, struct toml_value *v, int depth)
{
	int c = peek(p, 0);

	v->line = p->line;
	v->col = col_of(p, p->pos);
	if (c == '"' || c == '\'')
		return parse_string(p, v);
	if (c == '[')
		return parse_array(p, v, depth);
	if (c == '{')
		return perr(p, p->pos, "inline tables are not supported");
	if (c == 't' || c == 'f') {
		size_t n = c == 't' ? 4 : 5;

		if (p->len - p->pos >= n &&
		    memcmp(p->buf + p->pos, c == 't' ? "true" : "false", n) ==
			0 &&
		    !is_bare(peek(p, n))) {
			v->type = TOML_BOOL;
			v->boolean = c == 't';
			p->pos += n;
			return 0;
		}
	}
	if ((c == 'i' || c == 'n') && p->len - p->pos >= 3 &&
	    (memcmp(p->buf + p->pos, "inf", 3) == 0 ||
		memcmp(p->buf + p->pos, "nan", 3) == 0) &&
	    !is_bare(peek(p, 3)))
		return parse_number(p, v);
	if ((c >= '0' && c <= '9') || c == '+' || c == '-')
		return parse_number(p, v);
	if (c == -1 || at_eol(p) || c == '#')
		return perr(p, p->pos, "missing value");
	if (is_bare(c)) {
		size_t n = 0;
		char q[48];

		while (is_bare(peek(p, n)))
			n++;
		return perr(p, p->pos,
		    "invalid value %s (strings need "
		    "quotes)",
		    quoted(p, p->buf + p->pos, n, q));
	}
	return perr(p, p->pos, "invalid value");
}

static const char *
entry_key(const void *doc, uint32_t i)
{
	return ((const struct toml_doc *)doc)->entries[i].key;
}

/* Add key (taking ownership) unless it exists. */
static int
add_entry(struct parser *p, struct toml_doc *doc, char *key,
    struct toml_value *v, int line, int col)
{
	uint32_t at = hmap_find_str(&doc->index, key, entry_key, doc);
	struct toml_entry *ent;

	if (at != HMAP_NONE) {
		int first = doc->entries[at].line;

		p->line = line;
		err_set(p->e,
		    "%s:%d:%d: duplicate key %s (first set on line "
		    "%d)",
		    p->name, line, col, key, first);
		free(key);
		value_free(v);
		return -1;
	}
	if (doc->n == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 32;
		doc->entries =
		    xreallocarray(doc->entries, doc->cap, sizeof *doc->entries);
	}
	ent = &doc->entries[doc->n++];
	ent->key = key;
	ent->value = *v;
	ent->line = line;
	ent->col = col;
	hmap_put(&doc->index, str_hash(key), (uint32_t)(doc->n - 1));
	return 0;
}

static int
parse_table_header(struct parser *p)
{
	size_t open = p->pos;
	char *name;

	if (peek(p, 1) == '[')
		return perr(p, open, "arrays of tables are not supported");
	p->pos++;
	skip_ws(p);
	if (parse_key(p, &name) == -1)
		return -1;
	if (peek(p, 0) != ']') {
		free(name);
		return perr(p, p->pos, "expected ']' after table name");
	}
	p->pos++;
	free(p->prefix);
	p->prefix = xasprintf("%s.", name);
	free(name);
	return 0;
}

static int
parse_line(struct parser *p, struct toml_doc *doc)
{
	struct toml_value v;
	size_t kpos;
	int kline, kcol;
	char *key;

	skip_ws(p);
	if (peek(p, 0) == '#')
		return skip_comment(p);
	if (at_eol(p))
		return 0;
	if (peek(p, 0) == '[') {
		if (parse_table_header(p) == -1)
			return -1;
	} else {
		kpos = p->pos;
		kline = p->line;
		kcol = col_of(p, kpos);
		if (parse_key(p, &key) == -1)
			return -1;
		if (p->prefix != NULL) {
			char *full = xasprintf("%s%s", p->prefix, key);

			free(key);
			key = full;
		}
		if (peek(p, 0) != '=') {
			free(key);
			return perr(p, p->pos, "expected '=' after key");
		}
		p->pos++;
		skip_ws(p);
		memset(&v, 0, sizeof v);
		p->secret = toml_key_looks_secret(key);
		if (parse_value(p, &v, 0) == -1) {
			value_free(&v);
			free(key);
			return -1;
		}
		if (add_entry(p, doc, key, &v, kline, kcol) == -1)
			return -1;
	}
	skip_ws(p);
	if (peek(p, 0) == '#')
		return skip_comment(p);
	if (!at_eol(p))
		return perr(p, p->pos, "unexpected text after value");
	return 0;
}

int
toml_parse_buf(const char *name, const char *buf, size_t len,
    struct toml_doc **out, struct err *e)
{
	struct parser p = {
	    .name = name, .buf = buf, .len = len, .line = 1, .e = e};
	struct toml_doc *doc;
	const char *nul;

	*out = NULL;
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		size_t off = (size_t)(nul - buf), i;

		for (i = 0; i < off; i++) {
			if (buf[i] == '\n') {
				p.line++;
				p.line_start = i + 1;
			}
		}
		return perr(&p, off, "NUL byte in file");
	}
	/* A UTF-8 byte order mark is allowed at the very start. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p.pos = p.line_start = 3;
	doc = xcalloc(1, sizeof *doc);
	doc->name = xstrdup(name);
	while (p.pos < p.len) {
		if (parse_line(&p, doc) == -1) {
			free(p.prefix);
			toml_free(doc);
			return -1;
		}
		eat_eol(&p);
	}
	free(p.prefix);
	*out = doc;
	return 0;
}

int
toml_parse_file(const char *path, struct toml_doc **out, struct err *e)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int r;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > TOML_MAX_FILE) {
			fclose(f);
			free(buf);
			return err_set(e, "%s: file larger than %u bytes", path,
			    TOML_MAX_FILE);
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		err_set(e, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	r = toml_parse_buf(path, buf ? buf : "", len, out, e);
	free(buf);
	return r;
}

static void
value_free(struct toml_value *v)
{
	size_t i;

	free(v->str);
	for (i = 0; i < v->nitems; i++)
		value_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof *v);
}

void
toml_free(struct toml_doc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->n; i++) {
		free((char *)doc->entries[i].key);
		value_free(&doc->entries[i].value);
	}
	free(doc->entries);
	hmap_free(&doc->index);
	free(doc->name);
	free(doc);
}

const char *
toml_name(const struct toml_doc *doc)
{
	return doc->name;
}

size_t
toml_count(const struct toml_doc *doc)
{
	return doc->n;
}

const struct toml_entry *
toml_entry_at(const struct toml_doc *doc, size_t i)
{
	return i < doc->n ? &doc->entries[i] : NULL;
}

const struct toml_entry *
toml_find(const struct toml_doc *doc, const char *key)
{
	uint32_t at;

	if (doc == NULL)
		return NULL;
	at = hmap_find_str(&doc->index, key, entry_key, doc);
	return at != HMAP_NONE ? &doc->entries[at] : NULL;
}

const struct toml_value *
toml_get(const struct toml_doc *doc, const char *key)
{
	const struct toml_entry *ent = toml_find(doc, key);

	return ent ? &ent->value : NULL;
}

int
toml_key_looks_secret(const char *key)
{
	static const char *const words[] = {"KEY", "PASS", "SECRET", "TOKEN"};
	size_t i, n = strlen(key);

	if (n >= 5 &&
	    (strcasecmp(key + n - 5, "_FILE") == 0 ||
		strcasecmp(key + n - 5, "_PATH") == 0))
		return 0;
	for (i = 0; i < nitems(words); i++)
		if (strcasestr(key, words[i]) != NULL)
			return 1;
	return 0;
}

const char *
toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INT:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_ARRAY:
		return "array";
	}
	return "unknown";
}

void
toml_quote(const char *s, char **buf, size_t *len)
{
	size_t cap = *buf ? *len + 1 : 0;

	sbuf_add(buf, len, &cap, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sbuf_add(buf, len, &cap, esc, 2);
		} else if (c == '\n') {
			sbuf_add(buf, len, &cap, "\\n", 2);
		} else if (c == '\t') {
			sbuf_add(buf, len, &cap, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			sbuf_add(buf, len, &cap, esc, 6);
		} else {
			sbuf_add(buf, len, &cap, (const char *)&c, 1);
		}
	}
	sbuf_add(buf, len, &cap, "\"", 1);
}

static void
format_into(const struct toml_value *v, char **buf, size_t *len)
{
	size_t cap = *buf ? *len + 1 : 0, i;
	char num[64];

	switch (v->type) {
	case TOML_STRING:
		toml_quote(v->str, buf, len);
		return;
	case TOML_INT:
		snprintf(num, sizeof num, "%lld", (long long)v->i64);
		break;
	case TOML_FLOAT:
		if (isnan(v->dbl)) {
			snprintf(num, sizeof num, "nan");
		} else if (isinf(v->dbl)) {
			snprintf(
			    num, sizeof num, "%sinf", v->dbl < 0 ? "-" : "");
		} else {
			/* Shortest text that reads back as the same double. */
			snprintf(num, sizeof num, "%.15g", v->dbl);
			if (strtod(num, NULL) != v->dbl)
				snprintf(num, sizeof num, "%.17g", v->dbl);
			if (strpbrk(num, ".e") == NULL)
				strncat(
				    num, ".0", sizeof num - strlen(num) - 1);
		}
		break;
	case TOML_BOOL:
		snprintf(num, sizeof num, "%s", v->boolean ? "true" : "false");
		break;
	case TOML_ARRAY:
		sbuf_add(buf, len, &cap, "[", 1);
		for (i = 0; i < v->nitems; i++) {
			if (i > 0)
				sbuf_add(buf, len, &cap, ", ", 2);
			format_into(&v->items[i], buf, len);
			cap = *len + 1;
		}
		sbuf_add(buf, len, &cap, "]", 1);
		return;
	default:
		num[0] = '\0';
	}
	sbuf_add(buf, len, &cap, num, strlen(num));
}

char *
toml_value_format(const struct toml_value *v)
{
	char *buf = NULL;
	size_t len = 0;

	format_into(v, &buf, &len);
	return buf;
}

int
toml_get_num(const struct toml_doc *d, const char *k, double lo, double hi,
    double *out, struct err *e)
{
	const struct toml_value *v = toml_get(d, k);

	if (v == NULL)
		return 0;
	if (v->type != TOML_INT && v->type != TOML_FLOAT)
		return err_set(
		    e, "%s:%d: %s must be a number", toml_name(d), v->line, k);
	if (v->dbl < lo || v->dbl > hi)
		return err_set(e, "%s:%d: %s out of range (%g..%g)",
		    toml_name(d), v->line, k, lo, hi);
	*out = v->dbl;
	return 0;
}

int
toml_get_uint(const struct toml_doc *d, const char *k, double lo, double hi,
    unsigned *out, struct err *e)
{
	double x = *out;

	if (toml_get_num(d, k, lo, hi, &x, e) == -1)
		return -1;
	*out = (unsigned)x;
	return 0;
}

int
toml_get_int(const struct toml_doc *d, const char *k, double lo, double hi,
    int *out, struct err *e)
{
	double x = *out;

	if (toml_get_num(d, k, lo, hi, &x, e) == -1)
		return -1;
	*out = (int)x;
	return 0;
}

int
toml_get_bool(const struct toml_doc *d, const char *k, int *out, struct err *e)
{
	const struct toml_value *v = toml_get(d, k);

	if (v == NULL)
		return 0;
	if (v->type != TOML_BOOL)
		return err_set(e, "%s:%d: %s must be true or false",
		    toml_name(d), v->line, k);
	*out = v->boolean;
	return 0;
}

int
toml_get_str(const struct toml_doc *d, const char *k, char **out, struct err *e)
{
	const struct toml_value *v = toml_get(d, k);

	if (v == NULL)
		return 0;
	if (v->type != TOML_STRING)
		return err_set(
		    e, "%s:%d: %s must be a string", toml_name(d), v->line, k);
	free(*out);
	*out = xstrdup(v->str);
	return 0;
}
