#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-resolver-farm.sh — the resolver farm against its own ground truth:
# a farm with every behaviour in front of farm-upstream, real queries sent
# with farmq, each answer classified the way a scanner's reachability probe
# would and compared with the verdict in the truth file; then each
# behaviour's specific effect (case, name length, EDNS, sizes, addresses,
# IDs, rates, loss), spec errors, generated farms and clean shutdown.
set -u
export LC_ALL=C
cd "${MDNS_TOP:-$(dirname "$0")/../..}"
. tests/lib/tap.sh
BUILD=${BUILD:-build}
FARM=$BUILD/tools/resolver-farm
UPSTREAM=$BUILD/tools/farm-upstream
DNSQ=$BUILD/tools/farmq

tmp=$(mktemp -d "${TMPDIR:-/tmp}/farm-test.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# wait_port FILE PID: the "port=N" line the tool prints when ready.
wait_port() {
	local i
	for i in $(seq 1 400); do
		if grep -q '^port=' "$1" 2>/dev/null; then
			sed -n 's/^port=//p' "$1"
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

for t in "$FARM" "$UPSTREAM" "$DNSQ"; do
	[ -x "$t" ] || { echo "Bail out! $t not built"; exit 1; }
done

"$UPSTREAM" --port 0 --zone t.example >"$tmp/up.out" 2>"$tmp/up.err" &
pids+=($!)
up_port=$(wait_port "$tmp/up.out" $!) || { echo "Bail out! upstream"; exit 1; }

cat >"$tmp/spec" <<'EOF'
# every behaviour; later lines win where ranges overlap
127.1.0.0/30	good
127.1.0.4/31	dead
127.1.0.6	slow delay_ms=150
127.1.0.7	slow delay_ms=100-250
127.1.0.8	lossy p=0
127.1.0.9	lossy p=1
127.1.0.10	lossy p=0.3
127.1.0.11	ratelimited qps=1000
127.1.0.12	ratelimited qps=0 mode=refused
127.1.0.13	ratelimited qps=10 mode=refused
127.1.0.14	ratelimited qps=10 mode=drop
127.1.0.15	refused
127.1.0.16	servfail
127.1.0.17	nxhijack a=10.10.34.34
127.1.0.18	hijack a=10.9.8.7 txt=hijacked-by-farm
127.1.0.19	case-scramble mode=forward
127.1.0.20	case-scramble mode=echo
127.1.0.21	case-scramble mode=both
127.1.0.22	qname-cut n=60
127.1.0.23	edns-strip
127.1.0.24	small-udp n=300
127.1.0.25	wrong-source from=127.1.0.200
127.1.0.26	wrong-source
127.1.0.27	wrong-id
127.1.1.0-127.1.1.15	good	# a range
127.1.1.5	refused		# overrides one address of it
EOF
"$FARM" --spec "$tmp/spec" --upstream 127.0.0.1:"$up_port" --port 0 \
    --seed 7 --truth "$tmp/truth" --stats "$tmp/stats" \
    >"$tmp/farm.out" 2>"$tmp/farm.err" &
farm_pid=$!
pids+=($farm_pid)
port=$(wait_port "$tmp/farm.out" $farm_pid) || {
	cat "$tmp/farm.err"; echo "Bail out! farm did not start"; exit 1; }
ok 0 "farm ready on port $port"

q() { "$DNSQ" --port "$port" "$@"; }
field() { # field NAME LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1
}
txt_of() { printf '%s\n' "$1" | sed -n 's/.* txt=//p'; }
truth() { # truth ADDR JQ-EXPR
	jq -r --arg a "$1" "select(.addr == \$a) | $2" "$tmp/truth"
}

# --- truth file shape ---
is "$(wc -l <"$tmp/truth")" 44 "truth has one line per address (28 + 16)"
is "$(jq -c 'select(.addr=="127.1.1.5") | [.behaviour,.verdict]' \
    "$tmp/truth")" '["refused","refused"]' "later spec line wins"
is "$(jq -r 'select(.port != '"$port"') | .addr' "$tmp/truth" | wc -l)" 0 \
    "truth records the farm port"
is "$(truth 127.1.0.22 .max_qname_chars)" 60 "qname-cut limit in truth"
is "$(truth 127.1.0.23 .max_answer_bytes)" 512 "edns-strip limit in truth"
is "$(truth 127.1.0.24 .max_answer_bytes)" 300 "small-udp limit in truth"

# --- every deterministic address: classify a probe, compare to truth ---
# The probe is an in-zone A query: the upstream's honest answer is NODATA,
# so any address in the answer is a forgery.
classify() { # classify ADDR -> verdict from a real query
	local out from rc
	out=$(q --timeout-ms 1200 "$1" "probe-$RANDOM-x.t.example" A)
	case $out in status=timeout*) echo timeout; return ;; esac
	from=$(field from "$out")
	rc=$(field rcode "$out")
	if [ "${from%:*}" != "$1" ]; then echo wrong_source
	elif [ "$(field id_match "$out")" != 1 ]; then echo wrong_id
	elif [ "$rc" = REFUSED ]; then echo refused
	elif [ "$rc" = SERVFAIL ]; then echo servfail
	elif [ -n "$(field a "$out")" ]; then echo hijack
	elif [ "$rc" = NOERROR ]; then echo ok
	else echo "other:$rc"
	fi
}
mkdir "$tmp/v"
# Stateful or random behaviours are checked on their own further down.
sample=$(jq -r 'select(.addr != "127.1.0.10" and .addr != "127.1.0.13"
    and .addr != "127.1.0.14") | .addr' "$tmp/truth")
for a in $sample; do classify "$a" >"$tmp/v/$a" & done
wait_all() { local j; for j in $(jobs -p); do
	case " ${pids[*]} " in *" $j "*) ;; *) wait "$j" ;; esac; done; }
