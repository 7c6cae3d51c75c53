#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-tunnel.sh — `mdns-doctor serve` and `mdns-doctor connect`
# moving real traffic on loopback, every transfer checked by SHA-256:
# download and upload through SOCKS5 (curl --socks5-hostname) for every
# cipher 0..5 directly (1 MiB each way; 10 MiB down / 3 MiB up for XOR and
# AES-256-GCM), both ways through unbound, 20 concurrent streams,
# SOCKS4a, a refused target (SOCKS reply 5), a filtered target (reply 2,
# and the target sees no connection), recovery from a server restart, and
# 1 MiB each way through the
# fault relay at 10 % loss with duplication and reordering.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1

BIN=${MDNS_BIN:-$PWD/build/mdns-doctor}
D=$TOPO_DIR
MiB=1048576

# A small HTTP origin: GET /bytes/N sends N pseudo-random bytes (the same N
# always gives the same bytes), POST /upload answers with the length and
# SHA-256 it received. Plus a SOCKS probe that prints the reply code.
cat >"$D/origin.py" <<'EOF'
import hashlib, http.server, random, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def do_GET(self):
        n = int(self.path.rsplit("/", 1)[1])
        body = random.Random(n).randbytes(n)
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers["Content-Length"])
        h = hashlib.sha256(); left = n
        while left:
            b = self.rfile.read(min(65536, left))
            if not b: break
            h.update(b); left -= len(b)
        r = ("received %d bytes sha256 %s\n" % (n - left, h.hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(r)))
        self.end_headers()
        self.wfile.write(r)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print("port=%d" % s.server_address[1], flush=True)
s.serve_forever()
EOF
cat >"$D/socksrep.py" <<'EOF'
import socket, struct, sys
proxy, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.create_connection((proxy.rsplit(":", 1)[0], int(proxy.rsplit(":", 1)[1])), timeout=20)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + struct.pack(">H", port))
r = s.recv(10)
print(r[1] if len(r) >= 2 else -1)
EOF
cat >"$D/listener.py" <<'EOF'
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(5)
print("port=%d" % s.getsockname()[1], flush=True)
while True:
    c, a = s.accept(); print("accepted", a, flush=True); c.close()
EOF
bytes_sha() { python3 -c "import random,hashlib,sys;n=int(sys.argv[1]);print(hashlib.sha256(random.Random(n).randbytes(n)).hexdigest())" "$1"; }

topo_spawn ORIGIN python3 "$D/origin.py"
ok $? "HTTP origin on port $ORIGIN_PORT"
ORIGIN=127.0.0.1:$ORIGIN_PORT
head -c $MiB /dev/urandom >"$D/up.bin"
UP_SHA=$(sha256sum "$D/up.bin" | cut -d' ' -f1)
DOWN_SHA=$(bytes_sha $MiB)

# wait_line FILE REGEX: up to 20 s for a line in a fixture's output.
wait_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

key_for() {
	case $1 in
	3) echo 3a7f1c9e5b2d8046 ;;
	4) echo 9e1d7c3b5a2f8e4d6c0b1a29 ;;
	*) echo 5f3c8e1a9b2d47e6c0f18a3b5d7e9c21 ;;
	esac
}

# start_server METHOD [ALLOW]: SRV_PORT
start_server() {
	local m=$1 allow=${2:-127.0.0.0/8} extra=${3:-}
	mkdir -p "$D/s$m"
	key_for "$m" >"$D/s$m/encrypt_key.txt"
	cat >"$D/s$m/server_config.toml" <<EOC
DOMAIN = ["t.example"]
DATA_ENCRYPTION_METHOD = $m
MAX_PACKETS_PER_BATCH = 10
MDNS_ALLOW_TARGETS = ["$allow"]
$extra
EOC
	SRV_PORT=$(free_port --udp 127.0.0.1)
	topo_bg SRV "$BIN" serve --config "$D/s$m/server_config.toml" \
	    --listen 127.0.0.1:$SRV_PORT
	wait_line "$D/SRV.out" '^listening'
}

