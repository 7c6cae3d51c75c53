#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-config-engine.sh — one configuration model: what `config show
# --format json` reports as effective_config is exactly what a running
# `serve` and `connect` (started here on loopback with the same file)
# report in their status, for
#   * every key of both upstream sample files,
#   * every ranged key below its minimum and above its maximum, with the
#     value upstream's finalize*Config clamps it to (the table below was
#     written from internal/config/client.go and server.go, independently
#     of the C key table),
# and a wrong type or an unparseable value of any key gives the same
# FILE:LINE:COL line and exit 3 from `config check`, `serve` and
# `connect`; so does a value upstream refuses. Before the one model the
# engine ran ARQ_MAX_CONTROL_RETRIES = 4 (upstream: 5) and
# MAX_PACKETS_PER_BATCH = 200 (upstream: 64) as written and refused
# ARQ_WINDOW_SIZE = 0 (upstream: 600), while `config show` said otherwise.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1
BIN=${MDNS_BIN:-$TOPO_BUILD/mdns-doctor}
CHECK=$(topo_tool json-schema-check)
D=$TOPO_DIR
samples=${MDNS_SHARED:?}/interop/upstream-configs
KEY=5f3c8e1a9b2d47e6c0f18a3b5d7e9c21

# set_key FILE KEY VALUE: replace KEY's line, or append it.
set_key() {
	awk -v k="$2" -v v="$3" '
	    $0 ~ "^" k " *=" { print k " = " v; done = 1; next }
	    { print }
	    END { if (!done) print k " = " v }' "$1" >"$1.new" && mv "$1.new" "$1"
}

