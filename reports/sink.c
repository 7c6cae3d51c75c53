/* SPDX-License-Identifier: MIT */
/*
 * sink.c — the output sinks of sink.h: text, json, jsonl, csv and ips over
 * the shared result model. Each format is a small ops table; the sink
 * keeps only what its format must buffer (the text table, the json tail).
 *
 * It does not decide what is printed (that is the caller's choice of
 * records), never touches secrets (the model has none) and never prints
 * anywhere but the FILE it was given. Numbers are formatted without
 * printf's %f so that a locale with a decimal comma cannot break CSV or
 * JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "common/hmap.h"
#include "common/resolvers.h"
#include "common/result.h"
#include "common/util.h"
#include "reports/sink-int.h"
#include "reports/sink.h"

struct rpt_sink;

struct rpt_ops {
	const char *name;
	int (*result)(struct rpt_sink *, const struct res_resolver *);
	int (*check)(struct rpt_sink *, const struct res_check *);
	int (*summary)(struct rpt_sink *, const struct res_run *);
	int (*close)(struct rpt_sink *);
	/* NULL: the format ignores them. */
	int (*perf)(struct rpt_sink *, const struct rpt_perf *);
	int (*status)(struct rpt_sink *, int, const char *);
};

/* A growable table of malloc'd cells, for the text format. */
struct table {
	size_t ncols;
	char **cells; /* nrows * ncols */
	size_t nrows;
	size_t cap;
};

struct rpt_sink {
	const struct rpt_ops *ops;
	struct rpt_mon *mon;	 /* prom, nagios (sink-mon.c) */
	json_t *jperf, *jstatus; /* json: rpt_perf / rpt_status */
	FILE *out;
	char err[ERR_MSG_MAX];
	int have_summary;
	int width; /* text: columns to fit, 0 = no limit (rpt_set_width) */
	struct res_run run;
	/* text */
	struct table rows;
	struct table checks;
	/* json */
	size_t nresults;
	json_t *jchecks;
	/* csv */
	int header_done;
	/* ips */
	struct hmap_strset seen; /* ips: addresses already written */
};

/* ---- helpers ---------------------------------------------------------- */

