"""SIGHUP reload (good and bad) and credential rotation: a replaced or
rewritten file is served with its new content on the next request; an
empty (half-rewritten) file serves the last good value."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

V1 = "sk-rotation-value-one-0123456789abcdef"
V2 = "sk-rotation-value-two-0123456789abcdef"
V3 = "sk-rotation-value-three-0123456789abcd"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
allow = one, k8s
[client "old"]
socket = {dir}/old.sock
allow = one
[credential "one"]
source = file:{dir}/one
[credential "k8s"]
source = file:{dir}/secret/token
"""
CONF2 = """
[broker]
audit_log = {dir}/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
allow = one, two
[client "new"]
socket = {dir}/new.sock
allow = two
[credential "one"]
source = file:{dir}/one
[credential "two"]
source = file:{dir}/two
"""

t = Checks()
h = Hushd(CONF, sockets=("gw.sock", "old.sock"), start=False)
h.write("one", V1)
h.write("two", V3)
# a Kubernetes secret volume: token -> ..data/token, ..data -> ..v1
os.makedirs(h.path("secret/..v1"))
os.makedirs(h.path("secret/..v2"))
h.write("secret/..v1/token", V1)
h.write("secret/..v2/token", V2)
os.symlink("..v1", h.path("secret/..data"))
os.symlink("..data/token", h.path("secret/token"))
h.start()


def get(name, sock=None):
    st, _, b = h.request("/v1/credentials/" + name, sock=sock)
    return st, b.decode(errors="replace")


def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


try:
    t.eq(get("one"), (200, V1), "serves the first value")
    # rotation by rename (atomic replace)
    tmp = h.write("one.tmp", V2)
    os.rename(tmp, h.path("one"))
    t.eq(get("one"), (200, V2), "replaced file: new value on next request")
    # rotation in place (truncate and write, like codex's auth.json)
    with open(h.path("one"), "r+b") as f:
        f.truncate(0)
        f.flush()
        t.eq(get("one"), (200, V2), "empty mid-rewrite: last good value")
        f.write(V1.encode())
    t.eq(get("one"), (200, V1), "rewritten in place: new value")
    # many quick rewrites of the same length (same size, maybe the same
    # mtime tick): each request sees the write that finished before it
    import random
    bad = 0
    for i in range(200):
        v = "sk-rapid-%04d-%s" % (i, "".join(random.choice("abcdef")
                                            for _ in range(24)))
        if i % 2:
            with open(h.path("one"), "r+b") as f:
                f.truncate(0)
                f.write(v.encode())
        else:
            os.rename(h.write("one.tmp", v), h.path("one"))
        if get("one") != (200, v):
            bad += 1
    t.eq(bad, 0, "200 quick rewrites: every request sees the latest")
    with open(h.path("one"), "wb") as f:
        f.write(V1.encode())
    t.eq(get("one"), (200, V1), "back to the first value")
    fps = [l["fp"] for l in h.audit_lines() if l.get("event") == "get"]
    t.ok(fps[0] != fps[1] and fps[0] == fps[-1],
         "audit fp changes with the value, and only with it")

    t.eq(get("k8s"), (200, V1), "symlinked secret: first value")
    t.eq(get("k8s"), (200, V1), "symlinked secret: reused")
    os.symlink("..v2", h.path("secret/..data_tmp"))
    os.rename(h.path("secret/..data_tmp"), h.path("secret/..data"))
    t.eq(get("k8s"), (200, V2), "symlink swapped: new value next request")

    ino = os.stat(h.sockets[0]).st_ino
    t.eq(get("two")[0], 404, "before reload: two not allowed")

    # a bad configuration is rejected; the old one keeps serving
    good = open(h.conf).read()
    h.write_conf(CONF2.replace("allow = one, two", "alow = one, two"))
    h.signal(signal.SIGHUP)
    t.ok(wait_for(lambda: "reload rejected" in h.stderr()),
         "bad reload: rejected on stderr")
    t.ok("hush.ini:" in h.stderr() and "alow" in h.stderr(),
         "bad reload: the error names file, line and key")
    t.eq(get("one"), (200, V1), "bad reload: still serving")
    t.ok(any(l.get("event") == "reload" and l.get("result") == "rejected"
             for l in h.audit_lines()), "bad reload: audited as rejected")

    # logrotate: the audit log renamed away, then SIGHUP
    os.rename(h.audit, h.audit + ".1")
    h.write_conf(CONF2)
    h.signal(signal.SIGHUP)
    t.ok(wait_for(lambda: os.path.exists(h.path("new.sock"))),
         "good reload: new client's socket appears")
    t.ok(wait_for(lambda: not os.path.exists(h.path("old.sock"))),
         "good reload: removed client's socket goes")
    t.eq(os.stat(h.sockets[0]).st_ino, ino, "kept client keeps its socket")
    t.eq(get("two"), (200, V3), "good reload: new allow in effect")
    t.eq(get("two", sock=h.path("new.sock")), (200, V3),
         "good reload: new client served")
    t.eq(get("one", sock=h.path("new.sock"))[0], 404,
         "good reload: new client's policy")
    t.ok(any(l.get("event") == "reload" and l.get("result") == "ok"
             for l in h.audit_lines()), "good reload: audited in a new file")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    try:
        rotated = open(h.audit + ".1", "rb").read()
    except OSError:
        rotated = b""
    for v in (V1, V2, V3):
        t.ok(v not in h.stderr() and v.encode() not in h.audit_text() and
             v.encode() not in rotated, "value never logged")
    t.ok(not os.path.exists(h.path("gw.sock")) and
         not os.path.exists(h.path("new.sock")), "sockets removed at exit")
    h.cleanup()
t.finish()
