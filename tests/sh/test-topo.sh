#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-topo.sh — the topology helper: spawn waits for "port=N" and exports
# it; cleanup kills everything and removes the scratch dir when a test
# exits normally, fails, or is killed; the leftover check notices a stray
# fixture process and a stray scratch dir.
cd "$(dirname "$0")/../.." || exit 1
export MDNS_TOP=${MDNS_TOP:-$PWD}
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
like "$TOPO_DIR" "/mdns-test\.[0-9]+\.[A-Za-z0-9]+$" "scratch dir has the prefix"
ok "$([ -d "$TOPO_DIR" ]; echo $?)" "scratch dir exists"

topo_spawn A "$(topo_tool auth-responder)" --zone t.example
ok $? "spawn returns 0"
like "${A_PORT:-}" "^[0-9]+$" "A_PORT exported ($A_PORT)"
ok "$(_topo_alive "$A_PID"; echo $?)" "A_PID is alive"
out=$("$(topo_tool dnsq)" --server 127.0.0.1:$A_PORT --type TXT x.t.example)
like "$out" "ok:x.t.example" "the spawned fixture answers on A_PORT"

topo_spawn B false
ok "$([ $? -ne 0 ]; echo $?)" "spawn of a command that exits fails"

# A child test that fails half-way, and one killed by SIGTERM: both must
# leave nothing behind.
child_script='
	. tests/lib/topo.sh
	topo_init
	topo_spawn R "$(topo_tool auth-responder)" --zone t.example || exit 9
	echo "$R_PID $TOPO_DIR" >"$2"
	case $1 in
	fail) exit 1 ;;
	errexit) set -e; false ;;
	sleep) sleep 30 & wait $! ;;
	esac'
child() { # child MODE STATEFILE
	bash -c "$child_script" child "$@"
}
for mode in fail errexit; do
	child $mode "$TOPO_DIR/state"
	rc=$?
	read -r pid dir <"$TOPO_DIR/state"
	is "$rc" 1 "$mode: child's exit status kept"
	ok "$(! _topo_alive "$pid"; echo $?)" "$mode: its fixture is gone"
	ok "$([ ! -e "$dir" ]; echo $?)" "$mode: its scratch dir is gone"
done
rm -f "$TOPO_DIR/state"
bash -c "$child_script" child sleep "$TOPO_DIR/state" &
cpid=$!
for ((i = 0; i < 500; i++)); do
	[ -s "$TOPO_DIR/state" ] && break
	sleep 0.02
done
read -r pid dir <"$TOPO_DIR/state"
kill -TERM $cpid
wait $cpid
is "$?" 143 "SIGTERM: child exits 143"
ok "$(! _topo_alive "$pid"; echo $?)" "SIGTERM: its fixture is gone"
ok "$([ ! -e "$dir" ]; echo $?)" "SIGTERM: its scratch dir is gone"

# The leftover check itself.
topo_leftovers >/dev/null
is "$?" 0 "no leftovers to start with"
setsid "$(topo_tool auth-responder)" --zone t.example >/dev/null 2>&1 &
stray=$!
stray_dir=$(mktemp -d "${TMPDIR:-/tmp}/mdns-test.$(topo_tag).XXXXXX")
for ((i = 0; i < 100; i++)); do
	[ "$(readlink /proc/$stray/exe)" = "$(topo_tool auth-responder)" ] &&
		break
	sleep 0.02
done
report=$(topo_leftovers)
is "$?" 1 "stray process and dir are noticed"
like "$report" "leftover fixture process $stray" "report names the process"
like "$report" "leftover scratch dir $stray_dir" "report names the dir"
kill $stray
wait $stray 2>/dev/null
rmdir "$stray_dir"
topo_leftovers >/dev/null
is "$?" 0 "clean again"

apid=$A_PID
tdir=$TOPO_DIR
topo_cleanup
ok "$(! _topo_alive "$apid"; echo $?)" "cleanup stops spawned fixtures"
ok "$([ ! -e "$tdir" ]; echo $?)" "cleanup removes the scratch dir"
done_testing
