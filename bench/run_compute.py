#!/usr/bin/env python3
"""run_compute.py — the compute benchmark: wedge beside native, wasm2c and node.

Builds every bench/kernels/*.c natively (cc -O2), to wasm32-wasi
(clang --target=wasm32-wasi -O2), ahead of time with `wedge compile`
(timed), and through wabt's wasm2c + cc -O2; then runs all of them in ONE
run, interleaved (every repetition runs every kernel under every engine,
the engine order rotating), checks every output against the native one,
and writes a table of medians and ratios to native to docs/benchmarks.md.
It also measures instantiation of a module with 1 MiB of data segments
and the compile time of the largest example.

Usage: bench/run_compute.py [--build-dir BUILD] [--reps 5] [--kernels a,b]
                            [--quick] [--out docs/benchmarks.md] [--no-write]
See bench/README.md.  Exit status 1 if any engine's output differed from
native (the table is still written, with the wrong cells marked).
"""
import argparse
import math
import os
import platform
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
    "strsearch": ["1", "1"],
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
        self.cmd = {}            # kernel -> argv prefix (kernel args appended)
        self.broken = {}         # kernel -> reason it could not be built/run


def build_all(args, kernels, work, wedge):
    """Build every variant of every kernel; return the engines and compile times."""
    cc = os.environ.get("CC", "cc")
    clang = os.environ.get("WASM_CLANG", "clang")
    engines = {e.name: e for e in [
        Engine("native", "native (cc -O2)"),
        # The Wasm is made by clang, so native clang separates the engine's
        # cost from the difference between the two C compilers.
        Engine("native_clang", "native (clang -O2)"),
        Engine("wedge", "wedge (AOT .so)"),
        Engine("wasm2c", "wasm2c + cc -O2"),
        Engine("node", "node (default)"),
        Engine("node_nl", "node --no-liftoff"),
    ]}
    compile_s = {}
    have_node = shutil.which("node") is not None and not args.no_node
    have_w2c = shutil.which("wasm2c") is not None and os.path.exists(W2C_RT + "/wasm-rt-impl.c")
    cache = tempfile.mkdtemp(prefix="wedge-cache-", dir=work)
    env = dict(os.environ, WEDGE_CACHE_DIR=cache)
    for k in kernels:
        src = os.path.join(BENCH, "kernels", k + ".c")
        d = os.path.join(work, k)
        os.makedirs(d, exist_ok=True)
        nat, wasm = os.path.join(d, k + ".native"), os.path.join(d, k + ".wasm")
        run([cc, "-O2", "-o", nat, src, "-lm"])
        engines["native"].cmd[k] = [nat]
        natc = os.path.join(d, k + ".clang")
        try:
            run([clang, "-O2", "-o", natc, src, "-lm"])
            engines["native_clang"].cmd[k] = [natc]
        except RuntimeError as e:
            engines["native_clang"].broken[k] = str(e)
        run([clang, "--target=wasm32-wasi", "-O2", "-o", wasm, src, "-lm"])
        # wedge: compile ahead of time (timed, cache bypassed), run the .so.
        so = os.path.join(d, k + ".so")
        if wedge:
            try:
                compile_s[k] = run([wedge, "compile", wasm, "-o", so], env=env)[0]
                engines["wedge"].cmd[k] = [wedge, "run", so]
            except RuntimeError as e:
                engines["wedge"].broken[k] = "compile failed: %s" % e
                log("WEDGE COMPILE FAILED for %s: %s" % (k, e))
        else:
            engines["wedge"].broken[k] = "no wedge binary"
        # wasm2c: one module name for all kernels so one shim fits all.
        if have_w2c:
            wd = os.path.join(d, "w2c")
            os.makedirs(wd, exist_ok=True)
            exe = os.path.join(d, k + ".w2c")
            try:
                run(["wasm2c", "-n", "bench", wasm, "-o", os.path.join(wd, "bench.c")])
                run([cc, "-O2", "-w", "-I" + wd, "-I" + W2C_RT, os.path.join(wd, "bench.c"),
                     os.path.join(BENCH, "wasm2c_shim.c"), W2C_RT + "/wasm-rt-impl.c", "-lm", "-o", exe])
                engines["wasm2c"].cmd[k] = [exe]
            except RuntimeError as e:
                engines["wasm2c"].broken[k] = str(e)
        else:
            engines["wasm2c"].broken[k] = "wasm2c not installed"
        runner = os.path.join(BENCH, "node_wasi_run.mjs")
        if have_node:
            engines["node"].cmd[k] = ["node", "--no-warnings", runner, wasm]
            if not args.no_nl:
                engines["node_nl"].cmd[k] = ["node", "--no-warnings", "--no-liftoff", runner, wasm]
        else:
            engines["node"].broken[k] = engines["node_nl"].broken[k] = "node not used"
        log("built %s" % k)
    return engines, compile_s, cache


