#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-ctl-security.sh — the control socket against local users, with real
# `serve` engines of several uids, in a private mount namespace whose /tmp
# and /run are fresh tmpfs (nothing of the host is touched):
#   * one path for cron and people (issue 11 point 8): an engine started
#     from a login shell (XDG_RUNTIME_DIR=/run/user/UID) is found by a
#     `status` run as from cron (env -i), and the other way round, for a
#     user and for root; -v and the JSON say which socket was used;
#   * a planted directory (issue 19 item 8): uid 65534 makes
#     /tmp/mdns-doctor-4242/ first and serves a fake status full of
#     terminal escapes there; `status` of uid 4242 does not trust it
#     (directory owner, SO_PEERCRED), `serve` of uid 4242 listens in a
#     safe place and says where, or refuses to start when there is none;
#   * every string from the socket is sanitised in `status` (a fake engine
#     of our own uid sending escapes), and a fake engine of another uid
#     behind an explicit --control is not trusted;
#   * `serve --control /tmp/x.sock` leaves /tmp's mode alone;
#   * two engines on the default place still both run.
# Needs root, setpriv and unshare (mount namespaces); skipped otherwise.
if [ -z "${CTLSEC_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
	    ! unshare -m true 2>/dev/null; then
		echo "1..0 # SKIP needs root, setpriv and a mount namespace"
		exit 0
	fi
	CTLSEC_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 1
mount -t tmpfs -o mode=755 tmpfs /run || exit 1
export TMPDIR=/tmp
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/topo.sh"
BIN=${MDNS_BIN:?}
PY=/usr/bin/python3
topo_init || exit 1
W=$TOPO_DIR
chmod 755 "$W"
V=4242     # the user
A=65534    # another local user
ESC=$(printf '\033')

printf '5f3c8e1a9b2d47e6c0f18a3b5d7e9c21' >"$W/encrypt_key.txt"
cat >"$W/server_config.toml" <<EOC
DOMAIN = ["t.example"]
UDP_HOST = "127.0.0.1"
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY_FILE = "encrypt_key.txt"
EOC
chmod 644 "$W/encrypt_key.txt" "$W/server_config.toml"
mkdir -m 777 "$W/logs"

# A fake engine: answers every request with a status whose strings carry
# colour, title and clear-screen escapes.
cat >"$W/fake.py" <<'PY'
import json, os, socket, sys
path = sys.argv[1]
st = {"role": "server", "version": "fake", "pid": 1, "uptime_ms": 1,
      "phase": "serving\x1b[31mPWNED\x1b]0;owned\x07",
      "domains": ["t.example\x1b[2J"], "sessions": {"active": 7}}
line = (json.dumps({"ok": True, "schema": 1, "cmd": "status",
                    "status": st}) + "\n").encode()
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.recv(4096)
        c.sendall(line)
    except OSError:
        pass
    c.close()
PY
chmod 644 "$W/fake.py"

# as UID ENV... CMD: run CMD as UID with only the environment given
# (foreground only: in the background $! would be a subshell).
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
	    env -i PATH=/usr/bin:/bin "$@"
}

# start NAME UID ENV... -- serve ARGS: a real server in the background.
start() {
	local name=$1 uid=$2 i pid
	shift 2
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	: >"$W/logs/$name.out"
	: >"$W/logs/$name.err"
	chmod 666 "$W/logs/$name.out" "$W/logs/$name.err"
	# setpriv itself in the background: $! is the engine (exec chain).
	setpriv --reuid="$uid" --regid="$uid" --clear-groups \
	    env -i PATH=/usr/bin:/bin "${envs[@]}" \
	    "$BIN" serve --config "$W/server_config.toml" --listen 127.0.0.1:0 "$@" \
	    >"$W/logs/$name.out" 2>"$W/logs/$name.err" </dev/null &
	pid=$!
	printf -v "${name}_PID" '%s' $pid
	topo_track $pid
	for i in $(seq 100); do
		grep -q '^listening ' "$W/logs/$name.out" && return 0
		_topo_alive $pid || break
		sleep 0.05
	done
	return 1
}

