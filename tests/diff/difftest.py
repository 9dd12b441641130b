#!/usr/bin/env python3
"""difftest.py — differential testing of wedge against V8 (node).

For each of --count modules: random bytes -> binaryen `wasm-opt -ttf`
(translate-to-fuzz, Wasm 2.0 features without reference types; SIMD with
--simd) ->
run in wedge (wedge_diff) and in node (diff_node.mjs) -> compare the two
transcripts: results, logged values, traps and memory hashes.

Comparison rules (docs/reliability.md explains them):
  * NaN compares as "is a NaN": payloads may legally differ.
  * Traps compare by class, because V8 words them differently and merges
    some (e.g. one message for a null entry and a signature mismatch in
    call_indirect; one message for float->int overflow and NaN).
  * A difference inside a call where either engine ran out of stack is an
    implementation limit, not a bug: counted as "inconclusive".
  * A difference in memory, integers or float bits that disappears when
    the module is rerun after binaryen's --denan came from NaN payload or
    sign bits, which Wasm leaves nondeterministic: "inconclusive" too.
  * A mismatch matched by a line of known.txt (reference at fault only)
    is reported but does not fail the run.

On an unexplained mismatch the module is reduced with wasm-reduce (unless
--no-reduce) and written to FINDINGS/NAME.wasm with NAME.txt describing
the difference.  Exit status 1 if any unexplained mismatch.

Also: `difftest.py --check FILE.wasm [--expect CLASS]` runs one module and
exits 1 when it shows a mismatch (of class CLASS if given): the
interestingness test wasm-reduce calls.
"""
import argparse
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Wasm 2.0 without SIMD (--simd adds it).  Reference types are left out: binaryen 108 emits
# typed function references (non-null `(ref $t)`) for ref.func once they
# are on, which are not Wasm 2.0 (wasm-validate rejects most such modules).
TTF_FEATURES = ["--mvp-features", "--enable-mutable-globals", "--enable-bulk-memory",
                "--enable-sign-ext", "--enable-nontrapping-float-to-int", "--enable-multivalue"]

# Trap text -> class.  V8 merges some traps that wedge (like the spec)
# tells apart, so a V8 text maps to a set of classes.
WEDGE_TRAPS = {
    "unreachable": "unreachable",
    "out of bounds memory access": "memory",
    "integer divide by zero": "div0",
    "integer overflow": "overflow",
    "invalid conversion to integer": "conversion",
    "undefined element": "table",
    "uninitialized element": "table",
    "indirect call type mismatch": "table",
    "out of bounds table access": "table",
    "call stack exhausted": "stack",
    "host function failed": "v128-to-js",   # wedge_diff's log-v128 (see there)
}
V8_TRAPS = [
    (r"^unreachable", {"unreachable"}),
    (r"memory access out of bounds|data segment .*out of bounds|out of bounds memory", {"memory"}),
    (r"divide by zero|remainder by zero", {"div0"}),
    (r"divide result unrepresentable", {"overflow"}),
    (r"float unrepresentable in integer range", {"overflow", "conversion"}),
    (r"table index is out of bounds|null function|signature mismatch|element segment|table", {"table"}),
    (r"call stack exhausted", {"stack"}),
    (r"type incompatibility when transforming from/to JS", {"v128-to-js"}),
]


def wedge_trap_classes(text):
    c = WEDGE_TRAPS.get(text)
    return {c} if c else {"other:" + text}


def v8_trap_classes(text):
    for pat, classes in V8_TRAPS:
        if re.search(pat, text):
            return classes
    return {"other:" + text}


def lines_equal(w, n):
    """Does wedge line w match node line n?"""
    if w == n:
        return True
    for prefix in ("trap ", "instantiate trap "):
        if w.startswith(prefix) and n.startswith(prefix):
            return bool(wedge_trap_classes(w[len(prefix):]) & v8_trap_classes(n[len(prefix):]))
    return False


def is_stack(line, engine):
    if not line.startswith("trap "):
        return False
    f = wedge_trap_classes if engine == "wedge" else v8_trap_classes
    return "stack" in f(line[5:])


def diff_class(w, n):
    """A short class for a first difference (kept by the reducer)."""
    kw = w.split(" ")[0] if w else "eof"
    kn = n.split(" ")[0] if n else "eof"
    return kw + "/" + kn


class Outcome:
    def __init__(self, kind, cls="", detail=""):
        self.kind = kind        # "ok", "mismatch", "inconclusive", "skip"
        self.cls = cls
        self.detail = detail


