#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-http-fixture.sh — the local "internet": downloads match their
# X-Content-SHA256 header and an independent sha256sum, the body follows
# its documented formula, uploads are hashed right, the IP-echo endpoints
# have their three shapes, keep-alive and pipelining work, bad requests get
# clear errors, many connections at once are served, and big bodies are
# streamed, not buffered.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
fix=$(topo_tool http-fixture)
d=$TOPO_DIR

topo_spawn HTTP "$fix"
ok $? "http-fixture started"
B=http://127.0.0.1:$HTTP_PORT
hdr() { sed -n "s/^$1: \(.*\)\r$/\1/Ip" "$2"; }

# --- 10 MiB download
curl -sS -D "$d/h1" -o "$d/b1" "$B/bytes/10485760?seed=7"
ok $? "10 MiB download"
is "$(stat -c %s "$d/b1")" 10485760 "body is 10 MiB"
is "$(hdr Content-Length "$d/h1")" 10485760 "Content-Length header"
sha=$(sha256sum <"$d/b1" | cut -d' ' -f1)
is "$(hdr X-Content-SHA256 "$d/h1")" "$sha" "X-Content-SHA256 = sha256sum"
curl -sS -D "$d/h2" -o "$d/b2" "$B/bytes/10485760?seed=7"
cmp -s "$d/b1" "$d/b2"
ok $? "same seed, same bytes"
curl -sS -D "$d/h3" -o "$d/b3" "$B/bytes/10485760?seed=8"
ok "$([ "$(hdr X-Content-SHA256 "$d/h3")" != "$sha" ]; echo $?)" \
    "another seed, another body"
is "$(hdr X-Content-SHA256 "$d/h3")" "$(sha256sum <"$d/b3" | cut -d' ' -f1)" \
    "seed 8: header matches too"
rm -f "$d/b2" "$d/b3"

# --- the body is the documented formula: word k = mix64(S + (k+1)*phi),
# little-endian (recomputed here in shell arithmetic, 64-bit wrapping).
mix64() {
	local z=$1
	z=$(( (z ^ ((z >> 30) & 0x3ffffffff)) * 0xbf58476d1ce4e5b9 ))
	z=$(( (z ^ ((z >> 27) & 0x1fffffffff)) * 0x94d049bb133111eb ))
	printf '%016x' $(( z ^ ((z >> 31) & 0x1ffffffff) ))
}
le() { local h=$1 o="" i; for ((i = 14; i >= 0; i -= 2)); do o+=${h:i:2}; done; echo "$o"; }
want=$(le "$(mix64 $(( 7 + 0x9e3779b97f4a7c15 )))")$(le "$(mix64 $(( 7 + 2 * 0x9e3779b97f4a7c15 )))")
is "$(head -c 16 "$d/b1" | od -An -tx1 | tr -d ' \n')" "$want" \
    "first two words follow the documented generator"
curl -sS -o "$d/small" "$B/bytes/1001?seed=7"
cmp -s "$d/small" <(head -c 1001 "$d/b1")
ok $? "a shorter body is a prefix of a longer one"
curl -sS -D "$d/h0" -o "$d/zero" "$B/bytes/0"
is "$(stat -c %s "$d/zero")/$(hdr X-Content-SHA256 "$d/h0")" \
    "0/$(sha256sum </dev/null | cut -d' ' -f1)" "empty body, hash of nothing"

# --- uploads
head -c 3145728 /dev/urandom >"$d/up"
out=$(curl -sS --data-binary @"$d/up" "$B/upload")
is "$out" "received 3145728 bytes sha256 $(sha256sum <"$d/up" | cut -d' ' -f1)" \
    "3 MiB upload hashed right"
out=$(curl -sS -H 'Expect:' --data-binary @"$d/b1" "$B/upload")
is "$out" "received 10485760 bytes sha256 $sha" "10 MiB upload (no Expect)"
out=$(curl -sS --data-binary '' "$B/upload")
is "$out" "received 0 bytes sha256 $(sha256sum </dev/null | cut -d' ' -f1)" \
    "empty upload"

