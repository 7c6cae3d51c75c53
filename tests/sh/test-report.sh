#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-report.sh — `mdns-doctor report` from a real history: a network
# namespace whose host has its own address 10.231.0.2 (besides loopback),
# a real `serve`, a resolver farm in front of it, a real `scan` of the farm
# writing client_resolvers.txt, a real `connect` on those resolvers
# (listening on the own address, SOCKS5 with a password, snapshots every
# second) carrying downloads, an `ip` check against an IP-echo fixture that
# plays the public address 203.0.113.77, a `route` check. Then the report
# in HTML, Markdown and JSON in every redaction mode:
#   * the encryption key (text, any case, hex, base64 of the text and of
#     its bytes) and the SOCKS password appear in no output byte, in any
#     mode;
#   * the own addresses (10.231.0.2, 203.0.113.77) appear nowhere by
#     default and with --redact all, and every address is gone with
#     --redact all; with --redact none they are there (so the greps can
#     find them);
#   * the HTML has no script, no external reference, no "://" at all and
#     a Content-Security-Policy that forbids fetching; JSON parses and holds
#     the scan, the checks, the engine timeline and events;
#   * headless Chromium opens it with every request sent to a counting
#     proxy: zero requests, zero attempts seen by DevTools, and the four
#     charts laid out with a non-zero size (screenshot kept in
#     build/test-logs/report-screenshot.png); a doctored copy with an
#     external image is counted (the proxy works) and blocked by the CSP;
#   * an empty or missing history, and configuration text with HTML in it.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

if [ -z "${RPT_INNER:-}" ]; then
	# The host of the test: a namespace with an address of its own.
	. tests/lib/netns.sh
	ns_init || exit 1
	ns_add APP || { echo "not ok 1 - namespace"; echo 1..1; exit 1; }
	ns_addr APP lo 10.231.0.2/32
	ns APP env RPT_INNER=1 XDG_STATE_HOME= bash "$0"
	exit $?
fi

. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/pool-lib.sh
export XDG_STATE_HOME=$D/state
OWN=10.231.0.2
PUBLIC=203.0.113.77
PASS=S0cks-Passw0rd-rpt
DB=$XDG_STATE_HOME/mdns-doctor/history.db
LOGS=$TOPO_BUILD/test-logs
mkdir -p "$LOGS"

# serve as pool_serve starts it, recording snapshots too (the report
# must chart the client's and only count the server's).
mkdir -p "$D/srv"
echo "$KEY" >"$D/srv/encrypt_key.txt"
cat >"$D/srv/server_config.toml" <<EOF
DOMAIN = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
MAX_PACKETS_PER_BATCH = 10
MDNS_ALLOW_TARGETS = ["127.0.0.0/8"]
MDNS_SNAPSHOT_INTERVAL_SECONDS = 1
EOF
topo_bg SRV "$BIN" --db "$DB" serve --config "$D/srv/server_config.toml" \
    --listen 127.0.0.1:0 --control "$D/server.sock"
wait_line "$D/SRV.out" '^listening'
ok $? "serve up"
SRV=$(sed -n 's/^listening //p' "$D/SRV.out" | head -1)
pool_origin
ok $? "HTTP origin on $ORIGIN"
cat >"$D/farm.spec" <<EOF
127.7.1.1 good
127.7.1.2 good
127.7.1.3 slow delay_ms=30-50
127.7.1.4 lossy p=0.15
127.7.1.5 dead
127.7.1.6 refused
127.7.1.7 hijack
EOF
pool_farm FARM "$D/farm.spec"
ok $? "farm on $FARM_PORT"
for i in 1 2 3 4 5 6 7; do echo "127.7.1.$i:$FARM_PORT"; done >"$D/list.txt"
echo "$KEY" >"$D/key.txt"

"$BIN" --db "$DB" scan --domain t.example --key-file "$D/key.txt" \
    --method 1 --timeout-ms 800 --tries 2 --mtu-timeout-ms 1200 \
    --up-mtu 38:150 --down-mtu 100:1000 --server "$SRV" \
    --intercept-probe 127.0.0.254:9 --format jsonl \
    --write-resolvers "$D/client_resolvers.txt" "$D/list.txt" \
    >"$D/scan.jsonl" 2>"$D/scan.err"
ok $? "scan of the farm"
nsurv=$(grep -vc '^#' "$D/client_resolvers.txt")
ok $((nsurv >= 3 ? 0 : 1)) "$nsurv survivors written"

