#!/usr/bin/env python3
"""nginx in front of `wedge serve` nodes (docs/cluster.md "nginx"): the
documented upstream and server blocks, run for real on loopback — two
nodes, each with a lazy store route from one `wedge store`, behind nginx.

Usage: nginx_e2e.py WEDGE

The guest is tests/serve/guests/snap_counter.c (its snapshot holds an 8 MiB
table; a pristine answer proves the instance came from the snapshot).
Sequence: 20 requests through nginx all answer pristine 200s and reach both
nodes (per their /metrics); node1 is killed (SIGKILL): the next 20 requests
all answer 200 (nginx re-sends a request no node received to the other,
`proxy_next_upstream error timeout`).  Exit 77 (skipped) without nginx or
clang for wasm32-wasi, with the reason.  About 15 s (each node compiles
the guest into its own cache, as separate machines would).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "serve"))
from remote_e2e import PRISTINE, Store, fetch  # noqa: E402
from serve_util import HOST, Server, build_snap_counter, checker, free_port, metric, metrics_text, stop_and_check  # noqa: E402

KEY = b"nginx-e2e-pre-shared-key-0123456789\n"


def upstream_total(admin):
    """Requests the node took (its /metrics)."""
    return metric(metrics_text(admin), "wedge_requests_total") or 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    wedge = sys.argv[1]
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    clang = shutil.which("clang")
    if not nginx or not clang:
        print(f"skipped 1 test: {'nginx' if not nginx else 'clang'} missing")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="wedge-nginx-e2e-")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache"))
    sdir = os.path.join(tmp, "store")
    os.mkdir(sdir)
    wasm = os.path.join(sdir, "counter.wasm")
    build_snap_counter(clang, wasm)
    check, failures = checker()

    r = subprocess.run([wedge, "snapshot", wasm, "-o", os.path.join(sdir, "counter.snap")], capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0, f"wedge snapshot exits 0 ({r.stderr.strip()[:200]})")
    keyfile = os.path.join(tmp, "key")
    with open(keyfile, "wb") as f:
        f.write(KEY)
    sport = free_port()
    store = Store(wedge, sdir, keyfile, sport, os.path.join(tmp, "store.log"), env)
    route = {"route": "/app", "path": f"wedge://{HOST}:{sport}/counter", "fetch": "lazy", "entry": "handle",
             "relative-deadline-us": 2000000, "timeout-us": 20000000}
    nodes = []
    for i in (1, 2):
        # Each node its own node cache, as on separate machines (the compile cache too: that is in it).
        nenv = dict(env, WEDGE_CACHE_DIR=os.path.join(tmp, f"cache{i}"))
        nodes.append(Server([wedge, "serve", "--workers", "2", "--no-admission", "--store-key-file", keyfile],
                            lambda port: [{"name": "fn", "port": port, "routes": [route]}], tmp, nenv, admin=True,
                            name=f"node{i}"))
    ngx = None
    try:
        check(all(n.state == "listening" for n in nodes), f"both nodes listening ({[n.state for n in nodes]})")
        lport = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(tmp, "ngx", d), exist_ok=True)
        # The upstream and server blocks are docs/cluster.md's, with loopback ports.
        with open(conf, "w") as f:
            f.write(f"""daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/ngx/body;
    proxy_temp_path {tmp}/ngx/proxy;
    fastcgi_temp_path {tmp}/ngx/fastcgi;
    uwsgi_temp_path {tmp}/ngx/uwsgi;
    scgi_temp_path {tmp}/ngx/scgi;
    upstream wedge {{
        least_conn;
        server {HOST}:{nodes[0].port} max_fails=2 fail_timeout=5s;
        server {HOST}:{nodes[1].port} max_fails=2 fail_timeout=5s;
        keepalive 64;
    }}
    server {{
        listen {HOST}:{lport};
        location / {{
            proxy_pass http://wedge;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
""")
        user = ["-g", "user root;"] if os.geteuid() == 0 else []
        ngx = subprocess.Popen([nginx, "-p", tmp, "-c", conf, *user], stderr=subprocess.PIPE, text=True)
        up = False
        for _ in range(200):
            try:
                fetch(f"http://{HOST}:{lport}/nothing", timeout=2)
                up = True
                break
            except OSError:
                time.sleep(0.05)
        check(up, "nginx listening")
        answers = [fetch(f"http://{HOST}:{lport}/app")[:2] for _ in range(20)]
        check(all(a == (200, PRISTINE) for a in answers), f"20 requests through nginx: pristine 200s "
              f"({[a[0] for a in answers]})")
        per = [upstream_total(n.admin) for n in nodes]
        check(all(p > 0 for p in per) and sum(per) >= 20, f"both nodes answered some ({per})")
        nodes[0].proc.send_signal(signal.SIGKILL)
        nodes[0].proc.wait(10)
        answers = [fetch(f"http://{HOST}:{lport}/app")[:2] for _ in range(20)]
        check(all(a == (200, PRISTINE) for a in answers), f"node1 killed: the next 20 requests all 200 "
              f"({[a[0] for a in answers]})")
    finally:
        if ngx:
            ngx.send_signal(signal.SIGQUIT)
            try:
                ngx.wait(10)
            except subprocess.TimeoutExpired:
                ngx.kill()
        store.kill()
        if nodes[1].state == "listening":
            stop_and_check(nodes[1], check)
        if nodes[0].proc.poll() is None:
            nodes[0].stop()
    if failures:
        for n in nodes:
            print(f"{n.name} log (last 30 lines):\n" + "\n".join(n.log_text().splitlines()[-30:]))
        err = os.path.join(tmp, "nginx-error.log")
        if os.path.exists(err):
            print("nginx error log:\n" + open(err).read()[-2000:])
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all nginx checks passed")


if __name__ == "__main__":
    main()
