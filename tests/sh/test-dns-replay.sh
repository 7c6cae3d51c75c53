#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-dns-replay.sh — the s8 captures (DNS through the tunnel) replayed
# both ways against a real resolver: an unbound serving the s8 records
# (tests/lib/net.sh unbound_s8) is the DNS_UPSTREAM_SERVERS of our server
# in test-server-replay (the real client's DNS_QUERY frames must get the
# real server's DNS_QUERY_RES fragments), and test-client-replay feeds
# the real server's answers to our client (the application must get the
# answers the capture's app lines record). The replays are the unit
# binaries; this script gives them the resolver and checks their TAP.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1

# The two captures' resolvers listed the 25-record RRset from .8 and .24.
unbound_s8 RAW "$TOPO_DIR/raw" "" 8
ok $? "unbound with the s8-xor-raw records at $RAW"
unbound_s8 B64 "$TOPO_DIR/b64" "" 24
ok $? "unbound with the s8-xor-base64 records at $B64"

for t in test-server-replay test-client-replay; do
	out=$(MDNS_DNS_UPSTREAM_RAW=$RAW MDNS_DNS_UPSTREAM_BASE64=$B64 \
	    "$TOPO_BUILD/tests/$t" 2>&1)
	rc=$?
	grep -E '^(not ok|# )' <<<"$out" | grep -iE 'dns|s8|not ok' |
	    sed 's/^/# /'
	dns=$(grep -cE '^ok .*DNS' <<<"$out")
	ok $((rc == 0 && dns >= 4 ? 0 : 1)) \
	    "$t with a resolver: passes, $dns DNS checks"
	is "$(grep -c '^not ok' <<<"$out")" 0 "$t: no failed check"
done

done_testing
