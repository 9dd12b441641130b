#!/usr/bin/env bash
# nostdlib.sh WEDGE BUILD_DIR — the -nostdlib examples of both stream ABIs
# (BUILD_DIR/examples/dagger and examples/cwa, built by CMake from
# examples/) under `wedge run`, and CommonWA's entry and linking rules:
# cwa_main's result is the exit status, else _start; runtime_exit; the
# "env" module name; argv/environment as WASI gets them; a write to a
# closed pipe is CWA_EEOF for the guest, not SIGPIPE; the fetch examples of
# both ABIs get http:// on the allow-list (tests/common/dagger_upstream.py
# on loopback) and are refused off it.  The .wat cases need wat2wasm; a
# missing tool or example is a skip (exit 77) with its reason.
# ~3 s.
set -u

WEDGE=${1:?usage: nostdlib.sh WEDGE BUILD_DIR}
BUILD=${2:?usage: nostdlib.sh WEDGE BUILD_DIR}
EX=$BUILD/examples
for f in dagger/hello dagger/random dagger/http dagger/fetch cwa/hello cwa/cat cwa/random cwa/http cwa/fetch; do
    if [ ! -f "$EX/$f.wasm" ]; then
        echo "SKIP: all 19 checks: $EX/$f.wasm not built (clang without the wasm32 target?)" >&2
        exit 77
    fi
done
if ! command -v wat2wasm >/dev/null; then
    echo "SKIP: all 19 checks: wat2wasm (wabt) not installed" >&2
    exit 77
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# check NAME WANT_RC WANT_STDOUT_REGEX WANT_STDERR_REGEX -- wedge-run-args...  (stdin from $TMP/stdin)
: >"$TMP/stdin"
check() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out rc
    out=$(timeout 60 "$WEDGE" run "$@" <"$TMP/stdin" 2>"$TMP/stderr")
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit status $rc, expected $want_rc (stderr: $(head -c 300 "$TMP/stderr"))"
    elif { [ -z "$want_out" ] && [ -n "$out" ]; } ||
         { [ -n "$want_out" ] && ! printf '%s' "$out" | grep -qzE -- "^$want_out\$"; }; then
        fail "$name: stdout '$out', expected /^$want_out\$/"
    elif [ -n "$want_err" ] && ! grep -qE -- "$want_err" "$TMP/stderr"; then
        fail "$name: stderr lacks /$want_err/: $(head -c 300 "$TMP/stderr")"
    elif [ -z "$want_err" ] && [ -s "$TMP/stderr" ]; then
        fail "$name: unexpected stderr: $(head -c 300 "$TMP/stderr")"
    else
        echo "ok: $name"
    fi
}
wat() { wat2wasm "$TMP/$1.wat" -o "$TMP/$1.wasm" || fail "wat2wasm $1"; }

# ---- the Dagger examples -------------------------------------------------------------
check "dagger hello" 0 "hello, world" "^hello: starting$" -- "$EX/dagger/hello.wasm"
check "dagger random" 0 "[0-9a-f]{32}" "" -- "$EX/dagger/random.wasm"
printf 'make me loud' >"$TMP/stdin"
check "dagger http function (run)" 0 "MAKE ME LOUD" "^upper: upper-cased the body$" -- "$EX/dagger/http.wasm"
: >"$TMP/stdin"

# ---- the CommonWA examples -----------------------------------------------------------
check "cwa hello (argv)" 0 "hello, Ada Lovelace" "^info: wedge$" -- "$EX/cwa/hello.wasm" "Ada Lovelace"
check "cwa hello (no argument)" 0 "hello, world" "^info: wedge$" -- "$EX/cwa/hello.wasm"
mkdir -p "$TMP/data"
printf 'one\ntwo\n' >"$TMP/data/in.txt"
check "cwa cat inside --dir" 0 "one
two" "" -- --dir "$TMP/data::/data" "$EX/cwa/cat.wasm" file:///data/in.txt
check "cwa cat without --dir: permission denied (3)" 3 "" "^error: file:///data/in.txt$" -- \
    "$EX/cwa/cat.wasm" file:///data/in.txt
check "cwa cat of a missing file: not found (4)" 4 "" "^error: file:///data/nope$" -- \
    --dir "$TMP/data::/data" "$EX/cwa/cat.wasm" file:///data/nope
check "cwa random" 0 "[0-9a-f]{32} [0-9]+ [0-9]+" "" -- "$EX/cwa/random.wasm"
printf 'abc' >"$TMP/stdin"
check "cwa http function (run, environment from --env)" 0 "PUT /p: 3 bytes: abc" "^info: answered$" -- \
    --env REQUEST_METHOD=PUT --env PATH_INFO=/p "$EX/cwa/http.wasm"
: >"$TMP/stdin"

