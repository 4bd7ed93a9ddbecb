# SPDX-License-Identifier: GPL-2.0
"""
adversarial.py - hostile and odd inputs for conformance.py (stdlib only).

The rows are ordinary conformance.py cases (named "adv CATEGORY ..."), so
they run in the same suite, land in the same transcript, and the guest's
byte-for-byte user/supervisor comparison covers them. What conformance.py
already checks is not repeated here.

The expected answers follow RFC 9110/9112 and, where the RFCs leave a
choice, nginx. Deliberate differences from nginx, each allowed by the RFC:
  - an unknown method is 501 (nginx: 405); "OPTIONS *" is 405 (nginx: 400)
  - multiple ranges are ignored: 200 (nginx: multipart 206)
  - more than 100 header fields are 431 (nginx has no count limit)
  - Transfer-Encoding with chunked not last is 400 (RFC 9112 6.3 MUST;
    nginx: 501), a '#' in the target is 400 (RFC 9112 3.2; nginx drops
    the fragment)
  - chunked bodies are not decoded: the request is answered and the
    connection closed, so nothing inside the body is ever read as a request
Aborted connections are made with raw sockets and leave nothing in the
transcript (what arrives before an abort depends on timing); the request
that follows each abort is checked and recorded.
"""

import os
import socket
import struct
import time

import conformance as cf
from conformance import Case, Fail, Resp, get, head, request, status_case

HUGE = "huge-5g.bin"
HUGE_SIZE = 5 << 30
GIB4 = 4 << 30


def adv(category, name, desc, send, expect, **kw):
    return Case("adv %s %s" % (category, name), desc, send, expect, **kw)


def st(category, name, desc, send, status, **kw):
    return status_case("adv %s %s" % (category, name), desc, send, status, **kw)


def closing(line):
    """A request ending in Connection: close, so a raw reader sees EOF."""
    return request(line, "Connection: close")


# ------------------------------------------------------------ request line

