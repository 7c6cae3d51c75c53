#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-dns.sh — DNS through the tunnel end to end: an application
# asks `connect`'s local DNS listener (and its SOCKS5 UDP ASSOCIATE); the
# queries travel as DNS_QUERY_REQ through unbound (recursive, stub zone
# t.example, no cache) to `serve`, which resolves them at its
# DNS_UPSTREAM_SERVERS: a second unbound answering the s8 capture's
# dns.example records from local-data (plus MX, SRV, and a stub zone at a
# closed port for SERVFAIL). Upload MTU at most 150, download MTU 200, so
# the 180-character name needs two REQ fragments and the 25-record RRset
# three RES fragments.
#
# Checked: the s8 application queries get exactly the answers the real
# upstream client handed its application (the capture's app lines); MX
# and SRV pass through; NXDOMAIN and SERVFAIL pass through unchanged
# (SERVFAIL byte for byte as the resolver answers it directly); TXT gets
# the NOTIMP upstream's server sends; a repeat is served from the client
# cache without reaching the server (the server's counters); the same
# over SOCKS5 UDP ASSOCIATE, whose bad datagrams are dropped and counted;
# the cache survives a restart (persistence in XDG_STATE_HOME); and
# through the fault relay at 10 % loss every query gets its answer or a
# SERVFAIL after the timeout: never a hang, never a wrong answer.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1
. tests/sh/engine-lib.sh

S8=${MDNS_SHARED:-../shared}/interop/s8-xor-raw-dns.jsonl
DC="python3 tests/sh/dns-client.py"
export XDG_STATE_HOME=$TOPO_DIR/state

mapfile -t Q < <(jq -r 'select(.app) | .query' "$S8")
mapfile -t A < <(jq -r 'select(.app) | .answer' "$S8")
is "${#Q[@]}" 7 "seven app queries in s8"

# A SERVFAIL name: a stub zone at a port nobody listens on.
SFPORT=$(free_port --udp)
unbound_s8 AUTH "$TOPO_DIR/auth" "$SFPORT"
ok $? "authoritative unbound with the s8 records at $AUTH"

SRV_CTL=$TOPO_DIR/srv.sock
ENG_SERVE_ARGS=(--control "$SRV_CTL")
eng_serve SRV "DNS_UPSTREAM_SERVERS = [\"$AUTH\"]
DNS_UPSTREAM_TIMEOUT = 3.0"
ok $? "serve"
unbound_start "$TOPO_DIR/ub" t.example "$SRV_ADDR" --cache off
ok $? "unbound in the path at $UNBOUND"

LPORT=$(free_port --udp)
CL_TOML="LOCAL_DNS_ENABLED = true
LOCAL_DNS_IP = \"127.0.0.1\"
LOCAL_DNS_PORT = $LPORT
MAX_UPLOAD_MTU = 150
MIN_DOWNLOAD_MTU = 100
MAX_DOWNLOAD_MTU = 200"
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/cl.sock")
eng_connect CL "$UNBOUND" "$CL_TOML"
ok $? "connect through unbound, local DNS listener on 127.0.0.1:$LPORT"

cl_status() { "$BIN" status --control "$TOPO_DIR/cl.sock" --format json; }

out=$($DC udp "127.0.0.1:$LPORT" "${Q[0]}" "${Q[1]}" "${Q[3]}" "${Q[4]}" \
    "${Q[5]}" "${Q[2]}")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "${A[0]}" \
    "www A: the answer upstream's client handed its application"
is "$(sed -n 's/^1 answer //p' <<<"$out")" "${A[1]}" "www AAAA: the same"
is "$(sed -n 's/^2 answer //p' <<<"$out")" "${A[3]}" \
    "25-record RRset (433 bytes > download MTU 200): the same"
is "$(sed -n 's/^3 answer //p' <<<"$out")" "${A[4]}" \
    "NXDOMAIN passed through unchanged"
is "$(sed -n 's/^4 answer //p' <<<"$out")" "${A[5]}" \
    "180-character name (query longer than the upload MTU): the same"
is "$(sed -n 's/^5 answer //p' <<<"$out")" "${A[2]}" \
    "TXT: NOTIMP, as upstream's server refuses it"

