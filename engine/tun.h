/* SPDX-License-Identifier: MIT */
/*
 * tun.h — full-VPN mode on Linux (issue 15): a TUN device whose IP
 * packets a userspace TCP/IP stack (lwIP, on the caller's event loop, one
 * thread) turns into flows, the routes that send the machine's traffic
 * into it while the resolvers stay outside, and the system resolver
 * pointed at a DNS address mapped inside the TUN. docs/tun.md has the
 * packet path and the wiring steps left for the tunnel client.
 *
 * Three layers, usable apart:
 *
 *   struct tun      the device and the stack. Packets from the device
 *                   are checked (tun_pkt_parse); TCP goes to lwIP, which
 *                   terminates it and hands each accepted connection to
 *                   the flow sink; UDP to the mapped DNS address:53 goes
 *                   to the DNS sink; other UDP and ICMP echo are answered
 *                   with ICMP unreachable; everything else is dropped and
 *                   counted.
 *   struct tun_sys  the machine's state around it: a lock (one full-VPN
 *                   mode at a time), a state file recording every change
 *                   before it is made, the two half-default routes per
 *                   family, host routes for resolvers through the original
 *                   gateway, /etc/resolv.conf. tun_sys_cleanup undoes what
 *                   a crashed run left from its state file.
 *   tun_vpn_*       both together, what `connect --tun` calls.
 *
 * A flow (struct tun_flow) behaves like a non-blocking socket on the event
 * loop: tun_flow_set_io registers interest (EV_READ | EV_WRITE) and a
 * callback, tun_flow_recv / tun_flow_send / tun_flow_shutdown_wr behave
 * like recv / send / shutdown(SHUT_WR) (-1 with errno EAGAIN when they
 * would block, ECONNRESET after the application reset, EPIPE after our
 * own shutdown), and readiness is level-triggered. So the stream core
 * (engine/stream.c) can drive a flow exactly as it drives a SOCKS socket;
 * callbacks are never called from inside lwIP, only from the loop.
 *
 * lwIP keeps its state in globals: one struct tun per process.
 * Returns: 0 / -1 with e set, unless said otherwise.
 */
#ifndef MDNS_TUN_H
#define MDNS_TUN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/ev.h"
#include "common/net.h"
#include "common/util.h"

#define TUN_DEFAULT_NAME "mdns0"
#define TUN_MTU_MIN	 1280 /* IPv6 minimum link MTU */
#define TUN_MTU_MAX	 9000
#define TUN_PKT_MAX	 65535

struct tun;
struct tun_flow;

/* The device, its addresses and the stack's limits. */
struct tun_config {
	char ifname[16];      /* "" means TUN_DEFAULT_NAME */
	union net_addr addr4; /* our side of the device; AF_UNSPEC: none */
	int plen4;	      /* prefix length of addr4 */
	union net_addr addr6; /* AF_UNSPEC: no IPv6 */
	int plen6;
	union net_addr dns4;	  /* mapped DNS address (port ignored) */
	union net_addr dns6;	  /* AF_UNSPEC: none */
	int mtu;		  /* TUN_MTU_MIN .. TUN_MTU_MAX */
	unsigned max_flows;	  /* TCP flows at once; beyond: reset */
	unsigned max_dns_pending; /* DNS queries awaiting an answer */
	unsigned dns_timeout_ms;  /* a query's slot is kept this long */
};

/* The defaults: mdns0, 198.18.0.1/30 (DNS 198.18.0.2), fd6d:646e:7300::1/126
 * (DNS ::2), MTU 1500, 4096 flows, 512 DNS queries for 5 s. */
void tun_config_defaults(struct tun_config *c);

/*
 * The flow sink: who carries TCP flows onward (the tunnel client's
 * streams; tests/tools/tun-driver.c's plain TCP connector in tests).
 * open is called from the loop once the application's handshake with the
 * stack is complete; the sink takes f (it must end it with
 * tun_flow_close or tun_flow_abort) and returns 0, or returns -1 and the
 * application gets a reset. src is the application's address and port,
 * dst the destination it asked for.
 */
struct tun_flow_sink {
	int (*open)(void *arg, struct tun_flow *f, const union net_addr *src,
	    const union net_addr *dst);
	void *arg;
};

