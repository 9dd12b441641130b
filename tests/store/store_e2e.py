#!/usr/bin/env python3
"""End-to-end tests of `wedge store` and `wedge store push` over real
loopback sockets (docs/store-protocol.md).

The store node runs as a real process; a raw client written here from the
protocol document speaks to it (so the document is checked, not only the C
codec against itself), and hostile peers send truncated frames, corrupted
bytes, wrong keys, nothing at all, and oversized heads.  After each fault the
store must still serve a good client.

Usage: store_e2e.py WEDGE
"""
import hashlib
import hmac
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

WEDGE = sys.argv[1]
KEY = b"correct horse battery staple"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


VERSION = 3
CHUNK = 4096


def item_head(ln):
    """Bytes of a RANGES item before its data: offset, length, zero, one SHA-256 per 4 KiB."""
    return 16 + 32 * ((ln + CHUNK - 1) // CHUNK)


def chunk_hashes(data):
    return b"".join(hashlib.sha256(data[i:i + CHUNK]).digest() for i in range(0, len(data), CHUNK))


def frame(kind, payload):
    return b"WSTP" + bytes([VERSION, kind, 0, 0]) + struct.pack("<I", len(payload)) + payload


def name(n):
    return struct.pack("<H", len(n)) + n


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        k = s.recv(n - len(b))
        if not k:
            return None
        b += k
    return b


def read_frame(s):
    """kind and payload; kind -1 when a MACed frame fails its MAC."""
    raw = s.sock if isinstance(s, Sess) else s
    h = recv_exact(raw, 12)
    if h is None:
        return None, None
    assert h[:4] == b"WSTP" and h[4] == VERSION, h
    t = recv_exact(raw, 32) if isinstance(s, Sess) else None
    (n,) = struct.unpack("<I", h[8:])
    p = recv_exact(raw, n)
    if isinstance(s, Sess) and not hmac.compare_digest(t, s.tag(s.inn, s.iseq, h, p)):
        s.iseq += 1
        return -1, p
    if isinstance(s, Sess):
        s.iseq += 1
    return h[5], p


def mac(key, side, a, b):
    return hmac.new(key, b"wedge-store-1 " + side + a + b, hashlib.sha256).digest()


def covered(kind, p):
    """The payload bytes a frame MAC covers (st_frame_spans)."""
    if kind == 15:
        return p[:44]
    if kind != 9 or len(p) < 36:
        return p
    out, at = p[:36], 36
    (n,) = struct.unpack("<I", p[32:36])
    for _ in range(n):
        if len(p) - at < 16:
            break
        (ln,) = struct.unpack("<I", p[at + 8:at + 12])
        if item_head(ln) > len(p) - at:
            break
        out += p[at:at + item_head(ln)]
        at += item_head(ln)
        if ln > len(p) - at:
            break
        at += ln
    return out + p[at:]


class Sess:
    """A socket after the handshake: every frame carries its MAC."""

    def __init__(self, sock, key, nc, ns, side):
        self.sock, self.key = sock, mac(key, b"K", nc, ns)
        self.out, self.inn = side, (b"S" if side == b"C" else b"C")
        self.oseq = self.iseq = 0

    def tag(self, d, seq, head, payload):
        return hmac.new(self.key, d + struct.pack("<Q", seq) + head + covered(head[5], payload),
                        hashlib.sha256).digest()

    def tagged(self, f):
        """One whole frame as sent: head, MAC, payload."""
        t = self.tag(self.out, self.oseq, f[:12], f[12:])
        self.oseq += 1
        return f[:12] + t + f[12:]

    def sendall(self, f):
        self.sock.sendall(self.tagged(f))

    def close(self):
        self.sock.close()


def session(port, key=KEY):
    """A raw client: handshake; returns (socket, store proof ok)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    nc = os.urandom(32)
    s.sendall(frame(1, struct.pack("<I", VERSION) + nc))
    kind, p = read_frame(s)
    assert kind == 2, kind
    ns, smac = p[:32], p[32:]
    store_ok = hmac.compare_digest(smac, mac(key, b"S", nc, ns))
    s.sendall(frame(3, mac(key, b"C", ns, nc)))
    kind, p = read_frame(s)
    return (Sess(s, key, nc, ns, b"C") if kind == 4 else s), store_ok, kind, p


def manifest(s, n):
    s.sendall(frame(6, name(n)))
    kind, p = read_frame(s)
    if kind != 7:
        return kind, p
    (nl,) = struct.unpack("<H", p[:2])
    q = p[2 + nl:]
    return kind, {
        "name": p[2:2 + nl],
        "module_sha": q[:32],
        "module_size": struct.unpack("<Q", q[32:40])[0],
        "has_snap": q[40],
        "snap_sha": q[41:73],
        "snap_size": struct.unpack("<Q", q[73:81])[0],
    }


def ranges(s, sha, rs):
    s.sendall(frame(8, sha + struct.pack("<I", len(rs)) + b"".join(struct.pack("<QI", o, l) for o, l in rs)))
    kind, p = read_frame(s)
    if kind != 9:
        return kind, p
    (cnt,) = struct.unpack("<I", p[32:36])
    out, at = [], 36
    for _ in range(cnt):
        off, ln, _z = struct.unpack("<QII", p[at:at + 16])
        h = p[at + 16:at + item_head(ln)]
        data = p[at + item_head(ln):at + item_head(ln) + ln]
        assert chunk_hashes(data) == h
        out.append((off, data))
        at += item_head(ln) + ln
    return kind, out


class Store:
    def __init__(self, d, keyfile, extra=()):
        self.log = open(os.path.join(d, "..", "store.log"), "w+")
        self.p = subprocess.Popen([WEDGE, "store", "--listen", "127.0.0.1:0", "--key-file", keyfile, *extra, d],
                                  stderr=self.log)
        self.port = None
        for _ in range(200):
            self.log.seek(0)
            m = re.search(r"\(port (\d+)\)", self.log.read())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.02)
        assert self.port, "store did not start"

    def text(self):
        self.log.seek(0)
        return self.log.read()

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


def wedge(*args):
    return subprocess.run([WEDGE, *args], capture_output=True, text=True, timeout=60)


def fake_store(module, behaviour):
    """A store written here that speaks the protocol correctly up to the
    point `behaviour` breaks it ('badmac' flips a bit of the manifest under
    its MAC, 'replay' answers every later request with the manifest's frame
    again): 'corrupt' flips a bit in range or blob
    data (the hash still the true one), 'truncate' closes half-way through
    a RANGES or BLOB frame, 'silent' never answers the manifest request.  Returns its port."""
    import threading
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    sha = hashlib.sha256(module).digest()

    def one(c):
        try:
            _, p = read_frame(c)
            nc, ns = p[4:36], os.urandom(32)
            c.sendall(frame(2, ns + mac(KEY, b"S", nc, ns)))
            read_frame(c)
            c.sendall(frame(4, b""))
            c = Sess(c, KEY, nc, ns, b"S")
            _, p = read_frame(c)  # manifest request
            if behaviour == "silent":
                time.sleep(30)
                return
            man = c.tagged(frame(7, p + sha + struct.pack("<Q", len(module)) + bytes(1 + 32 + 8 + 8)))
            if behaviour == "badmac":  # one bit of the module size, the MAC left as it was
                man = bytearray(man)
                man[-(1 + 32 + 8 + 8) - 1] ^= 0x40
                man = bytes(man)
            c.sock.sendall(man)
            while True:  # ranges or blob requests (a node pipelines several)
                kind, p = read_frame(c)
                if behaviour == "replay":  # the manifest's frame again, as the answer
                    c.sock.sendall(man)
                    continue
                if kind is None:
                    return
                if kind == 14:  # BLOB_REQ: bytes with no hash of their own
                    off, ln = struct.unpack("<QI", p[32:44])
                    data = module[off:off + ln]
                    if behaviour == "corrupt":
                        data = bytes([data[0] ^ 1]) + data[1:]
                    f = c.tagged(frame(15, p[:44] + data))
                    if behaviour == "truncate":
                        c.sock.sendall(f[:len(f) // 2])
                        return
                    c.sock.sendall(f)
                    continue
                (cnt,) = struct.unpack("<I", p[32:36])
                body = sha + struct.pack("<I", cnt)
                for k in range(cnt):
                    off, ln = struct.unpack("<QI", p[36 + 12 * k:48 + 12 * k])
                    data = module[off:off + ln]
                    h = chunk_hashes(data)
                    if behaviour == "corrupt":
                        data = bytes([data[0] ^ 1]) + data[1:]
                    body += struct.pack("<QII", off, ln, 0) + h + data
                f = c.tagged(frame(9, body))
                if behaviour == "truncate":
                    c.sock.sendall(f[:len(f) // 2])
                    return
                c.sock.sendall(f)
        except OSError:
            pass
        finally:
            c.close()

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=one, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return ls.getsockname()[1]


def cutting_proxy(port):
    """Forwards to the store; the second session (a lazy node's fault
    handler) is cut when it sends its first RANGES_REQ."""
    import threading
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    seen = [0]

    def pump(a, b):
        try:
            while True:
                x = a.recv(65536)
                if not x:
                    break
                b.sendall(x)
        except OSError:
            pass
        for s_ in (a, b):
            try:
                s_.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def session(c, cut):
        up = socket.create_connection(("127.0.0.1", port))
        threading.Thread(target=pump, args=(up, c), daemon=True).start()
        try:
            n = 0
            while True:
                h = recv_exact(c, 12)
                if h is None:
                    break
                if n >= 2:  # after HELLO and AUTH every frame carries a MAC
                    h += recv_exact(c, 32) or b""
                n += 1
                body = recv_exact(c, struct.unpack("<I", h[8:12])[0]) or b""
                if cut and h[5] == 8:
                    break
                up.sendall(h + body)
        except OSError:
            pass
        for s_ in (c, up):
            try:
                s_.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            seen[0] += 1
            threading.Thread(target=session, args=(c, seen[0] == 2), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return ls.getsockname()[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_tests(top, st, keyfile, badkey):
    """`wedge run wedge://...` and `wedge store pull` against the store, fake
    stores and Redis."""
    if not shutil.which("wat2wasm"):
        print("SKIP 1 group (run from a store): wat2wasm not found")
        return
    with open(os.path.join(top, "add.wat"), "w") as f:
        f.write('(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))')
    addw = os.path.join(top, "add.wasm")
    subprocess.run(["wat2wasm", os.path.join(top, "add.wat"), "-o", addw], check=True)
    add = open(addw, "rb").read()
    url = f"wedge://127.0.0.1:{st.port}"
    r = wedge("store", "push", url, "--key-file", keyfile, "adder", addw)
    check(r.returncode == 0, "push a real module")
    r = wedge("run", "--store-key-file", keyfile, "--invoke", "add", url + "/adder", "2", "3")
    check(r.returncode == 0 and r.stdout.strip() == "5", "wedge run wedge://HOST:PORT/NAME runs it: " + r.stderr.strip())
    cached = os.path.join(os.environ.get("WEDGE_CACHE_DIR", ""), "store", hashlib.sha256(add).hexdigest() + ".wasm")
    check(os.path.exists(cached) and open(cached, "rb").read() == add, "the module sits in the node cache by its hash")
    r = wedge("run", "--store-key-file", keyfile, "--fetch", "lazy", "--granularity", "region:64", "--invoke", "add",
              url + "/adder", "4", "5")
    check(r.returncode == 0 and r.stdout.strip() == "9", "--fetch lazy --granularity region:64 accepted")
    r = wedge("run", "--store-key-file", badkey, "--invoke", "add", url + "/adder", "2", "3")
    err = r.stderr.strip().splitlines()
    check(r.returncode == 1 and len(err) == 1 and "wrong key" in err[0], "run with a wrong key: one line")
    r = wedge("run", "--store-key-file", keyfile, "--invoke", "add", url + "/nosuch", "2", "3")
    check(r.returncode == 1 and "no such name" in r.stderr, "run of an unknown name: " + r.stderr.strip())
    r = wedge("run", "--granularity", "region:3", url + "/adder")
    check(r.returncode == 1 and "region:KIB" in r.stderr, "a bad granularity is refused")
    out = os.path.join(top, "pulled.wasm")
    r = wedge("store", "pull", "--key-file", keyfile, url + "/adder", out)
    check(r.returncode == 0 and open(out, "rb").read() == add, "wedge store pull over TCP")

    # Faults on the client side: corrupted bytes, a truncated frame, a
    # store that never answers.  Nothing fetched is run or cached.
    big = add + bytes(8 << 20)  # not a module any more: must never get that far
    for behaviour, word, limit in (("corrupt", "SHA-256", 10), ("truncate", "truncated", 10),
                                   ("silent", "timed out", 9), ("badmac", "failed its MAC", 10),
                                   ("replay", "failed its MAC", 10)):
        port = fake_store(big, behaviour)
        t0 = time.time()
        r = wedge("run", "--store-key-file", keyfile, "--invoke", "add", f"wedge://127.0.0.1:{port}/x", "1", "2")
        dt = time.time() - t0
        err = r.stderr.strip().splitlines()
        check(r.returncode == 1 and len(err) == 1 and word in err[0] and dt < limit,
              f"{behaviour} store: one line within {dt:.1f} s: {r.stderr.strip()}")
        bad = os.path.join(os.environ.get("WEDGE_CACHE_DIR", ""), "store", hashlib.sha256(big).hexdigest() + ".wasm")
        check(not os.path.exists(bad), f"{behaviour} store: nothing cached")

    # The store killed, then restarted with different content under the
    # same name: the node fails clearly meanwhile, then runs the new one.
    d = os.path.join(top, "dir")
    st.stop()
    r = wedge("run", "--store-key-file", keyfile, "--invoke", "add", url + "/adder", "2", "3")
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "refused" in r.stderr,
          "store down: one line: " + r.stderr.strip())
    with open(os.path.join(top, "mul.wat"), "w") as f:
        f.write('(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.mul))')
    subprocess.run(["wat2wasm", os.path.join(top, "mul.wat"), "-o", os.path.join(d, "adder.wasm")], check=True)
    st2 = Store(d, keyfile)
    try:
        r = wedge("run", "--store-key-file", keyfile, "--invoke", "add", f"wedge://127.0.0.1:{st2.port}/adder",
                  "6", "7")
        check(r.returncode == 0 and r.stdout.strip() == "42",
              "store restarted with new content under the same name: the new module runs")
    finally:
        st2.stop()

    # Redis as the second backend.
    if not shutil.which("redis-server"):
        print("SKIP 1 group (Redis backend): redis-server not found")
        return
    port = free_port()
    red = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--requirepass", KEY.decode()],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        rurl = f"redis://127.0.0.1:{port}"
        snapf = os.path.join(top, "r.snap")
        snapb = os.urandom(3 * 4096 + 100)
        open(snapf, "wb").write(snapb)
        r = wedge("store", "push", "--redis", rurl, "--key-file", keyfile, "adder", addw, snapf)
        check(r.returncode == 0, "push --redis: " + r.stderr.strip())
        r = wedge("run", "--store-key-file", keyfile, "--granularity", "module", "--invoke", "add", rurl + "/adder",
                  "20", "22")
        check(r.returncode == 0 and r.stdout.strip() == "42", "wedge run redis://HOST:PORT/NAME: " + r.stderr.strip())
        outs = os.path.join(top, "pulled.snap")
        r = wedge("store", "pull", "--key-file", keyfile, rurl + "/adder", out, outs)
        check(r.returncode == 0 and open(outs, "rb").read() == snapb, "pull from Redis: pipelined GETRANGE, checked")
        r = wedge("store", "pull", "--key-file", badkey, rurl + "/adder", out)
        err = r.stderr.strip().splitlines()
        check(r.returncode == 1 and len(err) == 1 and "wrong key" in err[0], "Redis with a wrong key: " + r.stderr.strip())
        # Corrupt one byte of the snapshot inside Redis.
        h = hashlib.sha256(snapb).hexdigest()
        subprocess.run(["redis-cli", "-p", str(port), "-a", KEY.decode(), "--no-auth-warning", "SETRANGE",
                        f"wedge:b:{h}", "5000", "X"], check=True, capture_output=True)
        r = wedge("store", "pull", "--key-file", keyfile, rurl + "/adder", out, outs)
        check(r.returncode == 1 and "SHA-256" in r.stderr, "a corrupted byte in Redis is caught: " + r.stderr.strip())
    finally:
        red.terminate()
        red.wait(10)
    r = wedge("store", "pull", "--key-file", keyfile, rurl + "/adder", out)
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, "Redis gone: " + r.stderr.strip())


def snapshot_tests(top, keyfile):
    """A real snapshot through a store node: eager and lazy (page, region,
    instance) restores give the init's state, lazy fetches only what is
    touched, the first lazy start records its working set and the next one
    prefetches it (no faults on the same access)."""
    # 64 pages (4 MiB); init writes a pattern into every 4th page; `get`
    # reads one word.
    wat = """(module (memory (export "memory") 64)
      (func (export "init") (local $i i32)
        (loop $l
          (i32.store (local.get $i) (i32.add (local.get $i) (i32.const 7)))
          (local.set $i (i32.add (local.get $i) (i32.const 16384)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 4194304)))))
      (func (export "get") (param i32) (result i32) (i32.load (local.get 0))))"""
    d = os.path.join(top, "sdir")
    os.mkdir(d)
    open(os.path.join(top, "s.wat"), "w").write(wat)
    mod = os.path.join(d, "snapped.wasm")
    subprocess.run(["wat2wasm", os.path.join(top, "s.wat"), "-o", mod], check=True)
    r = wedge("snapshot", "--init", "init", mod, "-o", os.path.join(d, "snapped.snap"))
    check(r.returncode == 0, "wedge snapshot of the test module: " + r.stderr.strip())
    st = Store(d, keyfile)
    url = f"wedge://127.0.0.1:{st.port}/snapped"
    env = dict(os.environ, WEDGE_STORE_STATS="1")

    def run(*opts, addr=16384 * 100):
        r = subprocess.run([WEDGE, "run", "--store-key-file", keyfile, *opts, "--invoke", "get", url, str(addr)],
                           capture_output=True, text=True, timeout=60, env=env)
        m = re.search(r"(\d+) faults, (\d+) fetches, (\d+) bytes fetched", r.stderr)
        return r, (tuple(int(x) for x in m.groups()) if m else None)

    try:
        want = str(16384 * 100 + 7)
        r, _ = run("--fetch", "eager")
        check(r.returncode == 0 and r.stdout.strip() == want, "eager: the snapshot's state: " + r.stderr.strip())
        r, _ = run("--granularity", "module", addr=16384 * 100)
        check(r.returncode == 0 and r.stdout.strip() == "0", "module granularity: the module alone, init not run")
        r, s = run("--fetch", "lazy", "--granularity", "page")
        check(r.returncode == 0 and r.stdout.strip() == want and s is not None,
              "lazy page: the snapshot's state: " + r.stderr.strip())
        if s:
            check(s[0] >= 1 and s[2] <= 4 * 4096, f"lazy page: {s[0]} faults, {s[2]} bytes fetched (one page touched)")
        wsets = [f for f in os.listdir(d) if f.startswith(".wset-")]
        check(len(wsets) == 1, "the first lazy start recorded its working set at the store")
        r, s = run("--fetch", "lazy", "--granularity", "page")
        check(r.returncode == 0 and r.stdout.strip() == want and s is not None and s[0] == 0,
              f"the next lazy start prefetched the working set: no faults ({s})")
        r, s = run("--fetch", "lazy", "--granularity", "region:64", addr=16384 * 33)
        check(r.returncode == 0 and r.stdout.strip() == str(16384 * 33 + 7), "lazy region:64: " + r.stderr.strip())
        r, s = run("--fetch", "lazy", "--granularity", "instance", addr=16384 * 255)
        check(r.returncode == 0 and r.stdout.strip() == str(16384 * 255 + 7) and s is not None and s[1] == 1,
              f"lazy instance: all memory in one fetch ({s})")
        # The store lost after the small state was fetched (a proxy cuts the
        # fault handler's session at its first ranges request): the fault
        # fails closed, the run fails with the store's error, and no value
        # from unfetched memory is ever printed.
        for f in os.listdir(d):
            if f.startswith(".wset-"):
                os.unlink(os.path.join(d, f))
        pport = cutting_proxy(st.port)
        t0 = time.time()
        r = subprocess.run([WEDGE, "run", "--store-key-file", keyfile, "--fetch", "lazy", "--invoke", "get",
                            f"wedge://127.0.0.1:{pport}/snapped", str(16384 * 7)],
                           capture_output=True, text=True, timeout=60)
        dt = time.time() - t0
        check(r.returncode != 0 and r.stdout.strip() == "" and "fetching memory from the store failed" in r.stderr
              and dt < 10, f"store lost mid-run: fails closed in {dt:.1f} s: " + " | ".join(r.stderr.strip().splitlines()))
    finally:
        st.stop()


def main():
    top = tempfile.mkdtemp(prefix="wedge-store-e2e-")
    d = os.path.join(top, "dir")
    os.mkdir(d)
    keyfile = os.path.join(top, "key")
    with open(keyfile, "wb") as f:
        f.write(KEY + b"\n")
    badkey = os.path.join(top, "badkey")
    with open(badkey, "wb") as f:
        f.write(b"not the right key at all\n")
    module = os.urandom(100000)
    snap = os.urandom(300000)
    with open(os.path.join(d, "app.wasm"), "wb") as f:
        f.write(module)
    with open(os.path.join(d, "app.snap"), "wb") as f:
        f.write(snap)

    st = Store(d, keyfile, ["--timeout", "400"])
    try:
        # --- the happy path, as the protocol document describes it -----
        s, store_ok, kind, _ = session(st.port)
        check(store_ok and kind == 4, "handshake: the store proves the key and accepts ours")
        kind, m = manifest(s, b"app")
        check(kind == 7 and m["module_sha"] == hashlib.sha256(module).digest() and m["module_size"] == len(module)
              and m["has_snap"] == 1 and m["snap_sha"] == hashlib.sha256(snap).digest(),
              "manifest names the module and snapshot by SHA-256 and size")
        kind, got = ranges(s, m["snap_sha"], [(0, 4096), (200000, 100000 - 1)])
        check(kind == 9 and got[0][1] == snap[:4096] and got[1][1] == snap[200000:299999],
              "ranges of a content-addressed blob, each with its SHA-256")
        kind, p = ranges(s, m["snap_sha"], [(299000, 2000)])
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 5, "a range past the blob's end: ERROR RANGE")
        s.sendall(frame(14, m["snap_sha"] + struct.pack("<QI", 1000, 5000)))
        kind, p = read_frame(s)
        check(kind == 15 and p[:44] == m["snap_sha"] + struct.pack("<QI", 1000, 5000) and p[44:] == snap[1000:6000],
              "a blob range (BLOB_REQ): the bytes, sent from the store's mapping")
        s.sendall(frame(14, m["snap_sha"] + struct.pack("<QI", 299000, 2000)))
        kind, p = read_frame(s)
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 5, "a blob range past the blob's end: ERROR RANGE")
        s.sendall(frame(14, bytes(32) + struct.pack("<QI", 0, 10)))
        kind, p = read_frame(s)
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 4, "a blob range of an unknown blob: ERROR NOTFOUND")
        kind, p = manifest(s, b"nope")
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 4, "unknown name: ERROR NOTFOUND")
        # Working sets: none, then recorded, then read back in order.
        ws = [5, 1, 9, 2]
        s.sendall(frame(11, name(b"app") + m["snap_sha"]))
        kind, p = read_frame(s)
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 4, "no working set yet: ERROR NOTFOUND")
        s.sendall(frame(10, name(b"app") + m["snap_sha"] + struct.pack("<I", 4) + struct.pack("<4I", *ws)))
        kind, _ = read_frame(s)
        check(kind == 4, "working set recorded")
        s.sendall(frame(11, name(b"app") + m["snap_sha"]))
        kind, p = read_frame(s)
        check(kind == 12 and p == struct.pack("<I", 4) + struct.pack("<4I", *ws),
              "working set read back in first-touch order")
        s.close()

        # --- push through the CLI; the pushed blobs are served --------
        m2, s2 = os.urandom(20000), os.urandom(9 << 20)  # two push pieces
        for fn, data in (("m2.wasm", m2), ("m2.snap", s2)):
            with open(os.path.join(top, fn), "wb") as f:
                f.write(data)
        r = wedge("store", "push", f"wedge://127.0.0.1:{st.port}", "--key-file", keyfile, "pushed",
                  os.path.join(top, "m2.wasm"), os.path.join(top, "m2.snap"))
        check(r.returncode == 0 and "pushed pushed snapshot" in r.stdout, "wedge store push: " + r.stderr.strip())
        check(open(os.path.join(d, "pushed.snap"), "rb").read() == s2 and
              open(os.path.join(d, "pushed.wasm"), "rb").read() == m2, "pushed blobs land in DIR whole")
        s, _, _, _ = session(st.port)
        kind, m = manifest(s, b"pushed")
        check(kind == 7 and m["snap_sha"] == hashlib.sha256(s2).digest(), "a pushed name is served")
        s.close()

        # --- wrong keys ---------------------------------------------------
        r = wedge("store", "push", f"wedge://127.0.0.1:{st.port}", "--key-file", badkey, "evil",
                  os.path.join(top, "m2.wasm"))
        err = r.stderr.strip().splitlines()
        check(r.returncode == 1 and len(err) == 1 and "wrong key" in err[0], "push with a wrong key: " + r.stderr.strip())
        check(not os.path.exists(os.path.join(d, "evil.wasm")), "nothing pushed with a wrong key")
        time.sleep(0.1)
        check("wrong key" in st.text(), "the store logs the wrong key")
        s, store_ok, kind, p = session(st.port, key=b"some other key.....")
        check(not store_ok and kind == 5 and struct.unpack("<H", p[:2])[0] == 3,
              "raw client with a wrong key: the store's proof fails and it answers ERROR AUTH")
        check(read_frame(s)[0] is None, "the store closes after a wrong key")
        s.close()
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        s.sendall(frame(1, struct.pack("<I", VERSION) + os.urandom(32)))
        read_frame(s)
        s.sendall(frame(6, name(b"app")))  # a request instead of AUTH
        kind, p = read_frame(s)
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 1, "a request before AUTH: ERROR PROTO")
        s.close()

        # --- hostile frames: each gets one log line, the store keeps serving
        def still_serving(what):
            s, ok, kind, _ = session(st.port)
            k2, m = manifest(s, b"app")
            s.close()
            check(st.alive() and ok and kind == 4 and k2 == 7, "store still serves after " + what)

        before = st.text().count("\n")
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        s.sendall(b"WSTP" + bytes([VERSION, 1, 0, 0]) + struct.pack("<I", 36) + b"\x01\x00")
        s.close()
        time.sleep(0.1)
        check("truncated" in st.text(), "truncated frame logged as truncated")
        still_serving("a truncated frame")
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        kind, p = read_frame(s)
        check(kind == 5 and b"magic" in p, "garbage bytes: ERROR naming the bad magic")
        s.close()
        still_serving("garbage bytes")
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        s.sendall(b"WSTP" + bytes([VERSION, 1, 0, 0]) + struct.pack("<I", 1 << 30))
        kind, p = read_frame(s)
        check(kind == 5 and b"larger" in p, "a 1 GiB frame head is refused before any allocation")
        s.close()
        s, _, _, _ = session(st.port)
        bad = bytearray(frame(6, name(b"app")))
        bad[12 + 2] = ord("/")
        s.sendall(bytes(bad[:14]) + b"/pp")
        kind, p = read_frame(s)
        check(kind == 5 and b"bad name" in p, "a name with '/' is refused (no path escape)")
        s.close()
        still_serving("a bad name")
        # A slow or dead peer: connects and says nothing; the store gives up
        # after its timeout with one line.
        t0 = time.time()
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        got = read_frame(s)
        dt = time.time() - t0
        check(got[0] == 5 and dt < 3, f"a silent peer is dropped after the timeout ({dt:.2f} s)")
        s.close()
        time.sleep(0.05)
        check("timed out" in st.text(), "the timeout is logged")
        # Half a frame, then silence.
        s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
        s.sendall(b"WSTP" + bytes([VERSION, 1, 0, 0]) + struct.pack("<I", 36) + b"\x01")
        got = read_frame(s)
        check(got[0] == 5, "half a frame then silence: dropped after the timeout")
        s.close()
        still_serving("a stalled peer")
        lines = st.text().count("\n") - before
        check(lines <= 12, f"each fault is about one log line ({lines} lines for 6 faults + pushes)")
        # Frame MACs: a flipped bit in a request's payload or in its MAC,
        # and a replayed request, each end that session with an ERROR
        # naming the MAC and one log line; the store keeps serving.
        before = st.text().count("failed its MAC")
        for what, at in (("payload", -1), ("MAC", 12 + 5)):
            s, _, _, _ = session(st.port)
            f = bytearray(s.tagged(frame(6, name(b"app"))))
            f[at] ^= 1
            t0 = time.time()
            s.sock.sendall(bytes(f))
            kind, p = read_frame(s)
            dt = time.time() - t0
            check(kind == 5 and b"failed its MAC" in p and dt < 3,
                  f"a flipped bit in a request's {what}: ERROR naming the MAC in {dt:.2f} s")
            check(read_frame(s)[0] is None, f"a flipped bit in a request's {what}: the session ends")
            s.close()
        s, _, _, _ = session(st.port)
        f = s.tagged(frame(6, name(b"app")))
        s.sock.sendall(f)
        k1, _ = read_frame(s)
        s.sock.sendall(f)  # the very same bytes again
        kind, p = read_frame(s)
        check(k1 == 7 and kind == 5 and b"failed its MAC" in p, "a replayed request: ERROR naming the MAC")
        s.close()
        time.sleep(0.1)
        n = st.text().count("failed its MAC") - before
        check(n == 3, f"each bad MAC is one store log line ({n} for 3)")
        still_serving("frames with bad MACs")
        # Old clients (version 1: no MACs; 2: one hash per range) get a one-line error naming the version.
        for old in (1, 2):
            s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
            s.sendall(b"WSTP" + bytes([old, 1, 0, 0]) + struct.pack("<I", 36) + struct.pack("<I", old) + os.urandom(32))
            kind, p = read_frame(s)
            check(kind == 5 and b"older store protocol version" in p,
                  f"a version {old} client: ERROR naming the version")
            s.close()
        # A pushed blob whose bytes do not match the hash it claims.
        s, _, _, _ = session(st.port)
        data = b"x" * 100
        s.sendall(frame(13, name(b"liar") + b"\x00" + hashlib.sha256(b"y" * 100).digest() +
                        struct.pack("<QQI", 100, 0, 100) + data))
        kind, p = read_frame(s)
        check(kind == 5 and struct.unpack("<H", p[:2])[0] == 6, "a push whose bytes do not match: ERROR HASH")
        check(not os.path.exists(os.path.join(d, "liar.wasm")), "a mismatching push is never served")
        s.close()
        check(not [f for f in os.listdir(d) if f.startswith(".push")], "no temporary push files left behind")
        # Bad command lines.
        r = wedge("store", d)
        check(r.returncode == 1 and "--key-file" in r.stderr, "store without a key refuses to start")
        r = wedge("store", "push", "wedge://127.0.0.1:1", "--key-file", keyfile, "x", os.path.join(top, "m2.wasm"))
        check(r.returncode == 1 and "refused" in r.stderr, "push to nobody: " + r.stderr.strip())
        run_tests(top, st, keyfile, badkey)
        snapshot_tests(top, keyfile)
    finally:
        st.stop()
        shutil.rmtree(top, ignore_errors=True)
    if FAILS:
        print(f"{len(FAILS)} failed")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
