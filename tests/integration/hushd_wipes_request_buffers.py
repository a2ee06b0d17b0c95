"""A client's bearer token must not outlive its request in hushd's memory:
the buffers that held an Authorization header are wiped, not just freed.
Run as root: hushd's memory is read through /proc/PID/mem."""
import os
import re
import secrets
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa
import hashlib  # noqa

TOKEN = "hush_" + secrets.token_hex(24)
SECRET = "wipe-test-secret-0123456789abcdef"
# the token_hash hush uses: BLAKE2b-256 of the token
THASH = hashlib.blake2b(TOKEN.encode(), digest_size=32).hexdigest()
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
token_hash = %s
allow = one
[credential "one"]
source = file:{dir}/one
""" % THASH


def scan(pid, needle):
    """Where needle occurs in pid's writable memory (count)."""
    found = 0
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            lo, hi, perm = int(m.group(1), 16), int(m.group(2), 16), \
                m.group(3)
            # ASan reserves terabytes of shadow: only real, writable maps
            if "rw" not in perm or hi - lo > (1 << 30) or "[vvar" in line:
                continue
            pos = lo
            while pos < hi:
                n = min(1 << 22, hi - pos)
                try:
                    mem.seek(pos)
                    chunk = mem.read(n + len(needle))
                except (OSError, ValueError, OverflowError):
                    break
                found += chunk.count(needle)
                pos += n
    return found


t = Checks()
if os.geteuid() != 0:
    print("ok - skipped: reading hushd's memory needs root")
    t.finish()
h = Hushd(CONF, start=False)
h.write("one", SECRET)
h.start()
try:
    auth = ("Authorization: Bearer %s\r\n" % TOKEN).encode()
    # whole requests, keep-alive then closed by the client
    for i in range(5):
        st, _, b = h.request("/v1/credentials/one",
                             headers={"Authorization": "Bearer " + TOKEN})
        t.eq(st, 200, "request %d with the token served" % i)
    # two pipelined requests in one read, the second one closing
    out = h.raw(b"GET /v1/credentials/one HTTP/1.1\r\n" + auth + b"\r\n" +
                b"GET /v1/health HTTP/1.1\r\n" + auth +
                b"Connection: close\r\n\r\n")
    t.eq(out.count(b"HTTP/1.1 200"), 2, "pipelined requests served")
    # half a request (the header arrived, the end never does)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(h.sockets[0])
    s.sendall(b"GET /v1/credentials/one HTTP/1.1\r\n" + auth)
    time.sleep(0.3)
    s.close()
    # a malformed request carrying the token
    out = h.raw(b"GET /v1/credentials/one HTTP/1.1\r\n" + auth +
                b"Bad Header\r\n\r\n")
    t.eq(out[:12], b"HTTP/1.1 400", "malformed request: 400")
    time.sleep(1.5)   # past the error answer's linger
    t.ok(h.proc.poll() is None, "hushd still running")
    n = scan(h.proc.pid, TOKEN.encode())
    t.eq(n, 0, "the bearer token is nowhere in hushd's memory")
    # the scan itself finds what is there: the token's hash, held as is
    t.ok(scan(h.proc.pid, bytes.fromhex(THASH)) > 0,
         "the scan sees hushd's heap (finds the token_hash)")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    t.ok(TOKEN not in h.stderr() and TOKEN.encode() not in h.audit_text(),
         "no token in any log")
    h.cleanup()
t.finish()
