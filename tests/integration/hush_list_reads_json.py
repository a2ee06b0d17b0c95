"""hush list and the error reasons of hush get read hushd's JSON with a
JSON parser (jansson): escapes are decoded, a body that is not a list is an
error rather than silence, and nothing the server sends reaches the
terminal as a control character. A fake server on a real Unix socket plays
a broken or hostile hushd."""
import os
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks  # noqa

HUSH = os.environ["HUSH"]


def serve(path, status, body):
    """Answers every connection on path with status and body."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            buf = b""
            while b"\r\n\r\n" not in buf:
                b = c.recv(4096)
                if not b:
                    break
                buf += b
            c.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                      % (status, len(body), body))
            c.close()

    threading.Thread(target=loop, daemon=True).start()
    return srv


def hush(*args):
    p = subprocess.run([HUSH] + list(args), capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


t = Checks()
d = tempfile.mkdtemp(prefix="hush-list.")
try:
    cases = [
        ("escaped", 200, b'{"credentials":["a\\u002eb","c"]}'),
        ("notjson", 200, b'credentials: a, b'),
        ("notlist", 200, b'{"credentials":"a"}'),
        ("badname", 200, b'{"credentials":["ok","\\u001b[31mred"]}'),
        ("deny", 403, b'{"error":"no \\u001b[2J\\"way\\""}'),
    ]
    socks = {}
    for name, status, body in cases:
        socks[name] = os.path.join(d, name + ".sock")
        serve(socks[name], status, body)

    rc, out, err = hush("list", "-s", socks["escaped"])
    t.eq((rc, out), (0, b"a.b\nc\n"), "JSON escapes in names are decoded")
    for name in ("notjson", "notlist"):
        rc, out, err = hush("list", "-s", socks[name])
        t.eq(rc, 1, "%s: hush list fails" % name)
        t.ok(b"not a credential list" in err and out == b"",
             "%s: a clear error, nothing on stdout" % name, repr(err))
    rc, out, err = hush("list", "-s", socks["badname"])
    t.eq(rc, 1, "a name the API cannot have: hush list fails")
    t.ok(b"\x1b" not in out + err, "no escape sequence reaches the terminal")
    rc, out, err = hush("get", "db", "-s", socks["deny"])
    t.eq(rc, 1, "hush get: a refusal fails")
    t.ok(b'403 no ?[2J"way"' in err, "the reason is decoded, control "
         "characters replaced", repr(err))
    t.ok(b"\x1b" not in err, "no escape sequence in the reason")
finally:
    subprocess.run(["rm", "-rf", d])
t.finish()
