#!/usr/bin/env python3
"""loan_hold.py ADDR NAME N SECONDS - N clients that each ask for NAME with
Connection: close and read nothing, held open SECONDS (then reset): in
supervisor mode each whole response leaves an orphaned socket that owes its
worker a loan (kmod/README.md). Prints "held" once every request is sent."""
import socket
import struct
import sys
import time

from httpc import ask, connect

addr, name, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4])
socks = [connect(addr, rcvbuf=64 << 10) for _ in range(n)]
for s in socks:
    ask(s, name, close=True)
print("held", flush=True)
time.sleep(seconds)
for s in socks:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
