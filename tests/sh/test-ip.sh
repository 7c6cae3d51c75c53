#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-ip.sh — `mdns-doctor ip` end to end on three hosts made of network
# namespaces (nothing leaves them):
#
#   app  10.77.2.2 fd77:2::2 --- inet (router) --- 10.77.1.2 fd77:1::2  exit
#                                  |  IP-echo services (http-fixture) at
#                                  |  10.77.0.1 10.77.0.2 fd77::1 fd77::2
#                                  |  (10.77.0.3 lies: always 198.51.100.77)
#
# `serve` runs in "exit", `connect` and `ip` in "app"; the tunnel's DNS
# goes app -> inet -> exit directly (the resolver is the server). The
# services answer the source address they saw, so through the tunnel they
# see the exit's address and directly the app's. Verdicts: the right exit
# -> OK; a wrong expected exit -> CRITICAL; no expectation -> WARNING;
# services that disagree -> WARNING; garbage, non-IP answers, silence,
# unreachable services -> WARNING/UNKNOWN with the reason; a "tunnel"
# whose server sits in the app namespace -> CRITICAL not_tunnelled; names
# only the exit can resolve (socks5h) work; the expectation from a
# profile and from the config key; the SOCKS port from the control
# socket, --socks and the config; IPv4 and IPv6; the store.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/netns.sh
. tests/sh/engine-lib.sh

ns_init
for n in inet exit app; do
	ns_add $n
done
ns_link inet ie0 10.77.1.1/24,fd77:1::1/64 exit ei0 10.77.1.2/24,fd77:1::2/64
ns_link inet ia0 10.77.2.1/24,fd77:2::1/64 app ai0 10.77.2.2/24,fd77:2::2/64
ns_addr inet lo 10.77.0.1/32,10.77.0.2/32,10.77.0.3/32,fd77::1/128,fd77::2/128
ns_forward inet
ns_route exit default via 10.77.1.1
ns_route exit default via fd77:1::1
ns_route app default via 10.77.2.1
ns_route app default via fd77:2::1
# Name service inside the namespaces: no resolver anywhere (a lookup can
# only fail, locally); the exit alone knows the services by name.
for n in exit app; do
	ns_etc $n resolv.conf "nameserver 127.0.0.1"
done
ns_etc exit hosts $'127.0.0.1 localhost\n10.77.0.1 echo-a.test\n10.77.0.2 echo-b.test\nfd77::2 echo-c6.test'
ns_etc app hosts '127.0.0.1 localhost'
INET=$(ns_name inet)
EXIT=$(ns_name exit)
APP=$(ns_name app)

fixture() { # NAME ADDR [ARGS]: an IP-echo service in inet; NAME_PORT
	local name=$1 addr=$2
	shift 2
	topo_spawn "$name" ip netns exec "$INET" "$(topo_tool http-fixture)" \
	    --listen "$addr" --port 0 "$@"
}
fixture A4 10.77.0.1 && fixture B4 10.77.0.2 && fixture A6 fd77::1 &&
    fixture B6 fd77::2 && fixture LIE 10.77.0.3 --fake-ip 198.51.100.77
ok $? "five IP-echo services in the internet namespace"
A4=http://10.77.0.1:$A4_PORT
B4=http://10.77.0.2:$B4_PORT
A6=http://[fd77::1]:$A6_PORT
B6=http://[fd77::2]:$B6_PORT
LIE=http://10.77.0.3:$LIE_PORT
A6RE="http://\\[fd77::1\\]:$A6_PORT" # the same as regular expressions
B6RE="http://\\[fd77::2\\]:$B6_PORT"
ns app curl -s --max-time 5 "$A4/ip" | grep -qx 10.77.2.2
ok $? "direct from app the service sees 10.77.2.2"
ns app curl -s --max-time 5 "$A6/ip" | grep -qx fd77:2::2
ok $? "... and fd77:2::2 over IPv6"

# The tunnel: serve in exit, connect in app (its control socket here).
ENG_EXEC=(ip netns exec "$EXIT")
ENG_SERVE_HOST=10.77.1.2
eng_serve SRV 'MDNS_ALLOW_TARGETS = ["10.77.0.0/16", "fd77::/16"]'
ok $? "serve listens in the exit namespace ($SRV_ADDR)"
ENG_EXEC=(ip netns exec "$APP")
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/app.sock")
eng_connect CL "$SRV_ADDR"
ok $? "connect in the app namespace has a session"
CTL=(--control "$TOPO_DIR/app.sock")
SVC=(--service "$A4/ip" --service "$B4/ip.json" --service "$A6/ip.trace"
    --service "$B6/ip.kv")

