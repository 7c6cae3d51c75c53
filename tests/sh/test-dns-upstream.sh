#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-dns-upstream.sh — the server side of DNS through the tunnel against
# real resolvers: an unbound serving the s8 capture's dns.example records
# as local-data, and tests/tools/auth-responder. The s8 application
# queries go through dnstun_server_check, the server cache and the
# resolver client (tests/tools/dnstun-resolve) and must come back byte for
# byte as the real upstream server answered them; then hedging past a
# closed port and a silent resolver, sharing of identical questions, and
# answers from an authoritative server passed through.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1

S8=${MDNS_SHARED:-../shared}/interop/s8-xor-raw-dns.jsonl
RESOLVE=$(topo_tool dnstun-resolve)

unbound_s8 UNBOUND "$TOPO_DIR/unbound"
ok $? "unbound with the s8 local-data records"

mapfile -t Q < <(jq -r 'select(.app) | .query' "$S8")
mapfile -t A < <(jq -r 'select(.app) | .answer' "$S8")
is "${#Q[@]}" 7 "seven app queries in s8"

out=$("$RESOLVE" --upstream "$UNBOUND" "${Q[@]}")
for i in 0 1 3 4 5; do
	is "$(sed -n "s/^$i answer //p" <<<"$out")" "${A[$i]}" \
	    "s8 app query $i: unbound's answer through us is upstream's, byte for byte"
done
is "$(sed -n 's/^2 reply //p' <<<"$out")" "${A[2]}" \
    "s8 app query 2 (TXT): NOTIMP built here, as upstream's server did"
is "$(sed -n 's/^6 cache //p' <<<"$out")" "${A[6]}" \
    "s8 app query 6 (repeat): from the server cache, the app's bytes"
like "$out" "^stats sent=5 answers=5 " "five upstream queries, five answers"

# MX and SRV pass through (the issue's record types)
mx=00aa0100000100000000000003646e73076578616d706c6500000f0001
srv=00ab01000001000000000000045f736970045f75647003646e73076578616d706c650000210001
out=$("$RESOLVE" --upstream "$UNBOUND" "$mx" "$srv")
like "$(sed -n 's/^0 answer //p' <<<"$out")" \
    "^00aa8580000100010000000003646e73.*000f0001.*000a026d78c0" \
    "MX answered by unbound, passed through (id 00aa, AA, mx.dns.example)"
like "$(sed -n 's/^1 answer //p' <<<"$out")" \
    "^00ab85800001000100000000.*00210001.*0005000a13c4" \
    "SRV answered (priority 5, weight 10, port 5060)"

# outside the zone unbound refuses: REFUSED passes through
ref=00ac0100000100000000000003777777076578616d706c650000010001
out=$("$RESOLVE" --upstream "$UNBOUND" "$ref")
like "$(sed -n 's/^0 answer //p' <<<"$out")" "^00ac8[0-9a-f]85" \
    "REFUSED from the resolver is an answer, passed on"

# hedging: a closed port first (ICMP), then a silent resolver first
port=$(free_port --udp)
out=$("$RESOLVE" --upstream "127.0.0.1:$port,$UNBOUND" --no-cache "${Q[0]}")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "${A[0]}" \
    "closed port first: unbound answers"
like "$out" "icmp=[1-9].* " "... the ICMP error was seen"
topo_spawn SILENT "$(topo_tool udp-relay)" --upstream "127.0.0.1:$port" \
    --loss 1
ok $? "a silent resolver (relay dropping everything)"
out=$("$RESOLVE" --upstream "127.0.0.1:$SILENT_PORT,$UNBOUND" --no-cache \
    "${Q[1]}")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "${A[1]}" \
    "silent first: hedged to unbound, answered"
like "$out" "hedged=1 " "... one hedge"
out=$("$RESOLVE" --upstream "127.0.0.1:$SILENT_PORT" --timeout 300 \
    "${Q[0]}")
like "$out" "^0 timeout$" "only the silent one: timeout"

# a slow path (relay, 600 ms) and unbound: the late answer is dropped
topo_spawn SLOW "$(topo_tool udp-relay)" --upstream "$UNBOUND" --delay 600
out=$("$RESOLVE" --upstream "127.0.0.1:$SLOW_PORT,$UNBOUND" --no-cache \
    "${Q[3]}")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "${A[3]}" \
    "slow first: the 25-record answer from the second"
out=$("$RESOLVE" --upstream "127.0.0.1:$SLOW_PORT" --timeout 300 \
    --linger 1000 --no-cache "${Q[3]}")
like "$out" "^0 timeout" "slow only, timeout 300 ms: timeout"
like "$out" "drop_id=1 " "... and its answer, arriving late, is dropped"

# identical questions at once: one upstream query
q1=${Q[0]}
q2=4101${Q[0]:4}
q3=4102${Q[0]:4}
out=$("$RESOLVE" --upstream "$UNBOUND" --parallel --no-cache "$q1" "$q2" "$q3")
like "$out" "stats sent=1 answers=1 shared=2 " \
    "three identical questions: one query upstream"
is "$(grep -c '^[0-9] answer ' <<<"$out")" 3 "... three answers"
like "$(sed -n 's/^2 answer //p' <<<"$out")" "^41028580" "... each with its id"

# an authoritative server as upstream: answers passed on as they are
topo_spawn AUTH "$(topo_tool auth-responder)" --zone t.example --ttl 77
soa=00b0010000010000000000000174076578616d706c650000060001
nodata=00b10100000100000000000001610174076578616d706c650000010001
out=$("$RESOLVE" --upstream "127.0.0.1:$AUTH_PORT" "$soa" "$nodata")
like "$(sed -n 's/^0 answer //p' <<<"$out")" "^00b08500000100010000" \
    "auth-responder: SOA with AA, passed on"
like "$(sed -n 's/^1 answer //p' <<<"$out")" "^00b18500000100000001" \
    "auth-responder: NODATA with the SOA in authority"

done_testing
