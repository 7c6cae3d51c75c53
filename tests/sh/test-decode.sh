#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-decode.sh — `mdns-doctor decode` over every captured message in
# $MDNS_SHARED/interop: the JSON view (dns fields, frame fields, payload
# decrypted and decompressed) must match the capture's decoded view line by
# line; messages without a frame must carry an error; exit status 1 when
# some message did not decode. Also usage errors (exit 3), text output,
# --key-file and --config, and that the key never reaches the output.
# Captures are the .jsonl files whose first line has a "scenario" key (the
# rule of tests/interop.h); every name in tests/golden/interop-captures.txt
# must be among them. Lines with "app": true (s8: an application's DNS
# query and answer at the client) are not tunnel messages and are left out.
# s9's FEC fork types are decoded by name; the crafted s5 query of the
# fork's 0x38, which the capture's upstream decoder calls an unknown type,
# decodes here as the fork's SESSION_CAPS.
. "$(dirname "$0")/../lib/tap.sh"
bin=${MDNS_BIN:?}
shared=${MDNS_SHARED:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The capture's view in decode's shape. A QR=1 message sent as a query (s5
# qr_bit_set) is a response to decode: no frame. A fork type the capture's
# decoder did not know (basic header) is read from its frame_hex.
expect='def hexbyte($h; $i): $h[2*$i:2*$i+2] | ascii_downcase |
    explode | map(if . >= 97 then . - 87 else . - 48 end) | .[0] * 16 + .[1];
  {id: .decoded.dns.id, qr: .decoded.dns.qr, rcode: .decoded.dns.rcode,
  aa: .decoded.dns.aa, qname: (.decoded.dns.qname | ascii_downcase),
  qtype: .decoded.dns.qtype, answers: .decoded.dns.ancount,
  frame: (.decoded.tunnel as $t |
    if $t != null and $t.ok == true and
       ((.dir == "query") == (.decoded.dns.qr == 0)) then
      {session: $t.session_id, type: $t.packet_type,
       type_name: $t.packet_type_name, stream: $t.stream_id,
       seq: $t.seq, frag: $t.frag_id, total: $t.frag_total,
       comp: $t.comp, cookie: $t.cookie, check_ok: $t.check_ok,
       payload_hex: ($t.payload_inflated_hex // $t.payload_hex)}
    elif $t != null and ($t.error // "" | test("^unknown packet type 0x3[89]$"))
    then
      {session: $t.session_id, type: $t.packet_type,
       type_name: (if $t.packet_type == 56 then "SESSION_CAPS"
                   else "SESSION_CAPS_ACK" end),
       cookie: hexbyte($t.frame_hex; 2), check_ok: true,
       payload_hex: $t.frame_hex[8:]}
    else null end)}'
actual='.dns + {frame: .frame} |
  if .frame then .frame |= with_entries(select(.value != null)) else . end'
# expected frames: drop absent fields the same way
expect_norm='if .frame then .frame |= with_entries(select(.value != null))
  else . end'

total=0
found=()
for f in "$shared"/interop/*.jsonl; do
	name=$(basename "$f")
	hdr=$(head -1 "$f")
	if ! jq -e 'has("scenario")' >/dev/null 2>&1 <<<"$hdr"; then
		diag "$name: no \"scenario\" header, not a capture: left out"
		continue
	fi
	found+=("$name")
	key=$(jq -r .key <<<"$hdr")
	method=$(jq -r .method <<<"$hdr")
	domain=$(jq -r .domain <<<"$hdr")
	tail -n +2 "$f" | jq -c 'select(.app != true)' >"$tmp/lines"
	napp=$(tail -n +2 "$f" | jq -c 'select(.app == true)' | wc -l)
	[ "$napp" -gt 0 ] && diag "$name: $napp \"app\" lines (an" \
	    "application's DNS query and answer, not tunnel messages) left out"
	jq -r .wire "$tmp/lines" >"$tmp/wire"
	jq -c "$expect | $expect_norm" "$tmp/lines" >"$tmp/exp"
	"$bin" decode -d "$domain" -m "$method" -k "$key" --format json \
	    <"$tmp/wire" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	jq -c "$actual" "$tmp/out" >"$tmp/act"
	n=$(wc -l <"$tmp/exp")
	total=$((total + n))
	is "$(wc -l <"$tmp/out")" "$n" "$name: one object per message"
	if cmp -s "$tmp/exp" "$tmp/act"; then ok 0 "$name: $n messages match"
	else
		ok 1 "$name: messages match"
		diff "$tmp/exp" "$tmp/act" | head -6 | sed 's/^/# /'
	fi
	nerr=$(jq -c 'select(has("error"))' "$tmp/out" | wc -l)
	nexp=$(jq -c 'select(.frame == null)' "$tmp/exp" | wc -l)
	is "$nerr" "$nexp" "$name: an error exactly where there is no frame"
	want=0; [ "$nexp" -gt 0 ] && want=1
	is "$rc" "$want" "$name: exit status"
	keys=$(jq -c 'keys' "$tmp/out" | sort -u | tr '\n' ' ')
	like "$keys" '^(\["dns","(error|frame)"\] ?)+$' \
	    "$name: exactly dns + frame or dns + error"
	grep -q -- "$key" "$tmp/out" "$tmp/err"
	is $? 1 "$name: the key is not printed"
done
[ "$total" -ge 3000 ]; ok $? "$total messages checked"
list=${MDNS_TOP:-.}/tests/golden/interop-captures.txt
missing= nwant=0
while read -r want; do
	case $want in '' | '#'*) continue ;; esac
	nwant=$((nwant + 1))
	[[ " ${found[*]} " == *" $want "* ]] || missing="$missing $want"
done < <(cat "$list")
[ "$nwant" -gt 0 ] && [ -z "$missing" ]
ok $? "every expected capture in $list was decoded ($nwant)${missing:+; missing:$missing}"

# Arguments instead of stdin, text output.
s1="$shared/interop/s1-xor-raw.jsonl"
key=$(head -1 "$s1" | jq -r .key)
q=$(sed -n 2p "$s1" | jq -r .wire)
r=$(sed -n 3p "$s1" | jq -r .wire)
out=$("$bin" decode -d t.example -m 1 -k "$key" "$q" "$r"); rc=$?
is "$rc" 0 "two hex arguments decode, exit 0"
like "$out" "type_name=MTU_UP_REQ" "text output names the query frame"
like "$out" "type_name=MTU_UP_RES" "text output names the answer frame"

# Key from a file, and from a server config with ENCRYPTION_KEY_FILE.
printf '%s\n' "$key" >"$tmp/encrypt_key.txt"
a=$("$bin" decode -d t.example -m 1 --key-file "$tmp/encrypt_key.txt" \
    --format json "$q")
b=$("$bin" decode -d t.example -m 1 -k "$key" --format json "$q")
is "$a" "$b" "--key-file gives the same result"
cat >"$tmp/server_config.toml" <<EOT
# test config
DOMAIN = ["other.example", "t.example"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY_FILE = "encrypt_key.txt"
EOT
a=$("$bin" --config "$tmp/server_config.toml" decode --format json "$q")
is "$a" "$b" "--config gives the same result"

# A wrong key: the query does not decode (exit 1, error names the check).
out=$("$bin" decode -d t.example -m 1 -k ffffffffffffffffffffffffffffffff \
    --format json "$q"); rc=$?
is "$rc" 1 "wrong key: exit 1"
like "$out" '"error":"query: [^"]*"' "wrong key: error reason"

# Bad input per message: exit 1 with a reason, other messages still done.
out=$("$bin" decode --format json zz "$r"); rc=$?
is "$rc" 1 "bad hex: exit 1"
like "$out" '"error":"not hex' "bad hex: reason"
like "$out" '"type_name":"MTU_UP_RES"' "the good message still decoded"

# A hostile QNAME (ESC, 0xff, backslash, space) is shown escaped, never raw
# and never dropped: "a<ESC>\xff" "b\\ c" "example".
hq=1234010000010000000000000461'1b'ff'5c'0362'20'63076578616d706c650000100001
out=$("$bin" decode "$hq" 2>&1)
printf '%s' "$out" | grep -q $'\x1b'
ok $([ $? -ne 0 ]; echo $?) "text: no raw control byte from the QNAME"
like "$out" 'qname=a\\027\\255\\092\.b\\032c\.example ' "text: QNAME escaped \\DDD"
out=$("$bin" decode --format json "$hq" 2>&1)
is "$(printf '%s' "$out" | jq -r .dns.qname)" 'a\027\255\092.b\032c.example' \
    "json: QNAME present and escaped"

# Usage errors: exit 3.
"$bin" decode --format csv "$r" >/dev/null 2>&1; is $? 3 "unknown format: 3"
"$bin" decode -m 9 "$r" >/dev/null 2>&1; is $? 3 "bad method: 3"
"$bin" decode -m 1 "$r" >/dev/null 2>&1; is $? 3 "method without key: 3"
"$bin" decode </dev/null >/dev/null 2>&1; is $? 3 "no messages: 3"
"$bin" decode --mode hex "$r" >/dev/null 2>&1; is $? 3 "bad --mode: 3"
out=$("$bin" decode -m 1 --key-file "$tmp/no-such-key" "$r" 2>&1); rc=$?
is "$rc" 3 "missing key file: 3"
like "$out" "no-such-key: No such file or directory" "missing key file: the reason"

# --key is visible to every user in the process list: help says to prefer
# --key-file, and decode wipes the key from its command line once read
# (/proc/PID/cmdline is what ps shows). Decode waits on stdin meanwhile.
like "$("$bin" decode -h)" "in ps: prefer --key-file" \
    "help: --key shows in the process list, prefer --key-file"
mkfifo "$tmp/in"
"$bin" decode -m 1 --key SECRET-KEY-TEXT-42 <"$tmp/in" >/dev/null 2>&1 &
dpid=$!
exec 7>"$tmp/in"
seen=1
for _ in $(seq 100); do
	tr '\0' ' ' <"/proc/$dpid/cmdline" | grep -q SECRET-KEY-TEXT-42 ||
		{ seen=0; break; }
	sleep 0.05
done
ok $seen "the --key text is gone from /proc/PID/cmdline while decode runs"
exec 7>&-
wait $dpid
done_testing
