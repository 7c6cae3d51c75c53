/* SPDX-License-Identifier: MIT */
/*
 * echo.c — IP-echo bodies to one address (echo.h). Works on a bounded
 * copy of the body; JSON goes through jansson, the other two shapes are
 * read line by line here. It does not fetch anything and does not judge
 * the address (a private address is still an address: tests use them).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "probe/echo.h"

/* Quote untrusted text in a message: printable, bounded. */
static int
refuse(struct err *e, const char *what, const char *text, size_t n)
{
	char raw[64], shown[64];

	n = MIN(n, sizeof raw - 1);
	memcpy(raw, text, n);
	raw[n] = '\0';
	str_printable(raw, shown, sizeof shown);
	return err_set(e, "%s: \"%s\"", what, shown);
}

int
echo_normalize(const char *text, char *ip, int *family, struct err *e)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(text);

	if (n == 0)
		return err_set(e, "empty address");
	if (n >= ECHO_IP_MAX || strchr(text, '%') != NULL)
		return refuse(e, "not an IP address", text, n);
	if (inet_pton(AF_INET, text, &a4) == 1) {
		inet_ntop(AF_INET, &a4, ip, ECHO_IP_MAX);
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) != 1)
		return refuse(e, "not an IP address", text, n);
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], 4);
		inet_ntop(AF_INET, &a4, ip, ECHO_IP_MAX);
		*family = 4;
		return 0;
	}
	inet_ntop(AF_INET6, &a6, ip, ECHO_IP_MAX);
	*family = 6;
	return 0;
}

static const char *
json_ip(json_t *o)
{
	static const char *const keys[] = {"ip", "origin", "query"};
	size_t i;

	for (i = 0; i < nitems(keys); i++)
		if (json_object_get(o, keys[i]) != NULL)
			return json_string_value(json_object_get(o, keys[i]));
	return NULL;
}

static int
parse_json(const char *s, size_t n, char *ip, int *family, struct err *e)
{
	json_error_t je;
	json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
	const char *v;
	int rc;

	if (o == NULL)
		return err_set(e, "bad JSON at line %d column %d: %s", je.line,
		    je.column, je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, "JSON that is not an object");
	}
	v = json_ip(o);
	if (v == NULL) {
		rc = err_set(e, "JSON without a string \"ip\" member");
	} else
		rc = echo_normalize(v, ip, family, e);
	json_decref(o);
	return rc;
}

/* key=value lines: the value of the one "ip" key. */
static int
parse_kv(const char *s, size_t n, char *ip, int *family, struct err *e)
{
	char val[ECHO_IP_MAX + 8], first[ECHO_IP_MAX];
	const char *p = s, *end = s + n, *eol;
	size_t k;
	int seen = 0, fam;

	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol - p < 3 || memcmp(p, "ip=", 3) != 0)
			continue;
		k = (size_t)(eol - p - 3);
		while (k > 0 && (p[3 + k - 1] == '\r' || p[3 + k - 1] == ' '))
			k--;
		if (k >= sizeof val)
			return refuse(e, "not an IP address", p + 3, k);
		memcpy(val, p + 3, k);
		val[k] = '\0';
		if (echo_normalize(val, seen ? first : ip, &fam, e) != 0)
			return -1;
		if (seen && (strcmp(first, ip) != 0 || fam != *family))
			return err_set(
			    e, "two different ip= lines (%s, %s)", ip, first);
		*family = fam;
		seen = 1;
	}
	return seen ? 0 : err_set(e, "no ip= line");
}

/* Whether some line of [s, s + n) starts with "ip=". */
static int
has_ip_line(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++)
		if ((i == 0 || s[i - 1] == '\n') &&
		    memcmp(s + i, "ip=", 3) == 0)
			return 1;
	return 0;
}

int
echo_parse(const char *body, size_t len, char *ip, int *family,
    enum echo_shape *shape, struct err *e)
{
	char text[ECHO_IP_MAX];
	enum echo_shape sh;
	int fam = 0, rc;

	if (len > ECHO_BODY_MAX)
		return err_set(e,
		    "body of %zu bytes (an IP-echo answer is "
		    "short)",
		    len);
	if (memchr(body, '\0', len) != NULL)
		return refuse(e, "binary body", body, len);
	while (len > 0 && isspace((unsigned char)body[0])) {
		body++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)body[len - 1]))
		len--;
	if (len == 0)
		return err_set(e, "empty body");
	if (body[0] == '{') {
		sh = ECHO_JSON;
		rc = parse_json(body, len, ip, &fam, e);
	} else if (has_ip_line(body, len)) {
		sh = ECHO_KV;
		rc = parse_kv(body, len, ip, &fam, e);
	} else {
		sh = ECHO_PLAIN;
		if (len >= sizeof text)
			return refuse(e, "not an IP address", body, len);
		memcpy(text, body, len);
		text[len] = '\0';
		rc = echo_normalize(text, ip, &fam, e);
	}
	if (rc != 0)
		return -1;
	if (family != NULL)
		*family = fam;
	if (shape != NULL)
		*shape = sh;
	return 0;
}

const char *
echo_shape_name(enum echo_shape s)
{
	switch (s) {
	case ECHO_JSON:
		return "json";
	case ECHO_KV:
		return "kv";
	default:
		return "plain";
	}
}
