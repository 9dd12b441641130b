#!/usr/bin/env python3
"""A real cluster (issue 9 item 5, docs/cluster.md "Testing the cluster"): three `wedge serve`
nodes, one `wedge store` node and a `redis-server` behind HAProxy, each in a
network namespace the test makes itself.

Usage: cluster_e2e.py WEDGE

Topology (made here, deleted on every exit path):

    <p>-hub: bridge br0, one veth per namespace below
    <p>-lb  10.77.0.10  haproxy :80 (checks GET /metrics on each node's admin
                        port :9090), stats :8404; the test's own clients
    <p>-st  10.77.0.2   wedge store :7070 (counter, fresh), redis-server :6379
    <p>-n1..n3 10.77.0.11-13  wedge serve :8080, admin :9090

The guest is tests/serve/guests/snap_counter.c (a reactor whose snapshot
holds an 8 MiB table; a pristine answer proves the instance came from the
snapshot), built with clang at test time.  Routes on every node:

    /local   the module and snapshot from the node's own files
    /snap    wedge://10.77.0.2:7070/counter    (store route)
    /redis   redis://10.77.0.2:6379/counter    (store route, Redis backend)
    /fresh   wedge://10.77.0.2:7070/fresh      (added by a reload while the
                                                store is down: never fetched)

Sequence, with client threads sending requests through HAProxy (a new
connection each, so no request rides on a connection HAProxy kept to a dead
node):
 1. every route answers pristine 200s, from all three nodes;
 2. node1 is killed (SIGKILL) under load: HAProxy marks it down, nothing that
    started after it died (was reaped) fails, and the failures are at most the
    requests in flight between the SIGKILL and its death (counted, printed);
 3. the store and Redis are killed: /snap and /redis keep answering from the
    nodes' copies; a reload adding /fresh answers 503 for it (one log line),
    and the store routes start again from each node's cached copy; node1 is
    restarted while the store is still down, serves /snap from its cached
    copy, and HAProxy takes it back;
 4. the store and Redis come back, a reload on every node loads /fresh: 200
    from all three nodes.

Steps 3 and 4 and the store routes need a `wedge serve` with store routes
(`--store-key-file` in its help); without them the test runs steps 1, 2 and
node1's return on /local alone and says so.  Needs root, `ip netns`,
haproxy, redis-server and clang for wasm32-wasi; any missing: exit 77 with
the reason.  About 10 s.
"""
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(HERE, "..", "serve", "guests", "snap_counter.c")
PRISTINE = b"requests=1 table=pristine bad=0\n"
KEY = b"cluster-e2e-pre-shared-key-0123456789"
NET = "10.77.0."
STORE_IP, LB_IP = NET + "2", NET + "10"
NODE_IP = {f"node{i}": NET + str(10 + i) for i in (1, 2, 3)}
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1

libc = ctypes.CDLL(None, use_errno=True)
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def skip(why):
    print(f"skipped 1 test: {why}", flush=True)
    sys.exit(77)


