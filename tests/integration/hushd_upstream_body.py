"""Issue 11, request bodies larger than what hushd holds for the upstream
(UPSTREAM_BODY_BUF, 64 KiB), sent while the upstream is still being
connected to (the stand-in accepts each connection, and so does its TLS
handshake, only after a second). hushd stops reading the client when
64 KiB wait for libcurl, and must read on once libcurl takes them.

Claude Code's first /v1/messages carries about 77 KB; before this was
fixed, such a body left the call waiting for its timeout whenever the
TLS connection to the upstream was new (docs/upstream.md).

Checked, with Content-Length and chunked bodies of 77 KB and 1 MiB: the
answer is the upstream's 200, the upstream got every byte in order, and
the audit line counts them (bytes_up).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, UnixHTTPConnection  # noqa
from standin import StandIn, make_ca  # noqa

KEY = "sk-ant-api03-BODYTEST-" + "Wm3" * 12

t = Checks()
work = Hushd("", start=False)   # a directory for the CA
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
up.accept_delay = 1.0
up.close_each = True      # so each call waits for a new accept
# a stuck call ends at the upstream's timeout: 504, never a hang here
h = Hushd("""
[broker]
audit_log = {dir}/audit.jsonl
[client "agent"]
socket = {dir}/agent.sock
allow = upstream:anthropic
[credential "anthropic-key"]
source = file:{dir}/key
[upstream "anthropic"]
url = https://127.0.0.1:%d
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/messages
methods = POST
timeout = 30s
ca_file = %s
""" % (up.port, ca), sockets=("agent.sock",), start=False)
h.write("key", KEY)
h.start()


def body_of(size):
    """A JSON body of exactly size bytes whose bytes differ by place."""
    head, tail = b'{"model":"m1","pad":"', b'"}'
    pad = b"".join(b"%07d," % i for i in range(size // 8 + 1))
    return head + pad[:size - len(head) - len(tail)] + tail


def post(body, chunked):
    c = UnixHTTPConnection(h.sockets[0], timeout=60)
    if chunked:
        def gen():
            for i in range(0, len(body), 5000):
                yield body[i:i + 5000]
        c.request("POST", "/v1/upstream/anthropic/v1/messages", body=gen(),
                  headers={"Content-Type": "application/json",
                           "Transfer-Encoding": "chunked"},
                  encode_chunked=True)
    else:
        c.request("POST", "/v1/upstream/anthropic/v1/messages", body=body,
                  headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


try:
    for size, chunked in ((77262, False), (1 << 20, False),
                          (77262, True), (1 << 20, True)):
        what = "%d-byte %s body" % (size, "chunked" if chunked else
                                    "Content-Length")
        body = body_of(size)
        n0 = len(up.seen("/v1/messages"))
        try:
            st, data = post(body, chunked)
        except OSError as e:
            # hushd ended the call (its timeout) before taking the body
            st, data = str(e), b""
        t.eq(st, 200, what + ": the upstream's answer, not a time-out")
        try:
            got = json.loads(data).get("got")
        except ValueError:
            got = None
        t.eq(got, size, what + ": the upstream got every byte")
        seen = up.seen("/v1/messages")[n0:]
        t.ok(len(seen) == 1 and seen[0]["body"] == body,
             what + ": in order, unchanged")
    lines = [l for l in h.audit_lines() if l.get("event") == "upstream"]
    t.eq([l.get("bytes_up") for l in lines],
         [77262, 1 << 20, 77262, 1 << 20], "bytes_up of each call audited")
    t.ok(KEY.encode() not in h.audit_text(), "no key in the audit log")
finally:
    rc = h.stop()
    t.ok(rc == 0, "hushd stopped cleanly", h.stderr()[-2000:])
    up.close()
    h.cleanup()
    work.cleanup()
t.finish()
