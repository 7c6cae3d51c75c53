#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-resolvers-path.sh — a TXT query for a random name under the tunnel
# domain travels through a real unbound (QNAME minimisation on and off,
# cache on and off, small EDNS size) and through dnsmasq to a local
# authoritative responder and back; the responder's log proves the query
# really reached it. Names outside the zone never leave the resolvers.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1

zone=t.example
rnd() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }
# TXT data of the answer record, or the rcode line when there is none.
txt_of() { sed -n 's/^answer .* TXT "\(.*\)"$/\1/p' <<<"$1"; }
seen() { grep -ci " $1 $2\$" "$TOPO_DIR/auth.log"; }

topo_spawn AUTH "$(topo_tool auth-responder)" --zone $zone \
    --log "$TOPO_DIR/auth.log"
ok $? "auth-responder started (port $AUTH_PORT)"
auth=127.0.0.1:$AUTH_PORT

name=Direct-$(rnd).$zone
out=$(dnsq --server $auth --type TXT "$name")
is "$(txt_of "$out")" "ok:${name,,}" "responder answers directly"
like "$out" "flags=qr,aa" "direct answer is authoritative"

# --- unbound, QNAME minimisation on
unbound_start "$TOPO_DIR/ub1" $zone $auth --qname-min yes
ok $? "unbound (qname-min yes) ready on $UNBOUND"
label=$(rnd)
name=Q$label.mid.$zone
out=$(dnsq --server "$UNBOUND" --type TXT --timeout 3000 "$name")
like "$out" "^rcode=NOERROR flags=qr,rd,ra " "unbound: NOERROR, recursion"
is "$(txt_of "$out")" "ok:${name,,}" "unbound qmin: TXT came back"
is "$(seen TXT "$name")" 1 "responder saw the full TXT query once"
is "$(seen A mid.$zone)" 1 "qname-min: responder saw the cut name mid.$zone"
out=$(dnsq --server "$UNBOUND" --type TXT "$name")
is "$(txt_of "$out")" "ok:${name,,}" "cache on: second answer"
is "$(seen TXT "$name")" 1 "cache on: second query served from cache"
out=$(dnsq --server "$UNBOUND" --type TXT "leak-$(rnd).example.com")
like "$out" "^rcode=REFUSED" "out-of-zone name refused by unbound"
is "$(grep -c example.com "$TOPO_DIR/auth.log")" 0 \
    "out-of-zone name never reached any server"
topo_stop "$UNBOUND_PID"

# --- unbound, QNAME minimisation off, cache off
unbound_start "$TOPO_DIR/ub2" $zone $auth --qname-min no --cache off
ok $? "unbound (qname-min no, cache off) ready on $UNBOUND"
name=N$(rnd).mid2.$zone
out=$(dnsq --server "$UNBOUND" --type TXT --timeout 3000 "$name")
is "$(txt_of "$out")" "ok:${name,,}" "unbound no-qmin: TXT came back"
is "$(seen A mid2.$zone)" 0 "no qname-min: no cut name queried"
out=$(dnsq --server "$UNBOUND" --type TXT "$name")
is "$(txt_of "$out")" "ok:${name,,}" "cache off: second answer"
is "$(seen TXT "$name")" 2 "cache off: both queries reached the responder"
topo_stop "$UNBOUND_PID"

# --- unbound with a 512-byte EDNS buffer, 1000-byte TXT answers: the
# resolver gets TC over UDP and must fetch the answer over TCP.
topo_spawn BIG "$(topo_tool auth-responder)" --zone $zone --txt-size 1000 \
    --log "$TOPO_DIR/big.log"
ok $? "auth-responder with 1000-byte TXT started"
unbound_start "$TOPO_DIR/ub3" $zone 127.0.0.1:$BIG_PORT --edns 512
ok $? "unbound (edns 512) ready"
name=E$(rnd).$zone
out=$(dnsq --server "$UNBOUND" --type TXT --timeout 3000 "$name")
like "$out" "^rcode=NOERROR .*answers=1" "edns 512: answer arrives"
is "$(txt_of "$out" | tr -d '" ' | wc -c)" 1001 "edns 512: all 1000 bytes"
is "$(grep -ci "^tcp .* TXT $name\$" "$TOPO_DIR/big.log")" 1 \
    "edns 512: resolver retried over TCP"
topo_stop "$UNBOUND_PID"
unbound_start "$TOPO_DIR/ub4" $zone 127.0.0.1:$BIG_PORT --edns 1232
name=F$(rnd).$zone
out=$(dnsq --server "$UNBOUND" --type TXT --timeout 3000 "$name")
like "$out" "answers=1" "edns 1232: answer arrives"
is "$(grep -ci "^tcp .* $name\$" "$TOPO_DIR/big.log")" 0 \
    "edns 1232: no TCP needed"
topo_stop "$UNBOUND_PID"

# --- dnsmasq as a forwarder
dnsmasq_start "$TOPO_DIR/dm" $zone "127.0.0.1#$AUTH_PORT"
ok $? "dnsmasq ready on $DNSMASQ"
name=D$(rnd).$zone
out=$(dnsq --server "$DNSMASQ" --type TXT --timeout 3000 "$name")
like "$out" "^rcode=NOERROR" "dnsmasq: NOERROR"
is "$(txt_of "$out")" "ok:${name,,}" "dnsmasq: TXT came back"
is "$(seen TXT "$name")" 1 "responder saw dnsmasq's query"
out=$(dnsq --server "$DNSMASQ" --type TXT "leak-$(rnd).example.org")
like "$out" "^rcode=REFUSED" "dnsmasq refuses names outside the zone"
is "$(grep -c example.org "$TOPO_DIR/auth.log")" 0 \
    "out-of-zone name never reached any server"

done_testing