def ip(*args, check_rc=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


def enter_netns(name):
    """Moves the calling thread (and the threads it starts later) into a
    namespace: the test's clients live in the load balancer's namespace."""
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def die_with_parent():
    # A test killed outright (a CTest timeout) takes its processes along.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale():
    """Namespaces left by an earlier run of this test that was killed
    outright (their names carry its pid): its processes, then them."""
    for line in ip("netns", "list", check_rc=False).stdout.splitlines():
        m = re.match(r"(wcl(\d+)-\w+)", line)
        if m and not pid_alive(int(m.group(2))):
            for p in ip("netns", "pids", m.group(1), check_rc=False).stdout.split():
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            ip("netns", "del", m.group(1), check_rc=False)


class Net:
    def __init__(self):
        self.prefix = f"wcl{os.getpid()}"
        self.made = []

    def ns(self, short):
        return f"{self.prefix}-{short}"

    def build(self):
        hub = self.ns("hub")
        ip("netns", "add", hub)
        self.made.append(hub)
        ip("-n", hub, "link", "add", "br0", "type", "bridge")
        ip("-n", hub, "link", "set", "br0", "up")
        members = {"lb": LB_IP, "st": STORE_IP, "n1": NODE_IP["node1"], "n2": NODE_IP["node2"],
                   "n3": NODE_IP["node3"]}
        for short, addr in members.items():
            name = self.ns(short)
            ip("netns", "add", name)
            self.made.append(name)
            ip("-n", hub, "link", "add", f"v{short}", "type", "veth", "peer", "name", "eth0", "netns", name)
            ip("-n", hub, "link", "set", f"v{short}", "master", "br0", "up")
            ip("-n", name, "addr", "add", addr + "/24", "dev", "eth0")
            ip("-n", name, "link", "set", "eth0", "up")
            ip("-n", name, "link", "set", "lo", "up")

    def delete(self):
        for name in reversed(self.made):
            ip("netns", "del", name, check_rc=False)
        self.made = []


class Proc:
    """One process in a namespace (`ip netns exec` execs it: the pid is the
    process's own), its stderr+stdout in a log file."""

    def __init__(self, net_ns, argv, log, env=None):
        self.log_path = log
        self.logf = open(log, "ab")
        self.p = subprocess.Popen(["ip", "netns", "exec", net_ns, *argv], stdout=self.logf, stderr=self.logf,
                                  stdin=subprocess.DEVNULL, env=env, preexec_fn=die_with_parent)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.logf.close()


def wait_port(host, port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def request(host, port, path, timeout=10):
    """One request on a new connection: (status, body, X-Server) or
    (None, error text, None)."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path, headers={"Connection": "close"})
        r = c.getresponse()
        return r.status, r.read(), r.getheader("X-Server")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e).encode(), None
    finally:
        c.close()


def lb(path):
    return request(LB_IP, 80, path)


def haproxy_status():
    """{server: "STATUS CHECK"} from HAProxy's stats CSV, e.g. "UP L7OK"
    (a server starts UP before its first check: the check result tells)."""
    st, body, _ = request("127.0.0.1", 8404, "/stats;csv")
    out = {}
    if st != 200:
        return out
    lines = body.decode().splitlines()
    cols = lines[0].lstrip("# ").split(",")
    for ln in lines[1:]:
        f = ln.split(",")
        if len(f) == len(cols) and f[0] == "wedge" and f[1].startswith("node"):
            out[f[1]] = f[cols.index("status")] + " " + f[cols.index("check_status")]
    return out


def wait_status(server, want, timeout=10):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if haproxy_status().get(server, "").startswith(want):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


class Load:
    """Client threads sending requests through HAProxy back to back; every
    request is recorded as (start, end, path, status, body, server)."""

    def __init__(self, paths, threads=4):
        self.paths = list(paths)
        self.stop_ev = threading.Event()
        self.records = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, i):
        k = i
        while not self.stop_ev.is_set():
            path = self.paths[k % len(self.paths)]
            k += 1
            t0 = time.monotonic()
            st, body, srv = lb(path)
            with self.lock:
                self.records.append((t0, time.monotonic(), path, st, body, srv))

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(30)
        return self.records


def good(rec):
    return rec[3] == 200 and rec[4] == PRISTINE


def haproxy_cfg():
    servers = "\n".join(f"    server {n} {a}:8080 check port 9090" for n, a in NODE_IP.items())
    return f"""global
    maxconn 2000

defaults
    mode http
    timeout connect 1s
    timeout client  30s
    timeout server  30s
    timeout check   2s
    retries 2
    option redispatch 1

frontend functions
    bind {LB_IP}:80
    default_backend wedge

backend wedge
    balance leastconn
    option httpchk GET /metrics
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2
    http-response set-header X-Server %[srv_name]
{servers}

listen stats
    bind 127.0.0.1:8404
    stats enable
    stats uri /stats
"""


def node_config(tmp, store_routes, fresh):
    base = {"relative-deadline-us": 2000000, "timeout-us": 20000000, "entry": "handle"}
    routes = [
        {"route": "/local", "path": os.path.join(tmp, "counter.wasm"), "snapshot": os.path.join(tmp, "counter.snap"),
         **base},
    ]
    if store_routes:
        routes += [
            {"route": "/snap", "path": f"wedge://{STORE_IP}:7070/counter", "fetch": "eager", **base},
            {"route": "/redis", "path": f"redis://{STORE_IP}:6379/counter", **base},
        ]
    if store_routes and fresh:
        routes.append({"route": "/fresh", "path": f"wedge://{STORE_IP}:7070/fresh", **base})
    return [{"name": "fn", "port": 8080, "routes": routes}]


class Cluster:
    def __init__(self, wedge, tmp, net, store_routes):
        self.wedge, self.tmp, self.net = wedge, tmp, net
        self.store_routes = store_routes
        self.key = os.path.join(tmp, "store.key")
        self.sdir = os.path.join(tmp, "store")
        self.nodes = {}
        self.store = self.redis = self.haproxy = None
        self.cfg = os.path.join(tmp, "fn.json")

    def env(self, cache):
        return dict(os.environ, WEDGE_CACHE_DIR=cache)

    def start_store(self):
        self.store = Proc(self.net.ns("st"), [self.wedge, "store", "--listen", f"{STORE_IP}:7070", "--key-file",
                                              self.key, self.sdir], os.path.join(self.tmp, "store.log"),
                          self.env(os.path.join(self.tmp, "cache0")))
        return wait_port(STORE_IP, 7070)

    def start_redis(self):
        self.redis = Proc(self.net.ns("st"), ["redis-server", "--bind", STORE_IP, "--port", "6379", "--save", "",
                                              "--appendonly", "no", "--requirepass", KEY.decode()],
                          os.path.join(self.tmp, "redis.log"))
        if not wait_port(STORE_IP, 6379):
            return False
        # A restarted Redis starts empty (no persistence here): publish again.
        r = subprocess.run(["ip", "netns", "exec", self.net.ns("st"), self.wedge, "store", "push", "--redis",
                            f"redis://{STORE_IP}:6379", "--key-file", self.key, "counter",
                            os.path.join(self.sdir, "counter.wasm"), os.path.join(self.sdir, "counter.snap")],
                           capture_output=True, text=True, env=self.env(os.path.join(self.tmp, "cache0")))
        check(r.returncode == 0, f"wedge store push --redis ({r.stderr.strip()[:200]})")
        return r.returncode == 0

    def start_node(self, name):
        short = "n" + name[-1]
        cache = os.path.join(self.tmp, f"cache-{name}")
        if not os.path.exists(cache):
            # The compiled module from `wedge snapshot` (content-addressed),
            # so three nodes do not each run cc; the store part starts empty.
            shutil.copytree(os.path.join(self.tmp, "cache0"), cache, symlinks=True)
        key = ["--store-key-file", self.key] if self.store_routes else []
        self.nodes[name] = Proc(self.net.ns(short),
                                [self.wedge, "serve", "--workers", "2", "--admin-port", "9090", "--log-level", "info",
                                 "--no-admission", *key, self.cfg],
                                os.path.join(self.tmp, f"{name}.log"), self.env(cache))
        return wait_port(NODE_IP[name], 9090)

    def write_config(self, fresh):
        tmpf = self.cfg + ".tmp"
        with open(tmpf, "w") as f:
            json.dump(node_config(self.tmp, self.store_routes, fresh), f)
        os.replace(tmpf, self.cfg)

    def reload(self, names):
        """SIGHUP each node; True when each logged `reloaded`."""
        at = {n: len(self.nodes[n].text()) for n in names}
        for n in names:
            self.nodes[n].signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        pending = set(names)
        while pending and time.monotonic() < deadline:
            for n in list(pending):
                t = self.nodes[n].text()[at[n]:]
                if "reloaded" in t or "reload refused" in t:
                    pending.discard(n)
            time.sleep(0.05)
        return {n: self.nodes[n].text()[at[n]:] for n in names}, not pending

    def stop_all(self):
        for p in [*self.nodes.values(), self.haproxy, self.store, self.redis]:
            if p:
                p.kill()


def prepare(wedge, tmp):
    clang = shutil.which("clang")
    if not clang:
        skip("clang missing (the guest is built at test time)")
    sdir = os.path.join(tmp, "store")
    os.mkdir(sdir)
    wasm = os.path.join(tmp, "counter.wasm")
    r = subprocess.run([clang, "--target=wasm32-wasi", "-mexec-model=reactor", "-O2", GUEST, "-o", wasm],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot build a wasm32-wasi reactor: {r.stderr.strip()[:300]}")
    env = dict(os.environ, WEDGE_CACHE_DIR=os.path.join(tmp, "cache0"))
    r = subprocess.run([wedge, "snapshot", wasm, "-o", os.path.join(tmp, "counter.snap")], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"wedge snapshot: {r.stderr.strip()}")
    for name in ("counter", "fresh"):
        shutil.copy(wasm, os.path.join(sdir, name + ".wasm"))
        shutil.copy(os.path.join(tmp, "counter.snap"), os.path.join(sdir, name + ".snap"))
    with open(os.path.join(tmp, "store.key"), "wb") as f:
        f.write(KEY + b"\n")


def by_server(recs):
    """{X-Server: count} of Load records or of lb() triples."""
    out = {}
    for r in recs:
        srv = r[5] if len(r) == 6 else r[2]
        out[srv] = out.get(srv, 0) + 1
    return out


def scenario(c):
    paths = ["/local", "/snap", "/redis"] if c.store_routes else ["/local"]
    # 1. Everything up.
    c.write_config(fresh=False)
    if c.store_routes:
        check(c.start_store(), "wedge store listening in its namespace")
        check(c.start_redis(), "redis-server listening, counter pushed to it")
    for n in NODE_IP:
        check(c.start_node(n), f"{n}: admin port up")
    c.haproxy = Proc(c.net.ns("lb"), ["haproxy", "-db", "-f", os.path.join(c.tmp, "haproxy.cfg")],
                     os.path.join(c.tmp, "haproxy.log"))
    check(wait_port("127.0.0.1", 8404, 10), "haproxy running")
    for n in NODE_IP:
        check(wait_status(n, "UP L7OK") is not None, f"haproxy: {n} UP (health check on its admin port passed)")
    recs = [lb(p) for p in paths * (18 // len(paths))]
    bad = [r[:2] for r in recs if not (r[0] == 200 and r[1] == PRISTINE)]
    check(not bad, f"{' '.join(paths)} through haproxy: {len(recs)} pristine 200s ({bad[:3]})")
    servers = {r[2] for r in recs}
    check(servers == set(NODE_IP), f"requests reached all three nodes ({sorted(map(str, servers))})")

    # 2. A node dies under load.
    load = Load(paths)
    time.sleep(1.0)
    # SIGKILL to reaped: until the process is gone its sockets still accept,
    # so "in flight at the kill" spans that window (milliseconds).
    t_kill = time.monotonic()
    c.nodes["node1"].kill()
    t_dead = time.monotonic()
    down = wait_status("node1", "DOWN")
    check(down is not None, f"haproxy marks node1 DOWN ({down and round(down, 2)} s after it died)")
    time.sleep(1.0)
    recs = load.stop()
    in_flight = [r for r in recs if r[0] < t_dead and r[1] > t_kill]
    failed = [r for r in recs if not good(r)]
    late = [r for r in failed if r[0] >= t_dead]
    print(f"     node1 killed: {len(recs)} requests, {len(in_flight)} in flight (on any node) while it died "
          f"({(t_dead - t_kill) * 1e3:.1f} ms), {len(failed)} failed {[(r[3], r[4][:40]) for r in failed][:4]}",
          flush=True)
    check(not late, f"no request started after node1 died failed ({len(late)}: "
                    f"{[(r[3], r[4][:60]) for r in late][:3]})")
    check(len(failed) <= len(in_flight), f"failures ({len(failed)}) at most the requests in flight ({len(in_flight)})")
    after = [r for r in recs if r[0] > t_dead + (down or 0) + 0.3]
    check(after and "node1" not in by_server(after) and all(good(r) for r in after),
          f"after DOWN: {len(after)} requests, all 200 from node2/node3 ({by_server(after)})")

    if not c.store_routes:
        print("skipped 2 steps (the store node and Redis killed, then back): this wedge serve has no store "
              "routes (no --store-key-file)", flush=True)
        check(c.start_node("node1"), "node1 restarted")
        up = wait_status("node1", "UP")
        check(up is not None, f"haproxy marks node1 UP again ({up and round(up, 2)} s)")
        recs = [lb("/local") for _ in range(15)]
        check(all(r[0] == 200 and r[1] == PRISTINE for r in recs) and "node1" in by_server(recs),
              f"/local from all nodes, node1 included ({by_server(recs)})")
        return
    store_part(c)


def store_part(c):
    """Steps 3 and 4: the store routes (wedge:// and redis:// paths)."""
    # 3. The store node (and Redis) die: cached routes keep serving.
    load = Load(["/snap", "/redis", "/local"])
    time.sleep(0.3)
    c.store.kill()
    c.redis.kill()
    time.sleep(1.0)
    c.write_config(fresh=True)
    logs, ok = c.reload(["node2", "node3"])
    check(ok, "SIGHUP with the store down: node2 and node3 reloaded")
    time.sleep(0.5)
    recs = load.stop()
    failed = [r for r in recs if not good(r)]
    check(recs and not failed, f"store down: {len(recs)} requests on /snap /redis /local all pristine 200 "
                               f"({[(r[2], r[3], r[4][:60]) for r in failed][:3]})")
    for n, t in logs.items():
        check(re.search(r"route fn/fresh: .*answers 503", t) is not None,
              f"{n}: one line for /fresh, never fetched ({[ln for ln in t.splitlines() if 'fresh' in ln][:1]})")
        check(len(re.findall(r"route fn/(snap|redis): .*cached copy", t)) == 2,
              f"{n}: /snap and /redis start from the node's cached copy")
    recs = [lb("/fresh") for _ in range(4)]
    check(all(r[0] == 503 for r in recs), f"/fresh (uncached) through haproxy: 503 ({[r[0] for r in recs]})")
    recs = [lb("/snap") for _ in range(4)]
    check(all(r[0] == 200 and r[1] == PRISTINE for r in recs), "/snap after the reload: pristine 200s")
    # node1 comes back while the store is still down: its own cache.
    at = len(c.nodes["node1"].text())
    check(c.start_node("node1"), "node1 restarted (store still down)")
    t = c.nodes["node1"].text()[at:]
    check(re.search(r"route fn/snap: .*cached copy", t) is not None, "node1: /snap from its cached copy")
    up = wait_status("node1", "UP")
    check(up is not None, f"haproxy marks node1 UP again ({up and round(up, 2)} s)")
    recs = [lb("/snap") for _ in range(15)]
    check(all(r[0] == 200 and r[1] == PRISTINE for r in recs) and "node1" in by_server(recs),
          f"/snap from all nodes, node1 included ({by_server(recs)})")

    # 4. The store and Redis come back; a reload fetches /fresh.
    check(c.start_store(), "wedge store back")
    check(c.start_redis(), "redis-server back, counter pushed again")
    logs, ok = c.reload(list(NODE_IP))
    check(ok and all("answers 503" not in t for t in logs.values()),
          f"SIGHUP with the store back: every route loads ({[t[-200:] for t in logs.values() if 'answers 503' in t]})")
    recs = [lb(p) for p in ("/fresh", "/snap", "/redis", "/local") * 6]
    bad = [r[:2] for r in recs if not (r[0] == 200 and r[1] == PRISTINE)]
    check(not bad, f"recovered: {len(recs)} requests, all pristine 200s ({bad[:3]})")
    check(set(by_server(recs)) == set(NODE_IP), f"all three nodes answer ({by_server(recs)})")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    wedge = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        skip("not root (network namespaces need CAP_NET_ADMIN)")
    for tool in ("ip", "haproxy", "redis-server"):
        if not shutil.which(tool):
            skip(f"{tool} missing (tools/install-deps.sh installs it)")
    remove_stale()
    net = Net()
    probe = net.ns("probe")
    r = ip("netns", "add", probe, check_rc=False)
    if r.returncode != 0:
        skip(f"ip netns unavailable: {r.stderr.strip()}")
    ip("netns", "del", probe, check_rc=False)
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="wedge-cluster-")
    # SIGTERM (ctest, a CI runner) unwinds through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r = subprocess.run([wedge, "serve", "--help"], capture_output=True, text=True)
    store_routes = "--store-key-file" in r.stdout + r.stderr
    c = None
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        prepare(wedge, tmp)
        with open(os.path.join(tmp, "haproxy.cfg"), "w") as f:
            f.write(haproxy_cfg())
        net.build()
        enter_netns(net.ns("lb"))
        c = Cluster(wedge, tmp, net, store_routes)
        scenario(c)
    except Exception as e:  # a broken step is a failure, reported; cleanup still runs
        check(False, f"unexpected error: {type(e).__name__}: {e}")
    finally:
        if c:
            c.stop_all()
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
        net.delete()
        left = [ln for ln in ip("netns", "list", check_rc=False).stdout.splitlines() if ln.startswith(net.prefix)]
        check(not left, f"namespaces deleted ({left})")
        if FAILS and c:
            for n in ("node1", "node2", "node3", "store", "haproxy"):
                p = os.path.join(tmp, n + ".log")
                if os.path.exists(p):
                    with open(p, errors="replace") as f:
                        print(f"--- {n}.log (last 15 lines)\n" + "".join(f.readlines()[-15:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{time.monotonic() - t0:.1f} s")
    if FAILS:
        print(f"{len(FAILS)} failure(s)")
        sys.exit(1)
    print("all cluster checks passed")


if __name__ == "__main__":
    main()
