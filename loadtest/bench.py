#!/usr/bin/env python3
"""bench.py - one side-by-side benchmark run: nginx, kserver in user mode,
kserver in supervisor mode and the benchmark-only "limit" line, on the same
machine, the servers taking turns cell by cell (A B C D A B C D ...).

It starts every server once, on its own loopback port, over one docroot
(tmpfs), then for each cell (file size x keep-alive/close x connections x
pipelining) runs `wrk` ROUNDS times per server, interleaved, and appends one
CSV row per run to OUT/raw.csv:

  requests/s, p50/p99 latency, socket errors, non-2xx, and the CPU time the
  servers and the kernel spent: busy time of all CPUs from /proc/stat minus
  the CPU time of wrk itself (its rusage), per request.

Run by loadtest/bench_guest.sh inside a QEMU guest (make bench) or directly
on the host for nginx vs user mode (make bench-host). loadtest/report.py
turns raw.csv into the table, the summary CSV and the chart.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SIZES = {"1k": 1024, "16k": 16384, "256k": 262144, "1m": 1048576}
CONNS = (16, 64, 256)
SERVERS = ("nginx", "user", "supervisor", "limit")
FIELDS = ("kernel,size,conn,conns,pipeline,round,server,duration_s,requests,"
          "rps,p50_ms,p99_ms,socket_errors,non2xx,cpu_s,wrk_cpu_s,"
          "cpu_us_per_req").split(",")
LIMIT_BYTES = 1024          # the limit line answers like the 1 KiB file


def log(msg):
    print("bench: " + msg, flush=True)


def cells():
    """Every cell, in the order they run: (name, size, conn, conns, depth)."""
    out = []
    for name, size in SIZES.items():
        for conn in ("keepalive", "close"):
            for n in CONNS:
                out.append(("%s-%s-%d" % (name, conn, n), size, conn, n, 1))
    for n in CONNS:
        out.append(("1k-pipeline-%d" % n, 1024, "keepalive", n, 8))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d at start-up" %
                               (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s is not listening on port %d" % (what, port))


class Servers:
    """The servers under test, each on its own port, all over one root."""

    def __init__(self, args, run):
        self.args, self.run, self.procs, self.ports = args, run, {}, {}
        self.cmds = {}

    def start(self, name, port=None):
        port = port or free_port()
        listen = "127.0.0.1:%d" % port
        out = open(os.path.join(self.run, name + ".out"), "w")
        if name == "nginx":
            conf = self.nginx_conf(listen)
            cmd = [self.args.nginx, "-p", self.run, "-c", conf, "-e",
                   os.path.join(self.run, "error.log")]
        else:
            cmd = [self.args.kserver, "--root", self.args.docroot,
                   "--listen", listen]
            if self.args.workers:
                cmd += ["--workers", str(self.args.workers)]
            if name in ("supervisor", "limit"):
                cmd += ["--mode", "supervisor"]
            if name == "limit":
                cmd += ["--bench-fixed", str(LIMIT_BYTES)]
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name], self.ports[name] = proc, port    # stop() sees it
        wait_listening(port, proc, name)
        self.cmds[name] = " ".join(cmd)
        log("%-10s pid %d on %s: %s" % (name, proc.pid, listen,
                                        self.cmds[name]))

    def nginx_conf(self, listen):
        with open(os.path.join(HERE, "nginx.conf")) as f:
            text = f.read()
        workers = self.args.workers or len(os.sched_getaffinity(0))
        for key, val in (("@WORKERS@", str(workers)), ("@RUN@", self.run),
                         ("@LISTEN@", listen), ("@ROOT@", self.args.docroot)):
            text = text.replace(key, val)
        if "@" in re.sub(r"#.*", "", text):
            raise RuntimeError("nginx.conf: a placeholder is left")
        path = os.path.join(self.run, "nginx.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError("%s died (exit %d) during the run" %
                                   (name, proc.returncode))

    def stop(self):
        bad = []
        for name, proc in self.procs.items():
            if proc.poll() is None:
                # nginx: QUIT is the graceful stop; kserver: TERM
                os.killpg(proc.pid, signal.SIGQUIT if name == "nginx"
                          else signal.SIGTERM)
            try:
                rc = proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                rc = proc.wait()
            if rc != 0:
                bad.append("%s exited %d" % (name, rc))
        return bad


def cpu_busy_s():
    """Busy seconds of all CPUs so far (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    total = sum(v[:8])              # user..steal; guest time is in user
    return (total - v[3] - v[4]) / hz


def ms(val, unit):
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
    return float(val) * scale[unit]


def parse_wrk(text):
    """requests, seconds, rps, p50, p99, socket errors, non-2xx of wrk output."""
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if m:
        r["requests"] = int(m.group(1))
        r["duration_s"] = ms(m.group(2), m.group(3)) / 1000
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+([\d.]+)(us|ms|s|m)\s*$" % pct,
                      text, re.M)
        if m:
            r[key] = ms(m.group(1), m.group(2))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    return r


