#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-scan-errors.sh — what goes wrong says so: malformed list lines are
# named by file:line and the scan goes on; an unreachable store, bad
# option values and unknown formats fail with one line and exit 3; a
# wrong key or method is "key_or_method" at the mtu stage (not a bad
# resolver) with a diagnosis; no key stops after reach; an intercepting
# path and a dead server are reported by the env stage; a dead server
# behind good resolvers gives the reach diagnosis with the evidence.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
topo_init || exit 1

scan_serve 1
ok $? "tunnel server up"
scan_farm FARM --seed 2 --base 127.5.0.0 --gen good=6,dead=2
ok $? "farm up"
P=$FARM_PORT
good=$(jq -r 'select(.behaviour=="good") | .addr' "$TOPO_DIR/FARM.truth" |
    head -1)
common=(--domain $ZONE --timeout-ms 500 --tries 1 --mtu-timeout-ms 500
    --no-store)
m1=(--method 1)
ni=(--intercept-probe none)

# --- malformed list lines
cat >"$TOPO_DIR/list.txt" <<EOT
# a comment
$good:$P
not-an-address
127.5.0.1:99999
127.5.0.0/33:$P
127.5.0.2:$P   # trailing comment
EOT
out=$("$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --key-file "$KEYFILE" --format jsonl \
    "$TOPO_DIR/list.txt" 2>"$TOPO_DIR/err")
rc=$?
err=$(cat "$TOPO_DIR/err")
like "$err" "list.txt:3: [^ ]" "bad address named with file:line"
like "$err" "list.txt:4: .*port" "port out of range named"
like "$err" "list.txt:5: " "bad prefix named"
is "$(jq -r 'select(.type=="result") | .address' <<<"$out" | sort |
    tr '\n' ' ')" "$good 127.5.0.2 " "good lines still scanned"
is "$rc" 1 "exit 1: survivors, but the list had bad lines"

printf '# nothing\nbogus\n' >"$TOPO_DIR/bad.txt"
"$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" "$TOPO_DIR/bad.txt" \
    >/dev/null 2>"$TOPO_DIR/err"
is "$?" 3 "a list without one address: exit 3"
like "$(cat "$TOPO_DIR/err")" "no resolver address in the list \(only bad" \
    "and says so"

# --- unreachable store
"$BIN" scan --db /proc/nonexistent/h.db "${common[@]/--no-store/}" "${m1[@]}" \
    --key-file "$KEYFILE" "$TOPO_DIR/list.txt" >/dev/null \
    2>"$TOPO_DIR/err"
is "$?" 3 "unreachable store: exit 3"
like "$(grep -v 'list.txt' "$TOPO_DIR/err")" "cannot open DB /proc/nonexistent/h.db" \
    "unreachable store: says which file"

# --- option values
"$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --rate abc "$TOPO_DIR/list.txt" >/dev/null \
    2>"$TOPO_DIR/err"
is "$?" 3 "bad --rate: exit 3"
like "$(cat "$TOPO_DIR/err")" "--rate" "bad --rate: named"
"$BIN" --format xml scan "${common[@]}" "$TOPO_DIR/list.txt" >/dev/null \
    2>"$TOPO_DIR/err"
is "$?" 3 "unknown format: exit 3"
"$BIN" scan --method 1 "$TOPO_DIR/list.txt" >/dev/null 2>"$TOPO_DIR/err"
is "$?" 3 "no domain: exit 3"
like "$(cat "$TOPO_DIR/err")" "no tunnel domain" "no domain: says so"
"$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --key-file "$TOPO_DIR/none.txt" \
    "$TOPO_DIR/list.txt" >/dev/null 2>"$TOPO_DIR/err"
is "$?" 3 "missing key file: exit 3"

printf '%s:%s\n' "$good" "$P" >"$TOPO_DIR/one.txt"

