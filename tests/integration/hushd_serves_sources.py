"""What hushd serves from each kind of source: a JSON field, a document
minus fields, an environment value, a command's output (cached, and
killed at its timeout). A JSON file caught half-rewritten serves the last
good value. SIGTERM lets a request in flight finish."""
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd, UnixHTTPConnection  # noqa

ACCESS = "sk-ant-oat01-ACCESS-0123456789abcdefghijklmnop"
REFRESH = "sk-ant-ort01-REFRESH-0123456789abcdefghijklmno"
ENVVAL = "env-secret-value-0123456789abcdefghij"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
request_timeout = 5s
[client "gw"]
socket = {dir}/gw.sock
allow = *
[credential "claude"]
source = file:{dir}/claude.json
json_field = claudeAiOauth.accessToken
content_type = text/plain
[credential "codex"]
source = file:{dir}/auth.json
json_omit = tokens.refresh_token
content_type = application/json
[credential "env"]
source = env:HUSH_IT_ENV
[credential "counter"]
source = exec:/bin/sh {dir}/count.sh
cache = 1h
[credential "fresh"]
source = exec:/bin/sh {dir}/count.sh
[credential "slow"]
source = exec:/bin/sh {dir}/slow.sh
timeout = 3s
[credential "hang"]
source = exec:/bin/sh {dir}/hang.sh
timeout = 500ms
"""

t = Checks()
h = Hushd(CONF, start=False)


def claude(tok):
    return json.dumps({"claudeAiOauth": {"accessToken": tok,
                                         "refreshToken": REFRESH,
                                         "expiresAt": 1893456000000}})


h.write("claude.json", claude(ACCESS))
h.write("auth.json", json.dumps({"auth_mode": "chatgpt", "tokens": {
    "access_token": ACCESS, "refresh_token": REFRESH}}))
h.write("count.sh", "n=$(cat %s/n 2>/dev/null || echo 0); n=$((n+1)); "
        "echo $n > %s/n; printf 'count-%%s' $n\n" % (h.dir, h.dir))
h.write("slow.sh", "sleep 1; printf slow-value-0123456789\n")
h.write("hang.sh", "sleep 30\n")
env = dict(os.environ, HUSH_IT_ENV=ENVVAL)
h.start(env=env)


def get(name):
    st, _, b = h.request("/v1/credentials/" + name)
    return st, b.decode(errors="replace")


try:
    t.eq(get("claude"), (200, ACCESS), "json_field: the access token only")
    st, body = get("codex")
    doc = json.loads(body)
    t.ok(st == 200 and "refresh_token" not in doc["tokens"] and
         doc["tokens"]["access_token"] == ACCESS,
         "json_omit: the document without the refresh token")
    t.ok(REFRESH not in body, "json_omit: the refresh token's value absent")
    t.eq(get("env"), (200, ENVVAL), "env: hushd's environment")

    # a JSON file rewritten in place, caught half-written
    with open(h.path("claude.json"), "r+") as f:
        f.truncate(0)
        f.write('{"claudeAiOauth": {"accessTo')
        f.flush()
        t.eq(get("claude"), (200, ACCESS), "torn JSON: last good value")
        f.seek(0)
        f.truncate(0)
        f.write(claude(ACCESS + "-2"))
    t.eq(get("claude"), (200, ACCESS + "-2"), "rewritten JSON: new value")

    t.eq(get("counter"), (200, "count-1"), "exec: runs the command")
    t.eq(get("counter"), (200, "count-1"), "exec with cache: reused")
    t.eq(get("fresh"), (200, "count-2"), "exec without cache: runs again")
    t.eq(get("fresh"), (200, "count-3"), "exec without cache: every time")
    st, body = get("hang")
    t.eq(st, 500, "exec past its timeout: 500")
    t.ok("hang" in body and "sleep" not in body,
         "500 names the credential, not the source's words")

    # a reload that removes the credential while a request for it is in
    # flight: the request finishes under the configuration it began with
    res = {}

    def slow():
        res["r"] = get("slow")
    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.3)
    h.write_conf(CONF.replace("[credential \"slow\"]",
                              "[credential \"slower\"]"))
    h.signal(signal.SIGHUP)
    th.join(10)
    t.eq(res.get("r"), (200, "slow-value-0123456789"),
         "reload during a request: it is answered")
    deadline = time.time() + 5
    while get("slow")[0] != 404 and time.time() < deadline:
        time.sleep(0.05)
    t.eq(get("slow")[0], 404, "after the reload the old name is gone")
    t.eq(get("slower"), (200, "slow-value-0123456789"), "and the new served")

    # SIGTERM with a request in flight: it finishes; new ones are refused
    res = {}

    def slower():
        res["r"] = get("slower")
    th = threading.Thread(target=slower)
    th.start()
    time.sleep(0.3)
    h.signal(signal.SIGTERM)
    th.join(10)
    t.eq(res.get("r"), (200, "slow-value-0123456789"),
         "SIGTERM: the request in flight is answered")
    rc = h.proc.wait(10)
    t.eq(rc, 0, "SIGTERM: exit 0 after it")
    t.ok(not os.path.exists(h.sockets[0]), "SIGTERM: socket removed")
finally:
    h.stop()
    err = h.stderr()
    audit = h.audit_text()
    for v in (ACCESS, REFRESH, ENVVAL, "count-1", "slow-value"):
        t.ok(v not in err and v.encode() not in audit,
             "never logged: %s..." % v[:12])
    t.ok(b'"result":"source-error"' in audit, "source errors audited")
    h.cleanup()
t.finish()