/*
 * The DNS sink: who answers queries sent to the mapped DNS address (the
 * DNS-through-the-tunnel client path). query gets one DNS message (not
 * checked: the sink parses it) and an id; it returns 0 when it will try
 * to answer (tun_dns_answer with that id, at most dns_timeout_ms later)
 * or -1 to refuse it (counted; the application times out and retries).
 */
struct tun_dns_sink {
	int (*query)(void *arg, uint64_t qid, const uint8_t *msg, size_t len);
	void *arg;
};

/* Why a packet from the device was not carried (counted per reason). */
enum tun_drop {
	TUN_DROP_OVERSIZE,    /* longer than the MTU */
	TUN_DROP_MALFORMED,   /* header or length wrong */
	TUN_DROP_CHECKSUM,    /* IPv4 header or TCP/UDP checksum wrong */
	TUN_DROP_FRAGMENT,    /* IP fragments are not reassembled */
	TUN_DROP_MARTIAN,     /* bad source, loopback, unspecified */
	TUN_DROP_MULTICAST,   /* to multicast/broadcast: the host's IGMP,
			       * MLD, router solicitations */
	TUN_DROP_ICMP,	      /* ICMP other than echo (NDP, MLD, errors) */
	TUN_DROP_PROTO,	      /* other protocol: answered unreachable */
	TUN_DROP_UDP,	      /* UDP not to the DNS address: unreachable */
	TUN_DROP_ECHO,	      /* ICMP echo: answered host unreachable */
	TUN_DROP_DNS_NO_SINK, /* DNS query but no DNS sink: unreachable */
	TUN_DROP_DNS_BUSY,    /* max_dns_pending queries outstanding */
	TUN_DROP_DNS_REFUSED, /* the DNS sink refused it */
	TUN_DROP_FLOW_LIMIT,  /* max_flows reached: the SYN is reset */
	TUN_DROP_STACK,	      /* lwIP could not take it (memory) */
	TUN_DROP_MAX
};
const char *tun_drop_name(enum tun_drop d);

/* Counters (what VpnDad's diagnostics screen shows). */
struct tun_stats {
	uint64_t pkts_in, bytes_in;   /* read from the device */
	uint64_t pkts_out, bytes_out; /* written to the device */
	uint64_t read_errors, write_errors;
	uint64_t flows_open;	  /* now */
	uint64_t flows_opened;	  /* handed to the flow sink */
	uint64_t flows_refused;	  /* the sink said no */
	uint64_t flows_reset;	  /* the application (or lwIP) reset */
	uint64_t flow_bytes_up;	  /* application -> sink */
	uint64_t flow_bytes_down; /* sink -> application */
	uint64_t dns_queries, dns_answers, dns_late, dns_timeouts;
	uint64_t dns_truncated; /* answers cut to fit, TC set */
	uint64_t icmp_sent;	/* unreachables we answered */
	uint64_t drops[TUN_DROP_MAX];
};

/*
 * Create the device cfg->ifname (IFF_TUN | IFF_NO_PI, not persistent: it
 * goes when the process does), set its MTU and addresses through netlink,
 * bring it up, start lwIP and watch the device on loop. Needs root or
 * CAP_NET_ADMIN: checked first, with a message saying so. Either sink may
 * be NULL (flows are then reset, DNS answered unreachable). NULL with e
 * set on failure (nothing left behind).
 */
struct tun *tun_open(struct ev_loop *loop, const struct tun_config *cfg,
    const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e);
/*
 * The same stack over an fd that already carries raw IP packets (one per
 * read/write): tests, fuzzing, and a device opened elsewhere. fd is
 * owned by the tun from here (closed by tun_close). No netlink.
 */
struct tun *tun_attach(struct ev_loop *loop, const struct tun_config *cfg,
    int fd, const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e);
/*
 * Reset every TCP connection, free the flows the sink still holds (their
 * handles are invalid afterwards: close them first), stop lwIP, close
 * the device. NULL is a no-op.
 */
void tun_close(struct tun *t);

/* The device's name and index (index 0 for tun_attach). */
const char *tun_ifname(const struct tun *t);
int tun_ifindex(const struct tun *t);
const struct tun_config *tun_get_config(const struct tun *t);

/*
 * One packet as read from the device: checked, then carried, answered or
 * dropped (counted). The fuzzing entry point. Flow and DNS sink callbacks
 * run later, from the loop.
 */
void tun_input(struct tun *t, const uint8_t *pkt, size_t len);

