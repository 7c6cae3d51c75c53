#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-config-cmd.sh — "config show" and "config check" on the upstream
# sample configs (read from $MDNS_SHARED, copied only into a temporary
# directory when a key must be filled in): every key printed, secrets only
# as fingerprints, resolver counts, JSON output, bad files exit 3 with
# file:line messages, help; the encryption method's security finding
# (exit 1 for XOR and ChaCha20, 2 for none, 0 for AES-GCM and for our
# default when the key is absent).
. "$(dirname "$0")/../lib/tap.sh"
bin=${MDNS_BIN:?}
samples=${MDNS_SHARED:?}/interop/upstream-configs
client=$samples/client_config.toml.simple
server=$samples/server_config.toml.simple

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-config-cmd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Keys as the file writes them, counted here independently of the reader.
keys_of() { grep -E '^[A-Z0-9_]+ *=' "$1" | sed -E 's/ *=.*//'; }

# --- raw client sample: every key shown, invalid because its key is empty
out=$("$bin" config show --config "$client" 2>"$tmp/err"); rc=$?
is "$rc" 3 "client sample without a key: show exits 3"
n=$(keys_of "$client" | wc -l)
ok $([ "$n" -gt 60 ]; echo $?) "client sample has $n keys"
missing=0
for k in $(keys_of "$client"); do
	printf '%s\n' "$out" | grep -q "^$k = " || { missing=$((missing+1)); diag "missing $k"; }
done
is "$missing" 0 "show prints every client key"
is "$(printf '%s\n' "$out" | grep -c '# file line')" "$n" \
    "as many keys marked from the file as the file has"
like "$(cat "$tmp/err")" "client_config.toml.simple:35:18: ENCRYPTION_KEY: is required" \
    "stderr names file:line:col of the empty key"

# --- client with a key filled in, a resolver list next to it
key=$(printf 'mdns-doctor-test-%s' "$$" | sha256sum | cut -c1-32)
sed -E "s/^ENCRYPTION_KEY = .*/ENCRYPTION_KEY = \"$key\"/" "$client" \
    >"$tmp/client_config.toml"
keytext=$(sed -nE 's/^ENCRYPTION_KEY = "(.*)"/\1/p' "$tmp/client_config.toml")
is "$keytext" "$key" "test key is in the copied config"
cp "$samples/client_resolvers.simple" "$tmp/client_resolvers.txt"
printf '192.168.1.0/30\n8.8.8.8:53\n[2001:db8::1]:53\n' >>"$tmp/client_resolvers.txt"
want_fp=sha256:$(printf '%s' "$keytext" | sha256sum | cut -c1-8)

out=$("$bin" config show --config "$tmp/client_config.toml" 2>"$tmp/err"); rc=$?
is "$rc" 0 "client with key: show exits 0"
printf '%s' "$out" | grep -qF -- "$keytext"
ok $([ $? -ne 0 ]; echo $?) "key text never printed (text)"
grep -qF -- "$keytext" "$tmp/err"
ok $([ $? -ne 0 ]; echo $?) "key text never on stderr"
like "$out" "ENCRYPTION_KEY = \\(secret $want_fp\\)" "key shown as its fingerprint"
like "$out" "# encryption key: $want_fp" "fingerprint in the summary"
like "$out" "# resolvers: .*client_resolvers.txt: 4 addresses" \
    "expanded resolver count (8.8.8.8, /30 = 2, one IPv6; duplicate dropped)"
like "$out" "# valid: yes" "summary says valid"

out=$("$bin" --format json config show --config "$tmp/client_config.toml" 2>/dev/null); rc=$?
is "$rc" 0 "json show exits 0"
printf '%s' "$out" | jq -e . >/dev/null
ok $? "json output is one valid JSON document"
is "$(printf '%s' "$out" | jq -r '.keys | keys | length')" "$n" "json lists every key"
is "$(printf '%s' "$out" | jq -r '.keys.ENCRYPTION_KEY.fingerprint')" "$want_fp" \
    "json key fingerprint"
is "$(printf '%s' "$out" | jq -r '.keys.ENCRYPTION_KEY.value')" "null" "json key value withheld"
is "$(printf '%s' "$out" | jq -r '.keys.MAX_DOWNLOAD_MTU.value')" \
    "$(sed -nE 's/^MAX_DOWNLOAD_MTU = ([0-9]+).*/\1/p' "$client")" "json value of MAX_DOWNLOAD_MTU"
is "$(printf '%s' "$out" | jq -r '.resolvers.count')" 4 "json resolver count"
printf '%s' "$out" | grep -qF -- "$keytext"
ok $([ $? -ne 0 ]; echo $?) "key text never printed (json)"

