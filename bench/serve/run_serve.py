#!/usr/bin/env python3
"""wedge serve benchmarks, in one run (about 2 minutes):

  bench/serve/run_serve.py [--build-dir build] [--workers N] [--no-write]

(a) requests/s, p50/p99/p99.9 latency and server CPU time per request of
    the hello function with wrk (keep-alive) beside nginx returning a
    static 'hello' (worker_processes = wedge's workers, default 1), on the
    same machine in the same run, and the ratios; servers pinned to CPU 0
    and load generators to CPU 1 with taskset (when there are 2+ CPUs);
    `--baseline-build DIR` adds a second wedge (e.g. main's build) to the
    same alternating rounds;
(b) the same with `hey -disable-keepalive` (a new connection per request);
(b') a 4 KiB POST with wrk keep-alive: wedge's /echo returns the body,
    nginx answers a 4 KiB static body (nginx has no stock echo);
(c) sandbox instantiation + trivial call, median microseconds
    (bench_sandbox.c, built here with cc against the build's archives),
    pooled and not pooled, and for hello's whole _start;
(d) 2x overload of a CPU-bound route on one worker, open loop: the share
    of admitted requests that meet their deadline with EDF + admission
    control vs FIFO without admission;
(e) resident memory per idle pooled sandbox (bench_sandbox --idle).

Writes the "## wedge serve" section of docs/benchmarks.md (only that
section; the rest of the file is left as it is) and prints it.  All
traffic goes to 127.0.0.1, bounded in count and time.  A benchmark: it
prints numbers and asserts nothing about them (exit 1 only if a tool or
server fails).
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROUNDS = 3          # alternating rounds per server and load generator
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "serve"))
import serve_util      # noqa: E402  (how the serve tests start and stop their server)
from serve_util import HOST, free_port, read_until_close, rss_kib      # noqa: E402


def wait_port(port, proc, what, limit=120):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"{what} exited early")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not start listening")


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


SERVER_CPU, CLIENT_CPU = ("0", "1") if (os.cpu_count() or 1) >= 2 else (None, None)


def pin(cpu):
    """The taskset prefix for a command (none on a single CPU)."""
    return ["taskset", "-c", cpu] if cpu else []


def cpu_ticks(pid):
    """User + system CPU time of a process and its direct children (nginx's
    workers), in clock ticks, from /proc/PID/stat."""
    def one(p):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])       # utime, stime (fields 14, 15)
        except OSError:
            return 0
    kids = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
    except OSError:
        pass
    return one(pid) + sum(one(k) for k in kids)


TICK = os.sysconf("SC_CLK_TCK")


def stop(proc):
    if proc:
        serve_util.stop(proc, 15)


# ---- servers -------------------------------------------------------------------------------


class Wedge:
    def __init__(self, wedge, tmp, routes, workers, extra=(), name="serve", cpu=None):
        env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
        # Log level info (the default), not error: the start waits for the
        # server's own "listening on" lines.  hello and cpu write no stderr
        # and exit 0, so nothing is logged per request but the rare
        # request killed at its timeout in the overload runs.
        self.srv = serve_util.Server([*pin(cpu), wedge, "serve", "--workers", str(workers), *extra],
                                     lambda port: [{"name": "bench", "port": port, "routes": routes}],
                                     tmp, env, admin=True, timeout=300, name=name)
        self.proc, self.port, self.admin = self.srv.proc, self.srv.port, self.srv.admin
        if self.srv.state != "listening":
            stop(self.proc)
            sys.exit(f"wedge serve did not start ({self.srv.state}):\n{self.srv.log_text()[-4000:]}")

    def metric(self, name):
        """Sum of a /metrics counter over its routes."""
        with socket.create_connection((HOST, self.admin), timeout=10) as c:
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data, how = read_until_close(c, 10)
        if how != "eof":
            raise RuntimeError(f"/metrics: connection ended by {how}")
        return sum(int(v) for v in re.findall(rf"^{name}{{[^}}]*}} (\d+)$", data.decode(), re.M))

    def close(self):
        stop(self.proc)


class Nginx:
    def __init__(self, tmp, workers, cpu=None):
        self.port = free_port()
        d = os.path.join(tmp, "nginx")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        with open(os.path.join(d, "echo"), "w") as f:
            f.write("x" * 4096)
        for x in (tmp, d):          # nginx's workers may run as another user (root starts them as nobody)
            os.chmod(x, 0o755)
        with open(conf, "w") as f:
            f.write(f"""worker_processes {workers};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  open_file_cache max=16 inactive=60s;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen {HOST}:{self.port};
    location / {{ default_type text/plain; return 200 'hello\\n'; }}
    # POST to a static file is 405; error_page turns it into the file (4 KiB)
    location = /echo {{ root {d}; default_type application/octet-stream; error_page 405 =200 $uri; }}
  }}
}}
""")
        self.proc = subprocess.Popen([*pin(cpu), shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-p", d,
                                      "-e", os.path.join(d, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "nginx")

    def close(self):
        stop(self.proc)


# ---- load generators ------------------------------------------------------------------------


def to_ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


WRK_LUA = """
%s
done = function(summary, latency, requests)
  for _, p in ipairs({50, 99, 99.9}) do
    io.write(string.format("PCT %%g %%d\\n", p, latency:percentile(p)))
  end