# ip ARGS...: run in app, JSON lines into $OUT, exit status $RC.
ip_run() {
	OUT=$(ns app "$BIN" -q ip --no-store --format jsonl --timeout-ms 8000 \
	    "$@" 2>"$TOPO_DIR/ip.err")
	RC=$?
}
f() { # FAMILY KEY: a field of the ipv4/ipv6 check
	printf '%s\n' "$OUT" | jq -r --arg s "ipv$1" "select(.subject == \$s) | .$2"
}

ip_run "${CTL[@]}" "${SVC[@]}" --expect 10.77.1.2 --expect fd77:1::2
is "$RC" 0 "right exit on both families: exit 0"
is "$(f 4 verdict)/$(f 6 verdict)" ok/ok "IPv4 and IPv6 ok"
like "$(f 4 detail)" "^IPv4 exit 10.77.1.2 = expected \\(services agree\\), direct 10.77.2.2$" \
    "IPv4 detail: exit, expectation, direct"
like "$(f 6 detail)" "^IPv6 exit fd77:1::2 = expected \\(services agree\\), direct fd77:2::2$" \
    "IPv6 detail: the exit's and the app's IPv6 addresses"
like "$(f 4 evidence)" "expected: 10.77.1.2 \\(--expect\\); tunnel via socks5h://127.0.0.1:[0-9]+: $A4/ip -> 10.77.1.2 \\([0-9]+ ms\\), $B4/ip.json -> 10.77.1.2" \
    "evidence: every tunnel answer (plain and JSON bodies)"
like "$(f 6 evidence)" "$A6RE/ip.trace -> fd77:1::2.*$B6RE/ip.kv -> fd77:1::2.*direct: .*-> fd77:2::2" \
    "evidence: trace and key=value bodies, direct answers"

ip_run "${CTL[@]}" "${SVC[@]}" --expect 10.77.9.9 --expect fd77:1::2
is "$RC/$(f 4 verdict)/$(f 4 reason)" 2/fail/exit_ip_mismatch \
    "a wrong expected exit: CRITICAL exit_ip_mismatch"
like "$(f 4 detail)" "exit 10.77.1.2, expected 10.77.9.9; direct 10.77.2.2" \
    "... saying both"
is "$(f 6 verdict)" ok "the other family is judged on its own"

ip_run "${CTL[@]}" "${SVC[@]}"
is "$RC/$(f 4 reason)/$(f 6 reason)" 1/no_baseline/no_baseline \
    "no expectation: WARNING no_baseline, never a silent ok"
like "$(f 4 detail)" "exit 10.77.1.2 \\(services agree\\), direct 10.77.2.2; no expected IPv4 exit" \
    "... with the evidence still shown"

ip_run "${CTL[@]}" -4 --service "$A4/ip" --service "$LIE/ip" --expect 10.77.1.2
is "$RC/$(f 4 reason)" 1/disagree "services disagree: WARNING disagree"
like "$(f 4 detail)" "10.77.1.2 \\(1\\), 198.51.100.77 \\(1\\)" \
    "... listing what each said"
is "$(f 6 verdict)" "" "-4: no IPv6 check"

ip_run "${CTL[@]}" -4 --service "$A4/ip.word" --service "$B4/ip.html" \
    --expect 10.77.1.2
is "$RC/$(f 4 verdict)/$(f 4 reason)" 3/unknown/malformed \
    "non-IP answers only: UNKNOWN malformed"
like "$(f 4 evidence)" "ip.word: not an IP address: \"hello\".*ip.html: not an IP address: \"<html>" \
    "... quoting what came back"

ip_run "${CTL[@]}" -4 --service "$A4/ip.hang" --service "$B4/ip.hang" \
    --expect 10.77.1.2 --timeout-ms 1500
is "$RC/$(f 4 reason)" 3/timeout "silent services: UNKNOWN timeout"
like "$(f 4 evidence)" "timeout after 1[0-9]{3} ms" "... after the timeout"

ip_run "${CTL[@]}" -4 --service "$A4/ip" --service "$B4/ip.garbage" \
    --service "http://10.77.0.9:80/ip" --service "$A4/ip.big" --expect 10.77.1.2
is "$RC/$(f 4 verdict)/$(f 4 reason)" 1/warn/fetch_failed \
    "one good answer among garbage and an unreachable service: WARNING"
like "$(f 4 detail)" "only 1 of 4 IPv4 service\\(s\\) answered through the tunnel" \
    "... saying how many answered"
