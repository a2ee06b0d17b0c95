"""exec: sources get a minimal environment: PATH, HOME, LANG and the
variables named with env = VAR, VAR; nothing else of hushd's, in
particular not the values behind env: credentials."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hushtest import Checks, Hushd  # noqa

KEY = "sk-ant-api03-envcredential0123456789abcdefghij"
CONF = """
[broker]
audit_log = {dir}/audit.jsonl
[client "gw"]
socket = {dir}/gw.sock
allow = env-listing, bare-listing, anthropic
[credential "anthropic"]
source = env:ANTHROPIC_API_KEY
[credential "env-listing"]
source = exec:/usr/bin/env
env = VAULT_ADDR, VAULT_NAMESPACE, NOT_SET_ANYWHERE
[credential "bare-listing"]
source = exec:/usr/bin/env
"""

t = Checks()
h = Hushd(CONF, start=False)
env = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root-home-for-test",
    "LANG": "C.UTF-8",
    "ANTHROPIC_API_KEY": KEY,
    "VAULT_ADDR": "https://vault.example:8200",
    "VAULT_NAMESPACE": "team-a",
    "UNLISTED_VARIABLE": "should-not-pass",
}
for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    if k in os.environ:
        env[k] = os.environ[k]
h.start(env=env)
try:
    st, _, body = h.request("/v1/credentials/anthropic")
    t.eq((st, body.decode()), (200, KEY), "env: credential served")
    st, _, body = h.request("/v1/credentials/env-listing")
    t.eq(st, 200, "exec: env runs")
    lines = sorted(body.decode(errors="replace").splitlines())
    t.eq(lines, sorted([
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root-home-for-test",
        "LANG=C.UTF-8",
        "VAULT_ADDR=https://vault.example:8200",
        "VAULT_NAMESPACE=team-a",
    ]), "the command sees PATH, HOME, LANG and the listed variables only")
    t.ok(KEY not in body.decode(errors="replace"),
         "an env: credential's value does not reach an exec: command")
    st, _, body = h.request("/v1/credentials/bare-listing")
    t.eq(sorted(body.decode(errors="replace").splitlines()), sorted([
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root-home-for-test",
        "LANG=C.UTF-8",
    ]), "without env =: PATH, HOME and LANG only")
finally:
    h.stop()
# hushd with no PATH at all: the command still gets a default one
h2 = Hushd(CONF, start=False)
h2.start(env={k: v for k, v in env.items() if k != "PATH"})
try:
    st, _, body = h2.request("/v1/credentials/bare-listing")
    t.ok("PATH=/usr/local/bin:/usr/bin:/bin" in body.decode(),
         "no PATH in hushd's environment: a default one")
finally:
    h2.cleanup()
h.cleanup()
t.finish()
