#!/usr/bin/env python3
"""Dagger and CommonWA functions under `wedge serve` (the -nostdlib HTTP
examples built by CMake, examples/dagger/http.c and examples/cwa/*.c), over
loopback sockets:

  - a Dagger function: body on stdin://, response on stdout://, its
    log:// line in the server log with the request id;
  - a CommonWA function: body on io_get_stdin, response on io_get_stdout,
    the CGI environment through env_get, the query values as startup_arg_*,
    log_write lines in the log with the request id;
  - CommonWA file:// resources see the route's "dirs";
  - runtime_msleep past the route's timeout is a 504 on time, and the
    server keeps answering.

Usage: nostdlib_e2e.py EXAMPLES_HTTP_DIR SERVER [serve]
Exit 77 (CTest: skipped) when the examples or wat2wasm are missing.  ~3 s.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from serve_util import HOST, serve_and_check

SLEEP_WAT = """(module
  (import "cwa" "runtime_msleep" (func $sleep (param i32)))
  (func (export "cwa_main") (result i32) (call $sleep (i32.const 20000)) (i32.const 0)))
"""


def fetch(url, data=None, timeout=60):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples = os.path.dirname(os.path.abspath(sys.argv[1]))
    cmd = sys.argv[2:]
    ex = {n: os.path.join(examples, n + ".wasm") for n in ("dagger/http", "cwa/http", "cwa/hello", "cwa/cat")}
    missing = [p for p in ex.values() if not os.path.exists(p)]
    wat2wasm = shutil.which("wat2wasm")
    if missing or not wat2wasm:
        print(f"SKIP: all 9 checks: missing {missing or 'wat2wasm'}")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-nostdlib-e2e-")
    with open(os.path.join(tmp, "sleep.wat"), "w") as f:
        f.write(SLEEP_WAT)
    sleep = os.path.join(tmp, "sleep.wasm")
    subprocess.run([wat2wasm, os.path.join(tmp, "sleep.wat"), "-o", sleep], check=True)
    assets = os.path.join(tmp, "assets")
    os.mkdir(assets)
    with open(os.path.join(assets, "page.html"), "w") as f:
        f.write("<p>from the route's dirs</p>\n")
    slow_ok = {"timeout-us": 60000000}
    routes = [
        {"route": "/dagger", "path": ex["dagger/http"], "relative-deadline-us": 2000000, **slow_ok},
        {"route": "/cwa", "path": ex["cwa/http"], "relative-deadline-us": 2000000, **slow_ok},
        {"route": "/hello", "path": ex["cwa/hello"], "relative-deadline-us": 2000000, **slow_ok},
        {"route": "/cat", "path": ex["cwa/cat"], "relative-deadline-us": 2000000, "dirs": {assets: "/assets"},
         **slow_ok},
        {"route": "/sleep", "path": sleep, "relative-deadline-us": 100000, "timeout-us": 500000},
    ]
    failures = serve_and_check(cmd, routes, tmp, ["--no-admission"], run_checks)
    if failures:
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print("all Dagger/CommonWA serve checks passed")


def run_checks(proc, port, log_text, check):
    url = lambda p: f"http://{HOST}:{port}{p}"
    st, body = fetch(url("/dagger"), data=b"make me loud")
    check(st == 200 and body == b"MAKE ME LOUD", f"Dagger function: body in, response out ({st} {body!r})")
    st, body = fetch(url("/cwa/sub/path"), data=b"abc")
    check(st == 200 and body == b"POST /sub/path: 3 bytes: abc\n",
          f"CommonWA function: body, CGI environment, response ({st} {body!r})")
    st, body = fetch(url("/hello?name=Ada"))
    check(st == 200 and body == b"hello, Ada\n", f"CommonWA startup_arg_at: the query values ({st} {body!r})")
    st, body = fetch(url("/cat?f=file:///assets/page.html"))
    check(st == 200 and body == b"<p>from the route's dirs</p>\n", f"CommonWA file:// sees the route's dirs ({st} {body!r})")
    st, body = fetch(url("/cat?f=file:///etc/passwd"))
    check(st == 500 and b"root" not in body, f"nothing outside them ({st} {body!r})")
    t0 = time.monotonic()
    st, body = fetch(url("/sleep"))
    took = time.monotonic() - t0
    check(st == 504 and took < 5, f"runtime_msleep past the timeout is a 504 on time ({st} after {took:.2f} s)")
    st, body = fetch(url("/dagger"), data=b"still here")
    check(st == 200 and body == b"STILL HERE", f"the server keeps answering ({st} {body!r})")
    text = log_text()
    check(re.search(r"request \d+: route hostile/dagger: log: upper: upper-cased the body", text) is not None,
          "Dagger log:// lines are in the log with the request id")
    check(re.search(r"request \d+: route hostile/cwa: log: info: answered", text) is not None,
          "CommonWA log_write lines are in the log with the request id")


if __name__ == "__main__":
    main()
