#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-snapshots.sh — `connect` and `serve` write periodic engine
# snapshots into the history (docs/store.md): on a real tunnel (serve
# behind a farm of three good resolvers) with MDNS_SNAPSHOT_INTERVAL_SECONDS
# = 1, the connect run collects snapshots whose phase, session id,
# counters (growing across a transfer), trimmed resolver list and events
# (the phase changes) are stored; MDNS_SNAPSHOT_MAX_ROWS caps the rows;
# the run ends "ok" with a last snapshot; serve records its run too;
# `history` lists both; an invalid key is refused (exit 3) and a history
# that cannot be opened leaves the tunnel working with a warning.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/pool-lib.sh

export XDG_STATE_HOME=$D/state
DB=$XDG_STATE_HOME/mdns-doctor/history.db
q() { sqlite3 "$DB" "$1"; }

pool_serve
ok $? "serve up on $SRV"
pool_origin
ok $? "HTTP origin on $ORIGIN"
printf '127.6.1.1 good\n127.6.1.2 good\n127.6.1.3 good\n' >"$D/farm.spec"
pool_farm FARM "$D/farm.spec"
ok $? "farm on $FARM_PORT"
printf '127.6.1.%s:%s\n' 1 "$FARM_PORT" 2 "$FARM_PORT" 3 "$FARM_PORT" \
    >"$D/resolvers.txt"
pool_client "$D/resolvers.txt" "MDNS_SNAPSHOT_INTERVAL_SECONDS = 1
MDNS_SNAPSHOT_MAX_ROWS = 4"
ok $? "connect listening"
wait_line "$D/CLI.out" '^connected' 200
ok $? "session up"
run=$(q "select id from runs where command = 'connect'")
ok $([ -n "$run" ]; echo $?) "a connect run begun ($run)"
is "$(q "select status from runs where id = $run")" running \
    "running while the engine runs"

# Two snapshots around a transfer.
for ((i = 0; i < 50; i++)); do
	[ "$(q "select count(*) from engine_snapshots where run_id = $run")" \
	    -ge 1 ] && break
	sleep 0.1
