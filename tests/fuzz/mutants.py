#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mutants.py [--seconds N] [NAME...] - prove the harnesses' checks can fail.

Each mutant breaks one thing in a copy of kserver/ (or of the harness) under
build/fuzz/mutants/, builds the harness against the copy, runs the
checked-in corpus, then fuzzes up to N seconds (default 30); the mutant must
be caught with the expected message. Not part of make test (minutes).
Prints "ok"/"FAIL" per mutant and "N passed, N failed".
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(TOP, "build", "fuzz", "mutants")
SHARED = ["http_parse.c", "uri.c", "http_date.c", "mime.c", "http_cond.c",
          "response.c"]
CFLAGS = ["-std=gnu11", "-O1", "-g", "-fsanitize=fuzzer,address,undefined",
          "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-w"]

# name, harness, file (in kserver/ or tests/fuzz/), old, new, expected output
MUTANTS = [
    ("status-line", "fuzz_handler", "response.c", '"HTTP/1.1 "', '"HTTP/1.0 "',
     "bad status line"),
    ("head-end", "fuzz_handler", "response.c", 'KS_PUT_LIT(&w, "\\r\\n\\r\\n");',
     'KS_PUT_LIT(&w, "\\r\\n");', "fuzz invariant failed"),
    ("content-length", "fuzz_handler", "handler.c",
     "h.content_length = f->size ? last - first + 1 : 0;",
     "h.content_length = f->size ? last - first + 2 : 0;",
     "fuzz invariant failed"),
    ("file-leak", "fuzz_handler", "handler.c",
     "\t\tc->w->ops->close(c->w, &c->file);\n\t\tc->file_open = false;",
     "\t\tc->file_open = false;", "open"),
    ("idle-buffer", "fuzz_handler", "handler.c",
     "if (!c->rlen && c->state == KS_CS_IDLE)\n\t\t\t\tks_buf_release(c);",
     "if (0)\n\t\t\t\tks_buf_release(c);", "idle connection holds a buffer"),
    ("yield-early", "fuzz_handler", "handler.c",
     "requests++ == KS_PASS_REQUESTS", "requests++ == 2", "yields after"),
    ("read-without-eagain", "fuzz_handler", "handler.c",
     "\t\tc->rlen += r;\n", "\t\tc->rlen += r;\n\t\tif (r == 1)\n\t\t\treturn KS_WANT_READ;\n",
     "waits to read without recv"),
    ("no-deadline", "fuzz_handler", "handler.c",
     "if (!c->rlen && c->state == KS_CS_IDLE)\n\t\t\t\tks_buf_release(c);",
     "if (!c->rlen && c->state == KS_CS_IDLE)\n\t\t\t\tks_buf_release(c);\n"
     "\t\t\tks_link_del(&c->tlink);", "without a deadline"),
    ("absolute-path", "fuzz_handler", "handler.c",
     "err = ks_open_stat(c, path + 1);\n\tif (err) {",
     "err = ks_open_stat(c, path);\n\tif (err) {", "absolute path"),
    ("hidden-served", "fuzz_handler", "handler.c",
     "!cfg->serve_hidden && ks_path_is_hidden(path, len)", "0",
     "without --serve-hidden"),
    ("dot-kept", "fuzz_handler", "uri.c",
     "if (o - seg == 1 && out[seg] == '.') {", "if (0) {", "'.' in"),
    ("nul-decoded", "fuzz_handler", "uri.c",
     "if (c == 0)\n\t\t\t\treturn -EINVAL;", "if (0)\n\t\t\t\treturn -EINVAL;",
     "the reference refuses"),
    ("head-without-more", "fuzz_handler", "handler.c",
     "c->foff < c->fend || c->more_follows ||", "c->more_follows ||",
     "without more"),
    ("more-on-last", "fuzz_handler", "handler.c",
     "c->foff < c->fend || c->more_follows ||\n\t\t\t      ks_conn_holds_tail(c));",
     "true);", "more on a response's last bytes"),
    ("error-page", "fuzz_handler", "handler.c",
     "blen = ks_error_body(body, 512, status);", "blen = ks_error_body(body, 512, 404);",
     "fuzz invariant failed"),
    ("keeps-after-close", "fuzz_handler", "handler.c",
     "\tks_file_close(c);\n\tif (!c->keepalive)", "\tks_file_close(c);\n\tif (0)",
     "after a Connection: close"),
    ("error-keeps-alive", "fuzz_handler", "handler.c",
     "return status == 400 ||", "return status == 1 ||", "keeps the connection"),
    ("send-after-shutdown", "fuzz_handler", "handler.c",
     "\tks_file_close(c);\n\tif (ks_status_closes(status))",
     "\tks_file_close(c);\n\tc->w->ops->shutdown(c);\n\tif (ks_status_closes(status))",
     "after shutdown"),
    ("inline-offset", "fuzz_handler", "handler.c",
     "n = c->w->ops->read(c->w, &c->file, c->foff,",
     "n = c->w->ops->read(c->w, &c->file, c->foff, 1 +",
     "body byte"),
    ("sendfile-offset", "fuzz_handler", "handler.c",
     "n = ops->send_file(c, &c->file, c->foff,",
     "n = ops->send_file(c, &c->file, c->foff + (c->foff > 0),",
     "send_file at"),
    ("buf-leak", "fuzz_handler", "handler.c",
     "\tks_file_close(c);\n\tks_buf_release(c);\n\tks_link_del",
     "\tks_file_close(c);\n\tks_link_del", "buf_get"),
    ("short-send-waits", "fuzz_handler", "handler.c",
     "!ks_unsent_grow(c) && c->sock_full)", "!ks_unsent_grow(c))",
     "or a full socket"),
    ("earn-on-sent", "fuzz_handler", "handler.c",
     "c->file_sent - KS_MIN(c->file_sent, (u64)queued)", "c->file_sent",
     "unsent allowance"),
    ("full-unasked", "fuzz_handler", "handler.c",
     "!ks_unsent_grow(c) && ", "", "without asking"),
    ("stays-corked", "fuzz_handler", "handler.c",
     "\tif (!ks_conn_holds_tail(c))\n\t\tks_uncork(c);\n", "",
     "corked"),
    ("tail-pushed", "fuzz_handler", "handler.h",
     "\treturn !c->keepalive;", "\treturn false;", "tail not held"),
    ("tail-held-keepalive", "fuzz_handler", "handler.h",
     "\treturn !c->keepalive;", "\treturn true;",
     "more on a response's last bytes"),
    ("cork-twice", "fuzz_handler", "handler.c",
     "\tif (!c->corked) {\n\t\tc->w->ops->cork(c, true);",
     "\t{\n\t\tc->w->ops->cork(c, true);", "twice"),
    ("finish-lingers", "fuzz_handler", "handler.c",
     "\tks_request_done(c);\n\tif (!unread) {\n\t\tif (c->w->ops->finish)",
     "\tks_request_done(c);\n\tif (c->w->ops->finish)\n"
     "\t\tc->w->ops->finish(c);\n\tif (!unread) {\n\t\tif (0)",
     "finish"),
    ("loan-keepalive", "fuzz_handler", "handler.c",
     "if (c->keepalive || c->borrowed ||", "if (c->borrowed ||",
     "keep-alive"),
    ("loan-twice", "fuzz_handler", "handler.c",
     "if (c->keepalive || c->borrowed ||", "if (c->keepalive ||",
     "a second loan"),
    ("loan-unused", "fuzz_handler", "handler.c",
     "\tc->unsent_max += KS_MIN(got, KS_UNSENT_LOAN);\n"
     "\tc->w->ops->set_unsent_max(c, c->unsent_max);",
     "", "loan"),
    ("loan-fits", "fuzz_handler", "handler.c",
     "\t    rest <= c->unsent_max)", "\t    !rest)", "a loan of"),
    ("runs-bound", "fuzz_handler", "tests/fuzz/fuzz_handler.c",
     "#define FZ_RUNS_MAX 200000", "#define FZ_RUNS_MAX 3", "more than 3 runs"),
    ("log-outside", "fuzz_handler", "handler.c",
     ".request = c->req.line,", ".request = { ks_wbuf(c), c->req.line.len },",
     "log string outside"),
    ("uri-climb", "fuzz_parse", "uri.c", "if (seg == 1)\n\t\t\t\treturn -EINVAL;",
     "if (seg == 1)\n\t\t\t\tbreak;", "reference"),
    ("range-past-end", "fuzz_parse", "http_cond.c",
     "*last = (big_b || b >= size) ? size - 1 : b;", "*last = big_b ? size - 1 : b;",
     "range"),
    ("head-scan-resume", "fuzz_parse", "http_parse.c",
     "\ts->pos = len;\n\tif (!s->first_line_end) {",
     "\ts->pos = len > 0 ? len - 1 : 0;\n\ts->line_start = s->pos;\n"
     "\tif (!s->first_line_end) {", "in pieces"),
]


