#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-check.sh — `mdns-doctor check` in real situations, on a real tunnel
# (serve behind a farm of three good resolvers and one dead one, connect
# through the good ones, a scan to fill the last-known-good list):
#   engine up and everything fine -> 0, one monitoring-plugins line whose
#     perfdata a parser of the plugins grammar (below, in python) accepts;
#   thresholds crossed (-w / -c) -> 1 / 2;
#   handshakes failing (the server's key changed) -> 2;
#   the engine stopped (SIGSTOP) or gone -> 2;
#   a config it cannot use, a bad threshold -> 3;
#   the deadline: a stopped engine with a long engine timeout, and a
#     resolver that never answers, both end UNKNOWN (3) within deadline +
#     1 s (the upper bound of the deadline's promise, not a speed claim);
#   --format prom --textfile: promtool accepts the file, the
#     last-success gauge moves only on success, and a reader racing 30
#     rewrites never sees a partial file; json; the runs in the history.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/pool-lib.sh

export XDG_STATE_HOME=$D/state
DB=$D/h.db

# The monitoring-plugins output grammar: "NAME STATE - text[ | perfdata]"
# with items 'label'=value[UOM];[warn];[crit];[min];[max].
cat >"$D/plugin.py" <<'EOF'
import re, sys
NUM = r"-?[0-9]+(\.[0-9]+)?|-?\.[0-9]+"
RANGE = r"@?(~|" + NUM + r")?(:(" + NUM + r")?)?"
UOM = r"(s|ms|us|%|B|KB|MB|TB|c)?"
ITEM = re.compile(r"('(?:[^']|'')+'|[^'= ][^= ]*)=(U|" + NUM + r")" + UOM +
                  r"(;(" + RANGE + r")?(;(" + RANGE + r")?(;(" + NUM +
                  r")?(;(" + NUM + r")?)?)?)?)?$")
lines = sys.stdin.read().split("\n")
if len(lines) != 2 or lines[1] != "":
    sys.exit("not exactly one line")
line = lines[0]
m = re.match(r"^MDNS-DOCTOR (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*)(\| (.*))?$",
             line)
if not m:
    sys.exit("no 'MDNS-DOCTOR STATE - text' head: " + line)
perf = {}
for item in (m.group(4) or "").split(" "):
    if item == "":
        continue
    if not ITEM.match(item):
        sys.exit("perfdata item does not parse: " + item)
    label, rest = item.split("=", 1)
    perf[label.strip("'")] = rest.split(";")[0]
print(m.group(1), " ".join("%s=%s" % kv for kv in sorted(perf.items())))
EOF
plugin() { python3 "$D/plugin.py"; }

pool_serve
ok $? "serve up on $SRV"
pool_origin
ok $? "HTTP origin (an IP-echo service) on $ORIGIN"
printf '127.6.2.1 good\n127.6.2.2 good\n127.6.2.3 good\n127.6.2.4 dead\n' \
    >"$D/farm.spec"
pool_farm FARM "$D/farm.spec"
ok $? "farm on $FARM_PORT"
printf '127.6.2.%s:%s\n' 1 "$FARM_PORT" 2 "$FARM_PORT" 3 "$FARM_PORT" \
    >"$D/resolvers.txt"
printf '127.6.2.%s:%s\n' 1 "$FARM_PORT" 2 "$FARM_PORT" 3 "$FARM_PORT" \
    4 "$FARM_PORT" >"$D/all.txt"
printf '127.6.2.4:%s\n' "$FARM_PORT" >"$D/dead.txt"
pool_client "$D/resolvers.txt"
ok $? "connect listening"
wait_line "$D/CLI.out" '^connected' 200
ok $? "session up"
CFG=$D/cli/client_config.toml
"$BIN" -q --db "$DB" --config "$CFG" scan --intercept-probe none \
    --timeout-ms 500 --tries 1 "$D/all.txt" >/dev/null
is "$?" 0 "a scan fills the last-known-good list"

check() {
	"$BIN" --db "$DB" --config "$CFG" check --control "$CTL" \
	    --resolvers "$D/all.txt" --scan-sample 4 "$@"
}

