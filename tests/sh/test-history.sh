#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-history.sh — `history` on real scans: two farm scans of one list
# with behaviours changed in between (one resolver dies, a dead one comes
# back, two get smaller MTUs) -> `history diff` names exactly those four,
# each with the right change; then a scan where every resolver fails ->
# the last-known-good list still holds everything that ever passed, says
# it failed since, and --write-resolvers writes it as client_resolvers.txt
# with MTU recommendations; runs listed in text, json and csv; one
# resolver's timeline; --since; a missing database is refused and not
# created.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
topo_init || exit 1

scan_serve 1
ok $? "tunnel server up"
B=127.4.7
cat >"$TOPO_DIR/a.spec" <<EOF
$B.1-$B.10 good
$B.7 dead
$B.8 refused
EOF
# Between the scans: .2 dies, .7 comes back, .3 and .9 carry less.
cat >"$TOPO_DIR/b.spec" <<EOF
$B.1-$B.10 good
$B.2 dead
$B.3 small-udp n=900
$B.8 refused
$B.9 qname-cut n=90
EOF
scan_farm FARM --spec "$TOPO_DIR/a.spec"
ok $? "farm A up on port $FARM_PORT"
scan_list FARM >"$TOPO_DIR/list.txt"
DB=$TOPO_DIR/h.db
scan() {
	"$BIN" --db "$DB" scan --domain $ZONE --key-file "$KEYFILE" \
	    --method 1 --timeout-ms 500 --tries 2 --mtu-timeout-ms 500 \
	    --up-mtu 38:150 --down-mtu 100:700 --intercept-probe none \
	    --format jsonl "$TOPO_DIR/list.txt" >"$TOPO_DIR/scan$1.jsonl" \
	    2>"$TOPO_DIR/scan$1.err"
}
scan 1
is "$?" 0 "scan 1 exits 0"
is "$(jq -r 'select(.type=="result" and .verdict=="ok") | .address' \
    "$TOPO_DIR/scan1.jsonl" | wc -l)" 8 "scan 1: 8 of 10 passed"

topo_stop "$FARM_PID"
scan_farm FARM --port "$FARM_PORT" --spec "$TOPO_DIR/b.spec"
ok $? "farm B up on the same port"
scan 2
is "$?" 0 "scan 2 exits 0"

