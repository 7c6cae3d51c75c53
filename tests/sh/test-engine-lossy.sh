#!/usr/bin/env bash
# test-engine-lossy.sh — the issue's full-size transfers through the fault
# relay: 10 MiB down and 3 MiB up through SOCKS5 with 10 % loss, 5 %
# duplication and 10 % reordering on each direction (udp-relay), every
# byte checked by SHA-256. The ARQ (NACK, RESEND, RTO) has to repair
# every hole. With the default window (600/800 frames) and 32 queries in
# flight this takes about 50 s (18 s down, 30 s up, see
# docs/engine-tests.md); the suite uses a 4000-frame window and 128
# queries in flight, about 15 s, which also runs the ARQ rings far from
# their defaults.
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
eng_origin
ok $? "http fixture on $ORIGIN"
eng_serve SRV "$ARQ"
ok $? "server up on $SRV_ADDR"
topo_spawn RELAY "$(topo_tool udp-relay)" --upstream "$SRV_ADDR" \
    --seed 11 --loss 10% --dup 5% --reorder 10% --reorder-ms 20 \
    --stats "$D/relay.json"
ok $? "fault relay up on $RELAY_PORT"
eng_connect CLI 127.0.0.1:$RELAY_PORT "MTU_TEST_RETRIES = 5
MTU_TEST_TIMEOUT = 0.3
MDNS_MAX_INFLIGHT = 128
$ARQ"
ok $? "client connected through the relay ($(sed -n 2p "$D/CLI.out"))"

N=$((10 * MiB))
is "$(curl -s --max-time 80 --socks5-hostname "$CLI_PROXY" \
    "http://$ORIGIN/bytes/$N?seed=21" | sha256sum | cut -d' ' -f1)" \
    "$(fix_sha $N 21)" "10 % loss: 10 MiB download, SHA-256 matches"

head -c $((3 * MiB)) /dev/urandom >"$D/up.bin"
is "$(curl -s --max-time 80 --socks5-hostname "$CLI_PROXY" \
    --data-binary "@$D/up.bin" -H 'Content-Type: application/octet-stream' \
    "http://$ORIGIN/upload")" \
    "received $((3 * MiB)) bytes sha256 $(sha256sum "$D/up.bin" | cut -d' ' -f1)" \
    "10 % loss: 3 MiB upload, SHA-256 matches"

# The relay really did drop, duplicate and reorder in both directions.
kill -USR1 "$RELAY_PID"
eng_wait "$D/relay.json" dropped 5
for dir in up down; do
	for k in dropped duplicated reordered; do
		v=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
		    "$D/relay.json" $dir $k 2>/dev/null)
		[ "${v:-0}" -gt 100 ]
		ok $? "relay $dir: $k $v packets"
	done
done

done_testing