wait_line() { # wait_line FILE REGEX
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# The sample server made runnable on loopback (only address and port
# change), with a key file next to it.
mkdir -p "$D/srv" "$D/cli"
printf '%s\n' "$KEY" >"$D/srv/encrypt_key.txt"
SRV_PORT=$(free_port --udp 127.0.0.1)
cp "$samples/server_config.toml.simple" "$D/srv/server_config.toml"
set_key "$D/srv/server_config.toml" UDP_HOST '"127.0.0.1"'
set_key "$D/srv/server_config.toml" UDP_PORT "$SRV_PORT"
printf '127.0.0.1:%s\n' "$SRV_PORT" >"$D/resolvers.txt"

cp "$samples/client_config.toml.simple" "$D/cli/client_config.toml"
set_key "$D/cli/client_config.toml" ENCRYPTION_KEY "\"$KEY\""
set_key "$D/cli/client_config.toml" LISTEN_PORT "$(free_port --tcp 127.0.0.1)"

# engine_json ROLE NAME CONFIG: start serve/connect with CONFIG, keep its
# status in NAME.status and its effective_config (sorted) in NAME.eff,
# stop it.
engine_json() {
	local role=$1 name=$2 conf=$3 sock=$D/$2.sock pid
	: >"$D/$name.eff"
	if [ "$role" = server ]; then
		topo_bg "$name" "$BIN" serve --config "$conf" --control "$sock"
	else
		topo_bg "$name" "$BIN" connect --config "$conf" \
		    --resolvers "$D/resolvers.txt" --control "$sock"
	fi
	pid=${name}_PID
	pid=${!pid}
	if ! wait_line "$D/$name.out" '^listening' || ! [ -S "$sock" ]; then
		diag "$name did not start: $(head -3 "$D/$name.err")"
		topo_stop "$pid"
		return 1
	fi
	"$BIN" status --control "$sock" --format json >"$D/$name.status"
	topo_stop "$pid"
	jq -S .effective_config "$D/$name.status" >"$D/$name.eff"
}

# show_json CONFIG [ARGS]: config show's effective_config (sorted).
show_json() {
	local conf=$1
	shift
	"$BIN" --format json config show --config "$conf" "$@" 2>/dev/null |
	    jq -S .effective_config
}

# compare ROLE NAME CONFIG WHAT
compare() {
	local role=$1 name=$2 conf=$3 what=$4 extra=() eng shw
	[ "$role" = client ] && extra=(--resolvers "$D/resolvers.txt")
	shw=$(show_json "$conf" "${extra[@]}")
	engine_json "$role" "$name" "$conf"
	eng=$(cat "$D/$name.eff")
	[ -n "$eng" ] && [ "$eng" != null ] && [ "$eng" = "$shw" ]
	ok $? "$what: config show and the running $role report the same effective_config"
	if [ "$eng" != "$shw" ]; then
		diff <(printf '%s\n' "$shw") <(printf '%s\n' "$eng") | head -10 |
		    sed 's/^/# /'
	fi
}

# valid_xor RC ERRFILE: the file was valid, and the only thing said is
# the finding of the samples' XOR method (config check exits 1 for it).
valid_xor() {
	[ "$1" = 1 ] && [ "$(wc -l <"$2")" = 1 ] &&
	    grep -qE ':[0-9]+:[0-9]+: DATA_ENCRYPTION_METHOD: WARNING: 1 \(xor\): ' "$2"
}

# --- 1. the upstream samples: every key, as the engine runs it ----------
"$BIN" config check --config "$D/srv/server_config.toml" >/dev/null \
    2>"$D/check.err"
valid_xor $? "$D/check.err"
ok $? "server sample (loopback address) is valid (exit 1: its XOR method)"
"$BIN" config check --config "$D/cli/client_config.toml" \
    --resolvers "$D/resolvers.txt" >/dev/null 2>"$D/check.err"
valid_xor $? "$D/check.err"
ok $? "client sample (with a key) is valid (exit 1: its XOR method)"

# The sample server keeps running: the clients below talk to it.
topo_bg SRV "$BIN" serve --config "$D/srv/server_config.toml" \
    --control "$D/SRV.sock"
wait_line "$D/SRV.out" '^listening' && [ -S "$D/SRV.sock" ]
ok $? "sample server listening on 127.0.0.1:$SRV_PORT"
"$BIN" status --control "$D/SRV.sock" --format json >"$D/SRV.status"
shw=$(show_json "$D/srv/server_config.toml")
is "$(jq -S .effective_config "$D/SRV.status")" "$shw" \
    "server sample: config show and the running server report the same effective_config"
n=$(grep -cE '^[A-Z0-9_]+ *=' "$samples/server_config.toml.simple")
is "$(jq --slurpfile s <(grep -oE '^[A-Z0-9_]+' "$samples/server_config.toml.simple" | jq -R . | jq -s .) \
    '[.effective_config | keys[] | select(. as $k | $s[0] | index($k))] | length' "$D/SRV.status")" \
    "$n" "every one of the $n server sample keys is in the server's status"
is "$(jq -r '[.effective_config[] | select(.source != "file" and .source != "default")] | length' "$D/SRV.status")" \
    0 "nothing in the server sample is clamped"
is "$(jq -r '.effective_config.SOCKS5_PASS | [.value, .secret, .fingerprint] | @tsv' "$D/SRV.status")" \
    "$(printf '\ttrue\tsha256:%s' "$(printf '%s' 123456 | sha256sum | cut -c1-8)")" \
    "SOCKS5_PASS only as its fingerprint"
grep -qF '"123456"' "$D/SRV.status"
ok $((!$?)) "the password text is not in the status"

compare client CLI "$D/cli/client_config.toml" "client sample"
n=$(grep -cE '^[A-Z0-9_]+ *=' "$samples/client_config.toml.simple")
is "$(jq --slurpfile s <(grep -oE '^[A-Z0-9_]+' "$samples/client_config.toml.simple" | jq -R . | jq -s .) \
    '[.effective_config | keys[] | select(. as $k | $s[0] | index($k))] | length' "$D/CLI.status")" \
    "$n" "every one of the $n client sample keys is in the client's status"
is "$(jq -r '.effective_config.ENCRYPTION_KEY.fingerprint' "$D/CLI.status")" \
    "sha256:$(printf '%s' "$KEY" | sha256sum | cut -c1-8)" \
    "the client's key only as its fingerprint"
grep -qF "$KEY" "$D/CLI.status"
ok $((!$?)) "the key text is not in the status"
out=$("$CHECK" docs/status.schema.json "$D/CLI.status")
ok $? "client status with effective_config validates against the schema${out:+: $out}"
is "$(jq -r '.effective_config | [.[] | .source] | unique | join(",")' "$D/CLI.status")" \
    "default,file" "client sample: only file and default sources"

# --- 2. ranged keys below the minimum and above the maximum -------------
# ROLE KEY BELOW WANT_BELOW ABOVE WANT_ABOVE ("-": no such bound)
cat >"$D/ranges" <<'EOT'
client LOCAL_DNS_CACHE_MAX_RECORDS 0 10000 - -
client LOCAL_DNS_CACHE_TTL_SECONDS 0 14400 - -
client LOCAL_DNS_PENDING_TIMEOUT_SECONDS -1 300 - -
client LOCAL_DNS_CACHE_FLUSH_INTERVAL_SECONDS 0 60 - -
client COMPRESSION_MIN_SIZE 99 100 - -
client PACKET_DUPLICATION_COUNT 0 2 11 10
client SETUP_PACKET_DUPLICATION_COUNT 0 2 13 12
client STREAM_RESOLVER_FAILOVER_RESEND_THRESHOLD 0 2 257 256
client STREAM_RESOLVER_FAILOVER_COOLDOWN 0.05 0.1 121 120
client AUTO_DISABLE_TIMEOUT_WINDOW_SECONDS 0.5 1 86401 86400
client MAX_PACKETS_PER_BATCH 0 8 200 64
client ARQ_WINDOW_SIZE 0 600 8001 8000
client ARQ_INITIAL_RTO_SECONDS 0.001 0.01 61 60
client ARQ_MAX_RTO_SECONDS 0.001 0.01 121 120
client ARQ_CONTROL_INITIAL_RTO_SECONDS 0.001 0.01 61 60
client ARQ_CONTROL_MAX_RTO_SECONDS 0.001 0.01 121 120
client ARQ_MAX_CONTROL_RETRIES 4 5 5001 5000
client ARQ_INACTIVITY_TIMEOUT_SECONDS 9 10 86401 86400
client ARQ_DATA_PACKET_TTL_SECONDS 9 10 86401 86400
client ARQ_CONTROL_PACKET_TTL_SECONDS 9 10 86401 86400
client ARQ_MAX_DATA_RETRIES 4 5 100001 100000
client ARQ_DATA_NACK_MAX_GAP -1 16 200 128
client ARQ_DATA_NACK_INITIAL_DELAY_SECONDS 0.001 0.01 61 60
client ARQ_DATA_NACK_REPEAT_SECONDS 0.001 0.01 61 60
client ARQ_TERMINAL_DRAIN_TIMEOUT_SECONDS 9 10 3601 3600
client ARQ_TERMINAL_ACK_WAIT_TIMEOUT_SECONDS 4 5 3601 3600
client MTU_TEST_RETRIES 0 1 - -
client MTU_TEST_TIMEOUT 0 2 - -
client MTU_TEST_PARALLELISM 0 1 - -
client RX_TX_WORKERS 0 4 129 128
client TUNNEL_PROCESS_WORKERS 0 4 257 256
client TUNNEL_PACKET_TIMEOUT_SECONDS 0.4 0.5 121 120
client DISPATCHER_IDLE_POLL_INTERVAL_SECONDS 0.0001 0.001 2 1
client PING_AGGRESSIVE_INTERVAL_SECONDS 0.001 0.01 31 30
client PING_LAZY_INTERVAL_SECONDS 0.001 0.01 61 60
client PING_COOLDOWN_INTERVAL_SECONDS 0.001 0.01 301 300
client PING_COLD_INTERVAL_SECONDS 0.001 0.01 3601 3600
client PING_WARM_THRESHOLD_SECONDS 0.01 0.1 601 600
client PING_COOL_THRESHOLD_SECONDS 0.01 0.1 1801 1800
client PING_COLD_THRESHOLD_SECONDS 0.01 0.1 3601 3600
client RX_CHANNEL_SIZE 63 64 65537 65536
client DNS_RESPONSE_FRAGMENT_TIMEOUT_SECONDS 0.5 1 601 600
client SOCKS_UDP_ASSOCIATE_READ_TIMEOUT_SECONDS 0.5 1 3601 3600
client CLIENT_TERMINAL_STREAM_RETENTION_SECONDS 0.5 1 3601 3600
client CLIENT_CANCELLED_SETUP_RETENTION_SECONDS 0.5 1 3601 3600
client SESSION_INIT_RETRY_BASE_SECONDS 0.01 0.1 61 60
client SESSION_INIT_RETRY_STEP_SECONDS -1 1 61 60
client SESSION_INIT_RETRY_LINEAR_AFTER -1 5 1001 1000
client SESSION_INIT_RETRY_MAX_SECONDS 0.01 0.1 3601 3600
client SESSION_INIT_BUSY_RETRY_INTERVAL_SECONDS 0.5 1 3601 3600
client SESSION_INIT_RACING_COUNT 0 3 6 5
server UDP_READERS 0 4 - -
server SOCKET_BUFFER_SIZE 0 8388608 - -
server MAX_CONCURRENT_REQUESTS 0 4096 - -
server DNS_REQUEST_WORKERS -1 8 - -
server DEFERRED_SESSION_WORKERS -1 0 129 128
server DEFERRED_SESSION_QUEUE_LIMIT 0 256 14337 14336
server MAX_PACKET_SIZE 0 65535 - -
server DROP_LOG_INTERVAL_SECONDS 0 2 - -
server INVALID_COOKIE_WINDOW_SECONDS -1 2 - -
server INVALID_COOKIE_ERROR_THRESHOLD 0 10 - -
server SESSION_TIMEOUT_SECONDS 0 300 - -
server SESSION_CLEANUP_INTERVAL_SECONDS 0 30 - -
server CLOSED_SESSION_RETENTION_SECONDS 0 600 - -
server SESSION_INIT_REUSE_TTL_SECONDS 0.5 1 86401 86400
server RECENTLY_CLOSED_STREAM_TTL_SECONDS 0.5 1 86401 86400
server RECENTLY_CLOSED_STREAM_CAP 0 2000 1000001 1000000
server TERMINAL_STREAM_RETENTION_SECONDS 0.5 1 86401 86400
server MAX_PACKETS_PER_BATCH 0 20 - -
server PACKET_BLOCK_CONTROL_DUPLICATION 0 1 5 4
server DNS_UPSTREAM_TIMEOUT 0 4 - -
server DNS_INFLIGHT_WAIT_TIMEOUT_SECONDS 0.05 0.1 121 120
server SOCKS_CONNECT_TIMEOUT 0 120 - -
server DNS_FRAGMENT_ASSEMBLY_TIMEOUT 0 300 - -
server STREAM_SETUP_ACK_TTL_SECONDS 0.5 1 86401 86400
server STREAM_RESULT_PACKET_TTL_SECONDS 0.5 1 86401 86400
server STREAM_FAILURE_PACKET_TTL_SECONDS 0.5 1 86401 86400
server DNS_CACHE_MAX_RECORDS 0 50000 - -
server DNS_CACHE_TTL_SECONDS 0 3600 - -
server MIN_VPN_LABEL_LENGTH 0 3 - -
server DATA_ENCRYPTION_METHOD -1 1 6 1
server SUPPORTED_UPLOAD_COMPRESSION_TYPES [] [0] [1,7] [1]
server SUPPORTED_DOWNLOAD_COMPRESSION_TYPES [9] [0] [3,3,4] [3]
server ARQ_WINDOW_SIZE 0 800 8001 8000
server ARQ_INITIAL_RTO_SECONDS 0.001 0.01 61 60
server ARQ_MAX_RTO_SECONDS 0.001 0.01 121 120
server ARQ_CONTROL_INITIAL_RTO_SECONDS 0.001 0.01 61 60
server ARQ_CONTROL_MAX_RTO_SECONDS 0.001 0.01 121 120
server ARQ_MAX_CONTROL_RETRIES 0 128 5001 5000
server ARQ_INACTIVITY_TIMEOUT_SECONDS 9 10 86401 86400
server ARQ_DATA_PACKET_TTL_SECONDS 9 10 86401 86400
server ARQ_CONTROL_PACKET_TTL_SECONDS 9 10 86401 86400
server ARQ_MAX_DATA_RETRIES 0 128 5001 5000
server ARQ_DATA_NACK_MAX_GAP -1 16 200 128
server ARQ_DATA_NACK_INITIAL_DELAY_SECONDS 0.001 0.01 31 30
server ARQ_DATA_NACK_REPEAT_SECONDS 0 0.8 31 30
server ARQ_TERMINAL_DRAIN_TIMEOUT_SECONDS 9 10 3601 3600
server ARQ_TERMINAL_ACK_WAIT_TIMEOUT_SECONDS 4 5 3601 3600
server MAX_ALLOWED_CLIENT_ACTIVE_SESSION 0 255 256 255
server MAX_ALLOWED_CLIENT_ACTIVE_STREAMS_PER_SESSION 0 2000 65536 65535
server MAX_ALLOWED_CLIENT_PACKET_DUPLICATION_COUNT -1 5 16 15
server MAX_ALLOWED_CLIENT_SETUP_PACKET_DUPLICATION_COUNT -1 6 16 15
server MAX_ALLOWED_CLIENT_UPLOAD_MTU 0 150 256 255
server MAX_ALLOWED_CLIENT_DOWNLOAD_MTU 0 4096 65536 65535
server MAX_ALLOWED_CLIENT_RX_TX_WORKERS 0 255 256 255
server MIN_ALLOWED_CLIENT_PING_AGGRESSIVE_INTERVAL_SECONDS 0.01 0.05 2 1
server MAX_ALLOWED_CLIENT_PACKETS_PER_BATCH 0 20 256 255
server MAX_ALLOWED_CLIENT_ARQ_WINDOW_SIZE 0 8000 8001 8000
server MAX_ALLOWED_CLIENT_ARQ_DATA_NACK_MAX_GAP -1 255 256 255
server MIN_ALLOWED_CLIENT_COMPRESSION_MIN_SIZE 0 120 65536 65535
server MIN_ALLOWED_CLIENT_ARQ_INITIAL_RTO_SECONDS 0.01 0.05 2 1
EOT

# One file per role and side with every ranged key out of range at once
# (bounds taken from other keys see those keys' clamped values).
for role in client server; do
	for side in below above; do
		if [ "$role" = server ]; then
			src=$D/srv/server_config.toml
			f=$D/srv/$side.toml
		else
			src=$D/cli/client_config.toml
			f=$D/cli/$side.toml
		fi
		cp "$src" "$f"
		[ "$role" = server ] &&
		    set_key "$f" UDP_PORT "$(free_port --udp 127.0.0.1)"
		[ "$role" = client ] &&
		    set_key "$f" LISTEN_PORT "$(free_port --tcp 127.0.0.1)"
		while read -r r k b wb a wa; do
			[ "$r" = "$role" ] || continue
			if [ "$side" = below ]; then v=$b; else v=$a; fi
			[ "$v" = - ] || set_key "$f" "$k" "$v"
		done <"$D/ranges"
		"$BIN" config check --config "$f" --resolvers "$D/resolvers.txt" \
		    >/dev/null 2>"$D/check.err"
		valid_xor $? "$D/check.err"
		ok $? "$role, every ranged key $side its range: still valid (clamped, as upstream; exit 1 for the XOR method)$(head -1 "$D/check.err" | grep -v DATA_ENCRYPTION_METHOD | sed 's/^/: /')"
		compare "$role" "${role}_$side" "$f" "$role, every ranged key $side its range"
		while read -r r k b wb a wa; do
			[ "$r" = "$role" ] || continue
			if [ "$side" = below ]; then v=$b w=$wb; else v=$a w=$wa; fi
			[ "$v" = - ] && continue
			got=$(jq -c --arg k "$k" '.effective_config[$k] | [.value, .source]' \
			    "$D/${role}_$side.status" 2>/dev/null)
			is "$got" "$(jq -cn --argjson w "$w" '[$w, "clamped"]')" \
			    "$role $k = $v runs as $w (clamped)"
		done <"$D/ranges"
	done
done

# --- 3. refused values, wrong types, unparseable values -----------------
# run_all ROLE FILE: "rc|stderr" of config check and of the engine; equal
# when the engine refuses the file the way check does.
run_check() {
	"$BIN" config check --config "$2" --resolvers "$D/resolvers.txt" \
	    2>&1 >/dev/null
	echo "rc=$?"
}
run_engine() {
	if [ "$1" = server ]; then
		timeout 10 "$BIN" serve --config "$2" --control "$D/x.sock" \
		    2>&1 >/dev/null
	else
		timeout 10 "$BIN" connect --config "$2" \
		    --resolvers "$D/resolvers.txt" --control "$D/x.sock" \
		    2>&1 >/dev/null
	fi
	echo "rc=$?"
}
# same_refusal ROLE FILE WHAT [REGEX]
same_refusal() {
	local c e
	c=$(run_check "$1" "$2")
	e=$(run_engine "$1" "$2")
	if [ "$c" = "$e" ] && [ "${c##*rc=}" = 3 ] &&
	    printf '%s' "$c" | grep -qE -- "^$2:[0-9]+:[0-9]+: ${4:-}"; then
		return 0
	fi
	diag "$3: check: $(printf '%s' "$c" | tr '\n' ' ')"
	diag "$3: $1: $(printf '%s' "$e" | tr '\n' ' ')"
	return 1
}

# Values upstream refuses to start with.
cat >"$D/refused" <<'EOT'
client DATA_ENCRYPTION_METHOD -1 6 0..5
client LISTEN_PORT -1 65536 0..65535
client LOCAL_DNS_PORT -1 65536 0..65535
client UPLOAD_COMPRESSION_TYPE -1 4 0..3
client DOWNLOAD_COMPRESSION_TYPE -1 4 0..3
client RESOLVER_BALANCING_STRATEGY -1 9 0..8
client MDNS_MAX_INFLIGHT 0 1025 1..1024
client MDNS_READY_MIN -1 1000001 0..1000000
client MDNS_READY_WAIT_SECONDS -1 3601 0..3600
client MDNS_START_PARALLELISM 0 4097 1..4096
server UDP_PORT 0 65536 1..65535
server FORWARD_PORT -1 65536 0..65535
EOT
while read -r role k lo hi range; do
	if [ "$role" = server ]; then src=$D/srv/server_config.toml; else
		src=$D/cli/client_config.toml; fi
	for v in "$lo" "$hi"; do
		f=${src%/*}/refused.toml
		cp "$src" "$f"
		set_key "$f" "$k" "$v"
		same_refusal "$role" "$f" "$k = $v" \
		    "$k: $v is outside $range"
		ok $? "$role $k = $v: check and $role refuse it alike (outside $range, exit 3)"
	done
done <"$D/refused"
for k in MIN_UPLOAD_MTU MIN_DOWNLOAD_MTU MAX_UPLOAD_MTU MAX_DOWNLOAD_MTU; do
	f=$D/cli/refused.toml
	cp "$D/cli/client_config.toml" "$f"
	set_key "$f" "$k" -1
	same_refusal client "$f" "$k = -1" "$k: cannot be negative"
	ok $? "client $k = -1: check and connect refuse it alike"
done

# Our keys for `ip`: URLs and IP literals, refused alike by check and
# connect (MDNS_EXPECTED_EXIT_IP also takes a lone string).
for kv in 'MDNS_IP_ECHO_V4 = ["ftp://10.0.0.1/ip"]|not an http:// or https:// URL' \
    'MDNS_IP_ECHO_V4 = ["http://[2001:db8::1]/ip"]|an IPv6 address in a list of IPv4 services' \
    'MDNS_IP_ECHO_V6 = ["http://10.0.0.1/ip"]|an IPv4 address in a list of IPv6 services' \
    'MDNS_IP_ECHO_V6 = ["https://echo.example/a b"]|a blank or control character' \
    'MDNS_EXPECTED_EXIT_IP = "10.0.0.300"|"10.0.0.300": not an IP address' \
    'MDNS_EXPECTED_EXIT_IP = ["192.0.2.1", "exit.example"]|"exit.example": not an IP address' \
    'MDNS_EXPECTED_EXIT_IP = 5|expected array, got integer'; do
	k=${kv%% =*} v=${kv#*= } v=${v%%|*} why=${kv#*|}
	f=$D/cli/refused.toml
	cp "$D/cli/client_config.toml" "$f"
	set_key "$f" "$k" "$v"
	same_refusal client "$f" "$k = $v" "$k: .*$(printf '%s' "$why" | sed 's/[][\/.*]/\\&/g')"
	ok $? "client $k = $v: check and connect refuse it alike ($why)"
done
f=$D/cli/ours.toml
cp "$D/cli/client_config.toml" "$f"
set_key "$f" MDNS_EXPECTED_EXIT_IP '"192.0.2.7"'
set_key "$f" MDNS_IP_ECHO_V4 '["http://192.0.2.1:8080/ip", "https://echo.example/"]'
"$BIN" config check --config "$f" --resolvers "$D/resolvers.txt" >/dev/null \
    2>"$D/check.err"
valid_xor $? "$D/check.err"
ok $? "our ip keys with good values: valid"
is "$(show_json "$f" --resolvers "$D/resolvers.txt" | jq -c '[.MDNS_EXPECTED_EXIT_IP, .MDNS_IP_ECHO_V4.value, .MDNS_IP_ECHO_V6]')" \
    '[{"source":"file","value":["192.0.2.7"]},["http://192.0.2.1:8080/ip","https://echo.example/"],{"source":"default","value":[]}]' \
    "... in effective_config: a lone string as a one-item list, the default empty"

# A wrong type for every key of both samples and our own keys: strings
# get an integer, everything else a string (and integers a float too).
for role in client server; do
	if [ "$role" = server ]; then
		src=$D/srv/server_config.toml
		ours='MDNS_ALLOW_TARGETS = []'
	else
		src=$D/cli/client_config.toml
		ours='MDNS_MAX_INFLIGHT = 32
MDNS_READY_MIN = 3
MDNS_READY_WAIT_SECONDS = 6.0
MDNS_START_PARALLELISM = 256
MDNS_IP_ECHO_V4 = []
MDNS_IP_ECHO_V6 = []'
	fi
	{ cat "$src"; printf '%s\n' "$ours"; } >"${src%/*}/all.toml"
	total=0 same=0
	while IFS= read -r line; do
		k=${line%% =*}
		v=${line#*= }
		case $v in
		\"*) wrong=(7) ;;
		[0-9-]*.*) wrong=('"1.0"') ;;
		[0-9-]*) wrong=('"10"' 2.5) ;;
		*) wrong=('"x"') ;;
		esac
		for w in "${wrong[@]}"; do
			f=${src%/*}/wrong.toml
			cp "${src%/*}/all.toml" "$f"
			set_key "$f" "$k" "$w"
			total=$((total + 1))
			same_refusal "$role" "$f" "$k = $w" "$k: expected " &&
			    same=$((same + 1))
		done
	done < <(grep -E '^[A-Z0-9_]+ *=' "${src%/*}/all.toml")
	is "$same" "$total" "$role: a wrong type for any key ($total cases): the same FILE:LINE:COL line and exit 3 from check and $role"
done

# Values the TOML reader cannot take.
i=0
for bad in 'ARQ_WINDOW_SIZE = 12abc' 'ARQ_INITIAL_RTO_SECONDS = nan' \
    'ARQ_MAX_RTO_SECONDS = inf' 'PROTOCOL_TYPE = "SOCKS5' \
    'LOG_LEVEL = INFO' 'ARQ_WINDOW_SIZE = 99999999999999999999'; do
	for role in client server; do
		if [ "$role" = server ]; then src=$D/srv/server_config.toml; else
			src=$D/cli/client_config.toml; fi
		f=${src%/*}/unparseable.toml
		cp "$src" "$f"
		set_key "$f" "${bad%% =*}" "${bad#*= }"
		same_refusal "$role" "$f" "$bad"
		ok $? "$role, $bad: check and $role refuse it alike (exit 3)"
		i=$((i + 1))
	done
done

done_testing