def build(name, harness, fname, old, new):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in os.listdir(os.path.join(TOP, "kserver")):
        if f.endswith((".c", ".h")):
            shutil.copy(os.path.join(TOP, "kserver", f), d)
    fz = os.path.join(d, "fuzz")
    shutil.copytree(HERE, fz, ignore=shutil.ignore_patterns("corpus"))
    path = os.path.join(d, fname) if "/" not in fname else \
        os.path.join(fz, os.path.basename(fname))
    src = open(path).read()
    if src.count(old) < 1:
        return None, "pattern not found in %s" % fname
    open(path, "w").write(src.replace(old, new, 1))
    srcs = [os.path.join(fz, harness + ".c")] + [os.path.join(d, f) for f in SHARED]
    if harness == "fuzz_handler":
        srcs += [os.path.join(fz, "fake_io.c"), os.path.join(d, "handler.c")]
    binary = os.path.join(d, harness)
    r = subprocess.run(["clang"] + CFLAGS + ["-I" + d, "-o", binary] + srcs,
                       capture_output=True, text=True)
    if r.returncode:
        return None, "does not build: " + r.stderr[-300:]
    return binary, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    passed = failed = 0
    for name, harness, fname, old, new, want in MUTANTS:
        if a.names and name not in a.names:
            continue
        binary, err = build(name, harness, fname, old, new)
        if not binary:
            print("FAIL %s: %s" % (name, err))
            failed += 1
            continue
        work = os.path.join(OUT, name, "corpus")
        shutil.copytree(os.path.join(HERE, "corpus", harness), work)
        r = subprocess.run([binary, "-max_total_time=%d" % a.seconds,
                            "-timeout=10", "-max_len=8192",
                            "-dict=" + os.path.join(HERE, "http.dict"),
                            "-artifact_prefix=" + os.path.join(OUT, name) + "/",
                            work], capture_output=True, text=True)
        caught = r.returncode != 0
        line = next((l for l in r.stderr.splitlines()
                     if "fuzz invariant failed" in l or "ERROR" in l
                     or "runtime error" in l), "")
        if caught and want in r.stderr:
            print("ok   %s: caught: %s" % (name, line.strip()[:150]))
            passed += 1
        else:
            print("FAIL %s: %s (want '%s') %s" % (
                name, "caught otherwise" if caught else "survived", want,
                line.strip()[:150]))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
