#!/usr/bin/env python3
"""Lazy store routes under `wedge serve` (issue 9): "fetch": "lazy" routes
whose memory comes by page fault (userfaultfd) from a real `wedge store`
process, over loopback sockets, and what happens when the store dies,
stalls or loses the connection in the middle of a request.

Usage: lazy_e2e.py EXAMPLES_DIR WEDGE serve

The guest is tests/serve/guests/snap_counter.c (a reactor whose snapshot
holds an 8 MiB table the handler reads whole: 2048 faults at page
granularity), published twice under different content (A and B: the same
module with a different custom section), so each has its own node-cache
entry.  Routes:
  /local   A from local files (must keep answering throughout)
  /lazy    wedge://store/A, lazy, page granularity
  /region  wedge://store/A, lazy, region:64 (started after /lazy, so
           possibly from the node cache already: only its answer is checked)
  /cut     B through a proxy that closes each session after 1 MiB of the
           store's bytes: 502 within bounded time, one log line
  /stall   B through a proxy that stops forwarding after 1 MiB (the store
           timeout, 3 s, ends the fault): 502/504 within bounded time, and
           /local answers meanwhile
  /lazyb   wedge://store/B, lazy: the store SIGSTOPped during the request
           (502/504, /local answers), SIGKILLed (502), started again (200
           with no reload)
  /hostcall a WAT guest whose fd_write (a host call) reads memory the guest
           never touched: the host's copy faults it in (needs wat2wasm)
Then /lazy's snapshot reaches the node cache in the background (one log
line) and /lazy keeps answering with the store dead.
Exit 77 (skipped) without clang for wasm32-wasi or without userfaultfd
(needs root or vm.unprivileged_userfaultfd=1).  About 20 s.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from remote_e2e import PRISTINE, Store, cutting_proxy, fetch, wait_log
from serve_util import HOST, Server, build_snap_counter, checker, free_port, stop_and_check

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTCALL_MSG = b"host call read untouched memory\n"
# A host call on memory the guest never touches: init writes the message at
# 8 MiB; the handler only writes an iovec on page 0 and lets fd_write (the
# host) read the message, so its page is faulted in by the host's copy.
HOSTCALL_WAT = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 160)
  (data $msg "%s")
  (func (export "init") (memory.init $msg (i32.const 0x800000) (i32.const 0) (i32.const %d)) (data.drop $msg))
  (func (export "handle")
    (i32.store (i32.const 0) (i32.const 0x800000))
    (i32.store (i32.const 4) (i32.const %d))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))""" % (
    HOSTCALL_MSG.decode().replace("\n", "\\n"), len(HOSTCALL_MSG), len(HOSTCALL_MSG))
KEY = b"lazy-e2e-pre-shared-key-0123456789\n"
BOUND = 15      # seconds: a failed request must be answered within this (store timeout 3 s, twice, plus slack)


def with_custom_section(src, dst, tag):
    """dst = src plus a custom section: another module, another SHA-256."""
    name = b"wedge-test"
    body = bytes([len(name)]) + name + tag
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(data + bytes([0, len(body)]) + body)


