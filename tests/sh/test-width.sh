#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-width.sh — issue 11, point 10: output fits the terminal it is
# shown on, and never by shortening an address. Under tmux (a real TTY):
#   * `scan` text on an 80-column pane: every line fits 80 columns (the
#     evidence cut with an ellipsis, detail columns hidden and named),
#     every resolver address and port whole; COLUMNS=120 gives more room;
#     through a pipe the same scan stays unwrapped (longer lines, every
#     column);
#   * the dashboard: an address its column cannot hold ends in an
#     ellipsis — 127.20.0.10:38500 showed as 127.20.0.10:3850 on an
#     80-column terminal, another valid-looking address — and at 100
#     columns it is shown whole.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
if ! command -v tmux >/dev/null; then
	diag "SKIP: tmux not installed"
	done_testing
	exit
fi
topo_init || exit 1
TM="tmux -L mdns-width-$$ -f /dev/null"
trap '$TM kill-server 2>/dev/null; topo_cleanup' EXIT

term_start() { # term_start NAME WxH [ENV...]
	local name=$1 geo=$2
	shift 2
	$TM new-session -d -s "$name" -x "${geo%x*}" -y "${geo#*x}" \
	    "env -i PATH=$PATH HOME=$TOPO_DIR HISTFILE=/dev/null \
	    TERM=tmux-256color $* \
	    PS1='w\$ ' bash --norc --noprofile"
}
scr() { $TM capture-pane -p -J -S -200 -t "$1"; }
wait_screen() { # wait_screen NAME REGEX
	local i
	for ((i = 0; i < 300; i++)); do
		scr "$1" | grep -qE -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
# the widest line in code points (≥ and … are one column, three bytes)
longest() {
	python3 -c 'import sys
print(max([len(l.rstrip("\n")) for l in
    sys.stdin.buffer.read().decode("utf-8").splitlines()] + [0]))'
}

scan_serve 1
ok $? "tunnel server up"
scan_farm FARM --seed 6 --base 127.20.0.0 --gen good=3,dead=1
ok $? "farm up"
scan_list FARM >"$TOPO_DIR/list.txt"
cmd="$BIN scan --no-store --domain $ZONE --key-file $KEYFILE --method 1 \
--intercept-probe none --timeout-ms 400 --tries 1 --loss-probes 0 --all \
$TOPO_DIR/list.txt"

# --- scan text on an 80-column terminal
term_start S 80x40 LANG=C.UTF-8
$TM send-keys -t S "clear; $cmd 2>/dev/null; echo scan-exit=\$?" Enter
wait_screen S 'scan-exit=[0-9]'
ok $? "scan ran in the 80-column pane"
out=$(scr S | sed -n '/^run: scan/,/scan-exit/p')
diag "$(head -3 <<<"$out")"
is "$(longest <<<"$out")" 80 "every line fits 80 columns (the widest: 80)"
is "$(grep -cE "^127\.20\.0\.[0-9]+:$FARM_PORT " <<<"$out")" 4 \
    "every address and port whole"
like "$out" "…" "long evidence cut with an ellipsis"
like "$out" "\(hidden to fit 80 columns: [A-Z ]+\)" "hidden columns named"
$TM send-keys -t S "clear; COLUMNS=120 $cmd 2>/dev/null; echo scan-exit=\$?" Enter
sleep 0.3
wait_screen S 'scan-exit=[0-9]'
out=$(scr S | sed -n '/^run: scan/,/scan-exit/p')
w=$(longest <<<"$out")
ok $((w > 80 && w <= 120 ? 0 : 1)) "COLUMNS=120: up to 120 columns ($w)"
# scan --whoami adds the WHOAMI column (the farm's resolvers reach the
# tunnel server, which has no whoami name: "no address"); still 80.
$TM send-keys -t S "clear; $cmd --whoami-name whoami.$ZONE 2>/dev/null; echo scan-exit=\$?" Enter
sleep 0.3
wait_screen S 'scan-exit=[0-9]'
out=$(scr S | sed -n '/^run: scan/,/scan-exit/p')
# With the evidence hidden the widest line is the table's own width,
# which moves with the data (RTT digits, the hidden note): at most 80.
w=$(longest <<<"$out")
ok $((w <= 80 ? 0 : 1)) "--whoami: every line still fits 80 columns ($w)"
is "$(grep -cE "^127\.20\.0\.[0-9]+:$FARM_PORT " <<<"$out")" 4 \
    "--whoami: every address and port whole"
like "$(grep -E '^RESOLVER' <<<"$out")" " WHOAMI$" \
    "--whoami: the WHOAMI column kept, the evidence given up for it"
like "$out" "\(hidden: [A-Z ]+ EVIDENCE\)" "... and named"
is "$(grep -cE "^127\.20\.0\.[0-9]+:$FARM_PORT .* (no address|not tested)$" <<<"$out")" 4 \
    "--whoami: each row says what the whoami name gave"

# nobody passes: the diagnosis is folded at blanks, cutting nothing
jq -r --arg p "$FARM_PORT" 'select(.behaviour=="dead") | .addr + ":" + $p' \
    "$TOPO_DIR/FARM.truth" >"$TOPO_DIR/dead.txt"
$TM send-keys -t S "clear; ${cmd% *} $TOPO_DIR/dead.txt 2>/dev/null; echo scan-exit=\$?" Enter
sleep 0.3
wait_screen S 'scan-exit=2'
out=$(scr S | sed -n '/^run: scan/,/scan-exit/p')
like "$out" "diagnosis: stage liveness passed nobody" "a diagnosis was printed"
w=$(longest <<<"$out")
ok $((w <= 80 ? 0 : 1)) "the diagnosis fits 80 columns too ($w)"
like "$out" "e\.g\. 127\.20\.0\.[0-9]+:" "its example address whole"

# --- a check command (route) on the 80-column pane: one block a check,
# the evidence folded at blanks, never cut; through a pipe a table
$TM send-keys -t S "clear; $BIN route --no-store 127.0.0.1 2>/dev/null; echo route-exit=\$?" Enter
wait_screen S 'route-exit=[0-9]'
out=$(scr S | sed -n '/^route 127/,/route-exit/p')
diag "$(head -3 <<<"$out")"
ok $(($(longest <<<"$out") <= 80 ? 0 : 1)) "route: every line fits 80 columns"
like "$out" "^route 127\.0\.0\.1: ok" "route: a block a check, verdict first"
like "$out" "    evidence: route get 127\.0\.0\.1: local" \
    "route: the evidence under it"
is "$(grep -c '…' <<<"$out")" 0 "route: nothing cut"
out=$($BIN route --no-store 127.0.0.1 2>/dev/null)
like "$(head -1 <<<"$out")" "^CHECK +SUBJECT +VERDICT" "route: a pipe gets the table"

# --- through a pipe: unwrapped
out=$($cmd 2>/dev/null)
w=$(sed -n '/^RESOLVER/,$p' <<<"$out" | longest)
ok $((w > 120 ? 0 : 1)) "a pipe stays unwrapped ($w columns)"
like "$(grep '^RESOLVER' <<<"$out")" " NAME .* QPS +EVIDENCE$" \
    "a pipe gets every column"
is "$(grep -c '…' <<<"$out")" 0 "a pipe gets the whole evidence"

# --- the dashboard: the address column, whole or with an ellipsis
FIX=$TOPO_BUILD/tools/ctl-fixture
topo_bg FIX "$FIX" --socket "$TOPO_DIR/e.sock" \
    --first-address 127.20.0.10:38500
for ((i = 0; i < 50; i++)); do [ -S "$TOPO_DIR/e.sock" ] && break; sleep 0.1; done
for geo in 100x24 80x24; do
	term_start "T$geo" $geo LANG=C.UTF-8
	$TM send-keys -t "T$geo" "$BIN tui --control $TOPO_DIR/e.sock" Enter
	# The header comes first; the rows with the next status poll.
	wait_screen "T$geo" 'ADDRESS +DOMAIN' &&
	    wait_screen "T$geo" '127\.20\.0\.10:3'
	ok $? "$geo: the dashboard shows the resolvers"
	screen=$(scr "T$geo")
	if [ "$geo" = 100x24 ]; then
		like "$screen" "127\.20\.0\.10:38500 " "$geo: the address whole"
	else
		like "$screen" "127\.20\.0\.10:3[0-9]*… " \
		    "$geo: a cut address ends in an ellipsis"
	fi
	is "$(grep -cE '127\.20\.0\.10:(3|38|385|3850)( |$)' <<<"$screen")" 0 \
	    "$geo: never a shorter valid-looking address"
	$TM send-keys -t "T$geo" q
done
# Help is read on 80-column terminals: the command list and every
# command's help (usage, summary, options, formats) fit in 79 columns.
for c in "" $("$BIN" help --completion 2>/dev/null | grep -o "cmds='[^']*'" |
    cut -d"'" -f2); do
	long=$("$BIN" help $c 2>&1 | awk 'length > 79' | head -1)
	is "$long" "" "help${c:+ $c}: every line within 79 columns"
done
done_testing
