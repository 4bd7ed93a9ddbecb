#!/usr/bin/env python3
"""loadtest/report.py - the benchmark report: kserver (user, supervisor) and
nginx side by side, from the raw CSV the bench writes (one row per wrk run).

Usage: report.py RAW.csv --out PREFIX [--meta META.json] [--no-png]

Writes PREFIX.md (the report), PREFIX.csv (one row per cell and server),
PREFIX.png (requests/s relative to nginx, drawn by gnuplot) and PREFIX-raw.csv
(a copy of RAW.csv). A cell is one (size, conn, conns, pipeline); a run with
an empty rps failed: it is counted and shown, and left out of every median.
Exit 0 on success, 2 on bad input (one line on stderr), 1 if gnuplot fails.
"""
import argparse
import csv
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

RAW_COLUMNS = ("kernel", "size", "conn", "conns", "pipeline", "round",
               "server", "duration_s", "requests", "rps", "p50_ms", "p99_ms",
               "socket_errors", "non2xx", "cpu_s", "wrk_cpu_s",
               "cpu_us_per_req")
# must be present and whole numbers; the other numbers may be empty
REQUIRED_INT = ("size", "conns", "pipeline", "round")
OPTIONAL_INT = ("socket_errors", "non2xx")
OPTIONAL_FLOAT = ("duration_s", "requests", "rps", "p50_ms", "p99_ms",
                  "cpu_s", "wrk_cpu_s", "cpu_us_per_req")
CONN_RANK = {"keepalive": 0, "close": 1}

SUMMARY_COLUMNS = ("size", "conn", "conns", "pipeline", "server", "runs",
                   "failed_runs", "rps_median", "rps_min", "rps_max",
                   "spread_pct", "p99_median_ms", "cpu_us_per_req_median",
                   "rps_ratio_nginx", "p99_ratio_nginx", "socket_errors",
                   "non2xx", "cpu_ratio_nginx", "wrk_cpu_share")

BASELINE = "nginx"
SERVER_ORDER = ("nginx", "user", "supervisor", "limit")
SERVER_COLOURS = {"user": "#4e79a7", "supervisor": "#e15759",
                  "limit": "#9c9c9c"}
OTHER_COLOURS = ("#59a14f", "#edc948", "#b07aa1", "#76b7b2")

# (size, conn, conns, server, versus, at least), requests/s, pipeline 1
RATE_TARGETS = (
    (1024, "keepalive", 64, "supervisor", "nginx", 1.5),
    (1024, "keepalive", 64, "user", "nginx", 1.0),
    (1024, "close", 64, "supervisor", "nginx", 1.3),
    (1024, "close", 64, "user", "nginx", 1.0),
    (1048576, "keepalive", 64, "supervisor", "nginx", 1.1),
    (1048576, "keepalive", 64, "user", "nginx", 1.0),
)
# (server, at most this many times nginx's p99) in every pipeline-1 cell
P99_TARGETS = (("supervisor", 1.0), ("user", 1.1))
LIMIT_TARGET = (1024, "keepalive", 64, "supervisor", "limit", 0.8)

META_ORDER = ("date", "kernel", "guest", "clock", "cpus", "rounds", "duration",
              "elapsed", "command", "wrk", "kserver", "nginx_version",
              "nginx_conf", "docroot", "notes")
META_LABELS = {"date": "Date", "kernel": "Kernel", "guest": "Machine",
               "clock": "Guest clock",
               "cpus": "CPUs", "rounds": "Rounds per cell",
               "duration": "Duration", "elapsed": "Whole run",
               "command": "Command", "wrk": "wrk", "kserver": "kserver",
               "nginx_version": "nginx", "nginx_conf": "nginx.conf",
               "docroot": "Docroot", "notes": "Notes"}
META_AS_CODE = ("command", "wrk", "kserver", "nginx_conf")

EPSILON = 1e-9          # 2.2 / 2.0 must still count as "1.1 x nginx"
DASH = "\u2014"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class BadInput(Exception):
    """Input no report can be made from; the message is the one line."""


