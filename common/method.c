/*
 * method.c — the method-name table (see method.h). Names only: the
 * ciphers themselves are in proto/wire-crypto.c.
 */
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
