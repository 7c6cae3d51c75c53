#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-cli.sh — command dispatch: help, unique prefixes, ambiguity, unknown
# commands and options, --version, exit codes.
. "$(dirname "$0")/../lib/tap.sh"
bin=${MDNS_BIN:?}

out=$("$bin" help); ok $? "help exits 0"
like "$out" "^usage: mdns-doctor" "help prints usage"
like "$out" "version +print the version" "help lists commands with summaries"

out=$("$bin" --version); ok $? "--version exits 0"
like "$out" "^mdns-doctor [^ ]+$" "--version prints one version line"

out=$("$bin" versi); ok $? "unique prefix runs the command"
like "$out" "^mdns-doctor " "unique prefix output"

out=$("$bin" help version); ok $? "help CMD exits 0"
like "$out" "usage: mdns-doctor version" "help CMD shows usage"
out=$("$bin" version --help); ok $? "CMD --help exits 0"
like "$out" "usage: mdns-doctor version" "CMD --help shows usage"

err=$("$bin" no-such-command 2>&1 >/dev/null); rc=$?
is "$rc" 3 "unknown command exits 3"
is "$(printf '%s\n' "$err" | wc -l)" 1 "unknown command: one line"
like "$err" "unknown command: no-such-command" "unknown command message"

err=$("$bin" version --no-such-option 2>&1 >/dev/null); rc=$?
is "$rc" 3 "bad option exits 3"
like "$err" "unknown option: --no-such-option" "bad option message"

err=$("$bin" --bogus 2>&1 >/dev/null); rc=$?
is "$rc" 3 "bad global option exits 3"

# Ambiguity: find two commands sharing their first letter in the table.
cmds=$("$bin" help | awk '/^commands:/{f=1;next} /^$/{f=0} f && /^  [a-z]/{print $1}')
pfx=$(printf '%s\n' $cmds | cut -c1 | sort | uniq -d | head -1)
if [ -n "$pfx" ]; then
	err=$("$bin" "$pfx" 2>&1 >/dev/null); rc=$?
	is "$rc" 3 "ambiguous prefix '$pfx' exits 3"
	like "$err" "could be: " "ambiguous prefix lists candidates"
else
	ok 0 "no two commands share a first letter yet (ambiguity untested)"
fi

"$bin" >/dev/null 2>&1; is $? 3 "no command exits 3"
done_testing
