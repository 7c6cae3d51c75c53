#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-scan-env.sh — issue 11, point 5: the interception check says what
# it really knows. Runs in a private network namespace (unshare -n) with
# only the loopback interface, so the default probe addresses (192.0.2.1,
# 198.51.100.1, 203.0.113.1) have no route and nothing leaves it:
#   * probes that could not be sent ("Network is unreachable") are
#     `unknown` / net_error, "not tested" with the error, never "no
#     interception", and they do not change the exit code;
#   * when a probe address answers (interception seen), the mark goes only
#     on results it can affect: a resolver on UDP/53 at a non-loopback
#     address (dnsmasq on 198.18.0.1:53, an address of this namespace),
#     not the loopback farm resolver on another port; the exit code is 1
#     only when such a resolver is in the list.
cd "$(dirname "$0")/../.." || exit 1
if [ -z "${MDNS_IN_NETNS:-}" ]; then
	if ! unshare -n true 2>/dev/null; then
		. tests/lib/tap.sh
		diag "SKIP: no network namespace here (unshare -n failed)"
		done_testing
		exit
	fi
	MDNS_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
ip link set lo up && ip addr add 198.18.0.1/32 dev lo
ok $? "namespace: lo up, 198.18.0.1 on it, no other route"
topo_init || exit 1

scan_serve 5
ok $? "tunnel server up"
scan_farm FARM --seed 2 --base 127.5.0.0 --gen good=2
ok $? "farm up"
P=$FARM_PORT
good=$(jq -r 'select(.behaviour=="good") | .addr' "$TOPO_DIR/FARM.truth" |
    head -1)
other=$(jq -r 'select(.behaviour=="good") | .addr' "$TOPO_DIR/FARM.truth" |
    tail -1)
k=(--domain $ZONE --key-file "$KEYFILE" --method 5 --no-store
    --timeout-ms 800 --tries 2 --mtu-timeout-ms 800 --up-mtu 38:80
    --down-mtu 100:300 --loss-probes 0)
printf '%s:%s\n' "$good" "$P" >"$TOPO_DIR/lo.txt"

# --- default probe addresses, no route to them: not tested
out=$("$BIN" scan "${k[@]}" --format jsonl "$TOPO_DIR/lo.txt" \
    2>"$TOPO_DIR/err")
rc=$?
is "$(jq -r 'select(.type=="check" and .kind=="intercept") | .verdict + " " +
    .reason' <<<"$out" | sort -u)" "unknown net_error" \
    "unreachable probe addresses: unknown, net_error"
is "$(jq -r 'select(.type=="check" and .kind=="intercept") | .detail' \
    <<<"$out" | sed 's/:53: .*//' | tr '\n' ' ')" \
    "192.0.2.1 198.51.100.1 203.0.113.1 " "the three default probe addresses"
like "$(jq -r 'select(.type=="check") | .detail' <<<"$out" | head -1)" \
    "^192\.0\.2\.1:53: not tested: send failed: Network is unreachable$" \
    "'not tested' with the error"
is "$(grep -c 'no interception' <<<"$out$(cat "$TOPO_DIR/err")")" 0 \
    "never 'no interception'"
like "$(cat "$TOPO_DIR/err")" "env: unknown: 192\.0\.2\.1:53: not tested" \
    "said before the scan"
is "$rc" 0 "not tested does not change the exit code"
out=$("$BIN" scan "${k[@]}" "$TOPO_DIR/lo.txt" 2>/dev/null)
like "$(grep '^intercept' <<<"$out" | head -1)" \
    "^intercept +(- +)?unknown +net_error +192\.0\.2\.1:53: not tested" \
    "text: the check table says so too"

# --- interception seen: only UDP/53 to a non-loopback address is marked
mkdir -p "$TOPO_DIR/dm"
topo_bg DM dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=53 \
    --listen-address=198.18.0.1 --bind-interfaces \
    --server="/$ZONE/127.0.0.1#$SERVE_PORT" --cache-size=0 \
    --pid-file="$TOPO_DIR/dm/pid" --user="$(id -un)" --log-facility=-
dns_wait_ready 198.18.0.1 53 "$DM_PID"
ok $? "dnsmasq answers on 198.18.0.1:53"
printf '198.18.0.1\n%s:%s\n' "$good" "$P" >"$TOPO_DIR/both.txt"
out=$("$BIN" scan "${k[@]}" --intercept-probe "$other:$P" --format jsonl \
    "$TOPO_DIR/both.txt" 2>"$TOPO_DIR/err")
rc=$?
is "$(jq -r 'select(.type=="check" and .kind=="intercept") | .verdict + " " +
    .reason' <<<"$out")" "warn intercepted" "an answering probe: intercepted"
is "$(jq -r 'select(.type=="result") | .address + " " + .verdict' <<<"$out" |
    sort | tr '\n' ' ')" "127.5.0.$(cut -d. -f4 <<<"$good") ok 198.18.0.1 ok " \
    "both resolvers pass"
like "$(jq -r 'select(.type=="result" and .address=="198.18.0.1") |
    .evidence' <<<"$out")" "^path: UDP/53 intercepted; " \
    "UDP/53 to a non-loopback address: marked"
is "$(jq -r 'select(.type=="result" and .address=="'"$good"'") | .evidence' \
    <<<"$out" | grep -c 'intercepted')" 0 \
    "a loopback resolver on another port: not marked"
is "$rc" 1 "exit 1: interception can affect a listed resolver"
"$BIN" scan "${k[@]}" --intercept-probe "$other:$P" --format jsonl \
    "$TOPO_DIR/lo.txt" >/dev/null 2>&1
is "$?" 0 "exit 0 when no listed resolver can be affected"
done_testing
