#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
conformance.py - HTTP/1.x conformance suite for kserver (stdlib only).

Sends RAW requests over sockets, so that malformed, pipelined and split
input can be sent, and checks each response byte-exactly against the
behaviour kserver implements. The server must serve a docroot built by
make_fixture.sh:

    conformance.py --addr 127.0.0.1:8080 --docroot DIR [--transcript FILE]
                   [--only REGEX] [--with-timeouts] [--serve-hidden]

Every case is one row of the tables below: a name, a description, the bytes
to send (several pipelined requests, or pieces with pauses in between) and
one Resp per expected response. On top of a row's own expectations every
response is held to the invariants of its status (check_invariants), and
after the last one the connection must be closed (Connection: close) or
still usable (a probe request is answered). Cases that need several
connections or timing (timeouts, idle connections, slow readers) are
functions in the same tables.

--transcript writes every case's raw responses with the Date value replaced
(bodies over 64 KiB as their SHA-256), so that two servers, or kserver's
two modes, can be compared with cmp. Prints one line per case and ends with
"N passed, N failed[, N skipped]"; exits 0 iff nothing failed.
"""

import argparse
import hashlib
import os
import re
import resource
import socket
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Callable, Optional, Union

REASONS = {
    200: "OK",
    206: "Partial Content",
    301: "Moved Permanently",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}
# After these the server always closes the connection.
CLOSING = {400, 413, 414, 431, 505}
TIMEOUT_SCALE = 1    # --timeout-scale: the server's timeouts, scaled

MIME = {
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",  # as in Debian 12's /etc/mime.types
    "png": "image/png",
    "svg": "image/svg+xml",
    "jpg": "image/jpeg",
    "txt": "text/plain",
}
DEFAULT_MIME = "application/octet-stream"

IMF_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                      r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                      r"\d{4} \d\d:\d\d:\d\d GMT")
ETAG = re.compile(r'"[0-9a-f]+-[0-9a-f]+"')
DATE_LINE = re.compile(rb"(?im)^(Date:)[^\r\n]*")
DATE_PLACEHOLDER = rb"\1 Thu, 01 Jan 1970 00:00:00 GMT"
HEAD_END = re.compile(rb"\r?\n\r?\n")
CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")
TRANSCRIPT_BODY_MAX = 64 * 1024
DATE_SKEW_MAX = 10  # seconds between the Date header and our clock

HOST = "Host: kserver.test"
PROBE = b"GET /hello.txt HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
HELLO = b"hello, world\n"
BIG = "bytes-1048583.bin"
OLD_DATE = "Sat, 12 Sep 2020 12:26:40 GMT"  # a day before the fixture's mtime
FUTURE_DATE = "Fri, 01 Jan 2100 00:00:00 GMT"
MIB = 1 << 20


class Fail(Exception):
    """An expectation is not met; the message says what was seen."""


# ------------------------------------------------------------------ fixture

class Fixture:
    """The docroot built by make_fixture.sh, as read from disk."""

    def __init__(self, root):
        self.root = root

    def path(self, name):
        return os.path.join(self.root, name)

    def body(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def part(self, name, first, last):
        """Bytes first..last of a file, without reading the rest."""
        with open(self.path(name), "rb") as f:
            f.seek(first)
            return f.read(last - first + 1)

    def size(self, name):
        return os.stat(self.path(name)).st_size

    def etag(self, name):
        st = os.stat(self.path(name))
        return '"%x-%x"' % (int(st.st_mtime), st.st_size)

    def last_modified(self, name):
        return http_date(os.stat(self.path(name)).st_mtime)


def http_date(t):
    return formatdate(int(t), usegmt=True)


def mime_of(name):
    base = name.rsplit("/", 1)[-1]
    ext = base.rsplit(".", 1)[1].lower() if "." in base else ""
    return MIME.get(ext, DEFAULT_MIME)


def error_page(status, token):
    title = "%d %s" % (status, REASONS[status])
    return ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n"
            "<center><h1>%s</h1></center>\r\n<hr><center>%s</center>\r\n"
            "</body>\r\n</html>\r\n" % (title, title, token)).encode()


# ------------------------------------------------------------------ requests

def request(line, *fields, host=True, body=b""):
    """A request head from its line and "Name: value" fields, CRLF-framed."""
    lines = [line] + ([HOST] if host else []) + list(fields)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get(target, *fields, **kw):
    return request("GET %s HTTP/1.1" % target, *fields, **kw)


def head(target, *fields, **kw):
    return request("HEAD %s HTTP/1.1" % target, *fields, **kw)


def pieces(data, size, pause):
    """data cut into size-byte pieces with a pause between them."""
    steps = []
    for i in range(0, len(data), size):
        steps += [data[i:i + size], pause]
    return steps[:-1]


def long_line(length):
    """A request for /hello.txt whose line is exactly length bytes (the
    query, which the server ignores, pads it)."""
    return get("/hello.txt?" + "q" * (length - len("GET /hello.txt? HTTP/1.1")))


def long_fields(length):
    """A request whose header section (after the request line's CRLF, up
    to and including the final empty line) is exactly length bytes."""
    fixed = len(HOST) + 2 + len("X-Pad: ") + 2 + 2
    return get("/hello.txt", "X-Pad: " + "p" * (length - fixed))


def many_fields(count):
    """A request with exactly count header fields, Host included."""
    return get("/hello.txt", *("X-F%d: %d" % (i, i) for i in range(count - 1)))


def request_methods(data):
    """The method of each complete request in a byte stream, framed as a
    client sees it, so that responses to HEAD are read without a body."""
    methods, pos = [], 0
    while True:
        while data.startswith(b"\n", pos) or data.startswith(b"\r\n", pos):
            pos += 1 if data[pos] == 0x0a else 2
        end = HEAD_END.search(data, pos)
        if not end:
            return methods
        head_bytes = data[pos:end.start()]
        methods.append(head_bytes.split(b" ", 1)[0].decode("latin-1"))
        cl = CONTENT_LENGTH.search(head_bytes)
        pos = end.end() + min(int(cl.group(1)) if cl else 0, len(data))


# ------------------------------------------------------------------ responses

@dataclass
class Response:
    status: int
    reason: str
    version: str
    headers: list  # [(name, value)] in order
    body: bytes = b""

    def get(self, name):
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return values[0] if values else None

    def brief(self):
        fields = " | ".join("%s: %s" % nv for nv in self.headers)
        return "%d %s [%s] body %d bytes %r" % (
            self.status, self.reason, fields, len(self.body), self.body[:60])


def parse_head(raw):
    lines = raw.decode("latin-1").split("\r\n")
    m = re.fullmatch(r"HTTP/(\d\.\d) (\d{3}) (.*)", lines[0])
    if not m:
        raise Fail("bad status line %r" % lines[0])
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise Fail("bad header line %r" % line)
        headers.append((name, value.strip(" \t")))
    return Response(int(m.group(2)), m.group(3), m.group(1), headers)


def transcript_bytes(raw_head, body):
    """A response as the transcript keeps it: Date fixed, big bodies hashed."""
    if len(body) > TRANSCRIPT_BODY_MAX:
        body = b"<%d bytes, sha256 %s>\n" % (
            len(body), hashlib.sha256(body).hexdigest().encode())
    return DATE_LINE.sub(DATE_PLACEHOLDER, raw_head) + body


class Conn:
    """A client connection that frames responses and records them."""

    def __init__(self, ctx, rcvbuf=None):
        self.ctx = ctx
        family = socket.AF_INET6 if ":" in ctx.addr[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        ctx.conns.append(self)
        self.buf = bytearray()
        self.eof = False
        self.sent_all = True
        self.record = bytearray()  # for the transcript
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(ctx.timeout)
        self.sock.connect(ctx.addr)

    def close(self):
        """Close; bytes left unframed still go to the transcript."""
        self.record += transcript_bytes(self.take(len(self.buf)), b"")
        self.sock.close()

    def send(self, steps):
        """Send the bytes items, sleep on the float ones; stop once the
        server closed (it may have answered early, e.g. 413)."""
        for step in steps:
            if isinstance(step, float):
                time.sleep(step)
                continue
            try:
                self.sock.sendall(step)
            except (BrokenPipeError, ConnectionResetError):
                self.sent_all = False
                return
            except socket.timeout:
                raise Fail("send blocked: the server does not read")

    def fill(self, deadline):
        """Receive more bytes into buf; False at end of stream."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(256 * 1024)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def take(self, n):
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_response(self, head_request=False):
        """One response, framed by the HEAD/1xx/204/304 rules, by
        Content-Length, or else by the end of the stream."""
        deadline = time.monotonic() + self.ctx.timeout
        try:
            while b"\r\n\r\n" not in self.buf:
                if not self.fill(deadline):
                    raise Fail("closed before a complete response" + (
                        ", got %r" % bytes(self.buf[:200]) if self.buf else ""))
            raw = self.take(self.buf.index(b"\r\n\r\n") + 4)
            resp = parse_head(raw)
            cl = resp.get("Content-Length")
            if head_request or resp.status in (204, 304) or resp.status < 200:
                length = 0
            elif cl is None:
                length = None
            elif cl.isdigit():
                length = int(cl)
            else:
                raise Fail("bad Content-Length %r" % cl)
            while length is None or len(self.buf) < length:
                if self.fill(deadline):
                    continue
                if length is not None:
                    raise Fail("closed after %d of %d body bytes: %s"
                               % (len(self.buf), length, resp.brief()))
                length = len(self.buf)
        except socket.timeout:
            raise Fail("no complete response within %gs, got %r"
                       % (self.ctx.timeout, bytes(self.buf[:200])))
        resp.body = self.take(length)
        self.record += transcript_bytes(raw, resp.body)
        return resp

    def wait_closed(self, timeout):
        """The server must close within timeout seconds, sending nothing."""
        deadline = time.monotonic() + timeout
        try:
            while self.fill(deadline):
                pass
        except socket.timeout:
            raise Fail("connection still open after %gs" % timeout)
        if self.buf:
            raise Fail("unexpected bytes after the last response: %r"
                       % bytes(self.buf[:200]))