# What changed, judged by the results the two scans printed.
mtus() {
	jq -r 'select(.type=="result") | [.address, .verdict,
	    (.upload_mtu // "-"), (.download_mtu // "-")] | @tsv' "$1" | sort
}
diag "scan 1 / scan 2 results (address verdict up down):"
paste <(mtus "$TOPO_DIR/scan1.jsonl") <(mtus "$TOPO_DIR/scan2.jsonl") |
    sed 's/^/#   /'

"$BIN" --db "$DB" history diff >"$TOPO_DIR/diff.txt" 2>"$TOPO_DIR/diff.err"
is "$?" 0 "history diff exits 0"
"$BIN" --db "$DB" history diff --format json >"$TOPO_DIR/diff.json"
changes=$(jq -r '.changes[] | [.resolver, .change] | @tsv' \
    "$TOPO_DIR/diff.json" | sort)
is "$changes" "$(printf '%s\t%s\n' "$B.2:$FARM_PORT" broke \
    "$B.3:$FARM_PORT" mtu_changed "$B.7:$FARM_PORT" became_good \
    "$B.9:$FARM_PORT" mtu_changed | sort)" \
    "diff names exactly the four changed resolvers, each rightly"
is "$(jq -r '.from_run, .to_run' "$TOPO_DIR/diff.json" | tr '\n' ' ')" \
    "1 2 " "diff compares the last scan with the one before it"
d3=$(jq -r --arg r "$B.3:$FARM_PORT" '.changes[] | select(.resolver == $r) |
    "\(.download_before)>\(.download_after)"' "$TOPO_DIR/diff.json")
ok $(echo "$d3" | awk -F'>' '{ exit !($2 < $1 && $2 > 0) }'; echo $?) \
    "small-udp: download MTU went down ($d3)"
u9=$(jq -r --arg r "$B.9:$FARM_PORT" '.changes[] | select(.resolver == $r) |
    "\(.upload_before)>\(.upload_after)"' "$TOPO_DIR/diff.json")
ok $(echo "$u9" | awk -F'>' '{ exit !($2 < $1 && $2 > 0) }'; echo $?) \
    "qname-cut: upload MTU went down ($u9)"
like "$(cat "$TOPO_DIR/diff.err")" \
    "1 became good, 1 broke, 2 MTU changed, 0 added, 0 removed" \
    "the counts on stderr"
like "$(head -1 "$TOPO_DIR/diff.txt")" "^from_run: 1" "text: runs first"
like "$(grep broke "$TOPO_DIR/diff.txt")" "ok +fail timeout" \
    "text: before ok, after fail timeout"
is "$("$BIN" --db "$DB" history diff 1 2 --format csv | head -1)" \
    "change,resolver,domain,before,after,upload_before,upload_after,download_before,download_after,evidence$(printf '\r')" \
    "csv header"
is "$("$BIN" --db "$DB" history diff 1 2 --all --format json |
    jq '.changes | length')" 10 "--all lists every resolver"

# Blackout: every resolver stops answering.
topo_stop "$FARM_PID"
scan 3
is "$?" 2 "scan 3 (nothing answers) exits 2"
"$BIN" --db "$DB" history good --format json \
    --write-resolvers "$TOPO_DIR/client_resolvers.txt" \
    >"$TOPO_DIR/good.json" 2>"$TOPO_DIR/good.err"
is "$?" 0 "history good exits 0"
is "$(jq -r '.good[].resolver' "$TOPO_DIR/good.json" | sort | tr '\n' ' ')" \
    "$(for i in 1 10 2 3 4 5 6 7 9; do echo "$B.$i:$FARM_PORT"; done |
    sort | tr '\n' ' ')" \
    "last-known-good survives the all-fail run: every resolver that ever passed"
is "$(jq -r '[.good[] | select(.since != "fail timeout")] | length' \
    "$TOPO_DIR/good.json")" 0 "each says it failed since (timeout)"
is "$(jq -r --arg r "$B.2:$FARM_PORT" '.good[] | select(.resolver == $r) |
    "\(.ok_run) \(.passed)/\(.tested)"' "$TOPO_DIR/good.json")" "1 1/3" \
    "the one that broke in scan 2: last good in run 1, 1 of 3"
is "$(jq -r --arg r "$B.3:$FARM_PORT" '.good[] | select(.resolver == $r) |
    .download_mtu' "$TOPO_DIR/good.json")" "${d3#*>}" \
    "MTUs are those of the last good result"
first=$(jq -r '.good[0] | "\(.upload_mtu) \(.download_mtu)"' \
    "$TOPO_DIR/good.json")
ok $(jq -r --arg f "$first" '[.good[] | "\(.upload_mtu) \(.download_mtu)"] |
    map(split(" ") | map(tonumber)) | . as $l | ($f | split(" ") |
    map(tonumber)) as $b | all($l[]; .[0] <= $b[0])' "$TOPO_DIR/good.json" |
    grep -qx true; echo $?) "ranked best first (largest upload MTU on top)"
grep -v '^#' "$TOPO_DIR/client_resolvers.txt" | sort >"$TOPO_DIR/cr.txt"
is "$(tr '\n' ' ' <"$TOPO_DIR/cr.txt")" \
    "$(jq -r '.good[].resolver' "$TOPO_DIR/good.json" | sort | tr '\n' ' ')" \
    "--write-resolvers lists them"
like "$(cat "$TOPO_DIR/client_resolvers.txt")" "# MIN_UPLOAD_MTU = [0-9]+" \
    "with MTU recommendations"
like "$(cat "$TOPO_DIR/good.err")" "9 last-known-good resolver\(s\), 9 of them failed since" \
    "stderr sums it up"
"$BIN" --db "$DB" history good >"$TOPO_DIR/good.txt"
like "$(sed -n 1p "$TOPO_DIR/good.txt")" \
    "^RESOLVER +DOMAIN +LAST_OK +OK_RUN +UPLOAD_MTU" "text header"
is "$("$BIN" --db "$DB" history good --since 2099-01-01)" \
    "no resolver has passed (yet)" "--since in the future: nothing"
is "$("$BIN" --db "$DB" history good --since 1h --format csv | wc -l)" 10 \
    "--since 1h: header and nine rows"
"$BIN" --db "$DB" history diff --format json >"$TOPO_DIR/diff3.json"
is "$(jq -r '[.changes[].change] | unique | join(",")' \
    "$TOPO_DIR/diff3.json")" broke "after the blackout: everything broke"

# Runs.
"$BIN" --db "$DB" history --format json >"$TOPO_DIR/runs.json"
is "$?" 0 "history (list) exits 0"
is "$(jq -r '.runs[] | "\(.run) \(.command) \(.status) \(.results) \(.passed)"' \
    "$TOPO_DIR/runs.json" | tr '\n' ';')" \
    "3 scan critical 10 0;2 scan ok 10 8;1 scan ok 10 8;" \
    "three runs, newest first, with counts"
is "$("$BIN" --db "$DB" history list --limit 1 --format csv | wc -l)" 2 \
    "--limit 1: one row"
like "$("$BIN" --db "$DB" history --command connect)" "^no runs$" \
    "--command filters"

# One resolver.
"$BIN" --db "$DB" history resolver "$B.2:$FARM_PORT" --format jsonl \
    >/dev/null 2>&1
is "$?" 3 "resolver: jsonl is not offered"
"$BIN" --db "$DB" history resolver "$B.2" --format json \
    >"$TOPO_DIR/tl.json"
is "$(jq -r '.results[] | .verdict' "$TOPO_DIR/tl.json" | tr '\n' ' ')" \
    "fail fail ok " "timeline of .2: newest first"

# Errors.
out=$("$BIN" --db "$TOPO_DIR/none/h.db" history 2>&1)
is "$?" 3 "a missing database exits 3"
like "$out" "no history at .*/none/h.db" "and says so"
ok $([ ! -e "$TOPO_DIR/none" ]; echo $?) "nothing is created"
like "$("$BIN" --db "$DB" history bogus 2>&1)" "unknown view 'bogus'" \
    "unknown view"
like "$("$BIN" --db "$DB" history good --since yesterday 2>&1)" \
    "--since: cannot read 'yesterday'" "bad --since"
like "$("$BIN" --db "$DB" history diff 99 2>&1)" "no run 99" "unknown run"
like "$("$BIN" --db "$DB" history list --write-resolvers x 2>&1)" \
    "goes with history good" "--write-resolvers only with good"
done_testing
