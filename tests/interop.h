/* SPDX-License-Identifier: MIT */
/*
 * interop.h — the team's captured MasterDnsVPN traffic
 * ($MDNS_SHARED/interop, see the README there) as the interop unit tests
 * read it. Header only, like tap.h; needs jansson and common/util.h.
 *
 * Which files are captures: a .jsonl file whose first line is an object
 * with a "scenario" string. Every other .jsonl file there (the RaptorQ
 * vectors fec-vectors.jsonl) is not traffic and is left out by that rule,
 * named in a diagnostic. tests/golden/interop-captures.txt lists the
 * captures the suite expects; icap_list() asserts that each of them was
 * found, so a missing or renamed capture fails instead of quietly
 * shrinking the tests.
 *
 * Lines with "app": true (s8) are an application's DNS query and the
 * answer it got from the client's local DNS listener, not tunnel
 * messages: icap_load() leaves them out of lines[] and says how many in a
 * diagnostic. It also pairs every response with its query: by
 * decoded.answers_query_n where the capture gives it, otherwise (s8, s9)
 * by DNS id and QNAME, the earliest query not yet answered (the only
 * repeats are the byte-identical SESSION_INIT copies).
 */
#ifndef MDNS_TESTS_INTEROP_H
#define MDNS_TESTS_INTEROP_H

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/tap.h"

struct icap {
	char *name;	/* file name, "s1-xor-raw.jsonl" */
	json_t *hdr;	/* line 1 */
	json_t **lines; /* tunnel messages in capture order (no app lines) */
	int *lineno;	/* file line of each */
	long *peer;	/* query <-> its response, as an index in lines; -1 */
	size_t nlines;
	size_t napp; /* "app" lines left out */
	size_t nbad; /* lines that are not JSON (a failed assertion) */
};

static inline const char *
icap_dir(void)
{
	static char dir[4096];

	snprintf(dir, sizeof dir, "%s/interop", tap_shared_dir());
	return dir;
}

static inline int
icap_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Line 1 of path as JSON (NULL when it cannot be read or parsed). */
static inline json_t *
icap_first_line(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *lb = NULL;
	size_t cap = 0;
	json_t *j = NULL;

	if (fp == NULL)
		return NULL;
	if (getline(&lb, &cap, fp) > 0)
		j = json_loads(lb, 0, NULL);
	free(lb);
	fclose(fp);
	return j;
}

static inline bool
icap_is_capture(const char *path)
{
	json_t *h = icap_first_line(path);
	bool yes =
	    json_is_object(h) && json_is_string(json_object_get(h, "scenario"));

	json_decref(h);
	return yes;
}

/*
 * The expected captures missing from names[0..n): one TAP assertion.
 * The list is tests/golden/interop-captures.txt under $MDNS_TOP (default
 * the current directory, where tests/run.sh starts every test).
 */
static inline void
icap_expect(char *const *names, size_t n)
{
	const char *top = getenv("MDNS_TOP");
	char *path = xasprintf(
	    "%s/tests/golden/interop-captures.txt", top && *top ? top : ".");
	FILE *fp = fopen(path, "r");
	char *lb = NULL, missing[1024] = "";
	size_t cap = 0, want = 0, found = 0, i;
	ssize_t len;

	while (fp != NULL && (len = getline(&lb, &cap, fp)) > 0) {
		while (len > 0 && (lb[len - 1] == '\n' || lb[len - 1] == ' '))
			lb[--len] = '\0';
		if (len == 0 || lb[0] == '#')
			continue;
		want++;
		for (i = 0; i < n && strcmp(names[i], lb) != 0; i++)
			;
		if (i < n)
			found++;
		else if (strlen(missing) + (size_t)len + 2 < sizeof missing)
			snprintf(missing + strlen(missing),
			    sizeof missing - strlen(missing), " %s", lb);
	}
	tap_ok(fp != NULL && want > 0 && found == want,
	    "every expected capture is there (%zu of the %zu in %s)%s%s", found,
	    want, path, missing[0] ? "; missing:" : "", missing);
	if (fp != NULL)
		fclose(fp);
	free(lb);
	free(path);
}

/*
 * The captures in icap_dir(), sorted, into *names (free each and the
 * array). Other .jsonl files are named in a diagnostic and left out. Ends
 * with icap_expect's assertion. Returns the count, or -1 when the
 * directory cannot be opened (asserted as a failure).
 */
