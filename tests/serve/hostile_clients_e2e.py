#!/usr/bin/env python3
"""Hostile clients against `wedge serve`, beside healthy ones, over loopback.

Usage: hostile_clients_e2e.py EXAMPLES_DIR SERVER [serve] [--long]
       (or WEDGE_HOSTILE_LONG=1): bigger numbers everywhere.

Serves the examples' /hello, /echo and /cpu and, while two healthy clients
call /hello throughout (one opens a new connection per request, one keeps
a single keep-alive connection), runs these phases:

  trickle     slowloris: connections sending their headers a byte at a time,
              others sending only blank lines ("\\r\\n"), others a body that
              trickles in below its Content-Length, others asking for
              100-continue and never sending the body -> each gets 408 (the
              blank-line ones are just closed) at the request timeout
  idle        thousands of idle keep-alive connections (half of them after
              one request): descriptors held, no CPU spent on them; then
              more than --max-connections: the longest-idle ones are closed
              to make room, so new clients still get in
  pipeline    hundreds of pipelined requests on one connection (answered
              in order); then several connections pipelining 16 KiB echo
              requests without reading: the server must stop reading
              (backpressure) instead of buffering, RSS bounded; the one
              that then reads gets every answer in order, those that never
              read are dropped at the request timeout
  smuggling   Content-Length with Transfer-Encoding, conflicting lengths,
              obfuscated Transfer-Encoding, obsolete line folding, HTTP/1.0
              chunked, bad chunk sizes, LF-only lines, NUL and CR in the
              head: each -> exactly one 400, Connection: close, then EOF;
              the request hidden behind it is never parsed (nor the one
              after Connection: close, Upgrade, CONNECT)
  oversized   URL -> 414, header line and header count -> 431, body past
              the limit (declared and chunked) -> 413
  garbage     many connections of random bytes -> a 4xx or nothing, and
              the server closes them
  disconnect  clients that go away mid-request, mid-response (1 MiB echo)
              and while their request runs (/cpu), with FIN and with RST

From "pipeline" to the end of each round, wrk (if installed) loads /hello
too and must see only 2xx.  The phases run ROUNDS times (2; 3 with --long;
WEDGE_HOSTILE_ROUNDS=N): after each round the descriptors are back and RSS
does not grow from one round to the next.

Afterwards: the server is alive, its descriptor count is back to its
baseline, its RSS back near its baseline (skipped under ASan), idle CPU
near zero, the healthy clients saw only 200s, no sanitizer report, SIGTERM
exits 0.  The server runs with --no-admission: load is shed only by the
connection limit (idle connections closed, see "idle"), never with 429/503
to a healthy client.
Exit 77 (CTest: skipped) when the examples are missing.
"""
import json
import os
import random
import re
import resource
import select
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serve_util import HOST, fd_count, read_until_close, rss_kib, serve_and_check      # noqa: E402

ROUNDS = int(os.environ.get("WEDGE_HOSTILE_ROUNDS", "0")) or (
    2 if "--long" not in sys.argv and os.environ.get("WEDGE_HOSTILE_LONG", "") in ("", "0") else 3)
RSS_FIRST_KIB = 8 * 1024        # after round 1: allocator caches, a few pooled pages
RSS_AGAIN_KIB = 4 * 1024        # each further round: about nothing
IDLE_CONN_KIB = 4               # resident memory per idle keep-alive connection (measured ~1.6)
STALL_S = 0.5                   # a flooding client counts as stopped by the server after this
LONG = "--long" in sys.argv or os.environ.get("WEDGE_HOSTILE_LONG", "") not in ("", "0")

REQ_TIMEOUT_MS = 3000           # --request-timeout-ms: slowloris ends here, and clients that do not read
IDLE_TIMEOUT_MS = 60000         # --idle-timeout-ms: longer than any phase
N = dict(                       # short (CI) numbers, then --long ones
    slow_headers=150, slow_blank=20, slow_body=60, slow_expect=20,
    idle=2000, max_conns=2500, over=1000,
    pipelined=500, flood_conns=4, flood_mib=48,
    smuggle_rounds=2, oversized_each=10,
    garbage=300,
    disc_each=20,
) if not LONG else dict(
    slow_headers=1000, slow_blank=100, slow_body=300, slow_expect=100,
    idle=5000, max_conns=6000, over=3000,
    pipelined=5000, flood_conns=16, flood_mib=256,
    smuggle_rounds=20, oversized_each=100,
    garbage=5000,
    disc_each=200,
)


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nofile_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return 0


