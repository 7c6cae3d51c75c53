/* SPDX-License-Identifier: MIT */
/*
 * leak.h — the `leak` check (docs/checks.md "leak"): never-used names
 * under a leak zone that `serve --leak-zone` answers (proto/leakzone.h)
 * are resolved once the way applications resolve (the system resolvers
 * of /etc/resolv.conf, or given) and once through the tunnel's DNS
 * listener; the zone's server reports which resolver addresses asked for
 * which names; names of the system path that reached a resolver the
 * tunnel path never used are a leak.
 *
 * Two halves, as probe/exitip: leak_start runs the queries on an event
 * loop (UDP, non-blocking, retries on the next resolver, never blocks;
 * usable inside the client engine's loop), leak_judge is a pure function
 * from the observations to the checks, unit-tested without a network.
 */
#ifndef MDNS_LEAK_H
#define MDNS_LEAK_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/result.h"
#include "proto/leakzone.h"

#define LEAK_NAMES_DEFAULT  6
#define LEAK_NAMES_EXTENDED 36
#define LEAK_NAMES_MAX	    58 /* the tunnel path keeps at least 6 */
#define LEAK_SYS_MAX	    3  /* nameservers, as glibc (MAXNS) */
#define LEAK_WHOAMI_MAX	    4  /* whoami names asked */

/* The public whoami names (docs/checks.md), TXT: the default of
 * --whoami; every test names the leak zone's own (whoami.ZONE). */
extern const char *const leak_default_whoami[];
extern const size_t leak_ndefault_whoami;
/* The first max of them into out; returns how many (the callers' cap:
 * LEAK_WHOAMI_MAX, SCAN_WHOAMI_MAX). */
size_t leak_whoami_defaults(const char **out, size_t max);

struct leak_opts {
	const char *zone; /* normalised leak zone */
	int nnames;	  /* system-path names, 1..LEAK_NAMES_MAX */
	union net_addr sys[LEAK_SYS_MAX]; /* system resolvers, in order */
	size_t nsys;
	const char *sys_from; /* "/etc/resolv.conf", "--system-resolver" */
	const char *sys_why;  /* nsys 0: why there is none */
	int have_tun;	      /* tun is set */
	union net_addr tun;   /* the tunnel's DNS listener */
	const char *tun_from; /* where it was found */
	const char *tun_why;  /* !have_tun: why there is none */
	int timeout_ms;	      /* per try */
	int tries;	      /* per query, round the resolvers */
	const char *local_evidence; /* more evidence (SOCKS counts) or NULL */
	const char *whoami[LEAK_WHOAMI_MAX]; /* TXT names whose answer is
						the asking resolver's address */
	size_t nwhoami;
};

/* What a whoami name said through one path: an address or an error. */
struct leak_whoami_obs {
	char ip[NET_ADDR_STRLEN]; /* "" when none */
	char error[120];
};

/* What one path saw. */
struct leak_path_obs {
	int names;	 /* names sent (each as A and AAAA) */
	int sent;	 /* queries */
	int answered;	 /* answers that were the zone's: NOERROR, AA */
	int failed;	 /* timeouts, errors, answers that were not */
	uint64_t mask;	 /* name numbers of this path */
	char error[160]; /* the first failure, one line */
};

struct leak_obs {
	char token[LEAKZ_TOKEN_MAX + 1];
	struct leak_path_obs sys, tun;
	int report_ok;
	enum res_reason report_why; /* !report_ok: timeout, fetch_failed,
				       malformed */
	char report_error[200];
	char report_via[NET_ADDR_STRLEN + 16];
	char report_note[200]; /* why not through the tunnel, or "" */
	struct leakz_entry rep[LEAKZ_REPORT_MAX];
	size_t nrep, rep_total;
	/* whoami fingerprints, per name: [0] system path, [1] tunnel path */
	struct leak_whoami_obs who[LEAK_WHOAMI_MAX][2];
};

struct leak;

/*
 * Start: every name through each path that exists, then the report
 * (through the tunnel when it exists, else the system resolver).
 * done(arg, l) is called once, from the loop (possibly before leak_start
 * returns when nothing can be sent). o must outlive l. NULL with e set
 * when sockets cannot be made.
 */
struct leak *leak_start(struct ev_loop *loop, const struct leak_opts *o,
    void (*done)(void *arg, struct leak *l), void *arg, struct err *e);
const struct leak_obs *leak_obs(const struct leak *l);
/* Stop what still runs and free l. NULL is fine. */
void leak_free(struct leak *l);

/*
 * The checks (kind leak) from the observations (pure), into out[0..max)
 * (*n of them; max >= LEAKZ_REPORT_MAX + 1 keeps every row):
 *   unknown <report reason>  the report could not be read
 *   unknown fetch_failed     no system-path name reached the zone (subject
 *                            "system resolver")
 *   unknown no_baseline      a resolver seen on the system path, but the
 *                            tunnel path reached nothing to compare with
 *   fail leak                a resolver seen on the system path that the
 *                            tunnel path never used (subject: its address)
 *   ok ok                    a resolver seen on the system path that is
 *                            the tunnel's egress
 */
void leak_judge(const struct leak_obs *ob, const struct leak_opts *o,
    struct res_check *out, size_t max, size_t *n);

/* Read nameserver lines of a resolv.conf text (at most LEAK_SYS_MAX,
 * port 53; scoped IPv6 ones skipped). Returns how many. */
size_t leak_resolv_conf(const char *text, union net_addr *out, size_t max);

#endif
