#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-connect-diagnosis.sh — `connect` says why no connection works
# (issue 11 point 2): a wrong key, a wrong domain, a wrong method and a
# dead server against a real `serve` each give their own cause and name
# the configuration key to check, instead of one "all N failed their MTU
# test" for all. A wrong key and a wrong method look the same on the wire
# (the server answers NODATA to a query it cannot decrypt), so both name
# ENCRYPTION_KEY and DATA_ENCRYPTION_METHOD.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/net.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR

eng_serve SRV || { ok 1 "serve"; topo_cleanup; done_testing; exit 1; }

# run NAME RESOLVER TOML: connect until it gives up; $rc, $err.
run() {
	eng_connect_bg "$1" "$2" "MTU_TEST_TIMEOUT = 0.5
MTU_TEST_RETRIES = 1
$3"
	local pid=${1}_PID
	wait "${!pid}"; rc=$?
	err=$(cat "$D/$1.err")
}

run KEY "$SRV_ADDR" 'ENCRYPTION_KEY = "00000000000000000000000000000000"'
is "$rc" 2 "wrong key: connect exits 2"
like "$err" "key or method wrong: the server answered [0-9]+ of [0-9]+ probes NODATA" \
    "  says the server cannot decrypt the probes"
like "$err" "check ENCRYPTION_KEY and DATA_ENCRYPTION_METHOD" \
    "  and names the keys to check"

run METHOD "$SRV_ADDR" 'DATA_ENCRYPTION_METHOD = 5'
is "$rc" 2 "wrong method: connect exits 2"
like "$err" "key or method wrong: .*check ENCRYPTION_KEY and DATA_ENCRYPTION_METHOD" \
    "  the same cause, both keys named"

run DOMAIN "$SRV_ADDR" 'DOMAINS = ["wrong.example"]'
is "$rc" 2 "wrong domain: connect exits 2"
like "$err" "wrong domain: [0-9]+ of [0-9]+ probes answered NXDOMAIN, the server does not serve wrong.example: check DOMAINS" \
    "  says NXDOMAIN and names DOMAINS"
ok $(grep -q "key or method" <<<"$err"; echo $((!$?))) \
    "  and does not blame the key"

dead=127.0.0.1:$(free_port --udp 127.0.0.1)
run DEAD "$dead" ''
is "$rc" 2 "no server: connect exits 2"
like "$err" "no answer to any probe: check that the resolvers reach the server" \
    "  says nothing answered"

topo_cleanup
done_testing
