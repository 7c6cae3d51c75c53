#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dns-client.py — a small DNS test client for the DNS-through-the-tunnel
tests (not a test itself): sends DNS queries given as hex and prints each
answer as hex, one line per query: "I answer HEX", or "I timeout".

  dns-client.py udp ADDR:PORT [--timeout S] [--parallel] HEX...
      plain UDP to ADDR:PORT (the client's local DNS listener)
  dns-client.py socks PROXY:PORT DNS:PORT [--timeout S] [--parallel]
                [--bad] HEX...
      SOCKS5 (no auth) UDP ASSOCIATE at PROXY, then each query in a
      SOCKS5 UDP datagram (RFC 1928 section 7) to DNS (an IPv4 address;
      only port 53 is carried by the tunnel client). The reply header
      must be a standalone datagram; the DNS answer after it is printed.
      First it prints "bnd ADDR:PORT" (the relay the proxy announced).
      --bad first sends datagrams the client must drop (FRAG 1, port 54,
      a cut header) and prints "bad none" when nothing came back for
      them within the timeout.
  dns-client.py bulk ADDR:PORT N NAME QTYPE [--timeout S] [--window W]
      N queries for NAME (A=1 ...; "%d" in NAME becomes the query's
      number) with W in flight; prints "bulk ok=.. nx=.. servfail=..
      other=.. timeout=.. wrong=.." where wrong counts answers whose id
      or question differ from the query's.

With --parallel every query is sent before any answer is read. Answers
are matched by DNS id; the id of each query must be unique.
"""
import os
import select
import socket
import struct
import sys
import time


def hexq(h):
    return bytes.fromhex(h)


def collect(sock, queries, timeout, parallel, wrap=None, unwrap=None):
    """Send queries (list of bytes), return {index: answer bytes}."""
    ids = {struct.unpack(">H", q[:2])[0]: i for i, q in enumerate(queries)}
    got = {}
    deadline = time.monotonic() + timeout

    def read_until(want):
        nonlocal deadline
        while want() and time.monotonic() < deadline:
            r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            data = sock.recv(70000)
            if unwrap is not None:
                data = unwrap(data)
                if data is None:
                    continue
            if len(data) < 2:
                continue
            i = ids.get(struct.unpack(">H", data[:2])[0])
            if i is not None and i not in got:
                got[i] = data

    if parallel:
        for q in queries:
            sock.send(wrap(q) if wrap else q)
        read_until(lambda: len(got) < len(queries))
    else:
        for i, q in enumerate(queries):
            deadline = time.monotonic() + timeout
            sock.send(wrap(q) if wrap else q)
            read_until(lambda: i not in got)
    return got


def report(queries, got):
    for i in range(len(queries)):
        if i in got:
            print("%d answer %s" % (i, got[i].hex()))
        else:
            print("%d timeout" % i)


def addr(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def opts(args):
    o = {"timeout": 10.0, "parallel": False, "bad": False, "window": 8}
    rest = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--timeout":
            o["timeout"] = float(args[i + 1])
            i += 2
            continue
        if a == "--window":
            o["window"] = int(args[i + 1])
            i += 2
            continue
        if a in ("--parallel", "--bad"):
            o[a[2:]] = True
        else:
            rest.append(a)
        i += 1
    return o, rest


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("socks: connection closed")
        b += c
    return b


def socks_associate(proxy):
    t = socket.create_connection(addr(proxy), timeout=10)
    t.sendall(b"\x05\x01\x00")
    if recv_exact(t, 2) != b"\x05\x00":
        raise SystemExit("socks: greeting refused")
    # announce 0.0.0.0:0: "I do not know yet" (RFC 1928)
    t.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    r = recv_exact(t, 4)
    if r[1] != 0:
        raise SystemExit("socks: UDP ASSOCIATE refused, REP %d" % r[1])
    if r[3] == 1:
        a = socket.inet_ntop(socket.AF_INET, recv_exact(t, 4))
    else:
        a = socket.inet_ntop(socket.AF_INET6, recv_exact(t, 16))
    p = struct.unpack(">H", recv_exact(t, 2))[0]
    return t, a, p


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    mode = sys.argv[1]
    if mode == "udp":
        o, rest = opts(sys.argv[3:])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(addr(sys.argv[2]))
        qs = [hexq(h) for h in rest]
        report(qs, collect(s, qs, o["timeout"], o["parallel"]))
        return
    if mode == "socks":
        o, rest = opts(sys.argv[4:])
        dh, dp = addr(sys.argv[3])
        t, ba, bp = socks_associate(sys.argv[2])
        print("bnd %s:%d" % (ba, bp))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect((ba, bp))
        hdr = b"\x00\x00\x00\x01" + socket.inet_aton(dh) + struct.pack(">H", dp)

        def unwrap(d):
            if len(d) < 10 or d[2] != 0 or d[3] != 1:
                return None
            return d[10:]

        if o["bad"]:
            q = hexq(rest[0])
            bad = [
                b"\x00\x00\x01\x01" + socket.inet_aton(dh) + struct.pack(">H", dp) + q,
                b"\x00\x00\x00\x01" + socket.inet_aton(dh) + struct.pack(">H", 54) + q,
                b"\x00\x00\x00\x01\x7f",
            ]
            for b in bad:
                u.send(b)
            r, _, _ = select.select([u], [], [], min(o["timeout"], 2.0))
            print("bad %s" % ("answered" if r else "none"))
        qs = [hexq(h) for h in rest]
        report(qs, collect(u, qs, o["timeout"], o["parallel"],
                           wrap=lambda q: hdr + q, unwrap=unwrap))
        t.close()
        return
    if mode == "bulk":
        o, rest = opts(sys.argv[3:])
        n, name, qtype = int(rest[0]), rest[1], int(rest[2])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(addr(sys.argv[2]))
        def tail_of(k):
            nm = name.replace("%d", str(k))
            qn = b"".join(bytes([len(l)]) + l.encode() for l in nm.split(".")) + b"\x00"
            return qn + struct.pack(">HH", qtype, 1)
        tails = {}
        cnt = {"ok": 0, "nx": 0, "servfail": 0, "other": 0, "timeout": 0, "wrong": 0}
        sent = {}
        nxt = 0
        base = int.from_bytes(os.urandom(2), "big")
        while nxt < n or sent:
            while nxt < n and len(sent) < o["window"]:
                qid = (base + nxt) & 0xFFFF
                tails[qid] = tail_of(nxt)
                s.send(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + tails[qid])
                sent[qid] = time.monotonic()
                nxt += 1
            r, _, _ = select.select([s], [], [], 0.2)
            now = time.monotonic()
            if r:
                d = s.recv(70000)
                if len(d) < 12:
                    continue
                qid = struct.unpack(">H", d[:2])[0]
                if qid not in sent:
                    continue
                del sent[qid]
                tail = tails[qid]
                if d[12:12 + len(tail)] != tail or not d[2] & 0x80:
                    cnt["wrong"] += 1
                elif d[3] & 0x0F == 0:
                    cnt["ok"] += 1
                elif d[3] & 0x0F == 3:
                    cnt["nx"] += 1
                elif d[3] & 0x0F == 2:
                    cnt["servfail"] += 1
                else:
                    cnt["other"] += 1
            for qid, t0 in list(sent.items()):
                if now - t0 > o["timeout"]:
                    del sent[qid]
                    cnt["timeout"] += 1
        print("bulk " + " ".join("%s=%d" % (k, v) for k, v in cnt.items()))
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