end
"""


def wrk(url, seconds, conns, tmp, body=None):
    """wrk -t1 pinned to the client CPU; latency percentiles (µs) from a
    done() script, since --latency stops at p99."""
    script = os.path.join(tmp, "wrk-post.lua" if body else "wrk-get.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % (f'wrk.method = "POST"\nwrk.body = string.rep("x", {body})' if body else ""))
    out = run([*pin(CLIENT_CPU), "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-s", script, url],
              timeout=seconds + 30)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    lat = {p: int(v) / 1e3 for p, v in re.findall(r"^PCT ([\d.]+) (\d+)$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "n": n, "p50": lat["50"], "p99": lat["99"], "p999": lat["99.9"],
            "bad": int(non2xx.group(1)) if non2xx else 0, "errors": errs.group(0) if errs else ""}


def hey(url, n, conns, tmp):
    """hey -disable-keepalive pinned to the client CPU; percentiles from its
    per-request CSV (its summary stops at p99)."""
    out = run([*pin(CLIENT_CPU), "hey", "-n", str(n), "-c", str(conns), "-disable-keepalive", "-o", "csv", url],
              timeout=120)
    rows = [line.split(",") for line in out.splitlines()[1:] if line.count(",") >= 7]
    lats = sorted(float(r[0]) * 1e3 for r in rows)
    codes = [r[6] for r in rows]
    offsets = sorted(float(r[7]) + float(r[0]) for r in rows)
    span = offsets[-1] if offsets else 1.0

    def pct(q):
        return lats[min(len(lats) - 1, int(len(lats) * q / 100.0))] if lats else 0.0
    return {"rps": len(rows) / span, "n": len(rows), "p50": pct(50), "p99": pct(99), "p999": pct(99.9),
            "bad": sum(1 for c in codes if c != "200"), "errors": ""}


async def one_request(port, path, timeout):
    t0 = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
        w.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        await w.drain()
        data = await asyncio.wait_for(r.read(), timeout)
        w.close()
        m = re.match(rb"HTTP/1\.1 (\d{3})", data)
        return (int(m.group(1)) if m else 0), time.monotonic() - t0
    except (OSError, asyncio.TimeoutError):
        return 0, time.monotonic() - t0


async def open_loop(port, path, rate, seconds, timeout):
    """Requests at a constant rate regardless of responses (open loop)."""
    tasks = []
    start = time.monotonic()
    n = int(rate * seconds)
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_request(port, path, timeout)))
    return await asyncio.gather(*tasks)


async def _seq(port, path, n):
    return [await one_request(port, path, 30) for _ in range(n)]


# ---- the parts --------------------------------------------------------------------------------


LOADS = (("wrk", "wrk -t1 -c32, keep-alive, GET"),
         ("hey", "hey -c16 -n3000 -disable-keepalive, GET"),
         ("echo", "wrk -t1 -c32, keep-alive, POST 4 KiB"))


def part_http(wedge, tmp, examples, workers, secs, baseline=None):
    """Each load in alternating rounds over the servers (wedge, [baseline
    wedge,] nginx); per server the median round by requests/s, with the
    server's CPU time per request measured around that round."""
    routes = [{"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 100000},
              {"route": "/echo", "path": os.path.join(examples, "echo.wasm"), "relative-deadline-us": 100000}]
    servers = [("wedge", Wedge(wedge, tmp, routes, workers, name="hello", cpu=SERVER_CPU))]
    if baseline:
        bex = os.path.join(os.path.dirname(baseline), "examples", "http")
        broutes = [dict(r, path=os.path.join(bex, os.path.basename(r["path"]))) for r in routes]
        servers.append(("baseline", Wedge(baseline, tmp, broutes, workers, name="baseline", cpu=SERVER_CPU)))
    servers.append(("nginx", Nginx(tmp, workers, cpu=SERVER_CPU)))
    res = {"servers": [k for k, _ in servers]}
    try:
        rss0 = rss_kib(servers[0][1].proc.pid)
        urls = {}
        for k, srv in servers:
            base = f"http://{HOST}:{srv.port}"
            urls[k] = {"wrk": base + ("/" if k == "nginx" else "/hello"), "hey": base + ("/" if k == "nginx" else "/hello"),
                       "echo": base + "/echo"}
            wrk(urls[k]["wrk"], 1, 32, tmp)

        def median_round(runs):
            return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]

        gens = {"wrk": lambda u: wrk(u, secs, 32, tmp), "hey": lambda u: hey(u, 3000, 16, tmp),
                "echo": lambda u: wrk(u, secs, 32, tmp, body=4096)}
        for kind, _ in LOADS:
            runs = {k: [] for k, _ in servers}
            for _ in range(ROUNDS):
                for k, srv in servers:
                    c0 = cpu_ticks(srv.proc.pid)
                    r = gens[kind](urls[k][kind])
                    r["cpu_us"] = (cpu_ticks(srv.proc.pid) - c0) / TICK * 1e6 / max(1, r["n"])
                    runs[k].append(r)
            for k, _ in servers:
                res[kind + "_" + k] = median_round(runs[k])
            res[kind + "_ratios"] = sorted(w["rps"] / n["rps"] for w, n in zip(runs["wedge"], runs["nginx"]))
        res["rss_idle_kib"] = rss0
        res["rss_after_kib"] = rss_kib(servers[0][1].proc.pid)
    finally:
        for _, srv in servers:
            srv.close()
    return res


