#!/usr/bin/env python3
"""Remote instantiation through `wedge serve` on loopback (issue 9): a 64 MiB
guest whose init writes every 4 KiB page; each request reads one word in
each of 819 pages spread over the memory (~5%, sparse).  A `wedge store`
process serves it; a `wedge serve` process runs one route per mode:

  local snapshot       "path" + "snapshot" from local files
  eager                wedge://..., "fetch": "eager" (whole snapshot at load)
  lazy page / region:64 / instance
                       "fetch": "lazy" with that granularity, no working set
  lazy page + wset     the same with the working set a previous server
                       recorded at the store
  module               "granularity": "module" (the .wasm only; init at load)

For each mode, RUNS times: the node cache emptied (the compile cache kept),
the server started, then requests: the first (client-measured, new
connection, through wedge serve), the second, and — once a lazy route's
node cache is filled in the background — ten more (the warm median, local
copy-on-write restores).  Server side, from its log (--log-level debug):
instantiate time of the first request (restore + fault registration +
working-set prefetch), its faults, bytes fetched (by faults + prefetched),
store requests (round trips after the connection).  Route load time is from
process start to "listening" (includes the compile-cache hit; eager pays the
64 MiB fetch there).  Loopback TCP bandwidth is measured in the same run.
Medians.  Prints a Markdown table and writes the "## Remote instantiation
through wedge serve" section of docs/benchmarks.md (--no-write: print only).
Asserts nothing.

Usage: run_serve_fetch.py [--build-dir BUILD] [--runs N] [--no-write]
"""
import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "serve"))
from serve_util import HOST, Server  # noqa: E402

SECTION = "## Remote instantiation through wedge serve"
PAGES = 1024        # 64 KiB wasm pages: 64 MiB
TOUCH = 819         # 4 KiB pages read per request (5% of 16384)
STRIDE = 20
# WASI: the handler sums one word per touched page and writes "ok\n".
WAT = f"""(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") {PAGES})
  (func (export "init") (local $i i32)
    (loop $l
      (i32.store (local.get $i) (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 4096)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const {PAGES * 65536})))))
  (func (export "handle") (local $n i32) (local $a i32) (local $s i32)
    (local.set $n (i32.const {TOUCH}))
    (local.set $a (i32.const 4096))
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $a))))
      (local.set $a (i32.add (local.get $a) (i32.const {STRIDE * 4096})))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.store (i32.const 32) (local.get $s))
    (i32.store (i32.const 16) (i32.const 0x0a6b6f))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"""


def loopback_mib_s(total=512 << 20):
    ls = socket.socket()
    ls.bind((HOST, 0))
    ls.listen(1)
    a = socket.create_connection(ls.getsockname())
    b, _ = ls.accept()
    buf = bytearray(1 << 20)

    def sink():
        v = memoryview(buf)
        while b.recv_into(v):
            pass
    t = threading.Thread(target=sink)
    t.start()
    chunk = bytes(1 << 20)
    t0 = time.perf_counter()
    for _ in range(total >> 20):
        a.sendall(chunk)
    a.close()
    t.join()
    dt = time.perf_counter() - t0
    b.close()
    ls.close()
    return (total >> 20) / dt