# start_client METHOD RESOLVER [EXTRA TOML]: CLI_PORT. EXTRA keys replace
# the defaults written here (TOML refuses a key twice).
start_client() {
	local m=$1 res=$2 extra=${3:-} k
	mkdir -p "$D/c$m"
	cat >"$D/c$m/base.toml" <<EOC
DOMAINS = ["t.example"]
DATA_ENCRYPTION_METHOD = $m
ENCRYPTION_KEY = "$(key_for "$m")"
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 1000
MTU_TEST_TIMEOUT = 1.0
EOC
	for k in $(printf '%s\n' "$extra" | sed -n 's/^\([A-Z0-9_]*\) *=.*/\1/p'); do
		sed -i "/^$k *=/d" "$D/c$m/base.toml"
	done
	{ cat "$D/c$m/base.toml"; printf '%s\n' "$extra"; } \
	    >"$D/c$m/client_config.toml"
	echo "$res" >"$D/c$m/resolvers.txt"
	CLI_PORT=$(free_port --tcp 127.0.0.1)
	topo_bg CLI "$BIN" connect --config "$D/c$m/client_config.toml" \
	    --resolvers "$D/c$m/resolvers.txt" --listen 127.0.0.1:$CLI_PORT
	wait_line "$D/CLI.out" '^connected'
}

stop_pair() {
	topo_stop "$CLI_PID"
	topo_stop "$SRV_PID"
	[ -n "${RELAY_PID:-}" ] && topo_stop "$RELAY_PID"
	RELAY_PID=
}

down_sha() { # down_sha PROXY N -> sha256 of GET /bytes/N
	curl -s --max-time 40 --socks5-hostname "$1" \
	    "http://$ORIGIN/bytes/$2" | sha256sum | cut -d' ' -f1
}
up_reply() { # up_reply PROXY FILE -> the origin's answer
	curl -s --max-time 40 --socks5-hostname "$1" --data-binary "@$2" \
	    -H 'Content-Type: application/octet-stream' "http://$ORIGIN/upload"
}

for m in 0 1 2 3 4 5; do
	start_server $m
	ok $? "method $m: server up on $SRV_PORT"
	start_client $m 127.0.0.1:$SRV_PORT
	ok $? "method $m: client connected ($(head -2 "$D/CLI.out" | tail -1))"
	is "$(down_sha 127.0.0.1:$CLI_PORT $MiB)" "$DOWN_SHA" \
	    "method $m: 1 MiB download, SHA-256 matches"
	is "$(up_reply 127.0.0.1:$CLI_PORT "$D/up.bin")" \
	    "received $MiB bytes sha256 $UP_SHA" \
	    "method $m: 1 MiB upload, SHA-256 matches"
	if [ $m = 1 ] || [ $m = 5 ]; then
		is "$(down_sha 127.0.0.1:$CLI_PORT $((10 * MiB)))" \
		    "$(bytes_sha $((10 * MiB)))" \
		    "method $m: 10 MiB download, SHA-256 matches"
		head -c $((3 * MiB)) /dev/urandom >"$D/up3.bin"
		is "$(up_reply 127.0.0.1:$CLI_PORT "$D/up3.bin")" \
		    "received $((3 * MiB)) bytes sha256 $(sha256sum "$D/up3.bin" | cut -d' ' -f1)" \
		    "method $m: 3 MiB upload, SHA-256 matches"
	fi
	stop_pair
done

# Compression both ways on compressible data (zstd up, lz4 down).
start_server 1
start_client 1 127.0.0.1:$SRV_PORT "UPLOAD_COMPRESSION_TYPE = 1
DOWNLOAD_COMPRESSION_TYPE = 2"
ok $? "compression: client connected"
yes 'mdns-doctor compressible line 0123456789' | head -c $MiB >"$D/text.bin"
TEXT_SHA=$(sha256sum "$D/text.bin" | cut -d' ' -f1)
is "$(up_reply 127.0.0.1:$CLI_PORT "$D/text.bin")" \
    "received $MiB bytes sha256 $TEXT_SHA" "compressed upload intact"

# 20 concurrent streams of 200 KB each.
want=$(bytes_sha 200000)
pids=()
for i in $(seq 1 20); do
	down_sha 127.0.0.1:$CLI_PORT 200000 >"$D/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
good=0
for i in $(seq 1 20); do
	[ "$(cat "$D/par.$i")" = "$want" ] && good=$((good + 1))
done
is "$good" 20 "20 concurrent streams all intact"

# Server restarted mid-session: the client gets ERROR_DROP for its
# unknown session, re-initialises (same MTUs) and new streams work.
topo_stop "$SRV_PID"
topo_bg SRV "$BIN" serve --config "$D/s1/server_config.toml" \
    --listen 127.0.0.1:$SRV_PORT
