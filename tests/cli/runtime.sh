#!/usr/bin/env bash
# runtime.sh WEDGE BUILD_DIR — end-to-end checks of the runtime through the
# command line: `wedge run --invoke` results and argument parsing, trap
# messages and exit statuses (134), proc_exit codes, stack exhaustion,
# out-of-bounds at the edge of memory in guard and software modes,
# instantiation-time traps, link errors, and refusal of bad inputs (bad .so
# ABI version, not a module, truncated module).  Needs wat2wasm and cc.
# Every mismatch is printed; exits non-zero if any check failed.
set -u

WEDGE=${1:?usage: runtime.sh WEDGE BUILD_DIR}
BUILD=${2:?usage: runtime.sh WEDGE BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# check NAME WANT_RC WANT_STDOUT WANT_STDERR_REGEX -- wedge args...
# Runs wedge (60 s timeout: a hang is a failure), compares the exit status
# and stdout exactly, and greps stderr for the regex (empty: stderr must be
# empty).
check() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out rc
    out=$(timeout 60 "$WEDGE" "$@" 2>"$TMP/stderr")
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit status $rc, expected $want_rc (stderr: $(head -c 300 "$TMP/stderr"))"
    elif [ "$out" != "$want_out" ]; then
        fail "$name: stdout '$out', expected '$want_out'"
    elif [ -z "$want_err" ] && [ -s "$TMP/stderr" ]; then
        fail "$name: unexpected stderr: $(head -c 300 "$TMP/stderr")"
    elif [ -n "$want_err" ] && ! grep -qE -- "$want_err" "$TMP/stderr"; then
        fail "$name: stderr lacks /$want_err/: $(head -c 300 "$TMP/stderr")"
    elif [ -n "$want_err" ] && [ "$(wc -l <"$TMP/stderr")" != 1 ]; then
        fail "$name: error is not one line: $(head -c 300 "$TMP/stderr")"
    else
        echo "ok: $name"
    fi
}

wat() {   # wat NAME: $TMP/NAME.wat -> $TMP/NAME.wasm
    wat2wasm --enable-all "$TMP/$1.wat" -o "$TMP/$1.wasm" || fail "wat2wasm $1"
}

# ---- the command line itself --------------------------------------------------
check "version" 0 "$("$WEDGE" version)" "" -- version
for c in compile run version; do
    if "$WEDGE" "$c" --help >"$TMP/help" 2>&1 && grep -q "Usage: wedge $c" "$TMP/help"; then
        echo "ok: $c --help"
    else
        fail "$c --help"
    fi
done
"$WEDGE" --help | grep -q "Usage: wedge" && echo "ok: --help" || fail "--help"
"$WEDGE" >/dev/null 2>"$TMP/stderr"
rc=$?
[ "$rc" = 1 ] && grep -q "Usage: wedge" "$TMP/stderr" && echo "ok: no command" || fail "no command: exit $rc"
check "unknown command" 1 "" "unknown command 'frobnicate'" -- frobnicate
check "unknown run option" 1 "" "unknown option --frob" -- run --frob x.wasm
check "run without module" 1 "" "no module" -- run
check "compile without -o" 1 "" "no -o" -- compile x.wasm
check "bad --bounds" 1 "" "--bounds fast" -- run --bounds fast x.wasm

