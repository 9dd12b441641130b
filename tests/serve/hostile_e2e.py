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
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

HOST = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = 4
BOMB_MB = 64
RSS_SLACK_KIB = 8 * 1024      # what may stay: allocator caches, a few pooled pages
LOG_TAIL = 200                # server log lines printed on failure


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def fetch(url, timeout=90):      # beyond the routes' 60 s timeout-us
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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


def serve_and_check(cmd, routes, tmp, extra_args, body, hide=None):
    """Serves `routes` (tenant "hostile") with `cmd` + 2 workers + extra_args
    on a fresh loopback port, runs body(proc, port, log_text, check), then
    stops the server: SIGTERM must exit 0 and the log must hold no sanitizer
    report.  On failure prints the server's exit status and the tail of its
    log (without the lines `hide` matches).  Returns the failed checks."""
    cfg = os.path.join(tmp, "serve.json")
    log_path = os.path.join(tmp, "server.log")
    log = open(log_path, "w+")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    proc = None
    state = "not started"
    failures = []
    text = ""

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    def log_text():
        log.flush()
        with open(log_path, errors="replace") as f:
            return f.read()

    try:
        # free_port() only names a port that was free a moment ago, and the
        # server binds it only after compiling every route (seconds under
        # load): another process may take it meanwhile.  Then our server
        # exits with "cannot listen", and the test must not go on talking
        # to whoever holds the port: it waits for its own server's
        # "listening on" line and tries a fresh port (at most 3 times).
        for attempt in range(3):
            port = free_port()
            with open(cfg, "w") as f:
                json.dump([{"name": "hostile", "port": port, "routes": routes}], f)
            log.seek(0)
            log.truncate()
            proc = subprocess.Popen(cmd + ["--workers", "2", "--host", HOST, "--log-level", "info"]
                                    + list(extra_args) + [cfg],
                                    stdout=log, stderr=subprocess.STDOUT, env=env)
            state = wait_listening(proc, port, log_text)
            if state != "port taken":
                break
            print(f"     port {port} was taken before the server could bind it: new port")
        check(state == "listening", f"server listening on its own port {port} ({state})")
        if state == "listening":
            body(proc, port, log_text, check)
    except BaseException as e:     # noqa: B902 — whatever it is, report it with the server's side
        if isinstance(e, KeyboardInterrupt):
            raise
        failures.append(f"exception: {e!r}")
        print("FAIL exception in the test body:\n" + traceback.format_exc(), flush=True)
    finally:
        # A server that died (crash, sanitizer report, abort) must be a
        # failure of its own, with its exit status named: the fetches that
        # then fail only say "connection refused".
        rc = proc.poll() if proc else 0
        if rc is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = None
            check(rc == 0, f"SIGTERM exits 0 (got {describe_status(rc)})")
        elif proc and state == "listening":
            check(False, f"server still running at the end (it exited early: {describe_status(rc)})")
        text = log_text()
        log.close()
        # Sanitizer reports never pass, even when every answer was right.
        check("ERROR: AddressSanitizer" not in text and "runtime error:" not in text
              and "ERROR: LeakSanitizer" not in text,
              "no sanitizer report in the server log")
    if failures:
        lines = [ln for ln in text.splitlines() if not (hide and hide(ln))]
        print(f"server exit status: {describe_status(rc)}")
        print(f"server log ({len(lines)} lines shown; last {min(len(lines), LOG_TAIL)}):")
        print("\n".join(lines[-LOG_TAIL:]))
        print(f"{len(failures)} failure(s)")
    return failures


def describe_status(rc):
    if rc is None:
        return "did not exit within 30 s of SIGTERM, killed"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit code {rc}"


def wait_listening(proc, port, log_text):
    """"listening" once the server logged that it listens on port (and is
    still alive), "port taken" if it exited because it could not bind it,
    else what went wrong."""
    mine = f"listening on {HOST}:{port} "
    end = time.monotonic() + 300
    while True:
        text = log_text()
        if proc.poll() is not None:
            if f"cannot listen on {HOST}:{port}: Address already in use" in text:
                return "port taken"
            return f"exited during start-up: {describe_status(proc.returncode)}"
        if mine in text:
            try:
                socket.create_connection((HOST, port), timeout=5).close()
                return "listening"
            except OSError as e:
                return f"logged that it listens, yet connecting fails: {e!r}"
        if time.monotonic() > end:
            return "not listening within 300 s"
        time.sleep(0.2)


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