/* An answer for query qid. -1 (counted as late) when the id is unknown or
 * expired. An answer too long for the MTU is cut to its question with TC
 * set, so the application retries over TCP. */
int tun_dns_answer(struct tun *t, uint64_t qid, const uint8_t *msg, size_t len);

const struct tun_stats *tun_get_stats(const struct tun *t);
/* The counters as a JSON object (new reference). */
json_t *tun_stats_json(const struct tun_stats *s);

/* ---- flows (the socket-like side the sink uses) ---- */

typedef void tun_flow_io_cb(struct tun_flow *f, int events, void *arg);

/* Interest in EV_READ / EV_WRITE and the callback (as ev_io_add). */
void tun_flow_set_io(
    struct tun_flow *f, int events, tun_flow_io_cb *cb, void *arg);
/* Change only the interest (as ev_io_set). */
void tun_flow_set_mask(struct tun_flow *f, int events);
/* As recv: bytes (> 0), 0 at the application's FIN once everything was
 * read, -1 with errno EAGAIN, or ECONNRESET / ECONNABORTED once the
 * connection is gone (its unread bytes with it). Reading opens the
 * window. */
ssize_t tun_flow_recv(struct tun_flow *f, void *buf, size_t len);
/* As send: bytes taken (> 0), -1 with errno EAGAIN (send buffer full),
 * EPIPE (after tun_flow_shutdown_wr) or ECONNRESET. */
ssize_t tun_flow_send(struct tun_flow *f, const void *buf, size_t len);
/* FIN to the application after the data already sent. */
int tun_flow_shutdown_wr(struct tun_flow *f);
/* Graceful end (FIN after queued data; RST if unread data is left, as a
 * socket's close). f is invalid afterwards. */
void tun_flow_close(struct tun_flow *f);
/* RST to the application. f is invalid afterwards. */
void tun_flow_abort(struct tun_flow *f);
/* Bytes the application sent that were not read yet, and sent bytes the
 * application has not acknowledged. */
size_t tun_flow_pending_in(const struct tun_flow *f);
size_t tun_flow_pending_out(const struct tun_flow *f);

/* ---- the machine around it ---- */

struct tun_sys;

struct tun_sys_config {
	const char *state_dir;	 /* NULL: the runtime dir (path.h) */
	const char *resolv_conf; /* NULL: /etc/resolv.conf */
	int set_resolver;	 /* point the system resolver at the TUN */
	int default_routes;	 /* install the half-default routes */
};

/*
 * Take the lock (state_dir/tun.lock): -1 "another connect --tun is
 * running (pid N)" when held, and -1 naming `connect --tun --cleanup`
 * when a state file from a run that did not restore is there.
 */
struct tun_sys *tun_sys_begin(const struct tun_sys_config *c, struct err *e);
/*
 * Change the machine for the device t: remember the original default
 * routes, install 0.0.0.0/1 + 128.0.0.0/1 (and ::/1 + 8000::/1 when the
 * TUN has IPv6) into it, point the resolver at the mapped DNS addresses.
 * Each change is written to the state file before it is made. On
 * failure the changes made so far stay recorded: call tun_sys_end.
 */
int tun_sys_apply(struct tun_sys *s, struct tun *t, struct err *e);
/*
 * A host route for a resolver (or the server queried directly) through
 * the route it had before the TUN: the original gateway and interface.
 * Counted per address (add twice, del twice). Loopback and local
 * addresses need none (0). tun_route_resolver_del removes it when the
 * last user leaves. Both may be called before tun_sys_apply.
 */
int tun_route_resolver_add(
    struct tun_sys *s, const union net_addr *a, struct err *e);
int tun_route_resolver_del(
    struct tun_sys *s, const union net_addr *a, struct err *e);
/* Routes installed now, and their text ("0.0.0.0/1 dev mdns0"). */
size_t tun_sys_nroutes(const struct tun_sys *s);
const char *tun_sys_route_text(const struct tun_sys *s, size_t i);
/* The routes and resolver state as JSON (new reference). */
json_t *tun_sys_json(const struct tun_sys *s);
/*
 * Undo everything (in reverse order), remove the state file, release the
 * lock, free s. Problems are collected in e (the first one) but every
 * step is tried; -1 if any failed. NULL is a no-op returning 0.
 */
int tun_sys_end(struct tun_sys *s, struct err *e);

