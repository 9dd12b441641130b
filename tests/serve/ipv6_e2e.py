#!/usr/bin/env python3
"""IPv6 and dual-stack listening of `wedge serve`, with real clients.

Usage: ipv6_e2e.py EXAMPLES_DIR SERVER [serve]

  --host ::      one socket for both families: an IPv4 client (127.0.0.1)
                 and an IPv6 client (::1) both get 200, over python sockets
                 and curl when it is installed;
  --host ::1     IPv6 only: ::1 gets 200, 127.0.0.1 is refused;
  --host [::1]   the bracketed form is the same address;
  --host nohost  one clear line, exit 1;
  {"host": "::", "ports": [...]} without --host: dual-stack as with --host ::,
                 and a SIGHUP that changes "host" is refused (one that keeps it reloads);
  {"host": "::1", ...} with --host ::: the flag wins (IPv4 answered too).
Exit 77 (skipped, reason printed) when the examples are missing or this
machine has no IPv6 loopback.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from serve_util import describe_status, http_get, stop


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port6():
    """A port free a moment ago on both families."""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
        return s.getsockname()[1]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    examples, cmd = os.path.abspath(sys.argv[1]), sys.argv[2:]
    hello = os.path.join(examples, "hello.wasm")
    if not os.path.exists(hello):
        print("examples not built: skipped")
        sys.exit(77)
    if not ipv6_loopback():
        print("no IPv6 loopback (::1) on this machine: 6 IPv6 runs skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-ipv6-e2e-")
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    env = dict(os.environ, WEDGE_CACHE_DIR=os.environ.get("WEDGE_CACHE_DIR") or os.path.join(tmp, "cache"))

    def serve(host, cfg_host=None, flag=True):
        """A server on `host`; (proc, port, log path) once it logged that it
        listens, or (proc, None, log) when it exited first.  cfg_host: the
        configuration is the object form with that "host"; flag False: no
        --host (the server listens where the configuration says).  A port
        another process took meanwhile means a new try on a fresh one (as
        serve_util.start does)."""
        for _ in range(3):
            proc, port, log = serve_once(host, cfg_host, flag)
            if port is not None or "Address already in use" not in open(log).read():
                break
            print(f"     a port was taken before the server could bind it: new port", flush=True)
        return proc, port, log

    def serve_once(host, cfg_host, flag):
        port = free_port6()
        cfg = os.path.join(tmp, "cfg.json")
        ports = [{"name": "t", "port": port,
                  "routes": [{"route": "/hello", "path": hello, "relative-deadline-us": 2000000}]}]
        with open(cfg, "w") as f:
            json.dump({"host": cfg_host, "ports": ports} if cfg_host else ports, f)
        log = os.path.join(tmp, "server.log")
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd + ["--workers", "1", *(["--host", host] if flag else []), cfg], stdout=out,
                                    stderr=subprocess.STDOUT, env=env)
        shown = host if host.startswith("[") or ":" not in host else f"[{host}]"
        end = time.monotonic() + 300
        while time.monotonic() < end:
            with open(log) as f:
                text = f.read()
            if f"listening on {shown}:{port} " in text:
                return proc, port, log
            if proc.poll() is not None:
                return proc, None, log
            time.sleep(0.1)
        return proc, None, log

    def wait_log(log, text, limit=60):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            with open(log) as f:
                if text in f.read():
                    return True
            time.sleep(0.1)
        return False

    def reload_keeps_host(proc, port, log, cfg_host):
        """SIGHUP with another "host" is refused (the ports stay where they
        are, still answering both families); with the same one it reloads."""
        cfg = os.path.join(tmp, "cfg.json")
        with open(cfg) as f:
            doc = json.load(f)
        doc["host"] = "127.0.0.1"
        with open(cfg, "w") as f:
            json.dump(doc, f)
        proc.send_signal(signal.SIGHUP)
        check(wait_log(log, f'"host" changed from {cfg_host} to 127.0.0.1'),
              'SIGHUP with another "host": reload refused with the reason')
        st = http_get(port, "/hello", host="::1", timeout=20)[0]
        st4 = http_get(port, "/hello", host="127.0.0.1", timeout=20)[0]
        check(st == 200 and st4 == 200, f"after the refused reload both families still get 200 ({st}, {st4})")
        doc["host"] = cfg_host
        with open(cfg, "w") as f:
            json.dump(doc, f)
        proc.send_signal(signal.SIGHUP)
        check(wait_log(log, "reloaded "), 'SIGHUP with the same "host": reloaded')

    def run(host, expect4, cfg_host=None, flag=True):
        proc, port, log = serve(host, cfg_host, flag)
        if cfg_host:
            host = f"{host} (config \"host\": {cfg_host}{'' if flag else ', no --host'})"
        try:
            check(port is not None, f"--host {host}: listening ({describe_status(proc.poll())})"
                  if proc.poll() is not None else f"--host {host}: listening")
            if port is None:
                print(open(log).read())
                return
            st, body = http_get(port, "/hello", host="::1", timeout=20)
            check(st == 200 and b"Hello" in body, f"--host {host}: an IPv6 client (::1) gets 200 ({st})")
            try:
                st4 = http_get(port, "/hello", host="127.0.0.1", timeout=20)[0]
            except OSError as e:
                st4 = type(e).__name__
            check(st4 == expect4, f"--host {host}: an IPv4 client (127.0.0.1): {st4} (expected {expect4})")
            if shutil.which("curl"):
                out = subprocess.run(["curl", "-sg", "-m", "20", f"http://[::1]:{port}/hello"],
                                     capture_output=True, timeout=30).stdout
                check(b"Hello" in out, f"--host {host}: curl over IPv6 gets the greeting")
            else:
                print(f"     curl not installed: 1 curl check skipped for --host {host}")
            if cfg_host and not flag:
                reload_keeps_host(proc, port, log, cfg_host)
        finally:
            rc = stop(proc)
            check(rc == 0, f"--host {host}: SIGTERM exits 0 ({describe_status(rc)})")

    try:
        run("::", 200)
        run("::1", "ConnectionRefusedError")
        run("[::1]", "ConnectionRefusedError")
        run("::", 200, cfg_host="::", flag=False)             # the configuration's "host"
        run("::", 200, cfg_host="::1")                        # --host wins over it
        r = subprocess.run(cmd + ["--host", "nohost", os.path.join(tmp, "cfg.json")], capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "--host nohost: not an IPv4 or IPv6 address" in r.stderr,
              f"--host nohost: one clear line and exit 1 ({r.returncode}: {r.stderr.strip()!r})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all IPv6 checks passed")


if __name__ == "__main__":
    main()
