#!/usr/bin/env python3
"""SIGHUP reload of `wedge serve`, over loopback sockets.

Usage: reload_e2e.py EXAMPLES_DIR SERVER [serve]

Checks that after SIGHUP:
  - new requests are served by the new configuration (a route added, a
    route's function swapped, a route removed -> 404);
  - a keep-alive connection opened before the reload still works after it
    (no connection dropped);
  - a request in flight during the reload (a slow function) completes 200;
  - a bad new configuration (unknown key; a module that does not exist;
    a new port that another socket holds) is refused with a one-line error
    in the log naming the reason, and the old configuration keeps serving;
  - ports can be added (served at once) and removed (no longer accepting;
    its idle keep-alive connection closed; a request in flight on it still
    answered 200), the admin port unaffected;
  - per-route counters on /metrics survive the reload (no counter of a
    route that is still there goes down: Prometheus' rate() would show a
    false drop), and a removed route's series disappear;
  - SIGTERM afterwards still exits 0.
Exit 77 (CTest: skipped) when the examples were not built.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

from serve_util import HOST, Server, describe_status, free_port


def get(port, path, timeout=30):
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def route_counters(admin):
    """{(series, route): value} for every per-route counter on /metrics
    (the *_total series and the histogram's _bucket/_sum/_count)."""
    st, body = get(admin, "/metrics")
    assert st == 200, st
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r'(wedge_route_\w+)\{route="([^"]*)"(.*)\} (\d+)$', line)
        if m and m.group(1).endswith(("_total", "_bucket", "_sum", "_count")):
            out[(m.group(1) + m.group(3), m.group(2))] = int(m.group(4))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    if not os.path.exists(os.path.join(examples, "hello.wasm")):
        print("examples not built: skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-reload-e2e-")

    def wasm(n):
        return os.path.join(examples, n + ".wasm")

    first = [{"route": "/a", "path": wasm("hello"), "relative-deadline-us": 500000},
             {"route": "/cpu", "path": wasm("cpu"), "relative-deadline-us": 5000000},
             {"route": "/gone", "path": wasm("hello"), "relative-deadline-us": 500000}]
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    srv = Server(cmd + ["--workers", "2", "--log-level", "info"],
                 lambda p: [{"name": "t", "port": p, "routes": first}], tmp, env, admin=True)
    proc, port, cfg, log_text = srv.proc, srv.port, srv.cfg, srv.log_text
    if srv.state != "listening":
        srv.stop()
        sys.exit(f"server did not start ({srv.state}):\n" + log_text())

    def write(routes, p=None, more=()):
        # Written to a temporary name and renamed, as an operator's tool
        # would: the server never reads a half-written file.  `more`: other
        # tenants, (name, port, routes).
        with open(cfg + ".tmp", "w") as f:
            json.dump([{"name": "t", "port": p or port, "routes": routes}]
                      + [{"name": n, "port": q, "routes": r} for n, q, r in more], f)
        os.replace(cfg + ".tmp", cfg)

    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    def wait_log(needle, count, limit=120):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if log_text().count(needle) >= count:
                return True
            time.sleep(0.1)
        return False

    try:
        st, body = get(port, "/a")
        check(st == 200 and b"Hello" in body, "before reload: /a is hello")
        check(get(port, "/b")[0] == 404, "before reload: /b is 404")

        # A keep-alive connection opened before the reload.
        keep = http.client.HTTPConnection(HOST, port, timeout=30)
        keep.request("GET", "/a")
        r = keep.getresponse()
        check(r.status == 200 and b"Hello" in r.read(), "keep-alive connection: first request")

        # A request in flight across the reload.
        slow = {}

        def slow_request():
            slow["r"] = get(port, "/cpu?n=150", timeout=60)

        check(get(port, "/cpu?n=1")[0] == 200 and get(port, "/gone")[0] == 200, "before reload: /cpu, /gone serve")
        # A worker counts a request just after answering it: wait for both.
        cpu_ok = ('wedge_route_responses_total,class="2xx"', "t/cpu")
        for _ in range(50):
            before = route_counters(srv.admin)
            if before.get(cpu_ok, 0) >= 1:
                break
            time.sleep(0.05)

        t = threading.Thread(target=slow_request)
        t.start()
        time.sleep(0.3)

        # New configuration: /a becomes the fib function, /b is added,
        # /gone removed.
        write([{"route": "/a", "path": wasm("fib"), "relative-deadline-us": 500000},
               {"route": "/cpu", "path": wasm("cpu"), "relative-deadline-us": 5000000},
               {"route": "/b", "path": wasm("hello"), "relative-deadline-us": 500000}])
        proc.send_signal(signal.SIGHUP)
        check(wait_log("reloaded", 1), "log says the configuration was reloaded")
        st, body = get(port, "/b")
        check(st == 200 and b"Hello" in body, "after reload: /b added and served")
        st, body = get(port, "/a?n=10")
        check(st == 200 and b"Hello" not in body and b"55" in body, f"after reload: /a runs the new function ({body[:60]!r})")
        check(get(port, "/gone")[0] == 404, "after reload: /gone removed")
        after = route_counters(srv.admin)
        kept = [k for k in before if k[1] in ("t/a", "t/cpu")]
        dropped = [(k, before[k], after.get(k)) for k in kept if after.get(k, -1) < before[k]]
        check(len(kept) > 20 and before.get(cpu_ok, 0) >= 1
              and not dropped, f"per-route counters survive the reload ({len(kept)} series; dropped: {dropped[:3]})")
        check(not [k for k in after if k[1] == "t/gone"] and [k for k in before if k[1] == "t/gone"],
              "a removed route's series disappear from /metrics")
        keep.request("GET", "/b")
        r = keep.getresponse()
        check(r.status == 200 and b"Hello" in r.read(), "keep-alive connection from before the reload still serves")
        t.join(90)
        check(slow.get("r", (0,))[0] == 200, f"request in flight during the reload completed ({slow.get('r', (0, b''))[0]})")

        # Bad configurations: each refused with one line, the old one keeps serving.
        garbage = os.path.join(tmp, "garbage.wasm")
        with open(garbage, "wb") as f:
            f.write(b"\0asm\1\0\0\0 this is not a module")
        bad = [
            ("module that does not compile", [{"route": "/b", "path": garbage, "relative-deadline-us": 500000}],
             None, "garbage.wasm"),
            ("unknown key", [{"route": "/b", "path": wasm("hello"), "relative-deadline-us": 1, "bogus-key": 1}],
             None, "bogus-key"),
            ("missing module", [{"route": "/b", "path": os.path.join(tmp, "nope.wasm"),
                                 "relative-deadline-us": 500000}], None, "nope.wasm"),
            ("a new port another socket holds", [{"route": "/b", "path": wasm("hello"),
                                                   "relative-deadline-us": 500000}], None, "cannot listen on"),
        ]
        taken = socket.socket()
        taken.bind((HOST, 0))
        taken.listen(1)
        for i, (what, routes, p, needle) in enumerate(bad, start=1):
            write(routes, p, [("u", taken.getsockname()[1], routes)] if needle == "cannot listen on" else ())
            proc.send_signal(signal.SIGHUP)
            ok = wait_log("reload refused", i, 60)
            lines = [l for l in log_text().splitlines() if "reload refused" in l]
            check(ok and len(lines) == i and needle in lines[-1],
                  f"bad config ({what}) refused with one line naming it: {lines[-1] if lines else None!r}")
            st, body = get(port, "/b")
            check(st == 200 and b"Hello" in body, f"after the refused reload ({what}) the old config serves")
            check(get(port, "/a?n=10")[0] == 200, f"after the refused reload ({what}) /a still serves")
        check(proc.poll() is None, "server still running")
        keep.request("GET", "/b")
        r = keep.getresponse()
        check(r.status == 200 and r.read() != b"", "keep-alive connection survived every reload")
        keep.close()

        # A good config again after the bad ones.
        write([{"route": "/c", "path": wasm("hello"), "relative-deadline-us": 500000}])
        proc.send_signal(signal.SIGHUP)
        check(wait_log("reloaded", 2), "a good configuration after bad ones is taken")
        check(get(port, "/c")[0] == 200 and get(port, "/b")[0] == 404, "after the second reload: /c only")
        taken.close()

        # Ports added and removed.
        hello_r = [{"route": "/d", "path": wasm("hello"), "relative-deadline-us": 500000},
                   {"route": "/cpu", "path": wasm("cpu"), "relative-deadline-us": 5000000}]
        p2 = free_port()
        write([{"route": "/c", "path": wasm("hello"), "relative-deadline-us": 500000},
               {"route": "/cpu", "path": wasm("cpu"), "relative-deadline-us": 5000000}], None,
              [("u", p2, hello_r)])
        proc.send_signal(signal.SIGHUP)
        check(wait_log("reloaded", 3) and f"listening on {HOST}:{p2} (u)" in log_text(),
              f"a reload adding port {p2} is taken and logs that it listens")
        st, body = get(p2, "/d")
        check(st == 200 and b"Hello" in body, "the added port serves its routes")
        check(get(port, "/c")[0] == 200, "the kept port still serves")
        keep2 = http.client.HTTPConnection(HOST, port, timeout=30)
        keep2.request("GET", "/c")
        r = keep2.getresponse()
        check(r.status == 200 and r.read() != b"", "a keep-alive connection on the port about to go")
        inflight = {}

        def slow_on_old():
            inflight["r"] = get(port, "/cpu?n=150", timeout=60)
        t = threading.Thread(target=slow_on_old)
        t.start()
        time.sleep(0.3)
        write(hello_r, p2)          # only the added port now: the first one goes
        proc.send_signal(signal.SIGHUP)
        check(wait_log("reloaded", 4) and f"no longer listening on port {port}" in log_text(),
              f"a reload removing port {port} is taken and logged")
        try:
            get(port, "/c", timeout=10)
            refused = False
        except OSError:
            refused = True
        check(refused, "the removed port refuses new connections")
        keep2.sock.settimeout(30)
        try:
            gone = keep2.sock.recv(1) == b""
        except OSError:
            gone = True
        check(gone, "its idle keep-alive connection is closed")
        keep2.close()
        t.join(90)
        check(inflight.get("r", (0,))[0] == 200,
              f"a request in flight on the removed port is still answered ({inflight.get('r', (0,))[0]})")
        st, body = get(p2, "/d")
        check(st == 200 and b"Hello" in body, "the remaining port serves")
        check(route_counters(srv.admin) is not None, "the admin port is unaffected")
    finally:
        if proc.poll() is None:
            rc = srv.stop(30)
            check(rc == 0, f"SIGTERM after reloads exits 0 (got {describe_status(rc)})")
    if failures:
        print("server log:\n" + log_text())
        print(f"{len(failures)} failure(s)")
        shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print("all reload checks passed")


if __name__ == "__main__":
    main()
