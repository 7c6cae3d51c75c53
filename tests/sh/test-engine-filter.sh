#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-engine-filter.sh — the server's target filter over real sockets,
# SOCKS5 targets given as NAMES. A listener on 127.0.0.3 plays the
# internal service a tunnel client must not reach.
#  * "localhost" spellings are refused by name (reply 2).
#  * Names that are not IP literals for inet_pton but that getaddrinfo
#    resolves to 127.0.0.3 — the inet_aton forms "127.3", "2130706435",
#    "0x7f.0.0.3" — pass the name check, and must be refused after
#    resolution (reply 2). Upstream checks only literals and would
#    connect. This needs no /etc/hosts entry and no DNS.
# The listener must see no connection at all. As a control, a server
# whose allow-list covers 127.0.0.0/8 connects the same names (reply 0,
# data intact), so the refusals above come from the filter and not from
# a failed lookup.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/topo.sh
topo_init || exit 1
. tests/sh/engine-lib.sh
D=$TOPO_DIR

cat >"$D/socksrep.py" <<'EOP'
import socket, struct, sys
proxy, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.create_connection((proxy.rsplit(":", 1)[0], int(proxy.rsplit(":", 1)[1])), timeout=20)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + struct.pack(">H", port))
r = s.recv(10)
print(r[1] if len(r) >= 2 else -1)
EOP
cat >"$D/listener.py" <<'EOP'
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(5)
print("port=%d" % s.getsockname()[1], flush=True)
while True:
    c, a = s.accept(); print("accepted", a, flush=True); c.close()
EOP
rep() { python3 "$D/socksrep.py" "$1" "$2" "$3"; }

topo_spawn LSN python3 "$D/listener.py" 127.0.0.3
ok $? "internal listener on 127.0.0.3:$LSN_PORT"
topo_spawn LSN1 python3 "$D/listener.py" 127.0.0.1
ok $? "internal listener on 127.0.0.1:$LSN1_PORT"

# Default filter: no allow-list at all.
eng_serve SRV 'MDNS_ALLOW_TARGETS = []'
ok $? "server with the default filter up on $SRV_ADDR"
eng_connect CLI "$SRV_ADDR"
ok $? "client connected"

for h in localhost localhost. LocalHost db.localhost db.localhost.; do
	is "$(rep "$CLI_PROXY" "$h" "$LSN1_PORT")" 2 \
	    "name '$h' -> SOCKS reply 2"
done
for h in 127.3 2130706435 0x7f.0.0.3; do
	is "$(rep "$CLI_PROXY" "$h" "$LSN_PORT")" 2 \
	    "name '$h' (resolves to 127.0.0.3) -> SOCKS reply 2"
done
is "$(rep "$CLI_PROXY" 127.0.0.3 "$LSN_PORT")" 2 \
    "literal 127.0.0.3 -> SOCKS reply 2"
sleep 0.3
is "$(grep -c accepted "$D/LSN.out")" 0 \
    "127.0.0.3 saw no connection"
is "$(grep -c accepted "$D/LSN1.out")" 0 \
    "127.0.0.1 saw no connection"
n=$(grep -c 'RULESET_DENIED\|denied\|refused' "$D/SRV.err")
[ "$n" -ge 9 ]
ok $? "the server logged each refusal ($n lines)"
is "$(grep -c 'RULESET_DENIED (localhost name)' "$D/SRV.err")" 5 \
    "the five localhost spellings were refused by name"
is "$(grep -c 'RULESET_DENIED (loopback)' "$D/SRV.err")" 4 \
    "the three names and the literal were refused as loopback addresses"
topo_stop "$CLI_PID"
topo_stop "$SRV_PID"

# Control: loopback allowed, the same names connect.
eng_origin
eng_serve SRV2
ok $? "server allowing 127.0.0.0/8 up"
eng_connect CLI2 "$SRV2_ADDR"
ok $? "client connected"
for h in 127.3 2130706435; do
	is "$(rep "$CLI2_PROXY" "$h" "$LSN_PORT")" 0 \
	    "allowed: name '$h' -> SOCKS reply 0"
done
sleep 0.3
is "$(grep -c accepted "$D/LSN.out")" 2 "allowed: 127.0.0.3 saw both"
is "$(curl -s --max-time 20 --socks5-hostname "$CLI2_PROXY" \
    "http://127.1:$ORIGIN_PORT/bytes/70000?seed=9" | sha256sum |
    cut -d' ' -f1)" "$(fix_sha 70000 9)" \
    "allowed: a download through the name 127.1 is intact"

done_testing
