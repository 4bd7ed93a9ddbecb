#!/usr/bin/env python3
"""name_memo.py ADDR ROOT MODE - names are never answered from a stale walk.

In supervisor mode the kernel worker remembers where the walk of a name led
(kmod/io_kern.c, the name memo) and skips the walk while nothing a walk
would see has changed. Whatever the mode, each check below asks for a name
a few times on a keep-alive connection (so the supervisor worker serving
it remembers the name), changes the file system under it in one way, and
asks again at once on the same connection (the same worker): the answer
must be what a fresh walk finds.

  renamed      a directory on the way renamed away, a new one in its place
  unlinked     the file unlinked and created again (no rename anywhere),
               then unlinked: 404
  mounted      a tmpfs mounted on a directory on the way, then unmounted
  bind         another file bind-mounted over the file, then unmounted
  symlink      a directory symlink on the way removed and made again to
               point elsewhere (no rename): walks through symlinks are
               never remembered

With MODE supervisor, /proc/sakura's names_hits must grow while a name is
asked again and again (the memo is used), and a name reached through a
symlink must not be remembered (names_misses does not grow). Needs root
(mount). Ends with "N passed, N failed"."""
import os
import shutil
import subprocess
import sys
import time

import httpc

addr, root, mode = sys.argv[1], sys.argv[2], sys.argv[3]
REPEAT = 5


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def proc_sum(field):
    """A /proc/sakura counter summed over every core."""
    total = 0
    with open("/proc/sakura") as f:
        for line in f:
            words = line.split()
            for i, w in enumerate(words[:-1]):
                if w == field:
                    total += int(words[i + 1])
    return total


class Client:
    """One keep-alive connection for a whole check: a supervisor worker
    serves a connection on one core, whose memo the answers after the
    change would come from."""

    def __init__(self):
        self.conn = httpc.connect(addr)

    def close(self):
        self.conn.close()

    def ask(self, name, times=REPEAT):
        """GET name `times` times: the (status, body) all answers agree on."""
        got = set()
        for _ in range(times):
            status, _, body = httpc.get(addr, "/" + name, conn=self.conn)
            got.add((status, bytes(body)))
        assert len(got) == 1, "answers changed with nothing changed: %r" % got
        return got.pop()

    def expect(self, name, status, body=None):
        got = self.ask(name)
        if body is not None:
            want = (status, body.encode())
            assert got == want, "%s: %r, a fresh walk gives %r" % (
                name, got, want)
        else:
            assert got[0] == status, "%s: status %d, want %d" % (
                name, got[0], status)


def mount(*args):
    subprocess.run(("mount",) + args, check=True)


def umount(path):
    """Unmount; the servers' open-file caches close what they hold once
    it idles for 1 s, so an unmount may be busy until then."""
    for _ in range(50):
        if subprocess.run(("umount", path), stderr=subprocess.DEVNULL).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("%s still busy 5 s after the last request" % path)


def renamed(c):
    write(os.path.join(root, "r/d/f.txt"), "one")
    c.expect("r/d/f.txt", 200, "one")
    os.rename(os.path.join(root, "r/d"), os.path.join(root, "r/d.old"))
    write(os.path.join(root, "r/d/f.txt"), "two")
    c.expect("r/d/f.txt", 200, "two")
    shutil.rmtree(os.path.join(root, "r/d"))
    c.expect("r/d/f.txt", 404)
    return "a renamed directory is seen at once"


def unlinked(c):
    path = os.path.join(root, "c/f.txt")
    write(path, "one")
    c.expect("c/f.txt", 200, "one")
    os.unlink(path)
    write(path, "two")
    c.expect("c/f.txt", 200, "two")
    os.unlink(path)
    c.expect("c/f.txt", 404)
    return "a file unlinked and created again is the new one; deleted, 404"


def mounted_over(c, name, target, how, before, after, fill=None):
    """name answers `before`; mount (mount args `how`) on target, fill the
    mount, and it answers `after`; unmount, and `before` again."""
    c.expect(name, 200, before)
    mount(*how, target)
    try:
        if fill:
            fill()
        c.expect(name, 200, after)
    finally:
        umount(target)
    c.expect(name, 200, before)


def mounted(c):
    d = os.path.join(root, "m/d")
    write(os.path.join(d, "f.txt"), "under")
    mounted_over(c, "m/d/f.txt", d, ("-t", "tmpfs", "-o", "size=1m",
                                     "kserver-names"), "under", "over",
                 lambda: write(os.path.join(d, "f.txt"), "over"))
    return "a mount on a directory on the way, and its unmount, are seen at once"


def bind(c):
    path = os.path.join(root, "b/f.txt")
    other = os.path.join(root, "b-other.txt")
    write(path, "mine")
    write(other, "other")
    mounted_over(c, "b/f.txt", path, ("--bind", other), "mine", "other")
    return "a file bind-mounted over the file, and its unmount, are seen at once"


def symlink(c):
    write(os.path.join(root, "s/d1/f.txt"), "one")
    write(os.path.join(root, "s/d2/f.txt"), "two")
    link = os.path.join(root, "s/l")
    os.symlink("d1", link)
    before = proc_sum("names_misses") if mode == "supervisor" else 0
    c.expect("s/l/f.txt", 200, "one")
    remembered = proc_sum("names_misses") - before if mode == "supervisor" else 0
    os.unlink(link)
    os.symlink("d2", link)
    c.expect("s/l/f.txt", 200, "two")
    assert remembered == 0, "a walk through a symlink was remembered"
    return "a directory symlink made again elsewhere is followed at once"


def used(c):
    if mode != "supervisor":
        return "user mode walks every time (openat2)"
    write(os.path.join(root, "u/f.txt"), "one")
    c.ask("u/f.txt", 1)
    before = proc_sum("names_hits")
    c.ask("u/f.txt", 20)
    hits = proc_sum("names_hits") - before
    assert hits >= 15, "%d of 20 requests skipped the walk" % hits
    return "%d of 20 requests for a remembered name skipped the walk" % hits


t = httpc.Tally()
for name, fn in (("renamed", renamed), ("unlinked", unlinked),
                 ("mounted", mounted), ("bind", bind),
                 ("symlink", symlink), ("used", used)):
    c = Client()
    try:
        t.result(True, "%s: %s" % (name, fn(c)))
    except Exception as e:      # every failure kind is a failed check
        t.result(False, "%s: %s: %s" % (name, type(e).__name__, e))
    finally:
        c.close()
t.finish()