@dataclass
class Stats:
    """One server in one cell, over all its rounds."""
    runs: int = 0
    failed: int = 0
    rps: list = field(default_factory=list)
    p99: list = field(default_factory=list)
    cpu: list = field(default_factory=list)
    wrk_share: list = field(default_factory=list)  # wrk's of all busy CPU
    socket_errors: int = 0
    non2xx: int = 0
    rps_median: float = None
    rps_min: float = None
    rps_max: float = None
    spread_pct: float = None
    p99_median: float = None
    p99_spread_pct: float = None
    cpu_median: float = None
    wrk_share_median: float = None
    cpu_ratio: float = None     # server CPU per request over nginx's
    rps_ratio: float = None     # median over nginx's median, same cell
    p99_ratio: float = None
    ratio_lo: float = None      # min and max rps over nginx's median
    ratio_hi: float = None
    by_round: dict = field(default_factory=dict)    # round: rps
    paired: list = field(default_factory=list)      # rps / nginx's, per round
    paired_median: float = None


# --- reading ----------------------------------------------------------------

def parse_number(text, integer, where, column):
    """The value of one CSV field; BadInput unless a finite number."""
    try:
        v = float(text)
    except ValueError:
        raise BadInput("%s: %s %r is not a number" % (where, column, text))
    if not math.isfinite(v) or (integer and not v.is_integer()):
        raise BadInput("%s: %s %r is not a%s number" % (
            where, column, text, "n integer" if integer else " finite"))
    return int(v) if integer else v


def parse_run(row, where):
    """One CSV row as typed values: ints, floats, None for an empty field."""
    run = {}
    for c in RAW_COLUMNS:
        text = (row.get(c) or "").strip()
        if c in REQUIRED_INT:
            if not text:
                raise BadInput("%s: %s is empty" % (where, c))
            run[c] = parse_number(text, True, where, c)
        elif c in OPTIONAL_INT or c in OPTIONAL_FLOAT:
            run[c] = (parse_number(text, c in OPTIONAL_INT, where, c)
                      if text else None)
        else:
            run[c] = text
    if run["conn"] not in CONN_RANK:
        raise BadInput("%s: conn %r is neither keepalive nor close" %
                       (where, run["conn"]))
    if not run["server"]:
        raise BadInput("%s: server is empty" % where)
    # wrk sometimes prints "99%  0.00us" for pipelined runs (its max says
    # otherwise): a 99th percentile under the median was not measured
    if run["p99_ms"] is not None and run["p50_ms"] is not None and \
            run["p99_ms"] < run["p50_ms"]:
        run["p99_ms"] = None
    return run


