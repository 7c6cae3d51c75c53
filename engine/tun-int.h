/* SPDX-License-Identifier: MIT */
/*
 * tun-int.h — what the files of the tun module share (tun.c: the object,
 * device and DNS path; tun-stack.c: lwIP; tun-pkt.c: packet checks;
 * tun-sys.c: routes, resolver, state file). Not a public interface.
 */
#ifndef MDNS_TUN_INT_H
#define MDNS_TUN_INT_H

#include <net/if.h>

#include "common/nl.h"
#include "engine/tun.h"

struct tun_dns_slot {
	uint64_t qid; /* 0: free */
	uint64_t deadline_us;
	int family;
	uint8_t app[16]; /* the application's address and port */
	uint16_t app_port;
	uint8_t dns[16]; /* the mapped address it asked */
};

struct tun_stack; /* tun-stack.c */

struct tun {
	struct ev_loop *loop;
	struct tun_config cfg;
	char ifname[16];
	int ifindex;
	int fd;
	struct tun_flow_sink fs;
	struct tun_dns_sink ds;
	struct tun_stats st;
	struct tun_stack *stack;
	struct tun_dns_slot *dns;
	uint64_t next_qid;
	uint8_t *buf; /* one packet (read, or one we build) */
};

/* Write one packet to the device (counted). 0 or -1. */
int tun_write_pkt(struct tun *t, const uint8_t *p, size_t len);

/* tun-stack.c */
struct tun_stack *tun_stack_new(struct tun *t, struct err *e);
void tun_stack_free(struct tun_stack *k);
/* A checked TCP packet into lwIP. */
void tun_stack_input(struct tun_stack *k, const struct tun_pkt *p);

enum { TUN_RES_NONE, TUN_RES_FILE, TUN_RES_SYMLINK, TUN_RES_ABSENT };

enum { TUN_R_HALF, TUN_R_HOST, TUN_R_NONE, TUN_R_EXISTING };

struct tun_route {
	int kind;      /* TUN_R_HALF, TUN_R_HOST; TUN_R_NONE: nothing needed;
				TUN_R_EXISTING: there before us, not ours */
	unsigned refs; /* resolver users */
	union net_addr host; /* TUN_R_HOST...: the resolver */
	struct nl_route_spec spec;
	char ifname[IF_NAMESIZE];
	char text[2 * NET_ADDR_STRLEN + 48];
};

/* The parsed state file (tun_sys_cleanup reads it back). */
struct tun_sys_state {
	struct tun_route *r; /* malloc'd; free it */
	size_t nr;
	int res_kind;
	unsigned res_mode;
	char resolv[4096];
	char link[4096];
	long pid;
};

/*
 * Parse a state file's text (NUL-terminated, changed in place). 0, or -1
 * with e set ("PATH:LINE: malformed line") and st->r NULL.
 */
int tun_sys_parse_state(
    const char *path, char *text, struct tun_sys_state *st, struct err *e);

/* tun.c: whether the effective capabilities hold CAP_NET_ADMIN. */
int tun_have_net_admin(void);

/* tun-sys.c: point resolv.conf at the mapped DNS addresses. */
int tun_sys_set_resolver(
    struct tun_sys *s, const struct tun_config *c, struct err *e);

#endif