# The client: the survivors and one dead resolver, on the own address,
# SOCKS5 with a password, snapshots every second.
CLI_PORT=$(free_port --tcp $OWN)
mkdir -p "$D/cli"
cat >"$D/cli/client_config.toml" <<EOF
DOMAINS = ["t.example"]
DATA_ENCRYPTION_METHOD = 1
ENCRYPTION_KEY = "$KEY"
MIN_DOWNLOAD_MTU = 200
MAX_DOWNLOAD_MTU = 1000
MTU_TEST_TIMEOUT = 1.0
LISTEN_IP = "$OWN"
LISTEN_PORT = $CLI_PORT
SOCKS5_AUTH = true
SOCKS5_USER = "rpt"
SOCKS5_PASS = "$PASS"
MDNS_NOTE = "<script>alert(1)</script> | *x* [l](http://evil.example/)"
MDNS_SNAPSHOT_INTERVAL_SECONDS = 1
EOF
{ grep -v '^#' "$D/client_resolvers.txt"; echo "127.7.1.5:$FARM_PORT"; } \
    >"$D/cli/client_resolvers.txt"
CTL=$D/engine.sock
topo_bg CLI "$BIN" --db "$DB" connect --config "$D/cli/client_config.toml" \
    --resolvers "$D/cli/client_resolvers.txt" --control "$CTL" \
    --listen "$OWN:$CLI_PORT"
wait_line "$D/CLI.out" '^connected' 300
ok $? "connect: session up"
# Where it listens: the own address (status, config).
SOCKS=$(sed -n 's/^listening //p' "$D/CLI.out" | head -1)
is "${SOCKS%:*}" "$OWN" "the client listens on the own address"
for n in 150000 300000 200000; do
	curl -sS --max-time 60 --socks5-hostname "rpt:$PASS@$SOCKS" \
	    "http://$ORIGIN/bytes/$n" 2>>"$LOGS/report-curl.err" | sha256sum | cut -d' ' -f1 \
	    >>"$D/through.txt"
	sleep 1.5
done
is "$(sort -u "$D/through.txt" | wc -l)" 3 "three downloads through the tunnel"

# The public address as an IP-echo service plays it, and a route check.
topo_spawn ECHO "$(topo_tool http-fixture)" --port 0 --fake-ip $PUBLIC
"$BIN" --db "$DB" --config "$D/cli/client_config.toml" ip -4 \
    --socks "$SOCKS" --service4 "http://127.0.0.1:$ECHO_PORT/ip" \
    --service4 "http://127.0.0.1:$ECHO_PORT/ip.json" --timeout-ms 20000 \
    >"$D/ip.out" 2>&1
like "$(cat "$D/ip.out")" "$PUBLIC" "ip check saw $PUBLIC"
"$BIN" --db "$DB" route --resolvers "$D/cli/client_resolvers.txt" \
    >"$D/route.out" 2>&1
ok $([ -s "$D/route.out" ]; echo $?) "route check stored"
sleep 2
nsnap=$(sqlite3 "$DB" "select count(*) from engine_snapshots s join runs r
    on r.id = s.run_id where r.command = 'connect'")
ok $((nsnap >= 5 ? 0 : 1)) "$nsnap snapshots of the client in the history"

# ---- the reports ---------------------------------------------------------
rep() { # rep NAME ARGS...: report into $D/NAME, status in $D/NAME.rc
	local name=$1
	shift
	"$BIN" --db "$DB" --config "$D/cli/client_config.toml" report \
	    --control "$CTL" "$@" -o "$D/$name" 2>"$D/$name.err"
	echo $? >"$D/$name.rc"
}
for m in own all none; do
	rep $m.html --redact $m
	rep $m.md --redact $m --format md
	rep $m.json --redact $m --format json
done
bad=""
for f in {own,all,none}.{html,md,json}; do
	[ "$(cat "$D/$f.rc")" = 0 ] && [ -s "$D/$f" ] || bad+=" $f"
done
is "$bad" "" "nine reports written (exit 0)"
bad=""
for f in {own,all,none}.{html,md,json}; do
	head -2 "$D/$f" | grep -qE 'mdns-doctor report [0-9T:.Z-]+ id r-[0-9a-f]{12}' ||
	    bad+=" $f"
done
is "$bad" "" "every report starts with the marker line"

# Secrets: every form, every mode, every byte.
forms=("$KEY" "${KEY^^}" "$(printf %s "$KEY" | od -An -tx1 | tr -d ' \n')"
    "$(printf %s "$KEY" | base64 -w0 | tr -d =)"
    "$(python3 -c 'import base64, sys
print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode().rstrip("="))' \
    "$KEY")"
    "$(printf %s "$KEY" | base64 -w0 | tr -d = | tr '+/' '-_')"
    "${KEY:0:12}" "$PASS" "$(printf %s "$PASS" | base64 -w0 | tr -d =)")
bad=""
for f in {own,all,none}.{html,md,json}; do
	for s in "${forms[@]}"; do
		grep -qiF -- "$s" "$D/$f" && bad+=" $f:${s:0:6}"
	done
