/* SPDX-License-Identifier: MIT */
/*
 * json-schema-check — validate JSON documents against a JSON Schema, for
 * the control protocol's docs/status.schema.json. Written with jansson so
 * the tests need no Python: it implements the subset of draft 2020-12 the
 * project's schemas use — type (a name or a list; "integer" is a number
 * without fraction), properties, required, additionalProperties (false or
 * a schema), items, enum, const, minimum, maximum, minLength, minItems,
 * $ref to "#/$defs/NAME", anyOf. Unknown keywords are an error (a schema
 * typo must not silently validate everything).
 *
 *   json-schema-check SCHEMA [FILE...]   (no FILE: stdin; a FILE that is
 *                                         not one JSON document is read
 *                                         as one document per line)
 *
 * Prints "FILE:LINE: PATH: reason" per violation; exit 0 valid, 1 invalid,
 * 2 unreadable input or schema.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *root_schema;
static const char *cur_file;
static size_t cur_line;
static int errors, silent;

static void fail(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(const char *path, const char *fmt, ...)
{
	va_list ap;

	errors++;
	if (silent)
		return;
	fprintf(stdout, "%s:%zu: %s: ", cur_file, cur_line,
	    path[0] ? path : "(root)");
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static int
type_is(const json_t *v, const char *t)
{
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "integer") == 0)
		return json_is_integer(v) ||
		    (json_is_real(v) &&
			floor(json_real_value(v)) == json_real_value(v));
	return -1;
}

static int validate(const json_t *v, const json_t *s, const char *path);

/* Validate quietly (for anyOf): 1 valid. */
static int
quiet(const json_t *v, const json_t *s)
{
	int saved = errors, was = silent, ok;

	silent = 1;
	validate(v, s, "");
	ok = errors == saved;
	silent = was;
	errors = saved;
	return ok;
}

static const char *known[] = {"$schema", "$id", "$defs", "title", "description",
    "type", "properties", "required", "additionalProperties", "items", "enum",
    "const", "minimum", "maximum", "minLength", "minItems", "$ref", "anyOf",
    "examples", NULL};

static int
validate(const json_t *v, const json_t *s, const char *path)
{
	const char *k, *t;
	json_t *x, *y;
	char sub[1024];
	size_t i;
	int any;

	if (!json_is_object(s)) {
		fail(path, "schema is not an object");
		return -1;
	}
	json_object_foreach((json_t *)s, k, x)
	{
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], k) == 0)
				break;
		if (known[i] == NULL) {
			fail(path, "schema keyword '%s' not supported", k);
			return -1;
		}
	}
	if ((x = json_object_get(s, "$ref")) != NULL) {
		const char *r = json_string_value(x);

		if (r == NULL || strncmp(r, "#/$defs/", 8) != 0 ||
		    (y = json_object_get(json_object_get(root_schema, "$defs"),
			 r + 8)) == NULL) {
			fail(path, "bad $ref %s", r ? r : "?");
			return -1;
		}
		validate(v, y, path);
	}
	if ((x = json_object_get(s, "type")) != NULL) {
		any = 0;
		if (json_is_string(x))
			any = type_is(v, json_string_value(x)) == 1;
		else
			json_array_foreach(x, i, y) if (json_is_string(y) &&
			    type_is(v, json_string_value(y)) == 1) any = 1;
		if (!any) {
			t = json_is_string(x) ? json_string_value(x) : "listed";
			fail(path, "wrong type (want %s)", t);
			return 0;
		}
	}
	if ((x = json_object_get(s, "enum")) != NULL) {
		any = 0;
		json_array_foreach(x, i, y) if (json_equal(v, y)) any = 1;
		if (!any)
			fail(path, "value not in enum");
	}
	if ((x = json_object_get(s, "const")) != NULL && !json_equal(v, x))
		fail(path, "value differs from const");
	if (json_is_number(v)) {
		double d = json_number_value(v);

		if ((x = json_object_get(s, "minimum")) != NULL &&
		    d < json_number_value(x))
			fail(path, "below minimum");
		if ((x = json_object_get(s, "maximum")) != NULL &&
		    d > json_number_value(x))
			fail(path, "above maximum");
	}
	if (json_is_string(v) &&
	    (x = json_object_get(s, "minLength")) != NULL &&
	    strlen(json_string_value(v)) < (size_t)json_integer_value(x))
		fail(path, "string shorter than minLength");
	if (json_is_array(v)) {
		if ((x = json_object_get(s, "minItems")) != NULL &&
		    json_array_size(v) < (size_t)json_integer_value(x))
			fail(path, "fewer items than minItems");
		if ((x = json_object_get(s, "items")) != NULL)
			json_array_foreach(v, i, y)
			{
				snprintf(sub, sizeof sub, "%s[%zu]", path, i);
				validate(y, x, sub);
			}
	}
	if (json_is_object(v)) {
		json_t *props = json_object_get(s, "properties");
		json_t *addl = json_object_get(s, "additionalProperties");

		if ((x = json_object_get(s, "required")) != NULL)
			json_array_foreach(x, i, y)
			{
				k = json_string_value(y);
				if (k != NULL && json_object_get(v, k) == NULL)
					fail(path, "missing required '%s'", k);
			}
		json_object_foreach((json_t *)v, k, y)
		{
			snprintf(sub, sizeof sub, "%s.%s", path, k);
			if (props != NULL &&
			    (x = json_object_get(props, k)) != NULL)
				validate(y, x, sub);
			else if (json_is_false(addl))
				fail(sub, "property not allowed");
			else if (json_is_object(addl))
				validate(y, addl, sub);
		}
	}
	if ((x = json_object_get(s, "anyOf")) != NULL) {
		any = 0;
		json_array_foreach(x, i, y) if (quiet(v, y)) any = 1;
		if (!any)
			fail(path, "matches none of anyOf");
	}
	return 0;
}

