#!/usr/bin/env bash
# dagger.sh WEDGE BUILD_DIR — Dagger guests under `wedge run`: the example
# built with clang --target=wasm32 -nostdlib (BUILD_DIR/examples/dagger),
# the entry-point rule (dagger_main, main, _start), Dagger's 2018 form
# (open(url, 0) with a NUL-terminated URL, `sync`, the "env" module name),
# file:// inside --dir only, and exit statuses.  The .wat cases need
# wat2wasm; a missing tool is a skip (exit 77) with its reason.
set -u

WEDGE=${1:?usage: dagger.sh WEDGE BUILD_DIR}
BUILD=${2:?usage: dagger.sh WEDGE BUILD_DIR}
EX=$BUILD/examples/dagger

if ! command -v wat2wasm >/dev/null; then
    echo "SKIP: all 10 Dagger checks: wat2wasm (wabt) not installed" >&2
    exit 77
fi
if [ ! -f "$EX/cat.wasm" ]; then
    echo "SKIP: all 10 Dagger checks: $EX/cat.wasm not built (clang without the wasm32 target?)" >&2
    exit 77
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# check NAME WANT_RC WANT_STDOUT WANT_STDERR_REGEX -- wedge-run-args...
check() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out rc
    out=$(timeout 60 "$WEDGE" run "$@" 2>"$TMP/stderr")
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit status $rc, expected $want_rc (stderr: $(head -c 300 "$TMP/stderr"))"
    elif [ "$out" != "$want_out" ]; then
        fail "$name: stdout '$out', expected '$want_out'"
    elif [ -n "$want_err" ] && ! grep -qE -- "$want_err" "$TMP/stderr"; then
        fail "$name: stderr lacks /$want_err/: $(head -c 300 "$TMP/stderr")"
    elif [ -z "$want_err" ] && [ -s "$TMP/stderr" ]; then
        fail "$name: unexpected stderr: $(head -c 300 "$TMP/stderr")"
    else
        echo "ok: $name"
    fi
}
wat() { wat2wasm "$TMP/$1.wat" -o "$TMP/$1.wasm" || fail "wat2wasm $1"; }

# ---- the example (no WASI, no libc) -------------------------------------------
mkdir -p "$TMP/data" "$TMP/outside"
printf 'line one\nline two\n' >"$TMP/data/in.txt"
check "cat example" 0 "$(printf 'hello from dagger\nline one\nline two')" "^cat: copied$" \
    -- --dir "$TMP/data::/data" "$EX/cat.wasm"
# Without --dir, file:// reaches nothing: the example exits with -DAGGER_EPERM.
check "cat without --dir" 4 "hello from dagger" "^cat: cannot open /data/in.txt$" -- "$EX/cat.wasm"

