"""Audit before serve, on a full disk (a small tmpfs mounted here): no
answer leaves before its audit line is written; a failed or short write
answers 503 and leaves no torn line; service resumes once a write
succeeds; the stop event is written on every exit path, and when it
cannot be, hushd says so and exits 1. Run as root (mount)."""
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

SECRET = "audit-first-secret-0123456789abcdef"
CONF = """
[broker]
audit_log = {dir}/log/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
allow = one
[credential "one"]
source = file:{dir}/one
"""

t = Checks()
if os.geteuid() != 0:
    print("ok - skipped: mounting a tmpfs needs root")
    t.finish()


def mount(h):
    os.mkdir(h.path("log"), 0o700)
    subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700",
                           "hush-audit-test", h.path("log")])


def umount(h):
    subprocess.call(["umount", "-l", h.path("log")])


def fill(h):
    """Takes every free byte of the tmpfs."""
    with open(h.path("log/fill"), "ab", 0) as f:
        for size in (4096, 1):
            while True:
                try:
                    f.write(b"x" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break


def log_lines(h):
    """Every line of the audit log; None if one is torn or not JSON."""
    with open(h.audit_path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        return None
    try:
        return [json.loads(l) for l in data.splitlines()]
    except ValueError:
        return None


def get():
    st, _, b = h.request("/v1/credentials/one")
    return st, b


h = Hushd(CONF, start=False)
h.audit_path = h.path("log/audit.jsonl")
h.write("one", SECRET)
mount(h)
try:
    h.start()
    t.eq(get(), (200, SECRET.encode()), "served while the log is written")

    fill(h)
    answers = [get() for _ in range(40)]
    codes = [a[0] for a in answers]
    t.ok(503 in codes, "full disk: requests are refused (503)",
         "(got %r)" % codes)
    first = codes.index(503) if 503 in codes else len(codes)
    t.ok(all(c == 503 for c in codes[first:]),
         "after the first failed write, every request is 503 until a "
         "write succeeds", "(got %r)" % codes)
    t.ok(all(SECRET.encode() not in b for c, b in answers if c != 200),
         "a refusal carries no value")
    lines = log_lines(h)
    t.ok(lines is not None, "the audit log holds whole JSON lines only "
         "(a short write is cut back)")
    served = sum(1 for c in codes if c == 200) + 1
    oks = [l for l in (lines or []) if l.get("event") == "get" and
           l.get("result") == "ok"]
    t.eq(len(oks), served, "every 200 that left has its audit line")
    t.ok("audit log" in h.stderr() and "cannot be written" in h.stderr(),
         "stderr says the audit log cannot be written")

    os.unlink(h.path("log/fill"))
    codes = []
    for _ in range(5):
        codes.append(get()[0])
        if codes[-1] == 200:
            break
    t.eq(codes[-1], 200, "space again: served once a write succeeded")
    t.ok(len(codes) <= 2, "at most the one request that found the log "
         "failing is refused", "(got %r)" % codes)
    lines = log_lines(h) or []
    t.ok(any(l.get("event") == "audit" and l.get("result") == "resumed"
             for l in lines), "the log says lines were lost")
    t.eq(h.stop(), 0, "SIGTERM: exit 0")
    lines = log_lines(h) or []
    t.ok(lines and lines[-1].get("event") == "stop",
         "the stop event is the last line")

    # the disk is full at SIGTERM: the stop line cannot be written. tmpfs
    # gives out whole pages, and the page holding the start line has room
    # for the stop line whatever the disk says; so wait for the start
    # line, close its page with a JSON line of padding, then fill.
    os.unlink(h.audit_path)
    h.start()
    end = time.time() + 10
    while time.time() < end and b'"event":"start"' not in \
            open(h.audit_path, "rb").read():
        time.sleep(0.02)
    room = -os.path.getsize(h.audit_path) % os.sysconf("SC_PAGE_SIZE")
    pad = b'{"event":"pad","x":""}\n'
    if 0 < room < len(pad):
        room += os.sysconf("SC_PAGE_SIZE")
    if room:
        with open(h.audit_path, "ab") as f:
            f.write(pad[:-3] + b"x" * (room - len(pad)) + pad[-3:])
    fill(h)
    t.eq(h.stop(), 1, "stop not written: exit 1")
    t.ok("stop event could not be written" in h.stderr(),
         "stderr says the stop event was lost")
    os.unlink(h.path("log/fill"))

    # a start that fails after opening the log still writes stop
    os.unlink(h.audit_path)
    busy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.unlink(h.sockets[0]) if os.path.exists(h.sockets[0]) else None
    busy.bind(h.sockets[0])
    busy.listen(1)
    rc = subprocess.call([os.environ.get("HUSHD", "hushd"), "-c", h.conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    busy.close()
    t.ok(rc != 0, "socket held by a live listener: start fails")
    lines = log_lines(h) or []
    t.ok(any(l.get("event") == "stop" and l.get("result") == "failed" and
             l.get("reason") for l in lines),
         "failed start: a stop line with the reason")
finally:
    h.stop()
    try:
        txt = open(h.audit_path, "rb").read()
    except OSError:
        txt = b""
    t.ok(SECRET.encode() not in txt and SECRET not in h.stderr(),
         "no secret in any log")
    umount(h)
    h.cleanup()
t.finish()
