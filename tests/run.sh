#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/run.sh — run the whole suite: every unit test binary in
# $BUILD/tests and every shell test in tests/sh, each emitting TAP. Prints
# one line per test file and ends with the exact line
#   tests: N passed, N failed
# A file that crashes, times out, exits non-zero without a failing assertion
# or runs fewer assertions than its plan counts as one more failure.
#
# Scratch files: the run makes a directory of its own,
# ${TMPDIR:-/tmp}/mdns-suite.XXXXXX, and every test runs with TMPDIR
# pointing there. Anything a test leaves in it is one more failure of that
# test (listed, then removed so the next test starts clean); anything found
# there when the run ends (written by a process that outlived its test) is
# a failure of the run, "temporary-files". The directory is removed at the
# end. Only that directory is looked at: files other processes write to
# /tmp meanwhile are none of the suite's business (issue 11 point 11).
#
# Usage: tests/run.sh [PATTERN]   (only files whose name contains PATTERN)
# Env:   BUILD (default build), MDNS_SHARED (default ../shared),
#        MDNS_VALGRIND=1 (run unit binaries under valgrind),
#        TEST_TIMEOUT (seconds per file, default 900), TEST_VERBOSE=1,
#        TEST_LOGDIR (default $BUILD/test-logs),
#        TEST_EXTRA_DIR (a directory of more test-*.sh files, run after
#        tests/sh; tests/sh/test-runner.sh uses it to test this runner).
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
logdir=${TEST_LOGDIR:-$BUILD/test-logs}
mkdir -p "$logdir"

passed=0
failed=0
failed_files=()
suite_tmp=$(mktemp -d "${TMPDIR:-/tmp}/mdns-suite.XXXXXX") || {
	echo "tests/run.sh: cannot make a scratch directory in ${TMPDIR:-/tmp}"
	echo "tests: 0 passed, 1 failed"
	exit 1
}
# Tests that check another uid is refused (test-ctl, test-serve-ctl ...)
# run a process as that uid which must reach a socket in here: let it
# traverse, not list (/tmp itself is 1777).
chmod 0711 "$suite_tmp"
# The engines the tests start find their control sockets, history
# databases and state through the XDG variables: give the suite its own,
# so it never meets an engine of this machine or of another suite running
# at the same time, and never writes into the user's own state.
suite_xdg=$(mktemp -d "${TMPDIR:-/tmp}/mdns-suite-xdg.XXXXXX") || exit 1
mkdir -m 0700 "$suite_xdg/run" "$suite_xdg/state" "$suite_xdg/config" \
    "$suite_xdg/cache"
export XDG_RUNTIME_DIR=$suite_xdg/run XDG_STATE_HOME=$suite_xdg/state
export XDG_CONFIG_HOME=$suite_xdg/config XDG_CACHE_HOME=$suite_xdg/cache
trap 'rm -rf "$suite_tmp" "$suite_xdg"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export TMPDIR=$suite_tmp

# What is in the suite's scratch directory now, one name a line.
leftovers() {
	find "$suite_tmp" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
	    sort
}

run_one() {
	local name=$1; shift
	local log=$logdir/$name.log
	local start end rc ok notok plan left
	start=$(date +%s%N)
	timeout --kill-after=10 "$timeout_s" "$@" >"$log" 2>&1
	rc=$?
	end=$(date +%s%N)
	ok=$(grep -cE '^ok [0-9]+' "$log")
	notok=$(grep -cE '^not ok [0-9]+' "$log")
	plan=$(grep -oE '^1\.\.[0-9]+' "$log" | tail -1 | cut -d. -f3)
	local extra=0 leak=0 why=""
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		extra=1; why=" (exit $rc)"
		[ "$rc" -eq 124 ] && why=" (timed out after ${timeout_s}s)"
	fi
	if [ -z "$plan" ]; then
		extra=1; why="$why (no plan)"
	elif [ "$plan" -ne $((ok + notok)) ]; then
		extra=1; why="$why (planned $plan, ran $((ok + notok)))"
	fi
	left=$(leftovers)
	if [ -n "$left" ]; then
		leak=1; why="$why (left files in TMPDIR)"
	fi
	passed=$((passed + ok))
	failed=$((failed + notok + extra + leak))
	printf '%-40s %4d ok %3d not ok %6ss%s\n' "$name" "$ok" "$notok" \
	    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" "$why"
	if [ $((notok + extra + leak)) -ne 0 ]; then
		failed_files+=("$name")
		grep -E '^not ok|^#' "$log" | head -40 | sed 's/^/    /'
		[ "$extra" -ne 0 ] && tail -15 "$log" | sed 's/^/    | /'
		if [ "$leak" -ne 0 ]; then
			echo "    left in TMPDIR ($suite_tmp):"
			printf '%s\n' "$left" | head -20 | sed 's/^/      /'
			printf '%s\n' "$left" | while IFS= read -r f; do
				rm -rf -- "${suite_tmp:?}/$f"
			done
		fi
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
for t in tests/sh/test-*.sh ${TEST_EXTRA_DIR:+"$TEST_EXTRA_DIR"/test-*.sh}; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ -n "$pattern" ] && [[ "$n" != *"$pattern"* ]] && continue
	run_one "$n" bash "$t"
done

# Written there after its test ended, by a process that outlived it.
left=$(leftovers)
if [ -n "$left" ]; then
	failed=$((failed + 1))
	failed_files+=("temporary-files")
	echo "temporary files left in the suite's TMPDIR ($suite_tmp):"
	printf '%s\n' "$left" | head -20 | sed 's/^/    /'
fi
if [ ${#failed_files[@]} -ne 0 ]; then
	echo "failing: ${failed_files[*]} (logs in $logdir)"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
