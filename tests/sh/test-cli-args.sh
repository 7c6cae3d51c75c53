#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-cli-args.sh — declared command options (cli/args.c): range and type
# errors with one exact line, -h/--help/help CMD for every command, "did
# you mean" for commands and options, --format refused at parse time with
# the list the command offers, global options before or after the command,
# repeated options, and help generated from the same table the parser uses
# (every option and format the help lists is accepted).
. "$(dirname "$0")/../lib/tap.sh"
bin=${MDNS_BIN:?}
shared=${MDNS_SHARED:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cli-args.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
none=$tmp/no-engine.sock # status/metrics never reach a real engine

# err CMD...: stderr only, and the exit status in $rc.
err() { "$bin" "$@" 2>&1 >/dev/null; }

# --- range and type errors: one line, exit 3, before any work
out=$(err status --control "$none" --timeout 700000); rc=$?
is "$rc" 3 "--timeout 700000: exit 3 (not 2: nothing was contacted)"
is "$out" "mdns-doctor: status: --timeout: 700000 is out of range (1..600000)" \
    "range error: exact line"
out=$(err status --control "$none" --timeout=abc); rc=$?
is "$rc" 3 "--timeout=abc: exit 3"
is "$out" "mdns-doctor: status: --timeout: not a number: abc" \
    "type error: exact line"
out=$(err status --control "$none" --time 0)
is "$out" "mdns-doctor: status: --timeout: 0 is out of range (1..600000)" \
    "an abbreviated long option is named in full"
out=$(err decode -m 9 00); rc=$?
is "$rc" 3 "decode -m 9: exit 3"
is "$out" "mdns-doctor: decode: -m: 9 is out of range (0..5)" \
    "a short option is named as typed"
out=$(err decode --method=-1 00)
is "$out" "mdns-doctor: decode: --method: -1 is out of range (0..5)" \
    "negative value, long form"
out=$(err decode --mode hex 00); rc=$?
is "$rc" 3 "a value outside a declared list: exit 3"
is "$out" "mdns-doctor: decode: --mode: hex is not one of auto, raw, base64" \
    "and the line lists the choices"
out=$(err status --control); rc=$?
is "$rc" 3 "missing option value: exit 3"
is "$out" "mdns-doctor: status: option --control needs an argument" \
    "missing value named"
out=$(err status --server=yes)
is "$out" "mdns-doctor: status: option --server takes no value" \
    "a flag refuses a value"
out=$(err decode --ke x 00); rc=$?
is "$rc" 3 "ambiguous abbreviation: exit 3"
is "$out" "mdns-doctor: decode: ambiguous option: --ke" "ambiguity named"
out=$(err version extra); rc=$?
is "$rc" 3 "an operand a command does not take: exit 3"
is "$out" "mdns-doctor: version: unexpected argument: extra" "named"
out=$(err version -- --help); rc=$?
is "$rc" 3 "-- ends the options (--help after it is an operand)"

# --- help: every command, three ways, always exit 0 and the same text
cmds=$("$bin" help | awk '/^commands:/{f=1;next} /^$/{f=0} f && /^  [a-z]/{print $1}')
is "$(printf '%s\n' $cmds | wc -l)" "$(ls "$MDNS_TOP"/cli/cmd-*.c | wc -l)" \
    "help lists every command file"
for c in $cmds; do
	h1=$("$bin" help "$c" 2>"$tmp/e1"); r1=$?
	h2=$("$bin" "$c" -h 2>"$tmp/e2"); r2=$?
	h3=$("$bin" "$c" --help 2>"$tmp/e3"); r3=$?
	ok $([ "$r1$r2$r3" = 000 ] && [ ! -s "$tmp/e1" ] && [ ! -s "$tmp/e2" ] &&
	    [ ! -s "$tmp/e3" ]; echo $?) "$c: help $c, $c -h, $c --help exit 0"
	like "$h2" "^usage: mdns-doctor $c" "$c -h: usage first"
	ok $([ "$h1" = "$h2" ] && [ "$h2" = "$h3" ]; echo $?) \
	    "$c: the three give the same text"
	# metrics prints Prometheus text; check is the monitoring command
	# (docs/check.md) and scan states its exit code's verdict in them:
	# only they may offer prom/nagios.
	if printf '%s' "$h2" | grep -qE 'prom|nagios' && [ "$c" != metrics ] &&
	    [ "$c" != check ] && [ "$c" != scan ]
	then ok 1 "$c: help offers no prom/nagios"; else
		ok 0 "$c: help offers no prom/nagios"; fi
done
out=$("$bin" status --control "$none" --timeout 5 -h); rc=$?
is "$rc" 0 "-h after other options is still help"
like "$out" "^usage: mdns-doctor status" "and prints it"
out=$("$bin" help)
if printf '%s' "$out" | grep -qE 'prom|nagios'; then
	ok 1 "global help advertises no prom/nagios"
else ok 0 "global help advertises no prom/nagios"; fi

# --- help and parser agree, for the commands that declare their options
declared="config connect decode handshake ip metrics mtu route scan serve status
    tui version"
for c in $declared; do
	h=$("$bin" help "$c")
	# Option lines: "  -d, --delay SECONDS  text" or "  --server  text"
	opts=$(printf '%s\n' "$h" |
	    awk '/^options:/{f=1;next} /^$/{f=0} f && /^  -/' |
	    sed -E 's/^  (-[a-zA-Z], )?(--?[a-z0-9-]+)( [^ ]+)?.*/\2\3/')
	n=0 bad=""
	while read -r o v; do
		[ -n "$o" ] || continue
		case $v in
		'') args=("$o") ;;
		FMT) args=("$o" "$(printf '%s\n' "$h" |
		    sed -nE 's/.*output: ([a-z]+) \(default\).*/\1/p')") ;;
		*'|'*) args=("$o" "${v%%|*}") ;;
		*) args=("$o" 1) ;;
		esac
		"$bin" "$c" "${args[@]}" -h >/dev/null 2>&1 || bad="$bad ${args[*]}"
		n=$((n + 1))
	done <<<"$opts"
	is "$bad" "" "$c: each of the $n options its help lists is accepted"
	# The usage line names the same options as the option list (by the
	# short name when there is one).
	u=$(printf '%s\n' "$h" | awk '/^usage:/{f=1} /^$/{f=0} f' |
	    grep -oE '\[--?[a-z0-9-]+' | tr -d '[' | sort | tr '\n' ' ')
	l=$(printf '%s\n' "$h" | awk '/^options:/{f=1;next} /^$/{f=0} f' |
	    sed -nE 's/^  (-[a-zA-Z0-9]|--[a-z0-9-]+).*/\1/p' | sort |
	    tr '\n' ' ')
	is "$u" "$l" "$c: usage and option list name the same options"
	"$bin" "$c" --no-such-option -h >/dev/null 2>&1
	is "$?" 3 "$c: an option the help does not list is refused"