# ------------------------------------------------------------------ checks

@dataclass
class Resp:
    """One expected response."""
    status: Union[int, tuple]  # or a tuple of acceptable statuses
    file: Optional[str] = None  # fixture file it carries (200/206/304/416)
    range: Optional[tuple] = None  # (first, last) of a 206
    ctype: Optional[str] = None  # Content-Type; default: from file's name
    headers: dict = field(default_factory=dict)  # name: value; None: absent
    body: Optional[bytes] = None  # the exact body
    like: Optional[int] = None  # a HEAD: headers of response #like, no body


def expect_header(problems, resp, name, want):
    """want: a value, a compiled regex, or None for "absent"."""
    got = resp.get(name)
    if want is None:
        if got is not None:
            problems.append("unexpected %s: %s" % (name, got))
    elif isinstance(want, re.Pattern):
        if got is None or not want.fullmatch(got):
            problems.append("%s %r, want /%s/" % (name, got, want.pattern))
    elif got != want:
        problems.append("%s %r, want %r" % (name, got, want))


def check_date(problems, resp):
    """Date is IMF-fixdate, its weekday right, and close to our clock."""
    date = resp.get("Date")
    if date is None or not IMF_DATE.fullmatch(date):
        problems.append("Date %r is not an IMF-fixdate" % date)
        return
    t = parsedate_to_datetime(date).timestamp()
    if http_date(t) != date:
        problems.append("Date %r has a wrong weekday" % date)
    if abs(t - time.time()) > DATE_SKEW_MAX:
        problems.append("Date %r is %ds off" % (date, t - time.time()))


