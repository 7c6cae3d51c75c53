#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-emfile.sh — issue 19 item 5, the tunnel's side: descriptor
# exhaustion must neither spin the CPU nor take the engine's control away.
#
# 1. `connect` under `ulimit -n 40`: a local user opens SOCKS connections
#    until the client has no descriptor left and one more waits. The
#    client's SOCKS listener accepts through net_acceptor (common/net.c):
#    CPU over 2 s stays near idle (a level-triggered accept4 loop spun at
#    100 %: /proc/PID/stat utime+stime), and once the holders leave the
#    proxy carries data again.
# 2. `serve` under `ulimit -n 100`: 60 tunnelled connections to the origin
#    at once. The server opens at most its cap of upstream connections
#    (descriptor limit less 64 kept for itself), refuses the rest with a
#    SOCKS failure, counts them, and its control socket still answers.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR
PY=/usr/bin/python3
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

eng_origin
ok $? "http fixture on $ORIGIN"
ENG_SERVE_ARGS=(--control "$D/srv.sock")
ENG_EXEC=(bash -c 'ulimit -n 100 && exec "$@"' _)
eng_serve SRV
ok $? "server under ulimit -n 100 on $SRV_ADDR"
ENG_EXEC=(bash -c 'ulimit -n 40 && exec "$@"' _)
eng_connect A "$SRV_ADDR"
ok $? "client under ulimit -n 40"
ENG_EXEC=()
CPID=$(pgrep -P "$A_PID" -x mdns-doctor || echo "$A_PID")

# --- 1. the client's SOCKS listener ---
cat >"$D/hold.py" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = []
for i in range(60):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, int(port)))
    except OSError:
        break
    held.append(s)
print("held %d" % len(held), flush=True)
time.sleep(float(sys.argv[2]))
print("done", flush=True)
PY
topo_bg HOLD $PY "$D/hold.py" "$A_PROXY" 4
eng_wait "$D/HOLD.out" '^held' 10
diag "$(grep '^held' "$D/HOLD.out") connections opened to the SOCKS port"
sleep 0.5
t0=$(ticks "$CPID")
sleep 2
t1=$(ticks "$CPID")
ok $([ $((t1 - t0)) -lt 40 ]; echo $?) \
    "client out of descriptors, one waiting: $((t1 - t0)) CPU ticks in 2 s (a spin is ~$((2 * $(getconf CLK_TCK))))"
eng_wait "$D/HOLD.out" '^done' 10
topo_stop "$HOLD_PID"
sleep 0.5
sha=$(curl -s --max-time 20 --socks5-hostname "$A_PROXY" \
    "http://$ORIGIN/bytes/20000?seed=5" | sha256sum | cut -c1-64)
is "$sha" "$(fix_sha 20000 5)" "the proxy carries data again afterwards"

# --- 2. the server's upstream connection cap ---
cat >"$D/many.py" <<'PY'
import socket, struct, sys, time
proxy, origin, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ph, pp = proxy.rsplit(":", 1)
oh, op = origin.rsplit(":", 1)
socks, ok, fail = [], 0, 0
for i in range(n):
    s = socket.socket()
    s.settimeout(30)
    s.connect((ph, int(pp)))
    s.sendall(b"\x05\x01\x00")
    s.recv(2)
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(oh) + struct.pack(">H", int(op)))
    socks.append(s)
for s in socks:
    try:
        r = s.recv(10)
    except OSError:
        r = b""
    if len(r) >= 2 and r[1] == 0:
        ok += 1
    else:
        fail += 1
print("ok %d fail %d" % (ok, fail), flush=True)
time.sleep(float(sys.argv[4]))
PY
# the client itself needs descriptors for these: a second client, no limit
eng_connect B "$SRV_ADDR"
ok $? "second client (no descriptor limit)"
topo_bg MANY $PY "$D/many.py" "$B_PROXY" "$ORIGIN" 60 6
eng_wait "$D/MANY.out" '^ok' 60
res=$(grep '^ok' "$D/MANY.out")
diag "60 tunnelled connections at once: $res"
nok=$(echo "$res" | awk '{print $2}')
nfail=$(echo "$res" | awk '{print $4}')
ok $([ "${nok:-0}" -ge 20 ] && [ "${nok:-0}" -le 36 ] && [ "${nfail:-0}" -gt 0 ]; echo $?) \
    "server opened at most its cap (100 - 64 = 36): $nok connected, $nfail refused"
st=$("$BIN" status --server --control "$D/srv.sock" --format json 2>&1)
ok $? "server's control socket answers meanwhile"
ref=$(printf '%s' "$st" | jq -r '.guard.conn_refused' 2>/dev/null)
up=$(printf '%s' "$st" | jq -r '.guard.upstream_conns' 2>/dev/null)
ok $([ "${ref:-0}" -gt 0 ] && [ "${up:-99}" -le 36 ]; echo $?) \
    "status: conn_refused $ref, upstream_conns $up"
topo_stop "$MANY_PID"
done_testing
