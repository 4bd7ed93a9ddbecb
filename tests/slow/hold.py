#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""hold.py - open many connections to a server and hold them idle.

Usage: hold.py ADDR COUNT [--requests FRACTION] [--wait-close S | --hold S]

Opens COUNT TCP connections to ADDR (host:port, loopback), spread over the
source addresses 127.0.0.2-127.0.0.33 so the ephemeral ports never run out.
A FRACTION of them send one keep-alive request and read its answer (they wait
under the server's keep-alive timeout); the rest send nothing (header
timeout). Then it prints "held N" (connections open at once) and either

  --wait-close S  waits up to S seconds for the server to close them and
                  prints "closed M of N in T s" (T: when the last one went),
  --hold S        holds them S seconds, closes them and prints "released N".

Lines are flushed as they happen, so a shell can act on "held". Stdlib only.
Exit: 0 done (the caller judges the numbers), 1 setup failed.
"""
import errno
import resource
import selectors
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24	# linux/in.h; not in every Python's socket
SOURCES = 32
REQUEST = b"GET /index.html HTTP/1.1\r\nHost: hold\r\n\r\n"


def say(*args):
    print(*args, flush=True)


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connect_all(host, port, count, seconds):
    """COUNT non-blocking connects, then SECONDS for them to complete;
    returns the connected sockets."""
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind(("127.0.0.%d" % (2 + i % SOURCES), 0))
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            say("connect %d: %s" % (i, errno.errorcode.get(err, err)))
            s.close()
            continue
        sel.register(s, selectors.EVENT_WRITE)
        socks.append(s)
    done = []
    pending = len(socks)
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    sel.close()
    return done


def request_some(socks, fraction, deadline):
    """One request on each of the first FRACTION of SOCKS; wait answers."""
    sel = selectors.DefaultSelector()
    want = socks[:int(len(socks) * fraction)]
    got = {}
    for s in want:
        try:
            s.send(REQUEST)
        except OSError:
            continue
        got[s] = b""
        sel.register(s, selectors.EVENT_READ)
    answered = 0
    while got and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            buf = got[s] + data
            head, sep, body = buf.partition(b"\r\n\r\n")
            length = None
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not data or (sep and length is not None and
                            len(body) >= length):
                sel.unregister(s)
                del got[s]
                answered += data != b""
            else:
                got[s] = buf
    sel.close()
    return answered


def is_closed(s):
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wait_close(socks, seconds):
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    start = time.monotonic()
    last = start
    closed = 0
    while closed < len(socks) and time.monotonic() < start + seconds:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            if is_closed(s):
                sel.unregister(s)
                closed += 1
                last = time.monotonic()
            else:	# bytes after the answer: drain them
                try:
                    s.recv(65536)
                except OSError:
                    pass
    sel.close()
    return closed, last - start


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 1
    host, port = argv[1].rsplit(":", 1)
    count = int(argv[2])
    fraction, wait, hold = 0.0, None, None
    args = argv[3:]
    while args:
        opt, val = args[0], float(args[1])
        args = args[2:]
        if opt == "--requests":
            fraction = val
        elif opt == "--wait-close":
            wait = val
        elif opt == "--hold":
            hold = val
        else:
            sys.stderr.write("hold.py: unknown option %s\n" % opt)
            return 1
    limit = raise_nofile(count + 64)
    if limit < count + 16:
        say("hold.py: RLIMIT_NOFILE %d is too low for %d" % (limit, count))
        return 1
    start = time.monotonic()
    socks = connect_all(host, int(port), count, 60)
    answered = request_some(socks, fraction, time.monotonic() + 60)
    say("connected %d of %d in %.1f s" % (len(socks), count,
                                          time.monotonic() - start))
    say("answered %d" % answered)
    say("held %d" % sum(not is_closed(s) for s in socks))
    if wait is not None:
        closed, took = wait_close(socks, wait)
        say("closed %d of %d in %.1f s" % (closed, len(socks), took))
    elif hold is not None:
        time.sleep(hold)
        say("released %d" % len(socks))
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