# --- all fine ---
out=$(check)
is "$?" 0 "engine up, sessions open: exit 0"
diag "$out"
parsed=$(printf '%s\n' "$out" | plugin)
ok $? "the line parses by the plugins grammar: $parsed"
like "$parsed" "^OK " "state OK"
like "$parsed" "fresh=[0-9.]+s good=3 hs=3 loss=[0-9.]+% rtt=[0-9.]+ms" \
    "perfdata: fresh, good, hs, loss, rtt (and time)"
like "$out" "- engine connected; handshake 3/3 \(rtt [0-9.]+ ms\); scan 3/4; ip not tested \(no expected exit\); leak not tested \(no leak zone\); last-known-good 0.0 h old \|" \
    "the text names each sub-check"
like "$out" "'hs'=3;3:;1:;0;3 " "hs with its thresholds, min and max"

# --- thresholds ---
out=$(check --checks handshake -w rtt=0.001)
is "$?" 1 "-w rtt=0.001: exit 1"
like "$(printf '%s\n' "$out" | plugin)" "^WARNING " "WARNING"
out=$(check --checks handshake -w 0.001 -c 0.002)
is "$?" 2 "-c 0.002 (a bare range is rtt): exit 2"
like "$out" "'rtt'=[0-9.]+ms;0.001;0.002;0 " "the thresholds in the perfdata"
out=$(check --checks scan -w good=4:)
is "$?" 1 "scan 3 of 4 with -w good=4:: exit 1"
out=$(check --checks engine -c loss=@0:100)
is "$?" 2 "-c loss=@0:100 (alert inside): exit 2"

# --- handshakes failing: the server's key is not ours any more ---
sed "s/^ENCRYPTION_KEY = .*/ENCRYPTION_KEY = \"00112233445566778899aabbccddeeff\"/" \
    "$CFG" >"$D/wrongkey.toml"
out=$("$BIN" --db "$DB" --config "$D/wrongkey.toml" check --checks handshake \
    --resolvers "$D/resolvers.txt")
is "$?" 2 "handshakes failing (wrong key): exit 2"
like "$out" "CRITICAL - handshake 0/3 \(key_or_method_wrong\)" \
    "says why: $out"

# --- config errors are UNKNOWN ---
out=$("$BIN" --db "$DB" check --checks handshake --no-store)
is "$?" 3 "handshake without --config: exit 3"
like "$out" "UNKNOWN - handshake unknown \(needs the tunnel's settings" \
    "and why"
out=$(check -w rtt=fast 2>&1)
is "$?" 3 "-w rtt=fast: exit 3"
like "$out" "-w: rtt: not a threshold range: 'fast'" "and why"
out=$(check --checks engine,dns 2>&1)
is "$?" 3 "--checks with an unknown name: exit 3"

# --- json ---
check --format json >"$D/c.json"
is "$?" 0 "json: exit 0"
is "$(jq -r '.status.state, ([.checks[].kind] | join(","))' "$D/c.json" |
    tr '\n' ' ')" "OK engine,fresh,handshake,scan,ip,leak " \
    "json: status and one check per sub-check"
is "$(jq -r '[.perf[].label] | join(",")' "$D/c.json")" \
    "rtt,loss,age,hs,good,fresh" "json: the measured values"

# --- ip joins when an expected exit is configured ---
{ cat "$CFG"; echo "MDNS_IP_ECHO_V4 = [\"http://$ORIGIN/ip\"]"
  echo 'MDNS_EXPECTED_EXIT_IP = "127.0.0.1"'; } >"$D/ip.toml"
out=$("$BIN" --db "$DB" --config "$D/ip.toml" check --control "$CTL" \
    --checks engine,ip --format json)
is "$(echo "$out" | jq -r '.checks[] | select(.kind == "ip") |
    "\(.subject) \(.verdict) \(.reason)"')" "ipv4 fail not_tunnelled" \
    "ip measured (on loopback the exit is the direct address: not tunnelled)"
is "$(echo "$out" | jq -r .status.state)" CRITICAL "and it counts"

# --- textfile ---
mkdir -p "$D/tf"
TF=$D/tf/mdns_doctor_check.prom
check --format prom --textfile "$D/tf" >"$D/stdout.txt"
is "$?" 0 "prom textfile: exit 0"
is "$(wc -c <"$D/stdout.txt")" 0 "nothing on stdout with --format prom"
promtool check metrics <"$TF" 2>&1
ok $? "promtool check metrics accepts the textfile"
like "$(cat "$TF")" "mdns_doctor_check_status 0" "status gauge 0"
like "$(cat "$TF")" 'mdns_doctor_check_verdict\{check="handshake",subject=""\} 0' \
    "a gauge per sub-check"
