#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-scan-farm.sh — a real scan over a 1,000-address resolver farm with
# every behaviour, in front of a real tunnel server (mdns-doctor serve),
# judged by the farm's ground truth: >= 99 % of reach verdicts match, every
# good resolver passes all stages with the exact MTUs the size maths
# predicts (tools/probe-calc), qname-cut / small-udp / edns-strip get the
# MTU their limit allows and not more, the env stage reports, the store
# holds every result once, and --write-resolvers lists the survivors.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
topo_init || exit 1
CALC=$(topo_tool probe-calc)

scan_serve 1
ok $? "tunnel server up on $SERVE"
X=${SCAN_FARM_SCALE:-1}
N=$((1000 * X))
echo "127.2.0.0-127.2.0.$((8 * X - 1)) slow delay_ms=100-300" \
    >"$TOPO_DIR/slow.spec"
gen=""
for bc in good=760 dead=40 refused=20 servfail=20 hijack=15 nxhijack=15 \
    wrong-source=15 wrong-id=15 case-scramble=15 qname-cut=20 \
    edns-strip=15 small-udp=25 ratelimited=10 lossy=7; do
	gen+="${gen:+,}${bc%=*}=$((${bc#*=} * X))"
done
scan_farm FARM --seed 11 --base 127.1.0.0 --spec "$TOPO_DIR/slow.spec" \
    --gen "$gen"
ok $? "farm up on port $FARM_PORT"
scan_list FARM >"$TOPO_DIR/list.txt"
is "$(wc -l <"$TOPO_DIR/list.txt")" $N "$N farm addresses"

UP=38:150 DOWN=20:4000
t0=$(date +%s.%N)
"$BIN" scan --db "$TOPO_DIR/h.db" --domain $ZONE --key-file "$KEYFILE" \
    --method 1 --rate 5000 --parallel 4096 --timeout-ms 800 --tries 3 \
    --mtu-timeout-ms 1200 --up-mtu $UP --down-mtu $DOWN --seed 3 \
    --server "$SERVE" --intercept-probe 127.0.0.254:9 \
    --intercept-probe 127.3.0.1 --format jsonl \
    --write-resolvers "$TOPO_DIR/client_resolvers.txt" \
    "$TOPO_DIR/list.txt" >"$TOPO_DIR/out.jsonl" 2>"$TOPO_DIR/err.txt"
rc=$?
t1=$(date +%s.%N)
diag "scan took $(echo "$t1 - $t0" | bc) s"
is "$rc" 0 "scan exits 0 (survivors, no warning)"
is "$(jq -r 'select(.type=="result") | .address' "$TOPO_DIR/out.jsonl" |
    sort -u | wc -l)" $N "one result per address"
is "$(jq -r 'select(.type=="result")' "$TOPO_DIR/out.jsonl" | jq -s length)" \
    $N "no duplicates"

# Reach verdicts against the truth.
reach_of "$TOPO_DIR/out.jsonl" | sort >"$TOPO_DIR/ours.tsv"
jq -r '[.addr, .verdict, .behaviour] | @tsv' "$TOPO_DIR/FARM.truth" |
    sort >"$TOPO_DIR/truth.tsv"
join -t $'\t' "$TOPO_DIR/truth.tsv" "$TOPO_DIR/ours.tsv" \
    >"$TOPO_DIR/joined.tsv"
match=$(awk -F'\t' '$2 == $4' "$TOPO_DIR/joined.tsv" | wc -l)
diag "reach verdicts matching the truth: $match / $N"
awk -F'\t' '$2 != $4 { print "# mismatch:", $0 }' "$TOPO_DIR/joined.tsv"
ok $((match * 100 >= N * 99 ? 0 : 1)) \
    ">= 99 % of verdicts match the ground truth"
for b in dead refused servfail hijack nxhijack wrong-source wrong-id; do
	bad=$(awk -F'\t' -v b=$b '$3 == b && $2 != $4' "$TOPO_DIR/joined.tsv" |
	    wc -l)
	is "$bad" 0 "every $b resolver classified as its truth says"
done

# Exact MTUs.
read -r want_up want_down < <($CALC --up $UP --down $DOWN |
    sed 's/up=\([0-9]*\) down=\([0-9]*\)/\1 \2/')