def read_raw(path):
    """The runs of RAW.csv, typed; BadInput if no report can be made."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror))
    runs = []
    with f:
        reader = csv.DictReader(f)
        try:
            header = reader.fieldnames
            if header is None:
                raise BadInput("%s: empty file, expected a header" % path)
            header = [c.strip() for c in header]
            missing = [c for c in RAW_COLUMNS if c not in header]
            if missing:
                raise BadInput("%s: missing column%s: %s" % (
                    path, "s" if len(missing) > 1 else "",
                    ", ".join(missing)))
            reader.fieldnames = header
            for row in reader:
                runs.append(parse_run(row, "%s:%d" % (path,
                                                      reader.line_num)))
        except (UnicodeDecodeError, csv.Error) as e:
            raise BadInput("%s: not a readable CSV file: %s" % (path, e))
    if not runs:
        raise BadInput("%s: no runs, only a header" % path)
    kernels = sorted({r["kernel"] for r in runs})
    if len(kernels) > 1:
        raise BadInput("%s: runs from %d kernels (%s); make one report per "
                       "kernel" % (path, len(kernels), ", ".join(kernels)))
    return runs


def read_meta(path):
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror))
    except ValueError as e:
        raise BadInput("%s: not JSON: %s" % (path, e))
    if not isinstance(meta, dict):
        raise BadInput("%s: not a JSON object" % path)
    return meta


# --- statistics -------------------------------------------------------------

def ratio(a, b):
    return a / b if a is not None and b else None


def spread(values, median):
    """(max - min) / median in percent, None when that means nothing."""
    if not values or not median:
        return None
    return (max(values) - min(values)) / median * 100


def summarise(runs):
    """{cell: {server: Stats}}, a cell being (size, conn, conns, pipeline)."""
    cells = {}
    for r in runs:
        cell = (r["size"], r["conn"], r["conns"], r["pipeline"])
        st = cells.setdefault(cell, {}).setdefault(r["server"], Stats())
        st.runs += 1
        st.socket_errors += r["socket_errors"] or 0
        st.non2xx += r["non2xx"] or 0
        if r["rps"] is None:
            st.failed += 1
            continue
        st.rps.append(r["rps"])
        st.by_round[r["round"]] = r["rps"]
        if r["p99_ms"] is not None:
            st.p99.append(r["p99_ms"])
        if r["cpu_us_per_req"] is not None:
            st.cpu.append(r["cpu_us_per_req"])
        if r["cpu_s"] is not None and r["wrk_cpu_s"] is not None and \
                r["cpu_s"] + r["wrk_cpu_s"] > 0:
            st.wrk_share.append(r["wrk_cpu_s"] /
                                (r["cpu_s"] + r["wrk_cpu_s"]))
    for servers in cells.values():
        for st in servers.values():
            if st.rps:
                st.rps_median = statistics.median(st.rps)
                st.rps_min, st.rps_max = min(st.rps), max(st.rps)
                st.spread_pct = spread(st.rps, st.rps_median)
            if st.p99:
                st.p99_median = statistics.median(st.p99)
                st.p99_spread_pct = spread(st.p99, st.p99_median)
            if st.cpu:
                st.cpu_median = statistics.median(st.cpu)
            if st.wrk_share:
                st.wrk_share_median = statistics.median(st.wrk_share)
        base = servers.get(BASELINE)
        if base is None:
            continue
        for st in servers.values():
            st.rps_ratio = ratio(st.rps_median, base.rps_median)
            st.p99_ratio = ratio(st.p99_median, base.p99_median)
            st.cpu_ratio = ratio(st.cpu_median, base.cpu_median)
            st.ratio_lo = ratio(st.rps_min, base.rps_median)
            st.ratio_hi = ratio(st.rps_max, base.rps_median)
            # paired: each round against nginx's run of the same round
            st.paired = [st.by_round[k] / base.by_round[k]
                         for k in sorted(st.by_round)
                         if base.by_round.get(k)]
            if st.paired:
                st.paired_median = statistics.median(st.paired)
    return cells


def cell_order(cell):
    """Size, then keep-alive before close, pipelined after, then conns."""
    size, conn, conns, pipeline = cell
    return (size, CONN_RANK[conn], pipeline, conns)


def servers_present(cells):
    """Every server in cells: nginx, user, supervisor, limit, then others."""
    names = {s for servers in cells.values() for s in servers}
    return ([s for s in SERVER_ORDER if s in names] +
            sorted(names - set(SERVER_ORDER)))


# --- labels and numbers -----------------------------------------------------

def size_label(size):
    for unit, name in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit and size % unit == 0:
            return "%d %s" % (size // unit, name)
    return "%d B" % size


def conn_label(conn, pipeline):
    name = "keep-alive" if conn == "keepalive" else "close"
    return name if pipeline == 1 else "%s, pipeline %d" % (name, pipeline)


def cell_label(cell):
    size, conn, conns, pipeline = cell
    return "%s, %s, %d conns" % (size_label(size), conn_label(conn, pipeline),
                                 conns)


def fmt(v, decimals):
    return DASH if v is None else "%.*f" % (decimals, v)


def half_spread(pct):
    """"±4%" for an 8 % spread (half of it, rounded half up)."""
    return "\u00b1%d%%" % int(pct / 2 + 0.5)


def fmt_against(v, limit):
    """v with 2 decimals, or 4 where 2 would round it across limit."""
    shown = "%.2f" % v
    r = float(shown)
    if (r >= limit - EPSILON) != (v >= limit - EPSILON) or \
       (r <= limit + EPSILON) != (v <= limit + EPSILON):
        shown = "%.4f" % v
    return shown


# --- summary CSV ------------------------------------------------------------

def write_summary(path, cells):
    def num(v, decimals):
        return "" if v is None else "%.*f" % (decimals, v)

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SUMMARY_COLUMNS)
        for cell in sorted(cells, key=cell_order):
            servers = cells[cell]
            for name in servers_present({cell: servers}):
                st = servers[name]
                w.writerow([*cell, name, st.runs, st.failed,
                            num(st.rps_median, 1), num(st.rps_min, 1),
                            num(st.rps_max, 1), num(st.spread_pct, 2),
                            num(st.p99_median, 3), num(st.cpu_median, 2),
                            num(st.rps_ratio, 4), num(st.p99_ratio, 4),
                            st.socket_errors, st.non2xx,
                            num(st.cpu_ratio, 4),
                            num(st.wrk_share_median, 4)])


# --- targets ----------------------------------------------------------------

def rate_target(cells, target):
    """The targets table's row for one requests/s ratio."""
    size, conn, conns, server, versus, least = target
    where = "%s, %s, %d conns" % (
        size_label(size),
        "keep-alive" if conn == "keepalive" else "Connection: close", conns)
    goal = "%s / %s \u2265 %.1f" % (server, versus, least)
    servers = cells.get((size, conn, conns, 1), {})
    a, b = servers.get(server), servers.get(versus)
    v = ratio(a.rps_median, b.rps_median) if a and b else None
    if v is None:
        return [where, goal, DASH, "not measured"]
    measured = "%s (%s / %s req/s)" % (fmt_against(v, least),
                                       fmt(a.rps_median, 0),
                                       fmt(b.rps_median, 0))
    return [where, goal, measured,
            "met" if v >= least - EPSILON else "missed"]


