#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-tui.sh — `mdns-doctor tui` headless under tmux (private server
# socket): what the screen shows, keys (sort, filter, detail, help, pause),
# resize to 100x30 and back, the engine going away and coming back, the
# server view, ASCII fallback, colour only without NO_COLOR, a clean
# terminal after q and after SIGTERM with exit status 0, and the idle CPU
# use at 1 Hz (printed, not asserted).
#
# Two engines are used. ctl-fixture speaks the control protocol with
# scripted states (five resolvers in distinct states, events on a timer),
# which is what sort, filter and detail need. The real engine (`serve` and
# `connect` with --control) is then watched during a real transfer; that
# part is skipped, with the reason, when the binary's serve or connect has
# no --control option yet.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

BIN=${MDNS_BIN:-$PWD/build/mdns-doctor}
BUILD=${BUILD:-build}
FIX=$PWD/$BUILD/tools/ctl-fixture

if ! command -v tmux >/dev/null; then
	diag "tmux not installed: nothing to test"
	done_testing
	exit
fi

D=$(mktemp -d "${TMPDIR:-/tmp}/mdns-tui.XXXXXX")
TM="tmux -L mdns-test-$$ -f /dev/null"
PIDS=()
cleanup() {
	local p
	$TM kill-server 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$D"
}
trap cleanup EXIT

SOCK=$D/engine.sock

