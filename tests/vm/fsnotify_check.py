#!/usr/bin/env python3
"""fsnotify_check.py ADDR ROOT [cold] - the server's reads are the kernel's reads.

Bodies leave as sendfile() would send them, whatever the mode: every read is
asked of fanotify's access-permission listeners (and the LSM) first, and
reported to inotify/fanotify as an access afterwards. In supervisor mode
the worker takes bodies straight from the page cache, so it must call what
sendfile() calls (rw_verify_area, fsnotify_access) itself.

For a small file (its body copied behind the head) and a 256 KiB one (sent
zero-copy) in ROOT, which must be a file system whose page cache the kernel
worker uses directly (tmpfs, ext4):
  inotify   IN_ACCESS arrives for each GET
  fanotify  with a listener answering FAN_DENY to every FAN_ACCESS_PERM on
            the file, the client gets the head and not one byte of the body,
            then EOF; the listener was asked
  allowed   with the listener gone, the same request gets the whole file
  counted   a listener answering FAN_ALLOW is asked exactly once for a GET of
            the small file (one read, one question) and the body is whole
With "cold", the page cache is dropped before every GET (ROOT on a disk file
system such as ext4): the kernel worker then reads through kernel_read(),
which asks itself, and must not ask a second time.
The listener marks files that nobody has opened yet: since 6.12 (and its
backports) a file opened while no permission listener watches its file
system is never asked about later reads (file_set_fsnotify_mode), for
nginx's cached fds as much as ours. A kernel without fanotify (ENOSYS) or
its permission events (EINVAL) skips those checks, and says so.
Ends with "N passed, N failed, N skipped"."""
import ctypes
import errno
import os
import select
import socket
import struct
import sys
import threading
import time

import httpc

addr, root = sys.argv[1], sys.argv[2]
cold = sys.argv[3:] == ["cold"]
libc = ctypes.CDLL(None, use_errno=True)
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64,
                               ctypes.c_int, ctypes.c_char_p]
libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p,
                                   ctypes.c_uint32]

FAN_CLOEXEC, FAN_CLASS_CONTENT = 0x1, 0x4
FAN_MARK_ADD = 0x1
FAN_ACCESS_PERM = 0x00020000
FAN_ALLOW, FAN_DENY = 0x1, 0x2
AT_FDCWD = -100
IN_NONBLOCK, IN_CLOEXEC, IN_ACCESS = 0o4000, 0o2000000, 0x1
META = struct.Struct("=IBBHQii")      # struct fanotify_event_metadata

t = httpc.Tally(with_skipped=True)


def oserror(what):
    e = ctypes.get_errno()
    return OSError(e, "%s: %s" % (what, os.strerror(e)))


def get(name):
    """GET /name, Connection: close, read to EOF: (status, Content-Length,
    body); (None, None, b"") when no whole head came."""
    if cold:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
    try:
        return httpc.get(addr, name, timeout=10)
    except (ConnectionError, socket.timeout) as e:
        print("     GET /%s: %s" % (name, e))
        return None, None, b""


class Listener(threading.Thread):
    """A fanotify listener that answers verdict to every read of the marked
    files, and counts the questions."""

    def __init__(self, paths, verdict):
        super().__init__(daemon=True)
        self.fd = libc.fanotify_init(FAN_CLOEXEC | FAN_CLASS_CONTENT,
                                     os.O_RDONLY)
        if self.fd < 0:
            raise oserror("fanotify_init")
        for p in paths:
            if libc.fanotify_mark(self.fd, FAN_MARK_ADD, FAN_ACCESS_PERM,
                                  AT_FDCWD, p.encode()) < 0:
                raise oserror("fanotify_mark " + p)
        self.asked = 0
        self.verdict = verdict
        self.stop_r, self.stop_w = os.pipe()

    def run(self):
        while True:
            r, _, _ = select.select([self.fd, self.stop_r], [], [])
            if self.stop_r in r:
                return
            buf = os.read(self.fd, 4096)
            off = 0
            while off + META.size <= len(buf):
                ev_len, _, _, _, mask, fd, _ = META.unpack_from(buf, off)
                if mask & FAN_ACCESS_PERM:
                    self.asked += 1
                    os.write(self.fd, struct.pack("=iI", fd, self.verdict))
                if fd >= 0:
                    os.close(fd)
                off += ev_len

    def stop(self):
        os.write(self.stop_w, b"x")
        self.join(5)
        os.close(self.fd)


