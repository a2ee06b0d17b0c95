"""Raw bad bytes: garbage, oversized headers, half a request, bodies,
binary junk. Each gets its error (or a close) and hushd keeps serving."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, status_of  # noqa

SECRET = "ghp_badinputsecret0123456789abcdefABCDEF"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
request_timeout = 1s
idle_timeout = 2s
max_request_size = 2KiB
[client "gw"]
socket = {dir}/gw.sock
allow = tok
[credential "tok"]
source = file:{dir}/tok
"""

t = Checks()
h = Hushd(CONF, start=False)
h.write("tok", SECRET)
h.start()


def still_serving(desc):
    st, _, body = h.request("/v1/credentials/tok")
    t.ok(st == 200 and body == SECRET.encode(), "still serving after " + desc)


try:
    out = h.raw(b"this is not http\r\n\r\n")
    t.eq(status_of(out), 400, "garbage: 400")
    t.ok(b'{"error":' in out and b"Connection: close" in out,
         "garbage: JSON error and Connection: close")
    t.ok(not out.endswith(b"<timeout>"), "garbage: connection closed")
    still_serving("garbage")

    big = b"GET /v1/health HTTP/1.1\r\nX-Pad: " + b"a" * 4000 + b"\r\n\r\n"
    out = h.raw(big)
    t.eq(status_of(out), 431, "headers over max_request_size: 431")
    still_serving("oversized headers")

    out = h.raw(b"GET /v1/health HTTP/1.1\r\n" + b"X: y\r\n" * 1000)
    t.eq(status_of(out), 431, "endless headers: 431")

    t0 = time.time()
    out = h.raw(b"GET /v1/credentials/tok HTTP/1.1\r\nHost: x\r\n",
                timeout=10)
    t.eq(status_of(out), 408, "half a request then silence: 408")
    t.ok(not out.endswith(b"<timeout>"), "half a request: closed after 408")
    t.ok(SECRET.encode() not in out, "half a request: no value")

    out = h.raw(b"POST /v1/credentials/tok HTTP/1.1\r\n"
                b"Content-Length: 5\r\n\r\nhello")
    t.eq(status_of(out), 405, "POST with a body: 405")
    out = h.raw(b"GET /v1/credentials/tok HTTP/1.1\r\n"
                b"Content-Length: 5\r\n\r\nhello")
    t.eq(status_of(out), 413, "GET with a body: 413")
    out = h.raw(b"GET /v1/credentials/tok HTTP/1.1\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    t.eq(status_of(out), 413, "chunked body: 413")

    out = h.raw(bytes(range(256)) * 8)
    t.eq(status_of(out), 400, "binary junk: 400")
    for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2"):
        out = h.raw(b"GET /v1/credentials/one " + v + b"\r\n\r\n")
        t.eq(status_of(out), 505, "%s: 505" % v.decode())
        t.ok(b"Connection: close" in out, "%s: then closed" % v.decode())
    out = h.raw(b"GET /v1/credentials/../../etc/passwd HTTP/1.1\r\n\r\n")
    t.eq(status_of(out), 404, "path traversal: 404")
    out = h.raw(b"GET /v1/credentials/tok%00 HTTP/1.1\r\n\r\n")
    t.eq(status_of(out), 404, "encoded NUL: 404")
    out = h.raw(b"GET /v1/credentials/tok HTTP/1.1\r\n"
                b"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n"
                b"Connection: close\r\n\r\n")
    t.eq(status_of(out), 200, "tokens ignored when none is configured")

    # connect and send nothing, or close mid-request: nothing breaks
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(h.sockets[0])
        s.sendall(b"GET /v1/cred")
        s.close()
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(h.sockets[0])
    still_serving("abandoned connections")
    idle.settimeout(10)
    t.eq(idle.recv(10), b"", "idle connection closed after idle_timeout")
    idle.close()

    lines = h.audit_lines()
    bad = [l for l in lines if l.get("result") == "bad-request"]
    t.ok(len(bad) >= 5, "bad requests audited", str(len(bad)))
    t.ok(any(l.get("status") == 408 for l in lines), "timeout audited")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    t.ok(SECRET not in h.stderr(), "no secret on stderr")
    t.ok(SECRET.encode() not in h.audit_text(), "no secret in the audit log")
    h.cleanup()
t.finish()
