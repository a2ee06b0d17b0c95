"""Issue 11: `hush exec --upstream NAME` and `hush proxy NAME` take the
variable names from hushd (GET /v1/upstream/NAME on the client's own
socket answers the upstream's `env` and `key_env`), since a container
cannot read hush.ini. Real hushd, a loopback TLS stand-in, real child
processes.

Checked: the names from the configuration reach the child's environment
(every `env` variable with the forwarder's URL, `key_env` with the
placeholder) and the child's call through them reaches the upstream with
the real key; an upstream without `env` keeps the built-in names;
NAME=URLVAR,KEYVAR still wins; --upstream is repeatable; a client not allowed the upstream gets a
clear error, its command never runs and no variable is set; hush proxy
prints the same names; the answer is decided and audited like a call
(event upstream-info), GET only.
"""
import json
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import HUSH, Checks, Hushd, UnixHTTPConnection  # noqa
from standin import StandIn, make_ca  # noqa

KEY = "sk-proj-NAMESTEST-" + "Rt5" * 12
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[client "agent"]
socket = {dir}/agent.sock
allow = upstream:openai, upstream:tool
[client "other"]
socket = {dir}/other.sock
allow = plain
[credential "openai-key"]
source = file:{dir}/key
[credential "plain"]
source = file:{dir}/plain
[upstream "openai"]
url = https://127.0.0.1:%(port)d
credential = openai-key
header = Authorization: Bearer {value}
paths = /v1/models*
methods = GET
env = OPENAI_BASE_URL, CODEX_OPENAI_BASE
key_env = CODEX_API_KEY
ca_file = %(ca)s
[upstream "tool"]
url = https://127.0.0.1:%(port)d
credential = openai-key
header = x-api-key: {value}
paths = /v1/models*
ca_file = %(ca)s
"""

# The child writes its environment and calls the first URL variable.
CHILD = r'''
import json, os, sys, urllib.request
out, var = sys.argv[1], sys.argv[2]
with open(out, "w") as f:
    json.dump(dict(os.environ), f)
if var:
    key = os.environ.get(sys.argv[3], "") if len(sys.argv) > 3 else ""
    req = urllib.request.Request(os.environ[var].rstrip("/").removesuffix(
        "/v1") + "/v1/models", headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=30) as r:
        print("status", r.status)
'''

VARS = ("OPENAI_BASE_URL", "CODEX_OPENAI_BASE", "CODEX_API_KEY",
        "OPENAI_API_KEY", "TOOL_BASE_URL", "TOOL_API_KEY", "MY_URL",
        "MY_KEY")

t = Checks()
work = Hushd("", start=False)
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
h = Hushd(CONF % {"port": up.port, "ca": ca},
          sockets=("agent.sock", "other.sock"), start=False)
h.write("key", KEY)
h.write("plain", "plain-value-0123456789")
h.start()
AGENT, OTHER = h.sockets
script = os.path.join(work.dir, "child.py")
with open(script, "w") as f:
    f.write(CHILD)
env = dict((k, v) for k, v in os.environ.items() if k not in VARS)


def run_exec(sock, spec, out, var="", keyvar=""):
    if os.path.exists(out):
        os.unlink(out)
    return subprocess.run(
        [HUSH, "exec", "-s", sock, "--upstream", spec, "--",
         sys.executable, script, out, var, keyvar],
        capture_output=True, timeout=60, env=env)


def child_env(out):
    with open(out) as f:
        return json.load(f)


def get(sock, target, method="GET"):
    c = UnixHTTPConnection(sock, timeout=20)
    c.request(method, target)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


try:
    # 1. the answer itself
    st, body = get(AGENT, "/v1/upstream/openai")
    t.eq(st, 200, "GET /v1/upstream/openai: 200")
    try:
        info = json.loads(body)
    except ValueError:
        info = {}
    t.eq(info, {"name": "openai", "url_env": ["OPENAI_BASE_URL",
                                               "CODEX_OPENAI_BASE"],
                "key_env": "CODEX_API_KEY"},
         "it names the upstream's env and key_env")
    st, body = get(AGENT, "/v1/upstream/tool")
    t.eq((st, json.loads(body) if st == 200 else body),
         (200, {"name": "tool", "url_env": [], "key_env": None}),
         "an upstream without env: empty names")
    t.eq(get(AGENT, "/v1/upstream/openai", "POST")[0], 405,
         "POST /v1/upstream/openai: 405")
    t.eq(get(OTHER, "/v1/upstream/openai")[0], 404,
         "a client without upstream:openai: 404, as for an unknown one")
    t.eq(get(AGENT, "/v1/upstream/nosuch")[0], 404, "unknown upstream: 404")
    t.eq(len(up.requests), 0, "none of these reached the upstream")

    # 2. hush exec takes hushd's names
    out = os.path.join(work.dir, "env1.json")
    p = run_exec(AGENT, "openai", out, "CODEX_OPENAI_BASE", "CODEX_API_KEY")
    t.ok(p.returncode == 0, "hush exec --upstream openai ran the child",
         (p.stdout + p.stderr).decode()[-500:])
    t.ok(b"status 200" in p.stdout, "the child's call through the names "
         "answered", p.stdout.decode()[-300:])
    ce = child_env(out) if os.path.exists(out) else {}
    url = ce.get("OPENAI_BASE_URL", "")
    t.ok(url.startswith("http://127.0.0.1:") and url.endswith("/v1"),
         "OPENAI_BASE_URL (from env) is the forwarder's URL", url)
    t.eq(ce.get("CODEX_OPENAI_BASE"), url, "so is CODEX_OPENAI_BASE")
    t.eq(ce.get("CODEX_API_KEY"), "hush-inject-placeholder-not-a-key",
         "CODEX_API_KEY (from key_env) holds the placeholder")
    t.ok("OPENAI_API_KEY" not in ce, "the built-in key name is not set")
    seen = up.seen("/v1/models")
    t.ok(len(seen) == 1 and seen[0]["headers"].get("authorization") ==
         "Bearer " + KEY, "the upstream got the real key")
    t.ok(KEY.encode() not in json.dumps(ce).encode() + p.stdout + p.stderr,
         "no real key in the child's environment or output")

    # 3. an upstream without env keeps the built-in names
    out = os.path.join(work.dir, "env2.json")
    p = run_exec(AGENT, "tool", out)
    ce = child_env(out) if os.path.exists(out) else {}
    t.ok(p.returncode == 0 and ce.get("TOOL_BASE_URL", "").startswith(
        "http://127.0.0.1:") and ce.get("TOOL_API_KEY", "").startswith(
        "hush-"), "no env in hush.ini: TOOL_BASE_URL, TOOL_API_KEY",
        p.stderr.decode()[-300:])

    # 4. NAME=URLVAR,KEYVAR wins over hushd's names
    out = os.path.join(work.dir, "env3.json")
    p = run_exec(AGENT, "openai=MY_URL,MY_KEY", out)
    ce = child_env(out) if os.path.exists(out) else {}
    t.ok(p.returncode == 0 and ce.get("MY_URL", "").startswith(
        "http://127.0.0.1:") and ce.get("MY_KEY", "").startswith("hush-")
        and "OPENAI_BASE_URL" not in ce and "CODEX_API_KEY" not in ce,
        "openai=MY_URL,MY_KEY: only those are set", str(sorted(
            k for k in ce if k in VARS)))

    # 4b. --upstream is repeatable (SPEC): one forwarder each, each with
    # its own names
    out = os.path.join(work.dir, "env5.json")
    p = subprocess.run(
        [HUSH, "exec", "-s", AGENT, "--upstream", "openai", "--upstream",
         "tool", "--", sys.executable, script, out, "TOOL_BASE_URL"],
        capture_output=True, timeout=60, env=env)
    ce = child_env(out) if os.path.exists(out) else {}
    u1, u2 = ce.get("OPENAI_BASE_URL", ""), ce.get("TOOL_BASE_URL", "")
    t.ok(p.returncode == 0 and u1.startswith("http://127.0.0.1:") and
         u2.startswith("http://127.0.0.1:") and
         u1.rsplit(":", 1)[1].split("/")[0] != u2.rsplit(":", 1)[1],
         "--upstream openai --upstream tool: both, on two forwarders",
         "%r %r %s" % (u1, u2, p.stderr.decode()[-300:]))
    t.ok(b"status 200" in p.stdout, "the call through the second answered")
    p = subprocess.run(
        [HUSH, "exec", "-s", AGENT, "--upstream", "openai", "--upstream",
         "openai", "--", "true"], capture_output=True, timeout=60, env=env)
    t.ok(p.returncode != 0 and b"given twice" in p.stderr,
         "the same upstream twice: a usage error", p.stderr.decode())

    # 5. a client that may not use the upstream: a clear error, nothing run
    out = os.path.join(work.dir, "env4.json")
    p = run_exec(OTHER, "openai", out)
    err = p.stderr.decode()
    t.ok(p.returncode != 0, "not allowed: hush exec fails", str(p.returncode))
    t.ok("--upstream openai" in err and "404" in err and
         "no such upstream" in err, "and says why", err)
    t.ok(not os.path.exists(out), "the command never ran (no variable set)")

    # 6. hush proxy prints the same names
    px = subprocess.Popen([HUSH, "proxy", "openai", "--listen",
                           "127.0.0.1:0", "-s", AGENT],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        buf = b""
        fd = px.stdout.fileno()
        # a line that never comes fails the check, never hangs here
        while buf.count(b"\n") < 4 and select.select([fd], [], [], 30)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        lines = (buf.decode().split("\n") + [""] * 4)[:4]
        base = lines[0]
        t.ok(base.startswith("http://127.0.0.1:"), "hush proxy: its URL",
             base)
        t.eq(lines[1:], ["OPENAI_BASE_URL=%s/v1" % base,
                         "CODEX_OPENAI_BASE=%s/v1" % base,
                         "CODEX_API_KEY=hush-inject-placeholder-not-a-key"],
             "hush proxy: then hushd's names as VAR=VALUE")
    finally:
        px.kill()
        px.wait()
    p = subprocess.run([HUSH, "proxy", "openai", "-s", OTHER],
                       capture_output=True, timeout=30)
    t.ok(p.returncode != 0 and b"404" in p.stderr and p.stdout == b"",
         "hush proxy for a client not allowed: fails at once, says why",
         p.stderr.decode())

    # 7. audited like any request
    lines = [l for l in h.audit_lines() if l.get("event") == "upstream-info"]
    t.ok(any(l.get("result") == "ok" and l.get("upstream") == "openai" and
             l.get("client") == "agent" for l in lines),
         "upstream-info ok is audited", str(lines[:2]))
    t.ok(any(l.get("result") == "denied" and l.get("client") == "other"
             for l in lines), "the refusal is audited as denied")
    t.ok(KEY.encode() not in h.audit_text() + h.stderr().encode(),
         "no key in hushd's audit log or stderr")
finally:
    rc = h.stop()
    t.ok(rc == 0, "hushd stopped cleanly", h.stderr()[-2000:])
    up.close()
    h.cleanup()
    work.cleanup()
t.finish()
