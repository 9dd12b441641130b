#!/usr/bin/env python3
"""Run the WebAssembly spec test suite against wedge.

Converts every SUITE/*.wast with wast2json into the work directory, runs
wedge-spec on each file (one process per file, --jobs at a time), prints a
per-file table, and compares the failures (FILE.wast:LINE keys) with
tests/spec/expected-failures-<bounds>.txt:

  * a failure that is not in the list fails the run (a regression);
  * a listed failure that now passes fails the run too, so the list only
    shrinks: delete its line.

The last line is "N passed, N failed" with the true totals of commands;
the exit status carries the verdict.  See README.md.
"""

import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STATUS_RE = re.compile(r"^(?P<file>[^:\s]+\.wast):(?P<line>\d+): (?P<type>\w+): (?P<rest>.*)$")
SUMMARY_RE = re.compile(r"^(?P<file>[^:\s]+\.wast): (?P<p>\d+) passed, (?P<f>\d+) failed, (?P<s>\d+) skipped$")
SKIPPED_FILES = []   # (prefix, reason) of files not run; each run prints them with their count


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bounds", choices=["guard", "software", "none"], default="guard")
    ap.add_argument("--jobs", type=int, default=2, help="files run at once (default 2)")
    ap.add_argument("--only", nargs="+", metavar="FILE", help="run only these files (i32, i32.wast, ...)")
    ap.add_argument("--update-expected", action="store_true",
                    help="rewrite the expected-failure list from this run (maintainers; never in CI)")
    ap.add_argument("--runner", default=None, help="wedge-spec executable")
    ap.add_argument("--wast2json", default="wast2json")
    ap.add_argument("--suite", default="/work/shared/wasm-spec-testsuite", help="directory of *.wast files")
    ap.add_argument("--work", default=None, help="where the converted .json/.wasm files go")
    ap.add_argument("--expected", default=None,
                    help="expected-failure list (default: by --bounds; 'none': every failure counts)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per runner process before it counts as hung")
    ap.add_argument("--cmd-timeout", type=int, default=60, help="seconds per command before it counts as hung")
    ap.add_argument("--max-reruns", type=int, default=20,
                    help="times a file is run again without a command that crashed or hung")
    ap.add_argument("-O", dest="opt", type=int, default=None, help="cc optimisation level for modules")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failure, listed or not")
    return ap.parse_args()


def wast_files(args):
    names = sorted(f for f in os.listdir(args.suite) if f.endswith(".wast"))
    if args.only:
        wanted = set()
        for o in args.only:
            o = os.path.basename(o)
            wanted.add(o if o.endswith(".wast") else o + ".wast")
        missing = wanted - set(names)
        if missing:
            sys.exit("run_spec: not in the suite: " + ", ".join(sorted(missing)))
        names = [n for n in names if n in wanted]
    run, skipped = [], {}
    for n in names:
        reason = next((r for prefix, r in SKIPPED_FILES if n.startswith(prefix)), None)
        if reason:
            skipped.setdefault(reason, []).append(n)
        else:
            run.append(n)
    return run, skipped


def convert(args, name):
    """wast2json into work/<stem>/ unless the .json is newer than the .wast."""
    stem = name[:-len(".wast")]
    src = os.path.join(args.suite, name)
    outdir = os.path.join(args.work, stem)
    out = os.path.join(outdir, stem + ".json")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out, None
    os.makedirs(outdir, exist_ok=True)
    p = subprocess.run([args.wast2json, src, "-o", out], capture_output=True, text=True)
    if p.returncode != 0:
        if os.path.exists(out):
            os.unlink(out)
        return None, (p.stderr.strip().splitlines() or ["wast2json failed"])[0]
    return out, None


def describe_exit(rc):
    if rc < 0:
        try:
            return "killed by " + signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exited with status %d" % rc


