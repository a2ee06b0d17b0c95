#!/usr/bin/env python3
"""synth_pack.py [N] > pack.ini: a synthetic rule pack of N [rule]s (default
300) shaped like a real scanner's: most rules a distinct literal prefix and a
bounded body (the way provider token formats look), a tenth of them a
service name followed by a key word and an assignment (the gitleaks
"<service>-api-key" shape), and a few generic detectors whose keywords
(token, key, secret, password) occur on many log lines. It exists to
measure the engine at the size of the pack, not to find secrets: the
prefixes are made up and seeded, so every run writes the same file."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
rnd = random.Random(7)
letters = "abcdefghijklmnopqrstuvwxyz"
seen = set()


def word(lo, hi):
    while True:
        w = "".join(rnd.choice(letters) for _ in range(rnd.randint(lo, hi)))
        if w not in seen:
            seen.add(w)
            return w


def emit(name, kw, pattern, group=0):
    print(f'[rule "{name}"]')
    # inih reads at most 199 characters a line: continue long patterns.
    head, rest = pattern[:150], pattern[150:]
    print(f"pattern = {head}")
    while rest:
        print(f"  {rest[:150]}")
        rest = rest[150:]
    print(f"keywords = {kw}")
    if group:
        print(f"secret_group = {group}")
    print()


generic = [
    ("synth-generic-token", "token",
     r"(?i)[\w.-]{0,24}token[\"']?\s{0,4}[:=]\s{0,4}[\"']?([A-Za-z0-9_\-]{20,80})(?![A-Za-z0-9_\-])"),
    ("synth-generic-key", "key",
     r"(?i)[\w.-]{0,24}key[\"']?\s{0,4}[:=]\s{0,4}[\"']?([A-Za-z0-9_\-+/]{20,80})(?![A-Za-z0-9_\-+/])"),
    ("synth-generic-secret", "secret",
     r"(?i)[\w.-]{0,24}secret[\"']?\s{0,4}[:=]\s{0,4}[\"']?([A-Za-z0-9_\-+/]{16,80})(?![A-Za-z0-9_\-+/])"),
    ("synth-generic-password", "password,passwd,pwd",
     r"(?i)(?:password|passwd|pwd)[\"']?\s{0,4}[:=]\s{0,4}[\"']?([^\s\"']{6,80})"),
    ("synth-generic-auth", "auth",
     r"(?i)auth[\w.-]{0,16}[\"']?\s{0,4}[:=]\s{0,4}[\"']?([A-Za-z0-9_\-.=]{20,200})"),
]
i = 0
for name, kw, pat in generic:
    emit(name, kw, pat, 1)
    i += 1
nservice = n // 10
for k in range(nservice):
    svc = word(4, 9)
    emit(f"synth-{svc}-key", svc,
         rf"(?i)\b{svc}[\w.-]{{0,20}}(?:key|token|secret)[\"']?\s{{0,4}}[:=]\s{{0,4}}"
         rf"[\"']?([a-z0-9]{{32,48}})\b", 1)
    i += 1
alphabets = [r"[A-Za-z0-9]", r"[A-Za-z0-9_-]", r"[a-f0-9]", r"[A-Z2-7]"]
while i < n:
    pre = word(2, 5) + rnd.choice(["_", "-", "_live_", "-api-", "pat_"])
    lo = rnd.choice([20, 24, 32, 36, 40, 48, 64])
    alpha = rnd.choice(alphabets)
    emit(f"synth-{pre.strip('_-').replace('_', '-')}-{i}", pre,
         rf"\b{pre}{alpha}{{{lo},{lo + 16}}}(?![A-Za-z0-9_-])")
    i += 1