done
is "$bad" "" "no form of the key or the SOCKS password in any report"
ok $(grep -qF "$KEY" "$D/cli/client_config.toml"; echo $?) \
    "(the config does hold the key the reports leave out)"
like "$(cat "$D/own.md")" 'ENCRYPTION\\_KEY \| \(secret sha256:[0-9a-f]{8}\)' \
    "the key appears as its fingerprint"

# Own addresses.
bad=""
for f in {own,all}.{html,md,json}; do
	for a in "$OWN" "$PUBLIC"; do
		grep -qF -- "$a" "$D/$f" && bad+=" $f:$a"
	done
done
is "$bad" "" "own addresses in no report by default or with --redact all"
ok $(grep -qF "$OWN" "$D/none.json" && grep -qF "$PUBLIC" "$D/none.json"
    echo $?) "--redact none keeps them (the grep finds them there)"
like "$(jq -r '.config.keys[] | select(.key == "LISTEN_IP") | .value' \
    "$D/own.json")" '^"local-1"$' "LISTEN_IP shown as local-1"
like "$(jq -r '.checks[] | select(.kind == "ip") | .evidence' "$D/own.json")" \
    'public-1' "the ip check's direct address shown as public-1"
ok $(grep -qE '127\.7\.1\.[0-9]' "$D/own.json"; echo $?) \
    "default: resolver addresses kept"
bad=$(grep -hoE '(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}([^0-9.]|$)' \
    "$D"/all.{html,md,json} | grep -vE '0\.0\.0\.0' | sort -u | head -5)
is "$bad" "" "--redact all: no IPv4 address left"
like "$(jq -r '.scan.survivors[0].address' "$D/all.json")" '^resolver-[0-9]+$' \
    "--redact all: resolvers named resolver-N"
# The same resolver keeps its name across sections.
a1=$(jq -r '.scan.survivors[0].address' "$D/all.json")
ok $(jq -e --arg a "$a1" '[.engine.resolvers[].address |
    startswith($a + ":")] | any' "$D/all.json" >/dev/null; echo $?) \
    "--redact all: $a1 is the same name in the engine table"

# JSON content.
j=$D/own.json
ok $(jq -e . "$j" >/dev/null; echo $?) "JSON parses"
ok $(jq -e '.scan.stages | map(.stage) | index("handshake") != null' "$j" \
    >/dev/null; echo $?) "JSON: scan stage counts to the handshake"
ok $(jq -e '.scan.survivors_total >= 3 and (.scan.failures | length) >= 2' \
    "$j" >/dev/null; echo $?) "JSON: survivors and failures by reason"
ok $(jq -e '.scan.diagnosis | length > 0' "$j" >/dev/null; echo $?) \
    "JSON: a diagnosis"
