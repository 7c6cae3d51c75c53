/* SPDX-License-Identifier: MIT */
/*
 * args.c — the declarative option parser of args.h: parsing against a
 * command's option table plus the global one, typed getters that print
 * their own one-line errors, help and usage generated from the same
 * tables, and the "did you mean" suggestion for mistyped names.
 *
 * It does not act on options (cli/main.c applies the global ones, the
 * command reads its own) and keeps no state between calls: values point
 * into argv.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define HELP_COL   23 /* help text starts here, as the hand-written help did */
#define USAGE_COLS 79

/* ---- lookup ---------------------------------------------------------- */

static const struct args_opt *
cmd_opts(const struct args *a)
{
	return a->cmd != NULL ? a->cmd->args.opts : NULL;
}

static const struct args_opt *
find_key(const struct args_opt *o, int key)
{
	for (; o != NULL && o->key != 0; o++)
		if (o->key == key)
			return o;
	return NULL;
}

static const struct args_opt *
find_short(const struct args *a, const struct args_opt *g, int c)
{
	const struct args_opt *o = find_key(cmd_opts(a), c);

	return o != NULL ? o : find_key(g, c);
}

/* Exact long name, else a unique prefix; *ambiguous set when several. */
static const struct args_opt *
find_long(const struct args *a, const struct args_opt *g, const char *name,
    size_t len, int *ambiguous)
{
	const struct args_opt *sets[2] = {cmd_opts(a), g}, *o, *hit = NULL;
	size_t s;
	int n = 0;

	*ambiguous = 0;
	for (s = 0; s < 2; s++)
		for (o = sets[s]; o != NULL && o->key != 0; o++)
			if (o->name != NULL && strlen(o->name) == len &&
			    strncmp(o->name, name, len) == 0)
				return o;
	for (s = 0; s < 2; s++)
		for (o = sets[s]; o != NULL && o->key != 0; o++)
			if (o->name != NULL &&
			    strncmp(o->name, name, len) == 0) {
				hit = o;
				n++;
			}
	*ambiguous = n > 1;
	return n == 1 ? hit : NULL;
}

/* A command may not redeclare a global option (it would shadow it). */
static int
check_table(const struct args *a, const struct args_opt *g)
{
	const struct args_opt *o, *x;

	for (o = cmd_opts(a); o != NULL && o->key != 0; o++)
		for (x = g; x != NULL && x->key != 0; x++)
			if (o->key == x->key ||
			    (o->name != NULL && x->name != NULL &&
				strcmp(o->name, x->name) == 0)) {
				cli_error(a->cmd,
				    "internal error: the command redeclares "
				    "global option %s",
				    x->name ? x->name : "(short)");
				return -1;
			}
	return 0;
}

/* ---- parsing --------------------------------------------------------- */

static void
push(struct args *a, const struct args_opt *o, int longform, const char *value)
{
	a->v = xreallocarray(a->v, a->nv + 1, sizeof *a->v);
	a->v[a->nv].key = o->key;
	a->v[a->nv].opt = o;
	a->v[a->nv].longform = longform;
	a->v[a->nv].value = value;
	a->nv++;
}

const char *
args_list(const char *items, int sep, char *buf, size_t len)
{
	size_t n = 0;

	for (; *items != '\0' && n + 3 < len; items++) {
		if (*items == sep) {
			buf[n++] = ',';
			buf[n++] = ' ';
		} else {
			buf[n++] = *items;
		}
	}
	buf[n] = '\0';
	return buf;
}

/* Index of value in list ("a|b|c" with sep '|'), or -1. */
static int
list_index(const char *list, int sep, const char *value)
{
	size_t n = strlen(value);
	const char *p = list, *end;
	int i = 0;

	for (; p != NULL; i++) {
		end = strchr(p, sep);
		if ((size_t)((end ? end : p + strlen(p)) - p) == n &&
		    strncmp(p, value, n) == 0)
			return i;
		p = end ? end + 1 : NULL;
	}
	return -1;
}