def check_invariants(ctx, resp, head_request):
    """What every response of its status carries, whatever the request."""
    p = []
    if resp.version != "1.1":
        p.append("status line says HTTP/%s" % resp.version)
    if resp.reason != REASONS.get(resp.status):
        p.append("reason %r" % resp.reason)
    names = [n.lower() for n, _ in resp.headers]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        p.append("repeated headers %s" % ", ".join(dups))
    expect_header(p, resp, "Server", ctx.server_token)
    check_date(p, resp)
    expect_header(p, resp, "Connection", re.compile("keep-alive|close"))
    s = resp.status
    if s in (200, 206):
        expect_header(p, resp, "Content-Type", re.compile(".+"))
        expect_header(p, resp, "Content-Length", re.compile(r"\d+"))
        expect_header(p, resp, "Last-Modified", IMF_DATE)
        expect_header(p, resp, "ETag", ETAG)
        if s == 200:
            expect_header(p, resp, "Accept-Ranges", "bytes")
        if not head_request and resp.get("Content-Length") != str(len(resp.body)):
            p.append("Content-Length does not match the body")
    elif s == 304:
        expect_header(p, resp, "Content-Length", None)
        expect_header(p, resp, "ETag", ETAG)
        expect_header(p, resp, "Last-Modified", IMF_DATE)
    elif s in REASONS:
        page = error_page(s, ctx.server_token)
        expect_header(p, resp, "Content-Type", "text/html")
        expect_header(p, resp, "Content-Length", str(len(page)))
        if not head_request and resp.body != page:
            p.append("error page %r" % resp.body[:200])
    if s == 405:
        expect_header(p, resp, "Allow", "GET, HEAD")
    return p


def check_file(p, fx, resp, exp):
    """A 200/206/304/416 about exp.file matches the file on disk."""
    if resp.status in (200, 206, 304):
        expect_header(p, resp, "ETag", fx.etag(exp.file))
        expect_header(p, resp, "Last-Modified", fx.last_modified(exp.file))
    if resp.status == 416:
        expect_header(p, resp, "Content-Range", "bytes */%d" % fx.size(exp.file))
    if resp.status not in (200, 206):
        return
    size = fx.size(exp.file)
    first, last = exp.range or (0, size - 1)
    part = fx.part(exp.file, first, last) if size else b""
    expect_header(p, resp, "Content-Type", exp.ctype or mime_of(exp.file))
    expect_header(p, resp, "Content-Length", str(len(part)))
    expect_header(p, resp, "Content-Range", "bytes %d-%d/%d"
                  % (first, last, size) if resp.status == 206 else None)
    if exp.like is None and resp.body != part:
        p.append("body differs from %s%s: %r" % (
            exp.file, " %d-%d" % exp.range if exp.range else "", resp.body[:80]))


def check_expected(ctx, resp, exp, earlier):
    """A row's own expectations for one response."""
    statuses = exp.status if isinstance(exp.status, tuple) else (exp.status,)
    if resp.status not in statuses:
        return ["status %d, want %s" % (resp.status, "/".join(map(str, statuses)))]
    p = []
    if exp.file:
        check_file(p, ctx.fixture, resp, exp)
    for name, want in exp.headers.items():
        expect_header(p, resp, name, want)
    if exp.body is not None and resp.body != exp.body:
        p.append("body %r, want %r" % (resp.body[:80], exp.body[:80]))
    if exp.like is not None:
        p += same_headers(earlier[exp.like], resp)
    return p


def same_headers(get_resp, head_resp):
    """A HEAD response carries the GET's headers (Date aside), no body."""
    def fields(r):
        return [(n.lower(), v) for n, v in r.headers if n.lower() != "date"]
    if (get_resp.status, fields(get_resp)) != (head_resp.status, fields(head_resp)):
        return ["headers differ from the GET's %s" % get_resp.brief()]
    return []


# ------------------------------------------------------------------ cases

@dataclass
class Case:
    name: str
    desc: str
    send: Union[bytes, list] = b""  # bytes, or bytes items and float pauses
    expect: list = field(default_factory=list)  # a Resp per response
    close: Optional[bool] = None  # None: close iff the last status CLOSES
    run: Optional[Callable] = None  # a special case: run(ctx)
    timeouts: bool = False  # needs --with-timeouts
    skip_unless: Optional[str] = None  # a fixture file it needs (else skip)


def exchange(ctx, send, expect, close=None):
    """Send on a new connection, read and check one response per Resp,
    then check the connection is closed, or still usable."""
    steps = [send] if isinstance(send, bytes) else send
    methods = request_methods(b"".join(s for s in steps if isinstance(s, bytes)))
    if close is None:
        last = expect[-1].status
        close = (last[0] if isinstance(last, tuple) else last) in CLOSING
    conn = Conn(ctx)
    conn.send(steps)
    responses = []
    for i, exp in enumerate(expect):
        head_request = i < len(methods) and methods[i] == "HEAD"
        resp = conn.read_response(head_request)
        want_conn = "close" if close and i == len(expect) - 1 else "keep-alive"
        p = check_expected(ctx, resp, exp, responses)
        p += check_invariants(ctx, resp, head_request)
        if resp.get("Connection") != want_conn:
            p.append("Connection %r, want %r" % (resp.get("Connection"), want_conn))
        if b"root:" in resp.body:
            p.append("THE BODY LEAKS /etc/passwd")
        if p:
            raise Fail("response %d: %s; saw %s" % (i + 1, "; ".join(p), resp.brief()))
        responses.append(resp)
    if close:
        conn.wait_closed(ctx.timeout)
    else:
        probe(conn)
    conn.close()


def probe(conn):
    """The connection must still serve a request."""
    try:
        conn.sock.sendall(PROBE)
        resp = conn.read_response()
    except (Fail, OSError) as e:
        raise Fail("connection not usable after the responses (%s)" % e)
    if resp.status != 200 or resp.body != HELLO:
        raise Fail("the probe request got %s" % resp.brief())


def ok(target, file=None, **kw):
    """GET target serves file (default: the target itself)."""
    file = file or target[1:]
    return Case("get " + target, "GET serves " + file, get(target),
                [Resp(200, file, **kw)])


def status_case(name, desc, send, status, **kw):
    return Case(name, desc, send, [Resp(status, **kw)])


def cond(name, desc, fields, status, target="/hello.txt", file="hello.txt"):
    return Case("cond " + name, desc, get(target, *fields), [Resp(status, file)])


