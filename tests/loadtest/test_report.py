#!/usr/bin/env python3
"""Tests of loadtest/report.py: synthetic raw CSVs with known values, the
summary CSV, the markdown (targets, ratios, raw data, metadata), the chart,
and bad input.

Usage: python3 tests/loadtest/test_report.py [--only SUBSTRING]
Prints "ok NAME" or "FAIL NAME: why" per case, then "N passed, N failed";
exit 0 iff nothing failed.
"""
import csv
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import cases

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
REPORT = os.path.join(REPO, "loadtest", "report.py")
COLUMNS = ("kernel,size,conn,conns,pipeline,round,server,duration_s,requests,"
           "rps,p50_ms,p99_ms,socket_errors,non2xx,cpu_s,wrk_cpu_s,"
           "cpu_us_per_req").split(",")
SUMMARY_HEADER = ("size,conn,conns,pipeline,server,runs,failed_runs,"
                  "rps_median,rps_min,rps_max,spread_pct,p99_median_ms,"
                  "cpu_us_per_req_median,rps_ratio_nginx,p99_ratio_nginx,"
                  "socket_errors,non2xx,cpu_ratio_nginx,wrk_cpu_share")
KERNEL = "6.12.117+deb12-amd64"
KIB, MIB = 1024, 1048576
TMP = None


# --- building inputs ---------------------------------------------------------

def cell(size=KIB, conn="keepalive", conns=64, pipeline=1, kernel=KERNEL,
         **servers):
    """Raw rows of one cell: server=[rps per round] or server=[(rps, p99,
    extra fields dict), ...]; an rps of "" is a failed run."""
    rows = []
    for server, rounds in servers.items():
        for i, r in enumerate(rounds, 1):
            rps, p99, extra = (r, 10.0, {}) if not isinstance(r, tuple) \
                else (r + ({},))[:3]
            row = {"kernel": kernel, "size": size, "conn": conn,
                   "conns": conns, "pipeline": pipeline, "round": i,
                   "server": server, "duration_s": 5,
                   "requests": "" if rps == "" else int(rps * 5),
                   "rps": rps, "p50_ms": "" if rps == "" else p99 / 3,
                   "p99_ms": "" if rps == "" else p99,
                   "socket_errors": 0, "non2xx": 0,
                   "cpu_s": "" if rps == "" else 1.5, "wrk_cpu_s": 0.5,
                   "cpu_us_per_req": "" if rps == "" else 20.0}
            row.update(extra)
            rows.append(row)
    return rows


def write_raw(rows, name="raw.csv", columns=COLUMNS):
    path = os.path.join(tempfile.mkdtemp(dir=TMP), name)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def report(raw, *flags, png=False, env=None):
    """Run report.py; returns (rc, stdout, stderr, prefix)."""
    prefix = os.path.join(os.path.dirname(raw), "out", "report")
    args = [sys.executable, REPORT, raw, "--out", prefix, *flags]
    if not png:
        args.append("--no-png")
    p = subprocess.run(args, capture_output=True, text=True, timeout=120,
                       env=env)
    return p.returncode, p.stdout, p.stderr, prefix


def made(rows, *flags, **kw):
    """Report on rows, which must succeed; returns (md, summary, prefix)."""
    rc, out, err, prefix = report(write_raw(rows), *flags, **kw)
    assert rc == 0, "exit %d: %s" % (rc, err.strip())
    with open(prefix + ".md", encoding="utf-8") as f:
        md = f.read()
    with open(prefix + ".csv", newline="") as f:
        summary = {(int(r["size"]), r["conn"], int(r["conns"]),
                    int(r["pipeline"]), r["server"]): r
                   for r in csv.DictReader(f)}
    return md, summary, prefix


def section(md, title):
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), md,
                  re.S | re.M)
    assert m, "no section %r in the markdown" % title
    return m.group(1)


