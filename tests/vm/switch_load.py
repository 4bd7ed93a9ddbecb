#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""switch_load.py - wrk against a running kserver while kserverctl switches
its mode back and forth; checks that no request was lost or failed.

Runs inside a test guest (tests/vm/switch_guest.sh) as root, with sakura.ko
loaded and the server registered. One variant per call:

  keepalive  wrk -c64, keep-alive (wrk's default)
  pipeline   wrk -c64 with loadtest/pipeline.lua (8 requests per write)
  close      wrk -c64 with "Connection: close": a new connection per request

While wrk runs, `kserverctl switch-mode` alternates user/supervisor, one
switch every --interval seconds (the next starts at once when one took
longer). Prints "ok ..."/"FAIL ..." lines, the switch latency p50/p99, and
ends with "N passed, N failed".
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINE_DEPTH = 8  # loadtest/pipeline.lua

passed = failed = 0


def result(what, ok, why=""):
    global passed, failed
    print(("ok " if ok else "FAIL ") + what + ("" if ok or not why else ": " + why))
    if ok:
        passed += 1
    else:
        failed += 1


def status(ctl, pid):
    out = subprocess.run([ctl, "status", "--json", "--pid", str(pid)],
                         capture_output=True, text=True, timeout=30)
    if out.returncode:
        raise RuntimeError("kserverctl status: " + out.stderr.strip())
    servers = json.loads(out.stdout)["servers"]
    if len(servers) != 1:
        raise RuntimeError("kserverctl status: %d servers" % len(servers))
    return servers[0]


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def wrk_cmd(args):
    # the switcher runs at nice -10 (switch_guest.sh); the load at +5
    cmd = ["nice", "-n", "15", "wrk", "-t1", "-c64", "-d%ds" % args.duration, "--timeout",
           "%ds" % args.wrk_timeout]
    if args.variant == "pipeline":
        cmd += ["-s", os.path.join(TOP, "loadtest", "pipeline.lua")]
    elif args.variant == "close":
        cmd += ["-H", "Connection: close"]
    return cmd + [args.url]


def parse_wrk(text):
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    requests = int(m.group(1)) if m else -1
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    sock_errors = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    return requests, sock_errors, non2xx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kserverctl", default=os.path.join(TOP, "build", "kserverctl"))
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--variant", choices=["keepalive", "pipeline", "close"],
                    default="keepalive")
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--min-switches", type=int, default=200)
    ap.add_argument("--wrk-timeout", type=int, default=10)
    args = ap.parse_args()
    ctl, v = args.kserverctl, args.variant

    before = status(ctl, args.pid)
    mode = before["mode"]
    wrk = subprocess.Popen(wrk_cmd(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)  # let wrk connect in the starting mode
    target = "user" if mode == "supervisor" else "supervisor"
    # one kserverctl alternating the mode: the switches' own latency, not
    # an emulated guest's process start-ups
    switcher = [ctl, "switch-mode", target, "--pid", str(args.pid),
                "--timeout", "10", "--repeat", "1000000", "--interval",
                str(args.interval), "--duration", str(args.duration - 1)]
    sw = subprocess.run(switcher, capture_output=True, text=True,
                        timeout=args.duration + 120)
    wrk.wait()
    text = wrk.stdout.read()
    after = status(ctl, args.pid)

    print("  " + " ".join(wrk_cmd(args)))
    for line in text.splitlines():
        if re.search(r"requests in|Requests/sec|Socket errors|Non-2xx|Latency", line):
            print("   " + line.strip())
    requests, sock_errors, non2xx = parse_wrk(text)
    served = {m: after["requests"][m] - before["requests"][m]
              for m in ("user", "supervisor")}
    total = served["user"] + served["supervisor"]
    want = re.compile(r"^pid %d: (user|supervisor) -> (user|supervisor) in "
                      r"([0-9.]+) ms$" % args.pid)
    matches = [m for m in (want.match(l) for l in sw.stdout.splitlines()) if m]
    lat = sorted(float(m.group(3)) for m in matches)
    way = {t: sorted(float(m.group(3)) for m in matches if m.group(2) == t)
           for t in ("user", "supervisor")}
    summary = sw.stdout.strip().splitlines()[-1:] or [""]
    errors = [l for l in sw.stderr.splitlines() if l.strip()]
    print("  " + " ".join(switcher))
    print("   " + summary[0])
    print("  %s: %d switches, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
          "served %d in user mode, %d in supervisor mode" % (
              v, len(lat), pct(lat, 50), pct(lat, 99), lat[-1] if lat else 0,
              served["user"], served["supervisor"]))
    for t in ("supervisor", "user"):
        print("    to %s: %d switches, p50 %.2f ms, p99 %.2f ms" % (
            t, len(way[t]), pct(way[t], 50), pct(way[t], 99)))
    for e in errors[:5]:
        print("    " + e)
    if sw.returncode and not errors:
        errors.append("kserverctl exit %d" % sw.returncode)

    result("%s: wrk made requests (%d)" % (v, requests), requests > 0)
    result("%s: zero socket errors" % v, sock_errors == 0, str(sock_errors))
    result("%s: zero non-2xx responses" % v, non2xx == 0, str(non2xx))
    result("%s: every switch acknowledged" % v, not errors and
           not sw.returncode, "%d failed" % len(errors))
    result("%s: at least %d switches" % (v, args.min_switches),
           len(lat) >= args.min_switches, str(len(lat)))
    result("%s: requests served in both modes" % v,
           served["user"] > 0 and served["supervisor"] > 0, str(served))
    # every request wrk counted was served once; the server may have served
    # those in flight when wrk stopped (at most one round per connection)
    in_flight = 64 * (PIPELINE_DEPTH if v == "pipeline" else 1)
    result("%s: none lost or doubled: served %d, wrk counted %d (+ <= %d in "
           "flight)" % (v, total, requests, in_flight),
           requests <= total <= requests + in_flight)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
