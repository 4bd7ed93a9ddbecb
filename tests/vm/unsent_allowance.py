#!/usr/bin/env python3
"""unsent_allowance.py ADDR ROOT - the unsent bytes a connection's socket may
queue are earned (kserver/handler.h, KS_UNSENT_MIN..KS_UNSENT_MAX).

The client keeps a small receive buffer (64 KiB), so what the server's
socket holds beyond it is the unsent queue its allowance admits. Read from
the server's side of the connection in /proc/net/tcp (tx_queue: unsent plus
unacknowledged bytes) once it stops growing:
  new       a connection that asks for 8 MiB and reads nothing: what the
            client took is what waits in its receive queue (FIONREAD), and
            the server queues no more than the allowance that earned
            (128 KiB, doubled while at most twice what it took:
            KS_UNSENT_EARN 4) plus one segment's overshoot (64 KiB)
  earned    a connection that first took 8 MiB at full speed, then asks again
            and reads nothing: the server queues more than 1 MiB (its
            allowance has doubled five times, to 4 MiB)
Both requests then complete. ROOT gets the 8 MiB file. Ends with
"N passed, N failed"."""
import fcntl
import os
import struct
import sys
import termios
import time

from httpc import Tally, ask, connect, parse_addr, read_body, read_head

addr, root = sys.argv[1], sys.argv[2]
port = parse_addr(addr)[1]
SIZE = 8 << 20
NAME = "unsent-%d.bin" % os.getpid()
t = Tally()


def server_queue(cport):
    """tx_queue of the server's socket whose peer is our port cport."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fl = line.split()
                lport = int(fl[1].rsplit(":", 1)[1], 16)
                rport = int(fl[2].rsplit(":", 1)[1], 16)
                if lport == port and rport == cport:
                    return int(fl[4].split(":")[0], 16)
    return None


def settled(cport):
    """The server's queue once it stopped growing (at most 5 s)."""
    last, end = -1, time.monotonic() + 5
    while time.monotonic() < end:
        time.sleep(0.3)
        q = server_queue(cport)
        if q is not None and q == last:
            return q
        last = q if q is not None else last
    return last


def earned(took):
    """ks_unsent_earned(KS_UNSENT_MIN, took) (kserver/handler.h)."""
    cur = 128 << 10
    while cur < 4 << 20 and 2 * cur <= 4 * took:
        cur *= 2
    return cur


def body_length(s):
    """The length of the whole body of the response on s."""
    _, length, body = read_head(s)
    return len(read_body(s, body, length))


with open(os.path.join(root, NAME), "wb") as f:
    f.write(os.urandom(1 << 20) * (SIZE >> 20))

s = connect(addr, rcvbuf=64 << 10)
ask(s, NAME)
q = settled(s.getsockname()[1])
took = struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4))[0]
bound = earned(took) + (64 << 10)
t.result(q is not None and 0 < q <= bound,
         "new: the server queues at most what a client that reads nothing "
         "earned (%s bytes; it took %d, bound %d)" % (q, took, bound))
t.result(body_length(s) == SIZE, "new: then the whole body arrives")
s.close()

s = connect(addr, rcvbuf=64 << 10)
ask(s, NAME)
first = body_length(s)
ask(s, NAME)
q = settled(s.getsockname()[1])
t.result(first == SIZE and q is not None and q > 1 << 20,
         "earned: after taking 8 MiB the server queues more than 1 MiB for "
         "the same client (%s bytes)" % q)
t.result(body_length(s) == SIZE, "earned: then the whole body arrives")
s.close()
os.unlink(os.path.join(root, NAME))
t.finish()
