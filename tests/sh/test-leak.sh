#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-leak.sh — `mdns-doctor leak` end to end on three hosts made of
# network namespaces (nothing leaves them):
#
#   app 10.78.2.2 --- isp 10.78.2.1 | 10.78.1.1 --- exit 10.78.1.2 (serve)
#                     unbound :53 (the            10.78.1.3 (unbound, the
#                     system resolver)            server's DNS upstream)
#
# `serve` in "exit" carries the tunnel and hosts the leak zone leak.test
# (--leak-zone); both resolvers reach it through a stub zone, each from its
# own address. `connect` in "app" has a DNS listener (LOCAL_DNS_*); app's
# /etc/resolv.conf names the ISP's resolver. So names resolved the system
# way reach the zone from 10.78.1.1 (the ISP), names through the tunnel
# from 10.78.1.3 (the exit's resolver). Verdicts: system DNS through the
# ISP while the tunnel is up -> CRITICAL leak naming 10.78.1.1; the system
# path through the tunnel's listener -> OK; no tunnel path -> UNKNOWN
# no_baseline; a zone that answers nonsense, a silent resolver -> UNKNOWN
# with the reason; the store.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/netns.sh
. tests/sh/engine-lib.sh

ns_init
for n in isp exit app; do
	ns_add $n
done
ns_link isp ie0 10.78.1.1/24 exit ei0 10.78.1.2/24
ns_link isp ia0 10.78.2.1/24 app ai0 10.78.2.2/24
ns_addr exit ei0 10.78.1.3/24
ns_forward isp
ns_route exit default via 10.78.1.1
ns_route app default via 10.78.2.1
ns_etc app resolv.conf "nameserver 10.78.2.1"
ns_etc app hosts '127.0.0.1 localhost'
ns_etc exit hosts '127.0.0.1 localhost'
EXIT=$(ns_name exit)
APP=$(ns_name app)

