#!/usr/bin/env python3
"""One event loop per worker (--workers 2), with real clients.

Usage: loops_e2e.py EXAMPLES_DIR SERVER [serve]

  keep-alive  8 keep-alive connections x 40 sequential /hello, spread over
              both loops by the kernel: every one 200, and
              wedge_sandboxes_handed_off_total (jobs run by another worker
              than the one whose loop read them) stays under 10% of them.
              With one listener thread handing every request to worker
              threads it was 100%.
  steal       --no-preemption: an endless /loop (1 s timeout) holds one
              loop's worker; /cpu requests arrive meanwhile on the other
              keep-alive connections of that loop (of 12 opened before,
              spread over both loops; which loop holds which is found from
              the request ids in the access log): the idle worker takes
              some (wedge_steals_total and the handed-off count go up),
              every /cpu is 200, the /loop 504.
  cancel      a /loop whose admission share (1.0 of 1.8) keeps a second
              /loop out (429) is cancelled when its client resets: then
              the next /loop is admitted; wedge_cancelled_total counts it
              and the access log has one line with status 499 for it.
  ids         request ids in the access log are unique across loops.

All waits are bounded; no tight timing is asserted.  About 6 s.
Exit 77 (skipped) when the examples were not built.
"""
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

from serve_util import HOST, Server, metric, metrics_text, reset, send_request


def read_status(s):
    """Status of the one response on s (None if the server closed first)."""
    data = b""
    while b"\r\n" not in data:
        d = s.recv(65536)
        if not d:
            return None
        data += d
    return int(data.split(b" ", 2)[1])


