"""Issue 11 with the real Codex (npm @openai/codex):
`hush exec --upstream openai -- sh -c 'exec codex exec -c
openai_base_url="$OPENAI_BASE_URL" ...'` (recipe A) and the same with a
model provider in ~/.codex/config.toml (recipe B, README), against a
loopback TLS stand-in of the OpenAI Responses API. Codex reads its base
URL only from its configuration (it ignores OPENAI_BASE_URL) and, in
`codex exec`, its key from CODEX_API_KEY (it ignores OPENAI_API_KEY):
hush.ini names that variable (`key_env = CODEX_API_KEY`) and hush exec
learns it from hushd. The stand-in must see the real key in
`Authorization: Bearer`; Codex must be given only the placeholder (its
environment, arguments, output and every file under its CODEX_HOME).

Codex is installed with npm into build/npm-codex under the source tree (a
cache, never global). Without node and npm on the machine this test says
so and is skipped (exit 0 with a SKIP line).
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import HUSH, Checks, Hushd  # noqa
from standin import StandIn, make_ca  # noqa

VERSION = os.environ.get("CODEX_VERSION", "0.171.0")
SRC = os.environ.get("HUSH_SRC", os.path.join(os.path.dirname(__file__),
                                              "..", ".."))
CACHE = os.path.join(SRC, "build", "npm-codex")
CODEX = os.path.join(CACHE, "node_modules", ".bin", "codex")
KEY = "sk-proj-CODEXUPSTREAM-" + "Lp2" * 14
PLACEHOLDER = "hush-inject-placeholder-not-a-key"

if not os.path.exists(CODEX):
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("SKIP: node and npm are not installed")
        sys.exit(0)
    os.makedirs(CACHE, exist_ok=True)
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                        "--prefix", CACHE, "@openai/codex@" + VERSION],
                       capture_output=True, timeout=600)
    if r.returncode != 0:
        print(r.stdout.decode()[-2000:], r.stderr.decode()[-2000:])
        print("not ok - npm install of Codex")
        sys.exit(1)

t = Checks()
work = Hushd("", start=False)
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
up.reply = "hello from codex through hushd"
# The README's recipe, with the stand-in's URL and CA.
h = Hushd("""
[broker]
audit_log = {dir}/audit.jsonl
[client "agent"]
socket = {dir}/agent.sock
allow = upstream:openai
[credential "openai-key"]
source = file:{dir}/key
[upstream "openai"]
url = https://127.0.0.1:%d
credential = openai-key
header = Authorization: Bearer {value}
paths = /v1/responses, /v1/models*
methods = POST
env = OPENAI_BASE_URL
key_env = CODEX_API_KEY
ca_file = %s
""" % (up.port, ca), sockets=("agent.sock",), start=False)
h.write("key", KEY)
h.start()
# Recipe B's provider, kept in the container's ~/.codex/config.toml: no
# WebSocket attempts (the route carries none; with the built-in provider
# Codex tries 7 times, about 6 s, before it falls back to HTTPS).
PROVIDER = """model_provider = "hush"
[model_providers.hush]
name = "hush"
env_key = "CODEX_API_KEY"
wire_api = "responses"
supports_websockets = false
"""
RECIPES = (
    ("A (openai_base_url)", 'exec "$1" exec --skip-git-repo-check '
     '-c openai_base_url="$OPENAI_BASE_URL" "say hello"', False),
    ("B (model provider)", 'exec "$1" exec --skip-git-repo-check '
     '-c model_providers.hush.base_url="$OPENAI_BASE_URL" "say hello"',
     True),
)


def run_codex(home, script, envdump):
    """One run, no retry: a run that makes no API call fails. The shell
    dumps the environment Codex starts with, then becomes Codex with the
    forwarder's URL (hush exec set it) on its command line."""
    env = {"PATH": os.path.dirname(shutil.which("node") or "/usr/bin/node")
           + ":/usr/local/bin:/usr/bin:/bin", "HOME": home}
    c = subprocess.Popen(
        [HUSH, "exec", "-s", h.sockets[0], "--upstream", "openai", "--",
         "sh", "-c", 'env > "$0"; ' + script, envdump, CODEX],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        so, se = c.communicate(
            timeout=int(os.environ.get("CODEX_TIMEOUT", "180")))
    except subprocess.TimeoutExpired:
        # no Codex left behind: its whole process group goes
        os.killpg(c.pid, 9)
        c.communicate()
        raise
    return c.returncode, so, se


try:
    for i, (what, script, provider) in enumerate(RECIPES):
        home = os.path.join(work.dir, "home%d" % i)
        os.mkdir(home, 0o700)
        if provider:
            os.mkdir(os.path.join(home, ".codex"), 0o700)
            with open(os.path.join(home, ".codex", "config.toml"), "w") as f:
                f.write(PROVIDER)
        envdump = os.path.join(work.dir, "codex%d.env" % i)
        n0 = len(up.requests)
        rc, so, se = run_codex(home, script, envdump)
        out = (so + se).decode("utf-8", "replace")
        t.eq(rc, 0, what + ": codex exec through hush exec --upstream "
             "exits 0")
        t.ok("hello from codex through hushd" in out, what + ": Codex "
             "printed the stand-in's answer", out[-1500:])
        reqs = up.requests[n0:]
        calls = [r for r in reqs if r["method"] == "POST" and
                 r["path"] == "/v1/responses"]
        t.ok(len(calls) > 0, what + ": Codex called POST /v1/responses")
        t.ok(all(r["headers"].get("authorization") == "Bearer " + KEY
                 for r in calls), what + ": the stand-in saw the real key "
             "as Authorization: Bearer on every call")
        t.ok(all(PLACEHOLDER not in str(r["headers"]) for r in reqs),
             what + ": the placeholder never reached the upstream")
        if provider:
            t.eq([(r["method"], r["path"]) for r in reqs],
                 [("POST", "/v1/responses")] * len(reqs),
                 what + ": no WebSocket attempt, straight to the call")
        with open(envdump) as f:
            cenv = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
        t.eq(cenv.get("CODEX_API_KEY"), PLACEHOLDER,
             what + ": Codex was given the placeholder in CODEX_API_KEY "
             "(key_env)")
        t.ok(cenv.get("OPENAI_BASE_URL", "").startswith("http://127.0.0.1:")
             and cenv["OPENAI_BASE_URL"].endswith("/v1"),
             what + ": and the forwarder's URL, /v1 included, in "
             "OPENAI_BASE_URL", cenv.get("OPENAI_BASE_URL"))
        blob = open(envdump, "rb").read() + so + se
        files = 0
        for root, _, names in os.walk(home):
            for fn in names:
                try:
                    with open(os.path.join(root, fn), "rb") as f:
                        blob += f.read()
                    files += 1
                except OSError:
                    pass
        t.ok(files > 1, what + ": Codex wrote its files under ~/.codex",
             str(files))
        t.ok(KEY.encode() not in blob, what + ": no real key in Codex's "
             "environment, output or files")
    lines = [l for l in h.audit_lines() if l.get("event") == "upstream"
             and l.get("method") == "POST"]
    t.ok(len(lines) >= 2 and all(l.get("result") == "ok" and l.get("fp")
                                 for l in lines),
         "each call audited with the key's fp")
    t.ok(KEY.encode() not in h.audit_text() + h.stderr().encode(),
         "no key in hushd's audit log or stderr")
except subprocess.TimeoutExpired:
    t.ok(False, "codex exec answered in time", "stand-in saw %r; audit: %s"
         % ([(r["method"], r["path"]) for r in up.requests], "\n".join(
             str(l) for l in h.audit_lines()[-10:])))
finally:
    rc = h.stop()
    t.ok(rc == 0, "hushd stopped cleanly", h.stderr()[-2000:])
    up.close()
    h.cleanup()
    work.cleanup()
t.finish()