# The sample chooses XOR (DATA_ENCRYPTION_METHOD = 1): valid, with the
# method's finding as a WARNING (exit 1) on stderr.
out=$("$bin" config check --config "$tmp/client_config.toml" 2>"$tmp/err"); rc=$?
is "$rc" 1 "check valid client with the sample's XOR method exits 1 (WARNING)"
like "$out" "client_config.toml: valid client configuration" "... and says it is valid"
line=$(grep -n '^DATA_ENCRYPTION_METHOD' "$client" | cut -d: -f1)
is "$(cat "$tmp/err")" \
    "$tmp/client_config.toml:$line:26: DATA_ENCRYPTION_METHOD: WARNING: 1 (xor): anyone who can send queries recovers the key from the server's clear-text answers, then reads and forges frames (docs/security.md#encryption-methods)" \
    "... with the finding: where, level, method, reason, document"

# --- the method's finding: 0 CRITICAL, 1 and 2 WARNING, 3..5 and our
# default (absent key) OK; config show says it too.
for m in 0 1 2 3 4 5 -; do
	{
		printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "%s"\n' "$key"
		[ "$m" = - ] || printf 'DATA_ENCRYPTION_METHOD = %s\n' "$m"
	} >"$tmp/m.toml"
	"$bin" config check --config "$tmp/m.toml" >/dev/null 2>"$tmp/err"
	got="$? $(head -1 "$tmp/err" | sed -E 's/^.*m\.toml:[0-9:]+ //; s/\): .*/)/')"
	case $m in
	0) want="2 DATA_ENCRYPTION_METHOD: CRITICAL: 0 (none)" ;;
	1) want="1 DATA_ENCRYPTION_METHOD: WARNING: 1 (xor)" ;;
	2) want="1 DATA_ENCRYPTION_METHOD: WARNING: 2 (chacha20)" ;;
	*) want="0 " ;;
	esac
	is "$got" "$want" "check, DATA_ENCRYPTION_METHOD ${m/-/absent}: exit and finding"
done
like "$(cat "$tmp/m.toml"; "$bin" config show --config "$tmp/m.toml" 2>&1)" \
    "DATA_ENCRYPTION_METHOD = 5  # mdns-default, upstream's default is 1 \\(xor\\), which gives the key away \\(docs/security.md#encryption-methods\\); the peer must use 5 too" \
    "absent method: our default 5, said to be ours and why"
printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "%s"\nDATA_ENCRYPTION_METHOD = 0\n' "$key" >"$tmp/m.toml"
out=$("$bin" config show --config "$tmp/m.toml" 2>/dev/null); rc=$?
is "$rc" 0 "show of a valid config with method 0 still exits 0"
like "$out" "# security: .*m.toml:3:26: DATA_ENCRYPTION_METHOD: CRITICAL: 0 \\(none\\): no encryption" \
    "show prints the finding"
out=$("$bin" --format json config show --config "$tmp/m.toml" 2>/dev/null)
is "$(printf '%s' "$out" | jq -r '.findings[0] | [.level, .key, .method, .doc] | @tsv')" \
    "$(printf 'critical\tDATA_ENCRYPTION_METHOD\t0\tdocs/security.md#encryption-methods')" \
    "json findings: level, key, method, document"
printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "%s"\nDATA_ENCRYPTION_METHOD = 7\n' "$key" >"$tmp/m.toml"
err=$("$bin" config check --config "$tmp/m.toml" 2>&1 >/dev/null); rc=$?
is "$rc/$(printf '%s\n' "$err" | wc -l)" "3/1" \
    "an invalid config exits 3 with its one line, no finding added"

# --- defaults applied and marked
printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "%s"\n' "$key" >"$tmp/small.toml"
out=$("$bin" config show --config "$tmp/small.toml" --resolvers "$tmp/client_resolvers.txt" 2>/dev/null); rc=$?
is "$rc" 0 "small client exits 0"
like "$out" 'LISTEN_PORT = 18000  # default' "absent key shown with upstream default"
like "$out" '# keys: 2 from the file, [0-9]+ defaults' "summary counts defaults"

# --- a misspelt secret key (unknown to upstream) is still never printed
printf 'DOMAINS = ["t.example"]\nENCRYPTON_KEY = "%s"\nSOCKS5_PASSWORD = "%s"\n' \
    "$key" "pw-$key" >"$tmp/typo.toml"
out=$("$bin" config show --config "$tmp/typo.toml" 2>&1)
printf '%s' "$out" | grep -qF -- "$key"
ok $([ $? -ne 0 ]; echo $?) "misspelt key's value never printed (text)"
like "$out" "ENCRYPTON_KEY = \\(secret $want_fp\\)" "misspelt key shown as its fingerprint"
out=$("$bin" --format json config show --config "$tmp/typo.toml" 2>&1)
printf '%s' "$out" | grep -qF -- "$key"
ok $([ $? -ne 0 ]; echo $?) "misspelt key's value never printed (json)"

# --- server sample
out=$("$bin" config show --config "$server" 2>"$tmp/err"); rc=$?
is "$rc" 0 "server sample: show exits 0"
n=$(keys_of "$server" | wc -l)
missing=0
for k in $(keys_of "$server"); do
	printf '%s\n' "$out" | grep -q "^$k = " || { missing=$((missing+1)); diag "missing $k"; }
