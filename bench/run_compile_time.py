#!/usr/bin/env python3
"""run_compile_time.py — how long `wedge compile` takes on large real modules,
and how much memory its C compiler children need.

Modules (built here, never committed):
  sqlite       SQLite's amalgamation (from the npm package better-sqlite3,
               fetched with `npm pack` into the work folder if absent) with
               FTS4/5, R-tree, geopoly, sessions and the other options a
               shell build enables, plus bench/sqlite_main.c: ~1.7 MB of Wasm
  sqlite-min   the same without those options: ~1.2 MB
  generated    bench/gen_big_module.py: many functions of straight-line and
               looping code, a size of our choosing
Each is compiled twice in one interleaved run: with every function at -O2
(WEDGE_COLD=none, what wedge did before the cold tier) and with the default
plan (src/compile/cg_plan.c: loop-free and huge functions of large modules
at -O1).  Per compile: wall time, user+sys CPU of all cc children (the
figure a loaded machine inflates least), the peak RSS of the largest cc
child (ru_maxrss of the reaped children, through /usr/bin/time), and the
number of C parts.  Then the run time of each build of the SQLite main
(hot code must not get slower) and its output, which must equal the output
of the same module under node's V8 (bench/node_wasi_run.mjs), else exit 1.

Usage: bench/run_compile_time.py [--build-dir BUILD] [--reps 1] [--rows N]
        [--modules sqlite,sqlite-min,generated] [--before OTHER_WEDGE]
        [--out docs/benchmarks.md] [--no-write]
--before adds a third variant compiled by another wedge binary (main's build,
the state before this work), with its own run time.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
NPM_PKG = "better-sqlite3@12"
SECTION = "## Compile time of large modules"

# What a wasm32-wasi build of SQLite needs (no threads, no dlopen, no WAL's
# shared memory), and what the SQLite shell enables on top.
SQLITE_BASE = ["-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION", "-DSQLITE_OMIT_WAL",
               "-DSQLITE_OMIT_SHARED_CACHE", "-D_WASI_EMULATED_MMAN"]
SQLITE_SHELL = ["-DSQLITE_ENABLE_FTS5", "-DSQLITE_ENABLE_FTS4", "-DSQLITE_ENABLE_RTREE",
                "-DSQLITE_ENABLE_GEOPOLY", "-DSQLITE_ENABLE_MATH_FUNCTIONS", "-DSQLITE_ENABLE_DBSTAT_VTAB",
                "-DSQLITE_ENABLE_SESSION", "-DSQLITE_ENABLE_PREUPDATE_HOOK", "-DSQLITE_ENABLE_STMTVTAB",
                "-DSQLITE_ENABLE_BYTECODE_VTAB", "-DSQLITE_ENABLE_EXPLAIN_COMMENTS",
                "-DSQLITE_ENABLE_UNKNOWN_SQL_FUNCTION", "-DSQLITE_ENABLE_COLUMN_METADATA"]
VARIANTS = [("all -O2", {"WEDGE_COLD": "none"}), ("tiered (default)", {})]
BEFORE = "before (--before)"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, cwd=None, env=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), p.returncode,
                                                         p.stderr.decode(errors="replace")[-800:]))
    return p.stdout.decode(errors="replace")


def fetch_sqlite(work):
    """sqlite3.c and sqlite3.h from the npm package, fetched once."""
    src = os.path.join(work, "package", "deps", "sqlite3")
    if os.path.exists(os.path.join(src, "sqlite3.c")):
        return src
    tgz = [f for f in os.listdir(work) if f.startswith("better-sqlite3-") and f.endswith(".tgz")]
    if not tgz:
        log("fetching %s with npm pack" % NPM_PKG)
        sh(["npm", "pack", "--silent", NPM_PKG], cwd=work)
        tgz = [f for f in os.listdir(work) if f.startswith("better-sqlite3-") and f.endswith(".tgz")]
    sh(["tar", "xzf", tgz[0], "package/deps/sqlite3/sqlite3.c", "package/deps/sqlite3/sqlite3.h"], cwd=work)
    return src


def build_sqlite(work, name, defs):
    out = os.path.join(work, name + ".wasm")
    if os.path.exists(out):
        return out
    src = fetch_sqlite(work)
    log("building %s (clang, about a minute)" % out)
    sh(["clang", "--target=wasm32-wasi", "-O2", "-w", "-I" + src] + defs +
       [os.path.join(src, "sqlite3.c"), os.path.join(BENCH, "sqlite_main.c"), "-o", out + ".tmp"])
    os.rename(out + ".tmp", out)
    return out


def build_generated(work, nfuncs):
    out = os.path.join(work, "generated-%d.wasm" % nfuncs)
    if os.path.exists(out):
        return out
    c = os.path.join(work, "generated-%d.c" % nfuncs)
    sh([sys.executable, os.path.join(BENCH, "gen_big_module.py"), str(nfuncs), c])
    log("building %s" % out)
    sh(["clang", "--target=wasm32-wasi", "-O2", "-w", c, "-o", out])
    return out


def tag(vname):
    return {"all -O2": "o2", BEFORE: "before"}.get(vname, "tiered")


def compile_once(wedge, wasm, so, env_extra):
    """(wall s, cc user+sys s, peak RSS MiB of the largest child, parts)."""
    cache = tempfile.mkdtemp(prefix="wedge-ct-cache-")
    env = dict(os.environ, WEDGE_CACHE_DIR=cache, **env_extra)
    env.pop("WEDGE_PARTS", None)
    fmt = "WEDGE_TIME %e %U %S %M"
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", fmt, wedge, "compile", wasm, "-o", so], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    shutil.rmtree(cache, ignore_errors=True)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError("wedge compile %s failed: %s" % (wasm, err[-800:]))
    m = re.search(r"WEDGE_TIME (\S+) (\S+) (\S+) (\d+)", err)
    parts = re.search(r"\((\d+) C parts\)", err)
    return (wall, float(m.group(2)) + float(m.group(3)), int(m.group(4)) / 1024.0,
            int(parts.group(1)) if parts else 0)


def run_time(cmd, reps):
    """Median user+sys CPU seconds of cmd, and its stdout."""
    times, out = [], None
    for _ in range(reps):
        r0 = os.times()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        r1 = os.times()
        if p.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.decode(errors="replace")[-400:]))
        times.append((r1.children_user - r0.children_user) + (r1.children_system - r0.children_system))
        out = p.stdout
    return statistics.median(times), out


def replace_section(path, md):
    """Write this script's section, keeping every other one as it is."""
    old = open(path).read() if os.path.exists(path) else ""
    secs = [m.group(0) for m in re.finditer(r"^## .*?(?=^## |\Z)", old, re.M | re.S)]
    head = old[:old.index(secs[0])] if secs else old
    body, done = [], False
    for s in secs:
        if s.splitlines()[0].strip() == SECTION:
            body.append(md.rstrip("\n") + "\n\n")
            done = True
        else:
            body.append(s)
    if not done:
        body.append(("\n" if body and not body[-1].endswith("\n\n") else "") + md.rstrip("\n") + "\n")
    with open(path, "w") as f:
        f.write(head + "".join(body).rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    ap.add_argument("--work", help="scratch folder (default BUILD/compile-time)")
    ap.add_argument("--reps", type=int, default=1, help="compiles per module and variant (default 1)")
    ap.add_argument("--run-reps", type=int, default=5, help="runs of each SQLite build (default 5)")
    ap.add_argument("--rows", type=int, default=100000, help="rows the SQLite main inserts (default 100000)")
    ap.add_argument("--gen-funcs", type=int, default=300, help="functions of the generated module")
    ap.add_argument("--modules", default="sqlite,sqlite-min,generated")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--before", help="another wedge binary (e.g. main's build) compiled beside, as a third variant")
    a = ap.parse_args()
    variants = [(v, e, None) for v, e in VARIANTS]
    if a.before:
        variants.insert(0, (BEFORE, {}, a.before))
    wedge = os.path.join(a.build_dir, "wedge")
    work = a.work or os.path.join(a.build_dir, "compile-time")
    os.makedirs(work, exist_ok=True)

    mods = []
    for name in a.modules.split(","):
        if name == "sqlite":
            mods.append((name, build_sqlite(work, "sqlite", SQLITE_BASE + SQLITE_SHELL)))
        elif name == "sqlite-min":
            mods.append((name, build_sqlite(work, "sqlite-min", SQLITE_BASE)))
        elif name == "generated":
            mods.append((name, build_generated(work, a.gen_funcs)))
        else:
            sys.exit("unknown module %s" % name)

    load0 = os.getloadavg()[0]
    res = {}     # (module, variant) -> list of (wall, cpu, rss, parts)
    for rep in range(a.reps):
        for name, wasm in mods:
            vs = variants if rep % 2 == 0 else variants[::-1]
            for vname, env, binary in vs:
                so = os.path.join(work, "%s.%s.so" % (name, tag(vname)))
                log("compile %s, %s (rep %d)" % (name, vname, rep + 1))
                res.setdefault((name, vname), []).append(compile_once(binary or wedge, wasm, so, env))

    # Run time and output of the SQLite builds, against node.
    bad = 0
    runs = []
    for name, wasm in mods:
        if not name.startswith("sqlite"):
            continue
        args = [str(a.rows)]
        ref = None
        if shutil.which("node"):
            _, ref = run_time(["node", os.path.join(BENCH, "node_wasi_run.mjs"), wasm] + args, 1)
        row = [name]
        for vname, env, binary in variants:
            so = os.path.join(work, "%s.%s.so" % (name, tag(vname)))
            t, out = run_time([binary or wedge, "run", so] + args, a.run_reps)
            same = ref is None or out == ref
            if not same:
                bad += 1
                log("MISMATCH: %s %s differs from node's output" % (name, vname))
            row.append((t, same))
        runs.append((row, ref is not None))

    md = [SECTION, ""]
    md.append("`bench/run_compile_time.py` (%s, %d CPUs, cc: %s; one interleaved run, %d compile(s) per "
              "cell, median). `all -O2` is `WEDGE_COLD=none` (every function at -O2, as before the cold "
              "tier); `tiered` is the default plan (src/compile/cg_plan.c, docs/compile-time.md). CPU is "
              "user+sys of all cc children; peak RSS is the largest cc child's."
              % (time.strftime("%Y-%m-%d"), os.cpu_count(), sh(["cc", "--version"]).splitlines()[0],
                 a.reps))
    md.append("")
    md.append("Load average (1 min) %.1f at the start, %.1f at the end: wall time on a shared machine "
              "measures the other users too; compare the CPU column." % (load0, os.getloadavg()[0]))
    md.append("")
    md.append("| module | Wasm bytes | variant | parts | wall s | cc CPU s | peak RSS MiB |")
    md.append("|---|---:|---|---:|---:|---:|---:|")
    for name, wasm in mods:
        for vname, _, _ in variants:
            r = res[(name, vname)]
            med = lambda k: statistics.median(x[k] for x in r)  # noqa: E731
            md.append("| %s | %d | %s | %d | %.1f | %.1f | %.0f |" % (
                name, os.path.getsize(wasm), vname, r[0][3], med(0), med(1), med(2)))
    md.append("")
    if runs:
        md.append("Run time of the SQLite main (`wedge run MODULE.so %d`, user+sys CPU, median of %d), and "
                  "its output against node's V8 on the same module:" % (a.rows, a.run_reps))
        md.append("")
        md.append("| module | " + " | ".join("%s s" % v for v, _, _ in variants) +
                  " | tiered / all -O2 | output = node |")
        md.append("|---|" + "---:|" * len(variants) + "---:|---|")
        for row, had_ref in runs:
            cells = row[1:]
            t_o2 = cells[-2][0]
            t_tier = cells[-1][0]
            same = all(c[1] for c in cells)
            md.append("| %s | %s | %.2f | %s |" % (row[0], " | ".join("%.3f" % c[0] for c in cells),
                                                  t_tier / t_o2 if t_o2 else 0,
                                                  ("yes" if same else "NO") if had_ref else "node not found"))
        md.append("")
    text = "\n".join(md)
    print(text)
    if not a.no_write:
        replace_section(a.out, text)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
