#!/usr/bin/env python3
"""Store routes of `wedge serve` (issue 9): a route whose path is
wedge://HOST:PORT/NAME, fetched from a real `wedge store` process when the
route loads, over loopback sockets.

Usage: remote_e2e.py EXAMPLES_DIR WEDGE serve

The guest is tests/serve/guests/snap_counter.c (a reactor whose snapshot
holds an 8 MiB table), published as DIR/counter.wasm + DIR/counter.snap.
One server, the key from --store-key-file, routes:
  /local   the same module and snapshot from local files (must keep answering)
  /remote  wedge://127.0.0.1:P/counter, "fetch": "eager"
  /stall   a store that accepts and never answers: 503 within bounded time
  /cut     through a proxy that cuts each session after 1 MiB of the store's
           bytes (the snapshot is ~8 MiB): 503, nothing half-fetched kept
Sequence: the store down at start -> /remote 503 with one log line, /local
200; the store started -> /remote 200 by itself, no SIGHUP (requests kick a
background fetch with back-off, srv_refetch.h), /local 200 throughout, and
so do a lazy route (/rlazy: small state, faults, then the background fill)
and a module route (/rmod) down since the load;
SIGHUP -> /remote 200 from the snapshot (cached on the node); the store killed -> /remote keeps answering, and a reload starts
it from the node's cached copy with one log line (/stall, never fetched,
stays 503 and does not hold the reload back); the store back, SIGHUP -> 200.
Lazy routes: lazy_e2e.py.  Exit 77 (skipped) without clang for wasm32-wasi.  About 20 s.
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from serve_util import HOST, Server, build_snap_counter, checker, free_port, stop_and_check

HERE = os.path.dirname(os.path.abspath(__file__))
PRISTINE = b"requests=1 table=pristine bad=0\n"
KEY = b"remote-e2e-pre-shared-key-0123456789\n"


def fetch(url, timeout=30):
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read(), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read(), time.monotonic() - t0


class Store:
    """`wedge store` on a fixed port, so it can come back where it was."""

    def __init__(self, wedge, d, keyfile, port, log, env):
        self.log = open(log, "a+")
        self.p = subprocess.Popen([wedge, "store", "--listen", f"{HOST}:{port}", "--key-file", keyfile, d],
                                  stderr=self.log, env=env)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("store did not start")

    def kill(self):
        self.p.kill()
        self.p.wait(10)
        self.log.close()


def silent_store():
    """Accepts connections and never says a word."""
    ls = socket.socket()
    ls.bind((HOST, 0))
    ls.listen(16)
    held = []

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            held.append(c)
    threading.Thread(target=loop, daemon=True).start()
    return ls


def cutting_proxy(port, cut, hold=False):
    """Forwards connections to the store at `port` until the store has sent
    `cut` bytes through one; then closes both sides (a store lost
    mid-transfer) or, with hold, keeps both open and forwards nothing more
    (a store that stalls)."""
    ls = socket.socket()
    ls.bind((HOST, 0))
    ls.listen(16)
    held = []

    def pump(a, b, limit):
        sent = 0
        try:
            while limit is None or sent < limit:
                d = a.recv(65536 if limit is None else min(65536, limit - sent))
                if not d:
                    break
                b.sendall(d)
                sent += len(d)
        except OSError:
            pass
        if hold and limit is not None and sent >= limit:
            held.extend((a, b))
            return
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection((HOST, port), timeout=5)
            except OSError:
                c.close()
                continue
            threading.Thread(target=pump, args=(c, u, None), daemon=True).start()
            threading.Thread(target=pump, args=(u, c, cut), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls


def wait_log(srv, pattern, start, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, srv.log_text()[start:])
        if m:
            return m
        time.sleep(0.05)
    return None


def main():
    if len(sys.argv) < 4 or sys.argv[3] != "serve":
        sys.exit(__doc__)
    wedge = sys.argv[2]
    clang = shutil.which("clang")
    if not clang:
        print("skipped 1 test: clang missing")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-remote-e2e-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    sdir = os.path.join(tmp, "store")
    os.mkdir(sdir)
    wasm = os.path.join(sdir, "counter.wasm")
    snap = os.path.join(sdir, "counter.snap")
    build_snap_counter(clang, wasm)
    check, failures = checker()

    r = subprocess.run([wedge, "snapshot", wasm, "-o", snap], capture_output=True, text=True, env=env)
    check(r.returncode == 0, f"wedge snapshot exits 0 ({r.stderr.strip()[:200]})")
    keyfile = os.path.join(tmp, "key")
    with open(keyfile, "wb") as f:
        f.write(KEY)
    sport = free_port()
    silent = silent_store()
    cutter = cutting_proxy(sport, 1 << 20)
    base = {"relative-deadline-us": 2000000, "timeout-us": 20000000, "entry": "handle"}
    routes = [
        {"route": "/local", "path": wasm, "snapshot": snap, **base},
        # Before /remote: its fetch is the first of the snapshot, cut off.
        {"route": "/cut", "path": f"wedge://{HOST}:{cutter.getsockname()[1]}/counter", **base},
        {"route": "/remote", "path": f"wedge://{HOST}:{sport}/counter", "fetch": "eager", **base},
        {"route": "/stall", "path": f"wedge://{HOST}:{silent.getsockname()[1]}/counter", **base},
        # Lazy and module routes come back without SIGHUP too (step 2).
        {"route": "/rlazy", "path": f"wedge://{HOST}:{sport}/counter", "fetch": "lazy", **base},
        {"route": "/rmod", "path": f"wedge://{HOST}:{sport}/counter", "granularity": "module", **base},
    ]
    t0 = time.monotonic()
    srv = Server([wedge, "serve", "--workers", "2", "--log-level", "info", "--no-admission",
                  "--store-key-file", keyfile],
                 lambda port: [{"name": "rem", "port": port, "routes": routes}], tmp, env)
    started = time.monotonic() - t0
    check(srv.state == "listening", f"server listening ({srv.state}) after {started:.1f} s")
    store = None
    try:
        if srv.state == "listening":
            store = body(srv, check, wedge, sdir, keyfile, sport, tmp, env, started)
    finally:
        if store:
            store.kill()
        silent.close()
        cutter.close()
        _, text = stop_and_check(srv, check)
        if failures:
            print("server log (last 60 lines):\n" + "\n".join(text.splitlines()[-60:]))
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all store route checks passed")


def body(srv, check, wedge, sdir, keyfile, sport, tmp, env, started):
    url = lambda p: f"http://{HOST}:{srv.port}{p}"
    log = srv.log_text()
    # 1. The store down when the routes load.
    down = [ln for ln in log.splitlines() if "/remote" in ln and "answers 503" in ln]
    check(len(down) == 1 and "127.0.0.1" in down[0], f"store down at load: one log line ({down!r:.300})")
    st, b, dt = fetch(url("/remote"))
    check(st == 503 and dt < 2, f"/remote with the store down: 503 at once ({st} in {dt:.2f} s)")
    st, b, _ = fetch(url("/local"))
    check((st, b) == (200, PRISTINE), f"/local keeps answering ({st} {b[:60]!r})")
    stall = [ln for ln in log.splitlines() if "/stall" in ln and "answers 503" in ln]
    check(len(stall) == 1, f"a store that never answers: one log line ({stall!r:.300})")
    check(started < 15, f"a silent store holds the route's load for a bounded time (listening after {started:.1f} s)")
    st, b, _ = fetch(url("/stall"))
    check(st == 503, f"/stall: 503 ({st})")

    # 2. The store comes up: /remote (and /rlazy, /rmod) come back by themselves (requests kick a
    # background fetch, no SIGHUP), answering 503 at once meanwhile, and
    # /local keeps answering throughout.
    store = Store(wedge, sdir, keyfile, sport, os.path.join(tmp, "store.log"), env)
    # The lazy and the module route, down since the load, come back the
    # same way (first, so /rlazy is lazy: the snapshot not yet cached).
    for r in ("/rlazy", "/rmod"):
        t0, st, b = time.monotonic(), None, b""
        while time.monotonic() - t0 < 30:
            st, b, dt = fetch(url(r))
            if st == 200 or (st != 503 or dt > 2):
                break
            time.sleep(0.1)
        # (A module route runs init per node: its answer is not the snapshot's.)
        ok = b == PRISTINE if r == "/rlazy" else b.startswith(b"requests=1 ")
        check(st == 200 and ok, f"{r} back without SIGHUP once the store is up ({st} {b[:60]!r} "
              f"after {time.monotonic() - t0:.1f} s)")
    check(any("rem/rlazy: lazy:" in ln for ln in srv.log_text().splitlines()),
          "/rlazy came back lazy (a fault handler ran)")
    # /rlazy's background fill puts the snapshot in the node cache: let it
    # finish before the SIGHUP step removes that file.
    m = wait_log(srv, r"route rem/rlazy: (the whole snapshot is now in the node cache|filling the node cache failed)",
                 0)
    check(m is not None, f"/rlazy: its background fill ended ({m.group(0) if m else 'no log line'})")
    at = len(srv.log_text())
    t0, polls, slow, local_bad, st = time.monotonic(), 0, [], [], None
    while time.monotonic() - t0 < 60:
        st, b, dt = fetch(url("/remote"))
        polls += 1
        if st == 200:
            break
        if st != 503 or dt > 2:
            slow.append((st, round(dt, 2)))
        lst, lb, _ = fetch(url("/local"))
        if (lst, lb) != (200, PRISTINE):
            local_bad.append(lst)
        time.sleep(0.1)
    took = time.monotonic() - t0
    check(st == 200 and b == PRISTINE, f"/remote back without SIGHUP once the store is up ({st} {b[:60]!r} "
          f"after {took:.1f} s, {polls} requests)")
    check(not slow, f"/remote while it comes back: 503 at once, never a waiting worker ({slow[:5]})")
    check(not local_bad, f"/local answered throughout ({local_bad[:5]})")
    back = [ln for ln in srv.log_text()[at:].splitlines() if "rem/remote" in ln and "the store is back" in ln]
    check(len(back) == 1, f"/remote: one line saying it is back ({back!r:.300})")
    print(f"/remote came back {took:.2f} s after the store started ({polls} requests)")
    # ... and SIGHUP loads the other routes from it.  /remote just put the
    # snapshot in the node cache; removed, /cut must fetch it through its
    # cutting proxy (the loaded /remote keeps its own copy, and refetches).
    snap_sha = hashlib.sha256(open(os.path.join(sdir, "counter.snap"), "rb").read()).hexdigest()
    os.unlink(os.path.join(env["WEDGE_CACHE_DIR"], "store", snap_sha + ".snap"))
    at = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    m = wait_log(srv, r"reload(ed| refused)[^\n]*", at)
    check(m is not None and m.group(0).startswith("reloaded"),
          f"SIGHUP with the store back: reloaded ({m.group(0) if m else 'no log line'})")
    answers = [fetch(url("/remote"))[:2] for _ in range(6)]
    check(all(a == (200, PRISTINE) for a in answers), f"/remote: every request starts from the store's snapshot "
          f"({answers[0]!r})")
    cut = [ln for ln in srv.log_text()[at:].splitlines() if "rem/cut" in ln]
    check(len(cut) == 1 and "answers 503" in cut[0],
          f"the store lost mid-transfer: one log line, 503 ({cut!r:.300})")
    st, b, dt = fetch(url("/cut"))
    check(st == 503 and dt < 2, f"/cut: 503 at once ({st} in {dt:.2f} s)")
    leftovers = [f for f in os.listdir(os.path.join(env["WEDGE_CACHE_DIR"], "store")) if ".tmp" in f]
    check(not leftovers, f"nothing half-fetched left in the node cache ({leftovers})")
    cached = os.path.join(env["WEDGE_CACHE_DIR"], "store", snap_sha + ".snap")
    check(os.path.exists(cached), "the fetched snapshot is in the node cache, by its SHA-256")
    st, b, _ = fetch(url("/stall"))
    check(st == 503, f"/stall still 503 after the reload ({st})")

    # 3. The store dies: the route keeps answering from the node (local
    # copy-on-write restores, no network); a reload now starts it from the
    # node's cached copy, with one line saying so.
    store.kill()
    answers = [fetch(url("/remote"))[:2] for _ in range(4)]
    check(all(a == (200, PRISTINE) for a in answers), f"/remote with the store dead: served from the node "
          f"({answers[0]!r})")
    at = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    m = wait_log(srv, r"reload(ed| refused)[^\n]*", at)
    check(m is not None and m.group(0).startswith("reloaded"),
          f"SIGHUP with the store dead: reloaded ({m.group(0)[:200] if m else 'no log line'})")
    cached_lines = [ln for ln in srv.log_text()[at:].splitlines()
                    if "rem/remote" in ln and "connection refused; starting from this node's cached copy" in ln]
    check(len(cached_lines) == 1, f"/remote: one line saying it starts from the node's copy ({cached_lines!r:.300})")
    for p in ("/remote", "/local"):
        st, b, _ = fetch(url(p))
        check((st, b) == (200, PRISTINE), f"{p}: still answering after the reload ({st} {b[:60]!r})")
    st, b, _ = fetch(url("/stall"))
    check(st == 503, f"/stall (never fetched): still 503 ({st})")

    # 4. The store back: reloads work again.
    store = Store(wedge, sdir, keyfile, sport, os.path.join(tmp, "store.log"), env)
    at = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    m = wait_log(srv, r"reload(ed| refused)[^\n]*", at)
    check(m is not None and m.group(0).startswith("reloaded"),
          f"SIGHUP with the store back again: reloaded ({m.group(0)[:200] if m else 'no log line'})")
    st, b, _ = fetch(url("/remote"))
    check((st, b) == (200, PRISTINE), f"/remote after recovery ({st} {b[:60]!r})")
    return store


if __name__ == "__main__":
    main()
