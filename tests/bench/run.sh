#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/run.sh — run every $BUILD/bench/bench-* binary in turn and
# print its output. Benchmarks are discovered by name, so adding
# tests/bench/bench-NAME.c is enough. Exits non-zero if any benchmark
# fails (or none is built).
# Usage: tests/bench/run.sh [PATTERN]   Env: BUILD (default build)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export MDNS_TOP=$PWD
export MDNS_BIN=$PWD/$BUILD/mdns-doctor
export MDNS_SHARED=${MDNS_SHARED:-$(cd .. && pwd)/shared}
pattern=${1:-}
failed=()
n=0
for b in "$BUILD"/bench/bench-*; do
	[ -x "$b" ] && [ -f "$b" ] || continue
	name=$(basename "$b")
	[ -n "$pattern" ] && [[ "$name" != *"$pattern"* ]] && continue
	n=$((n + 1))
	echo "== $name"
	"$b"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "!! $name failed (exit $rc)"
		failed+=("$name")
	fi
done
if [ "$n" -eq 0 ]; then
	echo "bench: no benchmarks in $BUILD/bench (run make bench)" >&2
	exit 1
fi
if [ ${#failed[@]} -ne 0 ]; then
	echo "bench: failed: ${failed[*]}"
	exit 1
fi
echo "bench: $n benchmarks ran"
