#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-scan-probes.sh — the single-resolver commands and the burst stage:
# `mtu` shows every step (high end, low end, bisection) and ends at the
# exact MTU; `handshake` shows INIT/ACCEPT with the policy, PING/PONG and
# CLOSE, and the server really saw a session open and close; `handshake
# --engine` against a real `connect`'s control socket: passes once a
# session and an active resolver appear (the same session id `status`
# shows), says what is missing at the deadline (only a dead resolver),
# and exits 3 with a one-line error when no engine runs; IPv6 addresses
# work; `scan --stages burst` passes a good resolver and flags a rate-limited one; --stats writes the counters as JSON; --progress draws a bar.
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
127.7.0.5 slow delay_ms=300
127.7.0.6 dead
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

# --- every format `mtu` and `handshake` offer parses (issue 11: json was
# cut short with "cannot encode JSON")
for cmd in mtu handshake; do
	a=("${k[@]}" --up-mtu 38:100 --down-mtu 100:300 127.7.0.1:$FARM_PORT)
	out=$("$BIN" $cmd "${a[@]}" --format json 2>"$TOPO_DIR/err")
	is "$?:$(jq -r '.results[0].verdict' <<<"$out" 2>&1)" "0:ok" \
	    "$cmd --format json: one JSON document"
	is "$(cat "$TOPO_DIR/err")" "" "$cmd --format json: nothing on stderr"
	out=$("$BIN" $cmd "${a[@]}" --format jsonl 2>/dev/null)
	is "$(jq -r '.type + " " + .verdict' <<<"$out" 2>&1)" "result ok" \
	    "$cmd --format jsonl"
	out=$("$BIN" $cmd "${a[@]}" --format csv 2>/dev/null)
	is "$(python3 -c 'import csv, sys
rows = list(csv.DictReader(sys.stdin))
print(len(rows), rows[0]["verdict"], rows[0]["upload_mtu"])' <<<"$out" 2>&1)" \
	    "1 ok 100" "$cmd --format csv: a header and one row"
	is "$("$BIN" $cmd "${a[@]}" --format ips 2>/dev/null)" \
	    "127.7.0.1:$FARM_PORT" "$cmd --format ips"
	"$BIN" $cmd "${a[@]}" --format prom >/dev/null 2>"$TOPO_DIR/err"
	is "$?" 3 "$cmd --format prom: refused"
	like "$(cat "$TOPO_DIR/err")" "$cmd offers: text, json, jsonl, csv, ips" \
	    "$cmd --format prom: the formats it has"
done

# --- a measured MTU at the top of the search range is "≥N" in every
# format, and the recommendation says so (issue 11: MAX_DOWNLOAD_MTU = 500
# was recommended because 500 was the default ceiling)
a=(--up-mtu 38:100 --down-mtu 100:500 127.7.0.1:$FARM_PORT)
out=$("$BIN" mtu "${k[@]}" --no-steps "${a[@]}" 2>/dev/null)
like "$(grep "^127.7.0.1:$FARM_PORT" <<<"$out")" " ≥100 +≥500 " \
    "mtu text: ≥100 ≥500 at the ceilings"
out=$("$BIN" mtu "${k[@]}" "${a[@]}" --format jsonl 2>/dev/null)
is "$(jq -r '"\(.upload_mtu) \(.upload_mtu_at_ceiling) \(.download_mtu) \(.download_mtu_at_ceiling)"' <<<"$out")" \
    "100 true 500 true" "json: the MTU and *_at_ceiling true"
out=$("$BIN" mtu "${k[@]}" "${a[@]}" --format csv 2>/dev/null)
is "$(python3 -c 'import csv, sys
r = next(csv.DictReader(sys.stdin))
print(r["upload_mtu_at_ceiling"], r["download_mtu_at_ceiling"])' <<<"$out")" \
    "yes yes" "csv: the *_at_ceiling columns"
out=$("$BIN" mtu "${k[@]}" --up-mtu 38:150 --down-mtu 100:600 \
    127.7.0.2:$FARM_PORT --format jsonl 2>/dev/null)
