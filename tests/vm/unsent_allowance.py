#!/usr/bin/env python3
"""unsent_allowance.py ADDR ROOT MODE - the unsent bytes a connection's
socket may queue are earned (kserver/handler.h, KS_UNSENT_MIN..KS_UNSENT_MAX).

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
Both requests then complete.
The last response of a connection (Connection: close) may borrow
KS_UNSENT_LOAN (1 MiB) more in supervisor mode (MODE), from a pool of
SAKURA_LOAN_POOL (32 MiB) per core that the orphaned socket repays once sent:
  close     one such request for 1 MiB that reads nothing: supervisor mode
            queues the whole body, more than it earned and at most its
            allowance plus the loan, and the socket, orphaned, is one debt
            in /proc/sakura; user mode (no loans) queues what it earned
  pool      100 of them at once: in supervisor mode no more than 32 loans of
            1 MiB per core are out, and every other socket queues what it
            earned; none in user mode
  repaid    those clients gone (reset), their debts are settled and the
            next one borrows again
ROOT gets an 8 MiB and a 1 MiB file. Ends with "N passed, N failed"."""
import fcntl
import os
import re
import socket
import struct
import sys
import termios
import time

from httpc import Tally, ask, connect, parse_addr, read_body, read_head

addr, root, mode = sys.argv[1], sys.argv[2], sys.argv[3]
port = parse_addr(addr)[1]
SIZE = 8 << 20
NAME = "unsent-%d.bin" % os.getpid()
KS_MIN = 128 << 10              # KS_UNSENT_MIN
LOAN = 1 << 20                  # KS_UNSENT_LOAN, and the loans' file
NAME1 = "loan-%d.bin" % os.getpid()
POOL = 32 << 20                 # SAKURA_LOAN_POOL, per core
SEG = 64 << 10                  # one segment's overshoot
CONNS = 100
t = Tally()


def server_queues():
    """tx_queue of the server's sockets, by their peer's (our) port."""
    q = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fl = line.split()
                lport = int(fl[1].rsplit(":", 1)[1], 16)
                rport = int(fl[2].rsplit(":", 1)[1], 16)
                if lport == port:
                    q[rport] = int(fl[4].split(":")[0], 16)
    return q


def server_queue(cport):
    """tx_queue of the server's socket whose peer is our port cport."""
    return server_queues().get(cport)


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


def fionread(s):
    return struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4))[0]


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def debts():
    """The kernel workers' debts (sockets holding a loan), or None."""
    try:
        with open("/proc/sakura") as f:
            return sum(int(m) for m in re.findall(r" debts (\d+)", f.read()))
    except OSError:
        return None


def settled_all(socks, timeout=15):
    """The server's queues for socks once they stopped growing."""
    cports = [c.getsockname()[1] for c in socks]
    last, end = None, time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.5)
        q = server_queues()
        now = [q.get(p, 0) for p in cports]
        if now == last:
            break
        last = now
    return last


def close_case():
    """A Connection: close request for 1 MiB that reads nothing: the
    client, the server's queue, and what it earned (with the overshoot)."""
    s = connect(addr, rcvbuf=64 << 10)
    ask(s, NAME1, close=True)
    q = settled(s.getsockname()[1])
    return s, q, earned(fionread(s)) + SEG


with open(os.path.join(root, NAME1), "wb") as f:
    f.write(os.urandom(LOAN))

s, q, bound = close_case()
d = debts()
if mode == "supervisor":
    t.result(q is not None and bound < q <= KS_MIN + LOAN + SEG and d == 1,
             "close: the last response borrows: the server queues more "
             "than earned (%s bytes; earned %d), at most the allowance and "
             "the loan (%d), and its connection is done: the socket, "
             "orphaned, owes it (debts %s)" % (q, bound, KS_MIN + LOAN + SEG,
                                               d))
else:
    t.result(q is not None and 0 < q <= bound,
             "close: user mode lends nothing: the server queues at most "
             "what was earned (%s bytes, bound %d)" % (q, bound))
t.result(body_length(s) == LOAN, "close: then the whole body arrives")
s.close()

socks = []
for _ in range(CONNS):
    c = connect(addr, rcvbuf=64 << 10)
    ask(c, NAME1, close=True)
    socks.append(c)
qs = settled_all(socks)
over = [max(0, qi - (earned(fionread(c)) + SEG)) for c, qi in zip(socks, qs)]
lent = sum(1 for o in over if o > 0)
cores = os.cpu_count()
if mode == "supervisor":
    t.result(0 < lent <= cores * POOL // LOAN and sum(over) <= cores * POOL,
             "pool: %d clients that read nothing: %d borrowed, %d bytes "
             "beyond what they earned (at most %d loans, %d bytes on %d "
             "cores)" % (CONNS, lent, sum(over), cores * POOL // LOAN,
                         cores * POOL, cores))
else:
    t.result(lent == 0, "pool: user mode: none of %d clients queues more "
             "than it earned (%d do)" % (CONNS, lent))
for c in socks:
    reset(c)

if mode == "supervisor":
    end = time.monotonic() + 5
    while debts() and time.monotonic() < end:
        time.sleep(0.2)
    d = debts()
    s, q, bound = close_case()
    t.result(d == 0 and q is not None and q > bound,
             "repaid: the reset sockets' debts are settled (%s left) and the "
             "next client borrows again (%s bytes; earned %d)" % (d, q, bound))
    reset(s)
os.unlink(os.path.join(root, NAME1))
os.unlink(os.path.join(root, NAME))
t.finish()
