#!/usr/bin/env python3
"""run_compute.py — the compute benchmark: wedge beside native, wasm2c and node.

Three sets of rows, all measured in ONE interleaved run (every repetition
runs every row under every engine, the engine order rotating):
  scalar   every bench/kernels/*.c natively with BOTH gcc -O2 and clang -O2,
           to wasm32-wasi (clang -O2), ahead of time with `wedge compile`
           (timed), through wabt's wasm2c + gcc -O2, and under node;
  simd128  the same C built for Wasm with -msimd128 (wedge, node), against
           the faster native scalar build;
  simd     bench/kernels/simd/*.c (128-bit intrinsics through simd4.h:
           wasm_simd128.h in Wasm, SSE2 natively) under both native
           compilers, wedge and node.
Every ratio is to the faster of the two native builds of that kernel.
Every output is checked against native gcc's output of the scalar kernel;
the table of medians, ratios and geomeans per set goes to docs/benchmarks.md.
It also measures instantiation of a module with 1 MiB of data segments
and the compile time of the largest example.

Usage: bench/run_compute.py [--build-dir BUILD] [--reps 5] [--kernels a,b]
                            [--sets scalar,simd128,simd] [--quick]
                            [--out docs/benchmarks.md] [--no-write]
See bench/README.md.  Exit status 1 if any engine's output differed from
native (the table is still written, with the wrong cells marked).
"""
import argparse
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
W2C_RT = "/usr/share/wabt/wasm2c"

