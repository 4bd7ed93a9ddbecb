#!/usr/bin/env python3
"""file_race.py ADDR ROOT - a file truncated or replaced while it is being
sent. Truncated: the connection ends early and cleanly (fewer bytes than
Content-Length, then EOF) and never carries bytes that were not in the file.
Replaced (rename over it): the client gets the whole old file, intact.
Either way the server keeps serving. Ends with "N passed, N failed"."""
import hashlib
import os
import socket
import sys
import time

SIZE = 32 << 20
addr, root = sys.argv[1], sys.argv[2]
host, port = addr.rsplit(":", 1)
port = int(port)


def pattern(n, seed):
    block = hashlib.sha256(seed).digest() * 128      # 4 KiB
    return (block * (n // len(block) + 1))[:n]


def start(path):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)   # before connect
    s.connect((host, port))
    s.settimeout(30)
    s.sendall(("GET /%s HTTP/1.1\r\nHost: r\r\n\r\n" % path).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([h.split(b":")[1] for h in head.split(b"\r\n")
                  if h.lower().startswith(b"content-length")][0])
    return s, length, body


def drain(s, body, length):
    """Read to Content-Length or EOF (a keep-alive answer does not close)."""
    while len(body) < length:
        try:
            chunk = s.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        body += chunk
    s.close()
    return body


def truncated():
    path = os.path.join(root, "race-trunc.bin")
    content = pattern(SIZE, b"trunc")
    with open(path, "wb") as f:
        f.write(content)
    s, length, body = start("race-trunc.bin")
    while len(body) < (1 << 20):
        body += s.recv(65536)
    os.truncate(path, 2 << 20)
    body = drain(s, body, length)
    assert length == SIZE, length
    assert len(body) < SIZE, "got all %d bytes of a truncated file" % len(body)
    assert body == content[:len(body)], "bytes that were never in the file"
    return "%d of %d bytes, then a clean close" % (len(body), SIZE)


def replaced():
    path = os.path.join(root, "race-repl.bin")
    old = pattern(SIZE, b"old")
    with open(path, "wb") as f:
        f.write(old)
    s, length, body = start("race-repl.bin")
    while len(body) < (1 << 20):
        body += s.recv(65536)
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(pattern(SIZE, b"new"))
    os.rename(tmp, path)
    body = drain(s, body, length)
    assert len(body) == SIZE and body == old, "old file not intact (%d)" % len(body)
    return "the old file, intact"


def still_serving():
    s, length, body = start("race-repl.bin")
    body = drain(s, body, length)
    assert len(body) == length
    return "served %d bytes" % len(body)


passed = failed = 0
for name, fn in (("truncated during send", truncated),
                 ("replaced during send", replaced),
                 ("still serving afterwards", still_serving)):
    try:
        print("ok %s: %s" % (name, fn()))
        passed += 1
    except Exception as e:      # every failure kind is a failed check
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        failed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
