# SPDX-License-Identifier: MIT
# tests/sh/pool-lib.sh — helpers for the resolver-pool tests (sourced, not a
# test): a real `serve`, resolver farms in front of it, the HTTP fixture as
# the origin, and a `connect` with --control. Everything is started through
# tests/lib/topo.sh, so it dies with the test.
. tests/lib/net.sh

BIN=${MDNS_BIN:-$TOPO_BUILD/mdns-doctor}
D=$TOPO_DIR
KEY=5f3c8e1a9b2d47e6c0f18a3b5d7e9c21

wait_line() { # wait_line FILE REGEX [TENTHS]
	local i
	for ((i = 0; i < ${3:-200}; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# pool_serve: SRV (ADDR:PORT)
pool_serve() {
	mkdir -p "$D/srv"
	echo "$KEY" >"$D/srv/encrypt_key.txt"
	cat >"$D/srv/server_config.toml" <<EOC
DOMAIN = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
MAX_PACKETS_PER_BATCH = 10
MDNS_ALLOW_TARGETS = ["127.0.0.0/8"]
EOC
	topo_bg SRV "$BIN" serve --config "$D/srv/server_config.toml" \
	    --listen 127.0.0.1:0 --control "$D/server.sock" || return 1
	wait_line "$D/SRV.out" '^listening' || return 1
	SRV=$(sed -n 's/^listening //p' "$D/SRV.out" | head -1)
}

# pool_origin: ORIGIN (ADDR:PORT) serving /bytes/N and /upload
pool_origin() {
	topo_spawn ORIGIN "$(topo_tool http-fixture)" --port 0 || return 1
	ORIGIN=127.0.0.1:$ORIGIN_PORT
}

# pool_farm NAME SPECFILE [ARGS]: NAME_PORT
pool_farm() {
	local name=$1 spec=$2
	shift 2
	topo_spawn "$name" "$(topo_tool resolver-farm)" --upstream "$SRV" \
	    --spec "$spec" --upstream-timeout-ms 1500 "$@"
}

# pool_client RESOLVERS_FILE [EXTRA TOML]: CLI_PORT, CTL (socket path)
pool_client() {
	local res=$1 extra=${2:-}
	mkdir -p "$D/cli"
	cat >"$D/cli/client_config.toml" <<EOC
DOMAINS = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY = "$KEY"
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 1000
$extra
EOC
	CLI_PORT=$(free_port --tcp 127.0.0.1)
	CTL=$D/engine.sock
	topo_bg CLI "$BIN" connect --config "$D/cli/client_config.toml" \
	    --resolvers "$res" --listen 127.0.0.1:$CLI_PORT --control "$CTL"
	wait_line "$D/CLI.out" '^listening'
}

status_json() { "$BIN" status --control "$CTL" --format json; }

# resolver_field ADDR FIELD: from the client's status
resolver_field() {
	status_json | jq -r --arg a "$1" --arg f "$2" \
	    '.resolvers.list[] | select(.address == $a) | .[$f]'
}

# wait_state ADDR STATE TENTHS
wait_state() {
	local i
	for ((i = 0; i < $3; i++)); do
		[ "$(resolver_field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# direct_sha N: the SHA-256 of /bytes/N fetched directly (no tunnel)
direct_sha() {
	curl -s "http://$ORIGIN/bytes/$1" | sha256sum | cut -d' ' -f1
}

down_sha() { # down_sha N [MAXTIME] -> sha256 of GET /bytes/N via the tunnel
	curl -s --max-time "${2:-60}" --socks5-hostname "127.0.0.1:$CLI_PORT" \
	    "http://$ORIGIN/bytes/$1" | sha256sum | cut -d' ' -f1
}
