#!/usr/bin/env python3
"""The C compiler children of `wedge serve` run under resource limits.

Usage: cc_limits_e2e.py EXAMPLES_DIR SERVER [serve]

A route's module that makes cc run too long or take too much memory
fails to load with a clear log line (its route answers 503) while the
other routes serve, at start-up and at a SIGHUP reload (refused, the
previous configuration keeps serving).  The limits are set low by this
test through WEDGE_CC_CPU_SECONDS / WEDGE_CC_MEMORY_MB so each case costs
about a second of CPU.  The module is generated here: one function of a
few thousand load/add/store steps (gcc at -O2 takes ~10 s CPU and
~200 MB on it; far above either limit).
Exit 77 (CTest: skipped) when the examples were not built.
"""
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time

from serve_util import Server, http_get as get

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "guests", "modules"))
from huge_function_body import leb, section  # noqa: E402  (the Wasm encoding helpers)


def vec(items):
    return leb(len(items)) + b"".join(items)


def heavy_module(steps):
    """_start: `steps` times mem[x] = mem[y] + l_c; l_b = l_c * mem[z]
    (64-bit, random offsets and locals): cheap to write, expensive for cc."""
    r = random.Random(1)
    body = bytearray()
    for _ in range(steps):
        b, c = 1 + r.randrange(16), 1 + r.randrange(16)
        off = [leb(r.randrange(4096) * 8) for _ in range(3)]
        body += b"\x20\x00\x20\x00\x29\x03" + off[0] + b"\x20" + leb(c) + b"\x7c\x37\x03" + off[1]
        body += b"\x20" + leb(c) + b"\x20\x00\x29\x03" + off[2] + b"\x7e\x21" + leb(b)
    fn = vec([b"\x01\x7f", b"\x10\x7e"]) + body + b"\x0b"
    return (b"\x00asm\x01\x00\x00\x00"
            + section(1, vec([b"\x60\x00\x00"]))
            + section(3, vec([leb(0)]))
            + section(5, vec([b"\x00\x01"]))
            + section(7, vec([b"\x06_start\x00\x00", b"\x06memory\x02\x00"]))
            + section(10, vec([leb(len(fn)) + fn])))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    hello = os.path.join(examples, "hello.wasm")
    if not os.path.exists(hello):
        print("examples not built: skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-cc-limits-e2e-")
    heavy = os.path.join(tmp, "heavy.wasm")
    with open(heavy, "wb") as f:
        f.write(heavy_module(2000))
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    def routes(with_heavy):
        r = [{"route": "/hello", "path": hello, "relative-deadline-us": 2000000}]
        if with_heavy:
            r.append({"route": "/heavy", "path": heavy, "relative-deadline-us": 2000000})
        return r

    def run(name, limits, needle):
        """A server whose cc limits are `limits`: the heavy route fails to
        load with `needle` in its log line, /hello serves; then a reload
        adding the heavy route is refused with the same reason."""
        cache = os.path.join(tmp, "cache-" + name)   # nothing cached: every route compiles under the limits
        env = dict(os.environ, WEDGE_CACHE_DIR=cache, **limits)
        t0 = time.monotonic()
        srv = Server(cmd + ["--workers", "1", "--log-level", "info"],
                     lambda p: [{"name": "t", "port": p, "routes": routes(True)}], tmp, env, name=name)
        try:
            check(srv.state == "listening", f"{name}: the server starts beside a module cc cannot compile "
                  f"({srv.state})")
            if srv.state != "listening":
                print(srv.log_text())
                return
            log = srv.log_text()
            line = next((ln for ln in log.splitlines() if "route t/heavy" in ln), "")
            check(needle in line and "heavy.wasm" in line and "(answers 503)" in line,
                  f"{name}: the heavy route's log line names the limit: {line!r}")
            check(get(srv.port, "/heavy")[0] == 503, f"{name}: /heavy answers 503")
            st, body = get(srv.port, "/hello")
            check(st == 200 and b"Hello" in body, f"{name}: /hello serves ({st})")
            print(f"     start-up with the failed compile took {time.monotonic() - t0:.1f} s")

            # Reload: first without the heavy route, then adding it again.
            for with_heavy, expect in ((False, "reloaded"), (True, "reload refused")):
                n = srv.log_text().count(expect)
                with open(srv.cfg + ".tmp", "w") as f:
                    json.dump([{"name": "t", "port": srv.port, "routes": routes(with_heavy)}], f)
                os.replace(srv.cfg + ".tmp", srv.cfg)
                srv.proc.send_signal(signal.SIGHUP)
                end = time.monotonic() + 120
                while srv.log_text().count(expect) <= n and time.monotonic() < end:
                    time.sleep(0.1)
                text = srv.log_text()
                check(text.count(expect) > n, f"{name}: reload {'adding' if with_heavy else 'without'} "
                      f"the heavy route: '{expect}' logged")
            refused = [ln for ln in srv.log_text().splitlines() if "reload refused" in ln]
            check(bool(refused) and needle in refused[-1], f"{name}: the refusal names the limit: "
                  f"{refused[-1] if refused else ''!r}")
            check(get(srv.port, "/heavy")[0] == 404, f"{name}: after the refused reload /heavy stays removed")
            st, body = get(srv.port, "/hello")
            check(st == 200 and b"Hello" in body, f"{name}: /hello still serves after the refused reload")
        finally:
            rc = srv.stop()
            check(rc == 0, f"{name}: SIGTERM exits 0 ({rc})")

    try:
        run("cpu", {"WEDGE_CC_CPU_SECONDS": "1"}, "C compiler stopped at its CPU-time limit of 1 s")
        run("memory", {"WEDGE_CC_MEMORY_MB": "90"},
            "C compiler ran out of memory under its address-space limit of 90 MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all cc limit checks passed")


if __name__ == "__main__":
    main()
