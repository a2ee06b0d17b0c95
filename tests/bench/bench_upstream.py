"""Overhead of the upstream route (issue 11) against calling the loopback
TLS stand-in directly.

    python3 tests/bench/bench_upstream.py BUILD_DIR [CALLS] [MIB]

Latency: CALLS sequential GET /v1/models, directly (one kept-alive TLS
connection, the best case for the direct caller) and through hushd (a new
Unix connection per call, as hushd closes each; hushd keeps its TLS
connection to the upstream). Prints p50 and p99 of each and the added p50.
Throughput: MIB MiB of body from /v1/big, directly and through hushd
(masking included), in MB/s (10^6 bytes). The stand-in is Python: its own
speed bounds both figures.
"""
import http.client
import os
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))
build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
os.environ.setdefault("HUSHD", os.path.join(build, "broker", "hushd"))
from hushtest import Hushd  # noqa
from standin import StandIn, make_ca  # noqa

CALLS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
MIB = int(sys.argv[3]) if len(sys.argv) > 3 else 512
KEY = "sk-ant-api03-BENCHKEY-" + "x7" * 20

work = Hushd("", start=False)
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
# a C stand-in for throughput: openssl s_server serving a file
with socket.socket() as t:
    t.bind(("127.0.0.1", 0))
    FAST = t.getsockname()[1]
line = b"0123456789abcdef" * 255 + b"0123456789abcde\n"
with open(os.path.join(work.dir, "big.bin"), "wb") as f:
    for _ in range((MIB << 20) // len(line)):
        f.write(line)
BIG = os.path.getsize(os.path.join(work.dir, "big.bin"))
srv = subprocess.Popen(["openssl", "s_server", "-quiet", "-WWW", "-accept",
                        "127.0.0.1:%d" % FAST, "-cert", cert, "-key", key],
                       cwd=work.dir, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
h = Hushd("""
[broker]
audit_log = {dir}/audit.jsonl
[client "agent"]
socket = {dir}/agent.sock
allow = upstream:anthropic, upstream:fast
[credential "anthropic-key"]
source = file:{dir}/key
[upstream "anthropic"]
url = https://127.0.0.1:%d
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/models*, /v1/big
ca_file = %s
[upstream "fast"]
url = https://127.0.0.1:%d
credential = anthropic-key
header = x-api-key: {value}
paths = /big.bin
ca_file = %s
""" % (up.port, ca, FAST, ca), sockets=("agent.sock",), start=False)
h.write("key", KEY)
h.start()
SOCK = h.sockets[0]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1e3


def via_hushd(target, sink=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    s.sendall(b"GET /v1/upstream/anthropic%s HTTP/1.1\r\nHost: x\r\n\r\n" %
              target.encode())
    n = 0
    head = b""
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        n += len(b)
        if len(head) < 16:
            head += b[:16]
    s.close()
    assert head.startswith(b"HTTP/1.1 200"), head
    return n


try:
    ctx = ssl.create_default_context(cafile=ca)
    direct = http.client.HTTPSConnection("127.0.0.1", up.port, context=ctx)
    for _ in range(50):
        direct.request("GET", "/v1/models", headers={"x-api-key": KEY})
        direct.getresponse().read()
        via_hushd("/v1/models")
    d, p = [], []
    for _ in range(CALLS):
        t0 = time.perf_counter()
        direct.request("GET", "/v1/models", headers={"x-api-key": KEY})
        direct.getresponse().read()
        d.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        via_hushd("/v1/models")
        p.append(time.perf_counter() - t0)
    print("latency, %d calls each: direct p50 %.3f ms p99 %.3f ms; "
          "through hushd p50 %.3f ms p99 %.3f ms; added p50 %.3f ms" %
          (CALLS, pct(d, .5), pct(d, .99), pct(p, .5), pct(p, .99),
           pct(p, .5) - pct(d, .5)))

    n = MIB << 20
    t0 = time.perf_counter()
    direct.request("GET", "/v1/big?n=%d" % n, headers={"x-api-key": KEY})
    r = direct.getresponse()
    got = 0
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        got += len(b)
    dt = time.perf_counter() - t0
    assert got == n, got
    print("throughput, %d MiB: direct %.0f MB/s" % (MIB, n / dt / 1e6))
    t0 = time.perf_counter()
    got = via_hushd("/v1/big?n=%d" % n)
    dt = time.perf_counter() - t0
    assert got >= n, got
    print("throughput, %d MiB: through hushd %.0f MB/s" % (MIB,
                                                         n / dt / 1e6))

    def curl_speed(args):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                              "%{speed_download} %{size_download}"] + args,
                             capture_output=True, timeout=300).stdout
        speed, size = out.decode().split()
        return float(speed) / 1e6, int(float(size))
    for _ in range(50):
        if subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", ca,
                           "https://127.0.0.1:%d/" % FAST]).returncode == 0:
            break
        time.sleep(0.1)
    for _ in range(2):
        d, dn = curl_speed(["--cacert", ca,
                            "https://127.0.0.1:%d/big.bin" % FAST])
        p, pn = curl_speed(["--unix-socket", SOCK,
                            "http://h/v1/upstream/fast/big.bin"])
        print("throughput, %d MiB file, curl, openssl s_server stand-in: "
              "direct %.0f MB/s (%d bytes); through hushd %.0f MB/s "
              "(%d bytes)" % (MIB, d, dn, p, pn))
finally:
    srv.kill()
    h.stop()
    up.close()
    h.cleanup()
    work.cleanup()
