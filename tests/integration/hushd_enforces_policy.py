"""Policy and limits: allow globs, uid/gid, bearer tokens, unknown vs
denied, per-client rate, max_connections, an unwritable audit log."""
import hashlib
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, status_of  # noqa

SECRET = "xoxb-policy-secret-0123456789-abcdefghij"
TOKEN = "hush_" + "A" * 43
THASH = hashlib.blake2b(TOKEN.encode(), digest_size=32).hexdigest()
OTHER_UID = os.getuid() + 4242
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
max_connections = 3
[client "open"]
socket = {dir}/open.sock
allow = app-*
[client "tokened"]
socket = {dir}/tokened.sock
token_hash = %s
allow = app-one
[client "wronguid"]
socket = {dir}/wronguid.sock
uid = %d
allow = app-one
[client "rightuid"]
socket = {dir}/rightuid.sock
uid = %d
gid = %d
allow = app-one
[client "slow"]
socket = {dir}/slow.sock
rate = 3/m
allow = app-one
[credential "app-one"]
source = file:{dir}/one
[credential "app-two"]
source = file:{dir}/one
[credential "secret-other"]
source = file:{dir}/one
""" % (THASH, OTHER_UID, os.getuid(), os.getgid())

t = Checks()
h = Hushd(CONF, sockets=("open.sock", "tokened.sock", "wronguid.sock",
                         "rightuid.sock", "slow.sock"), start=False)
h.write("one", SECRET)
h.start()
S = dict((os.path.basename(s).split(".")[0], s) for s in h.sockets)
# the start-up probes count against max_connections until hushd sees
# them go: wait for that
for _ in range(100):
    if h.request("/v1/health", sock=S["open"])[0] == 200:
        break
    time.sleep(0.05)
try:
    st, _, b = h.request("/v1/credentials/app-two", sock=S["open"])
    t.eq((st, b), (200, SECRET.encode()), "allow glob app-* serves app-two")
    st, _, b_denied = h.request("/v1/credentials/secret-other",
                                sock=S["open"])
    t.eq(st, 404, "not allowed: 404")
    st2, _, b_unknown = h.request("/v1/credentials/nope", sock=S["open"])
    t.eq(st2, 404, "unknown: 404")
    t.eq(b_denied, b_unknown, "denied and unknown have the same body")
    st, _, b = h.request("/v1/credentials", sock=S["open"])
    t.eq(b, b'{"credentials":["app-one","app-two"]}\n',
         "list shows only allowed names")

    st, hd, _ = h.request("/v1/credentials/app-one", sock=S["tokened"])
    t.eq(st, 401, "token missing: 401")
    t.eq(hd.get("www-authenticate"), "Bearer", "401 names the scheme")
    st, _, _ = h.request("/v1/credentials/app-one", sock=S["tokened"],
                         headers={"Authorization": "Bearer hush_wrong"})
    t.eq(st, 401, "token wrong: 401")
    st, _, _ = h.request("/v1/credentials/nope", sock=S["tokened"])
    t.eq(st, 401, "token checked before names (no existence oracle)")
    st, _, b = h.request("/v1/credentials/app-one", sock=S["tokened"],
                         headers={"Authorization": "Bearer " + TOKEN})
    t.eq((st, b), (200, SECRET.encode()), "token right: 200")
    st, _, b = h.request("/v1/credentials", sock=S["tokened"])
    t.eq(st, 401, "list needs the token too")
    import subprocess
    hush = os.environ.get("HUSH", "hush")
    r = subprocess.run([hush, "get", "app-one", "-s", S["tokened"]],
                       capture_output=True,
                       env=dict(os.environ, HUSH_TOKEN=TOKEN))
    t.eq((r.returncode, r.stdout), (0, SECRET.encode()),
         "hush get sends $HUSH_TOKEN")
    r = subprocess.run([hush, "get", "app-one", "-s", S["tokened"]],
                       capture_output=True,
                       env=dict(os.environ, HUSH_TOKEN=""))
    t.ok(r.returncode == 1 and b"401" in r.stderr and not r.stdout,
         "hush get without a token: 401, exit 1")

    st, _, _ = h.request("/v1/credentials/app-one", sock=S["wronguid"])
    t.eq(st, 404, "peer uid mismatch: 404")
    st, _, b = h.request("/v1/credentials", sock=S["wronguid"])
    t.eq(b, b'{"credentials":[]}\n', "peer uid mismatch: empty list")
    st, _, _ = h.request("/v1/credentials/app-one", sock=S["rightuid"])
    t.eq(st, 200, "peer uid and gid match: 200")

    codes = [h.request("/v1/credentials/app-one", sock=S["slow"])[0]
             for _ in range(5)]
    t.eq(codes, [200, 200, 200, 429, 429], "rate 3/m: the 4th is 429")
    st, _, _ = h.request("/v1/credentials/app-one", sock=S["open"])
    t.eq(st, 200, "another client is not limited by it")

    # max_connections = 3: a 4th gets 503, and service resumes after
    # connections of the requests above may still be counted for a
    # moment: hold three that hushd really kept (none was answered 503)
    for _ in range(20):
        held = []
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(S["open"])
            held.append(s)
        time.sleep(0.2)
        answered = 0
        for s in held:
            try:
                answered += len(s.recv(1, socket.MSG_DONTWAIT)) > 0
            except BlockingIOError:
                pass
        if answered == 0:
            break
        for s in held:
            s.close()
        time.sleep(0.3)
    out = h.raw(b"GET /v1/health HTTP/1.1\r\n\r\n", sock=S["open"])
    t.eq(status_of(out), 503, "over max_connections: 503")
    for s in held:
        s.close()
    time.sleep(0.2)
    st, _, _ = h.request("/v1/credentials/app-one", sock=S["open"])
    t.eq(st, 200, "service resumes when connections go")

    lines = h.audit_lines()
    res = [(l.get("client"), l.get("credential"), l.get("result"))
           for l in lines if l.get("event") == "get"]
    t.ok(("open", "secret-other", "denied") in res, "audit: denied")
    t.ok(("open", "nope", "unknown") in res, "audit: unknown")
    t.ok(("tokened", "app-one", "unauthorized") in res, "audit: 401")
    t.ok(("slow", "app-one", "rate-limited") in res, "audit: 429")
    oks = [l for l in lines if l.get("result") == "ok" and
           l.get("event") == "get"]
    t.ok(oks and all(len(l.get("fp", "")) == 12 and l["bytes"] == len(SECRET)
                     and l["uid"] == os.getuid() and l["pid"] > 0
                     for l in oks), "audit: ok lines carry fp, bytes, uid, pid")
    t.eq(len(set(l["fp"] for l in oks)), 1, "same value, same fp")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    t.ok(SECRET not in h.stderr(), "no secret on stderr")
    t.ok(SECRET.encode() not in h.audit_text(), "no secret in the audit log")
    t.ok(TOKEN not in h.stderr() and TOKEN.encode() not in h.audit_text(),
         "no client token in any log")
    h.cleanup()

# An audit log that cannot be written: credential requests get 503.
h = Hushd(CONF.replace("{dir}/audit.jsonl", "/dev/full"),
          sockets=("open.sock",), start=False)
h.write("one", SECRET)
h.start()
try:
    st, _, b = h.request("/v1/credentials/app-one", sock=h.sockets[0])
    t.eq(st, 503, "audit log unwritable: 503")
    t.ok(SECRET.encode() not in b, "audit log unwritable: no value")
    st, _, _ = h.request("/v1/health", sock=h.sockets[0])
    t.eq(st, 503, "health reports the unwritable audit log: 503")
    t.ok("audit log /dev/full cannot be written" in h.stderr(),
         "stderr says the audit log fails")
finally:
    h.stop()
    h.cleanup()
t.finish()
