#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-runner.sh — tests/run.sh's scratch-file rule (issue 11 point 11):
# the suite looks only at the TMPDIR it made for itself. A run of a fast
# unit test, while another process keeps writing tmp.* and mdns-* files
# into the TMPDIR the run was started with, reports 0 failed; a file a test
# leaves in the run's own TMPDIR is still a failure, listed by name, and
# the run removes its directory at the end. The inner runs get their own
# outer TMPDIR, log directory and, for the leaving test, an extra test
# directory (TEST_EXTRA_DIR), all inside this test's scratch dir.
. "$(dirname "$0")/../lib/tap.sh"
top=${MDNS_TOP:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-runner.XXXXXX")
writer=
cleanup() {
	if [ -n "$writer" ]; then
		kill "$writer" 2>/dev/null
		wait "$writer" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
outer=$tmp/outer # plays the shared /tmp
mkdir -p "$outer" "$tmp/logs" "$tmp/extra"

# Another process writes files named like the suite's into the outer TMPDIR
# for as long as the run lasts.
(
	i=0
	while :; do
		: >"$outer/tmp.w$i"
		mkdir -p "$outer/mdns-w$i"
		i=$((i + 1))
		sleep 0.01
	done
) &
writer=$!
sleep 0.1
before=$(find "$outer" -mindepth 1 -maxdepth 1 | wc -l)
out=$(TMPDIR=$outer TEST_LOGDIR=$tmp/logs "$top/tests/run.sh" test-b36 2>&1)
rc=$?
after=$(find "$outer" -mindepth 1 -maxdepth 1 | wc -l)
kill "$writer"
wait "$writer" 2>/dev/null
writer=
[ "$after" -gt "$before" ]
ok $? "another process wrote into the outer TMPDIR during the run ($before, then $after entries)"
like "$out" 'test-b36 +[1-9][0-9]* ok +0 not ok' "the unit test ran"
like "$out" '^tests: [1-9][0-9]* passed, 0 failed$' \
    "the run reports 0 failed: the other process's files are not the suite's"
is "$rc" 0 "and exits 0"
n=$(find "$outer" -mindepth 1 -maxdepth 1 -name 'mdns-suite.*' | wc -l)
is "$n" 0 "the run removed its own directory"

# A test that leaves files in the TMPDIR it was given.
cat >"$tmp/extra/test-leaver.sh" <<'EOT'
printf '%s\n' "$TMPDIR" >"$SEEN"
: >"$TMPDIR/left-behind.txt"
mkdir "$TMPDIR/left-dir"
echo "ok 1 - leaves two entries in TMPDIR"
echo "1..1"
EOT
out=$(SEEN=$tmp/seen TMPDIR=$outer TEST_LOGDIR=$tmp/logs \
    TEST_EXTRA_DIR=$tmp/extra "$top/tests/run.sh" test-leaver 2>&1)
rc=$?
like "$out" 'test-leaver +1 ok +0 not ok .*left files in TMPDIR' \
    "the leaving test is named with the reason"
like "$out" '^tests: 1 passed, 1 failed$' "and counted as a failure"
is "$rc" 1 "the run exits 1"
like "$out" '^ +left-behind.txt' "the left file is listed"
like "$out" '^ +left-dir' "the left directory is listed"
seen=$(cat "$tmp/seen" 2>/dev/null)
case $seen in
"$outer"/mdns-suite.?*) ok 0 "the test's TMPDIR was the run's own directory" ;;
*) ok 1 "the test's TMPDIR was the run's own directory (got '$seen')" ;;
esac
[ -n "$seen" ] && [ ! -e "$seen" ]
ok $? "which is gone after the run"
done_testing
