#!/usr/bin/env python3
"""Soak run of `wedge serve`: wrk on a mixed route set for a bounded time.

Usage: soak.py --examples DIR [--duration S] [--out FILE] [options] SERVER [ARGS...]
e.g.   tests/soak/soak.py --examples build/examples/http --duration 600 \\
           --out soak.md build/wedge serve

The server gets a configuration of the example functions in DIR:
  /hello   healthy                          -> 200 (or 429 from admission)
  /trap    `unreachable`                    -> 500
  /slow    endless loop, timeout-us 300 ms  -> 504
  /heavy   ~2M hash rounds with a 2 ms deadline: its admission share is a
           whole worker, so two at once exceed 2 workers x 0.9 -> 429
  /echo    1 KiB POST body echoed           -> 200
  /wagi    WAGI headers from the guest       -> 201
  /fib     fib(20)                          -> 200
and three wrk processes (keep-alive, tests/soak/mixed.lua counting answers
per route and status) run at once for --duration seconds:
  healthy  /hello alone, so its statuses are asserted exactly
  mixed    trap, echo, wagi, fib in turn
  slow     slow and heavy in turn: wrk's timeouts (slower than --wrk-timeout),
           if any, are only accepted from this one
  churn    /hello with "Connection: close", one connection at a time with a
           --churn-delay-ms pause: a new connection per request
Every --interval seconds the server's VmRSS (/proc/PID/status) and open
descriptors (/proc/PID/fd) are sampled.

PASS when: every healthy answer is 200 or 429 and no healthy request saw a
socket error or timeout; every route answers only its expected statuses
(each may also be 429: admission is global) and the heavy route got at least
one 429; the mixed and churn wrks saw no socket error or timeout, the slow
wrk no connect/read/write error; the server still answers /hello afterwards, its
descriptors are back to the pre-load count, SIGTERM exits 0 and its stderr
holds no AddressSanitizer/UndefinedBehaviorSanitizer/LeakSanitizer report;
RSS and descriptors are flat: the median of the last third of the samples
after warm-up is at most --rss-slack-mib / --fd-slack above the median of
the first third (RSS only reported, not judged, in ASan builds: its
quarantine keeps freed memory).  The table goes to stdout and --out.
Exit 0 pass, 1 fail, 77 (CTest: skipped) without wrk or the examples.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "serve"))
import serve_util      # noqa: E402  (how the serve tests start and stop their server)
from serve_util import HOST, SAN_MARKERS, describe_status      # noqa: E402
LUA = os.path.join(HERE, "mixed.lua")
LOG_KEEP = 200          # first and last server log lines kept for the report

# name -> (wrk route argument, statuses it may answer besides 429)
ROUTES = {
    "hello": ("hello=GET:/hello", {200}),
    "trap": ("trap=GET:/trap", {500}),
    "slow": ("slow=GET:/slow", {504}),
    "heavy": ("heavy=GET:/heavy?n=2", {200}),
    "echo": ("echo=POST:/echo:1024", {200}),
    "wagi": ("wagi=GET:/wagi", {201}),
    "fib": ("fib=GET:/fib?n=20", {200}),
    "close": ("close=GET:/hello", {200}),
}
# The slow wrk carries the two routes whose answers may take long: /slow by
# design, and /heavy because its 2 ms deadline is always missed, and EDF
# runs a job past its deadline after every job that can still make one:
# while /hello keeps the workers busy, an admitted /heavy waits (seconds).
# The churn wrk asks for "Connection: close": a new connection per request
# (throttled by a delay so TIME_WAIT tuples cannot exhaust local ports)
# keeps the accept and close paths busy, where a descriptor leak would be.
GROUPS = {"healthy": ["hello"], "mixed": ["trap", "echo", "wagi", "fib"], "slow": ["slow", "heavy"],
          "churn": ["close"]}


def server_config(examples, port, slow_timeout_us):
    ex = lambda n: os.path.join(examples, n + ".wasm")      # noqa: E731
    routes = [
        {"route": "/hello", "path": ex("hello"), "relative-deadline-us": 50000},
        {"route": "/trap", "path": ex("trap"), "relative-deadline-us": 50000},
        # Deadline well past the timeout: a run that reaches the timeout has
        # a share of timeout/deadline = 0.3 of a worker, so the endless loops
        # do not take the whole admission budget from the other routes.
        {"route": "/slow", "path": ex("loop"), "relative-deadline-us": slow_timeout_us * 10 // 3,
         "expected-execution-us": slow_timeout_us, "timeout-us": slow_timeout_us},
        # Expected execution equal to the deadline (more is refused), and
        # ~2M rounds take longer than 2 ms: a share of one whole worker.
        {"route": "/heavy", "path": ex("cpu"), "relative-deadline-us": 2000, "expected-execution-us": 2000},
        {"route": "/echo", "path": ex("echo"), "relative-deadline-us": 50000,
         "http-resp-content-type": "application/octet-stream"},
        {"route": "/wagi", "path": ex("wagi"), "relative-deadline-us": 50000, "wagi": True},
        {"route": "/fib", "path": ex("fib"), "relative-deadline-us": 100000},
    ]
    return [{"name": "soak", "port": port, "routes": routes}]


def fetch(url, timeout=60, data=None):
    try:
        with urllib.request.urlopen(url, timeout=timeout, data=data) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def proc_sample(pid):
    """(VmRSS KiB, open descriptors) of a live process, None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None


