"""systemd's Type=notify: hushd sends READY=1 to $NOTIFY_SOCKET once its
sockets answer, so that `systemctl start/restart hushd` returns when a
client can connect (with Type=simple it returned before the socket
existed). Checked on a real datagram socket, by path and in the abstract
namespace ('@'), the way systemd passes it; and READY=1 comes only
after the start line is in the audit log."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[credential "one"]
source = file:{dir}/one
[client "gw"]
socket = {dir}/gw.sock
allow = one
"""
V = "sd-notify-value-0123456789abcdef"

t = Checks()
for abstract in (False, True):
    h = Hushd(CONF, start=False)
    h.write("one", V)
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "hush-notify-test-%d" % os.getpid()
        n.bind("\0" + name)
        addr = "@" + name
    else:
        addr = h.path("notify")
        n.bind(addr)
    n.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=addr)
    h.start(wait=False, env=env)
    kind = "abstract" if abstract else "path"
    try:
        try:
            msg = n.recv(4096)
        except socket.timeout:
            msg = b""
        t.eq(msg, b"READY=1", kind + ": READY=1 arrives")
        # at that moment, not a moment later: the socket answers
        t.ok(Hushd.connectable(h.sockets[0]), kind + ": the socket answers "
             "when READY=1 arrives")
        with open(h.audit, "rb") as f:  # now, without waiting
            t.ok(b'"event":"start"' in f.read(), kind + ": the start is "
                 "audited before READY=1")
        t.eq(h.request("/v1/credentials/one")[0], 200, kind + ": serving")
        n.settimeout(0.5)
        try:
            extra = n.recv(4096)
        except socket.timeout:
            extra = b""
        t.eq(extra, b"", kind + ": READY=1 once")
        t.ok(V not in h.stderr(), kind + ": no value in hushd's log")
    finally:
        h.stop()
        h.cleanup()
        n.close()

# Without NOTIFY_SOCKET (not under systemd), or with one that cannot be
# an address (relative, empty, longer than sun_path, nobody listening),
# hushd starts and serves as before.
for desc, value in (("no NOTIFY_SOCKET", None), ("relative", "notify.sock"),
                    ("empty", ""), ("a lone @", "@"),
                    ("too long", "/" + "n" * 200),
                    ("nobody listening", "/nonexistent/notify")):
    h = Hushd(CONF, start=False)
    h.write("one", V)
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if value is not None:
        env["NOTIFY_SOCKET"] = value
    try:
        h.start(env=env)
        t.eq(h.request("/v1/credentials/one")[0], 200, desc + ": serving")
    finally:
        h.stop()
        h.cleanup()
t.finish()
