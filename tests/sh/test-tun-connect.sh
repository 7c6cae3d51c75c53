#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-tun-connect.sh — the real full-VPN mode: `mdns-doctor connect --tun`
# in an "app" namespace whose traffic leaves through the TUN, the DNS
# tunnel, unbound and a real `serve` in the "net" namespace. Topology:
#
#   app  a0 10.70.0.2/24 fd70::2/64 ---- n0 10.70.0.1/24 fd70::1/64  net
#        default via 10.70.0.1 / fd70::1   lo: 10.71.0.1 fd71::1 HTTP fixture
#        resolv.conf: 10.70.0.99               10.72.0.53:53 unbound (stub
#        connect --tun, resolver                 t.example -> serve)
#          10.72.0.53                          127.0.0.1:P serve
#                                              10.73.0.53 dnsmasq: serve's
#                                                DNS_UPSTREAM_SERVERS
#                                              10.70.0.99 dnsmasq: app's
#                                                resolver before the TUN
#
# Plain curl (no proxy setting) in app: 10 MiB intact (SHA-256), 20
# downloads at once, IPv6, an upload; getent resolves through the mapped
# address and the tunnel (serve's resolver sees the query, app's original
# one and unbound see no name in clear); the resolver's host route goes
# via the original gateway (rtnetlink: ip route get, mdns-doctor route);
# the status's "tun" object and metrics count it; a second connect --tun
# is refused; stop (SIGTERM) and kill -9 + `connect --tun --cleanup`
# leave routes, IPv6 routes and resolv.conf exactly as before.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/netns.sh
ns_init || exit 1
. tests/sh/engine-lib.sh

D=$TOPO_DIR
FIX=$(topo_tool http-fixture)
export XDG_RUNTIME_DIR=$D/rt XDG_STATE_HOME=$D/state
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
ns_add app
ns_add net
APP=$(ns_name app)
NET=$(ns_name net)
ns_link app a0 10.70.0.2/24,fd70::2/64 net n0 10.70.0.1/24,fd70::1/64
ns_addr net lo 10.71.0.1/32,fd71::1/128,10.72.0.53/32,10.73.0.53/32,10.70.0.99/32
ns_route app default via 10.70.0.1
ns_route app default via fd70::1
ns_etc app resolv.conf "$(printf 'nameserver 10.70.0.99\nsearch example.test\noptions edns0')"
chmod 0644 "/etc/netns/$APP/resolv.conf"
RESOLV=/etc/netns/$APP/resolv.conf

topo_spawn HTTP $(ns_exec net) "$FIX" --listen 10.71.0.1 --port 0
ok $? "HTTP fixture on 10.71.0.1 in net"
topo_spawn HTTP6 $(ns_exec net) "$FIX" --listen fd71::1 --port 0
ok $? "HTTP fixture on [fd71::1] in net"
# serve's own resolver: the only one that may see fixture.test
topo_bg SDNS $(ns_exec net) dnsmasq --keep-in-foreground --no-resolv \
    --no-hosts --listen-address=10.73.0.53 --bind-interfaces --port=53 \
    --address=/fixture.test/10.71.0.1 --log-queries \
    --log-facility="$D/sdns.log" --pid-file= --user=root
# app's resolver before the TUN: must see nothing once it is up
topo_bg ODNS $(ns_exec net) dnsmasq --keep-in-foreground --no-resolv \
    --no-hosts --listen-address=10.70.0.99 --bind-interfaces --port=53 \
    --address=/fixture.test/10.71.0.9 --log-queries \
    --log-facility="$D/odns.log" --pid-file= --user=root

ENG_EXEC=($(ns_exec net))
ENG_SERVE_HOST=127.0.0.1
eng_serve SRV 'MDNS_ALLOW_TARGETS = ["10.71.0.0/24", "fd71::/64"]
DNS_UPSTREAM_SERVERS = ["10.73.0.53:53"]
DNS_UPSTREAM_TIMEOUT = 3.0'
ok $? "serve in net on $SRV_ADDR"

# unbound in the path: recursive, stub zone t.example -> serve, answers
# app's uplink; logs every query it gets (the tunnel's, never a name in
# clear).
mkdir -p "$D/ub"
cat >"$D/ub/unbound.conf" <<EOC
server:
  interface: 10.72.0.53@53
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$D/ub"
  pidfile: "$D/ub/unbound.pid"
  use-syslog: no
  logfile: "$D/ub/unbound.log"
  verbosity: 1
  log-queries: yes
  do-ip6: no
  outgoing-interface: 127.0.0.1
  do-not-query-localhost: no
  access-control: 10.70.0.0/24 allow
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  num-threads: 1
  local-zone: "." refuse
  local-zone: "t.example." transparent
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  prefetch: no
  serve-expired: no