def p99_target(cells, server, most):
    """The targets table's p99 row for server: how many cells meet it."""
    where = "p99 latency, every pipeline-1 cell"
    goal = "%s \u2264 %s" % (server, "nginx" if most == 1.0 else
                              "%.1f \u00d7 nginx" % most)
    judged = [(cells[c][server].p99_ratio, c)
              for c in sorted(cells, key=cell_order)
              if c[3] == 1 and server in cells[c] and
              cells[c][server].p99_ratio is not None]
    if not judged:
        return [where, goal, DASH, "not measured"]
    good = sum(1 for v, _ in judged if v <= most + EPSILON)
    worst, cell = max(judged, key=lambda j: j[0])
    measured = "%d of %d cells; worst: %s, %s \u00d7 nginx" % (
        good, len(judged), cell_label(cell), fmt_against(worst, most))
    return [where, goal, measured, "met" if good == len(judged) else "missed"]


def targets_rows(cells):
    rows = [rate_target(cells, t) for t in RATE_TARGETS]
    rows += [p99_target(cells, s, m) for s, m in P99_TARGETS]
    rows.append(rate_target(cells, LIMIT_TARGET))
    return rows


# --- markdown ---------------------------------------------------------------

def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def longest_backtick_run(text):
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


def code_span(text):
    ticks = "`" * (longest_backtick_run(text) + 1)
    pad = " " if "`" in text else ""
    return ticks + pad + text + pad + ticks


def code_block(text):
    fence = "`" * max(3, longest_backtick_run(text) + 1)
    return [fence, text.strip("\n"), fence]


def caveat(kernel, counted=False):
    if counted:
        where = ("The guest is emulated (QEMU TCG, no KVM) and "
                 "instruction-counted (tests/vm/guest.sh --icount): its clock "
                 "advances by the instructions executed, so these runs measure "
                 "instructions, repeatably, not time; cache misses, the "
                 "emulator's own costs and two CPUs running at once are not "
                 "in them, so they are a second view beside the timed runs, "
                 "not the same measurement")
    elif kernel == "host":
        where = ("These runs are on the host, over loopback: wrk and the "
                 "servers share its CPUs")
    else:
        where = ("The guest is emulated (QEMU TCG, no KVM), so every "
                 "instruction costs many times what it costs on hardware")
    return (where + ". Only the ratios mean anything: they are measured side "
            "by side in one run, the servers taking turns cell by cell and "
            "round by round. Absolute requests/s, latencies and CPU times are "
            "raw data, not a claim about any real machine.")


def paired_rows(cells, others):
    """The round-by-round table: per server, the median over the rounds of
    its requests/s over nginx's in the same round, and their min-max."""
    rows = []
    for cell in sorted(cells, key=cell_order):
        size, conn, conns, pipeline = cell
        row = [size_label(size), conn_label(conn, pipeline), str(conns)]
        for name in others:
            st = cells[cell].get(name)
            if st is None or not st.paired:
                row.append(DASH)
            else:
                row.append("%.2f (%.2f\u2013%.2f)" % (
                    st.paired_median, min(st.paired), max(st.paired)))
        rows.append(row)
    return rows


