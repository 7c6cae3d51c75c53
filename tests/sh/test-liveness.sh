#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-liveness.sh — a dead tunnel is never "connected" (issue 11 point 1):
# a real serve and connect (MDNS_STALL_TIMEOUT_SECONDS = 2), a download
# through SOCKS, then the server is killed (SIGKILL: no goodbye). Within
# N + 2 s `status` says stalled and exits 2, `handshake --engine` exits 2,
# the status JSON (still valid against the schema) and the metrics carry
# the age of the last valid tunnel answer. The server started again on the
# same port: the client's polls meet ERROR_DROP, it re-initialises, and
# `status` says connected with exit 0 again. Also: exit 3 without an
# engine.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
bail() { ok 1 "$*"; topo_cleanup; done_testing; exit 1; }

SCHEMA=docs/status.schema.json
CHECK=$(topo_tool json-schema-check)
SOCK=$TOPO_DIR/run/cli.sock
N=2

# status with its exit code in $rc, the text in $out.
st() { out=$("$BIN" status --control "$SOCK" "$@" 2>&1); rc=$?; }

out=$("$BIN" status --control "$TOPO_DIR/none.sock" 2>&1); rc=$?
is "$rc" 3 "no engine: status exits 3"

eng_origin || bail "http fixture"
eng_serve SRV || bail "serve: $(cat "$TOPO_DIR/SRV.err")"
ENG_CONNECT_ARGS=(--control "$SOCK")
# A short window so the outage's timeouts leave the loss figure soon.
eng_connect CLI "$SRV_ADDR" "MDNS_STALL_TIMEOUT_SECONDS = $N
AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS = 3.0" ||
    bail "connect: $(tail -3 "$TOPO_DIR/CLI.err")"

st
is "$rc" 0 "connected and live: status exits 0"
like "$out" "phase +connected" "  phase connected"
like "$out" "live +last valid tunnel answer [0-9.]+ s ago" \
    "  the age of the last valid tunnel answer"
j=$("$BIN" status --control "$SOCK" --format json 2>/dev/null)
is "$(jq .stall_timeout_ms <<<"$j")" $((N * 1000)) \
    "stall_timeout_ms is the configured $N s"
is "$(jq '.last_valid_answer_age_ms | type' <<<"$j")" '"number"' \
    "last_valid_answer_age_ms is a number"
is "$(jq '.resolvers.list[0].last_valid_answer_age_ms | type' <<<"$j")" \
    '"number"' "  and per resolver"
m=$("$BIN" metrics --control "$SOCK")
like "$m" $'\nmdns_client_last_valid_answer_timestamp_seconds [1-9]' \
    "metrics: the session's last valid answer timestamp"
like "$m" $'\nmdns_client_resolver_last_valid_answer_timestamp_seconds\\{resolver="127.0.0.1:[0-9]+",domain="t.example"\\} [1-9]' \
    "metrics: per resolver"
"$BIN" handshake --engine --control "$SOCK" --deadline-s 3 >/dev/null 2>&1
is "$?" 0 "handshake --engine: live, exit 0"

# A download in progress (rate-limited so it lasts) when the server dies.
curl -s --max-time 60 --limit-rate 100k --socks5-hostname "$CLI_PROXY" \
    -o /dev/null "http://$ORIGIN/bytes/20000000?seed=2" &
CURL=$!
topo_track $CURL
sleep 1
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
t0=$(date +%s.%N)
stalled=1
for _ in $(seq $(((N + 2) * 10))); do
	st
	[ "$rc" = 2 ] && [[ $out == *"phase      stalled"* ]] && { stalled=0; break; }
	sleep 0.1
done
t1=$(date +%s.%N)
ok $stalled "server killed: status says stalled and exits 2 within N+2 s ($(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s)"
like "$out" "not live: phase stalled" "  and says why on stderr"
j=$("$BIN" status --control "$SOCK" --format json 2>/dev/null)
age=$(jq .last_valid_answer_age_ms <<<"$j")
ok $([ "$age" -ge $((N * 1000)) ]; echo $?) \
    "  last_valid_answer_age_ms $age >= the stall timeout"
is "$(jq -r .phase <<<"$j")" stalled "  JSON phase stalled"
ok $([ "$(jq .events.stalled <<<"$j")" -ge 1 ]; echo $?) \
    "  events.stalled counted"
out2=$("$CHECK" "$SCHEMA" <(printf '%s\n' "$j") 2>&1)
ok $? "  the stalled status validates against the schema${out2:+: $out2}"
like "$(cat "$TOPO_DIR/CLI.err")" "stalled: session [0-9]+: no valid tunnel answer" \
    "  connect logged the stall"
like "$("$BIN" metrics --control "$SOCK")" $'\nmdns_client_stalled 1' \
    "  metrics: mdns_client_stalled 1"
"$BIN" handshake --engine --control "$SOCK" --deadline-s 1 >"$TOPO_DIR/hs.out" 2>&1
is "$?" 2 "handshake --engine while stalled: exit 2"
like "$(cat "$TOPO_DIR/hs.out")" "not live: phase stalled" \
    "  it names the phase"
kill "$CURL" 2>/dev/null; wait "$CURL" 2>/dev/null

# The server back on the same port: ERROR_DROP, re-init, connected.
port=${SRV_ADDR##*:}
topo_bg SRV "$BIN" -v serve --config "$TOPO_DIR/SRV/server_config.toml" \
    --listen "$SRV_ADDR"
eng_wait "$TOPO_DIR/SRV.out" '^listening' || bail "serve restart"
back=1
for _ in $(seq 150); do
	st
	[ "$rc" = 0 ] && { back=0; break; }
	sleep 0.1
done
ok $back "server back on port $port: status exits 0 again (rc $rc)"
like "$out" "phase +connected" "  phase connected"
like "$(cat "$TOPO_DIR/CLI.err")" "ERROR_DROP" "  after ERROR_DROP and a re-init"
"$BIN" handshake --engine --control "$SOCK" --deadline-s 3 >/dev/null 2>&1
is "$?" 0 "handshake --engine: live again, exit 0"
is "$(curl -s --max-time 20 --socks5-hostname "$CLI_PROXY" \
    "http://$ORIGIN/bytes/100000?seed=1" | sha256sum | cut -d' ' -f1)" \
    "$(fix_sha 100000 1)" "a new download through the tunnel is intact"

topo_cleanup
done_testing