/* The option as the user wrote it ("-d" or "--delay"), for messages. */
static const char *
spell(const struct args_opt *o, int longform, char *buf, size_t len)
{
	if (longform && o->name != NULL)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->key);
	return buf;
}

static int
take(struct args *a, const struct args_opt *o, int longform, const char *value)
{
	char list[256], sp[64];

	if (o->arg != NULL && strchr(o->arg, '|') != NULL &&
	    list_index(o->arg, '|', value) < 0) {
		cli_error(a->cmd, "%s: %s is not one of %s",
		    spell(o, longform, sp, sizeof sp), value,
		    args_list(o->arg, '|', list, sizeof list));
		return -1;
	}
	push(a, o, longform, value);
	return 0;
}

static void
unknown_long(
    struct args *a, const struct args_opt *g, const char *word, size_t len)
{
	const char *names[128];
	const struct args_opt *sets[2] = {cmd_opts(a), g}, *o;
	char name[64], hint[160];
	size_t n = 0, s;

	for (s = 0; s < 2; s++)
		for (o = sets[s]; o != NULL && o->key != 0 && n < 128; o++)
			if (o->name != NULL)
				names[n++] = o->name;
	snprintf(name, sizeof name, "%.*s", (int)MIN(len, 63), word);
	if (args_suggest(name, names, n, hint, sizeof hint) == 0)
		cli_error(a->cmd, "unknown option: --%s (did you mean --%s?)",
		    name, hint);
	else
		cli_error(a->cmd, "unknown option: --%s", name);
}

static int
parse_long(
    struct args *a, const struct args_opt *g, int argc, char **argv, int *i)
{
	const char *word = argv[*i] + 2, *eq = strchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	const struct args_opt *o;
	int ambiguous;

	o = find_long(a, g, word, len, &ambiguous);
	if (o == NULL && ambiguous) {
		cli_error(a->cmd, "ambiguous option: --%.*s", (int)len, word);
		return -1;
	}
	if (o == NULL) {
		unknown_long(a, g, word, len);
		return -1;
	}
	if (o->arg == NULL) {
		if (eq != NULL) {
			cli_error(
			    a->cmd, "option --%s takes no value", o->name);
			return -1;
		}
		push(a, o, 1, NULL);
		return 0;
	}
	if (eq != NULL)
		return take(a, o, 1, eq + 1);
	if (o->flags & ARGS_OPTIONAL) {
		push(a, o, 1, NULL);
		return 0;
	}
	if (*i + 1 >= argc) {
		cli_error(a->cmd, "option --%s needs an argument", o->name);
		return -1;
	}
	return take(a, o, 1, argv[++*i]);
}

static int
parse_shorts(
    struct args *a, const struct args_opt *g, int argc, char **argv, int *i)
{
	const char *p = argv[*i] + 1;
	const struct args_opt *o;

	for (; *p != '\0'; p++) {
		o = find_short(a, g, (unsigned char)*p);
		if (o == NULL) {
			cli_error(a->cmd, "unknown option: -%c", *p);
			return -1;
		}
		if (o->arg == NULL) {
			push(a, o, 0, NULL);
			continue;
		}
		if (p[1] != '\0')
			return take(a, o, 0, p + 1);
		if (*i + 1 >= argc) {
			cli_error(a->cmd, "option -%c needs an argument", *p);
			return -1;
		}
		return take(a, o, 0, argv[++*i]);
	}
	return 0;
}

int
args_parse(struct args *a, const struct cmd_entry *cmd,
    const struct args_opt *globals, int argc, char **argv, unsigned flags)
{
	int i, rc = 0, opts_done = 0;

	memset(a, 0, sizeof *a);
	a->cmd = cmd;
	a->operands = xcalloc((size_t)argc + 1, sizeof *a->operands);
	if (check_table(a, globals) != 0)
		return -1;
	for (i = 0; i < argc && rc == 0; i++) {
		const char *s = argv[i];

		if (opts_done || s[0] != '-' || s[1] == '\0') {
			if (flags & ARGS_STOP)
				break;
			a->operands[a->noperands++] = argv[i];
		} else if (strcmp(s, "--") == 0) {
			if (flags & ARGS_STOP) {
				i++;
				break;
			}
			opts_done = 1;
		} else if (s[1] == '-') {
			rc = parse_long(a, globals, argc, argv, &i);
		} else {
			rc = parse_shorts(a, globals, argc, argv, &i);
		}
	}
	a->next = i;
	return rc;
}

