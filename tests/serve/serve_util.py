"""Starting and stopping `wedge serve` for the end-to-end tests, the soak
(tests/soak/soak.py) and the benchmarks (bench/serve/run_serve.py): one
copy of the port handling, so every script starts its server the same way.

A script cannot ask the server for port 0 and learn the port back, so it
picks one: free_port() names a port that was free a moment ago, and the
server binds it only after compiling every route (seconds under load).
Another process may take the port meanwhile.  Then the server exits with
"wedge: serve: cannot listen on HOST:PORT: Address already in use", and
connecting to the port would reach that other process, not ours.  So a
start counts only once the server itself logged "listening on HOST:PORT
(...)" for every port it was given (its tenant port and, with --admin-port,
"(admin: /metrics)"), and a server that could not bind one is started
again on fresh ports, at most TRIES times in all.

  free_port()            a loopback port free a moment ago
  start(launch, ...)     the retry loop around any way of launching
  Server(cmd, config, tmp, ...)
                         the usual case: configuration in TMP/NAME.json,
                         output in TMP/NAME.log, started by start()
  stop(proc, timeout)    SIGTERM and wait; the caller checks for exit 0
  describe_status(rc)    an exit status in words, for failure messages
  rss_kib(pid), fd_count(pid)
  serve_and_check(...)   a whole check-style test around one server
  http_get(port, path)   (status, body) of one GET on a new connection
  metrics_text(admin), metric(text, name)
                         GET /metrics, and one series' value in it
  checker()              (check, failures): check(cond, what) prints ok/FAIL
                         and keeps each failure
  build_snap_counter(clang, out)
                         the snapshot guest as a wasm32-wasi reactor, or
                         exit 77 (skipped) when clang cannot build one
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback

HOST = "127.0.0.1"
TRIES = 3                   # starts on fresh ports when a port was taken
SAN_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
LOG_TAIL = 200              # server log lines serve_and_check prints on failure
SNAP_COUNTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guests", "snap_counter.c")


def checker():
    """A check-style test's two parts: check(cond, what) prints "ok" or
    "FAIL" and the text, and appends each failed one to failures."""
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)
    return check, failures


def build_snap_counter(clang, out):
    """Builds guests/snap_counter.c (the snapshot tests' reactor) at out;
    a clang that cannot build wasm32-wasi reactors ends the test with exit
    77 and the reason."""
    r = subprocess.run([clang, "--target=wasm32-wasi", "-mexec-model=reactor", "-O2", SNAP_COUNTER, "-o", out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"skipped 1 test: cannot build a wasm32-wasi reactor\n{r.stderr}")
        sys.exit(77)


def free_port():
    return _free_ports(1)[0]


def _free_ports(n):
    """n distinct ports, all held at once while they are picked."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_get(port, path, host=HOST, timeout=30):
    """(status, body) of GET path on a new connection to host:port."""
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def metrics_text(admin):
    """The admin port's /metrics text."""
    return http_get(admin, "/metrics")[1].decode()


def metric(text, name):
    """The value of the series `name` (with its labels) in /metrics text,
    or None when it is not there."""
    import re
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def describe_status(rc):
    if rc is None:
        return "did not exit in time after SIGTERM, killed"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit code {rc}"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def read_until_close(s, timeout):
    """Everything the server sends until it closes.  Returns (bytes, how):
    how is "eof", "reset" or "timeout"."""
    s.settimeout(timeout)
    end = time.monotonic() + timeout
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not d:
            return data, "eof"
        data += d
        if time.monotonic() > end:
            return data, "timeout"
        s.settimeout(max(0.1, end - time.monotonic()))



def send_request(port, path):
    """A socket that has sent GET path (keep-alive) to HOST:port."""
    s = socket.create_connection((HOST, port), timeout=30)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return s


def reset(s):
    """Close s with a reset (SO_LINGER 0): a client that is gone."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

def start(launch, log_text, admin=False, timeout=300):
    """Starts a server on fresh loopback ports and waits until it listens.

    launch(port, admin_port) writes the configuration for these ports,
    starts the server with `--host HOST` (and `--admin-port admin_port`
    when admin is true; admin_port is None otherwise) at log level info
    or more, and returns its Popen; log_text() returns what the latest
    server printed so far (stdout and stderr).  Each try may take
    `timeout` seconds.  Returns (proc, port, admin_port, state): state is
    "listening" once the server logged that it listens on every port and
    a connection to each succeeds, else what went wrong.
    """
    for _ in range(TRIES):
        ports = _free_ports(2 if admin else 1)
        proc = launch(ports[0], ports[1] if admin else None)
        state, taken = _wait_listening(proc, ports, log_text, timeout)
        if taken is None:
            break
        print(f"     port {taken} was taken before the server could bind it: new port(s)", flush=True)
        state = f"a port was taken before the server could bind it, {TRIES} times"
    return proc, ports[0], ports[1] if admin else None, state


def _wait_listening(proc, ports, log_text, timeout):
    """(state, None), or (_, the port) if the server exited because that
    port was taken."""
    mine = [f"listening on {HOST}:{p} " for p in ports]
    end = time.monotonic() + timeout
    while True:
        text = log_text()
        if proc.poll() is not None:
            for p in ports:
                if f"cannot listen on {HOST}:{p}: Address already in use" in text:
                    return "port taken", p
            return f"exited during start-up: {describe_status(proc.returncode)}", None
        if all(m in text for m in mine):
            try:
                for p in ports:
                    socket.create_connection((HOST, p), timeout=5).close()
                return "listening", None
            except OSError as e:
                return f"logged that it listens, yet connecting fails: {e!r}", None
        if time.monotonic() > end:
            return f"not listening within {timeout} s", None
        time.sleep(0.1)


def stop(proc, timeout=30):
    """SIGTERM, then up to `timeout` s for the server to drain and exit;
    SIGKILL after that.  Returns the exit status (None if it had to be
    killed); a server that had already exited is left as it is."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


class Server:
    """`cmd` (the server command and its options, without --host,
    --admin-port and the configuration file) serving config(port), a
    JSON-able configuration, from TMP/NAME.json, with its stdout and
    stderr in TMP/NAME.log.  Started at once by start(); `state` says
    whether it listens.  The attributes: proc, port, admin (the admin
    port, None without admin=True), state, cfg, log_path."""

    def __init__(self, cmd, config, tmp, env=None, admin=False, timeout=300, name="server"):
        self.cfg = os.path.join(tmp, name + ".json")
        self.log_path = os.path.join(tmp, name + ".log")

        def launch(port, admin_port):
            with open(self.cfg, "w") as f:
                json.dump(config(port), f)
            with open(self.log_path, "w") as log:      # the server keeps its own descriptor
                return subprocess.Popen(cmd + ["--host", HOST]
                                        + (["--admin-port", str(admin_port)] if admin_port else [])
                                        + [self.cfg], stdout=log, stderr=subprocess.STDOUT, env=env)

        self.proc, self.port, self.admin, self.state = start(launch, self.log_text, admin, timeout)

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=30):
        return stop(self.proc, timeout)


