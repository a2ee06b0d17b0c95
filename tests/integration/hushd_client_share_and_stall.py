"""One client cannot starve another: [client] max_connections is a
client's share of the global cap, and write_timeout closes a peer that
does not read its answers (pipelined requests, large or small answers). Another
client is served while the first holds its whole share and while it
stalls; the staller's slots come back after write_timeout."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, status_of  # noqa

SECRET = "calm-client-secret-0123456789abcdef"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
max_connections = 100
[client "hog"]
socket = {dir}/hog.sock
allow = big
max_connections = 4
write_timeout = 3s
[client "calm"]
socket = {dir}/calm.sock
allow = one
[credential "one"]
source = file:{dir}/one
[credential "big"]
source = file:{dir}/big
"""

t = Checks()
h = Hushd(CONF, sockets=("hog.sock", "calm.sock"), start=False)
h.write("one", SECRET)
# big enough that a few answers fill the socket; a 1 MiB value would
# make hushd's own stderr redaction slow at stop (a separate matter)
h.write("big", b"B" * (16 << 10))
h.start()
HOG, CALM = h.sockets
def hold(n, data=b"", fill=False):
    """n connections to hog that send data once (or until the socket is
    full: pipelining) and never read."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(HOG)
        if data and not fill:
            s.sendall(data)
        elif data:
            s.setblocking(False)
            try:
                while True:
                    s.send(data)
            except BlockingIOError:
                pass
        socks.append(s)
    return socks


def calm_get():
    return h.request("/v1/credentials/one", sock=CALM)[0]


def hog_health():
    return status_of(h.raw(b"GET /v1/health HTTP/1.1\r\nConnection: close"
                           b"\r\n\r\n", sock=HOG))


# the start-up probes count until hushd sees them go
for _ in range(100):
    if hog_health() == 200:
        break
    time.sleep(0.05)
try:
    # 1. idle connections: the whole share
    held = hold(4)
    time.sleep(0.3)
    t.eq(hog_health(), 503, "hog over its share of 4: 503")
    t.eq(calm_get(), 200, "calm is served while hog holds its share")
    for s in held:
        s.close()
    ok = False
    for _ in range(100):
        if hog_health() == 200:
            ok = True
            break
        time.sleep(0.05)
    t.ok(ok, "hog is served again when its connections go")

    # 2. stalling: two pipeline requests for 16 KiB, two for health; none
    # reads its answers
    big = b"GET /v1/credentials/big HTTP/1.1\r\nHost: h\r\n\r\n"
    small = b"GET /v1/health HTTP/1.1\r\nHost: h\r\n\r\n" * 64
    held = hold(2, big * 16, fill=True) + hold(2, small, fill=True)
    time.sleep(0.3)
    t.eq(calm_get(), 200, "calm is served while hog stalls")
    t.eq(hog_health(), 503, "while they stall, hog's share is full")

    def timeouts():
        return sum(1 for l in h.audit_lines(0)
                   if l.get("result") == "write-timeout")
    # a pipelining one stalls only once its answers fill the socket
    for _ in range(600):
        if timeouts() >= 4:
            break
        time.sleep(0.1)
    t.eq(timeouts(), 4, "each stalled connection is closed after "
         "write_timeout")
    t.eq(hog_health(), 200, "hog is served again")
    got = 0
    closed = 0
    for i, s in enumerate(held):
        got = 0
        s.setblocking(True)
        s.settimeout(5)
        try:
            while True:
                b = s.recv(1 << 20)
                if not b:
                    closed += 1
                    break
                got += len(b)
        except socket.timeout:
            print("# %d still open after %d bytes" % (i, got))
        except ConnectionResetError:
            closed += 1
        s.close()
    t.eq(closed, 4, "every stalled connection was closed by hushd")
    lines = h.audit_lines()
    t.ok(any(l.get("result") == "over-capacity" and l.get("client") == "hog"
             and l.get("reason") == "client max_connections" for l in lines),
         "audit: over the client's share")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    t.ok(SECRET not in h.stderr() and SECRET.encode() not in h.audit_text(),
         "no secret logged")
    h.cleanup()
t.finish()
