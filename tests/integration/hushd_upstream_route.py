"""Issue 11, the upstream route: /v1/upstream/NAME/PATH on a client's
socket, against a loopback TLS stand-in whose CA and certificate are made
here with openssl.

Checked: the upstream gets the configured header with the real value and
none of the client's credentials; a path or method not allowed is 403 and
never reaches it; an upstream not in allow is refused like an unknown one;
SSE events arrive one by one; a client that goes away cancels the call;
an echoed key is masked (body and headers); an untrusted certificate is
502, a silent upstream 504; revoking upstream:NAME by reload stops the
next call; one audit line per call, never holding the key; 100 concurrent
streaming calls do not hold up another client's credential request.
"""
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, UnixHTTPConnection  # noqa
from standin import StandIn, make_ca  # noqa

KEY = "sk-ant-api03-REALKEY-" + "Zq8" * 12
PLACEHOLDER = "hush-placeholder-not-a-key"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
max_connections = 1024
[client "agent"]
socket = {dir}/agent.sock
allow = %(allow)s
max_connections = 200
[client "other"]
socket = {dir}/other.sock
allow = plain
[credential "anthropic-key"]
source = file:{dir}/key
[credential "plain"]
source = file:{dir}/plain
[upstream "anthropic"]
url = https://127.0.0.1:%(port)d
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/messages, /v1/models*, /v1/echo, /v1/slow, /v1/hang, /v1/big
methods = GET, POST
timeout = %(timeout)s
ca_file = %(ca)s
[upstream "short"]
url = https://127.0.0.1:%(port)d
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/slow
timeout = 1s
ca_file = %(ca)s
[upstream "untrusted"]
url = https://127.0.0.1:%(port)d
credential = anthropic-key
header = Authorization: Bearer {value}
paths = /v1/models
"""

t = Checks()
work = Hushd("", start=False)   # a directory for the CA
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
vals = {"allow": "upstream:anthropic, upstream:untrusted, upstream:short", "port": up.port,
        "timeout": "60s", "ca": ca}
h = Hushd(CONF % vals, sockets=("agent.sock", "other.sock"), start=False)
h.write("key", KEY)
h.write("plain", "plain-value-0123456789")
h.start()
AGENT, OTHER = h.sockets


def call(method, path, body=None, headers=None, sock=AGENT, timeout=20):
    c = UnixHTTPConnection(sock, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


try:
    # 1. the real value goes up in the configured header; the client's
    # own x-api-key, Authorization, Cookie and Proxy-* never do
    st, hd, body = call("POST", "/v1/upstream/anthropic/v1/messages",
                        body=b'{"model":"m1","max_tokens":1}',
                        headers={"x-api-key": PLACEHOLDER,
                                 "Cookie": "session=abc",
                                 "Proxy-Authorization": "Basic eA==",
                                 "Accept-Encoding": "gzip",
                                 "anthropic-version": "2023-06-01",
                                 "content-type": "application/json"})
    t.eq(st, 200, "POST /v1/messages through the route")
    seen = up.seen("/v1/messages")
    t.ok(len(seen) == 1, "the stand-in got the call", str(len(seen)))
    got = seen[-1]["headers"] if seen else {}
    t.eq(got.get("x-api-key"), KEY, "upstream saw the real key in x-api-key")
    t.ok(PLACEHOLDER not in json.dumps(got), "placeholder never went up")
    t.ok("cookie" not in got and "proxy-authorization" not in got and
         "accept-encoding" not in got,
         "Cookie, Proxy-*, Accept-Encoding dropped", str(got))
    t.eq(got.get("anthropic-version"), "2023-06-01", "other headers kept")
    t.eq(seen[-1]["body"] if seen else None,
         b'{"model":"m1","max_tokens":1}', "request body went up whole")
    t.ok(KEY.encode() not in body, "answer holds no key")

    # a chunked request body streams up too
    def chunks():
        yield b'{"model":"m1",'
        yield b'"max_tokens":2}'
    c = UnixHTTPConnection(AGENT)
    c.request("POST", "/v1/upstream/anthropic/v1/messages", body=chunks(),
              headers={"Transfer-Encoding": "chunked"},
              encode_chunked=True)
    r = c.getresponse()
    r.read()
    c.close()
    t.eq(r.status, 200, "chunked request body accepted")
    t.eq(up.seen("/v1/messages")[-1]["body"],
         b'{"model":"m1","max_tokens":2}', "chunked body went up whole")

    # 2. paths and methods not allowed: 403, never reaching the upstream
    before = len(up.requests)
    for m, p in (("GET", "/v1/admin"), ("GET", "/v1/messages/../admin"),
                 ("GET", "/v1/models/%2e%2e/admin"), ("GET", "//v1/models"),
                 ("DELETE", "/v1/models"), ("GET", "/v1/messagesX")):
        st, _, _ = call(m, "/v1/upstream/anthropic" + p)
        t.eq(st, 403, "%s %s is 403" % (m, p))
    t.eq(len(up.requests), before, "no refused call reached the upstream")
    st, _, _ = call("GET", "/v1/upstream/nosuch/v1/models")
    t.eq(st, 404, "unknown upstream: 404")
    st, _, _ = call("GET", "/v1/upstream/anthropic/v1/models", sock=OTHER)
    t.eq(st, 404, "upstream not in the client's allow: 404 like unknown")
    t.eq(len(up.requests), before, "nor did the unknown/denied ones")

    # 2b. an upstream call pipelined behind another request: the first
    # is answered, the call is refused after it, never interleaved
    before = len(up.requests)
    raw = h.raw(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /v1/upstream/anthropic/v1/models HTTP/1.1\r\n"
                b"Host: x\r\n\r\n", sock=AGENT)
    t.ok(raw.startswith(b"HTTP/1.1 200") and b"HTTP/1.1 400" in raw,
         "pipelined upstream call: health answered, then 400", raw[:300])
    t.eq(len(up.requests), before, "the pipelined call never went up")

    # 3. an upstream that echoes the key gets it masked, body and header
    st, hd, body = call("GET", "/v1/upstream/anthropic/v1/echo")
    t.eq(st, 200, "echo call")
    t.ok(KEY.encode() not in body and b"REDACTED" in body,
         "echoed key masked in the body", body[:200])
    t.ok(KEY not in hd.get("x-echo", "") and "REDACTED" in
         hd.get("x-echo", ""), "echoed key masked in a header",
         str(hd.get("x-echo")))

    # 4. SSE: the first event arrives before the upstream sends the next
    up.gate = threading.Semaphore(0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(AGENT)
    req = b'{"stream":true}'
    s.sendall(b"POST /v1/upstream/anthropic/v1/messages HTTP/1.1\r\n"
              b"Host: x\r\nContent-Length: %d\r\n\r\n%s" % (len(req), req))
    got_events = []
    buf = b""
    up.gate.release()
    ok_one_by_one = True
    for i in range(3):
        while buf.count(b"data: ") <= i:
            try:
                b = s.recv(65536)
            except socket.timeout:
                b = b""
            if not b:
                break
            buf += b
        got_events.append(buf.count(b"data: "))
        # the stand-in holds event i+1 until released: so exactly i+1 here
        if buf.count(b"data: ") != i + 1:
            ok_one_by_one = False
        up.gate.release()
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    up.gate = None
    t.ok(ok_one_by_one, "SSE events arrive one by one", str(got_events))
    t.ok(buf.endswith(b"0\r\n\r\n"), "stream ends with its last chunk")

    # 5. a client that goes away cancels the upstream call
    up.hang_gone.clear()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(AGENT)
    s.sendall(b"GET /v1/upstream/anthropic/v1/hang HTTP/1.1\r\nHost: x"
              b"\r\n\r\n")
    first = s.recv(65536)
    t.ok(b"event: ping" in first or b"200" in first, "hang: first event")
    s.close()
    t.ok(up.hang_gone.wait(15), "client disconnect cancelled the upstream")

    # 5b. a client that does not read pauses the upstream: hushd's memory
    # does not grow with the answer (200 MiB here)
    def rss():
        with open("/proc/%d/status" % h.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    base = rss()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect(AGENT)
    s.sendall(b"GET /v1/upstream/anthropic/v1/big?n=%d HTTP/1.1\r\n"
              b"Host: x\r\n\r\n" % (200 << 20))
    time.sleep(3)
    grown = rss() - base
    t.ok(grown < (48 << 20), "a client that does not read: hushd holds "
         "a bounded amount", "grew %d bytes" % grown)
    # it then reads everything: the paused transfer resumes
    total = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        total += len(b)
    s.close()
    t.ok(total > (200 << 20), "and then gets the whole answer", str(total))

    # 6. an upstream slower than timeout: 504
    up.slow = 3
    st, _, body = call("GET", "/v1/upstream/short/v1/slow")
    t.eq(st, 504, "silent upstream: 504")

    # 7. a certificate hushd does not trust: 502, and the key never sent
    before = len(up.requests)
    st, _, body = call("GET", "/v1/upstream/untrusted/v1/models")
    t.eq(st, 502, "untrusted certificate: 502")
    t.eq(len(up.requests), before, "no request over an unverified TLS")

    # 8. 100 concurrent streaming calls; another client's credential
    # requests are served meanwhile (its latency is reported, not timed)
    up.gate = threading.Semaphore(0)
    streams = []
    for i in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(AGENT)
        s.sendall(b"POST /v1/upstream/anthropic/v1/messages HTTP/1.1\r\n"
                  b"Host: x\r\nContent-Length: %d\r\n\r\n%s" %
                  (len(req), req))
        streams.append(s)
    deadline = time.time() + 30
    while len(up.seen("/v1/messages")) < 3 + 100 and \
            time.time() < deadline:
        time.sleep(0.05)
    lat = []
    ok_plain = True
    for i in range(200):
        t0 = time.perf_counter()
        st, _, body = call("GET", "/v1/credentials/plain", sock=OTHER)
        lat.append(time.perf_counter() - t0)
        ok_plain = ok_plain and st == 200
    lat.sort()
    print("plain credential latency during 100 streams: p50 %.3f ms, "
          "p99 %.3f ms" % (lat[100] * 1e3, lat[197] * 1e3))
    t.ok(ok_plain, "plain credential requests served during 100 streams")
    for _ in range(3 * 100):
        up.gate.release()
    done = 0
    bad = []
    for s in streams:
        data = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        except socket.timeout:
            pass
        s.close()
        done += data.count(b"data: ") == 3
        if data.count(b"data: ") != 3:
            bad.append(data[:300])
    up.gate = None
    t.ok(done == 100, "all 100 streams completed", "%d: %r" % (done, bad[:3]))

    # 9. revoking upstream:anthropic by reload stops the next call
    before = len(up.requests)
    vals["allow"] = "upstream:untrusted"
    h.write_conf(CONF % vals)
    h.signal(signal.SIGHUP)
    for _ in range(100):
        if any(l.get("event") == "reload" for l in h.audit_lines(0)):
            break
        time.sleep(0.05)
    st, _, _ = call("GET", "/v1/upstream/anthropic/v1/models")
    t.eq(st, 404, "after revocation by reload: refused")
    t.eq(len(up.requests), before, "revoked call never reached upstream")

    # 10. audit: one line per call, with what the issue names; no key
    lines = [l for l in h.audit_lines() if l.get("event") == "upstream"]
    okl = [l for l in lines if l.get("result") == "ok"]
    t.ok(len(okl) >= 104, "one ok audit line per call", str(len(okl)))
    if okl:
        l = okl[0]
        t.ok(all(k in l for k in ("client", "pid", "upstream", "method",
                                  "path", "status", "bytes", "bytes_up",
                                  "duration_ms", "fp")),
             "audit line fields", json.dumps(l))
    text = h.audit_text() + h.stderr().encode()
    t.ok(KEY.encode() not in text, "no key in audit log or stderr")
    t.ok(any(l.get("result") == "client-gone" for l in lines),
         "the cancelled call is audited as client-gone")
finally:
    rc = h.stop()
    t.ok(rc == 0, "hushd stopped cleanly", h.stderr()[-3000:])
    up.close()
    h.cleanup()
    work.cleanup()
t.finish()
