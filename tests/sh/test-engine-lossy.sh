#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-lossy.sh — the issue's full-size transfers through the fault
# relay at the settings users have (upstream's ARQ defaults, 32 queries in
# flight; only the MTU test is given more tries, so that connecting through
# 19 % query loss does not depend on luck): 10 MiB down and 3 MiB up
# through SOCKS5 with 10 % loss, 5 % duplication and 10 % reordering on
# each direction (udp-relay), then 3 MiB down and 1 MiB up through five
# such relays (each its own seed) as five resolvers, every byte checked by
# SHA-256. The ARQ (NACK, RESEND, RTO, echoed ACKs) has to repair every
# hole; nothing here is timed (bench-loss measures, docs/engine.md).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR

MTU="MTU_TEST_RETRIES = 5
MTU_TEST_TIMEOUT = 0.3"
eng_origin
ok $? "http fixture on $ORIGIN"
eng_serve SRV
ok $? "server up on $SRV_ADDR (default ARQ settings)"

# transfer PROXY DOWN UP SEED LABEL: DOWN bytes down, UP bytes up, checked.
transfer() {
	is "$(curl -s --max-time 120 --socks5-hostname "$1" \
	    "http://$ORIGIN/bytes/$2?seed=$4" | sha256sum | cut -d' ' -f1)" \
	    "$(fix_sha "$2" "$4")" "$5: $(($2 / MiB)) MiB download, SHA-256 matches"
	head -c "$3" /dev/urandom >"$D/up.bin"
	is "$(curl -s --max-time 120 --socks5-hostname "$1" \
	    --data-binary "@$D/up.bin" -H 'Content-Type: application/octet-stream' \
	    "http://$ORIGIN/upload")" \
	    "received $3 bytes sha256 $(sha256sum "$D/up.bin" | cut -d' ' -f1)" \
	    "$5: $(($3 / MiB)) MiB upload, SHA-256 matches"
}

# relay_counts NAME: the relay really dropped, duplicated and reordered.
relay_counts() {
	local pid=${1}_PID dir k v
	kill -USR1 "${!pid}"
	eng_wait "$D/$1.json" dropped 5
	for dir in up down; do
		for k in dropped duplicated reordered; do
			v=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
			    "$D/$1.json" $dir $k 2>/dev/null)
			[ "${v:-0}" -gt "$2" ]
			ok $? "$1 $dir: $k $v packets"
		done
	done
}

# One resolver.
topo_spawn RELAY "$(topo_tool udp-relay)" --upstream "$SRV_ADDR" \
    --seed 11 --loss 10% --dup 5% --reorder 10% --reorder-ms 20 \
    --stats "$D/RELAY.json"
ok $? "fault relay up on $RELAY_PORT"
ENG_CONNECT_ARGS=(--control "$D/cli.sock")
eng_connect CLI 127.0.0.1:$RELAY_PORT "$MTU"
ok $? "client connected through the relay ($(sed -n 2p "$D/CLI.out"))"
transfer "$CLI_PROXY" $((10 * MiB)) $((3 * MiB)) 21 "10 % loss"
# The pool counts a query lost at the request timeout (5 s, upstream's),
# and its loss window (30 s) then holds the transfer's thousands of
# queries, ~19 % of them lost (10 % each way): `status` says degraded.
for ((i = 0; i < 100; i++)); do
	"$BIN" status --control "$D/cli.sock" >/dev/null 2>"$D/st.err"
	rc=$?
	[ $rc -ne 0 ] && break
	sleep 0.1
done
is "$rc" 1 "status through ~19 % query loss: degraded, exit 1"
like "$(cat "$D/st.err")" \
    "degraded: loss [0-9.]+ % over the active resolvers \(above 10 %\)" \
    "it says the loss and the threshold"
"$BIN" status --control "$D/cli.sock" --max-loss 60 >/dev/null 2>"$D/st.err"
is "$?" 0 "status --max-loss 60: live, exit 0 $(cat "$D/st.err")"
ENG_CONNECT_ARGS=()
relay_counts RELAY 100
topo_stop "$CLI_PID"

# Five resolvers, each its own lossy relay.
list=
for i in 1 2 3 4 5; do
	topo_spawn R$i "$(topo_tool udp-relay)" --upstream "$SRV_ADDR" \
	    --seed $((20 + i)) --loss 10% --dup 5% --reorder 10% \
	    --reorder-ms 20 --stats "$D/R$i.json"
	p=R${i}_PORT
	list="${list}127.0.0.1:${!p}
"
done
ok 0 "five fault relays up"
eng_connect CLI5 "${list%
}" "$MTU"
ok $? "client connected through five relays ($(sed -n 2p "$D/CLI5.out"))" || diag "$(tail -5 "$D/CLI5.out"; cat "$D/CLI5/resolvers.txt")"
transfer "$CLI5_PROXY" $((3 * MiB)) $((1 * MiB)) 22 "five resolvers, 10 % loss"
kill -USR1 "$R1_PID" "$R2_PID" "$R3_PID" "$R4_PID" "$R5_PID"
sleep 0.3
total=$(python3 -c 'import json,sys;print(sum(json.load(open(f))[d]["dropped"] for f in sys.argv[1:] for d in ("up","down")))' \
    "$D"/R[1-5].json 2>/dev/null)
[ "${total:-0}" -gt 100 ]
ok $? "five relays dropped $total packets together"
done_testing