class ServerLog:
    """Reads the server's stderr+stdout as it comes: a 10-minute soak at
    thousands of traps per second would be hundreds of MB of log lines, so
    only the first and last lines, counts of the per-request lines and every
    sanitizer report in full are kept."""

    def __init__(self, stream):
        self.stream = stream
        self.head, self.tail, self.san = [], [], []
        self.counts = {"trap": 0, "timeout": 0, "other": 0}
        self.lines = 0
        self.mu = threading.Lock()
        self.in_report = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        for raw in self.stream:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.mu:
                self.lines += 1
                if len(self.head) < LOG_KEEP:
                    self.head.append(line)
                else:
                    self.tail.append(line)
                    if len(self.tail) > LOG_KEEP:
                        del self.tail[0]
                if any(m in line for m in SAN_MARKERS):
                    self.in_report = 400        # keep the report's stack traces
                if self.in_report:
                    self.in_report -= 1
                    if len(self.san) < 20000:
                        self.san.append(line)
                if "wasm trap:" in line:
                    self.counts["trap"] += 1
                elif "killed after its timeout" in line:
                    self.counts["timeout"] += 1
                else:
                    self.counts["other"] += 1

    def text(self):
        with self.mu:
            return "\n".join(self.head + self.tail)

    def finish(self, timeout=30):
        self.t.join(timeout)


