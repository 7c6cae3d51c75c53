/* SPDX-License-Identifier: MIT */
/*
 * client-tun.h — full-VPN mode in the client (client-tun.c): the bridge
 * from engine/tun.h's flows and mapped DNS address to the client's
 * streams and DNS path, and the resolvers' host routes. The public calls
 * are eng_client_tun_start / _stop (client.h). Not a public interface.
 */
#ifndef MDNS_CLIENT_TUN_H
#define MDNS_CLIENT_TUN_H

#include <stdio.h>

#include "engine/client-int.h"

struct pool_event;

/* A pool event: a resolver whose last connection is rejected loses its
 * host route. No-op when full-VPN mode is off. */
void ecl_tun_pool_event(struct eng_client *c, const struct pool_event *ev);
/* The status's "tun" object (null when off) and its metrics. */
json_t *ecl_tun_status_json(const struct eng_client *c);
void ecl_tun_metrics(const struct eng_client *c, FILE *f);

#endif
