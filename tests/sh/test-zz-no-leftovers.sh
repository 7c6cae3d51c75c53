#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-zz-no-leftovers.sh — runs last (alphabetically): no fixture process
# (resolver-farm, udp-relay, http-fixture, auth-responder, unbound, dnsmasq,
# mdns-doctor serve/connect) of this checkout outlives the tests before it,
# and no mdns-test.* scratch dir of this checkout remains.
cd "$(dirname "$0")/../.." || exit 1
export MDNS_TOP=${MDNS_TOP:-$PWD}
. tests/lib/tap.sh
. tests/lib/topo.sh
# Processes killed by the last test may take a moment to be reaped.
for ((i = 0; i < 20; i++)); do
	topo_leftovers >/dev/null && break
	sleep 0.1
done
report=$(topo_leftovers)
ok $? "no fixture process or scratch dir outlives the suite"
[ -n "$report" ] && echo "$report"
done_testing