def stop_and_check(srv, check):
    """Ends a test's server: one still running gets SIGTERM and must exit
    0; its log must hold no sanitizer report (never a pass, even when every
    answer was right).  Returns (exit status, log text)."""
    rc = srv.proc.poll()
    if rc is None:
        rc = srv.stop(30)
        check(rc == 0, f"SIGTERM exits 0 (got {describe_status(rc)})")
    text = srv.log_text()
    check(not any(m in text for m in SAN_MARKERS), "no sanitizer report in the server log")
    return rc, text


def serve_and_check(cmd, routes, tmp, extra_args, body, hide=None):
    """Serves `routes` (tenant "hostile") with `cmd` + 2 workers + extra_args
    on a fresh loopback port, runs body(proc, port, log_text, check), then
    stops the server: SIGTERM must exit 0 and the log must hold no sanitizer
    report.  check(cond, what) prints ok/FAIL and records a failure.  On
    failure prints the server's exit status and the tail of its log
    (without the lines `hide` matches).  Returns the failed checks."""
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    srv = None
    check, failures = checker()
    text = ""

    try:
        srv = Server(cmd + ["--workers", "2", "--log-level", "info"] + list(extra_args),
                     lambda port: [{"name": "hostile", "port": port, "routes": routes}], tmp, env)
        check(srv.state == "listening", f"server listening on its own port {srv.port} ({srv.state})")
        if srv.state == "listening":
            body(srv.proc, srv.port, srv.log_text, check)
    except BaseException as e:     # noqa: B902 — whatever it is, report it with the server's side
        if isinstance(e, KeyboardInterrupt):
            raise
        failures.append(f"exception: {e!r}")
        print("FAIL exception in the test body:\n" + traceback.format_exc(), flush=True)
    finally:
        # A server that died (crash, sanitizer report, abort) must be a
        # failure of its own, with its exit status named: the fetches that
        # then fail only say "connection refused".
        rc = srv.proc.poll() if srv else 0
        if rc is not None and srv and srv.state == "listening":
            check(False, f"server still running at the end (it exited early: {describe_status(rc)})")
        if srv:
            rc, text = stop_and_check(srv, check)
    if failures:
        lines = [ln for ln in text.splitlines() if not (hide and hide(ln))]
        print(f"server exit status: {describe_status(rc)}")
        print(f"server log ({len(lines)} lines shown; last {min(len(lines), LOG_TAIL)}):")
        print("\n".join(lines[-LOG_TAIL:]))
        print(f"{len(failures)} failure(s)")
    return failures