# A shell in a fresh tmux window, with a known prompt and environment.
# term_start NAME WxH [ENV...]
term_start() {
	local name=$1 geo=$2
	shift 2
	$TM new-session -d -s "$name" -x "${geo%x*}" -y "${geo#*x}" \
	    "env -i PATH=$PATH HOME=$D HISTFILE=/dev/null TERM=tmux-256color $* \
	    PS1='tui-test\$ ' bash --norc --noprofile"
}
scr() { $TM capture-pane -p -t "$1"; }
# wait_screen NAME REGEX [TENTHS]: until the screen matches (default 10 s).
wait_screen() {
	local i n=${3:-100}
	for ((i = 0; i < n; i++)); do
		scr "$1" | grep -qE -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
# wait_for TENTHS CMD...: until CMD succeeds; a deadline, never a fixed
# sleep before an assertion (a loaded machine redraws late).
wait_for() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
# lacks NAME REGEX: the screen does not (or no longer) match
lacks() { ! scr "$1" | grep -qE -- "$2"; }
# tui_run NAME ARGS...: start the dashboard in window NAME, pid in D/NAME.pid
tui_run() {
	local name=$1
	shift
	rm -f "$D/$name.pid"
	$TM send-keys -t "$name" "sh -c 'echo \$\$ >$D/$name.pid; exec \"\$0\" \"\$@\"' $BIN tui $*; echo tui-exit=\$?" Enter
	for ((i = 0; i < 50; i++)); do
		[ -s "$D/$name.pid" ] && break
		sleep 0.1
	done
	cat "$D/$name.pid" 2>/dev/null
}
# tui_exit NAME: the status line the shell prints once the dashboard has
# exited. The typed command line itself reads "echo tui-exit=$?" and is back
# on the screen as soon as endwin() restores it, before the process is gone
# (an ASan build spends tens of ms in its exit checks after that), so only
# the digits say the shell has seen the exit. 15 s for sanitizer builds.
tui_exit() {
	wait_screen "$1" 'tui-exit=[0-9]+' 150
	scr "$1" | grep -oE 'tui-exit=[0-9]+' | tail -1
}
fixture() { # fixture ARGS...: start ctl-fixture on $SOCK, FIX_PID
	"$FIX" --socket "$SOCK" "$@" >"$D/fixture.out" 2>&1 &
	FIX_PID=$!
	PIDS+=("$FIX_PID")
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$D/fixture.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# bytes_up NAME, bytes_down NAME: the header's byte counts as numbers
header_bytes() {
	scr "$1" | sed -n "s/.*bytes up \([0-9.]*[kMG]*\) down \([0-9.]*[kMG]*\).*/\\$2/p" |
	    head -1 | awk '{ v = $1; m = 1
		if (v ~ /k$/) m = 1e3; if (v ~ /M$/) m = 1e6; if (v ~ /G$/) m = 1e9
		sub(/[kMG]$/, "", v); printf "%d\n", v * m }'
}
bytes_up() { header_bytes "$1" 1; }
bytes_down() { header_bytes "$1" 2; }
# the resolver addresses in screen order
rows() { scr "$1" | grep -oE '^[> ](127\.0\.0\.[0-9]+:[0-9]+|\[::1\]:[0-9]+)' | tr -d '> ' | tr '\n' ' '; }

# --- the scripted engine ----------------------------------------------------
fixture --event-every 1500
ok $? "ctl-fixture listening"
term_start A 80x24 LANG=C.UTF-8
wait_screen A 'tui-test\$' 50
TUI=$(tui_run A --control "$SOCK")
like "$TUI" '^[0-9]+$' "dashboard started (pid $TUI)"
wait_screen A 'phase connected'
ok $? "header shows the phase"
like "$(scr A | head -1)" 'session 7 ' "header shows the session id"
like "$(scr A | sed -n 2p)" 'MTU 141/1000 +resolvers 2/5 active' \
    "synced MTUs and resolvers active/total"
is "$(rows A)" "127.0.0.2:53 127.0.0.3:53 127.0.0.10:53 127.0.0.20:53 [::1]:5353 " \
    "five resolver rows, by address in natural order"
like "$(scr A)" '127\.0\.0\.2:53 +t\.example +disabled +80\.0 +60%' \
    "a row has domain, state, RTT and loss"
wait_screen A 'resolver_disabled 127\.0\.0\.2:53 no valid answer'
ok $? "event log shows a resolver event"
b1=$(bytes_up A)
grew() { b2=$(bytes_up A); [ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -gt "$b1" ]; }
wait_for 100 grew
ok $([ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -gt "$b1" ]; echo $?) \
    "byte counters grow ($b1 -> $b2)"
like "$(scr A | sed -n 3p)" '^up +2\.0 KiB/s +.*[▁▂▃▄▅▆▇█]' \
    "upload rate derived from the counters, with a sparkline"

# sort: address -> domain -> state -> rtt
$TM send-keys -t A s s s
wait_screen A 'sort rtt'
ok $? "s cycles the sort column to rtt"
is "$(rows A)" "127.0.0.20:53 127.0.0.10:53 [::1]:5353 127.0.0.2:53 127.0.0.3:53 " \
    "rows by RTT, unmeasured last"
$TM send-keys -t A r
wait_screen A 'sort rtt \(reversed\)'
is "$(rows A)" "127.0.0.2:53 [::1]:5353 127.0.0.10:53 127.0.0.20:53 127.0.0.3:53 " \
    "r reverses the sort"

# filter
$TM send-keys -t A / u . e x
wait_screen A '^filter: u\.ex'
ok $? "/ opens the filter prompt"
$TM send-keys -t A Enter
wait_screen A '2 shown of 5 .*filter "u\.ex"'
ok $? "filter applied: 2 of 5 shown"
is "$(rows A)" "127.0.0.20:53 127.0.0.3:53 " "only the u.example resolvers"
$TM send-keys -t A / x y z Escape
wait_for 100 lacks A '^filter: '
like "$(scr A)" '2 shown of 5' "Esc cancels an edit, the old filter stays"
$TM send-keys -t A / C-u Enter
wait_screen A '5 shown of 5'
ok $? "an empty filter shows all again"

# detail and help
$TM send-keys -t A Home d
wait_screen A 'resolver .*'
like "$(scr A)" 'reason +no valid answer for 30 s' \
    "d shows the selected resolver's detail (first row: 127.0.0.2)"
like "$(scr A)" 'queries +400 sent, 160 answered, 240 timed out' \
    "detail has the counters"
$TM send-keys -t A Escape
wait_for 100 lacks A 'queries +400 sent'
$TM send-keys -t A '?'
wait_screen A 'filter resolvers \(Enter apply'
ok $? "? shows the keys"
$TM send-keys -t A x
wait_for 100 lacks A 'filter resolvers \(Enter apply'
ok $(scr A | grep -q 'filter resolvers (Enter apply'; echo $((!$?))) \
    "any key closes the help"

# panes and selection
second=$(rows A | cut -d' ' -f2)
selected() { [ "$(scr A | grep -E '^>' | awk '{ print $1 }')" = ">$1" ]; }
$TM send-keys -t A Home Down
wait_for 100 selected "$second"
is "$(scr A | grep -E '^>' | awk '{ print $1 }')" ">$second" \
    "Down selects the next row ($second)"
$TM send-keys -t A Tab
wait_screen A '▶ Streams'
like "$(scr A | grep -E 'Streams')" '▶ Streams' "Tab focuses the streams pane"
$TM send-keys -t A Tab
wait_screen A '▶ Events'
like "$(scr A | grep -E 'Events')" '▶ Events' "Tab again: the event log"
# Scrolling back needs more events than the pane has rows: wait until the
# total in the title exceeds the event lines shown (one every 1.5 s).
events_overflow() {
	local s total shown
	s=$(scr A)
	total=$(printf '%s\n' "$s" | sed -n 's/.*Events \([0-9]*\).*/\1/p' | head -1)
	shown=$(printf '%s\n' "$s" | sed -n '/Events [0-9]/,$p' |
	    grep -cE '^.?[0-9]{2}:[0-9]{2}:[0-9]{2} ')
	[ -n "$total" ] && [ "$total" -gt "$shown" ]
}
wait_for 600 events_overflow
ok $? "more events than the pane shows"
$TM send-keys -t A Up Up Up
wait_screen A 'Events.*scrolled back'
like "$(scr A | grep -E 'Events')" 'scrolled back' "Up scrolls the log back"
$TM send-keys -t A End Left Left
wait_screen A '▶ Resolvers'
wait_for 100 lacks A 'scrolled back'
like "$(scr A | grep -E 'Resolvers')" '▶ Resolvers' "Left goes back to resolvers"
ok $(scr A | grep -q 'scrolled back'; echo $((!$?))) "End followed the log"

# pause
$TM send-keys -t A p
wait_screen A 'PAUSED'
u1=$(scr A | head -1 | grep -oE 'up [0-9hms]+ ')
sleep 2.2
u2=$(scr A | head -1 | grep -oE 'up [0-9hms]+ ')
is "$u2" "$u1" "paused: the display holds still"
$TM send-keys -t A p
wait_for 100 lacks A 'PAUSED'
ok $(scr A | head -1 | grep -q PAUSED; echo $((!$?))) "p resumes"

# resize
$TM resize-window -t A -x 100 -y 30
wait_screen A 'REASON'
ok $? "100x30: the wider table has a reason column"
like "$(scr A | grep -E '^[> ]127\.0\.0\.2:53 ')" 'no valid (answer|an[a-z]*…)' \
    "the reason is shown in the row (cut with an ellipsis)"
is "$(scr A | wc -l)" 30 "30 lines drawn"
like "$(scr A | grep -E 'Streams')" 'Streams 1 active, 1 opened, 0 closed  SOCKS host 3 IP 2  clients 2, last 127\.0\.0\.2 1/2' \
    "100 columns: SOCKS requests by target, and the most recent client"
is "$(scr A | grep -E '^─.*Resolvers' | head -1 | wc -m)" 101 \
    "pane rule spans 100 columns"
$TM resize-window -t A -x 80 -y 24
# tmux shows the cropped old frame until the dashboard redraws: wait for
# the redrawn one (header, narrow rule, no reason column), then assert.
rule80() { [ "$(scr A | grep -E '^─.*Resolvers' | head -1 | wc -m)" = 81 ]; }
wait_for 100 rule80
wait_for 100 lacks A 'REASON'
wait_screen A 'phase connected'
ok $(scr A | grep -q REASON; echo $((!$?))) "back to 80x24: no reason column"
is "$(scr A | grep -E '^─.*Resolvers' | head -1 | wc -m)" 81 \
    "pane rule spans 80 columns"
like "$(scr A | head -1)" 'phase connected' "header intact after resizes"
like "$(scr A | grep -E 'Streams')" 'closed  SOCKS host 3 IP 2 ─' \
    "80 columns: the SOCKS totals, no room for the client"

# the engine goes away and comes back (a new session id); 132 columns, so
# the message fits with the socket path under the suite's TMPDIR
$TM resize-window -t A -x 132 -y 24
rule132() { [ "$(scr A | grep -E '^─.*Resolvers' | head -1 | wc -m)" = 133 ]; }
wait_for 100 rule132
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null
wait_screen A "engine not running at $SOCK — retrying"
ok $? "engine killed: the screen says so"
like "$(scr A)" 'engine_lost' "the loss is in the event log"
like "$(scr A | head -1)" '\[NO ENGINE\]' "the header marks it too"
ok $(kill -0 "$TUI" 2>/dev/null; echo $?) "the dashboard is still running"
sleep 1.5
ok $(kill -0 "$TUI" 2>/dev/null; echo $?) "still running after retries"
$TM resize-window -t A -x 80 -y 24
wait_for 100 rule80
fixture --session 9 --event-every 0 --extras
wait_screen A 'session 9 '
ok $? "engine back: reconnected on its own (session 9)"
ok $(scr A | grep -q 'engine not running'; echo $((!$?))) \
    "the warning is gone"
like "$(scr A | sed -n 3p)" '^exit ok 203\.0\.113\.9 +leak critical 192\.0\.2\.53' \
    "exit checks' verdicts and addresses when the status has them (own row at 80)"
like "$(scr A | sed -n 7p)" '^FEC +recovered 12 +parity_sent 30' \
    "FEC counters when present"
like "$(scr A | grep -E 'Resolvers')" 'Resolvers 5 shown' \
    "the panes move down for them"

# the server role is recognised from the status
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null
fixture --role server --event-every 0
wait_screen A 'server .*phase serving'
ok $? "a server engine gets the server view"
like "$(scr A)" 'sessions +active 1 +opened 2' "server sessions"
like "$(scr A)" 'queries +total [0-9]+ +tunnel [0-9]+ +mtu-probe 5' \
    "server queries by kind"
like "$(scr A)" 'bad-cookie 4 +undecodable 5' "server drops"

# q: exit 0 and the shell back, no curses left on the screen
$TM send-keys -t A q
is "$(tui_exit A)" "tui-exit=0" "q exits 0"
ok $(scr A | grep -qE 'Resolvers|Events|mdns-doctor (client|server)'; echo $((!$?))) \
    "q leaves a clean terminal (no dashboard remnants)"
like "$(scr A | grep -v '^$' | tail -1)" '^tui-test\$ ?$' "the prompt is back"

# --- ASCII fallback, colour, SIGTERM, idle CPU -------------------------------
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null
fixture --event-every 0
term_start B 80x24 LANG=C
wait_screen B 'tui-test\$' 50
TUI=$(tui_run B --control "$SOCK")
wait_screen B 'phase connected'
wait_screen B '^up +[0-9.]+ KiB/s +[_.:=+*#-]*#'
like "$(scr B | sed -n 3p)" '^up +[0-9.]+ KiB/s +[_.:=+*#-]*#' \
    "C locale: ASCII sparkline"
ok $(scr B | grep -q '[▁▂▃▄▅▆▇█]'; echo $((!$?))) "no block characters"
esc=$($TM capture-pane -e -p -t B)
ok $(printf '%s' "$esc" | grep -qE $'\e\\[[0-9;]*3[1-6]m'; echo $?) \
    "colour on a colour terminal without NO_COLOR"

# idle CPU at 1 Hz over 10 s: utime+stime ticks from /proc/PID/stat, and
# the nanosecond run time from /proc/PID/schedstat where the kernel has it
read -r -a st1 </proc/"$TUI"/stat
ns1=$(cut -d' ' -f1 /proc/"$TUI"/schedstat 2>/dev/null)
sleep 10
read -r -a st2 </proc/"$TUI"/stat
ns2=$(cut -d' ' -f1 /proc/"$TUI"/schedstat 2>/dev/null)
hz=$(getconf CLK_TCK)
ticks=$(( (st2[13] + st2[14]) - (st1[13] + st1[14]) ))
diag "idle CPU at 1 Hz: $ticks ticks of 1/$hz s in 10 s" \
    "= $(awk -v t="$ticks" -v h="$hz" 'BEGIN { printf "%.2f", 100 * t / h / 10 }')%"
if [ -n "$ns1" ] && [ -n "$ns2" ]; then
	diag "idle CPU at 1 Hz (schedstat): $(( (ns2 - ns1) / 1000 )) us" \
	    "in 10 s = $(awk -v n=$((ns2 - ns1)) 'BEGIN { printf "%.3f", n / 1e9 / 10 * 100 }')%"
fi
kill -TERM "$TUI"
is "$(tui_exit B)" "tui-exit=0" "SIGTERM: exit 0"
ok $(scr B | grep -qE 'Resolvers|Events'; echo $((!$?))) \
    "SIGTERM leaves a clean terminal"

term_start C 80x24 LANG=C.UTF-8 NO_COLOR=1
wait_screen C 'tui-test\$' 50
TUI=$(tui_run C --control "$SOCK")
wait_screen C 'phase connected'
esc=$($TM capture-pane -e -p -t C)
ok $(printf '%s' "$esc" | grep -qE $'\e\\[[0-9;]*3[1-6]m'; echo $((!$?))) \
    "NO_COLOR: no colour at all"
like "$esc" 'disabled' "still readable: states written out"
$TM send-keys -t C C-c
is "$(tui_exit C)" "tui-exit=0" "Ctrl-C (SIGINT): exit 0"
ok $(scr C | grep -qE 'Resolvers|Events'; echo $((!$?))) \
    "SIGINT leaves a clean terminal"
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null

# no engine at all from the start, and usage errors
term_start E 132x24 LANG=C.UTF-8 # room for the socket path in TMPDIR
wait_screen E 'tui-test\$' 50
TUI=$(tui_run E --control "$D/none.sock" -d 0.5)
wait_screen E "engine not running at $D/none.sock"
ok $? "no engine from the start: said on screen"
$TM send-keys -t E q
is "$(tui_exit E)" "tui-exit=0" "and q still exits 0"
# an engine that refuses us (as for a peer of another uid)
SOCK=$D/refuse.sock
fixture --refuse "peer uid 4242 is not the engine's"
$TM send-keys -t E clear Enter
TUI=$(tui_run E --control "$SOCK")
wait_screen E "engine at $SOCK: engine refused: peer uid 4242"
ok $? "an engine that refuses: its reason on screen"
sleep 2.5
like "$(scr E | tail -1)" "engine at $SOCK: engine refused: peer uid 4242" \
    "still there after retries"
ok $(scr E | grep -qE 'engine_(lost|connected)'; echo $((!$?))) \
    "retries against a refusing engine do not flood the event log"
$TM send-keys -t E q
is "$(tui_exit E)" "tui-exit=0" "q exits 0 (refused)"
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null

"$BIN" tui -d 0 </dev/null >/dev/null 2>"$D/err"
is "$?" 3 "-d 0 is a usage error"
like "$(cat "$D/err")" '-d: not a number of seconds from 0.1 to 60' \
    "with a one-line reason"
"$BIN" watch --control "$SOCK" </dev/null >/dev/null 2>"$D/err"
is "$?" 3 "watch (the alias) without a terminal exits 3"
like "$(cat "$D/err")" 'needs a terminal' "and says why"

# without --control: the runtime directory, a client engine first, else a
# server (the role then picks the view)
mkdir -p -m 700 "$D/run/mdns-doctor"
SOCK=$D/run/mdns-doctor/server.sock
fixture --role server --event-every 0
term_start F 80x24 LANG=C.UTF-8 XDG_RUNTIME_DIR=$D/run
wait_screen F 'tui-test\$' 50
TUI=$(tui_run F)
wait_screen F 'server .*phase serving'
ok $? "no --control, only server.sock in XDG_RUNTIME_DIR: server view"
$TM send-keys -t F q
tui_exit F >/dev/null
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null
SOCK=$D/run/mdns-doctor/engine.sock
fixture --event-every 0
$TM send-keys -t F clear Enter
TUI=$(tui_run F)
wait_screen F 'client .*phase connected'
ok $? "no --control, engine.sock in XDG_RUNTIME_DIR: client view"
$TM send-keys -t F q
tui_exit F >/dev/null
kill "$FIX_PID"
wait "$FIX_PID" 2>/dev/null

# --- the real engine ---------------------------------------------------------
# `serve` and `connect` with --control, a transfer through the tunnel, and
# the dashboard on each control socket.
real_missing=
"$BIN" help serve >/dev/null 2>&1 || real_missing="no serve command"
[ -z "$real_missing" ] && ! "$BIN" help serve | grep -q -- '--control' &&
    real_missing="serve has no --control option"
client_missing=
! "$BIN" help connect >/dev/null 2>&1 && client_missing="no connect command"
[ -z "$client_missing" ] && ! "$BIN" help connect | grep -q -- '--control' &&
    client_missing="connect has no --control option"
if [ -n "$real_missing" ]; then
	diag "real engine not testable in this build: $real_missing"
	echo "ok $((_tap_n + 1)) # SKIP real engine: $real_missing"
	_tap_n=$((_tap_n + 1))
	done_testing
	exit
fi

free_tcp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_file() { # wait_file FILE REGEX [TENTHS]
	local i
	for ((i = 0; i < ${3:-200}; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
KEY=5f3c8e1a9b2d47e6c0f18a3b5d7e9c21
mkdir -p "$D/srv" "$D/cli"
echo "$KEY" >"$D/srv/encrypt_key.txt"
cat >"$D/srv/server_config.toml" <<EOC
DOMAIN = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
MDNS_ALLOW_TARGETS = ["127.0.0.0/8"]
EOC
"$BIN" serve --config "$D/srv/server_config.toml" --listen 127.0.0.1:0 \
    --control "$D/server.sock" >"$D/srv.out" 2>"$D/srv.err" &
SRV_PID=$!
PIDS+=("$SRV_PID")
wait_file "$D/srv.out" '^listening'
ok $? "real serve listening with --control"
SRV_ADDR=$(sed -n 's/^listening //p' "$D/srv.out" | head -1)

term_start R 80x24 LANG=C.UTF-8
wait_screen R 'tui-test\$' 50
TUI=$(tui_run R --server --control "$D/server.sock")
wait_screen R 'server .*phase serving' 100
ok $? "real server: the server view, phase serving"
like "$(scr R)" 'sessions +active [0-9]+' "real server: session counters"
like "$(scr R)" 'queries +total [0-9]+' "real server: query counters"
$TM send-keys -t R q
is "$(tui_exit R)" "tui-exit=0" "q exits 0 (real server)"

if [ -n "$client_missing" ]; then
	diag "real client not testable in this build: $client_missing"
	echo "ok $((_tap_n + 1)) # SKIP real client: $client_missing"
	_tap_n=$((_tap_n + 1))
	kill -TERM "$SRV_PID" 2>/dev/null
	done_testing
	exit
fi

# an HTTP origin for the transfer
cat >"$D/origin.py" <<'EOP'
import http.server, socketserver, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def do_GET(self):
        # /slow/N: N bytes in 4 KiB pieces, 20 a second, so the transfer
        # lasts while the dashboard is watched
        n = int(self.path.rsplit("/", 1)[1])
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        while n > 0:
            k = min(n, 4096)
            self.wfile.write(b"x" * k)
            self.wfile.flush()
            n -= k
            time.sleep(0.05)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print("port=%d" % s.server_address[1], flush=True)
s.serve_forever()
EOP
python3 "$D/origin.py" >"$D/origin.out" 2>&1 &
PIDS+=($!)
wait_file "$D/origin.out" '^port='
ORIGIN_PORT=$(sed -n 's/^port=//p' "$D/origin.out")

cat >"$D/cli/client_config.toml" <<EOC
DOMAINS = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY = "$KEY"
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 1000
MTU_TEST_TIMEOUT = 1.0
EOC
echo "$SRV_ADDR" >"$D/cli/resolvers.txt"
SOCKS_PORT=$(free_tcp)
start_connect() {
	: >"$D/cli.out"
	"$BIN" connect --config "$D/cli/client_config.toml" \
	    --resolvers "$D/cli/resolvers.txt" \
	    --listen 127.0.0.1:$SOCKS_PORT --control "$D/engine.sock" \
	    >"$D/cli.out" 2>"$D/cli.err" &
	CLI_PID=$!
	PIDS+=("$CLI_PID")
	wait_file "$D/cli.out" '^connected'
}
start_connect
ok $? "real connect: tunnel up with --control"

term_start S 80x24 LANG=C.UTF-8
wait_screen S 'tui-test\$' 50
TUI=$(tui_run S --control "$D/engine.sock")
wait_screen S 'phase connected' 100
ok $? "real client: phase connected"
like "$(scr S | head -1)" 'session [0-9]+ ' "real client: the session id"
like "$(scr S)" "${SRV_ADDR//./\\.} +t\\.example +active" \
    "real client: the resolver row"
curl -s --max-time 60 --socks5-hostname 127.0.0.1:$SOCKS_PORT \
    "http://127.0.0.1:$ORIGIN_PORT/slow/1000000" -o "$D/got.bin" &
CURL_PID=$!
PIDS+=("$CURL_PID")
wait_screen S 'Streams [1-9][0-9]* active' 200
b1=$(bytes_down S)
grew_s() { b2=$(bytes_down S); [ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -gt "$b1" ]; }
wait_for 200 grew_s
ok $([ -n "$b1" ] && [ -n "$b2" ] && [ "$b2" -gt "$b1" ]; echo $?) \
    "real client: byte counters grow during a transfer ($b1 -> $b2)"
like "$(scr S)" 'Streams [1-9][0-9]* active' "real client: the stream"
like "$(scr S | sed -n 4p)" '^down +[0-9.]+ KiB/s' \
    "real client: download rate derived"
kill "$CURL_PID" 2>/dev/null
wait "$CURL_PID" 2>/dev/null
# SOCKS requests by target: one with a host name the exit resolves.
curl -s --max-time 20 --socks5-hostname 127.0.0.1:$SOCKS_PORT \
    "http://localhost:$ORIGIN_PORT/slow/10" -o /dev/null
sj=$("$BIN" status --control "$D/engine.sock" --format json)
hn=$(jq '.socks.requests.hostname' <<<"$sj")
il=$(jq '.socks.requests.ip_literal' <<<"$sj")
is "$(jq -c '[.socks.clients[] | [.address, .hostname, .ip_literal]]' \
    <<<"$sj")" "[[\"127.0.0.1\",$hn,$il]]" \
    "real client: SOCKS requests per client address (127.0.0.1)"
ok $((hn >= 1 ? 0 : 1)) "... the host-name request counted ($hn)"
wait_screen S "SOCKS host $hn IP $il" 50
ok $? "real client: the streams line shows SOCKS host $hn IP $il"

kill -TERM "$CLI_PID"
wait "$CLI_PID" 2>/dev/null
wait_screen S "engine not running at $D/engine.sock"
ok $? "real client stopped: the screen says the engine is gone"
ok $(kill -0 "$TUI" 2>/dev/null; echo $?) "the dashboard survived"
start_connect
wait_screen S 'phase connected' 150
ok $? "real client back: the dashboard recovered on its own"
$TM send-keys -t S q
is "$(tui_exit S)" "tui-exit=0" "q exits 0 (real client)"
kill -TERM "$CLI_PID" "$SRV_PID" 2>/dev/null
done_testing
