#!/usr/bin/env python3
"""unread_reset.py ADDR - a client asks for PATH (default /1m.bin), reads
nothing, and outlasts the server's send timeout (started with
--send-timeout 1): the server must reset the connection (SO_LINGER 0, as
nginx's reset_timedout_connection), so no orphan socket keeps the unsent
bytes. Checks the client sees ECONNRESET and /proc/net/sockstat counts no
orphans. Ends with "N passed, N failed"."""
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
path = sys.argv[2] if len(sys.argv) > 2 else "/1m.bin"


def orphans():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("orphan") + 1])
    return -1


passed = failed = 0


def result(what, ok):
    global passed, failed
    print("%s %s" % ("ok" if ok else "FAIL", what))
    passed += ok
    failed += not ok


conns = []
for _ in range(8):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(("GET %s HTTP/1.1\r\nHost: r\r\n\r\n" % path).encode())
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
result("8 clients that read nothing past the send timeout: %d reset" % resets,
       resets == 8)
n = orphans()
result("no orphan socket holds their bytes (sockstat orphan %d)" % n, n == 0)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