st=$(cl_status)
like "$(jq -c .dns.fragments <<<"$st")" '"req_sent":[0-9]+' "fragments counted"
req=$(jq .dns.fragments.req_sent <<<"$st")
res=$(jq .dns.fragments.res_received <<<"$st")
ok $((req > 6 ? 0 : 1)) "more REQ fragments than queries ($req for 6)"
ok $((res > 6 ? 0 : 1)) "more RES fragments than answers ($res for 6)"
mtu=$(jq .mtu.upload <<<"$st")
diag "synced MTU $mtu/$(jq .mtu.download <<<"$st")"

mx=00aa0100000100000000000003646e73076578616d706c6500000f0001
srv=00ab01000001000000000000045f736970045f75647003646e73076578616d706c650000210001
# with EDNS (4096): the resolver's SERVFAIL carries its own OPT (1232),
# where a SERVFAIL our server built would echo the query's
sf=00ac0100000100000000000102787802736603646e73076578616d706c650000010001
sf=${sf}0000291000000000000000
out=$($DC udp "127.0.0.1:$LPORT" "$mx" "$srv" "$sf")
like "$(sed -n 's/^0 answer //p' <<<"$out")" \
    "^00aa8580000100010000000003646e73.*000f0001.*000a026d78c0" \
    "MX through the tunnel (AA, mx.dns.example)"
like "$(sed -n 's/^1 answer //p' <<<"$out")" \
    "^00ab85800001000100000000.*00210001.*0005000a13c4" \
    "SRV through the tunnel (5 10 5060)"
sfans=$(sed -n 's/^2 answer //p' <<<"$out")
like "$sfans" "^00ac8.82.*000029(04d0|0200)" \
    "SERVFAIL from the resolver reaches the application (its own OPT)"
direct=$($DC udp "$AUTH" --timeout 5 "$sf" | sed -n 's/^0 answer //p')
is "$sfans" "$direct" "... unchanged: byte for byte the resolver's answer"
sst=$("$BIN" status --control "$SRV_CTL" --format json)
is "$(jq -c '[.dns.failures.timeout, .dns.failures.local]' <<<"$sst")" \
    "[0,0]" "... not a SERVFAIL of the server's own"

# A repeat from the client cache: the server sees nothing.
srvq() { "$BIN" status --control "$SRV_CTL" --format json | jq .dns.queries; }
before=$(jq .dns.cache.hits <<<"$(cl_status)")
squeries=$(srvq)
sent=$(jq .dns.sent <<<"$(cl_status)")
out=$($DC udp "127.0.0.1:$LPORT" "${Q[6]}")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "${A[6]}" \
    "repeat of www A: the capture's cached answer"
st=$(cl_status)
is "$(jq .dns.cache.hits <<<"$st")" "$((before + 1))" "... a cache hit"
is "$(jq .dns.sent <<<"$st")" "$sent" "... nothing sent through the tunnel"
is "$(srvq)" "$squeries" "... and the server took no query ($squeries before and after)"

# ---- status and metrics ----
out=$("$(topo_tool json-schema-check)" docs/status.schema.json <(cl_status) 2>&1)
ok $? "client status with its dns object validates${out:+: $out}"
"$BIN" metrics --control "$TOPO_DIR/cl.sock" >"$TOPO_DIR/cm.txt"
"$BIN" metrics --control "$SRV_CTL" >"$TOPO_DIR/sm.txt"
out=$(promtool check metrics <"$TOPO_DIR/cm.txt" 2>&1)
ok $? "client metrics pass promtool${out:+: $out}"
out=$(promtool check metrics <"$TOPO_DIR/sm.txt" 2>&1)
ok $? "server metrics pass promtool${out:+: $out}"
like "$(cat "$TOPO_DIR/cm.txt")" \
    'mdns_client_dns_queries_total\{source="listener"\} 1[0-9]' \
    "client: mdns_client_dns_queries_total by source"
like "$(cat "$TOPO_DIR/cm.txt")" 'mdns_client_dns_latency_seconds_count [1-9]' \
    "client: latency summary"
like "$(cat "$TOPO_DIR/sm.txt")" \
    'mdns_server_dns_failures_total\{reason="notimp"\} 1' \
    "server: failures by reason (the TXT's NOTIMP)"
like "$(cat "$TOPO_DIR/sm.txt")" 'mdns_server_dns_latency_seconds\{quantile="0.99"\}' \
    "server: latency p99"
sst=$("$BIN" status --control "$SRV_CTL" --format json)
is "$(jq -c '[.dns.queries, .dns.resolved, .dns.failures.notimp]' <<<"$sst")" \
    "[9,8,1]" "server status: 9 queries, 8 resolved, 1 NOTIMP"