def table(md, title):
    """The rows of the first table under ## title, as lists of cells."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section(md, title).splitlines()
            if line.startswith("|")]
    return rows[2:]


def targets(md):
    """{(where, target): (measured, result)} from the Targets table."""
    return {(r[0], r[1]): (r[2], r[3]) for r in table(md, "Targets")}


def eq(got, want, what):
    assert got == want, "%s: got %r, want %r" % (what, got, want)


# the targets' keys as report.py prints them
KA64 = "1 KiB, keep-alive, 64 conns"
CLOSE64 = "1 KiB, Connection: close, 64 conns"
MIB64 = "1 MiB, keep-alive, 64 conns"
P99 = "p99 latency, every pipeline-1 cell"
T_SUP_KA = (KA64, "supervisor / nginx ≥ 1.5")
T_USER_KA = (KA64, "user / nginx ≥ 1.0")
T_SUP_CL = (CLOSE64, "supervisor / nginx ≥ 1.3")
T_USER_CL = (CLOSE64, "user / nginx ≥ 1.0")
T_SUP_MIB = (MIB64, "supervisor / nginx ≥ 1.1")
T_USER_MIB = (MIB64, "user / nginx ≥ 1.0")
T_P99_SUP = (P99, "supervisor ≤ nginx")
T_P99_USER = (P99, "user ≤ 1.1 × nginx")
T_LIMIT = (KA64, "supervisor / limit ≥ 0.8")
ALL_TARGETS = (T_SUP_KA, T_USER_KA, T_SUP_CL, T_USER_CL, T_SUP_MIB,
               T_USER_MIB, T_P99_SUP, T_P99_USER, T_LIMIT)


def target_cells(ka, close, mib):
    """The three target cells; each argument is {server: (rps, p99)}."""
    def rounds(spec):
        return {s: [(rps, p99)] * 3 for s, (rps, p99) in spec.items()}
    return (cell(KIB, "keepalive", 64, **rounds(ka)) +
            cell(KIB, "close", 64, **rounds(close)) +
            cell(MIB, "keepalive", 64, **rounds(mib)))


# --- cases -------------------------------------------------------------------

def test_median_odd_rounds():
    md, s, _ = made(cell(nginx=[100, 300, 200], user=[150, 450, 300]))
    n, u = s[(KIB, "keepalive", 64, 1, "nginx")], \
        s[(KIB, "keepalive", 64, 1, "user")]
    eq((n["runs"], n["rps_median"], n["rps_min"], n["rps_max"]),
       ("3", "200.0", "100.0", "300.0"), "nginx runs, median, min, max")
    eq(n["spread_pct"], "100.00", "nginx spread (300-100)/200")
    eq(u["rps_median"], "300.0", "user median")
    eq(u["rps_ratio_nginx"], "1.5000", "user/nginx")
    eq(n["rps_ratio_nginx"], "1.0000", "nginx/nginx")


def test_median_even_rounds():
    md, s, _ = made(cell(nginx=[100, 200, 400, 1000],
                         supervisor=[600, 600, 600, 600]))
    n = s[(KIB, "keepalive", 64, 1, "nginx")]
    eq(n["rps_median"], "300.0", "median of 100 200 400 1000")
    eq(n["spread_pct"], "300.00", "spread (1000-100)/300")
    sup = s[(KIB, "keepalive", 64, 1, "supervisor")]
    eq(sup["rps_ratio_nginx"], "2.0000", "supervisor/nginx 600/300")
    eq(sup["spread_pct"], "0.00", "no spread")


def test_p99_and_cpu_medians_and_ratio():
    rows = cell(nginx=[(100, 8.0), (100, 12.0), (100, 10.0)],
                user=[(100, 5.0), (100, 6.0), (100, 4.0), (100, 100.0)])
    for r, cpu in zip(rows, (10, 30, 20, 1, 2, 3, 4)):
        r["cpu_us_per_req"] = cpu
    md, s, _ = made(rows)
    n, u = s[(KIB, "keepalive", 64, 1, "nginx")], \
        s[(KIB, "keepalive", 64, 1, "user")]
    eq(n["p99_median_ms"], "10.000", "nginx p99 median")
    eq(u["p99_median_ms"], "5.500", "user p99 median of 4 5 6 100")
    eq(u["p99_ratio_nginx"], "0.5500", "user p99 / nginx p99")
    eq(n["cpu_us_per_req_median"], "20.00", "nginx cpu median")
    eq(u["cpu_us_per_req_median"], "2.50", "user cpu median")
    raw = table(md, "Raw data")
    user_row = [r for r in raw if r[3] == "user"][0]
    eq(user_row[4:8], ["100", "100–100", "5.50", "2.5"],
       "raw data row: median, min-max, p99, cpu")


def test_cpu_ratio_and_wrk_share():
    rows = cell(nginx=[100, 100, 100], user=[100, 100, 100],
                supervisor=[100, 100])
    # nginx: 20 us/req median, wrk 1 s of 1 + 3 s busy; user: 5 us/req,
    # wrk 3 s of 3 + 1; supervisor: no wrk time measured in one run
    for r, cpu, srv, wrk in zip(rows,
                                (10, 20, 30, 4, 5, 6, 8, 8),
                                (3, 3, 3, 1, 1, 1, 2, 2),
                                (1, 1, 1, 3, 3, 3, 2, "")):
        r["cpu_us_per_req"], r["cpu_s"], r["wrk_cpu_s"] = cpu, srv, wrk
    md, s, _ = made(rows)
    key = (KIB, "keepalive", 64, 1)
    eq(s[key + ("nginx",)]["cpu_ratio_nginx"], "1.0000", "nginx / nginx")
    eq(s[key + ("user",)]["cpu_ratio_nginx"], "0.2500", "user 5 / 20")
    eq(s[key + ("nginx",)]["wrk_cpu_share"], "0.2500", "nginx: wrk 1 of 4")
    eq(s[key + ("user",)]["wrk_cpu_share"], "0.7500", "user: wrk 3 of 4")
    eq(s[key + ("supervisor",)]["wrk_cpu_share"], "0.5000",
       "a run without wrk's time is left out")
    eq(table(md, "CPU per request relative to nginx"),
       [["1 KiB", "keep-alive", "64", "wrk 25%", "0.25 (wrk 75%)",
         "0.40 (wrk 50%)"]], "CPU table")


def test_p99_under_the_median_not_measured():
    """wrk printed "99%  0.00us" for some pipelined rounds: a 99th
    percentile under the median is left out, not taken as a number."""
    rows = cell(nginx=[(100, 8.0), (100, 12.0), (100, 10.0)],
                user=[(100, 5.0), (100, 6.0), (100, 4.0)])
    for r in rows[3:5]:
        r["p99_ms"] = 0.0
    md, s, _ = made(rows)
    u = s[(KIB, "keepalive", 64, 1, "user")]
    eq(u["p99_median_ms"], "4.000", "user p99 median of the one measured")
    eq(u["p99_ratio_nginx"], "0.4000", "user p99 / nginx p99")


def test_failed_runs_excluded_and_counted():
    md, s, _ = made(cell(nginx=[100, "", 300, 200], user=["", "", ""]))
    n = s[(KIB, "keepalive", 64, 1, "nginx")]
    eq((n["runs"], n["failed_runs"]), ("4", "1"), "runs, failed")
    eq(n["rps_median"], "200.0", "median without the failed run")
    eq(n["rps_min"], "100.0", "min without the failed run")
    u = s[(KIB, "keepalive", 64, 1, "user")]
    eq((u["runs"], u["failed_runs"], u["rps_median"], u["rps_ratio_nginx"]),
       ("3", "3", "", ""), "all runs failed")
    raw = {r[3]: r for r in table(md, "Raw data")}
    eq(raw["nginx"][8], "4 (**1 failed**)", "nginx runs in the md")
    eq(raw["user"][8], "3 (**3 failed**)", "user runs in the md")
    eq(raw["user"][4], "—", "user median in the md")
    assert "**4 of them failed**" in md, "failed total not shown"
    eq(table(md, "Requests/s relative to nginx")[0][4], "—",
       "user ratio with every run failed")


def test_targets_met():
    # each exactly on its limit; in floating point 2.4 / 1.6, 2.4 / 3.0 and
    # 3.3 / 3.0 fall just short of it and 18.513 / 16.83 just beyond
    rows = target_cells(
        ka={"nginx": (1.6, 10), "user": (1.6, 11), "supervisor": (2.4, 10),
            "limit": (3.0, 5)},
        close={"nginx": (1000, 10), "user": (1100, 9),
               "supervisor": (1300, 8)},
        mib={"nginx": (3.0, 16.83), "user": (3.0, 18.513),
             "supervisor": (3.3, 16.83)})
    md, _, _ = made(rows)
    t = targets(md)
    for key in ALL_TARGETS:
        assert key in t, "no target row %r" % (key,)
        eq(t[key][1], "met", "%s %s (measured %s)" % (key + (t[key][0],)))
    eq(t[T_SUP_CL][0], "1.30 (1300 / 1000 req/s)", "measured supervisor")
    eq(t[T_LIMIT][0], "0.80 (2 / 3 req/s)", "measured vs limit")
    eq(t[T_SUP_MIB][0], "1.10 (3 / 3 req/s)", "measured 1 MiB")
    assert t[T_P99_USER][0].startswith("3 of 3 cells; worst: "), t[T_P99_USER]


def test_targets_missed():
    rows = target_cells(
        ka={"nginx": (1000, 10), "user": (990, 10),
            "supervisor": (1499.6, 10.5), "limit": (1875, 5)},
        close={"nginx": (1000, 10), "user": (999, 11.5),
               "supervisor": (1290, 8)},
        mib={"nginx": (100, 20), "user": (99, 22), "supervisor": (109, 20)})
    md, _, _ = made(rows)
    t = targets(md)
    for key in ALL_TARGETS:
        assert key in t, "no target row %r" % (key,)
        eq(t[key][1], "missed", "%s %s (measured %s)" % (key + (t[key][0],)))
    # 1.4996 would print as 1.50 and look met: shown with 4 decimals
    assert t[T_SUP_KA][0].startswith("1.4996 "), t[T_SUP_KA][0]
    # 1499.6 / 1875 = 0.7998 would print as 0.80
    assert t[T_LIMIT][0].startswith("0.7998 "), t[T_LIMIT][0]
    eq(t[T_USER_KA][0], "0.99 (990 / 1000 req/s)", "measured user")


def test_p99_counting_and_worst_cell():
    rows = (cell(KIB, "keepalive", 64,
                 nginx=[(100, 10)], supervisor=[(100, 5)], user=[(100, 10.5)])
            + cell(16 * KIB, "close", 256,
                   nginx=[(100, 10)], supervisor=[(100, 13)], user=[(100, 11)])
            + cell(MIB, "keepalive", 16,
                   nginx=[(100, 10)], supervisor=[(100, 9)], user=[(100, 10)])
            # pipelined: left out of the targets, however bad
            + cell(KIB, "keepalive", 64, pipeline=8,
                   nginx=[(100, 10)], supervisor=[(100, 50)],
                   user=[(100, 50)]))
    t = targets(made(rows)[0])
    eq(t[T_P99_SUP], ("2 of 3 cells; worst: 16 KiB, close, 256 conns, "
                      "1.30 × nginx", "missed"), "supervisor p99")
    eq(t[T_P99_USER], ("3 of 3 cells; worst: 16 KiB, close, 256 conns, "
                       "1.10 × nginx", "met"), "user p99")


def test_not_measured_without_supervisor():
    rows = target_cells(
        ka={"nginx": (1000, 10), "user": (1200, 10)},
        close={"nginx": (1000, 10), "user": (900, 10)},
        mib={"nginx": (100, 10), "user": (100, 10)})
    for r in rows:
        r["kernel"] = "host"
    md, s, _ = made(rows)
    t = targets(md)
    for key in (T_SUP_KA, T_SUP_CL, T_SUP_MIB, T_P99_SUP, T_LIMIT):
        eq(t[key], ("—", "not measured"), "%s %s" % key)
    eq(t[T_USER_KA][1], "met", "user keep-alive")
    eq(t[T_USER_CL][1], "missed", "user close")
    eq(t[T_P99_USER][1], "met", "user p99")
    assert md.startswith("# kserver vs nginx — host, "), md.splitlines()[0]
    assert "loopback" in md and "TCG" not in md, "host caveat"
    header = [line for line in section(md, "Requests/s relative to nginx")
              .splitlines() if line.startswith("| File")][0]
    assert "supervisor" not in header and "limit" not in header, header


def test_limit_not_measured_without_limit():
    rows = target_cells(ka={"nginx": (1000, 10), "supervisor": (2000, 5)},
                        close={"nginx": (1000, 10)}, mib={"nginx": (10, 1)})
    t = targets(made(rows)[0])
    eq(t[T_LIMIT], ("—", "not measured"), "supervisor / limit")
    eq(t[T_SUP_KA][1], "met", "supervisor keep-alive")
    eq(t[T_SUP_CL][1], "not measured", "no supervisor in the close cell")


def test_cell_without_nginx():
    rows = cell(nginx=[100], user=[100]) + \
        cell(16 * KIB, "close", 16, user=[50, 60], supervisor=[70])
    md, s, _ = made(rows)
    u = s[(16 * KIB, "close", 16, 1, "user")]
    eq((u["rps_median"], u["rps_ratio_nginx"], u["p99_ratio_nginx"]),
       ("55.0", "", ""), "no nginx: no ratio")
    ratios = {tuple(r[:3]): r for r in
              table(md, "Requests/s relative to nginx")}
    eq(ratios[("16 KiB", "close", "16")][3:], ["—", "—", "—"],
       "ratio row without nginx")
    eq(ratios[("1 KiB", "keep-alive", "64")][4], "1.00 (±0%)", "user ratio")


def test_ratio_tables_labels_and_spread():
    rows = (cell(KIB, "keepalive", 16, nginx=[1000, 1000, 1000],
                 user=[(1440, 9), (1500, 10), (1560, 11)],
                 supervisor=[2000, 2000, 2000], limit=[2500, 2500, 2500])
            + cell(KIB, "keepalive", 256, pipeline=8, nginx=[(100, 20)],
                   user=[(250, 30)])
            + cell(256 * KIB, "close", 64, nginx=[100], user=[80])
            + cell(MIB, "keepalive", 64, nginx=[100], user=[120])
            + cell(16 * KIB, "keepalive", 64, nginx=[100], user=[90]))
    md, _, _ = made(rows)
    rps = table(md, "Requests/s relative to nginx")
    eq([r[:3] for r in rps],
       [["1 KiB", "keep-alive", "16"],
        ["1 KiB", "keep-alive, pipeline 8", "256"],
        ["16 KiB", "keep-alive", "64"], ["256 KiB", "close", "64"],
        ["1 MiB", "keep-alive", "64"]], "cells, labels, order")
    # spread (1560 - 1440) / 1500 = 8 %: ±4 %
    eq(rps[0][3:], ["±0%", "1.50 (±4%)", "2.00 (±0%)", "2.50 (±0%)"],
       "requests/s ratios")
    eq(rps[1][3:], ["±0%", "2.50 (±0%)", "—", "—"], "pipelined cell")
    p99 = table(md, "p99 latency relative to nginx")
    # p99 9 10 11 over nginx's 10; spread (11 - 9) / 10 = 20 %: ±10 %
    eq(p99[0][4], "1.00 (±10%)", "user p99 ratio")
    eq(p99[1][4], "1.50 (±0%)", "pipelined p99 ratio 30 / 20")


def test_round_by_round_ratios_cancel_drift():
    # the guest halves its speed in round 3: median to median user looks
    # level (100 / 100), round by round it is 1.10 ahead in 2 of 3 rounds
    rows = (cell(KIB, "keepalive", 64, nginx=[100, 100, 50],
                 user=[110, 100, 55], supervisor=[200, 200, 100])
            + cell(MIB, "close", 64, nginx=[100, ""], user=[90, 80]))
    md, _, _ = made(rows)
    rps = {tuple(r[:3]): r for r in
           table(md, "Requests/s relative to nginx")}
    eq(rps[("1 KiB", "keep-alive", "64")][4], "1.00 (±28%)",
       "median to median")
    paired = {tuple(r[:3]): r[3:] for r in
              table(md, "Requests/s relative to nginx, round by round")}
    eq(paired[("1 KiB", "keep-alive", "64")], ["1.10 (1.00–1.10)",
                                               "2.00 (2.00–2.00)"],
       "round by round")
    # nginx failed round 2: only round 1 pairs
    eq(paired[("1 MiB", "close", "64")], ["0.90 (0.90–0.90)", "—"],
       "a round without nginx is left out")


def test_summary_csv_layout():
    rows = cell(limit=[3], supervisor=[2], user=[1], nginx=[4]) + \
        cell(MIB, "close", 16, nginx=[4]) + \
        cell(KIB, "keepalive", 16, pipeline=8, user=[1], nginx=[2]) + \
        cell(KIB, "close", 16, nginx=[1])
    _, _, prefix = made(rows)
    with open(prefix + ".csv") as f:
        lines = f.read().splitlines()
    eq(lines[0], SUMMARY_HEADER, "summary header")
    eq([tuple(line.split(",")[:5]) for line in lines[1:]],
       [("1024", "keepalive", "64", "1", "nginx"),
        ("1024", "keepalive", "64", "1", "user"),
        ("1024", "keepalive", "64", "1", "supervisor"),
        ("1024", "keepalive", "64", "1", "limit"),
        ("1024", "keepalive", "16", "8", "nginx"),
        ("1024", "keepalive", "16", "8", "user"),
        ("1024", "close", "16", "1", "nginx"),
        ("1048576", "close", "16", "1", "nginx")], "rows and their order")


def test_errors_flagged():
    rows = cell(nginx=[100, 100], user=[100, 100])
    rows[2]["socket_errors"], rows[3]["socket_errors"] = 2, 1
    rows[3]["non2xx"] = 5
    md, s, _ = made(rows)
    u = s[(KIB, "keepalive", 64, 1, "user")]
    eq((u["socket_errors"], u["non2xx"]), ("3", "5"), "summed errors")
    raw = {r[3]: r for r in table(md, "Raw data")}
    eq(raw["user"][9], "**3 socket errors, 5 non-2xx**", "user errors cell")
    eq(raw["nginx"][9], "0", "nginx errors cell")


def md_with_meta(meta):
    """The markdown of a one-cell report made with --meta META."""
    raw = write_raw(cell(nginx=[1], user=[1]))
    mpath = os.path.join(os.path.dirname(raw), "meta.json")
    with open(mpath, "w") as f:
        json.dump(meta, f)
    rc, _, err, prefix = report(raw, "--meta", mpath)
    eq(rc, 0, "exit status (%s)" % err.strip())
    with open(prefix + ".md") as f:
        return f.read()


def test_meta_in_markdown():
    conf = ("worker_processes 2;\nevents { worker_connections 1024; }\n"
            "http { sendfile on; access_log off; }\n")
    meta = {"notes": "a note", "zz_custom": "custom value",
            "nginx_conf": conf, "command": "make bench KVER=6.12.117",
            "date": "2031-02-03", "wrk": "wrk -t2 -c{conns} -d5s --latency",
            "guest": "2 vCPUs, TCG"}
    md = md_with_meta(meta)
    eq(md.splitlines()[0], "# kserver vs nginx — %s, 2031-02-03" % KERNEL,
       "title")
    how = section(md, "How this was measured")
    assert "`make bench KVER=6.12.117`" in how, "command missing:\n" + how
    assert "```\n" + conf.strip() + "\n```" in how, \
        "nginx.conf not in a code block:\n" + how
    order = [how.index(s) for s in (
        "2031-02-03", "2 vCPUs, TCG", "make bench", "wrk -t2",
        "worker_processes", "a note", "custom value")]
    eq(order, sorted(order), "known keys in order, unknown ones last")
    assert "TCG" in md.split("## Targets")[0], "caveat missing"


def test_instruction_counted_run_says_so():
    meta = {"date": "2031-02-03", "command": "make bench ICOUNT=1",
            "guest": "QEMU TCG guest; instruction-counted (guest.sh --icount)",
            "clock": "instructions"}
    md = md_with_meta(meta)
    eq(md.splitlines()[0], "# kserver vs nginx — %s, 2031-02-03, "
       "instruction-counted" % KERNEL, "title")
    caveat = md.split("## Targets")[0]
    assert "measure instructions" in caveat and "timed runs" in caveat, \
        "no instruction-count caveat:\n" + caveat
    assert "- Guest clock: instructions" in md, "clock not recorded"
    # the clock key decides, not the machine's description
    meta["clock"] = "time"
    md = md_with_meta(meta)
    assert "instruction-counted" not in md.splitlines()[0], "timed run titled counted"


def test_without_meta_dated_today():
    md, _, _ = made(cell(nginx=[1], user=[1]))
    eq(md.splitlines()[0], "# kserver vs nginx — %s, %s" % (
        KERNEL, datetime.date.today().isoformat()), "title")
    assert "--meta" in section(md, "How this was measured")


def test_raw_copy():
    raw = write_raw(cell(nginx=[1, 2], user=[3, 4]))
    rc, _, err, prefix = report(raw)
    eq(rc, 0, "exit status (%s)" % err.strip())
    with open(raw, "rb") as a, open(prefix + "-raw.csv", "rb") as b:
        original = a.read()
        assert original == b.read(), "PREFIX-raw.csv differs from the input"
    # the raw file already at PREFIX-raw.csv: reported in place, unharmed
    p = subprocess.run([sys.executable, REPORT, prefix + "-raw.csv", "--out",
                        prefix, "--no-png"], capture_output=True, text=True)
    eq(p.returncode, 0, "in place (%s)" % p.stderr.strip())
    with open(prefix + "-raw.csv", "rb") as b:
        assert original == b.read(), "in-place raw file changed"


def test_png():
    if shutil.which("gnuplot") is None:
        return "skipped: no gnuplot"
    rows = (cell(nginx=[100, 110, 90], user=[120, 130, 125],
                 supervisor=[170, 160, 180], limit=[200, 210, 190])
            + cell(MIB, "close", 256, nginx=[10, 11], user=[12, 13],
                   supervisor=["", 15])
            + cell(16 * KIB, "close", 16, user=[5]))
    md, _, prefix = made(rows, png=True)
    with open(prefix + ".png", "rb") as f:
        data = f.read()
    eq(data[:8], b"\x89PNG\r\n\x1a\n", "PNG magic")
    assert len(data) > 5000, "a %d-byte PNG is no chart" % len(data)
    assert "![requests/s relative to nginx](report.png)" in md, \
        "chart not linked from the md"


def test_no_png_flag():
    md, _, prefix = made(cell(nginx=[1], user=[1]))
    assert not os.path.exists(prefix + ".png"), "--no-png drew a chart"
    assert "No chart: made with `--no-png`." in md, "md does not say so"


def test_gnuplot_missing():
    empty = tempfile.mkdtemp(dir=TMP)
    rc, _, err, prefix = report(write_raw(cell(nginx=[1], user=[2])),
                                png=True, env={"PATH": empty})
    eq(rc, 0, "exit status (%s)" % err.strip())
    assert "gnuplot is not installed" in err, "stderr: %r" % err
    with open(prefix + ".md") as f:
        assert "No chart: gnuplot is not installed." in f.read()
    assert not os.path.exists(prefix + ".png"), "a chart without gnuplot"


def test_gnuplot_failure():
    bin_dir = tempfile.mkdtemp(dir=TMP)
    fake = os.path.join(bin_dir, "gnuplot")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'line 3: boom: no such terminal' >&2\n"
                "exit 1\n")
    os.chmod(fake, 0o755)
    rc, _, err, prefix = report(write_raw(cell(nginx=[1], user=[2])),
                                png=True, env={"PATH": bin_dir})
    assert rc not in (0, 2), "exit %d on a gnuplot failure" % rc
    assert "boom: no such terminal" in err, "gnuplot's stderr: %r" % err
    assert not os.path.exists(prefix + ".png"), "a PNG from a failed gnuplot"
    # a gnuplot that says it succeeded but wrote no PNG failed too
    with open(fake, "w") as f:
        f.write("#!/bin/sh\n"
                "echo 'not a png' >\"$(dirname \"$1\")/chart.png\"\n")
    rc, _, err, prefix = report(write_raw(cell(nginx=[1], user=[2])),
                                png=True, env={"PATH": bin_dir})
    assert rc not in (0, 2), "exit %d when gnuplot drew no PNG" % rc
    assert "no PNG" in err, "stderr: %r" % err
    assert not os.path.exists(prefix + ".png"), "a .png that is no PNG"


def test_bad_input():
    good = cell(nginx=[1, 2], user=[3, 4])
    bad_rps = cell(nginx=[1, 2], user=[3, 4])
    bad_rps[2]["rps"] = "fast"
    bad_size = cell(nginx=[1])
    bad_size[0]["size"] = "1k"
    bad_conn = cell(nginx=[1])
    bad_conn[0]["conn"] = "persistent"
    two_kernels = cell(nginx=[1]) + cell(nginx=[1], kernel="6.1.0-28-amd64")
    cases = [
        ("missing file", os.path.join(TMP, "nope.csv"), "nope.csv"),
        ("missing column", write_raw(good, columns=[c for c in COLUMNS
                                                    if c != "p99_ms"]),
         "p99_ms"),
        ("non-numeric rps", write_raw(bad_rps), "'fast'"),
        ("non-integer size", write_raw(bad_size), "'1k'"),
        ("unknown conn", write_raw(bad_conn), "persistent"),
        ("header only", write_raw([]), "no runs"),
        ("two kernels", write_raw(two_kernels), "6.1.0-28-amd64"),
    ]
    empty = os.path.join(tempfile.mkdtemp(dir=TMP), "empty.csv")
    open(empty, "w").close()
    cases.append(("empty file", empty, "empty"))
    bad_meta_raw = write_raw(good)
    meta = os.path.join(os.path.dirname(bad_meta_raw), "meta.json")
    with open(meta, "w") as f:
        f.write("{not json")
    for name, raw, needle in cases + [("bad meta", bad_meta_raw, "meta.json")]:
        flags = ("--meta", meta) if name == "bad meta" else ()
        rc, _, err, prefix = report(raw, *flags)
        eq(rc, 2, "%s: exit status" % name)
        lines = err.strip().splitlines()
        eq(len(lines), 1, "%s: stderr lines %r" % (name, lines))
        assert needle in lines[0], "%s: %r lacks %r" % (name, lines[0], needle)
        assert not os.path.exists(prefix + ".md"), "%s: md written" % name


def test_help():
    p = subprocess.run([sys.executable, REPORT, "--help"],
                       capture_output=True, text=True)
    eq(p.returncode, 0, "--help exit status")
    for word in ("usage:", "RAW.csv", "--out", "--meta", "--no-png"):
        assert word in p.stdout, "%r not in --help" % word


if __name__ == "__main__":
    sys.exit(cases.run(sys.modules[__name__], "test-report-"))
