#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-store-crash.sh — crash consistency of the store. A writer
# (build/tools/store-writer) commits batches of K rows plus the scan cursor
# in one transaction each; we SIGKILL it mid-run, several times on the same
# DB, and check: integrity_check is ok, every batch present has exactly K
# rows, every batch the writer reported committed is present, and the
# cursor of each run equals the number of its batches (never ahead or
# behind). Each round also proves the store reopens a killed DB.
set -u
. "$(dirname "$0")/../lib/tap.sh"
BUILD=${BUILD:-build}
W=$BUILD/tools/store-writer
K=300
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-store-crash.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
db=$tmp/state/history.db

if [ ! -x "$W" ]; then
	ok 1 "store-writer built ($W)"
	done_testing
	exit 1
fi

for round in 1 2 3 4; do
	out=$tmp/out.$round
	"$W" "$db" "$K" >"$out" 2>"$tmp/err.$round" &
	pid=$!
	# Let it commit a few batches, then kill at a round-dependent moment.
	for _ in $(seq 1 200); do
		[ "$(wc -l <"$out")" -ge $((round * 3)) ] && break
		sleep 0.02
	done
	sleep "0.0$((round * 7 % 10))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	pid=
	committed=$(wc -l <"$out")
	run=$(awk 'NR == 1 { print $2 }' "$out")
	ok $([ "$committed" -ge 3 ] && echo 0 || echo 1) \
	    "round $round: writer committed $committed batches before SIGKILL"
	is "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok \
	    "round $round: integrity_check ok"
	is "$(sqlite3 "$db" "SELECT count(*) FROM (SELECT domain FROM
	    resolver_results WHERE run_id = $run GROUP BY domain
	    HAVING count(*) != $K)")" 0 \
	    "round $round: every batch has exactly $K rows"
	have=$(sqlite3 "$db" "SELECT count(DISTINCT domain) FROM
	    resolver_results WHERE run_id = $run")
	ok $([ "$have" -ge "$committed" ] && echo 0 || echo 1) \
	    "round $round: all $committed reported batches kept ($have present)"
	is "$(sqlite3 "$db" "SELECT position FROM scan_progress
	    WHERE run_id = $run")" "$have" \
	    "round $round: cursor equals the batches stored"
done
is "$(sqlite3 "$db" 'SELECT count(*) FROM runs')" 4 \
    "every round reopened the killed DB and started a run"
v=$(sed -n "s/^#define STORE_SCHEMA_VERSION \([0-9]*\)/\1/p" store/store.h)
is "$(sqlite3 "$db" 'PRAGMA user_version')" "$v" "schema version still $v"
done_testing