def start_server(cmd, args, env, tmp, slow_timeout_us):
    """Starts the server on a free port (serve_util.start: a fresh one if
    it was taken before the server could bind it); its output goes through
    a pipe to a ServerLog.  (proc, log, port, state)."""
    cfg = os.path.join(tmp, "serve.json")
    cur = {}

    def launch(port, _admin):
        with open(cfg, "w") as f:
            json.dump(server_config(args.examples, port, slow_timeout_us), f, indent=1)
        cur["proc"] = subprocess.Popen(cmd + ["--workers", str(args.workers), "--host", HOST, "--log-level", "info",
                                              cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        cur["log"] = ServerLog(cur["proc"].stdout)
        return cur["proc"]

    def log_text():
        if cur["proc"].poll() is not None:
            cur["log"].finish()         # all it printed before it exited
        return cur["log"].text()

    proc, port, _, state = serve_util.start(launch, log_text)
    return proc, cur["log"], port, state


def run_wrk(group, port, args):
    conns = args.connections[group]
    # One connection per thread when a wrk serves several routes: that is
    # what lets mixed.lua pair each answer with its request (see there).
    threads = conns if len(GROUPS[group]) > 1 else min(conns, 2)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{args.duration}s", f"--timeout", f"{args.wrk_timeout}s",
           "-s", LUA, f"http://{HOST}:{port}", "--"] + [ROUTES[r][0] for r in GROUPS[group]]
    env = dict(os.environ)
    env.pop("SOAK_DELAY_MS", None)
    if group == "churn":
        cmd.append("--close")
        env["SOAK_DELAY_MS"] = str(args.churn_delay_ms)
    return cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def parse_wrk(out):
    for line in out.splitlines():
        if line.startswith("SOAK-JSON "):
            return json.loads(line[len("SOAK-JSON "):])
    return None


def median(xs):
    return statistics.median(xs) if xs else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", required=True, help="directory with hello.wasm, trap.wasm, loop.wasm, ... "
                    "(BUILD/examples/http)")
    ap.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between RSS/fd samples (default 5)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds of load before samples count for flatness (default 20%% of --duration, 5..60)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--healthy-connections", type=int, default=8)
    ap.add_argument("--mixed-connections", type=int, default=4, help="also its wrk threads (one connection each)")
    ap.add_argument("--slow-connections", type=int, default=3, help="also its wrk threads")
    ap.add_argument("--churn-connections", type=int, default=1)
    ap.add_argument("--churn-delay-ms", type=int, default=5, help="pause before each churn request (default 5)")
    ap.add_argument("--slow-timeout-ms", type=int, default=300, help="timeout-us of /slow, in ms (default 300)")
    ap.add_argument("--wrk-timeout", type=int, default=10, help="wrk's per-request timeout in s (default 10)")
    ap.add_argument("--rss-slack-mib", type=float, default=4.0)
    ap.add_argument("--fd-slack", type=int, default=4)
    ap.add_argument("--out", help="also write the report (markdown) to this file")
    ap.add_argument("server", nargs=argparse.REMAINDER, help="server command, e.g. build/wedge serve")
    args = ap.parse_args()
    if not args.server:
        ap.error("the server command is missing (e.g. build/wedge serve)")
    args.examples = os.path.abspath(args.examples)
    args.connections = {"healthy": args.healthy_connections, "mixed": args.mixed_connections,
                        "slow": args.slow_connections, "churn": args.churn_connections}
    warmup = args.warmup if args.warmup is not None else min(60.0, max(5.0, args.duration * 0.2))
    if not shutil.which("wrk"):
        print("wrk not found (Debian package wrk): skipped")
        sys.exit(77)
    missing = [n for n in ("hello", "trap", "loop", "cpu", "echo", "wagi", "fib")
               if not os.path.exists(os.path.join(args.examples, n + ".wasm"))]
    if missing:
        print(f"examples missing in {args.examples} ({', '.join(missing)}): skipped")
        sys.exit(77)
    cmd = args.server
    exe = shutil.which(cmd[0]) or cmd[0]
    with open(exe, "rb") as f:
        asan = b"AddressSanitizer" in f.read()

    tmp = tempfile.mkdtemp(prefix="wedge-soak-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    if asan and "detect_leaks" not in env.get("ASAN_OPTIONS", ""):
        # Leaks at exit are part of the verdict: make sure LSan runs.
        env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS", ""), "detect_leaks=1") if x)
    failures = []
    notes = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)
        return cond

    proc, log, port, state = start_server(cmd, args, env, tmp, args.slow_timeout_ms * 1000)
    results, samples, wrks = {}, [], {}
    idle_before = idle_after = None
    rc = "not stopped"
    alive_after = None
    t_load = 0.0
    try:
        if not check(state == "listening", f"server listening on {HOST}:{port} ({state})"):
            raise RuntimeError("no server")
        url = lambda p: f"http://{HOST}:{port}{p}"      # noqa: E731
        # Every route once (first-use costs), then the idle baseline.
        for r in ("/hello", "/trap", "/heavy?n=2", "/wagi", "/fib?n=20", "/slow"):
            fetch(url(r))
        fetch(url("/echo"), data=b"x" * 1024)
        time.sleep(0.5)
        idle_before = proc_sample(proc.pid)
        print(f"idle before load: RSS {idle_before[0]} KiB, {idle_before[1]} fds", flush=True)

        wrks = {g: run_wrk(g, port, args) for g in GROUPS}
        for g, (c, _) in wrks.items():
            print(f"{g}: {'SOAK_DELAY_MS=' + str(args.churn_delay_ms) + ' ' if g == 'churn' else ''}{' '.join(c)}", flush=True)
        t0 = time.monotonic()
        next_t = t0 + args.interval
        while any(p.poll() is None for _, p in wrks.values()):
            now = time.monotonic()
            if now >= next_t:
                s = proc_sample(proc.pid)
                if s is None:
                    break
                samples.append((now - t0, s[0], s[1]))
                next_t += args.interval
            if proc.poll() is not None or now > t0 + args.duration + 120:
                break
            time.sleep(min(0.2, max(0.0, next_t - now)))
        t_load = time.monotonic() - t0
        # A server that died leaves wrk running to the end of --duration:
        # SIGINT makes it stop now and still print its summary.
        if proc.poll() is not None:
            for _, p in wrks.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
        for g, (c, p) in wrks.items():
            try:
                out, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            results[g] = parse_wrk(out)
            if results[g] is None:
                print(f"{g} wrk gave no summary (exit {p.returncode}):\n{out}\n{err}", flush=True)
        check(proc.poll() is None, f"server alive at the end of the load ({describe_status(proc.poll())})"
              if proc.poll() is not None else "server alive at the end of the load")
        # Runs of /slow still in flight end by their timeout; connections
        # wrk left are closed by now.  Then the server must be back at its
        # idle descriptor count: nothing held per dead connection.
        time.sleep(args.slow_timeout_ms / 1000 + 1.0)
        try:
            st, body = fetch(url("/hello"), timeout=30)
        except OSError as e:
            st, body = repr(e), b""
        alive_after = st
        check(st == 200 and b"Hello" in body, f"/hello after the load answers 200 (got {st})")
        time.sleep(0.5)
        idle_after = proc_sample(proc.pid)
    except RuntimeError:
        pass
    finally:
        if proc.poll() is None:
            rc = serve_util.stop(proc, 30)
            check(rc == 0, f"SIGTERM: server exits 0 ({describe_status(rc)})")
        else:
            rc = proc.returncode
        log.finish()
        for _, p in wrks.values():
            if p.poll() is None:
                p.kill()

    # ---- verdict ---------------------------------------------------------
    for g, routes in (GROUPS.items() if state == "listening" else ()):
        r = results.get(g)
        if not check(r is not None, f"{g} wrk summary"):
            continue
        counts = {}
        for k, n in r["counts"].items():
            name, status = k.split(" ")
            counts.setdefault(name, {})[int(status)] = n
        r["by_route"] = counts
        stray = {n: c for n, c in counts.items() if n not in routes}
        check(not stray, f"{g} wrk: every answer paired with a route of its own ({stray or 'yes'})")
        e = r["errors"]
        sock = e.get("connect", 0) + e.get("read", 0) + e.get("write", 0)
        if g == "slow":
            check(sock == 0, f"slow wrk: no connect/read/write errors ({e})")
            if e.get("timeout", 0):
                notes.append(f"slow wrk (/slow, /heavy): {e['timeout']} answers slower than wrk's "
                         f"{args.wrk_timeout} s timeout (accepted there)")
        else:
            check(sock == 0 and e.get("timeout", 0) == 0, f"{g} wrk: no socket errors or timeouts ({e})")
        for name in routes:
            got = counts.get(name, {})
            ok_set = ROUTES[name][1] | {429}
            bad = {s: n for s, n in got.items() if s not in ok_set}
            main_status = next(iter(ROUTES[name][1]))
            check(not bad and got.get(main_status, 0) > 0,
                  f"/{name}: only {sorted(ok_set)}, some {main_status} (got {dict(sorted(got.items()))})")
    heavy = (results.get("slow") or {}).get("by_route", {}).get("heavy", {})
    if state == "listening":
        check(heavy.get(429, 0) > 0, f"/heavy: admission control rejected some with 429 ({heavy.get(429, 0)})")

    loaded = [s for s in samples if s[0] >= warmup]
    third = len(loaded) // 3
    flat = {}
    if state == "listening" and check(third >= 2, f"at least 6 samples after the {warmup:.0f} s warm-up ({len(loaded)})"):
        first, last = loaded[:third], loaded[-third:]
        for key, i, slack, unit in (("rss", 1, args.rss_slack_mib * 1024, "KiB"), ("fds", 2, args.fd_slack, "")):
            a, b = median([s[i] for s in first]), median([s[i] for s in last])
            flat[key] = (a, b, b - a <= slack)
            what = (f"{key} flat: median of the last third {b:.0f}{unit} <= first third {a:.0f}{unit} "
                    f"+ {slack:.0f}{unit}")
            if key == "rss" and asan:
                print(f"skip {what}: ASan build (its quarantine keeps freed memory)")
                notes.append("RSS not judged: ASan build")
            else:
                check(flat[key][2], what)
    if idle_before and idle_after:
        check(idle_after[1] <= idle_before[1] + args.fd_slack,
              f"descriptors back to the idle count after the load: {idle_after[1]} <= {idle_before[1]} "
              f"+ {args.fd_slack}")
    san = "\n".join(log.san)
    check(not log.san, "no sanitizer report in the server's stderr")

    report = render(args, cmd, asan, warmup, t_load, results, samples, flat, idle_before, idle_after,
                    rc, alive_after, log, failures, notes)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
    if failures:
        if san:
            print("sanitizer report(s):\n" + san[:200000])
        print(f"server log ({log.lines} lines; first and last {LOG_KEEP}):\n" + log.text())
        print(f"{len(failures)} failure(s)")
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failures else 0)


