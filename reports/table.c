/* SPDX-License-Identifier: MIT */
/*
 * table.c — generic tables in text, json and csv (sink.h, rpt_table_*):
 * the listings `history` prints that are not resolver results (runs,
 * the last-known-good list, differences between runs). Text is
 * buffered and aligned at close (numbers right, the last column never
 * padded); json and csv stream their rows.
 *
 * Cells are text; it does not format numbers or times (the caller does,
 * so that text and csv show the same value) and never prints anywhere
 * but the FILE it was given. Wire text is made valid UTF-8, and one line
 * per row in text (sink.c's rules).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reports/sink-int.h"
#include "reports/sink.h"

enum { T_TEXT, T_JSON, T_CSV };

struct rpt_table {
	int fmt;
	FILE *out;
	const struct rpt_col *cols;
	size_t ncols;
	char **cells; /* text: nrows * ncols */
	size_t nrows, cap;
	int fail; /* a write failed */
	int errnum;
	const char *key;
	int opened;   /* json: the array has begun */
	json_t *meta; /* json: members before the array */
};

struct rpt_table *
rpt_table_open(const char *fmt, FILE *out, const char *json_key,
    const struct rpt_col *cols, size_t ncols, struct err *e)
{
	struct rpt_table *t;
	int f;
	size_t i;

	if (strcmp(fmt, "text") == 0)
		f = T_TEXT;
	else if (strcmp(fmt, "json") == 0)
		f = T_JSON;
	else if (strcmp(fmt, "csv") == 0)
		f = T_CSV;
	else {
		err_set(e, "unknown table format '%s' (valid: text, json, csv)",
		    fmt);
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->fmt = f;
	t->out = out;
	t->cols = cols;
	t->ncols = ncols;
	t->key = json_key ? json_key : "rows";
	if (f == T_CSV) {
		for (i = 0; i < ncols && !t->fail; i++)
			t->fail = rpt_csv_put(out, cols[i].name, i == 0) != 0;
		if (!t->fail && fputs("\r\n", out) == EOF)
			t->fail = 1;
	}
	return t;
}

static json_t *
json_cell(const struct rpt_col *c, const char *v)
{
	char *clean, *end;
	json_t *j;

	if (v == NULL)
		return json_null();
	if (c->type == RPT_COL_INT) {
		long long n = strtoll(v, &end, 10);

		if (end != v && *end == '\0')
			return json_integer(n);
	} else if (c->type == RPT_COL_NUM) {
		double d = strtod(v, &end);

		if (end != v && *end == '\0')
			return json_real(d);
	}
	clean = rpt_clean_text(v, 0);
	j = json_string(clean);
	free(clean);
	return j ? j : json_string("");
}

int
rpt_table_meta(struct rpt_table *t, const char *key, const char *value,
    enum rpt_col_type type)
{
	struct rpt_col c = {key, type};

	if (t->fail || t->opened)
		return -1;
	if (t->fmt == T_TEXT)
		t->fail =
		    fprintf(t->out, "%s: %s\n", key, value ? value : "-") < 0;
	else if (t->fmt == T_JSON) {
		if (t->meta == NULL)
			t->meta = json_object();
		json_object_set_new(t->meta, key, json_cell(&c, value));
	}
	return t->fail ? -1 : 0;
}

/* json: the members given by rpt_table_meta, then the array's start. */
static void
json_open(struct rpt_table *t)
{
	char *m = NULL;

	if (t->opened)
		return;
	t->opened = 1;
	if (t->meta != NULL)
		m = json_dumps(t->meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
	/* m is "{...}": its members without the closing brace, then ours. */
	if (m != NULL && strlen(m) > 2) {
		m[strlen(m) - 1] = '\0';
		t->fail = fprintf(t->out, "%s,\n\"%s\":[", m, t->key) < 0;
	} else
		t->fail = fprintf(t->out, "{\"%s\":[", t->key) < 0;
	free(m);
}

int
rpt_table_row(struct rpt_table *t, const char *const *cells)
{
	json_t *o;
	char *txt;
	size_t i;

	if (t->fail)
		return -1;
	switch (t->fmt) {
	case T_TEXT:
		if (t->nrows == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 16;
			t->cells = xreallocarray(
			    t->cells, t->cap * t->ncols, sizeof *t->cells);
		}
		for (i = 0; i < t->ncols; i++)
			t->cells[t->nrows * t->ncols + i] =
			    rpt_clean_text(cells[i] ? cells[i] : "-", 1);
		t->nrows++;
		return 0;
	case T_JSON:
		json_open(t);
		o = json_object();
		for (i = 0; i < t->ncols; i++)
			json_object_set_new(o, t->cols[i].name,
			    json_cell(&t->cols[i], cells[i]));
		txt = json_dumps(o,
		    JSON_COMPACT | JSON_PRESERVE_ORDER |
			JSON_REAL_PRECISION(12));
		json_decref(o);
		if (txt == NULL ||
		    fprintf(t->out, "%s%s", t->nrows++ == 0 ? "\n" : ",\n",
			txt) < 0)
			t->fail = 1;
		free(txt);
		break;
	default:
		for (i = 0; i < t->ncols && !t->fail; i++)
			t->fail = rpt_csv_put(t->out, cells[i] ? cells[i] : "",
				      i == 0) != 0;
		if (!t->fail && fputs("\r\n", t->out) == EOF)
			t->fail = 1;
		t->nrows++;
	}
	if (t->fail)
		t->errnum = errno;
	return t->fail ? -1 : 0;
}

static int
is_number_col(const struct rpt_col *c)
{
	return c->type == RPT_COL_INT || c->type == RPT_COL_NUM;
}

static void
text_print(struct rpt_table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof *w), r, c, pad, cw;
	char **head = xcalloc(t->ncols, sizeof *head), *p;
	const char *cell;

	for (c = 0; c < t->ncols; c++) {
		head[c] = xstrdup(t->cols[c].name);
		for (p = head[c]; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		w[c] = rpt_text_width(head[c]);
		for (r = 0; r < t->nrows; r++)
			w[c] = MAX(
			    w[c], rpt_text_width(t->cells[r * t->ncols + c]));
	}
	for (r = 0; r <= t->nrows && !t->fail; r++) {
		for (c = 0; c < t->ncols && !t->fail; c++) {
			cell =
			    r == 0 ? head[c] : t->cells[(r - 1) * t->ncols + c];
			cw = rpt_text_width(cell);
			pad = w[c] - cw;
			if (c > 0 && fputs("  ", t->out) == EOF)
				t->fail = 1;
			for (; is_number_col(&t->cols[c]) && pad > 0; pad--)
				fputc(' ', t->out);
			if (fputs(cell, t->out) == EOF)
				t->fail = 1;
			for (; c + 1 < t->ncols && pad > 0; pad--)
				fputc(' ', t->out);
		}
		if (fputc('\n', t->out) == EOF)
			t->fail = 1;
	}
	for (c = 0; c < t->ncols; c++)
		free(head[c]);
	free(head);
	free(w);
}

int
rpt_table_close(struct rpt_table *t, const char *empty, struct err *e)
{
	size_t i;
	int rc;

	if (t == NULL)
		return 0;
	if (!t->fail) {
		if (t->fmt == T_TEXT && t->nrows > 0)
			text_print(t);
		else if (t->fmt == T_TEXT && empty != NULL)
			t->fail = fprintf(t->out, "%s\n", empty) < 0;
		else if (t->fmt == T_JSON) {
			json_open(t);
			t->fail = t->fail ||
			    fputs(t->nrows ? "\n]}\n" : "]}\n", t->out) == EOF;
		}
	}
	rc = t->fail || fflush(t->out) == EOF || ferror(t->out) ? -1 : 0;
	if (rc != 0)
		err_set(e, "write error: %s",
		    strerror(t->errnum ? t->errnum : errno));
	for (i = 0; i < t->nrows * t->ncols && t->fmt == T_TEXT; i++)
		free(t->cells[i]);
	free(t->cells);
	json_decref(t->meta);
	free(t);
	return rc;
}
