"""protocol = systemd: a client that does what LoadCredential= does (bind
an abstract \\0<hex>/unit/<unit>/<ID> name, connect, shut down writing,
read to EOF) gets the credential. Every refusal and every failing source
must make systemd fail the unit: a clean EOF would start it with an empty
credential, so hushd answers 1 MiB + 1 bytes (systemd's E2BIG) that are
not the credential, and audits why."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

SECRET = "systemd-credential-secret-0123456789abcdef"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
request_timeout = 1s
[client "creds"]
socket = {dir}/creds.sock
protocol = systemd
allow = db, web.service:tls, missing, empty, slow
[client "picky"]
socket = {dir}/picky.sock
protocol = systemd
uid = %d
allow = db
[credential "db"]
source = file:{dir}/db
[credential "tls"]
source = file:{dir}/db
[credential "other"]
source = file:{dir}/db
[credential "missing"]
source = file:{dir}/gone
[credential "empty"]
source = file:{dir}/empty
[credential "slow"]
source = exec:/bin/sleep 4
timeout = 10s
""" % (os.getuid() + 4242)

t = Checks()
h = Hushd(CONF, sockets=("creds.sock", "picky.sock"), start=False)
h.write("db", SECRET)
h.write("empty", "")
h.write("gone", SECRET)
h.start()
os.unlink(h.path("gone"))   # never served, then unreadable
FAIL = (1 << 20) + 1   # one byte over systemd's limit: E2BIG
nonce = [0]


def load(unit, cid, sock=None, addr=None):
    nonce[0] += 1
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    if addr is None:
        addr = "\0%x/unit/%s/%s" % (0xfeed0000 + nonce[0], unit, cid)
    if addr != "":
        s.bind(addr)
    s.connect(sock or h.sockets[0])
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out


def refused(out):
    """What systemd refuses: over 1 MiB, and nothing of the secret."""
    return len(out) == FAIL and SECRET.encode() not in out and \
        out.strip(b"\0") == b""


try:
    t.eq(load("app.service", "db"), SECRET.encode(), "allowed ID: the value")
    t.eq(load("web.service", "tls"), SECRET.encode(), "UNIT:ID for that unit")
    t.ok(refused(load("app.service", "tls")),
         "UNIT:ID, another unit: refused with 1 MiB + 1")
    t.ok(refused(load("app.service", "other")),
         "not allowed: refused with 1 MiB + 1")
    t.ok(refused(load("app.service", "nope")),
         "unknown: refused with 1 MiB + 1")
    t.ok(refused(load("", "", addr="")),
         "unbound peer (no address): refused with 1 MiB + 1")
    t.ok(refused(load("", "", addr="\0XYZ/unit/a.service/db")),
         "not hex: refused with 1 MiB + 1")
    t.ok(refused(load("", "", addr="\0" + "a" * 17 + "/unit/a.service/db")),
         "17 hex digits: refused with 1 MiB + 1")
    t.ok(refused(load("app.service", "db", sock=h.sockets[1])),
         "peer uid mismatch: refused with 1 MiB + 1")
    t.ok(refused(load("app.service", "missing")),
         "failing source: refused, not an empty credential")
    t.ok(refused(load("app.service", "empty")),
         "empty value: refused, not an empty credential")
    t.ok(refused(load("app.service", "slow")),
         "source slower than request_timeout: refused")
    lines = [l for l in h.audit_lines() if l.get("event") == "get"]
    t.ok(any(l.get("credential") == "slow" and
             l.get("reason") == "request_timeout" for l in lines),
         "audit: the slow source says request_timeout")
    t.ok(any(l.get("credential") == "missing" and
             l.get("result") == "source-error" for l in lines),
         "audit: the failing source says why")
    t.ok(any(l.get("unit") == "app.service" and l.get("credential") == "db"
             and l.get("result") == "ok" and "fp" in l for l in lines),
         "audit: served, with unit and fp")
    t.ok(any(l.get("unit") == "app.service" and l.get("credential") == "tls"
             and l.get("result") == "denied" for l in lines),
         "audit: UNIT:ID refusal")
    t.ok(any(l.get("result") == "bad-request" for l in lines),
         "audit: bad peer address")
    t.ok(any(l.get("client") == "picky" and l.get("result") == "denied"
             for l in lines), "audit: uid refusal")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    t.ok(SECRET not in h.stderr(), "no secret on stderr")
    t.ok(SECRET.encode() not in h.audit_text(), "no secret in the audit log")
    h.cleanup()
t.finish()