int
args_check(const struct args *a)
{
	const struct args_spec *s = &a->cmd->args;

	if (a->noperands < s->min_operands) {
		cli_error(a->cmd, "missing %s",
		    s->operands ? s->operands : "arguments");
		return -1;
	}
	if (s->max_operands >= 0 && a->noperands > s->max_operands) {
		cli_error(a->cmd, "unexpected argument: %s",
		    a->operands[s->max_operands]);
		return -1;
	}
	return 0;
}

void
args_free(struct args *a)
{
	free(a->v);
	free(a->operands);
	memset(a, 0, sizeof *a);
}

/* ---- getters --------------------------------------------------------- */

static const struct args_val *
last(const struct args *a, int key)
{
	size_t i;

	for (i = a->nv; i > 0; i--)
		if (a->v[i - 1].key == key)
			return &a->v[i - 1];
	return NULL;
}

int
args_has(const struct args *a, int key)
{
	size_t i;
	int n = 0;

	for (i = 0; i < a->nv; i++)
		n += a->v[i].key == key;
	return n;
}

const char *
args_get(const struct args *a, int key)
{
	const struct args_val *v = last(a, key);

	return v != NULL ? v->value : NULL;
}

const char *
args_value(const struct args *a, int key, size_t n)
{
	size_t i;

	for (i = 0; i < a->nv; i++)
		if (a->v[i].key == key && n-- == 0)
			return a->v[i].value;
	return NULL;
}

/*
 * text (the whole value of v, or one part of it) as an integer in
 * [min, max]: 0, or -1 after printing "-x: not a number: abc" or
 * "-x: 70000 is out of range (1..65535)".
 */
