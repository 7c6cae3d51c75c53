#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-tun.sh — full-VPN mode (engine/tun.h) in network namespaces made
# here, driven by build/tools/tun-driver (the real TUN device, lwIP,
# routes and resolv.conf handling; flows leave through a plain TCP
# connector instead of the tunnel, DNS goes to dnsmasq instead of through
# the tunnel). Topology:
#
#   app  a0 10.70.0.2/24 fd70::2/64 ---- n0 10.70.0.1/24 fd70::1/64  net
#        default via 10.70.0.1 / fd70::1       lo: 10.71.0.1 fd71::1 (HTTP)
#        /etc/resolv.conf: nameserver 10.70.0.99   10.72.0.53 (dnsmasq)
#
# Plain curl (no proxy) in app reaches the HTTP fixture through the TUN:
# 10 MiB intact, 20 at once, over IPv6 too; getent resolves through the
# mapped DNS address; the resolver's host route goes via the original
# gateway; on stop (and after kill -9 + --cleanup) routes and resolv.conf
# are exactly as before; a second instance is refused; packets the TUN
# cannot carry are counted.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/netns.sh

ns_init || exit 1
DRV=$(topo_tool tun-driver)
FIX=$(topo_tool http-fixture)
d=$TOPO_DIR
ns_add app
ns_add net
APP=$(ns_name app)
NET=$(ns_name net)
ns_link app a0 10.70.0.2/24,fd70::2/64 net n0 10.70.0.1/24,fd70::1/64
ns_addr net lo 10.71.0.1/32,fd71::1/128,10.72.0.53/32,10.70.0.99/32
ns_route app default via 10.70.0.1
ns_route app default via fd70::1
ns_etc app resolv.conf "$(printf 'nameserver 10.70.0.99\nsearch example.test\noptions edns0')"
chmod 0640 "/etc/netns/$APP/resolv.conf"
RESOLV=/etc/netns/$APP/resolv.conf

topo_spawn HTTP $(ns_exec net) "$FIX" --listen 10.71.0.1 --port 0
ok $? "HTTP fixture on 10.71.0.1 in net"
topo_spawn HTTP6 $(ns_exec net) "$FIX" --listen fd71::1 --port 0
ok $? "HTTP fixture on [fd71::1] in net"
topo_bg DNSMASQ $(ns_exec net) dnsmasq --keep-in-foreground --no-resolv \
    --no-hosts --listen-address=10.72.0.53 --bind-interfaces --port=53 \
    --address=/fixture.test/10.71.0.1 --log-queries \
    --log-facility="$d/dnsmasq.log" --pid-file= --user=root
# the resolver app's resolv.conf named before the TUN: must see nothing
topo_bg ORIGDNS $(ns_exec net) dnsmasq --keep-in-foreground --no-resolv \
    --no-hosts --listen-address=10.70.0.99 --bind-interfaces --port=53 \
    --address=/fixture.test/10.71.0.9 --log-queries \
    --log-facility="$d/orig.log" --pid-file= --user=root
sleep 0.3
like "$(ns app getent hosts fixture.test)" "10.71.0.9" \
    "before: app resolves through its own resolver"
sleep 0.2
orig_before=$(grep -c 'query\[' "$d/orig.log")

snapshot() {
	{
		ip -n "$APP" route
		echo --
		ip -n "$APP" -6 route
		echo --
		cat "$RESOLV"
		stat -c '%a %F' "$RESOLV"
	} >"$1"
}
snapshot "$d/before"

