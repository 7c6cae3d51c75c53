/* SPDX-License-Identifier: MIT */
/*
 * resolvers.h — streaming reader for resolver lists (client_resolvers.txt
 * and the lists users paste between tools). One entry per line:
 *
 *	IP		8.8.8.8, 2001:4860:4860::8888
 *	IP:PORT		1.1.1.1:5353
 *	[IPv6]:PORT	[2001:db8::1]:53   ([IPv6] alone means port 53)
 *	CIDR		192.0.2.0/24, 2001:db8::/120
 *	CIDR:PORT	192.0.2.0/24:5353, [2001:db8::/120]:53
 *
 * plus "#" comments (whole line or trailing) and blank lines. Prefixes are
 * expanded lazily, skipping the IPv4 network and broadcast addresses (for
 * prefixes shorter than /31) and the IPv6 subnet-router anycast address
 * (shorter than /127), as the upstream client does, and capped at
 * RL_PREFIX_CAP addresses with a warning. Duplicates (same address and
 * port) are dropped, first occurrence wins, file order is kept. Memory is
 * proportional to the number of distinct addresses, never to file size.
 * docs/config.md has the decisions.
 */
#ifndef MDNS_RESOLVERS_H
#define MDNS_RESOLVERS_H

#include <stddef.h>
#include <stdint.h>

#include "common/net.h"
#include "common/util.h"

#define RL_DEFAULT_PORT 53
/* Most addresses one prefix line expands to. */
#define RL_PREFIX_CAP 65536

/*
 * Receives one message "FILE:LINE: reason" for each bad line (errors) or
 * capped prefix (warnings).
 */
typedef void (*rl_report_fn)(void *arg, const char *msg);

struct rl_opts {
	/* Stop at the first bad line (rl_next returns -1). Default: report
	 * it through on_error and continue with the next line. */
	int strict;
	rl_report_fn on_error;	 /* may be NULL */
	rl_report_fn on_warning; /* may be NULL */
	void *arg;
	uint16_t default_port; /* 0 means RL_DEFAULT_PORT */
	uint32_t prefix_cap;   /* 0 means RL_PREFIX_CAP */
};

/* One parsed line before expansion. */
struct rl_entry {
	union net_addr addr; /* address (prefix: its network address) */
	int prefix_len;	     /* -1 for a single address */
	uint16_t port;
};

/* Counters of one pass over a list. */
struct rl_stats {
	uint64_t lines;	  /* lines read */
	uint64_t entries; /* lines holding an entry (good or bad) */
	uint64_t bad_lines;
	uint64_t duplicates; /* addresses dropped as already seen */
	uint64_t capped;     /* prefixes cut at RL_PREFIX_CAP */
	uint64_t addresses;  /* distinct addresses returned */
};

struct rl_reader;

/*
 * Parse one entry text (already stripped of comments and blanks) such as
 * "1.2.3.4:53" or "[2001:db8::/120]:5353". Returns 0, or -1 with e set to
 * a reason without file or line ("bad address: x").
 */
int rl_parse_entry(const char *text, uint16_t default_port,
    struct rl_entry *out, struct err *e);

/*
 * The other way round: one address (IP text) and port as a list line
 * reads it back: "1.2.3.4" (port 53), "1.2.3.4:5353" or
 * "[2001:db8::1]:53". buf needs the address length + 9.
 */
void rl_format_entry(const char *ip, uint16_t port, char *buf, size_t len);

/*
 * Open a list for streaming (opts may be NULL for defaults). The reader
 * is freed with rl_close. Returns 0, or -1 with e set when the file
 * cannot be opened.
 */
int rl_open(const char *path, const struct rl_opts *opts,
    struct rl_reader **out, struct err *e);
/*
 * The same over len bytes of buf (not copied: buf must outlive the
 * reader); name is used in messages.
 */
int rl_open_mem(const char *name, const char *buf, size_t len,
    const struct rl_opts *opts, struct rl_reader **out, struct err *e);
/*
 * The next distinct address (port set) into *addr. Returns 1 for an
 * address, 0 at the end of the list, -1 on a read error or, in strict
 * mode, on the first bad line (e says "FILE:LINE: reason").
 */
int rl_next(struct rl_reader *r, union net_addr *addr, struct err *e);
/* Counters so far (borrowed, valid until rl_close). */
const struct rl_stats *rl_stats(const struct rl_reader *r);
/* The first "FILE:LINE: reason" seen so far, or "" (borrowed). */
const char *rl_first_error(const struct rl_reader *r);
void rl_close(struct rl_reader *r);

/*
 * Stream a whole list and count its distinct addresses into *count
 * (stats filled when not NULL). 0, or -1 with e set (as rl_next).
 */
int rl_count(const char *path, const struct rl_opts *opts, uint64_t *count,
    struct rl_stats *stats, struct err *e);

#endif