# ---- --invoke: values in and out ------------------------------------------------
cat >"$TMP/vals.wat" <<'W'
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "pair") (param i32 f64) (result f64 i32) (local.get 1) (local.get 0))
  (func (export "f32id") (param f32) (result f32) (local.get 0))
  (func (export "f64div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
  (func (export "nothing"))
  (global (export "g") i32 (i32.const 1)))
W
wat vals
V=$TMP/vals.wasm
check "i32 add" 0 "-4" "" -- run --invoke add "$V" 3 -7
check "i32 wraps, prints signed" 0 "-2147483648" "" -- run --invoke add "$V" 2147483647 1
check "i32 unsigned input" 0 "-1" "" -- run --invoke add "$V" 4294967295 0
check "i32 hex input" 0 "255" "" -- run --invoke add "$V" 0xff 0
check "leading zero is decimal" 0 "10" "" -- run --invoke add "$V" 010 0
check "i64 add" 0 "-9000000000" "" -- run --invoke add64 "$V" -9000000001 1
check "i64 extremes" 0 "9223372036854775807" "" -- run --invoke add64 "$V" 9223372036854775806 1
check "multi-value" 0 "$(printf '2.5\n7')" "" -- run --invoke pair "$V" 7 2.5
check "f64 round-trip digits" 0 "0.10000000000000001" "" -- run --invoke f64div "$V" 1 10
check "f32 round-trip digits" 0 "0.100000001" "" -- run --invoke f32id "$V" 0.1
check "f64 inf" 0 "-inf" "" -- run --invoke f64div "$V" -1 0
check "f64 nan" 0 "nan" "" -- run --invoke f64div "$V" nan 1
check "no results" 0 "" "" -- run --invoke nothing "$V"
check "too few args" 1 "" "add expects 2 arguments, got 1" -- run --invoke add "$V" 1
check "bad i32" 1 "" "'x' is not a valid i32" -- run --invoke add "$V" 1 x
check "i32 out of range" 1 "" "'4294967296' is not a valid i32" -- run --invoke add "$V" 4294967296 0
check "i32 below range" 1 "" "not a valid i32" -- run --invoke add "$V" -2147483649 0
check "no such export" 1 "" "no exported function named 'sub'" -- run --invoke sub "$V"
check "global is not a function" 1 "" "no exported function named 'g'" -- run --invoke g "$V"
check "no _start is fine" 0 "" "" -- run "$V"

# v128 in and out: lanes by shape, printed as four i32 lanes in hex.
cat >"$TMP/simd.wat" <<'W'
(module
  (func (export "add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (export "fmin") (param v128 v128) (result v128) (f32x4.min (local.get 0) (local.get 1))))
W
wat simd
S=$TMP/simd.wasm
check "v128 i32x4 add" 0 "i32x4:0x00000003,0xffffffff,0x00000000,0x80000000" "" -- \
    run --invoke add "$S" i32x4:1,-2,0,0x7fffffff i32x4:2,1,0,1
check "v128 i8x16 lanes" 0 "i32x4:0x04030201,0x08070605,0x0c0b0a09,0x100f0e0d" "" -- \
    run --invoke add "$S" i8x16:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 i64x2:0,0
check "v128 f32x4 min -0" 0 "i32x4:0x80000000,0x3f800000,0x7fc00000,0xbf800000" "" -- \
    run --invoke fmin "$S" f32x4:0,1,nan,-1 f32x4:-0,2,1,1
check "v128 bad lanes" 1 "" "not a valid v128" -- run --invoke add "$S" i32x4:1,2,3 i32x4:1,2,3,4

# A precompiled .so runs the same way.
if "$WEDGE" compile -q "$V" -o "$TMP/vals.so" 2>"$TMP/stderr"; then
    check ".so invoke" 0 "42" "" -- run --invoke add "$TMP/vals.so" 40 2
else
    fail "compile vals: $(cat "$TMP/stderr")"
fi

# ---- traps -------------------------------------------------------------------
cat >"$TMP/traps.wat" <<'W'
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table 3 funcref)
  (elem (i32.const 0) $id)
  (memory 1 3)
  (func $id (type $ii) (local.get 0))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
  (func (export "unreachable") unreachable)
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "icall") (param i32) (result i32) (call_indirect (type $ii) (i32.const 5) (local.get 0)))
  (func (export "icall_v") (param i32) (call_indirect (type $v) (local.get 0)))
  ;; recursion that keeps a live frame (a value used after the call)
  (func $deep (export "deep") (param i32) (result i32)
    (local i32)
    (local.set 1 (call $deep (i32.add (local.get 0) (i32.const 1))))
    (i32.store (i32.const 0) (local.get 1))
    (i32.load (i32.const 4)))
  ;; the spec suite's runaway recursion: no frame worth keeping
  (func $runaway (export "runaway") (call $runaway))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load_off") (param i32) (result i32) (i32.load offset=4294967295 (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow_then_load") (param i32) (result i32)
    (drop (memory.grow (i32.const 1))) (i32.load (local.get 0))))