wait_all
declare -A want_v beh
while IFS=$'\t' read -r a b v; do want_v[$a]=$v; beh[$a]=$b; done < <(
    jq -r '[.addr, .behaviour, .verdict] | @tsv' "$tmp/truth")
bad=0; n=0
for a in $sample; do
	n=$((n + 1))
	got=$(cat "$tmp/v/$a")
	if [ "$got" != "${want_v[$a]}" ]; then
		bad=$((bad + 1))
		diag "$a (${beh[$a]}): got $got, truth ${want_v[$a]}"
	fi
done
is "$bad" 0 "all $n deterministic addresses answer as their truth says"
seen=$(for a in $sample; do echo "${beh[$a]}"; done | sort -u | wc -l)
is "$seen" 15 "the sample covers all 15 behaviours"

# Slow checks (timeouts, bursts) run in the background meanwhile.
q --count 600 --timeout-ms 800 127.1.0.10 loss.t.example TXT >"$tmp/lossy" &
q --count 40 --timeout-ms 500 127.1.0.13 rl.t.example TXT >"$tmp/rl1" &
q --count 40 --timeout-ms 500 127.1.0.14 rl.t.example TXT >"$tmp/rl2" &
q --timeout-ms 400 127.1.0.22 "b$(printf 'a%.0s' $(seq 1 50)).t.example" \
    TXT >"$tmp/cut61" &
q --timeout-ms 300 127.1.2.1 x.t.example TXT >"$tmp/unassigned" &
q --timeout-ms 2000 127.1.0.6 slow.t.example TXT >"$tmp/slow1" &
q --timeout-ms 2000 127.1.0.7 slow2.t.example TXT >"$tmp/slow2" &

# --- good: a forwarding resolver ---
out=$(q 127.1.0.1 Abc-Good.t.example TXT)
is "$(txt_of "$out")" "q=Abc-Good.t.example edns=1232" \
    "good forwards name and OPT unchanged"
is "$(field from "$out")" "127.1.0.1:$port" "good answers from the asked address"
is "$(field id_match "$out")" 1 "good restores the client's ID"
out=$(q --edns 0 127.1.0.2 plain.t.example TXT)
is "$(txt_of "$out")" "q=plain.t.example edns=none" \
    "good forwards a query without OPT without OPT"