def render(args, cmd, asan, warmup, t_load, results, samples, flat, idle_before, idle_after, rc, alive_after,
           log, failures, notes):
    L = []
    L.append(f"## wedge serve soak: {'PASS' if not failures else 'FAIL'}\n")
    L.append(f"* command: `{' '.join([os.path.relpath(sys.argv[0])] + sys.argv[1:])}`")
    L.append(f"* server: `{' '.join(cmd)}` ({'ASan+UBSan build' if asan else 'no sanitizers'}), "
             f"{args.workers} workers, load {t_load:.0f} s (asked {args.duration} s), "
             f"samples every {args.interval:g} s, warm-up {warmup:.0f} s")
    L.append(f"* server log: {log.lines} lines, {log.counts['trap']} trap lines, "
             f"{log.counts['timeout']} timeout lines; exit on SIGTERM: {describe_status(rc) if rc != 'not stopped' else rc}"
             f"; /hello after the load: {alive_after}")
    L.append("")
    L.append("| wrk | connections | requests | req/s | p50 ms | p99 ms | max ms | connect | read | write | timeout |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    total = 0
    for g in GROUPS:
        r = results.get(g)
        if not r:
            L.append(f"| {g} | {args.connections[g]} | (no summary) | | | | | | | | |")
            continue
        total += r["requests"]
        e, lat = r["errors"], r["latency_us"]
        L.append(f"| {g} | {args.connections[g]} | {r['requests']} | {r['requests'] / (r['duration_us'] / 1e6):.0f} | "
                 f"{lat['p50'] / 1000:.1f} | {lat['p99'] / 1000:.1f} | {lat['max'] / 1000:.1f} | "
                 f"{e.get('connect', 0)} | {e.get('read', 0)} | {e.get('write', 0)} | {e.get('timeout', 0)} |")
    L.append(f"\nTotal requests: {total}.\n")
    L.append("| route | expected | answers by status |")
    L.append("| --- | --- | --- |")
    for g, routes in GROUPS.items():
        by = (results.get(g) or {}).get("by_route", {})
        for name in routes:
            got = by.get(name, {})
            exp = "/".join(str(s) for s in sorted(ROUTES[name][1] | {429}))
            L.append(f"| /{name} | {exp} | " + (", ".join(f"{s}: {n}" for s, n in sorted(got.items())) or "none")
                     + " |")
    by_status = {}
    for g in GROUPS:
        for got in (results.get(g) or {}).get("by_route", {}).values():
            for st, n in got.items():
                by_status[st] = by_status.get(st, 0) + n
    classes = {}
    for st, n in sorted(by_status.items()):
        classes.setdefault(f"{st // 100}xx", []).append((st, n))
    L.append("\nAnswers by class: " + "; ".join(
        f"{c} {sum(n for _, n in v)} (" + ", ".join(f"{st}: {n}" for st, n in v) + ")"
        for c, v in sorted(classes.items())) + ".")
    L.append("")
    if samples:
        rss = [s[1] for s in samples]
        fds = [s[2] for s in samples]
        L.append(f"RSS KiB: idle before {idle_before[0] if idle_before else '?'}, first sample {rss[0]}, "
                 f"last {rss[-1]}, max {max(rss)}, idle after {idle_after[0] if idle_after else '?'}.  "
                 f"Descriptors: idle before {idle_before[1] if idle_before else '?'}, first {fds[0]}, "
                 f"last {fds[-1]}, max {max(fds)}, idle after {idle_after[1] if idle_after else '?'}.")
        for key, unit in (("rss", "KiB"), ("fds", "")):
            if key in flat:
                a, b, ok = flat[key]
                L.append(f"Flat {key} (median of first vs last third after warm-up): {a:.0f} -> {b:.0f} {unit}: "
                         f"{'flat' if ok else 'GROWS'}{' (not judged: ASan)' if key == 'rss' and asan else ''}.")
        L.append("")
        L.append("| t s | RSS KiB | fds |")
        L.append("| --- | --- | --- |")
        for t, r_, f_ in samples:
            L.append(f"| {t:.0f}{'' if t >= warmup else ' (warm-up)'} | {r_} | {f_} |")
        L.append("")
    for n in notes:
        L.append(f"* note: {n}")
    if failures:
        L.append("\nFailures:\n")
        for f in failures:
            L.append(f"* {f}")
    L.append(f"\nVerdict: {'PASS' if not failures else 'FAIL'}\n")
    return "\n".join(L)


if __name__ == "__main__":
    main()
