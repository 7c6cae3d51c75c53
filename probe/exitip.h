/* SPDX-License-Identifier: MIT */
/*
 * exitip.h — the `ip` check (design.md 4.2, docs/checks.md): ask several
 * IP-echo services, per address family, once directly and once through
 * the tunnel engine's SOCKS port with remote name resolution (socks5h),
 * and judge: the address the services see through the tunnel must equal
 * the expected exit, differ from the direct address, and be the same for
 * every service. Without an expected exit the verdict is a warning that
 * shows the evidence, never a silent ok.
 *
 * Two halves: exitip_start runs the fetches on an event loop (probe/fetch,
 * never blocking; usable inside the client engine's loop too), and
 * exitip_judge is a pure function from observations to one check per
 * family, unit-tested without a network.
 */
#ifndef MDNS_EXITIP_H
#define MDNS_EXITIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "common/result.h"
#include "probe/echo.h"

/* One IP-echo service: a URL that answers the caller's address, and the
 * address family it is reached over (4 or 6: a host name with only A or
 * only AAAA records, or an address literal). */
struct exitip_service {
	const char *url;
	int family;
};

/*
 * The built-in services (docs/checks.md lists them; every test replaces
 * them): three per family, from three operators, in the three body shapes.
 */
extern const struct exitip_service exitip_default_services[];
extern const size_t exitip_ndefault_services;

enum exitip_path {
	EXITIP_DIRECT = 0,
	EXITIP_TUNNEL = 1,
};

struct exitip_opts {
	const struct exitip_service *svc;
	size_t nsvc;
	int want4, want6;	  /* which families to check */
	const char *socks;	  /* "HOST:PORT" of the SOCKS5 port, or NULL */
	const char *socks_user;	  /* SOCKS5 user/password, or NULL */
	const char *socks_pass;	  /* (secret: never in evidence) */
	const char *no_socks_why; /* why socks is NULL, for the verdict */
	int timeout_ms;		  /* per fetch */
	const char *user_agent;
	const char *const *expect; /* expected exits, normalised (echo.h) */
	size_t nexpect;
	const char *expect_from; /* where they came from ("--expect") */
};

/* What one fetch saw. */
struct exitip_obs {
	const struct exitip_service *svc;
	enum exitip_path path;
	int ok;		      /* an address was read */
	char ip[ECHO_IP_MAX]; /* ok: the address the service saw */
	int family;	      /* ok: 4 or 6 */
	enum res_reason why;  /* !ok: timeout, fetch_failed, malformed */
	char error[160];      /* !ok: one line */
	char local_ip[48];    /* our end of the connection, or "" */
	int64_t ms;	      /* time taken */
};

struct exitip;

/*
 * Start every fetch (each service of a wanted family, directly and, when
 * o->socks is set, through it) on loop; done(arg, x) is called once when
 * all have ended (from the loop; possibly before exitip_start returns
 * when nothing could be started). o and the strings it points to must
 * outlive x. NULL with e set when the fetcher cannot be set up.
 */
struct exitip *exitip_start(struct ev_loop *loop, const struct exitip_opts *o,
    void (*done)(void *arg, struct exitip *x), void *arg, struct err *e);
/* The observations so far (all of them once done was called). */
const struct exitip_obs *exitip_obs(const struct exitip *x, size_t *n);
/* Stop what still runs and free x. NULL is fine. */
void exitip_free(struct exitip *x);

/*
 * The verdict for one family (4 or 6) from n observations (pure).
 * Returns 1 (c untouched) when o has no service of that family, else 0
 * with c filled (kind ip, subject "ipv4"/"ipv6"):
 *   fail exit_ip_mismatch   no tunnel answer equals an expected exit of
 *                           the family
 *   fail not_tunnelled      every address seen through the tunnel was
 *                           also seen directly (one shared address among
 *                           others is a lying or caching service: warn
 *                           disagree instead)
 *   warn disagree           services gave different addresses (tunnel
 *                           or direct)
 *   warn no_baseline        no expected exit of this family
 *   warn fetch_failed       fewer than two services answered through
 *                           the tunnel
 *   unknown                 no tunnel answer (no SOCKS port, or every
 *                           tunnel fetch failed: timeout, fetch_failed,
 *                           malformed)
 *   ok                      otherwise
 */
int exitip_judge(const struct exitip_obs *obs, size_t n, int family,
    const struct exitip_opts *o, struct res_check *c);

/*
 * The command's exit code from the family checks: the worst verdict among
 * the families that got a verdict (ok, warn, fail); UNKNOWN when none did.
 * A family nobody could answer for (no IPv6 here) does not hide the
 * other's result; its own check still says unknown.
 */
int exitip_exit_code(const struct res_check *c, size_t n);

#endif