/*
 * After a crash: undo what the state file in c->state_dir records. Takes
 * the lock first (-1 when a run holds it). *changed gets the number of
 * changes undone (0 and return 0 when there is no state file). Each step
 * is reported through say (may be NULL) as one line of text.
 */
int tun_sys_cleanup(const struct tun_sys_config *c,
    void (*say)(void *arg, const char *line), void *arg, int *changed,
    struct err *e);

/* ---- both: what `connect --tun` calls ---- */

struct tun_vpn {
	struct tun_sys *sys;
	struct tun *tun;
};

/*
 * Lock, host routes for keep_out[0 .. nkeep) (the resolvers in use and
 * the server when it is queried directly: routed outside before the
 * halves go in, so none of their packets ever enters the TUN), device
 * and stack, half-default routes, resolver: the whole full-VPN mode up,
 * or everything undone and -1. Later resolvers join and leave with
 * tun_route_resolver_add / _del on v->sys. Signals are the caller's: on
 * SIGTERM or SIGINT it stops its loop and calls tun_vpn_stop.
 */
int tun_vpn_start(struct tun_vpn *v, struct ev_loop *loop,
    const struct tun_config *tc, const struct tun_sys_config *sc,
    const union net_addr *keep_out, size_t nkeep,
    const struct tun_flow_sink *fs, const struct tun_dns_sink *ds,
    struct err *e);
/* Restore the machine and close the device. -1 with e when a step of the
 * restore failed (every step is still tried). */
int tun_vpn_stop(struct tun_vpn *v, struct err *e);
/* {"device": ..., "counters": tun_stats_json, "routes": [...], ...}. */
json_t *tun_vpn_json(const struct tun_vpn *v);

/* ---- packet checks (pure; tun-pkt.c) ---- */

enum tun_pkt_kind {
	TUN_PKT_TCP,   /* to the stack */
	TUN_PKT_DNS,   /* UDP to a mapped DNS address, port 53 */
	TUN_PKT_UDP,   /* other UDP: port unreachable */
	TUN_PKT_ECHO,  /* ICMP echo request: host unreachable */
	TUN_PKT_PROTO, /* another protocol: protocol unreachable */
	TUN_PKT_DROP,  /* *why says why */
};

/* A packet's parsed view (pointers into the packet). */
struct tun_pkt {
	int family; /* AF_INET or AF_INET6 */
	uint8_t proto;
	uint8_t src[16], dst[16]; /* 4 or 16 bytes used */
	const uint8_t *ip;	  /* the packet */
	size_t ip_len;
	size_t nh_off; /* offset of the next-header byte (IPv6) */
	const uint8_t *l4;
	size_t l4_len;
	uint16_t sport, dport;
	uint8_t tcp_flags;
};

/*
 * Check one packet (len bytes, at most mtu) and say what to do with it.
 * dns4/dns6 are the mapped DNS addresses (AF_UNSPEC: none). Fills p for
 * every kind but TUN_PKT_DROP.
 */
enum tun_pkt_kind tun_pkt_parse(const uint8_t *pkt, size_t len, size_t mtu,
    const union net_addr *dns4, const union net_addr *dns6, struct tun_pkt *p,
    enum tun_drop *why);
/*
 * The ICMP / ICMPv6 error answering p (TUN_PKT_UDP, _ECHO or _PROTO):
 * from p's destination to its source, quoting as much of p as RFC 792 /
 * RFC 4443 allow within mtu. Returns its length in out (cap bytes, at
 * least 1280), or 0 for a kind that gets no answer.
 */
size_t tun_pkt_unreach(const struct tun_pkt *p, enum tun_pkt_kind kind,
    size_t mtu, uint8_t *out, size_t cap);
/*
 * A UDP packet answering the DNS query p with msg: from p's destination
 * and port to its source and port. When it would exceed mtu, msg is cut
 * to header and question with TC set (*truncated = 1). Returns the
 * length in out (cap >= mtu), 0 when msg is shorter than a DNS header.
 */
size_t tun_pkt_udp_answer(const struct tun_pkt *p, const uint8_t *msg,
    size_t len, size_t mtu, uint8_t *out, size_t cap, int *truncated);
/* The Internet checksum of len bytes, added to sum (RFC 1071). */
uint32_t tun_pkt_sum(uint32_t sum, const uint8_t *p, size_t len);
uint16_t tun_pkt_fold(uint32_t sum);

#endif
