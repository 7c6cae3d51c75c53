#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-method-security.sh — issue 19 item 1 end to end, on loopback: the
# encryption method is a security finding wherever the doctor knows it.
#
#   * serve and connect without DATA_ENCRYPTION_METHOD run AES-256-GCM
#     (5, source mdns-default in their status) and find each other; a
#     client still set to upstream's default (XOR) does not get through
#     (the peer must match: said in config show's note);
#   * serve and connect with methods 0, 1, 2 log the finding (CRITICAL /
#     WARNING, the reason, docs/security.md) at WARNING level at start and
#     still run (the doctor reports upstream's protocol, never refuses it);
#   * scan reports it on stderr, as a check of the run (kind security,
#     reason weak_method) in text, json and jsonl, and nothing for 5.
# Before issue 19 serve defaulted to XOR and said nothing anywhere.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/sh/scan-lib.sh
. tests/sh/engine-lib.sh
topo_init || exit 1
D=$TOPO_DIR
KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$KEY" >"$D/key.txt"

# server NAME [METHOD]: serve t.example on a free port (METHOD "-": the
# key absent); sets NAME_PORT.
server() {
	local name=$1 m=${2:--} port
	mkdir -p "$D/$name"
	cp "$D/key.txt" "$D/$name/encrypt_key.txt"
	{
		printf 'DOMAIN = ["t.example"]\n'
		printf 'MDNS_ALLOW_TARGETS = ["127.0.0.0/8"]\n'
		[ "$m" = - ] || printf 'DATA_ENCRYPTION_METHOD = %s\n' "$m"
	} >"$D/$name/server_config.toml"
	port=$(free_port --udp 127.0.0.1)
	topo_bg "$name" "$BIN" serve --config "$D/$name/server_config.toml" \
	    --listen 127.0.0.1:"$port" --control "$D/$name.sock"
	printf -v "${name}_PORT" '%s' "$port"
	eng_wait "$D/$name.out" '^listening'
}

# client NAME PORT [METHOD]: connect to the server on PORT, not waiting.
client() {
	local name=$1 m=${3:--}
	mkdir -p "$D/$name"
	{
		printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "%s"\n' "$KEY"
		printf 'MIN_DOWNLOAD_MTU = 200\nMAX_DOWNLOAD_MTU = 1000\n'
		printf 'MTU_TEST_TIMEOUT = 1.0\nMTU_TEST_RETRIES = 1\n'
		[ "$m" = - ] || printf 'DATA_ENCRYPTION_METHOD = %s\n' "$m"
	} >"$D/$name/client_config.toml"
	echo "127.0.0.1:$2" >"$D/$name/resolvers.txt"
	topo_bg "$name" "$BIN" connect --config "$D/$name/client_config.toml" \
	    --resolvers "$D/$name/resolvers.txt" --control "$D/$name.sock" \
	    --listen 127.0.0.1:0
}

method_of() { # SOCKET: DATA_ENCRYPTION_METHOD of the engine's status
	"$BIN" status --control "$1" --format json 2>/dev/null |
	    jq -c '.effective_config.DATA_ENCRYPTION_METHOD'
}

# --- our defaults: AES-256-GCM on both sides ---------------------------
server DEF
ok $? "serve without DATA_ENCRYPTION_METHOD listens"
is "$(method_of "$D/DEF.sock")" '{"value":5,"source":"mdns-default"}' \
    "serve's default method is 5 (AES-256-GCM), marked as our default"
client CDEF "$DEF_PORT"
eng_wait "$D/CDEF.out" '^connected'
ok $? "connect without DATA_ENCRYPTION_METHOD has a session with it"
is "$(method_of "$D/CDEF.sock")" '{"value":5,"source":"mdns-default"}' \
    "connect's default method is 5 too"
"$BIN" status --control "$D/CDEF.sock" --format json >"$D/CDEF.status"
out=$("$(topo_tool json-schema-check)" docs/status.schema.json "$D/CDEF.status")
ok $? "its status (source mdns-default) validates against the schema${out:+: $out}"
is "$(grep -c DATA_ENCRYPTION_METHOD "$D/DEF.err" "$D/CDEF.err" |
    cut -d: -f2 | tr '\n' ' ')" "0 0 " "no finding logged for method 5"
