#!/usr/bin/env python3
"""Hostile functions beside a healthy route, over loopback sockets.

Usage: hostile_e2e.py EXAMPLES_DIR SERVER [serve]

Builds three guests from tests/serve/guests/ with clang (wasm32-wasi) and
serves them beside the examples' hello and trap functions:
  /overflow  unbounded recursion        -> 500, trap kind "call stack exhausted"
  /bomb      memory.grow in a loop       -> 500 (exit 3 once grow is refused at
             the route's max-memory-mb), its stderr line in the log
  /flood     64 MiB on stdout (limit 16) -> 500 "response too large"
  /trap      unreachable                 -> 500, trap kind "unreachable"
While several rounds of them run, a client keeps calling /hello: every
answer must be 200.  Afterwards the server's resident memory must be back
near its level before the hostile rounds (pooled memories and stacks give
back what these guests touched; response buffers are freed).
Exit 77 (CTest: skipped) when the examples or clang are missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from serve_util import HOST, rss_kib, serve_and_check

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = 4
BOMB_MB = 64
RSS_SLACK_KIB = 8 * 1024      # what may stay: allocator caches, a few pooled pages


def fetch(url, timeout=90):      # beyond the routes' 60 s timeout-us
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    clang = shutil.which("clang")
    if not os.path.exists(os.path.join(examples, "hello.wasm")) or not clang:
        print("examples or clang missing: skipped")
        sys.exit(77)
    with open(shutil.which(cmd[0]) or cmd[0], "rb") as f:
        asan = b"AddressSanitizer" in f.read()
    tmp = tempfile.mkdtemp(prefix="wedge-hostile-e2e-")
    guests = {}
    for g in ("overflow", "bomb", "flood"):
        out = os.path.join(tmp, g + ".wasm")
        r = subprocess.run([clang, "--target=wasm32-wasi", "-O2", os.path.join(HERE, "guests", g + ".c"), "-o", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"cannot build {g}.c for wasm32-wasi: skipped\n{r.stderr}")
            sys.exit(77)
        guests[g] = out
    # Every guest here ends by itself (trap, exit, refused grow, output
    # limit) within about a second; the hard timeout (default 10 s from
    # arrival) is not what this test is about, and an ASan build on a
    # loaded 2-core machine must not turn a slow answer into a 504.
    slow_ok = {"timeout-us": 60000000}
    routes = [
        {"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 2000000, **slow_ok},
        {"route": "/trap", "path": os.path.join(examples, "trap.wasm"), "relative-deadline-us": 2000000, **slow_ok},
        {"route": "/overflow", "path": guests["overflow"], "relative-deadline-us": 5000000, **slow_ok},
        {"route": "/bomb", "path": guests["bomb"], "relative-deadline-us": 5000000, "max-memory-mb": BOMB_MB,
         **slow_ok},
        {"route": "/flood", "path": guests["flood"], "relative-deadline-us": 5000000, **slow_ok},
    ]
    failures = serve_and_check(cmd, routes, tmp, ["--no-admission"],
                               lambda proc, port, log_text, check: run_checks(proc, port, log_text, check, asan))
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("all hostile-input checks passed")


def run_checks(proc, port, log_text, check, asan):
    url = lambda p: f"http://{HOST}:{port}{p}"

    # Warm up every route once (first-use costs: pools, allocator
    # arenas, the compile cache's pages), then take the baseline.
    for p in ("/hello", "/trap", "/overflow", "/bomb", "/flood"):
        fetch(url(p))
    for _ in range(20):
        fetch(url("/hello"))
    time.sleep(0.5)
    base = rss_kib(proc.pid)

    healthy = {"n": 0, "bad": []}
    stop = threading.Event()

    def healthy_client():
        while not stop.is_set():
            try:
                st, body = fetch(url("/hello"))
            except Exception as e:      # noqa: BLE001
                # Recorded, not raised: an exception in a thread would only
                # be printed, and the checks below would see too few answers
                # without the reason.
                healthy["bad"].append(("error", repr(e)))
                if proc.poll() is not None:
                    return
                continue
            healthy["n"] += 1
            if st != 200 or b"Hello" not in body:
                healthy["bad"].append((st, body[:80]))

    t = threading.Thread(target=healthy_client)
    t.start()
    results = {p: [] for p in ("/overflow", "/bomb", "/flood", "/trap")}
    peak = base
    try:
        for _ in range(ROUNDS):
            threads = []
            for p in results:
                def go(p=p):
                    try:
                        results[p].append(fetch(url(p)))
                    except Exception as e:      # noqa: BLE001 — recorded, see healthy_client
                        results[p].append(("error", repr(e).encode()))
                th = threading.Thread(target=go)
                th.start()
                threads.append(th)
            for th in threads:
                th.join(120)
            peak = max(peak, rss_kib(proc.pid))
    finally:
        stop.set()
        t.join(60)

    def all_500_with(p, needle):
        rs = results[p]
        bad = [r for r in rs if not (r[0] == 500 and needle in r[1])]
        return len(rs) == ROUNDS and not bad, (bad or rs)[:1]

    ok, ex = all_500_with("/overflow", b"call stack exhausted")
    check(ok, f"/overflow: 500 with trap kind call stack exhausted {ex}")
    ok, ex = all_500_with("/bomb", b'"code":3')
    check(ok, f"/bomb: 500 with exit code 3 once grow is refused {ex}")
    ok, ex = all_500_with("/flood", b"response too large")
    check(ok, f"/flood: 500 response too large {ex}")
    ok, ex = all_500_with("/trap", b"unreachable")
    check(ok, f"/trap: 500 with trap kind unreachable {ex}")
    check(healthy["n"] > 0 and not healthy["bad"],
          f"healthy /hello beside them: {healthy['n']} answers, non-200: {healthy['bad'][:3]}")

    text = log_text()
    check(text.count("route hostile/overflow: wasm trap: call stack exhausted") >= ROUNDS,
          "log: one trap line per overflow")
    check(text.count(f"bomb: memory.grow refused after {BOMB_MB - 1} MiB") >= ROUNDS or
          text.count("route hostile/bomb: stderr: bomb: memory.grow refused") >= ROUNDS,
          "log: the bomb's stderr line, stopped at its max-memory-mb")
    check(text.count("route hostile/flood: response larger than") >= ROUNDS, "log: response too large lines")
    check(text.count("route hostile/trap: wasm trap: unreachable") >= ROUNDS, "log: trap lines")

    # Resident memory back near the baseline.
    time.sleep(1.0)
    after = rss_kib(proc.pid)
    print(f"     RSS: baseline {base} KiB, peak during the rounds {peak} KiB, after {after} KiB")
    if asan:
        # ASan's allocator keeps freed blocks in its quarantine (256 MiB
        # by default) and caches: resident memory says nothing there.
        print("skip RSS back near its level: the server is built with AddressSanitizer")
    else:
        check(after <= base + RSS_SLACK_KIB,
              f"RSS back near its level: {after} KiB <= {base} + {RSS_SLACK_KIB} KiB")
    try:
        st, _ = fetch(url("/hello"))
    except OSError as e:
        st = repr(e)
    check(st == 200, f"still serving afterwards (got {st})")


if __name__ == "__main__":
    main()