def rng(name, spec, status, first_last=None, file="bytes-1024.bin", extra=(),
        **kw):
    return Case("range " + name, "Range: %s on %s" % (spec, file),
                get("/" + file, "Range: " + spec, *extra),
                [Resp(status, file, range=first_last)], **kw)


def head_like_get(name, target, *fields, status=200, file=None, range=None):
    """GET then HEAD of the same target, pipelined: same headers, no body."""
    return Case("head " + name, "HEAD %s: the GET's headers, no body" % target,
                get(target, *fields) + head(target, *fields),
                [Resp(status, file, range), Resp(status, file, range, like=0)])


def basic_cases():
    sizes = [0, 1, 1023, 1024, 65536, 1048583]
    return [
        ok("/hello.txt"),
        ok("/", "index.html"),
        ok("/index.html"),
        *[ok("/bytes-%d.bin" % n) for n in sizes],
        head_like_get("hello", "/hello.txt", file="hello.txt"),
        head_like_get("big", "/" + BIG, file=BIG),
        head_like_get("index", "/", file="index.html"),
        head_like_get("404", "/missing", status=404),
        head_like_get("301", "/dir", status=301),
        head_like_get("range", "/hello.txt", "Range: bytes=0-4", status=206,
                      file="hello.txt", range=(0, 4)),
        head_like_get("416", "/hello.txt", "Range: bytes=13-", status=416,
                      file="hello.txt"),
        head_like_get("304", "/hello.txt", "If-None-Match: *", status=304,
                      file="hello.txt"),
        Case("head 400", "HEAD of a 400: headers only", head("/%zz"), [Resp(400)]),
        ok("/sub/deep/file.css"),
        ok("/a.js"),
        ok("/p.png"),
        ok("/x.svg"),
        ok("/j.jpg"),
        ok("/unknown.zzz"),
        ok("/UPPER.HTML"),
        ok("/with%20space.txt", "with space.txt"),
        ok("/utf8-%C3%A9.txt", "utf8-\u00e9.txt"),
        ok("/hello%2etxt", "hello.txt"),
        ok("/%68%65llo.txt", "hello.txt"),
        ok("/dir%2Findex.html", "dir/index.html"),
        ok("/hello.txt?x=1", "hello.txt"),
        ok("/hello.txt?", "hello.txt"),
        ok("/hello.txt?a=/../../etc/passwd", "hello.txt"),
        ok("/./hello.txt", "hello.txt"),
        ok("//hello.txt", "hello.txt"),
        ok("/dir/../hello.txt", "hello.txt"),
        ok("/dir/./index.html", "dir/index.html"),
        ok("/noindex/file.txt"),
        Case("absolute-form", "absolute-form target served like origin-form",
             get("http://example.com/hello.txt"), [Resp(200, "hello.txt")]),
        Case("leading CRLF", "empty lines before the request line are ignored",
             b"\r\n\r\n" + get("/hello.txt"), [Resp(200, "hello.txt")]),
        Case("leading LF", "bare-LF empty lines before the request line",
             b"\n\n" + get("/hello.txt"), [Resp(200, "hello.txt")]),
        Case("bare LF", "LF-only line endings are accepted",
             get("/hello.txt").replace(b"\r\n", b"\n"), [Resp(200, "hello.txt")]),
        Case("split request", "a request arriving in 7-byte pieces",
             pieces(get("/hello.txt", "Range: bytes=1-3"), 7, 0.02),
             [Resp(206, "hello.txt", range=(1, 3))]),
        Case("byte by byte", "a request arriving one byte at a time",
             pieces(get("/a.js"), 1, 0.005), [Resp(200, "a.js")]),
        Case("split at CRLF", "a pause between the CR and LF of the final line",
             [get("/hello.txt")[:-1], 0.2, b"\n"], [Resp(200, "hello.txt")]),
        Case("case-insensitive names", "header names in odd case",
             request("GET /hello.txt HTTP/1.1", "hOsT: x", "RANGE: bytes=0-1",
                     host=False),
             [Resp(206, "hello.txt", range=(0, 1))]),
        Case("obs-text value", "a header value with bytes over 0x7f",
             get("/hello.txt", "X-Name: caf\u00e9"), [Resp(200, "hello.txt")]),
    ]