def ratio_rows(cells, others, which):
    """The requests/s (which="rps") or p99 ("p99") ratio table's rows."""
    rows = []
    for cell in sorted(cells, key=cell_order):
        servers = cells[cell]
        size, conn, conns, pipeline = cell
        row = [size_label(size), conn_label(conn, pipeline), str(conns)]
        for name in [BASELINE] + others:
            st = servers.get(name)
            v = sp = None
            if st is not None:
                v, sp = ((st.rps_ratio, st.spread_pct) if which == "rps"
                         else (st.p99_ratio, st.p99_spread_pct))
            if name == BASELINE:
                row.append(DASH if sp is None else half_spread(sp))
            elif v is None:
                row.append(DASH)
            else:
                row.append("%.2f" % v +
                           ("" if sp is None else " (%s)" % half_spread(sp)))
        rows.append(row)
    return rows


def cpu_rows(cells, others):
    """The CPU table's rows: nginx's wrk share, then per server its CPU per
    request over nginx's and its own wrk share."""
    def share(st):
        return DASH if st is None or st.wrk_share_median is None else \
            "wrk %.0f%%" % (st.wrk_share_median * 100)

    rows = []
    for cell in sorted(cells, key=cell_order):
        servers = cells[cell]
        size, conn, conns, pipeline = cell
        row = [size_label(size), conn_label(conn, pipeline), str(conns),
               share(servers.get(BASELINE))]
        for name in others:
            st = servers.get(name)
            if st is None or st.cpu_ratio is None:
                row.append(DASH)
            else:
                row.append("%.2f (%s)" % (st.cpu_ratio, share(st)))
        rows.append(row)
    return rows


def errors_cell(st):
    parts = []
    if st.socket_errors:
        parts.append("%d socket error%s" % (
            st.socket_errors, "" if st.socket_errors == 1 else "s"))
    if st.non2xx:
        parts.append("%d non-2xx" % st.non2xx)
    return "**%s**" % ", ".join(parts) if parts else "0"


def raw_rows(cells):
    rows = []
    for cell in sorted(cells, key=cell_order):
        servers = cells[cell]
        size, conn, conns, pipeline = cell
        for name in servers_present({cell: servers}):
            st = servers[name]
            span = DASH if st.rps_min is None else "%.0f\u2013%.0f" % (
                st.rps_min, st.rps_max)
            runs = (str(st.runs) if not st.failed else
                    "%d (**%d failed**)" % (st.runs, st.failed))
            rows.append([size_label(size), conn_label(conn, pipeline),
                         str(conns), name, fmt(st.rps_median, 0), span,
                         fmt(st.p99_median, 2), fmt(st.cpu_median, 1),
                         runs, errors_cell(st)])
    return rows


def meta_lines(meta):
    """META's fields, verbatim: known keys first, then the others."""
    if meta is None:
        return ["No description of the setup was given (`--meta`)."]
    keys = [k for k in META_ORDER if k in meta]
    keys += [k for k in meta if k not in META_ORDER]
    lines = []
    for k in keys:
        v = meta[k] if isinstance(meta[k], str) else json.dumps(meta[k])
        label = META_LABELS.get(k, k)
        if "\n" in v.strip("\n"):
            lines += ["", "%s:" % label, ""] + code_block(v) + [""]
        elif k in META_AS_CODE:
            lines.append("- %s: %s" % (label, code_span(v.strip())))
        else:
            lines.append("- %s: %s" % (label, v.strip()))
    return lines


