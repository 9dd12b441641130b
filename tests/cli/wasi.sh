#!/usr/bin/env bash
# wasi.sh WEDGE BUILD_DIR — WASI preview1 through `wedge run` with real
# wasm32-wasi guests (tests/cli/wasi/*.c, built here with clang and
# wasi-libc): the rights, EISDIR and sock_* cases the official
# wasi-testsuite checks (rights.c), and `--tcplisten` with a guest echo
# server (echo.c) and a real client (python3) on loopback, and a sleep
# (tests/serve/guests/sleeper.c: nanosleep, one poll_oneoff) that `wedge
# run`, which has no wait_yield hook, sleeps in one wait to its end.  Every
# wait is bounded.  Exit 77 (CTest "skip") when clang cannot build wasm32-wasi or
# python3 is missing, saying which.
set -u

WEDGE=${1:?usage: wasi.sh WEDGE BUILD_DIR}
SRC=$(cd "$(dirname "$0")" && pwd)/wasi
CC=${WEDGE_WASM_CC:-clang}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}

if ! command -v python3 >/dev/null; then
    echo "SKIP: all 5 checks: python3 not found" >&2
    exit 77
fi
for n in rights echo; do
    if ! "$CC" --target=wasm32-wasi -O2 -Wall -Wextra "$SRC/$n.c" -o "$TMP/$n.wasm" 2>"$TMP/cc.err"; then
        echo "SKIP: all 5 checks: $CC cannot build wasm32-wasi guests: $(head -c 300 "$TMP/cc.err")" >&2
        exit 77
    fi
done
"$CC" --target=wasm32-wasi -O2 -Wall -Wextra -DSLEEP_MS=300 "$SRC/../../serve/guests/sleeper.c" \
    -o "$TMP/sleeper.wasm" || { echo "SKIP: all 5 checks: cannot build sleeper.c" >&2; exit 77; }

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# ---- rights, EISDIR, sock_* errors (one line per case from the guest) ----------
mkdir "$TMP/scratch"
if timeout 60 "$WEDGE" run --dir "$TMP/scratch::scratch" "$TMP/rights.wasm" scratch >"$TMP/rights.out" 2>&1; then
    echo "ok: rights ($(grep -c '^ok:' "$TMP/rights.out") guest checks)"
else
    fail "rights guest (exit $?):"
    grep -v '^ok:' "$TMP/rights.out" | head -30 >&2
fi

# ---- --tcplisten: a guest echo server, a python client --------------------------
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P1=$(free_port)
P2=$(free_port)
timeout 60 "$WEDGE" run --dir "$TMP/scratch" --tcplisten "127.0.0.1:$P1" --tcplisten "127.0.0.1:$P2" \
    "$TMP/echo.wasm" 2 >"$TMP/echo.out" 2>"$TMP/echo.err" &
server=$!
# Two connections; the server may still be compiling, so connecting retries
# for a while (bounded); every read has a timeout.
if python3 - "$P1" >"$TMP/client.out" 2>&1 <<'PY'; then
import socket, sys, time
port = int(sys.argv[1])
for i in (1, 2):
    deadline = time.time() + 50
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    s.sendall(b"hello %d\n" % i)
    data = b""
    while True:
        d = s.recv(100)
        if not d:
            break
        data += d
    s.close()
    if data != b"echo: hello %d\n" % i:
        sys.exit("connection %d: got %r" % (i, data))
print("2 echoes")
PY
    echo "ok: echo through --tcplisten ($(cat "$TMP/client.out"))"
else
    fail "echo client: $(tail -3 "$TMP/client.out")"
fi
wait "$server"
rc=$?
want=$'listeners: 4 5\nserved 1 (recv/send)\nserved 2 (read/write)'
if [ "$rc" != 0 ] || [ "$(cat "$TMP/echo.out")" != "$want" ]; then
    fail "echo server: exit $rc, stdout: $(cat "$TMP/echo.out"), stderr: $(head -c 300 "$TMP/echo.err")"
else
    echo "ok: echo server (listeners after the --dir, both connections served)"
fi

# ---- poll_oneoff sleeps its whole time (the guest measures it) -------------------
"$WEDGE" run "$TMP/sleeper.wasm" >/dev/null 2>&1       # compiled outside the timing
t0=$(date +%s%N)
out=$(timeout 60 "$WEDGE" run "$TMP/sleeper.wasm" 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
slept=$(echo "$out" | sed -n 's/^slept \([0-9]*\) ms$/\1/p')
if [ "$rc" = 0 ] && [ -n "$slept" ] && [ "$slept" -ge 300 ] && [ "$slept" -lt 3000 ] && [ "$ms" -ge 300 ]; then
    echo "ok: a 300 ms nanosleep under wedge run (guest: $slept ms, wall: $ms ms)"
else
    fail "sleeper: exit $rc, output: $out, wall: $ms ms"
fi

# ---- bad --tcplisten: one line, exit 1 --------------------------------------------
for bad in nocolon 127.0.0.1:99999 localhost:80 "[::1:80"; do
    "$WEDGE" run --tcplisten "$bad" "$TMP/echo.wasm" >"$TMP/bad.out" 2>"$TMP/bad.err"
    rc=$?
    if [ "$rc" != 1 ] || [ "$(wc -l <"$TMP/bad.err")" != 1 ] || ! grep -q -- "--tcplisten" "$TMP/bad.err"; then
        fail "--tcplisten $bad: exit $rc, stderr: $(cat "$TMP/bad.err")"
    fi
done
[ "$failures" = 0 ] && echo "ok: bad --tcplisten values refused"

if [ "$failures" != 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all wasi checks passed"
