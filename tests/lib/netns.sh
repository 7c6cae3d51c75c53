# SPDX-License-Identifier: MIT
# tests/lib/netns.sh — network namespaces for one shell test: several
# "hosts" on one machine, joined by veth pairs, all removed when the test
# ends however it ends. Sources topo.sh; call ns_init instead of
# topo_init (it calls topo_init and extends its traps).
#
#   ns_init                          topo_init + cleanup of namespaces
#   ns_add NAME                      a namespace with lo up; its real name
#                                    is $(ns_name NAME)
#   ns_name NAME                     mdt<checkout tag>-<pid>-NAME
#   ns NAME cmd [args]               run cmd inside NAME
#   ns_link A IFA ADDRS_A B IFB ADDRS_B
#                                    a veth pair IFA (in A) -- IFB (in B),
#                                    both up; ADDRS are comma-separated
#                                    CIDRs ("10.1.0.1/24,fd01::1/64"),
#                                    IPv6 ones without duplicate detection
#   ns_addr NAME IF ADDRS            more addresses on an interface
#   ns_route NAME ROUTE...           ip route add ROUTE... inside NAME
#                                    (IPv6 when ROUTE names one)
#   ns_forward NAME                  let NAME route between its links
#   ns_etc NAME FILE TEXT            /etc/FILE as processes started in
#                                    NAME afterwards see it (ip netns exec
#                                    mounts /etc/netns/REAL/FILE over it):
#                                    hosts, resolv.conf
#   ns_cleanup                       delete every namespace made here
#
#   ns_exec NAME                     prints the prefix for background
#                                    processes: topo_bg X $(ns_exec NAME) cmd
#
# Background processes must start as `ip netns exec REAL cmd` (what
# ns_exec prints), not through the `ns` function: ip netns exec execs
# the command, so the pid topo_bg records is the command itself and
# topo_cleanup stops it before the namespaces go (a function would run in
# a subshell whose pid is not the command's). Namespace names carry the checkout tag
# and the shell's pid: parallel tests and other checkouts never collide,
# and topo_leftovers can find what a crashed test left behind.

. "$(dirname "${BASH_SOURCE[0]}")/topo.sh"

_ns_made=()

ns_name() {
	printf 'mdt%s-%s-%s' "$(topo_tag)" "$$" "$1"
}

ns_cleanup() {
	local n
	set +e
	for n in "${_ns_made[@]}"; do
		ip netns del "$n" 2>/dev/null
		rm -rf "/etc/netns/$n"
	done
	_ns_made=()
}

ns_init() {
	topo_init || return 1
	trap 'topo_cleanup; ns_cleanup' EXIT
	trap 'topo_cleanup; ns_cleanup; trap - EXIT; exit 130' INT
	trap 'topo_cleanup; ns_cleanup; trap - EXIT; exit 143' TERM
}

ns_add() {
	local n
	n=$(ns_name "$1")
	ip netns add "$n" || return 1
	_ns_made+=("$n")
	ip -n "$n" link set lo up
}

ns() {
	local n
	n=$(ns_name "$1")
	shift
	ip netns exec "$n" "$@"
}

ns_exec() {
	printf 'ip netns exec %s' "$(ns_name "$1")"
}

ns_addr() {
	local n a
	n=$(ns_name "$1")
	for a in ${3//,/ }; do
		case $a in
		*:*) ip -n "$n" -6 addr add "$a" dev "$2" nodad || return 1 ;;
		*) ip -n "$n" addr add "$a" dev "$2" || return 1 ;;
		esac
	done
}

ns_link() {
	local a b
	a=$(ns_name "$1")
	b=$(ns_name "$4")
	ip -n "$a" link add "$2" type veth peer name "$5" netns "$b" ||
	    return 1
	ns_addr "$1" "$2" "$3" && ns_addr "$4" "$5" "$6" || return 1
	ip -n "$a" link set "$2" up && ip -n "$b" link set "$5" up
}

ns_route() {
	local n
	n=$(ns_name "$1")
	shift
	case "$*" in
	*:*) ip -n "$n" -6 route add "$@" ;;
	*) ip -n "$n" route add "$@" ;;
	esac
}

ns_etc() {
	local d
	d=/etc/netns/$(ns_name "$1")
	mkdir -p "$d" && printf '%s\n' "$3" >"$d/$2"
}

ns_forward() {
	ns "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}
