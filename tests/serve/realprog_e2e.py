#!/usr/bin/env python3
"""What real programs found under `wedge serve` (issue 10 item 6), over
loopback sockets, with tests/serve/guests/realprog.c built by clang:

  - stdio is not a terminal: isatty() is false for fds 0-2, and stdin is
    the request body;
  - a route's "dirs" pre-open directories, read-only by default (writing
    fails, nothing is created), ":rw" to allow writes, jailed like
    `wedge run --dir` ("../" out of it fails);
  - a guest exiting non-zero gets a 500 and the first part of its stdout
    is in the log with the request id;
  - bad "dirs" values are configuration errors naming the key.

Usage: realprog_e2e.py EXAMPLES_DIR SERVER [serve]
Exit 77 (CTest: skipped) when clang cannot build the guest.  ~3 s.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from serve_util import HOST, serve_and_check

HERE = os.path.dirname(os.path.abspath(__file__))


def fetch(url, data=None, timeout=60):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[2:]
    clang = shutil.which("clang")
    tmp = tempfile.mkdtemp(prefix="wedge-realprog-e2e-")
    guest = os.path.join(tmp, "realprog.wasm")
    r = subprocess.run([clang or "clang", "--target=wasm32-wasi", "-O2", os.path.join(HERE, "guests", "realprog.c"),
                        "-o", guest], capture_output=True, text=True) if clang else None
    if not r or r.returncode != 0:
        print("SKIP: all 12 checks: cannot build realprog.c for wasm32-wasi: " + (r.stderr if r else "no clang"))
        sys.exit(77)
    assets, data, outside = (os.path.join(tmp, d) for d in ("assets", "data", "outside"))
    for d in (assets, data, outside):
        os.mkdir(d)
    with open(os.path.join(assets, "page.html"), "w") as f:
        f.write("<p>template</p>\n")
    with open(os.path.join(outside, "secret"), "w") as f:
        f.write("top secret\n")
    slow_ok = {"timeout-us": 60000000}
    routes = [
        {"route": "/p", "path": guest, "relative-deadline-us": 2000000, **slow_ok},
        # Relative host paths are taken from the configuration's directory.
        {"route": "/ro", "path": guest, "relative-deadline-us": 2000000, "dirs": {"assets": "/assets"}, **slow_ok},
        {"route": "/rw", "path": guest, "relative-deadline-us": 2000000,
         "dirs": {data: "/data:rw", assets: "/assets:ro"}, **slow_ok},
    ]
    failures = serve_and_check(cmd, routes, tmp, ["--no-admission"], run_checks)
    failures += bad_configs(cmd, tmp, guest)
    if failures:
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print("all realprog checks passed")


def run_checks(proc, port, log_text, check):
    tmp = os.path.dirname(os.path.abspath(log_path_of(proc)))
    url = lambda p: f"http://{HOST}:{port}{p}"

    st, body = fetch(url("/p?c=tty"), data=b"hello")
    check(st == 200 and body == b"tty 0 0 0 stdin 5\n", f"stdio is not a terminal, stdin is the body ({st} {body!r})")

    st, body = fetch(url("/ro?c=cat&p=/assets/page.html"))
    check(st == 200 and body == b"<p>template</p>\n", f"a route reads its own assets ({st} {body!r})")
    st, body = fetch(url("/ro?c=write&p=/assets/new.txt"))
    check(st == 200 and body.startswith(b"cannot write /assets/new.txt:")
          and not os.path.exists(os.path.join(tmp, "assets", "new.txt")),
          f"\"dirs\" are read-only by default ({st} {body!r})")
    st, body = fetch(url("/ro?c=cat&p=/assets/../outside/secret"))
    check(st == 500 and b"secret" not in body, f"the jail holds: .. out of a dir fails ({st} {body!r})")
    st, body = fetch(url("/ro?c=cat&p=/etc/passwd"))
    check(st == 500 and b"root" not in body, f"nothing outside the dirs ({st} {body!r})")

    st, body = fetch(url("/rw?c=write&p=/data/new.txt"))
    try:
        with open(os.path.join(tmp, "data", "new.txt")) as f:
            written = f.read()
    except OSError:
        written = None
    check(st == 200 and body == b"wrote\n" and written == "written\n", f"\":rw\" allows writes ({st} {body!r})")
    st, body = fetch(url("/rw?c=write&p=/assets/x.txt"))
    check(st == 200 and body.startswith(b"cannot write"), f"\":ro\" is read-only ({st} {body!r})")

    st, body = fetch(url("/p?c=fail"))
    check(st == 500 and b'"code":3' in body and b"database" not in body,
          f"a non-zero exit is a 500 without the guest's stdout ({st} {body!r})")
    text = log_text()
    m = re.search(r"request (\d+): route hostile/p: exit code 3", text)
    check(m is not None, "the exit code is logged with the request id")
    rid = m.group(1) if m else "?"
    check(f"request {rid}: route hostile/p: stdout (37 bytes): cannot go on: the\\tdatabase is locked\\n" in text,
          "the first part of its stdout is logged, escaped, with the request id")
    check(f"request {rid}: route hostile/p: stderr: fail: giving up" in text, "its stderr is logged too")


def log_path_of(proc):
    # serve_and_check writes the server's log into the test's temporary
    # directory; find it from the process's stdout descriptor.
    return os.readlink(f"/proc/{proc.pid}/fd/1")


def bad_configs(cmd, tmp, guest):
    """Bad "dirs" values: the server refuses the configuration, naming the key."""
    failures = []
    cases = [
        ({"nope": "/x"}, r'routes\[0\]\.dirs\.nope": .*No such file'),
        ({guest: "/x"}, r'dirs\..*: not a directory'),
        ({tmp: "relative"}, r"must start with '/'"),
        ({tmp: 5}, r"must be a string"),
        (["/tmp"], r"must be an object"),
    ]
    for dirs, want in cases:
        cfg = os.path.join(tmp, "bad.json")
        with open(cfg, "w") as f:
            json.dump([{"name": "t", "port": 1, "routes": [{"route": "/", "path": guest,
                                                            "relative-deadline-us": 1000, "dirs": dirs}]}], f)
        r = subprocess.run(cmd + [cfg], capture_output=True, text=True, timeout=60)
        ok = r.returncode != 0 and re.search(want, r.stderr + r.stdout)
        print(("ok   " if ok else "FAIL ") + f"bad dirs {json.dumps(dirs)} refused: /{want}/", flush=True)
        if not ok:
            print(f"  exit {r.returncode}: {(r.stderr + r.stdout)[:300]}")
            failures.append(f"bad dirs {dirs}")
    return failures


if __name__ == "__main__":
    main()
