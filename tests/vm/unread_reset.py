#!/usr/bin/env python3
"""unread_reset.py ADDR - a client asks for PATH (default /1m.bin), reads
nothing, and outlasts the server's send timeout (started with
--send-timeout 1): the server must reset the connection (SO_LINGER 0, as
nginx's reset_timedout_connection), so no orphan socket keeps the unsent
bytes. Checks the client sees ECONNRESET and /proc/net/sockstat counts no
orphans. Ends with "N passed, N failed"."""
import sys
import time

from httpc import Tally, ask, connect

addr = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "/1m.bin"


def orphans():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("orphan") + 1])
    return -1


t = Tally()
conns = []
for _ in range(8):
    s = connect(addr, rcvbuf=4096)
    ask(s, path.lstrip("/"))
    conns.append(s)
time.sleep(4)                      # send timeout 1 s, a loaded guest
resets = 0
for s in conns:
    s.settimeout(10)
    try:
        while s.recv(1 << 20):
            pass
    except ConnectionResetError:
        resets += 1
    s.close()
t.result(resets == 8,
         "8 clients that read nothing past the send timeout: %d reset" % resets)
n = orphans()
t.result(n == 0, "no orphan socket holds their bytes (sockstat orphan %d)" % n)
t.finish()
