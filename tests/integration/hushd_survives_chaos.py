"""Many clients at once doing the wrong thing (random bytes, half
requests, hanging up mid-answer, pipelining, slowloris) while good clients
keep asking: hushd keeps serving them, and nothing crashes or leaks."""
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, UnixHTTPConnection  # noqa

SECRET = "chaos-secret-value-0123456789abcdefghij"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
request_timeout = 1s
idle_timeout = 1s
max_connections = 64
max_request_size = 1KiB
[client "gw"]
socket = {dir}/gw.sock
allow = c*
rate = 100000/s
[credential "cred"]
source = file:{dir}/cred
"""

t = Checks()
h = Hushd(CONF, start=False)
h.write("cred", SECRET)
h.start()
stop = time.time() + 3
good_ok = [0]
good_bad = []
rnd = random.Random(4242)
seeds = [rnd.random() for _ in range(8)]


def sock():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(h.sockets[0])
    return s


def chaos(seed):
    r = random.Random(seed)
    while time.time() < stop:
        try:
            s = sock()
            k = r.randrange(6)
            if k == 0:
                s.sendall(bytes(r.randrange(256) for _ in range(r.randrange(1, 3000))))
            elif k == 1:
                s.sendall(b"GET /v1/credentials/cred HTTP/1.1\r\nHost: x\r\n")
            elif k == 2:
                s.sendall(b"GET /v1/credentials/cred HTTP/1.1\r\n\r\n" * 50)
            elif k == 3:
                for b in b"GET /v1/cre":
                    s.send(bytes([b]))
            elif k == 4:
                s.sendall(b"GET /v1/credentials/" + b"c" * r.randrange(2000) +
                          b" HTTP/1.1\r\n\r\n")
            else:
                s.sendall(b"GET /v1/credentials/cred HTTP/1.1\r\n\r\n")
                s.recv(5)
            s.close()
        except OSError:
            pass


def good():
    while time.time() < stop:
        try:
            c = UnixHTTPConnection(h.sockets[0], timeout=5)
            for _ in range(5):
                c.request("GET", "/v1/credentials/cred")
                r = c.getresponse()
                b = r.read()
                if r.status == 200 and b == SECRET.encode():
                    good_ok[0] += 1
                elif r.status != 503:
                    good_bad.append((r.status, b[:40]))
            c.close()
        except OSError:
            pass


try:
    threads = [threading.Thread(target=chaos, args=(s,)) for s in seeds]
    threads += [threading.Thread(target=good) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.ok(good_ok[0] > 0, "good clients served during the chaos",
         str(good_ok[0]))
    t.eq(good_bad, [], "good clients never got a wrong answer")
    t.ok(h.proc.poll() is None, "hushd still running")
    time.sleep(1.5)
    st, _, b = h.request("/v1/credentials/cred")
    t.eq((st, b), (200, SECRET.encode()), "serves normally afterwards")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    err = h.stderr()
    t.ok("Sanitizer" not in err and "runtime error" not in err,
         "no sanitizer report", err[-2000:])
    t.ok(SECRET not in err, "no secret on stderr")
    t.ok(SECRET.encode() not in h.audit_text(), "no secret in the audit log")
    h.cleanup()
t.finish()