def markdown(cells, kernel, date, meta, chart_line, raw_name, runs):
    servers = servers_present(cells)
    others = [s for s in servers if s != BASELINE]
    failed = sum(1 for r in runs if r["rps"] is None)
    counted = (meta or {}).get("clock") == "instructions"
    out = ["# kserver vs nginx \u2014 %s, %s%s" % (
        kernel or "unknown kernel", date,
        ", instruction-counted" if counted else ""),
           "", caveat(kernel, counted), ""]
    out += ["## Targets", "",
            "From the pipeline-1 cells; every ratio is median to median.", "",
            md_table(["Where", "Target", "Measured", "Result"],
                     targets_rows(cells)), ""]
    header = ["File", "Connection", "Conns", "nginx spread"] + \
        ["%s / nginx" % s for s in others]
    out += ["## Requests/s relative to nginx", "",
            "Each server's median requests/s over nginx's median in the same "
            "cell: above 1 is faster. (\u00b1N%) is half that server's "
            "spread, (max \u2212 min) / median, over the rounds.", "",
            md_table(header, ratio_rows(cells, others, "rps")), "",
            chart_line, ""]
    out += ["## Requests/s relative to nginx, round by round", "",
            "In each round the servers run one after another, so each "
            "server's requests/s over nginx's in the same round cancels what "
            "the whole guest does across a run (slowing down from one round "
            "on, say), which the median-to-median table above does not. "
            "Median of those per-round ratios (min\u2013max).", "",
            md_table(["File", "Connection", "Conns"] +
                     ["%s / nginx" % s for s in others],
                     paired_rows(cells, others)), ""]
    out += ["## p99 latency relative to nginx", "",
            "Each server's median p99 latency over nginx's median p99 in the "
            "same cell: below 1 is better. (\u00b1N%) is half the spread of "
            "that server's p99 over the rounds.", "",
            md_table(header, ratio_rows(cells, others, "p99")), ""]
    out += ["## CPU per request relative to nginx", "",
            "Each server's median CPU time per request (busy time of all "
            "CPUs during the run, minus wrk's own) over nginx's in the same "
            "cell: below 1 is cheaper. wrk N% is the load generator's "
            "median share of all the busy CPU time of that server's runs: "
            "where it is large, wrk, sharing the CPUs, caps requests/s "
            "whatever the server saves.", "",
            md_table(["File", "Connection", "Conns", "nginx"] +
                     ["%s / nginx" % s for s in others],
                     cpu_rows(cells, others)), ""]
    failed_note = "" if not failed else (
        " **%d of them failed** (no result: counted, left out of the "
        "medians)." % failed)
    out += ["## Raw data", "",
            "%d runs in `%s`.%s CPU \u00b5s/request: busy CPU time of all "
            "CPUs during the run, minus wrk's own, per request." % (
                len(runs), raw_name, failed_note), "",
            md_table(["File", "Connection", "Conns", "Server",
                      "req/s (median)", "min\u2013max", "p99 ms",
                      "CPU \u00b5s/req", "runs", "errors"], raw_rows(cells)),
            ""]
    out += ["## How this was measured", ""] + meta_lines(meta)
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"


# --- chart ------------------------------------------------------------------

def gp_string(s):
    """s as a single-quoted gnuplot string: no escapes but ''."""
    return "'" + s.replace("'", "''") + "'"


def chart_script(data, png, others, title, ymax):
    plots = []
    for i, name in enumerate(others):
        colour = SERVER_COLOURS.get(name,
                                    OTHER_COLOURS[i % len(OTHER_COLOURS)])
        using = "%d:%d:%d" % (2 + 3 * i, 3 + 3 * i, 4 + 3 * i)
        plots.append("%s using %s%s title %s lc rgb %s" % (
            gp_string(data), using, ":xtic(1)" if i == 0 else "",
            gp_string(name), gp_string(colour)))
    return "\n".join([
        "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {",
        "    set terminal pngcairo size 1400,700 noenhanced font 'sans,10'",
        "} else {",
        "    set terminal png size 1400,700 noenhanced",
        "}",
        "set output %s" % gp_string(png),
        "set title %s" % gp_string(title),
        "set datafile separator '\\t'",
        "set datafile missing '?'",
        "set style data histogram",
        "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.85 border -1",
        "set xtics rotate by 45 right nomirror",
        "set ylabel 'requests/s relative to nginx (median; bar: min to max)'",
        "set yrange [0:%.3f]" % ymax,
        "set grid ytics",
        "set key outside top center horizontal",
        "set bmargin 11",
        "set rmargin 9",
        "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 "
        "lc rgb 'black' dt 2 front",
        "set label 'nginx' at graph 1, first 1 left offset 1,0 front",
        "plot " + ", \\\n     ".join(plots),
        ""])


