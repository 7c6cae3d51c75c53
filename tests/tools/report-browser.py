#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report-browser.py — open an HTML file in a real browser (headless
Chromium) with every network request it makes sent to a counting proxy
on loopback, and report what the browser rendered.

    report-browser.py [--screenshot PNG [--top Y] [--height H]]
                      [--chromium PATH] FILE.html

Prints one JSON object on stdout:
    {"proxy_requests": N,          requests that reached the proxy
     "proxy_log": ["GET http://...", ...],
     "page_requests": [URL, ...],  what the page tried (DevTools Network
                                   events; CSP-blocked attempts too)
     "charts": [{"id": "...", "width": W, "height": H}, ...],
                                   every <svg class="chart">, laid out
     "title": "...", "loaded": true}

The proxy answers every request with 403 and counts it; Chromium is
started with --proxy-server pointing at it and --proxy-bypass-list
"<-loopback>" so that even loopback URLs go through it. Chromium is
driven over --remote-debugging-pipe (the DevTools protocol on fds 3 and
4, NUL-terminated JSON), so no debugging port is opened. Layout sizes
come from DOM.getBoxModel: the page itself runs no script. The profile
directory is fresh and removed at the end.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


# Chromium's own update, sign-in and time endpoints: it asks them at start
# whatever the flags say. They bypass the proxy and resolve to nothing, so
# they neither leave the machine nor count; a page could never name them.
OWN_HOSTS = ["update.googleapis.com", "accounts.google.com",
             "clients2.google.com"]


class Proxy(threading.Thread):
    """Counts every connection and request line; answers 403."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.log = []
        self.connections = 0
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.settimeout(5)
        data = b""
        try:
            while b"\r\n" not in data and len(data) < 8192:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            with self.lock:
                self.log.append(line)
            c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            c.close()


class Cdp:
    """The DevTools protocol over the pipe pair."""

    def __init__(self, wfd, rfd):
        self.w = os.fdopen(wfd, "wb", buffering=0)
        self.r = os.fdopen(rfd, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from the browser")
            chunk = self.r.read(65536)
            if not chunk:
                raise EOFError("the browser closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, timeout=30):
        deadline = time.time() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == name:
                del self.events[i]
                return m
        while True:
            m = self._read(deadline)
            if m.get("method") == name:
                return m
            self.events.append(m)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("html")
    ap.add_argument("--screenshot")
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--top", type=float, default=0,
                    help="screenshot from this CSS pixel down")
    ap.add_argument("--height", type=float, default=0,
                    help="screenshot height (default: the whole page)")
    ap.add_argument("--settle", type=float, default=1.5,
                    help="seconds to wait after load for late requests")
    a = ap.parse_args()

    url = "file://" + os.path.abspath(a.html)
    proxy = Proxy()
    proxy.start()
    profile = tempfile.mkdtemp(prefix="rpt-chromium.")
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()

    def child_fds():
        # Chromium reads commands on fd 3 and writes on fd 4. Move both
        # out of the way first: either may be 3 or 4 already. (The
        # pipes are close-on-exec; the dup2 copies are not, and
        # close_fds=False keeps them: pass_fds would close 3 and 4.)
        r = os.dup(to_chrome_r) if to_chrome_r < 5 else to_chrome_r
        w = os.dup(from_chrome_w) if from_chrome_w < 5 else from_chrome_w
        while r < 5:
            r = os.dup(r)
        while w < 5:
            w = os.dup(w)
        os.dup2(r, 3)
        os.dup2(w, 4)

    args = [a.chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps",
            "--disable-extensions", "--user-data-dir=" + profile,
            "--proxy-server=http://127.0.0.1:%d" % proxy.port,
            "--proxy-bypass-list=<-loopback>;" + ";".join(OWN_HOSTS),
            "--host-resolver-rules=" + ", ".join(
                "MAP %s ~NOTFOUND" % h for h in OWN_HOSTS),
            "--disable-features=NetworkTimeServiceQuerying,"
            "OptimizationHints,MediaRouter,Translate,"
            "AutofillServerCommunication",
            "--no-pings", "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-breakpad", "--no-default-browser-check",
            "--remote-debugging-pipe", "--window-size=1100,900",
            "about:blank"]
    out = {"proxy_requests": 0, "proxy_log": [], "page_requests": [],
           "charts": [], "title": None, "loaded": False}
    err = open(os.path.join(profile, "stderr.txt"), "wb")
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=err,
                         close_fds=False, preexec_fn=child_fds)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    cdp = Cdp(to_chrome_w, from_chrome_r)
    try:
        targets = cdp.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        s = cdp.call("Target.attachToTarget",
                     {"targetId": page["targetId"], "flatten": True})
        sid = s["sessionId"]
        cdp.call("Page.enable", session=sid)
        cdp.call("Network.enable", session=sid)
        cdp.call("Emulation.setDeviceMetricsOverride",
                 {"width": 1100, "height": 900, "deviceScaleFactor": 1,
                  "mobile": False}, session=sid)
        cdp.call("Page.navigate", {"url": url}, session=sid)
        cdp.wait_event("Page.loadEventFired")
        out["loaded"] = True
        time.sleep(a.settle)
        doc = cdp.call("DOM.getDocument", {"depth": -1}, session=sid)
        root = doc["root"]["nodeId"]
        t = cdp.call("DOM.querySelector", {"nodeId": root,
                                           "selector": "title"}, session=sid)
        if t.get("nodeId"):
            out["title"] = cdp.call("DOM.getOuterHTML",
                                    {"nodeId": t["nodeId"]},
                                    session=sid)["outerHTML"]
        nodes = cdp.call("DOM.querySelectorAll",
                         {"nodeId": root, "selector": "svg.chart"},
                         session=sid)["nodeIds"]
        for n in nodes:
            attrs = cdp.call("DOM.getAttributes", {"nodeId": n},
                             session=sid)["attributes"]
            attrs = dict(zip(attrs[::2], attrs[1::2]))
            box = cdp.call("DOM.getBoxModel", {"nodeId": n},
                           session=sid)["model"]
            kids = cdp.call("DOM.querySelectorAll",
                            {"nodeId": n, "selector":
                             "rect, polyline, line, text"},
                            session=sid)["nodeIds"]
            out["charts"].append({"id": attrs.get("id"),
                                  "width": box["width"],
                                  "height": box["height"],
                                  "elements": len(kids)})
        # The page's own attempts, CSP-blocked ones included: a second
        # witness beside the proxy.
        for m in cdp.events:
            if m.get("method") == "Network.requestWillBeSent":
                u = m["params"]["request"]["url"]
                if not u.startswith(("file:", "data:", "about:")):
                    out["page_requests"].append(u)
        if a.screenshot:
            m = cdp.call("Page.getLayoutMetrics", session=sid)
            size = m.get("cssContentSize") or m["contentSize"]
            shot = cdp.call("Page.captureScreenshot",
                            {"format": "png", "captureBeyondViewport": True,
                             "clip": {"x": 0, "y": a.top,
                                      "width": size["width"],
                                      "height": a.height or
                                      size["height"] - a.top,
                                      "scale": 1}}, session=sid)
            import base64
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        try:
            cdp.call("Browser.close", timeout=5)
        except (EOFError, TimeoutError, RuntimeError):
            pass
    except Exception as e:  # report what went wrong as data, exit 1
        out["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        err.close()
        shutil.rmtree(profile, ignore_errors=True)
    time.sleep(0.2)
    with proxy.lock:
        out["proxy_requests"] = max(len(proxy.log), proxy.connections)
        out["proxy_log"] = list(proxy.log)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())
