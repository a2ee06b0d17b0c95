"""Issue 11, the container side: `hush exec --upstream anthropic -- CMD`
and `hush proxy NAME --listen HOST:PORT`, against a loopback TLS
stand-in (CA and certificate made here with openssl).

The child is a real process that calls ANTHROPIC_BASE_URL with the
ANTHROPIC_API_KEY it was given, as Claude Code does. Checked: the
stand-in saw the real key in x-api-key; the child's environment,
arguments, output and the files it wrote hold only the placeholder;
streaming through the forwarder arrives event by event; hush proxy serves
the same route for a long-lived service and refuses a path not allowed.
"""
import os
import socket
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import HUSH, Checks, Hushd  # noqa
from standin import StandIn, make_ca  # noqa

KEY = "sk-ant-api03-EXECKEY-" + "Qw7" * 12
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[client "agent"]
socket = {dir}/agent.sock
allow = upstream:anthropic
[credential "anthropic-key"]
source = file:{dir}/key
[upstream "anthropic"]
url = https://127.0.0.1:%d
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/messages, /v1/models*
ca_file = %s
"""

CHILD = r'''
import json, os, sys, urllib.request
base = os.environ["ANTHROPIC_BASE_URL"]
key = os.environ.get("ANTHROPIC_API_KEY", "")
out = sys.argv[1]
with open(os.path.join(out, "env.json"), "w") as f:
    json.dump({"env": dict(os.environ), "argv": sys.argv}, f)
req = urllib.request.Request(base + "/v1/messages", method="POST",
    data=b'{"model":"m1","max_tokens":8,"stream":true}',
    headers={"x-api-key": key, "content-type": "application/json",
             "anthropic-version": "2023-06-01"})
with urllib.request.urlopen(req, timeout=30) as r:
    events = 0
    for line in r:
        if line.startswith(b"data: "):
            events += 1
    print("status", r.status, "events", events)
with open(os.path.join(out, "notes.txt"), "w") as f:
    f.write("called %s with %s\n" % (base, key))
'''

t = Checks()
work = Hushd("", start=False)
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
h = Hushd(CONF % (up.port, ca), sockets=("agent.sock",), start=False)
h.write("key", KEY)
h.start()
SOCK = h.sockets[0]
childdir = os.path.join(work.dir, "child")
os.mkdir(childdir)
script = os.path.join(work.dir, "child.py")
with open(script, "w") as f:
    f.write(CHILD)

try:
    env = dict(os.environ)
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ANTHROPIC_BASE_URL", None)
    p = subprocess.run([HUSH, "exec", "-s", SOCK, "--upstream", "anthropic",
                        "--", sys.executable, script, childdir],
                       capture_output=True, timeout=60, env=env)
    out = p.stdout + p.stderr
    t.eq(p.returncode, 0, "hush exec --upstream ran the child")
    t.ok(b"status 200 events 3" in p.stdout,
         "the child's streaming call answered", out.decode()[-500:])
    seen = up.seen("/v1/messages")
    t.ok(len(seen) == 1 and seen[-1]["headers"].get("x-api-key") == KEY,
         "the stand-in saw the real key in x-api-key")
    import json
    with open(os.path.join(childdir, "env.json")) as f:
        info = json.load(f)
    t.ok(info["env"].get("ANTHROPIC_API_KEY", "").startswith("hush-"),
         "the child was given the placeholder",
         info["env"].get("ANTHROPIC_API_KEY"))
    t.ok(info["env"].get("ANTHROPIC_BASE_URL", "").startswith(
        "http://127.0.0.1:"), "the child was given the forwarder's URL")
    blob = json.dumps(info).encode()
    for root, _, files in os.walk(childdir):
        for fn in files:
            with open(os.path.join(root, fn), "rb") as f:
                blob += f.read()
    t.ok(KEY.encode() not in blob,
         "no real key in the child's environment, arguments or files")
    t.ok(KEY.encode() not in out, "no real key in the child's output")

    # the forwarder goes with hush exec
    t.ok(subprocess.run(["pgrep", "-f", "hush exec -s " + SOCK],
                        capture_output=True).returncode != 0,
         "no forwarder left after hush exec")

    # hush proxy: the same forwarder for a long-lived service
    px = subprocess.Popen([HUSH, "proxy", "anthropic", "--listen",
                           "127.0.0.1:0", "-s", SOCK],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = px.stdout.readline().decode().strip()
        t.ok(url.startswith("http://127.0.0.1:"), "hush proxy prints its URL",
             url)
        r = urllib.request.urlopen(url + "/v1/models", timeout=30)
        t.eq(r.status, 200, "GET /v1/models through hush proxy")
        t.eq(up.seen("/v1/models")[-1]["headers"].get("x-api-key"), KEY,
             "hush proxy: upstream got the real key")
        try:
            urllib.request.urlopen(url + "/v1/files", timeout=30)
            st = 200
        except urllib.error.HTTPError as e:
            st = e.code
        t.eq(st, 403, "hush proxy: a path not allowed is 403")
        t.eq(len(up.seen("/v1/files")), 0, "and never reached upstream")
        # A keep-alive client (node's, as Claude Code's probe does) asks
        # HEAD / and would send its next request on the same connection:
        # the forwarder carries one request a connection, so its answer
        # must say Connection: close, hold no body for HEAD, and end.
        host, port = url[len("http://"):].rsplit(":", 1)
        ka = socket.create_connection((host, int(port)), timeout=30)
        ka.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: keep-alive\r\n\r\n")
        got = b""
        while True:
            b = ka.recv(65536)
            if not b:
                break
            got += b
        ka.close()
        head, _, body = got.partition(b"\r\n\r\n")
        t.ok(head.startswith(b"HTTP/1.1 403"), "HEAD / through hush proxy: "
             "403", repr(head[:40]))
        t.ok(b"connection: close" in head.lower(),
             "the answer says Connection: close", repr(head))
        t.eq(body, b"", "no body after the head of a HEAD answer")
    finally:
        px.kill()
        px.wait()
    text = h.audit_text() + h.stderr().encode()
    t.ok(KEY.encode() not in text, "no key in hushd's audit log or stderr")
finally:
    rc = h.stop()
    t.ok(rc == 0, "hushd stopped cleanly", h.stderr()[-2000:])
    up.close()
    h.cleanup()
    work.cleanup()
t.finish()