W
wat traps
T=$TMP/traps.wasm
check "divide by zero" 134 "" "^wasm trap: integer divide by zero$" -- run --invoke div "$T" 1 0
check "rem by zero" 134 "" "^wasm trap: integer divide by zero$" -- run --invoke rem "$T" 1 0
check "div overflow" 134 "" "^wasm trap: integer overflow$" -- run --invoke div "$T" -2147483648 -1
check "div ok" 0 "-3" "" -- run --invoke div "$T" -7 2
check "unreachable" 134 "" "^wasm trap: unreachable$" -- run --invoke unreachable "$T"
check "trunc nan" 134 "" "^wasm trap: invalid conversion to integer$" -- run --invoke trunc "$T" nan
check "trunc overflow" 134 "" "^wasm trap: integer overflow$" -- run --invoke trunc "$T" 3e9
check "call_indirect ok" 0 "5" "" -- run --invoke icall "$T" 0
check "call_indirect null" 134 "" "^wasm trap: uninitialized element$" -- run --invoke icall "$T" 1
check "call_indirect oob" 134 "" "^wasm trap: undefined element$" -- run --invoke icall "$T" 3
check "call_indirect type" 134 "" "^wasm trap: indirect call type mismatch$" -- run --invoke icall_v "$T" 0
check "deep recursion" 134 "" "^wasm trap: call stack exhausted$" -- run --invoke deep "$T" 0
check "runaway recursion" 134 "" "^wasm trap: call stack exhausted$" -- run --invoke runaway "$T"
check "deep recursion (software)" 134 "" "^wasm trap: call stack exhausted$" -- run --bounds software --invoke deep "$T" 0

# ---- memory bounds at the edge, per mode -------------------------------------------
for mode in guard software; do
    B="--bounds $mode"
    check "$mode: last word" 0 "0" "" -- run $B --invoke load "$T" 65532
    check "$mode: last byte" 0 "0" "" -- run $B --invoke load8 "$T" 65535
    check "$mode: word straddles end" 134 "" "^wasm trap: out of bounds memory access$" -- run $B --invoke load "$T" 65533
    check "$mode: byte past end" 134 "" "^wasm trap: out of bounds memory access$" -- run $B --invoke load8 "$T" 65536
    check "$mode: max address" 134 "" "^wasm trap: out of bounds memory access$" -- run $B --invoke load "$T" 4294967295
    check "$mode: max offset" 134 "" "^wasm trap: out of bounds memory access$" -- run $B --invoke load_off "$T" 4294967295
    check "$mode: store past end" 134 "" "^wasm trap: out of bounds memory access$" -- run $B --invoke store "$T" 65536 1
    check "$mode: grown page readable" 0 "0" "" -- run $B --invoke grow_then_load "$T" 131068
    check "$mode: beyond grown page" 134 "" "^wasm trap: out of bounds memory access$" -- run $B --invoke grow_then_load "$T" 131069
    check "$mode: grow to max" 0 "1" "" -- run $B --invoke grow "$T" 2
    check "$mode: grow past max" 0 "-1" "" -- run $B --invoke grow "$T" 3
done

# ---- instantiation: start, segments, imports, proc_exit --------------------------
cat >"$TMP/start_trap.wat" <<'W'
(module (func $s unreachable) (start $s) (func (export "f") (result i32) (i32.const 1)))
W
wat start_trap
check "start traps" 134 "" "^wasm trap: unreachable$" -- run --invoke f "$TMP/start_trap.wasm"

cat >"$TMP/data_oob.wat" <<'W'
(module (memory 1) (data (i32.const 65535) "ab") (func (export "_start")))
W
wat data_oob
check "data segment out of bounds" 134 "" "^wasm trap: out of bounds memory access$" -- run "$TMP/data_oob.wasm"

