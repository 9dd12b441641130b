#!/usr/bin/env python3
"""Run every module of the official spec test suite through wasm_check.

usage: check_spec.py WASM_CHECK TESTSUITE_DIR WORK_DIR [-v]

Each .wast (except simd_*, which wedge does not support yet) is converted
with wast2json.  Expectations:
  module                                   -> must decode and validate
  assert_unlinkable / assert_uninstantiable -> must decode and validate
  assert_malformed (binary)                -> must fail (decode or validate)
  assert_invalid (binary)                  -> must fail validation
Exits non-zero on any mismatch; prints counts and a closing
"N passed, N failed" line.
"""
import json
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    checker, suite, work = sys.argv[1:4]
    verbose = "-v" in sys.argv[4:]
    os.makedirs(work, exist_ok=True)
    jobs = []   # (wasm path, expectation, wast name, line, text)
    skipped = []
    for wast in sorted(os.listdir(suite)):
        if not wast.endswith(".wast"):
            continue
        base = wast[:-5]
        if base.startswith("simd_"):
            skipped.append((wast, "SIMD is not supported yet"))
            continue
        outdir = os.path.join(work, base)
        os.makedirs(outdir, exist_ok=True)
        js = os.path.join(outdir, base + ".json")
        # wabt's default features are Wasm 2.0 (plus SIMD); fall back to
        # --enable-all only for scripts the defaults cannot parse.
        r = subprocess.run(["wast2json", os.path.join(suite, wast), "-o", js],
                           capture_output=True, text=True)
        if r.returncode != 0:
            r = subprocess.run(["wast2json", "--enable-all", os.path.join(suite, wast), "-o", js],
                               capture_output=True, text=True)
        if r.returncode != 0:
            skipped.append((wast, "wast2json failed: " + r.stderr.strip().splitlines()[0]))
            continue
        with open(js) as f:
            spec = json.load(f)
        for cmd in spec["commands"]:
            t = cmd["type"]
            fn = cmd.get("filename")
            if not fn:
                continue
            path = os.path.join(outdir, fn)
            if t == "module":
                exp = "ok"
            elif t in ("assert_unlinkable", "assert_uninstantiable"):
                exp = "ok"
            elif t == "assert_malformed":
                if cmd.get("module_type") != "binary":
                    continue
                exp = "malformed"
            elif t == "assert_invalid":
                if cmd.get("module_type") != "binary":
                    continue
                exp = "invalid"
            else:
                continue
            jobs.append((path, exp, wast, cmd.get("line"), cmd.get("text", "")))

    results = {}
    batch = 200
    for i in range(0, len(jobs), batch):
        chunk = [j[0] for j in jobs[i:i + batch]]
        r = subprocess.run([checker] + chunk, capture_output=True, text=True)
        if r.returncode not in (0, 1):
            print("wasm_check crashed (status %d) on a batch starting at %s" % (r.returncode, chunk[0]))
            print(r.stderr[-2000:])
            return 1
        for line in r.stdout.splitlines():
            path, _, rest = line.partition(": ")
            results[path] = rest

    passed = failed = 0
    invalid_as_malformed = 0
    by_kind = {}
    for path, exp, wast, line, text in jobs:
        got = results.get(path, "NO RESULT")
        if exp == "ok":
            good = got == "OK"
        elif exp == "malformed":
            good = got.startswith("MALFORMED") or got.startswith("INVALID")
        else:
            good = got.startswith("INVALID") or got.startswith("MALFORMED")
            if got.startswith("MALFORMED"):
                invalid_as_malformed += 1
                if verbose:
                    print("note: %s:%s invalid (%s) reported as %s" % (wast, line, text, got))
        k = by_kind.setdefault(exp, [0, 0])
        if good:
            passed += 1
            k[0] += 1
        else:
            failed += 1
            k[1] += 1
            print("MISMATCH %s:%s expected %s (%s), got %s" % (wast, line, exp, text, got))
    for wast, why in skipped:
        print("skipped %s: %s" % (wast, why))
    for exp, (p, f) in sorted(by_kind.items()):
        print("%-10s %5d passed, %d failed" % (exp, p, f))
    print("assert_invalid modules reported as malformed: %d" % invalid_as_malformed)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
