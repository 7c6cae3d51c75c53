/* SPDX-License-Identifier: MIT */
/*
 * leakzone.h — the leak zone's names and answers (docs/checks.md, "leak"),
 * the codec below both sides: `serve --leak-zone` classifies a question
 * and writes the answer (engine/server-leak.c), `leak` writes the names
 * and reads the answers (probe/leak.c). Pure functions over buffers; no
 * sockets, no clock.
 *
 * Names under the zone Z (lower case, compared without case):
 *   n<I>-<R>.<T>.Z   test name I (0..63) of token T: the server records
 *                    which resolver address asked for it
 *   r-<R>.<T>.Z      the report of token T (TXT)
 *   anything else    (whoami.Z, Z itself, T.Z that QNAME minimisation
 *                    asks first): answered, not recorded
 * T is 8..32 of [a-z0-9], R 1..40 of [a-z0-9]. Every name exists: A, AAAA
 * and TXT carry the asking resolver's address (A only to an IPv4 asker,
 * AAAA only to an IPv6 one, else NODATA), so a resolver that minimises
 * never meets an NXDOMAIN that would cut the real name off. TTL 0, no SOA:
 * nothing is cached, not even negatively (RFC 2308 needs the SOA).
 *
 * The report is one TXT RR: "leak1 addrs=N shown=K" and K strings
 * "ADDRESS COUNT MASK": a resolver address that asked for names of the
 * token, how many queries it sent, and a hex bit mask of the name numbers
 * it asked for (bit I = name I). K is what fits the asker's UDP size
 * (512 without EDNS, at most 1232), so the report is never truncated
 * (the server has no TCP); N > K says some were left out.
 */
#ifndef MDNS_LEAKZONE_H
#define MDNS_LEAKZONE_H

#include <stddef.h>
#include <stdint.h>

#include "common/net.h"
#include "common/util.h"
#include "proto/dns.h"

#define LEAKZ_TOKEN_MIN	 8
#define LEAKZ_TOKEN_MAX	 32
#define LEAKZ_RAND_MAX	 40
#define LEAKZ_NAMES_MAX	 64   /* name numbers 0..63 (one 64-bit mask) */
#define LEAKZ_REPORT_MAX 32   /* report entries read or written */
#define LEAKZ_UDP_MAX	 1232 /* largest answer we write */
#define LEAKZ_TXT_MAX	 48   /* TXT strings a reader keeps */
#define LEAKZ_ADDRS_MAX	 16   /* A/AAAA records a reader keeps */

enum leakz_kind {
	LEAKZ_OUT = -1,	 /* not under the zone */
	LEAKZ_OTHER = 0, /* under the zone: answer, do not record */
	LEAKZ_NAME,	 /* a test name: record, then answer */
	LEAKZ_REPORT,	 /* a report query */
};

struct leakz_qname {
	enum leakz_kind kind;
	char token[LEAKZ_TOKEN_MAX + 1]; /* NAME, REPORT */
	int idx;			 /* NAME: 0..63 */
};

/*
 * Classify qname (lower-case text without final dot, as dns_query_parse
 * gives it) against zone (the same form). Returns the kind (also in
 * out->kind).
 */
enum leakz_kind leakz_classify(const char *qname, size_t qname_len,
    const char *zone, struct leakz_qname *out);

/* Is s (len bytes) a token: 8..32 of [a-z0-9]. */
int leakz_token_ok(const char *s, size_t len);

/*
 * Write test name idx of token under zone ("n<idx>-<rnd>.<token>.<zone>")
 * or, with idx -1, the report name ("r-<rnd>.<token>.<zone>") into buf.
 * 0, or -1 (e set) when it does not fit a DNS name or an argument is bad.
 */
int leakz_name(char *buf, size_t cap, const char *zone, const char *token,
    int idx, const char *rnd, struct err *e);

/* One report entry. */
struct leakz_entry {
	char addr[NET_ADDR_STRLEN]; /* canonical numeric address */
	int family;		    /* 4 or 6 */
	uint32_t count;		    /* queries from it */
	uint64_t mask;		    /* name numbers asked for */
};

/* ---- server side ---- */

/*
 * The answer to q (a DNS_QUERY_OK view) from the zone: asker is the
 * resolver's address (IPv4-mapped counts as IPv4). For a report (rep not
 * NULL) the TXT RR is the report of nrep entries, as many as fit; else
 * A/AAAA/TXT carry the asker. Flags: QR AA, opcode/RD/CD copied, NOERROR;
 * an OPT RR (1232) when q had one. Returns the length, or -1 (e set) when
 * out is too small (cap >= LEAKZ_UDP_MAX always does).
 */
long leakz_answer_build(uint8_t *out, size_t cap, const struct dns_query *q,
    const union net_addr *asker, const struct leakz_entry *rep, size_t nrep,
    struct err *e);

/* ---- client side ---- */

/* What an answer carried (the answer section only). */
struct leakz_answer {
	unsigned rcode;
	unsigned flags;
	size_t naddr; /* A and AAAA records, canonical text */
	char addr[LEAKZ_ADDRS_MAX][NET_ADDR_STRLEN];
	size_t ntxt; /* TXT character-strings, NUL-terminated */
	char txt[LEAKZ_TXT_MAX][256];
	unsigned other; /* other RRs (CNAME...) */
};

/*
 * Read an answer to our query (id, qname as text, qtype): QR set, same id,
 * the question echoed (name compared without case), every RR of the
 * answer section inside the message. 0 with a filled, or -1 with e set
 * (a one-line reason: "not an answer", "another question", "RR runs past
 * the end"...).
 */
int leakz_answer_parse(const uint8_t *msg, size_t len, uint16_t id,
    const char *qname, uint16_t qtype, struct leakz_answer *a, struct err *e);

/*
 * Read a report from the TXT strings of an answer. 0 with out[0..*n)
 * filled (at most max entries, *total = the N of the header), or -1 with
 * e set when it is not a report (no "leak1" header, an entry that is not
 * "ADDRESS COUNT MASK", more entries than the header says).
 */
int leakz_report_parse(const struct leakz_answer *a, struct leakz_entry *out,
    size_t max, size_t *n, size_t *total, struct err *e);

/*
 * The egress address a whoami answer names (the leak zone's whoami.ZONE
 * and the public names: o-o.myaddr.l.google.com "74.125.1.2",
 * whoami.ds.akahelp.net "ns" "192.0.2.1", resolver.dnscrypt.info
 * "Resolver IP: 192.0.2.1"): the first word of a TXT string that is an
 * IPv4 or IPv6 address, else the first A/AAAA record; canonical text into
 * ip (cap >= NET_ADDR_STRLEN). 0 when an address was found and the RCODE
 * is NOERROR; -1 with e set otherwise ("rcode 5", "no address in the
 * answer"; ip may still hold an address an error answer carried). Shared
 * by `leak --whoami` and `scan --whoami`.
 */
int leakz_whoami_addr(
    const struct leakz_answer *a, char *ip, size_t cap, struct err *e);

#endif
