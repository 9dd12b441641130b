#!/usr/bin/env python3
"""file_deps.py — which file of a folder uses symbols defined in which other
file, and whether those uses form a cycle.

    tools/file_deps.py src/runtime                 # edges, then cycles
    tools/file_deps.py src/serve --cycles-only     # only the cycles
    tools/file_deps.py src/compile -I build        # extra include dirs

Each .c/.S file under the folder (recursively) is compiled on its own to a
temporary object (cc -c, warnings off, -I src and -I the folder), and `nm`
lists what it defines and what it leaves undefined.  An edge a -> b means a
references a global symbol (function or variable) that b defines; symbols
defined outside the folder (libc, other components) are ignored.  A cycle
is a set of two or more files that reach each other through such edges
(strongly connected components).  Working on objects rather than on the
text means macros, static functions and comments cannot fool it.

Exit status: 0 no cycle, 1 at least one cycle, 2 a file failed to compile
(its name and the compiler's error are printed).
"""
import argparse
import os
import subprocess
import sys
import tempfile


def compile_and_scan(path, cc, includes, tmp):
    obj = os.path.join(tmp, "o.o")
    cmd = [cc, "-c", "-O0", "-w", "-fPIC", "-o", obj] + ["-I" + i for i in includes] + [path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[:3]
    r = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True)
    defined, undefined = set(), set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind.isupper() or kind in ("V", "W"):
            defined.add(name)   # global (upper case) or weak
    return (defined, undefined), None


def tarjan(nodes, edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    ap = argparse.ArgumentParser(description="file-level symbol dependencies and cycles of a folder")
    ap.add_argument("folder")
    ap.add_argument("-I", dest="includes", action="append", default=[], help="extra include directory")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cycles-only", action="store_true")
    a = ap.parse_args()

    root = os.path.normpath(a.folder)
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(os.path.dirname(here), "src")
    includes = [src, root] + a.includes
    files = []
    for d, _, names in os.walk(root):
        files += [os.path.join(d, n) for n in names if n.endswith((".c", ".S"))]
    files.sort()
    if not files:
        print(f"{root}: no .c or .S files", file=sys.stderr)
        return 2

    scans, failed = {}, False
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            res, err = compile_and_scan(f, a.cc, includes, tmp)
            if res is None:
                print(f"{f}: does not compile on its own:", *err, sep="\n  ", file=sys.stderr)
                failed = True
            else:
                scans[os.path.relpath(f, root)] = res
    if failed:
        return 2

    owner = {}
    for f, (defined, _) in scans.items():
        for s in defined:
            owner.setdefault(s, f)
    edges = {}
    for f, (_, undefined) in scans.items():
        for s in undefined:
            g = owner.get(s)
            if g and g != f:
                edges.setdefault(f, {}).setdefault(g, set()).add(s)

    if not a.cycles_only:
        for f in sorted(edges):
            for g in sorted(edges[f]):
                print(f"{f} -> {g}: {', '.join(sorted(edges[f][g]))}")
    cycles = tarjan(scans.keys(), {f: set(g) for f, g in edges.items()})
    for c in cycles:
        print("CYCLE: " + " <-> ".join(c))
        for f in c:
            for g in sorted(edges.get(f, {})):
                if g in c:
                    print(f"  {f} -> {g}: {', '.join(sorted(edges[f][g]))}")
    if not cycles:
        print(f"no cycle among the {len(scans)} files of {root}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