# start NAME ARGS...: the driver in app, wait for "ready".
start() {
	local name=$1 i
	shift
	topo_bg "$name" $(ns_exec app) "$DRV" --state-dir "$d/state" \
	    --exit-dev a0 --resolver 10.72.0.53 --dns-upstream 10.72.0.53:53 \
	    --status "$d/$name.json" "$@"
	for ((i = 0; i < 250; i++)); do
		grep -q '^ready' "$d/$name.out" 2>/dev/null && return 0
		sleep 0.02
	done
	diag "$name: $(cat "$d/$name.err")"
	return 1
}
# status NAME JQ: a field of the driver's status.
status() {
	local pid=${1}_PID i
	rm -f "$d/$1.json"
	kill -USR1 "${!pid}"
	for ((i = 0; i < 250; i++)); do
		[ -s "$d/$1.json" ] && break
		sleep 0.02
	done
	jq -r "$2" "$d/$1.json"
}
hdr() { sed -n "s/^$1: \(.*\)\r$/\1/Ip" "$2"; }
# fetch NAME URL: curl in app, no proxy; 0 when the body matches its
# X-Content-SHA256 header (the body is removed after).
fetch() {
	ns app curl -sS --noproxy '*' -D "$d/$1.h" -o "$d/$1.b" "$2" &&
	    [ "$(sha256sum <"$d/$1.b" | cut -d' ' -f1)" = \
		"$(hdr X-Content-SHA256 "$d/$1.h")" ]
	local rc=$?
	rm -f "$d/$1.b"
	return $rc
}

start DRV
ok $? "tun-driver up in app"

# --- routes
R=$(ip -n "$APP" route)
like "$R" "0.0.0.0/1 dev mdns0" "IPv4 half 0.0.0.0/1 into the TUN"
like "$R" "128.0.0.0/1 dev mdns0" "IPv4 half 128.0.0.0/1 into the TUN"
like "$R" "default via 10.70.0.1 dev a0" "the original default route stays"
R6=$(ip -n "$APP" -6 route)
like "$R6" "::/1 dev mdns0" "IPv6 half ::/1"
like "$R6" "8000::/1 dev mdns0" "IPv6 half 8000::/1"
like "$(ns app ip route get 10.71.0.1)" "dev mdns0" \
    "the fixture is routed into the TUN"
like "$(ns app ip route get 10.72.0.53)" "via 10.70.0.1 dev a0" \
    "the resolver's host route goes via the original gateway"
like "$(ip -n "$APP" route show 10.72.0.53/32)" "via 10.70.0.1 dev a0" \
    "... a /32 route the driver added"
is "$(status DRV .routes_installed)" 5 "status: 4 halves + 1 resolver route"
# the exit check of issue 13 (mdns-doctor route, rtnetlink) agrees
BIN=${MDNS_BIN:-$TOPO_BUILD/mdns-doctor}
out=$(ns app "$BIN" route --no-store --format jsonl 10.72.0.53 10.71.0.1 2>&1)
like "$(printf '%s\n' "$out" | jq -r 'select(.subject == "10.72.0.53") |
    "\(.verdict) \(.detail)"')" "^ok .*via 10.70.0.1 dev a0" \
    "mdns-doctor route: the resolver leaves via the original gateway"
like "$(printf '%s\n' "$out" | jq -r 'select(.subject == "10.71.0.1") |
    .reason')" "routed_in_tunnel" \
    "mdns-doctor route: any other address goes into the TUN"

# --- 10 MiB, plain curl, no proxy
fetch one "http://10.71.0.1:$HTTP_PORT/bytes/10485760?seed=3"
ok $? "curl 10 MiB through the TUN, intact (SHA-256)"

# --- 20 at once
pids=()
for i in $(seq 1 20); do
	fetch "p$i" "http://10.71.0.1:$HTTP_PORT/bytes/10485760?seed=$i" &
	pids+=($!)
done
good=0
for p in "${pids[@]}"; do
	wait "$p" && good=$((good + 1))
done
is "$good" 20 "20 parallel 10 MiB downloads intact"

# --- IPv6
fetch six "http://[fd71::1]:$HTTP6_PORT/bytes/1048576?seed=6"
ok $? "curl over IPv6 through the TUN, intact"