stub-zone:
  name: "t.example."
  stub-addr: 127.0.0.1@${SRV_ADDR##*:}
EOC
topo_bg UNBOUND $(ns_exec net) unbound -d -c "$D/ub/unbound.conf"
ready=1
for ((i = 0; i < 50; i++)); do
	ns net "$(topo_tool dnsq)" --server 10.72.0.53:53 --class CH \
	    --type TXT --timeout 200 version.bind >/dev/null 2>&1 &&
	    { ready=0; break; }
done
ok $ready "unbound in the path on 10.72.0.53"

sleep 0.2
like "$(ns app getent hosts fixture.test)" "10.71.0.9" \
    "before: app resolves through its own resolver"
sleep 0.2
odns_before=$(grep -c 'query\[' "$D/odns.log")

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
snapshot "$D/before"

CTL=$D/cl.sock
# start NAME [TOML]: connect --tun in app through unbound.
start() {
	ENG_EXEC=($(ns_exec app))
	ENG_CONNECT_ARGS=(--tun --control "$D/$1.sock")
	eng_connect "$1" 10.72.0.53:53 "${2:-}"
}
cl_status() { "$BIN" status --control "$D/CL.sock" --format json; }
hdr() { sed -n "s/^$1: \(.*\)\r$/\1/Ip" "$2"; }
# fetch NAME URL: curl in app, no proxy; 0 when the body matches its
# X-Content-SHA256 header (the body is removed after).
fetch() {
	ns app curl -sS --noproxy '*' --max-time 300 -D "$D/$1.h" \
	    -o "$D/$1.b" "$2" &&
	    [ "$(sha256sum <"$D/$1.b" | cut -d' ' -f1)" = \
		"$(hdr X-Content-SHA256 "$D/$1.h")" ]
	local rc=$?
	rm -f "$D/$1.b"
	return $rc
}

start CL
ok $? "connect --tun in app: connected through unbound"
like "$(cat "$D/CL.out")" "^tun mdns0" "... says its device"

# --- routes (rtnetlink)
R=$(ip -n "$APP" route)
like "$R" "0.0.0.0/1 dev mdns0" "IPv4 half 0.0.0.0/1 into the TUN"
like "$R" "128.0.0.0/1 dev mdns0" "IPv4 half 128.0.0.0/1 into the TUN"
like "$R" "default via 10.70.0.1 dev a0" "the original default route stays"
like "$(ip -n "$APP" -6 route)" "::/1 dev mdns0" "IPv6 half ::/1"
like "$(ns app ip route get 10.71.0.1)" "dev mdns0" \
    "the HTTP fixture is routed into the TUN"
like "$(ns app ip route get 10.72.0.53)" "via 10.70.0.1 dev a0" \
    "the resolver's host route goes via the original gateway"
like "$(ip -n "$APP" route show 10.72.0.53/32)" "via 10.70.0.1 dev a0" \
    "... a /32 route connect --tun added"
out=$(ns app "$BIN" route --no-store --format jsonl 10.72.0.53 10.71.0.1 2>&1)
like "$(printf '%s\n' "$out" | jq -r 'select(.subject == "10.72.0.53") |
    "\(.verdict) \(.detail)"')" "^ok .*via 10.70.0.1 dev a0" \
    "mdns-doctor route: the resolver leaves via the original gateway"

# --- 10 MiB, plain curl, no proxy
fetch one "http://10.71.0.1:$HTTP_PORT/bytes/10485760?seed=3"
ok $? "curl 10 MiB through connect --tun, intact (SHA-256)"

# --- 20 at once
pids=()
for i in $(seq 1 20); do
	fetch "p$i" "http://10.71.0.1:$HTTP_PORT/bytes/${PAR_BYTES:-1048576}?seed=$i" &
	pids+=($!)
done
good=0
for p in "${pids[@]}"; do
	wait "$p" && good=$((good + 1))
done
is "$good" 20 "20 parallel downloads ($((${PAR_BYTES:-1048576} / 1024)) KiB each) intact"

# --- IPv6
fetch six "http://[fd71::1]:$HTTP6_PORT/bytes/1048576?seed=6"
ok $? "curl over IPv6 through connect --tun, intact"

# --- upload
head -c 1000000 /dev/urandom >"$D/up"
got=$(ns app curl -sS --noproxy '*' --max-time 120 --data-binary @"$D/up" \
    "http://10.71.0.1:$HTTP_PORT/upload")
is "$got" "received 1000000 bytes sha256 $(sha256sum <"$D/up" | cut -d' ' -f1)" \
    "1 MB upload intact"

# --- DNS through the mapped address and the tunnel
like "$(cat "$RESOLV")" "nameserver 198.18.0.2" \
    "resolv.conf points at the mapped DNS address"
is "$(ns app getent hosts fixture.test | awk '{print $1}')" 10.71.0.1 \
    "getent resolves through the tunnel"
like "$(cat "$D/sdns.log")" "query\[A\] fixture.test" \
    "serve's resolver saw the query"
is "$(grep -c 'query\[' "$D/odns.log")" "$odns_before" \
    "app's original resolver saw no query since the TUN came up"
ok "$(! grep -qi 'fixture' "$D/ub/unbound.log"; echo $?)" \
    "unbound saw no name in clear (only the tunnel's queries)"
like "$(grep -c 't.example' "$D/ub/unbound.log")" "^[1-9]" \
    "... it carried the tunnel's queries"
# TCP to the mapped address port 53 (after a truncated answer)
out=$(ns app python3 - <<'PY' 2>&1
import socket, struct
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l for l in b"fixture.test".split(b".")) + b"\0"
q += struct.pack("!HH", 1, 1)
s = socket.create_connection(("198.18.0.2", 53), timeout=10)
s.sendall(struct.pack("!H", len(q)) + q)
b = b""
while len(b) < 2 or len(b) < 2 + struct.unpack("!H", b[:2])[0]:
    c = s.recv(4096)
    if not c: break
    b += c
a = b[2:]
print("id=%x" % struct.unpack("!H", a[:2])[0],
      "has 10.71.0.1" if socket.inet_aton("10.71.0.1") in a[12:] else "none")
PY
)
like "$out" "id=4242 has 10.71.0.1" "DNS over TCP to the mapped address is answered"