def line_cases():
    hello = Resp(200, "hello.txt")
    return [
        Case("adv line empty connection", "connect and close, connect and "
             "reset, then a normal request", run=run_empty_connection),
        Case("adv line only CRLFs then FIN", "empty lines, then the client's "
             "FIN: closed without an answer", run=run_only_crlfs),
        adv("line", "1000 leading CRLFs", "2000 bytes of empty lines first",
            b"\r\n" * 1000 + get("/hello.txt"), [hello]),
        st("line", "leading CRLFs over the limit", "8200 bytes of empty "
           "lines share the request line's budget",
           b"\r\n" * 4100 + get("/hello.txt"), 414),
        st("line", "lone CR first", "a bare CR before the request line "
           "(RFC 9112 2.2: invalid)", b"\r" + get("/hello.txt"), 400),
        st("line", "lone CR in line", "a bare CR inside the request line",
           b"GET /hello.txt\rHTTP/1.1\r\nHost: x\r\n\r\n", 400),
        st("line", "CR before CRLF", "CR CR LF ends the request line",
           b"GET /hello.txt HTTP/1.1\r\r\nHost: x\r\n\r\n", 400),
        st("line", "HTTP/2 preface", "the h2 connection preface on HTTP/1",
           b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        st("line", "HTTP/1.10", "a two-digit minor version",
           request("GET /hello.txt HTTP/1.10"), 400),
        st("line", "HTTP/01.1", "a leading zero in the major version",
           request("GET /hello.txt HTTP/01.1"), 400),
        st("line", "lowercase head", "methods are case-sensitive: 501",
           request("head /hello.txt HTTP/1.1"), 501),
        st("line", "method 1000 bytes", "a 1000-byte unknown method",
           request("M" * 1000 + " /hello.txt HTTP/1.1"), 501),
        st("line", "method over the line limit", "an 8200-byte method",
           request("M" * 8200 + " /hello.txt HTTP/1.1"), 414),
        st("line", "NUL in method", "a NUL inside the method",
           b"GE\x00T /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        st("line", "ESC in target", "an escape byte in the target",
           b"GET /hello\x1b[0m.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        st("line", "NUL in version", "a NUL inside the version",
           b"GET /hello.txt HTTP/1.\x001\r\nHost: x\r\n\r\n", 400),
        st("line", "NUL after version", "a NUL before the CRLF",
           b"GET /hello.txt HTTP/1.1\x00\r\nHost: x\r\n\r\n", 400),
        st("line", "fragment", "a '#' in the target (RFC 9112 3.2)",
           get("/hello.txt#top"), 400),
        st("line", "fragment in query", "a '#' after the query",
           get("/hello.txt?a#b"), 400),
        adv("line", "raw UTF-8 target", "unencoded UTF-8 in the path is "
            "served", b"GET /utf8-\xc3\xa9.txt HTTP/1.1\r\nHost: x\r\n\r\n",
            [Resp(200, "utf8-\u00e9.txt")]),
        adv("line", "mixed line ends", "CRLF and bare LF mixed",
            b"GET /hello.txt HTTP/1.1\nHost: x\r\nX-A: 1\n\r\n", [hello]),
    ]


# ------------------------------------------------------------ header fields

def header_cases():
    hello = Resp(200, "hello.txt")
    bad = [
        ("NUL in value", b"X-A: a\x00b"),
        ("NUL in name", b"X-\x00A: 1"),
        ("CTL in value", b"X-A: a\x01b"),
        ("DEL in value", b"X-A: a\x7fb"),
        ("VT in value", b"X-A: \x0bb"),
        ("lone CR in value", b"X-A: a\rb"),
        ("lone CR in name", b"X-A\r: 1"),
        ("obs-text in name", b"X-\xc3\xa9: 1"),
        ("tab before colon", b"X-A\t: 1"),
        ("Host space before colon", b"Host : y"),
        ("Transfer-Encoding space before colon",
         b"Transfer-Encoding : chunked"),
        ("Content-Length space before colon", b"Content-Length : 5"),
        ("obs-fold of Host", b"X-A: 1\r\n\thost: y"),
        ("only a colon", b":"),
        ("line of spaces", b"   "),
        ("Host twice", b"Host: y"),
    ]
    rows = [st("header", n, "malformed field: " + n,
               b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n" + f + b"\r\n\r\n", 400)
            for n, f in bad]
    hosts_bad = ["a b", "u@h", "h:8x", "h:1:2", "[::1", "%zz", "h/..",
                 "caf\u00e9"]
    rows += [st("header", "Host " + h, "an invalid Host (RFC 9112 3.2: 400)",
                request("GET /hello.txt HTTP/1.1", "Host: " + h, host=False),
                400) for h in hosts_bad]
    hosts_ok = ["[::1]:8080", "127.0.0.1:80", "a-b_c~d.example", "h:",
                "xn--caf-dma.test", ""]
    rows += [adv("header", "Host %r" % h, "a valid Host value",
                 request("GET /hello.txt HTTP/1.1", "Host: " + h, host=False),
                 [hello]) for h in hosts_ok]
    rows += [
        adv("header", "empty value", "a field with an empty value",
            get("/hello.txt", "X-Empty:"), [hello]),
        adv("header", "value of blanks", "a value of spaces and tabs",
            get("/hello.txt", "X-Blank: \t \t"), [hello]),
        adv("header", "name 8000 bytes", "an 8000-byte field name is "
            "ignored", get("/hello.txt", "X" * 8000 + ": 1"), [hello]),
        st("header", "name over the limit", "a 16400-byte field name",
           get("/hello.txt", "X" * 16400 + ": 1"), 431),
        st("header", "1000 tiny fields", "1000 fields of 3 bytes (limit 100)",
           get("/hello.txt", *(["a:1"] * 999)), 431),
        adv("header", "100 tiny fields", "exactly 100 fields of 3 bytes",
            get("/hello.txt", *(["a:1"] * 99)), [hello]),
        adv("header", "Connection: close, keep-alive", "close wins",
            get("/hello.txt", "Connection: keep-alive, close"), [hello],
            close=True),
        adv("header", "Connection: close on line 2", "a second Connection "
            "field", get("/hello.txt", "Connection: keep-alive",
                         "Connection: close"), [hello], close=True),
    ]
    return rows


# ------------------------------------------------------------ paths

def path_cases():
    bad = ["/dir/%2e%2e/%2e%2e/etc/passwd", "/%2f%2e%2e%2fetc%2fpasswd",
           "/..%00", "/x/../../", "/../", "/%2e%2E/", "/dir/%2E%2E%2F..%2F",
           "/%%32%65", "/.%2e/hello.txt", "/%2e./hello.txt"]
    missing = ["/dir%5c..%5chello.txt", "/..%5c..%5cetc%5cpasswd",
               "/..\\..\\etc\\passwd", "/%252e%252e/hello.txt",
               "/hello%252etxt", "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
               "/%c0%af", "/%e0%80%ae%e0%80%ae/hello.txt",
               "/hello.txt.", "/hello.txt..", "/dir/...", "/hello.txt%3fx",
               "/hello.txt%23x", "/dir%3f/", "/hello.txt/.", "/link-in/",
               "/.%73ecret", "/dir/../.secret", "//h/hello.txt",
               "/hello.txt%20", "/%20hello.txt", "/hello.txt;x"]
    served = [("/dir/%2e/index.html", "dir/index.html"),
              ("///hello.txt", "hello.txt"),
              ("/dir//index.html", "dir/index.html"),
              ("/dir/./././index.html", "dir/index.html"),
              ("/dir/.", "dir/index.html"),
              ("/dir/..", "index.html"),
              ("/hello.txt/..", "index.html"),
              ("/%2fhello.txt", "hello.txt"),
              ("/dirlink-out/../hello.txt", "hello.txt"),
              ("/hello.txt?%zz", "hello.txt"),
              ("/hello.txt?#", None)]
    rows = [st("path", t, "an escaping or undecodable path", get(t), 400)
            for t in bad]
    rows += [st("path", t, "decoded, but no such file", get(t), 404)
             for t in missing]
    rows += [adv("path", t, "normalised to " + f, get(t), [Resp(200, f)])
             for t, f in served if f]
    rows += [
        st("path", "/hello.txt?#", "a '#' even in the query", get("/hello.txt?#"),
           400),
        st("path", "/link-out%00", "NUL after a symlink name",
           get("/link-out%00"), 400),
    ]
    return rows


def form_cases():
    idx, hello = Resp(200, "index.html"), Resp(200, "hello.txt")
    ok = [("http://h", idx), ("HTTP://H/hello.txt", hello),
          ("https://h/hello.txt", hello), ("http://h:8080/hello.txt", hello),
          ("http://[::1]/hello.txt", hello), ("http://h?x=1", idx),
          ("http://h/dir/../hello.txt", hello)]
    bad = ["http://u@h/hello.txt", "http://u:p@h/hello.txt", "http:///hello.txt",
           "http://h/../etc/passwd", "http://h/%2e%2e/etc/passwd",
           "ftp://h/hello.txt", "http:/hello.txt", "h:80", "hello.txt",
           "http://%zz/hello.txt", "http://h@/hello.txt"]
    rows = [adv("form", t, "absolute-form", get(t), [r]) for t, r in ok]
    rows += [st("form", t, "a bad absolute or authority form", get(t), 400)
             for t in bad]
    rows += [
        adv("form", "absolute-form beats Host", "the target's authority, "
            "whatever Host says", request("GET http://a/hello.txt HTTP/1.1",
                                         "Host: b", host=False), [hello]),
        st("form", "OPTIONS *", "asterisk-form: no resource to allow",
           request("OPTIONS * HTTP/1.1"), 405),
        adv("form", "OPTIONS * 1.0", "... in HTTP/1.0, then closed",
            request("OPTIONS * HTTP/1.0"), [Resp(405)], close=True),
        st("form", "GET *", "asterisk-form with GET", get("*"), 400),
        st("form", "HEAD *", "asterisk-form with HEAD", head("*"), 400),
        st("form", "TRACE *", "asterisk-form with TRACE",
           request("TRACE * HTTP/1.1"), 501),
        st("form", "CONNECT origin", "CONNECT with an origin-form target",
           request("CONNECT /hello.txt HTTP/1.1"), 501),
        adv("form", "TRACE with body", "TRACE and its body, then a GET",
            request("TRACE /hello.txt HTTP/1.1", "Content-Length: 4",
                    "Max-Forwards: 0", body=b"ping") + get("/hello.txt"),
            [Resp(501), hello]),
    ]
    return rows


# ------------------------------------------------------------ bodies

def body_cases():
    hello = Resp(200, "hello.txt")
    smuggled = get("/missing")
    cl_bad = ["+5", "-0", "5, 5", "1 0", "", "1e3", "5;x", "\xb2"]
    rows = [st("body", "Content-Length %r" % v, "an invalid Content-Length",
               get("/hello.txt", "Content-Length: " + v) + b"abcde", 400)
            for v in cl_bad]
    te_400 = ["gzip", "identity", "chunked, gzip", "chunked, chunked",
              "xchunked", "chunked x", ""]
    rows += [st("body", "Transfer-Encoding %r" % v, "chunked is not the "
                "last coding once: 400 (RFC 9112 6.3)",
                get("/hello.txt", "Transfer-Encoding: " + v) + smuggled, 400)
             for v in te_400]
    rows += [
        adv("body", "Transfer-Encoding gzip, chunked", "an unknown coding: "
            "501, closed", get("/hello.txt", "Transfer-Encoding: gzip, "
                               "chunked") + smuggled, [Resp(501)], close=True),
        adv("body", "Transfer-Encoding on two lines", "gzip, then chunked "
            "on another line: 501", get("/hello.txt", "Transfer-Encoding: "
                                        "gzip", "Transfer-Encoding: chunked"),
            [Resp(501)], close=True),
        st("body", "Transfer-Encoding chunked twice", "chunked on two lines",
           get("/hello.txt", "Transfer-Encoding: chunked",
               "Transfer-Encoding: chunked"), 400),
        st("body", "Transfer-Encoding in HTTP/1.0", "RFC 9112 6.1: faulty "
           "framing", request("GET /hello.txt HTTP/1.0",
                              "Transfer-Encoding: chunked"), 400),
        st("body", "Transfer-Encoding then Content-Length", "TE first, CL "
           "second, a request hidden behind",
           get("/hello.txt", "Transfer-Encoding: chunked",
               "Content-Length: 37") + b"0\r\n\r\n" + smuggled, 400),
        adv("body", "chunked GET hides a request", "a chunked body holding "
            "a request: answered once, then closed",
            get("/hello.txt", "Transfer-Encoding: Chunked")
            + b"25\r\n" + smuggled[:37] + b"\r\n0\r\n\r\n" + smuggled,
            [hello], close=True),
        adv("body", "POST body holds a request", "a body is never parsed "
            "as a request", request("POST /hello.txt HTTP/1.1",
                                    "Content-Length: %d" % len(smuggled),
                                    body=smuggled) + get("/hello.txt"),
            [Resp(405), hello]),
        adv("body", "body longer than Content-Length", "the rest is the "
            "next request", get("/hello.txt", "Content-Length: 3",
                                body=b"abc") + smuggled,
            [hello, Resp(404)]),
        adv("body", "Content-Length leading zeros", "007 is 7",
            get("/hello.txt", "Content-Length: 007", body=b"1234567")
            + get("/a.js"), [hello, Resp(200, "a.js")]),
        adv("body", "Content-Length with OWS", "blanks around the value",
            get("/hello.txt", "Content-Length: \t 5 \t", body=b"12345")
            + get("/a.js"), [hello, Resp(200, "a.js")]),
        st("body", "Content-Length 2^64", "a value just over 64 bits",
           request("POST /x HTTP/1.1", "Content-Length: 18446744073709551616"),
           413),
        adv("body", "HEAD with a body", "a HEAD's body is skipped too",
            head("/hello.txt", "Content-Length: 4", body=b"abcd")
            + get("/a.js"), [Resp(200, headers={"Content-Length": "13"}),
                             Resp(200, "a.js")]),
        adv("body", "Expect 100-continue, body held", "no 100 Continue: "
            "the final answer at once, then closed",
            request("POST /hello.txt HTTP/1.1", "Content-Length: 5",
                    "Expect: 100-continue"), [Resp(405)], close=True),
        adv("body", "Expect 100-continue GET, body held", "a GET announcing "
            "a body it holds back: 200, closed",
            get("/hello.txt", "Content-Length: 5", "Expect: 100-continue"),
            [hello], close=True),
        adv("body", "Expect 100-continue with the body", "the body came "
            "along: the connection stays",
            request("POST /hello.txt HTTP/1.1", "Content-Length: 5",
                    "Expect: 100-continue", body=b"12345") + get("/hello.txt"),
            [Resp(405), hello]),
        adv("body", "Expect 100-continue, no body", "nothing to wait for",
            get("/hello.txt", "Expect: 100-continue"), [hello]),
        adv("body", "Expect unknown", "an unknown expectation is ignored",
            get("/hello.txt", "Expect: teapot"), [hello]),
    ]
    return rows


# ------------------------------------------------------------ ranges

def range_cases():
    r = cf.rng
    many = ",".join("%d-%d" % (i, i) for i in range(500))
    big = "9" * 25
    return [
        r("adv overlapping", "bytes=0-5,3-8", 200),
        r("adv suffix and range", "bytes=0-0,-1", 200),
        r("adv 500 ranges", "bytes=" + many, 200),
        r("adv huge last", "bytes=0-" + big, 206, (0, 1023)),
        r("adv huge first", "bytes=%s-" % big, 416),
        r("adv huge suffix", "bytes=-" + big, 206, (0, 1023)),
        r("adv 2^64-1", "bytes=18446744073709551615-18446744073709551615", 416),
        r("adv first past 2^64", "bytes=18446744073709551616-1", 200),
        r("adv suffix -00", "bytes=-00", 416),
        r("adv suffix on empty", "bytes=-1", 416, file="bytes-0.bin"),
        r("adv one byte file", "bytes=0-0", 206, (0, 0), file="bytes-1.bin"),
        r("adv unit case", "Bytes=2-3", 206, (2, 3)),
        r("adv blank after =", "bytes= 0-4", 206, (0, 4)),
        r("adv trailing comma", "bytes=0-4,", 206, (0, 4)),
        r("adv empty elements", "bytes=, ,1-2 ,\t", 206, (1, 2)),
        r("adv blank inside", "bytes=0 - 4", 200),
        r("adv only commas", "bytes=,,", 200),
        r("adv no unit", "=0-4", 200),
        r("adv sign", "bytes=+0-4", 200),
        r("adv hex", "bytes=0x0-4", 200),
        r("adv If-Range weak", "bytes=0-4", 200,
          extra=['If-Range: W/"5f5e1000-400"']),
        Case("range adv on 404", "Range on a missing file is ignored",
             get("/missing", "Range: bytes=0-1"), [Resp(404)]),
        Case("range adv on redirect", "Range on a directory redirect",
             get("/dir", "Range: bytes=0-1"), [Resp(301)]),
    ]


# ------------------------------------------------------------ conditionals

def cond_cases(fx):
    etag, lm = fx.etag("hello.txt"), fx.last_modified("hello.txt")
    c = cf.cond
    return [
        c("adv IMS day 32", "an impossible date is ignored",
          ["If-Modified-Since: Sat, 32 Sep 2020 12:26:40 GMT"], 200),
        c("adv IMS hour 25", "an impossible time is ignored",
          ["If-Modified-Since: Sun, 13 Sep 2020 25:00:00 GMT"], 200),
        c("adv IMS trailing junk", "a date with junk after it is ignored",
          ["If-Modified-Since: %s x" % lm], 200),
        c("adv IMS year 9999", "far past 2038",
          ["If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT"], 304),
        c("adv IMS year 2039", "just past 2038 (32-bit time_t)",
          ["If-Modified-Since: Sat, 01 Jan 2039 00:00:00 GMT"], 304),
        c("adv IMS year 10000", "a five-digit year is invalid",
          ["If-Modified-Since: Sat, 01 Jan 10000 00:00:00 GMT"], 200),
        c("adv IMS 1969", "a date before the epoch is ignored",
          ["If-Modified-Since: Wed, 31 Dec 1969 23:59:59 GMT"], 200),
        c("adv IMS RFC 850", "the obsolete RFC 850 form (RFC 9110 5.6.7)",
          ["If-Modified-Since: Sunday, 13-Sep-20 12:26:40 GMT"], 304),
        c("adv IMS asctime", "the obsolete asctime form",
          ["If-Modified-Since: Sun Sep 13 12:26:40 2020"], 304),
        c("adv IUS 2100", "If-Unmodified-Since far in the future",
          ["If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT"], 200),
        c("adv IUS epoch", "If-Unmodified-Since 1970",
          ["If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT"], 412),
        c("adv IUS invalid", "an invalid date is ignored",
          ["If-Unmodified-Since: never"], 200),
        c("adv IM weak", "If-Match compares strongly: W/ never matches",
          ["If-Match: W/" + etag], 412),
        c("adv IM list", "the ETag in an If-Match list",
          ['If-Match: "x", ' + etag], 200),
        c("adv IM over IUS", "If-Match decides, If-Unmodified-Since is "
          "ignored", ["If-Match: " + etag,
                      "If-Unmodified-Since: " + cf.OLD_DATE], 200),
        c("adv IM before INM", "a failed If-Match is 412, whatever "
          "If-None-Match says", ['If-Match: "x"', "If-None-Match: *"], 412),
        c("adv IUS before INM", "a failed If-Unmodified-Since wins",
          ["If-Unmodified-Since: " + cf.OLD_DATE, "If-None-Match: " + etag],
          412),
        c("adv INM unquoted", "an unquoted tag never matches",
          ["If-None-Match: " + etag.strip('"')], 200),
        c("adv INM W/ lowercase", "w/ is not the weak prefix",
          ["If-None-Match: w/" + etag], 200),
        cf.rng("adv IM mismatch with Range", "bytes=0-4", 412, file="hello.txt",
               extra=['If-Match: "x"']),
        Case("cond adv IM * on 404", "preconditions do not turn a 404 into "
             "a 412", get("/missing", "If-Match: *"), [Resp(404)]),
        Case("cond adv 412 on HEAD", "a HEAD that fails If-Match",
             head("/hello.txt", 'If-Match: "x"'), [Resp(412)]),
        Case("cond adv 412 keeps alive", "the pipeline goes on after a 412",
             get("/hello.txt", 'If-Match: "x"') + get("/a.js"),
             [Resp(412), Resp(200, "a.js")]),
    ]


# ------------------------------------------------------------ special files

def special_file_cases(fx):
    rows = [
        adv("file", "fifo pipelined", "a FIFO, then a file on the same "
            "connection: the server does not block",
            get("/fifo") + get("/hello.txt"), [Resp(404), Resp(200, "hello.txt")]),
        adv("file", "fifo with Range", "Range does not matter",
            get("/fifo", "Range: bytes=0-0"), [Resp(404)]),
        adv("file", "fifo as index", "a directory whose index.html is a FIFO",
            get("/fifodir/"), [Resp(403)]),
        adv("file", "fifo/", "a FIFO asked for as a directory", get("/fifo/"),
            [Resp(404)]),
        adv("file", "socket", "a UNIX socket is not served", get("/sock"),
            [Resp(404)]),
        adv("file", "HEAD socket", "HEAD of a UNIX socket", head("/sock"),
            [Resp(404)]),
        Case("adv file fifo stays responsive", "clients are served while "
             "another waits on a FIFO", run=run_fifo_responsive),
    ]
    for name, desc in (("null", "a character device (1,3)"),
                       ("nodev", "a character device without a driver"),
                       ("blkdev", "a block device without a driver")):
        rows.append(adv("file", "device " + name, desc + " is not served",
                        get("/" + name), [Resp(404)], skip_unless=name))
    return rows


def huge_cases(fx):
    """The sparse 5 GiB file: sizes and offsets past 32 bits."""
    size = HUGE_SIZE
    r = cf.rng
    kw = {"file": HUGE, "skip_unless": HUGE}
    etag = fx.etag(HUGE) if os.path.exists(fx.path(HUGE)) else '"?"'
    return [
        Case("adv huge HEAD", "HEAD of a 5 GiB file: its length",
             head("/" + HUGE), [Resp(200, headers={
                 "Content-Length": str(size), "ETag": etag,
                 "Content-Type": cf.DEFAULT_MIME})], skip_unless=HUGE),
        r("adv huge last 16", "bytes=-16", 206, (size - 16, size - 1), **kw),
        r("adv huge last byte", "bytes=%d-" % (size - 1), 206,
          (size - 1, size - 1), **kw),
        r("adv huge across 4 GiB", "bytes=%d-%d" % (GIB4 - 8, GIB4 + 7), 206,
          (GIB4 - 8, GIB4 + 7), **kw),
        r("adv huge 64 KiB across 4 GiB", "bytes=%d-%d" % (
            GIB4 - 32768, GIB4 + 32767), 206, (GIB4 - 32768, GIB4 + 32767),
          **kw),
        r("adv huge 2^32 wrap", "bytes=%d-%d" % (GIB4 + 16, GIB4 + 31), 206,
          (GIB4 + 16, GIB4 + 31), **kw),
        r("adv huge end clamped", "bytes=%d-%d" % (size - 4, size + 100), 206,
          (size - 4, size - 1), **kw),
        r("adv huge 416", "bytes=%d-" % size, 416, **kw),
        r("adv huge If-Range", "bytes=-4", 206, (size - 4, size - 1),
          extra=["If-Range: " + etag], **kw),
    ]


# ------------------------------------------------------------ aborts

def raw(ctx):
    family = socket.AF_INET6 if ":" in ctx.addr[0] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(ctx.timeout)
    s.connect(ctx.addr)
    return s


def reset(s):
    """Close with an RST (SO_LINGER 0) instead of a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def still_serving(ctx):
    """After an abort: new clients are served, four times (the next
    connection may land on another core). Bounded by --timeout, not by
    served_now()'s 1 s: emulated guests sharing two cores are slower than
    that now and then, and a hang is still caught."""
    for _ in range(4):
        cf.exchange(ctx, get("/hello.txt"), [Resp(200, "hello.txt")])


def run_empty_connection(ctx):
    raw(ctx).close()
    reset(raw(ctx))
    s = raw(ctx)
    s.shutdown(socket.SHUT_WR)
    expect_eof(ctx, s, "a connection shut down at once")
    still_serving(ctx)


def expect_eof(ctx, s, what):
    """The server closes s without sending a byte."""
    s.settimeout(ctx.timeout)
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        raise Fail("%s: still open after %gs" % (what, ctx.timeout))
    finally:
        s.close()
    if data:
        raise Fail("%s: got %r, want nothing" % (what, data[:100]))


def run_only_crlfs(ctx):
    s = raw(ctx)
    s.sendall(b"\r\n\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    expect_eof(ctx, s, "empty lines and FIN")
    s = raw(ctx)
    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
    s.shutdown(socket.SHUT_WR)
    expect_eof(ctx, s, "half a head and FIN")
    still_serving(ctx)


def abort_case(name, desc, act):
    """act(ctx, sock) does something and aborts; then still_serving()."""
    def run(ctx):
        act(ctx, raw(ctx))
        time.sleep(0.05)
        still_serving(ctx)
    return Case("adv abort " + name, desc, run=run)


def in_line(ctx, s):
    s.sendall(b"GET /hel")
    s.close()


def in_line_rst(ctx, s):
    s.sendall(b"GET /hel")
    reset(s)


def in_headers_rst(ctx, s):
    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: 1")
    reset(s)


def mid_body(ctx, s):
    s.sendall(request("POST /x HTTP/1.1", "Content-Length: 1000",
                      body=b"b" * 10))
    time.sleep(0.05)
    s.close()


def mid_body_rst(ctx, s):
    s.sendall(request("POST /x HTTP/1.1", "Content-Length: 1000",
                      body=b"b" * 10))
    time.sleep(0.05)
    reset(s)


def after_request(ctx, s):
    s.sendall(get("/" + cf.BIG))
    s.close()


def after_request_rst(ctx, s):
    s.sendall(get("/" + cf.BIG) * 4)
    reset(s)


def mid_response_rst(ctx, s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(get("/" + cf.BIG) * 4)
    got = 0
    while got < 100000:
        data = s.recv(65536)
        if not data:
            raise Fail("closed after %d bytes" % got)
        got += len(data)
    reset(s)


def mid_response_fin(ctx, s):
    s.sendall(get("/" + cf.BIG))
    s.recv(1000)
    s.close()


def in_linger_rst(ctx, s):
    s.sendall(get("/%zz") + b"x" * 100000)
    time.sleep(0.05)
    reset(s)


def mid_discard_rst(ctx, s):
    s.sendall(request("PUT /x HTTP/1.1", "Content-Length: %d" % cf.MIB,
                      body=b"b" * 300000))
    s.recv(1000)
    reset(s)


def abort_cases():
    return [
        abort_case("in request line", "half a request line, then FIN",
                   in_line),
        abort_case("in request line RST", "half a request line, then RST",
                   in_line_rst),
        abort_case("in headers RST", "half a header field, then RST",
                   in_headers_rst),
        abort_case("mid-body", "10 of 1000 body bytes, then FIN", mid_body),
        abort_case("mid-body RST", "10 of 1000 body bytes, then RST",
                   mid_body_rst),
        abort_case("after request", "a 1 MiB request, closed at once",
                   after_request),
        abort_case("after request RST", "four 1 MiB requests, reset at once",
                   after_request_rst),
        abort_case("mid-response RST", "100 KB of 4 MiB read, then RST",
                   mid_response_rst),
        abort_case("mid-response FIN", "1000 bytes of 1 MiB read, then FIN",
                   mid_response_fin),
        abort_case("in linger RST", "a 400 with 100 KB of junk behind, "
                   "then RST", in_linger_rst),
        abort_case("mid-discard RST", "300 KB of a 1 MiB body, then RST",
                   mid_discard_rst),
        Case("adv half-close pipelined", "three requests, then FIN: three "
             "answers, then closed", run=run_half_close_pipelined),
        Case("adv half-close big", "1 MiB asked, then FIN: all of it",
             run=run_half_close_big),
        Case("adv half-close after body", "a POST with its body, then FIN",
             run=run_half_close_body),
    ]


def run_half_close_pipelined(ctx):
    conn = cf.Conn(ctx)
    conn.send([get("/hello.txt") + head("/a.js") + get("/missing")])
    conn.sock.shutdown(socket.SHUT_WR)
    want = [(200, cf.HELLO), (200, b""), (404, None)]
    for i, (status, body) in enumerate(want):
        resp = conn.read_response(head_request=i == 1)
        if resp.status != status or (body is not None and resp.body != body):
            raise Fail("response %d: %s" % (i + 1, resp.brief()))
    conn.wait_closed(ctx.timeout)


def run_half_close_big(ctx):
    conn = cf.Conn(ctx)
    conn.send([get("/" + cf.BIG)])
    conn.sock.shutdown(socket.SHUT_WR)
    resp = conn.read_response()
    if resp.status != 200 or resp.body != ctx.fixture.body(cf.BIG):
        raise Fail("got %s" % resp.brief())
    conn.wait_closed(ctx.timeout)


def run_half_close_body(ctx):
    conn = cf.Conn(ctx)
    conn.send([request("POST /x HTTP/1.1", "Content-Length: 5",
                       body=b"12345")])
    conn.sock.shutdown(socket.SHUT_WR)
    resp = conn.read_response()
    if resp.status != 405:
        raise Fail("got %s" % resp.brief())
    conn.wait_closed(ctx.timeout)


def run_fifo_responsive(ctx):
    """Several clients ask for the FIFO at once; others are still served."""
    conns = []
    for _ in range(8):
        s = raw(ctx)
        s.sendall(get("/fifo"))
        conns.append(s)
    still_serving(ctx)
    for s in conns:
        s.settimeout(ctx.timeout)
        data = s.recv(4096)
        s.close()
        if not data.startswith(b"HTTP/1.1 404 "):
            raise Fail("a FIFO request got %r" % data[:60])


# ------------------------------------------------------------ all

def cases(fx):
    return (line_cases() + header_cases() + path_cases() + form_cases()
            + body_cases() + range_cases() + cond_cases(fx)
            + special_file_cases(fx) + huge_cases(fx) + abort_cases())
