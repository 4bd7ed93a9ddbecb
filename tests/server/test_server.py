#!/usr/bin/env python3
"""Process-level tests of kserver: command line, start-up errors, signals,
graceful drain, many connections, slow clients, threads and pinning.

Usage: test_server.py --kserver build/kserver [--only SUBSTRING]
Ends with "N passed, N failed"; exit 0 iff nothing failed.
"""
import argparse
import ctypes
import errno
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ARGS = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, timeout=10):
    p = subprocess.run([ARGS.kserver, *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Server:
    """A kserver process on a free port, stopped (and checked) on exit."""

    def __init__(self, root, *flags, wrap=()):
        self.port = free_port()
        self.addr = ("127.0.0.1", self.port)
        self.proc = subprocess.Popen(
            [*wrap, ARGS.kserver, "--root", root, "--listen",
             "127.0.0.1:%d" % self.port, *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(self.addr, timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("kserver exited: %s" %
                                       self.proc.stderr.read().decode())
                time.sleep(0.05)
        raise RuntimeError("kserver did not start")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def get(addr, path, keepalive=False, timeout=10):
    """One GET on a new connection; returns (status, body)."""
    with socket.create_connection(addr, timeout=timeout) as s:
        conn = "keep-alive" if keepalive else "close"
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: %s\r\n\r\n"
                   % (path, conn)).encode())
        return read_response(s)


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the head: %r" % data)
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, v = line.split(":", 1)
        if k.lower() == "content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return status, body


def make_root():
    d = tempfile.mkdtemp(prefix="ks-server-")
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<h1>ok</h1>\n")
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.write(bytes(range(256)) * (32 * 1024))      # 8 MiB
    with open(os.path.join(d, "mid.bin"), "wb") as f:
        f.write(bytes(range(256)) * 64)               # 16 KiB: sendfile
    return d


ROOT = None

# --- command line -----------------------------------------------------------

CLI_ERRORS = [
    ("unknown option", ["--bogus"], "unknown option"),
    ("option without its value", ["--root"], "needs a value"),
    ("stray argument", ["extra"], "unexpected argument"),
    ("missing root", ["--root", "/nonexistent/root"], "/nonexistent/root"),
    ("root is a file", ["--root", "/etc/hostname"], "ot a directory"),
    ("bad listen address", ["--listen", "nowhere"], "ADDR:PORT"),
    ("bad port", ["--listen", "127.0.0.1:http"], "ADDR:PORT"),
    ("bad mode", ["--mode", "kernel"], "neither"),
    ("zero workers", ["--workers", "0"], "--workers"),
    ("negative timeout", ["--keepalive-timeout", "-1"], "keepalive-timeout"),
    ("text timeout", ["--header-timeout", "soon"], "header-timeout"),
    ("index with a slash", ["--index", "a/b"], "--index"),
    ("unwritable access log", ["--access-log", "/proc/nope/log"], "access-log"),
    ("supervisor without the module", ["--mode", "supervisor"], "sakura"),
    ("bench-fixed 0 bytes", ["--bench-fixed", "0"], "--bench-fixed"),
    ("bench-fixed too big", ["--bench-fixed", "4097"], "--bench-fixed"),
    ("bench-fixed not a number", ["--bench-fixed", "1k"], "--bench-fixed"),
]


def test_cli_errors():
    for desc, args, needle in CLI_ERRORS:
        rc, out, err = run_cli("--root", ROOT, "--listen",
                               "127.0.0.1:%d" % free_port(), *args)
        assert rc == 1, "%s: exit %d, stderr %r" % (desc, rc, err)
        lines = err.strip().split("\n")
        assert len(lines) == 1, "%s: not one line: %r" % (desc, err)
        assert needle in lines[0], "%s: %r lacks %r" % (desc, err, needle)
        assert lines[0].startswith("kserver: "), desc


def test_bench_fixed_answers_from_memory():
    """--bench-fixed (make bench's limit line): every GET gets the same
    fixed 200, even for paths that do not exist; errors stay errors; the
    banner says it is for benchmarks only."""
    with Server(ROOT, "--bench-fixed", "1000") as srv:
        for path in ("/", "/no/such/file", "/big.bin"):
            status, body = get(srv.addr, path)
            assert status == 200, (path, status)
            assert body == b"x" * 1000, (path, len(body))
        with socket.create_connection(srv.addr, timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0"
                      b"\r\nConnection: close\r\n\r\n")
            assert read_response(s)[0] == 405
        srv.stop()
        err = srv.proc.stderr.read().decode()
    assert "BENCHMARK ONLY" in err and "1000-byte" in err, err


def test_help_and_version():
    rc, out, _ = run_cli("--help")
    assert rc == 0
    for flag in ("--root", "--listen", "--workers", "--mode", "--access-log",
                 "--index", "--keepalive-timeout", "--header-timeout",
                 "--serve-hidden", "--bench-fixed", "--help", "--version"):
        assert flag in out, "--help lacks " + flag
    rc, out, _ = run_cli("--version")
    assert rc == 0 and out.startswith("kserver "), out


def test_port_in_use():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        rc, _, err = run_cli("--root", ROOT, "--listen",
                             "127.0.0.1:%d" % s.getsockname()[1])
    finally:
        s.close()
    assert rc == 1 and "cannot listen" in err and "in use" in err, err
    assert len(err.strip().split("\n")) == 1, err


def test_port_shared_with_second_kserver_refused():
    with Server(ROOT) as srv:
        rc, _, err = run_cli("--root", ROOT, "--listen",
                             "127.0.0.1:%d" % srv.port)
        assert rc == 1 and "in use" in err, err


# --- signals and draining ---------------------------------------------------

def test_sigterm_idle_exits_0():
    srv = Server(ROOT)
    t0 = time.time()
    assert srv.stop() == 0
    assert time.time() - t0 < 3


def test_sigint_exits_0():
    srv = Server(ROOT)
    assert srv.stop(signal.SIGINT) == 0


def test_sigterm_closes_idle_keepalive():
    srv = Server(ROOT)
    s = socket.create_connection(srv.addr)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert read_response(s)[0] == 200
    t0 = time.time()
    assert srv.stop() == 0
    assert time.time() - t0 < 3, "idle keep-alive held the stop"
    s.settimeout(2)
    assert s.recv(1) == b"", "idle connection not closed"
    s.close()


def test_sigterm_finishes_response_in_flight():
    srv = Server(ROOT)
    s = socket.socket()
    # before connect: shrinking an advertised window makes TCP drop data
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(srv.addr)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 200"), first[:40]
    time.sleep(0.3)                       # the server is now blocked on us
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert srv.proc.poll() is None, "exited with a response in flight"
    data = first
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    body = data.split(b"\r\n\r\n", 1)[1]
    assert len(body) == 8 << 20, "body cut at %d" % len(body)
    assert srv.proc.wait(10) == 0


# --- load shape -------------------------------------------------------------

def test_10000_concurrent_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 10000 + 200
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    with Server(ROOT) as srv:
        conns = []
        try:
            for _ in range(10000):
                conns.append(socket.create_connection(srv.addr, timeout=10))
            # every one of them is live: a request on each, in turn
            for i, s in enumerate(conns):
                s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                status, _ = read_response(s)
                assert status == 200, "connection %d got %d" % (i, status)
            # and a newcomer is still served at once
            assert get(srv.addr, "/", timeout=5)[0] == 200
        finally:
            for s in conns:
                s.close()
        assert srv.proc.poll() is None


def test_slow_client_does_not_stall_others():
    with Server(ROOT, "--workers", "1") as srv:
        slow = socket.create_connection(srv.addr)
        slow.sendall(b"GET / HT")                 # and then nothing
        t0 = time.time()
        for _ in range(200):
            assert get(srv.addr, "/")[0] == 200
        assert time.time() - t0 < 10
        slow.close()


def test_big_download_shares_the_core():
    with Server(ROOT, "--workers", "1") as srv:
        big = socket.create_connection(srv.addr)
        big.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n" * 4)
        time.sleep(0.1)
        t0 = time.time()
        for _ in range(50):
            assert get(srv.addr, "/")[0] == 200
        assert time.time() - t0 < 5
        big.close()


def wait_tasks(pid, want, timeout=10.0):
    """The task list once it has `want` entries. The listeners accept (into
    the backlog) before the event-loop threads exist, so a test that counts
    right after the first connection races their creation: CI lost it once."""
    deadline = time.time() + timeout
    while True:
        tasks = os.listdir("/proc/%d/task" % pid)
        if len(tasks) >= want or time.time() > deadline:
            return tasks
        time.sleep(0.01)


def test_threads_pinned():
    ncpu = len(os.sched_getaffinity(0))
    with Server(ROOT, "--workers", "3") as srv:
        tasks = wait_tasks(srv.proc.pid, 4)
        assert len(tasks) == 4, "want main + 3 loops, got %d" % len(tasks)
        pinned, names = 0, []
        for tid in tasks:
            task = "/proc/%d/task/%s/" % (srv.proc.pid, tid)
            with open(task + "status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        lst = line.split()[1]
                        if "-" not in lst and "," not in lst:
                            pinned += 1
            with open(task + "comm") as f:
                names.append(f.read().strip())
        want = 3 if ncpu > 1 else 4
        assert pinned >= want, "only %d threads pinned" % pinned
        names.sort()
        assert names == ["ks-loop/0", "ks-loop/1", "ks-loop/2", "kserver"], \
            "thread names %r" % names


def test_default_workers_one_per_cpu():
    with Server(ROOT) as srv:
        want = os.cpu_count() + 1
        n = len(wait_tasks(srv.proc.pid, want))
        assert n == want, "want main + %d loops, got %d tasks" % (want - 1, n)


def test_survives_client_resets():
    with Server(ROOT) as srv:
        for _ in range(200):
            s = socket.create_connection(srv.addr)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()                                    # RST
        assert get(srv.addr, "/")[0] == 200


class Traced:
    """kserver (one event loop) under strace -f: `with Traced(calls) as t`
    gives t.connect(); after the block, t.main_tid and t.lines (the trace,
    the main thread's start-up calls included unless filtered)."""

    def __init__(self, calls):
        self.port = free_port()
        self.log = tempfile.mktemp(prefix="ks-strace-")
        self.proc = subprocess.Popen(
            ["strace", "-f", "-qq", "-o", self.log, "-e", "trace=" + calls,
             ARGS.kserver, "--root", ROOT, "--listen",
             "127.0.0.1:%d" % self.port, "--workers", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def connect(self):
        deadline = time.time() + 10
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self.port),
                                                timeout=5)
            except OSError:
                assert time.time() < deadline, "kserver under strace did not start"
                time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # strace does not forward signals: stop the traced kserver itself
        with open("/proc/%d/task/%d/children" % (self.proc.pid,
                                                 self.proc.pid)) as f:
            self.main_tid = f.read().split()[0]
        os.kill(int(self.main_tid), signal.SIGTERM)
        assert self.proc.wait(10) == 0
        with open(self.log) as f:
            self.lines = f.read().splitlines()
        os.unlink(self.log)
        return False

    def loop_lines(self):
        """The event loop's calls (not the loader's or start-up's)."""
        return [line for line in self.lines
                if "(" in line and line.split()[0] != self.main_tid]


def test_syscalls_zero_copy_msg_more_beneath():
    """strace proves the send path: openat2 beneath the root, TCP_NODELAY,
    the head sent with MSG_MORE, the body by sendfile (no read/write copy),
    corked from before its first sendfile to after its last (full
    segments while the client's window opens bit by bit)."""
    with Traced("openat2,setsockopt,sendto,sendfile,read,write") as t:
        with t.connect() as s:
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            status, body = read_response(s)
        assert status == 200 and len(body) == 8 << 20
    trace = "\n".join(t.lines)
    assert "RESOLVE_BENEATH" in trace and "big.bin" in trace, "no openat2 beneath"
    assert "TCP_NODELAY" in trace, "no TCP_NODELAY"
    assert "MSG_MORE" in trace, "head not sent with MSG_MORE"
    sent = sum(int(line.rsplit("=", 1)[1]) for line in trace.splitlines()
               if "sendfile(" in line and "= " in line
               and line.rsplit("=", 1)[1].strip().isdigit())
    assert sent == 8 << 20, "sendfile carried %d bytes" % sent
    calls = [line for line in t.loop_lines()
             if "sendfile(" in line or "TCP_CORK" in line]
    corks = [i for i, line in enumerate(calls) if "TCP_CORK" in line]
    assert len(corks) == 2 and "[1]" in calls[corks[0]] and \
        "[0]" in calls[corks[1]], "want one cork and one uncork: %s" % \
        [calls[i] for i in corks]
    assert corks == [0, len(calls) - 1], \
        "the body is not corked from its first sendfile to its last"
    # the event loop's calls (start-up reads /etc/mime.types, legitimately)
    big_copies = [line for line in t.loop_lines()
                  if line.split("(")[0].split()[-1] in ("read", "write")
                  and "= " in line and line.rsplit("=", 1)[1].strip().isdigit()
                  and int(line.rsplit("=", 1)[1]) > 65536]
    assert not big_copies, "body copied through user space: %s" % big_copies[:2]


def test_last_response_tail_waits_for_fin():
    """The last response on a connection keeps its tail back for the FIN
    (data and FIN in one segment, as nginx's corked close sends them): a
    small body leaves with its head in one send with MSG_MORE, a sendfile
    body is corked and never uncorked (close() pushes it). The client still
    gets every byte and the end of stream at once."""
    for path, size in (("/index.html", 12), ("/mid.bin", 16 << 10),
                       ("/big.bin", 8 << 20)):
        with Traced("setsockopt,sendto,sendfile") as t:
            with t.connect() as s:
                t0 = time.time()
                s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\n"
                          b"Host: t\r\nConnection: close\r\n\r\n")
                status, body = read_response(s)
                assert s.recv(1) == b"", "%s: no end of stream" % path
                waited = time.time() - t0
            assert status == 200 and len(body) == size, (path, status)
            assert waited < 1.0, "%s: held %.2f s" % (path, waited)
        calls = [line for line in t.loop_lines()
                 if "sendto(" in line or "sendfile(" in line or
                 "TCP_CORK" in line]
        sends = [line for line in calls if "sendto(" in line]
        assert sends and all("MSG_MORE" in line for line in sends), \
            "%s: head not held: %s" % (path, sends)
        corks = [line for line in calls if "TCP_CORK" in line]
        if size == 12:
            assert not corks and not [x for x in calls if "sendfile(" in x], \
                "%s: %s" % (path, calls)
        else:
            first = [i for i, x in enumerate(calls) if "sendfile(" in x][0]
            assert len(corks) == 1 and "[1]" in corks[0] and \
                calls.index(corks[0]) < first, \
                "%s: want one cork before the body, none off: %s" % (path, corks)


def test_pipelined_response_not_held_for_a_partial_request():
    """A response goes out with MSG_MORE only when the next request is
    buffered whole (its response follows at once). With only part of the
    next request here, the first response must not wait for it."""
    with Server(ROOT) as srv:
        with socket.create_connection(srv.addr, timeout=5) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"GET /index.html HTTP/1.1\r\nHo")
            t0 = time.time()
            status, body = read_response(s)
            waited = time.time() - t0
            assert status == 200 and body == b"<h1>ok</h1>\n", status
            assert waited < 1.0, "first response held %.2f s" % waited
            s.sendall(b"st: t\r\n\r\n")
            status, body = read_response(s)
            assert status == 200 and body == b"<h1>ok</h1>\n", status


def test_small_file_leaves_with_its_head():
    """A small body is read into the response buffer and sent with the head
    in one send (no sendfile); pipelined ones go out with MSG_MORE but for
    the last, so eight responses can share segments. Nothing is corked."""
    with Traced("pread64,sendto,sendfile,setsockopt") as t:
        with t.connect() as s:
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n" * 8)
            got = b""
            while got.count(b"<h1>ok</h1>\n") < 8:
                chunk = s.recv(65536)
                assert chunk, "closed early"
                got += chunk
            assert got.count(b"HTTP/1.1 200 OK") == 8
            head_len = len(got) // 8 - 12
    trace = t.loop_lines()
    sends = [line for line in trace if "sendto(" in line]
    assert not [line for line in trace if "sendfile(" in line], "sendfile used"
    assert not [line for line in trace if "TCP_CORK" in line], "corked"
    reads = [line for line in trace if "pread64(" in line]
    assert len(reads) == 8 and all("= 12" in r for r in reads), reads
    assert len(sends) == 8, "want one send per response: %s" % sends
    assert all(line.endswith("= %d" % (head_len + 12)) for line in sends), \
        "head and body not in one send: %s" % sends[:1]
    more = [line for line in sends if "MSG_MORE" in line]
    assert 1 <= len(more) <= 7 and "MSG_MORE" not in sends[-1], sends


def test_one_recv_per_keepalive_request():
    """Edge-triggered epoll: after a short recv the socket is known empty
    until the next EPOLLIN, so a keep-alive request costs one recv, not a
    second one that says EAGAIN."""
    with Traced("recvfrom") as t:
        with t.connect() as s:
            for _ in range(50):
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
                assert read_response(s) == (200, b"<h1>ok</h1>\n")
    recvs = [line for line in t.lines if "recvfrom(" in line]
    # 50 requests, the end of stream, and at most a couple of spare calls
    assert 50 <= len(recvs) <= 53, "%d recv calls for 50 requests" % len(recvs)


def test_no_descriptor_leak():
    """Every way a connection can end gives its descriptors back."""
    with Server(ROOT, "--header-timeout", "1", "--keepalive-timeout", "1") as srv:
        fds = "/proc/%d/fd" % srv.proc.pid
        time.sleep(0.3)                      # the start-up probe has closed
        baseline = len(os.listdir(fds))
        raw = [
            b"GET / HTTP/1.1\r\nHost: t\r\n\r\n",                 # keep-alive
            b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n",           # cut off below
            b"BAD\r\n\r\n",                                        # 400, linger
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab",
            b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" * 3,           # pipelined
            b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 9999999\r\n\r\n",
            b"GET / HT",                                              # timeout
            b"",                                                      # silent
        ]
        for _ in range(20):
            for req in raw:
                s = socket.create_connection(srv.addr)
                if req:
                    s.sendall(req)
                time.sleep(0.002)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
        # a few that stay open until the server times them out
        held = [socket.create_connection(srv.addr) for _ in range(20)]
        for s in held[:10]:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(2.5)                      # header/keep-alive timeouts: 1 s
        for s in held:
            s.close()
        time.sleep(0.3)
        now = len(os.listdir(fds))
        assert now == baseline, "descriptors: %d at start, %d after" % (
            baseline, now)
        assert get(srv.addr, "/")[0] == 200


def test_fifo_never_opened():
    """A FIFO in the root is refused without being opened: a writer waiting
    in open(O_WRONLY) for a reader stays blocked through GET and HEAD."""
    d = tempfile.mkdtemp(prefix="ks-fifo-")
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    released = threading.Event()

    def writer():
        fd = os.open(fifo, os.O_WRONLY)     # blocks until someone reads
        released.set()
        os.close(fd)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        with Server(d) as srv:
            for path in ("/fifo", "/fifo/", "/fifo?x"):
                status = get(srv.addr, path)[0]
                assert status in (403, 404), "%s answered %d" % (path, status)
            assert not released.wait(1.0), "the server opened the FIFO"
    finally:
        if not released.is_set():           # release the writer ourselves
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        t.join(5)
        os.unlink(fifo)
        os.rmdir(d)


def test_open_file_cache_reuses_descriptor():
    """Thirty keep-alive requests for one file: every one resolves its path
    beneath the root (openat2), but the file is opened for reading once and
    the descriptor reused (the open-file cache)."""
    with Traced("openat,openat2,close") as t:
        with t.connect() as s:
            for _ in range(30):
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
                assert read_response(s) == (200, b"<h1>ok</h1>\n")
    loop = t.loop_lines()
    beneath = [line for line in loop
               if "openat2(" in line and "index.html" in line]
    reopened = [line for line in loop if '"/proc/self/fd/' in line]
    assert len(beneath) == 30, "%d path walks for 30 requests" % len(beneath)
    assert len(reopened) == 1, "opened %d times: %s" % (len(reopened),
                                                       reopened[:3])


def fd_targets(pid):
    d = "/proc/%d/fd" % pid
    out = []
    for name in os.listdir(d):
        try:
            out.append(os.readlink(os.path.join(d, name)))
        except OSError:
            pass                             # closed meanwhile
    return out


def test_open_file_cache_never_stale():
    """A cached file replaced, grown, truncated or deleted is seen by the
    very next request; a deleted one is not held open once it idles."""
    d = tempfile.mkdtemp(prefix="ks-fcache-")
    a = os.path.join(d, "a.txt")
    with open(a, "w") as f:
        f.write("one")
    try:
        with Server(d, "--workers", "1") as srv:
            with socket.create_connection(srv.addr, timeout=5) as s:
                def body():
                    s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
                    return read_response(s)
                assert body() == (200, b"one") and body() == (200, b"one")
                with open(a + ".new", "w") as f:
                    f.write("two")
                os.rename(a + ".new", a)                 # another inode
                assert body() == (200, b"two")
                with open(a, "a") as f:                  # the same, longer
                    f.write(" grown")
                assert body() == (200, b"two grown")
                os.truncate(a, 2)                        # the same, shorter
                assert body() == (200, b"tw")
                os.unlink(a)
                assert body()[0] == 404
            big = os.path.join(d, "big.bin")
            with open(big, "wb") as f:
                f.write(b"x" * (16 << 20))
            status, data = get(srv.addr, "/big.bin")
            assert status == 200 and len(data) == 16 << 20
            assert big in fd_targets(srv.proc.pid), "big.bin not cached"
            os.unlink(big)
            deadline = time.time() + 5
            while any("big.bin" in p for p in fd_targets(srv.proc.pid)):
                assert time.time() < deadline, "a deleted file held 5 s"
                time.sleep(0.1)
    finally:
        shutil.rmtree(d)


def test_open_file_cache_follows_permissions():
    """As nobody: a file served (and cached) turns 403 the moment it is made
    unreadable to nobody, and 200 again when it is readable: a chmod moves
    the ctime, and a cached descriptor is only reused at the same ctime."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv (to run kserver as nobody)")
    d = tempfile.mkdtemp(prefix="ks-fcache-perm-")
    os.chmod(d, 0o755)
    p = os.path.join(d, "p.txt")
    with open(p, "w") as f:
        f.write("hi")
    os.chmod(p, 0o644)
    nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    try:
        with Server(d, "--workers", "1", wrap=nobody) as srv:
            with socket.create_connection(srv.addr, timeout=5) as s:
                def status():
                    s.sendall(b"GET /p.txt HTTP/1.1\r\nHost: t\r\n\r\n")
                    return read_response(s)[0]
                assert [status(), status()] == [200, 200]
                os.chmod(p, 0o600)
                assert status() == 403, "served what nobody cannot read"
                os.chmod(p, 0o644)
                assert status() == 200
    finally:
        shutil.rmtree(d)


def server_socket_of(pid, peer):
    """A duplicate (pidfd_getfd) of process pid's socket whose peer is the
    address peer, or None; Skip where the kernel or our rights say no."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd_getfd = 438                        # x86_64, generic: 438 too
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            fd = libc.syscall(pidfd_getfd, pidfd, int(name), 0)
            if fd < 0:
                err = ctypes.get_errno()
                if err in (errno.EPERM, errno.ENOSYS):
                    raise Skip("pidfd_getfd: %s" % os.strerror(err))
                continue                     # closed meanwhile
            try:
                s = socket.socket(fileno=fd)
            except OSError:                  # not a socket
                os.close(fd)
                continue
            try:
                if s.type == socket.SOCK_STREAM and s.getpeername() == peer:
                    return s
            except OSError:
                pass                         # a listener: no peer
            s.close()
    finally:
        os.close(pidfd)
    return None


def test_accepted_sockets_inherit_nodelay_and_allowance():
    """An accepted socket has TCP_NODELAY and the 128 KiB unsent allowance
    (KS_UNSENT_MIN) it starts from, set once on the listener and inherited,
    not by two setsockopt() calls per connection (read from the server's own
    socket through pidfd_getfd)."""
    with Server(ROOT) as srv:
        with socket.create_connection(srv.addr, timeout=10) as c:
            c.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(c)[0] == 200
            s = server_socket_of(srv.proc.pid, c.getsockname())
            assert s is not None, "the server's socket was not found"
            with s:
                nodelay = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                lowat = s.getsockopt(socket.IPPROTO_TCP,
                                     socket.TCP_NOTSENT_LOWAT)
            assert nodelay, "TCP_NODELAY is off"
            assert lowat == 128 << 10, "TCP_NOTSENT_LOWAT %d" % lowat


class Skip(Exception):
    """A test that cannot run here (said, and counted as skipped)."""


TESTS = [(name, fn) for name, fn in sorted(globals().items())
         if name.startswith("test_") and callable(fn)]


def main():
    global ARGS, ROOT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kserver", default="build/kserver")
    ap.add_argument("--only", default="")
    ARGS = ap.parse_args()
    ARGS.kserver = os.path.abspath(ARGS.kserver)
    ROOT = make_root()
    passed = failed = skipped = 0
    for name, fn in TESTS:
        if ARGS.only not in name:
            continue
        t0 = time.time()
        try:
            fn()
            print("ok   %s (%.1fs)" % (name, time.time() - t0))
            passed += 1
        except Skip as e:
            print("skip %s: %s" % (name, e))
            skipped += 1
        except Exception as e:  # noqa: BLE001 - report every failure kind
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
            failed += 1
        sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
