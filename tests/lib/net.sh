# SPDX-License-Identifier: MIT
# tests/lib/net.sh — real resolvers in the path, for shell tests. Sources
# topo.sh; call topo_init first: every process started here is recorded
# there and killed when the test exits, however it exits.
#
#   free_port [--udp|--tcp] [ADDR]   a port free right now (tools/freeport)
#   dns_wait_ready ADDR PORT         poll with a real query until the server
#                                    answers (10 s); status 0 when it did
#   unbound_start DIR ZONE SERVER_ADDR:PORT [--qname-min yes|no]
#                 [--cache on|off] [--edns N] [--listen ADDR]
#       Debian's unbound as a recursive resolver in the foreground, with a
#       stub zone ZONE -> SERVER. Sets UNBOUND_ADDR, UNBOUND_PORT,
#       UNBOUND_PID, UNBOUND (= ADDR:PORT). Config in DIR/unbound.conf.
#   dnsmasq_start DIR ZONE SERVER_ADDR#PORT [--listen ADDR] [--cache N]
#       dnsmasq (dnsmasq-base) forwarding ZONE to SERVER. Sets DNSMASQ_ADDR,
#       DNSMASQ_PORT, DNSMASQ_PID, DNSMASQ (= ADDR:PORT).
#   unbound_s8 NAME DIR [SERVFAIL_PORT] [FIRST]
#       unbound answering from local-data only (no recursion): the s8
#       capture's dns.example records (www A/AAAA, a TXT, a 25-record A
#       RRset, the 180-character name; NXDOMAIN for anything else under
#       dns.example), MX and SRV; with SERVFAIL_PORT, sf.dns.example is a
#       stub zone at 127.0.0.1@SERVFAIL_PORT (nothing listening there:
#       unbound answers SERVFAIL; "" for none). The 25-record RRset is
#       listed from 198.51.100.FIRST round to FIRST-1 (rrset-roundrobin
#       off keeps that order): 8 as in s8-xor-raw, 24 as in
#       s8-xor-base64. Sets NAME, NAME_ADDR, NAME_PORT.
#   dnsq ARGS...                     tools/dnsq
#
# Both resolvers are boxed in to loopback (the network rule): unbound sends
# only from 127.0.0.1 (outgoing-interface), refuses every name outside ZONE
# (local-zone "." refuse, ZONE transparent) so it never primes the root, and
# speaks IPv4 only; dnsmasq has --no-resolv and no server but ZONE's, so
# anything else is REFUSED.
#
# Caching: unbound keeps answers in its message and RRset caches for their
# TTL, capped by cache-max-ttl. "--cache off" sets cache-max-ttl and
# cache-max-negative-ttl to 0 (with prefetch and serve-expired off), so
# every entry is expired the moment it is stored and every query goes to
# the server; tests/sh/test-resolvers-path.sh checks this by counting the
# server's queries. Shrinking msg-cache-size does not do it: the cache
# still holds entries up to its size.

. "$(dirname "${BASH_SOURCE[0]}")/topo.sh"

dnsq() {
	"$TOPO_BUILD/tools/dnsq" "$@"
}

free_port() {
	"$TOPO_BUILD/tools/freeport" "$@"
}

# unbound and dnsmasq both answer version.bind CH TXT themselves, so the
# readiness query touches neither the upstream server nor its log.
dns_wait_ready() {
	local addr=$1 port=$2 pid=${3:-} i
	for ((i = 0; i < 50; i++)); do
		if dnsq --server "$addr:$port" --class CH --type TXT \
		    --timeout 200 version.bind >/dev/null 2>&1; then
			return 0
		fi
		if [ -n "$pid" ] && ! _topo_alive "$pid"; then
			return 1
		fi
	done
	return 1
}

# dns_adopt NAME ADDR PORT: once the resolver topo_bg started as NAME
# answers, export NAME_ADDR, NAME_PORT and NAME (ADDR:PORT); otherwise say
# why (its stderr) and stop it, for the caller to try another port.
dns_adopt() {
	local name=$1 addr=$2 port=$3 pidvar=${1}_PID
	if dns_wait_ready "$addr" "$port" "${!pidvar}"; then
		printf -v "${name}_ADDR" %s "$addr"
		printf -v "${name}_PORT" %s "$port"
		printf -v "$name" %s "$addr:$port"
		export "${name}_ADDR" "${name}_PORT" "$name"
		return 0
	fi
	echo "# ${name,,} on $addr:$port did not come up:" \
	    "$(tail -3 "$TOPO_DIR/$name.err" | tr '\n' ' ')"
	topo_stop "${!pidvar}"
	return 1
}

# The server: lines both unbound setups share (loopback only, IPv4,
# iterator only, foreground, no chroot or syslog).
_unbound_head() {
	local dir=$1 listen=$2 port=$3
	echo "server:"
	echo "  interface: $listen@$port"
	echo "  port: $port"
	echo "  do-daemonize: no"
	echo "  username: \"\""
	echo "  chroot: \"\""
	echo "  directory: \"$dir\""
	echo "  pidfile: \"$dir/unbound.pid\""
	echo "  use-syslog: no"
	echo "  logfile: \"\""
	echo "  verbosity: 1"
	echo "  do-ip6: no"
	echo "  outgoing-interface: 127.0.0.1"
	echo "  do-not-query-localhost: no"
	echo "  access-control: 127.0.0.0/8 allow"
	echo "  module-config: \"iterator\""
}