def main():
    if len(sys.argv) < 4 or sys.argv[3] != "serve":
        sys.exit(__doc__)
    wedge = sys.argv[2]
    clang = shutil.which("clang")
    if not clang:
        print("skipped 1 test: clang missing")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-lazy-e2e-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    sdir = os.path.join(tmp, "store")
    os.mkdir(sdir)
    plain = os.path.join(tmp, "counter.wasm")
    build_snap_counter(clang, plain)
    check, failures = checker()

    for name in ("a", "b"):
        wasm = os.path.join(sdir, name + ".wasm")
        with_custom_section(plain, wasm, name.encode())
        r = subprocess.run([wedge, "snapshot", wasm, "-o", os.path.join(sdir, name + ".snap")],
                           capture_output=True, text=True, env=env)
        check(r.returncode == 0, f"wedge snapshot {name} exits 0 ({r.stderr.strip()[:200]})")
    hostcall = shutil.which("wat2wasm") is not None
    if hostcall:
        with open(os.path.join(tmp, "h.wat"), "w") as f:
            f.write(HOSTCALL_WAT)
        r = subprocess.run(["wat2wasm", os.path.join(tmp, "h.wat"), "-o", os.path.join(sdir, "h.wasm")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"wat2wasm of the host-call guest ({r.stderr.strip()[:200]})")
        r = subprocess.run([wedge, "snapshot", "--init", "init", os.path.join(sdir, "h.wasm"), "-o",
                            os.path.join(sdir, "h.snap")], capture_output=True, text=True, env=env)
        check(r.returncode == 0, f"wedge snapshot h exits 0 ({r.stderr.strip()[:200]})")
    else:
        print("skipped 1 check: wat2wasm missing (host call on untouched lazy memory)")
    keyfile = os.path.join(tmp, "key")
    with open(keyfile, "wb") as f:
        f.write(KEY)
    sport = free_port()
    store = Store(wedge, sdir, keyfile, sport, os.path.join(tmp, "store.log"), env)
    cutter = cutting_proxy(sport, 1 << 20)
    staller = cutting_proxy(sport, 1 << 20, hold=True)
    base = {"relative-deadline-us": 2000000, "timeout-us": 20000000, "entry": "handle"}
    lazy = {"fetch": "lazy", **base}
    routes = [
        {"route": "/local", "path": os.path.join(sdir, "a.wasm"), "snapshot": os.path.join(sdir, "a.snap"), **base},
        {"route": "/lazy", "path": f"wedge://{HOST}:{sport}/a", **lazy},
        {"route": "/region", "path": f"wedge://{HOST}:{sport}/a", "granularity": "region:64", **lazy},
        {"route": "/cut", "path": f"wedge://{HOST}:{cutter.getsockname()[1]}/b", **lazy},
        {"route": "/stall", "path": f"wedge://{HOST}:{staller.getsockname()[1]}/b", **lazy},
        {"route": "/lazyb", "path": f"wedge://{HOST}:{sport}/b", **lazy},
    ] + ([{"route": "/hostcall", "path": f"wedge://{HOST}:{sport}/h", **lazy}] if hostcall else [])
    srv = Server([wedge, "serve", "--workers", "2", "--log-level", "info", "--no-admission",
                  "--store-key-file", keyfile],
                 lambda port: [{"name": "lz", "port": port, "routes": routes}], tmp, env)
    check(srv.state == "listening", f"server listening ({srv.state})")
    try:
        if srv.state == "listening":
            if "userfaultfd" in srv.log_text() and "fetching eagerly" in srv.log_text():
                line = [ln for ln in srv.log_text().splitlines() if "userfaultfd" in ln][0]
                print(f"skipped 1 test: userfaultfd not available here ({line})")
                srv.stop()
                shutil.rmtree(tmp, ignore_errors=True)
                sys.exit(77)
            store = body(srv, check, wedge, sdir, keyfile, sport, tmp, env, store, hostcall)
    finally:
        if store:
            store.kill()
        cutter.close()
        staller.close()
        _, text = stop_and_check(srv, check)
        if failures:
            print("server log (last 60 lines):\n" + "\n".join(text.splitlines()[-60:]))
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all lazy route checks passed")


def lazy_lines(text, route):
    return [ln for ln in text.splitlines() if f"route lz/{route}: lazy:" in ln]


def body(srv, check, wedge, sdir, keyfile, sport, tmp, env, store, hostcall):
    url = lambda p: f"http://{HOST}:{srv.port}{p}"
    log = srv.log_text()
    loaded = [ln for ln in log.splitlines() if "answers 503" in ln]
    check(not loaded, f"every lazy route loads ({loaded!r:.300})")

    # 1. Lazy requests: the small state restored, the table faulted in.
    at = len(srv.log_text())
    results = [None] * 3

    def one(i):
        results[i] = fetch(url("/lazy"))[:2]
    ts = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(all(r == (200, PRISTINE) for r in results), f"/lazy: 3 concurrent first requests answer from the "
          f"store's snapshot ({results!r:.200})")
    lines = lazy_lines(srv.log_text()[at:], "lazy")
    m = re.search(r"lazy: (\d+) faults", lines[0]) if lines else None
    check(m is not None and int(m.group(1)) > 0, f"/lazy: a request's memory came by page faults ({lines[:1]!r:.300})")
    st, b, _ = fetch(url("/region"))
    check((st, b) == (200, PRISTINE), f"/region (region:64): answers from the store's snapshot ({st} {b[:60]!r})")
    if hostcall:
        at = len(srv.log_text())
        st, b, _ = fetch(url("/hostcall"))
        lines = lazy_lines(srv.log_text()[at:], "hostcall")
        check((st, b) == (200, HOSTCALL_MSG) and lines and " 0 faults" not in lines[0],
              f"/hostcall: a host call reads memory the guest never touched, faulted in from the store "
              f"({st} {b[:60]!r} {lines[:1]!r:.200})")

    # 2. The store lost mid-transfer: 502 in bounded time, one line.
    at = len(srv.log_text())
    st, b, dt = fetch(url("/cut"))
    check(st == 502 and dt < BOUND, f"/cut (connection lost after 1 MiB): 502 within {BOUND} s ({st} {b[:60]!r} "
          f"in {dt:.1f} s)")
    fails = [ln for ln in srv.log_text()[at:].splitlines() if "lz/cut" in ln and "(answers 502)" in ln]
    check(len(fails) == 1, f"/cut: one log line ({fails!r:.300})")

    # 3. A store that stops sending: the fault ends at the store timeout;
    # the node keeps serving its other routes meanwhile.
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", fetch(url("/stall"))))
    t.start()
    time.sleep(0.3)
    st, b, dt = fetch(url("/local"))
    check((st, b) == (200, PRISTINE) and dt < 5, f"/local answers while /stall waits on its store ({st} in "
          f"{dt:.1f} s)")
    t.join(60)
    st, b, dt = out.get("r", (0, b"", 99))
    check(st in (502, 504) and dt < BOUND, f"/stall (store stops sending after 1 MiB): 502/504 within {BOUND} s "
          f"({st} {b[:60]!r} in {dt:.1f} s)")

    # 4. The real store stopped (SIGSTOP), then killed (SIGKILL), then
    # started again: /lazyb (never fetched whole) fails in bounded time
    # each way and works again with no reload.
    store.p.send_signal(signal.SIGSTOP)
    try:
        st, b, dt = fetch(url("/lazyb"))
        st2, b2, dt2 = fetch(url("/local"))
    finally:
        store.p.send_signal(signal.SIGCONT)
    check(st in (502, 504) and dt < BOUND, f"/lazyb with the store SIGSTOPped: 502/504 within {BOUND} s ({st} in "
          f"{dt:.1f} s)")
    check(st2 == 200, f"/local with the store SIGSTOPped: 200 ({st2})")
    store.kill()
    st, b, dt = fetch(url("/lazyb"))
    check(st == 502 and dt < BOUND, f"/lazyb with the store SIGKILLed: 502 within {BOUND} s ({st} in {dt:.1f} s)")
    store = Store(wedge, sdir, keyfile, sport, os.path.join(tmp, "store.log"), env)
    st, b, _ = fetch(url("/lazyb"))
    check((st, b) == (200, PRISTINE), f"/lazyb with the store restarted: 200 without a reload ({st} {b[:60]!r})")

    # 5. /lazy's snapshot reaches the node cache (background fill), so it
    # keeps answering with the store dead; /cut's (never cached) 502.
    m = wait_log(srv, r"route lz/lazy: the whole snapshot is now in the node cache", 0)
    check(m is not None, "/lazy: the whole snapshot reached the node cache (one log line)")
    at = len(srv.log_text())
    st, b, _ = fetch(url("/lazy"))
    check((st, b) == (200, PRISTINE) and not lazy_lines(srv.log_text()[at:], "lazy"),
          f"/lazy from the node cache: 200 with no fault handler ({st})")
    store.kill()
    store = None
    answers = [fetch(url("/lazy"))[:2] for _ in range(3)]
    check(all(a == (200, PRISTINE) for a in answers), f"/lazy with the store dead: served from the node ({answers[0]!r})")
    st, b, dt = fetch(url("/cut"))
    check(st == 502 and dt < BOUND, f"/cut with the store dead: 502 within {BOUND} s ({st} in {dt:.1f} s)")

    # /lazyb's background fill (started by its last 200) has ended either way.
    m = wait_log(srv, r"route lz/lazyb: (the whole snapshot is now in the node cache|filling the node cache failed)", 0)
    check(m is not None, f"/lazyb: its background fill ended ({m.group(0) if m else 'no log line'})")
    leftovers = [f for f in os.listdir(os.path.join(env["WEDGE_CACHE_DIR"], "store")) if ".tmp" in f]
    check(not leftovers, f"nothing half-fetched left in the node cache ({leftovers})")
    return None


if __name__ == "__main__":
    main()
