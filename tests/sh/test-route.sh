#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-route.sh — `mdns-doctor route` against a real kernel routing table
# in a network namespace made here: a TUN device (ip tuntap) with routes
# for some resolvers, a veth "uplink" with the default route, unreachable
# and blackhole routes, IPv4 and IPv6. Resolvers routed into the TUN
# device are flagged routed_in_tunnel, the others are not; a default
# route into the TUN device is named; --tunnel-if; resolvers from a list
# file and from a running client engine's status; the checks land in the
# store with their subject.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/netns.sh
. tests/sh/engine-lib.sh

ns_init
ns_add rt
RT=$(ns_name rt)
ip -n "$RT" tuntap add dev tun0 mode tun
ip -n "$RT" link set tun0 up
ns_addr rt tun0 10.99.0.1/24,fd99::1/64
ip -n "$RT" link add up0 type veth peer name up1
ip -n "$RT" link set up0 up
ip -n "$RT" link set up1 up
ns_addr rt up0 10.98.0.1/24,fd98::1/64
ns_route rt default via 10.98.0.254
ns_route rt default via fd98::fe
ns_route rt 192.0.2.53/32 dev tun0
ns_route rt 2001:db8::53/128 dev tun0
ip -n "$RT" route add unreachable 203.0.113.0/24
ip -n "$RT" route add blackhole 203.0.114.0/24

# route ARGS...: run in the namespace, JSON lines into $OUT, status $RC.
route() {
	OUT=$(ns rt "$BIN" route --no-store --format jsonl "$@" 2>"$TOPO_DIR/err")
	RC=$?
}
# field SUBJECT KEY: one field of the check about SUBJECT.
field() {
	printf '%s\n' "$OUT" | jq -r --arg s "$1" \
	    "select(.subject == \$s) | .$2"
}

route 192.0.2.53 8.8.8.8:5353 203.0.113.9 203.0.114.1 '[2001:db8::53]:53' \
    2001:db8::1 10.99.0.7
is "$RC" 2 "a resolver in the tunnel makes the exit code CRITICAL"
is "$(field 192.0.2.53 verdict)/$(field 192.0.2.53 reason)" \
    fail/routed_in_tunnel "192.0.2.53 (routed to tun0) is flagged"
like "$(field 192.0.2.53 detail)" "into tun0 \\(kind tun\\).*own carrier" \
    "the detail names the device and why it is a tunnel"
like "$(field 192.0.2.53 evidence)" "dev tun0 .*kind tun.*type none.*src 10.99.0.1" \
    "evidence: the kernel's answer"
is "$(field 8.8.8.8 verdict)" ok "8.8.8.8 (the default route) is fine"
like "$(field 8.8.8.8 detail)" "via 10.98.0.254 dev up0, src 10.98.0.1" \
    "... via the uplink's gateway"
is "$(field 203.0.113.9 reason)" no_route "an unreachable route: no_route"
like "$(field 203.0.113.9 detail)" "unreachable route" "... said so"
like "$(field 203.0.114.1 detail)" "blackhole route" "a blackhole route"
is "$(field 2001:db8::53 reason)" routed_in_tunnel "IPv6 resolver in tun0"
is "$(field 2001:db8::1 verdict)" ok "IPv6 resolver via the uplink"
like "$(field 2001:db8::1 detail)" "via fd98::fe dev up0" "... gateway"
is "$(field 10.99.0.7 reason)" routed_in_tunnel \
    "an address on the tunnel's own subnet is in the tunnel"
like "$(field 'default ipv4' detail)" "via 10.98.0.254 dev up0 table main" \
    "default IPv4 route shown"
like "$(field 'default ipv6' detail)" "via fd98::fe dev up0" \
    "default IPv6 route shown"
is "$(field 'default ipv4' verdict)" ok "the default row is information"

route 8.8.8.8 2001:db8::1
is "$RC" 0 "only resolvers outside the tunnel: exit 0"
route 8.8.8.8 --tunnel-if up0
is "$RC/$(field 8.8.8.8 reason)" 2/routed_in_tunnel \
    "--tunnel-if makes any device count as the tunnel"

# A full-VPN set-up: default into the tunnel, one resolver kept outside.
ip -n "$RT" route replace default dev tun0
ns_route rt 8.8.4.4/32 via 10.98.0.254
route 8.8.8.8 8.8.4.4
is "$(field 8.8.8.8 reason)" routed_in_tunnel \
    "default into the tunnel: a resolver without its own route is flagged"
is "$(field 8.8.4.4 verdict)" ok "a resolver with its own route outside is not"
like "$(field 'default ipv4' detail)" "dev tun0 table main \\(a tunnel\\).*enters the tunnel" \
    "the default route into the tunnel is named"
ip -n "$RT" route replace default via 10.98.0.254

# From a list file (comments, a prefix, a duplicate) and a bad list.
printf '# resolvers\n192.0.2.53\n8.8.8.8:53 # dns\n8.8.8.8:5353\n' \
    >"$TOPO_DIR/list.txt"
route --resolvers "$TOPO_DIR/list.txt"
is "$(printf '%s\n' "$OUT" | jq -r 'select(.subject | test("^default") | not) | .subject' | tr '\n' ' ')" \
    "192.0.2.53 8.8.8.8 " "list: each address once, in order"
is "$RC" 2 "list with a tunnelled resolver: CRITICAL"
printf '8.8.8.8\nnot-an-address\n' >"$TOPO_DIR/bad.txt"
route --resolvers "$TOPO_DIR/bad.txt"
is "$RC" 3 "a bad list line: UNKNOWN"
like "$(cat "$TOPO_DIR/err")" "bad.txt:2: " "... naming file and line"
route nonsense
is "$RC" 3 "a bad argument: UNKNOWN"
like "$(cat "$TOPO_DIR/err")" "nonsense: bad address" "... with the reason"
route --control "$TOPO_DIR/nothing.sock"
is "$RC" 3 "no engine at --control: UNKNOWN"
like "$(cat "$TOPO_DIR/err")" "engine not running" "... said so"

# From a running client engine: a real server on the namespace's
# loopback and a client with two resolvers, one of them in the tunnel.
ENG_EXEC=(ip netns exec "$RT")
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/client.sock")
eng_serve SRV
eng_connect CL "$SRV_ADDR"$'\n'"192.0.2.53:53"
ok $? "client connected through the server on the namespace's loopback"
route --control "$TOPO_DIR/client.sock"
is "$(field 127.0.0.1 verdict)" ok "engine resolver 127.0.0.1 is local"
is "$(field 192.0.2.53 reason)" routed_in_tunnel \
    "engine resolver 192.0.2.53 is flagged"

# Into the store: the run and one row per subject.
DB=$TOPO_DIR/h.db
ns rt "$BIN" route --db "$DB" 192.0.2.53 8.8.8.8 >/dev/null 2>&1
is "$?" 2 "stored run: exit 2"
is "$(sqlite3 "$DB" "SELECT status FROM runs WHERE command = 'route'")" \
    critical "run status critical"
is "$(sqlite3 "$DB" "SELECT verdict || ' ' || reason FROM checks WHERE kind = 'route' AND subject = '192.0.2.53'")" \
    "fail routed_in_tunnel" "the flagged resolver's check is stored"
is "$(sqlite3 "$DB" "SELECT count(*) FROM checks WHERE evidence LIKE 'route get 8.8.8.8: unicast%'")" \
    1 "... with its evidence"
done_testing
