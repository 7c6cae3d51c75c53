#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-udp-relay.sh — the fault-injecting relay, measured from the receiving
# side (udp-probe blast counts what comes back through relay and echo
# server) and cross-checked against the relay's own counters: 10 % loss
# over 20,000 packets lands within 10 % +- 1 %; duplication, reordering,
# truncation and delay are seen by the receiver; clients keep their own
# flows; the same seed makes the same decisions.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
probe=$(topo_tool udp-probe)

topo_spawn ECHO "$probe" echo
ok $? "echo server started"

# run_relay TAG COUNT [BLAST OPTS --] RELAY OPTS: one relay, one blast;
# sets B (blast JSON) and S (relay stats JSON).
run_relay() {
	local tag=$1 count=$2 bopts=()
	shift 2
	if [ "$1" = "--blast" ]; then
		shift
		while [ "$1" != "--" ]; do bopts+=("$1"); shift; done
		shift
	fi
	local seed=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	topo_spawn RELAY "$(topo_tool udp-relay)" \
	    --upstream 127.0.0.1:$ECHO_PORT --seed "$seed" \
	    --stats "$TOPO_DIR/$tag.stats" "$@" || return 1
	B=$("$probe" blast --target 127.0.0.1:$RELAY_PORT --count "$count" \
	    --wait-ms 300 "${bopts[@]}")
	topo_stop "$RELAY_PID"
	S=$(tail -1 "$TOPO_DIR/RELAY.out")
	diag "$tag (seed $seed): blast $B"
	diag "$tag: relay $S"
}
j() { jq -r "$2" <<<"$1"; }

# --- loss: 10 % +- 1 % over 20,000 packets, counted at the receiver
run_relay loss 20000 --up-loss 10%
is "$(j "$B" .sent)" 20000 "loss: all 20000 sent"
is "$(j "$S" .up.received)" 20000 "loss: relay received every packet"
uniq=$(j "$B" .unique)
loss_pm=$(( (20000 - uniq) * 10000 / 20000 ))
diag "loss measured at the receiver: $((loss_pm / 100)).$(printf %02d $((loss_pm % 100))) %"
ok "$([ "$loss_pm" -ge 900 ] && [ "$loss_pm" -le 1100 ]; echo $?)" \
    "loss: receiver sees 10 % +- 1 % ($loss_pm / 10000)"
is "$(j "$S" .up.dropped)" $((20000 - uniq)) \
    "loss: relay's drop count matches what never arrived"
is "$(j "$S" .down.dropped)" 0 "loss: only the up direction drops"
is "$(j "$B" .duplicates)/$(j "$B" .out_of_order)/$(j "$B" .truncated)" \
    0/0/0 "loss: nothing else happened"

# --- same seed, same decisions
SEED=4242 run_relay seed1 3000 --loss 20%
d1=$(j "$S" .up.dropped)/$(j "$S" .down.dropped)
SEED=4242 run_relay seed2 3000 --loss 20%
d2=$(j "$S" .up.dropped)/$(j "$S" .down.dropped)
is "$d2" "$d1" "same seed drops the same packets ($d1)"
like "$d1" "^[1-9][0-9]*/[1-9][0-9]*$" "both directions dropped some"

# --- duplication
run_relay dup 5000 --down-dup 5%
dups=$(j "$B" .duplicates)
is "$(j "$B" .unique)" 5000 "dup: every packet arrived"
ok "$([ "$dups" -ge 150 ] && [ "$dups" -le 350 ]; echo $?)" \
    "dup: receiver sees about 5 % duplicates ($dups)"
is "$dups" "$(j "$S" .down.duplicated)" "dup: relay count = receiver count"
is "$(j "$B" .received)" $((5000 + dups)) "dup: received = sent + duplicates"

# --- reordering
run_relay reorder 5000 --up-reorder 5%
ooo=$(j "$B" .out_of_order)
is "$(j "$B" .unique)" 5000 "reorder: nothing lost"
ok "$([ "$ooo" -ge 150 ] && [ "$ooo" -le 350 ]; echo $?)" \
    "reorder: receiver sees about 5 % out of order ($ooo)"
is "$ooo" "$(j "$S" .up.reordered)" "reorder: relay count = receiver count"

# --- truncation, always and by probability
run_relay trunc 1000 --blast --size 100 -- --down-truncate 24
is "$(j "$B" .truncated)" 1000 "truncate: every answer cut"
is "$(j "$S" .down.truncated)" 1000 "truncate: relay counted them"
is "$(j "$S" .down.bytes_out)" 24000 "truncate: cut to 24 bytes"
run_relay trunc50 2000 --blast --size 100 -- --up-truncate 24 \
    --up-truncate-prob 0.5
t=$(j "$B" .truncated)
ok "$([ "$t" -ge 800 ] && [ "$t" -le 1200 ]; echo $?)" \
    "truncate-prob 0.5: about half cut ($t of 2000)"
is "$t" "$(j "$S" .up.truncated)" "truncate-prob: relay count = receiver"

# --- delay and jitter
run_relay delay 200 --blast --wait-ms 600 -- --up-delay 40
is "$(j "$B" .unique)" 200 "delay: everything arrives"
min=$(j "$B" .rtt_min_us)
ok "$([ "$min" -ge 40000 ]; echo $?)" \
    "delay: no round trip shorter than 40 ms (min $min us)"
run_relay jitter 1000 --blast --wait-ms 600 -- --down-jitter 30
is "$(j "$B" .unique)" 1000 "jitter: everything arrives"
ok "$([ "$(j "$B" .out_of_order)" -gt 0 ]; echo $?)" \
    "jitter: random delays reorder packets"
# (a jitter draw of exactly 0 us sends at once: 1 in 30001)
dl=$(j "$S" .down.delayed)
ok "$([ "$dl" -ge 990 ] && [ "$dl" -le 1000 ]; echo $?)" \
    "jitter: relay delayed (nearly) every answer ($dl)"

# --- two clients, each gets only its own answers
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
topo_spawn RELAY "$(topo_tool udp-relay)" --upstream 127.0.0.1:$ECHO_PORT \
    --seed "$seed" --dup 10% --stats "$TOPO_DIR/two.stats"
"$probe" blast --target 127.0.0.1:$RELAY_PORT --count 3000 --id 1 \
    >"$TOPO_DIR/c1" &
p1=$!
"$probe" blast --target 127.0.0.1:$RELAY_PORT --count 3000 --id 2 \
    >"$TOPO_DIR/c2" &
p2=$!
wait $p1 $p2
kill -USR1 "$RELAY_PID"
for ((i = 0; i < 1000; i++)); do
	[ -s "$TOPO_DIR/two.stats" ] && break
	sleep 0.02
done
is "$(jq -r .up.received "$TOPO_DIR/two.stats" 2>&1)" 6000 \
    "SIGUSR1 writes the stats file while running"
topo_stop "$RELAY_PID"
S=$(tail -1 "$TOPO_DIR/RELAY.out")
for c in c1 c2; do
	B=$(cat "$TOPO_DIR/$c")
	is "$(j "$B" .unique)/$(j "$B" .foreign)" 3000/0 \
	    "two clients: $c got all its answers and nobody else's"
done
is "$(j "$S" .flows_total)" 2 "two clients: two upstream flows"

# --- bad options are refused with a reason
err=$("$(topo_tool udp-relay)" --upstream 127.0.0.1:1 --up-loss 1.5 2>&1)
is "$?" 2 "bad probability: exit 2"
like "$err" "up-loss: bad value 1.5" "bad probability: says which option"

done_testing
