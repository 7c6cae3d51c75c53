#!/usr/bin/env bash
# tests/run.sh — run the whole suite: every unit test binary in
# $BUILD/tests and every shell test in tests/sh, each emitting TAP. Prints
# one line per test file and ends with the exact line
#   tests: N passed, N failed
# A file that crashes, times out, exits non-zero without a failing assertion
# or runs fewer assertions than its plan counts as one more failure.
#
# Usage: tests/run.sh [PATTERN]   (only files whose name contains PATTERN)
# Env:   BUILD (default build), MDNS_SHARED (default ../shared),
#        MDNS_VALGRIND=1 (run unit binaries under valgrind),
#        TEST_TIMEOUT (seconds per file, default 900), TEST_VERBOSE=1.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
export MDNS_TOP=$PWD
export MDNS_BIN=$PWD/$BUILD/mdns-doctor
export MDNS_SHARED=${MDNS_SHARED:-$(cd .. && pwd)/shared}
export NO_COLOR=1
# Engines under test record snapshots (and anything else that defaults to
# the history) in a state directory of the suite's own, never the user's.
export XDG_STATE_HOME=$PWD/$BUILD/test-state
rm -rf "$XDG_STATE_HOME"
pattern=${1:-}
timeout_s=${TEST_TIMEOUT:-900}
logdir=$BUILD/test-logs
mkdir -p "$logdir"

passed=0
failed=0
failed_files=()
tmpdir=${TMPDIR:-/tmp}
marker=$(mktemp "$tmpdir/mdns-suite-start.XXXXXX")

run_one() {
	local name=$1; shift
	local log=$logdir/$name.log
	local start end rc ok notok plan
	start=$(date +%s%N)
	timeout --kill-after=10 "$timeout_s" "$@" >"$log" 2>&1
	rc=$?
	end=$(date +%s%N)
	ok=$(grep -cE '^ok [0-9]+' "$log")
	notok=$(grep -cE '^not ok [0-9]+' "$log")
	plan=$(grep -oE '^1\.\.[0-9]+' "$log" | tail -1 | cut -d. -f3)
	local extra=0 why=""
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		extra=1; why=" (exit $rc)"
		[ "$rc" -eq 124 ] && why=" (timed out after ${timeout_s}s)"
	fi
	if [ -z "$plan" ]; then
		extra=1; why="$why (no plan)"
	elif [ "$plan" -ne $((ok + notok)) ]; then
		extra=1; why="$why (planned $plan, ran $((ok + notok)))"
	fi
	passed=$((passed + ok))
	failed=$((failed + notok + extra))
	printf '%-40s %4d ok %3d not ok %6ss%s\n' "$name" "$ok" "$notok" \
	    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" "$why"
	if [ $((notok + extra)) -ne 0 ]; then
		failed_files+=("$name")
		grep -E '^not ok|^#' "$log" | head -40 | sed 's/^/    /'
		[ "$extra" -ne 0 ] && tail -15 "$log" | sed 's/^/    | /'
	elif [ -n "${TEST_VERBOSE:-}" ]; then
		sed 's/^/    /' "$log"
	fi
}

vg=()
if [ -n "${MDNS_VALGRIND:-}" ]; then
	vg=(valgrind -q --error-exitcode=99 --leak-check=full
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite)
fi

for t in "$BUILD"/tests/test-*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	[ -n "$pattern" ] && [[ "$n" != *"$pattern"* ]] && continue
	run_one "$n" "${vg[@]}" "$t"
done
for t in tests/sh/test-*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ -n "$pattern" ] && [[ "$n" != *"$pattern"* ]] && continue
	run_one "$n" bash "$t"
done

# Nothing a test made may outlive it: temporary files and directories
# named like ours, created during this run, count as one failure.
left=$(find "$tmpdir" -maxdepth 1 -newer "$marker" \
    \( -name 'mdns-*' -o -name 'test-*' -o -name 'bench-*' -o -name 'tmp.*' \) \
    ! -path "$marker" 2>/dev/null | sort)
rm -f "$marker"
if [ -n "$left" ]; then
	failed=$((failed + 1))
	failed_files+=("temporary-files")
	echo "temporary files left behind by the suite:"
	printf '%s\n' "$left" | head -20 | sed 's/^/    /'
fi
if [ ${#failed_files[@]} -ne 0 ]; then
	echo "failing: ${failed_files[*]} (logs in $logdir)"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