client CXOR "$DEF_PORT" 1
sleep 3
eng_wait "$D/CXOR.out" '^connected' 1
ok $((!$?)) "a client on upstream's default (XOR) gets no session: the peer must match"

# --- weak methods: logged at start, never refused ------------------------
for m in 0 1 2; do
	case $m in
	0) lvl=CRITICAL name=none ;;
	1) lvl=WARNING name=xor ;;
	2) lvl=WARNING name=chacha20 ;;
	esac
	server "S$m" "$m"
	ok $? "serve with method $m still serves"
	like "$(cat "$D/S$m.err")" \
	    "WARN.*server_config.toml:3:26: DATA_ENCRYPTION_METHOD: $lvl: $m \\($name\\): .*\\(docs/security.md#encryption-methods\\)" \
	    "serve, method $m: the finding is logged at start ($lvl)"
	client "C$m" "$(eval echo "\$S${m}_PORT")" "$m"
	eng_wait "$D/C$m.out" '^connected'
	ok $? "connect with method $m still connects"
	like "$(cat "$D/C$m.err")" \
	    "WARN.*client_config.toml:[0-9]+:26: DATA_ENCRYPTION_METHOD: $lvl: $m \\($name\\)" \
	    "connect, method $m: the finding is logged at start ($lvl)"
done

# --- scan: stderr, and a check of the run in every check format ---------
SERVE=127.0.0.1:$S1_PORT
printf '127.7.0.1 good\n' >"$D/f.spec"
scan_farm FARM --spec "$D/f.spec"
ok $? "a resolver in front of the XOR server"
echo "127.7.0.1:$FARM_PORT" >"$D/list.txt"
scan() { # METHOD FORMAT: scan the list up to the MTU stage
	"$BIN" scan --no-store --domain t.example --key-file "$D/key.txt" \
	    ${1:+--method "$1"} --stages mtu --intercept-probe none \
	    --timeout-ms 1500 --mtu-timeout-ms 1500 --format "$2" \
	    "$D/list.txt" 2>"$D/scan.err"
}
out=$(scan 1 jsonl)
is "$(jq -r 'select(.type=="check" and .kind=="security") |
    [.subject, .verdict, .reason] | @tsv' <<<"$out")" \
    "$(printf 'DATA_ENCRYPTION_METHOD\twarn\tweak_method')" \
    "scan --method 1, jsonl: a security check, warn, weak_method"
like "$(jq -r 'select(.kind=="security") | .detail' <<<"$out")" \
    "^WARNING: 1 \\(xor\\): anyone who can send queries recovers the key" \
    "... its detail is the finding"
is "$(jq -r 'select(.type=="result") | .stage + " " + .verdict' <<<"$out")" \
    "mtu ok" "... and the resolver itself still passes"
like "$(cat "$D/scan.err")" "^scan: WARNING: 1 \\(xor\\)" \
    "scan says it on stderr before the results"
out=$(scan 1 json)
is "$(jq -r '.checks[] | select(.kind=="security") | .verdict' <<<"$out")" \
    warn "scan json: the check is in the document"
out=$(scan 1 text)
like "$out" "security +DATA_ENCRYPTION_METHOD +warn +weak_method +WARNING: 1 \\(xor\\)" \
    "scan text: the check row in the summary"
SERVE=127.0.0.1:$S0_PORT
scan_farm FARM0 --spec "$D/f.spec"
echo "127.7.0.1:$FARM0_PORT" >"$D/list.txt"
out=$(scan 0 jsonl)
is "$(jq -r 'select(.kind=="security") | .verdict + " " + .detail[0:26]' <<<"$out")" \
    "fail CRITICAL: 0 (none): no enc" "scan --method 0: the check fails (CRITICAL)"
SERVE=127.0.0.1:$DEF_PORT
scan_farm FARMD --spec "$D/f.spec"
echo "127.7.0.1:$FARMD_PORT" >"$D/list.txt"
out=$(scan "" jsonl)
is "$(jq -r 'select(.type=="result") | .stage + " " + .verdict' <<<"$out")/$(jq -r 'select(.kind=="security") | .verdict' <<<"$out")/$(grep -c DATA_ENCRYPTION "$D/scan.err")" \
    "mtu ok//0" "scan without --method: our default (5) matches serve's, no finding"

done_testing
