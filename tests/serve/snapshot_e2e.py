#!/usr/bin/env python3
"""Snapshot routes of `wedge serve`, over loopback sockets.

Usage: snapshot_e2e.py EXAMPLES_DIR WEDGE serve

Builds tests/serve/guests/snap_counter.c (a WASI reactor whose init fills an
8 MiB table; its "handle" export counts requests and checks the table) and
serves it on routes that start every request from a snapshot:
  /file    "snapshot": a file made by `wedge snapshot`, guard bounds
  /init    "init": the server takes the snapshot itself at route load
  /soft    a .so compiled with --bounds software and its own snapshot
  /small   "max-memory-mb" below the snapshot's memory: refused at load (503)
  /noentry a reactor snapshot without "entry": refused at load (503)
Every answer must say requests=1 and a pristine table, also right after
requests that scribbled over the table and trapped (?dirty) or were
preempted and killed at their timeout (?spin), on both workers' pools.
SIGHUP reloads: /init's snapshot is taken again.  Exit 77 (skipped) when
clang cannot build wasm32-wasi reactors.  About 10 s in Release.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from serve_util import HOST, Server, build_snap_counter, checker, stop_and_check

HERE = os.path.dirname(os.path.abspath(__file__))
PRISTINE = b"requests=1 table=pristine bad=0\n"


def fetch(url, timeout=60):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    if len(sys.argv) < 4 or sys.argv[3] != "serve":
        sys.exit(__doc__)
    wedge = sys.argv[2]
    clang = shutil.which("clang")
    if not clang:
        print("skipped: clang missing")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-snapshot-e2e-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    wasm = os.path.join(tmp, "counter.wasm")
    build_snap_counter(clang, wasm)
    check, failures = checker()

    def run(*args):
        p = subprocess.run([wedge, *args], capture_output=True, text=True, env=env)
        check(p.returncode == 0, f"wedge {' '.join(args[:2])}... exits 0 ({p.stderr.strip()[:200]})")

    so = os.path.join(tmp, "counter_sw.so")
    run("snapshot", wasm, "-o", os.path.join(tmp, "counter.snap"))
    run("compile", "--bounds", "software", wasm, "-o", so)
    run("snapshot", so, "-o", os.path.join(tmp, "counter_sw.snap"))

    base = {"relative-deadline-us": 2000000, "timeout-us": 20000000, "entry": "handle"}
    routes = [
        {"route": "/file", "path": wasm, "snapshot": os.path.join(tmp, "counter.snap"), **base},
        {"route": "/init", "path": wasm, "init": "wizer.initialize", **base},
        {"route": "/soft", "path": so, "snapshot": os.path.join(tmp, "counter_sw.snap"), **base},
        {"route": "/spin", "path": wasm, "snapshot": os.path.join(tmp, "counter.snap"), **base,
         "timeout-us": 300000},
        {"route": "/small", "path": wasm, "snapshot": os.path.join(tmp, "counter.snap"), **base,
         "max-memory-mb": 4},
        {"route": "/noentry", "path": wasm, "snapshot": os.path.join(tmp, "counter.snap"),
         "relative-deadline-us": 2000000},
    ]
    srv = Server([wedge, "serve", "--workers", "2", "--log-level", "info", "--no-admission"],
                 lambda port: [{"name": "snap", "port": port, "routes": routes}], tmp, env)
    check(srv.state == "listening", f"server listening ({srv.state})")
    try:
        if srv.state == "listening":
            body(srv, check)
    finally:
        _, text = stop_and_check(srv, check)
        if failures:
            print("server log (last 60 lines):\n" + "\n".join(text.splitlines()[-60:]))
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all snapshot route checks passed")


def body(srv, check):
    url = lambda p: f"http://{HOST}:{srv.port}{p}"
    for p in ("/file", "/init", "/soft"):
        answers = [fetch(url(p)) for _ in range(6)]
        check(all(a == (200, PRISTINE) for a in answers), f"{p}: every request starts from the snapshot "
              f"({answers[0]!r})")
        # A request that scribbles over the table and traps, then requests
        # on both workers (pooled memories): none may see its writes.
        for _ in range(3):
            st, b = fetch(url(p + "?dirty"))
            check(st == 500 and b"trap" in b, f"{p}?dirty: 500 trap ({st} {b[:60]!r})")
            answers = [fetch(url(p)) for _ in range(6)]
            check(all(a == (200, PRISTINE) for a in answers),
                  f"{p}: pristine after a trapping request ({answers!r:.200})")
    # Preempted and killed at the route's timeout mid-request.
    for _ in range(2):
        st, b = fetch(url("/spin?spin"))
        check(st == 504, f"/spin?spin: 504 after the timeout ({st} {b[:60]!r})")
        answers = [fetch(url("/spin")) for _ in range(6)]
        check(all(a == (200, PRISTINE) for a in answers), f"/spin: pristine after a killed request ({answers!r:.200})")
    st, b = fetch(url("/small"))
    check(st == 503, f"/small: 503, its snapshot is over max-memory-mb ({st})")
    check("max-memory-mb" in srv.log_text() and "snapshot's memory" in srv.log_text(),
          "the log says why /small is refused")
    st, b = fetch(url("/noentry"))
    check(st == 503 and "no export '_start'" in srv.log_text(), f"/noentry: 503, no _start and no entry ({st})")
    # SIGHUP: a reload refuses broken routes, so the new configuration
    # keeps the good ones; /init's snapshot is taken again.
    with open(srv.cfg) as f:
        cfg = json.load(f)
    cfg[0]["routes"] = [r for r in cfg[0]["routes"] if r["route"] not in ("/small", "/noentry")]
    with open(srv.cfg, "w") as f:
        json.dump(cfg, f)
    before = srv.log_text().count("requests start from a snapshot of its init export")
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "reloaded" not in srv.log_text() and "reload refused" not in srv.log_text():
        time.sleep(0.1)
    check("reloaded" in srv.log_text(), "SIGHUP reloads the configuration")
    check(srv.log_text().count("requests start from a snapshot of its init export") > before,
          "the reload took /init's snapshot again")
    st, b = fetch(url("/small"))
    check(st == 404, f"/small is gone after the reload ({st})")
    time.sleep(0.5)
    answers = [fetch(url("/init")) for _ in range(4)]
    check(all(a == (200, PRISTINE) for a in answers), f"/init after reload ({answers[0]!r})")


if __name__ == "__main__":
    main()