done

# --- formats: accepted exactly when offered, refused at parse time
# refused CMD FMT: true when CMD with --format FMT exits 3 saying the
# format is unknown (commands that need a config, an engine or a service
# fail otherwise here, also with 3, for their own reason).
refused() {
	case $1 in
	status | metrics) "$bin" "$1" --control "$none" --format "$2" ;;
	decode) "$bin" decode --format "$2" 00 ;;
	tui) "$bin" tui --control "$none" --format "$2" </dev/null ;;
	version) "$bin" version --format "$2" ;;
	config) "$bin" config show --config "$none.toml" --format "$2" ;;
	connect | serve) "$bin" "$1" --config "$none.toml" --format "$2" ;;
	ip) "$bin" ip --no-store --control "$none" --service4 ftp://x \
	    --format "$2" ;;
	route) "$bin" route --no-store --control "$none" --format "$2" ;;
	# No domain, no config: they stop before any query or store.
	scan) "$bin" scan --no-store --format "$2" "$none.list" ;;
	mtu | handshake) "$bin" "$1" --format "$2" 127.0.0.1 ;;
	esac >/dev/null 2>"$tmp/fmt.err"
	[ $? -eq 3 ] && grep -q "unknown format $2 " "$tmp/fmt.err"
}
for c in $declared; do
	# The entry and its continuation lines (help folds at 79 columns).
	offered=$("$bin" help "$c" | awk '
	    /^  --format FMT +output: / { sub(/^  --format FMT +output: /, "");
		printf "%s ", $0; f = 1; next }
	    f && /^                       [a-z]/ { sub(/^ +/, ""); printf "%s ", $0; next }
	    { f = 0 }' | sed -E 's/ \(default\)//; s/,//g')
	bad=""
	for f in $offered; do
		refused "$c" "$f" && bad="$bad $f"
	done
	is "$bad" "" "$c: every format its help offers (${offered:-none}) is accepted"
	refused=""
	for f in text json jsonl csv ips prom nagios; do
		case " $offered " in *" $f "*) continue ;; esac
		refused "$c" "$f" || refused="$refused $f"
	done
	is "$refused" "" "$c: every other format is refused (exit 3)"