def wrk_cmd(args, port, size, conn, conns, depth, duration):
    path = "/%s.bin" % next(k for k, v in SIZES.items() if v == size)
    cmd = [args.wrk, "-t%d" % args.threads, "-c%d" % conns,
           "-d%gs" % duration, "--timeout", "10s", "--latency"]
    if conn == "close":
        cmd += ["-H", "Connection: close"]
    if depth > 1:
        cmd += ["-s", os.path.join(HERE, "pipeline.lua")]
    return cmd + ["http://127.0.0.1:%d%s" % (port, path)]


def run_wrk(cmd):
    """Run wrk; its output, its CPU seconds and the busy CPU seconds."""
    before = cpu_busy_s()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    busy = cpu_busy_s() - before
    return out, proc.returncode, ru.ru_utime + ru.ru_stime, busy


def serve(args):
    """--serve: one server, as the benchmark starts it, until told to stop."""
    if args.serve not in SERVERS:
        sys.exit("bench: unknown server %r" % args.serve)
    if not os.path.isdir(args.docroot):
        sys.exit("bench: no docroot %s" % args.docroot)
    run = os.path.join(args.out, "run")
    os.makedirs(run, exist_ok=True)
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    srv = Servers(args, run)
    rc = 0
    try:
        srv.start(args.serve, args.port)
        while not stop:
            time.sleep(0.1)
    except RuntimeError as e:
        log(str(e))
        rc = 1
    bad = srv.stop()
    if bad:
        log("; ".join(bad))
    return 1 if rc or bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="results directory")
    ap.add_argument("--servers", default=",".join(SERVERS),
                    help="comma-separated subset of " + ",".join(SERVERS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=5.0,
                    help="seconds per wrk run")
    ap.add_argument("--warmup", type=float, default=1.0,
                    help="seconds of wrk per server and cell before round 1")
    ap.add_argument("--cells", default=".*",
                    help="regex matching whole cell names: only those run "
                         "(names like 1k-keepalive-64, 1m-close-16, "
                         "1k-pipeline-256; e.g. '1k-.*|1m-keepalive-64')")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--workers", type=int, default=0,
                    help="server cores (default: every CPU)")
    ap.add_argument("--docroot", default="/tmp/kserver-bench-root")
    ap.add_argument("--kserver", default=os.path.join(TOP, "build/kserver"))
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--wrk", default="/usr/bin/wrk")
    ap.add_argument("--kernel", default=os.uname().release)
    ap.add_argument("--serve", metavar="SERVER",
                    help="start only SERVER, configured as for the benchmark, "
                    "on 127.0.0.1:--port over --docroot as it is, and keep it "
                    "until SIGTERM or SIGINT (make profile)")
    ap.add_argument("--port", type=int, default=0,
                    help="with --serve: the port (default: a free one)")
    args = ap.parse_args()
    # nginx resolves its pid and log paths against its -p prefix, and the
    # servers run elsewhere: every path given must be absolute
    for a in ("out", "docroot", "kserver", "nginx", "wrk"):
        setattr(args, a, os.path.abspath(getattr(args, a)))
    if args.serve:
        return serve(args)

    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in SERVERS:
            ap.error("unknown server %r" % s)
    todo = [c for c in cells() if re.fullmatch(args.cells, c[0])]
    if not todo or args.rounds < 1 or args.duration <= 0:
        ap.error("nothing to run (check --cells, --rounds, --duration)")
    for tool in (args.kserver, args.wrk) + (
            (args.nginx,) if "nginx" in servers else ()):
        if not os.access(tool, os.X_OK):
            sys.exit("bench: %s is missing (make bench installs it)" % tool)

    os.makedirs(args.out, exist_ok=True)
    run = os.path.join(args.out, "run")
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    shutil.rmtree(os.path.join(args.out, "wrk"), ignore_errors=True)
    os.makedirs(os.path.join(args.out, "wrk"))    # every wrk output, kept
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    subprocess.run([os.path.join(HERE, "gen-docroot.sh"), args.docroot],
                   check=True)
    log("docroot %s (%s)" % (args.docroot, subprocess.run(
        ["stat", "-f", "-c", "%T", args.docroot], capture_output=True,
        text=True).stdout.strip()))

    srv = Servers(args, run)
    rows = 0
    failed = []
    raw = os.path.join(args.out, "raw.csv")
    t0 = time.time()
    try:
        for s in servers:
            srv.start(s)
        with open(raw, "w") as f:
            f.write(",".join(FIELDS) + "\n")
            for name, size, conn, conns, depth in todo:
                here = [s for s in servers
                        if s != "limit" or size == LIMIT_BYTES]
                for s in here:          # warm caches and connections
                    if args.warmup > 0:
                        run_wrk(wrk_cmd(args, srv.ports[s], size, conn,
                                        conns, depth, args.warmup))
                for rnd in range(1, args.rounds + 1):
                    for s in here:
                        cmd = wrk_cmd(args, srv.ports[s], size, conn, conns,
                                      depth, args.duration)
                        out, rc, wrk_cpu, busy = run_wrk(cmd)
                        with open(os.path.join(args.out, "wrk", "%s-%s-%d.txt"
                                               % (name, s, rnd)), "w") as w:
                            w.write(" ".join(cmd) + "\n" + out)
                        r = parse_wrk(out)
                        srv.check_alive()
                        ok = rc == 0 and "rps" in r and r.get("requests")
                        if not ok:
                            failed.append("%s %s round %d" % (name, s, rnd))
                            log("FAIL %s %s round %d: wrk exit %d:\n%s" %
                                (name, s, rnd, rc, out))
                        cpu = max(busy - wrk_cpu, 0.0)
                        row = {
                            "kernel": args.kernel, "size": size,
                            "conn": conn, "conns": conns,
                            "pipeline": depth, "round": rnd, "server": s,
                            "duration_s": "%.3f" % r.get("duration_s", 0),
                            "requests": r.get("requests", ""),
                            "rps": "%.2f" % r["rps"] if ok else "",
                            "p50_ms": "%.3f" % r["p50_ms"]
                            if "p50_ms" in r else "",
                            "p99_ms": "%.3f" % r["p99_ms"]
                            if "p99_ms" in r else "",
                            "socket_errors": r["socket_errors"],
                            "non2xx": r["non2xx"],
                            "cpu_s": "%.3f" % cpu,
                            "wrk_cpu_s": "%.3f" % wrk_cpu,
                            "cpu_us_per_req": "%.2f" %
                            (cpu / r["requests"] * 1e6) if ok else "",
                        }
                        f.write(",".join(str(row[k]) for k in FIELDS) + "\n")
                        f.flush()
                        rows += 1
                        log("%-20s %-10s round %d: %10s req/s  p99 %8s ms"
                            "  %s us/req%s" %
                            (name, s, rnd, row["rps"], row["p99_ms"],
                             row["cpu_us_per_req"],
                             "  ERRORS %d/%d" % (r["socket_errors"],
                                                 r["non2xx"])
                             if r["socket_errors"] or r["non2xx"] else ""))
    finally:
        bad = srv.stop()
    meta = {
        "kernel": args.kernel,
        "cpus": str(len(os.sched_getaffinity(0))),
        "rounds": str(args.rounds),
        "duration": "%g s per run (+%g s warm-up per server and cell)" %
                    (args.duration, args.warmup),
        "wrk": " ".join(wrk_cmd(args, 0, 1024, "keepalive", 64, 1,
                                args.duration)).replace(":0/", ":PORT/") +
        "  (close: -H 'Connection: close'; pipeline: -s "
        "loadtest/pipeline.lua)",
        "kserver": "\n".join("%s: %s" % (k, v) for k, v in srv.cmds.items()
                             if k != "nginx"),
        "docroot": args.docroot,
        "elapsed": "%.0f s" % (time.time() - t0),
    }
    if "nginx" in servers:
        with open(os.path.join(run, "nginx.conf")) as f:
            meta["nginx_conf"] = f.read()
        meta["nginx_version"] = subprocess.run(
            [args.nginx, "-v"], capture_output=True,
            text=True).stderr.strip()
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    log("%d runs in %.0f s; %d failed; servers: %s" %
        (rows, time.time() - t0, len(failed), "; ".join(bad) or "all exited 0"))
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main())