def rst_close(s):
    """Close with a reset instead of a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def parse_responses(buf):
    """Splits concatenated HTTP/1.1 responses (Content-Length framed).
    Returns ([(status, headers, body)], leftover bytes)."""
    out = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        head = buf[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ValueError(f"not an HTTP response: {buf[:80]!r}")
        status = int(parts[1])
        h = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            h[k.strip().lower()] = v.strip()
        n = int(h.get("content-length", "0"))
        if len(buf) < end + 4 + n:
            return out, buf
        if status == 100:
            buf = buf[end + 4:]
            continue
        out.append((status, h, buf[end + 4:end + 4 + n]))
        buf = buf[end + 4 + n:]


def get(port, path, timeout=60, sock=None):
    """One GET on a new (or the given keep-alive) connection: (status, body)."""
    own = sock is None
    s = sock or socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.settimeout(timeout)
        # On a kept connection an extra CRLF follows the request, as some
        # clients send: blank lines between requests must not turn the idle
        # keep-alive wait into a request timeout (see Healthy).
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n{'Connection: close' if own else ''}\r\n\r\n".encode())
        buf = b""
        while True:
            rs, buf = parse_responses(buf)
            if rs:
                return rs[0][0], rs[0][2]
            d = s.recv(65536)
            if not d:
                raise EOFError(f"connection closed before a response ({buf[:60]!r})")
            buf += d
    finally:
        if own:
            s.close()


class Healthy:
    """Two well-behaved clients calling /hello until stopped: `fresh` opens
    a connection per request, `kept` reuses one keep-alive connection
    (sending a stray CRLF after each request; it idles for longer than the
    request timeout while paused for the CPU measurement of phase idle,
    and must not be closed for that).  Every outcome other than 200 + the
    greeting is recorded."""

    def __init__(self, port, proc):
        self.port, self.proc = port, proc
        self.stop = threading.Event()
        self.paused = threading.Event()
        self.n = {"fresh": 0, "kept": 0}
        self.bad = []
        self.max_lat = 0.0
        self.phase = "start"
        self.threads = [threading.Thread(target=self.run, args=(k,), daemon=True) for k in ("fresh", "kept")]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self, kind):
        sock = None
        while not self.stop.is_set():
            if self.paused.is_set():
                time.sleep(0.05)
                continue
            t0 = time.monotonic()
            try:
                if kind == "kept" and sock is None:
                    sock = socket.create_connection((HOST, self.port), timeout=60)
                st, body = get(self.port, "/hello", sock=sock)
                if st != 200 or b"Hello" not in body:
                    self.bad.append((self.phase, kind, st, body[:60]))
                else:
                    self.n[kind] += 1
            except Exception as e:      # noqa: BLE001 — recorded, checked at the end
                self.bad.append((self.phase, kind, "error", repr(e)))
                if sock:
                    sock.close()
                    sock = None
                if self.proc.poll() is not None:
                    return
            self.max_lat = max(self.max_lat, time.monotonic() - t0)
            time.sleep(0.02 if kind == "fresh" else 0.05)
        if sock:
            sock.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(90)


def start_wrk(port, seconds):
    """wrk (Debian package wrk) on /hello for `seconds` beside the hostile
    phases: a real load generator that must see only 2xx.  None without wrk."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    res = {}

    def run():
        r = subprocess.run([wrk, "-t1", "-c4", f"-d{seconds}s", "--timeout", "30s", f"http://{HOST}:{port}/hello"],
                           capture_output=True, text=True)
        res["rc"], res["out"] = r.returncode, r.stdout + r.stderr

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


def finish_wrk(w, check, figures):
    if w is None:
        print("     skip wrk beside the hostile phases: wrk not installed")
        return
    t, res = w
    t.join(120)
    out = res.get("out", "")
    m = re.search(r"(\d+) requests in", out)
    n = int(m.group(1)) if m else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    figures.setdefault("wrk_requests", []).append(n)
    check(res.get("rc") == 0 and n > 0 and not non2xx and not sockerr,
          f"wrk beside the hostile phases: {n} requests, all 2xx, no socket errors "
          f"({(non2xx.group(0) if non2xx else '')} {(sockerr.group(0) if sockerr else '')})")


# ---- phases -----------------------------------------------------------------------------------------------

