#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-fec-levels.sh — the download FEC (docs/fec.md) at each level
# against no FEC, through the fault relay at the same seed: our `serve`
# (FEC_ENABLED, ceilings 16 / 40 %) and our `connect` at download MTU
# 200, 10 % and 30 % loss each way with 2 MiB bodies (small
# enough for the suite; bench-fec runs 10 MiB). Each case gets a fresh
# server, relay (seed 11) and client. For each level: the body intact
# (SHA-256), FEC negotiated at the level's parameters, recovered packets
# > 0, and fewer server retransmissions (status arq.retransmits: RTO +
# RESEND) than the run without FEC at the same loss and seed; the
# server's symbols for groups the client had acknowledged are skipped
# (fec.symbols_skipped > 0 at 10 %). No timing is asserted; a stall of
# a loaded machine inflates retransmissions (RTOs), so a level that does
# not beat the baseline is run again, at most three times in all.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR

ARQ="ARQ_INITIAL_RTO_SECONDS = 0.2
ARQ_MAX_RTO_SECONDS = 1.0
ARQ_DATA_NACK_INITIAL_DELAY_SECONDS = 0.05
ARQ_DATA_NACK_REPEAT_SECONDS = 0.3
ARQ_WINDOW_SIZE = 4000"
jf() { jq -r "$2" "$1" 2>/dev/null; }

eng_origin
ok $? "http fixture on $ORIGIN"

declare -A want=([conservative]=8/15 [balanced]=12/25 [aggressive]=16/40)
declare -A RTX

# run_case LOSS LEVEL MIB: one transfer; sets RTX[LOSS/LEVEL]; the
# client's and server's status end in $D/c-LOSS-LEVEL.json, s-...json.
run_case() {
	local loss=$1 level=$2 mib=$3 tag=$1-$2 n sum
	ENG_SERVE_ARGS=(--control "$D/S$tag.sock")
	eng_serve "S$loss$level" "$ARQ
FEC_ENABLED = true
FEC_MAX_GROUP_SIZE = 16
FEC_MAX_OVERHEAD_PERCENT = 40" || {
		diag "$tag: server did not come up"
		RTX[$loss/$level]=
		return 1
	}
	local srv=S$loss${level}_PID sa=S$loss${level}_ADDR
	topo_spawn "R$loss$level" "$(topo_tool udp-relay)" \
	    --upstream "${!sa}" --seed 11 --loss "$loss%" \
	    --stats "$D/r$tag.json"
	local rl=R$loss${level}_PID rp=R$loss${level}_PORT
	ENG_CONNECT_ARGS=(--control "$D/C$tag.sock")
	eng_connect "C$loss$level" "127.0.0.1:${!rp}" "MTU_TEST_RETRIES = 8
MTU_TEST_TIMEOUT = 0.3
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 200
MDNS_MAX_INFLIGHT = 128
FEC_LEVEL = \"$level\"
$ARQ"
	local rc=$? cli=C$loss${level}_PID cp=C$loss${level}_PROXY
	if [ $rc -ne 0 ]; then
		diag "$tag: relay or client did not come up"
		RTX[$loss/$level]=
		topo_stop "${!cli}"
		topo_stop "${!rl}"
		topo_stop "${!srv}"
		return 1
	fi
	n=$((mib * MiB))
	sum=$(curl -s --max-time 180 --socks5-hostname "${!cp}" \
	    "http://$ORIGIN/bytes/$n?seed=$loss" | sha256sum | cut -d' ' -f1)
	is "$sum" "$(fix_sha $n "$loss")" \
	    "$tag: $mib MiB download, SHA-256 matches"
	"$BIN" status --control "$D/C$tag.sock" --format json \
	    >"$D/c-$tag.json" 2>/dev/null
	"$BIN" status --control "$D/S$tag.sock" --format json \
	    >"$D/s-$tag.json" 2>/dev/null
	RTX[$loss/$level]=$(jf "$D/s-$tag.json" .arq.retransmits)
	topo_stop "${!cli}"
	topo_stop "${!rl}"
	topo_stop "${!srv}"
}

for loss in 10 30; do
	mib=2
	for try in 1 2 3; do
		run_case $loss none $mib && break
	done
	base=${RTX[$loss/none]}
	is "$(jf "$D/c-$loss-none.json" .fec.state)/$(jf "$D/s-$loss-none.json" .fec.symbols_sent)" \
	    off/0 "$loss-none: FEC off, no symbols"
	[ "${base:-0}" -gt 0 ]
	ok $? "$loss-none: the server retransmitted $base frames without FEC"
	for level in conservative balanced aggressive; do
		# A stall of the loaded machine longer than the RTO makes the
		# server retransmit what is in flight, FEC or not: a level
		# that does not beat the baseline gets two more fresh runs.
		for try in 1 2 3; do
			r=
			run_case $loss $level $mib || continue
			r=${RTX[$loss/$level]}
			[ -n "$r" ] && [ "$r" != null ] &&
			    [ "$r" -lt "${base:-0}" ] && break
			diag "$loss-$level: run $try: $r retransmissions, not < $base"
		done
		c=$D/c-$loss-$level.json s=$D/s-$loss-$level.json
		is "$(jf "$c" .fec.state)/$(jf "$c" .fec.group_size)/$(jf "$c" .fec.overhead)" \
		    "on/${want[$level]}" \
		    "$loss-$level: FEC negotiated, group/overhead ${want[$level]}"
		rec=$(jf "$c" .fec.recovered_packets)
		[ "${rec:-0}" -gt 0 ]
		ok $? "$loss-$level: recovered_packets $rec > 0 (decoded groups $(jf "$c" .fec.decoded_groups), symbols $(jf "$c" .fec.symbols_received), malformed $(jf "$c" .fec.malformed))"
		r=${RTX[$loss/$level]}
		[ -n "$r" ] && [ "$r" != null ] && [ "$r" -lt "${base:-0}" ]
		ok $? "$loss-$level: server retransmissions $r < $base without FEC (run $try; symbols sent $(jf "$s" .fec.symbols_sent), skipped $(jf "$s" .fec.symbols_skipped))"
		if [ "$loss" = 10 ]; then
			sk=$(jf "$s" .fec.symbols_skipped)
			[ "${sk:-0}" -gt 0 ]
			ok $? "$loss-$level: symbols of acknowledged groups skipped ($sk)"
		fi
	done
done

done_testing
