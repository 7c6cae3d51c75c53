/* SPDX-License-Identifier: MIT */
/*
 * scan-resume.c — the resume policy of `scan` (scan-resume.h): what makes
 * two runs the same scan, which run continues, with which seed, over
 * which list, skipping which items. The skip set is a common/hmap.h
 * string set of "address|port|domain" keys, the identity of an item in
 * the store.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/scan-resume.h"

/* Append one "name=value" item to the canonical text. */
static void __attribute__((format(printf, 3, 4)))
ident(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *item;

	va_start(ap, fmt);
	if (vasprintf(&item, fmt, ap) < 0)
		abort();
	va_end(ap);
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = item;
}

static void
ident_try(char ***v, size_t *n, const char *name, const struct scan_try *t)
{
	ident(v, n, "%s=%dx%d", name, t->timeout_ms, t->tries);
}

void
scan_identity_digest(const struct scan_opts *o, char *const *lists,
    size_t nlists, const char *key_fp, char *out, size_t len)
{
	char **v = NULL, *real, a[NET_ADDR_STRLEN];
	size_t n = 0, i;

	ident(&v, &n, "scan-identity-1");
	for (i = 0; i < nlists; i++) {
		real = realpath(lists[i], NULL);
		ident(&v, &n, "list=%s", real ? real : lists[i]);
		free(real);
	}
	for (i = 0; i < o->ndomains; i++)
		ident(&v, &n, "domain=%s", o->domains[i]);
	ident(&v, &n, "key=%s", key_fp ? key_fp : "");
	ident(&v, &n, "method=%d", o->method);
	ident(&v, &n, "mode=%d", o->response_mode);
	ident(&v, &n, "stage=%d", (int)o->max_stage);
	ident(&v, &n, "burst=%d", o->burst);
	ident(&v, &n, "liveness=%s", o->liveness_name ? o->liveness_name : ".");
	/* Only a --whoami scan names them: older digests stay valid. */
	for (i = 0; i < o->nwhoami; i++)
		ident(&v, &n, "whoami=%s", o->whoami[i]);
	ident_try(&v, &n, "live", &o->t_live);
	ident_try(&v, &n, "reach", &o->t_reach);
	ident_try(&v, &n, "mtu", &o->t_mtu);
	ident_try(&v, &n, "hs", &o->t_hs);
	ident(&v, &n, "up=%d:%d", o->min_up, o->max_up);
	ident(&v, &n, "down=%d:%d", o->min_down, o->max_down);
	ident(&v, &n, "pace=%d", o->pace_ms);
	for (i = 0; i < o->nintercept; i++) {
		net_addr_format(&o->intercept[i], a, sizeof a);
		ident(&v, &n, "intercept=%s", a);
	}
	if (o->have_server) {
		net_addr_format(&o->server, a, sizeof a);
		ident(&v, &n, "server=%s", a);
	}
	ident(&v, &n, "loss=%d/%.3f", o->loss_probes, o->max_loss_pct);
	res_args_digest((int)n, v, out, len);
	for (i = 0; i < n; i++)
		free(v[i]);
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

/* "addr|port|domain" into buf (an item's identity in the store). */
static const char *
skip_key(
    const char *addr, unsigned port, const char *domain, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%u|%s", addr, port, domain);
	return buf;
}

void
scan_skip_add(struct scan_skipset *k, const struct res_resolver *r)
{
	char key[SCAN_SKIP_KEY_MAX];

	(void)hmap_strset_add(
	    &k->set, skip_key(r->addr, r->port, r->domain, key, sizeof key));
}

size_t
scan_skip_count(const struct scan_skipset *k)
{
	return k->set.n;
}

int
scan_skip_has(
    const struct scan_skipset *k, const union net_addr *a, const char *domain)
{
	char ip[NET_ADDR_STRLEN], key[SCAN_SKIP_KEY_MAX];

	if (k->set.n == 0)
		return 0;
	net_addr_format_ip(a, ip, sizeof ip);
	return hmap_strset_has(
	    &k->set, skip_key(ip, net_addr_port(a), domain, key, sizeof key));
}

void
scan_skip_free(struct scan_skipset *k)
{
	hmap_strset_free(&k->set);
}
