#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
browser.py - load every page of a site in headless Chromium and check that
every resource it fetches arrives (stdlib only: a small WebSocket client
speaks the DevTools protocol).

    browser.py --base http://127.0.0.1:8080 --www DIR --screenshots DIR

Each *.html under DIR is loaded in a fresh tab with the cache disabled
(dir/index.html as /dir/). A page fails on a document or resource status of
400 or more, a request that failed or never finished, a stylesheet or
script with the wrong MIME type, an uncaught JavaScript exception, or an
error in the browser's log. A full-page screenshot of each page is saved as
PNG. Prints one line per page and "N passed, N failed"; exits 0 iff none
failed.
"""

import argparse
import base64
import collections
import hashlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
LOAD_TIMEOUT = 20  # seconds for a page to load and fall quiet
QUIET = 0.5  # seconds without a request in flight after the load event
VIEWPORT = (1280, 800)
SCREENSHOT_HEIGHT_MAX = 8000
MIME_BY_TYPE = {
    "Stylesheet": ("text/css",),
    "Script": ("text/javascript", "application/javascript"),
}


class WebSocket:
    """A minimal RFC 6455 client: text messages, ping, close."""

    def __init__(self, url, timeout=10):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout)
        self.buf = bytearray()
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
            % (u.path, u.hostname, u.port, key)).encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n") + 4
        head = self.buf[:end].decode("latin-1")
        del self.buf[:end]
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest())
        if " 101 " not in head.split("\r\n")[0] or accept.decode() not in head:
            raise ConnectionError("WebSocket handshake failed: %r" % head)
        self.sock.settimeout(60)  # a started frame must arrive whole

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("WebSocket closed by the browser")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | opcode, 0x80 | n])
        elif n < 1 << 16:
            head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        key = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big"))
        self.sock.sendall(head + mask + masked.to_bytes(n, "big"))

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, timeout):
        """The next text message, or None when none starts within timeout."""
        message = b""
        while True:
            if not self.buf and not select.select([self.sock], [], [], timeout)[0]:
                return None
            b0, b1 = self._take(2)
            n = b1 & 0x7f
            if n == 126:
                n = int.from_bytes(self._take(2), "big")
            elif n == 127:
                n = int.from_bytes(self._take(8), "big")
            mask = self._take(4) if b1 & 0x80 else None
            payload = self._take(n)
            if mask:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            opcode = b0 & 0x0f
            if opcode == 0x8:
                raise ConnectionError("WebSocket closed by the browser")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1):
                message += payload
                if b0 & 0x80:
                    return message.decode()
            timeout = 60  # the rest of a fragmented message


class DevTools:
    """DevTools protocol over one browser WebSocket, flat sessions."""

    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.last_id = 0
        self.events = collections.deque()

    def call(self, method, session=None, **params):
        self.last_id += 1
        msg = {"id": self.last_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + 30
        while True:
            m = self.ws.recv(max(0.0, deadline - time.monotonic()))
            if m is None:
                raise TimeoutError("no answer to " + method)
            m = json.loads(m)
            if m.get("id") == self.last_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m["result"]
            if "method" in m:
                self.events.append(m)

    def event(self, timeout):
        """The next event, or None after timeout seconds."""
        if self.events:
            return self.events.popleft()
        m = self.ws.recv(timeout)
        return json.loads(m) if m else None


class Chromium:
    """A headless Chromium with a throw-away profile."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="kserver-chromium.")
        self.log = open(os.path.join(self.profile, "stderr.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update",
             "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not self._port_file_ready(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not start; see its stderr:\n"
                                   + self.stderr_tail())
            time.sleep(0.1)
        with open(port_file) as f:
            port, path = f.read().split()[:2]
        self.devtools = DevTools("ws://127.0.0.1:%s%s" % (port, path))

    @staticmethod
    def _port_file_ready(path):
        try:
            with open(path) as f:
                return len(f.read().split()) >= 2
        except FileNotFoundError:
            return False

    def stderr_tail(self):
        with open(os.path.join(self.profile, "stderr.log"), "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.devtools.call("Browser.close")
            except Exception:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class PageLoad:
    """What the network and the page reported while one page loaded."""

    def __init__(self):
        self.urls = {}  # requestId: url
        self.types = {}  # requestId: resource type
        self.responses = {}  # requestId: response
        self.failed = {}  # requestId: error text
        self.finished = set()
        self.errors = []  # exceptions and browser-log errors
        self.loaded = False

    def in_flight(self):
        return set(self.urls) - self.finished - set(self.failed)

    def handle(self, ev):
        method, p = ev.get("method"), ev.get("params", {})
        rid = p.get("requestId")
        if method == "Network.requestWillBeSent":
            self.urls[rid] = p["request"]["url"]
            self.types[rid] = p.get("type", "")
        elif method == "Network.responseReceived":
            self.responses[rid] = p["response"]
            self.types[rid] = p.get("type", self.types.get(rid, ""))
        elif method == "Network.loadingFinished":
            self.finished.add(rid)
        elif method == "Network.loadingFailed":
            self.failed[rid] = p.get("errorText", "") + (
                " (%s)" % p["blockedReason"] if p.get("blockedReason") else "")
        elif method == "Page.loadEventFired":
            self.loaded = True
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.errors.append("JavaScript exception: " + text.split("\n")[0])
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append("browser log: %s %s" % (
                p["entry"]["text"], p["entry"].get("url", "")))

    def problems(self):
        p = list(self.errors)
        for rid, url in self.urls.items():
            if url.startswith("data:"):
                continue
            resp = self.responses.get(rid)
            if rid in self.failed:
                p.append("%s failed: %s" % (url, self.failed[rid]))
            elif resp is None or rid not in self.finished:
                p.append("%s never finished" % url)
            elif resp["status"] >= 400:
                p.append("%s: %d" % (url, resp["status"]))
            elif self.types.get(rid) in MIME_BY_TYPE and (
                    resp["mimeType"] not in MIME_BY_TYPE[self.types[rid]]):
                p.append("%s: %s served as %s" % (url, self.types[rid],
                                                   resp["mimeType"]))
        return p


def page_paths(www):
    """URL paths of the site's pages: every *.html, a directory's index as
    the directory."""
    paths = []
    for dirpath, _, files in os.walk(www):
        rel = os.path.relpath(dirpath, www)
        prefix = "/" if rel == "." else "/%s/" % rel
        for name in files:
            if name.endswith(".html"):
                paths.append(prefix + ("" if name == "index.html" else name))
    return sorted(urllib.parse.quote(p) for p in paths)


def load_page(devtools, url, screenshot):
    """Load url in a fresh tab; returns (resources fetched, problems)."""
    target = devtools.call("Target.createTarget", url="about:blank")["targetId"]
    session = devtools.call("Target.attachToTarget", targetId=target,
                            flatten=True)["sessionId"]
    try:
        for domain in ("Network", "Page", "Runtime", "Log"):
            devtools.call(domain + ".enable", session)
        devtools.call("Network.setCacheDisabled", session, cacheDisabled=True)
        devtools.call("Emulation.setDeviceMetricsOverride", session,
                      width=VIEWPORT[0], height=VIEWPORT[1],
                      deviceScaleFactor=1, mobile=False)
        load = PageLoad()
        nav = devtools.call("Page.navigate", session, url=url)
        if nav.get("errorText"):
            return 0, ["navigation failed: " + nav["errorText"]]
        deadline = time.monotonic() + LOAD_TIMEOUT
        quiet_since = None
        while time.monotonic() < deadline:
            ev = devtools.event(0.1)
            if ev and ev.get("sessionId") == session:
                load.handle(ev)
                quiet_since = None
            if load.loaded and not load.in_flight():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= QUIET:
                    break
        problems = load.problems()
        if not load.loaded:
            problems.append("no load event within %ds" % LOAD_TIMEOUT)
        save_screenshot(devtools, session, screenshot)
        return len(load.urls), problems
    finally:
        devtools.call("Target.closeTarget", targetId=target)


def save_screenshot(devtools, session, path):
    metrics = devtools.call("Page.getLayoutMetrics", session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = min(max(int(size["height"]), VIEWPORT[1]), SCREENSHOT_HEIGHT_MAX)
    shot = devtools.call("Page.captureScreenshot", session, format="png",
                         captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": VIEWPORT[0],
                               "height": height, "scale": 1})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def screenshot_name(path):
    name = urllib.parse.unquote(path).strip("/").replace("/", "-")
    return (name[:-len(".html")] if name.endswith(".html") else name) or "index"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    ap.add_argument("--base", required=True, help="http://HOST:PORT of the server")
    ap.add_argument("--www", required=True, help="the site's directory")
    ap.add_argument("--screenshots", required=True, help="save PNGs here")
    ap.add_argument("--chromium", default="chromium", help="browser binary")
    args = ap.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    paths = page_paths(args.www)
    passed = failed = 0
    browser = Chromium(args.chromium)
    try:
        for path in paths:
            shot = os.path.join(args.screenshots, screenshot_name(path) + ".png")
            try:
                count, problems = load_page(browser.devtools, args.base + path, shot)
            except (OSError, RuntimeError, TimeoutError) as e:
                count, problems = 0, ["DevTools: %s" % e]
            if problems:
                print("FAIL %s: %s" % (path, "; ".join(problems)))
                failed += 1
            else:
                print("ok %s (%d requests, %s)" % (path, count, shot))
                passed += 1
            sys.stdout.flush()
    finally:
        browser.close()
    if not paths:
        print("FAIL no *.html under %s" % args.www)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