def run_once(args, jpath, skip):
    """One runner process.  Returns (statuses, rc, timed_out, stderr tail):
    statuses[i] is (kind, type, line, message) for command i, kind one of
    ok / fail / skip / notrun, for as many commands as it reported on."""
    cmd = [args.runner, "--bounds", args.bounds, "--verbose", "--cmd-timeout", str(args.cmd_timeout)]
    if args.opt is not None:
        cmd += ["-O", str(args.opt)]
    for i in sorted(skip):
        cmd += ["--skip-command", str(i)]
    cmd.append(jpath)
    timed_out = False
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=args.timeout)
        out, errout, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, errout, rc = e.stdout or b"", e.stderr or b"", None
        timed_out = True
    statuses = []
    summary = False
    for line in out.decode("utf-8", "replace").splitlines():
        if SUMMARY_RE.match(line):
            summary = True
            continue
        m = STATUS_RE.match(line)
        if not m:
            continue
        rest = m.group("rest")
        if rest == "ok":
            kind = "ok"
        elif rest.startswith("skipped ("):
            kind, rest = "skip", rest[len("skipped ("):-1]
        elif rest.startswith("not run (--skip-command)"):
            kind = "notrun"
        else:
            kind = "fail"
        statuses.append((kind, m.group("type"), m.group("line"), rest))
    tail = [l for l in errout.decode("utf-8", "replace").strip().splitlines() if l.strip()][-1:]
    finished = summary and rc in (0, 1)
    return statuses, rc, timed_out, (tail[0][:160] if tail else ""), finished


def run_file(args, name):
    """Returns (name, passed, failed, skipped, failures{key: msg}, skip_reasons{reason: n}).

    A runner that crashes or hangs is run again without the command that
    did it (at most --max-reruns times), so one bad command costs only
    itself; past that limit every unreported command fails."""
    failures, skips = {}, {}
    jpath, err = convert(args, name)
    if jpath is None:
        failures["%s:0" % name] = "wast2json: " + err
        return name, 0, 1, 0, failures, skips
    with open(jpath) as f:
        commands = json.load(f)["commands"]

    final = {}                          # command index -> (kind, type, line, message)
    skip = set()
    for attempt in range(args.max_reruns + 1):
        statuses, rc, timed_out, tail, finished = run_once(args, jpath, skip)
        for i, st in enumerate(statuses):
            if st[0] != "notrun":
                final[i] = st
        if finished:
            break
        # The command after the last reported one crashed; a command that
        # timed out has already printed its own failure line.
        if statuses and statuses[-1][3].startswith("timed out after") and rc == 3:
            bad = len(statuses) - 1
        else:
            bad = len(statuses)
            if bad >= len(commands):
                break
            why = "runner timed out after %ds" % args.timeout if timed_out else "runner " + describe_exit(rc)
            if tail:
                why += " (" + tail + ")"
            c = commands[bad]
            final[bad] = ("fail", c.get("type", "?"), str(c.get("line", 0)), why + " during this command")
        skip.add(bad)
        if attempt == args.max_reruns:
            for i in range(bad + 1, len(commands)):
                if i not in final:
                    c = commands[i]
                    final[i] = ("fail", c.get("type", "?"), str(c.get("line", 0)),
                                "not run: the runner crashed or hung %d times in this file" % (attempt + 1))

    passed = failed = skipped = 0
    for i in range(len(commands)):
        kind, ctype, line, msg = final.get(i, ("fail", commands[i].get("type", "?"),
                                               str(commands[i].get("line", 0)), "never reported"))
        if kind == "ok":
            passed += 1
        elif kind == "skip":
            skipped += 1
            skips[msg] = skips.get(msg, 0) + 1
        else:
            failed += 1
            failures.setdefault("%s:%s" % (name, line), "%s: %s" % (ctype, msg))
    return name, passed, failed, skipped, failures, skips


def read_expected(path):
    keys = {}
    if not os.path.exists(path):
        return keys
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                keys[line] = raw.rstrip("\n")
    return keys


def key_order(k):
    f, _, line = k.rpartition(":")
    return (f, int(line) if line.isdigit() else 0)


def write_expected(path, bounds, failures):
    with open(path, "w") as f:
        f.write("# Spec-suite failures expected in %s bounds mode: FILE.wast:LINE  # what fails.\n" % bounds)
        f.write("# Generated by run_spec.py --update-expected; the list only shrinks: when an\n")
        f.write("# entry passes, run_spec.py fails until its line is deleted.  Diagnoses: TRIAGE.md.\n")
        for k in sorted(failures, key=key_order):
            msg = re.sub(r"(funcref|externref):0x[0-9a-f]+", r"\1:0x...", failures[k])   # no pointers in the list
            f.write("%s  # %s\n" % (k, msg[:150]))


