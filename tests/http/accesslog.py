#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
accesslog.py - check an access log is nginx's "combined" format.

    accesslog.py LOG [USER_AGENT=EXPECTED ...]

Every line must be one well-formed combined record, printable ASCII only,
with '"', '\\' and non-printable bytes escaped as \\xHH (nginx's default
escaping):

    ADDR - USER [dd/Mon/yyyy:hh:mm:ss +zzzz] "REQUEST" STATUS BYTES "REFERER" "UA"

For each USER_AGENT=EXPECTED argument exactly one line must carry that user
agent, and its '"REQUEST" STATUS BYTES "REFERER"' part must equal EXPECTED.
Prints one line per check and "N passed, N failed"; exits 0 iff none failed.
"""

import re
import sys

QUOTED = r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\x[0-9A-Fa-f]{2})*)"'
COMBINED = re.compile(
    r"(?P<addr>[0-9A-Fa-f.:]+) - (?P<user>\S+) "
    r"\[\d\d/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}"
    r":\d\d:\d\d:\d\d [+-]\d{4}\] "
    r"(?P<middle>" + QUOTED + r" (?P<status>\d{3}) (?P<bytes>\d+) " + QUOTED + ")"
    r' "(?P<ua>(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\x[0-9A-Fa-f]{2})*)"')


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv[2:]):
        sys.exit(__doc__.strip().split("\n\n")[1])
    with open(argv[1], "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        lines.append(b"<no final newline>")
    records, results = [], []
    bad = []
    for n, raw in enumerate(lines, 1):
        m = COMBINED.fullmatch(raw.decode("latin-1"))
        if m:
            records.append(m)
        else:
            bad.append("line %d: %r" % (n, raw[:200]))
    results.append(("%d lines are combined records" % len(lines),
                    "; ".join(bad[:5]) if bad else None))
    if not lines:
        results.append(("log is not empty", "no lines"))
    for arg in argv[2:]:
        ua, want = arg.split("=", 1)
        found = [m.group("middle") for m in records if m.group("ua") == ua]
        why = None
        if found != [want]:
            why = "want one %r, found %r" % (want, found)
        results.append(("request with user agent " + ua, why))
    failed = 0
    for what, why in results:
        print("FAIL %s: %s" % (what, why) if why else "ok " + what)
        failed += bool(why)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
