"""cases.py - the small runner the tests/loadtest/test_*.py files share:
every module-level test_NAME() function is a case, run in order of
definition with the module's TMP set to a fresh temporary directory; prints
"ok NAME" (with the note a case returns, if any) or "FAIL NAME: why" per
case, then "N passed, N failed"; --only SUBSTRING picks cases. Returns the
exit status: 0 iff nothing failed.
"""
import argparse
import sys
import tempfile


def run(module, prefix):
    """Run module's test_* functions; module is sys.modules[__name__]."""
    ap = argparse.ArgumentParser(description=module.__doc__.split("\n")[0])
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    tests = [(name[5:], fn) for name, fn in vars(module).items()
             if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        module.TMP = tmp
        for name, fn in tests:
            if args.only not in name:
                continue
            try:
                note = fn()
                print("ok   %s%s" % (name, " (%s)" % note if note else ""))
                passed += 1
            except Exception as e:  # noqa: BLE001 - report every failure kind
                print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
                failed += 1
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