def run(cmd, timeout, env=None):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace"), "timeout"


def compare(args, wasm):
    """Run one module in both engines; an Outcome."""
    nrc, nout, nerr = run([args.node, os.path.join(HERE, "diff_node.mjs"), wasm],
                          args.timeout)
    if nrc is None:
        return Outcome("inconclusive", "timeout/node", "node timed out")
    if nrc != 0:
        return Outcome("skip", "node-error", "node failed: " + nerr.strip()[-300:])
    wcmd = [args.driver, "--bounds", args.cur_bounds, "-O", str(args.opt), wasm]
    wrc, wout, werr = run(wcmd, args.timeout)
    if wrc is None:
        return Outcome("mismatch", "timeout/wedge", "wedge timed out after %ss (node finished)" % args.timeout)
    if wrc != 0:
        what = "signal %d" % -wrc if wrc < 0 else "exit %d" % wrc
        return Outcome("mismatch", "crash/" + what.split()[0],
                       "wedge_diff %s: %s\nstderr: %s\nlast output:\n%s" %
                       (" ".join(wcmd[1:-1]), what, werr.strip()[-500:], "\n".join(wout.splitlines()[-5:])))
    wl, nl = wout.splitlines(), nout.splitlines()
    call = None
    for i in range(max(len(wl), len(nl))):
        w = wl[i] if i < len(wl) else ""
        n = nl[i] if i < len(nl) else ""
        if w.startswith("call "):
            call = (i, w)
        if lines_equal(w, n):
            continue
        # An engine ran out of stack somewhere in this call: a limit, and the
        # states may differ from here on.
        start = call[0] if call else 0
        seg_w = wl[start:i + 20]
        seg_n = nl[start:i + 20]
        if any(is_stack(x, "wedge") for x in seg_w) or any(is_stack(x, "node") for x in seg_n):
            return Outcome("inconclusive", "stack", "stack exhaustion in %s" % (call[1] if call else "?"))
        ctx = "in %s (line %d)" % (call[1] if call else "instantiation", i + 1)
        return Outcome("mismatch", diff_class(w, n),
                       "first difference %s [bounds=%s]:\n  wedge: %s\n  v8:    %s" %
                       (ctx, args.cur_bounds, w or "<end>", n or "<end>"))
    return Outcome("ok")


# Differences that a NaN's payload or sign can cause legally: Wasm lets an
# operation on non-canonical NaNs return any arithmetic NaN, and the bits
# reach memory (f64.store), integers (reinterpret) and copysign.
NAN_SENSITIVE = {"mem/mem", "ret/ret", "log-i32/log-i32", "log-i64/log-i64", "log-f32/log-f32",
                 "log-f64/log-f64"}


def compare_denan(args, wasm):
    """compare(), but a mismatch that may stem from NaN bits is checked
    again on the module with binaryen's --denan (every float result that is
    a NaN becomes 0): if both engines then agree, it was NaN nondeterminism."""
    out = compare(args, wasm)
    if out.kind != "mismatch" or out.cls not in NAN_SENSITIVE or args.no_denan:
        return out
    with tempfile.TemporaryDirectory() as d:
        dn = os.path.join(d, "denan.wasm")
        rc, _, _ = run([args.wasm_opt, wasm, "--denan", "-o", dn] + TTF_FEATURES, 120)
        if rc != 0:
            return out
        again = compare(args, dn)
    if again.kind == "ok":
        return Outcome("inconclusive", "nan-bits", "differs only by NaN bits (agrees after --denan): " +
                       out.detail.splitlines()[0])
    return out


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def load_known(path):
    known = []
    if path and os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pat, _, reason = line.partition(" -- ")
            known.append((re.compile(pat.strip()), reason.strip()))
    return known


def ttf(args, seed, workdir):
    rng = random.Random(seed)
    size = rng.randint(args.min_bytes, args.max_bytes)
    inp = os.path.join(workdir, "in.bin")
    with open(inp, "wb") as f:
        f.write(rng.randbytes(size))
    out = os.path.join(workdir, "m.wasm")
    rc, _, err = run([args.wasm_opt, "-ttf", inp, "-o", out] + TTF_FEATURES, 120)
    if rc != 0:
        return None, "wasm-opt failed: " + err.strip()[-200:]
    return out, None