# --- wrong key
printf 'ffffffffffffffffffffffffffffffff\n' >"$TOPO_DIR/wrong.key"
out=$("$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --key-file "$TOPO_DIR/wrong.key" --all \
    "$TOPO_DIR/one.txt" 2>/dev/null)
rc=$?
is "$rc" 2 "wrong key: nobody passes, exit 2"
like "$out" "mtu +fail +key_or_method_wrong" \
    "wrong key: mtu stage says key_or_method_wrong"
like "$out" "diagnosis: stage mtu passed nobody" "wrong key: diagnosis"
like "$out" "cannot decrypt" "wrong key: diagnosis names the cause"

# --- wrong method
out=$("$BIN" scan "${common[@]}" "${ni[@]}" --method 5 --key-file \
    "$KEYFILE" --format jsonl "$TOPO_DIR/one.txt" 2>/dev/null)
is "$(jq -r 'select(.type=="result") | .stage + " " + .reason' <<<"$out")" \
    "mtu key_or_method_wrong" "wrong method: key_or_method_wrong at mtu"

# --- no key: stop after reach
out=$("$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --format jsonl "$TOPO_DIR/one.txt" \
    2>"$TOPO_DIR/err")
is "$(jq -r 'select(.type=="result") | .stage + " " + .verdict' <<<"$out")" \
    "reach ok" "no key: reach passes and the scan stops there"

# --- interception: a probe address that does answer
out=$("$BIN" scan "${common[@]}" "${m1[@]}" --key-file \
    "$KEYFILE" --intercept-probe "$good:$P" --intercept-probe 127.0.0.254:9 \
    --format jsonl "$TOPO_DIR/one.txt" 2>"$TOPO_DIR/err")
rc=$?
is "$(jq -r 'select(.type=="check" and .kind=="intercept") | .verdict' \
    <<<"$out" | sort | tr '\n' ' ')" "ok warn " \
    "intercept: the answering probe address is flagged"
like "$(cat "$TOPO_DIR/err")" "env: warn: .*intercepted" \
    "intercept: said before the scan"
# The farm's resolvers are loopback addresses on another port: UDP/53
# interception cannot touch them (test-scan-env.sh has ones it can).
is "$(jq -r 'select(.type=="result") | .evidence' <<<"$out" |
    grep -c 'path: UDP/53 intercepted')" 0 \
    "intercept: loopback results are not marked"
is "$rc" 0 "intercept: exit 0 when no listed resolver can be affected"

# --- dead server: direct check fails; resolvers see no server
fport=$(free_port --udp)
out=$("$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --key-file "$KEYFILE" --server \
    127.0.0.1:$fport --format jsonl "$TOPO_DIR/one.txt" 2>/dev/null)
is "$(jq -r 'select(.type=="check" and .kind=="server") | .verdict + " " +
    .reason' <<<"$out")" "fail server_down" "dead server: env check fails"
like "$(jq -r 'select(.type=="result") | .evidence' <<<"$out")" \
    "^env: tunnel server silent directly; " "dead server: results are marked"

# Good resolvers whose upstream knows nothing of the tunnel zone.
topo_spawn OTHER "$(topo_tool farm-upstream)" --zone other.example
topo_spawn NOSRV "$(topo_tool resolver-farm)" --upstream 127.0.0.1:$OTHER_PORT \
    --truth "$TOPO_DIR/nosrv.truth" --seed 3 --base 127.6.0.0 \
    --gen good=3
jq -r --arg p "$NOSRV_PORT" '.addr + ":" + $p' "$TOPO_DIR/nosrv.truth" \
    >"$TOPO_DIR/nosrv.txt"
out=$("$BIN" scan "${common[@]}" "${m1[@]}" "${ni[@]}" --key-file "$KEYFILE" --server \
    127.0.0.1:$fport "$TOPO_DIR/nosrv.txt" 2>/dev/null)
rc=$?
is "$rc" 2 "server down behind good resolvers: exit 2"
like "$out" "diagnosis: stage reach passed nobody" \
    "server down: diagnosis"
like "$out" "3 × nxdomain" "server down: the reasons are counted"
like "$out" "direct query to the server: .*does not answer" \
    "server down: diagnosis carries the direct-query evidence"
done_testing