def part_sandbox(build, wedge, tmp, examples):
    exe = os.path.join(tmp, "bench_sandbox")
    run(["cc", "-O2", "-Wall", "-Wextra", "-I", os.path.join(ROOT, "src"),
         os.path.join(ROOT, "bench", "serve", "bench_sandbox.c"), "-rdynamic",
         "-Wl,--whole-archive", os.path.join(build, "libwedge_rt.a"), os.path.join(build, "libwedge_wasi.a"),
         os.path.join(build, "libwedge_util.a"),
         "-Wl,--no-whole-archive", "-ldl", "-lpthread", "-lm", "-o", exe])
    noop_wasm, noop_so, hello_so = (os.path.join(tmp, x) for x in ("noop.wasm", "noop.so", "hello.so"))
    run(["clang", "--target=wasm32-wasi", "-O2", "-nostartfiles", "-Wl,--no-entry",
         os.path.join(ROOT, "bench", "serve", "noop.c"), "-o", noop_wasm])
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    run([wedge, "compile", noop_wasm, "-o", noop_so], env=env)
    run([wedge, "compile", os.path.join(examples, "hello.wasm"), "-o", hello_so], env=env)

    def med(*args):
        out = run([exe, *args])
        return float(re.search(r"median_us=([\d.]+)", out).group(1)), float(re.search(r"p99_us=([\d.]+)", out).group(1))

    res = {
        "noop_pool": med(noop_so, "noop", "20000"),
        "noop_nopool": med(noop_so, "noop", "20000", "--no-pool"),
        "hello_pool": med(hello_so, "_start", "20000"),
        "hello_nopool": med(hello_so, "_start", "20000", "--no-pool"),
    }
    out = run([exe, "--idle", hello_so, "64"])
    res["idle_kib"] = float(re.search(r"rss_kib_per_sandbox=([\d.]+)", out).group(1))
    return res


