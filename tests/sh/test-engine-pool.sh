#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-pool.sh — the client's resolver pool end to end: a real
# `serve` behind resolver farms playing five resolvers (good, lossy, slow,
# dead, rate-limited) plus a second good one in its own farm process that
# is killed mid-transfer and brought back. Checks: the transfer completes
# with the right SHA-256; the dead resolver is kept out with the reason in
# `status --format json`; the killed resolver is disabled ("no valid answer")
# while the transfer still completes, and the lossy and rate-limited ones
# (which still answer) are not; once its farm is back it is re-enabled by
# a recheck.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/pool-lib.sh

MiB=1048576
SIZE=$((${POOL_TEST_MIB:-10} * MiB))

pool_serve
ok $? "serve up on $SRV"
pool_origin
ok $? "HTTP origin on $ORIGIN"
cat >"$D/farm-a.spec" <<EOS
127.3.0.1 good
127.3.0.2 lossy p=0.2
127.3.0.3 slow delay_ms=150
127.3.0.4 dead
127.3.0.5 ratelimited qps=200 mode=refused
EOS
echo "127.3.0.6 good" >"$D/farm-b.spec"
pool_farm FA "$D/farm-a.spec"
ok $? "farm A (good, lossy, slow, dead, rate-limited) on $FA_PORT"
pool_farm FB "$D/farm-b.spec"
ok $? "farm B (one good resolver, killable) on $FB_PORT"
{
	for i in 1 2 3 4 5; do echo "127.3.0.$i:$FA_PORT"; done
	echo "127.3.0.6:$FB_PORT"
} >"$D/resolvers.txt"
pool_client "$D/resolvers.txt" "MTU_TEST_TIMEOUT = 1.0
PACKET_DUPLICATION_COUNT = 2
RESOLVER_BALANCING_STRATEGY = 2
AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS = 3
MDNS_READY_MIN = 4"
ok $? "connect listening on $CLI_PORT"
wait_line "$D/CLI.out" '^connected' 200
ok $? "session up: $(grep ^connected "$D/CLI.out")"

want=$(direct_sha $SIZE)
t0=$(date +%s%N)
got=$(down_sha $SIZE 80)
t1=$(date +%s%N)
is "$got" "$want" \
    "$((SIZE / MiB)) MiB download through 6 resolvers, SHA-256 matches"
diag "$((SIZE / MiB)) MiB took $(((t1 - t0) / 1000000)) ms"

dead=127.3.0.4:$FA_PORT
wait_state "$dead" rejected 150
ok $? "dead resolver rejected after its MTU test"
like "$(resolver_field "$dead" reason)" 'MTU test failed' \
    "status says why: $(resolver_field "$dead" reason)"
slow=127.3.0.3:$FA_PORT
wait_state "$slow" active 150
ok $? "slow resolver (150 ms) joined live after the start"
is "$(status_json | jq -r '.phase')" connected "still connected"

# Kill farm B (a good resolver carrying traffic) in the middle of a
# transfer; the transfer must still complete.
gone=127.3.0.6:$FB_PORT
is "$(resolver_field "$gone" state)" active "farm B's resolver active"
down_sha $SIZE 80 >"$D/kill.sha" &
cpid=$!
sleep 1
before=$(resolver_field "$gone" sent)
topo_stop "$FB_PID"
wait "$cpid"
is "$(cat "$D/kill.sha")" "$want" \
    "download with a good resolver killed mid-transfer: SHA-256 matches"
ok $([ "${before:-0}" -gt 0 ]; echo $?) \
    "the killed resolver carried traffic before ($before queries)"
wait_state "$gone" disabled 150
ok $? "killed resolver auto-disabled"
like "$(resolver_field "$gone" reason)" 'no valid answer' \
    "status says why: $(resolver_field "$gone" reason)"
status_json >"$D/st1.json"
jq -c '.resolvers.list[] | [.address, .state, .reason, .sent, .answered,
    .timeouts]' "$D/st1.json" | sed 's/^/# /'

is "$(resolver_field "127.3.0.2:$FA_PORT" state)" active \
    "the lossy resolver (20 %) still answers: never disabled"
is "$(resolver_field "127.3.0.5:$FA_PORT" state)" active \
    "the rate-limited one (REFUSED) stays: it answers"

# Bring it back on the same address and port: a recheck re-enables it.
pool_farm FB2 "$D/farm-b.spec" --port "$FB_PORT"
ok $? "farm B back on $FB_PORT"
wait_state "$gone" active 300
ok $? "the resolver that came back is re-enabled"
got=$(down_sha $MiB 60)
is "$got" "$(direct_sha $MiB)" "1 MiB after the re-enable, SHA-256 matches"
done_testing