/* Validate one document, or one per line when the whole is not JSON. */
static int
check_stream(FILE *f, const char *name)
{
	char *all = NULL, *line, *nl;
	size_t cap = 0, len = 0, n = 0, r;
	json_t *doc;
	json_error_t je;

	cur_file = name;
	cur_line = 1;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			char *grown = realloc(all, cap);

			if (grown == NULL) {
				free(all);
				return -1;
			}
			all = grown;
		}
		r = fread(all + len, 1, cap - len - 1, f);
		if (r == 0)
			break;
		len += r;
	}
	if (all == NULL)
		return -1;
	all[len] = '\0';
	if ((doc = json_loadb(all, len, 0, &je)) != NULL) {
		validate(doc, root_schema, "");
		json_decref(doc);
		free(all);
		return 0;
	}
	cur_line = 0;
	for (line = all; line < all + len; line = nl + 1) {
		cur_line++;
		if ((nl = strchr(line, '\n')) == NULL)
			nl = all + len;
		if (nl == line)
			continue;
		doc = json_loadb(line, (size_t)(nl - line), 0, &je);
		if (doc == NULL) {
			printf(
			    "%s:%zu: not JSON: %s\n", name, cur_line, je.text);
			errors++;
			continue;
		}
		n++;
		validate(doc, root_schema, "");
		json_decref(doc);
	}
	free(all);
	if (n == 0) {
		printf("%s: no document\n", name);
		errors++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	json_error_t je;
	FILE *f;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: json-schema-check SCHEMA [FILE...]\n");
		return 2;
	}
	root_schema = json_load_file(argv[1], 0, &je);
	if (root_schema == NULL) {
		fprintf(stderr, "json-schema-check: %s:%d: %s\n", argv[1],
		    je.line, je.text);
		return 2;
	}
	if (argc == 2)
		check_stream(stdin, "stdin");
	for (i = 2; i < argc; i++) {
		if ((f = fopen(argv[i], "r")) == NULL) {
			fprintf(stderr, "json-schema-check: cannot read %s\n",
			    argv[i]);
			return 2;
		}
		check_stream(f, argv[i]);
		fclose(f);
	}
	json_decref(root_schema);
	return errors ? 1 : 0;
}
