#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-serve-ctl.sh — the server's control socket with the real `serve`:
# status (text and JSON), metrics accepted by promtool, counters that only
# grow, permissions (0700 dir, 0600 socket), another uid refused by
# SO_PEERCRED, a second server on the same socket refused, `stop`.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/net.sh"
BIN=${MDNS_BIN:?}
topo_init
D=$TOPO_DIR
printf '5f3c8e1a9b2d47e6c0f18a3b5d7e9c21' >"$D/encrypt_key.txt"
cat >"$D/server_config.toml" <<EOC
DOMAIN = ["t.example"]
UDP_HOST = "127.0.0.1"
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY_FILE = "encrypt_key.txt"
EOC
SOCK=$D/run/server.sock
"$BIN" serve --config "$D/server_config.toml" --listen 127.0.0.1:0 \
    --control "$SOCK" >"$D/serve.out" 2>"$D/serve.err" &
SRV_PID=$!
topo_track $SRV_PID
for _ in $(seq 100); do
	grep -q '^listening ' "$D/serve.out" 2>/dev/null && [ -S "$SOCK" ] && break
	sleep 0.05
done
port=$(sed -n 's/^listening 127.0.0.1://p' "$D/serve.out")
[ -n "$port" ]; ok $? "serve listening on $port with a control socket"

is "$(stat -c %a "$D/run")" 700 "socket directory is 0700"
is "$(stat -c %a "$SOCK")" 600 "socket is 0600"

out=$("$BIN" status --control "$SOCK"); rc=$?
is "$rc" 0 "status exits 0 for a serving server"
like "$out" "phase +serving" "text status shows the phase"

j1=$("$BIN" status --control "$SOCK" --format json)
is "$(jq -r .role <<<"$j1")" server "JSON status: role server"
is "$(jq -r '.domains[0]' <<<"$j1")" t.example "JSON status: domains"
for k in sessions.active queries.total queries.nxdomain drops.bad_cookie \
    traffic.bytes_down streams.filtered; do
	v=$(jq -r ".$k | type" <<<"$j1")
	is "$v" number "JSON status has $k"
done

# Real traffic: an out-of-zone name (NXDOMAIN) and an undecodable in-zone
# name (NODATA) move the counters.
dnsq --server "127.0.0.1:$port" --type TXT www.example.org >/dev/null
dnsq --server "127.0.0.1:$port" --type TXT abcdefghijkl.t.example >/dev/null
j2=$("$BIN" status --control "$SOCK" --format json)
n1=$(jq .queries.total <<<"$j1"); n2=$(jq .queries.total <<<"$j2")
ok $(( n2 >= n1 + 2 ? 0 : 1 )) "queries counted ($n1 -> $n2)"
is "$(jq .queries.nxdomain <<<"$j2")" 1 "NXDOMAIN counted"
is "$(jq .queries.nodata <<<"$j2")" 1 "NODATA counted"
grow=0
for k in queries.total queries.tunnel queries.nxdomain queries.nodata \
    sessions.opened streams.opened traffic.bytes_up traffic.bytes_down; do
	a=$(jq ".$k" <<<"$j1"); b=$(jq ".$k" <<<"$j2")
	[ "$b" -ge "$a" ] || { grow=1; diag "$k went $a -> $b"; }
done
is "$grow" 0 "counters only grow between reads"

"$BIN" metrics --control "$SOCK" >"$D/metrics.txt"; rc=$?
is "$rc" 0 "metrics exits 0"
promtool check metrics <"$D/metrics.txt" >"$D/promtool.out" 2>&1
ok $? "promtool accepts the metrics"
like "$(cat "$D/metrics.txt")" 'mdns_server_answers_total\{kind="nxdomain"\} 1' \
    "metrics carry the answer counters"

# A second server may not take over a live socket.
err=$("$BIN" serve --config "$D/server_config.toml" --listen 127.0.0.1:0 \
    --control "$SOCK" 2>&1 >/dev/null); rc=$?
is "$rc" 2 "second server on a live control socket exits 2"
like "$err" "another engine is listening" "and says why"

# Another uid: open up the modes so that only SO_PEERCRED stands between.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 0711 "$D"; chmod 0755 "$D/run"; chmod 0666 "$SOCK"
	err=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$BIN" status --control "$SOCK" 2>&1); rc=$?
	is "$rc" 3 "another uid: status fails (no engine of ours: exit 3)"
	like "$err" "permission denied: peer uid" "another uid refused by the engine"
	chmod 0600 "$SOCK"; chmod 0700 "$D/run" "$D"
else
	ok 0 "# SKIP not root or no setpriv"
	ok 0 "# SKIP not root or no setpriv"
fi

# Raw requests over the socket: a malformed one gets an error reply and
# the connection stays usable; then stop.
ctl_raw() {
	python3 - "$SOCK" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile()
for req in sys.argv[2:]:
    s.sendall(req.encode() + b"\n"); print(f.readline().strip())
PY
}
out=$(ctl_raw '{"cmd":' '{"cmd":"version"}')
like "$(sed -n 1p <<<"$out")" '"ok":false.*malformed JSON' \
    "malformed request: error reply"
like "$(sed -n 2p <<<"$out")" '"ok":true.*"role":"server"' \
    "same connection still served after it"
like "$(ctl_raw '{"cmd":"stop"}')" '"stopping":true' "stop acknowledged"
for _ in $(seq 100); do kill -0 $SRV_PID 2>/dev/null || break; sleep 0.05; done
kill -0 $SRV_PID 2>/dev/null; is $? 1 "stop ends the server"
wait $SRV_PID; is $? 0 "server exits 0 after stop"
[ ! -e "$SOCK" ]; ok $? "socket file removed on exit"
done_testing