out=$(q 127.1.0.3 s900.t.example TXT)
is "$(field txtlen "$out")/$(field tc "$out")" "900/0" \
    "good relays a 900-byte TXT within EDNS 1232"
out=$(q --edns 0 127.1.0.3 s900.t.example TXT)
is "$(field tc "$out")/$(field an "$out")" "1/0" \
    "good: no EDNS, 900-byte answer comes back truncated"
out=$(q 127.1.0.0 outside.example A)
is "$(field rcode "$out")" NXDOMAIN "good relays NXDOMAIN"

# --- slow ---
wait_all
out=$(cat "$tmp/slow1")
rtt=$(field rtt_ms "$out")
ok $(( ${rtt:-0} >= 150 ? 0 : 1 )) "slow delay_ms=150 answers no sooner (${rtt}ms)"
out=$(cat "$tmp/slow2")
rtt=$(field rtt_ms "$out")
ok $(( ${rtt:-0} >= 100 ? 0 : 1 )) "slow 100-250 answers no sooner than 100 ms (${rtt}ms)"

# --- lossy p=0.3: 600 queries; 420 expected answered, sd ~11 ---
out=$(cat "$tmp/lossy")
ans=$(field answered "$out")
ok $(( ans >= 370 && ans <= 470 ? 0 : 1 )) \
    "lossy p=0.3 answers 370..470 of 600 (got $ans)"

# --- ratelimited: 40 back to back; 10 per one-second window ---
out=$(cat "$tmp/rl1")
okc=$(field noerror "$out"); ref=$(field refused "$out")
ok $(( okc >= 10 && okc <= 20 && okc + ref == 40 ? 0 : 1 )) \
    "ratelimited mode=refused: $okc answered, $ref refused"
out=$(cat "$tmp/rl2")
okc=$(field noerror "$out"); to=$(field timeouts "$out")
ok $(( okc >= 10 && okc <= 20 && okc + to == 40 ? 0 : 1 )) \
    "ratelimited mode=drop: $okc answered, $to silent"

# --- hijacks ---
out=$(q 127.1.0.18 anything.t.example TXT)
is "$(txt_of "$out")" "$(truth 127.1.0.18 .params.txt)" "hijack TXT from truth"
out=$(q 127.1.0.18 www.example A)
is "$(field a "$out")/$(field rcode "$out")" "$(truth 127.1.0.18 .params.a)/NOERROR" \
    "hijack A from truth, even outside any zone"
out=$(q 127.1.0.17 nosuch.example A)
is "$(field a "$out")/$(field rcode "$out")" "$(truth 127.1.0.17 .params.a)/NOERROR" \
    "nxhijack turns NXDOMAIN into the fixed A"
out=$(q 127.1.0.17 real.t.example TXT)
is "$(txt_of "$out")" "q=real.t.example edns=1232" "nxhijack passes real answers"

