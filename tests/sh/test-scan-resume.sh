#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-scan-resume.sh — SIGINT in the middle of a scan, then --resume with
# the same arguments: the final results (per address: stage, verdict,
# reason, MTUs) equal those of an uninterrupted scan with the same seed,
# every address is stored exactly once, and the run ends "ok". Only
# deterministic farm behaviours are used, so both runs must agree exactly.
# The interrupted run prints the results it has; the resume needs the same
# lists, stages and probe options but none of the display options
# (--progress, --format, -q) of the interrupted run (issue 11).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
topo_init || exit 1

scan_serve 1
ok $? "tunnel server up"
scan_farm FARM --seed 5 --base 127.4.0.0 \
    --gen good=150,dead=60,refused=20,hijack=10,wrong-id=10,qname-cut=20,small-udp=20,edns-strip=10
ok $? "farm up"
scan_list FARM >"$TOPO_DIR/list.txt"

probe=(scan --domain $ZONE --key-file "$KEYFILE" --method 1 --rate 1500
    --timeout-ms 600 --tries 2 --mtu-timeout-ms 600 --up-mtu 38:150
    --down-mtu 20:2000 --seed 9 --intercept-probe none "$TOPO_DIR/list.txt")
args=("${probe[@]}" --format jsonl)
summary() {
	jq -r 'select(.type=="result") | [.address, .stage, .verdict,
	    .reason, .upload_mtu, .download_mtu] | @tsv' "$1" | sort
}

"$BIN" --db "$TOPO_DIR/a.db" "${args[@]}" >"$TOPO_DIR/a.jsonl" 2>/dev/null
is "$?" 0 "uninterrupted scan exits 0"
summary "$TOPO_DIR/a.jsonl" >"$TOPO_DIR/a.tsv"
is "$(wc -l <"$TOPO_DIR/a.tsv")" 300 "uninterrupted: 300 results"

"$BIN" --db "$TOPO_DIR/b.db" "${args[@]}" --progress \
    >"$TOPO_DIR/b1.jsonl" 2>"$TOPO_DIR/b1.err" &
pid=$!
# Interrupt once some results are committed (not at a fixed time).
for _ in $(seq 600); do
	n=$(sqlite3 "$TOPO_DIR/b.db" 'select count(*) from resolver_results' \
	    2>/dev/null || echo 0)
	[ "${n:-0}" -ge 20 ] && break
	sleep 0.05
done
kill -INT $pid
wait $pid
is "$?" 3 "interrupted scan exits 3"
like "$(cat "$TOPO_DIR/b1.err")" "interrupted at position [0-9]+" \
    "it says where it stopped"
is "$(sqlite3 "$TOPO_DIR/b.db" 'select status from runs')" interrupted \
    "store: run marked interrupted"
pos=$(sqlite3 "$TOPO_DIR/b.db" 'select position from scan_progress')
stored=$(sqlite3 "$TOPO_DIR/b.db" 'select count(*) from resolver_results')
diag "interrupted at position $pos with $stored results stored"
ok $((stored > 0 && stored < 300 ? 0 : 1)) "partial results stored"
ok $((pos <= stored ? 0 : 1)) "cursor never ahead of the stored results"
is "$(jq -r 'select(.type=="result") | .address' "$TOPO_DIR/b1.jsonl" |
    wc -l)" "$stored" "the interrupted run printed the $stored results it has"
is "$(jq -r 'select(.type=="summary") | .stages.liveness.tested' \
    "$TOPO_DIR/b1.jsonl")" "$(sqlite3 "$TOPO_DIR/b.db" 'select tested from
    run_stages where stage = "liveness"')" "and its stage counts"
like "$(cat "$TOPO_DIR/b1.err")" "interrupted with $stored result\(s\)" \
    "and says how many"

# The same arguments over a list that changed cannot resume.
cp "$TOPO_DIR/list.txt" "$TOPO_DIR/list.keep"
head -n 299 "$TOPO_DIR/list.keep" >"$TOPO_DIR/list.txt"
"$BIN" --db "$TOPO_DIR/b.db" "${args[@]}" --resume >/dev/null \
    2>"$TOPO_DIR/b0.err"
is "$?" 3 "--resume over a changed list refuses"
like "$(cat "$TOPO_DIR/b0.err")" "the list changed \(299 items now, 300" \
    "and says why"
cp "$TOPO_DIR/list.keep" "$TOPO_DIR/list.txt"

# Resumed without --progress: display options are not the scan.
"$BIN" --db "$TOPO_DIR/b.db" "${args[@]}" --resume >"$TOPO_DIR/b2.jsonl" \
    2>"$TOPO_DIR/b2.err"
is "$?" 0 "resumed scan (without the --progress it started with) exits 0"
like "$(cat "$TOPO_DIR/b2.err")" "resuming run 1 at position $pos" \
    "resumed at the stored cursor"
summary "$TOPO_DIR/b2.jsonl" >"$TOPO_DIR/b.tsv"
is "$(wc -l <"$TOPO_DIR/b.tsv")" 300 "resumed: 300 results reported"
d=$(diff "$TOPO_DIR/a.tsv" "$TOPO_DIR/b.tsv")
is "$d" "" "final results identical to the uninterrupted scan"
stages() {
	jq -c 'select(.type=="summary") | .stages | with_entries(.value |=
	    {tested, passed, failed}) | with_entries(select(.key != "env"))' "$1"
}
is "$(stages "$TOPO_DIR/b2.jsonl")" "$(stages "$TOPO_DIR/a.jsonl")" \
    "per-stage tested/passed/failed equal too"
is "$(sqlite3 "$TOPO_DIR/b.db" 'select count(*), count(distinct resolver)
    from resolver_results' | tr '|' ' ')" "300 300" \
    "store: every address once after resume"
is "$(sqlite3 "$TOPO_DIR/b.db" 'select count(*), min(status) from runs' |
    tr '|' ' ')" "1 ok" "one run, ended ok"

"$BIN" --db "$TOPO_DIR/b.db" "${args[@]}" --resume >/dev/null \
    2>"$TOPO_DIR/b3.err"
is "$?" 3 "--resume with nothing interrupted exits 3"
like "$(cat "$TOPO_DIR/b3.err")" "no interrupted scan" "and says why"
"$BIN" --db "$TOPO_DIR/b.db" "${args[@]/--seed/--rate}" --resume \
    >/dev/null 2>"$TOPO_DIR/b4.err"
is "$?" 3 "--resume with other arguments finds nothing to resume"
done_testing
