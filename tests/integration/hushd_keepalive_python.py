"""Python's http.client over a Unix socket: keep-alive, Connection: close,
pipelining, and the answers' headers."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, UnixHTTPConnection, status_of  # noqa

SECRET = "sk-ant-oat01-keepalive-secret-0123456789"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
allow = claude
[credential "claude"]
source = file:{dir}/claude.txt
content_type = text/plain
"""

t = Checks()
h = Hushd(CONF, start=False)
h.write("claude.txt", SECRET)
h.start()
try:
    c = UnixHTTPConnection(h.sockets[0])
    socks = set()
    for i in range(5):
        c.request("GET", "/v1/credentials/claude")
        r = c.getresponse()
        body = r.read()
        socks.add(id(c.sock))
        t.eq(r.status, 200, "request %d on one connection: 200" % i)
        t.eq(body.decode(), SECRET, "request %d: the value" % i)
        t.ok(not r.will_close, "request %d: connection kept open" % i)
    t.eq(len(socks), 1, "five requests used one connection")
    t.eq(r.getheader("Cache-Control"), "no-store", "Cache-Control: no-store")
    t.eq(r.getheader("Content-Type"), "text/plain", "configured Content-Type")
    c.request("GET", "/v1/health", headers={"Connection": "close"})
    r = c.getresponse()
    t.eq(r.read(), b'{"status":"ok"}\n', "health body")
    t.ok(r.will_close, "Connection: close is honoured in the answer")
    # the server really closes: reading to EOF ends without a timeout
    out = h.raw(b"GET /v1/health HTTP/1.1\r\nConnection: close\r\n\r\n",
                timeout=5)
    t.ok(out.startswith(b"HTTP/1.1 200") and not out.endswith(b"<timeout>"),
         "server closes after Connection: close", repr(out[-40:]))
    c.close()

    # two requests in one write: both answered, in order
    two = (b"GET /v1/credentials/claude HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = h.raw(two)
    t.eq(out.count(b"HTTP/1.1 200 OK"), 2, "pipelined requests both answered")
    t.ok(out.index(SECRET.encode()) < out.index(b'"status"'),
         "pipelined answers in order")

    # HTTP/1.0 without keep-alive closes
    out = h.raw(b"GET /v1/health HTTP/1.0\r\n\r\n")
    t.eq(status_of(out), 200, "HTTP/1.0 request answered")

    st, hd, body = h.request("/v1/credentials")
    t.eq((st, body), (200, b'{"credentials":["claude"]}\n'), "list")
    st, hd, body = h.request("/v1/credentials/claude", method="DELETE")
    t.eq(st, 405, "DELETE is 405")
    t.eq(hd.get("content-type"), "application/json", "errors are JSON")
    st, hd, body = h.request("/v2/nothing")
    t.eq((st, body), (404, b'{"error":"not found"}\n'), "unknown path 404")
finally:
    rc = h.stop()
    t.eq(rc, 0, "hushd exits 0 on SIGTERM")
    t.ok(SECRET not in h.stderr(), "no secret on stderr")
    t.ok(SECRET.encode() not in h.audit_text(), "no secret in the audit log")
    h.cleanup()
t.finish()