# --- case-scramble ---
name=abcdefghijklmnopqrstuvwxyz.t.example
lc() { printf '%s' "$1" | tr 'A-Z' 'a-z'; }
out=$(q 127.1.0.19 "$name" TXT)
up=$(txt_of "$out"); up=${up#q=}; up=${up% edns=*}
ok $([ "$up" != "$name" ] && [ "$(lc "$up")" = "$name" ]; echo $?) \
    "case-scramble forward: upstream saw $up"
is "$(field qname "$out")" "$name" "case-scramble forward: client sees its own case"
out=$(q 127.1.0.20 "$name" TXT)
got=$(field qname "$out")
is "$(txt_of "$out")" "q=$name edns=1232" "case-scramble echo: upstream saw the name unchanged"
ok $([ "$got" != "$name" ] && [ "$(lc "$got")" = "$name" ]; echo $?) \
    "case-scramble echo: client sees $got"
out=$(q 127.1.0.21 "$name" TXT)
got=$(field qname "$out"); up=$(txt_of "$out"); up=${up#q=}; up=${up% edns=*}
ok $([ "$got" != "$name" ] && [ "$up" = "$got" ]; echo $?) \
    "case-scramble both: upstream and client see the same scrambled name"

# --- qname-cut n=60: exactly 60 characters pass, 61 do not ---
n60=$(printf 'a%.0s' $(seq 1 50)).t.example	# 50 + 10 = 60
out=$(q 127.1.0.22 "$n60" TXT)
is "$(field rcode "$out")" NOERROR "qname-cut n=60 passes a 60-character name"
out=$(cat "$tmp/cut61")
is "$out" status=timeout "qname-cut n=60 drops a 61-character name"

# --- edns-strip ---
out=$(q 127.1.0.23 strip.t.example TXT)
is "$(txt_of "$out")/$(field edns "$out")" "q=strip.t.example edns=none/none" \
    "edns-strip removes OPT both ways"
out=$(q 127.1.0.23 s400.t.example TXT)
is "$(field tc "$out")/$(field txtlen "$out")" "0/400" "edns-strip: 400 bytes fit in 512"
out=$(q 127.1.0.23 s600.t.example TXT)
is "$(field tc "$out")/$(field an "$out")" "1/0" "edns-strip: 600 bytes get TC"

# --- small-udp n=300 ---
out=$(q 127.1.0.24 s200.t.example TXT)
sz=$(field size "$out")
ok $([ "$(field tc "$out")" = 0 ] && [ "$sz" -le 300 ]; echo $?) \
    "small-udp n=300: a $sz-byte answer passes whole"
out=$(q 127.1.0.24 s300.t.example TXT)
is "$(field tc "$out")/$(field an "$out")" "1/0" "small-udp n=300: larger answer truncated with TC"

# --- addresses and IDs ---
out=$(q 127.1.0.25 src.t.example TXT)
is "$(field from "$out")" "$(truth 127.1.0.25 .params.from):$port" \
    "wrong-source answers from its configured address"
out=$(q 127.1.0.26 src.t.example TXT)
is "$(field from "$out")" "$(truth 127.1.0.26 .params.from):$port" \
    "wrong-source default (next address) matches truth"
out=$(q --id 4660 127.1.0.27 id.t.example TXT)
is "$(field id_match "$out")/$(field rcode "$out")" "0/NOERROR" "wrong-id answers with another ID"

# --- unassigned addresses stay silent ---
out=$(cat "$tmp/unassigned")
is "$out" status=timeout "an address outside the spec is silent"

# --- counters: SIGUSR1 writes the stats file ---
before=$(jq -r 'select(.behaviour=="servfail") | .received' "$tmp/stats" 2>/dev/null)
q 127.1.0.16 a.t.example TXT >/dev/null
q 127.1.0.16 b.t.example TXT >/dev/null
rm -f "$tmp/stats"
kill -USR1 $farm_pid
for i in $(seq 1 400); do [ -s "$tmp/stats" ] && break; sleep 0.05; done
is "$(jq -r 'select(.behaviour=="servfail") | .received' "$tmp/stats")" 3 \
    "stats: servfail received the 1 probe + 2 queries${before:+ (before $before)}"
is "$(jq -r 'select(.behaviour=="dead") | .dropped' "$tmp/stats")" 2 \
    "stats: dead dropped both probes"
ok $(( $(jq -r '.farm.unassigned // empty' "$tmp/stats") >= 1 ? 0 : 1 )) \
    "stats: unassigned counted"

# --- SIGTERM: clean exit, final stats ---
kill -TERM $farm_pid
wait $farm_pid
is "$?" 0 "SIGTERM exits 0"
is "$(jq -r 'select(.behaviour=="wrong-id") | .answered' "$tmp/stats")" 2 \
    "final stats written on exit"

# --- spec errors: file:line and reason, exit non-zero ---
spec_err() { # spec_err LINE REGEX DESC
	printf '127.1.0.1 good\n%s\n' "$1" >"$tmp/bad"
	err=$("$FARM" --check --spec "$tmp/bad" --upstream 127.0.0.1:1 2>&1)
	rc=$?
	ok $([ $rc -ne 0 ]; echo $?) "$3: exit $rc"
	like "$err" "$2" "$3: message"
}
spec_err "127.1.0.2 teleport" "bad:2: unknown behaviour 'teleport'" "unknown behaviour"
spec_err "127.1.0.2 lossy p=1.5" "bad:2: p wants a probability" "bad probability"
spec_err "10.0.0.1 good" "bad:2: .*outside 127.0.0.0/8" "non-loopback address"
spec_err "127.1.0.0/40 good" "bad:2: bad prefix length" "bad prefix"
spec_err "127.1.0.2 slow delay=5" "bad:2: unknown parameter 'delay' for slow" "unknown parameter"
spec_err "127.1.0.2" "bad:2: expected ADDRESS BEHAVIOUR" "missing behaviour"
spec_err "127.1.0.9-127.1.0.2 good" "bad:2: .*ends before it starts" "backwards range"
err=$("$FARM" --check --gen good=5 2>&1); rc=$?
like "$rc:$err" "^1:.*need --upstream" "forwarding behaviours need an upstream"

# --- generated farm: 100,000 addresses, counts and determinism ---
gen="good=99000,dead=300,slow=100,lossy=100,ratelimited=50,refused=50"
gen="$gen,servfail=50,nxhijack=50,hijack=50,case-scramble=50,qname-cut=50"
gen="$gen,edns-strip=50,small-udp=50,wrong-source=25,wrong-id=25"
"$FARM" --check --gen "$gen" --seed 42 --base 127.2.0.0 \
    --upstream 127.0.0.1:1 --truth "$tmp/g1" >/dev/null
"$FARM" --check --gen "$gen" --seed 42 --base 127.2.0.0 \
    --upstream 127.0.0.1:1 --truth "$tmp/g2" >/dev/null
"$FARM" --check --gen "$gen" --seed 43 --base 127.2.0.0 \
    --upstream 127.0.0.1:1 --truth "$tmp/g3" >/dev/null
is "$(wc -l <"$tmp/g1")" 100000 "generated truth has 100000 lines"
is "$(grep -o '"behaviour":"[^"]*"' "$tmp/g1" | cut -d'"' -f4 | sort |
    uniq -c | awk '{printf "%s=%s,", $2, $1}')" \
    "$(printf '%s\n' "${gen//,/$'\n'}" | sort | tr '\n' ',')" \
    "generated counts per behaviour match --gen"
cmp -s "$tmp/g1" "$tmp/g2"; ok $? "same seed, same farm"
cmp -s "$tmp/g1" "$tmp/g3"; ok $([ $? -ne 0 ]; echo $?) "another seed, another farm"
is "$(sed -n '1p;$p' "$tmp/g1" | cut -d'"' -f4 | tr '\n' ' ')" \
    "127.2.0.0 127.3.134.159 " \
    "generated addresses are consecutive from --base"

# A generated farm answers as its truth says (one address per behaviour).
"$FARM" --gen "$gen" --seed 42 --base 127.2.0.0 --upstream 127.0.0.1:"$up_port" \
    --port 0 --truth "$tmp/g4" >"$tmp/farm2.out" 2>"$tmp/farm2.err" &
pids+=($!)
port=$(wait_port "$tmp/farm2.out" $!) || { ok 1 "generated farm started"; done_testing; exit; }
# First address of each behaviour whose verdict is certain on one query.
grep -v -e '"behaviour":"slow"' -e '"behaviour":"lossy"' \
    -e '"behaviour":"ratelimited"' "$tmp/g4" |
    awk -F'"' '!seen[$10]++ { match($0, /"verdict":"[^"]*"/)
	print $4 "\t" substr($0, RSTART + 11, RLENGTH - 12) }' >"$tmp/g4s"
sample=$(cut -f1 "$tmp/g4s")
diag "generated sample: $(tr "\t\n" ":," <"$tmp/g4s")"
bad=0; n=0
for a in $sample; do classify "$a" >"$tmp/v/g-$a" & done
wait_all
for a in $sample; do
	n=$((n + 1))
	want=$(awk -v a="$a" '$1 == a { print $2 }' "$tmp/g4s")
	got=$(cat "$tmp/v/g-$a")
	[ "$got" = "$want" ] || { bad=$((bad + 1)); diag "$a: got $got, truth $want"; }
done
is "$bad" 0 "generated farm: $n sampled addresses answer as their truth says"

done_testing
