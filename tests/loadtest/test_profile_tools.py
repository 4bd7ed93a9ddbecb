#!/usr/bin/env python3
"""Tests of make profile's and make bench's helpers: loadtest/ftrace_agg.awk
(a function_graph trace summed per request) on synthetic traces with known
values, and loadtest/bench.py --serve (one server as the benchmark starts
it, kept until SIGTERM) with kserver in user mode.

Usage: python3 tests/loadtest/test_profile_tools.py [--only SUBSTRING]
Prints "ok NAME" or "FAIL NAME: why" per case, then "N passed, N failed";
exit 0 iff nothing failed.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import cases

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
AGG = os.path.join(REPO, "loadtest", "ftrace_agg.awk")
BENCH = os.path.join(REPO, "loadtest", "bench.py")
KSERVER = os.path.join(REPO, "build", "kserver")
TMP = None

# function_graph with funcgraph-proc and funcgraph-tail, as the kernel
# writes it: two keep-alive requests by wrk, answered by kserver
TRACE = """\
# tracer: function_graph
#
# CPU  TASK/PID         DURATION                  FUNCTION CALLS
# |     |    |           |   |                     |   |   |   |
 1)    wrk-301     |               |  tcp_sendmsg() {
 1)    wrk-301     |   2.000 us    |    sock_def_readable();
 1)    wrk-301     | + 20.000 us   |  } /* tcp_sendmsg */
 0)  kserver-290   |               |  ks_conn_run [sakura]() {
 0)  kserver-290   |               |    sakura_recv [sakura]() {
 0)  kserver-290   |   10.000 us   |      tcp_recvmsg();
 0)  kserver-290   | + 12.000 us   |    } /* sakura_recv */
 0)  kserver-290   |   30.000 us   |    sakura_open_beneath [sakura]();
 0)  kserver-290   | ! 150.000 us  |  } /* ks_conn_run */
 ------------------------------------------
 1)    wrk-301     =>  kworker-12
 ------------------------------------------
 1)    wrk-301     | + 40.000 us   |  tcp_sendmsg();
 0)  kserver-290   |   6.000 us    |  tcp_recvmsg();
 0)  kserver-290   | # 1250.500 us |  schedule_timeout();
"""


def agg(text):
    path = os.path.join(TMP, "trace.txt")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run(["awk", "-f", AGG, path], capture_output=True,
                          text=True)


def rows(out):
    got = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        side, fn, per_req, per_call, us_req = line.split()
        got[(side, fn)] = (float(per_req), float(per_call), float(us_req))
    return got


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def test_agg_per_request():
    r = agg(TRACE)
    eq(r.returncode, 0, "exit code (%s)" % r.stderr.strip())
    eq(r.stdout.splitlines()[0],
       "# 2 requests traced (tcp_sendmsg calls by wrk)", "first line")
    got = rows(r.stdout)
    eq(got[("server", "tcp_recvmsg")], (1.0, 8.0, 8.0), "tcp_recvmsg")
    eq(got[("server", "ks_conn_run")], (0.5, 150.0, 75.0), "module function")
    eq(got[("server", "sakura_recv")], (0.5, 12.0, 6.0), "closing brace")
    eq(got[("server", "schedule_timeout")], (0.5, 1250.5, 625.25),
       "'#' duration over 1 ms")
    eq(got[("wrk", "tcp_sendmsg")], (1.0, 30.0, 30.0), "wrk's side")
    eq(got[("wrk", "sock_def_readable")], (0.5, 2.0, 1.0), "nested call")
    eq(len(got), 7, "rows (the context-switch marker counts as nothing)")


def test_agg_sorted_by_time_per_request():
    us = [rows(line)[k][2] for line in agg(TRACE).stdout.splitlines()[2:]
          for k in rows(line)]
    eq(us, sorted(us, reverse=True), "order")


def test_agg_unnamed_task_on_neither_side():
    """A task ftrace did not name ("<...>-PID": its comm cache missed) is
    counted apart and said, not taken for the server."""
    r = agg(TRACE + " 0)   <...>-301   |   1000.000 us   |  tcp_recvmsg();\n")
    eq(r.returncode, 0, "exit code (%s)" % r.stderr.strip())
    eq(r.stdout.splitlines()[1].startswith("# 1 calls by tasks ftrace did "
                                           "not name"), True,
       "says so: %r" % r.stdout.splitlines()[1])
    got = rows(r.stdout)
    eq(got[("server", "tcp_recvmsg")], (1.0, 8.0, 8.0), "server unchanged")
    eq(got[("unnamed", "tcp_recvmsg")], (0.5, 1000.0, 500.0), "apart")


def test_agg_no_requests():
    r = agg("\n".join(l for l in TRACE.splitlines() if "wrk-" not in l))
    eq(r.returncode, 1, "exit code")
    eq("no tcp_sendmsg by wrk" in r.stderr, True, "says why: %r" % r.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(server, port, root=None):
    if root is None:
        root = os.path.join(TMP, "root")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.write("served\n")
    return subprocess.Popen(
        [sys.executable, BENCH, "--serve", server, "--port", str(port),
         "--docroot", root, "--out", os.path.join(TMP, "out-" + server)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def get(port, deadline):
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/a.txt" % port,
                                        timeout=5) as r:
                return r.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def test_serve_until_sigterm():
    port = free_port()
    p = serve("user", port)
    try:
        eq(get(port, time.time() + 10), "served\n", "body")
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    eq(p.returncode, 0, "exit code (%s)" % out)
    eq("--root %s" % os.path.join(TMP, "root") in out, True,
       "logs the command line: %r" % out)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        raise AssertionError("something still listens on %d" % port)
    except ConnectionRefusedError:
        pass


def test_serve_port_taken():
    with socket.socket() as s:     # bound, not listening: refuses
        s.bind(("127.0.0.1", 0))
        p = serve("user", s.getsockname()[1])
        out, _ = p.communicate(timeout=60)
    eq(p.returncode, 1, "exit code (%s)" % out)
    eq("exited" in out, True, "says the server exited: %r" % out)


def test_serve_bad_arguments():
    for args, why in ((["--serve", "apache"], "unknown server"),
                      (["--serve", "user", "--docroot", "/nonexistent"],
                       "no docroot")):
        r = subprocess.run([sys.executable, BENCH, "--out", TMP] + args,
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode != 0 and why in r.stderr, True,
           "%s: exit %d, %r" % (why, r.returncode, r.stderr))


if __name__ == "__main__":
    if not os.access(KSERVER, os.X_OK):
        sys.exit("test_profile_tools: build/kserver is missing (make kserver)")
    sys.exit(cases.run(sys.modules[__name__], "test-profile-tools-"))
