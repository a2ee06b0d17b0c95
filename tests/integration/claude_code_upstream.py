"""Issue 11 with the real Claude Code (npm @anthropic-ai/claude-code):
`hush exec --upstream anthropic -- claude -p ...` against a loopback TLS
stand-in of the Anthropic API. The stand-in must see the real key in
x-api-key; Claude Code must be given only the placeholder (its
environment, and every file it wrote under its home, hold no key).

Claude Code is installed with npm into build/npm-claude under the
source tree (a cache, never global). Without node and npm on the machine (make test installs Debian's npm where there is none)
this test says so and is skipped (exit 0 with a SKIP line).
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import HUSH, Checks, Hushd  # noqa
from standin import StandIn, make_ca  # noqa

VERSION = os.environ.get("CLAUDE_CODE_VERSION", "2.1.197")
SRC = os.environ.get("HUSH_SRC", os.path.join(os.path.dirname(__file__),
                                              "..", ".."))
CACHE = os.path.join(SRC, "build", "npm-claude")
CLAUDE = os.path.join(CACHE, "node_modules", ".bin", "claude")
KEY = "sk-ant-api03-CLAUDECODE-" + "Hq4" * 14

if not os.path.exists(CLAUDE):
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("SKIP: node and npm are not installed")
        sys.exit(0)
    os.makedirs(CACHE, exist_ok=True)
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                        "--prefix", CACHE,
                        "@anthropic-ai/claude-code@" + VERSION],
                       capture_output=True, timeout=600)
    if r.returncode != 0:
        print(r.stdout.decode()[-2000:], r.stderr.decode()[-2000:])
        print("not ok - npm install of Claude Code")
        sys.exit(1)

t = Checks()
work = Hushd("", start=False)
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
h = Hushd("""
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
paths = /v1/messages*, /v1/models*
methods = GET, POST
ca_file = %s
""" % (up.port, ca), sockets=("agent.sock",), start=False)
h.write("key", KEY)
h.start()
home = os.path.join(work.dir, "home")
os.mkdir(home, 0o700)
envdump = os.path.join(work.dir, "claude.env")
try:
    env = {"PATH": os.path.dirname(shutil.which("node") or "/usr/bin/node")
           + ":/usr/local/bin:/usr/bin:/bin",
           "HOME": home, "DISABLE_AUTOUPDATER": "1",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "DISABLE_TELEMETRY": "1"}
    # the command dumps the environment Claude Code starts with, then
    # becomes Claude Code. One run, no retry: a run that makes no API
    # call fails. (Runs used to wait after the HEAD / probe: hushd
    # stopped reading a request body over 64 KiB when the TLS connection
    # to the upstream was new; tests/integration/hushd_upstream_body.py.)
    c = subprocess.Popen(
        [HUSH, "exec", "-s", h.sockets[0], "--upstream", "anthropic",
         "--", "sh", "-c", 'env > "$0"; exec "$1" -p "say hello"',
         envdump, CLAUDE],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        so, se = c.communicate(
            timeout=int(os.environ.get("CLAUDE_TIMEOUT", "180")))
    except subprocess.TimeoutExpired:
        # no Claude Code left behind: its whole process group goes
        os.killpg(c.pid, 9)
        c.communicate()
        raise
    p = subprocess.CompletedProcess(c.args, c.returncode, so, se)
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    t.eq(p.returncode, 0, "claude -p through hush exec --upstream exits 0")
    t.ok("hello through hushd" in out, "Claude Code printed the stand-in's "
         "answer", out[-1500:])
    calls = up.seen("/v1/messages")
    t.ok(len(calls) > 0, "Claude Code called /v1/messages")
    t.ok(all(c["headers"].get("x-api-key") == KEY for c in calls),
         "the stand-in saw the real key in x-api-key on every call")
    with open(envdump) as f:
        cenv = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    t.ok(cenv.get("ANTHROPIC_API_KEY", "").startswith("hush-"),
         "Claude Code was given the placeholder",
         cenv.get("ANTHROPIC_API_KEY"))
    t.ok(cenv.get("ANTHROPIC_BASE_URL", "").startswith("http://127.0.0.1:"),
         "Claude Code was given the forwarder's URL")
    blob = open(envdump, "rb").read() + out.encode()
    for root, _, files in os.walk(home):
        for fn in files:
            try:
                with open(os.path.join(root, fn), "rb") as f:
                    blob += f.read()
            except OSError:
                pass
    t.ok(KEY.encode() not in blob, "no real key in Claude Code's "
         "environment, output or home")
except subprocess.TimeoutExpired:
    t.ok(False, "claude -p answered in time", "stand-in saw %r; audit: %s"
         % ([(r["method"], r["path"]) for r in up.requests], "\n".join(
             str(l) for l in h.audit_lines()[-10:])))
finally:
    rc = h.stop()
    t.ok(rc == 0, "hushd stopped cleanly", h.stderr()[-2000:])
    up.close()
    h.cleanup()
    work.cleanup()
t.finish()
