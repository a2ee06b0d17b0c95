"""Revocation bites at once: every request is decided against the
configuration in force when it arrives, so a reload that removes a name
from allow, sets token_hash or uid, or deletes the client, reaches an
open keep-alive connection at its next request; the connection of a
deleted client is closed."""
import hashlib
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

V1 = "revoke-one-0123456789abcdef"
V2 = "revoke-two-0123456789abcdef"
TOKEN = "hush_revocation_test_token_0123456789"
THASH = hashlib.blake2b(TOKEN.encode(), digest_size=32).hexdigest()
BASE = """
[broker]
audit_log = {dir}/audit.jsonl
idle_timeout = 60s
[credential "one"]
source = file:{dir}/one
[credential "two"]
source = file:{dir}/two
"""
GW = """
[client "gw"]
socket = {dir}/gw.sock
"""
OTHER = """
[client "other"]
socket = {dir}/other.sock
allow = one
"""


class KeepAlive:
    """One HTTP/1.1 connection, kept open across requests."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    def get(self, name, headers=""):
        self.s.sendall(("GET /v1/credentials/%s HTTP/1.1\r\nHost: hush\r\n"
                        "%s\r\n" % (name, headers)).encode())
        while b"\r\n\r\n" not in self.buf:
            b = self.s.recv(65536)
            if not b:
                return None, b""
            self.buf += b
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        clen = int([l.split(b":")[1] for l in head.split(b"\r\n")
                    if l.lower().startswith(b"content-length:")][0])
        while len(rest) < clen:
            b = self.s.recv(65536)
            if not b:
                break
            rest += b
        self.buf = rest[clen:]
        return int(head.split(b" ")[1]), rest[:clen]

    def closed(self):
        """Whether the server closed it (EOF, nothing sent)."""
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


t = Checks()
h = Hushd(BASE + GW + "allow = one, two\n" + OTHER,
          sockets=("gw.sock", "other.sock"), start=False)
h.write("one", V1)
h.write("two", V2)
h.start()
reloads = [0]


def reload(conf):
    reloads[0] += 1
    h.write_conf(conf)
    h.signal(signal.SIGHUP)
    end = time.time() + 10
    while time.time() < end:
        if h.stderr().count("configuration reloaded") >= reloads[0]:
            return True
        time.sleep(0.05)
    return False


try:
    gw = KeepAlive(h.sockets[0])
    other = KeepAlive(h.sockets[1])
    t.eq(gw.get("one"), (200, V1.encode()), "keep-alive: one served")
    t.eq(gw.get("two"), (200, V2.encode()), "keep-alive: two served")
    t.eq(other.get("one"), (200, V1.encode()), "other client served")

    t.ok(reload(BASE + GW + "allow = two\n"),
         "reload: one leaves gw's allow, client other is deleted")
    t.eq(gw.get("one")[0], 404, "same connection: one is refused now")
    t.eq(gw.get("two"), (200, V2.encode()), "same connection: two still")
    other.s.settimeout(5)
    t.ok(other.closed(), "the deleted client's idle connection is closed")

    t.ok(reload(BASE + GW + "allow = two\ntoken_hash = %s\n" % THASH),
         "reload: gw now needs a token")
    t.eq(gw.get("two")[0], 401, "same connection: no token, 401")
    t.eq(gw.get("two", "Authorization: Bearer %s\r\n" % TOKEN),
         (200, V2.encode()), "same connection: with the token, served")

    t.ok(reload(BASE + GW + "allow = two\nuid = %d\n" % (os.getuid() + 4242)),
         "reload: gw now expects another uid")
    t.eq(gw.get("two")[0], 404, "same connection: wrong uid now, 404")

    t.ok(reload(BASE + GW + "allow = two\n"), "reload: back to open")
    t.eq(gw.get("two"), (200, V2.encode()), "same connection: served again")
    t.ok(reload(BASE + OTHER), "reload: client gw is deleted")
    gw.s.settimeout(5)
    t.ok(gw.closed(), "gw's connection is closed")
    lines = [l for l in h.audit_lines() if l.get("event") == "get"]
    t.ok(any(l.get("credential") == "one" and l.get("result") == "denied"
             and l.get("reason") == "not in allow" for l in lines),
         "audit: the revoked request is denied, not in allow")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    for v in (V1, V2, TOKEN):
        t.ok(v not in h.stderr() and v.encode() not in h.audit_text(),
             "nothing secret logged")
    h.cleanup()
t.finish()