def chart_data(cells, others):
    """Tab-separated: label, then ratio, min, max for each server."""
    lines, top = [], 1.0
    for cell in sorted(cells, key=cell_order):
        size, conn, conns, pipeline = cell
        label = "%s, %s%s, %d" % (size_label(size),
                                  "keep-alive" if conn == "keepalive" else
                                  "close",
                                  "" if pipeline == 1 else " p%d" % pipeline,
                                  conns)
        fields = [label]
        for name in others:
            st = cells[cell].get(name)
            if st is None or st.rps_ratio is None:
                fields += ["?", "?", "?"]
                continue
            fields += ["%.4f" % v for v in
                       (st.rps_ratio, st.ratio_lo, st.ratio_hi)]
            top = max(top, st.ratio_hi)
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n", top


def write_chart(path, cells, kernel, date):
    """Draw path with gnuplot; None, or why there is no chart."""
    others = [s for s in servers_present(cells) if s != BASELINE]
    data, top = chart_data(cells, others)
    title = "kserver vs nginx: requests/s relative to nginx \u2014 %s, %s" % (
        kernel, date)
    with tempfile.TemporaryDirectory(prefix="ks-report-") as tmp:
        data_path = os.path.join(tmp, "ratios.tsv")
        script = os.path.join(tmp, "chart.gp")
        out = os.path.join(tmp, "chart.png")
        with open(data_path, "w", encoding="utf-8") as f:
            f.write(data)
        with open(script, "w", encoding="utf-8") as f:
            f.write(chart_script(data_path, out, others, title, top * 1.15))
        try:
            p = subprocess.run(["gnuplot", script], capture_output=True,
                               text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            return "gnuplot: %s" % e
        if p.returncode != 0:
            return "gnuplot exited %d: %s" % (p.returncode, p.stderr.strip())
        try:
            with open(out, "rb") as f:
                magic = f.read(len(PNG_MAGIC))
        except OSError:
            magic = b""
        if magic != PNG_MAGIC:
            return "gnuplot wrote no PNG: %s" % p.stderr.strip()
        shutil.copyfile(out, path)
    return None


# --- main -------------------------------------------------------------------

def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="report.py",
        description="The benchmark report, kserver vs nginx, from the "
        "bench's raw CSV (one row per wrk run).",
        epilog="Writes PREFIX.md, PREFIX.csv (one row per cell and server), "
        "PREFIX.png and PREFIX-raw.csv. Exit 0 on success, 2 on bad input, "
        "1 if gnuplot fails.")
    ap.add_argument("raw", metavar="RAW.csv", help="the bench's raw CSV")
    ap.add_argument("--out", metavar="PREFIX", required=True,
                    help="where to write, without the extension")
    ap.add_argument("--meta", metavar="META.json",
                    help="how it was measured: a JSON object of strings, "
                    "printed verbatim")
    ap.add_argument("--no-png", action="store_true",
                    help="draw no chart")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        runs = read_raw(args.raw)
        meta = read_meta(args.meta) if args.meta else None
    except BadInput as e:
        print("report.py: %s" % e, file=sys.stderr)
        return 2

    kernel = runs[0]["kernel"]
    date = str(meta.get("date", "")).strip() if meta else ""
    date = date or datetime.date.today().isoformat()
    cells = summarise(runs)
    if os.path.dirname(args.out):
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
    raw_copy = args.out + "-raw.csv"
    if not same_file(args.raw, raw_copy):
        shutil.copyfile(args.raw, raw_copy)
    write_summary(args.out + ".csv", cells)

    status = 0
    png = args.out + ".png"
    if args.no_png:
        chart_line = "No chart: made with `--no-png`."
    elif servers_present(cells) == [BASELINE]:
        chart_line = "No chart: only nginx in the data."
    elif shutil.which("gnuplot") is None:
        chart_line = "No chart: gnuplot is not installed."
        print("report.py: gnuplot is not installed: no chart",
              file=sys.stderr)
    else:
        problem = write_chart(png, cells, kernel, date)
        if problem is None:
            chart_line = "![requests/s relative to nginx](%s)" % \
                os.path.basename(png)
        else:
            chart_line = "No chart: %s." % problem.split("\n")[0]
            print("report.py: chart: %s" % problem, file=sys.stderr)
            status = 1
    with open(args.out + ".md", "w", encoding="utf-8") as f:
        f.write(markdown(cells, kernel, date, meta, chart_line,
                         os.path.basename(raw_copy), runs))
    return status


if __name__ == "__main__":
    sys.exit(main())