static int __attribute__((format(printf, 2, 3)))
fail(struct rpt_sink *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(s->err, sizeof s->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
put(struct rpt_sink *s, const char *str)
{
	if (fputs(str, s->out) == EOF)
		return fail(s, "write error: %s", strerror(errno));
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes at
 * p are not one (bad lead, bad continuation, overlong, surrogate, above
 * U+10FFFF).
 */
static size_t
utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * A malloc'd copy of str that is valid UTF-8: invalid bytes become the
 * four characters "\xNN". With oneline, control characters are escaped too
 * (\n \r \t, others \xNN) so the text stays on one line.
 */
static char *
clean_text(const char *str, int oneline)
{
	const unsigned char *p = (const unsigned char *)str;
	size_t len = strlen(str), o = 0, n;
	char *out = xmalloc(len * 4 + 1);

	while (*p != '\0') {
		n = utf8_seq(p);
		if (n == 1 && oneline && (*p < 0x20 || *p == 0x7f)) {
			out[o++] = '\\';
			if (*p == '\n')
				out[o++] = 'n';
			else if (*p == '\r')
				out[o++] = 'r';
			else if (*p == '\t')
				out[o++] = 't';
			else {
				snprintf(out + o, 4, "x%02x", *p);
				o += 3;
			}
			p++;
		} else if (n == 0) {
			snprintf(out + o, 5, "\\x%02x", *p);
			o += 4;
			p++;
		} else {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		}
	}
	out[o] = '\0';
	return out;
}

/* Display width as the number of code points (input is valid UTF-8). */
static size_t
text_width(const char *str)
{
	size_t w = 0;

	for (; *str != '\0'; str++)
		if (((unsigned char)*str & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * v rounded to dec decimals (0..3), as text, independent of the locale.
 * Negative values are not expected here (unknowns are handled before).
 */
static void
fmt_fixed(double v, int dec, char *buf, size_t len)
{
	long long scale = 1, x;
	int i;

	double m;

	for (i = 0; i < dec; i++)
		scale *= 10;
	/*
	 * Numbers come from the store too (any value a file holds): keep
	 * llround within long long, where llabs below is defined.
	 */
	m = v * (double)scale;
	if (isnan(m))
		m = 0;
	m = m > 9e18 ? 9e18 : m < -9e18 ? -9e18 : m;
	x = llround(m);
	if (dec == 0)
		snprintf(buf, len, "%lld", x);
	else
		snprintf(buf, len, "%s%lld.%0*lld", x < 0 ? "-" : "",
		    llabs(x) / scale, dec, llabs(x) % scale);
}

void
rpt_resolver_text(const char *addr, uint16_t port, char *buf, size_t len)
{
	rl_format_entry(addr, port, buf, len);
}

static char *
num_or(long long v, const char *unknown)
{
	return v < 0 ? xstrdup(unknown) : xasprintf("%lld", v);
}

/*
 * An MTU for people: "≥500" when it is the top of the search range (the
 * path may carry more), else the number, "-" when unknown.
 */
static char *
mtu_text(int mtu, enum res_tri at_ceiling)
{
	if (mtu < 0)
		return xstrdup("-");
	return at_ceiling == RES_TRI_YES ? xasprintf("\xe2\x89\xa5%d", mtu) :
					   xasprintf("%d", mtu);
}

static const char *
tri_short(enum res_tri t, const char *unknown)
{
	if (t == RES_TRI_YES)
		return "yes";
	if (t == RES_TRI_NO)
		return "no";
	return unknown;
}

/* ---- tables (text) ---------------------------------------------------- */

static void
table_add(struct table *t, char **cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xreallocarray(
		    t->cells, t->cap * t->ncols, sizeof *t->cells);
	}
	memcpy(t->cells + t->nrows * t->ncols, cells, t->ncols * sizeof *cells);
	t->nrows++;
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/*
 * How a text table meets a width limit: drop[] lists columns that may be
 * left out, first to go first; the last column (evidence) is cut with an
 * ellipsis to what is left. Columns not named there (addresses, ports,
 * verdicts, MTUs) are never cut: a line may then exceed the limit, but
 * no address is ever shown shortened into another valid-looking one.
 */
struct fit {
	const char *const *drop; /* header names */
	size_t ndrop;
	const char *opt; /* a column shown only when a cell is not ""
			     (WHOAMI: only scan --whoami fills it), or NULL */
};

/* Index of the column headed name, or -1. */
static int
col_index(const char *const *head, size_t ncols, const char *name)
{
	size_t c;

	for (c = 0; name != NULL && c < ncols; c++)
		if (strcmp(head[c], name) == 0)
			return (int)c;
	return -1;
}

#define FIT_MIN_CUT 12 /* a cut column keeps at least this many */

/* The first n code points of str with "…" in place of the rest. */
static char *
cut_text(const char *str, size_t n)
{
	const char *p = str;
	size_t k = 0;
	char *out;

	if (n == 0)
		return xstrdup("");
	for (; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && k++ == n - 1)
			break;
	}
	out = xmalloc((size_t)(p - str) + 4);
	memcpy(out, str, (size_t)(p - str));
	memcpy(out + (p - str), "\xe2\x80\xa6", 4); /* U+2026 + NUL */
	return out;
}

/* Sum of visible widths plus the two-blank separators. */
static size_t
row_width(const size_t *w, const int *vis, size_t ncols)
{
	size_t c, sum = 0, n = 0;

	for (c = 0; c < ncols; c++)
		if (vis[c]) {
			sum += w[c];
			n++;
		}
	return sum + (n > 0 ? 2 * (n - 1) : 0);
}

/*
 * Choose visible columns and widths for limit (0 = none). Returns the
 * number of columns left out; their names go to hidden (cap bytes).
 */
static size_t
fit_columns(size_t *w, int *vis, size_t ncols, size_t limit,
    const struct fit *fit, const char *const *head, char *hidden, size_t cap)
{
	size_t last = ncols - 1, k, ndropped = 0, other, room, o;
	size_t lastmin;
	int d;

	hidden[0] = '\0';
	if (limit == 0 || fit == NULL || row_width(w, vis, ncols) <= limit)
		return 0;
	lastmin = MIN(w[last], (size_t)FIT_MIN_CUT);
	for (k = 0; k < fit->ndrop; k++) {
		other = row_width(w, vis, ncols) - w[last];
		if (other + lastmin <= limit)
			break;
		if ((d = col_index(head, ncols, fit->drop[k])) < 0 ||
		    (size_t)d == last || !vis[d])
			continue;
		/* The optional column (WHOAMI) is what the user asked for:
		 * rather than lose it, lose the evidence when that fits. */
		if (fit->opt != NULL && strcmp(head[d], fit->opt) == 0 &&
		    other <= limit) {
			vis[last] = 0;
			o = strlen(hidden);
			snprintf(hidden + o, cap - o, "%s%s", o ? " " : "",
			    head[last]);
			return ndropped + 1;
		}
		vis[d] = 0;
		ndropped++;
		o = strlen(hidden);
		snprintf(hidden + o, cap - o, "%s%s", o ? " " : "", head[d]);
	}
	other = row_width(w, vis, ncols) - w[last];
	room = other < limit ? limit - other : 0;
	w[last] = MIN(w[last], MAX(room, (size_t)1));
	return ndropped;
}

/* w[c]: the widest of column c's header and cells, in code points. */
static void
col_widths(const char *const *head, const struct table *t, size_t *w)
{
	size_t r, c;

	for (c = 0; c < t->ncols; c++) {
		w[c] = text_width(head[c]);
		for (r = 0; r < t->nrows; r++)
			w[c] =
			    MAX(w[c], text_width(t->cells[r * t->ncols + c]));
	}
}

/*
 * Print header and rows with widths from the content, fitted to the
 * sink's width (struct fit). right[i] aligns column i right (numbers).
 * The last column is never padded, so a long evidence text does not push
 * trailing blanks.
 */
static int
table_print(struct rpt_sink *s, const char *const *head, const int *right,
    const struct table *t, const struct fit *fit)
{
	size_t *w = xcalloc(t->ncols, sizeof *w);
	int *vis = xcalloc(t->ncols, sizeof *vis);
	size_t r, c, pad, cw, last, ndropped;
	const char *cell;
	char *cut, hidden[256];
	int rc = 0, first;

	col_widths(head, t, w);
	for (c = 0; c < t->ncols; c++)
		vis[c] = 1;
	if (fit != NULL &&
	    (c = (size_t)col_index(head, t->ncols, fit->opt)) < t->ncols) {
		for (r = 0; r < t->nrows && t->cells[r * t->ncols + c][0] == 0;
		     r++)
			;
		vis[c] = r < t->nrows; /* not there at all: not hidden */
		if (!vis[c])
			w[c] = 0;
	}
	ndropped = fit_columns(w, vis, t->ncols, (size_t)MAX(s->width, 0), fit,
	    head, hidden, sizeof hidden);
	for (last = t->ncols - 1; last > 0 && !vis[last]; last--)
		;
	for (r = 0; r <= t->nrows && rc == 0; r++) {
		first = 1;
		for (c = 0; c < t->ncols && rc == 0; c++) {
			if (!vis[c])
				continue;
			cell =
			    r == 0 ? head[c] : t->cells[(r - 1) * t->ncols + c];
			cut = NULL;
			if ((cw = text_width(cell)) > w[c]) {
				cell = cut = cut_text(cell, w[c]);
				cw = w[c];
			}
			pad = w[c] - cw;
			if (!first && fputs("  ", s->out) == EOF)
				rc = -1;
			first = 0;
			if (right[c])
				for (; pad > 0 && rc == 0; pad--)
					if (fputc(' ', s->out) == EOF)
						rc = -1;
			if (rc == 0 && fputs(cell, s->out) == EOF)
				rc = -1;
			free(cut);
			if (!right[c] && c != last)
				for (; pad > 0 && rc == 0; pad--)
					if (fputc(' ', s->out) == EOF)
						rc = -1;
		}
		if (rc == 0 && fputc('\n', s->out) == EOF)
			rc = -1;
	}
	/* The note fits the width too: the short form when the long one
	 * does not (a --whoami table hides its evidence as well). */
	if (rc == 0 && ndropped > 0 &&
	    (strlen(hidden) + 30 <= (size_t)s->width ?
		    fprintf(s->out, "(hidden to fit %d columns: %s)\n",
			s->width, hidden) :
		    fprintf(s->out, "(hidden: %s)\n", hidden)) < 0)
		rc = -1;
	free(w);
	free(vis);
	if (rc != 0)
		return fail(s, "write error: %s", strerror(errno));
	return 0;
}

/* ---- text ------------------------------------------------------------- */

static const char *const text_head[] = {
    "RESOLVER",
    "DOMAIN",
    "STAGE",
    "VERDICT",
    "REASON",
    "RTT_MS",
    "LOSS",
    "UP",
    "DOWN",
    "WHOAMI",
    "NAME",
    "CASE",
    "ANSWER",
    "EDNS",
    "TC",
    "BURST",
    "QPS",
    "EVIDENCE",
};
static const int text_right[] = {
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    0, /* WHOAMI */
    1,
    0,
    1,
    1,
    0,
    1,
    1,
    0,
};

static const char *const check_head[] = {
    "CHECK",
    "SUBJECT",
    "VERDICT",
    "REASON",
    "DETAIL",
    "EVIDENCE",
};
static const int check_right[] = {0, 0, 0, 0, 0, 0};

/* What a table may give up to fit a width, by header name (struct fit). */
static const char *const text_drop[] = {"QPS", "BURST", "TC", "EDNS", "CASE",
    "ANSWER", "NAME", "DOMAIN", "STAGE", "WHOAMI"};
static const struct fit text_fit = {text_drop, nitems(text_drop), "WHOAMI"};

static int
text_result(struct rpt_sink *s, const struct res_resolver *r)
{
	char *cells[nitems(text_head)];
	char buf[RES_ADDR_MAX + 16];
	size_t i = 0;

	rpt_resolver_text(r->addr, r->port, buf, sizeof buf);
	cells[i++] = clean_text(buf, 1);
	cells[i++] = clean_text(r->domain[0] ? r->domain : "-", 1);
	cells[i++] = xstrdup(res_stage_name(r->stage));
	cells[i++] = xstrdup(res_verdict_name(r->verdict));
	cells[i++] = xstrdup(res_reason_name(r->reason));
	if (r->rtt_us < 0)
		cells[i++] = xstrdup("-");
	else {
		fmt_fixed((double)r->rtt_us / 1000.0, 1, buf, sizeof buf);
		cells[i++] = xstrdup(buf);
	}
	if (r->probes > 0) {
		fmt_fixed(res_loss_rate(r) * 100, 1, buf, sizeof buf);
		cells[i++] = xasprintf("%s%%", buf);
	} else
		cells[i++] = xstrdup("-");
	cells[i++] = mtu_text(r->upload_mtu, r->up_at_ceiling);
	cells[i++] = mtu_text(r->download_mtu, r->down_at_ceiling);
	/* "" when the run asked no whoami name: no column at all. */
	cells[i++] = clean_text(!r->whoami_asked ? "" :
		r->whoami[0]			 ? r->whoami :
		r->whoami_error[0]		 ? r->whoami_error :
						   "-",
	    1);
	cells[i++] = num_or(r->shape.longest_name, "-");
	cells[i++] = xstrdup(tri_short(r->shape.case_preserved, "-"));
	cells[i++] = num_or(r->shape.max_answer_bytes, "-");
	cells[i++] = num_or(r->shape.edns_size, "-");
	cells[i++] = xstrdup(tri_short(r->shape.tc_seen, "-"));
	if (r->burst_sent > 0)
		cells[i++] = xasprintf("%d/%d", r->burst_ok, r->burst_sent);
	else
		cells[i++] = xstrdup("-");
	if (r->burst_qps < 0)
		cells[i++] = xstrdup("-");
	else {
		fmt_fixed(r->burst_qps, 1, buf, sizeof buf);
		cells[i++] = xstrdup(buf);
	}
	cells[i++] = clean_text(r->evidence, 1);
	table_add(&s->rows, cells);
	return 0;
}

static int
text_check(struct rpt_sink *s, const struct res_check *c)
{
	char *cells[nitems(check_head)];

	cells[0] = xstrdup(res_check_kind_name(c->kind));
	cells[1] = clean_text(c->subject[0] ? c->subject : "-", 1);
	cells[2] = xstrdup(res_verdict_name(c->verdict));
	cells[3] = xstrdup(res_reason_name(c->reason));
	cells[4] = clean_text(c->detail, 1);
	cells[5] = clean_text(c->evidence, 1);
	table_add(&s->checks, cells);
	return 0;
}

/*
 * Write text, whose lines hold fields separated by two blanks, breaking a
 * line between fields where it would pass the sink's width.
 */
static int
put_fitted(struct rpt_sink *s, const char *text)
{
	char *copy = xstrdup(text), *line, *next, *field, *sep;
	size_t used;
	int rc = 0;

	for (line = copy; rc == 0 && line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		used = 0;
		for (field = line; rc == 0 && field != NULL;) {
			if ((sep = strstr(field, "  ")) != NULL)
				*sep = '\0';
			if (used > 0 && s->width > 0 &&
			    used + 2 + text_width(field) > (size_t)s->width) {
				rc = put(s, "\n");
				used = 0;
			}
			if (rc == 0 && used > 0)
				rc = put(s, "  ");
			if (rc == 0)
				rc = put(s, field);
			used += (used > 0 ? 2 : 0) + text_width(field);
			field = sep != NULL ? sep + 2 : NULL;
		}
		if (rc == 0 && next != NULL)
			rc = put(s, "\n");
	}
	free(copy);
	return rc;
}

static int
text_summary_block(struct rpt_sink *s)
{
	static const char *const head[] = {
	    "STAGE",
	    "TESTED",
	    "PASSED",
	    "FAILED",
	    "TIME_MS",
	};
	static const int right[] = {0, 1, 1, 1, 1};
	const struct res_run *run = &s->run;
	struct table t = {.ncols = nitems(head)};
	char *cells[nitems(head)];
	char a[40], b[40], d[32];
	char *line, *cmd, *ver;
	const struct res_stage_stats *st;
	int i, rc;

	fmt_iso8601_ms(run->started_ms, a, sizeof a);
	if (run->ended_ms > 0) {
		fmt_iso8601_ms(run->ended_ms, b, sizeof b);
		/* In double: stored times may be anything (no overflow). */
		fmt_fixed(
		    ((double)run->ended_ms - (double)run->started_ms) / 1000.0,
		    3, d, sizeof d);
	} else {
		snprintf(b, sizeof b, "-");
		snprintf(d, sizeof d, "-");
	}
	cmd = clean_text(run->command, 1);
	ver = clean_text(run->version, 1);
	line = xasprintf("run: %s  version: %s  args: %s\n"
			 "started: %s  ended: %s  duration_s: %s\n\n",
	    cmd, ver, run->args_digest[0] ? run->args_digest : "-", a, b, d);
	rc = put_fitted(s, line);
	free(line);
	free(cmd);
	free(ver);
	if (rc != 0)
		return -1;
	for (i = RES_STAGE_NONE + 1; i < RES_STAGE_COUNT; i++) {
		st = &run->stages[i];
		if (st->tested == 0 && st->duration_ms == 0)
			continue;
		cells[0] = xstrdup(res_stage_name((enum res_stage)i));
		cells[1] = xasprintf("%u", st->tested);
		cells[2] = xasprintf("%u", st->passed);
		cells[3] = xasprintf("%u", st->failed);
		cells[4] = xasprintf("%lld", (long long)st->duration_ms);
		table_add(&t, cells);
	}
	rc = t.nrows ? table_print(s, head, right, &t, NULL) :
		       put(s, "no stages\n");
	table_free(&t);
	return rc;
}

void
rpt_put_folded(FILE *f, const char *text, int width, int first, int cont)
{
	const char *p = text, *line, *end, *brk;
	size_t cols;
	int indent = first;

	if (*p != '\0')
		fprintf(f, "%*s", indent, "");
	while (*p != '\0') {
		line = p;
		if ((end = strchr(p, '\n')) == NULL)
			end = p + strlen(p);
		cols = (size_t)indent;
		brk = NULL;
		for (; p < end; p++) {
			if (((unsigned char)*p & 0xc0) != 0x80)
				cols++;
			if (*p == ' ' && p > line)
				brk = p;
			if (width > 0 && cols > (size_t)width && brk != NULL)
				break;
		}
		if (p < end) {
			/* Fold at the last blank; go on cont columns in. */
			fprintf(
			    f, "%.*s\n%*s", (int)(brk - line), line, cont, "");
			for (p = brk + 1; *p == ' '; p++)
				;
			indent = cont;
			continue;
		}
		fprintf(f, "%.*s%s", (int)(end - line), line, *end ? "\n" : "");
		p = *end ? end + 1 : end;
		if (*p != '\0')
			fprintf(f, "%*s", first, "");
		indent = first;
	}
}

/* Sum of the natural widths of a table's header and rows, separators in. */
static size_t
table_width(const char *const *head, const struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof *w), c, sum = 0;

	col_widths(head, t, w);
	for (c = 0; c < t->ncols; c++)
		sum += w[c] + (c > 0 ? 2 : 0);
	free(w);
	return sum;
}

/*
 * The checks one block each, for a width their table does not fit:
 *   ip ipv4: unknown (fetch_failed)
 *       IPv4: no tunnel path (...)
 *       evidence: expected: none; tunnel: ...
 */
static int
check_blocks(struct rpt_sink *s)
{
	const struct table *t = &s->checks;
	const char *const *c;
	char *ev;
	size_t r;

	for (r = 0; r < t->nrows; r++) {
		c = (const char *const *)&t->cells[r * t->ncols];
		/* The reason when it says more than the verdict. */
		if (strcmp(c[3], c[2]) == 0 || strcmp(c[3], "-") == 0)
			fprintf(s->out, "%s %s: %s\n", c[0], c[1], c[2]);
		else
			fprintf(
			    s->out, "%s %s: %s (%s)\n", c[0], c[1], c[2], c[3]);
		if (c[4][0] != '\0') {
			rpt_put_folded(s->out, c[4], s->width, 4, 6);
			fputc('\n', s->out);
		}
		if (c[5][0] != '\0') {
			ev = xasprintf("evidence: %s", c[5]);
			rpt_put_folded(s->out, ev, s->width, 4, 6);
			fputc('\n', s->out);
			free(ev);
		}
	}
	if (ferror(s->out))
		return fail(s, "write error: %s", strerror(errno));
	return 0;
}

static int
text_close(struct rpt_sink *s)
{
	int blank = 0;

	if (s->have_summary) {
		if (text_summary_block(s) != 0)
			return -1;
		blank = 1;
	}
	if (s->checks.nrows > 0) {
		if (blank && put(s, "\n") != 0)
			return -1;
		if (s->width > 0 &&
		    table_width(check_head, &s->checks) > (size_t)s->width) {
			if (check_blocks(s) != 0)
				return -1;
		} else if (table_print(s, check_head, check_right, &s->checks,
			       NULL) != 0)
			return -1;
		blank = 1;
	}
	/* A checks-only report (ip, leak) has no resolver table at all. */
	if (s->rows.nrows == 0 && s->checks.nrows > 0)
		return 0;
	if (blank && put(s, "\n") != 0)
		return -1;
	if (s->rows.nrows == 0)
		return put(s, "no results\n");
	return table_print(s, text_head, text_right, &s->rows, &text_fit);
}

/* ---- json / jsonl ----------------------------------------------------- */

static json_t *
jnum(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *
jtri(enum res_tri t)
{
	if (t == RES_TRI_YES)
		return json_true();
	if (t == RES_TRI_NO)
		return json_false();
	return json_null();
}

static json_t *
jstr(const char *str)
{
	char *c = clean_text(str, 0);
	json_t *j = json_string(c);

	free(c);
	return j ? j : json_string("");
}

static json_t *
jtime(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	fmt_iso8601_ms(ms, buf, sizeof buf);
	return json_string(buf);
}

static json_t *
jround(double v, int dec)
{
	double scale = pow(10, dec);

	if (v < 0)
		return json_null();
	return json_real(round(v * scale) / scale);
}

static json_t *
json_result_obj(const struct res_resolver *r)
{
	const struct res_policy *p = &r->policy;
	json_t *o = json_object(), *sh, *po, *bu, *lo;
	size_t k;

	json_object_set_new(o, "address", jstr(r->addr));
	json_object_set_new(o, "port", json_integer(r->port));
	json_object_set_new(o, "domain", jstr(r->domain));
	json_object_set_new(o, "stage", json_string(res_stage_name(r->stage)));
	json_object_set_new(
	    o, "verdict", json_string(res_verdict_name(r->verdict)));
	json_object_set_new(
	    o, "reason", json_string(res_reason_name(r->reason)));
	json_object_set_new(
	    o, "reason_text", json_string(res_reason_text(r->reason)));
	json_object_set_new(o, "rtt_us", jnum(r->rtt_us));
	json_object_set_new(o, "upload_mtu", jnum(r->upload_mtu));
	json_object_set_new(o, "download_mtu", jnum(r->download_mtu));
	json_object_set_new(o, "upload_mtu_at_ceiling", jtri(r->up_at_ceiling));
	json_object_set_new(
	    o, "download_mtu_at_ceiling", jtri(r->down_at_ceiling));
	if (r->whoami_asked) {
		/* Only a scan --whoami result has the key (docs/checks.md). */
		json_t *w = json_object();

		json_object_set_new(
		    w, "address", r->whoami[0] ? jstr(r->whoami) : json_null());
		json_object_set_new(w, "name",
		    r->whoami_name[0] ? jstr(r->whoami_name) : json_null());
		json_object_set_new(w, "error",
		    r->whoami_error[0] ? jstr(r->whoami_error) : json_null());
		json_object_set_new(o, "whoami", w);
	}

	sh = json_object();
	json_object_set_new(sh, "longest_name", jnum(r->shape.longest_name));
	json_object_set_new(sh, "max_labels", jnum(r->shape.max_labels));
	json_object_set_new(
	    sh, "case_preserved", jtri(r->shape.case_preserved));
	json_object_set_new(
	    sh, "max_answer_bytes", jnum(r->shape.max_answer_bytes));
	json_object_set_new(sh, "edns_size", jnum(r->shape.edns_size));
	json_object_set_new(sh, "tc_seen", jtri(r->shape.tc_seen));
	json_object_set_new(sh, "tcp_ok", jtri(r->shape.tcp_ok));
	json_object_set_new(o, "shape", sh);

	if (p->present) {
		po = json_object();
		for (k = 0; k < RES_POLICY_NFIELDS; k++)
			json_object_set_new(po, res_policy_field_name(k),
			    jnum(res_policy_get(p, k)));
	} else
		po = json_null();
	json_object_set_new(o, "policy", po);

	if (r->burst_sent > 0) {
		bu = json_object();
		json_object_set_new(bu, "sent", json_integer(r->burst_sent));
		json_object_set_new(bu, "ok", json_integer(r->burst_ok));
		json_object_set_new(bu, "rate", jround(res_burst_rate(r), 3));
		json_object_set_new(bu, "qps", jround(r->burst_qps, 1));
	} else
		bu = json_null();
	json_object_set_new(o, "burst", bu);
	if (r->probes > 0) {
		lo = json_object();
		json_object_set_new(lo, "probes", json_integer(r->probes));
		json_object_set_new(lo, "lost", json_integer(r->lost));
		json_object_set_new(lo, "rate", jround(res_loss_rate(r), 3));
	} else
		lo = json_null();
	json_object_set_new(o, "loss", lo);
	json_object_set_new(o, "evidence", jstr(r->evidence));
	json_object_set_new(
	    o, "at_ms", r->at_ms > 0 ? json_integer(r->at_ms) : json_null());
	json_object_set_new(o, "at", jtime(r->at_ms));
	return o;
}

static json_t *
json_check_obj(const struct res_check *c)
{
	json_t *o = json_object();

	json_object_set_new(
	    o, "kind", json_string(res_check_kind_name(c->kind)));
	json_object_set_new(
	    o, "subject", c->subject[0] ? jstr(c->subject) : json_null());
	json_object_set_new(
	    o, "verdict", json_string(res_verdict_name(c->verdict)));
	json_object_set_new(
	    o, "reason", json_string(res_reason_name(c->reason)));
	json_object_set_new(
	    o, "reason_text", json_string(res_reason_text(c->reason)));
	json_object_set_new(o, "detail", jstr(c->detail));
	json_object_set_new(o, "evidence", jstr(c->evidence));
	json_object_set_new(
	    o, "at_ms", c->at_ms > 0 ? json_integer(c->at_ms) : json_null());
	json_object_set_new(o, "at", jtime(c->at_ms));
	return o;
}

static json_t *
json_summary_obj(const struct res_run *run)
{
	json_t *o = json_object(), *stages = json_object(), *st;
	const struct res_stage_stats *x;
	int i;

	json_object_set_new(o, "command", jstr(run->command));
	json_object_set_new(o, "version", jstr(run->version));
	json_object_set_new(o, "args_digest", jstr(run->args_digest));
	json_object_set_new(o, "started_ms",
	    run->started_ms > 0 ? json_integer(run->started_ms) : json_null());
	json_object_set_new(o, "ended_ms",
	    run->ended_ms > 0 ? json_integer(run->ended_ms) : json_null());
	json_object_set_new(o, "started", jtime(run->started_ms));
	json_object_set_new(o, "ended", jtime(run->ended_ms));
	json_object_set_new(o, "duration_ms",
	    run->ended_ms > 0 && run->started_ms > 0 ?
		json_integer(run->ended_ms - run->started_ms) :
		json_null());
	for (i = RES_STAGE_NONE + 1; i < RES_STAGE_COUNT; i++) {
		x = &run->stages[i];
		st = json_object();
		json_object_set_new(st, "tested", json_integer(x->tested));
		json_object_set_new(st, "passed", json_integer(x->passed));
		json_object_set_new(st, "failed", json_integer(x->failed));
		json_object_set_new(
		    st, "duration_ms", json_integer(x->duration_ms));
		json_object_set_new(
		    stages, res_stage_name((enum res_stage)i), st);
	}
	json_object_set_new(o, "stages", stages);
	return o;
}

/* Write j (stolen) compactly, followed by tail. */
static int
json_put(struct rpt_sink *s, json_t *j, const char *tail)
{
	/* ENCODE_ANY: the summary of a checks-only report is a bare null. */
	char *txt = json_dumps(j,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12) |
		JSON_ENCODE_ANY);
	int rc;

	json_decref(j);
	if (txt == NULL)
		return fail(s, "%s", "cannot encode JSON");
	rc = put(s, txt);
	free(txt);
	if (rc == 0 && tail != NULL)
		rc = put(s, tail);
	return rc;
}

static int
json_result(struct rpt_sink *s, const struct res_resolver *r)
{
	if (put(s, s->nresults++ == 0 ? "{\"results\":[\n" : ",\n") != 0)
		return -1;
	return json_put(s, json_result_obj(r), NULL);
}

static int
json_check(struct rpt_sink *s, const struct res_check *c)
{
	if (s->jchecks == NULL)
		s->jchecks = json_array();
	json_array_append_new(s->jchecks, json_check_obj(c));
	return 0;
}

static int
json_close(struct rpt_sink *s)
{
	size_t i, n;

	if (put(s, s->nresults == 0 ? "{\"results\":[\n" : "\n") != 0 ||
	    put(s, "],\n\"checks\":[") != 0)
		return -1;
	n = s->jchecks ? json_array_size(s->jchecks) : 0;
	for (i = 0; i < n; i++) {
		if (put(s, i == 0 ? "\n" : ",\n") != 0)
			return -1;
		if (json_put(s, json_incref(json_array_get(s->jchecks, i)),
			NULL) != 0)
			return -1;
	}
	if (put(s, n ? "\n],\n\"summary\":" : "],\n\"summary\":") != 0)
		return -1;
	if (json_put(s,
		s->have_summary ? json_summary_obj(&s->run) : json_null(),
		NULL) != 0)
		return -1;
	/* The monitoring keys only when a command gave them (check). */
	if (s->jstatus != NULL &&
	    (put(s, ",\n\"status\":") != 0 ||
		json_put(s, json_incref(s->jstatus), NULL) != 0))
		return -1;
	if (s->jperf != NULL &&
	    (put(s, ",\n\"perf\":") != 0 ||
		json_put(s, json_incref(s->jperf), NULL) != 0))
		return -1;
	return put(s, "\n}\n");
}

static json_t *
typed(const char *type, json_t *o)
{
	json_t *t = json_object();

	/* "type" first, then the object's own keys in order. */
	json_object_set_new(t, "type", json_string(type));
	json_object_update(t, o);
	json_decref(o);
	return t;
}

static int
jsonl_result(struct rpt_sink *s, const struct res_resolver *r)
{
	return json_put(s, typed("result", json_result_obj(r)), "\n");
}

static int
jsonl_check(struct rpt_sink *s, const struct res_check *c)
{
	return json_put(s, typed("check", json_check_obj(c)), "\n");
}

static int
jsonl_summary(struct rpt_sink *s, const struct res_run *run)
{
	return json_put(s, typed("summary", json_summary_obj(run)), "\n");
}

/* ---- csv -------------------------------------------------------------- */

static const char *const csv_head[] = {
    "address",
    "port",
    "domain",
    "stage",
    "verdict",
    "reason",
    "rtt_us",
    "upload_mtu",
    "download_mtu",
    "upload_mtu_at_ceiling",
    "download_mtu_at_ceiling",
    "longest_name",
    "max_labels",
    "case_preserved",
    "max_answer_bytes",
    "edns_size",
    "tc_seen",
    "tcp_ok",
    "policy_comp_pair",
    "policy_max_dup",
    "policy_max_setup_dup",
    "policy_max_upload_mtu",
    "policy_max_download_mtu",
    "policy_max_workers",
    "policy_min_ping_ms",
    "policy_max_batch",
    "policy_max_arq_window",
    "policy_max_nack_gap",
    "policy_min_comp_size",
    "policy_min_rto_ms",
    "burst_sent",
    "burst_ok",
    "burst_rate",
    "burst_qps",
    "loss_probes",
    "loss_lost",
    "loss_rate",
    "at_ms",
    "at",
    "evidence",
};

int
rpt_csv_put(FILE *f, const char *v, int first)
{
	char *c = clean_text(v, 0);
	const char *p;
	int rc = 0;

	if (!first && fputc(',', f) == EOF)
		rc = -1;
	if (rc == 0 && strpbrk(c, ",\"\r\n") == NULL) {
		if (fputs(c, f) == EOF)
			rc = -1;
	} else if (rc == 0) {
		if (fputc('"', f) == EOF)
			rc = -1;
		for (p = c; *p != '\0' && rc == 0; p++) {
			if (*p == '"' && fputc('"', f) == EOF)
				rc = -1;
			if (rc == 0 && fputc(*p, f) == EOF)
				rc = -1;
		}
		if (rc == 0 && fputc('"', f) == EOF)
			rc = -1;
	}
	free(c);
	return rc;
}

/* One RFC 4180 field: quoted when it holds , " CR or LF. */
static int
csv_field(struct rpt_sink *s, const char *v, int first)
{
	if (rpt_csv_put(s->out, v, first) != 0)
		return fail(s, "write error: %s", strerror(errno));
	return 0;
}

static int
csv_header(struct rpt_sink *s)
{
	size_t i;

	if (s->header_done)
		return 0;
	s->header_done = 1;
	for (i = 0; i < nitems(csv_head); i++)
		if (csv_field(s, csv_head[i], i == 0) != 0)
			return -1;
	return put(s, "\r\n");
}

static int
csv_result(struct rpt_sink *s, const struct res_resolver *r)
{
	const struct res_policy *p = &r->policy;
	char *f[nitems(csv_head)];
	char buf[64];
	size_t i = 0, k;
	int rc = 0;

	if (csv_header(s) != 0)
		return -1;
	f[i++] = xstrdup(r->addr);
	f[i++] = xasprintf("%u", r->port);
	f[i++] = xstrdup(r->domain);
	f[i++] = xstrdup(res_stage_name(r->stage));
	f[i++] = xstrdup(res_verdict_name(r->verdict));
	f[i++] = xstrdup(res_reason_name(r->reason));
	f[i++] = num_or(r->rtt_us, "");
	f[i++] = num_or(r->upload_mtu, "");
	f[i++] = num_or(r->download_mtu, "");
	f[i++] = xstrdup(tri_short(r->up_at_ceiling, ""));
	f[i++] = xstrdup(tri_short(r->down_at_ceiling, ""));
	f[i++] = num_or(r->shape.longest_name, "");
	f[i++] = num_or(r->shape.max_labels, "");
	f[i++] = xstrdup(tri_short(r->shape.case_preserved, ""));
	f[i++] = num_or(r->shape.max_answer_bytes, "");
	f[i++] = num_or(r->shape.edns_size, "");
	f[i++] = xstrdup(tri_short(r->shape.tc_seen, ""));
	f[i++] = xstrdup(tri_short(r->shape.tcp_ok, ""));
	for (k = 0; k < RES_POLICY_NFIELDS; k++)
		f[i++] = num_or(p->present ? res_policy_get(p, k) : -1, "");
	f[i++] =
	    r->burst_sent > 0 ? xasprintf("%d", r->burst_sent) : xstrdup("");
	f[i++] = r->burst_sent > 0 ? xasprintf("%d", r->burst_ok) : xstrdup("");
	if (r->burst_sent > 0) {
		fmt_fixed(res_burst_rate(r), 3, buf, sizeof buf);
		f[i++] = xstrdup(buf);
	} else
		f[i++] = xstrdup("");
	if (r->burst_qps >= 0) {
		fmt_fixed(r->burst_qps, 1, buf, sizeof buf);
		f[i++] = xstrdup(buf);
	} else
		f[i++] = xstrdup("");
	f[i++] = num_or(r->probes > 0 ? r->probes : -1, "");
	f[i++] = num_or(r->probes > 0 ? r->lost : -1, "");
	if (r->probes > 0) {
		fmt_fixed(res_loss_rate(r), 3, buf, sizeof buf);
		f[i++] = xstrdup(buf);
	} else
		f[i++] = xstrdup("");
	f[i++] = num_or(r->at_ms > 0 ? r->at_ms : -1, "");
	if (r->at_ms > 0) {
		fmt_iso8601_ms(r->at_ms, buf, sizeof buf);
		f[i++] = xstrdup(buf);
	} else
		f[i++] = xstrdup("");
	f[i++] = xstrdup(r->evidence);
	for (k = 0; k < i; k++) {
		if (rc == 0 && csv_field(s, f[k], k == 0) != 0)
			rc = -1;
		free(f[k]);
	}
	if (rc == 0)
		rc = put(s, "\r\n");
	return rc;
}

static int
csv_check(struct rpt_sink *s, const struct res_check *c)
{
	return fail(s, "%s",
	    "format csv carries resolver results only; "
	    "use json or jsonl for checks");
}

static int
csv_close(struct rpt_sink *s)
{
	return csv_header(s);
}

/* ---- ips -------------------------------------------------------------- */

static int
ips_result(struct rpt_sink *s, const struct res_resolver *r)
{
	char buf[RES_ADDR_MAX + 16];
	char *c;
	int rc = 0;

	if (r->verdict != RES_VERDICT_OK)
		return 0;
	rpt_resolver_text(r->addr, r->port, buf, sizeof buf);
	if (!hmap_strset_add(&s->seen, buf))
		return 0;
	c = clean_text(buf, 1);
	if (put(s, c) != 0 || put(s, "\n") != 0)
		rc = -1;
	free(c);
	return rc;
}

/* ---- the table of formats -------------------------------------------- */

static int
buffer_summary(struct rpt_sink *s, const struct res_run *run)
{
	return 0;
}

static int
ignore_check(struct rpt_sink *s, const struct res_check *c)
{
	return 0;
}

static int
nothing(struct rpt_sink *s)
{
	return 0;
}

/* ---- perf and status in json / jsonl --------------------------------- */

static json_t *
jdouble(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
json_perf_obj(const struct rpt_perf *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "label", jstr(p->label ? p->label : ""));
	json_object_set_new(o, "value", jdouble(p->value));
	json_object_set_new(o, "uom", jstr(p->uom ? p->uom : ""));
	json_object_set_new(o, "warn", p->warn ? jstr(p->warn) : json_null());
	json_object_set_new(o, "crit", p->crit ? jstr(p->crit) : json_null());
	json_object_set_new(o, "min", jdouble(p->min));
	json_object_set_new(o, "max", jdouble(p->max));
	return o;
}

static json_t *
json_status_obj(int code, const char *text)
{
	json_t *o = json_object();

	json_object_set_new(o, "code", json_integer(code));
	json_object_set_new(o, "state", json_string(rpt_state_name(code)));
	json_object_set_new(o, "text", jstr(text ? text : ""));
	return o;
}

static int
json_perf(struct rpt_sink *s, const struct rpt_perf *p)
{
	if (s->jperf == NULL)
		s->jperf = json_array();
	json_array_append_new(s->jperf, json_perf_obj(p));
	return 0;
}

static int
json_status(struct rpt_sink *s, int code, const char *text)
{
	json_decref(s->jstatus);
	s->jstatus = json_status_obj(code, text);
	return 0;
}

static int
jsonl_perf(struct rpt_sink *s, const struct rpt_perf *p)
{
	return json_put(s, typed("perf", json_perf_obj(p)), "\n");
}

static int
jsonl_status(struct rpt_sink *s, int code, const char *text)
{
	return json_put(s, typed("status", json_status_obj(code, text)), "\n");
}

static const struct rpt_ops formats[] = {
    {"text", text_result, text_check, buffer_summary, text_close, NULL, NULL},
    {"json", json_result, json_check, buffer_summary, json_close, json_perf,
	json_status},
    {"jsonl", jsonl_result, jsonl_check, jsonl_summary, nothing, jsonl_perf,
	jsonl_status},
    {"csv", csv_result, csv_check, buffer_summary, csv_close, NULL, NULL},
    {"ips", ips_result, ignore_check, buffer_summary, nothing, NULL, NULL},
    {"prom", rpt_mon_result, rpt_mon_check, rpt_mon_summary, rpt_prom_close,
	rpt_mon_perf, rpt_mon_status},
    {"nagios", rpt_mon_result, rpt_mon_check, rpt_mon_summary, rpt_nagios_close,
	rpt_mon_perf, rpt_mon_status},
};

const char *
rpt_formats(void)
{
	return "text, json, jsonl, csv, ips, prom, nagios";
}

struct rpt_sink *
rpt_open(const char *fmt, FILE *out, struct err *e)
{
	struct rpt_sink *s;
	size_t i;

	for (i = 0; i < nitems(formats); i++) {
		if (fmt != NULL && strcmp(fmt, formats[i].name) == 0)
			break;
	}
	if (i == nitems(formats)) {
		err_set(e, "unknown format '%s' (valid: %s)", fmt ? fmt : "",
		    rpt_formats());
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->ops = &formats[i];
	s->out = out;
	s->rows.ncols = nitems(text_head);
	s->checks.ncols = nitems(check_head);
	return s;
}

void
rpt_set_width(struct rpt_sink *s, int columns)
{
	s->width = columns > 0 ? columns : 0;
}

int
rpt_term_width(FILE *f)
{
	struct winsize ws;
	const char *env;
	long long v;
	struct err e;

	if (f == NULL || !isatty(fileno(f)))
		return 0;
	env = getenv("COLUMNS");
	if (env != NULL && parse_int(env, 20, 10000, &v, &e) == 0)
		return (int)v;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

int
rpt_result(struct rpt_sink *s, const struct res_resolver *r)
{
	return s->ops->result(s, r);
}

int
rpt_check(struct rpt_sink *s, const struct res_check *c)
{
	return s->ops->check(s, c);
}

int
rpt_summary(struct rpt_sink *s, const struct res_run *run)
{
	s->run = *run;
	s->have_summary = 1;
	return s->ops->summary(s, run);
}

const char *
rpt_error(const struct rpt_sink *s)
{
	return s->err[0] ? s->err : NULL;
}

int
rpt_close(struct rpt_sink *s, struct err *e)
{
	int rc;

	if (s == NULL)
		return 0;
	rc = s->ops->close(s);
	if (fflush(s->out) == EOF || ferror(s->out))
		rc = fail(s, "write error: %s", strerror(errno));
	if (s->err[0] != '\0') {
		err_set(e, "%s", s->err);
		rc = -1;
	}
	table_free(&s->rows);
	table_free(&s->checks);
	json_decref(s->jchecks);
	json_decref(s->jperf);
	json_decref(s->jstatus);
	rpt_mon_free(s->mon);
	hmap_strset_free(&s->seen);
	free(s);
	return rc;
}

int
rpt_perf(struct rpt_sink *s, const struct rpt_perf *p)
{
	return s->ops->perf != NULL ? s->ops->perf(s, p) : 0;
}

int
rpt_status(struct rpt_sink *s, int code, const char *text)
{
	return s->ops->status != NULL ? s->ops->status(s, code, text) : 0;
}

const char *
rpt_state_name(int code)
{
	static const char *const names[] = {
	    "OK", "WARNING", "CRITICAL", "UNKNOWN"};

	return code >= 0 && code <= 3 ? names[code] : "UNKNOWN";
}

/* ---- for sink-mon.c ---------------------------------------------------- */

FILE *
rpt_out(struct rpt_sink *s)
{
	return s->out;
}

int
rpt_fail(struct rpt_sink *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(s->err, sizeof s->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const struct res_run *
rpt_run(const struct rpt_sink *s)
{
	return s->have_summary ? &s->run : NULL;
}

struct rpt_mon **
rpt_mon_slot(struct rpt_sink *s)
{
	return &s->mon;
}

char *
rpt_clean_text(const char *str, int oneline)
{
	return clean_text(str, oneline);
}

void
rpt_fmt_fixed(double v, int dec, char *buf, size_t len)
{
	fmt_fixed(v, dec, buf, len);
}

size_t
rpt_text_width(const char *str)
{
	return text_width(str);
}
