#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/demo.sh — the main job on an embedded default, run by `make demo`
# (after deps and the build): start a real tunnel server (`mdns-doctor
# serve` for t.example with a fresh key), a real unbound with a stub zone
# pointing at it, and a resolver farm of 500 simulated resolvers with
# mixed behaviours forwarding to it, all on loopback; then scan the farm
# plus unbound and print the result table: per-stage counts and times,
# then the survivors ranked by MTU and RTT (lines cut at $COLUMNS or 160). Everything started here is
# stopped on exit. Nothing leaves the machine.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export BUILD=${BUILD:-build}
bin=$BUILD/mdns-doctor
if [ ! -x "$BUILD/tools/resolver-farm" ] || [ ! -x "$bin" ]; then
	make --no-print-directory -j2 all tools >/dev/null || exit 1
fi
. tests/lib/net.sh
topo_init || exit 1
zone=t.example
dir=$TOPO_DIR

head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/encrypt_key.txt"
cat >"$dir/server_config.toml" <<EOT
DOMAIN = ["$zone"]
UDP_HOST = "127.0.0.1"
UDP_PORT = 53
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY_FILE = "encrypt_key.txt"
# The farm forwards all 500 simulated resolvers from one address; the
# per-source budgets would read them as one (docs/security.md).
MDNS_SOURCE_ANSWER_BYTES_PER_SECOND = 0
MDNS_SOURCE_INIT_PER_SECOND = 0
EOT
echo "== starting the tunnel server (mdns-doctor serve, $zone, XOR)"
topo_bg SERVE "$bin" serve --config "$dir/server_config.toml" \
    --listen 127.0.0.1:0
for _ in $(seq 200); do
	port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$dir/SERVE.out")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "${port:-}" ] || { echo "serve did not start"; exit 1; }
server=127.0.0.1:$port
echo "   listening on $server"

echo "== starting unbound (stub zone $zone -> $server)"
unbound_start "$dir/unbound" $zone "$server" ||
	echo "   (unbound not available; scanning the farm only)"

echo "== starting a resolver farm: 500 simulated resolvers"
topo_spawn FARM "$BUILD/tools/resolver-farm" --upstream "$server" \
    --seed 42 --base 127.9.0.0 --truth "$dir/truth.jsonl" \
    --gen good=30,dead=300,refused=40,servfail=30,hijack=20,nxhijack=20,wrong-source=10,wrong-id=10,case-scramble=10,qname-cut=10,edns-strip=10,small-udp=10 ||
	exit 1
jq -r --arg p "$FARM_PORT" '.addr + ":" + $p' "$dir/truth.jsonl" \
    >"$dir/resolvers.txt"
[ -n "${UNBOUND:-}" ] && echo "$UNBOUND" >>"$dir/resolvers.txt"
echo "   $(wc -l <"$dir/resolvers.txt") addresses in $dir/resolvers.txt"
echo
echo "== mdns-doctor scan (liveness, reach, exact MTU, handshake)"
"$bin" scan --no-store --domain $zone --key-file "$dir/encrypt_key.txt" \
    --method 1 --up-mtu 38:150 --down-mtu 100:1200 --rate 2000 \
    --timeout-ms 1000 --mtu-timeout-ms 1000 --server "$server" \
    --intercept-probe 127.0.0.254:9 \
    --write-resolvers "$dir/client_resolvers.txt" "$dir/resolvers.txt" |
	cut -c1-${COLUMNS:-160}
rc=${PIPESTATUS[0]}
echo
echo "== client_resolvers.txt written by --write-resolvers (head)"
head -8 "$dir/client_resolvers.txt"
echo
echo "scan exit status $rc (0 = survivors found)"
exit 0