async def _closed(port, path, conns, seconds):
    end = time.monotonic() + seconds
    done = 0

    async def client():
        nonlocal done
        while time.monotonic() < end:
            st, _ = await one_request(port, path, 30)
            done += st == 200

    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(conns)))
    return done / (time.monotonic() - t0)


def part_overload(wedge, tmp, examples, secs):
    """One worker; the cpu route sized to ~20 ms of the worker's time per
    request (measured as the throughput of a saturated worker, so client
    and connection costs on this busy machine do not count); deadline
    200 ms; open-loop arrivals at twice the measured capacity (kept near
    100/s so that the Python client itself keeps up)."""
    deadline_ms = 200
    routes = [{"route": "/cpu", "path": os.path.join(examples, "cpu.wasm"),
               "relative-deadline-us": deadline_ms * 1000, "admissions-percentile": 99,
               "timeout-us": 10000000}]
    srv = Wedge(wedge, tmp, routes, 1, name="calib")
    try:
        n, cap = 2, 0.0
        for _ in range(5):
            cap = asyncio.run(_closed(srv.port, f"/cpu?n={n}", 3, 1.5))
            if 35 <= cap <= 70:
                break
            n = max(1, int(round(n * cap / 50.0)))
        cap = asyncio.run(_closed(srv.port, f"/cpu?n={n}", 3, 3.0))
    finally:
        srv.close()
    out = {"n": n, "service_ms": 1e3 / cap, "deadline_ms": deadline_ms}
    rate = 0.0
    for label, extra in (("edf", ["--scheduler", "edf"]), ("fifo", ["--scheduler", "fifo", "--no-admission"])):
        srv = Wedge(wedge, tmp, routes, 1, extra, name="overload-" + label)
        try:
            # A short warm-up teaches the admission estimator this route;
            # the capacity is measured again just before the first run,
            # since the shared machine's speed drifts, and both runs get
            # the same arrival rate.
            asyncio.run(_seq(srv.port, f"/cpu?n={n}", 10))
            if not rate:
                rate = 2.0 * asyncio.run(_closed(srv.port, f"/cpu?n={n}", 3, 2.0))
            a0 = srv.metric("wedge_route_admitted_total")
            m0 = srv.metric("wedge_route_deadline_misses_total")
            t_start = time.monotonic()
            res = asyncio.run(open_loop(srv.port, f"/cpu?n={n}", rate, secs, 60))
            t_all = time.monotonic() - t_start
            srv_admitted = srv.metric("wedge_route_admitted_total") - a0
            srv_missed = srv.metric("wedge_route_deadline_misses_total") - m0
        finally:
            srv.close()
        sent = len(res)
        refused = sum(1 for s, _ in res if s in (429, 503))
        admitted = [(s, lat) for s, lat in res if s not in (429, 503)]
        met = sum(1 for s, lat in admitted if s == 200 and lat * 1e3 <= deadline_ms)
        # What the worker really served in this run: FIFO without admission
        # answers everything, so 200s over the time until the last one is
        # the capacity of the moment; the offered load is rate / that.
        served_rate = sum(1 for s, _ in res if s == 200) / t_all
        lats = sorted(l for _, l in admitted)
        out[label] = {"rate": rate, "sent": sent, "refused": refused, "admitted": len(admitted), "met": met,
                      "share": met / len(admitted) if admitted else 0.0,
                      "served_rate": served_rate, "srv_admitted": srv_admitted, "srv_missed": srv_missed,
                      "srv_share": 1 - srv_missed / srv_admitted if srv_admitted else 0.0,
                      "p99_ms": lats[max(0, int(len(lats) * 0.99) - 1)] * 1e3 if lats else 0.0}
    return out


