/* SPDX-License-Identifier: MIT */
/*
 * client-udp.h — SOCKS5 UDP ASSOCIATE for DNS (client-udp.c). Not a
 * public interface.
 */
#ifndef MDNS_CLIENT_UDP_H
#define MDNS_CLIENT_UDP_H

#include "engine/client-int.h"

/*
 * Serve a UDP association for the SOCKS5 connection tcp (taken over:
 * closed with the association); announced is the request's ATYP, address
 * and port. Writes the SOCKS5 reply. 0, or -1 (REP 1 written, tcp not
 * taken: the caller closes it).
 */
int ecl_udp_open(
    struct eng_client *c, int tcp, const uint8_t *announced, size_t alen);
/* Close every association (the client goes away). */
void ecl_udp_free_all(struct eng_client *c);

#endif