unbound_start() {
	local dir=$1 zone=$2 server=$3
	shift 3
	local qmin=yes cache=on edns=1232 listen=127.0.0.1 port try
	while [ $# -gt 0 ]; do
		case $1 in
		--qname-min) qmin=$2; shift 2 ;;
		--cache) cache=$2; shift 2 ;;
		--edns) edns=$2; shift 2 ;;
		--listen) listen=$2; shift 2 ;;
		*) echo "# unbound_start: unknown option $1"; return 1 ;;
		esac
	done
	case $qmin in yes | no) ;; *)
		echo "# unbound_start: --qname-min yes|no"; return 1 ;;
	esac
	case $cache in on | off) ;; *)
		echo "# unbound_start: --cache on|off"; return 1 ;;
	esac
	mkdir -p "$dir" || return 1
	for ((try = 0; try < 5; try++)); do
		port=$(free_port "$listen") || return 1
		{
			_unbound_head "$dir" "$listen" "$port"
			echo "  qname-minimisation: $qmin"
			echo "  edns-buffer-size: $edns"
			echo "  num-threads: 1"
			echo "  local-zone: \".\" refuse"
			echo "  local-zone: \"$zone.\" transparent"
			if [ "$cache" = off ]; then
				echo "  cache-max-ttl: 0"
				echo "  cache-max-negative-ttl: 0"
				echo "  prefetch: no"
				echo "  serve-expired: no"
			fi
			echo "stub-zone:"
			echo "  name: \"$zone.\""
			echo "  stub-addr: ${server%:*}@${server##*:}"
		} >"$dir/unbound.conf"
		topo_bg UNBOUND unbound -d -c "$dir/unbound.conf" || return 1
		dns_adopt UNBOUND "$listen" "$port" && return 0
	done
	return 1
}

unbound_s8() {
	local name=$1 dir=$2 sfport=${3:-} first=${4:-8} port try i
	mkdir -p "$dir" || return 1
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		{
			_unbound_head "$dir" 127.0.0.1 "$port"
			echo "  num-threads: 1"
			echo "  rrset-roundrobin: no"
			echo "  outbound-msg-retry: 1"
			echo "  infra-cache-min-rtt: 20"
			echo "  infra-cache-max-rtt: 200"
			echo "  local-zone: \".\" refuse"
			echo "  local-zone: \"dns.example.\" static"
			echo "  local-data: \"www.dns.example. 300 IN A 198.51.100.7\""
			echo "  local-data: \"www.dns.example. 300 IN AAAA 2001:db8::7\""
			echo "  local-data: 'short.dns.example. 300 IN TXT \"hi\"'"
			for i in $(seq "$first" 25) $(seq 1 $((first - 1))); do
				echo "  local-data: \"big.dns.example. 60 IN A 198.51.100.$i\""
			done
			echo "  local-data: \"$(printf 'l%.0s' {1..60}).$(printf 'm%.0s' {1..60}).$(printf 'n%.0s' {1..50}).dns.example. 60 IN A 198.51.100.9\""
			echo "  local-data: \"dns.example. 300 IN MX 10 mx.dns.example.\""
			echo "  local-data: \"_sip._udp.dns.example. 300 IN SRV 5 10 5060 sip.dns.example.\""
			if [ -n "$sfport" ]; then
				echo "  local-zone: \"sf.dns.example.\" transparent"
				echo "stub-zone:"
				echo "  name: \"sf.dns.example.\""
				echo "  stub-addr: 127.0.0.1@$sfport"
			fi
		} >"$dir/unbound.conf"
		topo_bg "$name" unbound -d -c "$dir/unbound.conf" || return 1
		dns_adopt "$name" 127.0.0.1 "$port" && return 0
	done
	return 1
}

dnsmasq_start() {
	local dir=$1 zone=$2 server=$3
	shift 3
	local listen=127.0.0.1 cache=150 port try
	while [ $# -gt 0 ]; do
		case $1 in
		--listen) listen=$2; shift 2 ;;
		--cache) cache=$2; shift 2 ;;
		*) echo "# dnsmasq_start: unknown option $1"; return 1 ;;
		esac
	done
	mkdir -p "$dir" || return 1
	for ((try = 0; try < 5; try++)); do
		port=$(free_port "$listen") || return 1
		topo_bg DNSMASQ dnsmasq --keep-in-foreground --no-resolv \
		    --no-hosts --port="$port" --listen-address="$listen" \
		    --bind-interfaces --server="/$zone/$server" \
		    --cache-size="$cache" --pid-file="$dir/dnsmasq.pid" \
		    --user="$(id -un)" --log-facility=- || return 1
		dns_adopt DNSMASQ "$listen" "$port" && return 0
	done
	return 1
}
