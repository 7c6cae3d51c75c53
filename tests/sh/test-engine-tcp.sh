#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-tcp.sh — TCP-forward mode end to end: `serve` with
# PROTOCOL_TYPE = "TCP" forwarding every stream to the http fixture
# (FORWARD_IP/FORWARD_PORT), `connect` in TCP mode whose local listener
# is a plain TCP port carried through DNS to that target. Downloads and
# uploads are checked by SHA-256 (the fixture's X-Content-SHA256 header,
# fetched directly, and its "received N bytes sha256 HEX" answer); the
# half-close case sends an upload, shuts the write side and must still
# read the whole reply (client CLOSE_READ -> server shutdown(SHUT_WR)).
# The same half-close is checked in SOCKS5 mode.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR
HC=tests/sh/engine-halfclose.py

eng_origin
ok $? "http fixture on $ORIGIN"

eng_serve SRV "PROTOCOL_TYPE = \"TCP\"
FORWARD_IP = \"127.0.0.1\"
FORWARD_PORT = $ORIGIN_PORT"
ok $? "TCP-forward server up on $SRV_ADDR"
eng_connect CLI "$SRV_ADDR" 'PROTOCOL_TYPE = "TCP"'
ok $? "TCP client connected ($(sed -n 2p "$D/CLI.out"))"

# The client's listener is the fixture, as far as curl can tell.
for n in 1000 $MiB $((4 * MiB)); do
	want=$(fix_sha $n 11)
	got=$(curl -s --max-time 40 "http://$CLI_PROXY/bytes/$n?seed=11" |
	    sha256sum | cut -d' ' -f1)
	is "$got" "$want" "TCP mode: $n byte download, SHA-256 matches"
done
hdr=$(curl -s --max-time 20 -D - -o /dev/null \
    "http://$CLI_PROXY/bytes/5000?seed=2")
like "$hdr" "X-Content-SHA256: $(fix_sha 5000 2)" \
    "TCP mode: the fixture's own headers come through"

head -c $MiB /dev/urandom >"$D/up.bin"
UP_SHA=$(sha256sum "$D/up.bin" | cut -d' ' -f1)
is "$(curl -s --max-time 40 --data-binary "@$D/up.bin" \
    -H 'Content-Type: application/octet-stream' \
    "http://$CLI_PROXY/upload")" "received $MiB bytes sha256 $UP_SHA" \
    "TCP mode: 1 MiB upload, SHA-256 matches"

# Half-close: upload, shutdown(SHUT_WR), then read the reply.
is "$(python3 "$HC" tcp "$CLI_PROXY" "$D/up.bin")" \
    "received $MiB bytes sha256 $UP_SHA" \
    "TCP mode: upload + half-close, the reply still arrives"
head -c 300 /dev/urandom >"$D/small.bin"
is "$(python3 "$HC" tcp "$CLI_PROXY" "$D/small.bin")" \
    "received 300 bytes sha256 $(sha256sum "$D/small.bin" | cut -d' ' -f1)" \
    "TCP mode: small upload + half-close"

# Five at once, each its own stream to the same forward target.
pids=()
for i in 1 2 3 4 5; do
	curl -s --max-time 40 "http://$CLI_PROXY/bytes/300000?seed=$i" |
	    sha256sum | cut -d' ' -f1 >"$D/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
good=0
for i in 1 2 3 4 5; do
	[ "$(cat "$D/par.$i")" = "$(fix_sha 300000 $i)" ] && good=$((good + 1))
done
is "$good" 5 "TCP mode: 5 concurrent streams intact"

# Nothing listens at the forward target any more: the local connection
# must be closed without data rather than hang.
topo_stop "$ORIGIN_PID"
got=$(curl -s --max-time 20 "http://$CLI_PROXY/bytes/100?seed=1" |
    wc -c)
is "$got" 0 "TCP mode: dead forward target -> connection closed, no data"
like "$(cat "$D/CLI.err")" "STREAM_CONNECT_FAIL|CONNECT_FAIL|refused" \
    "TCP mode: the client logged the failed connect"
topo_stop "$CLI_PID"
topo_stop "$SRV_PID"

# The same half-close in SOCKS5 mode.
eng_origin
eng_serve SRV5
eng_connect CLI5 "$SRV5_ADDR"
ok $? "SOCKS5 client connected"
is "$(python3 "$HC" socks "$CLI5_PROXY" 127.0.0.1 "$ORIGIN_PORT" \
    "$D/up.bin")" "received $MiB bytes sha256 $UP_SHA" \
    "SOCKS5 mode: upload + half-close, the reply still arrives"

done_testing