# wait_sock PATH: until a socket file is there (5 s).
wait_sock() {
	local i
	for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	return 1
}

# --- issue 11 point 8: one path for cron and people ---------------------
mkdir -p /run/user/$V
chown $V:$V /run/user/$V
chmod 700 /run/user/$V
start S1 $V XDG_RUNTIME_DIR=/run/user/$V -- ||
	diag "serve: $(cat "$W/logs/S1.err")"
wait_sock /run/user/$V/mdns-doctor/server.sock
ok $? "login-shell engine listens in /run/user/$V/mdns-doctor"
out=$(as $V "$BIN" status --server 2>&1); rc=$?
is "$rc" 0 "env -i status (cron) finds it: exit 0"
like "$out" "phase +serving" "  and reads its status"
j=$(as $V "$BIN" -v status --server --format json 2>"$W/v.err")
is "$(jq -r '.control.source + " " + .control.path' <<<"$j")" \
    "run-user /run/user/$V/mdns-doctor/server.sock" \
    "JSON says which socket and why"
like "$(cat "$W/v.err")" \
    "control socket /run/user/$V/mdns-doctor/server.sock \(run-user\)" \
    "-v says it on stderr"
topo_stop "$S1_PID"

rm -rf /run/user/$V
start S2 $V -- || diag "serve: $(cat "$W/logs/S2.err")"
wait_sock /tmp/mdns-doctor-$V/server.sock
ok $? "cron engine (env -i, no /run/user/$V) listens in /tmp/mdns-doctor-$V"
j=$(as $V XDG_RUNTIME_DIR=/run/user/$V "$BIN" status --server --format json)
is "$?:$(jq -r .control.source <<<"$j")" "0:tmp" \
    "login-shell status finds the cron engine"
topo_stop "$S2_PID"
rm -rf /tmp/mdns-doctor-$V

mkdir -p -m 700 /run/user/0
start S3 0 XDG_RUNTIME_DIR=/run/user/0 -- ||
	diag "serve: $(cat "$W/logs/S3.err")"
wait_sock /run/user/0/mdns-doctor/server.sock
j=$(env -i PATH=/usr/bin:/bin "$BIN" status --server --format json)
is "$?:$(jq -r .control.source <<<"$j")" "0:run-user" \
    "root: env -i status finds the login-shell engine"
topo_stop "$S3_PID"
rm -rf /run/user/0
start S4 0 -- || diag "serve: $(cat "$W/logs/S4.err")"
wait_sock /run/mdns-doctor/server.sock
# Two engines on the default place: the second runs without a socket.
start S5 0 -- || diag "serve: $(cat "$W/logs/S5.err")"
sleep 0.3
ok $(_topo_alive "$S5_PID"; echo $?) "a second engine on the default place runs"
like "$(cat "$W/logs/S5.err")" "no control socket: another engine is listening" \
    "  and says it has no control socket"
mkdir -m 700 /run/user/0 # a login session begins
j=$(XDG_RUNTIME_DIR=/run/user/0 "$BIN" status --server --format json)
is "$?:$(jq -r .control.source <<<"$j")" "0:run" \
    "root: login-shell status finds the cron engine in /run/mdns-doctor"
is "$(jq .pid <<<"$j")" "$S4_PID" "  the first of the two engines"
topo_stop "$S5_PID"
topo_stop "$S4_PID"
rm -rf /run/user/0

# --- issue 19 item 8: a directory planted by another user ---------------
as $A mkdir -m 777 /tmp/mdns-doctor-$V
setpriv --reuid=$A --regid=$A --clear-groups \
    $PY "$W/fake.py" /tmp/mdns-doctor-$V/server.sock >"$W/logs/fake.out" 2>&1 &
