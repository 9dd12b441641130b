#!/usr/bin/env python3
"""Dagger functions under `wedge serve`, with outbound HTTP, over loopback.

Usage: dagger_e2e.py EXAMPLES_DIR SERVER [serve]

Builds tests/serve/guests/dagger_fetch.c with clang --target=wasm32
-nostdlib (no WASI) and serves it beside the examples' hello function,
against the upstream of tests/common/dagger_upstream.py (plain HTTP and a
port that never answers):
  /fetch   allow-http: the upstream and the mute port; 1.5 s timeout
  /nolist  no allow-http: every URL refused
  /wide    allow-http "http://127.0.0.1:*": still not the server's own port
Checks: the request body reaches the guest on stdin://, its stdout:// is
the response, log:// and stderr:// lines reach the server log with the
request id; allow-list and own-port refusals; guests waiting on the
network (twice as many as workers) give their workers to other requests:
four fetches of a URL answering after 0.4 s all end together in well under
the 1.6 s they would take one worker at a time, guests fetching a URL that
never answers each get their 504 at their deadline, and meanwhile /hello
keeps answering 200 in much less than that deadline.
Exit 77 (CTest: skipped) when the examples, clang or python3 pieces are
missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from serve_util import HOST, serve_and_check

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
TIMEOUT_US = 1500000
GUESTS = 4                      # twice the 2 workers serve_and_check runs


def post(url, body, timeout=60):
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    clang = shutil.which("clang")
    if not os.path.exists(os.path.join(examples, "hello.wasm")) or not clang:
        print("SKIP: all Dagger serve checks: the examples or clang are missing")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-dagger-e2e-")
    fetch = os.path.join(tmp, "fetch.wasm")
    r = subprocess.run([clang, "--target=wasm32", "-nostdlib", "-O2", "-I" + os.path.join(SRC, "include"),
                        "-Wl,--no-entry", "-Wl,--export=dagger_main",
                        os.path.join(HERE, "guests", "dagger_fetch.c"), "-o", fetch], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"SKIP: all Dagger serve checks: cannot build dagger_fetch.c for wasm32\n{r.stderr}")
        sys.exit(77)
    ports = os.path.join(tmp, "ports")
    up = subprocess.Popen([sys.executable, os.path.join(SRC, "tests", "common", "dagger_upstream.py"), ports])
    try:
        for _ in range(100):
            if os.path.exists(ports):
                break
            time.sleep(0.1)
        http_port, _, mute_port = (int(p) for p in open(ports).read().split())
        routes = [
            {"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 1000000},
            {"route": "/fetch", "path": fetch, "relative-deadline-us": 1000000, "timeout-us": TIMEOUT_US,
             "allow-http": [f"http://{HOST}:{http_port}", f"http://{HOST}:{mute_port}/*"]},
            {"route": "/nolist", "path": fetch, "relative-deadline-us": 1000000, "timeout-us": 10000000},
            {"route": "/wide", "path": fetch, "relative-deadline-us": 1000000, "timeout-us": 10000000,
             "allow-http": [f"http://{HOST}:*"]},
        ]
        failures = serve_and_check(cmd, routes, tmp, ["--no-admission"],
                                   lambda proc, port, log_text, check:
                                   run_checks(port, log_text, check, http_port, mute_port))
    finally:
        up.kill()
        up.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("all Dagger serve checks passed")


def run_checks(port, log_text, check, http_port, mute_port):
    url = lambda p: f"http://{HOST}:{port}{p}"
    get = b"GET /hello HTTP/1.1\r\nHost: up\r\n\r\n"

    st, body = post(url("/fetch"), f"http://{HOST}:{http_port}/hello\n".encode() + get)
    check(st == 200 and body.startswith(b"HTTP/1.1 200 OK\r\n") and body.endswith(b"\r\n\r\nhello over http"),
          f"/fetch: the guest's stdout:// is the response: the upstream's raw answer ({st} {body[:120]!r})")
    st, body = post(url("/fetch"), f"http://{HOST}:{http_port}/echo\n".encode()
                    + b"POST /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd")
    check(st == 200 and body.endswith(b"echo:abcd"), f"/fetch: POST through the guest ({st} {body[-40:]!r})")
    time.sleep(0.3)
    log = log_text()
    check(re.search(r"request \d+: route hostile/fetch: log: fetch: open http://127\.0\.0\.1:%d/hello" % http_port, log)
          is not None, "log:// lines reach the server log with the request id")

    st, body = post(url("/nolist"), f"http://{HOST}:{http_port}/hello\n".encode() + get)
    check(st == 500 and b'"code":1' in body, f"/nolist: exit 1 is a 500 ({st} {body!r})")
    st, body = post(url("/wide"), f"http://{HOST}:{port}/hello\n".encode() + get)
    check(st == 500, f"/wide: its own server's port is refused ({st} {body!r})")
    st, body = post(url("/wide"), f"http://{HOST}:{http_port}/hello\n".encode() + get)
    check(st == 200 and body.endswith(b"hello over http"), f"/wide: other ports are allowed ({st})")
    time.sleep(0.3)
    log = log_text()
    check(re.search(r"request \d+: route hostile/nolist: stderr: ERR open -4", log) is not None,
          "stderr:// lines reach the log with the request id: the refusal was -4 (permission denied)")
    check(re.search(r"request \d+: route hostile/wide: stderr: ERR open -4", log) is not None,
          "/wide: refused at open with -4")

    # Guests waiting on a slow URL, twice as many as workers: they wait at
    # the same time (each gives its worker away while it waits).
    slow = []

    def slow_guest():
        t0 = time.monotonic()
        st, body = post(url("/fetch"), f"http://{HOST}:{http_port}/slow\n".encode()
                        + b"GET /slow HTTP/1.1\r\n\r\n")
        slow.append((st, time.monotonic() - t0, body))

    ts = [threading.Thread(target=slow_guest) for _ in range(GUESTS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    check(len(slow) == GUESTS and all(st == 200 and body.endswith(b"slow ok") for st, _, body in slow),
          f"{GUESTS} guests fetching a 0.4 s URL all get its answer ({[(st, body[-10:]) for st, _, body in slow]})")
    check(all(t < 1.2 for _, t, _ in slow),
          f"... together, not two at a time on 2 workers (took {[round(t, 2) for _, t, _ in slow]} s; "
          f"0.4 s each, in turn: up to 0.8 s and more)")

    # Guests waiting on a URL that never answers, twice as many as workers:
    # each ends at its own deadline, and /hello keeps answering meanwhile.
    healthy = {"n": 0, "bad": [], "slowest": 0.0}
    stop = threading.Event()

    def healthy_client():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(url("/hello"), timeout=30) as r:
                    st, b = r.status, r.read()
            except Exception as e:      # noqa: BLE001 — recorded, checked below
                healthy["bad"].append(repr(e))
                time.sleep(0.05)
                continue
            healthy["slowest"] = max(healthy["slowest"], time.monotonic() - t0)
            healthy["n"] += 1
            if st != 200 or b"Hello" not in b:
                healthy["bad"].append((st, b[:80]))

    mute = []

    def mute_guest():
        t0 = time.monotonic()
        st, body = post(url("/fetch"), f"http://{HOST}:{mute_port}/never\n".encode()
                        + b"GET /never HTTP/1.1\r\n\r\n")
        mute.append((st, time.monotonic() - t0, body))

    hc = threading.Thread(target=healthy_client)
    hc.start()
    time.sleep(0.2)
    ts = [threading.Thread(target=mute_guest) for _ in range(GUESTS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    time.sleep(0.3)
    stop.set()
    hc.join(60)
    limit = TIMEOUT_US / 1e6
    check(len(mute) == GUESTS and all(st == 504 for st, _, _ in mute),
          f"every guest waiting on a silent URL gets 504 ({[(st, round(t, 2)) for st, t, _ in mute]})")
    check(all(t < limit + 2.0 for _, t, _ in mute),
          f"each 504 comes at its deadline ({limit} s from arrival), not later "
          f"({[round(t, 2) for _, t, _ in mute]} s)")
    check(healthy["n"] > 0 and not healthy["bad"],
          f"/hello answered 200 throughout ({healthy['n']} answers, bad: {healthy['bad'][:3]})")
    # Held workers would make /hello wait for a deadline (1.5 s).
    check(healthy["slowest"] < limit / 2,
          f"... without waiting for the waiting guests' workers (slowest {healthy['slowest']:.2f} s, "
          f"limit {limit / 2} s)")
    st, body = post(url("/fetch"), f"http://{HOST}:{http_port}/hello\n".encode() + get)
    check(st == 200 and body.endswith(b"hello over http"), f"/fetch works again afterwards ({st})")


if __name__ == "__main__":
    main()
