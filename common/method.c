/* SPDX-License-Identifier: MIT */
/*
 * method.c — the method-name table and each method's security finding
 * (see method.h). Names and findings only: the ciphers themselves are in
 * proto/wire-crypto.c, the reasoning behind each finding in
 * docs/security.md.
 */
#include <stdio.h>
#include <strings.h>

#include "common/method.h"
#include "common/util.h"

static const char *const names[] = {
    "none",
    "xor",
    "chacha20",
    "aes-128-gcm",
    "aes-192-gcm",
    "aes-256-gcm",
};

_Static_assert(nitems(names) == METHOD_MAX + 1, "one name per method");

const char *
method_name(int method)
{
	if (method < 0 || method >= (int)nitems(names))
		return NULL;
	return names[method];
}

int
method_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(names); i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

size_t
method_key_len(int method)
{
	return method == METHOD_AES128GCM ? 16 :
	    method == METHOD_AES192GCM	  ? 24 :
					    32;
}

#define METHOD_DOC "docs/security.md#encryption-methods"

/*
 * One line each; the exposure itself (how, at what cost) is written out
 * in docs/security.md. Keep the lines short: they follow a config
 * location and the method on one terminal line.
 */
static const struct method_finding findings[METHOD_MAX + 1] = {
    {EXIT_CRITICAL,
	"no encryption and no key: the path reads every frame and anyone "
	"who can send queries uses the server",
	METHOD_DOC},
    {EXIT_WARNING,
	"anyone who can send queries recovers the key from the server's "
	"clear-text answers, then reads and forges frames",
	METHOD_DOC},
    {EXIT_WARNING,
	"no MAC: frames can be altered undetected; one captured "
	"SESSION_INIT, bit-flipped, fills the session table",
	METHOD_DOC},
    {EXIT_OK, "", METHOD_DOC},
    {EXIT_OK, "", METHOD_DOC},
    {EXIT_OK, "", METHOD_DOC},
};

const struct method_finding *
method_finding(int method)
{
	if (method < 0 || method >= (int)nitems(findings))
		return NULL;
	return &findings[method];
}

int
method_finding_text(int method, char *buf, size_t len)
{
	const struct method_finding *f = method_finding(method);

	if (len > 0)
		buf[0] = '\0';
	if (f == NULL || f->level == EXIT_OK)
		return EXIT_OK;
	snprintf(buf, len, "%s: %d (%s): %s (%s)", method_level_name(f->level),
	    method, method_name(method), f->reason, f->doc);
	return f->level;
}

const char *
method_level_name(int level)
{
	switch (level) {
	case EXIT_OK:
		return "OK";
	case EXIT_WARNING:
		return "WARNING";
	case EXIT_CRITICAL:
		return "CRITICAL";
	}
	return "UNKNOWN";
}
