/* SPDX-License-Identifier: MIT */
/*
 * echo.h — the body of an IP-echo service ("what is my address") read into
 * one normalised IP address. Three shapes are understood, chosen by the
 * body itself, not by its Content-Type (services mislabel it):
 *
 *	plain text	"203.0.113.7\n"	(icanhazip, ipify)
 *	JSON object	{"ip": "203.0.113.7", ...}  (also "origin" as
 *			httpbin names it, "query" as ip-api does)
 *	key=value lines	"fl=...\nip=203.0.113.7\nloc=XX\n" (Cloudflare's
 *			/cdn-cgi/trace)
 *
 * The answer must be exactly one IPv4 or IPv6 address: a list, a host
 * name, an address with a zone, HTML, an empty or binary body are each
 * refused with a reason that quotes (printably, bounded) what came back.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as the IPv4 address.
 * The parser is pure and fuzzed (tests/fuzz/fuzz-echo.c).
 */
#ifndef MDNS_ECHO_H
#define MDNS_ECHO_H

#include <netinet/in.h>
#include <stddef.h>

#include "common/util.h"

/* Bodies longer than this are not an IP-echo answer. */
#define ECHO_BODY_MAX 4096
/* Room for a normalised address, NUL included. */
#define ECHO_IP_MAX INET6_ADDRSTRLEN

enum echo_shape {
	ECHO_PLAIN = 0,
	ECHO_JSON,
	ECHO_KV,
};

/*
 * Parse len bytes of body. On success writes the address in canonical
 * text (inet_ntop) into ip (ECHO_IP_MAX bytes), its family (4 or 6) into
 * *family and the shape into *shape (either may be NULL), and returns 0.
 * Otherwise returns -1 with e set to one line ("not an IP address:
 * \"<html>...\"", "JSON without an \"ip\" member", "empty body").
 */
int echo_parse(const char *body, size_t len, char *ip, int *family,
    enum echo_shape *shape, struct err *e);

/*
 * Normalise one address text the same way (for expected addresses given
 * by users): 0 with ip and *family set, or -1 with e set.
 */
int echo_normalize(const char *text, char *ip, int *family, struct err *e);

/* "plain", "json", "kv". */
const char *echo_shape_name(enum echo_shape s);

#endif