like "$(f 4 evidence)" "10.77.0.9:80/ip: .*ip.big: body larger than 4096 bytes" \
    "... and why the others did not"

# Names only the exit can resolve: socks5h resolves at the far end.
ip_run "${CTL[@]}" --service4 "http://echo-a.test:$A4_PORT/ip" \
    --service4 "http://echo-b.test:$B4_PORT/ip.json" \
    --service6 "http://echo-c6.test:$B6_PORT/ip" --expect 10.77.1.2 \
    --expect fd77:1::2
is "$(f 4 verdict)" ok "host names resolved by the exit (socks5h): ok"
like "$(f 4 detail)" "direct no answer" \
    "... while the app itself cannot resolve them"
like "$(f 4 evidence)" "direct: http://echo-a.test:[0-9]+/ip: .*resolve" \
    "... evidence says so"
is "$(f 6 reason)" fetch_failed "one IPv6 service only: WARNING fetch_failed"
like "$(f 6 detail)" "exit fd77:1::2 = expected.*only 1 of 1" "... said so"

# Where the SOCKS port and the expectation come from.
ip_run --socks "$CL_PROXY" "${SVC[@]}" --expect 10.77.1.2 -4
is "$RC" 0 "--socks HOST:PORT instead of the control socket"
cp "$TOPO_DIR/CL/client_config.toml" "$TOPO_DIR/cfg.toml"
{
	echo "LISTEN_IP = \"127.0.0.1\""
	echo "LISTEN_PORT = ${CL_PROXY##*:}"
	echo "MDNS_EXPECTED_EXIT_IP = [\"10.77.1.2\", \"fd77:1::2\"]"
	echo "MDNS_IP_ECHO_V4 = [\"$A4/ip\", \"$B4/ip.kv\"]"
	echo "MDNS_IP_ECHO_V6 = [\"$A6/ip\", \"$B6/ip.json\"]"
} >>"$TOPO_DIR/cfg.toml"
ip_run --config "$TOPO_DIR/cfg.toml" --control "$TOPO_DIR/none.sock"
is "$RC/$(f 4 verdict)/$(f 6 verdict)" 0/ok/ok \
    "config: SOCKS port, expectation and services from client_config.toml"
like "$(f 4 evidence)" "\\(MDNS_EXPECTED_EXIT_IP of .*cfg.toml\\)" \
    "... the expectation's source is named"
cat >"$TOPO_DIR/p.json" <<EOP
{"version": 1, "name": "t", "protocol": "masterdns", "domain": "t.example",
 "resolvers": [{"type": "udp", "address": "$SRV_ADDR"}],
 "expectedExitIP": "10.77.1.2",
 "masterdns": {"encryptionMethod": 1, "key": "$ENG_KEY"}}
EOP
ip_run "${CTL[@]}" "${SVC[@]}" --profile "$TOPO_DIR/p.json" -4
is "$RC/$(f 4 verdict)" 0/ok "the profile's expectedExitIP"
like "$(f 4 evidence)" "expectedExitIP of .*p.json" "... named as the source"
ip_run --control "$TOPO_DIR/none.sock" "${SVC[@]}" --expect 10.77.1.2 -4
is "$RC/$(f 4 verdict)/$(f 4 reason)" 3/unknown/fetch_failed \
    "no engine and no --socks: UNKNOWN"
like "$(f 4 detail)" "no tunnel path \\(engine not running at .*none.sock; start connect, or give --socks HOST:PORT\\); direct 10.77.2.2" \
    "... saying why, with the direct address"
ip_run "${CTL[@]}" --expect not-an-ip
is "$RC" 3 "a bad --expect: UNKNOWN"
like "$(cat "$TOPO_DIR/ip.err")" "not an IP address: \"not-an-ip\"" "... why"
ip_run "${CTL[@]}" --service "http://echo-a.test/ip"
like "$(cat "$TOPO_DIR/ip.err")" "the host is a name; say its family" \
    "--service with a host name asks for its family"
ip_run "${CTL[@]}" --service4 "ftp://10.77.0.1/ip"
like "$(cat "$TOPO_DIR/ip.err")" "not an http:// or https:// URL" \
    "a non-HTTP service is refused"

