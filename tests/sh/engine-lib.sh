# SPDX-License-Identifier: MIT
# tests/sh/engine-lib.sh — helpers for the engine end-to-end tests
# (sourced, not a test): a real `mdns-doctor serve`, real `connect`
# clients, the http fixture as the origin. Everything starts through
# tests/lib/topo.sh, so it dies with the test.
#
#   eng_origin                 http-fixture on loopback; sets ORIGIN
#   eng_serve NAME [TOML]      serve t.example (XOR, loopback allowed);
#                              extra TOML lines replace/extend the config;
#                              sets NAME_PID, NAME_ADDR
#   eng_connect NAME RES [TOML]  connect to resolver RES; sets NAME_PID,
#                              NAME_PROXY (its local listener)
#   eng_connect_bg NAME RES [TOML]  the same, not waiting for "connected"
#   eng_wait FILE REGEX [S]    wait up to S (20) seconds for a line
#   fix_sha N SEED             SHA-256 of the fixture's /bytes/N?seed=SEED
#                              (from its X-Content-SHA256 header, fetched
#                              directly, not through the tunnel)
#
# Optional settings for tests on several hosts (tests/lib/netns.sh):
#   ENG_EXEC=(ns NAME)         prefix for serve/connect (run in NAME)
#   ENG_SERVE_HOST=ADDR        address serve listens on (127.0.0.1)
#   ENG_CONNECT_ARGS=(...)     extra connect arguments (--control PATH)
#   ENG_SERVE_ARGS=(...)       extra serve arguments (--control PATH)
. tests/lib/net.sh

BIN=${MDNS_BIN:-$TOPO_BUILD/mdns-doctor}
[ -n "${ENG_EXEC+x}" ] || ENG_EXEC=()
[ -n "${ENG_CONNECT_ARGS+x}" ] || ENG_CONNECT_ARGS=()
[ -n "${ENG_SERVE_ARGS+x}" ] || ENG_SERVE_ARGS=()
ENG_KEY=5f3c8e1a9b2d47e6c0f18a3b5d7e9c21
MiB=1048576

eng_wait() {
	local i n=$((${3:-20} * 10))
	for ((i = 0; i < n; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

eng_origin() {
	topo_spawn ORIGIN "$(topo_tool http-fixture)" --listen 127.0.0.1 \
	    --port 0 || return 1
	ORIGIN=127.0.0.1:$ORIGIN_PORT
}

# _eng_toml BASEFILE EXTRA OUT: BASEFILE with EXTRA's keys replaced.
_eng_toml() {
	local k
	for k in $(printf '%s\n' "$2" | sed -n 's/^\([A-Z0-9_]*\) *=.*/\1/p'); do
		sed -i "/^$k *=/d" "$1"
	done
	{ cat "$1"; printf '%s\n' "$2"; } >"$3"
}

eng_serve() {
	local name=$1 extra=${2:-} d=$TOPO_DIR/$1 port
	mkdir -p "$d"
	echo "$ENG_KEY" >"$d/encrypt_key.txt"
	cat >"$d/base.toml" <<EOC
DOMAIN = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
MAX_PACKETS_PER_BATCH = 10
MDNS_ALLOW_TARGETS = ["127.0.0.0/8"]
EOC
	_eng_toml "$d/base.toml" "$extra" "$d/server_config.toml"
	local host=${ENG_SERVE_HOST:-127.0.0.1}
	port=$(free_port --udp 127.0.0.1)
	topo_bg "$name" "${ENG_EXEC[@]}" "$BIN" -v serve \
	    --config "$d/server_config.toml" --listen "$host:$port" \
	    "${ENG_SERVE_ARGS[@]}"
	printf -v "${name}_ADDR" '%s' "$host:$port"
	eng_wait "$TOPO_DIR/$name.out" '^listening'
}

# eng_connect_bg NAME RES [TOML]: the same without waiting for "connected".
eng_connect_bg() {
	local name=$1 res=$2 extra=${3:-} d=$TOPO_DIR/$1 port
	mkdir -p "$d"
	cat >"$d/base.toml" <<EOC
DOMAINS = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY = "$ENG_KEY"
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 1000
MTU_TEST_TIMEOUT = 1.0
EOC
	_eng_toml "$d/base.toml" "$extra" "$d/client_config.toml"
	echo "$res" >"$d/resolvers.txt"
	port=$(free_port --tcp 127.0.0.1)
	topo_bg "$name" "${ENG_EXEC[@]}" "$BIN" -v connect \
	    --config "$d/client_config.toml" --resolvers "$d/resolvers.txt" \
	    --listen 127.0.0.1:$port "${ENG_CONNECT_ARGS[@]}"
	printf -v "${name}_PROXY" '%s' "127.0.0.1:$port"
}

eng_connect() {
	eng_connect_bg "$@" || return 1
	eng_wait "$TOPO_DIR/$1.out" '^connected'
}

fix_sha() {
	curl -s --max-time 20 -D - -o /dev/null \
	    "http://$ORIGIN/bytes/$1?seed=$2" |
	    sed -n 's/^[Xx]-[Cc]ontent-[Ss][Hh][Aa]256: *\([0-9a-f]*\).*/\1/p'
}