# serve first: the resolvers' stub zone needs its port.
ENG_EXEC=(ip netns exec "$EXIT")
ENG_SERVE_HOST=10.78.1.2
ENG_SERVE_ARGS=(--leak-zone leak.test. --control "$TOPO_DIR/srv.sock")
eng_serve SRV 'DNS_UPSTREAM_SERVERS = ["10.78.1.3:53"]'
ok $? "serve with the leak zone in the exit namespace ($SRV_ADDR)"
SRVPORT=${SRV_ADDR##*:}
# resolver NAME NS LISTEN PORT OUT [LOCAL-DATA...]: unbound in NS on
# LISTEN:PORT sending from OUT; leak.test is a stub zone at serve; with
# local data, bad.test answers from it (a zone that answers nonsense).
resolver() {
	local name=$1 nsn=$2 listen=$3 port=$4 out=$5 d=$TOPO_DIR/$1 i
	shift 5
	mkdir -p "$d"
	{
		echo "server:"
		echo "  interface: $listen@$port"
		echo "  port: $port"
		echo "  do-daemonize: no"
		echo "  username: \"\""
		echo "  chroot: \"\""
		echo "  directory: \"$d\""
		echo "  pidfile: \"$d/unbound.pid\""
		echo "  use-syslog: no"
		echo "  logfile: \"\""
		echo "  verbosity: 1"
		echo "  do-ip6: no"
		echo "  num-threads: 1"
		echo "  outgoing-interface: $out"
		echo "  access-control: 10.78.0.0/16 allow"
		echo "  access-control: 127.0.0.0/8 allow"
		echo "  module-config: \"iterator\""
		echo "  qname-minimisation: yes"
		echo "  local-zone: \".\" refuse"
		echo "  local-zone: \"leak.test.\" transparent"
		if [ $# -gt 0 ]; then
			echo "  local-zone: \"bad.test.\" redirect"
			for i in "$@"; do
				echo "  local-data: '$i'"
			done
		fi
		echo "stub-zone:"
		echo "  name: \"leak.test.\""
		echo "  stub-addr: 10.78.1.2@$SRVPORT"
	} >"$d/unbound.conf"
	topo_bg "$name" $(ns_exec "$nsn") unbound -d -c "$d/unbound.conf" ||
	    return 1
	for ((i = 0; i < 50; i++)); do
		ns "$nsn" "$TOPO_BUILD/tools/dnsq" --server "$listen:$port" \
		    --class CH --type TXT --timeout 200 version.bind \
		    >/dev/null 2>&1 && return 0
	done
	return 1
}
resolver ISP isp 10.78.2.1 53 10.78.1.1 \
    'bad.test. 0 IN TXT "hello"' 'bad.test. 0 IN A 192.0.2.1' \
    'bad.test. 0 IN CAA 0 leak1 "garbage"'
ok $? "the ISP's resolver (unbound) in isp on 10.78.2.1:53"
resolver EXITRES exit 10.78.1.3 53 10.78.1.3
ok $? "the exit's resolver (unbound) on 10.78.1.3:53"

# The tunnel: connect in app with a DNS listener. The tunnel's own DNS
# goes app -> isp -> exit directly (the resolver is the server).
ENG_EXEC=(ip netns exec "$APP")
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/app.sock")
eng_connect CL "$SRV_ADDR" 'LOCAL_DNS_ENABLED = true
LOCAL_DNS_IP = "127.0.0.1"
LOCAL_DNS_PORT = 5353'
ok $? "connect in app with a DNS listener"

ns app "$TOPO_BUILD/tools/dnsq" --server 10.78.2.1:53 --type TXT \
    --timeout 3000 whoami.leak.test | grep -q '"10.78.1.1"'
ok $? "whoami through the ISP: the zone sees 10.78.1.1"
ns app "$TOPO_BUILD/tools/dnsq" --server 127.0.0.1:5353 --type A \
    --timeout 8000 whoami.leak.test | grep -q 'A 10.78.1.3'
ok $? "whoami through the tunnel's listener: the zone sees 10.78.1.3"

# The local signal: SOCKS requests with a host name vs an IP literal.
ns app curl -s --max-time 5 --socks5 "$CL_PROXY" http://10.78.1.2:9/ \
    >/dev/null 2>&1
ns app curl -s --max-time 5 --socks5 "$CL_PROXY" http://10.78.1.2:9/ \
    >/dev/null 2>&1
ns app curl -s --max-time 5 --socks5-hostname "$CL_PROXY" \
    http://nowhere.test:9/ >/dev/null 2>&1
is "$(ns app "$BIN" status --control "$TOPO_DIR/app.sock" --format json |
    jq -c '.socks.requests')" '{"hostname":1,"ip_literal":2,"ipv4":2,"ipv6":0}' \
    "SOCKS requests counted: 1 with a host name, 2 with an IP literal"
ns app "$BIN" metrics --control "$TOPO_DIR/app.sock" |
    grep -q '^mdns_client_socks_requests_total{target="ipv4"} 2$'
ok $? "... and in the metrics"
# ... and per client address: a second client on 127.0.0.2 with an IPv4
# literal and a host name; the most recent first, the port not kept.
ns app curl -s --max-time 5 --interface 127.0.0.2 --socks5 "$CL_PROXY" \
    http://10.78.1.2:9/ >/dev/null 2>&1
ns app curl -s --max-time 5 --interface 127.0.0.2 --socks5-hostname \
    "$CL_PROXY" http://nowhere.test:9/ >/dev/null 2>&1
is "$(ns app "$BIN" status --control "$TOPO_DIR/app.sock" --format json |
    jq -c '[.socks.clients[] | [.address, .hostname, .ip_literal, .ipv4,
    .ipv6, (.last_seen_unix_ms >= .first_seen_unix_ms)]],
    .socks.clients_max, .socks.clients_evicted, .socks.requests.hostname')" \
    '[["127.0.0.2",1,1,1,0,true],["127.0.0.1",1,2,2,0,true]]
64
0
2' "SOCKS requests per client address, the most recent first (bounded: 64)"
ns app "$BIN" metrics --control "$TOPO_DIR/app.sock" |
    grep -q '^mdns_client_socks_clients 2$'
ok $? "... the metrics count the client addresses"

# scan --whoami: each resolver's egress as the zone's whoami saw it. The
# list: the ISP's resolver, the exit's (reached across isp) and a silent
# address; only liveness (the root is refused: any RCODE is alive).
printf '10.78.2.1\n10.78.1.3\n10.78.2.9\n' >"$TOPO_DIR/res.txt"
wscan() { # wscan ARGS...: scan the list in app, output into $OUT
	OUT=$(ns app "$BIN" -q scan --no-store --domain t.example \
	    --stages liveness --intercept-probe none --loss-probes 0 \
	    --timeout-ms 1500 --tries 1 --all "$@" "$TOPO_DIR/res.txt" \
	    2>"$TOPO_DIR/scan.err")
	RC=$?
}
w() { # ADDRESS KEY: the result's whoami.KEY
	printf '%s\n' "$OUT" | jq -r --arg a "$1" \
	    "select(.type == \"result\" and .address == \$a) | .whoami.$2"
}
wscan --format jsonl --whoami-name whoami.leak.test
is "$RC" 0 "scan --whoami-name whoami.leak.test: exit 0 (two alive)"
is "$(w 10.78.2.1 address)/$(w 10.78.2.1 name)" 10.78.1.1/whoami.leak.test \
    "the ISP's resolver 10.78.2.1: its egress 10.78.1.1, as the zone saw it"