done
b0=$(q "select json_extract(counters, '$.traffic.bytes_down') from
    engine_snapshots where run_id = $run order by id desc limit 1")
is "$(down_sha 300000)" "$(direct_sha 300000)" "300 kB through the tunnel"
id0=$(q "select max(id) from engine_snapshots where run_id = $run")
for ((i = 0; i < 50; i++)); do
	[ "$(q "select max(id) from engine_snapshots where run_id = $run")" \
	    -gt "$id0" ] && break
	sleep 0.1
done
b1=$(q "select json_extract(counters, '$.traffic.bytes_down') from
    engine_snapshots where run_id = $run order by id desc limit 1")
ok $((b1 >= b0 + 300000 ? 0 : 1)) "bytes_down grew by the transfer ($b0 -> $b1)"
is "$(q "select phase from engine_snapshots where run_id = $run order by id
    desc limit 1")" connected "phase connected"
sid=$("$BIN" status --control "$CTL" --format json | jq -r '.session.id')
is "$(q "select session_id from engine_snapshots where run_id = $run order
    by id desc limit 1")" "$sid" "session id as a column ($sid)"
last=$(q "select counters from engine_snapshots where run_id = $run order by
    id desc limit 1")
is "$(echo "$last" | jq '.resolvers.list | length')" 3 \
    "per-resolver stats stored"
is "$(echo "$last" | jq '.streams | has("list")')" false \
    "the stream list is left out"
# Events: the phase changes of the start, in the first snapshots.
sleep 5
is "$(q "select count(*) from engine_snapshots")" 4 \
    "MDNS_SNAPSHOT_MAX_ROWS = 4 keeps four rows"
kill -TERM "$CLI_PID"
for ((i = 0; i < 100; i++)); do
	[ "$(q "select status from runs where id = $run")" != running ] && break
	sleep 0.1
done
is "$(q "select status from runs where id = $run")" ok \
    "the run ends ok after SIGTERM"
ok $(q "select max(at_ms) >= (select ended_ms from runs where id = $run) - 200
    from engine_snapshots where run_id = $run" | grep -qx 1; echo $?) \
    "a last snapshot at the end"

# Events are kept once, with the snapshot that followed them: restart
# with a larger cap and read them from the first snapshot.
pool_client "$D/resolvers.txt" "MDNS_SNAPSHOT_INTERVAL_SECONDS = 1"
wait_line "$D/CLI.out" '^connected' 200
run2=$(q "select max(id) from runs where command = 'connect'")
for ((i = 0; i < 50; i++)); do
	[ "$(q "select count(*) from engine_snapshots where run_id = $run2")" \
	    -ge 2 ] && break
	sleep 0.1
done
ev=$(q "select counters from engine_snapshots where run_id = $run2")
like "$(echo "$ev" | jq -r '.snapshot_events[] |
    select(.kind == "phase") | .detail' | tr '\n' ' ')" "connected" \
    "the phase events reach the snapshots"
is "$(echo "$ev" | jq -s '[.[].snapshot_events[] | select(.kind == "phase"
    and .detail == "connected")] | length')" 1 "each event stored once"
topo_stop "$CLI_PID"

: >"$D/notadir"
XDG_STATE_HOME=$D/notadir pool_client "$D/resolvers.txt" \
    "MDNS_SNAPSHOT_INTERVAL_SECONDS = 1"
wait_line "$D/CLI.out" '^connected' 200
ok $? "a history that cannot be opened: the tunnel still connects"
like "$(cat "$D/CLI.err")" "no engine snapshots in the history: cannot open DB" \
    "with a warning"
topo_stop "$CLI_PID"

# serve writes its own run (default interval: the last snapshot at stop).
# It is stopped through its control socket: SIGTERM does not reach its
# loop while its resolver threads leave the signal unblocked.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"cmd\":\"stop\"}\n"); s.recv(4096)' "$D/server.sock"
for ((i = 0; i < 100; i++)); do
	[ "$(q "select status from runs where command = 'serve'")" = ok ] &&
	    break
	sleep 0.1
done
is "$(q "select status from runs where command = 'serve'")" ok \
    "the serve run ends ok"
ok $([ "$(q "select count(*) from engine_snapshots s join runs r on
    r.id = s.run_id where r.command = 'serve'")" -ge 1 ]; echo $?) \
    "serve has a snapshot"
is "$(q "select phase from engine_snapshots s join runs r on r.id = s.run_id
    where r.command = 'serve' order by s.id desc limit 1")" stopping \
    "its phase: stopping (after the stop command)"
"$BIN" history --format json >"$D/runs.json"
is "$(jq -r '[.runs[].command] | sort | join(" ")' "$D/runs.json")" \
    "connect connect serve" "history lists the engine runs"

# Bad keys are refused like every key of ours; a missing history is not.
printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "%s"\n' "$KEY" \
    >"$D/bad.toml"
echo 'MDNS_SNAPSHOT_INTERVAL_SECONDS = 0.5' >>"$D/bad.toml"
out=$("$BIN" connect --config "$D/bad.toml" --resolvers "$D/resolvers.txt" \
    --listen 127.0.0.1:0 --control "$D/x.sock" 2>&1)
is "$?" 3 "interval 0.5 s: exit 3"
like "$out" "MDNS_SNAPSHOT_INTERVAL_SECONDS is 0 \(off\) or at least 1" \
    "and why"
sed -i 's/= 0.5/= "often"/' "$D/bad.toml"
out=$("$BIN" connect --config "$D/bad.toml" --resolvers "$D/resolvers.txt" \
    --listen 127.0.0.1:0 --control "$D/x.sock" 2>&1)
is "$?" 3 "a string: exit 3"
like "$out" "bad.toml:3:[0-9]+: MDNS_SNAPSHOT_INTERVAL_SECONDS: expected float, got string" \
    "file, line, key"
done_testing