# connect --checks: the same check inside the client, on its own loop,
# through its own SOCKS port; status exit_ip, metrics, the event, the
# store. Three clients at once: the right exit, a wrong expectation, an
# unreachable service (the engine keeps running).
ENG_EXEC=(ip netns exec "$APP")
CHKDB=$TOPO_DIR/chk.db
chk_connect() { # NAME EXPECT4 SERVICES4: connect --checks=2 in app
	ENG_CONNECT_ARGS=(--control "$TOPO_DIR/$1.sock" --checks=2 --db "$CHKDB")
	eng_connect_bg "$1" "$SRV_ADDR" "MDNS_SNAPSHOT_INTERVAL_SECONDS = 1
MDNS_EXPECTED_EXIT_IP = [\"$2\", \"fd77:1::2\"]
MDNS_IP_ECHO_V4 = $3
MDNS_IP_ECHO_V6 = [\"$A6/ip\", \"$B6/ip.json\"]"
}
chk_connect CK1 10.77.1.2 "[\"$A4/ip\", \"$B4/ip.kv\"]"
chk_connect CK2 10.77.9.9 "[\"$A4/ip\", \"$B4/ip.kv\"]"
chk_connect CK3 10.77.1.2 '["http://10.77.0.9:80/ip"]'
chk_status() { # NAME: the client's status (JSON)
	ns app "$BIN" status --control "$TOPO_DIR/$1.sock" --format json \
	    2>/dev/null
}
chk_wait() { # NAME: until exit_ip has a verdict (at most 60 s); the status
	local i st
	for ((i = 0; i < 120; i++)); do
		st=$(chk_status "$1")
		case $(printf '%s' "$st" | jq -r '.exit_ip.verdict' 2>/dev/null) in
		"" | null | "not tested") sleep 0.5 ;;
		*) break ;;
		esac
	done
	printf '%s' "$st"
}
for n in CK1 CK2 CK3; do
	eng_wait "$TOPO_DIR/$n.out" '^connected'
done
st=$(chk_status CK1)
is "$(printf '%s' "$st" | jq -r '.leak.verdict + "/" + .leak.reason')" \
    "not tested/no_leak_zone" "--checks: leak not tested without a leak zone"
st=$(chk_wait CK1)
is "$(printf '%s' "$st" | jq -r '.exit_ip.verdict + "/" + .exit_ip.reason')" \
    ok/ok "--checks: status exit_ip ok"
is "$(printf '%s' "$st" | jq -r '.exit_ip.address')" "10.77.1.2 fd77:1::2" \
    "... the exit namespace's addresses"
like "$(printf '%s' "$st" | jq -r '.exit_ip.evidence.checks[] | select(.subject == "ipv4") | .evidence')" \
    "expected: 10.77.1.2 \\(MDNS_EXPECTED_EXIT_IP of .*\\); tunnel via socks5h://127.0.0.1:[0-9]+: $A4/ip -> 10.77.1.2" \
    "... with the evidence, through the client's own SOCKS port"
ok $(printf '%s' "$st" | jq -e '.exit_ip.time_unix_ms > 1700000000000' \
    >/dev/null; echo $?) "... and the time"
out=$("$(topo_tool json-schema-check)" docs/status.schema.json <(printf '%s' "$st") 2>&1)
ok $? "status with checks matches docs/status.schema.json${out:+: $out}"
ns app "$BIN" metrics --control "$TOPO_DIR/CK1.sock" |
    grep -q '^mdns_client_check_verdict{check="exit_ip"} 0$'
ok $? "metrics: mdns_client_check_verdict{check=\"exit_ip\"} 0"
st=$(chk_wait CK2)
is "$(printf '%s' "$st" | jq -r '.exit_ip.verdict + "/" + .exit_ip.reason')" \
    critical/exit_ip_mismatch "a wrong expected exit: critical in status"
like "$(printf '%s' "$st" | jq -r '.exit_ip.detail')" \
    "exit 10.77.1.2, expected 10.77.9.9" "... saying both"
eng_wait "$TOPO_DIR/CK2.err" \
    'check exit_ip: not tested -> critical \(exit_ip_mismatch\)'
ok $? "... and an event on the change (in the log)"
st=$(chk_wait CK3)
is "$(printf '%s' "$st" | jq -r '.exit_ip.evidence.checks[] | select(.subject == "ipv4") | .verdict + "/" + .reason')" \
    unknown/fetch_failed "an unreachable service: IPv4 unknown fetch_failed"
like "$(printf '%s' "$st" | jq -r '.exit_ip.evidence.checks[] | select(.subject == "ipv4") | .evidence')" \
    "10.77.0.9:80/ip: " "... with the reason"
is "$(printf '%s' "$st" | jq -r '.phase')" connected \
    "... and the engine keeps running"
