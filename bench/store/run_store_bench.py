#!/usr/bin/env python3
"""Remote instantiation on loopback (issue 9): a 64 MiB guest whose init
fills every page, a store node, and `wedge run` from it for each fetch mode.
The request reads ~5% of the memory, either sparse (one word in each of 51
pages spread over the memory) or dense (a scan of 51 consecutive pages).

For each mode: wall time of the whole `wedge run` process (client-measured,
including process start, the compile-cache hit and the manifest request),
and the lazy statistics wedge prints with WEDGE_STORE_STATS=1 (faults,
fetch calls, bytes fetched by faults; a prefetched working set is fetched
before the first instruction and not counted there).  Prints a Markdown table; asserts nothing.

Usage: run_store_bench.py WEDGE [RUNS]
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

WEDGE = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
PAGES = 1024  # 64 KiB wasm pages: 64 MiB
WAT = f"""(module (memory (export "memory") {PAGES})
  (func (export "init") (local $i i32)
    (loop $l
      (i32.store (local.get $i) (i32.add (local.get $i) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 4096)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const {PAGES * 65536})))))
  ;; sparse: one word in each of n pages, `stride` pages apart
  (func (export "sparse") (param $n i32) (param $stride i32) (result i32) (local $s i32) (local $a i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $a))))
      (local.set $a (i32.add (local.get $a) (i32.mul (local.get $stride) (i32.const 4096))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $s))
  ;; dense: every word of n consecutive pages from page 0
  (func (export "dense") (param $n i32) (result i32) (local $s i32) (local $a i32) (local $end i32)
    (local.set $end (i32.mul (local.get $n) (i32.const 4096)))
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $a))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $a) (local.get $end))))
    (local.get $s)))"""


def main():
    top = tempfile.mkdtemp(prefix="wedge-store-bench-")
    d = os.path.join(top, "dir")
    os.mkdir(d)
    key = os.path.join(top, "key")
    open(key, "w").write("benchmark-key-0123456789\n")
    open(os.path.join(top, "g.wat"), "w").write(WAT)
    mod = os.path.join(d, "g.wasm")
    subprocess.run(["wat2wasm", os.path.join(top, "g.wat"), "-o", mod], check=True)
    subprocess.run([WEDGE, "snapshot", "--init", "init", mod, "-o", os.path.join(d, "g.snap")], check=True)
    log = open(os.path.join(top, "store.log"), "w+")
    st = subprocess.Popen([WEDGE, "store", "--listen", "127.0.0.1:0", "--key-file", key, d], stderr=log)
    port = None
    for _ in range(200):
        log.seek(0)
        m = re.search(r"\(port (\d+)\)", log.read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.02)
    url = f"wedge://127.0.0.1:{port}/g"
    env = dict(os.environ, WEDGE_STORE_STATS="1")
    total_pages = PAGES * 16
    n = total_pages * 5 // 100  # ~5% of the 4 KiB pages

    def clear_wsets():
        for f in os.listdir(d):
            if f.startswith(".wset-"):
                os.unlink(os.path.join(d, f))

    def one(opts, inv):
        t0 = time.perf_counter()
        r = subprocess.run([WEDGE, "run", "--store-key-file", key, *opts, "--invoke", *inv[:1], url, *inv[1:]],
                           capture_output=True, text=True, env=env)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise SystemExit(f"run failed: {opts} {inv}: {r.stderr}")
        m = re.search(r"(\d+) faults, (\d+) fetches, (\d+) bytes fetched", r.stderr)
        return dt * 1e3, (tuple(int(x) for x in m.groups()) if m else (0, 0, 0))

    rows = []
    patterns = [("sparse", ["sparse", str(n), str(total_pages // n)]), ("dense", ["dense", str(n)])]
    modes = [("local snapshot", None), ("eager", ["--fetch", "eager"]),
             ("lazy page", ["--fetch", "lazy", "--granularity", "page"]),
             ("lazy region:64", ["--fetch", "lazy", "--granularity", "region:64"]),
             ("lazy instance", ["--fetch", "lazy", "--granularity", "instance"]),
             ("lazy page + working set", "wset"),
             ("module (init runs locally)", ["--granularity", "module", "--init", "init"])]
    for pname, inv in patterns:
        for mname, opts in modes:
            times, stats = [], (0, 0, 0)
            for _ in range(RUNS):
                if mname == "local snapshot":
                    t0 = time.perf_counter()
                    subprocess.run([WEDGE, "run", "--snapshot", os.path.join(d, "g.snap"), "--invoke", inv[0], mod,
                                    *inv[1:]], check=True, capture_output=True)
                    times.append((time.perf_counter() - t0) * 1e3)
                    continue
                if opts == "wset":
                    clear_wsets()
                    one(["--fetch", "lazy", "--granularity", "page"], inv)  # records
                    dt, stats = one(["--fetch", "lazy", "--granularity", "page"], inv)
                else:
                    clear_wsets()
                    dt, stats = one(opts, inv)
                times.append(dt)
            rows.append((pname, mname, statistics.median(times), stats))
    st.terminate()
    st.wait()
    touched = n * 4096
    print(f"64 MiB guest ({total_pages} pages of 4 KiB, all non-zero), request touches {n} pages "
          f"({touched // 1024} KiB, 5%); median of {RUNS} `wedge run` processes; loopback\n")
    print("| pattern | mode | wall time | faults | fetch calls | bytes fetched (lazy) | / bytes touched |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for p, m, t, s in rows:
        ratio = f"{s[2] / touched:.2f}" if s[2] else ""
        lazy = m.startswith("lazy")
        cols = [str(x) if lazy else "" for x in s]
        print(f"| {p} | {m} | {t:.1f} ms | {cols[0]} | {cols[1]} | {cols[2]} | {ratio} |")
    shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
