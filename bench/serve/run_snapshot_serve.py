#!/usr/bin/env python3
"""Snapshots through `wedge serve` (issue 8, "Performance"), in one run:

  bench/serve/run_snapshot_serve.py [--build-dir build] [--workers N] [--seconds S] [--no-write]

The 64 MiB guest of bench_snapshot (bench/snapshot_guest.c, a WASI reactor)
on two routes of one server:
  /snap  "init": "fill64", "entry": "serve" -- the server takes the snapshot
         when the route loads; every request restores it (copy-on-write,
         per-worker pools) and runs the handler (reads 5% of the data);
  /cold  "entry": "serve_cold" -- no snapshot: every request instantiates
         and fills the 64 MiB itself, then runs the same handler.
wrk -t1 -cC --latency against each (C = 2 x workers), alternating, ROUNDS
rounds; the median round by requests/s is reported.  Writes the
"## Snapshots through wedge serve" section of docs/benchmarks.md (only that
section) and prints it.  A benchmark: it asserts nothing about the numbers
(exit 1 only if a tool or the server fails, or a response is not 200).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_serve import ROOT, Wedge, wrk   # noqa: E402  (its server wrapper and wrk parser)

ROUNDS = 3
SECTION = "## Snapshots through wedge serve"


def build_guest(tmp):
    wasm = os.path.join(tmp, "snapshot_guest.wasm")
    r = subprocess.run(["clang", "--target=wasm32-wasi", "-mexec-model=reactor", "-O2",
                        os.path.join(ROOT, "bench", "snapshot_guest.c"), "-o", wasm], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"run_snapshot_serve: cannot build the guest:\n{r.stderr}")
    return wasm


def measure(wedge, tmp, wasm, workers, secs):
    base = {"path": wasm, "max-memory-mb": 128, "relative-deadline-us": 10000000, "timeout-us": 30000000}
    routes = [{"route": "/snap", "init": "fill64", "entry": "serve", **base},
              {"route": "/cold", "entry": "serve_cold", **base}]
    srv = Wedge(wedge, tmp, routes, workers, name="serve-snapshot")
    try:
        conns = 2 * workers
        res = {"snap": [], "cold": []}
        for name in res:                  # warm-up: fills the pools, compiles nothing new
            wrk(f"http://127.0.0.1:{srv.port}/{name}", 1, conns)
        for _ in range(ROUNDS):
            for name in res:
                r = wrk(f"http://127.0.0.1:{srv.port}/{name}", secs, conns)
                if r["bad"] or r["errors"] or not r["rps"] or not r["p50"]:
                    sys.exit(f"run_snapshot_serve: /{name}: {r['bad']} non-2xx responses, {r['rps']} requests/s {r['errors']}\n"
                             f"{srv.srv.log_text()[-3000:]}")
                res[name].append(r)
        return {k: sorted(v, key=lambda r: r["rps"])[len(v) // 2] for k, v in res.items()}, conns
    finally:
        srv.close()


def section(m, conns, workers, secs, cmdline):
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = -1
    s, c = m["snap"], m["cold"]
    L = [SECTION, "",
         f"Written by `{cmdline}` (bench/README.md): the 64 MiB guest of the table above "
         f"(`bench/snapshot_guest.c`) served by `wedge serve --workers {workers}`, "
         f"`wrk -t1 -c{conns} -d{secs}s --latency`, median of {ROUNDS} alternating rounds by requests/s; "
         f"load average {load:.1f} when it ended (a shared 2-core machine).", "",
         "| route | per request | requests/s | p50 ms | p99 ms |",
         "|---|---|---:|---:|---:|",
         f"| with snapshot (`\"init\": \"fill64\"`) | restore (CoW, pooled) + handler | {s['rps']:.0f} | "
         f"{s['p50']:.2f} | {s['p99']:.2f} |",
         f"| without (`\"entry\": \"serve_cold\"`) | instantiate + fill 64 MiB + handler | {c['rps']:.1f} | "
         f"{c['p50']:.1f} | {c['p99']:.1f} |",
         "",
         f"With the snapshot: {s['rps'] / c['rps']:.0f}x the requests/s, p50 {c['p50'] / s['p50']:.0f}x lower.", ""]
    return "\n".join(L) + "\n"


def write_section(text):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    old = open(path).read()
    m = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", old, re.M | re.S)
    if m:
        new = old[:m.start()] + text + ("\n" if old[m.end():] else "") + old[m.end():].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seconds", type=int, default=5, help="wrk duration per round and route")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    a = ap.parse_args()
    wedge = os.path.join(os.path.abspath(a.build_dir), "wedge")
    for tool in ("wrk", "clang"):
        if not shutil.which(tool):
            sys.exit(f"run_snapshot_serve: {tool} not found")
    tmp = tempfile.mkdtemp(prefix="wedge-bench-snapserve-")
    try:
        t0 = time.monotonic()
        m, conns = measure(wedge, tmp, build_guest(tmp), a.workers, a.seconds)
        cmdline = "bench/serve/run_snapshot_serve.py" + ("" if a.build_dir == os.path.join(ROOT, "build")
                                                           else f" --build-dir {a.build_dir}")
        text = section(m, conns, a.workers, a.seconds, cmdline)
        print(text)
        print(f"(took {time.monotonic() - t0:.0f} s)")
        if not a.no_write:
            write_section(text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