topo_track $!
wait_sock /tmp/mdns-doctor-$V/server.sock
out=$(as $V "$BIN" status --server 2>"$W/p.err"); rc=$?
err=$(cat "$W/p.err")
ok $([ "$rc" -ne 0 ]; echo $?) "planted socket: status fails (exit $rc)"
like "$err" "mdns-doctor-$V: owned by uid $A, not $V" \
    "  names the directory and its owner"
like "$err" "not trusted" "  and says it is not trusted"
ok $(case "$out$err" in *"$ESC"* | *PWNED*) echo 1 ;; *) echo 0 ;; esac) \
    "  nothing of the fake status is printed"

mkdir -m 700 "$W/home$V"
chown $V:$V "$W/home$V"
start S6 $V HOME="$W/home$V" -- || diag "serve: $(cat "$W/logs/S6.err")"
safe=$W/home$V/.local/state/mdns-doctor/server.sock
wait_sock "$safe"
ok $? "serve listens in a safe place instead"
like "$(cat "$W/logs/S6.err")" \
    "owned by uid $A.*listening on $safe instead" "  and says where"
j=$(as $V HOME="$W/home$V" "$BIN" status --server --format json)
is "$?:$(jq -r '.control.source + " " + .phase' <<<"$j")" "0:state serving" \
    "status finds the real engine there, not the fake"
topo_stop "$S6_PID"

setpriv --reuid=$V --regid=$V --clear-groups env -i PATH=/usr/bin:/bin \
    "$BIN" serve --config "$W/server_config.toml" --listen 127.0.0.1:0 \
    >/dev/null \
    2>"$W/n.err" </dev/null &
npid=$!
topo_track $npid
for _ in $(seq 100); do _topo_alive $npid || break; sleep 0.05; done
if _topo_alive $npid; then
	topo_stop $npid
	rc=running
else
	wait $npid
	rc=$?
fi
ok $([ "$rc" != running ] && [ "$rc" -ne 0 ]; echo $?) \
    "no safe place (no home): serve refuses to start (exit $rc)"
like "$(cat "$W/n.err")" "no safe place for the control socket.*--control" \
    "  and says what to do"

# --- sanitising, and SO_PEERCRED behind an explicit --control -----------
mkdir -m 700 "$W/own"
$PY "$W/fake.py" "$W/own/fake.sock" >"$W/logs/own.out" 2>&1 &
topo_track $!
wait_sock "$W/own/fake.sock"
out=$("$BIN" status --server --control "$W/own/fake.sock"); rc=$?
is "$rc" 0 "a fake engine of our own uid is read"
ok $(case "$out" in *"$ESC"* | *$'\a'*) echo 1 ;; *) echo 0 ;; esac) \
    "  with no escape or bell reaching the terminal"
like "$out" 'phase +serving\?\[31mPWNED\?\]0;owned\?' \
    "  each control character shown as ?"
j=$("$BIN" status --server --control "$W/own/fake.sock" --format json)
ok $(case "$j" in *"$ESC"*) echo 1 ;; *) echo 0 ;; esac) \
    "  JSON carries it escaped, not raw"
is "$(jq -r .phase <<<"$j")" $'serving\033[31mPWNED\033]0;owned\a' \
    "  and exact (a JSON reader gets the escapes back)"

mkdir -m 777 "$W/shared"
setpriv --reuid=$A --regid=$A --clear-groups \
    $PY "$W/fake.py" "$W/shared/fake.sock" >"$W/logs/f2.out" 2>&1 &
topo_track $!
wait_sock "$W/shared/fake.sock"
out=$("$BIN" status --server --control "$W/shared/fake.sock" 2>&1); rc=$?
is "$rc" 3 "--control at another uid's socket: exit 3 (no engine of ours)"
like "$out" "runs as uid $A, not 0: not trusted" "  SO_PEERCRED names it"

# --- an explicit --control directly in /tmp leaves /tmp alone -----------
start S7 0 -- --control /tmp/x.sock || diag "serve: $(cat "$W/logs/S7.err")"
is "$(stat -c %a /tmp)" 1777 "serve --control /tmp/x.sock: /tmp stays 1777"
topo_stop "$S7_PID"

done_testing
