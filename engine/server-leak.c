/* SPDX-License-Identifier: MIT */
/*
 * server-leak.c — the leak zone of `serve` (server-leak.h): classify a
 * question (proto/leakzone.h), record the resolver address that asked for
 * a test name under its token, answer. Tokens live in a ring in creation
 * order (every token has the same lifetime, so the oldest is always at
 * the tail: expiry and eviction both take from there) with an hmap from
 * the token to its slot. Nothing here logs a name or a token: the log
 * has counters only (the status's "leak" object).
 */
#include "engine/server-leak.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "proto/dns.h"
#include "proto/leakzone.h"

struct leak_addr {
	uint8_t b[16];
	int family; /* 4 or 6 */
	uint32_t count;
	uint64_t mask;
};

struct leak_tok {
	char token[LEAKZ_TOKEN_MAX + 1];
	uint64_t born_us;
	unsigned naddr;
	struct leak_addr addr[SRV_LEAK_ADDRS];
};

struct srv_leak {
	char *zone;
	struct leak_tok *ring; /* SRV_LEAK_TOKENS slots */
	size_t tail, count;    /* oldest slot, slots in use */
	struct hmap map;       /* str_hash(token) -> slot */
	struct srv_leak_stats st;
};

struct srv_leak *
srv_leak_new(const char *zone)
{
	struct srv_leak *l;

	if (zone == NULL || *zone == '\0')
		return NULL;
	l = xcalloc(1, sizeof *l);
	l->zone = xstrdup(zone);
	l->ring = xcalloc(SRV_LEAK_TOKENS, sizeof *l->ring);
	hmap_init(&l->map);
	return l;
}

void
srv_leak_free(struct srv_leak *l)
{
	if (l == NULL)
		return;
	hmap_free(&l->map);
	free(l->ring);
	free(l->zone);
	free(l);
}

static const char *
tok_key(const void *ctx, uint32_t v)
{
	const struct srv_leak *l = ctx;

	return l->ring[v].token;
}

static void
drop_tail(struct srv_leak *l)
{
	struct leak_tok *t = &l->ring[l->tail];

	(void)hmap_del(&l->map, str_hash(t->token), (uint32_t)l->tail);
	t->token[0] = '\0';
	l->tail = (l->tail + 1) % SRV_LEAK_TOKENS;
	l->count--;
}

static void
expire(struct srv_leak *l, uint64_t now)
{
	uint64_t ttl = (uint64_t)SRV_LEAK_TTL_S * 1000000;

	while (l->count > 0 && now - l->ring[l->tail].born_us >= ttl) {
		drop_tail(l);
		l->st.expired++;
	}
}

static struct leak_tok *
tok_find(struct srv_leak *l, const char *token)
{
	uint32_t v = hmap_find_str(&l->map, token, tok_key, l);

	return v == HMAP_NONE ? NULL : &l->ring[v];
}

static struct leak_tok *
tok_get(struct srv_leak *l, const char *token, uint64_t now)
{
	struct leak_tok *t = tok_find(l, token);
	size_t slot;

	if (t != NULL)
		return t;
	if (l->count == SRV_LEAK_TOKENS) {
		drop_tail(l);
		l->st.evicted++;
	}
	slot = (l->tail + l->count) % SRV_LEAK_TOKENS;
	t = &l->ring[slot];
	memset(t, 0, sizeof *t);
	snprintf(t->token, sizeof t->token, "%s", token);
	t->born_us = now;
	hmap_put(&l->map, str_hash(t->token), (uint32_t)slot);
	l->count++;
	return t;
}

static void
record(
    struct srv_leak *l, struct leak_tok *t, const union net_addr *from, int idx)
{
	uint8_t b[16];
	int fam = net_addr_ip_bytes(from, b);
	unsigned i;

	if (fam == 0)
		return;
	for (i = 0; i < t->naddr; i++)
		if (t->addr[i].family == fam &&
		    memcmp(t->addr[i].b, b, 16) == 0)
			break;
	if (i == t->naddr) {
		if (t->naddr == SRV_LEAK_ADDRS) {
			l->st.addr_full++;
			return;
		}
		memcpy(t->addr[i].b, b, 16);
		t->addr[i].family = fam;
		t->naddr++;
	}
	if (t->addr[i].count < UINT32_MAX)
		t->addr[i].count++;
	t->addr[i].mask |= (uint64_t)1 << idx;
	l->st.recorded++;
}

long
srv_leak_handle(struct srv_leak *l, const uint8_t *msg, size_t len,
    const union net_addr *from, uint64_t now_us, uint8_t *out, size_t cap)
{
	struct dns_query q;
	struct leakz_qname qn;
	struct leakz_entry rep[SRV_LEAK_ADDRS];
	struct leak_tok *t;
	size_t nrep = 0;
	unsigned i;
	long n;

	if (l == NULL || dns_query_parse(msg, len, &q, NULL) != DNS_QUERY_OK)
		return -1;
	if (leakz_classify(q.qname, q.qname_len, l->zone, &qn) == LEAKZ_OUT)
		return -1;
	l->st.queries++;
	expire(l, now_us);
	if (qn.kind == LEAKZ_NAME) {
		t = tok_get(l, qn.token, now_us);
		record(l, t, from, qn.idx);
	} else if (qn.kind == LEAKZ_REPORT &&
	    (q.qtype == DNS_TYPE_TXT || q.qtype == DNS_TYPE_CAA)) {
		l->st.reports++;
		if ((t = tok_find(l, qn.token)) != NULL)
			for (i = 0; i < t->naddr; i++) {
				struct leakz_entry *en = &rep[nrep++];

				memset(en, 0, sizeof *en);
				inet_ntop(
				    t->addr[i].family == 4 ? AF_INET : AF_INET6,
				    t->addr[i].b, en->addr, sizeof en->addr);
				en->family = t->addr[i].family;
				en->count = t->addr[i].count;
				en->mask = t->addr[i].mask;
			}
		n = leakz_answer_build(out, cap, &q, from, rep, nrep, NULL);
		if (n < 0)
			l->st.bad++;
		return n < 0 ? 0 : n;
	}
	n = leakz_answer_build(out, cap, &q, from, NULL, 0, NULL);
	if (n < 0)
		l->st.bad++;
	return n < 0 ? 0 : n;
}

const struct srv_leak_stats *
srv_leak_stats(const struct srv_leak *l)
{
	static struct srv_leak_stats none;

	if (l == NULL)
		return &none;
	((struct srv_leak *)l)->st.tokens = (unsigned)l->count;
	return &l->st;
}

json_t *
srv_leak_status_json(const struct srv_leak *l)
{
	const struct srv_leak_stats *st = srv_leak_stats(l);

	if (l == NULL)
		return json_null();
	return json_pack("{s:s,s:I,s:I,s:I,s:i,s:I,s:I,s:I,s:I}", "zone",
	    l->zone, "queries", (json_int_t)st->queries, "recorded",
	    (json_int_t)st->recorded, "reports", (json_int_t)st->reports,
	    "tokens", (int)st->tokens, "evicted", (json_int_t)st->evicted,
	    "expired", (json_int_t)st->expired, "addr_full",
	    (json_int_t)st->addr_full, "unanswered", (json_int_t)st->bad);
}
