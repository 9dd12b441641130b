#!/usr/bin/env python3
"""Sleeping guests under `wedge serve` give their workers away.

Usage: sleep_yield_e2e.py EXAMPLES_DIR SERVER [serve]

Builds tests/serve/guests/sleeper.c (WASI, wasi-libc's nanosleep: one
poll_oneoff clock subscription) and cwa_sleeper.c (CommonWA,
runtime_msleep; clang --target=wasm32 -nostdlib), each sleeping SLEEP_MS,
and serves them with 2 workers beside the examples' hello function:
  /sleep, /cwa        timeout 10 s: they sleep to the end and answer 200
  /late, /cwa_late    timeout 0.15 s: cut at their deadline, 504
Checks: one sleeper alone sleeps its whole time (the guest measures it);
SLEEPERS sleepers at once (5 per worker, WASI and CommonWA mixed) all end
in about one sleep, well under the time they would take one after another
on 2 workers (SLEEPERS / 2 sleeps); /hello, asked over and over meanwhile,
answers 200 in much less than one sleep (a held worker would make it wait
for a sleeper to end); late sleepers get their 504 at their deadline.
Exit 77 (CTest: skipped) when the examples or clang (with a wasm32-wasi
sysroot) are missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from serve_util import HOST, http_get, serve_and_check

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SLEEP_MS = 500
SLEEPERS = 10                   # 5 per worker: 5 sleeps one after another
LATE_US = 150000


def build(clang, tmp):
    """{name: path} of the guests built, or (None, why)."""
    out = {}
    for name, cmd in (
        ("sleeper", ["--target=wasm32-wasi"]),
        ("cwa_sleeper", ["--target=wasm32", "-nostdlib", "-I" + os.path.join(SRC, "include"),
                         "-Wl,--no-entry", "-Wl,--export=cwa_main"]),
    ):
        path = os.path.join(tmp, name + ".wasm")
        r = subprocess.run([clang] + cmd + ["-O2", "-Wall", "-Werror", f"-DSLEEP_MS={SLEEP_MS}",
                                            os.path.join(HERE, "guests", name + ".c"), "-o", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None, f"cannot build {name}.c for wasm32\n{r.stderr}"
        out[name] = path
    return out, ""


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    clang = shutil.which("clang")
    if not os.path.exists(os.path.join(examples, "hello.wasm")) or not clang:
        print("SKIP: all 5 sleeping-guest checks: the examples or clang are missing")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-sleep-yield-e2e-")
    guests, why = build(clang, tmp)
    if not guests:
        print(f"SKIP: all 5 sleeping-guest checks: {why}")
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(77)
    routes = [
        {"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 1000000},
        {"route": "/sleep", "path": guests["sleeper"], "relative-deadline-us": 10000000, "timeout-us": 10000000},
        {"route": "/cwa", "path": guests["cwa_sleeper"], "relative-deadline-us": 10000000,
         "timeout-us": 10000000},
        {"route": "/late", "path": guests["sleeper"], "relative-deadline-us": LATE_US, "timeout-us": LATE_US},
        {"route": "/cwa_late", "path": guests["cwa_sleeper"], "relative-deadline-us": LATE_US,
         "timeout-us": LATE_US},
    ]
    failures = serve_and_check(cmd, routes, tmp, ["--no-admission"],
                               lambda proc, port, log_text, check: run_checks(port, check))
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("all sleeping-guest checks passed")


def timed(port, path):
    t0 = time.monotonic()
    st, body = http_get(port, path, timeout=60)
    return st, body, time.monotonic() - t0


def run_checks(port, check):
    sleep = SLEEP_MS / 1000

    st, body, _ = timed(port, "/sleep")
    slept = int(body.split()[1]) if st == 200 and body.startswith(b"slept ") else -1
    check(slept >= SLEEP_MS, f"one WASI sleeper alone sleeps its {SLEEP_MS} ms ({st} {body!r})")

    # Sleepers, 5 per worker, beside a client asking /hello over and over.
    healthy = {"n": 0, "bad": [], "slowest": 0.0}
    stop = threading.Event()

    def healthy_client():
        while not stop.is_set():
            try:
                st, b, t = timed(port, "/hello")
            except OSError as e:
                healthy["bad"].append(repr(e))
                time.sleep(0.05)
                continue
            healthy["n"] += 1
            healthy["slowest"] = max(healthy["slowest"], t)
            if st != 200 or b"Hello" not in b:
                healthy["bad"].append((st, b[:80]))

    sleepers = []

    def sleeper(path):
        sleepers.append((path,) + timed(port, path))

    hc = threading.Thread(target=healthy_client)
    hc.start()
    time.sleep(0.1)
    ts = [threading.Thread(target=sleeper, args=("/sleep" if i % 2 else "/cwa",)) for i in range(SLEEPERS)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    together = time.monotonic() - t0
    time.sleep(0.1)
    stop.set()
    hc.join(60)
    serial = SLEEPERS / 2 * sleep
    times = sorted(round(t, 2) for _, _, _, t in sleepers)
    ok = [(p, st) for p, st, b, _ in sleepers
          if st == 200 and b.startswith(b"slept") and (p == "/cwa" or int(b.split()[1]) >= SLEEP_MS)]
    check(len(ok) == SLEEPERS,
          f"{SLEEPERS} sleepers (WASI and CommonWA) at once all sleep their whole time and answer 200 "
          f"({[(p, st, b[:20]) for p, st, b, _ in sleepers]})")
    check(together < 0.6 * serial and all(t >= sleep * 0.98 for t in times),
          f"... together in about one sleep ({sleep} s): all done in {together:.2f} s, not the {serial} s "
          f"they take one after another on 2 workers (each: {times} s)")
    check(healthy["n"] >= 3 and not healthy["bad"],
          f"/hello answered 200 throughout ({healthy['n']} answers, bad: {healthy['bad'][:3]})")
    check(healthy["slowest"] < sleep / 2,
          f"... without waiting for a sleeper's worker (slowest {healthy['slowest']:.2f} s, limit {sleep / 2} s)")

    late = []
    ts = [threading.Thread(target=lambda p=p: late.append((p,) + timed(port, p)))
          for p in ("/late", "/cwa_late") * 2]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    limit = LATE_US / 1e6
    check(len(late) == 4 and all(st == 504 and limit * 0.9 <= t < limit + 2.0 for _, st, _, t in late),
          f"sleepers past their {limit} s timeout get 504 at it "
          f"({[(p, st, round(t, 2)) for p, st, _, t in late]})")


if __name__ == "__main__":
    main()
