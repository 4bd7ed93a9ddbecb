"""httpc.py - what the guest checks in tests/vm share: a small HTTP/1.1
client that frames responses by Content-Length (all a static server sends),
and the tally every check ends with ("N passed, N failed[, N skipped]").

Deliberately small and strict: a connection that closes before a whole head
is an error (ConnectionError), a timeout is an error (socket.timeout), and
only a reset or an EOF ends a body early - the checks themselves decide
whether a short body is right."""
import socket
import sys


def parse_addr(addr):
    """"host:port" or "[v6]:port" -> (host, port)."""
    host, port = addr.rsplit(":", 1)
    return host.strip("[]"), int(port)


def connect(addr, rcvbuf=None, timeout=30):
    """A connection to addr. rcvbuf sets SO_RCVBUF before connecting, so the
    window the server sees is small from the first segment."""
    host, port = parse_addr(addr)
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def ask(s, path, close=False):
    """Send GET /path (path without its leading slash)."""
    s.sendall(("GET /%s HTTP/1.1\r\nHost: k\r\n%s\r\n"
               % (path, "Connection: close\r\n" if close else "")).encode())


def read_head(s):
    """One response head: (status, Content-Length or None, the body bytes
    that came with the head, as a bytearray)."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a whole head (%d bytes)"
                                  % len(data))
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head.split()[1]), length, bytearray(body)


def read_body(s, body, length, to_eof=False):
    """Read into body (from read_head) until it holds length bytes, or until
    EOF when to_eof (every byte after the body is kept, so a check sees any
    extra), or until a reset or EOF comes first. Returns body."""
    while to_eof or length is None or len(body) < length:
        try:
            chunk = s.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        body += chunk
    return body


def get(addr, path, conn=None, timeout=30):
    """One GET /path: on conn (kept alive) when given, else on a new
    connection with Connection: close, read to EOF and closed.
    Returns (status, Content-Length, body)."""
    s = conn or connect(addr, timeout=timeout)
    try:
        ask(s, path, close=conn is None)
        status, length, body = read_head(s)
        return status, length, read_body(s, body, length, to_eof=conn is None)
    finally:
        if conn is None:
            s.close()


class Tally:
    """ok/FAIL lines as checks finish, and the closing summary line."""

    def __init__(self, with_skipped=False):
        self.passed = self.failed = self.skipped = 0
        self.with_skipped = with_skipped

    def result(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %s" % ("ok  " if ok else "FAIL", what))
        sys.stdout.flush()

    def skip(self, n, why):
        self.skipped += n
        self.with_skipped = True
        print("skip " + why)
        sys.stdout.flush()

    def finish(self):
        """Print the summary and exit 1 if anything failed."""
        print("%d passed, %d failed%s" % (
            self.passed, self.failed,
            ", %d skipped" % self.skipped if self.with_skipped else ""))
        sys.exit(1 if self.failed else 0)
