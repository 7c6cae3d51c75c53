/*
 * scan-resume.c — the resume policy of `scan` (scan-resume.h): which run
 * continues, with which seed, over which list, skipping which items. The
 * skip set is a string-keyed open-addressing set (FNV-1a); it stays
 * private to this unit until common/ offers one table for all.
 */
#include <stdlib.h>
#include <string.h>

#include "probe/scan-resume.h"

void
scan_args_digest(int argc, char **argv, char *out, size_t len)
{
	char **v = xcalloc((size_t)argc + 1, sizeof *v);
	int i, n = 0;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--resume") != 0)
			v[n++] = argv[i];
	res_args_digest(n, v, out, len);
	free(v);
}

int
scan_resume_check_run(
    int found, const char *status, const char *dbpath, struct err *e)
{
	/* Only a scan that did not end may be continued. */
	if (!found ||
	    (strcmp(status, "running") != 0 &&
		strcmp(status, "interrupted") != 0))
		return err_set(e,
		    "--resume: no interrupted "
		    "scan with these arguments in %s",
		    dbpath);
	return 0;
}

int
scan_resume_seed(uint64_t stored, int seed_given, uint64_t *seed, struct err *e)
{
	if (seed_given && stored != *seed)
		return err_set(e, "--resume: stored seed differs");
	*seed = stored;
	return 0;
}

int
scan_resume_check_total(uint64_t stored, uint64_t now, struct err *e)
{
	/* Another list is another order: the cursor would mean nothing. */
	if (stored != now)
		return err_set(e,
		    "--resume: the list changed (%llu items now, %llu "
		    "when interrupted); start a new scan",
		    (unsigned long long)now, (unsigned long long)stored);
	return 0;
}

static uint64_t
fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static char *
skip_key(const char *addr, unsigned port, const char *domain)
{
	return xasprintf("%s|%u|%s", addr, port, domain);
}

static void
skip_insert(struct scan_skipset *k, char *key)
{
	size_t i = fnv(key) & (k->cap - 1);

	while (k->keys[i] != NULL) {
		if (strcmp(k->keys[i], key) == 0) {
			free(key);
			return;
		}
		i = (i + 1) & (k->cap - 1);
	}
	k->keys[i] = key;
	k->n++;
}

void
scan_skip_add(struct scan_skipset *k, const struct res_resolver *r)
{
	struct scan_skipset nk;
	size_t j;

	if (2 * (k->n + 1) > k->cap) {
		nk.n = 0;
		nk.cap = k->cap ? k->cap * 2 : 1024;
		nk.keys = xcalloc(nk.cap, sizeof *nk.keys);
		for (j = 0; j < k->cap; j++)
			if (k->keys[j] != NULL)
				skip_insert(&nk, k->keys[j]);
		free(k->keys);
		*k = nk;
	}
	skip_insert(k, skip_key(r->addr, r->port, r->domain));
}

int
scan_skip_has(
    const struct scan_skipset *k, const union net_addr *a, const char *domain)
{
	char ip[NET_ADDR_STRLEN], *key;
	size_t i;
	int found = 0;

	if (k->n == 0)
		return 0;
	net_addr_format_ip(a, ip, sizeof ip);
	key = skip_key(ip, net_addr_port(a), domain);
	i = fnv(key) & (k->cap - 1);
	while (k->keys[i] != NULL) {
		if (strcmp(k->keys[i], key) == 0) {
			found = 1;
			break;
		}
		i = (i + 1) & (k->cap - 1);
	}
	free(key);
	return found;
}

void
scan_skip_free(struct scan_skipset *k)
{
	size_t i;

	for (i = 0; i < k->cap; i++)
		free(k->keys[i]);
	free(k->keys);
	k->keys = NULL;
	k->n = k->cap = 0;
}