ok $(grep -q 'check="leak"' "$TF"; [ $? -ne 0 ]; echo $?) \
    "checks not tested are left out of the gauges"
ls1=$(sed -n 's/^mdns_doctor_check_last_success_timestamp_seconds //p' "$TF")
now=$(date +%s)
ok $(awk -v a="$ls1" -v b="$now" 'BEGIN { exit !(b - a < 120 && a <= b + 1) }'
    echo $?) "last success is now ($ls1)"
ls -a "$D/tf" | grep -q '^\.mdns' && leftover=1 || leftover=0
is "$leftover" 0 "no temporary file left in the directory"

# --- the engine stopped, then gone ---
kill -STOP "$CLI_PID"
sleep 1.1
out=$(check --checks engine --engine-timeout 1000 --format prom \
    --textfile "$D/tf")
is "$?" 2 "engine stopped (SIGSTOP): exit 2"
like "$(cat "$TF")" "mdns_doctor_check_status 2" "textfile: status 2"
is "$(sed -n 's/^mdns_doctor_check_last_success_timestamp_seconds //p' \
    "$TF")" "$ls1" "last success did not move on a failure"
out=$(check --checks engine --engine-timeout 1000)
like "$out" "CRITICAL - engine not answering" \
    "a stopped engine is not live: $out"

# --- the deadline ---
t0=$(date +%s.%N)
out=$(check --checks engine --engine-timeout 30000 --deadline 2)
rc=$?
t1=$(date +%s.%N)
is "$rc" 3 "stopped engine, engine timeout 30 s, deadline 2 s: exit 3"
like "$out" "UNKNOWN - deadline 2.0 s reached: engine cut by the deadline" \
    "says the deadline cut it"
ok $(echo "$t1 - $t0 <= 3.0" | bc | grep -qx 1; echo $?) \
    "within deadline + 1 s ($(echo "$t1 - $t0" | bc) s)"
kill -CONT "$CLI_PID"
t0=$(date +%s.%N)
out=$(check --checks scan --resolvers "$D/dead.txt" --deadline 1)
rc=$?
t1=$(date +%s.%N)
is "$rc" 3 "a resolver that never answers, deadline 1 s: exit 3"
ok $(echo "$t1 - $t0 <= 2.0" | bc | grep -qx 1; echo $?) \
    "within deadline + 1 s ($(echo "$t1 - $t0" | bc) s)"
jq -e '.runs[0].status == "unknown"' \
    <("$BIN" --db "$DB" history --command check --format json) >/dev/null
ok $? "the cut run is recorded as unknown"
topo_stop "$CLI_PID"
out=$(check --checks engine)
is "$?" 2 "engine gone: exit 2"
like "$out" "CRITICAL - no engine \|" "no engine"

# --- a reader racing the writer never sees half a file ---
check --checks fresh --format prom --textfile "$D/tf" >/dev/null
(for i in $(seq 30); do
	"$BIN" --db "$DB" check --checks fresh,leak --format prom \
	    --textfile "$D/tf" --no-store >/dev/null 2>&1
done) &
writer=$!
reads=0 bad=0
while kill -0 $writer 2>/dev/null; do
	# Whole: starts with the status family, ends with the duration
	# sample and its newline (the x keeps the newline from $(...)).
	c=$(cat "$TF"; echo x)
	reads=$((reads + 1))
	case "$c" in
	"# HELP mdns_doctor_check_status "*$'\nmdns_doctor_check_duration_seconds '*[0-9]$'\nx') ;;
	*) bad=$((bad + 1)) ;;
	esac
done
wait $writer
diag "$reads reads while 30 files were written"
is "$bad" 0 "every read saw a whole file"
ok $((reads > 0 ? 0 : 1)) "the reader did read"

is "$("$BIN" --db "$DB" history --command check --format json |
    jq '[.runs[] | select(.checks > 0)] | length >= 10')" true \
    "the runs are in the history with their checks"
done_testing
