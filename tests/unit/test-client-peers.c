/* SPDX-License-Identifier: MIT */
/*
 * test-client-peers.c — the client's table of recent SOCKS clients
 * (engine/client-peers.h): counts by target per address whatever the
 * port, IPv4 and IPv6, other families ignored, the bound (64 addresses:
 * the one seen longest ago makes room, counted as evicted), the JSON the
 * status carries (most recent first). End to end: tests/sh/test-leak.sh
 * and test-tui.sh (curl through the SOCKS port).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/client-peers.h"
#include "tests/tap.h"

static union net_addr
addr(const char *text)
{
	union net_addr a;

	if (net_addr_parse(text, 0, &a, NULL) != 0)
		abort();
	return a;
}

/* The JSON array as compact text (freed by the caller). */
static char *
dump(const struct ecl_peers *p, int64_t now)
{
	json_t *j = ecl_peers_json(p, now);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	return s;
}

int
main(void)
{
	static struct ecl_peers p;
	union net_addr a;
	char *s;
	int i;

	a = addr("127.0.0.1:40000");
	ecl_peers_note(&p, &a, 3, 1000);
	a = addr("127.0.0.1:40001"); /* another connection, same client */
	ecl_peers_note(&p, &a, 1, 1100);
	ecl_peers_note(&p, &a, 1, 1200);
	a = addr("[::1]:5000");
	ecl_peers_note(&p, &a, 4, 1300);
	memset(&a, 0, sizeof a);
	a.sa.sa_family = AF_UNIX; /* an adopted local socket: not counted */
	ecl_peers_note(&p, &a, 3, 1400);
	tap_is_int(p.n, 2,
	    "two client addresses (ports not kept, AF_UNIX "
	    "ignored)");
	s = dump(&p, 1500);
	tap_is_str(s,
	    "[{\"address\":\"::1\",\"hostname\":0,\"ip_literal\":1,"
	    "\"ipv4\":0,\"ipv6\":1,\"first_seen_unix_ms\":1300,"
	    "\"last_seen_unix_ms\":1300,\"last_seen_age_ms\":200},"
	    "{\"address\":\"127.0.0.1\",\"hostname\":1,\"ip_literal\":2,"
	    "\"ipv4\":2,\"ipv6\":0,\"first_seen_unix_ms\":1000,"
	    "\"last_seen_unix_ms\":1200,\"last_seen_age_ms\":300}]",
	    "counts by target, the most recent first");
	free(s);

	/* The bound: 64 addresses; the 65th pushes out the oldest. */
	memset(&p, 0, sizeof p);
	for (i = 0; i < ECL_PEERS_MAX; i++) {
		char t[32];

		snprintf(t, sizeof t, "10.0.%d.%d", i / 250, i % 250 + 1);
		a = addr(t);
		ecl_peers_note(&p, &a, 3, 2000 + i);
	}
	a = addr("10.0.0.1"); /* the oldest, seen again: now the newest */
	ecl_peers_note(&p, &a, 1, 3000);
	tap_ok(p.n == ECL_PEERS_MAX && p.evicted == 0,
	    "64 addresses kept, none evicted");
	a = addr("192.0.2.9");
	ecl_peers_note(&p, &a, 1, 3001);
	tap_ok(p.n == ECL_PEERS_MAX && p.evicted == 1,
	    "a 65th address: still 64, one evicted");
	s = dump(&p, 3001);
	tap_ok(strstr(s, "\"10.0.0.2\"") == NULL &&
		strstr(s, "\"10.0.0.1\"") != NULL &&
		strncmp(s, "[{\"address\":\"192.0.2.9\"", 23) == 0,
	    "the one seen longest ago (10.0.0.2) made room; 10.0.0.1, seen "
	    "again, stayed");
	free(s);
	for (i = 0; i < 1000; i++) {
		char t[32];

		snprintf(t, sizeof t, "172.16.%d.%d", i / 250, i % 250 + 1);
		a = addr(t);
		ecl_peers_note(&p, &a, i % 2 ? 1 : 3, 4000 + i);
	}
	tap_ok(p.n == ECL_PEERS_MAX && p.evicted == 1001,
	    "1000 more addresses: the table stays at 64 (%llu evicted)",
	    (unsigned long long)p.evicted);
	return tap_done();
}
