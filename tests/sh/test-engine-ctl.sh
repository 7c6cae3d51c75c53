#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-ctl.sh — `connect`'s control socket on a real tunnel (serve
# behind a farm of three good resolvers): `status --format json` validates
# against docs/status.schema.json (and a broken status does not);
# `metrics` passes `promtool check metrics`; counters only grow across two
# reads around a transfer; another uid is refused by the SO_PEERCRED check
# (the socket is opened up for the test so the check itself is reached);
# 50 concurrent watch clients during a transfer: the transfer is intact and
# every watcher got snapshots; `stop` ends the client cleanly.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/pool-lib.sh

MiB=1048576
CHECK=$(topo_tool json-schema-check)
SCHEMA=docs/status.schema.json

pool_serve
ok $? "serve up on $SRV"
pool_origin
ok $? "HTTP origin on $ORIGIN"
printf '127.6.0.1 good\n127.6.0.2 good\n127.6.0.3 good\n' >"$D/farm.spec"
pool_farm FARM "$D/farm.spec"
ok $? "farm on $FARM_PORT"
printf '127.6.0.%s:%s\n' 1 "$FARM_PORT" 2 "$FARM_PORT" 3 "$FARM_PORT" \
    >"$D/resolvers.txt"
pool_client "$D/resolvers.txt" "PACKET_DUPLICATION_COUNT = 2"
ok $? "connect listening on $CLI_PORT"
wait_line "$D/CLI.out" '^connected' 200
ok $? "session up"
down_sha 100000 >/dev/null

# --- schema ---
status_json >"$D/s1.json"
out=$("$CHECK" "$SCHEMA" "$D/s1.json")
ok $? "status validates against $SCHEMA${out:+: $out}"
is "$(jq -r '.phase' "$D/s1.json")" connected "phase connected"
is "$(jq '.resolvers.active' "$D/s1.json")" 3 "3 resolvers active"
is "$(jq '.duplication.factor' "$D/s1.json")" 2 "duplication factor 2"
jq '.phase = "bogus" | .traffic.bytes_up = -1 | del(.arq) |
    .resolvers.list[0].loss = 2' "$D/s1.json" >"$D/bad.json"
out=$("$CHECK" "$SCHEMA" "$D/bad.json")
is "$?" 1 "a broken status is rejected"
is "$(printf '%s\n' "$out" | wc -l)" 4 "with one line per violation"
diag "$(printf '%s\n' "$out" | head -1)"

# --- metrics ---
"$BIN" metrics --control "$CTL" >"$D/m1.txt"
ok $? "metrics read"
out=$(promtool check metrics <"$D/m1.txt" 2>&1)
ok $? "promtool check metrics passes${out:+: $out}"
like "$(cat "$D/m1.txt")" 'mdns_client_resolver_sent_total\{resolver="127\.6\.0\.1:' \
    "per-resolver series present"

# --- monotonic counters ---
counters='[.traffic.bytes_up, .traffic.bytes_down, .traffic.packets_up,
    .traffic.packets_down, .traffic.queries_sent, .traffic.answers,
    .streams.opened, .streams.closed, .arq.retransmits, .arq.nacks_sent,
    .arq.nacks_received, .duplication.duplicates_sent, .socks.accepted,
    (.resolvers.list | sort_by(.address) | .[] | .sent, .answered,
    .timeouts)] | map(tostring) | join(" ")'
a=$(jq -r "$counters" "$D/s1.json")
got=$(down_sha $MiB)
is "$got" "$(direct_sha $MiB)" "1 MiB between the reads, SHA-256 matches"
status_json >"$D/s2.json"
b=$(jq -r "$counters" "$D/s2.json")
read -ra A <<<"$a"
read -ra B <<<"$b"
bad=0
for i in "${!A[@]}"; do
	[ "${B[$i]}" -ge "${A[$i]}" ] || bad=$((bad + 1))
done
is "$bad" 0 "${#A[@]} counters only grew across two reads"
ok $([ "$(jq '.traffic.bytes_down' "$D/s2.json")" -gt \
    "$(jq '.traffic.bytes_down' "$D/s1.json")" ]; echo $?) \
    "bytes_down grew by the transfer"
status_json >"$D/s3.json"
c=$(jq -r "$counters" "$D/s3.json")
read -ra C <<<"$c"
bad=0
for i in "${!B[@]}"; do
	[ "${C[$i]}" -ge "${B[$i]}" ] || bad=$((bad + 1))
done
is "$bad" 0 "reading did not reset anything"
"$BIN" metrics --control "$CTL" >"$D/m2.txt"
m1=$(sed -n 's/^mdns_client_bytes_total{direction="down"} //p' "$D/m1.txt")
m2=$(sed -n 's/^mdns_client_bytes_total{direction="down"} //p' "$D/m2.txt")
ok $([ "$m2" -gt "$m1" ]; echo $?) "metrics counter grew ($m1 -> $m2)"

# --- another uid ---
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 "$D"
	chmod 666 "$CTL"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$BIN" status --control "$CTL" --format json 2>&1)
	rc=$?
	ok $([ $rc -ne 0 ]; echo $?) "uid 65534 is refused (exit $rc)"
	like "$out" 'uid|refus|permission' "with the engine's reason: $out"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$BIN" metrics --control "$CTL" 2>&1)
	ok $([ $? -ne 0 ]; echo $?) "uid 65534 gets no metrics either"
	chmod 600 "$CTL"
	chmod 700 "$D"
	status_json >/dev/null
	ok $? "the owner still is served"
else
	skip 4 "uid check needs root and setpriv"
fi

# --- 50 watchers during a transfer ---
topo_bg W "$(topo_tool ctl-watchers)" --socket "$CTL" --clients 50 \
    --interval-ms 100
wait_line "$D/W.out" '^ready' 100
ok $? "50 watch clients connected"
want=$(direct_sha $((4 * MiB)))
got=$(down_sha $((4 * MiB)))
is "$got" "$want" "4 MiB during 50 watchers, SHA-256 matches"
sleep 0.5
topo_stop "$W_PID"
res=$(tail -1 "$D/W.out")
diag "$res"
like "$res" 'connected=50 ' "all 50 were served"
snaps=$(sed -n 's/.*snapshots=\([0-9]*\).*/\1/p' <<<"$res")
ok $([ "${snaps:-0}" -ge 100 ]; echo $?) "watchers got snapshots ($snaps)"
like "$res" 'bad=0 closed=0' "no malformed line, none dropped"
out=$("$CHECK" "$SCHEMA" <(status_json))
ok $? "status still valid after the watchers${out:+: $out}"

# --- stop ---
r=$(python3 - "$CTL" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"stop"}\n'); print(s.recv(4096).decode().strip())
EOP
)
like "$r" '"stopping": *true' "stop acknowledged"
for ((i = 0; i < 50; i++)); do
	_topo_alive "$CLI_PID" || break
	sleep 0.1
done
ok $(_topo_alive "$CLI_PID"; echo $((!$?))) "stop ends the client"
wait "$CLI_PID"
is "$?" 0 "with exit status 0"
ok $([ ! -e "$CTL" ]; echo $?) "and removes its socket"
done_testing
