"""hush exec shows a partial line (a prompt, a progress bar) while the
child waits: after a short idle the held text goes out up to a safe cut,
as hush-redact does (issue 7, item 6). The child waits for a file that
the test creates only once the prompt has arrived, so a hush that holds
the prompt until the child exits never lets it finish: the test then
fails on its read timeout, not on a measured delay."""
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

SECRET = "hushprompt7Qm2vX9pL4tR8wZ1nB6yK3"
t = Checks()
h = Hushd("""
[broker]
audit_log = {dir}/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
allow = key
[credential "key"]
source = file:{dir}/key
""", start=False)
h.write("key", SECRET)
h.start()
go = h.path("go")
script = ('printf "Continue? [y/N] "; while [ ! -e "$0" ]; do sleep 0.05; '
          'done; printf "key=%s\\n" "$KEY"; printf "bye\\n"')
env = dict(os.environ, HUSH_SOCKET=h.sockets[0])
try:
    p = subprocess.Popen([os.environ["HUSH"], "exec", "-e", "KEY=key", "--",
                          "sh", "-c", script, go], stdout=subprocess.PIPE,
                         env=env)
    got = b""
    end = time.time() + 30
    while b"Continue?" not in got and time.time() < end:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            b = os.read(p.stdout.fileno(), 4096)
            if not b:
                break
            got += b
    t.ok(b"Continue?" in got, "the prompt arrives while the child waits",
         repr(got))
    open(go, "w").close()
    rest, _ = p.communicate(timeout=30)
    got += rest
    t.eq(p.returncode, 0, "hush exec exits with the child's status")
    t.ok(SECRET.encode() not in got, "the value is still masked")
    t.ok(b"key=[REDACTED:credential:key]" in got, "masked in place")
    t.ok(got.count(b"Continue?") == 1, "the prompt is shown once")
finally:
    if not os.path.exists(go):
        open(go, "w").close()
    t.eq(h.stop(), 0, "hushd exits 0")
    h.cleanup()
t.finish()