def method_cases():
    not_allowed = [status_case("method " + m, m + " is not allowed",
                               request("%s /hello.txt HTTP/1.1" % m), 405)
                   for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS")]
    unknown = [("TRACE", "/hello.txt"), ("FOO", "/hello.txt"),
               ("get", "/hello.txt"), ("CONNECT", "example.com:443")]
    return not_allowed + [
        status_case("method " + m, "a well-formed method not implemented",
                    request("%s %s HTTP/1.1" % (m, target)), 501)
        for m, target in unknown]


def request_line_cases():
    bad = [
        ("missing version", b"GET /hello.txt\r\n\r\n"),
        ("method only", b"GET\r\n\r\n"),
        ("empty method", b" /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("two spaces", b"GET  /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("two spaces before version", b"GET /hello.txt  HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("trailing space", b"GET /hello.txt HTTP/1.1 \r\nHost: x\r\n\r\n"),
        ("tab separator", b"GET\t/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("control char in target", b"GET /hel\x01lo.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("NUL in target", b"GET /hel\x00lo.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("DEL in target", b"GET /hel\x7flo.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("relative target", b"GET hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("separator in method", b"G(ET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("extra token", b"GET /hello.txt HTTP/1.1 x\r\nHost: x\r\n\r\n"),
    ]
    versions = [("HTTP/2.0", 505), ("HTTP/0.9", 505), ("HTTP/1.2", 505),
                ("HTTP/3.0", 505), ("HTTP/1.11", 400), ("http/1.1", 400),
                ("HTTP/1", 400), ("HTTP/1.x", 400), ("HTTP/11.1", 400),
                ("HTTP/1.1x", 400), ("HTTX/1.1", 400)]
    return [status_case("line " + n, "malformed request line: " + n, data, 400)
            for n, data in bad] + [
        status_case("version " + v, "version %s gets %d" % (v, s),
                    request("GET /hello.txt " + v), s)
        for v, s in versions] + [
        status_case("no Host", "HTTP/1.1 requires Host",
                    request("GET /hello.txt HTTP/1.1", host=False), 400),
        Case("HTTP/1.0 no Host", "HTTP/1.0 needs no Host, and closes",
             request("GET /hello.txt HTTP/1.0", host=False),
             [Resp(200, "hello.txt")], close=True),
    ]


def connection_cases():
    padded = get("/hello.txt", "X-Pad: " + "p" * 200)
    return [
        Case("keep-alive default", "HTTP/1.1 keeps the connection open",
             get("/hello.txt"), [Resp(200, "hello.txt")]),
        Case("Connection: close", "the server answers and closes",
             get("/hello.txt", "Connection: close"), [Resp(200, "hello.txt")],
             close=True),
        Case("Connection: CLOSE", "connection options are case-insensitive",
             get("/hello.txt", "Connection: CLOSE"), [Resp(200, "hello.txt")],
             close=True),
        Case("1.0 closes", "HTTP/1.0 closes by default",
             request("GET /hello.txt HTTP/1.0"), [Resp(200, "hello.txt")],
             close=True),
        Case("1.0 keep-alive", "HTTP/1.0 asking for keep-alive",
             request("GET /hello.txt HTTP/1.0", "Connection: keep-alive"),
             [Resp(200, "hello.txt")]),
        Case("1.0 404 closes", "an HTTP/1.0 404 closes",
             request("GET /missing HTTP/1.0"), [Resp(404)], close=True),
        Case("1.0 keep-alive 404", "an HTTP/1.0 keep-alive 404 keeps it",
             request("GET /missing HTTP/1.0", "Connection: keep-alive"),
             [Resp(404)]),
        Case("pipelined 3", "three requests in one write, a HEAD in the middle",
             get("/hello.txt") + head("/bytes-1024.bin") + get("/"),
             [Resp(200, "hello.txt"), Resp(200, headers={"Content-Length": "1024"}),
              Resp(200, "index.html")]),
        Case("pipelined 100", "100 requests (25 KB) in one write",
             padded * 100, [Resp(200, "hello.txt")] * 100),
        Case("pipelined errors", "404, 405 keep the pipeline; the last closes",
             get("/missing") + request("DELETE /x HTTP/1.1")
             + get("/hello.txt", "Connection: close"),
             [Resp(404), Resp(405), Resp(200, "hello.txt")], close=True),
        Case("pipelined after 400", "nothing is answered after a 400",
             get("/hello.txt") + get("/%zz") + get("/hello.txt"),
             [Resp(200, "hello.txt"), Resp(400)]),
        Case("pipelined 1.0 keep-alive", "HTTP/1.0 keep-alive, then a 1.0 close",
             request("GET /hello.txt HTTP/1.0", "Connection: keep-alive")
             + request("GET /a.js HTTP/1.0"),
             [Resp(200, "hello.txt"), Resp(200, "a.js")], close=True),
        Case("half-close", "the client shuts down its side after the request",
             run=run_half_close),
        Case("half-close partial", "the client shuts down its side mid-request",
             run=run_half_close_partial),
    ]


def limit_cases():
    return [
        Case("line 8192", "a request line of 8192 bytes is served",
             long_line(8192), [Resp(200, "hello.txt")]),
        Case("line 8192 split", "... arriving in 1000-byte pieces",
             pieces(long_line(8192), 1000, 0.01), [Resp(200, "hello.txt")]),
        status_case("line 8193", "a request line over 8192 bytes",
                    long_line(8193), 414),
        status_case("line 8193 split", "... arriving in 1000-byte pieces",
                    pieces(long_line(8193), 1000, 0.01), 414),
        status_case("line 20000", "a request line far over the limit",
                    long_line(20000), 414),
        Case("fields 16384", "16384 bytes of header fields are served",
             long_fields(16384), [Resp(200, "hello.txt")]),
        Case("fields 16384 split", "... arriving in 1000-byte pieces",
             pieces(long_fields(16384), 1000, 0.01), [Resp(200, "hello.txt")]),
        status_case("fields 16385", "header fields over 16384 bytes",
                    long_fields(16385), 431),
        Case("fields 100", "100 header fields are served",
             many_fields(100), [Resp(200, "hello.txt")]),
        status_case("fields 101", "more than 100 header fields",
                    many_fields(101), 431),
        Case("POST body discarded", "a 10-byte body is skipped, the pipeline "
             "goes on",
             request("POST /hello.txt HTTP/1.1", "Content-Length: 10",
                     body=b"0123456789") + get("/hello.txt"),
             [Resp(405), Resp(200, "hello.txt")]),
        Case("POST body late", "the body arrives in pieces after pauses",
             [request("POST /hello.txt HTTP/1.1", "Content-Length: 10"), 0.2,
              b"01234", 0.2, b"56789" + get("/hello.txt")],
             [Resp(405), Resp(200, "hello.txt")]),
        Case("GET body discarded", "a GET with a body, then another GET",
             get("/hello.txt", "Content-Length: 5", body=b"abcde") + get("/a.js"),
             [Resp(200, "hello.txt"), Resp(200, "a.js")]),
        Case("1 MiB body", "a body of exactly 1 MiB is skipped",
             request("PUT /x HTTP/1.1", "Content-Length: %d" % MIB,
                     body=b"b" * MIB) + get("/hello.txt"),
             [Resp(405), Resp(200, "hello.txt")]),
        status_case("body too large", "Content-Length over 1 MiB",
                    request("POST /x HTTP/1.1", "Content-Length: %d" % (MIB + 1)),
                    413),
        status_case("body huge", "a Content-Length that overflows 64 bits",
                    request("POST /x HTTP/1.1", "Content-Length: " + "9" * 30),
                    (413, 400)),
        Case("same Content-Length twice", "two equal Content-Lengths are one",
             get("/hello.txt", "Content-Length: 3", "Content-Length: 3",
                 body=b"abc") + get("/a.js"),
             [Resp(200, "hello.txt"), Resp(200, "a.js")]),
        Case("Content-Length 0", "an empty body",
             get("/hello.txt", "Content-Length: 0"), [Resp(200, "hello.txt")]),
        Case("Transfer-Encoding", "a GET with Transfer-Encoding is served, "
             "then closed", get("/hello.txt", "Transfer-Encoding: chunked"),
             [Resp(200, "hello.txt")], close=True),
    ]


def header_cases():
    bad = [
        ("obs-fold", get("/hello.txt", "X-A: 1", " folded")),
        ("space before colon", get("/hello.txt", "X-A : 1")),
        ("no colon", get("/hello.txt", "X-A")),
        ("empty name", get("/hello.txt", ": 1")),
        ("Content-Length and Transfer-Encoding",
         get("/hello.txt", "Content-Length: 0", "Transfer-Encoding: chunked")),
        ("two Content-Lengths",
         get("/hello.txt", "Content-Length: 1", "Content-Length: 2") + b"xy"),
        ("Content-Length abc", get("/hello.txt", "Content-Length: abc")),
        ("Content-Length -1", get("/hello.txt", "Content-Length: -1")),
    ]
    return [status_case("header " + n, "malformed header: " + n, data, 400)
            for n, data in bad]


def path_cases():
    bad = ["/hello%00.txt", "/%zz", "/hello.txt%4", "/hello.txt%", "/%4g",
           "/../hello.txt", "/..", "/%2e%2e/x", "/%2E%2E/etc/passwd",
           "/dir/../../etc/passwd", "/dir/..%2f..%2fetc%2fpasswd",
           "/./../hello.txt", "/dir/./../../hello.txt"]
    outside = (403, 404)  # either, as long as nothing leaks
    return [status_case("path " + t, "a bad or escaping path", get(t), 400)
            for t in bad] + [
        Case("path link-in", "a symlink inside the root is followed",
             get("/link-in"), [Resp(200, "hello.txt", ctype=DEFAULT_MIME)]),
        status_case("path link-out", "a symlink leaving the root",
                    get("/link-out"), outside),
        status_case("path dirlink-out/passwd", "through a directory symlink "
                    "leaving the root", get("/dirlink-out/passwd"), outside),
        status_case("path dirlink-out/", "a directory symlink leaving the root",
                    get("/dirlink-out/"), outside),
        status_case("path fifo", "a FIFO is not served, and does not hang",
                    get("/fifo"), 404),
        Case("head fifo", "HEAD of a FIFO", head("/fifo"), [Resp(404)]),
        status_case("path missing", "no such file", get("/missing"), 404),
        status_case("path missing dir", "no such directory",
                    get("/nodir/x.txt"), 404),
        status_case("path file/", "a file asked for as a directory",
                    get("/hello.txt/"), 404),
        status_case("path index.html/", "a file asked for as a directory",
                    get("/dir/index.html/"), 404),
        status_case("path long name", "a 300-byte name (over NAME_MAX)",
                    get("/" + "n" * 300), 404),
        status_case("path long path", "a 6000-byte path (over PATH_MAX)",
                    get("/d" * 3000), 404),
        status_case("dir redirect", "a directory without its slash",
                    get("/dir"), 301, headers={"Location": "/dir/"}),
        status_case("dir redirect query", "the query survives the redirect",
                    get("/dir?a=b"), 301, headers={"Location": "/dir/?a=b"}),
        status_case("dir redirect query escapes", "... as it was sent",
                    get("/dir?a=%20&b=/"), 301,
                    headers={"Location": "/dir/?a=%20&b=/"}),
        status_case("dir redirect deep", "a nested directory",
                    get("/sub/deep"), 301, headers={"Location": "/sub/deep/"}),
        ok("/dir/", "dir/index.html"),
        ok("/dir/?x=1", "dir/index.html"),
        status_case("dir noindex", "a directory without index.html",
                    get("/noindex/"), 403),
        status_case("dir sub", "a directory with only a directory",
                    get("/sub/"), 403),
    ]


def hidden_cases(serve_hidden):
    """Names starting with '.' are 404 unless the server runs --serve-hidden."""
    rows = [("/.secret", ".secret"), ("/.hidden/file.txt", ".hidden/file.txt"),
            ("/%2esecret", ".secret"), ("/.hidden/", None)]
    return [Case("hidden " + target, "hidden %s, %s" % (
                     "file" if file else "directory without index",
                     "served" if serve_hidden else "not served"),
                 get(target),
                 [Resp((200 if file else 403) if serve_hidden else 404, file)])
            for target, file in rows]


def conditional_cases(fx):
    etag, lm = fx.etag("hello.txt"), fx.last_modified("hello.txt")
    return [
        cond("INM exact", "If-None-Match with the ETag",
             ["If-None-Match: " + etag], 304),
        cond("INM list", "the ETag in a list", ['If-None-Match: "a", ' + etag], 304),
        cond("INM *", "If-None-Match: *", ["If-None-Match: *"], 304),
        cond("INM weak", "the weak form of the ETag matches",
             ["If-None-Match: W/" + etag], 304),
        cond("INM other", "another ETag", ['If-None-Match: "a"'], 200),
        cond("INM over IMS", "If-None-Match decides, If-Modified-Since is ignored",
             ['If-None-Match: "a"', "If-Modified-Since: " + FUTURE_DATE], 200),
        cond("INM dir index", "the index's ETag on its directory",
             ["If-None-Match: " + fx.etag("dir/index.html")], 304,
             "/dir/", "dir/index.html"),
        cond("IMS equal", "If-Modified-Since = mtime",
             ["If-Modified-Since: " + lm], 304),
        cond("IMS future", "If-Modified-Since after mtime",
             ["If-Modified-Since: " + FUTURE_DATE], 304),
        cond("IMS older", "If-Modified-Since before mtime",
             ["If-Modified-Since: " + OLD_DATE], 200),
        cond("IMS invalid", "an invalid date is ignored",
             ["If-Modified-Since: yesterday"], 200),
        cond("IM other", "If-Match with another ETag", ['If-Match: "a"'], 412),
        cond("IM exact", "If-Match with the ETag", ["If-Match: " + etag], 200),
        cond("IM *", "If-Match: *", ["If-Match: *"], 200),
        cond("IUS older", "If-Unmodified-Since before mtime",
             ["If-Unmodified-Since: " + OLD_DATE], 412),
        cond("IUS equal", "If-Unmodified-Since = mtime",
             ["If-Unmodified-Since: " + lm], 200),
        rng("INM before Range", "bytes=0-4", 304, file="hello.txt",
            extra=["If-None-Match: " + etag]),
    ]


def range_cases(fx):
    etag, lm = fx.etag("bytes-1024.bin"), fx.last_modified("bytes-1024.bin")
    return [
        rng("0-4", "bytes=0-4", 206, (0, 4), "hello.txt"),
        rng("5-", "bytes=5-", 206, (5, 1023)),
        rng("-3", "bytes=-3", 206, (1021, 1023)),
        rng("0-0", "bytes=0-0", 206, (0, 0)),
        rng("last byte", "bytes=1023-1023", 206, (1023, 1023)),
        rng("clamped end", "bytes=1000-5000", 206, (1000, 1023)),
        rng("long suffix", "bytes=-5000", 206, (0, 1023)),
        rng("big tail", "bytes=1048576-", 206, (1048576, 1048582), BIG),
        rng("big middle", "bytes=65530-131071", 206, (65530, 131071), BIG),
        rng("SIZE-", "bytes=1024-", 416),
        rng("-0", "bytes=-0", 416),
        rng("empty file", "bytes=0-", 416, file="bytes-0.bin"),
        rng("multiple", "bytes=0-1,3-4", 200),
        rng("abc", "bytes=abc", 200),
        rng("5-2", "bytes=5-2", 200),
        rng("items", "items=0-1", 200),
        rng("If-Range ETag", "bytes=0-4", 206, (0, 4), extra=["If-Range: " + etag]),
        rng("If-Range other", "bytes=0-4", 200, extra=['If-Range: "a"']),
        rng("If-Range date", "bytes=0-4", 206, (0, 4), extra=["If-Range: " + lm]),
        rng("If-Range old date", "bytes=0-4", 200, extra=["If-Range: " + OLD_DATE]),
        Case("range 416 keeps alive", "a 416 keeps the connection",
             get("/hello.txt", "Range: bytes=99-") + get("/a.js"),
             [Resp(416, "hello.txt"), Resp(200, "a.js")]),
    ]


# ------------------------------------------------------------------ special

def run_half_close(ctx):
    """A request followed by the client's FIN is still answered, and the
    connection closed right after it, not when keep-alive times out (the
    kernel worker once took its short read for an empty socket and missed
    the FIN queued behind the request; whether the FIN is queued before the
    read is a race, so three tries)."""
    for _ in range(3):
        conn = Conn(ctx)
        conn.send([get("/hello.txt")])
        conn.sock.shutdown(socket.SHUT_WR)
        resp = conn.read_response()
        if resp.status != 200 or resp.body != HELLO:
            raise Fail("got %s" % resp.brief())
        expect_closed_within(conn, time.monotonic(), 0, 1.0)


def run_half_close_partial(ctx):
    """Half a request line, then the client's FIN: closed at once, not when
    the header timeout fires (three tries, as above)."""
    for _ in range(3):
        conn = Conn(ctx)
        conn.send([b"GET /hello.t"])
        conn.sock.shutdown(socket.SHUT_WR)
        expect_closed_within(conn, time.monotonic(), 0, 1.0)


def served_now(ctx, what):
    """Another client is served at once while something else goes on."""
    start = time.monotonic()
    exchange(ctx, get("/hello.txt"), [Resp(200, "hello.txt")])
    if time.monotonic() - start > 1.0:
        raise Fail("another client waited %.1fs while %s"
                   % (time.monotonic() - start, what))


def run_many_connections(ctx):
    """500 idle connections do not keep a new client from being served."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1024), hard))
    idle = []
    try:
        for _ in range(500):
            idle.append(socket.create_connection(ctx.addr, timeout=ctx.timeout))
        served_now(ctx, "500 connections are idle")
    finally:
        for s in idle:
            s.close()


def run_slow_reader(ctx):
    """A client that does not read 8 MiB of responses holds up nobody, and
    then gets all of it."""
    conn = Conn(ctx, rcvbuf=4096)
    conn.send([get("/" + BIG) * 8])
    time.sleep(0.5)
    for _ in range(4):
        served_now(ctx, "a client does not read its responses")
    want = ctx.fixture.body(BIG)
    for i in range(8):
        resp = conn.read_response()
        if resp.status != 200 or resp.body != want:
            raise Fail("response %d: %s" % (i + 1, resp.brief()))


def expect_closed_within(conn, since, low, high):
    """conn is closed between low and high seconds (times --timeout-scale)
    after since; what it got before is recorded, not judged."""
    low, high = low * TIMEOUT_SCALE, high * TIMEOUT_SCALE
    try:
        conn.wait_closed(high + 2 - (time.monotonic() - since))
    except Fail as e:
        if "still open" in str(e):
            raise
    took = time.monotonic() - since
    if not low <= took <= high:
        raise Fail("closed after %.1fs, want %g..%gs" % (took, low, high))


def run_header_timeout(ctx):
    """Half a request line, then silence: closed after ~2 s."""
    conn = Conn(ctx)
    conn.send([b"GET /hello.t"])
    start = time.monotonic()
    served_now(ctx, "a client stalls in its request line")
    expect_closed_within(conn, start, 1.5, 4.0)


def run_header_trickle(ctx):
    """A byte every 0.25 s: the header timeout is a deadline for the whole
    head, not an idle timer (slowloris)."""
    conn = Conn(ctx)
    start = time.monotonic()
    conn.send([b"GET /"])
    served_now(ctx, "a client trickles its request")
    while conn.sent_all and time.monotonic() - start < 6 * TIMEOUT_SCALE:
        conn.send([0.25, b"a"])
    expect_closed_within(conn, start, 1.5, 4.0)


def run_second_head_timeout(ctx):
    """After a response, half a request and silence: closed within ~2-3 s."""
    conn = Conn(ctx)
    conn.send([get("/hello.txt")])
    conn.read_response()
    conn.send([b"GET /a"])
    start = time.monotonic()
    expect_closed_within(conn, start, 1.5, 4.0)


def run_keepalive_timeout(ctx):
    """An idle keep-alive connection is closed after ~3 s."""
    conn = Conn(ctx)
    conn.send([get("/hello.txt")])
    resp = conn.read_response()
    if resp.status != 200:
        raise Fail("the first request got %s" % resp.brief())
    start = time.monotonic()
    served_now(ctx, "a keep-alive connection idles")
    expect_closed_within(conn, start, 2.5, 5.0)


def special_cases():
    return [
        Case("many connections", "500 idle connections, then one more is served",
             run=run_many_connections),
        Case("slow reader", "a client not reading 8 MiB blocks nobody",
             run=run_slow_reader),
        Case("timeout header", "a stalled request head is closed after ~2 s",
             run=run_header_timeout, timeouts=True),
        Case("timeout header trickle", "a trickled request head is closed after "
             "~2 s", run=run_header_trickle, timeouts=True),
        Case("timeout second head", "a stalled second request is closed",
             run=run_second_head_timeout, timeouts=True),
        Case("timeout keep-alive", "an idle keep-alive connection is closed "
             "after ~3 s", run=run_keepalive_timeout, timeouts=True),
    ]


def all_cases(fx, serve_hidden):
    """Every case; the second set holds the names of the adversarial ones."""
    # adversarial.py imports this module by name, also when it is __main__
    sys.modules.setdefault("conformance", sys.modules[__name__])
    import adversarial
    adv = adversarial.cases(fx)
    return (basic_cases() + method_cases() + request_line_cases()
            + connection_cases() + limit_cases() + header_cases() + path_cases()
            + hidden_cases(serve_hidden) + conditional_cases(fx) + range_cases(fx)
            + special_cases() + adv), {c.name for c in adv}


# ------------------------------------------------------------------ main

class Context:
    def __init__(self, args):
        host, _, port = args.addr.rpartition(":")
        self.addr = (host.strip("[]"), int(port))
        self.fixture = Fixture(args.docroot)
        self.timeout = args.timeout
        self.server_token = args.server_token
        self.conns = []  # the current case's connections


def run_case(ctx, case):
    """Run one case; returns None, or why it failed."""
    ctx.conns = []
    try:
        if case.run:
            case.run(ctx)
        else:
            exchange(ctx, case.send, case.expect, case.close)
        return None
    except Fail as e:
        return str(e)
    except OSError as e:
        return "socket error: %s" % e
    except Exception as e:  # a bug of the suite: report it, go on
        return "internal error: %r" % e
    finally:
        for conn in ctx.conns:
            conn.close()


def transcript_entry(ctx, case):
    out = bytearray(b"=== %s\n" % case.name.encode())
    for i, conn in enumerate(ctx.conns):
        if conn.record:
            out += b"--- connection %d\n%s\n" % (i + 1, conn.record)
    return bytes(out)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    ap.add_argument("--addr", required=True, help="HOST:PORT of the server")
    ap.add_argument("--docroot", required=True, help="the fixture it serves")
    ap.add_argument("--transcript", help="write the normalised responses here")
    ap.add_argument("--only", metavar="REGEX", help="run the matching cases")
    ap.add_argument("--with-timeouts", action="store_true",
                    help="run the timeout cases too (the server runs with "
                    "--header-timeout 2 --keepalive-timeout 3, times "
                    "--timeout-scale)")
    ap.add_argument("--timeout-scale", type=int, default=1, metavar="N",
                    help="the server's timeouts are N times the above, for a "
                    "slow machine (a debug kernel); the timeout cases expect "
                    "them so (default 1)")
    ap.add_argument("--serve-hidden", action="store_true",
                    help="the server runs with --serve-hidden")
    ap.add_argument("--timeout", type=float, default=5.0,
                    help="seconds to wait for a response (default 5)")
    ap.add_argument("--server-token", default="kserver",
                    help="the Server header and error-page signature")
    ap.add_argument("--list", action="store_true", help="list the cases")
    return ap.parse_args()


def main():
    global TIMEOUT_SCALE
    args = parse_args()
    if args.timeout_scale < 1:
        sys.exit("--timeout-scale wants a whole number from 1")
    TIMEOUT_SCALE = args.timeout_scale
    ctx = Context(args)
    if not os.path.isfile(ctx.fixture.path("hello.txt")):
        sys.exit("%s is not a make_fixture.sh docroot" % args.docroot)
    cases, adversarial = all_cases(ctx.fixture, args.serve_hidden)
    assert len({c.name for c in cases}) == len(cases), "duplicate case names"
    if args.only:
        cases = [c for c in cases if re.search(args.only, c.name)]
    if args.list:
        for c in cases:
            print("%-36s %s" % (c.name, c.desc))
        return 0
    passed = failed = skipped = tried = 0
    transcript = []
    for case in cases:
        if case.timeouts and not args.with_timeouts:
            print("skip %s: needs --with-timeouts" % case.name)
            skipped += 1
            continue
        if case.skip_unless and not os.path.lexists(
                ctx.fixture.path(case.skip_unless)):
            print("skip %s: the fixture has no %s" % (case.name,
                                                      case.skip_unless))
            skipped += 1
            continue
        tried += case.name in adversarial
        why = run_case(ctx, case)
        transcript.append(transcript_entry(ctx, case))
        if why:
            print("FAIL %s: %s" % (case.name, why))
            failed += 1
        else:
            print("ok %s" % case.name)
            passed += 1
        sys.stdout.flush()
    if args.transcript:
        with open(args.transcript, "wb") as f:
            f.writelines(transcript)
    if any(c.name in adversarial for c in cases):
        # collected by make stress into tests/RELIABILITY.md
        print("figure: adversarial_inputs %d" % tried)
    print("%d passed, %d failed" % (passed, failed)
          + (", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