# --- IP echo shapes
curl -sS -D "$d/hip" -o "$d/ip" "$B/ip"
is "$(cat "$d/ip")" "127.0.0.1" "/ip is the peer address"
is "$(hdr Content-Length "$d/hip")" 10 "/ip has Content-Length"
is "$(curl -sS "$B/ip.json" | jq -r .ip)" 127.0.0.1 "/ip.json {\"ip\": ...}"
is "$(curl -sS "$B/ip.kv" | tr '\n' ' ')" "ip=127.0.0.1 loc=XX " "/ip.kv lines"
topo_spawn FAKE "$fix" --fake-ip 127.9.9.9 --loc DE --listen 127.0.0.3
is "$(curl -sS "http://127.0.0.3:$FAKE_PORT/ip.kv" | tr '\n' ' ')" \
    "ip=127.9.9.9 loc=DE " "--fake-ip and --loc"
is "$(curl -sS "http://127.0.0.3:$FAKE_PORT/ip.json")" '{"ip": "127.9.9.9"}' \
    "--fake-ip in JSON"

# --- keep-alive: the second transfer reuses the connection
out=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects} ' \
    "$B/ip" "$B/bytes/100000")
is "$out" "1 0 " "keep-alive: one connection for two requests"

# --- pipelining and errors over a raw socket
raw() { # raw REQUEST-TEXT: send it, print everything until the server closes
	exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || return 1
	printf '%b' "$1" >&3
	timeout 5 cat <&3
	exec 3<&-
}
out=$(raw 'GET /ip HTTP/1.1\r\nHost: x\r\n\r\nGET /ip.kv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
is "$(grep -c '^HTTP/1.1 200 OK' <<<"$out")" 2 "pipelined: two answers"
like "$out" "loc=XX" "pipelined: second answer complete, then close"
out=$(raw 'GET /ip HTTP/1.1\r\nContent-Length: 5\r\n\r\nGET /'; echo "rc=$?")
like "$out" "127.0.0.1" "GET with a body: answered"
like "$out" "Connection: close" "GET with a body: then closed, body not parsed"
out=$(raw 'GARBAGE\r\n\r\n')
like "$out" "^HTTP/1.1 400 Bad Request" "garbage: 400 and close"
out=$(raw 'POST /upload HTTP/1.1\r\nHost: x\r\n\r\n')
like "$out" "^HTTP/1.1 411 Length Required" "upload without length: 411"
out=$(raw 'GET /x HTTP/1.0\r\n\r\n')
like "$out" "^HTTP/1.1 404 Not Found" "unknown path: 404 (HTTP/1.0 closes)"
is "$(curl -s -o /dev/null -w '%{http_code}' "$B/bytes/abc")" 400 \
    "bad size: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/ip")" 405 \
    "POST /ip: 405"
is "$(curl -s -o /dev/null -w '%{http_code}' "$B/bytes/$((5 << 30))")" 400 \
    "beyond --max-bytes: 400"

# --- many connections at once
pids=()
for i in $(seq 1 24); do
	curl -sS -D "$d/ph$i" -o "$d/pb$i" "$B/bytes/$((200000 + i))?seed=$i" &
	pids+=($!)
done
wait "${pids[@]}"
good=0
for i in $(seq 1 24); do
	[ "$(hdr X-Content-SHA256 "$d/ph$i")" = \
	    "$(sha256sum <"$d/pb$i" | cut -d' ' -f1)" ] &&
		[ "$(stat -c %s "$d/pb$i")" = $((200000 + i)) ] &&
		good=$((good + 1))
	rm -f "$d/ph$i" "$d/pb$i"
done
is "$good" 24 "24 parallel downloads all verified"

# --- a big body is streamed: the server's peak memory stays small
curl -sS -o /dev/null -D "$d/hb" "$B/bytes/134217728?seed=3"
is "$(hdr Content-Length "$d/hb")" 134217728 "128 MiB served"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$HTTP_PID/status")
diag "server peak RSS after 128 MiB: $hwm kB"
ok "$([ "$hwm" -lt 32768 ]; echo $?)" "peak RSS ${hwm} kB < 32 MiB: streamed"

done_testing
