#!/usr/bin/env bash
# realprog.sh WEDGE BUILD_DIR — what real programs found under `wedge run`
# (issue 10 item 6), with tests/serve/guests/realprog.c built by clang:
#  - stdio keeps reporting the host's descriptors: on a terminal (a pty
#    from `script`) isatty() is true for 0-2, on pipes and files it is false;
#  - a guest writing to a closed pipe gets EPIPE and decides (the guest
#    exits 7 with "Broken pipe"), wedge is not killed by SIGPIPE (141);
#  - --dir stays writable (routes' "dirs" are read-only by default, tested
#    in tests/serve/realprog_e2e.py).
# A missing clang/wasi-libc is a skip (exit 77) with its reason.  ~2 s.
set -u

WEDGE=${1:?usage: realprog.sh WEDGE BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}
if ! command -v clang >/dev/null ||
   ! clang --target=wasm32-wasi -O2 "$HERE/../serve/guests/realprog.c" -o "$TMP/rp.wasm" 2>"$TMP/cc.err"; then
    echo "SKIP: all 5 checks: cannot build realprog.c for wasm32-wasi: $(head -c 300 "$TMP/cc.err" 2>/dev/null)" >&2
    exit 77
fi
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# Pipes and files: not terminals.
out=$(echo hi | timeout 60 "$WEDGE" run "$TMP/rp.wasm" tty 2>"$TMP/err.txt")
[ "$out" = "tty 0 0 0 stdin 3" ] && ok "pipes and files are not terminals" || fail "pipes: got '$out'"

# A terminal (a pty made by script(1)): all three are.
if command -v script >/dev/null; then
    out=$(timeout 60 script -qec "'$WEDGE' run '$TMP/rp.wasm' tty" /dev/null </dev/null | tr -d '\r')
    [ "$out" = "tty 1 1 1 stdin 0" ] && ok "a terminal is a terminal" || fail "pty: got '$out'"
else
    fail "script(1) (util-linux) missing: cannot make a terminal"
fi

# SIGPIPE: head takes 10 bytes and leaves; the guest sees EPIPE.
timeout 60 "$WEDGE" run "$TMP/rp.wasm" flood 2>"$TMP/flood.err" | head -c 10 >"$TMP/head.out"
rc=${PIPESTATUS[0]}
if [ "$rc" = 7 ] && grep -q "^flood: Broken pipe$" "$TMP/flood.err" && [ "$(cat "$TMP/head.out")" = xxxxxxxxxx ]; then
    ok "a closed pipe is EPIPE for the guest (its exit status 7), not SIGPIPE"
else
    fail "closed pipe: exit status $rc (141 = killed by SIGPIPE), stderr: $(head -c 200 "$TMP/flood.err")"
fi

# --dir stays read-write; the jail still holds.
mkdir -p "$TMP/d" "$TMP/outside"
echo secret >"$TMP/outside/s"
out=$(timeout 60 "$WEDGE" run --dir "$TMP/d::/d" "$TMP/rp.wasm" write /d/new.txt 2>&1)
[ "$out" = wrote ] && [ "$(cat "$TMP/d/new.txt" 2>/dev/null)" = written ] && ok "--dir is writable" ||
    fail "--dir write: '$out'"
out=$(timeout 60 "$WEDGE" run --dir "$TMP/d::/d" "$TMP/rp.wasm" cat /d/../outside/s 2>&1)
rc=$?
[ "$rc" = 2 ] && ! grep -q secret <<<"$out" && ok "--dir jail holds" || fail "--dir escape: rc $rc '$out'"

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "all realprog checks passed"