def phase_trickle(ctx):
    """Slowloris (headers a byte at a time), blank lines only, and a body
    trickling in: every one ends at the request timeout."""
    port, check, slack = ctx["port"], ctx["check"], ctx["slack"]
    sel = selectors.DefaultSelector()
    conns = []
    kinds = ([("headers", b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ")] * N["slow_headers"] +
             [("blank", b"")] * N["slow_blank"] +
             [("body", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")] * N["slow_body"] +
             [("expect", b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n")] *
             N["slow_expect"])
    t0 = time.monotonic()
    for kind, first in kinds:
        s = socket.create_connection((HOST, port), timeout=10)
        if first:
            s.sendall(first)
        s.setblocking(False)
        c = {"s": s, "kind": kind, "data": b"", "closed": None, "sent": 0}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    drip = {"headers": b"a", "blank": b"\r\n", "body": b"x" * 50, "expect": b""}     # expect: never sends its body
    deadline = t0 + REQ_TIMEOUT_MS / 1000 + 10 * slack
    next_drip = 0.0
    open_n = len(conns)
    while open_n and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_drip:
            next_drip = now + 0.25          # far apart, but far more often than any timeout
            for c in conns:
                if c["closed"] is None:
                    try:
                        c["s"].send(drip[c["kind"]])
                        c["sent"] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        pass                # closed under us: the read side sees it
        for key, _ in sel.select(timeout=0.05):
            c = key.data
            try:
                d = c["s"].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d:
                c["data"] += d
                continue
            c["closed"] = time.monotonic() - t0
            sel.unregister(c["s"])
            c["s"].close()
            open_n -= 1
    for c in conns:
        if c["closed"] is None:
            sel.unregister(c["s"])
            c["s"].close()
    sel.close()
    for kind in ("headers", "blank", "body", "expect"):
        lo = REQ_TIMEOUT_MS / 1000 - 0.2
        hi = REQ_TIMEOUT_MS / 1000 + 3 * slack
        if kind == "blank":
            hi += 2.5       # a few blank lines are allowed before the clock starts (BLANK_MAX = 16 bytes)
        cs = [c for c in conns if c["kind"] == kind]
        never = [c for c in cs if c["closed"] is None]
        times = sorted(c["closed"] for c in cs if c["closed"] is not None)
        check(not never, f"trickle/{kind}: all {len(cs)} closed by the server ({len(never)} still open after "
                         f"{deadline - t0:.0f} s)")
        if times:
            check(lo <= times[0] and times[-1] <= hi,
                  f"trickle/{kind}: closed {times[0]:.2f}..{times[-1]:.2f} s after the first byte "
                  f"(request timeout {REQ_TIMEOUT_MS} ms; window {lo:.1f}..{hi:.1f} s)")
        if kind == "blank":
            continue
        statuses = {}
        for c in cs:
            rs, _ = parse_responses(c["data"])
            key = tuple(r[0] for r in rs)
            statuses[key] = statuses.get(key, 0) + 1
        check(set(statuses) == {(408,)}, f"trickle/{kind}: each got exactly one 408 ({statuses})")
        if kind == "expect":
            check(all(c["data"].startswith(b"HTTP/1.1 100 Continue\r\n\r\n") for c in cs),
                  "trickle/expect: 100 Continue first, then the 408 when the body never came")
    ctx["figures"]["trickle"] = dict(connections=len(conns), max_close_s=round(max(
        (c["closed"] for c in conns if c["closed"] is not None), default=0), 2))


def open_idle(port, n, request_every=2):
    """n keep-alive connections; every `request_every`-th makes one request
    first (so both "never spoke" and "idle after a request" are there)."""
    socks = []
    for i in range(n):
        s = socket.create_connection((HOST, port), timeout=30)
        socks.append(s)
        if i % request_every == 0:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
    # read the responses (all at once: the server answers them in parallel)
    want = {s for i, s in enumerate(socks) if i % request_every == 0}
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in want:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    statuses = {}
    end = time.monotonic() + 120
    while want and time.monotonic() < end:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                statuses["closed"] = statuses.get("closed", 0) + 1
                sel.unregister(s)
                want.discard(s)
                continue
            bufs[s] += d
            rs, rest = parse_responses(bufs[s])
            if rs:
                statuses[rs[0][0]] = statuses.get(rs[0][0], 0) + 1
                sel.unregister(s)
                want.discard(s)
    sel.close()
    if want:
        statuses["no answer"] = len(want)
    return socks, statuses


def count_closed_by_server(socks):
    """How many of these idle sockets the server has closed (EOF or reset)."""
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            d = s.recv(1)
            if not d:
                n += 1
        except BlockingIOError:
            pass
        except OSError:
            n += 1
    return n


def phase_idle(ctx):
    port, pid, check, healthy, slack = ctx["port"], ctx["pid"], ctx["check"], ctx["healthy"], ctx["slack"]
    fd0 = fd_count(pid)
    rss_before = rss_kib(pid)
    socks, st = open_idle(port, N["idle"])
    check(set(st) == {200}, f"idle: the {N['idle'] // 2} first requests on them answered 200 ({st})")
    time.sleep(1.0)
    fds = fd_count(pid)
    check(fds >= fd0 + N["idle"] * 0.95,
          f"idle: the server holds the {N['idle']} connections ({fds} descriptors, {fd0} before)")
    per_conn = (rss_kib(pid) - rss_before) / N["idle"]
    ctx["figures"]["idle_kib_per_connection"] = round(per_conn, 2)
    if ctx["asan"]:
        print(f"     skip memory per idle connection ({per_conn:.1f} KiB): ASan build")
    else:
        check(per_conn < IDLE_CONN_KIB, f"idle: {per_conn:.2f} KiB resident per idle keep-alive connection "
                                        f"(limit {IDLE_CONN_KIB}: no buffers kept while idle)")
    # No CPU spent on idle connections (healthy clients paused to measure).
    healthy.paused.set()
    time.sleep(1.5)         # with the 3 s below: the kept client idles past the request timeout
    c0, w0 = cpu_seconds(pid), time.monotonic()
    time.sleep(3.0)
    frac = (cpu_seconds(pid) - c0) / (time.monotonic() - w0)
    healthy.paused.clear()
    ctx["figures"]["idle_cpu_fraction"] = round(frac, 4)
    check(frac < 0.05 * slack, f"idle: {N['idle']} idle connections cost {frac * 100:.1f}% of a core "
                               f"(limit {5 * slack}%)")
    # Past the connection limit: the longest-idle ones make room.
    more, st2 = open_idle(port, N["over"], request_every=4)
    check(set(st2) <= {200}, f"idle: {N['over']} more, past --max-connections {N['max_conns']}: "
                             f"their requests answered 200 ({st2})")
    time.sleep(1.0)
    fds = fd_count(pid)
    check(fds <= fd0 + N["max_conns"] + 8,
          f"idle: at most --max-connections open ({fds} descriptors, baseline {fd0})")
    excess = N["idle"] + N["over"] + 2 - N["max_conns"]    # + the two healthy clients
    closed_old = count_closed_by_server(socks)
    closed_new = count_closed_by_server(more)
    check(closed_old >= excess - 10 and closed_new <= 10,
          f"idle: the oldest idle connections were closed to make room ({closed_old} of the first "
          f"{N['idle']}, {closed_new} of the newer {N['over']}; about {excess} expected)")
    for s in socks + more:
        s.close()
    ctx["figures"]["idle"] = dict(held=N["idle"], over_limit=N["over"], evicted=closed_old + closed_new)
    check("closed" in ctx["log_text"]() and "idle connection(s) to make room" in ctx["log_text"](),
          "idle: the log says idle connections were closed at the limit")


def phase_pipeline(ctx):
    port, pid, check, asan = ctx["port"], ctx["pid"], ctx["check"], ctx["asan"]
    # (a) hundreds pipelined on one connection, answered in order
    n = N["pipelined"]
    s = socket.create_connection((HOST, port), timeout=120)
    reqs = b"".join(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n%08d" % i for i in range(n))
    sender = threading.Thread(target=s.sendall, args=(reqs,))
    sender.start()
    buf, got = b"", []
    s.settimeout(120)
    while len(got) < n:
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
        rs, buf = parse_responses(buf)
        got += rs
    sender.join(60)
    s.close()
    order = [r[2] for r in got] == [b"%08d" % i for i in range(n)]
    check(len(got) == n and all(r[0] == 200 for r in got) and order,
          f"pipeline: {n} pipelined echo requests on one connection, {len(got)} answers, all 200 in order: {order}")

    # (b) clients that pipeline without reading: backpressure
    body = 16 * 1024
    total = N["flood_mib"] << 20
    base = rss_kib(pid)
    peak = [base]
    flood = []
    for k in range(N["flood_conns"]):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)    # before connect: a small window
        c.connect((HOST, port))
        flood.append({"s": c, "sent": 0, "reqs": 0})
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], rss_kib(pid))
            except OSError:
                return
            time.sleep(0.1)

    def push(f, k):
        # sends whole requests (body = sequence number, padded) until the
        # server stops taking bytes for STALL_S in a row, or `total` is
        # sent.  Then the first connection reads all its answers; the
        # others keep not reading, and the server must drop them at its
        # request timeout (a client that takes no output for that long).
        s = f["s"]
        s.settimeout(STALL_S)
        one = lambda i: (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % body +
                         (b"%08d" % i).ljust(body, b"."))
        pending = b""
        while f["sent"] < total:
            if not pending:
                pending = one(f["reqs"])
                f["reqs"] += 1
            try:
                m = s.send(pending)
            except socket.timeout:
                f["stalled"] = True
                f["stall_at"] = time.monotonic()
                if k == 0:
                    read_back(f, pending)
                else:
                    wait_dropped(f)
                return
            except OSError as e:
                f["error"] = repr(e)
                return
            pending = pending[m:]
            f["sent"] += m
        f["stalled"] = False

    def read_back(f, pending):
        s = f["s"]
        s.settimeout(120)
        res = {"got": [], "err": None}
        want = f["reqs"]        # the pending one is finished below

        def reader():
            buf = b""
            try:
                while len(res["got"]) < want:
                    d = s.recv(1 << 20)
                    if not d:
                        break
                    buf += d
                    rs, buf = parse_responses(buf)
                    res["got"] += rs
            except (OSError, ValueError) as e:
                res["err"] = repr(e)

        t = threading.Thread(target=reader)
        t.start()
        try:
            s.sendall(pending)
        except OSError as e:
            res["err"] = repr(e)
        t.join(180)
        f["read_back"] = res

    def wait_dropped(f):
        p = select.poll()
        p.register(f["s"], 0)       # only POLLERR/POLLHUP: reading would un-stall it
        # The server's clock starts at its last progress on the connection,
        # which may come later than our stall (a request still queued
        # behind the other floods' on a loaded machine): generous, yet a
        # connection that is never dropped still fails.
        end = time.monotonic() + REQ_TIMEOUT_MS / 1000 + 20 * ctx["slack"]
        while time.monotonic() < end:
            if p.poll(100):
                f["dropped_after"] = time.monotonic() - f["stall_at"]
                return

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    pushers = [threading.Thread(target=push, args=(f, k)) for k, f in enumerate(flood)]
    t0 = time.monotonic()
    for p in pushers:
        p.start()
    for p in pushers:
        p.join(300)
    stall_s = time.monotonic() - t0
    time.sleep(0.5)
    stop.set()
    th.join(5)
    sent = [f["sent"] for f in flood]
    check(all(f.get("stalled") for f in flood),
          f"pipeline: the server stopped reading from {N['flood_conns']} connections that do not read their "
          f"answers (accepted {min(sent) >> 10}..{max(sent) >> 10} KiB each of {total >> 20} MiB offered; "
          f"{[f.get('error') for f in flood if f.get('error')]})")
    grown = peak[0] - base
    ctx["figures"]["pipeline"] = dict(pipelined=n, flood_conns=N["flood_conns"],
                                      accepted_kib_max=max(sent) >> 10, rss_growth_kib=grown,
                                      seconds=round(stall_s, 1))
    limit = N["flood_conns"] * 4 * 1024 + 32 * 1024
    if asan:
        print("     skip flood RSS bound: ASan's quarantine keeps freed response buffers resident")
    else:
        check(grown < limit, f"pipeline: RSS grew {grown} KiB while flooded (limit {limit} KiB: "
                             f"~1 MiB of output + 64 KiB of input per connection)")
    # The first connection then read everything: all its requests were
    # answered, in order.
    f0 = flood[0]
    rb = f0.get("read_back", {"got": [], "err": "never stalled"})
    got, full = rb["got"], f0["reqs"]
    ok = len(got) == full and all(r[0] == 200 and r[2][:8] == b"%08d" % i for i, r in enumerate(got))
    check(ok, f"pipeline: a flooding connection that starts reading gets all its {full} requests answered "
              f"200 in order ({len(got)} read, {rb['err']})")
    # The others never read: dropped at the request timeout, so a stuck
    # reader costs its buffers for a bounded time only.
    drops = [f.get("dropped_after") for f in flood[1:]]
    check(all(d is not None for d in drops),
          f"pipeline: connections that never read their answers are dropped by the server "
          f"(after {[round(d, 1) if d else d for d in drops]} s; request timeout {REQ_TIMEOUT_MS} ms)")
    for k, f in enumerate(flood):
        (rst_close if k % 2 else socket.socket.close)(f["s"])


SM_PATH = "/smuggled-by-hostile-clients"
SMUGGLED = f"GET {SM_PATH} HTTP/1.1\r\nHost: t\r\n\r\n".encode()


def smuggling_cases():
    """(name, bytes): each is one request that must be refused with 400,
    followed by a request that must never be parsed."""
    P = b"POST /echo HTTP/1.1\r\nHost: t\r\n"
    ch = b"5\r\nhello\r\n0\r\n\r\n"
    cases = [
        ("CL then TE", P + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + ch),
        ("TE then CL", P + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + ch),
        ("CL + TE lower/upper case", P + b"content-length: 0\r\ntransfer-encoding: CHUNKED\r\n\r\n" + ch),
        ("CL + TE 'chunked ' (trailing space)", P + b"Content-Length: 15\r\nTransfer-Encoding: chunked \r\n\r\n" + ch),
        ("CL + TE in a second TE header", P + b"Content-Length: 15\r\nTransfer-Encoding: identity\r\n"
                                              b"Transfer-Encoding: chunked\r\n\r\n" + ch),
        ("duplicate conflicting CL", P + b"Content-Length: 5\r\nContent-Length: 15\r\n\r\n" + ch),
        ("duplicate equal CL", P + b"Content-Length: 15\r\nContent-Length: 15\r\n\r\n" + ch),
        ("CL list", P + b"Content-Length: 5, 15\r\n\r\n" + ch),
        ("CL with sign", P + b"Content-Length: +15\r\n\r\n" + ch),
        ("TE xchunked", P + b"Transfer-Encoding: xchunked\r\n\r\n" + ch),
        ("TE chunked, identity", P + b"Transfer-Encoding: chunked, identity\r\n\r\n" + ch),
        ("TE chunked then TE identity", P + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + ch),
        ("TE identity", P + b"Transfer-Encoding: identity\r\n\r\n" + ch),
        ("TE with vertical tab", P + b"Transfer-Encoding: \x0bchunked\r\n\r\n" + ch),
        ("TE with space before colon", P + b"Transfer-Encoding : chunked\r\n\r\n" + ch),
        ("TE folded onto the next line", P + b"Transfer-Encoding:\r\n chunked\r\n\r\n" + ch),
        ("TE folded with a tab", P + b"Transfer-Encoding: identity\r\n\tchunked\r\n\r\n" + ch),
        ("CL folded", P + b"Content-Length:\r\n 15\r\n\r\n" + ch),
        ("other header folded", b"GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n"),
        ("HTTP/1.0 chunked", b"POST /echo HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + ch),
        ("HTTP/1.0 keep-alive chunked", b"POST /echo HTTP/1.0\r\nConnection: keep-alive\r\n"
                                        b"Transfer-Encoding: chunked\r\n\r\n" + ch),
        ("chunk size 0x5", P + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"),
        ("chunk size -5", P + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"),
        ("chunk size overflows 64 bits", P + b"Transfer-Encoding: chunked\r\n\r\n1000000000000000005\r\nhello\r\n0\r\n\r\n"),
        ("chunk size with space", P + b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"),
        ("chunk longer than its size", P + b"Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"),
        ("chunk size LF only", P + b"Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"),
        ("last chunk LF only", P + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\n"),
        ("chunk extension ended by LF", P + b"Transfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n"),
        ("LF-only head", b"GET /hello HTTP/1.1\nHost: t\n\n"),
        ("LF-only head with a body", b"POST /echo HTTP/1.1\nHost: t\nContent-Length: 5\n\nhello"),
        ("bare CR in the head", b"GET /hello HTTP/1.1\r\nHost: t\rX-A: b\r\n\r\n"),
        ("NUL in a header value", b"GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n"),
        ("NUL in a header name", b"GET /hello HTTP/1.1\r\nHost: t\r\nX-\x00A: b\r\n\r\n"),
        ("NUL in the target", b"GET /hel\x00lo HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("space-prefixed first header", b"GET /hello HTTP/1.1\r\n Host: t\r\n\r\n"),
        ("two Host headers", b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ]
    out = [(name, data + SMUGGLED, 400) for name, data in cases]
    # Not errors, but each ends the connection after one answer: whatever
    # follows must not be parsed either.
    out += [
        ("Connection: close, then another request",
         b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + SMUGGLED, 200),
        ("Upgrade: websocket (we speak no other protocol)",
         b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" + SMUGGLED, 200),
        ("Upgrade: h2c with a body", P + b"Connection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello" +
         SMUGGLED, 200),
        ("CONNECT", b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n" + SMUGGLED, 404),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SMUGGLED, 400),
        ("HTTP/0.9 request line", b"GET /hello\r\n" + SMUGGLED, 400),
    ]
    return out


def phase_smuggling(ctx):
    port, check = ctx["port"], ctx["check"]
    cases = smuggling_cases()
    wrong = []
    for _ in range(N["smuggle_rounds"]):
        for name, data, want in cases:
            s = socket.create_connection((HOST, port), timeout=30)
            s.sendall(data)
            raw, how = read_until_close(s, 30)
            s.close()
            try:
                rs, rest = parse_responses(raw)
            except ValueError as e:
                rs, rest = [], repr(e).encode()
            if not (len(rs) == 1 and rs[0][0] == want and rs[0][1].get("connection") == "close" and not rest
                    and how == "eof"):
                wrong.append((name, [r[0] for r in rs], how, raw[:120]))
    check(not wrong, f"smuggling: {len(cases)} cases x {N['smuggle_rounds']}: each exactly one answer (400 for "
                     f"the {sum(w == 400 for _, _, w in cases)} bad ones) with Connection: close, then EOF; "
                     f"wrong: {wrong[:3]}")
    ctx["figures"]["smuggling_cases"] = len(cases)


def phase_oversized(ctx):
    port, check = ctx["port"], ctx["check"]
    big = lambda n: "a" * n
    cases = [
        ("URL past --max-url-bytes", f"GET /hello?{big(9000)} HTTP/1.1\r\nHost: t\r\n\r\n".encode(), 414),
        ("one header line past the header limit", f"GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: {big(17000)}\r\n\r\n".encode(), 431),
        ("101 headers", ("GET /hello HTTP/1.1\r\nHost: t\r\n" + "".join(f"X-{i}: v\r\n" for i in range(101)) +
                         "\r\n").encode(), 431),
        ("many small headers past the byte limit", ("GET /hello HTTP/1.1\r\nHost: t\r\n" +
                                                    "".join(f"X-{i}: {big(200)}\r\n" for i in range(90)) + "\r\n").encode(), 431),
        ("declared body past --max-body-bytes", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2097152\r\n\r\n" +
         b"x" * 65536, 413),
        ("chunked body growing past the limit", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
         (b"10000\r\n" + b"y" * 0x10000 + b"\r\n") * 20, 413),
        ("huge URL (1 MiB)", b"GET /" + b"u" * (1 << 20) + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        ("huge header (1 MiB)", b"GET /hello HTTP/1.1\r\nHost: t\r\nX: " + b"h" * (1 << 20) + b"\r\n\r\n", 431),
    ]
    wrong = []
    results = []
    lock = threading.Lock()

    def one(name, data, want):
        s = socket.create_connection((HOST, port), timeout=30)
        # the server answers (and stops reading) before all of it is sent:
        # send what it takes, then read
        def send():
            try:
                s.sendall(data + SMUGGLED)
            except OSError:
                pass
        t = threading.Thread(target=send, daemon=True)
        t.start()
        raw, how = read_until_close(s, 30)
        s.close()
        t.join(10)
        try:
            rs, _ = parse_responses(raw)
        except ValueError:
            rs = []
        with lock:
            results.append(name)
            if not (len(rs) == 1 and rs[0][0] == want and rs[0][1].get("connection") == "close"):
                wrong.append((name, [r[0] for r in rs], how))

    threads = []
    for _ in range(N["oversized_each"]):
        for name, data, want in cases:
            th = threading.Thread(target=one, args=(name, data, want))
            th.start()
            threads.append(th)
        for th in threads:
            th.join(120)
        threads = []
    check(not wrong and len(results) == len(cases) * N["oversized_each"],
          f"oversized: {len(cases)} kinds x {N['oversized_each']}: each exactly its 414/431/413 and a close; "
          f"wrong: {wrong[:3]}")


def phase_garbage(ctx):
    port, check, slack = ctx["port"], ctx["check"], ctx["slack"]
    rnd = random.Random(20261122)
    prefixes = [b"", b"", b"GET /", b"POST /echo HTTP/1.1\r\n", b"GET /hello HTTP/1.1\r\nHost: t\r\n", b"\x16\x03\x01"]
    ok_status = {400, 404, 405, 408, 413, 414, 417, 431, 501, 505}
    bad = []
    n_done = 0
    batch = 50
    t0 = time.monotonic()
    for b0 in range(0, N["garbage"], batch):
        sel = selectors.DefaultSelector()
        conns = []
        for i in range(b0, min(b0 + batch, N["garbage"])):
            s = socket.create_connection((HOST, port), timeout=10)
            data = rnd.choice(prefixes) + rnd.randbytes(rnd.randrange(1, 4096))
            try:
                s.sendall(data)
                if i % 3 == 0:
                    s.shutdown(socket.SHUT_WR)      # and some say they are done
            except OSError:
                pass
            s.setblocking(False)
            c = {"s": s, "data": b"", "how": None, "sent": data}
            conns.append(c)
            sel.register(s, selectors.EVENT_READ, c)
        end = time.monotonic() + REQ_TIMEOUT_MS / 1000 + 5 * slack
        left = len(conns)
        while left and time.monotonic() < end:
            for key, _ in sel.select(timeout=0.2):
                c = key.data
                try:
                    d = c["s"].recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    d, c["how"] = b"", "reset"
                if d:
                    c["data"] += d
                    continue
                c["how"] = c["how"] or "eof"
                sel.unregister(c["s"])
                left -= 1
        for c in conns:
            if c["how"] is None:
                bad.append(("still open", c["sent"][:40]))
                sel.unregister(c["s"])
            c["s"].close()
            try:
                rs, _ = parse_responses(c["data"])
            except ValueError:
                bad.append(("not HTTP", c["data"][:60]))
                continue
            for r in rs:
                if r[0] not in ok_status and not (r[0] == 200 and c["sent"].startswith(b"GET /hello")):
                    bad.append((r[0], c["sent"][:40]))
            n_done += 1
        sel.close()
    check(not bad, f"garbage: {N['garbage']} connections of random bytes all closed by the server "
                   f"with a 4xx or nothing ({time.monotonic() - t0:.1f} s); bad: {bad[:3]}")


def phase_disconnect(ctx):
    port, check = ctx["port"], ctx["check"]
    mib = 1 << 20
    k = N["disc_each"]
    errors = []

    def mid_request(rst):
        s = socket.create_connection((HOST, port), timeout=30)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % mib + b"r" * (mib // 2))
        (rst_close if rst else socket.socket.close)(s)

    def mid_response(rst):
        s = socket.create_connection((HOST, port), timeout=60)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % mib + b"e" * mib)
        got = s.recv(1024)
        if not got.startswith(b"HTTP/1.1 200"):
            errors.append(("mid-response: no 200 start", got[:40]))
        (rst_close if rst else socket.socket.close)(s)

    def in_flight(rst):
        s = socket.create_connection((HOST, port), timeout=30)
        s.sendall(b"GET /cpu?n=100 HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.02)
        (rst_close if rst else socket.socket.close)(s)

    def half_close_then_gone():
        # says it is done, then resets before reading its answer
        s = socket.create_connection((HOST, port), timeout=30)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % mib + b"h" * mib)
        s.shutdown(socket.SHUT_WR)
        rst_close(s)

    jobs = []
    for i in range(k):
        rst = bool(i % 2)
        jobs += [(mid_request, (rst,)), (mid_response, (rst,)), (in_flight, (rst,)), (half_close_then_gone, ())]

    def run(fn, args):
        try:
            fn(*args)
        except OSError as e:
            # the server may legitimately reset a connection we abandoned;
            # anything before our own close is a failure
            errors.append((fn.__name__, repr(e)))

    # 8 at a time: enough overlap to have responses being written while
    # others vanish, without turning this into a CPU benchmark
    for j in range(0, len(jobs), 8):
        ths = [threading.Thread(target=run, args=job) for job in jobs[j:j + 8]]
        for t in ths:
            t.start()
        for t in ths:
            t.join(120)
    check(not errors, f"disconnect: {len(jobs)} clients gone mid-request, mid-response (1 MiB echo) and in "
                      f"flight (/cpu), FIN and RST; client-side errors before closing: {errors[:3]}")


# ---- the run ----------------------------------------------------------------------------------------------

def main():
    args = [a for a in sys.argv[1:] if a != "--long"]
    if len(args) < 2:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(args[0]), args[1:]
    for ex in ("hello.wasm", "echo.wasm", "cpu.wasm"):
        if not os.path.exists(os.path.join(examples, ex)):
            print(f"{ex} missing in {examples}: skipped")
            sys.exit(77)
    with open(shutil.which(cmd[0]) or cmd[0], "rb") as f:
        asan = b"AddressSanitizer" in f.read()
    slack = 3 if asan else 1
    # Thousands of sockets on both sides: raise the descriptor limit to the
    # hard limit (the server inherits it) and scale down if it is low.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = N["idle"] + N["over"] + N["max_conns"] + 512
    if hard != resource.RLIM_INFINITY and hard < want:
        f = max(0.1, (hard - 512) / (want - 512))
        for key in ("idle", "over", "max_conns"):
            N[key] = int(N[key] * f)
        print(f"     RLIMIT_NOFILE hard limit {hard}: idle/over/max-connections scaled to "
              f"{N['idle']}/{N['over']}/{N['max_conns']}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else want, hard))

    tmp = tempfile.mkdtemp(prefix="wedge-hostile-clients-")
    slow_ok = {"timeout-us": 60000000}
    routes = [
        {"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 2000000, **slow_ok},
        {"route": "/echo", "path": os.path.join(examples, "echo.wasm"), "relative-deadline-us": 5000000, **slow_ok},
        {"route": "/cpu", "path": os.path.join(examples, "cpu.wasm"), "relative-deadline-us": 5000000, **slow_ok},
    ]
    access = os.path.join(tmp, "access.jsonl")
    figures = {}
    t_start = time.monotonic()
    failures = serve_and_check(
        cmd, routes, tmp,
        ["--no-admission", "--request-timeout-ms", str(REQ_TIMEOUT_MS), "--idle-timeout-ms", str(IDLE_TIMEOUT_MS),
         "--max-connections", str(N["max_conns"]), "--access-log", access],
        lambda proc, port, log_text, check: run_phases(proc, port, log_text, check, asan, slack, figures, access))
    print(f"     figures ({'long' if LONG else 'short'} run, {time.monotonic() - t_start:.0f} s): "
          f"{json.dumps(figures)}")
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(1)
    print("all hostile-client checks passed")


def wait_fds(pid, target, timeout):
    end = time.monotonic() + timeout
    n = fd_count(pid)
    while n > target and time.monotonic() < end:
        time.sleep(0.2)
        n = fd_count(pid)
    return n


def run_phases(proc, port, log_text, check, asan, slack, figures, access):
    pid = proc.pid
    lim = nofile_limit(pid)
    check(lim >= N["max_conns"] + 64, f"server's descriptor limit {lim} covers --max-connections {N['max_conns']}")
    # Warm-up: first-use costs (pools, allocator arenas, compile cache pages)
    # before the baselines.
    for _ in range(20):
        get(port, "/hello")
    for _ in range(4):
        s = socket.create_connection((HOST, port), timeout=60)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1048576\r\n\r\n" +
                  b"w" * (1 << 20))
        read_until_close(s, 60)
        s.close()
    get(port, "/cpu?n=1")
    time.sleep(1.0)
    fd0, rss0 = fd_count(pid), rss_kib(pid)
    print(f"     baseline: {fd0} descriptors, RSS {rss0} KiB, descriptor limit {lim}", flush=True)
    healthy = Healthy(port, proc)
    healthy.start()
    ctx = dict(port=port, pid=pid, check=check, asan=asan, slack=slack, healthy=healthy, figures=figures,
               log_text=log_text)
    phases = [("trickle", phase_trickle), ("idle", phase_idle), ("pipeline", phase_pipeline),
              ("smuggling", phase_smuggling), ("oversized", phase_oversized), ("garbage", phase_garbage),
              ("disconnect", phase_disconnect)]
    timings = {}
    peak_rss = rss0
    rss_rounds, fd_rounds = [], []
    try:
        for rnd in range(ROUNDS):
            wrk = None
            for name, fn in phases:
                if name == "pipeline":
                    wrk = start_wrk(port, 4 if not LONG else 20)
                t0 = time.monotonic()
                print(f"---- round {rnd + 1}: {name}", flush=True)
                healthy.phase = f"{rnd + 1}/{name}"
                try:
                    fn(ctx)
                except Exception:      # noqa: BLE001 — one phase failing must not hide the others
                    check(False, f"{name}: exception\n{traceback.format_exc()}")
                timings[name] = timings.get(name, 0) + round(time.monotonic() - t0, 1)
                alive = proc.poll() is None
                check(alive, f"{name}: server alive afterwards")
                if not alive:
                    return
                peak_rss = max(peak_rss, rss_kib(pid))
            finish_wrk(wrk, check, figures)
            # Nothing kept per dead connection: descriptors back to the
            # baseline after every round (drain timeouts are 2 s), but for
            # the healthy clients' own two connections.
            fds = wait_fds(pid, fd0 + 2, 30 * slack)
            fd_rounds.append(fds)
            check(fds <= fd0 + 2, f"round {rnd + 1}: descriptors back to the baseline: {fds} "
                                  f"(baseline {fd0} + the 2 healthy clients)")
            time.sleep(1.0)
            rss_rounds.append(rss_kib(pid))
            print(f"     round {rnd + 1}: RSS {rss_rounds[-1]} KiB", flush=True)
    finally:
        healthy.finish()
    figures["phase_seconds"] = timings
    hn = healthy.n["fresh"] + healthy.n["kept"]
    figures["healthy"] = dict(ok=healthy.n, bad=len(healthy.bad), max_latency_s=round(healthy.max_lat, 3))
    check(healthy.n["fresh"] > 0 and healthy.n["kept"] > 0 and not healthy.bad,
          f"healthy clients: {hn} answers {healthy.n}, all 200 (max latency {healthy.max_lat:.2f} s); "
          f"other: {healthy.bad[:3]}")

    fds = wait_fds(pid, fd0, 30 * slack)
    figures["fds"] = dict(baseline=fd0, after_each_round=fd_rounds, at_the_end=fds)
    check(fds <= fd0, f"descriptors back to the baseline once the healthy clients stopped: {fds} (baseline {fd0})")
    # No CPU spent at rest.
    time.sleep(1.0)
    c0, w0 = cpu_seconds(pid), time.monotonic()
    time.sleep(2.0)
    frac = (cpu_seconds(pid) - c0) / (time.monotonic() - w0)
    figures["rest_cpu_fraction"] = round(frac, 4)
    check(frac < 0.02 * slack, f"no CPU spent at rest: {frac * 100:.2f}% of a core")
    rss = rss_kib(pid)
    figures["rss_kib"] = dict(baseline=rss0, peak=peak_rss, after_each_round=rss_rounds)
    print(f"     RSS: baseline {rss0} KiB, peak {peak_rss} KiB, after each round {rss_rounds} KiB")
    if asan:
        print("     skip RSS checks: the server is built with AddressSanitizer (its quarantine keeps freed memory)")
    else:
        # Back near the baseline after a round (the listener hands freed
        # memory back once a crowd of connections is gone), and no growth
        # from one round to the next.
        check(rss_rounds[0] <= rss0 + RSS_FIRST_KIB,
              f"RSS after round 1 near the baseline: {rss_rounds[0]} KiB <= {rss0} + {RSS_FIRST_KIB} KiB")
        check(rss <= rss_rounds[0] + RSS_AGAIN_KIB,
              f"RSS does not grow round after round: {rss} KiB <= {rss_rounds[0]} + {RSS_AGAIN_KIB} KiB")
    with open(access, errors="replace") as f:
        acc = f.read()
    check(SM_PATH not in acc, "access log: no request hidden behind a refused one was ever parsed")
    st, _ = get(port, "/hello")
    check(st == 200, f"still serving afterwards (got {st})")


if __name__ == "__main__":
    main()