static int
to_num(const struct args *a, const struct args_val *v, const char *text,
    long long min, long long max, long long *out)
{
	char sp[64], *end;
	long long n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (end == text || *end != '\0') {
		cli_error(a->cmd, "%s: not a number: %s",
		    spell(v->opt, v->longform, sp, sizeof sp), text);
		return -1;
	}
	if (errno == ERANGE || n < min || n > max) {
		cli_error(a->cmd, "%s: %s is out of range (%lld..%lld)",
		    spell(v->opt, v->longform, sp, sizeof sp), text, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
args_strtonum(
    const struct args *a, int key, long long min, long long max, long long *out)
{
	const struct args_val *v = last(a, key);

	if (v == NULL || v->value == NULL)
		return 0;
	return to_num(a, v, v->value, min, max, out);
}

int
args_range(const struct args *a, int key, long long min, long long max,
    long long *lo, long long *hi)
{
	const struct args_val *v = last(a, key);
	const char *colon;
	char sp[64], part[32];
	long long x, y;

	if (v == NULL || v->value == NULL)
		return 0;
	colon = strchr(v->value, ':');
	if (colon == NULL || (size_t)(colon - v->value) >= sizeof part) {
		cli_error(a->cmd, "%s: not MIN:MAX: %s",
		    spell(v->opt, v->longform, sp, sizeof sp), v->value);
		return -1;
	}
	snprintf(part, sizeof part, "%.*s", (int)(colon - v->value), v->value);
	if (to_num(a, v, part, min, max, &x) != 0 ||
	    to_num(a, v, colon + 1, min, max, &y) != 0)
		return -1;
	if (x > y) {
		cli_error(a->cmd, "%s: MIN above MAX: %s",
		    spell(v->opt, v->longform, sp, sizeof sp), v->value);
		return -1;
	}
	*lo = x;
	*hi = y;
	return 0;
}

/* ms as seconds without trailing zeros: 100 -> "0.1", 60000 -> "60". */
static void
fmt_seconds(unsigned ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%u", ms / 1000);
	else if (ms % 100 == 0)
		snprintf(buf, len, "%u.%u", ms / 1000, ms % 1000 / 100);
	else
		snprintf(buf, len, "%u.%03u", ms / 1000, ms % 1000);
}

int
args_seconds(const struct args *a, int key, unsigned min_ms, unsigned max_ms,
    unsigned *out_ms)
{
	const struct args_val *v = last(a, key);
	char lo[32], hi[32], sp[64], *end;
	double d;

	if (v == NULL || v->value == NULL)
		return 0;
	d = strtod(v->value, &end);
	if (end == v->value || *end != '\0' || !isfinite(d) ||
	    d * 1000 < min_ms - 0.5 || d * 1000 > max_ms + 0.5) {
		fmt_seconds(min_ms, lo, sizeof lo);
		fmt_seconds(max_ms, hi, sizeof hi);
		cli_error(a->cmd,
		    "%s: not a number of seconds from %s to %s: %s",
		    spell(v->opt, v->longform, sp, sizeof sp), lo, hi,
		    v->value);
		return -1;
	}
	*out_ms = (unsigned)(d * 1000 + 0.5);
	return 0;
}

int
args_choice(const struct args *a, int key, int dflt)
{
	const struct args_val *v = last(a, key);
	const struct args_opt *o;

	if (v == NULL || v->value == NULL ||
	    (o = find_key(cmd_opts(a), key)) == NULL || o->arg == NULL)
		return dflt;
	return list_index(o->arg, '|', v->value);
}

int
args_format_offered(const struct args_spec *spec, const char *fmt)
{
	return spec->formats != NULL &&
	    list_index(spec->formats, ',', fmt) >= 0;
}

/* ---- help ------------------------------------------------------------ */

/* Print word, breaking the line first when it would pass USAGE_COLS. */
static void
usage_word(FILE *f, const char *word, int indent, int *col)
{
	int len = (int)strlen(word);

	if (*col + 1 + len > USAGE_COLS && *col > indent) {
		fprintf(f, "\n%*s", indent, "");
		*col = indent;
	} else {
		fputc(' ', f);
		(*col)++;
	}
	fputs(word, f);
	*col += len;
}

void
args_usage(FILE *f, const struct cmd_entry *cmd)
{
	const struct args_spec *s = &cmd->args;
	const struct args_opt *o;
	char w[160], fl[96];
	int col, indent;

	col = fprintf(f, "usage: mdns-doctor %s", cmd->name);
	indent = col + 1;
	for (o = s->opts; o != NULL && o->key != 0; o++) {
		if (o->key < ARGS_LONG)
			snprintf(fl, sizeof fl, "-%c", o->key);
		else
			snprintf(fl, sizeof fl, "--%s", o->name);
		if (o->arg != NULL && (o->flags & ARGS_OPTIONAL))
			snprintf(w, sizeof w, "[%s[=%s]]", fl, o->arg);
		else
			snprintf(w, sizeof w, "[%s%s%s]%s", fl,
			    o->arg ? " " : "", o->arg ? o->arg : "",
			    o->flags & ARGS_REPEAT ? "..." : "");
		usage_word(f, w, indent, &col);
	}
	if (s->formats != NULL) {
		snprintf(fl, sizeof fl, "%s", s->formats);
		for (char *p = fl; (p = strchr(p, ',')) != NULL;)
			*p = '|';
		snprintf(w, sizeof w, "[--format %s]", fl);
		usage_word(f, w, indent, &col);
	}
	if (s->operands != NULL)
		usage_word(f, s->operands, indent, &col);
	fputc('\n', f);
}

void
args_put_wrapped(FILE *f, int col, int indent, const char *text)
{
	const int width = 79;
	const char *p = text, *brk, *q;
	size_t len;

	for (;;) {
		len = strcspn(p, "\n");
		if (col + (int)len <= width) {
			brk = p + len;
		} else {
			/* The last space that keeps the line within the
			 * width; a word longer than the line goes whole. */
			brk = NULL;
			for (q = p; q < p + len && col + (q - p) <= width; q++)
				if (*q == ' ')
					brk = q;
			if (brk == NULL) {
				brk = memchr(p, ' ', len);
				if (brk == NULL)
					brk = p + len;
			}
		}
		fprintf(f, "%.*s\n", (int)(brk - p), p);
		if (*brk == '\0')
			return;
		p = brk + 1;
		col = fprintf(f, "%*s", indent, "");
	}
}

/* One help entry: left column, then the text (continuation lines too). */
static void
help_line(FILE *f, const char *left, const char *text)
{
	int col = fprintf(f, "  %s", left);

	if (col > HELP_COL - 2) {
		fputc('\n', f);
		col = 0;
	}
	fprintf(f, "%*s", HELP_COL - col, "");
	args_put_wrapped(f, HELP_COL, HELP_COL, text);
}

void
args_help_opt(FILE *f, const struct args_opt *o)
{
	char left[160];
	int n;

	if (o->key < ARGS_LONG && o->name != NULL)
		n = snprintf(left, sizeof left, "-%c, --%s", o->key, o->name);
	else if (o->key < ARGS_LONG)
		n = snprintf(left, sizeof left, "-%c", o->key);
	else
		n = snprintf(left, sizeof left, "--%s", o->name);
	if (o->arg != NULL && n >= 0 && (size_t)n < sizeof left)
		snprintf(left + n, sizeof left - (size_t)n,
		    o->flags & ARGS_OPTIONAL ? "[=%s]" : " %s", o->arg);
	help_line(f, left, o->help ? o->help : "");
}

void
args_help_opts(FILE *f, const struct args_opt *o)
{
	for (; o != NULL && o->key != 0; o++)
		args_help_opt(f, o);
}

void
args_help_formats(FILE *f, const struct args_spec *spec)
{
	char text[160];
	const char *p = spec->formats, *comma;
	size_t n = 0;

	if (p == NULL)
		return;
	n += (size_t)snprintf(text, sizeof text, "output:");
	for (; p != NULL && n < sizeof text; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		n += (size_t)snprintf(text + n, sizeof text - n, "%s %.*s%s",
		    p == spec->formats ? "" : ",",
		    (int)(comma ? comma - p : (long)strlen(p)), p,
		    p == spec->formats ? " (default)" : "");
	}
	help_line(f, "--format FMT", text);
}

/* ---- suggestions ----------------------------------------------------- */

/*
 * Edit distance with adjacent swaps (optimal string alignment), capped:
 * names here are short, longer ones are simply "far".
 */
static int
distance(const char *s, const char *t)
{
	enum { MAXL = 32 };
	int d[MAXL + 1][MAXL + 1], i, j, c, v;
	int m = (int)strlen(s), n = (int)strlen(t);

	if (m > MAXL || n > MAXL)
		return 99;
	for (i = 0; i <= m; i++)
		d[i][0] = i;
	for (j = 0; j <= n; j++)
		d[0][j] = j;
	for (i = 1; i <= m; i++)
		for (j = 1; j <= n; j++) {
			c = s[i - 1] != t[j - 1];
			v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
			v = MIN(v, d[i - 1][j - 1] + c);
			if (i > 1 && j > 1 && s[i - 1] == t[j - 2] &&
			    s[i - 2] == t[j - 1])
				v = MIN(v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	return d[m][n];
}

int
args_suggest(
    const char *word, const char *const *cands, size_t n, char *buf, size_t len)
{
	int best = 99, d, limit = strlen(word) <= 3 ? 1 : 2;
	size_t i, k;
	int found = 0;

	for (i = 0; i < n; i++)
		if (cands[i] != NULL && (d = distance(word, cands[i])) < best)
			best = d;
	if (best > limit)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (cands[i] == NULL || distance(word, cands[i]) != best)
			continue;
		for (k = 0; k < i; k++) /* an alias may repeat a name */
			if (cands[k] != NULL && strcmp(cands[k], cands[i]) == 0)
				break;
		if (k < i)
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    found ? " or " : "", cands[i]);
		found = 1;
	}
	return 0;
}
