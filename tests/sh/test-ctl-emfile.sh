#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-ctl-emfile.sh — issue 19 item 5: a real `serve` under `ulimit -n 24`
# whose descriptors are all taken by control-socket clients. The next
# client must get a one-line refusal at once (the engine sheds it through
# its reserve descriptor) instead of waiting in the backlog while the
# level-triggered loop retries accept4 without end; while a client keeps
# knocking the engine makes a handful of accept4 calls, not thousands
# (counted with strace when it is there; the engine's CPU time over the
# same window is printed as a figure); and once the clients leave, status
# works again.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/topo.sh"
BIN=${MDNS_BIN:?}
PY=/usr/bin/python3
topo_init || exit 1
D=$TOPO_DIR
printf '5f3c8e1a9b2d47e6c0f18a3b5d7e9c21' >"$D/encrypt_key.txt"
cat >"$D/server_config.toml" <<EOC
DOMAIN = ["t.example"]
UDP_HOST = "127.0.0.1"
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY_FILE = "encrypt_key.txt"
EOC
SOCK=$D/run/server.sock
topo_bg SRV bash -c 'ulimit -n 24 && exec "$@"' _ \
    "$BIN" serve --config "$D/server_config.toml" --listen 127.0.0.1:0 \
    --control "$SOCK"
for _ in $(seq 100); do
	grep -q '^listening ' "$D/SRV.out" && [ -S "$SOCK" ] && break
	sleep 0.05
done
[ -S "$SOCK" ]
ok $? "serve up with 24 descriptors"

# Clients that hold their connections until the engine has no descriptor
# left, then one more that keeps waiting (as a user's status would).
cat >"$D/hold.py" <<'PY'
import socket, sys, time
path, hold = sys.argv[1], float(sys.argv[2])
held, reply = [], None
for i in range(200):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(path)
    try:
        s.sendall(b'{"cmd":"version"}\n')
    except OSError:
        pass  # shed before our request: its reply is still there
    try:
        line = s.makefile("r").readline()
    except OSError:
        line = ""
    if '"ok":true' in line:
        held.append(s)
        continue
    reply = line.strip() or "(no reply within 3 s)"
    break
print("held %d" % len(held))
print("reply %s" % reply, flush=True)
w = socket.socket(socket.AF_UNIX)
w.connect(path)
try:
    w.sendall(b'{"cmd":"status"}\n')
except OSError:
    pass
print("measure", flush=True)
time.sleep(hold)
# A flood for the same time (a figure only): connect, read, close.
print("flood", flush=True)
end, n, told = time.time() + hold, 0, 0
while time.time() < end:
    f = socket.socket(socket.AF_UNIX)
    f.settimeout(0.2)
    try:
        f.connect(path)
        n += 1
        told += "out of file" in f.makefile("r").readline()
    except OSError:
        pass
    f.close()
print("done %d connections, %d told" % (n, told), flush=True)
PY
# The hold outlasts the 2 s strace window by 2 s, so a slow strace attach
# on a loaded machine never counts the flood that follows.
topo_bg HOLD $PY "$D/hold.py" "$SOCK" 4
for _ in $(seq 200); do
	grep -q '^measure' "$D/HOLD.out" && break
	sleep 0.05
done
diag "$(grep '^held' "$D/HOLD.out")"
like "$(grep '^reply' "$D/HOLD.out")" "out of file descriptors" \
    "out of descriptors: the next client is told so at once"

pid=$SRV_PID
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
t0=$(ticks "$pid")
if command -v strace >/dev/null; then
	timeout -s INT 2 strace -c -e trace=accept4 -p "$pid" -o "$D/strace" \
	    2>/dev/null
	n=$(awk '$NF == "accept4" {print $4}' "$D/strace")
	n=${n:-0}
	ok $([ "$n" -lt 100 ]; echo $?) \
	    "accept4 calls in 2 s with a client waiting: $n (a spin makes thousands)"
else
	sleep 2
	ok 0 "# SKIP no strace to count accept4 calls"
fi
t1=$(ticks "$pid")
diag "engine CPU over that window: $((t1 - t0)) ticks of $(getconf CLK_TCK)/s"
for _ in $(seq 100); do
	grep -q '^flood' "$D/HOLD.out" && break
	sleep 0.05
done
t0=$(ticks "$pid")
for _ in $(seq 100); do
	grep -q '^done' "$D/HOLD.out" && break
	sleep 0.05
done
t1=$(ticks "$pid")
diag "flood: $(grep '^done' "$D/HOLD.out"); engine CPU $((t1 - t0)) ticks"
topo_stop "$HOLD_PID"
out=$("$BIN" status --server --control "$SOCK" 2>&1)
is "$?" 0 "once the clients leave, status works again"
like "$out" "phase +serving" "  with the status"
done_testing
