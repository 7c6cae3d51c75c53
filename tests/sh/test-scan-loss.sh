#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-scan-loss.sh — issue 11, point 4: the scan counts only valid tunnel
# answers and measures each resolver's loss. Against a real tunnel server
# behind the resolver farm:
#   * a resolver losing 30 % of its queries is `degraded` (reason loss,
#     the measured loss in the evidence), ranks after every ok one, is
#     left out of --write-resolvers unless --include-degraded, and the
#     text table shows its loss; one losing 2 % stays `ok`;
#   * a resolver answering REFUSED beyond 10 queries/s does not pass the
#     burst stage (it used to: "20/20", the REFUSED answers counted).
#
# Statistics (the farm drops each query independently with probability p):
# with --loss-probes 100 every survivor is judged over n >= 100 counted
# probes against the 10 % threshold. Exact binomial tails, worst n in
# 100..160: a 30 % resolver judged ok (lost <= 10 % of n) 1.6e-6; a 2 %
# one judged degraded (lost > 10 % of n) 1.3e-5. Every funnel step gets 10
# tries, so a 30 % resolver fails a step (and never reaches the verdict)
# with probability 0.3^10 per step, 1.2e-4 over 20 steps. --stages mtu
# keeps the handshake (3 fixed tries) out of it.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
topo_init || exit 1

scan_serve 1
ok $? "tunnel server up"
cat >"$TOPO_DIR/f.spec" <<'EOT'
127.9.0.1 good
127.9.0.2 lossy p=0.3
127.9.0.3 lossy p=0.02
127.9.0.4 ratelimited qps=10 mode=refused
EOT
scan_farm FARM --seed 4 --spec "$TOPO_DIR/f.spec"
ok $? "farm up"
P=$FARM_PORT
k=(--domain $ZONE --key-file "$KEYFILE" --method 1 --no-store
    --intercept-probe none)
printf '127.9.0.%s:%s\n' 1 "$P" 2 "$P" 3 "$P" >"$TOPO_DIR/l.txt"

lossy=(scan "${k[@]}" --stages mtu --tries 10 --mtu-tries 10
    --timeout-ms 500 --mtu-timeout-ms 500 --up-mtu 38:60 --down-mtu 100:200
    --loss-probes 100)
# The jsonl run and the text run (below) at the same time.
"$BIN" "${lossy[@]}" --include-degraded --write-resolvers "$TOPO_DIR/cr2.txt" \
    "$TOPO_DIR/l.txt" >"$TOPO_DIR/text.out" 2>/dev/null &
tpid=$!
out=$("$BIN" "${lossy[@]}" --format jsonl \
    --write-resolvers "$TOPO_DIR/cr.txt" "$TOPO_DIR/l.txt" 2>"$TOPO_DIR/err")
rc=$?
wait $tpid
row() { jq -r --arg a "$1" 'select(.type=="result" and .address==$a) |
    .verdict + " " + .reason' <<<"$out"; }
diag "$(jq -r 'select(.type=="result") | .address + " " + .verdict + " " +
    (.loss | tostring)' <<<"$out" | tr '\n' '|')"
is "$(row 127.9.0.2)" "degraded loss" "30 % lossy resolver: degraded (loss)"
rate=$(jq -r 'select(.address=="127.9.0.2") | .loss.rate' <<<"$out")
probes=$(jq -r 'select(.address=="127.9.0.2") | .loss.probes' <<<"$out")
ok "$(awk -v r="$rate" -v n="$probes" 'BEGIN { exit !(r > 0.10 && n >= 100) }'
    echo $?)" "its loss is measured: $rate over $probes probes"
like "$(jq -r 'select(.address=="127.9.0.2") | .evidence' <<<"$out")" \
    "loss: [0-9]+ of [0-9]+ probes without a valid answer .*above the 10% threshold: degraded" \
    "the evidence carries the measured loss"
is "$(row 127.9.0.3)" "ok ok" "2 % lossy resolver: ok"
is "$(row 127.9.0.1)" "ok ok" "good resolver: ok"
is "$rc" 0 "exit 0: ok survivors"
is "$(jq -r 'select(.type=="result") | .address' <<<"$out" | tail -1)" \
    127.9.0.2 "the degraded resolver ranks last"
is "$(grep -v '^#' "$TOPO_DIR/cr.txt" | sort | tr '\n' ' ')" \
    "127.9.0.1:$P 127.9.0.3:$P " "--write-resolvers leaves it out"
like "$(cat "$TOPO_DIR/cr.txt")" "# 1 degraded resolver\(s\) left out" \
    "and says so"
like "$(cat "$TOPO_DIR/err")" "scan: 3 of 3 passed \(1 degraded\)" \
    "the closing line counts the degraded one"

# The same run in text: a LOSS column; --include-degraded lists it last.
out=$(cat "$TOPO_DIR/text.out")
like "$(grep '^RESOLVER' <<<"$out")" " LOSS " "text: a LOSS column"
like "$(grep "^127.9.0.2:$P" <<<"$out")" " degraded +(loss|rate_limited) .* [0-9]+\.[0-9]%" \
    "text: the degraded row shows its loss"
is "$(grep -v '^#' "$TOPO_DIR/cr2.txt" | tail -1)" "127.9.0.2:$P" \
    "--include-degraded: listed, last"

# --- rate limits: REFUSED beyond 10 q/s. Paced at 150 ms the funnel stays
# under the limit and passes; the burst then sends 40 at once and at most
# 20 can be valid (two 1-second windows at the very most), below 90 %.
printf '127.9.0.1:%s\n127.9.0.4:%s\n' "$P" "$P" >"$TOPO_DIR/b.txt"
out=$("$BIN" scan "${k[@]}" --stages burst --burst 40 --pace-ms 150 \
    --loss-probes 0 --timeout-ms 1500 --mtu-timeout-ms 1500 --format jsonl \
    "$TOPO_DIR/b.txt" 2>/dev/null)
is "$(jq -r 'select(.address=="127.9.0.4") | .stage + " " + .verdict + " " +
    .reason' <<<"$out")" "burst fail rate_limited" \
    "REFUSED beyond 10 q/s: the burst fails, rate_limited"
okn=$(jq -r 'select(.address=="127.9.0.4") | .burst.ok' <<<"$out")
ok $((okn <= 20 ? 0 : 1)) "only valid answers counted ($okn of 40)"
like "$(jq -r 'select(.address=="127.9.0.4") | .evidence' <<<"$out")" \
    "burst: [0-9]+ of 40 valid answers \([0-9]+ REFUSED" \
    "the evidence counts the REFUSED answers"
is "$(jq -r 'select(.address=="127.9.0.1") | .stage + " " + .verdict + " " +
    (.burst.ok | tostring)' <<<"$out")" "burst ok 40" \
    "the good resolver passes the same burst"
done_testing