# Small sizes for --quick (a smoke test of the pipeline, not a measurement).
QUICK_ARGS = {
    "base64": ["1", "2"], "bintree": ["10"], "crc_fnv": ["1", "2"], "fannkuch": ["8", "1"],
    "interp": ["100"], "mandelbrot": ["200"], "matmul": ["96", "2"], "nbody": ["100000"],
    "parse": ["1", "2"], "sha256": ["1", "1"], "sieve": ["1000000", "1"], "sort": ["100000", "1"],
    "strsearch": ["1", "1"], "gemm": ["32", "2"], "stencil2d": ["64", "4"], "dot": ["64", "10"],
    "saxpy": ["64", "10"], "histogram": ["64", "10"],
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, env=None, check=True, capture=True):
    """Run cmd; return (seconds, returncode, stdout, stderr).  run.cpu is
    set to the child's user+sys CPU seconds (all its threads), which a
    loaded machine inflates much less than wall-clock time."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    out = p.stdout.decode(errors="replace") if capture else ""
    err = p.stderr.decode(errors="replace") if capture else ""
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), p.returncode, err.strip()[:600]))
    return dt, p.returncode, out, err


def tool_version(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return p.stdout.decode(errors="replace").strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001 - only informational
        return "unavailable (%s)" % e


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


class Engine:
    def __init__(self, name, label):
        self.name = name
        self.label = label
        self.cmd = {}            # row -> argv prefix (kernel args appended)
        self.broken = {}         # row -> reason it could not be built/run


# The three sets of rows.  A row is "kernel" (scalar C: bench/kernels/k.c),
# "k+simd128" (the same C built for Wasm with -msimd128: clang's
# auto-vectoriser targeting Wasm SIMD, measured against the faster native
# SCALAR build) or "simd/k" (bench/kernels/simd/k.c: 128-bit intrinsics,
# wasm_simd128.h for Wasm and SSE2 natively, simd4.h).  Every row must print
# exactly what native gcc prints for the scalar kernel k.
SETS = ("scalar", "simd128", "simd")
SET_TITLE = {
    "scalar": "Scalar kernels",
    "simd128": "Scalar kernels rebuilt with `-msimd128` (clang's vectoriser targeting Wasm SIMD)",
    "simd": "Hand-written SIMD kernels (`wasm_simd128.h` in Wasm, SSE2 intrinsics natively)",
}
SET_ENGINES = {
    "scalar": ("native", "native_clang", "wedge", "wasm2c", "node", "node_nl"),
    "simd128": ("wedge", "node"),
    "simd": ("native", "native_clang", "wedge", "node"),
}


def row_id(kset, k):
    return {"scalar": k, "simd128": k + "+simd128", "simd": "simd/" + k}[kset]


def row_base(row):
    """The scalar kernel a row belongs to (whose native output it must print)."""
    return row.split("/", 1)[-1].split("+", 1)[0]


def row_set(row):
    return "simd" if row.startswith("simd/") else "simd128" if row.endswith("+simd128") else "scalar"


def build_all(args, rows, work, wedge):
    """Build every row under every engine of its set; return the engines and compile times."""
    gcc = os.environ.get("CC", "gcc")
    nclang = os.environ.get("NATIVE_CLANG", "clang")
    clang = os.environ.get("WASM_CLANG", "clang")
    engines = {e.name: e for e in [
        Engine("native", "native (gcc -O2)"),
        Engine("native_clang", "native (clang -O2)"),
        Engine("wedge", "wedge (AOT .so)"),
        Engine("wasm2c", "wasm2c + gcc -O2"),
        Engine("node", "node (default)"),
        Engine("node_nl", "node --no-liftoff"),
    ]}
    compile_s = {}
    have_node = shutil.which("node") is not None and not args.no_node
    have_w2c = shutil.which("wasm2c") is not None and os.path.exists(W2C_RT + "/wasm-rt-impl.c")
    cache = tempfile.mkdtemp(prefix="wedge-cache-", dir=work)
    env = dict(os.environ, WEDGE_CACHE_DIR=cache)
    runner = os.path.join(BENCH, "node_wasi_run.mjs")
    for row in rows:
        kset, k = row_set(row), row_base(row)
        want = SET_ENGINES[kset]
        src = os.path.join(BENCH, "kernels", "simd" if kset == "simd" else "", k + ".c")
        d = os.path.join(work, row.replace("/", "-"))
        os.makedirs(d, exist_ok=True)
        wasm = os.path.join(d, k + ".wasm")
        for e, compiler in (("native", gcc), ("native_clang", nclang)):
            if e not in want:
                continue
            exe = os.path.join(d, k + "." + e)
            try:
                run([compiler, "-O2", "-o", exe, src, "-lm"])
                engines[e].cmd[row] = [exe]
            except RuntimeError as ex:
                engines[e].broken[row] = str(ex)
        run([clang, "--target=wasm32-wasi", "-O2"] + (["-msimd128"] if kset != "scalar" else []) +
            ["-o", wasm, src, "-lm"])
        # wedge: compile ahead of time (timed, cache bypassed), run the .so.
        so = os.path.join(d, k + ".so")
        if wedge:
            try:
                compile_s[row] = run([wedge, "compile", wasm, "-o", so], env=env)[0]
                engines["wedge"].cmd[row] = [wedge, "run", so]
            except RuntimeError as ex:
                engines["wedge"].broken[row] = "compile failed: %s" % ex
                log("WEDGE COMPILE FAILED for %s: %s" % (row, ex))
        else:
            engines["wedge"].broken[row] = "no wedge binary"
        # wasm2c: one module name for all kernels so one shim fits all.
        if "wasm2c" in want:
            if have_w2c:
                wd = os.path.join(d, "w2c")
                os.makedirs(wd, exist_ok=True)
                exe = os.path.join(d, k + ".w2c")
                try:
                    run(["wasm2c", "-n", "bench", wasm, "-o", os.path.join(wd, "bench.c")])
                    run([gcc, "-O2", "-w", "-I" + wd, "-I" + W2C_RT, os.path.join(wd, "bench.c"),
                         os.path.join(BENCH, "wasm2c_shim.c"), W2C_RT + "/wasm-rt-impl.c", "-lm", "-o", exe])
                    engines["wasm2c"].cmd[row] = [exe]
                except RuntimeError as ex:
                    engines["wasm2c"].broken[row] = str(ex)
            else:
                engines["wasm2c"].broken[row] = "wasm2c not installed"
        if have_node:
            engines["node"].cmd[row] = ["node", "--no-warnings", runner, wasm]
            if "node_nl" in want and not args.no_nl:
                engines["node_nl"].cmd[row] = ["node", "--no-warnings", "--no-liftoff", runner, wasm]
        else:
            engines["node"].broken[row] = "node not used"
        log("built %s" % row)
    return engines, compile_s, cache


def measure(args, rows, engines):
    """Interleaved repetitions; returns times[engine][row], cpu[engine][row], wrong[engine][row]."""
    kargs = {r: (QUICK_ARGS.get(row_base(r), []) if args.quick else []) for r in rows}
    expected, times, wrong = {}, {e: {} for e in engines}, {e: {} for e in engines}
    cpu = {e: {} for e in engines}
    order = list(engines)
    # Reference outputs: native gcc on the scalar kernel, for every row of it.
    for r in rows:
        k = row_base(r)
        if k in expected:
            continue
        exe = os.path.join(args.work_dir, "ref-" + k)
        run([os.environ.get("CC", "gcc"), "-O2", "-o", exe, os.path.join(BENCH, "kernels", k + ".c"), "-lm"])
        _, rc, out, err = run([exe] + kargs[r], check=False)
        if rc != 0:
            raise RuntimeError("native %s exited %d: %s" % (k, rc, err))
        expected[k] = out
    # One warm-up round (page cache, node's code cache), then the measured ones.
    for rep in range(args.reps + 1):
        rot = order[rep % len(order):] + order[:rep % len(order)]
        for r in rows:
            for e in rot:
                eng = engines[e]
                if r not in eng.cmd or r in wrong[e]:
                    continue
                dt, rc, out, err = run(eng.cmd[r] + kargs[r], check=False)
                if rc != 0 or out != expected[row_base(r)]:
                    why = "exit %d" % rc if rc != 0 else "output differs"
                    wrong[e][r] = why
                    log("!!! MISMATCH: %s on %s: %s\n    expected: %r\n    got:      %r\n    stderr:   %s"
                        % (eng.label, r, why, expected[row_base(r)][:200], out[:200], err.strip()[:400]))
                    continue
                if rep > 0:           # rep 0 is the warm-up
                    times[e].setdefault(r, []).append(dt)
                    cpu[e].setdefault(r, []).append(run.cpu)
        log("%s %d/%d done" % ("warm-up" if rep == 0 else "repetition", rep, args.reps))
    return times, cpu, wrong


def measure_instantiate(args, work, wedge, build):
    """Instantiation of a module with 1 MiB of data; returns markdown lines."""
    lines = []
    clang = os.environ.get("WASM_CLANG", "clang")
    d = os.path.join(work, "data1m")
    os.makedirs(d, exist_ok=True)
    wasm, so = os.path.join(d, "data1m.wasm"), os.path.join(d, "data1m.so")
    run([clang, "--target=wasm32-wasi", "-O2", "-o", wasm, os.path.join(BENCH, "data1m.c")])
    if not wedge:
        return ["- not measured: no wedge binary"]
    try:
        ct = run([wedge, "compile", wasm, "-o", so])[0]
    except RuntimeError as e:
        return ["- not measured: `wedge compile data1m.wasm` failed: %s" % str(e)[:300]]
    lines.append("- module: `bench/data1m.c` (%d bytes of Wasm, one 1 MiB active data segment); "
                 "`wedge compile` took %.2f s" % (os.path.getsize(wasm), ct))
    # In-process, through the runtime API (bench_instantiate.c).
    exe = os.path.join(build, "bench", "bench_instantiate")
    # Not part of `all`: bring it up to date, or a stale one measures an
    # older runtime.
    if os.path.exists(os.path.join(build, "CMakeCache.txt")):
        run(["cmake", "--build", build, "--target", "bench_instantiate"], check=False)
    if not os.path.exists(exe):
        exe = os.path.join(d, "bench_instantiate")
        libs = [os.path.join(build, "libwedge_rt.a"), os.path.join(build, "libwedge_wasi.a")]
        if all(os.path.exists(x) for x in libs):
            try:
                run([os.environ.get("CC", "cc"), "-O2", "-I" + os.path.join(REPO, "src"),
                     os.path.join(BENCH, "bench_instantiate.c"), "-rdynamic", "-Wl,--whole-archive"] + libs +
                    ["-Wl,--no-whole-archive", "-ldl", "-lpthread", "-lm", "-o", exe])
            except RuntimeError as e:
                lines.append("- in-process: bench_instantiate could not be built: %s" % str(e)[:300])
                exe = None
        else:
            lines.append("- in-process: not measured (no %s)" % " / ".join(libs))
            exe = None
    if exe:
        rows, failed = {}, None
        for export in ("noop", "read_pages", "write_pages"):
            _, rc, out, err = run([exe, so, str(args.inst_iters), export], check=False)
            if rc != 0:
                failed = "bench_instantiate %s failed (exit %d): %s" % (export, rc, err.strip()[:300])
                break
            for ln in out.splitlines():
                parts = ln.split()
                if len(parts) == 4 and parts[1].startswith("median_us="):
                    vals = [p.split("=")[1] for p in parts[1:]]
                    if export == "noop" or parts[0] == "call":
                        rows[parts[0] if export == "noop" or parts[0] != "call" else "call " + export] = vals
        if failed:
            lines.append("- in-process: " + failed)
        else:
            lines.append("- in-process (`bench_instantiate`, %d iterations; µs):" % args.inst_iters)
            lines.append("")
            lines.append("  | phase | median µs | p10 µs | p90 µs |")
            lines.append("  |---|---:|---:|---:|")
            for name in ("instantiate", "call", "call read_pages", "call write_pages", "free", "total"):
                if name in rows:
                    v = rows[name]
                    lines.append("  | %s | %s | %s | %s |" % (name, v[0], v[1], v[2]))
            lines.append("")
            lines.append("  `instantiate` is rt_instantiate (link WASI, globals, table, memory, the 1 MiB segment: "
                         "a copy-on-write mapping of the module's memory image, src/runtime/rt_image.c); "
                         "`call` is rt_call of the no-op export; `call read_pages` / `call write_pages` "
                         "read / write one byte of each of the 256 4-KiB pages of the data on a fresh "
                         "instance (the page faults the image defers to first touch); `total` adds "
                         "wasi_ctx_new/free and rt_instance_free to the no-op run.")
    # Whole process, through the CLI: `wedge run --invoke noop` on this
    # module minus the same on a module without the data.
    try:
        empty_c = os.path.join(d, "empty.c")
        with open(empty_c, "w") as f:
            f.write('__attribute__((export_name("noop"))) void noop(void) {}\n'
                    'int main(void) { return 0; }\n')
        ew, eso = os.path.join(d, "empty.wasm"), os.path.join(d, "empty.so")
        run([clang, "--target=wasm32-wasi", "-O2", "-o", ew, empty_c])
        run([wedge, "compile", ew, "-o", eso])
        big, small = [], []
        for _ in range(args.cli_iters):
            big.append(run([wedge, "run", "--invoke", "noop", so])[0])
            small.append(run([wedge, "run", "--invoke", "noop", eso])[0])
        mb, ms = statistics.median(big), statistics.median(small)
        lines.append("- whole process (`wedge run --invoke noop`, median of %d): %.0f µs with the 1 MiB module, "
                     "%.0f µs with an empty one, difference %.0f µs"
                     % (args.cli_iters, mb * 1e6, ms * 1e6, (mb - ms) * 1e6))
    except RuntimeError as e:
        lines.append("- whole process: `wedge run --invoke noop` failed: %s" % str(e)[:300])
    return lines


def measure_example_compile(work, wedge):
    """Compile time of the largest example guest (examples/*.c)."""
    if not wedge:
        return ["- not measured: no wedge binary"]
    clang = os.environ.get("WASM_CLANG", "clang")
    d = os.path.join(work, "examples")
    os.makedirs(d, exist_ok=True)
    sizes = {}
    for f in sorted(os.listdir(os.path.join(REPO, "examples"))):
        if f.endswith(".c"):
            w = os.path.join(d, f[:-2] + ".wasm")
            run([clang, "--target=wasm32-wasi", "-O2", "-o", w, os.path.join(REPO, "examples", f)])
            sizes[w] = os.path.getsize(w)
    if not sizes:
        return ["- not measured: no examples"]
    largest = max(sizes, key=sizes.get)
    ts = []
    try:
        for i in range(3):
            cache = tempfile.mkdtemp(prefix="wedge-cache-", dir=work)
            env = dict(os.environ, WEDGE_CACHE_DIR=cache)
            ts.append(run([wedge, "compile", largest, "-o", os.path.join(d, "largest%d.so" % i)], env=env)[0])
    except RuntimeError as e:
        return ["- `wedge compile %s` failed: %s" % (os.path.basename(largest), str(e)[:300])]
    return ["- largest example: `%s` (%d bytes): `wedge compile` median %.3f s (of %d runs; min %.3f s)"
            % (os.path.basename(largest), sizes[largest], statistics.median(ts), len(ts), min(ts))]


def _med(d, row):
    return statistics.median(d[row]) if d.get(row) else None


def render_set(kset, rows, engines, times, cpu, wrong, compile_s):
    """One table: medians, each with its ratio to the faster native build of
    its kernel (gcc -O2 or clang -O2, per kernel), geomeans per column."""
    eng = [e for e in SET_ENGINES[kset] if e in engines]
    nat_rows = {r: (r if kset != "simd128" else row_base(r)) for r in rows}

    def best(d, r):
        vals = [v for v in (_med(d["native"], nat_rows[r]), _med(d["native_clang"], nat_rows[r])) if v]
        return min(vals) if vals else None

    out = ["### %s" % SET_TITLE[kset], ""]
    head = ["kernel"]
    if kset == "simd128":
        head.append("faster native scalar s")
    head += [engines[e].label + (" `-msimd128`" if kset == "simd128" else "") for e in eng]
    if kset == "simd128":
        head.append("wedge, scalar build")
    head.append("wedge compile s")
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|" + "---:|" * (len(head) - 1))
    ratios = {e: [] for e in eng + ["_scalar_wedge"]}
    cratios = {e: [] for e in eng}
    worst = []
    for r in rows:
        b, bc = best(times, r), best(cpu, r)
        row = [row_base(r) if kset != "scalar" else r]
        if kset == "simd128":
            row.append("%.3f" % b if b else "—")
        for e in eng:
            if r in wrong[e]:
                row.append("**WRONG** (%s)" % wrong[e][r])
                continue
            m = _med(times[e], r)
            if m is None:
                row.append("n/a")
                continue
            ratio = m / b if b else None
            if ratio:
                ratios[e].append(ratio)
                if e == "wedge":
                    worst.append((ratio, r))
            c = _med(cpu[e], r)
            if c and bc:
                cratios[e].append(c / bc)
            row.append("%.3f (%.2f×)" % (m, ratio) if ratio else "%.3f" % m)
        if kset == "simd128":
            m = _med(times["wedge"], row_base(r))
            if m and b and row_base(r) not in wrong["wedge"]:
                ratios["_scalar_wedge"].append(m / b)
                row.append("%.2f×" % (m / b))
            else:
                row.append("n/a")
        row.append("%.2f" % compile_s[r] if r in compile_s else "n/a")
        out.append("| " + " | ".join(row) + " |")
    gm = ["**geomean**"] + ([""] if kset == "simd128" else [])
    for e in eng + (["_scalar_wedge"] if kset == "simd128" else []):
        g = geomean(ratios[e])
        n = len(ratios[e])
        gm.append("n/a" if g is None else "**%.2f×**%s" % (g, "" if n == len(rows) else " (%d of %d)" % (n, len(rows))))
    gm.append("")
    out.append("| " + " | ".join(gm) + " |")
    out.append("")
    parts = []
    for e in eng:
        g = geomean(cratios[e])
        if g:
            parts.append("%s %.2f×" % (engines[e].label, g))
    if parts:
        out.append("Geomean of user+sys CPU-time ratios (same runs, against the faster native in CPU time): %s."
                   % "; ".join(parts))
        out.append("")
    if worst:
        worst.sort(reverse=True)
        over = [r for x, r in worst if x > 1.5]
        out.append("wedge: worst %s; over 1.5×: %s." % (
            ", ".join("%s %.2f×" % (row_base(r), x) for x, r in worst[:3]),
            ", ".join(row_base(r) for r in over) if over else "none"))
        out.append("")
    return out


def render(args, rows, engines, times, cpu, wrong, compile_s, inst_lines, comp_lines, build_notes):
    out = []
    out.append("# Compute benchmark")
    out.append("")
    out.append("Generated by `bench/run_compute.py` (see bench/README.md) on %s UTC. Do not edit by hand."
               % time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    out.append("")
    out.append("- machine: %s, %s, %d CPUs; load average %s at the start of the measured rounds, %s at the end "
               "(a load above the CPU count means other work shared the machine: treat ratios as rough)"
               % (platform.machine(), cpu_model(), os.cpu_count() or 0, args.load_start, args.load_end))
    out.append("- native and wasm2c C: `%s` and `%s`; Wasm: `%s`"
               % (tool_version([os.environ.get("CC", "gcc"), "--version"]),
                  tool_version([os.environ.get("NATIVE_CLANG", "clang"), "--version"]),
                  tool_version([os.environ.get("WASM_CLANG", "clang"), "--version"])))
    out.append("- wasm2c: %s; node: %s; wedge: commit %s"
               % (tool_version(["wasm2c", "--version"]), tool_version(["node", "--version"]), git_head()))
    out.append("- command: `bench/run_compute.py %s`" % " ".join(sys.argv[1:]))
    out.append("- %d interleaved repetitions after one warm-up%s; times are wall-clock seconds of the whole "
               "process (start-up included: node compiles the module in-process, wedge runs a .so compiled "
               "beforehand), the median per cell.  Native is built with both gcc -O2 and clang -O2 (x86-64 "
               "baseline: SSE2, no FMA); the factor in parentheses is the median over the median of the "
               "**faster** of the two native builds of that kernel, so a native column shows how far that "
               "compiler is behind the other."
               % (args.reps, " (--quick sizes: NOT a measurement)" if args.quick else ""))
    out.append("")
    for kset in SETS:
        rs = [r for r in rows if row_set(r) == kset]
        if rs:
            out.extend(render_set(kset, rs, engines, times, cpu, wrong, compile_s))
    if build_notes:
        out.append("Not measured:")
        out.append("")
        out.extend("- " + n for n in build_notes)
        out.append("")
    out.append("## Instantiation (1 MiB of data segments)")
    out.append("")
    out.extend(inst_lines)
    out.append("")
    out.append("## Compile time")
    out.append("")
    out.extend(comp_lines)
    out.append("")
    out.append("Compile time of each kernel is in the last column of the tables above "
               "(`wedge compile k.wasm -o k.so`, one run, fresh cache).")
    out.append("")
    return "\n".join(out)


# The "## " sections this script writes; every other one belongs to another
# script (bench/serve/run_serve.py: "## wedge serve", the snapshot
# benchmarks: "## Snapshots ...") and is kept as it is.
OWN_SECTIONS = ("## Instantiation (1 MiB of data segments)", "## Compile time")


def write_doc(path, md):
    """Replace the compute part of the file, keeping the others' sections."""
    keep = []
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        for m in re.finditer(r"^## .*?(?=^## |\Z)", old, re.M | re.S):
            if m.group(0).splitlines()[0].strip() not in OWN_SECTIONS:
                keep.append(m.group(0).rstrip("\n") + "\n")
    with open(path, "w") as f:
        f.write(md.rstrip("\n") + "\n" + "".join("\n" + k for k in keep))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_head():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode().strip() or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("WEDGE_BUILD_DIR", os.path.join(REPO, "build")),
                    help="wedge build directory (wedge binary and libraries); default $WEDGE_BUILD_DIR or ./build")
    ap.add_argument("--wedge", help="wedge binary (default BUILD/wedge)")
    ap.add_argument("--work", help="scratch directory (default BUILD/bench-work)")
    ap.add_argument("--reps", type=int, default=5, help="measured repetitions (default 5)")
    ap.add_argument("--kernels", help="comma-separated subset of bench/kernels")
    ap.add_argument("--sets", default=",".join(SETS),
                    help="which sets of rows: scalar, simd128 (-msimd128 builds), simd (intrinsics); default all")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: check the pipeline, not a measurement")
    ap.add_argument("--no-node", action="store_true", help="skip node")
    ap.add_argument("--no-nl", action="store_true", help="skip node --no-liftoff")
    ap.add_argument("--inst-iters", type=int, default=2000, help="bench_instantiate iterations")
    ap.add_argument("--cli-iters", type=int, default=20, help="wedge run --invoke repetitions")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "benchmarks.md"))
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")

    kernels = sorted(f[:-2] for f in os.listdir(os.path.join(BENCH, "kernels")) if f.endswith(".c"))
    simd_kernels = set(f[:-2] for f in os.listdir(os.path.join(BENCH, "kernels", "simd")) if f.endswith(".c"))
    if args.kernels:
        want = args.kernels.split(",")
        unknown = [k for k in want if k not in kernels]
        if unknown:
            ap.error("unknown kernel(s): %s" % ", ".join(unknown))
        kernels = want
    sets = args.sets.split(",")
    if any(x not in SETS for x in sets):
        ap.error("--sets: a comma-separated subset of %s" % ",".join(SETS))
    rows = [row_id(kset, k) for kset in SETS if kset in sets for k in kernels
            if kset != "simd" or k in simd_kernels]
    build = os.path.abspath(args.build_dir)
    work = os.path.abspath(args.work or os.path.join(build, "bench-work"))
    os.makedirs(work, exist_ok=True)
    args.work_dir = work
    wedge = os.path.abspath(args.wedge) if args.wedge else os.path.join(build, "wedge")
    notes = []
    if not (os.path.isfile(wedge) and os.access(wedge, os.X_OK)):
        notes.append("wedge: no executable at %s" % wedge)
        log("warning: no wedge binary at %s; measuring the other engines only" % wedge)
        wedge = None

    engines, compile_s, _ = build_all(args, rows, work, wedge)
    for e in engines.values():
        for k, why in sorted(e.broken.items()):
            if e.name != "wedge" or wedge:
                notes.append("%s on %s: %s" % (e.label, k, why[:300]))
    if wedge is None:
        engines["wedge"].broken = {}
    args.load_start = "%.1f" % os.getloadavg()[0]
    times, cpu, wrong = measure(args, rows, engines)
    args.load_end = "%.1f" % os.getloadavg()[0]
    inst_lines = measure_instantiate(args, work, wedge, build)
    comp_lines = measure_example_compile(work, wedge)
    md = render(args, rows, engines, times, cpu, wrong, compile_s, inst_lines, comp_lines, notes)
    print(md)
    if not args.no_write:
        write_doc(args.out, md)
        log("wrote %s" % args.out)
    bad = sum(len(w) for w in wrong.values())
    if bad:
        log("!!! %d engine/kernel pair(s) produced output different from native: see **WRONG** cells" % bad)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
