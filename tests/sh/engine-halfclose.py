# SPDX-License-Identifier: MIT
# engine-halfclose.py — an HTTP upload with a half-close, for the engine
# tests (not a test itself): connect (directly, or through a SOCKS5 proxy
# to HOST:PORT), send POST /upload with FILE as the body, shut the write
# side, then read the whole reply to EOF and print its body.
#
#   python3 engine-halfclose.py tcp PROXY FILE
#   python3 engine-halfclose.py socks PROXY HOST PORT FILE
import socket
import struct
import sys


def connect(addr):
    host, port = addr.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=60)


def main():
    mode, proxy = sys.argv[1], sys.argv[2]
    s = connect(proxy)
    if mode == "socks":
        host, port, path = sys.argv[3], int(sys.argv[4]), sys.argv[5]
        s.sendall(b"\x05\x01\x00")
        if s.recv(2) != b"\x05\x00":
            print("socks: no method")
            return 1
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode()
                  + struct.pack(">H", port))
        r = b""
        while len(r) < 10:
            k = s.recv(10 - len(r))
            if not k:
                break
            r += k
        if len(r) < 2 or r[1] != 0:
            print("socks: reply %d" % (r[1] if len(r) > 1 else -1))
            return 1
    else:
        path = sys.argv[3]
    body = open(path, "rb").read()
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: origin\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
    s.sendall(body)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        k = s.recv(65536)
        if not k:
            break
        reply += k
    head, _, rest = reply.partition(b"\r\n\r\n")
    sys.stdout.write(rest.decode(errors="replace"))
    return 0


sys.exit(main())