static inline long
icap_list(char ***names)
{
	const char *dir = icap_dir();
	struct dirent *de;
	size_t n = 0, l;
	char *path;
	DIR *d;

	*names = NULL;
	if ((d = opendir(dir)) == NULL) {
		tap_ok(0, "open %s (set MDNS_SHARED)", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l <= 6 || strcmp(de->d_name + l - 6, ".jsonl") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (icap_is_capture(path)) {
			*names = xreallocarray(*names, n + 1, sizeof **names);
			(*names)[n++] = xstrdup(de->d_name);
		} else
			tap_diag("%s: no \"scenario\" header, not a capture: "
				 "left out",
			    de->d_name);
		free(path);
	}
	closedir(d);
	if (n > 0)
		qsort(*names, n, sizeof **names, icap_cmp_names);
	icap_expect(*names, n);
	return (long)n;
}

static inline void
icap_free_names(char **names, long n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

static inline const char *
icap_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "";
}

static inline bool
icap_is_query(json_t *line)
{
	return strcmp(icap_str(line, "dir"), "query") == 0;
}

/* Pair every response with its query (see the top of this file). */
static inline void
icap_pair(struct icap *c)
{
	json_t *dj, *di, *an;
	size_t i, j;

	for (i = 0; i < c->nlines; i++)
		c->peer[i] = -1;
	for (j = 0; j < c->nlines; j++) {
		if (strcmp(icap_str(c->lines[j], "dir"), "response") != 0)
			continue;
		an = json_object_get(
		    json_object_get(c->lines[j], "decoded"), "answers_query_n");
		dj = json_object_get(
		    json_object_get(c->lines[j], "decoded"), "dns");
		for (i = 0; i < j; i++) {
			if (!icap_is_query(c->lines[i]) || c->peer[i] != -1)
				continue;
			if (json_is_integer(an)) {
				if (json_integer_value(
					json_object_get(c->lines[i], "n")) !=
				    json_integer_value(an))
					continue;
			} else {
				di = json_object_get(
				    json_object_get(c->lines[i], "decoded"),
				    "dns");
				if (!json_equal(json_object_get(di, "id"),
					json_object_get(dj, "id")) ||
				    strcmp(icap_str(di, "qname"),
					icap_str(dj, "qname")) != 0)
					continue;
			}
			c->peer[i] = (long)j;
			c->peer[j] = (long)i;
			break;
		}
	}
}

/*
 * Read capture name from icap_dir(). Returns 0, or -1 when it cannot be
 * opened or has no header (asserted as a failure).
 */
static inline int
icap_load(const char *name, struct icap *c)
{
	char *path = xasprintf("%s/%s", icap_dir(), name), *lb = NULL;
	size_t cap = 0;
	int ln = 0;
	FILE *fp = fopen(path, "r");
	json_t *j;
	json_error_t je;

	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	free(path);
	while (fp != NULL && getline(&lb, &cap, fp) > 0) {
		ln++;
		if ((j = json_loads(lb, 0, &je)) == NULL) {
			c->nbad++;
			tap_diag("%s:%d: not JSON: %s", name, ln, je.text);
			continue;
		}
		if (c->hdr == NULL) {
			c->hdr = j;
			continue;
		}
		if (json_is_true(json_object_get(j, "app"))) {
			c->napp++;
			json_decref(j);
			continue;
		}
		c->lines =
		    xreallocarray(c->lines, c->nlines + 1, sizeof *c->lines);
		c->lineno =
		    xreallocarray(c->lineno, c->nlines + 1, sizeof *c->lineno);
		c->lines[c->nlines] = j;
		c->lineno[c->nlines++] = ln;
	}
	free(lb);
	if (fp != NULL)
		fclose(fp);
	if (c->nbad > 0)
		tap_ok(0, "%s: %zu lines are not JSON", name, c->nbad);
	if (c->hdr == NULL) {
		tap_ok(0, "%s: %s", name, fp ? "no header line" : "open");
		return -1;
	}
	c->peer = xcalloc(c->nlines + 1, sizeof *c->peer);
	icap_pair(c);
	if (c->napp > 0)
		tap_diag(
		    "%s: %zu \"app\" lines (an application's DNS query and "
		    "answer at the client, not tunnel messages) left out",
		    name, c->napp);
	return 0;
}

static inline void
icap_free(struct icap *c)
{
	size_t i;

	for (i = 0; i < c->nlines; i++)
		json_decref(c->lines[i]);
	free(c->lines);
	free(c->lineno);
	free(c->peer);
	free(c->name);
	json_decref(c->hdr);
	memset(c, 0, sizeof *c);
}

/* The response line answering query line i, or NULL. */
static inline json_t *
icap_answer(const struct icap *c, size_t i)
{
	return c->peer[i] >= 0 ? c->lines[c->peer[i]] : NULL;
}

#endif
