# SPDX-License-Identifier: MIT
# tests/sh/scan-lib.sh — helpers for the scan tests (sourced, not a test):
# a real tunnel server (`mdns-doctor serve`), a resolver farm in front of
# it, and the farm's ground truth turned into a resolver list. Everything
# is started through tests/lib/topo.sh, so it dies with the test.
#
#   scan_serve [METHOD]     serve t.example with a fresh key; sets
#                           SERVE_PORT, SERVE (127.0.0.1:PORT), KEYFILE
#   scan_farm NAME ARGS...  resolver-farm --upstream $SERVE ARGS; sets
#                           NAME_PORT; truth in $TOPO_DIR/NAME.truth
#   scan_list NAME          the farm's addresses as IP:PORT lines
#   reach_of JSONL          "addr<TAB>reach verdict" per result: ok when
#                           the item got past the reach stage, else reason
. tests/lib/net.sh

BIN=${MDNS_BIN:-$TOPO_BUILD/mdns-doctor}
ZONE=t.example

scan_serve() {
	local method=${1:-1} i
	mkdir -p "$TOPO_DIR/srv"
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' \
	    >"$TOPO_DIR/srv/key.txt"
	KEYFILE=$TOPO_DIR/srv/key.txt
	cat >"$TOPO_DIR/srv/server.toml" <<EOT
DOMAIN = ["$ZONE"]
UDP_HOST = "127.0.0.1"
UDP_PORT = 53
DATA_ENCRYPTION_METHOD = $method
ENCRYPTION_KEY_FILE = "key.txt"
# The farm forwards every simulated resolver from one source address,
# which per-source budgets would read as one resolver (docs/security.md).
MDNS_SOURCE_ANSWER_BYTES_PER_SECOND = 0
MDNS_SOURCE_INIT_PER_SECOND = 0
EOT
	topo_bg SERVE "$BIN" serve --config "$TOPO_DIR/srv/server.toml" \
	    --listen 127.0.0.1:0 || return 1
	for ((i = 0; i < 500; i++)); do
		SERVE_PORT=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' \
		    "$TOPO_DIR/SERVE.out" 2>/dev/null)
		[ -n "$SERVE_PORT" ] && break
		sleep 0.02
	done
	[ -n "$SERVE_PORT" ] || return 1
	SERVE=127.0.0.1:$SERVE_PORT
}

scan_farm() {
	local name=$1
	shift
	topo_spawn "$name" "$(topo_tool resolver-farm)" --upstream "$SERVE" \
	    --truth "$TOPO_DIR/$name.truth" "$@"
}

scan_list() {
	local port=${1}_PORT
	jq -r --arg p "${!port}" '.addr + ":" + $p' "$TOPO_DIR/$1.truth"
}

reach_of() {
	jq -r 'select(.type == "result") | [.address,
	    (if (.stage == "mtu" or .stage == "handshake" or
	        .stage == "burst") or (.stage == "reach" and .verdict == "ok")
	     then "ok" else .reason end)] | @tsv' "$1"
}