def accesses(ifd, wd, timeout=3.0):
    """IN_ACCESS events on watch wd read within timeout."""
    n = 0
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([ifd], [], [], 0.1)
        if not r:
            if n:
                break
            continue
        buf = os.read(ifd, 4096)
        off = 0
        while off + 16 <= len(buf):
            w, mask, _, nlen = struct.unpack_from("=iIII", buf, off)
            if w == wd and mask & IN_ACCESS:
                n += 1
            off += 16 + nlen
    return n


USES = ("ino", "fan", "cnt")
files = {"small": 1000, "large": 256 << 10}
tag = "%d-%d" % (os.getpid(), time.monotonic_ns())
for kind, size in files.items():
    body = (kind.encode() * (size // len(kind) + 1))[:size]
    for use in USES:
        with open(os.path.join(root, "%s-%s-%s.bin" % (use, kind, tag)),
                  "wb") as f:
            f.write(body)
    files[kind] = body

ifd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
if ifd < 0:
    raise oserror("inotify_init1")
for kind, body in files.items():
    name = "ino-%s-%s.bin" % (kind, tag)
    wd = libc.inotify_add_watch(ifd, os.path.join(root, name).encode(),
                                IN_ACCESS)
    if wd < 0:
        raise oserror("inotify_add_watch")
    st, _, got = get(name)
    n = accesses(ifd, wd)
    t.result(st == 200 and got == body and n >= 1,
             "inotify: GET of the %s file (%d bytes) is an IN_ACCESS "
             "(status %s, %d events)" % (kind, len(body), st, n))
os.close(ifd)

names = {k: "fan-%s-%s.bin" % (k, tag) for k in files}
try:
    denier = Listener([os.path.join(root, n) for n in names.values()],
                      FAN_DENY)
except OSError as e:
    # a kernel without CONFIG_FANOTIFY (ENOSYS) or without its
    # CONFIG_FANOTIFY_ACCESS_PERMISSIONS (EINVAL)
    if e.errno not in (errno.ENOSYS, errno.EINVAL):
        raise
    denier = None
    t.skip(3 * len(files),
           "fanotify: no access-permission events in this kernel (%s)" % e)
if denier:
    denier.start()
for kind, body in files.items() if denier else ():
    before = denier.asked
    st, length, got = get(names[kind])
    t.result(st == 200 and length == len(body) and got == b""
             and denier.asked > before,
             "fanotify: a denied read sends the head and no body byte "
             "(%s file: status %s, %d of %s bytes, asked %d times)"
             % (kind, st, len(got), length, denier.asked - before))
if denier:
    denier.stop()
for kind, body in files.items() if denier else ():
    st, _, got = get(names[kind])
    t.result(st == 200 and got == body,
             "fanotify: with the listener gone the %s file is whole (status "
             "%s, %d bytes)" % (kind, st, len(got)))
# a listener that allows: one question per read of the small body; the
# large one is sent in pieces, a question for each (as sendfile() asks)
names = {k: "cnt-%s-%s.bin" % (k, tag) for k in files}
counter = denier and Listener([os.path.join(root, n) for n in names.values()],
                              FAN_ALLOW)
if counter:
    counter.start()
for kind, body in files.items() if counter else ():
    before = counter.asked
    st, _, got = get(names[kind])
    asked = counter.asked - before
    t.result(st == 200 and got == body
             and (asked == 1 if kind == "small" else asked >= 1),
             "fanotify: an allowing listener is asked %s for the %s file "
             "(status %s, %d bytes, asked %d times)"
             % ("once" if kind == "small" else "at least once", kind, st,
                len(got), asked))
if counter:
    counter.stop()
for use in USES:
    for kind in files:
        os.unlink(os.path.join(root, "%s-%s-%s.bin" % (use, kind, tag)))
t.finish()
