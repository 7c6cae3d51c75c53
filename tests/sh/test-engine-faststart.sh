#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-faststart.sh — the pool's fast start with 1,000 resolvers of
# which 990 are dead (MTU_TEST_TIMEOUT 2 s): the SOCKS port carries a
# SHA-256-checked transfer while the status still shows resolvers under
# test (the tunnel did not wait for the whole list), the synced MTU does
# not change while the rest are tested, and in the background every
# remaining resolver joins (the 10 good ones) or is rejected with a reason.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/pool-lib.sh

MiB=1048576
pool_serve
ok $? "serve up on $SRV"
pool_origin
ok $? "HTTP origin on $ORIGIN"
# 1,000 addresses: all dead, then 10 good ones spread through the list
# (every 100th, starting at the 6th).
{
	echo "127.5.0.0-127.5.3.231 dead"
	for i in 0 1 2 3 4 5 6 7 8 9; do
		n=$((i * 100 + 5))
		echo "127.5.$((n / 256)).$((n % 256)) good"
	done
} >"$D/farm.spec"
pool_farm FARM "$D/farm.spec"
ok $? "farm with 1,000 resolvers on $FARM_PORT"
for ((n = 0; n < 1000; n++)); do
	echo "127.5.$((n / 256)).$((n % 256)):$FARM_PORT"
done >"$D/resolvers.txt"
is "$(wc -l <"$D/resolvers.txt")" 1000 "1,000 resolvers in the list"
t0=$(date +%s%N)
pool_client "$D/resolvers.txt" "MTU_TEST_TIMEOUT = 2.0
MTU_TEST_RETRIES = 2
MTU_TEST_PARALLELISM = 256"
ok $? "connect listening on $CLI_PORT"
wait_line "$D/CLI.out" '^connected' 300
ok $? "session up: $(grep ^connected "$D/CLI.out")"
t1=$(date +%s%N)
diag "tunnel up $(((t1 - t0) / 1000000)) ms after connect started"
got=$(down_sha $MiB 30)
t2=$(date +%s%N)
status_json >"$D/st-early.json"
is "$got" "$(direct_sha $MiB)" "1 MiB through the tunnel, SHA-256 matches"
diag "first transfer done $(((t2 - t0) / 1000000)) ms after connect started"
testing=$(jq '.resolvers.testing' "$D/st-early.json")
ok $([ "$testing" -gt 500 ]; echo $?) \
    "transfer done while $testing resolvers were still under test"
mtu0=$(jq -c '.mtu' "$D/st-early.json")
diag "early: $(jq -c '.resolvers | del(.list)' "$D/st-early.json") mtu $mtu0"

# Background: everything gets a verdict (990 x 2 probes x 2 s / 256).
for ((i = 0; i < 600; i++)); do
	status_json >"$D/st.json"
	[ "$(jq '.resolvers.testing' "$D/st.json")" = 0 ] && break
	sleep 0.1
done
is "$(jq '.resolvers.testing' "$D/st.json")" 0 "every resolver tested"
is "$(jq '.resolvers.active' "$D/st.json")" 10 "the 10 good ones are active"
is "$(jq '.resolvers.rejected + .resolvers.disabled' "$D/st.json")" 990 \
    "the 990 dead ones are out"
is "$(jq '[.resolvers.list[] | select(.state != "active" and
    (.reason | length) == 0)] | length' "$D/st.json")" 0 \
    "every one that is out says why"
diag "e.g. $(jq -r '[.resolvers.list[] | select(.state == "rejected")][0] |
    .address + ": " + .reason' "$D/st.json")"
is "$(jq -c '.mtu' "$D/st.json")" "$mtu0" "synced MTU unchanged: $mtu0"
is "$(jq '.resolvers.list | length' "$D/st.json")" 1000 \
    "status lists all 1,000 (cap 1,000)"
got=$(down_sha $MiB 30)
is "$got" "$(direct_sha $MiB)" "1 MiB with all 10 active, SHA-256 matches"
is "$(jq -r '.phase' "$D/st.json")" connected "still connected"
done_testing
