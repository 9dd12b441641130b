#!/usr/bin/env python3
"""A request whose client has gone away is cancelled, with real clients.

Usage: cancel_e2e.py EXAMPLES_DIR SERVER [serve]

One worker, no preemption, an endless function (/loop) with a 60 s
timeout.  A client that sends GET /loop and then resets its connection
(SO_LINGER 0: the kernel sends RST, which is what a crashed or killed
client's host does with data in flight) must see its sandbox stopped at
the next timer tick, not at the timeout: /metrics shows
wedge_cancelled_total going up, no sandbox running, no timeout counted
and the admission load back to 0 (the share released), and the one worker
is free for the next request.  A request still queued behind it when its
client leaves is skipped without running.  A client that only half-closes
(SHUT_WR) after its request is not gone: it still gets its answer.
All waits are bounded by the 60 s timeout, never by a tight clock.
Exit 77 (skipped) when the examples were not built.
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time

from serve_util import Server, http_get, metric, metrics_text, reset, send_request


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    if not os.path.exists(os.path.join(examples, "loop.wasm")):
        print("examples not built: skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-cancel-e2e-")
    # A small expected execution time: admission control (0.9 of the one
    # worker) admits a second /loop behind a running one (cancelled runs
    # teach the estimator nothing, so it stays at this).
    routes = [{"route": "/loop", "path": os.path.join(examples, "loop.wasm"), "relative-deadline-us": 1000000,
               "expected-execution-us": 10000, "timeout-us": 60000000},
              {"route": "/hello", "path": os.path.join(examples, "hello.wasm"), "relative-deadline-us": 100000}]
    env = dict(os.environ, WEDGE_CACHE_DIR=os.environ.get("WEDGE_CACHE_DIR") or os.path.join(tmp, "cache"))
    srv = Server(cmd + ["--workers", "1", "--no-preemption", "--log-level", "info"],
                 lambda p: [{"name": "t", "port": p, "routes": routes}], tmp, env, admin=True)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    def wait_metric(name, pred, limit=30):
        end = time.monotonic() + limit
        while True:
            v = metric(metrics_text(srv.admin), name)
            if v is not None and pred(v):
                return v
            if time.monotonic() > end:
                return v
            time.sleep(0.05)

    try:
        if srv.state != "listening":
            sys.exit(f"server did not start ({srv.state}):\n" + srv.log_text())
        port = srv.port
        check(metric(metrics_text(srv.admin), "wedge_cancelled_total") == 0, "wedge_cancelled_total starts at 0")

        # 1. Running: the client resets while its sandbox spins.
        t0 = time.monotonic()
        a = send_request(port, "/loop")
        running = wait_metric('wedge_sandboxes{state="running"}', lambda v: v >= 1)
        check(running == 1, "the endless function is running")
        reset(a)
        v = wait_metric("wedge_cancelled_total", lambda v: v >= 1)
        check(v == 1, f"running request cancelled after its client reset ({v})")
        v = wait_metric('wedge_sandboxes{state="running"}', lambda v: v == 0)
        check(v == 0, "no sandbox running after the cancellation")
        check(time.monotonic() - t0 < 50, f"stopped long before its 60 s timeout ({time.monotonic() - t0:.1f} s)")
        text = metrics_text(srv.admin)
        tmo = re.search(r'^wedge_route_timeouts_total\{route="t/loop"\} (\d+)$', text, re.M)
        check(tmo is not None and tmo.group(1) == "0", "not counted as a timeout")
        v = wait_metric("wedge_admission_load", lambda v: v < 0.001)
        check(v is not None and v < 0.001, f"admission share released (load {v})")
        st, body = http_get(port, "/hello", timeout=50)
        check(st == 200 and b"Hello" in body, "the one worker serves the next request")

        # 2. Queued: b runs (the worker is busy for good), c waits behind it;
        # c's client resets, then b's.  Both cancelled, c never started.
        b = send_request(port, "/loop")
        wait_metric('wedge_sandboxes{state="running"}', lambda v: v >= 1)
        q = send_request(port, "/loop")
        v = wait_metric('wedge_sandboxes{state="queued"}', lambda v: v >= 1)
        check(v == 1, "a second request queued behind the running one")
        reset(q)
        time.sleep(0.2)
        reset(b)
        v = wait_metric("wedge_cancelled_total", lambda v: v >= 3)
        check(v == 3, f"the queued and the running request both cancelled ({v})")
        v = wait_metric('wedge_sandboxes{state="queued"}', lambda v: v == 0)
        check(v == 0, "nothing left queued")
        log = srv.log_text()
        check(log.count("stopped, its client left") == 2, "two sandboxes stopped (log), the queued one never ran")

        # 3. Half-close is not gone: the answer still comes.
        h = send_request(port, "/hello")
        h.shutdown(socket.SHUT_WR)
        h.settimeout(50)
        data = b""
        while True:
            d = h.recv(65536)
            if not d:
                break
            data += d
        h.close()
        check(data.startswith(b"HTTP/1.1 200") and b"Hello" in data, "a half-closed client still gets 200")
        check(metric(metrics_text(srv.admin), "wedge_cancelled_total") == 3, "and is not counted as cancelled")

        # 4. One worker is the listener's own thread: every request above
        # ran there, none crossed to another thread.
        text = metrics_text(srv.admin)
        done, handed = metric(text, "wedge_sandboxes_completed_total"), metric(text, "wedge_sandboxes_handed_off_total")
        check(done is not None and done >= 5 and handed == 0,
              f"--workers 1: {done} sandboxes ran on the listener's thread, {handed} handed off (want 0)")
    finally:
        rc = srv.stop()
        check(rc == 0, f"SIGTERM exits 0 ({rc})")
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all cancellation checks passed")


if __name__ == "__main__":
    main()