diag "good resolvers must measure up $want_up down $want_down"
jq -r 'select(.type=="result") | [.address, .stage, .verdict,
    (.upload_mtu // 0), (.download_mtu // 0), .reason] | @tsv' \
    "$TOPO_DIR/out.jsonl" | sort >"$TOPO_DIR/mtu.tsv"
jq -r '[.addr, .behaviour, (.params.n // 0)] | @tsv' "$TOPO_DIR/FARM.truth" |
    sort | join -t $'\t' - "$TOPO_DIR/mtu.tsv" >"$TOPO_DIR/mtu-joined.tsv"
bad=$(awk -F'\t' -v u="$want_up" -v d="$want_down" '($2 == "good" ||
    $2 == "case-scramble") && !($4 == "handshake" && $5 == "ok" &&
    $6 == u && $7 == d)' "$TOPO_DIR/mtu-joined.tsv")
is "$bad" "" "every good and case-scramble resolver: handshake ok, exact MTUs"
fails=0
checked=0
while IFS=$'\t' read -r addr beh n stage verdict up down reason; do
	case $beh in
	qname-cut) args="--cut $n" ;;
	small-udp) args="--budget $n" ;;
	edns-strip) args="--budget 512 --no-opt" ;;
	*) continue ;;
	esac
	# shellcheck disable=SC2086
	exp=$($CALC --up $UP --down $DOWN $args)
	checked=$((checked + 1))
	got="up=$up down=$down"
	if [ "${exp#up=0 }" != "$exp" ]; then
		# Upload rejected: no MTU, a name/upload reason.
		case $reason in name_cut | upload_mtu) continue ;; esac
	elif [ "$(echo "$exp" | sed 's/.*down=//')" = 0 ]; then
		[ "$reason" = download_mtu ] && [ "$up" = "$(echo "$exp" |
		    sed 's/up=\([0-9]*\).*/\1/')" ] && continue
	elif [ "$got" = "$exp" ] && [ "$verdict" = ok ]; then
		continue
	fi
	fails=$((fails + 1))
	diag "$addr $beh n=$n: got $got ($stage $verdict $reason), want $exp"
done <"$TOPO_DIR/mtu-joined.tsv"
is "$fails" 0 "qname-cut/small-udp/edns-strip: the MTU their limit allows ($checked checked)"

# Shape facts.
cs=$(jq -r 'select(.type=="result") | [.address, .shape.case_preserved] |
    @tsv' "$TOPO_DIR/out.jsonl" | sort | join -t $'\t' \
    <(jq -r 'select(.behaviour=="case-scramble" and
    (.params.mode=="echo" or .params.mode=="both")) | .addr' \
    "$TOPO_DIR/FARM.truth" | sort) - | awk -F"\t" '$2 != "false"' | wc -l)
is "$cs" 0 "case-scramble (echo/both): case not preserved"
es=$(jq -r 'select(.type=="result" and .shape.max_answer_bytes != null) |
    [.address, .shape.max_answer_bytes] | @tsv' "$TOPO_DIR/out.jsonl" |
    sort | join -t $'\t' <(jq -r 'select(.behaviour=="edns-strip" or
    .behaviour=="small-udp") | [.addr, .max_answer_bytes] | @tsv' \
    "$TOPO_DIR/FARM.truth" | sort) - | awk -F'\t' '$3 > $2' | wc -l)
is "$es" 0 "no delivered answer above the resolver's limit"

# Env stage.
is "$(jq -r 'select(.type=="check" and .kind=="intercept") | .verdict' \
    "$TOPO_DIR/out.jsonl" | sort -u)" ok "interception probes: silent"
is "$(jq -r 'select(.type=="check" and .kind=="server") | .verdict' \
    "$TOPO_DIR/out.jsonl")" ok "direct server check passes"

# Summary counters.
sum=$(jq -c 'select(.type=="summary")' "$TOPO_DIR/out.jsonl")
like "$sum" "\"liveness\":\\{\"tested\":$N," "summary: $N tested at liveness"
nok=$(jq -r 'select(.type=="result" and .verdict=="ok") | .address' \
    "$TOPO_DIR/out.jsonl" | wc -l)
# Degraded ones (lossy, rate-limited: loss above 10 %) passed every stage.
npass=$(jq -r 'select(.type=="result" and (.verdict=="ok" or
    .verdict=="degraded")) | .address' "$TOPO_DIR/out.jsonl" | wc -l)
like "$sum" "\"handshake\":\\{\"tested\":[0-9]+,\"passed\":$npass," \
    "summary: handshake passed = survivors, ok or degraded ($npass)"
bad=$(jq -r 'select(.type=="result" and .verdict=="degraded") | .address' \
    "$TOPO_DIR/out.jsonl" | sort | join - <(jq -r '[.addr, .behaviour] |
    @tsv' "$TOPO_DIR/FARM.truth" | sort) | awk '$2 != "lossy" &&
    $2 != "ratelimited"')
is "$bad" "" "only lossy and rate-limited resolvers are degraded"

# Store and client_resolvers.txt.
is "$(sqlite3 "$TOPO_DIR/h.db" 'select count(*), count(distinct resolver)
    from resolver_results' | tr '|' ' ')" "$N $N" \
    "store: $N results, each address once"
is "$(sqlite3 "$TOPO_DIR/h.db" 'select status from runs')" ok \
    "store: run ended ok"
is "$(grep -cv '^#' "$TOPO_DIR/client_resolvers.txt")" "$nok" \
    "client_resolvers.txt lists every survivor"
like "$(cat "$TOPO_DIR/client_resolvers.txt")" \
    "# MIN_UPLOAD_MTU = [0-9]+" "recommended MTU values written"
minup=$(jq -r 'select(.type=="result" and .verdict=="ok") | .upload_mtu' \
    "$TOPO_DIR/out.jsonl" | sort -n | head -1)
like "$(cat "$TOPO_DIR/client_resolvers.txt")" "MIN_UPLOAD_MTU = $minup\$" \
    "MIN_UPLOAD_MTU keeps the weakest survivor ($minup)"
done_testing
