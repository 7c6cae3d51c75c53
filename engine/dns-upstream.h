/* SPDX-License-Identifier: MIT */
/*
 * dns-upstream.h — the server's resolver client for DNS through the
 * tunnel: it sends an application's query to DNS_UPSTREAM_SERVERS over
 * UDP on the event loop and hands back the first acceptable answer, the
 * way upstream MasterDnsVPN's resolveDNSUpstream does (udpserver/
 * dns_tunnel.go):
 *
 *   - the first server is asked at once; with more than one, all the
 *     others are asked after the hedge delay (DNS_UPSTREAM_TIMEOUT / 5
 *     clamped to 100..350 ms) or as soon as the first one fails;
 *   - the first acceptable answer wins whatever its rcode; the query
 *     fails after DNS_UPSTREAM_TIMEOUT, or when every server failed;
 *   - identical questions in flight share one upstream query (upstream's
 *     "inflight" leader and followers); each requester gets the answer
 *     with its own id and RD/CD bits.
 *
 * Unlike upstream it does not open a socket per query: a few wildcard
 * sockets per address family carry everything, each query goes out with
 * a fresh random id (restored in the answer), and an answer is accepted
 * only from the address and port it was sent to, with that id and the
 * same question; everything else is dropped and counted. ICMP errors
 * (IP_RECVERR) count as a failure of that server.
 *
 * Bounds: questions in flight, requesters in total and per owner (the
 * session id). Callbacks run on the loop, never inside dnsup_query.
 */
#ifndef MDNS_DNS_UPSTREAM_H
#define MDNS_DNS_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

#define DNSUP_MAX_SERVERS 16

struct dnsup;
struct dnsup_req;

struct dnsup_cfg {
	union net_addr servers[DNSUP_MAX_SERVERS]; /* DNS_UPSTREAM_SERVERS */
	size_t nservers;
	uint64_t timeout_us;  /* DNS_UPSTREAM_TIMEOUT (4 s) */
	unsigned max_queries; /* distinct questions in flight (1024) */
	unsigned max_waiters; /* requesters, shared ones included (4096) */
	unsigned max_waiters_owner; /* requesters of one owner (256) */
	unsigned nsockets;	    /* sockets per address family (4) */
	int coalesce;		    /* share identical questions (1) */
};

/* Defaults above, no servers. */
void dnsup_cfg_defaults(struct dnsup_cfg *c);
/*
 * Add servers from upstream's notation: "1.1.1.1", "1.1.1.1:53",
 * "[2606:4700::1111]:53", "::1" (port 53 when absent). Addresses only:
 * upstream also resolves host names here, we refuse them (the server
 * must not depend on another resolver to find its resolvers). 0, or -1
 * with e set naming the bad entry.
 */
int dnsup_cfg_add_servers(
    struct dnsup_cfg *c, const char *const *list, size_t n, struct err *e);

enum dnsup_status {
	DNSUP_OK = 0,  /* ans/len is the answer */
	DNSUP_TIMEOUT, /* no acceptable answer within the timeout */
	DNSUP_FAILED,  /* every server failed (send error, ICMP) */
};
/* "ok", "timeout", "failed". */
const char *dnsup_status_name(int s);

/*
 * Called once per request on the loop thread. ans is valid during the
 * call only; it carries the requester's id (and, when the question was
 * shared, its RD and CD bits). The request handle is gone afterwards.
 */
typedef void dnsup_cb(
    void *arg, enum dnsup_status st, const uint8_t *ans, size_t len);

enum dnsup_refuse {
	DNSUP_R_NONE = 0,
	DNSUP_R_PARSE,	  /* not a request dnstun_server_check resolves */
	DNSUP_R_NOSERVER, /* no server of a family we have a socket for */
	DNSUP_R_FULL,	  /* max_queries or max_waiters reached */
	DNSUP_R_OWNER,	  /* max_waiters_owner reached for this owner */
};
const char *dnsup_refuse_name(int r);

struct dnsup_stats {
	uint64_t requests;   /* dnsup_query calls accepted */
	uint64_t shared;     /* ... that joined a question in flight */
	uint64_t refused[5]; /* by enum dnsup_refuse */
	uint64_t sent;	     /* datagrams sent */
	uint64_t send_errors;
	uint64_t hedged;  /* questions that asked the other servers */
	uint64_t answers; /* questions answered */
	uint64_t timeouts, failures;
	uint64_t icmp_errors;
	uint64_t drop_source;	 /* datagram from another address/port */
	uint64_t drop_id;	 /* no query with that id on that socket */
	uint64_t drop_question;	 /* right id, wrong or unreadable question */
	uint64_t drop_malformed; /* shorter than a header or QR clear */
	uint64_t cancelled;
};

/*
 * Open the sockets (bound to the wildcard address, port chosen by the
 * kernel, per family present in the servers) on loop. NULL with e set.
 */
struct dnsup *dnsup_new(
    struct ev_loop *loop, const struct dnsup_cfg *c, struct err *e);
/* Close everything; callbacks of requests still pending are not called. */
void dnsup_free(struct dnsup *u);

/*
 * Resolve query[0..len) (copied) for owner (the session id; bounds are
 * per owner). Returns a handle, or NULL with *why set. The callback runs
 * later on the loop unless dnsup_cancel comes first.
 */
struct dnsup_req *dnsup_query(struct dnsup *u, const uint8_t *query, size_t len,
    uint8_t owner, dnsup_cb *cb, void *arg, enum dnsup_refuse *why);
/* No callback for this request. The shared question goes on for the
 * others; with none left it is dropped. */
void dnsup_cancel(struct dnsup_req *r);
/* Cancel every request of owner (session closed). */
void dnsup_cancel_owner(struct dnsup *u, uint8_t owner);

/* Questions in flight, requesters (total, or of owner when >= 0). */
unsigned dnsup_questions(const struct dnsup *u);
unsigned dnsup_waiters(const struct dnsup *u, int owner);
const struct dnsup_stats *dnsup_stats(const struct dnsup *u);
/* The local address of a family's first socket (tests). 0 / -1. */
int dnsup_local_addr(const struct dnsup *u, int family, union net_addr *out);

/* The hedge delay for a timeout (upstream dnsUpstreamHedgeDelay). */
uint64_t dnsup_hedge_delay_us(uint64_t timeout_us);

#endif