is "$(jq -r '"\(.upload_mtu_at_ceiling) \(.download_mtu_at_ceiling)"' <<<"$out")" \
    "false false" "a limit of the path (small-udp) or the name cap is no ceiling"
printf '127.7.0.1:%s\n' $FARM_PORT >"$TOPO_DIR/one.txt"
"$BIN" scan --no-store "${k[@]}" --intercept-probe none "${a[@]:0:4}" \
    --loss-probes 0 --write-resolvers "$TOPO_DIR/cr.txt" "$TOPO_DIR/one.txt" \
    >/dev/null 2>&1
like "$(cat "$TOPO_DIR/cr.txt")" \
    "# MAX_DOWNLOAD_MTU = 500 or more: 500 is the top of the search range" \
    "--write-resolvers: the download ceiling was reached"
like "$(cat "$TOPO_DIR/cr.txt")" "scan again with --down-mtu 100:1000" \
    "--write-resolvers: how to raise it"
like "$(cat "$TOPO_DIR/cr.txt")" "# MAX_UPLOAD_MTU = 100 or more" \
    "--write-resolvers: the same for upload"

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

# --- handshake --engine against a real `connect` (its control socket).
# The good resolver answers 300 ms late, so the MTU tests and the
# handshake take several round trips: the polls see the steps before the
# session. The dead one never answers: the engine stays in its MTU test
# (5 s per probe here) past a 3 s deadline.
# eng_client NAME RESOLVER [TOML]: connect with --control $TOPO_DIR/NAME.sock
eng_client() {
	local d=$TOPO_DIR/$1 i
	mkdir -p "$d"
	cat >"$d/client_config.toml" <<EOT
DOMAINS = ["$ZONE"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY = "$(cat "$KEYFILE")"
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 1000
${3:-MTU_TEST_TIMEOUT = 1.0}
EOT
	echo "$2" >"$d/resolvers.txt"
	rm -f "$TOPO_DIR/$1.sock"
	topo_bg "$1" "$BIN" connect --config "$d/client_config.toml" \
	    --resolvers "$d/resolvers.txt" \
	    --listen "127.0.0.1:$(free_port --tcp 127.0.0.1)" \
	    --control "$TOPO_DIR/$1.sock" || return 1
	for ((i = 0; i < 200; i++)); do
		[ -S "$TOPO_DIR/$1.sock" ] && return 0
		sleep 0.02
	done
	return 1
}
eng_client ENG "127.7.0.5:$FARM_PORT"
ok $? "connect with a control socket up (resolver 300 ms slow)"
out=$("$BIN" handshake --engine --control "$TOPO_DIR/ENG.sock" \
    --deadline-s 20 2>"$TOPO_DIR/err")
is "$?" 0 "--engine: session appears, exit 0"
like "$out" "handshake +- +ok .*session [0-9]+ with 1 of 1 resolver" \
    "--engine: says which session"
steps=$(cat "$TOPO_DIR/err")
diag "$(tr '\n' '|' <<<"$steps")"
like "$steps" "engine: no session yet: phase (starting|mtu-testing|handshaking)" \
    "--engine: steps before the session shown"
like "$(tail -1 <<<"$steps")" \
    "^engine: engine has session [0-9]+ with 1 of 1 .*phase connected" \
    "--engine: the last step is the session"
sid=$(sed -n 's/.*engine has session \([0-9]*\) .*/\1/p' <<<"$out" | head -1)
is "$("$BIN" status --control "$TOPO_DIR/ENG.sock" --format json |
    jq -r '.session.id')" "${sid:-none}" \
    "--engine: its session id is the one status reports"
out=$("$BIN" handshake --engine --control "$TOPO_DIR/ENG.sock" \
    --format jsonl 2>/dev/null)
is "$(jq -r '.kind + " " + .verdict + " " + (.evidence | fromjson |
    .phase + " " + (.session.id | tostring))' <<<"$out" 2>&1)" \
    "handshake ok connected ${sid:-none}" \
    "--engine --format jsonl: verdict and the status as evidence"