def measure(args, kernels, engines):
    """Interleaved repetitions; returns times[engine][kernel] and wrong[engine][kernel]."""
    kargs = {k: (QUICK_ARGS.get(k, []) if args.quick else []) for k in kernels}
    expected, times, wrong = {}, {e: {} for e in engines}, {e: {} for e in engines}
    cpu = {e: {} for e in engines}
    order = list(engines)
    # Reference outputs, and one warm-up run of everything (page cache, node's code cache).
    for k in kernels:
        _, rc, out, err = run(engines["native"].cmd[k] + kargs[k], check=False)
        if rc != 0:
            raise RuntimeError("native %s exited %d: %s" % (k, rc, err))
        expected[k] = out
    for rep in range(args.reps + 1):
        rot = order[rep % len(order):] + order[:rep % len(order)]
        for k in kernels:
            for e in rot:
                eng = engines[e]
                if k not in eng.cmd or k in wrong[e]:
                    continue
                dt, rc, out, err = run(eng.cmd[k] + kargs[k], check=False)
                if rc != 0 or out != expected[k]:
                    why = "exit %d" % rc if rc != 0 else "output differs"
                    wrong[e][k] = why
                    log("!!! MISMATCH: %s on %s: %s\n    expected: %r\n    got:      %r\n    stderr:   %s"
                        % (eng.label, k, why, expected[k][:200], out[:200], err.strip()[:400]))
                    continue
                if rep > 0:           # rep 0 is the warm-up
                    times[e].setdefault(k, []).append(dt)
                    cpu[e].setdefault(k, []).append(run.cpu)
        if rep > 0:
            log("repetition %d/%d done" % (rep, args.reps))
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