# --- upload (the other direction)
head -c 3000000 /dev/urandom >"$d/up"
got=$(ns app curl -sS --noproxy '*' --data-binary @"$d/up" \
    "http://10.71.0.1:$HTTP_PORT/upload")
is "$got" "received 3000000 bytes sha256 $(sha256sum <"$d/up" | cut -d' ' -f1)" \
    "3 MB upload intact"

# --- DNS through the mapped address
like "$(cat "$RESOLV")" "nameserver 198.18.0.2" \
    "resolv.conf points at the mapped DNS address"
like "$(cat "$RESOLV")" "search example.test" "... search line kept"
is "$(ns app getent hosts fixture.test | awk '{print $1}')" 10.71.0.1 \
    "getent resolves through the mapped DNS address"
like "$(cat "$d/dnsmasq.log")" "query\[A\] fixture.test from 10.70.0.2" \
    "dnsmasq saw the query, from the app's uplink address (host route)"
is "$(grep -c 'query\[' "$d/orig.log")" "$orig_before" \
    "the original resolver saw no query since the TUN came up"
ok "$([ "$(status DRV .counters.dns.answers)" -ge 1 ]; echo $?)" \
    "status counts DNS answers"

# --- what the TUN does not carry
ns app bash -c 'echo x >/dev/udp/10.71.0.1/9' 2>/dev/null
ns app ping -c 1 -W 1 10.71.0.1 >"$d/ping" 2>&1
like "$(cat "$d/ping")" "Unreachable|100% packet loss" \
    "ping through the TUN is answered unreachable"
sleep 0.2
ok "$([ "$(status DRV '.counters.dropped.udp_not_dns')" -ge 1 ]; echo $?)" \
    "other UDP counted"
ok "$([ "$(status DRV '.counters.dropped.icmp_echo')" -ge 1 ]; echo $?)" \
    "ICMP echo counted"
ok "$([ "$(status DRV '.counters.icmp_sent')" -ge 2 ]; echo $?)" \
    "unreachables sent"
is "$(status DRV .counters.tcp.open)" 0 "no flow left open"
ok "$([ "$(status DRV .counters.tcp.opened)" -ge 23 ]; echo $?)" \
    "flows opened counted"