out=$("$BIN" handshake --engine --control "$TOPO_DIR/ENG.sock" \
    --format json 2>"$TOPO_DIR/err")
is "$?:$(jq -r '.checks[0].kind + " " + .checks[0].verdict' <<<"$out" 2>&1)" \
    "0:handshake ok" "--engine --format json: one JSON document"
is "$(grep -c 'cannot encode' "$TOPO_DIR/err")" 0 \
    "--engine --format json: no encoding error"
"$BIN" handshake --engine --control "$TOPO_DIR/ENG.sock" --format csv \
    >"$TOPO_DIR/out" 2>"$TOPO_DIR/err"
is "$?:$(wc -c <"$TOPO_DIR/out")" "3:0" \
    "--engine --format csv: refused before anything is printed"
like "$(cat "$TOPO_DIR/err")" "--engine offers: text, json, jsonl\)" \
    "--engine: the formats it offers"
topo_stop "$ENG_PID"

eng_client DEAD "127.7.0.6:$FARM_PORT" "MTU_TEST_TIMEOUT = 5.0"
ok $? "connect up with only a dead resolver"
out=$("$BIN" handshake --engine --control "$TOPO_DIR/DEAD.sock" \
    --deadline-s 3 2>/dev/null)
is "$?" 2 "--engine: no session by the deadline, exit 2"
like "$out" "after 3000 ms: no session yet: phase mtu-testing, 0 of 1 resolver" \
    "--engine: names the missing step"
topo_stop "$DEAD_PID"

"$BIN" handshake --engine --control "$TOPO_DIR/nothing.sock" >/dev/null \
    2>"$TOPO_DIR/err"
is "$?" 3 "--engine: no engine running, exit 3"
is "$(wc -l <"$TOPO_DIR/err")" 1 "--engine: one line on stderr"
like "$(cat "$TOPO_DIR/err")" \
    "engine not running at $TOPO_DIR/nothing\.sock" \
    "--engine: the error names the socket"

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
like "$(cat "$TOPO_DIR/err")" \
    "no LIST given: reading $TOPO_DIR/cli/client_resolvers.txt" \
    "without a LIST it says which file it reads"

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

# --- --stats: the scan's counters as one JSON object
"$BIN" scan --no-store "${k[@]}" --intercept-probe none --timeout-ms 300 \
    --tries 1 --stats "$TOPO_DIR/scan.stats" "$TOPO_DIR/c.txt" \
    >/dev/null 2>&1
is "$(jq -r '"\(.total) \(.done) \(.passed) \(.sent >= .received)"' \
    "$TOPO_DIR/scan.stats")" "2 2 1 true" \
    "--stats: total, done, passed and the query counts as JSON"
is "$(jq -r 'keys_unsorted | join(" ")' "$TOPO_DIR/scan.stats")" \
    "total done passed sent received stray peak_inflight peak_queries_inflight wall_ms" \
    "--stats: the keys bench-scan reads, in order"
"$BIN" scan --no-store "${k[@]}" --intercept-probe none --timeout-ms 300 \
    --tries 1 --stats /proc/nonexistent/s.json "$TOPO_DIR/c.txt" \
    >/dev/null 2>"$TOPO_DIR/err"
like "$(cat "$TOPO_DIR/err")" "cannot write /proc/nonexistent/s.json" \
    "--stats: an unwritable file is named"

# --- progress bar only when asked (stderr is not a TTY here)
"$BIN" scan --no-store "${k[@]}" --stages reach --intercept-probe none \
    "$TOPO_DIR/b.txt" >/dev/null 2>"$TOPO_DIR/p1"
"$BIN" scan --no-store "${k[@]}" --stages reach --intercept-probe none \
    --progress "$TOPO_DIR/b.txt" >/dev/null 2>"$TOPO_DIR/p2"
ok "$(grep -c ETA "$TOPO_DIR/p1")" "no progress bar when stderr is no TTY"
like "$(cat "$TOPO_DIR/p2")" "\] +100\.0% 2/2 .*ETA" "--progress draws the bar"
done_testing