cat >"$TMP/elem_oob.wat" <<'W'
(module (table 1 funcref) (func $f) (elem (i32.const 1) $f) (func (export "_start")))
W
wat elem_oob
check "element segment out of bounds" 134 "" "^wasm trap: out of bounds table access$" -- run "$TMP/elem_oob.wasm"

# Imports nothing linked provides: refused before anything runs, one line
# naming the module file, the import, its kind and type, and what is linked.
cat >"$TMP/unknown_import.wat" <<'W'
(module (import "acme" "missing" (func (param i32 i64) (result f32)))
  (func (export "_start")))
W
wat unknown_import
check "unknown import" 1 "" \
    '^error: [^ ]*unknown_import.wasm: unknown import "acme"\."missing" \(func \(param i32 i64\) \(result f32\)\): nothing linked is named "acme" \(linked: wasi_snapshot_preview1, dagger, env, cwa\)$' \
    -- run "$TMP/unknown_import.wasm"

# "env" is Dagger's too (its 2018 hosts' name): a name it lacks is named.
cat >"$TMP/unknown_env.wat" <<'W'
(module (import "env" "missing" (func)) (func (export "_start")))
W
wat unknown_env
check "unknown env import" 1 "" \
    '^error: [^ ]*unknown_env.wasm: unknown import "env"\."missing" \(func\): "env" has no item of that name$' \
    -- run "$TMP/unknown_env.wasm"

cat >"$TMP/unknown_wasi.wat" <<'W'
(module (import "wasi_snapshot_preview1" "fd_writ" (func (param i32 i32 i32 i32) (result i32)))
  (func (export "_start")))
W
wat unknown_wasi
check "unknown WASI function" 1 "" \
    '^error: [^ ]*unknown_wasi.wasm: unknown import "wasi_snapshot_preview1"\."fd_writ" \(func \(param i32 i32 i32 i32\) \(result i32\)\): "wasi_snapshot_preview1" has no item of that name$' \
    -- run "$TMP/unknown_wasi.wasm"

cat >"$TMP/unknown_mem.wat" <<'W'
(module (import "env" "memory" (memory 1 2)) (func (export "_start")))
W
wat unknown_mem
check "unknown memory import" 1 "" 'unknown import "env"\."memory" \(memory 1 2\)' -- run "$TMP/unknown_mem.wasm"

cat >"$TMP/bad_wasi_type.wat" <<'W'
(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i64))) (func (export "_start")))
W
wat bad_wasi_type
check "wrong import type" 1 "" \
    'incompatible import type for "wasi_snapshot_preview1"\."proc_exit" \(func \(param i64\)\): function signature differs; the linked one is \(func \(param i32\)\)$' \
    -- run "$TMP/bad_wasi_type.wasm"

cat >"$TMP/exit.wat" <<'W'
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 42)) unreachable)
  (func (export "ret") (result i32) (i32.const 9))
  (func (export "exit_from_invoke") (call $exit (i32.const 3))))
W
wat exit
check "proc_exit code" 42 "" "" -- run "$TMP/exit.wasm"
check "proc_exit from --invoke" 3 "" "" -- run --invoke exit_from_invoke "$TMP/exit.wasm"
check "invoke next to _start" 0 "9" "" -- run --invoke ret "$TMP/exit.wasm"

# ---- refusing bad inputs --------------------------------------------------------
cat >"$TMP/badabi.c" <<'C'
#include "abi/wedge_abi.h"
const wedge_module_desc wedge_module_descriptor = {.abi_version = 99};
C
if cc -shared -fPIC -I"$SRC/src" "$TMP/badabi.c" -o "$TMP/badabi.so" 2>"$TMP/cc.err"; then
    check "bad ABI version" 1 "" "badabi.so: module ABI version 99, this wedge supports 3; recompile it" -- run "$TMP/badabi.so"
else
    fail "cc badabi.c: $(cat "$TMP/cc.err")"
