#!/usr/bin/env python3
"""hush-redact keeps live logs live: a line written to its stdin appears,
redacted, on its stdout while stdin stays open (tail -f | hush-redact); a
partial line (a prompt, a progress bar) appears up to a safe cut once its
writer pauses, while a token that may still grow is held."""
import os
import select
import subprocess
import sys
import time

R = os.environ["HUSH_REDACT"]
GH = "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"


def read_until(fd, want, timeout):
    """Reads until the bytes read end with want (or time runs out)."""
    buf = b""
    end = time.monotonic() + timeout
    while not buf.endswith(want):
        left = end - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf


def read_line(fd, timeout):
    buf = b""
    end = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return buf or None
        buf += chunk
    return buf


def main():
    p = subprocess.Popen([R], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=0)
    out = p.stdout.fileno()
    fails = 0
    for i in range(3):
        p.stdin.write(("event %d token=%s\n" % (i, GH)).encode())
        line = read_line(out, 10)
        want = ("event %d token=[REDACTED:github-token]\n" % i).encode()
        if line != want:
            print("FAIL: line %d: got %r while stdin is open" % (i, line))
            fails += 1
        else:
            print("ok: line %d appeared live" % i)
    # A partial line goes out up to a safe cut once input pauses; the
    # token at its end, which may still grow, is held ...
    p.stdin.write(b"progress 45% partial ghp_R8f2Kq9LmZ")
    got = read_until(out, b"partial ", 10)
    if got != b"progress 45% partial ":
        print("FAIL: partial line: got %r while stdin is open" % got)
        fails += 1
    else:
        print("ok: partial line shown up to the token")
    # ... and completed, masked, at end of input.
    p.stdin.write(b"3xT7vW1pN4bY6cH0dJ5s4F50fr")
    p.stdin.close()
    rest = p.stdout.read()
    rc = p.wait(timeout=10)
    if rest != b"[REDACTED:github-token]" or rc != 0:
        print("FAIL: end of input: %r, status %d" % (rest, rc))
        fails += 1
    else:
        print("ok: end of input")
    err = p.stderr.read()
    if err:
        print("FAIL: stderr: %r" % err)
        fails += 1
    fails += prompt_from_a_process()
    return 1 if fails else 0


def prompt_from_a_process():
    """A real process writes a prompt that never ends in a newline into
    a real pipe to hush-redact, then waits for an answer: the prompt
    shows; then a key is shown, its value typed later is masked."""
    fails = 0
    rd, wr = os.pipe()
    child = subprocess.Popen(
        ["sh", "-c", "printf 'Continue? [y/N] '; read a; "
         "printf 'api password: '; read b; printf '%s\\n' \"$b\""],
        stdin=subprocess.PIPE, stdout=wr, bufsize=0)
    os.close(wr)
    r = subprocess.Popen([R], stdin=rd, stdout=subprocess.PIPE, bufsize=0)
    os.close(rd)
    out = r.stdout.fileno()
    got = read_until(out, b"[y/N] ", 10)
    if got != b"Continue? [y/N] ":
        print("FAIL: prompt: got %r while the process waits" % got)
        fails += 1
    else:
        print("ok: a process's prompt shows while it waits")
    child.stdin.write(b"y\n")
    got = read_until(out, b"password: ", 10)
    if got != b"api password: ":
        print("FAIL: second prompt: got %r" % got)
        fails += 1
    child.stdin.write(b"Tr0ub4dor&3xyzzy\n")
    child.stdin.close()
    child.wait(timeout=10)
    rest = r.stdout.read()
    r.wait(timeout=10)
    if b"Tr0ub4dor" in rest or b"[REDACTED:generic-password]" not in rest:
        print("FAIL: the value after a shown key: %r" % rest)
        fails += 1
    else:
        print("ok: the value after a shown key is masked")
    return fails


if __name__ == "__main__":
    sys.exit(main())