def keepalive_client(port, n, out):
    s = socket.create_connection((HOST, port), timeout=30)
    buf = b""
    for _ in range(n):
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        while True:
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                if len(rest) >= length:
                    out.append(int(head.split(b" ", 2)[1]))
                    buf = rest[length:]
                    break
            d = s.recv(65536)
            if not d:
                out.append(None)
                s.close()
                return
            buf += d
    s.close()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    for m in ("hello", "loop", "cpu"):
        if not os.path.exists(os.path.join(examples, m + ".wasm")):
            print("examples not built: skipped")
            sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-loops-e2e-")
    access = os.path.join(tmp, "access.log")
    routes = [{"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 100000},
              {"route": "/cpu", "path": os.path.join(examples, "cpu.wasm"), "relative-deadline-us": 10000000,
               "expected-execution-us": 1000},
              # share 1.0 of the 2 workers' 1.8: a second one is refused
              {"route": "/loop", "path": os.path.join(examples, "loop.wasm"), "relative-deadline-us": 1000000,
               "expected-execution-us": 1000000, "timeout-us": 1000000}]
    env = dict(os.environ, WEDGE_CACHE_DIR=os.environ.get("WEDGE_CACHE_DIR") or os.path.join(tmp, "cache"))
    srv = Server(cmd + ["--workers", "2", "--no-preemption", "--log-level", "info", "--access-log", access],
                 lambda p: [{"name": "t", "port": p, "routes": routes}], tmp, env, admin=True)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    def m(name):
        return metric(metrics_text(srv.admin), name)

    def wait_metric(name, pred, limit=30):
        end = time.monotonic() + limit
        while True:
            v = m(name)
            if (v is not None and pred(v)) or time.monotonic() > end:
                return v
            time.sleep(0.05)

    try:
        if srv.state != "listening":
            sys.exit(f"server did not start ({srv.state}):\n" + srv.log_text())
        port = srv.port

        # keep-alive: no hand-off between threads
        conns, per = 8, 40
        results = []
        threads = [threading.Thread(target=keepalive_client, args=(port, per, results)) for _ in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        check(len(results) == conns * per and set(results) == {200},
              f"keep-alive: {conns} x {per} /hello all 200 ({len(results)} answers, {set(results)})")
        handed = m("wedge_sandboxes_handed_off_total")
        check(handed is not None and handed < 0.1 * conns * per,
              f"keep-alive: {handed} of {conns * per} requests handed to another thread (want < 10%)")

        # steal: one worker busy for good, a burst arrives on connections
        # opened before, some of them on the busy worker's loop.  Which loop
        # owns a connection is read from the access log: loop i of n hands
        # out the request ids i, i + n, ...
        steals0, handed0 = m("wedge_steals_total"), m("wedge_sandboxes_handed_off_total")
        conns = [socket.create_connection((HOST, port), timeout=30) for _ in range(12)]
        for k, s in enumerate(conns):
            s.sendall(f"GET /hello?c={k} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        st = [read_status(s) for s in conns]
        check(st == [200] * 12, f"steal: 12 keep-alive connections opened ({st})")
        owner = {}
        end = time.monotonic() + 30
        while len(owner) < 12 and time.monotonic() < end:
            time.sleep(0.2)         # the log is flushed every 100 ms
            with open(access) as f:
                for line in f:
                    e = json.loads(line)
                    if (e.get("target") or "").startswith("/hello?c="):
                        owner[int(e["target"].split("=")[1])] = e["id"] % 2
        by_loop = [[k for k in owner if owner[k] == i] for i in (0, 1)]
        busy = max(by_loop, key=len)
        check(len(owner) == 12, f"steal: the connections' loops from the access log ({by_loop})")
        lp, others = conns[busy[0]], [conns[k] for k in busy[1:]]
        lp.sendall(b"GET /loop HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_metric('wedge_sandboxes{state="running"}', lambda v: v >= 1)
        for s in others:
            s.sendall(b"GET /cpu?n=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        st = [read_status(s) for s in others]
        check(st == [200] * len(others), f"steal: {len(others)} /cpu beside a busy worker all 200 ({st})")
        check(read_status(lp) == 504, "steal: the endless /loop ends 504 at its timeout")
        for s in conns:
            s.close()
        steals, handed = m("wedge_steals_total"), m("wedge_sandboxes_handed_off_total")
        check(steals is not None and steals > steals0 and handed > handed0,
              f"steal: the idle worker took queued jobs (steals {steals0} -> {steals}, handed off {handed0} -> "
              f"{handed})")

        # cancel: the share comes back
        wait_metric("wedge_admission_load", lambda v: v < 0.001)
        a = send_request(port, "/loop")
        wait_metric('wedge_sandboxes{state="running"}', lambda v: v >= 1)
        b = send_request(port, "/loop")
        check(read_status(b) == 429, "cancel: a second /loop is refused while the first holds its share")
        b.close()
        c0 = m("wedge_cancelled_total")
        reset(a)
        v = wait_metric("wedge_cancelled_total", lambda v: v >= c0 + 1)
        check(v == c0 + 1, f"cancel: the reset client's request cancelled ({c0} -> {v})")
        v = wait_metric("wedge_admission_load", lambda v: v < 0.001)
        check(v is not None and v < 0.001, f"cancel: admission share released (load {v})")
        c = send_request(port, "/loop")
        check(read_status(c) == 504, "cancel: the next /loop is admitted (runs to its timeout, 504)")
        c.close()
    finally:
        rc = srv.stop()
        check(rc == 0, f"SIGTERM exits 0 ({rc})")
    lines = []
    with open(access) as f:
        for line in f:
            try:
                lines.append(json.loads(line))
            except ValueError:
                check(False, f"access log: a line that is not JSON: {line[:80]!r}")
    c499 = [e for e in lines if e.get("status") == 499]
    check(len(c499) == 1 and c499[0].get("route") == "t/loop",
          f"access log: one 499 line, for /loop ({len(c499)})")
    ids = [e.get("id") for e in lines]
    check(len(ids) == len(set(ids)) and len(ids) >= 8 * 40 + 26,
          f"access log: {len(ids)} lines, ids unique across loops ({len(ids) - len(set(ids))} repeated)")
    if failures:
        print(srv.log_text()[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all loop checks passed")


if __name__ == "__main__":
    main()