done
out=$(err metrics --control "$none" --format json); rc=$?
is "$rc" 3 "metrics --format json: exit 3, not Prometheus text"
is "$out" "mdns-doctor: metrics: unknown format json (metrics offers: prom)" \
    "the refusal lists what metrics offers"
out=$(err --format json metrics --control "$none")
is "$out" "mdns-doctor: metrics: unknown format json (metrics offers: prom)" \
    "the same when --format comes before the command"
out=$(err decode --format csv 00)
is "$out" "mdns-doctor: decode: unknown format csv (decode offers: text, json, jsonl)" \
    "decode's list"
out=$(err tui --format text)
is "$out" "mdns-doctor: tui: unknown format text (tui takes no --format)" \
    "a command without formats refuses any"

# --- global options before or after the command
"$bin" --format json status --control "$none" >/dev/null 2>&1
a=$?
"$bin" status --format json --control "$none" >/dev/null 2>&1
b=$?
is "$a$b" 33 "--format json before or after status: accepted (no engine: 3)"
a=$(err -q --format xml status --control "$none")
b=$(err status -q --control "$none" --format xml)
is "$a" "$b" "a refused global option gives the same line either side"
"$bin" -v decode -v --no-color -q --format json 00 >/dev/null 2>&1
is "$?" 1 "-v -q --no-color mixed before and after decode: accepted"

# --- repeated options keep every value
s1="$shared/interop/s1-xor-raw.jsonl"
key=$(head -1 "$s1" | jq -r .key)
dom=$(head -1 "$s1" | jq -r .domain)
q=$(sed -n 2p "$s1" | jq -r .wire)
"$bin" decode -d other.example -d "$dom" -m 1 -k "$key" "$q" >/dev/null 2>&1
is "$?" 0 "decode -d A -d B: the second domain is used too"
"$bin" decode -d other.example -m 1 -k "$key" "$q" >/dev/null 2>&1
is "$?" 1 "decode -d A alone: the query is not for A (control)"

# --- did you mean
out=$(err scna); rc=$?
is "$rc" 3 "a typo of a command: exit 3"
is "$out" "mdns-doctor: unknown command: scna (did you mean scan?)" \
    "swapped letters: did you mean"
out=$(err stauts)
like "$out" "did you mean status\?" "another swap"
out=$(err wath)
like "$out" "did you mean watch\?" "an alias is suggested too"
out=$("$bin" help decod 2>&1)
like "$out" "^usage: mdns-doctor decode" "a unique prefix still dispatches"
out=$(err help scna)
like "$out" "did you mean scan\?" "help CMD suggests too"
out=$(err qwertyuiop)
is "$out" "mdns-doctor: unknown command: qwertyuiop (try 'mdns-doctor help')" \
    "nothing close: no suggestion"
out=$(err status --contrl "$none")
is "$out" "mdns-doctor: status: unknown option: --contrl (did you mean --control?)" \
    "a mistyped long option gets a suggestion"

# --- scan, mtu, handshake (the last commands on getopt): -h is help, and
# their numbers, ranges and lists come from the getters, in one line each
for c in scan mtu handshake; do
	"$bin" "$c" -h >"$tmp/h" 2>&1
	r=$?
	ok $([ $r -eq 0 ] && grep -q "^usage: mdns-doctor $c" "$tmp/h"; echo $?) \
	    "$c -h is help (exit $r)"
done
# err1 CMD...: like err, but also the line count and exit status as
# "rc lines" in $st (stderr must be exactly one line).
err1() { out=$(err "$@"); st="$? $(printf '%s\n' "$out" | wc -l)"; }
err1 scan --rate abc "$none.list"
is "$st" "3 1" "scan --rate abc: one line, exit 3"
is "$out" "mdns-doctor: scan: --rate: not a number: abc" "  named"
err1 scan --parallel 0 "$none.list"
is "$out" "mdns-doctor: scan: --parallel: 0 is out of range (1..200000)" \
    "scan --parallel 0: the range"
err1 scan --seed -1 "$none.list"
is "$out" \
    "mdns-doctor: scan: --seed: -1 is out of range (0..9223372036854775807)" \
    "scan --seed -1: the range"
err1 scan --max-loss 101 "$none.list"
is "$out" "mdns-doctor: scan: --max-loss: 101 is out of range (0..100)" \
    "scan --max-loss 101"
err1 scan --stages env "$none.list"
is "$st" "3 1" "scan --stages env: one line, exit 3"
is "$out" "mdns-doctor: scan: --stages: env is not one of liveness, reach, mtu, handshake, burst" \
    "  the stages it takes"