# ---- entry, exit, the env module name -------------------------------------------------
cat >"$TMP/exit.wat" <<'W'
(module
  (import "cwa" "runtime_exit" (func $exit (param i32)))
  (import "cwa" "io_get_stdout" (func $out (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "before exit\n")
  (func (export "cwa_main") (result i32)
    (drop (call $write (call $out) (i32.const 0) (i32.const 12)))
    (call $exit (i32.const 9))
    (unreachable)))
W
wat exit
check "runtime_exit ends the guest with its status" 9 "before exit" "" -- "$TMP/exit.wasm"

cat >"$TMP/start.wat" <<'W'
(module
  (import "env" "io_get_stdout" (func $out (result i32)))
  (import "env" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (import "env" "startup_arg_len" (func $argc (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "0 args from env\n")
  (func (export "_start")
    (i32.store8 (i32.const 0) (i32.add (i32.const 48) (call $argc)))
    (drop (call $write (call $out) (i32.const 0) (i32.const 16)))))
W
wat start
check "imports from env, _start entry, startup_arg_len counts argv[0]" 0 "3 args from env" "" -- \
    "$TMP/start.wasm" a b

cat >"$TMP/main.wat" <<'W'
(module
  (import "cwa" "random_i32" (func $r (result i32)))
  (func (export "cwa_main") (result i32) (i32.sub (i32.const 7) (i32.mul (i32.const 0) (call $r))))
  (func (export "_start") (unreachable)))
W
wat main
check "cwa_main first, its result is the exit status" 7 "" "" -- "$TMP/main.wasm"

# A closed pipe: the guest's write gets CWA_EEOF (-5) and it exits with 5.
cat >"$TMP/pipe.wat" <<'W'
(module
  (import "cwa" "io_get_stdout" (func $out (result i32)))
  (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "cwa_main") (result i32) (local $fd i32) (local $r i32)
    (local.set $fd (call $out))
    (loop $l
      (local.set $r (call $write (local.get $fd) (i32.const 0) (i32.const 4096)))
      (br_if $l (i32.ge_s (local.get $r) (i32.const 0))))
    (i32.sub (i32.const 0) (local.get $r))))
W
wat pipe
timeout 60 "$WEDGE" run "$TMP/pipe.wasm" 2>"$TMP/pipe.err" | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 5 ] && echo "ok: a closed pipe is CWA_EEOF for the guest (exit 5), not SIGPIPE" ||
    fail "closed pipe: exit status $rc (141 = SIGPIPE), stderr: $(head -c 200 "$TMP/pipe.err")"

cat >"$TMP/bad.wat" <<'W'
(module
  (import "cwa" "no_such_call" (func (result i32)))
  (func (export "cwa_main") (result i32) (i32.const 0)))
W
wat bad
check "an unknown cwa import is refused at load, named" 1 "" 'unknown import "cwa"."no_such_call"' -- "$TMP/bad.wasm"

# ---- http:// through CommonWA's resources (Dagger's http streams) -----------------
if command -v python3 >/dev/null; then
    python3 "$(dirname "$0")/../common/dagger_upstream.py" "$TMP/ports" &
    up=$!
    for _ in $(seq 100); do [ -s "$TMP/ports" ] && break; sleep 0.1; done
    read -r hport _ _ <"$TMP/ports" 2>/dev/null
    url="http://127.0.0.1:$hport/hello"
    # The fetch examples of both ABIs: the raw response on the allow-list,
    # permission denied off it (CommonWA -3, Dagger -4, as exit statuses).
    fetch_check() {   # name want-exit allow-args... -- run-args...
        local name=$1 want=$2; shift 2
        local args=() out rc
        while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
        out=$(timeout 60 "$WEDGE" run "${args[@]}" "$@" 2>"$TMP/fetch.err")
        rc=$?
        if [ "$want" != 0 ]; then
            [ "$rc" = "$want" ] && echo "ok: $name" || fail "$name: exit $rc, expected $want"
        elif [ "$rc" = 0 ] && grep -q "^HTTP/1.1 200" <<<"$out" && grep -q "hello over http" <<<"$out"; then
            echo "ok: $name"
        else
            fail "$name: exit $rc, stdout '$(head -c 200 <<<"$out")', stderr $(head -c 200 "$TMP/fetch.err")"
        fi
    }
    fetch_check "CommonWA fetch.wasm gets http:// on the allow-list (raw response)" 0 \
        --allow-http "http://127.0.0.1:$hport" -- "$EX/cwa/fetch.wasm" "$url"
    fetch_check "CommonWA fetch.wasm off the allow-list: not allowed (3)" 3 -- "$EX/cwa/fetch.wasm" "$url"
    fetch_check "Dagger fetch.wasm gets http:// on the allow-list (raw response)" 0 \
        --allow-http "http://127.0.0.1:$hport" -- "$EX/dagger/fetch.wasm" <<<"$url"
    fetch_check "Dagger fetch.wasm off the allow-list: permission denied (4)" 4 -- "$EX/dagger/fetch.wasm" <<<"$url"
    kill "$up" 2>/dev/null
    wait "$up" 2>/dev/null
else
    fail "python3 missing: no upstream for the http checks"
fi

[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "all -nostdlib example and CommonWA checks passed"
