#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-serve-says.sh — the server says what it refuses (issue 11 point 9),
# with the real `serve` at its default log level (no -v):
# * a refused SOCKS target is logged with the filter's reason, and a flood
#   of them is rate-limited (at most 5 lines per 10 s, every one counted);
# * unbound's QNAME-minimisation steps (type A names with fewer labels
#   than the frame) count as qname_minimisation, not undecodable;
# * a second serve on a taken port names the address and the config keys
#   (or --listen) and exits 2;
# * SIGTERM and SIGINT both remove the control socket.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
bail() { ok 1 "$*"; topo_cleanup; done_testing; exit 1; }
D=$TOPO_DIR

# serve NAME PORT [CONTROL]: serve at the default log level (no -v), the
# engine-lib key and domain, loopback targets refused (no allow-list).
serve() {
	mkdir -p "$D/$1"
	echo "$ENG_KEY" >"$D/$1/encrypt_key.txt"
	cat >"$D/$1/server_config.toml" <<EOC
DOMAIN = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
UDP_HOST = "127.0.0.1"
UDP_PORT = $2
EOC
	topo_bg "$1" "$BIN" serve --config "$D/$1/server_config.toml" \
	    ${3:+--control "$3"}
}

port=$(free_port --udp 127.0.0.1)
serve SRV "$port" "$D/run/srv.sock"
eng_wait "$D/SRV.out" '^listening' || bail "serve: $(cat "$D/SRV.err")"

# --- a second serve on the same port ---------------------------------------
serve SRV2 "$port"
wait "$SRV2_PID"; rc=$?
is "$rc" 2 "a second serve on a taken port exits 2"
like "$(cat "$D/SRV2.err")" \
    "serve: 127\\.0\\.0\\.1:$port is in use \\(UDP_HOST/UDP_PORT\\)" \
    "  and names the address and the config keys"
"$BIN" serve --config "$D/SRV2/server_config.toml" \
    --listen "127.0.0.1:$port" 2>"$D/SRV3.err" >/dev/null; rc=$?
is "$rc" 2 "with --listen: exit 2"
like "$(cat "$D/SRV3.err")" "127\\.0\\.0\\.1:$port is in use \\(--listen\\)" \
    "  and it names --listen"

# --- refused SOCKS targets at the default log level --------------------------
unbound_start "$D/ub" t.example "127.0.0.1:$port" --cache off ||
    bail "unbound"
ub=127.0.0.1:$UNBOUND_PORT
eng_connect CLI "$ub" || bail "connect: $(tail -3 "$D/CLI.err")"
closed=$(free_port --tcp 127.0.0.1)
curl -s --max-time 10 --socks5-hostname "$CLI_PROXY" \
    "http://127.0.0.1:$closed/" >/dev/null
n=$(grep -c "SOCKS target refused: " "$D/SRV.err")
is "$n" 1 "a refused target is logged without -v"
like "$(cat "$D/SRV.err")" \
    "WARN session [0-9]+ stream [0-9]+: SOCKS target refused: [a-z]" \
    "  with the filter's reason"
like "$(grep "SOCKS target refused" "$D/SRV.err")" "loopback" \
    "  (here: loopback)"
ok $(grep -q "127.0.0.1:$closed" "$D/SRV.err"; echo $((!$?))) \
    "  the target itself is not logged"
for i in $(seq 20); do
	curl -s --max-time 10 --socks5-hostname "$CLI_PROXY" \
	    "http://127.0.0.1:$closed/" >/dev/null
done
n=$(grep -c "SOCKS target refused: " "$D/SRV.err")
is "$n" 5 "21 refusals within 10 s: 5 lines (rate-limited)"
is "$("$BIN" status --control "$D/run/srv.sock" --format json |
    jq .streams.filtered)" 21 "  every refusal counted in the status"

# --- QNAME minimisation through unbound -------------------------------------
curl -s --max-time 10 --socks5-hostname "$CLI_PROXY" \
    "http://127.0.0.1:$closed/" >/dev/null
j=$("$BIN" status --control "$D/run/srv.sock" --format json)
qm=$(jq .drops.qname_minimisation <<<"$j")
ok $([ "$qm" -ge 1 ]; echo $?) \
    "unbound's QNAME-minimisation steps counted as qname_minimisation ($qm)"
is "$(jq .drops.undecodable <<<"$j")" 0 "  and not as undecodable"
like "$("$BIN" metrics --control "$D/run/srv.sock")" \
    'mdns_server_drops_total\{reason="qname_minimisation"\} [1-9]' \
    "  metrics: drops_total{reason=qname_minimisation}"
like "$("$BIN" status --control "$D/run/srv.sock")" \
    "[1-9][0-9]* QNAME-minimisation steps" "  status text shows them"
# A TXT query that is no frame still is undecodable.
dnsq --server "127.0.0.1:$port" --type TXT abcdefghijkl.t.example >/dev/null
is "$("$BIN" status --control "$D/run/srv.sock" --format json |
    jq .drops.undecodable)" 1 "an undecodable TXT name stays undecodable"

# --- the control socket goes on SIGTERM and SIGINT ----------------------------
topo_stop "$CLI_PID"
for sig in TERM INT; do
	p=$(free_port --udp 127.0.0.1)
	serve S$sig "$p" "$D/run/$sig.sock"
	eng_wait "$D/S$sig.out" '^listening' || bail "serve S$sig"
	[ -S "$D/run/$sig.sock" ]; ok $? "SIG$sig: the control socket is there"
	pid=S${sig}_PID
	kill -$sig "${!pid}"
	wait "${!pid}"; rc=$?
	is "$rc" 0 "  serve exits 0 on SIG$sig"
	[ ! -e "$D/run/$sig.sock" ]; ok $? "  and removed its control socket"
done

topo_cleanup
done_testing