fi
echo 'int not_wedge;' >"$TMP/plain.c"
cc -shared -fPIC "$TMP/plain.c" -o "$TMP/plain.so"
check "so without descriptor" 1 "" "plain.so: not a wedge module" -- run "$TMP/plain.so"
head -c 100 "$TMP/plain.so" >"$TMP/cut.so"
check "truncated .so" 1 "" "cut.so: cannot load module" -- run "$TMP/cut.so"
echo "hello" >"$TMP/text.wasm"
check "not a module" 1 "" "text.wasm: not a WebAssembly module" -- run "$TMP/text.wasm"
head -c 20 "$V" >"$TMP/trunc.wasm"
check "truncated module" 1 "" "trunc.wasm: " -- run "$TMP/trunc.wasm"
check "compile truncated module" 1 "" "trunc.wasm: " -- compile "$TMP/trunc.wasm" -o "$TMP/t.so"
check "missing file" 1 "" "nope.wasm: cannot open" -- run "$TMP/nope.wasm"
check "directory" 1 "" "$TMP" -- run "$TMP"

# ---- the compile cache's file index ----------------------------------------------
# A module file seen before and unchanged is found by its identity (inode,
# size, times) without being read or hashed; a changed file never is.  A
# private cache directory: the index holds symbolic links we inspect.
IDX=$TMP/idxcache
mkdir -p "$TMP/idx"
cat >"$TMP/idx/a.wat" <<'W'
(module (func (export "v") (result i32) (i32.const 111)))
W
cat >"$TMP/idx/b.wat" <<'W'
(module (func (export "v") (result i32) (i32.const 222)))
W
wat2wasm "$TMP/idx/a.wat" -o "$TMP/idx/a.wasm" && wat2wasm "$TMP/idx/b.wat" -o "$TMP/idx/b.wasm" || fail "wat2wasm idx"
cp "$TMP/idx/a.wasm" "$TMP/idx/m.wasm"
entries() { find "$IDX/by-file" -type l 2>/dev/null | wc -l; }
WEDGE_CACHE_DIR=$IDX check "index: fresh file runs" 0 "111" "" -- run --invoke v "$TMP/idx/m.wasm"
[ "$(entries)" = 0 ] && echo "ok: index: a file changed just now is not entered (racy)" ||
    fail "index: a file changed just now was entered ($(entries) entries)"
sleep 3         # past RACY_SECONDS (2) in src/compile/cg_cache.c
WEDGE_CACHE_DIR=$IDX check "index: settled file runs" 0 "111" "" -- run --invoke v "$TMP/idx/m.wasm"
[ "$(entries)" = 1 ] && echo "ok: index: a settled file is entered" ||
    fail "index: expected 1 entry after a settled run, found $(entries)"
# The entry is used: pointed at b's object, the same file runs b's code.
link=$(find "$IDX/by-file" -type l | head -n1)
WEDGE_CACHE_DIR=$IDX check "index: compile b" 0 "222" "" -- run --invoke v "$TMP/idx/b.wasm"
bso=$(ls -t "$IDX"/*.so | head -n1)
ln -sfn "$(basename "$bso")" "$link"
WEDGE_CACHE_DIR=$IDX check "index: the entry is what a rerun uses" 0 "222" "" -- run --invoke v "$TMP/idx/m.wasm"
ln -sfn "/etc/passwd" "$link"
WEDGE_CACHE_DIR=$IDX check "index: an entry leading out of the cache is ignored" 0 "111" "" -- run --invoke v "$TMP/idx/m.wasm"
# Rewritten in place with other code of the same size: a miss, the new code.
cat "$TMP/idx/b.wasm" >"$TMP/idx/m.wasm"
WEDGE_CACHE_DIR=$IDX check "index: a rewritten file runs its new code" 0 "222" "" -- run --invoke v "$TMP/idx/m.wasm"
cat "$TMP/idx/a.wasm" >"$TMP/idx/m.wasm"
WEDGE_CACHE_DIR=$IDX check "index: and back" 0 "111" "" -- run --invoke v "$TMP/idx/m.wasm"

if [ "$failures" != 0 ]; then
    echo "$failures runtime check(s) failed" >&2
    exit 1
fi
echo "all runtime checks passed"