is "$(w 10.78.1.3 address)" 10.78.1.3 "the exit's resolver: 10.78.1.3"
is "$(w 10.78.2.9 address)/$(w 10.78.2.9 error)" "null/not tested" \
    "a silent address: not tested (liveness failed first)"
wscan --format jsonl
is "$(printf '%s\n' "$OUT" | jq -cs '[.[] | select(.type == "result") |
    has("whoami")] | unique')" '[false]' \
    "without --whoami: no whoami in the results"
wscan --format text
like "$(grep '^RESOLVER' <<<"$OUT")" " DOWN +NAME " "... nor a WHOAMI column"
is "$(grep -c WHOAMI <<<"$OUT")" 0 "... anywhere"
wscan --format text --whoami-name whoami.leak.test
like "$(grep '^RESOLVER' <<<"$OUT")" " DOWN +WHOAMI " "text: a WHOAMI column"
like "$(grep '^10.78.2.1 ' <<<"$OUT")" " 10\\.78\\.1\\.1 " \
    "... 10.78.2.1 shows 10.78.1.1"
like "$(grep '^10.78.2.9 ' <<<"$OUT")" " not tested " \
    "... the silent one: not tested"
# Garbage: bad.test's TXT at the ISP is "hello"; the exit refuses it.
wscan --format jsonl --whoami-name whoami.bad.test
is "$RC/$(w 10.78.2.1 address)/$(w 10.78.2.1 error)" "0/null/no address" \
    "a whoami answer without an address: said so, the scan goes on"
like "$(w 10.78.1.3 error)" "^rcode [1-9][0-9]* \\([A-Z]+\\)$" \
    "a whoami name the resolver has not: its rcode"
like "$(printf '%s\n' "$OUT" | jq -r 'select(.address == "10.78.2.1") |
    .evidence')" 'whoami whoami.bad.test: no address in the answer \(TXT "hello"\)' \
    "... the evidence quotes what came instead"
# The next name when the first fails; the store keeps it.
ns app "$BIN" -q scan --db "$TOPO_DIR/w.db" --domain t.example \
    --stages liveness --intercept-probe none --loss-probes 0 \
    --timeout-ms 1500 --tries 1 --whoami-name whoami.bad.test \
    --whoami-name whoami.leak.test "$TOPO_DIR/res.txt" >/dev/null 2>&1
is "$(sqlite3 "$TOPO_DIR/w.db" "SELECT group_concat(resolver || '=' ||
    whoami || '/' || whoami_name || '/' || whoami_error, ' ') FROM
    (SELECT * FROM resolver_results ORDER BY resolver)")" \
    "10.78.1.3=10.78.1.3/whoami.leak.test/ 10.78.2.1=10.78.1.1/whoami.leak.test/ 10.78.2.9=//not tested" \
    "stored: the second name answered after the first had none"

# leak ARGS...: run in app, JSON lines into $OUT, exit status $RC.
leak_run() {
	OUT=$(ns app "$BIN" -q leak --no-store --format jsonl "$@" \
	    2>"$TOPO_DIR/leak.err")
	RC=$?
}
s() { # SUBJECT KEY
	printf '%s\n' "$OUT" | jq -r --arg s "$1" "select(.subject == \$s) | .$2"
}

leak_run --zone leak.test --control "$TOPO_DIR/app.sock" --whoami whoami.leak.test
is "$RC" 2 "system DNS through the ISP while the tunnel is up: exit 2"
is "$(s 10.78.1.1 verdict)/$(s 10.78.1.1 reason)" fail/leak \
    "... the ISP's resolver 10.78.1.1 is named as a leak"
like "$(s 10.78.1.1 detail)" "resolver 10.78.1.1 \\(IPv4\\) asked for 6 of 6 system-path name\\(s\\), [0-9]+ queries; the tunnel's egress is 10.78.1.3" \
    "... with family, names, count and the tunnel's egress"