# ---- report -------------------------------------------------------------------------------------


def section(http, sb, ov, workers, cmdline):
    L = []
    L.append("## wedge serve")
    L.append("")
    L.append(f"Measured by `{cmdline}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"({os.cpu_count()} cores, shared with other work; wedge and nginx each with {workers} workers, "
             "client on the same machine). Throughput here is bounded by the machine, so compare "
             "the two servers in the same run, not across runs.")
    L.append("")
    names = {"wedge": "wedge (this build)", "baseline": "wedge (baseline build)", "nginx": "nginx"}
    L.append("| load | server | requests/s | p50 ms | p99 ms | p99.9 ms | CPU µs/request | non-200 "
             "| req/s ÷ nginx | p99 ÷ nginx | CPU ÷ nginx |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, label in LOADS:
        n = http[kind + "_nginx"]
        for k in http["servers"]:
            w = http[kind + "_" + k]
            ratios = ("| | | " if k == "nginx" else
                      f"| {w['rps'] / n['rps']:.2f} | {w['p99'] / n['p99']:.2f} | {w['cpu_us'] / n['cpu_us']:.2f} ")
            L.append(f"| {label} | {names[k]} | {w['rps']:.0f} | {w['p50']:.2f} | {w['p99']:.2f} | {w['p999']:.2f} | "
                     f"{w['cpu_us']:.1f} | {w['bad']} {ratios}|")
    L.append("")
    L.append(f"Each row is the median of {ROUNDS} alternating rounds (servers in turn) by requests/s; "
             "the wedge ÷ nginx requests/s ratio of each round, lowest to highest: " +
             "; ".join(f"{kind} " + ", ".join(f"{r:.2f}" for r in http[kind + "_ratios"]) for kind, _ in LOADS) +
             ". Servers pinned to CPU 0, load generators to CPU 1 (`taskset`); CPU µs/request = the server "
             "process's (and nginx's workers') utime+stime from /proc/PID/stat around the round ÷ requests "
             "(10 ms ticks). nginx's 4 KiB row returns a static 4 KiB body to the 4 KiB POST (no stock echo). "
             f"Targets (issue 13): req/s ≥ 0.9 of nginx, p99 ≤ 1.5×, CPU ≤ 1.2× nginx + the instantiate "
             f"time (hello pooled, below: {sb['hello_pool'][0]:.2f} µs).")
    L.append("")
    L.append("Sandbox instantiation + call, in process (`bench_sandbox`, 20000 rounds after 200 warm-up: "
             "WASI context with in-memory stdio, instantiate, call, free — what every request does):")
    L.append("")
    L.append("| module, call | pooled memory: median µs (p99) | fresh memory: median µs (p99) |")
    L.append("|---|---:|---:|")
    L.append(f"| `noop.c` (2 pages, data segment), `noop` export | {sb['noop_pool'][0]:.2f} ({sb['noop_pool'][1]:.2f}) | "
             f"{sb['noop_nopool'][0]:.2f} ({sb['noop_nopool'][1]:.2f}) |")
    L.append(f"| `hello.c` (wasi-libc), whole `_start` incl. `puts` | {sb['hello_pool'][0]:.2f} ({sb['hello_pool'][1]:.2f}) | "
             f"{sb['hello_nopool'][0]:.2f} ({sb['hello_nopool'][1]:.2f}) |")
    L.append("")
    L.append(f"Resident memory per idle pooled sandbox (64 hello instances run, then freed into the pool): "
             f"**{sb['idle_kib']:.1f} KiB** of linear memory (the pages the guest touched stay resident, zeroed; "
             "the 8 GiB guard reservation is address space only). A pooled guest stack keeps at most its top "
             "64 KiB resident. The serving process: "
             f"{http['rss_idle_kib']} KiB RSS before the HTTP runs, {http['rss_after_kib']} KiB after.")
    L.append("")
    L.append(f"Overload: `/cpu?n={ov['n']}` (~{ov['service_ms']:.0f} ms of the worker per request, measured as the "
             f"throughput of a saturated worker), relative deadline {ov['deadline_ms']} ms, admissions-percentile 99, "
             "**1 worker**, open-loop arrivals for 6 s at twice the capacity measured on the EDF server "
             "just before its run (closed loop, 3 connections, 2 s; the FIFO run gets the same rate), "
             "new connection per request. Client: \"met\" = 200 within the deadline as the client "
             "measured it (its own connect and event-loop lag included); server: admitted requests "
             "minus `wedge_route_deadline_misses_total`, from /metrics.")
    L.append("")
    L.append(f"In the FIFO run, which answers everything, the worker served {ov['fifo']['served_rate']:.0f} "
             f"requests/s until the last answer: the offered load was **{ov['fifo']['rate'] / ov['fifo']['served_rate']:.1f}×** "
             "what it served (the shared machine's speed drifts within a run too).")
    L.append("")
    L.append("| scheduling | arrivals/s | sent | refused (429) | admitted | met deadline | share of admitted meeting it (client) | (server) | admitted p99 ms |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, label in (("edf", "EDF + admission control"), ("fifo", "FIFO, no admission")):
        o = ov[key]
        L.append(f"| {label} | {o['rate']:.0f} | {o['sent']} | {o['refused']} | {o['admitted']} | {o['met']} | "
                 f"**{100 * o['share']:.1f}%** | {100 * o['srv_share']:.1f}% | {o['p99_ms']:.0f} |")
    L.append("")
    return "\n".join(L) + "\n"


def write_section(text):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    # Re-read right before writing: another section may have changed meanwhile.
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    m = re.search(r"^## wedge serve\n.*?(?=^## |\Z)", old, re.M | re.S)
    if m:
        new = old[:m.start()] + text + ("\n" if old[m.end():] else "") + old[m.end():].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workers", type=int, default=1, help="workers of wedge and nginx (default 1)")
    ap.add_argument("--baseline-build", help="another build dir whose wedge joins the HTTP rounds")
    ap.add_argument("--only-http", action="store_true", help="run parts (a)-(b') only and print them (no write)")
    ap.add_argument("--seconds", type=int, default=4, help="wrk duration per round and server")
    ap.add_argument("--only-overload", action="store_true", help="run part (d) only and print it (no write)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    wedge = os.path.join(build, "wedge")
    examples = os.path.join(build, "examples", "http")
    for tool in ("wrk", "hey", "nginx", "cc", "clang", "taskset"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            sys.exit(f"run_serve: {tool} not found")
    if not os.path.exists(os.path.join(examples, "hello.wasm")):
        sys.exit(f"run_serve: {examples}/hello.wasm not built")
    tmp = tempfile.mkdtemp(prefix="wedge-bench-serve-")
    try:
        t0 = time.monotonic()
        if a.only_overload:
            print(json.dumps(part_overload(wedge, tmp, examples, 6), indent=1))
            return
        baseline = os.path.join(os.path.abspath(a.baseline_build), "wedge") if a.baseline_build else None
        if a.only_http:
            print(json.dumps(part_http(wedge, tmp, examples, a.workers, a.seconds, baseline), indent=1))
            return
        sb = part_sandbox(build, wedge, tmp, examples)
        http = part_http(wedge, tmp, examples, a.workers, a.seconds, baseline)
        ov = part_overload(wedge, tmp, examples, 6)
        cmdline = "bench/serve/run_serve.py" + ("" if a.build_dir == os.path.join(ROOT, "build")
                                                 else f" --build-dir {os.path.relpath(build, ROOT)}") + \
            (f" --baseline-build {os.path.relpath(os.path.abspath(a.baseline_build), ROOT)}" if a.baseline_build else "")
        text = section(http, sb, ov, a.workers, cmdline)
        print(text)
        print(f"(took {time.monotonic() - t0:.0f} s)")
        if not a.no_write:
            write_section(text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
