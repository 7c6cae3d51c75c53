/* SPDX-License-Identifier: MIT */
/*
 * freeport — ask the kernel for a port that is free on a loopback address
 * for UDP and TCP at once, print it and exit.
 *
 *   freeport [--udp | --tcp] [ADDR]        (ADDR default 127.0.0.1)
 *
 * It binds port 0, reads the port back and checks the other protocol can
 * bind it too, then closes both. The port is only free at that moment:
 * callers that hand it to a daemon (unbound, dnsmasq) must check the daemon
 * came up and retry with a new port when it did not (tests/lib/net.sh does).
 * Exit status 0, or 1 when no port was found.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/net.h"
#include "common/util.h"

int
main(int argc, char **argv)
{
	union net_addr a;
	struct err e = {""};
	const char *addr = "127.0.0.1";
	int want_udp = 1, want_tcp = 1, i, tries;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--udp") == 0)
			want_tcp = 0;
		else if (strcmp(argv[i], "--tcp") == 0)
			want_udp = 0;
		else if (argv[i][0] != '-')
			addr = argv[i];
		else {
			fprintf(stderr,
			    "usage: freeport [--udp|--tcp] "
			    "[ADDR]\n");
			return 2;
		}
	}
	if (net_addr_parse(addr, 0, &a, &e) < 0) {
		fprintf(stderr, "freeport: %s\n", e.msg);
		return 2;
	}
	for (tries = 0; tries < 100; tries++) {
		int u = -1, t = -1, ok;

		net_addr_set_port(&a, 0);
		if (want_udp) {
			u = net_udp_bind(&a, &e);
			ok = u >= 0 && net_local_addr(u, &a, &e) == 0;
		} else {
			t = net_tcp_listen(&a, 1, &e);
			ok = t >= 0 && net_local_addr(t, &a, &e) == 0;
		}
		if (ok && want_udp && want_tcp)
			ok = (t = net_tcp_listen(&a, 1, &e)) >= 0;
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (ok) {
			printf("%u\n", net_addr_port(&a));
			return 0;
		}
	}
	fprintf(stderr, "freeport: no free port on %s: %s\n", addr, e.msg);
	return 1;
}