like "$(s 10.78.1.1 evidence)" "system path via 10.78.2.1:53 \\(/etc/resolv.conf\\): 6 name\\(s\\), 12 of 12 answered; tunnel path via 127.0.0.1:5353: 6 name\\(s\\), 12 of 12 answered; .*report via 127.0.0.1:5353" \
    "... evidence: both paths, the report through the tunnel"
is "$(printf '%s\n' "$OUT" | jq -s 'length')" 1 "one row: one resolver seen"
like "$(s 10.78.1.1 evidence)" "whoami whoami.leak.test system: 10.78.1.1; whoami whoami.leak.test tunnel: 10.78.1.3" \
    "whoami fingerprints: the ISP's resolver and the exit's"
like "$(s 10.78.1.1 evidence)" "SOCKS requests since start: 2 with a host name, 3 with an IP literal" \
    "... and the engine's SOCKS request counts"
like "$(s 10.78.1.1 evidence)" "; by client: 127\\.0\\.0\\.2 host 1 IP 1, 127\\.0\\.0\\.1 host 1 IP 2" \
    "... by client address, the most recent first"

leak_run --zone leak.test --control "$TOPO_DIR/app.sock" \
    --system-resolver 127.0.0.1:5353 --extended
is "$RC/$(s 10.78.1.3 verdict)" 0/ok \
    "the system path through the tunnel's listener: OK"
like "$(s 10.78.1.3 detail)" "asked for 36 of 36 system-path name\\(s\\): the tunnel's own egress" \
    "... --extended: 36 names, all from the tunnel's egress"

ns app "$BIN" -q leak --zone leak.test --format jsonl --no-store \
    --control "$TOPO_DIR/none.sock" --names 3 >"$TOPO_DIR/o.json" \
    2>/dev/null
RC=$?
OUT=$(cat "$TOPO_DIR/o.json")
is "$RC/$(s 10.78.1.1 reason)" 3/no_baseline \
    "no tunnel path: UNKNOWN no_baseline, never a leak without a baseline"
like "$(s 10.78.1.1 evidence)" "no tunnel path: engine not running" \
    "... saying why"

leak_run --zone leak.test --tunnel-dns 127.0.0.1:5353 \
    --control "$TOPO_DIR/none.sock" --system-resolver 10.78.2.9:53 \
    --timeout-ms 300 --tries 1
is "$RC/$(s 'system resolver' reason)" 3/fetch_failed \
    "a silent system resolver: UNKNOWN, cannot tell"
like "$(s 'system resolver' detail)" "0 of 12 queries answered.*timeout after 300 ms" \
    "... with the reason"

leak_run --zone bad.test --system-resolver 10.78.2.1:53 \
    --tunnel-dns 10.78.2.1:53 --control "$TOPO_DIR/none.sock"
is "$RC/$(s report verdict)/$(s report reason)" 3/unknown/malformed \
    "a zone that answers nonsense: UNKNOWN malformed"
like "$(s report detail)" "not a leak report \\(no leak1 header\\)" \
    "... saying what was wrong"

leak_run --zone nosuch.test --system-resolver 10.78.2.1:53 \
    --tunnel-dns 10.78.2.1:53 --control "$TOPO_DIR/none.sock"
is "$RC/$(s report reason)" 3/fetch_failed \
    "a zone the resolver refuses: UNKNOWN fetch_failed"
like "$(s report detail)" "rcode [1-9][0-9]* to the report query" "... the rcode"
leak_run
is "$RC" 3 "no zone: UNKNOWN"
like "$(cat "$TOPO_DIR/leak.err")" "no leak zone: give --zone NAME" "... why"

# The zone from the config, the store.
printf 'MDNS_LEAK_ZONE = "leak.test"\n' >"$TOPO_DIR/c.toml"
DB=$TOPO_DIR/h.db
ns app "$BIN" -q leak --config "$TOPO_DIR/c.toml" --db "$DB" \
    --control "$TOPO_DIR/app.sock" --format json >"$TOPO_DIR/l.json" \
    2>/dev/null
is "$?" 2 "MDNS_LEAK_ZONE of --config; stored run"
is "$(sqlite3 "$DB" "SELECT group_concat(subject || '=' || verdict || '/' || reason, ' ') FROM checks WHERE kind = 'leak'")" \
    "10.78.1.1=fail/leak" "the check stored with subject, verdict, reason"
is "$(sqlite3 "$DB" "SELECT status FROM runs WHERE command = 'leak'")" \
    critical "run status critical"