err1 scan --whoami-name 'bad name!' "$none.list"
is "$st/$out" "3 1/mdns-doctor: scan: --whoami-name bad name!: domain bad name! has a bad character" \
    "scan --whoami-name: a bad name, one line, exit 3"
wn=()
for i in 1 2 3 4 5; do wn+=(--whoami-name "w$i.example"); done
err1 scan "${wn[@]}" "$none.list"
is "$st/$out" "3 1/mdns-doctor: scan: more than 4 --whoami-name" \
    "scan: at most 4 --whoami-name"
err1 scan --server nowhere:53 "$none.list"
like "$out" "^mdns-doctor: scan: --server: " "scan --server: a bad address named"
doms=()
for i in $(seq 17); do doms+=(--domain "d$i.example"); done
err1 scan "${doms[@]}" "$none.list"
is "$st:$out" "3 1:mdns-doctor: scan: at most 16 domains" \
    "scan: a 17th --domain refused"
err1 mtu "${doms[@]}" 127.0.0.1
is "$out" "mdns-doctor: mtu: at most 16 domains" \
    "mtu too (it dropped the 17th without a word before)"
for c in mtu handshake; do
	err1 $c --method 6 127.0.0.1
	is "$st:$out" "3 1:mdns-doctor: $c: --method: 6 is out of range (0..5)" \
	    "$c --method 6: one line, exit 3"
	err1 $c --timeout-ms 9 127.0.0.1
	is "$out" "mdns-doctor: $c: --timeout-ms: 9 is out of range (10..60000)" \
	    "$c --timeout-ms 9"
	err1 $c --mtu-tries 11 127.0.0.1
	is "$out" "mdns-doctor: $c: --mtu-tries: 11 is out of range (1..10)" \
	    "$c --mtu-tries 11"
done
# MIN:MAX (args_range; these were scan_parse_range's unit assertions)
err1 mtu --up-mtu 38:150 127.0.0.1
is "$out" "mdns-doctor: mtu: no tunnel domain: give --domain or --config client_config.toml" \
    "--up-mtu 38:150 is taken (the run stops later, for want of a domain)"
err1 mtu --up-mtu 150:38 127.0.0.1
is "$st:$out" "3 1:mdns-doctor: mtu: --up-mtu: MIN above MAX: 150:38" \
    "--up-mtu 150:38: MIN above MAX refused"
err1 mtu --down-mtu 100:5000 127.0.0.1
is "$out" "mdns-doctor: mtu: --down-mtu: 5000 is out of range (20..4096)" \
    "--down-mtu: each end in range"
err1 mtu --up-mtu 38 127.0.0.1
is "$out" "mdns-doctor: mtu: --up-mtu: not MIN:MAX: 38" "--up-mtu 38: not a range"
long="38:$(printf '0%.0s' $(seq 57))150junk"
err1 scan --up-mtu "$long" "$none.list"
is "$out" "mdns-doctor: scan: --up-mtu: not a number: ${long#38:}" \
    "a range with junk past 64 bytes is refused whole, not cut"
# handshake: the options of one mode are refused in the other
err1 handshake --engine --domain t.example
is "$st:$out" \
    "3 1:mdns-doctor: handshake: --domain is for the probes through resolvers, not --engine" \
    "handshake --engine --domain: refused"
err1 handshake --deadline-s 5 127.0.0.1
is "$st:$out" "3 1:mdns-doctor: handshake: --deadline-s goes with --engine" \
    "handshake --deadline-s without --engine: refused"
err1 handshake --engine 127.0.0.1
is "$out" "mdns-doctor: handshake: --engine takes no RESOLVER arguments" \
    "handshake --engine RESOLVER: refused"
err1 handshake --engine --deadline-s 0
is "$out" "mdns-doctor: handshake: --deadline-s: 0 is out of range (1..3600)" \
    "--deadline-s 0"
err1 handshake --engine --control "$none" --format ips
is "$st:$out" \
    "3 1:mdns-doctor: handshake: unknown format ips (handshake --engine offers: text, json, jsonl)" \
    "handshake --engine --format ips: refused with what --engine offers"
err1 mtu --domain t.example
is "$st:$out" "3 1:mdns-doctor: mtu: missing RESOLVER..." "mtu without RESOLVER"
err1 handshake --domain t.example
is "$out" "mdns-doctor: handshake: give at least one RESOLVER (IP[:PORT])" \
    "handshake without RESOLVER (and without --engine)"
done_testing
