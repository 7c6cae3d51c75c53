# SPDX-License-Identifier: MIT
# tests/lib/topo.sh — start a set of fixture processes for one shell test,
# export where they listen, and tear all of it down when the test ends,
# whichever way it ends. Source it (bash), then:
#
#   topo_init                     scratch dir $TOPO_DIR, traps EXIT INT TERM
#   topo_spawn NAME cmd [args]    start cmd in the background, wait for the
#                                 "port=N" line it prints on stdout (10 s),
#                                 export NAME_PORT and NAME_PID; stdout and
#                                 stderr go to $TOPO_DIR/NAME.out / .err
#   topo_bg NAME cmd [args]       start and record, no waiting (daemons that
#                                 print nothing: net.sh checks them with a
#                                 real query); sets NAME_PID
#   topo_track PID                record a process started some other way
#   topo_stop PID                 stop one recorded process now
#   topo_cleanup                  kill everything recorded (TERM, then KILL
#                                 after 3 s), reap it, remove $TOPO_DIR
#   topo_leftovers                list fixture processes, scratch dirs and
#                                 network namespaces (tests/lib/netns.sh)
#                                 of this checkout still alive, other than
#                                 the caller's own; status 1 if any
#   topo_tool NAME                path of build/tools/NAME
#
# A test must not replace the EXIT trap (call topo_cleanup from its own
# trap if it needs one). Scratch dirs are named
# ${TMPDIR:-/tmp}/mdns-test.<checkout tag>.XXXXXX, the tag being a checksum
# of the checkout path, so topo_leftovers only sees this checkout's debris
# even while other checkouts run their suites on the same machine.

_topo_pids=()
TOPO_DIR=${TOPO_DIR:-}
TOPO_TOP=${MDNS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TOPO_BUILD=$TOPO_TOP/${BUILD:-build}

topo_tag() {
	printf '%s' "$TOPO_TOP" | cksum | cut -d' ' -f1
}

topo_tool() {
	printf '%s\n' "$TOPO_BUILD/tools/$1"
}

topo_init() {
	TOPO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mdns-test.$(topo_tag).XXXXXX") ||
		return 1
	export TOPO_DIR
	trap topo_cleanup EXIT
	trap 'topo_cleanup; trap - EXIT; exit 130' INT
	trap 'topo_cleanup; trap - EXIT; exit 143' TERM
}

# Is PID a live process (not gone, not a zombie)?
_topo_alive() {
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

topo_track() {
	_topo_pids+=("$1")
}

topo_bg() {
	local name=$1
	shift
	[ -n "$TOPO_DIR" ] || { echo "# topo: topo_init first" >&2; return 1; }
	# Empty the output files here, not only in the child: topo_spawn must
	# not read the "port=N" of an earlier process of the same name.
	: >"$TOPO_DIR/$name.out"
	: >"$TOPO_DIR/$name.err"
	"$@" >"$TOPO_DIR/$name.out" 2>"$TOPO_DIR/$name.err" </dev/null &
	local pid=$!
	topo_track "$pid"
	printf -v "${name}_PID" '%s' "$pid"
	export "${name}_PID"
}

topo_spawn() {
	local name=$1 pid port="" i
	topo_bg "$@" || return 1
	pid=${name}_PID
	pid=${!pid}
	for ((i = 0; i < 500; i++)); do
		port=$(sed -n 's/^port=\([0-9][0-9]*\)$/\1/p' \
		    "$TOPO_DIR/$name.out" 2>/dev/null | head -1)
		[ -n "$port" ] && break
		if ! _topo_alive "$pid"; then
			echo "# topo: $name exited before printing port=N:" \
			    "$(tail -3 "$TOPO_DIR/$name.err" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.02
	done
	if [ -z "$port" ]; then
		echo "# topo: $name printed no port=N within 10 s"
		return 1
	fi
	printf -v "${name}_PORT" '%s' "$port"
	export "${name}_PORT"
}

topo_stop() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		_topo_alive "$p" || break
		sleep 0.02
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	return 0
}

topo_cleanup() {
	local p
	# Runs from traps, possibly under "set -e": nothing here may abort it.
	set +e
	for p in "${_topo_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_topo_pids[@]}"; do
		topo_stop "$p"
	done
	_topo_pids=()
	if [ -n "$TOPO_DIR" ]; then
		rm -rf "$TOPO_DIR"
		TOPO_DIR=
	fi
}

# Processes of this checkout's fixtures: our tools (any build dir), the
# product's serve/connect, and unbound/dnsmasq whose command line names one
# of our scratch dirs.
topo_leftovers() {
	local tag d p pid exe cmd n found=0
	tag=mdns-test.$(topo_tag).
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = "$$" ] && continue
		case " ${_topo_pids[*]} " in *" $pid "*) continue ;; esac
		# The cheap filter first (no fork): the command name.
		read -r n 2>/dev/null <"$p/comm" || continue
		case $n in
		resolver-farm | udp-relay | http-fixture | auth-responder | \
		    unbound | dnsmasq | mdns-doctor) ;;
		*) continue ;;
		esac
		_topo_alive "$pid" || continue
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		n=""
		case "$exe" in
		"$TOPO_TOP"/*/tools/resolver-farm* | \
		    "$TOPO_TOP"/*/tools/udp-relay* | \
		    "$TOPO_TOP"/*/tools/http-fixture* | \
		    "$TOPO_TOP"/*/tools/auth-responder*)
			n=fixture ;;
		"$TOPO_TOP"/*/mdns-doctor*)
			case " $cmd " in
			*" serve "* | *" connect "*) n=mdns-doctor ;;
			esac ;;
		*/unbound | */dnsmasq)
			case "$cmd" in
			*"$tag"*) n=resolver ;;
			esac ;;
		esac
		if [ -n "$n" ]; then
			echo "# leftover $n process $pid: $cmd"
			found=1
		fi
	done
	for d in "${TMPDIR:-/tmp}/$tag"*; do
		[ -e "$d" ] || continue
		[ "$d" = "$TOPO_DIR" ] && continue
		echo "# leftover scratch dir $d"
		found=1
	done
	# Network namespaces of tests/lib/netns.sh (mdt<tag>-<pid>-NAME).
	for d in $(ip netns list 2>/dev/null | cut -d' ' -f1) \
	    $(cd /etc/netns 2>/dev/null && ls -d "mdt$(topo_tag)-"* 2>/dev/null); do
		case $d in
		"mdt$(topo_tag)-$$-"*) ;;
		"mdt$(topo_tag)-"*)
			echo "# leftover network namespace $d (or /etc/netns/$d)"
			found=1 ;;
		esac
	done
	return $found
}
