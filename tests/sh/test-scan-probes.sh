#!/usr/bin/env bash
# test-scan-probes.sh — the single-resolver commands and the burst stage:
# `mtu` shows every step (high end, low end, bisection) and ends at the
# exact MTU; `handshake` shows INIT/ACCEPT with the policy, PING/PONG and
# CLOSE, and the server really saw a session open and close; `handshake
# --engine` against a control socket (a scripted stand-in): passes once a
# session and an active resolver appear, says what is missing at the
# deadline, and exits 3 when no engine runs; TC=1 leads to a TCP try; IPv6 addresses work; `scan --stages burst` passes
# a good resolver and flags a rate-limited one; --progress draws a bar.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
topo_init || exit 1
CALC=$(topo_tool probe-calc)

scan_serve 1
ok $? "tunnel server up"
cat >"$TOPO_DIR/f.spec" <<'EOT'
127.7.0.1 good
127.7.0.2 small-udp n=700
127.7.0.3 ratelimited qps=5 mode=drop
127.7.0.4 ratelimited qps=2 mode=refused
EOT
scan_farm FARM --spec "$TOPO_DIR/f.spec"
ok $? "farm up"
k=(--domain $ZONE --key-file "$KEYFILE" --method 1)

# --- mtu with every step
out=$("$BIN" mtu "${k[@]}" --up-mtu 38:150 --down-mtu 100:1500 \
    127.7.0.2:$FARM_PORT 2>&1)
is "$?" 0 "mtu exits 0"
exp=$($CALC --up 38:150 --down 100:1500 --budget 700)
like "$out" "upload MTU search over 38\.\.141" "mtu: upload range with the name cap"
like "$out" "download MTU search over 100\.\.1500" "mtu: download range"
like "$out" "-> MTU_DOWN_REQ asking 1500 bytes" "mtu: high end first"
like "$out" "-> MTU_DOWN_REQ asking 100 bytes" "mtu: then the low end"
like "$out" "TC=1" "mtu: truncated answers shown"
like "$out" "TCP fallback for 1500 bytes: Connection refused" \
    "mtu: the first truncated size tried over TCP (the farm has none)"
nsteps=$(grep -c "download [0-9]*: \(passed\|failed\)" <<<"$out")
ok $((nsteps >= 4 && nsteps <= 14 ? 0 : 1)) "mtu: bisection steps ($nsteps)"
row=$(grep "^127.7.0.2:$FARM_PORT .* mtu " <<<"$out" | tail -1)
read -r up down < <(echo "$exp" | sed 's/up=\([0-9]*\) down=\([0-9]*\)/\1 \2/')
like "$row" " $up +$down " "mtu: table shows the exact MTUs ($exp)"
like "$row" " yes +[0-9]+ +4096 +yes " "mtu: case kept, answer size, EDNS, TC seen"

# --- an rcode without a frame in the MTU stage: the step line names the
# rcode and status and nothing else (the parser leaves no message for a
# plain NODATA/rcode answer, and the trace once printed whatever was on the
# stack in its place). 2 q/s: liveness and reach pass, the MTU probes that
# follow within the second are REFUSED.
out=$("$BIN" mtu "${k[@]}" --up-mtu 38:60 --down-mtu 100:200 --mtu-tries 1 \
    127.7.0.4:$FARM_PORT 2>&1)
refl=$(grep -aE '<- REFUSED' <<<"$out" | head -1)
like "$refl" '<- REFUSED, no frame$' \
    "mtu: a REFUSED probe answer is traced as 'REFUSED, no frame' ($refl)"

# --- handshake step by step
out=$("$BIN" handshake "${k[@]}" 127.7.0.1:$FARM_PORT 2>&1)
is "$?" 0 "handshake exits 0"
like "$out" "-> SESSION_INIT up 141 down 500" "handshake: INIT carries the measured MTUs"
like "$out" "<- SESSION_ACCEPT: session [0-9]+, verify code matches" \
    "handshake: ACCEPT with our verify code"
