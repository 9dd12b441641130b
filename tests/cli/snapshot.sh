#!/usr/bin/env bash
# snapshot.sh WEDGE BUILD_DIR — end-to-end checks of `wedge snapshot` and
# `wedge run --snapshot` with three guests (tests/cli/guests/): one whose
# init builds a large hash table (C), one whose init reads a file from a
# --dir and keeps another open (C), one whose init changes tables, mutable
# globals of every type, the memory size and dropped segments (WAT).  Every
# export's output after a restore must equal its output after running init
# in the same process (`wedge run --init`), except what is host state by
# design (a file kept open in init is closed).  Then the refusals: another
# module, truncated and corrupted files, no init export, a trapping init,
# bad options — each one line and exit 1 (134 for the trap).
# Needs clang with wasi-libc and wat2wasm; exit 77 (skipped) without them.
set -u

WEDGE=${1:?usage: snapshot.sh WEDGE BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
GUESTS=$SRC/tests/cli/guests

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WEDGE_CACHE_DIR=${WEDGE_CACHE_DIR:-$TMP/cache}

if ! command -v clang >/dev/null || ! command -v wat2wasm >/dev/null; then
    echo "skipped: 1 test file (clang or wat2wasm missing)"
    exit 77
fi
for g in snap_hash snap_file; do
    if ! clang --target=wasm32-wasi -mexec-model=reactor -O2 "$GUESTS/$g.c" -o "$TMP/$g.wasm" 2>"$TMP/cc.err"; then
        echo "skipped: clang cannot build wasm32-wasi reactors: $(head -c 300 "$TMP/cc.err")"
        exit 77
    fi
done
wat2wasm "$GUESTS/snap_tables.wat" -o "$TMP/snap_tables.wasm" || { echo "FAIL: wat2wasm"; exit 1; }

failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# same NAME WANT_DIFFERENT -- common args -- export [args]: runs the export
# after `--init INIT` in-process and after restoring SNAP; outputs and exit
# statuses must match (or differ, when WANT_DIFFERENT is 1).
compare() {
    local wasm=$1 snap=$2 init=$3 extra=$4 fn=$5
    shift 5
    local a b ra rb
    a=$(timeout 60 "$WEDGE" run $extra --init "$init" --invoke "$fn" "$TMP/$wasm" "$@" 2>&1)
    ra=$?
    b=$(timeout 60 "$WEDGE" run $extra --snapshot "$TMP/$snap" --invoke "$fn" "$TMP/$wasm" "$@" 2>&1)
    rb=$?
    checks=$((checks + 1))
    if [ "$a" != "$b" ] || [ "$ra" != "$rb" ]; then
        fail "$wasm $fn $*: after init '$a' (exit $ra), after restore '$b' (exit $rb)"
    elif [ -z "$a" ] && [ "$ra" = 0 ]; then
        fail "$wasm $fn $*: no output to compare"
    else
        echo "ok: $wasm $fn $* -> $(echo "$a" | head -c 80 | tr '\n' ' ')"
    fi
}

# refused NAME WANT_RC REGEX -- wedge args: exit status, one-line stderr matching REGEX.
refused() {
    local name=$1 want_rc=$2 re=$3
    shift 4
    timeout 60 "$WEDGE" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    checks=$((checks + 1))
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit $rc, expected $want_rc ($(head -c 300 "$TMP/err"))"
    elif ! grep -qE -- "$re" "$TMP/err"; then
        fail "$name: stderr lacks /$re/: $(head -c 300 "$TMP/err")"
    elif [ "$(wc -l <"$TMP/err")" != 1 ]; then
        fail "$name: error is not one line: $(head -c 300 "$TMP/err")"
    else
        echo "ok: $name"
    fi
}

# ---- the hash-table guest: init builds 200,000 entries ------------------------------
"$WEDGE" snapshot "$TMP/snap_hash.wasm" -o "$TMP/hash.snap" || fail "snapshot snap_hash"
for args in "count" "lookup 1" "lookup 123456" "lookup 200000" "lookup 200001" "checksum" "report"; do
    compare snap_hash.wasm hash.snap wizer.initialize "" $args
done
# Snapshots hold non-zero extents only: the table is ~4 MiB of a larger heap.
size=$(stat -c %s "$TMP/hash.snap")
checks=$((checks + 1))
[ "$size" -gt 4000000 ] && [ "$size" -lt 8000000 ] && echo "ok: hash.snap is $size bytes" ||
    fail "hash.snap is $size bytes, expected 4..8 MB"

# ---- the file guest: init reads /data/config.txt ---------------------------------
mkdir -p "$TMP/data"
printf 'name = wedge\nworkers = 3\n' >"$TMP/data/config.txt"
"$WEDGE" snapshot --dir "$TMP/data::/data" "$TMP/snap_file.wasm" -o "$TMP/file.snap" || fail "snapshot snap_file"
# The configuration changes after the snapshot: the restored guest must
# still hold what init read, so compare against the original.
cp "$TMP/data/config.txt" "$TMP/config.orig"
for fn in config_len config_sum print_config; do
    compare snap_file.wasm file.snap wizer.initialize "--dir $TMP/data::/data" $fn
done
printf 'changed\n' >"$TMP/data/config.txt"
out=$("$WEDGE" run --dir "$TMP/data::/data" --snapshot "$TMP/file.snap" --invoke print_config "$TMP/snap_file.wasm")
checks=$((checks + 1))
[ "$out" = "$(cat "$TMP/config.orig")" ] && echo "ok: restored config is init's" || fail "restored config: '$out'"
# Host state is not captured: the file init kept open is closed after a restore.
out=$("$WEDGE" run --dir "$TMP/data::/data" --init wizer.initialize --invoke kept_file_works "$TMP/snap_file.wasm")
out2=$("$WEDGE" run --dir "$TMP/data::/data" --snapshot "$TMP/file.snap" --invoke kept_file_works "$TMP/snap_file.wasm")
checks=$((checks + 1))
[ "$out" = 1 ] && [ "$out2" = 0 ] && echo "ok: a file opened in init is closed after restore" ||
    fail "kept file: in-process $out, restored $out2 (expected 1 and 0)"

# ---- the tables guest: tables, globals, memory size, dropped segments --------------
"$WEDGE" snapshot --init init "$TMP/snap_tables.wasm" -o "$TMP/tables.snap" || fail "snapshot snap_tables"
for args in "call 0 5" "call 1 5" "call 2 5" "call 3 5" "call 5 5" "call 6 5" "call_u 9" "call_global 7" \
    "tsize" "null_at 2" "null_at 6" "gi" "gl" "gf" "gd" "gv" "pages" "load 65532" "load 2000000" "reinit" "reelem"; do
    compare snap_tables.wasm tables.snap init "" $args
done
# The snapshot is bound to the module, not to how it was compiled.
a=$("$WEDGE" run --bounds software --snapshot "$TMP/tables.snap" --invoke gl "$TMP/snap_tables.wasm")
checks=$((checks + 1))
[ "$a" = 81985529216486895 ] && echo "ok: restore in software bounds mode" || fail "software bounds restore: '$a'"

# ---- refusals ---------------------------------------------------------------------
refused "another module" 1 "hash.snap: made from another module" -- \
    run --snapshot "$TMP/hash.snap" --invoke gi "$TMP/snap_tables.wasm"
head -c 5000 "$TMP/hash.snap" >"$TMP/cut.snap"
refused "truncated" 1 "cut.snap: truncated" -- run --snapshot "$TMP/cut.snap" --invoke count "$TMP/snap_hash.wasm"
cp "$TMP/hash.snap" "$TMP/flip.snap"
printf '\x01' | dd of="$TMP/flip.snap" bs=1 seek=300000 conv=notrunc status=none
refused "corrupted" 1 "flip.snap: corrupted" -- run --snapshot "$TMP/flip.snap" --invoke count "$TMP/snap_hash.wasm"
refused "not a snapshot" 1 "not a wedge snapshot" -- run --snapshot "$TMP/snap_hash.wasm" --invoke count "$TMP/snap_hash.wasm"
refused "missing snapshot" 1 "nope.snap: cannot read" -- run --snapshot "$TMP/nope.snap" --invoke count "$TMP/snap_hash.wasm"
refused "no init export" 1 "no init export" -- snapshot "$TMP/snap_tables.wasm" -o "$TMP/x.snap"
refused "unknown --init" 1 "no export named 'frob'" -- snapshot --init frob "$TMP/snap_tables.wasm" -o "$TMP/x.snap"
refused "init with params" 1 "no parameters and no results" -- snapshot --init call "$TMP/snap_tables.wasm" -o "$TMP/x.snap"
refused "trapping init" 134 "^wasm trap: " -- snapshot --init dirty_and_trap "$TMP/snap_hash.wasm" -o "$TMP/x.snap"
refused "no -o" 1 "no -o FILE" -- snapshot "$TMP/snap_hash.wasm"
refused "reactor without --invoke" 1 "no _start export" -- run --snapshot "$TMP/hash.snap" "$TMP/snap_hash.wasm"
refused "unwritable output" 1 "cannot write" -- snapshot "$TMP/snap_hash.wasm" -o "$TMP/no/such/dir/x.snap"
checks=$((checks + 1))
[ ! -e "$TMP/x.snap" ] && echo "ok: no file left by refused snapshots" || fail "a refused snapshot left x.snap"

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