done
is "$missing" 0 "show prints every server key ($n)"
pass=$(sed -nE 's/^SOCKS5_PASS = "(.*)"/\1/p' "$server")
printf '%s' "$out" | grep -qF -- "\"$pass\""
ok $([ $? -ne 0 ]; echo $?) "server SOCKS5_PASS never printed"
like "$(cat "$tmp/err")" "encrypt_key.txt: No such file" "missing key file is reported"

# Server with a key file of the wrong length for its method.
sed -E 's/^DATA_ENCRYPTION_METHOD = .*/DATA_ENCRYPTION_METHOD = 3/' "$server" >"$tmp/server_config.toml"
printf '%s\n' "$key" >"$tmp/encrypt_key.txt"
err=$("$bin" config check --config "$tmp/server_config.toml" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "server key of the wrong length: check exits 3"
like "$err" "server_config.toml:[0-9]+:[0-9]+: ENCRYPTION_KEY_FILE: .*encrypt_key.txt: the key has 32 characters but method 3" \
    "wrong key length message"
printf '%s' "$err" | grep -qF -- "$key"
ok $([ $? -ne 0 ]; echo $?) "server key text never printed"

# --- bad files: exit 3, one line, file:line[:col]
printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "abc\n' >"$tmp/bad1.toml"
err=$("$bin" config check --config "$tmp/bad1.toml" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "unterminated string: exit 3"
is "$err" "$tmp/bad1.toml:2:18: unterminated string" "unterminated string message"

printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "k"\nLISTEN_PORT = "80"\n' >"$tmp/bad2.toml"
err=$("$bin" config check --config "$tmp/bad2.toml" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "wrong type: exit 3"
is "$err" "$tmp/bad2.toml:3:15: LISTEN_PORT: expected integer, got string" "wrong type message"

printf 'DOMAINS = ["t.example"]\nENCRYPTION_KEY = "k"\nDATA_ENCRYPTION_METHOD = 6\n' >"$tmp/bad3.toml"
err=$("$bin" config check --config "$tmp/bad3.toml" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "method out of range: exit 3"
is "$err" "$tmp/bad3.toml:3:26: DATA_ENCRYPTION_METHOD: 6 is outside 0..5" "range message"
is "$(printf '%s\n' "$err" | wc -l)" 1 "check prints one line"

printf '8.8.8.8\nnot-an-ip\n1.1.1.1\n' >"$tmp/bad_resolvers.txt"
err=$("$bin" config check --config "$tmp/client_config.toml" --resolvers "$tmp/bad_resolvers.txt" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "bad resolver line: exit 3"
is "$err" "$tmp/bad_resolvers.txt:2: bad address: not-an-ip" "bad resolver message"

printf '# nothing here\n\n' >"$tmp/empty_resolvers.txt"
err=$("$bin" config check --config "$tmp/client_config.toml" --resolvers "$tmp/empty_resolvers.txt" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "resolver list without resolvers: exit 3"
is "$err" "$tmp/empty_resolvers.txt: no resolvers in the list" "empty list message"

err=$("$bin" config check --config "$tmp/nonexistent.toml" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "missing file: exit 3"
like "$err" "nonexistent.toml: No such file or directory" "missing file message"

# --- profile laid over the client config
printf '{"version":1,"protocol":"masterdns","domain":"p.example","masterdns":{"encryptionLevel":"chacha20","keyFile":"p.key","fecLevel":"balanced"}}\n' >"$tmp/p.json"
pkey=$(printf 'profile-%s' "$$" | sha256sum | cut -c1-32)
printf '%s\n' "$pkey" >"$tmp/p.key"
out=$("$bin" config show --config "$tmp/client_config.toml" --profile "$tmp/p.json" 2>&1); rc=$?
is "$rc" 0 "profile overlay exits 0"
like "$out" 'DOMAINS = \["p.example"\]  # profile' "profile domain shown as from the profile"
like "$out" 'DATA_ENCRYPTION_METHOD = 2  # profile' "profile method"
like "$out" "# fec: balanced \\(group 12, overhead 25%, flush 20 ms, download\\)" "profile FEC"
printf '%s' "$out" | grep -qF -- "$pkey"
ok $([ $? -ne 0 ]; echo $?) "profile key never printed"
printf '{"protocol":"masterdns","domain":"p.example","masterdns":{"fecLevel":"warp"}}' >"$tmp/bad.json"
err=$("$bin" config check --profile "$tmp/bad.json" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "bad profile: exit 3"
is "$err" "$tmp/bad.json: masterdns.fecLevel: unknown level \"warp\" (none, conservative, balanced, aggressive)" \
    "bad profile message"

# --- usage and help
out=$("$bin" config --help); ok $? "config --help exits 0"
like "$out" "usage: mdns-doctor config" "config --help shows usage"
out=$("$bin" help config); ok $? "help config exits 0"
like "$out" "--resolvers FILE" "help lists options"
err=$("$bin" config frobnicate --config "$client" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "unknown subcommand exits 3"
like "$err" "unknown subcommand: frobnicate" "unknown subcommand message"
err=$(env -u XDG_CONFIG_HOME HOME="$tmp" "$bin" config show 2>&1 >/dev/null); rc=$?
is "$rc" 3 "no configuration exits 3"
like "$err" "no configuration" "no configuration message"

done_testing
