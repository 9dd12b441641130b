#!/usr/bin/env bash
# examples.sh WEDGE BUILD_DIR — run each example guest (examples/*.c, built
# to BUILD_DIR/examples/*.wasm) through `wedge run` and check its output and
# exit status exactly.  Every mismatch prints what was expected and what
# came back; the script exits non-zero if any check failed.  Exit 77 (CTest
# "skip" if SKIP_RETURN_CODE is set) when the examples were not built.
set -u

WEDGE=${1:?usage: examples.sh WEDGE BUILD_DIR}
BUILD=${2:?usage: examples.sh WEDGE BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
EX=$BUILD/examples

if [ ! -x "$WEDGE" ]; then
    echo "FAIL: wedge binary $WEDGE does not exist" >&2
    exit 1
fi
for n in hello args_env copy kernel traps; do
    if [ ! -f "$EX/$n.wasm" ]; then
        echo "SKIP: $EX/$n.wasm not built (clang/wasi-libc missing?)" >&2
        exit 77
    fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run NAME EXPECTED_RC EXPECTED_STDOUT -- wedge-run-args...
# Runs `wedge run ARGS`, compares exit status and stdout exactly.
run() {
    local name=$1 want_rc=$2 want_out=$3
    shift 4
    local out rc
    out=$("$WEDGE" run "$@" 2>"$TMP/stderr")
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit status $rc, expected $want_rc (stderr: $(head -c 400 "$TMP/stderr"))"
        return 1
    fi
    if [ "$out" != "$want_out" ]; then
        fail "$name: stdout differs"
        diff <(printf '%s\n' "$want_out") <(printf '%s\n' "$out") | head -20 >&2
        return 1
    fi
    echo "ok: $name"
}

# expect_trap NAME WORDS -- args: a trap exits non-zero and says
# "wasm trap: ..." with the given words on stderr.
expect_trap() {
    local name=$1 words=$2
    shift 3
    "$WEDGE" run "$@" >"$TMP/stdout" 2>"$TMP/stderr"
    local rc=$?
    if [ "$rc" = 0 ]; then
        fail "$name: exited 0, expected a trap"
    elif ! grep -q "wasm trap: .*$words" "$TMP/stderr"; then
        fail "$name: stderr lacks 'wasm trap: ...$words' (exit $rc, stderr: $(head -c 400 "$TMP/stderr"))"
    elif grep -q "no trap" "$TMP/stdout"; then
        fail "$name: guest kept running after the trap"
    else
        echo "ok: $name (exit $rc)"
    fi
}

# ---- hello --------------------------------------------------------------
run hello 0 "hello, world" -- "$EX/hello.wasm"

# The same module precompiled: run must accept a .so too.
if "$WEDGE" compile "$EX/hello.wasm" -o "$TMP/hello.so" 2>"$TMP/stderr"; then
    run hello.so 0 "hello, world" -- "$TMP/hello.so"
else
    fail "wedge compile hello.wasm: $(head -c 400 "$TMP/stderr")"
fi

# ---- args and environment -------------------------------------------------
want=$'argc=4\narg[1]=one\narg[2]=two words\narg[3]=\narg[4]=üñï€ode\nenv EX_A=alpha\nenv EX_B=b=c d'
run args_env 0 "$want" -- --env EX_A=alpha --env "EX_B=b=c d" --env OTHER=x \
    "$EX/args_env.wasm" one "two words" "" "üñï€ode"
# Nothing leaks from the host environment unless asked for.
EX_LEAK=1 run args_env-noleak 0 "argc=0" -- "$EX/args_env.wasm"

# ---- copy inside a pre-opened directory --------------------------------------
mkdir -p "$TMP/data" "$TMP/outside"
head -c 100000 /dev/urandom >"$TMP/data/in.bin"
printf 'secret\n' >"$TMP/outside/secret.txt"
want=$'copied 100000 bytes\nentry in.bin\nentry out.bin'
if run copy 0 "$want" -- --dir "$TMP/data::/data" "$EX/copy.wasm" /data/in.bin /data/out.bin; then
    if ! cmp -s "$TMP/data/in.bin" "$TMP/data/out.bin"; then
        fail "copy: out.bin differs from in.bin"
    fi
fi
# An empty file and a file name with spaces.
: >"$TMP/data/empty file"
run copy-empty 0 $'copied 0 bytes\nentry empty copy\nentry empty file\nentry in.bin\nentry out.bin' -- \
    --dir "$TMP/data::/data" "$EX/copy.wasm" "/data/empty file" "/data/empty copy"
[ -f "$TMP/data/empty copy" ] && [ ! -s "$TMP/data/empty copy" ] || fail "copy-empty: no empty copy made"

# The jail: nothing outside the pre-opened directory can be read.
for path in "/data/../outside/secret.txt" "/outside/secret.txt" "$TMP/outside/secret.txt" "/etc/passwd"; do
    "$WEDGE" run --dir "$TMP/data::/data" "$EX/copy.wasm" "$path" /data/stolen.txt >"$TMP/stdout" 2>"$TMP/stderr"
    rc=$?
    if [ "$rc" != 2 ]; then
        fail "copy jail: reading $path exited $rc, expected 2 (cannot open)"
    elif [ -e "$TMP/data/stolen.txt" ]; then
        fail "copy jail: $path was copied into the sandbox"
    else
        echo "ok: copy jail refuses $path"
    fi
    rm -f "$TMP/data/stolen.txt"
done
# Through a symbolic link that points outside.
ln -s "$TMP/outside/secret.txt" "$TMP/data/link.txt"
"$WEDGE" run --dir "$TMP/data::/data" "$EX/copy.wasm" /data/link.txt /data/stolen.txt >/dev/null 2>"$TMP/stderr"
rc=$?
if [ "$rc" != 2 ] || [ -e "$TMP/data/stolen.txt" ]; then
    fail "copy jail: symlink to the outside was followed (exit $rc)"
else
    echo "ok: copy jail refuses a symlink leaving the directory"
fi
rm -f "$TMP/data/link.txt" "$TMP/data/stolen.txt"
# Writing outside is refused as well.
"$WEDGE" run --dir "$TMP/data::/data" "$EX/copy.wasm" /data/in.bin /data/../outside/new.bin >/dev/null 2>"$TMP/stderr"
rc=$?
if [ "$rc" != 3 ] || [ -e "$TMP/outside/new.bin" ]; then
    fail "copy jail: write to ../outside was allowed (exit $rc)"
else
    echo "ok: copy jail refuses to create ../outside/new.bin"
fi
# No --dir at all: no file system.
"$WEDGE" run "$EX/copy.wasm" /data/in.bin /data/x.bin >/dev/null 2>&1
rc=$?
[ "$rc" = 2 ] && echo "ok: copy without --dir cannot open" || fail "copy without --dir exited $rc, expected 2"

# ---- compute kernel: same checksum as native ----------------------------------
CC=${CC:-cc}
if "$CC" -O2 -o "$TMP/kernel.native" "$SRC/examples/kernel.c" -lm 2>"$TMP/stderr"; then
    native=$("$TMP/kernel.native" 2 50000)
    run kernel 0 "$native" -- "$EX/kernel.wasm" 2 50000
else
    fail "cannot build examples/kernel.c natively with $CC: $(head -c 400 "$TMP/stderr")"
fi

# ---- exit codes and traps ---------------------------------------------------------
run "traps exit 0" 0 "" -- "$EX/traps.wasm" exit 0
run "traps exit 3" 3 "" -- "$EX/traps.wasm" exit 3
run "traps exit 113" 113 "" -- "$EX/traps.wasm" exit 113
run "traps div 9 2" 0 "4" -- "$EX/traps.wasm" div 9 2
run "traps usage" 1 "" -- "$EX/traps.wasm"
expect_trap "traps div 1 0" "divide by zero" -- "$EX/traps.wasm" div 1 0
expect_trap "traps overflow" "overflow" -- "$EX/traps.wasm" overflow
expect_trap "traps unreachable" "unreachable" -- "$EX/traps.wasm" unreachable
expect_trap "traps oob" "out of bounds memory access" -- "$EX/traps.wasm" oob
expect_trap "traps stack" "exhausted" -- "$EX/traps.wasm" stack
expect_trap "traps indirect" "indirect call type mismatch" -- "$EX/traps.wasm" indirect

if [ "$failures" != 0 ]; then
    echo "$failures check(s) FAILED" >&2
    exit 1
fi
echo "all example checks passed"