# --- status, metrics
st=$(cl_status)
is "$(jq -r .tun.device <<<"$st")" mdns0 "status: tun.device"
ok "$([ "$(jq -r .tun.counters.tcp.opened <<<"$st")" -ge 23 ]; echo $?)" \
    "status: flows opened counted"
ok "$([ "$(jq -r .tun.counters.dns.answers <<<"$st")" -ge 1 ]; echo $?)" \
    "status: mapped DNS answers counted"
is "$(jq -r .tun.routes_installed <<<"$st")" 5 \
    "status: 4 halves + 1 resolver route"
ok "$([ "$(jq -r .tun.counters.packets.bytes_out <<<"$st")" -ge 10485760 ]; echo $?)" \
    "status: TUN bytes out"
out=$("$(topo_tool json-schema-check)" docs/status.schema.json <(cl_status) 2>&1)
ok $? "status with tun matches docs/status.schema.json"
[ -n "$out" ] && diag "$out"
m=$("$BIN" metrics --control "$D/CL.sock" 2>&1)
like "$m" 'mdns_client_tun_packets_total\{direction="in"\} [1-9]' \
    "metrics: TUN packets"
like "$m" 'mdns_client_tun_routes 5' "metrics: routes"

# --- a second connect --tun
start CL2
ok "$([ $? -ne 0 ]; echo $?)" "a second connect --tun is refused"
like "$(cat "$D/CL2.err")" "another connect --tun is running \(pid" \
    "... saying another one runs"

# --- stop: everything as before
topo_stop "$CL_PID"
snapshot "$D/after"
diff "$D/before" "$D/after" >"$D/diff"
ok $? "after SIGTERM: routes, IPv6 routes and resolv.conf as before"
[ -s "$D/diff" ] && diag "$(cat "$D/diff")"
ok "$([ ! -e "$XDG_RUNTIME_DIR/mdns-doctor/tun.state" ]; echo $?)" \
    "state file removed"

# --- kill -9, then connect --tun --cleanup
start CL3
ok $? "connect --tun again"
like "$(cat "$RESOLV")" "198.18.0.2" "resolv.conf changed again"
kill -KILL "$CL3_PID"
wait "$CL3_PID" 2>/dev/null
like "$(ip -n "$APP" route)" "10.72.0.53 via" \
    "after kill -9 the resolver route stays"
out=$(ns app "$BIN" connect --tun --cleanup 2>&1)
ok $? "connect --tun --cleanup"
like "$out" "removed route 10.72.0.53/32 via 10.70.0.1 dev a0" \
    "cleanup removed the resolver route"
like "$out" "restored /etc/resolv.conf" "cleanup restored resolv.conf"
snapshot "$D/after2"
diff "$D/before" "$D/after2" >"$D/diff2"
ok $? "after kill -9 + cleanup: everything as before"
[ -s "$D/diff2" ] && diag "$(cat "$D/diff2")"

# --- without privilege, and TCP mode
# root without CAP_NET_ADMIN in its bounding set: exec drops it
out=$(ns app setpriv --inh-caps=-all --bounding-set=-net_admin \
    "$BIN" connect --tun --config "$D/CL/client_config.toml" \
    --resolvers "$D/CL/resolvers.txt" --control "$D/np.sock" 2>&1)
like "$out" "needs root or CAP_NET_ADMIN" "no CAP_NET_ADMIN: a clear error"
cp "$D/CL/client_config.toml" "$D/tcp.toml"
printf 'PROTOCOL_TYPE = "TCP"\n' >>"$D/tcp.toml"
out=$(ns app "$BIN" connect --tun --config "$D/tcp.toml" \
    --resolvers "$D/CL/resolvers.txt" --control "$D/tcp.sock" 2>&1)
like "$out" "needs SOCKS5 mode" "TCP mode is refused with --tun"
snapshot "$D/after3"
diff "$D/before" "$D/after3" >/dev/null
ok $? "... and nothing was changed by either"

done_testing