def reduce(args, wasm, cls, name):
    """wasm-reduce keeping the same class of mismatch; the reduced path."""
    wr = shutil.which("wasm-reduce")
    if not wr:
        return wasm
    d = os.path.join(args.work, "reduce-" + name)
    os.makedirs(d, exist_ok=True)
    orig = os.path.join(d, "orig.wasm")
    shutil.copy(wasm, orig)
    script = os.path.join(d, "interesting.sh")
    # wasm-reduce keeps a candidate whose command has the same exit status
    # and output as the original's, so the check prints nothing.
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexec %s %s --check \"$1\" --expect '%s' --driver %s --bounds %s -O %d "
                "--timeout %d%s >/dev/null 2>&1\n" %
                (sys.executable, os.path.abspath(__file__), cls, args.driver, args.cur_bounds, args.opt,
                 args.timeout, " --simd" if args.simd else ""))
    os.chmod(script, 0o755)
    test = os.path.join(d, "t.wasm")
    work = os.path.join(d, "w.wasm")
    try:
        # -b: where wasm-reduce finds wasm-opt; --extra-flags: the features
        # its wasm-opt runs may use (default: all, which leaves Wasm 2.0).
        bindir = os.path.join(os.path.dirname(shutil.which(args.wasm_opt) or args.wasm_opt), "")
        subprocess.run([wr, orig, "--command=%s %s" % (script, test), "-t", test, "-w", work,
                        "--timeout=%d" % args.timeout, "-b", bindir,
                        "--extra-flags=" + " ".join(TTF_FEATURES)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=args.reduce_time, cwd=d)
    except subprocess.TimeoutExpired:
        pass
    if os.path.exists(work):
        # Confirm the reduced module still shows the mismatch.
        out = compare(args, work)
        if out.kind == "mismatch" and out.cls == cls:
            return work
    return wasm


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--simd", action="store_true", help="let wasm-opt -ttf generate SIMD (--enable-simd)")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="modules generated and compared in parallel")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--driver", default=os.path.join(ROOT, "build", "tests", "diff", "wedge_diff"))
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--wasm-opt", default=shutil.which("wasm-opt") or "wasm-opt")
    ap.add_argument("--bounds", default="mix", choices=["guard", "software", "mix"],
                    help="wedge bounds mode; mix alternates per module")
    ap.add_argument("-O", dest="opt", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--min-bytes", type=int, default=1000)
    ap.add_argument("--max-bytes", type=int, default=20000)
    ap.add_argument("--work", default=os.path.join("/tmp", "wedge-difftest-%d" % os.getpid()))
    ap.add_argument("--findings", default=os.path.join(HERE, "findings"))
    ap.add_argument("--known", default=os.path.join(HERE, "known.txt"))
    ap.add_argument("--no-reduce", action="store_true")
    ap.add_argument("--no-denan", action="store_true", help="count NaN-bit differences as mismatches")
    ap.add_argument("--reduce-time", type=int, default=600)
    ap.add_argument("--max-findings", type=int, default=20, help="stop writing findings after this many")
    ap.add_argument("--check", help="run one module; exit 1 on a mismatch (for wasm-reduce)")
    ap.add_argument("--expect", help="with --check: only this mismatch class counts")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--progress", type=int, default=100, help="print a progress line every N modules (0: never)")
    args = ap.parse_args()
    if args.simd:
        # Before any worker starts: they and the reducer's --check runs
        # (which get --simd too) read the global list.
        TTF_FEATURES.append("--enable-simd")

    args.driver = os.path.abspath(args.driver)     # the reducer runs elsewhere
    if not os.path.exists(args.driver):
        sys.exit("difftest: no driver at %s (build target wedge_diff, or pass --driver)" % args.driver)
    args.cur_bounds = "guard" if args.bounds == "mix" else args.bounds

    if args.check:
        out = compare_denan(args, args.check)
        hit = out.kind == "mismatch" and (args.expect is None or out.cls == args.expect)
        if args.verbose:
            print(out.kind, out.cls, out.detail)
        sys.exit(1 if hit else 0)

    os.makedirs(args.work, exist_ok=True)
    # A long run stopped with SIGTERM still prints its summary.
    signal.signal(signal.SIGTERM, on_sigterm)
    known = load_known(args.known)
    t0 = time.time()
    counts = {"ok": 0, "mismatch": 0, "inconclusive": 0, "skip": 0, "known": 0}
    found = []
    done = 0
    # Modules are generated and compared by --jobs worker processes; the
    # results come back in order and are counted, matched against known.txt
    # and reduced here, one at a time.
    pool = multiprocessing.Pool(args.jobs, initializer=worker_init) if args.jobs > 1 else None
    try:
        results = (pool.imap(generate_and_compare, ((args, i) for i in range(args.count)))
                   if pool else (generate_and_compare((args, i)) for i in range(args.count)))
        for res in results:
            record(args, res, known, counts, found)
            done += 1
            if args.progress and done % args.progress == 0:
                print("progress: %d modules, %d mismatches, %d seconds" %
                      (done, counts["mismatch"], round(time.time() - t0)))
                sys.stdout.flush()
        if pool:
            pool.close()
    except KeyboardInterrupt:
        print("interrupted after %d modules" % done)
        if pool:
            pool.terminate()
    if pool:
        pool.join()
    dt = time.time() - t0
    print("details: %d ok, %d mismatch, %d known, %d inconclusive, %d skipped" %
          (counts["ok"], counts["mismatch"], counts["known"], counts["inconclusive"], counts["skip"]))
    print("%d modules, %d mismatches, %d seconds" % (done, counts["mismatch"], round(dt)))
    sys.exit(1 if counts["mismatch"] else 0)


def worker_init():
    # Ctrl-C reaches the whole process group: the parent alone handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def generate_and_compare(job):
    """Generate module i and compare it, in a work directory of this
    process.  Returns (i, seed, bounds, wasm path or None, Outcome or error
    text); a mismatching module is kept under its own name for reduction."""
    args, i = job
    seed = args.seed * 1000003 + i
    if args.bounds == "mix":
        args.cur_bounds = "guard" if i % 2 == 0 else "software"
    work = os.path.join(args.work, "w%d" % os.getpid())
    os.makedirs(work, exist_ok=True)
    wasm, err = ttf(args, seed, work)
    if wasm is None:
        return i, seed, args.cur_bounds, None, err
    out = compare_denan(args, wasm)
    if out.kind == "mismatch":
        kept = os.path.join(args.work, "module-%d.wasm" % i)
        shutil.copy(wasm, kept)
        wasm = kept
    return i, seed, args.cur_bounds, wasm, out


def record(args, res, known, counts, found):
    """Count and record one outcome; reduce and write a finding."""
    i, seed, args.cur_bounds, wasm, out = res
    if wasm is None:
        counts["skip"] += 1
        print("module %d (seed %d): skipped: %s" % (i, seed, out))
        return
    if out.kind == "mismatch":
        reason = next((r for p, r in known if p.search(out.cls + " " + out.detail)), None)
        if reason is not None:
            counts["known"] += 1
            print("module %d (seed %d): known mismatch (%s): %s" % (i, seed, reason, out.cls))
            return
        counts["mismatch"] += 1
        print("module %d (seed %d): MISMATCH %s\n%s" % (i, seed, out.cls, out.detail))
        found.append((i, seed, out))
        if len(found) <= args.max_findings:
            name = "ttf-s%d-%s-%s" % (seed, args.cur_bounds, re.sub(r"[^a-z0-9]+", "_", out.cls.lower()))
            src = wasm
            if not args.no_reduce:
                src = reduce(args, wasm, out.cls, name)
                if src != wasm:
                    red = compare(args, src)
                    out = red if red.kind == "mismatch" else out
            os.makedirs(args.findings, exist_ok=True)
            shutil.copy(src, os.path.join(args.findings, name + ".wasm"))
            with open(os.path.join(args.findings, name + ".txt"), "w") as f:
                f.write("difftest mismatch, class %s\nmodule: wasm-opt -ttf (seed %d, %s), %s\n%s\n"
                        "reproduce: python3 tests/diff/difftest.py --check tests/diff/findings/%s.wasm "
                        "--bounds %s -v --driver BUILD/tests/diff/wedge_diff\n" %
                        (out.cls, seed, "reduced by wasm-reduce" if src != wasm else "not reduced",
                         "bounds=" + args.cur_bounds, out.detail, name, args.cur_bounds))
                # A small module is easier to read as text.
                w2w = shutil.which("wasm2wat")
                if w2w and os.path.getsize(src) <= 4096:
                    rc, wat, _ = run([w2w, src], 60)
                    if rc == 0:
                        f.write("\nmodule (wasm2wat):\n" + wat)
    else:
        counts[out.kind] += 1
        if out.kind != "ok" or args.verbose:
            print("module %d (seed %d): %s %s %s" % (i, seed, out.kind, out.cls, out.detail))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