like "$out" "policy: .*MTU up 150 down 4096" "handshake: server policy shown"
like "$out" "<- PONG, [0-9.]+ ms" "handshake: PING answered by PONG"
like "$out" "<- NODATA: session closed" "handshake: SESSION_CLOSE acknowledged"

# --- IPv6: the same handshake straight to a server on [::1]
topo_bg SERVE6 "$BIN" serve --config "$TOPO_DIR/srv/server.toml" \
    --listen '[::1]:0'
for _ in $(seq 100); do
	p6=$(sed -n 's/^listening \[::1\]:\([0-9]*\)$/\1/p' \
	    "$TOPO_DIR/SERVE6.out" 2>/dev/null)
	[ -n "$p6" ] && break
	sleep 0.05
done
if [ -n "$p6" ]; then
	out=$("$BIN" handshake --no-steps "${k[@]}" --format jsonl \
	    "[::1]:$p6" 2>/dev/null)
	is "$(jq -r '.address + " " + .stage + " " + .verdict' <<<"$out")" \
	    "::1 handshake ok" "IPv6 resolver address: handshake ok"
else
	ok 0 "# SKIP no IPv6 loopback here"
fi

# --- handshake --engine against a scripted control socket
cat >"$TOPO_DIR/steps.jsonl" <<'EOT'
{"role":"client","phase":"mtu-testing","session":null,"resolvers":{"total":3,"active":0}}
{"role":"client","phase":"handshaking","session":null,"resolvers":{"total":3,"active":2}}
{"role":"client","phase":"connected","session":{"id":7},"resolvers":{"total":3,"active":2}}
EOT
topo_spawn CTL "$(topo_tool fake-ctl)" --socket "$TOPO_DIR/e.sock" \
    --script "$TOPO_DIR/steps.jsonl"
out=$("$BIN" handshake --engine --control "$TOPO_DIR/e.sock" \
    --deadline-s 10 2>"$TOPO_DIR/err")
is "$?" 0 "--engine: session appears, exit 0"
like "$out" "handshake +ok .*session 7 with 2 of 3" "--engine: says which session"
like "$(cat "$TOPO_DIR/err")" "phase mtu-testing.*" "--engine: steps shown"
topo_stop "$CTL_PID"
cat >"$TOPO_DIR/stuck.jsonl" <<'EOT'
{"role":"client","phase":"handshaking","session":null,"resolvers":{"total":3,"active":2}}
EOT
topo_spawn CTL2 "$(topo_tool fake-ctl)" --socket "$TOPO_DIR/s.sock" \
    --script "$TOPO_DIR/stuck.jsonl"
out=$("$BIN" handshake --engine --control "$TOPO_DIR/s.sock" \
    --deadline-s 1 2>/dev/null)
is "$?" 2 "--engine: no session by the deadline, exit 2"
like "$out" "after 1000 ms: no session yet: phase handshaking" \
    "--engine: names the missing step"
"$BIN" handshake --engine --control "$TOPO_DIR/nothing.sock" >/dev/null \
    2>&1
is "$?" 3 "--engine: no engine running, exit 3"

# --- burst stage
printf '127.7.0.1:%s\n127.7.0.3:%s\n' $FARM_PORT $FARM_PORT \
    >"$TOPO_DIR/b.txt"
out=$("$BIN" scan --no-store "${k[@]}" --stages burst --burst 40 \
    --intercept-probe none --timeout-ms 1500 --mtu-timeout-ms 1500 \
    --format jsonl "$TOPO_DIR/b.txt" 2>/dev/null)
is "$(jq -r 'select(.address=="127.7.0.1") | .stage + " " + .verdict +
    " " + (.burst.sent|tostring) + " " + (.burst.ok|tostring)' <<<"$out")" \
    "burst ok 40 40" "burst: good resolver answers all 40"
is "$(jq -r 'select(.address=="127.7.0.3") | .stage + " " + .reason' \
    <<<"$out")" "burst burst_loss" "burst: 5 q/s resolver loses the burst"

