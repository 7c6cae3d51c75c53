/* SPDX-License-Identifier: MIT */
/*
 * client-peers.c — the recent SOCKS clients (client-peers.h). At most 64
 * entries: a linear walk per SOCKS request (not per packet) costs less
 * than a hash table's upkeep and keeps the order obvious.
 */
#include "engine/client-peers.h"

#include <stdlib.h>
#include <string.h>

/* The address of sa without its port, or -1 for another family. */
static int
key_of(const union net_addr *sa, union net_addr *k)
{
	memset(k, 0, sizeof *k);
	if (sa->sa.sa_family == AF_INET) {
		k->in.sin_family = AF_INET;
		k->in.sin_addr = sa->in.sin_addr;
		return 0;
	}
	if (sa->sa.sa_family == AF_INET6) {
		k->in6.sin6_family = AF_INET6;
		k->in6.sin6_addr = sa->in6.sin6_addr;
		k->in6.sin6_scope_id = sa->in6.sin6_scope_id;
		return 0;
	}
	return -1;
}

void
ecl_peers_note(
    struct ecl_peers *p, const union net_addr *peer, int atyp, int64_t now_ms)
{
	struct ecl_peer *e = NULL;
	union net_addr k;
	size_t i, old = 0;

	if (key_of(peer, &k) != 0)
		return;
	for (i = 0; i < p->n && e == NULL; i++)
		if (net_addr_equal(&p->v[i].addr, &k))
			e = &p->v[i];
	if (e == NULL) {
		if (p->n < ECL_PEERS_MAX)
			e = &p->v[p->n++];
		else {
			for (i = 1; i < p->n; i++)
				if (p->v[i].last_ms < p->v[old].last_ms)
					old = i;
			e = &p->v[old];
			p->evicted++;
		}
		memset(e, 0, sizeof *e);
		e->addr = k;
		e->first_ms = now_ms;
	}
	e->last_ms = now_ms;
	if (atyp == 3)
		e->name++;
	else if (atyp == 4)
		e->ip6++;
	else
		e->ip4++;
}

static int
by_recent(const void *a, const void *b)
{
	const struct ecl_peer *x = *(const struct ecl_peer *const *)a;
	const struct ecl_peer *y = *(const struct ecl_peer *const *)b;

	if (x->last_ms != y->last_ms)
		return x->last_ms > y->last_ms ? -1 : 1;
	return x < y ? -1 : x > y;
}

json_t *
ecl_peers_json(const struct ecl_peers *p, int64_t now_ms)
{
	const struct ecl_peer *ord[ECL_PEERS_MAX];
	char ip[NET_ADDR_STRLEN];
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->n; i++)
		ord[i] = &p->v[i];
	qsort(ord, p->n, sizeof ord[0], by_recent);
	for (i = 0; i < p->n; i++) {
		const struct ecl_peer *e = ord[i];

		net_addr_format_ip(&e->addr, ip, sizeof ip);
		json_array_append_new(a,
		    json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "address",
			ip, "hostname", (json_int_t)e->name, "ip_literal",
			(json_int_t)(e->ip4 + e->ip6), "ipv4",
			(json_int_t)e->ip4, "ipv6", (json_int_t)e->ip6,
			"first_seen_unix_ms", (json_int_t)e->first_ms,
			"last_seen_unix_ms", (json_int_t)e->last_ms,
			"last_seen_age_ms",
			(json_int_t)(now_ms > e->last_ms ? now_ms - e->last_ms :
							   0)));
	}
	return a;
}
