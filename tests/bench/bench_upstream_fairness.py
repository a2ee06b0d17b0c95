"""Does streaming through the upstream route delay another client's plain
credential request? (issue 11: "100 concurrent streaming calls do not
delay a plain credential request of another client, p99 < 5 ms")

    python3 tests/bench/bench_upstream_fairness.py BUILD_DIR [SECONDS]

hushd (BUILD_DIR's) serves a client "agent" that keeps 100 calls through
/v1/upstream/... streaming, and a client "other" whose GET
/v1/credentials/plain is timed by tests/bench/hushd_load (C, one
keep-alive connection, 200 requests a second, SECONDS each phase):

  idle    no upstream call
  sse     100 calls, each an SSE stream of ~200-byte events every 20 ms
          (5,000 events/s through hushd: a model streaming tokens)
  bulk    100 calls, each 8 MiB as fast as the Python stand-in sends and
          the reader takes it; a call that ends is started again

PHASES=sse,bulk runs only those; TRACE="strace ... -p" runs a command
on hushd's pid during each probe (diagnosis).

For each phase: the probe's p50/p99/max, hushd's CPU time (user+system
from /proc), the bytes the streams received, and the load average. The
streams' reader runs in its own process, so neither it nor the stand-in
shares an interpreter lock with the probe.
"""
import multiprocessing
import os
import re
import selectors
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))
build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
SECS = float(sys.argv[2]) if len(sys.argv) > 2 else 10
os.environ.setdefault("HUSHD", os.path.join(build, "broker", "hushd"))
LOAD = os.path.join(build, "tests", "hushd_load")
from hushtest import Hushd  # noqa
from standin import StandIn, make_ca  # noqa

KEY = "sk-ant-api03-FAIRNESS-" + "k9" * 20
STREAMS = 100


def streams(sock, target, stop, counter):
    """Keeps STREAMS calls open, each restarted when it ends."""
    sel = selectors.DefaultSelector()
    req = (b"GET /v1/upstream/anthropic%s HTTP/1.1\r\nHost: x\r\n\r\n" %
           target.encode())

    def start():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.sendall(req)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    for _ in range(STREAMS):
        start()
    total = 0
    while not stop.is_set():
        for key, _ in sel.select(0.2):
            try:
                b = key.fileobj.recv(1 << 18)
            except BlockingIOError:
                continue
            if b:
                total += len(b)
                continue
            sel.unregister(key.fileobj)
            key.fileobj.close()
            start()
        counter.value = total
    for key in list(sel.get_map().values()):
        key.fileobj.close()


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe(sock):
    out = subprocess.run([LOAD, "-s", sock, "-c", "1", "-t", str(SECS),
                          "-r", "200", "-p", "/v1/credentials/plain"],
                         capture_output=True, text=True, timeout=SECS + 60)
    return out.stdout.strip() or "no result (exit %d): %s" % (
        out.returncode, out.stderr.strip()[-300:])


work = Hushd("", start=False)
ca, cert, key = make_ca(work.dir)
up = StandIn(cert, key)
h = Hushd("""
[broker]
audit_log = {dir}/audit.jsonl
max_connections = 1024
[client "agent"]
socket = {dir}/agent.sock
allow = upstream:anthropic
max_connections = 400
[client "other"]
socket = {dir}/other.sock
allow = plain
[credential "anthropic-key"]
source = file:{dir}/key
[credential "plain"]
source = file:{dir}/plain
[upstream "anthropic"]
url = https://127.0.0.1:%d
credential = anthropic-key
header = x-api-key: {value}
paths = /v1/tick, /v1/big
timeout = 60s
ca_file = %s
""" % (up.port, ca), sockets=("agent.sock", "other.sock"), start=False)
h.write("key", KEY)
h.write("plain", "plain-value-0123456789")
h.start()
AGENT, OTHER = h.sockets
pid = h.proc.pid
try:
    phases = os.environ.get("PHASES", "idle,sse,bulk").split(",")
    for phase, target in (("idle", None),
                          ("sse", "/v1/tick?n=100000&ms=20"),
                          ("bulk", "/v1/big?n=%d" % (8 << 20))):
        if phase not in phases:
            continue
        stop = multiprocessing.Event()
        counter = multiprocessing.Value("q", 0)
        p = None
        if target is not None:
            p = multiprocessing.Process(target=streams,
                                        args=(AGENT, target, stop, counter))
            p.start()
            time.sleep(3)   # all calls open and streaming
        c0, b0, t0 = cpu(pid), counter.value, time.time()
        # TRACE: a command run on hushd's pid during the probe, e.g.
        # "strace -ttt -e trace=epoll_wait -o FILE -p" (diagnosis only)
        tr = None
        if os.environ.get("TRACE"):
            tr = subprocess.Popen(os.environ["TRACE"].split() + [str(pid)],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        res = probe(OTHER)
        if tr is not None:
            tr.send_signal(2)   # perf writes its counts on SIGINT
            tr.wait()
        c1, b1, t1 = cpu(pid), counter.value, time.time()
        load = open("/proc/loadavg").read().split()[:3]
        stop.set()
        if p is not None:
            p.join(30)
        print("%-5s probe: %s" % (phase, res))
        print("%-5s hushd CPU %.2f s in %.1f s; streams received %.1f MB/s;"
              " load average %s" % (phase, c1 - c0, t1 - t0,
                                    (b1 - b0) / (t1 - t0) / 1e6,
                                    " ".join(load)))
        sys.stdout.flush()
finally:
    h.stop()
    up.close()
    h.cleanup()
    work.cleanup()