# --- bad packets into the TUN (a packet socket on mdns0 sends bytes as
# they are): dropped, counted, and the stack goes on working
drops() {
	status DRV "[.counters.dropped.malformed, .counters.dropped.checksum,
	    .counters.dropped.fragment, .counters.dropped.martian] | join(\" \")"
}
read -r m0 c0 f0 x0 <<<"$(drops)"
ns app python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
def csum(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
def ip4(src, dst, proto, payload, flags=0x4000, ver=4, tot=None, fix=True):
    h = struct.pack('!BBHHHBBH4s4s', ver << 4 | 5, 0,
                    tot if tot is not None else 20 + len(payload), 1, flags,
                    64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    if fix:
        h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload
def send(b): s.sendto(b, ('mdns0', 0x0800))
tcp = struct.pack('!HHIIBBHHH', 40000, 80, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
A, B = '198.18.0.1', '10.71.0.1'
send(ip4(A, B, 6, tcp, fix=False))            # header checksum: checksum
send(ip4(A, B, 6, tcp, tot=30))               # length mismatch: malformed
send(ip4(A, B, 6, tcp, ver=5))                # version 5: malformed
send(ip4(A, B, 6, tcp, flags=0x2000))         # MF set: fragment
send(ip4('127.0.0.1', B, 6, tcp))             # loopback source: martian
send(ip4(A, A, 6, tcp))                       # to itself: martian
send(ip4(A, B, 6, tcp))                       # TCP checksum 0: checksum
send(b'\x45\x00\x00')                          # 3 bytes: malformed
PY
sleep 0.3
read -r m1 c1 f1 x1 <<<"$(drops)"
is "$((m1 - m0)) $((c1 - c0)) $((f1 - f0)) $((x1 - x0))" "3 2 1 2" \
    "bad packets counted: 3 malformed, 2 checksum, 1 fragment, 2 martian"
fetch seven "http://10.71.0.1:$HTTP_PORT/bytes/100000?seed=7"
ok $? "the stack still carries traffic after them"

# --- a second instance
start DRV2
ok "$([ $? -ne 0 ]; echo $?)" "a second instance is refused"
like "$(cat "$d/DRV2.err")" "another connect --tun is running \(pid" \
    "... saying another one runs"

out=$(ns app "$DRV" --cleanup --state-dir "$d/state" 2>&1)
like "$out" "another connect --tun is running" \
    "--cleanup while one runs is refused too"

# --- stop: everything as before
topo_stop "$DRV_PID"
snapshot "$d/after"
diff "$d/before" "$d/after" >"$d/diff"
ok $? "after stop: routes, IPv6 routes and resolv.conf as before"
[ -s "$d/diff" ] && diag "$(cat "$d/diff")"
ok "$([ ! -e "$d/state/tun.state" ]; echo $?)" "state file removed"

# --- kill -9, then --cleanup
start DRV3
ok $? "started again"
like "$(cat "$RESOLV")" "198.18.0.2" "resolv.conf changed again"
kill -KILL "$DRV3_PID"
wait "$DRV3_PID" 2>/dev/null
ok "$([ -e "$d/state/tun.state" ]; echo $?)" "after kill -9 the state file stays"
like "$(ip -n "$APP" route)" "10.72.0.53 via" "... and the resolver route"
start DRV4
ok "$([ $? -ne 0 ]; echo $?)" "a start after a crash is refused"
like "$(cat "$d/DRV4.err")" "--cleanup" "... naming --cleanup"
ns app "$DRV" --cleanup --state-dir "$d/state" >"$d/cleanup" 2>&1
ok $? "--cleanup"
like "$(cat "$d/cleanup")" "restored /etc/resolv.conf" \
    "cleanup restored resolv.conf (/etc/resolv.conf as app sees it)"
like "$(cat "$d/cleanup")" "removed route 10.72.0.53/32 via 10.70.0.1 dev a0" \
    "cleanup removed the resolver route"
snapshot "$d/after2"
diff "$d/before" "$d/after2" >"$d/diff2"
ok $? "after kill -9 + cleanup: everything as before"
[ -s "$d/diff2" ] && diag "$(cat "$d/diff2")"
ns app "$DRV" --cleanup --state-dir "$d/state" >"$d/cleanup2" 2>&1
like "$(cat "$d/cleanup2")" "0 change" "a second cleanup has nothing to do"

# --- a resolv.conf someone else rewrote meanwhile is left alone
start DRV5
ok $? "started once more"
printf 'nameserver 10.70.0.77\n' >"$RESOLV"
topo_stop "$DRV5_PID"
like "$(cat "$RESOLV")" "10.70.0.77" "someone else's resolv.conf left alone"
like "$(cat "$d/DRV5.err")" "changed by someone else" "... and said so"
cp "$d/state/resolv.conf.orig" "$RESOLV"
ok $? "... and the original kept where the warning says"

# --- a device of that name exists already (TUNSETIFF would take it over)
ip -n "$APP" tuntap add dev mdns0 mode tun
start DRV6
ok "$([ $? -ne 0 ]; echo $?)" "an existing mdns0 is not taken over"
like "$(cat "$d/DRV6.err")" "a device named mdns0 exists already" "... said so"
ip -n "$APP" link del mdns0
snapshot "$d/after3"
diff "$d/before" "$d/after3" >/dev/null
ok $? "... and the routes and resolv.conf are as before"

# --- without privilege
out=$(ns app setpriv --reuid=65534 --regid=65534 --clear-groups \
    --inh-caps=-all --bounding-set=-all "$DRV" --state-dir "$d/np" 2>&1)
like "$out" "needs root or CAP_NET_ADMIN" "no CAP_NET_ADMIN: a clear error"

done_testing