ok $(jq -e '[.checks[].kind] | (index("ip") != null) and
    (index("route") != null)' "$j" >/dev/null; echo $?) \
    "JSON: the ip and route checks with evidence"
ok $(jq -e '.engine.live.phase == "connected" and .engine.role == "client"' \
    "$j" >/dev/null; echo $?) "JSON: the live engine, connected"
ok $(jq -e '(.engine.timeline | length) >= 5 and
    ([.engine.timeline[].rate_down_bps | select(. != null and . > 0)] |
    length) >= 1' "$j" >/dev/null; echo $?) \
    "JSON: the timeline has throughput"
ok $(jq -e '[.engine.events[].kind] | index("phase") != null' "$j" \
    >/dev/null; echo $?) "JSON: engine events"
ok $(jq -e '.engine.other_role_snapshots >= 1' "$j" >/dev/null; echo $?) \
    "JSON: the server's snapshots counted, not charted"
ok $(jq -e '.security | length == 2' "$j" >/dev/null; echo $?) \
    "JSON: security notes (downstream in clear, method 1)"

# HTML: nothing to fetch.
h=$D/own.html
ok $(grep -qF "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" \
    "$h"; echo $?) "HTML: CSP default-src 'none'"
ok $(! grep -qF '://' "$D"/{own,all,none}.html; echo $?) \
    "HTML: no \"://\" in any byte"
python3 - "$D"/{own,all,none}.html >"$D/parse.txt" <<'EOF'
import sys
from html.parser import HTMLParser
BAD_TAGS = {"script", "link", "img", "iframe", "object", "embed", "base",
            "form", "audio", "video", "source", "frame", "image", "use"}
BAD_ATTRS = {"src", "srcset", "action", "formaction", "poster", "data",
             "background", "ping", "manifest", "xlink:href", "codebase"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bad = []
        self.style = False
    def handle_starttag(self, tag, attrs):
        if tag in BAD_TAGS:
            self.bad.append("tag " + tag)
        for k, v in attrs:
            if k in BAD_ATTRS or k.startswith("on"):
                self.bad.append("attr %s=%s" % (k, v))
            if k == "href" and not (v or "").startswith("#"):
                self.bad.append("href " + str(v))
            if k == "style" and ("url(" in (v or "") or "@import" in v):
                self.bad.append("style " + v)
            if k == "http-equiv" and (v or "").lower() == "refresh":
                self.bad.append("refresh")
        self.style = tag == "style"
    def handle_data(self, d):
        if self.style and ("url(" in d or "@import" in d):
            self.bad.append("css fetch")
for f in sys.argv[1:]:
    p = P()
    p.feed(open(f, encoding="utf-8").read())
    for b in p.bad:
        print(f, b)
EOF
is "$(cat "$D/parse.txt")" "" \
    "HTML: no script, no fetching tag or attribute, only #fragment links"
ok $(grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$h" && ! grep -q '<script' "$h"
    echo $?) "HTML: configuration text with markup is shown, not obeyed"
ok $(grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; \| \*x\*' "$D/own.md"
    echo $?) "Markdown: the same text escaped"

# Chromium: zero requests, the charts laid out. (The report is kept
# beside the screenshot for people to look at.)
cp "$h" "$LOGS/report.html"
b=$(timeout 120 python3 tests/tools/report-browser.py \
    --screenshot "$LOGS/report-screenshot.png" "$h" 2>"$D/browser.err")
diag "browser: $(echo "$b" | jq -c '{proxy_requests, page_requests, charts,
    error}')"
is "$(echo "$b" | jq -r '.loaded')" true "Chromium loaded the report"
is "$(echo "$b" | jq -r '.proxy_requests')" 0 \
    "zero requests reached the counting proxy"
is "$(echo "$b" | jq -r '.page_requests | length')" 0 \
    "zero fetch attempts seen by DevTools"
for c in chart-funnel chart-rtt chart-loss chart-throughput; do
	ok $(echo "$b" | jq -e --arg c $c '.charts[] | select(.id == $c) |
	    .width > 100 and .height > 20 and .elements > 3' >/dev/null
	    echo $?) "$c rendered with a non-zero size"
done
ok $(head -c 8 "$LOGS/report-screenshot.png" | od -An -tx1 | tr -d ' \n' |
    grep -q '^89504e470d0a1a0a'; echo $?) "screenshot written (PNG)"
# Controls: the proxy counts a page that fetches; the CSP stops one.
sed 's|<meta http-equiv="Content-Security-Policy"[^>]*>||; s|</body>|<img src="http://203.0.113.200/x.png"></body>|' \
    "$h" >"$D/fetch.html"
sed 's|</body>|<img src="http://203.0.113.200/x.png"></body>|' "$h" \
    >"$D/csp.html"
b=$(timeout 120 python3 tests/tools/report-browser.py "$D/fetch.html" \
    2>>"$D/browser.err")
ok $(echo "$b" | jq -e '.proxy_requests >= 1' >/dev/null; echo $?) \
    "control: an external image without the CSP reaches the proxy"
b=$(timeout 120 python3 tests/tools/report-browser.py "$D/csp.html" \
    2>>"$D/browser.err")
ok $(echo "$b" | jq -e '.proxy_requests == 0 and
    (.page_requests | length) >= 1' >/dev/null; echo $?) \
    "control: with the CSP the attempt is seen but nothing is fetched"

# Empty and missing histories.
"$BIN" --db "$D/none.db" report --no-engine --format json >"$D/e.json" \
    2>"$D/e.err"
ok $? "report without a history exits 0"
ok $([ ! -e "$D/none.db" ]; echo $?) "and creates no history file"
ok $(jq -e '.scan == null and (.notes | map(test("no history")) | any)' \
    "$D/e.json" >/dev/null; echo $?) "it says there is no history"
sqlite3 "$D/empty.db" 'create table x(y)' && rm -f "$D/empty.db"
"$BIN" --db "$D/fresh.db" history >/dev/null 2>&1
"$BIN" --db "$D/fresh.db" report --no-engine --format md >"$D/fresh.md" 2>&1
ok $(grep -q 'No scan in the history' "$D/fresh.md"; echo $?) \
    "an empty history: no scan, no checks, said so"
"$BIN" --db "$D/fresh.db" report --no-engine --format markdown \
    >"$D/fresh2.md" 2>&1
ok $(grep -q '^# mdns-doctor support report' "$D/fresh2.md"; echo $?) \
    "--format markdown is md"
"$BIN" report --no-engine --redact most >/dev/null 2>"$D/bad.err"
is "$?" 3 "a bad --redact value: exit 3"
"$BIN" report --no-engine --since 3x >/dev/null 2>"$D/bad.err"
is "$?" 3 "a bad --since value: exit 3"

cp "$D/CLI.err" "$LOGS/report-cli.err" 2>/dev/null
kill -TERM "$CLI_PID" 2>/dev/null
done_testing