def get(port, path):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(HOST, port, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body, (time.perf_counter() - t0) * 1e3


def wait_for(srv, pattern, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(pattern, srv.log_text())
        if m:
            return m
        time.sleep(0.01)
    return None


def one_run(wedge, route, keyfile, tmp, env, lazy):
    shutil.rmtree(os.path.join(env["WEDGE_CACHE_DIR"], "store"), ignore_errors=True)
    t0 = time.perf_counter()
    srv = Server([wedge, "serve", "--workers", "1", "--log-level", "debug", "--no-admission",
                  "--store-key-file", keyfile],
                 lambda port: [{"name": "b", "port": port, "routes": [route]}], tmp, env)
    load_ms = (time.perf_counter() - t0) * 1e3
    try:
        if srv.state != "listening":
            raise SystemExit("server did not start:\n" + srv.log_text()[-2000:])
        st, body, first = get(srv.port, "/f")
        if st != 200 or body != b"ok\n":
            raise SystemExit(f"first request: {st} {body[:200]!r}\n" + srv.log_text()[-2000:])
        _, _, second = get(srv.port, "/f")
        if lazy:
            wait_for(srv, r"whole snapshot is now in the node cache")
        at = len(srv.log_text())
        warm = statistics.median(get(srv.port, "/f")[2] for _ in range(10))
        log = srv.log_text()
        if os.environ.get("BENCH_SHOW_LOG"):
            print("\n".join(ln for ln in log.splitlines() if "lazy:" in ln), file=sys.stderr)
        warm_inst = [int(x) for x in re.findall(r"route b/f: instantiated in (\d+) us", log[at:])]
    finally:
        srv.stop()
    inst = re.search(r"request (\d+): route b/f: instantiated in (\d+) us", log)
    lz = re.search(r"route b/f: lazy: (\d+) faults, \d+ fetches, (\d+) bytes by faults, (\d+) working-set pages "
                   r"prefetched \(fetched in (\d+) us, memory registered in (\d+) us\), (\d+) store requests", log)
    stats = None
    if lz:
        f, b, w, pf, pi, rq = (int(x) for x in lz.groups())
        stats = (f, b + w * 4096, rq, f"{pf} + {pi} µs" if w else "")
    return {"load": load_ms, "first": first, "second": second, "warm": warm,
            "inst": int(inst.group(2)) if inst else None, "stats": stats,
            "warm_inst": statistics.median(warm_inst) if warm_inst else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--only", help="run only the modes whose name contains this (implies --no-write)")
    a = ap.parse_args()
    wedge = os.path.join(a.build_dir, "wedge")
    tmp = tempfile.mkdtemp(prefix="wedge-serve-fetch-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    d = os.path.join(tmp, "store")
    os.mkdir(d)
    key = os.path.join(tmp, "key")
    open(key, "w").write("benchmark-key-0123456789\n")
    open(os.path.join(tmp, "g.wat"), "w").write(WAT)
    mod = os.path.join(d, "g.wasm")
    snap = os.path.join(d, "g.snap")
    subprocess.run(["wat2wasm", os.path.join(tmp, "g.wat"), "-o", mod], check=True)
    subprocess.run([wedge, "snapshot", "--init", "init", mod, "-o", snap], check=True, env=env)
    slog = open(os.path.join(tmp, "store.log"), "w+")
    store = subprocess.Popen([wedge, "store", "--listen", "127.0.0.1:0", "--key-file", key, d], stderr=slog)
    port = None
    for _ in range(500):
        slog.seek(0)
        m = re.search(r"\(port (\d+)\)", slog.read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.02)
    url = f"wedge://127.0.0.1:{port}/g"
    base = {"route": "/f", "entry": "handle", "timeout-us": 30000000, "relative-deadline-us": 30000000}
    modes = [("local snapshot", {"path": mod, "snapshot": snap}, False, False),
             ("eager", {"path": url, "fetch": "eager"}, False, False),
             ("lazy page", {"path": url, "fetch": "lazy", "granularity": "page"}, True, False),
             ("lazy region:64", {"path": url, "fetch": "lazy", "granularity": "region:64"}, True, False),
             ("lazy instance", {"path": url, "fetch": "lazy", "granularity": "instance"}, True, False),
             ("lazy page + working set", {"path": url, "fetch": "lazy", "granularity": "page"}, True, True),
             ("module (init at load)", {"path": url, "granularity": "module", "init": "init"}, False, False)]
    bw = loopback_mib_s()
    rows = []
    try:
        for name, r, lazy, wset in modes:
            if a.only and a.only not in name:
                continue
            runs = []
            for f in os.listdir(d):
                if f.startswith(".wset-"):
                    os.unlink(os.path.join(d, f))
            if wset:
                one_run(wedge, {**base, **r}, key, tmp, env, lazy)  # its first request records the set
            for _ in range(a.runs):
                runs.append(one_run(wedge, {**base, **r}, key, tmp, env, lazy))
                for f in os.listdir(d):
                    if f.startswith(".wset-") and not wset:
                        os.unlink(os.path.join(d, f))
            med = lambda k: statistics.median(x[k] for x in runs)
            insts = [x["inst"] for x in runs if x["inst"] is not None]
            stats = runs[len(runs) // 2]["stats"]
            winst = [x["warm_inst"] for x in runs if x["warm_inst"] is not None]
            rows.append((name, med("load"), med("first"), med("second"), med("warm"),
                         statistics.median(insts) if insts else None, stats,
                         statistics.median(winst) if winst else None))
            print(f"{name}: done", file=sys.stderr, flush=True)
    finally:
        store.terminate()
        store.wait()
        bw2 = loopback_mib_s()
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    touched = TOUCH * 4096
    L = [SECTION, "",
         f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit {commit()}, load average "
         f"{load:.1f} on {os.cpu_count()} CPUs (`python3 bench/store/run_serve_fetch.py --runs {a.runs}`): "
         f"a 64 MiB guest (16384 pages of 4 KiB, all written by init), each request reading one word in "
         f"{TOUCH} pages {STRIDE} pages apart ({touched // 1024} KiB, 5%); `wedge store` and `wedge serve` "
         f"(1 worker) on loopback; medians of {a.runs} server starts with an empty node cache.  Loopback TCP "
         f"in the same run: {bw:.0f} MiB/s before, {bw2:.0f} MiB/s after.", "",
         "| mode | route load (start → listening) | 1st response (client) | 2nd response | warm response "
         "(node cache) | 1st instantiate (server) | of which working set fetch + registering | warm instantiate "
         "(server) | faults | bytes fetched at 1st request | / bytes touched | store requests |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, ld, fi, se, wa, inst, st, wi in rows:
        f, b, rq, ws = st if st else ("", "", "", "")
        ratio = f"{b / touched:.2f}" if st else ""
        L.append(f"| {name} | {ld:.0f} ms | {fi:.2f} ms | {se:.2f} ms | {wa:.2f} ms | "
                 f"{'' if inst is None else f'{inst} µs'} | {ws} | {'' if wi is None else f'{wi:.0f} µs'} | {f} | {b} | "
                 f"{ratio} | {rq} |")
    L += ["", "Bytes and requests are the lazy handler's at the first request (faults at the route's grain plus "
          "the prefetched working set; store requests count the working-set query, the prefetch batch and "
          "one per fault).  Eager and module pay their fetch in the route load.  Warm responses are local "
          "copy-on-write restores (the whole snapshot fetched into the node cache in the background after the "
          "first lazy request); client times include HTTP on a new connection.", ""]
    text = "\n".join(L) + "\n"
    print(text)
    if not a.no_write and not a.only:
        path = os.path.join(ROOT, "docs", "benchmarks.md")
        old = open(path).read()
        m = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", old, re.M | re.S)
        new = (old[:m.start()] + text + ("\n" if old[m.end():] else "") + old[m.end():].lstrip("\n")) if m \
            else old.rstrip("\n") + "\n\n" + text
        with open(path, "w") as f:
            f.write(new)


def commit():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


if __name__ == "__main__":
    main()
