#!/usr/bin/env python3
"""contrib/gitleaks2hush on a .gitleaks.toml written here: the converted
rules load in hush-redact -r and mask what gitleaks would report (secret
group, entropy, stopwords), and every rule it cannot convert is named on
stderr by its id."""
import os
import subprocess
import sys
import tempfile

SRC = os.environ["HUSH_SRC"]
REDACT = os.environ["HUSH_REDACT"]
TOOL = os.path.join(SRC, "contrib", "gitleaks2hush")

TOML = r"""
title = "test config"

[extend]
useDefault = true

[allowlist]
stopwords = ["globalstop"]
paths = ['''vendor/''']

[[rules]]
id = "acme-token"
description = "Acme API token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
secretGroup = 1
keywords = ["acme_"]

[[rules]]
id = "zed key"
description = "Zed key in an assignment, only when random enough"
regex = '''(?i)zed[_-]?key\s{0,3}[=:]\s{0,3}([A-Za-z0-9]{20})'''
secretGroup = 1
entropy = 3.5
keywords = ["zed"]
  [[rules.allowlists]]
  stopwords = ["notasecret"]
  regexes = ['''^zz''']

[[rules]]
id = "semi ; colon"
regex = '''semi ;([0-9]{12})'''
keywords = ["semi"]

[[rules]]
id = "long"
regex = '''long_(?:aaaaaaaaaa|bbbbbbbbbb|cccccccccc|dddddddddd|eeeeeeeeee|ffffffffff|gggggggggg|hhhhhhhhhh|iiiiiiiiii|jjjjjjjjjj|kkkkkkkkkk|llllllllll|mmmmmmmmmm|nnnnnnnnnn|oooooooooo|pppppppppp|qqqqqqqqqq|rrrrrrrrrr)_[0-9]{8}'''
keywords = ["long_"]

[[rules]]
id = "no-keywords"
regex = '''nokw-[0-9]{10}'''

[[rules]]
id = "pkcs12-file"
description = "a path-only rule"
path = '''\.p12$'''

[[rules]]
id = "with-path"
regex = '''wp_[0-9]{10}'''
path = '''\.env$'''
keywords = ["wp_"]
"""

LINES = {
    "acme": "token acme_0123456789abcdefghijklmn used",
    "zed_random": "ZED_KEY=Q7xK2mP9vL4wN8rT3yB6",
    "zed_low": "ZED_KEY=aaaaaaaaaaaaaaaaaaab",
    "zed_stop": "ZED_KEY=notasecretQ7xK2mP9vL",
    "zed_globalstop": "ZED_KEY=globalstopQ7xK2mP9v",
    "semi": "semi ;123456789012 end",
    "long": "x long_rrrrrrrrrr_12345678 y",
    "nokw": "id nokw-1234567890 z",
    "wp": "WP=wp_1234567890",
}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    with tempfile.TemporaryDirectory() as d:
        toml = os.path.join(d, "gitleaks.toml")
        ini = os.path.join(d, "rules.ini")
        with open(toml, "w") as fh:
            fh.write(TOML)
        p = subprocess.run([sys.executable, TOOL, "-o", ini, toml],
                           capture_output=True, text=True)
        print(p.stderr, end="")
        # One rule cannot be converted at all: exit 1, named by id.
        if p.returncode != 1:
            fail(f"exit {p.returncode}, want 1")
        for want in ("pkcs12-file: not converted",
                     "with-path: converted without its path condition",
                     "zed key: converted without allowlist regexes",
                     "no-keywords: converted without keywords",
                     "[extend]: not converted",
                     "[allowlist] paths: not converted",
                     "6 of 7 rules converted"):
            if want not in p.stderr:
                fail(f"stderr lacks {want!r}")
        text = open(ini).read()
        print(text)
        if any(len(line) > 199 for line in text.splitlines()):
            fail("a line longer than hush reads")
        if '[rule "gitleaks-zed-key"]' not in text or \
                "min_entropy = 3.5" not in text:
            fail("zed key not converted with its entropy")
        inp = "".join(v + "\n" for v in LINES.values())
        r = subprocess.run([REDACT, "--no-builtin", "-r", ini],
                           input=inp, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"hush-redact -r exited {r.returncode}: {r.stderr}")
        out = dict(zip(LINES, r.stdout.splitlines()))
        print(r.stdout, end="")
        expect = {
            "acme": "token [REDACTED:gitleaks-acme-token] used",
            "zed_random": "ZED_KEY=[REDACTED:gitleaks-zed-key]",
            "zed_low": LINES["zed_low"],            # below the entropy
            "zed_stop": LINES["zed_stop"],          # rule stopword
            "zed_globalstop": LINES["zed_globalstop"],
            "semi": "[REDACTED:gitleaks-semi---colon] end",
            "long": "x [REDACTED:gitleaks-long] y",
            "nokw": "id [REDACTED:gitleaks-no-keywords] z",
            "wp": "WP=[REDACTED:gitleaks-with-path]",
        }
        for k, want in expect.items():
            if out.get(k) != want:
                fail(f"{k}: got {out.get(k)!r}, want {want!r}")
        # A file that is not TOML is an input error, not a traceback.
        with open(toml, "w") as fh:
            fh.write("[[rules]\nid = \n")
        p = subprocess.run([sys.executable, TOOL, toml],
                           capture_output=True, text=True)
        if p.returncode != 2 or "Traceback" in p.stderr:
            fail(f"bad TOML: exit {p.returncode}: {p.stderr}")
    print("ok")


main()