def main():
    args = parse_args()
    if args.runner is None:
        sys.exit("run_spec: --runner PATH/wedge-spec is required")
    if args.work is None:
        args.work = os.path.join(os.getcwd(), "spec-work-" + args.bounds)
    os.makedirs(args.work, exist_ok=True)
    expected_path = args.expected or os.path.join(HERE, "expected-failures-%s.txt" % args.bounds)
    if expected_path == "none":
        expected_path = None
        if args.update_expected:
            sys.exit("run_spec: --update-expected needs a list (not --expected none)")

    files, skipped_files = wast_files(args)
    for reason, names in sorted(skipped_files.items()):
        print("skipping %d files (%s): %s" % (len(names), reason, " ".join(names)))

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(run_file, args, n) for n in files]
        for fut in concurrent.futures.as_completed(futs):
            results.append(fut.result())
    results.sort(key=lambda r: r[0])

    total_p = total_f = total_s = 0
    all_failures, all_skips = {}, {}
    width = max([len(r[0]) for r in results] + [4])
    print("%-*s %8s %8s %8s" % (width, "file", "passed", "failed", "skipped"))
    for name, p, f, s, fails, skips in results:
        print("%-*s %8d %8d %8d" % (width, name, p, f, s))
        total_p, total_f, total_s = total_p + p, total_f + f, total_s + s
        all_failures.update(fails)
        for reason, n in skips.items():
            all_skips[reason] = all_skips.get(reason, 0) + n
    print("%-*s %8d %8d %8d" % (width, "total", total_p, total_f, total_s))
    for reason, n in sorted(all_skips.items(), key=lambda kv: -kv[1]):
        print("skipped %d commands: %s" % (n, reason))

    # Every failure of this run, for reading at leisure.
    failures_path = os.path.join(args.work, "failures.txt")
    with open(failures_path, "w") as f:
        for k in sorted(all_failures, key=key_order):
            f.write("%s: %s\n" % (k, all_failures[k]))

    ran = set(r[0] for r in results)
    expected = read_expected(expected_path) if expected_path else {}
    # With --only, entries of files not run say nothing.
    relevant = {k: v for k, v in expected.items() if k.rpartition(":")[0] in ran}
    if expected_path:
        print("expected-failure list %s: %d entries (%d for the files run)"
              % (os.path.relpath(expected_path), len(expected), len(relevant)))
    else:
        print("no expected-failure list: every failure counts")

    if args.update_expected:
        if args.only:
            keep = {k: v.split("#", 1)[1].strip() if "#" in v else "" for k, v in expected.items()
                    if k.rpartition(":")[0] not in ran}
            keep.update(all_failures)
            write_expected(expected_path, args.bounds, keep)
        else:
            write_expected(expected_path, args.bounds, all_failures)
        print("rewrote %s with %d entries" % (os.path.relpath(expected_path),
                                              len(read_expected(expected_path))))

    unexpected = sorted((k for k in all_failures if k not in relevant), key=key_order)
    fixed = sorted((k for k in relevant if k not in all_failures), key=key_order)
    if args.verbose:
        for k in sorted(all_failures, key=key_order):
            if k in relevant:
                print("expected failure: %s: %s" % (k, all_failures[k]))
    ok = True
    if unexpected and not args.update_expected:
        ok = False
        print("%d failures NOT in the expected list (regressions):" % len(unexpected))
        limit = len(unexpected) if args.verbose else 100
        for k in unexpected[:limit]:
            print("  %s: %s" % (k, all_failures[k]))
        if len(unexpected) > limit:
            print("  ... %d more (all in %s, or use -v)" % (len(unexpected) - limit, failures_path))
    if fixed and not args.update_expected:
        ok = False
        print("%d listed failures now pass: delete their lines from %s:" % (len(fixed), os.path.relpath(expected_path)))
        for k in fixed:
            print("  " + k)
    if ok:
        print("spec %s: failures match the expected list" % args.bounds)
    print("%d passed, %d failed" % (total_p, total_f))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