wait_line "$D/SRV.out" '^listening'
ok $? "server restarted on the same port"
is "$(down_sha 127.0.0.1:$CLI_PORT 300000)" "$(bytes_sha 300000)" \
    "after the restart a new stream works"
like "$(cat "$D/CLI.err")" "ERROR_DROP" "client saw ERROR_DROP and re-initialised"

# SOCKS4a through the same proxy.
is "$(curl -s --max-time 20 --socks4a 127.0.0.1:$CLI_PORT \
    "http://$ORIGIN/bytes/5000" | sha256sum | cut -d' ' -f1)" \
    "$(bytes_sha 5000)" "SOCKS4a stream intact"

# Refused target: nothing listens on a fresh port.
closed=$(free_port --tcp 127.0.0.1)
is "$(python3 "$D/socksrep.py" 127.0.0.1:$CLI_PORT 127.0.0.1 "$closed")" 5 \
    "connection refused -> SOCKS reply 5"
stop_pair

# Filtered target: only 127.0.0.1 is allowed; 127.0.0.3 is refused before
# any connect, so its listener never sees one.
start_server 1 127.0.0.1/32
start_client 1 127.0.0.1:$SRV_PORT
topo_spawn LSN python3 "$D/listener.py" 127.0.0.3
is "$(python3 "$D/socksrep.py" 127.0.0.1:$CLI_PORT 127.0.0.3 "$LSN_PORT")" 2 \
    "filtered target -> SOCKS reply 2"
is "$(python3 "$D/socksrep.py" 127.0.0.1:$CLI_PORT 10.1.2.3 80)" 2 \
    "private target -> SOCKS reply 2"
sleep 0.3
is "$(grep -c accepted "$D/LSN.out")" 0 "filtered target saw no connection"
stop_pair

# A JSON profile alone (mobile-client format) is enough to connect.
start_server 2
cat >"$D/profile.json" <<EOP
{"version": 1, "protocol": "masterdns", "domain": "t.example",
 "resolvers": [{"type": "udp", "address": "127.0.0.1:$SRV_PORT"}],
 "masterdns": {"encryptionMethod": 2, "key": "$(key_for 2)"}}
EOP
CLI_PORT=$(free_port --tcp 127.0.0.1)
topo_bg CLI "$BIN" connect --profile "$D/profile.json" \
    --listen 127.0.0.1:$CLI_PORT
wait_line "$D/CLI.out" '^connected'
ok $? "profile: client connected ($(head -2 "$D/CLI.out" | tail -1))"
is "$(down_sha 127.0.0.1:$CLI_PORT 200000)" "$(bytes_sha 200000)" \
    "profile: download intact"
stop_pair

# Through unbound (the resolver path real users have).
start_server 1
unbound_start "$D/ub" t.example 127.0.0.1:$SRV_PORT --qname-min yes
ok $? "unbound up on $UNBOUND"
start_client 1 "$UNBOUND"
ok $? "client connected through unbound ($(head -2 "$D/CLI.out" | tail -1))"
is "$(down_sha 127.0.0.1:$CLI_PORT $MiB)" "$DOWN_SHA" \
    "through unbound: 1 MiB download intact"
is "$(up_reply 127.0.0.1:$CLI_PORT "$D/up.bin")" \
    "received $MiB bytes sha256 $UP_SHA" "through unbound: 1 MiB upload intact"
stop_pair

# Through the fault relay: 10 % loss, 5 % duplication, 10 % reordering
# each way. The ARQ (NACK, RESEND, RTO) has to repair every hole, at its
# default settings.
start_server 1 127.0.0.0/8
topo_spawn RELAY "$(topo_tool udp-relay)" --upstream 127.0.0.1:$SRV_PORT \
    --seed 7 --loss 10% --dup 5% --reorder 10% --reorder-ms 20
ok $? "fault relay up on $RELAY_PORT"
start_client 1 127.0.0.1:$RELAY_PORT "MTU_TEST_RETRIES = 5
MTU_TEST_TIMEOUT = 0.3"
ok $? "client connected through the lossy relay ($(head -2 "$D/CLI.out" | tail -1))"
is "$(down_sha 127.0.0.1:$CLI_PORT $MiB)" "$DOWN_SHA" \
    "10 % loss: 1 MiB download intact"
is "$(up_reply 127.0.0.1:$CLI_PORT "$D/up.bin")" \
    "received $MiB bytes sha256 $UP_SHA" "10 % loss: 1 MiB upload intact"
stop_pair

done_testing
