/* SPDX-License-Identifier: MIT */
/*
 * filter.c — target filtering for the server (see filter.h). Works on raw
 * address bytes: IPv4 as 4 bytes, IPv6 as 16. An IPv6 address that
 * carries an IPv4 address a translator or tunnel would reach (mapped,
 * compatible, SIIT-translated, NAT64 well-known prefix, 6to4) is judged
 * as that IPv4 address too: 64:ff9b::10.0.0.1 reaches 10.0.0.1 wherever
 * the server's network has NAT64. No name resolution here; the server
 * resolves and calls back in.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/filter.h"

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};

struct eng_filter {
	struct cidr *allow;
	size_t nallow, cap;
};

struct eng_filter *
eng_filter_new(void)
{
	return xcalloc(1, sizeof(struct eng_filter));
}

void
eng_filter_free(struct eng_filter *f)
{
	if (f == NULL)
		return;
	free(f->allow);
	free(f);
}

static int
prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned full = bits / 8, rem = bits % 8;
	uint8_t mask;

	if (memcmp(a, net, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rem));
	return (a[full] & mask) == (net[full] & mask);
}

int
eng_filter_allow(struct eng_filter *f, const char *cidr, struct err *e)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct cidr c;
	char *slash;
	long long bits;
	unsigned maxbits;

	if (strlen(cidr) >= sizeof buf)
		return err_set(e, "bad CIDR: %.60s", cidr);
	memcpy(buf, cidr, strlen(cidr) + 1);
	str_trim(buf);
	memset(&c, 0, sizeof c);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
		maxbits = 128;
	} else
		return err_set(e, "bad CIDR: %s", cidr);
	c.bits = maxbits;
	if (slash != NULL) {
		if (parse_int(slash, 0, maxbits, &bits, NULL) == -1)
			return err_set(e, "bad CIDR prefix length: %s", cidr);
		c.bits = (unsigned)bits;
	}
	if (f->nallow == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4;
		f->allow = xreallocarray(f->allow, f->cap, sizeof *f->allow);
	}
	f->allow[f->nallow++] = c;
	return 0;
}

static int
v4_refused(const uint8_t *a, const char **why)
{
	static const struct {
		uint8_t net[4];
		unsigned bits;
		const char *why;
	} r[] = {
	    {{0, 0, 0, 0}, 8, "unspecified/this network"},
	    {{10, 0, 0, 0}, 8, "private"},
	    {{100, 64, 0, 0}, 10, "CGNAT"},
	    {{127, 0, 0, 0}, 8, "loopback"},
	    {{169, 254, 0, 0}, 16, "link-local"},
	    {{172, 16, 0, 0}, 12, "private"},
	    {{192, 168, 0, 0}, 16, "private"},
	    {{198, 18, 0, 0}, 15, "benchmark"},
	    {{224, 0, 0, 0}, 4, "multicast"},
	    {{255, 255, 255, 255}, 32, "broadcast"},
	};
	size_t i;

	for (i = 0; i < nitems(r); i++)
		if (prefix_match(a, r[i].net, r[i].bits)) {
			*why = r[i].why;
			return 1;
		}
	return 0;
}

/*
 * The IPv4 address an IPv6 address carries, or NULL:
 *   ::ffff:a.b.c.d      IPv4-mapped (RFC 4291)
 *   ::a.b.c.d           IPv4-compatible, deprecated (RFC 4291); :: and
 *                       ::1 are judged as themselves first
 *   ::ffff:0:a.b.c.d    IPv4-translated, SIIT (RFC 2765)
 *   64:ff9b::a.b.c.d    NAT64 well-known prefix /96 (RFC 6052)
 *   2002:AABB:CCDD::/48 6to4 (RFC 3056): the relay's IPv4 is AA.BB.CC.DD
 * Teredo (2001::/32) is left out: its IPv4 parts name a public relay and
 * a NAT's outside address, not a host behind the server.
 */
static const uint8_t *
embedded_v4(const uint8_t *a)
{
	static const uint8_t zero[12];
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t translated[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, translated, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return a + 12;
	if (a[0] == 0x20 && a[1] == 0x02)
		return a + 2;
	return NULL;
}

static int
v6_refused(const uint8_t *a, const char **why)
{
	static const uint8_t zero[16];
	static const struct {
		uint8_t net[2];
		unsigned bits;
		const char *why;
	} r[] = {
	    {{0xfc, 0}, 7, "private (ULA)"},
	    {{0xfe, 0x80}, 10, "link-local"},
	    {{0xfe, 0xc0}, 10, "site-local"},
	    {{0xff, 0}, 8, "multicast"},
	};
	const uint8_t *v4;
	size_t i;

	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) {
		*why = a[15] ? "loopback" : "unspecified";
		return 1;
	}
	if ((v4 = embedded_v4(a)) != NULL && v4_refused(v4, why))
		return 1;
	for (i = 0; i < nitems(r); i++)
		if (prefix_match(a, r[i].net, r[i].bits)) {
			*why = r[i].why;
			return 1;
		}
	return 0;
}

/* Allow-list match; an IPv6 form carrying IPv4 also matches IPv4 entries. */
static int
allowed(const struct eng_filter *f, int family, const uint8_t *a)
{
	const uint8_t *v4 = family == AF_INET6 ? embedded_v4(a) : NULL;
	size_t i;

	for (i = 0; i < f->nallow; i++) {
		const struct cidr *c = &f->allow[i];

		if (c->family == family && prefix_match(a, c->addr, c->bits))
			return 1;
		if (c->family == AF_INET && v4 != NULL &&
		    prefix_match(v4, c->addr, c->bits))
			return 1;
	}
	return 0;
}

static int
check_raw(
    const struct eng_filter *f, int family, const uint8_t *a, const char **why)
{
	const char *w = NULL;
	int refused;

	refused = family == AF_INET ? v4_refused(a, &w) : v6_refused(a, &w);
	if (!refused || allowed(f, family, a))
		return 0;
	if (why != NULL)
		*why = w;
	return -1;
}

int
eng_filter_addr(
    const struct eng_filter *f, const union net_addr *a, const char **why)
{
	if (a->sa.sa_family == AF_INET)
		return check_raw(
		    f, AF_INET, (const uint8_t *)&a->in.sin_addr, why);
	if (a->sa.sa_family == AF_INET6)
		return check_raw(
		    f, AF_INET6, (const uint8_t *)&a->in6.sin6_addr, why);
	if (why != NULL)
		*why = "unsupported address family";
	return -1;
}

int
eng_filter_host(const struct eng_filter *f, const char *host, const char **why)
{
	uint8_t a[16];
	size_t n;

	if (host == NULL || *host == '\0') {
		if (why != NULL)
			*why = "empty host";
		return -1;
	}
	if (inet_pton(AF_INET, host, a) == 1)
		return check_raw(f, AF_INET, a, why);
	if (inet_pton(AF_INET6, host, a) == 1)
		return check_raw(f, AF_INET6, a, why);
	if (f->nallow > 0)
		return 0;
	n = strlen(host);
	/* A trailing dot names the same host. */
	if (n > 0 && host[n - 1] == '.')
		n--;
	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0)) {
		if (why != NULL)
			*why = "localhost name";
		return -1;
	}
	return 0;
}
