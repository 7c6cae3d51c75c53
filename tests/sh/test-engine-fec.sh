#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-fec.sh — the download FEC (docs/fec.md) end to end: our
# `connect` and our `serve` through the fault relay at 10 % loss. With
# FEC (level balanced, server FEC_ENABLED): SESSION_CAPS is answered,
# 10 MiB arrive intact, and the client's status shows FEC negotiated with
# recovered packets, the server's symbols sent. Then a server without
# FEC_ENABLED (it answers SESSION_CAPS with NODATA, as upstream does):
# the client leaves FEC off silently and the transfer still works.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR

ARQ="ARQ_INITIAL_RTO_SECONDS = 0.2
ARQ_MAX_RTO_SECONDS = 1.0
ARQ_DATA_NACK_INITIAL_DELAY_SECONDS = 0.05
ARQ_DATA_NACK_REPEAT_SECONDS = 0.3
ARQ_WINDOW_SIZE = 4000"
cstatus() { "$BIN" status --control "$D/$1.sock" --format json; }
sstatus() { "$BIN" status --control "$D/$1.sock" --format json; }
jf() { jq -r "$2" "$1" 2>/dev/null; }

eng_origin
ok $? "http fixture on $ORIGIN"

# --- FEC on both sides ---
ENG_SERVE_ARGS=(--control "$D/SRV.sock")
eng_serve SRV "$ARQ
FEC_ENABLED = true
FEC_MAX_GROUP_SIZE = 16
FEC_MAX_OVERHEAD_PERCENT = 40"
ok $? "server (FEC_ENABLED) up on $SRV_ADDR"
topo_spawn RELAY "$(topo_tool udp-relay)" --upstream "$SRV_ADDR" \
    --seed 11 --loss 10% --stats "$D/relay.json"
ok $? "fault relay (10 % loss) up on $RELAY_PORT"
ENG_CONNECT_ARGS=(--control "$D/CLI.sock")
eng_connect CLI 127.0.0.1:$RELAY_PORT "MTU_TEST_RETRIES = 5
MTU_TEST_TIMEOUT = 0.3
MDNS_MAX_INFLIGHT = 128
FEC_LEVEL = \"balanced\"
$ARQ"
ok $? "client (FEC_LEVEL balanced) connected through the relay"
eng_wait "$D/CLI.err" "FEC negotiated" 5
ok $? "client log: FEC negotiated ($(grep -o "FEC negotiated.*" "$D/CLI.err" | head -1))"

N=$((10 * MiB))
is "$(curl -s --max-time 120 --socks5-hostname "$CLI_PROXY" \
    "http://$ORIGIN/bytes/$N?seed=21" | sha256sum | cut -d' ' -f1)" \
    "$(fix_sha $N 21)" "FEC, 10 % loss: 10 MiB download, SHA-256 matches"
cstatus CLI >"$D/c1.json"
out=$("$(topo_tool json-schema-check)" docs/status.schema.json "$D/c1.json")
ok $? "client status validates against the schema${out:+: $out}"
is "$(jf "$D/c1.json" .fec.negotiated)" true "status: fec.negotiated"
is "$(jf "$D/c1.json" .fec.group_size)/$(jf "$D/c1.json" .fec.overhead)" \
    12/25 "status: the effective group 12 and overhead 25 %"
rec=$(jf "$D/c1.json" .fec.recovered_packets)
[ "${rec:-0}" -gt 0 ]
ok $? "status: recovered_packets $rec > 0 (decoded groups $(jf "$D/c1.json" .fec.decoded_groups), symbols $(jf "$D/c1.json" .fec.symbols_received))"
is "$(jf "$D/c1.json" .fec.malformed)" 0 "no malformed symbol frames"
sstatus SRV >"$D/s1.json"
sent=$(jf "$D/s1.json" .fec.symbols_sent)
[ "${sent:-0}" -gt 0 ]
ok $? "server status: symbols_sent $sent, groups $(jf "$D/s1.json" .fec.groups_created)"
"$BIN" metrics --control "$D/CLI.sock" 2>/dev/null |
    grep -q '^mdns_client_fec_recovered_packets_total [1-9]'
ok $? "client metrics: mdns_client_fec_recovered_packets_total > 0"
topo_stop "$CLI_PID"
topo_stop "$RELAY_PID"
topo_stop "$SRV_PID"

# --- a server that does not answer SESSION_CAPS (NODATA, like upstream) ---
ENG_SERVE_ARGS=(--control "$D/SRV2.sock")
eng_serve SRV2 "$ARQ"
ok $? "server without FEC up on $SRV2_ADDR"
ENG_CONNECT_ARGS=(--control "$D/CLI2.sock")
eng_connect CLI2 "$SRV2_ADDR" "MTU_TEST_TIMEOUT = 0.3
MDNS_MAX_INFLIGHT = 64
FEC_LEVEL = \"aggressive\"
$ARQ"
ok $? "client (FEC_LEVEL aggressive) connected"
N=$((1 * MiB))
is "$(curl -s --max-time 60 --socks5-hostname "$CLI2_PROXY" \
    "http://$ORIGIN/bytes/$N?seed=22" | sha256sum | cut -d' ' -f1)" \
    "$(fix_sha $N 22)" "no FEC at the server: 1 MiB download, SHA-256 matches"
sleep 0.5
cstatus CLI2 >"$D/c2.json"
is "$(jf "$D/c2.json" .fec.negotiated)/$(jf "$D/c2.json" .fec.state)" \
    false/off "status: FEC not negotiated, off"
is "$(jf "$D/c2.json" .fec.symbols_received)" 0 "no symbols received"
grep -q "FEC negotiated" "$D/CLI2.err"
is $? 1 "no 'FEC negotiated' in the client's log"
sstatus SRV2 >"$D/s2.json" 2>"$D/s2.err" || diag "status SRV2: $(cat "$D/s2.err")"
is "$(jf "$D/s2.json" .fec.enabled)/$(jf "$D/s2.json" .fec.symbols_sent)" \
    false/0 "server status: FEC disabled, no symbols"

done_testing