# --- a MasterDnsVPN client_config.toml and the list next to it
mkdir -p "$TOPO_DIR/cli"
cat >"$TOPO_DIR/cli/client_config.toml" <<EOT
DOMAINS = ["$ZONE"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY = "$(cat "$KEYFILE")"
MIN_UPLOAD_MTU = 40
MAX_UPLOAD_MTU = 100
MIN_DOWNLOAD_MTU = 100
MAX_DOWNLOAD_MTU = 300
MTU_TEST_RETRIES = 2
MTU_TEST_TIMEOUT = 1.5
EOT
echo "127.7.0.1:$FARM_PORT" >"$TOPO_DIR/cli/client_resolvers.txt"
out=$("$BIN" --config "$TOPO_DIR/cli/client_config.toml" scan --no-store \
    --intercept-probe none --format jsonl 2>"$TOPO_DIR/err")
is "$(jq -r 'select(.type=="result") | "\(.stage) \(.verdict) \(.upload_mtu) \(.download_mtu)"' <<<"$out")" \
    "handshake ok 100 300" "--config: domain, key, method and MTU ranges from the file, list next to it"
key=$(cat "$KEYFILE")
ok "$(grep -c -- "$key" <<<"$out$(cat "$TOPO_DIR/err")")" \
    "the key never appears in output or messages"
like "$(cat "$TOPO_DIR/err")" "key sha256:[0-9a-f]{8}" "only its fingerprint"

# --- per-resolver pacing: a resolver serving 5 queries/s drops nothing
# when the scan spaces its queries 260 ms apart
echo "127.8.0.1 ratelimited qps=5 mode=drop" >"$TOPO_DIR/rl.spec"
scan_farm RL --spec "$TOPO_DIR/rl.spec" --stats "$TOPO_DIR/rl.stats"
out=$("$BIN" scan --no-store "${k[@]}" --intercept-probe none \
    --pace-ms 260 --up-mtu 38:150 --down-mtu 100:4000 --format jsonl \
    <(echo "127.8.0.1:$RL_PORT") 2>/dev/null)
topo_stop "$RL_PID"
is "$(jq -r 'select(.type=="result") | "\(.stage) \(.verdict) \(.upload_mtu) \(.download_mtu)"' <<<"$out")" \
    "handshake ok $($CALC --up 38:150 --down 100:4000 | tr -d 'updown=')" \
    "paced: rate-limited resolver passes with the exact MTUs"
st=$(jq -c 'select(.behaviour=="ratelimited")' "$TOPO_DIR/rl.stats")
diag "farm counters: $st"
is "$(jq -r .dropped <<<"$st")" 0 "paced: not one query over its rate"
ok $(($(jq -r .received <<<"$st") >= 12 ? 0 : 1)) \
    "paced: the whole funnel with a bisection went to it"

# --- csv and ips sinks
printf '127.7.0.1:%s\n127.0.0.254:9\n' $FARM_PORT >"$TOPO_DIR/c.txt"
out=$("$BIN" scan --no-store "${k[@]}" --intercept-probe none \
    --timeout-ms 300 --tries 1 --format csv "$TOPO_DIR/c.txt" 2>/dev/null)
is "$(wc -l <<<"$out")" 3 "csv: header and one row per resolver"
like "$(grep 127.0.0.254 <<<"$out")" "liveness,fail,timeout" "csv: failed row"
out=$("$BIN" scan --no-store "${k[@]}" --intercept-probe none \
    --timeout-ms 300 --tries 1 --format ips "$TOPO_DIR/c.txt" 2>/dev/null)
is "$out" "127.7.0.1:$FARM_PORT" "ips: survivors only, ready for client_resolvers.txt"

# --- progress bar only when asked (stderr is not a TTY here)
"$BIN" scan --no-store "${k[@]}" --stages reach --intercept-probe none \
    "$TOPO_DIR/b.txt" >/dev/null 2>"$TOPO_DIR/p1"
"$BIN" scan --no-store "${k[@]}" --stages reach --intercept-probe none \
    --progress "$TOPO_DIR/b.txt" >/dev/null 2>"$TOPO_DIR/p2"
ok "$(grep -c ETA "$TOPO_DIR/p1")" "no progress bar when stderr is no TTY"
like "$(cat "$TOPO_DIR/p2")" "\] +100\.0% 2/2 .*ETA" "--progress draws the bar"
done_testing
