#!/usr/bin/env python3
"""huge_function_body.py OUT.wasm [BYTES] — a WASI command whose _start is
one function of about BYTES bytes of code (default 3,000,000): a chain of
`local.get 0; i32.const K; i32.add; local.set 0`, then exit with the sum
(mod 2^32; printed as the signed exit code the server reports).  At the default size it is past wedge's 1 MiB limit on a
function body and must be refused at load time (the route answers 503),
quickly and without harm to the server; below the limit (the test uses
200,000 bytes) it must compile and run."""
import sys


def leb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def section(sid, body):
    return bytes([sid]) + leb(len(body)) + body


def name(s):
    return leb(len(s)) + s.encode()


def module(size):
    code, i, total = bytearray(), 0, 0
    while len(code) < size:
        k = (i * 7919) % 100000
        total += k
        code += b"\x20\x00\x41" + sleb(k) + b"\x6a\x21\x00"
        i += 1
    code += b"\x20\x00\x10\x00\x0b"                    # proc_exit(l0)
    func = leb(1) + leb(1) + b"\x7f" + code               # one i32 local
    types = leb(2) + b"\x60\x01\x7f\x00" + b"\x60\x00\x00"
    imports = leb(1) + name("wasi_snapshot_preview1") + name("proc_exit") + b"\x00" + leb(0)
    exports = leb(2) + name("_start") + b"\x00" + leb(1) + name("memory") + b"\x02" + leb(0)
    total &= 0xFFFFFFFF
    return (b"\0asm\1\0\0\0" + section(1, types) + section(2, imports) + section(3, leb(1) + leb(1))
            + section(5, leb(1) + b"\x00\x01") + section(7, exports)
            + section(10, leb(1) + leb(len(func)) + func)), total - (1 << 32 if total >> 31 else 0)


if __name__ == "__main__":
    data, code = module(int(sys.argv[2]) if len(sys.argv) > 2 else 3000000)
    with open(sys.argv[1], "wb") as f:
        f.write(data)
    print(code)
