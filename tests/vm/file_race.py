#!/usr/bin/env python3
"""file_race.py ADDR ROOT - the file system changing under the server.

Refusals are 403 (a path that leaves the root, like nginx's
disable_symlinks) or 404. A file truncated while it is being sent: the connection ends early and
cleanly (fewer bytes than Content-Length, then EOF) and never carries bytes
that were not in the file. Replaced (rename over it), deleted, or turned into
a symlink out of the root while being sent: the client gets the whole old
file, intact, and the next request for it is refused. A directory swapped
(atomically, renameat2 RENAME_EXCHANGE) with a symlink to / or to ../../..
over and over while clients ask for a file under it: every answer is the
file inside the root or a refusal, never a byte from outside. The server
keeps serving throughout. Ends with "N passed, N failed"."""
import ctypes
import hashlib
import os
import threading
import sys
import time

import httpc

SIZE = 32 << 20
addr, root = sys.argv[1], sys.argv[2]


def pattern(n, seed):
    block = hashlib.sha256(seed).digest() * 128      # 4 KiB
    return (block * (n // len(block) + 1))[:n]


def start(path):
    """A GET of path on a connection with a small receive window: (the
    connection, Content-Length, the body bytes that came with the head)."""
    s = httpc.connect(addr, rcvbuf=16384)
    httpc.ask(s, path)
    _, length, body = httpc.read_head(s)
    return s, length, body


def drain(s, body, length):
    """Read to Content-Length, EOF or a reset (a keep-alive answer does not
    close), then close."""
    body = httpc.read_body(s, body, length)
    s.close()
    return body


def truncated():
    path = os.path.join(root, "race-trunc.bin")
    content = pattern(SIZE, b"trunc")
    write_file(path, content)
    s, length, body = start("race-trunc.bin")
    while len(body) < (1 << 20):
        body += s.recv(65536)
    os.truncate(path, 2 << 20)
    body = drain(s, body, length)
    assert length == SIZE, length
    assert len(body) < SIZE, "got all %d bytes of a truncated file" % len(body)
    assert body == content[:len(body)], "bytes that were never in the file"
    return "%d of %d bytes, then a clean close" % (len(body), SIZE)


def write_file(path, data):
    """Write a fresh file at path, never through a symlink left there."""
    if os.path.islink(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def changed_mid_send(name, seed, change):
    """Start sending name, let change(path) act after 1 MiB: the client must
    still get the whole old file."""
    path = os.path.join(root, name)
    old = pattern(SIZE, seed)
    write_file(path, old)
    s, length, body = start(name)
    while len(body) < (1 << 20):
        body += s.recv(65536)
    change(path)
    body = drain(s, body, length)
    assert len(body) == SIZE and body == old, "old file not intact (%d)" % len(body)


def replaced():
    def rename_over(path):
        write_file(path + ".new", pattern(SIZE, b"new"))
        os.rename(path + ".new", path)

    changed_mid_send("race-repl.bin", b"old", rename_over)
    return "the old file, intact"


def deleted():
    changed_mid_send("race-del.bin", b"del", os.unlink)
    status = get_status("race-del.bin")
    assert status == 404, "a deleted file answered %d" % status
    return "the old file, intact; then 404"


def symlinked():
    """Turned into a symlink to a file outside the root while being sent."""
    def link_out(path):
        os.symlink("/etc/passwd", path + ".lnk")
        os.rename(path + ".lnk", path)

    changed_mid_send("race-link.bin", b"link", link_out)
    status, got = get("race-link.bin")
    assert status in (403, 404) and OUTSIDE not in got, \
        "the symlink out answered %d" % status
    return "the old file, intact; then the symlink out refused (%d)" % status


OUTSIDE = open("/etc/passwd", "rb").read()[:16]   # "root:x:0:0:root:"
INSIDE = b"inside the root\n"
RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)


def exchange(a, b):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), RENAME_EXCHANGE):
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def get(path, conn=None):
    """One GET; on conn (keep-alive) when given. Returns (status, body)."""
    status, _, body = httpc.get(addr, path, conn)
    return status, body


def get_status(path):
    return get(path)[0]


def dir_swapped(target):
    """d/etc/passwd inside the root; d swapped with a symlink to target."""
    d = os.path.join(root, "swap")
    alt = os.path.join(root, "swap.alt")
    new = os.path.join(root, "swap.new")
    # Never write through a path that may be a symlink out of the root (a
    # leftover of an earlier run): build the directory fresh, then move it.
    for p in (d, alt):
        if os.path.islink(p):
            os.unlink(p)
    assert not os.path.lexists(d) and not os.path.lexists(alt), "leftovers"
    os.mkdir(new)
    os.mkdir(os.path.join(new, "etc"))
    fd = os.open(os.path.join(new, "etc", "passwd"),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    os.write(fd, INSIDE)
    os.close(fd)
    os.rename(new, d)
    os.symlink(target, alt)
    stop = threading.Event()
    swaps = [0]

    def swapper():
        while not stop.is_set():
            exchange(d, alt)
            swaps[0] += 1
            time.sleep(0.0005)

    t = threading.Thread(target=swapper)
    t.start()
    counts = {}
    try:
        conns = [httpc.connect(addr) for _ in range(4)]
        for i in range(400):
            status, body = get("swap/etc/passwd", conns[i % 4])
            assert OUTSIDE not in body, "bytes from outside the root (%d): %r" % (status, body[:80])
            assert status in (200, 403, 404), "answered %d" % status
            assert status != 200 or body == INSIDE, "a 200 with %r" % body[:40]
            counts[status] = counts.get(status, 0) + 1
        for c in conns:
            c.close()
    finally:
        stop.set()
        t.join()
        if os.path.islink(d):
            exchange(d, alt)
        os.unlink(alt)              # the symlink
        os.unlink(os.path.join(d, "etc", "passwd"))
        os.rmdir(os.path.join(d, "etc"))
        os.rmdir(d)
    refused = counts.get(403, 0) + counts.get(404, 0)
    assert counts.get(200, 0) > 0 and refused > 0, \
        "the race was not exercised: %r" % counts
    return "400 answers during %d swaps: %d inside, %d refused, none outside" % (
        swaps[0], counts.get(200, 0), refused)


def still_serving():
    s, length, body = start("race-repl.bin")
    body = drain(s, body, length)
    assert len(body) == length
    return "served %d bytes" % len(body)


t = httpc.Tally()
for name, fn in (("truncated during send", truncated),
                 ("replaced during send", replaced),
                 ("deleted during send", deleted),
                 ("turned into a symlink out of the root during send", symlinked),
                 ("a directory swapped with a symlink to /",
                  lambda: dir_swapped("/")),
                 ("a directory swapped with a symlink to ../../..",
                  lambda: dir_swapped("../../../../../..")),
                 ("still serving afterwards", still_serving)):
    try:
        t.result(True, "%s: %s" % (name, fn()))
    except Exception as e:      # every failure kind is a failed check
        t.result(False, "%s: %s: %s" % (name, type(e).__name__, e))
t.finish()
