#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-auth-responder.sh — the authoritative test responder and the dnsq
# query tool, directly: TXT content and case handling, apex records,
# NODATA and NXDOMAIN, TC over UDP and the TCP fallback size limit, JSON
# output, the query log, and dnsq's timeout and usage errors.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1

topo_spawn AUTH "$(topo_tool auth-responder)" --zone t.example --ttl 77 \
    --log "$TOPO_DIR/q.log"
ok $? "auth-responder started"
S=127.0.0.1:$AUTH_PORT

out=$(dnsq --server $S --type TXT MiXeD.T.Example)
like "$out" "^rcode=NOERROR flags=qr,aa,rd " "TXT: NOERROR, authoritative"
like "$out" '^answer MiXeD.T.Example 77 TXT "ok:mixed.t.example"$' \
    "TXT: question case kept, content lower-cased, TTL from --ttl"
out=$(dnsq --server $S --type SOA t.example)
like "$out" "^answer t.example 77 SOA " "apex SOA"
out=$(dnsq --server $S --type NS t.example)
like "$out" "^answer t.example 77 NS ns.t.example$" "apex NS"
out=$(dnsq --server $S --type A a.t.example)
like "$out" "^rcode=NOERROR .*answers=0 authority=1" "A in zone: NODATA"
like "$out" "^authority t.example 77 SOA" "NODATA carries the SOA"
out=$(dnsq --server $S --type TXT a.t.example.org)
like "$out" "^rcode=NXDOMAIN flags=qr,aa,rd .*answers=0" "outside: NXDOMAIN+AA"
out=$(dnsq --server $S --type TXT --edns 0 --no-rd x.t.example)
like "$out" "flags=qr,aa id=.* edns=0 " "no RD echoed, no OPT without EDNS"
out=$(dnsq --server $S --json --type TXT --id 4321 j.t.example)
is "$(jq -r '.rcode, .id, .aa, .records[0].data' <<<"$out" | tr '\n' ' ')" \
    'NOERROR 4321 true "ok:j.t.example" ' "JSON output"

topo_spawn BIG "$(topo_tool auth-responder)" --zone t.example \
    --txt-size 1000
out=$(dnsq --server 127.0.0.1:$BIG_PORT --type TXT --edns 0 b.t.example)
like "$out" "flags=qr,aa,tc,rd .*answers=0" "1000-byte TXT, no EDNS: TC"
out=$(dnsq --server 127.0.0.1:$BIG_PORT --type TXT --edns 600 b.t.example)
like "$out" "flags=qr,aa,tc,rd " "EDNS 600: still TC"
out=$(dnsq --server 127.0.0.1:$BIG_PORT --type TXT --edns 1232 b.t.example)
like "$out" "flags=qr,aa,rd .*answers=1" "EDNS 1232: whole answer"
is "$(sed -n 's/^answer .* TXT //p' <<<"$out" | tr -d '" ' | wc -c)" 1001 \
    "EDNS 1232: 1000 bytes of TXT"

is "$(grep -c '^udp 127.0.0.1:[0-9]* TXT MiXeD.T.Example$' "$TOPO_DIR/q.log")" 1 \
    "query log: one line, protocol, source, type, name as sent"
is "$(wc -l <"$TOPO_DIR/q.log")" 7 "query log: all seven queries"

port=$(free_port --udp)
out=$(dnsq --server 127.0.0.1:$port --timeout 300 x.t.example)
is "$?/$out" "1/rcode=TIMEOUT ignored=0" "no server: timeout, exit 1"
dnsq --server 127.0.0.1:$port --type BOGUS x 2>/dev/null
is "$?" 2 "unknown type: exit 2"
err=$(dnsq --server 300.1.1.1 x 2>&1)
is "$?" 2 "bad server address: exit 2"
like "$err" "^dnsq: " "bad server address: one-line reason"
err=$("$(topo_tool auth-responder)" --port 70000 2>&1)
is "$?" 2 "auth-responder without --zone / bad port: exit 2"

done_testing
