#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-packaging.sh — what `make install` places and whether the tools
# that read it accept it: every file under DESTDIR (binary, man page,
# bash completion, systemd units, LICENSE) with the install path and not
# DESTDIR inside; `man -l` and `groff -ww` render the page without a
# warning (and do warn on a broken copy); `systemd-analyze verify`
# accepts the units (and complains about a broken copy); every command of
# the table, and every option of each, is in the man page and in the
# completion; the completion completes commands, options, choices and
# per-command formats in a real bash; the example crontab line is there.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
D=$TOPO_DIR
BIN=${MDNS_BIN:-$TOPO_BUILD/mdns-doctor}
B=${BUILD:-build}

make -s install DESTDIR="$D/root" PREFIX=/usr BUILD="$B" >"$D/make.out" 2>&1
ok $? "make install DESTDIR=... PREFIX=/usr"
R=$D/root/usr
missing=""
for f in bin/mdns-doctor share/man/man1/mdns-doctor.1 \
    share/bash-completion/completions/mdns-doctor \
    lib/systemd/system/mdns-doctor-connect@.service \
    lib/systemd/system/mdns-doctor-check.service \
    lib/systemd/system/mdns-doctor-check.timer \
    share/doc/mdns-doctor/LICENSE share/doc/mdns-doctor/README.md; do
	[ -s "$R/$f" ] || missing+=" $f"
done
is "$missing" "" "every file placed"
ok $([ -x "$R/bin/mdns-doctor" ]; echo $?) "the binary is executable"
is "$(find "$D/root" -type f | wc -l)" 8 "and nothing else"
ok $(! grep -rqF "$D" "$R"/lib/systemd "$R"/share; echo $?) \
    "DESTDIR appears in no installed file"
like "$(grep '^ExecStart' "$R/lib/systemd/system/mdns-doctor-check.service")" \
    '^ExecStart=/usr/bin/mdns-doctor -q check ' "units run /usr/bin/mdns-doctor"
ok $(grep -q '^Persistent=true$' "$R/lib/systemd/system/mdns-doctor-check.timer"
    echo $?) "the timer is Persistent=true"
ok $(head -1 "$R/share/doc/mdns-doctor/LICENSE" | grep -qx 'MIT License' &&
    grep -qx 'Copyright (c) the mdns-doctor authors' \
    "$R/share/doc/mdns-doctor/LICENSE"; echo $?) "MIT LICENSE"

# The man page.
man1=$R/share/man/man1/mdns-doctor.1
groff -ww -man -Tutf8 -z "$man1" 2>"$D/groff.err"
is "$(cat "$D/groff.err")" "" "groff -ww: no warning"
MANWIDTH=80 man --warnings=w -l "$man1" >"$D/man.txt" 2>"$D/man.err"
ok $? "man -l renders it"
is "$(cat "$D/man.err")" "" "man --warnings: no warning"
{ cat "$man1"; printf '.BOGUS x\n\\fZ\n'; } >"$D/broken.1"
groff -ww -man -Tutf8 -z "$D/broken.1" 2>"$D/groff2.err"
ok $([ -s "$D/groff2.err" ]; echo $?) "(a broken copy does warn)"
like "$(cat "$D/man.txt")" '\*/5 \* \* \* \* mdns-doctor -q check --format prom' \
    "the example crontab line"

# Every command and option of the table, in the page and the completion.
comp=$R/share/bash-completion/completions/mdns-doctor
cmds=$("$BIN" help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p')
is "$(echo "$cmds" | wc -l)" "$(ls cli/cmd-*.c | wc -l)" \
    "the command list is the table ($(echo $cmds | wc -w) commands)"
bad=""
for c in $cmds; do
	grep -q "^\.SS $(echo "$c" | sed 's/-/\\\\-/g')\$" "$man1" || bad+=" man:$c"
	grep -q "^	local cmds='.*\<$c\>" "$comp" || bad+=" comp:$c"
done
is "$bad" "" "every command in the man page and the completion"
bad=""
nopt=0
for c in $cmds; do
	# The command's own options as its help lists them.
	# The command's own options: the long names in the option column
	# of its help (what precedes the two blanks before the text).
	opts=$("$BIN" help "$c" | sed -n '/^options:/,/^global options:/p' |
	    sed -n 's/^  \(-.*\)$/\1/p' | sed 's/  .*//' |
	    grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u)
	sect=$(sed -n "/^\.SS $c\$/,/^\.S[SH] /p" "$man1")
	arm=$(sed -n "/^	$c[|)]/,/files=/p" "$comp")
	for o in $opts; do
		nopt=$((nopt + 1))
		grep -qF -- "$(sed 's/-/\\-/g' <<<"$o")" <<<"$sect" ||
		    bad+=" man:$c:$o"
		grep -qE -- "(^| )$o( |'|\$)" <<<"$arm" ||
		    { [ "$o" = --format ] && grep -q -- "--format" <<<"$arm"; } ||
		    bad+=" comp:$c:$o"
	done
done
is "$bad" "" "every option ($nopt) in its command's man section and completion"

# The completion in a real bash.
cat >"$D/c.sh" <<EOF
. "$comp"
t() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
	COMPREPLY=(); _mdns_doctor; echo "\${COMPREPLY[*]}"; }
t mdns-doctor rep
t mdns-doctor --db x.db rep
t mdns-doctor report --red
t mdns-doctor report --redact ""
t mdns-doctor report --format ""
t mdns-doctor status --format ""
t mdns-doctor config ""
t mdns-doctor help sc
t mdns-doctor -
EOF
mapfile -t got < <(bash "$D/c.sh" 2>&1)
is "${got[0]}" report "command by prefix"
is "${got[1]}" report "command after a global option's value"
is "${got[2]}" --redact "option by prefix"
is "${got[3]}" "own all none" "an option's choices"
is "${got[4]}" "html md json" "the command's formats"
is "${got[5]}" "text json" "another command's formats"
is "${got[6]}" "show check" "config's subcommands"
is "${got[7]}" scan "help COMMAND"
like "${got[8]}" '--config.*--db.*--format' "global options"

# systemd accepts the units (installed where the binary really is).
make -s install PREFIX="$D/pfx" BUILD="$B" >"$D/make2.out" 2>&1
ok $? "make install PREFIX=$D/pfx"
u=$D/pfx/lib/systemd/system
cp "$u/mdns-doctor-connect@.service" "$u/mdns-doctor-connect@home.service"
MANPATH=$D/pfx/share/man systemd-analyze verify \
    "$u/mdns-doctor-check.service" "$u/mdns-doctor-check.timer" \
    "$u/mdns-doctor-connect@home.service" >"$D/verify.out" 2>&1
ok $? "systemd-analyze verify: exit 0"
is "$(cat "$D/verify.out")" "" "systemd-analyze verify: nothing to say"
sed 's/^Restart=on-failure/Restart=sometimes/' \
    "$u/mdns-doctor-connect@home.service" >"$u/mdns-doctor-connect@bad.service"
MANPATH=$D/pfx/share/man systemd-analyze verify \
    "$u/mdns-doctor-connect@bad.service" >"$D/verify2.out" 2>&1
ok $([ -s "$D/verify2.out" ]; echo $?) "(a broken copy is reported)"
# The check service names the history and the textfile directory it may
# write; the client names its config the way the man page says.
like "$(cat "$u/mdns-doctor-connect@.service")" \
    '/etc/mdns-doctor/%i/client_config.toml' "connect@NAME reads /etc/mdns-doctor/NAME/"
done_testing
