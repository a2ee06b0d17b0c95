#!/usr/bin/env python3
"""hush-redact keeps live logs live: a line written to its stdin appears,
redacted, on its stdout while stdin stays open (tail -f | hush-redact)."""
import os
import select
import subprocess
import sys
import time

R = os.environ["HUSH_REDACT"]
GH = "ghp_R8f2Kq9LmZ3xT7vW1pN4bY6cH0dJ5sA2eG8u"


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
    # A partial line is held (it may still grow into a secret) ...
    p.stdin.write(b"partial ghp_R8f2Kq9LmZ")
    r, _, _ = select.select([out], [], [], 0.5)
    if r:
        print("FAIL: a partial line was written before its end")
        fails += 1
    else:
        print("ok: partial line held")
    # ... and completed at end of input.
    p.stdin.write(b"3xT7vW1pN4bY6cH0dJ5sA2eG8u")
    p.stdin.close()
    rest = p.stdout.read()
    rc = p.wait(timeout=10)
    if rest != b"partial [REDACTED:github-token]" or rc != 0:
        print("FAIL: end of input: %r, status %d" % (rest, rc))
        fails += 1
    else:
        print("ok: end of input")
    err = p.stderr.read()
    if err:
        print("FAIL: stderr: %r" % err)
        fails += 1
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