grep -h "dns.example\|n[0-9]*\.dns" "$TOPO_DIR"/CL.* "$TOPO_DIR"/SRV.* \
    >/dev/null 2>&1
ok $((! $?)) "no query name in either log"

# ---- SOCKS5 UDP ASSOCIATE ----
ww=4242${Q[0]:4}
out=$($DC socks "$CL_PROXY" 192.0.2.53:53 --bad "$srv" "$ww" "${Q[3]}")
like "$out" "^bnd 127\.0\.0\.1:[0-9]+" \
    "UDP ASSOCIATE: the relay is on the connection's local address"
like "$out" "bad none" "FRAG 1, port 54 and a cut header: no answer"
like "$(sed -n 's/^0 answer //p' <<<"$out")" "^00ab8580.*0005000a13c4" \
    "SRV over SOCKS5 UDP (from the cache)"
is "$(sed -n 's/^1 answer //p' <<<"$out")" "4242${A[0]:4}" \
    "www A over SOCKS5 UDP: the cached answer with its id"
bigq=4343${Q[3]:4}
out=$($DC socks "$CL_PROXY" 192.0.2.53:53 "$bigq" \
    "4344${Q[5]:4}" "$(sed 's/^0000/4345/' <<<"$mx")")
like "$(sed -n 's/^0 answer //p' <<<"$out")" "^4343${A[3]:4:20}" \
    "25-record RRset over SOCKS5 UDP"
is "$(sed -n 's/^0 answer //p' <<<"$out")" "4343${A[3]:4}" "... byte for byte"
st=$(cl_status)
ok $(($(jq .dns.failures.socks_dropped <<<"$st") >= 3 ? 0 : 1)) \
    "the bad datagrams are counted ($(jq .dns.failures.socks_dropped <<<"$st"))"
is "$(jq .dns.socks_associations <<<"$st")" 2 "two associations served"
# A miss over SOCKS: answered when the tunnel's answer arrives.
nx2=4646010000010000000000000374777703646e73076578616d706c650000010001
out=$($DC socks "$CL_PROXY" 192.0.2.53:53 "$nx2")
like "$(sed -n 's/^0 answer //p' <<<"$out")" "^46468583" \
    "a miss over SOCKS5 UDP: NXDOMAIN from the tunnel"

# ---- persistence: the cache outlives the client ----
topo_stop "$CL_PID"
f=$XDG_STATE_HOME/mdns-doctor/local_dns_cache.bin
ok $([ -s "$f" ] && echo 0 || echo 1) "cache written at exit to $f"
like "$(head -c 4 "$f")" "^DNSC" "... in upstream's DNSC format"
eng_connect CL2 "$UNBOUND" "$CL_TOML"
ok $? "connect again"
squeries=$(srvq)
out=$($DC udp "127.0.0.1:$LPORT" "4747${Q[1]:4}")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "4747${A[1]:4}" \
    "www AAAA after the restart: from the loaded cache"
is "$(srvq)" "$squeries" "... the server took no query"

# ---- 10 % loss both ways between the client and unbound ----
topo_stop "$CL2_PID"
topo_spawn RELAY "$(topo_tool udp-relay)" --upstream "$UNBOUND" \
    --loss 0.1 --seed 12
ok $? "fault relay: 10 % loss each way"
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/cl3.sock")
eng_connect CL3 "127.0.0.1:$RELAY_PORT" "$CL_TOML
LOCAL_DNS_CACHE_PERSIST_TO_FILE = false"
ok $? "connect through the relay"
out=$($DC bulk "127.0.0.1:$LPORT" 60 "n%d.dns.example" 1 --window 6 \
    --timeout 15)
diag "$out"
like "$out" "timeout=0 wrong=0$" \
    "60 queries at 10 % loss: each answered (or SERVFAIL), none hangs or is wrong"
like "$out" "nx=(5[0-9]|60) " "... most of them with their NXDOMAIN"
out=$($DC udp "127.0.0.1:$LPORT" --timeout 15 "$bigq")
is "$(sed -n 's/^0 answer //p' <<<"$out")" "4343${A[3]:4}" \
    "the 25-record RRset at 10 % loss: complete and exact"
st=$("$BIN" status --control "$TOPO_DIR/cl3.sock" --format json)
diag "client: $(jq -c '.dns | {sent, answers, fragments, failures}' <<<"$st")"

done_testing
