#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mkcorpus.py - write the seed corpus of tests/fuzz/ (run once, commit).

  tests/fuzz/mkcorpus.py        rewrites corpus/<harness>/seed-*; inputs
                                kept from crashes (crash-*) are left alone

fuzz_handler input: flags, n, n control bytes, the client's bytes.
fuzz_parse input:   flags, cap, 8 bytes of file size (LE), the request.
The first control byte picks ks_conn_init() (bit 0 clear) or ks_conn_resume()
(set), and one connection (bit 1 clear) or two.
Control byte 0xc8 is the benign answer to every question of fake_io.c
(whole chunks and writes, no injected error, no clock step): seeds with
CALM are well-behaved runs, seeds without control bytes are PRNG chaos.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CALM = b"\xc8" * 64

H = b"Host: x\r\n"
ETAG = b'"6553f100-264"'          # index.html: mtime 1700000000, 612 bytes
DATE = b"Tue, 14 Nov 2023 22:13:20 GMT"


def get(path, extra=b"", method=b"GET", ver=b"1.1"):
    return method + b" " + path + b" HTTP/" + ver + b"\r\n" + H + extra + b"\r\n"


# fuzz_handler: (name, flags, control bytes, client bytes)
#   flags 0x01 hidden 0x02 log 0x04 hand over 0x08 expand 0x10 bench
#         0x20 silent end, 0x40 reset end, 0x80 drain
HANDLER = [
    ("get-root", 0x02, CALM, get(b"/")),
    ("get-root-chaos", 0x00, b"", get(b"/")),
    ("resumed", 0x04, b"\xc9" + CALM, get(b"/") + get(b"/index.html")),
    ("two-conns", 0x00, b"\xca" + CALM, get(b"/") + get(b"/big.bin")),
    ("two-conns-chaos", 0x22, b"\xca", get(b"/one.txt") * 3 + get(b"/big.bin")),
    ("head-index", 0x00, CALM, get(b"/index.html", method=b"HEAD")),
    ("range-big", 0x00, CALM, get(b"/big.bin", b"Range: bytes=100-70000\r\n")),
    ("range-suffix", 0x00, b"", get(b"/index.html", b"Range: bytes=-10\r\n")),
    ("range-416", 0x00, CALM, get(b"/one.txt", b"Range: bytes=5-\r\n")),
    ("if-range", 0x00, CALM,
     get(b"/index.html", b"Range: bytes=1-2\r\nIf-Range: " + ETAG + b"\r\n")),
    ("inm-304", 0x00, CALM, get(b"/index.html", b"If-None-Match: " + ETAG + b"\r\n")),
    ("ims-304", 0x00, CALM, get(b"/index.html", b"If-Modified-Since: " + DATE + b"\r\n")),
    ("if-match-412", 0x00, CALM, get(b"/index.html", b'If-Match: "x"\r\n')),
    ("big-whole", 0x00, b"", get(b"/big.bin")),
    ("big-close", 0x00, CALM, get(b"/big.bin", b"Connection: close\r\n")),
    ("big-http10-chaos", 0x00, b"", get(b"/big.bin", ver=b"1.0")),
    ("redirect", 0x00, CALM, get(b"/dir?a=b")),
    ("dirs", 0x00, CALM, get(b"/dir/") + get(b"/noindex/") + get(b"/idxdir/") +
     get(b"/fifodir/") + get(b"/empty/")),
    ("files", 0x00, b"", get(b"/empty.txt") + get(b"/fifo") + get(b"/denied.txt") +
     get(b"/eio.txt") + get(b"/loop") + get(b"/index.html/x")),
    ("shrink", 0x00, CALM, get(b"/shrink.txt") + get(b"/shrink.bin")),
    ("css-8k", 0x00, CALM, get(b"/dir/sub/style.css") + get(b"/noindex/app.js")),
    ("hidden", 0x00, CALM, get(b"/.hidden") + get(b"/dir/.secret")),
    ("hidden-served", 0x01, CALM, get(b"/.git/") + get(b"/.hidden")),
    ("dots-served", 0x01, CALM, get(b"/dir/./sub/../index.html") +
     get(b"/./.git/../%2e/index.html")),
    ("pipelined", 0x00, CALM, get(b"/") * 3 + get(b"/index.html", method=b"HEAD")),
    ("pipelined-chaos", 0x04, b"", get(b"/one.txt") * 20),
    ("body-discard", 0x00, CALM,
     b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + get(b"/")),
    ("expect-continue", 0x20, CALM,
     b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"),
    ("chunked", 0x00, CALM,
     b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("http10", 0x00, CALM, get(b"/", b"Connection: keep-alive\r\n", ver=b"1.0") +
     get(b"/", ver=b"1.0")),
    ("conn-close", 0x00, CALM, get(b"/", b"Connection: close\r\n") + get(b"/")),
    ("bad-garbage", 0x00, CALM, b"\x00\x01garbage\r\n\r\n"),
    ("bad-version", 0x00, CALM, b"GET / HTTP/2.0\r\n\r\n"),
    ("bad-dotdot", 0x00, CALM, get(b"/../etc/passwd") + get(b"/a/%2e%2e/%2e%2e/x")),
    ("bad-nul", 0x00, CALM, get(b"/a%00b")),
    ("methods", 0x00, CALM, get(b"/", method=b"DELETE") + get(b"/", method=b"BREW")),
    ("forms", 0x00, CALM, get(b"*", method=b"OPTIONS") + get(b"x:443", method=b"CONNECT")),
    ("absolute", 0x00, CALM, get(b"http://x/dir?q")),
    ("long-line", 0x08, CALM, b"GET /" + b"\xfe\x80a" + b" HTTP/1.1\r\n\r\n"),
    ("many-headers", 0x08, CALM, get(b"/", b"X: " + b"\xfe\xffb" + b"\r\n")),
    ("silent", 0x20, b"", get(b"/") + b"GET / HT"),
    ("reset", 0x40, b"", get(b"/big.bin")),
    ("bench", 0x10, CALM, get(b"/") + get(b"/", method=b"HEAD")),
    ("drain", 0x80, CALM, get(b"/") + get(b"/")),
    ("log-fields", 0x02, b"",
     get(b"/", b"Referer: http://r/\r\nUser-Agent: fuzz\r\n") + b"BAD\r\n\r\n"),
]

# fuzz_parse: (name, flags, cap, size, request)
PARSE = [
    ("get", 0, 64, 612, get(b"/index.html")),
    ("all-headers", 0x1f, 200, 612,
     get(b"/a/./b/../c%20d?q=1", b"Connection: keep-alive, close\r\n"
         b"Content-Length: 10\r\nExpect: 100-continue\r\n"
         b"If-None-Match: W/" + ETAG + b", *\r\nIf-Match: " + ETAG + b"\r\n"
         b"If-Modified-Since: " + DATE + b"\r\n"
         b"If-Unmodified-Since: Tuesday, 14-Nov-23 22:13:20 GMT\r\n"
         b"Range: bytes=0-99\r\nIf-Range: Tue Nov 14 22:13:20 2023\r\n"
         b"Referer: r\r\nUser-Agent: u\r\n")),
    ("absolute", 0, 16, 0, get(b"https://h:1/p?x")),
    ("asterisk", 0, 8, 0, get(b"*", method=b"OPTIONS")),
    ("range-suffix", 1, 255, 1000, b"bytes=-500"),
    ("range-open", 1, 255, 1 << 40, b"bytes=1099511627775-"),
    ("range-list", 1, 255, 10, b"bytes=0-1, 3-4"),
    ("range-clamp", 1, 255, 10, b"bytes=5-100"),
    ("date-asctime", 8, 255, 0, b"Sun Nov  6 08:49:37 1994"),
    ("uri-escapes", 0, 4, 0, b"/%2e%2E/%2f%41%zz"),
    ("lf-only", 0, 32, 0, b"\n\nGET / HTTP/1.0\nHost: a\n\n"),
    ("te-cl", 0, 32, 0, get(b"/", b"Transfer-Encoding: chunked\r\nContent-Length: 1\r\n")),
    ("long-line", 0x08, 32, 0, b"GET /" + b"\xfe\x80a" + b" HTTP/1.1\r\n\r\n"),
]


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    for harness in ("fuzz_handler", "fuzz_parse"):
        d = os.path.join(HERE, "corpus", harness)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.startswith("seed-"):
                    os.unlink(os.path.join(d, f))
    for name, flags, ctl, data in HANDLER:
        write("fuzz_handler", name, bytes([flags, len(ctl)]) + ctl + data)
    for name, flags, cap, size, data in PARSE:
        write("fuzz_parse", name, bytes([flags | (0x80 if size >> 24 else 0), cap]) +
              struct.pack("<Q", size) + data)


if __name__ == "__main__":
    main()