is "$(sqlite3 "$DB" "SELECT count(*) FROM checks WHERE evidence LIKE '%report via 127.0.0.1:5353: %10.78.1.1 x%' AND evidence LIKE '%report via%10.78.1.3 x%'")" \
    1 "... with the evidence"

# check runs the leak check when the config names a leak zone.
out=$(ns app "$BIN" --config "$TOPO_DIR/c.toml" --db "$DB" check \
    --checks leak --control "$TOPO_DIR/app.sock" 2>&1)
is "$?" 2 "check --checks leak with MDNS_LEAK_ZONE: CRITICAL"
like "$out" "^MDNS-DOCTOR CRITICAL - leak 10.78.1.1 leak" \
    "... naming the ISP's resolver"
out=$(ns app "$BIN" --db "$DB" check --checks leak \
    --control "$TOPO_DIR/app.sock" 2>&1)
like "$out" "leak not tested \\(no leak zone\\)" \
    "without a leak zone: not tested, said so"

# connect --checks: the leak check inside the client, through its own DNS
# listener, with the system path of app's /etc/resolv.conf (the ISP):
# status leak critical naming the ISP's resolver, with the evidence. The
# only IP-echo service is unreachable: exit_ip unknown with the reason.
ENG_EXEC=(ip netns exec "$APP")
ENG_CONNECT_ARGS=(--control "$TOPO_DIR/ck.sock" --checks=2)
eng_connect CK "$SRV_ADDR" 'LOCAL_DNS_ENABLED = true
LOCAL_DNS_IP = "127.0.0.1"
LOCAL_DNS_PORT = 5354
MDNS_LEAK_ZONE = "leak.test"
MDNS_IP_ECHO_V4 = ["http://10.78.9.9:80/ip"]'
ok $? "connect --checks=2 with a leak zone and a DNS listener"
for ((i = 0; i < 120; i++)); do
	st=$(ns app "$BIN" status --control "$TOPO_DIR/ck.sock" --format json \
	    2>/dev/null)
	v=$(printf '%s' "$st" | jq -r '.leak.verdict + "|" + .exit_ip.verdict' 2>/dev/null)
	case $v in *"not tested"* | "" | "|") sleep 0.5 ;; *) break ;; esac
done
is "$(printf '%s' "$st" | jq -r '.leak.verdict + "/" + .leak.reason + "/" + .leak.address')" \
    critical/leak/10.78.1.1 \
    "--checks: status leak critical, naming the ISP's resolver"
like "$(printf '%s' "$st" | jq -r '.leak.evidence.checks[0].evidence')" \
    "system path via 10.78.2.1:53 \\(/etc/resolv.conf\\): 6 name\\(s\\), 12 of 12 answered; tunnel path via 127.0.0.1:5354: .*report via 127.0.0.1:5354" \
    "... with the evidence: both paths, the report through the tunnel"
like "$(printf '%s' "$st" | jq -r '.leak.evidence.checks[0].evidence')" \
    "SOCKS requests since start: 0 with a host name, 0 with an IP literal" \
    "... and the client's own SOCKS counts"
like "$(printf '%s' "$st" | jq -r '.leak.detail')" "the tunnel's egress is 10.78.1.3" \
    "... and the tunnel's egress"
is "$(printf '%s' "$st" | jq -r '.exit_ip.verdict + "/" + .exit_ip.reason')" \
    unknown/fetch_failed "an unreachable IP-echo service: exit_ip unknown"
like "$(printf '%s' "$st" | jq -r '.exit_ip.evidence.checks[0].evidence')" \
    "10.78.9.9:80/ip: " "... with the reason"
ns app "$BIN" metrics --control "$TOPO_DIR/ck.sock" |
    grep -q '^mdns_client_check_verdict{check="leak"} 2$'
ok $? "metrics: mdns_client_check_verdict{check=\"leak\"} 2"
eng_wait "$TOPO_DIR/CK.err" 'check leak: not tested -> critical \(leak\)'
ok $? "an event on the change (in the log)"
topo_stop "$CK_PID"

# Tokens and names never reach the server's log.
srvlog=$(cat "$TOPO_DIR/SRV.out" "$TOPO_DIR/SRV.err" 2>/dev/null)
if printf '%s' "$srvlog" | grep -q 'leak\.test'; then
	ok 1 "the server logged a leak-zone name"
else
	ok 0 "the server's log has no leak-zone name or token"
fi
is "$(ns exit "$BIN" status --server --control "$TOPO_DIR/srv.sock" \
    --format json | jq -r '.leak.zone')" leak.test \
    "the server's status has the leak object"
done_testing