def render(args, kernels, engines, times, cpu, wrong, compile_s, inst_lines, comp_lines, build_notes):
    cols = [e for e in engines if e != "native"]
    nat = {k: statistics.median(times["native"][k]) for k in kernels if times["native"].get(k)}
    out = []
    out.append("# Compute benchmark")
    out.append("")
    out.append("Generated by `bench/run_compute.py` (see bench/README.md) on %s UTC. Do not edit by hand."
               % time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    out.append("")
    out.append("- machine: %s, %s, %d CPUs; load average %s at the start of the measured rounds, %s at the end "
               "(a load above the CPU count means other work shared the machine: treat ratios as rough)"
               % (platform.machine(), cpu_model(), os.cpu_count() or 0, args.load_start, args.load_end))
    out.append("- native and wasm2c C: `%s`; Wasm: `%s`" % (tool_version([os.environ.get("CC", "cc"), "--version"]),
                                                        tool_version([os.environ.get("WASM_CLANG", "clang"), "--version"])))
    out.append("- wasm2c: %s; node: %s; wedge: commit %s"
               % (tool_version(["wasm2c", "--version"]), tool_version(["node", "--version"]), git_head()))
    out.append("- %d interleaved repetitions after one warm-up%s; times are wall-clock seconds of the whole "
               "process (start-up included: node compiles the module in-process, wedge runs a .so compiled "
               "beforehand), the median per cell; the factor in parentheses is median / native median."
               % (args.reps, " (--quick sizes: NOT a measurement)" if args.quick else ""))
    out.append("")
    out.append("| kernel | %s | %s | wedge compile s |" % (engines["native"].label, " | ".join(engines[e].label for e in cols)))
    out.append("|---|---:|%s---:|" % ("---:|" * len(cols)))
    ratios = {e: [] for e in cols}
    for k in kernels:
        row = ["%s" % k, "%.3f" % nat[k] if k in nat else "—"]
        for e in cols:
            if k in wrong[e]:
                row.append("**WRONG** (%s)" % wrong[e][k])
            elif times[e].get(k):
                m = statistics.median(times[e][k])
                r = m / nat[k] if k in nat else None
                if r:
                    ratios[e].append(r)
                row.append("%.3f (%.2f×)" % (m, r) if r else "%.3f" % m)
            else:
                row.append("n/a")
        row.append("%.2f" % compile_s[k] if k in compile_s else "n/a")
        out.append("| " + " | ".join(row) + " |")
    gm_row = ["**geomean ratio**", "1.00×"]
    for e in cols:
        g = geomean(ratios[e])
        n = len(ratios[e])
        if g is None:
            gm_row.append("n/a")
        else:
            gm_row.append("**%.2f×**%s" % (g, "" if n == len(kernels) else " (%d of %d kernels)" % (n, len(kernels))))
    gm_row.append("")
    out.append("| " + " | ".join(gm_row) + " |")
    out.append("")
    # Against native clang too: the Wasm is made by clang, so this is the
    # engine's own cost without gcc-vs-clang differences.
    cl = {k: statistics.median(times["native_clang"][k]) for k in kernels if times["native_clang"].get(k)}
    if cl:
        parts = []
        for e in cols:
            if e == "native_clang":
                continue
            rs = [statistics.median(times[e][k]) / cl[k] for k in kernels
                  if k in cl and times[e].get(k) and k not in wrong[e]]
            g = geomean(rs)
            if g:
                parts.append("%s %.2f×" % (engines[e].label, g))
        out.append("Geometric mean of wall-clock ratios to **native clang -O2** instead: %s." % "; ".join(parts))
        out.append("")
    # The same runs in CPU time: robust against other load on the machine,
    # but it counts every thread (node compiles on background threads).
    out.append("The same runs in user+sys CPU seconds of the process (all threads; median, ratio to native):")
    out.append("")
    out.append("| kernel | %s | %s |" % (engines["native"].label, " | ".join(engines[e].label for e in cols)))
    out.append("|---|---:|%s" % ("---:|" * len(cols)))
    nat_cpu = {k: statistics.median(cpu["native"][k]) for k in kernels if cpu["native"].get(k)}
    cpu_ratios = {e: [] for e in cols}
    for k in kernels:
        row = [k, "%.3f" % nat_cpu[k] if k in nat_cpu else "—"]
        for e in cols:
            if k in wrong[e]:
                row.append("**WRONG**")
            elif cpu[e].get(k) and nat_cpu.get(k):
                m = statistics.median(cpu[e][k])
                cpu_ratios[e].append(m / nat_cpu[k])
                row.append("%.3f (%.2f×)" % (m, m / nat_cpu[k]))
            else:
                row.append("n/a")
        out.append("| " + " | ".join(row) + " |")
    row = ["**geomean ratio**", "1.00×"]
    for e in cols:
        g = geomean(cpu_ratios[e])
        row.append("**%.2f×**" % g if g else "n/a")
    out.append("| " + " | ".join(row) + " |")
    out.append("")
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
    out.append("Compile time of each kernel is in the last column of the table above "
               "(`wedge compile k.wasm -o k.so`, one run, fresh cache).")
    out.append("")
    return "\n".join(out)


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
    if args.kernels:
        want = args.kernels.split(",")
        unknown = [k for k in want if k not in kernels]
        if unknown:
            ap.error("unknown kernel(s): %s" % ", ".join(unknown))
        kernels = want
    build = os.path.abspath(args.build_dir)
    work = os.path.abspath(args.work or os.path.join(build, "bench-work"))
    os.makedirs(work, exist_ok=True)
    wedge = os.path.abspath(args.wedge) if args.wedge else os.path.join(build, "wedge")
    notes = []
    if not (os.path.isfile(wedge) and os.access(wedge, os.X_OK)):
        notes.append("wedge: no executable at %s" % wedge)
        log("warning: no wedge binary at %s; measuring the other engines only" % wedge)
        wedge = None

    engines, compile_s, _ = build_all(args, kernels, work, wedge)
    for e in engines.values():
        for k, why in sorted(e.broken.items()):
            if e.name != "wedge" or wedge:
                notes.append("%s on %s: %s" % (e.label, k, why[:300]))
    if wedge is None:
        engines["wedge"].broken = {}
    args.load_start = "%.1f" % os.getloadavg()[0]
    times, cpu, wrong = measure(args, kernels, engines)
    args.load_end = "%.1f" % os.getloadavg()[0]
    inst_lines = measure_instantiate(args, work, wedge, build)
    comp_lines = measure_example_compile(work, wedge)
    md = render(args, kernels, engines, times, cpu, wrong, compile_s, inst_lines, comp_lines, notes)
    print(md)
    if not args.no_write:
        with open(args.out, "w") as f:
            f.write(md)
        log("wrote %s" % args.out)
    bad = sum(len(w) for w in wrong.values())
    if bad:
        log("!!! %d engine/kernel pair(s) produced output different from native: see **WRONG** cells" % bad)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