# The first run of CK1 ended long ago; the snapshot writer has had a
# second: the checks are in connect's run, the event in a snapshot.
for ((i = 0; i < 40; i++)); do
	n=$(sqlite3 "$CHKDB" "SELECT count(*) FROM engine_snapshots WHERE counters LIKE '%exit_ip: not tested -> critical%'" 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.5
done
ok $([ "${n:-0}" -ge 1 ]; echo $?) "the event is in a snapshot of the history"
is "$(sqlite3 "$CHKDB" "SELECT count(*) > 0 FROM checks c JOIN runs r ON r.id = c.run_id WHERE r.command = 'connect' AND c.kind = 'ip' AND c.subject = 'ipv4' AND c.verdict = 'fail' AND c.evidence LIKE '%-> 10.77.1.2%'")" \
    1 "the periodic checks are in connect's run, with evidence"
like "$(ns app "$BIN" status --control "$TOPO_DIR/CK2.sock")" \
    "exit ip +critical 10.77.1.2 fd77:1::2 \\(IPv4 exit 10.77.1.2, expected 10.77.9.9" \
    "status (text) shows the check: verdict, exit addresses, detail"
# The TUI's header (the control socket is a path: no namespace needed),
# in an 80-column tmux window.
if command -v tmux >/dev/null; then
	TM="tmux -L mdns-ip-$$ -f /dev/null"
	$TM new-session -d -s T -x 80 -y 24 \
	    "env TERM=tmux-256color NO_COLOR=1 $BIN tui --control $TOPO_DIR/CK2.sock"
	for ((i = 0; i < 100; i++)); do
		$TM capture-pane -p -t T | grep -q 'exit critical' && break
		sleep 0.1
	done
	like "$($TM capture-pane -p -t T | grep 'exit critical')" \
	    '^exit critical 10\.77\.1\.2 fd77:1::2 \(exit_ip_mismatch\) +leak not tested' \
	    "TUI header at 80 columns: the exit check's verdict and address"
	$TM kill-server 2>/dev/null
else
	diag "tmux not installed: no TUI header check"
fi
for n in CK1 CK2 CK3; do
	p=${n}_PID
	topo_stop "${!p}"
done
out=$(ns app "$BIN" connect --config "$TOPO_DIR/CK1/client_config.toml" \
    --resolvers "$TOPO_DIR/CK1/resolvers.txt" --checks=abc 2>&1)
is "$?/$(printf '%s\n' "$out" | wc -l)" 3/1 "--checks=abc: one-line error, exit 3"
like "$out" "--checks: not a number of seconds" "... saying why"
out=$(ns app "$BIN" connect --config "$TOPO_DIR/CK1/client_config.toml" \
    --resolvers "$TOPO_DIR/CK1/resolvers.txt" --checks 60 2>&1)
is "$?" 3 "--checks 60 (no '='): exit 3"
like "$out" "write --checks=60" "... and the message says how to write it"

# A "tunnel" whose server runs next to the client: the exit is the
# direct address.
ENG_EXEC=(ip netns exec "$APP")
ENG_SERVE_HOST=10.77.2.2
eng_serve SRV2 'MDNS_ALLOW_TARGETS = ["10.77.0.0/16", "fd77::/16"]'
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/app2.sock")
eng_connect CL2 "$SRV2_ADDR"
ok $? "a second tunnel whose server is in the app namespace"
ip_run --control "$TOPO_DIR/app2.sock" "${SVC[@]}" --expect 10.77.2.2 -4
is "$RC/$(f 4 verdict)/$(f 4 reason)" 2/fail/not_tunnelled \
    "exit equals the direct address: CRITICAL not_tunnelled"
like "$(f 4 detail)" "exit 10.77.2.2 equals the direct address" "... said so"

# The store: one run, one row per family, with evidence.
DB=$TOPO_DIR/h.db
ns app "$BIN" -q ip --db "$DB" "${CTL[@]}" "${SVC[@]}" --expect 10.77.1.2 \
    --format json >"$TOPO_DIR/ip.json" 2>/dev/null
is "$?" 1 "stored run: IPv6 without expectation -> exit 1"
is "$(jq -r '.checks | length' "$TOPO_DIR/ip.json")" 2 \
    "--format json: one document with two checks"
is "$(sqlite3 "$DB" "SELECT group_concat(subject || '=' || verdict, ' ') FROM checks WHERE kind = 'ip'")" \
    "ipv4=ok ipv6=warn" "checks stored with subject and verdict"
is "$(sqlite3 "$DB" "SELECT status FROM runs WHERE command = 'ip'")" warning \
    "run status warning"
is "$(sqlite3 "$DB" "SELECT count(*) FROM checks WHERE subject = 'ipv4' AND evidence LIKE '%tunnel via socks5h://%-> 10.77.1.2%'")" \
    1 "... with the evidence"
done_testing
