#!/usr/bin/env python3
"""redact_ab.py STREAM RUNS FILTER...: cat and each FILTER on STREAM,
interleaved RUNS times, each writing a file (as evaluate.sh does, without
its date processes and score): median and minimum wall time, median CPU
time (user + sys). Interleaving puts every program under the same load,
so two builds of hush-redact can be compared on a shared machine."""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    stream, runs, filters = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    progs = ["cat"] + filters
    wall = {p: [] for p in progs}
    cpu = {p: [] for p in progs}
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        for _ in range(runs):
            for p in progs:
                argv = ["cat", stream] if p == "cat" else [p]
                with open(stream, "rb") as fi, open(out, "wb") as fo:
                    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    subprocess.run(argv, stdin=fi, stdout=fo, check=True)
                    t1 = time.perf_counter()
                    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                wall[p].append(t1 - t0)
                cpu[p].append(r1.ru_utime - r0.ru_utime +
                              r1.ru_stime - r0.ru_stime)
    for p in progs:
        print("%-50s wall median %6.1f ms  min %6.1f  CPU median %6.1f ms" %
              (p, statistics.median(wall[p]) * 1000, min(wall[p]) * 1000,
               statistics.median(cpu[p]) * 1000))
    print("load average: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
