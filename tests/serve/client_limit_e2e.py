#!/usr/bin/env python3
"""--max-connections-per-address with real clients.

Usage: client_limit_e2e.py EXAMPLES_DIR SERVER [serve]

An attacker at 127.0.0.2 tries to hold more connections than the server
has slots (--max-connections 24), reconnecting as soon as one is closed.
With --max-connections-per-address 6 it holds at most 6: the rest are
closed at accept (wedge_connections_refused_total{reason="per_address"}
counts them), and clients at 127.0.0.3 (python sockets) and 127.0.0.1
(curl, when installed) get 200 for every request throughout.  Once the
attacker is gone its count is back to zero: it can connect again.
About 5 s.  Exit 77 (skipped) when the examples were not built.
"""
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from serve_util import HOST, Server, metric, metrics_text

SLOTS, PER_ADDRESS, ATTACK = 24, 6, 60


def get_from(src, port, path="/hello"):
    s = socket.socket()
    s.settimeout(30)
    s.bind((src, 0))
    s.connect((HOST, port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data


class Attacker(threading.Thread):
    """Keeps up to ATTACK connections from 127.0.0.2 open, sending nothing,
    and replaces every one the server closes at once."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.socks, self.reconnects = port, threading.Event(), [], 0
        self.held, self.errors, self.last_error = 0, 0, None

    def connect(self):
        s = socket.socket()
        try:
            s.bind(("127.0.0.2", 0))
            s.setblocking(False)
            s.connect((HOST, self.port))
        except BlockingIOError:
            pass
        except OSError as e:        # e.g. no ephemeral port free right now: try again later
            self.errors += 1
            self.last_error = repr(e)
            s.close()
            time.sleep(0.01)
            return
        self.socks.append(s)

    def run(self):
        while not self.stop.is_set():
            while len(self.socks) < ATTACK:
                self.connect()
            r, _, _ = select.select(self.socks, [], [], 0.05)
            for s in r:
                try:
                    gone = s.recv(1) == b""
                except OSError:
                    gone = True
                if gone:
                    self.socks.remove(s)
                    s.close()
                    self.reconnects += 1
            self.held = len(self.socks)
        for s in self.socks:
            s.close()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    hello = os.path.join(examples, "hello.wasm")
    if not os.path.exists(hello):
        print("examples not built: skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-client-limit-e2e-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.environ.get("WEDGE_CACHE_DIR") or os.path.join(tmp, "cache"))
    routes = [{"route": "/hello", "path": hello, "relative-deadline-us": 2000000}]
    srv = Server(cmd + ["--workers", "1", "--max-connections", str(SLOTS), "--max-connections-per-address",
                        str(PER_ADDRESS), "--idle-timeout-ms", "60000", "--request-timeout-ms", "60000"],
                 lambda p: [{"name": "t", "port": p, "routes": routes}], tmp, env, admin=True)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    att = None
    try:
        if srv.state != "listening":
            sys.exit(f"server did not start ({srv.state}):\n" + srv.log_text())
        att = Attacker(srv.port)
        att.start()
        end = time.monotonic() + 60
        while time.monotonic() < end and att.reconnects < 3 * ATTACK:
            time.sleep(0.05)
        check(att.reconnects >= 3 * ATTACK, f"the attacker reconnects as soon as it is closed "
              f"({att.reconnects} reconnects; {att.errors} local errors, last {att.last_error})")
        heads = [get_from("127.0.0.3", srv.port).split(b"\r\n", 1)[0] for _ in range(20)]
        ok = sum(1 for h in heads if h.startswith(b"HTTP/1.1 200"))
        bad = [h for h in heads if not h.startswith(b"HTTP/1.1 200")]
        check(ok == 20, f"a client at 127.0.0.3 gets 200 for each of 20 requests during the attack ({ok}; "
              f"others: {bad[:3]})")
        if shutil.which("curl"):
            codes = [subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "30",
                                     f"http://{HOST}:{srv.port}/hello"], capture_output=True, text=True,
                                    timeout=60).stdout for _ in range(5)]
            check(codes == ["200"] * 5, f"curl at 127.0.0.1 gets 200 during the attack ({codes})")
        else:
            print("     curl not installed: 1 curl check skipped")
        # Closed client connections may still be draining for a moment:
        # poll (bounded) rather than read once.
        end = time.monotonic() + 30
        while True:
            text = metrics_text(srv.admin)
            refused = metric(text, 'wedge_connections_refused_total{reason="per_address"}')
            open_now = metric(text, "wedge_open_connections")
            if (open_now is not None and open_now <= PER_ADDRESS + 1) or time.monotonic() > end:
                break
            time.sleep(0.05)
        check(refused is not None and refused >= 2 * ATTACK, f"refused connections counted ({refused})")
        # The attacker's 6 plus this /metrics connection.
        check(open_now is not None and open_now <= PER_ADDRESS + 1,
              f"the attacker holds at most {PER_ADDRESS} connections ({open_now} open in all)")
        check("per-address connection limit (6) reached" in srv.log_text(), "a rate-limited log line says so")
        att.stop.set()
        att.join(30)
        # Its count goes back to zero once its connections are closed.
        end = time.monotonic() + 30
        while time.monotonic() < end and metric(metrics_text(srv.admin), "wedge_open_connections") > 1:
            time.sleep(0.05)
        ok = sum(1 for _ in range(PER_ADDRESS) if get_from("127.0.0.2", srv.port).startswith(b"HTTP/1.1 200"))
        check(ok == PER_ADDRESS, f"afterwards 127.0.0.2 is served again ({ok}/{PER_ADDRESS})")
        held = []
        for _ in range(PER_ADDRESS):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.connect((HOST, srv.port))
            held.append(s)
        extra = socket.socket()
        extra.bind(("127.0.0.2", 0))
        extra.settimeout(30)
        extra.connect((HOST, srv.port))
        try:
            closed = extra.recv(1) == b""
        except OSError:
            closed = True
        check(closed, f"with {PER_ADDRESS} held again, the next one is closed at once")
        for s in held + [extra]:
            s.close()
    finally:
        if att:
            att.stop.set()
            att.join(30)
        rc = srv.stop()
        check(rc == 0, f"SIGTERM exits 0 ({rc})")
        log_tail = srv.log_text().splitlines()[-40:]
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("server log (tail):\n" + "\n".join(log_tail))
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all per-address limit checks passed")


if __name__ == "__main__":
    main()