# ---- the entry point: dagger_main, else main, else _start ---------------------
cat >"$TMP/entries.wat" <<'W'
(module
  (import "dagger" "open" (func $open (param i32 i32) (result i32)))
  (import "dagger" "write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "stdout://\00")
  (data (i32.const 16) "dagger_main\0a")
  (func (export "dagger_main") (result i32)
    (drop (call $write (call $open (i32.const 0) (i32.const 0)) (i32.const 16) (i32.const 12)))
    (i32.const 3))
  (func (export "main") (result i32) (unreachable))
  (func (export "_start") (unreachable)))
W
wat entries
check "dagger_main first, its result is the exit status" 3 "dagger_main" "" -- "$TMP/entries.wasm"

cat >"$TMP/main.wat" <<'W'
(module
  (import "dagger" "open" (func $open (param i32 i32) (result i32)))
  (import "dagger" "write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "stdout://")
  (data (i32.const 16) "main\0a")
  (func (export "main") (result i32)
    (drop (call $write (call $open (i32.const 0) (i32.const 9)) (i32.const 16) (i32.const 5)))
    (i32.const 0))
  (func (export "_start") (unreachable)))
W
wat main
check "main when there is no dagger_main" 0 "main" "" -- "$TMP/main.wasm"

# ---- Dagger's 2018 form: "env", open(url, flags=0) NUL-terminated, sync -------
cat >"$TMP/old.wat" <<'W'
(module
  (import "env" "open" (func $open (param i32 i32) (result i32)))
  (import "env" "write" (func $write (param i32 i32 i32) (result i32)))
  (import "env" "sync" (func $sync (param i32) (result i32)))
  (import "env" "close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "fd://1\00")
  (data (i32.const 16) "old\0a")
  (func (export "_start") (local $sd i32)
    (local.set $sd (call $open (i32.const 0) (i32.const 0)))
    (drop (call $write (local.get $sd) (i32.const 16) (i32.const 4)))
    (if (call $sync (local.get $sd)) (then unreachable))
    (if (call $close (local.get $sd)) (then unreachable))
    (if (i32.ne (call $close (local.get $sd)) (i32.const -5)) (then unreachable))))
W
wat old
check "2018 form through env, _start" 0 "old" "" -- "$TMP/old.wasm"

# ---- file:// stays inside --dir --------------------------------------------------
printf 'secret\n' >"$TMP/outside/secret"
cat >"$TMP/escape.wat" <<'W'
(module
  (import "dagger" "open" (func $open (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "file:///data/../outside/secret\00")
  (func (export "dagger_main") (result i32)
    (i32.sub (i32.const 0) (call $open (i32.const 0) (i32.const 0)))))
W
wat escape
check "file:// cannot climb out of --dir (exit 4 = -DAGGER_EPERM)" 4 "" "" \
    -- --dir "$TMP/data::/data" "$TMP/escape.wasm"

cat >"$TMP/writer.wat" <<'W'
(module
  (import "dagger" "open" (func $open (param i32 i32) (result i32)))
  (import "dagger" "write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "file:///data/out.txt?mode=w\00")
  (data (i32.const 32) "written")
  (func (export "dagger_main") (result i32)
    (i32.sub (i32.const 7)
      (call $write (call $open (i32.const 0) (i32.const 0)) (i32.const 32) (i32.const 7)))))
W
wat writer
check "file:// ?mode=w creates a file" 0 "" "" -- --dir "$TMP/data::/data" "$TMP/writer.wasm"
if [ "$(cat "$TMP/data/out.txt" 2>/dev/null)" = "written" ]; then echo "ok: the file holds what was written"
else fail "file:// ?mode=w: out.txt holds '$(cat "$TMP/data/out.txt" 2>/dev/null)'"; fi

# ---- a closed pipe is an error for the guest, not SIGPIPE for wedge -------------
cat >"$TMP/flood.wat" <<'W'
(module
  (import "dagger" "open" (func $open (param i32 i32) (result i32)))
  (import "dagger" "write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "stdout://\00")
  (func (export "dagger_main") (result i32) (local $sd i32) (local $r i32)
    (local.set $sd (call $open (i32.const 0) (i32.const 0)))
    (loop $again
      (local.set $r (call $write (local.get $sd) (i32.const 64) (i32.const 65536)))
      (br_if $again (i32.gt_s (local.get $r) (i32.const 0))))
    (i32.sub (i32.const 0) (local.get $r))))
W
wat flood
timeout 60 "$WEDGE" run "$TMP/flood.wasm" 2>"$TMP/stderr" | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" = 6 ]; then echo "ok: writing to a closed pipe gives the guest -6 (exit 6), not SIGPIPE"
else fail "writing to a closed pipe: exit $rc, expected 6 (-DAGGER_EEOS); stderr: $(head -c 300 "$TMP/stderr")"; fi

# ---- what a Dagger guest cannot import -------------------------------------------
cat >"$TMP/nope.wat" <<'W'
(module (import "dagger" "fetch" (func (param i32) (result i32))) (func (export "dagger_main") (result i32) (i32.const 0)))
W
wat nope
check "unknown Dagger function" 1 "" \
    '^error: [^ ]*nope.wasm: unknown import "dagger"\."fetch" \(func \(param i32\) \(result i32\)\): "dagger" has no item of that name$' \
    -- "$TMP/nope.wasm"

if [ "$failures" -gt 0 ]; then
    echo "$failures Dagger check(s) failed" >&2
    exit 1
fi
echo "all Dagger checks passed"
