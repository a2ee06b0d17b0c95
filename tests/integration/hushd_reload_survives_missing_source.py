"""A user who controls a source path must not be able to block
revocations: deleting her own file: source (or making it unreadable) used
to make every reload fail ("reload rejected"), so the previous policy,
the one the host wanted to revoke, stayed in force. A reload now applies
the policy and the missing source answers 500 until it is back."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

V1 = "reload-missing-one-0123456789abcdef"
V2 = "reload-missing-two-0123456789abcdef"
BASE = """
[broker]
audit_log = {dir}/audit.jsonl
[credential "one"]
source = file:{dir}/one
[credential "alice"]
source = file:{dir}/alice
[client "gw"]
socket = {dir}/gw.sock
"""

t = Checks()
h = Hushd(BASE + "allow = one, alice\n", start=False)
h.write("one", V1)
h.write("alice", V2)
h.start()
try:
    t.eq(h.request("/v1/credentials/one")[0], 200, "one served")
    t.eq(h.request("/v1/credentials/alice")[0], 200, "alice served")
    # the attacker: alice removes her own file
    os.unlink(h.path("alice"))
    h.write_conf(BASE + "allow = alice\n")
    h.signal(signal.SIGHUP)
    end = time.time() + 10
    while time.time() < end and "reload" not in h.stderr():
        time.sleep(0.05)
    time.sleep(0.3)
    t.ok("configuration reloaded" in h.stderr(),
         "reload applied although a source is missing",
         h.stderr()[-400:])
    t.ok("reload rejected" not in h.stderr(), "reload not rejected")
    t.eq(h.request("/v1/credentials/one")[0], 404, "one is revoked")
    t.eq(h.request("/v1/credentials/alice")[0], 500,
         "the missing source answers 500")
    h.write("alice", V2)
    t.eq(h.request("/v1/credentials/alice")[0], 200,
         "alice is served again once her file is back")
finally:
    t.eq(h.stop(), 0, "hushd exits 0")
    for v in (V1, V2):
        t.ok(v not in h.stderr() and v.encode() not in h.audit_text(),
             "nothing secret logged")
    h.cleanup()
t.finish()
