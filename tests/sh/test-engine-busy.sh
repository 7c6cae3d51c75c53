#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-busy.sh — SESSION_BUSY end to end: a server with
# MAX_ALLOWED_CLIENT_ACTIVE_SESSION = 1 and two real clients. The first
# gets the session; the second is answered SESSION_BUSY, waits
# SESSION_INIT_BUSY_RETRY_INTERVAL_SECONDS (1 s here instead of upstream's
# 60 s) and asks again, still busy, until the first client stops (SIGTERM
# -> SESSION_CLOSE ×3), then gets a session of its own and moves data
# (SHA-256 checked). The first client's stream works while the second is
# kept waiting.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR

eng_origin
ok $? "http fixture on $ORIGIN"
eng_serve SRV "MAX_ALLOWED_CLIENT_ACTIVE_SESSION = 1"
ok $? "server with one session slot up on $SRV_ADDR"
BUSY="SESSION_INIT_BUSY_RETRY_INTERVAL_SECONDS = 1.0"
eng_connect A "$SRV_ADDR" "$BUSY"
ok $? "first client connected ($(sed -n 2p "$D/A.out"))"

# The second client finds the table full. It must not report connected.
eng_connect_bg B "$SRV_ADDR" "$BUSY"
eng_wait "$D/B.err" "busy" 20
ok $? "second client is told the server is busy"
# Two more BUSY answers prove it backs off and retries (1 s apart).
n0=$(grep -c busy "$D/B.err")
sleep 2.5
n1=$(grep -c busy "$D/B.err")
[ "$n1" -gt "$n0" ]
ok $? "second client retries after the busy interval ($n0 -> $n1)"
[ "$n1" -le $((n0 + 4)) ]
ok $? "and does not hammer the server ($n0 -> $n1 in 2.5 s)"
! grep -q '^connected' "$D/B.out"
ok $? "second client is not connected while the slot is taken"

want=$(fix_sha 200000 5)
is "$(curl -s --max-time 20 --socks5-hostname "$A_PROXY" \
    "http://$ORIGIN/bytes/200000?seed=5" | sha256sum | cut -d' ' -f1)" \
    "$want" "first client's stream works meanwhile"

# The first client leaves with SESSION_CLOSE; the slot frees at once.
topo_stop "$A_PID"
eng_wait "$D/B.out" '^connected' 15
ok $? "second client gets the session after the first one closed"
like "$(sed -n '/^connected/p' "$D/B.out")" "session [0-9]+" \
    "second client reports its session"
is "$(curl -s --max-time 20 --socks5-hostname "$B_PROXY" \
    "http://$ORIGIN/bytes/200000?seed=5" | sha256sum | cut -d' ' -f1)" \
    "$want" "second client's stream intact"

# The table is full again: a third client is busy now.
eng_connect_bg C "$SRV_ADDR" "$BUSY"
eng_wait "$D/C.err" "busy" 20
ok $? "third client is busy while the second holds the slot"

done_testing
